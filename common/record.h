/*
 * record.h - the one record of counts that every line-oriented output is
 * made of, and the reader of its JSON form: rirmeter's JSON Lines and CSV
 * (dataplane/formats.c), `rirdb scan --json/--csv`, and `rirdb report`,
 * which reads rirmeter's JSON Lines back.
 *
 * rm_fields[] is the schema: each field's name, its place (the order of
 * the enum) and the kind of its value.  A JSON line has the fields its
 * record has, in that order.  A CSV file has one column per field of its
 * column set, in that order, empty where a record lacks the field, so
 * rirmeter's and scan's files differ only in the set.  Writers and the
 * reader go through the table, so a field is named and placed once.
 *
 * name is last and in no CSV column set: a JSON line carries it only when
 * the holder has a name (the key stays the stable id), and a reader of an
 * older line without it reads "".  CSV keeps its columns, so that a run
 * appending to a file an older version began, and readers that take the
 * columns by place, stay valid; names are in the JSON Lines and the
 * Prometheus exposition.
 */
#ifndef RM_RECORD_H
#define RM_RECORD_H

#include <stdint.h>
#include <stdio.h>

enum rm_field {
	RM_F_TS,       /* RFC 3339, UTC */
	RM_F_INTERVAL, /* seconds, or "total" for the totals of a run */
	RM_F_SNAPSHOT, /* the id of the snapshot that attributed the counts */
	RM_F_SCOPE,    /* rir, country, nir, holder, rir_pair, health, tunnel, inner_*, the
			located ones (geo_country, ...): dataplane/rows.c lists them */
	RM_F_DIR,      /* src or dst; rir_pair and health have none */
	RM_F_KEY,
	RM_F_PACKETS,
	RM_F_BYTES,    /* counters of packets or events only have none */
	RM_F_COUNT,    /* rirdb scan: occurrences of addresses */
	RM_F_DISTINCT, /* rirdb scan --distinct: distinct addresses */
	RM_F_NAME,     /* holder rows with a name: the holder's display name */
	RM_F_N
};

#define RM_FIELD(f) (1u << (f))
/* The column sets: rirmeter's traffic records and rirdb scan's counts
 * (with RM_FIELD(RM_F_DISTINCT) added for --distinct). */
#define RM_RECORD_TRAFFIC                                                                          \
	(RM_FIELD(RM_F_TS) | RM_FIELD(RM_F_INTERVAL) | RM_FIELD(RM_F_SNAPSHOT) |                   \
	 RM_FIELD(RM_F_SCOPE) | RM_FIELD(RM_F_DIR) | RM_FIELD(RM_F_KEY) | RM_FIELD(RM_F_PACKETS) | \
	 RM_FIELD(RM_F_BYTES))
#define RM_RECORD_SCAN                                                                             \
	(RM_FIELD(RM_F_TS) | RM_FIELD(RM_F_INTERVAL) | RM_FIELD(RM_F_SNAPSHOT) |                   \
	 RM_FIELD(RM_F_SCOPE) | RM_FIELD(RM_F_KEY) | RM_FIELD(RM_F_COUNT))

enum rm_field_kind {
	RM_FK_TEXT,	/* a JSON string; a CSV field quoted as RFC 4180 wants */
	RM_FK_INTERVAL, /* text: a JSON number as written, or the string "total" */
	RM_FK_COUNT,	/* an unsigned 64-bit number */
};

struct rm_field_def {
	const char *name;
	enum rm_field_kind kind;
	size_t off; /* of the value in struct rm_record */
};

/* Indexed by enum rm_field. */
extern const struct rm_field_def rm_fields[RM_F_N];

/*
 * One record.  has says which fields it carries (RM_FIELD() bits); the
 * writers look at no other.  interval is the text of a number ("10",
 * "2.5") or "total".
 */
struct rm_record {
	unsigned has;
	const char *ts, *interval, *snapshot, *scope, *dir, *key;
	uint64_t packets, bytes, count, distinct;
	const char *name;
};

/* The field called name (its whole name), or -1. */
int rm_field_find(const char *name);

/* One JSON line: the fields r has, in the table's order. */
void rm_record_write_json(FILE *o, const struct rm_record *r);
/* The CSV header line of the columns cols (RM_FIELD() bits), and one row of
 * them: every column of cols, empty where r lacks the field. */
void rm_record_write_csv_header(FILE *o, unsigned cols);
void rm_record_write_csv(FILE *o, const struct rm_record *r, unsigned cols);

/* Longest text field the reader keeps, with its NUL; longer ones are cut. */
#define RM_RECORD_TEXT_MAX 256

/* A record read, the text its pointers point into, and why a line was
 * refused. */
struct rm_record_buf {
	struct rm_record r;
	char text[RM_F_N][RM_RECORD_TEXT_MAX];
	char why[128];
};

/*
 * Read one JSON line (NUL-terminated; never read past its NUL): a flat
 * object of string and number values, numbers in JSON's grammar, nothing
 * but white space after it.  Fields of the table whose value has the
 * kind's type are taken (and their bit set in b->r.has); other names, and
 * values of another type, are passed over.  A count given as a number
 * must be a whole number of 0..UINT64_MAX ("-1", "2.5", "1e3" are
 * refused, not converted).  Every text pointer of b->r is set, to "" for
 * a field not given.  0, or -1 when line is not such an object, with the
 * reason in b->why ("packets: '-5' is not a whole number").  Requires
 * nothing of which fields are present: that is the caller's to decide.
 */
int rm_record_read_json(const char *line, struct rm_record_buf *b);

#endif
