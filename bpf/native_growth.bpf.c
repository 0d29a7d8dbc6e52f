// SPDX-License-Identifier: GPL-2.0
/*
 * Growth mode: memory growth attributed to stacks from rare events only, so the
 * target pays nothing per malloc:
 *
 *   - the first write to an anonymous page (page_fault_user: a write fault in a
 *     mapping without a file): 4 KiB of resident memory, charged to the writing
 *     stack, and remembered per page (the chunks map);
 *   - memory given back: munmap, madvise(MADV_DONTNEED, MADV_REMOVE),
 *     brk moving the heap's end down, mremap shrinking or moving: each charged page
 *     in the range is given back to the stack it is charged to, and a later write
 *     to it counts again. A page given back before it was charged (memory the
 *     process held at attach) is remembered as held: writing it again is not growth.
 *     A page written again without being given back is not counted twice.
 *
 * Mapping calls are seen where they return, in libc's wrappers (uprobes on the
 * instruction after each `syscall`, placed by user space: only the target traps),
 * or, for programs that make them without libc (Go, static binaries), at the raw
 * sys_exit tracepoint (every system call on the machine runs it: it returns after
 * one load and a compare for any call but these five).
 *
 * Most faults happen inside the allocator (malloc writing the header of a fresh
 * chunk), in code built without frame pointers, so stacks are unwound with tables
 * user space builds from .eh_frame (user/cfi.c), falling back to frame pointers
 * where there is none.
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
	__type(value, struct growth_chunk);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} growth_chunks SEC(".maps");

/* A chunk of nothing known, to create entries from (never written). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct growth_chunk);
	__uint(max_entries, 1);
} growth_chunk_zero SEC(".maps");

/* Mark pages given back before they were charged as held (attached to a running
 * process: they may be what it held at attach). A program we start held nothing. */
const volatile bool growth_mark_held = true;

/* The heap's end as last seen (user space starts it from /proc/PID/maps). */
__u64 growth_brk_end = 0;

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
	bool anon;
};

static long anon_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;

	v->anon = !vma->vm_file;
	return 0;
}

/* The chunk holding key, created (nothing known) when missing; NULL when the map is full. */
static __always_inline struct growth_chunk *chunk_get(__u64 key)
{
	struct growth_chunk *c = bpf_map_lookup_elem(&growth_chunks, &key);
	__u32 zero = 0;
	void *z;

	if (c)
		return c;
	z = bpf_map_lookup_elem(&growth_chunk_zero, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(&growth_chunks, &key, z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&growth_chunks, &key);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(growth_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct vma_info v = {};
	struct growth_chunk *c;
	__u64 page = address >> 12, key = page >> 9, stack, was = 0;
	__u32 slot = page & (GROWTH_CHUNK_PAGES - 1);

	if (!(error_code & X86_PF_WRITE) || (error_code & X86_PF_INSTR) || !is_target())
		return 0;
	/* Written pages of files are the file's (page cache), not the program's growth. */
	bpf_find_vma(bpf_get_current_task_btf(), address, anon_vma, &v, 0);
	if (!v.anon)
		return 0;
	c = bpf_map_lookup_elem(&growth_chunks, &key);
	if (c)
		was = c->page[slot];
	if (was == GROWTH_PAGE_HELD)
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_HELD_AGAIN], 1);
	/* Charged already (written again, or refaulted after reclaim), or held at attach. */
	if (was)
		return 0;
	stack = growth_stack(regs);
	__sync_fetch_and_add(&growth_counters[GROWTH_CNT_FAULTS], 1);
	grow(stack, PAGE_SIZE);
	c = chunk_get(key);
	if (!c) {
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_PAGES_FULL], 1);
		return 0;
	}
	if (!c->page[slot]) {
		c->page[slot] = stack ? stack : GROWTH_PAGE_NOSTACK;
		__sync_fetch_and_add(&c->n, 1);
	}
	return 0;
}

/* What a walk over a range of pages does to each page known in it. */
enum range_op {
	RANGE_UNMAP,	 /* gone: charged pages given back, everything forgotten */
	RANGE_GIVE_BACK, /* released, still mapped: charged pages given back, the rest held */
	RANGE_MOVE,	 /* mremap: what each page stands for moves to page + delta */
};

struct range_walk {
	__u64 lo, hi; /* pages [lo, hi) */
	__u64 first;  /* first chunk */
	__u64 delta;  /* RANGE_MOVE, in pages (wrapping) */
	__u64 key;	    /* the chunk walked, and its pages [s0, s1) in the range */
	__u32 s0, s1;
	__u32 op;
};

/* One page given back to the stack it was charged to. */
static __always_inline void give_back(__u64 v)
{
	__u64 key = v == GROWTH_PAGE_NOSTACK ? 0 : v;
	struct growth_site *s = bpf_map_lookup_elem(&growth_sites, &key);

	if (s) {
		__sync_fetch_and_add(&s->releases, 1);
		__sync_fetch_and_add(&s->released, PAGE_SIZE);
	}
}

/* One page to page + delta (the destination keeps what it knows, if anything). */
static __always_inline void move_page(__u64 page, __u64 v)
{
	struct growth_chunk *d = chunk_get(page >> 9);
	__u32 slot = page & (GROWTH_CHUNK_PAGES - 1);

	if (!d) {
		__sync_fetch_and_add(&growth_counters[GROWTH_CNT_PAGES_FULL], 1);
		return;
	}
	if (!d->page[slot]) {
		d->page[slot] = v;
		__sync_fetch_and_add(&d->n, 1);
	}
}

/* What page s of chunk c (the walk's current chunk) stands for, after the walk. */
static __always_inline void walk_page(struct range_walk *w, struct growth_chunk *c, __u32 s)
{
	__u64 v = c->page[s];

	if (!v) {
		if (w->op == RANGE_GIVE_BACK && growth_mark_held) {
			c->page[s] = GROWTH_PAGE_HELD;
			__sync_fetch_and_add(&c->n, 1);
			__sync_fetch_and_add(&growth_counters[GROWTH_CNT_HELD_GONE], 1);
		}
		return;
	}
	if (v == GROWTH_PAGE_HELD) {
		if (w->op == RANGE_GIVE_BACK)
			return;
		if (w->op == RANGE_MOVE)
			move_page((w->key << 9) + s + w->delta, v);
	} else if (w->op == RANGE_MOVE) {
		move_page((w->key << 9) + s + w->delta, v);
	} else {
		give_back(v);
	}
	c->page[s] = 0;
	__sync_fetch_and_add(&c->n, (__u64)-1);
}

#define WALK_BATCH 16

/* Pages [16 i, 16 i + 16) of the current chunk, as a bpf_loop() callback (a loop over
 * 512 pages is more than the verifier follows; 16 unrolled are not). */
static long batch_step(__u32 i, void *arg)
{
	struct range_walk *w = arg;
	__u32 b = i * WALK_BATCH;
	struct growth_chunk *c;

	if (b >= w->s1)
		return 1;
	if (b + WALK_BATCH <= w->s0)
		return 0;
	c = bpf_map_lookup_elem(&growth_chunks, &w->key);
	if (!c)
		return 1;
#pragma unroll
	for (__u32 j = 0; j < WALK_BATCH; j++) {
		__u32 s = b + j;

		if (s >= w->s0 && s < w->s1)
			walk_page(w, c, s & (GROWTH_CHUNK_PAGES - 1));
	}
	return 0;
}

/* The pages of chunk key inside the walk's range. */
static __always_inline void walk_chunk(struct range_walk *w, __u64 key)
{
	__u64 base = key << 9;

	w->key = key;
	w->s0 = w->lo > base ? w->lo - base : 0;
	w->s1 = w->hi < base + GROWTH_CHUNK_PAGES ? w->hi - base : GROWTH_CHUNK_PAGES;
	bpf_loop(GROWTH_CHUNK_PAGES / WALK_BATCH, batch_step, w, 0);
}

static long chunk_step(__u32 i, void *arg)
{
	struct range_walk *w = arg;
	__u64 key = w->first + i;
	struct growth_chunk *c;

	if (key << 9 >= w->hi)
		return 1;
	c = bpf_map_lookup_elem(&growth_chunks, &key);
	/* Given back while nothing was known: memory held at attach, maybe. */
	if (!c && w->op == RANGE_GIVE_BACK && growth_mark_held)
		c = chunk_get(key);
	if (!c)
		return 0;
	walk_chunk(w, key);
	c = bpf_map_lookup_elem(&growth_chunks, &key);
	if (c && !c->n && w->op != RANGE_GIVE_BACK)
		bpf_map_delete_elem(&growth_chunks, &key);
	return 0;
}

/* For ranges of more chunks than walk_range() visits one by one: every chunk known. */
static long chunk_each(void *map, __u64 *key, struct growth_chunk *c, void *arg)
{
	struct range_walk *w = arg;

	if (*key >= w->first && *key << 9 < w->hi)
		walk_chunk(w, *key);
	return 0;
}

/* Chunks visited one by one (16 GiB); a larger range walks the chunks known instead. */
#define RANGE_CHUNKS_MAX 8192

static __always_inline void walk_range(__u32 op, __u64 addr, __u64 len, __u64 delta)
{
	struct range_walk w = {.op = op, .delta = delta};
	__u64 n;

	if (!len)
		return;
	w.lo = addr >> 12;
	w.hi = (addr + len + PAGE_SIZE - 1) >> 12;
	w.first = w.lo >> 9;
	n = ((w.hi - 1) >> 9) - w.first + 1;
	if (n <= RANGE_CHUNKS_MAX)
		bpf_loop(n, chunk_step, &w, 0);
	else
		bpf_for_each_map_elem(&growth_chunks, chunk_each, &w, 0);
}

#define MADV_DONTNEED 4
#define MADV_REMOVE 9
#define MADV_DONTNEED_LOCKED 24

/*
 * A mapping call that returned ret, with its first three arguments: what the
 * pages in its range stand for now. Seen after the call (the instruction after
 * the `syscall`), so only calls that succeeded count; between the call and here
 * another thread may write a page just given back, which is then not counted
 * (an undercount, never a false growth).
 */
static __always_inline void mapping_call(__u64 nr, __u64 a0, __u64 a1, __u64 a2, __u64 ret)
{
	__u64 end;

	if (ret >= (__u64)-4095 && nr != GROWTH_NR_BRK)
		return;
	__sync_fetch_and_add(&growth_counters[GROWTH_CNT_CALLS], 1);
	switch (nr) {
	case GROWTH_NR_MMAP:
		/* A new mapping: whatever was known of its pages is stale (MAP_FIXED
		 * replaced them, or their unmapping was not seen). */
		walk_range(RANGE_UNMAP, ret, a1, 0);
		break;
	case GROWTH_NR_MUNMAP:
		walk_range(RANGE_UNMAP, a0, a1, 0);
		break;
	case GROWTH_NR_MADVISE:
		/* MADV_FREE pages stay until the kernel needs them, and a write takes one
		 * back without a fault: they stay charged (a page reclaimed and written
		 * again is then not counted twice). */
		if (a2 == MADV_DONTNEED || a2 == MADV_REMOVE || a2 == MADV_DONTNEED_LOCKED)
			walk_range(RANGE_GIVE_BACK, a0, a1, 0);
		break;
	case GROWTH_NR_MREMAP:
		/* (old, old_len, new_len) -> where it is now. */
		if (!a1)
			break;
		if (ret != a0) {
			/* The pages move; beyond new_len they are gone. */
			walk_range(RANGE_MOVE, a0, a1 < a2 ? a1 : a2,
				   (ret >> 12) - (a0 >> 12));
		}
		if (a2 < a1)
			walk_range(RANGE_UNMAP, a0 + a2, a1 - a2, 0);
		break;
	case GROWTH_NR_BRK:
		/* The heap's end: pages above a lower end are gone. */
		end = growth_brk_end;
		if ((__s64)ret <= 0)
			break;
		if (end && ret < end)
			walk_range(RANGE_UNMAP, (ret + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1),
				   end - ((ret + PAGE_SIZE - 1) & ~(__u64)(PAGE_SIZE - 1)), 0);
		growth_brk_end = ret;
		break;
	}
}

/*
 * In libc's wrappers, at the instruction after `syscall` (the cookie says which):
 * the arguments are still in their registers and rax holds the result. Attached
 * with the target's PID: only it traps, no is_target() needed beyond the program
 * check (see native_heap.bpf.c).
 */
SEC("uprobe")
int BPF_KPROBE(growth_call)
{
	if (!runs_target_exe())
		return 0;
	mapping_call(bpf_get_attach_cookie(ctx), PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx),
		     PT_REGS_PARM3(ctx), PT_REGS_RC(ctx));
	return 0;
}

#define GROWTH_NR_MASK                                                                             \
	((1u << GROWTH_NR_MMAP) | (1u << GROWTH_NR_MUNMAP) | (1u << GROWTH_NR_BRK) |               \
	 (1u << GROWTH_NR_MREMAP) | (1u << GROWTH_NR_MADVISE))

/*
 * Programs that make these calls without libc (Go, static binaries): the raw
 * sys_exit tracepoint, which runs for every system call of every process while
 * attached. The syscall number comes first (one load and a compare: no helper
 * runs for any other call), is_target() second. This kernel has no fentry.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(growth_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 nr = regs->orig_ax;

	if (nr > 31 || !((1u << nr) & GROWTH_NR_MASK) || !is_target())
		return 0;
	/* The user's registers, arguments included, are as they were at entry. */
	mapping_call(nr, regs->di, regs->si, regs->dx, ret);
	return 0;
}
