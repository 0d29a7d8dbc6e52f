/* SPDX-License-Identifier: GPL-2.0 */
/* Logging, exit statuses and small helpers shared by every user/ file. */
#ifndef LEAKSCOPE_UTIL_H
#define LEAKSCOPE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Exit statuses, documented in README and --help. Internally functions return
 * a negative errno; only main() maps failures to these.
 */
enum {
	EXIT_OK = 0,	      /* report printed (also when the target exited) */
	EXIT_ERROR = 1,	      /* unexpected failure inside leakscope */
	EXIT_USAGE = 2,	      /* bad command line */
	EXIT_NO_TARGET = 3,   /* no such process, or it cannot be read */
	EXIT_UNSUPPORTED = 4, /* target kind or runtime version not supported */
	EXIT_PERMISSION = 5,  /* not root / BPF or perf not permitted */
	EXIT_KERNEL = 6,      /* kernel lacks BTF, uprobes or a needed feature */
	EXIT_SUSPECTS = 7,    /* the session ended with at least one leak suspect */
};

extern int log_verbosity; /* 0 normal, 1 -v, 2 -vv (libbpf debug) */

/* One-line messages on stderr, prefixed "leakscope: ". */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A fatal condition found deep inside: remembered with its exit status so
 * main() can print it once and exit with the documented status.
 */
struct fatal {
	int status;
	char msg[512];
};
void fatal_set(struct fatal *f, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* printf into a fresh heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic and wall clock in nanoseconds. */
uint64_t now_ns(void);
uint64_t wall_ns(void);

/*
 * The first line of a text file that matches scanf format fmt (one conversion into
 * *v, e.g. "CapEff: %llx"), e.g. a field of /proc/self/status. 0 or -ENOENT.
 */
int file_field(const char *path, const char *fmt, unsigned long long *v);

/* Least-squares slope of y over x (0 with fewer than two points). */
double lsq_slope(const double *x, const double *y, size_t n);

/* 64-bit FNV-1a, for hashing stacks and names. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
