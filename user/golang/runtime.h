/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Go runtime's own state, read from the target's memory without stopping
 * it (process_vm_readv): the goroutine list (runtime.allgs) with each
 * goroutine's status, wait reason, creation pc and start function, and the
 * wait-reason names. In stripped binaries the runtime variables are found by
 * recipes (a known function's RIP-relative loads, or the table's content),
 * each validated against live memory before it is trusted.
 */
#ifndef LEAKSCOPE_GORUNTIME_H
#define LEAKSCOPE_GORUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "golang/gobin.h"

struct go_g {
	uint64_t addr; /* runtime address of the g */
	uint64_t goid;
	uint64_t gopc;	  /* return address of the call that ran the `go` statement */
	uint64_t startpc; /* entry of the function the goroutine runs */
	uint64_t sched_sp, sched_pc, sched_bp; /* where it stopped, when it is not running */
	uint64_t stack_lo, stack_hi;
	int64_t waitsince; /* nanotime (CLOCK_MONOTONIC) a GC first saw it waiting; 0 unknown */
	uint32_t status;   /* _G* without the scan bit */
	uint8_t waitreason;
	uint32_t slot; /* its index in allgs (a g keeps its place: allgs only grows) */
};

/* Goroutine status values (runtime2.go). */
enum {
	GO_G_IDLE = 0,
	GO_G_RUNNABLE = 1,
	GO_G_RUNNING = 2,
	GO_G_SYSCALL = 3,
	GO_G_WAITING = 4,
	GO_G_DEAD = 6,
	GO_G_COPYSTACK = 8,
	GO_G_PREEMPTED = 9,
	GO_G_LEAKED = 10,    /* 1.27 (1.26 with GOEXPERIMENT=goroutineleakprofile): the GC of a
			      * goroutine leak profile proved it stuck; waitreason kept */
	GO_G_DEADEXTRA = 11, /* 1.26: dead g parked on an extra M for cgo callbacks */
};

struct mem_iov;

struct go_runtime {
	pid_t pid;
	const struct gobin *gb;
	uint64_t bias;		 /* runtime = link-time + bias */
	uint64_t allglen, allgptr; /* runtime addresses of the variables, 0 if unknown */
	const char *allgs_how;	 /* "symbol table" or "forEachGRace recipe" */
	const char **waitreasons; /* interned names, indexed by waitReason */
	int nwaitreasons;
	const char *waitreasons_how;
	struct go_g *gs; /* last scan */
	size_t ngs, cap;
	size_t implausible; /* goroutines of the last scan that read as impossible, left out */
	uint8_t *scan_buf;  /* the scan's buffers, kept (runtime.c) */
	struct mem_iov *scan_iov;
	size_t *scan_first;
	uint64_t *scan_gptrs;
	uint64_t allgs_n;   /* allglen at the last scan */
	size_t scan_reads; /* ranges the last scan read (runs of neighbouring g's) */
	uint64_t goexit_lo, goexit_hi; /* runtime.goexit, link-time [entry, end); 0 unknown */
	char why_buf[384];
};

/*
 * Find the runtime variables and check the layout of runtime.g on the live
 * process. Returns 0 when the goroutine list can be read, -EAGAIN when the
 * runtime has not started yet (try again), or -ENOENT with *why set to a
 * sentence explaining what is missing or does not fit.
 */
int go_runtime_init(struct go_runtime *rt, pid_t pid, const struct gobin *gb, uint64_t bias,
		    const char **why);
void go_runtime_free(struct go_runtime *rt);

/*
 * Read every goroutine that is not dead or idle into rt->gs. 0 or -errno (-ESRCH:
 * exited). -EBADMSG when more of them read as impossible (an unknown status, no
 * goid) than a torn read explains: the layout does not fit.
 */
int go_runtime_scan(struct go_runtime *rt);

/*
 * The stack a goroutine stopped at, innermost first: pcs[0] = g.sched.pc, then the
 * return addresses up the frame-pointer chain, read without stopping the program.
 * Only for goroutines that are not running (waiting, runnable, leaked): their saved
 * context is still theirs. A goroutine that moves while it is read gives a torn walk:
 * every frame must be code of the program and every frame pointer must rise inside
 * [stack.lo, stack.hi), and the walk must end in runtime.goexit (where every
 * goroutine's first frame returns), unless it fills max. Returns the frames, 0 when
 * none or torn. Above runtime.asyncPreempt or sigpanic, the interrupted pc is kept as
 * pc + 1, like a return address.
 */
int go_g_stack(const struct go_runtime *rt, const struct go_g *g, uint64_t *pcs, int max);

/* The goroutine at addr read again (to see whether it moved while its stack was
 * read). 0, -ENOENT when it is dead now, -EFAULT or -EBADMSG. */
int go_g_reread(const struct go_runtime *rt, uint64_t addr, struct go_g *g);

/* "chan receive", "running", "select", ... interned. */
const char *go_g_state(const struct go_runtime *rt, const struct go_g *g);

/* Look up a Go runtime data variable: symbol table, else the recipe for it. 0 = not found. */
uint64_t go_runtime_var(const struct go_runtime *rt, const char *name);

#endif
