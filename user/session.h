/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One tracing session: the configuration from the command line, the target,
 * and what every source and view shares (symbolizer, series). A source knows
 * how to attach to one kind of target and how to turn its maps into site
 * samples each interval; nothing after that knows about BPF.
 */
#ifndef LEAKSCOPE_SESSION_H
#define LEAKSCOPE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/series.h"
#include "target/symbolize.h"
#include "lib/util.h"

enum output_format { OUT_TEXT, OUT_JSON };

enum native_mode {
	NATIVE_EXACT,  /* every malloc-family call probed: exact outstanding bytes */
	NATIVE_GROWTH, /* rare events only (page faults, brk, mmap): growth attribution */
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
	uint32_t max_stacks;
	uint32_t alloc_sample_hz; /* Go allocation sampler, when heap profiling is off */
	const char *output_path;
	bool show_runtime; /* the Go runtime's own goroutines */
	enum native_mode native_mode;
	const char *alloc_prefix; /* allocator symbol prefix, e.g. "je_" */
	bool timestamps;
};

struct session;

struct source_ops {
	const char *name;
	/*
	 * Attach to the target. 0 on success, -ENOTSUP when this source does not apply to
	 * the target (not an error), other -errno with s->fatal set.
	 */
	int (*attach)(struct session *s, void **state);
	/* Fill the current interval's samples. -ESRCH when the target has gone. */
	int (*collect)(struct session *s, void *state);
	void (*detach)(void *state);
};

/* What a view reports besides its sites: totals, caveats, drops. */
struct view_info {
	bool active;
	char note[512];	 /* caveats shown under the view's header, "" if none */
	uint64_t drops;	 /* events lost since attach (maps full, stacks lost) */
	int64_t untracked; /* e.g. goroutines that existed before attach */
};

/* One GC cycle as seen from outside. */
struct gc_point {
	uint64_t mono_ns;
	uint64_t heap_marked; /* live heap after the cycle's mark */
	uint32_t numgc;	      /* cycle number since the program started */
};

/*
 * The Go heap's MemStats view without code in the target: a point per GC, the
 * live object count, the allocation rate, and whether the runtime's heap
 * profile is there to attribute memory to stacks.
 */
struct go_heap_trend {
	bool active;
	bool profiling;	      /* in-use by stack available (runtime heap profile) */
	int64_t profile_rate; /* runtime.MemProfileRate now */
	char profiling_note[512];
	struct gc_point *gc; /* every GC seen since attach */
	size_t ngc, cap_gc;
	size_t gc_first_in_interval; /* index of the first GC of the current interval */
	uint64_t heap_marked_at_attach; /* from gcController, when known */
	bool have_marked_at_attach;
	uint32_t numgc; /* as of the end of the interval */
	bool have_numgc;
	int64_t heap_objects; /* HeapObjects now (memstats.heapStats), when readable */
	bool have_objects;
	double objects_slope; /* objects per second over the session */
	double heap_slope;    /* live heap after GC, bytes per second over the session */
	double alloc_rate;    /* bytes allocated per second in the interval */
	bool have_alloc_rate;
};

struct target_info {
	char exe[256];
	char cmdline[256];
	bool is_go;
	char go_version[48];
	bool stripped, pie;
};

struct session {
	const struct config *cfg;
	pid_t pid;	     /* in our PID namespace */
	bool launched;	     /* started by us with -- COMMAND */
	const char *exe_path; /* file to attach probes to (/proc/PID/exe or the command) */
	struct target_info target;
	struct symbolizer sym;
	struct series series;
	struct view_info views[VIEW__MAX];
	struct go_heap_trend heap;
	struct fatal fatal;
	uint64_t pidns_dev, pidns_ino;
};

extern const struct source_ops goroutine_source;
extern const struct source_ops goheap_source;
extern const struct source_ops thread_source;
extern const struct source_ops native_source;
extern const struct source_ops growth_source;

/* Turn a skeleton load failure into the right message and exit status. */
void bpf_load_error(struct fatal *f, const char *what, int err);

#endif
