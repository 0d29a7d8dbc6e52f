// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/pbenc.h"
#include "lib/util.h"

void pb_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void reserve(struct pbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	b->cap = MAX(b->cap * 2, b->len + n + 64);
	b->p = xrealloc(b->p, b->cap);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Base 128, least significant group first, the high bit set on all but the last byte. */
static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void pb_varint(struct pbuf *b, uint64_t v)
{
	reserve(b, 10);
	b->len += put_varint(b->p + b->len, v);
}

void pb_tag(struct pbuf *b, uint32_t field, enum pb_wire wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void pb_raw(struct pbuf *b, const void *p, size_t n)
{
	if (!n)
		return;
	reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void pb_uint64(struct pbuf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_int64(struct pbuf *b, uint32_t field, int64_t v)
{
	pb_uint64(b, field, (uint64_t)v);
}

void pb_bool(struct pbuf *b, uint32_t field, int v)
{
	pb_uint64(b, field, !!v);
}

void pb_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

void pb_string(struct pbuf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_packed_u64(struct pbuf *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	/* The length goes first: count the bytes, then write them. */
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	pb_tag(b, field, PB_LEN);
	pb_varint(b, len);
	reserve(b, len);
	for (size_t i = 0; i < n; i++)
		b->len += put_varint(b->p + b->len, v[i]);
}

void pb_packed_i64(struct pbuf *b, uint32_t field, const int64_t *v, size_t n)
{
	/* Same varints: int64 is encoded as its two's complement uint64. */
	pb_packed_u64(b, field, (const uint64_t *)v, n);
}

size_t pb_begin(struct pbuf *b, uint32_t field)
{
	pb_tag(b, field, PB_LEN);
	return b->len;
}

void pb_end(struct pbuf *b, size_t start)
{
	size_t body = b->len - start, k = varint_len(body);

	/* The body's length is known only now: shift the body to make room for it. */
	reserve(b, k);
	memmove(b->p + start + k, b->p + start, body);
	put_varint(b->p + start, body);
	b->len += k;
}

int pb_write_gzip(const char *path, const void *p, size_t n)
{
	const uint8_t *c = p;
	int err = 0, zerr;
	gzFile gz;

	errno = 0;
	gz = gzopen(path, "wb");
	if (!gz)
		return errno ? -errno : -ENOMEM;
	/* gzwrite takes an unsigned length: big buffers go in pieces. */
	while (n && !err) {
		unsigned chunk = MIN(n, 1u << 30);

		if (gzwrite(gz, c, chunk) != (int)chunk) {
			gzerror(gz, &zerr);
			err = zerr == Z_ERRNO && errno ? -errno : -EIO;
		}
		c += chunk;
		n -= chunk;
	}
	/* gzclose flushes what is still buffered: a full disk shows only here. */
	zerr = gzclose(gz);
	if (!err && zerr != Z_OK)
		err = zerr == Z_ERRNO && errno ? -errno : -EIO;
	if (err)
		unlink(path);
	return err;
}
