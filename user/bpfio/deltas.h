/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF keeps cumulative counters per key (a struct of __u64s); reports want what
 * happened since the last look. One helper for every source: keys compared as
 * bytes, any number of counters per key.
 */
#ifndef LEAKSCOPE_BPFIO_DELTAS_H
#define LEAKSCOPE_BPFIO_DELTAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hashmap.h"

struct cum_deltas {
	struct hmap last; /* key -> uint64_t[ncounters], as last seen */
	unsigned ncounters;
};

void cum_deltas_init(struct cum_deltas *c, size_t key_size, unsigned ncounters);
void cum_deltas_free(struct cum_deltas *c);

/*
 * delta[i] = now[i] - the value last seen for key (all of now the first time; 0
 * where a counter went back); now is remembered. True when any delta is non-zero.
 */
bool cum_delta(struct cum_deltas *c, const void *key, const uint64_t *now, uint64_t *delta);
/* The same for a single counter. */
uint64_t cum_delta1(struct cum_deltas *c, const void *key, uint64_t now);
/* The counters last seen for key (NULL if never). */
const uint64_t *cum_deltas_last(const struct cum_deltas *c, const void *key);
/* BPF's counters for key start again from zero (its entry was deleted there). */
void cum_deltas_restart(struct cum_deltas *c, const void *key);

#endif
