// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "report/series.h"
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

void series_init(struct series *s)
{
	memset(s, 0, sizeof(*s));
	s->nbuckets = 1024;
	s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
	s->start_mono_ns = now_ns();
	s->start_wall_ns = wall_ns();
}

void series_free(struct series *s)
{
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		free(site->pcs);
		free(site->samples);
		free(site->states);
		free(site);
	}
	free(s->sites);
	free(s->buckets);
	free(s->intervals);
	memset(s, 0, sizeof(*s));
}

void series_next_interval(struct series *s)
{
	uint64_t mono = now_ns();
	uint64_t prev = s->nintervals ? s->intervals[s->nintervals - 1].mono_ns : s->start_mono_ns;
	struct interval *iv;

	s->intervals = xrealloc(s->intervals, (s->nintervals + 1) * sizeof(*s->intervals));
	iv = &s->intervals[s->nintervals++];
	iv->mono_ns = mono;
	iv->wall_ns = wall_ns();
	iv->seconds = (mono - prev) / 1e9;
	for (size_t i = 0; i < s->nsites; i++)
		s->sites[i]->nstates = 0;
}

void series_drop_interval(struct series *s)
{
	if (!s->nintervals)
		return;
	s->nintervals--;
	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		size_t keep = s->nintervals > site->first ? s->nintervals - site->first : 0;

		if (site->nsamples > keep)
			site->nsamples = keep;
	}
}

static uint64_t site_key(enum view_kind view, const uint64_t *pcs, int npcs, uint64_t start_pc,
			 uint32_t flags)
{
	uint64_t h = hash_bytes(pcs, npcs * sizeof(*pcs), view);

	h = hash_bytes(&start_pc, sizeof(start_pc), h);
	/* Pre-attach and no-stack goroutines with the same creation site are told apart. */
	return hash_bytes(&flags, sizeof(flags), h);
}

static void grow_buckets(struct series *s)
{
	size_t n = s->nbuckets * 2;
	struct site **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];
		size_t k = site->key & (n - 1);

		site->next_in_bucket = b[k];
		b[k] = site;
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

struct site *series_site(struct series *s, enum view_kind view, const uint64_t *pcs, int npcs,
			 uint64_t start_pc, uint32_t flags)
{
	uint64_t key = site_key(view, pcs, npcs, start_pc, flags);
	struct site *site;

	for (site = s->buckets[key & (s->nbuckets - 1)]; site; site = site->next_in_bucket)
		if (site->key == key && site->view == view && site->npcs == npcs &&
		    site->start_pc == start_pc && site->flags == flags &&
		    !memcmp(site->pcs, pcs, npcs * sizeof(*pcs)))
			return site;

	if (s->nsites >= s->nbuckets)
		grow_buckets(s);
	site = xcalloc(1, sizeof(*site));
	site->key = key;
	site->view = view;
	site->flags = flags;
	site->start_pc = start_pc;
	site->npcs = npcs;
	site->pcs = xmalloc(npcs * sizeof(*pcs) + 1);
	memcpy(site->pcs, pcs, npcs * sizeof(*pcs));
	site->first = s->nintervals ? s->nintervals - 1 : 0;
	site->next_in_bucket = s->buckets[key & (s->nbuckets - 1)];
	s->buckets[key & (s->nbuckets - 1)] = site;
	if (s->nsites == s->cap_sites) {
		s->cap_sites = s->cap_sites ? 2 * s->cap_sites : 256;
		s->sites = xrealloc(s->sites, s->cap_sites * sizeof(*s->sites));
	}
	s->sites[s->nsites++] = site;
	return site;
}

struct sample *site_now(struct series *s, struct site *site)
{
	size_t want = s->nintervals - site->first;

	if (site->nsamples < want) {
		site->samples = xrealloc(site->samples, want * sizeof(*site->samples));
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
	if ((size_t)(i - site->first) >= site->nsamples)
		return &zero; /* not reported that interval: nothing alive, nothing happened */
	return &site->samples[i - site->first];
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

const char *intern(const char *str)
{
	static char **v;
	static size_t n, cap;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], str))
			return v[i];
	if (n == cap) {
		cap = cap ? 2 * cap : 64;
		v = xrealloc(v, cap * sizeof(*v));
	}
	v[n] = xstrdup(str);
	return v[n++];
}
