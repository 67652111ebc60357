/*
 * geo.c - the located layer: where an address is used and which AS
 * announces it, beside the registry's attribution (model.h struct rm_geo).
 *
 * IPFire's location database lists networks as a tree of CIDR prefixes,
 * each with a country code and an origin AS; a more specific network
 * overrides the one around it (1.0.0.0/8 AU, AS0 around 1.0.0.0/24 AU,
 * AS13335).  Its own "flatten" enumeration took 83 s here; instead the
 * prefixes are sorted (start ascending, the wider first) and swept with a
 * stack of the prefixes open at the current address, which gives every
 * stretch its most specific network in one pass:
 *
 *   1.0.0.0/8 AU 0      stack [/8]          emit 1.0.0.0   -> (AU, 0)
 *   1.0.0.0/24 AU 13335 stack [/8, /24]     emit 1.0.0.0   -> (AU, 13335)
 *   (next prefix past 1.0.0.255)            pop /24, emit 1.0.1.0 -> (AU, 0)
 *
 * Equal (country, AS) pairs share one geo id; id 0 is "nothing known" and
 * covers what no network does.  1.29 million networks of the 2022 Debian
 * database build in about a second.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void rl_add_geo(struct rl_build *b, unsigned family, rm_u128 first, rm_u128 last, const char cc[2],
		uint32_t asn)
{
	RM_GROW_OR_DIE(&b->geo, &b->geo_cap, b->n_geo, 1, 1 << 16);
	struct rl_geo *g = &b->geo[b->n_geo];
	g->first = first;
	g->last = last;
	g->family = family;
	g->seq = b->n_geo++;
	g->cc[0] = cc[0];
	g->cc[1] = cc[1];
	g->asn = asn;
}

static int geo_cmp(const void *pa, const void *pb)
{
	const struct rl_geo *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->last != b->last)
		return a->last > b->last ? -1 : 1; /* the wider first */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Distinct (country, AS) pairs: an open-addressing table of ids + 1. */
struct pairs {
	struct rm_geo *v;
	uint32_t n, cap;
	uint32_t *slot;
	uint32_t slots;
};

static uint32_t pair_hash(const char cc[2], uint32_t asn)
{
	uint64_t h =
	    ((uint64_t)(unsigned char)cc[0] << 40 | (uint64_t)(unsigned char)cc[1] << 32 | asn) *
	    0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static uint32_t pair_id(struct pairs *p, const char cc[2], uint32_t asn)
{
	if (p->n * 2 >= p->slots) {
		uint32_t slots = p->slots ? p->slots * 2 : 1 << 16;
		uint32_t *t = calloc(slots, sizeof(*t));
		if (!t)
			rm_out_of_memory();
		for (uint32_t i = 0; i < p->n; i++) {
			uint32_t j = pair_hash(p->v[i].cc, p->v[i].asn) & (slots - 1);
			while (t[j])
				j = (j + 1) & (slots - 1);
			t[j] = i + 1;
		}
		free(p->slot);
		p->slot = t;
		p->slots = slots;
	}
	uint32_t j = pair_hash(cc, asn) & (p->slots - 1);
	for (; p->slot[j]; j = (j + 1) & (p->slots - 1)) {
		const struct rm_geo *g = &p->v[p->slot[j] - 1];
		if (g->cc[0] == cc[0] && g->cc[1] == cc[1] && g->asn == asn)
			return p->slot[j] - 1;
	}
	RM_GROW_OR_DIE(&p->v, &p->cap, p->n, 1, 1024);
	p->v[p->n] = (struct rm_geo){{cc[0], cc[1]}, 0, asn};
	p->slot[j] = p->n + 1;
	return p->n++;
}

struct out {
	rm_u128 *start;
	uint32_t *id;
	uint32_t n, cap;
};

/* A stretch from start on has geo id: joined with the last when equal,
 * replacing it when it starts at the same address. */
static void emit(struct out *o, rm_u128 start, uint32_t id)
{
	if (o->n && o->start[o->n - 1] == start) {
		o->n--;
		if (o->n && o->id[o->n - 1] == id)
			return;
	}
	if (o->n && o->id[o->n - 1] == id)
		return;
	if (o->n == o->cap) {
		uint32_t c = o->cap;
		RM_GROW_OR_DIE(&o->start, &c, o->n, 1, 4096);
		c = o->cap;
		RM_GROW_OR_DIE(&o->id, &c, o->n, 1, 4096);
		o->cap = c;
	}
	o->start[o->n] = start;
	o->id[o->n] = id;
	o->n++;
}

/* The ranges of one family from its sorted prefixes g[0..n). */
static void sweep(const struct rl_geo *g, uint32_t n, rm_u128 top, struct pairs *p, struct out *o)
{
	uint32_t *stack = malloc((n + 1) * sizeof(*stack)), depth = 0;
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	if (!stack || !ids)
		rm_out_of_memory();
	emit(o, 0, 0);
	for (uint32_t i = 0; i <= n; i++) {
		/* Close the prefixes that end before this one starts (all at the
		 * end); the one under each takes over after it. */
		while (depth && (i == n || g[stack[depth - 1]].last < g[i].first)) {
			rm_u128 end = g[stack[--depth]].last;
			if (end != top)
				emit(o, end + 1, depth ? ids[depth - 1] : 0);
		}
		if (i == n)
			break;
		ids[depth] = pair_id(p, g[i].cc, g[i].asn);
		stack[depth++] = i;
		emit(o, g[i].first, ids[depth - 1]);
	}
	free(stack);
	free(ids);
}

void rl_build_geo(struct rl_build *b)
{
	if (b->n_geo == 0)
		return;
	qsort(b->geo, b->n_geo, sizeof(*b->geo), geo_cmp);
	struct pairs p = {0};
	static const char none[2] = {0, 0};
	pair_id(&p, none, 0); /* id 0: nothing known */
	uint32_t n4 = 0;
	while (n4 < b->n_geo && b->geo[n4].family == RM_V4)
		n4++;
	struct out o4 = {0}, o6 = {0};
	sweep(b->geo, n4, 0xffffffffu, &p, &o4);
	sweep(b->geo + n4, b->n_geo - n4, ~(rm_u128)0, &p, &o6);
	uint32_t *v4 = malloc(((size_t)o4.n + 1) * sizeof(*v4));
	struct rm_key *v6 = malloc(((size_t)o6.n + 1) * sizeof(*v6));
	if (!v4 || !v6)
		rm_out_of_memory();
	for (uint32_t i = 0; i < o4.n; i++)
		v4[i] = (uint32_t)o4.start[i];
	for (uint32_t i = 0; i < o6.n; i++)
		v6[i] = rm_key_make(o6.start[i]);
	free(o4.start);
	free(o6.start);
	free(p.slot);
	rm_model_set_geo(b->model, p.v, p.n, v4, o4.id, o4.n, v6, o6.id, o6.n);
	free(b->geo);
	b->geo = NULL;
	b->n_geo = b->geo_cap = 0;
}
