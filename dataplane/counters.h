/*
 * counters.h - one lcore's counters, and how a frame or a flow record adds
 * to them (counters.c).
 *
 * Workers count by attribution id only (one add per direction per packet)
 * into counters that only they write.  Counters are 64-bit and naturally
 * aligned, so the main lcore's reads see whole values without locks; each
 * interval's line is the difference of two such readings (rows.h).
 */
#ifndef RM_COUNTERS_H
#define RM_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "parse.h"
#include "transition.h"

enum rm_dir { RM_SRC, RM_DST, RM_DIRS };

/* Packets and bytes side by side: one cache line touched per count. */
struct rm_cell {
	uint64_t pkts, bytes;
};

/* One lcore's counters; only that lcore writes them.  Every received
 * frame ends in exactly one of attributed, non_ip, malformed, flow (a
 * datagram taken as flow export) or not_flow (IP traffic ignored under
 * --flows-only).  Flow records add their packets and bytes to by_id and
 * the pairs, and count in records.  Tunnels count apart from that
 * balance: each encapsulation a frame crosses in tunnel[kind], and what
 * its innermost packet is when that is not IP in tunnel_non_ip or
 * tunnel_malformed[reason], whatever --tunnels says.  With --tunnels both,
 * the innermost addresses of every attributed frame count in inner_by_id
 * and inner_pair (NULL otherwise: rm_counters_layers).  An address
 * attributed as the IPv4 it carries (6to4, Teredo, NAT64) counts once in
 * via[how], with its frame's or record's packets and bytes.
 *
 * With a located layer (lookup.h struct rm_located; n_loc > 0), every
 * attributed address also counts by its located id: in by_loc, or, for a
 * flow record's address whose AS the record itself carries (the
 * exporter's BGP view), in by_loc_rec instead and in rec_as by that AS.
 * The asn scope takes by_loc's AS from the database and rec_as from the
 * records; the other located scopes the sum of by_loc and by_loc_rec.
 * Nothing is subtracted, so a reading taken while a worker counts (each
 * cell read once, at some moment) never goes below zero.  asn_record and
 * asn_database count the records' addresses by where their AS came from. */
struct rm_counters {
	uint64_t received, rx_bytes, attributed, attributed_bytes, non_ip, non_ip_bytes;
	uint64_t flow, flow_bytes, not_flow, not_flow_bytes, records;
	uint64_t asn_record, asn_database;
	uint64_t malformed[RM_BAD_COUNT];
	uint64_t malformed_bytes[RM_BAD_COUNT];
	struct rm_cell pair[RM_RIR_COUNT][RM_RIR_COUNT]; /* [source rir][destination rir] */
	struct rm_cell tunnel[RM_TUN_COUNT], tunnel_non_ip, tunnel_malformed[RM_BAD_COUNT];
	struct rm_cell inner_pair[RM_RIR_COUNT][RM_RIR_COUNT];
	struct rm_cell via[RM_VIA_COUNT];     /* addresses attributed as the IPv4 they carry */
	struct rm_cell rec_as_full[RM_DIRS];  /* record ASes beyond rec_as' capacity */
	struct rm_cell *by_id[RM_DIRS];	      /* indexed by attribution id */
	struct rm_cell *inner_by_id[RM_DIRS]; /* the same, innermost addresses, or NULL */
	struct rm_cell *by_loc[RM_DIRS];      /* indexed by located id, or NULL */
	struct rm_cell *by_loc_rec[RM_DIRS];  /* the same, AS from the record, or NULL */
	struct rm_as_cells *rec_as[RM_DIRS];  /* by the record's AS, or NULL */
	uint32_t n_ids, n_loc;
} __attribute__((aligned(64)));

/*
 * Cells by AS number: open addressing, linear probing, at most half full
 * (max numbers; further ones count in the owner's rec_as_full).  A slot's
 * number, once set, never changes, so a reader on another lcore sees a
 * number with its cell (which may lag) or an empty slot.  A worker's
 * table holds RM_AS_CELLS_MAX numbers; a reading's (the sum of n workers'
 * tables) n times as many, so that it never fills: every number of an
 * earlier reading is then in a later one (rm_counters_sub relies on it).
 */
#define RM_AS_CELLS_MAX (1u << 16)
struct rm_as_cells {
	uint32_t mask, shift; /* slots - 1; 32 - log2(slots), for the hash */
	uint32_t n, max;
	uint32_t *asn; /* 0: empty */
	struct rm_cell *cell;
};

/* The first slot to probe for AS asn: the top bits of a Fibonacci hash. */
static inline uint32_t rm_as_slot(const struct rm_as_cells *t, uint32_t asn)
{
	return (asn * 2654435761u) >> t->shift;
}

/* The cell of AS asn in t, NULL when t has none. */
static inline const struct rm_cell *rm_as_find(const struct rm_as_cells *t, uint32_t asn)
{
	for (uint32_t i = rm_as_slot(t, asn); t->asn[i]; i = (i + 1) & t->mask)
		if (t->asn[i] == asn)
			return &t->cell[i];
	return NULL;
}

/* The cell of AS asn (not 0) in t, added when new; NULL when t is full. */
static inline struct rm_cell *rm_as_cell(struct rm_as_cells *t, uint32_t asn)
{
	uint32_t i = rm_as_slot(t, asn);
	while (t->asn[i] != asn) {
		if (!t->asn[i]) {
			if (t->n >= t->max)
				return NULL;
			t->n++;
			t->asn[i] = asn;
			break;
		}
		i = (i + 1) & t->mask;
	}
	return &t->cell[i];
}

/* Process-wide, set once at start (--tunnels both): every counter block
 * rm_counters_init makes from then on has the inner scopes. */
void rm_counters_layers(bool inner);
/* The same for the flow records' own AS numbers (--flows): by_loc_rec and
 * rec_as, in blocks with a located layer. */
void rm_counters_record_as(bool on);
/* c for n_ids attribution ids and n_loc located ids (0: no layer), to
 * hold the sum of `sums` workers' blocks (1 for a worker's own). */
int rm_counters_init(struct rm_counters *c, uint32_t n_ids, uint32_t n_loc, unsigned sums);
void rm_counters_free(struct rm_counters *c);
void rm_counters_zero(struct rm_counters *c);
void rm_counters_copy(struct rm_counters *dst, const struct rm_counters *src);
/* dst += src, field by field (a reading of live counters). */
void rm_counters_add(struct rm_counters *dst, const struct rm_counters *src);
/* d = a - b (an interval), field by field. */
void rm_counters_sub(struct rm_counters *d, const struct rm_counters *a,
		     const struct rm_counters *b);

/* Packets and bytes added to a cell as one 16-byte vector: a frame's three
 * cells cost three loads, adds and stores, not six of each. */
typedef uint64_t rm_cell_add_t __attribute__((vector_size(16)));

static inline void rm_cell_add(struct rm_cell *cell, rm_cell_add_t add)
{
	rm_cell_add_t v;
	memcpy(&v, cell, sizeof(v));
	v += add;
	memcpy(cell, &v, sizeof(v));
}

/*
 * Where counts go, taken out of the counters once per batch: a cell's
 * store may alias anything, so pointers read through c would be read
 * again after every one.
 */
struct rm_count_to {
	struct rm_cell *src, *dst;
	struct rm_cell (*pair)[RM_RIR_COUNT];
	const uint8_t *rir_of;
};

static inline struct rm_count_to rm_count_to(struct rm_counters *c, const uint8_t *rir_of)
{
	return (struct rm_count_to){c->by_id[RM_SRC], c->by_id[RM_DST], c->pair, rir_of};
}

/* Count pkts packets of bytes bytes between two attribution ids: a frame
 * (the caller adds its frames to attributed and attributed_bytes once per
 * burst) or a flow record (already scaled; the caller counts records). */
static inline void rm_count(const struct rm_count_to *to, uint32_t src_id, uint32_t dst_id,
			    uint64_t pkts, uint64_t bytes)
{
	const rm_cell_add_t add = {pkts, bytes};
	rm_cell_add(&to->src[src_id], add);
	rm_cell_add(&to->dst[dst_id], add);
	rm_cell_add(&to->pair[to->rir_of[src_id]][to->rir_of[dst_id]], add);
}

#endif
