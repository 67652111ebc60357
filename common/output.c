/*
 * output.c - text output helpers shared by every writer (output.h).
 *
 * The atomic writer syncs twice: the file before the rename (else a crash
 * can leave the new name on an empty file) and the directory after it
 * (else the rename itself may not survive one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

void rm_put_json_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

void rm_put_csv_field(FILE *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, o);
		return;
	}
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', o);
		fputc(*s, o);
	}
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

int rm_close_output(FILE *f)
{
	int bad = ferror(f);
	if (f == stdout ? fflush(f) : fclose(f))
		bad = 1;
	return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Atomic replacement                                                  */

/* fsync the directory that holds path. */
static int sync_dir(const char *path)
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
	if (sync_dir(a->path)) {
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
