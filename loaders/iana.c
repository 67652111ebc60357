/*
 * iana.c - IANA's registries as CSV files.
 *
 * Allocation tables (ipv4-address-space.csv, ipv6-unicast-address-
 * assignments.csv) say which registry administers each /8 or IPv6 block.
 * They are the weakest layer: any registry record beats them.  A row's
 * registry comes from its Designation ("RIPE NCC", "Administered by ARIN")
 * and, for a legacy block designated to an organisation, from its WHOIS
 * column; RESERVED rows and rows designated to IANA itself get rir iana.
 *
 * Special-purpose registries (RFC 6890 and successors; "Address Block,
 * Name,RFC,..." and "AS Number,Reason for Reservation,...") are the
 * strongest registry layer, most specific row first.  A cell may hold
 * several prefixes and footnote marks ("192.0.0.170/32, 192.0.0.171/32
 * [5]"); every prefix in it is taken.
 */
#include <string.h>

#include "internal.h"

static const struct {
	const char *text;
	int rir;
} registry_words[] = {
    {"AFRINIC", RM_RIR_AFRINIC},
    {"APNIC", RM_RIR_APNIC},
    {"LACNIC", RM_RIR_LACNIC},
    {"RIPE NCC", RM_RIR_RIPENCC},
    {"ARIN", RM_RIR_ARIN},
    {"whois.afrinic.net", RM_RIR_AFRINIC},
    {"whois.apnic.net", RM_RIR_APNIC},
    {"whois.lacnic.net", RM_RIR_LACNIC},
    {"whois.ripe.net", RM_RIR_RIPENCC},
    {"whois.arin.net", RM_RIR_ARIN},
};

static int span_contains(struct rl_span s, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i + n <= s.len; i++)
		if (memcmp(s.s + i, word, n) == 0)
			return 1;
	return 0;
}

static int registry_in(struct rl_span s)
{
	for (size_t i = 0; i < sizeof(registry_words) / sizeof(registry_words[0]); i++)
		if (span_contains(s, registry_words[i].text))
			return registry_words[i].rir;
	return -1;
}

/* "2010-01" or "1999-07-01" to YYYYMMDD (day 00 when absent); 0 when odd. */
static uint32_t iana_date(struct rl_span s)
{
	uint64_t y, m, d = 0;
	struct rl_span f[3];
	unsigned n = rl_split(rl_trim(s), '-', f, 3);
	if (n < 2 || n > 3 || rl_parse_u64(f[0], &y) || rl_parse_u64(f[1], &m) ||
	    (n == 3 && (rl_parse_u64(f[2], &d) || d < 1)) || m < 1 || m > 12 || d > 31)
		return 0;
	return (uint32_t)(y * 10000 + m * 100 + d);
}

/* IANA writes IPv4 /8s as "001/8". */
static int parse_slash8(struct rl_span s, rm_u128 *first, rm_u128 *last)
{
	struct rl_span f[2];
	uint64_t octet, plen;
	if (rl_split(s, '/', f, 2) != 2 || rl_parse_u64(f[0], &octet) ||
	    rl_parse_u64(f[1], &plen) || octet > 255 || plen != 8)
		return -1;
	*first = (rm_u128)octet << 24;
	*last = *first | 0xffffff;
	return 0;
}

static unsigned alloc_row(struct rl_row *r)
{
	struct rl_build *b = r->b;
	struct rl_span *f = r->f;
	const char *why;
	if (r->nf < 6) {
		rl_error(b, r->name, r->line, "%u fields, expected at least 6", r->nf);
		return 0;
	}
	struct rl_span prefix = rl_trim(f[0]), desig = rl_trim(f[1]), status = rl_trim(f[5]);
	rm_u128 first, last;
	unsigned fam = RM_V4, plen = 8;
	int bad = r->kind == RM_IN_IANA_V4
		      ? parse_slash8(prefix, &first, &last)
		      : rl_parse_prefix(prefix.s, prefix.len, &fam, &first, &last, &plen, &why);
	if (bad || fam != (r->kind == RM_IN_IANA_V4 ? RM_V4 : RM_V6)) {
		rl_error(b, r->name, r->line, "bad prefix '%.*s'", (int)prefix.len, prefix.s);
		return 0;
	}
	struct rm_attr a = {0};
	int from_desig = registry_in(desig);
	int rir = from_desig >= 0 ? from_desig : registry_in(f[3]);
	if (rl_span_eq(status, "RESERVED") || rir < 0) {
		a.rir = RM_RIR_IANA;
		a.status = RM_ST_RESERVED;
	} else if (rl_span_eq(status, "ALLOCATED") || rl_span_eq(status, "LEGACY")) {
		a.rir = (uint8_t)rir;
		a.status = rl_span_eq(status, "LEGACY") ? RM_ST_LEGACY : RM_ST_DESIGNATED;
	} else {
		rl_error(b, r->name, r->line, "unknown status '%.*s'", (int)status.len, status.s);
		return 0;
	}
	/* An organisation's name is the holder; a registry's name is not. */
	if (from_desig < 0 && desig.len) {
		if (!rl_text_ok(b, r->name, r->line, "designation", desig, 0))
			return 0;
		a.holder_name = rl_intern(b, desig.s, desig.len);
	}
	struct rl_claim *cl = rl_add_claim(b);
	cl->first = first;
	cl->last = last;
	cl->family = fam;
	cl->layer = RL_LAYER_IANA;
	cl->rank = plen; /* nested rows (3ffe::/16 in 3000::/4): most specific */
	cl->input = r->input;
	cl->line = r->line;
	cl->date = iana_date(f[2]);
	cl->attr = a;
	return 1;
}

int rl_load_iana_alloc(struct rl_build *b, const char *name, const char *data, size_t len, int kind)
{
	return rl_load_csv(b, name, data, len, kind, 1, alloc_row);
}

/* One prefix or AS range token of a special-purpose row. */
static int special_token(int kind, struct rl_span tok, struct rl_claim *out)
{
	const char *why;
	unsigned fam, plen;
	if (kind == RM_IN_SPECIAL_ASN) {
		struct rl_span f[2];
		uint32_t lo, hi;
		unsigned n = rl_split(tok, '-', f, 2);
		if (n > 2 || rl_parse_asn(f[0].s, f[0].len, &lo) ||
		    (n == 2 && rl_parse_asn(f[1].s, f[1].len, &hi)))
			return -1;
		if (n == 1)
			hi = lo;
		if (hi < lo)
			return -1;
		out->family = RM_ASN;
		out->first = lo;
		out->last = hi;
		/* Smaller ranges are more specific, like longer prefixes.  The
		 * size itself, not its bit length: ranges of 17 and 24 ASes
		 * would otherwise tie, and the later row win. */
		out->rank = (uint64_t)UINT32_MAX - (hi - lo);
		return 0;
	}
	if (rl_parse_prefix(tok.s, tok.len, &fam, &out->first, &out->last, &plen, &why) ||
	    fam != (kind == RM_IN_SPECIAL_V4 ? RM_V4 : RM_V6))
		return -1;
	out->family = fam;
	out->rank = plen;
	return 0;
}

static unsigned special_row(struct rl_row *r)
{
	struct rl_build *b = r->b;
	struct rl_span *f = r->f;
	if (r->nf < 2) {
		rl_error(b, r->name, r->line, "%u fields, expected at least 2", r->nf);
		return 0;
	}
	struct rl_span label = rl_trim(f[1]);
	/* IANA quotes some names ("This network"); the quotes are not the name. */
	if (label.len >= 2 && label.s[0] == '"' && label.s[label.len - 1] == '"') {
		label.s++;
		label.len -= 2;
	}
	if (label.len && !rl_text_ok(b, r->name, r->line, "name", label, 0))
		return 0;
	/* Tokens are separated by commas, spaces or newlines. */
	const char *p = f[0].s, *end = f[0].s + f[0].len;
	unsigned taken = 0;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r'))
			p++;
		const char *q = p;
		while (q < end && *q != ' ' && *q != ',' && *q != '\n' && *q != '\r')
			q++;
		struct rl_span tok = {p, (size_t)(q - p)};
		p = q;
		if (tok.len == 0 || tok.s[0] == '[')
			continue; /* footnote mark */
		struct rl_claim tmp;
		memset(&tmp, 0, sizeof(tmp));
		if (special_token(r->kind, tok, &tmp)) {
			rl_error(b, r->name, r->line, "bad address block '%.*s'", (int)tok.len,
				 tok.s);
			continue;
		}
		struct rl_claim *cl = rl_add_claim(b);
		*cl = tmp;
		cl->block = RM_NO_BLOCK;
		cl->layer = RL_LAYER_SPECIAL;
		cl->input = r->input;
		cl->line = r->line;
		cl->date = r->nf > 3 ? iana_date(f[3]) : 0;
		cl->attr.rir = RM_RIR_IANA;
		cl->attr.status = RM_ST_SPECIAL;
		cl->attr.holder_name = rl_intern(b, label.s, label.len);
		taken++;
	}
	if (taken == 0)
		rl_error(b, r->name, r->line, "no address block in '%.*s'", (int)f[0].len, f[0].s);
	return taken;
}

int rl_load_special(struct rl_build *b, const char *name, const char *data, size_t len, int kind)
{
	return rl_load_csv(b, name, data, len, kind, 1, special_row);
}
