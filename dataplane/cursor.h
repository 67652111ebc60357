/*
 * cursor.h - a checked reader over untrusted bytes, for the headers of
 * flow export datagrams (flow.c, sflow.c).
 *
 * Exporters are untrusted, so every header field is read through a cursor
 * that knows where its bytes end: a read that would run past the end
 * fails, and the caller counts the datagram (or the rest of it) by reason.
 * Two ways to read a header: field by field in wire order (rm_cur_u16,
 * rm_cur_u32, rm_cur_skip: sflow.c, whose headers vary with the address
 * family and the sample format), or a fixed-size header taken whole with
 * one check (rm_cur_take) and read at its fields' named offsets (flow.c,
 * per datagram and per set, where a check per field showed up as 1% of
 * the decoder's instructions).  A length field turns into a sub-cursor
 * (rm_cur_sub), so that what lies inside a set, a sample or a record
 * cannot be read past its own end either.
 *
 * The per-record field loads of NetFlow v5 and of template-described
 * records are not read through here: their bounds are checked once per
 * record or per datagram, and they are the hot loop.
 *
 * Contract: c->p <= c->end always.  A failed read returns -1 (NULL) and
 * leaves the cursor where it was; a successful one returns 0 (the bytes)
 * and advances past what it read.
 */
#ifndef RM_CURSOR_H
#define RM_CURSOR_H

#include <stdint.h>

#include "byteorder.h"

struct rm_cur {
	const uint8_t *p, *end;
};

/* A cursor over the len bytes at p. */
static inline struct rm_cur rm_cur_init(const uint8_t *p, uint32_t len)
{
	return (struct rm_cur){p, p + len};
}

/* The bytes left to read. */
static inline uint64_t rm_cur_left(const struct rm_cur *c)
{
	return (uint64_t)(c->end - c->p);
}

static inline int rm_cur_u16(struct rm_cur *c, uint16_t *v)
{
	if (rm_cur_left(c) < 2)
		return -1;
	*v = rm_get_be16(c->p);
	c->p += 2;
	return 0;
}

static inline int rm_cur_u32(struct rm_cur *c, uint32_t *v)
{
	if (rm_cur_left(c) < 4)
		return -1;
	*v = rm_get_be32(c->p);
	c->p += 4;
	return 0;
}

/* The next n bytes, stepped over, or NULL when fewer are left: a header
 * of fixed size, checked once and then read at its fields' named offsets
 * (one check instead of one per field, for headers read per datagram). */
static inline const uint8_t *rm_cur_take(struct rm_cur *c, uint64_t n)
{
	if (rm_cur_left(c) < n)
		return NULL;
	const uint8_t *h = c->p;
	c->p += n;
	return h;
}

/* Step over n bytes (fields not needed). */
static inline int rm_cur_skip(struct rm_cur *c, uint64_t n)
{
	if (rm_cur_left(c) < n)
		return -1;
	c->p += n;
	return 0;
}

/* Take the next n bytes as a cursor of their own (the body of a set,
 * sample or record of length n), and step over them. */
static inline int rm_cur_sub(struct rm_cur *c, uint64_t n, struct rm_cur *sub)
{
	if (rm_cur_left(c) < n)
		return -1;
	*sub = (struct rm_cur){c->p, c->p + n};
	c->p += n;
	return 0;
}

#endif
