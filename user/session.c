// SPDX-License-Identifier: GPL-2.0
/*
 * The session: find the target, ask every source whose views were asked for
 * whether it applies, load the one BPF object with what they need, attach, and
 * each interval let them fill their samples.
 */
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfio/object.h"
#include "bpfio/uprobe.h"
#include "leakscope.skel.h"
#include "session.h"
#include "target/modfile.h"
#include "target/proc.h"

/* In the order they attach; the report orders views by enum view_kind. */
static const struct source_ops *const all_sources[] = {
	&goroutine_source, &goheap_source, &native_source, &growth_source, &thread_source,
};

/* execvp's search, done by us so a missing program is reported before forking. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save;

	if (strchr(name, '/'))
		return access(name, X_OK) ? NULL : realpath(name, NULL);
	copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *dir ? dir : ".", name);

		if (!access(p, X_OK)) {
			char *r = realpath(p, NULL);

			free(p);
			free(copy);
			return r;
		}
		free(p);
	}
	free(copy);
	return NULL;
}

/*
 * Fork the command, stopped before exec until the probes are in place: the child
 * waits for one byte on a pipe. Returns the write end; closing it without writing
 * makes the child exit 127.
 */
int session_launch(struct session *s, char **argv, const char *path)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fatal_set(&s->fatal, EXIT_ERROR, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		fatal_set(&s->fatal, EXIT_ERROR, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		char c;

		close(pfd[1]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(pfd[0], &c, 1) != 1)
			_exit(127);
		/* JSON on our standard output is for scripts: the program's own goes to stderr. */
		if (s->cfg->format == OUT_JSON && !s->cfg->output_path)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(path, argv);
		fprintf(stderr, "leakscope: error: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	s->pid = pid;
	s->launched = true;
	return pfd[1];
}

int session_resolve_target(struct session *s, char **launch_path)
{
	const struct config *cfg = s->cfg;
	struct modfile *mf;
	int err;

	if (cfg->command) {
		*launch_path = find_program(cfg->command[0]);
		if (!*launch_path) {
			fatal_set(&s->fatal, EXIT_NO_TARGET,
				  "cannot run '%s': no such executable%s", cfg->command[0],
				  strchr(cfg->command[0], '/') ? "" : " in PATH");
			return -ENOENT;
		}
		s->exe_path = *launch_path;
		const char *base = strrchr(*launch_path, '/');
		snprintf(s->target.exe, sizeof(s->target.exe), "%s", base ? base + 1 : *launch_path);
	} else {
		err = proc_check(cfg->pid);
		if (err == -ESRCH) {
			fatal_set(&s->fatal, EXIT_NO_TARGET,
				  "no process with PID %d: check the PID (ps -p %d), or start the "
				  "program under leakscope with -- COMMAND",
				  cfg->pid, cfg->pid);
			return err;
		}
		if (err) {
			fatal_set(&s->fatal, EXIT_PERMISSION,
				  "cannot read process %d (%s): run leakscope as root, with "
				  "CAP_SYS_PTRACE", cfg->pid, strerror(-err));
			return err;
		}
		s->pid = cfg->pid;
		s->exe_path = xasprintf("/proc/%d/exe", cfg->pid);
		proc_exe_name(cfg->pid, s->target.exe, sizeof(s->target.exe));
		proc_cmdline(cfg->pid, s->target.cmdline, sizeof(s->target.cmdline));
	}

	mf = modfile_get(s->exe_path, &err);
	if (!mf) {
		if (err == -ENOENT && !cfg->command) {
			fatal_set(&s->fatal, EXIT_NO_TARGET, "process %d exited before leakscope "
							     "could look at it",
				  cfg->pid);
			return err;
		}
		fatal_set(&s->fatal, EXIT_UNSUPPORTED, "%s (%s) is not an ELF executable leakscope "
						       "can read: %s",
			  s->target.exe, s->exe_path, strerror(-err));
		return err;
	}
	s->target.stripped = !mf->elf->has_symtab;
	s->target.pie = mf->elf->is_dyn;
	/* Said once the sources are known: a warning, or the reason nothing can be traced. */
	if (!mf->warned && modfile_problem(mf, s->exe_sym_why, sizeof(s->exe_sym_why)))
		mf->warned = true;
	if (!mf->gb)
		return 0; /* native: the sources that apply will say so */
	s->target.is_go = true;
	snprintf(s->target.go_version, sizeof(s->target.go_version), "%s",
		 mf->gb->version[0] ? mf->gb->version : "go?");
	if (mf->gb->minor && mf->gb->minor < GO_MIN_MINOR) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "%s is built with %s, older than the oldest Go leakscope supports "
			  "(go1.%d): rebuild it with a newer Go",
			  s->target.exe, mf->gb->version, GO_MIN_MINOR);
		return -ENOTSUP;
	}
	/* A release we have no layout for: each view checks the live process, or stays out. */
	if (mf->gb->assumed)
		log_warn("%s is built with %s, which this leakscope does not know, %s: the views "
			 "that need the runtime's layout try go1.%d's on the live process and are "
			 "left out, each with its reason, when it does not fit (update leakscope: "
			 "tools/go-offsets.sh adds a Go release)",
			 s->target.exe, mf->gb->version[0] ? mf->gb->version : "an unrecognised Go",
			 mf->elf->has_debug ? "and its DWARF does not pass leakscope's checks"
					    : "and it has no DWARF to learn the layout from",
			 go_offsets_newest()->go_minor);
	if (!mf->gb->pcln) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "cannot read symbols of %s: %s, and every view of a Go program needs it",
			  s->target.exe, s->exe_sym_why);
		return -ENOTSUP;
	}
	return 0;
}


void session_view_off(struct session *s, enum view_kind v, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (s->views[v].off)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->views[v].active = false;
	s->views[v].off = true;
	if (s->target.is_go)
		log_warn("%s view switched off: %s; the other views go on (please report this line "
			 "with the Go version, %s)",
			 view_name(v), why, s->target.go_version);
	else
		log_warn("%s view switched off: %s; the other views go on", view_name(v), why);
}

enum view_choice session_view_choice(const struct session *s, enum view_kind v)
{
	if (!s->cfg->views_given)
		return VIEW_BY_DEFAULT;
	return s->cfg->views[v] ? VIEW_ASKED : VIEW_LEFT_OUT;
}

/* The views asked for, as VIEW_BIT()s (all when --what was not given). */
static uint32_t wanted_views(const struct session *s)
{
	uint32_t w = 0;

	for (int v = 0; v < VIEW__MAX; v++)
		if (session_view_choice(s, v) != VIEW_LEFT_OUT)
			w |= VIEW_BIT(v);
	return w;
}

static void no_source_error(struct session *s)
{
	if (s->exe_sym_why[0] && !s->cfg->dump && !s->cfg->views_given)
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "cannot read symbols of %s: %s, and nothing else in it (pid %d) can be "
			  "traced",
			  s->target.exe, s->exe_sym_why, s->pid);
	else if (s->cfg->dump)
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "--dump shows a Go program's goroutines, and %s (pid %d) is %s: "
			  "leave --dump out to trace it",
			  s->target.exe, s->pid,
			  s->target.is_go ? "a Go program whose goroutines cannot be read"
					  : "not a Go program");
	else if (s->cfg->views_given)
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "none of the views asked for with --what applies to %s (pid %d, %s): "
			  "leave --what out to see what does",
			  s->target.exe, s->pid, s->target.is_go ? "a Go program" : "not a Go program");
	else if (!s->target.is_go)
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "%s (pid %d) is not a Go program, and no native allocator or "
			  "thread functions were found in it to trace",
			  s->target.exe, s->pid);
	else
		fatal_set(&s->fatal, EXIT_UNSUPPORTED, "nothing to trace in %s", s->target.exe);
}

/* A program we start stops at its ELF entry point (bpf/launch.bpf.c). */
static void hold_at_entry(struct session *s)
{
	int err;
	struct modfile *mf = modfile_get(s->exe_path, &err);
	const Elf64_Ehdr *eh;

	if (!mf || mf->elf->size < sizeof(*eh))
		return;
	eh = mf->elf->map;
	s->entry_link = uprobe_attach(s->pid, s->bpf->progs.launch_at_entry, s->exe_path,
				      mf->elf, eh->e_entry, 0, "the program's entry point", NULL);
}

void session_release(struct session *s, int go_fd)
{
	uint64_t until = now_ns() + 5000000000ull;
	siginfo_t si;

	if (write(go_fd, "g", 1) != 1)
		log_warn("could not start %s", s->exe_path);
	close(go_fd);
	if (!s->entry_link)
		return;
	/* Until it stops at its entry (or exits, or 5 s pass): then its mappings are final. */
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, s->pid, &si, WSTOPPED | WEXITED | WNOHANG | WNOWAIT) || si.si_pid)
			break;
		if (now_ns() > until) {
			log_warn("%s did not reach its entry point within 5 s: started without "
				 "waiting for it",
				 s->exe_path);
			break;
		}
		usleep(1000);
	}
	bpf_link__destroy(s->entry_link);
	s->entry_link = NULL;
	if (si.si_pid && si.si_code == CLD_STOPPED) {
		maps_watch_refresh(&s->maps);
		/* What depends on the mappings (probes in its libraries, call sites to step
		 * over) goes in before any of its code runs. */
		for (int i = 0; i < s->nact; i++)
			if (s->act[i].ops->remap)
				s->act[i].ops->remap(s, s->act[i].state);
		log_debug("%s held at its entry point: mappings read", s->exe_path);
		kill(s->pid, SIGCONT);
	}
}

/*
 * When the process started, as BPF reads it (the leader's start_boottime, ns): the
 * clock tick /proc/PID/stat names (USER_HZ, 100 on x86-64), less the boot-time offset
 * of leakscope's time namespace, which /proc adds. Both 0 when unknown: not checked.
 */
static void start_window(pid_t pid, uint64_t *lo, uint64_t *hi)
{
	const uint64_t tick = 1000000000ull / 100;
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	long long off_s = 0, off_ns = 0, off;
	FILE *f;
	int i;
	ssize_t n;

	*lo = *hi = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	/* "PID (COMM) STATE ...": starttime is field 22, the 20th after the name. */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return;
	f = fopen("/proc/self/timens_offsets", "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "boottime %lld %lld", &off_s, &off_ns) == 2)
				break;
		fclose(f);
	}
	off = off_s * 1000000000ll + off_ns;
	*lo = ticks * tick - off;
	*hi = *lo + tick;
}

/* Does the program about to be launched load shared libraries (has an interpreter)? */
static bool launched_maps_libraries(const struct session *s)
{
	struct elf_section sec;
	struct modfile *mf;
	int err;

	mf = modfile_get(s->exe_path, &err);
	return !mf || !elf_find_section(mf->elf, ".interp", &sec);
}

int session_attach(struct session *s)
{
	uint32_t wanted = wanted_views(s);
	uint64_t mem, t0 = now_ns(), t_read, t_load;
	int err, nmaps;

	/* The executable first, as the file a launched program is about to map. */
	maps_watch_init(&s->maps, s->pid);
	symbolizer_init(&s->sym, &s->maps);
	maps_watch_expect(&s->maps, s->exe_path);
	/* A launched program that maps no library (no interpreter: a static build, a Go
	 * program without cgo) will map nothing of what the child maps before its exec,
	 * which is leakscope's own files: the sources go by the executable alone. */
	if ((!s->launched || launched_maps_libraries(s)) && maps_watch_refresh(&s->maps)) {
		fatal_set(&s->fatal, EXIT_NO_TARGET,
			  "process %d exited before leakscope could look at it", s->pid);
		return -ESRCH;
	}

	/* Which sources apply, from the target's files: nothing loaded yet. */
	for (size_t i = 0; i < ARRAY_SIZE(all_sources); i++) {
		const struct source_ops *ops = all_sources[i];
		void *state = NULL;

		if (!(ops->views & wanted))
			continue;
		err = ops->probe(s, &state);
		if (err && state)
			ops->detach(state);
		if (err == -ENOTSUP)
			continue;
		if (err) {
			if (!s->fatal.status)
				fatal_set(&s->fatal, EXIT_ERROR, "%s: %s", ops->name, strerror(-err));
			return err;
		}
		if (s->nact == MAX_SOURCES) {
			ops->detach(state);
			fatal_set(&s->fatal, EXIT_ERROR, "too many sources (MAX_SOURCES)");
			return -E2BIG;
		}
		s->act[s->nact++] = (struct active_source){ops, state};
	}
	t_read = now_ns();
	if (!s->nact) {
		no_source_error(s);
		return -ENOTSUP;
	}
	if (s->exe_sym_why[0])
		log_warn("cannot read symbols of %s: %s", s->target.exe, s->exe_sym_why);

	/* One object, one load, for all of them; none at all for --dump (memory reads). */
	if (!s->cfg->dump) {
		uint64_t lo, hi;
		struct stat st;

		s->bpf = bpfobj_open(s->pid, s->pidns_dev, s->pidns_ino, s->cfg->max_stacks,
				     &s->fatal);
		if (!s->bpf)
			return -ENOENT;
		/* Events count only while the process runs the file probed (not after exec). */
		if (!stat(s->exe_path, &st)) {
			s->bpf->rodata->target_exe_ino = st.st_ino;
			s->bpf->rodata->target_exe_dev = (major(st.st_dev) << 20) | minor(st.st_dev);
		}
		/* And only in the process that started then (not one that gets its PID). */
		start_window(s->pid, &lo, &hi);
		s->bpf->rodata->target_start_min = lo;
		s->bpf->rodata->target_start_max = hi;
	}
	for (int i = 0; i < s->nact; i++) {
		err = s->act[i].ops->configure(s, s->act[i].state, s->bpf);
		if (err)
			return err;
	}
	if (s->launched && s->bpf)
		bpfobj_use_prog(s->bpf->progs.launch_at_entry);
	if (s->bpf) {
		err = bpfobj_load(s->bpf, &s->fatal);
		if (err)
			return err;
	}
	stack_store_init(&s->stacks, s->bpf ? bpf_map__fd(s->bpf->maps.stacks) : -1);

	t_load = now_ns();
	for (int i = 0; i < s->nact; i++) {
		err = s->act[i].ops->attach(s, s->act[i].state);
		if (err) {
			if (!s->fatal.status)
				fatal_set(&s->fatal, EXIT_ERROR, "%s: attach failed: %s",
					  s->act[i].ops->name, strerror(-err));
			return err;
		}
	}
	if (s->launched && s->bpf)
		hold_at_entry(s);
	/* Views the user did not ask for are collected (a source feeds several) but not
	 * printed. */
	for (int v = 0; v < VIEW__MAX; v++)
		if (!(wanted & VIEW_BIT(v)))
			s->views[v].active = false;
	if (s->bpf) {
		mem = bpfobj_memory(s->bpf, &nmaps);
		log_debug("BPF map memory: %.1f MiB in %d maps", mem / 1048576.0, nmaps);
	}
	log_debug("attach: the target's files read in %.1f ms, BPF loaded in %.1f ms, probes "
		  "attached in %.1f ms",
		  (t_read - t0) / 1e6, (t_load - t_read) / 1e6, (now_ns() - t_load) / 1e6);
	return 0;
}

/* What leakscope itself costs so far: -v prints it with every report. */
void session_log_self(const struct session *s, const char *when)
{
	struct rusage ru;
	unsigned long long rss_kb = 0, run_delay_ns = 0;
	uint64_t mem = 0;
	int nmaps = 0;

	if (log_verbosity < 1)
		return;
	getrusage(RUSAGE_SELF, &ru);
	file_field("/proc/self/status", "VmRSS: %llu kB", &rss_kb);
	/* Time runnable but not running: on a loaded machine, what stretches wall times. */
	file_field("/proc/self/schedstat", "%*llu %llu", &run_delay_ns);
	if (s->bpf)
		mem = bpfobj_memory(s->bpf, &nmaps);
	log_debug("leakscope itself %s: CPU %.2f s user + %.2f s system (%.2f s more waiting "
		  "for a CPU), RSS %.1f MiB (peak %.1f MiB), BPF maps %.1f MiB",
		  when, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, run_delay_ns / 1e9,
		  rss_kb / 1024.0, MAX(rss_kb, (unsigned long long)ru.ru_maxrss) / 1024.0,
		  mem / 1048576.0);
}

int session_collect(struct session *s)
{
	uint64_t t0 = now_ns();

	series_next_interval(&s->series);
	/* What the target maps now, for every source: one read of /proc/PID/maps. */
	if (maps_watch_refresh(&s->maps)) {
		series_drop_interval(&s->series);
		return -ESRCH;
	}
	/* Notes say what holds for this interval: each source sets what applies. */
	for (int v = 0; v < VIEW__MAX; v++)
		s->views[v].note[0] = 0;
	/* Losses are counted since attach: each source adds its counters again. */
	for (int v = 0; v < VIEW__MAX; v++) {
		s->views[v].drops = 0;
		s->views[v].drop_why[0] = 0;
	}
	stack_store_drain(&s->stacks);
	for (int i = 0; i < s->nact; i++) {
		int err = s->act[i].ops->collect(s, s->act[i].state);

		if (err == -ESRCH) {
			series_drop_interval(&s->series);
			return err;
		}
	}
	/* Stacks read into user space need no BPF copy: the map stays small for hours
	 * (drained ones are deleted after the report, session_report()). */
	if (s->stacks.no_batch)
		stack_store_prune(&s->stacks);
	log_debug("interval %d collected in %.1f ms", s->series.nintervals - 1,
		  (now_ns() - t0) / 1e6);
	return 0;
}

void session_collect_final(struct session *s)
{
	struct series *ser = &s->series;
	uint32_t keep = 0;

	s->exited = true;
	for (int i = 0; i < s->nact; i++)
		if (!s->act[i].ops->after_exit)
			keep |= s->act[i].ops->views;
	series_next_interval_keeping(ser, keep);
	for (int i = 0; i < s->nact; i++) {
		const struct source_ops *ops = s->act[i].ops;

		if (ops->after_exit && !ops->collect(s, s->act[i].state))
			continue;
		for (int v = 0; v < VIEW__MAX; v++)
			if (ops->views & VIEW_BIT(v))
				series_carry_forward(ser, v);
	}
	/* The Go heap's state as last read: its trend ends there. */
	if ((keep & VIEW_BIT(VIEW_GO_HEAP)) && ser->nintervals >= 2)
		ser->intervals[ser->nintervals - 1].heap = ser->intervals[ser->nintervals - 2].heap;
	log_debug("final interval %d collected after the target exited", ser->nintervals - 1);
}

void session_tick(struct session *s)
{
	for (int i = 0; i < s->nact; i++)
		if (s->act[i].ops->tick)
			s->act[i].ops->tick(s, s->act[i].state);
}

int session_report(struct session *s, FILE *out, enum report_end end)
{
	const struct config *cfg = s->cfg;
	struct report_ctx r = {
		.opts = {cfg->format, cfg->top, cfg->max_depth, cfg->show_runtime, cfg->dump, cfg->sus,
			 cfg->pprof_dir, cfg->folded_prefix},
		.pid = s->pid,
		.target = &s->target,
		.series = &s->series,
		.views = s->views,
		.sym = &s->sym,
	};
	uint64_t t0 = now_ns();
	int n;

	n = report_write(&r, out, end);
	log_debug("report written in %.1f ms", (now_ns() - t0) / 1e6);
	/* Housekeeping the report did not wait for. */
	{
		uint64_t t1 = now_ns();
		size_t freed = stack_store_flush(&s->stacks);

		if (freed > 1000)
			log_debug("BPF copies of %zu stacks freed in %.1f ms after the report", freed,
				  (now_ns() - t1) / 1e6);
	}
	session_log_self(s, end == END_NONE ? "after this report" : "after the summary");
	return n;
}

void session_detach(struct session *s)
{
	int nmaps;

	if (s->bpf && s->nact) {
		uint64_t mem = bpfobj_memory(s->bpf, &nmaps);

		log_debug("BPF map memory at the end: %.1f MiB in %d maps", mem / 1048576.0, nmaps);
	}
	/* Probes first (the sources), then the object they ran from. */
	for (int i = 0; i < s->nact; i++)
		s->act[i].ops->detach(s->act[i].state);
	s->nact = 0;
	if (s->bpf)
		bpfobj_destroy(s->bpf);
	s->bpf = NULL;
	stack_store_free(&s->stacks);
	symbolizer_free(&s->sym);
	maps_watch_free(&s->maps);
}
