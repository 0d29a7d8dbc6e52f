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
#include <sys/wait.h>
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

static const struct source_ops *const all_sources[] = {&goroutine_source, &goheap_source,
							   &native_source, &growth_source,
							   &thread_source};

struct active_source {
	const struct source_ops *ops;
	void *state;
};

static uint64_t cap_effective(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static int preflight(struct fatal *f)
{
	const char *btf = getenv("LEAKSCOPE_SYSFS_BTF");
	uint64_t caps = cap_effective();
	const uint64_t sys_admin = 1ull << 21, ptrace = 1ull << 19, perfmon = 1ull << 38,
		       bpf = 1ull << 39;

	if (!(caps & sys_admin) && !((caps & bpf) && (caps & perfmon))) {
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to load BPF programs: run leakscope as root (sudo), or "
			  "give it CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE");
		return -EPERM;
	}
	if (!(caps & ptrace) && geteuid() != 0) {
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to read other processes' memory: run leakscope as root, "
			  "or give it CAP_SYS_PTRACE");
		return -EPERM;
	}
	/* The override exists so the test suite can exercise this message. */
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK)) {
		fatal_set(f, EXIT_KERNEL,
			  "this kernel has no BTF (%s missing): leakscope needs a kernel built "
			  "with CONFIG_DEBUG_INFO_BTF=y (stock Debian, Ubuntu, Fedora kernels have it)",
			  btf);
		return -ENOENT;
	}
	return 0;
}

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
static int launch(struct session *s, char **argv, char *path)
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
		execv(path, argv);
		fprintf(stderr, "leakscope: error: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	s->pid = pid;
	s->launched = true;
	return pfd[1];
}

static int resolve_target(struct session *s, const struct config *cfg, char **launch_path)
{
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
				  "cannot read process %d (%s): run leakscope as root", cfg->pid,
				  strerror(-err));
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
	if (!mf->gb->have_offsets) {
		if (mf->gb->minor)
			fatal_set(&s->fatal, EXIT_UNSUPPORTED,
				  "%s is built with %s, which this leakscope does not know, and the "
				  "binary has no DWARF to learn the runtime's layout from: build "
				  "without -ldflags=-w, or update leakscope (tools/go-offsets.sh adds "
				  "a Go version)",
				  s->target.exe, mf->gb->version);
		else
			fatal_set(&s->fatal, EXIT_UNSUPPORTED,
				  "%s is a Go program whose Go version cannot be recognised (no build "
				  "info) and it has no DWARF: leakscope cannot trace it safely",
				  s->target.exe);
		return -ENOTSUP;
	}
	if (!mf->gb->pcln) {
		fatal_set(&s->fatal, EXIT_UNSUPPORTED,
			  "%s: its Go symbol table (.gopclntab) cannot be read (%s)", s->target.exe,
			  strerror(-mf->gb->pcln_err));
		return -ENOTSUP;
	}
	return 0;
}

static int attach_sources(struct session *s, struct active_source *act, int *nact)
{
	*nact = 0;
	for (size_t i = 0; i < ARRAY_SIZE(all_sources); i++) {
		const struct source_ops *ops = all_sources[i];
		void *state = NULL;
		int err;

		err = ops->attach(s, &state);
		if (err == -ENOTSUP)
			continue;
		if (err) {
			if (!s->fatal.status)
				fatal_set(&s->fatal, EXIT_ERROR, "%s: attach failed: %s", ops->name,
					  strerror(-err));
			return err;
		}
		act[(*nact)++] = (struct active_source){ops, state};
	}
	if (!*nact) {
		if (!s->target.is_go)
			fatal_set(&s->fatal, EXIT_UNSUPPORTED,
				  "%s (pid %d) is not a Go program, and no native allocator or "
				  "thread functions were found in it to trace",
				  s->target.exe, s->pid);
		else
			fatal_set(&s->fatal, EXIT_UNSUPPORTED, "nothing to trace in %s",
				  s->target.exe);
		return -ENOTSUP;
	}
	/* Views the user did not ask for are collected but not printed. */
	for (int v = 0; v < VIEW__MAX; v++)
		if (!s->cfg->views[v])
			s->views[v].active = false;
	return 0;
}

/* One interval: every source fills its samples. -ESRCH when the target is gone. */
static int collect(struct session *s, struct active_source *act, int nact)
{
	series_next_interval(&s->series);
	for (int i = 0; i < nact; i++) {
		int err = act[i].ops->collect(s, act[i].state);

		if (err == -ESRCH) {
			series_drop_interval(&s->series);
			return err;
		}
	}
	return 0;
}

/* Sleep until deadline (monotonic ns), the target's exit, or a signal. */
static void wait_until(uint64_t deadline, int exit_fd)
{
	while (!interrupted) {
		uint64_t now = now_ns();
		struct pollfd pfd = {.fd = exit_fd, .events = POLLIN};
		int ms;

		if (now >= deadline)
			return;
		ms = (deadline - now + 999999) / 1000000;
		if (poll(&pfd, exit_fd >= 0 ? 1 : 0, ms) > 0)
			return;
	}
}

static bool target_gone(struct session *s, int exit_fd)
{
	struct pollfd pfd = {.fd = exit_fd, .events = POLLIN};

	if (exit_fd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(s->pid, 0) && errno == ESRCH;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct session s;
	struct active_source act[8];
	enum report_end end = END_NONE;
	int nact = 0, status, exit_fd = -1, go_fd = -1, reports = 0;
	char *launch_path = NULL;
	FILE *out = stdout;
	uint64_t next;

	status = cli_parse(argc, argv, &cfg);
	if (status)
		return status;
	libbpf_set_print(libbpf_print);
	s.cfg = &cfg;
	series_init(&s.series);

	if (preflight(&s.fatal) || resolve_target(&s, &cfg, &launch_path))
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
		go_fd = launch(&s, cfg.command, launch_path);
		if (go_fd < 0)
			goto out;
	}
	symbolizer_init(&s.sym, s.pid);
	if (attach_sources(&s, act, &nact))
		goto out;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	exit_fd = proc_exit_fd(s.pid);
	if (go_fd >= 0) {
		/* Probes are in place: let the program run. */
		if (write(go_fd, "g", 1) != 1)
			log_warn("could not start %s", launch_path);
		close(go_fd);
		go_fd = -1;
	}
	symbolizer_refresh(&s.sym);
	/* Baseline at attach (not printed): growth in the first report is growth since now. */
	if (collect(&s, act, nact) == -ESRCH) {
		log_info("target %d exited right after attach; nothing to report", s.pid);
		goto out;
	}
	/* On stderr in every format: scripts (and the tests) wait for this line. */
	fprintf(stderr, "leakscope: tracing pid %d (%s, %s%s%s); report every %gs%s\n", s.pid,
			s.target.exe, s.target.go_version, s.target.stripped ? ", stripped" : "",
			s.target.pie ? ", PIE" : "", cfg.interval_s,
			cfg.count ? "" : ", Ctrl-C for the summary");

	next = now_ns() + (uint64_t)(cfg.interval_s * 1e9);
	for (;;) {
		wait_until(next, exit_fd);
		if (interrupted) {
			end = END_INTERRUPTED;
			/* The interval in progress is worth a report of its own. */
			if (now_ns() + (uint64_t)(cfg.interval_s * 1e9) - next > 200000000ull &&
			    !collect(&s, act, nact))
				report_write(&s, out, END_NONE);
			break;
		}
		if (target_gone(&s, exit_fd) || collect(&s, act, nact) == -ESRCH) {
			end = END_TARGET_EXIT;
			break;
		}
		report_write(&s, out, END_NONE);
		if (cfg.count && ++reports >= cfg.count) {
			end = END_COUNT;
			break;
		}
		next += (uint64_t)(cfg.interval_s * 1e9);
	}
	if (end == END_TARGET_EXIT && s.series.nintervals < 2)
		log_info("target %d exited before the first report; nothing to summarise", s.pid);
	report_write(&s, out, end);
	if (end == END_TARGET_EXIT)
		log_info("target %d exited; the summary above covers the session", s.pid);

out:
	for (int i = 0; i < nact; i++)
		act[i].ops->detach(act[i].state);
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
	return EXIT_OK;
}
