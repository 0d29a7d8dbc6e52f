// SPDX-License-Identifier: GPL-2.0
/*
 * JSON lines: one object per report header ("type":"interval" or "summary") and
 * one per stack ("type":"stack"). Fields are documented in README.md.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "report/report.h"

static void jstr(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void jtime(FILE *out, uint64_t wall_ns)
{
	time_t t = wall_ns / 1000000000ull;
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"%s.%03uZ\"", buf, (unsigned)(wall_ns / 1000000 % 1000));
}

static void jframes(FILE *out, const struct frames *fr)
{
	fputc('[', out);
	for (int i = 0; fr && i < fr->n; i++) {
		const struct frame *f = &fr->v[i];

		fputs(i ? ",{\"func\":" : "{\"func\":", out);
		jstr(out, f->func);
		fputs(",\"file\":", out);
		jstr(out, f->file);
		fprintf(out, ",\"line\":%d,\"inlined\":%s,\"module\":", f->line,
			f->inlined ? "true" : "false");
		jstr(out, f->module);
		fprintf(out, ",\"module_offset\":%" PRIu64 ",\"pc\":%" PRIu64 "}", f->module_off,
			f->pc);
	}
	fputc(']', out);
}

static void jstates(FILE *out, const struct site *site)
{
	fputc('{', out);
	for (int i = 0; i < site->nstates; i++) {
		if (i)
			fputc(',', out);
		jstr(out, site->states[i].state);
		fprintf(out, ":%" PRId64, site->states[i].n);
	}
	fputc('}', out);
}

static void jview_totals(const struct report_ctx *rc, FILE *out, const struct view_rows *vr)
{
	const struct view_info *vi = &rc->views[vr->view];
	const struct view_totals *t = &vr->tot;
	double secs = vr->seconds > 0 ? vr->seconds : 1;
	uint64_t created = t->created, freed = t->freed, created_bytes = t->created_bytes,
		 freed_bytes = t->freed_bytes;

	fputc('"', out);
	fputs(view_name(vr->view), out);
	fprintf(out,
		"\":{\"live\":%" PRId64 ",\"live_prev\":%" PRId64 ",\"live_bytes\":%" PRId64
		",\"created\":%" PRIu64 ",\"exited\":%" PRIu64 ",\"created_per_s\":%.3f"
		",\"exited_per_s\":%.3f,\"hidden_live\":%" PRId64 ",\"untracked\":%" PRId64
		",\"drops\":%" PRIu64 ",\"stacks\":%zu,\"live_bytes_prev\":%" PRId64
		",\"created_bytes\":%" PRIu64 ",\"freed_bytes\":%" PRIu64 ",\"note\":",
		t->live, t->live_prev, t->live_bytes, created, freed, created / secs, freed / secs,
		t->hidden_live, vi->untracked, vi->drops, vr->n, t->live_bytes_prev, created_bytes,
		freed_bytes);
	jstr(out, vi->note[0] ? vi->note : NULL);
	if (vi->sample_bytes)
		fprintf(out, ",\"sample_bytes\":%" PRIu64, vi->sample_bytes);
	fputs(",\"drops_why\":", out);
	jstr(out, vi->drop_why[0] ? vi->drop_why : NULL);
	fputc('}', out);
}

static void jrow(const struct report_ctx *rc, FILE *out, const struct view_rows *vr, size_t i,
		 int seq)
{
	const struct row *r = &vr->v[i];
	const struct site *site = r->site;
	bool sum = vr->summary;

	fprintf(out, "{\"type\":\"stack\",\"view\":\"%s\",\"report\":%d,\"final\":%s,\"rank\":%zu",
		view_name(vr->view), seq, sum ? "true" : "false", i + 1);
	fprintf(out,
		",\"live\":%" PRId64 ",\"live_prev\":%" PRId64 ",\"net\":%" PRId64
		",\"rate_per_s\":%.3f,\"created\":%" PRIu64 ",\"exited\":%" PRIu64,
		r->now.live, r->live_prev, r->net, r->rate, sum ? r->created_total : r->now.created,
		sum ? r->freed_total : r->now.freed);
	if (view_desc(vr->view)->style != STYLE_COUNT)
		fprintf(out,
			",\"live_bytes\":%" PRId64 ",\"net_bytes\":%" PRId64
			",\"bytes_rate_per_s\":%.3f,\"created_bytes\":%" PRIu64
			",\"freed_bytes\":%" PRIu64 ",\"oldest_age_s\":%.3f"
			",\"live_bytes_at_attach\":%" PRId64 ",\"bytes_slope_per_s\":%.3f",
			r->now.live_bytes, r->net_bytes, r->bytes_rate,
			sum ? r->created_bytes_total : r->now.created_bytes,
			sum ? r->freed_bytes_total : r->now.freed_bytes,
			r->now.oldest_ns / 1e9, r->live_bytes_first, r->bytes_slope);
	/* --mode sampled: live and live_bytes are estimates; this is their 95 % bound. */
	if (rc->views[vr->view].sample_bytes)
		fprintf(out, ",\"live_bytes_err\":%.0f", 2 * sqrt(r->now.live_bytes_var));
	fprintf(out,
		",\"live_at_attach\":%" PRId64 ",\"slope_per_s\":%.3f,\"grew_intervals\":%d"
		",\"intervals\":%d",
		r->live_first, r->slope, r->grew, r->observed);
	if (vr->view == VIEW_GO_HEAP)
		fprintf(out, ",\"alloc_objects\":%" PRIu64 ",\"alloc_space\":%" PRIu64,
			r->now.total_created, r->now.total_created_bytes);
	if (vr->view == VIEW_GOROUTINES) {
		fputs(",\"start_func\":", out);
		jstr(out, r->start_func);
		fputs(",\"states\":", out);
		jstates(out, site);
		fprintf(out,
			",\"pre_attach\":%s,\"created_before_attach\":%" PRId64
			",\"stack_captured\":%s,\"runtime\":%s",
			r->now.pre_live && r->now.pre_live == r->now.live && !site->show_pcs ? "true"
											     : "false",
			r->now.pre_live, site->show_pcs ? "true" : "false",
			site->flags & SITE_RUNTIME ? "true" : "false");
		fputs(",\"blocked\":[", out);
		for (int k = 0; k < r->ngroups; k++) {
			const struct block_group *g = &r->groups[k];

			fprintf(out, "%s{\"count\":%" PRId64 ",\"state\":", k ? "," : "", g->n);
			jstr(out, g->state);
			if (g->wait_max_s >= 0 && g->wait_min_s >= 0)
				fprintf(out, ",\"waiting_s_min\":%.1f,\"waiting_s_max\":%.1f",
					g->wait_min_s, g->wait_max_s);
			else
				fputs(",\"waiting_s_min\":null,\"waiting_s_max\":null", out);
			fprintf(out, ",\"untimed\":%" PRId64 ",\"sampled\":%s,\"waiting\":%s,\"frames\":",
				g->untimed, g->sampled ? "true" : "false", g->waiting ? "true" : "false");
			jframes(out, r->group_frames[k]);
			fputc('}', out);
		}
		fputc(']', out);
	}
	if (vr->view == VIEW_THREADS) {
		fputs(",\"names\":", out);
		jstates(out, site);
		fprintf(out, ",\"pre_attach\":%s,\"stack_captured\":%s,\"main_thread\":%s",
			site->flags & SITE_PRE_ATTACH ? "true" : "false",
			site->flags & (SITE_PRE_ATTACH | SITE_NO_STACK) ? "false" : "true",
			site->flags & SITE_MAIN_THREAD ? "true" : "false");
	}
	fputs(",\"frames\":", out);
	jframes(out, r->frames);
	fputs("}\n", out);
}

/* A trend's direction as JSON says it; NULL (null) when too few points tell none. */
static const char *trend_name(enum trend_dir d)
{
	switch (d) {
	case TREND_FLAT:
		return "flat";
	case TREND_GROWING:
		return "growing";
	case TREND_SHRINKING:
		return "shrinking";
	default:
		return NULL;
	}
}

static void jheap(const struct report_ctx *rc, FILE *out, const struct heap_trend *t)
{
	const struct heap_state *h = t->now;

	fputs(",\"go_heap\":{\"live_after_gc\":", out);
	if (t->last)
		fprintf(out, "%" PRIu64, t->last->heap_marked);
	else if (h->have_marked_before)
		fprintf(out, "%" PRIu64, h->marked_before);
	else
		fputs("null", out);
	fputs(",\"numgc\":", out);
	if (h->have_numgc)
		fprintf(out, "%u", h->numgc);
	else
		fputs("null", out);
	fprintf(out, ",\"gcs_since_attach\":%zu,\"gcs_in_interval\":%zu", t->ngc,
		t->gcs_in_interval);
	fprintf(out, ",\"live_slope_bytes_per_s\":%.3f,\"trend\":", t->heap_slope);
	jstr(out, trend_name(t->heap_dir));
	fputs(",\"heap_objects\":", out);
	if (h->have_objects) {
		fprintf(out, "%" PRId64 ",\"objects_slope_per_s\":%.3f,\"objects_trend\":", h->objects,
			t->objects_slope);
		jstr(out, trend_name(t->objects_dir));
	} else {
		fputs("null,\"objects_slope_per_s\":null,\"objects_trend\":null", out);
	}
	fputs(",\"alloc_bytes_per_s\":", out);
	if (h->have_alloc_rate)
		fprintf(out, "%.1f", h->alloc_rate);
	else
		fputs("null", out);
	fprintf(out, ",\"profiling\":%s,\"profile_rate\":%" PRId64 ",\"profiling_note\":",
		h->profiling ? "true" : "false", h->profile_rate);
	jstr(out, rc->views[VIEW_GO_HEAP].header_note);
	fputc('}', out);
}

/* One line per GC cycle of the interval: the heap trend at full resolution. */
static void jgcs(const struct report_ctx *rc, FILE *out, const struct heap_trend *t, int seq)
{
	const struct series *ser = rc->series;

	for (size_t i = t->ngc - t->gcs_in_interval; i < t->ngc; i++) {
		const struct gc_point *p = series_gc(ser, i);

		if (!p) /* more GCs in the interval than are kept */
			continue;
		fprintf(out, "{\"type\":\"gc\",\"report\":%d,\"numgc\":%u,\"t_s\":%.3f,"
			     "\"live_after_gc\":%" PRIu64 "}\n",
			seq, p->numgc, (p->mono_ns - ser->start_mono_ns) / 1e9, p->heap_marked);
	}
}

static void jsuspect(FILE *out, const struct suspect *s, int seq, bool final)
{
	const struct frames *fr = s->row->frames;
	const struct frame *f = s->at;

	fprintf(out, "{\"type\":\"suspect\",\"report\":%d,\"final\":%s,\"view\":\"%s\",\"rule\":",
		seq, final ? "true" : "false", view_name(s->view));
	jstr(out, suspect_rule_name(s->rule));
	fputs(",\"func\":", out);
	jstr(out, s->view == VIEW_GOROUTINES && s->row->start_func ? s->row->start_func
				     : f ? f->func : NULL);
	fputs(",\"file\":", out);
	jstr(out, f ? f->file : NULL);
	fprintf(out,
		",\"line\":%d,\"rate_per_min\":%.1f,\"bytes_per_min\":%.0f,\"since_report\":%d"
		",\"since_s\":%.1f,\"live\":%" PRId64 ",\"live_bytes\":%" PRId64,
		f ? f->line : 0, s->per_min, s->bytes_per_min, s->since_report, s->since_s, s->live,
		s->live_bytes);
	if (s->oldest_s >= 0)
		fprintf(out, ",\"oldest_s\":%.1f", s->oldest_s);
	else
		fputs(",\"oldest_s\":null", out);
	fputs(",\"state\":", out);
	jstr(out, s->group ? s->group->state : NULL);
	fputs(",\"blocked_frames\":", out);
	jframes(out, s->group_frames);
	fputs(",\"frames\":", out);
	jframes(out, fr);
	fputs("}\n", out);
}

void json_write(const struct report_ctx *rc, FILE *out, const struct report_rows *rows)
{
	const struct series *ser = rc->series;
	const struct interval *iv = &ser->intervals[ser->nintervals - 1];
	static const char *const ends[] = {
		[END_NONE] = NULL,
		[END_COUNT] = "count",
		[END_INTERRUPTED] = "interrupted",
		[END_TARGET_EXIT] = "target_exited",
		[END_DURATION] = "duration",
		[END_TARGET_EXEC] = "target_exec",
	};
	enum report_end end = rows->end;

	fprintf(out, "{\"type\":\"%s\",\"report\":%d,\"time\":", end ? "summary" : "interval",
		rows->seq);
	jtime(out, iv->wall_ns);
	fprintf(out, ",\"interval_s\":%.3f,\"session_s\":%.3f,\"pid\":%d,\"exe\":", iv->seconds,
		(iv->mono_ns - ser->start_mono_ns) / 1e9, rc->pid);
	jstr(out, rc->target->exe);
	fputs(",\"go_version\":", out);
	jstr(out, rc->target->is_go ? rc->target->go_version : NULL);
	fputs(",\"end\":", out);
	jstr(out, ends[end]);
	for (int i = 0; i < rows->nviews; i++) {
		fputc(',', out);
		jview_totals(rc, out, &rows->views[i]);
	}
	if (rows->trend)
		jheap(rc, out, rows->trend);
	fputs("}\n", out);
	if (rows->trend && !end)
		jgcs(rc, out, rows->trend, rows->seq);
	for (int i = 0; i < rows->nsuspects; i++)
		jsuspect(out, &rows->suspects[i], rows->seq, end != END_NONE);
	for (int i = 0; i < rows->nviews; i++)
		for (size_t j = 0; j < rows->views[i].shown; j++)
			jrow(rc, out, &rows->views[i], j, rows->seq);
}
