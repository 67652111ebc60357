/*
 * output.h - the helpers every text output uses, so that escaping and
 * number formats are decided once: rirmeter's JSON Lines and CSV, the
 * rirdb tool's lookup, diff, scan and report.
 */
#ifndef RM_OUTPUT_H
#define RM_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

/* A JSON string literal (quotes, backslashes, control characters escaped)
 * and an RFC 4180 CSV field (quoted when it holds a comma, quote or newline). */
void rm_put_json_string(FILE *o, const char *s);
void rm_put_csv_field(FILE *o, const char *s);
/* v with an SI prefix for people: "950", "1.2M"; sep goes between them. */
void rm_si_format(char *out, size_t n, double v, const char *sep);

#endif
