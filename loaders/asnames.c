/*
 * asnames.c - AS names, NIC.br's file, and the NIRs' account ids.
 *
 * AS names name a holder through its AS numbers (names.c): an extended
 * statistics file gives an organisation's ASes and blocks one holder id.
 *   - RIPE's asn.txt, every registry's ASes: "<asn> <handle> - <name>, <CC>"
 *     ("3333 RIPE-NCC-AS - Reseaux IP Europeens ..., NL"); a line without
 *     " - " is "<asn> <name>, <CC>".  The name is what follows " - ", less
 *     the trailing ", CC".
 *   - IPFire's location database (Debian libloc-database), read with
 *     libloc: every AS it has a name for.  The default that works offline.
 *     Its networks (country, origin AS) go to the located layer (geo.c).
 * A name longer than a holder name may be (RM_HOLDER_TEXT_MAX) is cut at a
 * character boundary; one that is not valid UTF-8 is malformed.
 *
 * NIC.br's nicbr-asn-blk file, "AS<n>|name|CNPJ|block|block|...": the
 * space NIC.br administers under LACNIC.  Each block is NIR space (a claim
 * of the NIR layer, overlaid on LACNIC's records by merge.c) and, like the
 * AS number, offers the line's name to the delegated record of exactly
 * that range (the strength of an RPSL name).
 *
 * The NIRs' account ids, "registry,holder_id,nir" (data/nir-ids.csv): the
 * holder ids under which a registry lists space a NIR administers.
 */
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <sys/socket.h>

#include "internal.h"
#include "output.h"

/* A name cut to RM_HOLDER_TEXT_MAX bytes on a character boundary; 0 when
 * it is empty or not valid UTF-8 (reported). */
static uint32_t pool_name(struct rl_build *b, const char *file, unsigned line, const char *s,
			  size_t len, uint32_t asn)
{
	if (len > RM_HOLDER_TEXT_MAX)
		len = rm_utf8_cut(s, RM_HOLDER_TEXT_MAX);
	if (len == 0)
		return 0;
	if (!rm_utf8_valid(s, len)) {
		rl_error(b, file, line, "name of AS%u is not valid UTF-8", asn);
		return 0;
	}
	return rl_pool_add(&b->pool, s, len);
}

static void add_asname(struct rl_build *b, uint32_t asn, uint32_t name, uint32_t input,
		       unsigned line)
{
	struct rl_asname n = {.asn = asn, .name = name, .input = input, .line = line};
	rl_add_asname(b, &n);
}

int rl_load_asn_txt(struct rl_build *b, const char *name, const char *data, size_t len)
{
	uint32_t input = rl_new_input(b, name, RM_IN_AS_NAMES);
	struct rl_lines l;
	struct rl_span line;
	unsigned records = 0;
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		struct rl_span t = rl_trim(line);
		if (t.len == 0 || t.s[0] == '#')
			continue;
		const char *sp = memchr(t.s, ' ', t.len);
		uint64_t asn;
		if (!sp || rl_parse_u64((struct rl_span){t.s, (size_t)(sp - t.s)}, &asn) ||
		    asn > UINT32_MAX) {
			rl_error(b, name, l.lineno, "expected '<asn> <handle> - <name>, <CC>'");
			continue;
		}
		struct rl_span rest = rl_trim((struct rl_span){sp, t.len - (size_t)(sp - t.s)});
		const char *sep = memmem(rest.s, rest.len, " - ", 3);
		if (sep)
			rest = rl_trim(
			    (struct rl_span){sep + 3, rest.len - (size_t)(sep + 3 - rest.s)});
		/* ", CC" at the end: the AS's country, not part of its name. */
		if (rest.len >= 4 && rest.s[rest.len - 4] == ',' && rest.s[rest.len - 3] == ' ' &&
		    rest.s[rest.len - 2] >= 'A' && rest.s[rest.len - 2] <= 'Z' &&
		    rest.s[rest.len - 1] >= 'A' && rest.s[rest.len - 1] <= 'Z')
			rest = rl_trim((struct rl_span){rest.s, rest.len - 4});
		uint32_t nm = pool_name(b, name, l.lineno, rest.s, rest.len, (uint32_t)asn);
		if (nm) {
			add_asname(b, (uint32_t)asn, nm, input, l.lineno);
			records++;
		}
	}
	rm_model_input_at(b->model, input)->records = records;
	return 0;
}

/* A country code as the located layer keeps it: two letters A-Z, or
 * none (libloc has a few special codes, and networks without one). */
static void located_cc(const char *s, char cc[2])
{
	cc[0] = cc[1] = '\0';
	if (s && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && !s[2]) {
		cc[0] = s[0];
		cc[1] = s[1];
	}
}

/* Every network of the database into the located layer (geo.c).  libloc
 * keeps IPv4 networks as IPv4-mapped IPv6 ones. */
static int load_networks(struct rl_build *b, const char *name, struct loc_database *db)
{
	struct loc_database_enumerator *e = NULL;
	if (loc_database_enumerator_new(&e, db, LOC_DB_ENUMERATE_NETWORKS, 0)) {
		rl_error(b, name, 0, "cannot list the location database's networks");
		return -1;
	}
	struct loc_network *n;
	while (loc_database_enumerator_next_network(e, &n) == 0 && n) {
		const struct in6_addr *lo = loc_network_get_first_address(n);
		const struct in6_addr *hi = loc_network_get_last_address(n);
		rm_u128 first = rm_v6_from_bytes(lo->s6_addr), last = rm_v6_from_bytes(hi->s6_addr);
		char cc[2];
		located_cc(loc_network_get_country_code(n), cc);
		if (loc_network_address_family(n) == AF_INET)
			rl_add_geo(b, RL_GEO_LOCATION, RM_V4, first & 0xffffffffu,
				   last & 0xffffffffu, cc, loc_network_get_asn(n));
		else
			rl_add_geo(b, RL_GEO_LOCATION, RM_V6, first, last, cc,
				   loc_network_get_asn(n));
		loc_network_unref(n);
	}
	loc_database_enumerator_unref(e);
	return 0;
}

int rl_load_location(struct rl_build *b, const char *name, FILE *f)
{
	uint32_t input = rl_new_input(b, name, RM_IN_LOCATION);
	struct loc_ctx *ctx = NULL;
	struct loc_database *db = NULL;
	struct loc_database_enumerator *e = NULL;
	unsigned records = 0;
	int rc = -1;
	if (loc_new(&ctx)) {
		rl_error(b, name, 0, "cannot start libloc");
		goto out;
	}
	if (loc_database_new(ctx, &db, f)) {
		rl_error(b, name, 0, "not a location database libloc can read");
		goto out;
	}
	if (loc_database_enumerator_new(&e, db, LOC_DB_ENUMERATE_ASES, 0)) {
		rl_error(b, name, 0, "cannot list the location database's ASes");
		goto out;
	}
	/* Provenance: the vendor as the input's serial, the database's date. */
	struct rm_input *in = rm_model_input_at(b->model, input);
	const char *vendor = loc_database_get_vendor(db);
	if (vendor && *vendor && rm_utf8_valid(vendor, strlen(vendor)) &&
	    strlen(vendor) <= RM_HOLDER_TEXT_MAX)
		in->serial = rl_intern(b, vendor, strlen(vendor));
	time_t made = loc_database_created_at(db);
	struct tm tm;
	if (made > 0 && gmtime_r(&made, &tm))
		in->start_date = in->end_date =
		    (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
	if (load_networks(b, name, db))
		goto out;
	struct loc_as *as;
	while (loc_database_enumerator_next_as(e, &as) == 0 && as) {
		const char *nm = loc_as_get_name(as);
		uint32_t asn = loc_as_get_number(as);
		/* The line of an AS is its number: a message then says which. */
		uint32_t off = nm ? pool_name(b, name, 0, nm, strlen(nm), asn) : 0;
		if (off) {
			add_asname(b, asn, off, input, records + 1);
			records++;
		}
		loc_as_unref(as);
	}
	rc = 0;
out:
	if (e)
		loc_database_enumerator_unref(e);
	if (db)
		loc_database_unref(db);
	if (ctx)
		loc_unref(ctx);
	if (rc)
		b->failed_io = 1;
	rm_model_input_at(b->model, input)->records = records;
	return rc;
}

int rl_load_nicbr(struct rl_build *b, const char *name, const char *data, size_t len)
{
	uint32_t input = rl_new_input(b, name, RM_IN_NICBR);
	struct rl_lines l;
	struct rl_span line;
	unsigned records = 0;
	enum { MAX_FIELDS = 4096 };
	struct rl_span *f = malloc(MAX_FIELDS * sizeof(*f));
	if (!f)
		rm_out_of_memory();
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		struct rl_span t = rl_trim(line);
		if (t.len == 0 || t.s[0] == '#')
			continue;
		unsigned nf = rl_split(t, '|', f, MAX_FIELDS);
		uint32_t asn;
		if (nf > MAX_FIELDS) {
			rl_error(b, name, l.lineno, "more than %u fields", MAX_FIELDS);
			continue;
		}
		if (nf < 3 || rl_parse_asn(f[0].s, f[0].len, &asn) || f[0].len < 3 ||
		    (f[0].s[0] != 'A' && f[0].s[0] != 'a')) {
			rl_error(b, name, l.lineno, "expected 'AS<n>|name|CNPJ|block|...'");
			continue;
		}
		struct rl_span nm = rl_trim(f[1]);
		if (!rl_text_ok(b, name, l.lineno, "name", nm, 0))
			continue;
		uint32_t off = rl_pool_add(&b->pool, nm.s, nm.len);
		struct rl_name n = {.key_kind = RL_BY_RANGE,
				    .family = RM_ASN,
				    .first = asn,
				    .last = asn,
				    .name = off,
				    .source = RM_NAME_NICBR,
				    .input = input,
				    .line = l.lineno};
		rl_add_name(b, &n);
		for (unsigned i = 3; i < nf; i++) {
			struct rl_span blk = rl_trim(f[i]);
			unsigned fam, plen;
			const char *why;
			if (blk.len == 0)
				continue; /* a trailing '|' */
			if (rl_parse_prefix(blk.s, blk.len, &fam, &n.first, &n.last, &plen, &why)) {
				rl_error(b, name, l.lineno, "%s in '%.*s'", why, (int)blk.len,
					 blk.s);
				continue;
			}
			n.family = fam;
			rl_add_name(b, &n);
			struct rl_claim *cl = rl_add_claim(b);
			cl->first = n.first;
			cl->last = n.last;
			cl->family = fam;
			cl->layer = RL_LAYER_NIR;
			cl->rank = plen;
			cl->input = input;
			cl->line = l.lineno;
			cl->attr.rir = RM_RIR_LACNIC;
			cl->attr.nir = RM_NIR_NICBR;
		}
		records++;
	}
	free(f);
	rm_model_input_at(b->model, input)->records = records;
	return 0;
}

static unsigned nir_row(struct rl_row *r)
{
	struct rl_build *b = r->b;
	if (r->nf != 3) {
		rl_error(b, r->name, r->line, "%u fields, expected registry,holder_id,nir", r->nf);
		return 0;
	}
	struct rl_span reg = rl_trim(r->f[0]), id = rl_trim(r->f[1]), nir = rl_trim(r->f[2]);
	int rir = rm_rir_from_name(reg.s, reg.len);
	if (rir < RM_RIR_AFRINIC) {
		rl_error(b, r->name, r->line, "unknown registry '%.*s'", (int)reg.len, reg.s);
		return 0;
	}
	int n = rm_nir_from_name(nir.s, nir.len);
	if (n <= RM_NIR_NONE) {
		rl_error(b, r->name, r->line, "unknown NIR '%.*s'", (int)nir.len, nir.s);
		return 0;
	}
	if (!rl_text_ok(b, r->name, r->line, "holder id", id, 1))
		return 0;
	struct rl_nir_id x = {.rir = (uint32_t)rir,
			      .id = rl_intern(b, id.s, id.len),
			      .nir = (uint32_t)n,
			      .input = r->input,
			      .line = r->line};
	rl_add_nir_id(b, &x);
	return 1;
}

int rl_load_nir_ids(struct rl_build *b, const char *name, const char *data, size_t len)
{
	return rl_load_csv(b, name, data, len, RM_IN_NIR_IDS, 1, nir_row);
}
