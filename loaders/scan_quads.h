/*
 * scan_quads.h - the scanner's IPv4 candidate finder (scan_quads.c), one
 * variant per instruction set, chosen at run time.
 */
#ifndef RL_SCAN_QUADS_H
#define RL_SCAN_QUADS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the finder may read beyond `to` (and one before `from`). */
#define RL_QUADS_PAD 192

/*
 * Write to out, in increasing order, base + p for every p in [from, to)
 * where w[p] may be the first dot of a dotted quad; return how many.  out
 * needs room for (to - from) / 2 + 1 positions.
 */
typedef size_t (*rl_quads_fn)(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out);

size_t rl_quads_sse2(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out);
size_t rl_quads_avx2(const char *w, size_t from, size_t to, uint64_t base, uint64_t *out);

/* The fastest variant this CPU runs (RM_SIMD=scalar picks SSE2). */
rl_quads_fn rl_quads_select(void);

#endif
