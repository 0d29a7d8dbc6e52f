// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the Go runtime layout reader (user/golang/offsets.c): arbitrary
 * bytes as an ELF file with DWARF, read by go_offsets_from_dwarf() (libdw underneath),
 * then the checks every layout passes before a reader uses it. Whatever the input, the
 * reader must not crash, and a layout that passes the checks must keep each field
 * inside the bounds the readers size their buffers by. See tests/fuzz/README.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "golang/offsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_offsets o;
	int fd = memfd_create("fuzz_go_offsets", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	memset(&o, 0xff, sizeof(o));
	if (go_offsets_from_dwarf(fd, &o) > 0) {
		unsigned ok = go_offsets_check(&o, NULL, 0);

		if ((ok & GO_LAYOUT_G) && (o.g_size > GO_MAX_G_SIZE || o.g_goid + 8 > o.g_size))
			abort();
		if ((ok & GO_LAYOUT_PROFILE) &&
		    (o.bucket_hdr > GO_MAX_BUCKET_HDR || o.memrecord_size > GO_MAX_MEMRECORD ||
		     o.bucket_nstk + 8 > o.bucket_hdr))
			abort();
		if ((ok & GO_LAYOUT_HEAPSTATS) &&
		    (o.hsd_size > GO_MAX_HSD_SIZE ||
		     o.hsd_small_free_count + 8ull * o.nsizeclasses > o.hsd_size))
			abort();
	}
	close(fd);
	return 0;
}
