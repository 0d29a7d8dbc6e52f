// SPDX-License-Identifier: GPL-2.0
/*
 * Goroutines by `go` statement, and where they stand now.
 *
 * Creations are probed (one emulated uprobe per `go` statement executed, see
 * bpf/goroutines.bpf.c), which gives each goroutine's full creation stack.
 * Liveness, wait state and blocking stacks come from the runtime's own
 * goroutine list read each interval (process_vm_readv, nothing stopped), so
 * exits cost nothing in the target: exited = live before + created - live now.
 *
 * A row is a go statement (the pc of its call, g.gopc) and the function its
 * goroutines start at: goroutines from before attach and after are one row,
 * shown with the creation stack that made most of them. Under each row, the
 * goroutine dump: its goroutines grouped by what they wait in and the stack they
 * stand at, walked by frame pointers from each goroutine's saved context, at
 * most --unwind-max per row and report (groups scaled and marked when more).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/goroutines.h"
#include "bpf/stacks.h"
#include "bpfio/deltas.h"
#include "bpfio/growmap.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "elf/disasm.h"
#include "golang/runtime.h"
#include "leakscope.skel.h"
#include "lib/intern.h"
#include "session.h"
#include "target/maps.h"

#define MAX_RET_PROBES 8
#define GSTACK_MAX 64 /* frames of a goroutine's current stack */

/* A row: the go statement and the function its goroutines start at. */
struct row_key {
	uint64_t gopc, startpc;
};

struct gsrow {
	struct site *site;
	uint64_t best_stack;   /* the creation stack with the most creations, shown */
	uint64_t best_created;
	/* This interval. */
	struct go_g **gs; /* its live goroutines */
	size_t ngs, cap_gs;
	int64_t pre;	      /* of them, created before attach */
	const char *name;     /* the function they run, from their own stacks */
	int64_t unprobed; /* of them, made since the last read with no probe to see it */
	bool asked;	  /* seen without a creation stack: the probe was turned on for it */
};

/* A goroutine's current stack, kept while it has not moved. */
struct gcache {
	uint64_t goid, sp, pc, bp;
	const uint64_t *pcs; /* interned */
	int n;
	int used;      /* interval it was last looked at */
	uint64_t hash; /* of its interned stack */
};

/* A stack some goroutine stood at: {n, pcs...}, and when that was last seen. */
struct istack {
	uint64_t *v;
	int used;
};

/* Stacks no goroutine has stood at for this many intervals are let go. */
#define STACK_TTL 16

struct gsrc {
	struct leakscope_bpf *skel; /* NULL in --dump: no probe at all */
	uint64_t addrs[MAX_RET_PROBES]; /* where the creation probe goes */
	int naddrs, reg;
	struct links links;
	struct modfile *mf;
	const struct gobin *gb;
	struct go_runtime rt;
	bool rt_ready;
	const char *rt_why;
	uint64_t bias;
	uint64_t goid_at_attach; /* goroutines with goid <= this existed before attach */
	uint64_t seen_goid;	 /* the highest goid the last read of the list saw */
	bool baseline_done;
	uint64_t stacks_missing;
	struct growmap records; /* BPF go_goroutines: the last goroutine made in each g */
	struct map_dump gmap, sites;
	struct cum_deltas created;   /* per go_site_key */
	struct hmap is_runtime;	     /* startpc -> bool: a runtime goroutine (cached) */
	struct hmap rows;	     /* struct row_key -> struct gsrow */
	struct hmap row_of_site;     /* struct site * -> struct row_key */
	struct hmap stacks;	     /* content hash -> struct istack */
	struct hmap cache;	     /* g address -> struct gcache */
	struct gslot *slots;	     /* per allgs index: what the last reads learnt of its g */
	size_t nslots;
	uint32_t rows_gen;	     /* rows inserted so far: a cached row pointer's validity */
	uint64_t unwound, torn, retried; /* stack walks since attach, given up, redone */
	/*
	 * The creation probe under --creation-probe learn: on in windows of WINDOW_NS,
	 * paused after a window that met no new creation stack while goroutines were made
	 * faster than PAUSE_RATE, on again every RESAMPLE_NS and for every go statement
	 * seen with no creation stack.
	 */
	uint64_t win_start;	/* this window's start, probe on */
	uint64_t paused_at;	/* since when paused; 0 when on */
	uint64_t paused_ns;	/* paused in the interval being collected */
	uint64_t pauses, resumes; /* since attach, for -v */
	uint64_t last_collect;	/* when the last interval ended */
	struct cum_deltas win;	/* per go_site_key, read at window ends */
};

/*
 * What a read of allgs learnt of the goroutine at one index, kept for the next
 * read: a million goroutines that stay cost a million hash lookups a report
 * otherwise (the creation records, then the rows). A g keeps its index, and a new
 * goroutine in it has a new goid.
 */
struct gslot {
	uint64_t goid;	   /* whose: the g at an index stays, a goid is never reused */
	struct gsrow *row; /* valid while rows_gen is what it was */
	uint32_t rows_gen;
	uint8_t made; /* SLOT_* */
};

enum {
	SLOT_UNKNOWN,
	SLOT_MADE,	   /* a creation record of this goroutine was seen */
	SLOT_UNSEEN_ONCE,  /* none, once: maybe read between allgs and the probe */
	SLOT_UNSEEN,	   /* none, twice: made while the probe was off, or before attach */
};

#define WINDOW_NS 1000000000ull
#define RESAMPLE_NS 30000000000ull
/* Below this many creations per second the probe costs the target < 0.1 % of a CPU: kept on. */
#define PAUSE_RATE 500.0

/*
 * Where to catch a new goroutine. Preferred: the `call runtime.runqput` in
 * runtime.newproc.func1 (g0 stack; a relative call, which the kernel emulates;
 * RBX = the new g), or the padding nop right before it when the build has one
 * (a 5-byte nop in most builds seen: the same registers, and a cheaper probe,
 * ~0.7 us less per goroutine measured here). Otherwise every RET of
 * runtime.newproc1 (also g0; RAX = g).
 */
static int find_probe_sites(struct gsrc *g, uint64_t *addrs, int *n, int *reg, struct fatal *f)
{
	struct gofunc func1, runqput, newproc1;
	const void *code;
	size_t len;

	if (!gobin_func(g->gb, "runtime.newproc.func1", &func1) &&
	    !gobin_func(g->gb, "runtime.runqput", &runqput) &&
	    (code = gobin_code(g->gb, &func1, &len))) {
		uint64_t call = disasm_find_call(code, len, func1.entry, runqput.entry);

		if (call) {
			uint64_t nop = disasm_nop_before(code, len, func1.entry, call);

			addrs[0] = nop ? nop : call;
			*n = 1;
			*reg = GO_NEWG_RBX;
			return 0;
		}
	}
	if (!gobin_func(g->gb, "runtime.newproc1", &newproc1) &&
	    (code = gobin_code(g->gb, &newproc1, &len))) {
		int k = disasm_find_rets(code, len, newproc1.entry, addrs, MAX_RET_PROBES);

		if (k > 0) {
			*n = k;
			*reg = GO_NEWG_RAX;
			return 0;
		}
	}
	fatal_set(f, EXIT_UNSUPPORTED,
		  "cannot find where this Go runtime creates goroutines (runtime.newproc1); "
		  "please report the Go version (%s)",
		  g->gb->version);
	return -ENOENT;
}

static int try_runtime(struct session *s, struct gsrc *g)
{
	int err;

	if (g->rt_ready)
		return 0;
	if (maps_watch_bias(&s->maps, g->mf, &g->bias))
		return -EAGAIN; /* launched target not exec'd yet */
	err = go_runtime_init(&g->rt, s->pid, g->gb, g->bias, &g->rt_why);
	if (err)
		return err == -EAGAIN ? -EAGAIN : -ENOENT;
	g->rt_ready = true;
	return 0;
}

/* ---- names -------------------------------------------------------------------------- */

/* The physical function at link-time pc, or NULL. */
static const char *func_at(const struct gsrc *g, uint64_t pc, uint64_t *entry)
{
	struct gofunc f;

	if (!g->gb->pcln || gopclntab_func_at(g->gb->pcln, pc, &f))
		return NULL;
	if (entry)
		*entry = f.entry;
	return f.name;
}

static bool is_wrapper(const struct gsrc *g, uint64_t entry, const char *name)
{
	return gobin_is_wrapper(g->gb, entry) || strstr(name, ".gowrap");
}

static const char *name_from_wrapper(const struct gsrc *g, uint64_t startpc);

/*
 * The function a goroutine runs, from its own stack, the way Go's traceback names
 * its outermost frame: below runtime.goexit is the function it started at; when
 * that is the compiler's `go` wrapper, the function the wrapper runs, which is
 * either inlined into it (the wrapper's inlined frame at that pc) or called by it
 * (the next frame up, whatever the call: direct, closure, interface, func value).
 */
static const char *name_from_stack(const struct gsrc *g, const uint64_t *pcs, int n)
{
	struct goframe fr[16];
	uint64_t entry;
	const char *name;
	int k = n - 1, m;

	/* The bottom frame returns into runtime.goexit (its start, as the runtime set it). */
	if (k >= 1 && (name = func_at(g, pcs[k] - 1 - g->bias, NULL)) && !strcmp(name, "runtime.goexit"))
		k--;
	if (k < 0)
		return NULL;
	/* pcs[0] is where the goroutine stands (an instruction); the rest return addresses. */
	uint64_t pc = pcs[k] - (k ? 1 : 0) - g->bias;

	name = func_at(g, pc, &entry);
	if (!name || !is_wrapper(g, entry, name))
		return name;
	m = gopclntab_frames(g->gb->pcln, pc, fr, ARRAY_SIZE(fr));
	if (m >= 2)
		return fr[m - 2].func; /* inlined into the wrapper: the frame just inside it */
	if (k >= 1) {
		pc = pcs[k - 1] - (k - 1 ? 1 : 0) - g->bias;
		m = gopclntab_frames(g->gb->pcln, pc, fr, ARRAY_SIZE(fr));
		if (m >= 1)
			return fr[m - 1].func; /* the function the wrapper called */
	}
	/*
	 * Standing in the wrapper itself: a goroutine not run yet (at the wrapper's first
	 * instruction), which a busy server has many of. What the wrapper will call, not
	 * the wrapper's name: that would name the row, and outvote the others.
	 */
	if (!k) {
		const char *target = name_from_wrapper(g, pcs[0]);

		if (target)
			return target;
	}
	return name;
}

struct inl_query {
	const struct gsrc *g;
	const char *found;
};

/* The first instruction of a wrapper that executes inlined code: whose inlined body. */
static int first_inlined(const struct insn *in, void *ctx)
{
	struct inl_query *q = ctx;
	struct goframe fr[16];
	int m = gopclntab_frames(q->g->gb->pcln, in->addr, fr, ARRAY_SIZE(fr));

	if (m < 2)
		return 0;
	q->found = fr[m - 2].func;
	return 1;
}

/*
 * The same without a stack (every goroutine of the row was running): the target
 * inlined into the wrapper (its inline tree), else its first direct call, else the
 * wrapper's own name.
 */
static const char *name_from_wrapper(const struct gsrc *g, uint64_t startpc)
{
	struct inl_query q = {.g = g};
	struct gofunc f;
	const void *code;
	size_t len;

	if (!g->gb->pcln || gopclntab_func_at(g->gb->pcln, startpc - g->bias, &f) ||
	    !is_wrapper(g, f.entry, f.name))
		return NULL;
	code = gobin_code(g->gb, &f, &len);
	if (code)
		disasm_each(code, len, f.entry, first_inlined, &q);
	if (q.found)
		return q.found;
	return gobin_gowrap_target(g->gb, f.entry);
}

/* The view's hook: what the goroutines of a row run. */
static const char *row_start_func(void *ctx, const struct site *site)
{
	struct gsrc *g = ctx;
	struct row_key *k = hmap_get(&g->row_of_site, &site);
	struct gsrow *r = k ? hmap_get(&g->rows, k) : NULL;

	if (r && r->name)
		return r->name;
	if (!g->rt_ready)
		return NULL;
	return name_from_wrapper(g, site->start_pc);
}

/* Runtime plumbing at the top of a goroutine creation stack, not worth a line. */
static const char *const creation_plumbing[] = {
	"runtime.newproc.func1", "runtime.systemstack", "runtime.newproc",
	"runtime.newproc1",	 "runtime.systemstack_switch",
};

static bool is_plumbing(const char *func)
{
	if (!func)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(creation_plumbing); i++)
		if (!strcmp(func, creation_plumbing[i]))
			return true;
	return false;
}

/* Creation stacks start at the function holding the `go` statement. */
static void trim_creation(void *ctx, const struct site *site, struct frames *fr)
{
	int skip_until = -1;

	for (int i = 0; i < fr->n && i < 8; i++)
		if (is_plumbing(fr->v[i].func))
			skip_until = i;
	if (skip_until >= 0) {
		memmove(fr->v, fr->v + skip_until + 1, (fr->n - skip_until - 1) * sizeof(*fr->v));
		fr->n -= skip_until + 1;
	}
}

/* A blocked goroutine's stack starts in the scheduler: from the call that parked it on. */
static void trim_parked(void *ctx, const struct block_group *grp, struct frames *fr)
{
	int k = 0;

	while (k + 1 < fr->n && fr->v[k].func &&
	       (!strcmp(fr->v[k].func, "runtime.gopark") ||
		!strcmp(fr->v[k].func, "runtime.goparkunlock") ||
		!strcmp(fr->v[k].func, "runtime.mcall")))
		k++;
	if (k) {
		memmove(fr->v, fr->v + k, (fr->n - k) * sizeof(*fr->v));
		fr->n -= k;
	}
}

/* ---- the creation probe, on and paused --------------------------------------------- */

static const char *const probe_mode_names[] = {"learn", "on", "off"};

/* Whether the creation probe is in place: its links are. */
static bool probe_is_on(const struct gsrc *g)
{
	return g->links.n;
}

/* Place the creation probe at every site, or none (the error in *f). */
static int probe_place(struct session *s, struct gsrc *g, struct fatal *f)
{
	for (int i = 0; i < g->naddrs; i++)
		if (!links_add(&g->links, uprobe_attach(s->pid, g->skel->progs.go_newproc,
							s->exe_path, g->mf->elf, g->addrs[i], 0,
							"goroutine creation", f))) {
			links_destroy(&g->links);
			return -ENOENT;
		}
	return 0;
}

/* Turn the probe on again (learn), for a window; false when the kernel refused. */
static bool probe_resume(struct session *s, struct gsrc *g, const char *why)
{
	uint64_t now = now_ns();
	struct fatal f = {0};

	if (probe_is_on(g))
		return true;
	if (probe_place(s, g, &f)) {
		log_warn("goroutine creation probe stays paused: %s", f.msg);
		return false;
	}
	g->paused_ns += now - g->paused_at;
	g->paused_at = 0;
	g->win_start = now;
	g->resumes++;
	log_debug("goroutine creation probe on again: %s", why);
	return true;
}

/*
 * A window ends (learn): pause when no creation in it came from a stack not seen
 * before and they came faster than PAUSE_RATE.
 */
static void window_end(struct gsrc *g, uint64_t now)
{
	double secs = (now - g->win_start) / 1e9, total = 0, fresh = 0;
	int err = map_dump_read(bpf_map__fd(g->skel->maps.go_sites), sizeof(struct go_site_key),
				sizeof(uint64_t), &g->sites);

	if (err) {
		log_warn("reading the sites map: %s", strerror(-err));
		g->win_start = now;
		return;
	}
	for (size_t i = 0; i < g->sites.n; i++) {
		const struct go_site_key *k = map_dump_key(&g->sites, i);
		uint64_t cum = *(uint64_t *)map_dump_value(&g->sites, i);
		bool seen = cum_deltas_last(&g->win, k);
		uint64_t d = cum_delta1(&g->win, k, cum);

		if (!seen)
			fresh += d;
		total += d;
	}
	g->win_start = now;
	/*
	 * Stacks met for the first time, beyond one creation in a hundred (a go statement
	 * reached by ever new stacks, a recursion, would keep it on for good): stay on.
	 * What the windows met stays in the sites and stacks maps for the next report.
	 */
	if (fresh * 100 > total || secs <= 0 || total / secs < PAUSE_RATE)
		return;
	links_destroy(&g->links);
	g->paused_at = now_ns();
	g->pauses++;
	log_debug("goroutine creation probe paused: %.0f goroutines/s, every creation stack "
		  "already known; on again for %.0f s every %.0f s",
		  total / secs, WINDOW_NS / 1e9, RESAMPLE_NS / 1e9);
}

/* ---- the source --------------------------------------------------------------------- */

static int gsrc_probe(struct session *s, void **state)
{
	struct gsrc *g;
	int err;

	g = xcalloc(1, sizeof(*g));
	cum_deltas_init(&g->created, sizeof(struct go_site_key), 1);
	cum_deltas_init(&g->win, sizeof(struct go_site_key), 1);
	hmap_init(&g->is_runtime, sizeof(uint64_t), sizeof(bool));
	hmap_init(&g->rows, sizeof(struct row_key), sizeof(struct gsrow));
	hmap_init(&g->row_of_site, sizeof(struct site *), sizeof(struct row_key));
	hmap_init(&g->stacks, sizeof(uint64_t), sizeof(struct istack));
	hmap_init(&g->cache, sizeof(uint64_t), sizeof(struct gcache));
	*state = g;
	g->mf = modfile_get(s->exe_path, &err);
	if (!g->mf || !g->mf->gb)
		return -ENOTSUP;
	g->gb = g->mf->gb;
	if (!s->cfg->dump) {
		err = find_probe_sites(g, g->addrs, &g->naddrs, &g->reg, &s->fatal);
		if (err)
			return err;
	}
	/* A running program: its goroutine list is checked now, before anything is loaded. */
	if (!s->launched && try_runtime(s, g) == -ENOENT) {
		log_warn("goroutines view left out: %s", g->rt_why);
		return -ENOTSUP;
	}
	return 0;
}

static int gsrc_configure(struct session *s, void *state, struct leakscope_bpf *skel)
{
	struct gsrc *g = state;

	if (!skel)
		return 0; /* --dump: memory reads only */
	g->skel = skel;
	skel->rodata->g_goid_off = g->gb->off.g_goid;
	skel->rodata->g_startpc_off = g->gb->off.g_startpc;
	skel->rodata->g_gopc_off = g->gb->off.g_gopc;
	/* The three in one read when they lie close together, 8-aligned from the first. */
	uint32_t lo = MIN(g->gb->off.g_goid, MIN(g->gb->off.g_startpc, g->gb->off.g_gopc));
	uint32_t hi = MAX(g->gb->off.g_goid, MAX(g->gb->off.g_startpc, g->gb->off.g_gopc)) + 8;
	if (hi - lo <= 504 && !((g->gb->off.g_goid - lo) & 7) && !((g->gb->off.g_startpc - lo) & 7) &&
	    !((g->gb->off.g_gopc - lo) & 7)) {
		skel->rodata->g_span_lo = lo;
		skel->rodata->g_span = hi - lo;
	}
	skel->rodata->newg_reg = g->reg;
	bpfobj_use_map(skel->maps.go_goroutines, 0);
	bpfobj_use_map(skel->maps.go_sites, s->cfg->max_stacks);
	bpfobj_use_prog(skel->progs.go_newproc);
	return 0;
}

/* The goroutines map starts with room for this many g structs, and grows. */
#define FIRST_GOROUTINES 65536

static int gsrc_attach(struct session *s, void *state)
{
	struct gsrc *g = state;
	int err;

	if (g->skel) {
		err = growmap_init(&g->records, g->skel->maps.go_goroutines, sizeof(uint64_t),
				   sizeof(struct go_goroutine), s->cfg->max_goroutines,
				   FIRST_GOROUTINES,
				   (const volatile uint64_t *)&g->skel->bss->go_counters[GO_CNT_TRACKED]);
		if (err) {
			fatal_set(&s->fatal, EXIT_KERNEL, "cannot make the goroutines map: %s",
				  strerror(-err));
			return err;
		}
		if (s->cfg->creation_probe != CREATION_PROBE_OFF) {
			if (probe_place(s, g, &s->fatal))
				return -ENOENT;
			g->win_start = now_ns();
		}
		{
			const void *code = elf_vaddr_ptr(g->mf->elf, g->addrs[0], 16);
			struct insn in;
			bool ok = code && !disasm_one(code, 16, g->addrs[0], &in);

			log_debug("goroutine creation probe: %d site(s), first at 0x%llx (%s: %s %s, %s)",
				  g->naddrs, (unsigned long long)g->addrs[0],
				  g->reg == GO_NEWG_RBX ? "at the runqput call" : "newproc1 RET",
				  ok ? in.mnemonic : "?", ok ? in.op_str : "",
				  !ok ? "?" : in.emulated ? "emulated" : "single-stepped");
		}
		log_debug("goroutine creation probe: --creation-probe %s",
			  probe_mode_names[s->cfg->creation_probe]);
	}
	g->last_collect = now_ns();

	/* Everything alive now existed before attach; remember where they end. */
	if (!try_runtime(s, g) && !go_runtime_scan(&g->rt)) {
		for (size_t i = 0; i < g->rt.ngs; i++)
			g->goid_at_attach = MAX(g->goid_at_attach, g->rt.gs[i].goid);
		g->seen_goid = g->goid_at_attach;
		g->baseline_done = true;
	} else if (!s->launched && !g->rt_ready) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED, "cannot read the goroutine list: %s",
			  g->rt_why ? g->rt_why : "target memory not readable");
		return -ENOENT;
	}
	s->views[VIEW_GOROUTINES].active = true;
	s->views[VIEW_GOROUTINES].hooks = (struct view_hooks){
		.trim = trim_creation,
		.start_func = row_start_func,
		.trim_group = trim_parked,
		.ctx = g,
	};
	return 0;
}

/* Is the goroutine started at startpc one of the runtime's own (not in NumGoroutine)? */
static bool is_runtime_goroutine(struct gsrc *g, uint64_t startpc)
{
	bool created, *rt = hmap_put(&g->is_runtime, &startpc, &created);
	struct gofunc f;

	/* Like runtime.isSystemGoroutine: runtime.* entry points other than runtime.main. */
	if (created)
		*rt = g->gb->pcln && !gopclntab_func_at(g->gb->pcln, startpc - g->bias, &f) &&
		      !strncmp(f.name, "runtime.", 8) && strcmp(f.name, "runtime.main");
	return *rt;
}

/* The row of a go statement, made with its site the first time. */
static struct gsrow *row_get(struct session *s, struct gsrc *g, uint64_t gopc, uint64_t startpc)
{
	struct row_key k = {gopc, startpc};
	bool created;
	struct gsrow *r = hmap_put(&g->rows, &k, &created);

	if (created) {
		uint32_t flags = startpc && is_runtime_goroutine(g, startpc) ? SITE_RUNTIME : 0;

		g->rows_gen++; /* the insert may have moved every row */

		/* Keyed by the go statement (a return address), one frame. */
		r->site = series_site(&s->series, VIEW_GOROUTINES, &gopc, gopc ? 1 : 0, startpc, flags);
		*(struct row_key *)hmap_put(&g->row_of_site, &r->site, NULL) = k;
	}
	return r;
}

/* Creations since the last look, per row; each row shows its busiest creation stack. */
static void count_creations(struct session *s, struct gsrc *g)
{
	int err = map_dump_read(bpf_map__fd(g->skel->maps.go_sites), sizeof(struct go_site_key),
				sizeof(uint64_t), &g->sites);

	if (err)
		log_warn("reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < g->sites.n; i++) {
		const struct go_site_key *k = map_dump_key(&g->sites, i);
		uint64_t cum = *(uint64_t *)map_dump_value(&g->sites, i);
		uint64_t d = cum_delta1(&g->created, k, cum);
		struct gsrow *r;
		const uint64_t *pcs;
		int n;

		if (!d)
			continue;
		r = row_get(s, g, k->gopc, k->startpc);
		site_now(&s->series, r->site)->created += d;
		if (cum <= r->best_created || !k->stack)
			continue;
		pcs = stack_store_get(&s->stacks, k->stack, &n, &g->stacks_missing);
		if (!n)
			continue;
		r->best_stack = k->stack;
		r->best_created = cum;
		site_show(r->site, pcs, n, SITE_FRAME0_IS_PC);
	}
}

/* An interned copy of a current stack: groups and the cache point at it. */
static const uint64_t *intern_stack(struct gsrc *g, const uint64_t *pcs, int n, int now,
				    uint64_t *hash)
{
	uint64_t h = *hash = hash_bytes(pcs, n * sizeof(*pcs), n);
	bool created;
	struct istack *slot = hmap_put(&g->stacks, &h, &created);

	if (created) {
		slot->v = xmalloc((n + 1) * sizeof(uint64_t));
		slot->v[0] = n;
		memcpy(slot->v + 1, pcs, n * sizeof(*pcs));
	}
	slot->used = now;
	return slot->v + 1;
}

/*
 * Let go of the stacks no goroutine stood at for STACK_TTL intervals, and of the
 * cache entries of goroutines not seen as long (a g that died): runnable
 * goroutines stop at a new pc every time, and a session of hours must not keep
 * them all. A cache entry is looked at whenever its stack is, so no entry kept
 * points at a stack let go.
 */
static void prune_stacks(struct gsrc *g, int now)
{
	struct hmap keep;
	struct istack *st;
	struct gcache *c;
	uint64_t *key;

	if (now % STACK_TTL)
		return;
	hmap_init(&keep, sizeof(uint64_t), sizeof(struct gcache));
	for (size_t it = 0; hmap_next(&g->cache, &it, (void **)&key, (void **)&c);)
		if (now - c->used < STACK_TTL)
			*(struct gcache *)hmap_put(&keep, key, NULL) = *c;
	hmap_free(&g->cache);
	g->cache = keep;
	hmap_init(&keep, sizeof(uint64_t), sizeof(struct istack));
	for (size_t it = 0; hmap_next(&g->stacks, &it, (void **)&key, (void **)&st);) {
		if (now - st->used < STACK_TTL)
			*(struct istack *)hmap_put(&keep, key, NULL) = *st;
		else
			free(st->v);
	}
	hmap_free(&g->stacks);
	g->stacks = keep;
}

/* Where a goroutine stands now, from the cache while it has not moved. */
/* Whether a goroutine read twice stood still in between (its stack then is its own). */
static bool same_place(const struct go_g *a, const struct go_g *b)
{
	return a->goid == b->goid && a->status == b->status && a->sched_sp == b->sched_sp &&
	       a->sched_pc == b->sched_pc && a->sched_bp == b->sched_bp &&
	       a->stack_lo == b->stack_lo;
}

/*
 * The stack a goroutine stands at, interned; NULL when it cannot be read. Read once
 * per place it stands (cached by g, goid and saved context). The g is read again
 * after the walk: if it moved, the walk may mix two stacks, and is done once more
 * from where it is now; what still fails is counted as torn. If the g holds another
 * goroutine by then (the one read exited, and the runtime reused its g for the next
 * go statement, which a busy server does within milliseconds), there is nothing
 * more to read: the other goroutine's stack would be shown, and named, in this
 * goroutine's row.
 */
static const uint64_t *current_stack(struct gsrc *g, const struct go_g *gg, int *n, int now)
{
	bool created;
	struct gcache *c = hmap_put(&g->cache, &gg->addr, &created);
	uint64_t pcs[GSTACK_MAX];
	struct go_g cur = *gg, again;
	int k = 0;

	if (!created && c->goid == gg->goid && c->sp == gg->sched_sp && c->pc == gg->sched_pc &&
	    c->bp == gg->sched_bp) {
		struct istack *st = c->pcs ? hmap_get(&g->stacks, &c->hash) : NULL;

		c->used = now;
		if (st)
			st->used = now; /* kept while a goroutine stands at it */
		*n = c->n;
		return c->pcs;
	}
	for (int try = 0; try < 2; try++) {
		g->unwound++;
		k = go_g_stack(&g->rt, &cur, pcs, GSTACK_MAX);
		if (go_g_reread(&g->rt, cur.addr, &again) || again.goid != cur.goid) {
			k = 0; /* exited meanwhile */
			break;
		}
		if (same_place(&cur, &again))
			break;
		k = 0;
		if (again.status == GO_G_RUNNING || again.status == GO_G_SYSCALL)
			break;
		cur = again;
		g->retried++;
	}
	*c = (struct gcache){cur.goid, cur.sched_sp, cur.sched_pc, cur.sched_bp, NULL, k, now, 0};
	if (!k)
		g->torn++;
	c->pcs = k ? intern_stack(g, pcs, k, now, &c->hash) : NULL;
	*n = c->n;
	return c->pcs;
}

struct tally {
	const char *state;
	const uint64_t *pcs;
	int n;
	bool stands; /* a goroutine not running: sampled when the row has many */
	bool waiting;
	int64_t count, untimed;
	int64_t wmin, wmax; /* nanotime of waitsince: the longest waiting has the smallest */
};

static int cmp_tally(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->count > y->count ? -1 : x->count < y->count;
}

/*
 * The dump of one row: its goroutines by (state, current stack), at most
 * --unwind-max stacks read (every k-th goroutine, so the sample spans the row),
 * groups scaled to the row when fewer were read than it has. Names the row from
 * the stacks read.
 */
static void dump_row(struct session *s, struct gsrc *g, struct gsrow *r, uint64_t now)
{
	/* A dump is asked for once: it reads every stack. */
	size_t cap = s->cfg->dump ? SIZE_MAX : s->cfg->unwind_max, nstack = 0, read = 0, step;
	struct tally *t = xcalloc(r->ngs + 1, sizeof(*t));
	struct {
		const char *name;
		size_t n;
	} names[8];
	size_t nnames = 0, nt = 0;

	for (size_t i = 0; i < r->ngs; i++)
		nstack += r->gs[i]->status != GO_G_RUNNING && r->gs[i]->status != GO_G_SYSCALL;
	step = nstack > cap && cap ? (nstack + cap - 1) / cap : 1;
	for (size_t i = 0, k = 0; i < r->ngs; i++) {
		const struct go_g *gg = r->gs[i];
		bool stands = gg->status != GO_G_RUNNING && gg->status != GO_G_SYSCALL;
		const char *state = go_g_state(&g->rt, gg);
		const uint64_t *pcs = NULL;
		int n = 0;
		size_t j;

		if (stands && (k++ % step || read >= cap))
			continue;
		if (stands) {
			read++;
			pcs = current_stack(g, gg, &n, s->series.nintervals - 1);
			if (pcs) {
				const char *nm = name_from_stack(g, pcs, n);

				for (j = 0; j < nnames && names[j].name != nm; j++)
					;
				if (j < nnames)
					names[j].n++;
				else if (nm && nnames < ARRAY_SIZE(names))
					names[nnames++] = (typeof(names[0])){nm, 1};
			}
		}
		for (j = 0; j < nt; j++)
			if (t[j].state == state && t[j].pcs == pcs)
				break;
		if (j == nt)
			t[nt++] = (struct tally){state, pcs, n, stands,
						 gg->status == GO_G_WAITING || gg->status == GO_G_LEAKED,
						 0, 0, INT64_MAX, 0};
		t[j].count++;
		/* Blocked for: the GC's clock (nanotime, CLOCK_MONOTONIC), when it has looked. */
		if (gg->waitsince > 0 && (gg->status == GO_G_WAITING || gg->status == GO_G_LEAKED)) {
			t[j].wmin = MIN(t[j].wmin, gg->waitsince);
			t[j].wmax = MAX(t[j].wmax, gg->waitsince);
		} else if (gg->status == GO_G_WAITING || gg->status == GO_G_LEAKED) {
			t[j].untimed++;
		}
	}
	qsort(t, nt, sizeof(*t), cmp_tally);
	for (size_t j = 0; j < nt; j++) {
		bool scaled = step > 1 && t[j].stands;
		struct block_group b = {
			.state = t[j].state,
			.pcs = t[j].pcs,
			.npcs = t[j].n,
			.n = scaled ? (int64_t)(t[j].count * (double)nstack / read + 0.5) : t[j].count,
			.wait_min_s = t[j].wmax > 0 ? (double)((int64_t)now - t[j].wmax) / 1e9 : -1,
			.wait_max_s = t[j].wmax > 0 ? (double)((int64_t)now - t[j].wmin) / 1e9 : -1,
			.sampled = scaled,
			.waiting = t[j].waiting,
			.untimed = scaled ? (int64_t)(t[j].untimed * (double)nstack / read + 0.5)
					  : t[j].untimed,
		};

		if (b.wait_min_s < 0 && t[j].wmax > 0)
			b.wait_min_s = b.wait_max_s = -1; /* clocks apart: say nothing */
		site_add_group(&s->series, r->site, &b);
	}
	/* The name most of them run (an interface method may run several). */
	for (size_t j = 0, best = 0; j < nnames; j++)
		if (names[j].n > best) {
			best = names[j].n;
			r->name = names[j].name;
		}
	free(t);
}

/*
 * How long the probe was paused in the interval ending at t1 (learn). Goroutines
 * made meanwhile are counted when the goroutine list shows them (collect), those
 * that started and ended between two reads not at all: the note says so.
 */
static uint64_t paused_in_interval(struct session *s, struct gsrc *g, uint64_t t1)
{
	struct view_info *vi = &s->views[VIEW_GOROUTINES];
	uint64_t span = t1 - g->last_collect, paused;

	g->last_collect = t1;
	if (s->cfg->creation_probe == CREATION_PROBE_OFF) {
		view_note_add(vi, "no creation probe (--creation-probe off): goroutines shown by "
				  "go statement; CREATED and EXITED count the goroutines seen come and "
				  "go between two reports, not those that started and ended between");
		return span;
	}
	if (!probe_is_on(g)) {
		g->paused_ns += t1 - g->paused_at;
		g->paused_at = t1;
	}
	paused = MIN(g->paused_ns, span);
	g->paused_ns = 0;
	if (paused)
		view_note_add(vi,
			      "creation probe paused %.1f s of %.1f s, every creation stack seen "
			      "already (--creation-probe on keeps it on): CREATED and EXITED count "
			      "only the goroutines seen come and go meanwhile, not those that started "
			      "and ended between two reports",
			      paused / 1e9, span / 1e9);
	return paused;
}

static int gsrc_collect(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct view_info *vi = &s->views[VIEW_GOROUTINES];
	struct series *ser = &s->series;
	struct hmap ix; /* g address -> its creation record in the dump */
	int64_t untracked = 0;
	struct gsrow *r;
	uint64_t t1, paused = 0, max_goid = g->seen_goid;
	bool records_read = false;
	int err;

	if (vi->off)
		return 0;
	err = try_runtime(s, g);
	if (err == -EAGAIN)
		return 0;
	if (err) {
		session_view_off(s, VIEW_GOROUTINES, "%s", g->rt_why);
		links_destroy(&g->links); /* a view switched off costs nothing */
		return 0;
	}
	if (!g->baseline_done)
		g->baseline_done = true; /* launched: nothing existed before us */

	/*
	 * Creations per row up to t1. Goroutines whose creation is recorded after t1
	 * are left for the next interval, so that created and live agree.
	 */
	t1 = now_ns();
	if (g->skel) {
		count_creations(s, g);
		paused = paused_in_interval(s, g, t1);
	}

	/* Live goroutines, each in the row of its go statement (read after the sites, so
	 * every goroutine the scan saw has its record by then). */
	err = go_runtime_scan(&g->rt);
	if (err == -EBADMSG) {
		char lay[96];

		session_view_off(s, VIEW_GOROUTINES,
				 "%zu goroutines of %zu read as impossible (no goid, or a status "
				 "the runtime does not have): runtime.g does not fit %s",
				 g->rt.implausible, g->rt.implausible + g->rt.ngs,
				 gobin_layout_desc(g->gb, GO_LAYOUT_G, lay, sizeof(lay)));
		links_destroy(&g->links);
		return 0;
	}
	if (err) {
		log_debug("goroutine list unreadable: %s", strerror(-err));
		return err == -ESRCH ? -ESRCH : 0;
	}
	hmap_init(&ix, sizeof(uint64_t), sizeof(struct go_goroutine *));
	if (g->nslots < g->rt.allgs_n) {
		size_t n = MAX(g->rt.allgs_n, 2 * g->nslots);

		g->slots = xrealloc(g->slots, n * sizeof(*g->slots));
		memset(g->slots + g->nslots, 0, (n - g->nslots) * sizeof(*g->slots));
		g->nslots = n;
	}
	if (g->skel)
		growmap_tick(&g->records);
	for (size_t it = 0; hmap_next(&g->rows, &it, NULL, (void **)&r);) {
		r->ngs = 0;
		r->pre = 0;
		r->unprobed = 0;
	}
	for (size_t i = 0; i < g->rt.ngs; i++) {
		struct go_g *gg = &g->rt.gs[i];
		struct gslot *sl = gg->slot < g->nslots ? &g->slots[gg->slot] : NULL;
		bool seen_made;

		if (sl && sl->goid != gg->goid)
			*sl = (struct gslot){.goid = gg->goid};
		if (!sl || sl->made == SLOT_UNKNOWN || sl->made == SLOT_UNSEEN_ONCE) {
			struct go_goroutine **ep, *e;

			/* The records, read once a report and only when a goroutine needs them. */
			if (g->skel && !records_read) {
				err = growmap_dump(&g->records, &g->gmap);
				if (err)
					log_warn("reading the goroutines map: %s", strerror(-err));
				hmap_reserve(&ix, g->gmap.n);
				for (size_t k = 0; k < g->gmap.n; k++)
					*(struct go_goroutine **)hmap_put(&ix, map_dump_key(&g->gmap, k),
									  NULL) = map_dump_value(&g->gmap, k);
				records_read = true;
			}
			ep = hmap_get(&ix, &gg->addr);
			e = ep ? *ep : NULL;
			seen_made = e && e->goid == gg->goid;
			if (seen_made && e->created_ns > t1)
				continue;
			if (sl)
				sl->made = seen_made			 ? SLOT_MADE
					   : sl->made == SLOT_UNKNOWN ? SLOT_UNSEEN_ONCE
								      : SLOT_UNSEEN;
		} else {
			seen_made = sl->made == SLOT_MADE;
		}
		if (sl && sl->row && sl->rows_gen == g->rows_gen) {
			r = sl->row;
		} else {
			r = row_get(s, g, gg->gopc, gg->startpc);
			if (sl) {
				sl->row = r;
				sl->rows_gen = g->rows_gen;
			}
		}
		if (r->ngs == r->cap_gs) {
			r->cap_gs = r->cap_gs ? 2 * r->cap_gs : 16;
			r->gs = xrealloc(r->gs, r->cap_gs * sizeof(*r->gs));
		}
		r->gs[r->ngs++] = gg;
		/*
		 * Before attach: no creation seen, and a goid from before. Not the goid alone:
		 * each P hands out goids from its own batch of 16, so one made after attach
		 * on a P that creates little can have a lower goid than the highest alive
		 * at attach.
		 */
		if (!seen_made && gg->goid <= g->goid_at_attach)
			r->pre++;
		/*
		 * Made since the last read and not seen made: while the probe was paused (or
		 * off). Goids only grow, but from a batch of 16 per P: one made on a P that
		 * creates little may have a goid below the last read's highest, and be
		 * missed here; the books still count it as growth.
		 */
		if (!seen_made && gg->goid > g->seen_goid)
			r->unprobed++;
		max_goid = MAX(max_goid, gg->goid);
	}
	hmap_free(&ix);
	g->seen_goid = max_goid;
	if (records_read || !g->skel)
		log_debug("goroutines: %zu live in allgs (read as %zu ranges), %zu creation records",
			  g->rt.ngs, g->rt.scan_reads, g->gmap.n);
	else
		log_debug("goroutines: %zu live in allgs (read as %zu ranges), every one known "
			  "from the last read (creation records not read)",
			  g->rt.ngs, g->rt.scan_reads);

	/* Rows: how many live, in which states, and where they stand. */
	for (size_t it = 0; hmap_next(&g->rows, &it, NULL, (void **)&r);) {
		struct sample *sm;

		if (!r->ngs)
			continue;
		/* Made while the probe was paused, from a go statement not seen made: look. */
		if (!probe_is_on(g) && !r->best_stack && !r->asked && (int64_t)r->ngs > r->pre &&
		    g->skel && s->cfg->creation_probe == CREATION_PROBE_LEARN) {
			r->asked = true;
			probe_resume(s, g, "goroutines of a go statement with no creation stack yet");
		}
		sm = site_now(ser, r->site);
		if (paused)
			sm->created += r->unprobed;
		sm->live += r->ngs;
		sm->pre_live += r->pre;
		untracked += r->pre;
		for (size_t i = 0; i < r->ngs; i++)
			site_add_state(ser, r->site, go_g_state(&g->rt, r->gs[i]), 1);
		dump_row(s, g, r, t1);
	}

	prune_stacks(g, s->series.nintervals - 1);
	/* Exits follow from the books: before + created - now. A goroutine no probe saw
	 * made (a full map) is a creation all the same: the books balance. */
	if (!s->cfg->dump) /* a snapshot: nothing was created or exited in it */
		series_balance_books(ser, VIEW_GOROUTINES);

	if (g->skel) {
		__u64 *c = g->skel->bss->go_counters;

		view_drop(vi, c[GO_CNT_GMAP_FULL], "goroutines shown by go statement only",
			  "--max-goroutines", s->cfg->max_goroutines);
		view_drop(vi, c[GO_CNT_SITE_FULL], "creations not counted by stack", "--max-stacks",
			  s->cfg->max_stacks);
		view_drop(vi, c[GO_CNT_STACK_FULL], "creation stacks not kept", "--max-stacks",
			  s->cfg->max_stacks);
		view_drop(vi, g->stacks_missing, "creation stacks unreadable", NULL, 0);
	}
	vi->untracked = untracked;
	if (g->gb->assumed & GO_LAYOUT_G) {
		char lay[96];

		view_note_add(vi, "runtime.g read with %s, checked on the live process",
			      gobin_layout_desc(g->gb, GO_LAYOUT_G, lay, sizeof(lay)));
	}
	if (untracked && !s->cfg->dump)
		view_note_add(vi,
			      "%lld goroutines existed before attach: counted in the row of the go "
			      "statement that made them",
			      (long long)untracked);
	log_debug("goroutine stacks: %llu read since attach, %llu torn or unreadable, %llu "
		  "read again after the goroutine moved",
		  (unsigned long long)g->unwound, (unsigned long long)g->torn,
		  (unsigned long long)g->retried);
	if (g->skel && s->cfg->creation_probe == CREATION_PROBE_LEARN)
		log_debug("goroutine creation probe: %s now; %llu pauses and %llu resumptions "
			  "since attach",
			  probe_is_on(g) ? "on" : "off", (unsigned long long)g->pauses,
			  (unsigned long long)g->resumes);
	return 0;
}

static void gsrc_tick(struct session *s, void *state)
{
	struct gsrc *g = state;
	uint64_t now;

	if (!g->skel)
		return;
	growmap_tick(&g->records);
	if (s->cfg->creation_probe != CREATION_PROBE_LEARN || s->views[VIEW_GOROUTINES].off)
		return;
	now = now_ns();
	if (probe_is_on(g) && now - g->win_start >= WINDOW_NS)
		window_end(g, now);
	else if (!probe_is_on(g) && now - g->paused_at >= RESAMPLE_NS)
		probe_resume(s, g, "looking for creation stacks not seen yet");
}

static void gsrc_detach(void *state)
{
	struct gsrc *g = state;
	struct gsrow *r;
	struct istack *st;

	links_destroy(&g->links);
	growmap_free(&g->records);
	map_dump_free(&g->gmap);
	free(g->slots);
	map_dump_free(&g->sites);
	go_runtime_free(&g->rt);
	cum_deltas_free(&g->created);
	cum_deltas_free(&g->win);
	hmap_free(&g->is_runtime);
	for (size_t it = 0; hmap_next(&g->rows, &it, NULL, (void **)&r);)
		free(r->gs);
	hmap_free(&g->rows);
	hmap_free(&g->row_of_site);
	for (size_t it = 0; hmap_next(&g->stacks, &it, NULL, (void **)&st);)
		free(st->v);
	hmap_free(&g->stacks);
	hmap_free(&g->cache);
	free(g);
}

const struct source_ops goroutine_source =
	SOURCE_OPS(gsrc, "goroutines", VIEW_BIT(VIEW_GOROUTINES), .tick = gsrc_tick);
