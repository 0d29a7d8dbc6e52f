// SPDX-License-Identifier: GPL-2.0
/*
 * Outstanding malloc-family allocations by allocation stack.
 *
 * Allocating functions get an entry probe and a return probe at their first
 * instruction (one trap on the way in, one on the way out); free and munmap get
 * only an entry probe, placed by user space on the first instruction the kernel
 * emulates (free: the `je` after `test rdi,rdi`). The entry takes the stack and
 * the arguments; the return records the block under the address it returned,
 * only if the call succeeded. free deletes the record. Per-stack counters hold
 * what was allocated; what is still outstanding is the allocs map itself, which
 * user space reads in batches each interval.
 *
 * The uprobes are attached with the target's PID, so the kernel installs them in
 * its address space only and filters out anyone else: no is_target() here, only
 * the check that it still runs the program traced (after an exec the same
 * libraries, probes and all, serve another program).
 */
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "growmap.bpf.h"
#include "native_heap.h"

/*
 * An allocator call made while one of the same thread is in progress, deeper on
 * the same stack, is the allocator's own doing (glibc: malloc -> mmap,
 * realloc(NULL, n) -> malloc, memalign -> malloc, reallocarray -> realloc by tail
 * call): the outer call accounts for the block. "Deeper" is bounded so that a
 * record left behind by a return we never saw cannot swallow later calls forever.
 */
#define NEST_SPAN (64 << 10)
#define NEST_MAX_NS 1000000000ull

/* The outer allocator call a thread is in, from its entry probe to its return. */
struct pending {
	__u64 sp;	/* rsp at entry; the return sees it + 8 */
	__u64 size;	/* bytes asked for; ~0 when the request overflows */
	__u64 arg;	/* realloc: the old block; posix_memalign: where the result goes */
	__u64 stack;
	__u64 start_ns;
	__u32 kind;
	__u32 active;
};

/*
 * Per thread, and gone with the thread. Keyed by thread alone is enough because
 * only the outermost call is recorded; nesting is recognised by the stack
 * pointer, not by overwriting.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} nat_pending SEC(".maps");

/*
 * The outstanding blocks, by address: a growing map (growmap.h) of up to 4M
 * entries whose memory follows what is outstanding.
 */
struct nat_allocs_shard {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Sizes, not types: BTF would only carry a declaration of the value here. */
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct nat_alloc));
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, GROWMAP_SHARDS);
	__array(values, struct nat_allocs_shard);
} nat_allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct nat_site);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct nat_fixup);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nat_fixups SEC(".maps");

__u64 nat_counters[NAT_CNT__MAX] = {};

/*
 * The stack at an allocator's probe (its first instructions, before rsp moves):
 * the allocator, its caller (the return address at [rsp]), then frame pointers,
 * from the window of stack memory copied at rsp (stacks.bpf.h): callers' frames
 * are usually within a few hundred bytes of it.
 */
static __always_inline __u64 nat_stack_take(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct ls_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct ls_window *win = stack_window_get();
	__u64 sp = PT_REGS_SP(ctx), bp = PT_REGS_FP(ctx), ret, loc = sp;
	long n = 1;

	if (!st || !win)
		return 0;
	st->pcs[0] = PT_REGS_IP(ctx);
	if (ls_win_load(win, sp) || win->len < 8 || !win->w[0])
		goto done;
	ret = win->w[0];
	st->pcs[n++] = ret;
	/*
	 * The caller keeps no frame pointer (operator new, strdup, ...): user space
	 * found its frame's layout at this return address in .eh_frame. Step over it,
	 * and over the next one if that is another such function.
	 */
	for (int j = 0; j < 3; j++) {
		const struct nat_fixup *f = bpf_map_lookup_elem(&nat_fixups, &ret);
		__u64 cfa;

		if (!f)
			break;
		cfa = loc + 8 + (__s64)f->cfa_off;
		if (f->rbp_off && ls_win_word(win, cfa + (__s64)f->rbp_off, &bp))
			break;
		loc = cfa - 8;
		if (ls_win_word(win, loc, &ret) || !ret)
			break;
		st->pcs[n++] = ret;
	}
	st->depth = n;
	/* One stack: each frame record lies above the last (and above what was stepped over). */
	n = stack_walk_from(st, win, bp, loc, true);
done:
	return stack_store(st, n, &nat_counters[NAT_CNT_STACK_FULL]);
}

static __always_inline void count(int c)
{
	__sync_fetch_and_add(&nat_counters[c], 1);
}

/* n * size as malloc would compute it; ~0 (a request that must fail) on overflow. */
static __always_inline __u64 mul_size(__u64 n, __u64 size)
{
	__u64 max;

	if (!n)
		return 0;
	max = ~0ull / n;
	/* Keeps clang from turning the test into a 128-bit multiply BPF lacks. */
	asm volatile("" : "+r"(max));
	return size > max ? ~0ull : n * size;
}

SEC("uprobe")
int nat_entry(struct pt_regs *ctx)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx), now = bpf_ktime_get_ns(), size, arg = 0;
	struct pending *p;

	if (!runs_target_exe())
		return 0;
	switch (kind) {
	case NAT_MALLOC:
	case NAT_VALLOC:
	case NAT_PVALLOC:
		size = PT_REGS_PARM1(ctx);
		break;
	case NAT_CALLOC:
		size = mul_size(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx));
		break;
	case NAT_REALLOC:
		arg = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM2(ctx);
		break;
	case NAT_REALLOCARRAY:
		arg = PT_REGS_PARM1(ctx);
		size = mul_size(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx));
		break;
	case NAT_POSIX_MEMALIGN:
		arg = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM3(ctx);
		break;
	case NAT_MEMALIGN:
		size = PT_REGS_PARM2(ctx);
		break;
	case NAT_MMAP:
		/* File mappings are not heap; their pages belong to the file. Reservations
		 * (PROT_NONE: malloc's arenas, thread stacks' guards) are not memory yet. */
		if (!(PT_REGS_PARM4(ctx) & MAP_ANONYMOUS) || PT_REGS_PARM3(ctx) == PROT_NONE)
			return 0;
		size = PT_REGS_PARM2(ctx);
		break;
	default:
		return 0;
	}

	p = bpf_task_storage_get(&nat_pending, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return 0;
	/* >=: a tail call (reallocarray -> realloc) enters at the same rsp. */
	if (p->active && p->sp >= sp && p->sp - sp < NEST_SPAN && now - p->start_ns < NEST_MAX_NS) {
		count(NAT_CNT_NESTED);
		return 0;
	}
	p->sp = sp;
	p->size = size;
	p->arg = arg;
	p->kind = kind;
	p->start_ns = now;
	p->stack = nat_stack_take(ctx);
	p->active = 1;
	return 0;
}

static __always_inline void record(__u64 addr, __u64 size, __u64 stack, __u64 born_ns)
{
	struct nat_alloc a = {.size = size, .stack = stack, .born_ns = born_ns};
	struct nat_site *s, one = {.allocs = 1, .bytes = size};
	void *shard;

	/* An address handed out again replaces a record whose free we did not see. */
	if (growmap_lookup(&nat_allocs, &addr, &shard)) {
		if (bpf_map_update_elem(shard, &addr, &a, BPF_EXIST)) {
			count(NAT_CNT_ALLOCS_FULL);
			return;
		}
	} else if (growmap_insert(&nat_allocs, &addr, &a, &nat_counters[NAT_CNT_TRACKED])) {
		count(NAT_CNT_ALLOCS_FULL);
		return;
	}
	s = bpf_map_lookup_elem(&nat_sites, &stack);
	if (!s && bpf_map_update_elem(&nat_sites, &stack, &one, BPF_NOEXIST) == 0)
		return;
	/* Present, or another CPU inserted it first. */
	if (!s)
		s = bpf_map_lookup_elem(&nat_sites, &stack);
	if (!s) {
		count(NAT_CNT_SITES_FULL);
		return;
	}
	__sync_fetch_and_add(&s->allocs, 1);
	__sync_fetch_and_add(&s->bytes, size);
}

SEC("uretprobe")
int nat_return(struct pt_regs *ctx)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	__u64 ret = PT_REGS_RC(ctx), addr = ret;
	struct pending *p;

	p = bpf_task_storage_get(&nat_pending, bpf_get_current_task_btf(), 0, 0);
	if (!p || !p->active) {
		count(NAT_CNT_NO_ENTRY);
		return 0;
	}
	/* The return of a nested call, or of a call whose entry was skipped. */
	if (p->kind != kind || p->sp + 8 != PT_REGS_SP(ctx))
		return 0;
	p->active = 0;

	switch (kind) {
	case NAT_POSIX_MEMALIGN:
		/* Returns an error number; the block is stored through the first argument. */
		if ((int)ret != 0 || bpf_probe_read_user(&addr, sizeof(addr), (void *)p->arg))
			addr = 0;
		break;
	case NAT_MMAP:
		if (ret == ~0ull) /* MAP_FAILED */
			addr = 0;
		break;
	case NAT_REALLOC:
	case NAT_REALLOCARRAY:
		/*
		 * Success moves (or keeps) the block: the old record goes, the new one
		 * belongs to this stack. Failure (NULL for a non-zero size) leaves the old
		 * block allocated. NULL for size 0 means the old block was freed (glibc).
		 */
		if (p->arg && (ret || p->size == 0))
			growmap_delete(&nat_allocs, &p->arg, &nat_counters[NAT_CNT_TRACKED]);
		break;
	}
	if (!addr) {
		if (!(kind == NAT_REALLOC || kind == NAT_REALLOCARRAY) || p->size)
			count(NAT_CNT_FAILED);
		return 0;
	}
	/* Born when asked for: saves a clock read, and nobody sees it before the return. */
	record(addr, p->size, p->stack, p->start_ns);
	return 0;
}

/* free(ptr) and munmap(addr, len): entry only, wherever user space placed it. */
SEC("uprobe")
int nat_free(struct pt_regs *ctx)
{
	__u64 addr = PT_REGS_PARM1(ctx);

	if (!addr || !runs_target_exe())
		return 0;
	if (bpf_get_attach_cookie(ctx) == NAT_MUNMAP) {
		__u64 len = (PT_REGS_PARM2(ctx) + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1);
		struct nat_alloc *a, rest;
		void *shard;

		a = growmap_lookup(&nat_allocs, &addr, &shard);
		if (!a)
			return 0;
		/* Unmapping the head of a mapping leaves its tail outstanding. */
		if (len && len < a->size) {
			__u64 tail = addr + len;

			rest = *a;
			rest.size -= len;
			growmap_delete(&nat_allocs, &addr, &nat_counters[NAT_CNT_TRACKED]);
			if (growmap_insert(&nat_allocs, &tail, &rest, &nat_counters[NAT_CNT_TRACKED]))
				count(NAT_CNT_ALLOCS_FULL);
			return 0;
		}
	}
	growmap_delete(&nat_allocs, &addr, &nat_counters[NAT_CNT_TRACKED]);
	return 0;
}
