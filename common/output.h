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

/* A JSON string literal (quotes, backslashes, control characters escaped)
 * and an RFC 4180 CSV field (quoted when it holds a comma, quote or newline). */
void rm_put_json_string(FILE *o, const char *s);
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
/* Close what rm_open_output() gave (flush standard output); 0, or -1 when
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
/* Close and remove the temporary file; path is left as it was.  Safe to
 * call on a closed a. */
void rm_atomic_abort(struct rm_atomic_file *a);

#endif
