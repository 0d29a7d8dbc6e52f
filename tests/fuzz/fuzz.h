/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harnesses share: the input copied into a buffer of exactly its size (so that
 * AddressSanitizer catches any read past it, where libFuzzer's own buffer may have
 * slack), words taken from the input to pick addresses and indices, and a read of every
 * byte a reader hands out, so that a pointer outside the input is caught where it is
 * made rather than where a caller would use it.
 */
#ifndef LEAKSCOPE_FUZZ_H
#define LEAKSCOPE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	return buf;
}

/* The i-th 8-byte word of the input (wrapping), 0 for inputs shorter than a word. */
static inline uint64_t fuzz_word(const uint8_t *d, size_t size, size_t i)
{
	uint64_t v = 0;

	if (size >= 8)
		memcpy(&v, d + (i * 8) % (size - 7), 8);
	return v;
}

/* Touches len bytes at p; aborts unless they lie inside [buf, buf+size). */
static inline void fuzz_inside(const void *p, size_t len, const uint8_t *buf, size_t size,
			       const char *what)
{
	const uint8_t *q = p;
	volatile uint8_t sink = 0;

	if (q < buf || q > buf + size || len > (size_t)(buf + size - q)) {
		fprintf(stderr, "%s: %zu bytes at %p, outside the input [%p, +%zu)\n", what, len,
			p, (const void *)buf, size);
		abort();
	}
	for (size_t i = 0; i < len; i += 4096)
		sink += q[i];
	if (len)
		sink += q[len - 1];
	(void)sink;
}

/* A string a reader hands out: read it whole (ASan checks every byte up to its NUL). */
static inline size_t fuzz_str(const char *s)
{
	return s ? strlen(s) : 0;
}

#endif
