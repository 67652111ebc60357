/*
 * merge.c - resolve claims into the normalized model.
 *
 * 1. Of several statistics files of one registry only the newest (header
 *    end date, then serial order of the command line) is used; the others
 *    are marked superseded and a notice names both.  A file with records
 *    missing (stats.c: a truncated download) is used only when no
 *    complete file of its registry is given (then marked as such,
 *    RM_USED_RECORDS_MISSING); newer than the one used, it is marked as
 *    set aside for that (RM_RECORDS_MISSING), not superseded.
 * 2. Holder names and NIRs are resolved, one per holder (names.c, which
 *    also reads the RPSL dumps: rpsl.c).
 * 3. Overlaps are audited: within one file they are data errors naming
 *    both lines; between files they are conflicts resolved by precedence
 *    and reported with both sources.
 * 4. A sweep over each family's boundary points keeps the active claims in
 *    a max-heap ordered by (layer, rank, input, line) and emits, for every
 *    stretch between two boundaries, the strongest claim.  Registry layers
 *    and the label layer are swept separately and then overlaid, because a
 *    label keeps the registry's rir, country and status underneath it; NIR
 *    space (NIC.br's blocks) is swept on its own too and overlaid the
 *    same way: it sets the NIR of the LACNIC records underneath.
 * 5. Adjacent stretches with the same attribution and block are joined,
 *    so ranges are maximal and the list covers the space from key 0.
 *
 * Cost: O(n log n) in the number of claims.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *input_name(struct rl_build *b, uint32_t input)
{
	return rm_model_str(b->model, rm_model_input_at(b->model, input)->name);
}

/* ------------------------------------------------------------------ */
/* 1. Newest file of each registry                                     */

static int newer_input(const struct rm_input *a, uint32_t ia, const struct rm_input *b, uint32_t ib)
{
	if (a->end_date != b->end_date)
		return a->end_date > b->end_date;
	return ia > ib;
}

/* Whether input i is a statistics file with records missing (stats.c). */
static int incomplete(const struct rl_build *b, uint32_t i)
{
	for (uint32_t k = 0; k < b->n_incomplete; k++)
		if (b->incomplete[k] == i)
			return 1;
	return 0;
}

/* Whether input i is to be used rather than input best of the same
 * registry: a complete file before one with records missing (a newer
 * truncated download must not replace the last good file), then the
 * newer. */
static int better_input(const struct rl_build *b, const struct rm_db *db, uint32_t i, uint32_t best)
{
	int ci = !incomplete(b, i), cb = !incomplete(b, best);
	if (ci != cb)
		return ci;
	return newer_input(&db->inputs[i], i, &db->inputs[best], best);
}

static void mark_superseded(struct rl_build *b)
{
	struct rm_db db;
	rm_model_view(b->model, &db);
	for (int rir = RM_RIR_AFRINIC; rir < RM_RIR_COUNT; rir++) {
		int best = -1;
		for (uint32_t i = 0; i < db.n_inputs; i++) {
			const struct rm_input *in = &db.inputs[i];
			if (in->kind != RM_IN_STATS || in->rir != (uint32_t)rir)
				continue;
			if (best < 0 || better_input(b, &db, i, (uint32_t)best))
				best = (int)i;
		}
		/* Used with records missing when no complete file of the
		 * registry was given: rirdb info marks it as incomplete. */
		if (best >= 0 && incomplete(b, (uint32_t)best))
			rm_model_input_at(b->model, (uint32_t)best)->unused =
			    RM_USED_RECORDS_MISSING;
		for (uint32_t i = 0; best >= 0 && i < db.n_inputs; i++) {
			struct rm_input *in = rm_model_input_at(b->model, i);
			if (in->kind != RM_IN_STATS || in->rir != (uint32_t)rir ||
			    i == (uint32_t)best)
				continue;
			/* Newer than the file used, it was set aside for its
			 * missing records; rirdb info says which. */
			int newer = newer_input(in, i, &db.inputs[best], (uint32_t)best);
			in->unused = newer ? RM_RECORDS_MISSING : RM_SUPERSEDED;
			if (newer)
				rl_notice(
				    b, input_name(b, i), 0,
				    "not used: records are missing (truncated?); the older "
				    "complete %s file %s is used instead (end date %u, not %u)",
				    rm_rir_name((unsigned)rir), input_name(b, (uint32_t)best),
				    db.inputs[best].end_date, in->end_date);
			else
				rl_notice(
				    b, input_name(b, i), 0,
				    "superseded by the newer %s file %s (end date %u, not %u)",
				    rm_rir_name((unsigned)rir), input_name(b, (uint32_t)best),
				    db.inputs[best].end_date, in->end_date);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Claim order                                                         */

static int stronger(const struct rl_claim *a, const struct rl_claim *b)
{
	if (a->layer != b->layer)
		return a->layer > b->layer;
	if (a->rank != b->rank)
		return a->rank > b->rank;
	if (a->input != b->input)
		return a->input > b->input;
	return a->line > b->line;
}

static struct rl_claim *g_claims; /* for qsort comparators only */

static int extent_cmp(const void *pa, const void *pb)
{
	const struct rl_claim *a = &g_claims[*(const uint32_t *)pa];
	const struct rl_claim *b = &g_claims[*(const uint32_t *)pb];
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->last != b->last)
		return a->last > b->last ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 3. Overlap audit                                                    */

static void report_overlap(struct rl_build *b, const struct rl_claim *x, const struct rl_claim *y)
{
	const struct rl_claim *win = stronger(x, y) ? x : y;
	if (x->input == y->input) {
		rl_data_error(b, input_name(b, x->input), x->line,
			      "overlaps the record at line %u; line %u wins", y->line, win->line);
		return;
	}
	/* The reason stronger() chose: a registry file's end date, or an IANA
	 * row's or label's size (their rank), else only the input order,
	 * which the report must not call newer. */
	const char *why =
	    x->layer == RL_LAYER_DELEGATED
		? (x->rank != y->rank ? "as the newer file" : "as the later input of the same date")
		: (x->rank != y->rank ? "as the smaller range" : "as the later input");
	rl_conflict(b, input_name(b, x->input), x->line, "overlaps %s:%u (%s vs %s); %s:%u wins %s",
		    input_name(b, y->input), y->line, rm_rir_name(x->attr.rir),
		    rm_rir_name(y->attr.rir), input_name(b, win->input), win->line, why);
}

/*
 * Registry records must not overlap at all.  IANA rows (designations and
 * special-purpose rows alike) and labels may nest (IANA lists 3ffe::/16
 * inside 3000::/4; the most specific wins), but must neither repeat an
 * extent nor overlap without nesting (AS ranges can): there the winner
 * would be chosen by position, not by being the more specific.  idx is
 * sorted by extent (first up, then last down).
 *
 * Each claim is checked against every earlier claim still open at its
 * start, not only the widest: two registry records nested in a third
 * overlap each other too, and which of them wins there must be reported
 * as well.  The open list is long only where claims overlap or nest, and
 * it holds at most OPEN_MAX of them, those that reach farthest: a file
 * that repeats one line 100,000 times (a broken download) would otherwise
 * cost 5 * 10^9 comparisons and as many reports.  Past OPEN_MAX claims
 * open at once, a claim is still reported against OPEN_MAX others, and
 * the pairs among the rest go unlisted (the build has failed on the first
 * of them already, or counted it under --lenient).
 */
#define OPEN_MAX 64

static void audit_overlaps(struct rl_build *b, const uint32_t *idx, uint32_t n, unsigned layer)
{
	uint32_t open[OPEN_MAX], n_open = 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct rl_claim *c = &b->claims[idx[k]];
		if (c->layer != layer)
			continue;
		uint32_t kept = 0;
		for (uint32_t j = 0; j < n_open; j++) {
			const struct rl_claim *w = &b->claims[open[j]];
			if (w->last < c->first)
				continue; /* ended before c: closed for good */
			/* w starts no later than c: c nests in w unless it ends past
			 * w, or has w's very extent. */
			if (layer == RL_LAYER_DELEGATED || c->last > w->last ||
			    (c->first == w->first && c->last == w->last))
				report_overlap(b, c, w);
			open[kept++] = open[j];
		}
		if (kept < OPEN_MAX) {
			open[kept++] = idx[k];
		} else { /* full: c replaces the claim that ends first, if c ends later */
			uint32_t first_end = 0;
			for (uint32_t j = 1; j < kept; j++)
				if (b->claims[open[j]].last < b->claims[open[first_end]].last)
					first_end = j;
			if (c->last > b->claims[open[first_end]].last)
				open[first_end] = idx[k];
		}
		n_open = kept;
	}
}

/* ------------------------------------------------------------------ */
/* 4. Sweep                                                            */

struct event {
	rm_u128 pos;
	uint32_t claim;
	uint32_t open;
};

struct segment {
	rm_u128 start;
	int64_t claim; /* -1: nothing */
};

struct seglist {
	struct segment *s;
	uint32_t n, cap;
};

static int event_cmp(const void *pa, const void *pb)
{
	const struct event *a = pa, *b = pb;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return 0;
}

static void seg_push(struct seglist *l, rm_u128 start, int64_t claim)
{
	if (l->n && l->s[l->n - 1].claim == claim)
		return;
	if (l->n && l->s[l->n - 1].start == start) {
		l->n--; /* replaced at the same point */
		seg_push(l, start, claim);
		return;
	}
	/* Aborts on out of memory like the rest of the merge, which builds the
	 * model and has no error path for it (common/grow.h). */
	RM_GROW_OR_DIE(&l->s, &l->cap, l->n, 1, 1024);
	l->s[l->n].start = start;
	l->s[l->n].claim = claim;
	l->n++;
}

struct heap {
	uint32_t *v;
	uint32_t n;
	const struct rl_claim *claims;
};

static void heap_push(struct heap *h, uint32_t c)
{
	uint32_t i = h->n++;
	h->v[i] = c;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!stronger(&h->claims[h->v[i]], &h->claims[h->v[p]]))
			break;
		uint32_t t = h->v[i];
		h->v[i] = h->v[p];
		h->v[p] = t;
		i = p;
	}
}

static void heap_pop(struct heap *h)
{
	h->v[0] = h->v[--h->n];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && stronger(&h->claims[h->v[l]], &h->claims[h->v[m]]))
			m = l;
		if (r < h->n && stronger(&h->claims[h->v[r]], &h->claims[h->v[m]]))
			m = r;
		if (m == i)
			return;
		uint32_t t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

static rm_u128 family_max(unsigned family)
{
	return family == RM_V6 ? ~(rm_u128)0 : 0xffffffffu;
}

/* Strongest claim for every stretch of the space, claims given by idx. */
static void sweep(struct rl_build *b, const uint32_t *idx, uint32_t n, unsigned family,
		  struct seglist *out)
{
	struct event *ev = malloc((2 * (size_t)n + 1) * sizeof(*ev));
	uint8_t *active = calloc(b->n_claims + 1, 1);
	struct heap h = {malloc(((size_t)n + 1) * sizeof(uint32_t)), 0, b->claims};
	if (!ev || !active || !h.v)
		abort();
	size_t ne = 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct rl_claim *c = &b->claims[idx[k]];
		ev[ne++] = (struct event){c->first, idx[k], 1};
		if (c->last != family_max(family))
			ev[ne++] = (struct event){c->last + 1, idx[k], 0};
	}
	qsort(ev, ne, sizeof(*ev), event_cmp);
	seg_push(out, 0, -1);
	for (size_t i = 0; i < ne;) {
		rm_u128 pos = ev[i].pos;
		for (; i < ne && ev[i].pos == pos; i++) {
			active[ev[i].claim] = (uint8_t)ev[i].open;
			if (ev[i].open)
				heap_push(&h, ev[i].claim);
		}
		while (h.n && !active[h.v[0]])
			heap_pop(&h);
		seg_push(out, pos, h.n ? (int64_t)h.v[0] : -1);
	}
	free(ev);
	free(active);
	free(h.v);
}

/* ------------------------------------------------------------------ */
/* 5. Overlay and emit                                                 */

static uint32_t claim_block(struct rl_build *b, struct rl_claim *c)
{
	if (c->block == RM_NO_BLOCK) {
		struct rm_block blk = {.first = rm_key_make(c->first),
				       .last = rm_key_make(c->last),
				       .input = c->input,
				       .line = c->line,
				       .date = c->date,
				       .family = c->family};
		c->block = rm_model_block(b->model, &blk);
	}
	return c->block;
}

struct emitter {
	struct rl_build *b;
	unsigned family;
	int have;
	uint32_t id, block;
};

enum { OV_REG, OV_NIR, OV_LABEL, OV_LISTS };

static void emit(struct emitter *e, rm_u128 pos, const int64_t claim[OV_LISTS])
{
	struct rl_build *b = e->b;
	struct rm_attr a = {0};
	uint32_t block = RM_NO_BLOCK;
	int64_t reg = claim[OV_REG], nir = claim[OV_NIR], label = claim[OV_LABEL];
	if (reg >= 0) {
		a = b->claims[reg].attr;
		block = claim_block(b, &b->claims[reg]);
		/* NIR space sets the NIR of its registry's records, nothing
		 * else: the block stays the registry record's. */
		if (nir >= 0 && b->claims[reg].layer == RL_LAYER_DELEGATED &&
		    b->claims[reg].attr.rir == b->claims[nir].attr.rir)
			a.nir = b->claims[nir].attr.nir;
	}
	if (label >= 0) {
		/* A label keeps the registry's rir, country, status and NIR. */
		a.holder_id = b->claims[label].attr.holder_id;
		a.holder_name = 0;
		a.name_source = RM_NAME_NONE;
		block = claim_block(b, &b->claims[label]);
	}
	uint32_t id = rm_model_attr(b->model, &a);
	if (e->have && id == e->id && block == e->block)
		return;
	rm_model_add_range(b->model, e->family, pos, id, block);
	e->have = 1;
	e->id = id;
	e->block = block;
}

/* Every stretch where none of the lists changes, emitted once. */
static void overlay(struct rl_build *b, unsigned family, const struct seglist *lists[OV_LISTS])
{
	struct emitter e = {.b = b, .family = family};
	uint32_t at[OV_LISTS] = {0};
	rm_u128 pos = 0;
	for (;;) {
		int64_t claim[OV_LISTS];
		for (int k = 0; k < OV_LISTS; k++)
			claim[k] = lists[k]->s[at[k]].claim;
		emit(&e, pos, claim);
		int more = 0;
		rm_u128 next = 0;
		for (int k = 0; k < OV_LISTS; k++) {
			if (at[k] + 1 >= lists[k]->n)
				continue;
			rm_u128 start = lists[k]->s[at[k] + 1].start;
			if (!more || start < next)
				next = start;
			more = 1;
		}
		if (!more)
			return;
		pos = next;
		for (int k = 0; k < OV_LISTS; k++)
			if (at[k] + 1 < lists[k]->n && lists[k]->s[at[k] + 1].start == pos)
				at[k]++;
	}
}

static int resolve_family(struct rl_build *b, unsigned family)
{
	/* Claims by overlay list: registry layers, NIR space, labels. */
	uint32_t *idx[OV_LISTS], n[OV_LISTS] = {0};
	for (int k = 0; k < OV_LISTS; k++) {
		idx[k] = malloc(((size_t)b->n_claims + 1) * sizeof(uint32_t));
		if (!idx[k])
			abort();
	}
	for (uint32_t i = 0; i < b->n_claims; i++) {
		const struct rl_claim *c = &b->claims[i];
		if (c->family != family)
			continue;
		if (c->layer == RL_LAYER_DELEGATED &&
		    !rm_input_used(rm_model_input_at(b->model, c->input)))
			continue;
		int k = c->layer == RL_LAYER_LABEL ? OV_LABEL
			: c->layer == RL_LAYER_NIR ? OV_NIR
						   : OV_REG;
		idx[k][n[k]++] = i;
	}
	g_claims = b->claims;
	for (int k = 0; k < OV_LISTS; k++)
		qsort(idx[k], n[k], sizeof(uint32_t), extent_cmp);
	audit_overlaps(b, idx[OV_REG], n[OV_REG], RL_LAYER_IANA);
	audit_overlaps(b, idx[OV_REG], n[OV_REG], RL_LAYER_SPECIAL);
	audit_overlaps(b, idx[OV_REG], n[OV_REG], RL_LAYER_DELEGATED);
	audit_overlaps(b, idx[OV_LABEL], n[OV_LABEL], RL_LAYER_LABEL);

	struct seglist segs[OV_LISTS] = {{0}};
	const struct seglist *lists[OV_LISTS];
	for (int k = 0; k < OV_LISTS; k++) {
		sweep(b, idx[k], n[k], family, &segs[k]);
		lists[k] = &segs[k];
	}
	overlay(b, family, lists);
	for (int k = 0; k < OV_LISTS; k++) {
		free(segs[k].s);
		free(idx[k]);
	}
	return 0;
}

int rl_merge(struct rl_build *b)
{
	mark_superseded(b);
	for (uint32_t i = 0; i < b->n_claims; i++) {
		struct rl_claim *c = &b->claims[i];
		if (c->layer == RL_LAYER_DELEGATED)
			c->rank = rm_model_input_at(b->model, c->input)->end_date;
	}
	rl_resolve_names(b);
	for (unsigned f = 0; f < RM_FAMILY_COUNT; f++)
		if (resolve_family(b, f))
			return -1;
	return 0;
}
