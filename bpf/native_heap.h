/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/native_heap.bpf.c and user space: fixed-width, no pointers. */
#ifndef LEAKSCOPE_NATIVE_HEAP_H
#define LEAKSCOPE_NATIVE_HEAP_H

/* Which function a probe sits on (the uprobe's cookie). */
enum nat_kind {
	NAT_MALLOC = 1,
	NAT_CALLOC,
	NAT_REALLOC,
	NAT_REALLOCARRAY,
	NAT_POSIX_MEMALIGN,
	NAT_MEMALIGN, /* also aligned_alloc (glibc: one function, two names) */
	NAT_VALLOC,
	NAT_PVALLOC,
	NAT_MMAP,
	NAT_FREE, /* entry only, no return probe */
	NAT_MUNMAP,
	NAT_KIND__MAX,
};

/* allocs map: key = address returned to the program, value: */
struct nat_alloc {
	__u64 size;	/* bytes asked for */
	__u64 stack;	/* hash key in the stacks map; 0 when it could not be kept */
	__u64 born_ns;	/* bpf_ktime_get_ns() at the allocation's return */
};

/* sites map: key = stack hash; cumulative successful allocations since attach. */
struct nat_site {
	__u64 allocs;
	__u64 bytes;
};

/*
 * fixups map: key = a return address in code without frame pointers that calls
 * an allocator (or operator new), value: how to step over that function's frame.
 */
struct nat_fixup {
	__s32 cfa_off; /* CFA = rsp after the call returns + cfa_off */
	__s32 rbp_off; /* the caller's rbp is saved at CFA + rbp_off; 0: rbp untouched */
};

/*
 * --mode sampled, with R = --sample-bytes: a block of s bytes is recorded with
 * probability p = s / R (every block from R bytes up), so each recorded block
 * stands for 1/p blocks and s/p bytes (Horvitz-Thompson: unbiased for any mix of
 * sizes). A stack's estimated outstanding bytes B^ then has variance
 * sum over its recorded blocks of R (R - s), at most R B: the estimate is within
 * 2 sqrt(R B) of the truth about 95 % of the time. Object weights are kept in
 * 1/1024ths (NAT_OBJS_ONE) so that sizes between R/2 and R are not rounded to 1.
 */
#define NAT_OBJS_ONE 1024

static inline __u64 nat_weight_objs_fp(__u64 size, __u64 r)
{
	if (size >= r)
		return NAT_OBJS_ONE;
	return (r * NAT_OBJS_ONE) / (size ? size : 1);
}

static inline __u64 nat_weight_bytes(__u64 size, __u64 r)
{
	return size >= r || !size ? size : r;
}

/* Counters in .bss, read by user space through the skeleton. */
enum nat_counter {
	NAT_CNT_ALLOCS,	    /* successful allocations recorded */
	NAT_CNT_FAILED,	    /* allocations that returned failure: nothing recorded */
	NAT_CNT_FREES,	    /* frees of a recorded address */
	NAT_CNT_NESTED,	    /* allocator calls made by the allocator itself: not counted twice */
	NAT_CNT_ALLOCS_FULL, /* allocs map full: allocation not tracked */
	NAT_CNT_SITES_FULL, /* sites map full: allocation not counted per stack */
	NAT_CNT_NO_ENTRY,   /* a return whose entry was not seen (attached mid-call) */
	NAT_CNT_STACK_FULL, /* allocation stack not kept: stacks map full */
	NAT_CNT_TRACKED,    /* entries in the allocs map now (it grows by this) */
	NAT_CNT__MAX,
};

#endif
