/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Views: the series of one kind of site turned into ranked rows (current
 * values, change in the interval, growth over the session), with stacks
 * symbolized for display. Writers (text, JSON lines) only format rows.
 */
#ifndef LEAKSCOPE_REPORT_H
#define LEAKSCOPE_REPORT_H

#include <stdio.h>

#include "session.h"

struct row {
	struct site *site;
	struct sample now;
	int64_t live_prev;   /* at the end of the previous interval */
	int64_t net;	     /* live - live_prev */
	int64_t net_bytes;
	double rate;	     /* net per second over the interval */
	double bytes_rate;
	/* Over the session (or since the site appeared). */
	int64_t live_first, live_bytes_first; /* at attach (0 for sites born since) */
	uint64_t created_total, freed_total, created_bytes_total, freed_bytes_total;
	double slope;	     /* least-squares growth of live per second */
	double bytes_slope;
	int grew, observed;  /* intervals in which live grew / intervals seen */
	const struct frames *frames; /* for display, trimmed */
	const char *start_func;	     /* goroutines: the function it runs */
};

struct view_totals {
	int64_t live, live_prev, live_bytes, live_bytes_prev;
	uint64_t created, freed, created_bytes, freed_bytes;
	int64_t hidden_live; /* live in sites not shown (runtime goroutines) */
	size_t nsites;	     /* sites with anything alive or any event */
};

struct view_rows {
	enum view_kind view;
	struct row *v;
	size_t n;	/* all rows, ranked */
	size_t shown;	/* how many the writer prints (--top) */
	struct view_totals tot;
	double seconds; /* interval length, or session length for the summary */
	bool summary;
};

/* Rank the current interval (summary = false) or the whole session (true). */
void view_build(struct session *s, enum view_kind view, bool summary, struct view_rows *out);
void view_rows_free(struct view_rows *r);

enum report_end {
	END_NONE,	 /* periodic report */
	END_COUNT,	 /* the requested number of reports was printed */
	END_INTERRUPTED, /* Ctrl-C */
	END_TARGET_EXIT, /* the target exited */
};

/* Write one periodic report, or the session summary (end != END_NONE). */
void report_write(struct session *s, FILE *out, enum report_end end);

/* Writers. */
void text_write(struct session *s, FILE *out, struct view_rows *views, int nviews,
		enum report_end end);
void json_write(struct session *s, FILE *out, struct view_rows *views, int nviews,
		enum report_end end);

#endif
