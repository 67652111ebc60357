/*
 * worker.c - the poll loop of one worker lcore.
 *
 * A worker owns a list of (port, queue) pairs and its own counters.  Per
 * burst it parses every frame, copies the two addresses of each IP frame
 * into one IPv4 and one IPv6 array, frees the mbufs, runs one bulk lookup
 * per family, and adds packets and bytes per attribution id.  Nothing is
 * shared for writing, nothing is allocated, and there is no lock or atomic
 * on the way; the main lcore only reads the counters.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dataplane.h"
#include "worker.h"

/* Headers needed to classify a frame, copied when the first segment is short. */
#define HEADER_MAX 256

struct burst {
	uint32_t a4[2 * RM_MAX_BURST];
	uint8_t a6[2 * RM_MAX_BURST][16];
	uint32_t id4[2 * RM_MAX_BURST], id6[2 * RM_MAX_BURST];
	uint32_t len4[RM_MAX_BURST], len6[RM_MAX_BURST];
	uint32_t n4, n6;
};

static inline uint32_t load_be32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

/* Classify one frame and queue its addresses, or count it as not attributable. */
static inline void take(struct rm_counters *c, struct burst *b, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), avail = rte_pktmbuf_data_len(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t copy[HEADER_MAX];
	struct rm_frame f;
	c->received++;
	c->rx_bytes += len;
	if (avail < len && avail < HEADER_MAX) { /* headers may span segments */
		avail = len < HEADER_MAX ? len : HEADER_MAX;
		p = rte_pktmbuf_read(m, 0, avail, copy);
	}
	rm_parse_frame(p, avail, len, &f);
	switch (f.cls) {
	case RM_FRAME_IPV4:
		b->a4[2 * b->n4] = load_be32(f.src);
		b->a4[2 * b->n4 + 1] = load_be32(f.dst);
		b->len4[b->n4++] = len;
		break;
	case RM_FRAME_IPV6:
		memcpy(b->a6[2 * b->n6], f.src, 16);
		memcpy(b->a6[2 * b->n6 + 1], f.dst, 16);
		b->len6[b->n6++] = len;
		break;
	case RM_FRAME_NON_IP:
		c->non_ip++;
		c->non_ip_bytes += len;
		break;
	default:
		c->malformed[f.reason]++;
		c->malformed_bytes[f.reason] += len;
	}
}

static void process(const struct rm_gen_view *g, struct rm_counters *c, struct rte_mbuf **pkts,
		    uint16_t n)
{
	struct burst b;
	b.n4 = b.n6 = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		take(c, &b, pkts[i]);
	}
	rte_pktmbuf_free_bulk(pkts, n);
	if (b.n4)
		g->lookup4(&g->db->dir24, b.a4, b.id4, 2 * b.n4);
	if (b.n6)
		g->lookup6(&g->db->trie6, (const uint8_t(*)[16])b.a6, b.id6, 2 * b.n6);
	for (uint32_t k = 0; k < b.n4; k++)
		rm_count_ip(c, g->rir_of, b.id4[2 * k], b.id4[2 * k + 1], b.len4[k]);
	for (uint32_t k = 0; k < b.n6; k++)
		rm_count_ip(c, g->rir_of, b.id6[2 * k], b.id6[2 * k + 1], b.len6[k]);
}

int rm_worker_main(void *arg)
{
	struct rm_worker *w = arg;
	struct rte_mbuf *pkts[RM_MAX_BURST];
	rte_rcu_qsbr_thread_register(w->qsv, w->index);
	rte_rcu_qsbr_thread_online(w->qsv, w->index);
	uint64_t last = rte_rdtsc();
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
				rte_pktmbuf_free_bulk(pkts, n);
			} else if (n) {
				process(g, c, pkts, n);
			}
		}
		rte_rcu_qsbr_quiescent(w->qsv, w->index);
		uint64_t now = rte_rdtsc();
		if (now - last > w->max_loop_tsc) {
			w->max_loop_tsc = now - last;
			w->max_loop_at = now;
		}
		last = now;
	}
	rte_rcu_qsbr_thread_offline(w->qsv, w->index);
	rte_rcu_qsbr_thread_unregister(w->qsv, w->index);
	return 0;
}
