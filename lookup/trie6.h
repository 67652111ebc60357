/*
 * trie6.h - IPv6 address -> attribution id: a direct-indexed first stride,
 * uncompressed 8-bit levels down to /48 where the first stride splits, and
 * popcount-compressed multibit nodes below.
 *
 * A multibit trie with level compression at the top and the nodes of
 * Poptrie (Asai and Ohara, "Poptrie: A Compressed Trie with Population
 * Count for Fast and Scalable Software IP Routing Table Lookup", SIGCOMM
 * 2015) below, written here from the paper and fitted to registry data:
 *
 *   - The first stride is direct-indexed.  Registry space is 2000::/3, and
 *     its blocks are /12 to /48 with boundaries mostly at /32 or shorter,
 *     so 2000::/3 gets a 2^21-entry table at /24 granularity (`dir24`), and
 *     the rest of the space, where only IANA's few special blocks live, a
 *     2^16-entry table at /16 (`dir16`).  A dir16 entry is an id or a node;
 *     a dir24 entry an id or a dense group.
 *   - A /24 that is not one id has a dense group: the 256 entries of its
 *     /32s, uncompressed, each an id or, where the /32 splits, the dense
 *     group of its /40s, whose entries are ids or the groups of their /48s;
 *     below a /48, Poptrie nodes.  Registry blocks end at /48 (a few go
 *     deeper), so these three levels answer nearly every key that the
 *     first stride does not, and there are few enough of them that
 *     leaving them uncompressed costs little: on the bundled data 3457
 *     groups of /32s, 124 of /40s and 444 of /48s, 2 MiB of 2-byte
 *     entries.  A dense step is one load at an index computed from the
 *     entry and one byte of the address, which is what lets eight
 *     addresses take it with one gather; rm_trie6_first takes them, so the
 *     rest of a walk only ever sees ids and nodes.
 *   - Below the dense levels (the few blocks longer than /48) and under
 *     dir16, Poptrie nodes with 8-bit strides: every level consumes one
 *     byte of the address.  A node stores only the distinct runs of its 256
 *     slots: a 256-bit bitmap marks where a run starts (a child node is
 *     always a run of its own; equal leaves merge), and the slot's value is
 *     vals[cnt[w] + rank - 1], where w is the slot's 64-bit word, cnt[w]
 *     the runs before that word, and rank one POPCNT of the word up to the
 *     slot.
 *   - The values sit inside the node, right after its 44-byte header, and a
 *     node takes as many 64-byte units as header and values need.  A step
 *     is then one cache line (two for nodes of more than five runs, the
 *     second fetched together with the first), not a node line followed by
 *     a dependent load from a separate value array.
 *
 * Entries of dir24 and of the dense groups are 2 bytes when every id, group
 * and node unit fits 15 bits, else 4 (the top bit marks a group or a node).
 * dir16 entries and node values are 4 bytes, top bit likewise; a node is
 * named by its first unit.  On the bundled data the whole structure is
 * about 6 MiB, 4 of it dir24.
 *
 * Invariants (checked when a snapshot is mapped): dir24 and the groups of
 * the first two levels name ids in bounds or groups of the next level; the
 * units parse as a sequence of whole nodes, every dir16, last-level group
 * or node value names an id in bounds or the first unit of a node, a
 * node's first slot starts a run and its counts match its bitmap, a child
 * starts after any node that points to it, and no node sits at byte 16 or
 * deeper (nor, under a group, above byte 6), so every walk ends inside the
 * arrays.
 */
#ifndef RM_TRIE6_H
#define RM_TRIE6_H

#include <stddef.h>
#include <stdint.h>

#include "byteorder.h"
#include "model.h"
#include "simd.h"

#define RM_TRIE6_DIR24	  (1u << 21)  /* 2000::/3 at /24 */
#define RM_TRIE6_PAD	  2u	      /* entries after dir24 and dense: gathers read 4 bytes */
#define RM_TRIE6_GROUP	  256u	      /* entries of a dense group */
#define RM_TRIE6_LEVELS	  3	      /* dense levels: bytes 3, 4 and 5 */
#define RM_TRIE6_DIR16	  (1u << 16)  /* everything at /16 (2000::/3 part unused) */
#define RM_TRIE6_NODE	  0x80000000u /* in dir16 and values: the rest is a node's unit */
#define RM_TRIE6_NODE_2B  0x8000u     /* the same bit in 2-byte dir24 and dense entries */
#define RM_TRIE6_MAX_BYTE 15	      /* deepest byte a node may consume */

#define RM_TRIE6_INLINE 5 /* values in a node's first unit */

/* The first 64-byte unit of a node; its values run on into the next units. */
struct rm_trie6_node {
	uint64_t bm[4];	 /* slot starts a run */
	uint16_t cnt[4]; /* runs before word w */
	uint32_t byte;	 /* which byte of the address the node consumes */
	uint32_t vals[RM_TRIE6_INLINE];
};

/* The trie, as mapped from a snapshot or built in memory. */
struct rm_trie6 {
	const void *dir24;		   /* 2^21 entries of `width` bytes */
	const void *dense;		   /* n_dense * 256 + pad entries of `width` bytes */
	const uint32_t *dir16;		   /* 2^16 entries */
	const struct rm_trie6_node *nodes; /* n_units 64-byte units */
	uint32_t n_dense, n_units, n_nodes, width;
	uint32_t dense_at[4]; /* the groups of byte 3 + i: [dense_at[i], dense_at[i + 1]) */
};

/* A node's values: the first in its first unit, the rest in the next ones. */
static inline const uint32_t *rm_trie6_vals(const struct rm_trie6_node *nd)
{
	return (const uint32_t *)((const char *)nd +
				  __builtin_offsetof(struct rm_trie6_node, vals));
}

/* Units a node of `runs` values takes. */
static inline uint32_t rm_trie6_node_units(uint32_t runs)
{
	return runs <= RM_TRIE6_INLINE ? 1 : 1 + (runs - RM_TRIE6_INLINE + 15) / 16;
}

struct rm_trie6_owned {
	struct rm_trie6 t;
	void *dir24, *dense;
	uint32_t *dir16;
	struct rm_trie6_node *nodes;
};

int rm_trie6_build(const struct rm_db *db, struct rm_trie6_owned *out, char *err, size_t errlen);
void rm_trie6_free(struct rm_trie6_owned *o);
int rm_trie6_check(const struct rm_trie6 *t, uint32_t n_attrs, char *err, size_t errlen);
size_t rm_trie6_bytes(const struct rm_trie6 *t);

/* The bits of a group or node entry that name it: with 2-byte entries
 * every id, group and unit fits 15 bits, so rm_trie6_first only
 * sign-extends them (the top bit marks a group or node, as RM_TRIE6_NODE
 * does in 4-byte ones). */
static inline uint32_t rm_trie6_unit_mask(uint32_t width)
{
	return width == 2 ? RM_TRIE6_NODE_2B - 1 : ~RM_TRIE6_NODE;
}

/* Entry i of a table of `width`-byte entries, widened as rm_trie6_unit_mask
 * reads it. */
static inline __attribute__((always_inline)) uint32_t rm_trie6_entry(const void *tbl, uint32_t i,
								     uint32_t width)
{
	if (width == 2)
		return (uint32_t)(int32_t)((const int16_t *)tbl)[i];
	return ((const uint32_t *)tbl)[i];
}

/* The dir24 entry of an address inside 2000::/3 (top: its first 32 bits):
 * an id, or a group entry, top bit set. */
static inline __attribute__((always_inline)) uint32_t rm_trie6_dir24(const struct rm_trie6 *t,
								     uint32_t top, uint32_t width)
{
	return rm_trie6_entry(t->dir24, (top >> 8) & (RM_TRIE6_DIR24 - 1), width);
}

/* The dense step from group entry g by byte b of the address: an id, a
 * group entry of the next level, or (from the last) a node entry. */
static inline __attribute__((always_inline)) uint32_t
rm_trie6_dense(const struct rm_trie6 *t, uint32_t g, uint8_t b, uint32_t width)
{
	return rm_trie6_entry(t->dense, (g & rm_trie6_unit_mask(width)) * RM_TRIE6_GROUP + b,
			      width);
}

/* The first stride, and the dense steps under it, for tables of
 * `width`-byte entries (a constant where the compiler can see it): an id,
 * or a node entry, top bit set, its unit under rm_trie6_unit_mask(width).
 * a is big-endian. */
static inline __attribute__((always_inline)) uint32_t
rm_trie6_first(const struct rm_trie6 *t, const uint8_t *a, uint32_t width)
{
	uint32_t top = rm_get_be32(a); /* the first 32 bits, in one load */
	if ((top >> 29) != 1)
		return t->dir16[top >> 16];
	uint32_t e = rm_trie6_dir24(t, top, width);
	for (unsigned lv = 0; lv < RM_TRIE6_LEVELS && (e & RM_TRIE6_NODE); lv++)
		e = rm_trie6_dense(t, e, a[3 + lv], width);
	return e;
}

/* One node step: the value of the slot the address's byte selects.  The
 * slot's rank among the run starts of its word is the POPCNT of the word
 * shifted so that the slot's bit is the top one. */
static inline uint32_t rm_trie6_step(const struct rm_trie6 *t, uint32_t node, const uint8_t *a)
{
	const struct rm_trie6_node *nd = &t->nodes[node];
	unsigned b = a[nd->byte], w = b >> 6;
	uint64_t upto = nd->bm[w] << (63 - (b & 63));
	return rm_trie6_vals(nd)[nd->cnt[w] + (uint32_t)__builtin_popcountll(upto) - 1];
}

/* The simple walk, one address at a time: the reference for the bulk path. */
static inline uint32_t rm_trie6_lookup1(const struct rm_trie6 *t, const uint8_t a[16])
{
	uint32_t e = rm_trie6_first(t, a, t->width), unit = rm_trie6_unit_mask(t->width);
	while (e & RM_TRIE6_NODE)
		e = rm_trie6_step(t, e & unit, a);
	return e;
}

/* Addresses as 16 bytes in network order, as they come off the wire. */
typedef void (*rm_trie6_bulk_fn)(const struct rm_trie6 *t, const uint8_t (*addrs)[16],
				 uint32_t *ids, uint32_t n);

/* Bulk walks, trie6_walk.c compiled three times: portable, with POPCNT,
 * and with POPCNT and AVX2 (a vector first stride). */
void rm_trie6_lookup_generic(const struct rm_trie6 *t, const uint8_t (*addrs)[16], uint32_t *ids,
			     uint32_t n);
void rm_trie6_lookup_popcnt(const struct rm_trie6 *t, const uint8_t (*addrs)[16], uint32_t *ids,
			    uint32_t n);
void rm_trie6_lookup_avx2(const struct rm_trie6 *t, const uint8_t (*addrs)[16], uint32_t *ids,
			  uint32_t n);

/*
 * The walk for a SIMD level (common/simd.h), or NULL when this CPU lacks
 * it; RM_SIMD_BEST gives the fastest for this CPU.  AVX2 and up take the
 * AVX2 walk, and every level the POPCNT one when the CPU has POPCNT.
 */
rm_trie6_bulk_fn rm_trie6_select(enum rm_simd level);

#endif
