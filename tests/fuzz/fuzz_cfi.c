// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the unwind-table builder (user/elf/cfi.c): arbitrary bytes as an
 * ELF file, opened from memory; .eh_frame_hdr read by leakscope, .eh_frame by libdw,
 * turned into the rows growth mode hands to BPF. Whatever the input, nothing may crash,
 * and the rows must be what BPF's binary search assumes: sorted by pc, each one known
 * rule, offsets in range.
 */
#include "elf/cfi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct elf_file *f;
	struct cfi_row *rows;
	int n;

	if (elf_open_mem(buf, size, "fuzz", &f))
		goto out;
	n = cfi_table_build(f, &rows);
	for (int i = 0; i < n; i++) {
		if (i && rows[i].pc <= rows[i - 1].pc)
			abort();
		if (rows[i].cfa != CFI_STOP && rows[i].cfa != CFI_RSP && rows[i].cfa != CFI_RBP &&
		    rows[i].cfa != CFI_FP)
			abort();
		if (rows[i].rbp_saved && rows[i].rbp_off >= 0)
			abort();
	}
	if (n < 0 || (n == 0 && rows))
		abort();
	free(rows);
	elf_close(f);
out:
	free(buf);
	return 0;
}
