// SPDX-License-Identifier: GPL-2.0
/*
 * Go runtime struct offsets: the per-release table and the DWARF reader.
 *
 * Every row was produced by tools/go-offsets.sh from a real binary built with
 * the toolchain named in its comment, and is re-checked by
 * tests/unit/go_offsets.sh. A row stands for its whole minor release (patch
 * releases are assumed to keep the layout; the test rechecks with whichever
 * patch is at hand). Minor releases change layouts in both directions (1.25
 * moved g's fields back by 8 bytes when gobuf lost its `ret` word), so a
 * release without a row is "unknown", never "like the previous one".
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <libelf.h>

#include "golang/offsets.h"

/* Rows as tools/go-offsets.sh prints them. */
/* clang-format off */
static const struct go_offsets table[] = {
	/* checked against go1.19.8 (Debian golang-1.19) */
	{ .go_minor = 19,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 0,
	  .g_gopc = 296, .g_startpc = 312, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 136,
	  .gcc_heap_marked = 184, .gcc_total_alloc = 328, .gcc_total_free = 336,
	  .memstats_numgc = 7704, .nwaitreasons = 27, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.20.14 */
	{ .go_minor = 20,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 0,
	  .g_gopc = 296, .g_startpc = 312, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 80,
	  .gcc_heap_marked = 128, .gcc_total_alloc = 272, .gcc_total_free = 280,
	  .memstats_numgc = 7704, .nwaitreasons = 32, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.21.13 */
	{ .go_minor = 21,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 272,
	  .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 32, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.22.12 */
	{ .go_minor = 22,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 272,
	  .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 37, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.23.12 */
	{ .go_minor = 23,
	  .g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184, .g_parent_goid = 280,
	  .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 38, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 3 },
	/* checked against go1.24.11 */
	{ .go_minor = 24,
	  .g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184, .g_parent_goid = 280,
	  .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 44, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 3 },
	/* checked against go1.25.4 */
	{ .go_minor = 25,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 272,
	  .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 96, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7680, .nwaitreasons = 47, .memstats_heap_stats = 0,
	  .heapstats_gen = 3504, .hsd_size = 1168, .hsd_tiny_alloc_count = 40,
	  .hsd_large_alloc_count = 56, .hsd_small_alloc_count = 64,
	  .hsd_large_free_count = 616, .hsd_small_free_count = 624, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 4 },
	/* checked against go1.26.8 */
	{ .go_minor = 26,
	  .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176, .g_parent_goid = 280,
	  .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56, .g_sched_pc = 64,
	  .g_sched_bp = 96, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48, .bucket_next = 0,
	  .bucket_allnext = 8, .bucket_typ = 16, .bucket_size = 32, .bucket_nstk = 40,
	  .bucket_hdr = 48, .memrecord_size = 128, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7680, .nwaitreasons = 47, .memstats_heap_stats = 0,
	  .heapstats_gen = 3504, .hsd_size = 1168, .hsd_tiny_alloc_count = 40,
	  .hsd_large_alloc_count = 56, .hsd_small_alloc_count = 64,
	  .hsd_large_free_count = 616, .hsd_small_free_count = 624, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 4 },
};
/* clang-format on */

#define FIELD(f) { #f, offsetof(struct go_offsets, f) }
const struct go_offsets_field go_offsets_fields[] = {
	FIELD(g_atomicstatus), FIELD(g_goid), FIELD(g_waitreason), FIELD(g_parent_goid),
	FIELD(g_gopc), FIELD(g_startpc), FIELD(g_sched_sp), FIELD(g_sched_pc), FIELD(g_sched_bp),
	FIELD(g_stack_lo), FIELD(g_stack_hi), FIELD(g_m),
	FIELD(bucket_next), FIELD(bucket_allnext), FIELD(bucket_typ), FIELD(bucket_size),
	FIELD(bucket_nstk), FIELD(bucket_hdr), FIELD(memrecord_size),
	FIELD(gcc_heap_live), FIELD(gcc_heap_marked), FIELD(gcc_total_alloc), FIELD(gcc_total_free),
	FIELD(memstats_numgc),
	FIELD(nwaitreasons),
	FIELD(memstats_heap_stats), FIELD(heapstats_gen), FIELD(hsd_size),
	FIELD(hsd_tiny_alloc_count), FIELD(hsd_large_alloc_count), FIELD(hsd_small_alloc_count),
	FIELD(hsd_large_free_count), FIELD(hsd_small_free_count), FIELD(nsizeclasses),
	FIELD(special_kind), FIELD(specialprofile_b), FIELD(kind_special_profile),
};
const size_t go_offsets_nfields = sizeof(go_offsets_fields) / sizeof(go_offsets_fields[0]);
/* A field added to the struct but not to the list above would escape the tests. */
_Static_assert(sizeof(struct go_offsets) ==
		       sizeof(int) + sizeof(go_offsets_fields) / sizeof(go_offsets_fields[0]) *
					     sizeof(uint32_t),
	       "go_offsets_fields must list every field of struct go_offsets");

const struct go_offsets *go_offsets_for_version(int go_minor)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].go_minor == go_minor)
			return &table[i];
	return NULL;
}

/* The top-level DIEs we need, by DWARF name. */
enum {
	D_G,
	D_GOBUF,
	D_STACK,
	D_BUCKET,
	D_MEMRECORD,
	D_GCCONTROLLER,
	D_MSTATS,
	D_CONSHEAPSTATS,
	D_HEAPSTATSDELTA,
	D_SPECIAL,
	D_SPECIALPROFILE,
	D_WAITREASONS, /* variable */
	D_KINDPROFILE, /* constant */
	D_NUM,
};

static const struct {
	const char *name;
	int tag;
} wanted[D_NUM] = {
	[D_G] = { "runtime.g", DW_TAG_structure_type },
	[D_GOBUF] = { "runtime.gobuf", DW_TAG_structure_type },
	[D_STACK] = { "runtime.stack", DW_TAG_structure_type },
	[D_BUCKET] = { "runtime.bucket", DW_TAG_structure_type },
	[D_MEMRECORD] = { "runtime.memRecord", DW_TAG_structure_type },
	[D_GCCONTROLLER] = { "runtime.gcControllerState", DW_TAG_structure_type },
	[D_MSTATS] = { "runtime.mstats", DW_TAG_structure_type },
	[D_CONSHEAPSTATS] = { "runtime.consistentHeapStats", DW_TAG_structure_type },
	[D_HEAPSTATSDELTA] = { "runtime.heapStatsDelta", DW_TAG_structure_type },
	[D_SPECIAL] = { "runtime.special", DW_TAG_structure_type },
	[D_SPECIALPROFILE] = { "runtime.specialprofile", DW_TAG_structure_type },
	[D_WAITREASONS] = { "runtime.waitReasonStrings", DW_TAG_variable },
	[D_KINDPROFILE] = { "runtime._KindSpecialProfile", DW_TAG_constant },
};

struct dies {
	Dwarf_Die die[D_NUM];
	bool have[D_NUM];
	int missing;
};

/* Follow DW_AT_type through typedefs (Go emits a typedef beside each named struct). */
static bool die_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return false;
	for (int i = 0; i < 8 && dwarf_tag(&t) == DW_TAG_typedef; i++)
		if (!dwarf_attr(&t, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
			return false;
	*out = t;
	return true;
}

static bool member_location(Dwarf_Die *m, Dwarf_Word *off)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return false;
	if (dwarf_formudata(&a, off) == 0)
		return true;
	/* DWARF 2 style: a location expression DW_OP_plus_uconst N. */
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return true;
	}
	return false;
}

/*
 * Offset of member `name` of struct `st`, descending into the value of a
 * sync/atomic wrapper (atomic.Uint64{noCopy, align64, v} and the like) so the
 * caller gets the address it would read.
 */
static bool member_offset(Dwarf_Die *st, const char *name, Dwarf_Word *off, Dwarf_Die *type)
{
	Dwarf_Die m, t;
	const char *n;

	if (dwarf_child(st, &m) != 0)
		return false;
	do {
		if (dwarf_tag(&m) != DW_TAG_member || !(n = dwarf_diename(&m)) || strcmp(n, name))
			continue;
		if (!member_location(&m, off))
			return false;
		if (!die_type(&m, &t)) {
			if (type)
				memset(type, 0, sizeof(*type));
			return true;
		}
		const char *tn = dwarf_diename(&t);
		if (dwarf_tag(&t) == DW_TAG_structure_type && tn && strstr(tn, "atomic.")) {
			Dwarf_Word inner;
			Dwarf_Die it;

			if (member_offset(&t, "v", &inner, &it) ||
			    member_offset(&t, "value", &inner, &it)) {
				*off += inner;
				t = it;
			}
		}
		if (type)
			*type = t;
		return true;
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

static bool byte_size(Dwarf_Die *die, Dwarf_Word *size)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, DW_AT_byte_size, &a) && dwarf_formudata(&a, size) == 0;
}

/* Element count of an array type (DW_AT_count, or DW_AT_upper_bound + 1). */
static bool array_count(Dwarf_Die *arr, Dwarf_Word *count)
{
	Dwarf_Attribute a;
	Dwarf_Die sub;
	Dwarf_Word v;

	if (dwarf_tag(arr) != DW_TAG_array_type || dwarf_child(arr, &sub) != 0)
		return false;
	do {
		if (dwarf_tag(&sub) != DW_TAG_subrange_type)
			continue;
		if (dwarf_attr(&sub, DW_AT_count, &a) && dwarf_formudata(&a, &v) == 0) {
			*count = v;
			return true;
		}
		if (dwarf_attr(&sub, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &v) == 0) {
			*count = v + 1;
			return true;
		}
	} while (dwarf_siblingof(&sub, &sub) == 0);
	return false;
}

/* Look at the top-level DIEs of every unit: Go puts its types and globals there. */
static void collect(Dwarf *dbg, struct dies *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	d->missing = D_NUM;
	while (d->missing > 0 && dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dbg, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				int tag = dwarf_tag(&die);
				const char *name;

				if (tag != DW_TAG_structure_type && tag != DW_TAG_variable &&
				    tag != DW_TAG_constant)
					continue;
				if (!(name = dwarf_diename(&die)) || strncmp(name, "runtime.", 8))
					continue;
				for (int i = 0; i < D_NUM; i++) {
					if (d->have[i] || wanted[i].tag != tag ||
					    strcmp(wanted[i].name, name))
						continue;
					/* Skip declarations without a body. */
					if (tag == DW_TAG_structure_type && !dwarf_haschildren(&die))
						break;
					d->die[i] = die;
					d->have[i] = true;
					d->missing--;
					break;
				}
			} while (d->missing > 0 && dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
}

struct field {
	int die;
	const char *path; /* member, or "outer.inner" through a nested struct */
	size_t dst;	  /* offsetof(struct go_offsets, ...) */
};

#define F(d, p, f) { d, p, offsetof(struct go_offsets, f) }

static const struct field fields[] = {
	F(D_G, "atomicstatus", g_atomicstatus),
	F(D_G, "goid", g_goid),
	F(D_G, "waitreason", g_waitreason),
	F(D_G, "parentGoid", g_parent_goid),
	F(D_G, "gopc", g_gopc),
	F(D_G, "startpc", g_startpc),
	F(D_G, "sched.sp", g_sched_sp),
	F(D_G, "sched.pc", g_sched_pc),
	F(D_G, "sched.bp", g_sched_bp),
	F(D_G, "stack.lo", g_stack_lo),
	F(D_G, "stack.hi", g_stack_hi),
	F(D_G, "m", g_m),
	F(D_BUCKET, "next", bucket_next),
	F(D_BUCKET, "allnext", bucket_allnext),
	F(D_BUCKET, "typ", bucket_typ),
	F(D_BUCKET, "size", bucket_size),
	F(D_BUCKET, "nstk", bucket_nstk),
	F(D_GCCONTROLLER, "heapLive", gcc_heap_live),
	F(D_GCCONTROLLER, "heapMarked", gcc_heap_marked),
	F(D_GCCONTROLLER, "totalAlloc", gcc_total_alloc),
	F(D_GCCONTROLLER, "totalFree", gcc_total_free),
	F(D_MSTATS, "numgc", memstats_numgc),
	F(D_MSTATS, "heapStats", memstats_heap_stats),
	F(D_CONSHEAPSTATS, "gen", heapstats_gen),
	F(D_HEAPSTATSDELTA, "tinyAllocCount", hsd_tiny_alloc_count),
	F(D_HEAPSTATSDELTA, "largeAllocCount", hsd_large_alloc_count),
	F(D_HEAPSTATSDELTA, "smallAllocCount", hsd_small_alloc_count),
	F(D_HEAPSTATSDELTA, "largeFreeCount", hsd_large_free_count),
	F(D_HEAPSTATSDELTA, "smallFreeCount", hsd_small_free_count),
	F(D_SPECIAL, "kind", special_kind),
	F(D_SPECIALPROFILE, "b", specialprofile_b),
};

static void set(struct go_offsets *o, size_t dst, Dwarf_Word v, int *found)
{
	*(uint32_t *)((char *)o + dst) = (uint32_t)v;
	(*found)++;
}

/* Resolve "a" or "a.b" inside struct `st`; b is looked up in a's struct type. */
static bool path_offset(Dwarf_Die *st, const char *path, Dwarf_Word *off)
{
	const char *dot = strchr(path, '.');
	Dwarf_Word outer, inner;
	Dwarf_Die t;
	char head[64];

	if (!dot)
		return member_offset(st, path, off, NULL);
	if ((size_t)(dot - path) >= sizeof(head))
		return false;
	memcpy(head, path, dot - path);
	head[dot - path] = '\0';
	if (!member_offset(st, head, &outer, &t) || dwarf_tag(&t) != DW_TAG_structure_type ||
	    !member_offset(&t, dot + 1, &inner, NULL))
		return false;
	*off = outer + inner;
	return true;
}

static int read_offsets(Dwarf *dbg, struct go_offsets *o)
{
	struct dies d = {};
	Dwarf_Word v;
	Dwarf_Die t;
	int found = 0;

	collect(dbg, &d);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];

		if (d.have[f->die] && path_offset(&d.die[f->die], f->path, &v))
			set(o, f->dst, v, &found);
	}
	if (d.have[D_BUCKET] && byte_size(&d.die[D_BUCKET], &v))
		set(o, offsetof(struct go_offsets, bucket_hdr), v, &found);
	if (d.have[D_MEMRECORD] && byte_size(&d.die[D_MEMRECORD], &v))
		set(o, offsetof(struct go_offsets, memrecord_size), v, &found);
	if (d.have[D_HEAPSTATSDELTA]) {
		if (byte_size(&d.die[D_HEAPSTATSDELTA], &v))
			set(o, offsetof(struct go_offsets, hsd_size), v, &found);
		if (member_offset(&d.die[D_HEAPSTATSDELTA], "smallAllocCount", &v, &t) &&
		    array_count(&t, &v))
			set(o, offsetof(struct go_offsets, nsizeclasses), v, &found);
	}
	if (d.have[D_WAITREASONS] && die_type(&d.die[D_WAITREASONS], &t) && array_count(&t, &v))
		set(o, offsetof(struct go_offsets, nwaitreasons), v, &found);
	if (d.have[D_KINDPROFILE]) {
		Dwarf_Attribute a;
		Dwarf_Sword sv;

		if (dwarf_attr(&d.die[D_KINDPROFILE], DW_AT_const_value, &a) &&
		    dwarf_formsdata(&a, &sv) == 0 && sv >= 0)
			set(o, offsetof(struct go_offsets, kind_special_profile), (Dwarf_Word)sv,
			    &found);
	}
	/*
	 * parentGoid only exists from Go 1.21: a runtime.g without it means
	 * "absent" (0), which is an answer, not a field left unknown.
	 */
	if (d.have[D_G] && !member_offset(&d.die[D_G], "parentGoid", &v, NULL))
		set(o, offsetof(struct go_offsets, g_parent_goid), 0, &found);
	return found;
}

int go_offsets_from_dwarf(int fd, struct go_offsets *o)
{
	Dwarf *dbg = NULL;
	Elf *elf = NULL;
	int ret;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = -EINVAL;
		goto cleanup;
	}
	/* libdw inflates SHF_COMPRESSED (zlib) .debug_* sections itself (elfutils >= 0.165). */
	dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dbg) {
		ret = -ENODATA;
		goto cleanup;
	}
	ret = read_offsets(dbg, o);
	if (ret == 0)
		ret = -ENODATA; /* DWARF, but not a Go runtime's */
cleanup:
	if (dbg)
		dwarf_end(dbg);
	if (elf)
		elf_end(elf);
	return ret;
}
