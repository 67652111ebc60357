/*
 * mmdb.c - MaxMind DB files a user supplies, into the located layer
 * (geo.c): a country file and/or an ASN file, read with libmaxminddb.
 *
 * The fields, in the layouts the public files use:
 *   country: "country" -> "iso_code" (GeoLite2), or a top-level
 *            "country_code" (DB-IP lite, ip-location-db);
 *   AS:      "autonomous_system_number" (GeoLite2 ASN), or "asn".
 * A file that has either country field is a country source, one with
 * either AS field an ASN source (a file may be both); the field it
 * carries overrides the location database's for the networks it lists.
 *
 * libmaxminddb looks addresses up but does not list networks, so the
 * search tree is walked here node by node (MMDB_read_node), each data
 * record at depth d being the network of the d bits walked.  In an IPv6
 * tree the IPv4 space is the subtree under ::/96; MaxMind also links it
 * from ::ffff:0:0/96 and 2002::/16, and those paths are walked too, as the
 * IPv6 networks they are, so that every address answers as mmdblookup
 * answers it.  Every record is bounded by the metadata's node count and
 * the tree's depth (a walk ends at 128 bits), and the nodes visited in all
 * by a budget of a few times the node count: a tree is a DAG once aliases
 * share the IPv4 subtree, and a hostile one whose every node links both
 * sides to the next names 2^depth networks in a few hundred bytes (2^32
 * of them, hundreds of GB, from an IPv4 file).  A file over budget is
 * refused whole.
 */
#include <maxminddb.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "output.h"

struct walk {
	struct rl_build *b;
	MMDB_s *db;
	unsigned bits; /* 32 or 128 */
	unsigned records, bad;
	uint64_t visits, budget; /* nodes read, and how many may be */
	int over;		 /* the budget ran out */
	int country, asn;	 /* the layers found in the file */
};

/* Nodes a walk may read: each node once per path to it, and the aliases
 * of the IPv4 subtree (::ffff:0:0/96, 2001::/32, 2002::/16) are the only
 * shared paths a real file has. */
#define VISITS_PER_NODE 16

/* The fields of a data record: 1 for each found. */
static void record_fields(MMDB_entry_s *e, char cc[2], int *has_cc, uint32_t *asn, int *has_asn)
{
	MMDB_entry_data_s d;
	*has_cc = *has_asn = 0;
	if ((MMDB_get_value(e, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data) ||
	    (MMDB_get_value(e, &d, "country_code", NULL) == MMDB_SUCCESS && d.has_data)) {
		if (d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2 &&
		    d.utf8_string[0] >= 'A' && d.utf8_string[0] <= 'Z' && d.utf8_string[1] >= 'A' &&
		    d.utf8_string[1] <= 'Z') {
			cc[0] = d.utf8_string[0];
			cc[1] = d.utf8_string[1];
		} else {
			cc[0] = cc[1] = '\0'; /* a field, but not a country we keep */
		}
		*has_cc = 1;
	}
	if ((MMDB_get_value(e, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
	     d.has_data) ||
	    (MMDB_get_value(e, &d, "asn", NULL) == MMDB_SUCCESS && d.has_data)) {
		*has_asn = 1;
		*asn = d.type == MMDB_DATA_TYPE_UINT32	 ? d.uint32
		       : d.type == MMDB_DATA_TYPE_UINT16 ? d.uint16
		       : d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX
			   ? (uint32_t)d.uint64
			   : 0;
	}
}

static void add_network(struct walk *w, rm_u128 prefix, unsigned depth, MMDB_entry_s *e)
{
	char cc[2] = {0, 0};
	uint32_t asn = 0;
	int has_cc, has_asn;
	record_fields(e, cc, &has_cc, &asn, &has_asn);
	rm_u128 span = depth >= 128 ? 0 : (~(rm_u128)0 >> depth);
	unsigned family = RM_V6;
	rm_u128 first = prefix, last = prefix | span;
	if (w->bits == 32) {
		family = RM_V4;
		first >>= 96;
		last >>= 96;
	} else if (depth >= 96 && (prefix >> 32) == 0) { /* under ::/96: IPv4 */
		family = RM_V4;
	}
	if (has_cc) {
		rl_add_geo(w->b, RL_GEO_COUNTRY, family, first, last, cc, 0);
		w->country = 1;
	}
	if (has_asn) {
		rl_add_geo(w->b, RL_GEO_ASN, family, first, last, cc, asn);
		w->asn = 1;
	}
	w->records++;
}

/* The subtree at node, whose addresses start with the depth bits of prefix
 * (kept in the top bits of a 128-bit key). */
static void walk(struct walk *w, uint32_t node, unsigned depth, rm_u128 prefix)
{
	MMDB_search_node_s n;
	if (w->visits++ >= w->budget) {
		w->over = 1;
		return;
	}
	if (depth >= w->bits || MMDB_read_node(w->db, node, &n) != MMDB_SUCCESS) {
		w->bad++;
		return;
	}
	for (unsigned side = 0; side < 2; side++) {
		rm_u128 p = side ? prefix | ((rm_u128)1 << (127 - depth)) : prefix;
		uint64_t rec = side ? n.right_record : n.left_record;
		uint8_t type = side ? n.right_record_type : n.left_record_type;
		if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
			if (rec >= w->db->metadata.node_count) {
				w->bad++;
				continue;
			}
			walk(w, (uint32_t)rec, depth + 1, p);
		} else if (type == MMDB_RECORD_TYPE_DATA) {
			MMDB_entry_s e = side ? n.right_record_entry : n.left_record_entry;
			add_network(w, p, depth + 1, &e);
		} else if (type == MMDB_RECORD_TYPE_INVALID) {
			w->bad++;
		}
	}
}

int rl_load_mmdb(struct rl_build *b, const char *name, const char *path)
{
	uint32_t input = rl_new_input(b, name, RM_IN_MMDB);
	MMDB_s db;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (rc != MMDB_SUCCESS) {
		rl_error(b, name, 0, "not a MaxMind DB libmaxminddb can read: %s",
			 MMDB_strerror(rc));
		b->failed_io = 1;
		return -1;
	}
	struct walk w = {.b = b, .db = &db};
	w.bits = db.metadata.ip_version == 4 ? 32 : 128;
	w.budget = (uint64_t)db.metadata.node_count * VISITS_PER_NODE + 1024;
	uint32_t n_geo = b->n_geo;
	if (db.metadata.node_count)
		walk(&w, 0, 0, 0);
	if (w.over) {
		b->n_geo = n_geo; /* none of its networks */
		rl_error(b, name, 0,
			 "search tree of %u nodes reaches more than %llu of them by its paths "
			 "(nodes shared beyond the IPv4 aliases): not read",
			 db.metadata.node_count, (unsigned long long)w.budget);
		MMDB_close(&db);
		return -1;
	}
	struct rm_input *in = rm_model_input_at(b->model, input);
	in->records = w.records;
	const char *type = db.metadata.database_type;
	if (type && *type && rm_utf8_valid(type, strlen(type)) &&
	    strlen(type) <= RM_HOLDER_TEXT_MAX)
		in->serial = rl_intern(b, type, strlen(type));
	time_t made = (time_t)db.metadata.build_epoch;
	struct tm tm;
	if (made > 0 && gmtime_r(&made, &tm))
		in->start_date = in->end_date =
		    (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
	MMDB_close(&db);
	if (w.bad)
		rl_error(b, name, 0, "%u records of the search tree are malformed", w.bad);
	if (!w.country && !w.asn)
		rl_error(b, name, 0,
			 "no country (country.iso_code, country_code) or AS "
			 "(autonomous_system_number, asn) field in any record");
	return 0;
}
