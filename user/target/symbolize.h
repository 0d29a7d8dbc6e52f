/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses in the target -> frames (function, file:line, inlined frames
 * expanded). Which file holds a pc comes from the target's mappings
 * (target/maps.h); Go files are symbolized from .gopclntab, others from ELF
 * symbol tables and DWARF. Each pc is symbolized once per session.
 */
#ifndef LEAKSCOPE_SYMBOLIZE_H
#define LEAKSCOPE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/hashmap.h"

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

struct maps_watch;
struct mapping;

struct symbolizer {
	struct maps_watch *maps; /* the target's mappings: which file holds a pc */
	struct hmap cache;	 /* pc << 1 | is_return -> struct frames */
};

void symbolizer_init(struct symbolizer *sym, struct maps_watch *maps);
void symbolizer_free(struct symbolizer *sym);

/*
 * Frames for one pc, innermost first. is_return: pc is a return address, so the
 * call instruction (pc - 1) is what gets symbolized. Never NULL.
 */
const struct frames *symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return);

/* The file mapped at pc, as last seen (for profiles): false when none. */
struct module_info {
	uint64_t start, end, pgoff; /* the executable mapping */
	const char *path;	    /* the file as the target names it, interned */
	const char *build_id;	    /* hex, "" when the file has none */
};
bool symbolizer_module_info(struct symbolizer *sym, uint64_t pc, struct module_info *out);

/* The mapping that holds pc, re-reading the maps once if needed. NULL if none. */
const struct mapping *symbolizer_module(struct symbolizer *sym, uint64_t pc);

#endif
