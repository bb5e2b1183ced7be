/*
 * Bounded read cursor over untrusted bytes, and a bounded write cursor.
 *
 * Every parser in mesh/ reads through struct mesh_rbuf: a read past the end
 * fails and sets the sticky `err` flag instead of touching memory, so a parser
 * can read all its fields and check once at the end (mesh_rbuf_ok()).  The
 * cursor never owns the bytes; they are borrowed for the cursor's lifetime.
 *
 * Mesh headers are big-endian, access parameters little-endian
 * (../shared/mesh-reference/formats.md, "Conventions"); both are provided.
 */
#ifndef MESH_BUF_H
#define MESH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mesh_rbuf {
	const uint8_t *p; /* borrowed */
	size_t len;       /* bytes left */
	bool err;         /* a read ran past the end */
};

struct mesh_wbuf {
	uint8_t *p; /* borrowed, capacity `cap` */
	size_t cap;
	size_t len; /* bytes written */
	bool err;   /* a write did not fit */
};

static inline void mesh_rbuf_init(struct mesh_rbuf *b, const uint8_t *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->err = false;
}

static inline bool mesh_rbuf_ok(const struct mesh_rbuf *b)
{
	return !b->err;
}

/* True when every byte was consumed and no read failed. */
static inline bool mesh_rbuf_done(const struct mesh_rbuf *b)
{
	return !b->err && b->len == 0;
}

static inline const uint8_t *mesh_rbuf_pull(struct mesh_rbuf *b, size_t n)
{
	const uint8_t *r;

	if (b->err || n > b->len) {
		b->err = true;
		return NULL;
	}
	r = b->p;
	b->p += n;
	b->len -= n;
	return r;
}

static inline bool mesh_rbuf_copy(struct mesh_rbuf *b, void *dst, size_t n)
{
	const uint8_t *s = mesh_rbuf_pull(b, n);

	if (!s) {
		return false;
	}
	if (n) {
		memcpy(dst, s, n);
	}
	return true;
}

static inline uint8_t mesh_rbuf_u8(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 1);

	return s ? s[0] : 0;
}

static inline uint16_t mesh_rbuf_be16(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 2);

	return s ? (uint16_t)((s[0] << 8) | s[1]) : 0;
}

static inline uint16_t mesh_rbuf_le16(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 2);

	return s ? (uint16_t)((s[1] << 8) | s[0]) : 0;
}

static inline uint32_t mesh_rbuf_be24(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 3);

	return s ? ((uint32_t)s[0] << 16) | ((uint32_t)s[1] << 8) | s[2] : 0;
}

static inline uint32_t mesh_rbuf_le24(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 3);

	return s ? ((uint32_t)s[2] << 16) | ((uint32_t)s[1] << 8) | s[0] : 0;
}

static inline uint32_t mesh_rbuf_be32(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 4);

	return s ? ((uint32_t)s[0] << 24) | ((uint32_t)s[1] << 16) | ((uint32_t)s[2] << 8) | s[3]
		 : 0;
}

static inline uint32_t mesh_rbuf_le32(struct mesh_rbuf *b)
{
	const uint8_t *s = mesh_rbuf_pull(b, 4);

	return s ? ((uint32_t)s[3] << 24) | ((uint32_t)s[2] << 16) | ((uint32_t)s[1] << 8) | s[0]
		 : 0;
}

static inline void mesh_wbuf_init(struct mesh_wbuf *b, uint8_t *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->err = false;
}

static inline uint8_t *mesh_wbuf_push(struct mesh_wbuf *b, size_t n)
{
	uint8_t *r;

	if (b->err || n > b->cap - b->len) {
		b->err = true;
		return NULL;
	}
	r = b->p + b->len;
	b->len += n;
	return r;
}

static inline void mesh_wbuf_mem(struct mesh_wbuf *b, const void *src, size_t n)
{
	uint8_t *d = mesh_wbuf_push(b, n);

	if (d && n) {
		memcpy(d, src, n);
	}
}

static inline void mesh_wbuf_u8(struct mesh_wbuf *b, uint8_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 1);

	if (d) {
		d[0] = v;
	}
}

static inline void mesh_wbuf_be16(struct mesh_wbuf *b, uint16_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 2);

	if (d) {
		d[0] = (uint8_t)(v >> 8);
		d[1] = (uint8_t)v;
	}
}

static inline void mesh_wbuf_le16(struct mesh_wbuf *b, uint16_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 2);

	if (d) {
		d[0] = (uint8_t)v;
		d[1] = (uint8_t)(v >> 8);
	}
}

static inline void mesh_wbuf_be24(struct mesh_wbuf *b, uint32_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 3);

	if (d) {
		d[0] = (uint8_t)(v >> 16);
		d[1] = (uint8_t)(v >> 8);
		d[2] = (uint8_t)v;
	}
}

static inline void mesh_wbuf_le24(struct mesh_wbuf *b, uint32_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 3);

	if (d) {
		d[0] = (uint8_t)v;
		d[1] = (uint8_t)(v >> 8);
		d[2] = (uint8_t)(v >> 16);
	}
}

static inline void mesh_wbuf_be32(struct mesh_wbuf *b, uint32_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 4);

	if (d) {
		d[0] = (uint8_t)(v >> 24);
		d[1] = (uint8_t)(v >> 16);
		d[2] = (uint8_t)(v >> 8);
		d[3] = (uint8_t)v;
	}
}

static inline void mesh_wbuf_le32(struct mesh_wbuf *b, uint32_t v)
{
	uint8_t *d = mesh_wbuf_push(b, 4);

	if (d) {
		d[0] = (uint8_t)v;
		d[1] = (uint8_t)(v >> 8);
		d[2] = (uint8_t)(v >> 16);
		d[3] = (uint8_t)(v >> 24);
	}
}

/* Big-endian helpers for fixed arrays (headers, nonces). */
static inline void mesh_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void mesh_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t mesh_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t mesh_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif /* MESH_BUF_H */
