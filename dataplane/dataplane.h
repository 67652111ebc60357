/*
 * dataplane.h - the interfaces between the dataplane's files.
 *
 *   main.c     EAL, options, ports, lcores, the main loop (export, stop)
 *   parse.c    one frame -> IPv4/IPv6 addresses, non-IP, or malformed
 *   worker.c   the poll loop of one lcore and its counters
 *   report.c   folding per-lcore counters into scopes, and the exporters
 *   pcapfile.c counting the packets of the capture files net_pcap reads
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
};

/*
 * Parse Ethernet, any number of 802.1Q/802.1ad tags (up to 8), an MPLS
 * label stack (up to 16 labels), then IPv4 or IPv6.  avail is the bytes
 * present at p (the headers must lie within them), frame the length of
 * the whole frame (what the IP length fields are checked against).  Every
 * IPv4 fragment counts (the header has both addresses); IPv4 options are
 * skipped by IHL.
 */
void rm_parse_frame(const uint8_t *p, uint32_t avail, uint32_t frame, struct rm_frame *out);

/* ------------------------------------------------------------------ */
/* Counters                                                            */

enum rm_dir { RM_SRC, RM_DST, RM_DIRS };

/* Packets and bytes side by side: one cache line touched per count. */
struct rm_cell {
	uint64_t pkts, bytes;
};

/* One lcore's counters; only that lcore writes them. */
struct rm_counters {
	uint64_t received, rx_bytes, attributed, attributed_bytes, non_ip, non_ip_bytes;
	uint64_t malformed[RM_BAD_COUNT];
	uint64_t malformed_bytes[RM_BAD_COUNT];
	uint64_t pair_pkts[RM_RIR_COUNT][RM_RIR_COUNT];
	uint64_t pair_bytes[RM_RIR_COUNT][RM_RIR_COUNT];
	struct rm_cell *by_id[RM_DIRS]; /* indexed by attribution id */
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

/* Count one parsed frame of len bytes, given the ids of its two addresses. */
static inline void rm_count_ip(struct rm_counters *c, const uint8_t *rir_of, uint32_t src_id,
			       uint32_t dst_id, uint32_t len)
{
	c->attributed++;
	c->attributed_bytes += len;
	c->by_id[RM_SRC][src_id].pkts++;
	c->by_id[RM_SRC][src_id].bytes += len;
	c->by_id[RM_DST][dst_id].pkts++;
	c->by_id[RM_DST][dst_id].bytes += len;
	c->pair_pkts[rir_of[src_id]][rir_of[dst_id]]++;
	c->pair_bytes[rir_of[src_id]][rir_of[dst_id]] += len;
}

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

/* Append the rows of counters c, attributed under r's snapshot `snap`. */
void rm_rows_of(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		struct rm_rows *out);
void rm_rows_append(struct rm_rows *dst, const struct rm_rows *src);
/* Sort and sum rows of equal (snapshot, scope, dir, key). */
void rm_rows_compact(struct rm_rows *rs);
void rm_rows_free(struct rm_rows *rs);

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
