/*
 * gen.c - one snapshot generation: the mapped snapshot, what a worker
 * reads of it, and one counter block per worker (gen.h).
 *
 * DPDK-free, so that the live dataplane (dataplane/dpdk/reload.c swaps
 * generations under RCU) and the capture reader (batch.c, one generation
 * for the whole run) share it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gen.h"
#include "snapshot.h"

static void describe_inputs(const struct rm_db *db, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < db->n_inputs && n + 1 < len; i++) {
		const struct rm_input *in = &db->inputs[i];
		if (in->kind != RM_IN_STATS || !rm_input_used(in))
			continue;
		int w = snprintf(out + n, len - n, "%s%s:%s", n ? "," : "", rm_rir_name(in->rir),
				 rm_str(db, in->serial));
		if (w < 0 || (size_t)w >= len - n) {
			/* snprintf wrote what fit: a cut serial would read as
			 * another one, so the entry goes whole or not at all. */
			out[n] = '\0';
			break;
		}
		n += (size_t)w;
	}
}

/* The NAT64 prefixes every generation attributes through (--nat64). */
static const struct rm_transition *transition;

void rm_gen_transition(const struct rm_transition *t)
{
	transition = t;
}

static bool located = true;

void rm_gen_located(bool on)
{
	located = on;
}

struct rm_gen *rm_gen_open(const char *path, unsigned n_workers, unsigned snap_flags, char *err,
			   size_t errlen)
{
	struct rm_gen *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	g->snap = rm_snapshot_open_flags(path, snap_flags, err, errlen);
	if (!g->snap) {
		free(g);
		return NULL;
	}
	const struct rm_db *db = rm_snapshot_db(g->snap);
	/* The located layer's tables: built before the counters, which are
	 * sized by its ids.  A few hundred ms for the full location.db, on
	 * the main lcore while the previous generation still counts. */
	char why[256]; /* a reason, given here with the file it is about */
	if (located && rm_geo_lookup_build(&g->geo, db, RM_SIMD_BEST, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		rm_snapshot_close(g->snap);
		free(g);
		return NULL;
	}
	g->n_workers = n_workers;
	g->counters = calloc(n_workers ? n_workers : 1, sizeof(*g->counters));
	uint32_t n_loc = g->geo.n_loc;
	int bad = !g->counters || rm_reporter_init(&g->rep, db) ||
		  rm_reporter_located(&g->rep, &g->geo) || rm_ipfix_ends_init(&g->ends, db) ||
		  rm_counters_init(&g->prev, db->n_attrs, n_loc, n_workers) ||
		  rm_counters_init(&g->cum, db->n_attrs, n_loc, n_workers) ||
		  rm_counters_init(&g->delta, db->n_attrs, n_loc, n_workers);
	for (unsigned w = 0; !bad && w < n_workers; w++)
		bad = rm_counters_init(&g->counters[w], db->n_attrs, n_loc, 1);
	if (bad) {
		snprintf(err, errlen, "%s: out of memory for a snapshot generation", path);
		rm_gen_free(g);
		return NULL;
	}
	snprintf(g->id, sizeof(g->id), "%08x", rm_snapshot_crc(g->snap));
	describe_inputs(db, g->inputs, sizeof(g->inputs));
	g->view = (struct rm_gen_view){
	    .rir_of = g->rep.rir_of, .counters = g->counters, .ends = &g->ends};
	/* RM_SIMD_BEST always binds: scalar variants run on any CPU. */
	rm_lookup_bind(&g->view.lookup, g->snap, RM_SIMD_BEST);
	if (g->geo.loc) {
		g->view.located = (struct rm_lookup){.db = db,
						     .dir24 = &g->geo.dir24.t,
						     .trie6 = &g->geo.trie6.t,
						     .v4 = g->geo.v4,
						     .v6 = g->geo.v6};
		g->view.pair6 = &g->geo.pair6;
	}
	/* --nat64's prefixes (or the well-known ones), then the snapshot's. */
	if (transition)
		g->transition = *transition;
	else
		rm_transition_init(&g->transition);
	if (rm_transition_add_db(&g->transition, db, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		rm_gen_free(g);
		return NULL;
	}
	if (rm_via_map_init(&g->view.via, &g->view.lookup, &g->transition)) {
		snprintf(err, errlen, "%s: out of memory for a snapshot generation", path);
		rm_gen_free(g);
		return NULL;
	}
	return g;
}

void rm_gen_free(struct rm_gen *g)
{
	if (!g)
		return;
	for (unsigned w = 0; g->counters && w < g->n_workers; w++)
		rm_counters_free(&g->counters[w]);
	free(g->counters);
	rm_counters_free(&g->prev);
	rm_counters_free(&g->cum);
	rm_counters_free(&g->delta);
	rm_reporter_free(&g->rep);
	rm_ipfix_ends_free(&g->ends);
	rm_via_map_free(&g->view.via);
	rm_geo_lookup_free(&g->geo);
	rm_snapshot_close(g->snap);
	free(g);
}

void rm_gen_read(const struct rm_gen *g, struct rm_counters *out)
{
	rm_counters_zero(out);
	for (unsigned w = 0; w < g->n_workers; w++)
		rm_counters_add(out, &g->counters[w]);
}
