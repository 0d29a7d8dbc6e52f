// SPDX-License-Identifier: GPL-2.0
/*
 * A main() for a fuzz harness without libFuzzer: feeds each file named on the command line
 * to LLVMFuzzerTestOneInput once (tests/unit/fuzz_regress.sh builds every harness with it
 * and AddressSanitizer + UBSan, and replays the regression corpus). Exits 0 when all ran;
 * a sanitizer report or an abort in the harness ends the process with its failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t n = 0, cap = 0, r;

		fprintf(stderr, "Running: %s\n", argv[i]);
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		do {
			if (n == cap) {
				cap = cap ? 2 * cap : 65536;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			r = fread(buf + n, 1, cap - n, f);
			n += r;
		} while (r);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		free(buf);
	}
	return 0;
}
