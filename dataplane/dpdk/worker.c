/*
 * worker.c - the poll loop of one worker lcore.
 *
 * A worker owns a list of (port, queue) pairs and its own counters.  Per
 * burst it parses every frame, copies the two addresses of each IP frame
 * into one IPv4 and one IPv6 array, frees the mbufs, runs one bulk lookup
 * per family, and adds packets and bytes per attribution id.  Nothing is
 * shared for writing, nothing is allocated, and there is no lock or atomic
 * on the way; the main lcore only reads the counters.
 *
 * With --flows, a UDP datagram to a flow port is not traffic but flow
 * export: dataplane/flow.c and sflow.c decode it, in place, into records
 * that wait in the worker's flow batch and go through the same bulk
 * lookups; the batch is flushed when it fills and at the end of every
 * burst.
 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "byteorder.h"
#include "counters.h"
#include "flow.h"
#include "parse.h"
#include "worker.h"

/* Headers needed to classify a frame, copied when the first segment is short. */
#define HEADER_MAX 512 /* deep enough for RM_TUNNEL_MAX levels of most tunnels */

struct burst {
	uint32_t a4[2 * RM_MAX_BURST];
	uint8_t a6[2 * RM_MAX_BURST][16];
	uint32_t id4[2 * RM_MAX_BURST], id6[2 * RM_MAX_BURST];
	uint32_t len4[RM_MAX_BURST], len6[RM_MAX_BURST];
};

/* The current generation and counters, for the flow batch's flush. */
struct flush_ctx {
	const struct rm_gen_view *g;
	struct rm_counters *c;
	struct rm_export *export; /* or NULL */
};

/* An IPv6 pair (a: source, then destination) of which an id says it may
 * carry an IPv4 address (g->via): each id becomes that IPv4's
 * attribution when it does, counted by how.  Out of line: the rare case. */
static __attribute__((noinline)) void via(const struct rm_gen_view *g, struct rm_cell *count,
					  const uint8_t (*a)[16], uint32_t ids[2], uint64_t pkts,
					  uint64_t bytes)
{
	for (int e = 0; e < 2; e++) {
		enum rm_via how;
		ids[e] = rm_via_attribute(&g->via, &g->lookup, a[e], ids[e], &how);
		if (how != RM_VIA_NONE)
			rm_cell_add(&count[how], (rm_cell_add_t){pkts, bytes});
	}
}

/* Whether either id of a pair may be a transition address's (maybe is
 * g->via.maybe, read once per loop: the counts' stores may alias g): one
 * load each, on the counting loop's ids. */
static inline bool via_maybe(const uint8_t *maybe, const uint32_t ids[2])
{
	return (maybe[ids[0]] | maybe[ids[1]]) != 0;
}

static void flush_flows(struct rm_flow_state *st, void *arg)
{
	const struct flush_ctx *x = arg;
	struct rm_flow_batch *b = &st->batch;
	uint32_t id4[2 * RM_FLOW_BATCH], id6[2 * RM_FLOW_BATCH];
	if (b->n4)
		rm_lookup4_bulk(&x->g->lookup, b->a4, id4, 2 * b->n4);
	if (b->n6)
		rm_lookup6_bulk(&x->g->lookup, (const uint8_t(*)[16])b->a6, id6, 2 * b->n6);
	for (uint32_t k = 0; k < b->n6; k++)
		if (unlikely(via_maybe(x->g->via.maybe, &id6[2 * k])))
			via(x->g, x->c->via, (const uint8_t(*)[16])b->a6[2 * k], &id6[2 * k],
			    b->pkts6[k], b->bytes6[k]);
	const struct rm_count_to to = rm_count_to(x->c, x->g->rir_of);
	for (uint32_t k = 0; k < b->n4; k++)
		rm_count(&to, id4[2 * k], id4[2 * k + 1], b->pkts4[k], b->bytes4[k]);
	for (uint32_t k = 0; k < b->n6; k++)
		rm_count(&to, id6[2 * k], id6[2 * k + 1], b->pkts6[k], b->bytes6[k]);
	x->c->records += b->n4 + b->n6;
	if (x->export)
		rm_export_batch(x->export, x->g, st, id4, id6);
	b->n4 = b->n6 = 0;
}

/*
 * An IP frame on a flow-collecting worker: decode it when it is a UDP
 * datagram to a flow port and return 1; 1 too when it is other traffic
 * under --flows-only; 0 when it is traffic to attribute.
 */
static int take_flow(const struct rm_worker *w, struct rm_counters *c, struct rte_mbuf *m,
		     const uint8_t *p, uint32_t avail, const struct rm_frame frame, int family)
{
	const struct rm_frame *f = &frame;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	int proto = -1;
	/* A later fragment has no UDP header to tell: it is traffic (a flow
	 * datagram's tail too; exporters do not fragment, and the first
	 * fragment is counted as a dropped datagram below). */
	if (f->proto == 17 && f->fragment != 2 && f->l4_off + 4u <= avail)
		proto = rm_flow_port(w->flows, rm_get_be16(p + f->l4_off + 2));
	if (proto < 0) {
		if (!w->flows->only)
			return 0;
		c->not_flow++;
		c->not_flow_bytes += len;
		return 1;
	}
	c->flow++;
	c->flow_bytes += len;
	if (f->fragment) {
		rm_flow_drop(w->fs, RM_FLOWBAD_FRAGMENT);
		return 1;
	}
	uint32_t ulen = f->l4_off + 8u <= avail ? rm_get_be16(p + f->l4_off + 4) : 0;
	if (ulen < 8 || ulen > f->l4_len) {
		rm_flow_drop(w->fs, RM_FLOWBAD_UDP);
		return 1;
	}
	/* The whole datagram, contiguous: in place, or gathered from segments. */
	const uint8_t *payload = rte_pktmbuf_read(m, f->l4_off + 8u, ulen - 8, w->fs->copy);
	if (!payload) {
		rm_flow_drop(w->fs, RM_FLOWBAD_UDP);
		return 1;
	}
	rm_flow_datagram(w->fs, (unsigned)proto, f->src, family, payload, ulen - 8);
	/* Re-export reads records where they are: a gathered datagram's copy is
	 * overwritten by the next one, so its records leave now. */
	struct rm_flow_batch *fb = &w->fs->batch;
	if (payload == w->fs->copy && w->fs->want_meta && (fb->n4 || fb->n6))
		w->fs->flush(w->fs, w->fs->flush_ctx);
	return 1;
}

/* Count the tunnels IP frame *f crosses (it may carry one: parse.h's
 * rm_parse_may_tunnel) and what is inside; its innermost packet into
 * *inner.  Out of line: the untunnelled frame never comes here. */
static __attribute__((noinline)) void decapsulate(struct rm_counters *c, const uint8_t *p,
						  uint32_t avail, uint32_t len,
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
 * value, as take_flow's: its address taken, the hot loop would keep it in
 * memory rather than in registers. */
static __attribute__((noinline)) void count_tunnels(struct rm_counters *c, const uint8_t *p,
						    uint32_t avail, uint32_t len,
						    const struct rm_frame f)
{
	struct rm_frame inner;
	decapsulate(c, p, avail, len, &f, &inner);
}

/* Queue the addresses of IPv4 frame f (of len bytes) into b. */
static inline void queue4(struct burst *b, uint32_t *n4, const struct rm_frame *f, uint32_t len)
{
	b->a4[2 * *n4] = rm_get_be32(f->src);
	b->a4[2 * *n4 + 1] = rm_get_be32(f->dst);
	b->len4[(*n4)++] = len;
}

/* The same for IPv6. */
static inline void queue6(struct burst *b, uint32_t *n6, const struct rm_frame *f, uint32_t len)
{
	/* Source and destination are adjacent in the header, as here. */
	memcpy(b->a6[2 * *n6], f->src, 32);
	b->len6[(*n6)++] = len;
}

/* Either, by the class of IP frame f. */
static inline void queue(struct burst *b, uint32_t *n4, uint32_t *n6, const struct rm_frame *f,
			 uint32_t len)
{
	if (f->cls == RM_FRAME_IPV4)
		queue4(b, n4, f, len);
	else
		queue6(b, n6, f, len);
}

/* Where a burst's addresses go: b the attributed ones (outermost, or
 * innermost under --tunnels inner), inner the innermost under --tunnels
 * both (else unused).  The counts are the caller's locals, so that they
 * stay in registers: stores into the burst could alias them. */
struct queues {
	struct burst *b, *inner;
	uint32_t n4, n6, in4, in6;
};

/* Count a frame that is not attributed: not IP, or malformed. */
static inline void not_attributed(struct rm_counters *c, const struct rm_frame *f, uint32_t len)
{
	if (f->cls == RM_FRAME_NON_IP) {
		c->non_ip++;
		c->non_ip_bytes += len;
	} else {
		c->malformed[f->reason]++;
		c->malformed_bytes[f->reason] += len;
	}
}

/* The first bytes of frame m, contiguous: in place, or copied into copy
 * when the first segment is shorter than the headers may be. */
static inline const uint8_t *headers(struct rte_mbuf *m, uint32_t len, uint32_t *avail,
				     uint8_t copy[HEADER_MAX])
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	*avail = rte_pktmbuf_data_len(m);
	if (*avail < len && *avail < HEADER_MAX) { /* headers may span segments */
		*avail = len < HEADER_MAX ? len : HEADER_MAX;
		p = rte_pktmbuf_read(m, 0, *avail, copy);
	}
	return p;
}

/* Classify one frame and queue its addresses, or count it as not
 * attributable; its length, for the burst's received bytes: --tunnels
 * outer.  A switch per class, so that the inline parse of untagged IP
 * jumps straight into its case; a tunnel only adds to the counts.  flows
 * is the caller's copy of w->flows, kept in a register. */
static inline uint32_t take(const struct rm_worker *w, const struct rm_flow_config *flows,
			    struct rm_counters *c, struct queues *q, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), avail;
	uint8_t copy[HEADER_MAX];
	const uint8_t *p = headers(m, len, &avail, copy);
	struct rm_frame f;
	rm_parse_frame(p, avail, len, &f);
	switch (f.cls) {
	case RM_FRAME_IPV4:
		if (flows && take_flow(w, c, m, p, avail, f, 4))
			break;
		if (unlikely(rm_parse_may_tunnel(&f, p, avail)))
			count_tunnels(c, p, avail, len, f);
		queue4(q->b, &q->n4, &f, len);
		break;
	case RM_FRAME_IPV6:
		if (flows && take_flow(w, c, m, p, avail, f, 6))
			break;
		if (unlikely(rm_parse_may_tunnel(&f, p, avail)))
			count_tunnels(c, p, avail, len, f);
		queue6(q->b, &q->n6, &f, len);
		break;
	default:
		not_attributed(c, &f, len);
	}
	return len;
}

/* The same under --tunnels inner and both: the innermost packet is
 * attributed (inner), or queued apart besides the outermost (both). */
static inline uint32_t take_layers(const struct rm_worker *w, const struct rm_flow_config *flows,
				   struct rm_counters *c, struct queues *q, struct rte_mbuf *m,
				   const enum rm_tunnel_mode mode)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), avail;
	uint8_t copy[HEADER_MAX];
	const uint8_t *p = headers(m, len, &avail, copy);
	struct rm_frame f, inner;
	rm_parse_frame(p, avail, len, &f);
	if (f.cls > RM_FRAME_IPV6) {
		not_attributed(c, &f, len);
		return len;
	}
	if (flows && take_flow(w, c, m, p, avail, f, f.cls == RM_FRAME_IPV4 ? 4 : 6))
		return len;
	inner = f;
	if (rm_parse_may_tunnel(&f, p, avail))
		decapsulate(c, p, avail, len, &f, &inner);
	if (mode == RM_TUNNELS_BOTH) {
		queue(q->b, &q->n4, &q->n6, &f, len);
		if (inner.cls <= RM_FRAME_IPV6)
			queue(q->inner, &q->in4, &q->in6, &inner, len);
	} else if (inner.cls <= RM_FRAME_IPV6) {
		queue(q->b, &q->n4, &q->n6, &inner, len);
	} else {
		not_attributed(c, &inner, len);
	}
	return len;
}

/*
 * Give a burst's mbufs back to their pool.  rte_pktmbuf_free_bulk follows
 * every mbuf's segment chain and checks its pool one by one, about 40
 * instructions a frame here, a tenth of an IPv6 frame's cost.  A receive
 * burst is nearly always direct, single-segment mbufs holding their only
 * reference, from one pool: already in the state the pool keeps them in
 * (DPDK's invariant: one segment means no next), so they go back in one
 * put.  Any other burst takes the general way.
 */
static inline void free_burst(struct rte_mbuf **pkts, uint16_t n)
{
	/* refcnt and nb_segs, read as one word: data_off, refcnt, nb_segs. */
	_Static_assert(
	    offsetof(struct rte_mbuf, refcnt) == offsetof(struct rte_mbuf, data_off) + 2 &&
		offsetof(struct rte_mbuf, nb_segs) == offsetof(struct rte_mbuf, data_off) + 4,
	    "rte_mbuf rearm layout");
	const uint64_t segs_refs = UINT64_C(0xffffffff) << 16;
	const uint64_t one_each = (UINT64_C(1) << 32) | (UINT64_C(1) << 16);
	struct rte_mempool *pool = pkts[0]->pool;
	uint64_t other = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		uint64_t rearm;
		memcpy(&rearm, &m->data_off, sizeof(rearm));
		other |= ((rearm & segs_refs) ^ one_each) |
			 (m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) |
			 ((uintptr_t)m->pool ^ (uintptr_t)pool);
	}
	if (likely(!other))
		rte_mempool_put_bulk(pool, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

/* Look up the addresses queued in b and count them into scopes to, and
 * each transition address into via_count[how]. */
static inline void count_burst(const struct rm_gen_view *g, const struct rm_count_to *to,
			       struct rm_cell *via_count, struct burst *b, uint32_t n4, uint32_t n6,
			       uint64_t *bytes)
{
	if (n4)
		rm_lookup4_bulk(&g->lookup, b->a4, b->id4, 2 * n4);
	if (n6)
		rm_lookup6_bulk(&g->lookup, (const uint8_t(*)[16])b->a6, b->id6, 2 * n6);
	for (uint32_t k = 0; k < n4; k++) {
		uint32_t len = b->len4[k];
		rm_count(to, b->id4[2 * k], b->id4[2 * k + 1], 1, len);
		*bytes += len;
	}
	const uint8_t *maybe = g->via.maybe;
	for (uint32_t k = 0; k < n6; k++) {
		uint32_t len = b->len6[k];
		if (unlikely(via_maybe(maybe, &b->id6[2 * k])))
			via(g, via_count, (const uint8_t(*)[16])b->a6[2 * k], &b->id6[2 * k], 1,
			    len);
		rm_count(to, b->id6[2 * k], b->id6[2 * k + 1], 1, len);
		*bytes += len;
	}
}

/* One burst: parse, free, look up, count, for one --tunnels mode (a
 * constant: each mode is its own instance, so the default one carries
 * nothing of the others). */
static inline __attribute__((always_inline)) void
process_as(const struct rm_worker *w, const struct rm_gen_view *g, struct rm_counters *c,
	   struct rte_mbuf **pkts, uint16_t n, const enum rm_tunnel_mode mode)
{
	struct burst b, inner;
	struct queues q = {&b, &inner, 0, 0, 0, 0};
	struct flush_ctx fx = {g, c, w->export};
	const struct rm_flow_config *flows = w->flows;
	if (flows) {
		w->fs->flush = flush_flows;
		w->fs->flush_ctx = &fx;
		w->fs->allow = __atomic_load_n(w->allow, __ATOMIC_ACQUIRE);
	}
	uint64_t rx_bytes = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		rx_bytes += mode == RM_TUNNELS_OUTER ? take(w, flows, c, &q, pkts[i])
						     : take_layers(w, flows, c, &q, pkts[i], mode);
	}
	c->received += n; /* once a burst: stores through b may alias c */
	c->rx_bytes += rx_bytes;
	if (flows && (w->fs->batch.n4 || w->fs->batch.n6))
		flush_flows(w->fs, &fx);
	free_burst(pkts, n);
	const struct rm_count_to to = rm_count_to(c, g->rir_of);
	uint64_t bytes = 0, inner_bytes = 0;
	count_burst(g, &to, c->via, &b, q.n4, q.n6, &bytes);
	c->attributed += q.n4 + q.n6;
	c->attributed_bytes += bytes;
	if (mode == RM_TUNNELS_BOTH) {
		const struct rm_count_to ti = {c->inner_by_id[RM_SRC], c->inner_by_id[RM_DST],
					       c->inner_pair, g->rir_of};
		struct rm_cell counted[RM_VIA_COUNT] = {{0}}; /* by the outer burst already */
		count_burst(g, &ti, counted, &inner, q.in4, q.in6, &inner_bytes);
	}
}

/* The instances, out of line: inlined into the poll loop, whose values
 * stay live around it, a burst spilled its own. */
static __attribute__((noinline)) void process_outer(const struct rm_worker *w,
						    const struct rm_gen_view *g,
						    struct rm_counters *c, struct rte_mbuf **pkts,
						    uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_OUTER);
}

static __attribute__((noinline)) void process_inner(const struct rm_worker *w,
						    const struct rm_gen_view *g,
						    struct rm_counters *c, struct rte_mbuf **pkts,
						    uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_INNER);
}

static __attribute__((noinline)) void process_both(const struct rm_worker *w,
						   const struct rm_gen_view *g,
						   struct rm_counters *c, struct rte_mbuf **pkts,
						   uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_BOTH);
}

static void process(const struct rm_worker *w, const struct rm_gen_view *g, struct rm_counters *c,
		    struct rte_mbuf **pkts, uint16_t n)
{
	if (likely(w->tunnels == RM_TUNNELS_OUTER))
		process_outer(w, g, c, pkts, n);
	else if (w->tunnels == RM_TUNNELS_INNER)
		process_inner(w, g, c, pkts, n);
	else
		process_both(w, g, c, pkts, n);
}

int rm_worker_main(void *arg)
{
	struct rm_worker *w = arg;
	struct rte_mbuf *pkts[RM_MAX_BURST];
	rte_rcu_qsbr_thread_register(w->qsv, w->index);
	rte_rcu_qsbr_thread_online(w->qsv, w->index);
	uint64_t last = rte_rdtsc();
	const uint64_t tsc_ms = rte_get_tsc_hz() / 1000 ? rte_get_tsc_hz() / 1000 : 1;
	if (w->fs) /* the clock set before the first exporter is seen */
		rm_flow_age(w->fs, last / tsc_ms);
	if (w->export)
		w->fs->want_meta = 1;
	while (!*w->stop) {
		/* The generation is read once per pass: a swap lands between bursts. */
		const struct rm_gen_view *g = __atomic_load_n(w->current, __ATOMIC_ACQUIRE);
		struct rm_counters *c = &g->counters[w->index];
		for (unsigned i = 0; i < w->n_queues; i++) {
			uint16_t n =
			    rte_eth_rx_burst(w->queues[i].port, w->queues[i].queue, pkts, w->burst);
			if (n && w->io_only) {
				c->received += n;
				c->non_ip += n; /* keeps the balance check true */
				free_burst(pkts, n);
			} else if (n) {
				process(w, g, c, pkts, n);
			}
		}
		rte_rcu_qsbr_quiescent(w->qsv, w->index);
		uint64_t now = rte_rdtsc();
		/* Exporter ageing runs on the TSC: monotonic, and what the idle
		 * time of a live collector is (not the capture's timestamps). */
		if (w->fs)
			rm_flow_age(w->fs, now / tsc_ms);
		if (w->export) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			w->fs->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
			rm_export_tick(w->export, g, now);
		}
		if (now - last > w->max_loop_tsc) {
			w->max_loop_tsc = now - last;
			w->max_loop_at = now;
		}
		last = now;
	}
	if (w->export)
		rm_export_close(w->export);
	rte_rcu_qsbr_thread_offline(w->qsv, w->index);
	rte_rcu_qsbr_thread_unregister(w->qsv, w->index);
	return 0;
}
