/*
 * dir24.h - IPv4 address -> attribution id, DIR-24-8.
 *
 * A first level of 2^24 entries indexed by the top 24 bits of the address
 * answers almost every lookup in one memory access; the few /24s that hold
 * more than one range point to a 256-entry second-level group indexed by
 * the low 8 bits.  The table is built from the model's range list, stored
 * in the snapshot and used in place.
 *
 * In front of it sits a /16 summary: 2^16 entries (128 KiB, so it stays in
 * the L2 cache) holding the id of every /16 that one range covers whole,
 * or "look further".  Registry space is mostly handed out in large blocks:
 * on the bundled data 94% of all /16s and 87% of delegated addresses are
 * answered there without touching the 32 MiB first level, which is what a
 * lookup on a large table pays for (a cache miss, not instructions).
 *
 * Entries are 2 bytes when every id and every group number fits in 15 bits
 * (true for all registry data seen so far: a few thousand attributions and
 * groups), else 4 bytes; the top bit marks "group".  Two bytes halve the
 * first level (32 MiB instead of 64) and so its cache and TLB footprint,
 * which is what a lookup on a large table pays for.
 *
 * Lookups take addresses in host byte order.  The bulk lookup runs the
 * best variant this CPU has (scalar with prefetch, AVX2, AVX-512), chosen
 * once through a function pointer; each variant lives in its own file
 * compiled with its own flags, so the binary runs on any x86-64.
 */
#ifndef RM_DIR24_H
#define RM_DIR24_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "simd.h"

#define RM_DIR24_TBL16	    (1u << 16)
#define RM_DIR24_TBL24	    (1u << 24)
#define RM_DIR24_PAD	    2u /* entries after each level: vector loads read 4 bytes */
#define RM_DIR24_MAX_GROUPS (1u << 23)

/*
 * Entry encoding, the same in all three levels: an attribution id, or
 * with the top bit of the entry set, "look further".  In the first level
 * the other bits then name a group (its entries are tbl8[group * 256 +
 * the address's low byte]); in the summary the entry is the bit alone and
 * sends the lookup to the first level; group entries are always ids.  The
 * bit is that of the entry's width, so the constants come in pairs; code
 * written for one width uses them directly (the vector variants), code
 * for either width goes through the functions below, which fold to the
 * same mask when the width is a constant.
 */
#define RM_DIR24_GROUP_2B 0x8000u     /* the top bit of a 2-byte entry */
#define RM_DIR24_INDEX_2B 0x7fffu     /* the rest: an id or a group */
#define RM_DIR24_GROUP_4B 0x80000000u /* the top bit of a 4-byte entry */
#define RM_DIR24_INDEX_4B 0x7fffffffu

/* The group bit of `width`-byte entries. */
static inline __attribute__((always_inline)) uint32_t rm_dir24_group_bit(uint32_t width)
{
	return width == 2 ? RM_DIR24_GROUP_2B : RM_DIR24_GROUP_4B;
}

/* Whether entry e (read zero-extended) names a group, or in the summary
 * says "further". */
static inline __attribute__((always_inline)) bool rm_dir24_is_group(uint32_t e, uint32_t width)
{
	return (e & rm_dir24_group_bit(width)) != 0;
}

/* The group that entry e names; only when rm_dir24_is_group(e, width). */
static inline __attribute__((always_inline)) uint32_t rm_dir24_group_of(uint32_t e, uint32_t width)
{
	return e & (width == 2 ? RM_DIR24_INDEX_2B : RM_DIR24_INDEX_4B);
}

/* The first-level entry naming group g (g < RM_DIR24_MAX_GROUPS, and below
 * 2^15 for 2-byte entries). */
static inline uint32_t rm_dir24_group_entry(uint32_t g, uint32_t width)
{
	return rm_dir24_group_bit(width) | g;
}

/* The table, as mapped from a snapshot or built in memory. */
struct rm_dir24 {
	const void *tbl16; /* 2^16 + RM_DIR24_PAD entries: the /16 summary */
	const void *tbl24; /* 2^24 + RM_DIR24_PAD entries */
	const void *tbl8;  /* n_groups * 256 + RM_DIR24_PAD entries */
	uint32_t n_groups;
	uint32_t width; /* bytes per entry: 2 or 4 */
};

/* A table being built owns its memory. */
struct rm_dir24_owned {
	struct rm_dir24 t;
	void *mem16, *mem24, *mem8;
};

/* Build from a db's IPv4 ranges; -1 with a reason when it cannot. */
int rm_dir24_build(const struct rm_db *db, struct rm_dir24_owned *out, char *err, size_t errlen);
void rm_dir24_free(struct rm_dir24_owned *o);

/* Every entry in bounds: ids < n_attrs, groups < n_groups.  0 or -1. */
int rm_dir24_check(const struct rm_dir24 *t, uint32_t n_attrs, char *err, size_t errlen);

/* One lookup through the DIR-24-8 levels alone, the /16 summary unread:
 * the reference that the summary and every bulk variant are tested
 * against (tests/test_dir24.c). */
static inline uint32_t rm_dir24_lookup_levels(const struct rm_dir24 *t, uint32_t addr)
{
	if (t->width == 2) {
		uint32_t e = ((const uint16_t *)t->tbl24)[addr >> 8];
		if (rm_dir24_is_group(e, 2))
			e = ((const uint16_t *)
				 t->tbl8)[(rm_dir24_group_of(e, 2) << 8) | (addr & 0xff)];
		return e;
	}
	uint32_t e = ((const uint32_t *)t->tbl24)[addr >> 8];
	if (rm_dir24_is_group(e, 4))
		e = ((const uint32_t *)t->tbl8)[(rm_dir24_group_of(e, 4) << 8) | (addr & 0xff)];
	return e;
}

/* The /16 summary's answer, or RM_DIR24_FURTHER. */
#define RM_DIR24_FURTHER UINT32_MAX
static inline uint32_t rm_dir24_summary(const struct rm_dir24 *t, uint32_t addr)
{
	uint32_t e = t->width == 2 ? ((const uint16_t *)t->tbl16)[addr >> 16]
				   : ((const uint32_t *)t->tbl16)[addr >> 16];
	return rm_dir24_is_group(e, t->width) ? RM_DIR24_FURTHER : e;
}

/* One lookup the way the bulk variants do it: the /16 summary first, the
 * levels only when it says "further".  The same answer as
 * rm_dir24_lookup_levels, at one cached read for most addresses. */
static inline uint32_t rm_dir24_lookup_one(const struct rm_dir24 *t, uint32_t addr)
{
	uint32_t e = rm_dir24_summary(t, addr);
	return e != RM_DIR24_FURTHER ? e : rm_dir24_lookup_levels(t, addr);
}

typedef void (*rm_dir24_bulk_fn)(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
				 uint32_t n);

/*
 * The variant for a SIMD level, or NULL when this CPU lacks it.
 * RM_SIMD_BEST gives the fastest for this CPU (common/simd.h).
 */
rm_dir24_bulk_fn rm_dir24_select(enum rm_simd level);

/* The variants themselves (benchmarks and tests call them directly). */
void rm_dir24_lookup_scalar(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			    uint32_t n);
void rm_dir24_lookup_avx2(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			  uint32_t n);
void rm_dir24_lookup_avx512(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			    uint32_t n);

#endif
