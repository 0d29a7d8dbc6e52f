/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/goroutines.bpf.c and user space: fixed-width, no pointers. */
#ifndef LEAKSCOPE_GOROUTINES_H
#define LEAKSCOPE_GOROUTINES_H

/* Which register holds the new g at the probe. */
enum go_newg_reg {
	GO_NEWG_RBX = 0, /* at `call runtime.runqput` in runtime.newproc.func1: runqput(pp, gp) */
	GO_NEWG_RAX = 1, /* at a RET of runtime.newproc1: its result */
};

/* goroutines map: key = address of the g, value = the goroutine last created in it. */
struct go_goroutine {
	__u64 goid;
	__u64 stack; /* hash key in the stacks map; 0 when the stack could not be taken */
	__u64 created_ns;
};

/* sites map: creations per (creation stack, go statement, start function), cumulative. */
struct go_site_key {
	__u64 stack;
	__u64 gopc;    /* the go statement: return address of its call to newproc */
	__u64 startpc;
};

/* Counters in .bss, read by user space through the skeleton. */
enum go_counter {
	GO_CNT_CREATED,	  /* goroutines created while attached */
	GO_CNT_GMAP_FULL, /* goroutines map full: goroutine shown by creation site only */
	GO_CNT_SITE_FULL, /* sites map full: creation not counted per stack */
	GO_CNT_READ_FAIL, /* could not read goid/startpc from the new g */
	GO_CNT_STACK_FULL, /* creation stack not kept: stacks map full */
	GO_CNT_TRACKED,	   /* entries in the goroutines map (it grows by this) */
	GO_CNT__MAX,
};

#endif
