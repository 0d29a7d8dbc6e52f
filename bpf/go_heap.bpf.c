// SPDX-License-Identifier: GPL-2.0
/*
 * The Go heap, cheaply. Per GC cycle: one uprobe in resetLive (g0 stack) gives
 * the live heap after marking. Per allocation: nothing. When the binary's heap
 * profiling is on, user space reads the runtime's own profile buckets; when it
 * is off, a CPU-clock sampler notes the stacks that are inside the allocator,
 * so allocation can be apportioned by stack at a cost set by the sampling rate,
 * not by how much the program allocates.
 */
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "go_heap.h"

/* Allocator functions as link-time [start, end); bias added when known. */
const volatile __u64 go_alloc_lo[GO_ALLOC_RANGES] = {};
const volatile __u64 go_alloc_hi[GO_ALLOC_RANGES] = {};
const volatile __u32 go_nalloc_ranges = 0;
/* How deep in the stack an allocator frame is looked for. */
const volatile __u32 go_alloc_depth = 12;

/* Set by user space once the target's load address is known (launched PIE targets). */
__u64 go_text_bias = 0;
__u32 go_bias_known = 0;
__u64 go_heap_counters[GO_HEAP_CNT__MAX] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} go_gc_events SEC(".maps");

/* Allocation samples per stack hash, cumulative. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u64);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} go_alloc_samples SEC(".maps");

SEC("uprobe")
int go_gc_done(struct pt_regs *ctx)
{
	struct go_gc_event *e;

	if (!is_target())
		return 0;
	__sync_fetch_and_add(&go_heap_counters[GO_HEAP_CNT_GCS], 1);
	e = bpf_ringbuf_reserve(&go_gc_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&go_heap_counters[GO_HEAP_CNT_RB_FULL], 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->heap_marked = ctx->bx;
	e->controller = ctx->ax;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

struct alloc_find {
	struct ls_stack *st;
	long n;
	bool hit;
};

/*
 * Whether frame i of the sample is in an allocator function: a bpf_loop()
 * callback, so the verifier checks it once rather than for every frame and range
 * (as plain loops, this program took a second to load).
 */
static long alloc_frame(__u32 i, void *arg)
{
	struct alloc_find *f = arg;
	__u64 pc;

	if (i >= f->n || i >= go_alloc_depth || i >= LS_MAX_STACK_DEPTH)
		return 1;
	pc = f->st->pcs[i];
	for (int r = 0; r < GO_ALLOC_RANGES; r++) {
		if (r >= go_nalloc_ranges)
			break;
		if (pc >= go_alloc_lo[r] + go_text_bias && pc < go_alloc_hi[r] + go_text_bias) {
			f->hit = true;
			return 1;
		}
	}
	return 0;
}

SEC("perf_event")
int go_alloc_sample(struct bpf_perf_event_data *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)&ctx->regs;
	struct ls_stack *st;
	__u64 h, cs;
	struct alloc_find f = {};
	long n;

	if (!is_target() || !go_bias_known)
		return 0;
	/*
	 * Only user-mode samples: the allocator is user code. Context fields must be
	 * read whole (8 bytes): cs is a u16 inside a union in pt_regs since FRED.
	 */
	cs = *(volatile __u64 *)((void *)regs + __builtin_offsetof(struct pt_regs, ip) + 8);
	if ((cs & 3) != 3)
		return 0;
	__sync_fetch_and_add(&go_heap_counters[GO_HEAP_CNT_SAMPLES], 1);
	st = stack_scratch_get();
	if (!st)
		return 0;
	n = stack_walk(regs, st, false);
	f.st = st;
	f.n = n;
	bpf_loop(16, alloc_frame, &f, 0);
	if (!f.hit)
		return 0;
	__sync_fetch_and_add(&go_heap_counters[GO_HEAP_CNT_ALLOC_SAMPLES], 1);
	h = stack_store(st, n, &go_heap_counters[GO_HEAP_CNT_STACK_FULL]);
	if (!h)
		return 0;
	if (!count_key(&go_alloc_samples, &h, 1))
		__sync_fetch_and_add(&go_heap_counters[GO_HEAP_CNT_SAMPLE_FULL], 1);
	return 0;
}
