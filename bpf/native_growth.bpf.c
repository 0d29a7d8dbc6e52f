// SPDX-License-Identifier: GPL-2.0
/*
 * Growth mode: memory growth attributed to stacks from rare events only, so the
 * target pays nothing per malloc. The events, all in the kernel, none a uprobe:
 *
 *   - the first write to an anonymous page (page_fault_user: a write fault in a
 *     mapping without a file): 4 KiB of resident memory, to the writing stack;
 *   - a new anonymous, accessible mmap while attached: its length, to the mapping
 *     stack; munmap and mremap give back or add to the same stack, and first
 *     writes inside it are not counted again;
 *   - brk moving the heap's end down (trim): counted, not attributed (the growth
 *     it undoes was counted page by page as first writes).
 *
 * Most of these happen inside the allocator (malloc writing the header of a fresh
 * chunk, sbrk, its own mmap), in code built without frame pointers, so stacks are
 * unwound with tables user space builds from .eh_frame (user/cfi.c), falling back
 * to frame pointers where there is none.
 */
#include "common.bpf.h"
#include "stacks.bpf.h"
#include "native_growth.h"

#define X86_PF_WRITE (1 << 1)
#define X86_PF_INSTR (1 << 4)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cfi_row);
	__uint(max_entries, 1);
} growth_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cfi_module);
	__uint(max_entries, GROWTH_MAX_MODULES);
} growth_modules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct growth_site);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} growth_sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct growth_region);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} growth_regions SEC(".maps");

/* The heap's end before a brk call, between its entry and its exit. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} growth_brk_before SEC(".maps");

/* Set by user space: entries of modules in use (it rewrites them when the maps change). */
__u32 growth_nmodules = 0;
__u64 growth_counters[GROWTH_CNT__MAX] = {};

struct unwind {
	__u64 ip, sp, bp;
};

struct module_find {
	__u64 ip;
	__u32 lo, hi; /* rows of the module found */
	__u64 bias;
	bool found;
};

/* bpf_loop() callbacks, verified once rather than per iteration. */
static long module_step(__u32 i, void *arg)
{
	struct module_find *f = arg;
	const struct cfi_module *m;

	if (i >= growth_nmodules)
		return 1;
	m = bpf_map_lookup_elem(&growth_modules, &i);
	if (!m || f->ip < m->start || f->ip >= m->end)
		return 0;
	f->lo = m->lo;
	f->hi = m->hi;
	f->bias = m->bias;
	f->found = true;
	return 1;
}

struct row_find {
	__u64 pc;
	__u32 lo, hi;
};

static long row_step(__u32 i, void *arg)
{
	struct row_find *f = arg;
	const struct cfi_row *r;
	__u32 mid;

	if (f->lo >= f->hi)
		return 1;
	mid = f->lo + (f->hi - f->lo) / 2;
	r = bpf_map_lookup_elem(&growth_rows, &mid);
	if (!r)
		return 1;
	if (r->pc <= f->pc)
		f->lo = mid + 1;
	else
		f->hi = mid;
	return 0;
}

/* The row in effect at link-time pc among rows[lo, hi) (a binary search), or NULL. */
static const struct cfi_row *row_at(__u32 lo, __u32 hi, __u64 pc)
{
	struct row_find f = {.pc = pc, .lo = lo, .hi = hi};
	__u32 k;

	if (pc >= (1ull << 32))
		return NULL;
	bpf_loop(32, row_step, &f, 0);
	if (f.lo <= lo)
		return NULL;
	k = f.lo - 1;
	return bpf_map_lookup_elem(&growth_rows, &k);
}

/* One frame up, as a bpf_loop() callback: by the unwind table, else by frame pointer. */
static long unwind_step(__u32 i, void *arg)
{
	struct unwind *u = arg;
	__u32 zero = 0;
	struct ls_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct module_find mf = {.ip = u->ip};
	const struct cfi_row *r = NULL;
	__u64 cfa, ret, fr[2], n;

	/* The depth is kept in the map value: the verifier then does not follow it as
	 * a constant through every iteration (see fp_step()). */
	if (!st)
		return 1;
	n = st->depth;
	if (n < 1 || n >= LS_MAX_STACK_DEPTH)
		return 1;
	bpf_loop(GROWTH_MAX_MODULES, module_step, &mf, 0);
	/* Frame 0 is the instruction itself; the others return addresses, in their call. */
	if (mf.found)
		r = row_at(mf.lo, mf.hi, u->ip - (n == 1 ? 0 : 1) - mf.bias);
	if (r && r->cfa == CFI_STOP)
		return 1;
	if (r && (r->cfa == CFI_RSP || r->cfa == CFI_RBP)) {
		cfa = (r->cfa == CFI_RSP ? u->sp : u->bp) + (__s64)r->cfa_off;
		if (bpf_probe_read_user(&ret, sizeof(ret), (void *)(cfa - 8)))
			return 1;
		if (r->rbp_saved &&
		    bpf_probe_read_user(&u->bp, sizeof(u->bp), (void *)(cfa + (__s64)r->rbp_off)))
			return 1;
		u->sp = cfa;
	} else {
		/* No table here: frame pointers, if this is one (see nat_stack_take()). */
		if (u->bp <= u->sp || (u->bp & 7) || bpf_probe_read_user(fr, sizeof(fr), (void *)u->bp))
			return 1;
		ret = fr[1];
		u->sp = u->bp + 16;
		u->bp = fr[0];
	}
	if (ret < PAGE_SIZE)
		return 1;
	st->pcs[n] = ret;
	st->depth = n + 1;
	u->ip = ret;
	return 0;
}

/* The user stack at regs (the user's registers at the fault or syscall), stored once. */
static __always_inline __u64 growth_stack(struct pt_regs *regs)
{
	__u32 zero = 0;
	struct ls_stack *st = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct unwind u = {};

	if (!st)
		return 0;
	u.ip = BPF_CORE_READ(regs, ip);
	u.sp = BPF_CORE_READ(regs, sp);
	u.bp = BPF_CORE_READ(regs, bp);
	st->depth = 1;
	st->pcs[0] = u.ip;
	bpf_loop(LS_MAX_STACK_DEPTH - 1, unwind_step, &u, 0);
	return stack_store(st, st->depth, &growth_counters[GROWTH_CNT_STACK_FULL]);
}

static __always_inline void grow(__u64 stack, __u64 bytes)
{
	struct growth_site *s, one = {.events = 1, .bytes = bytes};

	s = bpf_map_lookup_elem(&growth_sites, &stack);
	if (!s && !bpf_map_update_elem(&growth_sites, &stack, &one, BPF_NOEXIST))
		return;
	if (!s)
		s = bpf_map_lookup_elem(&growth_sites, &stack);
	if (!s) {
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_SITES_FULL], 1);
		return;
	}
	__sync_fetch_and_add(&s->events, 1);
	__sync_fetch_and_add(&s->bytes, bytes);
}

struct vma_info {
	__u64 start;
	bool anon;
};

static long anon_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;

	v->anon = !vma->vm_file;
	v->start = vma->vm_start;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(growth_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct vma_info v = {};

	if (!(error_code & X86_PF_WRITE) || (error_code & X86_PF_INSTR) || !is_target())
		return 0;
	/* Written pages of files are the file's (page cache), not the program's growth. */
	bpf_find_vma(bpf_get_current_task_btf(), address, anon_vma, &v, 0);
	if (!v.anon)
		return 0;
	/* A mapping made while attached was counted whole when it was made. */
	if (bpf_map_lookup_elem(&growth_regions, &v.start))
		return 0;
	__sync_fetch_and_add(&growth_counters[GROWTH_CNT_FAULTS], 1);
	grow(growth_stack(regs), PAGE_SIZE);
	return 0;
}

/*
 * Syscalls through the raw syscall tracepoints: this kernel has no fentry (no
 * ftrace), and these need no trap in the target. They run for every syscall of
 * every process, so is_target() comes first and the rest is a switch on the number.
 */
#define NR_MMAP 9
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MREMAP 25

SEC("tp_btf/sys_enter")
int BPF_PROG(growth_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	__u64 *before;

	if (id != NR_BRK || !is_target())
		return 0;
	task = bpf_get_current_task_btf();
	before = bpf_task_storage_get(&growth_brk_before, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (before)
		*before = BPF_CORE_READ(task, mm, brk);
	return 0;
}

static __always_inline void brk_exit(long ret)
{
	__u64 *before, now = ret;

	before = bpf_task_storage_get(&growth_brk_before, bpf_get_current_task_btf(), 0, 0);
	if (!before || !*before)
		return;
	if (now < *before)
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_BRK_SHRUNK], *before - now);
	*before = 0;
}

static __always_inline void mmap_exit(struct pt_regs *regs, long ret)
{
	struct growth_region r;
	__u64 addr = ret;

	/* Anonymous and accessible: reservations (PROT_NONE) are not memory yet. */
	if (ret < 0 || !(BPF_CORE_READ(regs, r10) & MAP_ANONYMOUS) ||
	    BPF_CORE_READ(regs, dx) == PROT_NONE)
		return;
	r.len = (BPF_CORE_READ(regs, si) + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1);
	r.stack = growth_stack(regs);
	grow(r.stack, r.len);
	if (bpf_map_update_elem(&growth_regions, &addr, &r, BPF_ANY))
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_REGIONS_FULL], 1);
}

static __always_inline void munmap_exit(struct pt_regs *regs, long ret)
{
	__u64 addr, len, gone;
	struct growth_region *r, rest;
	struct growth_site *s;

	if (ret != 0)
		return;
	addr = BPF_CORE_READ(regs, di);
	len = (BPF_CORE_READ(regs, si) + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1);
	r = bpf_map_lookup_elem(&growth_regions, &addr);
	if (!r)
		return;
	gone = len < r->len ? len : r->len;
	s = bpf_map_lookup_elem(&growth_sites, &r->stack);
	if (s) {
		__sync_fetch_and_add(&s->releases, 1);
		__sync_fetch_and_add(&s->released, gone);
	}
	/* Unmapping the head of a mapping leaves its tail. */
	if (gone < r->len) {
		__u64 tail = addr + gone;

		rest.len = r->len - gone;
		rest.stack = r->stack;
		bpf_map_update_elem(&growth_regions, &tail, &rest, BPF_ANY);
	}
	bpf_map_delete_elem(&growth_regions, &addr);
}

/* realloc of a block malloc mmapped: the mapping moves or changes size. */
static __always_inline void mremap_exit(struct pt_regs *regs, long ret)
{
	__u64 old = BPF_CORE_READ(regs, di), addr = ret;
	__u64 len = (BPF_CORE_READ(regs, dx) + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1);
	struct growth_region *r, moved;
	struct growth_site *s;

	if (ret < 0)
		return;
	r = bpf_map_lookup_elem(&growth_regions, &old);
	if (!r)
		return;
	moved = *r;
	s = bpf_map_lookup_elem(&growth_sites, &moved.stack);
	if (s && len > moved.len)
		__sync_fetch_and_add(&s->bytes, len - moved.len);
	else if (s && len < moved.len)
		__sync_fetch_and_add(&s->released, moved.len - len);
	moved.len = len;
	if (addr != old)
		bpf_map_delete_elem(&growth_regions, &old);
	bpf_map_update_elem(&growth_regions, &addr, &moved, BPF_ANY);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(growth_sys_exit, struct pt_regs *regs, long ret)
{
	long id;

	if (!is_target())
		return 0;
	/* The user's registers, arguments included, are as they were at entry. */
	id = BPF_CORE_READ(regs, orig_ax);
	if (id == NR_BRK)
		brk_exit(ret);
	else if (id == NR_MMAP)
		mmap_exit(regs, ret);
	else if (id == NR_MUNMAP)
		munmap_exit(regs, ret);
	else if (id == NR_MREMAP)
		mremap_exit(regs, ret);
	return 0;
}
