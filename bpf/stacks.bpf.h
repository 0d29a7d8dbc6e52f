/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks stored by content hash. BPF_MAP_TYPE_STACK_TRACE indexes stacks by
 * a hash modulo its size and either refuses a colliding stack (-EEXIST) or
 * overwrites the older one (REUSE_STACKID), corrupting earlier records; with a
 * hundred stacks in 16K buckets that happens in about one session in three. A
 * 64-bit content hash as the key of an ordinary hash map does not collide in
 * practice, and user space can delete stacks nobody refers to any more.
 */
#ifndef LEAKSCOPE_STACKS_BPF_H
#define LEAKSCOPE_STACKS_BPF_H

#include "stacks.h"

#ifndef E2BIG
#define E2BIG 7
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct ls_stack);
	__uint(max_entries, 16384);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ls_stack);
	__uint(max_entries, 1);
} stack_scratch SEC(".maps");

/* Failures, read by user space: a stack we could not keep is a stack not shown. */
__u64 stack_errors[LS_STACK_ERR__MAX] = {};

/*
 * Take the current user stack and return its hash (0 on failure). With
 * caller_at_sp, the word at the stack pointer is the caller's return address
 * that a frame-pointer walk would skip (probe at a function's first
 * instruction, or at a RET): insert it as frame 1.
 */
static __always_inline __u64 stack_take(struct pt_regs *ctx, bool caller_at_sp)
{
	__u32 zero = 0;
	struct ls_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	__u64 h = 0xcbf29ce484222325ull;
	long n;

	if (!st)
		return 0;
	n = bpf_get_stack(ctx, st->pcs, sizeof(st->pcs), BPF_F_USER_STACK);
	if (n <= 0) {
		__sync_fetch_and_add(&stack_errors[LS_STACK_ERR_WALK], 1);
		return 0;
	}
	n /= sizeof(__u64);
	if (caller_at_sp && n < LS_MAX_STACK_DEPTH) {
		__u64 ret = 0;

		bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx));
		/* Shift frames 1.. up by one; bounded loop for the verifier. */
		for (int i = LS_MAX_STACK_DEPTH - 1; i > 1; i--)
			if (i <= n)
				st->pcs[i] = st->pcs[i - 1];
		st->pcs[1] = ret;
		n++;
	}
	st->depth = n;
	for (int i = 0; i < LS_MAX_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ st->pcs[i]) * 0x100000001b3ull;
	}
	h |= 1; /* 0 means "no stack" */
	if (bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST) == -E2BIG) {
		__sync_fetch_and_add(&stack_errors[LS_STACK_ERR_FULL], 1);
		return 0;
	}
	return h;
}

#endif
