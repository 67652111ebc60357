/*
 * counters.c - one lcore's counters: allocation, and the field-by-field
 * sums and differences the main lcore takes of them (counters.h).
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"

static bool with_inner;

void rm_counters_layers(bool inner)
{
	with_inner = inner;
}

int rm_counters_init(struct rm_counters *c, uint32_t n_ids)
{
	memset(c, 0, sizeof(*c));
	c->n_ids = n_ids;
	for (int d = 0; d < RM_DIRS; d++) {
		c->by_id[d] = calloc(n_ids, sizeof(struct rm_cell));
		c->inner_by_id[d] = with_inner ? calloc(n_ids, sizeof(struct rm_cell)) : NULL;
		if (!c->by_id[d] || (with_inner && !c->inner_by_id[d])) {
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
		c->by_id[d] = c->inner_by_id[d] = NULL;
	}
}

/* The per-id arrays of c: by_id, then inner_by_id when there are inner scopes. */
static struct rm_cell *ids_of(const struct rm_counters *c, int k)
{
	return k < RM_DIRS ? c->by_id[k] : c->inner_by_id[k - RM_DIRS];
}

static int n_arrays(const struct rm_counters *c)
{
	return c->inner_by_id[0] ? 2 * RM_DIRS : RM_DIRS;
}

void rm_counters_zero(struct rm_counters *c)
{
	memset(&c->received, 0, offsetof(struct rm_counters, by_id));
	for (int k = 0; k < n_arrays(c); k++)
		memset(ids_of(c, k), 0, c->n_ids * sizeof(struct rm_cell));
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
	for (int k = 0; k < n_arrays(dst); k++) {
		const volatile struct rm_cell *sc = ids_of(src, k);
		struct rm_cell *dc = ids_of(dst, k);
		for (uint32_t i = 0; i < dst->n_ids; i++) {
			dc[i].pkts += sc[i].pkts;
			dc[i].bytes += sc[i].bytes;
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
	for (int k = 0; k < n_arrays(d); k++) {
		struct rm_cell *oc = ids_of(d, k);
		const struct rm_cell *xc = ids_of(a, k), *yc = ids_of(b, k);
		for (uint32_t i = 0; i < d->n_ids; i++) {
			oc[i].pkts = xc[i].pkts - yc[i].pkts;
			oc[i].bytes = xc[i].bytes - yc[i].bytes;
		}
	}
}
