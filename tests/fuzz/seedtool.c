// SPDX-License-Identifier: GPL-2.0
/*
 * Seeds for the harnesses that take a piece of a binary rather than a whole file, cut
 * from real binaries with leakscope's own readers (tests/fuzz/seeds.sh runs it):
 *
 *   seedtool pcln BIN OUT     .gopclntab as fuzz_gopclntab reads it: the table, then (when
 *                             the binary has runtime.firstmoduledata and its funcdata
 *                             lies outside the table, Go 1.18-1.25) a copy of moduledata
 *                             pointing back at the table and a copy of go:func.*, as if
 *                             all of it were mapped at the harness's address
 *   seedtool code BIN PREFIX  fuzz_disasm inputs: address, parameters, then the code of a
 *                             few functions probes are placed in (PREFIX.NAME)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elffile.h"
#include "golang/gobin.h"
#include "golang/pclntab.h"

#define FUZZ_VADDR 0x400000ull /* fuzz_gopclntab.c's address for its input */
#define MAX_GOFUNC (512u << 10)

static int write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -errno;
	ok = fwrite(a, 1, alen, f) == alen && (!blen || fwrite(b, 1, blen, f) == blen);
	return fclose(f) || !ok ? -EIO : 0;
}

/* Bytes available in the file from link-time vaddr to the end of its segment. */
static size_t seg_avail(const struct elf_file *f, uint64_t vaddr)
{
	for (size_t i = 0; i < f->nsegs; i++)
		if (vaddr >= f->segs[i].vaddr && vaddr - f->segs[i].vaddr < f->segs[i].filesz)
			return f->segs[i].vaddr + f->segs[i].filesz - vaddr;
	return 0;
}

static int pcln(struct elf_file *f, const char *out)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	struct elf_section s = {0};
	struct elf_symbol md;
	struct gopclntab *t;
	const uint8_t *mdp, *gf;
	uint64_t words[64], gofunc;
	size_t nw, gfn, word, padded;
	uint8_t *img;
	int err = -ENOENT;

	for (size_t i = 0; i < 2 && err; i++)
		err = elf_find_section(f, names[i], &s);
	if (err || !s.data)
		return -ENOENT;
	if (gopclntab_open(&t, s.data, s.size, 0))
		return write_file(out, s.data, s.size, NULL, 0);
	word = gopclntab_go_min_version(t) == 118 ? 38 : 40;
	gopclntab_close(t);
	if (elf_find_symbol(f, "runtime.firstmoduledata", &md))
		return write_file(out, s.data, s.size, NULL, 0);
	nw = seg_avail(f, md.addr) / 8;
	nw = nw < 64 ? nw : 64;
	mdp = elf_vaddr_ptr(f, md.addr, nw * 8);
	if (!mdp || nw <= word)
		return write_file(out, s.data, s.size, NULL, 0);
	memcpy(words, mdp, nw * 8);
	gofunc = words[word];
	if (gofunc >= s.vaddr && gofunc - s.vaddr < s.size)
		return write_file(out, s.data, s.size, NULL, 0); /* Go 1.26+: inside the table */
	gfn = seg_avail(f, gofunc);
	gfn = gfn < MAX_GOFUNC ? gfn : MAX_GOFUNC;
	gf = elf_vaddr_ptr(f, gofunc, gfn);
	if (!gf)
		return write_file(out, s.data, s.size, NULL, 0);

	/* table | moduledata | go:func.*, each 8-aligned, pointers moved to FUZZ_VADDR. */
	padded = (s.size + 7) & ~7ul;
	for (size_t i = 0; i < nw; i++)
		if (words[i] >= s.vaddr && words[i] - s.vaddr <= s.size)
			words[i] = FUZZ_VADDR + (words[i] - s.vaddr);
	words[word] = FUZZ_VADDR + padded + nw * 8;
	img = calloc(1, padded + nw * 8);
	memcpy(img, s.data, s.size);
	memcpy(img + padded, words, nw * 8);
	err = write_file(out, img, padded + nw * 8, gf, gfn);
	free(img);
	return err;
}

static int code_one(const char *prefix, const char *name, uint64_t entry, uint64_t len,
		    const void *p, uint64_t param)
{
	char path[4096];
	uint8_t hdr[16];

	if (!p || !len)
		return 0;
	memcpy(hdr, &entry, 8);
	memcpy(hdr + 8, &param, 8);
	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	for (char *c = path + strlen(prefix) + 1; *c; c++)
		if (*c == '/' || *c == '*' || *c == '(' || *c == ')')
			*c = '_';
	return write_file(path, hdr, 16, p, len);
}

static int code(struct elf_file *f, const char *prefix)
{
	static const char *const gofuncs[] = {
		"runtime.newproc1", "runtime.newproc.func1", "runtime.forEachGRace",
		"runtime.(*gcControllerState).resetLive", "runtime.MemProfile", "main.main",
		"runtime.mstart", "runtime.systemstack_switch",
	};
	static const char *const cfuncs[] = {"malloc", "free", "calloc", "realloc",
					     "pthread_create", "main", "_Znwm", "__libc_malloc"};
	struct gobin *gb = NULL;

	if (!gobin_open(f, &gb) && gb->pcln) {
		for (size_t i = 0; i < sizeof(gofuncs) / sizeof(gofuncs[0]); i++) {
			struct gofunc g;
			size_t len;
			const void *p;

			if (gobin_func(gb, gofuncs[i], &g))
				continue;
			p = gobin_code(gb, &g, &len);
			code_one(prefix, gofuncs[i], g.entry, len < 4096 ? len : 4096, p,
				 (uint64_t)(i % 4) << 32 | i);
		}
		gobin_close(gb);
		return 0;
	}
	gobin_close(gb);
	for (size_t i = 0; i < sizeof(cfuncs) / sizeof(cfuncs[0]); i++) {
		struct elf_symbol s;
		uint64_t len;

		if (elf_find_symbol(f, cfuncs[i], &s) || !s.size)
			continue;
		len = s.size < 4096 ? s.size : 4096;
		code_one(prefix, cfuncs[i], s.addr, len, elf_vaddr_ptr(f, s.addr, len),
			 (uint64_t)(i % 4) << 32 | i);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct elf_file *f;
	int err;

	if (argc != 4 || (strcmp(argv[1], "pcln") && strcmp(argv[1], "code"))) {
		fprintf(stderr, "usage: seedtool pcln|code BIN OUT\n");
		return 2;
	}
	err = elf_open(argv[2], &f);
	if (err) {
		fprintf(stderr, "seedtool: %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	err = !strcmp(argv[1], "pcln") ? pcln(f, argv[3]) : code(f, argv[3]);
	elf_close(f);
	if (err && err != -ENOENT)
		fprintf(stderr, "seedtool: %s: %s\n", argv[2], strerror(-err));
	return err && err != -ENOENT;
}
