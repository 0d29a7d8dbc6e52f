// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the .gopclntab reader (user/golang/pclntab.c): arbitrary
 * bytes as the section, then every lookup the symbolizer makes. The input is
 * copied into a buffer of exactly its size so that AddressSanitizer catches
 * any read past the section. See tests/fuzz/README.
 *
 * The input is also offered as the data region that holds moduledata (at the
 * section's own address, as if moduledata followed the table), so that seeds
 * made of a table plus a moduledata pointing back at it reach the funcdata
 * (inline tree) paths of Go 1.18-1.25 too.
 */
#include <errno.h>

#include "golang/pclntab.h"
#include "fuzz.h"

#define FUZZ_VADDR 0x400000ull /* link-time address given to the input */

#define word fuzz_word

/* Frames at pc: a count in 1..max, every string whole, the physical function last. */
static void frames(const struct gopclntab *t, uint64_t pc, struct goframe *fr, int max)
{
	int n = gopclntab_frames(t, pc, fr, max);

	if (n == -ENOENT || n == -EINVAL)
		return;
	if (n < 1 || n > max || fr[n - 1].inlined)
		abort();
	for (int i = 0; i < n; i++) {
		fuzz_str(fr[i].func);
		fuzz_str(fr[i].file);
	}
}

static void lookups(const struct gopclntab *t, const uint8_t *d, size_t size)
{
	size_t n = gopclntab_nfunc(t);
	uint64_t text = gopclntab_text_start(t);
	struct goframe fr[8];
	struct gofunc f, g;

	/* A few functions by index, each at its entry, middle and last byte. */
	for (size_t k = 0; k < 16; k++) {
		size_t i = k < 4 ? k : word(d, size, k) % n;

		if (gopclntab_func_by_index(t, i, &f))
			continue;
		fuzz_str(f.name);
		gopclntab_func_id(t, f.index);
		if (!gopclntab_func_by_name(t, f.name, &g) && strcmp(f.name, g.name))
			abort();
		frames(t, f.entry, fr, 8);
		frames(t, f.entry + (f.end - f.entry) / 2, fr, 8);
		frames(t, f.end - 1, fr, 1 + k % 8);
		gopclntab_func_at(t, f.end - 1, &g);
	}
	/* Arbitrary pcs near text and from the input. */
	for (size_t k = 0; k < 16; k++) {
		uint64_t pc = text + (word(d, size, k + 16) & 0xfffff);

		if (!gopclntab_func_at(t, pc, &f) && (pc < f.entry || pc >= f.end))
			abort();
		frames(t, pc, fr, 8);
	}
	frames(t, text - 1, fr, 8);
	frames(t, UINT64_MAX, fr, 8);
	gopclntab_func_by_name(t, "runtime.newproc1", &f);
	gopclntab_func_by_name(t, "", &f);
	gopclntab_wrapper_id(t);
	gopclntab_func_id(t, UINT32_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct gopclntab *t;
	struct gopclntab_region r[2];

	if (!gopclntab_open(&t, buf, size, FUZZ_VADDR)) {
		lookups(t, buf, size);
		r[0] = (struct gopclntab_region){NULL, 64, 0};
		r[1] = (struct gopclntab_region){buf, size, FUZZ_VADDR};
		if (!gopclntab_attach_moduledata(t, r, 2, FUZZ_VADDR))
			lookups(t, buf, size);
		/* The funcdata base anywhere in the input. */
		if (size) {
			size_t off = word(buf, size, 3) % size;

			gopclntab_set_gofunc(t, buf + off, size - off);
			lookups(t, buf, size);
		}
		gopclntab_close(t);
	}
	free(buf);
	return 0;
}
