// SPDX-License-Identifier: GPL-2.0
/*
 * leakscope: attach to a process (or start one), let every source that applies
 * attach its probes, and every interval collect, rank and print. Failures found
 * anywhere end up here as one line and a documented exit status.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "target/proc.h"
#include "report/report.h"
#include "session.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
	/* A second Ctrl-C kills us even if something below is stuck. */
	signal(sig, SIG_DFL);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < 1)
		return 0;
	/* libbpf warns at error paths we report ourselves in one line; keep it for -v. */
	if (log_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t cap_effective(void)
{
	unsigned long long caps = 0;

	file_field("/proc/self/status", "CapEff: %llx", &caps);
	return caps;
}

/*
 * What the BPF programs need from the kernel, asked of the kernel itself before
 * anything is loaded: one line naming what is missing and the kernel that has it,
 * not a verifier log. LEAKSCOPE_TEST_KERNEL_LACKS names a feature to treat as
 * missing (the test suite's way to see the message).
 */
static int kernel_features(struct fatal *f)
{
	static const struct {
		enum bpf_func_id id;
		const char *name, *since;
	} helpers[] = {
		{BPF_FUNC_loop, "bpf_loop", "5.17"},
		{BPF_FUNC_find_vma, "bpf_find_vma", "5.17"},
		{BPF_FUNC_get_attach_cookie, "bpf_get_attach_cookie", "5.15"},
		{BPF_FUNC_task_storage_get, "bpf_task_storage_get", "5.11"},
		{BPF_FUNC_ringbuf_reserve, "the BPF ring buffer", "5.8"},
		{BPF_FUNC_get_ns_current_pid_tgid, "bpf_get_ns_current_pid_tgid", "5.7"},
	};
	const char *lacks = getenv("LEAKSCOPE_TEST_KERNEL_LACKS");
	struct utsname u;

	uname(&u);
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) ||
	    (lacks && !strcmp(lacks, "uprobe"))) {
		fatal_set(f, EXIT_KERNEL,
			  "this kernel (%s) has no uprobe events (CONFIG_UPROBE_EVENTS): "
			  "leakscope needs Linux 5.17 or newer built with uprobes",
			  u.release);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
		bool missing = lacks && !strcmp(lacks, helpers[i].name);

		if (!missing)
			missing = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, helpers[i].id, NULL) == 0;
		if (missing) {
			fatal_set(f, EXIT_KERNEL,
				  "this kernel (%s) lacks %s (Linux %s): leakscope needs Linux 5.17 "
				  "or newer",
				  u.release, helpers[i].name, helpers[i].since);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int preflight(struct fatal *f)
{
	const char *btf = getenv("LEAKSCOPE_SYSFS_BTF");
	uint64_t caps = cap_effective();
	char self[32];
	ssize_t n;
	const uint64_t sys_admin = 1ull << 21, ptrace = 1ull << 19, perfmon = 1ull << 38,
		       bpf = 1ull << 39;

	if (!(caps & sys_admin) && !((caps & bpf) && (caps & perfmon))) {
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to load BPF programs: run leakscope as root (sudo), or "
			  "give it CAP_SYS_ADMIN and CAP_SYS_PTRACE (CAP_BPF and CAP_PERFMON "
			  "instead of CAP_SYS_ADMIN place no uprobe on Linux 6.16 and later)");
		return -EPERM;
	}
	if (!(caps & ptrace) && geteuid() != 0) {
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to read other processes' memory: run leakscope as root, "
			  "or give it CAP_SYS_PTRACE");
		return -EPERM;
	}
	/*
	 * PIDs go to the kernel (perf_event_open, pidfd_open, process_vm_readv) in
	 * leakscope's PID namespace, and are read from /proc: a /proc of another namespace
	 * (unshare --pid without --mount-proc) names other processes by them.
	 */
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		if (atol(self) != getpid()) {
			fatal_set(f, EXIT_NO_TARGET,
				  "/proc here is another PID namespace's (it names leakscope %s, its "
				  "own namespace %d): mount /proc for this one (unshare --mount-proc, "
				  "or the container's own)",
				  self, (int)getpid());
			return -EINVAL;
		}
	}
	/* The override exists so the test suite can exercise this message. */
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK) && access("/sys/kernel", F_OK)) {
		/* A container or chroot without sysfs, not a kernel without BTF. */
		fatal_set(f, EXIT_KERNEL,
			  "/sys is not mounted here: leakscope reads /sys/kernel/btf/vmlinux, "
			  "/sys/bus/event_source/devices/uprobe and /sys/devices/system/cpu "
			  "(mount sysfs, read-only is enough)");
		return -ENOENT;
	}
	if (access(btf, R_OK)) {
		fatal_set(f, EXIT_KERNEL,
			  "this kernel has no BTF (%s missing): leakscope needs a kernel built "
			  "with CONFIG_DEBUG_INFO_BTF=y (stock Debian, Ubuntu, Fedora kernels have it)",
			  btf);
		return -ENOENT;
	}
	return kernel_features(f);
}

/* Between ticks of upkeep (growing BPF maps before they fill), at most this long. */
#define TICK_MS 100

/* Sleep until deadline (monotonic ns), the target's exit, or a signal. */
static void wait_until(struct session *s, uint64_t deadline, int exit_fd)
{
	while (!interrupted) {
		uint64_t now = now_ns();
		struct pollfd pfd = {.fd = exit_fd, .events = POLLIN};
		int ms;

		if (now >= deadline)
			return;
		ms = (deadline - now + 999999) / 1000000;
		if (poll(&pfd, exit_fd >= 0 ? 1 : 0, MIN(ms, TICK_MS)) > 0)
			return;
		session_tick(s);
	}
}

/*
 * The process traced has exited. By its pidfd, opened before anything was attached:
 * once it has, /proc/PID may already be another process that got its PID.
 */
static bool target_gone(struct session *s, int exit_fd)
{
	struct pollfd pfd = {.fd = exit_fd, .events = POLLIN};

	if (exit_fd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(s->pid, 0) && errno == ESRCH;
}

/* The file the target runs, by identity: it changes when the target execs. */
static bool exe_identity(pid_t pid, dev_t *dev, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return false;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return true;
}

/*
 * The target ran exec: the program leakscope traced is gone from the process (its
 * probes, its mappings), and what the new one does is not its. True once, with the
 * new program's name in *what. Not when the process exited (another one may have its
 * PID, and runs another file): only a process still alive after /proc/PID/exe was
 * read is the one traced.
 */
static bool target_execd(struct session *s, int exit_fd, dev_t dev, ino_t ino, char *what,
			 size_t len)
{
	dev_t d;
	ino_t i;
	char path[64], buf[PATH_MAX];
	ssize_t n;

	if (!exe_identity(s->pid, &d, &i) || (d == dev && i == ino))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", s->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	snprintf(what, len, "%s", n > 0 ? buf : "another program");
	return !target_gone(s, exit_fd);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct session s;
	enum report_end end = END_NONE;
	int status, exit_fd = -1, go_fd = -1, reports = 0;
	char *launch_path = NULL;
	FILE *out = stdout;
	uint64_t next, start, deadline;
	int nsuspects = 0;
	char execd[PATH_MAX] = "";
	dev_t exe_dev = 0;
	ino_t exe_ino = 0;
	bool have_exe;
	uint64_t t_start = now_ns();

	status = cli_parse(argc, argv, &cfg);
	if (status)
		return status;
	libbpf_set_print(libbpf_print);
	s.cfg = &cfg;
	series_init(&s.series);

	if (preflight(&s.fatal) || session_resolve_target(&s, &launch_path))
		goto out;
	if (cfg.output_path) {
		out = fopen(cfg.output_path, "we");
		if (!out) {
			fatal_set(&s.fatal, EXIT_USAGE, "cannot write %s: %s", cfg.output_path,
				  strerror(errno));
			out = stdout;
			goto out;
		}
	}
	setvbuf(out, NULL, _IOLBF, 0);
	proc_self_pidns(&s.pidns_dev, &s.pidns_ino);
	if (cfg.command) {
		go_fd = session_launch(&s, cfg.command, launch_path);
		if (go_fd < 0)
			goto out;
	}
	/* Before attaching (which takes a while): the process itself, not its PID. */
	exit_fd = proc_exit_fd(s.pid);
	if (session_attach(&s))
		goto out;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* --dump: what every goroutine does now, one report, no summary, no baseline. */
	if (cfg.dump) {
		maps_watch_refresh(&s.maps);
		if (!session_collect(&s))
			session_report(&s, out, END_NONE);
		else
			log_info("target %d exited; nothing to report", s.pid);
		goto out;
	}
	if (go_fd >= 0) {
		/*
		 * A program we start has done nothing yet: its baseline is empty, and all
		 * it does is counted since its start. Then the probes are in place: let
		 * it run.
		 */
		series_next_interval(&s.series);
		session_release(&s, go_fd);
		go_fd = -1;
		maps_watch_refresh(&s.maps);
	} else {
		/* Baseline at attach (not printed): growth in the first report is since now. */
		maps_watch_refresh(&s.maps);
		if (session_collect(&s) == -ESRCH) {
			log_info("target %d exited right after attach; nothing to report", s.pid);
			goto out;
		}
	}
	/* On stderr in every format: scripts (and the tests) wait for this line. */
	{
		char until[64] = "";

		if (cfg.duration_s > 0)
			snprintf(until, sizeof(until), ", for %gs", cfg.duration_s);
		else if (!cfg.count)
			snprintf(until, sizeof(until), ", Ctrl-C for the summary");
		fprintf(stderr, "leakscope: tracing pid %d (%s%s%s%s%s); report every %gs%s\n",
			s.pid, s.target.exe, s.target.go_version[0] ? ", " : "",
			s.target.go_version, s.target.stripped ? ", stripped" : "",
			s.target.pie ? ", PIE" : "", cfg.interval_s, until);
		log_debug("tracing %.1f ms after leakscope started (target read, probes attached, "
			  "baseline collected)",
			  (now_ns() - t_start) / 1e6);
		session_log_self(&s, "at attach");
	}

	/* The program probed (for -- PROG the file itself: it may not have run exec yet). */
	{
		struct stat st;

		have_exe = !stat(s.exe_path, &st);
		exe_dev = st.st_dev;
		exe_ino = st.st_ino;
	}
	start = now_ns();
	deadline = cfg.duration_s > 0 ? start + (uint64_t)(cfg.duration_s * 1e9) : UINT64_MAX;
	next = start + (uint64_t)(cfg.interval_s * 1e9);
	for (;;) {
		uint64_t last = next - (uint64_t)(cfg.interval_s * 1e9);
		bool gone;

		wait_until(&s, MIN(next, deadline), exit_fd);
		if (interrupted || now_ns() >= deadline) {
			end = interrupted ? END_INTERRUPTED : END_DURATION;
			/* The interval in progress is worth a report of its own. */
			if (now_ns() - last > 200000000ull && !session_collect(&s))
				session_report(&s, out, END_NONE);
			break;
		}
		if (have_exe && !target_gone(&s, exit_fd) &&
		    target_execd(&s, exit_fd, exe_dev, exe_ino, execd, sizeof(execd))) {
			/* Its probes went with the old program; the BPF maps hold what it had. */
			end = END_TARGET_EXEC;
			session_collect_final(&s);
			session_report(&s, out, END_NONE);
			break;
		}
		gone = target_gone(&s, exit_fd) || session_collect(&s) == -ESRCH;
		if (!gone && target_gone(&s, exit_fd)) {
			/* It exited while being read: what /proc/PID showed may have been the
			 * process that got its PID. */
			series_drop_interval(&s.series);
			gone = true;
		}
		if (gone) {
			/*
			 * What happened since the last report is not lost: the BPF maps still
			 * hold it (what a program had not freed when it exited).
			 */
			end = END_TARGET_EXIT;
			session_collect_final(&s);
			if (s.series.nintervals == 2 || series_now(&s.series)->seconds > 0.2)
				session_report(&s, out, END_NONE);
			break;
		}
		session_report(&s, out, END_NONE);
		if (cfg.count && ++reports >= cfg.count) {
			end = END_COUNT;
			break;
		}
		next += (uint64_t)(cfg.interval_s * 1e9);
	}
	nsuspects = session_report(&s, out, end);
	if (end == END_TARGET_EXIT)
		log_info("target %d exited; the summary above covers the session", s.pid);
	if (end == END_TARGET_EXEC)
		log_info("target %d ran exec (now %s): the program traced is gone, the summary "
			 "above covers it; trace the new one with leakscope -p %d",
			 s.pid, execd, s.pid);

out:
	session_detach(&s);
	if (go_fd >= 0)
		close(go_fd); /* the child exits without running the program */
	if (s.launched) {
		/* Never started (an error before it could run): reap it. A running one is left
		 * to finish on its own, as if it had been started without us. */
		if (s.fatal.status) {
			kill(s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
		} else {
			waitpid(s.pid, NULL, WNOHANG);
		}
	}
	if (s.fatal.status) {
		log_error("%s", s.fatal.msg);
		return s.fatal.status;
	}
	if (out != stdout)
		fclose(out);
	return nsuspects > 0 ? EXIT_SUSPECTS : EXIT_OK;
}
