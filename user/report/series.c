// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "report/series.h"
#include "target/symbolize.h"
#include "lib/util.h"

static const struct view_desc views[VIEW__MAX] = {
	[VIEW_GOROUTINES] = {"goroutines", "GOROUTINES", STYLE_COUNT, "goroutines", "CREATED",
			     "EXITED", "created at"},
	[VIEW_GO_HEAP] = {"go-heap", "GO HEAP IN USE", STYLE_BYTES, "objects", "ALLOCS", "FREES",
			  "allocated at"},
	[VIEW_GO_ALLOC] = {"go-alloc", "GO ALLOCATION RATE (sampled)", STYLE_RATE, "samples",
			   "SAMPLES", "", "allocating at"},
	[VIEW_NATIVE_HEAP] = {"native-heap", "NATIVE HEAP OUTSTANDING", STYLE_BYTES, "allocations",
			      "ALLOCS", "FREES", "allocated at"},
	[VIEW_NATIVE_GROWTH] = {"native-growth", "MEMORY GROWTH (attributed)", STYLE_BYTES, "events",
				"EVENTS", "RELEASES", "grown at"},
	[VIEW_THREADS] = {"threads", "THREADS", STYLE_COUNT, "threads", "CREATED", "EXITED",
			  "created at"},
};

const struct view_desc *view_desc(enum view_kind v)
{
	return &views[v < VIEW__MAX ? v : 0];
}

const char *view_name(enum view_kind v)
{
	return v < VIEW__MAX ? views[v].name : "?";
}

static uint64_t site_hash(const void *key)
{
	return (*(const struct site *const *)key)->key;
}

static bool site_eq(const void *a, const void *b)
{
	const struct site *x = *(const struct site *const *)a, *y = *(const struct site *const *)b;

	/* A site without a stack may have no array (memcmp's arguments are non-null). */
	return x->key == y->key && x->view == y->view && x->npcs == y->npcs &&
	       x->start_pc == y->start_pc && x->flags == y->flags &&
	       (!x->npcs || !memcmp(x->pcs, y->pcs, x->npcs * sizeof(*x->pcs)));
}

void series_init(struct series *s)
{
	memset(s, 0, sizeof(*s));
	hmap_init_custom(&s->by_key, sizeof(struct site *), 0, site_hash, site_eq);
	s->start_mono_ns = now_ns();
	s->start_wall_ns = wall_ns();
}

void series_free(struct series *s)
{
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		struct frames *shown = site->symbolized; /* report/view.c's display frames */

		if (shown)
			free(shown->v);
		free(shown);
		free(site->pcs);
		free(site->samples);
		free(site->states);
		free(site->groups);
		free(site);
	}
	free(s->sites);
	hmap_free(&s->by_key);
	free(s->gc);
	free(s->intervals);
	memset(s, 0, sizeof(*s));
}

void series_next_interval(struct series *s)
{
	series_next_interval_keeping(s, 0);
}

static double interval_x(const struct series *s, int i)
{
	return (s->intervals[i].mono_ns - s->start_mono_ns) / 1e9;
}

/* Interval i is over (a new one starts): fold it into every site's history. */
static void fold_interval(struct series *s, int i)
{
	double x = interval_x(s, i);

	s->hist.n++;
	s->hist.sx += x;
	s->hist.sxx += x * x;
	for (size_t k = 0; k < s->nsites; k++) {
		struct site *site = s->sites[k];
		struct site_history *h = &site->hist;
		const struct sample *sm = site_at(site, i);

		if (!sm)
			continue; /* born later: nothing before it */
		if (i == 0) {
			h->live_first = sm->live;
			h->live_bytes_first = sm->live_bytes;
		} else {
			h->grew += sm->live > h->prev_live;
			h->created += sm->created;
			h->freed += sm->freed;
			h->created_bytes += sm->created_bytes;
			h->freed_bytes += sm->freed_bytes;
		}
		h->prev_live = sm->live;
		h->sy += sm->live;
		h->sxy += x * sm->live;
		h->syb += sm->live_bytes;
		h->sxyb += x * sm->live_bytes;
	}
}

/* fold_interval undone, for the interval that becomes current again. */
static void unfold_interval(struct series *s, int i)
{
	double x = interval_x(s, i);

	if (!s->hist.n)
		return;
	s->hist.n--;
	s->hist.sx -= x;
	s->hist.sxx -= x * x;
	for (size_t k = 0; k < s->nsites; k++) {
		struct site *site = s->sites[k];
		struct site_history *h = &site->hist;
		const struct sample *sm = site_at(site, i), *pm = site_at(site, i - 1);

		if (!sm)
			continue;
		if (i > 0) {
			h->prev_live = pm ? pm->live : 0;
			h->grew -= sm->live > h->prev_live;
			h->created -= sm->created;
			h->freed -= sm->freed;
			h->created_bytes -= sm->created_bytes;
			h->freed_bytes -= sm->freed_bytes;
		}
		h->sy -= sm->live;
		h->sxy -= x * sm->live;
		h->syb -= sm->live_bytes;
		h->sxyb -= x * sm->live_bytes;
	}
}

static double slope_of(int n, double sx, double sxx, double sy, double sxy)
{
	double d = n * sxx - sx * sx;

	return n >= 2 && d > 0 ? (n * sxy - sx * sy) / d : 0;
}

void site_session(const struct series *s, const struct site *site, struct site_session *out)
{
	const struct site_history *h = &site->hist;
	int cur = s->nintervals - 1;
	const struct sample *sm = cur >= 0 ? site_at(site, cur) : NULL;
	double x = cur >= 0 ? interval_x(s, cur) : 0;
	int n = s->hist.n;
	double sx = s->hist.sx, sxx = s->hist.sxx, sy = h->sy, sxy = h->sxy, syb = h->syb,
	       sxyb = h->sxyb;

	memset(out, 0, sizeof(*out));
	out->live_first = h->live_first;
	out->live_bytes_first = h->live_bytes_first;
	out->grew = h->grew;
	out->created = h->created;
	out->freed = h->freed;
	out->created_bytes = h->created_bytes;
	out->freed_bytes = h->freed_bytes;
	/* The current interval, not folded yet. */
	if (cur >= 0) {
		n++;
		sx += x;
		sxx += x * x;
	}
	if (sm) {
		if (cur == 0) {
			out->live_first = sm->live;
			out->live_bytes_first = sm->live_bytes;
		} else {
			out->grew += sm->live > h->prev_live;
			out->created += sm->created;
			out->freed += sm->freed;
			out->created_bytes += sm->created_bytes;
			out->freed_bytes += sm->freed_bytes;
		}
		sy += sm->live;
		sxy += x * sm->live;
		syb += sm->live_bytes;
		sxyb += x * sm->live_bytes;
	}
	out->observed = n;
	out->slope = slope_of(n, sx, sxx, sy, sxy);
	out->bytes_slope = slope_of(n, sx, sxx, syb, sxyb);
}

void series_next_interval_keeping(struct series *s, uint32_t keep_views)
{
	if (s->nintervals)
		fold_interval(s, s->nintervals - 1);
	uint64_t mono = now_ns();
	uint64_t prev = s->nintervals ? s->intervals[s->nintervals - 1].mono_ns : s->start_mono_ns;
	struct interval *iv;

	s->intervals = xrealloc(s->intervals, (s->nintervals + 1) * sizeof(*s->intervals));
	iv = &s->intervals[s->nintervals++];
	memset(iv, 0, sizeof(*iv));
	iv->mono_ns = mono;
	iv->wall_ns = wall_ns();
	iv->seconds = (mono - prev) / 1e9;
	iv->ngc = s->ngc;
	for (size_t i = 0; i < s->nsites; i++) {
		if (keep_views & (1u << s->sites[i]->view))
			continue;
		s->sites[i]->nstates = 0;
		s->sites[i]->ngroups = 0;
	}
}

void series_carry_forward(struct series *s, enum view_kind view)
{
	int cur = s->nintervals - 1;

	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		const struct sample *prev;
		struct sample last, *now;

		if (site->view != view || !(prev = site_at(site, cur - 1)))
			continue;
		/* A copy: site_now() may move the samples (realloc, older ones dropped). */
		last = *prev;
		now = site_now(s, site);
		*now = last;
		/* As last seen: nothing happened since, and it did not age unseen. */
		now->created = now->freed = now->created_bytes = now->freed_bytes = 0;
	}
}

void series_drop_interval(struct series *s)
{
	if (!s->nintervals)
		return;
	s->nintervals--;
	/* GC cycles seen meanwhile did happen: they count to the interval before. */
	if (s->nintervals)
		series_now(s)->ngc = s->ngc;
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		size_t keep = s->nintervals > site->base ? s->nintervals - site->base : 0;

		if (site->nsamples > keep)
			site->nsamples = keep;
	}
	/* The interval before is current again: out of the folded history. */
	if (s->nintervals)
		unfold_interval(s, s->nintervals - 1);
}

struct interval *series_now(struct series *s)
{
	return &s->intervals[s->nintervals - 1];
}

struct gc_point *series_add_gc(struct series *s, uint64_t mono_ns, uint64_t heap_marked,
			       uint32_t numgc)
{
	struct gc_point *p;

	if (s->ngc - s->gc_base == 2 * SERIES_GC_KEEP) {
		/* Full: keep the last SERIES_GC_KEEP, the trend's window. */
		memmove(s->gc, s->gc + SERIES_GC_KEEP, SERIES_GC_KEEP * sizeof(*s->gc));
		s->gc_base += SERIES_GC_KEEP;
	}
	if (s->ngc - s->gc_base == s->cap_gc) {
		s->cap_gc = s->cap_gc ? MIN(2 * s->cap_gc, 2 * SERIES_GC_KEEP) : 256;
		s->gc = xrealloc(s->gc, s->cap_gc * sizeof(*s->gc));
	}
	p = &s->gc[s->ngc++ - s->gc_base];
	*p = (struct gc_point){mono_ns, heap_marked, numgc};
	if (s->nintervals)
		series_now(s)->ngc = s->ngc;
	return p;
}

static uint64_t site_key(enum view_kind view, const uint64_t *pcs, int npcs, uint64_t start_pc,
			 uint32_t flags)
{
	uint64_t h = hash_bytes(pcs, npcs * sizeof(*pcs), view);

	h = hash_bytes(&start_pc, sizeof(start_pc), h);
	/* Pre-attach and no-stack goroutines with the same creation site are told apart. */
	return hash_bytes(&flags, sizeof(flags), h);
}

struct site *series_site(struct series *s, enum view_kind view, const uint64_t *pcs, int npcs,
			 uint64_t start_pc, uint32_t flags)
{
	struct site probe = {.key = site_key(view, pcs, npcs, start_pc, flags),
			     .view = view,
			     .flags = flags,
			     .pcs = (uint64_t *)pcs,
			     .npcs = npcs,
			     .start_pc = start_pc},
		    *key = &probe, **slot, *site;
	bool created;

	slot = hmap_key(&s->by_key, hmap_put(&s->by_key, &key, &created));
	if (!created)
		return *slot;
	site = xcalloc(1, sizeof(*site));
	*site = probe;
	site->pcs = xmalloc(npcs * sizeof(*pcs) + 1);
	if (npcs) /* a site without a stack may come with no array: memcpy's is non-null */
		memcpy(site->pcs, pcs, npcs * sizeof(*pcs));
	site->first = s->nintervals ? s->nintervals - 1 : 0;
	*slot = site;
	if (s->nsites == s->cap_sites) {
		s->cap_sites = s->cap_sites ? 2 * s->cap_sites : 256;
		s->sites = xrealloc(s->sites, s->cap_sites * sizeof(*s->sites));
	}
	s->sites[s->nsites++] = site;
	return site;
}

struct sample *site_now(struct series *s, struct site *site)
{
	size_t want;

	if (!site->samples)
		site->base = site->first;
	/* Keep the last SERIES_KEEP intervals: drop the older half when twice as many. */
	if (s->nintervals - site->base > 2 * SERIES_KEEP) {
		int drop = s->nintervals - site->base - SERIES_KEEP;

		if ((size_t)drop >= site->nsamples) {
			site->nsamples = 0;
		} else {
			memmove(site->samples, site->samples + drop,
				(site->nsamples - drop) * sizeof(*site->samples));
			site->nsamples -= drop;
		}
		site->base += drop;
	}
	want = s->nintervals - site->base;
	if (site->nsamples < want) {
		if (site->cap_samples < want) { /* doubling: a realloc per site per report is slow */
			site->cap_samples = MAX(want, MIN(2 * site->cap_samples, 2 * SERIES_KEEP + 1));
			site->cap_samples = MAX(site->cap_samples, (size_t)4);
			site->samples = xrealloc(site->samples,
						 site->cap_samples * sizeof(*site->samples));
		}
		memset(site->samples + site->nsamples, 0,
		       (want - site->nsamples) * sizeof(*site->samples));
		site->nsamples = want;
	}
	return &site->samples[want - 1];
}

const struct sample *site_at(const struct site *site, int i)
{
	static const struct sample zero;

	if (i < site->first)
		return NULL;
	/* Older than what is kept: its part is in the site's history (site_session). */
	if (i < site->base || (size_t)(i - site->base) >= site->nsamples)
		return &zero; /* or not reported that interval: nothing alive, nothing happened */
	return &site->samples[i - site->base];
}

void series_freed_from_books(struct series *s, enum view_kind view)
{
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		const struct sample *prev;
		struct sample *now;
		int64_t freed, freed_bytes;

		if (site->view != view)
			continue;
		now = site_now(s, site);
		prev = site_at(site, s->nintervals - 2);
		freed = (prev ? prev->live : 0) + (int64_t)now->created - now->live;
		freed_bytes = (prev ? prev->live_bytes : 0) + (int64_t)now->created_bytes -
			      now->live_bytes;
		/* Never negative: a site first seen alive (before attach) ended nothing. */
		now->freed = freed > 0 ? freed : 0;
		now->freed_bytes = freed_bytes > 0 ? freed_bytes : 0;
	}
}

void series_balance_books(struct series *s, enum view_kind view)
{
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		const struct sample *prev;
		struct sample *now;
		int64_t freed;

		if (site->view != view)
			continue;
		now = site_now(s, site);
		prev = site_at(site, s->nintervals - 2);
		freed = (prev ? prev->live : 0) + (int64_t)now->created - now->live;
		if (freed < 0) {
			now->created += -freed;
			freed = 0;
		}
		now->freed = freed;
	}
}

void site_add_group(struct series *s, struct site *site, const struct block_group *g)
{
	(void)s;
	if (site->ngroups == site->cap_groups) {
		site->cap_groups = site->cap_groups ? 2 * site->cap_groups : 4;
		site->groups = xrealloc(site->groups, site->cap_groups * sizeof(*site->groups));
	}
	site->groups[site->ngroups++] = *g;
}

void site_show(struct site *site, const uint64_t *pcs, int n, uint32_t flags)
{
	if (site->show_pcs == pcs && site->nshow == n)
		return;
	site->show_pcs = pcs;
	site->nshow = n;
	site->show_flags = flags;
}

void site_add_state(struct series *s, struct site *site, const char *state, int64_t n)
{
	(void)s;
	for (int i = 0; i < site->nstates; i++) {
		if (site->states[i].state == state) {
			site->states[i].n += n;
			return;
		}
	}
	site->states = xrealloc(site->states, (site->nstates + 1) * sizeof(*site->states));
	site->states[site->nstates++] = (struct state_count){state, n};
}
