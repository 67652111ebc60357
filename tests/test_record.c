/*
 * test_record.c - common/record.c's JSON reader, the one `rirdb report`
 * reads rirmeter's lines with: what it takes, and what it refuses with a
 * reason instead of turning into counts (nan, negative numbers, fractions,
 * more than 64 bits) or reading past the line (a \u escape cut short).
 * Lines are copied into heap blocks of exactly their length, so that a
 * sanitized build sees any read past the NUL; the escapes cut short at the
 * line's end are placed before an unreadable page, so that even a plain
 * build crashes on one (the old sscanf("%4x") reading did).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "record.h"

/* rm_record_read_json on an exact-size copy of line; its return value. */
static int read_line(const char *line, struct rm_record_buf *b)
{
	size_t n = strlen(line) + 1;
	char *copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, line, n);
	int rc = rm_record_read_json(copy, b);
	free(copy);
	return rc;
}

static void reads_rirmeter_line(void **state)
{
	(void)state;
	struct rm_record_buf b;
	assert_int_equal(read_line("{\"ts\":\"2026-11-28T10:00:00Z\",\"interval\":0.4,"
				   "\"snapshot\":\"a1\",\"scope\":\"rir\",\"dir\":\"src\",\"key\":"
				   "\"ripencc\",\"packets\":18446744073709551615,\"bytes\":0}\n",
				   &b),
			 0);
	assert_string_equal(b.r.interval, "0.4");
	assert_string_equal(b.r.key, "ripencc");
	assert_true(b.r.packets == UINT64_MAX);
	assert_true(b.r.has & RM_FIELD(RM_F_BYTES));
	assert_int_equal(read_line(" { } ", &b), 0);
	assert_int_equal(read_line("{\"other\":-1.5e-3,\"key\":\"a\\u0041\\u00e9\"}", &b), 0);
	assert_string_equal(b.r.key, "aA\xc3\xa9");
	assert_int_equal(read_line("{\"interval\":\"total\",\"packets\":\"7\"}", &b), 0);
	assert_string_equal(b.r.interval, "total");
	assert_false(b.r.has & RM_FIELD(RM_F_PACKETS)); /* a string is passed over */
}

/* Every short escape of JSON (RFC 8259 7) is taken: jq and Python write a
 * control character that rirmeter wrote as \u000d back as \r. */
static void reads_short_escapes(void **state)
{
	(void)state;
	struct rm_record_buf b;
	assert_int_equal(read_line("{\"key\":\"a\\rb\\bc\\fd\\ne\\tf\\/\\\"\\\\\"}", &b), 0);
	assert_string_equal(b.r.key, "a\rb\bc\fd\ne\tf/\"\\");
}

/* \u escapes are characters, as Python's json.dumps writes every non-ASCII
 * one: a pair of surrogates one character, a lone surrogate or \u0000 (which
 * would end the text) U+FFFD; a cut keeps whole characters. */
static void reads_unicode_escapes(void **state)
{
	(void)state;
	struct rm_record_buf b;
	assert_int_equal(read_line("{\"name\":\"Caf\\u00e9 \\u20ac \\ud83d\\ude00\"}", &b), 0);
	assert_string_equal(b.r.name, "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_int_equal(read_line("{\"name\":\"a\\ud800b\\udc00c\\u0000d\"}", &b), 0);
	assert_string_equal(b.r.name, "a\xef\xbf\xbd"
				      "b\xef\xbf\xbd"
				      "c\xef\xbf\xbd"
				      "d");
	char line[1400] = "{\"key\":\"";
	for (int i = 0; i < 200; i++)
		strcat(line, "\\u00e9");
	strcat(line, "\"}");
	assert_int_equal(read_line(line, &b), 0);
	assert_true(strlen(b.r.key) == RM_RECORD_TEXT_MAX - 2); /* whole characters */
}

static void refuses_bad_counts(void **state)
{
	(void)state;
	static const struct {
		const char *line, *why;
	} cases[] = {
	    {"{\"scope\":\"rir\",\"packets\":nan}", "packets: not a string or a JSON number"},
	    {"{\"bytes\":NaN}", "bytes: not a string or a JSON number"},
	    {"{\"bytes\":inf}", "bytes: not a string or a JSON number"},
	    {"{\"bytes\":0x10}", "expected ',' or '}' after a value"},
	    {"{\"bytes\":+1}", "bytes: not a string or a JSON number"},
	    {"{\"packets\":-5}", "packets: '-5' is not a whole number"},
	    {"{\"packets\":2.5}", "packets: '2.5' is not a whole number"},
	    {"{\"packets\":1e3}", "packets: '1e3' is not a whole number"},
	    {"{\"count\":18446744073709551616}", "count: 18446744073709551616 is out of range"},
	    {"{\"count\":123456789012345678901234567890}", "count: '12345678901234567890...' is"},
	    {"{\"interval\":nan}", "interval: not a string or a JSON number"},
	    {"{\"interval\":1.}", "interval: not a string or a JSON number"},
	    {"{\"a\\u001b[2J\":x}", "a?[2J: not a string or a JSON number"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rm_record_buf b;
		assert_int_equal(read_line(cases[i].line, &b), -1);
		if (strncmp(b.why, cases[i].why, strlen(cases[i].why)) != 0)
			fail_msg("%s: why '%s', wanted '%s'", cases[i].line, b.why, cases[i].why);
	}
}

static void refuses_bad_objects(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    "",
	    "[1]",
	    "{",
	    "{\"a\":1",
	    "{\"a\":1,}",
	    "{\"a\":1 \"b\":2}",
	    "{\"a\":1} x",
	    "{\"a\" 1}",
	    "{\"a\":true}",
	    "{\"key\":\"abc",
	    "{\"key\":\"ab\\",
	    "{\"key\":\"\\u12",	   /* \u cut short at the line's end */
	    "{\"key\":\"\\u12\"}", /* and inside the string */
	    "{\"key\":\"\\x\"}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct rm_record_buf b;
		if (read_line(lines[i], &b) != -1 || !b.why[0])
			fail_msg("taken, or no reason: '%s'", lines[i]);
	}
}

/*
 * rm_record_read_json on line placed so that its NUL is the last byte
 * before a page that may not be read: a read past the line is a SIGSEGV
 * here even without a sanitizer.
 */
static int read_at_guard(const char *line, struct rm_record_buf *b)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = strlen(line) + 1;
	assert_true(n <= (size_t)page);
	char *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + page, (size_t)page, PROT_NONE), 0);
	memcpy(p + page - n, line, n);
	int rc = rm_record_read_json(p + page - n, b);
	munmap(p, 2 * (size_t)page);
	return rc;
}

/* The line from issue #32: 119 bytes ending in a \u escape with fewer
 * than four hex digits, which the reader read past (heap-buffer-overflow
 * under ASan); and the other escapes cut short at the end. */
static void short_unicode_escape_at_end(void **state)
{
	(void)state;
	char line[120];
	memset(line, 'a', sizeof(line));
	static const char head[] = "{\"scope\":\"rir\",\"key\":\"";
	memcpy(line, head, sizeof(head) - 1);
	memcpy(line + 119 - 4, "\\u0", 3);
	line[118] = '0';
	line[119] = '\0';
	struct rm_record_buf b;
	assert_int_equal(strlen(line), 119);
	assert_int_equal(read_at_guard(line, &b), -1);
	static const char *const tails[] = {"\\u", "\\u0", "\\u00", "\\u004", "\\"};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		char l[64];
		snprintf(l, sizeof(l), "{\"key\":\"x%s", tails[i]);
		assert_int_equal(read_at_guard(l, &b), -1);
	}
	assert_int_equal(read_at_guard("{\"key\":\"\\u0041\"}", &b), 0);
	assert_string_equal(b.r.key, "A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_rirmeter_line),	   cmocka_unit_test(reads_short_escapes),
	    cmocka_unit_test(refuses_bad_counts),	   cmocka_unit_test(refuses_bad_objects),
	    cmocka_unit_test(short_unicode_escape_at_end), cmocka_unit_test(reads_unicode_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
