/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks stored by content hash. BPF_MAP_TYPE_STACK_TRACE indexes stacks by
 * a hash modulo its size and either refuses a colliding stack (-EEXIST) or
 * overwrites the older one (REUSE_STACKID), corrupting earlier records; with a
 * hundred stacks in 16K buckets that happens in about one session in three. A
 * 64-bit content hash as the key of an ordinary hash map does not collide in
 * practice, and user space can delete stacks nobody refers to any more.
 *
 * One store for every program of the linked object: a stack is kept once however
 * many views see it. Not preallocated: memory follows the stacks actually seen, and
 * user space sets the capacity (--max-stacks) before load.
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
	__uint(map_flags, BPF_F_NO_PREALLOC);
} stacks __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ls_stack);
	__uint(max_entries, 1);
} stack_scratch __weak SEC(".maps");

/*
 * Failures of every program together, for -v; each view counts the stacks it lost
 * in its own counters (a stack_take() that returns 0).
 */
__u64 stack_errors[LS_STACK_ERR__MAX] __weak = {};

/*
 * The user stack by frame pointers, walked here rather than with
 * bpf_get_stack(BPF_F_USER_STACK): on these VMs the kernel's unwinder costs
 * about 1.2 us for a 5-frame stack, this loop about 0.5 us, and the cost is paid
 * on every probe hit. Frame 0 is the probed instruction; each frame then gives
 * {saved rbp, return address}. The walk follows rbp wherever it leads (Go's
 * systemstack switch jumps from the g0 stack to the goroutine's), and ends at a
 * zero or unreadable frame or at the depth limit.
 */
struct fp_walk {
	struct ls_stack *st;
	__u64 bp;
};

/*
 * One frame record up, as a bpf_loop() callback: verified once, not per frame.
 * The depth lives in the map value (st->depth), which the verifier does not track
 * as a constant; on the BPF stack it would be, and every depth would be a state.
 */
static long fp_step(__u32 i, void *arg)
{
	struct fp_walk *w = arg;
	struct ls_stack *st = w->st;
	__u64 fr[2], n = st->depth;

	if (!w->bp || n >= LS_MAX_STACK_DEPTH ||
	    bpf_probe_read_user(fr, sizeof(fr), (void *)w->bp) || !fr[1])
		return 1;
	st->pcs[n] = fr[1];
	st->depth = n + 1;
	w->bp = fr[0];
	return 0;
}

static __always_inline long stack_walk(struct pt_regs *ctx, struct ls_stack *st, bool caller_at_sp)
{
	struct fp_walk w = {.st = st, .bp = PT_REGS_FP(ctx)};
	__u64 ret;

	st->pcs[0] = PT_REGS_IP(ctx);
	st->depth = 1;
	/*
	 * At a function's first instruction (or at a RET) rbp is still the caller's
	 * frame, so its caller would be skipped: its return address is at the stack
	 * pointer.
	 */
	if (caller_at_sp) {
		if (bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)) || !ret)
			return 1;
		st->pcs[1] = ret;
		st->depth = 2;
	}
	bpf_loop(LS_MAX_STACK_DEPTH - 2, fp_step, &w, 0);
	return st->depth;
}

struct fnv_hash {
	struct ls_stack *st;
	__u64 h;
};

/* FNV-1a over the pcs, a word at a time (a bpf_loop() callback). */
static long fnv_step(__u32 i, void *arg)
{
	struct fnv_hash *f = arg;

	if (i >= f->st->depth || i >= LS_MAX_STACK_DEPTH)
		return 1;
	f->h = (f->h ^ f->st->pcs[i]) * 0x100000001b3ull;
	return 0;
}

/*
 * Store a walked stack once and return its hash (0 when the map is full: then
 * *lost, the caller's own counter, goes up).
 */
static __always_inline __u64 stack_store(struct ls_stack *st, long n, __u64 *lost)
{
	struct fnv_hash f = {.st = st, .h = 0xcbf29ce484222325ull};
	__u64 h;

	st->depth = n;
	bpf_loop(LS_MAX_STACK_DEPTH, fnv_step, &f, 0);
	h = f.h | 1; /* 0 means "no stack" */
	/* Most stacks are already stored: a lock-free lookup is cheaper than a failed insert. */
	if (bpf_map_lookup_elem(&stacks, &h))
		return h;
	if (bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST) == -E2BIG) {
		__sync_fetch_and_add(&stack_errors[LS_STACK_ERR_FULL], 1);
		__sync_fetch_and_add(lost, 1);
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
 * failure). See stack_walk() for caller_at_sp, stack_store() for lost.
 */
static __always_inline __u64 stack_take(struct pt_regs *ctx, bool caller_at_sp, __u64 *lost)
{
	struct ls_stack *st = stack_scratch_get();

	if (!st)
		return 0;
	return stack_store(st, stack_walk(ctx, st, caller_at_sp), lost);
}

#endif
