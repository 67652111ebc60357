/*
 * report.c - counters, and what is made of them: JSON Lines, CSV, the
 * Prometheus textfile, and the table at exit.
 *
 * Workers count by attribution id only (one add per direction per packet);
 * everything else is derived here, on the main lcore, from the snapshot's
 * attribution table: the registry, the "registry:country" key and the
 * holder key of each id are computed once at start.  Scopes:
 *
 *   rir       per direction, every registry (a fixed set of 7 keys)
 *   country   per direction, "registry:CC" ("registry:ZZ" when none)
 *   holder    per direction, the top N holders by bytes, the rest "other"
 *   rir_pair  "src>dst" registry pairs, no direction
 *   health    received, attributed, non_ip, malformed[.REASON], port.N.*
 *
 * Every JSON line has ts, interval, scope, dir (not for rir_pair and
 * health), key, packets and bytes (not for the port counters).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane.h"

/* ------------------------------------------------------------------ */
/* Counters                                                            */

int rm_counters_init(struct rm_counters *c, uint32_t n_ids)
{
	memset(c, 0, sizeof(*c));
	c->n_ids = n_ids;
	for (int d = 0; d < RM_DIRS; d++) {
		c->by_id[d] = calloc(n_ids, sizeof(struct rm_cell));
		if (!c->by_id[d]) {
			rm_counters_free(c);
			return -1;
		}
	}
	return 0;
}

void rm_counters_free(struct rm_counters *c)
{
	for (int d = 0; d < RM_DIRS; d++) {
		free(c->by_id[d]);
		c->by_id[d] = NULL;
	}
}

void rm_counters_zero(struct rm_counters *c)
{
	memset(&c->received, 0, offsetof(struct rm_counters, by_id));
	for (int d = 0; d < RM_DIRS; d++)
		memset(c->by_id[d], 0, c->n_ids * sizeof(struct rm_cell));
}

void rm_counters_copy(struct rm_counters *dst, const struct rm_counters *src)
{
	rm_counters_zero(dst);
	rm_counters_add(dst, src);
}

/* The scalar fields, in order, so that add and sub need no field list. */
#define SCALARS(c) (&(c)->received)
#define N_SCALARS                                                                                  \
	((offsetof(struct rm_counters, by_id) - offsetof(struct rm_counters, received)) /          \
	 sizeof(uint64_t))

void rm_counters_add(struct rm_counters *dst, const struct rm_counters *src)
{
	uint64_t *d = SCALARS(dst);
	const volatile uint64_t *s = SCALARS(src);
	for (size_t i = 0; i < N_SCALARS; i++)
		d[i] += s[i];
	for (int k = 0; k < RM_DIRS; k++) {
		const volatile struct rm_cell *sc = src->by_id[k];
		for (uint32_t i = 0; i < dst->n_ids; i++) {
			dst->by_id[k][i].pkts += sc[i].pkts;
			dst->by_id[k][i].bytes += sc[i].bytes;
		}
	}
}

void rm_counters_sub(struct rm_counters *d, const struct rm_counters *a,
		     const struct rm_counters *b)
{
	uint64_t *o = SCALARS(d);
	const uint64_t *x = SCALARS(a), *y = SCALARS(b);
	for (size_t i = 0; i < N_SCALARS; i++)
		o[i] = x[i] - y[i];
	for (int k = 0; k < RM_DIRS; k++)
		for (uint32_t i = 0; i < d->n_ids; i++) {
			d->by_id[k][i].pkts = a->by_id[k][i].pkts - b->by_id[k][i].pkts;
			d->by_id[k][i].bytes = a->by_id[k][i].bytes - b->by_id[k][i].bytes;
		}
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

struct keyed {
	char *key;
	uint32_t id;
};

static int keyed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* Group ids by key: of[id] = index into *keys (distinct, sorted). */
static int group(struct keyed *k, uint32_t n, uint32_t *of, char ***keys, uint32_t *n_keys)
{
	qsort(k, n, sizeof(*k), keyed_cmp);
	*keys = calloc(n + 1, sizeof(char *));
	if (!*keys)
		return -1;
	uint32_t g = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (g == 0 || strcmp(k[i].key, (*keys)[g - 1]) != 0)
			(*keys)[g++] = k[i].key;
		else
			free(k[i].key); /* a repeat of the key just kept */
		of[k[i].id] = g - 1;
	}
	*n_keys = g;
	return 0;
}

static char *key_country(const struct rm_db *db, const struct rm_attr *a)
{
	char *s;
	if (asprintf(&s, "%s:%c%c", rm_rir_name(a->rir), a->cc[0] ? a->cc[0] : 'Z',
		     a->cc[0] ? a->cc[1] : 'Z') < 0)
		return NULL;
	(void)db;
	return s;
}

/* The registry's holder id; else a name IANA gives (a special-purpose
 * block, a legacy organisation); else "none". */
static char *key_holder(const struct rm_db *db, const struct rm_attr *a)
{
	const char *h = rm_str(db, *rm_str(db, a->holder_id) ? a->holder_id : a->holder_name);
	char *s;
	int n;
	if (!*h)
		n = asprintf(&s, "none");
	else if (strncmp(h, "local:", 6) == 0)
		n = asprintf(&s, "%s", h);
	else
		n = asprintf(&s, "%s:%s", rm_rir_name(a->rir), h);
	return n < 0 ? NULL : s;
}

int rm_reporter_init(struct rm_reporter *r, const struct rm_db *db)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->n_ids = db->n_attrs;
	r->top = 20;
	r->rir_of = malloc(r->n_ids);
	r->country_of = malloc(r->n_ids * sizeof(uint32_t));
	r->holder_of = malloc(r->n_ids * sizeof(uint32_t));
	struct keyed *kc = malloc(r->n_ids * sizeof(*kc)), *kh = malloc(r->n_ids * sizeof(*kh));
	if (!r->rir_of || !r->country_of || !r->holder_of || !kc || !kh)
		goto fail;
	for (uint32_t i = 0; i < r->n_ids; i++) {
		const struct rm_attr *a = &db->attrs[i];
		r->rir_of[i] = a->rir;
		kc[i] = (struct keyed){key_country(db, a), i};
		kh[i] = (struct keyed){key_holder(db, a), i};
		if (!kc[i].key || !kh[i].key)
			goto fail;
	}
	if (group(kc, r->n_ids, r->country_of, &r->country_keys, &r->n_country) ||
	    group(kh, r->n_ids, r->holder_of, &r->holder_keys, &r->n_holder))
		goto fail;
	free(kc);
	free(kh);
	return 0;
fail:
	free(kc);
	free(kh);
	rm_reporter_free(r);
	return -1;
}

void rm_reporter_free(struct rm_reporter *r)
{
	for (uint32_t i = 0; r->country_keys && i < r->n_country; i++)
		free(r->country_keys[i]);
	for (uint32_t i = 0; r->holder_keys && i < r->n_holder; i++)
		free(r->holder_keys[i]);
	free(r->country_keys);
	free(r->holder_keys);
	free(r->rir_of);
	free(r->country_of);
	free(r->holder_of);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */

struct row {
	const char *scope, *dir;
	char key[160];
	uint64_t packets, bytes;
	int has_bytes;
};

struct rows {
	struct row *v;
	uint32_t n, cap;
};

static void push(struct rows *rs, const char *scope, const char *dir, const char *key,
		 uint64_t packets, uint64_t bytes, int has_bytes)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		if (!rs->v)
			abort();
	}
	struct row *r = &rs->v[rs->n++];
	r->scope = scope;
	r->dir = dir;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->packets = packets;
	r->bytes = bytes;
	r->has_bytes = has_bytes;
}

static const char *const dirs[RM_DIRS] = {"src", "dst"};

struct sum {
	uint64_t pkts, bytes;
	uint32_t group;
};

static int sum_by_bytes(const void *a, const void *b)
{
	const struct sum *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

/* Sum counters by group (of[id]) for one direction; the caller frees. */
static struct sum *sum_groups(const struct rm_counters *c, int d, const uint32_t *of,
			      uint32_t n_groups)
{
	struct sum *s = calloc(n_groups + 1, sizeof(*s));
	if (!s)
		abort();
	for (uint32_t g = 0; g < n_groups; g++)
		s[g].group = g;
	for (uint32_t i = 0; i < c->n_ids; i++) {
		s[of[i]].pkts += c->by_id[d][i].pkts;
		s[of[i]].bytes += c->by_id[d][i].bytes;
	}
	return s;
}

static void rows_rir(struct rm_reporter *r, const struct rm_counters *c, struct rows *rs)
{
	for (int d = 0; d < RM_DIRS; d++) {
		uint64_t p[RM_RIR_COUNT] = {0}, b[RM_RIR_COUNT] = {0};
		for (uint32_t i = 0; i < c->n_ids; i++) {
			p[r->rir_of[i]] += c->by_id[d][i].pkts;
			b[r->rir_of[i]] += c->by_id[d][i].bytes;
		}
		for (unsigned k = 0; k < RM_RIR_COUNT; k++)
			push(rs, "rir", dirs[d], rm_rir_name(k), p[k], b[k], 1);
	}
}

static void rows_country(struct rm_reporter *r, const struct rm_counters *c, struct rows *rs)
{
	for (int d = 0; d < RM_DIRS; d++) {
		struct sum *s = sum_groups(c, d, r->country_of, r->n_country);
		for (uint32_t g = 0; g < r->n_country; g++)
			if (s[g].pkts)
				push(rs, "country", dirs[d], r->country_keys[g], s[g].pkts,
				     s[g].bytes, 1);
		free(s);
	}
}

/* The top holders by bytes keep their names; the rest are "other". */
static void rows_holder(struct rm_reporter *r, const struct rm_counters *c, struct rows *rs)
{
	for (int d = 0; d < RM_DIRS; d++) {
		struct sum *s = sum_groups(c, d, r->holder_of, r->n_holder);
		qsort(s, r->n_holder, sizeof(*s), sum_by_bytes);
		uint64_t op = 0, ob = 0;
		for (uint32_t k = 0; k < r->n_holder; k++) {
			if (!s[k].pkts)
				break;
			if (k < r->top) {
				push(rs, "holder", dirs[d], r->holder_keys[s[k].group], s[k].pkts,
				     s[k].bytes, 1);
			} else {
				op += s[k].pkts;
				ob += s[k].bytes;
			}
		}
		if (op)
			push(rs, "holder", dirs[d], "other", op, ob, 1);
		free(s);
	}
}

static void rows_pairs(const struct rm_counters *c, struct rows *rs)
{
	char key[64];
	for (unsigned a = 0; a < RM_RIR_COUNT; a++)
		for (unsigned b = 0; b < RM_RIR_COUNT; b++)
			if (c->pair_pkts[a][b]) {
				snprintf(key, sizeof(key), "%s>%s", rm_rir_name(a), rm_rir_name(b));
				push(rs, "rir_pair", NULL, key, c->pair_pkts[a][b],
				     c->pair_bytes[a][b], 1);
			}
}

static void rows_health(const struct rm_counters *c, const struct rm_port_stats *ports,
			unsigned n_ports, struct rows *rs)
{
	uint64_t mp = 0, mb = 0;
	char key[64];
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		mp += c->malformed[k];
		mb += c->malformed_bytes[k];
	}
	push(rs, "health", NULL, "received", c->received, c->rx_bytes, 1);
	push(rs, "health", NULL, "attributed", c->attributed, c->attributed_bytes, 1);
	push(rs, "health", NULL, "non_ip", c->non_ip, c->non_ip_bytes, 1);
	push(rs, "health", NULL, "malformed", mp, mb, 1);
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		snprintf(key, sizeof(key), "malformed.%s", rm_malformed_name(k));
		push(rs, "health", NULL, key, c->malformed[k], c->malformed_bytes[k], 1);
	}
	for (unsigned i = 0; i < n_ports; i++) {
		snprintf(key, sizeof(key), "port.%u.rx", ports[i].port);
		push(rs, "health", NULL, key, ports[i].rx, 0, 0);
		snprintf(key, sizeof(key), "port.%u.missed", ports[i].port);
		push(rs, "health", NULL, key, ports[i].missed, 0, 0);
		snprintf(key, sizeof(key), "port.%u.errors", ports[i].port);
		push(rs, "health", NULL, key, ports[i].errors, 0, 0);
	}
}

static void all_rows(struct rm_reporter *r, const struct rm_counters *c,
		     const struct rm_port_stats *ports, unsigned n_ports, struct rows *rs)
{
	rows_rir(r, c, rs);
	rows_country(r, c, rs);
	rows_holder(r, c, rs);
	rows_pairs(c, rs);
	rows_health(c, ports, n_ports, rs);
}

/* ------------------------------------------------------------------ */
/* Formats                                                             */

static void rfc3339(double ts, char out[40])
{
	time_t sec = (time_t)ts;
	struct tm tm;
	gmtime_r(&sec, &tm);
	int ms = (int)((ts - (double)sec) * 1000);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%03dZ", ms);
}

static void write_json(FILE *o, const struct rows *rs, const char *ts, const char *interval)
{
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct row *w = &rs->v[i];
		fprintf(o, "{\"ts\":\"%s\",\"interval\":%s,\"scope\":\"%s\",", ts, interval,
			w->scope);
		if (w->dir)
			fprintf(o, "\"dir\":\"%s\",", w->dir);
		fputs("\"key\":", o);
		rm_put_json_string(o, w->key);
		fprintf(o, ",\"packets\":%" PRIu64, w->packets);
		if (w->has_bytes)
			fprintf(o, ",\"bytes\":%" PRIu64, w->bytes);
		fputs("}\n", o);
	}
}

static void write_csv(FILE *o, const struct rows *rs, const char *ts, const char *interval)
{
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct row *w = &rs->v[i];
		fprintf(o, "%s,%s,%s,%s,", ts, interval, w->scope, w->dir ? w->dir : "");
		rm_put_csv_field(o, w->key);
		fprintf(o, ",%" PRIu64 ",", w->packets);
		if (w->has_bytes)
			fprintf(o, "%" PRIu64, w->bytes);
		fputc('\n', o);
	}
}

/* Prometheus label values: backslash, quote and newline escaped. */
static void prom_label(FILE *o, const char *name, const char *v)
{
	fprintf(o, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', o);
		if (*v == '\n') {
			fputs("\\n", o);
			continue;
		}
		fputc(*v, o);
	}
	fputc('"', o);
}

static void prom_help(FILE *o, const char *metric, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s counter\n", metric, help, metric);
}

/* One metric family from the rows of a scope. */
static void prom_scope(FILE *o, const struct rows *rs, const char *scope, const char *metric,
		       const char *what, int bytes)
{
	char name[96], help[160];
	snprintf(name, sizeof(name), "rirmeter_%s_%s_total", metric, bytes ? "bytes" : "packets");
	snprintf(help, sizeof(help), "%s by %s.", bytes ? "Bytes" : "Packets", what);
	prom_help(o, name, help);
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct row *w = &rs->v[i];
		if (strcmp(w->scope, scope) != 0)
			continue;
		fprintf(o, "%s{", name);
		if (strcmp(scope, "rir_pair") == 0) {
			char src[sizeof(w->key)], *gt;
			memcpy(src, w->key, sizeof(src));
			gt = strchr(src, '>');
			*gt = '\0';
			prom_label(o, "src_rir", src);
			fputc(',', o);
			prom_label(o, "dst_rir", gt + 1);
		} else {
			prom_label(o, "direction", w->dir);
			fputc(',', o);
			if (strcmp(scope, "country") == 0) {
				char rir[sizeof(w->key)], *colon;
				memcpy(rir, w->key, sizeof(rir));
				colon = strchr(rir, ':');
				*colon = '\0';
				prom_label(o, "rir", rir);
				fputc(',', o);
				prom_label(o, "country", colon + 1);
			} else {
				prom_label(o, scope, w->key);
			}
		}
		fprintf(o, "} %" PRIu64 "\n", bytes ? w->bytes : w->packets);
	}
}

static void prom_health(FILE *o, const struct rm_counters *c, const struct rm_port_stats *ports,
			unsigned n_ports)
{
	static const struct {
		const char *name, *help;
		size_t pkt_off, byte_off;
	} simple[] = {
	    {"received", "Frames received", offsetof(struct rm_counters, received),
	     offsetof(struct rm_counters, rx_bytes)},
	    {"attributed", "IP frames attributed", offsetof(struct rm_counters, attributed),
	     offsetof(struct rm_counters, attributed_bytes)},
	    {"non_ip", "Frames that are not IP", offsetof(struct rm_counters, non_ip),
	     offsetof(struct rm_counters, non_ip_bytes)},
	};
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		char name[96];
		snprintf(name, sizeof(name), "rirmeter_%s_packets_total", simple[k].name);
		prom_help(o, name, simple[k].help);
		fprintf(o, "%s %" PRIu64 "\n", name,
			*(const uint64_t *)((const char *)c + simple[k].pkt_off));
		snprintf(name, sizeof(name), "rirmeter_%s_bytes_total", simple[k].name);
		prom_help(o, name, simple[k].help);
		fprintf(o, "%s %" PRIu64 "\n", name,
			*(const uint64_t *)((const char *)c + simple[k].byte_off));
	}
	prom_help(o, "rirmeter_malformed_packets_total", "Malformed frames, by reason");
	for (unsigned k = 0; k < RM_BAD_COUNT; k++)
		fprintf(o, "rirmeter_malformed_packets_total{reason=\"%s\"} %" PRIu64 "\n",
			rm_malformed_name(k), c->malformed[k]);
	static const char *const port_metric[3] = {"rx_packets", "missed_packets", "errors"};
	for (int m = 0; m < 3; m++) {
		char name[96];
		snprintf(name, sizeof(name), "rirmeter_port_%s_total", port_metric[m]);
		prom_help(o, name, "Port counters from the NIC");
		for (unsigned i = 0; i < n_ports; i++)
			fprintf(o, "%s{port=\"%u\"} %" PRIu64 "\n", name, ports[i].port,
				m == 0	 ? ports[i].rx
				: m == 1 ? ports[i].missed
					 : ports[i].errors);
	}
}

/* Write the cumulative counters to path, atomically (temporary, rename). */
static int write_prom(struct rm_reporter *r, const struct rm_counters *cum,
		      const struct rm_port_stats *ports, unsigned n_ports)
{
	struct rows rs = {0};
	rows_rir(r, cum, &rs);
	rows_country(r, cum, &rs);
	rows_holder(r, cum, &rs);
	rows_pairs(cum, &rs);
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", r->prom, (long)getpid());
	FILE *o = fopen(tmp, "w");
	if (!o) {
		fprintf(stderr, "rirmeter: %s: %s\n", tmp, strerror(errno));
		free(rs.v);
		return -1;
	}
	for (int bytes = 0; bytes < 2; bytes++) {
		prom_scope(o, &rs, "rir", "rir", "registry of the address", bytes);
		prom_scope(o, &rs, "country", "country", "registry and registered country", bytes);
		prom_scope(o, &rs, "holder", "holder", "holder (top N by bytes, rest other)",
			   bytes);
		prom_scope(o, &rs, "rir_pair", "rir_pair", "source and destination registry",
			   bytes);
	}
	prom_health(o, cum, ports, n_ports);
	free(rs.v);
	int bad = ferror(o);
	if (fclose(o) || bad || rename(tmp, r->prom)) {
		fprintf(stderr, "rirmeter: %s: write failed: %s\n", r->prom, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int rm_report(struct rm_reporter *r, const struct rm_counters *c, const struct rm_port_stats *ports,
	      unsigned n_ports, const struct rm_counters *cum, double ts, bool total)
{
	char when[40], interval[32];
	rfc3339(ts, when);
	if (total)
		snprintf(interval, sizeof(interval), "\"total\"");
	else
		snprintf(interval, sizeof(interval), "%g", r->interval);
	struct rows rs = {0};
	all_rows(r, c, ports, n_ports, &rs);
	int rc = 0;
	if (r->json) {
		write_json(r->json, &rs, when, interval);
		if (fflush(r->json) || ferror(r->json)) {
			fprintf(stderr, "rirmeter: JSON output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	if (r->csv) {
		write_csv(r->csv, &rs, when, total ? "total" : interval);
		if (fflush(r->csv) || ferror(r->csv)) {
			fprintf(stderr, "rirmeter: CSV output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	free(rs.v);
	if (r->prom && write_prom(r, cum, ports, n_ports))
		rc = -1;
	return rc;
}

static void human(char *out, size_t n, double v)
{
	static const char *const unit[] = {"", "k", "M", "G", "T", "P"};
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(out, n, u ? "%.1f%s" : "%.0f%s", v, unit[u]);
}

void rm_report_table(struct rm_reporter *r, FILE *out, const struct rm_counters *c)
{
	uint64_t p[RM_DIRS][RM_RIR_COUNT] = {{0}}, b[RM_DIRS][RM_RIR_COUNT] = {{0}};
	uint64_t all = 0;
	for (int d = 0; d < RM_DIRS; d++)
		for (uint32_t i = 0; i < c->n_ids; i++) {
			p[d][r->rir_of[i]] += c->by_id[d][i].pkts;
			b[d][r->rir_of[i]] += c->by_id[d][i].bytes;
		}
	for (unsigned k = 0; k < RM_RIR_COUNT; k++)
		all += b[RM_SRC][k] + b[RM_DST][k];
	fprintf(out, "%-9s %12s %12s %12s %12s %7s\n", "registry", "src packets", "src bytes",
		"dst packets", "dst bytes", "share");
	for (unsigned k = 0; k < RM_RIR_COUNT; k++) {
		char t[4][32];
		human(t[0], sizeof(t[0]), (double)p[RM_SRC][k]);
		human(t[1], sizeof(t[1]), (double)b[RM_SRC][k]);
		human(t[2], sizeof(t[2]), (double)p[RM_DST][k]);
		human(t[3], sizeof(t[3]), (double)b[RM_DST][k]);
		fprintf(out, "%-9s %12s %12s %12s %12s %6.1f%%\n", rm_rir_name(k), t[0], t[1], t[2],
			t[3],
			all ? 100.0 * (double)(b[RM_SRC][k] + b[RM_DST][k]) / (double)all : 0.0);
	}
	uint64_t mal = 0;
	for (unsigned k = 0; k < RM_BAD_COUNT; k++)
		mal += c->malformed[k];
	fprintf(out,
		"received %" PRIu64 " = attributed %" PRIu64 " + non-IP %" PRIu64
		" + malformed %" PRIu64 "%s\n",
		c->received, c->attributed, c->non_ip, mal,
		c->received == c->attributed + c->non_ip + mal ? "" : "   MISMATCH");
}
