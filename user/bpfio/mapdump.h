/* SPDX-License-Identifier: GPL-2.0 */
/* Whole BPF hash maps read in a few syscalls, each interval. */
#ifndef LEAKSCOPE_BPFIO_MAPDUMP_H
#define LEAKSCOPE_BPFIO_MAPDUMP_H

#include <stddef.h>
#include <stdint.h>

/* A snapshot of a hash map; keys and values are packed arrays. */
struct map_dump {
	void *keys, *values;
	size_t n, cap;
	uint32_t key_size, value_size;
};

/*
 * Read every entry of map fd with batch lookups (one syscall per few thousand
 * entries), falling back to get_next_key walks on kernels without them. With
 * append, the entries are added after those already in d (one snapshot of several
 * maps with the same layout).
 */
int map_dump_read(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d);
int map_dump_append(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d);
void map_dump_free(struct map_dump *d);

static inline void *map_dump_key(const struct map_dump *d, size_t i)
{
	return (char *)d->keys + i * d->key_size;
}

static inline void *map_dump_value(const struct map_dump *d, size_t i)
{
	return (char *)d->values + i * d->value_size;
}

#endif
