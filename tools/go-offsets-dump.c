// SPDX-License-Identifier: GPL-2.0
/*
 * go-offsets-dump BINARY VERSION: print the go_offsets table row for a Go
 * binary that has DWARF, in the layout of user/golang/offsets.c, and say on
 * stderr how it differs from the row already in the table. Built and run by
 * tools/go-offsets.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golang/offsets.h"

int main(int argc, char **argv)
{
	struct go_offsets o;
	const struct go_offsets *row;
	int fd, n, minor, col;

	if (argc != 3 || sscanf(argv[2], "go1.%d", &minor) != 1) {
		fprintf(stderr, "usage: %s BINARY go1.N[.P]\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* Start from all-ones so a field DWARF did not give is visible. */
	memset(&o, 0xff, sizeof(o));
	o.go_minor = minor;
	n = go_offsets_from_dwarf(fd, &o);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: no usable DWARF: %s\n", argv[1], strerror(-n));
		return 1;
	}

	printf("\t/* checked against %s */\n\t{ .go_minor = %d,", argv[2], minor);
	col = 100;
	for (size_t i = 0; i < go_offsets_nfields; i++) {
		const struct go_offsets_field *f = &go_offsets_fields[i];
		char buf[64];
		int len = snprintf(buf, sizeof(buf), " .%s = %u%s", f->name, go_offsets_get(&o, f),
				   i + 1 < go_offsets_nfields ? "," : "");

		if (col + len > 92) {
			printf("\n\t ");
			col = 9;
		}
		fputs(buf, stdout);
		col += len;
	}
	printf(" },\n");

	if ((size_t)n != go_offsets_nfields)
		fprintf(stderr, "warning: DWARF gave %d of %zu fields; 4294967295 marks the missing\n",
			n, go_offsets_nfields);
	row = go_offsets_for_version(minor);
	if (!row) {
		fprintf(stderr, "go1.%d has no row in user/golang/offsets.c yet: add the one above\n",
			minor);
		return 0;
	}
	n = 0;
	for (size_t i = 0; i < go_offsets_nfields; i++) {
		const struct go_offsets_field *f = &go_offsets_fields[i];

		if (go_offsets_get(row, f) != go_offsets_get(&o, f)) {
			fprintf(stderr, "differs from the table: %s = %u there\n", f->name,
				go_offsets_get(row, f));
			n++;
		}
	}
	if (!n)
		fprintf(stderr, "same as the go1.%d row in user/golang/offsets.c\n", minor);
	return n ? 3 : 0;
}
