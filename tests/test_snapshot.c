/*
 * test_snapshot.c - the snapshot file: round trip, and refusal of
 * truncated, corrupted, wrong-version and hostile files.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "snapshot.h"

static char path[256];

static struct built *sample(void)
{
	return build_texts(0, "ripe",
			   "2|ripencc|1|3|19830705|20140630|+0200\n"
			   "ripencc|DE|ipv4|10.0.0.0|3072|20100101|allocated\n"
			   "ripencc|NL|ipv6|2001:db8::|32|20100103|allocated\n"
			   "ripencc|EU|asn|100|3|19940519|allocated\n",
			   "labels", "10.0.1.0/24,office\n", NULL);
}

static unsigned char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(*len + 1);
	assert_non_null(b);
	assert_true(*len > 64);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/rm-test-snap-%ld", (long)getpid());
	struct built *r = sample();
	char err[256];
	assert_non_null(r->m);
	assert_int_equal(rm_snapshot_write(&r->db, path, err, sizeof(err)), 0);
	built_free(r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void round_trip(void **state)
{
	(void)state;
	struct built *r = sample();
	char err[256];
	struct rm_snapshot *s = rm_snapshot_open(path, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	const struct rm_db *d = rm_snapshot_db(s);
	assert_int_equal(d->v4.n, r->db.v4.n);
	assert_int_equal(d->v6.n, r->db.v6.n);
	assert_int_equal(d->asn.n, r->db.asn.n);
	assert_int_equal(d->n_attrs, r->db.n_attrs);
	assert_int_equal(d->n_inputs, 2);
	assert_string_equal(rm_str(d, d->inputs[0].name), "ripe");
	assert_string_equal(rm_str(d, d->inputs[0].serial), "1");
	assert_int_equal(d->inputs[0].end_date, 20140630);
	for (uint32_t a = 0x09FFFF00u; a < 0x0A000D00u; a += 3)
		assert_int_equal(d->attrs[rm_ref_lookup4(d, a)].rir,
				 r->db.attrs[rm_ref_lookup4(&r->db, a)].rir);
	assert_string_equal(holder_of(d, "10.0.1.7"), "local:office");
	assert_cc(d, "2001:db8::5", "NL");
	assert_cc(d, "AS102", "EU");
	rm_snapshot_close(s);
	built_free(r);
}

static void expect_refused(const unsigned char *b, size_t len, const char *why)
{
	char p2[300], err[512];
	snprintf(p2, sizeof(p2), "%s.bad", path);
	write_file(p2, b, len);
	struct rm_snapshot *s = rm_snapshot_open(p2, err, sizeof(err));
	unlink(p2);
	if (s) {
		rm_snapshot_close(s);
		fail_msg("accepted a file that should fail with '%s'", why);
	}
	if (!strstr(err, why))
		fail_msg("error '%s' does not say '%s'", err, why);
}

static void truncated(void **state)
{
	(void)state;
	size_t len;
	unsigned char *b = slurp(path, &len);
	size_t cuts[] = {0, 1, 63, 64, 200, len / 2, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_refused(b, cuts[i], cuts[i] < 64 ? "truncated" : "truncated or extended");
	free(b);
}

static void corrupted(void **state)
{
	(void)state;
	size_t len;
	unsigned char *b = slurp(path, &len);
	for (size_t at = 64; at < len; at += len / 7) {
		b[at] ^= 0x40;
		expect_refused(b, len, "checksum mismatch");
		b[at] ^= 0x40;
	}
	memcpy(b, "NOTASNAP", 8);
	expect_refused(b, len, "not a rirmeter snapshot");
	free(b);
}

static void wrong_version(void **state)
{
	(void)state;
	size_t len;
	unsigned char *b = slurp(path, &len);
	uint32_t v = RM_SNAPSHOT_VERSION + 1;
	memcpy(b + 8, &v, 4);
	char want[128];
	snprintf(want, sizeof(want), "snapshot format version %u, this build reads version %u", v,
		 RM_SNAPSHOT_VERSION);
	expect_refused(b, len, want);
	free(b);
}

/* Rewrite the checksum so that only the semantic checks can catch it. */
static void reseal(unsigned char *b, size_t len)
{
	uint32_t crc = 0;
	memcpy(b + 28, &crc, 4);
	crc = rm_crc32c(0, b, len);
	memcpy(b + 28, &crc, 4);
}

static unsigned char *section(unsigned char *b, uint32_t type, uint64_t *count)
{
	uint32_t n;
	memcpy(&n, b + 24, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t;
		uint64_t off;
		memcpy(&t, b + 64 + 24 * i, 4);
		memcpy(&off, b + 64 + 24 * i + 8, 8);
		memcpy(count, b + 64 + 24 * i + 16, 8);
		if (t == type)
			return b + off;
	}
	fail_msg("no section %u", type);
	return NULL;
}

static void hostile_contents_with_valid_checksum(void **state)
{
	(void)state;
	size_t len;
	uint64_t count;
	unsigned char *b = slurp(path, &len);
	unsigned char *orig = malloc(len);
	memcpy(orig, b, len);

	uint32_t bad = 0xFFFFFFF0u;
	memcpy(section(b, 6 /* v4 ids */, &count), &bad, 4);
	reseal(b, len);
	expect_refused(b, len, "range points past the attribution table");

	memcpy(b, orig, len);
	unsigned char *starts = section(b, 5 /* v4 starts */, &count);
	memcpy(starts + 4, starts + 8, 4); /* two equal starts */
	reseal(b, len);
	expect_refused(b, len, "range starts not increasing");

	memcpy(b, orig, len);
	uint64_t huge = 1ull << 40;
	memcpy(b + 64 + 16, &huge, 8); /* first section's count */
	reseal(b, len);
	expect_refused(b, len, "lies outside the file");

	memcpy(b, orig, len);
	unsigned char *attrs = section(b, 2, &count);
	attrs[sizeof(struct rm_attr)] = 99; /* attribution 1's rir */
	reseal(b, len);
	expect_refused(b, len, "bad rir or status");

	/* NIR, name source and padding are bounded: an out-of-range NIR would
	 * index the name table. */
	static const size_t bytes[] = {offsetof(struct rm_attr, nir),
				       offsetof(struct rm_attr, name_source),
				       offsetof(struct rm_attr, pad)};
	for (size_t k = 0; k < 3; k++) {
		memcpy(b, orig, len);
		attrs = section(b, 2, &count);
		attrs[sizeof(struct rm_attr) + bytes[k]] = 99;
		reseal(b, len);
		expect_refused(b, len, "bad nir or name source");
	}

	/* Country codes are two letters A-Z or none: an escape character or a
	 * lower-case letter would reach JSON and tables as it is. */
	memcpy(b, orig, len);
	attrs = section(b, 2, &count);
	assert_memory_equal(attrs + sizeof(struct rm_attr) + 2, "DE", 2); /* attribution 1's cc */
	attrs[sizeof(struct rm_attr) + 2] = 0x1b;
	reseal(b, len);
	expect_refused(b, len, "country code is not two letters A-Z");
	attrs[sizeof(struct rm_attr) + 2] = 'd';
	reseal(b, len);
	expect_refused(b, len, "country code is not two letters A-Z");
	attrs[sizeof(struct rm_attr) + 2] = '\0'; /* half a code */
	reseal(b, len);
	expect_refused(b, len, "country code is not two letters A-Z");

	/* Holder text is valid UTF-8: a byte 0xff in the label is refused. */
	memcpy(b, orig, len);
	unsigned char *str = section(b, 1, &count);
	unsigned char *lab = memmem(str, count, "local:office", 12);
	assert_non_null(lab);
	lab[6] = 0xff;
	reseal(b, len);
	expect_refused(b, len, "not valid UTF-8");

	/* A registry attribution whose holder id is a label's text: refused by
	 * its block, which is the registry's, not a label's. */
	memcpy(b, orig, len);
	str = section(b, 1, &count);
	uint32_t off = (uint32_t)((unsigned char *)memmem(str, count, "local:office", 12) - str);
	attrs = section(b, 2, &count);
	memcpy(attrs + sizeof(struct rm_attr) + offsetof(struct rm_attr, holder_id), &off,
	       4); /* attribution 1's holder_id */
	reseal(b, len);
	expect_refused(b, len, "a 'local:' holder outside a label's block");

	/* Why an input is not used is one of the reasons rirdb info names. */
	memcpy(b, orig, len);
	uint32_t unused = RM_UNUSED_COUNT;
	memcpy(section(b, 4 /* inputs */, &count) + offsetof(struct rm_input, unused), &unused, 4);
	reseal(b, len);
	expect_refused(b, len, "bad input record");

	memcpy(b, orig, len);
	str = section(b, 1, &count);
	str[count - 1] = 'x'; /* the pool no longer ends in NUL */
	reseal(b, len);
	expect_refused(b, len, "string pool");
	free(orig);
	free(b);
}

static void missing_file(void **state)
{
	(void)state;
	char err[256];
	assert_null(rm_snapshot_open("/nonexistent/x.snap", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(rm_snapshot_open("/tmp", err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

/*
 * A file that ends before the size it had when opened (overwritten in
 * place while a reload reads it) is named so, not "cannot map: Success".
 * A sysfs attribute is such a file: 4096 bytes by fstat, a few when read.
 */
static void shorter_than_its_size(void **state)
{
	(void)state;
	static const char sysfs[] = "/sys/kernel/mm/transparent_hugepage/enabled";
	struct stat st;
	if (stat(sysfs, &st) || !S_ISREG(st.st_mode) || st.st_size != 4096 || access(sysfs, R_OK))
		skip();
	char err[256];
	assert_null(rm_snapshot_open_flags(sysfs, RM_SNAP_HUGEPAGE, err, sizeof(err)));
	assert_non_null(strstr(err, "truncated while being read"));
}

static void crc32c_known_answer(void **state)
{
	(void)state;
	/* RFC 3720 B.4 check value. */
	assert_int_equal(rm_crc32c(0, "123456789", 9), 0xE3069283u);
	unsigned char zeros[32] = {0};
	assert_int_equal(rm_crc32c(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(rm_crc32c_portable(0, "123456789", 9), 0xE3069283u);
	unsigned char buf[1000];
	for (int i = 0; i < 1000; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n < 1000; n += 37)
		assert_int_equal(rm_crc32c_portable(0, buf, n), rm_crc32c(0, buf, n));
	/* Incremental equals one shot. */
	assert_int_equal(rm_crc32c(rm_crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
}

/* The located layer: kept, looked up, and refused when incomplete or out
 * of bounds. */
static void located_layer(void **state)
{
	(void)state;
	struct built *r = sample();
	struct rm_geo *geo = calloc(3, sizeof(*geo));
	uint32_t *v4s = malloc(3 * 4), *v4i = malloc(3 * 4), *v6i = malloc(2 * 4);
	struct rm_key *v6s = calloc(2, sizeof(*v6s));
	geo[1] = (struct rm_geo){{'D', 'E'}, 0, 3320};
	geo[2] = (struct rm_geo){{'N', 'L'}, 0, 0};
	v4s[0] = 0, v4i[0] = 0, v4s[1] = 0x0A000000u, v4i[1] = 1, v4s[2] = 0x0A000100u, v4i[2] = 2;
	v6s[1] = rm_key_make((rm_u128)0x20010db8u << 96), v6i[0] = 0, v6i[1] = 2;
	rm_model_set_geo(r->m, geo, 3, v4s, v4i, 3, v6s, v6i, 2);
	rm_model_view(r->m, &r->db);
	char p[128], err[256];
	snprintf(p, sizeof(p), "/tmp/rm-test-geo-%ld", (long)getpid());
	assert_int_equal(rm_snapshot_write(&r->db, p, err, sizeof(err)), 0);
	struct rm_snapshot *s = rm_snapshot_open(p, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	const struct rm_db *d = rm_snapshot_db(s);
	assert_int_equal(d->n_geo, 3);
	assert_int_equal(d->geo[rm_ref_geo4(d, 0x0A000005u)].asn, 3320);
	assert_memory_equal(d->geo[rm_ref_geo4(d, 0x0A000105u)].cc, "NL", 2);
	assert_int_equal(rm_ref_geo4(d, 0x09000000u), 0);
	assert_memory_equal(d->geo[rm_ref_geo6(d, (rm_u128)0x20010db8u << 96 | 1)].cc, "NL", 2);
	rm_snapshot_close(s);
	size_t len;
	unsigned char *b = slurp(p, &len), *orig = malloc(len);
	memcpy(orig, b, len);
	uint64_t count;
	unsigned char *g = section(b, 22 /* located entries */, &count);
	assert_int_equal(count, 3);
	g[8] = 'x'; /* entry 1's country */
	reseal(b, len);
	expect_refused(b, len, "located country is not two letters A-Z");
	memcpy(b, orig, len);
	uint32_t big = 7;
	memcpy(section(b, 24 /* located IPv4 ids */, &count) + 4, &big, 4);
	reseal(b, len);
	expect_refused(b, len, "located IPv4 range out of order or bounds");
	memcpy(b, orig, len);
	/* One section of the five renamed to a type nobody reads: incomplete. */
	uint32_t n;
	memcpy(&n, b + 24, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t;
		memcpy(&t, b + 64 + 24 * i, 4);
		if (t == 26) {
			t = 60;
			memcpy(b + 64 + 24 * i, &t, 4);
		}
	}
	reseal(b, len);
	expect_refused(b, len, "the located layer's sections are incomplete");
	free(b);
	free(orig);
	unlink(p);
	built_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(truncated),
	    cmocka_unit_test(corrupted),
	    cmocka_unit_test(wrong_version),
	    cmocka_unit_test(hostile_contents_with_valid_checksum),
	    cmocka_unit_test(missing_file),
	    cmocka_unit_test(shorter_than_its_size),
	    cmocka_unit_test(crc32c_known_answer),
	    cmocka_unit_test(located_layer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
