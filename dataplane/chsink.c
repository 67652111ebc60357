/*
 * chsink.c - the ClickHouse sink (chsink.h has the picture): batches
 * serialized by the main lcore, spooled and sent by one sender thread.
 *
 * Locking: one mutex guards the queue (incoming batches, pending batches)
 * and the counters; the sender drops it for every file write and HTTP
 * request, so the main lcore never waits on I/O, only on an append.
 * Order: a batch is sent only after every batch queued before it has been
 * acknowledged, so ClickHouse receives intervals in order and a retry
 * never overtakes.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chsink.h"
#include "grow.h"
#include "output.h"

#define TABLE	      "rirmeter_raw"
#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX   60.0
#define SPOOL_SUFFIX  ".json"

struct batch {
	struct batch *next;
	uint64_t seq;
	char id[160];
	char *body;
	size_t len;
	uint32_t rows;
	int maybe_stored; /* tried before, or left by an earlier run: check first */
	int spooled;	  /* its file is in the spool */
};

struct rm_chsink {
	struct rm_chsink_options o;
	char *insert_url;	  /* the URL with the INSERT query; a SELECT is POSTed to o.url */
	char *insert_url_unnamed; /* the same, for a table without `name` (table_columns) */
	int columns;	  /* the sender's: 1 name, 0 no name, -1 not asked since a failure */
	int told_unnamed; /* "no column name" said on stderr */
	char user[256], password[256];
	int have_auth;
	char run_id[128];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct batch *incoming, **incoming_tail; /* from the main lcore */
	struct batch *pending, **pending_tail;	 /* the sender's, oldest first */
	uint64_t next_seq;
	int started; /* the sender thread runs: close joins it */
	int stop;
	double linger_until;
	struct rm_chsink_stats st;
	int failing; /* the last attempt failed: report the next success */
};

static const char *const failure_names[RM_CH_FAIL_COUNT] = {"connect", "timeout", "auth", "http",
							    "spool"};

const char *rm_chsink_failure_name(unsigned f)
{
	return f < RM_CH_FAIL_COUNT ? failure_names[f] : "invalid";
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */

static void batch_free(struct batch *b)
{
	free(b->body);
	free(b);
}

/* The spool file of a batch: DIR/SEQ-ID.json, SEQ 16 digits so that names
 * sort in queue order. */
static void spool_path(const struct rm_chsink *s, const struct batch *b, char *out, size_t n)
{
	snprintf(out, n, "%s/%016" PRIu64 "-%s" SPOOL_SUFFIX, s->o.spool, b->seq, b->id);
}

/* JSONEachRow, one object per row; DateTime columns as Unix seconds. */
static char *serialize(const struct rm_chsink *s, const char *id, const struct rm_rows *rows,
		       double start, double end, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		rm_out_of_memory();
	for (uint32_t i = 0; i < rows->n; i++) {
		const struct rm_row *r = &rows->v[i];
		fputs("{\"appliance\":", f);
		rm_put_json_string(f, s->o.name);
		fputs(",\"batch\":", f);
		rm_put_json_string(f, id);
		fputs(",\"snapshot\":", f);
		rm_put_json_string(f, r->snap);
		fprintf(f, ",\"start\":%.0f,\"end\":%.0f,\"scope\":", start, end);
		rm_put_json_string(f, r->scope);
		fputs(",\"dir\":", f);
		rm_put_json_string(f, r->dir ? r->dir : "");
		fputs(",\"key\":", f);
		rm_put_json_string(f, r->key);
		if (r->name && r->name[0]) { /* holder and asn rows; the column's default '' */
			fputs(",\"name\":", f);
			rm_put_json_string(f, r->name);
		}
		fprintf(f, ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}\n", r->packets,
			r->has_bytes ? r->bytes : 0);
	}
	if (fclose(f) != 0)
		rm_out_of_memory();
	return text;
}

void rm_chsink_batch(struct rm_chsink *s, const struct rm_rows *rows, double start, double end)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		rm_out_of_memory();
	pthread_mutex_lock(&s->lock);
	b->seq = s->next_seq++;
	pthread_mutex_unlock(&s->lock);
	snprintf(b->id, sizeof(b->id), "%s-%" PRIu64, s->run_id, b->seq);
	b->body = serialize(s, b->id, rows, start, end, &b->len);
	b->rows = rows->n;
	pthread_mutex_lock(&s->lock);
	if (s->st.pending_bytes + b->len > s->o.spool_max) {
		s->st.dropped_batches++;
		s->st.dropped_rows += b->rows;
		pthread_mutex_unlock(&s->lock);
		batch_free(b);
		return;
	}
	s->st.pending_bytes += b->len;
	s->st.pending_batches++;
	*s->incoming_tail = b;
	s->incoming_tail = &b->next;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

struct body {
	char buf[512];
	size_t len;
};

static size_t keep_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t take = size * n;
	size_t room = sizeof(b->buf) - 1 - b->len;
	memcpy(b->buf + b->len, p, take < room ? take : room);
	b->len += take < room ? take : room;
	b->buf[b->len] = '\0';
	return size * n;
}

/* ClickHouse's codes for an unknown user, a wrong password, a failed
 * authentication (18.16 answers them with HTTP 500). */
static int is_auth_error(const char *body)
{
	return strstr(body, "Code: 192,") || strstr(body, "Code: 193,") ||
	       strstr(body, "Code: 516,");
}

/*
 * One request: POST data to url.  0 with the response body in *resp, or
 * -1 with the failure's class and a message in why.
 */
static int request(struct rm_chsink *s, const char *url, const char *data, size_t len,
		   struct body *resp, unsigned *fail, char *why, size_t whylen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		*fail = RM_CH_FAIL_CONNECT;
		snprintf(why, whylen, "no memory for a request");
		return -1;
	}
	char err[CURL_ERROR_SIZE] = "";
	resp->len = 0;
	resp->buf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->o.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->o.timeout * 1000));
	if (s->have_auth) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
	}
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		*fail = rc == CURLE_OPERATION_TIMEDOUT ? RM_CH_FAIL_TIMEOUT : RM_CH_FAIL_CONNECT;
		snprintf(why, whylen, "%s", err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		*fail = status == 401 || status == 403 || is_auth_error(resp->buf)
			    ? RM_CH_FAIL_AUTH
			    : RM_CH_FAIL_HTTP;
		/* The server's message, first line, as display text. */
		char *nl = strchr(resp->buf, '\n');
		if (nl)
			*nl = '\0';
		snprintf(why, whylen, "HTTP %ld: %.300s", status, resp->buf);
		return -1;
	}
	return 0;
}

/* SQL string literal of s (quote and backslash escaped) appended to f. */
static void put_sql_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* Whether ClickHouse already has rows of batch b: 1, 0, or -1 (failed). */
static int already_stored(struct rm_chsink *s, const struct batch *b, unsigned *fail, char *why,
			  size_t whylen)
{
	char *q = NULL;
	size_t qlen = 0;
	FILE *f = open_memstream(&q, &qlen);
	if (!f)
		rm_out_of_memory();
	fputs("SELECT count() FROM " TABLE " WHERE appliance = ", f);
	put_sql_string(f, s->o.name);
	fputs(" AND batch = ", f);
	put_sql_string(f, b->id);
	fclose(f);
	struct body resp;
	int rc = request(s, s->o.url, q, qlen, &resp, fail, why, whylen);
	free(q);
	if (rc)
		return -1;
	return strtoull(resp.buf, NULL, 10) > 0;
}

/* Whether line `want` is one of the newline-separated lines of text. */
static int has_line(const char *text, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == n && memcmp(p, want, n) == 0)
			return 1;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/*
 * The raw table's columns, asked before the first insert and again after
 * any failure (the table may have been altered or made anew meanwhile): 1
 * when it has `name`, 0 when it has every other column a row fills but
 * not that one (a table made before names were stored: rows go in
 * without them), -1 when the server cannot be reached or a column rows
 * need is missing, with *fail and why set as for a failed insert.  An
 * answer that tells nothing (the question refused, or no columns: a user
 * may insert into a table whose columns system.columns does not show
 * it) is 1: the insert is tried as before there was a question, and its
 * own answer decides.  Asked by name, so that a table with columns of the
 * user's own still fits the answer's buffer.
 */
static int table_columns(struct rm_chsink *s, unsigned *fail, char *why, size_t whylen)
{
	static const char q[] =
	    "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '" TABLE
	    "' AND name IN ('appliance', 'batch', 'snapshot', 'start', 'end', 'scope', 'dir', "
	    "'key', 'name', 'packets', 'bytes') FORMAT TabSeparated";
	static const char *const need[] = {"appliance", "batch", "snapshot", "start",	"end",
					   "scope",	"dir",	 "key",	     "packets", "bytes"};
	struct body resp;
	if (request(s, s->o.url, q, sizeof(q) - 1, &resp, fail, why, whylen))
		return *fail == RM_CH_FAIL_CONNECT || *fail == RM_CH_FAIL_TIMEOUT ? -1 : 1;
	if (!resp.buf[0])
		return 1;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!has_line(resp.buf, need[i])) {
			*fail = RM_CH_FAIL_HTTP;
			snprintf(why, whylen,
				 "table " TABLE " has no column %s (rirdb clickhouse-schema)",
				 need[i]);
			return -1;
		}
	return has_line(resp.buf, "name");
}

/* ------------------------------------------------------------------ */
/* The sender                                                          */

/* A message on stderr; the server's text in it as display text. */
__attribute__((format(printf, 1, 2))) static void report(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fputs("rirmeter: ClickHouse: ", stderr);
	rm_put_text(stderr, msg ? msg : "(no memory for the message)");
	fputc('\n', stderr);
	free(msg);
}

/* The incoming batches into the pending queue, each written to the spool
 * first when there is one.  Called without the lock. */
static void take_incoming(struct rm_chsink *s)
{
	pthread_mutex_lock(&s->lock);
	struct batch *b = s->incoming;
	s->incoming = NULL;
	s->incoming_tail = &s->incoming;
	pthread_mutex_unlock(&s->lock);
	while (b) {
		struct batch *next = b->next;
		b->next = NULL;
		if (s->o.spool) {
			char path[PATH_MAX], err[PATH_MAX + 128];
			struct rm_atomic_file a;
			spool_path(s, b, path, sizeof(path));
			int ok = rm_atomic_open(&a, path, 0600, err, sizeof(err)) == 0;
			if (ok && fwrite(b->body, 1, b->len, a.f) != b->len) {
				rm_atomic_abort(&a);
				ok = 0;
				snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
			}
			if (ok && rm_atomic_commit(&a, err, sizeof(err)) != 0)
				ok = 0;
			pthread_mutex_lock(&s->lock);
			if (ok) {
				b->spooled = 1;
				s->st.batches_spooled++;
			} else {
				s->st.failures[RM_CH_FAIL_SPOOL]++;
			}
			pthread_mutex_unlock(&s->lock);
			if (!ok) /* kept in memory: still sent, but lost if we stop first */
				report("spool: %s", err);
		}
		pthread_mutex_lock(&s->lock);
		*s->pending_tail = b;
		s->pending_tail = &b->next;
		pthread_mutex_unlock(&s->lock);
		b = next;
	}
}

/* Send the oldest pending batch: 0 when it is done with (stored now or
 * before), -1 when it stays for a retry. */
static int send_oldest(struct rm_chsink *s)
{
	struct batch *b = s->pending; /* only the sender removes from pending */
	char why[512];
	unsigned fail = 0;
	struct body resp;
	int stored = 0;
	if (b->maybe_stored) {
		stored = already_stored(s, b, &fail, why, sizeof(why));
		if (stored < 0)
			goto failed;
	}
	if (!stored && s->columns < 0) {
		s->columns = table_columns(s, &fail, why, sizeof(why));
		if (s->columns < 0)
			goto failed;
		if (!s->columns && !s->told_unnamed) {
			s->told_unnamed = 1;
			report("table " TABLE " has no column name: holder and AS names are not "
			       "stored (ALTER TABLE " TABLE " ADD COLUMN name String DEFAULT '' "
			       "AFTER key adds it)");
		}
	}
	/* Without the column, its field is the one unknown field skipped: the
	 * others were found by table_columns. */
	if (!stored && request(s, s->columns ? s->insert_url : s->insert_url_unnamed, b->body,
			       b->len, &resp, &fail, why, sizeof(why)))
		goto failed;
	if (b->spooled) {
		char path[PATH_MAX];
		spool_path(s, b, path, sizeof(path));
		unlink(path);
	}
	pthread_mutex_lock(&s->lock);
	s->pending = b->next;
	if (!s->pending)
		s->pending_tail = &s->pending;
	s->st.pending_bytes -= b->len;
	s->st.pending_batches--;
	if (stored) {
		s->st.already_stored++;
	} else {
		s->st.batches_sent++;
		s->st.rows_sent += b->rows;
	}
	int was_failing = s->failing;
	s->failing = 0;
	pthread_mutex_unlock(&s->lock);
	if (was_failing)
		report("sending again");
	batch_free(b);
	return 0;
failed:
	b->maybe_stored = 1; /* a timeout may have stored it */
	s->columns = -1;
	pthread_mutex_lock(&s->lock);
	s->st.failures[fail]++;
	int first = !s->failing;
	s->failing = 1;
	pthread_mutex_unlock(&s->lock);
	if (first)
		report("%s: %s; batches are kept and retried", rm_chsink_failure_name(fail), why);
	return -1;
}

static void *sender(void *arg)
{
	struct rm_chsink *s = arg;
	double backoff = BACKOFF_FIRST, next_try = 0;
	for (;;) {
		take_incoming(s);
		double now = mono_now();
		pthread_mutex_lock(&s->lock);
		int have = s->pending != NULL, stop = s->stop;
		double until = s->linger_until;
		pthread_mutex_unlock(&s->lock);
		if (stop && (!have || now >= until))
			return NULL;
		/* Stopping: the last chances come every second, not after a
		 * back-off that may outlast them. */
		if (stop && next_try > now + BACKOFF_FIRST)
			next_try = now + BACKOFF_FIRST;
		if (have && now >= next_try) {
			if (send_oldest(s) == 0) {
				backoff = BACKOFF_FIRST;
				next_try = 0;
			} else {
				next_try = now + backoff;
				backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
			}
			continue;
		}
		/* Sleep until the next try, a new batch, or stop. */
		double wait = have ? next_try - now : 1.0;
		if (stop && until - now < wait)
			wait = until - now;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		double t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + (wait > 0 ? wait : 0);
		ts.tv_sec = (time_t)t;
		ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
		pthread_mutex_lock(&s->lock);
		if (!s->incoming && !(s->stop && !stop))
			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
}

/* ------------------------------------------------------------------ */
/* Opening: options, the spool left by an earlier run                  */

static int spool_name_seq(const char *name, uint64_t *seq)
{
	size_t n = strlen(name), sl = strlen(SPOOL_SUFFIX);
	if (n < 18 + sl || name[16] != '-' || strcmp(name + n - sl, SPOOL_SUFFIX) != 0)
		return -1;
	for (int i = 0; i < 16; i++)
		if (!isdigit((unsigned char)name[i]))
			return -1;
	*seq = strtoull(name, NULL, 10);
	return 0;
}

static int seq_cmp(const void *pa, const void *pb)
{
	const struct batch *a = *(struct batch *const *)pa, *b = *(struct batch *const *)pb;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Read the batches an earlier run left, oldest first, into pending; the
 * directory is made (one level, mode 0700) when it does not exist. */
static int load_spool(struct rm_chsink *s, char *err, size_t errlen)
{
	if (mkdir(s->o.spool, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "--spool %s: %s", s->o.spool, strerror(errno));
		return -1;
	}
	DIR *d = opendir(s->o.spool);
	if (!d) {
		snprintf(err, errlen, "--spool %s: %s", s->o.spool, strerror(errno));
		return -1;
	}
	struct batch **v = NULL;
	uint32_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint64_t seq;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", s->o.spool, e->d_name);
		if (strstr(e->d_name, SPOOL_SUFFIX ".tmp.")) { /* a write cut short */
			unlink(path);
			continue;
		}
		if (spool_name_seq(e->d_name, &seq))
			continue;
		FILE *f = fopen(path, "rb");
		struct stat st;
		if (!f || fstat(fileno(f), &st) || st.st_size <= 0) {
			if (f)
				fclose(f);
			continue;
		}
		struct batch *b = calloc(1, sizeof(*b));
		if (!b || !(b->body = malloc((size_t)st.st_size)))
			rm_out_of_memory();
		b->len = fread(b->body, 1, (size_t)st.st_size, f);
		fclose(f);
		b->seq = seq;
		size_t idlen = strlen(e->d_name) - 17 - strlen(SPOOL_SUFFIX);
		snprintf(b->id, sizeof(b->id), "%.*s", (int)idlen, e->d_name + 17);
		for (size_t i = 0; i < b->len; i++)
			b->rows += b->body[i] == '\n';
		b->maybe_stored = 1;
		b->spooled = 1;
		RM_GROW_OR_DIE(&v, &cap, n, 1, 64);
		v[n++] = b;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), seq_cmp);
	for (uint32_t i = 0; i < n; i++) {
		*s->pending_tail = v[i];
		s->pending_tail = &v[i]->next;
		s->st.pending_bytes += v[i]->len;
		s->st.pending_batches++;
		s->st.batches_replayed++;
		s->next_seq = v[i]->seq + 1;
	}
	free(v);
	return 0;
}

static int read_auth(struct rm_chsink *s, char *err, size_t errlen)
{
	FILE *f = fopen(s->o.auth_file, "r");
	char line[600];
	if (!f) {
		snprintf(err, errlen, "--clickhouse-auth %s: %s", s->o.auth_file, strerror(errno));
		return -1;
	}
	int ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	char *colon = ok ? strchr(line, ':') : NULL;
	if (!colon || colon == line || (size_t)(colon - line) >= sizeof(s->user) ||
	    strlen(colon + 1) >= sizeof(s->password)) {
		snprintf(err, errlen, "--clickhouse-auth %s:1: expected 'user:password'",
			 s->o.auth_file);
		return -1;
	}
	memcpy(s->user, line, (size_t)(colon - line));
	s->user[colon - line] = '\0';
	memcpy(s->password, colon + 1, strlen(colon + 1) + 1);
	s->have_auth = 1;
	return 0;
}

/* The URL with a query parameter added: "...?database=x&query=..." */
static char *with_query(const char *url, const char *sql)
{
	char *esc = curl_easy_escape(NULL, sql, 0);
	char *out = NULL;
	if (!esc ||
	    asprintf(&out, "%s%squery=%s", url,
		     strchr(url, '?') ? (url[strlen(url) - 1] == '?' ? "" : "&") : "?", esc) < 0)
		rm_out_of_memory();
	curl_free(esc);
	return out;
}

static int check_url(const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;
	if (!u)
		rm_out_of_memory();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		snprintf(err, errlen, "--clickhouse '%s': not a URL", url);
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		 (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		snprintf(err, errlen, "--clickhouse '%s': the scheme must be http or https", url);
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		snprintf(err, errlen, "--clickhouse '%s': no host", url);
	else
		rc = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

struct rm_chsink *rm_chsink_open(const struct rm_chsink_options *o, char *err, size_t errlen)
{
	if (check_url(o->url, err, errlen))
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "--clickhouse: libcurl would not start");
		return NULL;
	}
	struct rm_chsink *s = calloc(1, sizeof(*s));
	if (!s)
		rm_out_of_memory();
	s->o = *o;
	s->incoming_tail = &s->incoming;
	s->pending_tail = &s->pending;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->run_id, sizeof(s->run_id), "%.80s-%" PRIu64, o->name,
		 (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	s->insert_url = with_query(o->url, "INSERT INTO " TABLE " FORMAT JSONEachRow");
	if (asprintf(&s->insert_url_unnamed, "%s&input_format_skip_unknown_fields=1",
		     s->insert_url) < 0)
		rm_out_of_memory();
	s->columns = -1;
	if ((o->auth_file && read_auth(s, err, errlen)) ||
	    (o->spool && load_spool(s, err, errlen))) {
		rm_chsink_close(s, 0, NULL);
		return NULL;
	}
	if (o->spool && access(o->spool, W_OK) != 0) {
		snprintf(err, errlen, "--spool %s: %s", o->spool, strerror(errno));
		rm_chsink_close(s, 0, NULL);
		return NULL;
	}
	if (pthread_create(&s->thread, NULL, sender, s) != 0) {
		snprintf(err, errlen, "--clickhouse: cannot start the sender thread");
		rm_chsink_close(s, 0, NULL);
		return NULL;
	}
	s->started = 1;
	return s;
}

void rm_chsink_stats(struct rm_chsink *s, struct rm_chsink_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}

void rm_chsink_rows(const struct rm_chsink_stats *st, const char *snap, struct rm_rows *out)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
	    {"clickhouse.batches_sent", offsetof(struct rm_chsink_stats, batches_sent)},
	    {"clickhouse.rows_sent", offsetof(struct rm_chsink_stats, rows_sent)},
	    {"clickhouse.spooled", offsetof(struct rm_chsink_stats, batches_spooled)},
	    {"clickhouse.replayed", offsetof(struct rm_chsink_stats, batches_replayed)},
	    {"clickhouse.already_stored", offsetof(struct rm_chsink_stats, already_stored)},
	    {"clickhouse.dropped_batches", offsetof(struct rm_chsink_stats, dropped_batches)},
	    {"clickhouse.dropped_rows", offsetof(struct rm_chsink_stats, dropped_rows)},
	    {"clickhouse.pending_batches", offsetof(struct rm_chsink_stats, pending_batches)},
	    {"clickhouse.pending_bytes", offsetof(struct rm_chsink_stats, pending_bytes)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)st + fields[i].off, sizeof(v));
		rm_rows_push(out, snap, "health", NULL, fields[i].key, v, 0, 0);
	}
	for (unsigned f = 0; f < RM_CH_FAIL_COUNT; f++) {
		char key[64];
		snprintf(key, sizeof(key), "clickhouse.failed.%s", failure_names[f]);
		rm_rows_push(out, snap, "health", NULL, key, st->failures[f], 0, 0);
	}
}

void rm_chsink_close(struct rm_chsink *s, double linger, struct rm_chsink_stats *final)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		s->linger_until = mono_now() + linger;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		take_incoming(s); /* queued after the sender's last look: spooled now */
	}
	unsigned lost = 0, kept = 0;
	for (struct batch *b = s->pending; b;) {
		struct batch *next = b->next;
		if (b->spooled) {
			kept++;
		} else {
			lost++;
			s->st.dropped_rows += b->rows;
			s->st.pending_batches--;
			s->st.pending_bytes -= b->len;
		}
		batch_free(b);
		b = next;
	}
	s->st.dropped_batches += lost;
	if (final)
		*final = s->st;
	if (kept)
		fprintf(stderr, "rirmeter: ClickHouse: %u batches not sent, kept in the spool\n",
			kept);
	if (lost)
		fprintf(stderr, "rirmeter: ClickHouse: %u batches not sent and lost (no spool)\n",
			lost);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->insert_url);
	free(s->insert_url_unnamed);
	free(s);
}
