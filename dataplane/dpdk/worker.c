/*
 * worker.c - the poll loop of one worker lcore.
 *
 * A worker owns a list of (port, queue) pairs and its own counters.  Per
 * burst it parses every frame, copies the two addresses of each IP frame
 * into one IPv4 and one IPv6 array, frees the mbufs, runs one bulk lookup
 * per family, and adds packets and bytes per attribution id.  Nothing is
 * shared for writing, nothing is allocated, and there is no lock or atomic
 * on the way; the main lcore only reads the counters.  The parse, lookup
 * and count of a burst are dataplane/burst.h, which `rirmeter -r` runs
 * over frames in capture files (dataplane/batch.c); here they get mbufs.
 *
 * With --flows, a UDP datagram to a flow port is not traffic but flow
 * export: dataplane/flow.c and sflow.c decode it, in place, into records
 * that wait in the worker's flow batch and go through the same bulk
 * lookups; the batch is flushed when it fills and at the end of every
 * burst.
 */
#include <smmintrin.h> /* SSE4.1: DPDK's build pins -march=corei7 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "burst.h"
#include "worker.h"

/* Headers needed to classify a frame, copied when the first segment is short. */
#define HEADER_MAX 512 /* deep enough for RM_TUNNEL_MAX levels of most tunnels */

/* The current generation and counters, for the flow batch's flush. */
struct flush_ctx {
	const struct rm_gen_view *g;
	struct rm_counters *c;
	struct rm_export *export; /* or NULL */
};

static void flush_flows(struct rm_flow_state *st, void *arg)
{
	const struct flush_ctx *x = arg;
	uint32_t id4[2 * RM_FLOW_BATCH], id6[2 * RM_FLOW_BATCH];
	rm_burst_flow_records(x->g, x->c, st, id4, id6);
	if (x->export)
		rm_export_batch(x->export, x->g, st, id4, id6);
	st->batch.n4 = st->batch.n6 = 0;
}

/* rm_burst_read_fn of an mbuf: a flow datagram in place, or gathered from
 * its segments. */
static const uint8_t *read_mbuf(const void *frame, uint32_t off, uint32_t len, void *buf)
{
	return rte_pktmbuf_read((const struct rte_mbuf *)frame, off, len, buf);
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
 * attributable (burst.h); its length, for the burst's received bytes:
 * --tunnels outer.  flows is the caller's copy of w->flows, kept in a
 * register. */
static inline uint32_t take(const struct rm_worker *w, const struct rm_flow_config *flows,
			    struct rm_counters *c, struct rm_burst_queues *q, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), avail;
	uint8_t copy[HEADER_MAX];
	const uint8_t *p = headers(m, len, &avail, copy);
	rm_burst_take(flows, w->fs, c, q, p, avail, len, read_mbuf, m);
	return len;
}

/* The same under --tunnels inner and both. */
static inline uint32_t take_layers(const struct rm_worker *w, const struct rm_flow_config *flows,
				   struct rm_counters *c, struct rm_burst_queues *q,
				   struct rte_mbuf *m, const enum rm_tunnel_mode mode)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), avail;
	uint8_t copy[HEADER_MAX];
	const uint8_t *p = headers(m, len, &avail, copy);
	rm_burst_take_layers(flows, w->fs, c, q, p, avail, len, read_mbuf, m, mode);
	return len;
}

/* take or take_layers, for mode (a constant). */
static inline __attribute__((always_inline)) uint32_t
take_as(const struct rm_worker *w, const struct rm_flow_config *flows, struct rm_counters *c,
	struct rm_burst_queues *q, struct rte_mbuf *m, const enum rm_tunnel_mode mode)
{
	return mode == RM_TUNNELS_OUTER ? take(w, flows, c, q, m)
					: take_layers(w, flows, c, q, m, mode);
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
	/* data_off, refcnt, nb_segs, port, then ol_flags: 16 bytes, one
	 * load.  Masked to refcnt, nb_segs and the two flags, they must read
	 * 1, 1 and none. */
	_Static_assert(
	    offsetof(struct rte_mbuf, refcnt) == offsetof(struct rte_mbuf, data_off) + 2 &&
		offsetof(struct rte_mbuf, nb_segs) == offsetof(struct rte_mbuf, data_off) + 4 &&
		offsetof(struct rte_mbuf, ol_flags) == offsetof(struct rte_mbuf, data_off) + 8,
	    "rte_mbuf rearm layout");
	const __m128i mask = _mm_set_epi64x((long long)(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL),
					    (long long)(UINT64_C(0xffffffff) << 16));
	const __m128i want =
	    _mm_set_epi64x(0, (long long)((UINT64_C(1) << 32) | (UINT64_C(1) << 16)));
	struct rte_mempool *pool = pkts[0]->pool;
	__m128i other = _mm_setzero_si128();
	uintptr_t pools = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		__m128i x = _mm_loadu_si128((const __m128i *)&m->data_off);
		other = _mm_or_si128(other, _mm_xor_si128(_mm_and_si128(x, mask), want));
		pools |= (uintptr_t)m->pool ^ (uintptr_t)pool;
	}
	if (likely(!pools && _mm_testz_si128(other, other)))
		rte_mempool_put_bulk(pool, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

/* One burst: parse, free, look up, count, for one --tunnels mode (a
 * constant: each mode is its own instance, so the default one carries
 * nothing of the others). */
static inline __attribute__((always_inline)) void
process_as(const struct rm_worker *w, const struct rm_gen_view *g, struct rm_counters *c,
	   struct rte_mbuf **pkts, uint16_t n, const enum rm_tunnel_mode mode, const bool located)
{
	struct rm_burst b, inner;
	struct rm_burst_queues q = {&b, &inner, 0, 0, 0, 0};
	struct flush_ctx fx = {g, c, w->export};
	const struct rm_flow_config *flows = w->flows;
	if (flows) {
		w->fs->flush = flush_flows;
		w->fs->flush_ctx = &fx;
		w->fs->allow = __atomic_load_n(w->allow, __ATOMIC_ACQUIRE);
	}
	uint64_t rx_bytes = 0;
	/* Frame i + 4's headers fetched while frame i is parsed; the last four
	 * in a loop of their own, so that the frames before them test
	 * nothing for it. */
	uint16_t i = 0;
	for (; i + 4 < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		rx_bytes += take_as(w, flows, c, &q, pkts[i], mode);
	}
	for (; i < n; i++)
		rx_bytes += take_as(w, flows, c, &q, pkts[i], mode);
	c->received += n; /* once a burst: stores through b may alias c */
	c->rx_bytes += rx_bytes;
	if (flows && (w->fs->batch.n4 || w->fs->batch.n6))
		flush_flows(w->fs, &fx);
	free_burst(pkts, n);
	rm_burst_count(g, c, &q, mode, located);
}

/* The instances, out of line: inlined into the poll loop, whose values
 * stay live around it, a burst spilled its own.  The default mode has one
 * without the located layer and one with it; the others test for it. */
static __attribute__((noinline)) void process_outer(const struct rm_worker *w,
						    const struct rm_gen_view *g,
						    struct rm_counters *c, struct rte_mbuf **pkts,
						    uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_OUTER, false);
}

static __attribute__((noinline)) void process_outer_located(const struct rm_worker *w,
							    const struct rm_gen_view *g,
							    struct rm_counters *c,
							    struct rte_mbuf **pkts, uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_OUTER, true);
}

static __attribute__((noinline)) void process_inner(const struct rm_worker *w,
						    const struct rm_gen_view *g,
						    struct rm_counters *c, struct rte_mbuf **pkts,
						    uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_INNER, g->located.v4 != NULL);
}

static __attribute__((noinline)) void process_both(const struct rm_worker *w,
						   const struct rm_gen_view *g,
						   struct rm_counters *c, struct rte_mbuf **pkts,
						   uint16_t n)
{
	process_as(w, g, c, pkts, n, RM_TUNNELS_BOTH, g->located.v4 != NULL);
}

static void process(const struct rm_worker *w, const struct rm_gen_view *g, struct rm_counters *c,
		    struct rte_mbuf **pkts, uint16_t n)
{
	if (likely(w->tunnels == RM_TUNNELS_OUTER)) {
		if (g->located.v4)
			process_outer_located(w, g, c, pkts, n);
		else
			process_outer(w, g, c, pkts, n);
	} else if (w->tunnels == RM_TUNNELS_INNER)
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
		/* Quiescent only now: g is not used past this point (the
		 * export tick compares it with the generation it last saw). */
		rte_rcu_qsbr_quiescent(w->qsv, w->index);
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
