/*
 * dir24_avx2.c - bulk lookup, 8 addresses per step with AVX2 gathers.
 * Compiled with -mavx2 and only called when the CPU has it.
 *
 * Each level is gathered only for the lanes that need it: the /16 summary
 * for all, the first level for lanes the summary could not answer, a group
 * for lanes whose entry has the group bit.  Two-byte entries are gathered
 * as 32-bit words at a 2-byte scale and masked to their low half (the
 * tables carry RM_DIR24_PAD entries of padding for the last one).
 */
#include <immintrin.h>

#include "dir24.h"

#define STEP 8

#define AVX2_LOOP(scale, extv, grpv, keep)                                                         \
	do {                                                                                       \
		const int *t16 = t->tbl16, *t24 = t->tbl24, *t8 = t->tbl8;                         \
		const __m256i ext = _mm256_set1_epi32((int)(extv));                                \
		const __m256i grp = _mm256_set1_epi32((int)(grpv));                                \
		const __m256i low8 = _mm256_set1_epi32(0xff);                                      \
		for (; i + STEP <= n; i += STEP) {                                                 \
			__m256i a = _mm256_loadu_si256((const __m256i *)(addrs + i));              \
			__m256i e =                                                                \
			    keep(_mm256_i32gather_epi32(t16, _mm256_srli_epi32(a, 16), scale));    \
			__m256i m = _mm256_cmpeq_epi32(_mm256_and_si256(e, ext), ext);             \
			if (!_mm256_testz_si256(m, m)) {                                           \
				e = keep(_mm256_mask_i32gather_epi32(                              \
				    e, t24, _mm256_srli_epi32(a, 8), m, scale));                   \
				m = _mm256_cmpeq_epi32(_mm256_and_si256(e, ext), ext);             \
				if (!_mm256_testz_si256(m, m)) {                                   \
					__m256i j = _mm256_or_si256(                               \
					    _mm256_slli_epi32(_mm256_and_si256(e, grp), 8),        \
					    _mm256_and_si256(a, low8));                            \
					e = keep(_mm256_mask_i32gather_epi32(e, t8, j, m, scale)); \
				}                                                                  \
			}                                                                          \
			_mm256_storeu_si256((__m256i *)(ids + i), e);                              \
		}                                                                                  \
	} while (0)

static inline __m256i low_half(__m256i v)
{
	return _mm256_and_si256(v, _mm256_set1_epi32(0xffff));
}

static inline __m256i whole(__m256i v)
{
	return v;
}

void rm_dir24_lookup_avx2(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			  uint32_t n)
{
	uint32_t i = 0;
	if (t->width == 2)
		AVX2_LOOP(2, RM_DIR24_GROUP_2B, RM_DIR24_INDEX_2B, low_half);
	else
		AVX2_LOOP(4, RM_DIR24_GROUP_4B, RM_DIR24_INDEX_4B, whole);
	if (i < n)
		rm_dir24_lookup_scalar(t, addrs + i, ids + i, n - i);
}
