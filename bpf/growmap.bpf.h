/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Growing maps, BPF side (see growmap.h). A key lives in one shard. The shards in
 * use are the first slots of the outer array; user space fills the next slot
 * before those fill up, watching the caller's count of entries (*used). The loops
 * are unrolled: a loop counter whose address goes to a helper loses its bounds in
 * the verifier's eyes.
 */
#ifndef LEAKSCOPE_GROWMAP_BPF_H
#define LEAKSCOPE_GROWMAP_BPF_H

#include "growmap.h"

#ifndef E2BIG
#define E2BIG 7
#endif

/* The value of key in whichever shard holds it (and that shard), or NULL. */
static __always_inline void *growmap_lookup(void *outer, const void *key, void **shard)
{
#pragma unroll
	for (__u32 i = 0; i < GROWMAP_SHARDS; i++) {
		__u32 k = i; /* its address goes to a helper: not the loop counter */
		void *m = bpf_map_lookup_elem(outer, &k), *v;

		if (!m)
			return NULL;
		v = bpf_map_lookup_elem(m, key);
		if (v) {
			*shard = m;
			return v;
		}
	}
	return NULL;
}

/* Add key, which no shard holds, to the first with room: 0, or -E2BIG when all are full. */
static __always_inline long growmap_insert(void *outer, const void *key, const void *val,
					   __u64 *used)
{
#pragma unroll
	for (__u32 i = 0; i < GROWMAP_SHARDS; i++) {
		__u32 k = i;
		void *m = bpf_map_lookup_elem(outer, &k);
		long err;

		if (!m)
			break;
		err = bpf_map_update_elem(m, key, val, BPF_NOEXIST);
		if (!err) {
			__sync_fetch_and_add(used, 1);
			return 0;
		}
		if (err != -E2BIG)
			return err;
	}
	return -E2BIG;
}

/* Remove key from whichever shard holds it; false when none did. */
static __always_inline bool growmap_delete(void *outer, const void *key, __u64 *used)
{
#pragma unroll
	for (__u32 i = 0; i < GROWMAP_SHARDS; i++) {
		__u32 k = i;
		void *m = bpf_map_lookup_elem(outer, &k);

		if (!m)
			break;
		if (!bpf_map_delete_elem(m, key)) {
			__sync_fetch_and_add(used, (__u64)-1);
			return true;
		}
	}
	return false;
}

#endif
