/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/threads.bpf.c and user space: fixed-width, no pointers. */
#ifndef LEAKSCOPE_THREADS_H
#define LEAKSCOPE_THREADS_H

/* What made a thread: which probe saw its creation (also the uprobe's cookie). */
enum thr_kind {
	THR_KIND_PTHREAD = 1, /* pthread_create (native code, cgo's C code) */
	THR_KIND_GO_NEWM = 2, /* the Go runtime starting an M (runtime.newm1 / newm) */
	THR_KIND_CLONE = 3,   /* a clone no probe saw coming: stack of the clone syscall */
	THR_KIND_PRE = 4,     /* existed at attach: put in the map by user space, no stack */
	THR_KIND_MAIN = 5,    /* a program leakscope started: its main thread, no stack */
};

/* A creation site: one stack seen by one kind of probe. */
struct thr_site_key {
	__u64 stack; /* hash key in the stacks map; 0 when no stack was taken */
	__u32 kind;
	__u32 pad;
};

/* sites map value: cumulative since attach. */
struct thr_counts {
	__u64 created;
	__u64 exited;
};

/* threads map: key = thread id as leakscope sees it (its PID namespace), value: */
struct thr_thread {
	struct thr_site_key site;
	__u64 created_ns; /* 0 for threads that existed at attach */
};

/* pending map: key = kernel tid of a thread about to clone, value: what it was doing. */
struct thr_pending {
	__u64 stack;
	__u32 kind;
	__u32 pad;
};

/* Counters in .bss, read by user space through the skeleton. */
enum thr_counter {
	THR_CNT_CREATED,      /* threads created while attached */
	THR_CNT_EXITED,	      /* threads in the map that exited */
	THR_CNT_MAP_FULL,     /* threads map full: thread not attributed */
	THR_CNT_SITE_FULL,    /* sites map full: creation or exit not counted per site */
	THR_CNT_EXIT_UNKNOWN, /* exit of a thread not in the map */
	THR_CNT_NO_PROBE,     /* clone with no probe before it (kind CLONE) */
	THR_CNT_STACK_FULL,   /* creation stack not kept: stacks map full */
	THR_CNT__MAX,
};

#endif
