// SPDX-License-Identifier: GPL-2.0
/*
 * prefixed: a program with its own allocator under prefixed names, as a jemalloc
 * or tcmalloc built with a symbol prefix would have: pa_malloc/pa_free carve
 * blocks out of a static arena and never call libc's malloc. leak_pa keeps
 * -n blocks of 500 bytes; churn_pa allocates and frees. Prints "ready", starts on
 * SIGUSR1, writes "leaked_bytes N" to -status when done, waits for SIGTERM.
 * Built by tests/cases/native.sh: gcc -O2 -g -fno-omit-frame-pointer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static char arena[64 << 20] __attribute__((aligned(16)));
static size_t used;
static volatile sig_atomic_t go, stop;

NOINLINE void *pa_malloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (used + n > sizeof(arena))
		return NULL;
	p = arena + used;
	used += n;
	return p;
}

NOINLINE void pa_free(void *p)
{
	/* A bump allocator: nothing to give back. */
	asm volatile("" : : "r"(p) : "memory");
}

static NOINLINE void leak_pa(void)
{
	memset(pa_malloc(500), 1, 500);
}

static NOINLINE void churn_pa(void)
{
	void *p = pa_malloc(64);

	memset(p, 2, 64);
	pa_free(p);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else
		stop = 1;
}

int main(int argc, char **argv)
{
	long n = 1000;
	const char *status = NULL;
	FILE *f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-n"))
			n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "-status"))
			status = argv[i + 1];
	}
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!go && !stop)
		usleep(1000);
	for (long i = 0; i < n && !stop; i++) {
		leak_pa();
		churn_pa();
		usleep(500);
	}
	if (status && (f = fopen(status, "w"))) {
		fprintf(f, "leaked_bytes %ld\n", n * 500);
		fclose(f);
	}
	while (!stop)
		pause();
	return 0;
}
