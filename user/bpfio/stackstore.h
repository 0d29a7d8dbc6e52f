/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stack store, user side: stacks by content hash (see bpf/stacks.bpf.h), read
 * from the BPF map the first time a hash is asked for and kept for the session, so
 * the BPF side can forget them.
 */
#ifndef LEAKSCOPE_BPFIO_STACKSTORE_H
#define LEAKSCOPE_BPFIO_STACKSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hashmap.h"

struct stack_store {
	int fd;
	struct hmap by_hash; /* hash -> struct stored_stack */
	uint64_t missing;    /* hashes that were not in the map */
	bool no_batch;	     /* the kernel has no batch lookup for it */
	uint64_t *pending;   /* drained, still to be deleted from BPF */
	size_t npending, cap_pending;
};

void stack_store_init(struct stack_store *st, int map_fd);
void stack_store_free(struct stack_store *st);
/*
 * The pcs for hash; *n = 0 when unknown (then *missing, the caller's own count of
 * lost stacks, goes up when not NULL). Pointer valid until stack_store_free.
 */
const uint64_t *stack_store_get(struct stack_store *st, uint64_t hash, int *n,
				uint64_t *missing);
/*
 * Free the BPF entries of every stack already kept here (BPF stores a stack again
 * when it sees it again): the map holds only what user space has not read, so it
 * does not fill over a long session. Returns how many entries it freed.
 */
size_t stack_store_prune(struct stack_store *st);
/*
 * Copy every stack in the BPF map here, a thousand per system call (where asking
 * for each hash costs a lookup and a delete): before the sources read, so that
 * 100,000 new stacks do not cost 200,000 system calls. Their BPF copies are
 * deleted by stack_store_flush(), after the report: freeing 100,000 of them takes
 * the kernel a few hundred milliseconds, and the report need not wait. Returns
 * how many it copied.
 */
size_t stack_store_drain(struct stack_store *st);
/* Delete the BPF copies of what was drained. Returns how many. */
size_t stack_store_flush(struct stack_store *st);
/* Nothing in BPF refers to hash any more: keep its pcs here, free its BPF entry. */
void stack_store_release(struct stack_store *st, uint64_t hash);

#endif
