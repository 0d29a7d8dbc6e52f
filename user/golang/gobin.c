// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <string.h>

#include "elf/disasm.h"
#include "golang/gobin.h"
#include "lib/util.h"

static const char buildinfo_magic[] = "\xff Go buildinf:";

static uint64_t read_uvarint(const uint8_t **p, const uint8_t *end, bool *ok)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ok = true;
			return v;
		}
	}
	*ok = false;
	return 0;
}

/*
 * .go.buildinfo: 14-byte magic, pointer size, flags. Since Go 1.18 (flag bit 1) the
 * version string follows the 32-byte header inline, length-prefixed by a uvarint.
 * Older releases store pointers instead; those runtimes are older than we support.
 */
static void read_version(struct gobin *gb)
{
	struct elf_section s;
	const uint8_t *p, *end;
	uint64_t n;
	bool ok;

	if (elf_find_section(gb->elf, ".go.buildinfo", &s) || !s.data || s.size < 32)
		return;
	p = s.data;
	end = p + s.size;
	if (memcmp(p, buildinfo_magic, sizeof(buildinfo_magic) - 1))
		return;
	if (!(p[15] & 2)) {
		snprintf(gb->version, sizeof(gb->version), "go1.17-or-older");
		return;
	}
	p += 32;
	n = read_uvarint(&p, end, &ok);
	if (!ok || n == 0 || n >= sizeof(gb->version) || p + n > end)
		return;
	memcpy(gb->version, p, n);
	gb->version[n] = 0;
}

int gobin_parse_minor(const char *v)
{
	int major, minor;

	if (sscanf(v, "go%d.%d", &major, &minor) != 2 || major != 1)
		return 0;
	return minor;
}

/*
 * Go 1.18-1.25 keep inline trees outside .gopclntab, where only the runtime's
 * moduledata points; it also holds the real start of Go code when the table's
 * header does not. Without it inlined frames collapse into their caller.
 */
static void attach_moduledata(struct gobin *gb, uint64_t pcln_vaddr)
{
	static const char *const names[] = {".go.module", ".noptrdata", ".data.rel.ro", ".data",
					    ".rodata"};
	struct gopclntab_region r[ARRAY_SIZE(names)];
	size_t n = 0;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct elf_section s;

		if (elf_find_section(gb->elf, names[i], &s) || !s.data)
			continue;
		r[n++] = (struct gopclntab_region){s.data, s.size, s.vaddr};
	}
	err = gopclntab_attach_moduledata(gb->pcln, r, n, pcln_vaddr);
	if (err && !gopclntab_has_inline(gb->pcln))
		log_debug("%s: Go moduledata not found (%s): inlined frames not expanded",
			  gb->elf->path, strerror(-err));
}

static int open_pclntab(struct gobin *gb)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	struct elf_section pcln, text;
	uint64_t text_vaddr = 0;

	if (!elf_find_section(gb->elf, ".text", &text))
		text_vaddr = text.vaddr;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int err;

		if (elf_find_section(gb->elf, names[i], &pcln) || !pcln.data)
			continue;
		err = gopclntab_open(&gb->pcln, pcln.data, pcln.size, text_vaddr);
		if (err)
			return err;
		attach_moduledata(gb, pcln.vaddr);
		gb->wrapper_id = gopclntab_wrapper_id(gb->pcln);
		return 0;
	}
	return -ENOENT;
}

int gobin_open(struct elf_file *elf, struct gobin **out)
{
	struct gobin *gb = xcalloc(1, sizeof(*gb));
	const struct go_offsets *row;

	gb->elf = elf;
	read_version(gb);
	gb->pcln_err = open_pclntab(gb);
	if (gb->pcln_err == -ENOENT && !gb->version[0]) {
		free(gb);
		return -ENOEXEC;
	}
	gb->minor = gobin_parse_minor(gb->version);

	/* The table row is the base; DWARF, when the binary has it, is the truth. */
	row = gb->minor ? go_offsets_for_version(gb->minor) : NULL;
	if (row) {
		gb->off = *row;
		gb->have_offsets = true;
		gb->offsets_source = "table";
	}
	if (elf->has_debug) {
		struct go_offsets d = gb->off;
		int n = go_offsets_from_dwarf(elf->fd, &d);

		if (n > 0) {
			gb->off = d;
			gb->off.go_minor = gb->minor;
			gb->have_offsets = true;
			gb->offsets_source = row ? "table+DWARF" : "DWARF";
		}
	}
	*out = gb;
	return 0;
}

void gobin_close(struct gobin *gb)
{
	if (!gb)
		return;
	gopclntab_close(gb->pcln);
	free(gb);
}

int gobin_func(const struct gobin *gb, const char *name, struct gofunc *f)
{
	if (!gb->pcln)
		return -ENOENT;
	return gopclntab_func_by_name(gb->pcln, name, f);
}

const void *gobin_code(const struct gobin *gb, const struct gofunc *f, size_t *len)
{
	*len = f->end - f->entry;
	return elf_vaddr_ptr(gb->elf, f->entry, *len);
}

int gobin_data_symbol(const struct gobin *gb, const char *name, uint64_t *addr)
{
	struct elf_symbol s;

	if (elf_find_symbol(gb->elf, name, &s))
		return -ENOENT;
	*addr = s.addr;
	return 0;
}

struct wrap_query {
	const struct gobin *gb;
	const char *found;
};

static int first_user_call(const struct insn *in, void *ctx)
{
	struct wrap_query *q = ctx;
	struct gofunc f;

	if (!in->is_call || !in->branch_target)
		return 0;
	if (gopclntab_func_at(q->gb->pcln, in->branch_target, &f) || f.entry != in->branch_target)
		return 0;
	if (!strncmp(f.name, "runtime.", 8))
		return 0; /* morestack, write barriers, panics */
	q->found = f.name;
	return 1;
}

bool gobin_is_wrapper(const struct gobin *gb, uint64_t entry)
{
	struct gofunc f;

	if (!gb->pcln || gb->wrapper_id < 0 || gopclntab_func_at(gb->pcln, entry, &f))
		return false;
	return gopclntab_func_id(gb->pcln, f.index) == gb->wrapper_id;
}

const char *gobin_gowrap_target(const struct gobin *gb, uint64_t entry)
{
	struct wrap_query q = {.gb = gb};
	struct gofunc f;
	const void *code;
	size_t len;

	if (!gb->pcln || gopclntab_func_at(gb->pcln, entry, &f) ||
	    (!strstr(f.name, ".gowrap") && !gobin_is_wrapper(gb, entry)))
		return NULL;
	code = gobin_code(gb, &f, &len);
	if (code)
		disasm_each(code, len, f.entry, first_user_call, &q);
	return q.found;
}
