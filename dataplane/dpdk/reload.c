/*
 * reload.c - swapping snapshots under load.
 *
 * A generation is one mapped snapshot with what the workers need of it
 * (lookups, registry of each id) and one counter block per worker, since
 * ids mean nothing across snapshots.  Workers reach the current generation
 * through one pointer; a reload:
 *
 *   1. maps and validates the new file (a corrupt or foreign file is
 *      refused, counted, and the old generation keeps serving);
 *   2. publishes the new generation (store-release of the pointer);
 *   3. waits until every worker has reported a quiescent state after the
 *      store (DPDK's rte_rcu_qsbr: workers report once per burst), so none
 *      can still be counting into the old blocks;
 *   4. turns the old generation's final counters into rows: per snapshot
 *      for the next interval's lines, once under its id for its "total"
 *      lines (handed to the caller to write now), and summed by (scope,
 *      dir, key) alone into the run's cumulative counters;
 *   5. unmaps the old snapshot.
 *
 * What is kept is bounded by the keys ever counted, not by the number of
 * swaps: months of daily swaps cost neither memory nor per-second work on
 * the main lcore.
 *
 * So no packet is counted twice or lost across a swap, and every exported
 * line names the snapshot that attributed it.  Triggers: SIGHUP, or the
 * file at --db being replaced (inotify on its directory: a rename into
 * place or a close after writing).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "lookup.h"
#include "reload.h"
#include "snapshot.h"

static void watch(struct rm_reloader *r)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(r->path, '/');
	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - r->path), r->path);
		snprintf(r->base, sizeof(r->base), "%s", slash + 1);
	} else {
		snprintf(dir, sizeof(dir), ".");
		snprintf(r->base, sizeof(r->base), "%s", r->path);
	}
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ifd >= 0 && inotify_add_watch(r->ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(r->ifd);
		r->ifd = -1;
	}
	if (r->ifd < 0)
		fprintf(stderr, "rirmeter: cannot watch %s (%s); reload with SIGHUP\n", dir,
			strerror(errno));
}

int rm_reloader_init(struct rm_reloader *r, const char *path, unsigned n_workers, char *err,
		     size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->n_workers = n_workers;
	r->ifd = -1;
	r->gen = rm_gen_open(path, n_workers, RM_SNAP_HUGEPAGE, err, errlen);
	if (!r->gen)
		return -1;
	r->current = &r->gen->view;
	size_t sz = rte_rcu_qsbr_get_memsize(n_workers ? n_workers : 1);
	r->qsv = rte_zmalloc("rirmeter_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!r->qsv || rte_rcu_qsbr_init(r->qsv, n_workers ? n_workers : 1)) {
		snprintf(err, errlen, "cannot set up RCU for %u workers", n_workers);
		return -1;
	}
	watch(r);
	return 0;
}

int rm_reloader_changed(struct rm_reloader *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	ssize_t n;
	while (r->ifd >= 0 && (n = read(r->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->len && strcmp(ev->name, r->base) == 0)
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	return changed;
}

/*
 * The old generation's counters since its last export (when intervals are
 * exported), its rows in all appended to final (when not NULL), and the
 * same folded into retired_total without their snapshot id.
 */
static void retire(struct rm_reloader *r, struct rm_gen *old, struct rm_rows *final)
{
	struct rm_rows mine = {0};
	rm_gen_read(old, &old->cum);
	if (r->keep_interval) {
		rm_counters_sub(&old->delta, &old->cum, &old->prev);
		rm_rows_of(&old->rep, &old->delta, old->id, &r->retired_interval);
		rm_rows_compact(&r->retired_interval);
	}
	rm_rows_of(&old->rep, &old->cum, old->id, &mine);
	if (final)
		rm_rows_append(final, &mine);
	for (uint32_t i = 0; i < mine.n; i++)
		mine.v[i].snap[0] = '\0';
	rm_rows_append(&r->retired_total, &mine);
	rm_rows_compact(&r->retired_total);
	r->retired_received += old->cum.received;
	rm_rows_free(&mine);
}

int rm_reload(struct rm_reloader *r, struct rm_rows *final)
{
	char err[512];
	struct rm_gen *ng = rm_gen_open(r->path, r->n_workers, RM_SNAP_HUGEPAGE, err, sizeof(err));
	if (!ng) {
		r->failed++;
		fprintf(stderr, "rirmeter: reload refused: %s; still attributing with %s\n", err,
			r->gen->id);
		return -1;
	}
	struct rm_gen *old = r->gen;
	r->gen = ng;
	__atomic_store_n(&r->current, &ng->view, __ATOMIC_RELEASE);
	/* Every worker passes a burst boundary after the store, then old is free. */
	uint64_t token = rte_rcu_qsbr_start(r->qsv);
	rte_rcu_qsbr_check(r->qsv, token, true);
	retire(r, old, final);
	fprintf(stderr, "rirmeter: reloaded %s: snapshot %s replaces %s\n", r->path, ng->id,
		old->id);
	rm_gen_free(old);
	r->ok++;
	return 0;
}

void rm_reloader_free(struct rm_reloader *r)
{
	rm_gen_free(r->gen);
	rm_rows_free(&r->retired_interval);
	rm_rows_free(&r->retired_total);
	rte_free(r->qsv);
	if (r->ifd >= 0)
		close(r->ifd);
	memset(r, 0, sizeof(*r));
}
