// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal "operation not supported" */
#endif

#include "bpfio/bpfmap.h"
#include "elf/elffile.h"
#include "session.h"
#include "stacks.h"
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

void cum_deltas_init(struct cum_deltas *c, size_t key_size)
{
	memset(c, 0, sizeof(*c));
	c->key_size = key_size;
	c->slot_size = (9 + key_size + 7) & ~(size_t)7;
}

void cum_deltas_free(struct cum_deltas *c)
{
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

static uint8_t *cum_slot(uint8_t *slots, size_t cap, size_t slot_size, size_t key_size,
			 const void *key)
{
	for (size_t i = hash_bytes(key, key_size, 0);; i++) {
		uint8_t *p = slots + (i & (cap - 1)) * slot_size;

		if (!p[8] || !memcmp(p + 9, key, key_size))
			return p;
	}
}

uint64_t cum_delta(struct cum_deltas *c, const void *key, uint64_t now)
{
	uint64_t last = 0;
	uint8_t *p;

	if (2 * (c->n + 1) > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		uint8_t *slots = xcalloc(cap, c->slot_size);

		for (size_t i = 0; i < c->cap; i++) {
			uint8_t *old = c->slots + i * c->slot_size;

			if (old[8])
				memcpy(cum_slot(slots, cap, c->slot_size, c->key_size, old + 9), old,
				       c->slot_size);
		}
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	p = cum_slot(c->slots, c->cap, c->slot_size, c->key_size, key);
	if (p[8]) {
		memcpy(&last, p, 8);
	} else {
		p[8] = 1;
		memcpy(p + 9, key, c->key_size);
		c->n++;
	}
	memcpy(p, &now, 8);
	return now > last ? now - last : 0;
}

struct bpf_link *uprobe_attach(struct session *s, struct bpf_program *prog, const char *path,
			       const struct elf_file *elf, uint64_t vaddr, uint64_t cookie,
			       const char *what, struct fatal *f)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie);
	struct bpf_link *l;
	uint64_t off;
	int err;

	if (elf_vaddr_to_offset(elf, vaddr, &off)) {
		if (f)
			fatal_set(f, EXIT_ERROR, "%s probe address 0x%llx not in %s", what,
				  (unsigned long long)vaddr, path);
		else
			log_warn("%s probe address 0x%llx not in %s", what,
				 (unsigned long long)vaddr, path);
		return NULL;
	}
	l = bpf_program__attach_uprobe_opts(prog, s->pid, path, off, &opts);
	if (!l) {
		err = -errno;
		if (f)
			fatal_set(f, err == -EPERM ? EXIT_PERMISSION : EXIT_KERNEL,
				  "cannot attach a uprobe to %s in %s: %s", what, path,
				  strerror(-err));
		else
			log_warn("cannot attach a uprobe to %s in %s: %s", what, path,
				 strerror(-err));
		return NULL;
	}
	log_debug("%s probed at 0x%llx (file offset 0x%llx) in %s", what,
		  (unsigned long long)vaddr, (unsigned long long)off, path);
	return l;
}
