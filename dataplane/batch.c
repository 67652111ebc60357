/*
 * batch.c - capture files attributed by threads (batch.h): `rirmeter -r`.
 *
 * One snapshot generation (gen.h) with one counter block per thread.  The
 * files are one sequence of frames, handed out in chunks under a mutex:
 * a thread takes the next chunk (walking the record headers itself, so
 * the frames it is about to parse are in its own cache), releases the
 * lock, attributes the chunk through burst.h exactly as a live worker
 * attributes a receive burst, and comes back.  Nothing is copied: a frame
 * is a pointer into the mapped (or inflated) file.
 *
 * Intervals run on capture time.  The chunk that would cross an
 * interval's end stops short of it; the thread that next comes for frames
 * waits until no chunk is in flight, writes the interval from the summed
 * counters (every frame before the end counted, none after), and goes on.
 * So each line's ts is the capture time of its interval's end, and a
 * capture from last month lines up with when its traffic happened.  A
 * frame without a time of its own (capture.h: a pcapng simple packet
 * block) falls in the interval of the last time before it.
 *
 * Flow export (--flows) is read by one thread: templates are learned per
 * exporter, in the order the datagrams came, as RSS keeps one exporter on
 * one live worker.  Frames of link types other than Ethernet are counted
 * by type (health linktype.N) and not received.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "burst.h"
#include "capture.h"
#include "gen.h"
#include "options.h"
#include "rows.h"

#define CHUNK	     1024 /* frames a thread takes at a time */
#define MAX_THREADS  64
#define MAX_LINKTYPE 32 /* distinct non-Ethernet link types counted by number */

struct linktype {
	uint32_t type;
	uint64_t packets, bytes;
};

struct batch {
	const struct rm_batch_config *cfg;
	struct rm_gen *g;
	struct rm_capture **caps;
	unsigned n_threads;
	struct rm_flow_state **fs; /* per thread, with --flows */
	/* Under mu: the reading position and what is counted while reading. */
	pthread_mutex_t mu;
	pthread_cond_t idle;	      /* busy reached 0 */
	unsigned file, busy;	      /* the file being read; chunks being attributed */
	struct rm_capture_frame held; /* read past an interval's end, not yet handed out */
	int have_held, boundary_due;
	uint64_t interval_ns, start_ns, end_ns; /* the open interval [start, end) */
	uint64_t first_ns, last_ns;		/* capture time seen */
	int have_ts, saw_untimed;
	struct linktype lt[MAX_LINKTYPE];
	unsigned n_lt;
	uint64_t lt_other; /* frames of link types beyond MAX_LINKTYPE */
	unsigned truncated;
	int rc;
	struct rm_rows extra_prev; /* health rows beyond the counters, at the last export */
};

struct thread {
	struct batch *b;
	unsigned index;
	pthread_t tid;
	struct rm_counters *c;
	uint64_t clock_ms; /* capture time, for flow ageing (never back) */
	double cpu_s;	   /* the thread's CPU time, for the rate per core */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */

/* Health rows that are not in the counters (link types, files cut short,
 * the flow collector's exporters), cumulative and compacted. */
static void extra_rows(struct batch *b, struct rm_rows *rows)
{
	const char *id = b->g->id;
	char key[64];
	for (unsigned i = 0; i < b->n_lt; i++) {
		snprintf(key, sizeof(key), "linktype.%u", b->lt[i].type);
		rm_rows_push(rows, id, "health", NULL, key, b->lt[i].packets, b->lt[i].bytes, 1);
	}
	if (b->lt_other)
		rm_rows_push(rows, id, "health", NULL, "linktype.other", b->lt_other, 0, 0);
	if (b->truncated)
		rm_rows_push(rows, id, "health", NULL, "capture_truncated", b->truncated, 0, 0);
	if (b->fs)
		rm_flow_rows(b->fs, b->n_threads, id, rows);
	rm_rows_compact(rows);
}

/* The interval [start_ns, end_ns) written, with end_ns as its time.  The
 * caller holds mu and no chunk is in flight. */
static void export_interval(struct batch *b, uint64_t end_ns)
{
	struct rm_gen *g = b->g;
	struct rm_rows rows = {0}, extra = {0}, total = {0};
	rm_gen_read(g, &g->cum);
	rm_counters_sub(&g->delta, &g->cum, &g->prev);
	rm_counters_copy(&g->prev, &g->cum);
	rm_rows_of(&g->rep, &g->delta, g->id, &rows);
	extra_rows(b, &extra);
	rm_rows_append(&total, &extra);
	rm_rows_minus(&extra, &b->extra_prev);
	rm_rows_append(&rows, &extra);
	rm_rows_free(&b->extra_prev);
	rm_rows_append(&b->extra_prev, &total);
	double end = (double)end_ns * 1e-9;
	if (rm_write_rows(&b->cfg->out, &rows, NULL, 0, g->id, end,
			  (double)(end_ns - b->start_ns) * 1e-9, false))
		b->rc = 1;
	if (b->cfg->out.prom) {
		rm_rows_of(&g->rep, &g->cum, g->id, &total);
		if (rm_write_prom(&b->cfg->out, &total, NULL, 0, g->id, g->inputs))
			b->rc = 1;
	}
	rm_rows_free(&rows);
	rm_rows_free(&extra);
	rm_rows_free(&total);
	b->start_ns = end_ns;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

static void count_linktype(struct batch *b, const struct rm_capture_frame *f)
{
	for (unsigned i = 0; i < b->n_lt; i++)
		if (b->lt[i].type == f->linktype) {
			b->lt[i].packets++;
			b->lt[i].bytes += f->len;
			return;
		}
	if (b->n_lt == MAX_LINKTYPE) {
		b->lt_other++;
		return;
	}
	b->lt[b->n_lt++] = (struct linktype){f->linktype, 1, f->len};
}

/* The next frame of the sequence of files (under mu): 1, or 0 at the end
 * of the last.  A file cut short is named, counted, and left. */
static int next_frame(struct batch *b, struct rm_capture_frame *f)
{
	char err[768];
	while (b->file < b->cfg->n_files) {
		int rc = rm_capture_next(b->caps[b->file], f, err, sizeof(err));
		if (rc == 1)
			return 1;
		if (rc < 0) {
			fprintf(stderr, "rirmeter: %s; the rest of that file is not counted\n",
				err);
			b->truncated++;
			b->rc = 1;
		}
		b->file++;
	}
	return 0;
}

/*
 * Up to max frames into out for the calling thread, counted as in flight
 * (busy) when there are some; 0 at the end of the input.  An interval
 * whose end the capture has passed is written first, once no chunk is in
 * flight.
 */
static unsigned grab(struct batch *b, struct rm_capture_frame *out, unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		if (b->boundary_due) {
			if (b->busy) {
				pthread_cond_wait(&b->idle, &b->mu);
				continue;
			}
			export_interval(b, b->end_ns);
			/* Intervals without a frame write nothing: the next one is
			 * the one the held frame falls in (a jump of any size, in
			 * one step). */
			b->end_ns +=
			    ((b->held.ts_ns - b->end_ns) / b->interval_ns + 1) * b->interval_ns;
			b->start_ns = b->end_ns - b->interval_ns;
			b->boundary_due = 0;
		}
		while (n < max) {
			struct rm_capture_frame f;
			if (b->have_held) {
				f = b->held;
				b->have_held = 0;
			} else if (!next_frame(b, &f)) {
				break;
			}
			/* A frame without a time (a pcapng simple packet block before
			 * any packet with one in its file) takes the latest time of
			 * the run; before any, it opens no interval (in 1970) and is
			 * counted in the first one, which the next frame with a time
			 * opens. */
			if (f.untimed) {
				f.ts_ns = b->last_ns;
				b->saw_untimed = 1;
			} else {
				if (!b->have_ts) {
					b->have_ts = 1;
					b->first_ns = b->start_ns = f.ts_ns;
					b->end_ns = f.ts_ns + b->interval_ns;
				}
				if (b->interval_ns && f.ts_ns >= b->end_ns) {
					b->held = f;
					b->have_held = b->boundary_due = 1;
					break;
				}
				if (f.ts_ns > b->last_ns)
					b->last_ns = f.ts_ns;
			}
			if (f.linktype != RM_LINKTYPE_ETHERNET) {
				count_linktype(b, &f);
				continue;
			}
			out[n++] = f;
		}
		if (n == 0 && b->boundary_due)
			continue;
		break;
	}
	b->busy += n > 0;
	pthread_mutex_unlock(&b->mu);
	return n;
}

static void done(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	if (--b->busy == 0)
		pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->mu);
}

/* ------------------------------------------------------------------ */
/* Attributing                                                         */

/* rm_burst_read_fn of a frame in the file: contiguous, or not all there
 * (cut by the capture's snap length). */
static const uint8_t *read_frame(const void *frame, uint32_t off, uint32_t len, void *buf)
{
	const struct rm_capture_frame *f = frame;
	(void)buf;
	return (uint64_t)off + len <= f->caplen ? f->data + off : NULL;
}

struct flush_ctx {
	const struct rm_gen_view *g;
	struct rm_counters *c;
};

static void flush_flows(struct rm_flow_state *st, void *arg)
{
	const struct flush_ctx *x = arg;
	uint32_t id4[2 * RM_FLOW_BATCH], id6[2 * RM_FLOW_BATCH];
	rm_burst_flow_records(x->g, x->c, st, id4, id6);
	st->batch.n4 = st->batch.n6 = 0;
}

/* n (<= RM_MAX_BURST) frames attributed into t's counters, as a live
 * worker attributes a receive burst, for one --tunnels mode (a constant:
 * each mode is its own instance, as the workers' are). */
static inline __attribute__((always_inline)) void
attribute_as(struct thread *t, const struct rm_capture_frame *f, unsigned n,
	     const enum rm_tunnel_mode mode, const bool located)
{
	struct batch *b = t->b;
	const struct rm_gen_view *g = &b->g->view;
	struct rm_counters *c = t->c;
	const struct rm_flow_config *flows = b->fs ? b->cfg->flows : NULL;
	struct rm_flow_state *fs = b->fs ? b->fs[t->index] : NULL;
	struct rm_burst burst, inner;
	struct rm_burst_queues q = {&burst, &inner, 0, 0, 0, 0};
	struct flush_ctx fx = {g, c};
	uint64_t rx_bytes = 0;
	if (fs) {
		fs->flush = flush_flows;
		fs->flush_ctx = &fx;
		fs->now_ms = f[n - 1].ts_ns / 1000000u;
		if (!t->clock_ms) { /* the clock set before the first exporter is seen */
			t->clock_ms = f[0].ts_ns / 1000000u;
			rm_flow_age(fs, t->clock_ms);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (mode == RM_TUNNELS_OUTER)
			rm_burst_take(flows, fs, c, &q, f[i].data, f[i].caplen, f[i].len,
				      read_frame, &f[i]);
		else
			rm_burst_take_layers(flows, fs, c, &q, f[i].data, f[i].caplen, f[i].len,
					     read_frame, &f[i], mode);
		rx_bytes += f[i].len;
	}
	c->received += n;
	c->rx_bytes += rx_bytes;
	if (fs && (fs->batch.n4 || fs->batch.n6))
		flush_flows(fs, &fx);
	rm_burst_count(g, c, &q, mode, located);
	if (fs && fs->now_ms > t->clock_ms) { /* between bursts, as workers do */
		t->clock_ms = fs->now_ms;
		rm_flow_age(fs, t->clock_ms);
	}
}

static __attribute__((noinline)) void attribute_outer(struct thread *t,
						      const struct rm_capture_frame *f, unsigned n)
{
	attribute_as(t, f, n, RM_TUNNELS_OUTER, false);
}

static __attribute__((noinline)) void
attribute_outer_located(struct thread *t, const struct rm_capture_frame *f, unsigned n)
{
	attribute_as(t, f, n, RM_TUNNELS_OUTER, true);
}

static __attribute__((noinline)) void attribute_inner(struct thread *t,
						      const struct rm_capture_frame *f, unsigned n)
{
	attribute_as(t, f, n, RM_TUNNELS_INNER, t->b->g->view.located.v4 != NULL);
}

static __attribute__((noinline)) void attribute_both(struct thread *t,
						     const struct rm_capture_frame *f, unsigned n)
{
	attribute_as(t, f, n, RM_TUNNELS_BOTH, t->b->g->view.located.v4 != NULL);
}

static void attribute(struct thread *t, const struct rm_capture_frame *f, unsigned n)
{
	const enum rm_tunnel_mode mode = t->b->cfg->tunnels;
	if (mode == RM_TUNNELS_OUTER && t->b->g->view.located.v4)
		attribute_outer_located(t, f, n);
	else if (mode == RM_TUNNELS_OUTER)
		attribute_outer(t, f, n);
	else if (mode == RM_TUNNELS_INNER)
		attribute_inner(t, f, n);
	else
		attribute_both(t, f, n);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	pthread_setname_np(pthread_self(), "rirmeter-read"); /* for top -H, perf */
	struct rm_capture_frame *f = malloc(CHUNK * sizeof(*f));
	if (!f)
		abort();
	unsigned n;
	while ((n = grab(t->b, f, CHUNK)) > 0) {
		for (unsigned i = 0; i < n; i += RM_MAX_BURST)
			attribute(t, f + i, n - i < RM_MAX_BURST ? n - i : RM_MAX_BURST);
		done(t->b);
	}
	free(f);
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	t->cpu_s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	return NULL;
}

/* ------------------------------------------------------------------ */

static unsigned thread_count(const struct rm_batch_config *cfg)
{
	if (cfg->flows && cfg->flows->n)
		return 1;
	if (!cfg->threads)
		return rm_default_threads(sysconf(_SC_NPROCESSORS_ONLN), MAX_THREADS);
	return cfg->threads > MAX_THREADS ? MAX_THREADS : cfg->threads;
}

/* The totals (ts: the last frame's capture time), the Prometheus file,
 * the table and its balance. */
static void finish(struct batch *b, uint64_t received, double seconds, double cpu, uint64_t bytes)
{
	struct rm_gen *g = b->g;
	struct rm_rows total = {0};
	rm_gen_read(g, &g->cum);
	rm_rows_of(&g->rep, &g->cum, g->id, &total);
	extra_rows(b, &total);
	if (rm_write_rows(&b->cfg->out, &total, NULL, 0, g->id, (double)b->last_ns * 1e-9, 0, true))
		b->rc = 1;
	if (b->cfg->out.prom && rm_write_prom(&b->cfg->out, &total, NULL, 0, g->id, g->inputs))
		b->rc = 1;
	FILE *table = (b->cfg->out.json == stdout || b->cfg->out.csv == stdout) ? stderr : stdout;
	if (rm_write_table(b->cfg->quiet ? NULL : table, &total)) {
		fprintf(stderr, "rirmeter: counts do not balance\n");
		b->rc = 1;
	}
	rm_rows_free(&total);
	/* Per core: over the threads' CPU time, which a shared machine's other
	 * load does not stretch as it stretches the wall-clock time. */
	fprintf(stderr,
		"rirmeter: %" PRIu64 " packets (%.1f MB of capture) in %.3f s: %.3f Mpps, "
		"%.2f GB/s with %u thread%s; per core (%.3f s of CPU) %.3f Mpps, %.2f GB/s\n",
		received, (double)bytes / 1e6, seconds,
		seconds > 0 ? (double)received / seconds / 1e6 : 0.0,
		seconds > 0 ? (double)bytes / seconds / 1e9 : 0.0, b->n_threads,
		b->n_threads == 1 ? "" : "s", cpu, cpu > 0 ? (double)received / cpu / 1e6 : 0.0,
		cpu > 0 ? (double)bytes / cpu / 1e9 : 0.0);
}

int rm_batch_run(const struct rm_batch_config *cfg)
{
	static struct batch b; /* large (link types) and one per run */
	char err[768];
	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	b.n_threads = thread_count(cfg);
	b.interval_ns = (uint64_t)(cfg->interval * 1e9);
	b.caps = calloc(cfg->n_files, sizeof(*b.caps));
	if (!b.caps)
		abort();
	int rc = 2;
	uint64_t bytes = 0;
	/* Every file is opened first: a file that is not a capture stops the
	 * run before anything is counted or written. */
	for (unsigned i = 0; i < cfg->n_files; i++) {
		if (!(b.caps[i] = rm_capture_open(cfg->files[i], err, sizeof(err)))) {
			fprintf(stderr, "rirmeter: %s\n", err);
			goto out;
		}
		bytes += rm_capture_size(b.caps[i]);
	}
	/* The snapshot mapped, not copied into huge pages: a batch reads it
	 * once, and the copy cost more of a run than its lookups gained. */
	if (!(b.g = rm_gen_open(cfg->db, b.n_threads, 0, err, sizeof(err)))) {
		fprintf(stderr, "rirmeter: %s\n", err);
		goto out;
	}
	rm_report_flows(cfg->flows && cfg->flows->n);
	if (cfg->flows && cfg->flows->n) {
		b.fs = calloc(b.n_threads, sizeof(*b.fs));
		for (unsigned i = 0; b.fs && i < b.n_threads; i++) {
			if (!(b.fs[i] = rm_flow_state_new()))
				abort();
			rm_flow_set_idle(b.fs[i], cfg->flows_idle_ms);
			b.fs[i]->allow = cfg->allow;
		}
		if (!b.fs)
			abort();
	}
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.idle, NULL);
	struct thread *t = calloc(b.n_threads, sizeof(*t));
	if (!t)
		abort();
	double t0 = now_s();
	for (unsigned i = 0; i < b.n_threads; i++) {
		t[i] = (struct thread){.b = &b, .index = i, .c = &b.g->counters[i]};
		if (pthread_create(&t[i].tid, NULL, thread_main, &t[i])) {
			fprintf(stderr, "rirmeter: cannot start thread %u\n", i);
			abort();
		}
	}
	for (unsigned i = 0; i < b.n_threads; i++)
		pthread_join(t[i].tid, NULL);
	double seconds = now_s() - t0, cpu = 0;
	for (unsigned i = 0; i < b.n_threads; i++)
		cpu += t[i].cpu_s;
	free(t);
	/* The last interval, partial: it ends at the last frame. */
	if (b.interval_ns && b.have_ts && b.last_ns >= b.start_ns)
		export_interval(&b, b.last_ns > b.start_ns ? b.last_ns : b.start_ns + 1);
	else if (b.interval_ns && !b.have_ts && b.saw_untimed)
		fprintf(stderr,
			"rirmeter: no frame had a capture time (pcapng simple packet blocks "
			"only): no interval written, only the totals\n");
	rm_gen_read(b.g, &b.g->cum);
	finish(&b, b.g->cum.received, seconds, cpu, bytes);
	rc = b.rc;
	pthread_mutex_destroy(&b.mu);
	pthread_cond_destroy(&b.idle);
out:
	for (unsigned i = 0; b.fs && i < b.n_threads; i++)
		rm_flow_state_free(b.fs[i]);
	free(b.fs);
	rm_rows_free(&b.extra_prev);
	rm_gen_free(b.g);
	for (unsigned i = 0; i < cfg->n_files; i++)
		rm_capture_close(b.caps[i]);
	free(b.caps);
	return rc;
}
