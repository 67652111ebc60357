/*
 * flow.h - flow export datagrams -> records, and per-exporter state.
 *
 *   flow.c   NetFlow v5/v9 and IPFIX datagrams, templates, exporters
 *   sflow.c  sFlow v5 datagrams -> sampled frames -> records
 *
 * Exporters are untrusted: every length is checked before use, and the
 * tables are bounded per worker; what does not fit is counted.  Records
 * are gathered into batches whose addresses go through the same bulk
 * lookups as frames.
 */
#ifndef RM_FLOW_H
#define RM_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "parse.h"

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
	RM_FLOWBAD_COUNTS,   /* counts that, times the sampling interval, overflow 64 bits */
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

/* The protocol of UDP destination port dport, or -1 when it is not a flow
 * port. */
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
	/* Each record's AS numbers as the exporter's BGP view gave them (v5
	 * src_as/dst_as, v9/IPFIX elements 16/17, sFlow's extended gateway),
	 * source then destination; 0 when it gave none. */
	uint32_t as4[2 * RM_FLOW_BATCH], as6[2 * RM_FLOW_BATCH];
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
	RM_ROLE_SRC_AS,	     /* bgpSourceAsNumber (16): the exporter's BGP view */
	RM_ROLE_DST_AS,	     /* bgpDestinationAsNumber (17) */
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

/*
 * One slot of the exporter table.  Only the owning worker writes; the main
 * lcore reads every slot through rm_flow_exporter_read(), which gen makes
 * safe against the slot being released and reused meanwhile (flow.c,
 * "Ageing").  gone_n and gone_bad are what earlier occupants of the slot
 * counted: they only grow, so the sums of a slot never go back.
 */
struct rm_flow_exporter {
	uint32_t gen;	       /* odd while the slot changes hands */
	volatile uint8_t used; /* an exporter holds the slot */
	uint8_t kind, family;
	uint8_t seq_known;
	uint8_t addr[16];
	uint32_t domain;
	uint32_t next_seq;
	/* IPFIX: the last message's sequence number and data records (all,
	 * and without options records), and the counting convention learned. */
	uint32_t last_seq, last_all, last_data;
	uint8_t seq_mode;
	uint8_t established;	      /* sent a template or records, then more: not evictable */
	uint16_t lru_prev, lru_next;  /* in its list (probation, established); RM_FLOW_NIL ends */
	uint32_t home;		      /* its bucket in the state's hash */
	uint64_t last_ms;	      /* st->clock_ms of its last datagram */
	uint64_t sampling;	      /* announced by options records (v9, IPFIX); 0: none */
	uint64_t sysinit_ms;	      /* IPFIX systemInitTimeMilliseconds, from options */
	uint64_t clock_ms, uptime_ms; /* v5/v9 header of the datagram being read */
	uint64_t n[RM_EXP_COUNTERS];
	uint64_t bad[RM_FLOWBAD_COUNT];
	uint64_t gone_n[RM_EXP_COUNTERS]; /* earlier occupants' counters, summed */
	uint64_t gone_bad[RM_FLOWBAD_COUNT];
	uint16_t n_templates, last;
	uint16_t tid[RM_FLOW_MAX_TEMPLATES];  /* template ids */
	uint16_t tref[RM_FLOW_MAX_TEMPLATES]; /* into the worker's template pool */
};

/* A consistent copy of one slot, as the main lcore reads it. */
struct rm_flow_exporter_view {
	uint8_t used, kind, family;
	uint8_t addr[16];
	uint32_t domain;
	uint64_t n[RM_EXP_COUNTERS], bad[RM_FLOWBAD_COUNT];
	uint64_t gone_n[RM_EXP_COUNTERS], gone_bad[RM_FLOWBAD_COUNT];
};

/* Read slot e of a running worker's table into v (any lcore). */
void rm_flow_exporter_read(const struct rm_flow_exporter *e, struct rm_flow_exporter_view *v);

#define RM_FLOW_NIL	   0xffff
#define RM_FLOW_IDLE_MS	   (30 * 60 * 1000ull) /* --flows-idle default */
#define RM_FLOW_MIN_AGE_MS (60 * 1000ull)      /* silence before a newcomer may evict */
#define RM_FLOW_DENIED_TOP 8		       /* denied sources remembered per worker */
#define RM_FLOW_ALLOW_MAX  65536	       /* prefixes in an allow-list */

/*
 * --flows-allow: the sources a flow datagram may come from.  Immutable
 * once built; workers read the current one through a pointer that the
 * main lcore replaces on reload (and frees after the workers' next
 * quiescent state).  p is sorted by (family, length, address) and runs
 * says where each (family, length) starts, so a lookup is one binary
 * search per distinct prefix length present.
 */
struct rm_flow_allow {
	uint32_t n, n_runs;
	struct rm_allow_run {
		uint8_t family, len;
		uint32_t from, to; /* [from, to) of p */
	} runs[2 + 33 + 129];
	struct rm_allow_prefix {
		uint8_t a[16]; /* masked to len */
		uint8_t family, len;
	} p[];
};

/*
 * Parse an allow-list: "PREFIX,..." or "@FILE" (one prefix per line;
 * blank lines and '#' comments ignored).  A prefix is an IPv4 or IPv6
 * address with an optional /LEN (a host without one), host bits zero.
 * Returns the list (free() it), or NULL with the reason in err:
 * "FILE:LINE: reason" for a file, "--flows-allow: reason" for a list.
 */
struct rm_flow_allow *rm_flow_allow_parse(const char *spec, char *err, size_t errlen);
/* Whether src (4 or 16 bytes, by family) is inside one of a's prefixes. */
bool rm_flow_allowed(const struct rm_flow_allow *a, const uint8_t *src, int family);

/* A denied source and its datagrams (approximate: space-saving counts). */
struct rm_flow_denied_src {
	uint8_t addr[16];
	uint8_t family;
	uint64_t count;
};

struct rm_flow_state;
/* A consistent copy of a running worker's top denied sources (any lcore);
 * -1 when the worker kept changing them (a flood of denials): try later. */
int rm_flow_denied_read(const struct rm_flow_state *st,
			struct rm_flow_denied_src out[RM_FLOW_DENIED_TOP]);

struct rm_flow_state;
typedef void (*rm_flow_flush_fn)(struct rm_flow_state *st, void *ctx);

/* One worker's flow state: survives snapshot reloads (templates are the
 * exporters', not the snapshot's). */
struct rm_flow_state {
	rm_flow_flush_fn flush;
	void *flush_ctx;
	int want_meta; /* fill the batch's meta (re-export is on) */
	bool inner;    /* --tunnels inner: sFlow headers' innermost addresses (sflow.c) */
	const struct rm_flow_allow *allow; /* --flows-allow, or NULL: every source */
	uint64_t now_ms;		/* arrival time, for records without timestamps (sFlow) */
	uint64_t clock_ms;		/* monotonic ms for ageing (rm_flow_age) */
	uint64_t idle_ms;		/* --flows-idle */
	uint64_t min_age_ms;		/* silence before a newcomer may evict (<= idle) */
	uint64_t bad[RM_FLOWBAD_COUNT]; /* before an exporter is known */
	uint64_t exporters_full;	/* datagrams from exporters beyond the table */
	uint64_t denied;		/* datagrams from sources outside the allow-list */
	uint64_t aged;			/* exporters released after idle_ms of silence */
	uint64_t evicted;		/* probationary exporters pushed out by newcomers */
	uint32_t denied_gen;		/* odd while denied_top changes */
	struct rm_flow_denied_src denied_top[RM_FLOW_DENIED_TOP];
	struct rm_flow_batch batch;
	uint32_t n_exporters, n_pool;		  /* slots ever taken (high-water marks) */
	uint32_t n_free, n_pool_free;		  /* released slots, ready for reuse */
	uint32_t versions;			  /* template definitions so far (never reset) */
	uint16_t lru_head[2], lru_tail[2];	  /* 0 probation, 1 established; head newest */
	uint16_t hash[2 * RM_FLOW_MAX_EXPORTERS]; /* exporter index + 1; 0 empty */
	uint16_t free_slot[RM_FLOW_MAX_EXPORTERS];
	uint16_t pool_free[RM_FLOW_POOL];
	struct rm_flow_exporter exp[RM_FLOW_MAX_EXPORTERS];
	struct rm_flow_template pool[RM_FLOW_POOL];
	uint8_t copy[65536]; /* a datagram gathered from mbuf segments */
};

struct rm_flow_state *rm_flow_state_new(void);
void rm_flow_state_free(struct rm_flow_state *st);
/* Forget every exporter and template (as new, without a new allocation);
 * the options (allow, idle_ms, min_age_ms) stay. */
void rm_flow_state_reset(struct rm_flow_state *st);
/* --flows-idle: release exporters silent for idle_ms; a newcomer may evict
 * a probationary one silent for min(RM_FLOW_MIN_AGE_MS, idle_ms). */
void rm_flow_set_idle(struct rm_flow_state *st, uint64_t idle_ms);
/*
 * The worker's clock moves to now_ms (monotonic, never back): release at
 * most a few exporters silent for idle_ms (bounded work; called once per
 * poll pass, and by tests with an explicit clock).  Must not be called
 * while records wait in the batch with want_meta (they may name the
 * released exporter): workers call it between bursts.
 */
void rm_flow_age(struct rm_flow_state *st, uint64_t now_ms);

/*
 * Decode one flow datagram (the UDP payload, len bytes) that arrived on a
 * port of protocol proto from address src (4 or 16 bytes).  Records go to
 * st->batch; st->flush(st, st->flush_ctx) is called whenever a family's
 * half fills, and the caller flushes what is left after its burst.  With
 * want_meta the batch points into p: the caller flushes before p changes.
 */
void rm_flow_datagram(struct rm_flow_state *st, unsigned proto, const uint8_t *src, int family,
		      const uint8_t *p, uint32_t len);
/* Count a datagram that could not be decoded at all (fragment, UDP). */
void rm_flow_drop(struct rm_flow_state *st, enum rm_flow_bad why);

/* Internal to flow.c and sflow.c: the exporter, created on first sight. */
struct rm_flow_exporter *rm_flow_exporter(struct rm_flow_state *st, unsigned kind,
					  const uint8_t *addr, int family, uint32_t domain);
void rm_flow_sequence(struct rm_flow_exporter *e, uint32_t seq, uint32_t advance);
/* One record into the batch: its AS numbers as the exporter gave them (0:
 * none), meta for a re-export (NULL: none). */
void rm_flow_emit(struct rm_flow_state *st, int family, const uint8_t *src, const uint8_t *dst,
		  uint64_t pkts, uint64_t bytes, uint32_t src_as, uint32_t dst_as,
		  const struct rm_flow_meta *meta);
void rm_sflow_datagram(struct rm_flow_state *st, const uint8_t *p, uint32_t len);

#endif
