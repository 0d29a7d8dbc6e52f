// SPDX-License-Identifier: GPL-2.0
/*
 * cstress: a C program that does, deterministically, what a tracer of native
 * programs could break, and prints what it computed. Its output and exit status
 * depend only on its arguments (counts and checksums, never timings), so a run
 * under a tracer must print exactly what an untraced run prints.
 *
 * Each round:
 *   pool     a thread pool: workers take jobs from a bounded queue (mutex, two
 *            condition variables), each job a malloc/calloc/realloc/free churn
 *   threads  threads created and joined, and detached ones, each allocating
 *   heap     malloc, calloc, realloc, posix_memalign, aligned_alloc, strdup and
 *            free on a table of slots, plus mmap/munmap of touched regions
 *   fork     children forked while another thread allocates, each does work and
 *            exits with a known status (one forks a grandchild); the parent waits
 *   exec     children exec this program (-child N: work, a line, a known status),
 *            /bin/true by fork, vfork and posix_spawn
 *   signals  raise(); pthread_kill to a thread busy in malloc/free, one at a time
 *            (a handshake: exact counts); interval timer signals
 *
 * Options: -rounds N (default 1; 0 = until SIGTERM), -scale F (work size),
 * -status FILE (write "ready 1", then wait for SIGUSR1 before any work; "rounds N"
 * after each round), -gap MS (pause MS milliseconds after each round), -exec PATH
 * [--] [ARG...] (after the first round exec PATH with the arguments that follow),
 * -child N (internal), -leak N [-sleep S] (start 4 threads named "afterexec" that
 * wait, allocate N blocks of 1000 bytes in leak_after_exec() and keep them, then sleep
 * S seconds: what a program exec'd in a traced process, or one that got its PID, does).
 * Output: one line per round and its checksum, then "cstress: checksum ..." and
 * "exit 3"; the exit status is 3. A fatal signal prints "cstress: CRASH: signal N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double scale = 1;
static const char *self_path;
static const char *status_path;

static int n(int base)
{
	int v = (int)(base * scale);
	return v < 1 ? 1 : v;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x;
}

static void die(const char *what)
{
	fprintf(stderr, "cstress: %s: %s\n", what, strerror(errno));
	exit(99);
}

static void write_status(int rounds)
{
	char tmp[4096];
	FILE *f;

	if (!status_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", status_path);
	f = fopen(tmp, "w");
	if (!f)
		die("status");
	fprintf(f, "ready 1\nrounds %d\npid %d\n", rounds, getpid());
	fclose(f);
	if (rename(tmp, status_path))
		die("status");
}

/* ---- malloc churn: a deterministic sequence of allocations from a seed ---- */

__attribute__((noinline)) static uint64_t churn(uint64_t seed, int ops)
{
	void *slot[16] = {0};
	size_t len[16] = {0};
	uint64_t x = seed * 2654435761u + 1, sum = 0;

	for (int i = 0; i < ops; i++) {
		int k;
		size_t sz;

		x = mix(x + i);
		k = x % 16;
		sz = 1 + (x >> 8) % 700;
		switch ((x >> 20) % 4) {
		case 0:
			free(slot[k]);
			slot[k] = malloc(sz);
			break;
		case 1:
			free(slot[k]);
			slot[k] = calloc(1, sz);
			break;
		case 2:
			slot[k] = realloc(slot[k], sz);
			break;
		default:
			free(slot[k]);
			slot[k] = NULL;
			sz = 0;
			break;
		}
		if (sz && !slot[k])
			die("malloc");
		if (sz) {
			memset(slot[k], (int)(x & 0xff), sz);
			sum += ((unsigned char *)slot[k])[sz - 1] + sz;
		}
		len[k] = sz;
	}
	for (int k = 0; k < 16; k++) {
		sum += len[k];
		free(slot[k]);
	}
	return sum;
}

/* ---- a thread pool: mutex, condition variables ---- */

#define QCAP 16
static struct {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	int q[QCAP], head, count, closed;
	uint64_t result;
	int done;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
	  .nonempty = PTHREAD_COND_INITIALIZER,
	  .nonfull = PTHREAD_COND_INITIALIZER};

static void *pool_worker(void *arg)
{
	for (;;) {
		int job;
		uint64_t r;

		pthread_mutex_lock(&pool.mu);
		while (!pool.count && !pool.closed)
			pthread_cond_wait(&pool.nonempty, &pool.mu);
		if (!pool.count) {
			pthread_mutex_unlock(&pool.mu);
			return arg;
		}
		job = pool.q[pool.head];
		pool.head = (pool.head + 1) % QCAP;
		pool.count--;
		pthread_cond_signal(&pool.nonfull);
		pthread_mutex_unlock(&pool.mu);

		r = churn(job, 12);
		pthread_mutex_lock(&pool.mu);
		pool.result += mix(r + job);
		pool.done++;
		pthread_mutex_unlock(&pool.mu);
	}
}

static uint64_t run_pool(int *done)
{
	pthread_t t[4];
	int jobs = n(1200);

	pool.head = pool.count = pool.closed = pool.done = 0;
	pool.result = 0;
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, pool_worker, NULL))
			die("pthread_create");
	for (int j = 0; j < jobs; j++) {
		pthread_mutex_lock(&pool.mu);
		while (pool.count == QCAP)
			pthread_cond_wait(&pool.nonfull, &pool.mu);
		pool.q[(pool.head + pool.count) % QCAP] = j;
		pool.count++;
		pthread_cond_signal(&pool.nonempty);
		pthread_mutex_unlock(&pool.mu);
	}
	pthread_mutex_lock(&pool.mu);
	pool.closed = 1;
	pthread_cond_broadcast(&pool.nonempty);
	pthread_mutex_unlock(&pool.mu);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	*done = pool.done;
	return pool.result;
}

/* ---- threads created and ended ---- */

static atomic_uint_fast64_t detached_sum;
static sem_t detached_done;

static void *short_lived(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	return (void *)(uintptr_t)churn(i + 7, 8);
}

static void *detached(void *arg)
{
	atomic_fetch_add(&detached_sum, churn((uintptr_t)arg + 1000, 8));
	sem_post(&detached_done);
	return NULL;
}

static uint64_t run_threads(int *made)
{
	int k = n(80), d = 10;
	uint64_t s = 0;

	atomic_store(&detached_sum, 0);
	sem_init(&detached_done, 0, 0);
	for (int i = 0; i < k; i++) {
		pthread_t t;
		void *r;

		if (pthread_create(&t, NULL, short_lived, (void *)(uintptr_t)i))
			die("pthread_create");
		pthread_join(t, &r);
		s += (uintptr_t)r;
	}
	for (int i = 0; i < d; i++) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, detached, (void *)(uintptr_t)i))
			die("pthread_create");
		pthread_attr_destroy(&a);
	}
	for (int i = 0; i < d; i++)
		while (sem_wait(&detached_done) && errno == EINTR)
			;
	*made = k + d;
	return s + atomic_load(&detached_sum);
}

/* ---- the heap, every allocator entry point, and mappings ---- */

static uint64_t run_heap(void)
{
	enum { SLOTS = 256 };
	static void *slot[SLOTS];
	static size_t len[SLOTS];
	uint64_t x = 12345, sum = 0;
	int ops = n(12000);

	for (int i = 0; i < ops; i++) {
		int k;
		size_t sz;
		void *p = NULL;

		x = mix(x + i);
		k = x % SLOTS;
		sz = 1 + (x >> 12) % 3000;
		switch ((x >> 24) % 7) {
		case 0:
			free(slot[k]);
			p = malloc(sz);
			break;
		case 1:
			free(slot[k]);
			p = calloc(sz, 1);
			break;
		case 2:
			p = realloc(slot[k], sz);
			break;
		case 3:
			free(slot[k]);
			if (posix_memalign(&p, 64, sz))
				p = NULL;
			break;
		case 4:
			free(slot[k]);
			sz = (sz + 31) & ~(size_t)31;
			p = aligned_alloc(32, sz);
			break;
		case 5: {
			char buf[64];

			free(slot[k]);
			snprintf(buf, sizeof(buf), "string %d", i);
			p = strdup(buf);
			sz = strlen(buf) + 1;
			break;
		}
		default:
			free(slot[k]);
			sz = 0;
			break;
		}
		if (sz && !p)
			die("allocation");
		if (sz) {
			memset(p, (int)(i & 0xff), sz);
			sum += sz + ((unsigned char *)p)[0];
		}
		slot[k] = p;
		len[k] = sz;
	}
	for (int k = 0; k < SLOTS; k++) {
		sum += len[k];
		free(slot[k]);
		slot[k] = NULL;
	}
	for (int i = 0; i < n(32); i++) {
		size_t sz = 65536 + 4096 * (i % 5);
		unsigned char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			die("mmap");
		for (size_t o = 0; o < sz; o += 4096)
			m[o] = (unsigned char)(o >> 12);
		sum += m[sz - 4096];
		munmap(m, sz);
	}
	return sum;
}

/* ---- fork while another thread allocates ---- */

static atomic_int stop_bg;

static void *background_churn(void *arg)
{
	uint64_t s = 0;

	while (!atomic_load(&stop_bg))
		s += churn(s, 10);
	return (void *)(uintptr_t)s;
}

static int waitchild(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st); /* shows in the output as a difference */
	return WEXITSTATUS(st);
}

static int run_fork(void)
{
	pthread_t bg;
	int statuses = 0;

	atomic_store(&stop_bg, 0);
	if (pthread_create(&bg, NULL, background_churn, NULL))
		die("pthread_create");
	for (int i = 0; i < 4; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int extra = 0;

			churn(100 + i, 200);
			if (i == 0) {
				pid_t g = fork();

				if (g == 0) {
					churn(999, 100);
					_exit(5);
				}
				extra = waitchild(g);
			}
			_exit(10 + i + extra);
		}
		statuses = statuses * 7 + waitchild(pid);
	}
	atomic_store(&stop_bg, 1);
	pthread_join(bg, NULL);
	return statuses;
}

/* ---- exec: this program again, and /bin/true three ways ---- */

static int run_exec(void)
{
	int statuses = 0;
	char arg[16];
	pid_t pid;

	for (int i = 0; i < 3; i++) {
		snprintf(arg, sizeof(arg), "%d", i);
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execl(self_path, self_path, "-child", arg, (char *)NULL);
			_exit(127);
		}
		statuses = statuses * 7 + waitchild(pid);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	statuses = statuses * 7 + waitchild(pid);
	pid = vfork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	statuses = statuses * 7 + waitchild(pid);
	{
		char *argv[] = {"true", NULL};

		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ))
			die("posix_spawn");
		statuses = statuses * 7 + waitchild(pid);
	}
	return statuses;
}

static int child_main(int i)
{
	uint64_t s = churn(500 + i, 300);

	printf("child %d sum %llx\n", i, (unsigned long long)s);
	fflush(stdout);
	return (int)(s & 0x3f);
}

/* ---- signals ---- */

static volatile sig_atomic_t raised;
static sem_t usr2_sem, alarm_sem;
static atomic_int busy_stop;
static volatile sig_atomic_t terminate;

static void on_usr1(int sig)
{
	raised++;
}

static void on_usr2(int sig)
{
	int e = errno;

	sem_post(&usr2_sem);
	errno = e;
}

static void on_alarm(int sig)
{
	int e = errno;

	sem_post(&alarm_sem);
	errno = e;
}

static void on_term(int sig)
{
	terminate = 1;
}

static void *busy_allocator(void *arg)
{
	uint64_t s = 0;

	while (!atomic_load(&busy_stop))
		s += churn(s + 3, 6); /* in and out of malloc and free: where the signals land */
	return (void *)(uintptr_t)s;
}

static void sem_wait_intr(sem_t *s)
{
	while (sem_wait(s))
		if (errno != EINTR)
			die("sem_wait");
}

static void run_signals(int *r, int *u, int *a)
{
	struct sigaction sa = {0};
	pthread_t busy;
	int sends = n(200);

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sem_init(&usr2_sem, 0, 0);
	sem_init(&alarm_sem, 0, 0);

	raised = 0;
	for (int i = 0; i < sends; i++)
		raise(SIGUSR1); /* delivered before raise returns */
	*r = raised;

	atomic_store(&busy_stop, 0);
	if (pthread_create(&busy, NULL, busy_allocator, NULL))
		die("pthread_create");
	*u = 0;
	for (int i = 0; i < sends; i++) {
		pthread_kill(busy, SIGUSR2);
		sem_wait_intr(&usr2_sem);
		(*u)++;
	}
	atomic_store(&busy_stop, 1);
	pthread_join(busy, NULL);

	*a = 0;
	for (int i = 0; i < 5; i++) {
		struct itimerval it = {.it_value = {0, 1000}};

		setitimer(ITIMER_REAL, &it, NULL);
		sem_wait_intr(&alarm_sem);
		(*a)++;
	}
}

/* ---- fatal signals say so ---- */

static void on_crash(int sig)
{
	char msg[64];
	int len = snprintf(msg, sizeof(msg), "cstress: CRASH: signal %d\n", sig);

	if (write(2, msg, len) < 0) {
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- what an exec'd program does ---- */

__attribute__((noinline)) static void *leak_after_exec(size_t sz)
{
	void *p = malloc(sz);

	if (p)
		memset(p, 1, sz);
	return p;
}

static void *parked_after_exec(void *arg)
{
	pause();
	return arg;
}

void *leaked_after_exec[100000]; /* kept: the blocks stay reachable */

/* 4 threads named "afterexec" that wait, k blocks from leak_after_exec(), a nap. */
static int leak_main(int k, int secs)
{
	if (k > 100000)
		k = 100000;
	for (int i = 0; i < 4; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, parked_after_exec, NULL))
			die("pthread_create");
		pthread_setname_np(t, "afterexec");
		pthread_detach(t);
	}
	for (int i = 0; i < k; i++)
		leaked_after_exec[i] = leak_after_exec(1000);
	printf("cstress: leaked %d blocks after exec\n", k);
	fflush(stdout);
	sleep(secs);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 1, i;
	const char *exec_path = NULL;
	char **exec_args = NULL;
	uint64_t total = 0;
	int crash_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT};
	int leak = -1, secs = 0, gap_ms = 0;

	self_path = "/proc/self/exe";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-child") && i + 1 < argc)
			return child_main(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "-rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-scale") && i + 1 < argc)
			scale = atof(argv[++i]);
		else if (!strcmp(argv[i], "-status") && i + 1 < argc)
			status_path = argv[++i];
		else if (!strcmp(argv[i], "-leak") && i + 1 < argc)
			leak = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-sleep") && i + 1 < argc)
			secs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-gap") && i + 1 < argc)
			gap_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-exec") && i + 1 < argc) {
			/* -exec PATH [--] ARG...: argv[0] of the new program is PATH. */
			exec_path = argv[i + 1];
			if (i + 2 < argc && !strcmp(argv[i + 2], "--")) {
				argv[i + 2] = argv[i + 1];
				exec_args = &argv[i + 2];
			} else {
				exec_args = &argv[i + 1];
			}
			break;
		} else {
			fprintf(stderr, "cstress: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (leak >= 0)
		return leak_main(leak, secs);
	for (i = 0; i < (int)(sizeof(crash_sigs) / sizeof(crash_sigs[0])); i++)
		signal(crash_sigs[i], on_crash);
	signal(SIGTERM, on_term);
	if (status_path) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		write_status(0);
		sigwait(&set, &sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	for (int r = 1; rounds == 0 || r <= rounds; r++) {
		int pool_done, made, forks, execs, sr, su, sa;
		uint64_t p, t, h, sum;
		char line[512];

		p = run_pool(&pool_done);
		t = run_threads(&made);
		h = run_heap();
		forks = run_fork();
		execs = run_exec();
		run_signals(&sr, &su, &sa);
		snprintf(line, sizeof(line),
			 "pool %d %llx | threads %d %llx | heap %llx | fork %d | exec %d | "
			 "signals raise %d usr2 %d alarm %d",
			 pool_done, (unsigned long long)p, made, (unsigned long long)t,
			 (unsigned long long)h, forks, execs, sr, su, sa);
		sum = 1469598103934665603ull;
		for (const char *c = line; *c; c++)
			sum = (sum ^ (unsigned char)*c) * 1099511628211ull;
		printf("round %d: %s\n", r, line);
		printf("round %d checksum %016llx\n", r, (unsigned long long)sum);
		fflush(stdout);
		total = mix(total ^ sum);
		write_status(r);
		if (gap_ms > 0) {
			struct timespec ts = {gap_ms / 1000, (gap_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL); /* a signal may end it early: no matter */
		}
		if (exec_path) {
			execv(exec_path, exec_args);
			die("exec");
		}
		if (rounds == 0 && terminate) {
			printf("cstress: stopped after %d rounds\n", r);
			printf("exit 3\n");
			return 3;
		}
	}
	printf("cstress: checksum %016llx\n", (unsigned long long)total);
	printf("exit 3\n");
	return 3;
}
