/*
 * rirdb.c - the command-line tool: build, lookup and info.
 *
 *   rirdb build -o FILE [--lenient] INPUT...
 *   rirdb lookup -d FILE [--asn] [--format csv|json] [--reference] [ADDR|ASN ...]
 *   rirdb info -d FILE
 *   rirdb diff [--format table|json] [--details] OLD NEW   (diff.c)
 *   rirdb fetch [--dir DIR] [--base-url URL] ...           (fetch.c)
 *   rirdb report -o report.html JSONL...                   (report.c)
 *   rirdb scan -d FILE [--json PATH] [--csv PATH] [PATH...] (scan.c)
 *
 * Exit codes: 0 success; 1 data errors (malformed input lines, bad
 * addresses given to lookup, a refused snapshot); 2 usage errors.
 * lookup never stops at a bad address: it prints an error row for it and
 * goes on, then exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir24.h"
#include "trie6.h"
#include "loaders.h"
#include "rirdb.h"
#include "snapshot.h"
#include "output.h"

static void usage(FILE *o)
{
	fprintf(
	    o,
	    "usage: rirdb build -o FILE [--lenient] INPUT...\n"
	    "       rirdb lookup -d FILE [--asn] [--format csv|json] [--reference] [ADDR|ASN ...]\n"
	    "       rirdb info -d FILE\n"
	    "       rirdb diff [--format table|json] [--details] OLD NEW\n"
	    "       rirdb fetch [--dir DIR] [--base-url URL] [--with FILE]... (--help)\n"
	    "       rirdb report -o report.html JSONL...\n"
	    "       rirdb scan -d FILE [--json PATH] [--csv PATH] [--distinct] [PATH...] (--help)\n"
	    "\n"
	    "INPUT files are recognized by content: RIR statistics files (standard or\n"
	    "extended), IANA CSV registries, holder names (RPSL or registry,holder_id,name)\n"
	    "and operator labels (prefix,label).  lookup reads one address per line from\n"
	    "standard input when none are given; --reference answers from the range\n"
	    "lists (the oracle) instead of the lookup tables.\n");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* build                                                               */

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"lenient", no_argument, NULL, 'l'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out || optind >= argc) {
		fprintf(stderr, "rirdb build: need -o FILE and at least one input\n");
		usage(stderr);
		return 2;
	}
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
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde)
		rm_model_set_build_time(m, strtoull(sde, NULL, 10));
	struct rm_db db;
	rm_model_view(m, &db);
	char err[512];
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

/* ------------------------------------------------------------------ */
/* lookup                                                              */

enum out_format { OUT_CSV, OUT_JSON };

struct answer {
	const char *addr;
	const char *error; /* NULL when answered */
	const char *rir, *status, *holder, *holder_id, *source;
	char cc[3];
	char block[RM_TEXT_MAX], range[RM_TEXT_MAX], date[16];
	unsigned line;
};

static void csv_field(FILE *o, const char *s, int last)
{
	rm_put_csv_field(o, s);
	fputc(last ? '\n' : ',', o);
}

static void json_string(FILE *o, const char *key, const char *s, int first)
{
	fprintf(o, "%s\"%s\":", first ? "{" : ",", key);
	rm_put_json_string(o, s);
}

static const char *const columns[] = {"addr",  "rir",	"cc",	"status", "holder", "holder_id",
				      "block", "range", "date", "source", "error"};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static void print_answer(FILE *o, enum out_format fmt, const struct answer *a)
{
	char src[4096] = "";
	if (a->source)
		snprintf(src, sizeof(src), "%s:%u", a->source, a->line);
	const char *v[N_COLUMNS] = {a->addr,
				    a->error ? "" : a->rir,
				    a->error ? "" : a->cc,
				    a->error ? "" : a->status,
				    a->error ? "" : a->holder,
				    a->error ? "" : a->holder_id,
				    a->block,
				    a->range,
				    a->date,
				    src,
				    a->error ? a->error : ""};
	if (fmt == OUT_CSV) {
		for (size_t i = 0; i < N_COLUMNS; i++)
			csv_field(o, v[i], i + 1 == N_COLUMNS);
		return;
	}
	for (size_t i = 0; i < N_COLUMNS; i++)
		if (i == 0 || (a->error ? i + 1 == N_COLUMNS : i + 1 < N_COLUMNS))
			json_string(o, columns[i], v[i], i == 0);
	fputs("}\n", o);
}

/* --reference: answer from the range lists alone (the oracle), not the tables. */
static int use_reference;

static void fill_answer(const struct rm_db *db, struct answer *a, enum rm_family fam, rm_u128 key,
			uint32_t range)
{
	const struct rm_ranges32 *r32 = fam == RM_V4 ? &db->v4 : &db->asn;
	/* Addresses are answered by the tables the dataplane uses; the range
	 * list (the reference) supplies the provenance block. */
	uint8_t b6[16];
	rm_v6_to_bytes(key, b6);
	uint32_t id = use_reference || fam == RM_ASN
			  ? (fam == RM_V6 ? db->v6.id[range] : r32->id[range])
		      : fam == RM_V4 ? rm_dir24_lookup_one(&db->dir24, (uint32_t)key)
				     : rm_trie6_lookup1(&db->trie6, b6);
	uint32_t blk = fam == RM_V6 ? db->v6.block[range] : r32->block[range];
	const struct rm_attr *at = &db->attrs[id];
	a->rir = rm_rir_name(at->rir);
	a->status = rm_status_name(at->status);
	a->cc[0] = at->cc[0];
	a->cc[1] = at->cc[1];
	a->cc[2] = '\0';
	a->holder_id = rm_str(db, at->holder_id);
	a->holder = at->holder_name ? rm_str(db, at->holder_name) : a->holder_id;
	if (blk != RM_NO_BLOCK) {
		const struct rm_block *b = &db->blocks[blk];
		rm_format_block(b, key, a->block);
		rm_format_range(b, a->range);
		rm_format_date(b->date, a->date);
		a->source = rm_str(db, db->inputs[b->input].name);
		a->line = b->line;
	}
}

/* Answer one query; returns 0, or -1 after printing an error row. */
static int lookup_one(const struct rm_db *db, const char *q, int asn_mode, enum out_format fmt)
{
	struct answer a;
	memset(&a, 0, sizeof(a));
	a.addr = q;
	size_t len = strlen(q);
	uint32_t v4, asn;
	rm_u128 v6;
	int is_as = len >= 2 && (q[0] == 'A' || q[0] == 'a') && (q[1] == 'S' || q[1] == 's');
	if ((is_as || asn_mode) && rl_parse_asn(q, len, &asn) == 0) {
		fill_answer(db, &a, RM_ASN, asn, rm_ref_findasn(db, asn));
	} else if (!is_as && !asn_mode && rl_parse_v4(q, len, &v4) == 0) {
		fill_answer(db, &a, RM_V4, v4, rm_ref_find4(db, v4));
	} else if (!is_as && !asn_mode && rl_parse_v6(q, len, &v6) == 0) {
		fill_answer(db, &a, RM_V6, v6, rm_ref_find6(db, v6));
	} else {
		a.error = is_as || asn_mode ? "not an AS number" : "not an IPv4 or IPv6 address";
	}
	print_answer(stdout, fmt, &a);
	return a.error ? -1 : 0;
}

static struct rm_snapshot *open_db(const char *path)
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

static int cmd_lookup(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},     {"asn", no_argument, NULL, 'a'},
	    {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
	    {"reference", no_argument, NULL, 'r'},    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int asn_mode = 0, c;
	enum out_format fmt = OUT_CSV;
	while ((c = getopt_long(argc, argv, "d:af:hr", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'a':
			asn_mode = 1;
			break;
		case 'r':
			use_reference = 1;
			break;
		case 'f':
			if (strcmp(optarg, "csv") == 0) {
				fmt = OUT_CSV;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = OUT_JSON;
			} else {
				fprintf(stderr, "rirdb lookup: --format is csv or json, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	struct rm_snapshot *s = open_db(path);
	if (!s)
		return path ? 1 : 2;
	const struct rm_db *db = rm_snapshot_db(s);
	if (fmt == OUT_CSV)
		for (size_t i = 0; i < N_COLUMNS; i++)
			csv_field(stdout, columns[i], i + 1 == N_COLUMNS);
	unsigned bad = 0;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			bad += lookup_one(db, argv[i], asn_mode, fmt) != 0;
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t got;
		while ((got = getline(&line, &cap, stdin)) >= 0) {
			char *p = line, *e = line + got;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p &&
			       (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*e = '\0';
			if (*p == '\0' || *p == '#')
				continue;
			bad += lookup_one(db, p, asn_mode, fmt) != 0;
		}
		free(line);
	}
	rm_snapshot_close(s);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "rirdb lookup: write error: %s\n", strerror(errno));
		return 1;
	}
	if (bad)
		fprintf(stderr, "rirdb lookup: %u bad quer%s\n", bad, bad == 1 ? "y" : "ies");
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* info                                                                */

struct tally {
	double v4_addrs, v6_48s, asns;
	uint32_t ranges[RM_FAMILY_COUNT];
};

static void tally_db(const struct rm_db *db, struct tally t[RM_RIR_COUNT])
{
	memset(t, 0, sizeof(*t) * RM_RIR_COUNT);
	for (uint32_t i = 0; i < db->v4.n; i++) {
		double end = i + 1 < db->v4.n ? db->v4.start[i + 1] : 4294967296.0;
		struct tally *x = &t[db->attrs[db->v4.id[i]].rir];
		x->v4_addrs += end - db->v4.start[i];
		x->ranges[RM_V4]++;
	}
	for (uint32_t i = 0; i < db->v6.n; i++) {
		/* Counted in /48s: 2^80 of them, exact in a double down to /48. */
		rm_u128 s = rm_key_get(db->v6.start[i]);
		double a = (double)(s >> 80);
		double e = i + 1 < db->v6.n ? (double)(rm_key_get(db->v6.start[i + 1]) >> 80)
					    : 1208925819614629174706176.0;
		struct tally *x = &t[db->attrs[db->v6.id[i]].rir];
		x->v6_48s += e - a;
		x->ranges[RM_V6]++;
	}
	for (uint32_t i = 0; i < db->asn.n; i++) {
		double end = i + 1 < db->asn.n ? db->asn.start[i + 1] : 4294967296.0;
		struct tally *x = &t[db->attrs[db->asn.id[i]].rir];
		x->asns += end - db->asn.start[i];
		x->ranges[RM_ASN]++;
	}
}

static void print_date(uint32_t d)
{
	char text[16];
	rm_format_date(d, text);
	printf("%-10s", d ? text : "-");
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (c == 'd') {
			path = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	struct rm_snapshot *s = open_db(path);
	if (!s)
		return path ? 1 : 2;
	const struct rm_db *db = rm_snapshot_db(s);
	time_t bt = (time_t)db->build_time;
	char when[64];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&bt));
	printf("snapshot   %s\nformat     version %u, crc32c %08x\nbuilt      %s\n", path,
	       RM_SNAPSHOT_VERSION, rm_snapshot_crc(s), when);
	printf("size       %llu bytes (ranges %u IPv4, %u IPv6, %u ASN; %u attributions; %u "
	       "blocks; %u bytes of strings)\n",
	       (unsigned long long)rm_snapshot_size(s), db->v4.n, db->v6.n, db->asn.n, db->n_attrs,
	       db->n_blocks, db->strings_len);
	printf("tables     IPv4 DIR-24-8 %u-byte entries, %u groups; IPv6 trie %u-byte first "
	       "stride, %u dense groups, %u nodes in %u units, %.2f MiB\n",
	       db->dir24.width, db->dir24.n_groups, db->trie6.width, db->trie6.n_dense,
	       db->trie6.n_nodes, db->trie6.n_units, rm_trie6_bytes(&db->trie6) / 1048576.0);
	printf("\ninputs\n  %-14s %-9s %-12s %-10s %-10s %8s  %s\n", "kind", "registry", "serial",
	       "start", "end", "records", "file");
	for (uint32_t i = 0; i < db->n_inputs; i++) {
		const struct rm_input *in = &db->inputs[i];
		printf("  %-14s %-9s %-12s ", rm_input_kind_name(in->kind),
		       in->kind == RM_IN_STATS ? rm_rir_name(in->rir) : "-",
		       *rm_str(db, in->serial) ? rm_str(db, in->serial) : "-");
		print_date(in->start_date);
		printf(" ");
		print_date(in->end_date);
		printf(" ");
		printf("%8u  %s%s\n", in->records, rm_str(db, in->name),
		       in->superseded ? " (superseded)" : "");
	}
	struct tally t[RM_RIR_COUNT];
	tally_db(db, t);
	printf("\n  %-9s %14s %7s %20s %7s %11s %7s\n", "registry", "ipv4 addrs", "ranges",
	       "ipv6 /48s", "ranges", "asns", "ranges");
	for (unsigned r = 0; r < RM_RIR_COUNT; r++)
		printf("  %-9s %14.0f %7u %20.0f %7u %11.0f %7u\n", rm_rir_name(r), t[r].v4_addrs,
		       t[r].ranges[RM_V4], t[r].v6_48s, t[r].ranges[RM_V6], t[r].asns,
		       t[r].ranges[RM_ASN]);
	rm_snapshot_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(cmd, "lookup") == 0)
		return cmd_lookup(argc - 1, argv + 1);
	if (strcmp(cmd, "info") == 0)
		return cmd_info(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return rirdb_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "fetch") == 0)
		return rirdb_fetch(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return rirdb_report(argc - 1, argv + 1);
	if (strcmp(cmd, "scan") == 0)
		return rirdb_scan(argc - 1, argv + 1);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "rirdb: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
