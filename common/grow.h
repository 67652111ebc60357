/*
 * grow.h - the one way rirmeter grows an array: capacity doubling, with
 * the overflow checks and the out-of-memory policy decided here once.
 *
 * Capacities are uint32_t: every array that grows is indexed by 32-bit
 * ids, offsets or counts (model strings and ids, claims, trie units,
 * rows), so a capacity past UINT32_MAX could not be used anyway.  The
 * byte buffers that follow an input file (loaders/build.c reads a whole
 * file, the CSV field buffer is sized by the rest of it) are therefore
 * limited to 4 GiB - 1, which the loaders report as an error.
 *
 * Out-of-memory policy: who has an error path returns it.
 *   rm_grow()        returns -1 and leaves the old buffer and capacity as
 *                    they were (still valid, still owned by the caller);
 *                    for callers that can fail cleanly: they report the
 *                    failure as an error naming what they were doing, and
 *                    the program exits non-zero without crashing.
 *   rm_grow_or_die() prints "PROGRAM: out of memory" and aborts; for
 *                    callers whose contract has no error to return (the
 *                    model builder's interning, which hands out ids; a
 *                    record appended by a parser; a row pushed on the main
 *                    lcore; a trie under construction), where threading an
 *                    error through every caller would cost more than the
 *                    case is worth.
 * Both are one implementation, so the growth and the checks are the same;
 * a refused size (the capacity type or count * elem would overflow) is
 * treated exactly like a failed allocation.
 */
#ifndef RM_GROW_H
#define RM_GROW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Make *v (an array of *cap elements of elem bytes, NULL when *cap is 0)
 * hold at least n + more elements.  When it already does, nothing changes.
 * Otherwise the capacity starts at first (when *cap is 0) and doubles until
 * it is enough, clamped to UINT32_MAX, and *v is reallocated to it; the
 * first n elements are kept.  Returns 0, or -1 (nothing changed) when
 * n + more exceeds UINT32_MAX, the byte size overflows size_t, or realloc
 * fails.  v must point to an object pointer (T **); see RM_GROW.
 */
int rm_grow(void **v, uint32_t *cap, uint32_t n, size_t more, size_t elem, uint32_t first);
/* rm_grow, but never returns failure: see the policy above. */
void rm_grow_or_die(void **v, uint32_t *cap, uint32_t n, size_t more, size_t elem, uint32_t first);

/* Print "PROGRAM: out of memory" (rirmeter, rirdb) and abort:
 * rm_grow_or_die's failure, and that of the few allocations of the same
 * kind of caller that are not a growth (a hash table rebuilt at twice the
 * size, lookup/model.c). */
__attribute__((noreturn)) void rm_out_of_memory(void);

/* The typed forms: p is a T **, the element size is sizeof(T). */
#define RM_GROW(p, cap, n, more, first)                                                            \
	rm_grow((void **)(p), (cap), (n), (more), sizeof(**(p)), (first))
#define RM_GROW_OR_DIE(p, cap, n, more, first)                                                     \
	rm_grow_or_die((void **)(p), (cap), (n), (more), sizeof(**(p)), (first))

#endif
