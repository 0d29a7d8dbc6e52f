/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One tracing session: the configuration from the command line, the target, the
 * sources that apply to it and what they all share (the BPF object, the stack
 * store, the symbolizer, the series). A source knows how to attach to one kind
 * of target and how to turn its maps into site samples each interval; nothing
 * after that knows about BPF.
 */
#ifndef LEAKSCOPE_SESSION_H
#define LEAKSCOPE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfio/stackstore.h"
#include "lib/util.h"
#include "report/report.h"
#include "report/series.h"
#include "target/maps.h"
#include "target/symbolize.h"

enum native_mode {
	NATIVE_EXACT,  /* every malloc-family call probed: exact outstanding bytes */
	NATIVE_GROWTH, /* rare events only (page faults, brk, mmap): growth attribution */
	NATIVE_SAMPLED, /* every call probed, a size-weighted sample recorded: estimates */
};

/* --creation-probe: the goroutine creation probe (full creation stacks). */
enum creation_probe {
	CREATION_PROBE_LEARN, /* on until the stacks are known, then paused while creations are many */
	CREATION_PROBE_ON,    /* always on: exact CREATED and EXITED */
	CREATION_PROBE_OFF,   /* never placed: rows by go statement only */
};

struct config {
	pid_t pid;
	char **command; /* argv after "--", NULL when attaching to -p */
	double interval_s;
	int count; /* reports to print; 0 = until Ctrl-C or target exit */
	enum output_format format;
	int top;	    /* stacks per view */
	int max_depth;	    /* frames printed per stack */
	bool views[VIEW__MAX]; /* user selection; all true by default */
	bool views_given;
	uint32_t max_goroutines; /* BPF map sizes */
	uint32_t unwind_max;	 /* goroutine stacks read per row and report (the dump) */
	bool dump;		 /* --dump: one snapshot of the goroutines, no probe, then exit */
	enum creation_probe creation_probe;
	uint32_t max_stacks;
	uint32_t max_allocs;  /* native heap: outstanding allocations tracked */
	uint32_t max_threads; /* threads tracked with their creation site */
	uint32_t alloc_sample_hz; /* Go allocation sampler, when heap profiling is off */
	uint64_t sample_bytes;	  /* --mode sampled: R, a block of s bytes kept with p = s/R */
	const char *output_path;
	bool show_runtime; /* the Go runtime's own goroutines */
	enum native_mode native_mode;
	const char *alloc_prefix; /* allocator symbol prefix, e.g. "je_" */
	bool timestamps;
	double duration_s; /* --duration: end the session after this long; 0 = no limit */
	struct suspect_opts sus;
	const char *pprof_dir, *folded_prefix;
};

struct session;
struct leakscope_bpf;
struct bpf_link;

#define VIEW_BIT(v) (1u << (v))

/*
 * The source contract. A source feeds some views; the session asks each source
 * whose views were asked for (--what) whether it applies, from the target's
 * files alone, before any BPF is loaded; then every source that applies
 * switches on and sizes its part of the one BPF object, the object is loaded
 * once, and each attaches its probes. Every error path sets s->fatal.
 */
struct source_ops {
	const char *name;
	uint32_t views; /* VIEW_BIT()s of the views it feeds */
	/*
	 * Does the source apply to the target? 0 and *state when it does, -ENOTSUP when
	 * it does not (not an error), other -errno with s->fatal set. No BPF here.
	 */
	int (*probe)(struct session *s, void **state);
	/* Switch on (bpfobj_use_*) and configure its programs and maps, before load. */
	int (*configure)(struct session *s, void *state, struct leakscope_bpf *bpf);
	/* After load: place the probes, take what the baseline needs, activate views. */
	int (*attach)(struct session *s, void *state);
	/* Fill the current interval's samples. -ESRCH when the target has gone. */
	int (*collect)(struct session *s, void *state);
	/* Several times a second between intervals, cheap upkeep; may be NULL. */
	void (*tick)(struct session *s, void *state);
	/* collect works from the BPF maps alone: it runs once more after the target
	 * exited (what a program still had at exit). Others' views stay as last seen. */
	bool after_exit;
	/* The target's mappings changed outside an interval (a program we started, held
	 * at its entry point): place what depends on them; may be NULL. */
	void (*remap)(struct session *s, void *state);
	/* Undo attach (or whatever part of it was done), free the state. */
	void (*detach)(void *state);
};

/*
 * A source's ops from its functions, named by one prefix: P_probe, P_configure,
 * P_attach, P_collect, P_detach; further fields (.tick) after the views.
 */
#define SOURCE_OPS(P, NAME, VIEWS, ...)                                                            \
	{                                                                                          \
		.name = NAME, .views = VIEWS, .probe = P##_probe, .configure = P##_configure,      \
		.attach = P##_attach, .collect = P##_collect, .detach = P##_detach, __VA_ARGS__    \
	}

#define MAX_SOURCES 8

struct active_source {
	const struct source_ops *ops;
	void *state;
};

struct session {
	const struct config *cfg;
	pid_t pid;	     /* in our PID namespace */
	bool launched;	     /* started by us with -- COMMAND */
	bool exited;	     /* the target has exited: only the BPF maps are left */
	struct bpf_link *entry_link; /* a program we start: held at its entry point */
	const char *exe_path; /* file to attach probes to (/proc/PID/exe or the command) */
	char exe_sym_why[512]; /* why the executable's symbols cannot be read, "" if they can */
	struct target_info target;
	struct maps_watch maps; /* the target's executable mappings, read once per interval */
	struct symbolizer sym;
	struct series series;
	struct view_info views[VIEW__MAX];
	struct fatal fatal;
	uint64_t pidns_dev, pidns_ino;
	struct leakscope_bpf *bpf;   /* the one BPF object, shared by the sources */
	struct stack_store stacks;   /* every source's stacks, by hash */
	struct active_source act[MAX_SOURCES];
	int nact;
};

extern const struct source_ops goroutine_source;
extern const struct source_ops goheap_source;
extern const struct source_ops thread_source;
extern const struct source_ops native_source;
extern const struct source_ops growth_source;

/* What --what says of a view: nothing (no --what), asked for, or left out. */
enum view_choice { VIEW_BY_DEFAULT, VIEW_ASKED, VIEW_LEFT_OUT };
enum view_choice session_view_choice(const struct session *s, enum view_kind v);

/*
 * Switch view v off for the rest of the session, because its data cannot be
 * vouched for: one warning line that names the view, the reason and the Go
 * release; the view is never printed again, and the others go on.
 */
void session_view_off(struct session *s, enum view_kind v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Find the target: the process (-p) or the program to start (-- COMMAND). */
int session_resolve_target(struct session *s, char **launch_path);
/* Start the command, held before exec; returns the fd whose write lets it run. */
int session_launch(struct session *s, char **argv, const char *path);
/* Let it run (closes go_fd); after session_attach, it is held at its entry point
 * while its mappings are read, then goes on. */
void session_release(struct session *s, int go_fd);
/* Probe, configure, load and attach every source that applies. */
int session_attach(struct session *s);
/* One interval: every source fills its samples. -ESRCH when the target is gone. */
int session_collect(struct session *s);
/* The target exited: one more interval from what the BPF maps still hold. */
void session_collect_final(struct session *s);
/* Upkeep between intervals (growing maps). */
void session_tick(struct session *s);
/* Write the report of the current interval, or the summary (see report_write). */
/* Print a report or the summary; returns its number of leak suspects (-1: none printed). */
int session_report(struct session *s, FILE *out, enum report_end end);
void session_log_self(const struct session *s, const char *when);
void session_detach(struct session *s);


#endif
