/*
 * lookup.c - binding a snapshot for lookups (lookup.h).
 *
 * The choice of variants lives in dir24.c and trie6.c (rm_dir24_select,
 * rm_trie6_select), each beside the variants it chooses from; this file
 * only asks both for the same level and takes the tables from the
 * snapshot, so that every program binds lookups the same way.  The
 * located layer's tables are located.c's.
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
