// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the /proc/PID/maps parser (user/target/proc.c): arbitrary bytes
 * as the file. The kernel writes it, but the paths in it are the target's (a file name
 * holds any byte but '/' and NUL, and a mount namespace names them), and lines can be
 * any length. Whatever the input, nothing may crash or leak, and every entry handed out
 * must be whole: start <= end, perms a string of at most 4 characters, a path string.
 */
#include "target/proc.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = fuzz_copy(data, size);
	struct proc_maps m;
	FILE *fp = fmemopen(buf, size ? size : 1, "r");

	if (!fp)
		goto out;
	if (!size)
		fgetc(fp); /* fmemopen wants a size: an empty input is one byte, read past */
	if (proc_maps_parse(fp, &m))
		abort();
	fclose(fp);
	for (size_t i = 0; i < m.n; i++) {
		if (m.v[i].start > m.v[i].end || strnlen(m.v[i].perms, 5) > 4)
			abort();
		fuzz_str(m.v[i].path);
	}
	proc_maps_free(&m);
	if (m.v || m.n)
		abort();
out:
	free(buf);
	return 0;
}
