/*
 * holders.c - a registry's holders across a snapshot, shared by lookup
 * (holder_asns: every AS number of the looked-up holder) and info (how
 * many holders are named, and by what).
 *
 * A holder is a (registry, holder id) pair (model.h: rm_attr_is_holder,
 * rm_holder_cmp).  Attributions are unique tuples of more than that
 * (status, country, name, NIR), so one holder may have several.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rirdb.h"

static int run_cmp(const void *x, const void *y, void *arg)
{
	const struct rm_db *db = arg;
	const struct rirdb_asn_run *a = x, *b = y;
	int c = rm_holder_cmp(db, &db->attrs[a->attr], &db->attrs[b->attr]);
	if (c)
		return c;
	return a->first < b->first ? -1 : a->first > b->first;
}

int rirdb_asn_index_build(const struct rm_db *db, struct rirdb_asn_index *x)
{
	x->runs = NULL;
	x->n = 0;
	if (db->asn.n == 0)
		return 0;
	x->runs = malloc(sizeof(*x->runs) * db->asn.n);
	if (!x->runs)
		return -1;
	for (uint32_t i = 0; i < db->asn.n; i++) {
		const struct rm_attr *a = &db->attrs[db->asn.id[i]];
		if (!rm_attr_is_holder(db, a))
			continue;
		uint32_t last = i + 1 < db->asn.n ? db->asn.start[i + 1] - 1 : UINT32_MAX;
		x->runs[x->n++] = (struct rirdb_asn_run){db->asn.id[i], db->asn.start[i], last, 0};
	}
	qsort_r(x->runs, x->n, sizeof(*x->runs), run_cmp, (void *)db);
	for (size_t i = 0, first = 0; i < x->n; i++) {
		if (rm_holder_cmp(db, &db->attrs[x->runs[i].attr], &db->attrs[x->runs[first].attr]))
			first = i;
		x->runs[first].total += (uint64_t)x->runs[i].last - x->runs[i].first + 1;
	}
	return 0;
}

void rirdb_asn_index_free(struct rirdb_asn_index *x)
{
	free(x->runs);
	x->runs = NULL;
	x->n = 0;
}

/* Appends like snprintf at *at, never past len; *at counts what was wanted. */
static void put(char *out, size_t len, size_t *at, const char *fmt, unsigned long long v)
{
	int w = snprintf(*at < len ? out + *at : NULL, *at < len ? len - *at : 0, fmt, v);
	*at += w > 0 ? (size_t)w : 0;
}

void rirdb_holder_asns(const struct rirdb_asn_index *x, const struct rm_db *db,
		       const struct rm_attr *a, char *out, size_t len)
{
	out[0] = '\0';
	if (!rm_attr_is_holder(db, a))
		return;
	/* The first run of the holder: runs are sorted by holder, then number. */
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rm_holder_cmp(db, &db->attrs[x->runs[mid].attr], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t at = 0;
	unsigned shown = 0;
	for (size_t i = lo; i < x->n && shown < RIRDB_HOLDER_ASNS_SHOWN &&
			    !rm_holder_cmp(db, &db->attrs[x->runs[i].attr], a);
	     i++)
		for (uint64_t n = x->runs[i].first;
		     n <= x->runs[i].last && shown < RIRDB_HOLDER_ASNS_SHOWN; n++, shown++)
			put(out, len, &at, shown ? " AS%llu" : "AS%llu", n);
	if (shown && x->runs[lo].total > shown)
		put(out, len, &at, " +%llu more", x->runs[lo].total - shown);
	if (at >= len && len) /* cut: never a half number */
		out[0] = '\0';
}
