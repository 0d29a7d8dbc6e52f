/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The files a target maps, each opened once per session and shared by every
 * part of leakscope: its ELF view and, for Go programs, its Go view. Opened
 * through paths that resolve in the target's view (/proc/PID/exe,
 * /proc/PID/map_files/..., /proc/PID/root/...).
 */
#ifndef LEAKSCOPE_TARGET_MODFILE_H
#define LEAKSCOPE_TARGET_MODFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "elf/elffile.h"
#include "golang/gobin.h"

struct modfile {
	uint64_t dev, ino;
	struct elf_file *elf;
	struct gobin *gb; /* when the file is a Go program */
	void *dwarf;	  /* Dwarf * (libdw) for file:line, opened on first use */
	bool dwarf_tried;
	bool warned; /* "cannot read symbols of" said, or left to the caller (the executable) */
};

/* Open (or find already open) the file at path. NULL with *err set on failure. */
struct modfile *modfile_get(const char *path, int *err);

/*
 * Why the symbols of mf cannot be read as they should (damaged or truncated section
 * headers, a symbol table outside the file, a Go table found only in the segments), with
 * what is read instead, into buf; NULL when nothing is wrong.
 */
const char *modfile_problem(const struct modfile *mf, char *buf, size_t len);
/* Once per file: "cannot read symbols of NAME: reason" when modfile_problem() says so. */
void modfile_warn(struct modfile *mf, const char *name);

/*
 * The function containing link-time address addr: its entry, from .gopclntab in a
 * Go file, else from the symbol table when a symbol certainly contains it. 0 or
 * -ENOENT.
 */
int modfile_func_entry(const struct modfile *mf, uint64_t addr, uint64_t *entry);

#endif
