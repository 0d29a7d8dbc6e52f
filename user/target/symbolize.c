// SPDX-License-Identifier: GPL-2.0
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "target/proc.h"
#include "report/series.h"
#include "target/symbolize.h"
#include "lib/util.h"

static struct modfile *modfiles;

struct modfile *modfile_get(const char *path, int *err)
{
	struct modfile *mf;
	struct stat st;

	if (stat(path, &st) < 0) {
		*err = -errno;
		return NULL;
	}
	for (mf = modfiles; mf; mf = mf->next)
		if (mf->dev == st.st_dev && mf->ino == st.st_ino)
			return mf;
	mf = xcalloc(1, sizeof(*mf));
	*err = elf_open(path, &mf->elf);
	if (*err) {
		free(mf);
		return NULL;
	}
	mf->dev = mf->elf->dev;
	mf->ino = mf->elf->ino;
	if (gobin_open(mf->elf, &mf->gb))
		mf->gb = NULL;
	mf->next = modfiles;
	modfiles = mf;
	return mf;
}

int module_bias(pid_t pid, const struct modfile *mf, uint64_t *bias)
{
	struct proc_maps maps;
	int err = -ENOENT;

	if (proc_maps_read(pid, &maps))
		return -ESRCH;
	for (size_t i = 0; i < maps.n && err; i++) {
		const struct proc_map *m = &maps.v[i];

		/* Executable mappings only: a read-only mapping of the same file may be
		 * anyone's mmap (ours, inherited by a launched child before exec). */
		if (m->inode != mf->ino || !m->path[0] || m->perms[2] != 'x')
			continue;
		err = elf_load_bias(mf->elf, m->start, m->pgoff, bias);
	}
	proc_maps_free(&maps);
	return err;
}

struct cache_entry {
	uint64_t key; /* pc << 1 | is_return; 0 = empty */
	struct frames fr;
};

void symbolizer_init(struct symbolizer *sym, pid_t pid)
{
	memset(sym, 0, sizeof(*sym));
	sym->pid = pid;
	sym->cache_cap = 4096;
	sym->cache = xcalloc(sym->cache_cap, sizeof(struct cache_entry));
}

static void free_mods(struct symbolizer *sym)
{
	free(sym->mods);
	sym->mods = NULL;
	sym->nmods = 0;
}

void symbolizer_free(struct symbolizer *sym)
{
	struct cache_entry *c = sym->cache;

	for (size_t i = 0; i < sym->cache_cap; i++)
		free(c[i].fr.v);
	free(sym->cache);
	free_mods(sym);
}

int symbolizer_refresh(struct symbolizer *sym)
{
	struct proc_maps maps;
	int err = proc_maps_read(sym->pid, &maps);

	if (err)
		return err;
	free_mods(sym);
	sym->mods = xcalloc(maps.n ? maps.n : 1, sizeof(*sym->mods));
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_map *m = &maps.v[i];
		struct module *mod;
		const char *base;
		char *path;
		int e;

		if (m->perms[2] != 'x')
			continue;
		mod = &sym->mods[sym->nmods++];
		mod->start = m->start;
		mod->end = m->end;
		mod->pgoff = m->pgoff;
		base = strrchr(m->path, '/');
		mod->name = intern(base ? base + 1 : m->path);
		if (m->path[0] != '/')
			continue; /* [vdso], anonymous JIT code */
		path = proc_map_open_path(sym->pid, m);
		mod->mf = modfile_get(path, &e);
		if (!mod->mf)
			log_debug("cannot open %s (%s): its frames stay unresolved", path, strerror(-e));
		free(path);
		if (mod->mf)
			mod->bias_ok = !elf_load_bias(mod->mf->elf, m->start, m->pgoff, &mod->bias);
	}
	proc_maps_free(&maps);
	sym->last_refresh_ns = now_ns();
	return 0;
}

static const struct module *find_module(const struct symbolizer *sym, uint64_t pc)
{
	for (size_t i = 0; i < sym->nmods; i++)
		if (pc >= sym->mods[i].start && pc < sym->mods[i].end)
			return &sym->mods[i];
	return NULL;
}

const struct module *symbolizer_module(struct symbolizer *sym, uint64_t pc)
{
	const struct module *m = find_module(sym, pc);

	/* A library loaded since the last look: re-read the maps, at most once a second. */
	if (!m && now_ns() - sym->last_refresh_ns > 1000000000ull) {
		symbolizer_refresh(sym);
		m = find_module(sym, pc);
	}
	return m;
}

static void push(struct frames *fr, const struct frame *f)
{
	fr->v = xrealloc(fr->v, (fr->n + 1) * sizeof(*fr->v));
	fr->v[fr->n++] = *f;
}

static void symbolize_go(const struct module *m, uint64_t lookup, struct frame *base,
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

static void symbolize_elf(const struct module *m, uint64_t lookup, struct frame *base,
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
	const struct module *m = symbolizer_module(sym, pc);
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

static void cache_grow(struct symbolizer *sym)
{
	struct cache_entry *old = sym->cache;
	size_t oldcap = sym->cache_cap;

	sym->cache_cap *= 2;
	sym->cache = xcalloc(sym->cache_cap, sizeof(struct cache_entry));
	for (size_t i = 0; i < oldcap; i++) {
		struct cache_entry *c = sym->cache;
		size_t k;

		if (!old[i].key)
			continue;
		for (k = old[i].key * 0x9e3779b97f4a7c15ull >> 20; c[k & (sym->cache_cap - 1)].key;
		     k++)
			;
		c[k & (sym->cache_cap - 1)] = old[i];
	}
	free(old);
}

const struct frames *symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return)
{
	uint64_t key = pc << 1 | is_return;
	struct cache_entry *c;
	size_t k;

	if (!key)
		key = 2; /* pc 0 as an instruction address; never a real lookup */
	if (2 * (sym->cache_n + 1) > sym->cache_cap)
		cache_grow(sym);
	c = sym->cache;
	for (k = key * 0x9e3779b97f4a7c15ull >> 20;; k++) {
		struct cache_entry *e = &c[k & (sym->cache_cap - 1)];

		if (e->key == key)
			return &e->fr;
		if (!e->key) {
			e->key = key;
			resolve(sym, pc, is_return, &e->fr);
			sym->cache_n++;
			return &e->fr;
		}
	}
}
