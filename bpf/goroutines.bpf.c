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
#include "goroutines.h"

const volatile __u32 g_goid_off = 0;
const volatile __u32 g_startpc_off = 0;
const volatile __u32 newg_reg = GO_NEWG_RBX;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct go_goroutine);
	__uint(max_entries, 262144);
} goroutines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct go_site_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
} sites SEC(".maps");

__u64 counters[GO_CNT__MAX] = {};

SEC("uprobe")
int go_newproc(struct pt_regs *ctx)
{
	struct go_goroutine gr = {}, *old;
	struct go_site_key site = {};
	__u64 g, rax, rbx;

	if (!is_target())
		return 0;
	/* Read both: a ctx access at a computed offset does not pass the verifier. */
	rax = PT_REGS_RC(ctx);
	rbx = ctx->bx;
	g = newg_reg == GO_NEWG_RAX ? rax : rbx;
	if (bpf_probe_read_user(&gr.goid, sizeof(gr.goid), (void *)(g + g_goid_off)) ||
	    bpf_probe_read_user(&site.startpc, sizeof(site.startpc), (void *)(g + g_startpc_off)))
		__sync_fetch_and_add(&counters[GO_CNT_READ_FAIL], 1);
	gr.created_ns = bpf_ktime_get_ns();
	/* Frame pointers cross from g0 into the goroutine that ran the go statement. */
	gr.stack = stack_take(ctx, false);
	__sync_fetch_and_add(&counters[GO_CNT_CREATED], 1);

	/*
	 * g structs are reused: overwrite the record in place rather than replace it
	 * (a replacing update allocates and RCU-frees an element on every call). The
	 * goid goes last, and user space only trusts a record whose goid matches.
	 */
	old = bpf_map_lookup_elem(&goroutines, &g);
	if (old) {
		old->goid = 0;
		old->stack = gr.stack;
		old->created_ns = gr.created_ns;
		asm volatile("" ::: "memory"); /* x86 keeps stores in order; keep the compiler from reordering them */
		old->goid = gr.goid;
	} else if (bpf_map_update_elem(&goroutines, &g, &gr, BPF_NOEXIST)) {
		__sync_fetch_and_add(&counters[GO_CNT_GMAP_FULL], 1);
	}

	site.stack = gr.stack;
	if (!count_key(&sites, &site, 1))
		__sync_fetch_and_add(&counters[GO_CNT_SITE_FULL], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
