// SPDX-License-Identifier: GPL-2.0
/*
 * Reader of the Go runtime's pc tables (.gopclntab), Go 1.18+.
 *
 * Layout facts (runtime/symtab.go, runtime/runtime2.go, runtime/symtabinl.go,
 * cmd/link/internal/ld/pcln.go of Go 1.19 to 1.26):
 *
 * header: u32 magic, 2 zero bytes, u8 minLC, u8 ptrSize, then ptrSize-wide
 *   nfunc, nfiles, textStart (0 from Go 1.26 on), and offsets from the header
 *   of funcnametab, cutab, filetab, pctab and the function table.
 * function table: nfunc+1 pairs {u32 entryoff, u32 funcoff}; entryoff is
 *   relative to textStart, funcoff to the function table; the last pair only
 *   marks the end of text.
 * _func: u32 entryoff, i32 nameoff, args, deferreturn, pcsp, pcfile, pcln,
 *   npcdata, cuOffset, [i32 startLine, Go 1.20+], u8 funcID, flag, pad,
 *   nfuncdata; then u32 pcdata[npcdata] (offsets into pctab, 0 = none) and
 *   u32 funcdata[nfuncdata] (offsets from go:func.*, ~0 = none).
 * pc-value tables: pairs of varints, zigzag value delta then pc delta x minLC,
 *   starting at value -1 and the function entry; a zero value delta ends the
 *   table except in the very first pair.
 * inline tree (funcdata 3), indexed by pcdata 2:
 *   Go 1.18-1.19: {i16 parent, u8 funcID, u8, i32 file, i32 line, i32 nameoff, i32 parentPc}
 *   Go 1.20+:     {u8 funcID, u8[3], i32 nameoff, i32 parentPc, i32 startLine}
 *   parentPc is an offset from entry of an instruction at the call site.
 *
 * Every read is bounds-checked against the section: the input may be any file
 * a traced process maps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "golang/pclntab.h"
#include "lib/util.h"

#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
/* Go 1.2 to 1.17: a different header and function table. */
#define MAGIC_12 0xfffffffbu
#define MAGIC_116 0xfffffffau

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3

/* Bound on inline depth and on outer-frame walks, against cycles in corrupt trees. */
#define MAX_INLINE_DEPTH 64

struct gopclntab {
	const uint8_t *data;
	size_t size;
	int version; /* 118 or 120 */
	unsigned int minlc;
	unsigned int ptrsize;
	uint64_t nfunc;
	uint64_t text_start;
	bool header_text; /* textStart came from the header */
	/* Offsets of the tables from the start of data, each < size. */
	size_t funcname_off, cu_off, filetab_off, pctab_off, functab_off;
	size_t func_size;    /* fixed part of _func: 40 (1.18-1.19) or 44 */
	size_t inl_size;     /* inline tree entry: 20 (1.18-1.19) or 16 */
	size_t inl_name_off; /* offsets of nameoff and parentPc in an entry */
	size_t inl_parent_off;
	const uint8_t *gofunc; /* funcdata base, NULL when unknown */
	size_t gofunc_size;
	/* Name index, built on first gopclntab_func_by_name(): open addressing of index+1. */
	uint32_t *names;
	size_t names_mask;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rdptr(const struct gopclntab *t, const uint8_t *p)
{
	return t->ptrsize == 8 ? rd64(p) : rd32(p);
}

/* Whether [off, off+len) lies inside data, without overflow. */
static bool in_data(const struct gopclntab *t, uint64_t off, uint64_t len)
{
	return off <= t->size && len <= t->size - off;
}

/*
 * A NUL-terminated string at off in the region [base, base+size), or NULL when
 * it runs off the end: names and files are handed out as pointers into the
 * section, so they must end inside it.
 */
static const char *str_at(const uint8_t *base, size_t size, uint64_t off)
{
	if (off >= size)
		return NULL;
	if (!memchr(base + off, 0, size - off))
		return NULL;
	return (const char *)base + off;
}

static uint32_t entryoff(const struct gopclntab *t, uint64_t i)
{
	return rd32(t->data + t->functab_off + i * 8);
}

static uint32_t funcoff(const struct gopclntab *t, uint64_t i)
{
	return rd32(t->data + t->functab_off + i * 8 + 4);
}

/* The parts of a _func this reader uses. */
struct funcinfo {
	uint64_t entry;
	int32_t nameoff;
	uint32_t pcfile, pcln, npcdata, cu_offset;
	uint8_t nfuncdata;
	uint64_t tail; /* offset in data of pcdata[0] */
	bool valid;
};

static void funcinfo_read(const struct gopclntab *t, uint64_t i, struct funcinfo *fi)
{
	uint64_t off = (uint64_t)t->functab_off + funcoff(t, i);
	const uint8_t *p;

	memset(fi, 0, sizeof(*fi));
	fi->entry = t->text_start + entryoff(t, i);
	if (!in_data(t, off, t->func_size))
		return;
	p = t->data + off;
	fi->nameoff = (int32_t)rd32(p + 4);
	fi->pcfile = rd32(p + 20);
	fi->pcln = rd32(p + 24);
	fi->npcdata = rd32(p + 28);
	fi->cu_offset = rd32(p + 32);
	fi->nfuncdata = p[t->func_size - 1];
	fi->tail = off + t->func_size;
	/* Both trailing arrays must fit, so later reads of them need no check. */
	fi->valid = in_data(t, fi->tail, ((uint64_t)fi->npcdata + fi->nfuncdata) * 4);
}

static const char *funcname(const struct gopclntab *t, int32_t nameoff)
{
	if (nameoff < 0)
		return NULL;
	return str_at(t->data, t->size, (uint64_t)t->funcname_off + (uint32_t)nameoff);
}

static int readvarint(const uint8_t **pp, const uint8_t *end, uint32_t *val)
{
	const uint8_t *p = *pp;
	uint32_t v = 0, shift = 0;

	/* Same decoding as the runtime, shift wrapping at 32 included. */
	for (;;) {
		uint8_t b;

		if (p >= end)
			return -1;
		b = *p++;
		v |= (uint32_t)(b & 0x7f) << (shift & 31);
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*pp = p;
	*val = v;
	return 0;
}

/* A position in a pc-value table: the value in force up to pc. */
struct pciter {
	const uint8_t *p;
	uint64_t entry, pc;
	uint32_t val;
	int stalls;
};

static bool pciter_init(const struct gopclntab *t, struct pciter *it, uint32_t off, uint64_t entry)
{
	if (off == 0 || !in_data(t, (uint64_t)t->pctab_off + off, 1))
		return false;
	it->p = t->data + t->pctab_off + off;
	it->entry = entry;
	it->pc = entry;
	it->val = (uint32_t)-1;
	it->stalls = 0;
	return true;
}

/* Decodes the next pair; false at the end of the table or on corruption. */
static bool pciter_next(const struct gopclntab *t, struct pciter *it)
{
	const uint8_t *end = t->data + t->size;
	uint32_t uv, pcdelta;

	if (it->p >= end)
		return false;
	/* A zero value delta ends the table, except as the first pair (value 0). */
	if (*it->p == 0 && it->pc != it->entry)
		return false;
	if (readvarint(&it->p, end, &uv) || readvarint(&it->p, end, &pcdelta))
		return false;
	/*
	 * The linker emits a pair per instruction boundary where the value
	 * changes, so pc advances in all but the odd pair; a corrupt table that
	 * stalls must not cost a scan of the whole section per lookup.
	 */
	if (!pcdelta && ++it->stalls > 16)
		return false;
	it->val += -(uv & 1) ^ (uv >> 1);
	it->pc += (uint64_t)pcdelta * t->minlc;
	return true;
}

/*
 * Value of the pc-value table at pctab offset off for targetpc in the function
 * starting at entry, or -1 when the table is absent or does not cover it (as
 * the runtime answers in its non-strict mode).
 */
static int32_t pcvalue(const struct gopclntab *t, uint32_t off, uint64_t entry, uint64_t targetpc)
{
	struct pciter it;

	if (!pciter_init(t, &it, off, entry))
		return -1;
	while (pciter_next(t, &it))
		if (targetpc < it.pc)
			return (int32_t)it.val;
	return -1;
}

/* The largest value in a pc-value table, -1 if none. */
static int32_t pctab_max(const struct gopclntab *t, uint32_t off, uint64_t entry)
{
	struct pciter it;
	int32_t max = -1;

	if (!pciter_init(t, &it, off, entry))
		return -1;
	while (pciter_next(t, &it))
		max = MAX(max, (int32_t)it.val);
	return max;
}

static int32_t pcdatavalue(const struct gopclntab *t, const struct funcinfo *fi, uint32_t table,
			   uint64_t targetpc)
{
	if (!fi->valid || table >= fi->npcdata)
		return -1;
	return pcvalue(t, rd32(t->data + fi->tail + table * 4), fi->entry, targetpc);
}

/* funcdata i of the function, with the bytes available from it; NULL if none. */
static const uint8_t *funcdata(const struct gopclntab *t, const struct funcinfo *fi, uint8_t i,
			       size_t *avail)
{
	uint32_t off;

	if (!fi->valid || i >= fi->nfuncdata || !t->gofunc)
		return NULL;
	off = rd32(t->data + fi->tail + ((uint64_t)fi->npcdata + i) * 4);
	if (off == UINT32_MAX || off >= t->gofunc_size)
		return NULL;
	*avail = t->gofunc_size - off;
	return t->gofunc + off;
}

static void funcline(const struct gopclntab *t, const struct funcinfo *fi, uint64_t pc,
		     const char **file, int *line)
{
	int32_t fileno, ln;
	uint64_t cu;
	uint32_t fileoff;
	const char *s;

	*file = "?";
	*line = 0;
	if (!fi->valid)
		return;
	fileno = pcvalue(t, fi->pcfile, fi->entry, pc);
	ln = pcvalue(t, fi->pcln, fi->entry, pc);
	if (fileno < 0 || ln < 0)
		return;
	cu = t->cu_off + ((uint64_t)fi->cu_offset + (uint32_t)fileno) * 4;
	if (!in_data(t, cu, 4))
		return;
	fileoff = rd32(t->data + cu);
	if (fileoff == UINT32_MAX)
		return;
	s = str_at(t->data, t->size, (uint64_t)t->filetab_off + fileoff);
	if (!s)
		return;
	*file = s;
	*line = ln;
}

/*
 * The largest end of any _func record (with its trailing arrays), relative to
 * data: Go 1.26 places go:func.* right after them.
 */
static uint64_t funcs_end(const struct gopclntab *t)
{
	uint64_t end = t->functab_off + (t->nfunc + 1) * 8;

	for (uint64_t i = 0; i < t->nfunc; i++) {
		struct funcinfo fi;
		uint64_t e;

		funcinfo_read(t, i, &fi);
		if (!fi.valid)
			return 0;
		e = fi.tail + ((uint64_t)fi.npcdata + fi.nfuncdata) * 4;
		end = MAX(end, e);
	}
	return end;
}

/* Whether a Go 1.20+ inline tree entry of function fi looks like one. */
static bool inl_entry_ok(const struct gopclntab *t, const struct funcinfo *fi, uint64_t size,
			 const uint8_t *e)
{
	int32_t nameoff = (int32_t)rd32(e + 4), parent = (int32_t)rd32(e + 8);
	int32_t start_line = (int32_t)rd32(e + 12);

	/* funcID is a small enum, then three zero pad bytes. */
	if (e[0] >= 64 || e[1] || e[2] || e[3] || start_line <= 0)
		return false;
	/* The callee's name starts right after the NUL of another name. */
	if (nameoff < 0 || !funcname(t, nameoff) ||
	    (nameoff > 0 && t->data[t->funcname_off + (uint32_t)nameoff - 1]))
		return false;
	return parent >= 0 && (uint64_t)parent < size;
}

/*
 * Whether base is plausibly go:func.* of a Go 1.20+ table: every entry of
 * the first inline trees (as many as their index tables use) must look like
 * one. An entry read 4 bytes early (zero padding, then funcID and pad as
 * nameoff...) can pass for a real one; read late it cannot: callers try the
 * latest candidate first.
 */
static bool gofunc_plausible(struct gopclntab *t, const uint8_t *base, size_t size)
{
	const uint8_t *saved = t->gofunc;
	size_t saved_size = t->gofunc_size;
	bool ok = true;
	int trees = 0;

	t->gofunc = base;
	t->gofunc_size = size;
	for (uint64_t i = 0; i < t->nfunc && trees < 64 && ok; i++) {
		struct funcinfo fi;
		const uint8_t *inl;
		size_t avail;
		int32_t max;
		uint64_t fsize = entryoff(t, i + 1) - entryoff(t, i);

		funcinfo_read(t, i, &fi);
		inl = funcdata(t, &fi, FUNCDATA_INLTREE, &avail);
		if (!inl || PCDATA_INLTREEINDEX >= fi.npcdata)
			continue;
		max = pctab_max(t, rd32(t->data + fi.tail + PCDATA_INLTREEINDEX * 4), fi.entry);
		if (max < 0)
			continue;
		trees++;
		if ((uint64_t)max >= avail / t->inl_size) {
			ok = false;
			break;
		}
		for (int32_t k = 0; k <= max && ok; k++)
			ok = inl_entry_ok(t, &fi, fsize, inl + (uint64_t)k * t->inl_size);
	}
	t->gofunc = saved;
	t->gofunc_size = saved_size;
	return ok && trees > 0;
}

/*
 * Go 1.26 moved go:func.* into .gopclntab, right after the _func records,
 * aligned to the largest alignment of its symbols (8 in the binaries seen;
 * the records end 4-aligned). The header does not say where, so try the
 * 8-aligned offset, then the 4-aligned one. Older tables end with the _func
 * records and get no candidate.
 */
static void find_inner_gofunc(struct gopclntab *t)
{
	uint64_t end = funcs_end(t);

	if (!end)
		return;
	for (uint64_t align = 8; align >= 4; align >>= 1) {
		uint64_t off = (end + align - 1) & ~(align - 1);

		if (off >= t->size)
			continue;
		if (gofunc_plausible(t, t->data + off, t->size - off)) {
			t->gofunc = t->data + off;
			t->gofunc_size = t->size - off;
			log_debug("gopclntab: go:func.* at +%#llx inside the table",
				  (unsigned long long)off);
			return;
		}
	}
}

int gopclntab_open(struct gopclntab **out, const void *data, size_t size, uint64_t text_vaddr)
{
	const uint8_t *d = data;
	struct gopclntab *t;
	uint32_t magic;
	uint64_t offs[5];
	size_t hdr;

	*out = NULL;
	if (!data || size < 8)
		return -EINVAL;
	magic = rd32(d);
	if (magic == MAGIC_12 || magic == MAGIC_116) {
		log_debug("gopclntab: Go 1.2-1.17 table, not supported");
		return -ENOTSUP;
	}
	if (magic != MAGIC_118 && magic != MAGIC_120)
		return -ENOTSUP;
	if (d[4] || d[5] || (d[6] != 1 && d[6] != 2 && d[6] != 4) || (d[7] != 4 && d[7] != 8))
		return -EINVAL;
	hdr = 8 + 8 * (size_t)d[7];
	if (size < hdr)
		return -EINVAL;

	t = xcalloc(1, sizeof(*t));
	t->data = d;
	t->size = size;
	t->version = magic == MAGIC_118 ? 118 : 120;
	t->minlc = d[6];
	t->ptrsize = d[7];
	t->nfunc = rdptr(t, d + 8);
	t->text_start = rdptr(t, d + 8 + 2 * t->ptrsize);
	t->header_text = t->text_start != 0;
	if (!t->text_start)
		t->text_start = text_vaddr;
	for (int i = 0; i < 5; i++) {
		offs[i] = rdptr(t, d + 8 + (3 + i) * t->ptrsize);
		if (offs[i] < hdr || offs[i] >= size)
			goto inval;
	}
	t->funcname_off = offs[0];
	t->cu_off = offs[1];
	t->filetab_off = offs[2];
	t->pctab_off = offs[3];
	t->functab_off = offs[4];
	if (t->version == 118) {
		t->func_size = 40;
		t->inl_size = 20;
		t->inl_name_off = 12;
		t->inl_parent_off = 16;
	} else {
		t->func_size = 44;
		t->inl_size = 16;
		t->inl_name_off = 4;
		t->inl_parent_off = 8;
	}
	if (!t->nfunc || t->nfunc >= UINT32_MAX || !in_data(t, t->functab_off, (t->nfunc + 1) * 8))
		goto inval;
	/* Sorted entries make the binary search exact and give every function an end. */
	for (uint64_t i = 0; i < t->nfunc; i++)
		if (entryoff(t, i) > entryoff(t, i + 1))
			goto inval;
	if (t->version == 120)
		find_inner_gofunc(t);
	*out = t;
	return 0;
inval:
	free(t);
	return -EINVAL;
}

void gopclntab_close(struct gopclntab *t)
{
	if (!t)
		return;
	free(t->names);
	free(t);
}

int gopclntab_go_min_version(const struct gopclntab *t)
{
	return t->version;
}

uint64_t gopclntab_text_start(const struct gopclntab *t)
{
	return t->text_start;
}

size_t gopclntab_nfunc(const struct gopclntab *t)
{
	return t->nfunc;
}

void gopclntab_set_gofunc(struct gopclntab *t, const void *data, size_t size)
{
	t->gofunc = data;
	t->gofunc_size = data ? size : 0;
}

bool gopclntab_has_inline(const struct gopclntab *t)
{
	return t->gofunc != NULL;
}

static const struct gopclntab_region *region_of(const struct gopclntab_region *r, size_t n,
						uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].data && vaddr >= r[i].vaddr && vaddr - r[i].vaddr < r[i].size)
			return &r[i];
	return NULL;
}

int gopclntab_attach_moduledata(struct gopclntab *t, const struct gopclntab_region *regions,
				size_t nregions, uint64_t pcln_vaddr)
{
	/*
	 * moduledata starts with pcHeader *, then the slice funcnametab {ptr, len,
	 * cap}: four words that pin it down. text is word 22 in every version;
	 * gofunc is word 38 (1.18-1.19) or 40 (1.20+ added covctrs, ecovctrs).
	 */
	const size_t w = t->ptrsize;
	const size_t gofunc_word = t->version == 118 ? 38 : 40;
	const size_t need = (gofunc_word + 1) * w;
	const uint64_t nametab = pcln_vaddr + t->funcname_off;

	for (size_t r = 0; r < nregions; r++) {
		const uint8_t *d = regions[r].data;
		size_t size = regions[r].size;

		if (!d || size < need)
			continue;
		/* moduledata is pointer-aligned in memory, whatever the region's start. */
		for (size_t off = (w - regions[r].vaddr % w) % w; off <= size - need; off += w) {
			const uint8_t *m = d + off;
			const struct gopclntab_region *g;
			uint64_t text, minpc, gofunc;

			if (rdptr(t, m) != pcln_vaddr || rdptr(t, m + w) != nametab ||
			    rdptr(t, m + 2 * w) != rdptr(t, m + 3 * w))
				continue;
			minpc = rdptr(t, m + 20 * w);
			text = rdptr(t, m + 22 * w);
			gofunc = rdptr(t, m + gofunc_word * w);
			/* minpc is the first function's entry: a check on the layout we assume. */
			if (minpc != text + entryoff(t, 0)) {
				log_debug("gopclntab: moduledata candidate at %#llx: minpc %#llx, "
					  "text %#llx",
					  (unsigned long long)(regions[r].vaddr + off),
					  (unsigned long long)minpc, (unsigned long long)text);
				continue;
			}
			if (!t->header_text)
				t->text_start = text;
			g = region_of(regions, nregions, gofunc);
			if (!g && gofunc >= pcln_vaddr && gofunc - pcln_vaddr < t->size) {
				t->gofunc = t->data + (gofunc - pcln_vaddr);
				t->gofunc_size = t->size - (gofunc - pcln_vaddr);
				return 0;
			}
			if (!g)
				return -ERANGE;
			t->gofunc = (const uint8_t *)g->data + (gofunc - g->vaddr);
			t->gofunc_size = g->size - (gofunc - g->vaddr);
			return 0;
		}
	}
	return -ENOENT;
}

static void fill_func(const struct gopclntab *t, uint64_t i, struct gofunc *f)
{
	uint64_t off = (uint64_t)t->functab_off + funcoff(t, i);
	const char *name = NULL;

	f->entry = t->text_start + entryoff(t, i);
	f->end = t->text_start + entryoff(t, i + 1);
	f->index = (uint32_t)i;
	if (in_data(t, off, t->func_size))
		name = funcname(t, (int32_t)rd32(t->data + off + 4));
	f->name = name ? name : "?";
}

static int find_index(const struct gopclntab *t, uint64_t pc, uint64_t *idx)
{
	uint64_t off, lo = 0, hi = t->nfunc;

	if (pc < t->text_start || pc - t->text_start >= UINT32_MAX)
		return -ENOENT;
	off = pc - t->text_start;
	if (off < entryoff(t, 0) || off >= entryoff(t, t->nfunc))
		return -ENOENT;
	/* Last i with entryoff(i) <= off; entries are sorted (checked at open). */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (entryoff(t, mid) <= off)
			lo = mid;
		else
			hi = mid;
	}
	*idx = lo;
	return 0;
}

int gopclntab_func_at(const struct gopclntab *t, uint64_t pc, struct gofunc *f)
{
	uint64_t i;

	if (find_index(t, pc, &i))
		return -ENOENT;
	fill_func(t, i, f);
	return 0;
}

int gopclntab_func_by_index(const struct gopclntab *t, size_t i, struct gofunc *f)
{
	if (i >= t->nfunc)
		return -ENOENT;
	fill_func(t, i, f);
	return 0;
}

static uint64_t name_hash(const char *name)
{
	return hash_bytes(name, strlen(name), 0);
}

/* funcID of function i; 0 is FuncIDNormal in every version. */
static int func_id(const struct gopclntab *t, uint64_t i)
{
	uint64_t off = (uint64_t)t->functab_off + funcoff(t, i);

	return in_data(t, off, t->func_size) ? t->data[off + t->func_size - 4] : -1;
}

/*
 * Names are unique except for ABI wrappers: a Go function called from
 * assembly (runtime.newproc, runtime.schedinit...) also has an ABI0 wrapper
 * of the same name, and an assembly function called from Go an ABIInternal
 * one. Wrappers carry FuncIDWrapper (whose number changes between versions),
 * the real function usually FuncIDNormal and comes first: prefer a normal
 * one, else the first, so that a probe lands on the function's body.
 */
static void build_names(struct gopclntab *t)
{
	size_t cap = 16;

	while (cap < t->nfunc * 2)
		cap <<= 1;
	t->names = xcalloc(cap, sizeof(*t->names));
	t->names_mask = cap - 1;
	for (uint64_t i = 0; i < t->nfunc; i++) {
		struct gofunc f;
		size_t h;

		fill_func(t, i, &f);
		if (f.name[0] == '?' && !f.name[1])
			continue;
		for (h = name_hash(f.name) & t->names_mask; t->names[h];
		     h = (h + 1) & t->names_mask) {
			struct gofunc o;

			fill_func(t, t->names[h] - 1, &o);
			if (strcmp(o.name, f.name))
				continue;
			if (func_id(t, t->names[h] - 1) != 0 && func_id(t, i) == 0)
				t->names[h] = (uint32_t)i + 1;
			break;
		}
		if (!t->names[h])
			t->names[h] = (uint32_t)i + 1;
	}
}

int gopclntab_func_by_name(const struct gopclntab *t, const char *name, struct gofunc *f)
{
	struct gopclntab *mt = (struct gopclntab *)t; /* the index is a cache */

	if (!mt->names)
		build_names(mt);
	for (size_t h = name_hash(name) & t->names_mask; t->names[h]; h = (h + 1) & t->names_mask) {
		fill_func(t, t->names[h] - 1, f);
		if (!strcmp(f->name, name))
			return 0;
	}
	return -ENOENT;
}

int gopclntab_frames(const struct gopclntab *t, uint64_t pc, struct goframe *frames, int max)
{
	struct funcinfo fi;
	const uint8_t *inl = NULL;
	size_t inl_avail = 0;
	const char *physname;
	uint64_t i, cur = pc;
	int n = 0;

	if (max < 1)
		return -EINVAL;
	if (find_index(t, pc, &i))
		return -ENOENT;
	funcinfo_read(t, i, &fi);
	physname = fi.valid ? funcname(t, fi.nameoff) : NULL;
	inl = funcdata(t, &fi, FUNCDATA_INLTREE, &inl_avail);

	/*
	 * Walk out of the inline tree the way the runtime's inlineUnwinder does:
	 * the tree index at a pc names the inlined callee whose code it is, with
	 * file:line of that pc; the entry's parentPc is a pc at the call site,
	 * whose own index gives the next frame out, until index -1: the
	 * physical function.
	 */
	for (int depth = 0; inl && depth < MAX_INLINE_DEPTH; depth++) {
		int32_t ix = pcdatavalue(t, &fi, PCDATA_INLTREEINDEX, cur);
		const uint8_t *e;
		const char *name;
		int32_t parent;

		if (ix < 0)
			break;
		if ((uint64_t)ix >= inl_avail / t->inl_size)
			break; /* corrupt: fall back to the physical frame */
		e = inl + (uint64_t)ix * t->inl_size;
		name = funcname(t, (int32_t)rd32(e + t->inl_name_off));
		parent = (int32_t)rd32(e + t->inl_parent_off);
		/* Keep the last slot for the physical function; drop outer inlined frames. */
		if (n < max - 1) {
			frames[n].func = name ? name : "?";
			funcline(t, &fi, cur, &frames[n].file, &frames[n].line);
			frames[n].inlined = 1;
			frames[n].entry = fi.entry;
			frames[n].call_pc = 0;
			n++;
		}
		cur = fi.entry + (uint64_t)(int64_t)parent; /* as the runtime: int32 widened */
		if (n > 0 && frames[n - 1].inlined && !frames[n - 1].call_pc)
			frames[n - 1].call_pc = cur;
	}
	frames[n].func = physname ? physname : "?";
	funcline(t, &fi, cur, &frames[n].file, &frames[n].line);
	frames[n].inlined = 0;
	frames[n].entry = fi.entry;
	frames[n].call_pc = 0;
	return n + 1;
}

int gopclntab_func_id(const struct gopclntab *t, uint32_t index)
{
	if (index >= t->nfunc)
		return -1;
	return func_id(t, index);
}

int gopclntab_wrapper_id(const struct gopclntab *t)
{
	struct gofunc f;
	int id;

	if (gopclntab_func_by_name(t, "runtime.systemstack_switch", &f))
		return -1;
	id = func_id(t, f.index);
	return id > 0 ? id + 1 : -1;
}
