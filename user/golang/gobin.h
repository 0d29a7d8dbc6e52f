/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What leakscope knows about a Go executable from its file alone: the Go
 * version (build info), the function table (.gopclntab, present even in
 * stripped binaries), runtime struct offsets (DWARF when present, else the
 * per-version table) and whether the linker left heap profiling on.
 */
#ifndef LEAKSCOPE_GOBIN_H
#define LEAKSCOPE_GOBIN_H

#include <stdbool.h>
#include <stdint.h>

#include "elf/elffile.h"
#include "golang/offsets.h"
#include "golang/pclntab.h"

/* Oldest Go release whose runtime leakscope knows (register ABI, offsets table). */
#define GO_MIN_MINOR 19

struct gobin {
	struct elf_file *elf; /* not owned */
	struct gopclntab *pcln;
	char version[48]; /* "go1.26.8", "" if unknown */
	int minor;	  /* 26 for go1.26.8; 0 if unknown */
	struct go_offsets off;
	unsigned layout;  /* enum go_layout_part: the parts of off that passed the checks */
	unsigned assumed; /* parts taken from another release's row: only a check of the live
			   * process can vouch for them */
	const char *offsets_source; /* "DWARF", "table", "table+DWARF", "assumed" */
	char layout_why[160];	    /* why a part failed its checks, "" if none did */
	int pcln_err;		    /* why pcln is NULL */
	char pcln_why[160];	    /* what is wrong with the .gopclntab section, "" if nothing */
	/*
	 * The section headers did not lead to the version or the table, and they were
	 * found in the segments instead (truncated or damaged section headers, sstrip).
	 */
	bool from_segments;
	int wrapper_id;		    /* funcID of compiler-generated wrappers, -1 unknown */
};

/*
 * Inspect a Go executable. Returns 0, or -ENOEXEC when it is not a Go program
 * (no .gopclntab and no Go build info).
 */
int gobin_open(struct elf_file *elf, struct gobin **out);

/*
 * Whose layout a part is, as users should read it: "go1.27.3's layout" (known or
 * from DWARF), or "go1.27's layout, assumed for go1.28.0".
 */
const char *gobin_layout_desc(const struct gobin *gb, unsigned part, char *buf, size_t len);
void gobin_close(struct gobin *gb);

/* A runtime function by exact name (from .gopclntab). 0 or -ENOENT. */
int gobin_func(const struct gobin *gb, const char *name, struct gofunc *f);

/* The bytes of f from the file; *len set to its size. NULL if unavailable. */
const void *gobin_code(const struct gobin *gb, const struct gofunc *f, size_t *len);

/* A data symbol's link-time address from .symtab (absent in stripped binaries). 0 or -ENOENT. */
int gobin_data_symbol(const struct gobin *gb, const char *name, uint64_t *addr);

/* Whether the function at link-time entry is compiler-generated glue. */
bool gobin_is_wrapper(const struct gobin *gb, uint64_t entry);

/*
 * `go f(x)` starts a compiler-made wrapper that calls f(x): pkg.caller.gowrapN
 * since Go 1.21, a closure marked as wrapper (pkg.caller.funcN) before. For such
 * a wrapper at link-time entry, the function it wraps (its first direct call
 * outside the runtime); NULL otherwise.
 */
const char *gobin_gowrap_target(const struct gobin *gb, uint64_t entry);

/* "go1.26.8" -> 26; 0 when not a go1.N version. */
int gobin_parse_minor(const char *version);

#endif
