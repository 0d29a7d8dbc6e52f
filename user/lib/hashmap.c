// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "lib/hashmap.h"
#include "lib/util.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

void hmap_init_custom(struct hmap *m, size_t key_size, size_t val_size,
		      uint64_t (*hash)(const void *key), bool (*eq)(const void *a, const void *b))
{
	memset(m, 0, sizeof(*m));
	m->key_size = key_size;
	m->val_size = val_size;
	m->val_off = 8 + ALIGN8(key_size);
	m->slot_size = m->val_off + ALIGN8(val_size);
	m->hash = hash;
	m->eq = eq;
}

void hmap_init(struct hmap *m, size_t key_size, size_t val_size)
{
	hmap_init_custom(m, key_size, val_size, NULL, NULL);
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->n = m->cap = 0;
}

static uint64_t key_hash(const struct hmap *m, const void *key)
{
	uint64_t h;

	/* 8-byte keys (addresses, stack hashes: most tables) get a 64-bit mix (the
	 * splitmix64 finalizer), not FNV's byte at a time. */
	if (!m->hash && m->key_size == 8) {
		memcpy(&h, key, 8);
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
		return h ^ (h >> 31);
	}
	h = m->hash ? m->hash(key) : hash_bytes(key, m->key_size, 0);

	/* FNV's low bits are its weakest; the table indexes by them. */
	return h ^ (h >> 31);
}

static bool key_eq(const struct hmap *m, const void *a, const void *b)
{
	if (!m->eq && m->key_size == 8) {
		uint64_t x, y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	return m->eq ? m->eq(a, b) : !memcmp(a, b, m->key_size);
}

static uint8_t *slot_at(const struct hmap *m, size_t i)
{
	return m->slots + i * m->slot_size;
}

/* The slot holding key, or the empty one where it would go. */
static uint8_t *find(const struct hmap *m, const void *key)
{
	for (size_t i = key_hash(m, key);; i++) {
		uint8_t *p = slot_at(m, i & (m->cap - 1));

		if (!p[0] || key_eq(m, p + 8, key))
			return p;
	}
}

static void grow_to(struct hmap *m, size_t cap)
{
	uint8_t *old = m->slots;
	size_t oldcap = m->cap;

	m->cap = cap;
	m->slots = xcalloc(m->cap, m->slot_size);
	for (size_t i = 0; i < oldcap; i++) {
		uint8_t *p = old + i * m->slot_size;

		if (p[0])
			memcpy(find(m, p + 8), p, m->slot_size);
	}
	free(old);
}

static void grow(struct hmap *m)
{
	grow_to(m, m->cap ? 2 * m->cap : 64);
}

void hmap_reserve(struct hmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	while (2 * n > cap)
		cap *= 2;
	if (cap > m->cap)
		grow_to(m, cap);
}

void *hmap_get(const struct hmap *m, const void *key)
{
	uint8_t *p;

	if (!m->n)
		return NULL;
	p = find(m, key);
	return p[0] ? p + m->val_off : NULL;
}

void *hmap_put(struct hmap *m, const void *key, bool *created)
{
	uint8_t *p;

	/* At most half full: probes stay short. */
	if (2 * (m->n + 1) > m->cap)
		grow(m);
	p = find(m, key);
	if (created)
		*created = !p[0];
	if (!p[0]) {
		p[0] = 1;
		memcpy(p + 8, key, m->key_size);
		m->n++;
	}
	return p + m->val_off;
}

bool hmap_next(const struct hmap *m, size_t *it, void **key, void **val)
{
	for (; *it < m->cap; (*it)++) {
		uint8_t *p = slot_at(m, *it);

		if (!p[0])
			continue;
		(*it)++;
		if (key)
			*key = p + 8;
		if (val)
			*val = p + m->val_off;
		return true;
	}
	return false;
}

void *hmap_key(const struct hmap *m, void *val)
{
	return (uint8_t *)val - m->val_off + 8;
}
