/*
 * test_geo.c - the located layer's fast lookups (lookup.h struct
 * rm_geo_lookup) against the references they fold together (rm_ref_geo4/6
 * for the geo id, rm_ref_lookup4/6 for the registered country,
 * rm_ref_origin for the origin), on a snapshot of the bundled registry
 * files and Debian's location.db: every boundary of either range list and
 * its neighbour, and a million random addresses of each family, through
 * every SIMD level this CPU has.
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

static void check_v6(const struct rm_db *db, const struct rm_geo_lookup *g, uint8_t (*a)[16],
		     uint32_t n, uint64_t *origins)
{
	uint32_t *ids = malloc(n * sizeof(*ids));
	rm_geo_lookup6_bulk(g, (const uint8_t(*)[16])a, ids, n);
	for (uint32_t i = 0; i < n; i++) {
		rm_u128 v = rm_v6_from_bytes(a[i]);
		uint32_t geo = rm_ref_geo6(db, v), attr = rm_ref_lookup6(db, v);
		if (located_is(db, g, ids[i], geo, attr))
			fail_msg("IPv6 lookup %u: located id %u, reference geo %u attribution %u",
				 i, ids[i], geo, attr);
		origins[g->loc[ids[i]].origin]++;
	}
	free(ids);
}

static void fast_equals_reference(void **state)
{
	(void)state;
	struct built *r = located();
	const struct rm_db *db = &r->db;
	uint64_t rnd = 42;
	uint32_t n4 = 2 * (db->geo_v4.n + db->v4.n) + (1u << 20),
		 n6 = 2 * (db->geo_v6.n + db->v6.n) + (1u << 20);
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
	while (k < n6) {
		/* Mostly 2000::/3, where the networks are; some anywhere. */
		rm_u128 v = (rm_u128)test_rnd(&rnd) << 64 | test_rnd(&rnd);
		if (k & 3)
			v = (v >> 3) | ((rm_u128)1 << 125);
		rm_v6_to_bytes(v, a6[k++]);
	}
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
		       "%u groups, IPv6 %.1f MiB\n",
		       level, g.n_loc,
		       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		       g.dir24.t.width, g.dir24.t.n_groups, rm_trie6_bytes(&g.trie6.t) / 1048576.0);
		uint64_t origins[RM_ORIGIN_COUNT] = {0};
		check_v4(db, &g, a4, n4, origins);
		check_v6(db, &g, a6, n6, origins);
		/* The afrinic extended file's holders and location.db's ASes
		 * meet: each origin occurs, or the check above proved little. */
		printf("# origins: unknown %" PRIu64 ", holder %" PRIu64 ", other %" PRIu64 "\n",
		       origins[RM_ORIGIN_UNKNOWN], origins[RM_ORIGIN_HOLDER],
		       origins[RM_ORIGIN_OTHER]);
		assert_true(origins[RM_ORIGIN_HOLDER] > 100 && origins[RM_ORIGIN_OTHER] > 100);
		rm_geo_lookup_free(&g);
	}
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
