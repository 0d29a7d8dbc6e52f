// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/elffile.h"
#include "lib/util.h"

static void read_build_id(struct elf_file *f)
{
	Elf *e = f->elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + noff, "GNU", 4) || nh.n_descsz > 20)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(f->build_id + 2 * i, "%02x",
					((unsigned char *)d->d_buf)[doff + i]);
			return;
		}
	}
}

/* Bytes [off, off+len) of the file, or NULL when they are not all in it. */
static const void *file_range(const struct elf_file *f, uint64_t off, uint64_t len)
{
	if (off > f->size || len > f->size - off)
		return NULL;
	return (const char *)f->map + off;
}

/* The 4-byte word at link-time vaddr (any alignment: a crafted file's). */
static bool rd_u32(const struct elf_file *f, uint64_t vaddr, uint32_t *v)
{
	const void *p = elf_vaddr_ptr(f, vaddr, 4);

	if (!p)
		return false;
	memcpy(v, p, 4);
	return true;
}

/*
 * The symbol count of a GNU hash table (DT_GNU_HASH at vaddr): one past the highest
 * index a bucket's chain reaches, as ld.so walks it. 0 when any of it is outside the file.
 */
static size_t gnu_hash_count(const struct elf_file *f, uint64_t vaddr)
{
	uint32_t nbuckets, symoff, nbloom, b, c, last = 0;
	uint64_t buckets, chain;

	if (!rd_u32(f, vaddr, &nbuckets) || !rd_u32(f, vaddr + 4, &symoff) ||
	    !rd_u32(f, vaddr + 8, &nbloom) || !nbuckets || nbuckets > (1u << 24) ||
	    nbloom > (1u << 24))
		return 0;
	buckets = vaddr + 16 + 8ull * nbloom;
	chain = buckets + 4ull * nbuckets;
	if (!elf_vaddr_ptr(f, buckets, 4ull * nbuckets))
		return 0;
	for (uint32_t i = 0; i < nbuckets; i++)
		if (rd_u32(f, buckets + 4ull * i, &b) && b > last)
			last = b;
	if (last < symoff)
		return symoff;
	/* Walk the last chain to its end bit, within the file and a sane bound. */
	for (uint64_t i = last; i - symoff < (1u << 24); i++) {
		if (!rd_u32(f, chain + 4 * (i - symoff), &c))
			return 0;
		if (c & 1)
			return i + 1;
	}
	return 0;
}

/*
 * The dynamic symbols as the dynamic linker finds them, from PT_DYNAMIC (DT_SYMTAB,
 * DT_STRTAB, DT_STRSZ, and DT_HASH or DT_GNU_HASH for their count): what is left to
 * read when the section headers are gone (truncated, sstrip) or point outside the file.
 */
static void read_dynamic_symbols(struct elf_file *f)
{
	uint64_t symtab = 0, strtab = 0, strsz = 0, syment = sizeof(Elf64_Sym), hash = 0,
		 gnuhash = 0, n = 0;
	GElf_Phdr ph;
	size_t nph;

	if (elf_getphdrnum(f->elf, &nph))
		return;
	for (size_t i = 0; i < nph; i++) {
		const Elf64_Dyn *d;
		size_t nd;

		if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_DYNAMIC)
			continue;
		d = file_range(f, ph.p_offset, ph.p_filesz);
		if (!d || (uintptr_t)d % _Alignof(Elf64_Dyn))
			return;
		nd = ph.p_filesz / sizeof(*d);
		for (size_t k = 0; k < nd && d[k].d_tag != DT_NULL; k++) {
			switch (d[k].d_tag) {
			case DT_SYMTAB: symtab = d[k].d_un.d_ptr; break;
			case DT_STRTAB: strtab = d[k].d_un.d_ptr; break;
			case DT_STRSZ: strsz = d[k].d_un.d_val; break;
			case DT_SYMENT: syment = d[k].d_un.d_val; break;
			case DT_HASH: hash = d[k].d_un.d_ptr; break;
			case DT_GNU_HASH: gnuhash = d[k].d_un.d_ptr; break;
			}
		}
		break;
	}
	if (!symtab || !strtab || !strsz || syment != sizeof(Elf64_Sym))
		return;
	if (hash) {
		uint32_t nchain;

		n = rd_u32(f, hash + 4, &nchain) ? nchain : 0;
	}
	if (!n && gnuhash)
		n = gnu_hash_count(f, gnuhash);
	f->dstr = elf_vaddr_ptr(f, strtab, strsz);
	/* As many as the file holds, when the count overshoots. */
	while (n && !elf_vaddr_ptr(f, symtab, n * sizeof(Elf64_Sym)))
		n /= 2;
	if (!n || !f->dstr || n > (1u << 24))
		return;
	f->dsym = elf_vaddr_ptr(f, symtab, n * sizeof(Elf64_Sym));
	f->ndsym = n;
	f->dstrsz = strsz;
}

/*
 * Whether the symbols can be read through the section headers: the header table and
 * the names of the sections inside the file, every symbol table and its names too.
 * The first thing wrong goes into f->sym_why; 1 when some symbol table is readable.
 */
static int check_symbols(struct elf_file *f, const GElf_Ehdr *eh)
{
	Elf_Scn *scn = NULL;
	size_t shnum = 0, shstrndx;
	GElf_Shdr sh;
	int ok = 0;

	if (!eh->e_shoff) {
		snprintf(f->sym_why, sizeof(f->sym_why), "it has no section headers");
		return 0;
	}
	/* libelf counts 0 sections when their table is not all in the file: not "none". */
	if (elf_getshdrnum(f->elf, &shnum) || !shnum)
		shnum = eh->e_shnum ? eh->e_shnum : 1;
	if (!eh->e_shentsize || !file_range(f, eh->e_shoff, (uint64_t)shnum * eh->e_shentsize)) {
		snprintf(f->sym_why, sizeof(f->sym_why),
			 "its section headers lie past the end of the file (%zu at offset %llu, "
			 "the file has %zu bytes: truncated?)",
			 shnum, (unsigned long long)eh->e_shoff, f->size);
		return 0;
	}
	if (elf_getshdrstrndx(f->elf, &shstrndx) || !elf_getscn(f->elf, shstrndx) ||
	    !elf_getdata(elf_getscn(f->elf, shstrndx), NULL)) {
		snprintf(f->sym_why, sizeof(f->sym_why),
			 "the names of its sections cannot be read (section %zu: %s)", shstrndx,
			 elf_errmsg(-1));
		return 0;
	}
	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		name = elf_strptr(f->elf, shstrndx, sh.sh_name);
		name = name ? name : "?";
		if (!file_range(f, sh.sh_offset, sh.sh_size) || !sh.sh_entsize) {
			if (!f->sym_why[0])
				snprintf(f->sym_why, sizeof(f->sym_why),
					 "its symbol table %s lies outside the file (%llu bytes at "
					 "offset %llu, the file has %zu)",
					 name, (unsigned long long)sh.sh_size,
					 (unsigned long long)sh.sh_offset, f->size);
			continue;
		}
		{
			Elf_Scn *str = elf_getscn(f->elf, sh.sh_link);
			GElf_Shdr ssh;

			if (!str || !gelf_getshdr(str, &ssh) || ssh.sh_type != SHT_STRTAB ||
			    !file_range(f, ssh.sh_offset, ssh.sh_size)) {
				if (!f->sym_why[0])
					snprintf(f->sym_why, sizeof(f->sym_why),
						 "the names of its symbol table %s cannot be read "
						 "(string table section %u)",
						 name, (unsigned)sh.sh_link);
				continue;
			}
		}
		ok = 1;
	}
	return ok;
}

/* libelf's view of the image in f->map, its segments and its build ID. 0 or -ENOEXEC. */
static int elf_parse(struct elf_file *f)
{
	GElf_Ehdr eh;
	size_t nph;

	if (f->size < sizeof(Elf64_Ehdr))
		return -ENOEXEC;
	f->elf = elf_memory((char *)f->map, f->size);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	f->is_dyn = eh.e_type == ET_DYN;
	if (elf_getphdrnum(f->elf, &nph) == 0) {
		f->segs = xcalloc(nph, sizeof(*f->segs));
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_LOAD)
				continue;
			f->segs[f->nsegs++] = (struct elf_segment){
				.vaddr = ph.p_vaddr,
				.memsz = ph.p_memsz,
				.offset = ph.p_offset,
				.filesz = ph.p_filesz,
				.flags = ph.p_flags,
			};
		}
	}
	struct elf_section s;
	/* Only what can be read counts: a section outside the file is as good as none. */
	f->has_symtab = elf_find_section(f, ".symtab", &s) == 0 && s.data;
	f->has_debug = (elf_find_section(f, ".debug_info", &s) == 0 && s.data) ||
		       (elf_find_section(f, ".zdebug_info", &s) == 0 && s.data);
	if (!check_symbols(f, &eh))
		read_dynamic_symbols(f);
	read_build_id(f);
	return 0;
}

int elf_open(const char *path, struct elf_file **out)
{
	struct elf_file *f;
	struct stat st;
	int err;

	elf_version(EV_CURRENT);
	f = xcalloc(1, sizeof(*f));
	f->fd = -1;
	f->path = xstrdup(path);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(f->fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	if (f->size < sizeof(Elf64_Ehdr)) {
		err = -ENOEXEC;
		goto fail;
	}
	/*
	 * Writable but private (copy on write, never written back): libdw decompresses
	 * compressed DWARF sections (Go's, SHF_COMPRESSED) by updating their headers in
	 * the image libelf reads, which faults in a read-only mapping.
	 */
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f->fd, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		err = -errno;
		goto fail;
	}
	err = elf_parse(f);
	if (err)
		goto fail;
	*out = f;
	return 0;
fail:
	elf_close(f);
	return err;
}

int elf_open_mem(void *data, size_t size, const char *name, struct elf_file **out)
{
	struct elf_file *f;
	int err;

	elf_version(EV_CURRENT);
	f = xcalloc(1, sizeof(*f));
	f->fd = -1;
	f->path = xstrdup(name);
	f->map = data;
	f->size = size;
	f->borrowed = true;
	err = elf_parse(f);
	if (err) {
		elf_close(f);
		return err;
	}
	*out = f;
	return 0;
}

void elf_close(struct elf_file *f)
{
	if (!f)
		return;
	if (f->elf)
		elf_end(f->elf);
	if (f->map && !f->borrowed)
		munmap((void *)f->map, f->size);
	if (f->fd >= 0)
		close(f->fd);
	free(f->segs);
	free(f->by_addr);
	free(f->path);
	free(f);
}

int elf_find_section(const struct elf_file *f, const char *name, struct elf_section *s)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(f->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(f->elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name))
			continue;
		s->vaddr = sh.sh_addr;
		s->size = sh.sh_size;
		s->offset = sh.sh_offset;
		s->flags = sh.sh_flags;
		s->data = NULL;
		/* Subtracted, not added: a crafted sh_offset + sh_size wraps past the check. */
		if (sh.sh_type != SHT_NOBITS && sh.sh_offset <= f->size &&
		    sh.sh_size <= f->size - sh.sh_offset)
			s->data = (const char *)f->map + sh.sh_offset;
		return 0;
	}
	return -ENOENT;
}

/* Calls fn for every named symbol of .symtab and .dynsym; stops when fn returns non-zero. */
static int for_each_symbol(const struct elf_file *f,
			   int (*fn)(const GElf_Sym *sym, const char *name, void *ctx), void *ctx)
{
	static const Elf64_Word types[] = {SHT_SYMTAB, SHT_DYNSYM};

	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		Elf_Scn *scn = NULL;
		GElf_Shdr sh;

		while ((scn = elf_nextscn(f->elf, scn))) {
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != types[t] || !sh.sh_entsize)
				continue;
			d = elf_getdata(scn, NULL);
			if (!d)
				continue;
			for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;
				const char *name;
				int r;

				if (!gelf_getsym(d, i, &sym) || !sym.st_name)
					continue;
				name = elf_strptr(f->elf, sh.sh_link, sym.st_name);
				if (!name || !*name)
					continue;
				r = fn(&sym, name, ctx);
				if (r)
					return r;
			}
		}
	}
	/* PT_DYNAMIC's symbols, when no section gave any (read_dynamic_symbols()). */
	for (size_t i = 0; i < f->ndsym; i++) {
		GElf_Sym sym;
		const char *name;
		int r;

		memcpy(&sym, (const Elf64_Sym *)f->dsym + i, sizeof(sym));
		if (!sym.st_name || sym.st_name >= f->dstrsz ||
		    !memchr(f->dstr + sym.st_name, 0, f->dstrsz - sym.st_name))
			continue;
		name = f->dstr + sym.st_name;
		if (!*name)
			continue;
		r = fn(&sym, name, ctx);
		if (r)
			return r;
	}
	return 0;
}

struct name_query {
	const char *name;
	size_t len;
	struct elf_symbol *out;
};

static int match_name(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct name_query *q = ctx;

	if (strncmp(name, q->name, q->len) || (name[q->len] && name[q->len] != '@'))
		return 0;
	if (sym->st_shndx == SHN_UNDEF)
		return 0;
	q->out->name = name;
	q->out->addr = sym->st_value;
	q->out->size = sym->st_size;
	q->out->type = GELF_ST_TYPE(sym->st_info);
	return 1;
}

int elf_find_symbol(const struct elf_file *f, const char *name, struct elf_symbol *s)
{
	struct name_query q = {.name = name, .len = strlen(name), .out = s};

	return for_each_symbol(f, match_name, &q) == 1 ? 0 : -ENOENT;
}

struct collect {
	struct elf_symbol *v;
	size_t n, cap;
};

static int collect_sym(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct collect *c = ctx;
	int type = GELF_ST_TYPE(sym->st_info);

	if (sym->st_shndx == SHN_UNDEF || !sym->st_value ||
	    (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = (struct elf_symbol){
		.name = name,
		.addr = sym->st_value,
		.size = sym->st_size,
		.type = type == STT_GNU_IFUNC ? STT_FUNC : type,
	};
	return 0;
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct elf_symbol *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer the sized, global-looking one first: longer size wins. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	/* Then the public name of an alias: malloc rather than __libc_malloc. */
	if (strspn(x->name, "_") != strspn(y->name, "_"))
		return strspn(x->name, "_") < strspn(y->name, "_") ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void build_by_addr(struct elf_file *f)
{
	struct collect c = {0};
	size_t j = 0;

	f->by_addr_built = true;
	for_each_symbol(f, collect_sym, &c);
	if (!c.n)
		return;
	qsort(c.v, c.n, sizeof(*c.v), cmp_sym_addr);
	/* One symbol per address (aliases like __libc_malloc/malloc). */
	for (size_t i = 0; i < c.n; i++)
		if (!j || c.v[i].addr != c.v[j - 1].addr)
			c.v[j++] = c.v[i];
	f->by_addr = c.v;
	f->nby_addr = j;
}

int elf_symbol_at(struct elf_file *f, uint64_t addr, struct elf_symbol *s)
{
	size_t lo = 0, hi;

	if (!f->by_addr_built)
		build_by_addr(f);
	hi = f->nby_addr;
	/* Last symbol with sym.addr <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->by_addr[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	*s = f->by_addr[lo - 1];
	if (s->size && addr < s->addr + s->size)
		return 0;
	return s->type == STT_FUNC ? 1 : -ENOENT;
}

int elf_vaddr_to_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct elf_segment *s = &f->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*off = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -ENOENT;
}

const void *elf_vaddr_ptr(const struct elf_file *f, uint64_t vaddr, size_t len)
{
	uint64_t off;

	/*
	 * Every bound by subtraction: vaddr, len and the segment's fields all come from the
	 * file (len from a function's extent), and a sum of them can wrap past a check.
	 */
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct elf_segment *s = &f->segs[i];

		if (vaddr < s->vaddr || vaddr - s->vaddr > s->filesz ||
		    len > s->filesz - (vaddr - s->vaddr))
			continue;
		off = vaddr - s->vaddr + s->offset;
		if (off < s->offset || off > f->size || len > f->size - off)
			return NULL;
		return (const char *)f->map + off;
	}
	return NULL;
}

int elf_load_bias(const struct elf_file *f, uint64_t start, uint64_t pgoff, uint64_t *bias)
{
	const uint64_t page = 4096;

	for (size_t i = 0; i < f->nsegs; i++) {
		const struct elf_segment *s = &f->segs[i];
		uint64_t seg_off = s->offset & ~(page - 1);

		if (pgoff < seg_off || (pgoff >= s->offset && pgoff - s->offset >= s->filesz))
			continue;
		/* The mapping starts pgoff - seg_off bytes into the segment's first page. */
		*bias = start - (pgoff - seg_off) - (s->vaddr & ~(page - 1));
		return 0;
	}
	return -ENOENT;
}
