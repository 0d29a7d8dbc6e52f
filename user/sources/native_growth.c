// SPDX-License-Identifier: GPL-2.0
/*
 * Growth mode (--mode growth): memory growth attributed to stacks from rare
 * events (first writes to anonymous pages, charged per page; pages given back by
 * munmap, madvise, heap trim and mremap; see bpf/native_growth.bpf.c), for when a
 * probe on every malloc costs too much. Nothing is probed per allocation, so this
 * is attribution, not outstanding allocations: a stack's bytes are the pages it
 * first wrote since attach, less those given back since.
 *
 * Mapping calls are watched in libc's wrappers (a uprobe after each `syscall` in
 * mmap, munmap, mremap, madvise and brk, in whichever mapped file defines them:
 * only the target traps, on an instruction the kernel emulates where there is
 * one), or at the raw sys_exit tracepoint for programs that make them without
 * libc (Go, static binaries without symbols), never both.
 *
 * The unwind tables BPF walks stacks with are built here from each mapped file's
 * .eh_frame, and rebuilt when the target's mappings change (dlopen, or a launched
 * program's exec).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "bpfio/deltas.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "elf/cfi.h"
#include "elf/disasm.h"
#include "leakscope.skel.h"
#include "bpf/native_growth.h"
#include "target/maps.h"
#include "session.h"
#include "bpf/stacks.h"

/* Rows of every file's unwind table, in one array map (12 bytes a row). */
#define MAX_ROWS (1u << 20)
/* Chunks of pages followed (2 MiB each, 4 KiB of map): --max-allocs pages. */
#define MAX_CHUNKS(max_pages) MAX((max_pages) / GROWTH_CHUNK_PAGES, 64u)

/* A file's rows, loaded once into the rows map at [lo, hi). */
struct table {
	uint32_t lo, hi;
};

/* How mapping calls are watched. */
enum watch {
	WATCH_UNDECIDED, /* a program we start, before its libraries are mapped */
	WATCH_LIBC,	 /* uprobes in the wrappers */
	WATCH_SYSCALLS,	 /* the raw sys_exit tracepoint */
};

struct gsrc {
	struct leakscope_bpf *skel;
	struct links links;
	enum watch watch;
	size_t news_seen;  /* of the target's mapping news, how many looked at for wrappers */
	int ncalls;	   /* wrapper probes placed */
	const char *libc;  /* the file they are in */
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

/*
 * libc's mapping wrappers, probed after each `syscall` they contain: the
 * arguments read there (mask) are still in their registers and rax is the result;
 * the probe goes on the first instruction the kernel emulates before any of them
 * changes (glibc: the `ja`/`jae` after `cmp rax,-4096`), else right after the
 * `syscall`. mmap, munmap and madvise must all be there for a file to be used.
 */
static const struct call_fn {
	const char *name;
	int nr;
	uint64_t mask;
	bool required;
} call_fns[] = {
	{"mmap", GROWTH_NR_MMAP, DISASM_RAX | DISASM_RSI, true},
	{"munmap", GROWTH_NR_MUNMAP, DISASM_RAX | DISASM_RDI | DISASM_RSI, true},
	{"madvise", GROWTH_NR_MADVISE, DISASM_RAX | DISASM_RDI | DISASM_RSI | DISASM_RDX, true},
	{"mremap", GROWTH_NR_MREMAP, DISASM_RAX | DISASM_RDI | DISASM_RSI | DISASM_RDX, false},
	{"brk", GROWTH_NR_BRK, DISASM_RAX, false},
};

#define MAX_SYSCALLS_PER_FN 4

struct syscall_sites {
	uint64_t after[MAX_SYSCALLS_PER_FN]; /* link-time address of the instruction after */
	int n;
};

static int find_syscall(const struct insn *in, void *ctx)
{
	struct syscall_sites *ss = ctx;

	if (!strcmp(in->mnemonic, "syscall") && ss->n < MAX_SYSCALLS_PER_FN)
		ss->after[ss->n++] = in->addr + in->size;
	return 0;
}

/* Does mf define the wrappers growth mode needs? */
static bool has_wrappers(const struct modfile *mf)
{
	struct elf_symbol sym;

	for (size_t i = 0; i < ARRAY_SIZE(call_fns); i++)
		if (call_fns[i].required &&
		    (elf_find_symbol(mf->elf, call_fns[i].name, &sym) || sym.type != STT_FUNC ||
		     !sym.addr))
			return false;
	return true;
}

/* Probe every wrapper mf defines. Returns the probes placed, or -errno. */
static int probe_wrappers(struct session *s, struct gsrc *g, const char *path,
			  const char *name, const struct modfile *mf)
{
	int placed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(call_fns); i++) {
		const struct call_fn *fn = &call_fns[i];
		struct syscall_sites ss = {0};
		struct elf_symbol sym;
		const void *code;
		size_t len;

		if (elf_find_symbol(mf->elf, fn->name, &sym) || sym.type != STT_FUNC || !sym.addr)
			continue;
		len = sym.size ? MIN(sym.size, (uint64_t)512) : 64;
		code = elf_vaddr_ptr(mf->elf, sym.addr, len);
		if (code)
			disasm_each(code, len, sym.addr, find_syscall, &ss);
		if (!ss.n) {
			log_warn("growth: no syscall instruction in %s in %s: its calls are not seen",
				 fn->name, path);
			continue;
		}
		for (int k = 0; k < ss.n; k++) {
			uint64_t after = ss.after[k], at = after;
			size_t left = sym.addr + len - after;
			const void *p = elf_vaddr_ptr(mf->elf, after, left);
			struct bpf_link *l;
			struct insn in;

			if (p)
				at = disasm_first_emulated(p, left, after, fn->mask);
			l = uprobe_attach(s->pid, g->skel->progs.growth_call, path, mf->elf, at,
					  fn->nr, fn->name, &s->fatal);
			if (!l)
				return -EPERM;
			links_add(&g->links, l);
			placed++;
			p = elf_vaddr_ptr(mf->elf, at, 16);
			if (p && !disasm_one(p, 16, at, &in))
				log_debug("growth: %s in %s: probe after its syscall at +%llu (%s %s, "
					  "%s)",
					  fn->name, name, (unsigned long long)(at - sym.addr),
					  in.mnemonic, in.op_str,
					  in.emulated ? "emulated" : "single-stepped");
		}
	}
	return placed;
}

/* Files the target maps that define the wrappers, from the news not yet looked at. */
static int scan_wrappers(struct session *s, struct gsrc *g, bool dry)
{
	const struct maps_watch *w = &s->maps;
	int total = 0, r;

	for (size_t i = dry ? 0 : g->news_seen; i < w->nlog; i++) {
		const struct mapping_news *e = &w->log[i];

		if (!e->new_file || !e->mf || !has_wrappers(e->mf))
			continue;
		if (dry) {
			total++;
			continue;
		}
		const char *name = e->open_path;

		for (size_t k = 0; k < w->ncur; k++)
			if (w->cur[k].mf == e->mf)
				name = w->cur[k].name;
		r = probe_wrappers(s, g, e->open_path, name, e->mf);
		if (r < 0)
			return r;
		if (r && !g->libc)
			g->libc = name;
		total += r;
	}
	if (!dry)
		g->news_seen = w->nlog;
	return total;
}

/* Go's runtime maps its heap with its own system calls, even beside cgo's libc. */
static enum watch watch_wanted(struct session *s)
{
	if (s->target.is_go)
		return WATCH_SYSCALLS;
	if (scan_wrappers(s, NULL, true) > 0)
		return WATCH_LIBC;
	/* A program we start maps its libraries before its entry point (remap). */
	return s->launched ? WATCH_UNDECIDED : WATCH_SYSCALLS;
}

static void attach_sys_exit(struct session *s, struct gsrc *g)
{
	struct bpf_link *l = bpf_program__attach(g->skel->progs.growth_sys_exit);

	if (!l) {
		int err = -errno;

		fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
			  "cannot attach the growth probe growth_sys_exit: %s (growth mode needs "
			  "the raw syscall tracepoints for a program without libc)",
			  strerror(-err));
		return;
	}
	links_add(&g->links, l);
	g->watch = WATCH_SYSCALLS;
	log_debug("growth: mapping calls watched at the sys_exit tracepoint (no libc wrappers)");
}

/* Place what watches mapping calls, once it is known which applies. */
static void decide_watch(struct session *s, struct gsrc *g)
{
	int r;

	if (g->watch != WATCH_UNDECIDED)
		return;
	if (!s->target.is_go) {
		r = scan_wrappers(s, g, false);
		if (r > 0) {
			g->watch = WATCH_LIBC;
			g->ncalls += r;
			return;
		}
		if (r < 0)
			return;
	}
	attach_sys_exit(s, g);
}

/* The heap's end now ([heap] in /proc/PID/maps), or 0. */
static uint64_t heap_end(pid_t pid)
{
	char path[64], line[512];
	uint64_t lo, hi, end = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[heap]") && sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2)
			end = hi;
	fclose(f);
	return end;
}

static int gsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct gsrc *g = state;
	enum watch want = watch_wanted(s);

	g->skel = skel;
	bpfobj_use_map(skel->maps.growth_rows, MAX_ROWS);
	bpfobj_use_map(skel->maps.growth_modules, 0);
	bpfobj_use_map(skel->maps.growth_sites, s->cfg->max_stacks);
	bpfobj_use_map(skel->maps.growth_chunks, MAX_CHUNKS(s->cfg->max_allocs));
	bpfobj_use_map(skel->maps.growth_chunk_zero, 0);
	bpfobj_use_prog(skel->progs.growth_fault);
	/* Only what can apply is loaded: a program with libc never has the tracepoint. */
	if (want != WATCH_SYSCALLS)
		bpfobj_use_prog(skel->progs.growth_call);
	if (want != WATCH_LIBC)
		bpfobj_use_prog(skel->progs.growth_sys_exit);
	skel->rodata->growth_mark_held = !s->launched;
	return 0;
}

static int gsrc_attach(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct bpf_link *l;
	int err;

	update_modules(s, g);
	g->skel->bss->growth_brk_end = heap_end(s->pid);
	l = bpf_program__attach(g->skel->progs.growth_fault);
	if (!l) {
		err = -errno;
		fatal_set(&s->fatal, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
			  "cannot attach the growth probe growth_fault: %s (growth mode needs the "
			  "page_fault_user tracepoint)",
			  strerror(-err));
		return err;
	}
	links_add(&g->links, l);
	g->watch = WATCH_UNDECIDED;
	if (watch_wanted(s) != WATCH_UNDECIDED)
		decide_watch(s, g);
	if (s->fatal.status)
		return -EPERM;
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

/* Is pc in the target's executable? */
static bool in_executable(struct session *s, uint64_t pc)
{
	const struct mapping *m = maps_watch_find(&s->maps, pc);
	int err;

	return m && m->mf && m->mf == modfile_get(s->exe_path, &err);
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
	/* The program's own code (not a library's) is the program's frames: kept. */
	if (mod0 && in_executable(s, raw[0]))
		mod0 = NULL;
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
	if (g->watch == WATCH_UNDECIDED)
		decide_watch(s, g);
	view_drop(vi, c[GROWTH_CNT_SITES_FULL], "events not counted by stack", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, c[GROWTH_CNT_PAGES_FULL], "pages charged but not followed", "--max-allocs",
		  s->cfg->max_allocs);
	view_drop(vi, c[GROWTH_CNT_STACK_FULL], "stacks not kept", "--max-stacks",
		  s->cfg->max_stacks);
	view_drop(vi, g->stacks_missing, "stacks unreadable", NULL, 0);
	char how[300];
	if (g->watch == WATCH_LIBC)
		snprintf(how, sizeof(how), "%d probes in %s", g->ncalls, g->libc ? g->libc : "libc");
	else
		snprintf(how, sizeof(how), "%s",
			 g->watch == WATCH_SYSCALLS ? "the sys_exit tracepoint" : "nothing yet");
	view_note(vi,
		  "growth attribution, not outstanding allocations: memory the process grew by "
		  "since attach, charged to the stack that first wrote each new anonymous page "
		  "(4 KiB), less the pages given back since (munmap, madvise, heap trim); "
		  "mapping calls watched by %s, %llu seen; pages held at attach given back "
		  "%llu KiB, written again %llu KiB (not growth)",
		  how, (unsigned long long)c[GROWTH_CNT_CALLS],
		  (unsigned long long)c[GROWTH_CNT_HELD_GONE] * 4,
		  (unsigned long long)c[GROWTH_CNT_HELD_AGAIN] * 4);
	return 0;
}

static void gsrc_detach(void *state)
{
	gsrc_free(state);
}

static void gsrc_remap(struct session *s, void *state)
{
	struct gsrc *g = state;

	update_modules(s, g);
	if (g->watch == WATCH_UNDECIDED)
		decide_watch(s, g);
}

const struct source_ops growth_source =
	SOURCE_OPS(gsrc, "growth", VIEW_BIT(VIEW_NATIVE_GROWTH), .after_exit = true,
		   .remap = gsrc_remap);
