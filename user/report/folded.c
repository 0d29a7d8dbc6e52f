// SPDX-License-Identifier: GPL-2.0
/*
 * Folded stacks ("root;...;leaf value", one line per stack): what flamegraph.pl,
 * inferno and speedscope read. Goroutine rows with a dump give one line per group:
 * where they were made, then where they stand now, so a flame graph sums them under
 * their go statement.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "report/report.h"

/* One frame's name, with what would break the format (';' and line ends) replaced. */
static void put_frame(FILE *out, const struct frame *f)
{
	char buf[512];

	if (f->func)
		snprintf(buf, sizeof(buf), "%s", f->func);
	else
		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, f->module && f->module[0] ? f->module : "?",
			 f->module_off);
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n' || *c == '\r')
			*c = ':';
	fputs(buf, out);
}

/* Frames outermost first (they are kept innermost first); returns how many. */
static int put_frames(FILE *out, const struct frames *fr, bool first)
{
	int n = 0;

	for (int i = fr ? fr->n - 1 : -1; i >= 0; i--, n++) {
		if (!first || n)
			fputc(';', out);
		put_frame(out, &fr->v[i]);
	}
	return n;
}

static int64_t row_value(const struct view_rows *vr, const struct row *r)
{
	switch (view_desc(vr->view)->style) {
	case STYLE_COUNT:
		return r->now.live;
	case STYLE_BYTES:
		return r->now.live_bytes;
	case STYLE_RATE:
		return vr->summary ? (int64_t)r->created_bytes_total : (int64_t)r->now.created_bytes;
	}
	return 0;
}

int folded_write_view(const struct report_ctx *rc, const struct view_rows *vr, const char *path)
{
	FILE *out = fopen(path, "we");

	if (!out)
		return -errno;
	for (size_t i = 0; i < vr->n; i++) {
		const struct row *r = &vr->v[i];
		const struct site *s = r->site;
		const struct frames *fr = r->frames ? r->frames : report_site_frames(rc, r->site);
		int64_t v = row_value(vr, r), rest = v;

		if (v <= 0)
			continue;
		for (int k = 0; vr->view == VIEW_GOROUTINES && k < s->ngroups; k++) {
			const struct block_group *g = &s->groups[k];
			int n;

			if (g->n <= 0)
				continue;
			n = put_frames(out, fr, true);
			if (!put_frames(out, report_group_frames(rc, s, g), !n) && !n)
				fputs("[no stack]", out);
			fprintf(out, " %" PRId64 "\n", g->n);
			rest -= g->n;
		}
		if (rest <= 0)
			continue;
		if (!put_frames(out, fr, true))
			fputs("[no stack]", out);
		fprintf(out, " %" PRId64 "\n", rest);
	}
	if (fclose(out))
		return -errno;
	return 0;
}
