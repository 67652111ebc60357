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
#include <arpa/inet.h>
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

/* A report key in memory of its own (the grouping below frees them). */
static char *key_dup(int (*key)(const struct rm_db *, const struct rm_attr *, char *, size_t),
		     const struct rm_db *db, const struct rm_attr *a)
{
	int n = key(db, a, NULL, 0);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		key(db, a, s, (size_t)n + 1);
	return s;
}

int rm_reporter_init(struct rm_reporter *r, const struct rm_db *db)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->n_ids = db->n_attrs;
	r->rir_of = malloc(r->n_ids);
	r->country_of = malloc(r->n_ids * sizeof(uint32_t));
	r->holder_of = malloc(r->n_ids * sizeof(uint32_t));
	struct keyed *kc = malloc(r->n_ids * sizeof(*kc)), *kh = malloc(r->n_ids * sizeof(*kh));
	if (!r->rir_of || !r->country_of || !r->holder_of || !kc || !kh)
		goto fail;
	for (uint32_t i = 0; i < r->n_ids; i++) {
		const struct rm_attr *a = &db->attrs[i];
		r->rir_of[i] = a->rir;
		kc[i] = (struct keyed){key_dup(rm_key_country, db, a), i};
		kh[i] = (struct keyed){key_dup(rm_key_holder, db, a), i};
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

static void push(struct rm_rows *rs, const char *snap, const char *scope, const char *dir,
		 const char *key, uint64_t packets, uint64_t bytes, int has_bytes)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		if (!rs->v)
			abort();
	}
	struct rm_row *r = &rs->v[rs->n++];
	snprintf(r->snap, sizeof(r->snap), "%s", snap);
	r->scope = scope;
	r->dir = dir;
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->packets = packets;
	r->bytes = bytes;
	r->has_bytes = has_bytes;
}

void rm_rows_free(struct rm_rows *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

void rm_rows_append(struct rm_rows *dst, const struct rm_rows *src)
{
	for (uint32_t i = 0; i < src->n; i++) {
		const struct rm_row *r = &src->v[i];
		push(dst, r->snap, r->scope, r->dir, r->key, r->packets, r->bytes, r->has_bytes);
	}
}

static const char *const dirs[RM_DIRS] = {"src", "dst"};
static const char *const scope_order[] = {"rir", "country", "holder", "rir_pair", "health"};

static int scope_rank(const char *scope)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(scope, scope_order[i]) == 0)
			return i;
	return 5;
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct rm_row *a = pa, *b = pb;
	int c = strcmp(a->snap, b->snap);
	if (c)
		return c;
	if (scope_rank(a->scope) != scope_rank(b->scope))
		return scope_rank(a->scope) - scope_rank(b->scope);
	c = strcmp(a->dir ? a->dir : "", b->dir ? b->dir : "");
	if (c)
		return c;
	if (strcmp(a->scope, "rir") == 0) /* registries in their fixed order */
		return rm_rir_from_name(a->key, strlen(a->key)) -
		       rm_rir_from_name(b->key, strlen(b->key));
	return strcmp(a->key, b->key);
}

void rm_rows_compact(struct rm_rows *rs)
{
	if (rs->n == 0)
		return;
	qsort(rs->v, rs->n, sizeof(*rs->v), row_cmp);
	uint32_t w = 0;
	for (uint32_t i = 1; i < rs->n; i++) {
		if (row_cmp(&rs->v[w], &rs->v[i]) == 0) {
			rs->v[w].packets += rs->v[i].packets;
			rs->v[w].bytes += rs->v[i].bytes;
		} else {
			rs->v[++w] = rs->v[i];
		}
	}
	rs->n = w + 1;
}

void rm_rows_minus(struct rm_rows *rs, const struct rm_rows *prev)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < rs->n; i++) {
		while (j < prev->n && row_cmp(&prev->v[j], &rs->v[i]) < 0)
			j++;
		if (j < prev->n && row_cmp(&prev->v[j], &rs->v[i]) == 0) {
			rs->v[i].packets -= prev->v[j].packets;
			rs->v[i].bytes -= prev->v[j].bytes;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Flow exporters                                                      */

static void exporter_prefix(const struct rm_flow_exporter *e, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	snprintf(out, n, "flow/%s/%s/%" PRIu32, rm_flow_kind_name(e->kind), a, e->domain);
}

static void exporter_rows(const struct rm_flow_exporter *e, const char *snap, struct rm_rows *rs)
{
	char pre[96], key[160];
	exporter_prefix(e, pre, sizeof(pre));
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++) {
		uint64_t v = ((const volatile uint64_t *)e->n)[k];
		if (v || k <= RM_EXP_RECORDS) {
			snprintf(key, sizeof(key), "%s/%s", pre, rm_exp_counter_name(k));
			push(rs, snap, "health", NULL, key, v, 0, 0);
		}
	}
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++) {
		uint64_t v = ((const volatile uint64_t *)e->bad)[k];
		if (v) {
			snprintf(key, sizeof(key), "%s/malformed.%s", pre, rm_flow_bad_name(k));
			push(rs, snap, "health", NULL, key, v, 0, 0);
		}
	}
}

void rm_flow_rows(struct rm_flow_state *const *st, unsigned n, const char *snap, struct rm_rows *rs)
{
	char key[64];
	uint64_t bad[RM_FLOWBAD_COUNT] = {0}, full = 0;
	for (unsigned w = 0; w < n; w++) {
		for (unsigned i = 0; i < RM_FLOW_MAX_EXPORTERS; i++) {
			const struct rm_flow_exporter *e = &st[w]->exp[i];
			if (!__atomic_load_n(&e->used, __ATOMIC_ACQUIRE))
				break; /* slots are taken in order */
			exporter_rows(e, snap, rs);
		}
		for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
			bad[k] += ((const volatile uint64_t *)st[w]->bad)[k];
		full += *(const volatile uint64_t *)&st[w]->exporters_full;
	}
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
		if (bad[k]) {
			snprintf(key, sizeof(key), "flow/malformed.%s", rm_flow_bad_name(k));
			push(rs, snap, "health", NULL, key, bad[k], 0, 0);
		}
	if (full)
		push(rs, snap, "health", NULL, "flow/exporters_full", full, 0, 0);
	rm_rows_compact(rs);
}

struct sum {
	uint64_t pkts, bytes;
};

/* Sum counters by group (of[id]) for one direction; the caller frees. */
static struct sum *sum_groups(const struct rm_counters *c, int d, const uint32_t *of,
			      uint32_t n_groups)
{
	struct sum *s = calloc(n_groups + 1, sizeof(*s));
	if (!s)
		abort();
	for (uint32_t i = 0; i < c->n_ids; i++) {
		s[of[i]].pkts += c->by_id[d][i].pkts;
		s[of[i]].bytes += c->by_id[d][i].bytes;
	}
	return s;
}

/* One row per group with traffic in direction d (country, holder). */
static void push_groups(struct rm_rows *rs, const char *snap, const char *scope,
			const struct rm_counters *c, int d, const uint32_t *of, char *const *keys,
			uint32_t n_groups)
{
	struct sum *s = sum_groups(c, d, of, n_groups);
	for (uint32_t g = 0; g < n_groups; g++)
		if (s[g].pkts)
			push(rs, snap, scope, dirs[d], keys[g], s[g].pkts, s[g].bytes, 1);
	free(s);
}

/* Process-wide: the flow collector is on, so its health lines are written. */
static bool flow_rows;

void rm_report_flows(bool on)
{
	flow_rows = on;
}

void rm_rows_of(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		struct rm_rows *rs)
{
	char key[64];
	for (int d = 0; d < RM_DIRS; d++) {
		uint64_t p[RM_RIR_COUNT] = {0}, b[RM_RIR_COUNT] = {0};
		for (uint32_t i = 0; i < c->n_ids; i++) {
			p[r->rir_of[i]] += c->by_id[d][i].pkts;
			b[r->rir_of[i]] += c->by_id[d][i].bytes;
		}
		for (unsigned k = 0; k < RM_RIR_COUNT; k++) /* a fixed set: zeros too */
			push(rs, snap, "rir", dirs[d], rm_rir_name(k), p[k], b[k], 1);
		push_groups(rs, snap, "country", c, d, r->country_of, r->country_keys,
			    r->n_country);
		push_groups(rs, snap, "holder", c, d, r->holder_of, r->holder_keys, r->n_holder);
	}
	for (unsigned a = 0; a < RM_RIR_COUNT; a++)
		for (unsigned b = 0; b < RM_RIR_COUNT; b++)
			if (c->pair[a][b].pkts) {
				snprintf(key, sizeof(key), "%s>%s", rm_rir_name(a), rm_rir_name(b));
				push(rs, snap, "rir_pair", NULL, key, c->pair[a][b].pkts,
				     c->pair[a][b].bytes, 1);
			}
	uint64_t mp = 0, mb = 0;
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		mp += c->malformed[k];
		mb += c->malformed_bytes[k];
	}
	push(rs, snap, "health", NULL, "received", c->received, c->rx_bytes, 1);
	push(rs, snap, "health", NULL, "attributed", c->attributed, c->attributed_bytes, 1);
	push(rs, snap, "health", NULL, "non_ip", c->non_ip, c->non_ip_bytes, 1);
	push(rs, snap, "health", NULL, "malformed", mp, mb, 1);
	if (flow_rows) {
		push(rs, snap, "health", NULL, "flow_datagrams", c->flow, c->flow_bytes, 1);
		push(rs, snap, "health", NULL, "flow_records", c->records, 0, 0);
		push(rs, snap, "health", NULL, "not_flow", c->not_flow, c->not_flow_bytes, 1);
	}
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		snprintf(key, sizeof(key), "malformed.%s", rm_malformed_name(k));
		push(rs, snap, "health", NULL, key, c->malformed[k], c->malformed_bytes[k], 1);
	}
}

/* A row's key into the ends of an aggregate record (see rm_rows_to_ipfix). */
static int row_ends(const struct rm_row *w, char *buf, size_t n, struct rm_ipfix_aggregate *a)
{
	snprintf(buf, n, "%s", w->key);
	int d = w->dir && strcmp(w->dir, "dst") == 0;
	char *cut;
	if (strcmp(w->scope, "rir_pair") == 0 && (cut = strchr(buf, '>'))) {
		*cut = '\0';
		a->end[0].rir = buf;
		a->end[1].rir = cut + 1;
	} else if (strcmp(w->scope, "rir") == 0) {
		a->end[d].rir = buf;
	} else if (strcmp(w->scope, "country") == 0 && (cut = strchr(buf, ':'))) {
		*cut = '\0';
		a->end[d].rir = buf;
		a->end[d].cc[0] = cut[1];
		a->end[d].cc[1] = cut[1] ? cut[2] : '\0';
	} else if (strcmp(w->scope, "holder") == 0) {
		cut = strchr(buf, ':');
		if (cut && strncmp(buf, "local:", 6) != 0) { /* "registry:id" */
			*cut = '\0';
			a->end[d].rir = buf;
			a->end[d].holder = cut + 1;
		} else { /* "local:LABEL", "none", "other" */
			a->end[d].holder = buf;
		}
	} else {
		return -1;
	}
	return 0;
}

void rm_rows_to_ipfix(const struct rm_rows *rows, struct rm_ipfix *x, uint64_t start_ms,
		      uint64_t end_ms, uint64_t now_s)
{
	for (uint32_t i = 0; i < rows->n; i++) {
		const struct rm_row *w = &rows->v[i];
		char buf[sizeof(w->key)];
		struct rm_ipfix_aggregate a = {w->scope,   {{"", "", {0, 0}}, {"", "", {0, 0}}},
					       w->packets, w->bytes,
					       start_ms,   end_ms};
		if (w->packets && row_ends(w, buf, sizeof(buf), &a) == 0)
			rm_ipfix_add_aggregate(x, &a, now_s);
	}
}

static int by_bytes(const void *pa, const void *pb)
{
	const struct rm_row *a = pa, *b = pb;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return strcmp(a->key, b->key);
}

/*
 * The rows to write: compacted, holders cut to the top N by bytes per
 * snapshot and direction with the rest as "other", and port lines added.
 */
static void finish_rows(const struct rm_outputs *o, const struct rm_rows *in,
			const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
			struct rm_rows *out)
{
	rm_rows_append(out, in);
	rm_rows_compact(out);
	for (uint32_t i = 0; i < out->n;) {
		uint32_t j = i;
		struct rm_row *r = &out->v[i];
		while (j < out->n && strcmp(out->v[j].snap, r->snap) == 0 &&
		       strcmp(out->v[j].scope, r->scope) == 0 &&
		       (out->v[j].dir == r->dir ||
			(out->v[j].dir && r->dir && strcmp(out->v[j].dir, r->dir) == 0)))
			j++;
		if (strcmp(r->scope, "holder") == 0 && j - i > o->top) {
			qsort(r, j - i, sizeof(*r), by_bytes);
			uint64_t op = 0, ob = 0;
			for (uint32_t k = i + o->top; k < j; k++) {
				op += out->v[k].packets;
				ob += out->v[k].bytes;
			}
			struct rm_row other = out->v[i + o->top];
			snprintf(other.key, sizeof(other.key), "other");
			other.packets = op;
			other.bytes = ob;
			out->v[i + o->top] = other;
			memmove(&out->v[i + o->top + 1], &out->v[j], (out->n - j) * sizeof(*r));
			out->n -= j - (i + o->top + 1);
			j = i + o->top + 1;
		}
		i = j;
	}
	char key[64];
	for (unsigned i = 0; i < n_ports; i++) {
		snprintf(key, sizeof(key), "port.%u.rx", ports[i].port);
		push(out, port_snap, "health", NULL, key, ports[i].rx, 0, 0);
		snprintf(key, sizeof(key), "port.%u.missed", ports[i].port);
		push(out, port_snap, "health", NULL, key, ports[i].missed, 0, 0);
		snprintf(key, sizeof(key), "port.%u.errors", ports[i].port);
		push(out, port_snap, "health", NULL, key, ports[i].errors, 0, 0);
	}
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

static void write_json(FILE *o, const struct rm_rows *rs, const char *ts, const char *interval)
{
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		fprintf(o, "{\"ts\":\"%s\",\"interval\":%s,\"snapshot\":\"%s\",\"scope\":\"%s\",",
			ts, interval, w->snap, w->scope);
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

static void write_csv(FILE *o, const struct rm_rows *rs, const char *ts, const char *interval)
{
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		fprintf(o, "%s,%s,%s,%s,%s,", ts, interval, w->snap, w->scope,
			w->dir ? w->dir : "");
		rm_put_csv_field(o, w->key);
		fprintf(o, ",%" PRIu64 ",", w->packets);
		if (w->has_bytes)
			fprintf(o, "%" PRIu64, w->bytes);
		fputc('\n', o);
	}
}

int rm_write_rows(const struct rm_outputs *o, const struct rm_rows *rows,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *port_snap,
		  double ts, double interval, bool total)
{
	char when[40], length[32];
	rfc3339(ts, when);
	snprintf(length, sizeof(length), total ? "\"total\"" : "%g", interval);
	struct rm_rows rs = {0};
	finish_rows(o, rows, ports, n_ports, port_snap, &rs);
	int rc = 0;
	if (o->json) {
		write_json(o->json, &rs, when, length);
		if (fflush(o->json) || ferror(o->json)) {
			fprintf(stderr, "rirmeter: JSON output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	if (o->csv) {
		write_csv(o->csv, &rs, when, total ? "total" : length);
		if (fflush(o->csv) || ferror(o->csv)) {
			fprintf(stderr, "rirmeter: CSV output: write failed: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	rm_rows_free(&rs);
	return rc;
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

static void prom_help(FILE *o, const char *metric, const char *help, const char *type)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* One metric family from the rows of a scope. */
static void prom_scope(FILE *o, const struct rm_rows *rs, const char *scope, const char *what,
		       int bytes)
{
	char name[96], help[160];
	snprintf(name, sizeof(name), "rirmeter_%s_%s_total", scope, bytes ? "bytes" : "packets");
	snprintf(help, sizeof(help), "%s by %s.", bytes ? "Bytes" : "Packets", what);
	prom_help(o, name, help, "counter");
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		if (strcmp(w->scope, scope) != 0)
			continue;
		char k[sizeof(w->key)], *cut;
		memcpy(k, w->key, sizeof(k));
		fprintf(o, "%s{", name);
		if (strcmp(scope, "rir_pair") == 0 && (cut = strchr(k, '>'))) {
			*cut = '\0';
			prom_label(o, "src_rir", k);
			fputc(',', o);
			prom_label(o, "dst_rir", cut + 1);
		} else {
			prom_label(o, "direction", w->dir);
			fputc(',', o);
			if (strcmp(scope, "country") == 0 && (cut = strchr(k, ':'))) {
				*cut = '\0';
				prom_label(o, "rir", k);
				fputc(',', o);
				prom_label(o, "country", cut + 1);
			} else {
				prom_label(o, scope, k);
			}
		}
		fprintf(o, "} %" PRIu64 "\n", bytes ? w->bytes : w->packets);
	}
}

static uint64_t health_value(const struct rm_rows *rs, const char *key, int bytes)
{
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 && strcmp(rs->v[i].key, key) == 0)
			return bytes ? rs->v[i].bytes : rs->v[i].packets;
	return 0;
}

/* "flow/KIND/ADDR/DOMAIN/COUNTER" (or "flow/COUNTER") into its parts; the count. */
static unsigned flow_key_parts(char *k, char *part[4])
{
	unsigned n = 0;
	for (char *s = k + 5, *t; n < 4 && s; s = t) {
		t = strchr(s, '/');
		if (t)
			*t++ = '\0';
		part[n++] = s;
	}
	return n;
}

/* One family of per-exporter samples: counter is an rm_exp_counter name, or "malformed". */
static void prom_exporter_family(FILE *o, const struct rm_rows *rs, const char *counter)
{
	char name[96];
	int mal = strcmp(counter, "malformed") == 0;
	snprintf(name, sizeof(name), "rirmeter_flow_exporter_%s_total", counter);
	prom_help(o, name,
		  mal ? "Flow datagrams dropped, by exporter and reason"
		      : "Flow collector counters, by exporter",
		  "counter");
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct rm_row *w = &rs->v[i];
		char k[sizeof(w->key)], *part[4];
		if (strcmp(w->scope, "health") != 0 || strncmp(w->key, "flow/", 5) != 0)
			continue;
		memcpy(k, w->key, sizeof(k));
		if (flow_key_parts(k, part) != 4 ||
		    (mal ? strncmp(part[3], "malformed.", 10) : strcmp(part[3], counter)) != 0)
			continue;
		fprintf(o, "%s{", name);
		prom_label(o, "protocol", part[0]);
		fputc(',', o);
		prom_label(o, "exporter", part[1]);
		fputc(',', o);
		prom_label(o, "domain", part[2]);
		if (mal) {
			fputc(',', o);
			prom_label(o, "reason", part[3] + 10);
		}
		fprintf(o, "} %" PRIu64 "\n", w->packets);
	}
}

/* The flow collector: datagrams and records, drops, then each exporter's counters. */
static void prom_flow(FILE *o, const struct rm_rows *rs)
{
	if (!flow_rows)
		return;
	prom_help(o, "rirmeter_flow_datagrams_total", "Datagrams taken as flow export", "counter");
	fprintf(o, "rirmeter_flow_datagrams_total %" PRIu64 "\n",
		health_value(rs, "flow_datagrams", 0));
	prom_help(o, "rirmeter_flow_datagram_bytes_total", "Frame bytes of flow export", "counter");
	fprintf(o, "rirmeter_flow_datagram_bytes_total %" PRIu64 "\n",
		health_value(rs, "flow_datagrams", 1));
	prom_help(o, "rirmeter_flow_records_total", "Flow records attributed", "counter");
	fprintf(o, "rirmeter_flow_records_total %" PRIu64 "\n",
		health_value(rs, "flow_records", 0));
	prom_help(o, "rirmeter_flow_exporters_full_total",
		  "Flow datagrams from exporters beyond the exporter table", "counter");
	fprintf(o, "rirmeter_flow_exporters_full_total %" PRIu64 "\n",
		health_value(rs, "flow/exporters_full", 0));
	prom_help(o, "rirmeter_flow_malformed_total",
		  "Flow datagrams dropped before their exporter was known", "counter");
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 &&
		    strncmp(rs->v[i].key, "flow/malformed.", 15) == 0) {
			fputs("rirmeter_flow_malformed_total{", o);
			prom_label(o, "reason", rs->v[i].key + 15);
			fprintf(o, "} %" PRIu64 "\n", rs->v[i].packets);
		}
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++)
		prom_exporter_family(o, rs, rm_exp_counter_name(k));
	prom_exporter_family(o, rs, "malformed");
}

static void prom_health(FILE *o, const struct rm_rows *rs, const struct rm_port_stats *ports,
			unsigned n_ports)
{
	static const char *const simple[] = {"received", "attributed", "non_ip", "not_flow"};
	for (size_t k = 0; k < 4; k++)
		for (int bytes = 0; bytes < 2; bytes++) {
			char name[96];
			snprintf(name, sizeof(name), "rirmeter_%s_%s_total", simple[k],
				 bytes ? "bytes" : "packets");
			prom_help(o, name, "Frames, by what became of them", "counter");
			for (uint32_t i = 0; i < rs->n; i++)
				if (strcmp(rs->v[i].scope, "health") == 0 &&
				    strcmp(rs->v[i].key, simple[k]) == 0)
					fprintf(o, "%s %" PRIu64 "\n", name,
						bytes ? rs->v[i].bytes : rs->v[i].packets);
		}
	prom_help(o, "rirmeter_malformed_packets_total", "Malformed frames, by reason", "counter");
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, "health") == 0 &&
		    strncmp(rs->v[i].key, "malformed.", 10) == 0)
			fprintf(o, "rirmeter_malformed_packets_total{reason=\"%s\"} %" PRIu64 "\n",
				rs->v[i].key + 10, rs->v[i].packets);
	prom_flow(o, rs);
	static const char *const port_metric[3] = {"rx_packets", "missed_packets", "errors"};
	for (int m = 0; m < 3; m++) {
		char name[96];
		snprintf(name, sizeof(name), "rirmeter_port_%s_total", port_metric[m]);
		prom_help(o, name, "Port counters from the NIC", "counter");
		for (unsigned i = 0; i < n_ports; i++)
			fprintf(o, "%s{port=\"%u\"} %" PRIu64 "\n", name, ports[i].port,
				m == 0	 ? ports[i].rx
				: m == 1 ? ports[i].missed
					 : ports[i].errors);
	}
}

/* The exposition text into f. */
static void prom_text(FILE *f, const struct rm_outputs *o, const struct rm_rows *total,
		      const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		      const char *snap_inputs)
{
	/* Counters must not restart at a reload: sum over snapshots. */
	struct rm_rows merged = {0}, rs = {0};
	rm_rows_append(&merged, total);
	for (uint32_t i = 0; i < merged.n; i++)
		merged.v[i].snap[0] = '\0';
	finish_rows(o, &merged, NULL, 0, "", &rs);
	rm_rows_free(&merged);
	for (int bytes = 0; bytes < 2; bytes++) {
		prom_scope(f, &rs, "rir", "registry of the address", bytes);
		prom_scope(f, &rs, "country", "registry and registered country", bytes);
		prom_scope(f, &rs, "holder", "holder (top N by bytes, rest other)", bytes);
		prom_scope(f, &rs, "rir_pair", "source and destination registry", bytes);
	}
	prom_health(f, &rs, ports, n_ports);
	prom_help(f, "rirmeter_snapshot_info", "The snapshot attributing traffic now", "gauge");
	fputs("rirmeter_snapshot_info{", f);
	prom_label(f, "snapshot", snap_id);
	fputc(',', f);
	prom_label(f, "inputs", snap_inputs);
	fputs("} 1\n", f);
	rm_rows_free(&rs);
}

int rm_render_prom(const struct rm_outputs *o, const struct rm_rows *total,
		   const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		   const char *snap_inputs, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	if (!f)
		return -1;
	prom_text(f, o, total, ports, n_ports, snap_id, snap_inputs);
	return fclose(f) ? -1 : 0;
}

int rm_write_prom(const struct rm_outputs *o, const struct rm_rows *total,
		  const struct rm_port_stats *ports, unsigned n_ports, const char *snap_id,
		  const char *snap_inputs)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", o->prom, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "rirmeter: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	prom_text(f, o, total, ports, n_ports, snap_id, snap_inputs);
	int bad = ferror(f);
	if (fclose(f) || bad || rename(tmp, o->prom)) {
		fprintf(stderr, "rirmeter: %s: write failed: %s\n", o->prom, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int rm_write_table(FILE *out, const struct rm_rows *total)
{
	FILE *sink = NULL;
	if (!out) /* the balance only */
		out = sink = fopen("/dev/null", "w");
	if (!out)
		return -1;
	uint64_t p[RM_DIRS][RM_RIR_COUNT] = {{0}}, b[RM_DIRS][RM_RIR_COUNT] = {{0}}, all = 0;
	uint64_t received = 0, attributed = 0, non_ip = 0, mal = 0, flow = 0, not_flow = 0;
	for (uint32_t i = 0; i < total->n; i++) {
		const struct rm_row *r = &total->v[i];
		if (strcmp(r->scope, "rir") == 0) {
			int d = strcmp(r->dir, "src") == 0 ? RM_SRC : RM_DST;
			int k = rm_rir_from_name(r->key, strlen(r->key));
			p[d][k] += r->packets;
			b[d][k] += r->bytes;
		} else if (strcmp(r->scope, "health") == 0) {
			uint64_t *t = strcmp(r->key, "received") == 0	      ? &received
				      : strcmp(r->key, "attributed") == 0     ? &attributed
				      : strcmp(r->key, "non_ip") == 0	      ? &non_ip
				      : strcmp(r->key, "malformed") == 0      ? &mal
				      : strcmp(r->key, "flow_datagrams") == 0 ? &flow
				      : strcmp(r->key, "not_flow") == 0	      ? &not_flow
									      : NULL;
			if (t)
				*t += r->packets;
		}
	}
	for (unsigned k = 0; k < RM_RIR_COUNT; k++)
		all += b[RM_SRC][k] + b[RM_DST][k];
	fprintf(out, "%-9s %12s %12s %12s %12s %7s\n", "registry", "src packets", "src bytes",
		"dst packets", "dst bytes", "share");
	for (unsigned k = 0; k < RM_RIR_COUNT; k++) {
		char t[4][32];
		rm_si_format(t[0], sizeof(t[0]), (double)p[RM_SRC][k], "");
		rm_si_format(t[1], sizeof(t[1]), (double)b[RM_SRC][k], "");
		rm_si_format(t[2], sizeof(t[2]), (double)p[RM_DST][k], "");
		rm_si_format(t[3], sizeof(t[3]), (double)b[RM_DST][k], "");
		fprintf(out, "%-9s %12s %12s %12s %12s %6.1f%%\n", rm_rir_name(k), t[0], t[1], t[2],
			t[3],
			all ? 100.0 * (double)(b[RM_SRC][k] + b[RM_DST][k]) / (double)all : 0.0);
	}
	int ok = received == attributed + non_ip + mal + flow + not_flow;
	fprintf(out,
		"received %" PRIu64 " = attributed %" PRIu64 " + non-IP %" PRIu64
		" + malformed %" PRIu64 "%s",
		received, attributed, non_ip, mal,
		flow || not_flow ? ""
		: ok		 ? "\n"
				 : "   MISMATCH\n");
	if (flow || not_flow)
		fprintf(out, " + flow export %" PRIu64 " + not flow %" PRIu64 "%s\n", flow,
			not_flow, ok ? "" : "   MISMATCH");
	if (sink)
		fclose(sink);
	return ok ? 0 : -1;
}
