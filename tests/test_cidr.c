/*
 * test_cidr.c - splitting registry ranges into CIDR blocks, and text forms.
 */
#include "helpers.h"

struct collected {
	rm_u128 base[300];
	unsigned plen[300];
	unsigned n;
};

static void collect(rm_u128 base, unsigned plen, void *arg)
{
	struct collected *c = arg;
	c->base[c->n] = base;
	c->plen[c->n] = plen;
	c->n++;
}

static void non_power_of_two_count(void **state)
{
	(void)state;
	/* An IPv4 record "10.0.0.0|3072" is a /21 and a /22. */
	struct collected c = {.n = 0};
	assert_int_equal(rm_range_to_cidrs(0x0A000000u, 0x0A000000u + 3072 - 1, 32, collect, &c),
			 2);
	assert_true(c.base[0] == 0x0A000000u && c.plen[0] == 21);
	assert_true(c.base[1] == 0x0A000800u && c.plen[1] == 22);
}

static void unaligned_range(void **state)
{
	(void)state;
	struct collected c = {.n = 0};
	/* .1-.6: /32, /31, /31, /32 */
	assert_int_equal(rm_range_to_cidrs(1, 6, 32, collect, &c), 4);
	unsigned want[] = {32, 31, 31, 32};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(c.plen[i], want[i]);
	assert_true(c.base[1] == 2 && c.base[2] == 4 && c.base[3] == 6);
}

static void whole_spaces(void **state)
{
	(void)state;
	struct collected c = {.n = 0};
	assert_int_equal(rm_range_to_cidrs(0, 0xFFFFFFFFu, 32, collect, &c), 1);
	assert_int_equal(c.plen[0], 0);
	c.n = 0;
	assert_int_equal(rm_range_to_cidrs(0, ~(rm_u128)0, 128, collect, &c), 1);
	assert_int_equal(c.plen[0], 0);
	c.n = 0;
	/* The worst case of a 32-bit range: 1 .. 2^32-2 needs 62 blocks. */
	assert_int_equal(rm_range_to_cidrs(1, 0xFFFFFFFEu, 32, collect, &c), 62);
	c.n = 0;
	assert_int_equal(rm_range_to_cidrs(1, ~(rm_u128)0 - 1, 128, collect, &c), 254);
}

static void containing_block_and_text(void **state)
{
	(void)state;
	rm_u128 base;
	unsigned plen;
	rm_cidr_containing(0x0A000000u, 0x0A000BFFu, 32, 0x0A000901u, &base, &plen);
	assert_true(base == 0x0A000800u && plen == 22);
	struct rm_block b = {
	    .first = rm_key_make(0x0A000000u), .last = rm_key_make(0x0A000BFFu), .family = RM_V4};
	char out[RM_TEXT_MAX];
	rm_format_block(&b, 0x0A000005u, out);
	assert_string_equal(out, "10.0.0.0/21");
	rm_format_block(&b, 0x0A000B00u, out);
	assert_string_equal(out, "10.0.8.0/22");
	rm_format_range(&b, out);
	assert_string_equal(out, "10.0.0.0-10.0.11.255");
	struct rm_block a = {
	    .first = rm_key_make(64496), .last = rm_key_make(64511), .family = RM_ASN};
	rm_format_block(&a, 64500, out);
	assert_string_equal(out, "AS64496-AS64511");
	char d[16];
	rm_format_date(20140630, d);
	assert_string_equal(d, "2014-06-30");
	rm_format_date(19810900, d);
	assert_string_equal(d, "1981-09");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(non_power_of_two_count),
	    cmocka_unit_test(unaligned_range),
	    cmocka_unit_test(whole_spaces),
	    cmocka_unit_test(containing_block_and_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
