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

#include "bpfio/deltas.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "elf/cfi.h"
#include "leakscope.skel.h"
#include "bpf/native_growth.h"
#include "target/maps.h"
#include "session.h"
#include "bpf/stacks.h"

/* Rows of every file's unwind table, in one array map (12 bytes a row). */
#define MAX_ROWS (1u << 20)

/* A file's rows, loaded once into the rows map at [lo, hi). */
struct table {
	uint32_t lo, hi;
};

struct gsrc {
	struct leakscope_bpf *skel;
	struct links links;
	struct hmap tables; /* struct modfile * -> struct table */
	uint32_t rows_used;
	unsigned maps_gen; /* of the target's mappings the modules map describes */
	uint64_t stacks_missing;
	struct map_dump sites;
	struct hmap sites_of;	  /* stack hash -> struct site * */
	struct cum_deltas counts; /* stack hash -> struct growth_site, cumulative */
	struct hmap canon;	  /* function entry (runtime) -> the first pc seen in it */
};

/* The rows of mf in the rows map, loading them the first time. NULL if none. */
static const struct table *table_of(struct gsrc *g, struct modfile *mf, const char *path)
{
	int fd = bpf_map__fd(g->skel->maps.growth_rows);
	struct cfi_row *rows;
	struct table *t;
	bool created;
	int n;

	t = hmap_put(&g->tables, &mf, &created);
	if (!created)
		return t->hi > t->lo ? t : NULL;
	*t = (struct table){g->rows_used, g->rows_used};
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
 * rows), when they changed since the last look.
 */
static void update_modules(struct session *s, struct gsrc *g)
{
	int fd = bpf_map__fd(g->skel->maps.growth_modules);
	const struct maps_watch *w = &s->maps;
	uint32_t n = 0;

	if (g->maps_gen == w->gen)
		return;
	g->maps_gen = w->gen;
	for (size_t i = 0; i < w->ncur && n < GROWTH_MAX_MODULES; i++) {
		const struct mapping *m = &w->cur[i];
		const struct table *t;
		struct cfi_module mod;

		if (!m->mf || !m->bias_ok)
			continue;
		t = table_of(g, m->mf, m->name);
		if (!t)
			continue;
		mod.bias = m->bias;
		mod.start = m->start;
		mod.end = m->end;
		mod.lo = t->lo;
		mod.hi = t->hi;
		if (!bpf_map_update_elem(fd, &n, &mod, BPF_ANY))
			n++;
	}
	/* Entries past n may be stale for a moment; BPF reads only the first n. */
	g->skel->bss->growth_nmodules = n;
}

static void gsrc_free(struct gsrc *g)
{
	links_destroy(&g->links);
	map_dump_free(&g->sites);
	hmap_free(&g->tables);
	hmap_free(&g->sites_of);
	cum_deltas_free(&g->counts);
	hmap_free(&g->canon);
	free(g);
}

static int gsrc_probe(struct session *s, void **state)
{
	struct gsrc *g;

	if (s->cfg->native_mode != NATIVE_GROWTH)
		return -ENOTSUP;
	g = xcalloc(1, sizeof(*g));
	hmap_init(&g->sites_of, sizeof(uint64_t), sizeof(struct site *));
	hmap_init(&g->tables, sizeof(struct modfile *), sizeof(struct table));
	hmap_init(&g->canon, sizeof(uint64_t), sizeof(uint64_t));
	cum_deltas_init(&g->counts, sizeof(uint64_t), 4);
	*state = g;
	return 0;
}

static int gsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct gsrc *g = state;
	struct bpf_program *prog;

	g->skel = skel;
	bpfobj_use_map(skel->maps.growth_rows, MAX_ROWS);
	bpfobj_use_map(skel->maps.growth_modules, 0);
	bpfobj_use_map(skel->maps.growth_sites, s->cfg->max_stacks);
	bpfobj_use_map(skel->maps.growth_regions, MIN(s->cfg->max_allocs, 1u << 20));
	bpfobj_use_map(skel->maps.growth_brk_before, 0);
	bpf_object__for_each_program(prog, skel->obj)
		if (!strncmp(bpf_program__name(prog), "growth_", 7))
			bpfobj_use_prog(prog);
	return 0;
}

static int gsrc_attach(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct bpf_program *prog;
	int err;

	update_modules(s, g);
	bpf_object__for_each_program(prog, g->skel->obj) {
		struct bpf_link *l;

		if (strncmp(bpf_program__name(prog), "growth_", 7))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			err = -errno;
			fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
				  "cannot attach the growth probe %s: %s (growth mode needs the "
				  "page_fault_user and raw syscall tracepoints)",
				  bpf_program__name(prog), strerror(-err));
			return err;
		}
		links_add(&g->links, l);
	}
	s->views[VIEW_NATIVE_GROWTH].active = true;
	return 0;
}

/*
 * The first pc seen in the function that contains return address pc: stacks that
 * differ only in where inside malloc they left it are one stack.
 */
static uint64_t canonical_pc(struct session *s, struct gsrc *g, uint64_t pc)
{
	const struct mapping *m = maps_watch_find(&s->maps, pc);
	uint64_t entry, *first;
	bool created;

	if (!m || !m->mf || !m->bias_ok || modfile_func_entry(m->mf, pc - 1 - m->bias, &entry))
		return pc;
	first = hmap_put(&g->canon, &entry, &created);
	if (created)
		*first = pc;
	return *first;
}

/* The file a pc is in (interned name), as the target maps it now. */
static const char *module_name(struct session *s, uint64_t pc)
{
	const struct mapping *m = maps_watch_find(&s->maps, pc);

	return m ? m->name : NULL;
}

static struct site *site_of(struct session *s, struct gsrc *g, uint64_t hash)
{
	uint64_t pcs[LS_MAX_STACK_DEPTH];
	struct site **e = hmap_put(&g->sites_of, &hash, NULL);
	const uint64_t *raw;
	const char *mod0;
	int npcs, k = 1;

	if (*e)
		return *e;
	raw = stack_store_get(&s->stacks, hash, &npcs, &g->stacks_missing);
	if (!npcs || npcs > LS_MAX_STACK_DEPTH)
		return *e = series_site(&s->series, VIEW_NATIVE_GROWTH, NULL, 0, 0, SITE_NO_STACK);
	/*
	 * raw[0] is the faulting instruction or where the syscall returns to, mostly
	 * deep in the allocator: of the frames in its module, keep the outermost (the
	 * allocator's entry point, as called by the program).
	 */
	mod0 = module_name(s, raw[0]);
	while (mod0 && k < npcs && module_name(s, raw[k]) == mod0)
		k++;
	if (k == 1 || k == npcs)
		return *e = series_site(&s->series, VIEW_NATIVE_GROWTH, raw, npcs, 0,
					SITE_FRAME0_IS_PC);
	memcpy(pcs, raw + k - 1, (npcs - k + 1) * sizeof(*pcs));
	pcs[0] = canonical_pc(s, g, pcs[0]);
	return *e = series_site(&s->series, VIEW_NATIVE_GROWTH, pcs, npcs - k + 1, 0, 0);
}

static int gsrc_collect(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct view_info *vi = &s->views[VIEW_NATIVE_GROWTH];
	__u64 *c = g->skel->bss->growth_counters;
	int err;

	update_modules(s, g);
	err = map_dump_read(bpf_map__fd(g->skel->maps.growth_sites), sizeof(uint64_t),
			    sizeof(struct growth_site), &g->sites);
	if (err)
		log_warn("growth: reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < g->sites.n; i++) {
		uint64_t hash = *(uint64_t *)map_dump_key(&g->sites, i);
		const struct growth_site *now = map_dump_value(&g->sites, i);
		struct sample *sm = site_now(&s->series, site_of(s, g, hash));
		struct growth_site d;

		cum_delta(&g->counts, &hash, (const uint64_t *)now, (uint64_t *)&d);
		sm->created += d.events;
		sm->created_bytes += d.bytes;
		sm->freed += d.releases;
		sm->freed_bytes += d.released;
	}
	/* Every stack's standing since attach, in every interval. */
	const struct growth_site *cum;
	uint64_t *hash;
	for (size_t it = 0; hmap_next(&g->counts.last, &it, (void **)&hash, (void **)&cum);) {
		struct sample *sm = site_now(&s->series, site_of(s, g, *hash));

		sm->live += cum->events - cum->releases;
		sm->live_bytes += cum->bytes - cum->released;
	}
	view_drop(vi, c[GROWTH_CNT_SITES_FULL], "events not counted by stack", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, c[GROWTH_CNT_REGIONS_FULL], "mappings not followed", "--max-allocs",
		  s->cfg->max_allocs);
	view_drop(vi, c[GROWTH_CNT_STACK_FULL], "stacks not kept", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, g->stacks_missing, "stacks unreadable", NULL, 0);
	view_note(vi,
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

static void gsrc_remap(struct session *s, void *state)
{
	update_modules(s, state);
}

const struct source_ops growth_source =
	SOURCE_OPS(gsrc, "growth", VIEW_BIT(VIEW_NATIVE_GROWTH), .after_exit = true,
		   .remap = gsrc_remap);
