/*
 * trie6_avx512.c - the bulk walk of the IPv6 trie with AVX-512: sixteen
 * addresses per vector, two vectors in flight.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vpopcntdq and called only
 * when the CPU has all three.  Every level of the walk is a handful of
 * gathers for the lanes still on a node: the node's byte number, the key
 * byte it selects, the 64-bit bitmap word, that word's base; then VPOPCNTQ
 * gives each lane its rank and one more gather its value.  Lanes that have
 * reached an id are masked off and touch no memory.  Two independent
 * vectors per step keep one's gathers busy while the other's wait.
 */
#include <immintrin.h>

#include "trie6.h"

struct lanes {
	__m512i e;	/* current value: id, or RM_TRIE6_NODE | node */
	__m512i koff;	/* byte offset of each lane's key from the batch start */
	__mmask16 node; /* lanes still on a node */
};

static inline struct lanes first16(const struct rm_trie6 *t, const uint8_t *keys)
{
	struct lanes l;
	const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
	const __m512i bswap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
	l.koff = _mm512_slli_epi32(lane, 4);
	__m512i top = _mm512_shuffle_epi8(_mm512_i32gather_epi32(l.koff, keys, 1), bswap);
	__mmask16 in2k = _mm512_cmpeq_epi32_mask(_mm512_srli_epi32(top, 29), _mm512_set1_epi32(1));
	__m512i i24 = _mm512_and_si512(_mm512_srli_epi32(top, 8), _mm512_set1_epi32(0x1fffff));
	__m512i e;
	if (t->width == 2) {
		e = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), in2k, i24, t->dir24, 2);
		e = _mm512_and_si512(e, _mm512_set1_epi32(0xffff));
		__mmask16 nd = _mm512_test_epi32_mask(e, _mm512_set1_epi32(0x8000));
		e = _mm512_mask_xor_epi32(e, nd, e,
					  _mm512_set1_epi32((int)(0x8000u | RM_TRIE6_NODE)));
	} else {
		e = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), in2k, i24, t->dir24, 4);
	}
	__mmask16 rest = _knot_mask16(in2k);
	if (rest)
		e = _mm512_mask_i32gather_epi32(e, rest, _mm512_srli_epi32(top, 16), t->dir16, 4);
	l.e = e;
	l.node = _mm512_test_epi32_mask(e, _mm512_set1_epi32((int)RM_TRIE6_NODE));
	return l;
}

/* Popcount of the low 8 lanes' (or high 8 lanes') words up to their bit. */
static inline __m256i rank8(__m512i words, __m256i bit)
{
	__m512i b = _mm512_cvtepu32_epi64(bit);
	__m512i upto =
	    _mm512_sub_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(2), b), _mm512_set1_epi64(1));
	return _mm512_cvtepi64_epi32(_mm512_popcnt_epi64(_mm512_and_si512(words, upto)));
}

static inline void step16(const struct rm_trie6 *t, const uint8_t *keys, struct lanes *l)
{
	__mmask16 m = l->node;
	const uint8_t *nodes = (const uint8_t *)t->nodes;
	__m512i noff =
	    _mm512_slli_epi32(_mm512_andnot_si512(_mm512_set1_epi32((int)RM_TRIE6_NODE), l->e), 6);
	__m512i byte = _mm512_mask_i32gather_epi32(
	    _mm512_setzero_si512(), m, _mm512_add_epi32(noff, _mm512_set1_epi32(48)), nodes, 1);
	/* The key byte: the aligned dword holding it, shifted down. */
	__m512i kd = _mm512_mask_i32gather_epi32(
	    _mm512_setzero_si512(), m,
	    _mm512_add_epi32(l->koff, _mm512_andnot_si512(_mm512_set1_epi32(3), byte)), keys, 1);
	__m512i kb = _mm512_and_si512(
	    _mm512_srlv_epi32(kd,
			      _mm512_slli_epi32(_mm512_and_si512(byte, _mm512_set1_epi32(3)), 3)),
	    _mm512_set1_epi32(0xff));
	__m512i w = _mm512_srli_epi32(kb, 6);
	__m512i bit = _mm512_and_si512(kb, _mm512_set1_epi32(63));
	__m512i woff = _mm512_add_epi32(noff, _mm512_slli_epi32(w, 3));
	__m512i wlo = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)m,
						  _mm512_castsi512_si256(woff), nodes, 1);
	__m512i whi = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)(m >> 8),
						  _mm512_extracti64x4_epi64(woff, 1), nodes, 1);
	__m256i rlo = rank8(wlo, _mm512_castsi512_si256(bit));
	__m256i rhi = rank8(whi, _mm512_extracti64x4_epi64(bit, 1));
	__m512i rank = _mm512_inserti64x4(_mm512_castsi256_si512(rlo), rhi, 1);
	__m512i base = _mm512_mask_i32gather_epi32(
	    _mm512_setzero_si512(), m,
	    _mm512_add_epi32(noff,
			     _mm512_add_epi32(_mm512_set1_epi32(32), _mm512_slli_epi32(w, 2))),
	    nodes, 1);
	__m512i vi = _mm512_sub_epi32(_mm512_add_epi32(base, rank), _mm512_set1_epi32(1));
	l->e = _mm512_mask_i32gather_epi32(l->e, m, vi, t->values, 4);
	l->node = _mm512_mask_test_epi32_mask(m, l->e, _mm512_set1_epi32((int)RM_TRIE6_NODE));
}

void rm_trie6_lookup_avx512(const struct rm_trie6 *t, const uint8_t (*addrs)[16], uint32_t *ids,
			    uint32_t n)
{
	uint32_t i = 0;
	for (; i + 32 <= n; i += 32) {
		const uint8_t *k0 = addrs[i], *k1 = addrs[i + 16];
		struct lanes a = first16(t, k0), b = first16(t, k1);
		while (a.node | b.node) {
			if (a.node)
				step16(t, k0, &a);
			if (b.node)
				step16(t, k1, &b);
		}
		_mm512_storeu_si512(ids + i, a.e);
		_mm512_storeu_si512(ids + i + 16, b.e);
	}
	for (; i < n; i++)
		ids[i] = rm_trie6_lookup1(t, addrs[i]);
}
