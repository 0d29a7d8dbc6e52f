/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-stack series for the whole session: every source (goroutines, Go heap,
 * native heap, threads) reports, each interval, the full state of each of its
 * sites (a site = one stack in one view) and the events since the previous
 * interval. Growth is computed from this history, never from BPF maps, so the
 * report path can be fed recorded series in tests.
 */
#ifndef LEAKSCOPE_SERIES_H
#define LEAKSCOPE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hashmap.h"

enum view_kind {
	VIEW_GOROUTINES,
	VIEW_GO_HEAP,	    /* in-use heap by allocation stack (the runtime's heap profile) */
	VIEW_GO_ALLOC,	    /* profiling off: estimated allocation rate from allocator samples */
	VIEW_NATIVE_HEAP,   /* outstanding malloc-family allocations */
	VIEW_NATIVE_GROWTH, /* low-overhead mode: memory growth attributed from rare events */
	VIEW_THREADS,
	VIEW__MAX,
};

/* How a view's sites are ranked and printed. */
enum view_style {
	STYLE_COUNT, /* live things: ranked by net count (goroutines, threads) */
	STYLE_BYTES, /* live memory: ranked by net bytes (heaps, growth) */
	STYLE_RATE,  /* nothing live, only a rate: ranked by created_bytes (sampled allocation) */
};

struct view_desc {
	const char *name;	/* JSON "view", --what */
	const char *title;	/* text report heading */
	enum view_style style;
	const char *things;	/* "goroutines", "allocations", "threads" */
	const char *created;	/* column labels for created/freed: "CREATED", "ALLOCS" */
	const char *freed;
	const char *site_label; /* what the stack under a row is: "allocated at" */
};

const struct view_desc *view_desc(enum view_kind v);
const char *view_name(enum view_kind v); /* "goroutines", "go-heap", ... (JSON "view") */

enum site_flags {
	SITE_PRE_ATTACH = 1 << 0, /* goroutines that existed before attach: creation site only */
	SITE_NO_STACK = 1 << 1,	  /* created while attached, but its stack was not captured */
	SITE_RUNTIME = 1 << 2,	  /* the Go runtime's own goroutines (not in NumGoroutine) */
	SITE_FRAME0_IS_PC = 1 << 3, /* pcs[0] is an instruction address, not a return address */
	SITE_MAIN_THREAD = 1 << 4,  /* a program leakscope started: its main thread */
};

/* One interval's state of one site. */
struct sample {
	int64_t live;	    /* goroutines / objects / threads alive at the end of the interval */
	int64_t live_bytes; /* bytes those objects hold (heap views) */
	uint64_t created, freed;	     /* events during the interval */
	uint64_t created_bytes, freed_bytes; /* their bytes (heap views) */
	uint64_t oldest_ns;		     /* age of the oldest live object, 0 if unknown */
	/* Since the program started, when the source knows (pprof's alloc_* view). */
	uint64_t total_created, total_created_bytes;
	int64_t pre_live; /* of live, how many existed before attach (goroutines) */
	double live_bytes_var; /* --mode sampled: variance of the live_bytes estimate */
};

struct state_count {
	const char *state; /* interned: "chan receive", "running", ... */
	int64_t n;
};

/*
 * Goroutines of a site doing the same thing now (the goroutine dump): one state,
 * one stack where they stand. Rebuilt every interval.
 */
struct block_group {
	const char *state;   /* interned: "chan receive", "runnable", ... */
	const uint64_t *pcs; /* innermost first, pcs[0] an instruction; NULL when not read.
			      * Owned by the source, stable for the session. */
	int npcs;
	int64_t n;			/* goroutines; scaled when sampled */
	double wait_min_s, wait_max_s; /* blocked for (GC resolution); < 0 when unknown */
	bool sampled;			/* n scaled from the goroutines that were read */
	bool waiting;			/* parked on something (a wait reason), not runnable */
	int64_t untimed; /* waiting ones no GC has timed yet (blocked since the last GC) */
};

/*
 * Samples are kept for the last SERIES_KEEP intervals (what the suspects look at);
 * what the session needs of older ones is folded into running sums, so a session
 * of hours holds a bounded amount per site.
 */
#define SERIES_KEEP 128

/* A site's history over the intervals folded so far (all but the current one). */
struct site_history {
	int64_t live_first, live_bytes_first; /* at interval 0 (0 for sites born since) */
	int64_t prev_live;		      /* at the last folded interval */
	int grew;			      /* intervals in which live grew */
	uint64_t created, freed, created_bytes, freed_bytes; /* since interval 1 */
	double sy, sxy, syb, sxyb; /* least squares: live and bytes against time */
};

/* What every site's history shares: the times of the folded intervals. */
struct series_history {
	int n;
	double sx, sxx;
};

struct site {
	uint64_t key;
	enum view_kind view;
	uint32_t flags;
	uint64_t *pcs; /* runtime addresses, innermost first */
	int npcs;
	uint64_t start_pc; /* goroutines: entry of the function the goroutine runs */
	int first;	   /* index of the first interval this site was seen in */
	/* The last SERIES_KEEP intervals or more: samples[k] is interval base + k. */
	struct sample *samples;
	size_t nsamples, cap_samples;
	int base;
	struct site_history hist; /* every interval before the current one, folded */
	struct state_count *states; /* goroutine states in the latest interval */
	int nstates;
	struct block_group *groups; /* the latest interval's dump of the site, by count */
	int ngroups, cap_groups;
	/* The stack shown for the site when it is not its key (a go statement's rows show
	 * the creation stack that made most of them). */
	const uint64_t *show_pcs;
	int nshow;
	uint32_t show_flags; /* SITE_FRAME0_IS_PC for show_pcs */
	void *symbolized;	      /* cached display frames (report/view.c) */
	const void *symbolized_for;   /* the stack they were built from */
	const char *start_name; /* cached name of the function at start_pc */
	bool start_name_done;
};

/* One GC cycle of a Go program as seen from outside. */
struct gc_point {
	uint64_t mono_ns;
	uint64_t heap_marked; /* live heap after the cycle's mark */
	uint32_t numgc;	      /* cycle number since the program started */
};

/*
 * The Go heap's scalar state at the end of an interval (the MemStats view,
 * without code in the target), beside the GC points of the series.
 */
struct heap_state {
	bool valid;		 /* a Go heap source reported */
	bool gc_off;		 /* the GC points failed a check: none is shown */
	bool profiling;		 /* in-use by stack available (the runtime's heap profile) */
	int64_t profile_rate;	 /* runtime.MemProfileRate */
	uint64_t marked_before;	 /* live heap after the last GC before attach */
	bool have_marked_before;
	uint32_t numgc;		 /* GC count */
	bool have_numgc;
	int64_t objects;	 /* HeapObjects (memstats.heapStats) */
	bool have_objects;
	double alloc_rate;	 /* bytes allocated per second */
	bool have_alloc_rate;
};

struct interval {
	uint64_t wall_ns;    /* end of the interval, wall clock */
	uint64_t mono_ns;    /* end of the interval, monotonic */
	double seconds;	     /* its length */
	size_t ngc;	     /* GC points of the series up to the end of this interval */
	struct heap_state heap;
};

struct series {
	struct interval *intervals;
	int nintervals; /* the current interval is nintervals - 1 */
	struct hmap by_key;  /* struct site * -> (nothing): sites by content */
	struct site **sites; /* insertion order, for stable iteration */
	size_t nsites;
	/* The GC cycles seen since attach: ngc of them, the last SERIES_GC_KEEP at least
	 * kept (a busy program collects many times a second, for hours), gc[0] being the
	 * gc_base-th. Read through series_gc(). */
	struct gc_point *gc;
	size_t ngc, gc_base, cap_gc;
	size_t cap_sites;
	uint64_t start_mono_ns, start_wall_ns;
	struct series_history hist; /* the intervals folded into every site's history */
};

#define SERIES_GC_KEEP 2048

/* GC point I (0: the first since attach), NULL when it is no longer kept. */
static inline struct gc_point *series_gc(const struct series *s, size_t i)
{
	return i >= s->gc_base && i < s->ngc ? &s->gc[i - s->gc_base] : NULL;
}


void series_init(struct series *s);
void series_free(struct series *s);

/* Start a new interval ending now; every site's sample for it starts as zero. */
void series_next_interval(struct series *s);
/* The same, keeping the states and groups of the views in keep_views (VIEW_BIT mask). */
void series_next_interval_keeping(struct series *s, uint32_t keep_views);
/* The current interval of view's sites as the previous one left them, no events:
 * for a source that cannot look again (the target exited). */
void series_carry_forward(struct series *s, enum view_kind view);

/* Forget the current interval (the target vanished while it was being collected). */
void series_drop_interval(struct series *s);

/* A GC cycle seen during the current interval. */
struct gc_point *series_add_gc(struct series *s, uint64_t mono_ns, uint64_t heap_marked,
			       uint32_t numgc);
/* The current interval (nintervals - 1). */
struct interval *series_now(struct series *s);

/* Find or create the site for (view, pcs, start_pc). */
struct site *series_site(struct series *s, enum view_kind view, const uint64_t *pcs, int npcs,
			 uint64_t start_pc, uint32_t flags);

/* The current interval's sample of a site (created zeroed). */
struct sample *site_now(struct series *s, struct site *site);
/* Sample of interval i, or NULL when the site did not exist then (it had nothing). */
const struct sample *site_at(const struct site *site, int i);

/* A site's session so far, the current interval included (view.c's history columns). */
struct site_session {
	int64_t live_first, live_bytes_first;
	int grew, observed;
	uint64_t created, freed, created_bytes, freed_bytes;
	double slope, bytes_slope; /* least squares, per second */
};
void site_session(const struct series *s, const struct site *site, struct site_session *out);

/*
 * For sources that see what is created and what is alive but not each end (a
 * goroutine's exit, a block's free): every site of view gets, for the current
 * interval, freed = alive before + created - alive now (and the same in bytes).
 */
void series_freed_from_books(struct series *s, enum view_kind view);
/*
 * The same, for a view whose creations may go unseen (a map full, a probe placed
 * after the fact): what is alive and was not before, nor created, was created all
 * the same. For every site, alive before + created - freed = alive now.
 */
void series_balance_books(struct series *s, enum view_kind view);

/* Add a group to the site's current dump (reset each interval). */
void site_add_group(struct series *s, struct site *site, const struct block_group *g);
/* The stack to show for the site (site->pcs unless the source set show_pcs). */
void site_show(struct site *site, const uint64_t *pcs, int n, uint32_t flags);

/* Add n goroutines in state to the site's current breakdown (reset each interval). */
void site_add_state(struct series *s, struct site *site, const char *state, int64_t n);

#endif
