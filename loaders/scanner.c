/*
 * scanner.c - address literals in a stream of text (see scan.h for the
 * rules).
 *
 * Hyperscan, in streaming mode, reports where candidates end: a dotted
 * quad, a "::", or eight colon-separated hex groups; every IPv4 and IPv6
 * text form contains one of these.  It reports ends only (start-of-match
 * tracking costs speed in streaming mode) and one address may end several
 * matches, so the scanner keeps a window: the last CARRY bytes of what
 * came before plus the current piece.  From a candidate's end it widens
 * to the whole token over the window, validates it, and marks the stream
 * consumed up to the token's end, so that later candidates inside the
 * same token are dropped.  A token that reaches the end of the piece
 * waits for the next piece (or the end of the stream) to learn its right
 * edge.  Invariants: candidates are handled in order of their end; every
 * token is validated once; CARRY > RL_SCAN_MAX_TOKEN, so a token whose
 * left edge fell out of the window is too long to be an address anyway.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#define CARRY (2 * RL_SCAN_MAX_TOKEN + 64)

struct rl_scan_db {
	hs_database_t *hs;
};

struct rl_scanner {
	const struct rl_scan_db *db;
	hs_scratch_t *scratch;
	hs_stream_t *stream;
	char *win; /* win[0] is the byte at stream offset base */
	size_t len, cap;
	uint64_t base;
	uint64_t *cand; /* candidate end offsets, exclusive; pending ones first */
	size_t n_cand, cap_cand;
	uint64_t done; /* the stream is consumed up to here */
	int alloc_failed;
};

/* ------------------------------------------------------------------ */
/* The validator                                                       */

/* Character classes by table: the scan loop asks for every byte of every
 * token, and the C library's ctype goes through the locale each time. */
enum { C_WORD = 1, C_TOK = 2, C_ZONE = 4 };
static unsigned char cls[256];

__attribute__((constructor)) static void init_classes(void)
{
	for (int c = 0; c < 256; c++) {
		int alnum =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int hex =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		cls[c] = (unsigned char)((alnum || c == '_' ? C_WORD : 0) |
					 (hex || c == '.' || c == ':' ? C_TOK : 0) |
					 (alnum || c == '_' || c == '.' || c == '-' ? C_ZONE : 0));
	}
}

static int is_word(int c)
{
	return c >= 0 && (cls[c & 255] & C_WORD);
}

static int is_tok(int c)
{
	return cls[c & 255] & C_TOK;
}

static int is_zone(int c)
{
	return cls[c & 255] & C_ZONE;
}

/* Exactly four decimal octets 0-255, no leading zeros, nothing else. */
static int parse_v4(const char *s, struct rl_found *f)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned o = 0, n = 0;
		while (s[n] >= '0' && s[n] <= '9' && n < 4)
			o = o * 10 + (unsigned)(s[n++] - '0');
		if (n == 0 || n > 3 || o > 255 || (n > 1 && s[0] == '0'))
			return 0;
		s += n;
		if (*s != (i < 3 ? '.' : '\0'))
			return 0;
		s++;
		v = v << 8 | o;
	}
	f->v6 = 0;
	f->v4 = v;
	return 1;
}

/* "1.2.3.4:443": the address and a port of 1-5 digits up to 65535. */
static int parse_v4_port(char *s, struct rl_found *f)
{
	char *colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':') || !colon[1] || strlen(colon + 1) > 5)
		return 0;
	for (const char *p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	if (atoi(colon + 1) > 65535)
		return 0;
	*colon = '\0';
	return parse_v4(s, f);
}

static int parse_v6(const char *s, struct rl_found *f)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (strspn(s, ":.") == strlen(s)) /* a bare "::" is punctuation */
		return 0;
	if (inet_pton(AF_INET6, s, f->v6addr) != 1)
		return 0;
	if (memcmp(f->v6addr, mapped, 12) == 0) {
		f->v6 = 0;
		f->v4 = (uint32_t)f->v6addr[12] << 24 | (uint32_t)f->v6addr[13] << 16 |
			(uint32_t)f->v6addr[14] << 8 | f->v6addr[15];
		return 1;
	}
	f->v6 = 1;
	return 1;
}

int rl_scan_token(const char *t, size_t len, int left, int right, struct rl_found *f)
{
	char buf[RL_SCAN_MAX_TOKEN + 1];
	memset(f, 0, sizeof(*f));
	if (len == 0 || len > RL_SCAN_MAX_TOKEN)
		return 0;
	/* Dots join (the word beyond them still counts); one ':' separates. */
	const char *pct = memchr(t, '%', len);
	size_t a = 0, b = pct ? (size_t)(pct - t) : len;
	int sep_left = 0, sep_right = 0;
	if (!pct) { /* sentence punctuation: "from 1.2.3.4." and "at 1.2.3.4: refused" */
		while (b > a && t[b - 1] == '.')
			b--;
		if (b - a >= 2 && t[b - 1] == ':' && t[b - 2] != ':')
			b--, sep_right = 1;
	}
	while (a < b && t[a] == '.')
		a++;
	if (b - a >= 2 && t[a] == ':' && t[a + 1] != ':') /* "ip:1.2.3.4" */
		a++, sep_left = 1;
	if (a >= b || (!sep_left && is_word(left)) || (!sep_right && is_word(right)))
		return 0;
	memcpy(buf, t + a, b - a);
	buf[b - a] = '\0';
	int ok;
	if (!memchr(buf, ':', b - a))
		ok = parse_v4(buf, f);
	else
		ok = parse_v6(buf, f) || (!pct && parse_v4_port(buf, f));
	if (!ok || (pct && !f->v6))
		return 0;
	f->offset = a;
	f->len = (uint32_t)((pct ? len : b) - a);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The database                                                        */

struct rl_scan_db *rl_scan_db_new(char *err, size_t errlen)
{
	static const char *const pats[] = {
	    "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
	    "::",
	    "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}",
	};
	static const unsigned flags[] = {0, 0, HS_FLAG_CASELESS};
	static const unsigned ids[] = {0, 1, 2};
	struct rl_scan_db *db = calloc(1, sizeof(*db));
	hs_compile_error_t *ce = NULL;
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hs_compile_multi(pats, flags, ids, 3, HS_MODE_STREAM, NULL, &db->hs, &ce) !=
	    HS_SUCCESS) {
		snprintf(err, errlen, "hyperscan: %s", ce ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		free(db);
		return NULL;
	}
	return db;
}

void rl_scan_db_free(struct rl_scan_db *db)
{
	if (db)
		hs_free_database(db->hs);
	free(db);
}

/* ------------------------------------------------------------------ */
/* The stream                                                          */

struct rl_scanner *rl_scanner_new(const struct rl_scan_db *db, char *err, size_t errlen)
{
	struct rl_scanner *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = db;
	if (hs_alloc_scratch(db->hs, &s->scratch) != HS_SUCCESS ||
	    hs_open_stream(db->hs, 0, &s->stream) != HS_SUCCESS) {
		snprintf(err, errlen, "hyperscan: cannot allocate scratch or stream");
		rl_scanner_free(s);
		return NULL;
	}
	return s;
}

void rl_scanner_free(struct rl_scanner *s)
{
	if (!s)
		return;
	if (s->stream)
		hs_close_stream(s->stream, s->scratch, NULL, NULL);
	hs_free_scratch(s->scratch);
	free(s->win);
	free(s->cand);
	free(s);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *arg)
{
	struct rl_scanner *s = arg;
	(void)id, (void)from, (void)flags;
	if (s->n_cand == s->cap_cand) {
		size_t cap = s->cap_cand ? 2 * s->cap_cand : 1024;
		uint64_t *c = realloc(s->cand, cap * sizeof(*c));
		if (!c) {
			s->alloc_failed = 1;
			return 1; /* stop scanning; reported as an error */
		}
		s->cand = c;
		s->cap_cand = cap;
	}
	s->cand[s->n_cand++] = to;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Widen candidate ending at window index end-1 to its token [*lo, *hi).
 * 1: found; 0: too long or its left edge fell out of the window;
 * -1: its right edge is not known yet (the window ends inside it).
 */
static int widen(const struct rl_scanner *s, size_t end, int final, size_t *lo, size_t *hi)
{
	const char *w = s->win;
	size_t j = end - 1, k = end;
	while (j > 0 && is_tok((unsigned char)w[j - 1]) && end - j <= RL_SCAN_MAX_TOKEN)
		j--;
	while (k < s->len && is_tok((unsigned char)w[k]) && k - j <= RL_SCAN_MAX_TOKEN)
		k++;
	if (k == s->len && !final)
		return -1;
	if (k < s->len && w[k] == '%' && memchr(w + j, ':', k - j)) { /* zone id */
		size_t z = k + 1;
		while (z < s->len && is_zone((unsigned char)w[z]) && z - j <= RL_SCAN_MAX_TOKEN)
			z++;
		if (z == s->len && !final)
			return -1;
		if (z > k + 1)
			k = z;
	}
	*lo = j;
	*hi = k;
	return k - j <= RL_SCAN_MAX_TOKEN && !(j == 0 && s->base > 0);
}

/* The left neighbour, where "word/" counts as a word: in "Chrome/120.0.0.0"
 * the token is a product's version, while "GET /1.2.3.4" stays a path. */
static int left_of(const struct rl_scanner *s, size_t lo)
{
	if (lo == 0)
		return -1;
	int c = (unsigned char)s->win[lo - 1];
	if (c == '/' && lo >= 2 && is_word((unsigned char)s->win[lo - 2]))
		return 'a';
	return c;
}

/* Validate the candidates in order; keep those that wait for more text. */
static void settle(struct rl_scanner *s, int final, rl_found_fn fn, void *ctx)
{
	size_t i, kept = 0;
	for (i = 1; i < s->n_cand && s->cand[i - 1] <= s->cand[i]; i++)
		;
	if (i < s->n_cand)
		qsort(s->cand, s->n_cand, sizeof(*s->cand), cmp_u64);
	for (i = 0; i < s->n_cand; i++) {
		uint64_t e = s->cand[i];
		if (e <= s->done || e <= s->base) /* e <= base: a token longer than CARRY */
			continue;
		size_t lo, hi;
		int r = widen(s, (size_t)(e - s->base), final, &lo, &hi);
		if (r < 0) { /* this and every later candidate are in the last token */
			memmove(s->cand, s->cand + i, (s->n_cand - i) * sizeof(*s->cand));
			kept = s->n_cand - i;
			break;
		}
		s->done = s->base + hi;
		struct rl_found f;
		int left = left_of(s, lo);
		int right = hi < s->len ? (unsigned char)s->win[hi] : -1;
		if (r && rl_scan_token(s->win + lo, hi - lo, left, right, &f)) {
			f.offset += s->base + lo;
			fn(ctx, &f);
		}
	}
	s->n_cand = kept;
}

/* Keep the last CARRY bytes of the window and make room for len more. */
static int slide(struct rl_scanner *s, size_t len)
{
	if (s->len > CARRY) {
		size_t drop = s->len - CARRY;
		memmove(s->win, s->win + drop, CARRY);
		s->base += drop;
		s->len = CARRY;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->len + len;
		char *w = realloc(s->win, cap);
		if (!w)
			return -1;
		s->win = w;
		s->cap = cap;
	}
	return 0;
}

int rl_scanner_feed(struct rl_scanner *s, const char *buf, size_t len, rl_found_fn fn, void *ctx)
{
	if (len == 0)
		return 0;
	if (len > UINT32_MAX / 2 || slide(s, len)) /* Hyperscan takes an unsigned length */
		return -1;
	memcpy(s->win + s->len, buf, len);
	s->len += len;
	if (hs_scan_stream(s->stream, buf, (unsigned)len, 0, s->scratch, on_match, s) !=
		HS_SUCCESS ||
	    s->alloc_failed)
		return -1;
	settle(s, 0, fn, ctx);
	return 0;
}

int rl_scanner_end(struct rl_scanner *s, rl_found_fn fn, void *ctx)
{
	int rc =
	    hs_close_stream(s->stream, s->scratch, on_match, s) == HS_SUCCESS && !s->alloc_failed
		? 0
		: -1;
	s->stream = NULL;
	settle(s, 1, fn, ctx);
	s->len = 0;
	s->base = 0;
	s->done = 0;
	s->n_cand = 0;
	if (hs_open_stream(s->db->hs, 0, &s->stream) != HS_SUCCESS)
		rc = -1;
	return rc;
}
