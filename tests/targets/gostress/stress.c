// gostress's C side: plain calls, calls back into Go (on the calling goroutine's thread,
// and from threads Go never made), and recursion that alternates C and Go frames.
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "_cgo_export.h"
#include "stress.h"

__attribute__((noinline)) uint64_t c_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* C -> Go, n times, on this thread. */
__attribute__((noinline)) uint64_t c_callback_loop(int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += goAdd(i, 7);
	return s;
}

struct cb_arg {
	int n;
	uint64_t sum;
};

static void *cb_thread(void *p)
{
	struct cb_arg *a = p;

	/* A thread the Go runtime did not make calls into Go (needm, an extra M). */
	for (int i = 0; i < a->n; i++)
		a->sum += goAdd(i, 3);
	return NULL;
}

__attribute__((noinline)) uint64_t c_thread_callbacks(int nthreads, int per_thread)
{
	pthread_t t[64];
	struct cb_arg a[64];
	uint64_t s = 0;

	if (nthreads > 64)
		nthreads = 64;
	for (int i = 0; i < nthreads; i++) {
		a[i].n = per_thread;
		a[i].sum = 0;
		if (pthread_create(&t[i], NULL, cb_thread, &a[i]))
			abort();
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		s += a[i].sum;
	}
	return s;
}

/* C -> Go -> C -> Go ...: goRecurse grows the goroutine's stack inside a callback. */
__attribute__((noinline)) uint64_t c_recurse(int depth)
{
	volatile char pad[128];

	pad[0] = (char)depth;
	if (depth <= 0)
		return 1;
	return goRecurse(depth - 1) + c_mix((uint64_t)depth) + pad[0];
}

void c_sleep_us(int us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};

	nanosleep(&ts, NULL);
}
