// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bpfio/growmap.h"
#include "bpfio/object.h"
#include "lib/util.h"

static int add_shard(struct growmap *g, uint64_t size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	char name[16];
	int fd;

	if (g->n == GROWMAP_SHARDS || !size)
		return -E2BIG;
	snprintf(name, sizeof(name), "%.12s_%d", g->name, g->n);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, g->key_size, g->value_size, size, &opts);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(g->outer_fd, &g->n, &fd, BPF_ANY)) {
		int err = -errno;

		close(fd);
		return err;
	}
	g->fds[g->n++] = fd;
	g->capacity += size;
	bpfobj_track_fd(fd);
	log_debug("%s: %llu entries in %d shards", g->name, (unsigned long long)g->capacity, g->n);
	return 0;
}

int growmap_init(struct growmap *g, struct bpf_map *outer, uint32_t key_size, uint32_t value_size,
		 uint64_t max, uint32_t first, const volatile uint64_t *used)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", bpf_map__name(outer));
	g->outer_fd = bpf_map__fd(outer);
	g->key_size = key_size;
	g->value_size = value_size;
	g->max = max;
	g->used = used;
	return add_shard(g, MIN(first, max));
}

void growmap_tick(struct growmap *g)
{
	uint64_t used = *g->used;
	int err;

	if (2 * used <= g->capacity || g->capacity >= g->max)
		return;
	/* Each new shard as large as all before it: the capacity doubles. */
	err = add_shard(g, MIN(g->capacity, g->max - g->capacity));
	if (err && err != -E2BIG)
		log_warn("%s: cannot grow past %llu entries: %s", g->name,
			 (unsigned long long)g->capacity, strerror(-err));
}

int growmap_dump(const struct growmap *g, struct map_dump *d)
{
	int err = 0;

	d->n = 0;
	for (int i = 0; i < g->n && !err; i++)
		err = map_dump_append(g->fds[i], g->key_size, g->value_size, d);
	return err;
}

void growmap_free(struct growmap *g)
{
	for (int i = 0; i < g->n; i++) {
		bpfobj_untrack_fd(g->fds[i]);
		close(g->fds[i]);
	}
	g->n = 0;
}
