// SPDX-License-Identifier: GPL-2.0
/*
 * The human report: a header line, then per view a totals line, caveats, and the
 * top stacks, each as one line of numbers followed by its frames. Column sets
 * follow the view's style (counts, bytes, or a sampled rate).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "report/report.h"

/* 1234567 -> "1,234,567" (with sign when asked); buffers rotate for use in one printf. */
static const char *num(int64_t v, bool sign)
{
	static char bufs[16][32];
	static int k;
	char *b = bufs[k++ & 15], tmp[32];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int n = 0, len = 0;

	if (sign && v == 0)
		return "0";
	do {
		if (n % 4 == 3)
			tmp[n++] = ',';
		tmp[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		b[len++] = '-';
	else if (sign)
		b[len++] = '+';
	while (n)
		b[len++] = tmp[--n];
	b[len] = 0;
	return b;
}

/* Bytes for humans: 512 B, 3.2 KiB, -41.0 MiB. */
static const char *bytes(double v, bool sign)
{
	static char bufs[16][32];
	static int k;
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	char *b = bufs[k++ & 15];
	double a = v < 0 ? -v : v;
	int u = 0;

	if (sign && a < 0.5)
		return "0";
	while (a >= 1024 && u < 4) {
		a /= 1024;
		u++;
	}
	snprintf(b, 32, "%s%.*f %s", v < 0 ? "-" : (sign ? "+" : ""), u ? 1 : 0, a, units[u]);
	return b;
}

/* What rounds to zero prints as 0.0, never -0.0. */
static double tidy(double v)
{
	return v > -0.05 && v < 0.05 ? 0 : v;
}

static int frame_name(char *buf, size_t len, const struct frame *f)
{
	if (f->func)
		return snprintf(buf, len, "%s", f->func);
	return snprintf(buf, len, "%s+0x%" PRIx64, f->module[0] ? f->module : "?", f->module_off);
}

static void print_frame(FILE *out, const struct frame *f, int width)
{
	char name[256];

	frame_name(name, sizeof(name), f);
	fprintf(out, "        %-*s", f->file ? width : 0, name);
	if (f->file)
		fprintf(out, "  %s:%d", f->file, f->line);
	else if (f->func && f->module[0])
		fprintf(out, "  (%s)", f->module);
	if (f->inlined)
		fputs("  (inlined)", out);
	fputc('\n', out);
}

static void print_frames(const struct report_ctx *rc, FILE *out, const struct row *r)
{
	int max = rc->opts.max_depth, n = r->frames ? r->frames->n : 0, width = 0;
	char name[256];

	/* Function names in one column, file:line in the next. */
	for (int i = 0; i < n && i < max; i++)
		width = MAX(width, MIN(frame_name(name, sizeof(name), &r->frames->v[i]), 60));
	for (int i = 0; i < n && i < max; i++)
		print_frame(out, &r->frames->v[i], width);
	if (n > max)
		fprintf(out, "        ... %d more frames (--depth to show them)\n", n - max);
	if (!n && r->site->view == VIEW_GOROUTINES)
		fputs("        (no go statement: started by the runtime itself)\n", out);
	else if (!n && r->site->view != VIEW_THREADS) /* for threads the title says why */
		fputs("        (no stack)\n", out);
}

static void print_states(FILE *out, const struct site *site)
{
	/* Most common first; three of them, the rest summed. */
	struct state_count st[16];
	int n = MIN(site->nstates, 16), shown = 0;
	int64_t rest = 0;

	if (n) /* a site without states has no array: memcpy's source is declared non-null */
		memcpy(st, site->states, n * sizeof(*st));
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (st[j].n > st[i].n) {
				struct state_count t = st[i];

				st[i] = st[j];
				st[j] = t;
			}
	for (int i = 0; i < n; i++) {
		if (shown == 3) {
			rest += st[i].n;
			continue;
		}
		fprintf(out, "%s%s %s", shown ? ", " : "", st[i].state, num(st[i].n, false));
		shown++;
	}
	if (rest)
		fprintf(out, ", other %s", num(rest, false));
}

static void row_title(const struct report_ctx *rc, FILE *out, const struct row *r)
{
	const struct site *site = r->site;
	const char *fn = r->start_func ? r->start_func : "?";

	if (site->view == VIEW_THREADS) {
		if (site->flags & SITE_PRE_ATTACH)
			fputs("      threads that existed before attach (no creation stack):\n", out);
		else if (site->flags & SITE_MAIN_THREAD)
			fputs("      the program's main thread (started with it):\n", out);
		else if (site->flags & SITE_NO_STACK)
			fputs("      threads created while attached, creation stack not captured:\n", out);
		else
			fputs("      threads created at:\n", out);
		return;
	}
	if (site->view != VIEW_GOROUTINES) {
		fprintf(out, "      %s:\n", view_desc(site->view)->site_label);
		return;
	}
	/* A row is a go statement: the creation stack that made most of its goroutines. */
	if (rc->opts.dump)
		fprintf(out, "      goroutines running %s, created by:\n", fn);
	else if (site->show_pcs && r->now.pre_live)
		fprintf(out, "      goroutines running %s, created at (%s of them before attach):\n",
			fn, num(r->now.pre_live, false));
	else if (site->show_pcs)
		fprintf(out, "      goroutines running %s, created at:\n", fn);
	else if (r->now.pre_live && r->now.pre_live == r->now.live)
		fprintf(out, "      goroutines running %s, created before attach by:\n", fn);
	else
		fprintf(out, "      goroutines running %s, creation stack not captured; go statement:\n",
			fn);
}

/* 45s, 3m10s, 2h05m. */
static const char *duration(double s, char *buf, size_t len)
{
	long v = s + 0.5;

	if (v < 60)
		snprintf(buf, len, "%lds", v);
	else if (v < 3600)
		snprintf(buf, len, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
	return buf;
}

#define GROUPS_SHOWN 4

/* The goroutine dump of a row: what its goroutines do now, one line a group. */
/*
 * Whether a frame is the standard library's: its package path has no dot in its
 * first element (Go's rule for std) and is not main, and its file lies in the Go
 * tree of the runtime's own frames (root: ".../go/src/", NULL when not known, as
 * under -trimpath). Packages pushed by linkname (sync.runtime_Semacquire is in
 * runtime/sema.go) are std by both.
 */
static bool std_frame(const struct frame *f, const char *root, size_t rootlen)
{
	const char *fn = f->func, *slash, *dot;
	size_t n;

	if (!fn)
		return false;
	slash = strrchr(fn, '/');
	dot = strchr(slash ? slash : fn, '.');
	if (!dot)
		return false;
	n = dot - fn;
	if ((n == 4 && !strncmp(fn, "main", 4)) || memchr(fn, '.', MIN(n, strcspn(fn, "/"))))
		return false;
	return !root || !f->file || !strncmp(f->file, root, rootlen);
}

/* Where a group is: its first frame outside the standard library, else outside the
 * runtime, else the outermost. */
static const struct frame *group_at(const struct frames *fr)
{
	const char *root = NULL, *p;
	size_t rootlen = 0;

	if (!fr || !fr->n)
		return NULL;
	for (int j = 0; j < fr->n && !root; j++)
		if (fr->v[j].func && fr->v[j].file && !strncmp(fr->v[j].func, "runtime.", 8) &&
		    (p = strstr(fr->v[j].file, "/src/runtime/"))) {
			root = fr->v[j].file;
			rootlen = p + 5 - root;
		}
	for (int j = 0; j < fr->n; j++)
		if (!std_frame(&fr->v[j], root, rootlen))
			return &fr->v[j];
	for (int j = 0; j < fr->n; j++)
		if (!fr->v[j].func || strncmp(fr->v[j].func, "runtime.", 8))
			return &fr->v[j];
	return &fr->v[fr->n - 1];
}

/*
 * The dump of a row: one line per group of its goroutines (what they wait on, since
 * when, where), its frames up to --depth under it. Returns whether a wait time was
 * shown or unknown, for the footnote.
 */
static bool print_groups(const struct report_ctx *rc, FILE *out, const struct row *r)
{
	int max = rc->opts.max_depth;
	bool waits = false;

	if (!r->ngroups)
		return false;
	fputs("      where they are now:\n", out);
	for (int k = 0; k < r->ngroups && k < GROUPS_SHOWN; k++) {
		const struct block_group *g = &r->groups[k];
		const struct frames *fr = r->group_frames[k];
		const struct frame *at = group_at(fr);
		char a[32], b[32];

		fprintf(out, "        %s%9s  %s", g->sampled ? "~" : " ", num(g->n, false), g->state);
		if (g->waiting && g->wait_max_s >= 0 && g->wait_min_s >= 0) {
			duration(g->wait_min_s, a, sizeof(a));
			duration(g->wait_max_s, b, sizeof(b));
			if (strcmp(a, b))
				fprintf(out, "  blocked %s-%s", a, b);
			else
				fprintf(out, "  blocked %s", a);
			if (g->untimed)
				fprintf(out, " (%s since the last GC)", num(g->untimed, false));
			waits = true;
		} else if (g->waiting) {
			fputs("  blocked ?", out);
			waits = true;
		}
		if (at) {
			fprintf(out, "  at %s", at->func ? at->func : "?");
			if (at->file)
				fprintf(out, "  %s:%d", at->file, at->line);
		} else if (g->waiting || !strcmp(g->state, "runnable")) {
			fputs("  (stack not readable)", out);
		}
		fputc('\n', out);
		for (int j = 0; fr && j < fr->n && j < max; j++) {
			char name[256];

			frame_name(name, sizeof(name), &fr->v[j]);
			fprintf(out, "            %s", name);
			if (fr->v[j].file)
				fprintf(out, "  %s:%d", fr->v[j].file, fr->v[j].line);
			if (fr->v[j].inlined)
				fputs("  (inlined)", out);
			fputc('\n', out);
		}
	}
	if (r->ngroups > GROUPS_SHOWN)
		fprintf(out, "        ... %d more groups\n", r->ngroups - GROUPS_SHOWN);
	if (r->ngroups && r->groups[0].sampled)
		fputs("        (~: scaled from the goroutines read, --unwind-max reads more)\n", out);
	return waits;
}

static void totals_line(const struct report_ctx *rc, FILE *out, const struct view_rows *vr)
{
	const struct view_desc *d = view_desc(vr->view);
	const struct view_totals *t = &vr->tot;
	double secs = vr->seconds > 0 ? vr->seconds : 1;
	uint64_t created = t->created, freed = t->freed, created_bytes = t->created_bytes,
		 freed_bytes = t->freed_bytes;

	fprintf(out, "%s  ", d->title);
	switch (d->style) {
	case STYLE_COUNT:
		fprintf(out, "%s %s", num(t->live, false), vr->summary ? "live now" : "live");
		if (rc->opts.dump)
			break; /* one snapshot: no rates */
		if (!vr->summary)
			fprintf(out, " (%s)", num(t->live - t->live_prev, true));
		fprintf(out, "   %s %.1f/s   %s %.1f/s", d->created, created / secs, d->freed,
			freed / secs);
		break;
	case STYLE_BYTES:
		fprintf(out, "%s%s in %s %s", rc->views[vr->view].sample_bytes ? "~" : "",
			bytes(t->live_bytes, false), num(t->live, false), d->things);
		if (!vr->summary)
			fprintf(out, " (%s)", bytes(t->live_bytes - t->live_bytes_prev, true));
		fprintf(out, "   %s %s/s   %s %s/s", d->created, bytes(created_bytes / secs, false),
			d->freed, bytes(freed_bytes / secs, false));
		break;
	case STYLE_RATE:
		fprintf(out, "%s/s estimated   %s %s", bytes(created_bytes / secs, false),
			num(created, false), d->things);
		break;
	}
	if (t->hidden_live)
		fprintf(out, "   [%s runtime %s not shown]", num(t->hidden_live, false), d->things);
	fputc('\n', out);
}

/* What the last column of a count view breaks each row down by. */
static const char *breakdown(enum view_kind view, bool summary)
{
	if (view == VIEW_GOROUTINES)
		return summary ? "STATE NOW" : "STATE";
	if (view == VIEW_THREADS)
		return summary ? "NAMES NOW" : "NAMES";
	return "";
}

static void columns(const struct report_ctx *rc, FILE *out, const struct view_rows *vr)
{
	const struct view_desc *d = view_desc(vr->view);

	if (rc->opts.dump && d->style == STYLE_COUNT) {
		fprintf(out, "  %9s  %s\n", "LIVE", breakdown(vr->view, false));
		return;
	}
	switch (d->style) {
	case STYLE_COUNT:
		if (vr->summary)
			fprintf(out, "  %9s %9s %9s %9s %5s %9s %9s  %s\n", "LIVE", "AT ATTACH",
				"NET", "GROWTH/s", "GREW", d->created, d->freed,
				breakdown(vr->view, true));
		else
			fprintf(out, "  %9s %9s %9s %9s %9s  %s\n", "LIVE", "NET", "RATE/s",
				d->created, d->freed, breakdown(vr->view, false));
		break;
	case STYLE_BYTES:
		if (vr->summary)
			fprintf(out, "  %11s %11s %11s %12s %5s %9s %9s%s\n", "BYTES", "AT ATTACH", "NET",
				"GROWTH/s", "GREW", "OBJECTS", d->created,
				rc->views[vr->view].sample_bytes ? "  BYTES ±(95%)" : "");
		else
			fprintf(out, "  %11s %11s %11s %9s %9s %9s %9s%s\n", "BYTES", "NET", "RATE/s",
				"OBJECTS", d->created, d->freed, "OLDEST",
				rc->views[vr->view].sample_bytes ? "  BYTES ±(95%)" : "");
		break;
	case STYLE_RATE:
		fprintf(out, "  %11s %7s %9s\n", "EST. RATE/s", "SHARE", d->created);
		break;
	}
}

static void row_numbers(const struct report_ctx *rc, FILE *out, const struct view_rows *vr,
			const struct row *r)
{
	const struct view_desc *d = view_desc(vr->view);
	double secs = vr->seconds > 0 ? vr->seconds : 1;
	char grew[16], oldest[16] = "-";

	snprintf(grew, sizeof(grew), "%d/%d", r->grew, MAX(r->observed - 1, 0));
	if (r->now.oldest_ns)
		snprintf(oldest, sizeof(oldest), "%.1fs", r->now.oldest_ns / 1e9);
	switch (d->style) {
	case STYLE_COUNT:
		if (rc->opts.dump)
			fprintf(out, "  %9s  ", num(r->now.live, false));
		else if (vr->summary)
			fprintf(out, "  %9s %9s %9s %+9.1f %5s %9s %9s  ", num(r->now.live, false),
				num(r->live_first, false), num(r->net, true), tidy(r->slope), grew,
				num(r->created_total, false), num(r->freed_total, false));
		else
			fprintf(out, "  %9s %9s %+9.1f %9s %9s  ", num(r->now.live, false),
				num(r->net, true), tidy(r->rate), num(r->now.created, false),
				num(r->now.freed, false));
		/* Goroutines: wait states; threads: thread names. */
		if (vr->view == VIEW_GOROUTINES || vr->view == VIEW_THREADS)
			print_states(out, r->site);
		break;
	case STYLE_BYTES:
		if (vr->summary) {
			char slope[24];

			snprintf(slope, sizeof(slope), "%s/s", bytes(r->bytes_slope, true));
			fprintf(out, "  %11s %11s %11s %12s %5s %9s %9s", bytes(r->now.live_bytes, false),
				bytes(r->live_bytes_first, false), bytes(r->net_bytes, true), slope,
				grew, num(r->now.live, false), num(r->created_total, false));
		} else {
			fprintf(out, "  %11s %11s %11s %9s %9s %9s %9s", bytes(r->now.live_bytes, false),
				bytes(r->net_bytes, true), bytes(r->bytes_rate, true),
				num(r->now.live, false), num(r->now.created, false),
				num(r->now.freed, false), oldest);
		}
		/* Sampled: the estimate's 95 % bound (two standard deviations). */
		if (rc->views[vr->view].sample_bytes)
			fprintf(out, "  ±%s", bytes(2 * sqrt(r->now.live_bytes_var), false));
		break;
	case STYLE_RATE: {
		uint64_t total = vr->tot.created, mine;
		double share;

		mine = vr->summary ? r->created_total : r->now.created;
		share = total ? 100.0 * mine / total : 0;
		fprintf(out, "  %11s %6.1f%% %9s",
			bytes((vr->summary ? r->created_bytes_total : r->now.created_bytes) / secs,
			      false),
			share, num(mine, false));
		break;
	}
	}
	fputc('\n', out);
}

/* The Go heap's trend: the MemStats view, one point per GC cycle. */
static void heap_trend(const struct report_ctx *rc, FILE *out, const struct heap_trend *t,
		       const struct view_rows *vr)
{
	const struct heap_state *h = t->now;
	const struct gc_point *last = t->last;

	fputs("GO HEAP  ", out);
	if (h->gc_off)
		fputs("live heap after GC switched off (see the warning)", out);
	else if (last)
		fprintf(out, "live after last GC %s", bytes(last->heap_marked, false));
	else if (h->have_marked_before)
		fprintf(out, "live after last GC %s (before attach)",
			bytes(h->marked_before, false));
	else
		fputs("no GC seen yet", out);
	if (h->have_numgc)
		fprintf(out, "   GC #%u", h->numgc);
	if (!vr->summary)
		fprintf(out, " (%zu in %.1fs)", t->gcs_in_interval, vr->seconds);
	if (h->have_objects)
		fprintf(out, "   %s objects", num(h->objects, false));
	if (h->have_alloc_rate && !vr->summary)
		fprintf(out, "   allocating %s/s", bytes(h->alloc_rate, false));
	fputc('\n', out);

	/* A slope only where it is clear of the points' own noise (view.c, trend_dir()). */
	if (t->ntrend >= 2) {
		/* "over the last N GCs" once the first ones are no longer kept (series.h). */
		const char *over = t->ntrend < t->ngc ? "over the last" : "over";

		fputs("  trend: live heap ", out);
		if (t->heap_dir == TREND_GROWING || t->heap_dir == TREND_SHRINKING)
			fprintf(out, "%s/min %s %zu GCs (%s -> %s)", bytes(t->heap_slope * 60, true),
				over, t->ntrend, bytes(t->first->heap_marked, false),
				bytes(last->heap_marked, false));
		else if (t->heap_dir == TREND_FLAT)
			fprintf(out, "flat %s %zu GCs (%s to %s)", over, t->ntrend,
				bytes(t->heap_min, false), bytes(t->heap_max, false));
		else
			fprintf(out, "too few GCs yet to tell (%zu GCs, %s -> %s)", t->ntrend,
				bytes(t->first->heap_marked, false), bytes(last->heap_marked, false));
		if (h->have_objects && (t->objects_dir == TREND_GROWING ||
					t->objects_dir == TREND_SHRINKING))
			fprintf(out, ", objects %+.0f/s", t->objects_slope);
		else if (h->have_objects && t->objects_dir == TREND_FLAT)
			fputs(", objects flat", out);
		fputc('\n', out);
	}
	fprintf(out, "  %s\n", rc->views[VIEW_GO_HEAP].header_note);
	if (h->profiling)
		totals_line(rc, out, vr);
}

static void text_view(const struct report_ctx *rc, FILE *out, const struct report_rows *rows,
		      const struct view_rows *vr)
{
	const struct view_info *vi = &rc->views[vr->view];
	bool waits = false;

	if (vr->view == VIEW_GO_HEAP && rows->trend) {
		heap_trend(rc, out, rows->trend, vr);
		if (!rows->trend->now->profiling)
			return;
	} else {
		totals_line(rc, out, vr);
	}
	if (vi->note[0])
		fprintf(out, "  note: %s\n", vi->note);
	if (vi->drops)
		fprintf(out, "  warning: %s events lost since attach: %s; counts are lower bounds\n",
			num(vi->drops, false), vi->drop_why[0] ? vi->drop_why : "maps full");
	if (!vr->shown) {
		fprintf(out, "  (no %s)\n", view_desc(vr->view)->things);
		return;
	}
	columns(rc, out, vr);
	for (size_t i = 0; i < vr->shown; i++) {
		row_numbers(rc, out, vr, &vr->v[i]);
		row_title(rc, out, &vr->v[i]);
		print_frames(rc, out, &vr->v[i]);
		waits |= print_groups(rc, out, &vr->v[i]);
	}
	if (vr->n > vr->shown)
		fprintf(out, "  ... %zu more stacks (--top 0 shows all)\n", vr->n - vr->shown);
	if (waits)
		fputs("  blocked: since the runtime's GC first saw them waiting, to within a GC "
		      "cycle; ? (or \"since the\n  last GC\") for those no GC has seen waiting yet "
		      "(the first GC after start-up times none)\n",
		      out);
}

static void header(const struct report_ctx *rc, FILE *out, enum report_end end)
{
	const struct series *ser = rc->series;
	const struct interval *iv = &ser->intervals[ser->nintervals - 1];
	time_t t = iv->wall_ns / 1000000000ull;
	char ts[16];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	if (end == END_NONE)
		fprintf(out, "\n%s  pid %d  %s", ts, rc->pid, rc->target->exe);
	else
		fprintf(out, "\n=== SUMMARY %s  pid %d  %s", ts, rc->pid, rc->target->exe);
	if (rc->target->is_go)
		fprintf(out, "  %s", rc->target->go_version);
	if (end == END_NONE && rc->opts.dump) {
		fputs("  goroutine dump\n", out);
		return;
	}
	if (end == END_NONE) {
		fprintf(out, "  report %d, %.1fs\n", ser->nintervals - 1, iv->seconds);
		return;
	}
	fprintf(out, "  %.1fs, %d reports", (iv->mono_ns - ser->start_mono_ns) / 1e9,
		ser->nintervals - 1);
	if (end == END_TARGET_EXIT)
		fputs("  (target exited)", out);
	else if (end == END_DURATION)
		fputs("  (--duration reached)", out);
	else if (end == END_TARGET_EXEC)
		fputs("  (target ran exec: the program traced is gone)", out);
	else if (end == END_INTERRUPTED)
		fputs("  (interrupted)", out);
	fputc('\n', out);
}


static const char *base(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

/*
 * The suspects, one line each, before the detail: view, what, where, how fast, since
 * when, and where goroutines wait.
 */
static void print_suspects(const struct report_ctx *rc, FILE *out, const struct report_rows *rows)
{
	if (!rows->suspects_ready) {
		fprintf(out, "SUSPECTS  not yet: growth is called steady after %d reports\n",
			rc->opts.sus.min_reports);
		return;
	}
	if (!rows->nsuspects) {
		fputs("SUSPECTS  none: nothing grows steadily\n", out);
		return;
	}
	fprintf(out, "SUSPECTS  %d growing steadily (rules: leakscope --help)\n", rows->nsuspects);
	for (int i = 0; i < rows->nsuspects; i++) {
		const struct suspect *s = &rows->suspects[i];
		const struct frame *f = s->at;
		const char *what = s->view == VIEW_GOROUTINES && s->row->start_func
					   ? s->row->start_func
				   : f && f->func ? f->func
						  : "?";
		char a[32];

		fprintf(out, "  %-11s %s", view_name(s->view), what);
		if (s->view == VIEW_GOROUTINES && f && f->func)
			fprintf(out, "  go at %s", f->func);
		if (f && f->file)
			fprintf(out, " %s:%d", base(f->file), f->line);
		if (s->rule == RULE_GOROUTINES_STUCK)
			fprintf(out, "  %s stuck", num(s->group ? s->group->n : s->live, false));
		else if (view_desc(s->view)->style == STYLE_BYTES)
			fprintf(out, "  %s/min (%s/min)", bytes(s->bytes_per_min, true),
				num(llround(s->per_min), true));
		else
			fprintf(out, "  %s/min", num(llround(s->per_min), true));
		if (s->since_report)
			fprintf(out, " since report %d (%s)", s->since_report,
				duration(s->since_s, a, sizeof(a)));
		if (view_desc(s->view)->style == STYLE_BYTES)
			fprintf(out, ", %s live", bytes(s->live_bytes, false));
		else
			fprintf(out, ", %s live", num(s->live, false));
		if (s->group) {
			const struct frame *at = group_at(s->group_frames);

			fprintf(out, ", %s", s->group->state);
			if (at && at->func)
				fprintf(out, " at %s", at->func);
			if (at && at->file)
				fprintf(out, " %s:%d", base(at->file), at->line);
		}
		if (s->oldest_s >= 0)
			fprintf(out, ", oldest %s", duration(s->oldest_s, a, sizeof(a)));
		fprintf(out, "  [%s]\n", suspect_rule_name(s->rule));
	}
}

void text_write(const struct report_ctx *rc, FILE *out, const struct report_rows *rows)
{
	header(rc, out, rows->end);
	if (!rc->opts.dump && !rc->opts.sus.off)
		print_suspects(rc, out, rows);
	for (int i = 0; i < rows->nviews; i++)
		text_view(rc, out, rows, &rows->views[i]);
}
