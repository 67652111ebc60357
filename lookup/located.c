/*
 * located.c - the located layer's lookup tables (lookup.h:
 * rm_geo_lookup_build): the registry's and the location data's ranges
 * swept together into located ids, then built into a DIR-24-8 and a trie
 * like the registry's own.
 *
 * The sweep walks both range lists of a family at once (each covers the
 * whole space from 0, sorted), so it costs one step per boundary of
 * either: about 0.9 million for the 2022 location database.  Each piece's
 * (geo id, registered country, origin) triple is interned in an
 * open-addressing table; the origin of an (attribution, AS) pair is
 * rm_ref_origin's (rm_origin_of), with the AS's attribution looked up
 * once per geo id.
 *
 * IPv6 pieces are cut where either the located id or the attribution id
 * changes, and each distinct (attribution, located id) pair is interned
 * as a pair id: the IPv6 trie answers pair ids, so that a frame's
 * addresses take one walk for both answers (the registry's trie, 6 MiB,
 * and the located one, 39 MiB, each cost a walk before).  IPv4 stays a
 * table of located ids: its two reads are one load each.
 *
 * The trie's dir24 and dense entries are 2 bytes only when its ids fit 15
 * bits, and the bundled data with the 2022 location database has 38,001
 * pairs.  So the pieces are also cut where each region (lookup.h
 * RM_LOC_REGIONS: an address's first byte) starts, and their pairs are
 * numbered from 0 in each region (by_region): the largest, 2a00::/8, has
 * 12,783, all of them together 39,124.  The trie is then 20 MiB, 4 of
 * them dir24, where 4-byte entries took 39 and 8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "lookup.h"

/* A triple as one 64-bit key: geo id, registered country, origin. */
static uint64_t triple_key(uint32_t geo, const char cc[2], unsigned origin)
{
	return (uint64_t)geo << 32 | (uint64_t)(uint8_t)cc[0] << 24 |
	       (uint64_t)(uint8_t)cc[1] << 16 | origin;
}

/* 64-bit keys interned as ids 0, 1, 2, ... in the order first seen: an
 * open-addressing table whose slot holds id + 1 (0: empty), keys beside. */
struct intern {
	uint32_t *slot;
	uint64_t *key;
	size_t cap;
	uint32_t n;
};

static size_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

/* Double the table; -1 when out of memory. */
static int rehash(struct intern *t)
{
	size_t cap = t->cap ? 2 * t->cap : 1u << 16;
	uint32_t *slot = calloc(cap, sizeof(*slot));
	uint64_t *keys = malloc(cap * sizeof(*keys));
	if (!slot || !keys) {
		free(slot);
		free(keys);
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slot[i])
			continue;
		size_t j = key_hash(t->key[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = t->slot[i];
		keys[j] = t->key[i];
	}
	free(t->slot);
	free(t->key);
	t->slot = slot;
	t->key = keys;
	t->cap = cap;
	return 0;
}

/* The id of key k, a new one (t->n, *fresh set) when k was not seen;
 * UINT32_MAX when out of memory. */
static uint32_t intern(struct intern *t, uint64_t k, int *fresh)
{
	*fresh = 0;
	if (2 * ((size_t)t->n + 1) > t->cap && rehash(t))
		return UINT32_MAX;
	size_t j = key_hash(k) & (t->cap - 1);
	while (t->slot[j]) {
		if (t->key[j] == k)
			return t->slot[j] - 1;
		j = (j + 1) & (t->cap - 1);
	}
	t->slot[j] = t->n + 1;
	t->key[j] = k;
	*fresh = 1;
	return t->n++;
}

static void intern_free(struct intern *t)
{
	free(t->slot);
	free(t->key);
}

struct sweep {
	const struct rm_db *db;
	struct intern triples; /* located ids */
	struct rm_located *loc;
	uint32_t cap_loc;
	struct intern pairs; /* IPv6 pair ids: attribution << 32 | located id */
	struct rm_loc_pair *pair;
	uint32_t cap_pair;
	/* Per geo id, the attribution of its AS number's delegation
	 * (rm_ref_asn_attr): each AS looked up once, not once per piece. */
	uint32_t *asn_attr;
};

/* The located id of attribution attr under geo id geo (UINT32_MAX when
 * out of memory).  Triple key 0 was interned first: located id 0. */
static uint32_t located_id(struct sweep *s, uint32_t attr, uint32_t geo)
{
	const struct rm_attr *a = &s->db->attrs[attr];
	enum rm_origin o = rm_origin_of(s->db, attr, s->asn_attr[geo]);
	int fresh;
	uint32_t id = intern(&s->triples, triple_key(geo, a->cc, o), &fresh);
	if (!fresh || id == UINT32_MAX)
		return id;
	if (RM_GROW(&s->loc, &s->cap_loc, id, 1, 1024))
		return UINT32_MAX;
	const struct rm_geo *g = &s->db->geo[geo];
	s->loc[id] = (struct rm_located){.cc = {g->cc[0], g->cc[1]},
					 .reg_cc = {a->cc[0], a->cc[1]},
					 .asn = g->asn,
					 .geo = geo,
					 .origin = (uint8_t)o};
	return id;
}

/* The pair id of (attribution attr, located id loc); UINT32_MAX when out
 * of memory. */
static uint32_t pair_id(struct sweep *s, uint32_t attr, uint32_t loc)
{
	int fresh;
	uint32_t id = intern(&s->pairs, (uint64_t)attr << 32 | loc, &fresh);
	if (!fresh || id == UINT32_MAX)
		return id;
	if (RM_GROW(&s->pair, &s->cap_pair, id, 1, 1024))
		return UINT32_MAX;
	s->pair[id] = (struct rm_loc_pair){.attr = attr, .loc = loc};
	return id;
}

/* A family's ranges swept: each piece's start (IPv4 in the low 32 bits)
 * and id (IPv4: located id; IPv6: pair id). */
struct piece {
	rm_u128 start;
	uint32_t id;
};

struct swept {
	struct piece *v;
	uint32_t n, cap;
};

static rm_u128 start_at(const struct rm_db *db, int v6, int geo, uint32_t i)
{
	if (v6)
		return rm_key_get((geo ? db->geo_v6 : db->v6).start[i]);
	return (geo ? db->geo_v4 : db->v4).start[i];
}

static int sweep_family(struct sweep *s, int v6, struct swept *out)
{
	const struct rm_db *db = s->db;
	const uint32_t *rid = v6 ? db->v6.id : db->v4.id, *gid = v6 ? db->geo_v6.id : db->geo_v4.id;
	uint32_t rn = v6 ? db->v6.n : db->v4.n, gn = v6 ? db->geo_v6.n : db->geo_v4.n;
	uint32_t i = 0, j = 0, prev = UINT32_MAX;
	rm_u128 at = 0;
	for (;;) {
		uint32_t id = located_id(s, rid[i], gid[j]);
		if (v6 && id != UINT32_MAX)
			id = pair_id(s, rid[i], id);
		if (id == UINT32_MAX)
			return -1;
		if (id != prev) {
			if (RM_GROW(&out->v, &out->cap, out->n, 1, 4096))
				return -1;
			out->v[out->n++] = (struct piece){at, id};
			prev = id;
		}
		/* The next boundary of either list; none left: done. */
		int ri = i + 1 < rn, gj = j + 1 < gn;
		if (!ri && !gj)
			return 0;
		rm_u128 rs = ri ? start_at(db, v6, 0, i + 1) : 0,
			gs = gj ? start_at(db, v6, 1, j + 1) : 0;
		at = !gj || (ri && rs < gs) ? rs : gs;
		if (ri && rs == at)
			i++;
		if (gj && gs == at)
			j++;
	}
}

/* The bit where an IPv6 address's region starts: its first byte. */
#define REGION_SHIFT 120
_Static_assert(RM_LOC_REGIONS == 1u << (128 - REGION_SHIFT), "a region per first byte");

/*
 * w's IPv6 pieces (pair ids of s) cut where each region starts and their
 * pairs numbered per region, into out and p (p->pair allocated, in region
 * order; each region's pairs in the order first seen).  *most: the largest
 * region's count, what the trie's ids must stay below.  -1 when out of
 * memory.
 */
static int by_region(const struct sweep *s, const struct swept *w, struct swept *out,
		     struct rm_loc_pairs *p, uint32_t *most)
{
	/* Per pair id: 1 + the last region that numbered it, and that number. */
	uint32_t *seen = calloc(s->pairs.n ? s->pairs.n : 1, sizeof(*seen));
	uint32_t *local = malloc((s->pairs.n ? s->pairs.n : 1) * sizeof(*local));
	struct rm_loc_pair *pair = NULL;
	uint32_t cap_pair = 0, total = 0, k = 0;
	int rc = -1;
	*most = 0;
	if (!seen || !local)
		goto out;
	for (uint32_t r = 0; r < RM_LOC_REGIONS; r++) {
		rm_u128 lo = (rm_u128)r << REGION_SHIFT;
		p->first[r] = total;
		/* Piece k holds the region's first address (piece 0 starts at 0);
		 * the pieces that start inside the region follow it. */
		while (k + 1 < w->n && w->v[k + 1].start <= lo)
			k++;
		for (uint32_t m = k; m < w->n && (m == k || w->v[m].start >> REGION_SHIFT == r);
		     m++) {
			uint32_t id = w->v[m].id;
			if (seen[id] != r + 1) {
				if (RM_GROW(&pair, &cap_pair, total, 1, 1024))
					goto out;
				pair[total] = s->pair[id];
				seen[id] = r + 1;
				local[id] = total++ - p->first[r];
			}
			if (RM_GROW(&out->v, &out->cap, out->n, 1, 4096))
				goto out;
			out->v[out->n++] = (struct piece){m == k ? lo : w->v[m].start, local[id]};
		}
		if (total - p->first[r] > *most)
			*most = total - p->first[r];
	}
	p->first[RM_LOC_REGIONS] = total;
	p->pair = pair;
	pair = NULL;
	rc = 0;
out:
	free(seen);
	free(local);
	free(pair);
	return rc;
}

int rm_geo_lookup_build(struct rm_geo_lookup *g, const struct rm_db *db, enum rm_simd level,
			char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (!db->n_geo)
		return 0;
	g->v4 = rm_dir24_select(level);
	g->v6 = rm_trie6_select(level);
	if (!g->v4 || !g->v6) {
		snprintf(err, errlen, "this CPU lacks the SIMD level asked for");
		return -1;
	}
	struct sweep s = {.db = db, .asn_attr = malloc(db->n_geo * sizeof(uint32_t))};
	struct swept w4 = {0}, w6 = {0}, r6 = {0};
	struct rm_loc_pairs pairs = {0};
	uint32_t *s4 = NULL, *i4 = NULL, *i6 = NULL, most;
	struct rm_key *s6 = NULL;
	int rc = -1;
	snprintf(err, errlen, "out of memory for the located layer");
	if (!s.asn_attr)
		goto out;
	for (uint32_t i = 0; i < db->n_geo; i++)
		s.asn_attr[i] = rm_ref_asn_attr(db, db->geo[i].asn);
	/* Located id 0 is "nothing known": no geo, no registered country
	 * (triple key 0, interned first). */
	int fresh;
	if (RM_GROW(&s.loc, &s.cap_loc, 0, 1, 1024) || intern(&s.triples, 0, &fresh) != 0)
		goto out;
	s.loc[0] = (struct rm_located){0};
	if (sweep_family(&s, 0, &w4) || sweep_family(&s, 1, &w6) ||
	    by_region(&s, &w6, &r6, &pairs, &most))
		goto out;
	s4 = malloc(w4.n * sizeof(*s4));
	i4 = malloc(w4.n * sizeof(*i4));
	s6 = malloc(r6.n * sizeof(*s6));
	i6 = malloc(r6.n * sizeof(*i6));
	if (!s4 || !i4 || !s6 || !i6)
		goto out;
	for (uint32_t k = 0; k < w4.n; k++) {
		s4[k] = (uint32_t)w4.v[k].start;
		i4[k] = w4.v[k].id;
	}
	for (uint32_t k = 0; k < r6.n; k++) {
		s6[k] = rm_key_make(r6.v[k].start);
		i6[k] = r6.v[k].id;
	}
	/* The builders read a db's ranges and its id count: the swept
	 * pieces, seen as a db of their own (IPv6's ids are pair ids, each
	 * below its region's count: the trie's entries are as narrow as the
	 * largest region allows). */
	struct rm_db shadow = {.n_attrs = s.triples.n};
	shadow.v4 = (struct rm_ranges32){.start = s4, .id = i4, .n = w4.n};
	shadow.v6 = (struct rm_ranges128){.start = s6, .id = i6, .n = r6.n};
	if (rm_dir24_build(&shadow, &g->dir24, err, errlen))
		goto out;
	shadow.n_attrs = most;
	if (rm_trie6_build(&shadow, &g->trie6, err, errlen)) {
		rm_dir24_free(&g->dir24);
		goto out;
	}
	g->loc = s.loc;
	g->n_loc = s.triples.n;
	g->pair6 = pairs;
	s.loc = NULL;
	pairs.pair = NULL;
	rc = 0;
out:
	intern_free(&s.triples);
	intern_free(&s.pairs);
	free(s.loc);
	free(s.pair);
	free((void *)pairs.pair);
	free(s.asn_attr);
	free(w4.v);
	free(w6.v);
	free(r6.v);
	free(s4);
	free(i4);
	free(s6);
	free(i6);
	if (rc)
		memset(g, 0, sizeof(*g));
	return rc;
}

void rm_geo_lookup_free(struct rm_geo_lookup *g)
{
	if (!g->loc)
		return;
	rm_dir24_free(&g->dir24);
	rm_trie6_free(&g->trie6);
	free((void *)g->loc);
	free((void *)g->pair6.pair);
	memset(g, 0, sizeof(*g));
}
