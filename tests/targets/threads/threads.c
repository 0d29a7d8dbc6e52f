// SPDX-License-Identifier: GPL-2.0
/*
 * threads: a C program with a known thread leak beside a known non-leak.
 *
 *   - leak site: main -> park_threads -> pthread_create; every such thread
 *     ("parker") waits forever. -pre N of them at start-up (before a tracer
 *     attaches); on SIGUSR1, -post M more from the same function.
 *   - steady site: a thread ("churner") runs churn_loop -> spawn_short_lived,
 *     which creates a thread ("shortlived") and joins it, -churn times a second.
 *
 * Every 50 ms it writes its own counters to -status (atomically, by rename):
 *
 *	ready 1
 *	parked_pre 8
 *	parked_post 12
 *	churn_created 1234
 *	churn_joined 1234
 *	threads 23          (entries in /proc/self/task)
 *
 * It exits 0 after -duration seconds, or on SIGTERM.
 * Built by tests/cases/threads.sh: gcc -O2 -g -fno-omit-frame-pointer -pthread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long parked_pre, parked_post, churn_created, churn_joined;
static volatile sig_atomic_t got_usr1, got_term;
static sem_t never; /* never posted: parked threads wait on it forever */
static int churn_per_s;

static void *parked(void *arg)
{
	pthread_setname_np(pthread_self(), "parker");
	for (;;)
		sem_wait(&never);
	return arg;
}

/* The leak: n threads that never end, all created here. */
static __attribute__((noinline)) void park_threads(int n, atomic_long *counter)
{
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, parked, NULL)) {
			perror("threads: pthread_create");
			exit(1);
		}
		pthread_detach(t);
		atomic_fetch_add(counter, 1);
	}
}

static void *short_lived(void *arg)
{
	pthread_setname_np(pthread_self(), "shortlived");
	return arg;
}

/* The non-leak: one thread made and joined. */
static __attribute__((noinline)) void spawn_short_lived(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, short_lived, NULL)) {
		perror("threads: pthread_create");
		exit(1);
	}
	atomic_fetch_add(&churn_created, 1);
	pthread_join(t, NULL);
	atomic_fetch_add(&churn_joined, 1);
}

static void sleep_ns(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};

	while (nanosleep(&ts, &ts))
		;
}

static void *churn_loop(void *arg)
{
	pthread_setname_np(pthread_self(), "churner");
	for (;;) {
		/* Ten at a time, so the rate holds with coarse sleeps. */
		for (int i = 0; i < 10; i++)
			spawn_short_lived();
		sleep_ns(10 * 1000000000L / churn_per_s);
	}
	return arg;
}

static long count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void write_status(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "ready 1\nparked_pre %ld\nparked_post %ld\nchurn_created %ld\nchurn_joined %ld\n"
		   "threads %ld\n",
		atomic_load(&parked_pre), atomic_load(&parked_post), atomic_load(&churn_created),
		atomic_load(&churn_joined), count_threads());
	fclose(f);
	rename(tmp, path);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static long arg_long(int argc, char **argv, const char *name, long def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return atol(argv[i + 1]);
	return def;
}

int main(int argc, char **argv)
{
	const char *status = NULL;
	long pre = arg_long(argc, argv, "-pre", 8), post = arg_long(argc, argv, "-post", 12);
	long duration_ms = arg_long(argc, argv, "-duration", 60) * 1000;
	struct sigaction sa = {.sa_handler = on_signal};
	pthread_t churner;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-status"))
			status = argv[i + 1];
	churn_per_s = arg_long(argc, argv, "-churn", 200);
	sem_init(&never, 0, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	park_threads(pre, &parked_pre);
	if (churn_per_s > 0 && pthread_create(&churner, NULL, churn_loop, NULL)) {
		perror("threads: pthread_create");
		return 1;
	}
	for (long waited = 0; waited < duration_ms && !got_term; waited += 50) {
		if (got_usr1) {
			got_usr1 = 0;
			park_threads(post, &parked_post);
		}
		write_status(status);
		sleep_ns(50 * 1000000L);
	}
	write_status(status);
	printf("threads: %s\n", got_term ? "terminated" : "done");
	return 0;
}
