/*
 * export.h - the enriched IPFIX export out of DPDK ports (export.c):
 * --ipfix-export's configuration and one worker's exporter.
 *
 * Each worker frames its own encoder's messages (dataplane/ipfix.h) as
 * Ethernet/IPv4/UDP and sends them on its own TX queue of each
 * destination port; the main lcore's per-interval aggregates reach a
 * queue through worker 0 (the handoff rings).
 */
#ifndef RM_EXPORT_H
#define RM_EXPORT_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "flow.h"
#include "ipfix.h"

#define RM_MAX_EXPORT	4  /* --ipfix-export destinations */
#define RM_EXPORT_BURST 32 /* frames per destination given to its port at once */

/* --ipfix-export: where the enriched records go (export.c). */
struct rm_export_dst {
	uint16_t port;
	uint8_t ip[4], mac[6]; /* mac: the next hop's, broadcast by default */
	uint16_t udp_port;
};

struct rm_export_cfg {
	struct rm_export_dst dst[RM_MAX_EXPORT];
	unsigned n;
	uint8_t source[4];
	uint32_t pen, domain; /* domain: the first worker's; worker i uses domain + i */
	unsigned mtu;
	double refresh_s; /* template refresh */
	struct rte_mempool *pool;
	uint8_t src_mac[RM_MAX_EXPORT][6];
};

/* One worker's exporter: its encoder (its own observation domain), its TX
 * queue on each destination port, and what it sent. */
struct rm_export {
	const struct rm_export_cfg *cfg;
	uint16_t queue;
	uint16_t ip_id;
	uint64_t frames, dropped;
	uint64_t flush_tsc, refresh_tsc; /* next due */
	const void *gen;		 /* the generation templates were last sent for */
	/* The main lcore's aggregates reach a TX queue through worker 0: the
	 * main lcore's exporter enqueues its frames on handoff_out, worker 0
	 * dequeues them from handoff_in and sends them on its own queue. */
	struct rte_ring *handoff_out, *handoff_in;
	/* The mbuf the encoder builds its next message in (NULL: none), and
	 * the frames framed for each destination but not yet given to its
	 * port: they go in bursts, at the end of every batch and tick. */
	struct rte_mbuf *open;
	uint8_t hdr[RM_MAX_EXPORT][14 + 20 + 8]; /* per destination, lengths and checksum 0 */
	uint32_t hdr_sum[RM_MAX_EXPORT];	 /* the IPv4 header's sum so */
	struct rte_mbuf *pending[RM_MAX_EXPORT][RM_EXPORT_BURST];
	uint16_t n_pending[RM_MAX_EXPORT];
	struct rm_ipfix enc;
};

/* Parse "PORT:DST_IP:DST_PORT[@MAC],..."; -1 with a reason. */
int rm_export_parse(struct rm_export_cfg *cfg, const char *spec, char *err, size_t errlen);
void rm_export_init(struct rm_export *x, const struct rm_export_cfg *cfg, unsigned worker);
/* Records of a flushed flow batch, enriched from the generation's snapshot. */
struct rm_gen_view;
void rm_export_batch(struct rm_export *x, const struct rm_gen_view *g,
		     const struct rm_flow_state *st, const uint32_t *id4, const uint32_t *id6);
/* Per pass of the poll loop: send what has waited, refresh templates. */
void rm_export_tick(struct rm_export *x, const void *gen, uint64_t now_tsc);
void rm_export_close(struct rm_export *x);
/* Send what the main lcore handed over (worker 0; the main lcore itself once
 * the workers have stopped). */
void rm_export_drain(struct rm_export *x);
/* At most about max of them; the number sent or dropped. */
unsigned rm_export_drain_some(struct rm_export *x, unsigned max);

#endif
