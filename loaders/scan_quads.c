/*
 * scan_quads.c - where dotted quads may start: the IPv4 candidate finder.
 *
 * Hyperscan runs class-only patterns such as a dotted quad on its DFA, at
 * under ~1.1 GB/s on the CPUs measured (perf/README.md), while text
 * attribution aims at 1 GB/s per core including everything else.  So the
 * IPv4 candidates are found here with vector compares instead, the way
 * simdjson classifies structural characters: a 64-byte block becomes two
 * bitmasks, digits D and dots P, and plain integer operations on them find
 *
 *   M: a dot with a digit on each side ("good" dots), and
 *   F: a good dot followed 2-4 bytes later by a good dot that is followed
 *      2-4 bytes later by a third: the first dot of every "d.d.d.d".
 *
 * Every dotted quad of one to three digits per octet has its first dot in
 * F; F is a superset (the validator decides), but it skips the dots of
 * versions and decimals such as "HTTP/1.1", "537.36" or "5.0" that make
 * up most of the dots in logs.  Hyperscan keeps the IPv6 candidates ("::"
 * and eight hex groups), whose literal it runs at several GB/s.
 *
 * The file is compiled twice, for baseline x86-64 (SSE2, 16 bytes a
 * compare) and with -mavx2 (32 bytes), and the scanner picks one at run
 * time (rl_quads_select).
 *
 * Invariants: the caller guarantees that w[from - 1] and w[to .. to + 191]
 * can be read (the scanner's window keeps zeroed padding on both sides);
 * bytes there count as what they are, so F at a position p depends only on
 * w[p - 1 .. p + 9].  Positions are reported in increasing order.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "scan_quads.h"

#ifndef QUADS_NAME
#error "QUADS_NAME names the variant this compilation builds"
#endif

/* Digits and dots of the 64 bytes at q, bit i for q[i]. */
static inline void classify(const char *q, uint64_t *digits, uint64_t *dots)
{
#ifdef __AVX2__
	const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9),
		      dot = _mm256_set1_epi8('.');
	uint64_t d = 0, p = 0;
	for (int i = 0; i < 2; i++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(q + 32 * i));
		__m256i x = _mm256_sub_epi8(v, zero);
		__m256i isd = _mm256_cmpeq_epi8(_mm256_min_epu8(x, nine), x);
		d |= (uint64_t)(uint32_t)_mm256_movemask_epi8(isd) << (32 * i);
		p |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, dot))
		     << (32 * i);
	}
#else
	const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), dot = _mm_set1_epi8('.');
	uint64_t d = 0, p = 0;
	for (int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(q + 16 * i));
		__m128i x = _mm_sub_epi8(v, zero);
		__m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(x, nine), x);
		d |= (uint64_t)(uint16_t)_mm_movemask_epi8(isd) << (16 * i);
		p |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)) << (16 * i);
	}
#endif
	*digits = d;
	*dots = p;
}

/* Good dots of a block, from its digits and dots and the neighbouring
 * blocks' digits (the bit just before and just after). */
static inline uint64_t good_dots(uint64_t d_prev, uint64_t d, uint64_t p, uint64_t d_next)
{
	return p & (d << 1 | d_prev >> 63) & (d >> 1 | d_next << 63);
}

/* Bits of m that have a bit of m (continued by next) 2, 3 or 4 above. */
static inline uint64_t followed(uint64_t m, uint64_t f, uint64_t f_next)
{
	return m & ((f >> 2 | f_next << 62) | (f >> 3 | f_next << 61) | (f >> 4 | f_next << 60));
}

size_t QUADS_NAME(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out)
{
	size_t n = 0;
	const char *start = w + from;
	uint64_t d_prev = (uint64_t)((unsigned char)(start[-1] - '0') < 10) << 63;
	uint64_t d0, p0, d1, p1, d2, p2;
	classify(w + from, &d0, &p0);
	classify(w + from + 64, &d1, &p1);
	for (size_t q = from; q < to; q += 64) {
		classify(w + q + 128, &d2, &p2);
		uint64_t m0 = good_dots(d_prev, d0, p0, d1);
		uint64_t m1 = good_dots(d0, d1, p1, d2);
		uint64_t g0 = followed(m0, m0, m1), g1 = followed(m1, m1, 0);
		uint64_t f = followed(m0, g0, g1);
		if (to - q < 64)
			f &= (UINT64_C(1) << (to - q)) - 1;
		while (f) {
			out[n++] = base + q + (uint64_t)__builtin_ctzll(f);
			f &= f - 1;
		}
		d_prev = d0;
		d0 = d1, p0 = p1;
		d1 = d2, p1 = p2;
	}
	return n;
}
