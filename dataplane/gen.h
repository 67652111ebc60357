/*
 * gen.h - one snapshot generation (gen.c): the mapped snapshot, its
 * lookups (the located layer's too, built here on the main lcore) and
 * reporter, and one counter block per worker, since attribution ids mean
 * nothing across snapshots.
 *
 * A worker (an lcore of the live dataplane, a thread of the capture
 * reader) reads only the view; only it writes its own counter block;
 * readings (rm_gen_read) sum the blocks.
 */
#ifndef RM_GEN_H
#define RM_GEN_H

#include "counters.h"
#include "ipfix.h"
#include "lookup.h"
#include "rows.h"
#include "transition.h"

/* What a worker needs of one snapshot generation. */
struct rm_gen_view {
	/* Held here, not behind a pointer: a burst's bulk lookup loads its
	 * function and table from the view it already has, as many loads as
	 * calling a variant by hand. */
	struct rm_lookup lookup;
	const uint8_t *rir_of;
	struct rm_counters *counters;	  /* indexed by worker */
	const struct rm_ipfix_ends *ends; /* each id's enrichment, encoded for export */
	struct rm_via_map via;		  /* the ids a transition address can have */
	/* The located layer's tables (lookup.h rm_geo_lookup) as a lookup of
	 * their own: IPv4 answers located ids, IPv6 pair ids (both answers
	 * in one walk), which pair6 splits into attribution and located ids
	 * (rm_loc_pair_split, by the address's region).  v4 NULL: the
	 * snapshot has no layer, and bursts count as they did without. */
	struct rm_lookup located;
	const struct rm_loc_pairs *pair6;
};

struct rm_gen {
	struct rm_gen_view view; /* what workers read */
	struct rm_snapshot *snap;
	struct rm_reporter rep;
	struct rm_ipfix_ends ends;
	struct rm_counters *counters; /* one block per worker */
	unsigned n_workers;
	struct rm_counters prev;       /* cumulative at the last export */
	struct rm_counters cum, delta; /* scratch for readings, sized for this snapshot */
	char id[24];		       /* from the snapshot's checksum */
	char inputs[512];	       /* registry:serial of its statistics files */
	/* The NAT64 prefixes: --nat64's (or the well-known ones), the snapshot's. */
	struct rm_transition transition;
	struct rm_geo_lookup geo; /* the located layer's tables; geo.loc NULL: none */
};

/* Process-wide, set once before the first generation opens: the NAT64
 * prefixes (well-known and --nat64) transition addresses are read by; each
 * generation adds its snapshot's (rirdb build --nat64). */
void rm_gen_transition(const struct rm_transition *t);
/* Process-wide, set once before the first generation opens: whether a
 * snapshot's located layer is counted (rirmeter --no-located: not; its
 * tables are then not built). */
void rm_gen_located(bool on);

/* The generation of the snapshot at path (opened with snap_flags,
 * snapshot.h: RM_SNAP_HUGEPAGE for a long run, whose lookups repay the
 * copy; 0 maps the file, for a batch that reads it once), with n_workers
 * counter blocks, or NULL with a reason (a refused file, or out of
 * memory). */
struct rm_gen *rm_gen_open(const char *path, unsigned n_workers, unsigned snap_flags, char *err,
			   size_t errlen);
void rm_gen_free(struct rm_gen *g);
/* The sum of the workers' counters so far. */
void rm_gen_read(const struct rm_gen *g, struct rm_counters *out);

#endif
