/*
 * stats.c - the RIR statistics exchange format, standard and extended.
 *
 *   version|registry|serial|records|startdate|enddate|UTCoffset   header
 *   registry|*|type|*|count|summary                               summaries
 *   registry|cc|type|start|value|date|status[|opaque-id[|ext...]] records
 *
 * The header's registry is one of the five, or "nro" for the NRO's file
 * that combines them (its records name their own registries).
 * ipv4 value is an address count (any positive count, not only powers of
 * two); ipv6 value is a prefix length; asn value is a count of AS numbers.
 * Each record becomes one claim in the delegated layer, ranked later by
 * the file's end date.  Summary and header counts are checked against the
 * records actually read, and a mismatch is reported, since it usually
 * means a truncated download; a summary's notice tells record lines that
 * are missing from lines only skipped for an error.
 */
#include <string.h>

#include "internal.h"

enum { T_IPV4, T_IPV6, T_ASN, T_COUNT };

static const char *const type_names[T_COUNT] = {"ipv4", "ipv6", "asn"};

struct stats_file {
	struct rl_build *b;
	const char *name;
	uint32_t input;
	int header_rir; /* enum rm_rir, or -1 for the NRO's combined file */
	uint64_t header_records;
	unsigned errors_at_start;
	/* A summary's count, and whether there was one: every u64 value is
	 * a count a file may state, so "no summary" needs its own flag. */
	uint64_t summary[T_COUNT];
	int have_summary[T_COUNT];
	uint64_t seen[T_COUNT];
	/* Record lines, whether read or skipped for an error, by their type
	 * field (untyped: none known): what a truncated download lacks. */
	uint64_t lines, typed[T_COUNT], untyped;
};

static int parse_type(struct rl_span s)
{
	for (int t = 0; t < T_COUNT; t++)
		if (rl_span_eq(s, type_names[t]))
			return t;
	return -1;
}

/* The number of days of month m (1..12) of year y (Gregorian). */
static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

/*
 * YYYYMMDD, empty, or 00000000 (unknown); 0 for the latter two.  A day
 * the month does not have (20230231) is refused like any other bad date:
 * it is no date, and as a header's end date it would rank the file.
 */
static int parse_date(struct rl_span s, uint32_t *out)
{
	uint64_t v;
	*out = 0;
	if (s.len == 0 || rl_span_eq(s, "00000000"))
		return 0;
	if (s.len != 8 || rl_parse_u64(s, &v))
		return -1;
	unsigned y = (unsigned)(v / 10000), m = (unsigned)(v / 100 % 100), d = (unsigned)(v % 100);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * The header line (n fields f): 0 when it is accepted, its serial, dates
 * and registry then set on the file's input record; -1 with the reason
 * reported when it is refused, the record then marked so (rirdb info
 * says "refused at its header") and holding nothing from the line: the
 * file is given up on, and dates it claimed would read as the dates of
 * a file that was used.
 */
static int parse_header(struct stats_file *sf, struct rl_span *f, unsigned n, unsigned line)
{
	struct rm_input *in = rm_model_input_at(sf->b->model, sf->input);
	uint32_t start_date, end_date;
	in->unused = RM_REFUSED_HEADER; /* until the header is accepted */
	/* The format's header has seven fields; the UTC offset is not used
	 * here, but a header without it is not the format's (a cut line, or
	 * another format), and the fields before it cannot be trusted. */
	if (n < 7) {
		rl_error(sf->b, sf->name, line, "header has %u '|' fields, expected 7", n);
		return -1;
	}
	/* A registry's file names one of the five registries; the NRO's
	 * combined file names "nro", and its records name their own.  Any
	 * other name (a misspelling: "ripe") would make a file that neither
	 * supersedes nor is superseded.  The format lists "iana" too, but
	 * IANA's space is read from its CSV registries here, and a record of
	 * registry "iana" would be refused line by line. */
	int rir = rm_rir_from_name(f[1].s, f[1].len);
	if (rir == RM_RIR_IANA) {
		rl_error(sf->b, sf->name, line,
			 "IANA's statistics file is not read: give IANA's CSV registries");
		return -1;
	}
	if (rir < RM_RIR_AFRINIC && !rl_span_eq(f[1], "nro")) {
		rl_error(sf->b, sf->name, line,
			 "header registry '%.*s' is none of afrinic, apnic, arin, lacnic, ripencc, "
			 "nro",
			 (int)f[1].len, f[1].s);
		return -1;
	}
	sf->header_rir = rir >= RM_RIR_AFRINIC ? rir : -1;
	if (rl_parse_u64(f[3], &sf->header_records)) {
		rl_error(sf->b, sf->name, line, "header record count '%.*s' is not a number",
			 (int)f[3].len, f[3].s);
		return -1;
	}
	if (parse_date(f[4], &start_date) || parse_date(f[5], &end_date)) {
		rl_error(sf->b, sf->name, line, "header dates '%.*s', '%.*s' are not YYYYMMDD",
			 (int)f[4].len, f[4].s, (int)f[5].len, f[5].s);
		return -1;
	}
	/* The file covers startdate to enddate; the other way round one of
	 * them is wrong, and the end date ranks the file (merge.c). */
	if (start_date && end_date && end_date < start_date) {
		rl_error(sf->b, sf->name, line, "header end date %u is before its start date %u",
			 end_date, start_date);
		return -1;
	}
	/* Only a file read past its header is one of its registry's files: a
	 * file given up on must not supersede a good one (merge.c). */
	in->rir = sf->header_rir >= 0 ? (uint32_t)sf->header_rir : RM_RIR_UNKNOWN;
	in->serial = rl_intern(sf->b, f[2].s, f[2].len);
	in->start_date = start_date;
	in->end_date = end_date;
	in->unused = RM_USED;
	return 0;
}

static void parse_summary(struct stats_file *sf, struct rl_span *f, unsigned line)
{
	int t = parse_type(f[2]);
	uint64_t count;
	if (t < 0 || rl_parse_u64(f[4], &count)) {
		rl_error(sf->b, sf->name, line, "bad summary line (type '%.*s', count '%.*s')",
			 (int)f[2].len, f[2].s, (int)f[4].len, f[4].s);
		return;
	}
	sf->summary[t] = count;
	sf->have_summary[t] = 1;
}

static int parse_cc(struct rl_span s, char cc[2])
{
	cc[0] = cc[1] = '\0';
	if (s.len == 0)
		return 0; /* APNIC and others leave it empty on some records */
	if (s.len != 2 || s.s[0] < 'A' || s.s[0] > 'Z' || s.s[1] < 'A' || s.s[1] > 'Z')
		return -1;
	cc[0] = s.s[0];
	cc[1] = s.s[1];
	return 0;
}

static int parse_status(struct rl_span s)
{
	static const struct {
		const char *name;
		int status;
	} map[] = {
	    {"allocated", RM_ST_ALLOCATED},
	    {"assigned", RM_ST_ASSIGNED},
	    {"available", RM_ST_AVAILABLE},
	    {"reserved", RM_ST_RESERVED},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (rl_span_eq(s, map[i].name))
			return map[i].status;
	return -1;
}

/* Fill first/last of the claim from start and value; NULL or a reason. */
static const char *parse_extent(int type, struct rl_span start, struct rl_span value,
				struct rl_claim *c)
{
	uint64_t v;
	if (type == T_IPV4) {
		uint32_t a;
		if (rl_parse_v4(start.s, start.len, &a))
			return "bad IPv4 start address";
		if (rl_parse_u64(value, &v) || v == 0)
			return "IPv4 count is not a positive number";
		/* Not a + v - 1: with v near 2^64 the sum wraps and passes. */
		if (v - 1 > (uint64_t)UINT32_MAX - a)
			return "IPv4 count runs past 255.255.255.255";
		c->family = RM_V4;
		c->first = a;
		c->last = (rm_u128)a + v - 1;
	} else if (type == T_IPV6) {
		rm_u128 a;
		if (rl_parse_v6(start.s, start.len, &a))
			return "bad IPv6 start address";
		/* No registry delegates ::/0: such a record would take the
		 * whole IPv6 space, IANA's special blocks included. */
		if (rl_parse_u64(value, &v) || v == 0 || v > 128)
			return "IPv6 prefix length is not 1..128";
		unsigned host = 128 - (unsigned)v;
		rm_u128 mask = host >= 128 ? ~(rm_u128)0 : (((rm_u128)1 << host) - 1);
		if (a & mask)
			return "IPv6 start has bits set below the prefix length";
		c->family = RM_V6;
		c->first = a;
		c->last = a | mask;
	} else {
		uint32_t a;
		if (rl_parse_asn(start.s, start.len, &a))
			return "bad AS number";
		if (rl_parse_u64(value, &v) || v == 0)
			return "AS count is not a positive number";
		if (v - 1 > (uint64_t)UINT32_MAX - a)
			return "AS count runs past 4294967295";
		c->family = RM_ASN;
		c->first = a;
		c->last = (rm_u128)a + v - 1;
	}
	return NULL;
}

static void parse_record(struct stats_file *sf, struct rl_span *f, unsigned n, unsigned line)
{
	struct rl_build *b = sf->b;
	const char *why = NULL;
	if (n < 7) {
		rl_error(b, sf->name, line, "record has %u '|' fields, expected at least 7", n);
		return;
	}
	int rir = rm_rir_from_name(f[0].s, f[0].len);
	if (rir < RM_RIR_AFRINIC) {
		rl_error(b, sf->name, line, "unknown registry '%.*s'", (int)f[0].len, f[0].s);
		return;
	}
	if (sf->header_rir >= 0 && rir != sf->header_rir) {
		rl_error(b, sf->name, line, "record of registry '%.*s' in a file of '%s'",
			 (int)f[0].len, f[0].s, rm_rir_name((unsigned)sf->header_rir));
		return;
	}
	char cc[2];
	if (parse_cc(f[1], cc)) {
		rl_error(b, sf->name, line, "bad country code '%.*s'", (int)f[1].len, f[1].s);
		return;
	}
	int type = parse_type(f[2]);
	if (type < 0) {
		rl_error(b, sf->name, line, "unknown type '%.*s'", (int)f[2].len, f[2].s);
		return;
	}
	uint32_t date;
	if (parse_date(f[5], &date)) {
		rl_error(b, sf->name, line, "bad date '%.*s' (expected YYYYMMDD)", (int)f[5].len,
			 f[5].s);
		return;
	}
	int status = parse_status(f[6]);
	if (status < 0) {
		rl_error(b, sf->name, line, "unknown status '%.*s'", (int)f[6].len, f[6].s);
		return;
	}
	if (n >= 8 && f[7].len && !rl_text_ok(b, sf->name, line, "holder id", f[7], 1))
		return;
	struct rl_claim tmp;
	memset(&tmp, 0, sizeof(tmp));
	if ((why = parse_extent(type, f[3], f[4], &tmp))) {
		rl_error(b, sf->name, line, "%s ('%.*s|%.*s')", why, (int)f[3].len, f[3].s,
			 (int)f[4].len, f[4].s);
		return;
	}
	sf->seen[type]++;
	struct rl_claim *c = rl_add_claim(b);
	c->first = tmp.first;
	c->last = tmp.last;
	c->family = tmp.family;
	c->layer = RL_LAYER_DELEGATED;
	c->input = sf->input;
	c->line = line;
	c->date = date;
	c->attr.rir = (uint8_t)rir;
	c->attr.status = (uint8_t)status;
	c->attr.cc[0] = cc[0];
	c->attr.cc[1] = cc[1];
	if (n >= 8)
		c->attr.holder_id = rl_intern(b, f[7].s, f[7].len);
}

/* Count a record line (n fields f) before it is parsed, so that a line
 * skipped for an error still counts as present (check_counts). */
static void count_line(struct stats_file *sf, const struct rl_span *f, unsigned n)
{
	int t = n >= 3 ? parse_type(f[2]) : -1;
	sf->lines++;
	if (t >= 0)
		sf->typed[t]++;
	else
		sf->untyped++;
}

/*
 * Whether the file has fewer record lines than its header or a summary
 * counts: records are missing, not only bad (a line skipped for an error
 * is there).  A line of no known type may be of any.
 */
static int records_missing(const struct stats_file *sf)
{
	if (sf->header_records > sf->lines)
		return 1;
	for (int t = 0; t < T_COUNT; t++)
		if (sf->have_summary[t] && sf->summary[t] > sf->typed[t] + sf->untyped)
			return 1;
	return 0;
}

/*
 * Report a summary of type t that disagrees with the records read, saying
 * why: lines missing (a truncated download?), or only lines skipped for an
 * error (each reported already; they are there, so nothing is missing), or
 * more records than the summary counts.  A skipped line of no known type
 * may have been one of type t.
 */
static void check_summary(const struct stats_file *sf, int t, unsigned line)
{
	unsigned long long said = sf->summary[t], read = sf->seen[t];
	unsigned long long lines = sf->typed[t] + sf->untyped, skipped = lines - read;
	if (said == read)
		return;
	if (said > lines && !skipped)
		rl_notice(sf->b, sf->name, line,
			  "summary says %llu %s records, the file has %llu (truncated?)", said,
			  type_names[t], read);
	else if (said > lines)
		rl_notice(sf->b, sf->name, line,
			  "summary says %llu %s records, the file has %llu and lines skipped for "
			  "errors (%llu): %llu are missing (truncated?)",
			  said, type_names[t], read, skipped, said - lines);
	else if (said > read)
		rl_notice(sf->b, sf->name, line,
			  "summary says %llu %s records, the file has %llu; the other %llu are "
			  "among the lines skipped for errors (%llu), not missing",
			  said, type_names[t], read, said - read, skipped);
	else
		rl_notice(sf->b, sf->name, line,
			  "summary says %llu %s records, the file has %llu, more than it counts",
			  said, type_names[t], read);
}

/* Report counts that disagree with the records read, and mark a file
 * with records missing as incomplete: merge.c then keeps a complete
 * older file of its registry rather than let this one supersede it. */
static void check_counts(struct stats_file *sf, unsigned line)
{
	uint64_t total = 0;
	for (int t = 0; t < T_COUNT; t++) {
		total += sf->seen[t];
		if (sf->have_summary[t])
			check_summary(sf, t, line);
	}
	rm_model_input_at(sf->b->model, sf->input)->records = (uint32_t)total;
	/* The header count is checked only when the file has no errors: skipped
	 * lines are already reported one by one. */
	if (sf->header_records != total && sf->b->counts.errors == sf->errors_at_start)
		rl_notice(sf->b, sf->name, line, "header says %llu records, the file has %llu",
			  (unsigned long long)sf->header_records, (unsigned long long)total);
	if (records_missing(sf)) {
		struct rl_build *b = sf->b;
		RM_GROW_OR_DIE(&b->incomplete, &b->incomplete_cap, b->n_incomplete, 1, 4);
		b->incomplete[b->n_incomplete++] = sf->input;
	}
}

int rl_load_stats(struct rl_build *b, const char *name, const char *data, size_t len)
{
	struct stats_file sf;
	memset(&sf, 0, sizeof(sf));
	sf.b = b;
	sf.name = name;
	sf.input = rl_new_input(b, name, RM_IN_STATS);
	sf.errors_at_start = b->counts.errors;

	struct rl_lines l;
	struct rl_span line, f[16];
	int have_header = 0;
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		struct rl_span t = rl_trim(line);
		if (t.len == 0 || t.s[0] == '#')
			continue;
		unsigned n = rl_split(t, '|', f, 16);
		if (!have_header) {
			if (parse_header(&sf, f, n, l.lineno))
				return -1;
			have_header = 1;
		} else if (n >= 6 && rl_span_eq(f[5], "summary") && rl_span_eq(f[1], "*")) {
			parse_summary(&sf, f, l.lineno);
		} else {
			count_line(&sf, f, n);
			parse_record(&sf, f, n, l.lineno);
		}
	}
	check_counts(&sf, l.lineno);
	return 0;
}
