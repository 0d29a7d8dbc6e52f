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

/* sites map: key = stack hash; cumulative since attach. */
struct growth_site {
	__u64 events, bytes;	     /* growth */
	__u64 releases, released;    /* munmap of mappings made from this stack */
};

/* regions map: key = start of an anonymous mapping made while attached. */
struct growth_region {
	__u64 len;
	__u64 stack;
};

enum growth_counter {
	GROWTH_CNT_FAULTS,
	GROWTH_CNT_BRK_SHRUNK, /* bytes the heap's end moved down (trimmed): not attributed */
	GROWTH_CNT_SITES_FULL,
	GROWTH_CNT_REGIONS_FULL,
	GROWTH_CNT_STACK_FULL, /* stack not kept: stacks map full */
	GROWTH_CNT__MAX,
};

#endif
