/*
 * trie6_top8.h - the leading 32 bits of 8 IPv6 addresses in one AVX2
 * register, for the AVX2 walk (trie6_walk.c) and the benchmark's floors
 * (perf/lookup_bench.c), which must read them the same way.
 *
 * Four 32-byte loads hold two addresses each; two unpacks leave the
 * addresses' first words in 128-bit lanes (a0 a2 a4 a6 | a1 a3 a5 a7), a
 * permute puts them in order and a byte shuffle makes them host order.
 * The high halves of the same unpacks hold the second words (bytes 4-7),
 * which the benchmark's dir24+levels floor reads.
 * (Gathering the key bytes instead measured slower.)  Callable from code
 * built with -mavx2 or from a function with the same target attribute.
 * It is the vector form of rm_get_be32 (common/byteorder.h), which the
 * scalar walk uses; the swap stays here because it is fused with the
 * transpose, which only the trie's batch layout needs.
 */
#ifndef RM_TRIE6_TOP8_H
#define RM_TRIE6_TOP8_H

#include <immintrin.h>
#include <stdint.h>

/* Word w (0: bytes 0-3, 1: bytes 4-7) of 8 addresses, host order: the
 * low or high halves of the same unpacks.  w is a constant. */
static inline __attribute__((always_inline, target("avx2"))) __m256i
rm_trie6_word8(const uint8_t (*a)[16], int w)
{
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	const __m256i bswap =
	    _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6,
			     5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
	const __m256i *g = (const __m256i *)a;
	__m256i x0 = _mm256_loadu_si256(g), x1 = _mm256_loadu_si256(g + 1);
	__m256i x2 = _mm256_loadu_si256(g + 2), x3 = _mm256_loadu_si256(g + 3);
	__m256i lo = _mm256_unpacklo_epi32(x0, x1), hi = _mm256_unpacklo_epi32(x2, x3);
	__m256i words = w ? _mm256_unpackhi_epi64(lo, hi) : _mm256_unpacklo_epi64(lo, hi);
	return _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(words, order), bswap);
}

/* The leading 32 bits of 8 addresses. */
static inline __attribute__((always_inline, target("avx2"))) __m256i
rm_trie6_top8(const uint8_t (*a)[16])
{
	return rm_trie6_word8(a, 0);
}

#endif
