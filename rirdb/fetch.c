/*
 * fetch.c - `rirdb fetch`: download the registries' latest files and
 * build a new snapshot, replacing the old one only when everything checks.
 *
 *   rirdb fetch [--dir DIR] [--output FILE] [--base-url URL] [--url NAME=URL]...
 *               [--with FILE]... [--timeout S] [--retries N] [--retry-delay S]
 *               [--max-size BYTES] [--max-time S] [--ca-file FILE] [--names]
 *               [--lenient] [--quiet]
 *
 * Sources: the five registries' extended statistics files ("-latest") with
 * their .md5 files, and IANA's IPv4 and IPv6 allocation tables; with
 * --names also the holder-name sources: the RPSL dumps of RIPE and APNIC
 * (inetnum, inet6num, aut-num, organisation), AFRINIC and LACNIC (one dump
 * each), RIPE's asn.txt and NIC.br's nicbr-asn-blk file.  Each is
 * downloaded with libcurl to DIR/NAME.part, resuming a partial download
 * when a retry follows a broken transfer, with a connect timeout, a stall
 * timeout (under 1 byte/s for S seconds), and retries with doubling
 * back-off; a registry file must match its published MD5.
 *
 * The servers are not trusted to be sane, so every transfer has limits (a
 * server that redirected to itself once drew 4,572 requests in 8 s):
 *   - schemes: https only, plus the scheme of the URL itself when the
 *     operator named another one in --base-url or --url (http:// for a
 *     local mirror, file://); a redirect may go to those schemes only, so
 *     an https source is never downgraded to http (--ca-file trusts a
 *     mirror's own certificate authority, so that https is possible for
 *     it: no option turns certificate checks off);
 *   - at most MAX_REDIRS redirects;
 *   - at most --max-size bytes per file (default 512 MiB, far above any
 *     registry's file): refused up front from Content-Length and counted
 *     in the write callback, since a server need not send one;
 *   - --max-time for the whole run (default an hour): every transfer gets
 *     what is left of it as its timeout, and no retry starts after it.
 * Redirect loops, refused schemes, oversized files and the deadline are
 * not retried: a second attempt would meet them again.  Bodies stream to
 * DIR/NAME.part through the write callback, and the loaders parse the
 * files mapped, not copied into memory.
 *
 * The name sources are optional, each on its own: one that fails is named,
 * the others are still fetched, its previous copy stays, and the exit
 * status is 1 once the rest is done.  They are kept as published (gzip
 * for the dumps), and the snapshot is built with them (the copy just
 * fetched, else the previous one); if they do not build, it is built
 * without them and the exit status is 1.  A dump is checked against the NAME.md5 beside it where
 * the registry publishes one; a 404 for that file means none is published,
 * and the dump is taken unchecked with a notice (asn.txt and NIC.br's file
 * have none, and no .md5 is asked for).
 *
 * Any statistics or IANA source that fails is reported by name and
 * nothing is replaced.  Otherwise the snapshot is built from the new files (plus --with inputs:
 * the special-purpose registries, holder names, labels) into FILE.new,
 * mapped and validated, and renamed over FILE; then the data files rotate
 * (NAME -> NAME.prev, NAME.part -> NAME), so the previous good copies
 * stay, and both directories are synced.  Downloads are made with O_EXCL
 * and O_NOFOLLOW after removing whatever had their name, so a symlink
 * planted at a .part name is never written through; FILE.new is written by
 * rm_snapshot_write() (output.h: an unguessable temporary renamed over it).
 * A running rirmeter keeps using the file it mapped until it reloads.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loaders.h"
#include "md5.h"
#include "options.h"
#include "output.h"
#include "rirdb.h"
#include "snapshot.h"

/* Checksums: none published, a .md5 beside the file always, or maybe. */
enum checksum { CK_NONE, CK_MD5, CK_MD5_IF_PUBLISHED };

struct source {
	const char *name, *file, *url;
	enum checksum ck;
	int names; /* a holder-name source: only with --names, and optional */
};

static const struct source defaults[] = {
    {"afrinic", "delegated-afrinic-extended-latest",
     "https://ftp.afrinic.net/pub/stats/afrinic/delegated-afrinic-extended-latest", CK_MD5},
    {"apnic", "delegated-apnic-extended-latest",
     "https://ftp.apnic.net/stats/apnic/delegated-apnic-extended-latest", CK_MD5},
    {"arin", "delegated-arin-extended-latest",
     "https://ftp.arin.net/pub/stats/arin/delegated-arin-extended-latest", CK_MD5},
    {"lacnic", "delegated-lacnic-extended-latest",
     "https://ftp.lacnic.net/pub/stats/lacnic/delegated-lacnic-extended-latest", CK_MD5},
    {"ripencc", "delegated-ripencc-extended-latest",
     "https://ftp.ripe.net/pub/stats/ripencc/delegated-ripencc-extended-latest", CK_MD5},
    {"iana-ipv4", "ipv4-address-space.csv",
     "https://www.iana.org/assignments/ipv4-address-space/ipv4-address-space.csv", CK_NONE},
    {"iana-ipv6", "ipv6-unicast-address-assignments.csv",
     "https://www.iana.org/assignments/ipv6-unicast-address-assignments/"
     "ipv6-unicast-address-assignments.csv",
     CK_NONE},
#define RIPE_SPLIT  "https://ftp.ripe.net/ripe/dbase/split/"
#define APNIC_WHOIS "https://ftp.apnic.net/apnic/whois/"
    {"ripe-inetnum", "ripe.db.inetnum.gz", RIPE_SPLIT "ripe.db.inetnum.gz", CK_MD5_IF_PUBLISHED, 1},
    {"ripe-inet6num", "ripe.db.inet6num.gz", RIPE_SPLIT "ripe.db.inet6num.gz", CK_MD5_IF_PUBLISHED,
     1},
    {"ripe-aut-num", "ripe.db.aut-num.gz", RIPE_SPLIT "ripe.db.aut-num.gz", CK_MD5_IF_PUBLISHED, 1},
    {"ripe-organisation", "ripe.db.organisation.gz", RIPE_SPLIT "ripe.db.organisation.gz",
     CK_MD5_IF_PUBLISHED, 1},
    {"apnic-inetnum", "apnic.db.inetnum.gz", APNIC_WHOIS "apnic.db.inetnum.gz", CK_MD5_IF_PUBLISHED,
     1},
    {"apnic-inet6num", "apnic.db.inet6num.gz", APNIC_WHOIS "apnic.db.inet6num.gz",
     CK_MD5_IF_PUBLISHED, 1},
    {"apnic-aut-num", "apnic.db.aut-num.gz", APNIC_WHOIS "apnic.db.aut-num.gz", CK_MD5_IF_PUBLISHED,
     1},
    {"apnic-organisation", "apnic.db.organisation.gz", APNIC_WHOIS "apnic.db.organisation.gz",
     CK_MD5_IF_PUBLISHED, 1},
    {"afrinic-db", "afrinic.db.gz", "https://ftp.afrinic.net/pub/dbase/afrinic.db.gz",
     CK_MD5_IF_PUBLISHED, 1},
    {"lacnic-db", "lacnic.db.gz", "https://ftp.lacnic.net/lacnic/dbase/lacnic.db.gz",
     CK_MD5_IF_PUBLISHED, 1},
    {"asnames", "asn.txt", "https://ftp.ripe.net/ripe/asnames/asn.txt", CK_NONE, 1},
    {"nicbr", "nicbr-asn-blk-latest.txt",
     "https://ftp.registro.br/pub/numeracao/origin/nicbr-asn-blk-latest.txt", CK_NONE, 1},
};
#define N_SOURCES (sizeof(defaults) / sizeof(defaults[0]))
#define MAX_WITH  64
#define PROG	  "rirdb fetch"
/* Bounds of the numeric options: beyond them a value is a typo, not a
 * wish (the back-off is capped at 60 s after the first retry anyway). */
#define MAX_TIMEOUT_S	  86400
#define MAX_RETRIES	  100
#define MAX_RETRY_DELAY_S 3600
#define MAX_REDIRS	  5
#define DEFAULT_MAX_SIZE  (512ull << 20)
#define MAX_MAX_SIZE	  (1ull << 40)
#define DEFAULT_MAX_TIME  3600

struct fetch_opts {
	const char *dir, *output, *base, *ca_file;
	const char *url[N_SOURCES];
	const char *with[MAX_WITH];
	unsigned n_with;
	long timeout;
	unsigned retries;
	double retry_delay;
	uint64_t max_size; /* bytes per file */
	long max_time;	   /* seconds for the whole run */
	double deadline;   /* wall() at which the run gives up */
	int lenient, quiet, names;
};

/* ------------------------------------------------------------------ */
/* Downloads                                                           */

struct progress {
	const char *name;
	double t0;
};

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* On a terminal: the bytes so far and the rate, on one line. */
static int show_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct progress *p = arg;
	(void)ut;
	(void)un;
	double s = wall() - p->t0;
	if (total > 0)
		fprintf(stderr, "\r\033[K%s: %.1f of %.1f MB, %.1f MB/s", p->name, now / 1e6,
			total / 1e6, s > 0 ? now / 1e6 / s : 0.0);
	else
		fprintf(stderr, "\r\033[K%s: %.1f MB, %.1f MB/s", p->name, now / 1e6,
			s > 0 ? now / 1e6 / s : 0.0);
	return 0;
}

/* Where a transfer's body goes: the .part file, up to max bytes in all. */
struct sink {
	FILE *f;
	curl_off_t have, max;
	int too_big;
};

/* CURLOPT_WRITEFUNCTION: append to the file; a short count (curl's write
 * error) once the file would pass max, or the disk refuses. */
static size_t sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t len = size * n;
	if ((curl_off_t)len > k->max - k->have) {
		k->too_big = 1;
		return 0;
	}
	size_t w = fwrite(p, 1, len, k->f);
	k->have += (curl_off_t)w;
	return w;
}

/*
 * The schemes a transfer of url may use and be redirected to, as
 * CURLOPT_PROTOCOLS_STR wants them: "https", and url's own scheme when it
 * names another (lower-cased).  A URL without "://" is https
 * (CURLOPT_DEFAULT_PROTOCOL).
 */
static void schemes_of(const char *url, char *out, size_t len)
{
	const char *sep = strstr(url, "://");
	size_t n = sep ? (size_t)(sep - url) : 0;
	char scheme[16];
	if (n == 0 || n >= sizeof(scheme) ||
	    strspn(url, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") < n) {
		snprintf(out, len, "https");
		return;
	}
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]);
	scheme[n] = '\0';
	if (strcmp(scheme, "https") == 0)
		snprintf(out, len, "https");
	else
		snprintf(out, len, "https,%s", scheme);
}

/*
 * GET url, appending to out (which holds resume bytes already), within
 * o's limits.  0; -1 with err for a failure worth a retry; -2 when the
 * server will not resume (start over); -3 for one a retry would meet again
 * (a limit, a refused scheme, a redirect loop).
 */
static int http_get(CURL *c, const char *url, FILE *out, curl_off_t resume,
		    const struct fetch_opts *o, char *err, size_t errlen)
{
	struct progress prog = {url, wall()};
	struct sink sink = {out, resume, (curl_off_t)o->max_size, 0};
	char schemes[64], cerr[CURL_ERROR_SIZE] = "";
	const char *slash = strrchr(url, '/');
	if (slash && slash[1])
		prog.name = slash + 1;
	double left = o->deadline - wall();
	if (left < 0.001) {
		snprintf(err, errlen, "--max-time of %ld s reached", o->max_time);
		return -3;
	}
	if (resume >= sink.max) {
		snprintf(err, errlen, "larger than --max-size (%llu bytes)",
			 (unsigned long long)o->max_size);
		return -3;
	}
	schemes_of(url, schemes, sizeof(schemes));
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_DEFAULT_PROTOCOL, "https");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, schemes);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, schemes);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	/* What is left to the limit; curl refuses a larger Content-Length up
	 * front (and, before 8.4, checks nothing else: sink_write does). */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, sink.max - resume);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout);
	/* A stall, not a slow link, is what fails: under 1 byte/s for S seconds. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rirdb-fetch (rirmeter)");
	curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, resume);
	if (!o->quiet && isatty(STDERR_FILENO)) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, show_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &prog);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	CURLcode rc = curl_easy_perform(c);
	if (!o->quiet && isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (rc == CURLE_OK)
		return 0;
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "larger than --max-size (%llu bytes)",
			 (unsigned long long)o->max_size);
		return -3;
	}
	if (rc == CURLE_TOO_MANY_REDIRECTS) {
		snprintf(err, errlen, "more than %d redirects", MAX_REDIRS);
		return -3;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		snprintf(err, errlen,
			 "scheme refused (allowed: %s; name another in --url or "
			 "--base-url): %s",
			 schemes, cerr[0] ? cerr : curl_easy_strerror(rc));
		return -3;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && wall() >= o->deadline - 0.01) {
		snprintf(err, errlen, "--max-time of %ld s reached", o->max_time);
		return -3;
	}
	if (code >= 400)
		snprintf(err, errlen, "HTTP %ld", code);
	else
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	return rc == CURLE_RANGE_ERROR || code == 416 ? -2 : -1;
}

static void pause_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/*
 * path created for this download: whatever was there (a part of an earlier
 * run, or a symlink someone planted) is removed, and the file is made with
 * O_EXCL | O_NOFOLLOW, so nothing outside is ever written through a link
 * and a race with another creator fails instead of sharing the file.  The
 * descriptor, or -1 with errno.
 */
static int create_part(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
}

/*
 * url -> path, resuming what an earlier attempt of this call left; retries
 * with doubling back-off.  A server that will not resume gets the whole
 * file again.  Every attempt writes through the one descriptor the file
 * was created with (never by name again), and the file is synced before
 * 0 is returned, so the rename that later puts it in place cannot leave an
 * empty file after a crash.
 */
static int download(CURL *c, const char *url, const char *path, const struct fetch_opts *o,
		    char *err, size_t errlen)
{
	double delay = o->retry_delay;
	int fd = create_part(path);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (unsigned attempt = 0;; attempt++) {
		off_t end = lseek(fd, 0, SEEK_END);
		int dfd = end < 0 ? -1 : dup(fd);
		FILE *f = dfd < 0 ? NULL : fdopen(dfd, "ab");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (dfd >= 0)
				close(dfd);
			close(fd);
			return -1;
		}
		int rc = http_get(c, url, f, (curl_off_t)end, o, err, errlen);
		if (fclose(f) && rc == 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
			attempt = o->retries; /* a local write error: no retry helps */
		} else if (rc == 0 && fsync(fd)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (rc == 0)
			return close(fd);
		/* A 4xx is final, but for 416 to a resumed request (-2: the file
		 * changed, or was whole already), which starts over. */
		int final = rc == -3 || (rc == -1 && strncmp(err, "HTTP 4", 6) == 0);
		if (rc == -2 || final)
			(void)!ftruncate(fd, 0); /* start over, or give up for good */
		if (final || attempt >= o->retries) {
			close(fd);
			return -1;
		}
		if (wall() + delay >= o->deadline) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, "; no time left to retry (--max-time %ld s)",
				 o->max_time);
			close(fd);
			return -1;
		}
		pause_s(delay);
		delay = delay * 2 > 60 ? 60 : delay * 2;
	}
}

/* The first 32 hex digits in a .md5 file, whatever its layout. */
static int parse_md5(const char *path, uint8_t out[16])
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i + 32 <= n; i++) {
		size_t k = 0;
		while (k < 32 && strchr("0123456789abcdefABCDEF", buf[i + k]) && buf[i + k])
			k++;
		if (k == 32 && !strchr("0123456789abcdefABCDEF", buf[i + 32] ? buf[i + 32] : 'x') &&
		    (i == 0 || !strchr("0123456789abcdefABCDEF", buf[i - 1]))) {
			for (int b = 0; b < 16; b++)
				sscanf(buf + i + 2 * b, "%2hhx", &out[b]);
			return 0;
		}
	}
	return -1;
}

static int md5_file(const char *path, uint8_t out[16])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct rm_md5 s;
	unsigned char buf[1 << 16];
	size_t n;
	rm_md5_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rm_md5_update(&s, buf, n);
	int bad = ferror(f);
	fclose(f);
	rm_md5_final(&s, out);
	return bad ? -1 : 0;
}

static const char *source_url(const struct fetch_opts *o, size_t i, char *buf, size_t len)
{
	if (o->url[i])
		return o->url[i];
	if (!o->base)
		return defaults[i].url;
	size_t b = strlen(o->base);
	snprintf(buf, len, "%s%s%s", o->base, b && o->base[b - 1] == '/' ? "" : "/",
		 defaults[i].file);
	return buf;
}

static void path_of(char *out, size_t len, const char *dir, const char *file, const char *ext)
{
	snprintf(out, len, "%s/%s%s", dir, file, ext);
}

/*
 * Fetch one source into DIR/FILE.part and check it; 0 or -1 with err.
 * *unchecked is set when the source may have a checksum beside it and the
 * server has none (HTTP 404 for FILE.md5).
 */
static int fetch_one(CURL *c, const struct fetch_opts *o, size_t i, int *unchecked, char *err,
		     size_t errlen)
{
	char url[4096], md5url[4200], part[4096], md5part[4096];
	const char *u = source_url(o, i, url, sizeof(url));
	path_of(part, sizeof(part), o->dir, defaults[i].file, ".part");
	/* Resume across the retries of this run only (download() makes the
	 * file anew): a part left by an earlier run may be of an older file
	 * (IANA's tables have no checksum). */
	if (download(c, u, part, o, err, errlen))
		return -1;
	*unchecked = 0;
	if (defaults[i].ck == CK_NONE)
		return 0;
	snprintf(md5url, sizeof(md5url), "%s.md5", u);
	path_of(md5part, sizeof(md5part), o->dir, defaults[i].file, ".md5.part");
	uint8_t want[16], got[16];
	if (download(c, md5url, md5part, o, err, errlen)) {
		if (defaults[i].ck == CK_MD5_IF_PUBLISHED && strcmp(err, "HTTP 404") == 0) {
			unlink(md5part); /* none published: nothing to rotate */
			*unchecked = 1;
			return 0;
		}
		size_t n = strlen(err);
		static const char pre[] = "checksum file: ";
		if (n + sizeof(pre) <= errlen) { /* prefix the reason in place */
			memmove(err + sizeof(pre) - 1, err, n + 1);
			memcpy(err, pre, sizeof(pre) - 1);
		}
		return -1;
	}
	if (parse_md5(md5part, want)) {
		snprintf(err, errlen, "checksum file holds no MD5");
		return -1;
	}
	if (md5_file(part, got) || memcmp(want, got, 16) != 0) {
		unlink(part); /* never resume from a file that does not match */
		snprintf(err, errlen,
			 "MD5 mismatch: the download is not what the registry published");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Build and swap                                                      */

/*
 * path mapped read-only (its length in *len), for the loaders to parse in
 * place: a file of up to --max-size need not be copied into memory.  An
 * empty file is "" of length 0.  NULL when it cannot be opened or mapped.
 */
static const char *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : (void *)"";
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void unmap_file(const char *p, size_t len)
{
	if (len)
		munmap((void *)p, len);
}

/*
 * The snapshot from the new files into tmp; with_names: also the name
 * sources, each the copy just fetched (fetched[i]) or else the previous
 * one, when there is one.
 */
static int build_new(const struct fetch_opts *o, const char *tmp, int with_names,
		     const int fetched[N_SOURCES])
{
	struct rl_options ro = {.lenient = o->lenient != 0};
	struct rl_build *b = rl_build_new(&ro);
	for (size_t i = 0; i < N_SOURCES; i++) {
		if (defaults[i].names) {
			char path[4096], name[4096];
			path_of(name, sizeof(name), o->dir, defaults[i].file, "");
			path_of(path, sizeof(path), o->dir, defaults[i].file,
				fetched[i] ? ".part" : "");
			/* Streamed from the file (a dump is GBs), named as it
			 * will be once rotated into place. */
			if (with_names && access(path, R_OK) == 0)
				rl_build_add_file_as(b, path, name);
			continue;
		}
		char part[4096], name[4096];
		size_t len;
		path_of(part, sizeof(part), o->dir, defaults[i].file, ".part");
		path_of(name, sizeof(name), o->dir, defaults[i].file, "");
		const char *data = map_file(part, &len);
		if (!data) {
			fprintf(stderr, "rirdb fetch: %s: cannot read\n", part);
			rl_build_free(b);
			return -1;
		}
		/* Named as it will be once rotated into place: that is the provenance. */
		rl_build_add_buffer(b, name, data, len);
		unmap_file(data, len);
	}
	for (unsigned k = 0; k < o->n_with; k++)
		rl_build_add_file(b, o->with[k]);
	struct rm_model *m = rl_build_finish(b);
	rl_build_free(b);
	if (!m) {
		fprintf(stderr, "rirdb fetch: the new files do not build%s\n",
			with_names ? "" : "; nothing replaced");
		return -1;
	}
	struct rm_db db;
	char err[512];
	rm_model_view(m, &db);
	int rc = rm_snapshot_write(&db, tmp, err, sizeof(err));
	rm_model_free(m);
	if (rc) {
		fprintf(stderr, "rirdb fetch: %s\n", err);
		return -1;
	}
	struct rm_snapshot *s = rm_snapshot_open(tmp, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "rirdb fetch: the new snapshot does not validate: %s\n", err);
		unlink(tmp);
		return -1;
	}
	rm_snapshot_close(s);
	return 0;
}

/* NAME -> NAME.prev, NAME.part -> NAME, for every source fetched. */
static void rotate(const struct fetch_opts *o, const int fetched[N_SOURCES])
{
	for (size_t i = 0; i < N_SOURCES; i++) {
		if (!fetched[i])
			continue;
		char cur[4096], prev[4200], part[4096];
		path_of(cur, sizeof(cur), o->dir, defaults[i].file, "");
		path_of(prev, sizeof(prev), o->dir, defaults[i].file, ".prev");
		path_of(part, sizeof(part), o->dir, defaults[i].file, ".part");
		rename(cur, prev);
		rename(part, cur);
		if (defaults[i].ck != CK_NONE) {
			char m5[4200], m5part[4200];
			path_of(m5, sizeof(m5), o->dir, defaults[i].file, ".md5");
			path_of(m5part, sizeof(m5part), o->dir, defaults[i].file, ".md5.part");
			/* No checksum this time (none published): none kept beside
			 * the new file either, since the old one would not match. */
			if (rename(m5part, m5) && errno == ENOENT)
				unlink(m5);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Command                                                             */

static int parse_fetch_opts(int argc, char **argv, struct fetch_opts *o)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'D'},
	    {"output", required_argument, NULL, 'o'},
	    {"base-url", required_argument, NULL, 'b'},
	    {"url", required_argument, NULL, 'u'},
	    {"with", required_argument, NULL, 'w'},
	    {"timeout", required_argument, NULL, 't'},
	    {"retries", required_argument, NULL, 'r'},
	    {"retry-delay", required_argument, NULL, 'R'},
	    {"max-size", required_argument, NULL, 'S'},
	    {"max-time", required_argument, NULL, 'T'},
	    {"ca-file", required_argument, NULL, 'C'},
	    {"lenient", no_argument, NULL, 'l'},
	    {"names", no_argument, NULL, 'n'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct fetch_opts){.dir = "/var/lib/rirmeter",
				 .timeout = 30,
				 .retries = 3,
				 .retry_delay = 2,
				 .max_size = DEFAULT_MAX_SIZE,
				 .max_time = DEFAULT_MAX_TIME};
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "D:o:b:u:w:t:r:R:S:T:C:lnqh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o->dir = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'b':
			o->base = optarg;
			break;
		case 'u': {
			const char *eq = strchr(optarg, '=');
			size_t i = 0;
			for (; eq && i < N_SOURCES; i++)
				if (strlen(defaults[i].name) == (size_t)(eq - optarg) &&
				    strncmp(defaults[i].name, optarg, (size_t)(eq - optarg)) == 0)
					break;
			if (!eq || i == N_SOURCES) {
				fprintf(stderr,
					"rirdb fetch: --url wants NAME=URL with NAME one of");
				for (size_t k = 0; k < N_SOURCES; k++)
					fprintf(stderr, "%s %s", k ? "," : "", defaults[k].name);
				fputc('\n', stderr);
				return -1;
			}
			o->url[i] = eq + 1;
			break;
		}
		case 'w':
			if (o->n_with == MAX_WITH) {
				fprintf(stderr, "rirdb fetch: at most %d --with files\n", MAX_WITH);
				return -1;
			}
			o->with[o->n_with++] = optarg;
			break;
		case 't':
			/* Whole seconds: curl's stall timeout has no finer unit. */
			if (rm_opt_u64(PROG, "--timeout", optarg, 1, MAX_TIMEOUT_S, &v))
				return -1;
			o->timeout = (long)v;
			break;
		case 'r':
			if (rm_opt_uint(PROG, "--retries", optarg, 0, MAX_RETRIES, &o->retries))
				return -1;
			break;
		case 'R':
			if (rm_opt_decimal(PROG, "--retry-delay", optarg, 0, MAX_RETRY_DELAY_S,
					   &o->retry_delay))
				return -1;
			break;
		case 'S':
			if (rm_opt_u64(PROG, "--max-size", optarg, 1, MAX_MAX_SIZE, &o->max_size))
				return -1;
			break;
		case 'T':
			if (rm_opt_u64(PROG, "--max-time", optarg, 1, MAX_TIMEOUT_S, &v))
				return -1;
			o->max_time = (long)v;
			break;
		case 'C':
			o->ca_file = optarg;
			break;
		case 'l':
			o->lenient = 1;
			break;
		case 'n':
			o->names = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			printf("usage: rirdb fetch [--dir DIR] [--output FILE] [--base-url URL] "
			       "[--url NAME=URL]... [--with FILE]...\n"
			       "                   [--timeout S] [--retries N] [--retry-delay S] "
			       "[--max-size BYTES] [--max-time S]\n"
			       "                   [--ca-file FILE] [--names] [--lenient] "
			       "[--quiet]\n");
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rirdb fetch: bad arguments (see rirdb fetch --help)\n");
		return -1;
	}
	return 0;
}

/* A source's downloads of this run removed: its previous copy stays. */
static void drop_parts(const struct fetch_opts *o, size_t i)
{
	char part[4200];
	path_of(part, sizeof(part), o->dir, defaults[i].file, ".part");
	unlink(part);
	path_of(part, sizeof(part), o->dir, defaults[i].file, ".md5.part");
	unlink(part);
}

int rirdb_fetch(int argc, char **argv)
{
	struct fetch_opts o;
	if (parse_fetch_opts(argc, argv, &o))
		return 2;
	o.deadline = wall() + (double)o.max_time;
	char output[4096], tmp[4200];
	if (o.output)
		snprintf(output, sizeof(output), "%s", o.output);
	else
		snprintf(output, sizeof(output), "%s/rirmeter.snap", o.dir);
	snprintf(tmp, sizeof(tmp), "%s.new", output);
	if (mkdir(o.dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "rirdb fetch: %s: %s\n", o.dir, strerror(errno));
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "rirdb fetch: libcurl failed to start\n");
		return 1;
	}
	CURL *c = curl_easy_init();
	unsigned failed = 0, names_failed = 0;
	int fetched[N_SOURCES] = {0};
	for (size_t i = 0; c && i < N_SOURCES; i++) {
		char err[512];
		int unchecked = 0;
		if (defaults[i].names && !o.names)
			continue;
		if (fetch_one(c, &o, i, &unchecked, err, sizeof(err))) {
			fprintf(stderr, "rirdb fetch: %s: %s\n", defaults[i].name, err);
			if (!defaults[i].names) {
				failed++;
				continue;
			}
			/* Optional: the previous copy stays, the rest goes on. */
			names_failed++;
			drop_parts(&o, i);
			continue;
		}
		fetched[i] = 1;
		if (!o.quiet)
			fprintf(stderr, "rirdb fetch: %s: ok%s%s%s\n", defaults[i].name,
				unchecked ? ", unchecked (no " : "",
				unchecked ? defaults[i].file : "",
				unchecked ? ".md5 published)" : "");
	}
	if (c)
		curl_easy_cleanup(c);
	curl_global_cleanup();
	if (!c || failed) {
		fprintf(stderr, "rirdb fetch: %u source%s failed; %s left as it was\n", failed,
			failed == 1 ? "" : "s", output);
		return 1;
	}
	/* Names are optional: when they do not build (a malformed dump, in
	 * strict mode), the snapshot is built without them and that counts as
	 * a failed name source. */
	if (build_new(&o, tmp, o.names, fetched)) {
		if (!o.names || build_new(&o, tmp, 0, fetched))
			return 1;
		fprintf(stderr, "rirdb fetch: the name sources do not build (see above); the "
				"snapshot is built without them\n");
		names_failed++;
		/* Which one failed is not known: none replaces its previous copy. */
		for (size_t i = 0; i < N_SOURCES; i++)
			if (defaults[i].names && fetched[i]) {
				fetched[i] = 0;
				drop_parts(&o, i);
			}
	}
	if (rename(tmp, output)) {
		fprintf(stderr, "rirdb fetch: %s: %s\n", output, strerror(errno));
		unlink(tmp);
		return 1;
	}
	rotate(&o, fetched);
	/* Both renames durable: a crash must not bring the old snapshot back
	 * beside the new data files, nor lose the new one. */
	char data_file[4200];
	path_of(data_file, sizeof(data_file), o.dir, defaults[0].file, "");
	if (rm_sync_dir(output) || rm_sync_dir(data_file)) {
		fprintf(stderr, "rirdb fetch: %s: cannot sync its directory: %s\n", output,
			strerror(errno));
		return 1;
	}
	if (!o.quiet)
		fprintf(stderr, "rirdb fetch: %s updated\n", output);
	if (names_failed) {
		fprintf(stderr, "rirdb fetch: %u name source%s failed; %s previous cop%s kept\n",
			names_failed, names_failed == 1 ? "" : "s",
			names_failed == 1 ? "its" : "their",
			names_failed == 1 ? "y is" : "ies are");
		return 1;
	}
	return 0;
}
