/*
 * test_merge.c - precedence between sources, holder names, labels, and a
 * randomized comparison of the sweep against a direct per-address oracle.
 */
#include "helpers.h"

static const char iana_v4[] =
    "Prefix,Designation,Date,WHOIS,RDAP,Status [1],Note\n"
    "010/8,IANA - Private Use,1995-06,,,RESERVED,\n"
    "041/8,AFRINIC,2005-04,whois.afrinic.net,\"https://rdap.afrinic.net/rdap/\nhttp://x/\","
    "ALLOCATED,\n"
    "006/8,Army Information Systems Center,1994-02,whois.arin.net,,LEGACY,\n"
    "025/8,Administered by RIPE NCC,1995-01,whois.ripe.net,,LEGACY,\n";

static const char special_v4[] = "Address Block,Name,RFC\n"
				 "10.0.0.0/8,Private-Use,[RFC1918]\n"
				 "41.1.2.0/24 [9],Made-up Special,[RFC0]\n";

#define RIPE_2014    "2|ripencc|1|2|19830705|20140630|+0200\n"
#define AFRINIC_2023 "2|afrinic|1|2|00000000|20230323|00000\n"
#define AFRINIC_2014 "2|afrinic|1|1|00000000|20140630|00000\n"

static void registry_beats_iana_and_legacy_falls_back(void **state)
{
	(void)state;
	struct built *r =
	    build_texts(0, "iana", iana_v4, "ripe",
			RIPE_2014 "ripencc|ZA|ipv4|41.200.0.0|65536|20100101|allocated\n"
				  "ripencc|GB|ipv4|25.0.0.0|256|20100101|assigned\n",
			NULL);
	assert_non_null(r->m);
	/* A transfer: RIPE's record inside AFRINIC's /8 wins over IANA. */
	assert_string_equal(rir_of(&r->db, "41.200.1.1"), "ripencc");
	assert_string_equal(rir_of(&r->db, "41.199.255.255"), "afrinic");
	assert_string_equal(status_of(&r->db, "41.199.255.255"), "designated");
	/* Legacy space: the WHOIS column names the registry. */
	assert_string_equal(rir_of(&r->db, "6.1.2.3"), "arin");
	assert_string_equal(status_of(&r->db, "6.1.2.3"), "legacy");
	assert_string_equal(holder_of(&r->db, "6.1.2.3"), "Army Information Systems Center");
	assert_string_equal(rir_of(&r->db, "25.0.1.0"), "ripencc");
	assert_string_equal(holder_of(&r->db, "25.0.1.0"), "");
	assert_string_equal(status_of(&r->db, "25.0.0.1"), "assigned");
	assert_string_equal(rir_of(&r->db, "10.0.0.1"), "iana");
	assert_string_equal(status_of(&r->db, "10.0.0.1"), "reserved");
	assert_string_equal(rir_of(&r->db, "11.0.0.1"), "unknown");
	assert_int_equal(r->db.v4.id[rm_ref_find4(&r->db, 0x0B000001u)], 0);
	built_free(r);
}

static void special_beats_registry(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "iana", iana_v4, "special", special_v4, "afrinic",
	    AFRINIC_2023 "afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F1\n", NULL);
	assert_non_null(r->m);
	assert_string_equal(rir_of(&r->db, "41.1.2.3"), "iana");
	assert_string_equal(status_of(&r->db, "41.1.2.3"), "special");
	assert_string_equal(holder_of(&r->db, "41.1.2.3"), "Made-up Special");
	assert_string_equal(rir_of(&r->db, "41.1.3.0"), "afrinic");
	assert_string_equal(rir_of(&r->db, "41.1.1.255"), "afrinic");
	assert_string_equal(status_of(&r->db, "10.9.9.9"), "special");
	built_free(r);
}

/* AS ranges nest like prefixes: the smaller range wins inside the larger
 * one, even when both are of nearly the same size and the larger comes
 * later. */
static void special_asn_most_specific_wins(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "special-asn",
				      "AS Number,Reason for Reservation,RFC\n"
				      "0-16,Inner,[RFC0]\n"
				      "0-23,Outer,[RFC0]\n",
				      NULL);
	assert_non_null(r->m);
	assert_string_equal(holder_of(&r->db, "AS5"), "Inner");
	assert_string_equal(holder_of(&r->db, "AS16"), "Inner");
	assert_string_equal(holder_of(&r->db, "AS17"), "Outer");
	built_free(r);
	/* Ranges that overlap without nesting have no most specific one. */
	r = build_texts(0, "partial",
			"AS Number,Reason for Reservation,RFC\n"
			"0-20,A,[RFC0]\n"
			"10-30,B,[RFC0]\n",
			NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "partial:3: overlaps the record at line 2"));
	built_free(r);
	/* Between files the report says why the winner won: not by a date. */
	r = build_texts(0, "a", "AS Number,Reason for Reservation,RFC\n0-20,A,[RFC0]\n", "b",
			"AS Number,Reason for Reservation,RFC\n10-25,B,[RFC0]\n", NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.conflicts, 1);
	assert_true(diag_has(r, "b:2: overlaps a:2 (iana vs iana); b:2 wins as the smaller range"));
	built_free(r);
}

/* Two special-purpose rows of one extent: which name wins is not for the
 * row order to decide silently. */
static void special_rows_repeating_an_extent_are_reported(void **state)
{
	(void)state;
	struct built *r = build_texts(0, "sp",
				      "Address Block,Name,RFC\n"
				      "10.0.0.0/8,Private-Use,[RFC1918]\n"
				      "10.0.0.0/8,Something Else,[RFC0]\n",
				      NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "sp:3: overlaps the record at line 2"));
	built_free(r);
}

static void newer_file_wins_between_registries(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "ripe", RIPE_2014 "ripencc|EG|ipv4|41.64.0.0|65536|20100101|allocated\n", "afrinic",
	    AFRINIC_2023 "afrinic|EG|ipv4|41.64.128.0|256|20200101|allocated|F9\n", NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.conflicts, 1);
	assert_true(diag_has(r, "afrinic:2: overlaps ripe:2 (afrinic vs ripencc); afrinic:2 wins "
				"as the newer file"));
	assert_string_equal(rir_of(&r->db, "41.64.128.7"), "afrinic");
	assert_string_equal(rir_of(&r->db, "41.64.127.255"), "ripencc");
	assert_string_equal(rir_of(&r->db, "41.64.129.0"), "ripencc");
	built_free(r);
}

/* Files of one end date: the later input wins, and the report says so
 * rather than calling it the newer file. */
static void same_date_conflict_names_its_reason(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "ripe", RIPE_2014 "ripencc|EG|ipv4|41.64.0.0|65536|20100101|allocated\n", "afrinic",
	    "2|afrinic|1|1|00000000|20140630|00000\n"
	    "afrinic|EG|ipv4|41.64.128.0|256|20100101|allocated|F9\n",
	    NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.conflicts, 1);
	assert_true(diag_has(r, "afrinic:2: overlaps ripe:2 (afrinic vs ripencc); afrinic:2 wins "
				"as the later input of the same date"));
	assert_string_equal(rir_of(&r->db, "41.64.128.7"), "afrinic");
	built_free(r);
}

/* Two records that overlap each other inside a third, wider one: every
 * pair is a conflict, not only each record against the widest. */
static void every_overlapping_pair_is_reported(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "ripe", RIPE_2014 "ripencc|EG|ipv4|41.0.0.0|65536|20100101|allocated\n", "afrinic",
	    AFRINIC_2023 "afrinic|EG|ipv4|41.0.1.0|512|20200101|allocated|F9\n", "arin",
	    "2|arin|1|1|00000000|20200101|-0500\n"
	    "arin|US|ipv4|41.0.2.0|256|20200101|allocated\n",
	    NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.conflicts, 3);
	assert_true(diag_has(r, "arin:2: overlaps afrinic:2 (arin vs afrinic); afrinic:2 wins "
				"as the newer file"));
	assert_string_equal(rir_of(&r->db, "41.0.2.1"), "afrinic");
	built_free(r);
}

static void newest_file_of_a_registry_replaces_older(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "new",
	    "2|afrinic|1|1|00000000|20230323|00000\n"
	    "afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n",
	    "old", AFRINIC_2014 "afrinic|NG|ipv4|41.0.0.0|512|20071126|allocated\n", NULL);
	assert_non_null(r->m);
	assert_true(diag_has(r, "old: superseded by the newer afrinic file new"));
	assert_int_equal(r->counts.conflicts, 0);
	assert_cc(&r->db, "41.0.0.1", "ZA");
	/* What only the older file had is gone, not silently kept. */
	assert_string_equal(rir_of(&r->db, "41.0.1.1"), "unknown");
	assert_int_equal(r->db.inputs[1].unused, RM_SUPERSEDED);
	built_free(r);
}

/* A newer file with records missing (a truncated download: its header or
 * a summary counts more record lines than it has) must not replace the
 * complete older file of its registry: the older one is used, and a
 * notice names both and says why. */
static void truncated_newer_file_keeps_the_complete_one(void **state)
{
	(void)state;
	const char *old = AFRINIC_2014 "afrinic|NG|ipv4|41.0.0.0|512|20071126|allocated\n";
	struct built *r = build_texts(0, "new",
				      "2|afrinic|1|1|00000000|20230323|00000\n"
				      "afrinic|*|ipv4|*|3|summary\n"
				      "afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n",
				      "old", old, NULL);
	assert_non_null(r->m);
	assert_true(diag_has(r, "new: not used: records are missing (truncated?); the older "
				"complete afrinic file old is used instead (end date 20140630, "
				"not 20230323)"));
	assert_false(diag_has(r, "superseded by"));
	assert_cc(&r->db, "41.0.1.1", "NG");
	/* Set aside for its missing records, which rirdb info says: not
	 * superseded, since it is the newer file. */
	assert_int_equal(r->db.inputs[0].unused, RM_RECORDS_MISSING);
	assert_string_equal(rm_input_unused_name(r->db.inputs[0].unused),
			    "set aside: records missing");
	assert_int_equal(r->db.inputs[1].unused, RM_USED);
	built_free(r);
	/* The header's count alone says so too. */
	r = build_texts(0, "new",
			"2|afrinic|1|2|00000000|20230323|00000\n"
			"afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n",
			"old", old, NULL);
	assert_non_null(r->m);
	assert_true(diag_has(r, "new: not used: records are missing"));
	assert_cc(&r->db, "41.0.1.1", "NG");
	built_free(r);
	/* A line skipped for an error is there: the newer file is complete
	 * and replaces the older one. */
	r = build_texts(1, "new",
			"2|afrinic|1|2|00000000|20230323|00000\n"
			"afrinic|*|ipv4|*|2|summary\n"
			"afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n"
			"afrinic|za|ipv4|41.0.1.0|256|20071126|allocated|F1\n",
			"old", old, NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.skipped, 1);
	assert_true(diag_has(r, "old: superseded by the newer afrinic file new"));
	assert_string_equal(rir_of(&r->db, "41.0.1.1"), "unknown");
	built_free(r);
	/* With no complete file of the registry, the newest is used. */
	r = build_texts(0, "new",
			"2|afrinic|1|2|00000000|20230323|00000\n"
			"afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n",
			"old",
			"2|afrinic|1|2|00000000|20140630|00000\n"
			"afrinic|NG|ipv4|41.0.0.0|512|20071126|allocated\n",
			NULL);
	assert_non_null(r->m);
	assert_true(diag_has(r, "old: superseded by the newer afrinic file new"));
	assert_cc(&r->db, "41.0.0.1", "ZA");
	assert_int_equal(r->db.inputs[1].unused, RM_SUPERSEDED);
	/* Used all the same, the newer is marked as having records
	 * missing, which rirdb info says: its registry's data is
	 * incomplete. */
	assert_int_equal(r->db.inputs[0].unused, RM_USED_RECORDS_MISSING);
	assert_string_equal(rm_input_unused_name(r->db.inputs[0].unused), "records missing");
	built_free(r);
	/* Given alone, it is used and marked the same way, its holders
	 * named as any used file's. */
	r = build_texts(0, "new",
			"2|afrinic|1|2|00000000|20230323|00000\n"
			"afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|F1\n",
			"names.csv", "registry,holder_id,name\nafrinic,F1,Zulu Net\n", NULL);
	assert_non_null(r->m);
	assert_cc(&r->db, "41.0.0.1", "ZA");
	assert_string_equal(holder_of(&r->db, "41.0.0.1"), "Zulu Net");
	assert_int_equal(r->db.inputs[0].unused, RM_USED_RECORDS_MISSING);
	assert_true(rm_input_used(&r->db.inputs[0]));
	built_free(r);
}

static void holder_names_join(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "afrinic",
	    AFRINIC_2023 "afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|ORG-A1-AFRINIC\n"
			 "afrinic|ZA|ipv4|41.0.1.0|256|20071126|allocated|F2\n",
	    "names.csv",
	    "registry,holder_id,name\nafrinic,F2,\"Example, Inc.\"\nripencc,F2,Wrong\n", "org.db",
	    "% dump\n\norganisation:   ORG-A1-AFRINIC\norg-name:       Alpha Networks\n"
	    "org-type:       LIR\nremarks:        two\n                lines\n"
	    "source:         AFRINIC\n\norganisation: ORG-NONAME\nsource: AFRINIC\n",
	    NULL);
	assert_null(r->m); /* the organisation without org-name is an error */
	assert_true(diag_has(r, "org.db:10: organisation object without org-name"));
	built_free(r);
	r = build_texts(
	    0, "afrinic",
	    AFRINIC_2023 "afrinic|ZA|ipv4|41.0.0.0|256|20071126|allocated|ORG-A1-AFRINIC\n"
			 "afrinic|ZA|ipv4|41.0.1.0|256|20071126|allocated|F2\n",
	    "names.csv",
	    "registry,holder_id,name\nafrinic,F2,\"Example, Inc.\"\nripencc,F2,Wrong\n", "org.db",
	    "organisation:   ORG-A1-AFRINIC\norg-name:       Alpha Networks\nsource: AFRINIC\n",
	    NULL);
	assert_non_null(r->m);
	/* An organisation handle is not a holder id: names join on blocks
	 * (test_names.c), so this one names nothing. */
	assert_string_equal(holder_of(&r->db, "41.0.0.1"), "ORG-A1-AFRINIC");
	assert_string_equal(holder_of(&r->db, "41.0.1.1"), "Example, Inc.");
	const struct rm_attr *a = attr_of(&r->db, "41.0.1.1");
	assert_string_equal(rm_str(&r->db, a->holder_id), "F2");
	built_free(r);
}

static void labels_most_specific_keep_registry(void **state)
{
	(void)state;
	struct built *r =
	    build_texts(0, "ripe",
			RIPE_2014 "ripencc|DE|ipv4|192.0.2.0|256|20100101|allocated\n"
				  "ripencc|DE|ipv6|2001:db8::|32|20100101|allocated\n",
			"labels.csv",
			"prefix,label\n192.0.2.0/24,customer-a\n192.0.2.128/25,\"customer b\"\n"
			"198.51.100.0/24,lab\n2001:db8:1::/48,v6-office\n",
			NULL);
	assert_non_null(r->m);
	assert_string_equal(holder_of(&r->db, "192.0.2.1"), "local:customer-a");
	assert_string_equal(holder_of(&r->db, "192.0.2.129"), "local:customer b");
	assert_string_equal(rir_of(&r->db, "192.0.2.129"), "ripencc");
	assert_cc(&r->db, "192.0.2.129", "DE");
	assert_string_equal(status_of(&r->db, "192.0.2.129"), "allocated");
	assert_string_equal(rir_of(&r->db, "198.51.100.1"), "unknown");
	assert_string_equal(holder_of(&r->db, "198.51.100.1"), "local:lab");
	assert_string_equal(holder_of(&r->db, "2001:db8:1:2::3"), "local:v6-office");
	assert_cc(&r->db, "2001:db8:1:2::3", "DE");
	assert_string_equal(holder_of(&r->db, "2001:db8:2::"), "");
	built_free(r);

	r = build_texts(0, "l", "10.0.0.0/8,a\n10.0.0.0/8,b\n10.0.0.1/8,c\n,x\n", NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "l:2: overlaps the record at line 1"));
	assert_true(diag_has(r, "l:3: host bits set below the prefix length"));
	assert_true(diag_has(r, "l:4: not a prefix"));
	built_free(r);
}

/* ------------------------------------------------------------------ */
/* Randomized: the sweep against a per-address oracle.                 */

struct gen {
	uint32_t first, last;
	int layer; /* 0 iana, 1 delegated, 2 special, 3 label */
	int plen;
	char cc[3];
};

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	return (uint32_t)(test_rnd(&rng) >> 11);
}

/* The strongest generated claim for addr, as the rules say. */
static const struct gen *oracle(const struct gen *g, int n, uint32_t addr, int label_layer)
{
	const struct gen *best = NULL;
	for (int i = 0; i < n; i++) {
		if (addr < g[i].first || addr > g[i].last || (g[i].layer == 3) != label_layer)
			continue;
		if (!best || g[i].layer > best->layer ||
		    (g[i].layer == best->layer && g[i].plen > best->plen) ||
		    (g[i].layer == best->layer && g[i].plen == best->plen))
			best = &g[i];
	}
	return best;
}

static void random_layers_match_oracle(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct gen g[200];
		int n = 0;
		char stats[16384], special[8192], labels[8192], iana[4096];
		int so = snprintf(stats, sizeof(stats), "2|apnic|1|1|00000000|20140701|0\n");
		int po = snprintf(special, sizeof(special), "Address Block,Name,RFC\n");
		int lo = snprintf(labels, sizeof(labels), "prefix,label\n");
		int io =
		    snprintf(iana, sizeof(iana), "Prefix,Designation,Date,WHOIS,RDAP,Status,N\n");
		/* IANA: 10/8 .. 12/8 designated to APNIC. */
		for (int o = 10; o <= 12; o++) {
			io += snprintf(iana + io, sizeof(iana) - io, "%03d/8,APNIC,,,,ALLOCATED,\n",
				       o);
			g[n++] = (struct gen){(uint32_t)o << 24, ((uint32_t)o << 24) | 0xffffff, 0,
					      8, ""};
		}
		/* Delegated: disjoint runs of random length in 10.0.0.0/14. */
		uint32_t at = 0x0A000000u;
		while (n < 120 && at < 0x0A040000u) {
			at += rnd() % 3000;
			uint32_t len = 1 + rnd() % 5000;
			char cc[3] = {(char)('A' + rnd() % 26), (char)('A' + rnd() % 26), 0};
			g[n] = (struct gen){at, at + len - 1, 1, 0, ""};
			memcpy(g[n].cc, cc, 3);
			so += snprintf(stats + so, sizeof(stats) - so,
				       "apnic|%s|ipv4|%u.%u.%u.%u|%u|20100101|allocated\n", cc,
				       at >> 24, at >> 16 & 255, at >> 8 & 255, at & 255, len);
			n++;
			at += len;
		}
		/* Special and labels: random nested prefixes in the same area. */
		for (int k = 0; k < 40; k++) {
			int plen = 14 + (int)(rnd() % 19);
			uint32_t mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
			uint32_t base = (0x0A000000u | (rnd() & 0x3ffff)) & mask;
			int layer = k % 2 ? 3 : 2;
			/* The loaders refuse a repeated label prefix; so do we. */
			int dup = 0;
			for (int i = 0; i < n; i++)
				dup |=
				    g[i].layer == layer && g[i].first == base && g[i].plen == plen;
			if (dup)
				continue;
			g[n] = (struct gen){base, base | ~mask, layer, plen, ""};
			char *buf = layer == 3 ? labels : special;
			int *off = layer == 3 ? &lo : &po;
			*off +=
			    snprintf(buf + *off, 8192 - *off, "%u.%u.%u.%u/%d,n%d\n", base >> 24,
				     base >> 16 & 255, base >> 8 & 255, base & 255, plen, n);
			n++;
		}
		struct built *r = build_texts(0, "iana", iana, "stats", stats, "special", special,
					      "labels", labels, NULL);
		if (!r->m)
			fail_msg("round %d: build failed: %s", round, r->diag);
		for (uint32_t addr = 0x09FFFFF0u; addr < 0x0A041000u; addr += 1 + rnd() % 7) {
			const struct gen *reg = oracle(g, n, addr, 0);
			const struct gen *lab = oracle(g, n, addr, 1);
			const struct rm_attr *a = &r->db.attrs[rm_ref_lookup4(&r->db, addr)];
			int want_rir = !reg		 ? RM_RIR_UNKNOWN
				       : reg->layer == 2 ? RM_RIR_IANA
							 : RM_RIR_APNIC;
			int want_status = !reg		    ? RM_ST_UNKNOWN
					  : reg->layer == 0 ? RM_ST_DESIGNATED
					  : reg->layer == 1 ? RM_ST_ALLOCATED
							    : RM_ST_SPECIAL;
			if (a->rir != want_rir || a->status != want_status)
				fail_msg("round %d addr %08x: rir %d status %d, want %d %d", round,
					 addr, a->rir, a->status, want_rir, want_status);
			if (reg && reg->layer == 1 && memcmp(a->cc, reg->cc, 2) != 0)
				fail_msg("round %d addr %08x: cc %.2s want %s", round, addr, a->cc,
					 reg->cc);
			const char *h = rm_str(&r->db, a->holder_id);
			char want_h[32] = "";
			if (lab)
				snprintf(want_h, sizeof(want_h), "local:n%d", (int)(lab - g));
			if (strcmp(h, want_h) != 0)
				fail_msg("round %d addr %08x: holder '%s' want '%s'", round, addr,
					 h, want_h);
		}
		/* Ranges are maximal: no two neighbours share id and block. */
		for (uint32_t i = 1; i < r->db.v4.n; i++)
			assert_false(r->db.v4.id[i] == r->db.v4.id[i - 1] &&
				     r->db.v4.block[i] == r->db.v4.block[i - 1]);
		char err[256];
		assert_int_equal(rm_db_check(&r->db, err, sizeof(err)), 0);
		built_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(registry_beats_iana_and_legacy_falls_back),
	    cmocka_unit_test(special_beats_registry),
	    cmocka_unit_test(special_asn_most_specific_wins),
	    cmocka_unit_test(special_rows_repeating_an_extent_are_reported),
	    cmocka_unit_test(newer_file_wins_between_registries),
	    cmocka_unit_test(same_date_conflict_names_its_reason),
	    cmocka_unit_test(every_overlapping_pair_is_reported),
	    cmocka_unit_test(newest_file_of_a_registry_replaces_older),
	    cmocka_unit_test(truncated_newer_file_keeps_the_complete_one),
	    cmocka_unit_test(holder_names_join),
	    cmocka_unit_test(labels_most_specific_keep_registry),
	    cmocka_unit_test(random_layers_match_oracle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
