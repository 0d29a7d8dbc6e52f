/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small protocol buffers encoder (the wire format only: varints, fixed tags,
 * length-delimited fields, packed repeated integers, nested messages) into a
 * growable byte buffer, and a writer of such a buffer gzip-compressed. Enough
 * for pprof's profile.proto; no schema, no decoding.
 */
#ifndef LEAKSCOPE_LIB_PBENC_H
#define LEAKSCOPE_LIB_PBENC_H

#include <stddef.h>
#include <stdint.h>

enum pb_wire {
	PB_VARINT = 0,
	PB_LEN = 2,
};

struct pbuf {
	uint8_t *p;
	size_t len, cap;
};

void pb_free(struct pbuf *b);

void pb_varint(struct pbuf *b, uint64_t v);
void pb_tag(struct pbuf *b, uint32_t field, enum pb_wire wire);
void pb_raw(struct pbuf *b, const void *p, size_t n);

/* One field each; written even when zero (leaving defaults out is the caller's choice). */
void pb_uint64(struct pbuf *b, uint32_t field, uint64_t v);
/* int64 is a varint of the two's complement: a negative value takes 10 bytes. */
void pb_int64(struct pbuf *b, uint32_t field, int64_t v);
void pb_bool(struct pbuf *b, uint32_t field, int v);
void pb_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n);
void pb_string(struct pbuf *b, uint32_t field, const char *s);
/* Packed repeated fields: one length-delimited field holding the varints; none if n == 0. */
void pb_packed_u64(struct pbuf *b, uint32_t field, const uint64_t *v, size_t n);
void pb_packed_i64(struct pbuf *b, uint32_t field, const int64_t *v, size_t n);

/*
 * A nested message: pb_begin writes the tag and returns where the body starts;
 * the body is then written to b, and pb_end puts its length in front of it.
 */
size_t pb_begin(struct pbuf *b, uint32_t field);
void pb_end(struct pbuf *b, size_t start);

/* Write n bytes gzip-compressed (a gzip member, RFC 1952) to path. 0 or -errno. */
int pb_write_gzip(const char *path, const void *p, size_t n);

#endif
