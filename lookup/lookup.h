/*
 * lookup.h - the lookups of a mapped snapshot, for the code that
 * attributes addresses (rirmeter's workers and reloads in dataplane/dpdk/,
 * rirdb scan and rirdb lookup).
 *
 * Like DPDK's rte_fib.h in front of its dir24_8 and trie, this header is
 * what users of lookups see; the structures behind it (dir24.h for IPv4,
 * trie6.h for IPv6) and their vector variants stay the business of lookup/
 * and of the tests and benchmarks that exercise each variant.  Binding a
 * snapshot resolves, once, everything a lookup needs: the db, the table of
 * each family, and the bulk variant of each family for a SIMD level
 * (common/simd.h).  After that a bulk lookup is one indirect call with
 * the table as its first argument, the same cost as calling the variant
 * by hand: struct rm_lookup holds the table pointers and the function
 * pointers themselves, so a caller that keeps it (or a copy) in a struct
 * it already reads pays no extra load per call, and none per address.
 *
 * Addresses: IPv4 in host byte order, IPv6 as 16 bytes in network order
 * (as they come off the wire).  Every answer is an attribution id below
 * db->n_attrs (the snapshot's checks guarantee it), the same id the
 * reference lookup in model.h gives.
 */
#ifndef RM_LOOKUP_H
#define RM_LOOKUP_H

#include <stdint.h>

#include "dir24.h"
#include "model.h"
#include "simd.h"
#include "snapshot.h"
#include "trie6.h"

/* Bulk lookups: ids[i] is the attribution of addrs[i], for i < n. */
typedef rm_dir24_bulk_fn rm_lookup4_bulk_fn;
typedef rm_trie6_bulk_fn rm_lookup6_bulk_fn;

/* A snapshot bound for lookups; valid while the snapshot stays open. */
struct rm_lookup {
	const struct rm_db *db;	      /* the model: attributions, blocks, ranges */
	const struct rm_dir24 *dir24; /* IPv4 table, the first argument of v4 */
	const struct rm_trie6 *trie6; /* IPv6 table, the first argument of v6 */
	rm_lookup4_bulk_fn v4;	      /* the IPv4 variant chosen by rm_lookup_bind */
	rm_lookup6_bulk_fn v6;	      /* the IPv6 variant chosen by rm_lookup_bind */
};

/*
 * Fill l for snapshot s with the bulk variants of SIMD level `level`
 * (RM_SIMD_BEST: the fastest this CPU has, under RM_SIMD and RM_MAX_SIMD).
 * Returns 0, or -1 with l zeroed when this CPU lacks the level (never for
 * RM_SIMD_BEST: the scalar variants run anywhere).  Each family takes its
 * widest variant up to the level (the IPv6 walk has no AVX-512 one).  Call
 * it once per snapshot, not per packet.
 */
int rm_lookup_bind(struct rm_lookup *l, const struct rm_snapshot *s, enum rm_simd level);

static inline __attribute__((always_inline)) void
rm_lookup4_bulk(const struct rm_lookup *l, const uint32_t *addrs, uint32_t *ids, uint32_t n)
{
	l->v4(l->dir24, addrs, ids, n);
}

static inline __attribute__((always_inline)) void
rm_lookup6_bulk(const struct rm_lookup *l, const uint8_t (*addrs)[16], uint32_t *ids, uint32_t n)
{
	l->v6(l->trie6, addrs, ids, n);
}

/* One IPv4 address, the way the bulk variants answer it (summary first). */
static inline uint32_t rm_lookup4_one(const struct rm_lookup *l, uint32_t addr)
{
	return rm_dir24_lookup_one(l->dir24, addr);
}

/* One IPv6 address (16 bytes, network order): the trie walk. */
static inline uint32_t rm_lookup6_one(const struct rm_lookup *l, const uint8_t a[16])
{
	return rm_trie6_lookup1(l->trie6, a);
}

/*
 * The located layer's lookups (located.c): what the location data says of
 * an address, with the registry's answer at the same address folded in,
 * as one "located id" per address.  The counters a dataplane keeps per
 * located id give every located scope (located country, registered x
 * located country, origin AS, whether that AS is the block's holder's)
 * with one count per address, and none of them needs the attribution id
 * again.
 *
 * The ids come from a sweep of the two range lists (the registry's and
 * the layer's) of each family: each piece of space where neither changes
 * gets the id of its (geo id, registered country, origin) triple, ids
 * shared by every piece with the same triple.  For the 2022 location
 * database and the bundled registry files:
 *
 *     registry ranges   |---- NL, holder H ----|---- DE, holder J --------|
 *     geo ranges        |-- DE AS1 --|------ DE AS2 ------|-- FR AS2 -----|
 *     located ids       |     7      |    8     |   9     |     10        |
 *                         NL>DE AS1   NL>DE AS2  DE>DE AS2  DE>FR AS2
 *                         (AS1 is H's: holder; AS2 is J's: other, other, holder, holder)
 *
 * Located id 0 is "nothing known" at all.  The tables are the same
 * DIR-24-8 and trie as the registry's, with the same bulk variants,
 * built when a snapshot is bound (on the main lcore or in rirdb, never by
 * a worker), not stored in the snapshot: a snapshot without the layer is
 * as it was.  IPv4's table has 4-byte entries, since the located ids
 * exceed the 15 bits of the 2-byte form.
 *
 * The IPv6 trie answers pair ids: one per distinct (attribution id,
 * located id) of the swept pieces, cut where either changes, and pair6
 * gives the two ids of each.  rm_geo_lookup6_pair_bulk answers both with
 * one walk, where the registry's trie and a located one took two (each
 * walk costs its cache misses).  The attribution ids are the registry's
 * (the sweep reads db->v6's ids), the ones rm_lookup6_bulk gives.  Pair
 * ids are numbered per region, the address's first byte (pieces are cut
 * where a region starts too), and the split takes the region from the
 * address: with the bundled data and the 2022 location database the
 * largest region (2a00::/8) has 12,783 pairs where the whole space has
 * 38,001, so the ids fit the trie's 2-byte entries (20 MiB) where global
 * ones needed 4-byte entries (39 MiB).  Its dense groups must fit 15 bits
 * too: 31,908 of 32,768 there.  A larger database that exceeds either
 * bound gets 4-byte entries (rm_trie6_build chooses), the same answers.
 */
struct rm_located {
	char cc[2];	/* located country, upper case, or "\0\0" */
	char reg_cc[2]; /* the registry's country at the same address, or "\0\0" */
	uint32_t asn;	/* origin AS, 0 when none */
	uint32_t geo;	/* the geo id (model.h) */
	uint8_t origin; /* enum rm_origin of asn and the block's holder */
	uint8_t pad[3];
};

/* What an IPv6 pair id stands for. */
struct rm_loc_pair {
	uint32_t attr; /* attribution id */
	uint32_t loc;  /* located id */
};

/* IPv6 pair ids are numbered per region: the address's first byte. */
#define RM_LOC_REGIONS 256

/* The pairs of every region: pair id p of an address whose first byte is r
 * stands for pair[first[r] + p], p below first[r + 1] - first[r]. */
struct rm_loc_pairs {
	const struct rm_loc_pair *pair;
	uint32_t first[RM_LOC_REGIONS + 1];
};

struct rm_geo_lookup {
	const struct rm_located *loc; /* NULL: the snapshot has no located layer */
	uint32_t n_loc;
	struct rm_dir24_owned dir24; /* IPv4 -> located id */
	struct rm_trie6_owned trie6; /* IPv6 -> pair id of its region */
	struct rm_loc_pairs pair6;
	rm_lookup4_bulk_fn v4;
	rm_lookup6_bulk_fn v6;
};

/* Build g for db's located layer at SIMD level `level` (RM_SIMD_BEST as
 * in rm_lookup_bind).  0 (g->loc NULL when db has no layer), or -1 with a
 * reason in err (out of memory, or the level missing). */
int rm_geo_lookup_build(struct rm_geo_lookup *g, const struct rm_db *db, enum rm_simd level,
			char *err, size_t errlen);
void rm_geo_lookup_free(struct rm_geo_lookup *g);

/* The located id of one address, as the bulk lookups answer it (rirdb
 * scan's transition addresses; rirmeter binds the same table as a struct
 * rm_lookup and calls rm_lookup4_one). */
static inline uint32_t rm_geo_lookup4_one(const struct rm_geo_lookup *g, uint32_t addr)
{
	return rm_dir24_lookup_one(&g->dir24.t, addr);
}

static inline __attribute__((always_inline)) void
rm_geo_lookup4_bulk(const struct rm_geo_lookup *g, const uint32_t *addrs, uint32_t *ids, uint32_t n)
{
	g->v4(&g->dir24.t, addrs, ids, n);
}

/* The pair ids in loc of n IPv6 addresses a (each id below its region's
 * count in p) split in place: loc[i] becomes the pair's located id,
 * attr[i] (when attr is not NULL) its attribution id.  The region is
 * a[i]'s first byte: a read of the address the walk just read. */
static inline __attribute__((always_inline)) void rm_loc_pair_split(const struct rm_loc_pairs *p,
								    const uint8_t (*a)[16],
								    uint32_t *attr, uint32_t *loc,
								    uint32_t n)
{
	/* Once: the stores into attr and loc may alias p. */
	const struct rm_loc_pair *pair = p->pair;
	for (uint32_t i = 0; i < n; i++) {
		const struct rm_loc_pair q = pair[p->first[a[i][0]] + loc[i]];
		if (attr)
			attr[i] = q.attr;
		loc[i] = q.loc;
	}
}

/* Located ids of n IPv6 addresses: the pair walk, then the pairs' located
 * ids. */
static inline __attribute__((always_inline)) void rm_geo_lookup6_bulk(const struct rm_geo_lookup *g,
								      const uint8_t (*addrs)[16],
								      uint32_t *ids, uint32_t n)
{
	g->v6(&g->trie6.t, addrs, ids, n);
	rm_loc_pair_split(&g->pair6, addrs, NULL, ids, n);
}

/* Attribution ids (as rm_lookup6_bulk on the same snapshot answers them)
 * and located ids of n IPv6 addresses, with one walk. */
static inline __attribute__((always_inline)) void
rm_geo_lookup6_pair_bulk(const struct rm_geo_lookup *g, const uint8_t (*addrs)[16], uint32_t *attr,
			 uint32_t *loc, uint32_t n)
{
	g->v6(&g->trie6.t, addrs, loc, n);
	rm_loc_pair_split(&g->pair6, addrs, attr, loc, n);
}

#endif
