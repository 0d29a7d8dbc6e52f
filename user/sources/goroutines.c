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

#include "bpfio/bpfmap.h"
#include "elf/disasm.h"
#include "goroutines.h"
#include "goroutines.skel.h"
#include "golang/runtime.h"
#include "session.h"
#include "stacks.h"

#define MAX_RET_PROBES 8

struct gsrc {
	struct goroutines_bpf *skel;
	struct bpf_link *links[MAX_RET_PROBES];
	int nlinks;
	struct modfile *mf;
	const struct gobin *gb;
	struct go_runtime rt;
	bool rt_ready;
	const char *rt_why;
	uint64_t bias;
	uint64_t goid_at_attach; /* goroutines with goid <= this existed before attach */
	bool baseline_done;
	struct stack_store stacks;
	struct map_dump gmap, sites;
	struct cum_deltas created; /* per go_site_key */
	/* startpc -> is a runtime goroutine, cached */
	uint64_t *rt_start_pcs, *user_start_pcs;
	size_t nrt, nuser;
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
	if (g->rt_ready)
		return 0;
	if (module_bias(s->pid, g->mf, &g->bias))
		return -EAGAIN; /* launched target not exec'd yet */
	if (go_runtime_init(&g->rt, s->pid, g->gb, g->bias, &g->rt_why))
		return -ENOENT;
	g->rt_ready = true;
	return 0;
}

static int gsrc_attach(struct session *s, void **state)
{
	const struct config *cfg = s->cfg;
	uint64_t addrs[MAX_RET_PROBES];
	struct gsrc *g;
	int err, n = 0, reg = 0;

	g = xcalloc(1, sizeof(*g));
	g->mf = modfile_get(s->exe_path, &err);
	if (!g->mf || !g->mf->gb) {
		free(g);
		return -ENOTSUP;
	}
	g->gb = g->mf->gb;
	err = find_probe_sites(g, addrs, &n, &reg, &s->fatal);
	if (err)
		goto fail;

	g->skel = goroutines_bpf__open();
	if (!g->skel) {
		err = -errno;
		fatal_set(&s->fatal, EXIT_ERROR, "cannot open the goroutine BPF object: %s",
			  strerror(errno));
		goto fail;
	}
	g->skel->rodata->target_tgid = s->pid;
	g->skel->rodata->pidns_dev = s->pidns_dev;
	g->skel->rodata->pidns_ino = s->pidns_ino;
	g->skel->rodata->g_goid_off = g->gb->off.g_goid;
	g->skel->rodata->g_startpc_off = g->gb->off.g_startpc;
	g->skel->rodata->newg_reg = reg;
	bpf_map__set_max_entries(g->skel->maps.goroutines, cfg->max_goroutines);
	bpf_map__set_map_flags(g->skel->maps.goroutines, BPF_F_NO_PREALLOC);
	bpf_map__set_max_entries(g->skel->maps.stacks, cfg->max_stacks);
	bpf_map__set_max_entries(g->skel->maps.sites, cfg->max_stacks);
	err = goroutines_bpf__load(g->skel);
	if (err) {
		bpf_load_error(&s->fatal, "goroutine", err);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		g->links[g->nlinks] = uprobe_attach(s, g->skel->progs.go_newproc, s->exe_path,
						    g->mf->elf, addrs[i], 0, "goroutine creation",
						    &s->fatal);
		if (!g->links[g->nlinks]) {
			err = -ENOENT;
			goto fail;
		}
		g->nlinks++;
	}
	log_debug("goroutine creation probe: %d site(s), first at 0x%llx (%s)", n,
		  (unsigned long long)addrs[0], reg == GO_NEWG_RBX ? "runqput call" : "newproc1 RET");
	stack_store_init(&g->stacks, bpf_map__fd(g->skel->maps.stacks));
	cum_deltas_init(&g->created, sizeof(struct go_site_key));

	/* Everything alive now existed before attach; remember where they end. */
	if (!try_runtime(s, g) && !go_runtime_scan(&g->rt)) {
		for (size_t i = 0; i < g->rt.ngs; i++)
			g->goid_at_attach = MAX(g->goid_at_attach, g->rt.gs[i].goid);
		g->baseline_done = true;
	} else if (!s->launched && !g->rt_ready) {
		err = -ENOENT;
		fatal_set(&s->fatal, EXIT_UNSUPPORTED, "cannot read the goroutine list: %s",
			  g->rt_why ? g->rt_why : "target memory not readable");
		goto fail;
	}
	s->views[VIEW_GOROUTINES].active = true;
	*state = g;
	return 0;
fail:
	for (int i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	goroutines_bpf__destroy(g->skel);
	free(g);
	return err;
}

/* Is the goroutine started at startpc one of the runtime's own (not in NumGoroutine)? */
static bool is_runtime_goroutine(struct gsrc *g, uint64_t startpc)
{
	struct gofunc f;
	bool rt;

	for (size_t i = 0; i < g->nrt; i++)
		if (g->rt_start_pcs[i] == startpc)
			return true;
	for (size_t i = 0; i < g->nuser; i++)
		if (g->user_start_pcs[i] == startpc)
			return false;
	/* Like runtime.isSystemGoroutine: runtime.* entry points other than runtime.main. */
	rt = g->gb->pcln && !gopclntab_func_at(g->gb->pcln, startpc - g->bias, &f) &&
	     !strncmp(f.name, "runtime.", 8) && strcmp(f.name, "runtime.main");
	if (rt) {
		g->rt_start_pcs = xrealloc(g->rt_start_pcs, (g->nrt + 1) * sizeof(uint64_t));
		g->rt_start_pcs[g->nrt++] = startpc;
	} else {
		g->user_start_pcs = xrealloc(g->user_start_pcs, (g->nuser + 1) * sizeof(uint64_t));
		g->user_start_pcs[g->nuser++] = startpc;
	}
	return rt;
}

static struct site *site_for_stack(struct session *s, struct gsrc *g, uint64_t stack,
				   uint64_t startpc)
{
	uint32_t flags = SITE_FRAME0_IS_PC;
	const uint64_t *pcs;
	int n;

	pcs = stack_store_get(&g->stacks, stack, &n);
	if (!n)
		flags = SITE_NO_STACK;
	if (startpc && is_runtime_goroutine(g, startpc))
		flags |= SITE_RUNTIME;
	return series_site(&s->series, VIEW_GOROUTINES, pcs, n, startpc, flags);
}

struct gentry_index {
	uint64_t *keys;
	struct go_goroutine *vals;
	uint32_t *slots; /* open addressing over indexes+1 */
	size_t cap;
};

static void index_build(struct gentry_index *ix, const struct map_dump *d)
{
	ix->keys = d->keys;
	ix->vals = d->values;
	ix->cap = 1;
	while (ix->cap < 2 * d->n + 2)
		ix->cap *= 2;
	ix->slots = xcalloc(ix->cap, sizeof(*ix->slots));
	for (size_t i = 0; i < d->n; i++) {
		size_t k = ix->keys[i] * 0x9e3779b97f4a7c15ull >> 16;

		while (ix->slots[k & (ix->cap - 1)])
			k++;
		ix->slots[k & (ix->cap - 1)] = i + 1;
	}
}

static const struct go_goroutine *index_get(const struct gentry_index *ix, uint64_t gaddr)
{
	size_t k = gaddr * 0x9e3779b97f4a7c15ull >> 16;

	for (;; k++) {
		uint32_t v = ix->slots[k & (ix->cap - 1)];

		if (!v)
			return NULL;
		if (ix->keys[v - 1] == gaddr)
			return &ix->vals[v - 1];
	}
}

static int gsrc_collect(struct session *s, void *state)
{
	struct gsrc *g = state;
	struct view_info *vi = &s->views[VIEW_GOROUTINES];
	struct series *ser = &s->series;
	struct gentry_index ix = {0};
	int64_t untracked = 0;
	uint64_t t1;
	int err;

	err = try_runtime(s, g);
	if (err == -EAGAIN)
		return 0;
	if (err) {
		snprintf(vi->note, sizeof(vi->note), "cannot read the goroutine list: %s",
			 g->rt_why);
		return 0;
	}
	if (!g->baseline_done)
		g->baseline_done = true; /* launched: nothing existed before us */

	/*
	 * Creations per site up to t1. Goroutines whose creation is recorded after t1
	 * are left for the next interval, so that created and live agree.
	 */
	t1 = now_ns();
	err = map_dump_read(bpf_map__fd(g->skel->maps.sites), sizeof(struct go_site_key),
			    sizeof(uint64_t), &g->sites);
	if (err)
		log_warn("reading the sites map: %s", strerror(-err));
	for (size_t i = 0; i < g->sites.n; i++) {
		const struct go_site_key *k = map_dump_key(&g->sites, i);
		uint64_t cum = *(uint64_t *)map_dump_value(&g->sites, i);
		uint64_t d = cum_delta(&g->created, k, cum);

		if (d)
			site_now(ser, site_for_stack(s, g, k->stack, k->startpc))->created += d;
	}

	/* Live goroutines, each matched to the creation recorded in its g (read after the
	 * scan, so every goroutine the scan saw has its record by then). */
	err = go_runtime_scan(&g->rt);
	if (err) {
		log_debug("goroutine list unreadable: %s", strerror(-err));
		return err == -ESRCH ? -ESRCH : 0;
	}
	err = map_dump_read(bpf_map__fd(g->skel->maps.goroutines), sizeof(uint64_t),
			    sizeof(struct go_goroutine), &g->gmap);
	if (err)
		log_warn("reading the goroutines map: %s", strerror(-err));
	index_build(&ix, &g->gmap);
	log_debug("goroutines: %zu live in allgs, %zu creation records", g->rt.ngs, g->gmap.n);
	for (size_t i = 0; i < g->rt.ngs; i++) {
		const struct go_g *gg = &g->rt.gs[i];
		const struct go_goroutine *e = index_get(&ix, gg->addr);
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
	free(ix.slots);

	/* Exits follow from the books: before + created - now. */
	for (size_t i = 0; i < ser->nsites; i++) {
		struct site *site = ser->sites[i];
		const struct sample *prev;
		struct sample *now;
		int64_t exited;

		if (site->view != VIEW_GOROUTINES)
			continue;
		now = site_now(ser, site);
		prev = site_at(site, ser->nintervals - 2);
		exited = (prev ? prev->live : 0) + (int64_t)now->created - now->live;
		/* The first sighting of a pre-attach site is not an exit of anything. */
		now->freed = exited > 0 ? exited : 0;
	}

	__u64 *c = g->skel->bss->counters;
	__u64 *se = g->skel->bss->stack_errors;
	vi->drops = c[GO_CNT_GMAP_FULL] + c[GO_CNT_SITE_FULL] + se[LS_STACK_ERR_WALK] +
		    se[LS_STACK_ERR_FULL] + g->stacks.missing;
	vi->untracked = untracked;
	vi->note[0] = 0;
	if (untracked)
		snprintf(vi->note, sizeof(vi->note),
			 "%lld goroutines existed before attach: shown by the go statement that "
			 "created them (one frame), not a full stack",
			 (long long)untracked);
	return 0;
}

static void gsrc_detach(void *state)
{
	struct gsrc *g = state;

	for (int i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	goroutines_bpf__destroy(g->skel);
	stack_store_free(&g->stacks);
	map_dump_free(&g->gmap);
	map_dump_free(&g->sites);
	go_runtime_free(&g->rt);
	cum_deltas_free(&g->created);
	free(g->rt_start_pcs);
	free(g->user_start_pcs);
	free(g);
}

const struct source_ops goroutine_source = {
	.name = "goroutines",
	.attach = gsrc_attach,
	.collect = gsrc_collect,
	.detach = gsrc_detach,
};
