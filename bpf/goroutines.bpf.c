// SPDX-License-Identifier: GPL-2.0
/*
 * Goroutine creation. One uprobe per `go` statement executed, placed where the
 * runtime hands the new g to the run queue (runtime.newproc.func1, on the g0
 * stack, at an instruction the kernel emulates). Exits are not probed at all:
 * user space reads the runtime's own goroutine list each interval and matches
 * live goroutines to the stacks recorded here, so a goroutine costs one trap.
 */
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "growmap.bpf.h"
#include "goroutines.h"

const volatile __u32 g_goid_off = 0;
const volatile __u32 g_startpc_off = 0;
const volatile __u32 g_gopc_off = 0;
/*
 * The three fields in one read: from g_span_lo, g_span bytes (<= LS_WIN_BYTES, the
 * fields 8-aligned in it; user space checks). 0: read them one by one.
 */
const volatile __u32 g_span_lo = 0;
const volatile __u32 g_span = 0;
const volatile __u32 newg_reg = GO_NEWG_RBX;

/*
 * The last goroutine created in each g struct, by the g's address: a growing map
 * (growmap.h), user space lets it grow to --max-goroutines.
 */
struct go_goroutines_shard {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Sizes, not types: BTF would only carry a declaration of the value here. */
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct go_goroutine));
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, GROWMAP_SHARDS);
	__array(values, struct go_goroutines_shard);
} go_goroutines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct go_site_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} go_sites SEC(".maps");

__u64 go_counters[GO_CNT__MAX] = {};

SEC("uprobe")
int go_newproc(struct pt_regs *ctx)
{
	struct go_goroutine gr = {}, *old;
	struct go_site_key site = {};
	__u64 g, rax, rbx;
	void *shard;

	if (!is_target())
		return 0;
	/* Read both: a ctx access at a computed offset does not pass the verifier. */
	rax = PT_REGS_RC(ctx);
	rbx = ctx->bx;
	g = newg_reg == GO_NEWG_RAX ? rax : rbx;
	if (g_span) {
		/* Into the stack window, which the walk below then reloads at rsp. */
		struct ls_window *win = stack_window_get();

		if (!win ||
		    bpf_probe_read_user(win->w, g_span & (LS_WIN_BYTES - 8), (void *)(g + g_span_lo))) {
			__sync_fetch_and_add(&go_counters[GO_CNT_READ_FAIL], 1);
		} else {
			gr.goid = win->w[ls_win_index(g_goid_off - g_span_lo)];
			site.startpc = win->w[ls_win_index(g_startpc_off - g_span_lo)];
			site.gopc = win->w[ls_win_index(g_gopc_off - g_span_lo)];
		}
	} else if (bpf_probe_read_user(&gr.goid, sizeof(gr.goid), (void *)(g + g_goid_off)) ||
		   bpf_probe_read_user(&site.startpc, sizeof(site.startpc),
				       (void *)(g + g_startpc_off)) ||
		   bpf_probe_read_user(&site.gopc, sizeof(site.gopc), (void *)(g + g_gopc_off))) {
		__sync_fetch_and_add(&go_counters[GO_CNT_READ_FAIL], 1);
	}
	gr.created_ns = bpf_ktime_get_ns();
	/* Frame pointers cross from g0 into the goroutine that ran the go statement. */
	gr.stack = stack_take(ctx, false, &go_counters[GO_CNT_STACK_FULL]);
	__sync_fetch_and_add(&go_counters[GO_CNT_CREATED], 1);

	/*
	 * g structs are reused: overwrite the record in place rather than replace it
	 * (a replacing update allocates and RCU-frees an element on every call). The
	 * goid goes last, and user space only trusts a record whose goid matches.
	 */
	old = growmap_lookup(&go_goroutines, &g, &shard);
	if (old) {
		old->goid = 0;
		old->stack = gr.stack;
		old->created_ns = gr.created_ns;
		asm volatile("" ::: "memory"); /* x86 keeps stores in order; keep the compiler from reordering them */
		old->goid = gr.goid;
	} else if (growmap_insert(&go_goroutines, &g, &gr, &go_counters[GO_CNT_TRACKED])) {
		__sync_fetch_and_add(&go_counters[GO_CNT_GMAP_FULL], 1);
	}

	site.stack = gr.stack;
	if (!count_key(&go_sites, &site, 1))
		__sync_fetch_and_add(&go_counters[GO_CNT_SITE_FULL], 1);
	return 0;
}
