// SPDX-License-Identifier: GPL-2.0
/*
 * Leak suspects: the rows a report leads with. A row is a suspect when it grows
 * steadily (see steady()) and one of the rules of thumb for its view holds. The
 * rules read only the series (every site's history) and the rows the views built,
 * so they run on recorded series in tests like the rest of the report path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "report/report.h"

/* The rules, in the order a row is tested against them (the first that holds wins). */
static const char *const rule_names[] = {
	[RULE_GOROUTINES_BLOCKED] = "goroutines-blocked-growth",
	[RULE_GOROUTINES_MANY] = "goroutines-many",
	[RULE_GOROUTINES_STUCK] = "goroutines-stuck",
	[RULE_HEAP_RATE] = "heap-rate",
	[RULE_HEAP_OBJECTS] = "heap-objects-growth",
	[RULE_HEAP_OBJECTS_TREND] = "heap-objects-trend",
	[RULE_NATIVE_GROWTH] = "native-growth",
	[RULE_THREADS_GROWTH] = "threads-growth",
};

const char *suspect_rule_name(enum suspect_rule r)
{
	return r < ARRAY_SIZE(rule_names) ? rule_names[r] : "?";
}

void suspect_opts_default(struct suspect_opts *o)
{
	*o = (struct suspect_opts){
		.window = 6,
		.min_reports = 3,
		.heap_bytes_per_min = 10e6,
		.objects_pct = 300,
		.heap_objects_per_s = 500,
		.goroutines = 5000,
		.goroutines_pct_per_min = 300,
		.stuck = 1000,
		.stuck_s = 600,
	};
}

/* How a site grew over the last intervals. */
struct growth {
	int n;		/* intervals looked at */
	int grew, shrank;
	int64_t first, last, max;
	double per_s;	/* least-squares slope over the window */
	int since;	/* the report its current run of growth started in */
	uint64_t freed;	  /* events that ended things in the window */
	uint64_t created; /* things made in the window */
};

static int64_t value(const struct sample *sm, bool bytes)
{
	return sm ? (bytes ? sm->live_bytes : sm->live) : 0;
}

static void measure(const struct series *ser, const struct site *site, bool bytes, int window,
		    struct growth *g)
{
	int cur = ser->nintervals - 1, from = MAX(0, cur - window);
	double x[64], y[64];
	int k = 0;

	memset(g, 0, sizeof(*g));
	g->first = g->max = value(site_at(site, from), bytes);
	for (int i = from; i <= cur && k < 64; i++, k++) {
		int64_t v = value(site_at(site, i), bytes);

		x[k] = (ser->intervals[i].mono_ns - ser->start_mono_ns) / 1e9;
		y[k] = v;
		g->max = MAX(g->max, v);
		if (i > from) {
			int64_t p = value(site_at(site, i - 1), bytes);
			const struct sample *sm = site_at(site, i);

			g->grew += v > p;
			g->shrank += v < p;
			g->freed += sm ? sm->freed : 0;
			g->created += sm ? (bytes ? sm->created_bytes : sm->created) : 0;
		}
		g->last = v;
	}
	g->n = cur - from;
	g->per_s = lsq_slope(x, y, k);
	/*
	 * The rate over a minute at least: the Go heap profile moves only at GCs, and a
	 * few steps in a short window over- or understate it.
	 */
	{
		uint64_t min_ns = 60000000000ull;
		int rfrom = from;

		while (rfrom > 0 && ser->intervals[cur].mono_ns - ser->intervals[rfrom].mono_ns < min_ns)
			rfrom--;
		k = 0;
		for (int i = rfrom; i <= cur && k < 64; i++, k++) {
			x[k] = (ser->intervals[i].mono_ns - ser->start_mono_ns) / 1e9;
			y[k] = value(site_at(site, i), bytes);
		}
		if (cur - rfrom >= 64)
			k = 0; /* more than the buffers hold: keep the window's */
		if (k)
			g->per_s = lsq_slope(x, y, k);
	}
	/* Since: back from now while it did not shrink, to the first report it grew in. */
	g->since = cur;
	for (int i = cur; i >= MAX(1, site->base); i--) { /* older than base read as 0 */
		int64_t v = value(site_at(site, i), bytes), p = value(site_at(site, i - 1), bytes);

		if (v < p)
			break;
		if (v > p)
			g->since = i;
	}
}

/*
 * Whether steady() can hold for floor: enough reports, and the window's net gain
 * (its last value less its first) at least floor. Two reads, where measure() walks
 * the window: most rows of a big view fail here.
 */
static bool may_grow(const struct series *ser, const struct site *site, bool bytes, int window,
		     int min_reports, int64_t floor)
{
	int cur = ser->nintervals - 1, from = MAX(0, cur - window);

	return cur - from >= min_reports &&
	       value(site_at(site, cur), bytes) - value(site_at(site, from), bytes) >= floor;
}

/*
 * Steady growth, never a one-off jump: over the window it grew in most intervals
 * (at least two, and a third of them: the Go heap moves only at GCs), shrank in at
 * most a quarter, ends at its high, and gained at least floor, 5 % of where it
 * started and 5 % of what it made meanwhile. Busy sites that make and end things go
 * up and down, and keep little of what they make: not steady, however busy.
 */
static bool steady(const struct growth *g, int min_reports, int64_t floor)
{
	int64_t net = g->last - g->first;

	return g->n >= min_reports && g->grew >= 2 && g->grew * 3 >= g->n && g->shrank * 4 <= g->n &&
	       g->last * 20 >= g->max * 19 && net >= floor && net * 20 >= g->first &&
	       (uint64_t)net * 20 >= g->created && g->per_s > 0;
}

/* The share of a goroutine row that waits (not runnable, running or in a syscall). */
static double waiting_share(const struct site *site)
{
	int64_t all = 0, waiting = 0;

	for (int i = 0; i < site->nstates; i++) {
		const char *st = site->states[i].state;

		all += site->states[i].n;
		if (strcmp(st, "runnable") && strcmp(st, "running") && strcmp(st, "syscall"))
			waiting += site->states[i].n;
	}
	return all ? (double)waiting / all : 0;
}

static double elapsed_since(const struct series *ser, int report)
{
	int cur = ser->nintervals - 1;

	return (ser->intervals[cur].mono_ns - ser->intervals[MAX(report - 1, 0)].mono_ns) / 1e9;
}

static void add(struct report_rows *rows, const struct report_ctx *rc, struct row *r,
		enum suspect_rule rule, const struct growth *g, bool bytes)
{
	struct suspect *s;

	rows->suspects = xrealloc(rows->suspects, (rows->nsuspects + 1) * sizeof(*s));
	s = &rows->suspects[rows->nsuspects++];
	memset(s, 0, sizeof(*s));
	s->view = r->site->view;
	s->rule = rule;
	s->row = r;
	s->live = r->now.live;
	s->live_bytes = r->now.live_bytes;
	s->since_report = g ? g->since : 0;
	s->since_s = g ? elapsed_since(rc->series, g->since) : 0;
	s->oldest_s = r->now.oldest_ns ? r->now.oldest_ns / 1e9 : -1;
	if (g && bytes) {
		struct growth c;

		measure(rc->series, r->site, false, rc->opts.sus.window, &c);
		s->bytes_per_min = g->per_s * 60;
		s->per_min = c.per_s * 60;
	} else if (g) {
		s->per_min = g->per_s * 60;
	}
	/* Goroutines: where most of them wait (the biggest group that waits), since when. */
	for (int k = 0; k < r->site->ngroups; k++)
		if (r->site->groups[k].waiting) {
			s->group = &r->site->groups[k];
			s->oldest_s = MAX(s->oldest_s, s->group->wait_max_s);
			break;
		}
}

/* Rows of a view that grow steadily, fastest first (for rules that name sites). */
static int cmp_rate(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : 0;
}

static void goroutine_rules(const struct report_ctx *rc, struct report_rows *rows,
			    struct view_rows *vr)
{
	const struct suspect_opts *o = &rc->opts.sus;
	const struct series *ser = rc->series;
	int cur = ser->nintervals - 1, from = MAX(0, cur - o->window);
	int64_t total_from = 0, total = vr->tot.live;
	double secs = (ser->intervals[cur].mono_ns - ser->intervals[from].mono_ns) / 1e9;
	bool many;

	/* The view's total at the start of the window: the sum over its sites. */
	for (size_t i = 0; i < ser->nsites; i++)
		if (ser->sites[i]->view == VIEW_GOROUTINES)
			total_from += value(site_at(ser->sites[i], from), false);
	many = total > o->goroutines && total_from > 0 && secs > 0 &&
	       (double)(total - total_from) / total_from * 100 * 60 / secs > o->goroutines_pct_per_min;

	for (size_t i = 0; i < vr->n; i++) {
		struct row *r = &vr->v[i];
		struct growth g;
		bool st = false;

		if (may_grow(ser, r->site, false, o->window, o->min_reports, 10)) {
			measure(ser, r->site, false, o->window, &g);
			st = steady(&g, o->min_reports, 10);
		}
		if (st && waiting_share(r->site) >= 0.9) {
			add(rows, rc, r, RULE_GOROUTINES_BLOCKED, &g, false);
			continue;
		}
		if (many && st) {
			add(rows, rc, r, RULE_GOROUTINES_MANY, &g, false);
			continue;
		}
		/* A pile-up that does not grow: many blocked at one place for long. */
		for (int k = 0; k < r->site->ngroups; k++) {
			const struct block_group *b = &r->site->groups[k];

			if (b->waiting && b->n >= o->stuck && !b->untimed && b->wait_min_s >= o->stuck_s) {
				add(rows, rc, r, RULE_GOROUTINES_STUCK, NULL, false);
				rows->suspects[rows->nsuspects - 1].group = b;
				rows->suspects[rows->nsuspects - 1].oldest_s = b->wait_max_s;
				break;
			}
		}
	}
}

static void go_heap_rules(const struct report_ctx *rc, struct report_rows *rows,
			  struct view_rows *vr)
{
	const struct suspect_opts *o = &rc->opts.sus;
	bool trend = rows->trend && rows->trend->objects_slope > o->heap_objects_per_s;
	double(*growing)[2] = xcalloc(vr->n + 1, sizeof(*growing));
	size_t ngrowing = 0;

	for (size_t i = 0; i < vr->n; i++) {
		struct row *r = &vr->v[i];
		struct growth gb, gc;

		if (!may_grow(rc->series, r->site, true, o->window, o->min_reports, 1 << 20) &&
		    !may_grow(rc->series, r->site, false, o->window, o->min_reports, 100))
			continue;
		measure(rc->series, r->site, true, o->window, &gb);
		measure(rc->series, r->site, false, o->window, &gc);
		if (steady(&gb, o->min_reports, 1 << 20) && gb.per_s * 60 >= o->heap_bytes_per_min) {
			add(rows, rc, r, RULE_HEAP_RATE, &gb, true);
			continue;
		}
		/* Objects up more than objects_pct over the session (from at least 100). */
		if (steady(&gc, o->min_reports, 100) && r->now.live >= 100 &&
		    (double)r->now.live > (1 + o->objects_pct / 100) * MAX(r->live_first, 1)) {
			add(rows, rc, r, RULE_HEAP_OBJECTS, &gb, true);
			continue;
		}
		if (trend && steady(&gc, o->min_reports, 100)) {
			growing[ngrowing][0] = gc.per_s;
			growing[ngrowing][1] = i;
			ngrowing++;
		}
	}
	/* HeapObjects rising fast: the sites whose objects grow most (up to three). */
	qsort(growing, ngrowing, sizeof(*growing), cmp_rate);
	for (size_t j = 0; j < MIN(ngrowing, (size_t)3); j++) {
		struct row *r = &vr->v[(size_t)growing[j][1]];
		struct growth gb;

		measure(rc->series, r->site, true, o->window, &gb);
		add(rows, rc, r, RULE_HEAP_OBJECTS_TREND, &gb, true);
	}
	free(growing);
}

static void native_rules(const struct report_ctx *rc, struct report_rows *rows,
			 struct view_rows *vr)
{
	const struct suspect_opts *o = &rc->opts.sus;
	const struct series *ser = rc->series;
	int cur = ser->nintervals - 1, from = MAX(0, cur - o->window);
	double window_s = (ser->intervals[cur].mono_ns - ser->intervals[from].mono_ns) / 1e9;

	for (size_t i = 0; i < vr->n; i++) {
		struct row *r = &vr->v[i];
		struct growth g;

		if (!may_grow(ser, r->site, true, o->window, o->min_reports, 64 << 10))
			continue;
		measure(ser, r->site, true, o->window, &g);
		if (!steady(&g, o->min_reports, 64 << 10))
			continue;
		/* Exact tracing knows the oldest block's age: it must have outlived most of
		 * the window (memory that is recycled is young). */
		if (vr->view == VIEW_NATIVE_HEAP && r->now.oldest_ns &&
		    r->now.oldest_ns / 1e9 < window_s / 2)
			continue;
		add(rows, rc, r, RULE_NATIVE_GROWTH, &g, true);
	}
}

static void thread_rules(const struct report_ctx *rc, struct report_rows *rows,
			 struct view_rows *vr)
{
	const struct suspect_opts *o = &rc->opts.sus;

	for (size_t i = 0; i < vr->n; i++) {
		struct row *r = &vr->v[i];
		struct growth g;

		if (r->site->flags & SITE_PRE_ATTACH)
			continue; /* threads that existed before attach do not grow */
		if (!may_grow(rc->series, r->site, false, o->window, o->min_reports, 2))
			continue;
		measure(rc->series, r->site, false, o->window, &g);
		if (steady(&g, o->min_reports, 2) && !g.freed)
			add(rows, rc, r, RULE_THREADS_GROWTH, &g, false);
	}
}

/*
 * Where a suspect is: the first frame of its stack that is not the allocator or
 * the system's libraries (malloc, operator new, pthread_create and what calls
 * them inside libc; Go's runtime: mallocgc, growslice, a map growing, called by
 * the program), the view's own frame otherwise; a stack all in Go's runtime is
 * named by what called its allocator (runtime.malg: a goroutine's g).
 */
static const struct frame *own_frame(const struct frames *fr)
{
	static const char *const sys_modules[] = {"libc.so", "libc-", "libstdc++", "libpthread",
						  "ld-linux", "libgcc_s", "libjemalloc",
						  "libtcmalloc", "libmimalloc"};
	static const char *const sys_funcs[] = {"malloc", "calloc", "realloc", "reallocarray",
						"memalign", "aligned_alloc", "posix_memalign",
						"valloc", "pvalloc", "mmap", "pthread_create",
						"operator new", "strdup", "strndup"};

	if (!fr || !fr->n)
		return NULL;
	for (int i = 0; i < fr->n; i++) {
		const struct frame *f = &fr->v[i];
		bool sys = false;

		for (size_t k = 0; k < ARRAY_SIZE(sys_modules) && f->module && !sys; k++)
			sys = !strncmp(f->module, sys_modules[k], strlen(sys_modules[k]));
		for (size_t k = 0; k < ARRAY_SIZE(sys_funcs) && f->func && !sys; k++)
			sys = !strncmp(f->func, sys_funcs[k], strlen(sys_funcs[k])) &&
			      (!f->func[strlen(sys_funcs[k])] || f->func[strlen(sys_funcs[k])] == '(');
		if (!sys && f->func)
			sys = !strncmp(f->func, "runtime.", 8) || !strncmp(f->func, "internal/runtime/", 17);
		if (!sys && f->func)
			return f;
	}
	for (int i = 0; i < fr->n; i++)
		if (fr->v[i].func && strncmp(fr->v[i].func, "runtime.mallocgc", 16))
			return &fr->v[i];
	return &fr->v[0];
}

void suspects_find(const struct report_ctx *rc, struct report_rows *rows)
{
	rows->suspects = NULL;
	rows->nsuspects = 0;
	rows->suspects_ready = rc->series->nintervals - 1 >= rc->opts.sus.min_reports;
	if (rc->opts.sus.off || rc->opts.dump || !rows->suspects_ready)
		return;
	for (int i = 0; i < rows->nviews; i++) {
		struct view_rows *vr = &rows->views[i];

		switch (vr->view) {
		case VIEW_GOROUTINES:
			goroutine_rules(rc, rows, vr);
			break;
		case VIEW_GO_HEAP:
			go_heap_rules(rc, rows, vr);
			break;
		case VIEW_NATIVE_HEAP:
		case VIEW_NATIVE_GROWTH:
			native_rules(rc, rows, vr);
			break;
		case VIEW_THREADS:
			thread_rules(rc, rows, vr);
			break;
		default:
			break;
		}
	}
	/* Everything the writers print of a suspect: its frames and name. */
	for (int i = 0; i < rows->nsuspects; i++) {
		struct suspect *s = &rows->suspects[i];

		if (!s->row->frames)
			s->row->frames = report_site_frames(rc, s->row->site);
		s->at = s->view == VIEW_GOROUTINES ? (s->row->frames && s->row->frames->n
							      ? &s->row->frames->v[0]
							      : NULL)
						   : own_frame(s->row->frames);
		if (!s->row->start_func && s->view == VIEW_GOROUTINES)
			s->row->start_func = report_start_func(rc, s->row->site);
		if (s->group)
			s->group_frames = report_group_frames(rc, s->row->site, s->group);
	}
}
