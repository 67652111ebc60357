/*
 * scan_simd.c - the scanner's vector helpers: where addresses written
 * without "::" may be (the candidate finder), and which bytes are token
 * bytes.
 *
 * Hyperscan runs class-only patterns such as a dotted quad on its DFA, at
 * under ~1.1 GB/s on the CPUs measured, and eight colon-separated hex
 * groups at ~3 GB/s: a third of the time there is for text attribution at
 * 1 GB/s per core (perf/README.md).  So those candidates are found here
 * with vector compares, the way simdjson classifies structural characters:
 * a 64-byte block becomes bitmasks of digits, hex digits, dots and colons,
 * and plain integer operations on them find
 *
 *   good dots:   a dot with a decimal digit on each side;
 *   good colons: a colon with a hex digit on each side;
 *   IPv4:  a good dot followed 2-4 bytes later by a good dot that is
 *          followed 2-4 bytes later by a third: the first dot of every
 *          "d.d.d.d" (IPv4, and the IPv4 tail of an IPv6 address);
 *   IPv6:  a good colon that starts a chain of seven, each 2-5 bytes after
 *          the one before: the first colon of every eight hex groups.
 *
 * Both are supersets (the validator decides), but they skip the dots of
 * versions and decimals ("HTTP/1.1", "537.36") and the colons of times and
 * URLs that make up most of the dots and colons in logs.  Every address
 * form either contains one of these or a "::", the literal Hyperscan finds
 * at tens of GB/s.
 *
 * The token classes let the scanner widen a candidate to its token 64
 * bytes at a time instead of a byte at a time.
 *
 * The file is compiled twice, for baseline x86-64 (SSE2, 16 bytes a
 * compare) and with -mavx2 (32 bytes), and the scanner picks one at run
 * time (rl_simd_select).
 *
 * Invariants: the caller guarantees that w[from - 64 .. to + 191] can be
 * read (the scanner's window keeps zeroed padding on both sides);
 * bytes there count as what they are, so a candidate at p depends only on
 * w[p - 1 .. p + RL_SIMD_LOOK - 1].  Positions are reported in increasing
 * order.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "scan_simd.h"

#if !defined(CANDIDATES_NAME) || !defined(TOKENS_NAME)
#error "CANDIDATES_NAME and TOKENS_NAME name the variant this compilation builds"
#endif

typedef unsigned __int128 u128;

/* The classes of 64 bytes, bit i for byte i. */
struct classes {
	uint64_t digit, hex, dot, colon;
};

/* One vector of W bytes, the same code for both widths. */
#ifdef __AVX2__
#define W 32
typedef __m256i vec;
#define LOAD(p)	  _mm256_loadu_si256((const __m256i *)(p))
#define SET1(c)	  _mm256_set1_epi8(c)
#define SUB(a, b) _mm256_sub_epi8(a, b)
#define OR(a, b)  _mm256_or_si256(a, b)
#define MIN(a, b) _mm256_min_epu8(a, b)
#define EQ(a, b)  _mm256_cmpeq_epi8(a, b)
#define MASK(a)	  (uint64_t)(uint32_t) _mm256_movemask_epi8(a)
#else
#define W	  16
typedef __m128i vec;
#define LOAD(p)	  _mm_loadu_si128((const __m128i *)(p))
#define SET1(c)	  _mm_set1_epi8(c)
#define SUB(a, b) _mm_sub_epi8(a, b)
#define OR(a, b)  _mm_or_si128(a, b)
#define MIN(a, b) _mm_min_epu8(a, b)
#define EQ(a, b)  _mm_cmpeq_epi8(a, b)
#define MASK(a)	  (uint64_t)(uint16_t) _mm_movemask_epi8(a)
#endif

static inline struct classes classify(const char *q)
{
	struct classes k = {0, 0, 0, 0};
	const vec zero = SET1('0'), nine = SET1(9), a = SET1('a'), five = SET1(5),
		  lower = SET1(0x20), dot = SET1('.'), colon = SET1(':');
	for (int i = 0; i < 64 / W; i++) {
		vec v = LOAD(q + W * i);
		vec x = SUB(v, zero), h = SUB(OR(v, lower), a);
		vec d = EQ(MIN(x, nine), x), l = EQ(MIN(h, five), h); /* unsigned x <= 9, h <= 5 */
		k.digit |= MASK(d) << (W * i);
		k.hex |= MASK(OR(d, l)) << (W * i);
		k.dot |= MASK(EQ(v, dot)) << (W * i);
		k.colon |= MASK(EQ(v, colon)) << (W * i);
	}
	return k;
}

/* Separators of a block with a byte of class `side` on each side, given
 * that class in the blocks before and after. */
static inline uint64_t flanked(uint64_t sep, uint64_t prev, uint64_t side, uint64_t next)
{
	return sep & (side << 1 | prev >> 63) & (side >> 1 | next << 63);
}

/* Bits of m that have a bit of f (continued by f_next) 2, 3 or 4 above. */
static inline uint64_t followed(uint64_t m, uint64_t f, uint64_t f_next)
{
	return m & ((f >> 2 | f_next << 62) | (f >> 3 | f_next << 61) | (f >> 4 | f_next << 60));
}

/* Bits of m (128 bits: this block and the next) that start a chain of
 * seven bits of m, each 2 to 5 bytes after the one before; the low 64. */
static inline uint64_t chains7(u128 m)
{
	u128 g = m;
	for (int k = 1; k < 7; k++)
		g = m & (g >> 2 | g >> 3 | g >> 4 | g >> 5);
	return (uint64_t)g;
}

size_t CANDIDATES_NAME(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out)
{
	size_t n = 0;
	const char *start = w + from;
	struct classes prev = classify(start - 64), k0 = classify(start), k1 = classify(start + 64);
	for (size_t q = from; q < to; q += 64) {
		struct classes k2 = classify(w + q + 128);
		uint64_t m0 = flanked(k0.dot, prev.digit, k0.digit, k1.digit);
		uint64_t f = 0;
		if (m0) { /* three good dots 2-4 bytes apart */
			uint64_t m1 = flanked(k1.dot, k0.digit, k1.digit, k2.digit);
			f = followed(m0, followed(m0, m0, m1), followed(m1, m1, 0));
		}
		uint64_t c0 = flanked(k0.colon, prev.hex, k0.hex, k1.hex);
		if (c0 && __builtin_popcountll(c0) + __builtin_popcountll(k1.colon) >= 7)
			f |= chains7((u128)flanked(k1.colon, k0.hex, k1.hex, k2.hex) << 64 | c0);
		if (to - q < 64)
			f &= (UINT64_C(1) << (to - q)) - 1;
		while (f) {
			out[n++] = base + q + (uint64_t)__builtin_ctzll(f);
			f &= f - 1;
		}
		prev = k0;
		k0 = k1;
		k1 = k2;
	}
	return n;
}

/* Token bytes ([0-9A-Fa-f.:]) of the 64 at p. */
uint64_t TOKENS_NAME(const char *p)
{
	struct classes k = classify(p);
	return k.hex | k.dot | k.colon;
}
