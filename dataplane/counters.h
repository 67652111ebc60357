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
 * via[how], with its frame's or record's packets and bytes. */
struct rm_counters {
	uint64_t received, rx_bytes, attributed, attributed_bytes, non_ip, non_ip_bytes;
	uint64_t flow, flow_bytes, not_flow, not_flow_bytes, records;
	uint64_t malformed[RM_BAD_COUNT];
	uint64_t malformed_bytes[RM_BAD_COUNT];
	struct rm_cell pair[RM_RIR_COUNT][RM_RIR_COUNT]; /* [source rir][destination rir] */
	struct rm_cell tunnel[RM_TUN_COUNT], tunnel_non_ip, tunnel_malformed[RM_BAD_COUNT];
	struct rm_cell inner_pair[RM_RIR_COUNT][RM_RIR_COUNT];
	struct rm_cell via[RM_VIA_COUNT];     /* addresses attributed as the IPv4 they carry */
	struct rm_cell *by_id[RM_DIRS];	      /* indexed by attribution id */
	struct rm_cell *inner_by_id[RM_DIRS]; /* the same, innermost addresses, or NULL */
	uint32_t n_ids;
} __attribute__((aligned(64)));

/* Process-wide, set once at start (--tunnels both): every counter block
 * rm_counters_init makes from then on has the inner scopes. */
void rm_counters_layers(bool inner);
int rm_counters_init(struct rm_counters *c, uint32_t n_ids);
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
