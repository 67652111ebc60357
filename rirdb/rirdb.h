/*
 * rirdb.h - the rirdb command's subcommands, one file each (main.c
 * dispatches on the first argument).  Each takes the arguments after the
 * subcommand's name and returns the exit code: 0, 1 for data errors, 2
 * for usage errors.
 */
#ifndef RIRDB_H
#define RIRDB_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"

struct rm_snapshot;

/* rirdb build -o FILE [--lenient] INPUT... (build.c) */
int rirdb_build(int argc, char **argv);
/* rirdb lookup -d FILE [--asn] [--format csv|json] [--reference]
 * [ADDR|ASN ...] (lookup.c) */
int rirdb_lookup(int argc, char **argv);
/* rirdb info -d FILE (info.c) */
int rirdb_info(int argc, char **argv);
/* rirdb diff [--format table|json] [--details] OLD NEW (diff.c) */
int rirdb_diff(int argc, char **argv);
/* rirdb fetch [--dir DIR] [--base-url URL] [--with FILE]... [--names] (fetch.c) */
int rirdb_fetch(int argc, char **argv);
/* rirdb report -o report.html JSONL... (report.c) */
int rirdb_report(int argc, char **argv);
/* rirdb scan -d FILE [--json PATH] [--csv PATH] [--distinct] [PATH...]
 * (scan.c) */
int rirdb_scan(int argc, char **argv);

/* rirdb clickhouse-schema [--database DB] [--cluster NAME]: the tables
 * of rirmeter's ClickHouse sink (clickhouse.c) */
int rirdb_clickhouse_schema(int argc, char **argv);

/* The usage lines of every subcommand (main.c). */
void rirdb_usage(FILE *o);
/* The end of a subcommand's option loop: for getopt's 'h' the usage on
 * stdout and exit code 0, for anything else (a bad option) the usage on
 * stderr and 2. */
int rirdb_usage_exit(int c);
/* The snapshot at path (-d), or NULL after saying why on stderr. */
struct rm_snapshot *rirdb_open_snapshot(const char *path);

/* Holders (holders.c): a registry's (registry, holder id) pairs, as
 * model.h's rm_attr_is_holder and rm_holder_cmp tell them. */

/* Every holder's AS number ranges, sorted by holder then number: built
 * once per run, so that each lookup is a binary search and at most
 * RIRDB_HOLDER_ASNS_SHOWN numbers, however many the holder has. */
struct rirdb_asn_run {
	uint32_t attr, first, last;
	uint64_t total; /* in a holder's first run: its AS numbers in all */
};
struct rirdb_asn_index {
	struct rirdb_asn_run *runs;
	size_t n;
};
int rirdb_asn_index_build(const struct rm_db *db, struct rirdb_asn_index *x); /* -1: no memory */
void rirdb_asn_index_free(struct rirdb_asn_index *x);
/*
 * The AS numbers of a's holder, ascending, as "AS1228 AS1229": the first
 * RIRDB_HOLDER_ASNS_SHOWN, then " +N more" for the rest (a holder may have
 * thousands, and a cell should stay readable).  "" when a is not a
 * holder's or the holder has none.  RIRDB_HOLDER_ASNS_MAX bytes hold it.
 */
#define RIRDB_HOLDER_ASNS_SHOWN 32
#define RIRDB_HOLDER_ASNS_MAX	512
void rirdb_holder_asns(const struct rirdb_asn_index *x, const struct rm_db *db,
		       const struct rm_attr *a, char *out, size_t len);

#endif
