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

/*
 * BPF keeps cumulative counters per key; reports want what happened since the
 * last look. Keys are compared as bytes.
 */
struct cum_deltas {
	size_t key_size, slot_size;
	uint8_t *slots; /* {u64 last, u8 used, key[key_size]} each */
	size_t n, cap;
};

void cum_deltas_init(struct cum_deltas *c, size_t key_size);
void cum_deltas_free(struct cum_deltas *c);
/* now - the value last seen for key (all of now the first time); remembers now. */
uint64_t cum_delta(struct cum_deltas *c, const void *key, uint64_t now);

struct session;
struct fatal;
struct elf_file;
struct bpf_program;
struct bpf_link;

/*
 * Attach prog as a uprobe at link-time address vaddr of the ELF file at path (as
 * the target sees it), filtered to the target's process, with a BPF cookie. On
 * failure, NULL and either *f set (with the documented exit status) or, when f is
 * NULL, a warning naming `what`.
 */
struct bpf_link *uprobe_attach(struct session *s, struct bpf_program *prog, const char *path,
			       const struct elf_file *elf, uint64_t vaddr, uint64_t cookie,
			       const char *what, struct fatal *f);

#endif
