/*
 * test_text.c - lines, fields, CSV records and address parsing.
 */
#include <arpa/inet.h>

#include "helpers.h"
#include "internal.h"
#include "md5.h"

static void lines_crlf_and_missing_newline(void **state)
{
	(void)state;
	const char *t = "\xEF\xBB\xBF"
			"a|b\r\n\nc\nlast";
	struct rl_lines l;
	struct rl_span s;
	rl_lines_init(&l, t, strlen(t));
	assert_true(rl_lines_next(&l, &s));
	assert_int_equal(l.lineno, 1);
	assert_true(rl_span_eq(s, "a|b"));
	assert_true(rl_lines_next(&l, &s));
	assert_int_equal(s.len, 0);
	assert_true(rl_lines_next(&l, &s));
	assert_true(rl_span_eq(s, "c"));
	assert_true(rl_lines_next(&l, &s));
	assert_true(rl_span_eq(s, "last"));
	assert_int_equal(l.lineno, 4);
	assert_false(rl_lines_next(&l, &s));
}

static void split_counts_all_fields(void **state)
{
	(void)state;
	struct rl_span f[4];
	struct rl_span line = {"a||c|d|e", 8};
	assert_int_equal(rl_split(line, '|', f, 4), 5);
	assert_true(rl_span_eq(f[0], "a"));
	assert_int_equal(f[1].len, 0);
	assert_true(rl_span_eq(f[3], "d"));
}

static void csv_quoted_fields(void **state)
{
	(void)state;
	const char *t = "h1,h2,h3\r\n"
			"\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
			"\n"
			"x,,z";
	struct rl_csv c;
	struct rl_span f[RL_CSV_MAX_FIELDS];
	unsigned nf, line;
	const char *why;
	rl_csv_init(&c, t, strlen(t));
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), 1);
	assert_int_equal(nf, 3);
	assert_int_equal(line, 1);
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), 1);
	assert_int_equal(line, 2);
	assert_int_equal(nf, 3);
	assert_true(rl_span_eq(f[0], "a,b"));
	assert_true(rl_span_eq(f[1], "say \"hi\""));
	assert_true(rl_span_eq(f[2], "two\nlines"));
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), 1);
	assert_int_equal(line, 5); /* the embedded newline and the blank line count */
	assert_int_equal(nf, 3);
	assert_int_equal(f[1].len, 0);
	assert_true(rl_span_eq(f[2], "z"));
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), 0);
	rl_csv_free(&c);
}

static void csv_malformed(void **state)
{
	(void)state;
	struct {
		const char *text, *why;
	} cases[] = {
	    {"a,\"open\n", "unterminated quoted field"},
	    {"\"x\"y,b\n", "text after a closing quote"},
	    {"ab\"c,d\n", "quote inside an unquoted field"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rl_csv c;
		struct rl_span f[RL_CSV_MAX_FIELDS];
		unsigned nf, line;
		const char *why = NULL;
		rl_csv_init(&c, cases[i].text, strlen(cases[i].text));
		assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), -1);
		assert_string_equal(why, cases[i].why);
		rl_csv_free(&c);
	}
	/* After a bad record the reader goes on at the next line. */
	const char *t = "\"x\"y,b\nok,1\n";
	struct rl_csv c;
	struct rl_span f[RL_CSV_MAX_FIELDS];
	unsigned nf, line;
	const char *why;
	rl_csv_init(&c, t, strlen(t));
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), -1);
	assert_int_equal(rl_csv_next(&c, f, &nf, &line, &why), 1);
	assert_int_equal(line, 2);
	assert_true(rl_span_eq(f[0], "ok"));
	rl_csv_free(&c);
}

static void parse_ipv4(void **state)
{
	(void)state;
	uint32_t a;
	assert_int_equal(rl_parse_v4("193.0.6.139", 11, &a), 0);
	assert_int_equal(a, 0xC100068Bu);
	assert_int_equal(rl_parse_v4("0.0.0.0", 7, &a), 0);
	assert_int_equal(a, 0);
	const char *bad[] = {"",	 "1.2.3",   "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
			     "1.2.3.4 ", "a.b.c.d", "1..2.3",	 "-1.2.3.4"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rl_parse_v4(bad[i], strlen(bad[i]), &a), -1);
}

static void parse_ipv6(void **state)
{
	(void)state;
	rm_u128 v;
	assert_int_equal(rl_parse_v6("2001:db8::1", 11, &v), 0);
	assert_true(v == (((rm_u128)0x20010db800000000ull << 64) | 1));
	assert_int_equal(rl_parse_v6("::ffff:192.0.2.1", 16, &v), 0);
	assert_true(v == (((rm_u128)0xffff << 32) | 0xC0000201u));
	const char *bad[] = {"", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "g::1", "2001:db8::1/32"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rl_parse_v6(bad[i], strlen(bad[i]), &v), -1);
}

/* A string near the address forms: a formatted address, cut, spliced or
 * with characters replaced, or random characters of the address alphabet. */
static size_t near_address(char *out, size_t cap, uint64_t *seed)
{
	static const char alpha[] = "0123456789abcdefABCDEF:.:.g%0";
	uint64_t r = (*seed = *seed * 6364136223846793005ull + 1442695040888963407ull);
	char tmp[64];
	size_t n;
	if (r % 3 == 0) { /* random characters */
		n = (r >> 8) % 48;
		for (size_t i = 0; i < n; i++) {
			*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
			tmp[i] = alpha[(*seed >> 33) % (sizeof(alpha) - 1)];
		}
	} else { /* a real address in some form, then damaged a little */
		uint8_t b[16];
		for (int i = 0; i < 16; i++)
			b[i] = (uint8_t)((r >> (i * 4)) % ((r >> 60) % 3 == 0 ? 3 : 256));
		if (r % 5 == 0)
			memcpy(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		if (r % 7 == 0)
			inet_ntop(AF_INET, b + 12, tmp, sizeof(tmp));
		else
			inet_ntop(AF_INET6, b, tmp, sizeof(tmp));
		n = strlen(tmp);
		uint64_t m = r >> 20;
		for (int k = 0; k < (int)(m % 3) && n; k++, m >>= 8) {
			size_t at = (m >> 2) % n;
			switch ((m >> 6) % 4) {
			case 0:
				tmp[at] = alpha[(m >> 3) % (sizeof(alpha) - 1)];
				break;
			case 1: /* cut */
				n = at;
				break;
			case 2: /* a character more */
				if (n + 1 < sizeof(tmp)) {
					memmove(tmp + at + 1, tmp + at, n - at);
					tmp[at] = alpha[(m >> 3) % (sizeof(alpha) - 1)];
					n++;
				}
				break;
			default: /* leading zeros */
				if (n + 1 < sizeof(tmp)) {
					memmove(tmp + at + 1, tmp + at, n - at);
					tmp[at] = '0';
					n++;
				}
			}
		}
	}
	n = n < cap - 1 ? n : cap - 1;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return n;
}

/* The parsers promise inet_pton's answers, on every string. */
static void parse_matches_inet_pton(void **state)
{
	(void)state;
	uint64_t seed = 42;
	char s[64];
	unsigned ok4 = 0, ok6 = 0;
	for (int i = 0; i < 2000000; i++) {
		size_t n = near_address(s, sizeof(s), &seed);
		uint8_t want[16], got[16];
		uint32_t v4;
		int w6 = inet_pton(AF_INET6, s, want) == 1;
		int g6 = rl_parse_v6_bytes(s, n, got) == 0;
		if (w6 != g6 || (w6 && memcmp(want, got, 16) != 0))
			fail_msg("IPv6 \"%s\": inet_pton %d, rl_parse_v6_bytes %d", s, w6, g6);
		int w4 = inet_pton(AF_INET, s, want) == 1;
		int g4 = rl_parse_v4(s, n, &v4) == 0;
		if (w4 != g4 || (w4 && v4 != ((uint32_t)want[0] << 24 | (uint32_t)want[1] << 16 |
					      (uint32_t)want[2] << 8 | want[3])))
			fail_msg("IPv4 \"%s\": inet_pton %d, rl_parse_v4 %d", s, w4, g4);
		ok4 += w4;
		ok6 += w6;
	}
	print_message("valid: %u IPv4, %u IPv6 of 2000000\n", ok4, ok6);
	/* The generator reaches both answers often enough to mean something. */
	assert_true(ok4 > 50000 && ok6 > 400000);
}

static void parse_prefixes(void **state)
{
	(void)state;
	unsigned fam, plen;
	rm_u128 a, z;
	const char *why;
	assert_int_equal(rl_parse_prefix("10.0.0.0/8", 10, &fam, &a, &z, &plen, &why), 0);
	assert_int_equal(fam, RM_V4);
	assert_true(a == 0x0A000000u && z == 0x0AFFFFFFu && plen == 8);
	assert_int_equal(rl_parse_prefix("0.0.0.0/0", 9, &fam, &a, &z, &plen, &why), 0);
	assert_true(a == 0 && z == 0xFFFFFFFFu);
	assert_int_equal(rl_parse_prefix("2001:db8::/32", 13, &fam, &a, &z, &plen, &why), 0);
	assert_int_equal(fam, RM_V6);
	assert_int_equal(rl_parse_prefix("::/0", 4, &fam, &a, &z, &plen, &why), 0);
	assert_true(a == 0 && z == ~(rm_u128)0);
	assert_int_equal(rl_parse_prefix("10.0.0.1/8", 10, &fam, &a, &z, &plen, &why), -1);
	assert_string_equal(why, "host bits set below the prefix length");
	assert_int_equal(rl_parse_prefix("10.0.0.0/33", 11, &fam, &a, &z, &plen, &why), -1);
	assert_string_equal(why, "bad prefix length");
	assert_int_equal(rl_parse_prefix("10.0.0.0", 8, &fam, &a, &z, &plen, &why), -1);
	assert_int_equal(rl_parse_prefix("10.0.0.0/", 9, &fam, &a, &z, &plen, &why), -1);
	assert_int_equal(rl_parse_prefix("2001:db8::/129", 14, &fam, &a, &z, &plen, &why), -1);
}

static void parse_asns(void **state)
{
	(void)state;
	uint32_t a;
	assert_int_equal(rl_parse_asn("AS3333", 6, &a), 0);
	assert_int_equal(a, 3333);
	assert_int_equal(rl_parse_asn("as15169", 7, &a), 0);
	assert_int_equal(a, 15169);
	assert_int_equal(rl_parse_asn("4294967295", 10, &a), 0);
	assert_int_equal(a, 4294967295u);
	assert_int_equal(rl_parse_asn("1.10", 4, &a), 0);
	assert_int_equal(a, 65546);
	const char *bad[] = {"", "AS", "4294967296", "AS-1", "12a", "1.65536"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rl_parse_asn(bad[i], strlen(bad[i]), &a), -1);
}

static void detect_formats(void **state)
{
	(void)state;
	struct {
		const char *text;
		int kind;
	} cases[] = {
	    {"# comment\n2|apnic|20140701|0|19850701|20140630|+1000\n", RM_IN_STATS},
	    {"2.3|ripencc|1404165599|0|19830705|20140630|+0200\n", RM_IN_STATS},
	    {"Prefix,Designation,Date,WHOIS,RDAP,Status [1],Note\n000/8,IANA,,,,RESERVED,\n",
	     RM_IN_IANA_V4},
	    {"Prefix,Designation,Date,WHOIS,RDAP,Status,Note\n2001:0200::/23,APNIC,,,,ALLOCATED,\n",
	     RM_IN_IANA_V6},
	    {"Address Block,Name,RFC\n10.0.0.0/8,Private-Use,[RFC1918]\n", RM_IN_SPECIAL_V4},
	    {"Address Block,Name,RFC\nfc00::/7,Unique-Local,[RFC4193]\n", RM_IN_SPECIAL_V6},
	    {"AS Number,Reason for Reservation,Reference\n0,Reserved,[RFC7607]\n",
	     RM_IN_SPECIAL_ASN},
	    {"registry,holder_id,name\nafrinic,F36B9F4B,Example\n", RM_IN_HOLDERS_CSV},
	    {"prefix,label\n10.0.0.0/8,office\n", RM_IN_LABELS},
	    {"192.0.2.0/24,customer-a\n", RM_IN_LABELS},
	    {"% RIPE dump\n\norganisation:   ORG-EX1-RIPE\norg-name:       Example\n",
	     RM_IN_HOLDERS_RPSL},
	    {"hello world\n", -1},
	    {"", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(rl_detect(cases[i].text, strlen(cases[i].text)), cases[i].kind);
	assert_int_equal(rl_detect("2|apnic\0|x", 10), -1); /* binary */
}

static void md5_known_answers(void **state)
{
	(void)state;
	static const struct {
		const char *in, *hex;
	} v[] = {
	    {"", "d41d8cd98f00b204e9800998ecf8427e"},
	    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
	    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
	    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	     "57edf4a22be3c955ac49da2e2107b67a"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rm_md5 s;
		uint8_t d[16];
		char hex[33];
		rm_md5_init(&s);
		/* Fed in uneven pieces, to cross block boundaries. */
		size_t n = strlen(v[i].in);
		for (size_t off = 0; off < n; off += 7)
			rm_md5_update(&s, v[i].in + off, n - off < 7 ? n - off : 7);
		rm_md5_final(&s, d);
		for (int k = 0; k < 16; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		assert_string_equal(hex, v[i].hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lines_crlf_and_missing_newline),
	    cmocka_unit_test(split_counts_all_fields),
	    cmocka_unit_test(csv_quoted_fields),
	    cmocka_unit_test(csv_malformed),
	    cmocka_unit_test(parse_ipv4),
	    cmocka_unit_test(parse_ipv6),
	    cmocka_unit_test(parse_matches_inet_pton),
	    cmocka_unit_test(parse_prefixes),
	    cmocka_unit_test(parse_asns),
	    cmocka_unit_test(detect_formats),
	    cmocka_unit_test(md5_known_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
