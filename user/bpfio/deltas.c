// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "bpfio/deltas.h"

void cum_deltas_init(struct cum_deltas *c, size_t key_size, unsigned ncounters)
{
	c->ncounters = ncounters;
	hmap_init(&c->last, key_size, ncounters * sizeof(uint64_t));
}

void cum_deltas_free(struct cum_deltas *c)
{
	hmap_free(&c->last);
}

bool cum_delta(struct cum_deltas *c, const void *key, const uint64_t *now, uint64_t *delta)
{
	uint64_t *last = hmap_put(&c->last, key, NULL);
	bool any = false;

	for (unsigned i = 0; i < c->ncounters; i++) {
		delta[i] = now[i] > last[i] ? now[i] - last[i] : 0;
		any |= delta[i] != 0;
		last[i] = now[i];
	}
	return any;
}

uint64_t cum_delta1(struct cum_deltas *c, const void *key, uint64_t now)
{
	uint64_t d;

	cum_delta(c, key, &now, &d);
	return d;
}

const uint64_t *cum_deltas_last(const struct cum_deltas *c, const void *key)
{
	return hmap_get(&c->last, key);
}

void cum_deltas_restart(struct cum_deltas *c, const void *key)
{
	uint64_t *last = hmap_get(&c->last, key);

	if (last)
		memset(last, 0, c->ncounters * sizeof(uint64_t));
}
