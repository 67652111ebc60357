/*
 * internal.h - what the loader files share with each other (not public).
 *
 * Each format parser (stats.c, iana.c, holders.c: names and labels) reads
 * one in-memory file and appends claims and holder names to the build
 * (build.c, which also drives CSV inputs); merge.c resolves them.  Text
 * helpers (lines and CSV records) live in text.c.
 */
#ifndef RL_INTERNAL_H
#define RL_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>

#include "grow.h"
#include "loaders.h"

/* Claim layers, weakest first (see loaders.h).  RL_LAYER_NIR is not an
 * attribution of its own: it marks the space a NIR administers (NIC.br's
 * blocks), overlaid on the registry's records like labels are. */
enum rl_layer { RL_LAYER_IANA, RL_LAYER_DELEGATED, RL_LAYER_SPECIAL, RL_LAYER_LABEL, RL_LAYER_NIR };

struct rl_claim {
	rm_u128 first, last;
	uint64_t rank;	     /* within a layer: file end date, or prefix length */
	struct rm_attr attr; /* holder strings already interned in the model */
	uint32_t family;     /* enum rm_family */
	uint32_t layer;	     /* enum rl_layer */
	uint32_t input;
	uint32_t line;
	uint32_t date;
	uint32_t block; /* model block, made when the claim first wins */
};

/*
 * Text kept while a build runs but not put in the model unless it is used
 * (organisation names, AS names, names offered for holders): a snapshot
 * then holds only the names that name something.  Offsets, 0 is "".
 */
struct rl_pool {
	char *s;
	uint32_t len, cap;
};
uint32_t rl_pool_add(struct rl_pool *p, const char *s, size_t len);
static inline const char *rl_pool_str(const struct rl_pool *p, uint32_t off)
{
	return p->s ? p->s + off : "";
}

/*
 * A name offered for a holder, with its source (enum rm_name_source:
 * smaller is stronger).  Offered either for a registry holder id directly
 * (the operator's CSV: RL_BY_ID, rir RM_RIR_UNKNOWN for any registry) or
 * for the holder of whatever delegated record has exactly the range
 * [first, last] (RPSL objects, NIC.br blocks and AS numbers: RL_BY_RANGE).
 * names.c turns the offers into one name per holder.
 */
enum rl_name_key { RL_BY_ID, RL_BY_RANGE };
struct rl_name {
	rm_u128 first, last; /* RL_BY_RANGE */
	uint32_t key_kind;   /* enum rl_name_key */
	uint32_t family;     /* RL_BY_RANGE: enum rm_family */
	uint32_t rir;	     /* RL_BY_ID: registry, RM_RIR_UNKNOWN for any */
	uint32_t id;	     /* RL_BY_ID: holder id, string offset in the model */
	uint32_t name;	     /* offset in the build's pool */
	uint32_t source;     /* enum rm_name_source */
	uint32_t input, line;
};

/* An AS number's name (asn.txt, location.db); the first input's wins. */
struct rl_asname {
	uint32_t asn;
	uint32_t name; /* pool offset */
	uint32_t input, line;
};

/* A network of the located layer (geo.c): a CIDR prefix, most specific
 * wins within its source's layer; an MMDB's field overrides the location
 * database's. */
enum rl_geo_layer { RL_GEO_LOCATION, RL_GEO_COUNTRY, RL_GEO_ASN, RL_GEO_LAYERS };
struct rl_geo {
	rm_u128 first, last;
	uint32_t family, seq, layer;
	char cc[2]; /* "\0\0": none */
	uint32_t asn;
};

/* A registry account id that is a NIR's (data/nir-ids.csv). */
struct rl_nir_id {
	uint32_t rir, id; /* id: string offset in the model */
	uint32_t nir;	  /* enum rm_nir */
	uint32_t input, line;
};

/* An RPSL dump, read at the end of the build when the delegated records
 * it is joined to are known (rpsl.c): a path to stream, or a copy of a
 * buffer given in memory. */
struct rl_deferred {
	uint32_t input;
	char *path;
	char *data;
	size_t len;
};

struct rl_build {
	struct rl_options opt;
	struct rl_counts counts;
	unsigned messages;
	struct rm_model *model;
	struct rl_claim *claims;
	uint32_t n_claims, claims_cap;
	struct rl_name *names;
	uint32_t n_names, names_cap;
	struct rl_asname *asnames;
	uint32_t n_asnames, asnames_cap;
	struct rl_nir_id *nir_ids;
	uint32_t n_nir_ids, nir_ids_cap;
	struct rl_deferred *deferred;
	uint32_t n_deferred, deferred_cap;
	struct rl_pool pool;
	struct rl_geo *geo;
	uint32_t n_geo, geo_cap;
	uint32_t *range_index; /* delegated claims by exact range (rpsl.c) */
	uint32_t n_range_index;
	int range_index_built;
	int failed_io;
	/* Statistics files that lack records their header or summaries count
	 * (stats.c): input ids, for merge.c's choice of a registry's file. */
	uint32_t *incomplete;
	uint32_t n_incomplete, incomplete_cap;
};

/* Diagnostics: "NAME:LINE: reason". */
__attribute__((format(printf, 4, 5))) void rl_error(struct rl_build *b, const char *file,
						    unsigned line, const char *fmt, ...);
/* A data error that lenient mode does not skip: overlapping records of one
 * file are both kept and resolved by merge.c, so they count as errors (a
 * strict build fails) but not as skipped lines. */
__attribute__((format(printf, 4, 5))) void rl_data_error(struct rl_build *b, const char *file,
							 unsigned line, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void rl_conflict(struct rl_build *b, const char *file,
						       unsigned line, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void rl_notice(struct rl_build *b, const char *file,
						     unsigned line, const char *fmt, ...);

/* A new zeroed claim, and a holder name stored; like the model's calls they
 * have no error to return, so out of memory aborts (common/grow.h). */
struct rl_claim *rl_add_claim(struct rl_build *b);
void rl_add_name(struct rl_build *b, const struct rl_name *n);
void rl_add_asname(struct rl_build *b, const struct rl_asname *n);
void rl_add_nir_id(struct rl_build *b, const struct rl_nir_id *n);
uint32_t rl_intern(struct rl_build *b, const char *s, size_t len);

/* Lines: CR LF or LF, a last line without newline, NUL bytes refused. */
struct rl_lines {
	const char *p, *end;
	unsigned lineno;
};

struct rl_span {
	const char *s;
	size_t len;
};

void rl_lines_init(struct rl_lines *l, const char *data, size_t len);
int rl_lines_next(struct rl_lines *l, struct rl_span *line);

/* Split on a separator into at most max fields; returns the field count. */
unsigned rl_split(struct rl_span line, char sep, struct rl_span *f, unsigned max);
int rl_span_eq(struct rl_span s, const char *lit);
struct rl_span rl_trim(struct rl_span s);
int rl_parse_u64(struct rl_span s, uint64_t *out);
/*
 * Whether s, text that reaches the outputs (loaders.h), is valid UTF-8 of
 * 1 to RM_HOLDER_TEXT_MAX bytes, and when id is set, not a registry holder
 * id starting "local:".  If not, reports "FILE:LINE: WHAT ..." (the
 * caller then skips the line) and returns 0.
 */
int rl_text_ok(struct rl_build *b, const char *file, unsigned line, const char *what,
	       struct rl_span s, int id);

/* RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
#define RL_CSV_MAX_FIELDS 32
struct rl_csv {
	const char *p, *end;
	unsigned lineno; /* line where the next record starts */
	char *buf;	 /* unescaped field text of the current record */
	uint32_t buf_cap;
};

void rl_csv_init(struct rl_csv *c, const char *data, size_t len);
void rl_csv_free(struct rl_csv *c);
/*
 * Next record: 1 and fields filled, 0 at end, -1 on a malformed record
 * (unterminated quote, text after a closing quote) or when there is no
 * memory for its fields, *why saying which; *line is where the record
 * starts.
 */
int rl_csv_next(struct rl_csv *c, struct rl_span *f, unsigned *nf, unsigned *line,
		const char **why);

/*
 * A CSV input (build.c): rl_load_csv makes the input record, reports
 * malformed records, skips a header when told, and calls fn for each row;
 * fn returns how many records it took from the row (for the input's record
 * count).
 */
struct rl_row {
	struct rl_build *b;
	const char *name;
	uint32_t input;
	int kind;
	unsigned line;
	unsigned index; /* 0 for the first row after any header */
	struct rl_span *f;
	unsigned nf;
};
typedef unsigned (*rl_row_fn)(struct rl_row *row);
int rl_load_csv(struct rl_build *b, const char *name, const char *data, size_t len, int kind,
		int has_header, rl_row_fn fn);

/* Format parsers: each returns 0, or -1 for a file it had to give up on. */
int rl_load_stats(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_iana_alloc(struct rl_build *b, const char *name, const char *data, size_t len,
		       int kind);
int rl_load_special(struct rl_build *b, const char *name, const char *data, size_t len, int kind);
int rl_load_holders_csv(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_labels(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_asn_txt(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_nicbr(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_nir_ids(struct rl_build *b, const char *name, const char *data, size_t len);
/* IPFire's location database (asnames.c): its AS names.  f is the open
 * file (read from its start); the caller closes it. */
int rl_load_location(struct rl_build *b, const char *name, FILE *f);
/* A MaxMind DB file at path (mmdb.c): its country and AS fields into the
 * located layer. */
int rl_load_mmdb(struct rl_build *b, const char *name, const char *path);

/*
 * Streams (stream.c): an input's bytes line by line, plain or gzip (zlib
 * tells which by content), from a file or from memory, in bounded memory.
 * Lines as rl_lines_next gives them (CR LF or LF), numbered from 1.
 */
struct rl_stream {
	void *gz; /* gzFile when reading a file */
	const char *name;
	const char *mem;
	size_t mem_len;
	char *buf;
	size_t cap, pos, end;
	int eof;
	unsigned lineno;
	const char *error; /* why the stream ended early; NULL at a clean end */
	/* Lines of RL_STREAM_LINE_MAX bytes or more (files only): skipped,
	 * counted, and the first one's number kept for the caller to report. */
	int skipping;
	unsigned long_lines, long_line_at;
};
#define RL_STREAM_LINE_MAX (2u << 20)
int rl_stream_open_file(struct rl_stream *s, const char *path);
void rl_stream_open_mem(struct rl_stream *s, const char *name, const char *data, size_t len);
/* 1 and the next line, or 0 at the end or on an error (s->error says). */
int rl_stream_line(struct rl_stream *s, struct rl_span *line);
void rl_stream_close(struct rl_stream *s);
/* Why a gzread() on the gzFile gz that returned got stopped: NULL after
 * bytes or at a clean end of the stream, else the reason ("truncated gzip
 * stream", the system's or zlib's message). */
const char *rl_gz_why(void *gz, int got);
/* Whether data starts as gzip does, and its whole decompressed text in a
 * malloc'd buffer (at most 4 GiB); NULL with *why on a bad or truncated
 * stream. */
int rl_is_gzip(const char *data, size_t len);
char *rl_gunzip(const char *data, size_t len, size_t *out_len, const char **why);

/* RPSL dumps (rpsl.c): rl_defer_rpsl keeps a dump for the end of the
 * build; rl_rpsl_join reads every kept dump, offering org names for the
 * delegated records whose range an object has exactly (only objects with
 * such a range are kept, so memory grows with the delegations). */
int rl_defer_rpsl(struct rl_build *b, const char *name, const char *path, const char *data,
		  size_t len);
void rl_rpsl_join(struct rl_build *b);
/* Exact-range index of the delegated claims in use (names.c): whether a
 * claim has the range [first, last] of family, and the first such claim's
 * position in b->range_index (equal ranges are adjacent).  Built by
 * rl_range_index_build once superseded files are marked. */
void rl_range_index_build(struct rl_build *b);
int rl_range_find(const struct rl_build *b, unsigned family, rm_u128 first, rm_u128 last,
		  uint32_t *pos);

/* The located layer (geo.c): networks added, then swept into the model's
 * geo ranges at the end of the build. */
void rl_add_geo(struct rl_build *b, unsigned layer, unsigned family, rm_u128 first, rm_u128 last,
		const char cc[2], uint32_t asn);
void rl_build_geo(struct rl_build *b);

/* One name per holder, and the NIR ids applied (names.c). */
void rl_resolve_names(struct rl_build *b);

uint32_t rl_new_input(struct rl_build *b, const char *name, int kind);

/* Resolution of all claims into the model (merge.c). */
int rl_merge(struct rl_build *b);

#endif
