/*
 * simd.h - the CPU-feature policy: one answer, for every part of rirmeter
 * that has vector variants (lookup/dir24, lookup/trie6, scan/, the IPFIX
 * encoder), to "which instruction set do we run?".
 *
 * Each variant lives in its own file compiled with its own flags and is
 * chosen at run time through a function pointer, so the binaries run on
 * any x86-64.  The environment can set a ceiling (RM_MAX_SIMD) or a choice
 * (RM_SIMD), each "scalar", "avx2" or "avx512": tests and benchmarks use
 * them to run every variant on one machine.
 */
#ifndef RM_SIMD_H
#define RM_SIMD_H

enum rm_simd { RM_SIMD_SCALAR, RM_SIMD_AVX2, RM_SIMD_AVX512, RM_SIMD_BEST };

/* The fastest level for this CPU: the widest, except AVX2 on AMD, under
 * RM_MAX_SIMD; RM_SIMD names one outright (when the CPU has it). */
enum rm_simd rm_simd_best(void);
/* Whether this CPU runs level (RM_SIMD_SCALAR always; RM_SIMD_BEST never). */
int rm_simd_has(enum rm_simd level);
/* "scalar", "avx2", "avx512", "best" ("invalid" otherwise). */
const char *rm_simd_name(enum rm_simd level);

#endif
