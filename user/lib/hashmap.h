/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one hash table: open addressing with linear probing, fixed-size keys and
 * values stored inline. Keys are compared as bytes, or with the functions given
 * to hmap_init_custom() (for keys that point at what they name: strings, sites).
 * A value pointer stays valid until the next insert; nothing is ever removed
 * (callers reset values instead), which keeps probing simple and lookups short.
 */
#ifndef LEAKSCOPE_LIB_HASHMAP_H
#define LEAKSCOPE_LIB_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap {
	uint32_t key_size, val_size;
	uint32_t val_off, slot_size; /* slot: used flag (8 bytes), key, value; 8-aligned */
	uint8_t *slots;
	size_t n, cap;
	uint64_t (*hash)(const void *key);
	bool (*eq)(const void *a, const void *b);
};

void hmap_init(struct hmap *m, size_t key_size, size_t val_size);
/* Keys hashed and compared by hash()/eq() instead of by their bytes. */
void hmap_init_custom(struct hmap *m, size_t key_size, size_t val_size,
		      uint64_t (*hash)(const void *key), bool (*eq)(const void *a, const void *b));
void hmap_free(struct hmap *m);
/* Room for n entries without growing (one rehash instead of one per doubling). */
void hmap_reserve(struct hmap *m, size_t n);

/* The value of key, or NULL. */
void *hmap_get(const struct hmap *m, const void *key);
/* The value of key, inserted zeroed when missing (*created says which, when not NULL). */
void *hmap_put(struct hmap *m, const void *key, bool *created);

/* The stored key of a value returned above (to replace a borrowed key by an owned one). */
void *hmap_key(const struct hmap *m, void *val);

/*
 * Iteration: for (size_t it = 0; hmap_next(m, &it, &key, &val);) ... visits every
 * entry once, in no particular order. key or val may be NULL.
 */
bool hmap_next(const struct hmap *m, size_t *it, void **key, void **val);

#endif
