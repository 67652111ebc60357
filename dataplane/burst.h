/*
 * burst.h - a burst of frames attributed: classified, queued by family,
 * looked up in bulk and counted.  Header-only, static inline: it is the
 * hot loop of both the live dataplane (dataplane/dpdk/worker.c, frames in
 * mbufs) and the capture reader (batch.c, frames in a mapped file), and
 * each caller wants it inlined with its own frame type.
 *
 * A caller parses each frame with rm_burst_take, which queues the two
 * addresses of an IP frame (or decodes a flow export datagram) and counts
 * everything else (a plain frame, parse.h's rm_parse_plain, that is not
 * a flow datagram is queued straight from where its addresses are); then rm_burst_count looks the
 * queued addresses up, one bulk lookup per family, and adds packets and bytes per attribution id.
 * Where a frame's bytes are is the caller's: a flow datagram that is not
 * contiguous in the buffer rm_burst_take was given is fetched through the
 * caller's read function.
 *
 * Tunnels (--tunnels, parse.h) are each caller's mode, a constant: the
 * default (outer) takes frames with rm_burst_take, which only counts a
 * tunnel out of line; inner and both take them with rm_burst_take_layers.
 * Each caller instantiates one burst per mode, so that the default one
 * carries nothing of the others.  Transition addresses (6to4, Teredo,
 * NAT64: lookup/transition.h) are checked in the counting loop, one flag
 * per IPv6 id, and attributed out of line.  A snapshot with a located
 * layer (gen.h: view->located) is counted by a loop of its own, one more
 * bulk lookup for IPv4 (IPv6's one walk answers both ids: lookup.h
 * rm_loc_pair) and one more count per address; the default
 * --tunnels mode has an instance of its own for it (the callers'
 * process_outer_located, attribute_outer_located), the others test for it
 * once per burst.  Without the layer the default runs the loop it always
 * ran.
 */
#ifndef RM_BURST_H
#define RM_BURST_H

#include <stdbool.h>
#include <string.h>

#include "byteorder.h"
#include "counters.h"
#include "flow.h"
#include "gen.h"
#include "parse.h"

#define RM_MAX_BURST 64

/* The rare cases' hint (DPDK's rte_branch_prediction.h is not included:
 * the capture reader links no DPDK). */
#define rm_unlikely(x) __builtin_expect(!!(x), 0)

/* The addresses and lengths of one burst's IP frames, by family. */
struct rm_burst {
	uint32_t a4[2 * RM_MAX_BURST];
	uint8_t a6[2 * RM_MAX_BURST][16];
	uint32_t id4[2 * RM_MAX_BURST], id6[2 * RM_MAX_BURST];
	uint32_t loc4[2 * RM_MAX_BURST], loc6[2 * RM_MAX_BURST]; /* located ids */
	uint32_t len4[RM_MAX_BURST], len6[RM_MAX_BURST];
};

/*
 * len bytes at offset off of frame, contiguous: in place, or gathered into
 * buf (RM_FLOW_COPY bytes), or NULL when the frame holds fewer.
 */
typedef const uint8_t *(*rm_burst_read_fn)(const void *frame, uint32_t off, uint32_t len,
					   void *buf);

/*
 * An IP frame (parsed into f, its first avail bytes at p, len in all) on a
 * flow-collecting worker: decode it when it is a UDP datagram to a flow
 * port and return 1; 1 too when it is other traffic under --flows-only; 0
 * when it is traffic to attribute.
 */
static inline int rm_burst_flow(const struct rm_flow_config *flows, struct rm_flow_state *fs,
				struct rm_counters *c, const uint8_t *p, uint32_t avail,
				uint32_t len, const struct rm_frame *f, int family,
				rm_burst_read_fn read, const void *frame)
{
	int proto = -1;
	/* A later fragment has no UDP header to tell: it is traffic (a flow
	 * datagram's tail too; exporters do not fragment, and the first
	 * fragment is counted as a dropped datagram below). */
	if (f->proto == 17 && f->fragment != 2 && f->l4_off + 4u <= avail)
		proto = rm_flow_port(flows, rm_get_be16(p + f->l4_off + 2));
	if (proto < 0) {
		if (!flows->only)
			return 0;
		c->not_flow++;
		c->not_flow_bytes += len;
		return 1;
	}
	c->flow++;
	c->flow_bytes += len;
	if (f->fragment) {
		rm_flow_drop(fs, RM_FLOWBAD_FRAGMENT);
		return 1;
	}
	uint32_t ulen = f->l4_off + 8u <= avail ? rm_get_be16(p + f->l4_off + 4) : 0;
	if (ulen < 8 || ulen > f->l4_len) {
		rm_flow_drop(fs, RM_FLOWBAD_UDP);
		return 1;
	}
	/* The whole datagram, contiguous: in place, or gathered. */
	const uint8_t *payload = read(frame, f->l4_off + 8u, ulen - 8, fs->copy);
	if (!payload) {
		rm_flow_drop(fs, RM_FLOWBAD_UDP);
		return 1;
	}
	rm_flow_datagram(fs, (unsigned)proto, f->src, family, payload, ulen - 8);
	/* Re-export reads records where they are: a gathered datagram's copy is
	 * overwritten by the next one, so its records leave now. */
	struct rm_flow_batch *fb = &fs->batch;
	if (payload == fs->copy && fs->want_meta && (fb->n4 || fb->n6))
		fs->flush(fs, fs->flush_ctx);
	return 1;
}

/* Where a burst's addresses go: b the attributed ones (outermost, or
 * innermost under --tunnels inner), inner the innermost under --tunnels
 * both (else unused).  The counts are the caller's locals, so that they
 * stay in registers: stores into the burst could alias them. */
struct rm_burst_queues {
	struct rm_burst *b, *inner;
	uint32_t n4, n6, in4, in6;
};

/* An IPv6 pair (a: source, then destination) of which an id says it may
 * carry an IPv4 address (g->via): each id becomes that IPv4's
 * attribution when it does, counted by how, and its located id (loc, NULL
 * without a located layer) that IPv4's too, so that the registered and
 * the located answers are of one address.  Out of line: the rare case. */
static __attribute__((noinline, unused)) void
rm_burst_via(const struct rm_gen_view *g, struct rm_cell *count, const uint8_t (*a)[16],
	     uint32_t ids[2], uint32_t *loc, uint64_t pkts, uint64_t bytes)
{
	for (int e = 0; e < 2; e++) {
		enum rm_via how;
		ids[e] = rm_via_attribute(&g->via, &g->lookup, a[e], ids[e], &how);
		if (how == RM_VIA_NONE)
			continue;
		rm_cell_add(&count[how], (rm_cell_add_t){pkts, bytes});
		uint32_t v4, server;
		if (loc && rm_transition_embedded(g->via.t, a[e], &v4, &server) != RM_VIA_NONE)
			loc[e] = rm_lookup4_one(&g->located, v4);
	}
}

/* Whether either id of a pair may be a transition address's (maybe is
 * g->via.maybe, read once per loop: the counts' stores may alias g): one
 * load each, on the counting loop's ids. */
static inline bool rm_burst_via_maybe(const uint8_t *maybe, const uint32_t ids[2])
{
	return (maybe[ids[0]] | maybe[ids[1]]) != 0;
}

/* Count the tunnels IP frame *f crosses (it may carry one: parse.h's
 * rm_parse_may_tunnel) and what is inside; its innermost packet into
 * *inner.  Out of line: the untunnelled frame never comes here. */
static __attribute__((noinline, unused)) void
rm_burst_decapsulate(struct rm_counters *c, const uint8_t *p, uint32_t avail, uint32_t len,
		     const struct rm_frame *f, struct rm_frame *inner)
{
	struct rm_tunnels t;
	rm_parse_tunnels(p, avail, f, inner, &t);
	const rm_cell_add_t add = {1, len};
	for (unsigned k = 0; k < t.n; k++)
		rm_cell_add(&c->tunnel[t.kind[k]], add);
	if (t.n && inner->cls == RM_FRAME_NON_IP)
		rm_cell_add(&c->tunnel_non_ip, add);
	else if (t.n && inner->cls == RM_FRAME_MALFORMED)
		rm_cell_add(&c->tunnel_malformed[inner->reason], add);
}

/* The same when only the counts matter (--tunnels outer).  The frame by
 * value: its address taken, the hot loop would keep it in memory rather
 * than in registers. */
static __attribute__((noinline, unused)) void rm_burst_count_tunnels(struct rm_counters *c,
								     const uint8_t *p,
								     uint32_t avail, uint32_t len,
								     const struct rm_frame f)
{
	struct rm_frame inner;
	rm_burst_decapsulate(c, p, avail, len, &f, &inner);
}

/* Queue the addresses of an IPv4 frame of len bytes, its source at src
 * and its destination right after (as in the header), into b. */
static inline void rm_burst_queue4_at(struct rm_burst *b, uint32_t *n4, const uint8_t *src,
				      uint32_t len)
{
	b->a4[2 * *n4] = rm_get_be32(src);
	b->a4[2 * *n4 + 1] = rm_get_be32(src + 4);
	b->len4[(*n4)++] = len;
}

/* The same for IPv6. */
static inline void rm_burst_queue6_at(struct rm_burst *b, uint32_t *n6, const uint8_t *src,
				      uint32_t len)
{
	memcpy(b->a6[2 * *n6], src, 32);
	b->len6[(*n6)++] = len;
}

/* The same from IP frame f (its addresses are adjacent in the header). */
static inline void rm_burst_queue4(struct rm_burst *b, uint32_t *n4, const struct rm_frame *f,
				   uint32_t len)
{
	rm_burst_queue4_at(b, n4, f->src, len);
}

static inline void rm_burst_queue6(struct rm_burst *b, uint32_t *n6, const struct rm_frame *f,
				   uint32_t len)
{
	rm_burst_queue6_at(b, n6, f->src, len);
}

/* Either, by the class of IP frame f. */
static inline void rm_burst_queue(struct rm_burst *b, uint32_t *n4, uint32_t *n6,
				  const struct rm_frame *f, uint32_t len)
{
	if (f->cls == RM_FRAME_IPV4)
		rm_burst_queue4(b, n4, f, len);
	else
		rm_burst_queue6(b, n6, f, len);
}

/* Count a frame that is not attributed: not IP, or malformed. */
static inline void rm_burst_not_attributed(struct rm_counters *c, const struct rm_frame *f,
					   uint32_t len)
{
	if (f->cls == RM_FRAME_NON_IP) {
		c->non_ip++;
		c->non_ip_bytes += len;
	} else {
		c->malformed[f->reason]++;
		c->malformed_bytes[f->reason] += len;
	}
}

/* Whether plain frame p (of family fam: rm_parse_plain's answer) belongs to
 * the flow ports (flows) rather than to the traffic: UDP to one of them,
 * or anything under --flows-only (which counts it apart).  A later IPv4
 * fragment, whose port bytes are payload, may be given to them needlessly,
 * never taken wrongly: rm_burst_flow calls it traffic whatever its bytes
 * say. */
static inline bool rm_burst_plain_for_flows(const struct rm_flow_config *flows, const uint8_t *p,
					    int fam)
{
	uint32_t l4 = fam == 6 ? 14 + 40 : 14 + 20;
	uint8_t proto = fam == 6 ? p[14 + 6] : p[14 + 9];
	return flows->only ||
	       (proto == RM_IPPROTO_UDP && rm_flow_port(flows, rm_get_be16(p + l4 + 2)) >= 0);
}

/* Queue the addresses of the frame at p (avail bytes present, len in all)
 * into b when it is plain (parse.h's rm_parse_plain) and traffic to
 * attribute (flows, NULL without flow ports: rm_burst_plain_for_flows),
 * and return true; false, and nothing queued, for any other frame, which
 * the parse and rm_burst_flow then take.  A plain frame needs nothing of
 * the parse but its addresses, whose place rm_parse_plain knows. */
static inline bool rm_burst_take_plain(const struct rm_flow_config *flows, struct rm_burst *b,
				       uint32_t *n4, uint32_t *n6, const uint8_t *p, uint32_t avail,
				       uint32_t len)
{
	int plain = rm_parse_plain(p, avail, len);
	if (!plain || (flows && rm_burst_plain_for_flows(flows, p, plain)))
		return false;
	if (plain == 6)
		rm_burst_queue6_at(b, n6, p + RM_PLAIN6_SRC, len);
	else
		rm_burst_queue4_at(b, n4, p + RM_PLAIN4_SRC, len);
	return true;
}

/*
 * Classify one frame (its first avail bytes at p, len in all) and queue
 * its addresses in q, or count it as not attributable: --tunnels outer.
 * A switch per class, so that the inline parse of untagged IP jumps
 * straight into its case; a tunnel only adds to the counts.  flows (NULL:
 * no flow ports) is the caller's copy, kept in a register.
 */
static inline void rm_burst_take(const struct rm_flow_config *flows, struct rm_flow_state *fs,
				 struct rm_counters *c, struct rm_burst_queues *q, const uint8_t *p,
				 uint32_t avail, uint32_t len, rm_burst_read_fn read,
				 const void *frame)
{
	if (rm_burst_take_plain(flows, q->b, &q->n4, &q->n6, p, avail, len))
		return;
	struct rm_frame f;
	rm_parse_frame(p, avail, len, &f);
	switch (f.cls) {
	case RM_FRAME_IPV4:
		if (flows && rm_burst_flow(flows, fs, c, p, avail, len, &f, 4, read, frame))
			break;
		if (rm_unlikely(rm_parse_may_tunnel(&f, p, avail)))
			rm_burst_count_tunnels(c, p, avail, len, f);
		rm_burst_queue4(q->b, &q->n4, &f, len);
		break;
	case RM_FRAME_IPV6:
		if (flows && rm_burst_flow(flows, fs, c, p, avail, len, &f, 6, read, frame))
			break;
		if (rm_unlikely(rm_parse_may_tunnel(&f, p, avail)))
			rm_burst_count_tunnels(c, p, avail, len, f);
		rm_burst_queue6(q->b, &q->n6, &f, len);
		break;
	default:
		rm_burst_not_attributed(c, &f, len);
	}
}

/* The same under --tunnels inner and both: the innermost packet is
 * attributed (inner), or queued apart besides the outermost (both). */
static inline void rm_burst_take_layers(const struct rm_flow_config *flows,
					struct rm_flow_state *fs, struct rm_counters *c,
					struct rm_burst_queues *q, const uint8_t *p, uint32_t avail,
					uint32_t len, rm_burst_read_fn read, const void *frame,
					const enum rm_tunnel_mode mode)
{
	/* A plain frame carries no tunnel: it is its own innermost packet. */
	if (rm_burst_take_plain(flows, q->b, &q->n4, &q->n6, p, avail, len)) {
		if (mode == RM_TUNNELS_BOTH) /* its own innermost packet */
			rm_burst_take_plain(NULL, q->inner, &q->in4, &q->in6, p, avail, len);
		return;
	}
	struct rm_frame f, inner;
	rm_parse_frame(p, avail, len, &f);
	if (f.cls > RM_FRAME_IPV6) {
		rm_burst_not_attributed(c, &f, len);
		return;
	}
	if (flows && rm_burst_flow(flows, fs, c, p, avail, len, &f, f.cls == RM_FRAME_IPV4 ? 4 : 6,
				   read, frame))
		return;
	inner = f;
	if (rm_parse_may_tunnel(&f, p, avail))
		rm_burst_decapsulate(c, p, avail, len, &f, &inner);
	if (mode == RM_TUNNELS_BOTH) {
		rm_burst_queue(q->b, &q->n4, &q->n6, &f, len);
		if (inner.cls <= RM_FRAME_IPV6)
			rm_burst_queue(q->inner, &q->in4, &q->in6, &inner, len);
	} else if (inner.cls <= RM_FRAME_IPV6) {
		rm_burst_queue(q->b, &q->n4, &q->n6, &inner, len);
	} else {
		rm_burst_not_attributed(c, &inner, len);
	}
}

/* Look up the n4 IPv4 and n6 IPv6 frames queued in b and count them into
 * scopes to, their bytes into *bytes, and each transition address into
 * via_count[how].  With the located layer (located, the caller's
 * constant; g->located bound) each address's located id is looked up in
 * bulk beside its attribution (for IPv6 in the same walk) and counted by
 * it into loc[RM_SRC] and
 * loc[RM_DST]; inlined by force, so that the instance without the layer
 * carries none of it. */
static inline __attribute__((always_inline)) void
rm_burst_count_queued(const struct rm_gen_view *g, const struct rm_count_to *to,
		      struct rm_cell *const loc[RM_DIRS], struct rm_cell *via_count,
		      struct rm_burst *b, uint32_t n4, uint32_t n6, uint64_t *bytes,
		      const bool located)
{
	struct rm_cell *ls = located ? loc[RM_SRC] : NULL, *ld = located ? loc[RM_DST] : NULL;
	if (n4) {
		rm_lookup4_bulk(&g->lookup, b->a4, b->id4, 2 * n4);
		if (located)
			rm_lookup4_bulk(&g->located, b->a4, b->loc4, 2 * n4);
	}
	if (n6 && located) {
		/* Pair ids, split into both answers. */
		rm_lookup6_bulk(&g->located, (const uint8_t(*)[16])b->a6, b->loc6, 2 * n6);
		rm_loc_pair_split(g->pair6, (const uint8_t(*)[16])b->a6, b->id6, b->loc6, 2 * n6);
	} else if (n6) {
		rm_lookup6_bulk(&g->lookup, (const uint8_t(*)[16])b->a6, b->id6, 2 * n6);
	}
	if (located) {
		/* The located cells are spread over megabytes (one per located id
		 * and direction): their misses are started for the whole burst
		 * here, so that the counting loop below, whose each add waits on
		 * its cell, finds them on the way. */
		for (uint32_t k = 0; k < n4; k++) {
			__builtin_prefetch(&ls[b->loc4[2 * k]], 1);
			__builtin_prefetch(&ld[b->loc4[2 * k + 1]], 1);
		}
		for (uint32_t k = 0; k < n6; k++) {
			__builtin_prefetch(&ls[b->loc6[2 * k]], 1);
			__builtin_prefetch(&ld[b->loc6[2 * k + 1]], 1);
		}
	}
	for (uint32_t k = 0; k < n4; k++) {
		uint32_t len = b->len4[k];
		rm_count(to, b->id4[2 * k], b->id4[2 * k + 1], 1, len);
		if (located) {
			rm_cell_add(&ls[b->loc4[2 * k]], (rm_cell_add_t){1, len});
			rm_cell_add(&ld[b->loc4[2 * k + 1]], (rm_cell_add_t){1, len});
		}
		*bytes += len;
	}
	const uint8_t *maybe = g->via.maybe;
	for (uint32_t k = 0; k < n6; k++) {
		uint32_t len = b->len6[k];
		if (rm_unlikely(rm_burst_via_maybe(maybe, &b->id6[2 * k])))
			rm_burst_via(g, via_count, (const uint8_t(*)[16])b->a6[2 * k],
				     &b->id6[2 * k], located ? &b->loc6[2 * k] : NULL, 1, len);
		rm_count(to, b->id6[2 * k], b->id6[2 * k + 1], 1, len);
		if (located) {
			rm_cell_add(&ls[b->loc6[2 * k]], (rm_cell_add_t){1, len});
			rm_cell_add(&ld[b->loc6[2 * k + 1]], (rm_cell_add_t){1, len});
		}
		*bytes += len;
	}
}

/* Look up and count what a burst queued in q, for --tunnels mode and
 * with the located layer (g->located.v4 != NULL) or without: the caller's
 * constants, each pair its own instance, so that the one without the
 * layer is the loop that ran before the layer existed, instruction for
 * instruction. */
static inline __attribute__((always_inline)) void
rm_burst_count(const struct rm_gen_view *g, struct rm_counters *c, const struct rm_burst_queues *q,
	       const enum rm_tunnel_mode mode, const bool located)
{
	const struct rm_count_to to = rm_count_to(c, g->rir_of);
	uint64_t bytes = 0, inner_bytes = 0;
	rm_burst_count_queued(g, &to, c->by_loc, c->via, q->b, q->n4, q->n6, &bytes, located);
	c->attributed += q->n4 + q->n6;
	c->attributed_bytes += bytes;
	if (mode == RM_TUNNELS_BOTH) {
		const struct rm_count_to ti = {c->inner_by_id[RM_SRC], c->inner_by_id[RM_DST],
					       c->inner_pair, g->rir_of};
		struct rm_cell counted[RM_VIA_COUNT] = {{0}}; /* by the outer burst already */
		rm_burst_count_queued(g, &ti, NULL, counted, q->inner, q->in4, q->in6, &inner_bytes,
				      false);
	}
}

/* AS_TRANS (RFC 6793): what a 2-byte AS field (NetFlow v5's, IPFIX's of
 * 2 bytes) carries for every 4-byte AS; it names no origin. */
#define RM_AS_TRANS 23456

/* The located counts of n flow records' addresses (a: their AS numbers,
 * source then destination, 0 when the record has none; loc: their located
 * ids; pkts, bytes: each record's): by located id into by_loc, or, when
 * the record carries the address's AS (neither 0 nor AS_TRANS), into
 * by_loc_rec and into rec_as by that AS (counters.h).  Out of line: flows
 * are not the frame path. */
static __attribute__((noinline, unused)) void
rm_burst_flow_located(struct rm_counters *c, const uint32_t *as, const uint32_t *loc, uint32_t n,
		      const uint64_t *pkts, const uint64_t *bytes)
{
	for (uint32_t k = 0; k < 2 * n; k++) {
		int d = k & 1 ? RM_DST : RM_SRC;
		const rm_cell_add_t add = {pkts[k / 2], bytes[k / 2]};
		if (!c->rec_as[d] || !as[k] || as[k] == RM_AS_TRANS) {
			rm_cell_add(&c->by_loc[d][loc[k]], add);
			c->asn_database += c->rec_as[d] != NULL;
			continue;
		}
		c->asn_record++;
		rm_cell_add(&c->by_loc_rec[d][loc[k]], add);
		struct rm_cell *cell = rm_as_cell(c->rec_as[d], as[k]);
		rm_cell_add(cell ? cell : &c->rec_as_full[d], add);
	}
}

/*
 * The flow records batched in fs looked up (into id4 and id6, for a
 * re-export) and counted: what a flow batch's flush does first.
 */
static inline void rm_burst_flow_records(const struct rm_gen_view *g, struct rm_counters *c,
					 struct rm_flow_state *fs, uint32_t *id4, uint32_t *id6)
{
	struct rm_flow_batch *b = &fs->batch;
	uint32_t loc4[2 * RM_FLOW_BATCH], loc6[2 * RM_FLOW_BATCH];
	const bool located = g->located.v4 != NULL;
	if (b->n4)
		rm_lookup4_bulk(&g->lookup, b->a4, id4, 2 * b->n4);
	if (located && b->n4)
		rm_lookup4_bulk(&g->located, b->a4, loc4, 2 * b->n4);
	if (located && b->n6) {
		rm_lookup6_bulk(&g->located, (const uint8_t(*)[16])b->a6, loc6, 2 * b->n6);
		rm_loc_pair_split(g->pair6, (const uint8_t(*)[16])b->a6, id6, loc6, 2 * b->n6);
	} else if (b->n6) {
		rm_lookup6_bulk(&g->lookup, (const uint8_t(*)[16])b->a6, id6, 2 * b->n6);
	}
	const struct rm_count_to to = rm_count_to(c, g->rir_of);
	for (uint32_t k = 0; k < b->n6; k++)
		if (rm_unlikely(rm_burst_via_maybe(g->via.maybe, &id6[2 * k])))
			rm_burst_via(g, c->via, (const uint8_t(*)[16])b->a6[2 * k], &id6[2 * k],
				     located ? &loc6[2 * k] : NULL, b->pkts6[k], b->bytes6[k]);
	for (uint32_t k = 0; k < b->n4; k++)
		rm_count(&to, id4[2 * k], id4[2 * k + 1], b->pkts4[k], b->bytes4[k]);
	for (uint32_t k = 0; k < b->n6; k++)
		rm_count(&to, id6[2 * k], id6[2 * k + 1], b->pkts6[k], b->bytes6[k]);
	if (located) {
		rm_burst_flow_located(c, b->as4, loc4, b->n4, b->pkts4, b->bytes4);
		rm_burst_flow_located(c, b->as6, loc6, b->n6, b->pkts6, b->bytes6);
	}
	c->records += b->n4 + b->n6;
}

#endif
