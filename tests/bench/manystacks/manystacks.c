// SPDX-License-Identifier: GPL-2.0
/*
 * manystacks: -n N blocks, each malloc'd from a call path of its own and kept for
 * good, for the scale benchmark (tests/bench/run.sh scale): block i is allocated
 * DEPTH calls deep in walk(), the k-th call taken from one of ten call sites by
 * the k-th decimal digit of i, so N blocks have N distinct stacks (return
 * addresses). Built with -O0 -fno-omit-frame-pointer, so no call site is merged
 * and no call becomes a jump. Prints "ready", waits for SIGUSR1, allocates, writes
 * "done N" to -out and sleeps until killed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *walk(int depth, unsigned idx, size_t size)
{
	void *p = NULL;

	if (!depth)
		return malloc(size);
	switch (idx % 10) {
	case 0: p = walk(depth - 1, idx / 10, size); break;
	case 1: p = walk(depth - 1, idx / 10, size); break;
	case 2: p = walk(depth - 1, idx / 10, size); break;
	case 3: p = walk(depth - 1, idx / 10, size); break;
	case 4: p = walk(depth - 1, idx / 10, size); break;
	case 5: p = walk(depth - 1, idx / 10, size); break;
	case 6: p = walk(depth - 1, idx / 10, size); break;
	case 7: p = walk(depth - 1, idx / 10, size); break;
	case 8: p = walk(depth - 1, idx / 10, size); break;
	case 9: p = walk(depth - 1, idx / 10, size); break;
	}
	return p;
}

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv)
{
	unsigned n = 100000, depth = 0;
	const char *out = NULL;
	sigset_t set, old;
	void **keep;
	FILE *f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-n"))
			n = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "-out"))
			out = argv[i + 1];
	}
	for (unsigned m = n - 1; m; m /= 10)
		depth++;
	keep = calloc(n, sizeof(*keep));
	signal(SIGUSR1, on_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	printf("ready\n");
	fflush(stdout);
	sigsuspend(&old);
	for (unsigned i = 0; i < n; i++)
		keep[i] = walk(depth, i, 64 + i % 64);
	if (out && (f = fopen(out, "w"))) {
		fprintf(f, "done %u\n", n);
		fclose(f);
	}
	for (;;)
		pause();
}
