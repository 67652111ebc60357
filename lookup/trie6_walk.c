/*
 * trie6_walk.c - the bulk walk of the IPv6 trie.
 *
 * Compiled twice: portable (rm_trie6_lookup_generic) and with -mpopcnt
 * (rm_trie6_lookup_popcnt), since without the POPCNT instruction a
 * popcount is a dozen instructions.  trie6.c picks one at run time.
 *
 * A walk is a chain of dependent loads, and a node step that misses the
 * L2 cache costs tens of cycles.  Walking one address at a time leaves
 * the core waiting on each; here a batch takes the direct first stride for
 * all its addresses, then keeps a list of the lanes that still point at a
 * node and advances the whole list one level per pass.  The steps of one
 * pass are independent, so their loads overlap, and the list is rebuilt
 * without branches (append, then advance the count by "still a node"), so
 * the mix of shallow and deep addresses costs no mispredictions.
 */
#include "trie6.h"

#ifndef WALK_NAME
#error "WALK_NAME must name the function"
#endif

#define LANES 64

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
		uint8_t list[LANES];
		uint32_t cnt = 0;
		for (uint32_t k = 0; k < m; k++) {
			uint32_t v = rm_trie6_first(t, a[k], width);
			e[k] = v;
			list[cnt] = (uint8_t)k;
			cnt += v >> 31;
		}
		while (cnt) {
			uint32_t next = 0;
			for (uint32_t j = 0; j < cnt; j++) {
				uint32_t k = list[j];
				uint32_t v = rm_trie6_step(t, e[k] & unit, a[k]);
				e[k] = v;
				list[next] = (uint8_t)k;
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
