// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the call-site scanner (user/elf/callsites.c): arbitrary bytes as
 * an ELF file, opened from memory; the allocator names native_heap.c asks for, looked up
 * as symbols, through GOT relocations and PLT stubs, calls to them found in executable
 * sections and their frames read from .eh_frame (libdw). Whatever the input, nothing may
 * crash, and every site found must carry the rule it was kept for.
 */
#include "elf/callsites.h"
#include "fuzz.h"

static const char *const names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "free", "je_malloc", "_Znwm", "_Znam",
	"_ZnwmRKSt9nothrow_t", "_ZnwmSt11align_val_t",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct elf_file *f;
	struct callsite *cs;
	int n;

	if (elf_open_mem(buf, size, "fuzz", &f))
		goto out;
	n = callsites_find(f, names, sizeof(names) / sizeof(names[0]), &cs);
	if (n < 0)
		abort();
	for (int i = 0; i < n; i++)
		if (cs[i].cfa_off < 8 || cs[i].cfa_off >= (1 << 20))
			abort();
	free(cs);
	elf_close(f);
out:
	free(buf);
	return 0;
}
