// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/intern.h"
#include "lib/util.h"
#include "elf/elffile.h"
#include "target/maps.h"
#include "target/symbolize.h"

void symbolizer_init(struct symbolizer *sym, struct maps_watch *maps)
{
	memset(sym, 0, sizeof(*sym));
	sym->maps = maps;
	hmap_init(&sym->cache, sizeof(uint64_t), sizeof(struct frames));
}

void symbolizer_free(struct symbolizer *sym)
{
	struct frames *fr;

	for (size_t it = 0; hmap_next(&sym->cache, &it, NULL, (void **)&fr);)
		free(fr->v);
	hmap_free(&sym->cache);
}

const struct mapping *symbolizer_module(struct symbolizer *sym, uint64_t pc)
{
	const struct mapping *m = maps_watch_find(sym->maps, pc);

	/* A library loaded since the last look: re-read the maps, at most once a second. */
	if (!m && now_ns() - sym->maps->last_ns > 1000000000ull) {
		maps_watch_refresh(sym->maps);
		m = maps_watch_find(sym->maps, pc);
	}
	return m;
}

bool symbolizer_module_info(struct symbolizer *sym, uint64_t pc, struct module_info *out)
{
	const struct mapping *m = maps_watch_find(sym->maps, pc);

	if (!m)
		return false;
	out->start = m->start;
	out->end = m->end;
	out->pgoff = m->pgoff;
	out->build_id = m->mf ? m->mf->elf->build_id : "";
	/* The path the target maps, not /proc/PID/map_files/... we opened it by. */
	out->path = m->path && m->path[0] ? m->path : m->name;
	return true;
}

static void push(struct frames *fr, const struct frame *f)
{
	fr->v = xrealloc(fr->v, (fr->n + 1) * sizeof(*fr->v));
	fr->v[fr->n++] = *f;
}

static void symbolize_go(const struct mapping *m, uint64_t lookup, struct frame *base,
			 struct frames *fr)
{
	struct goframe gf[16];
	int n = gopclntab_frames(m->mf->gb->pcln, lookup - m->bias, gf, ARRAY_SIZE(gf));

	for (int i = 0; i < n; i++) {
		struct frame f = *base;

		f.func = gf[i].func;
		f.file = gf[i].file && strcmp(gf[i].file, "?") ? gf[i].file : NULL;
		f.line = gf[i].line;
		f.inlined = gf[i].inlined;
		f.wrapper = !f.inlined && gobin_is_wrapper(m->mf->gb, gf[i].entry);
		f.call_pc = gf[i].call_pc ? gf[i].call_pc + m->bias : 0;
		push(fr, &f);
	}
}

/* From libstdc++ (linked in): the C++ ABI's demangler. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/*
 * A symbol name as people write it: C++ (and Rust's legacy scheme, which uses the
 * same mangling) demangled, Rust's trailing ::h<16 hex digits> hash dropped.
 */
static const char *display_name(const char *name)
{
	const char *out = name;
	char *d = NULL;
	int status = -1;

	if (!strncmp(name, "_Z", 2)) {
		d = __cxa_demangle(name, NULL, NULL, &status);
		if (status == 0 && d) {
			size_t n = strlen(d);

			if (n > 19 && !strncmp(d + n - 19, "::h", 3) &&
			    strspn(d + n - 16, "0123456789abcdef") == 16)
				d[n - 19] = 0;
			out = d;
		}
	}
	out = intern(out);
	free(d);
	return out;
}

static Dwarf *module_dwarf(struct modfile *mf)
{
	if (!mf->dwarf_tried) {
		mf->dwarf_tried = true;
		if (mf->elf->has_debug)
			mf->dwarf = dwarf_begin_elf(mf->elf->elf, DWARF_C_READ, NULL);
	}
	return mf->dwarf;
}

/* The name of a function DIE (or of what it was inlined from), demangled. */
static const char *die_func_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return n ? display_name(n) : NULL;
}

/*
 * file:line of addr from DWARF line tables, with the functions inlined there
 * expanded, innermost first, as frames added to fr; the physical function keeps
 * the symbol table's name (physname). Nothing is added when the module has no
 * DWARF for addr.
 */
static void dwarf_frames(struct modfile *mf, uint64_t addr, const char *physname,
			 struct frame *base, struct frames *fr)
{
	Dwarf *dw = module_dwarf(mf);
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Files *files = NULL;
	Dwarf_Line *line;
	const char *file;
	int nscopes, lineno = 0;
	struct frame f = *base;

	if (!dw || !dwarf_addrdie(dw, addr, &cu))
		return;
	line = dwarf_getsrc_die(&cu, addr);
	file = line ? dwarf_linesrc(line, NULL, NULL) : NULL;
	if (line)
		dwarf_lineno(line, &lineno);
	f.file = file ? intern(file) : NULL;
	f.line = lineno;
	nscopes = dwarf_getscopes(&cu, addr, &scopes);
	dwarf_getsrcfiles(&cu, &files, NULL);
	for (int i = 0; i < nscopes; i++) {
		Dwarf_Attribute a;
		Dwarf_Word cfile = 0, cline = 0;

		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram && !physname)
			physname = die_func_name(&scopes[i]);
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		/* Inlined here: its own name, then the line it was called from, one level out. */
		f.func = die_func_name(&scopes[i]);
		f.inlined = true;
		push(fr, &f);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cfile);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cline);
		file = files ? dwarf_filesrc(files, cfile, NULL, NULL) : NULL;
		f.file = file ? intern(file) : NULL;
		f.line = cline;
	}
	free(scopes);
	f.func = physname;
	f.inlined = false;
	push(fr, &f);
}

static void symbolize_elf(const struct mapping *m, uint64_t lookup, struct frame *base,
			  struct frames *fr)
{
	struct elf_symbol s = {0};
	struct frame f = *base;
	int r = elf_symbol_at(m->mf->elf, lookup - m->bias, &s);

	/*
	 * The nearest symbol below is only a guess when nothing contains the address; a
	 * symbol whose size ends before it is certainly not the function (a stripped
	 * library's static functions lie between its exported ones): module+offset then.
	 */
	if (s.type == STT_FUNC && (r == 0 || (r == 1 && !s.size)))
		f.func = display_name(s.name);
	dwarf_frames(m->mf, lookup - m->bias, f.func, &f, fr);
	if (!fr->n)
		push(fr, &f);
}

static void resolve(struct symbolizer *sym, uint64_t pc, bool is_return, struct frames *fr)
{
	const struct mapping *m = symbolizer_module(sym, pc);
	uint64_t lookup = is_return ? pc - 1 : pc;
	struct frame base = {.pc = pc, .module = ""};

	if (m) {
		base.module = m->name;
		base.module_off = pc - m->start + m->pgoff;
	}
	if (m && m->mf && m->bias_ok) {
		if (m->mf->gb && m->mf->gb->pcln)
			symbolize_go(m, lookup, &base, fr);
		if (!fr->n)
			symbolize_elf(m, lookup, &base, fr);
	}
	if (!fr->n)
		push(fr, &base);
}

const struct frames *symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return)
{
	uint64_t key = pc << 1 | is_return;
	struct frames *fr;
	bool created;

	fr = hmap_put(&sym->cache, &key, &created);
	if (created)
		resolve(sym, pc, is_return, fr);
	return fr;
}
