/*
 * dir24_avx512.c - bulk lookup with AVX-512VL: 8-lane gathers under mask
 * registers, 32 addresses per step in four independent chains.
 *
 * Why 8 lanes in an AVX-512 build: on the Zen 4 machines this was tuned
 * on, a 16-lane gather costs more than two 8-lane ones (measured in
 * perf/lookup_bench), while the mask registers still save the compare and
 * blend work of AVX2 and let the tail run masked instead of scalar.
 * Compiled with -mavx512f -mavx512vl; called only when the CPU has both.
 *
 * Levels as in dir24_avx2.c: the /16 summary for every lane, the first
 * level only for lanes the summary sends further, a group only for lanes
 * with the group bit; masked-off lanes touch no memory.
 */
#include <immintrin.h>

#include "dir24.h"

static inline __m256i one8(const struct rm_dir24 *t, __m256i a, __mmask8 live)
{
	const int w2 = t->width == 2;
	const __m256i keep = _mm256_set1_epi32(w2 ? 0xffff : -1);
	const __m256i ext = _mm256_set1_epi32((int)(w2 ? RM_DIR24_GROUP_2B : RM_DIR24_GROUP_4B));
	const __m256i grp = _mm256_set1_epi32((int)(w2 ? RM_DIR24_INDEX_2B : RM_DIR24_INDEX_4B));
	const __m256i zero = _mm256_setzero_si256();
	__m256i e;
	if (w2)
		e = _mm256_mmask_i32gather_epi32(zero, live, _mm256_srli_epi32(a, 16), t->tbl16, 2);
	else
		e = _mm256_mmask_i32gather_epi32(zero, live, _mm256_srli_epi32(a, 16), t->tbl16, 4);
	e = _mm256_and_si256(e, keep);
	__mmask8 m = _mm256_mask_test_epi32_mask(live, e, ext);
	if (m) {
		if (w2)
			e = _mm256_mmask_i32gather_epi32(e, m, _mm256_srli_epi32(a, 8), t->tbl24,
							 2);
		else
			e = _mm256_mmask_i32gather_epi32(e, m, _mm256_srli_epi32(a, 8), t->tbl24,
							 4);
		e = _mm256_and_si256(e, keep);
		m = _mm256_mask_test_epi32_mask(m, e, ext);
		if (m) {
			__m256i j = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(e, grp), 8),
						    _mm256_and_si256(a, _mm256_set1_epi32(0xff)));
			if (w2)
				e = _mm256_mmask_i32gather_epi32(e, m, j, t->tbl8, 2);
			else
				e = _mm256_mmask_i32gather_epi32(e, m, j, t->tbl8, 4);
			e = _mm256_and_si256(e, keep);
		}
	}
	return e;
}

void rm_dir24_lookup_avx512(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			    uint32_t n)
{
	uint32_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i a0 = _mm256_loadu_si256((const __m256i *)(addrs + i));
		__m256i a1 = _mm256_loadu_si256((const __m256i *)(addrs + i + 8));
		__m256i a2 = _mm256_loadu_si256((const __m256i *)(addrs + i + 16));
		__m256i a3 = _mm256_loadu_si256((const __m256i *)(addrs + i + 24));
		__m256i e0 = one8(t, a0, 0xff);
		__m256i e1 = one8(t, a1, 0xff);
		__m256i e2 = one8(t, a2, 0xff);
		__m256i e3 = one8(t, a3, 0xff);
		_mm256_storeu_si256((__m256i *)(ids + i), e0);
		_mm256_storeu_si256((__m256i *)(ids + i + 8), e1);
		_mm256_storeu_si256((__m256i *)(ids + i + 16), e2);
		_mm256_storeu_si256((__m256i *)(ids + i + 24), e3);
	}
	while (i < n) {
		uint32_t left = n - i;
		__mmask8 live = left >= 8 ? (__mmask8)0xff : (__mmask8)((1u << left) - 1);
		__m256i a = _mm256_maskz_loadu_epi32(live, addrs + i);
		_mm256_mask_storeu_epi32(ids + i, live, one8(t, a, live));
		i += left >= 8 ? 8 : left;
	}
}
