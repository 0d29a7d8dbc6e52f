// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the ELF reader (user/elf/elffile.c): arbitrary bytes as an ELF
 * file, opened from memory (exact-size buffer) and, for the mmap path, from a memfd;
 * then every query leakscope makes of a file: sections by name, symbols by name and by
 * address, link-time address -> file offset and -> bytes, load bias, build ID. Whatever
 * the input, nothing may crash, and every pointer handed out must lie inside the input.
 */
#include <ctype.h>
#include <gelf.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf/elffile.h"
#include "fuzz.h"

static const char *const sections[] = {
	".text", ".symtab", ".dynsym", ".strtab", ".gopclntab", ".data.rel.ro.gopclntab",
	".go.buildinfo", ".go.module", ".noptrdata", ".data", ".data.rel.ro", ".rodata",
	".eh_frame", ".eh_frame_hdr", ".note.gnu.build-id", ".debug_info", ".zdebug_info",
	".plt", ".plt.sec", "", "\xff",
};

static const char *const symbols[] = {
	"main", "malloc", "free", "calloc", "realloc", "_Znwm", "pthread_create", "_start",
	"runtime.main", "runtime.firstmoduledata", "runtime.allgs", "runtime.allglen",
	"go:func.*", "", "m",
};

static void check_section(const struct elf_file *f, const char *name, const uint8_t *buf,
			  size_t size)
{
	struct elf_section s;

	if (elf_find_section(f, name, &s) || !s.data)
		return;
	fuzz_inside(s.data, s.size, buf, size, name);
}

static void check_symbol_at(struct elf_file *f, uint64_t addr)
{
	struct elf_symbol s;

	if (elf_symbol_at(f, addr, &s) >= 0)
		fuzz_str(s.name);
}

static void check_vaddr(const struct elf_file *f, uint64_t vaddr, const uint8_t *buf,
			size_t size)
{
	static const size_t lens[] = {0, 1, 16, 4096, SIZE_MAX / 2, SIZE_MAX};
	uint64_t off;

	elf_vaddr_to_offset(f, vaddr, &off);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		const void *p = elf_vaddr_ptr(f, vaddr, lens[i]);

		if (p)
			fuzz_inside(p, lens[i], buf, size, "elf_vaddr_ptr");
	}
}

static void queries(struct elf_file *f, const uint8_t *buf, size_t size)
{
	struct elf_symbol s;
	uint64_t bias;

	for (size_t i = 0; f->build_id[i]; i++)
		if (i >= 40 || !isxdigit((unsigned char)f->build_id[i]))
			abort();
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		check_section(f, sections[i], buf, size);
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
		if (!elf_find_symbol(f, symbols[i], &s)) {
			fuzz_str(s.name);
			check_symbol_at(f, s.addr);
			check_vaddr(f, s.addr, buf, size);
		}
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct elf_segment *g = &f->segs[i];

		check_vaddr(f, g->vaddr, buf, size);
		check_vaddr(f, g->vaddr + g->filesz - 1, buf, size);
		check_symbol_at(f, g->vaddr + g->memsz / 2);
		elf_load_bias(f, 0x7f0000000000ull + g->offset, g->offset, &bias);
	}
	/* Names found by address are found by name, and addresses from the input. */
	for (size_t k = 0; k < 8; k++) {
		uint64_t w = fuzz_word(buf, size, k);

		check_symbol_at(f, w);
		check_vaddr(f, w, buf, size);
		elf_load_bias(f, w, fuzz_word(buf, size, k + 8), &bias);
		if (f->nby_addr) {
			const struct elf_symbol *b = &f->by_addr[w % f->nby_addr];

			if (!elf_find_symbol(f, b->name, &s))
				check_symbol_at(f, s.addr + s.size / 2);
		}
	}
	check_symbol_at(f, 0);
	check_symbol_at(f, UINT64_MAX);
	check_vaddr(f, UINT64_MAX, buf, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct elf_file *f;
	char path[64];
	int fd;

	if (!elf_open_mem(buf, size, "fuzz", &f)) {
		queries(f, buf, size);
		elf_close(f);
	}
	free(buf);

	/* The path leakscope takes: a file, mapped (a shorter run of queries). */
	fd = memfd_create("fuzz_elffile", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!elf_open(path, &f)) {
			check_section(f, ".text", f->map, f->size);
			check_symbol_at(f, fuzz_word(data, size, 1));
			elf_close(f);
		}
	}
	close(fd);
	return 0;
}
