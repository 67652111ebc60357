/*
 * diff.c - `rirdb diff [--format table|json] [--details] OLD NEW`: what
 * changed between two snapshots.
 *
 * Both snapshots cover every key space completely, so one sweep over the
 * union of their range boundaries visits every stretch of addresses (and
 * AS numbers) with one attribution on each side.  A stretch is:
 *
 *   added     not delegated before (unknown, available, reserved, IANA
 *             designation only), allocated or assigned now
 *   removed   the reverse
 *   moved     delegated on both sides by different registries (a transfer)
 *   country   same registry, another country
 *   holder    same registry and country, another holder
 *   other     any other change of attribution (a status or IANA change)
 *
 * Adjacent stretches with the same change and the same attributions on
 * both sides are joined into one block.  The summary counts blocks and
 * their size (IPv4 addresses, IPv6 /48s, AS numbers) per change and
 * registry pair; --details lists every block, each side with its holder
 * (the name where one was loaded, else the id, as before), the holder's
 * key in the other outputs ("afrinic:F364712F", stable across renames)
 * and its name ("" when none).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rirdb.h"
#include "snapshot.h"
#include "output.h"

enum change { CH_ADDED, CH_REMOVED, CH_MOVED, CH_COUNTRY, CH_HOLDER, CH_OTHER, CH_COUNT };
static const char *const change_names[CH_COUNT] = {"added",   "removed", "moved",
						   "country", "holder",	 "other"};
static const char *const family_names[RM_FAMILY_COUNT] = {"ipv4", "ipv6", "asn"};

struct side {
	const struct rm_db *db;
	unsigned family;
};

static uint32_t n_ranges(const struct side *s)
{
	return s->family == RM_V4 ? s->db->v4.n : s->family == RM_V6 ? s->db->v6.n : s->db->asn.n;
}

static rm_u128 range_start(const struct side *s, uint32_t i)
{
	if (s->family == RM_V6)
		return rm_key_get(s->db->v6.start[i]);
	return s->family == RM_V4 ? s->db->v4.start[i] : s->db->asn.start[i];
}

static const struct rm_attr *range_attr(const struct side *s, uint32_t i)
{
	uint32_t id = s->family == RM_V4   ? s->db->v4.id[i]
		      : s->family == RM_V6 ? s->db->v6.id[i]
					   : s->db->asn.id[i];
	return &s->db->attrs[id];
}

static int delegated(const struct rm_attr *a)
{
	return a->status == RM_ST_ALLOCATED || a->status == RM_ST_ASSIGNED;
}

static const char *holder(const struct rm_db *db, const struct rm_attr *a)
{
	return rm_str(db, a->holder_name ? a->holder_name : a->holder_id);
}

/* How the attribution of a stretch changed, or -1 when it did not. */
static int classify(const struct side *o, const struct rm_attr *a, const struct side *n,
		    const struct rm_attr *b)
{
	int same_holder = strcmp(holder(o->db, a), holder(n->db, b)) == 0;
	int same_cc = a->cc[0] == b->cc[0] && a->cc[1] == b->cc[1];
	if (a->rir == b->rir && a->status == b->status && same_cc && same_holder)
		return -1;
	if (!delegated(a) && delegated(b))
		return CH_ADDED;
	if (delegated(a) && !delegated(b))
		return CH_REMOVED;
	if (delegated(a) && a->rir != b->rir)
		return CH_MOVED;
	if (delegated(a) && !same_cc)
		return CH_COUNTRY;
	if (delegated(a) && !same_holder)
		return CH_HOLDER;
	return CH_OTHER;
}

struct tally {
	uint64_t blocks;
	double size;
};

struct differ {
	struct tally t[RM_FAMILY_COUNT][CH_COUNT][RM_RIR_COUNT][RM_RIR_COUNT];
	FILE *details; /* JSON Lines of every block, or NULL */
};

/* Size of [first, last] in the family's unit: addresses, /48s, AS numbers. */
static double block_size(unsigned family, rm_u128 first, rm_u128 last)
{
	if (family == RM_V6)
		return ldexp((double)(last - first) + 1.0, -80);
	return (double)(last - first) + 1.0;
}

static void side_json(FILE *o, const char *name, const struct side *s, const struct rm_attr *a)
{
	fprintf(o, ",\"%s\":{\"rir\":\"%s\",\"cc\":\"%.2s\",\"status\":\"%s\",\"holder\":", name,
		rm_rir_name(a->rir), a->cc, rm_status_name(a->status));
	rm_put_json_string(o, holder(s->db, a));
	char key[RM_KEY_MAX];
	rm_key_holder(s->db, a, key, sizeof(key));
	fputs(",\"holder_key\":", o);
	rm_put_json_string(o, key);
	fputs(",\"name\":", o);
	rm_put_json_string(o, rm_holder_key_name(s->db, a));
	fputc('}', o);
}

static void emit(struct differ *d, const struct side *o, const struct side *n, int ch,
		 const struct rm_attr *a, const struct rm_attr *b, rm_u128 first, rm_u128 last)
{
	unsigned f = o->family;
	struct tally *t = &d->t[f][ch][a->rir][b->rir];
	t->blocks++;
	t->size += block_size(f, first, last);
	if (!d->details)
		return;
	char x[RM_KEY_TEXT], y[RM_KEY_TEXT];
	rm_format_key(f, first, x);
	rm_format_key(f, last, y);
	fprintf(d->details, "{\"family\":\"%s\",\"change\":\"%s\",\"first\":\"%s\",\"last\":\"%s\"",
		family_names[f], change_names[ch], x, y);
	side_json(d->details, "old", o, a);
	side_json(d->details, "new", n, b);
	fputs("}\n", d->details);
}

static rm_u128 family_max(unsigned f)
{
	return f == RM_V6 ? ~(rm_u128)0 : 0xffffffffu;
}

/* One family: sweep both range lists, join equal neighbours, emit blocks. */
static void diff_family(struct differ *d, const struct side *o, const struct side *n)
{
	uint32_t i = 0, j = 0, no = n_ranges(o), nn = n_ranges(n);
	int open = 0, open_ch = 0;
	const struct rm_attr *oa = NULL, *ob = NULL;
	rm_u128 open_first = 0, pos = 0;
	for (;;) {
		/* The stretch [pos, end] lies in range i of OLD and range j of NEW. */
		rm_u128 end = family_max(o->family);
		if (i + 1 < no && range_start(o, i + 1) - 1 < end)
			end = range_start(o, i + 1) - 1;
		if (j + 1 < nn && range_start(n, j + 1) - 1 < end)
			end = range_start(n, j + 1) - 1;
		const struct rm_attr *a = range_attr(o, i), *b = range_attr(n, j);
		int ch = classify(o, a, n, b);
		if (open && (ch != open_ch || a != oa || b != ob)) {
			emit(d, o, n, open_ch, oa, ob, open_first, pos - 1);
			open = 0;
		}
		if (ch >= 0 && !open) {
			open = 1;
			open_ch = ch;
			oa = a;
			ob = b;
			open_first = pos;
		}
		if (end == family_max(o->family))
			break;
		pos = end + 1;
		if (i + 1 < no && range_start(o, i + 1) == pos)
			i++;
		if (j + 1 < nn && range_start(n, j + 1) == pos)
			j++;
	}
	if (open)
		emit(d, o, n, open_ch, oa, ob, open_first, family_max(o->family));
}

static void print_summary(const struct differ *d, FILE *out, int json)
{
	static const char *const unit[RM_FAMILY_COUNT] = {"addresses", "/48s", "asns"};
	if (!json)
		fprintf(out, "%-5s %-8s %-9s %-9s %8s %22s\n", "type", "change", "from", "to",
			"blocks", "size");
	for (unsigned f = 0; f < RM_FAMILY_COUNT; f++)
		for (unsigned c = 0; c < CH_COUNT; c++)
			for (unsigned a = 0; a < RM_RIR_COUNT; a++)
				for (unsigned b = 0; b < RM_RIR_COUNT; b++) {
					const struct tally *t = &d->t[f][c][a][b];
					if (!t->blocks)
						continue;
					if (json)
						fprintf(out,
							"{\"family\":\"%s\",\"change\":\"%s\","
							"\"from\":\"%s\",\"to\":\"%s\",\"blocks\":"
							"%" PRIu64
							",\"size\":%.0f,\"unit\":\"%s\"}\n",
							family_names[f], change_names[c],
							rm_rir_name(a), rm_rir_name(b), t->blocks,
							t->size, unit[f]);
					else
						fprintf(out,
							"%-5s %-8s %-9s %-9s %8" PRIu64
							" %12.0f %-9s\n",
							family_names[f], change_names[c],
							rm_rir_name(a), rm_rir_name(b), t->blocks,
							t->size, unit[f]);
				}
}

int rirdb_diff(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"details", no_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int json = 0, details = 0, c;
	while ((c = getopt_long(argc, argv, "f:Dh", opts, NULL)) != -1) {
		if (c == 'f' && strcmp(optarg, "json") == 0) {
			json = 1;
		} else if (c == 'f' && strcmp(optarg, "table") == 0) {
			json = 0;
		} else if (c == 'D') {
			details = 1;
		} else if (c == 'h') {
			printf("usage: rirdb diff [--format table|json] [--details] OLD NEW\n");
			return 0;
		} else {
			fprintf(stderr,
				"usage: rirdb diff [--format table|json] [--details] OLD NEW\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "rirdb diff: needs two snapshots, OLD and NEW\n");
		return 2;
	}
	char err[512];
	struct rm_snapshot *so = rm_snapshot_open(argv[optind], err, sizeof(err)), *sn = NULL;
	if (so)
		sn = rm_snapshot_open(argv[optind + 1], err, sizeof(err));
	if (!so || !sn) {
		fprintf(stderr, "rirdb diff: %s\n", err);
		rm_snapshot_close(so);
		return 1;
	}
	struct differ *d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->details = details ? stdout : NULL;
	for (unsigned f = 0; f < RM_FAMILY_COUNT; f++) {
		struct side o = {rm_snapshot_db(so), f}, n = {rm_snapshot_db(sn), f};
		diff_family(d, &o, &n);
	}
	if (!details)
		print_summary(d, stdout, json);
	free(d);
	rm_snapshot_close(so);
	rm_snapshot_close(sn);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "rirdb diff: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
