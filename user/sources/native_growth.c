// SPDX-License-Identifier: GPL-2.0
/*
 * Growth mode (--mode growth): memory growth attributed to stacks from rare
 * events (first writes to anonymous pages, brk and mmap growth; see
 * bpf/growth.bpf.c), for when a probe on every malloc costs too much. Nothing is
 * probed per allocation, so this is attribution, not outstanding allocations: a
 * stack's bytes are what it made the process grow by since attach, less the
 * mappings it made that were unmapped since.
 *
 * The unwind tables BPF walks stacks with are built here from each mapped file's
 * .eh_frame, and rebuilt when the target's mappings change (dlopen, or a launched
 * program's exec).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "bpfio/bpfmap.h"
#include "elf/cfi.h"
#include "growth.skel.h"
#include "target/proc.h"
#include "session.h"
#include "stacks.h"

/* Rows of every file's unwind table, in one array map (12 bytes a row). */
#define MAX_ROWS (1u << 20)

/* A file's rows, loaded once into the rows map at [lo, hi). */
struct table {
	uint64_t dev, ino;
	uint32_t lo, hi;
};

struct gstack {
	uint64_t hash;
	bool used;
	struct growth_site cum; /* as read last interval */
	struct site *site;
};

struct gsrc {
	struct growth_bpf *skel;
	struct bpf_link *links[8];
	int nlinks;
	struct table *tables;
	size_t ntables;
	uint32_t rows_used;
	char *maps_sig; /* the executable mappings the modules map describes */
	struct stack_store stacks;
	struct map_dump sites;
	struct gstack *tab;
	size_t ntab, cap_tab;
	struct {
		const char *func;
		uint64_t pc;
	} *canon;
	size_t ncanon;
};

static struct gstack *gstack_get(struct gsrc *g, uint64_t hash)
{
	size_t k;

	if (2 * (g->ntab + 1) > g->cap_tab) {
		struct gstack *old = g->tab;
		size_t oldcap = g->cap_tab;

		g->cap_tab = g->cap_tab ? 2 * g->cap_tab : 1024;
		g->tab = xcalloc(g->cap_tab, sizeof(*g->tab));
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].used)
				continue;
			for (k = old[i].hash * 0x9e3779b97f4a7c15ull >> 17;
			     g->tab[k & (g->cap_tab - 1)].used; k++)
				;
			g->tab[k & (g->cap_tab - 1)] = old[i];
		}
		free(old);
	}
	for (k = hash * 0x9e3779b97f4a7c15ull >> 17;; k++) {
		struct gstack *e = &g->tab[k & (g->cap_tab - 1)];

		if (e->used && e->hash == hash)
			return e;
		if (!e->used) {
			e->used = true;
			e->hash = hash;
			g->ntab++;
			return e;
		}
	}
}

/* The rows of mf in the rows map, loading them the first time. NULL if none. */
static const struct table *table_of(struct gsrc *g, struct modfile *mf, const char *path)
{
	int fd = bpf_map__fd(g->skel->maps.rows);
	struct cfi_row *rows;
	struct table *t;
	int n;

	for (size_t i = 0; i < g->ntables; i++)
		if (g->tables[i].dev == mf->dev && g->tables[i].ino == mf->ino)
			return g->tables[i].hi > g->tables[i].lo ? &g->tables[i] : NULL;
	g->tables = xrealloc(g->tables, (g->ntables + 1) * sizeof(*g->tables));
	t = &g->tables[g->ntables++];
	*t = (struct table){mf->dev, mf->ino, g->rows_used, g->rows_used};
	n = cfi_table_build(mf->elf, &rows);
	if (n <= 0)
		return NULL;
	if (g->rows_used + n > MAX_ROWS) {
		log_warn("growth: no room for the unwind table of %s: its frames are walked by "
			 "frame pointers only",
			 path);
		free(rows);
		return NULL;
	}
	/* One syscall for the whole table: libc alone has tens of thousands of rows. */
	uint32_t *keys = xmalloc(n * sizeof(*keys));
	__u32 count = n;

	for (int i = 0; i < n; i++)
		keys[i] = g->rows_used + i;
	if (bpf_map_update_batch(fd, keys, rows, &count, NULL)) {
		log_warn("growth: loading the unwind table of %s: %s", path, strerror(errno));
		count = 0;
	}
	t->hi = t->lo + count;
	g->rows_used = t->hi;
	free(keys);
	free(rows);
	log_debug("growth: %d unwind rows for %s", n, path);
	return t;
}

/*
 * Describe the target's executable mappings to BPF (address range, load bias,
 * rows), when they changed since the last look. -ESRCH when the target is gone.
 */
static int update_modules(struct session *s, struct gsrc *g)
{
	int fd = bpf_map__fd(g->skel->maps.modules);
	struct proc_maps maps;
	size_t siglen = 0;
	char *sig = NULL;
	uint32_t n = 0;

	if (proc_maps_read(s->pid, &maps))
		return -ESRCH;
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_map *m = &maps.v[i];
		char buf[96];
		int len;

		if (m->perms[2] != 'x')
			continue;
		len = snprintf(buf, sizeof(buf), "%llx-%llx:%llx;", (unsigned long long)m->start,
			       (unsigned long long)m->end, (unsigned long long)m->inode);
		sig = xrealloc(sig, siglen + len + 1);
		memcpy(sig + siglen, buf, len + 1);
		siglen += len;
	}
	if (g->maps_sig && sig && !strcmp(sig, g->maps_sig)) {
		free(sig);
		proc_maps_free(&maps);
		return 0;
	}
	free(g->maps_sig);
	g->maps_sig = sig;
	for (size_t i = 0; i < maps.n && n < GROWTH_MAX_MODULES; i++) {
		const struct proc_map *m = &maps.v[i];
		const struct table *t;
		struct cfi_module mod;
		struct modfile *mf;
		uint64_t bias;
		char *path;
		int e;

		if (m->perms[2] != 'x' || m->path[0] != '/')
			continue;
		path = proc_map_open_path(s->pid, m);
		mf = modfile_get(path, &e);
		t = mf ? table_of(g, mf, path) : NULL;
		free(path);
		if (!t || elf_load_bias(mf->elf, m->start, m->pgoff, &bias))
			continue;
		mod.bias = bias;
		mod.start = m->start;
		mod.end = m->end;
		mod.lo = t->lo;
		mod.hi = t->hi;
		if (!bpf_map_update_elem(fd, &n, &mod, BPF_ANY))
			n++;
	}
	/* Entries past n may be stale for a moment; BPF reads only the first n. */
	g->skel->bss->nmodules = n;
	proc_maps_free(&maps);
	return 0;
}

static void gsrc_free(struct gsrc *g)
{
	for (int i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	growth_bpf__destroy(g->skel);
	stack_store_free(&g->stacks);
	map_dump_free(&g->sites);
	free(g->tables);
	free(g->maps_sig);
	free(g->tab);
	free(g->canon);
	free(g);
}

static int gsrc_attach(struct session *s, void **state)
{
	const struct config *cfg = s->cfg;
	struct bpf_program *prog;
	struct gsrc *g;
	int err;

	if (cfg->native_mode != NATIVE_GROWTH)
		return -ENOTSUP;
	g = xcalloc(1, sizeof(*g));
	g->skel = growth_bpf__open();
	if (!g->skel) {
		fatal_set(&s->fatal, EXIT_ERROR, "cannot open the growth BPF object: %s",
			  strerror(errno));
		free(g);
		return -ENOENT;
	}
	g->skel->rodata->target_tgid = s->pid;
	g->skel->rodata->pidns_dev = s->pidns_dev;
	g->skel->rodata->pidns_ino = s->pidns_ino;
	bpf_map__set_max_entries(g->skel->maps.rows, MAX_ROWS);
	bpf_map__set_max_entries(g->skel->maps.stacks, cfg->max_stacks);
	bpf_map__set_max_entries(g->skel->maps.sites, cfg->max_stacks);
	err = growth_bpf__load(g->skel);
	if (err) {
		bpf_load_error(&s->fatal, "growth", err);
		goto fail;
	}
	stack_store_init(&g->stacks, bpf_map__fd(g->skel->maps.stacks));
	err = update_modules(s, g);
	if (err) {
		fatal_set(&s->fatal, EXIT_NO_TARGET,
			  "process %d exited before leakscope could look at it", s->pid);
		goto fail;
	}
	bpf_object__for_each_program(prog, g->skel->obj) {
		struct bpf_link *l = bpf_program__attach(prog);

		if (!l) {
			err = -errno;
			fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
				  "cannot attach the growth probe %s: %s (growth mode needs the "
				  "page_fault_user and raw syscall tracepoints)",
				  bpf_program__name(prog), strerror(-err));
			goto fail;
		}
		g->links[g->nlinks++] = l;
	}
	s->views[VIEW_NATIVE_GROWTH].active = true;
	*state = g;
	return 0;
fail:
	gsrc_free(g);
	return err;
}

/*
 * The first pc seen in the function that contains pc: stacks that differ only in
 * where inside malloc they left it are one stack.
 */
static uint64_t canonical_pc(struct session *s, struct gsrc *g, uint64_t pc)
{
	const struct frames *fr = symbolize_pc(&s->sym, pc, true);
	const char *func = fr->n ? fr->v[fr->n - 1].func : NULL;

	if (!func)
		return pc;
	for (size_t i = 0; i < g->ncanon; i++)
		if (g->canon[i].func == func)
			return g->canon[i].pc;
	g->canon = xrealloc(g->canon, (g->ncanon + 1) * sizeof(*g->canon));
	g->canon[g->ncanon].func = func;
	g->canon[g->ncanon++].pc = pc;
	return pc;
}

static const char *module_name(struct session *s, uint64_t pc)
{
	const struct module *m = symbolizer_module(&s->sym, pc);

	return m ? m->name : NULL;
}

static struct site *site_of(struct session *s, struct gsrc *g, struct gstack *e)
{
	uint64_t pcs[LS_MAX_STACK_DEPTH];
	const uint64_t *raw;
	const char *mod0;
	int npcs, k = 1;

	if (e->site)
		return e->site;
	raw = stack_store_get(&g->stacks, e->hash, &npcs);
	if (!npcs || npcs > LS_MAX_STACK_DEPTH)
		return e->site = series_site(&s->series, VIEW_NATIVE_GROWTH, NULL, 0, 0,
					     SITE_NO_STACK);
	/*
	 * raw[0] is the faulting instruction or where the syscall returns to, mostly
	 * deep in the allocator: of the frames in its module, keep the outermost (the
	 * allocator's entry point, as called by the program).
	 */
	mod0 = module_name(s, raw[0]);
	while (mod0 && k < npcs && module_name(s, raw[k]) == mod0)
		k++;
	if (k == 1 || k == npcs) {
		e->site = series_site(&s->series, VIEW_NATIVE_GROWTH, raw, npcs, 0,
				      SITE_FRAME0_IS_PC);
		return e->site;
	}
	memcpy(pcs, raw + k - 1, (npcs - k + 1) * sizeof(*pcs));
	pcs[0] = canonical_pc(s, g, pcs[0]);
	e->site = series_site(&s->series, VIEW_NATIVE_GROWTH, pcs, npcs - k + 1, 0, 0);
	return e->site;
}

static int gsrc_collect(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct view_info *vi = &s->views[VIEW_NATIVE_GROWTH];
	__u64 *c = g->skel->bss->counters;
	int err;

	if (update_modules(s, g))
		return -ESRCH;
	err = map_dump_read(bpf_map__fd(g->skel->maps.sites), sizeof(uint64_t),
			    sizeof(struct growth_site), &g->sites);
	if (err)
		log_warn("growth: reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < g->sites.n; i++) {
		uint64_t hash = *(uint64_t *)map_dump_key(&g->sites, i);
		const struct growth_site *now = map_dump_value(&g->sites, i);
		struct gstack *e = gstack_get(g, hash);
		struct sample *sm = site_now(&s->series, site_of(s, g, e));

		sm->created += now->events - e->cum.events;
		sm->created_bytes += now->bytes - e->cum.bytes;
		sm->freed += now->releases - e->cum.releases;
		sm->freed_bytes += now->released - e->cum.released;
		e->cum = *now;
	}
	/* Every stack's standing since attach, in every interval. */
	for (size_t i = 0; i < g->cap_tab; i++) {
		struct gstack *e = &g->tab[i];
		struct sample *sm;

		if (!e->used)
			continue;
		sm = site_now(&s->series, site_of(s, g, e));
		sm->live += e->cum.events - e->cum.releases;
		sm->live_bytes += e->cum.bytes - e->cum.released;
	}
	vi->drops = c[GROWTH_CNT_SITES_FULL] + g->skel->bss->stack_errors[LS_STACK_ERR_FULL] +
		    g->stacks.missing;
	snprintf(vi->note, sizeof(vi->note),
		 "growth attribution, not outstanding allocations: memory the process grew by "
		 "since attach, charged to the stack that first wrote each new anonymous page "
		 "(4 KiB) or made each new mapping (less what it unmapped); heap trimmed since, "
		 "not attributed: %llu KiB",
		 (unsigned long long)c[GROWTH_CNT_BRK_SHRUNK] / 1024);
	return 0;
}

static void gsrc_detach(void *state)
{
	gsrc_free(state);
}

const struct source_ops growth_source = {
	.name = "growth",
	.attach = gsrc_attach,
	.collect = gsrc_collect,
	.detach = gsrc_detach,
};
