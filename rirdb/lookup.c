/*
 * lookup.c - rirdb lookup -d FILE [--asn] [--format csv|json] [--reference]
 *            [--nat64 PREFIX,...] [ADDR|ASN ...]
 *
 * One row per address or AS number (from the arguments, else one per line
 * of standard input): registry, status, country, NIR, holder (its name
 * where one was loaded, and where the name came from), the holder's AS
 * numbers, with a located layer the country, origin AS and origin (whether
 * that AS is the holder's: rm_ref_origin), the block and the record it
 * came from.  A 6to4, Teredo or NAT64 address (well-known prefixes, and
 * --nat64's) is answered as the IPv4 it carries (Teredo: the client's),
 * with `via` saying how, `embedded` that IPv4 and
 * `teredo_server` the Teredo server's (transition.h).  A bad address gets
 * an error row and the run goes on, then exits 1.  --reference answers
 * from the range lists (the oracle) instead of the lookup tables.  The
 * holder's AS numbers come from an index built once per run (holders.c):
 * a run may answer millions of addresses.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loaders.h"
#include "lookup.h"
#include "output.h"
#include "rirdb.h"
#include "snapshot.h"
#include "transition.h"

enum out_format { OUT_CSV, OUT_JSON };

struct answer {
	const char *addr;
	const char *error; /* NULL when answered */
	const char *rir, *status, *nir, *holder, *holder_id, *holder_source, *source;
	char cc[3], geo_cc[3], origin_asn[16];
	uint32_t attr;	    /* the attribution answered */
	const char *origin; /* "" for an AS number */
	char holder_asns[RIRDB_HOLDER_ASNS_MAX];
	char block[RM_TEXT_MAX], range[RM_TEXT_MAX], date[16];
	unsigned line;
	const char *via;	       /* "" unless a transition address */
	char embedded[16], server[16]; /* dotted quads, or "" */
	uint32_t embedded_v4;	       /* the IPv4 attributed, when via is set */
};

static void csv_field(FILE *o, const char *s, int last)
{
	rm_put_csv_field(o, s);
	fputc(last ? '\n' : ',', o);
}

static void json_string(FILE *o, const char *key, const char *s, int first)
{
	fprintf(o, "%s\"%s\":", first ? "{" : ",", key);
	rm_put_json_string(o, s);
}

static const char *const columns[] = {
    "addr",	   "rir",	    "cc",     "status",	    "nir",	     "holder", "holder_id",
    "holder_asns", "holder_source", "geo_cc", "origin_asn", "origin",	     "block",  "range",
    "date",	   "source",	    "via",    "embedded",   "teredo_server", "error"};
#define N_COLUMNS  (sizeof(columns) / sizeof(columns[0]))
#define COL_GEO_CC 9 /* then origin_asn and origin: only with a located layer */
#define N_GEO_COLS 3

/* The snapshot has a located layer: geo_cc, origin_asn and origin are printed. */
static int with_geo;

static int column_shown(size_t i)
{
	return with_geo || i < COL_GEO_CC || i >= COL_GEO_CC + N_GEO_COLS;
}

/* The CSV header. */
static void print_header(FILE *o)
{
	size_t last = N_COLUMNS - 1;
	for (size_t i = 0; i < N_COLUMNS; i++)
		if (column_shown(i))
			csv_field(o, columns[i], i == last);
}

static void print_answer(FILE *o, enum out_format fmt, const struct answer *a)
{
	char src[4096] = "";
	if (a->source)
		snprintf(src, sizeof(src), "%s:%u", a->source, a->line);
	const char *v[N_COLUMNS] = {a->addr,
				    a->error ? "" : a->rir,
				    a->error ? "" : a->cc,
				    a->error ? "" : a->status,
				    a->error ? "" : a->nir,
				    a->error ? "" : a->holder,
				    a->error ? "" : a->holder_id,
				    a->holder_asns,
				    a->error ? "" : a->holder_source,
				    a->error ? "" : a->geo_cc,
				    a->error ? "" : a->origin_asn,
				    a->error || !a->origin ? "" : a->origin,
				    a->block,
				    a->range,
				    a->date,
				    src,
				    a->via ? a->via : "",
				    a->embedded,
				    a->server,
				    a->error ? a->error : ""};
	if (fmt == OUT_CSV) {
		for (size_t i = 0; i < N_COLUMNS; i++)
			if (column_shown(i))
				csv_field(o, v[i], i + 1 == N_COLUMNS);
		return;
	}
	for (size_t i = 0; i < N_COLUMNS; i++)
		if (column_shown(i) &&
		    (i == 0 || (a->error ? i + 1 == N_COLUMNS : i + 1 < N_COLUMNS)))
			json_string(o, columns[i], v[i], i == 0);
	fputs("}\n", o);
}

/* --reference: answer from the range lists alone (the oracle), not the tables. */
static int use_reference;
/* Every holder's AS numbers, built once per run. */
static struct rirdb_asn_index asn_index;

static void fill_answer(const struct rm_lookup *l, struct answer *a, enum rm_family fam,
			rm_u128 key, uint32_t range)
{
	const struct rm_db *db = l->db;
	const struct rm_ranges32 *r32 = fam == RM_V4 ? &db->v4 : &db->asn;
	/* Addresses are answered by the tables the dataplane uses; the range
	 * list (the reference) supplies the provenance block. */
	uint8_t b6[16];
	rm_v6_to_bytes(key, b6);
	uint32_t id = use_reference || fam == RM_ASN
			  ? (fam == RM_V6 ? db->v6.id[range] : r32->id[range])
		      : fam == RM_V4 ? rm_lookup4_one(l, (uint32_t)key)
				     : rm_lookup6_one(l, b6);
	uint32_t blk = fam == RM_V6 ? db->v6.block[range] : r32->block[range];
	const struct rm_attr *at = &db->attrs[id];
	a->attr = id;
	a->rir = rm_rir_name(at->rir);
	a->status = rm_status_name(at->status);
	a->cc[0] = at->cc[0];
	a->cc[1] = at->cc[1];
	a->cc[2] = '\0';
	a->holder_id = rm_str(db, at->holder_id);
	a->holder = at->holder_name ? rm_str(db, at->holder_name) : a->holder_id;
	a->nir = rm_nir_name(at->nir);
	a->holder_source = rm_name_source_name(at->name_source);
	rirdb_holder_asns(&asn_index, db, at, a->holder_asns, sizeof(a->holder_asns));
	if (blk != RM_NO_BLOCK) {
		const struct rm_block *b = &db->blocks[blk];
		rm_format_block(b, key, a->block);
		rm_format_range(b, a->range);
		rm_format_date(b->date, a->date);
		a->source = rm_str(db, db->inputs[b->input].name);
		a->line = b->line;
	}
}

/* The NAT64 prefixes: the well-known ones and --nat64's. */
static struct rm_transition transition;

/* An IPv4 address (host order) as a dotted quad. */
static void dotted(uint32_t v4, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255);
}

/* The located layer's answer for the address as written: a transition
 * address's own network, as the location database and mmdblookup see it
 * (rir, country and holder follow the IPv4 it carries).  origin: whether
 * the origin AS of the address attributed is the holder's of the
 * attribution the row shows; for a transition address that is the IPv4
 * it carries, as rirmeter and rirdb scan count it, so that the holder and
 * the AS compared are of one network. */
static void fill_located(const struct rm_db *db, struct answer *a, enum rm_family fam, rm_u128 key)
{
	if (!db->n_geo)
		return;
	const struct rm_geo *g =
	    &db->geo[fam == RM_V4 ? rm_ref_geo4(db, (uint32_t)key) : rm_ref_geo6(db, key)];
	a->geo_cc[0] = g->cc[0];
	a->geo_cc[1] = g->cc[1];
	if (g->asn)
		snprintf(a->origin_asn, sizeof(a->origin_asn), "AS%u", g->asn);
	uint32_t asn = a->via && *a->via ? db->geo[rm_ref_geo4(db, a->embedded_v4)].asn : g->asn;
	a->origin = rm_origin_name(rm_ref_origin(db, a->attr, asn));
}

/* An IPv6 address: as the IPv4 it carries when it is a transition
 * address, else as itself. */
static void answer6(const struct rm_lookup *l, struct answer *a, rm_u128 v6)
{
	uint8_t b6[16];
	uint32_t v4, server;
	rm_v6_to_bytes(v6, b6);
	enum rm_via via = rm_transition_embedded(&transition, b6, &v4, &server);
	if (via == RM_VIA_NONE)
		return fill_answer(l, a, RM_V6, v6, rm_ref_find6(l->db, v6));
	fill_answer(l, a, RM_V4, v4, rm_ref_find4(l->db, v4));
	a->via = rm_via_name(via);
	a->embedded_v4 = v4;
	dotted(v4, a->embedded);
	if (via == RM_VIA_TEREDO)
		dotted(server, a->server);
}

/* Answer one query; returns 0, or -1 after printing an error row. */
static int lookup_one(const struct rm_lookup *l, const char *q, int asn_mode, enum out_format fmt)
{
	const struct rm_db *db = l->db;
	struct answer a;
	memset(&a, 0, sizeof(a));
	a.addr = q;
	size_t len = strlen(q);
	uint32_t v4, asn;
	rm_u128 v6;
	int is_as = len >= 2 && (q[0] == 'A' || q[0] == 'a') && (q[1] == 'S' || q[1] == 's');
	if ((is_as || asn_mode) && rl_parse_asn(q, len, &asn) == 0) {
		fill_answer(l, &a, RM_ASN, asn, rm_ref_findasn(db, asn));
	} else if (!is_as && !asn_mode && rl_parse_v4(q, len, &v4) == 0) {
		fill_answer(l, &a, RM_V4, v4, rm_ref_find4(db, v4));
		fill_located(db, &a, RM_V4, v4);
	} else if (!is_as && !asn_mode && rl_parse_v6(q, len, &v6) == 0) {
		answer6(l, &a, v6);
		fill_located(db, &a, RM_V6, v6);
	} else {
		a.error = is_as || asn_mode ? "not an AS number" : "not an IPv4 or IPv6 address";
	}
	print_answer(stdout, fmt, &a);
	return a.error ? -1 : 0;
}

int rirdb_lookup(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"asn", no_argument, NULL, 'a'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"reference", no_argument, NULL, 'r'},
	    {"nat64", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	rm_transition_init(&transition);
	const char *path = NULL;
	int asn_mode = 0, c;
	enum out_format fmt = OUT_CSV;
	while ((c = getopt_long(argc, argv, "d:af:hrn:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'a':
			asn_mode = 1;
			break;
		case 'r':
			use_reference = 1;
			break;
		case 'n':
			if (rm_transition_add(&transition, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirdb lookup: %s\n", err);
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "csv") == 0) {
				fmt = OUT_CSV;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = OUT_JSON;
			} else {
				fprintf(stderr, "rirdb lookup: --format is csv or json, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		default: /* -h, or a bad option */
			return rirdb_usage_exit(c);
		}
	}
	struct rm_snapshot *s = rirdb_open_snapshot(path);
	if (!s)
		return path ? 1 : 2;
	struct rm_lookup l;
	rm_lookup_bind(&l, s, RM_SIMD_BEST); /* always binds */
	if (rirdb_asn_index_build(l.db, &asn_index)) {
		fprintf(stderr, "rirdb lookup: out of memory\n");
		rm_snapshot_close(s);
		return 1;
	}
	with_geo = l.db->n_geo > 0;
	if (rm_transition_add_db(&transition, l.db, err, sizeof(err))) { /* build --nat64's */
		fprintf(stderr, "rirdb lookup: %s\n", err);
		rirdb_asn_index_free(&asn_index);
		rm_snapshot_close(s);
		return 1;
	}
	if (fmt == OUT_CSV)
		print_header(stdout);
	/* 64 bits: a count of 2^32 bad queries in 32 would read 0, and the
	 * run would exit 0 as if every query had been answered. */
	uint64_t bad = 0;
	int read_failed = 0;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			bad += lookup_one(&l, argv[i], asn_mode, fmt) != 0;
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t got;
		while ((got = getline(&line, &cap, stdin)) >= 0) {
			char *p = line, *e = line + got;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p &&
			       (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*e = '\0';
			if (*p == '\0' || *p == '#')
				continue;
			bad += lookup_one(&l, p, asn_mode, fmt) != 0;
		}
		/* getline's -1 is also a read error: the queries after it were
		 * never answered. */
		if (ferror(stdin)) {
			fprintf(stderr, "rirdb lookup: standard input: %s\n", strerror(errno));
			read_failed = 1;
		}
		free(line);
	}
	rirdb_asn_index_free(&asn_index);
	rm_snapshot_close(s);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "rirdb lookup: write error: %s\n", strerror(errno));
		return 1;
	}
	if (bad)
		fprintf(stderr, "rirdb lookup: %" PRIu64 " bad quer%s\n", bad,
			bad == 1 ? "y" : "ies");
	return bad || read_failed ? 1 : 0;
}
