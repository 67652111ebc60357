/*
 * scanner.c - address literals in a stream of text (see scanner.h for the
 * rules).
 *
 * Two finders report candidates, each as the position of a byte inside a
 * token that may be an address: Hyperscan, in streaming mode, reports the
 * ends of "::" (its literal matcher runs at tens of GB/s), and the vector
 * candidate finder (scan_simd.c) reports the first dot of every "d.d.d.d"
 * and the first colon of every eight hex groups, which Hyperscan could
 * only run as class patterns at 1-3 GB/s (perf/README.md).  Every address
 * text form contains one of these.
 *
 * The text lives in a window: the last CARRY bytes of what came before
 * plus the current piece, which callers can read into the window directly
 * (rl_scanner_room).  Candidates from both finders are handled in order
 * of position: each is widened to its token over the window, validated,
 * and the stream is marked consumed up to the token's end (past its zone
 * id only when it is an address), so that later candidates inside the same
 * token are dropped: the outcome does not depend on which candidates of a
 * token the finders report, only on the text.  A token that reaches the
 * end of the window waits for the next piece (or the end of the stream) to
 * learn its right edge; the vector finder likewise looks only RL_SIMD_LOOK
 * bytes short of the window's end until the stream ends, and no candidate
 * is handled before it has looked past it.
 * Invariants: candidates are handled in order of position; every token is
 * validated at most once; CARRY > RL_SCAN_MAX_TOKEN + RL_SIMD_LOOK, so a
 * token whose left edge fell out of the window is too long to be an
 * address.
 */
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "grow.h"
#include "simd.h"
#include "loaders.h"
#include "scanner.h"
#include "scan_simd.h"

#define CARRY	   (2 * RL_SCAN_MAX_TOKEN + 64)
#define FEED_PIECE (1u << 20)

struct rl_scan_db {
	hs_database_t *hs;
	struct rl_simd simd;
};

/* Candidate positions (stream offsets of a byte inside a token), ascending. */
struct list {
	uint64_t *at;
	uint32_t n, cap; /* a window's candidates: far below 2^32 */
};

struct rl_scanner {
	const struct rl_scan_db *db;
	hs_scratch_t *scratch;
	hs_stream_t *stream;
	char *mem; /* the window with RL_SIMD_PAD zeroed bytes on each side */
	char *win; /* win[0] is the byte at stream offset base */
	size_t len, cap;
	uint64_t base;
	struct list hs, simd; /* "::" (Hyperscan), the others (vector finder) */
	uint64_t classified;  /* the vector finder has looked up to here */
	uint64_t done;	      /* the stream is consumed up to here */
	uint64_t floor;	      /* tokens start here or later (after a zone id) */
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

static int is_zone(int c)
{
	return cls[c & 255] & C_ZONE;
}

/* "1.2.3.4:443": the address and a port of 1-5 digits up to 65535. */
static int parse_v4_port(const char *s, size_t n, struct rl_found *f)
{
	const char *colon = memchr(s, ':', n);
	size_t a = colon ? (size_t)(colon - s) : n, digits = n - a - 1;
	unsigned port = 0;
	if (a == n || digits == 0 || digits > 5)
		return 0;
	for (size_t i = a + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		port = port * 10 + (unsigned)(s[i] - '0');
	}
	return port <= 65535 && rl_parse_v4(s, a, &f->v4) == 0;
}

static int parse_v6(const char *s, size_t n, struct rl_found *f)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (n == 2 || rl_parse_v6_bytes(s, n, f->v6addr)) /* a bare "::" is punctuation */
		return 0;
	if (memcmp(f->v6addr, mapped, 12) == 0) {
		f->v4 = rm_get_be32(f->v6addr + 12);
		return 1;
	}
	f->v6 = 1;
	return 1;
}

/*
 * The validator proper, for a token whose first '%' is at pct (len when
 * none): the scanner finds it while it widens a candidate to its token.
 * judge_part decides one reading of the token (with the zone id when
 * pct < len).
 */
static int judge_part(const char *t, size_t len, size_t pct, int left, int right,
		      struct rl_found *f)
{
	memset(f, 0, sizeof(*f));
	if (len == 0 || len > RL_SCAN_MAX_TOKEN)
		return 0;
	/* Dots join (the word beyond them still counts); one ':' separates. */
	size_t a = 0, b = pct;
	int zone = pct < len, sep_left = 0, sep_right = 0;
	if (!zone) { /* sentence punctuation: "from 1.2.3.4." and "at 1.2.3.4: refused" */
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
	int ok;
	if (!memchr(t + a, ':', b - a))
		ok = rl_parse_v4(t + a, b - a, &f->v4) == 0;
	else
		ok = parse_v6(t + a, b - a, f) || (!zone && parse_v4_port(t + a, b - a, f));
	if (!ok || (zone && !f->v6))
		return 0;
	f->offset = a;
	f->len = (uint32_t)((zone ? len : b) - a);
	return 1;
}

/* 2: an IPv6 address with its zone id; 1: an address (a '%' after it is
 * punctuation: a zone id follows only an IPv6 address); 0: none. */
static int judge(const char *t, size_t len, size_t pct, int left, int right, struct rl_found *f)
{
	if (pct == len)
		return judge_part(t, len, len, left, right, f);
	if (judge_part(t, len, pct, left, right, f))
		return 2;
	return judge_part(t, pct, pct, left, '%', f);
}

int rl_scan_token(const char *t, size_t len, int left, int right, struct rl_found *f)
{
	const char *pct = memchr(t, '%', len);
	size_t main = pct ? (size_t)(pct - t) : len;
	int got = judge(t, len, main, left, right, f);
	return got == 2 || (got == 1 && main == len); /* the whole text, zone id and all */
}

/* ------------------------------------------------------------------ */
/* The database                                                        */

struct rl_simd rl_simd_select(void)
{
	if (rm_simd_best() >= RM_SIMD_AVX2)
		return (struct rl_simd){rl_candidates_avx2, rl_tokens_avx2};
	return (struct rl_simd){rl_candidates_sse2, rl_tokens_sse2};
}

struct rl_scan_db *rl_scan_db_new(char *err, size_t errlen)
{
	static const char *const pats[] = {"::"};
	static const unsigned flags[] = {0};
	static const unsigned ids[] = {0};
	struct rl_scan_db *db = calloc(1, sizeof(*db));
	hs_compile_error_t *ce = NULL;
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hs_compile_multi(pats, flags, ids, 1, HS_MODE_STREAM, NULL, &db->hs, &ce) !=
	    HS_SUCCESS) {
		snprintf(err, errlen, "hyperscan: %s", ce ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		free(db);
		return NULL;
	}
	db->simd = rl_simd_select();
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
	free(s->mem);
	free(s->hs.at);
	free(s->simd.at);
	free(s);
}

/* Room for n more positions in a list; 0, or -1 out of memory. */
static int list_room(struct list *l, size_t n)
{
	return RM_GROW(&l->at, &l->cap, l->n, n, 1024);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *arg)
{
	struct rl_scanner *s = arg;
	(void)id, (void)from, (void)flags;
	if (list_room(&s->hs, 1)) {
		s->alloc_failed = 1;
		return 1; /* stop scanning; reported as an error */
	}
	s->hs.at[s->hs.n++] = to - 1; /* the match's last byte is in the token */
	return 0;
}

/* Find the vector finder's candidates up to where their right context is known
 * (everything, at the end of the stream). */
static int find_candidates(struct rl_scanner *s, int final)
{
	uint64_t end = s->base + s->len;
	uint64_t to = final ? end : end > RL_SIMD_LOOK ? end - RL_SIMD_LOOK : 0;
	if (to <= s->classified)
		return 0;
	size_t from = (size_t)(s->classified - s->base), n = (size_t)(to - s->classified);
	if (list_room(&s->simd, n / 2 + 1))
		return -1;
	s->simd.n +=
	    s->db->simd.candidates(s->win, from, from + n, s->base, s->simd.at + s->simd.n);
	s->classified = to;
	return 0;
}

/*
 * Widening a candidate at window index at to its token [lo, hi).  Token
 * bytes come 64 at a time from the vector helper (the window's zeroed
 * padding ends every run at its edges); a run that fills all 64 goes on a
 * byte at a time.
 */
static size_t token_start(const struct rl_scanner *s, size_t at)
{
	const unsigned char *w = (const unsigned char *)s->win;
	uint64_t tok = s->db->simd.tokens(s->win - 63 + at);
	unsigned n = ~tok ? (unsigned)__builtin_clzll(~tok) : 64; /* run ending at `at` */
	size_t j = at + 1 - n;
	while (n == 64 && j > 0 && (cls[w[j - 1]] & C_TOK) && at + 1 - j <= RL_SCAN_MAX_TOKEN)
		j--;
	return j;
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

/*
 * The right edge, with a zone id after an IPv6 token; *pct is where the
 * zone starts (hi when none).  1: found; 0: too long or its left edge fell
 * out of the window; -1: the right edge is not known yet (the window ends
 * inside the token).
 */
static int token_end(const struct rl_scanner *s, size_t lo, size_t at, int final, size_t *hi,
		     size_t *pct)
{
	const unsigned char *w = (const unsigned char *)s->win;
	uint64_t tok = s->db->simd.tokens(s->win + at + 1);
	unsigned n = ~tok ? (unsigned)__builtin_ctzll(~tok) : 64;
	size_t k = at + 1 + n;
	while (n == 64 && k < s->len && (cls[w[k]] & C_TOK) && k - lo <= RL_SCAN_MAX_TOKEN)
		k++;
	if (k == s->len && !final)
		return -1;
	*pct = k;
	if (k < s->len && w[k] == '%' && memchr(w + lo, ':', k - lo)) { /* zone id */
		size_t z = k + 1;
		while (z < s->len && is_zone(w[z]) && z - lo <= RL_SCAN_MAX_TOKEN)
			z++;
		if (z == s->len && !final)
			return -1;
		if (z > k + 1)
			k = z;
	}
	*hi = k;
	return k - lo <= RL_SCAN_MAX_TOKEN && !(lo == 0 && s->base > 0);
}

static void keep_from(struct list *l, size_t i)
{
	if (i == 0)
		return;
	memmove(l->at, l->at + i, (l->n - i) * sizeof(*l->at));
	l->n -= i;
}

/* Validate the candidates of both lists in order of position; keep those
 * that wait for more text. */
static void settle(struct rl_scanner *s, int final, rl_found_fn fn, void *ctx)
{
	struct list *a = &s->hs, *b = &s->simd;
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int from_a = j == b->n || (i < a->n && a->at[i] < b->at[j]);
		uint64_t p = from_a ? a->at[i] : b->at[j];
		if (p >= s->classified) /* one before it may still be found */
			break;
		if (p < s->done || p < s->base) { /* p < base: a token longer than CARRY */
			i += from_a, j += !from_a;
			continue;
		}
		size_t at = (size_t)(p - s->base), hi, pct;
		size_t lo = token_start(s, at);
		if (s->base + lo < s->floor) /* not inside a consumed zone id */
			lo = (size_t)(s->floor - s->base);
		int r = token_end(s, lo, at, final, &hi, &pct);
		if (r < 0) /* this and every later candidate are in the last token */
			break;
		i += from_a, j += !from_a;
		struct rl_found f;
		int left = left_of(s, lo);
		int right = hi < s->len ? (unsigned char)s->win[hi] : -1;
		int got = r ? judge(s->win + lo, hi - lo, pct - lo, left, right, &f) : 0;
		if (got) {
			f.offset += s->base + lo;
			fn(ctx, &f);
		}
		/* Past the zone id only after an IPv6 address; otherwise what
		 * followed a '%' is read as text, whichever candidate found the
		 * token.  A consumed zone id is not part of a later token. */
		s->done = s->base + (got == 2 ? hi : pct);
		if (got == 2)
			s->floor = s->done;
	}
	keep_from(a, i);
	keep_from(b, j);
}

/* Keep the last CARRY bytes of the window and make room for len more, with
 * the vector helpers' zeroed padding on both sides. */
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
		char *m = realloc(s->mem, RL_SIMD_PAD + cap + RL_SIMD_PAD);
		if (!m)
			return -1;
		memset(m, 0, RL_SIMD_PAD);
		s->mem = m;
		s->win = m + RL_SIMD_PAD;
		s->cap = cap;
	}
	return 0;
}

char *rl_scanner_room(struct rl_scanner *s, size_t len)
{
	if (len == 0 || len > UINT32_MAX / 2 || slide(s, len)) /* Hyperscan: unsigned lengths */
		return NULL;
	return s->win + s->len;
}

int rl_scanner_commit(struct rl_scanner *s, size_t len, rl_found_fn fn, void *ctx)
{
	if (len == 0)
		return 0;
	const char *piece = s->win + s->len;
	s->len += len;
	memset(s->win + s->len, 0, RL_SIMD_PAD);
	if (hs_scan_stream(s->stream, piece, (unsigned)len, 0, s->scratch, on_match, s) !=
		HS_SUCCESS ||
	    s->alloc_failed || find_candidates(s, 0))
		return -1;
	settle(s, 0, fn, ctx);
	return 0;
}

int rl_scanner_feed(struct rl_scanner *s, const char *buf, size_t len, rl_found_fn fn, void *ctx)
{
	/* In pieces of at most FEED_PIECE: the window and the candidate list
	 * grow with a piece, not with what the caller hands over at once. */
	while (len > 0) {
		size_t n = len < FEED_PIECE ? len : FEED_PIECE;
		char *room = rl_scanner_room(s, n);
		if (!room)
			return -1;
		memcpy(room, buf, n);
		if (rl_scanner_commit(s, n, fn, ctx))
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

int rl_scanner_end(struct rl_scanner *s, rl_found_fn fn, void *ctx)
{
	/* Reset, not closed and opened again: a stream per line (--annotate)
	 * costs no allocation. */
	int rc =
	    hs_reset_stream(s->stream, 0, s->scratch, on_match, s) == HS_SUCCESS && !s->alloc_failed
		? 0
		: -1;
	/* A room asked for and left unused (end of file) slid the window and
	 * left old text past its end; the vector helpers read there. */
	if (s->win)
		memset(s->win + s->len, 0, RL_SIMD_PAD);
	if (find_candidates(s, 1) == 0)
		settle(s, 1, fn, ctx);
	else
		rc = -1;
	s->len = 0;
	s->base = 0;
	s->done = 0;
	s->classified = 0;
	s->hs.n = 0;
	s->simd.n = 0;
	s->floor = 0;
	s->alloc_failed = 0;
	return rc;
}
