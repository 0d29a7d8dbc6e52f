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
 *
 * Stack memory is read a window at a time: one copy of LS_WIN_BYTES where the
 * walk starts (rsp), and another wherever a frame record lies outside the window
 * held (a goroutine's stack after g0's, a big frame). Each bpf_probe_read_user()
 * costs ~100-200 ns on these VMs whatever its size up to a few hundred bytes, and
 * callers' frames are usually close together: a walk of 6-10 frames reads 1-3
 * windows instead of one record per frame.
 */
#define LS_WIN_BYTES 512
#define LS_WIN_WORDS (LS_WIN_BYTES / 8)

struct ls_window {
	__u64 w[LS_WIN_WORDS];
	__u64 base; /* address of w[0] */
	__u64 len;  /* bytes of w that hold stack memory */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ls_window);
	__uint(max_entries, 1);
} stack_window __weak SEC(".maps");

static __always_inline struct ls_window *stack_window_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stack_window, &zero);
}

/* Word index of an offset already checked against the window, bounded for the verifier. */
static __always_inline __u64 ls_win_index(__u64 off)
{
	__u64 k = off / 8;

	asm volatile("%0 &= %1" : "+r"(k) : "i"(LS_WIN_WORDS - 1));
	return k;
}

/*
 * Copy the window at addr: LS_WIN_BYTES, or when that fails (the top of a stack),
 * up to the end of addr's page, which is mapped if addr is. 0, or -1 with an
 * empty window.
 */
static __always_inline long ls_win_load(struct ls_window *win, __u64 addr)
{
	__u64 len = LS_WIN_BYTES;

	win->base = addr;
	if (bpf_probe_read_user(win->w, LS_WIN_BYTES, (void *)addr)) {
		len = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
		if (len > LS_WIN_BYTES)
			len = LS_WIN_BYTES;
		if (bpf_probe_read_user(win->w, len, (void *)addr))
			len = 0;
	}
	win->len = len;
	return len ? 0 : -1;
}

/* The word at addr: from the window when it holds it, else read from the target. */
static __always_inline long ls_win_word(const struct ls_window *win, __u64 addr, __u64 *out)
{
	__u64 off = addr - win->base;

	if (addr < win->base || off + 8 > win->len || (off & 7))
		return bpf_probe_read_user(out, sizeof(*out), (void *)addr);
	*out = win->w[ls_win_index(off)];
	return 0;
}

struct fp_walk {
	struct ls_stack *st;
	struct ls_window *win;
	__u64 bp;
	__u64 floor;	/* with monotonic: the last frame record's address */
	bool monotonic; /* each frame record above the last (one stack, no switch) */
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
	struct ls_window *win = w->win;
	__u64 n = st->depth, bp = w->bp, off = bp - win->base, saved_bp, ret;

	/*
	 * A frame pointer is 8-aligned (and on one stack, above the last one): anything
	 * else is not one (code built without them uses rbp for data). Stop before
	 * reading it, as a read that faults costs microseconds.
	 */
	if (!bp || (bp & 7) || n >= LS_MAX_STACK_DEPTH || (w->monotonic && bp <= w->floor))
		return 1;
	if (bp < win->base || off + 16 > win->len) {
		if (ls_win_load(win, bp) || win->len < 16)
			return 1;
		off = 0;
	}
	saved_bp = win->w[ls_win_index(off)];
	ret = win->w[ls_win_index(off + 8)];
	if (!ret)
		return 1;
	st->pcs[n] = ret;
	st->depth = n + 1;
	w->floor = bp;
	w->bp = saved_bp;
	return 0;
}

/*
 * Walk on from frame record bp, appending to st (st->depth frames so far),
 * within or beyond the window already held. Returns the depth.
 */
static __always_inline long stack_walk_from(struct ls_stack *st, struct ls_window *win, __u64 bp,
					    __u64 floor, bool monotonic)
{
	struct fp_walk w = {.st = st, .win = win, .bp = bp, .floor = floor, .monotonic = monotonic};

	bpf_loop(LS_MAX_STACK_DEPTH, fp_step, &w, 0);
	return st->depth;
}

static __always_inline long stack_walk(struct pt_regs *ctx, struct ls_stack *st, bool caller_at_sp)
{
	struct ls_window *win = stack_window_get();
	__u64 sp = PT_REGS_SP(ctx);

	st->pcs[0] = PT_REGS_IP(ctx);
	st->depth = 1;
	if (!win)
		return 1;
	/* The window at rsp: the first frames are there, and [rsp] too. */
	if (ls_win_load(win, sp))
		return 1;
	/*
	 * At a function's first instruction (or at a RET) rbp is still the caller's
	 * frame, so its caller would be skipped: its return address is at the stack
	 * pointer.
	 */
	if (caller_at_sp) {
		if (win->len < 8 || !win->w[0])
			return 1;
		st->pcs[1] = win->w[0];
		st->depth = 2;
	}
	return stack_walk_from(st, win, PT_REGS_FP(ctx), 0, false);
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
