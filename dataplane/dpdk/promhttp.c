/*
 * promhttp.c - the Prometheus scrape endpoint (--prom-listen).
 *
 * libmicrohttpd serves GET /metrics from its own thread.  It never looks
 * at counters: the main lcore renders the exposition text from its
 * aggregated view (the same rows as the textfile) and publishes it here.
 * So a scrape costs the workers nothing.
 *
 * Each published text becomes one MHD_Response, made once and queued for
 * every scrape until the next publish replaces it: libmicrohttpd counts
 * the references of a response, so the replaced one (and the text, freed
 * by its callback) lives on until the last scrape sending it is done.  A
 * scrape copies nothing; the mutex, taken by only these two threads, just
 * keeps publish from dropping the response between a scrape's look at it
 * and MHD_queue_response's reference.
 *
 * The endpoint may listen beyond loopback, so nobody may lock Prometheus
 * out by holding connections open: at most PER_IP_CONNECTIONS from one
 * address (more are closed as they are accepted), CONNECTIONS in all, and
 * an idle connection is closed after IDLE_TIMEOUT_S.  The thread polls
 * with epoll (MHD_USE_AUTO picks it on Linux), so descriptors above 1023
 * are no limit as they are for select().  libmicrohttpd logs every
 * connection it refuses; log_limited() lets one line a second through, so
 * that a flood of connections is not also a flood of the log.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "options.h"
#include "promhttp.h"

/* Prometheus keeps one connection per target; a few servers (an HA pair,
 * a curl by hand) stay far below these. */
#define PER_IP_CONNECTIONS 16
#define CONNECTIONS	   256
#define IDLE_TIMEOUT_S	   5

struct rm_promhttp {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct MHD_Response *metrics; /* the latest text, queued for every scrape */
};

/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's messages on stderr, at most
 * one a second, with the number left out since the last one.  Called from
 * the daemon's thread only (and from MHD_start_daemon before it runs). */
static void log_limited(void *cls, const char *fmt, va_list ap)
{
	static time_t last;
	static unsigned long dropped;
	(void)cls;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last && now.tv_sec == last) {
		dropped++;
		return;
	}
	last = now.tv_sec;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (dropped)
		fprintf(stderr, "rirmeter: --prom-listen: %s (and %lu more messages)\n", msg,
			dropped);
	else
		fprintf(stderr, "rirmeter: --prom-listen: %s\n", msg);
	dropped = 0;
}

/* A response of the len bytes at text (malloc'd; freed with the response),
 * typed as Prometheus's text format; aborts when out of memory.  The
 * charset is said: label values (holder names) are UTF-8, and text/plain
 * without one is US-ASCII (RFC 6657) to clients other than Prometheus. */
static struct MHD_Response *metrics_response(char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer_with_free_callback(len, text, free);
	if (!r || MHD_add_response_header(r, "Content-Type",
					  "text/plain; version=0.0.4; charset=utf-8") != MHD_YES)
		abort();
	return r;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct rm_promhttp *h = cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (get && strcmp(url, "/metrics") == 0) {
		/* Queued under the lock: MHD holds its reference before publish
		 * may drop ours. */
		pthread_mutex_lock(&h->lock);
		enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, h->metrics);
		pthread_mutex_unlock(&h->lock);
		return rc;
	}
	static const char msg[] = "rirmeter serves /metrics\n";
	unsigned status = get ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED;
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    get ? sizeof(msg) - 1 : 0, (void *)(get ? msg : ""), MHD_RESPMEM_PERSISTENT);
	/* A 405 must name the methods that are allowed (RFC 9110 15.5.6). */
	if (!r || (!get && MHD_add_response_header(r, "Allow", "GET, HEAD") != MHD_YES))
		abort();
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * "ADDR:PORT", "[ADDR6]:PORT" or "PORT" (loopback) into a socket address.
 * An IPv6 address must be in brackets: without them its last group and
 * the port cannot be told apart ("fe80::1:9100" is fe80::1 port 9100, or
 * fe80::1:9100 with no port), so an unbracketed address with a ':' in it
 * is refused rather than guessed at.
 */
static int parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256] = "127.0.0.1";
	const char *port = s, *colon = strrchr(s, ':');
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "--prom-listen: bad address '%s'", s);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
	} else if (colon) {
		if (memchr(s, ':', (size_t)(colon - s))) {
			snprintf(err, errlen,
				 "--prom-listen: '%s': an IPv6 address goes in brackets, "
				 "[ADDR]:PORT",
				 s);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	}
	uint64_t p;
	char why[128];
	if (rm_parse_u64(port, 1, 65535, &p, why, sizeof(why))) {
		snprintf(err, errlen, "--prom-listen: port %s", why);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
	} else {
		snprintf(err, errlen, "--prom-listen: '%s' is not an IP address", host);
		return -1;
	}
	return 0;
}

int rm_promhttp_check_listen(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	return parse_listen(listen, &ss, err, errlen);
}

struct rm_promhttp *rm_promhttp_start(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (parse_listen(listen, &ss, err, errlen))
		return NULL;
	struct rm_promhttp *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	pthread_mutex_init(&h->lock, NULL);
	char *empty = malloc(1); /* until the first publish */
	if (!empty)
		abort();
	h->metrics = metrics_response(empty, 0);
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	/* The logger first, or messages about the options escape it. */
	h->d = MHD_start_daemon(flags, port, NULL, NULL, answer, h, MHD_OPTION_EXTERNAL_LOGGER,
				log_limited, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "--prom-listen %s: cannot listen (address in use?)", listen);
		MHD_destroy_response(h->metrics);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

void rm_promhttp_publish(struct rm_promhttp *h, char *text, size_t len)
{
	struct MHD_Response *r = metrics_response(text, len);
	pthread_mutex_lock(&h->lock);
	struct MHD_Response *old = h->metrics;
	h->metrics = r;
	pthread_mutex_unlock(&h->lock);
	MHD_destroy_response(old); /* ours; scrapes still sending it keep theirs */
}

void rm_promhttp_stop(struct rm_promhttp *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	MHD_destroy_response(h->metrics);
	free(h);
}
