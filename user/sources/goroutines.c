// SPDX-License-Identifier: GPL-2.0
/*
 * Goroutines by creation stack. Creations are probed (one emulated uprobe per
 * `go` statement, see bpf/goroutines.bpf.c); liveness and wait state come from
 * the runtime's own goroutine list read each interval, so exits cost nothing
 * in the target: exited = created - (live now - live before), per stack.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "bpfio/deltas.h"
#include "bpfio/growmap.h"
#include "bpfio/links.h"
#include "bpfio/mapdump.h"
#include "bpfio/object.h"
#include "bpfio/stackstore.h"
#include "bpfio/uprobe.h"
#include "elf/disasm.h"
#include "golang/runtime.h"
#include "bpf/goroutines.h"
#include "leakscope.skel.h"
#include "session.h"
#include "target/maps.h"
#include "bpf/stacks.h"

#define MAX_RET_PROBES 8

struct gsrc {
	struct leakscope_bpf *skel;
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
	bool baseline_done;
	uint64_t stacks_missing;
	struct growmap records; /* BPF go_goroutines: the last goroutine made in each g */
	struct map_dump gmap, sites;
	struct cum_deltas created; /* per go_site_key */
	struct hmap is_runtime; /* startpc -> bool: a runtime goroutine (cached) */
};

/*
 * Where to catch a new goroutine. Preferred: the `call runtime.runqput` in
 * runtime.newproc.func1 (g0 stack; a relative call, which the kernel emulates;
 * RBX = the new g). Otherwise every RET of runtime.newproc1 (also g0; RAX = g).
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
			addrs[0] = call;
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

static int gsrc_probe(struct session *s, void **state)
{
	struct gsrc *g;
	int err;

	g = xcalloc(1, sizeof(*g));
	cum_deltas_init(&g->created, sizeof(struct go_site_key), 1);
	hmap_init(&g->is_runtime, sizeof(uint64_t), sizeof(bool));
	*state = g;
	g->mf = modfile_get(s->exe_path, &err);
	if (!g->mf || !g->mf->gb)
		return -ENOTSUP;
	g->gb = g->mf->gb;
	err = find_probe_sites(g, g->addrs, &g->naddrs, &g->reg, &s->fatal);
	if (err)
		return err;
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

	g->skel = skel;
	skel->rodata->g_goid_off = g->gb->off.g_goid;
	skel->rodata->g_startpc_off = g->gb->off.g_startpc;
	skel->rodata->newg_reg = g->reg;
	bpfobj_use_map(skel->maps.go_goroutines, 0);
	bpfobj_use_map(skel->maps.go_sites, s->cfg->max_stacks);
	bpfobj_use_prog(skel->progs.go_newproc);
	return 0;
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

/* The function a goroutine runs, seen through the compiler's gowrap wrappers. */
static const char *wrapped_start(void *ctx, const struct site *site)
{
	struct gsrc *g = ctx;

	if (!g->rt_ready)
		return NULL;
	return gobin_gowrap_target(g->gb, site->start_pc - g->bias);
}

/* The goroutines map starts with room for this many g structs, and grows. */
#define FIRST_GOROUTINES 65536

static int gsrc_attach(struct session *s, void *state)
{
	struct gsrc *g = state;
	int err;

	err = growmap_init(&g->records, g->skel->maps.go_goroutines, sizeof(uint64_t),
			   sizeof(struct go_goroutine), s->cfg->max_goroutines,
			   FIRST_GOROUTINES,
			   (const volatile uint64_t *)&g->skel->bss->go_counters[GO_CNT_TRACKED]);
	if (err) {
		fatal_set(&s->fatal, EXIT_KERNEL, "cannot make the goroutines map: %s",
			  strerror(-err));
		return err;
	}

	for (int i = 0; i < g->naddrs; i++)
		if (!links_add(&g->links, uprobe_attach(s->pid, g->skel->progs.go_newproc,
							s->exe_path, g->mf->elf, g->addrs[i], 0,
							"goroutine creation", &s->fatal)))
			return -ENOENT;
	log_debug("goroutine creation probe: %d site(s), first at 0x%llx (%s)", g->naddrs,
		  (unsigned long long)g->addrs[0],
		  g->reg == GO_NEWG_RBX ? "runqput call" : "newproc1 RET");

	/* Everything alive now existed before attach; remember where they end. */
	if (!try_runtime(s, g) && !go_runtime_scan(&g->rt)) {
		for (size_t i = 0; i < g->rt.ngs; i++)
			g->goid_at_attach = MAX(g->goid_at_attach, g->rt.gs[i].goid);
		g->baseline_done = true;
	} else if (!s->launched && !g->rt_ready) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED, "cannot read the goroutine list: %s",
			  g->rt_why ? g->rt_why : "target memory not readable");
		return -ENOENT;
	}
	s->views[VIEW_GOROUTINES].active = true;
	s->views[VIEW_GOROUTINES].hooks =
		(struct view_hooks){.trim = trim_creation, .start_func = wrapped_start, .ctx = g};
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

static struct site *site_for_stack(struct session *s, struct gsrc *g, uint64_t stack,
				   uint64_t startpc)
{
	uint32_t flags = SITE_FRAME0_IS_PC;
	const uint64_t *pcs;
	int n;

	pcs = stack_store_get(&s->stacks, stack, &n, &g->stacks_missing);
	if (!n)
		flags = SITE_NO_STACK;
	if (startpc && is_runtime_goroutine(g, startpc))
		flags |= SITE_RUNTIME;
	return series_site(&s->series, VIEW_GOROUTINES, pcs, n, startpc, flags);
}


static int gsrc_collect(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct view_info *vi = &s->views[VIEW_GOROUTINES];
	struct series *ser = &s->series;
	struct hmap ix; /* g address -> its creation record in the dump */
	int64_t untracked = 0;
	uint64_t t1;
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
	 * Creations per site up to t1. Goroutines whose creation is recorded after t1
	 * are left for the next interval, so that created and live agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(g->skel->maps.go_sites), sizeof(struct go_site_key),
			    sizeof(uint64_t), &g->sites);
	if (err)
		log_warn("reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < g->sites.n; i++) {
		const struct go_site_key *k = map_dump_key(&g->sites, i);
		uint64_t cum = *(uint64_t *)map_dump_value(&g->sites, i);
		uint64_t d = cum_delta1(&g->created, k, cum);

		if (d)
			site_now(ser, site_for_stack(s, g, k->stack, k->startpc))->created += d;
	}

	/* Live goroutines, each matched to the creation recorded in its g (read after the
	 * scan, so every goroutine the scan saw has its record by then). */
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
	growmap_tick(&g->records);
	err = growmap_dump(&g->records, &g->gmap);
	if (err)
		log_warn("reading the goroutines map: %s", strerror(-err));
	hmap_init(&ix, sizeof(uint64_t), sizeof(struct go_goroutine *));
	for (size_t i = 0; i < g->gmap.n; i++)
		*(struct go_goroutine **)hmap_put(&ix, map_dump_key(&g->gmap, i), NULL) =
			map_dump_value(&g->gmap, i);
	log_debug("goroutines: %zu live in allgs, %zu creation records", g->rt.ngs, g->gmap.n);
	for (size_t i = 0; i < g->rt.ngs; i++) {
		const struct go_g *gg = &g->rt.gs[i];
		struct go_goroutine **ep = hmap_get(&ix, &gg->addr), *e = ep ? *ep : NULL;
		struct site *site;

		if (e && e->goid == gg->goid) {
			if (e->created_ns > t1)
				continue;
			site = site_for_stack(s, g, e->stack, gg->startpc);
		} else {
			/* Not seen at creation: its own g still says where it was made. */
			uint32_t flags = gg->goid <= g->goid_at_attach ? SITE_PRE_ATTACH
								       : SITE_NO_STACK;

			if (is_runtime_goroutine(g, gg->startpc))
				flags |= SITE_RUNTIME;
			if (flags & SITE_PRE_ATTACH)
				untracked++;
			site = series_site(ser, VIEW_GOROUTINES, &gg->gopc, gg->gopc ? 1 : 0,
					   gg->startpc, flags);
		}
		site_now(ser, site)->live++;
		site_add_state(ser, site, go_g_state(&g->rt, gg), 1);
	}
	hmap_free(&ix);

	/* Exits follow from the books: before + created - now. */
	series_freed_from_books(ser, VIEW_GOROUTINES);

	__u64 *c = g->skel->bss->go_counters;
	vi->drops = c[GO_CNT_GMAP_FULL] + c[GO_CNT_SITE_FULL] + c[GO_CNT_STACK_FULL] +
		    g->stacks_missing;
	vi->untracked = untracked;
	if (g->gb->assumed & GO_LAYOUT_G) {
		char lay[96];

		view_note_add(vi, "runtime.g read with %s, checked on the live process",
			      gobin_layout_desc(g->gb, GO_LAYOUT_G, lay, sizeof(lay)));
	}
	if (untracked)
		view_note_add(vi,
			  "%lld goroutines existed before attach: shown by the go statement that "
			  "created them (one frame), not a full stack",
			  (long long)untracked);
	return 0;
}

static void gsrc_tick(struct session *s, void *state)
{
	struct gsrc *g = state;

	growmap_tick(&g->records);
}

static void gsrc_detach(void *state)
{
	struct gsrc *g = state;

	links_destroy(&g->links);
	growmap_free(&g->records);
	map_dump_free(&g->gmap);
	map_dump_free(&g->sites);
	go_runtime_free(&g->rt);
	cum_deltas_free(&g->created);
	hmap_free(&g->is_runtime);
	free(g);
}

const struct source_ops goroutine_source =
	SOURCE_OPS(gsrc, "goroutines", VIEW_BIT(VIEW_GOROUTINES), .tick = gsrc_tick);
