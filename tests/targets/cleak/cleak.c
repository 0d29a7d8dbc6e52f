// SPDX-License-Identifier: GPL-2.0
/*
 * cleak: a C program with a known heap leak beside known non-leaks, using every
 * allocator function leakscope traces, and counting what it keeps itself.
 *
 *   - leak: main -> leak_loop -> leak_block -> malloc(-size), touched and kept;
 *     -count blocks at -rate per second once SIGUSR1 arrives.
 *   - churn: churn -> malloc/calloc, freed at once, -churn times a second.
 *   - every 100 leaked blocks, one round of: keep_calloc, keep_posix_memalign,
 *     keep_aligned_alloc, keep_memalign, keep_valloc, keep_pvalloc,
 *     keep_reallocarray, keep_mmap (each keeps a known number of bytes from its
 *     allocator, and frees or unmaps as much again); grow_buffer (malloc, then
 *     realloc growing, moving into an mmapped chunk and shrinking back, kept);
 *     realloc_to_zero (realloc(p, 0) frees p); realloc_from_null (realloc(NULL, n),
 *     kept); try_huge (malloc(64) kept, then allocations that must fail: malloc,
 *     calloc, realloc of that block, reallocarray, posix_memalign, aligned_alloc,
 *     mmap, all too big).
 *   - before SIGUSR1, -pre blocks are allocated (pre_attach_alloc); they are freed
 *     when it arrives: frees of blocks a tracer never saw allocated.
 *
 * Every 50 ms it writes its own counters to -status (atomically, by rename):
 *
 *	ready 1
 *	phase idle|leaking|done
 *	leaked_bytes 3000000     (leak_block, outstanding)
 *	leaked_blocks 3000
 *	rounds 30
 *	calloc_bytes ...        (per keep_* function: bytes outstanding)
 *	grow_bytes ...           (grow_buffer: bytes outstanding from its last realloc)
 *	from_null_bytes ...
 *	huge_kept_bytes ...      (try_huge: the 64-byte blocks a failed realloc left alone)
 *	failed_calls ...         (allocations that failed, as they should)
 *	churn_pairs ...
 *
 * -no-pvalloc leaves pvalloc out (pvalloc_bytes stays 0): under an allocator that
 * does not define it (jemalloc), glibc's pvalloc serves a block from glibc's heap
 * that the allocator's free cannot take back.
 *
 * It exits 0 after -duration seconds with -exit, else waits for SIGTERM.
 * Built by tests/cases/native.sh: gcc -O2 -g -fno-omit-frame-pointer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define MAX_KEPT (1 << 20)

static void *kept[MAX_KEPT];
static long nkept;
static volatile sig_atomic_t got_usr1, got_term;
/* volatile: the compiler must not reason about these sizes. */
static volatile size_t huge = 1ULL << 60, big_n = 1ULL << 40;
/* Otherwise gcc turns realloc(NULL, n) into malloc(n). */
static void *volatile null_block;

static long leaked_bytes, leaked_blocks, rounds, failed_calls, churn_pairs;
static long calloc_bytes, posix_memalign_bytes, aligned_alloc_bytes, memalign_bytes;
static long valloc_bytes, pvalloc_bytes, reallocarray_bytes, mmap_bytes;
static long grow_bytes, from_null_bytes, huge_kept_bytes;
static const char *phase = "idle";
static int no_pvalloc;

static void keep(void *p)
{
	if (!p) {
		fprintf(stderr, "cleak: allocation failed\n");
		exit(1);
	}
	if (nkept == MAX_KEPT) {
		fprintf(stderr, "cleak: too many blocks\n");
		exit(1);
	}
	kept[nkept++] = p;
}

/* The leak. */
static NOINLINE void leak_block(size_t size)
{
	char *p = malloc(size);

	keep(p);
	memset(p, 0x5a, size);
	leaked_bytes += size;
	leaked_blocks++;
}

/* The non-leak: everything allocated here is freed here. */
static NOINLINE void churn(size_t size)
{
	char *p = malloc(size), *q = calloc(4, size);

	if (!p || !q)
		exit(1);
	memset(p, 1, size);
	q[size] = 1;
	free(q);
	free(p);
	churn_pairs++;
}

static NOINLINE void keep_calloc(void)
{
	void *p = calloc(10, 100);

	keep(p);
	free(calloc(3, 300));
	calloc_bytes += 1000;
}

static NOINLINE void keep_posix_memalign(void)
{
	void *p, *q;

	if (posix_memalign(&p, 64, 500) || posix_memalign(&q, 4096, 500))
		exit(1);
	keep(p);
	free(q);
	posix_memalign_bytes += 500;
}

static NOINLINE void keep_aligned_alloc(void)
{
	keep(aligned_alloc(64, 512));
	free(aligned_alloc(256, 512));
	aligned_alloc_bytes += 512;
}

static NOINLINE void keep_memalign(void)
{
	keep(memalign(128, 300));
	free(memalign(32, 300));
	memalign_bytes += 300;
}

static NOINLINE void keep_valloc(void)
{
	keep(valloc(700));
	free(valloc(700));
	valloc_bytes += 700;
}

static NOINLINE void keep_pvalloc(void)
{
	if (no_pvalloc)
		return;
	/* Counted as asked for: leakscope reports requested sizes, not rounded ones. */
	keep(pvalloc(800));
	free(pvalloc(800));
	pvalloc_bytes += 800;
}

static NOINLINE void keep_reallocarray(void)
{
	int *p = reallocarray(null_block, 20, 30);

	keep(p);
	free(reallocarray(null_block, 5, 5));
	reallocarray_bytes += 600;
}

static NOINLINE void keep_mmap(void)
{
	const size_t page = 4096;
	char *p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *r = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || q == MAP_FAILED || r == MAP_FAILED)
		exit(1);
	p[0] = q[0] = r[0] = 1;
	munmap(q, 2 * page);
	/* Unmapping the first page leaves three outstanding. */
	munmap(r, page);
	mmap_bytes += 6 * page;
}

static NOINLINE void grow_buffer(void)
{
	char *p = malloc(100), *q;

	if (!p)
		exit(1);
	memset(p, 2, 100);
	q = realloc(p, 5000);		/* grows; may move */
	if (!q)
		exit(1);
	q = realloc(q, 200000);		/* past the mmap threshold: moves */
	if (!q)
		exit(1);
	q[199999] = 3;
	q = realloc(q, 3000);		/* shrinks, out of the mmapped chunk: moves again */
	keep(q);
	grow_bytes += 3000;
}

static NOINLINE void realloc_to_zero(void)
{
	void *p = malloc(400);

	if (!p)
		exit(1);
	/* glibc frees p and returns NULL. */
	p = realloc(p, 0);
	free(p);
}

static NOINLINE void realloc_from_null(void)
{
	keep(realloc(null_block, 250));
	from_null_bytes += 250;
}

static void failed(int ok)
{
	if (!ok) {
		fprintf(stderr, "cleak: an allocation that must fail succeeded\n");
		exit(1);
	}
	failed_calls++;
}

static NOINLINE void try_huge(void)
{
	void *p = malloc(64), *x;

	keep(p);
	huge_kept_bytes += 64;
	failed(malloc(huge) == NULL);
	failed(calloc(big_n, big_n) == NULL);
	/* A failed realloc leaves p allocated (and kept). */
	failed(realloc(p, huge) == NULL);
	failed(reallocarray(null_block, big_n, big_n) == NULL);
	failed(posix_memalign(&x, 64, huge) == ENOMEM);
	failed(aligned_alloc(64, huge) == NULL);
	failed(mmap(NULL, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
}

static NOINLINE void one_round(void)
{
	keep_calloc();
	keep_posix_memalign();
	keep_aligned_alloc();
	keep_memalign();
	keep_valloc();
	keep_pvalloc();
	keep_reallocarray();
	keep_mmap();
	grow_buffer();
	realloc_to_zero();
	realloc_from_null();
	try_huge();
	rounds++;
}

static NOINLINE void pre_attach_alloc(void **v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = malloc(128);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
	fprintf(f,
		"ready 1\nphase %s\nleaked_bytes %ld\nleaked_blocks %ld\nrounds %ld\n"
		"calloc_bytes %ld\nposix_memalign_bytes %ld\naligned_alloc_bytes %ld\n"
		"memalign_bytes %ld\nvalloc_bytes %ld\npvalloc_bytes %ld\n"
		"reallocarray_bytes %ld\nmmap_bytes %ld\ngrow_bytes %ld\nfrom_null_bytes %ld\n"
		"huge_kept_bytes %ld\nfailed_calls %ld\nchurn_pairs %ld\n",
		phase, leaked_bytes, leaked_blocks, rounds, calloc_bytes, posix_memalign_bytes,
		aligned_alloc_bytes, memalign_bytes, valloc_bytes, pvalloc_bytes,
		reallocarray_bytes, mmap_bytes, grow_bytes, from_null_bytes, huge_kept_bytes,
		failed_calls, churn_pairs);
	fclose(f);
	rename(tmp, path);
}

static NOINLINE void leak_loop(long count, double rate, size_t size, int churn_per_s,
			       const char *status)
{
	double start = now_s(), last_status = 0;
	long churned = 0;

	for (long i = 0; i < count && !got_term; i++) {
		double due = start + i / rate, t;

		while ((t = now_s()) < due) {
			/* Churn paced against the clock too, between leaks. */
			while (churned < (t - start) * churn_per_s) {
				churn(256 + churned % 512);
				churned++;
			}
			if (t - last_status > 0.05) {
				write_status(status);
				last_status = t;
			}
			usleep(200);
		}
		leak_block(size);
		if (i % 100 == 99)
			one_round();
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
	long count = 3000, pre = 200;
	double rate = 1500, duration = 60;
	size_t size = 1000;
	int churn_per_s = 2000, do_exit = 0;
	const char *status = NULL;
	void **pre_blocks;
	double end;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-exit")) {
			do_exit = 1;
			continue;
		}
		if (!strcmp(a, "-no-pvalloc")) {
			no_pvalloc = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "cleak: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "-count"))
			count = atol(v);
		else if (!strcmp(a, "-rate"))
			rate = atof(v);
		else if (!strcmp(a, "-size"))
			size = atol(v);
		else if (!strcmp(a, "-churn"))
			churn_per_s = atoi(v);
		else if (!strcmp(a, "-pre"))
			pre = atol(v);
		else if (!strcmp(a, "-duration"))
			duration = atof(v);
		else if (!strcmp(a, "-status"))
			status = v;
		else {
			fprintf(stderr, "cleak: unknown option %s\n", a);
			return 2;
		}
	}
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	pre_blocks = malloc((pre + 1) * sizeof(*pre_blocks));
	pre_attach_alloc(pre_blocks, pre);
	end = now_s() + duration;

	while (!got_usr1 && !got_term && now_s() < end) {
		write_status(status);
		usleep(20000);
	}
	if (got_usr1) {
		for (long i = 0; i < pre; i++)
			free(pre_blocks[i]);
		phase = "leaking";
		write_status(status);
		leak_loop(count, rate, size, churn_per_s, status);
		phase = "done";
	}
	while (!got_term && now_s() < end) {
		write_status(status);
		churn(300);
		usleep(50000);
	}
	write_status(status);
	printf("cleak: done\n");
	if (!do_exit)
		while (!got_term)
			pause();
	return 0;
}
