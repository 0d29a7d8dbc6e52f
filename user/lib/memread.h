/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reads of another process's memory without stopping it (process_vm_readv, or
 * /proc/PID/mem where that is refused). The Go runtime readers and the sources
 * read the target only through these.
 */
#ifndef LEAKSCOPE_LIB_MEMREAD_H
#define LEAKSCOPE_LIB_MEMREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read len bytes of target memory at addr. Returns 0 only when all bytes were read. */
int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

struct mem_iov {
	uint64_t addr;
	void *buf;
	size_t len;
	bool ok; /* set by mem_readv */
};
/* Many small reads in few syscalls. Returns number of ok entries. */
size_t mem_readv(pid_t pid, struct mem_iov *v, size_t n);

#endif
