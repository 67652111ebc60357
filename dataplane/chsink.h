/*
 * chsink.h - the ClickHouse sink: each interval's rows inserted in one
 * batch over ClickHouse's HTTP interface, losing nothing (chsink.c).
 *
 *   main lcore                      sender thread
 *   ----------                      -------------
 *   rm_chsink_batch(rows) --queue-->  write to the spool (--spool DIR)
 *     (serializes, never waits          |
 *      on the network)                  v
 *                                   oldest pending batch
 *                                     |  sent before? SELECT count() ... WHERE batch = id
 *                                     |  (0: not stored yet)
 *                                     |  first, or after a failure: the table's columns
 *                                     v  (system.columns; without `name`, rows go without it)
 *                                   INSERT ... FORMAT JSONEachRow
 *                                     |  acknowledged: spool file removed, counted
 *                                     '- not (down, timeout, HTTP error): kept, retried
 *                                        in order after a back-off of 1 s doubling to 60 s
 *
 * Batch ids: "<appliance>-<start of run, Unix ns>-<sequence>", unique per
 * batch and stable across retries and restarts (the id is in the spool
 * file's name).  A batch that ClickHouse stored but whose acknowledgement
 * was lost is found by the check before its next attempt and not sent
 * again; the raw table is also a ReplacingMergeTree whose sorting key
 * is a row's identity (scope, dir, key, appliance, batch, snapshot: an
 * interval across a reload has two snapshots' rows of one key in its
 * batch), so a duplicate that slipped past the check would be merged away
 * (queries that must be exact before merges use FINAL).  A batch is
 * inserted in one request, which ClickHouse applies atomically below
 * max_insert_block_size rows (1,048,576; an interval has thousands).
 *
 * Bounded: pending batches (in the spool directory, or in memory without
 * one) take at most spool_max bytes; a batch that does not fit is dropped
 * and counted (dropped_batches, dropped_rows), never silently.  Spooled
 * batches survive a restart and are sent first, in order.
 */
#ifndef RM_CHSINK_H
#define RM_CHSINK_H

#include <stdint.h>

#include "rows.h"

struct rm_chsink_options {
	const char *url;       /* http://[user:pass@]host:port/?database=DB */
	const char *auth_file; /* "user:password" on one line, or NULL */
	const char *name;      /* the appliance's name */
	const char *spool;     /* directory, or NULL: pending batches in memory */
	uint64_t spool_max;    /* bytes of pending batches */
	double timeout;	       /* seconds per HTTP request */
};

/* Counters, cumulative since open (pending_bytes: now). */
enum rm_chsink_failure {
	RM_CH_FAIL_CONNECT, /* refused, unreachable, DNS */
	RM_CH_FAIL_TIMEOUT,
	RM_CH_FAIL_AUTH,  /* HTTP 401/403, or ClickHouse's authentication codes */
	RM_CH_FAIL_HTTP,  /* any other HTTP error status */
	RM_CH_FAIL_SPOOL, /* a spool file could not be written or read */
	RM_CH_FAIL_COUNT
};

struct rm_chsink_stats {
	uint64_t batches_sent, rows_sent, batches_spooled, batches_replayed, already_stored;
	uint64_t dropped_batches, dropped_rows, pending_batches, pending_bytes;
	uint64_t failures[RM_CH_FAIL_COUNT];
};

struct rm_chsink;

/*
 * Check the options (URL scheme and host, auth file readable, spool
 * directory writable), load any batches a previous run left in the spool,
 * and start the sender thread.  NULL with a reason in err (the caller
 * exits 2): never because the server is down, which is only counted.
 */
struct rm_chsink *rm_chsink_open(const struct rm_chsink_options *o, char *err, size_t errlen);

/*
 * Queue the rows of the interval [start, end] (Unix seconds) as one batch.
 * Called by the main lcore: serializes the rows and hands them to the
 * sender thread under a lock it only holds to append; no I/O.
 */
void rm_chsink_batch(struct rm_chsink *s, const struct rm_rows *rows, double start, double end);

/* A reading of the counters. */
void rm_chsink_stats(struct rm_chsink *s, struct rm_chsink_stats *out);

/* Health rows of a reading under snapshot snap: "clickhouse.batches_sent",
 * "clickhouse.rows_sent", "clickhouse.spooled", "clickhouse.replayed",
 * "clickhouse.already_stored", "clickhouse.dropped_batches",
 * "clickhouse.dropped_rows", "clickhouse.pending_batches",
 * "clickhouse.pending_bytes", "clickhouse.failed.REASON". */
void rm_chsink_rows(const struct rm_chsink_stats *st, const char *snap, struct rm_rows *out);
const char *rm_chsink_failure_name(unsigned f);

/*
 * Stop: the sender keeps trying the pending batches until `linger`
 * seconds have passed; then what is still pending stays in the spool for
 * the next run (or, without a spool, is counted dropped and reported on
 * stderr).  The last reading of the counters into final when not NULL.
 * Frees s.
 */
void rm_chsink_close(struct rm_chsink *s, double linger, struct rm_chsink_stats *final);

#endif
