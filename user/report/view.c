// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "report/pprof.h"
#include "report/report.h"

void view_note(struct view_info *vi, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vi->note, sizeof(vi->note), fmt, ap);
	va_end(ap);
}

void view_drop(struct view_info *vi, uint64_t n, const char *what, const char *flag, uint64_t now)
{
	size_t len = strlen(vi->drop_why);

	if (!n)
		return;
	vi->drops += n;
	if (len && len + 2 < sizeof(vi->drop_why)) {
		memcpy(vi->drop_why + len, "; ", 3);
		len += 2;
	}
	if (flag)
		snprintf(vi->drop_why + len, sizeof(vi->drop_why) - len,
			 "%llu %s (%s is %llu: raise it)", (unsigned long long)n, what, flag,
			 (unsigned long long)now);
	else
		snprintf(vi->drop_why + len, sizeof(vi->drop_why) - len, "%llu %s",
			 (unsigned long long)n, what);
}

void view_note_add(struct view_info *vi, const char *fmt, ...)
{
	size_t len = strlen(vi->note);
	va_list ap;

	if (len && len + 2 < sizeof(vi->note)) {
		memcpy(vi->note + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(vi->note + len, sizeof(vi->note) - len, fmt, ap);
	va_end(ap);
}

/*
 * Display frames of a site, built once and kept with the site: the symbolized
 * pcs, less compiler glue, less what the view's own hook cuts (its plumbing),
 * less the frames every stack ends in that are not news.
 */
/* Symbolized pcs, less compiler glue, inlined frames expanded once. */
static struct frames *stack_frames(const struct report_ctx *r, const uint64_t *pcs, int npcs,
				   bool frame0_is_pc)
{
	struct frames *out = xcalloc(1, sizeof(*out));

	for (int i = 0; i < npcs; i++) {
		bool is_return = !(i == 0 && frame0_is_pc);
		const struct frames *fr = symbolize_pc(r->sym, pcs[i], is_return);

		for (int j = 0; j < fr->n; j++) {
			/* Go's own tracebacks leave compiler glue out; so do we. */
			if (fr->v[j].wrapper && npcs > 1)
				continue;
			/*
			 * Stacks from the Go runtime (heap profile) carry a pc per inlined
			 * frame: the outer frame's call pc + 1. When the next pc is that one,
			 * the rest of this expansion comes from it, as in runtime.Frames.
			 */
			if (j > 0 && fr->v[j - 1].inlined && i + 1 < npcs &&
			    pcs[i + 1] == fr->v[j - 1].call_pc + 1)
				break;
			out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			out->v[out->n++] = fr->v[j];
		}
	}
	return out;
}

/* The frames every stack ends in that are not news. */
static void trim_outermost(struct frames *out)
{
	/* C's main is where the program starts; the libc frames outside it are not news. */
	for (int i = 0; i + 1 < out->n; i++)
		if (!out->v[i].inlined && out->v[i].func && !strcmp(out->v[i].func, "main")) {
			out->n = i + 1;
			break;
		}
	/* Every goroutine's stack ends in runtime.goexit: not information. */
	if (out->n > 1 && out->v[out->n - 1].func &&
	    !strcmp(out->v[out->n - 1].func, "runtime.goexit"))
		out->n--;
}

/*
 * Display frames of a site, built once and kept with the site (rebuilt when the
 * stack it shows changes): the symbolized pcs, less compiler glue, less what the
 * view's own hook cuts (its plumbing), less the frames every stack ends in.
 */
static const struct frames *site_frames(const struct report_ctx *r, struct site *site)
{
	const struct view_hooks *h = &r->views[site->view].hooks;
	const uint64_t *pcs = site->show_pcs ? site->show_pcs : site->pcs;
	int npcs = site->show_pcs ? site->nshow : site->npcs;
	uint32_t flags = site->show_pcs ? site->show_flags : site->flags;
	struct frames *out;

	if (site->symbolized && site->symbolized_for == pcs)
		return site->symbolized;
	if (site->symbolized) {
		free(((struct frames *)site->symbolized)->v);
		free(site->symbolized);
	}
	out = stack_frames(r, pcs, npcs, flags & SITE_FRAME0_IS_PC);
	if (h->trim)
		h->trim(h->ctx, site, out);
	trim_outermost(out);
	site->symbolized = out;
	site->symbolized_for = pcs;
	return out;
}

/* Display frames of a goroutine group's stack, built once per stack. */
static const struct frames *group_frames(const struct report_ctx *r, const struct site *site,
					 const struct block_group *g)
{
	/* By content (a source lets go of stacks no goroutine stands at any more, and
	 * their memory comes back as others); emptied when it holds many. */
	static struct hmap cache; /* content hash -> struct frames * */
	static size_t ncache;
	const struct view_hooks *h = &r->views[site->view].hooks;
	struct frames **slot;
	uint64_t key;
	bool created;

	if (!g->pcs)
		return NULL;
	if (ncache > 8192) {
		for (size_t it = 0; hmap_next(&cache, &it, NULL, (void **)&slot);) {
			free((*slot)->v);
			free(*slot);
		}
		hmap_free(&cache);
		ncache = 0;
	}
	if (!cache.slot_size)
		hmap_init(&cache, sizeof(key), sizeof(struct frames *));
	key = hash_bytes(g->pcs, g->npcs * sizeof(*g->pcs), g->npcs);
	slot = hmap_put(&cache, &key, &created);
	ncache += created;
	if (created) {
		*slot = stack_frames(r, g->pcs, g->npcs, true);
		if (h->trim_group)
			h->trim_group(h->ctx, g, *slot);
		trim_outermost(*slot);
	}
	return *slot;
}

/* The function a site's goroutines run: the view's answer, else the start pc's function. */
static const char *start_func(const struct report_ctx *r, struct site *site)
{
	const struct view_hooks *h = &r->views[site->view].hooks;
	const struct frames *fr;
	const char *name;

	if (site->start_name_done)
		return site->start_name;
	site->start_name_done = true;
	if (!site->start_pc)
		return NULL;
	name = h->start_func ? h->start_func(h->ctx, site) : NULL;
	if (name)
		return site->start_name = name;
	fr = symbolize_pc(r->sym, site->start_pc, false);
	/* The physical function is the last frame. */
	return site->start_name = fr->n ? fr->v[fr->n - 1].func : NULL;
}

/*
 * The session's slope as a row shows it (GROWTH/s, slope_per_s): the least-squares
 * slope of a site that rose and fell back is not growth, nor is a slope that tilts
 * against what the site did since attach. So: 0 unless it has the sign of that net
 * change (and none when the net is 0).
 */
static double growth_slope(double slope, int64_t net)
{
	return (net > 0 && slope > 0) || (net < 0 && slope < 0) ? slope : 0;
}

/*
 * History of one site over the session (series.c keeps it as running sums, so it
 * costs the same after hours). Sources report their full state every interval, so
 * a site first seen after attach had nothing before: its history starts at zero at
 * the baseline, and growth since attach is its whole count. Events count from
 * interval 1: at attach + created - freed = live now.
 */
static void fill_session(const struct report_ctx *rc, struct row *r)
{
	struct site_session ss;

	site_session(rc->series, r->site, &ss);
	r->live_first = ss.live_first;
	r->live_bytes_first = ss.live_bytes_first;
	r->grew = ss.grew;
	r->observed = ss.observed;
	r->created_total = ss.created;
	r->freed_total = ss.freed;
	r->created_bytes_total = ss.created_bytes;
	r->freed_bytes_total = ss.freed_bytes;
	/* The growth it claims is growth it has (r->now is the current interval's). */
	r->slope = growth_slope(ss.slope, r->now.live - r->live_first);
	r->bytes_slope = growth_slope(ss.bytes_slope, r->now.live_bytes - r->live_bytes_first);
}

/*
 * The style of the view being sorted: every row of a sort is of one view, and
 * reading it through each row's site costs a cache miss per comparison (most of a
 * report's time with 100,000 rows).
 */
static enum view_style sort_style;

/* The number a row is ranked by, for the interval or for the session. */
static double rank_key(const struct row *r, bool summary)
{
	switch (sort_style) {
	case STYLE_BYTES:
		return summary ? r->bytes_slope : r->net_bytes;
	case STYLE_RATE:
		return summary ? r->created_bytes_total : r->now.created_bytes;
	default:
		return r->net;
	}
}

/* Among equal growth: what holds the most, then what is busiest. */
static double hold_key(const struct row *r)
{
	return sort_style == STYLE_BYTES ? r->now.live_bytes : r->now.live;
}

static int cmp_keys(double kx, double ky)
{
	return kx == ky ? 0 : kx > ky ? -1 : 1;
}

/*
 * A row's ranking, apart: sorting 100,000 rows compares keys read from a compact
 * array, not from rows scattered over memory. The row's index breaks ties, which
 * keeps the order the rows were built in (stable).
 */
struct rank {
	double k[4]; /* the session's growth (summary only), the interval's, held, created */
	size_t i;
};

static int cmp_ranks(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	for (int j = 0; j < 4; j++) {
		int c = cmp_keys(x->k[j], y->k[j]);

		if (c)
			return c;
	}
	return x->i < y->i ? -1 : x->i > y->i;
}

static void sort_rows(struct view_rows *out, bool summary)
{
	struct rank *rk = xmalloc((out->n ? out->n : 1) * sizeof(*rk));

	for (size_t i = 0; i < out->n; i++) {
		const struct row *r = &out->v[i];

		rk[i] = (struct rank){{summary ? rank_key(r, true) : 0, rank_key(r, false),
				       hold_key(r), r->now.created},
				      i};
	}
	qsort(rk, out->n, sizeof(*rk), cmp_ranks);
	/* Row i of the result is row rk[i].i: move them along each cycle, in place (a
	 * second array of 100,000 rows would be tens of MiB at its peak). */
	for (size_t i = 0; i < out->n; i++) {
		struct row tmp;
		size_t j = i;

		if (rk[i].i == i)
			continue;
		tmp = out->v[i];
		while (rk[j].i != i) {
			size_t k = rk[j].i;

			out->v[j] = out->v[k];
			rk[j].i = j;
			j = k;
		}
		out->v[j] = tmp;
		rk[j].i = j;
	}
	free(rk);
}

void view_build(const struct report_ctx *rc, enum view_kind view, bool summary,
		struct view_rows *out)
{
	const struct series *ser = rc->series;
	int cur = ser->nintervals - 1;

	memset(out, 0, sizeof(*out));
	out->view = view;
	out->summary = summary;
	out->seconds = summary ? (ser->intervals[cur].mono_ns - ser->start_mono_ns) / 1e9
			       : ser->intervals[cur].seconds;
	out->v = xcalloc(ser->nsites ? ser->nsites : 1, sizeof(*out->v));
	for (size_t i = 0; i < ser->nsites; i++) {
		struct site *site = ser->sites[i];
		const struct sample *now, *prev;
		struct row *r;

		if (site->view != view)
			continue;
		now = site_at(site, cur);
		prev = site_at(site, cur - 1);
		if (!now)
			continue;
		out->tot.live += now->live;
		out->tot.live_prev += prev ? prev->live : 0;
		out->tot.live_bytes += now->live_bytes;
		out->tot.live_bytes_prev += prev ? prev->live_bytes : 0;
		if (summary) {
			/* Over the session, events are the session's, hidden rows' too. */
			struct site_session ss;

			site_session(ser, site, &ss);
			out->tot.created += ss.created;
			out->tot.freed += ss.freed;
			out->tot.created_bytes += ss.created_bytes;
			out->tot.freed_bytes += ss.freed_bytes;
		} else {
			out->tot.created += now->created;
			out->tot.freed += now->freed;
			out->tot.created_bytes += now->created_bytes;
			out->tot.freed_bytes += now->freed_bytes;
		}
		if ((site->flags & SITE_RUNTIME) && !rc->opts.show_runtime) {
			out->tot.hidden_live += now->live;
			continue;
		}
		r = &out->v[out->n];
		r->site = site;
		r->now = *now;
		r->live_prev = prev ? prev->live : 0;
		r->net = now->live - r->live_prev;
		r->net_bytes = now->live_bytes - (prev ? prev->live_bytes : 0);
		r->rate = out->seconds > 0 ? r->net / out->seconds : 0;
		r->bytes_rate = out->seconds > 0 ? r->net_bytes / out->seconds : 0;
		fill_session(rc, r);
		if (summary) {
			/* Over the session: net since attach. */
			r->net = now->live - r->live_first;
			r->net_bytes = now->live_bytes - r->live_bytes_first;
		}
		/* Rows with nothing alive and nothing happening are not worth a line. */
		if (!summary && !now->live && !now->live_bytes && !now->created && !now->freed &&
		    !r->net && !r->net_bytes)
			continue;
		if (summary && !now->live && !now->live_bytes && !r->created_total)
			continue;
		out->n++;
	}
	out->tot.nsites = out->n;
	sort_style = view_desc(view)->style;
	sort_rows(out, summary);
	out->shown = rc->opts.top > 0 ? MIN(out->n, (size_t)rc->opts.top) : out->n;
	for (size_t i = 0; i < out->shown; i++) {
		struct row *r = &out->v[i];

		r->frames = site_frames(rc, r->site);
		r->start_func = start_func(rc, r->site);
		/* The dump as of now (the latest interval), biggest group first. */
		if (r->site->ngroups) {
			r->groups = r->site->groups;
			r->ngroups = r->site->ngroups;
			r->group_frames = xcalloc(r->ngroups, sizeof(*r->group_frames));
			for (int k = 0; k < r->ngroups; k++)
				r->group_frames[k] = group_frames(rc, r->site, &r->groups[k]);
		}
	}
}

/* Student's t, two-sided 99 %, by degrees of freedom (1..30; beyond, toward 2.576). */
static double t99(size_t dof)
{
	static const double t[] = {63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355,
				   3.250,  3.169, 3.106, 3.055, 3.012, 2.977, 2.947, 2.921,
				   2.898,  2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797,
				   2.787,  2.779, 2.771, 2.763, 2.756, 2.750};

	if (!dof)
		return INFINITY;
	return dof <= ARRAY_SIZE(t) ? t[dof - 1] : 2.576 + 0.174 * ARRAY_SIZE(t) / dof;
}

/* A trend is not called with less than this share of its level changed over its span. */
#define TREND_MIN_SHARE 0.02

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (n > 0), reordering v. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * What the least-squares slope through n points (x rising) says: growing or
 * shrinking only when all of these hold, else flat (too few points: unknown).
 *  - The slope is clear: Student's t over its standard error, 99 %. A line through
 *    points that scatter about a level tilts either way, report after report.
 *  - The change it implies over the span is beyond the points' own band: four
 *    times their noise, sigma estimated robustly from the differences between
 *    successive points about the line (median |d| / (sqrt(2) * 0.6745)), so
 *    neither a trend nor one odd GC inflates it. A steady heap's points fill about
 *    that band; growth smaller than it over the whole window is not told apart.
 *  - It goes on: the median of the last third of the points is beyond the middle
 *    third's by more than one sigma, in the slope's direction, and beyond the
 *    first third's. A dip or a step early in the window (a stall, a warm-up),
 *    after which the level holds, tilts a line but is no trend.
 *  - The change is at least TREND_MIN_SHARE of the points' mean (a drift of a few
 *    KiB on a heap of hundreds is no trend).
 */
static enum trend_dir trend_dir(const double *x, const double *y, size_t n, double slope)
{
	double mx = 0, my = 0, sxx = 0, ssr = 0, change, se, sigma, first, mid, last, *w;
	size_t third = n / 3;
	bool clear;

	if (n < 3)
		return TREND_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		mx += x[i] / n;
		my += y[i] / n;
	}
	w = xmalloc(n * sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		double res = y[i] - (my + slope * (x[i] - mx));

		sxx += (x[i] - mx) * (x[i] - mx);
		ssr += res * res;
		if (i)
			w[i - 1] = fabs(res - (y[i - 1] - (my + slope * (x[i - 1] - mx))));
	}
	change = slope * (x[n - 1] - x[0]);
	se = sxx > 0 ? sqrt(ssr / (n - 2) / sxx) : INFINITY;
	sigma = median(w, n - 1) / (M_SQRT2 * 0.6745);
	clear = fabs(slope) > t99(n - 2) * se && fabs(change) > 4 * sigma &&
		fabs(change) >= TREND_MIN_SHARE * fabs(my);
	if (clear) {
		memcpy(w, y, third * sizeof(*w));
		first = median(w, third);
		memcpy(w, y + third, (n - 2 * third) * sizeof(*w));
		mid = median(w, n - 2 * third);
		memcpy(w, y + n - third, third * sizeof(*w));
		last = median(w, third);
		if (change < 0) {
			first = -first;
			mid = -mid;
			last = -last;
		}
		clear = last - mid > sigma && last > first;
	}
	free(w);
	if (!clear)
		return TREND_FLAT;
	return change > 0 ? TREND_GROWING : TREND_SHRINKING;
}

bool heap_trend_build(const struct report_ctx *r, struct heap_trend *t)
{
	const struct series *ser = r->series;
	const struct interval *now = &ser->intervals[ser->nintervals - 1];
	size_t ngc = now->ngc, before = ser->nintervals > 1 ? now[-1].ngc : 0, nobj = 0;
	double *x, *y;

	memset(t, 0, sizeof(*t));
	if (!now->heap.valid)
		return false;
	t->now = &now->heap;
	t->ngc = ngc;
	t->gcs_in_interval = ngc - MIN(before, ngc);
	/* The points kept: every GC since attach, or the last SERIES_GC_KEEP or more. */
	size_t lo = MIN(ser->gc_base, ngc), n = ngc - lo;

	t->ntrend = n;
	if (n) {
		t->first = series_gc(ser, lo);
		t->last = series_gc(ser, ngc - 1);
	}
	x = xmalloc((MAX(n, (size_t)ser->nintervals) + 1) * sizeof(double));
	y = xmalloc((MAX(n, (size_t)ser->nintervals) + 1) * sizeof(double));
	/* Growth of the live heap: least squares over the GC points kept. */
	for (size_t i = 0; i < n; i++) {
		const struct gc_point *p = series_gc(ser, lo + i);

		x[i] = (p->mono_ns - t->first->mono_ns) / 1e9;
		y[i] = p->heap_marked;
		t->heap_min = i ? MIN(t->heap_min, p->heap_marked) : p->heap_marked;
		t->heap_max = MAX(t->heap_max, p->heap_marked);
	}
	t->heap_slope = n >= 2 ? lsq_slope(x, y, n) : 0;
	t->heap_dir = trend_dir(x, y, n, t->heap_slope);
	/* HeapObjects: one point per interval that had it. */
	for (int i = 0; i < ser->nintervals; i++) {
		const struct interval *iv = &ser->intervals[i];

		if (!iv->heap.valid || !iv->heap.have_objects)
			continue;
		x[nobj] = (iv->mono_ns - ser->start_mono_ns) / 1e9;
		y[nobj] = iv->heap.objects;
		nobj++;
	}
	t->objects_slope = lsq_slope(x, y, nobj);
	t->objects_dir = trend_dir(x, y, nobj, t->objects_slope);
	free(x);
	free(y);
	return true;
}

void view_rows_free(struct view_rows *r)
{
	for (size_t i = 0; i < r->shown; i++)
		free(r->v[i].group_frames);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

const struct frames *report_site_frames(const struct report_ctx *r, struct site *site)
{
	return site_frames(r, site);
}

const char *report_start_func(const struct report_ctx *r, struct site *site)
{
	return start_func(r, site);
}

const struct frames *report_group_frames(const struct report_ctx *r, const struct site *site,
					 const struct block_group *g)
{
	return group_frames(r, site, g);
}

/* --pprof and --folded: each view's file for this report (complete when written). */
static void write_files(const struct report_ctx *r, const struct report_rows *rows)
{
	static bool warned;
	char path[4096], seq[16];

	if (rows->end == END_NONE)
		snprintf(seq, sizeof(seq), "%d", rows->seq);
	else
		snprintf(seq, sizeof(seq), "final");
	for (int i = 0; i < rows->nviews; i++) {
		const struct view_rows *vr = &rows->views[i];
		int err = 0;

		if (r->views[vr->view].off)
			continue;
		if (r->opts.pprof_dir) {
			snprintf(path, sizeof(path), "%s/%s.%s.pb.gz", r->opts.pprof_dir,
				 view_name(vr->view), seq);
			err = pprof_write_view(r, vr, path);
		}
		if (!err && r->opts.folded_prefix && rows->end != END_NONE) {
			snprintf(path, sizeof(path), "%s.%s.folded", r->opts.folded_prefix,
				 view_name(vr->view));
			err = folded_write_view(r, vr, path);
		}
		if (err && !warned) {
			log_warn("cannot write %s: %s (further files are tried, not reported)", path,
				 strerror(-err));
			warned = true;
		}
	}
}

int report_write(const struct report_ctx *r, FILE *out, enum report_end end)
{
	struct view_rows views[VIEW__MAX];
	struct report_rows rows = {.views = views, .end = end};
	struct heap_trend trend;
	int nsuspects;

	/* Interval 0 is the baseline taken at attach; reports start after it. A dump is
	 * its one interval. */
	if (r->series->nintervals < (r->opts.dump ? 1 : 2))
		return -1;
	rows.seq = r->opts.dump ? 1 : r->series->nintervals - 1;
	for (int v = 0; v < VIEW__MAX; v++) {
		if (!r->views[v].active)
			continue;
		view_build(r, v, end != END_NONE, &views[rows.nviews++]);
	}
	if (heap_trend_build(r, &trend))
		rows.trend = &trend;
	/* In use by stack off (no profile, or its data failed a check): no row, no total. */
	for (int i = 0; i < rows.nviews; i++)
		if (views[i].view == VIEW_GO_HEAP && (!rows.trend || !rows.trend->now->profiling)) {
			views[i].n = views[i].shown = 0;
			memset(&views[i].tot, 0, sizeof(views[i].tot));
		}
	suspects_find(r, &rows);
	write_files(r, &rows);
	if (r->opts.format == OUT_JSON)
		json_write(r, out, &rows);
	else
		text_write(r, out, &rows);
	fflush(out);
	nsuspects = rows.nsuspects;
	free(rows.suspects);
	for (int i = 0; i < rows.nviews; i++)
		view_rows_free(&views[i]);
	return nsuspects;
}
