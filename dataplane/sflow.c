/*
 * sflow.c - sFlow version 5 datagrams into flow records.
 *
 * An sFlow agent samples one frame in N and sends, per sample, the first
 * bytes of the frame (a raw header record) with N and the frame's length.
 * Each flow sample becomes one record: its addresses from the sampled
 * header, read by the same parser as received frames (rm_parse_frame, or
 * rm_parse_ip when the agent sends the header from IP on), N packets and
 * N times the frame length in bytes.  When a sample has no raw header but
 * a sampled IPv4 or IPv6 record, that is used instead (its length is the
 * IP packet's: no link layer is known there).  Counter samples are skipped
 * (counted), as are samples of frames that are not IP.
 *
 * Under --tunnels inner (st->inner) a raw header's addresses are those of
 * its innermost packet (rm_parse_tunnels), and a sample whose tunnel
 * carries no IP is skipped; otherwise they are the outermost header's.
 * The innermost addresses take no AS numbers from the sample (below):
 * the router's are the outermost packet's.
 *
 * An extended gateway record gives the sample the router's AS numbers
 * for the source and the destination, as NetFlow's and IPFIX's BGP fields
 * do (the asn scope's, counters.h).
 *
 * The frame length counted is frame_length less the stripped bytes, the
 * frame as a NIC that strips the FCS hands it over, so that sampled and
 * mirrored traffic count bytes alike.
 *
 * The exporter is the agent address in the datagram (not the UDP source,
 * which NAT or a relay may change), with the sub-agent id as its domain;
 * the datagram sequence number per (agent, sub-agent) finds lost
 * datagrams.  Every length and count is checked against the bytes left
 * before use: the datagram is read through a checked cursor (cursor.h),
 * as flow.c reads its headers.
 */
#include <string.h>

#include "byteorder.h"
#include "cursor.h"
#include "flow.h"
#include "parse.h"

/* What one flow sample's records say about the sampled frame. */
struct sampled {
	int family;
	uint8_t src[16], dst[16];
	uint64_t bytes;
	uint16_t sport, dport;
	uint8_t proto;
	bool inner; /* the innermost packet's addresses, not the outermost's */
};

/* The AS numbers of a sample's extended gateway record, 0 when none. */
struct gateway {
	uint32_t src_as, dst_as;
};

/* Ports of a TCP, UDP or SCTP header at l4 when the sampled bytes hold them. */
static void ports_of(const struct rm_frame *f, const uint8_t *p, uint32_t hlen, struct sampled *s)
{
	s->proto = f->proto;
	if ((f->proto == 6 || f->proto == 17 || f->proto == 132) && f->fragment != 2 &&
	    f->l4_off + 4u <= hlen) {
		s->sport = rm_get_be16(p + f->l4_off);
		s->dport = rm_get_be16(p + f->l4_off + 2);
	}
}

/* Raw packet header record (format 1): parse the header as a frame (its
 * innermost packet when inner). */
static int raw_header(struct rm_cur *r, struct sampled *s, bool inner)
{
	uint32_t proto, frame, stripped, hlen;
	if (rm_cur_u32(r, &proto) || rm_cur_u32(r, &frame) || rm_cur_u32(r, &stripped) ||
	    rm_cur_u32(r, &hlen) || rm_cur_left(r) < hlen)
		return -1;
	uint32_t length = stripped < frame ? frame - stripped : 0;
	struct rm_frame f;
	if (proto == 1) /* ethernet */
		rm_parse_frame(r->p, hlen, length, &f);
	else if (proto == 11 || proto == 12) /* IPv4, IPv6 */
		rm_parse_ip(r->p, hlen, length, &f);
	else
		return 0;
	if (inner && (f.cls == RM_FRAME_IPV4 || f.cls == RM_FRAME_IPV6) &&
	    rm_parse_may_tunnel(&f, r->p, hlen)) {
		struct rm_tunnels t;
		struct rm_frame in;
		rm_parse_tunnels(r->p, hlen, &f, &in, &t);
		f = in;
		s->inner = t.n > 0;
	}
	if (f.cls != RM_FRAME_IPV4 && f.cls != RM_FRAME_IPV6)
		return 0;
	s->family = f.cls == RM_FRAME_IPV4 ? 4 : 6;
	memcpy(s->src, f.src, s->family == 4 ? 4 : 16);
	memcpy(s->dst, f.dst, s->family == 4 ? 4 : 16);
	s->bytes = length;
	ports_of(&f, r->p, hlen, s);
	return 1;
}

/* Sampled IPv4 (format 3) or IPv6 (format 4) record: length, protocol,
 * addresses. */
static int sampled_ip(struct rm_cur *r, int family, struct sampled *s)
{
	uint32_t length, proto;
	unsigned alen = family == 4 ? 4 : 16;
	if (rm_cur_u32(r, &length) || rm_cur_u32(r, &proto) || rm_cur_left(r) < 2 * alen)
		return -1;
	s->family = family;
	memcpy(s->src, r->p, alen);
	memcpy(s->dst, r->p + alen, alen);
	s->bytes = length;
	s->proto = (uint8_t)proto;
	if (rm_cur_left(r) >= 2 * alen + 8) {
		s->sport = (uint16_t)rm_get_be32(r->p + 2 * alen);
		s->dport = (uint16_t)rm_get_be32(r->p + 2 * alen + 4);
	}
	return 1;
}

/*
 * Extended gateway record (format 1003): the router's BGP view of the
 * sampled frame.  After the next hop (an address: type 0, unknown, has no
 * bytes; 1 IPv4, 2 IPv6) come the router's own AS, src_as (the source's
 * origin AS), src_peer_as, then the path to the destination as segments
 * (type, count, ASes): its last AS is the destination's origin.  A path of
 * none leaves the destination's AS 0 (the database's answer is used), as
 * is a src_as of 0: neither names an origin.  A next hop of another type
 * leaves the record unread (0: the sample counts without its ASes); -1
 * when the record is shorter than its own counts.
 */
static int extended_gateway(struct rm_cur *r, struct gateway *g)
{
	static const uint8_t nh_len[3] = {0, 4, 16};
	uint32_t atype, router_as, src_as, peer_as, segments;
	if (rm_cur_u32(r, &atype))
		return -1;
	if (atype > 2)
		return 0;
	if (rm_cur_skip(r, nh_len[atype]) || rm_cur_u32(r, &router_as) || rm_cur_u32(r, &src_as) ||
	    rm_cur_u32(r, &peer_as) || rm_cur_u32(r, &segments))
		return -1;
	uint32_t last = 0;
	for (uint32_t i = 0; i < segments; i++) {
		uint32_t type, count;
		if (rm_cur_u32(r, &type) || rm_cur_u32(r, &count) || count > rm_cur_left(r) / 4)
			return -1;
		for (uint32_t k = 0; k < count; k++)
			if (rm_cur_u32(r, &last))
				return -1;
	}
	*g = (struct gateway){src_as, last};
	return 0;
}

/* The records of one flow sample; -1 when one runs past the sample. */
static int flow_records(struct rm_cur *c, uint32_t n, struct sampled *s, struct gateway *g,
			bool inner)
{
	struct sampled ip = {0};
	for (uint32_t i = 0; i < n; i++) {
		uint32_t format, length;
		struct rm_cur r;
		if (rm_cur_u32(c, &format) || rm_cur_u32(c, &length) || rm_cur_sub(c, length, &r))
			return -1;
		int got = 0;
		if (format == 1 && !s->family)
			got = raw_header(&r, s, inner);
		else if ((format == 3 || format == 4) && !ip.family)
			got = sampled_ip(&r, format == 3 ? 4 : 6, &ip);
		else if (format == 1003)
			got = extended_gateway(&r, g);
		if (got < 0)
			return -1;
	}
	if (!s->family && ip.family)
		*s = ip;
	return 0;
}

/* One flow sample (expanded: format 3), [c->p, c->end). */
static int flow_sample(struct rm_flow_state *st, struct rm_flow_exporter *e, struct rm_cur *c,
		       int expanded)
{
	uint32_t rate, n;
	/* sequence, source id (expanded: type and index) */
	if (rm_cur_skip(c, expanded ? 12 : 8) || rm_cur_u32(c, &rate) ||
	    rm_cur_skip(c, expanded ? 24 : 16) /* pool, drops, input, output */ ||
	    rm_cur_u32(c, &n))
		return -1;
	if (n > rm_cur_left(c) / 8)
		return -1;
	struct sampled s = {0};
	struct gateway g = {0, 0};
	if (flow_records(c, n, &s, &g, st->inner))
		return -1;
	if (!s.family) {
		e->n[RM_EXP_SAMPLES_SKIPPED]++;
		return 0;
	}
	uint64_t r = rate ? rate : 1;
	struct rm_flow_meta m = {.start_ms = st->now_ms,
				 .end_ms = st->now_ms,
				 .sampling = (uint32_t)r,
				 .tmpl = RM_META_SFLOW,
				 .exporter = (uint16_t)(e - st->exp),
				 .sport = s.sport,
				 .dport = s.dport,
				 .proto = s.proto};
	/* The router's ASes are of the outermost packet's addresses. */
	if (s.inner)
		g = (struct gateway){0, 0};
	rm_flow_emit(st, s.family, s.src, s.dst, r, s.bytes * r, g.src_as, g.dst_as,
		     st->want_meta ? &m : NULL);
	e->n[RM_EXP_RECORDS]++;
	return 0;
}

void rm_sflow_datagram(struct rm_flow_state *st, const uint8_t *p, uint32_t len)
{
	struct rm_cur c = rm_cur_init(p, len);
	uint32_t version, atype, sub, seq, n;
	if (rm_cur_u32(&c, &version) || rm_cur_u32(&c, &atype)) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	if (version != 5 || (atype != 1 && atype != 2)) {
		st->bad[RM_FLOWBAD_VERSION]++;
		return;
	}
	int family = atype == 1 ? 4 : 6;
	const uint8_t *agent = c.p;
	if (rm_cur_skip(&c, family == 4 ? 4 : 16) || rm_cur_u32(&c, &sub) || rm_cur_u32(&c, &seq) ||
	    rm_cur_skip(&c, 4) || rm_cur_u32(&c, &n)) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	struct rm_flow_exporter *e = rm_flow_exporter(st, RM_KIND_SFLOW, agent, family, sub);
	if (!e)
		return;
	e->n[RM_EXP_DATAGRAMS]++;
	rm_flow_sequence(e, seq, 1);
	if (n > rm_cur_left(&c) / 8) {
		e->bad[RM_FLOWBAD_LENGTH]++;
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type, length;
		struct rm_cur sample;
		if (rm_cur_u32(&c, &type) || rm_cur_u32(&c, &length) ||
		    rm_cur_sub(&c, length, &sample)) {
			e->bad[RM_FLOWBAD_SET]++;
			return;
		}
		if (type == 1 || type == 3) { /* enterprise 0, (expanded) flow sample */
			if (flow_sample(st, e, &sample, type == 3)) {
				e->bad[RM_FLOWBAD_SAMPLE]++;
				return;
			}
		} else {
			e->n[RM_EXP_SAMPLES_SKIPPED]++;
		}
	}
}
