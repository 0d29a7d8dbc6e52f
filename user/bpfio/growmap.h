/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Growing BPF maps, user side (bpf/growmap.h): a hash map for up to `max` entries
 * kept as shards that are added, each as large as all before it, once more than
 * half of what exists is in use. A kernel hash map costs 16 bytes of buckets per
 * entry of capacity from the start; this way a map for millions of entries costs a
 * megabyte until it holds that many.
 */
#ifndef LEAKSCOPE_BPFIO_GROWMAP_H
#define LEAKSCOPE_BPFIO_GROWMAP_H

#include <stdint.h>

#include "bpfio/mapdump.h"
#include "bpf/growmap.h"

struct bpf_map;

struct growmap {
	char name[16];
	int outer_fd;
	uint32_t key_size, value_size;
	uint64_t max;	   /* entries it may grow to */
	uint64_t capacity; /* entries the shards made so far hold */
	int fds[GROWMAP_SHARDS], n;
	const volatile uint64_t *used; /* BPF's count of its entries */
	uint64_t dropped_at_max;
};

/*
 * Make the first shard (first entries, at most max) in outer, a loaded
 * BPF_MAP_TYPE_ARRAY_OF_MAPS of hash maps with key_size/value_size keys and
 * values (as its inner map declares). used: the counter BPF keeps of the
 * entries. 0 or -errno.
 */
int growmap_init(struct growmap *g, struct bpf_map *outer, uint32_t key_size, uint32_t value_size,
		 uint64_t max, uint32_t first, const volatile uint64_t *used);
/* Add a shard if more than half is in use and max allows. */
void growmap_tick(struct growmap *g);
/* Every entry of every shard. */
int growmap_dump(const struct growmap *g, struct map_dump *d);
void growmap_free(struct growmap *g);

#endif
