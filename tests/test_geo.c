/*
 * test_geo.c - the located layer's fast lookups (lookup.h struct
 * rm_geo_lookup) against the references they fold together (rm_ref_geo4/6
 * for the geo id, rm_ref_lookup4/6 for the registered country,
 * rm_ref_origin for the origin), on a snapshot of the bundled registry
 * files and Debian's location.db: every boundary of either range list and
 * its neighbour, and a million random addresses of each family, through
 * every SIMD level this CPU has; and IPv6's pair walk (both ids in one
 * walk) against the references, the registry's trie and its own simple
 * walk, in bursts of every size, with the first and last address of every
 * region its pair ids are numbered in.
 */
#include <inttypes.h>
#include <time.h>

#include "helpers.h"
#include "lookup.h"

#define LOCATION_DB "/usr/share/libloc-location/location.db"

static struct built *located(void)
{
	if (access(LOCATION_DB, R_OK) != 0)
		fail_msg("%s is missing: install Debian's libloc-database", LOCATION_DB);
	struct built *r = calloc(1, sizeof(*r));
	FILE *diag = open_memstream(&r->diag, &r->diag_len);
	struct rl_options o = {.diag = diag};
	struct rl_build *b = rl_build_new(&o);
	static const char *const files[] = {"rir/delegated-afrinic-extended-20230323",
					    "rir/delegated-apnic-20140701",
					    "rir/delegated-lacnic-20140627",
					    "rir/delegated-ripencc-20140630",
					    "iana/ipv4-address-space.csv",
					    "iana/ipv6-unicast-address-assignments.csv"};
	const char *d = getenv("RM_DATA_DIR");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[2048];
		snprintf(p, sizeof(p), "%s/%s", d ? d : "data", files[i]);
		assert_int_equal(rl_build_add_file(b, p), 0);
	}
	assert_int_equal(rl_build_add_file(b, LOCATION_DB), 0);
	built_finish(r, b, diag);
	assert_non_null(r->m);
	assert_true(r->db.n_geo > 1000);
	return r;
}

/* Located id l of an address whose geo id and attribution the reference
 * lookups gave: the triple it must stand for.  0 when it does. */
static int located_is(const struct rm_db *db, const struct rm_geo_lookup *g, uint32_t l,
		      uint32_t geo, uint32_t attr)
{
	if (l >= g->n_loc)
		return -1;
	const struct rm_located *x = &g->loc[l];
	const struct rm_attr *a = &db->attrs[attr];
	return x->geo == geo && memcmp(x->cc, db->geo[geo].cc, 2) == 0 &&
		       x->asn == db->geo[geo].asn && memcmp(x->reg_cc, a->cc, 2) == 0 &&
		       x->origin == rm_ref_origin(db, attr, db->geo[geo].asn)
		   ? 0
		   : -1;
}

static void check_v4(const struct rm_db *db, const struct rm_geo_lookup *g, const uint32_t *a,
		     uint32_t n, uint64_t *origins)
{
	uint32_t *ids = malloc(n * sizeof(*ids));
	rm_geo_lookup4_bulk(g, a, ids, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t geo = rm_ref_geo4(db, a[i]), attr = rm_ref_lookup4(db, a[i]);
		if (located_is(db, g, ids[i], geo, attr))
			fail_msg("IPv4 %08x: located id %u, reference geo %u attribution %u", a[i],
				 ids[i], geo, attr);
		if (rm_geo_lookup4_one(g, a[i]) != ids[i])
			fail_msg("IPv4 %08x: one-address lookup differs", a[i]);
		origins[g->loc[ids[i]].origin]++;
	}
	free(ids);
}

/* IPv6: the located ids against the references, and the pair walk's
 * (rm_geo_lookup6_pair_bulk) both answers: its attribution ids must be
 * the reference's and the registry trie's (reg, walked one address at a
 * time), its located ids rm_geo_lookup6_bulk's. */
static void check_v6(const struct rm_db *db, const struct rm_geo_lookup *g,
		     const struct rm_trie6 *reg, uint8_t (*a)[16], uint32_t n, uint64_t *origins)
{
	uint32_t *ids = malloc(n * sizeof(*ids)), *attr = malloc(n * sizeof(*attr)),
		 *loc = malloc(n * sizeof(*loc));
	rm_geo_lookup6_bulk(g, (const uint8_t(*)[16])a, ids, n);
	rm_geo_lookup6_pair_bulk(g, (const uint8_t(*)[16])a, attr, loc, n);
	for (uint32_t i = 0; i < n; i++) {
		rm_u128 v = rm_v6_from_bytes(a[i]);
		uint32_t geo = rm_ref_geo6(db, v), want = rm_ref_lookup6(db, v);
		if (located_is(db, g, ids[i], geo, want))
			fail_msg("IPv6 lookup %u: located id %u, reference geo %u attribution %u",
				 i, ids[i], geo, want);
		if (attr[i] != want || rm_trie6_lookup1(reg, a[i]) != want || loc[i] != ids[i])
			fail_msg("IPv6 lookup %u: pair walk says attribution %u located id %u, "
				 "reference attribution %u, located id %u",
				 i, attr[i], loc[i], want, ids[i]);
		origins[g->loc[ids[i]].origin]++;
	}
	free(ids);
	free(attr);
	free(loc);
}

/* The pair walk in bursts of every size from 1 to 2 x 64 + 3 (the bulk
 * walks go by groups of 8 and batches of 64: every tail and split), each
 * answer against the simple walk of the pair trie (rm_trie6_lookup1) split
 * by hand; and every pair names ids in bounds, every region's pairs are
 * its own (in order, none empty: each region holds a piece) and the trie's
 * entries are 2 bytes whenever the largest region's ids fit them
 * (the trie's other bounds permitting: the bundled data's do). */
static void pair_batches(const struct rm_db *db, const struct rm_geo_lookup *g, uint8_t (*a)[16],
			 uint32_t n)
{
	const struct rm_loc_pairs *pp = &g->pair6;
	uint32_t most = 0;
	assert_int_equal(pp->first[0], 0);
	for (uint32_t r = 0; r < RM_LOC_REGIONS; r++) {
		if (pp->first[r + 1] <= pp->first[r])
			fail_msg("region %u: pairs [%u, %u)", r, pp->first[r], pp->first[r + 1]);
		if (pp->first[r + 1] - pp->first[r] > most)
			most = pp->first[r + 1] - pp->first[r];
	}
	for (uint32_t p = 0; p < pp->first[RM_LOC_REGIONS]; p++)
		if (pp->pair[p].attr >= db->n_attrs || pp->pair[p].loc >= g->n_loc)
			fail_msg("pair %u: attribution %u of %u, located id %u of %u", p,
				 pp->pair[p].attr, db->n_attrs, pp->pair[p].loc, g->n_loc);
	const struct rm_trie6 *t = &g->trie6.t;
	if (most <= 0x8000u && t->n_dense <= 0x8000u && t->n_units <= 0x8000u)
		assert_int_equal(t->width, 2);
	uint32_t attr[131], loc[131];
	for (uint32_t size = 1; size <= 131; size++)
		for (uint32_t at = 0; at + size <= n; at += size * 97) {
			rm_geo_lookup6_pair_bulk(g, (const uint8_t(*)[16])a + at, attr, loc, size);
			for (uint32_t i = 0; i < size; i++) {
				uint32_t p = rm_trie6_lookup1(t, a[at + i]), r = a[at + i][0];
				const struct rm_loc_pair *want = &pp->pair[pp->first[r] + p];
				if (p >= pp->first[r + 1] - pp->first[r] || attr[i] != want->attr ||
				    loc[i] != want->loc)
					fail_msg("burst of %u at %u, lane %u: %u/%u, simple walk "
						 "pair %u of region %u",
						 size, at, i, attr[i], loc[i], p, r);
			}
		}
}

static void fast_equals_reference(void **state)
{
	(void)state;
	struct built *r = located();
	const struct rm_db *db = &r->db;
	uint64_t rnd = 42;
	uint32_t n4 = 2 * (db->geo_v4.n + db->v4.n) + (1u << 20),
		 n6 = 2 * (db->geo_v6.n + db->v6.n + RM_LOC_REGIONS) + (1u << 20);
	uint32_t *a4 = malloc(n4 * sizeof(*a4)), k = 0;
	uint8_t(*a6)[16] = malloc((size_t)n6 * 16);
	for (uint32_t i = 0; i < db->geo_v4.n; i++) {
		a4[k++] = db->geo_v4.start[i];
		a4[k++] = db->geo_v4.start[i] - 1;
	}
	for (uint32_t i = 0; i < db->v4.n; i++) {
		a4[k++] = db->v4.start[i];
		a4[k++] = db->v4.start[i] - 1;
	}
	while (k < n4)
		a4[k++] = (uint32_t)test_rnd(&rnd);
	k = 0;
	for (uint32_t i = 0; i < db->geo_v6.n; i++) {
		rm_u128 s = rm_key_get(db->geo_v6.start[i]);
		rm_v6_to_bytes(s, a6[k++]);
		rm_v6_to_bytes(s - 1, a6[k++]);
	}
	for (uint32_t i = 0; i < db->v6.n; i++) {
		rm_u128 s = rm_key_get(db->v6.start[i]);
		rm_v6_to_bytes(s, a6[k++]);
		rm_v6_to_bytes(s - 1, a6[k++]);
	}
	/* Where the pair ids' regions meet: a piece that crosses one must be
	 * cut there, each part numbered in its own region. */
	for (uint32_t reg = 0; reg < RM_LOC_REGIONS; reg++) {
		rm_u128 s = (rm_u128)reg << 120;
		rm_v6_to_bytes(s, a6[k++]);
		rm_v6_to_bytes(s - 1, a6[k++]);
	}
	while (k < n6) {
		/* Mostly 2000::/3, where the networks are; some anywhere. */
		rm_u128 v = (rm_u128)test_rnd(&rnd) << 64 | test_rnd(&rnd);
		if (k & 3)
			v = (v >> 3) | ((rm_u128)1 << 125);
		rm_v6_to_bytes(v, a6[k++]);
	}
	struct rm_trie6_owned reg;
	char why[256];
	if (rm_trie6_build(db, &reg, why, sizeof(why)))
		fail_msg("%s", why);
	for (int level = RM_SIMD_SCALAR; level <= RM_SIMD_BEST; level++) {
		struct rm_geo_lookup g;
		char err[256];
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (rm_geo_lookup_build(&g, db, (enum rm_simd)level, err, sizeof(err))) {
			if (level == RM_SIMD_BEST)
				fail_msg("%s", err);
			continue; /* this CPU lacks the level */
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("# level %d: %u located ids, tables built in %.0f ms, IPv4 %u-byte entries "
		       "%u groups, IPv6 %u-byte entries %u groups %.1f MiB, %u pairs by region\n",
		       level, g.n_loc,
		       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		       g.dir24.t.width, g.dir24.t.n_groups, g.trie6.t.width, g.trie6.t.n_dense,
		       rm_trie6_bytes(&g.trie6.t) / 1048576.0, g.pair6.first[RM_LOC_REGIONS]);
		uint64_t origins[RM_ORIGIN_COUNT] = {0};
		check_v4(db, &g, a4, n4, origins);
		check_v6(db, &g, &reg.t, a6, n6, origins);
		pair_batches(db, &g, a6, n6);
		/* The afrinic extended file's holders and location.db's ASes
		 * meet: each origin occurs, or the check above proved little. */
		printf("# origins: unknown %" PRIu64 ", holder %" PRIu64 ", other %" PRIu64 "\n",
		       origins[RM_ORIGIN_UNKNOWN], origins[RM_ORIGIN_HOLDER],
		       origins[RM_ORIGIN_OTHER]);
		assert_true(origins[RM_ORIGIN_HOLDER] > 100 && origins[RM_ORIGIN_OTHER] > 100);
		rm_geo_lookup_free(&g);
	}
	rm_trie6_free(&reg);
	free(a4);
	free(a6);
	built_free(r);
}

static void no_layer_no_tables(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "ripe",
				      "2|ripencc|1|1|19830705|20140630|+0200\n"
				      "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
				      NULL);
	struct rm_geo_lookup g;
	char err[64];
	assert_int_equal(rm_geo_lookup_build(&g, &r->db, RM_SIMD_BEST, err, sizeof(err)), 0);
	assert_null(g.loc);
	rm_geo_lookup_free(&g);
	built_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fast_equals_reference),
	    cmocka_unit_test(no_layer_no_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
