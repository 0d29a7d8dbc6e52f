// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
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

/* The bytes of segment i as the file holds them (filesz), or NULL. */
static const uint8_t *seg_data(const struct elf_file *f, size_t i, size_t *len)
{
	*len = f->segs[i].filesz;
	return elf_vaddr_ptr(f, f->segs[i].vaddr, *len);
}

/* The version from a .go.buildinfo at p (len bytes from there on). */
static void parse_buildinfo(struct gobin *gb, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t n;
	bool ok;

	if (len < 32 || memcmp(p, buildinfo_magic, sizeof(buildinfo_magic) - 1))
		return;
	/* The pointer size follows: the magic alone is a string any C program may hold
	 * (leakscope's own, NUL-terminated and 16-aligned, read as a Go 1.17 header). */
	if (p[14] != 4 && p[14] != 8)
		return;
	if (!(p[15] & 2)) {
		snprintf(gb->version, sizeof(gb->version), "go1.17-or-older");
		return;
	}
	p += 32;
	n = read_uvarint(&p, end, &ok);
	if (!ok || n == 0 || n >= sizeof(gb->version) || n > (uint64_t)(end - p))
		return;
	memcpy(gb->version, p, n);
	gb->version[n] = 0;
}

/*
 * .go.buildinfo: 14-byte magic, pointer size, flags. Since Go 1.18 (flag bit 1) the
 * version string follows the 32-byte header inline, length-prefixed by a uvarint.
 * Older releases store pointers instead; those runtimes are older than we support.
 */
static void read_version(struct gobin *gb)
{
	struct elf_section s;

	if (!elf_find_section(gb->elf, ".go.buildinfo", &s)) {
		if (s.data) {
			parse_buildinfo(gb, s.data, s.size);
			return;
		}
	} else if (!gb->elf->sym_why[0]) {
		return; /* section headers that can be read, and none: not Go */
	}
	/*
	 * The section outside the file, or section headers that cannot be read: the linker
	 * puts it 16-aligned at the start of a data segment.
	 */
	for (size_t i = 0; i < gb->elf->nsegs && !gb->version[0]; i++) {
		size_t len;
		const uint8_t *p = seg_data(gb->elf, i, &len);

		for (size_t off = 0; p && off + 32 <= len; off += 16)
			if (p[off] == 0xff && !memcmp(p + off, buildinfo_magic, 14)) {
				parse_buildinfo(gb, p + off, len - off);
				gb->from_segments = true;
				break;
			}
	}
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
	/* No sections to go by: the writable segments (moduledata is in .noptrdata). */
	for (size_t i = 0; !n && i < gb->elf->nsegs; i++) {
		size_t len;
		const uint8_t *p = seg_data(gb->elf, i, &len);

		if (p && (gb->elf->segs[i].flags & PF_W) && len)
			r[n++] = (struct gopclntab_region){p, len, gb->elf->segs[i].vaddr};
		if (n == ARRAY_SIZE(names))
			break;
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

		if (elf_find_section(gb->elf, names[i], &pcln))
			continue;
		if (!pcln.data) {
			snprintf(gb->pcln_why, sizeof(gb->pcln_why),
				 "its section %s lies outside the file (%llu bytes at offset %llu, "
				 "the file has %zu)",
				 names[i], (unsigned long long)pcln.size,
				 (unsigned long long)pcln.offset, gb->elf->size);
			continue;
		}
		err = gopclntab_open(&gb->pcln, pcln.data, pcln.size, text_vaddr);
		if (err) {
			snprintf(gb->pcln_why, sizeof(gb->pcln_why),
				 "its section %s is not a Go symbol table leakscope can read (%s)",
				 names[i], strerror(-err));
			return err;
		}
		attach_moduledata(gb, pcln.vaddr);
		gb->wrapper_id = gopclntab_wrapper_id(gb->pcln);
		return 0;
	}
	return -ENOENT;
}

/*
 * The table found in the segments, as the runtime finds it through moduledata: its
 * header (magic, two zero bytes, instruction size, pointer size 8) 8-aligned in a
 * non-executable segment, opened with the rest of the segment as its extent. Go
 * 1.18 and later (older tables are older than leakscope supports).
 */
static int scan_pclntab(struct gobin *gb)
{
	int err = -ENOENT, tries = 0;

	for (size_t i = 0; i < gb->elf->nsegs; i++) {
		size_t len;
		const uint8_t *p = seg_data(gb->elf, i, &len);

		if (!p || (gb->elf->segs[i].flags & PF_X))
			continue;
		for (size_t off = 0; off + 64 <= len; off += 8) {
			const uint8_t *h = p + off;

			if (h[1] != 0xff || h[2] != 0xff || h[3] != 0xff || (h[0] != 0xf0 && h[0] != 0xf1) ||
			    h[4] || h[5] || h[7] != 8)
				continue;
			/* A few candidates at most: each costs a pass over its table. */
			if (++tries > 8)
				return err;
			err = gopclntab_open(&gb->pcln, h, len - off, 0);
			if (err)
				continue;
			gb->from_segments = true;
			attach_moduledata(gb, gb->elf->segs[i].vaddr + off);
			gb->wrapper_id = gopclntab_wrapper_id(gb->pcln);
			return 0;
		}
	}
	return err;
}

static const char *const part_names[] = {"runtime.g", "the heap profile (runtime.bucket)",
					 "runtime.gcControllerState", "runtime.mstats.heapStats"};

/* Apply LEAKSCOPE_TEST_LAYOUT="field=value,...": a layout forced on a release, for tests. */
static void test_override(struct go_offsets *o)
{
	const char *env = getenv("LEAKSCOPE_TEST_LAYOUT");
	char *copy, *tok, *save;

	if (!env)
		return;
	copy = xstrdup(env);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = 0;
		for (size_t i = 0; i < go_offsets_nfields; i++)
			if (!strcmp(go_offsets_fields[i].name, tok))
				*(uint32_t *)((char *)o + go_offsets_fields[i].off) =
					strtoul(eq + 1, NULL, 0);
	}
	free(copy);
	log_warn("LEAKSCOPE_TEST_LAYOUT in effect: %s", env);
}

/*
 * The runtime's layout: the table's row for the release, then the binary's DWARF
 * where it has one, part by part, each part only when it passes the checks (a
 * crafted binary's DWARF must not size leakscope's reads); a part neither gives is
 * taken from the newest row, marked assumed, for the live process to confirm.
 */
static void pick_layout(struct gobin *gb)
{
	const struct go_offsets *row = gb->minor ? go_offsets_for_version(gb->minor) : NULL;
	unsigned row_ok = 0, dwarf_ok = 0;
	char why[160] = "";

	if (row) {
		gb->off = *row;
		row_ok = go_offsets_check(row, NULL, 0);
		gb->offsets_source = "table";
	}
	if (gb->elf->has_debug) {
		struct go_offsets d;
		int n;

		/* All-ones: a field DWARF does not give fails the checks. */
		memset(&d, 0xff, sizeof(d));
		n = go_offsets_from_dwarf(gb->elf->fd, &d);
		if (n > 0)
			dwarf_ok = go_offsets_check(&d, why, sizeof(why));
		for (size_t i = 0; n > 0 && i < go_offsets_nfields; i++) {
			const struct go_offsets_field *f = &go_offsets_fields[i];
			unsigned part = go_offsets_field_part(f);
			uint32_t v = go_offsets_get(&d, f);

			if (part ? (dwarf_ok & part) : v != 0xffffffffu)
				*(uint32_t *)((char *)&gb->off + f->off) = v;
		}
		for (int p = 0; n > 0 && p < 4; p++) {
			if (dwarf_ok & (1u << p))
				continue;
			if (row_ok & (1u << p))
				log_warn("%s: its DWARF describes %s in a way that fails leakscope's "
					 "checks (%s): using leakscope's own go1.%d layout for it",
					 gb->elf->path, part_names[p], why, gb->minor);
			else
				log_warn("%s: its DWARF describes %s in a way that fails leakscope's "
					 "checks (%s): the newest layout leakscope knows is tried on "
					 "the live process instead",
					 gb->elf->path, part_names[p], why);
		}
		if (dwarf_ok)
			gb->offsets_source = row ? "table+DWARF" : "DWARF";
	}
	gb->layout = row_ok | dwarf_ok;
	if (gb->layout == GO_LAYOUT_ALL)
		goto done;
	/* Unknown release: the newest layout we know, for each part nothing else gave. */
	if (!row) {
		const struct go_offsets *newest = go_offsets_newest();

		for (size_t i = 0; i < go_offsets_nfields; i++) {
			const struct go_offsets_field *f = &go_offsets_fields[i];
			unsigned part = go_offsets_field_part(f);

			if (part && !(gb->layout & part))
				*(uint32_t *)((char *)&gb->off + f->off) = go_offsets_get(newest, f);
		}
		gb->assumed = GO_LAYOUT_ALL & ~gb->layout;
		gb->layout = GO_LAYOUT_ALL;
		if (!gb->offsets_source)
			gb->offsets_source = "assumed";
	}
	if (why[0])
		snprintf(gb->layout_why, sizeof(gb->layout_why), "%s", why);
done:
	test_override(&gb->off);
	if (getenv("LEAKSCOPE_TEST_LAYOUT"))
		gb->layout &= go_offsets_check(&gb->off, gb->layout_why, sizeof(gb->layout_why));
	gb->off.go_minor = gb->minor;
}

const char *gobin_layout_desc(const struct gobin *gb, unsigned part, char *buf, size_t len)
{
	const struct go_offsets *newest = go_offsets_newest();

	if (gb->assumed & part)
		snprintf(buf, len, "go1.%d's layout, assumed for %s", newest->go_minor,
			 gb->version[0] ? gb->version : "an unknown Go release");
	else
		snprintf(buf, len, "%s's layout", gb->version[0] ? gb->version : "this Go release's");
	return buf;
}

int gobin_open(struct elf_file *elf, struct gobin **out)
{
	struct gobin *gb = xcalloc(1, sizeof(*gb));

	gb->elf = elf;
	read_version(gb);
	gb->pcln_err = open_pclntab(gb);
	/* Where sections did not lead to a table: a Go binary, or sections that lie. */
	if (gb->pcln_err && (gb->version[0] || gb->elf->sym_why[0]) && !scan_pclntab(gb))
		gb->pcln_err = 0;
	if (gb->pcln_err == -ENOENT && !gb->version[0]) {
		free(gb);
		return -ENOEXEC;
	}
	gb->minor = gobin_parse_minor(gb->version);

	pick_layout(gb);
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
