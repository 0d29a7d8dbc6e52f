// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the Go binary reader (user/golang/gobin.c): arbitrary bytes as
 * an executable, opened from memory through the ELF reader, then what leakscope asks of
 * a Go program: its version from .go.buildinfo, .gopclntab with its moduledata (found in
 * the data sections), the runtime layout for the release, runtime functions by name, the
 * code of functions, wrappers and the functions `go` statement wrappers call (decoded
 * with capstone). The DWARF part of the layout is fuzz_go_offsets' (it needs a file).
 */
#include "golang/gobin.h"
#include "fuzz.h"

static const char *const funcs[] = {
	"runtime.newproc1", "runtime.newproc.func1", "runtime.runqput", "runtime.goexit",
	"runtime.main", "runtime.mstart", "runtime.forEachGRace", "runtime.MemProfile",
	"runtime.memProfileInternal", "runtime.(*gcControllerState).resetLive",
	"runtime.systemstack_switch", "main.main",
};

static void check_func(const struct gobin *gb, const struct gofunc *f, const uint8_t *buf,
		       size_t size)
{
	const void *code;
	size_t len;

	fuzz_str(f->name);
	code = gobin_code(gb, f, &len);
	if (code)
		fuzz_inside(code, len, buf, size, "gobin_code");
	gobin_is_wrapper(gb, f->entry);
	fuzz_str(gobin_gowrap_target(gb, f->entry));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct elf_file *elf;
	struct gobin *gb;
	struct gofunc f;
	uint64_t addr;
	char desc[128];

	if (elf_open_mem(buf, size, "fuzz", &elf))
		goto out;
	if (!gobin_open(elf, &gb)) {
		if (gb->minor != gobin_parse_minor(gb->version))
			abort();
		for (unsigned p = 1; p <= GO_LAYOUT_ALL; p <<= 1)
			fuzz_str(gobin_layout_desc(gb, p, desc, sizeof(desc)));
		for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
			if (!gobin_func(gb, funcs[i], &f))
				check_func(gb, &f, buf, size);
		if (gb->pcln) {
			size_t n = gopclntab_nfunc(gb->pcln);

			/* Every function of a small table, a spread of a big one. */
			for (size_t k = 0; k < 64 && k < n; k++)
				if (!gopclntab_func_by_index(gb->pcln, n <= 64 ? k : k * (n / 64), &f))
					check_func(gb, &f, buf, size);
		}
		gobin_data_symbol(gb, "runtime.allgs", &addr);
		gobin_close(gb);
	}
	elf_close(elf);
out:
	free(buf);
	return 0;
}
