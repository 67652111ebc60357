/*
 * stream.c - an input's bytes, plain or gzip, line by line in bounded
 * memory; and a whole gzip buffer inflated (inputs given in memory).
 *
 * Registries publish their whois dumps gzip'd and several GB large once
 * inflated (RIPE's inetnum file), so a dump is never held whole: lines are
 * cut out of a 1 MiB window that slides over the stream.  zlib's gz*
 * calls read a plain file through unchanged, so one path serves both and
 * the format is told by content, never by the file's name.
 *
 * A truncated gzip stream is an error of the stream (s->error), not a
 * short file: zlib reports it only once the input is used up, so the
 * caller sees every whole line first and then the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

enum { STREAM_WINDOW = 1 << 20 };

int rl_stream_open_file(struct rl_stream *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->name = path;
	gzFile gz = gzopen(path, "rb");
	if (!gz) {
		s->error = errno ? strerror(errno) : "cannot open";
		return -1;
	}
	gzbuffer(gz, 256 * 1024);
	s->gz = gz;
	s->cap = STREAM_WINDOW;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		gzclose(gz);
		s->gz = NULL;
		s->error = "out of memory";
		return -1;
	}
	/* A UTF-8 byte-order mark is not part of the first line, as in memory
	 * (rl_stream_open_mem) and for format detection (rl_lines_init). */
	int got = gzread(gz, s->buf, 3);
	if (got > 0)
		s->end = (size_t)got;
	if (got == 3 && memcmp(s->buf, "\xEF\xBB\xBF", 3) == 0)
		s->pos = 3;
	return 0;
}

void rl_stream_open_mem(struct rl_stream *s, const char *name, const char *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->mem = data;
	s->mem_len = len;
	s->eof = 1;
	/* A UTF-8 byte-order mark is not part of the first line. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		s->pos = 3;
}

/* More bytes into the window after its unread tail; 0 at the end. */
static int refill(struct rl_stream *s)
{
	if (s->eof)
		return 0;
	if (s->pos) {
		memmove(s->buf, s->buf + s->pos, s->end - s->pos);
		s->end -= s->pos;
		s->pos = 0;
	}
	if (s->end == s->cap && s->cap >= RL_STREAM_LINE_MAX) {
		/* The window is one line: dropped, and the rest of it skipped
		 * (cut_line); the lines after it are read as ever. */
		if (!s->skipping && s->long_lines++ == 0)
			s->long_line_at = s->lineno + 1;
		s->skipping = 1;
		s->end = 0;
	} else if (s->end == s->cap) {
		char *n = realloc(s->buf, s->cap * 2);
		if (!n) {
			s->error = "out of memory";
			return 0;
		}
		s->buf = n;
		s->cap *= 2;
	}
	size_t want = s->cap - s->end;
	if (want > INT32_MAX)
		want = INT32_MAX;
	int got = gzread(s->gz, s->buf + s->end, (unsigned)want);
	if (got <= 0) {
		s->error = rl_gz_why(s->gz, got);
		s->eof = 1;
		return 0;
	}
	s->end += (size_t)got;
	return 1;
}

const char *rl_gz_why(void *gz, int got)
{
	if (got > 0)
		return NULL;
	int errnum;
	const char *msg = gzerror(gz, &errnum);
	if (errnum == Z_OK)
		return NULL;
	if (errnum == Z_BUF_ERROR) /* zlib's word for input that ends mid-stream */
		return "truncated gzip stream";
	if (errnum == Z_ERRNO)
		return strerror(errno);
	return msg && *msg ? msg : "corrupt gzip stream";
}

static int cut_line(struct rl_stream *s, const char *base, size_t end, struct rl_span *line)
{
	if (s->skipping) { /* the rest of a line too long to keep */
		const char *nl = memchr(base + s->pos, '\n', end - s->pos);
		s->pos = nl ? (size_t)(nl + 1 - base) : end;
		if (!nl && !s->eof)
			return 0;
		s->skipping = 0;
		s->lineno++;
	}
	const char *p = base + s->pos;
	const char *nl = memchr(p, '\n', end - s->pos);
	if (!nl && !s->eof)
		return 0;
	if (!nl && s->pos == end)
		return -1; /* nothing left */
	const char *stop = nl ? nl : base + end;
	line->s = p;
	line->len = (size_t)(stop - p);
	if (line->len && line->s[line->len - 1] == '\r')
		line->len--;
	s->pos = nl ? (size_t)(nl + 1 - base) : end;
	s->lineno++;
	return 1;
}

int rl_stream_line(struct rl_stream *s, struct rl_span *line)
{
	if (s->mem)
		return cut_line(s, s->mem, s->mem_len, line) == 1;
	for (;;) {
		int r = cut_line(s, s->buf, s->end, line);
		if (r == 1)
			return 1;
		if (r < 0)
			return 0;
		/* No whole line in the window: more bytes, or at the end of
		 * the stream the loop cuts the last unterminated line. */
		if (!refill(s) && s->error)
			return 0;
	}
}

void rl_stream_close(struct rl_stream *s)
{
	if (s->gz)
		gzclose(s->gz);
	free(s->buf);
	s->gz = NULL;
	s->buf = NULL;
}

int rl_is_gzip(const char *data, size_t len)
{
	return len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b;
}

char *rl_gunzip(const char *data, size_t len, size_t *out_len, const char **why)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		*why = "out of memory";
		return NULL;
	}
	char *out = NULL;
	uint32_t n = 0, cap = 0;
	z.next_in = (Bytef *)(uintptr_t)data; /* zlib never writes its input */
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	int rc = Z_OK;
	while (rc != Z_STREAM_END) {
		if (n == cap && RM_GROW(&out, &cap, n, 1, 1 << 16)) {
			*why = "out of memory, or larger than 4 GiB inflated";
			break;
		}
		z.next_out = (Bytef *)out + n;
		z.avail_out = cap - n;
		rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			*why = "truncated gzip stream";
			break;
		}
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			*why = "corrupt gzip stream";
			break;
		}
	}
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}
