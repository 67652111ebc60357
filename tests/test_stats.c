/*
 * test_stats.c - the statistics exchange format: every record type, the
 * quirks of real files, and every malformed field.
 */
#include "helpers.h"

#define HDR "2|ripencc|1404165599|5|19830705|20140630|+0200\n"

static void standard_file(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "f",
				      "# a comment\n" HDR "ripencc|*|ipv4|*|2|summary\n"
				      "ripencc|*|ipv6|*|1|summary\n"
				      "ripencc|*|asn|*|2|summary\n"
				      "ripencc|DE|ipv4|10.0.0.0|3072|20100101|allocated\n"
				      "ripencc|FR|ipv4|10.0.12.0|256|20100102|assigned\n"
				      "ripencc|NL|ipv6|2001:db8::|32|20100103|allocated\n"
				      "ripencc|EU|asn|100|3|19940519|allocated\n"
				      "ripencc|GB|asn|4200000|1|19940519|allocated\n",
				      NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 0);
	assert_int_equal(r->counts.notices, 0);
	assert_int_equal(r->counts.records, 5);
	assert_string_equal(rir_of(&r->db, "10.0.11.255"), "ripencc");
	assert_cc(&r->db, "10.0.11.255", "DE");
	assert_cc(&r->db, "10.0.0.0", "DE");
	assert_cc(&r->db, "10.0.12.0", "FR");
	assert_string_equal(status_of(&r->db, "10.0.12.255"), "assigned");
	assert_string_equal(rir_of(&r->db, "10.0.13.0"), "unknown");
	assert_string_equal(rir_of(&r->db, "9.255.255.255"), "unknown");
	assert_cc(&r->db, "2001:db8:ffff::1", "NL");
	assert_string_equal(rir_of(&r->db, "2001:db9::"), "unknown");
	assert_cc(&r->db, "AS100", "EU");
	assert_cc(&r->db, "AS102", "EU");
	assert_string_equal(rir_of(&r->db, "AS103"), "unknown");
	assert_cc(&r->db, "AS4200000", "GB");
	/* Two records, two ranges, however the counts fall on CIDR bounds. */
	uint32_t i = rm_ref_find4(&r->db, 0x0A000B00u);
	assert_int_equal(r->db.v4.start[i], 0x0A000000u);
	built_free(r);
}

static void extended_and_quirks(void **state)
{
	(void)state;
	/* CRLF, an empty country (APNIC), available space, extension fields,
	 * no newline at the end. */
	struct built *r =
	    build_texts(0, "ext",
			"2.3|afrinic|20230323|3|00000000|20230323|00000\r\n"
			"afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F364712F\r\n"
			"afrinic||ipv4|41.32.0.0|256|20071126|assigned|F364712F|e-stats|more\r\n"
			"afrinic|ZZ|asn|37000|1||available|",
			NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 0);
	assert_string_equal(holder_of(&r->db, "41.31.255.255"), "F364712F");
	assert_cc(&r->db, "41.32.0.9", "");
	assert_string_equal(status_of(&r->db, "41.32.0.9"), "assigned");
	assert_string_equal(status_of(&r->db, "AS37000"), "available");
	assert_cc(&r->db, "AS37000", "ZZ");
	assert_string_equal(holder_of(&r->db, "AS37000"), "");
	built_free(r);
}

static void summary_mismatch_is_reported(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "trunc",
				      HDR "ripencc|*|ipv4|*|7|summary\n"
					  "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
				      NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.notices, 2); /* summary and header counts */
	assert_true(diag_has(r, "trunc:3: summary says 7 ipv4 records, the file has 1"));
	assert_true(diag_has(r, "header says 5 records, the file has 1"));
	built_free(r);
	/* A count past 2^63 is a count too, not "no summary". */
	r = build_texts(0, "huge",
			"2|ripencc|1|1|19830705|20140630|+0200\n"
			"ripencc|*|ipv4|*|18446744073709551615|summary\n"
			"ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
			NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.notices, 1);
	assert_true(
	    diag_has(r, "huge:3: summary says 18446744073709551615 ipv4 records, the file has 1"));
	built_free(r);
}

/* A summary's count that differs from the records read says why: lines
 * missing (truncated?), lines only skipped for errors (there, so not
 * missing: a line of no known type may be of any), or more records than
 * it counts; "truncated?" only for the first. */
static void summary_mismatch_says_why(void **state)
{
	(void)state;
	static const struct {
		const char *summary, *records, *want;
		int missing;
	} cases[] = {
	    {"2", "ripencc|de|ipv4|10.0.1.0|256|20100101|allocated\n",
	     "s:4: summary says 2 ipv4 records, the file has 1; the other 1 are among the lines "
	     "skipped for errors (1), not missing",
	     0},
	    {"2", "ripencc|DE|ipv9|10.0.1.0|256|20100101|allocated\n",
	     "s:4: summary says 2 ipv4 records, the file has 1; the other 1 are among the lines "
	     "skipped for errors (1), not missing",
	     0},
	    {"4", "ripencc|de|ipv4|10.0.1.0|256|20100101|allocated\n",
	     "s:4: summary says 4 ipv4 records, the file has 1 and lines skipped for errors (1): "
	     "2 are missing (truncated?)",
	     1},
	    {"1", "ripencc|DE|ipv4|10.0.1.0|256|20100101|allocated\n",
	     "s:4: summary says 1 ipv4 records, the file has 2, more than it counts", 0},
	};
	char text[512];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "2|ripencc|1|0|19830705|20140630|+0200\n"
			 "ripencc|*|ipv4|*|%s|summary\n"
			 "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n%s",
			 cases[i].summary, cases[i].records);
		struct built *r = build_texts(1, "s", text, NULL);
		assert_non_null(r->m);
		if (!diag_has(r, cases[i].want))
			fail_msg("want '%s', got '%s'", cases[i].want, r->diag);
		assert_int_equal(diag_has(r, "truncated?"), cases[i].missing);
		built_free(r);
	}
}

static const struct {
	const char *record;
	const char *reason;
} malformed[] = {
    {"ripencc|DE|ipv4|10.0.0.0|256|20100101", "record has 6 '|' fields, expected at least 7"},
    {"ripe|DE|ipv4|10.0.0.0|256|20100101|allocated", "unknown registry 'ripe'"},
    {"apnic|DE|ipv4|10.0.0.0|256|20100101|allocated", "record of registry 'apnic' in a file of"},
    {"ripencc|D|ipv4|10.0.0.0|256|20100101|allocated", "bad country code 'D'"},
    {"ripencc|de|ipv4|10.0.0.0|256|20100101|allocated", "bad country code 'de'"},
    {"ripencc|DE|ipv5|10.0.0.0|256|20100101|allocated", "unknown type 'ipv5'"},
    {"ripencc|DE|ipv4|10.0.0|256|20100101|allocated", "bad IPv4 start address"},
    {"ripencc|DE|ipv4|10.0.0.0|0|20100101|allocated", "IPv4 count is not a positive number"},
    {"ripencc|DE|ipv4|10.0.0.0|2x|20100101|allocated", "IPv4 count is not a positive number"},
    {"ripencc|DE|ipv4|255.255.255.0|257|20100101|allocated", "IPv4 count runs past"},
    /* Counts near 2^64: start + count must not wrap before the check. */
    {"ripencc|DE|ipv4|0.0.0.2|18446744073709551615|20100101|allocated", "IPv4 count runs past"},
    {"ripencc|DE|ipv6|2001:db8:::|32|20100101|allocated", "bad IPv6 start address"},
    {"ripencc|DE|ipv6|2001:db8::|129|20100101|allocated", "IPv6 prefix length is not 1..128"},
    /* ::/0 would claim the whole IPv6 space for one registry record. */
    {"ripencc|DE|ipv6|::|0|20100101|allocated", "IPv6 prefix length is not 1..128"},
    {"ripencc|DE|ipv6|2001:db8::1|32|20100101|allocated", "IPv6 start has bits set"},
    {"ripencc|DE|asn|AS-X|1|20100101|allocated", "bad AS number"},
    {"ripencc|DE|asn|100|0|20100101|allocated", "AS count is not a positive number"},
    {"ripencc|DE|asn|4294967295|2|20100101|allocated", "AS count runs past 4294967295"},
    {"ripencc|DE|asn|2|18446744073709551615|20100101|allocated", "AS count runs past 4294967295"},
    {"ripencc|DE|ipv4|10.0.0.0|256|2010-01-01|allocated", "bad date '2010-01-01'"},
    {"ripencc|DE|ipv4|10.0.0.0|256|20101301|allocated", "bad date '20101301'"},
    /* Days the month does not have, leap years by the Gregorian rule. */
    {"ripencc|DE|ipv4|10.0.0.0|256|20230231|allocated", "bad date '20230231'"},
    {"ripencc|DE|ipv4|10.0.0.0|256|20230229|allocated", "bad date '20230229'"},
    {"ripencc|DE|ipv4|10.0.0.0|256|19000229|allocated", "bad date '19000229'"},
    {"ripencc|DE|ipv4|10.0.0.0|256|20230431|allocated", "bad date '20230431'"},
    {"ripencc|DE|ipv4|10.0.0.0|256|20100101|stolen", "unknown status 'stolen'"},
    {"ripencc|*|ipv7|*|3|summary", "bad summary line"},
};

/* A strict build of the one file text, named name, fails and its
 * messages hold want ("NAME:LINE: reason"). */
static void assert_refused(const char *name, const char *text, const char *want)
{
	struct built *r = build_texts(0, name, text, NULL);
	if (r->m || !diag_has(r, want))
		fail_msg("want '%s', got '%s'", want, r->diag);
	built_free(r);
}

static void every_malformed_field(void **state)
{
	(void)state;
	char text[512], want[256];
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		snprintf(text, sizeof(text),
			 HDR "ripencc|DE|ipv4|1.0.0.0|256|20100101|allocated\n%s\n",
			 malformed[i].record);
		/* Strict: the build fails and names file, line and reason. */
		snprintf(want, sizeof(want), "bad:3: %s", malformed[i].reason);
		assert_refused("bad", text, want);
		/* Lenient: the line is skipped and counted, the rest is kept. */
		struct built *r = build_texts(1, "bad", text, NULL);
		assert_non_null(r->m);
		assert_int_equal(r->counts.skipped, 1);
		assert_true(diag_has(r, "(skipped)"));
		assert_cc(&r->db, "1.0.0.1", "DE");
		built_free(r);
	}
}

static void bad_header(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    1, "hdr", "2|ripencc|1|2|3\nripencc|DE|ipv4|1.0.0.0|256||allocated\n", NULL);
	assert_true(diag_has(r, "hdr:1: header has 5 '|' fields, expected 7"));
	built_free(r);
	/* Only the UTC offset missing: still not the format's header. */
	assert_refused("six",
		       "2|ripencc|1|1|19830705|20140630\n"
		       "ripencc|DE|ipv4|1.0.0.0|256||allocated\n",
		       "six:1: header has 6 '|' fields, expected 7");
	assert_refused("hdr2", "2|ripencc|1|x|19830705|20140630|+0200\n",
		       "hdr2:1: header record count 'x' is not a number");
}

/* A header's dates must be days of the calendar, the end not before the
 * start: the end date ranks the file against others of its registry. */
static void header_dates(void **state)
{
	(void)state;
	assert_refused("feb", "2|ripencc|1|0|19830705|20230231|+0200\n",
		       "feb:1: header dates '19830705', '20230231' are not");
	assert_refused("rev",
		       "2|ripencc|1|1|20140630|19830705|+0200\n"
		       "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
		       "rev:1: header end date 19830705 is before its start date 20140630");
	/* Leap days and one-day files are dates; an unknown start is not
	 * compared. */
	struct built *r = build_texts(0, "leap",
				      "2|ripencc|1|2|20240229|20240229|+0200\n"
				      "ripencc|DE|ipv4|10.0.0.0|256|20000229|allocated\n"
				      "ripencc|DE|ipv4|10.0.1.0|256|20240229|allocated\n",
				      "unknown", "2|apnic|1|0|00000000|20140630|+1000\n", NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 0);
	built_free(r);
}

/* A header names one of the five registries, or "nro" for the NRO's
 * combined file; a misspelled or unknown name gives up the file, which
 * would otherwise take part in no "newest file of a registry" choice. */
static void header_registry(void **state)
{
	(void)state;
	static const struct {
		const char *name, *reason;
	} bad[] = {
	    {"ripe",
	     "header registry 'ripe' is none of afrinic, apnic, arin, lacnic, ripencc, nro"},
	    {"unknown", "header registry 'unknown' is none of"},
	    {"ripenc", "header registry 'ripenc' is none of"},
	    {"iana", "IANA's statistics file is not read: give IANA's CSV registries"},
	};
	char text[256], want[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "2|%s|1|1|19830705|20140630|+0200\n"
			 "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
			 bad[i].name);
		snprintf(want, sizeof(want), "reg:1: %s", bad[i].reason);
		assert_refused("reg", text, want);
	}
	/* The NRO's file: records of several registries, each its own. */
	struct built *r = build_texts(0, "nro",
				      "2|nro|20230324|2|19821105|20230323|+0000\n"
				      "nro|*|ipv4|*|2|summary\n"
				      "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated|A1|e-stats\n"
				      "apnic|JP|ipv4|10.0.1.0|256|20100101|allocated|B2|e-stats\n",
				      NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 0);
	assert_int_equal(r->counts.notices, 0);
	assert_string_equal(rir_of(&r->db, "10.0.0.1"), "ripencc");
	assert_string_equal(rir_of(&r->db, "10.0.1.1"), "apnic");
	built_free(r);
}

/* A file given up on at its header takes no part in "the newest file of a
 * registry wins": it must not supersede a good file of that registry,
 * not even one whose end date is unknown. */
static void bad_header_supersedes_nothing(void **state)
{
	(void)state;
	struct built *r = build_texts(1, "good",
				      "2|ripencc|1|1|19830705||+0200\n"
				      "ripencc|DE|ipv4|10.0.0.0|256|20100101|allocated\n",
				      "broken", "2|ripencc|1|x|19830705|20140630|+0200\n", NULL);
	assert_non_null(r->m);
	assert_true(diag_has(r, "broken:1: header record count 'x' is not a number"));
	assert_false(diag_has(r, "superseded"));
	assert_cc(&r->db, "10.0.0.1", "DE");
	built_free(r);
}

/* A file refused at its header claims nothing from it in its input
 * record, which rirdb info shows: no serial, no dates, no registry, and
 * marked as refused, however far into the header the refusal came. */
static void refused_header_claims_no_dates(void **state)
{
	(void)state;
	static const char *const headers[] = {
	    "2|ripencc|1404165599|x|19830705|20140630|+0200\n", /* record count */
	    "2|ripencc|1404165599|1|19830705|20140631|+0200\n", /* end date */
	    "2|ripencc|1404165599|1|20140630|19830705|+0200\n", /* end before start */
	    "2|ripencc|1404165599|1|19830705|20140630\n",	/* six fields */
	    "2|ripe|1404165599|1|19830705|20140630|+0200\n",	/* registry */
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct built *r =
		    build_texts(1, "good", HDR "ripencc|DE|ipv4|10.0.0.0|256||allocated\n",
				"refused", headers[i], NULL);
		assert_non_null(r->m);
		assert_int_equal(r->counts.errors, 1);
		const struct rm_input *in = &r->db.inputs[1];
		assert_int_equal(in->unused, RM_REFUSED_HEADER);
		assert_string_equal(rm_input_unused_name(in->unused), "refused at its header");
		assert_int_equal(in->start_date, 0);
		assert_int_equal(in->end_date, 0);
		assert_string_equal(rm_str(&r->db, in->serial), "");
		assert_int_equal(in->rir, RM_RIR_UNKNOWN);
		assert_int_equal(in->records, 0);
		/* The accepted header's are kept (its file used, with records
		 * missing: the header counts 5). */
		assert_int_equal(r->db.inputs[0].unused, RM_USED_RECORDS_MISSING);
		assert_int_equal(r->db.inputs[0].end_date, 20140630);
		assert_string_equal(rm_str(&r->db, r->db.inputs[0].serial), "1404165599");
		built_free(r);
	}
}

static void overlap_within_a_file(void **state)
{
	(void)state;
	const char *t = HDR "ripencc|DE|ipv4|10.0.0.0|65536|20100101|allocated\n"
			    "ripencc|FR|ipv4|10.0.255.0|256|20100101|allocated\n"
			    "ripencc|NL|ipv6|2001:db8::|32|20100101|allocated\n"
			    "ripencc|NL|ipv6|2001:db8:1::|48|20100101|allocated\n"
			    "ripencc|EU|asn|10|5|20100101|allocated\n"
			    "ripencc|EU|asn|14|1|20100101|allocated\n";
	struct built *r = build_texts(0, "ov", t, NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "ov:3: overlaps the record at line 2"));
	assert_true(diag_has(r, "ov:5: overlaps the record at line 4"));
	assert_true(diag_has(r, "ov:7: overlaps the record at line 6"));
	built_free(r);
	/* Lenient keeps both and lets the later line win: nothing is skipped,
	 * and the report says which line wins rather than "(skipped)". */
	r = build_texts(1, "ov", t, NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 3);
	assert_int_equal(r->counts.skipped, 0);
	assert_true(diag_has(r, "ov:3: overlaps the record at line 2; line 3 wins\n"));
	assert_false(diag_has(r, "(skipped)"));
	assert_cc(&r->db, "10.0.255.1", "FR");
	assert_cc(&r->db, "10.0.254.1", "DE");
	built_free(r);
}

/* A file repeating one line n times (a broken download): each line is
 * reported against at most 64 others still open, not against every
 * earlier one (n^2 / 2 reports and comparisons), and the last line wins. */
static void repeated_line_bounded(void **state)
{
	(void)state;
	enum { N = 3000 };
	size_t cap = sizeof(HDR) + N * 64, off = 0;
	char *t = malloc(cap);
	off += (size_t)snprintf(t, cap, "%s", HDR);
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(t + off, cap - off,
					"ripencc|%s|ipv4|10.0.0.0|256|20100101|allocated\n",
					i + 1 < N ? "DE" : "FR");
	struct built *r = build_texts(1, "rep", t, NULL);
	free(t);
	assert_non_null(r->m);
	assert_true(r->counts.errors >= N - 1);
	assert_true(r->counts.errors <= 64u * N);
	assert_int_equal(r->counts.skipped, 0);
	assert_cc(&r->db, "10.0.0.1", "FR");
	built_free(r);
}

static void unknown_format_and_binary(void **state)
{
	(void)state;
	struct built *r = build_texts(1, "junk", "this is not registry data\n", NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "junk: unrecognized format"));
	built_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(standard_file),
	    cmocka_unit_test(extended_and_quirks),
	    cmocka_unit_test(summary_mismatch_is_reported),
	    cmocka_unit_test(summary_mismatch_says_why),
	    cmocka_unit_test(every_malformed_field),
	    cmocka_unit_test(bad_header),
	    cmocka_unit_test(header_dates),
	    cmocka_unit_test(header_registry),
	    cmocka_unit_test(bad_header_supersedes_nothing),
	    cmocka_unit_test(refused_header_claims_no_dates),
	    cmocka_unit_test(overlap_within_a_file),
	    cmocka_unit_test(repeated_line_bounded),
	    cmocka_unit_test(unknown_format_and_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
