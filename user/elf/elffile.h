/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ELF files as leakscope needs them: sections, symbols by name and by
 * address, link-time address <-> file offset, and load bias. Files are
 * opened through paths that resolve in the target's view of the filesystem
 * (/proc/PID/exe, /proc/PID/root/..., /proc/PID/map_files/...).
 */
#ifndef LEAKSCOPE_ELFFILE_H
#define LEAKSCOPE_ELFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_section {
	const void *data; /* into the mapped file; NULL for SHT_NOBITS */
	uint64_t size;
	uint64_t vaddr;	 /* sh_addr */
	uint64_t offset; /* sh_offset */
	uint64_t flags;	 /* sh_flags */
};

struct elf_symbol {
	const char *name;
	uint64_t addr; /* link-time st_value */
	uint64_t size;
	int type; /* STT_FUNC, STT_OBJECT, ... */
};

struct elf_segment {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags; /* PF_X, PF_W, PF_R */
};

struct elf_file {
	char *path;
	int fd;
	const void *map; /* whole file, read-only */
	size_t size;
	bool borrowed;	 /* map is the caller's (elf_open_mem): not unmapped at close */
	void *elf;	 /* Elf * (libelf), kept opaque here */
	bool is_dyn;	 /* ET_DYN: PIE executable or shared library */
	bool has_symtab; /* .symtab present (not stripped) */
	bool has_debug;	 /* .debug_info present */
	/*
	 * Why its symbols cannot be read as they should (section headers or a symbol table
	 * outside the file, unreadable names), "" when they can: reports say so once.
	 */
	char sym_why[200];
	/* Symbols from PT_DYNAMIC when no symbol table section can be read (ld.so's view). */
	const void *dsym; /* Elf64_Sym[ndsym], inside map */
	size_t ndsym;
	const char *dstr; /* their names, dstrsz bytes inside map */
	size_t dstrsz;
	uint64_t dev, ino; /* identity of the file, to share it between mappings */
	struct elf_segment *segs;
	size_t nsegs;
	char build_id[41]; /* hex, "" when absent */
	/* Address-sorted function/object symbols, built on first use. */
	struct elf_symbol *by_addr;
	size_t nby_addr;
	bool by_addr_built;
};

/* Open and map path. 0 or -errno; -ENOEXEC when it is not an ELF file. */
int elf_open(const char *path, struct elf_file **out);
/*
 * The same from an ELF image already in memory (tests, fuzzing): data must stay alive,
 * and writable (libdw may decompress sections in place), until elf_close(). No fd.
 */
int elf_open_mem(void *data, size_t size, const char *name, struct elf_file **out);
void elf_close(struct elf_file *f);

/* 0 or -ENOENT. */
int elf_find_section(const struct elf_file *f, const char *name, struct elf_section *s);

/* Exact name in .symtab, then .dynsym. Versioned dynsym names ("malloc@@GLIBC_2.2.5")
 * match their bare name. 0 or -ENOENT. */
int elf_find_symbol(const struct elf_file *f, const char *name, struct elf_symbol *s);

/* Symbol containing link-time addr (functions and objects, .symtab + .dynsym).
 * When no sized symbol contains it, the nearest preceding function is returned with
 * 1 (a guess); 0 for an exact hit, -ENOENT if nothing precedes it. */
int elf_symbol_at(struct elf_file *f, uint64_t addr, struct elf_symbol *s);

/* Link-time address -> offset in the file, for uprobe attachment. 0 or -ENOENT. */
int elf_vaddr_to_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *off);

/* Pointer to len bytes at link-time vaddr inside the file image, or NULL. */
const void *elf_vaddr_ptr(const struct elf_file *f, uint64_t vaddr, size_t len);

/*
 * Load bias of a mapping: the file mapped at start with page offset pgoff.
 * runtime address = link-time address + bias. 0 or -ENOENT.
 */
int elf_load_bias(const struct elf_file *f, uint64_t start, uint64_t pgoff, uint64_t *bias);

#endif
