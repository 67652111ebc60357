/*
 * rirdb.h - the rirdb command's subcommands, one file each (main.c
 * dispatches on the first argument).  Each takes the arguments after the
 * subcommand's name and returns the exit code: 0, 1 for data errors, 2
 * for usage errors.
 */
#ifndef RIRDB_H
#define RIRDB_H

#include <stdio.h>

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
/* rirdb fetch [--dir DIR] [--base-url URL] [--with FILE]... (fetch.c) */
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

#endif
