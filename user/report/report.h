/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The report path: the series of one kind of site turned into ranked rows
 * (current values, change in the interval, growth over the session) with
 * totals and, for the Go heap, its trend; stacks symbolized for the rows shown;
 * then writers (text, JSON lines) that only format what the views computed.
 * Nothing here knows about BPF or about a source: what a view needs from the
 * one that feeds it (how to trim its stacks, what a goroutine runs) comes as
 * hooks in its view_info.
 */
#ifndef LEAKSCOPE_REPORT_H
#define LEAKSCOPE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "report/series.h"
#include "target/symbolize.h"

enum output_format { OUT_TEXT, OUT_JSON };

/* The rules that make a row a leak suspect (README "Suspects"; --help). */
enum suspect_rule {
	RULE_GOROUTINES_BLOCKED, /* a go statement's goroutines grow steadily, blocked */
	RULE_GOROUTINES_MANY,	 /* many goroutines, growing fast: the sites that grow */
	RULE_GOROUTINES_STUCK,	 /* many blocked at one place for long */
	RULE_HEAP_RATE,		 /* a Go heap site's in-use bytes grow fast, steadily */
	RULE_HEAP_OBJECTS,	 /* a Go heap site's objects up > objects_pct since attach */
	RULE_HEAP_OBJECTS_TREND, /* HeapObjects rising fast: the sites that grow */
	RULE_NATIVE_GROWTH,	 /* native bytes grow steadily while the oldest block ages */
	RULE_THREADS_GROWTH,	 /* a thread site grows with no exits */
};

struct suspect_opts {
	bool off;		       /* --suspects off */
	int window;		       /* reports looked back at for "steadily" */
	int min_reports;	       /* reports needed before anything is called steady */
	double heap_bytes_per_min;     /* heap-rate */
	double objects_pct;	       /* heap-objects-growth */
	double heap_objects_per_s;     /* heap-objects-trend */
	int64_t goroutines;	       /* goroutines-many: total above ... */
	double goroutines_pct_per_min; /* ... growing faster than this */
	int64_t stuck;		       /* goroutines-stuck: at least this many ... */
	double stuck_s;		       /* ... all blocked at least this long */
};

void suspect_opts_default(struct suspect_opts *o);
const char *suspect_rule_name(enum suspect_rule r);

/* How reports are printed (from the command line). */
struct report_opts {
	enum output_format format;
	int top;	   /* stacks per view, 0 = all */
	int max_depth;	   /* frames printed per stack */
	bool show_runtime; /* the Go runtime's own goroutines */
	bool dump;	   /* one snapshot (--dump): no interval, no rates */
	struct suspect_opts sus;
	const char *pprof_dir;	   /* --pprof: DIR/VIEW.N.pb.gz per report, VIEW.final.pb.gz */
	const char *folded_prefix; /* --folded: PREFIX.VIEW.folded at the end of the session */
};

/* What the header says about the target. */
struct target_info {
	char exe[256];
	char cmdline[256];
	bool is_go;
	char go_version[48];
	bool stripped, pie;
};

/* Per view, given by the source that feeds it. */
struct view_hooks {
	/* Frames that are the view's plumbing, not news (the allocator, the runtime's
	 * goroutine creation): cut from the display frames of a site, in place. */
	void (*trim)(void *ctx, const struct site *site, struct frames *fr);
	/* The function a site's goroutines run, or NULL to name the start pc's function. */
	const char *(*start_func)(void *ctx, const struct site *site);
	/* The same as trim, for the stack of a group of the dump. */
	void (*trim_group)(void *ctx, const struct block_group *g, struct frames *fr);
	void *ctx;
};

/* What a view reports besides its sites: totals, caveats, drops. */
struct view_info {
	bool active;
	bool off;	       /* switched off for the session: its data failed a check */
	char note[512];	       /* caveats shown under the view's header, "" if none */
	char header_note[512]; /* shown under the header whatever the rows (the Go heap) */
	uint64_t drops;	       /* events lost since attach (maps full, stacks lost) */
	char drop_why[384];    /* what was lost and the flag that raises the limit */
	int64_t untracked;     /* e.g. goroutines that existed before attach */
	uint64_t sample_bytes; /* numbers estimated from a sample with p = size / this (native) */
	struct view_hooks hooks;
};

/*
 * Count n events a view lost since attach (a no-op for 0): what they were and, when
 * a limit lost them, the flag that raises it and its value now (flag NULL: no limit,
 * e.g. stacks the kernel could not read).
 */
void view_drop(struct view_info *vi, uint64_t n, const char *what, const char *flag, uint64_t now);

/* Set a view's note, printf-style ("" clears it); view_note_add appends after "; ". */
void view_note(struct view_info *vi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void view_note_add(struct view_info *vi, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Everything the report path reads. */
struct report_ctx {
	struct report_opts opts;
	pid_t pid;
	const struct target_info *target;
	struct series *series;
	struct view_info *views; /* [VIEW__MAX] */
	struct symbolizer *sym;
};

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
	/* Goroutines: where they are now (the site's dump), and each group's frames. */
	const struct block_group *groups;
	int ngroups;
	const struct frames **group_frames;
};

/*
 * A view's totals: for an interval, what happened in it; for the summary, the
 * events of the whole session summed over the rows.
 */
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

/* The Go heap's trend as of the report: the MemStats view, one point per GC. */
struct heap_trend {
	const struct heap_state *now; /* the interval's state */
	const struct gc_point *first, *last; /* GCs since attach, NULL when none */
	size_t ngc, gcs_in_interval;
	size_t ntrend; /* of them, the points the trend is drawn through (the last kept) */
	double heap_slope;    /* live heap after GC, bytes per second over the session */
	double objects_slope; /* HeapObjects per second over the session */
	/*
	 * What each slope says, given its points' own noise (view.c): a steady heap's
	 * points scatter about a level, and a line through them tilts either way.
	 */
	enum trend_dir {
		TREND_UNKNOWN,	 /* fewer than three points */
		TREND_FLAT,	 /* no change beyond the points' spread, or not a clear one */
		TREND_GROWING,	 /* the slope is clear and the change it implies matters */
		TREND_SHRINKING,
	} heap_dir, objects_dir;
	uint64_t heap_min, heap_max; /* live heap after GC over the GCs since attach */
};

/* Rank the current interval (summary = false) or the whole session (true). */
void view_build(const struct report_ctx *r, enum view_kind view, bool summary,
		struct view_rows *out);
void view_rows_free(struct view_rows *r);
/* The heap trend as of the current interval; false when no Go heap source reported. */
bool heap_trend_build(const struct report_ctx *r, struct heap_trend *t);

enum report_end {
	END_NONE,	 /* periodic report */
	END_COUNT,	 /* the requested number of reports was printed */
	END_INTERRUPTED, /* Ctrl-C */
	END_TARGET_EXIT, /* the target exited */
	END_DURATION,	 /* --duration ran out */
	END_TARGET_EXEC, /* the target ran exec: the program traced is gone */
};

/* A row the report leads with, and why. */
struct suspect {
	enum view_kind view;
	enum suspect_rule rule;
	struct row *row;	/* in its view's rows (frames and start_func filled) */
	const struct frame *at; /* where: the go statement, or the first frame of the
				 * program's own (not the allocator's) */
	double per_min;		/* live count growth (objects, goroutines, threads) */
	double bytes_per_min;	/* byte views */
	int since_report;	/* the report its current growth began in; 0 unknown */
	double since_s;		/* seconds since that report began */
	double oldest_s;	/* oldest object / longest blocked goroutine; < 0 unknown */
	int64_t live, live_bytes;
	const struct block_group *group; /* goroutines: where most of them wait */
	const struct frames *group_frames;
};

/* One report, as the views built it. */
struct report_rows {
	struct view_rows *views; /* the active views, in enum view_kind order */
	int nviews;
	const struct heap_trend *trend; /* NULL when there is no Go heap */
	enum report_end end;
	int seq; /* report number: 1.. for periodic ones, the last one's for the summary */
	struct suspect *suspects;
	int nsuspects;
	bool suspects_ready; /* enough reports to call growth steady */
};

/* The suspects of a report built by the views (suspects.c). */
void suspects_find(const struct report_ctx *r, struct report_rows *rows);

/* Display frames and names for rows the views did not show (view.c). */
const struct frames *report_site_frames(const struct report_ctx *r, struct site *site);
const char *report_start_func(const struct report_ctx *r, struct site *site);
const struct frames *report_group_frames(const struct report_ctx *r, const struct site *site,
					 const struct block_group *g);

/*
 * Write one periodic report, or the session summary (end != END_NONE). Returns the
 * number of leak suspects it named (-1 when nothing was written).
 */
int report_write(const struct report_ctx *r, FILE *out, enum report_end end);

/* Files for other tools, one view each (pprof.c, folded.c). 0 or -errno. */
int folded_write_view(const struct report_ctx *r, const struct view_rows *vr, const char *path);

/* Writers: formatting only. */
void text_write(const struct report_ctx *r, FILE *out, const struct report_rows *rows);
void json_write(const struct report_ctx *r, FILE *out, const struct report_rows *rows);

#endif
