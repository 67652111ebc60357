/*
 * test_options.c - the one policy for numeric option values
 * (common/options.h): what is a number, what is in range, and the words
 * of the refusals, which the command-line tests rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static void whole_numbers(void **state)
{
	(void)state;
	char err[128];
	uint64_t v = 7;
	assert_int_equal(rm_parse_u64("0", 0, 10, &v, err, sizeof(err)), 0);
	assert_true(v == 0);
	assert_int_equal(rm_parse_u64("64", 1, 64, &v, err, sizeof(err)), 0);
	assert_true(v == 64);
	/* Leading zeros are decimal, not octal. */
	assert_int_equal(rm_parse_u64("010", 0, 100, &v, err, sizeof(err)), 0);
	assert_true(v == 10);
	assert_int_equal(rm_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, err, sizeof(err)),
			 0);
	assert_true(v == UINT64_MAX);
}

static void not_whole_numbers(void **state)
{
	(void)state;
	const char *bad[] = {"",    "abc",  "2.5", "2.", "-1",	"+1",  " 5", "5 ",
			     "5\n", "0x10", "1e2", "7x", "nan", "inf", "-0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128], want[128];
		uint64_t v = 7;
		assert_int_equal(rm_parse_u64(bad[i], 0, 1000, &v, err, sizeof(err)), -1);
		assert_true(v == 7);
		snprintf(want, sizeof(want), "'%s' is not a whole number", bad[i]);
		assert_string_equal(err, want);
	}
	char err[128];
	uint64_t v;
	assert_int_equal(rm_parse_u64(NULL, 0, 1, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "'' is not a whole number");
}

static void whole_out_of_range(void **state)
{
	(void)state;
	char err[128];
	uint64_t v = 7;
	assert_int_equal(rm_parse_u64("0", 1, 64, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "0 is out of range 1..64");
	assert_int_equal(rm_parse_u64("65", 1, 64, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "65 is out of range 1..64");
	/* Too large for 64 bits: out of range, not wrapped. */
	assert_int_equal(rm_parse_u64("18446744073709551616", 0, UINT64_MAX, &v, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "18446744073709551616 is out of range 0..18446744073709551615");
	assert_int_equal(rm_parse_u64("99999999999999999999999", 1, 86400, &v, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "99999999999999999999999 is out of range 1..86400");
	assert_true(v == 7);
}

static void decimals(void **state)
{
	(void)state;
	char err[128];
	double v = -1;
	const struct {
		const char *s;
		double v;
	} good[] = {{"0", 0}, {"10", 10}, {"0.5", 0.5}, {"2.", 2}, {".25", 0.25}, {"86400", 86400}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(rm_parse_decimal(good[i].s, 0, 86400, &v, err, sizeof(err)), 0);
		assert_true(v == good[i].v);
	}
	const char *bad[] = {"",    ".",   "abc",  "-1",    "+1",  " 5", "5 ",	"1e3", "0x10",
			     "nan", "inf", "-inf", "1.2.3", "1,5", "5s", "--1", "1..2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];
		v = -1;
		assert_int_equal(rm_parse_decimal(bad[i], 0, 86400, &v, err, sizeof(err)), -1);
		assert_true(v == -1);
		snprintf(want, sizeof(want), "'%s' is not a non-negative number", bad[i]);
		assert_string_equal(err, want);
	}
	assert_int_equal(rm_parse_decimal("90000", 0, 86400, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "90000 is out of range 0..86400");
	assert_int_equal(rm_parse_decimal("0.5", 1, 86400, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "0.5 is out of range 1..86400");
	assert_int_equal(rm_parse_decimal("5", 0, 1e9, &v, err, sizeof(err)), 0);
	assert_int_equal(rm_parse_decimal("2000000000", 0, 1e9, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "2000000000 is out of range 0..1000000000");
	/* Enough digits overflow to inf, which no range holds. */
	char huge[400], long_err[512];
	memset(huge, '9', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(rm_parse_decimal(huge, 0, 1e9, &v, long_err, sizeof(long_err)), -1);
	assert_non_null(strstr(long_err, "is out of range 0..1000000000"));
}

static void option_forms(void **state)
{
	(void)state;
	unsigned u = 3;
	assert_int_equal(rm_opt_uint("t", "--top", "20", 0, 100000, &u), 0);
	assert_int_equal(u, 20);
	assert_int_equal(rm_opt_uint("t", "--top", "2.5", 0, 100000, &u), -1);
	assert_int_equal(u, 20);
	double d = 0;
	assert_int_equal(rm_opt_decimal("t", "--interval", "0.5", 0, 86400, &d), 0);
	assert_true(d == 0.5);
	uint64_t v = 0;
	assert_int_equal(rm_opt_u64("t", "--ipfix-pen", "4294967295", 1, UINT32_MAX, &v), 0);
	assert_true(v == UINT32_MAX);
}

/* One thread per online CPU, within 1..max: 256 CPUs or more give max
 * threads (rirdb scan once fell back to 1 there), an error 1. */
static void default_threads(void **state)
{
	(void)state;
	assert_int_equal(rm_default_threads(8, 256), 8);
	assert_int_equal(rm_default_threads(255, 256), 255);
	assert_int_equal(rm_default_threads(256, 256), 256);
	assert_int_equal(rm_default_threads(257, 256), 256);
	assert_int_equal(rm_default_threads(4096, 256), 256);
	assert_int_equal(rm_default_threads(128, 64), 64);
	assert_int_equal(rm_default_threads(1, 256), 1);
	assert_int_equal(rm_default_threads(0, 256), 1);
	assert_int_equal(rm_default_threads(-1, 256), 1);
}

/* rirmeter -i's default workers: one per CPU, but no more than one run
 * has lcores for, nor than the RX queues net_af_xdp binds (0: no such
 * bound, as under net_af_packet, which makes a queue per worker). */
static void interface_workers(void **state)
{
	(void)state;
	assert_int_equal(rm_interface_workers(2, 64, 0), 2);
	assert_int_equal(rm_interface_workers(256, 64, 0), 64);
	assert_int_equal(rm_interface_workers(4096, 64, 0), 64);
	assert_int_equal(rm_interface_workers(2, 64, 1), 1);
	assert_int_equal(rm_interface_workers(256, 64, 8), 8);
	assert_int_equal(rm_interface_workers(256, 64, 100), 64);
	assert_int_equal(rm_interface_workers(4, 64, 8), 4);
	assert_int_equal(rm_interface_workers(-1, 64, 8), 1);
	assert_int_equal(rm_interface_workers(0, 64, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(whole_numbers),	  cmocka_unit_test(not_whole_numbers),
	    cmocka_unit_test(whole_out_of_range), cmocka_unit_test(decimals),
	    cmocka_unit_test(option_forms),	  cmocka_unit_test(default_threads),
	    cmocka_unit_test(interface_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
