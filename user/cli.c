// SPDX-License-Identifier: GPL-2.0
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define LEAKSCOPE_VERSION "0.1.0"

const char *argp_program_version = "leakscope " LEAKSCOPE_VERSION;
/* argp exits on its own for unknown options: with our documented usage status. */
error_t argp_err_exit_status = EXIT_USAGE;

static const char doc[] =
	"Find what leaks in a running process, from outside: no restart, no code change.\n"
	"\n"
	"Every INTERVAL seconds (default 5) leakscope prints, by stack, what is live now "
	"and how fast it grows: for Go programs, goroutines by the stack that created them "
	"and the state they wait in, the heap in use by allocation stack and the live heap "
	"after each GC; for native programs (C, C++, Rust), outstanding malloc-family "
	"allocations by stack (or, with --mode growth, memory growth by stack at a few "
	"percent overhead); for both, live threads by creation stack. After COUNT reports (default: until Ctrl-C or the "
	"target exits) it prints a summary of the whole session, ranked by growth. "
	"Ctrl-C also prints the summary; a second Ctrl-C quits at once.\n"
	"\n"
	"The stacks on top of the report are the ones that grew the most; a stack whose "
	"live count grows in every report while little of it exits is your leak."
	"\vExamples:\n"
	"  leakscope -p 4242              report every 5 s until Ctrl-C\n"
	"  leakscope -p 4242 10 6         every 10 s, 6 reports, then the summary\n"
	"  leakscope -- ./server -flag    start a program with the probes already in place\n"
	"  leakscope -j -p 4242 5 3 | jq 'select(.type==\"stack\")'\n"
	"  leakscope --mode growth -p 4242   a C/C++/Rust service too busy for a probe per malloc\n"
	"  leakscope --mode sampled -p 4242  outstanding bytes by stack, estimated, for less than exact\n"
	"  leakscope -w threads -p 4242      only the threads view\n"
	"  leakscope --dump -p 4242          where every goroutine stands, now, and exit\n"
	"  leakscope -p 4242 --duration 60s -o report.txt || page_someone\n"
	"  leakscope -p 4242 --pprof prof 10 6; go tool pprof -top prof/go-heap.final.pb.gz\n"
	"  leakscope -p 4242 --folded out 10 6; flamegraph.pl out.native-heap.folded > f.svg\n"
	"\n"
	"Go 1.19 to 1.27 are known; on a newer release each view is checked against the "
	"live process and left out, with one line saying why, when it does not fit.\n"
	"\n"
	"Needs root, or CAP_SYS_ADMIN + CAP_SYS_PTRACE (CAP_BPF + CAP_PERFMON instead of "
	"CAP_SYS_ADMIN on kernels before 6.16 and its July 2025 stable releases, which ask "
	"uprobes for CAP_SYS_ADMIN), and a kernel with BTF (/sys/kernel/btf/vmlinux). In a "
	"sidecar container, share the target's PID namespace and use the PID you see there; "
	"its /proc must be that namespace's.\n"
	"\n"
	"Exit status:\n"
	"  0  reports printed (also when the target exited during the session)\n"
	"  1  unexpected failure inside leakscope\n"
	"  2  bad command line\n"
	"  3  no such process, or it cannot be read\n"
	"  4  target not supported: nothing leakscope can trace in it (no Go runtime, no "
	"malloc or pthread_create it can find, a Go release older than 1.19, or no view "
	"whose checks passed)\n"
	"  5  not permitted: run as root\n"
	"  6  the kernel lacks BTF or uprobe support\n"
	"  7  the session ended with at least one leak suspect (so a script can run "
	"leakscope -p PID --duration 60s -o report.txt || page_someone)\n"
	"\n"
	"Suspects: every report and the summary start with the rows that leak, by these "
	"rules. \"Steadily\" means, over the last --suspect-window reports (default 6, and "
	"never before 3): grew in at least two and a third of them, shrank in at most a "
	"quarter, ends at its high, and gained 5 % or more. What is made and ended again, "
	"however busy, never is; nor are runnable goroutines.\n"
	"  goroutines-blocked-growth  a go statement's goroutines grow steadily (+10 or "
	"more) and 90 % of them wait\n"
	"  goroutines-many   more than --suspect-goroutines (5000) goroutines, growing over "
	"--suspect-goroutine-growth (300) %/min: the go statements that grow steadily\n"
	"  goroutines-stuck  --suspect-stuck (1000) or more goroutines of one go statement "
	"blocked at the same place, every one for --suspect-stuck-for (10m) or longer\n"
	"  heap-rate         a Go heap site's in-use bytes grow steadily faster than "
	"--suspect-heap-rate (10) MB/min\n"
	"  heap-objects-growth  a Go heap site's live objects grow steadily to more than "
	"--suspect-objects (300) % above what it had at attach\n"
	"  heap-objects-trend  the heap's objects rise faster than --suspect-heap-objects "
	"(500) per second: the three sites whose objects grow fastest\n"
	"  native-growth     native outstanding bytes grow steadily (+64 KiB or more) while "
	"the oldest block outlives half the window\n"
	"  threads-growth    a thread creation site's live threads grow steadily with no "
	"thread of it exiting\n";

static const char args_doc[] = "-p PID [INTERVAL [COUNT]]\n[INTERVAL [COUNT]] -- COMMAND [ARG...]";

enum {
	OPT_MAX_GOROUTINES = 1000,
	OPT_MAX_STACKS,
	OPT_ALLOC_PREFIX,
	OPT_SAMPLE_HZ,
	OPT_SAMPLE_BYTES,
	OPT_UNWIND_MAX,
	OPT_DUMP,
	OPT_DURATION,
	OPT_SUSPECTS,
	OPT_SUS_WINDOW,
	OPT_SUS_HEAP_RATE,
	OPT_SUS_OBJECTS,
	OPT_SUS_HEAP_OBJECTS,
	OPT_SUS_GOROUTINES,
	OPT_SUS_GOROUTINE_GROWTH,
	OPT_SUS_STUCK,
	OPT_SUS_STUCK_FOR,
	OPT_PPROF,
	OPT_FOLDED,
	OPT_MAX_ALLOCS,
	OPT_MAX_THREADS,
	OPT_CREATION_PROBE,
};

static const struct argp_option options[] = {
	{"pid", 'p', "PID", 0, "Process to trace"},
	{"json", 'j', NULL, 0, "JSON lines instead of text (fields: see README)"},
	{"top", 'T', "N", 0, "Stacks per view and report (default 10; 0 = all)"},
	{"depth", 'd', "N", 0, "Frames printed per stack (default 16)"},
	{"what", 'w', "LIST", 0,
	 "Views to report, comma-separated: goroutines, go-heap, go-alloc, native-heap, "
	 "native-growth, threads (default: all that apply)"},
	{"output", 'o', "FILE", 0, "Write reports to FILE instead of standard output"},
	{"duration", OPT_DURATION, "TIME", 0,
	 "End the session after TIME (30s, 5m, 1h; plain numbers are seconds), with the "
	 "summary; exit status 7 if it names a suspect"},
	{"pprof", OPT_PPROF, "DIR", 0,
	 "Also write each report as pprof files, DIR/VIEW.N.pb.gz (the summary: VIEW.final.pb.gz), "
	 "for go tool pprof (-top, -http, -diff_base)"},
	{"folded", OPT_FOLDED, "PREFIX", 0,
	 "At the end, write folded stacks per view to PREFIX.VIEW.folded (flamegraph.pl, "
	 "inferno, speedscope)"},
	{"suspects", OPT_SUSPECTS, "on|off", 0, "Lead each report with its leak suspects (default on)"},
	{"suspect-window", OPT_SUS_WINDOW, "N", 0, "Reports looked back at for steady growth (default 6)"},
	{"suspect-heap-rate", OPT_SUS_HEAP_RATE, "MB", 0, "heap-rate: MB per minute (default 10)"},
	{"suspect-objects", OPT_SUS_OBJECTS, "PCT", 0, "heap-objects-growth: percent (default 300)"},
	{"suspect-heap-objects", OPT_SUS_HEAP_OBJECTS, "N", 0,
	 "heap-objects-trend: objects per second (default 500)"},
	{"suspect-goroutines", OPT_SUS_GOROUTINES, "N", 0, "goroutines-many: count (default 5000)"},
	{"suspect-goroutine-growth", OPT_SUS_GOROUTINE_GROWTH, "PCT", 0,
	 "goroutines-many: percent per minute (default 300)"},
	{"suspect-stuck", OPT_SUS_STUCK, "N", 0, "goroutines-stuck: count (default 1000)"},
	{"suspect-stuck-for", OPT_SUS_STUCK_FOR, "TIME", 0, "goroutines-stuck: blocked for (default 10m)"},
	{"runtime", 'r', NULL, 0, "Also show the Go runtime's own goroutines (GC workers...)"},
	{"mode", 'm', "MODE", 0,
	 "Native heap: exact (every malloc/free probed; default), sampled (every call probed "
	 "but only a sample recorded: outstanding bytes and objects estimated, marked ~ with a "
	 "95% error bound, a half to two thirds of exact's cost per call), or growth (page faults, "
	 "brk, mmap only: a few percent overhead, attributes growth rather than counting "
	 "outstanding allocations)"},
	{"sample-bytes", OPT_SAMPLE_BYTES, "BYTES", 0,
	 "--mode sampled: a block of N bytes is recorded with probability N/BYTES, every one "
	 "from BYTES up (default 64K; K, M suffixes). A stack holding B bytes is estimated "
	 "within 2*sqrt(BYTES*B): +-2 MiB for 16 MiB at the default"},
	{"alloc-prefix", OPT_ALLOC_PREFIX, "PREFIX",
	 0, "Allocator symbols carry PREFIX, e.g. je_ for a jemalloc built with a prefix"},
	{"verbose", 'v', NULL, 0, "Say how probes were placed; twice for libbpf debug output"},
	{"max-goroutines", OPT_MAX_GOROUTINES, "N", 0,
	 "Goroutines tracked with their full creation stack (default 1048576)"},
	{"max-stacks", OPT_MAX_STACKS, "N", 0,
	 "Distinct stacks (and sites per view) kept (default 16384)"},
	{"max-allocs", OPT_MAX_ALLOCS, "N", 0,
	 "Native heap: outstanding allocations tracked (default 4194304; memory grows with use)"},
	{"max-threads", OPT_MAX_THREADS, "N", 0, "Threads tracked with their creation site (default 131072)"},
	{"dump", OPT_DUMP, NULL, 0,
	 "Go programs: print where every goroutine stands now, grouped by go statement, wait "
	 "reason and stack (like /debug/pprof/goroutine?debug=1), and exit; no probe is "
	 "placed, every stack is read, every go statement shown (unless --top)"},
	{"unwind-max", OPT_UNWIND_MAX, "N", 0,
	 "Goroutine stacks read per go statement and report for \"where they are now\" "
	 "(default 100; groups are scaled, marked ~, beyond it)"},
	{"creation-probe", OPT_CREATION_PROBE, "MODE", 0,
	 "Go programs: the probe that records each goroutine's full creation stack. learn "
	 "(default): on until every go statement's stacks are known, then paused while more "
	 "than 500 goroutines/s are made (on again 1 s every 30 s, and for a go statement "
	 "seen without a stack; meanwhile CREATED/EXITED count only the goroutines seen "
	 "between two reports); on: always, exact "
	 "CREATED/EXITED, one probe hit per go statement run; off: none, rows by go "
	 "statement only"},
	{"sample-hz", OPT_SAMPLE_HZ, "HZ", 0,
	 "Go programs without heap profiling: CPU samples per second per CPU used to "
	 "apportion allocation by stack (default 99; cost grows with it: 999 took a quarter "
	 "of a busy network server's throughput here)"},
	{0},
};

struct parse_state {
	struct config *cfg;
	int npos;
	int error;
};

static void usage_error(struct parse_state *ps, const char *fmt, const char *arg)
{
	if (ps->error)
		return;
	fprintf(stderr, "leakscope: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see leakscope --help)\n");
	ps->error = EXIT_USAGE;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "30s", "5m", "1.5h", "90" (seconds): seconds in *out, within [min, max]. */
static bool parse_duration(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (strcmp(end, "s") && *end)
		return false;
	if (!(v >= min && v <= max))
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return false;
	*out = v;
	return true;
}

static void parse_views(struct parse_state *ps, char *list)
{
	char *save, *tok;

	memset(ps->cfg->views, 0, sizeof(ps->cfg->views));
	ps->cfg->views_given = true;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int v;

		for (v = 0; v < VIEW__MAX; v++)
			if (!strcmp(tok, view_name(v)))
				break;
		if (v == VIEW__MAX) {
			usage_error(ps, "unknown view '%s' in --what; known: goroutines, go-heap, "
					"go-alloc, native-heap, native-growth, threads",
				    tok);
			return;
		}
		ps->cfg->views[v] = true;
	}
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct config *cfg = ps->cfg;
	long v;

	switch (key) {
	case 'p':
		if (!parse_long(arg, 1, 0x7fffffff, &v))
			usage_error(ps, "PID '%s' is not a process ID; give a number, e.g. -p 4242",
				    arg);
		cfg->pid = v;
		break;
	case 'j':
		cfg->format = OUT_JSON;
		break;
	case 'T':
		if (!parse_long(arg, 0, 1000000, &v))
			usage_error(ps, "--top '%s' is not a count; give a number, 0 for all", arg);
		cfg->top = v;
		break;
	case 'd':
		if (!parse_long(arg, 1, 1000, &v))
			usage_error(ps, "--depth '%s' is not a frame count; give 1 to 1000", arg);
		cfg->max_depth = v;
		break;
	case 'w':
		parse_views(ps, arg);
		break;
	case 'o':
		cfg->output_path = arg;
		break;
	case 'r':
		cfg->show_runtime = true;
		break;
	case 'm':
		if (!strcmp(arg, "exact"))
			cfg->native_mode = NATIVE_EXACT;
		else if (!strcmp(arg, "growth"))
			cfg->native_mode = NATIVE_GROWTH;
		else if (!strcmp(arg, "sampled"))
			cfg->native_mode = NATIVE_SAMPLED;
		else
			usage_error(ps, "--mode '%s' unknown; give exact, sampled or growth", arg);
		break;
	case OPT_CREATION_PROBE:
		if (!strcmp(arg, "learn"))
			cfg->creation_probe = CREATION_PROBE_LEARN;
		else if (!strcmp(arg, "on"))
			cfg->creation_probe = CREATION_PROBE_ON;
		else if (!strcmp(arg, "off"))
			cfg->creation_probe = CREATION_PROBE_OFF;
		else
			usage_error(ps, "--creation-probe '%s' unknown; give learn, on or off", arg);
		break;
	case OPT_SAMPLE_HZ:
		if (!parse_long(arg, 10, 100000, &v))
			usage_error(ps, "--sample-hz '%s' out of range; give 10 to 100000", arg);
		cfg->alloc_sample_hz = v;
		break;
	case OPT_SAMPLE_BYTES: {
		char *end;
		unsigned long long b;

		errno = 0;
		b = strtoull(arg, &end, 10);
		if (*end == 'K' || *end == 'k')
			b <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			b <<= 20, end++;
		if (errno || end == arg || *end || b < 1 || b > (1ull << 30) || arg[0] == '-')
			usage_error(ps, "--sample-bytes '%s' out of range; give 1 to 1073741824 bytes, e.g. 64K or 1M",
				    arg);
		cfg->sample_bytes = b;
		break;
	}
	case OPT_UNWIND_MAX:
		if (!parse_long(arg, 1, 1L << 24, &v))
			usage_error(ps, "--unwind-max '%s' out of range; give 1 to 16777216", arg);
		cfg->unwind_max = v;
		break;
	case OPT_DUMP:
		cfg->dump = true;
		break;
	case OPT_DURATION:
		if (!parse_duration(arg, 0.1, 30 * 86400, &cfg->duration_s))
			usage_error(ps, "--duration '%s' is not a time; give e.g. 30s, 5m or 1h", arg);
		break;
	case OPT_PPROF:
		if (mkdir(arg, 0755) && errno != EEXIST)
			usage_error(ps, "--pprof '%s': cannot create the directory; give a writable "
					"one",
				    arg);
		else if (access(arg, W_OK))
			usage_error(ps, "--pprof '%s' is not a writable directory", arg);
		cfg->pprof_dir = arg;
		break;
	case OPT_FOLDED:
		cfg->folded_prefix = arg;
		break;
	case OPT_SUSPECTS:
		if (!strcmp(arg, "on") || !strcmp(arg, "off"))
			cfg->sus.off = !strcmp(arg, "off");
		else
			usage_error(ps, "--suspects '%s' unknown; give on or off", arg);
		break;
	case OPT_SUS_WINDOW:
		if (!parse_long(arg, 3, 60, &v))
			usage_error(ps, "--suspect-window '%s' out of range; give 3 to 60 reports", arg);
		cfg->sus.window = v;
		break;
	case OPT_SUS_HEAP_RATE: {
		double d;

		if (!parse_double(arg, 0, 1e6, &d))
			usage_error(ps, "--suspect-heap-rate '%s' is not a number of MB per minute",
				    arg);
		cfg->sus.heap_bytes_per_min = d * 1e6;
		break;
	}
	case OPT_SUS_OBJECTS:
		if (!parse_double(arg, 0, 1e6, &cfg->sus.objects_pct))
			usage_error(ps, "--suspect-objects '%s' is not a percentage", arg);
		break;
	case OPT_SUS_HEAP_OBJECTS:
		if (!parse_double(arg, 0, 1e9, &cfg->sus.heap_objects_per_s))
			usage_error(ps, "--suspect-heap-objects '%s' is not a number of objects per "
					"second",
				    arg);
		break;
	case OPT_SUS_GOROUTINES:
		if (!parse_long(arg, 0, 1L << 30, &v))
			usage_error(ps, "--suspect-goroutines '%s' is not a count", arg);
		cfg->sus.goroutines = v;
		break;
	case OPT_SUS_GOROUTINE_GROWTH:
		if (!parse_double(arg, 0, 1e6, &cfg->sus.goroutines_pct_per_min))
			usage_error(ps, "--suspect-goroutine-growth '%s' is not a percentage per minute",
				    arg);
		break;
	case OPT_SUS_STUCK:
		if (!parse_long(arg, 1, 1L << 30, &v))
			usage_error(ps, "--suspect-stuck '%s' is not a count", arg);
		cfg->sus.stuck = v;
		break;
	case OPT_SUS_STUCK_FOR:
		if (!parse_duration(arg, 0, 30 * 86400, &cfg->sus.stuck_s))
			usage_error(ps, "--suspect-stuck-for '%s' is not a time; give e.g. 90s or 10m",
				    arg);
		break;
	case OPT_ALLOC_PREFIX:
		cfg->alloc_prefix = arg;
		break;
	case 'v':
		log_verbosity++;
		break;
	case OPT_MAX_GOROUTINES:
		if (!parse_long(arg, 1024, 1L << 26, &v))
			usage_error(ps, "--max-goroutines '%s' out of range; give 1024 to 67108864",
				    arg);
		cfg->max_goroutines = v;
		break;
	case OPT_MAX_ALLOCS:
		if (!parse_long(arg, 1024, 1L << 28, &v))
			usage_error(ps, "--max-allocs '%s' out of range; give 1024 to 268435456", arg);
		cfg->max_allocs = v;
		break;
	case OPT_MAX_THREADS:
		if (!parse_long(arg, 64, 1L << 22, &v))
			usage_error(ps, "--max-threads '%s' out of range; give 64 to 4194304", arg);
		cfg->max_threads = v;
		break;
	case OPT_MAX_STACKS:
		if (!parse_long(arg, 256, 1L << 22, &v))
			usage_error(ps, "--max-stacks '%s' out of range; give 256 to 4194304", arg);
		cfg->max_stacks = v;
		break;
	case ARGP_KEY_ARG:
		if (ps->npos == 0) {
			double d;
			char *end;

			d = strtod(arg, &end);
			if (end == arg || *end || !(d >= 0.1 && d <= 86400))
				usage_error(ps, "INTERVAL '%s' is not a number of seconds "
						"(0.1 to 86400), e.g. leakscope -p PID 10",
					    arg);
			cfg->interval_s = d;
		} else if (ps->npos == 1) {
			if (!parse_long(arg, 1, 0x7fffffff, &v))
				usage_error(ps, "COUNT '%s' is not a number of reports, e.g. "
						"leakscope -p PID 10 6",
					    arg);
			cfg->count = v;
		} else {
			usage_error(ps, "unexpected argument '%s'; to start a program, put it after --, "
					"e.g. leakscope -- ./server",
				    arg);
		}
		ps->npos++;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct config *cfg)
{
	static const struct argp argp = {options, parse_opt, args_doc, doc};
	struct parse_state ps = {.cfg = cfg};
	int dashdash = -1, err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_s = 5;
	cfg->top = -1; /* 10, or all for --dump */
	cfg->max_depth = 16;
	cfg->max_goroutines = 1u << 20;
	cfg->unwind_max = 100;
	cfg->max_stacks = 16384;
	cfg->max_allocs = 1u << 22;
	cfg->max_threads = 131072;
	cfg->alloc_sample_hz = 99;
	cfg->sample_bytes = 64 << 10;
	suspect_opts_default(&cfg->sus);
	for (int v = 0; v < VIEW__MAX; v++)
		cfg->views[v] = true;

	/* Everything after the first "--" is the command to start, untouched by argp. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dashdash = i;
			break;
		}
	if (dashdash > 0) {
		cfg->command = argv + dashdash + 1;
		argc = dashdash;
	}
	err = argp_parse(&argp, argc, argv, 0, NULL, &ps);
	if (err && !ps.error) {
		/* argp already printed its own message about an unknown option. */
		return EXIT_USAGE;
	}
	if (ps.error)
		return ps.error;
	if (cfg->command && !cfg->command[0]) {
		fprintf(stderr, "leakscope: error: nothing after --; give the program to start, "
				"e.g. leakscope -- ./server\n");
		return EXIT_USAGE;
	}
	if (cfg->command && cfg->pid) {
		fprintf(stderr, "leakscope: error: -p and -- COMMAND both given; trace a running "
				"process with -p PID, or start one with -- COMMAND\n");
		return EXIT_USAGE;
	}
	if (cfg->dump && cfg->command) {
		fprintf(stderr, "leakscope: error: --dump looks at a running program; give -p PID, "
				"not -- COMMAND\n");
		return EXIT_USAGE;
	}
	if (cfg->sample_bytes != (64 << 10) && cfg->native_mode != NATIVE_SAMPLED) {
		fprintf(stderr, "leakscope: error: --sample-bytes sets how --mode sampled samples; "
				"add --mode sampled, or drop --sample-bytes\n");
		return EXIT_USAGE;
	}
	if (cfg->top < 0)
		cfg->top = cfg->dump ? 0 : 10;
	if (cfg->dump) {
		/* The goroutines, now: nothing else, and no interval to wait for. */
		memset(cfg->views, 0, sizeof(cfg->views));
		cfg->views[VIEW_GOROUTINES] = true;
		cfg->views_given = true;
	}
	if (!cfg->command && !cfg->pid) {
		fprintf(stderr, "leakscope: error: no target; give -p PID to trace a running "
				"process, or -- COMMAND to start one (see leakscope --help)\n");
		return EXIT_USAGE;
	}
	return 0;
}
