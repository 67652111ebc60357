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

struct sweep {
	const struct rm_db *db;
	/* The interned triples: slot holds id + 1 (0: empty), keys beside. */
	uint32_t *slot;
	uint64_t *slot_key;
	size_t cap;
	struct rm_located *loc;
	uint32_t n_loc, cap_loc;
	/* Per geo id, the attribution of its AS number's delegation
	 * (rm_ref_asn_attr): each AS looked up once, not once per piece. */
	uint32_t *asn_attr;
	int oom;
};

static size_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

/* Double the table; -1 when out of memory. */
static int rehash(struct sweep *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1u << 16;
	uint32_t *slot = calloc(cap, sizeof(*slot));
	uint64_t *keys = malloc(cap * sizeof(*keys));
	if (!slot || !keys) {
		free(slot);
		free(keys);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t j = key_hash(s->slot_key[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[i];
		keys[j] = s->slot_key[i];
	}
	free(s->slot);
	free(s->slot_key);
	s->slot = slot;
	s->slot_key = keys;
	s->cap = cap;
	return 0;
}

/* The located id of attribution attr under geo id geo (UINT32_MAX when
 * out of memory). */
static uint32_t located_id(struct sweep *s, uint32_t attr, uint32_t geo)
{
	const struct rm_attr *a = &s->db->attrs[attr];
	enum rm_origin o = rm_origin_of(s->db, attr, s->asn_attr[geo]);
	uint64_t k = triple_key(geo, a->cc, o);
	if (k == 0) /* id 0, kept out of the table */
		return 0;
	if (2 * ((size_t)s->n_loc + 1) > s->cap && rehash(s))
		return UINT32_MAX;
	size_t j = key_hash(k) & (s->cap - 1);
	while (s->slot[j]) {
		if (s->slot_key[j] == k)
			return s->slot[j] - 1;
		j = (j + 1) & (s->cap - 1);
	}
	if (RM_GROW(&s->loc, &s->cap_loc, s->n_loc, 1, 1024))
		return UINT32_MAX;
	const struct rm_geo *g = &s->db->geo[geo];
	s->loc[s->n_loc] = (struct rm_located){.cc = {g->cc[0], g->cc[1]},
					       .reg_cc = {a->cc[0], a->cc[1]},
					       .asn = g->asn,
					       .geo = geo,
					       .origin = (uint8_t)o};
	s->slot[j] = s->n_loc + 1;
	s->slot_key[j] = k;
	return s->n_loc++;
}

/* A family's ranges swept: each piece's start (IPv4 in the low 32 bits)
 * and located id. */
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
	struct swept w4 = {0}, w6 = {0};
	uint32_t *s4 = NULL, *i4 = NULL, *i6 = NULL;
	struct rm_key *s6 = NULL;
	int rc = -1;
	snprintf(err, errlen, "out of memory for the located layer");
	if (!s.asn_attr)
		goto out;
	for (uint32_t i = 0; i < db->n_geo; i++)
		s.asn_attr[i] = rm_ref_asn_attr(db, db->geo[i].asn);
	/* Located id 0 is "nothing known": no geo, no registered country. */
	if (RM_GROW(&s.loc, &s.cap_loc, 0, 1, 1024) || rehash(&s))
		goto out;
	s.loc[0] = (struct rm_located){0};
	s.n_loc = 1;
	if (sweep_family(&s, 0, &w4) || sweep_family(&s, 1, &w6))
		goto out;
	s4 = malloc(w4.n * sizeof(*s4));
	i4 = malloc(w4.n * sizeof(*i4));
	s6 = malloc(w6.n * sizeof(*s6));
	i6 = malloc(w6.n * sizeof(*i6));
	if (!s4 || !i4 || !s6 || !i6)
		goto out;
	for (uint32_t k = 0; k < w4.n; k++) {
		s4[k] = (uint32_t)w4.v[k].start;
		i4[k] = w4.v[k].id;
	}
	for (uint32_t k = 0; k < w6.n; k++) {
		s6[k] = rm_key_make(w6.v[k].start);
		i6[k] = w6.v[k].id;
	}
	/* The builders read a db's ranges and its id count: the swept
	 * pieces, seen as a db of their own. */
	struct rm_db shadow = {.n_attrs = s.n_loc};
	shadow.v4 = (struct rm_ranges32){.start = s4, .id = i4, .n = w4.n};
	shadow.v6 = (struct rm_ranges128){.start = s6, .id = i6, .n = w6.n};
	if (rm_dir24_build(&shadow, &g->dir24, err, errlen))
		goto out;
	if (rm_trie6_build(&shadow, &g->trie6, err, errlen)) {
		rm_dir24_free(&g->dir24);
		goto out;
	}
	g->loc = s.loc;
	g->n_loc = s.n_loc;
	s.loc = NULL;
	rc = 0;
out:
	free(s.slot);
	free(s.slot_key);
	free(s.loc);
	free(s.asn_attr);
	free(w4.v);
	free(w6.v);
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
	memset(g, 0, sizeof(*g));
}
