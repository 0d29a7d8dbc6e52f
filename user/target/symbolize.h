/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses in the target -> frames (function, file:line, inlined frames
 * expanded). Modules come from the target's /proc/PID/maps and are opened
 * through its own filesystem view; Go modules are symbolized from .gopclntab,
 * others from ELF symbol tables. Each pc is symbolized once per session.
 */
#ifndef LEAKSCOPE_SYMBOLIZE_H
#define LEAKSCOPE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "elf/elffile.h"
#include "golang/gobin.h"

struct frame {
	const char *func; /* NULL when unresolved: print module+offset */
	const char *file; /* NULL when unknown */
	int line;
	bool inlined; /* inlined into the next frame */
	bool wrapper; /* compiler-generated glue (Go), left out of displayed stacks */
	uint64_t call_pc; /* inlined Go frames: runtime pc of the call in the next frame out */
	const char *module; /* basename of the mapped file, "" if none */
	uint64_t module_off; /* pc - mapping start + file offset */
	uint64_t pc;
};

struct frames {
	int n;
	struct frame *v;
};

/* A file the target maps, opened once per session, shared by everyone. */
struct modfile {
	uint64_t dev, ino;
	struct elf_file *elf;
	struct gobin *gb; /* when the file is a Go program */
	void *dwarf;	  /* Dwarf * (libdw) for file:line, opened on first use */
	bool dwarf_tried;
	struct modfile *next;
};

/*
 * Open (or find already open) the file at path, which must resolve in the target's view
 * (/proc/PID/exe, /proc/PID/map_files/...). NULL with *err set on failure.
 */
struct modfile *modfile_get(const char *path, int *err);

struct module {
	uint64_t start, end; /* executable mapping */
	uint64_t pgoff;
	uint64_t bias;
	bool bias_ok;
	struct modfile *mf; /* NULL when the file cannot be opened */
	const char *name;   /* interned: frames keep it after the maps are re-read */
};

struct symbolizer {
	pid_t pid;
	struct module *mods;
	size_t nmods;
	uint64_t last_refresh_ns;
	void *cache; /* pc -> frames */
	size_t cache_n, cache_cap;
};

void symbolizer_init(struct symbolizer *sym, pid_t pid);
void symbolizer_free(struct symbolizer *sym);
/* Re-read the target's maps (new libraries). */
int symbolizer_refresh(struct symbolizer *sym);

/*
 * Frames for one pc, innermost first. is_return: pc is a return address, so the
 * call instruction (pc - 1) is what gets symbolized. Never NULL.
 */
const struct frames *symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return);

/* The module that maps pc, refreshing the map once if needed. NULL if none. */
const struct module *symbolizer_module(struct symbolizer *sym, uint64_t pc);

/* Runtime load bias of the file mapped by pid (identified by dev/ino). 0 or -ENOENT. */
int module_bias(pid_t pid, const struct modfile *mf, uint64_t *bias);

#endif
