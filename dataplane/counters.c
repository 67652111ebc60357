/*
 * counters.c - one lcore's counters: allocation, and the field-by-field
 * sums and differences the main lcore takes of them (counters.h).
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"

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
