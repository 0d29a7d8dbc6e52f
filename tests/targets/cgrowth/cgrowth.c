// SPDX-License-Identifier: GPL-2.0
/*
 * cgrowth: a C service shape for growth mode (leakscope --mode growth), where
 * nothing is probed per malloc and growth is charged to the stack that first
 * writes new memory or maps it.
 *
 *   - leak: main -> serve -> remember -> malloc(-size) records, written and kept,
 *     -rate a second once SIGUSR1 arrives (before it: idle);
 *   - churn: serve -> handle_request -> malloc of 64..1023 bytes, written, freed
 *     (the allocator reuses these: no growth);
 *   - scratch: serve -> render_scratch -> mmap of 1 MiB, written whole, munmap'ed,
 *     ten times a second (growth, then given back);
 *   - grow_table: one mapping made by mmap and grown by mremap each second while
 *     leaking, kept (growth through mremap).
 *
 * Every 50 ms it writes its own counts to -status (atomically, by rename):
 *
 *	ready 1
 *	phase idle|leaking|done
 *	leaked_bytes N      (records' heap footprint: malloc_usable_size + 8 each)
 *	records N
 *	table_bytes N       (grow_table's mapping)
 *	scratch_maps N
 *
 * Built by tests/cases/growth.sh: gcc -O2 -g -fno-omit-frame-pointer.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define MIB (1 << 20)

static volatile sig_atomic_t got_usr1, got_term;
static long leaked_bytes, records, scratch_maps, table_bytes;
static void **kept;
static long nkept, cap_kept;
static char *table;
static const char *phase = "idle";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "cgrowth: %s failed\n", what);
	exit(1);
}

/* The leak. */
static NOINLINE void remember(size_t size)
{
	char *p = malloc(size);

	if (!p)
		die("malloc");
	memset(p, 0x5a, size);
	if (nkept == cap_kept) {
		/* The index grows by mmap inside realloc past 128 KiB: its own stack. */
		cap_kept = cap_kept ? 2 * cap_kept : 4096;
		kept = realloc(kept, cap_kept * sizeof(*kept));
		if (!kept)
			die("realloc");
	}
	kept[nkept++] = p;
	leaked_bytes += malloc_usable_size(p) + 8;
	records++;
}

/* Not a leak: reused by the allocator. */
static NOINLINE void handle_request(long i)
{
	size_t n = 64 + i % 960;
	char *p = malloc(n);

	if (!p)
		die("malloc");
	memset(p, 1, n);
	free(p);
}

/* Not a leak: a mapping made, written and unmapped. */
static NOINLINE void render_scratch(void)
{
	char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 2, MIB);
	munmap(p, MIB);
	scratch_maps++;
}

/* A leak through mremap: the table grows by 256 KiB at a time and is kept. */
static NOINLINE void grow_table(void)
{
	size_t n = table_bytes + 256 * 1024;
	char *p = table ? mremap(table, table_bytes, n, MREMAP_MAYMOVE)
			: mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap/mremap");
	memset(p + table_bytes, 3, n - table_bytes);
	table = p;
	table_bytes = n;
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
	fprintf(f, "ready 1\nphase %s\nleaked_bytes %ld\nrecords %ld\ntable_bytes %ld\nscratch_maps %ld\n",
		phase, leaked_bytes, records, table_bytes, scratch_maps);
	fclose(f);
	rename(tmp, path);
}

static NOINLINE void serve(long count, double rate, size_t size, const char *status)
{
	double start = now_s(), last_status = 0, last_scratch = 0, last_table = start;
	long handled = 0;

	for (long i = 0; i < count && !got_term; i++) {
		double due = start + i / rate, t;

		while ((t = now_s()) < due) {
			while (handled < (t - start) * 4000)
				handle_request(handled++);
			if (t - last_scratch > 0.1) {
				render_scratch();
				last_scratch = t;
			}
			if (t - last_table > 1) {
				grow_table();
				last_table = t;
			}
			if (t - last_status > 0.05) {
				write_status(status);
				last_status = t;
			}
			usleep(200);
		}
		remember(size);
	}
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
	long count = 20000;
	double rate = 5000;
	size_t size = 200;
	const char *status = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];

		if (!strcmp(a, "-count"))
			count = atol(v);
		else if (!strcmp(a, "-rate"))
			rate = atof(v);
		else if (!strcmp(a, "-size"))
			size = atol(v);
		else if (!strcmp(a, "-status"))
			status = v;
		else {
			fprintf(stderr, "cgrowth: unknown option %s\n", a);
			return 2;
		}
	}
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	while (!got_usr1 && !got_term) {
		write_status(status);
		usleep(20000);
	}
	if (got_usr1) {
		phase = "leaking";
		serve(count, rate, size, status);
		phase = "done";
	}
	while (!got_term) {
		write_status(status);
		usleep(50000);
	}
	return 0;
}
