/*
 * ipfix.h - the IPFIX export of enriched records (ipfix.c, ipfix_put.c).
 *
 * Each worker is one observation domain: its records, as received, under
 * a template per input template, with the registry, country, holder and
 * NIR of both ends as enterprise-specific elements (docs/ipfix-export.md).
 */
#ifndef RM_IPFIX_H
#define RM_IPFIX_H

#include <stdint.h>

#include "byteorder.h"
#include "flow.h"
#include "model.h"

#define RM_IPFIX_PEN_DEFAULT 32473 /* RFC 5612: for documentation; set your own */
#define RM_IPFIX_TEMPLATE    256   /* 256..259: IPv4/IPv6 records x IPv4/IPv6 exporters */
#define RM_IPFIX_AGGREGATE   260   /* per-interval totals of a scope's key */
#define RM_IPFIX_MIRROR	     261   /* + slot: records as received (rm_ipfix_add_batch) */
#define RM_IPFIX_MAX_STRING                                                                        \
	64 /* longer strings (an operator's label) are cut, between characters */

/* The longest NIR name exported (model.c's names: 5 bytes at most). */
#define RM_IPFIX_MAX_NIR 8

/* Enterprise-specific information elements (docs/ipfix-export.md). */
enum rm_ie {
	RM_IE_SRC_REGISTRY = 1, /* string: afrinic, apnic, arin, lacnic, ripencc, iana, unknown */
	RM_IE_DST_REGISTRY,
	RM_IE_SRC_COUNTRY, /* string(2): ISO 3166 code as registered, "ZZ" when none */
	RM_IE_DST_COUNTRY,
	RM_IE_SRC_HOLDER, /* string: the registry's opaque holder id, or local:LABEL */
	RM_IE_DST_HOLDER,
	RM_IE_SAMPLING_APPLIED, /* unsigned32: the interval the counts were multiplied by */
	RM_IE_SCOPE,		/* string: rir, country, nir, holder or rir_pair (aggregates) */
	RM_IE_SRC_NIR = 9,	/* string: jpnic, krnic, ..., nicbr; "" under no NIR */
	RM_IE_DST_NIR = 10,
};

/* One end's attribution, as exported. */
struct rm_ipfix_end {
	const char *rir, *holder; /* NUL-terminated */
	char cc[2];
	const char *nir; /* NUL-terminated, at most RM_IPFIX_MAX_NIR bytes; "" for none */
};

/* An end's four enterprise elements as they go on the wire (registry,
 * country, holder, NIR); at most this long. */
#define RM_IPFIX_END_MAX (2 * (1 + RM_IPFIX_MAX_STRING) + 2 + 1 + RM_IPFIX_MAX_NIR)
uint32_t rm_ipfix_end_encode(const struct rm_ipfix_end *e, uint8_t *out);

/* Every attribution id's end, encoded once per snapshot: id's bytes are
 * at[id] & 0xff long from bytes + (at[id] >> 8), one load per end. */
struct rm_ipfix_ends {
	uint64_t *at;
	uint8_t *bytes;
};
#define RM_IPFIX_END_AT(off, len) ((uint64_t)(off) << 8 | (len))
int rm_ipfix_ends_init(struct rm_ipfix_ends *t, const struct rm_db *db);
void rm_ipfix_ends_free(struct rm_ipfix_ends *t);

struct rm_ipfix_record {
	int family, exp_family;
	const uint8_t *src, *dst, *exp_addr; /* network order, 4 or 16 bytes */
	uint32_t exp_domain;
	uint64_t pkts, bytes;
	const struct rm_flow_meta *meta;
	const uint8_t *end[2]; /* source, destination: encoded ends */
	uint32_t end_len[2];
};

/* One scope row of an interval: which ends are filled depends on the scope
 * and direction (unused strings are "", unused countries NUL). */
struct rm_ipfix_aggregate {
	const char *scope;
	struct rm_ipfix_end end[2];
	uint64_t pkts, bytes, start_ms, end_ms;
};

typedef void (*rm_ipfix_send_fn)(void *ctx, const uint8_t *msg, uint32_t len);
/* Where the next message is to be built, with room for need bytes (its
 * largest length plus RM_IPFIX_SLACK): the sender's own buffer, so that a
 * message is not copied once more on its way out; NULL for the encoder's. */
typedef uint8_t *(*rm_ipfix_buffer_fn)(void *ctx, uint32_t need);
#define RM_IPFIX_SLACK 128 /* past the largest length: fixed-size copies land there */

/*
 * The inner loop of re-export (ipfix_put.c, compiled for the baseline and
 * for AVX2, one chosen at run time): from record j of run i on, records go
 * into the open set while their run has the set's key, each fits the
 * message and its ends are short.  Internal to ipfix.c, and the tests.
 */
struct rm_ipfix_put {
	uint8_t *msg;
	uint32_t at, max; /* the message's length so far, and its limit */
	const struct rm_flow_run *runs;
	uint32_t n_runs, i, j;
	const uint32_t *ids; /* the two ids of record j of run i */
	const struct rm_ipfix_ends *ends;
	/* The open set's key (struct rm_flow_meta's) and what follows each
	 * record before its ends: the exporter's address and domain, the time
	 * base (when uptime-timed) and the sampling interval. */
	uint16_t tmpl, exporter;
	uint32_t sampling;
	uint64_t sysinit;
	uint32_t tail_len;
	int sysinit_at; /* where the tail has the time base, or -1 */
	uint8_t tail[32];
	uint32_t written; /* records, added up */
	/* The open message ends at at with written more records: send it and
	 * start the next with the set open and room for need bytes (then msg,
	 * at and max describe it, written is 0), or -1 to leave it to the
	 * caller. */
	int (*roll)(struct rm_ipfix_put *s, uint32_t need);
	void *roll_ctx;
};
enum { RM_PUT_DONE, RM_PUT_NEW_KEY, RM_PUT_SLOW };
/* Whether run meta m has the open set's key: template, exporter, sampling. */
static inline int rm_ipfix_put_same_key(const struct rm_ipfix_put *s, const struct rm_flow_meta *m)
{
	return m->tmpl == s->tmpl && m->exporter == s->exporter && m->sampling == s->sampling;
}

/* A run of the same key with another time base (the next datagram's). */
static inline void rm_ipfix_put_sysinit(struct rm_ipfix_put *s, uint64_t ms)
{
	s->sysinit = ms;
	if (s->sysinit_at >= 0)
		rm_put_be64(s->tail + s->sysinit_at, ms);
}
typedef int (*rm_ipfix_put_fn)(struct rm_ipfix_put *s);
int rm_ipfix_put_sse2(struct rm_ipfix_put *s);
int rm_ipfix_put_avx2(struct rm_ipfix_put *s);

/* One observation domain's message under construction (one per worker). */
struct rm_ipfix {
	uint32_t pen, domain, seq, max;
	rm_ipfix_send_fn send;
	rm_ipfix_buffer_fn buffer; /* or NULL: messages are built in own */
	void *ctx;
	rm_ipfix_put_fn put; /* the best for this CPU; tests set either */
	int templates_due;
	uint32_t len, in_msg;	 /* bytes and data records of the open message */
	uint32_t set_at, set_id; /* the open data set */
	uint64_t messages, records, template_sends;
	uint64_t mirror_sends; /* templates of records as received, announced */
	uint64_t oversized;    /* records longer than a message: not exported */
	/* Per mirrored template (pool slot; v5 from IPv4, IPv6 exporters): the
	 * epoch << 32 | version last announced.  A new epoch (refresh, new
	 * snapshot) announces each again before its next record. */
	uint32_t epoch;
	uint32_t agg_epoch; /* the epoch the aggregate template was last announced in */
	uint64_t sent[RM_FLOW_POOL + 2];
	uint8_t *msg; /* the message being built: own, or the sender's buffer */
	uint8_t own[9216 + RM_IPFIX_SLACK];
};

/* max_message: the largest message (path MTU less IP and UDP headers). */
void rm_ipfix_init(struct rm_ipfix *x, uint32_t pen, uint32_t domain, unsigned max_message,
		   rm_ipfix_send_fn send, void *ctx);
/* Send the templates first in the next message (start, refresh, new snapshot). */
void rm_ipfix_templates(struct rm_ipfix *x);
/* Append a record; sends the open message first when it would not fit. */
void rm_ipfix_add(struct rm_ipfix *x, const struct rm_ipfix_record *r, uint64_t now_s);
/* Every record of a flow batch, its ids' ends from the snapshot's table. */
void rm_ipfix_add_batch(struct rm_ipfix *x, const struct rm_flow_state *st, const uint32_t *id4,
			const uint32_t *id6, const struct rm_ipfix_ends *ends, uint64_t now_s);
void rm_ipfix_add_aggregate(struct rm_ipfix *x, const struct rm_ipfix_aggregate *a, uint64_t now_s);
/* Send the open message (or due templates alone) now. */
void rm_ipfix_flush(struct rm_ipfix *x, uint64_t now_s);

#endif
