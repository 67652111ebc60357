/*
 * scan.c - `rirdb scan -d FILE [PATH...]`: attribute every address literal
 * in text (logs, CSV exports, JSON), plain or gzip-compressed.
 *
 *   rirdb scan -d FILE [--json PATH|-] [--csv PATH|-] [--distinct] [--top N]
 *              [--threads N] [--quiet] [--nat64 PREFIX,...] [PATH...]
 *   rirdb scan -d FILE --annotate [--quiet] [--nat64 PREFIX,...] [PATH...]
 *
 * Each input is one stream through the scanner (scan/scanner.c), read in
 * 1 MiB pieces: a plain regular file with read(2) (when counting, straight
 * into the scanner's window), gzip and standard input through zlib.  A
 * large plain file is instead cut at line boundaries into one stream per
 * thread (below).  Found addresses are batched and attributed with the same bulk
 * lookups as the dataplane; counts are kept per attribution id and grouped
 * into the dataplane's scopes and keys at the end: rir, country
 * ("ripencc:DE"), nir ("apnic:jpnic"; "ripencc:" under none) and holder
 * (the top N by count, the rest "other"; with the holder's name in JSON).
 * `count` is occurrences; `--distinct` also keeps a set of the addresses
 * seen and reports how many distinct addresses each key had.  IPv4-mapped
 * IPv6 counts as IPv4.  --annotate counts nothing: it copies each line
 * with the attribution of its addresses appended.  A 6to4, Teredo or
 * NAT64 address (--nat64 adds prefixes) counts as the IPv4 it carries
 * (transition.h), and in the scope "via" by how; --annotate adds
 * " via=HOW" to such an address.
 *
 * With a located layer (issue #25) each batch is also looked up in the
 * layer's tables (lookup.h: one located id per address, a transition
 * address's the IPv4 it carries, so that registered and located speak of
 * the same address), counted per located id beside the per-attribution
 * counts, and grouped into four more scopes: geo_country ("DE", ZZ when
 * unknown), country_located (registered>located, "NL>DE"; top N, then
 * other), asn ("AS3333", none; top N, then other) and origin (holder,
 * other, unknown: whether the origin AS is the block holder's).  Without
 * the layer nothing of this runs and the outputs are as they were.
 *
 * Exit codes: 0; 1 when an input could not be read (the others are still
 * scanned and reported); 2 usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "byteorder.h"
#include "lookup.h"
#include "model.h"
#include "options.h"
#include "rirdb.h"
#include "scanner.h"
#include "snapshot.h"
#include "output.h"
#include "record.h"
#include "transition.h"

#define PIECE (1u << 20)
#define BATCH 256

/* Open-addressing set of addresses: 16 bytes (IPv4 as ::a.b.c.d) and the
 * family in [16] (KEY_V4 or KEY_V6; 0: the slot is free).  The family is
 * a byte of its own because every 16 bytes are some IPv6 address: no tag
 * inside them keeps ::a.b.c.d-like addresses apart from IPv4. */
enum { KEY_V4 = 1, KEY_V6 = 2 };
struct addr_set {
	uint8_t (*keys)[17];
	size_t n, cap;
};

struct tally {
	struct rm_lookup lk; /* a copy per thread: a batch loads no more than before */
	uint32_t v4[BATCH], ids[BATCH];
	uint8_t v6[BATCH][16];
	unsigned n4, n6;
	uint64_t *count, *distinct; /* per attribution id */
	/* The located layer's tables, NULL without one; counts per located id. */
	const struct rm_geo_lookup *geo;
	uint32_t gids[BATCH];
	uint64_t *lcount, *ldistinct;
	struct addr_set seen; /* with --distinct */
	uint64_t found;
	uint64_t via[RM_VIA_COUNT]; /* addresses counted as the IPv4 they carry */
	uint64_t via_distinct[RM_VIA_COUNT];
	int want_distinct, oom;
};

/* The NAT64 prefixes (well-known, --nat64) and the ids transition
 * addresses can have: set once before any thread starts, then read-only. */
static struct rm_transition transition;
static struct rm_via_map via_map;

/* The attribution of IPv6 address a, looked up as id: its embedded IPv4's
 * when it carries one, counted in via[how] when via is not NULL. */
static uint32_t attribute6(const struct rm_lookup *lk, const uint8_t a[16], uint32_t id,
			   uint64_t *via, enum rm_via *how)
{
	id = rm_via_attribute(&via_map, lk, a, id, how);
	if (via && *how != RM_VIA_NONE)
		via[*how]++;
	return id;
}

static uint64_t hash17(const uint8_t k[17])
{
	uint64_t a, b;
	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	return (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ (b >> 29) ^ k[16];
}

/* 1 when k (address and family) was not in the set yet. */
static int set_add(struct addr_set *s, const uint8_t k[17], int *oom)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1u << 16;
		uint8_t(*keys)[17] = calloc(cap, sizeof(*keys));
		if (!keys) {
			*oom = 1;
			return 0;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->keys[i][16])
				continue;
			size_t j = hash17(s->keys[i]) & (cap - 1);
			while (keys[j][16])
				j = (j + 1) & (cap - 1);
			memcpy(keys[j], s->keys[i], 17);
		}
		free(s->keys);
		s->keys = keys;
		s->cap = cap;
	}
	size_t j = hash17(k) & (s->cap - 1);
	while (s->keys[j][16]) {
		if (memcmp(s->keys[j], k, 17) == 0)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	memcpy(s->keys[j], k, 17);
	s->n++;
	return 1;
}

/* t's counters, for its lookups (t->lk, t->geo); 0 or -1. */
static int tally_alloc(struct tally *t)
{
	t->count = calloc(t->lk.db->n_attrs + 1, sizeof(uint64_t));
	t->distinct = calloc(t->lk.db->n_attrs + 1, sizeof(uint64_t));
	if (t->geo) {
		t->lcount = calloc(t->geo->n_loc + 1, sizeof(uint64_t));
		t->ldistinct = calloc(t->geo->n_loc + 1, sizeof(uint64_t));
	}
	return t->count && t->distinct && (!t->geo || (t->lcount && t->ldistinct)) ? 0 : -1;
}

static void tally_free(struct tally *t)
{
	free(t->count);
	free(t->distinct);
	free(t->lcount);
	free(t->ldistinct);
	free(t->seen.keys);
}

/* Count one address; 1 when it is new to the distinct set. */
static int count_id(struct tally *t, uint32_t id, const uint8_t key[17])
{
	if (id >= t->lk.db->n_attrs)
		id = 0; /* cannot happen with a validated snapshot; never index past */
	t->count[id]++;
	if (!t->want_distinct || !set_add(&t->seen, key, &t->oom))
		return 0;
	t->distinct[id]++;
	return 1;
}

/* Count one address for its located id; fresh: new to the distinct set
 * (count_id's answer, so the set is tested once per address). */
static void count_located(struct tally *t, uint32_t gid, int fresh)
{
	if (gid >= t->geo->n_loc)
		gid = 0; /* as in count_id */
	t->lcount[gid]++;
	t->ldistinct[gid] += (unsigned)fresh;
}

/* The located id of IPv6 address a, looked up as gid: its embedded IPv4's
 * when it is a transition address (how, from attribute6), as the
 * registry's answer is. */
static uint32_t locate6(const struct rm_geo_lookup *g, const uint8_t a[16], uint32_t gid,
			enum rm_via how)
{
	uint32_t v4, server;
	if (how == RM_VIA_NONE ||
	    rm_transition_embedded(&transition, a, &v4, &server) == RM_VIA_NONE)
		return gid;
	return rm_geo_lookup4_one(g, v4);
}

static void flush4(struct tally *t)
{
	rm_lookup4_bulk(&t->lk, t->v4, t->ids, t->n4);
	if (t->geo)
		rm_geo_lookup4_bulk(t->geo, t->v4, t->gids, t->n4);
	for (unsigned i = 0; i < t->n4; i++) {
		uint8_t k[17] = {0};
		rm_put_be32(k + 12, t->v4[i]);
		k[16] = KEY_V4;
		int fresh = count_id(t, t->ids[i], k);
		if (t->geo)
			count_located(t, t->gids[i], fresh);
	}
	t->n4 = 0;
}

static void flush6(struct tally *t)
{
	rm_lookup6_bulk(&t->lk, (const uint8_t(*)[16])t->v6, t->ids, t->n6);
	if (t->geo)
		rm_geo_lookup6_bulk(t->geo, (const uint8_t(*)[16])t->v6, t->gids, t->n6);
	for (unsigned i = 0; i < t->n6; i++) {
		enum rm_via how;
		t->ids[i] = attribute6(&t->lk, t->v6[i], t->ids[i], t->via, &how);
		uint8_t k[17];
		memcpy(k, t->v6[i], 16);
		k[16] = KEY_V6; /* ::a.b.c.d is not a.b.c.d */
		int fresh = count_id(t, t->ids[i], k);
		if (fresh && how != RM_VIA_NONE)
			t->via_distinct[how]++;
		if (t->geo)
			count_located(t, locate6(t->geo, t->v6[i], t->gids[i], how), fresh);
	}
	t->n6 = 0;
}

static void on_found(void *ctx, const struct rl_found *f)
{
	struct tally *t = ctx;
	t->found++;
	if (f->v6) {
		memcpy(t->v6[t->n6++], f->v6addr, 16);
		if (t->n6 == BATCH)
			flush6(t);
	} else {
		t->v4[t->n4++] = f->v4;
		if (t->n4 == BATCH)
			flush4(t);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * --annotate: each line is fed to the scanner whole, so every address in it
 * has been reported once its newline has gone through (a newline ends any
 * token); the line is then written with " addr=A rir=R cc=CC holder=H" for
 * each address appended before its line ending, " nir=N" after the cc of an
 * address under a NIR (so lines of space under none read as before), and
 * with a located layer " geo=CC asn=ASn origin=O" after the holder.
 */
struct annot {
	const struct rm_lookup *lk;
	FILE *out;
	char *line; /* a partial line carried between pieces */
	size_t len, cap;
	struct rl_found *found;
	size_t n_found, cap_found;
	int oom;
};

static void on_found_line(void *ctx, const struct rl_found *f)
{
	struct annot *an = ctx;
	if (an->n_found == an->cap_found) {
		size_t cap = an->cap_found ? 2 * an->cap_found : 16;
		struct rl_found *v = realloc(an->found, cap * sizeof(*v));
		if (!v) {
			an->oom = 1;
			return;
		}
		an->found = v;
		an->cap_found = cap;
	}
	an->found[an->n_found++] = *f;
}

/*
 * A key=value value: its display text (output.h: control characters as
 * \xNN, so a newline in a holder name never splits the line), quoted
 * (with \" and \\) when it has a space, '"', '=' or a backslash.
 */
static void put_value(FILE *o, const char *raw)
{
	char text[4 * RM_KEY_MAX];
	const char *v = text;
	rm_text_escape(text, sizeof(text), raw);
	if (!v[strcspn(v, " \t\"=\\")]) {
		fputs(v, o);
		return;
	}
	fputc('"', o);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', o);
		fputc(*v, o);
	}
	fputc('"', o);
}

/* With a located layer: " geo=CC asn=ASn origin=O" (ZZ, none and unknown
 * when the layer knows nothing), from its reference lookup (a binary
 * search: --annotate answers one address at a time anyway), for the
 * address as written, as rirdb lookup's geo_cc, origin_asn and origin;
 * origin compares the AS of the address attributed (a transition
 * address's IPv4, how says) with the holder of attribution id, the one
 * the line shows. */
static void put_located(FILE *o, const struct rm_db *db, const struct rl_found *f, uint32_t id,
			enum rm_via how)
{
	uint32_t g = f->v6 ? rm_ref_geo6(db, rm_v6_from_bytes(f->v6addr)) : rm_ref_geo4(db, f->v4);
	const struct rm_geo *x = &db->geo[g];
	fprintf(o, " geo=%.2s", x->cc[0] ? x->cc : "ZZ");
	if (x->asn)
		fprintf(o, " asn=AS%u", x->asn);
	else
		fputs(" asn=none", o);
	/* A transition address's origin: its IPv4's AS against its IPv4's
	 * holder, as the counts take it (geo= and asn= stay as written). */
	uint32_t asn = x->asn, v4, server;
	if (how != RM_VIA_NONE &&
	    rm_transition_embedded(&transition, f->v6addr, &v4, &server) != RM_VIA_NONE)
		asn = db->geo[rm_ref_geo4(db, v4)].asn;
	fprintf(o, " origin=%s", rm_origin_name(rm_ref_origin(db, id, asn)));
}

/* One line (with its newline, if any) as a stream of its own: a newline
 * ends every token, so each line's addresses are all known at its end. */
static void annotate_line(struct annot *an, struct rl_scanner *sc, const char *l, size_t n)
{
	an->n_found = 0;
	if (rl_scanner_feed(sc, l, n, on_found_line, an) || rl_scanner_end(sc, on_found_line, an))
		an->oom = 1;
	size_t body = n;
	while (body && (l[body - 1] == '\n' || l[body - 1] == '\r'))
		body--;
	fwrite(l, 1, body, an->out);
	for (size_t i = 0; i < an->n_found; i++) {
		const struct rl_found *f = &an->found[i];
		char a[64], key[RM_KEY_MAX];
		uint32_t id;
		enum rm_via how = RM_VIA_NONE;
		if (f->v6) {
			id = attribute6(an->lk, f->v6addr, rm_lookup6_one(an->lk, f->v6addr), NULL,
					&how);
			inet_ntop(AF_INET6, f->v6addr, a, sizeof(a));
		} else {
			uint8_t be[4];
			rm_put_be32(be, f->v4);
			id = rm_lookup4_one(an->lk, f->v4);
			inet_ntop(AF_INET, be, a, sizeof(a));
		}
		if (id >= an->lk->db->n_attrs)
			id = 0;
		const struct rm_attr *at = &an->lk->db->attrs[id];
		rm_key_holder(an->lk->db, at, key, sizeof(key));
		fprintf(an->out, " addr=%s rir=%s cc=%.2s", a, rm_rir_name(at->rir),
			at->cc[0] ? at->cc : "ZZ");
		if (at->nir)
			fprintf(an->out, " nir=%s", rm_nir_name(at->nir));
		fputs(" holder=", an->out);
		put_value(an->out, key);
		if (how != RM_VIA_NONE)
			fprintf(an->out, " via=%s", rm_via_name(how));
		if (an->lk->db->n_geo)
			put_located(an->out, an->lk->db, f, id, how);
	}
	fwrite(l + body, 1, n - body, an->out);
}

/* Split a piece into lines; the tail waits in an->line for the next one. */
static void annotate_piece(struct annot *an, struct rl_scanner *sc, const char *p, size_t n)
{
	const char *nl;
	while (n && (nl = memchr(p, '\n', n))) {
		size_t k = (size_t)(nl - p) + 1;
		if (an->len) { /* finish the carried line */
			if (an->len + k > an->cap) {
				char *l = realloc(an->line, an->len + k);
				if (!l) {
					an->oom = 1;
					return;
				}
				an->line = l;
				an->cap = an->len + k;
			}
			memcpy(an->line + an->len, p, k);
			annotate_line(an, sc, an->line, an->len + k);
			an->len = 0;
		} else {
			annotate_line(an, sc, p, k);
		}
		p += k;
		n -= k;
	}
	if (n) {
		if (an->len + n > an->cap) {
			size_t cap = 2 * (an->len + n);
			char *l = realloc(an->line, cap);
			if (!l) {
				an->oom = 1;
				return;
			}
			an->line = l;
			an->cap = cap;
		}
		memcpy(an->line + an->len, p, n);
		an->len += n;
	}
}

/*
 * An input: gzip (or a pipe) through zlib, a plain regular file with
 * read(2) straight into the caller's buffer (zlib copies what it passes
 * through: 8% of the instructions of a scan).
 */
struct input {
	gzFile g; /* NULL: plain */
	int fd, err;
};

/* A regular file that does not start with gzip's magic: read as it is. */
static int plain_file(int fd, struct stat *st)
{
	unsigned char magic[2];
	return fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
	       !(pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
}

static int input_open(struct input *in, const char *path)
{
	int stdin_in = strcmp(path, "-") == 0;
	struct stat st;
	in->g = NULL;
	in->err = 0;
	in->fd = stdin_in ? dup(STDIN_FILENO) : open(path, O_RDONLY);
	if (in->fd < 0)
		return -1;
	if (!stdin_in && plain_file(in->fd, &st))
		return 0;
	if (!(in->g = gzdopen(in->fd, "rb"))) {
		close(in->fd);
		return -1;
	}
	gzbuffer(in->g, PIECE);
	return 0;
}

/* Up to cap bytes; 0 at the end, -1 on an error (input_error says). */
static long input_read(struct input *in, char *buf, size_t cap)
{
	if (in->g)
		return gzread(in->g, buf, (unsigned)cap);
	size_t got = 0;
	while (got < cap) {
		ssize_t r = read(in->fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			in->err = errno;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

/* NULL when the input was read to its end without error. */
static const char *input_error(struct input *in)
{
	if (!in->g)
		return in->err ? strerror(in->err) : NULL;
	int e;
	const char *msg = gzerror(in->g, &e);
	if (e == Z_OK || e == Z_STREAM_END) /* a truncated gzip ends with 0 */
		return NULL;
	return e == Z_ERRNO ? strerror(errno) : msg;
}

static void input_close(struct input *in)
{
	if (in->g)
		gzclose(in->g);
	else
		close(in->fd);
}

/* The start of a progress line: the line cleared, then the path as
 * display text. */
static void progress_path(const char *path)
{
	fputs("\r\033[K", stderr);
	rm_put_text(stderr, path);
}

/* Scan one input; 0, or -1 with the reason on stderr. */
static int scan_input(struct rl_scanner *sc, const char *path, struct tally *t, char *piece,
		      uint64_t *bytes, int progress, double t0, struct annot *an)
{
	struct input in;
	if (input_open(&in, path)) {
		rm_say_file("rirdb scan", path, ": %s\n", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	int rc = 0;
	long n;
	for (;;) {
		/* Counting reads straight into the scanner's window (no copy). */
		char *room = an ? piece : rl_scanner_room(sc, PIECE);
		if (!room) {
			rm_say_file("rirdb scan", path, ": out of memory\n");
			rc = -1;
			n = 0;
			break;
		}
		if ((n = input_read(&in, room, PIECE)) <= 0)
			break;
		*bytes += (uint64_t)n;
		if (an) {
			annotate_piece(an, sc, piece, (size_t)n);
		} else if (rl_scanner_commit(sc, (size_t)n, on_found, t)) {
			rm_say_file("rirdb scan", path, ": scanner failed\n");
			rc = -1;
			break;
		}
		if (progress) {
			double s = now_s() - t0;
			progress_path(path);
			fprintf(stderr, ": %.1f MB, %" PRIu64 " addresses, %.1f MB/s",
				(double)*bytes / 1e6, t->found,
				s > 0 ? (double)*bytes / 1e6 / s : 0.0);
		}
	}
	const char *why = input_error(&in);
	if (n < 0 || why) {
		rm_say_file("rirdb scan", path, ": %s\n", why ? why : "read error");
		rc = -1; /* what was read so far still counts, and is said to */
	}
	if (an) { /* the last line, when it has no newline */
		if (an->len)
			annotate_line(an, sc, an->line, an->len);
		else if (rl_scanner_end(sc, on_found_line, an))
			an->oom = 1;
		an->len = 0;
		if (an->oom) {
			rm_say_file("rirdb scan", path, ": out of memory or scanner failure\n");
			rc = -1;
		}
	} else if (rl_scanner_end(sc, on_found, t) && rc == 0) {
		rm_say_file("rirdb scan", path, ": scanner failed\n");
		rc = -1;
	}
	input_close(&in);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Large plain files: split at line boundaries across threads          */

/*
 * A plain (not gzip) regular file of at least MIN_SPLIT bytes per thread is
 * mapped and cut into one range per thread, each ending after a newline,
 * so no token straddles two ranges (a newline ends every token, and a
 * range's first byte follows one, as the scanner's stream edge does).
 * Each thread has its own scanner (Hyperscan scratch and stream) and its
 * own tally; the main thread adds the counts and merges the address sets.
 */
#define MIN_SPLIT (1u << 20)
/* The most --threads may ask for, and the default on larger machines. */
#define SCAN_THREADS_MAX 256

struct part {
	const struct rl_scan_db *sdb;
	const char *p;
	size_t n;
	struct tally t;
	int failed;
	size_t done;  /* bytes scanned so far, for progress (atomic) */
	int finished; /* (atomic) */
};

static void *scan_part(void *arg)
{
	struct part *w = arg;
	char err[128];
	struct rl_scanner *sc = rl_scanner_new(w->sdb, err, sizeof(err));
	w->failed = !sc;
	for (size_t at = 0; sc && at < w->n && !w->failed; at += PIECE) {
		size_t n = w->n - at < PIECE ? w->n - at : PIECE;
		w->failed = rl_scanner_feed(sc, w->p + at, n, on_found, &w->t) != 0;
		__atomic_store_n(&w->done, at + n, __ATOMIC_RELAXED);
	}
	if (sc && rl_scanner_end(sc, on_found, &w->t))
		w->failed = 1;
	flush4(&w->t);
	flush6(&w->t);
	rl_scanner_free(sc);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* On a terminal, the parts' progress until every thread is done. */
static void show_parts(const char *path, struct part *w, unsigned n, uint64_t before, double t0)
{
	for (;;) {
		uint64_t done = before;
		unsigned finished = 0;
		for (unsigned i = 0; i < n; i++) {
			done += __atomic_load_n(&w[i].done, __ATOMIC_RELAXED);
			finished += (unsigned)__atomic_load_n(&w[i].finished, __ATOMIC_ACQUIRE);
		}
		double s = now_s() - t0;
		progress_path(path);
		fprintf(stderr, ": %.1f MB, %u threads, %.1f MB/s", (double)done / 1e6, n,
			s > 0 ? (double)done / 1e6 / s : 0.0);
		if (finished == n)
			return;
		usleep(200000);
	}
}

/* Add w's counts to t; its distinct addresses new to t count for their
 * id (and located id). */
static void merge_part(struct tally *t, struct part *w)
{
	for (uint32_t id = 0; id < t->lk.db->n_attrs; id++)
		t->count[id] += w->t.count[id];
	for (uint32_t id = 0; t->geo && id < t->geo->n_loc; id++)
		t->lcount[id] += w->t.lcount[id];
	t->found += w->t.found;
	t->oom |= w->t.oom;
	for (unsigned k = 0; k < RM_VIA_COUNT; k++)
		t->via[k] += w->t.via[k];
	for (size_t i = 0; t->want_distinct && i < w->t.seen.cap; i++) {
		const uint8_t *k = w->t.seen.keys[i];
		if (!k[16] || !set_add(&t->seen, k, &t->oom))
			continue;
		uint32_t id, gid = 0;
		if (k[16] == KEY_V4) {
			id = rm_lookup4_one(&t->lk, rm_get_be32(k + 12));
			if (t->geo)
				gid = rm_geo_lookup4_one(t->geo, rm_get_be32(k + 12));
		} else {
			uint8_t a[16];
			memcpy(a, k, 16);
			enum rm_via how;
			id = attribute6(&t->lk, a, rm_lookup6_one(&t->lk, a), NULL, &how);
			if (how != RM_VIA_NONE)
				t->via_distinct[how]++;
			if (t->geo) {
				rm_geo_lookup6_bulk(t->geo, (const uint8_t(*)[16])a, &gid, 1);
				gid = locate6(t->geo, a, gid, how);
			}
		}
		t->distinct[id < t->lk.db->n_attrs ? id : 0]++;
		if (t->geo)
			t->ldistinct[gid < t->geo->n_loc ? gid : 0]++;
	}
}

/*
 * Scan path with up to threads threads; 1 when done, 0 when the file is
 * not worth splitting (or not a plain regular file), -1 on an error.
 */
static int scan_split(const struct rl_scan_db *sdb, const char *path, struct tally *t,
		      unsigned threads, uint64_t *bytes, int progress, double t0)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || !plain_file(fd, &st) || (uint64_t)st.st_size < (uint64_t)MIN_SPLIT * 2 ||
	    threads < 2) {
		if (fd >= 0)
			close(fd);
		return 0; /* the one-stream path reads it (and names any error) */
	}
	size_t len = (size_t)st.st_size;
	if (threads > len / MIN_SPLIT)
		threads = (unsigned)(len / MIN_SPLIT);
	const char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	madvise((void *)m, len, MADV_SEQUENTIAL);
	struct part *w = calloc(threads, sizeof(*w));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	int rc = w && tid ? 1 : -1;
	size_t at = 0;
	unsigned started = 0;
	for (unsigned i = 0; rc == 1 && i < threads; i++) {
		size_t end = i + 1 == threads ? len : len / threads * (i + 1);
		const char *nl = end < len ? memchr(m + end, '\n', len - end) : NULL;
		end = end < len ? (nl ? (size_t)(nl - m) + 1 : len) : len;
		if (end < at)
			end = at;
		w[i] = (struct part){.sdb = sdb, .p = m + at, .n = end - at};
		w[i].t =
		    (struct tally){.lk = t->lk, .geo = t->geo, .want_distinct = t->want_distinct};
		if (tally_alloc(&w[i].t) || pthread_create(&tid[i], NULL, scan_part, &w[i])) {
			rc = -1;
			break;
		}
		started++;
		at = end;
	}
	if (progress && started)
		show_parts(path, w, started, *bytes, t0);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (w[i].failed)
			rc = -1;
		merge_part(t, &w[i]);
	}
	for (unsigned i = 0; w && i < threads; i++)
		tally_free(&w[i].t);
	free(w);
	free(tid);
	munmap((void *)m, len);
	if (rc < 0) {
		rm_say_file("rirdb scan", path, ": out of memory, or a thread or scanner failed\n");
	} else
		*bytes += len;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Grouping and output                                                 */

struct row {
	char *key;
	uint64_t count, distinct;
	const char *name; /* holders: the display name, "" or NULL when none (db's) */
};

struct rows {
	struct row *v;
	size_t n;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->key, ((const struct row *)b)->key);
}

static int by_count(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* m rows, one per id: those of one key added up, sorted by count. */
static void merge_rows(struct rows *out, size_t m)
{
	qsort(out->v, m, sizeof(*out->v), by_key);
	size_t w = 0;
	for (size_t i = 0; i < m; i++) {
		if (w && strcmp(out->v[w - 1].key, out->v[i].key) == 0) {
			out->v[w - 1].count += out->v[i].count;
			out->v[w - 1].distinct += out->v[i].distinct;
			if (!*out->v[w - 1].name) /* ids of one holder: one name */
				out->v[w - 1].name = out->v[i].name;
			free(out->v[i].key);
		} else {
			out->v[w++] = out->v[i];
		}
	}
	out->n = w;
	qsort(out->v, w, sizeof(*out->v), by_count);
}

/* The ids that were seen, grouped by their key; sorted by count. */
static int group_by(const struct tally *t,
		    int (*key)(const struct rm_db *, const struct rm_attr *, char *, size_t),
		    struct rows *out)
{
	size_t m = 0;
	out->v = calloc(t->lk.db->n_attrs + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (uint32_t id = 0; id < t->lk.db->n_attrs; id++) {
		if (!t->count[id])
			continue;
		const struct rm_attr *a = &t->lk.db->attrs[id];
		int len = key(t->lk.db, a, NULL, 0);
		char *k = len >= 0 ? malloc((size_t)len + 1) : NULL;
		if (!k)
			return -1;
		key(t->lk.db, a, k, (size_t)len + 1);
		out->v[m++] =
		    (struct row){k, t->count[id], t->distinct[id], rm_holder_key_name(t->lk.db, a)};
	}
	merge_rows(out, m);
	return 0;
}

/* The located keys (at most 12 characters): country ("ZZ" for "\0\0"),
 * registered>located country, origin AS, origin. */
static const char *cc_or_zz(const char cc[2])
{
	return cc[0] ? cc : "ZZ";
}

static void key_geo_country(const struct rm_located *l, char *k, size_t n)
{
	snprintf(k, n, "%.2s", cc_or_zz(l->cc));
}

static void key_country_located(const struct rm_located *l, char *k, size_t n)
{
	snprintf(k, n, "%.2s>%.2s", cc_or_zz(l->reg_cc), cc_or_zz(l->cc));
}

static void key_asn(const struct rm_located *l, char *k, size_t n)
{
	if (l->asn)
		snprintf(k, n, "AS%" PRIu32, l->asn);
	else
		snprintf(k, n, "none");
}

static void key_origin(const struct rm_located *l, char *k, size_t n)
{
	snprintf(k, n, "%s", rm_origin_name((enum rm_origin)l->origin));
}

/* The located ids that were seen, grouped by their key; sorted by count. */
static int group_located(const struct tally *t,
			 void (*key)(const struct rm_located *, char *, size_t), struct rows *out)
{
	size_t m = 0;
	out->v = calloc(t->geo->n_loc + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (uint32_t id = 0; id < t->geo->n_loc; id++) {
		if (!t->lcount[id])
			continue;
		char k[32];
		key(&t->geo->loc[id], k, sizeof(k));
		/* An AS's row named as rirmeter names it (rm_asn_name); the
		 * names live in the snapshot, open until the end. */
		const char *name = key == key_asn ? rm_asn_name(t->lk.db, t->geo->loc[id].asn) : "";
		out->v[m] = (struct row){strdup(k), t->lcount[id], t->ldistinct[id], name};
		if (!out->v[m++].key) {
			out->n = m - 1;
			return -1;
		}
	}
	merge_rows(out, m);
	return 0;
}

/* Keys beyond the top N (holders, country_located, asn) become one "other"
 * row. */
static int cut_top(struct rows *r, size_t top)
{
	if (r->n <= top)
		return 0;
	struct row other = {strdup("other"), 0, 0, ""};
	if (!other.key)
		return -1;
	for (size_t i = top; i < r->n; i++) {
		other.count += r->v[i].count;
		other.distinct += r->v[i].distinct;
		free(r->v[i].key);
	}
	r->v[top] = other;
	r->n = top + 1;
	return 0;
}

static void free_rows(struct rows *r)
{
	for (size_t i = 0; r->v && i < r->n; i++)
		free(r->v[i].key);
	free(r->v);
}

struct sink {
	FILE *json, *csv, *table;
	char ts[RM_RFC3339_LEN], snap[16];
	int distinct;
	int scope_width; /* the table's scope column: wider for the located scopes */
};

/* The records' fields: the totals of one run, with distinct when asked. */
static unsigned scan_fields(const struct sink *s)
{
	return RM_RECORD_SCAN | (s->distinct ? RM_FIELD(RM_F_DISTINCT) : 0);
}

/* One record; a holder's or an AS's name in JSON (record.h: CSV keeps its
 * columns) and at the end of its table line. */
static void emit(const struct sink *s, const char *scope, const struct row *r)
{
	int named =
	    r->name && *r->name && (strcmp(scope, "holder") == 0 || strcmp(scope, "asn") == 0);
	struct rm_record rec = {.has = scan_fields(s) | (named ? RM_FIELD(RM_F_NAME) : 0),
				.ts = s->ts,
				.interval = "total",
				.snapshot = s->snap,
				.scope = scope,
				.key = r->key,
				.count = r->count,
				.distinct = r->distinct,
				.name = named ? r->name : ""};
	if (s->json)
		rm_record_write_json(s->json, &rec);
	if (s->csv)
		rm_record_write_csv(s->csv, &rec, scan_fields(s));
	if (s->table) {
		char key[4 * RM_KEY_MAX]; /* the display text (output.h) */
		rm_text_escape(key, sizeof(key), r->key);
		fprintf(s->table, "%-*s %-40s %14" PRIu64, s->scope_width, scope, key, r->count);
		if (s->distinct)
			fprintf(s->table, " %14" PRIu64, r->distinct);
		if (named) { /* display text, as the key (output.h) */
			fputs("  ", s->table);
			rm_put_text(s->table, r->name);
		}
		fputc('\n', s->table);
	}
}

/* The located scopes, after the others (a run without the layer writes
 * what it wrote before). */
static int write_located(const struct tally *t, const struct sink *s, unsigned top)
{
	static const struct {
		const char *scope;
		void (*key)(const struct rm_located *, char *, size_t);
		int top; /* top N, then other, as for holders */
	} scopes[] = {{"geo_country", key_geo_country, 0},
		      {"country_located", key_country_located, 1},
		      {"asn", key_asn, 1},
		      {"origin", key_origin, 0}};
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		struct rows r = {0};
		int bad =
		    group_located(t, scopes[i].key, &r) || (scopes[i].top && cut_top(&r, top));
		for (size_t j = 0; !bad && j < r.n; j++)
			emit(s, scopes[i].scope, &r.v[j]);
		free_rows(&r);
		if (bad)
			return -1;
	}
	return 0;
}

static int write_report(const struct tally *t, const struct sink *s, unsigned top)
{
	uint64_t rc[RM_RIR_COUNT] = {0}, rd[RM_RIR_COUNT] = {0};
	for (uint32_t id = 0; id < t->lk.db->n_attrs; id++) {
		rc[t->lk.db->attrs[id].rir % RM_RIR_COUNT] += t->count[id];
		rd[t->lk.db->attrs[id].rir % RM_RIR_COUNT] += t->distinct[id];
	}
	if (s->csv)
		rm_record_write_csv_header(s->csv, scan_fields(s));
	if (s->table)
		fprintf(s->table, "%-*s %-40s %14s%s  name\n", s->scope_width, "scope", "key",
			"count", s->distinct ? "       distinct" : "");
	for (unsigned k = 0; k < RM_RIR_COUNT; k++) {
		struct row r = {(char *)rm_rir_name(k), rc[k], rd[k], NULL};
		emit(s, "rir", &r);
	}
	struct rows cc = {0}, nir = {0}, ho = {0};
	int bad = group_by(t, rm_key_country, &cc) || group_by(t, rm_key_nir, &nir) ||
		  group_by(t, rm_key_holder, &ho) || cut_top(&ho, top);
	for (size_t i = 0; !bad && i < cc.n; i++)
		emit(s, "country", &cc.v[i]);
	for (size_t i = 0; !bad && i < nir.n; i++)
		emit(s, "nir", &nir.v[i]);
	for (size_t i = 0; !bad && i < ho.n; i++)
		emit(s, "holder", &ho.v[i]);
	for (unsigned k = 1; k < RM_VIA_COUNT; k++)
		if (t->via[k]) {
			struct row r = {(char *)rm_via_name(k), t->via[k], t->via_distinct[k]};
			emit(s, "via", &r);
		}
	free_rows(&cc);
	free_rows(&nir);
	free_rows(&ho);
	return bad || (t->geo && write_located(t, s, top)) ? -1 : 0;
}

/* ------------------------------------------------------------------ */

static const char usage_text[] =
    "usage: rirdb scan -d FILE [--json PATH|-] [--csv PATH|-] [--distinct] [--top N]\n"
    "                  [--threads N] [--quiet] [--nat64 PREFIX,...] [PATH...]\n"
    "       rirdb scan -d FILE --annotate [--quiet] [--nat64 PREFIX,...] [PATH...]\n"
    "Attributes every IPv4 and IPv6 address literal in the text of each PATH\n"
    "(plain or gzip; standard input when none or -): counts per rir, country, nir\n"
    "and holder (top N, default 20, then other); with a located layer also per\n"
    "geo_country, country_located (registered>located, top N), asn (top N) and\n"
    "origin (holder, other, unknown). A table on standard output unless --json or\n"
    "--csv is given. --annotate instead copies each line to standard output with\n"
    "\" addr=A rir=R cc=CC holder=H\" appended for each address (\" nir=N\" after the\n"
    "cc of an address under a NIR; \" geo=CC asn=ASn origin=O\" after the holder\n"
    "when the snapshot has a located layer).\n"
    "A 6to4, Teredo or NAT64 address (64:ff9b::/96, 64:ff9b:1::/48, --nat64's)\n"
    "counts as the IPv4 it carries, and in the scope via (annotated via=HOW).\n"
    "Plain files of 2 MiB or more are split at line boundaries across --threads\n"
    "threads (default: one per online CPU).\n";

static FILE *open_out(const char *path)
{
	FILE *f = rm_open_output(path);
	if (!f)
		rm_say_file("rirdb scan", path, ": %s\n", strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	if (rm_close_output(f) == 0)
		return 0;
	rm_say_file("rirdb scan", path, ": write failed: %s\n", strerror(errno));
	return 1;
}

int rirdb_scan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", required_argument, NULL, 'j'},
	    {"csv", required_argument, NULL, 'c'},
	    {"distinct", no_argument, NULL, 'D'},
	    {"annotate", no_argument, NULL, 'A'},
	    {"threads", required_argument, NULL, 'T'},
	    {"top", required_argument, NULL, 'n'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"nat64", required_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	rm_transition_init(&transition);
	const char *dbpath = NULL, *json = NULL, *csv = NULL;
	unsigned top = 20;
	int distinct = 0, quiet = 0, annotate = 0, c;
	unsigned threads = rm_default_threads(sysconf(_SC_NPROCESSORS_ONLN), SCAN_THREADS_MAX);
	while ((c = getopt_long(argc, argv, "d:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'D':
			distinct = 1;
			break;
		case 'A':
			annotate = 1;
			break;
		case 'T':
			if (rm_opt_uint("rirdb scan", "--threads", optarg, 1, SCAN_THREADS_MAX,
					&threads))
				return 2;
			break;
		case 'n':
			if (rm_opt_uint("rirdb scan", "--top", optarg, 0, 100000, &top))
				return 2;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'N':
			if (rm_transition_add(&transition, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirdb scan: %s\n", err);
				return 2;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (annotate && (json || csv || distinct)) {
		fprintf(stderr, "rirdb scan: --annotate writes lines, not counts: no --json, "
				"--csv or --distinct with it\n");
		return 2;
	}
	if (!dbpath) {
		fprintf(stderr, "rirdb scan: needs -d FILE\n");
		fputs(usage_text, stderr);
		return 2;
	}
	struct rm_snapshot *snap = rm_snapshot_open(dbpath, err, sizeof(err));
	if (!snap) {
		fprintf(stderr, "rirdb scan: %s: %s\n", dbpath, err);
		return 1;
	}
	struct tally t = {.want_distinct = distinct};
	struct rm_geo_lookup geo = {0};
	rm_lookup_bind(&t.lk, snap, RM_SIMD_BEST);			    /* always binds */
	if (rm_transition_add_db(&transition, t.lk.db, err, sizeof(err))) { /* build --nat64's */
		fprintf(stderr, "rirdb scan: %s\n", err);
		rm_snapshot_close(snap);
		return 1;
	}
	if (rm_via_map_init(&via_map, &t.lk, &transition)) {
		fprintf(stderr, "rirdb scan: out of memory\n");
		rm_snapshot_close(snap);
		return 1;
	}
	/* The located layer's tables, when counting (--annotate answers one
	 * address at a time from the range lists). */
	if (!annotate && rm_geo_lookup_build(&geo, t.lk.db, RM_SIMD_BEST, err, sizeof(err))) {
		fprintf(stderr, "rirdb scan: %s\n", err);
		rm_via_map_free(&via_map);
		rm_snapshot_close(snap);
		return 1;
	}
	t.geo = geo.loc ? &geo : NULL;
	char *piece = malloc(PIECE);
	struct rl_scan_db *sdb = rl_scan_db_new(err, sizeof(err));
	struct rl_scanner *sc = sdb ? rl_scanner_new(sdb, err, sizeof(err)) : NULL;
	int rc = 0;
	if (tally_alloc(&t) || !piece || !sc) {
		fprintf(stderr, "rirdb scan: %s\n", sc ? "out of memory" : err);
		rc = 1;
		goto out;
	}
	int progress = !quiet && isatty(STDERR_FILENO);
	uint64_t bytes = 0;
	double t0 = now_s();
	struct annot an = {.lk = &t.lk, .out = stdout}, *anp = annotate ? &an : NULL;
	if (optind == argc && scan_input(sc, "-", &t, piece, &bytes, progress, t0, anp))
		rc = 1;
	for (int i = optind; i < argc; i++) {
		int split = anp || strcmp(argv[i], "-") == 0
				? 0
				: scan_split(sdb, argv[i], &t, threads, &bytes, progress, t0);
		if (split < 0 ||
		    (split == 0 && scan_input(sc, argv[i], &t, piece, &bytes, progress, t0, anp)))
			rc = 1;
	}
	free(an.line);
	free(an.found);
	if (annotate) {
		if (progress)
			fputs("\r\033[K", stderr);
		if (close_out(stdout, "standard output"))
			rc = 1;
		goto out;
	}
	flush4(&t);
	flush6(&t);
	if (progress)
		fputs("\r\033[K", stderr);
	if (t.oom) {
		fprintf(stderr, "rirdb scan: out of memory for --distinct\n");
		rc = 1;
		goto out;
	}
	struct sink s = {.distinct = distinct, .scope_width = t.geo ? 15 : 8};
	int out_bad = 0; /* unreadable inputs still get a report of the others */
	rm_rfc3339(s.ts, (double)time(NULL), 0);
	snprintf(s.snap, sizeof(s.snap), "%08x", rm_snapshot_crc(snap));
	if (json && !(s.json = open_out(json)))
		out_bad = rc = 1;
	if (csv && !(s.csv = open_out(csv)))
		out_bad = rc = 1;
	if (!json && !csv)
		s.table = stdout;
	if (!out_bad && write_report(&t, &s, top)) {
		fprintf(stderr, "rirdb scan: out of memory\n");
		rc = 1;
	}
	if (s.json && close_out(s.json, json))
		rc = 1;
	if (s.csv && close_out(s.csv, csv))
		rc = 1;
	if (s.table && close_out(s.table, "standard output"))
		rc = 1;
	if (!quiet)
		fprintf(stderr, "rirdb scan: %" PRIu64 " bytes, %" PRIu64 " addresses, %.2f s\n",
			bytes, t.found, now_s() - t0);
out:
	rl_scanner_free(sc);
	rl_scan_db_free(sdb);
	free(piece);
	tally_free(&t);
	rm_geo_lookup_free(&geo);
	rm_via_map_free(&via_map);
	rm_snapshot_close(snap);
	return rc;
}
