/*
 * flow.c - NetFlow v5, NetFlow v9 and IPFIX datagrams into flow records.
 *
 * A worker hands every UDP datagram that arrives on a configured flow
 * port to rm_flow_datagram().  The decoders turn it into records (two
 * addresses, packets, bytes, scaled by the sampling interval when one is
 * known) that wait in a batch for one bulk lookup per family, exactly as
 * the addresses of a burst of frames do; sflow.c does the same for sFlow.
 * This file also holds what both decoders share (flow.h): the --flows
 * configuration, the per-worker state with its exporter table and template
 * pool, and the batch records wait in (rm_flow_emit).
 *
 * State.  Each worker keeps its own exporter table: one entry per (kind,
 * exporter address, source id / observation domain), holding that
 * domain's templates, its expected sequence number and its health
 * counters.  Per-worker copies keep the workers free of locks; they are
 * correct because RSS hashes the UDP 5-tuple, so an exporter's datagrams
 * all reach one queue and one worker.  An exporter that sends from
 * several source ports may reach two workers; each then learns the
 * templates from the periodic refresh every exporter sends, and data sets
 * seen before that are counted as no_template, never guessed.
 *
 * Exporters are untrusted.  Every length is checked against the bytes that
 * are actually there before it is used: headers (datagram, set, template
 * record, field specifier) are read through the checked cursor of
 * cursor.h, each taken whole once and read at its fields' named offsets,
 * every set's body is a cursor of its own, and the records of a set
 * (the hot loop) are checked against the set's end once each, v5's once
 * per datagram by their count.  The table is bounded (exporters,
 * templates per exporter, templates per worker, fields per template), and
 * a template must describe records of at least one byte, so no record
 * loop can spin.  A datagram that turns out malformed halfway is counted
 * by reason and the rest of it dropped; records decoded before that point
 * stand, as their bytes were well-formed.
 *
 * Allow-list (--flows-allow).  Anyone who can send one UDP datagram to the
 * collector could otherwise create exporter state and add forged records.
 * With a list, a datagram from a source outside it is counted (denied, and
 * its source in a small space-saving table of the top denied sources) and
 * dropped before anything of it is read or kept.  The list is immutable:
 * a reload publishes a new one (main.c).
 *
 * Ageing.  Without a list (or with a spoofed allowed source), a burst of
 * datagrams from spoofed sources fills the table.  So exporter state ages:
 * an exporter silent for idle_ms (--flows-idle, default 30 minutes, longer
 * than any template refresh) is released, its templates go back to the
 * pool, its slot to a free stack.  A newcomer is probationary until it
 * sends a datagram after one that carried a template or records; a
 * source that sends one datagram never gets there.  Two LRU lists
 * (probationary, established; moved to the front per datagram, O(1)) say
 * who goes: rm_flow_age() releases at most a few idle exporters from the
 * lists' tails per poll pass (bounded work), and a newcomer to a full table
 * takes the slot of an idle exporter, or else evicts the least recently
 * seen probationary one if it has been silent for min_age_ms
 * (min(60 s, idle_ms)), or else is counted as exporters_full.  Established
 * exporters are never evicted by newcomers, only aged: an exporter that
 * keeps sending records survives any flood of one-datagram sources, and
 * once a flood stops, a real exporter is accepted within min_age_ms (at
 * most one idle period).  The clock is the worker's (TSC, monotonic), not
 * the exporters' or a capture's.
 *
 * Lock-free reads of a reused slot.  The main lcore reads every slot's
 * identity and counters while the worker may release the slot and give it
 * to another exporter.  A per-slot generation (a sequence count) is odd
 * while the slot changes hands; the reader copies the slot between two
 * reads of it and retries when it was odd or changed, so it never sees one
 * exporter's address with another's counters.  A change of hands is a
 * handful of stores, and a slot changes hands at most once per datagram
 * that needs one, so a retry is rare and short.  A released exporter's
 * counters are folded into the slot's gone_* sums within the same change
 * of hands: in any reading they are counted once, either as the live
 * exporter's or as the slot's released sum, so the released-plus-live
 * totals (health rows, Prometheus counters) never go back.  One
 * exporter's own rows restart from zero when it returns after release (a
 * counter reset; rm_rows_minus takes it as one).
 *
 * Sequence numbers: v5 and IPFIX count records (what came before), v9
 * counts datagrams, sFlow counts datagrams.  A jump forward is a gap and
 * adds the missing amount to lost; a jump backwards (a restart, or
 * reordering) resynchronises without counting.  IPFIX messages with data
 * sets of unknown templates leave the record count unknown, so the next
 * message resynchronises too.  Exporters disagree on what IPFIX counts:
 * RFC 7011 says the data records before this message, options records
 * included; softflowd counts up to and including this message and leaves
 * options records out.  So the convention is learned per exporter, from
 * the first message that only one of them explains, and losses are
 * counted under it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "cursor.h"
#include "flow.h"
#include "loaders.h"
#include "options.h"

static const char *const proto_names[RM_FLOW_PROTOS] = {"netflow", "ipfix", "sflow"};
static const char *const kind_names[] = {"netflow5", "netflow9", "ipfix", "sflow"};
static const char *const bad_names[RM_FLOWBAD_COUNT] = {
    "fragment", "udp",	    "short",  "version", "length",
    "set",	"template", "record", "sample",	 "counts",
};
static const char *const exp_names[RM_EXP_COUNTERS] = {
    "datagrams", "records",	   "no_template",     "no_address", "options",
    "templates", "templates_full", "samples_skipped", "gaps",	    "lost",
};

const char *rm_flow_proto_name(unsigned proto)
{
	return proto < RM_FLOW_PROTOS ? proto_names[proto] : "invalid";
}

const char *rm_flow_kind_name(unsigned kind)
{
	return kind < 4 ? kind_names[kind] : "invalid";
}

const char *rm_flow_bad_name(unsigned reason)
{
	return reason < RM_FLOWBAD_COUNT ? bad_names[reason] : "invalid";
}

const char *rm_exp_counter_name(unsigned k)
{
	return k < RM_EXP_COUNTERS ? exp_names[k] : "invalid";
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

int rm_flow_config_parse(struct rm_flow_config *cfg, const char *spec, char *err, size_t errlen)
{
	const char *s = spec;
	while (*s) {
		size_t n = strcspn(s, ":,");
		int proto = -1;
		for (int k = 0; k < RM_FLOW_PROTOS; k++)
			if (strlen(proto_names[k]) == n && strncmp(s, proto_names[k], n) == 0)
				proto = k;
		if (proto < 0 || s[n] != ':') {
			snprintf(
			    err, errlen,
			    "--flows: '%.*s' is not PROTO:PORT (PROTO netflow, ipfix or sflow)",
			    (int)strcspn(s, ","), s);
			return -1;
		}
		s += n + 1;
		/* The port is the field up to the next comma; one too long for
		 * num is cut, and still refused (too many digits or not digits). */
		char num[32], why[128];
		size_t len = strcspn(s, ",");
		uint64_t port;
		snprintf(num, sizeof(num), "%.*s", (int)len, s);
		if (rm_parse_u64(num, 1, 65535, &port, why, sizeof(why))) {
			snprintf(err, errlen, "--flows: port %s", why);
			return -1;
		}
		const char *end = s + len;
		if (rm_flow_port(cfg, (uint16_t)port) >= 0) {
			snprintf(err, errlen, "--flows: port %u given twice", (unsigned)port);
			return -1;
		}
		if (cfg->n == RM_FLOW_MAX_PORTS) {
			snprintf(err, errlen, "--flows: at most %d ports", RM_FLOW_MAX_PORTS);
			return -1;
		}
		cfg->port[cfg->n] = (uint16_t)port;
		cfg->proto[cfg->n++] = (uint8_t)proto;
		s = *end ? end + 1 : end;
	}
	if (cfg->n == 0) {
		snprintf(err, errlen, "--flows: no PROTO:PORT given");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Allow-list                                                          */

static int cmp_prefix(const void *x, const void *y)
{
	const struct rm_allow_prefix *a = x, *b = y;
	if (a->family != b->family)
		return a->family - b->family;
	if (a->len != b->len)
		return a->len - b->len;
	return memcmp(a->a, b->a, 16);
}

/* s (one prefix, NUL-terminated, no spaces) into *p; NULL, or the reason.
 * The loaders' parser, as for operator labels (host bits must be zero); a
 * bare address is its own host prefix. */
static const char *parse_prefix(const char *s, struct rm_allow_prefix *p)
{
	size_t n = strlen(s);
	unsigned family, plen;
	uint32_t v4;
	rm_u128 first, last;
	const char *why = "not an IPv4 or IPv6 address";
	memset(p, 0, sizeof(*p));
	if (strchr(s, '/')) {
		if (rl_parse_prefix(s, n, &family, &first, &last, &plen, &why))
			return why;
	} else if (rl_parse_v4(s, n, &v4) == 0) {
		family = RM_V4, first = v4, plen = 32;
	} else if (rl_parse_v6(s, n, &first) == 0) {
		family = RM_V6, plen = 128;
	} else {
		return why;
	}
	p->len = (uint8_t)plen;
	if (family == RM_V4) {
		p->family = 4;
		rm_put_be32(p->a, (uint32_t)first);
	} else {
		p->family = 6;
		rm_v6_to_bytes(first, p->a);
	}
	return NULL;
}

/* Sort, drop duplicates, and index the runs of one (family, length). */
static struct rm_flow_allow *allow_finish(struct rm_flow_allow *a)
{
	qsort(a->p, a->n, sizeof(a->p[0]), cmp_prefix);
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->n; i++)
		if (n == 0 || cmp_prefix(&a->p[n - 1], &a->p[i]))
			a->p[n++] = a->p[i];
	a->n = n;
	a->n_runs = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct rm_allow_run *r = &a->runs[a->n_runs];
		if (i && a->p[i].family == a->p[i - 1].family && a->p[i].len == a->p[i - 1].len) {
			a->runs[a->n_runs - 1].to = i + 1;
			continue;
		}
		r->family = a->p[i].family;
		r->len = a->p[i].len;
		r->from = i;
		r->to = i + 1;
		a->n_runs++;
	}
	return a;
}

struct rm_flow_allow *rm_flow_allow_parse(const char *spec, char *err, size_t errlen)
{
	struct rm_flow_allow *a =
	    calloc(1, sizeof(*a) + RM_FLOW_ALLOW_MAX * sizeof(struct rm_allow_prefix));
	char buf[512];
	if (!a) {
		snprintf(err, errlen, "--flows-allow: out of memory");
		return NULL;
	}
	if (spec[0] != '@') {
		for (const char *s = spec;; s++) {
			size_t n = strcspn(s, ",");
			const char *why = NULL;
			snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
			if (n == 0 || n >= sizeof(buf))
				why = "is not a prefix";
			else if (a->n == RM_FLOW_ALLOW_MAX)
				why = "is one prefix too many";
			else
				why = parse_prefix(buf, &a->p[a->n]);
			if (why) {
				snprintf(err, errlen, "--flows-allow: '%.*s': %s", (int)n, s, why);
				free(a);
				return NULL;
			}
			a->n++;
			s += n;
			if (!*s)
				break;
		}
		return allow_finish(a);
	}
	const char *path = spec + 1;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(a);
		return NULL;
	}
	unsigned line = 0;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		size_t n = strlen(buf);
		const char *why = NULL;
		if (n == sizeof(buf) - 1 && buf[n - 1] != '\n') {
			why = "line too long";
		} else {
			buf[strcspn(buf, "#")] = '\0'; /* a comment runs to the line's end */
			char *s = buf + strspn(buf, " \t\r\n");
			char *e = s + strcspn(s, " \t\r\n");
			if (!*s)
				continue;
			if (e[strspn(e, " \t\r\n")])
				why = "more than one prefix on the line";
			else if (a->n == RM_FLOW_ALLOW_MAX)
				why = "too many prefixes";
			else {
				*e = '\0';
				why = parse_prefix(s, &a->p[a->n]);
			}
		}
		if (why) {
			snprintf(err, errlen, "%s:%u: %s", path, line, why);
			fclose(f);
			free(a);
			return NULL;
		}
		a->n++;
	}
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		snprintf(err, errlen, "%s: read error", path);
		free(a);
		return NULL;
	}
	return allow_finish(a);
}

bool rm_flow_allowed(const struct rm_flow_allow *a, const uint8_t *src, int family)
{
	for (uint32_t r = 0; r < a->n_runs; r++) {
		const struct rm_allow_run *run = &a->runs[r];
		if (run->family != family)
			continue;
		uint8_t key[16] = {0};
		unsigned full = run->len / 8, rest = run->len % 8;
		memcpy(key, src, full);
		if (rest)
			key[full] = src[full] & (uint8_t)(0xff00 >> rest);
		uint32_t lo = run->from, hi = run->to;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int c = memcmp(a->p[mid].a, key, 16);
			if (c == 0)
				return true;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

/* Count a denied datagram from src; its source into the top table by
 * space-saving (a newcomer takes the smallest count's place, plus one), a
 * fixed handful of compares.  denied_gen brackets the change for readers. */
static void deny(struct rm_flow_state *st, const uint8_t *src, int family)
{
	unsigned alen = family == 6 ? 16 : 4, min = 0;
	st->denied++;
	uint32_t g = st->denied_gen;
	__atomic_store_n(&st->denied_gen, g + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (unsigned i = 0; i < RM_FLOW_DENIED_TOP; i++) {
		struct rm_flow_denied_src *d = &st->denied_top[i];
		if (d->count && d->family == family && memcmp(d->addr, src, alen) == 0) {
			d->count++;
			goto out;
		}
		if (d->count < st->denied_top[min].count)
			min = i;
	}
	struct rm_flow_denied_src *d = &st->denied_top[min];
	memset(d->addr, 0, sizeof(d->addr));
	memcpy(d->addr, src, alen);
	d->family = (uint8_t)family;
	d->count++;
out:
	__atomic_store_n(&st->denied_gen, g + 2, __ATOMIC_RELEASE);
}

int rm_flow_denied_read(const struct rm_flow_state *st,
			struct rm_flow_denied_src out[RM_FLOW_DENIED_TOP])
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t g1 = __atomic_load_n(&st->denied_gen, __ATOMIC_ACQUIRE);
		if (g1 & 1)
			continue;
		for (unsigned i = 0; i < RM_FLOW_DENIED_TOP; i++) {
			const volatile struct rm_flow_denied_src *d = &st->denied_top[i];
			for (unsigned k = 0; k < 16; k++)
				out[i].addr[k] = d->addr[k];
			out[i].family = d->family;
			out[i].count = d->count;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&st->denied_gen, __ATOMIC_RELAXED) == g1)
			return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* State                                                               */

struct rm_flow_state *rm_flow_state_new(void)
{
	struct rm_flow_state *st = aligned_alloc(64, (sizeof(*st) + 63) / 64 * 64);
	if (!st)
		return NULL;
	memset(st, 0, sizeof(*st));
	rm_flow_set_idle(st, RM_FLOW_IDLE_MS);
	rm_flow_state_reset(st);
	return st;
}

void rm_flow_state_free(struct rm_flow_state *st)
{
	free(st);
}

void rm_flow_set_idle(struct rm_flow_state *st, uint64_t idle_ms)
{
	st->idle_ms = idle_ms;
	st->min_age_ms = idle_ms < RM_FLOW_MIN_AGE_MS ? idle_ms : RM_FLOW_MIN_AGE_MS;
}

void rm_flow_state_reset(struct rm_flow_state *st)
{
	/* Pool slots are written whole before use; exporters are not.  Not
	 * for a running worker: readers would see counters go back. */
	memset(st->exp, 0, st->n_exporters * sizeof(st->exp[0]));
	memset(st->hash, 0, sizeof(st->hash));
	memset(st->bad, 0, sizeof(st->bad));
	memset(st->denied_top, 0, sizeof(st->denied_top));
	st->exporters_full = st->denied = st->aged = st->evicted = 0;
	st->n_exporters = st->n_pool = st->n_free = st->n_pool_free = 0;
	st->lru_head[0] = st->lru_head[1] = st->lru_tail[0] = st->lru_tail[1] = RM_FLOW_NIL;
	st->batch.n4 = st->batch.n6 = 0;
	st->clock_ms = 0;
}

void rm_flow_drop(struct rm_flow_state *st, enum rm_flow_bad why)
{
	st->bad[why]++;
}

/* An unsigned integer of 1..8 bytes (IPFIX reduced-size encoding). */
static inline uint64_t be_n(const uint8_t *p, unsigned n)
{
	switch (n) { /* the usual widths in one load each */
	case 1:
		return p[0];
	case 2:
		return rm_get_be16(p);
	case 4:
		return rm_get_be32(p);
	case 8:
		return rm_get_be64(p);
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t exporter_hash(unsigned kind, const uint8_t *addr, int family, uint32_t domain)
{
	uint32_t h = 2166136261u ^ kind;
	for (int i = 0; i < (family == 6 ? 16 : 4); i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ domain) * 16777619u;
	return h ^ h >> 15;
}

/* ------------------------------------------------------------------ */
/* Ageing                                                              */

#define HASH_MASK (2 * RM_FLOW_MAX_EXPORTERS - 1)

static void lru_unlink(struct rm_flow_state *st, struct rm_flow_exporter *e)
{
	int l = e->established;
	if (e->lru_prev != RM_FLOW_NIL)
		st->exp[e->lru_prev].lru_next = e->lru_next;
	else
		st->lru_head[l] = e->lru_next;
	if (e->lru_next != RM_FLOW_NIL)
		st->exp[e->lru_next].lru_prev = e->lru_prev;
	else
		st->lru_tail[l] = e->lru_prev;
}

static void lru_push(struct rm_flow_state *st, struct rm_flow_exporter *e)
{
	int l = e->established;
	uint16_t i = (uint16_t)(e - st->exp);
	e->lru_prev = RM_FLOW_NIL;
	e->lru_next = st->lru_head[l];
	if (e->lru_next != RM_FLOW_NIL)
		st->exp[e->lru_next].lru_prev = i;
	else
		st->lru_tail[l] = i;
	st->lru_head[l] = i;
}

/* Take e's bucket out of the hash, shifting back the entries after it
 * whose probe sequence passed through it (linear probing, no tombstones). */
static void hash_remove(struct rm_flow_state *st, struct rm_flow_exporter *e)
{
	uint16_t tag = (uint16_t)(e - st->exp + 1);
	uint32_t h = e->home;
	while (st->hash[h] != tag)
		h = (h + 1) & HASH_MASK;
	for (uint32_t j = h;;) {
		st->hash[h] = 0;
		for (;;) {
			j = (j + 1) & HASH_MASK;
			if (!st->hash[j])
				return;
			uint32_t k = st->exp[st->hash[j] - 1].home;
			/* j's entry may move to h unless its home lies in (h, j]. */
			if (h <= j ? (k <= h || k > j) : (k <= h && k > j))
				break;
		}
		st->hash[h] = st->hash[j];
		h = j;
	}
}

/* Begin and end a change of hands of slot e: readers retry across it. */
static inline void slot_begin(struct rm_flow_exporter *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void slot_end(struct rm_flow_exporter *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
}

/* Release e: its templates back to the pool, its counters folded into the
 * slot's gone_* (in the same change of hands, so that a reader sees them
 * in one place or the other, never both or neither), its slot free. */
static void release(struct rm_flow_state *st, struct rm_flow_exporter *e)
{
	/* Records waiting for re-export name the exporter and its templates. */
	if (st->want_meta && (st->batch.n4 || st->batch.n6))
		st->flush(st, st->flush_ctx);
	hash_remove(st, e);
	lru_unlink(st, e);
	for (uint16_t i = 0; i < e->n_templates; i++)
		st->pool_free[st->n_pool_free++] = e->tref[i];
	slot_begin(e);
	for (unsigned k = 0; k < RM_EXP_COUNTERS; k++)
		e->gone_n[k] += e->n[k];
	for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++)
		e->gone_bad[k] += e->bad[k];
	e->used = 0;
	memset(&e->kind, 0,
	       offsetof(struct rm_flow_exporter, gone_n) - offsetof(struct rm_flow_exporter, kind));
	e->n_templates = e->last = 0;
	slot_end(e);
	st->free_slot[st->n_free++] = (uint16_t)(e - st->exp);
}

/* The least recently seen exporter of list l when silent for at least age
 * ms, or NULL. */
static struct rm_flow_exporter *silent(struct rm_flow_state *st, int l, uint64_t age)
{
	if (st->lru_tail[l] == RM_FLOW_NIL)
		return NULL;
	struct rm_flow_exporter *e = &st->exp[st->lru_tail[l]];
	return st->clock_ms - e->last_ms >= age ? e : NULL;
}

void rm_flow_age(struct rm_flow_state *st, uint64_t now_ms)
{
	if (now_ms > st->clock_ms)
		st->clock_ms = now_ms;
	/* A few a call: a pass that frees a thousand slots would be a stall,
	 * and a slot is needed only when a newcomer comes (which ages too). */
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 4; k++) {
			struct rm_flow_exporter *e = silent(st, l, st->idle_ms);
			if (!e)
				break;
			release(st, e);
			st->aged++;
		}
}

/* A free slot for a newcomer: never used, released, aged now, or taken
 * from the least recently seen probationary exporter silent for
 * min_age_ms; -1 when every slot is busy. */
static int free_slot(struct rm_flow_state *st)
{
	if (!st->n_free && st->n_exporters < RM_FLOW_MAX_EXPORTERS)
		return (int)st->n_exporters++;
	if (!st->n_free) {
		struct rm_flow_exporter *e;
		if ((e = silent(st, 1, st->idle_ms)) || (e = silent(st, 0, st->idle_ms))) {
			release(st, e);
			st->aged++;
		} else if ((e = silent(st, 0, st->min_age_ms))) {
			release(st, e);
			st->evicted++;
		} else {
			return -1;
		}
	}
	return st->free_slot[--st->n_free];
}

void rm_flow_exporter_read(const struct rm_flow_exporter *e, struct rm_flow_exporter_view *v)
{
	const volatile struct rm_flow_exporter *x = e;
	for (;;) {
		uint32_t g1 = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
		if (g1 & 1)
			continue; /* a few stores away from done */
		v->used = x->used;
		v->kind = x->kind;
		v->family = x->family;
		for (unsigned k = 0; k < 16; k++)
			v->addr[k] = x->addr[k];
		v->domain = x->domain;
		for (unsigned k = 0; k < RM_EXP_COUNTERS; k++) {
			v->n[k] = x->n[k];
			v->gone_n[k] = x->gone_n[k];
		}
		for (unsigned k = 0; k < RM_FLOWBAD_COUNT; k++) {
			v->bad[k] = x->bad[k];
			v->gone_bad[k] = x->gone_bad[k];
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->gen, __ATOMIC_RELAXED) == g1)
			return;
	}
}

/* Probation ends with a datagram after one that carried a template or
 * records: a spoofed source sending one datagram each never gets there. */
static void touch(struct rm_flow_state *st, struct rm_flow_exporter *e)
{
	e->last_ms = st->clock_ms;
	int graduate = !e->established && (e->n[RM_EXP_TEMPLATES] || e->n[RM_EXP_RECORDS]);
	if (!graduate && st->lru_head[e->established] == e - st->exp)
		return;
	lru_unlink(st, e);
	e->established |= graduate;
	lru_push(st, e);
}

struct rm_flow_exporter *rm_flow_exporter(struct rm_flow_state *st, unsigned kind,
					  const uint8_t *addr, int family, uint32_t domain)
{
	unsigned alen = family == 6 ? 16 : 4;
	uint32_t home = exporter_hash(kind, addr, family, domain) & HASH_MASK;
	for (uint32_t h = home;; h = (h + 1) & HASH_MASK) {
		if (st->hash[h]) {
			struct rm_flow_exporter *e = &st->exp[st->hash[h] - 1];
			if (e->kind == kind && e->family == family && e->domain == domain &&
			    memcmp(e->addr, addr, alen) == 0) {
				touch(st, e);
				return e;
			}
			continue;
		}
		int i = free_slot(st);
		if (i < 0) {
			st->exporters_full++;
			return NULL;
		}
		/* Releasing may have moved entries back into the probe
		 * sequence: find the empty bucket again. */
		for (h = home; st->hash[h]; h = (h + 1) & HASH_MASK)
			;
		struct rm_flow_exporter *e = &st->exp[i];
		slot_begin(e);
		e->kind = (uint8_t)kind;
		e->family = (uint8_t)family;
		e->domain = domain;
		memcpy(e->addr, addr, alen);
		e->home = home;
		e->established = 0;
		e->last_ms = st->clock_ms;
		e->used = 1;
		slot_end(e);
		lru_push(st, e);
		st->hash[h] = (uint16_t)(i + 1);
		return e;
	}
}

void rm_flow_sequence(struct rm_flow_exporter *e, uint32_t seq, uint32_t advance)
{
	if (e->seq_known) {
		uint32_t ahead = seq - e->next_seq;
		if (ahead != 0 && ahead < 0x80000000u) {
			e->n[RM_EXP_GAPS]++;
			e->n[RM_EXP_LOST] += ahead;
		}
	}
	e->next_seq = seq + advance;
	e->seq_known = 1;
}

/* Unix ms at the exporter's uptime 0, for records timed by its uptime: from
 * the datagram's header (v5, v9), or announced by options (IPFIX; 0 when
 * not).  The 32-bit uptime wraps every 49.7 days: a record timed before
 * a wrap and sent after it comes out 2^32 ms late, as it does in any
 * collector that reads the exporter's own datagrams. */
static uint64_t exporter_sysinit(const struct rm_flow_exporter *e)
{
	if (e->kind == RM_KIND_IPFIX)
		return e->sysinit_ms;
	return e->clock_ms - e->uptime_ms;
}

/*
 * What the decoder of one data set (or one v5 datagram) knows of where its
 * records come from, kept only when they are re-exported: the set's meta,
 * whose rec, rec_len, sampling and sysinit_ms it sets per record, and the
 * run of each family that the set's last record went into.
 */
struct reexport {
	struct rm_flow_meta m;
	struct rm_flow_run *open[2];
};

/* A run of n records of family f from the batch's record k on, the first
 * as m says.  Runs restart with the family's records (k == 0), so that
 * they always cover exactly those. */
static inline struct rm_flow_run *append_run(struct rm_flow_batch *b, int f, uint32_t k,
					     const struct rm_flow_meta *m, uint32_t n)
{
	uint32_t nr = k ? b->n_runs[f] : 0;
	struct rm_flow_run *r = &b->runs[f][nr];
	r->m = *m;
	r->n = n;
	b->n_runs[f] = nr + 1;
	return r;
}

/*
 * A re-exported record (c's) of family f (0, 1) that is the
 * batch's record number k.  A set's records lie back to back, so one with
 * the same length, time base and sampling interval as the run its set's
 * last record went into continues that run; unless the batch has been
 * flushed since (k == 0: a flush empties both families).  A set that skips
 * a record forgets its open runs (skip()).
 */
static inline void note_run(struct rm_flow_batch *b, int f, uint32_t k, struct reexport *c)
{
	struct rm_flow_run *r = c->open[f];
	if (k && r && r->m.rec_len == c->m.rec_len && r->m.sampling == c->m.sampling &&
	    r->m.sysinit_ms == c->m.sysinit_ms) {
		r->n++;
		return;
	}
	r = append_run(b, f, k, &c->m, 1);
	c->open[f] = c->m.rec ? r : NULL; /* an sFlow sample is a run of its own */
}

static inline void skip(struct reexport *c)
{
	if (c)
		c->open[0] = c->open[1] = NULL;
}

void rm_flow_batch_meta(const struct rm_flow_batch *b, int family, uint32_t k,
			struct rm_flow_meta *out)
{
	int f = family == 6;
	for (uint32_t i = 0; i < rm_flow_runs(b, f); k -= b->runs[f][i++].n) {
		const struct rm_flow_run *r = &b->runs[f][i];
		if (k < r->n) {
			*out = r->m;
			if (out->rec)
				out->rec += k * r->m.rec_len;
			return;
		}
	}
	memset(out, 0, sizeof(*out));
}

/* rm_flow_emit, inlined into the decoders of this file; c is NULL unless
 * the records are re-exported. */
static inline __attribute__((always_inline)) void
emit(struct rm_flow_state *st, int family, const uint8_t *src, const uint8_t *dst, uint64_t pkts,
     uint64_t bytes, uint32_t src_as, uint32_t dst_as, struct reexport *c)
{
	struct rm_flow_batch *b = &st->batch;
	if (family == 4) {
		if (b->n4 == RM_FLOW_BATCH)
			st->flush(st, st->flush_ctx);
		if (c)
			note_run(b, 0, b->n4, c);
		b->a4[2 * b->n4] = rm_get_be32(src);
		b->a4[2 * b->n4 + 1] = rm_get_be32(dst);
		b->as4[2 * b->n4] = src_as;
		b->as4[2 * b->n4 + 1] = dst_as;
		b->pkts4[b->n4] = pkts;
		b->bytes4[b->n4++] = bytes;
	} else {
		if (b->n6 == RM_FLOW_BATCH)
			st->flush(st, st->flush_ctx);
		if (c)
			note_run(b, 1, b->n6, c);
		memcpy(b->a6[2 * b->n6], src, 16);
		memcpy(b->a6[2 * b->n6 + 1], dst, 16);
		b->as6[2 * b->n6] = src_as;
		b->as6[2 * b->n6 + 1] = dst_as;
		b->pkts6[b->n6] = pkts;
		b->bytes6[b->n6++] = bytes;
	}
}

void rm_flow_emit(struct rm_flow_state *st, int family, const uint8_t *src, const uint8_t *dst,
		  uint64_t pkts, uint64_t bytes, uint32_t src_as, uint32_t dst_as,
		  const struct rm_flow_meta *meta)
{
	struct reexport c = {.m = meta ? *meta : (struct rm_flow_meta){0}};
	emit(st, family, src, dst, pkts, bytes, src_as, dst_as, meta ? &c : NULL);
}

static void bad(struct rm_flow_exporter *e, enum rm_flow_bad why)
{
	e->bad[why]++;
}

/* ------------------------------------------------------------------ */
/* NetFlow v5                                                          */

/* The v5 header's fields, by offset from the datagram's start. */
enum {
	V5_HDR_COUNT = 2,     /* records in the datagram */
	V5_HDR_UPTIME = 4,    /* the exporter's uptime, ms */
	V5_HDR_SECS = 8,      /* Unix time: seconds, */
	V5_HDR_NSECS = 12,    /* and nanoseconds */
	V5_HDR_SEQ = 16,      /* records sent before this datagram */
	V5_HDR_SOURCE = 20,   /* engine type and engine id, one byte each */
	V5_HDR_SAMPLING = 22, /* top two bits the mode, the rest the interval */
	V5_HEADER = 24,
};

#define V5_RECORD 48

/* The fields of a v5 record that are read, by offset.  The record loop
 * reads them in place: count, checked once per datagram against the bytes
 * there, bounds every record. */
enum {
	V5_REC_SRC = 0,	    /* srcaddr */
	V5_REC_DST = 4,	    /* dstaddr */
	V5_REC_PKTS = 16,   /* dPkts */
	V5_REC_BYTES = 20,  /* dOctets */
	V5_REC_FIRST = 24,  /* First: the exporter's uptime at the flow's start, ms */
	V5_REC_SRC_AS = 40, /* src_as: 16 bits, origin or peer AS as configured */
	V5_REC_DST_AS = 42, /* dst_as */
};

/*
 * The runs of n v5 records at r, the batch's records k on.  A flow that
 * starts after the header's uptime started before the uptime wrapped: its
 * time base is 2^32 ms earlier (as collectors read v5), so a run ends
 * where that changes.
 */
static void v5_runs(struct rm_flow_batch *b, uint32_t k, const uint8_t *r, uint32_t n,
		    struct rm_flow_meta *m, uint64_t base, uint64_t uptime_ms)
{
	for (uint32_t j = 0; j < n;) {
		int wrapped = rm_get_be32(r + j * V5_RECORD + V5_REC_FIRST) > uptime_ms;
		uint32_t from = j;
		while (++j < n &&
		       (rm_get_be32(r + j * V5_RECORD + V5_REC_FIRST) > uptime_ms) == wrapped)
			;
		m->rec = r + from * V5_RECORD;
		m->sysinit_ms = base - (wrapped ? 1ull << 32 : 0);
		append_run(b, 0, k + from, m, j - from);
	}
}

/* A v5 datagram, c over all of it. */
static void netflow5(struct rm_flow_state *st, const uint8_t *src, int family, struct rm_cur *c)
{
	const uint8_t *h = rm_cur_take(c, V5_HEADER);
	if (!h) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	struct rm_flow_exporter *e =
	    rm_flow_exporter(st, RM_KIND_NETFLOW5, src, family, rm_get_be16(h + V5_HDR_SOURCE));
	if (!e)
		return;
	e->n[RM_EXP_DATAGRAMS]++;
	uint32_t count = rm_get_be16(h + V5_HDR_COUNT);
	if (count > rm_cur_left(c) / V5_RECORD)
		return bad(e, RM_FLOWBAD_LENGTH);
	rm_flow_sequence(e, rm_get_be32(h + V5_HDR_SEQ), count);
	/* Top two bits: the sampling mode; the rest the interval (0: none). */
	uint64_t rate = rm_get_be16(h + V5_HDR_SAMPLING) & 0x3fff;
	if (rate == 0)
		rate = 1;
	/* Record times are the exporter's uptime in ms: Unix time by the header. */
	e->clock_ms =
	    (uint64_t)rm_get_be32(h + V5_HDR_SECS) * 1000 + rm_get_be32(h + V5_HDR_NSECS) / 1000000;
	e->uptime_ms = rm_get_be32(h + V5_HDR_UPTIME);
	struct rm_flow_batch *b = &st->batch;
	struct rm_flow_meta m = {.sampling = (uint32_t)rate,
				 .rec_len = V5_RECORD,
				 .tmpl = RM_META_V5,
				 .exporter = (uint16_t)(e - st->exp)};
	/* As many records at a time as the batch has room for: then the runs
	 * to re-export them are noted once for all of them. */
	for (uint32_t i = 0; i < count;) {
		if (b->n4 == RM_FLOW_BATCH)
			st->flush(st, st->flush_ctx);
		uint32_t k = b->n4,
			 n = count - i < RM_FLOW_BATCH - k ? count - i : RM_FLOW_BATCH - k;
		const uint8_t *first = c->p + i * V5_RECORD;
		for (const uint8_t *r = first; r < first + n * V5_RECORD; r += V5_RECORD)
			emit(st, 4, r + V5_REC_SRC, r + V5_REC_DST,
			     rm_get_be32(r + V5_REC_PKTS) * rate,
			     rm_get_be32(r + V5_REC_BYTES) * rate, rm_get_be16(r + V5_REC_SRC_AS),
			     rm_get_be16(r + V5_REC_DST_AS), NULL);
		if (st->want_meta)
			v5_runs(b, k, first, n, &m, exporter_sysinit(e), e->uptime_ms);
		i += n;
	}
	e->n[RM_EXP_RECORDS] += count;
}

/* ------------------------------------------------------------------ */
/* Templates (NetFlow v9 and IPFIX)                                    */

static int role_of(uint16_t type, uint16_t flen)
{
	switch (type) {
	case 8:
		return flen == 4 ? RM_ROLE_SRC4 : -1;
	case 12:
		return flen == 4 ? RM_ROLE_DST4 : -1;
	case 27:
		return flen == 16 ? RM_ROLE_SRC6 : -1;
	case 28:
		return flen == 16 ? RM_ROLE_DST6 : -1;
	}
	if (flen < 1 || flen > 8)
		return -1; /* counters are unsigned of 1..8 bytes */
	switch (type) {
	case 1:
		return RM_ROLE_BYTES;
	case 2:
		return RM_ROLE_PKTS;
	case 23:
		return RM_ROLE_OBYTES;
	case 24:
		return RM_ROLE_OPKTS;
	case 34:
	case 50:
		return RM_ROLE_SAMPLING;
	case 305:
		return RM_ROLE_SP_INTERVAL;
	case 306:
		return RM_ROLE_SP_SPACE;
	case 160:
		return RM_ROLE_SYSINIT;
	case 16:
		return flen == 2 || flen == 4 ? RM_ROLE_SRC_AS : -1;
	case 17:
		return flen == 2 || flen == 4 ? RM_ROLE_DST_AS : -1;
	}
	return -1;
}

static struct rm_flow_template *find_template(struct rm_flow_state *st, struct rm_flow_exporter *e,
					      uint16_t id)
{
	if (e->n_templates && e->tid[e->last] == id)
		return &st->pool[e->tref[e->last]];
	for (uint16_t i = 0; i < e->n_templates; i++)
		if (e->tid[i] == id) {
			e->last = i;
			return &st->pool[e->tref[i]];
		}
	return NULL;
}

/* A slot for template id: its old one when redefined, or a new one. */
static struct rm_flow_template *template_slot(struct rm_flow_state *st, struct rm_flow_exporter *e,
					      uint16_t id)
{
	struct rm_flow_template *t = find_template(st, e, id);
	if (t)
		return t;
	if (e->n_templates == RM_FLOW_MAX_TEMPLATES ||
	    (st->n_pool == RM_FLOW_POOL && !st->n_pool_free)) {
		e->n[RM_EXP_TEMPLATES_FULL]++;
		return NULL;
	}
	/* Released exporters' slots first, so the pool's high-water mark
	 * stays what the live exporters need. */
	uint16_t slot = st->n_pool_free ? st->pool_free[--st->n_pool_free] : (uint16_t)st->n_pool++;
	e->tid[e->n_templates] = id;
	e->tref[e->n_templates++] = slot;
	st->pool[slot].used = 0; /* nothing to compare a definition with */
	return &st->pool[slot];
}

/* Withdraw template id (IPFIX): its slot stays, unused, for a redefinition. */
static void withdraw(struct rm_flow_state *st, struct rm_flow_exporter *e, uint16_t id)
{
	struct rm_flow_template *t = find_template(st, e, id);
	if (t)
		t->used = 0;
}

static void withdraw_all(struct rm_flow_state *st, struct rm_flow_exporter *e, int options)
{
	for (uint16_t i = 0; i < e->n_templates; i++) {
		struct rm_flow_template *t = &st->pool[e->tref[i]];
		if (t->options == options)
			t->used = 0;
	}
}

/*
 * Read one template record's n_fields field specifiers from c (the rest of
 * its set) into t.  ipfix: specifiers may carry an enterprise number, and
 * length 65535 means variable length; the first v9_scope fields of a v9
 * options template are scope fields.  Returns 0, c past the record, or -1
 * when the record does not fit or cannot describe records.
 */
static int read_fields(struct rm_flow_template *t, struct rm_cur *c, unsigned n_fields,
		       unsigned v9_scope, int ipfix)
{
	uint32_t min_len = 0;
	if (n_fields == 0 || n_fields > RM_FLOW_MAX_FIELDS)
		return -1;
	t->variable = 0;
	t->uptime = 0;
	t->ipfix = (uint8_t)ipfix;
	for (int k = 0; k < RM_ROLES; k++)
		t->off[k] = -1;
	for (unsigned i = 0; i < n_fields; i++) {
		const uint8_t *f = rm_cur_take(c, 4); /* element id, length */
		if (!f)
			return -1;
		uint16_t type = rm_get_be16(f), flen = rm_get_be16(f + 2);
		int enterprise = ipfix && (type & 0x8000);
		t->type[i] = type;
		t->pen[i] = 0;
		/* enterprise-specific: its number, then skipped by its length */
		if (enterprise && rm_cur_u32(c, &t->pen[i]))
			return -1;
		if (flen == 0)
			return -1; /* a zero-length field describes nothing */
		int var = ipfix && flen == 65535;
		/* v9 scope fields have types of their own (1 is System, not bytes). */
		int role = enterprise || var || i < v9_scope ? -1 : role_of(type, flen);
		if (!enterprise && i >= v9_scope && (type == 21 || type == 22))
			t->uptime = 1; /* flowEnd/StartSysUpTime: re-export adds the base */
		t->flen[i] = flen;
		t->role[i] = role < 0 ? 0xff : (uint8_t)role;
		if (role >= 0 && t->off[role] < 0) {
			t->off[role] = t->variable ? 0 : (int32_t)min_len;
			t->len[role] = (uint8_t)flen;
		} else if (role >= 0) {
			t->role[i] = 0xff; /* a repeated field: the first one counts */
		}
		if (var) {
			t->variable = 1;
			min_len += 1;
		} else {
			min_len += flen;
		}
	}
	if (min_len > 65535)
		return -1;
	t->n_fields = (uint16_t)n_fields;
	t->min_len = (uint16_t)min_len;
	return 0;
}

/* Whether slot t already holds definition d (which is in use). */
static int same_template(const struct rm_flow_template *t, const struct rm_flow_template *d)
{
	unsigned n = d->n_fields;
	return t->used && t->n_fields == n && t->options == d->options && t->ipfix == d->ipfix &&
	       memcmp(t->type, d->type, n * sizeof(d->type[0])) == 0 &&
	       memcmp(t->flen, d->flen, n * sizeof(d->flen[0])) == 0 &&
	       memcmp(t->pen, d->pen, n * sizeof(d->pen[0])) == 0;
}

/*
 * One template set (v9 flowset 0/1, IPFIX set 2/3), c its body.  Returns
 * 0, or -1 when malformed (the rest of the datagram is dropped).
 */
static int template_set(struct rm_flow_state *st, struct rm_flow_exporter *e, struct rm_cur c,
			int ipfix, int options)
{
	const uint8_t *h;
	/* Padding at the end of a set is shorter than the smallest record,
	 * whose header is a template id and a field count. */
	while ((h = rm_cur_take(&c, 4))) {
		uint16_t id = rm_get_be16(h), count = rm_get_be16(h + 2);
		unsigned scope = 0;
		if (ipfix && count == 0) { /* withdrawal */
			if (id == (options ? 3 : 2))
				withdraw_all(st, e, options);
			else
				withdraw(st, e, id);
			e->n[RM_EXP_TEMPLATES]++;
			continue;
		}
		if (options && ipfix) { /* count is all fields; then the scope field count */
			uint16_t n_scope;
			if (rm_cur_u16(&c, &n_scope))
				goto bad;
			scope = n_scope;
			if (scope == 0 || scope > count)
				goto bad;
		} else if (options) { /* v9: scope and option lengths in bytes */
			uint16_t option_len;
			if (rm_cur_u16(&c, &option_len))
				goto bad;
			if (count % 4 || option_len % 4)
				goto bad;
			scope = count / 4u;
			count = (uint16_t)(scope + option_len / 4u);
		}
		if (id < 256)
			goto bad;
		struct rm_flow_template tmp;
		if (read_fields(&tmp, &c, count, ipfix ? 0 : scope, ipfix))
			goto bad;
		struct rm_flow_template *t = template_slot(st, e, id);
		if (!t)
			continue;
		tmp.id = id;
		tmp.options = (uint8_t)options;
		tmp.used = 1;
		/* Exporters repeat their templates: only a change is a new version.
		 * Records of the old one that wait in the batch to be re-exported
		 * go first, while the slot still describes them. */
		int same = same_template(t, &tmp);
		if (!same && st->want_meta && (st->batch.n4 || st->batch.n6))
			st->flush(st, st->flush_ctx);
		tmp.version = same ? t->version : ++st->versions;
		/* Only the fields needed are kept beyond the role table. */
		memcpy(t, &tmp, offsetof(struct rm_flow_template, flen));
		memcpy(t->flen, tmp.flen, count * sizeof(tmp.flen[0]));
		memcpy(t->type, tmp.type, count * sizeof(tmp.type[0]));
		memcpy(t->pen, tmp.pen, count * sizeof(tmp.pen[0]));
		memcpy(t->role, tmp.role, count);
		e->n[RM_EXP_TEMPLATES]++;
	}
	return 0;
bad:
	bad(e, RM_FLOWBAD_TEMPLATE);
	return -1;
}

/* The offsets of the wanted fields of one variable-length record at p, or -1. */
static int32_t walk_record(const struct rm_flow_template *t, const uint8_t *p, uint32_t avail,
			   int32_t off[RM_ROLES], uint8_t len[RM_ROLES])
{
	uint32_t o = 0;
	for (int k = 0; k < RM_ROLES; k++)
		off[k] = -1;
	for (unsigned i = 0; i < t->n_fields; i++) {
		uint32_t flen = t->flen[i];
		if (flen == 65535) { /* RFC 7011 section 7: 1 byte, or 255 and 2 more */
			if (o + 1 > avail)
				return -1;
			flen = p[o++];
			if (flen == 255) {
				if (o + 2 > avail)
					return -1;
				flen = rm_get_be16(p + o);
				o += 2;
			}
		}
		if (o + flen > avail)
			return -1;
		if (t->role[i] != 0xff) {
			off[t->role[i]] = (int32_t)o;
			len[t->role[i]] = (uint8_t)flen;
		}
		o += flen;
	}
	return o ? (int32_t)o : -1;
}

static inline uint64_t field(const uint8_t *r, const int32_t *off, const uint8_t *len, int role)
{
	return off[role] >= 0 ? be_n(r + off[role], len[role]) : 0;
}

/* The sampling interval a record announces: 0 when it has none.  Inlined
 * by force: it is on every data record's way, and GCC's size estimate of
 * the field loads it inlines is not stable enough to rely on (a call
 * here costs ~7% of the decoder's instructions per v9/IPFIX record). */
static inline __attribute__((always_inline)) uint64_t
record_sampling(const uint8_t *r, const int32_t *off, const uint8_t *len)
{
	uint64_t s = field(r, off, len, RM_ROLE_SAMPLING);
	if (s)
		return s;
	uint64_t iv = field(r, off, len, RM_ROLE_SP_INTERVAL);
	uint64_t sp = field(r, off, len, RM_ROLE_SP_SPACE);
	return iv ? 1 + sp / iv : 0; /* (iv + sp) / iv, which the sum could wrap */
}

/* One data record of template t at r: counted, or read for its options.
 * c, when re-exporting, has the set's template, exporter and time base. */
static void data_record(struct rm_flow_state *st, struct rm_flow_exporter *e,
			const struct rm_flow_template *t, const uint8_t *r, uint32_t rec_len,
			const int32_t *off, const uint8_t *len, struct reexport *c)
{
	if (t->options) {
		uint64_t s = record_sampling(r, off, len);
		if (s)
			e->sampling = s;
		if (off[RM_ROLE_SYSINIT] >= 0)
			e->sysinit_ms = field(r, off, len, RM_ROLE_SYSINIT);
		e->n[RM_EXP_OPTIONS]++;
		return;
	}
	int family = off[RM_ROLE_SRC4] >= 0 && off[RM_ROLE_DST4] >= 0	? 4
		     : off[RM_ROLE_SRC6] >= 0 && off[RM_ROLE_DST6] >= 0 ? 6
									: 0;
	if (!family) {
		e->n[RM_EXP_NO_ADDRESS]++;
		skip(c);
		return;
	}
	uint64_t bytes = off[RM_ROLE_BYTES] >= 0 ? field(r, off, len, RM_ROLE_BYTES)
						 : field(r, off, len, RM_ROLE_OBYTES);
	uint64_t pkts = off[RM_ROLE_PKTS] >= 0 ? field(r, off, len, RM_ROLE_PKTS)
					       : field(r, off, len, RM_ROLE_OPKTS);
	uint64_t rate = record_sampling(r, off, len);
	if (!rate)
		rate = e->sampling ? e->sampling : 1;
	if (c) { /* re-exported as received, from where it is */
		c->m.rec = r;
		c->m.rec_len = (uint16_t)rec_len;
		c->m.sampling = (uint32_t)rate;
	}
	/* 8-byte counts times an interval of the exporter's choosing: a
	 * product past 64 bits would add a wrapped count, so the record is
	 * dropped and counted instead. */
	if (__builtin_expect(__builtin_mul_overflow(pkts, rate, &pkts) ||
				 __builtin_mul_overflow(bytes, rate, &bytes),
			     0)) {
		e->bad[RM_FLOWBAD_COUNTS]++;
		skip(c);
		return;
	}
	uint32_t src_as = (uint32_t)field(r, off, len, RM_ROLE_SRC_AS),
		 dst_as = (uint32_t)field(r, off, len, RM_ROLE_DST_AS);
	if (family == 4)
		emit(st, 4, r + off[RM_ROLE_SRC4], r + off[RM_ROLE_DST4], pkts, bytes, src_as,
		     dst_as, c);
	else
		emit(st, 6, r + off[RM_ROLE_SRC6], r + off[RM_ROLE_DST6], pkts, bytes, src_as,
		     dst_as, c);
	e->n[RM_EXP_RECORDS]++;
}

/* The family of every record of fixed-length template t, 0 for none. */
static int set_family(const struct rm_flow_template *t)
{
	return t->off[RM_ROLE_SRC4] >= 0 && t->off[RM_ROLE_DST4] >= 0	? 4
	       : t->off[RM_ROLE_SRC6] >= 0 && t->off[RM_ROLE_DST6] >= 0 ? 6
									: 0;
}

static int per_record_sampling(const struct rm_flow_template *t)
{
	return t->off[RM_ROLE_SAMPLING] >= 0 || t->off[RM_ROLE_SP_INTERVAL] >= 0 ||
	       t->off[RM_ROLE_SP_SPACE] >= 0;
}

/*
 * The records of a fixed-length data set that all go to one family with
 * the exporter's sampling interval, re-exported: as many at a time as the
 * batch has room for, each such chunk one run noted once (m has the set's
 * template, exporter and time base).
 */
static long data_set_runs(struct rm_flow_state *st, struct rm_flow_exporter *e,
			  const struct rm_flow_template *t, const uint8_t *p, const uint8_t *end,
			  int family, struct rm_flow_meta *m)
{
	struct rm_flow_batch *b = &st->batch;
	uint32_t *have = family == 6 ? &b->n6 : &b->n4, len = t->min_len;
	uint32_t total = (uint32_t)(end - p) / len;
	m->rec_len = (uint16_t)len;
	m->sampling = (uint32_t)(e->sampling ? e->sampling : 1);
	for (uint32_t i = 0; i < total;) {
		if (*have == RM_FLOW_BATCH)
			st->flush(st, st->flush_ctx);
		uint32_t k = *have,
			 n = total - i < RM_FLOW_BATCH - k ? total - i : RM_FLOW_BATCH - k;
		const uint8_t *first = p + (size_t)i * len, *stop = first + (size_t)n * len;
		for (const uint8_t *r = first; r < stop; r += len)
			data_record(st, e, t, r, len, t->off, t->len, NULL);
		m->rec = first;
		append_run(b, family == 6, k, m, n);
		i += n;
	}
	return total;
}

/*
 * One data set of template id, body [p, end).  Returns the records read,
 * or -1 when the template is unknown (the set is skipped by its length)
 * or a record runs past the set.
 */
static long data_set(struct rm_flow_state *st, struct rm_flow_exporter *e, uint16_t id,
		     const uint8_t *p, const uint8_t *end)
{
	const struct rm_flow_template *t = find_template(st, e, id);
	if (!t || !t->used) {
		e->n[RM_EXP_NO_TEMPLATE]++;
		return -1;
	}
	long n = 0;
	struct reexport c, *cp = NULL;
	if (st->want_meta && !t->options) {
		c = (struct reexport){.m = {.sysinit_ms = exporter_sysinit(e),
					    .tmpl = (uint16_t)(t - st->pool),
					    .exporter = (uint16_t)(e - st->exp)}};
		cp = &c;
	}
	if (!t->variable) {
		int family = set_family(t);
		if (cp && family && !per_record_sampling(t))
			return data_set_runs(st, e, t, p, end, family, &c.m);
		/* Whatever is left shorter than a record is padding. */
		for (; end - p >= t->min_len; p += t->min_len, n++)
			data_record(st, e, t, p, t->min_len, t->off, t->len, cp);
		return n;
	}
	int32_t off[RM_ROLES];
	uint8_t len[RM_ROLES];
	while (end - p >= t->min_len) {
		int32_t used = walk_record(t, p, (uint32_t)(end - p), off, len);
		if (used < 0) {
			bad(e, RM_FLOWBAD_RECORD);
			return -2;
		}
		data_record(st, e, t, p, (uint32_t)used, off, len, cp);
		p += used;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* NetFlow v9 and IPFIX messages                                       */

/* A set's (v9: flowset's) header: its id, and its length, header included. */
enum { SET_ID = 0, SET_LENGTH = 2, SET_HEADER = 4 };

/*
 * The sets of a v9 or IPFIX message, c past its header.  v9 flowsets are
 * walked by their lengths: the header's count is unreliable (softflowd
 * leaves the template records out of it).
 */
static long walk_sets(struct rm_flow_state *st, struct rm_flow_exporter *e, struct rm_cur c,
		      int ipfix, int *unknown)
{
	long records = 0;
	while (rm_cur_left(&c)) {
		const uint8_t *h = rm_cur_take(&c, SET_HEADER);
		if (!h) {
			if (!ipfix)
				break; /* v9 allows padding after the last flowset */
			bad(e, RM_FLOWBAD_SET);
			return -1;
		}
		uint16_t id = rm_get_be16(h + SET_ID), slen = rm_get_be16(h + SET_LENGTH);
		struct rm_cur body;
		if (slen < SET_HEADER || rm_cur_sub(&c, slen - SET_HEADER, &body)) {
			bad(e, RM_FLOWBAD_SET);
			return -1;
		}
		if (id == (ipfix ? 2 : 0) || id == (ipfix ? 3 : 1)) {
			if (template_set(st, e, body, ipfix, id == (ipfix ? 3 : 1)))
				return -1;
		} else if (id >= 256) {
			long n = data_set(st, e, id, body.p, body.end);
			if (n == -2)
				return -1;
			if (n < 0)
				*unknown = 1;
			else
				records += n;
		}
		/* Set ids 4..255 are reserved: skipped by their length. */
	}
	return records;
}

/* The v9 header's fields, by offset from the datagram's start. */
enum {
	V9_HDR_COUNT = 2,  /* records (not used: walk_sets) */
	V9_HDR_UPTIME = 4, /* the exporter's uptime, ms */
	V9_HDR_SECS = 8,   /* Unix time, seconds */
	V9_HDR_SEQ = 12,   /* datagrams sent before this one */
	V9_HDR_SOURCE = 16,
	V9_HEADER = 20,
};

/* A v9 datagram, c over all of it. */
static void netflow9(struct rm_flow_state *st, const uint8_t *src, int family, struct rm_cur *c)
{
	const uint8_t *h = rm_cur_take(c, V9_HEADER);
	if (!h) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	struct rm_flow_exporter *e =
	    rm_flow_exporter(st, RM_KIND_NETFLOW9, src, family, rm_get_be32(h + V9_HDR_SOURCE));
	if (!e)
		return;
	e->n[RM_EXP_DATAGRAMS]++;
	rm_flow_sequence(e, rm_get_be32(h + V9_HDR_SEQ), 1);
	e->uptime_ms = rm_get_be32(h + V9_HDR_UPTIME);
	e->clock_ms = (uint64_t)rm_get_be32(h + V9_HDR_SECS) * 1000;
	int unknown = 0;
	walk_sets(st, e, *c, 0, &unknown);
}

/* IPFIX sequence conventions: what the next message's number should be. */
enum { SEQ_RFC, SEQ_RFC_NO_OPTIONS, SEQ_INCLUSIVE, SEQ_INCLUSIVE_ALL, SEQ_MODES };

static uint32_t ipfix_expected(const struct rm_flow_exporter *e, int mode, uint32_t all,
			       uint32_t data)
{
	switch (mode) {
	case SEQ_RFC:
		return e->last_seq + e->last_all;
	case SEQ_RFC_NO_OPTIONS:
		return e->last_seq + e->last_data;
	case SEQ_INCLUSIVE:
		return e->last_seq + data;
	default:
		return e->last_seq + all;
	}
}

static void ipfix_sequence(struct rm_flow_exporter *e, uint32_t seq, uint32_t all, uint32_t data)
{
	if (e->seq_known && seq != ipfix_expected(e, e->seq_mode, all, data)) {
		int learned = 0;
		for (int m = 0; m < SEQ_MODES && !learned; m++)
			if (seq == ipfix_expected(e, m, all, data)) {
				e->seq_mode = (uint8_t)m;
				learned = 1;
			}
		uint32_t ahead = seq - ipfix_expected(e, e->seq_mode, all, data);
		if (!learned && ahead < 0x80000000u) {
			e->n[RM_EXP_GAPS]++;
			e->n[RM_EXP_LOST] += ahead;
		}
	}
	e->last_seq = seq;
	e->last_all = all;
	e->last_data = data;
	e->seq_known = 1;
}

/* The IPFIX message header's fields, by offset from its start. */
enum {
	IPFIX_HDR_VERSION = 0,
	IPFIX_HDR_LENGTH = 2, /* of the message, header included */
	IPFIX_HDR_TIME = 4,   /* export time (not used) */
	IPFIX_HDR_SEQ = 8,    /* data records sent before this message */
	IPFIX_HDR_DOMAIN = 12,
	IPFIX_HEADER = 16,
};

/* An IPFIX message, c over all of the datagram.  Too short is counted
 * before a wrong version. */
static void ipfix(struct rm_flow_state *st, const uint8_t *src, int family, struct rm_cur *c)
{
	const uint8_t *h = rm_cur_take(c, IPFIX_HEADER);
	if (!h) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	if (rm_get_be16(h + IPFIX_HDR_VERSION) != 10) {
		st->bad[RM_FLOWBAD_VERSION]++;
		return;
	}
	struct rm_flow_exporter *e =
	    rm_flow_exporter(st, RM_KIND_IPFIX, src, family, rm_get_be32(h + IPFIX_HDR_DOMAIN));
	if (!e)
		return;
	e->n[RM_EXP_DATAGRAMS]++;
	/* Bytes after the message are not read. */
	uint32_t mlen = rm_get_be16(h + IPFIX_HDR_LENGTH);
	struct rm_cur body;
	if (mlen < IPFIX_HEADER || rm_cur_sub(c, mlen - IPFIX_HEADER, &body))
		return bad(e, RM_FLOWBAD_LENGTH);
	uint32_t seq = rm_get_be32(h + IPFIX_HDR_SEQ);
	int unknown = 0;
	uint64_t options = e->n[RM_EXP_OPTIONS];
	long n = walk_sets(st, e, body, 1, &unknown);
	if (n < 0 || unknown) { /* the records sent are not known: resynchronise */
		e->seq_known = 0;
		return;
	}
	ipfix_sequence(e, seq, (uint32_t)n, (uint32_t)(n - (long)(e->n[RM_EXP_OPTIONS] - options)));
}

void rm_flow_datagram(struct rm_flow_state *st, unsigned proto, const uint8_t *src, int family,
		      const uint8_t *p, uint32_t len)
{
	/* Before anything of the datagram is read or kept (sFlow too: its
	 * agent address is the datagram's word, the source is the packet's). */
	if (st->allow && !rm_flow_allowed(st->allow, src, family))
		return deny(st, src, family);
	if (proto == RM_FLOW_SFLOW)
		return rm_sflow_datagram(st, p, len);
	if (len < 2) {
		st->bad[RM_FLOWBAD_SHORT]++;
		return;
	}
	struct rm_cur c = rm_cur_init(p, len);
	uint16_t version = rm_get_be16(p); /* the first field of all three */
	if (proto == RM_FLOW_IPFIX)
		return ipfix(st, src, family, &c);
	if (version == 9)
		return netflow9(st, src, family, &c);
	if (version != 5) {
		st->bad[RM_FLOWBAD_VERSION]++;
		return;
	}
	netflow5(st, src, family, &c);
}
