/*
 * trie6.c - building and checking the IPv6 trie, and choosing a walk.
 *
 * Build: top-down from the model's range list.  A slot whose address
 * interval lies inside one range holds that range's id; any other slot
 * holds a new node one byte deeper (under dir24, a new dense group).  A
 * node reserves its units before its children are made, so children
 * always come later in the unit array (which is what the check relies on
 * to prove that walks end).  A cursor moves through the range list in step
 * with the slots, so a node costs its 256 slots plus the ranges inside it,
 * never a search per slot.
 */
#include "trie6.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its arrays grow with rm_grow_or_die (common/grow.h): the recursive
 * build hands out unit and group numbers and has no error to return. */
struct build {
	const struct rm_db *db;
	struct rm_trie6_node *units;
	uint32_t n_units, cap_units, n_nodes;
	/* Each level's groups of RM_TRIE6_GROUP values, 4 bytes each while
	 * building; a group entry names a group of the next level by its
	 * index there. */
	uint32_t *dense[RM_TRIE6_LEVELS];
	uint32_t n_dense[RM_TRIE6_LEVELS], cap_dense[RM_TRIE6_LEVELS];
};

static rm_u128 start_of(const struct rm_db *db, uint32_t i)
{
	return rm_key_get(db->v6.start[i]);
}

/* Move cursor *i forward to the range holding key. */
static void advance(const struct rm_db *db, uint32_t *i, rm_u128 key)
{
	while (*i + 1 < db->v6.n && start_of(db, *i + 1) <= key)
		(*i)++;
}

/* The id of [lo, hi] when range i (holding lo) covers it all, else none. */
static int uniform(const struct rm_db *db, uint32_t i, rm_u128 hi, uint32_t *id)
{
	if (i + 1 < db->v6.n && start_of(db, i + 1) <= hi)
		return 0;
	*id = db->v6.id[i];
	return 1;
}

static uint32_t reserve_units(struct build *b, uint32_t count)
{
	RM_GROW_OR_DIE(&b->units, &b->cap_units, b->n_units, count, 1024);
	uint32_t first = b->n_units;
	memset(&b->units[first], 0, count * sizeof(*b->units));
	b->n_units += count;
	b->n_nodes++;
	return first;
}

static uint32_t *vals_of(struct build *b, uint32_t unit)
{
	return (uint32_t *)rm_trie6_vals(&b->units[unit]);
}

_Static_assert(sizeof(((struct rm_trie6 *)0)->dense_at) == (RM_TRIE6_LEVELS + 1) * 4,
	       "a bound per dense level");

#define CHILD UINT32_MAX /* a slot that needs a node, before it has one */

static uint32_t make_node(struct build *b, rm_u128 p, unsigned depth);

/* An id for [lo, lo + 2^(128-depth) - 1] when one range covers it, else CHILD. */
static uint32_t slot_id(struct build *b, uint32_t *cursor, rm_u128 lo, unsigned depth)
{
	rm_u128 hi = lo + (((rm_u128)1 << (128 - depth)) - 1);
	uint32_t id;
	advance(b->db, cursor, lo);
	return uniform(b->db, *cursor, hi, &id) && id < RM_TRIE6_NODE ? id : CHILD;
}

/* The value of a slot: its id, or a new node under it. */
static uint32_t slot_value(struct build *b, uint32_t *cursor, rm_u128 lo, unsigned depth)
{
	uint32_t id = slot_id(b, cursor, lo, depth);
	return id != CHILD ? id : RM_TRIE6_NODE | make_node(b, lo, depth);
}

/*
 * A node over prefix p whose slots are the byte after `depth` bits.  Its
 * units are reserved before its children are made, so children come after.
 */
static uint32_t make_node(struct build *b, rm_u128 p, unsigned depth)
{
	uint32_t v[256], runs = 0, cursor = rm_ref_find6(b->db, p);
	uint8_t child_slot[256];
	uint64_t bm[4] = {0};
	for (unsigned s = 0; s < 256; s++) {
		uint32_t id = slot_id(b, &cursor, p + ((rm_u128)s << (120 - depth)), depth + 8);
		if (runs == 0 || id == CHILD || id != v[runs - 1]) {
			bm[s >> 6] |= 1ull << (s & 63);
			child_slot[runs] = (uint8_t)s;
			v[runs++] = id;
		}
	}
	uint32_t unit = reserve_units(b, rm_trie6_node_units(runs));
	struct rm_trie6_node *nd = &b->units[unit];
	memcpy(nd->bm, bm, sizeof(bm));
	for (unsigned w = 1; w < 4; w++)
		nd->cnt[w] = (uint16_t)(nd->cnt[w - 1] + __builtin_popcountll(bm[w - 1]));
	nd->byte = depth / 8;
	for (uint32_t k = 0; k < runs; k++) {
		uint32_t val = v[k];
		if (val == CHILD)
			val =
			    RM_TRIE6_NODE |
			    make_node(b, p + ((rm_u128)child_slot[k] << (120 - depth)), depth + 8);
		vals_of(b, unit)[k] = val; /* after the recursion: units may have moved */
	}
	return unit;
}

/* A dense group of level lv (the address's byte 3 + lv) under prefix p:
 * the values of its 256 slots, groups of the next level for those that
 * split, nodes below the last. */
static uint32_t make_group(struct build *b, rm_u128 p, unsigned lv)
{
	rm_grow_or_die((void **)&b->dense[lv], &b->cap_dense[lv], b->n_dense[lv], 1,
		       RM_TRIE6_GROUP * 4, 256);
	uint32_t g = b->n_dense[lv]++, cursor = rm_ref_find6(b->db, p);
	unsigned depth = 8 * (4 + lv);
	for (unsigned s = 0; s < RM_TRIE6_GROUP; s++) {
		rm_u128 lo = p + ((rm_u128)s << (128 - depth));
		uint32_t v = slot_id(b, &cursor, lo, depth);
		if (v == CHILD)
			v = RM_TRIE6_NODE | (lv + 1 < RM_TRIE6_LEVELS ? make_group(b, lo, lv + 1)
								      : make_node(b, lo, depth));
		b->dense[lv][g * RM_TRIE6_GROUP + s] = v; /* after the recursion, which
							      only grows deeper levels */
	}
	return g;
}

/* The levels' groups in one array, level after level, their group
 * entries renumbered to match, and the padding after them. */
static uint32_t *join_levels(struct build *b, uint32_t at[RM_TRIE6_LEVELS + 1])
{
	at[0] = 0;
	for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++)
		at[lv + 1] = at[lv] + b->n_dense[lv];
	size_t n = (size_t)at[RM_TRIE6_LEVELS] * RM_TRIE6_GROUP + RM_TRIE6_PAD;
	uint32_t *all = calloc(n, 4);
	if (!all)
		abort();
	for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++) {
		uint32_t *to = all + (size_t)at[lv] * RM_TRIE6_GROUP;
		uint32_t next = lv + 1 < RM_TRIE6_LEVELS ? at[lv + 1] : 0; /* nodes stay */
		for (size_t k = 0; k < (size_t)b->n_dense[lv] * RM_TRIE6_GROUP; k++) {
			uint32_t v = b->dense[lv][k];
			to[k] = v & RM_TRIE6_NODE ? v + next : v;
		}
		free(b->dense[lv]);
	}
	return all;
}

static void fill_dirs(struct build *b, uint32_t *dir24, uint32_t *dir16)
{
	uint32_t cursor = 0;
	for (uint32_t h = 0; h < RM_TRIE6_DIR16; h++) {
		if ((h >> 13) == 1) {
			dir16[h] = 0; /* 2000::/3 goes through dir24 */
			continue;
		}
		dir16[h] = slot_value(b, &cursor, (rm_u128)h << 112, 16);
	}
	cursor = rm_ref_find6(b->db, (rm_u128)1 << 125);
	for (uint32_t k = 0; k < RM_TRIE6_DIR24; k++) {
		rm_u128 lo = ((rm_u128)1 << 125) | ((rm_u128)k << 104);
		uint32_t id = slot_id(b, &cursor, lo, 24);
		dir24[k] = id != CHILD ? id : RM_TRIE6_NODE | make_group(b, lo, 0);
	}
}

/* n entries to 2 bytes, in place (reads stay ahead of writes): the top bit
 * of a group or node entry goes to bit 15. */
static void narrow(uint32_t *wide, uint32_t n)
{
	uint16_t *to = (uint16_t *)wide;
	for (uint32_t k = 0; k < n; k++)
		to[k] = (uint16_t)(wide[k] & RM_TRIE6_NODE
				       ? RM_TRIE6_NODE_2B | (wide[k] & ~RM_TRIE6_NODE)
				       : wide[k]);
}

int rm_trie6_build(const struct rm_db *db, struct rm_trie6_owned *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct build b = {.db = db};
	uint32_t *dir24 = calloc(RM_TRIE6_DIR24 + RM_TRIE6_PAD, sizeof(uint32_t));
	uint32_t *dir16 = malloc(RM_TRIE6_DIR16 * sizeof(uint32_t));
	if (!dir24 || !dir16) {
		free(dir24);
		free(dir16);
		snprintf(err, errlen, "out of memory for the IPv6 trie");
		return -1;
	}
	fill_dirs(&b, dir24, dir16);
	uint32_t at[RM_TRIE6_LEVELS + 1];
	uint32_t *dense = join_levels(&b, at), groups = at[RM_TRIE6_LEVELS];
	uint32_t n_dense = groups * RM_TRIE6_GROUP + RM_TRIE6_PAD;
	/* Two-byte entries when ids, groups and node units fit 15 bits. */
	uint32_t width =
	    db->n_attrs <= 0x8000u && b.n_units <= 0x8000u && groups <= 0x8000u ? 2 : 4;
	if (width == 2) {
		narrow(dir24, RM_TRIE6_DIR24);
		narrow(dense, n_dense);
	}
	out->dir24 = dir24;
	out->dense = dense;
	out->dir16 = dir16;
	out->nodes = b.units;
	out->t = (struct rm_trie6){.dir24 = dir24,
				   .dense = dense,
				   .dir16 = dir16,
				   .nodes = b.units,
				   .n_dense = groups,
				   .n_units = b.n_units,
				   .n_nodes = b.n_nodes,
				   .width = width,
				   .dense_at = {at[0], at[1], at[2], at[3]}};
	return 0;
}

void rm_trie6_free(struct rm_trie6_owned *o)
{
	free(o->dir24);
	free(o->dense);
	free(o->dir16);
	free(o->nodes);
	memset(o, 0, sizeof(*o));
}

size_t rm_trie6_bytes(const struct rm_trie6 *t)
{
	return (size_t)(RM_TRIE6_DIR24 + RM_TRIE6_PAD) * t->width +
	       ((size_t)t->n_dense * RM_TRIE6_GROUP + RM_TRIE6_PAD) * t->width +
	       RM_TRIE6_DIR16 * sizeof(uint32_t) +
	       (size_t)t->n_units * sizeof(struct rm_trie6_node);
}

/* ------------------------------------------------------------------ */
/* Check                                                               */

struct check {
	const struct rm_trie6 *t;
	uint32_t n_attrs;
	uint8_t *start;	     /* unit starts a node */
	uint8_t *least_byte; /* smallest byte a node may consume, from its parents */
	char *err;
	size_t errlen;
};

/* A value in dir or node slot: an id in range, or a node deeper than byte. */
static int check_value(struct check *c, uint32_t v, unsigned byte, uint32_t from)
{
	if (!(v & RM_TRIE6_NODE)) {
		if (v >= c->n_attrs) {
			snprintf(c->err, c->errlen, "IPv6 trie id %u out of bounds", v);
			return -1;
		}
		return 0;
	}
	uint32_t n = v & ~RM_TRIE6_NODE;
	if (n >= c->t->n_units || !c->start[n] || (from != UINT32_MAX && n <= from)) {
		snprintf(c->err, c->errlen, "IPv6 trie points to bad node %u", n);
		return -1;
	}
	if (c->least_byte[n] < byte)
		c->least_byte[n] = (uint8_t)byte;
	return 0;
}

/* Entry k of a dir24 or dense table, with the node bit where 4-byte
 * entries have it. */
static uint32_t wide_entry(const void *tbl, uint32_t k, uint32_t width)
{
	if (width == 4)
		return ((const uint32_t *)tbl)[k];
	uint32_t e = ((const uint16_t *)tbl)[k];
	return e & RM_TRIE6_NODE_2B ? RM_TRIE6_NODE | (e & (RM_TRIE6_NODE_2B - 1)) : e;
}

/* A dir24 or group entry whose groups are those of level lv: an id in
 * range, or a group of that level. */
static int check_group_entry(struct check *c, uint32_t e, unsigned lv)
{
	if (!(e & RM_TRIE6_NODE))
		return check_value(c, e, 3, UINT32_MAX);
	uint32_t g = e & ~RM_TRIE6_NODE;
	if (g < c->t->dense_at[lv] || g >= c->t->dense_at[lv + 1]) {
		snprintf(c->err, c->errlen, "IPv6 trie points to bad group %u", g);
		return -1;
	}
	return 0;
}

/* The groups' entries, level by level: the last level's name nodes, which
 * consume the next byte or a deeper one. */
static int check_groups(struct check *c)
{
	const struct rm_trie6 *t = c->t;
	for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++)
		for (uint32_t k = t->dense_at[lv] * RM_TRIE6_GROUP;
		     k < t->dense_at[lv + 1] * RM_TRIE6_GROUP; k++) {
			uint32_t v = wide_entry(t->dense, k, t->width);
			if (lv + 1 < RM_TRIE6_LEVELS ? check_group_entry(c, v, lv + 1)
						     : check_value(c, v, 4 + lv, UINT32_MAX))
				return -1;
		}
	return 0;
}

static uint32_t runs_of(const struct rm_trie6_node *nd)
{
	uint32_t runs = 0;
	for (unsigned w = 0; w < 4; w++)
		runs += (uint32_t)__builtin_popcountll(nd->bm[w]);
	return runs;
}

/* The units must parse as whole nodes, one after another. */
static int mark_starts(struct check *c)
{
	const struct rm_trie6 *t = c->t;
	uint32_t nodes = 0;
	for (uint64_t u = 0; u < t->n_units;) {
		uint32_t units = rm_trie6_node_units(runs_of(&t->nodes[u]));
		if (u + units > t->n_units) {
			snprintf(c->err, c->errlen, "IPv6 trie node at unit %llu runs past the end",
				 (unsigned long long)u);
			return -1;
		}
		c->start[u] = 1;
		u += units;
		nodes++;
	}
	if (nodes != t->n_nodes) {
		snprintf(c->err, c->errlen, "IPv6 trie has %u nodes, says %u", nodes, t->n_nodes);
		return -1;
	}
	return 0;
}

static int check_node(struct check *c, uint32_t u)
{
	const struct rm_trie6_node *nd = &c->t->nodes[u];
	uint32_t runs = 0;
	int counts_ok = 1;
	for (unsigned w = 0; w < 4; w++) {
		counts_ok &= nd->cnt[w] == runs;
		runs += (uint32_t)__builtin_popcountll(nd->bm[w]);
	}
	if (!counts_ok || !(nd->bm[0] & 1) || nd->byte > RM_TRIE6_MAX_BYTE ||
	    (c->least_byte[u] && nd->byte < c->least_byte[u])) {
		snprintf(c->err, c->errlen, "IPv6 trie node %u malformed", u);
		return -1;
	}
	const uint32_t *vals = rm_trie6_vals(nd);
	for (uint32_t k = 0; k < runs; k++)
		if (check_value(c, vals[k], nd->byte + 1u, u))
			return -1;
	return 0;
}

int rm_trie6_check(const struct rm_trie6 *t, uint32_t n_attrs, char *err, size_t errlen)
{
	if (t->width != 2 && t->width != 4) {
		snprintf(err, errlen, "IPv6 trie entry width %u", t->width);
		return -1;
	}
	/* The walk reads a group or node entry through rm_trie6_unit_mask:
	 * with 2-byte entries every id, group and unit must fit its 15 bits. */
	if (t->width == 2 && (n_attrs > 0x8000u || t->n_units > 0x8000u || t->n_dense > 0x8000u)) {
		snprintf(err, errlen,
			 "IPv6 trie of 2-byte entries with %u ids, %u groups and %u units", n_attrs,
			 t->n_dense, t->n_units);
		return -1;
	}
	/* Levels in order, and no more groups than a level above could name:
	 * gathers index them with signed 32-bit offsets. */
	int levels_ok = t->dense_at[0] == 0 && t->dense_at[RM_TRIE6_LEVELS] == t->n_dense;
	for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++)
		levels_ok &= t->dense_at[lv] <= t->dense_at[lv + 1];
	if (!levels_ok || t->n_dense > RM_TRIE6_DIR24) {
		snprintf(err, errlen, "IPv6 trie with %u dense groups in bad levels", t->n_dense);
		return -1;
	}
	struct check c = {
	    t,	 n_attrs, calloc((size_t)t->n_units + 1, 1), calloc((size_t)t->n_units + 1, 1),
	    err, errlen};
	int rc = -1;
	if (!c.start || !c.least_byte) {
		snprintf(err, errlen, "out of memory checking the IPv6 trie");
		goto out;
	}
	if (mark_starts(&c))
		goto out;
	for (uint32_t h = 0; h < RM_TRIE6_DIR16; h++)
		if ((h >> 13) != 1 && check_value(&c, t->dir16[h], 2, UINT32_MAX))
			goto out;
	for (uint32_t k = 0; k < RM_TRIE6_DIR24; k++)
		if (check_group_entry(&c, wide_entry(t->dir24, k, t->width), 0))
			goto out;
	if (check_groups(&c))
		goto out;
	/* In unit order: every parent's least_byte is known before its children. */
	for (uint32_t u = 0; u < t->n_units; u++)
		if (c.start[u] && check_node(&c, u))
			goto out;
	rc = 0;
out:
	free(c.start);
	free(c.least_byte);
	return rc;
}

rm_trie6_bulk_fn rm_trie6_select(enum rm_simd level)
{
	if (level == RM_SIMD_BEST)
		level = rm_simd_best();
	if (!rm_simd_has(level))
		return NULL;
	__builtin_cpu_init();
	/* Levels as for the IPv4 lookup; AVX2 is the widest the IPv6 walk
	 * has, and every walk but the generic one needs POPCNT. */
	if (level >= RM_SIMD_AVX2 && __builtin_cpu_supports("popcnt"))
		return rm_trie6_lookup_avx2;
	if (__builtin_cpu_supports("popcnt"))
		return rm_trie6_lookup_popcnt;
	return rm_trie6_lookup_generic;
}
