/*
 * info.c - rirdb info -d FILE: what a snapshot holds (inputs, dates,
 * sizes) and, per registry, its addresses, /48s and AS numbers; how many
 * of the registries' holders have a name, by where it came from, and how
 * much of the delegated space is named; and per NIR its holders and space.  Text
 * the snapshot carries from its inputs (file names, serials) is printed
 * as display text (output.h), so no control character reaches a terminal.
 */
#include <arpa/inet.h>
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

static const struct rm_ranges32 *ranges32(const struct rm_db *db, enum rm_family f)
{
	return f == RM_V4 ? &db->v4 : &db->asn;
}

static uint32_t range_count(const struct rm_db *db, enum rm_family f)
{
	return f == RM_V6 ? db->v6.n : ranges32(db, f)->n;
}

static uint32_t range_attr(const struct rm_db *db, enum rm_family f, uint32_t i)
{
	return f == RM_V6 ? db->v6.id[i] : ranges32(db, f)->id[i];
}

/* Size of range i: IPv4 addresses, AS numbers, or IPv6 /48s (2^80 of them,
 * exact in a double; a range smaller than a /48 counts as its fraction). */
static double range_size(const struct rm_db *db, enum rm_family f, uint32_t i)
{
	if (f == RM_V6) {
		rm_u128 s = rm_key_get(db->v6.start[i]);
		rm_u128 e = i + 1 < db->v6.n ? rm_key_get(db->v6.start[i + 1]) : 0;
		return (double)(e - s) / 1208925819614629174706176.0; /* 2^128 wraps to 0 */
	}
	const struct rm_ranges32 *r = ranges32(db, f);
	double end = i + 1 < r->n ? r->start[i + 1] : 4294967296.0;
	return end - r->start[i];
}

static void tally_db(const struct rm_db *db, struct tally t[RM_RIR_COUNT])
{
	memset(t, 0, sizeof(*t) * RM_RIR_COUNT);
	for (int f = 0; f < RM_FAMILY_COUNT; f++)
		for (uint32_t i = 0; i < range_count(db, f); i++) {
			struct tally *x = &t[db->attrs[range_attr(db, f, i)].rir];
			double n = range_size(db, f, i);
			*(f == RM_V4 ? &x->v4_addrs : f == RM_V6 ? &x->v6_48s : &x->asns) += n;
			x->ranges[f]++;
		}
}

/*
 * Holder names over delegated space: a registry's record, allocated or
 * assigned.  A holder is a (registry, holder id) pair (holders.c); it is
 * named when any of its attributions carries a name, and its source is
 * the strongest of theirs.  Space is named when its attribution has a
 * name, so the registries that give no holder id (standard statistics
 * files) and operator labels count as not named.
 */
struct per_nir {
	unsigned holders, named;
	double space[RM_FAMILY_COUNT];
};

struct names {
	unsigned holders, named, by_source[RM_NAME_SOURCE_COUNT];
	double space[RM_FAMILY_COUNT], named_space[RM_FAMILY_COUNT];
	struct per_nir nir[RM_NIR_COUNT];
};

static int delegated(const struct rm_attr *a)
{
	return a->rir >= RM_RIR_AFRINIC && a->rir < RM_RIR_COUNT &&
	       (a->status == RM_ST_ALLOCATED || a->status == RM_ST_ASSIGNED);
}

static int attr_cmp(const void *x, const void *y, void *arg)
{
	const struct rm_db *db = arg;
	return rm_holder_cmp(db, &db->attrs[*(const uint32_t *)x],
			     &db->attrs[*(const uint32_t *)y]);
}

/* 0, or -1 when out of memory. */
static int tally_names(const struct rm_db *db, struct names *t)
{
	memset(t, 0, sizeof(*t));
	uint8_t *used = calloc(db->n_attrs ? db->n_attrs : 1, 1);
	uint32_t *ids = malloc(sizeof(*ids) * (db->n_attrs ? db->n_attrs : 1));
	if (!used || !ids) {
		free(used);
		free(ids);
		return -1;
	}
	for (int f = 0; f < RM_FAMILY_COUNT; f++)
		for (uint32_t i = 0; i < range_count(db, f); i++) {
			uint32_t id = range_attr(db, f, i);
			const struct rm_attr *a = &db->attrs[id];
			if (!delegated(a))
				continue;
			double n = range_size(db, f, i);
			t->space[f] += n;
			t->named_space[f] += a->holder_name ? n : 0;
			t->nir[a->nir].space[f] += n;
			used[id] = 1;
		}
	/* The attributions in use, grouped by holder. */
	uint32_t n_ids = 0;
	for (uint32_t id = 0; id < db->n_attrs; id++)
		if (used[id] && rm_attr_is_holder(db, &db->attrs[id]))
			ids[n_ids++] = id;
	qsort_r(ids, n_ids, sizeof(*ids), attr_cmp, (void *)db);
	for (uint32_t i = 0; i < n_ids;) {
		unsigned source = RM_NAME_SOURCE_COUNT, nir = RM_NIR_NONE, named = 0;
		uint32_t j = i;
		for (; j < n_ids && !attr_cmp(&ids[i], &ids[j], (void *)db); j++) {
			const struct rm_attr *a = &db->attrs[ids[j]];
			named |= a->holder_name != 0;
			if (a->name_source != RM_NAME_NONE && a->name_source < source)
				source = a->name_source;
			if (nir == RM_NIR_NONE)
				nir = a->nir;
		}
		t->holders++;
		t->named += named;
		t->by_source[source == RM_NAME_SOURCE_COUNT ? RM_NAME_NONE : source]++;
		t->nir[nir].holders++;
		t->nir[nir].named += named;
		i = j;
	}
	free(used);
	free(ids);
	return 0;
}

static double share(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

static void print_names(const struct names *t)
{
	printf("\nholders    %u among delegated records, %u named (%.1f%%):", t->holders, t->named,
	       share(t->named, t->holders));
	for (unsigned s = 1; s < RM_NAME_SOURCE_COUNT; s++)
		printf(" %s %u%s", rm_name_source_name(s), t->by_source[s],
		       s + 1 < RM_NAME_SOURCE_COUNT ? "," : "\n");
	static const char *const unit[RM_FAMILY_COUNT] = {"IPv4 addresses", "IPv6 /48s",
							  "AS numbers"};
	for (int f = 0; f < RM_FAMILY_COUNT; f++)
		printf("%s %.0f of %.0f delegated %s (%.1f%%)\n", f ? "          " : "named     ",
		       t->named_space[f], t->space[f], unit[f],
		       share(t->named_space[f], t->space[f]));
	printf("\n  %-9s %8s %8s %14s %20s %11s\n", "nir", "holders", "named", "ipv4 addrs",
	       "ipv6 /48s", "asns");
	for (unsigned n = 1; n < RM_NIR_COUNT; n++)
		printf("  %-9s %8u %8u %14.0f %20.0f %11.0f\n", rm_nir_name(n), t->nir[n].holders,
		       t->nir[n].named, t->nir[n].space[RM_V4], t->nir[n].space[RM_V6],
		       t->nir[n].space[RM_ASN]);
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
	if (db->n_geo)
		printf("located    %u (country, origin AS) pairs over %u IPv4 and %u IPv6 ranges "
		       "(the location inputs below)\n",
		       db->n_geo - 1, db->geo_v4.n, db->geo_v6.n);
	for (uint32_t i = 0; i < db->n_nat64; i++) { /* rirdb build --nat64 */
		char text[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, db->nat64[i].prefix, text, sizeof(text));
		printf("%-10s %s/%u\n", i ? "" : "nat64", text, db->nat64[i].len);
	}
	printf("\ninputs\n  %-14s %-9s %-12s %-10s %-10s %8s  %s\n", "kind", "registry", "serial",
	       "start", "end", "records", "file");
	for (uint32_t i = 0; i < db->n_inputs; i++) {
		const struct rm_input *in = &db->inputs[i];
		char serial[64];
		/* The serial is the file's own text: shown escaped (output.h). */
		rm_text_escape(serial, sizeof(serial), rm_str(db, in->serial));
		printf("  %-14s %-9s %-12s ", rm_input_kind_name(in->kind),
		       in->kind == RM_IN_STATS && in->unused != RM_REFUSED_HEADER
			   ? rm_rir_name(in->rir)
			   : "-",
		       *serial ? serial : "-");
		print_date(in->start_date);
		printf(" ");
		print_date(in->end_date);
		printf(" ");
		printf("%8u  ", in->records);
		rm_put_text(stdout, rm_str(db, in->name));
		/* Why a file's records are not used: superseded by a newer
		 * one, set aside for an older complete one, or its header
		 * refused (a lenient build: then no dates are claimed); or
		 * that a file used has records missing, its registry's data
		 * incomplete. */
		if (in->unused)
			printf(" (%s)", rm_input_unused_name(in->unused));
		printf("\n");
	}
	struct tally t[RM_RIR_COUNT];
	tally_db(db, t);
	printf("\n  %-9s %14s %7s %20s %7s %11s %7s\n", "registry", "ipv4 addrs", "ranges",
	       "ipv6 /48s", "ranges", "asns", "ranges");
	for (unsigned r = 0; r < RM_RIR_COUNT; r++)
		printf("  %-9s %14.0f %7u %20.0f %7u %11.0f %7u\n", rm_rir_name(r), t[r].v4_addrs,
		       t[r].ranges[RM_V4], t[r].v6_48s, t[r].ranges[RM_V6], t[r].asns,
		       t[r].ranges[RM_ASN]);
	struct names names;
	if (tally_names(db, &names)) {
		fprintf(stderr, "rirdb info: out of memory\n");
		rm_snapshot_close(s);
		return 1;
	}
	print_names(&names);
	rm_snapshot_close(s);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "rirdb info: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
