/*
 * export.c - --ipfix-export on the worker lcores: enrich the records of a
 * flushed flow batch, hand them to the worker's IPFIX encoder
 * (dataplane/ipfix.c), and send its messages as UDP/IPv4 frames out of a
 * DPDK port.
 *
 * Each worker transmits on its own TX queue (queue = worker index) of each
 * destination port, from its own mbuf cache, so nothing is shared on the
 * way out.  A message leaves when the next record would not fit the MTU,
 * when it is 100 ms old, and at exit; templates lead the first message,
 * then every refresh interval and after every snapshot swap.  The encoder
 * builds each message in the mbuf it leaves in (message_buffer), framed
 * from a header template per destination; frames wait per destination and
 * go to the port in bursts, at the end of every batch and every tick.  A
 * frame the port does not take after a few tries is freed and counted as
 * dropped, never waited for: the workers' first job is to keep receiving.
 *
 * The main lcore's per-interval aggregates take a detour: it frames them
 * like a worker but enqueues the frames on a single-producer,
 * single-consumer ring that worker 0 drains onto its own queue, so that a
 * port needs no more TX queues than there are workers (net_pcap gives one
 * per tx_pcap file) and no queue is ever shared.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "byteorder.h"
#include "export.h"
#include "options.h"
#include "worker.h"

#define FLUSH_MS  100
#define TX_TRIES  4
#define IPFIX_UDP 4739
#define L2L3L4	  (14 + 20 + 8)

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int rm_export_parse(struct rm_export_cfg *cfg, const char *spec, char *err, size_t errlen)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@'), *c1 = strchr(tok, ':'),
		     *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		struct rm_export_dst d = {0};
		memset(d.mac, 0xff, sizeof(d.mac));
		if (at)
			*at++ = '\0';
		if (cfg->n == RM_MAX_EXPORT || !c1 || !c2) {
			snprintf(
			    err, errlen,
			    "--ipfix-export: '%s' is not PORT:IPV4:UDP_PORT[@MAC] (at most %d)",
			    spec, RM_MAX_EXPORT);
			return -1;
		}
		*c1 = *c2 = '\0'; /* tok: PORT, c1 + 1: IPV4, c2 + 1: UDP_PORT */
		uint64_t port, udp;
		char why[128];
		if (rm_parse_u64(tok, 0, 65535, &port, why, sizeof(why))) {
			snprintf(err, errlen, "--ipfix-export: DPDK port %s", why);
			return -1;
		}
		if (rm_parse_u64(c2 + 1, 1, 65535, &udp, why, sizeof(why))) {
			snprintf(err, errlen, "--ipfix-export: UDP port %s", why);
			return -1;
		}
		if (inet_pton(AF_INET, c1 + 1, d.ip) != 1 || (at && parse_mac(at, d.mac))) {
			snprintf(
			    err, errlen,
			    "--ipfix-export: '%s' is not PORT:IPV4:UDP_PORT[@MAC] (at most %d)",
			    spec, RM_MAX_EXPORT);
			return -1;
		}
		d.port = (uint16_t)port;
		d.udp_port = (uint16_t)udp;
		cfg->dst[cfg->n++] = d;
	}
	if (cfg->n == 0) {
		snprintf(err, errlen, "--ipfix-export: no destination given");
		return -1;
	}
	return 0;
}

/* Give n frames to port; what it does not take after a few tries is freed
 * and counted. */
static void transmit(struct rm_export *x, uint16_t port, struct rte_mbuf **m, uint16_t n)
{
	uint16_t done = 0;
	for (int t = 0; t < TX_TRIES && done < n; t++)
		done += rte_eth_tx_burst(port, x->queue, m + done, (uint16_t)(n - done));
	x->frames += done;
	if (done < n) {
		rte_pktmbuf_free_bulk(m + done, n - done);
		x->dropped += n - done;
	}
}

static void send_pending(struct rm_export *x, unsigned d)
{
	transmit(x, x->cfg->dst[d].port, x->pending[d], x->n_pending[d]);
	x->n_pending[d] = 0;
}

static void send_all_pending(struct rm_export *x)
{
	for (unsigned d = 0; d < x->cfg->n; d++)
		if (x->n_pending[d])
			send_pending(x, d);
}

/* The encoder's next message is built in an mbuf, after room for the
 * headers, so that it is not copied on its way out. */
static uint8_t *message_buffer(void *ctx, uint32_t need)
{
	struct rm_export *x = ctx;
	if (x->open) /* never sent: cannot happen, the encoder sends each message */
		rte_pktmbuf_free(x->open);
	x->open = rte_pktmbuf_alloc(x->cfg->pool);
	if (x->open && rte_pktmbuf_tailroom(x->open) < L2L3L4 + need) { /* jumbo MTU */
		rte_pktmbuf_free(x->open);
		x->open = NULL;
	}
	return x->open ? rte_pktmbuf_mtod(x->open, uint8_t *) + L2L3L4 : NULL;
}

/*
 * The Ethernet, IPv4 and UDP headers to destination i, worked out once:
 * per message only the lengths, the IP id and the checksum change, and the
 * checksum is the fixed part's sum plus theirs.
 */
static void header_template(struct rm_export *x, unsigned i)
{
	const struct rm_export_cfg *cfg = x->cfg;
	const struct rm_export_dst *d = &cfg->dst[i];
	uint8_t *p = x->hdr[i];
	memset(p, 0, L2L3L4);
	memcpy(p, d->mac, 6);
	memcpy(p + 6, cfg->src_mac[i], 6);
	p[12] = 0x08;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	ip->version_ihl = 0x45;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	memcpy(&ip->src_addr, cfg->source, 4);
	memcpy(&ip->dst_addr, d->ip, 4);
	x->hdr_sum[i] = rte_raw_cksum(ip, sizeof(*ip));
	rm_put_be16(p + 34, IPFIX_UDP); /* UDP source port */
	rm_put_be16(p + 36, d->udp_port);
	/* no UDP checksum (p + 40, left 0): allowed over IPv4 */
}

/* The headers of a message of len bytes to destination i, at p. */
static void frame(struct rm_export *x, uint8_t *p, unsigned i, uint32_t len)
{
	memcpy(p, x->hdr[i], L2L3L4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ip->packet_id = rte_cpu_to_be_16(x->ip_id++);
	uint32_t sum = x->hdr_sum[i] + ip->total_length + ip->packet_id;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = sum == 0xffff ? (uint16_t)sum : (uint16_t)~sum; /* as rte_ipv4_cksum */
	rm_put_be16(p + 38, (uint16_t)(8 + len));			   /* UDP length */
}

/*
 * One message, framed once per destination.  The last destination served
 * (the first) takes the mbuf the message was built in; the others get
 * copies, made before it can leave.
 */
static void send_message(void *ctx, const uint8_t *msg, uint32_t len)
{
	struct rm_export *x = ctx;
	const struct rm_export_cfg *cfg = x->cfg;
	int in_open = x->open && msg == rte_pktmbuf_mtod(x->open, uint8_t *) + L2L3L4;
	for (unsigned i = cfg->n; i-- > 0;) {
		const struct rm_export_dst *d = &cfg->dst[i];
		struct rte_mbuf *m;
		uint8_t *p;
		if (i == 0 && in_open) {
			m = x->open;
			x->open = NULL;
			p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(L2L3L4 + len));
		} else {
			m = rte_pktmbuf_alloc(cfg->pool);
			p = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(L2L3L4 + len)) : NULL;
			if (p)
				memcpy(p + L2L3L4, msg, len);
		}
		if (!p) {
			if (m)
				rte_pktmbuf_free(m);
			x->dropped++;
			continue;
		}
		frame(x, p, i, len);
		m->port = d->port;
		if (x->handoff_out) { /* the main lcore: worker 0 sends (and counts) it */
			if (rte_ring_enqueue(x->handoff_out, m) != 0) {
				rte_pktmbuf_free(m);
				x->dropped++;
			}
			continue;
		}
		x->pending[i][x->n_pending[i]++] = m;
		if (x->n_pending[i] == RM_EXPORT_BURST)
			send_pending(x, i);
	}
}

void rm_export_init(struct rm_export *x, const struct rm_export_cfg *cfg, unsigned worker)
{
	x->cfg = cfg;
	x->queue = (uint16_t)worker;
	x->ip_id = 0;
	x->frames = x->dropped = 0;
	x->gen = NULL;
	uint64_t hz = rte_get_tsc_hz(), now = rte_rdtsc();
	x->flush_tsc = now + hz * FLUSH_MS / 1000;
	x->refresh_tsc = now + (uint64_t)(cfg->refresh_s * (double)hz);
	rm_ipfix_init(&x->enc, cfg->pen, cfg->domain + worker, cfg->mtu - 28, send_message, x);
	x->enc.buffer = message_buffer;
	for (unsigned i = 0; i < cfg->n; i++)
		header_template(x, i);
	x->open = NULL;
	memset(x->n_pending, 0, sizeof(x->n_pending));
}

static uint64_t unix_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

void rm_export_batch(struct rm_export *x, const struct rm_gen_view *g,
		     const struct rm_flow_state *st, const uint32_t *id4, const uint32_t *id6)
{
	rm_ipfix_add_batch(&x->enc, st, id4, id6, g->ends, unix_s());
	send_all_pending(x);
}

void rm_export_drain(struct rm_export *x)
{
	rm_export_drain_some(x, UINT32_MAX);
}

unsigned rm_export_drain_some(struct rm_export *x, unsigned max)
{
	struct rte_mbuf *m[16];
	unsigned n, done = 0;
	while (done < max &&
	       (n = rte_ring_dequeue_burst(x->handoff_in, (void **)m, 16, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++)
			transmit(x, m[i]->port, &m[i], 1);
		done += n;
	}
	return done;
}

void rm_export_tick(struct rm_export *x, const void *gen, uint64_t now_tsc)
{
	if (x->handoff_in)
		rm_export_drain(x);
	uint64_t hz = rte_get_tsc_hz();
	if (!x->gen) /* the first generation: the templates are due already */
		x->gen = gen;
	if (gen != x->gen || now_tsc >= x->refresh_tsc) {
		x->gen = gen;
		rm_ipfix_templates(&x->enc);
		x->refresh_tsc = now_tsc + (uint64_t)(x->cfg->refresh_s * (double)hz);
		x->flush_tsc = now_tsc; /* templates go out now, with what waits */
	}
	if (now_tsc >= x->flush_tsc) {
		rm_ipfix_flush(&x->enc, unix_s());
		send_all_pending(x);
		x->flush_tsc = now_tsc + hz * FLUSH_MS / 1000;
	}
}

void rm_export_close(struct rm_export *x)
{
	rm_ipfix_flush(&x->enc, unix_s());
	send_all_pending(x);
	if (x->handoff_in)
		rm_export_drain(x);
}
