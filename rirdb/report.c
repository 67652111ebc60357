/*
 * report.c - `rirdb report -o report.html JSONL...`: one self-contained
 * HTML page from rirmeter's JSON Lines.
 *
 * The page has no script and fetches nothing: inline CSS and inline SVG
 * (scaled by viewBox, laid out by a CSS grid that stacks on narrow
 * screens).  It shows the share of each registry over time (stacked areas
 * of the interval lines, source and destination), the source-to-
 * destination registry matrix as a heat map, the top countries and
 * holders (each holder's name beside its key, from the lines' "name"),
 * the NIRs, and the health counters.  Lines of several files and snapshots
 * are summed; totals come from "total" lines where present, else from the
 * sum of the intervals.
 *
 * Where the lines carry the located layer's scopes (issue #25), the page
 * also has: the share of bytes located outside their registered country
 * as a headline, and per direction the registered x located country
 * matrix (country_located), drawn by the same heat_map() as the registry
 * matrix, its diagonal outlined; the top located countries (geo_country)
 * beside the registered ones; the top origin ASes (asn), "none" and
 * "other" after them, unranked; the origin split (holder, other,
 * unknown) per direction.  Without those scopes these sections are not
 * written at all, so an older run's page is as it was.  Every key is
 * input: html_text() escapes it wherever it is written.
 *
 * Lines that are not rirmeter records are named on stderr (file:line:
 * reason, the first ten), counted on the page and make the exit status 1;
 * the page is still written, from the lines that were understood.  That
 * includes counts that are not whole numbers of 0..2^64-1 (-1, nan, 2.5):
 * the reader refuses them rather than summing garbage (common/record.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rirdb.h"
#include "grow.h"
#include "output.h"
#include "record.h"

#define MAX_FIELD   RM_RECORD_TEXT_MAX
#define MAX_COLUMNS 600 /* of the share charts, one per unit of their width */
/* Countries on a side of a located matrix before the rest is one "other":
 * 13 cells of 40 units keep it readable in half the page's width. */
#define TOP_LOCATED 12

/* A line taken: a record of rirmeter's (common/record.h) with its scope.
 * 0, or -1 with the reason in b->why. */
static int parse_record(const char *line, struct rm_record_buf *b)
{
	if (rm_record_read_json(line, b))
		return -1;
	if (!b->r.scope[0]) {
		snprintf(b->why, sizeof(b->why), "no \"scope\": not a rirmeter record");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Aggregates                                                          */

struct kv {
	char key[MAX_FIELD];
	char name[MAX_FIELD]; /* holders: the name lines gave, "" when none */
	int has_bytes;
	uint64_t packets, bytes;
};

/* Out of memory while aggregating aborts (common/grow.h): slot() and
 * time_index() hand out places, not errors, and the tables stay small. */
struct table {
	struct kv *v;
	size_t n;
	uint32_t cap;
};

/* The row of key, or NULL. */
static struct kv *find(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return &t->v[i];
	return NULL;
}

static struct kv *slot(struct table *t, const char *key)
{
	struct kv *found = find(t, key);
	if (found)
		return found;
	RM_GROW_OR_DIE(&t->v, &t->cap, t->n, 1, 64);
	struct kv *k = &t->v[t->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->key, sizeof(k->key), "%s", key);
	return k;
}

static void add(struct table *t, const struct rm_record *r, const char *key)
{
	struct kv *k = slot(t, key);
	k->packets += r->packets;
	k->bytes += r->bytes;
	k->has_bytes |= (r->has & RM_FIELD(RM_F_BYTES)) != 0;
	/* Of two names for one key (a rename between snapshots) the smaller,
	 * so the page does not depend on the order of the files. */
	if (r->has & RM_FIELD(RM_F_NAME) && r->name[0] &&
	    (!k->name[0] || strcmp(r->name, k->name) < 0))
		snprintf(k->name, sizeof(k->name), "%s", r->name);
}

struct times {
	char (*ts)[64];
	double (*bytes)[2][RM_RIR_COUNT]; /* per time, dir, registry */
	size_t n;
	uint32_t cap;
};

static size_t time_index(struct times *t, const char *ts)
{
	for (size_t i = t->n; i > 0; i--)
		if (strcmp(t->ts[i - 1], ts) == 0)
			return i - 1;
	if (t->n == t->cap) {
		/* Two arrays, one capacity: both grow to the same new one. */
		uint32_t c = t->cap;
		RM_GROW_OR_DIE(&t->ts, &c, t->n, 1, 64);
		c = t->cap;
		RM_GROW_OR_DIE(&t->bytes, &c, t->n, 1, 64);
		t->cap = c;
	}
	snprintf(t->ts[t->n], sizeof(t->ts[0]), "%s", ts);
	memset(t->bytes[t->n], 0, sizeof(t->bytes[0]));
	return t->n++;
}

/*
 * Merge runs of consecutive intervals so that a day of 10-second lines
 * draws at most max columns (the chart is 600 units wide) instead of an
 * SVG of megabytes; each column keeps the timestamp of its first interval.
 */
static size_t coarsen(struct times *t, size_t max)
{
	size_t g = (t->n + max - 1) / max;
	if (g <= 1)
		return 1;
	size_t m = 0;
	for (size_t i = 0; i < t->n; i += g, m++) {
		double sum[2][RM_RIR_COUNT] = {{0}};
		for (size_t j = i; j < i + g && j < t->n; j++)
			for (int d = 0; d < 2; d++)
				for (unsigned k = 0; k < RM_RIR_COUNT; k++)
					sum[d][k] += t->bytes[j][d][k];
		memmove(t->ts[m], t->ts[i], sizeof(t->ts[0]));
		memcpy(t->bytes[m], sum, sizeof(sum));
	}
	t->n = m;
	return g;
}

struct agg {
	/* [0] from interval lines, [1] from total lines */
	struct table country[2], nir[2], holder[2], pair[2], health[2], rir[2];
	/* The located layer's scopes (absent from older lines and from
	 * snapshots without it): located countries and origin ASes summed over
	 * both directions like the tables above; the registered x located
	 * pairs and the origin split per direction, [0] src, [1] dst. */
	struct table geo[2], asn[2], located[2][2], origin[2][2];
	struct times times;
	size_t intervals, per_column; /* before coarsen(), and its merge factor */
	size_t lines, bad;
};

static void take(struct agg *a, const struct rm_record *r)
{
	int t = strcmp(r->interval, "total") == 0; /* a number's text never is */
	int d = strcmp(r->dir, "dst") == 0;
	char key[2 * MAX_FIELD + 2], ts[sizeof(a->times.ts[0])];
	if (strcmp(r->scope, "rir") == 0) {
		snprintf(key, sizeof(key), "%s %s", r->dir, r->key);
		add(&a->rir[t], r, key);
		int k = rm_rir_from_name(r->key, strlen(r->key));
		if (!t && k >= 0) {
			snprintf(ts, sizeof(ts), "%s", r->ts); /* as kept, for the match */
			size_t i = time_index(&a->times, ts);
			a->times.bytes[i][d][k] += (double)r->bytes;
		}
	} else if (strcmp(r->scope, "country") == 0) {
		add(&a->country[t], r, r->key);
	} else if (strcmp(r->scope, "nir") == 0) {
		add(&a->nir[t], r, r->key);
	} else if (strcmp(r->scope, "holder") == 0) {
		add(&a->holder[t], r, r->key);
	} else if (strcmp(r->scope, "rir_pair") == 0) {
		add(&a->pair[t], r, r->key);
	} else if (strcmp(r->scope, "health") == 0) {
		add(&a->health[t], r, r->key);
	} else if (strcmp(r->scope, "geo_country") == 0) {
		add(&a->geo[t], r, r->key);
	} else if (strcmp(r->scope, "asn") == 0) {
		add(&a->asn[t], r, r->key);
	} else if (strcmp(r->scope, "country_located") == 0) {
		add(&a->located[d][t], r, r->key);
	} else if (strcmp(r->scope, "origin") == 0) {
		add(&a->origin[d][t], r, r->key);
	}
}

/* Totals where the files have them, else the sum of their intervals. */
static const struct table *best(const struct table t[2])
{
	return t[1].n ? &t[1] : &t[0];
}

static int by_bytes(const void *pa, const void *pb)
{
	const struct kv *a = pa, *b = pb;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */

static const char *const colors[RM_RIR_COUNT] = {"#9e9e9e", "#795548", "#2e7d32", "#c62828",
						 "#1565c0", "#f9a825", "#6a1b9a"};

/* Text from the input in the page: its display text (output.h: a control
 * character or an invalid byte as \xNN, as in every other output, so that
 * none reaches the HTML), then escaped for text and attributes alike. */
static void html_text(FILE *o, const char *raw)
{
	char stack[4 * MAX_FIELD], *text = stack;
	size_t need = rm_text_escape(NULL, 0, raw);
	if (need >= sizeof(stack) && !(text = malloc(need + 1)))
		abort();
	rm_text_escape(text, need + 1, raw);
	for (const char *s = text; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", o);
			break;
		case '>':
			fputs("&gt;", o);
			break;
		case '&':
			fputs("&amp;", o);
			break;
		case '"':
			fputs("&quot;", o);
			break;
		default:
			fputc(*s, o);
		}
	}
	if (text != stack)
		free(text);
}

static void legend(FILE *o)
{
	fputs("<p class=legend>", o);
	for (unsigned k = 0; k < RM_RIR_COUNT; k++)
		fprintf(o, "<span><i style=\"background:%s\"></i>%s</span> ", colors[k],
			rm_rir_name(k));
	fputs("</p>\n", o);
}

/* Stacked areas of each registry's share of bytes per interval. */
static void share_chart(FILE *o, const struct times *t, int dir)
{
	const double W = MAX_COLUMNS, H = 220;
	fprintf(o,
		"<svg id=share-%s class=chart viewBox=\"0 0 %.0f %.0f\" role=img "
		"aria-label=\"registry share over time, %s\">\n",
		dir ? "dst" : "src", W, H + 20, dir ? "destination" : "source");
	fprintf(o, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\"/>\n", W, H);
	size_t n = t->n;
	if (n == 0) {
		fputs("<text x=\"10\" y=\"30\">no interval lines in the input</text></svg>\n", o);
		return;
	}
	double *lo = calloc(n, sizeof(double)), *hi = calloc(n, sizeof(double));
	if (!lo || !hi)
		abort();
	for (unsigned k = 0; k < RM_RIR_COUNT; k++) {
		for (size_t i = 0; i < n; i++) {
			double sum = 0;
			for (unsigned j = 0; j < RM_RIR_COUNT; j++)
				sum += t->bytes[i][dir][j];
			hi[i] = lo[i] + (sum > 0 ? t->bytes[i][dir][k] / sum : 0);
		}
		fprintf(o, "<path class=\"area rir-%s\" fill=\"%s\" d=\"", rm_rir_name(k),
			colors[k]);
		for (size_t i = 0; i < n; i++) { /* upper edge left to right */
			double x = n == 1 ? (i ? W : 0) : W * (double)i / (double)(n - 1);
			fprintf(o, "%s%.1f %.1f", i ? " L" : "M", x, H * (1 - hi[i]));
		}
		if (n == 1)
			fprintf(o, " L%.1f %.1f", W, H * (1 - hi[0]));
		for (size_t i = n; i-- > 0;) { /* lower edge back */
			double x = n == 1 ? W : W * (double)i / (double)(n - 1);
			fprintf(o, " L%.1f %.1f", x, H * (1 - lo[i]));
			if (n == 1)
				fprintf(o, " L0 %.1f", H * (1 - lo[i]));
		}
		fputs(" Z\"/>\n", o);
		memcpy(lo, hi, n * sizeof(double));
	}
	fprintf(o, "<text x=\"0\" y=\"%.0f\" class=axis>", H + 15);
	html_text(o, t->ts[0]);
	fprintf(o, "</text><text x=\"%.0f\" y=\"%.0f\" class=axis text-anchor=end>", W, H + 15);
	html_text(o, t->ts[n - 1]);
	fputs("</text></svg>\n", o);
	free(lo);
	free(hi);
}

/* Split a pair's key "A>B" at its first '>' into a and b.  0, or -1 for a
 * key that is no pair (rirmeter's "other" row) or has an empty side. */
static int split_pair(const char *key, char a[MAX_FIELD], char b[MAX_FIELD])
{
	const char *gt = strchr(key, '>');
	if (!gt || gt == key || !gt[1])
		return -1;
	snprintf(a, MAX_FIELD, "%.*s", (int)(gt - key), key);
	snprintf(b, MAX_FIELD, "%s", gt + 1);
	return 0;
}

/* The rows or the columns of a heat map. */
struct axis {
	const char *attr; /* data-* name of a cell's row (column) */
	size_t n;
	const char *const *names;
};

/* What a heat map draws: row.n x col.n cells of bytes, row-major. */
struct heat {
	const char *id, *label; /* the svg's id and aria-label */
	struct axis row, col;
	const double *cell;
	const unsigned char *mark; /* rows x cols, non-zero: outlined; NULL: none */
	double side, left;	   /* a cell's side, the room for the row labels */
};

/*
 * A heat map, each cell coloured by its share of the largest, its bytes in
 * data-bytes and in a title (the tooltip).  One function for every matrix
 * of the page, so they read alike.  The names may come from the input:
 * escaped, in text and attributes alike.
 */
static void heat_map(FILE *o, const struct heat *h)
{
	const double C = h->side, L = h->left, T = 24;
	double max = 0;
	for (size_t i = 0; i < h->row.n * h->col.n; i++)
		if (h->cell[i] > max)
			max = h->cell[i];
	/* At most 1.4 px a unit: a matrix of few cells stays a matrix, not a
	 * poster of letters the width of the column. */
	double w = L + C * (double)h->col.n;
	fprintf(o,
		"<svg id=%s class=chart style=\"max-width:%.0fpx\" viewBox=\"0 0 %.0f %.0f\" "
		"role=img aria-label=\"%s\">\n",
		h->id, 1.4 * w, w, T + C * (double)h->row.n, h->label);
	for (size_t c = 0; c < h->col.n; c++) {
		fprintf(o, "<text x=\"%.0f\" y=\"16\" class=axis text-anchor=middle>",
			L + C * (double)c + C / 2);
		html_text(o, h->col.names[c]);
		fputs("</text>\n", o);
	}
	for (size_t r = 0; r < h->row.n; r++) {
		fprintf(o, "<text x=\"%.0f\" y=\"%.0f\" class=axis text-anchor=end>", L - 6,
			T + C * (double)r + C / 2 + 4);
		html_text(o, h->row.names[r]);
		fputs("</text>\n", o);
		for (size_t c = 0; c < h->col.n; c++) {
			double b = h->cell[r * h->col.n + c], f = max > 0 ? b / max : 0;
			int marked = h->mark && h->mark[r * h->col.n + c];
			char v[32], fill[24] = "#f2f2f2"; /* empty cells stay visible */
			rm_si_format(v, sizeof(v), b, " ");
			if (b > 0)
				snprintf(fill, sizeof(fill), "rgb(%d,%d,255)", (int)(235 - 200 * f),
					 (int)(240 - 120 * f));
			fprintf(o, "<rect class=\"cell%s\" data-%s=\"", marked ? " same" : "",
				h->row.attr);
			html_text(o, h->row.names[r]);
			fprintf(o, "\" data-%s=\"", h->col.attr);
			html_text(o, h->col.names[c]);
			/* A marked cell's outline is drawn inside the cell (the stroke
			 * straddles the edge), not over its neighbours. */
			double in = marked ? 1.5 : 0;
			fprintf(o,
				"\" data-bytes=%.0f x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" "
				"height=\"%.0f\" fill=\"%s\"%s><title>",
				b, L + C * (double)c + in, T + C * (double)r + in, C - 2 - 2 * in,
				C - 2 - 2 * in, fill,
				marked ? " stroke=\"#2e7d32\" stroke-width=\"3\"" : "");
			html_text(o, h->row.names[r]);
			fputs(" &gt; ", o);
			html_text(o, h->col.names[c]);
			fprintf(o, ": %sB</title></rect>\n", v);
		}
	}
	fputs("</svg>\n", o);
}

/* The registry-to-registry matrix, from the rir_pair rows "SRC>DST". */
static void matrix_chart(FILE *o, const struct table *pairs)
{
	double cell[RM_RIR_COUNT][RM_RIR_COUNT] = {{0}};
	const char *names[RM_RIR_COUNT];
	for (unsigned k = 0; k < RM_RIR_COUNT; k++)
		names[k] = rm_rir_name(k);
	for (size_t i = 0; i < pairs->n; i++) {
		char a[MAX_FIELD], b[MAX_FIELD];
		if (split_pair(pairs->v[i].key, a, b))
			continue;
		int s = rm_rir_from_name(a, strlen(a)), d = rm_rir_from_name(b, strlen(b));
		if (s < 0 || d < 0)
			continue;
		cell[s][d] += (double)pairs->v[i].bytes;
	}
	const struct heat h = {.id = "matrix",
			       .label = "source to destination registry matrix",
			       .row = {"src", RM_RIR_COUNT, names},
			       .col = {"dst", RM_RIR_COUNT, names},
			       .cell = &cell[0][0],
			       .side = 56,
			       .left = 70};
	heat_map(o, &h);
}

/* The names on one side of a located matrix, from t (its countries'
 * bytes, sorted here): the top TOP_LOCATED, then "other" for the rest;
 * all of them when only one would be folded (an "other" of one country
 * hides it for nothing).  The names point into t.  Returns how many. */
static size_t side_names(struct table *t, const char *names[TOP_LOCATED + 1])
{
	if (t->n) /* an empty table has no array at all */
		qsort(t->v, t->n, sizeof(*t->v), by_bytes);
	size_t n = t->n <= TOP_LOCATED + 1 ? t->n : TOP_LOCATED;
	for (size_t i = 0; i < n; i++)
		names[i] = t->v[i].key;
	if (n < t->n)
		names[n++] = "other";
	return n;
}

/* A country's row or column among n names from side_names(): its own,
 * else the last, the "other" it was folded into. */
static size_t side_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1;
}

/*
 * One direction's registered x located country matrix, from the
 * country_located rows "REG>LOC": rows the registered countries, columns
 * the located ones, each side its top countries by bytes and "other".
 * The diagonal (located in the registered country) is outlined, but not
 * ZZ>ZZ or other>other, which say nothing of a match.  rirmeter's own
 * "other" row (beyond its top N), like any key that is no "A>B", has no
 * countries: its bytes are in no cell, and a note says how many.
 */
static void located_chart(FILE *o, const struct table *t, int dir)
{
	struct table reg = {0}, loc = {0};
	double unplaced = 0;
	char a[MAX_FIELD], b[MAX_FIELD];
	for (size_t i = 0; i < t->n; i++) {
		if (split_pair(t->v[i].key, a, b)) {
			unplaced += (double)t->v[i].bytes;
			continue;
		}
		slot(&reg, a)->bytes += t->v[i].bytes;
		slot(&loc, b)->bytes += t->v[i].bytes;
	}
	const char *rn[TOP_LOCATED + 1], *cn[TOP_LOCATED + 1];
	size_t rows = side_names(&reg, rn), cols = side_names(&loc, cn);
	int rfold = rows < reg.n, cfold = cols < loc.n;
	/* rows x cols, row-major, as heat_map() takes them */
	double cell[(TOP_LOCATED + 1) * (TOP_LOCATED + 1)] = {0};
	unsigned char mark[sizeof(cell) / sizeof(cell[0])] = {0};
	for (size_t i = 0; i < t->n; i++)
		if (!split_pair(t->v[i].key, a, b))
			cell[side_index(rn, rows, a) * cols + side_index(cn, cols, b)] +=
			    (double)t->v[i].bytes;
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			mark[r * cols + c] = strcmp(rn[r], cn[c]) == 0 &&
					     strcmp(rn[r], "ZZ") != 0 &&
					     !(rfold && r == rows - 1) && !(cfold && c == cols - 1);
	if (rows) {
		const struct heat h = {.id = dir ? "located-dst" : "located-src",
				       .label = dir ? "registered to located country, destination"
						    : "registered to located country, source",
				       .row = {"reg", rows, rn},
				       .col = {"loc", cols, cn},
				       .cell = cell,
				       .mark = mark,
				       .side = 40,
				       .left = 50};
		heat_map(o, &h);
		fputs("<p class=note>Rows: registered country; columns: located country; "
		      "outlined: located in the registered country.",
		      o);
	} else {
		fputs("<p class=note>No pair of countries in this direction.", o);
	}
	if (unplaced > 0) {
		char v[32];
		rm_si_format(v, sizeof(v), unplaced, " ");
		fprintf(o,
			" %sB in rows of no pair of countries (rirmeter's \"other\", beyond its "
			"top pairs) are in no cell.",
			v);
	}
	fputs("</p>\n", o);
	free(reg.v);
	free(loc.v);
}

/* Of the bytes of t's pairs whose countries are both known (neither is
 * ZZ), those located outside the registered country: added to *known and
 * *differ.  rirmeter's "other" row counts in neither. */
static void mismatch(const struct table *t, double *known, double *differ, double *folded)
{
	char a[MAX_FIELD], b[MAX_FIELD];
	for (size_t i = 0; i < t->n; i++) {
		if (split_pair(t->v[i].key, a, b)) { /* rirmeter's "other": beyond its --top */
			*folded += (double)t->v[i].bytes;
			continue;
		}
		if (strcmp(a, "ZZ") == 0 || strcmp(b, "ZZ") == 0)
			continue;
		*known += (double)t->v[i].bytes;
		if (strcmp(a, b) != 0)
			*differ += (double)t->v[i].bytes;
	}
}

static void percent(char *out, size_t n, double part, double whole)
{
	if (whole > 0)
		snprintf(out, n, "%.1f%%", 100 * part / whole);
	else
		snprintf(out, n, "&ndash;"); /* no bytes to take a share of */
}

/* The headline over both located matrices: the share of bytes located
 * outside their registered country, both directions and each. */
static void located_headline(FILE *o, const struct table *src, const struct table *dst)
{
	double known[2] = {0}, differ[2] = {0}, folded = 0;
	char all[32], s[32], d[32];
	mismatch(src, &known[0], &differ[0], &folded);
	mismatch(dst, &known[1], &differ[1], &folded);
	percent(all, sizeof(all), differ[0] + differ[1], known[0] + known[1]);
	percent(s, sizeof(s), differ[0], known[0]);
	percent(d, sizeof(d), differ[1], known[1]);
	fprintf(
	    o,
	    "<section class=wide><h2>Registered and located country</h2>\n"
	    "<p class=headline><strong id=mismatch data-known=%.0f data-differ=%.0f>%s</strong> ",
	    known[0] + known[1], differ[0] + differ[1], all);
	if (known[0] + known[1] > 0)
		fprintf(o,
			"of the bytes whose registered and located countries are both known "
			"(neither is ZZ) were located outside the registered country (source %s, "
			"destination %s).",
			s, d);
	else /* a share of nothing would read as a number */
		fputs("no bytes have both their registered and located country known (neither "
		      "ZZ).",
		      o);
	/* The pairs rirmeter folded are mostly the many small ones, each
	 * country with itself: the share of the pairs shown is then biased
	 * upwards or down by what is not shown, and the reader should know. */
	if (folded > 0)
		fprintf(o,
			" <span id=mismatch-folded data-bytes=%.0f>Pairs beyond rirmeter's "
			"<code>--top</code> (%.0f bytes) are not in this share: a larger "
			"<code>--top</code> makes it exact.</span>",
			folded, folded);
	fputs("</p></section>\n", o);
}

/* The origin split of each direction: holder, other, unknown in that
 * order (then any other key, as lines gave it), bytes and share. */
static void origin_table(FILE *o, const struct table *src, const struct table *dst)
{
	static const char *const meaning[][2] = {
	    {"holder", "the origin AS is the block's holder"},
	    {"other", "the origin AS is someone else's"},
	    {"unknown", "no origin AS known"},
	};
	struct table keys = {0};
	double sum[2] = {0};
	for (size_t i = 0; i < sizeof(meaning) / sizeof(meaning[0]); i++)
		slot(&keys, meaning[i][0]);
	for (int d = 0; d < 2; d++) {
		const struct table *t = d ? dst : src;
		for (size_t i = 0; i < t->n; i++) {
			slot(&keys, t->v[i].key);
			sum[d] += (double)t->v[i].bytes;
		}
	}
	fputs("<section><h2>Origin AS of the blocks</h2><table id=origin>\n"
	      "<tr><th>origin<th>meaning<th>source<th>%<th>destination<th>%</tr>\n",
	      o);
	for (size_t i = 0; i < keys.n; i++) {
		const struct kv *k[2] = {find(src, keys.v[i].key), find(dst, keys.v[i].key)};
		uint64_t b[2] = {k[0] ? k[0]->bytes : 0, k[1] ? k[1]->bytes : 0};
		fprintf(o, "<tr data-src=%" PRIu64 " data-dst=%" PRIu64 "><td>", b[0], b[1]);
		html_text(o, keys.v[i].key);
		fprintf(o, "<td>%s", i < sizeof(meaning) / sizeof(meaning[0]) ? meaning[i][1] : "");
		for (int d = 0; d < 2; d++) {
			char v[32], p[32];
			rm_si_format(v, sizeof(v), (double)b[d], " ");
			percent(p, sizeof(p), (double)b[d], sum[d]);
			fprintf(o, "<td class=num>%sB<td class=num>%s", v, p);
		}
		fputs("</tr>\n", o);
	}
	fputs("</table></section>\n", o);
	free(keys.v);
}

/* One row of a top table, its bar the share of max. */
static void top_row(FILE *o, const struct kv *k, uint64_t max, int names)
{
	char b[32], p[32];
	rm_si_format(b, sizeof(b), (double)k->bytes, " ");
	rm_si_format(p, sizeof(p), (double)k->packets, " ");
	fprintf(o, "<tr data-bytes=%" PRIu64 " data-packets=%" PRIu64 "><td>", k->bytes,
		k->packets);
	html_text(o, k->key);
	if (names) {
		fputs("<td class=name>", o);
		html_text(o, k->name);
	}
	fprintf(o,
		"<td class=num>%sB<td class=num>%s<td class=bar><svg viewBox=\"0 0 100 8\" "
		"preserveAspectRatio=none><rect width=\"%.1f\" height=\"8\" "
		"fill=\"#1565c0\"/></svg></tr>\n",
		b, p, max ? 100.0 * (double)k->bytes / (double)max : 0.0);
}

/* Whether key is one of the NULL-terminated keys (NULL: none). */
static int listed(const char *const *keys, const char *key)
{
	for (; keys && *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return 1;
	return 0;
}

/* The top rows of t by bytes; with names, a column of the names the lines
 * gave (holders).  The keys of aside (NULL-terminated, or NULL) are no
 * entity to rank (the origin ASes' "none" and "other"): they follow the
 * ranked rows, in aside's order, where t has them. */
static void top_list(FILE *o, const char *id, const char *title, const struct table *t, size_t top,
		     int names, const char *const *aside)
{
	struct kv *v = malloc((t->n + 1) * sizeof(*v));
	if (!v)
		abort();
	if (t->n) /* an empty table has no array at all */
		memcpy(v, t->v, t->n * sizeof(*v));
	qsort(v, t->n, sizeof(*v), by_bytes);
	uint64_t max = t->n ? v[0].bytes : 0;
	fprintf(o,
		"<section><h2>%s</h2><table id=%s>\n<tr><th>key%s<th>bytes<th>packets<th></tr>\n",
		title, id, names ? "<th>name" : "");
	for (size_t i = 0, shown = 0; i < t->n && shown < top; i++)
		if (!listed(aside, v[i].key)) {
			top_row(o, &v[i], max, names);
			shown++;
		}
	for (; aside && *aside; aside++) {
		const struct kv *k = find(t, *aside);
		if (k)
			top_row(o, k, max, names);
	}
	fputs("</table></section>\n", o);
	free(v);
}

static void health_table(FILE *o, const struct table *h)
{
	/* "count", not "packets": some counters count events, flow records or
	 * addresses (asn_source.*: one per address of a frame or record). */
	fputs("<section><h2>Health</h2><table id=health>\n<tr><th>counter<th>count<th>bytes</tr>\n",
	      o);
	for (size_t i = 0; i < h->n; i++) {
		const struct kv *k = &h->v[i];
		fprintf(o, "<tr data-packets=%" PRIu64 "><td>", k->packets);
		html_text(o, k->key);
		fprintf(o, "<td class=num>%" PRIu64 "<td class=num>", k->packets);
		if (k->has_bytes)
			fprintf(o, "%" PRIu64 "</tr>\n", k->bytes);
		else
			fputs("&ndash;</tr>\n", o); /* counted in packets or events only */
	}
	fputs("</table></section>\n", o);
}

static void write_page(FILE *o, struct agg *a, int n_files)
{
	fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
	      "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n"
	      "<title>rirmeter report</title>\n<style>\n"
	      "body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:1200px;"
	      "color:#222}\n"
	      "h1{font-size:1.4em}h2{font-size:1.1em;margin:.2em 0}\n"
	      ".grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}\n"
	      "@media (max-width:900px){.grid{grid-template-columns:1fr}}\n"
	      "svg.chart{width:100%;height:auto;display:block}\n"
	      "text{font-size:11px;fill:#444}\n"
	      "table{border-collapse:collapse;width:100%}td,th{padding:2px 6px;text-align:left;"
	      "border-bottom:1px solid #eee}\n"
	      "td.num{text-align:right;font-variant-numeric:tabular-nums}td.bar{width:30%}"
	      "td.bar svg{width:100%;height:8px}\n"
	      ".legend span{margin-right:1em;white-space:nowrap}.legend i{display:inline-block;"
	      "width:10px;height:10px;margin-right:4px}\n"
	      ".wide{grid-column:1/-1}.headline strong{font-size:1.6em}"
	      "p.note{color:#555;font-size:.9em}\n"
	      "</style></head><body>\n<h1>rirmeter report</h1>\n",
	      o);
	fprintf(o, "<p id=summary>%zu line%s from %d file%s", a->lines, a->lines == 1 ? "" : "s",
		n_files, n_files == 1 ? "" : "s");
	if (a->bad)
		fprintf(o, "; %zu line%s not understood and left out", a->bad,
			a->bad == 1 ? "" : "s");
	if (a->per_column > 1)
		fprintf(o, "; %zu intervals, drawn %zu to a column", a->intervals, a->per_column);
	fputs(".</p>\n", o);
	legend(o);
	fputs("<div class=grid>\n<section><h2>Share of bytes by source registry</h2>\n", o);
	share_chart(o, &a->times, 0);
	fputs("</section>\n<section><h2>Share of bytes by destination registry</h2>\n", o);
	share_chart(o, &a->times, 1);
	fputs("</section>\n<section><h2>Source to destination registry</h2>\n", o);
	matrix_chart(o, best(a->pair));
	fputs("</section>\n", o);
	health_table(o, best(a->health));
	/* The located layer's sections only where the lines have its scopes:
	 * an older run's page stays as it was, with no empty sections. */
	const struct table *located[2] = {best(a->located[0]), best(a->located[1])};
	if (located[0]->n || located[1]->n) {
		located_headline(o, located[0], located[1]);
		fputs("<section><h2>Source: registered to located country</h2>\n", o);
		located_chart(o, located[0], 0);
		fputs("</section>\n<section><h2>Destination: registered to located "
		      "country</h2>\n",
		      o);
		located_chart(o, located[1], 1);
		fputs("</section>\n", o);
	}
	/* With the located layer's list beside it, say which country this is. */
	top_list(o, "countries", best(a->geo)->n ? "Top registered countries" : "Top countries",
		 best(a->country), 15, 0, NULL);
	if (best(a->geo)->n) /* beside the registered countries */
		top_list(o, "located", "Top located countries (ZZ: not located)", best(a->geo), 15,
			 0, NULL);
	/* Every NIR key: a registry's own space and its few NIRs. */
	top_list(o, "nirs", "NIRs (registry: alone is space under no NIR)", best(a->nir), SIZE_MAX,
		 0, NULL);
	top_list(o, "holders", "Top holders", best(a->holder), 15, 1, NULL);
	if (best(a->asn)->n) {
		static const char *const aside[] = {"none", "other", NULL};
		top_list(o, "asns", "Top origin ASes (other: beyond rirmeter's top)", best(a->asn),
			 15, 1, aside);
	}
	const struct table *origin[2] = {best(a->origin[0]), best(a->origin[1])};
	if (origin[0]->n || origin[1]->n)
		origin_table(o, origin[0], origin[1]);
	fputs("</div>\n</body></html>\n", o);
}

int rirdb_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == 'h') {
			/* The synopsis is README's (tests/cli.sh). */
			printf(
			    "usage: rirdb report -o FILE JSONL...\n"
			    "Writes one self-contained HTML page (-o or --output) from rirmeter's\n"
			    "--json output; a JSONL of - reads standard input.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: rirdb report -o FILE JSONL...\n");
			return 2;
		}
	}
	if (!out || optind >= argc) {
		fprintf(stderr, "rirdb report: needs -o FILE and at least one JSON Lines file\n");
		return 2;
	}
	struct agg *a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (!f) {
			rm_say_file("rirdb report", argv[i], ": %s\n", strerror(errno));
			rc = 1;
			continue;
		}
		unsigned lineno = 0;
		while (getline(&line, &cap, f) >= 0) {
			struct rm_record_buf r;
			lineno++;
			if (line[strspn(line, " \t\r\n")] == '\0')
				continue; /* blank lines are not data */
			if (parse_record(line, &r)) {
				if (a->bad++ < 10) {
					rm_say_file("rirdb report", argv[i], ":%u: %s\n", lineno,
						    r.why);
				}
				continue;
			}
			a->lines++;
			take(a, &r.r);
		}
		/* getline's -1 is also a read error (a directory opens but
		 * reads EISDIR): not an empty input. */
		if (ferror(f)) {
			rm_say_file("rirdb report", argv[i], ": %s\n", strerror(errno));
			rc = 1;
		}
		if (f != stdin)
			fclose(f);
	}
	free(line);
	if (a->bad) {
		fprintf(stderr, "rirdb report: %zu line%s not understood, left out of the report\n",
			a->bad, a->bad == 1 ? "" : "s");
		rc = 1;
	}
	a->intervals = a->times.n;
	a->per_column = coarsen(&a->times, MAX_COLUMNS);
	/* Replaced whole (output.h): a page being read or served is never seen
	 * half-written, and a symlink at its name is replaced, not followed. */
	struct rm_atomic_file o;
	char err[PATH_MAX + 128];
	if (rm_atomic_open(&o, out, 0644, err, sizeof(err))) {
		fprintf(stderr, "rirdb report: %s\n", err);
		rc = 1;
	} else {
		write_page(o.f, a, argc - optind);
		if (rm_atomic_commit(&o, err, sizeof(err))) {
			fprintf(stderr, "rirdb report: %s\n", err);
			rc = 1;
		}
	}
	for (int t = 0; t < 2; t++) {
		free(a->country[t].v);
		free(a->nir[t].v);
		free(a->holder[t].v);
		free(a->pair[t].v);
		free(a->health[t].v);
		free(a->rir[t].v);
		free(a->geo[t].v);
		free(a->asn[t].v);
		for (int d = 0; d < 2; d++) {
			free(a->located[d][t].v);
			free(a->origin[d][t].v);
		}
	}
	free(a->times.ts);
	free(a->times.bytes);
	free(a);
	return rc;
}
