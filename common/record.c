/*
 * record.c - the record's field table, its JSON and CSV writers, and the
 * reader of its JSON form (record.h).
 *
 * The reader is for rirmeter's own lines, not JSON at large: one flat
 * object of strings and numbers, \uXXXX kept only below 0x80 (others
 * become '?'), numbers read with strtod().
 */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "record.h"

#define FIELD(f, name, kind, member) [f] = {name, kind, offsetof(struct rm_record, member)}

const struct rm_field_def rm_fields[RM_F_N] = {
    FIELD(RM_F_TS, "ts", RM_FK_TEXT, ts),
    FIELD(RM_F_INTERVAL, "interval", RM_FK_INTERVAL, interval),
    FIELD(RM_F_SNAPSHOT, "snapshot", RM_FK_TEXT, snapshot),
    FIELD(RM_F_SCOPE, "scope", RM_FK_TEXT, scope),
    FIELD(RM_F_DIR, "dir", RM_FK_TEXT, dir),
    FIELD(RM_F_KEY, "key", RM_FK_TEXT, key),
    FIELD(RM_F_PACKETS, "packets", RM_FK_COUNT, packets),
    FIELD(RM_F_BYTES, "bytes", RM_FK_COUNT, bytes),
    FIELD(RM_F_COUNT, "count", RM_FK_COUNT, count),
    FIELD(RM_F_DISTINCT, "distinct", RM_FK_COUNT, distinct),
};

int rm_field_find(const char *name)
{
	for (int f = 0; f < RM_F_N; f++)
		if (strcmp(rm_fields[f].name, name) == 0)
			return f;
	return -1;
}

static const char *text_of(const struct rm_record *r, int f)
{
	return *(const char *const *)((const char *)r + rm_fields[f].off);
}

static uint64_t count_of(const struct rm_record *r, int f)
{
	return *(const uint64_t *)((const char *)r + rm_fields[f].off);
}

/* ------------------------------------------------------------------ */
/* Writers                                                             */

void rm_record_write_json(FILE *o, const struct rm_record *r)
{
	const char *sep = "{";
	for (int f = 0; f < RM_F_N; f++) {
		if (!(r->has & RM_FIELD(f)))
			continue;
		fprintf(o, "%s\"%s\":", sep, rm_fields[f].name);
		sep = ",";
		if (rm_fields[f].kind == RM_FK_COUNT)
			fprintf(o, "%" PRIu64, count_of(r, f));
		else if (rm_fields[f].kind == RM_FK_INTERVAL && strcmp(text_of(r, f), "total") != 0)
			fputs(text_of(r, f), o); /* a number */
		else
			rm_put_json_string(o, text_of(r, f));
	}
	fputs("}\n", o);
}

void rm_record_write_csv_header(FILE *o, unsigned cols)
{
	const char *sep = "";
	for (int f = 0; f < RM_F_N; f++)
		if (cols & RM_FIELD(f)) {
			fprintf(o, "%s%s", sep, rm_fields[f].name);
			sep = ",";
		}
	fputc('\n', o);
}

void rm_record_write_csv(FILE *o, const struct rm_record *r, unsigned cols)
{
	const char *sep = "";
	for (int f = 0; f < RM_F_N; f++) {
		if (!(cols & RM_FIELD(f)))
			continue;
		fputs(sep, o);
		sep = ",";
		if (!(r->has & RM_FIELD(f)))
			continue;
		if (rm_fields[f].kind == RM_FK_COUNT)
			fprintf(o, "%" PRIu64, count_of(r, f));
		else
			rm_put_csv_field(o, text_of(r, f));
	}
	fputc('\n', o);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

/* A JSON string at *p into out (cut to cap); *p moves past it.  0 or -1. */
static int parse_string(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	if (*s++ != '"')
		return -1;
	while (*s && *s != '"') {
		char ch = *s++;
		if (ch == '\\') {
			ch = *s++;
			if (ch == 'u') { /* keep it simple: \u00XX only, others as '?' */
				char hex[5] = {0};
				for (int i = 0; i < 4; i++) {
					if (!isxdigit((unsigned char)s[i]))
						return -1; /* and never past the line's end */
					hex[i] = s[i];
				}
				unsigned long v = strtoul(hex, NULL, 16);
				s += 4;
				ch = v < 0x80 ? (char)v : '?';
			} else if (ch == 'n') {
				ch = '\n';
			} else if (ch == 't') {
				ch = '\t';
			} else if (ch != '"' && ch != '\\' && ch != '/') {
				return -1;
			}
		}
		if (n + 1 < cap)
			out[n++] = ch;
	}
	if (*s != '"')
		return -1;
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

static void skip_ws(const char **p)
{
	while (isspace((unsigned char)**p))
		(*p)++;
}

/*
 * Field f's value into b when it has the field's type: a string (sval) for
 * text, a number (num, written as the n bytes at numtext) for counts, and
 * either for the interval.  A value of another type is passed over.
 */
static void take(struct rm_record_buf *b, int f, int is_str, const char *sval, double num,
		 const char *numtext, size_t n)
{
	enum rm_field_kind kind = rm_fields[f].kind;
	char *at = (char *)&b->r + rm_fields[f].off;
	if (kind == RM_FK_COUNT && !is_str)
		*(uint64_t *)at = (uint64_t)num;
	else if (kind != RM_FK_COUNT && is_str)
		snprintf(b->text[f], sizeof(b->text[f]), "%s", sval);
	else if (kind == RM_FK_INTERVAL)
		snprintf(b->text[f], sizeof(b->text[f]), "%.*s", (int)n, numtext);
	else
		return;
	b->r.has |= RM_FIELD(f);
}

int rm_record_read_json(const char *line, struct rm_record_buf *b)
{
	memset(&b->r, 0, sizeof(b->r));
	for (int f = 0; f < RM_F_N; f++) {
		b->text[f][0] = '\0';
		if (rm_fields[f].kind != RM_FK_COUNT)
			*(const char **)((char *)&b->r + rm_fields[f].off) = b->text[f];
	}
	const char *p = line;
	skip_ws(&p);
	if (*p++ != '{')
		return -1;
	for (;;) {
		char name[32], sval[RM_RECORD_TEXT_MAX];
		skip_ws(&p);
		if (*p == '}')
			return 0;
		if (parse_string(&p, name, sizeof(name)))
			return -1;
		skip_ws(&p);
		if (*p++ != ':')
			return -1;
		skip_ws(&p);
		double num = 0;
		const char *numtext = p;
		int is_str = *p == '"';
		if (is_str) {
			if (parse_string(&p, sval, sizeof(sval)))
				return -1;
		} else {
			char *end;
			num = strtod(p, &end);
			if (end == p)
				return -1;
			p = end;
		}
		int f = rm_field_find(name); /* -1: not the record's, passed over */
		if (f >= 0)
			take(b, f, is_str, sval, num, numtext, (size_t)(p - numtext));
		skip_ws(&p);
		if (*p == ',')
			p++;
	}
}
