/*
 * scan_simd.h - the scanner's vector helpers (scan_simd.c): the finder of
 * dotted-quad and eight-group candidates and token classes, one variant
 * per instruction set, chosen at run time.
 */
#ifndef RL_SCAN_SIMD_H
#define RL_SCAN_SIMD_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the helpers may read beyond their range (and 64 before it). */
#define RL_SIMD_PAD 192
/* A candidate depends on this many bytes from its position on: an eight
 * groups' first colon on the 35 after it. */
#define RL_SIMD_LOOK 40

/*
 * Write to out, in increasing order, base + p for every p in [from, to)
 * where w[p] may be the first dot of a dotted quad or the first colon of
 * eight hex groups; return how many.  out needs room for (to - from) / 2 + 1
 * positions; w[from - 64 .. to + 191] are read.
 */
typedef size_t (*rl_candidates_fn)(const char *w, size_t from, size_t to, uint64_t base,
				   uint64_t *out);

/* Bit i set when p[i] is a token byte ([0-9A-Fa-f.:]); p[0 .. 63] are
 * read. */
typedef uint64_t (*rl_tokens_fn)(const char *p);

struct rl_simd {
	rl_candidates_fn candidates;
	rl_tokens_fn tokens;
};

size_t rl_candidates_sse2(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out);
size_t rl_candidates_avx2(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out);
uint64_t rl_tokens_sse2(const char *p);
uint64_t rl_tokens_avx2(const char *p);

/* The fastest variants this CPU runs (RM_SIMD=scalar picks SSE2). */
struct rl_simd rl_simd_select(void);

#endif
