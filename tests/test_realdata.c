/*
 * test_realdata.c - the bundled registry files: answers checked by hand
 * against the files, and every record of every file in use checked at its
 * first and last address.
 */
#include "helpers.h"

static struct built *real;

static const char *const stats_files[] = {
    "rir/delegated-afrinic-extended-20230323",
    "rir/delegated-afrinic-20140630",
    "rir/delegated-apnic-20140701",
    "rir/delegated-lacnic-20140627",
    "rir/delegated-ripencc-20140630",
};
static const char *const iana_files[] = {
    "iana/ipv4-address-space.csv",
    "iana/ipv6-unicast-address-assignments.csv",
    "iana/iana-ipv4-special-registry.csv",
    "iana/iana-ipv6-special-registry.csv",
    "iana/iana-as-numbers-special-registry.csv",
    "iana/multicast-ipv4-special.csv",
    "iana/multicast-ipv6-special.csv",
};

static int setup(void **state)
{
	(void)state;
	const char *files[13];
	int n = 0;
	for (size_t i = 0; i < 5; i++)
		files[n++] = stats_files[i];
	for (size_t i = 0; i < 7; i++)
		files[n++] = iana_files[i];
	files[n] = NULL;
	real = build_data(files);
	return real->m ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	built_free(real);
	return 0;
}

static void hand_checked_answers(void **state)
{
	(void)state;
	const struct rm_db *db = &real->db;
	static const struct {
		const char *q, *rir, *cc, *status, *holder;
	} want[] = {
	    /* delegated-ripencc-20140630:18367 ripencc|NL|ipv4|193.0.0.0|4096|19930901|allocated */
	    {"193.0.6.139", "ripencc", "NL", "allocated", ""},
	    /* delegated-afrinic-extended-20230323:3331 ...|41.0.0.0|2097152|...|F364712F */
	    {"41.0.0.1", "afrinic", "ZA", "allocated", "F364712F"},
	    {"41.31.255.255", "afrinic", "ZA", "allocated", "F364712F"},
	    /* non-power-of-two: 164.146.0.0|393216 (a /15 and a /14), line 5572 */
	    {"164.151.255.255", "afrinic", "ZA", "allocated", "F363E51A"},
	    /* delegated-apnic-20140701:5788 apnic|AU|ipv4|1.1.1.0|256|20110811|assigned */
	    {"1.1.1.1", "apnic", "AU", "assigned", ""},
	    /* delegated-lacnic-20140627:7584 lacnic|BR|ipv4|200.160.0.0|4096|...|assigned */
	    {"200.160.0.1", "lacnic", "BR", "assigned", ""},
	    /* no ARIN file: IANA 008/8 "Administered by ARIN", LEGACY */
	    {"8.8.8.8", "arin", "", "legacy", ""},
	    {"23.1.2.3", "arin", "", "designated", ""},
	    /* delegated-ripencc-20140630:84119 ripencc|NL|ipv6|2001:67c:2e8::|48 */
	    {"2001:67c:2e8::1", "ripencc", "NL", "assigned", ""},
	    /* delegated-afrinic-extended-20230323:13305 ...|2c0f:f000::|32|...|F363DDF3 */
	    {"2c0f:f000::1", "afrinic", "DZ", "allocated", "F363DDF3"},
	    {"2600::1", "arin", "", "designated", ""},
	    {"2001:db8::1", "iana", "", "special", "Documentation"},
	    {"10.1.2.3", "iana", "", "special", "Private-Use"},
	    {"100.64.0.1", "iana", "", "special", "Shared Address Space"},
	    {"224.0.0.251", "iana", "", "special", "Multicast"},
	    {"ff02::fb", "iana", "", "special", "Multicast"},
	    {"240.0.0.1", "iana", "", "special", "Reserved"},
	    {"3000::1", "iana", "", "reserved", "IANA"},
	    {"4000::1", "unknown", "", "unknown", ""},
	    /* delegated-ripencc-20140630:50955 ripencc|EU|asn|3333|1|19940519|allocated */
	    {"AS3333", "ripencc", "EU", "allocated", ""},
	    /* delegated-apnic-20140701:122 apnic|AU|asn|4608|1|19950530|allocated */
	    {"AS4608", "apnic", "AU", "allocated", ""},
	    /* delegated-afrinic-extended-20230323:395 afrinic|ZZ|asn|37000|1||available| */
	    {"AS37000", "afrinic", "ZZ", "available", ""},
	    {"AS64512", "iana", "", "special", "For private use; reserved by [RFC6996]"},
	    {"AS15169", "unknown", "", "unknown", ""},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char cc[3];
		cc_of(db, want[i].q, cc);
		if (strcmp(rir_of(db, want[i].q), want[i].rir) || strcmp(cc, want[i].cc) ||
		    strcmp(status_of(db, want[i].q), want[i].status) ||
		    strcmp(holder_of(db, want[i].q), want[i].holder))
			fail_msg("%s: got %s/%s/%s/%s, want %s/%s/%s/%s", want[i].q,
				 rir_of(db, want[i].q), cc, status_of(db, want[i].q),
				 holder_of(db, want[i].q), want[i].rir, want[i].cc, want[i].status,
				 want[i].holder);
	}
	assert_int_equal(real->db.inputs[1].unused, RM_SUPERSEDED); /* AFRINIC 2014 */
	assert_int_equal(real->counts.errors, 0);
}

/*
 * Every record of the files in use, read here with sscanf (independently of
 * the loaders), must come back at its first and last address with its own
 * registry and country, unless IANA special-purpose space covers it.
 */
static void every_record_at_both_ends(void **state)
{
	(void)state;
	const struct rm_db *db = &real->db;
	unsigned checked = 0;
	for (size_t fi = 0; fi < 5; fi++) {
		if (fi == 1)
			continue; /* superseded */
		char *text = read_data(stats_files[fi]);
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char reg[16], cc[8] = "", type[8], start[64];
			unsigned long long value;
			if (line[0] == '#' || strstr(line, "|summary"))
				continue;
			char *p = strchr(line, '|');
			if (!p || strchr(line, '|') == strrchr(line, '|'))
				continue;
			if (p[1] == '|') /* empty country */
				sscanf(line, "%15[^|]||%7[^|]|%63[^|]|%llu", reg, type, start,
				       &value);
			else if (sscanf(line, "%15[^|]|%7[^|]|%7[^|]|%63[^|]|%llu", reg, cc, type,
					start, &value) != 5)
				continue;
			if (strlen(cc) != 2 && cc[0])
				continue; /* the header line */
			char first[80], last[80];
			if (strcmp(type, "ipv4") == 0) {
				uint32_t a;
				assert_int_equal(rl_parse_v4(start, strlen(start), &a), 0);
				uint32_t z = (uint32_t)(a + value - 1);
				snprintf(first, sizeof(first), "%s", start);
				snprintf(last, sizeof(last), "%u.%u.%u.%u", z >> 24, z >> 16 & 255,
					 z >> 8 & 255, z & 255);
			} else if (strcmp(type, "asn") == 0) {
				snprintf(first, sizeof(first), "AS%s", start);
				snprintf(last, sizeof(last), "AS%llu",
					 strtoull(start, NULL, 10) + value - 1);
			} else {
				rm_u128 a;
				assert_int_equal(rl_parse_v6(start, strlen(start), &a), 0);
				rm_u128 host =
				    value == 0 ? ~(rm_u128)0 : ((rm_u128)1 << (128 - value)) - 1;
				snprintf(first, sizeof(first), "%s", start);
				rm_format_key(RM_V6, a | host, last);
			}
			const char *ends[2] = {first, last};
			for (int e = 0; e < 2; e++) {
				const struct rm_attr *a = attr_of(db, ends[e]);
				if (a->rir == RM_RIR_IANA && a->status == RM_ST_SPECIAL)
					continue;
				if (strcmp(rm_rir_name(a->rir), reg) || a->cc[0] != cc[0] ||
				    a->cc[1] != cc[1])
					fail_msg("%s line '%s': %s gives %s/%.2s", stats_files[fi],
						 line, ends[e], rm_rir_name(a->rir), a->cc);
				checked++;
			}
		}
		free(text);
	}
	assert_true(checked > 250000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hand_checked_answers),
	    cmocka_unit_test(every_record_at_both_ends),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
