/*
 * reload.h - snapshot generations and their swap under load (reload.c).
 */
#ifndef RM_RELOAD_H
#define RM_RELOAD_H

#include <limits.h>

#include "gen.h"
#include "rows.h"
#include "worker.h"

struct rm_reloader {
	const char *path;
	unsigned n_workers;
	int ifd; /* inotify on the snapshot's directory, or -1 */
	char base[NAME_MAX + 1];
	struct rte_rcu_qsbr *qsv;
	const struct rm_gen_view *current; /* published to the workers */
	struct rm_gen *gen;		   /* the current generation */
	/*
	 * Retired generations' counters.  Since the last export, per snapshot
	 * (interval lines name the snapshot that attributed them), kept only
	 * when keep_interval: bounded by the swaps in one interval.  In all,
	 * summed by (scope, dir, key) with no snapshot (snap ""): bounded by
	 * the keys ever seen, not by the number of swaps; what the Prometheus
	 * counters and the balance at exit need, since they sum over
	 * snapshots anyway.  Each snapshot's own totals are handed out once,
	 * when it retires (rm_reload's final).
	 */
	struct rm_rows retired_interval;
	struct rm_rows retired_total;
	uint64_t retired_received; /* frames the retired generations counted */
	int keep_interval;	   /* interval exports on: fill retired_interval */
	uint64_t ok, failed;	   /* reloads */
};

int rm_reloader_init(struct rm_reloader *r, const char *path, unsigned n_workers, char *err,
		     size_t errlen);
/* 1 when the file at path was replaced or rewritten since the last call. */
int rm_reloader_changed(struct rm_reloader *r);
/*
 * Swap to the file at path now; -1 (counted, reported) keeps the old one.
 * On success the old generation's final counters are folded into
 * retired_total (and retired_interval), and, when final is not NULL, its
 * rows of the whole run under its snapshot id are appended to final, for
 * the caller to write as that snapshot's "total" lines: nothing keeps them
 * afterwards.
 */
int rm_reload(struct rm_reloader *r, struct rm_rows *final);
void rm_reloader_free(struct rm_reloader *r);

#endif
