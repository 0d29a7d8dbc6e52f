/* SPDX-License-Identifier: GPL-2.0 */
/* BPF objects from user space: whole-map batch dumps, the shared stack store, load errors. */
#ifndef LEAKSCOPE_BPFMAP_H
#define LEAKSCOPE_BPFMAP_H

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
 * entries), falling back to get_next_key walks on kernels without them.
 */
int map_dump_read(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d);
void map_dump_free(struct map_dump *d);

static inline void *map_dump_key(const struct map_dump *d, size_t i)
{
	return (char *)d->keys + i * d->key_size;
}

static inline void *map_dump_value(const struct map_dump *d, size_t i)
{
	return (char *)d->values + i * d->value_size;
}

/* Stacks by hash (see bpf/stacks.bpf.h), read from the map once and kept. */
struct stack_store {
	int fd;
	struct stack_entry *v;
	size_t n, cap;
	uint64_t missing; /* hashes that were not in the map */
};

void stack_store_init(struct stack_store *st, int map_fd);
void stack_store_free(struct stack_store *st);
/* The pcs for hash; *n = 0 when unknown. Pointer valid until stack_store_free. */
const uint64_t *stack_store_get(struct stack_store *st, uint64_t hash, int *n);

#endif
