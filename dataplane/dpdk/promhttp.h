/*
 * promhttp.h - the Prometheus scrape endpoint (promhttp.c,
 * libmicrohttpd): serves the exposition text the main lcore renders.
 */
#ifndef RM_PROMHTTP_H
#define RM_PROMHTTP_H

#include <stddef.h>

struct rm_promhttp;
/* Listen on "ADDR:PORT", "[ADDR6]:PORT" or "PORT" (loopback); NULL + err.
 * An IPv6 address without brackets is refused (it reads two ways).
 * At most 16 connections per client address and 256 in all; idle ones
 * are closed after 5 s (promhttp.c). */
struct rm_promhttp *rm_promhttp_start(const char *listen, char *err, size_t errlen);
/* 0 when rm_promhttp_start would accept listen's syntax (address and port
 * 1..65535), else -1 + err naming --prom-listen: lets option parsing
 * refuse a bad spec as a usage error, before any port is set up. */
int rm_promhttp_check_listen(const char *listen, char *err, size_t errlen);
/* Replace the text served; takes ownership of text (malloc'd), which is
 * freed once no scrape is sending it any more.  Aborts when out of
 * memory, like the rest of the output path. */
void rm_promhttp_publish(struct rm_promhttp *h, char *text, size_t len);
void rm_promhttp_stop(struct rm_promhttp *h);

#endif
