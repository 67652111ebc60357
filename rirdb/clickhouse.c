/*
 * clickhouse.c - rirdb clickhouse-schema: the tables rirmeter's ClickHouse
 * sink (dataplane/chsink.h) inserts into, as SQL that Debian's server
 * (18.16) accepts: no LowCardinality (experimental there), no TTL, no
 * DateTime64.
 *
 *   rirmeter_raw       every row of every batch: ReplacingMergeTree whose
 *                      sorting key ends (appliance, batch), so a batch
 *                      stored twice collapses to one at merges (the sink
 *                      checks before a retry, so this is the second line);
 *   rirmeter_rir_1h    a materialized view: per hour, appliance, direction
 *                      and registry, summed (SummingMergeTree);
 *   with --cluster C:  the same local tables on every node, and
 *                      rirmeter_raw_all / rirmeter_rir_1h_all, Distributed
 *                      over C's shards, to query them all.  An appliance
 *                      inserts into its own shard's rirmeter_raw (the
 *                      check before a retry asks the same table).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "rirdb.h"

/* A database or cluster name: letters, digits, '_' (no quoting needed). */
static int plain_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

int rirdb_clickhouse_schema(int argc, char **argv)
{
	const char *db = "rirmeter", *cluster = NULL;
	static const struct option longopts[] = {{"database", required_argument, NULL, 'D'},
						 {"cluster", required_argument, NULL, 'c'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "D:c:h", longopts, NULL)) != -1) {
		if (c == 'D')
			db = optarg;
		else if (c == 'c')
			cluster = optarg;
		else
			return rirdb_usage_exit(c);
	}
	if (optind < argc) {
		fprintf(stderr, "rirdb clickhouse-schema: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!plain_name(db) || (cluster && !plain_name(cluster))) {
		fprintf(stderr, "rirdb clickhouse-schema: a database or cluster name is letters, "
				"digits and '_'\n");
		return 2;
	}
	if (cluster)
		printf("-- Run on every node of cluster %s.\n", cluster);
	printf("CREATE DATABASE IF NOT EXISTS %s;\n\n", db);
	printf(
	    "-- Every row rirmeter --clickhouse inserts: one batch per interval.\n"
	    "CREATE TABLE IF NOT EXISTS %s.rirmeter_raw\n"
	    "(\n"
	    "    appliance String,           -- rirmeter --name\n"
	    "    batch     String,           -- unique per batch, kept across retries\n"
	    "    snapshot  String,           -- the snapshot that attributed the row\n"
	    "    start     DateTime('UTC'),  -- the interval\n"
	    "    end       DateTime('UTC'),\n"
	    "    scope     String,           -- rir, country, holder, nir, rir_pair, health, ...\n"
	    "    dir       String,           -- src, dst, or '' (rir_pair, health)\n"
	    "    key       String,           -- the stable key (a holder's id, AS3333)\n"
	    "    name      String DEFAULT '', -- holder and asn rows: the name (informational)\n"
	    "    packets   UInt64,\n"
	    "    bytes     UInt64\n"
	    ")\n"
	    "ENGINE = ReplacingMergeTree\n"
	    "PARTITION BY toYYYYMM(start)\n"
	    "ORDER BY (scope, dir, key, appliance, batch, snapshot);\n"
	    "-- A table made before names were stored takes rows without them.  To add\n"
	    "-- the column (once: the server refuses it when it exists), run\n"
	    "--   ALTER TABLE %s.rirmeter_raw ADD COLUMN name String DEFAULT '' AFTER key\n"
	    "-- A table sorted without snapshot (made before it was in the key) merges\n"
	    "-- away the retired snapshot's rows of an interval across a reload: make\n"
	    "-- it anew, the sorting key cannot be altered to take an old column.\n\n",
	    db, db);
	printf("-- Per hour, appliance, direction and registry.\n"
	       "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.rirmeter_rir_1h\n"
	       "ENGINE = SummingMergeTree\n"
	       "PARTITION BY toYYYYMM(hour)\n"
	       "ORDER BY (hour, appliance, dir, rir)\n"
	       "AS SELECT toStartOfHour(start) AS hour, appliance, dir, key AS rir,\n"
	       "          sum(packets) AS packets, sum(bytes) AS bytes\n"
	       "FROM %s.rirmeter_raw\n"
	       "WHERE scope = 'rir'\n"
	       "GROUP BY hour, appliance, dir, rir;\n",
	       db, db);
	if (cluster) {
		printf("\n-- Queries over every shard.\n"
		       "CREATE TABLE IF NOT EXISTS %s.rirmeter_raw_all AS %s.rirmeter_raw\n"
		       "ENGINE = Distributed(%s, %s, rirmeter_raw, rand());\n\n"
		       "CREATE TABLE IF NOT EXISTS %s.rirmeter_rir_1h_all AS %s.rirmeter_rir_1h\n"
		       "ENGINE = Distributed(%s, %s, rirmeter_rir_1h, rand());\n",
		       db, db, cluster, db, db, db, cluster, db);
	}
	/* The schema is usually redirected into a file: a short one must not
	 * pass for the whole (as for every other subcommand's output). */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "rirdb clickhouse-schema: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
