/*
 * test_trie6.c - the IPv6 Poptrie against the reference lookup, the bulk
 * walks against the simple one, and refusal of hostile tries.
 */

#include "helpers.h"
#include "trie6.h"

static uint64_t rng = 0xD1B54A32D192ED03ull;
static uint64_t rnd(void)
{
	return test_rnd(&rng);
}

static void check_addr(const struct rm_db *db, const struct rm_trie6 *t, rm_u128 a)
{
	uint8_t b[16];
	rm_v6_to_bytes(a, b);
	uint32_t got = rm_trie6_lookup1(t, b), want = rm_ref_lookup6(db, a);
	if (got != want) {
		char text[RM_KEY_TEXT];
		rm_format_key(RM_V6, a, text);
		fail_msg("%s gives %u, reference %u", text, got, want);
	}
}

/* Every range boundary, and random addresses inside every range. */
static void agree_with_reference(const struct rm_db *db, const struct rm_trie6 *t)
{
	for (uint32_t i = 0; i < db->v6.n; i++) {
		rm_u128 s = rm_key_get(db->v6.start[i]);
		rm_u128 e = i + 1 < db->v6.n ? rm_key_get(db->v6.start[i + 1]) - 1 : ~(rm_u128)0;
		check_addr(db, t, s);
		check_addr(db, t, e);
		check_addr(db, t, s - 1);
		check_addr(db, t, e + 1);
		rm_u128 span = e - s;
		rm_u128 r = ((rm_u128)rnd() << 64) | rnd();
		check_addr(db, t, s + (span == ~(rm_u128)0 ? r : r % (span + 1)));
	}
	for (int k = 0; k < 200000; k++) {
		rm_u128 r = ((rm_u128)rnd() << 64) | rnd();
		check_addr(db, t, r);
		check_addr(db, t, (r >> 3) | ((rm_u128)1 << 125)); /* inside 2000::/3 */
	}
}

/* The bulk walks equal the simple walk for every n up to 300, on a mix of
 * addresses in and outside 2000::/3 and on addresses all inside it (the
 * AVX2 walk takes whole groups of those 8 at a time). */
static void walks_agree(const struct rm_db *db, const struct rm_trie6 *t)
{
	enum { N = 3000 };
	uint8_t(*a)[16] = malloc(N * 16);
	uint32_t *want = malloc(N * 4), *got = malloc((N + 1) * 4);
	for (int inside = 0; inside < 2; inside++) {
		for (int i = 0; i < N; i++) {
			rm_u128 x;
			if (i % 97 == 0) { /* the very end of 2000::/3 and of the space */
				x = ~(rm_u128)0 >> (i % 2 ? 0 : 2);
			} else if (i % 3 == 0) { /* near a range start */
				uint32_t r = (uint32_t)(rnd() % db->v6.n);
				x = rm_key_get(db->v6.start[r]) + (rnd() % 5) - 2;
			} else {
				x = ((rm_u128)rnd() << 64) | rnd();
				if (i % 3 == 1)
					x = (x >> 3) | ((rm_u128)1 << 125);
			}
			if (inside)
				x = (x & (~(rm_u128)0 >> 3)) | ((rm_u128)1 << 125);
			rm_v6_to_bytes(x, a[i]);
			want[i] = rm_trie6_lookup1(t, a[i]);
		}
		rm_trie6_bulk_fn fns[3] = {rm_trie6_lookup_generic, rm_trie6_lookup_popcnt,
					   rm_trie6_lookup_avx2};
		const int have[3] = {1, __builtin_cpu_supports("popcnt"),
				     __builtin_cpu_supports("avx2") &&
					 __builtin_cpu_supports("popcnt")};
		for (int f = 0; f < 3; f++) {
			if (!have[f])
				continue;
			for (uint32_t n = 0; n <= 300; n++) {
				got[n] = 0xdeadbeef;
				fns[f](t, (const uint8_t(*)[16])(a + (n % 7)), got, n);
				if (memcmp(got, want + (n % 7), n * 4) != 0 || got[n] != 0xdeadbeef)
					fail_msg("bulk walk %d differs at n=%u (inside %d)", f, n,
						 inside);
			}
			fns[f](t, (const uint8_t(*)[16])a, got, N);
			assert_memory_equal(got, want, N * 4);
		}
	}
	free(a);
	free(want);
	free(got);
}

static void test_one(struct built *r)
{
	if (!r->m)
		fail_msg("build failed: %.500s", r->diag);
	struct rm_trie6_owned o;
	char err[256];
	assert_int_equal(rm_trie6_build(&r->db, &o, err, sizeof(err)), 0);
	if (rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)))
		fail_msg("%s", err);
	agree_with_reference(&r->db, &o.t);
	walks_agree(&r->db, &o.t);
	rm_trie6_free(&o);
}

static void real_data(void **state)
{
	(void)state;
	static const char *const files[] = {"rir/delegated-ripencc-20140630",
					    "rir/delegated-apnic-20140701",
					    "iana/ipv6-unicast-address-assignments.csv",
					    "iana/iana-ipv6-special-registry.csv", NULL};
	struct built *r = build_data(files);
	test_one(r);
	built_free(r);
}

static void generated_adversarial(void **state)
{
	(void)state;
	/* Thousands of /48s under one /32, nested in a /32 of another id, a /12,
	 * a /64, /128s, adjacent blocks, and a ::/0 default under it all. */
	size_t cap = 1 << 20, off = 0;
	char *text = malloc(cap);
	off +=
	    (size_t)snprintf(text + off, cap - off,
			     "::/0,default\n2001:db8::/32,outer\n2400::/12,big\n"
			     "2a00:1:2:3::/64,sixtyfour\n::1/128,one\n2a00:1:2:3::7/128,seven\n"
			     "2a00:1:2:3::8/127,eight\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128,"
			     "top\n");
	for (int i = 0; i < 3000; i++)
		off += (size_t)snprintf(text + off, cap - off, "2001:db8:%x::/48,n%d\n",
					(unsigned)(i * 7 % 65536), i % 50);
	for (int i = 0; i < 64; i++) { /* adjacent /34s with alternating ids */
		char a[RM_KEY_TEXT];
		rm_format_key(RM_V6, ((rm_u128)0x2c0f0000u << 96) + ((rm_u128)i << 94), a);
		off += (size_t)snprintf(text + off, cap - off, "%s/34,%s\n", a,
					i % 2 ? "odd" : "even");
	}
	struct built *r = build_texts(0, "gen", text, NULL);
	free(text);
	test_one(r);
	built_free(r);
}

static void hostile_trie_refused(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "gen", "2001:db8::/48,a\n2001:db8:0:1::/64,b\n2001:db8:0:1:2::/80,c\n", NULL);
	assert_non_null(r->m);
	struct rm_trie6_owned o;
	char err[256];
	assert_int_equal(rm_trie6_build(&r->db, &o, err, sizeof(err)), 0);
	assert_true(o.t.n_nodes >= 3);
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), 0);
	/* The second node (it starts right after the first, a one-unit node). */
	uint32_t u = 1; /* the first node (3 runs) takes one unit */
	struct rm_trie6_node *nd = &o.nodes[u];
	uint32_t *vals = (uint32_t *)rm_trie6_vals(nd);
	/* A value pointing back at an earlier node would loop. */
	uint32_t save = vals[0];
	vals[0] = RM_TRIE6_NODE | 0;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	/* A value pointing into the middle of nothing. */
	vals[0] = RM_TRIE6_NODE | 999;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	vals[0] = 999999; /* an id out of bounds */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	vals[0] = save;
	/* A first slot that starts no run would read vals[-1]. */
	nd->bm[0] &= ~1ull;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	nd->bm[0] |= 1;
	/* Counts that disagree with the bitmap. */
	nd->cnt[2]++;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	nd->cnt[2]--;
	/* A node reading past the address. */
	uint32_t byte = nd->byte;
	nd->byte = 16;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	nd->byte = byte;
	/* A bitmap claiming more runs than the units hold. */
	uint64_t bm3 = o.nodes[o.t.n_units - 1].bm[3];
	o.nodes[o.t.n_units - 1].bm[3] = ~0ull;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	o.nodes[o.t.n_units - 1].bm[3] = bm3;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), 0);
	/* The /24 of 2001:db8:: names group 0 (its /32s), whose slot 0xb8
	 * names group 1 (the /40s of 2001:db8::/32), whose slot 0 names group
	 * 2 (the /48s), whose slot 0 names the /48's node (byte 6). */
	assert_int_equal(o.t.n_dense, 3);
	uint16_t *dir24 = o.dir24, *dense = o.dense;
	uint32_t k24 = (0x20010db8u >> 8) & (RM_TRIE6_DIR24 - 1);
	assert_int_equal(dir24[k24], 0x8000);
	assert_int_equal(dense[0xb8], 0x8001);
	assert_int_equal(dense[RM_TRIE6_GROUP], 0x8002);
	dir24[k24] = 0x8001; /* a group, but of the next level */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	dir24[k24] = 0x8000;
	dense[0xb8] = 0x8000 | 999; /* no group there */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	dense[0xb8] = 0x8000; /* a group, but of its own level */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	dense[0xb8] = 0x7000; /* an id out of bounds */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	dense[0xb8] = 0x8001;
	uint16_t slot = dense[2 * RM_TRIE6_GROUP];
	assert_true(slot & 0x8000);
	dense[2 * RM_TRIE6_GROUP] = 0x8000 | 999; /* no node there */
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	dense[2 * RM_TRIE6_GROUP] = slot;
	/* A node under the last level must consume byte 6 or deeper. */
	struct rm_trie6_node *top = &o.nodes[slot & 0x7fff];
	uint32_t top_byte = top->byte;
	top->byte = 5;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	top->byte = top_byte;
	/* Level bounds out of order. */
	o.t.dense_at[1] = 3;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), -1);
	o.t.dense_at[1] = 1;
	assert_int_equal(rm_trie6_check(&o.t, r->db.n_attrs, err, sizeof(err)), 0);
	/* 2-byte entries whose ids would not fit 15 bits: the walk's unit mask
	 * would cut them. */
	assert_int_equal(o.t.width, 2);
	assert_int_equal(rm_trie6_check(&o.t, 0x8001, err, sizeof(err)), -1);
	rm_trie6_free(&o);
	built_free(r);
}

static void check_snapshot_trie(const struct rm_snapshot *s)
{
	agree_with_reference(rm_snapshot_db(s), rm_snapshot_trie6(s));
	walks_agree(rm_snapshot_db(s), rm_snapshot_trie6(s));
}

static void from_snapshot(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "gen", "2001:db8::/32,a\n2001:db8:5::/48,b\n", NULL);
	each_snapshot_copy(&r->db, "trie6", check_snapshot_trie);
	built_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_data),
	    cmocka_unit_test(generated_adversarial),
	    cmocka_unit_test(hostile_trie_refused),
	    cmocka_unit_test(from_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
