/*
 * record.c - the record's field table, its JSON and CSV writers, and the
 * reader of its JSON form (record.h).
 *
 * The reader is for rirmeter's own lines, not JSON at large: one flat
 * object of strings and numbers, \uXXXX kept only below 0x80 (others
 * become '?').  It is strict where a lenient reading would turn into
 * counts: a number must have JSON's grammar (strtod() also takes "nan",
 * "inf", "0x10" and " -1"), a count must be a whole number of 0..2^64-1
 * (a cast of -1 or nan to uint64_t is garbage, or undefined), and the
 * object must be well formed to its end.  A line it refuses gets a reason.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
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
    FIELD(RM_F_NAME, "name", RM_FK_TEXT, name),
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

/* The 4 hex digits at s (never read past a NUL) into *v; 0 or -1. */
static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], d = c >= '0' && c <= '9'	? c - '0'
						 : c >= 'a' && c <= 'f' ? c - 'a' + 10
						 : c >= 'A' && c <= 'F' ? c - 'A' + 10
									: -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* Code point cp as UTF-8 into u; its length. */
static size_t utf8_put(char u[4], unsigned cp)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (char)(0xf0 | cp >> 18);
	u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A JSON string at *p into out (cut to cap, between characters); *p moves
 * past it.  0 or -1.  A \u escape is its character in UTF-8 (writers such
 * as Python's json escape every non-ASCII one), a surrogate pair one
 * character; a lone surrogate, and \u0000 (it would end the text), are
 * U+FFFD. */
static int parse_string(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;
	int cut = 0;
	if (*s++ != '"')
		return -1;
	while (*s && *s != '"') {
		char u[4];
		size_t k = 1;
		u[0] = *s++;
		if (u[0] == '\\') {
			char ch = *s++;
			unsigned cp, lo;
			if (ch == 'u') {
				if (hex4(s, &cp))
					return -1; /* and never past the line's end */
				s += 4;
				if (cp >= 0xd800 && cp <= 0xdbff && s[0] == '\\' && s[1] == 'u' &&
				    hex4(s + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				} else if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
					cp = 0xfffd;
				}
				k = utf8_put(u, cp);
			} else if (ch == 'n') {
				u[0] = '\n';
			} else if (ch == 't') {
				u[0] = '\t';
			} else if (ch == 'r') { /* and \b, \f: jq and Python write them */
				u[0] = '\r';
			} else if (ch == 'b') {
				u[0] = '\b';
			} else if (ch == 'f') {
				u[0] = '\f';
			} else if (ch == '"' || ch == '\\' || ch == '/') {
				u[0] = ch;
			} else {
				return -1;
			}
		}
		/* Past cap nothing more is kept: a later, shorter character
		 * would otherwise follow a gap. */
		if (!cut && n + k < cap) {
			memcpy(out + n, u, k);
			n += k;
		} else {
			cut = 1;
		}
	}
	if (*s != '"')
		return -1;
	if (cut) /* never inside a character */
		n = rm_utf8_cut(out, n);
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
 * The length of the JSON number at p (RFC 8259: -?(0|[1-9][0-9]*)
 * (.[0-9]+)?([eE][+-]?[0-9]+)?), or 0 when p does not start with one.
 */
static size_t json_number(const char *p)
{
	const char *s = p;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return (size_t)(s - p);
}

/*
 * Field f's value into b when it has the field's type: a string (sval) for
 * text, a number (the n bytes at numtext, JSON's grammar) for counts, and
 * either for the interval.  A value of another type is passed over.  0, or
 * -1 with the reason in b->why when a count is not a whole number of
 * 0..UINT64_MAX.
 */
static int take(struct rm_record_buf *b, int f, int is_str, const char *sval, const char *numtext,
		size_t n)
{
	enum rm_field_kind kind = rm_fields[f].kind;
	char *at = (char *)&b->r + rm_fields[f].off;
	if (kind == RM_FK_COUNT && !is_str) {
		char num[24], why[96];
		uint64_t v;
		if (n >= sizeof(num)) { /* 2^64 has 20 digits: no count is this long */
			snprintf(b->why, sizeof(b->why), "%s: '%.*s...' is out of range",
				 rm_fields[f].name, 20, numtext);
			return -1;
		}
		snprintf(num, sizeof(num), "%.*s", (int)n, numtext);
		if (rm_parse_u64(num, 0, UINT64_MAX, &v, why, sizeof(why))) {
			snprintf(b->why, sizeof(b->why), "%s: %s", rm_fields[f].name, why);
			return -1;
		}
		*(uint64_t *)at = v;
	} else if (kind != RM_FK_COUNT && is_str) {
		snprintf(b->text[f], sizeof(b->text[f]), "%s", sval);
	} else if (kind == RM_FK_INTERVAL) {
		snprintf(b->text[f], sizeof(b->text[f]), "%.*s", (int)n, numtext);
	} else {
		return 0;
	}
	b->r.has |= RM_FIELD(f);
	return 0;
}

/* Fail the line with reason why. */
static int bad(struct rm_record_buf *b, const char *why)
{
	snprintf(b->why, sizeof(b->why), "%s", why);
	return -1;
}

int rm_record_read_json(const char *line, struct rm_record_buf *b)
{
	memset(&b->r, 0, sizeof(b->r));
	b->why[0] = '\0';
	for (int f = 0; f < RM_F_N; f++) {
		b->text[f][0] = '\0';
		if (rm_fields[f].kind != RM_FK_COUNT)
			*(const char **)((char *)&b->r + rm_fields[f].off) = b->text[f];
	}
	const char *p = line;
	skip_ws(&p);
	if (*p++ != '{')
		return bad(b, "not a JSON object");
	skip_ws(&p);
	if (*p == '}')
		p++;
	else
		for (;;) {
			char name[32], sval[RM_RECORD_TEXT_MAX];
			if (parse_string(&p, name, sizeof(name)))
				return bad(b, "expected a field name (a string)");
			skip_ws(&p);
			if (*p++ != ':')
				return bad(b, "expected ':' after a field name");
			skip_ws(&p);
			const char *numtext = p;
			size_t n = 0;
			int is_str = *p == '"';
			if (is_str) {
				if (parse_string(&p, sval, sizeof(sval)))
					return bad(b, "bad string value");
			} else {
				n = json_number(p);
				if (n == 0) {
					/* name is the input's: no control
					 * characters onto a terminal */
					for (char *q = name; *q; q++)
						if (!isprint((unsigned char)*q))
							*q = '?';
					snprintf(b->why, sizeof(b->why),
						 "%s: not a string or a JSON number", name);
					return -1;
				}
				p += n;
			}
			int f = rm_field_find(name); /* -1: not the record's, passed over */
			if (f >= 0 && take(b, f, is_str, sval, numtext, n))
				return -1;
			skip_ws(&p);
			if (*p == '}') {
				p++;
				break;
			}
			if (*p++ != ',')
				return bad(b, "expected ',' or '}' after a value");
			skip_ws(&p);
		}
	skip_ws(&p);
	if (*p)
		return bad(b, "text after the object");
	return 0;
}
