/*
 * rows.h - counters turned into keyed rows (rows.c).
 *
 * A row is one (snapshot, scope, direction, key) with packets and bytes;
 * the scopes are rir, country, nir, holder, rir_pair and health, and with
 * a located layer geo_country, country_located, asn and origin (rows.c).  Counters of
 * different snapshots (whose ids differ) meet here, after each side has
 * been turned into keys, so outputs never see attribution ids.
 */
#ifndef RM_ROWS_H
#define RM_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "flow.h"
#include "ipfix.h"
#include "lookup.h"
#include "model.h"

/*
 * What the exporters need to know about one snapshot, computed once: the
 * registry of each id, and each id's country, NIR and holder key as an
 * index into a list of distinct keys ("ripencc:DE", "apnic:jpnic",
 * "afrinic:F364712F", "local:office"; "none" for no holder), with each
 * holder key's display name ("" when none; interned, rm_name_intern).
 */
struct rm_reporter {
	const struct rm_db *db;
	uint32_t n_ids;
	uint8_t *rir_of;
	uint32_t *country_of, *nir_of, *holder_of;
	char **country_keys, **nir_keys, **holder_keys;
	const char **holder_names; /* [n_holder] */
	uint32_t n_country, n_nir, n_holder;
	/* The located layer (rm_reporter_located; n_loc 0 without one): per
	 * located id, the located country (rm_cc_index), the registered >
	 * located pair (an index into pairs, each reg * RM_CC_CODES + loc),
	 * the AS (an index into asns: distinct, sorted, asns[0] 0 for none)
	 * and the origin (enum rm_origin). */
	uint32_t n_loc, n_pairs, n_asns;
	uint16_t *loc_cc;
	uint32_t *loc_pair, *loc_asn, *pairs, *asns;
	uint8_t *loc_origin;
	const char **asn_names; /* [n_asns]: rm_asn_name's, interned */
};

/* A country code as an index below RM_CC_CODES: two letters A-Z, and
 * "ZZ" (unknown) for none or anything else. */
#define RM_CC_CODES (26 * 26)
static inline unsigned rm_cc_index(const char cc[2])
{
	if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
		return RM_CC_CODES - 1;
	return (unsigned)(cc[0] - 'A') * 26 + (unsigned)(cc[1] - 'A');
}

int rm_reporter_init(struct rm_reporter *r, const struct rm_db *db);
/* The located layer's part of r, from g (no layer: nothing to do).  0, or
 * -1 out of memory. */
int rm_reporter_located(struct rm_reporter *r, const struct rm_geo_lookup *g);
void rm_reporter_free(struct rm_reporter *r);

/*
 * Rows: what the exporters write, one per (snapshot, scope, dir, key).
 * Counters of different snapshots (ids differ between them) meet here,
 * after each side has been turned into keys.
 */
struct rm_row {
	char snap[24];		 /* the id of the snapshot that attributed them */
	const char *scope, *dir; /* static strings; dir NULL for rir_pair and health */
	char key[RM_KEY_MAX];	 /* every key of a checked snapshot, uncut */
	uint64_t packets, bytes;
	int has_bytes;
	/* holder rows: the holder's display name, "" when none; never NULL in
	 * a row of struct rm_rows.  Interned (rm_name_intern), not a pointer
	 * into the snapshot, which a reload unmaps while its rows live on. */
	const char *name;
};

struct rm_rows {
	struct rm_row *v;
	uint32_t n, cap;
};

/* Write the flow collector's health lines (flow_datagrams, flow_records,
 * not_flow, exporters): set once at start, when --flows is given. */
void rm_report_flows(bool on);
bool rm_report_flows_on(void);
/* Append the rows of counters c, attributed under r's snapshot `snap`. */
void rm_rows_of(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		struct rm_rows *out);
void rm_rows_append(struct rm_rows *dst, const struct rm_rows *src);
/* One row appended; key and snap are copied (cut to their fields' sizes,
 * a key between two characters). */
void rm_rows_push(struct rm_rows *rs, const char *snap, const char *scope, const char *dir,
		  const char *key, uint64_t packets, uint64_t bytes, int has_bytes);
/* The name of the row pushed last (interned; cut to RM_HOLDER_TEXT_MAX
 * bytes between characters). */
void rm_rows_name_last(struct rm_rows *rs, const char *name);
/*
 * name's copy in a pool kept for the life of the process: one per distinct
 * name, so rows hold a pointer (a row stays small; copying rows, as every
 * export does, copies no text), and it stays valid after the snapshot it
 * came from is unmapped.  The pool grows with the distinct names ever
 * loaded, as the cumulative counters grow with the keys ever counted, not
 * with the number of reloads.  "" for "".  Main lcore only, like every
 * caller of rows.c.  Out of memory aborts (common/grow.h's policy).
 */
const char *rm_name_intern(const char *name);
/* Sort and sum rows of equal (snapshot, scope, dir, key).  Of two names
 * for one key (a holder renamed by a reload, once the snapshots are
 * merged) a non-empty one is kept, of two non-empty ones the smaller, so
 * that the choice does not change from one reading to the next. */
void rm_rows_compact(struct rm_rows *rs);
void rm_rows_free(struct rm_rows *rs);
/* rs -= prev, row by row of equal (snapshot, scope, dir, key); both
 * compacted.  A row of rs smaller than prev's is a counter that restarted:
 * it stays as it is. */
void rm_rows_minus(struct rm_rows *rs, const struct rm_rows *prev);

/*
 * Health rows of the exporters of n states (workers), summed by key:
 * "flow/KIND/ADDRESS/DOMAIN/COUNTER" (exporters in the table now),
 * "flow/released/COUNTER" (those aged or evicted since, summed),
 * "flow/malformed.REASON", "flow/exporters_full", "flow/denied",
 * "flow/denied_from/ADDRESS" (top sources), "flow/aged", "flow/evicted".
 * Cumulative; rm_rows_minus turns two readings into an interval.  The
 * sum over exporters of a counter (released plus live) never goes back;
 * one exporter's rows restart from zero when it returns after release.
 */
void rm_flow_rows(struct rm_flow_state *const *st, unsigned n, const char *snap,
		  struct rm_rows *out);

/* The rir, country, nir, holder and rir_pair rows of rows with traffic,
 * sent as IPFIX aggregate records of the interval [start_ms, end_ms]
 * through x (ipfix.h). */
void rm_rows_to_ipfix(const struct rm_rows *rows, struct rm_ipfix *x, uint64_t start_ms,
		      uint64_t end_ms, uint64_t now_s);

#endif
