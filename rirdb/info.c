/*
 * info.c - rirdb info -d FILE: what a snapshot holds (inputs, dates,
 * sizes) and, per registry, its addresses, /48s and AS numbers.  Text
 * the snapshot carries from its inputs (file names, serials) is printed
 * as display text (output.h), so no control character reaches a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir24.h"
#include "output.h"
#include "rirdb.h"
#include "snapshot.h"
#include "trie6.h"

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

int rirdb_info(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (c != 'd')
			return rirdb_usage_exit(c);
		path = optarg;
	}
	struct rm_snapshot *s = rirdb_open_snapshot(path);
	if (!s)
		return path ? 1 : 2;
	const struct rm_db *db = rm_snapshot_db(s);
	const struct rm_dir24 *d24 = rm_snapshot_dir24(s);
	const struct rm_trie6 *t6 = rm_snapshot_trie6(s);
	char when[RM_RFC3339_LEN];
	rm_rfc3339(when, (double)db->build_time, 0);
	printf("snapshot   ");
	rm_put_text(stdout, path);
	printf("\nformat     version %u, crc32c %08x\nbuilt      %s\n", RM_SNAPSHOT_VERSION,
	       rm_snapshot_crc(s), when);
	printf("size       %llu bytes (ranges %u IPv4, %u IPv6, %u ASN; %u attributions; %u "
	       "blocks; %u bytes of strings)\n",
	       (unsigned long long)rm_snapshot_size(s), db->v4.n, db->v6.n, db->asn.n, db->n_attrs,
	       db->n_blocks, db->strings_len);
	printf("tables     IPv4 DIR-24-8 %u-byte entries, %u groups; IPv6 trie %u-byte first "
	       "stride, %u dense groups, %u nodes in %u units, %.2f MiB\n",
	       d24->width, d24->n_groups, t6->width, t6->n_dense, t6->n_nodes, t6->n_units,
	       rm_trie6_bytes(t6) / 1048576.0);
	printf("\ninputs\n  %-14s %-9s %-12s %-10s %-10s %8s  %s\n", "kind", "registry", "serial",
	       "start", "end", "records", "file");
	for (uint32_t i = 0; i < db->n_inputs; i++) {
		const struct rm_input *in = &db->inputs[i];
		char serial[64];
		/* The serial is the file's own text: shown escaped (output.h). */
		rm_text_escape(serial, sizeof(serial), rm_str(db, in->serial));
		printf("  %-14s %-9s %-12s ", rm_input_kind_name(in->kind),
		       in->kind == RM_IN_STATS ? rm_rir_name(in->rir) : "-",
		       *serial ? serial : "-");
		print_date(in->start_date);
		printf(" ");
		print_date(in->end_date);
		printf(" ");
		printf("%8u  ", in->records);
		rm_put_text(stdout, rm_str(db, in->name));
		printf("%s\n", in->superseded ? " (superseded)" : "");
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
