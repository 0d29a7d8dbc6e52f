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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "golang/pclntab.h"

#define FUZZ_VADDR 0x400000ull /* link-time address given to the input */

static uint64_t word(const uint8_t *d, size_t size, size_t i)
{
	uint64_t v = 0;

	if (size >= 8)
		memcpy(&v, d + (i * 8) % (size - 7), 8);
	return v;
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
		gopclntab_func_by_name(t, f.name, &g);
		gopclntab_frames(t, f.entry, fr, 8);
		gopclntab_frames(t, f.entry + (f.end - f.entry) / 2, fr, 8);
		gopclntab_frames(t, f.end - 1, fr, 1 + k % 8);
		gopclntab_func_at(t, f.end - 1, &g);
	}
	/* Arbitrary pcs near text and from the input. */
	for (size_t k = 0; k < 16; k++) {
		uint64_t pc = text + (word(d, size, k + 16) & 0xfffff);

		gopclntab_func_at(t, pc, &f);
		gopclntab_frames(t, pc, fr, 8);
	}
	gopclntab_frames(t, text - 1, fr, 8);
	gopclntab_frames(t, UINT64_MAX, fr, 8);
	gopclntab_func_by_name(t, "runtime.newproc1", &f);
	gopclntab_func_by_name(t, "", &f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct gopclntab *t;
	struct gopclntab_region r[2];

	memcpy(buf, data, size);
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
