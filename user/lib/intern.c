// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "lib/hashmap.h"
#include "lib/intern.h"
#include "lib/util.h"

static uint64_t str_hash(const void *key)
{
	const char *s = *(const char *const *)key;

	return hash_bytes(s, strlen(s), 0);
}

static bool str_eq(const void *a, const void *b)
{
	return !strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *intern(const char *str)
{
	static struct hmap strings;
	const char **v;
	bool created;

	if (!strings.slot_size)
		hmap_init_custom(&strings, sizeof(char *), sizeof(char *), str_hash, str_eq);
	v = hmap_put(&strings, &str, &created);
	if (created) {
		*v = xstrdup(str);
		*(const char **)hmap_key(&strings, v) = *v;
	}
	return *v;
}
