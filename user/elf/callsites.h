/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frame-pointer walks lose the caller of code built without frame pointers: at
 * malloc's entry, [rsp] names the function that called malloc, but if that
 * function (operator new in libstdc++, strdup in glibc, most of any -O2 build)
 * keeps no frame, rbp still points at its caller's caller's frame, or at data.
 * This finds, in one ELF file, every call to a given set of functions, and for
 * the return address of each, from the file's .eh_frame (libdw), where the
 * calling function's own return address and saved rbp are: enough for BPF to
 * step over that one frame and resume the frame-pointer walk.
 */
#ifndef LEAKSCOPE_CALLSITES_H
#define LEAKSCOPE_CALLSITES_H

#include <stddef.h>
#include <stdint.h>

#include "elf/elffile.h"

struct callsite {
	uint64_t ret;	 /* link-time return address of the call */
	int32_t cfa_off; /* there, CFA = rsp + cfa_off (rsp once the call has returned) */
	int32_t rbp_off; /* caller's rbp saved at CFA + rbp_off; 0 when rbp is untouched */
};

/*
 * Calls in f to any of names (direct, through the PLT, or through the GOT), where
 * the calling code keeps no frame pointer (CFA from rsp). names may hold functions
 * f defines or imports. Returns the count (*out malloc'ed) or -errno.
 */
int callsites_find(struct elf_file *f, const char *const *names, size_t nnames,
		   struct callsite **out);

#endif
