/*
 * output.c - text output helpers shared by every writer (output.h).
 *
 * Every escape walks the text one UTF-8 character at a time
 * (rm_utf8_char), so a valid character is copied whole and an invalid
 * byte is met on its own: display text shows it as \xNN, JSON as U+FFFD.
 *
 * The atomic writer syncs twice: the file before the rename (else a crash
 * can leave the new name on an empty file) and the directory after it
 * (else the rename itself may not survive one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

size_t rm_utf8_char(const char *s, size_t n, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned c = u[0], len, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, or past U+10FFFF */
	}
	if (n < len)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int rm_utf8_valid(const char *s, size_t n)
{
	unsigned cp;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = rm_utf8_char(s + i, n - i, &cp)))
			return 0;
	return 1;
}

size_t rm_utf8_cut(const char *s, size_t n)
{
	/* Walk back over at most three continuation bytes to the character
	 * that straddles n, and keep it only if it ends at n. */
	size_t i = n, back = 0;
	while (i > 0 && back < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--, back++;
	if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
		return n; /* ASCII or stray continuation bytes: single-byte units */
	unsigned cp;
	size_t k = rm_utf8_char(s + i - 1, back + 1, &cp);
	if (k == back + 1)
		return n; /* the last character is whole */
	return i - 1;
}

static int is_control(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* The bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069): they reorder what a terminal or page shows after them
 * ("Trojan Source"), so a line could read other than its bytes are. */
static int is_bidi_control(unsigned cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Room for the longest unit text_unit writes ("\u202e"), with a NUL. */
#define TEXT_UNIT_MAX 7

/*
 * The one walk every escape makes: the character at *s (advanced past it)
 * as it is written in display text into out, its length returned.
 */
static size_t text_unit(const char **s, char out[TEXT_UNIT_MAX])
{
	unsigned cp;
	size_t k = rm_utf8_char(*s, strnlen(*s, 4), &cp);
	if (k == 0) { /* an invalid byte */
		snprintf(out, TEXT_UNIT_MAX, "\\x%02x", (unsigned char)**s);
		*s += 1;
		return 4;
	}
	*s += k;
	if (is_control(cp))
		return (size_t)snprintf(out, TEXT_UNIT_MAX, "\\x%02x", cp);
	if (is_bidi_control(cp))
		return (size_t)snprintf(out, TEXT_UNIT_MAX, "\\u%04x", cp);
	memcpy(out, *s - k, k);
	return k;
}

void rm_put_text(FILE *o, const char *s)
{
	char u[TEXT_UNIT_MAX];
	while (*s) {
		size_t k = text_unit(&s, u);
		fwrite(u, 1, k, o);
	}
}

void rm_say_file(const char *who, const char *path, const char *fmt, ...)
{
	fprintf(stderr, "%s: ", who);
	rm_put_text(stderr, path);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

size_t rm_text_escape(char *out, size_t n, const char *s)
{
	size_t len = 0;
	char u[TEXT_UNIT_MAX];
	while (*s) {
		size_t k = text_unit(&s, u);
		if (len + k < n)
			memcpy(out + len, u, k);
		else if (len < n)
			n = len + 1; /* stop at the last whole unit */
		len += k;
	}
	if (n)
		out[len < n ? len : n - 1] = '\0';
	return len;
}

void rm_put_json_string(FILE *o, const char *s)
{
	fputc('"', o);
	while (*s) {
		unsigned cp;
		size_t k = rm_utf8_char(s, strnlen(s, 4), &cp);
		if (k == 0) {
			fputs("\\ufffd", o);
			s++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(o, "\\%c", (char)cp);
		else if (is_control(cp) || is_bidi_control(cp))
			fprintf(o, "\\u%04x", cp);
		else
			fwrite(s, 1, k, o);
		s += k;
	}
	fputc('"', o);
}

void rm_put_csv_field(FILE *o, const char *s)
{
	/* The escape adds no comma or quote, so s decides the quoting; and a
	 * control character comes out as "\x..", so only these lead a
	 * formula. */
	int quote = strpbrk(s, ",\"") != NULL;
	int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
	char u[TEXT_UNIT_MAX];
	if (quote)
		fputc('"', o);
	if (formula)
		fputc('\'', o);
	while (*s) {
		size_t k = text_unit(&s, u);
		if (k == 1 && u[0] == '"')
			fputc('"', o);
		fwrite(u, 1, k, o);
	}
	if (quote)
		fputc('"', o);
}

void rm_si_format(char *out, size_t n, double v, const char *sep)
{
	static const char *const unit[] = {"", "k", "M", "G", "T", "P"};
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	/* Rounding may carry into a fourth digit (999999 would read
	 * "1000.0k"): that is 1.0 of the next prefix.  Asked of the digits
	 * printf writes, so that the test rounds exactly as they do. */
	char digits[64];
	snprintf(digits, sizeof(digits), u ? "%.1f" : "%.0f", v);
	if (u < 5 && strtod(digits, NULL) >= 1000) {
		v /= 1000;
		u++;
	}
	snprintf(out, n, u ? "%.1f%s%s" : "%.0f%s%s", v, sep, unit[u]);
}

void rm_rfc3339(char out[RM_RFC3339_LEN], double t, int millis)
{
	time_t sec = (time_t)t;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, RM_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	if (millis)
		snprintf(out + n, RM_RFC3339_LEN - n, ".%03dZ", (int)((t - (double)sec) * 1000));
	else
		snprintf(out + n, RM_RFC3339_LEN - n, "Z");
}

FILE *rm_open_output(const char *path)
{
	return strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
}

/* The last byte of the regular file fd of size n, or '\n' when empty; -1. */
static int last_byte(int fd, off_t n)
{
	char c = '\n';
	if (n > 0 && pread(fd, &c, 1, n - 1) != 1)
		return -1;
	return (unsigned char)c;
}

FILE *rm_open_append(const char *path, int *fresh)
{
	*fresh = 1;
	if (strcmp(path, "-") == 0)
		return stdout;
	/* Read and write: the last byte is looked at before appending. */
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	struct stat st;
	int last = '\n';
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) { /* a FIFO or device: as is */
		last = last_byte(fd, st.st_size);
		*fresh = st.st_size == 0;
	}
	if (last < 0 || (last != '\n' && write(fd, "\n", 1) != 1)) {
		int e = errno ? errno : EIO;
		close(fd);
		errno = e;
		return NULL;
	}
	FILE *f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

int rm_close_output(FILE *f)
{
	int bad = ferror(f);
	if (f == stdout ? fflush(f) : fclose(f))
		bad = 1;
	return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Atomic replacement                                                  */

int rm_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0'; /* "/x" keeps its "/" */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int rm_atomic_open(struct rm_atomic_file *a, const char *path, unsigned mode, char *err,
		   size_t errlen)
{
	a->f = NULL;
	a->fd = -1;
	a->tmp[0] = '\0';
	if ((size_t)snprintf(a->path, sizeof(a->path), "%s", path) >= sizeof(a->path) ||
	    (size_t)snprintf(a->tmp, sizeof(a->tmp), "%s.tmp.XXXXXX", path) >= sizeof(a->tmp)) {
		a->tmp[0] = '\0';
		errno = ENAMETOOLONG;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	a->fd = mkostemp(a->tmp, O_CLOEXEC); /* O_CREAT | O_EXCL: no link followed */
	if (a->fd < 0) {
		int e = errno;
		a->tmp[0] = '\0';
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fchmod(a->fd, mode ? (mode_t)mode : 0644) || !(a->f = fdopen(a->fd, "w"))) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", a->tmp, strerror(e));
		rm_atomic_abort(a);
		errno = e;
		return -1;
	}
	return 0;
}

int rm_atomic_commit(struct rm_atomic_file *a, char *err, size_t errlen)
{
	int bad = fflush(a->f) || ferror(a->f) || fsync(a->fd);
	int e = errno;
	if (bad) {
		snprintf(err, errlen, "%s: write failed: %s", a->tmp, strerror(e));
		rm_atomic_abort(a);
		errno = e;
		return -1;
	}
	FILE *f = a->f;
	a->f = NULL;
	a->fd = -1;
	if (fclose(f) || rename(a->tmp, a->path)) {
		e = errno;
		snprintf(err, errlen, "%s: cannot rename into place: %s", a->path, strerror(e));
		rm_atomic_abort(a);
		errno = e;
		return -1;
	}
	a->tmp[0] = '\0';
	if (rm_sync_dir(a->path)) {
		e = errno;
		snprintf(err, errlen, "%s: renamed, but its directory cannot be synced: %s",
			 a->path, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

void rm_atomic_abort(struct rm_atomic_file *a)
{
	if (a->f)
		fclose(a->f);
	else if (a->fd >= 0)
		close(a->fd);
	if (a->tmp[0])
		unlink(a->tmp);
	a->f = NULL;
	a->fd = -1;
	a->tmp[0] = '\0';
}

int rm_open_regular(const char *path, unsigned long long *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*size = (unsigned long long)st.st_size;
	return fd;
}
