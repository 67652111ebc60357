/*
 * build.c - a build: reading input files, recognizing their format,
 * diagnostics, the store the format parsers append claims, holder names
 * and inputs to, the driver of every CSV input (rl_load_csv), and handing
 * the claims to merge.c at the end.
 *
 * Diagnostics are "FILE:LINE: reason" as display text (output.h).
 *
 * Format detection looks at the first meaningful line only:
 *   - "VERSION|registry|serial|..." (a number first, 7 '|' fields): a
 *     statistics exchange file;
 *   - a CSV header naming IANA's columns ("Prefix,Designation,...",
 *     "Address Block,Name,RFC,...", "AS Number,Reason for Reservation,..."),
 *     telling IPv4 from IPv6 by the first data row;
 *   - "registry,holder_id,name" or "prefix,label" headers, or a first line
 *     whose first field is a CIDR prefix (labels without a header);
 *   - "key: value" lines with an "inetnum:", "inet6num:", "aut-num:" or
 *     "organisation:" attribute at an object's start (RPSL);
 *   - "registry,holder_id,nir" header: the NIRs' account ids;
 *   - "<asn> <text>" without '|' (RIPE's asn.txt), "AS<n>|..." (NIC.br);
 *   - IPFire's location database by its magic bytes ("LOCDBXX"); a MaxMind
 *     DB by its metadata marker near the end.
 * Any of them may be gzip'd: files are read through zlib (stream.c).
 * RPSL dumps are not read here but at the end of the build (rpsl.c): they
 * are joined to the delegated records, which must all be known first.
 */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"
#include "output.h"

static FILE *diag_out(struct rl_build *b)
{
	return b->opt.diag ? b->opt.diag : stderr;
}

__attribute__((format(printf, 5, 0))) static void vreport(struct rl_build *b, const char *file,
							  unsigned line, const char *tail,
							  const char *fmt, va_list ap)
{
	unsigned max = b->opt.max_messages ? b->opt.max_messages : 200;
	if (!fmt) /* never; tells GCC's UBSan build so (spurious -Wformat-overflow) */
		return;
	if (b->messages++ >= max) {
		if (b->messages == max + 1)
			fprintf(diag_out(b), "rirdb: further messages suppressed, only counted\n");
		return;
	}
	/* Messages quote the input's own text (fields, file names): shown as
	 * display text (output.h), so a hostile file cannot send terminal
	 * escapes or false lines to the operator's terminal or log. */
	FILE *o = diag_out(b);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	rm_put_text(o, file);
	if (line)
		fprintf(o, ":%u", line);
	fputs(": ", o);
	rm_put_text(o, msg ? msg : "(no memory for the message)");
	fprintf(o, "%s\n", tail);
	free(msg);
}

void rl_error(struct rl_build *b, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b->counts.errors++;
	if (b->opt.lenient)
		b->counts.skipped++;
	vreport(b, file, line, b->opt.lenient ? " (skipped)" : "", fmt, ap);
	va_end(ap);
}

void rl_data_error(struct rl_build *b, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b->counts.errors++;
	vreport(b, file, line, "", fmt, ap);
	va_end(ap);
}

void rl_conflict(struct rl_build *b, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b->counts.conflicts++;
	vreport(b, file, line, "", fmt, ap);
	va_end(ap);
}

void rl_notice(struct rl_build *b, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	b->counts.notices++;
	vreport(b, file, line, "", fmt, ap);
	va_end(ap);
}

struct rl_build *rl_build_new(const struct rl_options *opt)
{
	struct rl_build *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	if (opt)
		b->opt = *opt;
	b->model = rm_model_new();
	return b;
}

void rl_build_free(struct rl_build *b)
{
	if (!b)
		return;
	rm_model_free(b->model);
	free(b->claims);
	free(b->names);
	free(b->asnames);
	free(b->nir_ids);
	for (uint32_t i = 0; i < b->n_deferred; i++) {
		free(b->deferred[i].path);
		free(b->deferred[i].data);
	}
	free(b->deferred);
	free(b->pool.s);
	free(b->geo);
	free(b->range_index);
	free(b->incomplete);
	free(b);
}

const struct rl_counts *rl_build_counts(const struct rl_build *b)
{
	return &b->counts;
}

struct rl_claim *rl_add_claim(struct rl_build *b)
{
	RM_GROW_OR_DIE(&b->claims, &b->claims_cap, b->n_claims, 1, 4096);
	struct rl_claim *c = &b->claims[b->n_claims++];
	memset(c, 0, sizeof(*c));
	c->block = RM_NO_BLOCK;
	b->counts.records++;
	return c;
}

void rl_add_name(struct rl_build *b, const struct rl_name *n)
{
	RM_GROW_OR_DIE(&b->names, &b->names_cap, b->n_names, 1, 1024);
	b->names[b->n_names++] = *n;
}

void rl_add_asname(struct rl_build *b, const struct rl_asname *n)
{
	RM_GROW_OR_DIE(&b->asnames, &b->asnames_cap, b->n_asnames, 1, 4096);
	b->asnames[b->n_asnames++] = *n;
}

void rl_add_nir_id(struct rl_build *b, const struct rl_nir_id *n)
{
	RM_GROW_OR_DIE(&b->nir_ids, &b->nir_ids_cap, b->n_nir_ids, 1, 16);
	b->nir_ids[b->n_nir_ids++] = *n;
}

uint32_t rl_pool_add(struct rl_pool *p, const char *s, size_t len)
{
	if (p->len == 0) { /* offset 0 is "" */
		RM_GROW_OR_DIE(&p->s, &p->cap, 0, 1, 1 << 16);
		p->s[0] = '\0';
		p->len = 1;
	}
	if (len == 0)
		return 0;
	if (len >= UINT32_MAX - p->len)
		rm_out_of_memory();
	RM_GROW_OR_DIE(&p->s, &p->cap, p->len, (uint32_t)len + 1, 1 << 16);
	uint32_t off = p->len;
	memcpy(p->s + off, s, len);
	p->s[off + len] = '\0';
	p->len += (uint32_t)len + 1;
	return off;
}

uint32_t rl_intern(struct rl_build *b, const char *s, size_t len)
{
	return rm_model_intern(b->model, s, len);
}

int rl_text_ok(struct rl_build *b, const char *file, unsigned line, const char *what,
	       struct rl_span s, int id)
{
	const size_t pre = sizeof(RM_LABEL_PREFIX) - 1;
	if (s.len == 0 || s.len > RM_HOLDER_TEXT_MAX)
		rl_error(b, file, line, "%s must be 1-%u bytes, not %zu", what, RM_HOLDER_TEXT_MAX,
			 s.len);
	else if (!rm_utf8_valid(s.s, s.len))
		rl_error(b, file, line, "%s is not valid UTF-8", what);
	else if (id && s.len >= pre && memcmp(s.s, RM_LABEL_PREFIX, pre) == 0)
		rl_error(b, file, line, "%s '%.*s' starts with '%s', which only labels may", what,
			 (int)s.len, s.s, RM_LABEL_PREFIX);
	else
		return 1;
	return 0;
}

uint32_t rl_new_input(struct rl_build *b, const char *name, int kind)
{
	struct rm_input in;
	memset(&in, 0, sizeof(in));
	in.name = rl_intern(b, name, strlen(name));
	in.kind = (uint32_t)kind;
	return rm_model_input(b->model, &in);
}

int rl_load_csv(struct rl_build *b, const char *name, const char *data, size_t len, int kind,
		int has_header, rl_row_fn fn)
{
	struct rl_span f[RL_CSV_MAX_FIELDS];
	struct rl_row row = {.b = b, .name = name, .kind = kind, .f = f};
	struct rl_csv c;
	unsigned records = 0, rows = 0;
	const char *why;
	int rc;
	row.input = rl_new_input(b, name, kind);
	rl_csv_init(&c, data, len);
	while ((rc = rl_csv_next(&c, f, &row.nf, &row.line, &why)) != 0) {
		if (rc < 0) {
			rl_error(b, name, row.line, "%s", why);
			continue;
		}
		/* Comment lines, which format detection skips too: before the
		 * header, the header would otherwise be read as a record. */
		if (f[0].len && (f[0].s[0] == '#' || f[0].s[0] == '%'))
			continue;
		if (rows++ == 0 && has_header)
			continue;
		row.index = rows - 1 - (has_header != 0);
		records += fn(&row);
	}
	rl_csv_free(&c);
	rm_model_input_at(b->model, row.input)->records = records;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Format detection                                                    */

static int first_meaningful_line(const char *data, size_t len, struct rl_span *out)
{
	struct rl_lines l;
	struct rl_span line;
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		struct rl_span t = rl_trim(line);
		if (t.len == 0 || t.s[0] == '#' || t.s[0] == '%')
			continue;
		*out = t;
		return 1;
	}
	return 0;
}

static int looks_like_stats_header(struct rl_span line)
{
	struct rl_span f[8];
	unsigned n = rl_split(line, '|', f, 8);
	if (n < 4 || f[0].len == 0 || f[1].len == 0)
		return 0;
	for (size_t i = 0; i < f[1].len; i++)
		if (f[1].s[i] < 'a' || f[1].s[i] > 'z')
			return 0;
	for (size_t i = 0; i < f[0].len; i++)
		if (!((f[0].s[i] >= '0' && f[0].s[i] <= '9') || f[0].s[i] == '.'))
			return 0;
	return 1;
}

static int header_starts(struct rl_span line, const char *prefix)
{
	size_t n = strlen(prefix);
	if (line.len < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = line.s[i], c = prefix[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (a != c)
			return 0;
	}
	return 1;
}

/* IPv6 when the second CSV record's first field has a ':'. */
static int csv_second_record_is_v6(const char *data, size_t len)
{
	struct rl_csv c;
	struct rl_span f[RL_CSV_MAX_FIELDS];
	unsigned nf, line;
	const char *why;
	int v6 = 0;
	rl_csv_init(&c, data, len);
	if (rl_csv_next(&c, f, &nf, &line, &why) == 1 && rl_csv_next(&c, f, &nf, &line, &why) == 1)
		v6 = memchr(f[0].s, ':', f[0].len) != NULL;
	rl_csv_free(&c);
	return v6;
}

/* An object's first line: one of the classes names are read from. */
static int is_rpsl(const char *data, size_t len)
{
	static const char *const classes[] = {"inetnum:", "inet6num:", "aut-num:", "organisation:"};
	struct rl_lines l;
	struct rl_span line;
	int at_start = 1;
	rl_lines_init(&l, data, len);
	while (rl_lines_next(&l, &line)) {
		if (line.len && (line.s[0] == '%' || line.s[0] == '#'))
			continue;
		if (rl_trim(line).len == 0) {
			at_start = 1;
			continue;
		}
		if (at_start)
			for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
				if (header_starts(line, classes[i]))
					return 1;
		at_start = 0;
	}
	return 0;
}

/* RIPE's asn.txt: "<digits> <text>", no '|' (a statistics line has). */
static int looks_like_asn_txt(struct rl_span line)
{
	size_t i = 0;
	while (i < line.len && line.s[i] >= '0' && line.s[i] <= '9')
		i++;
	return i > 0 && i + 1 < line.len && line.s[i] == ' ' && line.s[i + 1] != ' ' &&
	       !memchr(line.s, '|', line.len);
}

/* NIC.br: "AS<digits>|". */
static int looks_like_nicbr(struct rl_span line)
{
	size_t i = 2;
	if (line.len < 4 || !header_starts(line, "AS"))
		return 0;
	while (i < line.len && line.s[i] >= '0' && line.s[i] <= '9')
		i++;
	return i > 2 && i < line.len && line.s[i] == '|';
}

#define LOCATION_MAGIC "LOCDBXX"

/* MaxMind DB: the metadata marker, within the last 128 KiB of the file. */
static int is_mmdb(const char *data, size_t len)
{
	static const char marker[] = "\xab\xcd\xefMaxMind.com";
	size_t from = len > (128u << 10) ? len - (128u << 10) : 0;
	return memmem(data + from, len - from, marker, sizeof(marker) - 1) != NULL;
}

static int is_location_db(const char *data, size_t len)
{
	return len >= sizeof(LOCATION_MAGIC) - 1 &&
	       memcmp(data, LOCATION_MAGIC, sizeof(LOCATION_MAGIC) - 1) == 0;
}

int rl_detect(const char *data, size_t len)
{
	struct rl_span line;
	if (is_location_db(data, len))
		return RM_IN_LOCATION;
	if (is_mmdb(data, len))
		return RM_IN_MMDB;
	if (memchr(data, '\0', len))
		return -1;
	if (!first_meaningful_line(data, len, &line))
		return -1;
	if (looks_like_stats_header(line))
		return RM_IN_STATS;
	if (header_starts(line, "Prefix,Designation,"))
		return csv_second_record_is_v6(data, len) ? RM_IN_IANA_V6 : RM_IN_IANA_V4;
	if (header_starts(line, "Address Block,Name,"))
		return csv_second_record_is_v6(data, len) ? RM_IN_SPECIAL_V6 : RM_IN_SPECIAL_V4;
	if (header_starts(line, "AS Number,Reason for Reservation"))
		return RM_IN_SPECIAL_ASN;
	if (header_starts(line, "registry,holder_id,name"))
		return RM_IN_HOLDERS_CSV;
	if (header_starts(line, "prefix,label"))
		return RM_IN_LABELS;
	if (header_starts(line, "registry,holder_id,nir"))
		return RM_IN_NIR_IDS;
	if (looks_like_nicbr(line))
		return RM_IN_NICBR;
	if (looks_like_asn_txt(line))
		return RM_IN_AS_NAMES;
	struct rl_span f[3];
	if (rl_split(line, ',', f, 3) == 2) {
		unsigned fam, plen;
		rm_u128 a, z;
		const char *why;
		if (rl_parse_prefix(f[0].s, f[0].len, &fam, &a, &z, &plen, &why) == 0)
			return RM_IN_LABELS;
	}
	if (is_rpsl(data, len))
		return RM_IN_HOLDERS_RPSL;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

static void io_error(struct rl_build *b, const char *name, const char *why)
{
	fprintf(diag_out(b), "%s: %s\n", name, why);
	b->counts.errors++;
	b->failed_io = 1;
}

/* A file's (or buffer's) plain text, its format already told: path is
 * set when data is only the start of the file at path (RPSL dumps and the
 * location database are then read from the file itself). */
static int add_plain(struct rl_build *b, const char *name, const char *path, const char *data,
		     size_t len, int kind)
{
	FILE *f;
	int rc;
	switch (kind) {
	case RM_IN_STATS:
		return rl_load_stats(b, name, data, len);
	case RM_IN_IANA_V4:
	case RM_IN_IANA_V6:
		return rl_load_iana_alloc(b, name, data, len, kind);
	case RM_IN_SPECIAL_V4:
	case RM_IN_SPECIAL_V6:
	case RM_IN_SPECIAL_ASN:
		return rl_load_special(b, name, data, len, kind);
	case RM_IN_HOLDERS_RPSL:
		return rl_defer_rpsl(b, name, path, data, len);
	case RM_IN_HOLDERS_CSV:
		return rl_load_holders_csv(b, name, data, len);
	case RM_IN_LABELS:
		return rl_load_labels(b, name, data, len);
	case RM_IN_AS_NAMES:
		return rl_load_asn_txt(b, name, data, len);
	case RM_IN_NICBR:
		return rl_load_nicbr(b, name, data, len);
	case RM_IN_NIR_IDS:
		return rl_load_nir_ids(b, name, data, len);
	case RM_IN_MMDB:
		if (!path) {
			io_error(b, name, "a MaxMind DB is read from its file, not from memory");
			return -1;
		}
		return rl_load_mmdb(b, name, path);
	case RM_IN_LOCATION:
		f = path ? fopen(path, "rb") : fmemopen((void *)data, len, "rb");
		if (!f) {
			io_error(b, name, strerror(errno));
			return -1;
		}
		rc = rl_load_location(b, name, f);
		fclose(f);
		return rc;
	default:
		io_error(b, name,
			 "unrecognized format (expected a registry statistics file, an IANA CSV, "
			 "holder names, prefix labels, an RPSL whois dump, AS names, NIC.br's "
			 "file, NIR ids, a location database or a MaxMind DB)");
		return -1;
	}
}

int rl_build_add_buffer(struct rl_build *b, const char *name, const char *data, size_t len)
{
	if (!rl_is_gzip(data, len))
		return add_plain(b, name, NULL, data, len, rl_detect(data, len));
	const char *why;
	size_t n;
	char *plain = rl_gunzip(data, len, &n, &why);
	if (!plain) {
		io_error(b, name, why);
		return -1;
	}
	int rc = add_plain(b, name, NULL, plain, n, rl_detect(plain, n));
	free(plain);
	return rc;
}

/* How much of a file is read to tell its format before the rest. */
#define DETECT_WINDOW (1u << 20)

int rl_build_add_file(struct rl_build *b, const char *path)
{
	return rl_build_add_file_as(b, path, path);
}

int rl_build_add_file_as(struct rl_build *b, const char *path, const char *name)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		fprintf(diag_out(b), "%s: cannot open: %s\n", path,
			errno ? strerror(errno) : "out of memory");
		b->counts.errors++;
		b->failed_io = 1;
		return -1;
	}
	char *data = NULL;
	uint32_t len = 0, cap = 0;
	const char *why = NULL;
	int kind = -2;
	for (;;) {
		if (len == cap && RM_GROW(&data, &cap, len, 1, 1 << 20)) {
			why = "cannot read: out of memory, or larger than 4 GiB";
			break;
		}
		unsigned want = cap - len > (1u << 30) ? (1u << 30) : cap - len;
		int got = gzread(gz, data + len, want);
		if (got <= 0) {
			why = rl_gz_why(gz, got);
			break;
		}
		len += (uint32_t)got;
		/* Told once the window is full: a whois dump or a location
		 * database is then read from the file, not into memory. */
		if (kind == -2 && len >= DETECT_WINDOW) {
			kind = rl_detect(data, len);
			if (kind == RM_IN_HOLDERS_RPSL || kind == RM_IN_LOCATION)
				break;
		}
	}
	int plain_file = gzdirect(gz);
	gzclose(gz);
	int rc;
	if (why) {
		io_error(b, name, why);
		rc = -1;
	} else {
		if (kind == -2 || (kind != RM_IN_HOLDERS_RPSL && kind != RM_IN_LOCATION))
			kind = rl_detect(data, len);
		if ((kind == RM_IN_LOCATION || kind == RM_IN_MMDB) && !plain_file) {
			io_error(b, name,
				 "a compressed location database or MaxMind DB: give it "
				 "uncompressed");
			rc = -1;
		} else {
			rc = add_plain(b, name, path, data, len, kind);
		}
	}
	free(data);
	return rc;
}

struct rm_model *rl_build_finish(struct rl_build *b)
{
	if (rl_merge(b) || b->failed_io || (b->counts.errors && !b->opt.lenient))
		return NULL;
	rl_build_geo(b);
	rm_model_set_build_time(b->model, (uint64_t)time(NULL));
	struct rm_model *m = b->model;
	b->model = NULL;
	return m;
}
