/*
 * simd.c - which vector instruction set the run-time-chosen variants use
 * (simd.h): one policy for the lookups, the scanner and the IPFIX encoder.
 */
#include <stdlib.h>
#include <string.h>

#include "simd.h"

static const char *const simd_names[] = {"scalar", "avx2", "avx512", "best"};

const char *rm_simd_name(enum rm_simd level)
{
	return level <= RM_SIMD_BEST ? simd_names[level] : "invalid";
}

static enum rm_simd env_ceiling(void)
{
	const char *e = getenv("RM_MAX_SIMD");
	for (int i = 0; e && i < RM_SIMD_BEST; i++)
		if (strcmp(e, simd_names[i]) == 0)
			return (enum rm_simd)i;
	return RM_SIMD_AVX512;
}

int rm_simd_has(enum rm_simd level)
{
	__builtin_cpu_init();
	switch (level) {
	case RM_SIMD_SCALAR:
		return 1;
	case RM_SIMD_AVX2:
		return __builtin_cpu_supports("avx2");
	case RM_SIMD_AVX512:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
	default:
		return 0;
	}
}

/*
 * The widest level the CPU has, under the RM_MAX_SIMD ceiling; RM_SIMD
 * names one level outright.  On AMD CPUs AVX2 is preferred: their gathers
 * with EVEX encoding or 512-bit width are microcoded and measured no faster
 * than AVX2's there (perf/README.md), and AVX2 leaves the clock alone.
 */
enum rm_simd rm_simd_best(void)
{
	const char *force = getenv("RM_SIMD");
	for (int i = 0; force && i < RM_SIMD_BEST; i++)
		if (strcmp(force, simd_names[i]) == 0 && rm_simd_has((enum rm_simd)i))
			return (enum rm_simd)i;
	enum rm_simd ceil = env_ceiling();
	if (ceil > RM_SIMD_AVX2 && __builtin_cpu_is("amd"))
		ceil = RM_SIMD_AVX2;
	for (int l = RM_SIMD_AVX512; l > RM_SIMD_SCALAR; l--)
		if (l <= (int)ceil && rm_simd_has((enum rm_simd)l))
			return (enum rm_simd)l;
	return RM_SIMD_SCALAR;
}
