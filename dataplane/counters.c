/*
 * counters.c - one lcore's counters: allocation, and the field-by-field
 * sums and differences the main lcore takes of them (counters.h).
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"

static bool with_inner, with_record_as;

void rm_counters_layers(bool inner)
{
	with_inner = inner;
}

void rm_counters_record_as(bool on)
{
	with_record_as = on;
}

/* An AS table for max numbers (at most half its slots). */
static struct rm_as_cells *as_cells_new(uint32_t max)
{
	uint32_t bits = 1;
	while ((1u << bits) < 2 * max)
		bits++;
	struct rm_as_cells *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct rm_as_cells){.mask = (1u << bits) - 1, .shift = 32 - bits, .max = max};
	t->asn = calloc((size_t)1 << bits, sizeof(*t->asn));
	t->cell = calloc((size_t)1 << bits, sizeof(*t->cell));
	if (!t->asn || !t->cell) {
		free(t->asn);
		free(t->cell);
		free(t);
		return NULL;
	}
	return t;
}

static void as_cells_free(struct rm_as_cells *t)
{
	if (t) {
		free(t->asn);
		free(t->cell);
		free(t);
	}
}

static void as_cells_zero(struct rm_as_cells *t)
{
	memset(t->asn, 0, ((size_t)t->mask + 1) * sizeof(*t->asn));
	memset(t->cell, 0, ((size_t)t->mask + 1) * sizeof(*t->cell));
	t->n = 0;
}

int rm_counters_init(struct rm_counters *c, uint32_t n_ids, uint32_t n_loc, unsigned sums)
{
	memset(c, 0, sizeof(*c));
	c->n_ids = n_ids;
	c->n_loc = n_loc;
	bool rec = n_loc && with_record_as;
	for (int d = 0; d < RM_DIRS; d++) {
		c->by_id[d] = calloc(n_ids, sizeof(struct rm_cell));
		c->inner_by_id[d] = with_inner ? calloc(n_ids, sizeof(struct rm_cell)) : NULL;
		c->by_loc[d] = n_loc ? calloc(n_loc, sizeof(struct rm_cell)) : NULL;
		c->by_loc_rec[d] = rec ? calloc(n_loc, sizeof(struct rm_cell)) : NULL;
		c->rec_as[d] = rec ? as_cells_new(RM_AS_CELLS_MAX * (sums ? sums : 1)) : NULL;
		if (!c->by_id[d] || (with_inner && !c->inner_by_id[d]) ||
		    (n_loc && !c->by_loc[d]) || (rec && (!c->by_loc_rec[d] || !c->rec_as[d]))) {
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
		free(c->inner_by_id[d]);
		free(c->by_loc[d]);
		free(c->by_loc_rec[d]);
		as_cells_free(c->rec_as[d]);
		c->by_id[d] = c->inner_by_id[d] = c->by_loc[d] = c->by_loc_rec[d] = NULL;
		c->rec_as[d] = NULL;
	}
}

/* The cell arrays of c, k from 0 while *n is set: by_id, inner_by_id,
 * by_loc, by_loc_rec, those present.  NULL past the last. */
static struct rm_cell *array_of(const struct rm_counters *c, int k, uint32_t *n)
{
	struct rm_cell *const *lists[] = {c->by_id, c->inner_by_id, c->by_loc, c->by_loc_rec};
	const uint32_t sizes[] = {c->n_ids, c->n_ids, c->n_loc, c->n_loc};
	for (int l = 0; l < 4; l++)
		for (int d = 0; d < RM_DIRS; d++)
			if (lists[l][d] && k-- == 0) {
				*n = sizes[l];
				return lists[l][d];
			}
	return NULL;
}

void rm_counters_zero(struct rm_counters *c)
{
	memset(&c->received, 0, offsetof(struct rm_counters, by_id));
	uint32_t n;
	struct rm_cell *a;
	for (int k = 0; (a = array_of(c, k, &n)); k++)
		memset(a, 0, n * sizeof(*a));
	for (int d = 0; d < RM_DIRS; d++)
		if (c->rec_as[d])
			as_cells_zero(c->rec_as[d]);
}

/* t's cell of asn, when t has one or can add it; else the owner's full
 * cell. */
static struct rm_cell *as_cell_or_full(struct rm_counters *c, int d, uint32_t asn)
{
	struct rm_cell *cell = rm_as_cell(c->rec_as[d], asn);
	return cell ? cell : &c->rec_as_full[d];
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
	uint32_t n;
	struct rm_cell *dc;
	for (int k = 0; (dc = array_of(dst, k, &n)); k++) {
		const volatile struct rm_cell *sc = array_of(src, k, &n);
		for (uint32_t i = 0; i < n; i++) {
			dc[i].pkts += sc[i].pkts;
			dc[i].bytes += sc[i].bytes;
		}
	}
	for (int dir = 0; dir < RM_DIRS; dir++) {
		const struct rm_as_cells *t = src->rec_as[dir];
		const volatile uint32_t *asns = t ? t->asn : NULL;
		const volatile struct rm_cell *cells = t ? t->cell : NULL;
		for (uint32_t i = 0; t && i <= t->mask; i++) {
			uint32_t asn = asns[i];
			if (!asn)
				continue;
			struct rm_cell *cell = as_cell_or_full(dst, dir, asn);
			cell->pkts += cells[i].pkts;
			cell->bytes += cells[i].bytes;
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
	uint32_t n;
	struct rm_cell *oc;
	for (int k = 0; (oc = array_of(d, k, &n)); k++) {
		const struct rm_cell *xc = array_of(a, k, &n), *yc = array_of(b, k, &n);
		for (uint32_t i = 0; i < n; i++) {
			oc[i].pkts = xc[i].pkts - yc[i].pkts;
			oc[i].bytes = xc[i].bytes - yc[i].bytes;
		}
	}
	/* By AS: a number of b (an earlier reading of the same counters) is
	 * in a too, at the same count or more, since a reading's table
	 * never fills (counters.h); the numbers new since count from 0. */
	for (int dir = 0; dir < RM_DIRS; dir++) {
		if (!d->rec_as[dir])
			continue;
		as_cells_zero(d->rec_as[dir]);
		const struct rm_as_cells *now = a->rec_as[dir];
		for (uint32_t i = 0; i <= now->mask; i++) {
			if (!now->asn[i])
				continue;
			struct rm_cell was = {0}, *to = as_cell_or_full(d, dir, now->asn[i]);
			const struct rm_cell *before = rm_as_find(b->rec_as[dir], now->asn[i]);
			if (before)
				was = *before;
			to->pkts += now->cell[i].pkts - was.pkts;
			to->bytes += now->cell[i].bytes - was.bytes;
		}
	}
}
