/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Go runtime's own symbol table (.gopclntab), read from the bytes of the
 * section: function ranges and names, file:line of any pc, and the frames of
 * inlined calls. Go 1.18 and later; the table survives -ldflags='-s -w', so
 * this works on stripped binaries too. All addresses are link-time addresses.
 *
 * Inline trees are funcdata, which Go 1.26+ keeps inside .gopclntab but Go
 * 1.18-1.25 keep in go:func.* in .rodata: for those, call
 * gopclntab_attach_moduledata() (or gopclntab_set_gofunc()) after opening, or
 * inlined frames collapse into the physical function.
 *
 * Not thread-safe: gopclntab_func_by_name() builds its index on first use.
 */
#ifndef LEAKSCOPE_GOPCLNTAB_H
#define LEAKSCOPE_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gopclntab; /* opaque */

/*
 * data/size: the bytes of the .gopclntab section (the caller keeps them
 * alive, e.g. an mmap of the file). text_vaddr: link-time address of the ELF
 * .text section, used when the header's textStart is 0 (Go 1.26+ never
 * stores it). Returns 0 or -errno (-EINVAL corrupt, -ENOTSUP unknown or
 * pre-1.18 magic). Never reads outside data on corrupt or truncated input.
 */
int gopclntab_open(struct gopclntab **out, const void *data, size_t size, uint64_t text_vaddr);
void gopclntab_close(struct gopclntab *t);
int gopclntab_go_min_version(const struct gopclntab *t);  /* 118 or 120, from the magic */
uint64_t gopclntab_text_start(const struct gopclntab *t); /* link-time text start used */
size_t gopclntab_nfunc(const struct gopclntab *t);

/* A piece of the file image at a link-time address, e.g. one ELF section. */
struct gopclntab_region {
	const void *data;
	size_t size;
	uint64_t vaddr;
};

/*
 * Finds the runtime's moduledata (runtime.firstmoduledata) in one of regions
 * (pass .go.module, .noptrdata, .data.rel.ro, .data and .rodata; order does
 * not matter) by its pointers to this table, whose link-time address is
 * pcln_vaddr. From it takes the base of the funcdata (go:func.*), used if a
 * region covers it, and runtime.text when the header had no textStart.
 * Works on stripped and PIE binaries (the linker writes link-time values into
 * the file even where a dynamic relocation also applies).
 * Returns 0, -ENOENT if no moduledata matches, -ERANGE if go:func.* is in no
 * region.
 */
int gopclntab_attach_moduledata(struct gopclntab *t, const struct gopclntab_region *regions,
				size_t nregions, uint64_t pcln_vaddr);

/*
 * The funcdata base directly (the bytes at symbol go:func.*, or go.func.* in
 * Go 1.18-1.19, up to the end of their section), e.g. from .symtab.
 */
void gopclntab_set_gofunc(struct gopclntab *t, const void *data, size_t size);

/* funcID of function i (0 = normal in every release), -1 if unreadable. */
int gopclntab_func_id(const struct gopclntab *t, uint32_t index);

/*
 * The funcID that marks compiler-generated wrappers (go statement wrappers,
 * method value and ABI wrappers). Its number changes between releases; in all
 * of them it is the one after runtime.systemstack_switch's. -1 if unknown.
 */
int gopclntab_wrapper_id(const struct gopclntab *t);

/* Whether inline trees can be read (funcdata located). */
bool gopclntab_has_inline(const struct gopclntab *t);

struct gofunc {
	uint64_t entry;	  /* link-time address */
	uint64_t end;	  /* entry of the next function (or end of text) */
	const char *name; /* points into the table data; "?" if corrupt */
	uint32_t index;	  /* index in the function table */
};

/* Function containing link-time pc. 0 or -ENOENT. Binary search. */
int gopclntab_func_at(const struct gopclntab *t, uint64_t pc, struct gofunc *f);
/* Function by i (0 <= i < nfunc). 0 or -ENOENT. */
int gopclntab_func_by_index(const struct gopclntab *t, size_t i, struct gofunc *f);
/*
 * Function by exact name as stored, e.g. "runtime.newproc1" or
 * "runtime.(*gcControllerState).resetLive"; generic instances are stored with
 * their shape ("pkg.F[go.shape.int]"), which the runtime prints as
 * "pkg.F[...]". The first function of a duplicated name wins. Builds a hash
 * index on first call. 0 or -ENOENT.
 */
int gopclntab_func_by_name(const struct gopclntab *t, const char *name, struct gofunc *f);

struct goframe {
	const char *func; /* function name (for inlined frames: the inlined callee's name) */
	const char *file; /* source file path, points into table data; "?" if unknown */
	int line;	  /* 0 if unknown */
	int inlined;	  /* 1 if this frame was inlined into the next (outer) one */
	uint64_t entry;	  /* entry of the physical function containing pc */
	uint64_t call_pc; /* inlined frames: pc of the inlined call in the next frame out */
};

/*
 * Expand link-time pc into frames, innermost (deepest inlined callee) first,
 * the physical function last. Returns the number of frames written (1..max),
 * -ENOENT if pc is in no function, -EINVAL if max < 1. When the inline depth
 * exceeds max, the outermost inlined frames are dropped so that the physical
 * function stays last. Callers pass pc-1 for return addresses; this function
 * does no adjustment.
 */
int gopclntab_frames(const struct gopclntab *t, uint64_t pc, struct goframe *frames, int max);

#endif
