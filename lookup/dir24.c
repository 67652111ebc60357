/*
 * dir24.c - building and checking the DIR-24-8 table, the scalar lookup,
 * and the run-time choice of a vector variant.
 *
 * Build: one pass over the 2^24 /24 blocks with a cursor in the range
 * list.  A /24 that no range boundary cuts gets its range's id in the
 * first level; one that is cut gets a new 256-entry group, filled from the
 * ranges, and the first level points at it.  A range boundary is the only
 * thing that makes a /24 non-uniform, so the number of groups is at most
 * the number of ranges whose start is not /24-aligned.
 */
#include "dir24.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t count_cut_blocks(const struct rm_db *db)
{
	uint32_t groups = 0, last = UINT32_MAX;
	for (uint32_t i = 1; i < db->v4.n; i++) {
		uint32_t s = db->v4.start[i];
		if ((s & 0xff) && (s >> 8) != last) {
			groups++;
			last = s >> 8;
		}
	}
	return groups;
}

static uint32_t get(const void *tbl, uint32_t width, size_t i)
{
	return width == 2 ? ((const uint16_t *)tbl)[i] : ((const uint32_t *)tbl)[i];
}

static void put(void *tbl, uint32_t width, size_t i, uint32_t v)
{
	if (width == 2)
		((uint16_t *)tbl)[i] = (uint16_t)v;
	else
		((uint32_t *)tbl)[i] = v;
}

/* A /16 is answered by the summary when its 256 first-level entries are
 * one and the same id. */
static void fill_summary(void *t16, const void *t24, uint32_t width, uint32_t flag)
{
	for (uint32_t h = 0; h < RM_DIR24_TBL16; h++) {
		uint32_t e = get(t24, width, (size_t)h << 8);
		for (uint32_t k = 1; k < 256 && !(e & flag); k++)
			if (get(t24, width, ((size_t)h << 8) | k) != e)
				e = flag;
		put(t16, width, h, e & flag ? flag : e);
	}
}

int rm_dir24_build(const struct rm_db *db, struct rm_dir24_owned *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	uint32_t groups = count_cut_blocks(db);
	if (groups > RM_DIR24_MAX_GROUPS) {
		snprintf(err, errlen, "IPv4 table needs %u second-level groups, more than %u",
			 groups, RM_DIR24_MAX_GROUPS);
		return -1;
	}
	/* Two bytes when every id and group fits the index bits. */
	uint32_t width =
	    db->n_attrs <= RM_DIR24_INDEX_2B + 1u && groups <= RM_DIR24_INDEX_2B + 1u ? 2 : 4;
	uint32_t flag = rm_dir24_group_bit(width);
	out->mem16 = calloc(RM_DIR24_TBL16 + RM_DIR24_PAD, width);
	out->mem24 = calloc(RM_DIR24_TBL24 + RM_DIR24_PAD, width);
	out->mem8 = calloc((size_t)groups * 256 + RM_DIR24_PAD, width);
	if (!out->mem16 || !out->mem24 || !out->mem8) {
		rm_dir24_free(out);
		snprintf(err, errlen, "out of memory for the IPv4 table");
		return -1;
	}
	const uint32_t *start = db->v4.start, *id = db->v4.id, n = db->v4.n;
	uint32_t i = 0, g = 0;
	for (uint32_t blk = 0; blk < RM_DIR24_TBL24; blk++) {
		uint32_t base = blk << 8;
		while (i + 1 < n && start[i + 1] <= base)
			i++;
		if (i + 1 < n && start[i + 1] <= base + 255) {
			for (uint32_t lo = 0; lo < 256; lo++) {
				while (i + 1 < n && start[i + 1] <= base + lo)
					i++;
				put(out->mem8, width, (size_t)g * 256 + lo, id[i]);
			}
			put(out->mem24, width, blk, rm_dir24_group_entry(g, width));
			g++;
		} else {
			put(out->mem24, width, blk, id[i]);
		}
	}
	fill_summary(out->mem16, out->mem24, width, flag);
	out->t.tbl16 = out->mem16;
	out->t.tbl24 = out->mem24;
	out->t.tbl8 = out->mem8;
	out->t.n_groups = groups;
	out->t.width = width;
	return 0;
}

void rm_dir24_free(struct rm_dir24_owned *o)
{
	free(o->mem16);
	free(o->mem24);
	free(o->mem8);
	o->mem16 = o->mem24 = o->mem8 = NULL;
}

/*
 * The first of tbl[0, n) out of bounds, or n: an entry with the group flag
 * (0: none may have one) must name a group below n_groups, any other an id
 * below n_attrs.  Every load checks the whole 32 MiB first level, so blocks
 * are checked without branches (the compiler vectorizes the loops) and
 * only a bad block is searched entry by entry.
 */
static inline uint32_t out_of_bounds(uint32_t x, uint32_t flag, uint32_t n_attrs, uint32_t n_groups)
{
	return (x & ~flag) >= (x & flag ? n_groups : n_attrs);
}

static size_t first_out_of_bounds(const void *tbl, uint32_t width, size_t n, uint32_t flag,
				  uint32_t n_attrs, uint32_t n_groups)
{
	const uint16_t *e2 = tbl;
	const uint32_t *e4 = tbl;
	for (size_t at = 0; at < n; at += 4096) {
		size_t end = n - at < 4096 ? n : at + 4096;
		uint32_t bad = 0;
		if (width == 2) /* one loop per width, so that each vectorizes */
			for (size_t i = at; i < end; i++)
				bad |= out_of_bounds(e2[i], flag, n_attrs, n_groups);
		else
			for (size_t i = at; i < end; i++)
				bad |= out_of_bounds(e4[i], flag, n_attrs, n_groups);
		for (size_t i = at; bad && i < end; i++)
			if (out_of_bounds(get(tbl, width, i), flag, n_attrs, n_groups))
				return i;
	}
	return n;
}

/* Whether the 256 first-level entries of /16 h all equal s, as a summary
 * entry that is an id says: the lookups answer every address of h from
 * it.  One loop per width, so that each vectorizes. */
static int summary_holds(const void *tbl24, uint32_t width, uint32_t h, uint32_t s)
{
	uint32_t differ = 0;
	if (width == 2) {
		const uint16_t *e = (const uint16_t *)tbl24 + ((size_t)h << 8);
		for (int i = 0; i < 256; i++)
			differ |= e[i] ^ s;
	} else {
		const uint32_t *e = (const uint32_t *)tbl24 + ((size_t)h << 8);
		for (int i = 0; i < 256; i++)
			differ |= e[i] ^ s;
	}
	return differ == 0;
}

int rm_dir24_check(const struct rm_dir24 *t, uint32_t n_attrs, char *err, size_t errlen)
{
	if (t->width != 2 && t->width != 4) {
		snprintf(err, errlen, "IPv4 table entry width %u", t->width);
		return -1;
	}
	uint32_t flag = rm_dir24_group_bit(t->width);
	size_t i =
	    first_out_of_bounds(t->tbl24, t->width, RM_DIR24_TBL24, flag, n_attrs, t->n_groups);
	if (i < RM_DIR24_TBL24) {
		snprintf(err, errlen, "IPv4 table entry %zu out of bounds", i);
		return -1;
	}
	size_t n8 = (size_t)t->n_groups * 256; /* group entries are ids */
	i = first_out_of_bounds(t->tbl8, t->width, n8, 0, n_attrs, 0);
	if (i < n8) {
		snprintf(err, errlen, "IPv4 group entry %zu out of bounds", i);
		return -1;
	}
	/* The summary must say what every entry of its /16 in the first level
	 * says, or "further". */
	for (uint32_t h = 0; h < RM_DIR24_TBL16; h++) {
		uint32_t s = get(t->tbl16, t->width, h);
		if (s & flag ? s != flag : !summary_holds(t->tbl24, t->width, h, s)) {
			snprintf(err, errlen, "IPv4 summary entry %u disagrees with the table", h);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Scalar lookup: prefetch the first-level entry a few keys ahead.     */

#define PREFETCH_AHEAD 16

#define SCALAR_LOOP(type, width)                                                                   \
	do {                                                                                       \
		const type *t16 = t->tbl16, *t24 = t->tbl24, *t8 = t->tbl8;                        \
		for (uint32_t i = 0; i < n; i++) {                                                 \
			uint32_t a = addrs[i], e = t16[a >> 16];                                   \
			if (rm_dir24_is_group(e, width)) {                                         \
				e = t24[a >> 8];                                                   \
				if (rm_dir24_is_group(e, width))                                   \
					e = t8[(rm_dir24_group_of(e, width) << 8) | (a & 0xff)];   \
			}                                                                          \
			if (i + PREFETCH_AHEAD < n) {                                              \
				uint32_t p = addrs[i + PREFETCH_AHEAD];                            \
				if (rm_dir24_is_group(t16[p >> 16], width))                        \
					__builtin_prefetch(&t24[p >> 8]);                          \
			}                                                                          \
			ids[i] = e;                                                                \
		}                                                                                  \
	} while (0)

void rm_dir24_lookup_scalar(const struct rm_dir24 *t, const uint32_t *addrs, uint32_t *ids,
			    uint32_t n)
{
	if (t->width == 2)
		SCALAR_LOOP(uint16_t, 2);
	else
		SCALAR_LOOP(uint32_t, 4);
}

/* ------------------------------------------------------------------ */
/* Run-time choice                                                     */

rm_dir24_bulk_fn rm_dir24_select(enum rm_simd level)
{
	if (level == RM_SIMD_BEST)
		level = rm_simd_best();
	if (!rm_simd_has(level))
		return NULL;
	switch (level) {
	case RM_SIMD_SCALAR:
		return rm_dir24_lookup_scalar;
	case RM_SIMD_AVX2:
		return rm_dir24_lookup_avx2;
	case RM_SIMD_AVX512:
		return rm_dir24_lookup_avx512;
	default:
		return NULL;
	}
}
