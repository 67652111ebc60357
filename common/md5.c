/*
 * md5.c - MD5 (RFC 1321), for checking the registries' published .md5
 * files.  Not for anything that needs a secure hash: the registries chose
 * MD5, and a download it accepts is then parsed and validated in full.
 *
 * Written from the RFC's description: 64-byte blocks, four rounds of
 * sixteen steps, constants from the sine function, little-endian words.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "md5.h"

static uint32_t K[64];
static const uint8_t S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
			      5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
			      4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
			      6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static uint32_t rotl(uint32_t x, unsigned c)
{
	return (x << c) | (x >> (32 - c));
}

static void block(uint32_t h[4], const uint8_t *p)
{
	uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];
	for (int i = 0; i < 16; i++)
		m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f += a + K[i] + m[g];
		a = d;
		d = c;
		c = b;
		b += rotl(f, S[i]);
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

void rm_md5_init(struct rm_md5 *s)
{
	if (!K[0])
		for (int i = 0; i < 64; i++)
			K[i] = (uint32_t)(fabs(sin((double)i + 1)) * 4294967296.0);
	s->h[0] = 0x67452301u;
	s->h[1] = 0xefcdab89u;
	s->h[2] = 0x98badcfeu;
	s->h[3] = 0x10325476u;
	s->len = 0;
}

void rm_md5_update(struct rm_md5 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t have = (size_t)(s->len % 64);
	s->len += n;
	if (have) {
		size_t take = 64 - have < n ? 64 - have : n;
		memcpy(s->buf + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		block(s->h, s->buf);
	}
	for (; n >= 64; p += 64, n -= 64)
		block(s->h, p);
	memcpy(s->buf, p, n);
}

void rm_md5_final(struct rm_md5 *s, uint8_t out[16])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72] = {0x80};
	size_t have = (size_t)(s->len % 64);
	size_t padlen = have < 56 ? 56 - have : 120 - have;
	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (uint8_t)(bits >> (8 * i));
	rm_md5_update(s, pad, padlen + 8);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			out[4 * i + k] = (uint8_t)(s->h[i] >> (8 * k));
}
