/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/native_growth.bpf.c and user space: fixed-width, no pointers. */
#ifndef LEAKSCOPE_NATIVE_GROWTH_H
#define LEAKSCOPE_NATIVE_GROWTH_H

/* How to find a frame's caller at one range of pcs (from .eh_frame; see user/cfi.c). */
enum cfi_cfa {
	CFI_STOP = 0, /* no caller (outermost frame) or no information */
	CFI_RSP = 1,  /* CFA = rsp + cfa_off */
	CFI_RBP = 2,  /* CFA = rbp + cfa_off */
	CFI_FP = 3,   /* a rule BPF does not evaluate (expressions): walk rbp instead */
};

/* One row of an unwind table: applies from pc to the next row's pc. */
struct cfi_row {
	__u32 pc;      /* link-time address */
	__s32 cfa_off;
	__s16 rbp_off; /* the caller's rbp is saved at CFA + rbp_off, when rbp_saved */
	__u8 cfa;      /* enum cfi_cfa */
	__u8 rbp_saved;
};

/* A mapped file whose rows are rows[lo, hi) of the rows map. */
struct cfi_module {
	__u64 start, end; /* executable mapping, runtime addresses */
	__u64 bias;	  /* runtime = link-time + bias */
	__u32 lo, hi;
};

#define GROWTH_MAX_MODULES 64

/* sites map: key = stack hash (0: no stack); cumulative since attach, in pages. */
struct growth_site {
	__u64 events, bytes;	     /* pages charged (first writes) */
	__u64 releases, released;    /* of those, pages given back (munmap, madvise, trim) */
};

/*
 * chunks map: key = address >> GROWTH_CHUNK_SHIFT. What each page of a 2 MiB
 * chunk of the address space stands for: 0 nothing known, GROWTH_PAGE_HELD given
 * back before it was charged (memory held at attach: writing it again is not
 * growth), GROWTH_PAGE_NOSTACK charged without a stack, otherwise the stack hash it
 * is charged to (always odd).
 */
#define GROWTH_CHUNK_SHIFT 21
#define GROWTH_CHUNK_PAGES 512
#define GROWTH_PAGE_HELD 2ull
#define GROWTH_PAGE_NOSTACK 4ull

struct growth_chunk {
	__u64 n; /* pages not 0 */
	__u64 page[GROWTH_CHUNK_PAGES];
};

/* The system calls growth mode follows (x86-64 numbers), as attach cookies too. */
#define GROWTH_NR_MMAP 9
#define GROWTH_NR_MUNMAP 11
#define GROWTH_NR_BRK 12
#define GROWTH_NR_MREMAP 25
#define GROWTH_NR_MADVISE 28

enum growth_counter {
	GROWTH_CNT_FAULTS,	/* pages charged */
	GROWTH_CNT_HELD_AGAIN,	/* writes to pages held at attach, given back, not counted */
	GROWTH_CNT_HELD_GONE,	/* pages held at attach given back (unmapped or released) */
	GROWTH_CNT_CALLS,	/* mapping calls seen (mmap, munmap, mremap, madvise, brk) */
	GROWTH_CNT_SITES_FULL,
	GROWTH_CNT_PAGES_FULL,	/* pages charged but not followed: chunks map full */
	GROWTH_CNT_STACK_FULL,	/* stack not kept: stacks map full */
	GROWTH_CNT__MAX,
};

#endif
