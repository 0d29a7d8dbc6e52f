// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for symbolization (user/target/symbolize.c, modfile.c): arbitrary
 * bytes as a file the target maps, opened from memory (its Go view too, when it has
 * one), mapped at its link-time addresses; then pcs symbolized the way reports do: Go
 * files from .gopclntab, others from the symbol tables and DWARF line tables and
 * inlined-subroutine scopes (libdw), C++ names demangled. Pcs: every function's entry,
 * middle and last byte (a spread of them in big files), and words of the input.
 */
#include <elfutils/libdw.h>

#include "target/maps.h"
#include "target/modfile.h"
#include "target/symbolize.h"
#include "lib/util.h"
#include "fuzz.h"

static void check(struct symbolizer *sym, const struct modfile *mf, uint64_t pc, bool ret)
{
	const struct frames *fr = symbolize_pc(sym, pc, ret);
	uint64_t entry;

	if (!fr || fr->n < 1)
		abort();
	for (int i = 0; i < fr->n; i++) {
		fuzz_str(fr->v[i].func);
		fuzz_str(fr->v[i].file);
		fuzz_str(fr->v[i].module);
		if (fr->v[i].pc != pc)
			abort();
	}
	if (fr->v[fr->n - 1].inlined)
		abort();
	modfile_func_entry(mf, pc, &entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct modfile mf = {0};
	struct maps_watch w;
	struct symbolizer sym;
	struct module_info mi;
	struct elf_symbol s;

	if (elf_open_mem(buf, size, "fuzz", &mf.elf))
		goto out;
	if (gobin_open(mf.elf, &mf.gb))
		mf.gb = NULL;
	/* The whole address space is this file, loaded at its link-time addresses. */
	maps_watch_init(&w, 0);
	w.cur = xcalloc(1, sizeof(*w.cur));
	w.cur[0] = (struct mapping){.start = 0, .end = UINT64_MAX, .mf = &mf, .bias = 0,
				    .bias_ok = true, .name = "fuzz", .path = "/fuzz"};
	w.ncur = 1;
	w.last_ns = now_ns();
	symbolizer_init(&sym, &w);

	elf_symbol_at(mf.elf, 0, &s); /* builds the address-sorted table */
	for (size_t k = 0; k < 48 && k < mf.elf->nby_addr; k++) {
		size_t n = mf.elf->nby_addr;
		const struct elf_symbol *e = &mf.elf->by_addr[n <= 48 ? k : k * (n / 48)];

		check(&sym, &mf, e->addr, false);
		check(&sym, &mf, e->addr + e->size / 2, true);
		check(&sym, &mf, e->addr + e->size, true);
	}
	if (mf.gb && mf.gb->pcln) {
		size_t n = gopclntab_nfunc(mf.gb->pcln);
		struct gofunc f;

		for (size_t k = 0; k < 32 && k < n; k++)
			if (!gopclntab_func_by_index(mf.gb->pcln, n <= 32 ? k : k * (n / 32), &f)) {
				check(&sym, &mf, f.entry, false);
				check(&sym, &mf, f.entry + (f.end - f.entry) / 2 + 1, true);
			}
	}
	for (size_t k = 0; k < 8; k++)
		check(&sym, &mf, fuzz_word(buf, size, k), k & 1);
	if (!symbolizer_module_info(&sym, 0x1000, &mi))
		abort();
	fuzz_str(mi.build_id);

	symbolizer_free(&sym);
	maps_watch_free(&w);
	if (mf.dwarf)
		dwarf_end(mf.dwarf);
	gobin_close(mf.gb);
	elf_close(mf.elf);
out:
	free(buf);
	return 0;
}
