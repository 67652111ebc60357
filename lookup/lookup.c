/*
 * lookup.c - binding a snapshot for lookups (lookup.h).
 *
 * The choice of variants lives in dir24.c and trie6.c (rm_dir24_select,
 * rm_trie6_select), each beside the variants it chooses from; this file
 * only asks both for the same level and takes the tables from the
 * snapshot, so that every program binds lookups the same way; and builds
 * the located layer's tables from its ranges (rm_geo_lookup_build).
 */
#include "lookup.h"

#include <stdio.h>
#include <string.h>

int rm_lookup_bind(struct rm_lookup *l, const struct rm_snapshot *s, enum rm_simd level)
{
	const struct rm_db *db = rm_snapshot_db(s);
	memset(l, 0, sizeof(*l));
	rm_lookup4_bulk_fn v4 = rm_dir24_select(level);
	rm_lookup6_bulk_fn v6 = rm_trie6_select(level);
	if (!v4 || !v6)
		return -1;
	*l = (struct rm_lookup){.db = db,
				.dir24 = rm_snapshot_dir24(s),
				.trie6 = rm_snapshot_trie6(s),
				.v4 = v4,
				.v6 = v6};
	return 0;
}

int rm_geo_lookup_build(struct rm_geo_lookup *g, const struct rm_db *db, enum rm_simd level,
			char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (!db->n_geo)
		return 0;
	g->v4 = rm_dir24_select(level);
	g->v6 = rm_trie6_select(level);
	if (!g->v4 || !g->v6) {
		snprintf(err, errlen, "this CPU lacks the SIMD level asked for");
		return -1;
	}
	/* The builders read a db's ranges and its id count: the located
	 * layer's, seen as a db of its own. */
	struct rm_db shadow = {.n_attrs = db->n_geo};
	shadow.v4 = db->geo_v4;
	shadow.v6 = db->geo_v6;
	if (rm_dir24_build(&shadow, &g->dir24, err, errlen))
		return -1;
	if (rm_trie6_build(&shadow, &g->trie6, err, errlen)) {
		rm_dir24_free(&g->dir24);
		return -1;
	}
	g->geo = db->geo;
	return 0;
}

void rm_geo_lookup_free(struct rm_geo_lookup *g)
{
	if (!g->geo)
		return;
	rm_dir24_free(&g->dir24);
	rm_trie6_free(&g->trie6);
	memset(g, 0, sizeof(*g));
}
