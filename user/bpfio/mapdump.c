// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal "operation not supported" */
#endif

#include "bpfio/mapdump.h"
#include "lib/util.h"

static void reserve(struct map_dump *d, size_t n)
{
	if (n <= d->cap)
		return;
	d->cap = MAX(n, 2 * d->cap);
	d->keys = xrealloc(d->keys, d->cap * d->key_size);
	d->values = xrealloc(d->values, d->cap * d->value_size);
}

static int dump_by_walk(int fd, struct map_dump *d)
{
	char *prev = xmalloc(d->key_size), *key = xmalloc(d->key_size);
	bool have_prev = false;
	int err;

	while (!(err = bpf_map_get_next_key(fd, have_prev ? prev : NULL, key))) {
		reserve(d, d->n + 1);
		if (!bpf_map_lookup_elem(fd, key, map_dump_value(d, d->n))) {
			memcpy(map_dump_key(d, d->n), key, d->key_size);
			d->n++;
		}
		memcpy(prev, key, d->key_size);
		have_prev = true;
	}
	free(prev);
	free(key);
	return err == -ENOENT ? 0 : err;
}

int map_dump_append(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d)
{
	const uint32_t chunk = 4096;
	uint64_t in_batch = 0, out_batch = 0;
	bool first = true;

	if (d->n && (d->key_size != key_size || d->value_size != value_size))
		return -EINVAL;
	d->key_size = key_size;
	d->value_size = value_size;
	for (;;) {
		uint32_t count = chunk;
		int err;

		reserve(d, d->n + chunk);
		/* The batch token of a hash map is a bucket index (4 bytes); 8 covers it. */
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch,
					   map_dump_key(d, d->n), map_dump_value(d, d->n), &count,
					   NULL);
		if (err && err != -ENOENT) {
			if (first && (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP))
				return dump_by_walk(fd, d);
			return err;
		}
		d->n += count;
		if (err == -ENOENT)
			return 0;
		in_batch = out_batch;
		first = false;
	}
}

int map_dump_read(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d)
{
	d->n = 0;
	return map_dump_append(fd, key_size, value_size, d);
}

void map_dump_free(struct map_dump *d)
{
	free(d->keys);
	free(d->values);
	memset(d, 0, sizeof(*d));
}
