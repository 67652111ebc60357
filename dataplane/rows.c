/*
 * rows.c - counters turned into keyed rows, on the main lcore; also the
 * flow exporters' health rows and the rows sent as IPFIX aggregates.
 *
 * Everything but the attribution id is derived here from the snapshot's
 * attribution table: the registry, the "registry:country" key, the NIR
 * key and the holder key (with its name) of each id are computed once per
 * snapshot (rm_reporter), never per packet.
 * Scopes:
 *
 *   rir       per direction, every registry (a fixed set of 7 keys)
 *   country   per direction, "registry:CC" ("registry:ZZ" when none)
 *   nir       per direction, "apnic:jpnic", "lacnic:nicbr"; "registry:"
 *             for space under no NIR
 *   holder    per direction, the top N holders by bytes, the rest "other";
 *             a row carries the holder's name when it has one
 *   rir_pair  "src>dst" registry pairs, no direction
 *   health    received, attributed, non_ip, malformed[.REASON], port.N.*,
 *             via.HOW (6to4, teredo, nat64: addresses seen only)
 *   tunnel    the encapsulations crossed by kind, and non_ip and
 *             malformed.REASON for what they carried (rows seen only)
 *   inner_*   with --tunnels both, rir, country, holder and rir_pair of the
 *             innermost addresses
 *
 * and with a located layer (lookup.h struct rm_located), per direction:
 *
 *   geo_country      the located country, "DE" ("ZZ" when unknown)
 *   country_located  "NL>DE": registered, then located country (ZZ when
 *                    unknown); the top N by bytes, the rest "other"
 *   asn              the origin AS, "AS3333" ("none" when unknown), the
 *                    flow record's own when it carries one; top N, "other";
 *                    a row carries its holder's name (rm_asn_name)
 *   origin           holder, other or unknown (model.h rm_ref_origin)
 *
 * with the health rows asn_source.record and asn_source.database (flow
 * records' addresses by where their AS came from, with --flows).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grow.h"
#include "output.h"
#include "rows.h"

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
	r->nir_of = malloc(r->n_ids * sizeof(uint32_t));
	r->holder_of = malloc(r->n_ids * sizeof(uint32_t));
	struct keyed *kc = calloc(r->n_ids, sizeof(*kc)), *kn = calloc(r->n_ids, sizeof(*kn)),
		     *kh = calloc(r->n_ids, sizeof(*kh));
	if (!r->rir_of || !r->country_of || !r->nir_of || !r->holder_of || !kc || !kn || !kh)
		goto fail;
	for (uint32_t i = 0; i < r->n_ids; i++) {
		const struct rm_attr *a = &db->attrs[i];
		r->rir_of[i] = a->rir;
		kc[i] = (struct keyed){key_dup(rm_key_country, db, a), i};
		kn[i] = (struct keyed){key_dup(rm_key_nir, db, a), i};
		kh[i] = (struct keyed){key_dup(rm_key_holder, db, a), i};
		if (!kc[i].key || !kn[i].key || !kh[i].key)
			goto fail;
	}
	if (group(kc, r->n_ids, r->country_of, &r->country_keys, &r->n_country) ||
	    group(kn, r->n_ids, r->nir_of, &r->nir_keys, &r->n_nir) ||
	    group(kh, r->n_ids, r->holder_of, &r->holder_keys, &r->n_holder))
		goto fail;
	/* Each holder key's name: of the ids under one key, the first with a
	 * name (ids of one holder differ in status or country, not name). */
	r->holder_names = calloc(r->n_holder + 1, sizeof(*r->holder_names));
	if (!r->holder_names)
		goto fail;
	for (uint32_t i = 0; i < r->n_ids; i++) {
		const char **n = &r->holder_names[r->holder_of[i]];
		if (!*n || !**n)
			*n = rm_name_intern(rm_holder_key_name(db, &db->attrs[i]));
	}
	free(kc);
	free(kn);
	free(kh);
	return 0;
fail:
	/* Keys not yet grouped are still the key lists' own. */
	for (uint32_t i = 0; i < r->n_ids; i++) {
		if (kc && !r->country_keys)
			free(kc[i].key);
		if (kn && !r->nir_keys)
			free(kn[i].key);
		if (kh && !r->holder_keys)
			free(kh[i].key);
	}
	free(kc);
	free(kn);
	free(kh);
	rm_reporter_free(r);
	return -1;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The index of v in the sorted distinct list l of n. */
static uint32_t index_of(const uint32_t *l, uint32_t n, uint32_t v)
{
	const uint32_t *at = bsearch(&v, l, n, sizeof(*l), u32_cmp);
	return at ? (uint32_t)(at - l) : 0;
}

/* Sort and deduplicate l's n values; how many remain. */
static uint32_t distinct(uint32_t *l, uint32_t n)
{
	qsort(l, n, sizeof(*l), u32_cmp);
	uint32_t w = 0;
	for (uint32_t i = 0; i < n; i++)
		if (w == 0 || l[i] != l[w - 1])
			l[w++] = l[i];
	return w;
}

int rm_reporter_located(struct rm_reporter *r, const struct rm_geo_lookup *g)
{
	if (!g->loc)
		return 0;
	uint32_t n = g->n_loc;
	r->loc_cc = malloc(n * sizeof(*r->loc_cc));
	r->loc_pair = malloc(n * sizeof(uint32_t));
	r->loc_asn = malloc(n * sizeof(uint32_t));
	r->loc_origin = malloc(n);
	r->pairs = malloc((n + 1) * sizeof(uint32_t));
	r->asns = malloc((n + 1) * sizeof(uint32_t));
	if (!r->loc_cc || !r->loc_pair || !r->loc_asn || !r->loc_origin || !r->pairs || !r->asns)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct rm_located *l = &g->loc[i];
		r->loc_cc[i] = (uint16_t)rm_cc_index(l->cc);
		/* The pair's code for now; its index once pairs is distinct. */
		r->loc_pair[i] = rm_cc_index(l->reg_cc) * RM_CC_CODES + r->loc_cc[i];
		r->pairs[i] = r->loc_pair[i];
		r->asns[i] = l->asn;
		r->loc_origin[i] = l->origin;
	}
	r->asns[n] = 0; /* "none" is always asns[0] */
	r->n_pairs = distinct(r->pairs, n);
	r->n_asns = distinct(r->asns, n + 1);
	for (uint32_t i = 0; i < n; i++) {
		r->loc_pair[i] = index_of(r->pairs, r->n_pairs, r->loc_pair[i]);
		r->loc_asn[i] = index_of(r->asns, r->n_asns, g->loc[i].asn);
	}
	r->asn_names = malloc(r->n_asns * sizeof(*r->asn_names));
	if (!r->asn_names)
		return -1;
	for (uint32_t k = 0; k < r->n_asns; k++)
		r->asn_names[k] = rm_name_intern(rm_asn_name(r->db, r->asns[k]));
	r->n_loc = n;
	return 0;
}

void rm_reporter_free(struct rm_reporter *r)
{
	free(r->loc_cc);
	free(r->loc_pair);
	free(r->loc_asn);
	free(r->loc_origin);
	free(r->pairs);
	free(r->asns);
	free(r->asn_names);
	for (uint32_t i = 0; r->country_keys && i < r->n_country; i++)
		free(r->country_keys[i]);
	for (uint32_t i = 0; r->nir_keys && i < r->n_nir; i++)
		free(r->nir_keys[i]);
	for (uint32_t i = 0; r->holder_keys && i < r->n_holder; i++)
		free(r->holder_keys[i]);
	free(r->country_keys);
	free(r->nir_keys);
	free(r->holder_keys);
	free(r->holder_names);
	free(r->rir_of);
	free(r->country_of);
	free(r->nir_of);
	free(r->holder_of);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */

void rm_rows_push(struct rm_rows *rs, const char *snap, const char *scope, const char *dir,
		  const char *key, uint64_t packets, uint64_t bytes, int has_bytes)
{
	RM_GROW_OR_DIE(&rs->v, &rs->cap, rs->n, 1, 256);
	struct rm_row *r = &rs->v[rs->n++];
	snprintf(r->snap, sizeof(r->snap), "%s", snap);
	r->scope = scope;
	r->dir = dir;
	/* A longer key (none of a checked snapshot is) is cut between
	 * characters, never inside one. */
	size_t n = rm_utf8_cut(key, strnlen(key, sizeof(r->key) - 1));
	memcpy(r->key, key, n);
	r->key[n] = '\0';
	r->name = "";
	r->packets = packets;
	r->bytes = bytes;
	r->has_bytes = has_bytes;
}

/* The pool of rm_name_intern: open addressing, at most half full. */
static struct {
	char **slot;
	size_t n, cap;
} pool;

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static char **pool_find(char **slot, size_t cap, const char *s)
{
	size_t i = name_hash(s) & (cap - 1);
	while (slot[i] && strcmp(slot[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

const char *rm_name_intern(const char *name)
{
	char cut[RM_HOLDER_TEXT_MAX + 1];
	size_t len = rm_utf8_cut(name, strnlen(name, RM_HOLDER_TEXT_MAX));
	if (len == 0)
		return "";
	memcpy(cut, name, len);
	cut[len] = '\0';
	if (2 * (pool.n + 1) > pool.cap) {
		size_t cap = pool.cap ? 2 * pool.cap : 256;
		char **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			rm_out_of_memory();
		for (size_t i = 0; i < pool.cap; i++)
			if (pool.slot[i])
				*pool_find(slot, cap, pool.slot[i]) = pool.slot[i];
		free(pool.slot);
		pool.slot = slot;
		pool.cap = cap;
	}
	char **at = pool_find(pool.slot, pool.cap, cut);
	if (!*at) {
		if (!(*at = strdup(cut)))
			rm_out_of_memory();
		pool.n++;
	}
	return *at;
}

void rm_rows_name_last(struct rm_rows *rs, const char *name)
{
	rs->v[rs->n - 1].name = rm_name_intern(name);
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
		rm_rows_push(dst, r->snap, r->scope, r->dir, r->key, r->packets, r->bytes,
			     r->has_bytes);
		if (r->name) /* interned already (a row built by hand has none) */
			dst->v[dst->n - 1].name = r->name;
	}
}

static const char *const dirs[RM_DIRS] = {"src", "dst"};
static const char *const scope_order[] = {
    "rir",	     "country",	     "nir",	      "holder", "geo_country", "country_located",
    "asn",	     "origin",	     "rir_pair",      "health", "tunnel",      "inner_rir",
    "inner_country", "inner_holder", "inner_rir_pair"};
#define N_SCOPES (int)(sizeof(scope_order) / sizeof(scope_order[0]))

static int scope_rank(const char *scope)
{
	for (int i = 0; i < N_SCOPES; i++)
		if (strcmp(scope, scope_order[i]) == 0)
			return i;
	return N_SCOPES;
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct rm_row *a = pa, *b = pb;
	int c = strcmp(a->snap, b->snap);
	if (c)
		return c;
	int ra = scope_rank(a->scope), rb = scope_rank(b->scope);
	if (ra != rb)
		return ra - rb;
	/* Scopes apart, even one not listed: rows of two are never summed,
	 * and a scope's rows stay together for the top-N cut. */
	if (ra == N_SCOPES && (c = strcmp(a->scope, b->scope)))
		return c;
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
			struct rm_row *k = &rs->v[w];
			const char *n = rs->v[i].name;
			k->packets += rs->v[i].packets;
			k->bytes += rs->v[i].bytes;
			if (*n && (!*k->name || strcmp(n, k->name) < 0))
				k->name = n;
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
		/* A row that went back restarted from zero (an exporter
		 * released and seen again, a denied source back in the top
		 * table): its interval is what it counted since. */
		if (j < prev->n && row_cmp(&prev->v[j], &rs->v[i]) == 0 &&
		    rs->v[i].packets >= prev->v[j].packets) {
			rs->v[i].packets -= prev->v[j].packets;
			rs->v[i].bytes -= prev->v[j].bytes;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Flow exporters                                                      */

static void exporter_prefix(const struct rm_flow_exporter_view *e, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	snprintf(out, n, "flow/%s/%s/%" PRIu32, rm_flow_kind_name(e->kind), a, e->domain);
}

static void exporter_rows(const struct rm_flow_exporter_view *e, const char *snap,
			  struct rm_rows *rs)
{
	char pre[96], key[160];
	exporter_prefix(e, pre, sizeof(pre));
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++) {
		uint64_t v = e->n[k];
		if (v || k <= RM_EXP_RECORDS) {
			snprintf(key, sizeof(key), "%s/%s", pre, rm_exp_counter_name(k));
			rm_rows_push(rs, snap, "health", NULL, key, v, 0, 0);
		}
	}
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++) {
		uint64_t v = e->bad[k];
		if (v) {
			snprintf(key, sizeof(key), "%s/malformed.%s", pre, rm_flow_bad_name(k));
			rm_rows_push(rs, snap, "health", NULL, key, v, 0, 0);
		}
	}
}

/* Released exporters' counters, summed: "flow/released/COUNTER".  With the
 * live exporters' rows they make totals that never go back. */
static void released_rows(const uint64_t *n, const uint64_t *bad, const char *snap,
			  struct rm_rows *rs)
{
	char key[64];
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++) {
		snprintf(key, sizeof(key), "flow/released/%s", rm_exp_counter_name(k));
		if (n[k])
			rm_rows_push(rs, snap, "health", NULL, key, n[k], 0, 0);
	}
	uint64_t sum = 0;
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
		sum += bad[k];
	if (sum)
		rm_rows_push(rs, snap, "health", NULL, "flow/released/malformed", sum, 0, 0);
}

/* The top denied sources of every worker: "flow/denied_from/ADDRESS". */
static void denied_rows(const struct rm_flow_state *st, const char *snap, struct rm_rows *rs)
{
	struct rm_flow_denied_src top[RM_FLOW_DENIED_TOP];
	char a[INET6_ADDRSTRLEN], key[96];
	if (rm_flow_denied_read(st, top))
		return;
	for (unsigned i = 0; i < RM_FLOW_DENIED_TOP; i++) {
		if (!top[i].count)
			continue;
		inet_ntop(top[i].family == 6 ? AF_INET6 : AF_INET, top[i].addr, a, sizeof(a));
		snprintf(key, sizeof(key), "flow/denied_from/%s", a);
		rm_rows_push(rs, snap, "health", NULL, key, top[i].count, 0, 0);
	}
}

void rm_flow_rows(struct rm_flow_state *const *st, unsigned n, const char *snap, struct rm_rows *rs)
{
	char key[64];
	uint64_t bad[RM_FLOWBAD_COUNT] = {0}, gone[RM_EXP_COUNTERS] = {0},
		 gone_bad[RM_FLOWBAD_COUNT] = {0};
	uint64_t full = 0, denied = 0, aged = 0, evicted = 0;
	for (unsigned w = 0; w < n; w++) {
		/* Every slot: a released one may still hold gone_* counters. */
		for (unsigned i = 0; i < RM_FLOW_MAX_EXPORTERS; i++) {
			struct rm_flow_exporter_view e;
			rm_flow_exporter_read(&st[w]->exp[i], &e);
			for (unsigned k = 0; k < RM_EXP_COUNTERS; k++)
				gone[k] += e.gone_n[k];
			for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
				gone_bad[k] += e.gone_bad[k];
			if (e.used)
				exporter_rows(&e, snap, rs);
		}
		for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
			bad[k] += ((const volatile uint64_t *)st[w]->bad)[k];
		full += *(const volatile uint64_t *)&st[w]->exporters_full;
		denied += *(const volatile uint64_t *)&st[w]->denied;
		aged += *(const volatile uint64_t *)&st[w]->aged;
		evicted += *(const volatile uint64_t *)&st[w]->evicted;
		denied_rows(st[w], snap, rs);
	}
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
		if (bad[k]) {
			snprintf(key, sizeof(key), "flow/malformed.%s", rm_flow_bad_name(k));
			rm_rows_push(rs, snap, "health", NULL, key, bad[k], 0, 0);
		}
	if (full)
		rm_rows_push(rs, snap, "health", NULL, "flow/exporters_full", full, 0, 0);
	if (denied)
		rm_rows_push(rs, snap, "health", NULL, "flow/denied", denied, 0, 0);
	if (aged)
		rm_rows_push(rs, snap, "health", NULL, "flow/aged", aged, 0, 0);
	if (evicted)
		rm_rows_push(rs, snap, "health", NULL, "flow/evicted", evicted, 0, 0);
	released_rows(gone, gone_bad, snap, rs);
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

/* One row per group with traffic in direction d (country, nir, holder),
 * named by names[g] when names is given. */
static void push_groups(struct rm_rows *rs, const char *snap, const char *scope,
			const struct rm_counters *c, int d, const uint32_t *of, char *const *keys,
			const char *const *names, uint32_t n_groups)
{
	struct sum *s = sum_groups(c, d, of, n_groups);
	for (uint32_t g = 0; g < n_groups; g++)
		if (s[g].pkts) {
			rm_rows_push(rs, snap, scope, dirs[d], keys[g], s[g].pkts, s[g].bytes, 1);
			if (names && names[g]) /* interned by rm_reporter_init */
				rs->v[rs->n - 1].name = names[g];
		}
	free(s);
}

/* Process-wide: the flow collector is on, so its health lines are written. */
static bool flow_rows;

void rm_report_flows(bool on)
{
	flow_rows = on;
}

bool rm_report_flows_on(void)
{
	return flow_rows;
}

/* The tunnel scope: a row per kind and per inner outcome seen. */
static void tunnel_rows(const struct rm_counters *c, const char *snap, struct rm_rows *rs)
{
	char key[64];
	for (unsigned k = 0; k < RM_TUN_COUNT; k++)
		if (c->tunnel[k].pkts)
			rm_rows_push(rs, snap, "tunnel", NULL, rm_tunnel_name(k), c->tunnel[k].pkts,
				     c->tunnel[k].bytes, 1);
	if (c->tunnel_non_ip.pkts)
		rm_rows_push(rs, snap, "tunnel", NULL, "non_ip", c->tunnel_non_ip.pkts,
			     c->tunnel_non_ip.bytes, 1);
	for (unsigned k = 0; k < RM_BAD_COUNT; k++)
		if (c->tunnel_malformed[k].pkts) {
			snprintf(key, sizeof(key), "malformed.%s", rm_malformed_name(k));
			rm_rows_push(rs, snap, "tunnel", NULL, key, c->tunnel_malformed[k].pkts,
				     c->tunnel_malformed[k].bytes, 1);
		}
}

/* The inner scope of an attribution scope (static, as row scopes are), or
 * NULL for the scopes that have none (health, tunnel). */
static const char *inner_scope(const char *scope)
{
	static const char *const names[][2] = {{"rir", "inner_rir"},
					       {"country", "inner_country"},
					       {"holder", "inner_holder"},
					       {"rir_pair", "inner_rir_pair"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(scope, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

static void inner_rows(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		       struct rm_rows *rs);

/* A country index's code ("ZZ" for unknown). */
static void cc_text(unsigned k, char out[3])
{
	out[0] = (char)('A' + k / 26);
	out[1] = (char)('A' + k % 26);
	out[2] = '\0';
}

static void sum_add(struct sum *s, const struct rm_cell *c)
{
	s->pkts += c->pkts;
	s->bytes += c->bytes;
}

/* The located scopes of direction d: geo_country, country_located, asn
 * (the database's AS, or the flow record's own: rec_as) and origin. */
static void located_rows(const struct rm_reporter *r, const struct rm_counters *c, int d,
			 const char *snap, struct rm_rows *rs)
{
	struct sum *cc = calloc(RM_CC_CODES, sizeof(*cc)),
		   *pair = calloc(r->n_pairs, sizeof(*pair)),
		   *asn = calloc(r->n_asns, sizeof(*asn)), origin[RM_ORIGIN_COUNT] = {{0}};
	if (!cc || !pair || !asn)
		rm_out_of_memory();
	const struct rm_cell *db = c->by_loc[d], *rec = c->by_loc_rec[d];
	for (uint32_t i = 0; i < c->n_loc; i++) {
		/* The database's AS; the records' own ones below, by AS. */
		struct rm_cell all = db[i];
		sum_add(&asn[r->loc_asn[i]], &db[i]);
		if (rec)
			all = (struct rm_cell){all.pkts + rec[i].pkts, all.bytes + rec[i].bytes};
		if (!all.pkts)
			continue;
		sum_add(&cc[r->loc_cc[i]], &all);
		sum_add(&pair[r->loc_pair[i]], &all);
		sum_add(&origin[r->loc_origin[i]], &all);
	}
	char key[32], reg[3], loc[3];
	for (unsigned k = 0; k < RM_CC_CODES; k++)
		if (cc[k].pkts) {
			cc_text(k, key);
			rm_rows_push(rs, snap, "geo_country", dirs[d], key, cc[k].pkts, cc[k].bytes,
				     1);
		}
	for (uint32_t k = 0; k < r->n_pairs; k++)
		if (pair[k].pkts) {
			cc_text(r->pairs[k] / RM_CC_CODES, reg);
			cc_text(r->pairs[k] % RM_CC_CODES, loc);
			snprintf(key, sizeof(key), "%s>%s", reg, loc);
			rm_rows_push(rs, snap, "country_located", dirs[d], key, pair[k].pkts,
				     pair[k].bytes, 1);
		}
	for (uint32_t k = 0; k < r->n_asns; k++)
		if (asn[k].pkts) {
			if (r->asns[k])
				snprintf(key, sizeof(key), "AS%" PRIu32, r->asns[k]);
			else
				snprintf(key, sizeof(key), "none");
			rm_rows_push(rs, snap, "asn", dirs[d], key, asn[k].pkts, asn[k].bytes, 1);
			rs->v[rs->n - 1].name = r->asn_names[k];
		}
	/* The records' own ASes: rows of equal keys are summed later
	 * (rm_rows_compact); those beyond the table's capacity as "other". */
	const struct rm_as_cells *t = c->rec_as[d];
	for (uint32_t i = 0; t && i <= t->mask; i++)
		if (t->asn[i] && t->cell[i].pkts) {
			snprintf(key, sizeof(key), "AS%" PRIu32, t->asn[i]);
			rm_rows_push(rs, snap, "asn", dirs[d], key, t->cell[i].pkts,
				     t->cell[i].bytes, 1);
			rm_rows_name_last(rs, rm_asn_name(r->db, t->asn[i]));
		}
	if (c->rec_as_full[d].pkts)
		rm_rows_push(rs, snap, "asn", dirs[d], "other", c->rec_as_full[d].pkts,
			     c->rec_as_full[d].bytes, 1);
	for (unsigned k = 0; k < RM_ORIGIN_COUNT; k++)
		if (origin[k].pkts)
			rm_rows_push(rs, snap, "origin", dirs[d], rm_origin_name(k), origin[k].pkts,
				     origin[k].bytes, 1);
	free(cc);
	free(pair);
	free(asn);
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
			rm_rows_push(rs, snap, "rir", dirs[d], rm_rir_name(k), p[k], b[k], 1);
		push_groups(rs, snap, "country", c, d, r->country_of, r->country_keys, NULL,
			    r->n_country);
		push_groups(rs, snap, "nir", c, d, r->nir_of, r->nir_keys, NULL, r->n_nir);
		push_groups(rs, snap, "holder", c, d, r->holder_of, r->holder_keys, r->holder_names,
			    r->n_holder);
		if (c->by_loc[d] && r->n_loc == c->n_loc)
			located_rows(r, c, d, snap, rs);
	}
	for (unsigned a = 0; a < RM_RIR_COUNT; a++)
		for (unsigned b = 0; b < RM_RIR_COUNT; b++)
			if (c->pair[a][b].pkts) {
				snprintf(key, sizeof(key), "%s>%s", rm_rir_name(a), rm_rir_name(b));
				rm_rows_push(rs, snap, "rir_pair", NULL, key, c->pair[a][b].pkts,
					     c->pair[a][b].bytes, 1);
			}
	uint64_t mp = 0, mb = 0;
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		mp += c->malformed[k];
		mb += c->malformed_bytes[k];
	}
	rm_rows_push(rs, snap, "health", NULL, "received", c->received, c->rx_bytes, 1);
	rm_rows_push(rs, snap, "health", NULL, "attributed", c->attributed, c->attributed_bytes, 1);
	rm_rows_push(rs, snap, "health", NULL, "non_ip", c->non_ip, c->non_ip_bytes, 1);
	rm_rows_push(rs, snap, "health", NULL, "malformed", mp, mb, 1);
	if (flow_rows) {
		rm_rows_push(rs, snap, "health", NULL, "flow_datagrams", c->flow, c->flow_bytes, 1);
		rm_rows_push(rs, snap, "health", NULL, "flow_records", c->records, 0, 0);
		rm_rows_push(rs, snap, "health", NULL, "not_flow", c->not_flow, c->not_flow_bytes,
			     1);
	}
	for (unsigned k = 0; k < RM_BAD_COUNT; k++) {
		snprintf(key, sizeof(key), "malformed.%s", rm_malformed_name(k));
		rm_rows_push(rs, snap, "health", NULL, key, c->malformed[k], c->malformed_bytes[k],
			     1);
	}
	tunnel_rows(c, snap, rs);
	for (unsigned k = 1; k < RM_VIA_COUNT; k++)
		if (c->via[k].pkts) {
			snprintf(key, sizeof(key), "via.%s", rm_via_name(k));
			rm_rows_push(rs, snap, "health", NULL, key, c->via[k].pkts, c->via[k].bytes,
				     1);
		}
	if (c->by_loc_rec[RM_SRC]) {
		rm_rows_push(rs, snap, "health", NULL, "asn_source.record", c->asn_record, 0, 0);
		rm_rows_push(rs, snap, "health", NULL, "asn_source.database", c->asn_database, 0,
			     0);
	}
	if (c->inner_by_id[RM_SRC])
		inner_rows(r, c, snap, rs);
}

/* The inner scopes (--tunnels both): the attribution scopes' rows of the
 * innermost counts, made by rm_rows_of itself on a view of c whose
 * per-id counts and pairs are the inner ones, so that they are keyed
 * exactly as the outer scopes are. */
static void inner_rows(const struct rm_reporter *r, const struct rm_counters *c, const char *snap,
		       struct rm_rows *rs)
{
	struct rm_counters *v = malloc(sizeof(*v));
	if (!v)
		abort();
	*v = *c;
	memcpy(v->pair, c->inner_pair, sizeof(v->pair));
	for (int d = 0; d < RM_DIRS; d++) {
		v->by_id[d] = c->inner_by_id[d];
		v->inner_by_id[d] = NULL;
		v->by_loc[d] = v->by_loc_rec[d] = NULL; /* no inner located scopes */
	}
	struct rm_rows tmp = {0};
	rm_rows_of(r, v, snap, &tmp);
	for (uint32_t i = 0; i < tmp.n; i++) {
		const struct rm_row *w = &tmp.v[i];
		const char *scope = inner_scope(w->scope);
		if (scope) {
			rm_rows_push(rs, snap, scope, w->dir, w->key, w->packets, w->bytes,
				     w->has_bytes);
			rs->v[rs->n - 1].name = w->name; /* interned already */
		}
	}
	rm_rows_free(&tmp);
	free(v);
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
	} else if (strcmp(w->scope, "nir") == 0 && (cut = strchr(buf, ':'))) {
		*cut = '\0'; /* "apnic:jpnic"; "ripencc:" under no NIR */
		a->end[d].rir = buf;
		a->end[d].nir = cut + 1;
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
		struct rm_ipfix_aggregate a = {
		    w->scope,	{{"", "", {0, 0}, ""}, {"", "", {0, 0}, ""}},
		    w->packets, w->bytes,
		    start_ms,	end_ms};
		if (w->packets && row_ends(w, buf, sizeof(buf), &a) == 0)
			rm_ipfix_add_aggregate(x, &a, now_s);
	}
}
