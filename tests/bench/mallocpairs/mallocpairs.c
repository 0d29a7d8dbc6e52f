// SPDX-License-Identifier: GPL-2.0
/*
 * mallocpairs: the malloc-heavy benchmark. -n malloc+free pairs in a tight loop
 * (sizes cycling through 16..1024 bytes, so tcache serves them: the cheapest
 * calls, where a tracer's fixed cost per call shows most). Prints "ready"; with
 * -wait, starts only on SIGUSR1 (once the tracer is attached). Writes ns per pair
 * to -out. Built by tests/bench/run.sh with gcc -O2 -fno-omit-frame-pointer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static __attribute__((noinline)) void pairs(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(16 + (i & 63) * 16);

		/* Keeps the compiler from deleting the pair. */
		asm volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

int main(int argc, char **argv)
{
	long n = 200000;
	int wait = 0;
	const char *out = NULL;
	struct timespec a, b;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atol(argv[++i]);
		else if (!strcmp(argv[i], "-wait"))
			wait = 1;
		else if (!strcmp(argv[i], "-out") && i + 1 < argc)
			out = argv[++i];
	}
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (wait && !go)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pairs(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	f = out ? fopen(out, "w") : stdout;
	if (!f)
		return 1;
	fprintf(f, "%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
