// SPDX-License-Identifier: GPL-2.0
/*
 * dwarf-lie: make a Go binary's DWARF lie about a runtime struct, for the tests of
 * what leakscope does with a layout it must not trust (tests/cases/gorelease.sh).
 *
 *   dwarf-lie BINARY STRUCT MEMBER NEWOFFSET
 *
 * rewrites, in place, DW_AT_data_member_location of STRUCT.MEMBER (e.g.
 * runtime.bucket nstk 120). The binary must carry uncompressed DWARF
 * (go build -ldflags=-compressdwarf=false); the new offset must encode in as
 * many bytes as the old one.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int uleb_len(unsigned long long v)
{
	int n = 1;

	while (v >>= 7)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	Dwarf_Off off = 0, next;
	unsigned long long want;
	size_t hsize, rawsize;
	const char *raw;
	Dwarf *dw;
	Elf *elf;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s BINARY STRUCT MEMBER NEWOFFSET\n", argv[0]);
		return 2;
	}
	want = strtoull(argv[4], NULL, 0);
	elf_version(EV_CURRENT);
	fd = open(argv[1], O_RDONLY);
	elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	raw = elf ? elf_rawfile(elf, &rawsize) : NULL;
	if (!dw || !raw) {
		fprintf(stderr, "%s: no DWARF\n", argv[1]);
		return 1;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die, m;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *n = dwarf_diename(&die);

				if (dwarf_tag(&die) != DW_TAG_structure_type || !n ||
				    strcmp(n, argv[2]) || dwarf_child(&die, &m) != 0)
					continue;
				do {
					Dwarf_Attribute a;
					Dwarf_Word old;
					const char *mn = dwarf_diename(&m);
					long pos;
					int len;

					if (!mn || strcmp(mn, argv[3]) ||
					    !dwarf_attr(&m, DW_AT_data_member_location, &a) ||
					    dwarf_formudata(&a, &old))
						continue;
					pos = (const char *)a.valp - raw;
					if (pos < 0 || (size_t)pos >= rawsize) {
						fprintf(stderr, "compressed DWARF: build with "
								"-ldflags=-compressdwarf=false\n");
						return 1;
					}
					switch (a.form) {
					case DW_FORM_data1:
						len = 1;
						break;
					case DW_FORM_udata:
						len = uleb_len(old);
						break;
					default:
						fprintf(stderr, "form 0x%x not handled\n", a.form);
						return 1;
					}
					if ((a.form == DW_FORM_data1 && want > 255) ||
					    (a.form == DW_FORM_udata && uleb_len(want) != len)) {
						fprintf(stderr, "%llu does not fit where %llu was\n", want,
							(unsigned long long)old);
						return 1;
					}
					unsigned char buf[10];
					unsigned long long v = want;

					for (int i = 0; i < len; i++, v >>= 7)
						buf[i] = (v & 0x7f) | (i + 1 < len && a.form == DW_FORM_udata
								       ? 0x80 : 0);
					if (a.form == DW_FORM_data1)
						buf[0] = want;
					int wfd = open(argv[1], O_WRONLY);
					if (wfd < 0 || pwrite(wfd, buf, len, pos) != len) {
						perror(argv[1]);
						return 1;
					}
					close(wfd);
					printf("%s.%s: %llu -> %llu at file offset %ld\n", argv[2], argv[3],
					       (unsigned long long)old, want, pos);
					return 0;
				} while (dwarf_siblingof(&m, &m) == 0);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	fprintf(stderr, "%s.%s not found\n", argv[2], argv[3]);
	return 1;
}
