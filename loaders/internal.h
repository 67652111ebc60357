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

/* Claim layers, weakest first (see loaders.h). */
enum rl_layer { RL_LAYER_IANA, RL_LAYER_DELEGATED, RL_LAYER_SPECIAL, RL_LAYER_LABEL };

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

struct rl_name {
	uint32_t rir; /* RM_RIR_UNKNOWN: any registry */
	uint32_t id;  /* string offsets in the model */
	uint32_t name;
	uint32_t input, line;
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
	int failed_io;
};

/* Diagnostics: "NAME:LINE: reason". */
__attribute__((format(printf, 4, 5))) void rl_error(struct rl_build *b, const char *file,
						    unsigned line, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void rl_conflict(struct rl_build *b, const char *file,
						       unsigned line, const char *fmt, ...);
__attribute__((format(printf, 4, 5))) void rl_notice(struct rl_build *b, const char *file,
						     unsigned line, const char *fmt, ...);

/* A new zeroed claim, and a holder name stored; like the model's calls they
 * have no error to return, so out of memory aborts (common/grow.h). */
struct rl_claim *rl_add_claim(struct rl_build *b);
void rl_add_name(struct rl_build *b, const struct rl_name *n);
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
int rl_load_holders_rpsl(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_holders_csv(struct rl_build *b, const char *name, const char *data, size_t len);
int rl_load_labels(struct rl_build *b, const char *name, const char *data, size_t len);

uint32_t rl_new_input(struct rl_build *b, const char *name, int kind);

/* Resolution of all claims into the model (merge.c). */
int rl_merge(struct rl_build *b);

#endif
