/*
 * names.c - one name per holder, and each holder's NIR.
 *
 * A holder is a (registry, holder id) of the delegated records in use.
 * Names are offered to holders from several sources (internal.h struct
 * rl_name); the strongest source wins, and a name found for any record of
 * a holder names all of its records, addresses and AS numbers alike:
 *
 *   strength  source
 *   1         the operator's CSV (registry,holder_id,name)
 *   2         RPSL org-name / owner (rpsl.c), NIC.br's name (asnames.c)
 *   3         the name of the holder's lowest-numbered AS that has one
 *             (RIPE's asn.txt, IPFire's location.db; of two AS-name
 *             inputs naming one AS, the first given wins)
 *
 * Two different names of the same strength for one holder are a conflict,
 * reported with both sources; the first in input order (command line,
 * then line) is kept, so a build does not depend on the order offers are
 * met in.  Records without a holder id (the standard statistics files)
 * have no holder to name: a name is never keyed on a block alone, since
 * the key of a holder's counters must stay its stable id.
 *
 * NIRs: a holder whose (registry, id) is a NIR's account id (APNIC lists
 * NIR-administered space under the NIR's own account; data/nir-ids.csv)
 * gets that NIR on all its records.  NIC.br's blocks are not holders but
 * space: merge.c overlays them like labels.
 *
 * Worked example (the AFRINIC extended file, location.db given):
 *   afrinic|ZA|asn|3741|1|...|allocated|F36C9D8E
 *   afrinic|ZA|ipv4|196.4.0.0|...|allocated|F36C9D8E
 *   location.db: AS3741 "Internet Solutions"
 * -> holder afrinic:F36C9D8E is named "Internet Solutions" (source
 *    asname), on 196.4.0.0 and on AS3741, unless an RPSL object on either
 *    block names it first.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Delegated claims by exact range                                     */

static const struct rl_claim *g_claims; /* for qsort comparators only */

static int range_cmp(const void *pa, const void *pb)
{
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct rl_claim *a = &g_claims[ia], *b = &g_claims[ib];
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->last != b->last)
		return a->last < b->last ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* A delegated claim in use that has a holder to name. */
static int holds(struct rl_build *b, const struct rl_claim *c)
{
	return c->layer == RL_LAYER_DELEGATED && c->attr.holder_id != 0 &&
	       rm_input_used(rm_model_input_at(b->model, c->input));
}

void rl_range_index_build(struct rl_build *b)
{
	free(b->range_index);
	b->range_index = malloc(((size_t)b->n_claims + 1) * sizeof(uint32_t));
	if (!b->range_index)
		rm_out_of_memory();
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->n_claims; i++)
		if (holds(b, &b->claims[i]))
			b->range_index[n++] = i;
	g_claims = b->claims;
	qsort(b->range_index, n, sizeof(uint32_t), range_cmp);
	b->n_range_index = n;
	b->range_index_built = 1;
}

int rl_range_find(const struct rl_build *b, unsigned family, rm_u128 first, rm_u128 last,
		  uint32_t *pos)
{
	uint32_t lo = 0, hi = b->n_range_index;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct rl_claim *c = &b->claims[b->range_index[mid]];
		int less = c->family != family ? c->family < family
			   : c->first != first ? c->first < first
					       : c->last < last;
		if (less)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == b->n_range_index)
		return 0;
	const struct rl_claim *c = &b->claims[b->range_index[lo]];
	*pos = lo;
	return c->family == family && c->first == first && c->last == last;
}

/* ------------------------------------------------------------------ */
/* Holders                                                             */

struct holder {
	uint32_t rir, id;
	uint32_t name, source, input, line; /* best offer so far; source 0: none */
	uint32_t asn, asn_name;		    /* lowest named AS, its name; asn_name 0: none */
	uint32_t nir, nir_input, nir_line;
	uint32_t model_name; /* the chosen name interned in the model */
};

struct holders {
	struct holder *h;
	uint32_t n;
};

static int holder_cmp(const void *pa, const void *pb)
{
	const struct holder *a = pa, *b = pb;
	if (a->rir != b->rir)
		return a->rir < b->rir ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static struct holder *find_holder(const struct holders *hs, uint32_t rir, uint32_t id)
{
	struct holder key = {.rir = rir, .id = id};
	return bsearch(&key, hs->h, hs->n, sizeof(*hs->h), holder_cmp);
}

static void collect_holders(struct rl_build *b, struct holders *hs)
{
	hs->h = calloc((size_t)b->n_claims + 1, sizeof(*hs->h));
	if (!hs->h)
		rm_out_of_memory();
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->n_claims; i++) {
		const struct rl_claim *c = &b->claims[i];
		if (holds(b, c))
			hs->h[n++] = (struct holder){.rir = c->attr.rir, .id = c->attr.holder_id};
	}
	qsort(hs->h, n, sizeof(*hs->h), holder_cmp);
	uint32_t u = 0;
	for (uint32_t i = 0; i < n; i++)
		if (u == 0 || holder_cmp(&hs->h[u - 1], &hs->h[i]) != 0)
			hs->h[u++] = hs->h[i];
	hs->n = u;
}

static const char *input_name(struct rl_build *b, uint32_t input)
{
	return rm_model_str(b->model, rm_model_input_at(b->model, input)->name);
}

/* RPSL and NIC.br names are of one strength. */
static unsigned strength(uint32_t source)
{
	return source == RM_NAME_NICBR ? RM_NAME_RPSL : source;
}

static int earlier(uint32_t in_a, uint32_t line_a, uint32_t in_b, uint32_t line_b)
{
	return in_a != in_b ? in_a < in_b : line_a < line_b;
}

static void offer(struct rl_build *b, struct holder *h, const struct rl_name *n)
{
	const char *new_name = rl_pool_str(&b->pool, n->name);
	if (h->source && strength(h->source) < strength(n->source))
		return;
	if (h->source && strength(h->source) == strength(n->source)) {
		const char *old_name = rl_pool_str(&b->pool, h->name);
		int first_new = earlier(n->input, n->line, h->input, h->line);
		if (strcmp(old_name, new_name) != 0) {
			uint32_t li = first_new ? h->input : n->input;
			uint32_t ll = first_new ? h->line : n->line;
			uint32_t fi = first_new ? n->input : h->input;
			uint32_t fl = first_new ? n->line : h->line;
			rl_conflict(b, input_name(b, li), ll,
				    "holder '%s:%s' named '%s' here and '%s' at %s:%u; the first "
				    "in input order is kept",
				    rm_rir_name(h->rir), rm_model_str(b->model, h->id),
				    first_new ? old_name : new_name,
				    first_new ? new_name : old_name, input_name(b, fi), fl);
		}
		if (!first_new)
			return;
	}
	h->name = n->name;
	h->source = n->source;
	h->input = n->input;
	h->line = n->line;
}

static void offer_by_id(struct rl_build *b, struct holders *hs, const struct rl_name *n)
{
	for (uint32_t rir = RM_RIR_AFRINIC; rir < RM_RIR_COUNT; rir++) {
		if (n->rir != RM_RIR_UNKNOWN && n->rir != rir)
			continue;
		struct holder *h = find_holder(hs, rir, n->id);
		if (h)
			offer(b, h, n);
	}
}

static void offer_by_range(struct rl_build *b, struct holders *hs, const struct rl_name *n)
{
	uint32_t pos;
	if (!rl_range_find(b, n->family, n->first, n->last, &pos))
		return;
	for (; pos < b->n_range_index; pos++) {
		const struct rl_claim *c = &b->claims[b->range_index[pos]];
		if (c->family != n->family || c->first != n->first || c->last != n->last)
			break;
		struct holder *h = find_holder(hs, c->attr.rir, c->attr.holder_id);
		if (h)
			offer(b, h, n);
	}
}

/* ------------------------------------------------------------------ */
/* AS names                                                            */

static int asname_cmp(const void *pa, const void *pb)
{
	const struct rl_asname *a = pa, *b = pb;
	if (a->asn != b->asn)
		return a->asn < b->asn ? -1 : 1;
	if (a->input != b->input)
		return a->input < b->input ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Sorted by AS number, one entry each: the first input's. */
static void sort_asnames(struct rl_build *b)
{
	qsort(b->asnames, b->n_asnames, sizeof(*b->asnames), asname_cmp);
	uint32_t u = 0;
	for (uint32_t i = 0; i < b->n_asnames; i++)
		if (u == 0 || b->asnames[u - 1].asn != b->asnames[i].asn)
			b->asnames[u++] = b->asnames[i];
	b->n_asnames = u;
}

/* The lowest named AS in [first, last], or NULL. */
static const struct rl_asname *lowest_named(const struct rl_build *b, uint32_t first, uint32_t last)
{
	uint32_t lo = 0, hi = b->n_asnames;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (b->asnames[mid].asn < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n_asnames && b->asnames[lo].asn <= last ? &b->asnames[lo] : NULL;
}

static void as_names(struct rl_build *b, struct holders *hs)
{
	if (b->n_asnames == 0)
		return;
	sort_asnames(b);
	for (uint32_t i = 0; i < b->n_claims; i++) {
		const struct rl_claim *c = &b->claims[i];
		if (c->family != RM_ASN || !holds(b, c))
			continue;
		const struct rl_asname *a = lowest_named(b, (uint32_t)c->first, (uint32_t)c->last);
		struct holder *h = find_holder(hs, c->attr.rir, c->attr.holder_id);
		if (a && h && (h->asn_name == 0 || a->asn < h->asn)) {
			h->asn = a->asn;
			h->asn_name = a->name;
		}
	}
	for (uint32_t i = 0; i < hs->n; i++) {
		struct holder *h = &hs->h[i];
		if (h->asn_name && !h->source) {
			h->name = h->asn_name;
			h->source = RM_NAME_ASNAME;
		}
	}
}

/* ------------------------------------------------------------------ */

static void nir_ids(struct rl_build *b, struct holders *hs)
{
	for (uint32_t i = 0; i < b->n_nir_ids; i++) {
		const struct rl_nir_id *n = &b->nir_ids[i];
		struct holder *h = find_holder(hs, n->rir, n->id);
		if (!h)
			continue;
		if (h->nir && h->nir != n->nir) {
			rl_conflict(b, input_name(b, n->input), n->line,
				    "account '%s:%s' is also %s's at %s:%u; the first is kept",
				    rm_rir_name(n->rir), rm_model_str(b->model, n->id),
				    rm_nir_name(h->nir), input_name(b, h->nir_input), h->nir_line);
			continue;
		}
		if (!h->nir) {
			h->nir = n->nir;
			h->nir_input = n->input;
			h->nir_line = n->line;
		}
	}
}

void rl_resolve_names(struct rl_build *b)
{
	if (!b->range_index_built)
		rl_range_index_build(b);
	rl_rpsl_join(b);
	struct holders hs;
	collect_holders(b, &hs);
	for (uint32_t i = 0; i < b->n_names; i++) {
		const struct rl_name *n = &b->names[i];
		if (n->key_kind == RL_BY_ID)
			offer_by_id(b, &hs, n);
		else
			offer_by_range(b, &hs, n);
	}
	as_names(b, &hs);
	nir_ids(b, &hs);
	for (uint32_t i = 0; i < b->n_claims; i++) {
		struct rl_claim *c = &b->claims[i];
		if (!holds(b, c))
			continue;
		struct holder *h = find_holder(&hs, c->attr.rir, c->attr.holder_id);
		if (!h)
			continue;
		if (h->source && !h->model_name) {
			const char *s = rl_pool_str(&b->pool, h->name);
			h->model_name = rl_intern(b, s, strlen(s));
		}
		c->attr.holder_name = h->source ? h->model_name : 0;
		c->attr.name_source = (uint8_t)h->source;
		c->attr.nir = (uint8_t)h->nir;
	}
	free(hs.h);
}
