// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bpfio/stackstore.h"
#include "lib/util.h"
#include "bpf/stacks.h"

struct stored_stack {
	uint64_t *pcs;
	int n;
};

void stack_store_init(struct stack_store *st, int map_fd)
{
	memset(st, 0, sizeof(*st));
	st->fd = map_fd;
	hmap_init(&st->by_hash, sizeof(uint64_t), sizeof(struct stored_stack));
}

void stack_store_free(struct stack_store *st)
{
	struct stored_stack *s;

	for (size_t it = 0; hmap_next(&st->by_hash, &it, NULL, (void **)&s);)
		free(s->pcs);
	hmap_free(&st->by_hash);
	free(st->pending);
}

/* The stack of hash, from here or else from the map; NULL when neither has it. */
static struct stored_stack *fetch(struct stack_store *st, uint64_t hash)
{
	struct stored_stack *e = hmap_get(&st->by_hash, &hash);
	struct ls_stack s;

	if (e)
		return e;
	if (bpf_map_lookup_elem(st->fd, &hash, &s))
		return NULL;
	e = hmap_put(&st->by_hash, &hash, NULL);
	e->n = MIN(s.depth, (uint64_t)LS_MAX_STACK_DEPTH);
	e->pcs = xmalloc(e->n * sizeof(uint64_t) + 1);
	memcpy(e->pcs, s.pcs, e->n * sizeof(uint64_t));
	return e;
}

const uint64_t *stack_store_get(struct stack_store *st, uint64_t hash, int *n,
				uint64_t *missing)
{
	struct stored_stack *e;

	*n = 0;
	if (!hash)
		return NULL;
	e = fetch(st, hash);
	if (!e) {
		st->missing++;
		if (missing)
			(*missing)++;
		return NULL;
	}
	*n = e->n;
	return e->pcs;
}

void stack_store_release(struct stack_store *st, uint64_t hash)
{
	if (!hash)
		return;
	fetch(st, hash);
	bpf_map_delete_elem(st->fd, &hash);
}

size_t stack_store_flush(struct stack_store *st)
{
	size_t done = 0;

	/* In batches; a key BPF no longer has stops a batch: step over it (-524 is the
	 * kernel's ENOTSUPP: no batch delete for this map). */
	while (done < st->npending) {
		uint32_t count = (uint32_t)MIN(st->npending - done, (size_t)4096);
		int err = bpf_map_delete_batch(st->fd, st->pending + done, &count, NULL);

		if (err && (err == -EINVAL || err == -EOPNOTSUPP || err == -524) && !count) {
			for (; done < st->npending; done++) /* no batch delete: one by one */
				bpf_map_delete_elem(st->fd, &st->pending[done]);
			break;
		}
		done += count + (err ? 1 : 0);
	}
	done = st->npending;
	st->npending = 0;
	return done;
}

size_t stack_store_drain(struct stack_store *st)
{
	enum { CHUNK = 1024 }; /* 1 MiB of stacks per system call */
	uint64_t *keys, in_batch = 0, out_batch = 0;
	struct ls_stack *vals;
	size_t total = 0;
	bool first = true;

	if (st->fd < 0 || st->no_batch)
		return 0;
	stack_store_flush(st); /* what a report did not get to */
	keys = xmalloc(CHUNK * sizeof(*keys));
	vals = xmalloc(CHUNK * sizeof(*vals));
	for (;;) {
		uint32_t count = CHUNK;
		int err = bpf_map_lookup_batch(st->fd, first ? NULL : &in_batch, &out_batch, keys,
					       vals, &count, NULL);

		if (err && err != -ENOENT) {
			/* Older kernels: the stacks are read one by one when asked for. */
			if (first && err != -EFAULT)
				st->no_batch = true;
			break;
		}
		if (st->npending + count > st->cap_pending) {
			st->cap_pending = MAX(st->npending + count, 2 * st->cap_pending);
			st->pending = xrealloc(st->pending, st->cap_pending * sizeof(*st->pending));
		}
		for (uint32_t i = 0; i < count; i++) {
			bool created;
			struct stored_stack *e = hmap_put(&st->by_hash, &keys[i], &created);

			st->pending[st->npending++] = keys[i];
			if (!created)
				continue;
			e->n = MIN(vals[i].depth, (uint64_t)LS_MAX_STACK_DEPTH);
			e->pcs = xmalloc(e->n * sizeof(uint64_t) + 1);
			memcpy(e->pcs, vals[i].pcs, e->n * sizeof(uint64_t));
		}
		total += count;
		if (err == -ENOENT)
			break;
		in_batch = out_batch;
		first = false;
	}
	free(vals);
	free(keys);
	return total;
}

size_t stack_store_prune(struct stack_store *st)
{
	uint64_t key, next, *cur = NULL, del[256];
	size_t n = 0, total = 0;

	if (st->fd < 0)
		return 0;

	/* Collect a batch, delete it, start again: deleting while walking skips keys. */
	for (;;) {
		n = 0;
		cur = NULL;
		while (n < ARRAY_SIZE(del) && !bpf_map_get_next_key(st->fd, cur, &next)) {
			key = next;
			cur = &key;
			if (hmap_get(&st->by_hash, &key))
				del[n++] = key;
		}
		for (size_t i = 0; i < n; i++)
			bpf_map_delete_elem(st->fd, &del[i]);
		total += n;
		if (n < ARRAY_SIZE(del))
			break;
	}
	return total;
}
