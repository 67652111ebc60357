/*
 * promhttp.c - the Prometheus scrape endpoint (--prom-listen).
 *
 * libmicrohttpd serves GET /metrics from its own thread.  It never looks
 * at counters: the main lcore renders the exposition text from its
 * aggregated view (the same rows as the textfile) and publishes it here;
 * a scrape copies the latest text under a mutex that only these two
 * threads take.  So a scrape costs the workers nothing.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "promhttp.h"

struct rm_promhttp {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct rm_promhttp *h = cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics") != 0) {
		static const char msg[] = "rirmeter serves /metrics\n";
		status = MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		pthread_mutex_lock(&h->lock);
		r = MHD_create_response_from_buffer(h->len, h->text ? h->text : (void *)"",
						    MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&h->lock);
		MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	}
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* "ADDR:PORT", "[ADDR6]:PORT" or "PORT" (loopback) into a socket address. */
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
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	h->d = MHD_start_daemon(flags, port, NULL, NULL, answer, h, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "--prom-listen %s: cannot listen (address in use?)", listen);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

void rm_promhttp_publish(struct rm_promhttp *h, char *text, size_t len)
{
	pthread_mutex_lock(&h->lock);
	char *old = h->text;
	h->text = text;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

void rm_promhttp_stop(struct rm_promhttp *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
