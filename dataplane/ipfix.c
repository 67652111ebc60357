/*
 * ipfix.c - IPFIX (RFC 7011) messages of enriched flow records, for
 * --ipfix-export.
 *
 * Each worker owns one encoder and one Observation Domain (base + worker
 * index): the RFC counts sequence numbers per domain, so domains that are
 * never shared need no lock and no atomic.  The worker appends records to
 * the message under construction and sends it itself (send callback) when
 * the next record would not fit the MTU, when it has waited long enough
 * (rm_ipfix_flush, called by the worker's loop), and at exit.  A ring to a
 * dedicated export lcore was the alternative; it would cost a copy of
 * every record and a core, for a message rate (one per ~25 records) that
 * the worker's own TX queue absorbs.
 *
 * Records: the original record's addresses, ports, protocol, packet and
 * byte counts (already multiplied by the sampling interval, which is also
 * carried, as samplingApplied, so that no collector multiplies twice),
 * start and end times, the original exporter's address and observation
 * domain; then, under one Private Enterprise Number (default 32473, the
 * number RFC 5612 reserves for documentation; --ipfix-pen sets the
 * operator's own), the registry, registered country and holder id of the
 * source and of the destination.  Four templates cover IPv4 or IPv6
 * records from IPv4 or IPv6 exporters (docs/ipfix-export.md lists every
 * element).  Templates go first in the first message, again every
 * refresh interval and after every snapshot change (rm_ipfix_templates).
 */
#include <string.h>

#include "dataplane.h"

#define HEADER	   16
#define SET_HEADER 4
#define TEMPLATES  4 /* record templates; then the aggregate template */

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Template id of a record family and an exporter family. */
static uint16_t template_id(int family, int exp_family)
{
	return (uint16_t)(RM_IPFIX_TEMPLATE + (family == 6) + 2 * (exp_family == 6));
}

/* The standard elements of template (family, exp_family): id, length. */
static unsigned standard_fields(int family, int exp_family, uint16_t f[][2])
{
	const uint16_t list[][2] = {
	    {(uint16_t)(family == 6 ? 27 : 8), (uint16_t)(family == 6 ? 16 : 4)},
	    {(uint16_t)(family == 6 ? 28 : 12), (uint16_t)(family == 6 ? 16 : 4)},
	    {7, 2},   /* sourceTransportPort */
	    {11, 2},  /* destinationTransportPort */
	    {4, 1},   /* protocolIdentifier */
	    {2, 8},   /* packetDeltaCount */
	    {1, 8},   /* octetDeltaCount */
	    {152, 8}, /* flowStartMilliseconds */
	    {153, 8}, /* flowEndMilliseconds */
	    {(uint16_t)(exp_family == 6 ? 131 : 130), (uint16_t)(exp_family == 6 ? 16 : 4)},
	    {149, 4}, /* observationDomainId of the original exporter */
	};
	memcpy(f, list, sizeof(list));
	return sizeof(list) / sizeof(list[0]);
}

/* The enterprise elements, in record order: id, length (65535: variable). */
static const uint16_t enterprise_fields[][2] = {
    {RM_IE_SRC_REGISTRY, 65535}, {RM_IE_DST_REGISTRY, 65535}, {RM_IE_SRC_COUNTRY, 2},
    {RM_IE_DST_COUNTRY, 2},	 {RM_IE_SRC_HOLDER, 65535},   {RM_IE_DST_HOLDER, 65535},
    {RM_IE_SAMPLING_APPLIED, 4},
};
#define N_ENTERPRISE (sizeof(enterprise_fields) / sizeof(enterprise_fields[0]))

void rm_ipfix_init(struct rm_ipfix *x, uint32_t pen, uint32_t domain, unsigned max_message,
		   rm_ipfix_send_fn send, void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->pen = pen;
	x->domain = domain;
	x->max = max_message < 512		? 512
		 : max_message > sizeof(x->msg) ? sizeof(x->msg)
						: max_message;
	x->send = send;
	x->ctx = ctx;
	x->templates_due = 1;
}

void rm_ipfix_templates(struct rm_ipfix *x)
{
	x->templates_due = 1;
}

/* Close the open data set, if any, by writing its length. */
static void close_set(struct rm_ipfix *x)
{
	if (x->set_at) {
		put16(x->msg + x->set_at + 2, x->len - x->set_at);
		x->set_at = 0;
		x->set_id = 0;
	}
}

static void write_templates(struct rm_ipfix *x)
{
	uint32_t at = x->len;
	uint8_t *p = x->msg;
	put16(p + at, 2);
	x->len += SET_HEADER;
	for (int t = 0; t < TEMPLATES; t++) {
		int family = t & 1 ? 6 : 4, exp_family = t & 2 ? 6 : 4;
		uint16_t f[16][2];
		unsigned n = standard_fields(family, exp_family, f);
		put16(p + x->len, template_id(family, exp_family));
		put16(p + x->len + 2, n + N_ENTERPRISE);
		x->len += 4;
		for (unsigned i = 0; i < n; i++, x->len += 4) {
			put16(p + x->len, f[i][0]);
			put16(p + x->len + 2, f[i][1]);
		}
		for (unsigned i = 0; i < N_ENTERPRISE; i++, x->len += 8) {
			put16(p + x->len, 0x8000 | enterprise_fields[i][0]);
			put16(p + x->len + 2, enterprise_fields[i][1]);
			put32(p + x->len + 4, x->pen);
		}
	}
	/* Per-interval aggregates of the scopes (rm_ipfix_add_aggregate). */
	static const uint16_t agg[][2] = {{152, 8}, {153, 8}, {2, 8}, {1, 8}};
	static const uint16_t agg_e[][2] = {
	    {RM_IE_SCOPE, 65535},      {RM_IE_SRC_REGISTRY, 65535}, {RM_IE_DST_REGISTRY, 65535},
	    {RM_IE_SRC_COUNTRY, 2},    {RM_IE_DST_COUNTRY, 2},	    {RM_IE_SRC_HOLDER, 65535},
	    {RM_IE_DST_HOLDER, 65535},
	};
	put16(p + x->len, RM_IPFIX_AGGREGATE);
	put16(p + x->len + 2, 4 + 7);
	x->len += 4;
	for (unsigned i = 0; i < 4; i++, x->len += 4) {
		put16(p + x->len, agg[i][0]);
		put16(p + x->len + 2, agg[i][1]);
	}
	for (unsigned i = 0; i < 7; i++, x->len += 8) {
		put16(p + x->len, 0x8000 | agg_e[i][0]);
		put16(p + x->len + 2, agg_e[i][1]);
		put32(p + x->len + 4, x->pen);
	}
	put16(p + at + 2, x->len - at);
	x->template_sends++;
}

static void start_message(struct rm_ipfix *x)
{
	x->len = HEADER;
	x->in_msg = 0;
	if (x->templates_due) {
		write_templates(x);
		x->templates_due = 0;
	}
}

void rm_ipfix_flush(struct rm_ipfix *x, uint64_t now_s)
{
	if (x->len == 0) {
		if (!x->templates_due)
			return;
		start_message(x); /* templates alone: at start, refresh, snapshot change */
	}
	close_set(x);
	uint8_t *p = x->msg;
	put16(p, 10);
	put16(p + 2, x->len);
	put32(p + 4, (uint32_t)now_s);
	put32(p + 8, x->seq);
	put32(p + 12, x->domain);
	x->send(x->ctx, p, x->len);
	x->seq += x->in_msg; /* data records, as the RFC counts them */
	x->messages++;
	x->records += x->in_msg;
	x->len = 0;
	x->in_msg = 0;
}

/* Bytes of a variable-length string field: one length byte, then the text,
 * cut at RM_IPFIX_MAX_STRING so that the largest record (about 360 bytes)
 * fits the smallest MTU allowed (576). */
static uint32_t put_string(uint8_t *p, const char *s, uint32_t n)
{
	if (n > RM_IPFIX_MAX_STRING)
		n = RM_IPFIX_MAX_STRING;
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

/* Where a record of template id and at most need bytes goes: in the open
 * message and set, or in a new one after the open message is sent. */
static uint8_t *room(struct rm_ipfix *x, uint16_t id, uint32_t need, uint64_t now_s)
{
	if (x->len && (x->templates_due || x->len + SET_HEADER + need > x->max))
		rm_ipfix_flush(x, now_s);
	if (x->len == 0)
		start_message(x);
	if (x->len + SET_HEADER + need > x->max) { /* templates fill it: send them alone */
		rm_ipfix_flush(x, now_s);
		start_message(x);
	}
	if (x->set_id != id) {
		close_set(x);
		x->set_at = x->len;
		x->set_id = id;
		put16(x->msg + x->len, id);
		x->len += SET_HEADER;
	}
	return x->msg + x->len;
}

void rm_ipfix_add_aggregate(struct rm_ipfix *x, const struct rm_ipfix_aggregate *a, uint64_t now_s)
{
	const char *str[5] = {a->scope, a->end[0].rir, a->end[1].rir, a->end[0].holder,
			      a->end[1].holder};
	uint32_t slen[5], need = 4 * 8 + 4;
	for (int k = 0; k < 5; k++) {
		slen[k] = (uint32_t)strlen(str[k]);
		need += 1 + (slen[k] > RM_IPFIX_MAX_STRING ? RM_IPFIX_MAX_STRING : slen[k]);
	}
	uint8_t *p = room(x, RM_IPFIX_AGGREGATE, need, now_s);
	put64(p, a->start_ms);
	put64(p + 8, a->end_ms);
	put64(p + 16, a->pkts);
	put64(p + 24, a->bytes);
	p += 32;
	for (int k = 0; k < 3; k++)
		p += put_string(p, str[k], slen[k]);
	memcpy(p, a->end[0].cc, 2);
	memcpy(p + 2, a->end[1].cc, 2);
	p += 4;
	for (int k = 3; k < 5; k++)
		p += put_string(p, str[k], slen[k]);
	x->len = (uint32_t)(p - x->msg);
	x->in_msg++;
}

void rm_ipfix_add(struct rm_ipfix *x, const struct rm_ipfix_record *r, uint64_t now_s)
{
	uint32_t alen = r->family == 6 ? 16 : 4, elen = r->exp_family == 6 ? 16 : 4;
	uint32_t slen[4];
	for (int d = 0; d < 2; d++) {
		slen[d] = (uint32_t)strlen(r->end[d].rir);
		slen[2 + d] = (uint32_t)strlen(r->end[d].holder);
	}
	uint32_t need = 2 * alen + 5 + 4 * 8 + elen + 4 + 4 + 4 + 4; /* fixed fields */
	for (int k = 0; k < 4; k++)
		need += 1 + (slen[k] > RM_IPFIX_MAX_STRING ? RM_IPFIX_MAX_STRING : slen[k]);
	uint8_t *p = room(x, template_id(r->family, r->exp_family), need, now_s);
	const struct rm_flow_meta *m = r->meta;
	memcpy(p, r->src, alen);
	memcpy(p + alen, r->dst, alen);
	p += 2 * alen;
	put16(p, m->sport);
	put16(p + 2, m->dport);
	p[4] = m->proto;
	put64(p + 5, r->pkts);
	put64(p + 13, r->bytes);
	put64(p + 21, m->start_ms);
	put64(p + 29, m->end_ms);
	memcpy(p + 37, r->exp_addr, elen);
	p += 37 + elen;
	put32(p, r->exp_domain);
	p += 4;
	for (int d = 0; d < 2; d++)
		p += put_string(p, r->end[d].rir, slen[d]);
	for (int d = 0; d < 2; d++, p += 2)
		memcpy(p, r->end[d].cc, 2);
	for (int d = 0; d < 2; d++)
		p += put_string(p, r->end[d].holder, slen[2 + d]);
	put32(p, m->sampling);
	p += 4;
	x->len = (uint32_t)(p - x->msg);
	x->in_msg++;
}
