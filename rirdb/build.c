/*
 * build.c - rirdb build -o FILE [--lenient] [--quiet] INPUT...
 *
 * Reads every input (recognized by content, loaders/), resolves them into
 * one model and writes it as a snapshot.  Exit 1 on malformed input
 * (unless --lenient) or when the snapshot cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loaders.h"
#include "options.h"
#include "rirdb.h"
#include "transition.h"
#include "snapshot.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int rirdb_build(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'}, {"lenient", no_argument, NULL, 'l'},
	    {"quiet", no_argument, NULL, 'q'},	      {"help", no_argument, NULL, 'h'},
	    {"nat64", required_argument, NULL, 'N'},  {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	struct rm_transition nat64; /* --nat64: stored in the snapshot */
	char err[512];
	rm_transition_init(&nat64);
	struct rl_options ro = {0};
	int quiet = 0, c;
	while ((c = getopt_long(argc, argv, "o:lqh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'l':
			ro.lenient = true;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'N':
			if (rm_transition_add(&nat64, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirdb build: %s\n", err);
				return 2;
			}
			break;
		default: /* -h, or a bad option */
			return rirdb_usage_exit(c);
		}
	}
	if (!out || optind >= argc) {
		fprintf(stderr, "rirdb build: need -o FILE and at least one input\n");
		rirdb_usage(stderr);
		return 2;
	}
	/* SOURCE_DATE_EPOCH (reproducible builds) sets the build time: a
	 * malformed value is refused, as its specification asks, rather than
	 * read as 0 (1970) without a word; checked before any input is read.
	 * At most 9999-12-31T23:59:59Z, the last time RFC 3339 can write. */
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	uint64_t epoch = 0;
	if (sde && *sde &&
	    rm_opt_u64("rirdb build", "SOURCE_DATE_EPOCH", sde, 0, 253402300799ull, &epoch))
		return 2;
	double t0 = now_ms();
	struct rl_build *b = rl_build_new(&ro);
	/* Progress on a terminal only: bytes and records per second. */
	int progress = !quiet && isatty(STDERR_FILENO);
	uint64_t bytes = 0;
	for (int i = optind; i < argc; i++) {
		struct stat st;
		rl_build_add_file(b, argv[i]);
		bytes += stat(argv[i], &st) == 0 ? (uint64_t)st.st_size : 0;
		if (progress) {
			double s = (now_ms() - t0) / 1e3;
			fprintf(stderr,
				"\r\033[K[%d/%d] %.1f MB, %u records, %.1f MB/s, %.0f k records/s",
				i - optind + 1, argc - optind, bytes / 1e6,
				rl_build_counts(b)->records, s > 0 ? bytes / 1e6 / s : 0.0,
				s > 0 ? rl_build_counts(b)->records / 1e3 / s : 0.0);
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	struct rm_model *m = rl_build_finish(b);
	const struct rl_counts *n = rl_build_counts(b);
	if (!m) {
		fprintf(stderr,
			"rirdb build: %u error%s; nothing written (--lenient skips malformed "
			"lines)\n",
			n->errors, n->errors == 1 ? "" : "s");
		rl_build_free(b);
		return 1;
	}
	if (sde && *sde)
		rm_model_set_build_time(m, epoch);
	struct rm_db db;
	struct rm_nat64_prefix prefixes[RM_NAT64_MAX];
	rm_model_view(m, &db);
	db.nat64 = prefixes;
	db.n_nat64 = rm_transition_to_db(&nat64, prefixes);
	int rc = 0;
	if (rm_snapshot_write(&db, out, err, sizeof(err))) {
		fprintf(stderr, "rirdb build: %s\n", err);
		rc = 1;
	} else if (!quiet) {
		fprintf(stderr,
			"rirdb build: %u records from %d files -> %u IPv4, %u IPv6, %u ASN ranges, "
			"%u attributions; %u skipped, %u conflicts, %u notices; %.1f ms\n",
			n->records, argc - optind, db.v4.n, db.v6.n, db.asn.n, db.n_attrs,
			n->skipped, n->conflicts, n->notices, now_ms() - t0);
	}
	rm_model_free(m);
	rl_build_free(b);
	return rc;
}
