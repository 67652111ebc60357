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
 * Each source is swept on its own, its layer, and the layers overlaid: the
 * location database gives country and AS, and where a country MMDB has a
 * network its country wins, where an ASN MMDB has one its AS (mmdb.c).
 * Equal (country, AS) pairs share one geo id; id 0 is "nothing known" and
 * covers what no network does.  1.29 million networks of the 2022 Debian
 * database build in about a second.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void rl_add_geo(struct rl_build *b, unsigned layer, unsigned family, rm_u128 first, rm_u128 last,
		const char cc[2], uint32_t asn)
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
	g->layer = layer;
}

static int geo_cmp(const void *pa, const void *pb)
{
	const struct rl_geo *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
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

/* Stretches of the space: from start on, `v` (a claim index, or for the
 * result a geo id; NONE for nothing).  Equal neighbours are joined. */
#define NONE UINT32_MAX
struct segs {
	rm_u128 *start;
	uint32_t *v;
	uint32_t n, cap;
};

static void emit(struct segs *o, rm_u128 start, uint32_t v)
{
	if (o->n && o->start[o->n - 1] == start) {
		o->n--; /* replaced at the same address */
		if (o->n && o->v[o->n - 1] == v)
			return;
	}
	if (o->n && o->v[o->n - 1] == v)
		return;
	if (o->n == o->cap) {
		uint32_t c = o->cap;
		RM_GROW_OR_DIE(&o->start, &c, o->n, 1, 4096);
		c = o->cap;
		RM_GROW_OR_DIE(&o->v, &c, o->n, 1, 4096);
		o->cap = c;
	}
	o->start[o->n] = start;
	o->v[o->n] = v;
	o->n++;
}

/* The most specific of the sorted prefixes g[0..n) at every address. */
static void sweep(const struct rl_geo *g, uint32_t n, rm_u128 top, struct segs *o)
{
	uint32_t *stack = malloc((n + 1) * sizeof(*stack)), depth = 0;
	if (!stack)
		rm_out_of_memory();
	emit(o, 0, NONE);
	for (uint32_t i = 0; i <= n; i++) {
		/* Close the prefixes that end before this one starts (all at the
		 * end); the one under each takes over after it. */
		while (depth && (i == n || g[stack[depth - 1]].last < g[i].first)) {
			rm_u128 end = g[stack[--depth]].last;
			if (end != top)
				emit(o, end + 1, depth ? stack[depth - 1] : NONE);
		}
		if (i == n)
			break;
		stack[depth++] = i;
		emit(o, g[i].first, i);
	}
	free(stack);
}

/*
 * One family: each layer swept, then overlaid.  The location database
 * gives both fields; a country MMDB's country and an ASN MMDB's AS
 * override it where they have a network (a field an MMDB carries wins).
 */
static void family_ranges(const struct rl_geo *g, const uint32_t from[RL_GEO_LAYERS + 1],
			  rm_u128 top, struct pairs *p, struct segs *out)
{
	struct segs l[RL_GEO_LAYERS] = {{0}};
	uint32_t at[RL_GEO_LAYERS] = {0};
	for (int k = 0; k < RL_GEO_LAYERS; k++)
		sweep(g + from[k], from[k + 1] - from[k], top, &l[k]);
	rm_u128 pos = 0;
	for (;;) {
		char cc[2] = {0, 0};
		uint32_t asn = 0;
		for (int k = 0; k < RL_GEO_LAYERS; k++) {
			uint32_t c = l[k].v[at[k]];
			if (c == NONE)
				continue;
			const struct rl_geo *x = &g[from[k] + c];
			if (k != RL_GEO_ASN) {
				cc[0] = x->cc[0];
				cc[1] = x->cc[1];
			}
			if (k != RL_GEO_COUNTRY)
				asn = x->asn;
		}
		emit(out, pos, pair_id(p, cc, asn));
		int more = 0;
		rm_u128 next = 0;
		for (int k = 0; k < RL_GEO_LAYERS; k++)
			if (at[k] + 1 < l[k].n && (!more || l[k].start[at[k] + 1] < next)) {
				next = l[k].start[at[k] + 1];
				more = 1;
			}
		if (!more)
			break;
		pos = next;
		for (int k = 0; k < RL_GEO_LAYERS; k++)
			if (at[k] + 1 < l[k].n && l[k].start[at[k] + 1] == pos)
				at[k]++;
	}
	for (int k = 0; k < RL_GEO_LAYERS; k++) {
		free(l[k].start);
		free(l[k].v);
	}
}

void rl_build_geo(struct rl_build *b)
{
	if (b->n_geo == 0)
		return;
	qsort(b->geo, b->n_geo, sizeof(*b->geo), geo_cmp);
	struct pairs p = {0};
	static const char none[2] = {0, 0};
	pair_id(&p, none, 0); /* id 0: nothing known */
	/* Sorted by family, then layer: each family's claims are one run, and
	 * its layers runs inside it; from[k] is where layer k starts. */
	struct segs o[2] = {{0}};
	uint32_t i = 0;
	for (unsigned f = RM_V4; f <= RM_V6; f++) {
		uint32_t base = i, from[RL_GEO_LAYERS + 1];
		for (unsigned k = 0; k < RL_GEO_LAYERS; k++) {
			from[k] = i - base;
			while (i < b->n_geo && b->geo[i].family == f && b->geo[i].layer == k)
				i++;
		}
		from[RL_GEO_LAYERS] = i - base;
		family_ranges(b->geo + base, from, f == RM_V4 ? 0xffffffffu : ~(rm_u128)0, &p,
			      &o[f]);
	}
	uint32_t *v4 = malloc(((size_t)o[0].n + 1) * sizeof(*v4));
	struct rm_key *v6 = malloc(((size_t)o[1].n + 1) * sizeof(*v6));
	if (!v4 || !v6)
		rm_out_of_memory();
	for (uint32_t j = 0; j < o[0].n; j++)
		v4[j] = (uint32_t)o[0].start[j];
	for (uint32_t j = 0; j < o[1].n; j++)
		v6[j] = rm_key_make(o[1].start[j]);
	free(o[0].start);
	free(o[1].start);
	free(p.slot);
	rm_model_set_geo(b->model, p.v, p.n, v4, o[0].v, o[0].n, v6, o[1].v, o[1].n);
	free(b->geo);
	b->geo = NULL;
	b->n_geo = b->geo_cap = 0;
}
