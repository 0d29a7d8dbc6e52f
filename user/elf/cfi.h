/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unwind tables for BPF, from an ELF file's .eh_frame (through libdw): for every
 * range of pcs, where the canonical frame address is (rsp or rbp plus an offset)
 * and where the caller's rbp was saved. With them BPF walks stacks through code
 * built without frame pointers (all of glibc), which growth mode needs: a page
 * fault inside malloc's internals must still be charged to malloc's caller.
 */
#ifndef LEAKSCOPE_CFI_H
#define LEAKSCOPE_CFI_H

#include <linux/types.h>
#include <stddef.h>

#include "elf/elffile.h"
#include "bpf/native_growth.h"

/*
 * Rows of f sorted by pc, identical neighbours merged; a CFI_STOP row ends each
 * range that no FDE covers. Returns the count (*out malloc'ed), 0 when the file
 * has no usable .eh_frame_hdr, or -errno.
 */
int cfi_table_build(struct elf_file *f, struct cfi_row **out);

#endif
