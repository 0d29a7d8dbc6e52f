// SPDX-License-Identifier: GPL-2.0
/* The human report: one header line, then per view a totals line and the top stacks. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "report.h"

/* 1234567 -> "1,234,567" (with sign when asked); buffers rotate for use in one printf. */
static const char *num(int64_t v, bool sign)
{
	static char bufs[8][32];
	static int k;
	char *b = bufs[k++ & 7], tmp[32];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int n = 0, len;

	do {
		if (n % 4 == 3)
			tmp[n++] = ',';
		tmp[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	len = 0;
	if (v < 0)
		b[len++] = '-';
	else if (sign)
		b[len++] = v > 0 ? '+' : ' ';
	while (n)
		b[len++] = tmp[--n];
	b[len] = 0;
	if (sign && v == 0)
		return "0";
	return b;
}

/* Bytes for humans: 512 B, 3.2 KiB, 41.0 MiB. */
static const char *bytes(double v, bool sign)
{
	static char bufs[8][32];
	static int k;
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	char *b = bufs[k++ & 7];
	double a = v < 0 ? -v : v;
	int u = 0;

	while (a >= 1024 && u < 4) {
		a /= 1024;
		u++;
	}
	snprintf(b, 32, "%s%.*f %s", v < 0 ? "-" : (sign && v > 0 ? "+" : ""), u ? 1 : 0, a,
		 units[u]);
	return b;
}

static int frame_name(char *buf, size_t len, const struct frame *f)
{
	if (f->func)
		return snprintf(buf, len, "%s", f->func);
	return snprintf(buf, len, "%s+0x%" PRIx64, f->module[0] ? f->module : "?", f->module_off);
}

/* What rounds to zero prints as 0.0, never -0.0. */
static double tidy(double v)
{
	return v > -0.05 && v < 0.05 ? 0 : v;
}

static void print_frame(FILE *out, const struct frame *f, const char *indent, int width)
{
	char name[256];

	frame_name(name, sizeof(name), f);
	fprintf(out, "%s%-*s", indent, f->file ? width : 0, name);
	if (f->file)
		fprintf(out, "  %s:%d", f->file, f->line);
	else if (f->func && f->module[0])
		fprintf(out, "  (%s)", f->module);
	if (f->inlined)
		fputs("  (inlined)", out);
	fputc('\n', out);
}

static void print_frames(struct session *s, FILE *out, const struct row *r)
{
	int max = s->cfg->max_depth, n = r->frames ? r->frames->n : 0, width = 0;
	char name[256];

	/* Function names in one column, file:line in the next. */
	for (int i = 0; i < n && i < max; i++)
		width = MAX(width, MIN(frame_name(name, sizeof(name), &r->frames->v[i]), 60));
	for (int i = 0; i < n && i < max; i++)
		print_frame(out, &r->frames->v[i], "        ", width);
	if (n > max)
		fprintf(out, "        ... %d more frames (--depth to show them)\n", n - max);
	if (!n && r->site->view == VIEW_GOROUTINES)
		fputs("        (no go statement: started by the runtime itself)\n", out);
	else if (!n)
		fputs("        (no stack)\n", out);
}

static void print_states(FILE *out, const struct site *site)
{
	/* Most common first; a few of them, the rest summed. */
	struct state_count st[16];
	int n = MIN(site->nstates, 16), shown = 0;
	int64_t rest = 0;

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

static void goroutine_title(FILE *out, const struct row *r)
{
	const struct site *site = r->site;
	const char *fn = r->start_func ? r->start_func : "?";

	if (site->flags & SITE_PRE_ATTACH)
		fprintf(out, "      goroutines running %s, created before attach by:\n", fn);
	else if ((site->flags & SITE_NO_STACK) && site->npcs == 1)
		fprintf(out, "      goroutines running %s, creation stack not captured; go statement:\n",
			fn);
	else
		fprintf(out, "      goroutines running %s, created at:\n", fn);
}

static void text_goroutines(struct session *s, FILE *out, const struct view_rows *vr)
{
	const struct view_totals *t = &vr->tot;
	const struct view_info *vi = &s->views[VIEW_GOROUTINES];
	double secs = vr->seconds > 0 ? vr->seconds : 1;

	if (vr->summary) {
		/* Session totals span every interval: sum them from the rows. */
		uint64_t created = 0, freed = 0;

		for (size_t i = 0; i < vr->n; i++) {
			created += vr->v[i].created_total;
			freed += vr->v[i].freed_total;
		}
		fprintf(out, "GOROUTINES  %s live now   created %s   exited %s   (%.1f/s, %.1f/s)",
			num(t->live, false), num(created, false), num(freed, false),
			created / secs, freed / secs);
	} else {
		fprintf(out, "GOROUTINES  %s live (%s)   created %.1f/s   exited %.1f/s",
			num(t->live, false), num(t->live - t->live_prev, true), t->created / secs,
			t->freed / secs);
	}
	if (t->hidden_live)
		fprintf(out, "   [%s runtime goroutines not shown]", num(t->hidden_live, false));
	fputc('\n', out);
	if (vi->note[0])
		fprintf(out, "  note: %s\n", vi->note);
	if (vi->drops)
		fprintf(out, "  warning: %s events lost since attach (maps full or stacks "
			     "unreadable); counts are lower bounds\n",
			num(vi->drops, false));
	if (!vr->shown) {
		fputs("  (no goroutines)\n", out);
		return;
	}
	if (vr->summary)
		fprintf(out, "  %9s %9s %9s %9s %5s %9s %9s  %s\n", "LIVE", "AT ATTACH", "NET",
			"GROWTH/s", "GREW", "CREATED", "EXITED", "STATE NOW");
	else
		fprintf(out, "  %9s %9s %9s %9s %9s  %s\n", "LIVE", "NET", "RATE/s", "CREATED",
			"EXITED", "STATE");
	for (size_t i = 0; i < vr->shown; i++) {
		const struct row *r = &vr->v[i];

		if (vr->summary) {
			char grew[16];

			snprintf(grew, sizeof(grew), "%d/%d", r->grew, MAX(r->observed - 1, 0));
			fprintf(out, "  %9s %9s %9s %+9.1f %5s %9s %9s  ", num(r->now.live, false),
				num(r->live_first, false), num(r->net, true), tidy(r->slope), grew,
				num(r->created_total, false), num(r->freed_total, false));
		} else {
			fprintf(out, "  %9s %9s %+9.1f %9s %9s  ", num(r->now.live, false),
				num(r->net, true), tidy(r->rate), num(r->now.created, false),
				num(r->now.freed, false));
		}
		print_states(out, r->site);
		fputc('\n', out);
		goroutine_title(out, r);
		print_frames(s, out, r);
	}
	if (vr->n > vr->shown)
		fprintf(out, "  ... %zu more stacks (--top 0 shows all)\n", vr->n - vr->shown);
}

static void header(struct session *s, FILE *out, enum report_end end)
{
	const struct series *ser = &s->series;
	const struct interval *iv = &ser->intervals[ser->nintervals - 1];
	time_t t = iv->wall_ns / 1000000000ull;
	char ts[16];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	if (end == END_NONE) {
		fprintf(out, "\n%s  pid %d  %s", ts, s->pid, s->target.exe);
		if (s->target.is_go)
			fprintf(out, "  %s", s->target.go_version);
		fprintf(out, "  report %d, %.1fs\n", ser->nintervals - 1, iv->seconds);
		return;
	}
	fprintf(out, "\n=== SUMMARY %s  pid %d  %s", ts, s->pid, s->target.exe);
	if (s->target.is_go)
		fprintf(out, "  %s", s->target.go_version);
	fprintf(out, "  %.1fs, %d reports", (iv->mono_ns - ser->start_mono_ns) / 1e9,
		ser->nintervals - 1);
	if (end == END_TARGET_EXIT)
		fputs("  (target exited)", out);
	else if (end == END_INTERRUPTED)
		fputs("  (interrupted)", out);
	fputc('\n', out);
}

void text_write(struct session *s, FILE *out, struct view_rows *views, int nviews,
		enum report_end end)
{
	header(s, out, end);
	for (int i = 0; i < nviews; i++) {
		switch (views[i].view) {
		case VIEW_GOROUTINES:
			text_goroutines(s, out, &views[i]);
			break;
		default:
			break;
		}
	}
	(void)bytes;
}
