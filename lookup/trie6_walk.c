/*
 * trie6_walk.c - the bulk walk of the IPv6 trie.
 *
 * Compiled three times: portable (rm_trie6_lookup_generic), with -mpopcnt
 * (rm_trie6_lookup_popcnt), since without the POPCNT instruction a
 * popcount is a dozen instructions, and with -mavx2 as well
 * (rm_trie6_lookup_avx2), whose first stride takes 8 addresses at a time:
 * their leading 32 bits come out of four 32-byte loads (trie6_top8.h),
 * the dir24 entries out of one gather, and when at least GATHER_MIN of the
 * 8 name a dense group, their dense entries out of one more, masked to
 * those lanes.  Fewer go the scalar way below: a gather costs the same for
 * 1 lane as for 8, and on the allocated stream (a quarter of the keys need
 * the dense step) gathering for every group of 8 that has one ran at three
 * quarters of the speed.  trie6.c picks a walk
 * at run time, at the SIMD level the IPv4 lookup uses.  The compressed
 * nodes stay scalar: walking them with gathers (five per level) measured
 * slower than the scalar steps on Zen 4.
 *
 * A walk is a chain of dependent loads, and a step that misses the L2
 * cache costs tens of cycles.  Walking one address at a time leaves the
 * core waiting on each; here a batch takes the direct first stride for
 * all its addresses, then each dense level for the lanes on one of its
 * groups, then keeps a list of the lanes that still point at a node and
 * advances the whole list one level per pass.  The steps of one pass are
 * independent, so their loads overlap, and the lists are built without
 * branches (append, then advance the count by "on a group" or "still a
 * node"), so the mix of shallow and deep addresses costs no
 * mispredictions.  (A 64-bit mask of the lanes instead of the list,
 * visited by lowest set bit, measured 5% slower in the dataplane.)
 */
#include "trie6.h"

#ifndef WALK_NAME
#error "WALK_NAME must name the function"
#endif

#define LANES	   64
#define GATHER_MIN 4 /* lanes of 8 on a group for the vector dense step */

/* The lanes of a batch still to walk: those on a group of each dense
 * level, and those on a node. */
struct lanes {
	uint32_t n_group[RM_TRIE6_LEVELS], n_node;
	uint8_t group[RM_TRIE6_LEVELS][LANES + 8], node[LANES + 8];
};

/* The scalar first stride of lanes [from, m): entries into e, the lanes on
 * a group or a node appended to their lists (dir16 names nodes, dir24
 * groups). */
static inline __attribute__((always_inline)) void first_scalar(const struct rm_trie6 *t,
							       const uint8_t (*a)[16], uint32_t *e,
							       uint32_t from, uint32_t m,
							       struct lanes *l, uint32_t width)
{
	for (uint32_t k = from; k < m; k++) {
		uint32_t top = rm_get_be32(a[k]), v;
		if ((top >> 29) != 1) {
			v = t->dir16[top >> 16];
			l->node[l->n_node] = (uint8_t)k;
			l->n_node += v >> 31;
		} else {
			v = rm_trie6_dir24(t, top, width);
			l->group[0][l->n_group[0]] = (uint8_t)k;
			l->n_group[0] += v >> 31;
		}
		e[k] = v;
	}
}

#ifdef __AVX2__
#include "trie6_top8.h"

/* The set bits of an 8-bit mask as byte positions, lowest first: the lanes
 * of a group of 8 that are left on a node, appended to the list in one
 * 8-byte store (the list has 8 bytes of room past its lanes). */
#define BIT(m, k)                                                                                  \
	((((m) >> (k)) & 1u) ? (uint64_t)(k) << (8 * __builtin_popcount((m) & ((1u << (k)) - 1)))  \
			     : 0)
#define LANES_OF(m)                                                                                \
	(BIT(m, 0) | BIT(m, 1) | BIT(m, 2) | BIT(m, 3) | BIT(m, 4) | BIT(m, 5) | BIT(m, 6) |       \
	 BIT(m, 7))
#define L4(m)  LANES_OF(m), LANES_OF(m + 1), LANES_OF(m + 2), LANES_OF(m + 3)
#define L16(m) L4(m), L4(m + 4), L4(m + 8), L4(m + 12)
#define L64(m) L16(m), L16(m + 16), L16(m + 32), L16(m + 48)
static const uint64_t lanes_of[256] = {L64(0u), L64(64u), L64(128u), L64(192u)};

/* 2-byte entries read as 4 bytes: the low half, sign-extended (a lane that
 * already holds a sign-extended entry keeps it). */
static inline __attribute__((always_inline)) __m256i widen2(__m256i x)
{
	return _mm256_srai_epi32(_mm256_slli_epi32(x, 16), 16);
}

/*
 * The first stride and first dense level of 8 addresses at once: their
 * first 32 bits (rm_trie6_top8), one gather from dir24 and, when at least
 * GATHER_MIN lanes name a group, one from dense.  A group with an address
 * outside 2000::/3 (dir16's) goes the scalar way.
 */
static inline __attribute__((always_inline)) void first_avx2(const struct rm_trie6 *t,
							     const uint8_t (*a)[16], uint32_t *e,
							     uint32_t m, struct lanes *l,
							     uint32_t width)
{
	const __m256i one = _mm256_set1_epi32(1), index = _mm256_set1_epi32(RM_TRIE6_DIR24 - 1);
	const __m256i unit = _mm256_set1_epi32((int)rm_trie6_unit_mask(width));
	const __m256i byte = _mm256_set1_epi32(0xff);
	/* The lists' counts in registers: kept in *l, every byte stored into
	 * a list (which may alias them) would make them a load and a store
	 * per group, a chain from one group to the next. */
	uint32_t k = 0, n0 = l->n_group[0], n1 = l->n_group[1];
	for (; k + 8 <= m; k += 8) {
		__m256i top = rm_trie6_top8(a + k);
		__m256i in = _mm256_cmpeq_epi32(_mm256_srli_epi32(top, 29), one);
		if (_mm256_movemask_ps(_mm256_castsi256_ps(in)) != 0xff) {
			l->n_group[0] = n0;
			first_scalar(t, a, e, k, k + 8, l, width);
			n0 = l->n_group[0];
			continue;
		}
		__m256i i = _mm256_and_si256(_mm256_srli_epi32(top, 8), index), v;
		if (width == 2)
			v = widen2(_mm256_i32gather_epi32((const int *)t->dir24, i, 2));
		else
			v = _mm256_i32gather_epi32((const int *)t->dir24, i, 4);
		unsigned groups = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(v));
		uint64_t base = k * UINT64_C(0x0101010101010101);
		if (__builtin_popcount(groups) < GATHER_MIN) {
			_mm256_storeu_si256((__m256i *)(e + k), v);
			uint64_t at = lanes_of[groups] + base;
			__builtin_memcpy(l->group[0] + n0, &at, 8);
			n0 += (uint32_t)__builtin_popcount(groups);
			continue;
		}
		/* Lanes naming a group read its entry; the others keep theirs. */
		__m256i j = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(v, unit), 8),
					    _mm256_and_si256(top, byte));
		if (width == 2)
			v = widen2(_mm256_mask_i32gather_epi32(v, (const int *)t->dense, j, v, 2));
		else
			v = _mm256_mask_i32gather_epi32(v, (const int *)t->dense, j, v, 4);
		_mm256_storeu_si256((__m256i *)(e + k), v);
		unsigned next = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(v));
		uint64_t at = lanes_of[next] + base;
		__builtin_memcpy(l->group[1] + n1, &at, 8);
		n1 += (uint32_t)__builtin_popcount(next);
	}
	l->n_group[0] = n0;
	l->n_group[1] = n1;
	first_scalar(t, a, e, k, m, l, width);
}
#endif

/* The dense step of level lv for the lanes on its groups: those left on a
 * group of the next level (or, from the last, a node) appended to `to`,
 * which has cnt.  Returns the new count. */
static inline __attribute__((always_inline)) uint32_t
dense_pass(const struct rm_trie6 *t, const uint8_t (*a)[16], uint32_t *e, const struct lanes *l,
	   unsigned lv, uint8_t *to, uint32_t cnt, uint32_t width)
{
	for (uint32_t j = 0; j < l->n_group[lv]; j++) {
		uint32_t k = l->group[lv][j], v = rm_trie6_dense(t, e[k], a[k][3 + lv], width);
		e[k] = v;
		to[cnt] = (uint8_t)k;
		cnt += v >> 31;
	}
	return cnt;
}

/* dense_pass for level 0, in two loops: the reads first, then the list of
 * the lanes left on a group from the entries just stored.  In one loop the
 * store into that list waits for its read (its place is the count so
 * far), and the loads after it wait on that store's address; level 0's
 * reads are the ones that miss the cache (a quarter of the allocated
 * stream's keys take them, from 1.7 MiB of groups), so letting them all
 * start at once measured 1-9% faster on that stream and the same on the
 * others.  (Levels 1 and 2 split the same way ran Zipf 2-3% slower.) */
static inline __attribute__((always_inline)) uint32_t
dense_pass0(const struct rm_trie6 *t, const uint8_t (*a)[16], uint32_t *e, const struct lanes *l,
	    uint8_t *to, uint32_t cnt, uint32_t width)
{
	const uint32_t n = l->n_group[0];
	for (uint32_t j = 0; j < n; j++) {
		uint32_t k = l->group[0][j];
		e[k] = rm_trie6_dense(t, e[k], a[k][3], width);
	}
	for (uint32_t j = 0; j < n; j++) {
		uint32_t k = l->group[0][j];
		to[cnt] = (uint8_t)k;
		cnt += e[k] >> 31;
	}
	return cnt;
}

/* The walk for a dir24 of `width`-byte entries; ids doubles as the lanes'
 * current entries. */
static inline __attribute__((always_inline)) void walk(const struct rm_trie6 *t,
						       const uint8_t (*addrs)[16], uint32_t *ids,
						       uint32_t n, uint32_t width)
{
	const uint32_t unit = rm_trie6_unit_mask(width);
	for (uint32_t i = 0; i < n; i += LANES) {
		uint32_t m = n - i < LANES ? n - i : LANES, *e = ids + i;
		const uint8_t(*a)[16] = addrs + i;
		struct lanes l;
		l.n_node = 0;
		for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++)
			l.n_group[lv] = 0;
#ifdef __AVX2__
		first_avx2(t, a, e, m, &l, width);
#else
		first_scalar(t, a, e, 0, m, &l, width);
#endif
		_Static_assert(RM_TRIE6_LEVELS == 3, "a pass per dense level");
		l.n_group[1] = dense_pass0(t, a, e, &l, l.group[1], l.n_group[1], width);
		l.n_group[2] = dense_pass(t, a, e, &l, 1, l.group[2], l.n_group[2], width);
		uint32_t cnt = dense_pass(t, a, e, &l, 2, l.node, l.n_node, width);
		while (cnt) {
			uint32_t next = 0;
			for (uint32_t j = 0; j < cnt; j++) {
				uint32_t k = l.node[j];
				uint32_t v = rm_trie6_step(t, e[k] & unit, a[k]);
				e[k] = v;
				l.node[next] = (uint8_t)k;
				next += v >> 31;
			}
			cnt = next;
		}
	}
}

void WALK_NAME(const struct rm_trie6 *t, const uint8_t (*addrs)[16], uint32_t *ids, uint32_t n)
{
	/* A copy the stores to ids cannot alias: the table pointers stay in
	 * registers instead of being reloaded after every store. */
	const struct rm_trie6 local = *t;
	if (local.width == 2)
		walk(&local, addrs, ids, n, 2);
	else
		walk(&local, addrs, ids, n, 4);
}
