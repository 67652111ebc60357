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

static void describe_inputs(const struct rm_db *db, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < db->n_inputs && n + 1 < len; i++) {
		const struct rm_input *in = &db->inputs[i];
		if (in->kind != RM_IN_STATS || in->superseded)
			continue;
		int w = snprintf(out + n, len - n, "%s%s:%s", n ? "," : "", rm_rir_name(in->rir),
				 rm_str(db, in->serial));
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

/* The NAT64 prefixes every generation attributes through (--nat64). */
static const struct rm_transition *transition;

void rm_gen_transition(const struct rm_transition *t)
{
	transition = t;
}

struct rm_gen *rm_gen_open(const char *path, unsigned n_workers, char *err, size_t errlen)
{
	struct rm_gen *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	g->snap = rm_snapshot_open_flags(path, RM_SNAP_HUGEPAGE, err, errlen);
	if (!g->snap) {
		free(g);
		return NULL;
	}
	const struct rm_db *db = rm_snapshot_db(g->snap);
	g->n_workers = n_workers;
	g->counters = calloc(n_workers ? n_workers : 1, sizeof(*g->counters));
	int bad = !g->counters || rm_reporter_init(&g->rep, db) ||
		  rm_ipfix_ends_init(&g->ends, db) || rm_counters_init(&g->prev, db->n_attrs) ||
		  rm_counters_init(&g->cum, db->n_attrs) ||
		  rm_counters_init(&g->delta, db->n_attrs);
	for (unsigned w = 0; !bad && w < n_workers; w++)
		bad = rm_counters_init(&g->counters[w], db->n_attrs);
	if (bad) {
		snprintf(err, errlen, "out of memory for a snapshot generation");
		rm_gen_free(g);
		return NULL;
	}
	snprintf(g->id, sizeof(g->id), "%08x", rm_snapshot_crc(g->snap));
	describe_inputs(db, g->inputs, sizeof(g->inputs));
	g->view = (struct rm_gen_view){
	    .rir_of = g->rep.rir_of, .counters = g->counters, .ends = &g->ends};
	/* RM_SIMD_BEST always binds: scalar variants run on any CPU. */
	rm_lookup_bind(&g->view.lookup, g->snap, RM_SIMD_BEST);
	/* --nat64's prefixes (or the well-known ones), then the snapshot's. */
	if (transition)
		g->transition = *transition;
	else
		rm_transition_init(&g->transition);
	rm_transition_add_db(&g->transition, db);
	if (rm_via_map_init(&g->view.via, &g->view.lookup, &g->transition)) {
		snprintf(err, errlen, "out of memory for a snapshot generation");
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
	rm_snapshot_close(g->snap);
	free(g);
}

void rm_gen_read(const struct rm_gen *g, struct rm_counters *out)
{
	rm_counters_zero(out);
	for (unsigned w = 0; w < g->n_workers; w++)
		rm_counters_add(out, &g->counters[w]);
}

/* ------------------------------------------------------------------ */

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
	r->gen = rm_gen_open(path, n_workers, err, errlen);
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
	struct rm_gen *ng = rm_gen_open(r->path, r->n_workers, err, sizeof(err));
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
