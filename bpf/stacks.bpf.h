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
 * The user stack by frame pointers, walked here rather than with
 * bpf_get_stack(BPF_F_USER_STACK): on these VMs the kernel's unwinder costs
 * about 1.2 us for a 5-frame stack, this loop about 0.5 us, and the cost is paid
 * on every probe hit. Frame 0 is the probed instruction; each frame then gives
 * {saved rbp, return address}. The walk follows rbp wherever it leads (Go's
 * systemstack switch jumps from the g0 stack to the goroutine's), and ends at a
 * zero or unreadable frame or at the depth limit.
 */
static __always_inline long stack_walk(struct pt_regs *ctx, struct ls_stack *st, bool caller_at_sp)
{
	__u64 bp = PT_REGS_FP(ctx), fr[2];
	long n = 1;

	st->pcs[0] = PT_REGS_IP(ctx);
	/*
	 * At a function's first instruction (or at a RET) rbp is still the caller's
	 * frame, so its caller would be skipped: its return address is at the stack
	 * pointer.
	 */
	if (caller_at_sp) {
		if (bpf_probe_read_user(&fr[1], sizeof(fr[1]), (void *)PT_REGS_SP(ctx)) || !fr[1])
			return n;
		st->pcs[n++] = fr[1];
	}
	for (int i = 0; i < LS_MAX_STACK_DEPTH - 2; i++) {
		if (!bp || bpf_probe_read_user(fr, sizeof(fr), (void *)bp) || !fr[1])
			break;
		if (n >= LS_MAX_STACK_DEPTH)
			break;
		st->pcs[n++] = fr[1];
		bp = fr[0];
	}
	return n;
}

/* Store a walked stack once and return its hash (0 when the map is full). */
static __always_inline __u64 stack_store(struct ls_stack *st, long n)
{
	__u64 h = 0xcbf29ce484222325ull;

	st->depth = n;
	for (int i = 0; i < LS_MAX_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ st->pcs[i]) * 0x100000001b3ull;
	}
	h |= 1; /* 0 means "no stack" */
	/* Most stacks are already stored: a lock-free lookup is cheaper than a failed insert. */
	if (bpf_map_lookup_elem(&stacks, &h))
		return h;
	if (bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST) == -E2BIG) {
		__sync_fetch_and_add(&stack_errors[LS_STACK_ERR_FULL], 1);
		return 0;
	}
	return h;
}

/* The per-CPU scratch record a stack is walked into. */
static __always_inline struct ls_stack *stack_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stack_scratch, &zero);
}

/*
 * Take the current user stack, store it once, and return its hash (0 on
 * failure). See stack_walk() for caller_at_sp.
 */
static __always_inline __u64 stack_take(struct pt_regs *ctx, bool caller_at_sp)
{
	struct ls_stack *st = stack_scratch_get();

	if (!st)
		return 0;
	return stack_store(st, stack_walk(ctx, st, caller_at_sp));
}

#endif
