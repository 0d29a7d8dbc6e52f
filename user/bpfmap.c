// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal "operation not supported" */
#endif

#include "bpfmap.h"
#include "session.h"
#include "stacks.h"
#include "util.h"

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

int map_dump_read(int fd, uint32_t key_size, uint32_t value_size, struct map_dump *d)
{
	const uint32_t chunk = 4096;
	uint64_t in_batch = 0, out_batch = 0;
	bool first = true;

	d->key_size = key_size;
	d->value_size = value_size;
	d->n = 0;
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

void map_dump_free(struct map_dump *d)
{
	free(d->keys);
	free(d->values);
	memset(d, 0, sizeof(*d));
}

struct stack_entry {
	uint64_t hash;
	uint64_t *pcs;
	int n;
};

void stack_store_init(struct stack_store *st, int map_fd)
{
	memset(st, 0, sizeof(*st));
	st->fd = map_fd;
}

void stack_store_free(struct stack_store *st)
{
	for (size_t i = 0; i < st->cap; i++)
		free(st->v[i].pcs);
	free(st->v);
	memset(st, 0, sizeof(*st));
}

static struct stack_entry *slot(struct stack_store *st, uint64_t hash)
{
	size_t k = hash * 0x9e3779b97f4a7c15ull >> 17;

	for (;; k++) {
		struct stack_entry *e = &st->v[k & (st->cap - 1)];

		if (!e->hash || e->hash == hash)
			return e;
	}
}

const uint64_t *stack_store_get(struct stack_store *st, uint64_t hash, int *n)
{
	struct stack_entry *e;
	struct ls_stack s;

	*n = 0;
	if (!hash)
		return NULL;
	if (2 * (st->n + 1) > st->cap) {
		struct stack_entry *old = st->v;
		size_t oldcap = st->cap;

		st->cap = st->cap ? 2 * st->cap : 1024;
		st->v = xcalloc(st->cap, sizeof(*st->v));
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].hash)
				*slot(st, old[i].hash) = old[i];
		free(old);
	}
	e = slot(st, hash);
	if (e->hash) {
		*n = e->n;
		return e->pcs;
	}
	if (bpf_map_lookup_elem(st->fd, &hash, &s)) {
		st->missing++;
		return NULL;
	}
	e->hash = hash;
	e->n = MIN(s.depth, (uint64_t)LS_MAX_STACK_DEPTH);
	e->pcs = xmalloc(e->n * sizeof(uint64_t) + 1);
	memcpy(e->pcs, s.pcs, e->n * sizeof(uint64_t));
	st->n++;
	*n = e->n;
	return e->pcs;
}

void bpf_load_error(struct fatal *f, const char *what, int err)
{
	if (err == -EPERM)
		fatal_set(f, EXIT_PERMISSION,
			  "not permitted to load the %s BPF program: run leakscope as root", what);
	else if (err == -EACCES || err == -EINVAL)
		fatal_set(f, EXIT_KERNEL,
			  "this kernel's verifier rejected the %s BPF program (%s); run with -vv "
			  "for its log and please report it with `uname -r`",
			  what, strerror(-err));
	else
		fatal_set(f, EXIT_KERNEL, "cannot load the %s BPF program: %s", what,
			  strerror(-err));
}
