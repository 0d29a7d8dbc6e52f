// SPDX-License-Identifier: GPL-2.0
/*
 * cmadvise: memory given back the way jemalloc gives it back, for growth mode
 * (leakscope --mode growth): mapped once, written, released with madvise
 * (MADV_DONTNEED, and MADV_FREE), written again, over and over, at a flat RSS.
 *
 *   - held: an 8 MiB arena written before SIGUSR1 (before leakscope attaches),
 *     then released and written again in every cycle (memory held at attach);
 *   - churn: a 4 MiB arena mapped after SIGUSR1, released and written again in
 *     every cycle (growth, given back, growth again: never more than 4 MiB);
 *   - partial: one 8 MiB mapping after SIGUSR1 of which 1 MiB is written and kept
 *     (a fresh mapping is its written pages, not its length);
 *   - with -leak: leak_pages writes 256 KiB of a reserved region it never gives
 *     back, each cycle (a real growth), up to -leak-mb MiB (default 256).
 *
 * Every cycle (-cycle-ms, default 50) it writes its counts to -status (by rename):
 *	ready 1 / phase idle|running / cycles N / leaked_bytes N / partial_bytes N
 *
 * Built by tests/cases/growth.sh: gcc -O2 -g -fno-omit-frame-pointer (and -static).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define MIB (1 << 20)
#define PAGE 4096

static volatile sig_atomic_t got_usr1, got_term;
static long cycles, leaked_bytes, partial_bytes;

static void *map_or_die(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("cmadvise: mmap");
		exit(1);
	}
	return p;
}

/* One write per page, as an allocator handing out fresh memory does. */
static NOINLINE void touch(char *p, size_t len, int v)
{
	for (size_t i = 0; i < len; i += PAGE)
		p[i] = v;
}

static NOINLINE void warm_held(char *p, size_t len)
{
	touch(p, len, 1);
}

static NOINLINE void cycle_held(char *p, size_t len, int advice)
{
	if (madvise(p, len, advice))
		perror("cmadvise: madvise");
	touch(p, len, 2);
}

static NOINLINE void cycle_churn(char *p, size_t len, int advice)
{
	if (madvise(p, len, advice))
		perror("cmadvise: madvise");
	touch(p, len, 3);
}

static NOINLINE void map_partial(void)
{
	char *p = map_or_die(8 * MIB);

	touch(p, MIB, 4);
	partial_bytes = MIB;
}

static NOINLINE void leak_pages(char *region, size_t cap)
{
	if (leaked_bytes + 256 * 1024 > (long)cap)
		return;
	touch(region + leaked_bytes, 256 * 1024, 5);
	leaked_bytes += 256 * 1024;
}

static void write_status(const char *path, const char *phase)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "ready 1\nphase %s\ncycles %ld\nleaked_bytes %ld\npartial_bytes %ld\n", phase,
		cycles, leaked_bytes, partial_bytes);
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

int main(int argc, char **argv)
{
	const char *status = NULL;
	int leak = 0, cycle_ms = 50;
	size_t held_len = 8 * MIB, churn_len = 4 * MIB, leak_cap = 256 * MIB;
	char *held, *churn = NULL, *region = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-leak"))
			leak = 1;
		else if (!strcmp(argv[i], "-status") && i + 1 < argc)
			status = argv[++i];
		else if (!strcmp(argv[i], "-leak-mb") && i + 1 < argc)
			leak_cap = (size_t)atoi(argv[++i]) * MIB;
		else if (!strcmp(argv[i], "-cycle-ms") && i + 1 < argc)
			cycle_ms = atoi(argv[++i]);
		else {
			fprintf(stderr, "cmadvise: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	held = map_or_die(held_len);
	warm_held(held, held_len);
	while (!got_usr1 && !got_term) {
		write_status(status, "idle");
		usleep(20000);
	}
	if (got_term)
		return 0;
	churn = map_or_die(churn_len);
	touch(churn, churn_len, 3);
	map_partial();
	if (leak)
		region = map_or_die(leak_cap);
	while (!got_term) {
		/* Both ways jemalloc purges: forced (DONTNEED) and lazy (FREE). */
		int advice = cycles % 2 ? MADV_FREE : MADV_DONTNEED;

		cycle_held(held, held_len, advice);
		cycle_churn(churn, churn_len, advice);
		if (leak)
			leak_pages(region, leak_cap);
		cycles++;
		write_status(status, "running");
		usleep(cycle_ms * 1000);
	}
	return 0;
}
