/*
 * text.c - line splitting, a CSV reader and address parsing.
 *
 * Everything here works on spans into the file's buffer: no copies for
 * plain lines, and CSV fields are unescaped into one reusable buffer per
 * reader.  Line numbers are 1-based and count physical lines, so a CSV
 * record with an embedded newline reports the line it starts on.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "internal.h"

void rl_lines_init(struct rl_lines *l, const char *data, size_t len)
{
	l->p = data;
	l->end = data + len;
	l->lineno = 0;
	/* A UTF-8 byte-order mark is not part of the first line. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		l->p += 3;
}

int rl_lines_next(struct rl_lines *l, struct rl_span *line)
{
	if (l->p >= l->end)
		return 0;
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	const char *stop = nl ? nl : l->end;
	line->s = l->p;
	line->len = (size_t)(stop - l->p);
	if (line->len && line->s[line->len - 1] == '\r')
		line->len--;
	l->p = nl ? nl + 1 : l->end;
	l->lineno++;
	return 1;
}

unsigned rl_split(struct rl_span line, char sep, struct rl_span *f, unsigned max)
{
	unsigned n = 0;
	const char *p = line.s, *end = line.s + line.len;
	for (;;) {
		const char *q = memchr(p, sep, (size_t)(end - p));
		const char *stop = q ? q : end;
		if (n < max) {
			f[n].s = p;
			f[n].len = (size_t)(stop - p);
		}
		n++;
		if (!q)
			return n;
		p = q + 1;
	}
}

int rl_span_eq(struct rl_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.s, lit, n) == 0;
}

struct rl_span rl_trim(struct rl_span s)
{
	while (s.len && (s.s[0] == ' ' || s.s[0] == '\t')) {
		s.s++;
		s.len--;
	}
	while (s.len && (s.s[s.len - 1] == ' ' || s.s[s.len - 1] == '\t' || s.s[s.len - 1] == '\r'))
		s.len--;
	return s;
}

int rl_parse_u64(struct rl_span s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0 || s.len > 20)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.s[i] < '0' || s.s[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(s.s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

void rl_csv_init(struct rl_csv *c, const char *data, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->p = data;
	c->end = data + len;
	c->lineno = 1;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		c->p += 3;
}

void rl_csv_free(struct rl_csv *c)
{
	free(c->buf);
	c->buf = NULL;
}

/* Skip to the start of the next physical line after a bad record. */
static void csv_resync(struct rl_csv *c)
{
	while (c->p < c->end && *c->p != '\n')
		c->p++;
	if (c->p < c->end) {
		c->p++;
		c->lineno++;
	}
}

int rl_csv_next(struct rl_csv *c, struct rl_span *f, unsigned *nf, unsigned *line, const char **why)
{
	/* Skip blank lines between records. */
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->lineno++;
		c->p++;
	}
	if (c->p >= c->end)
		return 0;
	*line = c->lineno;
	/* Field text is at most the record's raw length (bounded by the rest
	 * of the buffer, as the record's end is not known yet). */
	if (RM_GROW(&c->buf, &c->buf_cap, 0, (size_t)(c->end - c->p) + 1, 256)) {
		csv_resync(c);
		*why = "out of memory for the record";
		return -1;
	}
	size_t used = 0;
	unsigned n = 0;
	for (;;) {
		size_t start = used;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					*why = "unterminated quoted field";
					return -1;
				}
				char ch = *c->p++;
				if (ch == '"') {
					if (c->p < c->end && *c->p == '"') {
						c->buf[used++] = '"';
						c->p++;
						continue;
					}
					break;
				}
				if (ch == '\n')
					c->lineno++;
				c->buf[used++] = ch;
			}
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				*why = "text after a closing quote";
				csv_resync(c);
				return -1;
			}
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				if (*c->p == '"') {
					*why = "quote inside an unquoted field";
					csv_resync(c);
					return -1;
				}
				c->buf[used++] = *c->p++;
			}
		}
		if (n < RL_CSV_MAX_FIELDS) {
			f[n].s = c->buf + start;
			f[n].len = used - start;
		}
		n++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->lineno++;
		}
		break;
	}
	if (n > RL_CSV_MAX_FIELDS) {
		*why = "too many fields";
		return -1;
	}
	*nf = n;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

/*
 * The address parsers take text by length and follow inet_pton(3) exactly
 * (tests/test_text.c compares them on millions of strings): the scanner
 * calls them for every token it finds, and copying each token into a
 * string for the C library cost more than parsing it.
 */

static int dec_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* An octet at s[*i]: 0-255 in 1-3 digits, no leading zero; -1 if none. */
static int octet(const char *s, size_t len, size_t *i)
{
	size_t at = *i;
	unsigned o, d;
	if (at == len || (o = (unsigned char)(s[at] - '0')) > 9)
		return -1;
	if (++at < len && (d = (unsigned char)(s[at] - '0')) <= 9) {
		if (o == 0)
			return -1;
		o = o * 10 + d;
		if (++at < len && (d = (unsigned char)(s[at] - '0')) <= 9) {
			o = o * 10 + d;
			at++;
		}
	}
	*i = at;
	return o <= 255 ? (int)o : -1;
}

int rl_parse_v4(const char *s, size_t len, uint32_t *out)
{
	/* Exactly four decimal octets 0-255, no leading zeros. */
	uint32_t v = 0;
	size_t i = 0;
	for (int k = 0; k < 4; k++) {
		int o = octet(s, len, &i);
		if (o < 0 || (k < 3 && (i == len || s[i++] != '.')))
			return -1;
		v = v << 8 | (uint32_t)o;
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

static int hex_value(char c)
{
	if (dec_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Groups of 1-4 hex digits, at most one "::" that stands for at least one
 * group, optionally ending in a dotted quad where two groups would be. */
int rl_parse_v6_bytes(const char *s, size_t len, uint8_t b[16])
{
	const char *end = s + len, *group = s;
	int at = 0, gap = -1, digits = 0;
	unsigned val = 0;
	if (len > 0 && *s == ':' && (len < 2 || *++s != ':'))
		return -1;
	while (s < end) {
		char c = *s++;
		int x = hex_value(c);
		if (x >= 0) {
			if (digits++ == 4)
				return -1;
			val = val << 4 | (unsigned)x;
		} else if (c == ':') {
			group = s;
			if (digits == 0) {
				if (gap >= 0)
					return -1;
				gap = at;
				continue;
			}
			if (s == end || at + 2 > 16)
				return -1;
			rm_put_be16(b + at, (uint16_t)val);
			at += 2;
			digits = 0;
			val = 0;
		} else if (c == '.' && at + 4 <= 16) {
			uint32_t v4;
			if (rl_parse_v4(group, (size_t)(end - group), &v4))
				return -1;
			rm_put_be32(b + at, v4);
			at += 4;
			digits = 0;
			break;
		} else {
			return -1;
		}
	}
	if (digits > 0) {
		if (at + 2 > 16)
			return -1;
		rm_put_be16(b + at, (uint16_t)val);
		at += 2;
	}
	if (gap >= 0) {
		if (at == 16)
			return -1;
		int n = at - gap;
		memmove(b + 16 - n, b + gap, (size_t)n);
		memset(b + gap, 0, (size_t)(16 - n - gap));
		at = 16;
	}
	return at == 16 ? 0 : -1;
}

int rl_parse_v6(const char *s, size_t len, rm_u128 *out)
{
	uint8_t b[16];
	if (rl_parse_v6_bytes(s, len, b))
		return -1;
	*out = rm_v6_from_bytes(b);
	return 0;
}

int rl_parse_prefix(const char *s, size_t len, unsigned *family, rm_u128 *first, rm_u128 *last,
		    unsigned *plen, const char **why)
{
	const char *slash = memchr(s, '/', len);
	if (!slash) {
		*why = "not a prefix (no '/')";
		return -1;
	}
	size_t alen = (size_t)(slash - s);
	struct rl_span pl = {slash + 1, len - alen - 1};
	uint64_t p;
	unsigned width;
	rm_u128 base;
	if (memchr(s, ':', alen)) {
		width = 128;
		*family = RM_V6;
		if (rl_parse_v6(s, alen, &base)) {
			*why = "bad IPv6 address";
			return -1;
		}
	} else {
		uint32_t a;
		width = 32;
		*family = RM_V4;
		if (rl_parse_v4(s, alen, &a)) {
			*why = "bad IPv4 address";
			return -1;
		}
		base = a;
	}
	if (rl_parse_u64(pl, &p) || p > width) {
		*why = "bad prefix length";
		return -1;
	}
	unsigned host = width - (unsigned)p;
	rm_u128 mask = host >= 128 ? ~(rm_u128)0 : (((rm_u128)1 << host) - 1);
	if (base & mask) {
		*why = "host bits set below the prefix length";
		return -1;
	}
	*first = base;
	*last = base | mask;
	*plen = (unsigned)p;
	return 0;
}

int rl_parse_asn(const char *s, size_t len, uint32_t *out)
{
	if (len >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
		s += 2;
		len -= 2;
	}
	struct rl_span whole = {s, len};
	const char *dot = memchr(s, '.', len);
	uint64_t hi, lo;
	if (dot) {
		struct rl_span a = {s, (size_t)(dot - s)};
		struct rl_span b = {dot + 1, len - (size_t)(dot - s) - 1};
		if (rl_parse_u64(a, &hi) || rl_parse_u64(b, &lo) || hi > 65535 || lo > 65535)
			return -1;
		*out = (uint32_t)(hi << 16 | lo);
		return 0;
	}
	if (rl_parse_u64(whole, &lo) || lo > UINT32_MAX)
		return -1;
	*out = (uint32_t)lo;
	return 0;
}
