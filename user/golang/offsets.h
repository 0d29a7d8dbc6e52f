/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Offsets into the Go runtime's own data structures (amd64), per Go minor
 * release: a table checked against the DWARF of real binaries, and a reader
 * that takes them from a binary's DWARF when it has some. Every number in the
 * table was read from DWARF, not from the Go sources; tools/go-offsets.sh
 * prints a new row, tests/unit/go_offsets.sh re-checks the rows.
 */
#ifndef LEAKSCOPE_GO_OFFSETS_H
#define LEAKSCOPE_GO_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

/* Oldest and newest Go minor releases with a table row. */
#define GO_OFFSETS_MIN_MINOR 19
#define GO_OFFSETS_MAX_MINOR 27

/*
 * Goroutine status values (runtime2.go, same in every release 1.19..1.26).
 * 1.26 adds _Gleaked (10, a goroutine the GC proved unreachable, only with
 * GOEXPERIMENT=goroutineleakprofile) and _Gdeadextra (11, the dead g parked
 * on an extra M for cgo callbacks: treat it like _Gdead).
 */
#define GO_GSTATUS_SCAN 0x1000 /* or'ed in while the GC scans the stack */

struct go_offsets {
	int go_minor; /* 19 for go1.19 */

	/* runtime.g: its size, then fields */
	uint32_t g_size;
	uint32_t g_atomicstatus, g_goid, g_waitreason, g_parent_goid /* 0 = absent */, g_gopc,
		g_startpc;
	/* g.sched.{sp,pc,bp} (g.sched is a runtime.gobuf), g.stack.{lo,hi}, g.m, and
	 * g.waitsince (nanotime when a GC first saw it waiting, 0 until then) */
	uint32_t g_sched_sp, g_sched_pc, g_sched_bp, g_stack_lo, g_stack_hi, g_m, g_waitsince;

	/* heap profile buckets (runtime.bucket); the stack PCs, nstk of them, start at bucket_hdr */
	uint32_t bucket_next, bucket_allnext, bucket_typ, bucket_size, bucket_nstk, bucket_hdr;
	/* runtime.memRecord, right after stk[nstk]: active then future[3], each a
	 * memRecordCycle {allocs, frees uintptr; up to 1.26 also alloc_bytes,
	 * free_bytes; from 1.27 bytes are counts times the bucket's size} */
	uint32_t memrecord_size;
	uint32_t mrc_size, mrc_allocs, mrc_frees, mrc_alloc_bytes, mrc_free_bytes; /* bytes: 0 = absent */

	/* runtime.gcController (gcControllerState) and runtime.memstats (mstats), their
	 * sizes and fields. For atomic.Uint64 fields the offset is that of the value inside. */
	uint32_t gcc_size, mstats_size;
	uint32_t gcc_heap_live, gcc_heap_marked, gcc_total_alloc, gcc_total_free, memstats_numgc;

	/* number of entries in runtime.waitReasonStrings */
	uint32_t nwaitreasons;

	/*
	 * Found necessary beyond the brief:
	 *
	 * Live heap object count (MemStats.HeapObjects) without stopping the world:
	 * runtime.memstats.heapStats is a consistentHeapStats, a ring of 3
	 * heapStatsDelta shards. HeapObjects = sum over the 3 shards of
	 * (largeAllocCount + sum smallAllocCount[]) - (largeFreeCount + sum
	 * smallFreeCount[]). Small allocations are counted when an mcache span is
	 * refilled or flushed (every P's mcache is flushed at each GC's mark
	 * termination), frees when spans are swept.
	 */
	uint32_t memstats_heap_stats;	/* offset of heapStats in mstats */
	uint32_t heapstats_gen;		/* offset of gen (uint32) in consistentHeapStats */
	uint32_t hsd_size;		/* sizeof(heapStatsDelta): shard stride */
	uint32_t hsd_tiny_alloc_count, hsd_large_alloc_count, hsd_small_alloc_count,
		hsd_large_free_count, hsd_small_free_count; /* small*: arrays of uint64 */
	uint32_t nsizeclasses; /* entries in smallAllocCount[] and smallFreeCount[] */

	/* Profile specials (mheap.go): a sampled object carries a specialprofile
	 * {special; b *bucket} in its span's specials list. */
	uint32_t special_kind;	       /* offset of special.kind (uint8) */
	uint32_t specialprofile_b;     /* offset of specialprofile.b */
	uint32_t kind_special_profile; /* value of _KindSpecialProfile */
};

/* Every field of struct go_offsets but go_minor, by name, in declaration order
 * (for printing a table row and comparing two sets of offsets). */
struct go_offsets_field {
	const char *name;
	size_t off; /* offsetof(struct go_offsets, name); each field is a uint32_t */
	unsigned part; /* enum go_layout_part, 0 for fields no reader uses yet */
};
extern const struct go_offsets_field go_offsets_fields[];
extern const size_t go_offsets_nfields;

static inline uint32_t go_offsets_get(const struct go_offsets *o, const struct go_offsets_field *f)
{
	return *(const uint32_t *)((const char *)o + f->off);
}

/* Table lookup by minor version; NULL if unknown. The newest row: */
const struct go_offsets *go_offsets_for_version(int go_minor);
const struct go_offsets *go_offsets_newest(void);

/*
 * The parts of a layout, each used by one reader. A part is used only when all
 * its fields lie inside their structs, apart from each other, and its structs are
 * no larger than the buffers the readers size by the bounds below.
 */
enum go_layout_part {
	GO_LAYOUT_G = 1 << 0,	      /* runtime.g: the goroutine list */
	GO_LAYOUT_PROFILE = 1 << 1,   /* runtime.bucket, memRecord: heap in use by stack */
	GO_LAYOUT_PACER = 1 << 2,     /* runtime.gcControllerState: heap at attach, bytes allocated */
	GO_LAYOUT_HEAPSTATS = 1 << 3, /* runtime.mstats.heapStats: HeapObjects */
	GO_LAYOUT_ALL = (1 << 4) - 1,
};

#define GO_MAX_G_SIZE 2048
#define GO_MAX_BUCKET_HDR 64 /* bytes of runtime.bucket before its stack */
#define GO_MAX_MEMRECORD 256
#define GO_MAX_GCC_SIZE 4096
#define GO_MAX_MSTATS_SIZE 65536
#define GO_MAX_HSD_SIZE 8192
#define GO_MAX_SIZECLASSES 256
#define GO_MAX_WAITREASONS 256

/* Which part a field of struct go_offsets belongs to (0: none, a plain number). */
unsigned go_offsets_field_part(const struct go_offsets_field *f);

/*
 * The parts of o that pass the checks above; *why (when not NULL) gets the first
 * failure, as "runtime.bucket.nstk at 104 is past the struct's end (48)".
 */
unsigned go_offsets_check(const struct go_offsets *o, char *why, size_t len);

/*
 * Fill *o from the binary's DWARF (the .debug_* sections Go compresses with
 * zlib; libdw inflates them). Fields not found stay as they were, so callers
 * can start from the table row; go_minor is never touched. Returns the number
 * of fields found, or -errno: -ENODATA when the file has no DWARF (built with
 * -ldflags=-w or stripped), -EINVAL when it is not an ELF file. `fd` is an
 * open fd on the ELF file; it is neither moved nor closed.
 */
int go_offsets_from_dwarf(int fd, struct go_offsets *o);

#endif
