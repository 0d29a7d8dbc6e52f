/* gostress's C side (stress.c): declarations only, as cgo wants where Go code //exports. */
#ifndef GOSTRESS_STRESS_H
#define GOSTRESS_STRESS_H
#include <stdint.h>

uint64_t c_mix(uint64_t x);
uint64_t c_callback_loop(int n);
uint64_t c_thread_callbacks(int nthreads, int per_thread);
uint64_t c_recurse(int depth);
void c_sleep_us(int us);
#endif
