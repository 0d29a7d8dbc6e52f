/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/go_heap.bpf.c and user space: fixed-width, no pointers. */
#ifndef LEAKSCOPE_GO_HEAP_H
#define LEAKSCOPE_GO_HEAP_H

#define GO_ALLOC_RANGES 8

/* One record per GC cycle, from runtime.(*gcControllerState).resetLive. */
struct go_gc_event {
	__u64 ts_ns;
	__u64 heap_marked; /* live heap after this cycle's mark: resetLive's bytesMarked */
	__u64 controller;  /* &runtime.gcController (RAX): found even in stripped binaries */
};

enum go_heap_counter {
	GO_HEAP_CNT_GCS,	   /* GC events seen */
	GO_HEAP_CNT_RB_FULL,	   /* GC events lost: ring buffer full */
	GO_HEAP_CNT_SAMPLES,	   /* CPU samples of the target in user mode */
	GO_HEAP_CNT_ALLOC_SAMPLES, /* ... of which inside the allocator */
	GO_HEAP_CNT_SAMPLE_FULL,   /* allocation samples not counted: map full */
	GO_HEAP_CNT_STACK_FULL,   /* sample stack not kept: stacks map full */
	GO_HEAP_CNT__MAX,
};

#endif
