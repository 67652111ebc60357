/*
 * test_dir24.c - the DIR-24-8 table against the reference lookup, and
 * every vector variant against the scalar one, bit for bit.
 */

#include "dir24.h"
#include "helpers.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	return (uint32_t)(test_rnd(&rng) >> 16);
}

/* Table and reference agree at every boundary and on random addresses. */
static void agree_with_reference(const struct rm_db *db, const struct rm_dir24 *t, unsigned rounds)
{
	for (uint32_t i = 0; i < db->v4.n; i++) {
		uint32_t s = db->v4.start[i];
		uint32_t e = i + 1 < db->v4.n ? db->v4.start[i + 1] - 1 : 0xffffffffu;
		uint32_t probe[4] = {s, e, s - 1, e + 1}; /* wraps at the ends, on purpose */
		for (int k = 0; k < 4; k++)
			if (rm_dir24_lookup_levels(t, probe[k]) != rm_ref_lookup4(db, probe[k]) ||
			    rm_dir24_lookup_one(t, probe[k]) != rm_ref_lookup4(db, probe[k]))
				fail_msg("range %u: %08x gives %u, reference %u", i, probe[k],
					 rm_dir24_lookup_levels(t, probe[k]),
					 rm_ref_lookup4(db, probe[k]));
	}
	for (unsigned k = 0; k < rounds; k++) {
		uint32_t a = rnd();
		if (rm_dir24_lookup_levels(t, a) != rm_ref_lookup4(db, a))
			fail_msg("%08x gives %u, reference %u", a, rm_dir24_lookup_levels(t, a),
				 rm_ref_lookup4(db, a));
	}
}

/* Each variant this CPU has equals the scalar one for every n up to 300. */
static void variants_agree(const struct rm_dir24 *t)
{
	enum { N = 4096 };
	uint32_t *a = malloc(N * 4), *want = malloc(N * 4), *got = malloc((N + 1) * 4);
	for (int i = 0; i < N; i++)
		a[i] = i % 3 ? rnd() : (rnd() & 0xffffff00u) | (uint32_t)i; /* some same /24s */
	rm_dir24_lookup_scalar(t, a, want, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(want[i], rm_dir24_lookup_levels(t, a[i]));
	for (int level = RM_SIMD_AVX2; level <= RM_SIMD_AVX512; level++) {
		rm_dir24_bulk_fn fn = rm_dir24_select((enum rm_simd)level);
		if (!fn)
			continue;
		for (uint32_t n = 0; n <= 300; n++) {
			got[n] = 0xdeadbeef; /* must not be written */
			fn(t, a + (n % 5), got, n);
			if (memcmp(got, want + (n % 5), n * 4) != 0 || got[n] != 0xdeadbeef)
				fail_msg("%s differs from scalar at n=%u", rm_simd_name(level), n);
		}
		fn(t, a, got, N);
		assert_memory_equal(got, want, N * 4);
	}
	free(a);
	free(want);
	free(got);
}

/* Each kind of out-of-bounds entry, anywhere, is refused and named, and
 * so is a first-level entry that its /16's summary does not repeat. */
static void refuses_bad_entries(const struct rm_dir24 *t, uint32_t n_attrs)
{
	uint16_t *tbl24 = (uint16_t *)t->tbl24, *tbl8 = (uint16_t *)t->tbl8;
	size_t last8 = (size_t)t->n_groups * 256 - 1;
	char last_want[64];
	snprintf(last_want, sizeof(last_want), "IPv4 group entry %zu out of bounds", last8);
	const struct {
		uint16_t *tbl;
		size_t at;
		uint16_t bad;
		const char *want;
	} cases[] = {
	    {tbl24, 77777, (uint16_t)n_attrs, "IPv4 table entry 77777 out of bounds"},
	    {tbl24, 16777215, (uint16_t)(0x8000u | t->n_groups),
	     "IPv4 table entry 16777215 out of bounds"},
	    {tbl8, 5, (uint16_t)n_attrs, "IPv4 group entry 5 out of bounds"},
	    {tbl8, last8, 0x8000u, last_want},
	};
	char err[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t keep = cases[i].tbl[cases[i].at];
		cases[i].tbl[cases[i].at] = cases[i].bad;
		assert_int_equal(rm_dir24_check(t, n_attrs, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].want);
		cases[i].tbl[cases[i].at] = keep;
	}
	assert_int_equal(rm_dir24_check(t, n_attrs, err, sizeof(err)), 0);
	/* An entry in bounds that its /16's summary, an id, does not repeat:
	 * the lookups would answer the whole /16 from the summary. */
	uint32_t h = 0;
	while (h < RM_DIR24_TBL16 && (((const uint16_t *)t->tbl16)[h] & 0x8000u))
		h++;
	assert_true(h < RM_DIR24_TBL16);
	size_t at = ((size_t)h << 8) + 77;
	uint16_t keep = tbl24[at];
	tbl24[at] = (uint16_t)((keep + 1) % n_attrs);
	assert_int_equal(rm_dir24_check(t, n_attrs, err, sizeof(err)), -1);
	char want[64];
	snprintf(want, sizeof(want), "IPv4 summary entry %u disagrees with the table", h);
	assert_string_equal(err, want);
	tbl24[at] = keep;
	assert_int_equal(rm_dir24_check(t, n_attrs, err, sizeof(err)), 0);
}

static void real_data(void **state)
{
	(void)state;
	static const char *const files[] = {
	    "rir/delegated-ripencc-20140630", "rir/delegated-apnic-20140701",
	    "rir/delegated-afrinic-extended-20230323", "iana/ipv4-address-space.csv", NULL};
	struct built *r = build_data(files);
	assert_non_null(r->m);
	struct rm_dir24_owned o;
	char err[256];
	assert_int_equal(rm_dir24_build(&r->db, &o, err, sizeof(err)), 0);
	assert_int_equal(o.t.width, 2);
	assert_true(o.t.n_groups > 0); /* RIPE assigns a few /25s */
	assert_int_equal(rm_dir24_check(&o.t, r->db.n_attrs, err, sizeof(err)), 0);
	refuses_bad_entries(&o.t, r->db.n_attrs);
	agree_with_reference(&r->db, &o.t, 2000000);
	variants_agree(&o.t);
	rm_dir24_free(&o);
	built_free(r);
}

/* Labels are the easy way to make any range set: most specific wins. */
static struct built *labels(int count, int (*make)(int i, char *line, size_t cap))
{
	size_t cap = (size_t)count * 48 + 64, off = 0;
	char *text = malloc(cap);
	for (int i = 0; i < count; i++)
		off += (size_t)make(i, text + off, cap - off);
	struct built *r = build_texts(1, "gen", text, NULL);
	free(text);
	assert_non_null(r->m);
	return r;
}

static int many_slash32(int i, char *line, size_t cap)
{
	uint32_t a = rnd();
	return snprintf(line, cap, "%u.%u.%u.%u/32,h%d\n", a >> 24, a >> 16 & 255, a >> 8 & 255,
			a & 255, i % 20000);
}

static int adjacent_alternating(int i, char *line, size_t cap)
{
	/* 10.0.0.0, 10.0.0.1, ... each its own /32, two labels alternating, then
	 * /31s and /30s across /24 boundaries. */
	uint32_t a = 0x0A000000u + (uint32_t)i;
	if (i == 0)
		return snprintf(line, cap, "0.0.0.0/0,default\n");
	return snprintf(line, cap, "%u.%u.%u.%u/32,%s\n", a >> 24, a >> 16 & 255, a >> 8 & 255,
			a & 255, i % 2 ? "odd" : "even");
}

static int wide_ids(int i, char *line, size_t cap)
{
	/* 40000 distinct labels: ids above 32767 force 4-byte entries. */
	uint32_t a = 0x20000000u + ((uint32_t)i << 9) + (uint32_t)(i % 7) * 8;
	return snprintf(line, cap, "%u.%u.%u.%u/29,w%d\n", a >> 24, a >> 16 & 255, a >> 8 & 255,
			a & 255, i);
}

static void generated_worst_cases(void **state)
{
	(void)state;
	struct {
		int count;
		int (*make)(int, char *, size_t);
		uint32_t width;
	} cases[] = {
	    {30000, many_slash32, 2},
	    {100000, many_slash32, 4}, /* groups beyond 15 bits */
	    {5000, adjacent_alternating, 2},
	    {40000, wide_ids, 4},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct built *r = labels(cases[c].count, cases[c].make);
		struct rm_dir24_owned o;
		char err[256];
		assert_int_equal(rm_dir24_build(&r->db, &o, err, sizeof(err)), 0);
		if (o.t.width != cases[c].width)
			fail_msg("case %zu: width %u (groups %u, attributions %u), want %u", c,
				 o.t.width, o.t.n_groups, r->db.n_attrs, cases[c].width);
		agree_with_reference(&r->db, &o.t, 300000);
		variants_agree(&o.t);
		rm_dir24_free(&o);
		built_free(r);
	}
}

/* The table in a snapshot: mapped in place and on huge pages. */
static void check_snapshot_table(const struct rm_snapshot *s)
{
	const struct rm_dir24 *t = rm_snapshot_dir24(s);
	assert_int_equal(t->width, 4);
	agree_with_reference(rm_snapshot_db(s), t, 100000);
	variants_agree(t);
}

static void from_snapshot(void **state)
{
	(void)state;
	struct built *r = labels(40000, wide_ids);
	each_snapshot_copy(&r->db, "dir24", check_snapshot_table);
	built_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_data),
	    cmocka_unit_test(generated_worst_cases),
	    cmocka_unit_test(from_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
