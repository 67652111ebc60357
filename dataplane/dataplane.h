/*
 * dataplane.h - the interfaces between the dataplane's files.
 *
 *   main.c     EAL, options, ports, lcores, the main loop (export, stop)
 *   parse.c    one frame -> IPv4/IPv6 addresses, non-IP, or malformed
 *   worker.c   the poll loop of one lcore and its counters
 *   report.c   folding per-lcore counters into scopes, and the exporters
 *   pcapfile.c counting the packets of the capture files net_pcap reads
 *   flow.c     NetFlow v5/v9 and IPFIX datagrams -> records, per-exporter state
 *   sflow.c    sFlow v5 datagrams -> sampled frames -> records
 *
 * worker.h adds the DPDK-facing worker structure; this header stays free
 * of DPDK so that the parser and the reports are unit-tested without it.
 *
 * Data flows one way: the snapshot (lookup/) is mapped read-only, workers
 * write only their own counters, and the main lcore reads them to export.
 * Counters are 64-bit and naturally aligned, so the main lcore's reads see
 * whole values without locks; each interval's line is the difference of
 * two such readings.
 */
#ifndef RM_DATAPLANE_H
#define RM_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

enum rm_frame_class { RM_FRAME_IPV4, RM_FRAME_IPV6, RM_FRAME_NON_IP, RM_FRAME_MALFORMED };

enum rm_malformed {
	RM_BAD_TRUNCATED,     /* ends inside a header */
	RM_BAD_IPV4_IHL,      /* IHL < 5 */
	RM_BAD_IPV4_LENGTH,   /* total length beyond the frame, or below the header */
	RM_BAD_IP_VERSION,    /* version field disagrees with the EtherType or MPLS nibble */
	RM_BAD_IPV6_LENGTH,   /* payload length beyond the frame */
	RM_BAD_TOO_MANY_TAGS, /* more VLAN tags or MPLS labels than we follow */
	RM_BAD_COUNT
};

const char *rm_malformed_name(unsigned reason);

struct rm_frame {
	uint8_t cls;		  /* enum rm_frame_class */
	uint8_t reason;		  /* enum rm_malformed when malformed */
	uint16_t l3_off;	  /* offset of the IP header */
	const uint8_t *src, *dst; /* into the frame: 4 or 16 bytes */
	/* For IP: the protocol (IPv6: the first next header), whether this is
	 * an IPv4 fragment (1: the first, with the transport header; 2: a later
	 * one, whose payload is not a transport header), where the IP payload
	 * starts and how long the IP header says it is. */
	uint8_t proto, fragment;
	uint16_t l4_off;
	uint32_t l4_len;
};

#define RM_ET_IPV4 0x0800
#define RM_ET_IPV6 0x86dd

static inline uint16_t rm_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void rm_parse_bad(struct rm_frame *f, enum rm_malformed why)
{
	f->cls = RM_FRAME_MALFORMED;
	f->reason = (uint8_t)why;
}

/* Whether an IP header of version v starts at p + off; if not, why. */
static inline bool rm_parse_version(const uint8_t *p, uint32_t len, uint32_t off, unsigned v,
				    struct rm_frame *f)
{
	if (len < off + 1)
		rm_parse_bad(f, RM_BAD_TRUNCATED);
	else if (p[off] >> 4 != v)
		rm_parse_bad(f, RM_BAD_IP_VERSION);
	else
		return true;
	return false;
}

/* The IPv4 header at p + off, of a frame whose first len bytes are at p. */
static inline void rm_parse_ipv4_at(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
				    struct rm_frame *f)
{
	if (!rm_parse_version(p, len, off, 4, f))
		return;
	uint32_t hl = (uint32_t)(p[off] & 15) * 4;
	if (len < off + 20)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	if (hl < 20)
		return rm_parse_bad(f, RM_BAD_IPV4_IHL);
	if (len < off + hl)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint32_t total = rm_be16(p + off + 2);
	if (total < hl || off + total > frame)
		return rm_parse_bad(f, RM_BAD_IPV4_LENGTH);
	f->cls = RM_FRAME_IPV4;
	f->l3_off = (uint16_t)off;
	f->proto = p[off + 9];
	uint16_t frag = rm_be16(p + off + 6);
	f->fragment = frag & 0x1fff ? 2 : frag & 0x2000 ? 1 : 0; /* later, first, none */
	f->l4_off = (uint16_t)(off + hl);
	f->l4_len = total - hl;
	f->src = p + off + 12;
	f->dst = p + off + 16;
}

/* The IPv6 header at p + off; extension headers are not followed. */
static inline void rm_parse_ipv6_at(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
				    struct rm_frame *f)
{
	if (!rm_parse_version(p, len, off, 6, f))
		return;
	if (len < off + 40)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint32_t payload = rm_be16(p + off + 4);
	if (off + 40 + payload > frame)
		return rm_parse_bad(f, RM_BAD_IPV6_LENGTH);
	f->cls = RM_FRAME_IPV6;
	f->l3_off = (uint16_t)off;
	f->proto = p[off + 6];
	f->fragment = 0;
	f->l4_off = (uint16_t)(off + 40);
	f->l4_len = payload;
	f->src = p + off + 8;
	f->dst = p + off + 24;
}

/* rm_parse_frame past an EtherType that is not IP: tags, MPLS, or not IP. */
void rm_parse_frame_tagged(const uint8_t *p, uint32_t avail, uint32_t frame, struct rm_frame *out);

/*
 * Parse Ethernet, any number of 802.1Q/802.1ad tags (up to 8), an MPLS
 * label stack (up to 16 labels), then IPv4 or IPv6.  avail is the bytes
 * present at p (the headers must lie within them), frame the length of
 * the whole frame (what the IP length fields are checked against).  Every
 * IPv4 fragment counts (the header has both addresses); IPv4 options are
 * skipped by IHL.  Untagged IP, what nearly every frame is, is parsed
 * inline; the rest (a loop GCC compiles badly when inlined) is not.
 */
static inline void rm_parse_frame(const uint8_t *p, uint32_t avail, uint32_t frame,
				  struct rm_frame *out)
{
	if (avail >= 14) {
		uint16_t type = rm_be16(p + 12);
		if (type == RM_ET_IPV6)
			return rm_parse_ipv6_at(p, avail, frame, 14, out);
		if (type == RM_ET_IPV4)
			return rm_parse_ipv4_at(p, avail, frame, 14, out);
	}
	rm_parse_frame_tagged(p, avail, frame, out);
}

/* The same from the IP header on (no link layer), IPv4 or IPv6 by its version. */
void rm_parse_ip(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *out);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

enum rm_dir { RM_SRC, RM_DST, RM_DIRS };

/* Packets and bytes side by side: one cache line touched per count. */
struct rm_cell {
	uint64_t pkts, bytes;
};

/* One lcore's counters; only that lcore writes them.  Every received
 * frame ends in exactly one of attributed, non_ip, malformed, flow (a
 * datagram taken as flow export) or not_flow (IP traffic ignored under
 * --flows-only).  Flow records add their packets and bytes to by_id and
 * the pairs, and count in records. */
struct rm_counters {
	uint64_t received, rx_bytes, attributed, attributed_bytes, non_ip, non_ip_bytes;
	uint64_t flow, flow_bytes, not_flow, not_flow_bytes, records;
	uint64_t malformed[RM_BAD_COUNT];
	uint64_t malformed_bytes[RM_BAD_COUNT];
	struct rm_cell pair[RM_RIR_COUNT][RM_RIR_COUNT]; /* [source rir][destination rir] */
	struct rm_cell *by_id[RM_DIRS];			 /* indexed by attribution id */
	uint32_t n_ids;
} __attribute__((aligned(64)));

int rm_counters_init(struct rm_counters *c, uint32_t n_ids);
void rm_counters_free(struct rm_counters *c);
void rm_counters_zero(struct rm_counters *c);
void rm_counters_copy(struct rm_counters *dst, const struct rm_counters *src);
/* dst += src, field by field (a reading of live counters). */
void rm_counters_add(struct rm_counters *dst, const struct rm_counters *src);
/* d = a - b (an interval), field by field. */
void rm_counters_sub(struct rm_counters *d, const struct rm_counters *a,
		     const struct rm_counters *b);

/* Packets and bytes added to a cell as one 16-byte vector: a frame's three
 * cells cost three loads, adds and stores, not six of each. */
typedef uint64_t rm_cell_add_t __attribute__((vector_size(16)));

static inline void rm_cell_add(struct rm_cell *cell, rm_cell_add_t add)
{
	rm_cell_add_t v;
	memcpy(&v, cell, sizeof(v));
	v += add;
	memcpy(cell, &v, sizeof(v));
}

/*
 * Where counts go, taken out of the counters once per batch: a cell's
 * store may alias anything, so pointers read through c would be read
 * again after every one.
 */
struct rm_count_to {
	struct rm_cell *src, *dst;
	struct rm_cell (*pair)[RM_RIR_COUNT];
	const uint8_t *rir_of;
};

static inline struct rm_count_to rm_count_to(struct rm_counters *c, const uint8_t *rir_of)
{
	return (struct rm_count_to){c->by_id[RM_SRC], c->by_id[RM_DST], c->pair, rir_of};
}

/* Count pkts packets of bytes bytes between two attribution ids: a frame
 * (the caller adds its frames to attributed and attributed_bytes once per
 * burst) or a flow record (already scaled; the caller counts records). */
static inline void rm_count(const struct rm_count_to *to, uint32_t src_id, uint32_t dst_id,
			    uint64_t pkts, uint64_t bytes)
{
	const rm_cell_add_t add = {pkts, bytes};
	rm_cell_add(&to->src[src_id], add);
	rm_cell_add(&to->dst[dst_id], add);
	rm_cell_add(&to->pair[to->rir_of[src_id]][to->rir_of[dst_id]], add);
}

/* ------------------------------------------------------------------ */
/* Flow records (flow.c, sflow.c)                                      */

enum rm_flow_proto { RM_FLOW_NETFLOW, RM_FLOW_IPFIX, RM_FLOW_SFLOW, RM_FLOW_PROTOS };
/* What an exporter speaks, as reported: the port's protocol, with NetFlow
 * split by version. */
enum rm_flow_kind { RM_KIND_NETFLOW5, RM_KIND_NETFLOW9, RM_KIND_IPFIX, RM_KIND_SFLOW };

const char *rm_flow_proto_name(unsigned proto);
const char *rm_flow_kind_name(unsigned kind);

/* Why a flow datagram, or the rest of it, was dropped. */
enum rm_flow_bad {
	RM_FLOWBAD_FRAGMENT, /* an IP fragment: flow export must fit one datagram */
	RM_FLOWBAD_UDP,	     /* UDP header truncated or its length disagrees */
	RM_FLOWBAD_SHORT,    /* shorter than the protocol's header */
	RM_FLOWBAD_VERSION,  /* a version this port's protocol does not have */
	RM_FLOWBAD_LENGTH,   /* a header length or count pointing outside the datagram */
	RM_FLOWBAD_SET,	     /* a set (flowset, sample) shorter than its header or too long */
	RM_FLOWBAD_TEMPLATE, /* a template that cannot describe records */
	RM_FLOWBAD_RECORD,   /* a record that runs past its set */
	RM_FLOWBAD_SAMPLE,   /* an sFlow sample or flow record with bad lengths */
	RM_FLOWBAD_COUNT
};
const char *rm_flow_bad_name(unsigned reason);

#define RM_FLOW_MAX_PORTS     16
#define RM_FLOW_MAX_EXPORTERS 1024 /* (kind, address, domain) per worker */
#define RM_FLOW_MAX_TEMPLATES 64   /* per exporter */
#define RM_FLOW_MAX_FIELDS    128  /* per template */
#define RM_FLOW_POOL	      4096 /* templates per worker, all exporters */
#define RM_FLOW_BATCH	      128  /* records per family before a flush */

/* --flows PROTO:PORT,...; parsed once, read by every worker. */
struct rm_flow_config {
	uint16_t port[RM_FLOW_MAX_PORTS];
	uint8_t proto[RM_FLOW_MAX_PORTS];
	unsigned n;
	bool only; /* --flows-only */
};

/* Parse "netflow:2055,ipfix:4739,sflow:6343"; -1 with a reason. */
int rm_flow_config_parse(struct rm_flow_config *cfg, const char *spec, char *err, size_t errlen);

/* The protocol of UDP destination port dport, or -1 when it is not a flow port. */
static inline int rm_flow_port(const struct rm_flow_config *cfg, uint16_t dport)
{
	for (unsigned i = 0; i < cfg->n; i++)
		if (cfg->port[i] == dport)
			return cfg->proto[i];
	return -1;
}

/* Where a re-exported record's fields come from (struct rm_flow_meta.tmpl):
 * a template pool slot (NetFlow v9, IPFIX), or one of these. */
#define RM_META_V5    RM_FLOW_POOL	 /* a NetFlow v5 record, 48 bytes */
#define RM_META_SFLOW (RM_FLOW_POOL + 2) /* decoded fields: ports, protocol, times */

/*
 * What a record carries besides addresses and counts, kept only when it is
 * re-exported (struct rm_flow_state.want_meta).  v5, v9 and IPFIX records
 * are re-exported as received, so only where they are is kept: rec points
 * into the datagram, which the caller keeps until the batch is flushed.
 * sFlow samples have no record to copy: their fields are decoded.
 */
struct rm_flow_meta {
	const uint8_t *rec;	   /* v5, v9, IPFIX: the record as received */
	uint64_t sysinit_ms;	   /* v5, v9, IPFIX: Unix ms of the exporter's uptime 0 */
	uint64_t start_ms, end_ms; /* sFlow: the arrival time */
	uint32_t sampling;	   /* the sampling interval (sFlow: counts multiplied by it) */
	uint16_t rec_len;
	uint16_t tmpl;	   /* pool slot, RM_META_V5 or RM_META_SFLOW */
	uint16_t exporter; /* index into the state's exporter table */
	uint16_t sport, dport;
	uint8_t proto;
};

/*
 * Re-exported records in runs: back-to-back records of one template from
 * one exporter with one time base and sampling interval, as a data set's
 * records usually are.  m describes the first; record i of the run is at
 * m.rec + i * m.rec_len.  The export works out a template's framing once
 * per run instead of once per record, and the decoder writes a run, not a
 * record's worth of metadata, per record.  An sFlow sample is a run of one.
 */
struct rm_flow_run {
	struct rm_flow_meta m;
	uint32_t n;
};

/* Records waiting for one bulk lookup per family.  With want_meta, the
 * runs of family f (0: IPv4, 1: IPv6) cover its records in order; they are
 * started afresh whenever the family's records are (n4 or n6 set to 0). */
struct rm_flow_batch {
	uint32_t a4[2 * RM_FLOW_BATCH];
	uint8_t a6[2 * RM_FLOW_BATCH][16];
	uint64_t pkts4[RM_FLOW_BATCH], bytes4[RM_FLOW_BATCH];
	uint64_t pkts6[RM_FLOW_BATCH], bytes6[RM_FLOW_BATCH];
	uint32_t n4, n6;
	uint32_t n_runs[2];
	struct rm_flow_run runs[2][RM_FLOW_BATCH];
};

/* The runs of family f (0, 1) that are current: none while it has no records. */
static inline uint32_t rm_flow_runs(const struct rm_flow_batch *b, int f)
{
	return (f ? b->n6 : b->n4) ? b->n_runs[f] : 0;
}

/* Record k of family (4 or 6) of a batch with want_meta, as one meta. */
void rm_flow_batch_meta(const struct rm_flow_batch *b, int family, uint32_t k,
			struct rm_flow_meta *out);

/* Per-exporter health; only the owning worker writes. */
enum rm_exp_counter {
	RM_EXP_DATAGRAMS,
	RM_EXP_RECORDS,		/* data records counted */
	RM_EXP_NO_TEMPLATE,	/* data sets skipped: their template is not known (yet) */
	RM_EXP_NO_ADDRESS,	/* data records without a source and destination address */
	RM_EXP_OPTIONS,		/* options data records read */
	RM_EXP_TEMPLATES,	/* template records accepted (new, refreshed or withdrawn) */
	RM_EXP_TEMPLATES_FULL,	/* templates refused: the per-exporter or pool limit */
	RM_EXP_SAMPLES_SKIPPED, /* sFlow samples of other kinds (counters), or not IP */
	RM_EXP_GAPS,		/* sequence jumps forward */
	RM_EXP_LOST,		/* datagrams (v9, sFlow) or records (v5, IPFIX) missed */
	RM_EXP_COUNTERS
};
const char *rm_exp_counter_name(unsigned k);

/* The fields of a data record that matter here. */
enum rm_role {
	RM_ROLE_SRC4,
	RM_ROLE_DST4,
	RM_ROLE_SRC6,
	RM_ROLE_DST6,
	RM_ROLE_BYTES,	     /* octetDeltaCount (1) */
	RM_ROLE_PKTS,	     /* packetDeltaCount (2) */
	RM_ROLE_OBYTES,	     /* postOctetDeltaCount (23): when 1 is absent */
	RM_ROLE_OPKTS,	     /* postPacketDeltaCount (24): when 2 is absent */
	RM_ROLE_SAMPLING,    /* samplingInterval (34), samplerRandomInterval (50) */
	RM_ROLE_SP_INTERVAL, /* samplingPacketInterval (305) */
	RM_ROLE_SP_SPACE,    /* samplingPacketSpace (306) */
	RM_ROLE_SYSINIT,     /* systemInitTimeMilliseconds (160), in options */
	RM_ROLES
};

struct rm_flow_template {
	uint16_t id, n_fields;
	uint16_t min_len; /* the record length, or its minimum with variable fields */
	uint8_t variable; /* has variable-length fields: walk each record */
	uint8_t options;  /* an options template (sampling) */
	uint8_t used;
	uint8_t ipfix;	  /* element ids may carry an enterprise number */
	uint8_t uptime;	  /* has flowStart/EndSysUpTime (22, 21) */
	uint32_t version; /* new with every definition: re-export announces it again */
	/* Fixed offsets of the fields wanted (when !variable), -1 when absent. */
	int32_t off[RM_ROLES];
	uint8_t len[RM_ROLES];
	uint16_t flen[RM_FLOW_MAX_FIELDS]; /* 65535: variable */
	uint16_t type[RM_FLOW_MAX_FIELDS]; /* element id as received (IPFIX: enterprise bit) */
	uint32_t pen[RM_FLOW_MAX_FIELDS];  /* enterprise number of enterprise elements */
	uint8_t role[RM_FLOW_MAX_FIELDS];  /* index into off[], or 0xff */
};

struct rm_flow_exporter {
	volatile uint8_t used; /* published last: the main lcore reads used slots */
	uint8_t kind, family;
	uint8_t seq_known;
	uint8_t addr[16];
	uint32_t domain;
	uint32_t next_seq;
	/* IPFIX: the last message's sequence number and data records (all,
	 * and without options records), and the counting convention learned. */
	uint32_t last_seq, last_all, last_data;
	uint8_t seq_mode;
	uint64_t sampling;	      /* announced by options records (v9, IPFIX); 0: none */
	uint64_t sysinit_ms;	      /* IPFIX systemInitTimeMilliseconds, from options */
	uint64_t clock_ms, uptime_ms; /* v5/v9 header of the datagram being read */
	uint64_t n[RM_EXP_COUNTERS];
	uint64_t bad[RM_FLOWBAD_COUNT];
	uint16_t n_templates, last;
	uint16_t tid[RM_FLOW_MAX_TEMPLATES];  /* template ids */
	uint16_t tref[RM_FLOW_MAX_TEMPLATES]; /* into the worker's template pool */
};

struct rm_flow_state;
typedef void (*rm_flow_flush_fn)(struct rm_flow_state *st, void *ctx);

/* One worker's flow state: survives snapshot reloads (templates are the
 * exporters', not the snapshot's). */
struct rm_flow_state {
	rm_flow_flush_fn flush;
	void *flush_ctx;
	int want_meta;			/* fill the batch's meta (re-export is on) */
	uint64_t now_ms;		/* arrival time, for records without timestamps (sFlow) */
	uint64_t bad[RM_FLOWBAD_COUNT]; /* before an exporter is known */
	uint64_t exporters_full;	/* datagrams from exporters beyond the table */
	struct rm_flow_batch batch;
	uint32_t n_exporters, n_pool;
	uint32_t versions;			  /* template definitions so far (never reset) */
	uint16_t hash[2 * RM_FLOW_MAX_EXPORTERS]; /* exporter index + 1; 0 empty */
	struct rm_flow_exporter exp[RM_FLOW_MAX_EXPORTERS];
	struct rm_flow_template pool[RM_FLOW_POOL];
	uint8_t copy[65536]; /* a datagram gathered from mbuf segments */
};

struct rm_flow_state *rm_flow_state_new(void);
void rm_flow_state_free(struct rm_flow_state *st);
/* Forget every exporter and template (as new, without a new allocation). */
void rm_flow_state_reset(struct rm_flow_state *st);

/*
 * Decode one flow datagram (the UDP payload, len bytes) that arrived on a
 * port of protocol proto from address src (4 or 16 bytes).  Records go to
 * st->batch; st->flush(st, ctx) is called whenever a family's half fills,
 * and the caller flushes what is left after its burst.  With want_meta
 * the batch points into p: the caller flushes before p changes.
 */
void rm_flow_datagram(struct rm_flow_state *st, unsigned proto, const uint8_t *src, int family,
		      const uint8_t *p, uint32_t len);
/* Count a datagram that could not be decoded at all (fragment, UDP). */
void rm_flow_drop(struct rm_flow_state *st, enum rm_flow_bad why);

/* Internal to flow.c and sflow.c: the exporter, created on first sight. */
struct rm_flow_exporter *rm_flow_exporter(struct rm_flow_state *st, unsigned kind,
					  const uint8_t *addr, int family, uint32_t domain);
void rm_flow_sequence(struct rm_flow_exporter *e, uint32_t seq, uint32_t advance);
void rm_flow_emit(struct rm_flow_state *st, int family, const uint8_t *src, const uint8_t *dst,
		  uint64_t pkts, uint64_t bytes, const struct rm_flow_meta *meta);
void rm_sflow_datagram(struct rm_flow_state *st, const uint8_t *p, uint32_t len);

/*
 * Health rows of the exporters of n states (workers), summed by key:
 * "flow/KIND/ADDRESS/DOMAIN/COUNTER" and "flow/malformed.REASON".
 * Cumulative; rm_rows_minus turns two readings into an interval.
 */
struct rm_rows;
void rm_flow_rows(struct rm_flow_state *const *st, unsigned n, const char *snap,
		  struct rm_rows *out);

/* ------------------------------------------------------------------ */
/* IPFIX export of enriched records (ipfix.c)                          */

#define RM_IPFIX_PEN_DEFAULT 32473 /* RFC 5612: for documentation; set your own */
#define RM_IPFIX_TEMPLATE    256   /* 256..259: IPv4/IPv6 records x IPv4/IPv6 exporters */
#define RM_IPFIX_AGGREGATE   260   /* per-interval totals of a scope's key */
#define RM_IPFIX_MIRROR	     261   /* + slot: records as received (rm_ipfix_add_batch) */
#define RM_IPFIX_MAX_STRING  64	   /* longer strings (an operator's label) are cut */

/* Enterprise-specific information elements (docs/ipfix-export.md). */
enum rm_ie {
	RM_IE_SRC_REGISTRY = 1, /* string: afrinic, apnic, arin, lacnic, ripencc, iana, unknown */
	RM_IE_DST_REGISTRY,
	RM_IE_SRC_COUNTRY, /* string(2): ISO 3166 code as registered, "ZZ" when none */
	RM_IE_DST_COUNTRY,
	RM_IE_SRC_HOLDER, /* string: the registry's opaque holder id, or local:LABEL */
	RM_IE_DST_HOLDER,
	RM_IE_SAMPLING_APPLIED, /* unsigned32: the interval the counts were multiplied by */
	RM_IE_SCOPE,		/* string: rir, country, holder or rir_pair (aggregates) */
};

/* One end's attribution, as exported. */
struct rm_ipfix_end {
	const char *rir, *holder; /* NUL-terminated */
	char cc[2];
};

/* An end's three enterprise elements as they go on the wire (registry,
 * country, holder); at most this long. */
#define RM_IPFIX_END_MAX (2 * (1 + RM_IPFIX_MAX_STRING) + 2)
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
	if (s->sysinit_at >= 0) {
		uint64_t be = __builtin_bswap64(ms);
		memcpy(s->tail + s->sysinit_at, &be, 8);
	}
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
/* The rir, country, holder and rir_pair rows of rows as aggregates (report.c). */
struct rm_rows;
void rm_rows_to_ipfix(const struct rm_rows *rows, struct rm_ipfix *x, uint64_t start_ms,
		      uint64_t end_ms, uint64_t now_s);
/* Send the open message (or due templates alone) now. */
void rm_ipfix_flush(struct rm_ipfix *x, uint64_t now_s);

/* ------------------------------------------------------------------ */
/* Reports                                                             */

struct rm_port_stats {
	uint16_t port;
	uint64_t rx, missed, errors;
};

/*
 * What the exporters need to know about one snapshot, computed once: the
 * registry of each id, and each id's country and holder key as an index
 * into a list of distinct keys ("ripencc:DE", "afrinic:F364712F",
 * "local:office"; "none" for no holder).
 */
struct rm_reporter {
	const struct rm_db *db;
	uint32_t n_ids;
	uint8_t *rir_of;
	uint32_t *country_of, *holder_of;
	char **country_keys, **holder_keys;
	uint32_t n_country, n_holder;
};

int rm_reporter_init(struct rm_reporter *r, const struct rm_db *db);
void rm_reporter_free(struct rm_reporter *r);

/*
 * Rows: what the exporters write, one per (snapshot, scope, dir, key).
 * Counters of different snapshots (ids differ between them) meet here,
 * after each side has been turned into keys.
 */
struct rm_row {
	char snap[24];		 /* the id of the snapshot that attributed them */
	const char *scope, *dir; /* static strings; dir NULL for rir_pair and health */
	char key[160];
	uint64_t packets, bytes;
	int has_bytes;
};

struct rm_rows {
	struct rm_row *v;
	uint32_t n, cap;
};

/* Write the flow collector's health lines (flow_datagrams, flow_records,
 * not_flow, exporters): set once at start, when --flows is given. */
void rm_report_flows(bool on);
/* Append the rows of counters c, attributed under r's snapshot `snap`. */
void rm_rows_of(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		struct rm_rows *out);
void rm_rows_append(struct rm_rows *dst, const struct rm_rows *src);
/* Sort and sum rows of equal (snapshot, scope, dir, key). */
void rm_rows_compact(struct rm_rows *rs);
void rm_rows_free(struct rm_rows *rs);
/* rs -= prev, row by row of equal (snapshot, scope, dir, key); both compacted. */
void rm_rows_minus(struct rm_rows *rs, const struct rm_rows *prev);

struct rm_outputs {
	FILE *json, *csv; /* NULL when not wanted */
	const char *prom; /* textfile path, written atomically */
	unsigned top;	  /* holders kept by name, per snapshot and direction */
};

/*
 * Write rows as one interval of `interval` seconds, or as the totals, to
 * the JSON and CSV outputs, with the port counters as health lines under
 * port_snap.  Returns 0, or -1 after a write error (reported).
 */
int rm_write_rows(const struct rm_outputs *o, const struct rm_rows *rows,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		  double ts, double interval, bool total);
/* The Prometheus textfile: cumulative rows summed over snapshots. */
int rm_write_prom(const struct rm_outputs *o, const struct rm_rows *total,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		  const char *snap_inputs);
/* The same text in memory (for the HTTP endpoint); the caller frees *text. */
int rm_render_prom(const struct rm_outputs *o, const struct rm_rows *total,
		   const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		   const char *snap_inputs, char **text, size_t *len);
/* The per-registry table and the balance line; 0 when the counts balance. */
int rm_write_table(FILE *out, const struct rm_rows *total);

/* ------------------------------------------------------------------ */
/* The Prometheus scrape endpoint (promhttp.c, libmicrohttpd)          */

struct rm_promhttp;
/* Listen on "ADDR:PORT", "[ADDR6]:PORT" or "PORT" (loopback); NULL + err. */
struct rm_promhttp *rm_promhttp_start(const char *listen, char *err, size_t errlen);
/* Replace the text served; takes ownership of text (malloc'd). */
void rm_promhttp_publish(struct rm_promhttp *h, char *text, size_t len);
void rm_promhttp_stop(struct rm_promhttp *h);

/* ------------------------------------------------------------------ */
/* Capture files                                                       */

/* Packets in a pcap file, or -1 with a reason. */
long long rm_pcap_count(const char *path, char *err, size_t errlen);

#endif
