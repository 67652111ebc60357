/*
 * output.h - the helpers every text output uses, so that escaping, number
 * and time formats, where "-" goes and how a file is replaced are decided
 * once: rirmeter's JSON Lines, CSV and Prometheus textfile, the snapshot
 * writer, the rirdb tool's lookup, diff, scan and report.
 */
#ifndef RM_OUTPUT_H
#define RM_OUTPUT_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Text from outside (labels, holder names and ids, file names, serials,
 * queries) is valid UTF-8 when the loaders took it (loaders.h), but a
 * snapshot or a query may still hold anything, so every writer passes it
 * through the helpers below, and each output stays well formed whatever
 * the bytes:
 *
 *   - display text (terminal tables, `rirdb scan --annotate`, rirdb info,
 *     CSV cells, Prometheus label values): each control character, C0
 *     (U+0000-U+001F), DEL and C1 (U+0080-U+009F), is written as \xNN (its
 *     code point, two lower-case hex digits), and so is each byte that is
 *     not part of a valid UTF-8 character; each bidirectional embedding,
 *     override or isolate (U+202A-U+202E, U+2066-U+2069) is written as
 *     \uNNNN; everything else is copied.  No terminal escape, no line
 *     break, no reordering of the line as shown ("Trojan Source") and no
 *     invalid UTF-8 comes out.  The form is for reading, not reversible:
 *     a backslash is copied as is.
 *   - JSON strings: quote and backslash escaped, control characters as
 *     \u00NN and the bidirectional controls above as \uNNNN (the same
 *     text to a parser, and none reordered where the line is shown), and
 *     each invalid byte as U+FFFD, so strict parsers accept the line.
 */

/*
 * Length (1-4) of the valid UTF-8 character at s, of at most n bytes, with
 * its code point in *cp; 0 when s does not start one (a stray continuation
 * byte, an overlong form, a surrogate, a code point past U+10FFFF, a cut
 * sequence).  n is at least 1.
 */
size_t rm_utf8_char(const char *s, size_t n, unsigned *cp);
/* Whether s[0..n) is all valid UTF-8. */
int rm_utf8_valid(const char *s, size_t n);
/* The longest prefix of s[0..n) that ends on a character boundary of valid
 * UTF-8 text: cutting there never splits a character.  The bytes after an
 * invalid one count as characters of one byte. */
size_t rm_utf8_cut(const char *s, size_t n);

/* Display text of s (above) to o. */
void rm_put_text(FILE *o, const char *s);
/* "WHO: PATH" and the rest (fmt) on stderr, the path as display text: a
 * file name is third-party text (a log directory others write into), so
 * it must not send terminal escapes.  fmt begins with the separator:
 * ": reason" or ":LINE: reason". */
__attribute__((format(printf, 3, 4))) void rm_say_file(const char *who, const char *path,
						       const char *fmt, ...);
/* The same into out of n bytes, NUL-terminated and cut at a whole escape or
 * character; like snprintf, the length the whole text needs. */
size_t rm_text_escape(char *out, size_t n, const char *s);

/* A JSON string literal (quotes, backslashes, control characters escaped,
 * invalid UTF-8 as U+FFFD). */
void rm_put_json_string(FILE *o, const char *s);
/*
 * A CSV cell: the display text of s, quoted as RFC 4180 wants when it holds
 * a comma or a quote, and prefixed with a single quote when it starts with
 * '=', '+', '-', '@' (after the escape, so a tab or CR never leads), so
 * that a spreadsheet shows it as text instead of running it as a formula
 * (OWASP's advice for CSV injection).  Numbers are never written through
 * it: a count is a number, not a cell of third-party text.
 */
void rm_put_csv_field(FILE *o, const char *s);
/* v with an SI prefix for people: "950", "1.2M"; sep goes between them. */
void rm_si_format(char *out, size_t n, double v, const char *sep);

/* Room for every rm_rfc3339() text, with its NUL. */
#define RM_RFC3339_LEN 40
/*
 * Seconds since the epoch t as RFC 3339 in UTC: "2024-05-01T12:00:00Z", or
 * with millis "2024-05-01T12:00:00.250Z" (the fraction cut, not rounded).
 */
void rm_rfc3339(char out[RM_RFC3339_LEN], double t, int millis);

/*
 * path opened for writing, "-" meaning standard output (which is shared:
 * rm_close_output() only flushes it).  NULL with errno on failure; the
 * caller names the path in its own message.
 */
FILE *rm_open_output(const char *path);
/*
 * path opened to append to ("-": standard output), for outputs that
 * collect over restarts (rirmeter's JSON Lines and CSV: a service that
 * restarts must not erase what it wrote before).  The file is created
 * when missing (mode 0644 before the umask); a file whose last byte is
 * not a newline (a line cut by a crash or a full disk) is completed with
 * one first, so the next line starts on a line of its own.  *fresh is 1
 * when nothing was written to it before (new, empty, or standard output:
 * a header is then due), else 0.  NULL with errno on failure.
 */
FILE *rm_open_append(const char *path, int *fresh);
/* Close what rm_open_output() or rm_open_append() gave (flush standard output); 0, or -1 when
 * any write to f failed, errno saying why where the C library says. */
int rm_close_output(FILE *f);

/*
 * Replacing a file whole, so that a reader sees the old file or the new
 * one and never a part: the text goes to a temporary file beside path,
 * which rm_atomic_commit() syncs and renames over path.
 *
 * The temporary file is made by mkstemp() in path's directory: a name
 * nobody can guess, created exclusively, so a symlink planted beside the
 * target is never followed and nothing else is truncated.  rename()
 * replaces a symlink at path itself rather than writing through it.  The
 * mode is set with fchmod(), so the umask does not decide it.
 */
struct rm_atomic_file {
	FILE *f; /* write here, or to fd with nothing left in f's buffer */
	int fd;	 /* -1 once closed */
	char tmp[PATH_MAX], path[PATH_MAX];
};

/*
 * Open the temporary file for path with permission bits mode (0 means
 * 0644).  0, or -1 with errno and the reason (naming path) in err; a is
 * then closed and nothing is left behind.
 */
int rm_atomic_open(struct rm_atomic_file *a, const char *path, unsigned mode, char *err,
		   size_t errlen);
/*
 * Flush, fsync and close the temporary file, rename it over path, fsync the
 * directory.  0, or -1 with errno and the reason in err: the temporary
 * file is removed and path is as it was (unless only the directory's
 * fsync failed: the new file is then in place but perhaps not yet on
 * disk).  a is closed either way.
 */
int rm_atomic_commit(struct rm_atomic_file *a, char *err, size_t errlen);
/* fsync the directory that holds path ("." for a bare name), so that a
 * rename into it is on disk; 0, or -1 with errno. */
int rm_sync_dir(const char *path);
/* The regular file at path opened read-only, its size in *size: the fd,
 * or -1 with a reason naming path (files read in place: snapshots,
 * captures). */
int rm_open_regular(const char *path, unsigned long long *size, char *err, size_t errlen);
/* Close and remove the temporary file; path is left as it was.  Safe to
 * call on a closed a. */
void rm_atomic_abort(struct rm_atomic_file *a);

#endif
