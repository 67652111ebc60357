/*
 * main.c - the rirdb command: dispatch to one subcommand per file, and
 * what they share (the usage text, opening the -d snapshot).
 *
 *   rirdb build ...    build.c      rirdb fetch ...    fetch.c
 *   rirdb lookup ...   lookup.c     rirdb report ...   report.c
 *   rirdb info ...     info.c       rirdb scan ...     scan.c
 *   rirdb diff ...     diff.c
 *
 * holders.c groups a snapshot's attributions by holder for lookup and info.
 *
 * The usage text (rirdb_usage) is README.md's "## rirdb" block, every
 * option of every subcommand; tests/cli.sh compares the two.
 *
 * Exit codes: 0 success; 1 data errors (malformed input lines, bad
 * addresses given to lookup, a refused snapshot); 2 usage errors.
 * lookup never stops at a bad address: it prints an error row for it and
 * goes on, then exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "rirdb.h"
#include "snapshot.h"

void rirdb_usage(FILE *o)
{
	fprintf(
	    o,
	    "usage: rirdb build -o FILE [--lenient] [--quiet] [--nat64 PREFIX,...] INPUT...\n"
	    "       rirdb lookup -d FILE [--asn] [--format csv|json] [--reference] [--nat64 "
	    "PREFIX,...] "
	    "[ADDR|ASN ...]\n"
	    "       rirdb info -d FILE\n"
	    "       rirdb diff [--format table|json] [--details] OLD NEW\n"
	    "       rirdb fetch [--dir DIR] [--output FILE] [--base-url URL] [--url NAME=URL]...\n"
	    "                   [--with FILE]... [--timeout S] [--retries N] [--retry-delay S]\n"
	    "                   [--max-size BYTES] [--max-time S] [--ca-file FILE] [--names]\n"
	    "                   [--lenient] [--quiet]\n"
	    "       rirdb report -o FILE JSONL...\n"
	    "       rirdb scan -d FILE [--json PATH|-] [--csv PATH|-] [--distinct] [--top N]\n"
	    "                  [--threads N] [--quiet] [--nat64 PREFIX,...] [PATH...]\n"
	    "       rirdb scan -d FILE --annotate [--quiet] [--nat64 PREFIX,...] [PATH...]\n"
	    "       rirdb clickhouse-schema [--database DB] [--cluster NAME]\n"
	    "\n"
	    "INPUT files, plain or gzip'd, are recognized by content: RIR statistics files\n"
	    "(standard or extended), IANA CSV registries, RPSL whois dumps, holder names\n"
	    "(registry,holder_id,name), AS names (asn.txt, libloc's location.db), NIC.br's\n"
	    "file, NIR ids (registry,holder_id,nir), MaxMind DB files and operator labels\n"
	    "(prefix,label).\n"
	    "lookup reads one address per line from standard input when none are given;\n"
	    "--reference answers from the range lists (the oracle) instead of the lookup\n"
	    "tables.\n");
}

int rirdb_usage_exit(int c)
{
	rirdb_usage(c == 'h' ? stdout : stderr);
	return c == 'h' ? 0 : 2;
}

struct rm_snapshot *rirdb_open_snapshot(const char *path)
{
	char err[512];
	if (!path) {
		fprintf(stderr, "rirdb: need -d FILE (a snapshot made by 'rirdb build')\n");
		return NULL;
	}
	struct rm_snapshot *s = rm_snapshot_open(path, err, sizeof(err));
	if (!s)
		fprintf(stderr, "rirdb: %s\n", err);
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		rirdb_usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "build") == 0)
		return rirdb_build(argc - 1, argv + 1);
	if (strcmp(cmd, "lookup") == 0)
		return rirdb_lookup(argc - 1, argv + 1);
	if (strcmp(cmd, "info") == 0)
		return rirdb_info(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return rirdb_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "fetch") == 0)
		return rirdb_fetch(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return rirdb_report(argc - 1, argv + 1);
	if (strcmp(cmd, "scan") == 0)
		return rirdb_scan(argc - 1, argv + 1);
	if (strcmp(cmd, "clickhouse-schema") == 0)
		return rirdb_clickhouse_schema(argc - 1, argv + 1);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		rirdb_usage(stdout);
		return 0;
	}
	fprintf(stderr, "rirdb: unknown command '%s'\n", cmd);
	rirdb_usage(stderr);
	return 2;
}
