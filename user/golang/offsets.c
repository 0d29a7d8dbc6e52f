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
#include <stdio.h>
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
	  .g_size = 392, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 0, .g_gopc = 296, .g_startpc = 312, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 424, .mstats_size = 13512, .gcc_heap_live = 136,
	  .gcc_heap_marked = 184, .gcc_total_alloc = 328, .gcc_total_free = 336,
	  .memstats_numgc = 7704, .nwaitreasons = 27, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.20.14 */
	{ .go_minor = 20,
	  .g_size = 392, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 0, .g_gopc = 296, .g_startpc = 312, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 368, .mstats_size = 9040, .gcc_heap_live = 80,
	  .gcc_heap_marked = 128, .gcc_total_alloc = 272, .gcc_total_free = 280,
	  .memstats_numgc = 7704, .nwaitreasons = 32, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.21.13 */
	{ .go_minor = 21,
	  .g_size = 408, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 272, .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 9040, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 32, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.22.12 */
	{ .go_minor = 22,
	  .g_size = 424, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 272, .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 7744, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 37, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 2 },
	/* checked against go1.23.12 */
	{ .go_minor = 23,
	  .g_size = 432, .g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184,
	  .g_parent_goid = 280, .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 176, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 7744, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 38, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 10, .specialprofile_b = 16, .kind_special_profile = 3 },
	/* checked against go1.24.11 */
	{ .go_minor = 24,
	  .g_size = 440, .g_atomicstatus = 152, .g_goid = 160, .g_waitreason = 184,
	  .g_parent_goid = 280, .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 104, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 176, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 7744, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7704, .nwaitreasons = 44, .memstats_heap_stats = 0,
	  .heapstats_gen = 3528, .hsd_size = 1176, .hsd_tiny_alloc_count = 48,
	  .hsd_large_alloc_count = 64, .hsd_small_alloc_count = 72,
	  .hsd_large_free_count = 624, .hsd_small_free_count = 632, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 3 },
	/* checked against go1.25.4 */
	{ .go_minor = 25,
	  .g_size = 440, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 272, .g_gopc = 280, .g_startpc = 296, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 96, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 8264, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7680, .nwaitreasons = 47, .memstats_heap_stats = 0,
	  .heapstats_gen = 3504, .hsd_size = 1168, .hsd_tiny_alloc_count = 40,
	  .hsd_large_alloc_count = 56, .hsd_small_alloc_count = 64,
	  .hsd_large_free_count = 616, .hsd_small_free_count = 624, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 4 },
	/* checked against go1.26.8 */
	{ .go_minor = 26,
	  .g_size = 456, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 280, .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 96, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 128,
	  .mrc_size = 32, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 16,
	  .mrc_free_bytes = 24, .gcc_size = 392, .mstats_size = 10440, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7680, .nwaitreasons = 47, .memstats_heap_stats = 0,
	  .heapstats_gen = 3504, .hsd_size = 1168, .hsd_tiny_alloc_count = 40,
	  .hsd_large_alloc_count = 56, .hsd_small_alloc_count = 64,
	  .hsd_large_free_count = 616, .hsd_small_free_count = 624, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 4 },
	/* checked against go1.27.3 */
	{ .go_minor = 27,
	  .g_size = 456, .g_atomicstatus = 144, .g_goid = 152, .g_waitreason = 176,
	  .g_parent_goid = 280, .g_gopc = 288, .g_startpc = 304, .g_sched_sp = 56,
	  .g_sched_pc = 64, .g_sched_bp = 96, .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 48,
	  .g_waitsince = 168, .bucket_next = 0, .bucket_allnext = 8, .bucket_typ = 16,
	  .bucket_size = 32, .bucket_nstk = 40, .bucket_hdr = 48, .memrecord_size = 64,
	  .mrc_size = 16, .mrc_allocs = 0, .mrc_frees = 8, .mrc_alloc_bytes = 0,
	  .mrc_free_bytes = 0, .gcc_size = 392, .mstats_size = 10440, .gcc_heap_live = 104,
	  .gcc_heap_marked = 152, .gcc_total_alloc = 296, .gcc_total_free = 304,
	  .memstats_numgc = 7680, .nwaitreasons = 47, .memstats_heap_stats = 0,
	  .heapstats_gen = 3504, .hsd_size = 1168, .hsd_tiny_alloc_count = 40,
	  .hsd_large_alloc_count = 56, .hsd_small_alloc_count = 64,
	  .hsd_large_free_count = 616, .hsd_small_free_count = 624, .nsizeclasses = 68,
	  .special_kind = 16, .specialprofile_b = 24, .kind_special_profile = 4 },
};
/* clang-format on */

#define FIELD(f, part) { #f, offsetof(struct go_offsets, f), part }
#define G GO_LAYOUT_G
#define P GO_LAYOUT_PROFILE
#define C GO_LAYOUT_PACER
#define H GO_LAYOUT_HEAPSTATS
const struct go_offsets_field go_offsets_fields[] = {
	FIELD(g_size, G), FIELD(g_atomicstatus, G), FIELD(g_goid, G), FIELD(g_waitreason, G),
	FIELD(g_parent_goid, G), FIELD(g_gopc, G), FIELD(g_startpc, G), FIELD(g_sched_sp, G),
	FIELD(g_sched_pc, G), FIELD(g_sched_bp, G), FIELD(g_stack_lo, G), FIELD(g_stack_hi, G),
	FIELD(g_m, G), FIELD(g_waitsince, G),
	FIELD(bucket_next, P), FIELD(bucket_allnext, P), FIELD(bucket_typ, P), FIELD(bucket_size, P),
	FIELD(bucket_nstk, P), FIELD(bucket_hdr, P), FIELD(memrecord_size, P),
	FIELD(mrc_size, P), FIELD(mrc_allocs, P), FIELD(mrc_frees, P), FIELD(mrc_alloc_bytes, P),
	FIELD(mrc_free_bytes, P), FIELD(gcc_size, C), FIELD(mstats_size, H),
	FIELD(gcc_heap_live, C), FIELD(gcc_heap_marked, C), FIELD(gcc_total_alloc, C),
	FIELD(gcc_total_free, C),
	FIELD(memstats_numgc, H),
	FIELD(nwaitreasons, G),
	FIELD(memstats_heap_stats, H), FIELD(heapstats_gen, 0), FIELD(hsd_size, H),
	FIELD(hsd_tiny_alloc_count, H), FIELD(hsd_large_alloc_count, H),
	FIELD(hsd_small_alloc_count, H), FIELD(hsd_large_free_count, H),
	FIELD(hsd_small_free_count, H), FIELD(nsizeclasses, H),
	FIELD(special_kind, 0), FIELD(specialprofile_b, 0), FIELD(kind_special_profile, 0),
};
#undef G
#undef P
#undef C
#undef H
const size_t go_offsets_nfields = sizeof(go_offsets_fields) / sizeof(go_offsets_fields[0]);
/* A field added to the struct but not to the list above would escape the tests. */
_Static_assert(sizeof(struct go_offsets) ==
		       sizeof(int) + sizeof(go_offsets_fields) / sizeof(go_offsets_fields[0]) *
					     sizeof(uint32_t),
	       "go_offsets_fields must list every field of struct go_offsets");

const struct go_offsets *go_offsets_newest(void)
{
	return &table[sizeof(table) / sizeof(table[0]) - 1];
}

unsigned go_offsets_field_part(const struct go_offsets_field *f)
{
	return f->part;
}

/* One field [off, off + size) of a struct of struct_size bytes. */
struct span {
	const char *name;
	uint32_t off, size;
};

/*
 * Every span inside the struct, none overlapping another, the struct no larger
 * than max. False with *why set otherwise.
 */
static bool spans_fit(const char *st, uint32_t struct_size, uint32_t max, const struct span *v,
		      int n, char *why, size_t len)
{
	if (!struct_size || struct_size > max) {
		snprintf(why, len, "%s is %u bytes, outside 1..%u", st, struct_size, max);
		return false;
	}
	for (int i = 0; i < n; i++) {
		if ((uint64_t)v[i].off + v[i].size > struct_size) {
			snprintf(why, len, "%s.%s at %u (%u bytes) is past the struct's end (%u)", st,
				 v[i].name, v[i].off, v[i].size, struct_size);
			return false;
		}
		for (int j = 0; j < i; j++)
			if (v[i].off < (uint64_t)v[j].off + v[j].size &&
			    v[j].off < (uint64_t)v[i].off + v[i].size) {
				snprintf(why, len, "%s.%s and %s.%s overlap (at %u and %u)", st,
					 v[j].name, st, v[i].name, v[j].off, v[i].off);
				return false;
			}
	}
	return true;
}

static bool g_ok(const struct go_offsets *o, char *why, size_t len)
{
	struct span g[12] = {{"atomicstatus", o->g_atomicstatus, 4},
			     {"goid", o->g_goid, 8},
			     {"waitreason", o->g_waitreason, 1},
			     {"gopc", o->g_gopc, 8},
			     {"startpc", o->g_startpc, 8},
			     {"sched.sp", o->g_sched_sp, 8},
			     {"sched.pc", o->g_sched_pc, 8},
			     {"sched.bp", o->g_sched_bp, 8},
			     {"stack.lo", o->g_stack_lo, 8},
			     {"stack.hi", o->g_stack_hi, 8},
			     {"waitsince", o->g_waitsince, 8}};
	int n = 11;

	if (o->g_parent_goid)
		g[n++] = (struct span){"parentGoid", o->g_parent_goid, 8};
	if (!spans_fit("runtime.g", o->g_size, GO_MAX_G_SIZE, g, n, why, len))
		return false;
	if (o->nwaitreasons > GO_MAX_WAITREASONS) {
		snprintf(why, len, "runtime.waitReasonStrings has %u entries, more than %u",
			 o->nwaitreasons, GO_MAX_WAITREASONS);
		return false;
	}
	return true;
}

static bool profile_ok(const struct go_offsets *o, char *why, size_t len)
{
	const struct span b[] = {{"next", o->bucket_next, 8}, {"allnext", o->bucket_allnext, 8},
				 {"typ", o->bucket_typ, 8},   {"size", o->bucket_size, 8},
				 {"nstk", o->bucket_nstk, 8}};
	struct span c[4] = {{"allocs", o->mrc_allocs, 8}, {"frees", o->mrc_frees, 8}};
	bool bytes = o->mrc_alloc_bytes || o->mrc_free_bytes;
	int n = 2;

	if (bytes) {
		c[n++] = (struct span){"alloc_bytes", o->mrc_alloc_bytes, 8};
		c[n++] = (struct span){"free_bytes", o->mrc_free_bytes, 8};
	}
	if (!spans_fit("runtime.bucket", o->bucket_hdr, GO_MAX_BUCKET_HDR, b, 5, why, len) ||
	    !spans_fit("runtime.memRecordCycle", o->mrc_size, GO_MAX_MEMRECORD / 4, c, n, why,
		       len))
		return false;
	if (o->memrecord_size != 4 * o->mrc_size) {
		snprintf(why, len, "runtime.memRecord is %u bytes, not 4 cycles of %u",
			 o->memrecord_size, o->mrc_size);
		return false;
	}
	if (bytes && (!o->mrc_alloc_bytes || !o->mrc_free_bytes)) {
		snprintf(why, len, "runtime.memRecordCycle has one byte count of two");
		return false;
	}
	return true;
}

static bool pacer_ok(const struct go_offsets *o, char *why, size_t len)
{
	const struct span c[] = {{"heapLive", o->gcc_heap_live, 8},
				 {"heapMarked", o->gcc_heap_marked, 8},
				 {"totalAlloc", o->gcc_total_alloc, 8},
				 {"totalFree", o->gcc_total_free, 8}};

	return spans_fit("runtime.gcControllerState", o->gcc_size, GO_MAX_GCC_SIZE, c, 4, why,
			 len);
}

static bool heapstats_ok(const struct go_offsets *o, char *why, size_t len)
{
	uint32_t arr = 8 * o->nsizeclasses;
	const struct span h[] = {{"tinyAllocCount", o->hsd_tiny_alloc_count, 8},
				 {"largeAllocCount", o->hsd_large_alloc_count, 8},
				 {"smallAllocCount", o->hsd_small_alloc_count, arr},
				 {"largeFreeCount", o->hsd_large_free_count, 8},
				 {"smallFreeCount", o->hsd_small_free_count, arr}};
	const struct span m[] = {{"numgc", o->memstats_numgc, 4},
				 {"heapStats", o->memstats_heap_stats, 3 * o->hsd_size}};

	if (!o->nsizeclasses || o->nsizeclasses > GO_MAX_SIZECLASSES) {
		snprintf(why, len, "runtime.heapStatsDelta counts %u size classes, outside 1..%u",
			 o->nsizeclasses, GO_MAX_SIZECLASSES);
		return false;
	}
	return spans_fit("runtime.heapStatsDelta", o->hsd_size, GO_MAX_HSD_SIZE, h, 5, why, len) &&
	       spans_fit("runtime.mstats", o->mstats_size, GO_MAX_MSTATS_SIZE, m, 2, why, len);
}

unsigned go_offsets_check(const struct go_offsets *o, char *why, size_t len)
{
	static bool (*const checks[])(const struct go_offsets *, char *, size_t) = {
		g_ok, profile_ok, pacer_ok, heapstats_ok};
	static const unsigned parts[] = {GO_LAYOUT_G, GO_LAYOUT_PROFILE, GO_LAYOUT_PACER,
					 GO_LAYOUT_HEAPSTATS};
	char buf[160];
	unsigned ok = 0;

	if (why && len)
		why[0] = 0;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i](o, buf, sizeof(buf)))
			ok |= parts[i];
		else if (why && len && !why[0])
			snprintf(why, len, "%s", buf);
	}
	return ok;
}

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
	D_MEMRECORDCYCLE,
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
	[D_MEMRECORDCYCLE] = { "runtime.memRecordCycle", DW_TAG_structure_type },
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
	F(D_G, "waitsince", g_waitsince),
	F(D_BUCKET, "next", bucket_next),
	F(D_BUCKET, "allnext", bucket_allnext),
	F(D_BUCKET, "typ", bucket_typ),
	F(D_BUCKET, "size", bucket_size),
	F(D_BUCKET, "nstk", bucket_nstk),
	F(D_MEMRECORDCYCLE, "allocs", mrc_allocs),
	F(D_MEMRECORDCYCLE, "frees", mrc_frees),
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
	/* Struct sizes, for the bounds every field is checked against. */
	static const struct {
		int die;
		size_t dst;
	} sizes[] = {
		{D_G, offsetof(struct go_offsets, g_size)},
		{D_MEMRECORDCYCLE, offsetof(struct go_offsets, mrc_size)},
		{D_GCCONTROLLER, offsetof(struct go_offsets, gcc_size)},
		{D_MSTATS, offsetof(struct go_offsets, mstats_size)},
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (d.have[sizes[i].die] && byte_size(&d.die[sizes[i].die], &v))
			set(o, sizes[i].dst, v, &found);
	/* A cycle's bytes: fields up to 1.26, absent (0) from 1.27 (counts times size). */
	if (d.have[D_MEMRECORDCYCLE]) {
		static const char *const names[] = {"alloc_bytes", "free_bytes"};
		static const size_t dsts[] = {offsetof(struct go_offsets, mrc_alloc_bytes),
					      offsetof(struct go_offsets, mrc_free_bytes)};

		for (int i = 0; i < 2; i++)
			set(o, dsts[i],
			    member_offset(&d.die[D_MEMRECORDCYCLE], names[i], &v, NULL) ? v : 0,
			    &found);
	}
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
