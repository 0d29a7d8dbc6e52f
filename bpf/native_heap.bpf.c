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
 * --mode sampled (nat_sample_bytes set) attaches each allocating function once,
 * as a uprobe session (entry and return in one program; Linux 6.13): the entry
 * draws whether this call is sampled (probability size / R, always from R bytes
 * up) and asks for the return only when it is, or when a realloc moves a block we
 * track. Unsampled calls cost the one entry trap and nothing on the way out. The
 * records carry the size; user space weighs each by 1/p (native_heap.h).
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
	__u64 ret;	/* --mode sampled: the return address at entry ([sp]) */
	__u32 kind;
	__u8 active;
	__u8 armed;	/* the return will run (and clear active) */
	__u16 sampled;	/* --mode sampled: this call's block is recorded */
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

/* --mode sampled: the sampling parameter R in bytes (native_heap.h); 0 in exact mode. */
const volatile __u64 nat_sample_bytes = 0;

extern bool bpf_session_is_return(void) __ksym __weak;

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

/*
 * The size asked for and the argument the return needs (realloc's old block,
 * posix_memalign's result pointer), by the function probed. False: not a call to
 * record (mmap of a file or of reserved address space).
 */
static __always_inline bool entry_args(struct pt_regs *ctx, __u32 kind, __u64 *size, __u64 *arg)
{
	*arg = 0;
	switch (kind) {
	case NAT_MALLOC:
	case NAT_VALLOC:
	case NAT_PVALLOC:
		*size = PT_REGS_PARM1(ctx);
		return true;
	case NAT_CALLOC:
		*size = mul_size(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx));
		return true;
	case NAT_REALLOC:
		*arg = PT_REGS_PARM1(ctx);
		*size = PT_REGS_PARM2(ctx);
		return true;
	case NAT_REALLOCARRAY:
		*arg = PT_REGS_PARM1(ctx);
		*size = mul_size(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx));
		return true;
	case NAT_POSIX_MEMALIGN:
		*arg = PT_REGS_PARM1(ctx);
		*size = PT_REGS_PARM3(ctx);
		return true;
	case NAT_MEMALIGN:
		*size = PT_REGS_PARM2(ctx);
		return true;
	case NAT_MMAP:
		/* File mappings are not heap; their pages belong to the file. Reservations
		 * (PROT_NONE: malloc's arenas, thread stacks' guards) are not memory yet. */
		if (!(PT_REGS_PARM4(ctx) & MAP_ANONYMOUS) || PT_REGS_PARM3(ctx) == PROT_NONE)
			return false;
		*size = PT_REGS_PARM2(ctx);
		return true;
	default:
		return false;
	}
}

SEC("uprobe")
int nat_entry(struct pt_regs *ctx)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx), now = bpf_ktime_get_ns(), size, arg;
	struct pending *p;

	if (!runs_target_exe() || !entry_args(ctx, kind, &size, &arg))
		return 0;
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
	p->sampled = 1;
	p->armed = 1;
	p->active = 1;
	return 0;
}

static __always_inline void record(__u64 addr, __u64 size, __u64 stack, __u64 born_ns)
{
	struct nat_alloc a = {.size = size, .stack = stack, .born_ns = born_ns};
	/* Exact: one block of size; sampled: what it stands for (native_heap.h). */
	__u64 objs = nat_sample_bytes ? nat_weight_objs_fp(size, nat_sample_bytes) : 1;
	__u64 est = nat_sample_bytes ? nat_weight_bytes(size, nat_sample_bytes) : size;
	struct nat_site *s, one = {.allocs = objs, .bytes = est};
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
	__sync_fetch_and_add(&s->allocs, objs);
	__sync_fetch_and_add(&s->bytes, est);
}

/* The call p describes returned ret: record the block (if p's is sampled). */
static __always_inline void finish(__u32 kind, __u64 ret, struct pending *p)
{
	__u64 addr = ret;

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
		return;
	}
	/* Born when asked for: saves a clock read, and nobody sees it before the return. */
	if (p->sampled)
		record(addr, p->size, p->stack, p->start_ns);
}

SEC("uretprobe")
int nat_return(struct pt_regs *ctx)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	struct pending *p;

	p = bpf_task_storage_get(&nat_pending, bpf_get_current_task_btf(), 0, 0);
	if (!p || !p->active) {
		count(NAT_CNT_NO_ENTRY);
		return 0;
	}
	/* The return of a nested call, or of a call whose entry was skipped. */
	if (p->kind != kind || p->sp + 8 != PT_REGS_SP(ctx))
		return 0;
	finish(kind, PT_REGS_RC(ctx), p);
	return 0;
}

/*
 * --mode sampled: one program for the entry and the return (a uprobe session,
 * Linux 6.13+), so that a call not sampled costs its entry trap and nothing at
 * its return: the entry returns 1 and the kernel does not hijack the return
 * address. A call is sampled with probability size / R (always from R bytes up;
 * native_heap.h has the weights and the error bound).
 *
 * Calls not sampled leave their record in nat_pending without a return to clear
 * it, so nesting is told by more than rsp: the outer call is still running only
 * if its return address is still where it was pushed ([p->sp]); once it returned,
 * the next call its caller makes overwrites that slot. A call whose return will
 * run (armed) is in progress while active: there the kernel has put its
 * trampoline's address in that slot.
 */
static __always_inline bool sampled_nested(struct pending *p, __u64 sp, __u64 ret, __u32 kind,
					   __u64 now)
{
	__u64 w;

	if (!p->active || now - p->start_ns >= NEST_MAX_NS)
		return false;
	/* The same rsp: a sibling call, or reallocarray's tail call to realloc. */
	if (sp == p->sp)
		return (p->armed || ret == p->ret) && p->kind == NAT_REALLOCARRAY &&
		       kind == NAT_REALLOC;
	if (sp > p->sp || p->sp - sp >= NEST_SPAN)
		return false;
	if (p->armed)
		return true;
	return !bpf_probe_read_user(&w, sizeof(w), (void *)p->sp) && w == p->ret;
}

static __always_inline bool sample_this(__u64 size)
{
	__u64 r = nat_sample_bytes;

	if (size >= r)
		return true;
	/* malloc(0) still makes a block: drawn as if 1 byte. size < r <= 2^30 here. */
	return bpf_get_prandom_u32() < ((size ? size : 1) << 32) / r;
}

SEC("uprobe")
int nat_sampled(struct pt_regs *ctx)
{
	__u32 kind = bpf_get_attach_cookie(ctx);
	__u64 sp = PT_REGS_SP(ctx), now, size, arg, ret = 0;
	struct pending *p;
	bool need_ret;
	void *shard;

	if (bpf_session_is_return()) {
		p = bpf_task_storage_get(&nat_pending, bpf_get_current_task_btf(), 0, 0);
		if (!p || !p->active) {
			count(NAT_CNT_NO_ENTRY);
			return 0;
		}
		if (p->kind == kind && p->sp + 8 == sp)
			finish(kind, PT_REGS_RC(ctx), p);
		return 0;
	}
	if (!runs_target_exe() || !entry_args(ctx, kind, &size, &arg))
		return 1;
	p = bpf_task_storage_get(&nat_pending, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p)
		return 1;
	now = bpf_ktime_get_ns();
	bpf_probe_read_user(&ret, sizeof(ret), (void *)sp);
	if (sampled_nested(p, sp, ret, kind, now)) {
		count(NAT_CNT_NESTED);
		return 1;
	}
	p->sampled = sample_this(size);
	/* realloc of a recorded block: the return must drop the old record. */
	need_ret = p->sampled || ((kind == NAT_REALLOC || kind == NAT_REALLOCARRAY) && arg &&
				  growmap_lookup(&nat_allocs, &arg, &shard));
	p->sp = sp;
	p->ret = ret;
	p->size = size;
	p->arg = arg;
	p->kind = kind;
	p->start_ns = now;
	p->stack = p->sampled ? nat_stack_take(ctx) : 0;
	p->armed = need_ret;
	p->active = 1;
	return need_ret ? 0 : 1;
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
