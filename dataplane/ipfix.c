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
 * Records of NetFlow v5, v9 and IPFIX go out as they came in: each input
 * template (and v5's fixed layout) gets a template of its own, id
 * RM_IPFIX_MIRROR + its pool slot, listing the record's fields as the
 * exporter described them, then what is added: the original exporter's
 * address and observation domain, systemInitTimeMilliseconds when the
 * record is timed by the exporter's uptime (so that uptime-relative times
 * keep their meaning), samplingInterval (counts are carried as sent, not
 * multiplied), and, under one Private Enterprise Number (default 32473,
 * the number RFC 5612 reserves for documentation; --ipfix-pen sets the
 * operator's own), the registry, registered country, holder id and NIR
 * of the source and of the destination.  Copying a record is cheaper than
 * decoding and encoding its fields, and keeps every field a collector may
 * want (interfaces, AS numbers, TCP flags, ToS, next hop, vendor fields).
 * Such a template is announced before its first record in each epoch (a
 * refresh or a snapshot change starts one) and again whenever its
 * exporter redefines it differently.  The decoder hands the records over
 * in runs (struct rm_flow_run); the copy loop that writes them is
 * ipfix_put.c, and this file does what that loop stops for (add_runs).
 *
 * sFlow samples have no record to copy: their decoded addresses, ports,
 * protocol, counts (multiplied by the sampling rate, which is carried as
 * samplingApplied) and arrival time go in four fixed templates, IPv4 or
 * IPv6 records from IPv4 or IPv6 agents, which also describe
 * rm_ipfix_add's records.  The standard templates go first in the first
 * message, again every refresh interval and after every snapshot change
 * (rm_ipfix_templates).  docs/ipfix-export.md lists every element.
 */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "ipfix.h"
#include "output.h"
#include "simd.h"

#define HEADER	   16
#define SET_HEADER 4
#define TEMPLATES  4 /* the standard record templates (the aggregate one: agg_epoch) */

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

/* The enterprise elements, in record order: id, length (65535: variable).
 * Each end's four are adjacent, so that a record copies one precomputed
 * block per end (rm_ipfix_end_encode); the NIR, added after the other
 * three had ids, is the last of each end's. */
static const uint16_t enterprise_fields[][2] = {
    {RM_IE_SRC_REGISTRY, 65535}, {RM_IE_SRC_COUNTRY, 2},      {RM_IE_SRC_HOLDER, 65535},
    {RM_IE_SRC_NIR, 65535},	 {RM_IE_DST_REGISTRY, 65535}, {RM_IE_DST_COUNTRY, 2},
    {RM_IE_DST_HOLDER, 65535},	 {RM_IE_DST_NIR, 65535},      {RM_IE_SAMPLING_APPLIED, 4},
};
#define N_ENTERPRISE (sizeof(enterprise_fields) / sizeof(enterprise_fields[0]))

void rm_ipfix_init(struct rm_ipfix *x, uint32_t pen, uint32_t domain, unsigned max_message,
		   rm_ipfix_send_fn send, void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->pen = pen;
	x->domain = domain;
	x->max = max_message < 512				 ? 512
		 : max_message > sizeof(x->own) - RM_IPFIX_SLACK ? sizeof(x->own) - RM_IPFIX_SLACK
								 : max_message;
	x->msg = x->own;
	x->send = send;
	x->ctx = ctx;
	x->put = rm_simd_best() >= RM_SIMD_AVX2 ? rm_ipfix_put_avx2 : rm_ipfix_put_sse2;
	x->templates_due = 1;
	x->epoch = 1;
}

void rm_ipfix_templates(struct rm_ipfix *x)
{
	x->templates_due = 1;
	x->epoch++;
}

/* Close the open data set, if any, by writing its length. */
static void close_set(struct rm_ipfix *x)
{
	if (x->set_at) {
		rm_put_be16(x->msg + x->set_at + 2, x->len - x->set_at);
		x->set_at = 0;
		x->set_id = 0;
	}
}

static void write_templates(struct rm_ipfix *x)
{
	uint32_t at = x->len;
	uint8_t *p = x->msg;
	rm_put_be16(p + at, 2);
	x->len += SET_HEADER;
	for (int t = 0; t < TEMPLATES; t++) {
		int family = t & 1 ? 6 : 4, exp_family = t & 2 ? 6 : 4;
		uint16_t f[16][2];
		unsigned n = standard_fields(family, exp_family, f);
		rm_put_be16(p + x->len, template_id(family, exp_family));
		rm_put_be16(p + x->len + 2, n + N_ENTERPRISE);
		x->len += 4;
		for (unsigned i = 0; i < n; i++, x->len += 4) {
			rm_put_be16(p + x->len, f[i][0]);
			rm_put_be16(p + x->len + 2, f[i][1]);
		}
		for (unsigned i = 0; i < N_ENTERPRISE; i++, x->len += 8) {
			rm_put_be16(p + x->len, 0x8000 | enterprise_fields[i][0]);
			rm_put_be16(p + x->len + 2, enterprise_fields[i][1]);
			rm_put_be32(p + x->len + 4, x->pen);
		}
	}
	rm_put_be16(p + at + 2, x->len - at);
	x->template_sends++;
}

static void start_message(struct rm_ipfix *x)
{
	uint8_t *b = x->buffer ? x->buffer(x->ctx, x->max + RM_IPFIX_SLACK) : NULL;
	x->msg = b ? b : x->own;
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
	rm_put_be16(p, 10);
	rm_put_be16(p + 2, x->len);
	rm_put_be32(p + 4, (uint32_t)now_s);
	rm_put_be32(p + 8, x->seq);
	rm_put_be32(p + 12, x->domain);
	x->send(x->ctx, p, x->len);
	x->seq += x->in_msg; /* data records, as the RFC counts them */
	x->messages++;
	x->records += x->in_msg;
	x->len = 0;
	x->in_msg = 0;
}

/* A variable-length string field of n bytes of s at p: one length byte,
 * then the text, cut at max bytes (RM_IPFIX_MAX_STRING, so that the largest
 * record, about 375 bytes, fits the smallest MTU allowed, 576).  IPFIX
 * strings are UTF-8 (RFC 7011), so a long one is cut between two
 * characters, never inside one.  Returns the bytes written. */
static uint32_t put_string_max(uint8_t *p, const char *s, uint32_t n, uint32_t max)
{
	if (n > max)
		n = (uint32_t)rm_utf8_cut(s, max);
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

static uint32_t put_string(uint8_t *p, const char *s, uint32_t n)
{
	return put_string_max(p, s, n, RM_IPFIX_MAX_STRING);
}

/* The slow path of room(): send, start a message, open a set. */
static uint8_t *room_slow(struct rm_ipfix *x, uint16_t id, uint32_t need, uint64_t now_s)
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
		rm_put_be16(x->msg + x->len, id);
		x->len += SET_HEADER;
	}
	return x->msg + x->len;
}

/* Where a record of template id and at most need bytes goes: in the open
 * message and set (the common case, inline), or in a new one after the open
 * message is sent. */
static inline uint8_t *room(struct rm_ipfix *x, uint16_t id, uint32_t need, uint64_t now_s)
{
	if (x->set_id == id && !x->templates_due && x->len + need <= x->max)
		return x->msg + x->len;
	return room_slow(x, id, need, now_s);
}

/*
 * Put template record t (tlen bytes) in the open message, a set of its own,
 * before a record of need bytes that uses it: the open message is sent
 * first when the two do not fit in it, or when the standard templates are
 * due (they lead a message).  -1 when the template cannot be sent at all.
 */
static int put_template_set(struct rm_ipfix *x, const uint8_t *t, uint32_t tlen, uint32_t need,
			    uint64_t now_s)
{
	if (HEADER + SET_HEADER + tlen > x->max)
		return -1;
	if (x->len && (x->templates_due || x->len + 2 * SET_HEADER + tlen + need > x->max))
		rm_ipfix_flush(x, now_s);
	if (x->len == 0)
		start_message(x);
	if (x->len + SET_HEADER + tlen > x->max) { /* the standard templates fill it */
		rm_ipfix_flush(x, now_s);
		start_message(x);
	}
	close_set(x);
	rm_put_be16(x->msg + x->len, 2);
	rm_put_be16(x->msg + x->len + 2, (uint16_t)(SET_HEADER + tlen));
	memcpy(x->msg + x->len + SET_HEADER, t, tlen);
	x->len += SET_HEADER + tlen;
	return 0;
}

/* The elements of the aggregate template (260): the interval, the counts,
 * then the enterprise ones; the NIRs, added after the others had their
 * places, last. */
static const uint16_t agg_fields[][2] = {{152, 8}, {153, 8}, {2, 8}, {1, 8}};
static const uint16_t agg_enterprise[][2] = {
    {RM_IE_SCOPE, 65535},      {RM_IE_SRC_REGISTRY, 65535}, {RM_IE_DST_REGISTRY, 65535},
    {RM_IE_SRC_COUNTRY, 2},    {RM_IE_DST_COUNTRY, 2},	    {RM_IE_SRC_HOLDER, 65535},
    {RM_IE_DST_HOLDER, 65535}, {RM_IE_SRC_NIR, 65535},	    {RM_IE_DST_NIR, 65535},
};
#define N_AGG	       (sizeof(agg_fields) / sizeof(agg_fields[0]))
#define N_AGG_E	       (sizeof(agg_enterprise) / sizeof(agg_enterprise[0]))
#define AGGREGATE_TMPL (4 + 4 * N_AGG + 8 * N_AGG_E)

/* The aggregate template's record at p (AGGREGATE_TMPL bytes). */
static void aggregate_template(const struct rm_ipfix *x, uint8_t *p)
{
	rm_put_be16(p, RM_IPFIX_AGGREGATE);
	rm_put_be16(p + 2, (uint16_t)(N_AGG + N_AGG_E));
	p += 4;
	for (unsigned i = 0; i < N_AGG; i++, p += 4) {
		rm_put_be16(p, agg_fields[i][0]);
		rm_put_be16(p + 2, agg_fields[i][1]);
	}
	for (unsigned i = 0; i < N_AGG_E; i++, p += 8) {
		rm_put_be16(p, 0x8000 | agg_enterprise[i][0]);
		rm_put_be16(p + 2, agg_enterprise[i][1]);
		rm_put_be32(p + 4, x->pen);
	}
}

/* The aggregate template is announced before the first aggregate of each
 * epoch, as a mirrored one is, not among the standard templates: workers
 * never send aggregates, and the smallest message (548 bytes) holds the
 * standard templates (500 with the message header) but not all five (592). */
void rm_ipfix_add_aggregate(struct rm_ipfix *x, const struct rm_ipfix_aggregate *a, uint64_t now_s)
{
	const char *str[7] = {a->scope,		a->end[0].rir, a->end[1].rir, a->end[0].holder,
			      a->end[1].holder, a->end[0].nir, a->end[1].nir};
	uint32_t slen[7], need = 4 * 8 + 4;
	for (int k = 0; k < 7; k++) {
		uint32_t max = k < 5 ? RM_IPFIX_MAX_STRING : RM_IPFIX_MAX_NIR;
		slen[k] = (uint32_t)strlen(str[k]);
		need += 1 + (slen[k] > max ? max : slen[k]);
	}
	if (x->agg_epoch != x->epoch) {
		uint8_t t[AGGREGATE_TMPL];
		aggregate_template(x, t);
		(void)put_template_set(x, t, sizeof(t), need, now_s); /* 92 bytes: fits any max */
		x->agg_epoch = x->epoch;
		x->template_sends++;
	}
	uint8_t *p = room(x, RM_IPFIX_AGGREGATE, need, now_s);
	rm_put_be64(p, a->start_ms);
	rm_put_be64(p + 8, a->end_ms);
	rm_put_be64(p + 16, a->pkts);
	rm_put_be64(p + 24, a->bytes);
	p += 32;
	for (int k = 0; k < 3; k++)
		p += put_string(p, str[k], slen[k]);
	memcpy(p, a->end[0].cc, 2);
	memcpy(p + 2, a->end[1].cc, 2);
	p += 4;
	for (int k = 3; k < 5; k++)
		p += put_string(p, str[k], slen[k]);
	for (int k = 5; k < 7; k++)
		p += put_string_max(p, str[k], slen[k], RM_IPFIX_MAX_NIR);
	x->len = (uint32_t)(p - x->msg);
	x->in_msg++;
}

uint32_t rm_ipfix_end_encode(const struct rm_ipfix_end *e, uint8_t *out)
{
	uint8_t *p = out;
	p += put_string(p, e->rir, (uint32_t)strlen(e->rir));
	memcpy(p, e->cc, 2);
	p += 2;
	p += put_string(p, e->holder, (uint32_t)strlen(e->holder));
	p += put_string_max(p, e->nir, (uint32_t)strlen(e->nir), RM_IPFIX_MAX_NIR);
	return (uint32_t)(p - out);
}

int rm_ipfix_ends_init(struct rm_ipfix_ends *t, const struct rm_db *db)
{
	_Static_assert(RM_IPFIX_END_MAX < 256, "an end's length fits 8 bits");
	t->at = malloc(((size_t)db->n_attrs + 1) * sizeof(*t->at));
	t->bytes = calloc((size_t)db->n_attrs * RM_IPFIX_END_MAX + 64, 1); /* + the over-read */
	if (!t->at || !t->bytes) {
		rm_ipfix_ends_free(t);
		return -1;
	}
	uint64_t off = 0;
	for (uint32_t id = 0; id < db->n_attrs; id++) {
		const struct rm_attr *a = &db->attrs[id];
		struct rm_ipfix_end e = {
		    rm_rir_name(a->rir),
		    rm_str(db, *rm_str(db, a->holder_id) ? a->holder_id : a->holder_name),
		    {a->cc[0] ? a->cc[0] : 'Z', a->cc[0] ? a->cc[1] : 'Z'},
		    rm_nir_name(a->nir)};
		uint32_t len = rm_ipfix_end_encode(&e, t->bytes + off);
		t->at[id] = RM_IPFIX_END_AT(off, len);
		off += len;
	}
	return 0;
}

void rm_ipfix_ends_free(struct rm_ipfix_ends *t)
{
	free(t->at);
	free(t->bytes);
	t->at = NULL;
	t->bytes = NULL;
}

/* Addresses of a record: constant-size copies, one per family. */
static inline uint8_t *put_addrs(uint8_t *p, int family, const uint8_t *src, const uint8_t *dst)
{
	if (family == 6) {
		memcpy(p, src, 16);
		memcpy(p + 16, dst, 16);
		return p + 32;
	}
	memcpy(p, src, 4);
	memcpy(p + 4, dst, 4);
	return p + 8;
}

/* The two ends, encoded.  Ends are short: fixed 48-byte copies (into the
 * slack past max, from the padding past the table) unless one is longer. */
static inline uint8_t *put_ends(uint8_t *p, const uint8_t *e0, uint32_t n0, const uint8_t *e1,
				uint32_t n1)
{
	if (n0 <= 48 && n1 <= 48) {
		memcpy(p, e0, 48);
		memcpy(p + n0, e1, 48);
	} else {
		memcpy(p, e0, n0);
		memcpy(p + n0, e1, n1);
	}
	return p + n0 + n1;
}

/* Append one record; the common path is inlined into the batch loop. */
static inline void add(struct rm_ipfix *x, const struct rm_ipfix_record *r, uint64_t now_s)
{
	uint32_t alen = r->family == 6 ? 16 : 4, elen = r->exp_family == 6 ? 16 : 4;
	uint32_t need = 2 * alen + 5 + 4 * 8 + elen + 4 + r->end_len[0] + r->end_len[1] + 4;
	uint8_t *p = room(x, template_id(r->family, r->exp_family), need, now_s);
	const struct rm_flow_meta *m = r->meta;
	p = put_addrs(p, r->family, r->src, r->dst);
	rm_put_be16(p, m->sport);
	rm_put_be16(p + 2, m->dport);
	p[4] = m->proto;
	rm_put_be64(p + 5, r->pkts);
	rm_put_be64(p + 13, r->bytes);
	rm_put_be64(p + 21, m->start_ms);
	rm_put_be64(p + 29, m->end_ms);
	p += 37;
	if (r->exp_family == 6) {
		memcpy(p, r->exp_addr, 16);
		p += 16;
	} else {
		memcpy(p, r->exp_addr, 4);
		p += 4;
	}
	rm_put_be32(p, r->exp_domain);
	p += 4;
	p = put_ends(p, r->end[0], r->end_len[0], r->end[1], r->end_len[1]);
	rm_put_be32(p, m->sampling);
	p += 4;
	x->len = (uint32_t)(p - x->msg);
	x->in_msg++;
}

void rm_ipfix_add(struct rm_ipfix *x, const struct rm_ipfix_record *r, uint64_t now_s)
{
	/* Callers' ends may be shorter than the 48 bytes add() reads. */
	uint8_t ends[2][RM_IPFIX_END_MAX + 48];
	struct rm_ipfix_record c = *r;
	for (int d = 0; d < 2; d++) {
		memcpy(ends[d], r->end[d], r->end_len[d]);
		c.end[d] = ends[d];
	}
	add(x, &c, now_s);
}

/* ------------------------------------------------------------------ */
/* Records as received (v5, v9, IPFIX)                                 */

/* The NetFlow v5 record's fields as IPFIX elements: id, length. */
static const uint16_t v5_fields[][2] = {
    {8, 4},  {12, 4},  {15, 4}, {10, 2}, {14, 2}, {2, 4},  {1, 4},  {22, 4}, {21, 4}, {7, 2},
    {11, 2}, {210, 1}, {6, 1},	{4, 1},	 {5, 1},  {16, 2}, {17, 2}, {9, 1},  {13, 1}, {210, 2},
};

static uint32_t put_spec(uint8_t *p, uint16_t id, uint16_t len, uint32_t pen)
{
	rm_put_be16(p, id);
	rm_put_be16(p + 2, len);
	if (!(id & 0x8000))
		return 4;
	rm_put_be32(p + 4, pen);
	return 8;
}

/*
 * The template record of mirrored slot at p: the record's own fields as
 * its exporter described them (v9 types are IPFIX element ids below 32768;
 * a vendor type above is carried as paddingOctets of its length), then the
 * original exporter's address and domain, systemInitTimeMilliseconds when
 * the record is timed by uptime, samplingInterval, and the enrichment.
 */
static uint32_t mirror_template(const struct rm_ipfix *x, const struct rm_flow_state *st,
				unsigned slot, int exp_family, int uptime, uint8_t *p)
{
	uint32_t at = 4, n = 0;
	if (slot >= RM_FLOW_POOL) {
		for (size_t i = 0; i < sizeof(v5_fields) / sizeof(v5_fields[0]); i++, n++)
			at += put_spec(p + at, v5_fields[i][0], v5_fields[i][1], 0);
	} else {
		const struct rm_flow_template *t = &st->pool[slot];
		for (unsigned i = 0; i < t->n_fields; i++, n++) {
			uint16_t id = t->type[i];
			if (!t->ipfix && id >= 0x8000)
				id = 210;
			at += put_spec(p + at, id, t->flen[i], t->pen[i]);
		}
	}
	at += put_spec(p + at, exp_family == 6 ? 131 : 130, exp_family == 6 ? 16 : 4, 0);
	at += put_spec(p + at, 149, 4, 0);
	if (uptime)
		at += put_spec(p + at, 160, 8, 0), n++;
	at += put_spec(p + at, 34, 4, 0);
	n += 3;
	for (unsigned i = 0; i < N_ENTERPRISE - 1; i++, n++)
		at += put_spec(p + at, 0x8000 | enterprise_fields[i][0], enterprise_fields[i][1],
			       x->pen);
	rm_put_be16(p, (uint16_t)(RM_IPFIX_MIRROR + slot));
	rm_put_be16(p + 2, (uint16_t)n);
	return at;
}

/* Largest mirrored template record: every field an enterprise one, and
 * the 12 added (exporter, domain, time base, sampling, the two ends). */
#define MIRROR_TEMPLATE_MAX (4 + 8 * (RM_FLOW_MAX_FIELDS + 12))

/* Put slot's template in the open message before a record of need bytes
 * that uses it (put_template_set); -1 when it cannot be sent at all. */
static int announce(struct rm_ipfix *x, const struct rm_flow_state *st, unsigned slot,
		    int exp_family, int uptime, uint64_t mark, uint32_t need, uint64_t now_s)
{
	uint8_t t[MIRROR_TEMPLATE_MAX];
	uint32_t tlen = mirror_template(x, st, slot, exp_family, uptime, t);
	if (put_template_set(x, t, tlen, need, now_s))
		return -1;
	x->sent[slot] = mark;
	x->mirror_sends++;
	return 0;
}

/* What the records of a run share besides the key and tail that the put
 * state holds: worked out when the key changes. */
struct mirror {
	uint16_t id; /* the IPFIX template id */
	unsigned slot;
	int uptime, exp_family;
	uint64_t mark;
};

/* The template of run meta m in c, and its key and tail in s: the original
 * exporter's address and domain, the time base when uptime-timed, the
 * sampling interval. */
static void mirror_of(struct mirror *c, struct rm_ipfix_put *s, const struct rm_ipfix *x,
		      const struct rm_flow_state *st, const struct rm_flow_meta *m)
{
	const struct rm_flow_exporter *e = &st->exp[m->exporter];
	int v5 = m->tmpl == RM_META_V5;
	s->tmpl = m->tmpl;
	s->exporter = m->exporter;
	s->sampling = m->sampling;
	s->sysinit = m->sysinit_ms;
	c->slot = v5 ? RM_FLOW_POOL + (e->family == 6) : m->tmpl;
	c->id = (uint16_t)(RM_IPFIX_MIRROR + c->slot);
	c->uptime = v5 || st->pool[c->slot].uptime;
	c->exp_family = e->family;
	c->mark = (uint64_t)x->epoch << 32 | (v5 ? 1 : st->pool[c->slot].version);
	uint8_t *p = s->tail;
	uint32_t alen = e->family == 6 ? 16 : 4;
	memcpy(p, e->addr, alen);
	p += alen;
	rm_put_be32(p, e->domain);
	p += 4;
	s->sysinit_at = -1;
	if (c->uptime) {
		s->sysinit_at = (int)(p - s->tail);
		rm_put_be64(p, m->sysinit_ms);
		p += 8;
	}
	rm_put_be32(p, m->sampling);
	s->tail_len = (uint32_t)(p + 4 - s->tail);
}

/*
 * Make the open set the one of c's template with room for need bytes:
 * send the open message when it is full, announce the template when this
 * epoch has not seen it, open the set.  -1 (counted as oversized) when
 * even a message of its own cannot hold the record.
 */
static int make_room(struct rm_ipfix *x, const struct rm_flow_state *st, const struct mirror *c,
		     uint32_t need, uint64_t now_s)
{
	if (HEADER + SET_HEADER + need > x->max ||
	    (x->sent[c->slot] != c->mark &&
	     announce(x, st, c->slot, c->exp_family, c->uptime, c->mark, need, now_s))) {
		x->oversized++;
		return -1;
	}
	room(x, c->id, need, now_s);
	return 0;
}

static void next_record(struct rm_ipfix_put *s, const struct rm_flow_run *r)
{
	s->ids += 2;
	if (++s->j == r->n) {
		s->i++;
		s->j = 0;
	}
}

/* Write record (i, j) of run r into the room make_room made: any record,
 * also those x->put leaves (shorter than 16 bytes, an end of 64 or more). */
static void write_next(struct rm_ipfix *x, struct rm_ipfix_put *s, const struct rm_flow_run *r,
		       const struct rm_ipfix_ends *ends)
{
	uint32_t len = r->m.rec_len;
	uint64_t v0 = ends->at[s->ids[0]], v1 = ends->at[s->ids[1]];
	uint8_t *p = x->msg + x->len;
	memcpy(p, r->m.rec + (size_t)s->j * len, len);
	memcpy(p + len, s->tail, 32);
	p = put_ends(p + len + s->tail_len, ends->bytes + (v0 >> 8), v0 & 0xff,
		     ends->bytes + (v1 >> 8), v1 & 0xff);
	x->len = (uint32_t)(p - x->msg);
	x->in_msg++;
	next_record(s, r);
}

/* An sFlow sample: its decoded fields in the standard templates. */
static void add_decoded(struct rm_ipfix *x, const struct rm_flow_state *st, int f, uint32_t k,
			const struct rm_flow_meta *m, const uint32_t ids[2],
			const struct rm_ipfix_ends *ends, uint64_t now_s)
{
	const struct rm_flow_batch *b = &st->batch;
	const struct rm_flow_exporter *e = &st->exp[m->exporter];
	uint8_t s4[4], d4[4]; /* the batch holds IPv4 addresses as host integers */
	rm_put_be32(s4, b->a4[2 * k]);
	rm_put_be32(d4, b->a4[2 * k + 1]);
	struct rm_ipfix_record r = {.family = f ? 6 : 4,
				    .exp_family = e->family,
				    .src = f ? b->a6[2 * k] : s4,
				    .dst = f ? b->a6[2 * k + 1] : d4,
				    .exp_addr = e->addr,
				    .exp_domain = e->domain,
				    .pkts = f ? b->pkts6[k] : b->pkts4[k],
				    .bytes = f ? b->bytes6[k] : b->bytes4[k],
				    .meta = m};
	for (int d = 0; d < 2; d++) {
		r.end[d] = ends->bytes + (ends->at[ids[d]] >> 8);
		r.end_len[d] = ends->at[ids[d]] & 0xff;
	}
	add(x, &r, now_s);
}

/* What rolling a message over needs (struct rm_ipfix_put.roll). */
struct roll_ctx {
	struct rm_ipfix *x;
	const struct rm_flow_state *st;
	const struct mirror *c;
	uint64_t now_s;
};

static int roll(struct rm_ipfix_put *s, uint32_t need)
{
	const struct roll_ctx *r = s->roll_ctx;
	struct rm_ipfix *x = r->x;
	if (HEADER + SET_HEADER + need > x->max) /* the caller counts it */
		return -1;
	x->len = s->at;
	x->in_msg += s->written;
	s->written = 0;
	if (make_room(x, r->st, r->c, need, r->now_s))
		return -1;
	s->msg = x->msg;
	s->at = x->len;
	s->max = x->max;
	return 0;
}

/*
 * The runs of family f (0, 1) of a batch.  While the open set is the
 * run's, x->put writes records (and rolls full messages over); this loop
 * does what it stops for: works out a new key's template and tail, and
 * writes the record it stopped at after making room for it (announcing
 * the template, opening the set).  sFlow samples go decoded.
 */
static void add_runs(struct rm_ipfix *x, const struct rm_flow_state *st, int f, const uint32_t *ids,
		     const struct rm_ipfix_ends *ends, uint64_t now_s)
{
	const struct rm_flow_batch *b = &st->batch;
	struct mirror c = {0};
	struct rm_ipfix_put s = {.runs = b->runs[f],
				 .n_runs = rm_flow_runs(b, f),
				 .ids = ids,
				 .ends = ends,
				 .tmpl = 0xffff,
				 .roll = roll};
	struct roll_ctx rc = {x, st, &c, now_s};
	s.roll_ctx = &rc;
	while (s.i < s.n_runs) {
		const struct rm_flow_run *r = &s.runs[s.i];
		if (r->m.tmpl == RM_META_SFLOW) { /* a run of one */
			add_decoded(x, st, f, (uint32_t)(s.ids - ids) / 2, &r->m, s.ids, ends,
				    now_s);
			s.i++;
			s.ids += 2;
			continue;
		}
		if (!rm_ipfix_put_same_key(&s, &r->m))
			mirror_of(&c, &s, x, st, &r->m);
		else if (r->m.sysinit_ms != s.sysinit)
			rm_ipfix_put_sysinit(&s, r->m.sysinit_ms);
		if (x->set_id == c.id && !x->templates_due && x->sent[c.slot] == c.mark) {
			s.msg = x->msg;
			s.at = x->len;
			s.max = x->max;
			s.written = 0;
			int why = x->put(&s);
			x->len = s.at;
			x->in_msg += s.written;
			if (why != RM_PUT_SLOW)
				continue;
			r = &s.runs[s.i];
		}
		/* Record (i, j) needs room made (the template announced, its set
		 * opened, or a record x->put leaves): written here, then x->put
		 * goes on with the next. */
		uint64_t v0 = ends->at[s.ids[0]], v1 = ends->at[s.ids[1]];
		uint32_t len = r->m.rec_len;
		if (make_room(x, st, &c, len + s.tail_len + (v0 & 0xff) + (v1 & 0xff), now_s))
			next_record(&s, r); /* oversized: counted */
		else
			write_next(x, &s, r, ends);
	}
}

void rm_ipfix_add_batch(struct rm_ipfix *x, const struct rm_flow_state *st, const uint32_t *id4,
			const uint32_t *id6, const struct rm_ipfix_ends *ends, uint64_t now_s)
{
	add_runs(x, st, 0, id4, ends, now_s);
	add_runs(x, st, 1, id6, ends, now_s);
}
