// SPDX-License-Identifier: GPL-2.0
/*
 * test_go_offsets BINARY MINOR [--no-dwarf]
 *
 * Checks the go_offsets table row for go1.MINOR against what BINARY's DWARF
 * says, field by field, and that the DWARF reader finds every field. With
 * --no-dwarf (a binary built with -ldflags=-s -w) it checks that the reader
 * reports -ENODATA and leaves the offsets untouched. Also checks the lookup's
 * edges and that a file that is not ELF is refused. Prints one line per
 * problem; exit status 0 when there is none. Run by tests/unit/go_offsets.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stddef.h>
#include <stdint.h>

#include "golang/offsets.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("    " __VA_ARGS__);                                                 \
			putchar('\n');                                                             \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void check_lookup(void)
{
	CHECK(!go_offsets_for_version(GO_OFFSETS_MIN_MINOR - 1), "go1.%d should be unknown",
	      GO_OFFSETS_MIN_MINOR - 1);
	CHECK(!go_offsets_for_version(GO_OFFSETS_MAX_MINOR + 1), "go1.%d should be unknown",
	      GO_OFFSETS_MAX_MINOR + 1);
	for (int m = GO_OFFSETS_MIN_MINOR; m <= GO_OFFSETS_MAX_MINOR; m++) {
		const struct go_offsets *o = go_offsets_for_version(m);

		CHECK(o && o->go_minor == m, "no table row for go1.%d", m);
		/* Cheap sanity on every row, whatever binary we were given. */
		if (o) {
			CHECK(o->g_goid > o->g_atomicstatus && o->g_gopc < o->g_startpc,
			      "go1.%d: g offsets out of order", m);
			CHECK(o->bucket_hdr >= o->bucket_nstk + 8, "go1.%d: bucket header", m);
			CHECK(o->memrecord_size == 4 * o->mrc_size, "go1.%d: memRecord is not 4 cycles",
			      m);
			CHECK(o->mrc_size == (m >= 27 ? 16 : 32), "go1.%d: memRecordCycle is %u bytes", m,
			      o->mrc_size);
			CHECK(go_offsets_check(o, NULL, 0) == GO_LAYOUT_ALL,
			      "go1.%d: the table's row fails its own checks", m);
		}
	}
	CHECK(go_offsets_newest()->go_minor == GO_OFFSETS_MAX_MINOR, "newest row is not go1.%d",
	      GO_OFFSETS_MAX_MINOR);
}

/* Layouts that lie (a crafted binary's DWARF): each part fails alone, with a reason. */
static void check_lies(void)
{
	const struct go_offsets *row = go_offsets_newest();
	struct {
		const char *what;
		size_t field;
		uint32_t value;
		unsigned part;
		const char *reason;
	} lies[] = {
		{"bucket.nstk past the header", offsetof(struct go_offsets, bucket_nstk), 104,
		 GO_LAYOUT_PROFILE, "past the struct's end"},
		{"a bucket header larger than the reader's buffer", offsetof(struct go_offsets, bucket_hdr),
		 4096, GO_LAYOUT_PROFILE, "outside 1.."},
		{"memRecord not 4 cycles", offsetof(struct go_offsets, memrecord_size), 128,
		 GO_LAYOUT_PROFILE, "not 4 cycles"},
		{"g.goid on top of g.atomicstatus", offsetof(struct go_offsets, g_goid), 140,
		 GO_LAYOUT_G, "overlap"},
		{"g larger than the reader bounds", offsetof(struct go_offsets, g_size), 1u << 20,
		 GO_LAYOUT_G, "outside 1.."},
		{"heapStatsDelta arrays past its end", offsetof(struct go_offsets, nsizeclasses), 200,
		 GO_LAYOUT_HEAPSTATS, "past the struct's end"},
		{"absurd size-class count", offsetof(struct go_offsets, nsizeclasses), 0xffffffffu,
		 GO_LAYOUT_HEAPSTATS, "size classes"},
		{"gcController field unset (DWARF lacked it)",
		 offsetof(struct go_offsets, gcc_total_alloc), 0xffffffffu, GO_LAYOUT_PACER,
		 "past the struct's end"},
	};

	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		struct go_offsets o = *row;
		char why[160];
		unsigned ok;

		*(uint32_t *)((char *)&o + lies[i].field) = lies[i].value;
		ok = go_offsets_check(&o, why, sizeof(why));
		CHECK(ok == (GO_LAYOUT_ALL & ~lies[i].part), "%s: parts 0x%x pass", lies[i].what, ok);
		CHECK(strstr(why, lies[i].reason), "%s: reason \"%s\"", lies[i].what, why);
	}
}

static void check_not_elf(void)
{
	char path[] = "/tmp/test_go_offsets.XXXXXX";
	struct go_offsets o = {};
	int fd = mkstemp(path);

	if (fd < 0) {
		CHECK(0, "mkstemp: %s", strerror(errno));
		return;
	}
	CHECK(write(fd, "not an ELF file, just text\n", 27) == 27, "write: %s", strerror(errno));
	int n = go_offsets_from_dwarf(fd, &o);
	CHECK(n == -EINVAL, "non-ELF file: got %d, want -EINVAL", n);
	close(fd);
	unlink(path);
}

int main(int argc, char **argv)
{
	const struct go_offsets *row;
	struct go_offsets d;
	bool no_dwarf = argc == 4 && !strcmp(argv[3], "--no-dwarf");
	int fd, n, minor;

	if ((argc != 3 && !no_dwarf) || (minor = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s BINARY MINOR [--no-dwarf]\n", argv[0]);
		return 2;
	}
	check_lookup();
	check_lies();
	check_not_elf();

	row = go_offsets_for_version(minor);
	CHECK(row, "no table row for go1.%d", minor);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		printf("    %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* All-ones: a field the reader did not set cannot pass for a real offset. */
	memset(&d, 0xff, sizeof(d));
	d.go_minor = minor;
	n = go_offsets_from_dwarf(fd, &d);
	close(fd);

	if (no_dwarf) {
		CHECK(n == -ENODATA, "%s: got %d, want -ENODATA", argv[1], n);
		for (size_t i = 0; i < go_offsets_nfields; i++)
			CHECK(go_offsets_get(&d, &go_offsets_fields[i]) == 0xffffffffu,
			      "%s: %s touched without DWARF", argv[1], go_offsets_fields[i].name);
		return failures ? 1 : 0;
	}

	CHECK(n == (int)go_offsets_nfields, "%s: DWARF gave %d of %zu fields", argv[1], n,
	      go_offsets_nfields);
	CHECK(d.go_minor == minor, "go_minor changed to %d", d.go_minor);
	CHECK(go_offsets_check(&d, NULL, 0) == GO_LAYOUT_ALL, "%s: its DWARF layout fails the checks",
	      argv[1]);
	if (row) {
		for (size_t i = 0; i < go_offsets_nfields; i++) {
			const struct go_offsets_field *f = &go_offsets_fields[i];

			CHECK(go_offsets_get(row, f) == go_offsets_get(&d, f),
			      "go1.%d %s: table %u, DWARF %u", minor, f->name,
			      go_offsets_get(row, f), go_offsets_get(&d, f));
		}
	}
	return failures ? 1 : 0;
}
