/*
 * test_flow.c - the flow decoders on hand-built datagrams, without DPDK:
 * NetFlow v5, v9 (templates, options, the short header count), IPFIX
 * (variable-length and enterprise fields, withdrawal, sequence), sFlow
 * (raw headers, expanded samples, counter samples), every malformed case,
 * the table limits, and random mutations of valid datagrams (run under
 * ASan by make test, where any read out of bounds fails).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flow.h"
#include "ipfix.h"
#include "rows.h"

/* ------------------------------------------------------------------ */
/* Collecting what the decoders emit                                   */

struct rec {
	int family;
	uint8_t src[16], dst[16];
	uint64_t pkts, bytes;
	uint32_t src_as, dst_as;
	struct rm_flow_meta meta;
};

static struct rec got[4096];
static unsigned n_got;

static void collect(struct rm_flow_state *st, void *ctx)
{
	(void)ctx;
	struct rm_flow_batch *b = &st->batch;
	for (uint32_t i = 0; i < b->n4; i++) {
		struct rec *r = &got[n_got++ % 4096];
		r->family = 4;
		for (int k = 0; k < 4; k++) {
			r->src[k] = (uint8_t)(b->a4[2 * i] >> (24 - 8 * k));
			r->dst[k] = (uint8_t)(b->a4[2 * i + 1] >> (24 - 8 * k));
		}
		r->pkts = b->pkts4[i];
		r->bytes = b->bytes4[i];
		r->src_as = b->as4[2 * i];
		r->dst_as = b->as4[2 * i + 1];
		rm_flow_batch_meta(b, 4, i, &r->meta);
	}
	for (uint32_t i = 0; i < b->n6; i++) {
		struct rec *r = &got[n_got++ % 4096];
		r->family = 6;
		memcpy(r->src, b->a6[2 * i], 16);
		memcpy(r->dst, b->a6[2 * i + 1], 16);
		r->pkts = b->pkts6[i];
		r->bytes = b->bytes6[i];
		r->src_as = b->as6[2 * i];
		r->dst_as = b->as6[2 * i + 1];
		rm_flow_batch_meta(b, 6, i, &r->meta);
	}
	b->n4 = b->n6 = 0;
}

static struct rm_flow_state *state(void)
{
	struct rm_flow_state *st = rm_flow_state_new();
	assert_non_null(st);
	st->flush = collect;
	n_got = 0;
	return st;
}

static const uint8_t exporter4[4] = {192, 0, 2, 1};

/* Decode one datagram from exporter4 and flush, as a worker's burst end does. */
static void feed(struct rm_flow_state *st, unsigned proto, const uint8_t *p, uint32_t len)
{
	rm_flow_datagram(st, proto, exporter4, 4, p, len);
	collect(st, NULL);
}

static struct rm_flow_exporter *only_exporter(struct rm_flow_state *st)
{
	assert_int_equal(st->n_exporters, 1);
	return &st->exp[0];
}

/* ------------------------------------------------------------------ */
/* Building datagrams                                                  */

struct buf {
	uint8_t b[9000];
	uint32_t n;
};

static void put8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void put(struct buf *b, const void *p, uint32_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void set16(struct buf *b, uint32_t at, unsigned v)
{
	b->b[at] = (uint8_t)(v >> 8);
	b->b[at + 1] = (uint8_t)v;
}

/* Open a set (flowset) of id; close() writes its length. */
static uint32_t open_set(struct buf *b, unsigned id)
{
	uint32_t at = b->n;
	put16(b, id);
	put16(b, 0);
	return at;
}

static void close_set(struct buf *b, uint32_t at)
{
	set16(b, at + 2, b->n - at);
}

static const uint8_t a_src[4] = {193, 0, 0, 1}, a_dst[4] = {41, 0, 0, 1};
static const uint8_t a6_src[16] = {0x2a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t a6_dst[16] = {0x24, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void v5_header(struct buf *b, unsigned count, uint32_t seq, unsigned sampling)
{
	b->n = 0;
	put16(b, 5);
	put16(b, count);
	put32(b, 1000);	      /* uptime */
	put32(b, 1700000000); /* secs */
	put32(b, 0);
	put32(b, seq);
	put8(b, 0);
	put8(b, 7); /* engine id */
	put16(b, sampling);
}

static void v5_record(struct buf *b, const uint8_t *s, const uint8_t *d, uint32_t pkts,
		      uint32_t bytes)
{
	put(b, s, 4);
	put(b, d, 4);
	put32(b, 0);
	put32(b, 0);
	put32(b, pkts);
	put32(b, bytes);
	for (int i = 0; i < 6; i++)
		put32(b, 0);
}

static void v9_header(struct buf *b, uint32_t seq, uint32_t source_id)
{
	b->n = 0;
	put16(b, 9);
	put16(b, 1); /* count: unreliable, never used */
	put32(b, 1000);
	put32(b, 1700000000);
	put32(b, seq);
	put32(b, source_id);
}

static void ipfix_header(struct buf *b, uint32_t seq, uint32_t domain)
{
	b->n = 0;
	put16(b, 10);
	put16(b, 0); /* length, set by ipfix_end */
	put32(b, 1700000000);
	put32(b, seq);
	put32(b, domain);
}

static void ipfix_end(struct buf *b)
{
	set16(b, 2, b->n);
}

/* A template of (type, length) pairs: src4, dst4, pkts (4), bytes (8). */
static void template_v4(struct buf *b, unsigned id)
{
	put16(b, id);
	put16(b, 4);
	put16(b, 8);
	put16(b, 4);
	put16(b, 12);
	put16(b, 4);
	put16(b, 2);
	put16(b, 4);
	put16(b, 1);
	put16(b, 8);
}

static void record_v4(struct buf *b, const uint8_t *s, const uint8_t *d, uint32_t pkts,
		      uint64_t bytes)
{
	put(b, s, 4);
	put(b, d, 4);
	put32(b, pkts);
	put64(b, bytes);
}

/* ------------------------------------------------------------------ */
/* NetFlow v5                                                          */

static void netflow5_records_sampling_sequence(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	v5_header(&b, 2, 100, 0);
	v5_record(&b, a_src, a_dst, 3, 300);
	v5_record(&b, a_dst, a_src, 1, 60);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 2);
	assert_memory_equal(got[0].src, a_src, 4);
	assert_memory_equal(got[0].dst, a_dst, 4);
	assert_int_equal(got[0].pkts, 3);
	assert_int_equal(got[0].bytes, 300);
	assert_int_equal(got[1].bytes, 60);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->kind, RM_KIND_NETFLOW5);
	assert_int_equal(e->domain, 7);
	assert_int_equal(e->n[RM_EXP_RECORDS], 2);

	/* Next: sequence 102 is expected; 105 means 3 flows lost.  Deterministic
	 * 1-in-10 sampling (mode 01) scales the counts. */
	v5_header(&b, 1, 105, 0x4000 | 10);
	v5_record(&b, a_src, a_dst, 2, 100);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 3);
	assert_int_equal(got[2].pkts, 20);
	assert_int_equal(got[2].bytes, 1000);
	assert_int_equal(e->n[RM_EXP_GAPS], 1);
	assert_int_equal(e->n[RM_EXP_LOST], 3);

	/* A restart (sequence back to 0) resynchronises without loss. */
	v5_header(&b, 1, 0, 0);
	v5_record(&b, a_src, a_dst, 1, 1);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(e->n[RM_EXP_LOST], 3);
	assert_int_equal(e->n[RM_EXP_DATAGRAMS], 3);
	rm_flow_state_free(st);
}

/* Exporters over IPv6 are told apart by their whole address. */
static void ipv6_exporters(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	v5_header(&b, 1, 0, 0);
	v5_record(&b, a_src, a_dst, 1, 64);
	uint8_t e6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	rm_flow_datagram(st, RM_FLOW_NETFLOW, e6, 6, b.b, b.n);
	e6[8] = 1; /* differs from the first only in the low 64 bits */
	rm_flow_datagram(st, RM_FLOW_NETFLOW, e6, 6, b.b, b.n);
	rm_flow_datagram(st, RM_FLOW_NETFLOW, e6, 6, b.b, b.n);
	collect(st, NULL);
	assert_int_equal(st->n_exporters, 2);
	assert_int_equal(st->exp[0].family, 6);
	assert_int_equal(st->exp[0].n[RM_EXP_DATAGRAMS], 1);
	assert_int_equal(st->exp[1].n[RM_EXP_DATAGRAMS], 2);
	assert_int_equal(n_got, 3);
	rm_flow_state_free(st);
}

static void netflow5_malformed(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	v5_header(&b, 3, 0, 0); /* says 3, carries 2 */
	v5_record(&b, a_src, a_dst, 1, 1);
	v5_record(&b, a_src, a_dst, 1, 1);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 0);
	assert_int_equal(only_exporter(st)->bad[RM_FLOWBAD_LENGTH], 1);
	feed(st, RM_FLOW_NETFLOW, b.b, 20); /* shorter than the header */
	assert_int_equal(st->bad[RM_FLOWBAD_SHORT], 1);
	b.b[1] = 7; /* NetFlow v7 is not decoded */
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(st->bad[RM_FLOWBAD_VERSION], 1);
	feed(st, RM_FLOW_NETFLOW, b.b, 1);
	assert_int_equal(st->bad[RM_FLOWBAD_SHORT], 2);
	rm_flow_state_free(st);
}

/* ------------------------------------------------------------------ */
/* NetFlow v9                                                          */

static void netflow9_template_data_and_order(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	/* Data before its template: counted as such, nothing guessed. */
	v9_header(&b, 0, 42);
	uint32_t s = open_set(&b, 300);
	record_v4(&b, a_src, a_dst, 5, 500);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(n_got, 0);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 1);
	assert_int_equal(e->kind, RM_KIND_NETFLOW9);
	assert_int_equal(e->domain, 42);

	/* Template and two records in one datagram (the header count says 1),
	 * then 3 bytes of padding in the data flowset. */
	v9_header(&b, 1, 42);
	s = open_set(&b, 0);
	template_v4(&b, 300);
	close_set(&b, s);
	s = open_set(&b, 300);
	record_v4(&b, a_src, a_dst, 5, 500);
	record_v4(&b, a_dst, a_src, 6, 600);
	put8(&b, 0);
	put8(&b, 0);
	put8(&b, 0);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[1].pkts, 6);
	assert_int_equal(got[1].bytes, 600);
	assert_memory_equal(got[1].src, a_dst, 4);

	/* Redefinition: the same id now puts bytes (4) before the addresses. */
	v9_header(&b, 2, 42);
	s = open_set(&b, 0);
	put16(&b, 300);
	put16(&b, 3);
	put16(&b, 1);
	put16(&b, 4);
	put16(&b, 8);
	put16(&b, 4);
	put16(&b, 12);
	put16(&b, 4);
	close_set(&b, s);
	s = open_set(&b, 300);
	put32(&b, 1234);
	put(&b, a_src, 4);
	put(&b, a_dst, 4);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 3);
	assert_int_equal(got[2].bytes, 1234);
	assert_int_equal(got[2].pkts, 0); /* no packet count in this template */
	assert_int_equal(e->n[RM_EXP_LOST], 0);

	/* Sequence 5 after 2: datagrams 3 and 4 lost. */
	v9_header(&b, 5, 42);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(e->n[RM_EXP_LOST], 2);
	assert_int_equal(e->n[RM_EXP_GAPS], 1);

	/* Another source id is another domain, with templates of its own. */
	v9_header(&b, 0, 43);
	s = open_set(&b, 300);
	record_v4(&b, a_src, a_dst, 5, 500);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(st->n_exporters, 2);
	assert_int_equal(st->exp[1].n[RM_EXP_NO_TEMPLATE], 1);
	rm_flow_state_free(st);
}

static void netflow9_options_sampling(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	v9_header(&b, 0, 1);
	/* Options template 256: scope System (type 1, 4 bytes: not "bytes"),
	 * then SAMPLING_INTERVAL (34, 4) and SAMPLING_ALGORITHM (35, 1). */
	uint32_t s = open_set(&b, 1);
	put16(&b, 256);
	put16(&b, 4); /* scope length in bytes */
	put16(&b, 8); /* option length in bytes */
	put16(&b, 1);
	put16(&b, 4);
	put16(&b, 34);
	put16(&b, 4);
	put16(&b, 35);
	put16(&b, 1);
	put16(&b, 0); /* padding */
	close_set(&b, s);
	s = open_set(&b, 0);
	template_v4(&b, 257);
	close_set(&b, s);
	s = open_set(&b, 256);
	put32(&b, 0);	/* system */
	put32(&b, 100); /* 1 in 100 */
	put8(&b, 2);
	close_set(&b, s);
	s = open_set(&b, 257);
	record_v4(&b, a_src, a_dst, 2, 128);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->n[RM_EXP_OPTIONS], 1);
	assert_int_equal(e->sampling, 100);
	assert_int_equal(n_got, 1);
	assert_int_equal(got[0].pkts, 200);
	assert_int_equal(got[0].bytes, 12800);
	rm_flow_state_free(st);
}

/* 8-byte counts times a sampling interval past 64 bits: the record is
 * dropped and counted (malformed.counts), never added wrapped; one that
 * fits is counted as usual. */
static void netflow9_counts_overflow(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	v9_header(&b, 0, 1);
	uint32_t s = open_set(&b, 0);
	put16(&b, 256);
	put16(&b, 5);
	static const uint16_t fields[5][2] = {{8, 4}, {12, 4}, {2, 8}, {1, 8}, {34, 4}};
	for (int i = 0; i < 5; i++) {
		put16(&b, fields[i][0]);
		put16(&b, fields[i][1]);
	}
	close_set(&b, s);
	s = open_set(&b, 256);
	static const uint64_t recs[4][3] = {{UINT64_C(1) << 62, 10, 4},	  /* packets overflow */
					    {3, UINT64_C(1) << 61, 4},	  /* fits: 2^63 bytes */
					    {1, UINT64_MAX / 3 + 1, 3},	  /* bytes overflow */
					    {UINT64_MAX, UINT64_MAX, 1}}; /* fits: interval 1 */
	for (int i = 0; i < 4; i++) {
		put(&b, a_src, 4);
		put(&b, a_dst, 4);
		put64(&b, recs[i][0]);
		put64(&b, recs[i][1]);
		put32(&b, (uint32_t)recs[i][2]);
	}
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->bad[RM_FLOWBAD_COUNTS], 2);
	assert_int_equal(e->n[RM_EXP_RECORDS], 2);
	assert_int_equal(n_got, 2);
	assert_true(got[0].pkts == 12 && got[0].bytes == UINT64_C(1) << 63);
	assert_true(got[1].pkts == UINT64_MAX && got[1].bytes == UINT64_MAX);
	assert_string_equal(rm_flow_bad_name(RM_FLOWBAD_COUNTS), "counts");
	rm_flow_state_free(st);
}

static void netflow9_malformed(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	/* A flowset longer than the datagram. */
	v9_header(&b, 0, 1);
	uint32_t s = open_set(&b, 0);
	template_v4(&b, 300);
	close_set(&b, s);
	set16(&b, s + 2, 400);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->bad[RM_FLOWBAD_SET], 1);
	/* A flowset length below its own header: would loop forever if believed. */
	set16(&b, s + 2, 2);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(e->bad[RM_FLOWBAD_SET], 2);
	/* A template whose field count runs past the flowset. */
	v9_header(&b, 1, 1);
	s = open_set(&b, 0);
	put16(&b, 300);
	put16(&b, 50);
	put16(&b, 8);
	put16(&b, 4);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(e->bad[RM_FLOWBAD_TEMPLATE], 1);
	/* Zero fields, a zero-length field, a template id below 256. */
	const unsigned bad_templates[3][4] = {{300, 0, 0, 0}, {300, 1, 8, 0}, {12, 1, 8, 4}};
	for (int k = 0; k < 3; k++) {
		v9_header(&b, 2 + (uint32_t)k, 1);
		s = open_set(&b, 0);
		put16(&b, bad_templates[k][0]);
		put16(&b, bad_templates[k][1]);
		if (bad_templates[k][1]) {
			put16(&b, bad_templates[k][2]);
			put16(&b, bad_templates[k][3]);
		}
		close_set(&b, s);
		feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	}
	assert_int_equal(e->bad[RM_FLOWBAD_TEMPLATE], 4);
	assert_int_equal(e->n[RM_EXP_TEMPLATES], 0);
	assert_int_equal(n_got, 0);
	/* A header alone is short. */
	feed(st, RM_FLOW_NETFLOW, b.b, 19);
	assert_int_equal(st->bad[RM_FLOWBAD_SHORT], 1);
	rm_flow_state_free(st);
}

/* ------------------------------------------------------------------ */
/* IPFIX                                                               */

/* Template 400 (an enterprise element, a variable-length name, reduced-size
 * counters over IPv6) and two records, the second with a 300-byte name. */
static void ipfix_variable_datagram(struct buf *bp)
{
	struct buf b = {.n = 0};
	ipfix_header(&b, 0, 9);
	uint32_t s = open_set(&b, 2);
	put16(&b, 400);
	put16(&b, 6);
	put16(&b, 27); /* sourceIPv6Address */
	put16(&b, 16);
	put16(&b, 0x8000 | 12); /* enterprise 12345, element 12: not an address */
	put16(&b, 4);
	put32(&b, 12345);
	put16(&b, 82); /* interfaceName, variable */
	put16(&b, 65535);
	put16(&b, 28); /* destinationIPv6Address */
	put16(&b, 16);
	put16(&b, 2); /* packetDeltaCount, reduced to 2 bytes */
	put16(&b, 2);
	put16(&b, 1); /* octetDeltaCount, reduced to 4 */
	put16(&b, 4);
	close_set(&b, s);
	s = open_set(&b, 400);
	put(&b, a6_src, 16);
	put32(&b, 0xdeadbeef);
	put8(&b, 4);
	put(&b, "eth0", 4);
	put(&b, a6_dst, 16);
	put16(&b, 7);
	put32(&b, 7000);
	/* second record: a 300-byte name in the three-byte length form */
	put(&b, a6_dst, 16);
	put32(&b, 0);
	put8(&b, 255);
	put16(&b, 300);
	memset(b.b + b.n, 'x', 300);
	b.n += 300;
	put(&b, a6_src, 16);
	put16(&b, 1);
	put32(&b, 1500);
	close_set(&b, s);
	ipfix_end(&b);
	*bp = b;
}

static void ipfix_variable_enterprise_ipv6(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	ipfix_variable_datagram(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[0].family, 6);
	assert_memory_equal(got[0].src, a6_src, 16);
	assert_memory_equal(got[0].dst, a6_dst, 16);
	assert_int_equal(got[0].pkts, 7);
	assert_int_equal(got[0].bytes, 7000);
	assert_memory_equal(got[1].src, a6_dst, 16);
	assert_int_equal(got[1].bytes, 1500);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->kind, RM_KIND_IPFIX);
	assert_int_equal(e->domain, 9);

	/* A variable-length field that runs past the set. */
	ipfix_header(&b, 2, 9);
	uint32_t s = open_set(&b, 400);
	put(&b, a6_src, 16);
	put32(&b, 0);
	put8(&b, 200); /* 200 bytes announced, 60 present */
	memset(b.b + b.n, 'y', 60);
	b.n += 60;
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(e->bad[RM_FLOWBAD_RECORD], 1);
	assert_int_equal(n_got, 2);
	rm_flow_state_free(st);
}

/* A message of one template set (template id, or its withdrawal) and one
 * record of template 256. */
static void ipfix_template_then_record(struct rm_flow_state *st, uint32_t seq, unsigned id,
				       int withdraw)
{
	struct buf b;
	ipfix_header(&b, seq, 1);
	uint32_t s = open_set(&b, 2);
	if (withdraw) {
		put16(&b, id);
		put16(&b, 0);
	} else {
		template_v4(&b, id);
	}
	close_set(&b, s);
	s = open_set(&b, 256);
	record_v4(&b, a_src, a_dst, 1, 100);
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
}

static void ipfix_withdrawal_sequence_options(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	ipfix_header(&b, 0, 1);
	uint32_t s = open_set(&b, 2);
	template_v4(&b, 256);
	close_set(&b, s);
	/* Options template 257: scope observationDomainId (149), then
	 * samplingPacketInterval (305) and samplingPacketSpace (306): 1 of
	 * every 1 + 9 packets. */
	s = open_set(&b, 3);
	put16(&b, 257);
	put16(&b, 3);
	put16(&b, 1);
	put16(&b, 149);
	put16(&b, 4);
	put16(&b, 305);
	put16(&b, 4);
	put16(&b, 306);
	put16(&b, 4);
	close_set(&b, s);
	s = open_set(&b, 257);
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 9);
	close_set(&b, s);
	s = open_set(&b, 256);
	record_v4(&b, a_src, a_dst, 1, 100);
	record_v4(&b, a_src, a_dst, 2, 200);
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->sampling, 10);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[1].pkts, 20);
	assert_int_equal(got[1].bytes, 2000);

	/* 3 data records went (1 options + 2): sequence 3 is next; 5 means 2 lost. */
	ipfix_header(&b, 5, 1);
	s = open_set(&b, 256);
	record_v4(&b, a_src, a_dst, 1, 100);
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(e->n[RM_EXP_LOST], 2);
	assert_int_equal(n_got, 3);

	/* Withdraw 256: its data sets are now of an unknown template. */
	ipfix_template_then_record(st, 6, 256, 1);
	assert_int_equal(n_got, 3);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 1);

	/* Redefined after the withdrawal: decoded again, the sequence resynchronised. */
	ipfix_template_then_record(st, 100, 256, 0);
	assert_int_equal(n_got, 4);
	assert_int_equal(e->n[RM_EXP_LOST], 2);

	/* Withdraw all data templates (template id 2 in set 2). */
	ipfix_template_then_record(st, 101, 2, 1);
	assert_int_equal(n_got, 4);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 2);
	rm_flow_state_free(st);
}

/* A message of n records of template 256 (defined in it when tmpl), with
 * one options record of template 257 when opt. */
static void ipfix_records(struct rm_flow_state *st, uint32_t seq, unsigned n, int tmpl, int opt)
{
	struct buf b;
	ipfix_header(&b, seq, 1);
	uint32_t s;
	if (tmpl) {
		s = open_set(&b, 2);
		template_v4(&b, 256);
		close_set(&b, s);
		s = open_set(&b, 3);
		put16(&b, 257);
		put16(&b, 2);
		put16(&b, 1);
		put16(&b, 149);
		put16(&b, 4);
		put16(&b, 34);
		put16(&b, 4);
		close_set(&b, s);
	}
	if (opt) {
		s = open_set(&b, 257);
		put32(&b, 1);
		put32(&b, 1);
		close_set(&b, s);
	}
	s = open_set(&b, 256);
	for (unsigned i = 0; i < n; i++)
		record_v4(&b, a_src, a_dst, 1, 100);
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
}

/* softflowd numbers IPFIX messages by the data records up to and
 * including the message, options records left out; the RFC by those
 * before it.  Both are learned; losses are counted under either. */
static void ipfix_sequence_conventions(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	ipfix_records(st, 2, 2, 1, 1);
	ipfix_records(st, 5, 3, 0, 0);
	ipfix_records(st, 6, 1, 0, 1);
	ipfix_records(st, 8, 2, 0, 0);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->n[RM_EXP_LOST], 0);
	ipfix_records(st, 13, 2, 0, 0); /* 11 expected: 3 records lost */
	assert_int_equal(e->n[RM_EXP_LOST], 3);
	assert_int_equal(e->n[RM_EXP_GAPS], 1);
	rm_flow_state_free(st);

	st = state(); /* RFC 7011: records before, options included */
	ipfix_records(st, 0, 2, 1, 1);
	ipfix_records(st, 3, 3, 0, 0);
	ipfix_records(st, 6, 1, 0, 1);
	ipfix_records(st, 8, 2, 0, 0);
	e = only_exporter(st);
	assert_int_equal(e->n[RM_EXP_LOST], 0);
	ipfix_records(st, 14, 2, 0, 0); /* 10 expected */
	assert_int_equal(e->n[RM_EXP_LOST], 4);
	assert_int_equal(n_got, 10);
	rm_flow_state_free(st);
}

static void ipfix_malformed(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	ipfix_header(&b, 0, 1);
	uint32_t s = open_set(&b, 2);
	template_v4(&b, 256);
	close_set(&b, s);
	ipfix_end(&b);
	set16(&b, 2, b.n + 1); /* message length beyond the datagram */
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(only_exporter(st)->bad[RM_FLOWBAD_LENGTH], 1);
	set16(&b, 2, 8); /* below the header */
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(st->exp[0].bad[RM_FLOWBAD_LENGTH], 2);
	/* Two stray bytes after the last set. */
	put16(&b, 0);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(st->exp[0].bad[RM_FLOWBAD_SET], 1);
	/* NetFlow v9 on the IPFIX port, and a short header. */
	v9_header(&b, 0, 1);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(st->bad[RM_FLOWBAD_VERSION], 1);
	feed(st, RM_FLOW_IPFIX, b.b, 15);
	assert_int_equal(st->bad[RM_FLOWBAD_SHORT], 1);
	/* Options template whose scope count exceeds its field count. */
	ipfix_header(&b, 0, 1);
	s = open_set(&b, 3);
	put16(&b, 300);
	put16(&b, 1);
	put16(&b, 2);
	put16(&b, 149);
	put16(&b, 4);
	close_set(&b, s);
	ipfix_end(&b);
	feed(st, RM_FLOW_IPFIX, b.b, b.n);
	assert_int_equal(st->exp[0].bad[RM_FLOWBAD_TEMPLATE], 1);
	rm_flow_state_free(st);
}

/* ------------------------------------------------------------------ */
/* sFlow                                                               */

static void sflow_header(struct buf *b, uint32_t seq, unsigned samples)
{
	b->n = 0;
	put32(b, 5);
	put32(b, 1);
	put(b, exporter4, 4);
	put32(b, 3); /* sub-agent */
	put32(b, seq);
	put32(b, 5000);
	put32(b, samples);
}

/* An Ethernet frame header + IPv4 header of total length iplen. */
static void eth_ipv4(struct buf *b, const uint8_t *s, const uint8_t *d, unsigned iplen)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	put(b, macs, 12);
	put16(b, 0x0800);
	put8(b, 0x45);
	put8(b, 0);
	put16(b, iplen);
	put32(b, 0);
	put8(b, 64);
	put8(b, 6);
	put16(b, 0);
	put(b, s, 4);
	put(b, d, 4);
}

/* A raw header of an IPv4-in-IPv4 frame: the outer addresses, or under
 * --tunnels inner (st->inner) the inner ones; a tunnel that carries no IP
 * skips the sample then. */
static void sflow_tunnelled_header(void **unused)
{
	(void)unused;
	static const uint8_t in_src[4] = {203, 0, 113, 5}, in_dst[4] = {198, 51, 100, 6};
	for (int inner = 0; inner < 3; inner++) {
		struct rm_flow_state *st = state();
		st->inner = inner > 0;
		struct buf b;
		sflow_header(&b, 1, 1);
		uint32_t s = b.n;
		put32(&b, 1);
		put32(&b, 0);
		put32(&b, 1);	/* sequence */
		put32(&b, 7);	/* source id */
		put32(&b, 100); /* rate */
		for (int i = 0; i < 4; i++)
			put32(&b, 0);
		put32(&b, 1); /* records */
		put32(&b, 1); /* raw header */
		put32(&b, 16 + 56);
		put32(&b, 1);
		put32(&b, 504);
		put32(&b, 4);
		put32(&b, 54);
		uint32_t ip = b.n + 14;
		eth_ipv4(&b, a_src, a_dst, 486);
		b.b[ip + 9] = 4; /* IPv4 in IPv4 */
		eth_ipv4(&b, in_src, in_dst, 466);
		memmove(b.b + ip + 20, b.b + ip + 20 + 14, 20); /* no link layer inside */
		b.n -= 14;
		if (inner == 2)
			b.b[ip + 20] = 0x44; /* the inner header malformed: skipped */
		put16(&b, 0);
		set16(&b, s + 6, b.n - s - 8);
		feed(st, RM_FLOW_SFLOW, b.b, b.n);
		if (inner == 2) {
			assert_int_equal(n_got, 0);
			assert_int_equal(only_exporter(st)->n[RM_EXP_SAMPLES_SKIPPED], 1);
		} else {
			assert_int_equal(n_got, 1);
			assert_memory_equal(got[0].src, inner ? in_src : a_src, 4);
			assert_memory_equal(got[0].dst, inner ? in_dst : a_dst, 4);
			assert_int_equal(got[0].bytes, 100 * 500);
		}
		rm_flow_state_free(st);
	}
}

/* A flow sample of a raw header (an IPv4-in-IPv4 frame when tunnel) and an
 * extended gateway record (1003) whose next hop is of address type nh_type
 * (0: unknown, no address; 1: IPv4), src_as 65001, a path of one segment
 * ending in 65002. */
static void sflow_gateway_sample(struct buf *b, uint32_t nh_type, int tunnel)
{
	static const uint8_t in_src[4] = {203, 0, 113, 5}, in_dst[4] = {198, 51, 100, 6};
	sflow_header(b, 1, 1);
	uint32_t s = b->n;
	put32(b, 1);
	put32(b, 0);
	put32(b, 1);   /* sequence */
	put32(b, 7);   /* source id */
	put32(b, 100); /* rate */
	for (int i = 0; i < 4; i++)
		put32(b, 0);
	put32(b, 2); /* records */
	put32(b, 1); /* raw header */
	put32(b, tunnel ? 16 + 56 : 16 + 36);
	put32(b, 1);
	put32(b, 504);
	put32(b, 4);
	put32(b, tunnel ? 54 : 34);
	uint32_t ip = b->n + 14;
	eth_ipv4(b, a_src, a_dst, 486);
	if (tunnel) {
		b->b[ip + 9] = 4; /* IPv4 in IPv4 */
		eth_ipv4(b, in_src, in_dst, 466);
		memmove(b->b + ip + 20, b->b + ip + 20 + 14, 20); /* no link layer inside */
		b->n -= 14;
	}
	put16(b, 0);
	put32(b, 1003); /* extended gateway */
	uint32_t len = b->n;
	put32(b, 0);
	put32(b, nh_type);
	if (nh_type == 1)
		put(b, exporter4, 4);
	put32(b, 64999); /* the router's AS */
	put32(b, 65001); /* src_as */
	put32(b, 64998); /* src_peer_as */
	put32(b, 1);	 /* one segment */
	put32(b, 2);	 /* AS_SEQUENCE */
	put32(b, 2);
	put32(b, 64998);
	put32(b, 65002);
	put32(b, 0);   /* communities */
	put32(b, 100); /* localpref */
	set16(b, len + 2, b->n - len - 4);
	set16(b, s + 6, b->n - s - 8);
}

/* The extended gateway's AS numbers go with the sample's record, whatever
 * type of next hop it names: sFlow's address type 0 (unknown) has no
 * address bytes, and is no reason to drop the datagram.  They are the
 * router's view of the outermost packet: under --tunnels inner, where the
 * record's addresses are the innermost packet's, they are not theirs. */
static void sflow_extended_gateway(void **unused)
{
	(void)unused;
	for (int k = 0; k < 6; k++) {
		uint32_t nh = (uint32_t)k % 2;
		int tunnel = k >= 2, inner = k >= 4;
		struct rm_flow_state *st = state();
		st->inner = inner;
		struct buf b;
		sflow_gateway_sample(&b, nh, tunnel);
		feed(st, RM_FLOW_SFLOW, b.b, b.n);
		struct rm_flow_exporter *e = only_exporter(st);
		assert_int_equal(e->bad[RM_FLOWBAD_SAMPLE], 0);
		assert_int_equal(n_got, 1);
		assert_int_equal(got[0].bytes, 100 * 500);
		assert_int_equal(got[0].src_as, inner ? 0 : 65001);
		assert_int_equal(got[0].dst_as, inner ? 0 : 65002);
		rm_flow_state_free(st);
	}
}

static void sflow_flow_samples(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	sflow_header(&b, 1, 3);
	/* flow sample (1): 1 in 256, one raw header record of a 1000-byte frame
	 * (1004 with the FCS, stripped 4), the first 34 bytes + 2 padding. */
	uint32_t s = b.n;
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, 1);	/* sequence */
	put32(&b, 7);	/* source id */
	put32(&b, 256); /* rate */
	put32(&b, 0);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 1); /* records */
	put32(&b, 1); /* raw header */
	put32(&b, 16 + 36);
	put32(&b, 1);
	put32(&b, 1004);
	put32(&b, 4);
	put32(&b, 34);
	eth_ipv4(&b, a_src, a_dst, 986);
	put16(&b, 0);
	set16(&b, s + 6, b.n - s - 8);
	/* counter sample (2): skipped */
	put32(&b, 2);
	put32(&b, 8);
	put32(&b, 0);
	put32(&b, 0);
	/* expanded flow sample (3): 1 in 10, only a sampled IPv6 record (4) */
	s = b.n;
	put32(&b, 3);
	put32(&b, 0);
	put32(&b, 2);
	put32(&b, 0);
	put32(&b, 7);
	put32(&b, 10);
	for (int i = 0; i < 6; i++)
		put32(&b, 0);
	put32(&b, 1);
	put32(&b, 4);
	put32(&b, 8 + 32 + 16);
	put32(&b, 1280);
	put32(&b, 17);
	put(&b, a6_src, 16);
	put(&b, a6_dst, 16);
	for (int i = 0; i < 4; i++)
		put32(&b, 0);
	set16(&b, s + 6, b.n - s - 8);
	feed(st, RM_FLOW_SFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->kind, RM_KIND_SFLOW);
	assert_int_equal(e->domain, 3);
	assert_int_equal(e->n[RM_EXP_RECORDS], 2);
	assert_int_equal(e->n[RM_EXP_SAMPLES_SKIPPED], 1);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[0].family, 4);
	assert_memory_equal(got[0].src, a_src, 4);
	assert_int_equal(got[0].pkts, 256);
	assert_int_equal(got[0].bytes, 256 * 1000);
	assert_int_equal(got[1].family, 6);
	assert_memory_equal(got[1].dst, a6_dst, 16);
	assert_int_equal(got[1].pkts, 10);
	assert_int_equal(got[1].bytes, 12800);

	/* Malformed: the sample count beyond the datagram, a sample length
	 * beyond it, and a record length beyond its sample. */
	uint8_t saved[9000];
	uint32_t n = b.n;
	memcpy(saved, b.b, n);
	b.b[27] = 200;
	feed(st, RM_FLOW_SFLOW, b.b, n);
	assert_int_equal(e->bad[RM_FLOWBAD_LENGTH], 1);
	memcpy(b.b, saved, n);
	b.b[34] = 0x10;
	feed(st, RM_FLOW_SFLOW, b.b, n);
	assert_int_equal(e->bad[RM_FLOWBAD_SET], 1);
	memcpy(b.b, saved, n);
	b.b[28 + 8 + 32 + 6] = 0x10; /* the raw header record's length */
	feed(st, RM_FLOW_SFLOW, b.b, n);
	assert_int_equal(e->bad[RM_FLOWBAD_SAMPLE], 1);
	b.b[3] = 4; /* sFlow v4 */
	feed(st, RM_FLOW_SFLOW, b.b, n);
	assert_int_equal(st->bad[RM_FLOWBAD_VERSION], 1);
	feed(st, RM_FLOW_SFLOW, b.b, 6);
	assert_int_equal(st->bad[RM_FLOWBAD_SHORT], 1);
	assert_int_equal(e->n[RM_EXP_LOST], 0); /* the same sequence again is no gap */
	rm_flow_state_free(st);
}

/* ------------------------------------------------------------------ */
/* Limits and hostile input                                            */

static void limits(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	/* More exporters than the table holds: counted, never evicted. */
	v5_header(&b, 0, 0, 0);
	for (uint32_t i = 0; i < RM_FLOW_MAX_EXPORTERS + 10; i++) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		rm_flow_datagram(st, RM_FLOW_NETFLOW, a, 4, b.b, b.n);
	}
	assert_int_equal(st->n_exporters, RM_FLOW_MAX_EXPORTERS);
	assert_int_equal(st->exporters_full, 10);
	rm_flow_state_free(st);

	/* More templates than one exporter may have. */
	st = state();
	v9_header(&b, 0, 1);
	uint32_t s = open_set(&b, 0);
	for (unsigned id = 256; id < 256 + RM_FLOW_MAX_TEMPLATES + 5; id++)
		template_v4(&b, id);
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(e->n[RM_EXP_TEMPLATES], RM_FLOW_MAX_TEMPLATES);
	assert_int_equal(e->n[RM_EXP_TEMPLATES_FULL], 5);
	/* A template with more fields than allowed. */
	v9_header(&b, 1, 1);
	s = open_set(&b, 0);
	put16(&b, 256);
	put16(&b, RM_FLOW_MAX_FIELDS + 1);
	for (int i = 0; i <= RM_FLOW_MAX_FIELDS; i++) {
		put16(&b, 100);
		put16(&b, 1);
	}
	close_set(&b, s);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(e->bad[RM_FLOWBAD_TEMPLATE], 1);
	rm_flow_state_free(st);
}

/* A small deterministic generator, so that a failure reproduces. */
static uint64_t rng = 88172645463325252ull;
static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Mutate valid datagrams of each kind; ASan reports any read out of bounds. */
static void mutations(void **unused)
{
	(void)unused;
	struct buf base[4];
	v5_header(&base[0], 2, 0, 0);
	v5_record(&base[0], a_src, a_dst, 1, 1);
	v5_record(&base[0], a_src, a_dst, 1, 1);
	v9_header(&base[1], 0, 1);
	uint32_t s = open_set(&base[1], 0);
	template_v4(&base[1], 300);
	close_set(&base[1], s);
	s = open_set(&base[1], 300);
	record_v4(&base[1], a_src, a_dst, 5, 500);
	close_set(&base[1], s);
	ipfix_header(&base[2], 0, 1);
	s = open_set(&base[2], 2);
	put16(&base[2], 400);
	put16(&base[2], 3);
	put16(&base[2], 8);
	put16(&base[2], 4);
	put16(&base[2], 82);
	put16(&base[2], 65535);
	put16(&base[2], 12);
	put16(&base[2], 4);
	close_set(&base[2], s);
	s = open_set(&base[2], 400);
	put(&base[2], a_src, 4);
	put8(&base[2], 3);
	put(&base[2], "abc", 3);
	put(&base[2], a_dst, 4);
	close_set(&base[2], s);
	ipfix_end(&base[2]);
	sflow_header(&base[3], 1, 1);
	s = base[3].n;
	put32(&base[3], 1);
	put32(&base[3], 0);
	for (int i = 0; i < 7; i++)
		put32(&base[3], i == 2 ? 64 : 0);
	put32(&base[3], 1);
	put32(&base[3], 1);
	put32(&base[3], 16 + 36);
	put32(&base[3], 1);
	put32(&base[3], 100);
	put32(&base[3], 0);
	put32(&base[3], 34);
	eth_ipv4(&base[3], a_src, a_dst, 86);
	put16(&base[3], 0);
	set16(&base[3], s + 6, base[3].n - s - 8);
	const unsigned protos[4] = {RM_FLOW_NETFLOW, RM_FLOW_NETFLOW, RM_FLOW_IPFIX, RM_FLOW_SFLOW};
	struct rm_flow_state *st = state();
	for (int k = 0; k < 4; k++) { /* each base decodes to records as it is */
		unsigned before = n_got;
		feed(st, protos[k], base[k].b, base[k].n);
		assert_true(n_got > before);
	}
	for (int round = 0; round < 200000; round++) {
		int k = round % 4;
		uint32_t n = base[k].n;
		uint8_t *p = malloc(n); /* exact size: ASan sees the end */
		memcpy(p, base[k].b, n);
		for (unsigned m = 1 + next_random() % 4; m; m--)
			p[next_random() % n] = (uint8_t)next_random();
		uint32_t len = next_random() % 8 ? n : next_random() % (n + 1);
		rm_flow_datagram(st, protos[k], exporter4, 4, p, len);
		collect(st, NULL);
		free(p);
	}
	rm_flow_state_free(st);
}

/* ------------------------------------------------------------------ */
/* IPFIX export: what ipfix.c writes, read back by flow.c             */

static uint8_t sent[64][9216];
static uint32_t sent_len[64];
static unsigned n_sent;

static void keep_message(void *ctx, const uint8_t *msg, uint32_t len)
{
	(void)ctx;
	assert_true(n_sent < 64);
	memcpy(sent[n_sent], msg, len);
	sent_len[n_sent++] = len;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The only exporter's template id in st. */
static const struct rm_flow_template *template_by_id(const struct rm_flow_state *st, unsigned id)
{
	for (unsigned j = 0; j < st->exp[0].n_templates; j++)
		if (st->exp[0].tid[j] == id)
			return &st->pool[st->exp[0].tref[j]];
	fail_msg("no template %u", id);
	return NULL;
}

/* The strings of aggregate record k (template 260) in message msg, in
 * template order: scope, source and destination registry, source and
 * destination holder, source and destination NIR (countries skipped).
 * Walks the message's sets as a collector would; fails when there is no
 * record k. */
static void aggregate_strings(const uint8_t *msg, uint32_t len, unsigned k, char out[7][72])
{
	for (uint32_t at = 16; at + 4 <= len;) {
		uint32_t id = (uint32_t)(msg[at] << 8 | msg[at + 1]);
		uint32_t end = at + (uint32_t)(msg[at + 2] << 8 | msg[at + 3]);
		assert_true(end > at && end <= len);
		for (uint32_t p = at + 4; id == RM_IPFIX_AGGREGATE && p < end;) {
			p += 32; /* start, end, packets, octets */
			for (int i = 0; i < 7; i++) {
				if (i == 3)
					p += 4; /* the two countries */
				uint32_t n = msg[p];
				assert_true(n < 72 && p + 1 + n <= end);
				memcpy(out[i], msg + p + 1, n);
				out[i][n] = '\0';
				p += 1 + n;
			}
			if (k-- == 0)
				return;
		}
		at = end;
	}
	fail_msg("no aggregate record");
}

/* A record's two ends, encoded as the snapshot's table would hold them. */
static void set_ends(struct rm_ipfix_record *r, uint8_t buf[2][RM_IPFIX_END_MAX],
		     struct rm_ipfix_end src, struct rm_ipfix_end dst)
{
	r->end_len[0] = rm_ipfix_end_encode(&src, buf[0]);
	r->end_len[1] = rm_ipfix_end_encode(&dst, buf[1]);
	r->end[0] = buf[0];
	r->end[1] = buf[1];
}

static void ipfix_export_round_trip(void **unused)
{
	(void)unused;
	struct rm_ipfix *x = malloc(sizeof(*x));
	assert_non_null(x);
	n_sent = 0;
	rm_ipfix_init(x, RM_IPFIX_PEN_DEFAULT, 5, 1472, keep_message, NULL);
	static const uint8_t e4[4] = {198, 51, 100, 7}, e6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	struct rm_flow_meta m[120];
	for (unsigned i = 0; i < 120; i++) {
		char holder[16];
		snprintf(holder, sizeof(holder), "H%u", i);
		m[i] = (struct rm_flow_meta){.start_ms = 1700000000000ull + i,
					     .end_ms = 1700000001000ull + i,
					     .sampling = 1 + i % 3,
					     .sport = (uint16_t)(1000 + i),
					     .dport = 443,
					     .proto = 6};
		struct rm_ipfix_record r = {
		    .family = i % 3 ? 4 : 6,
		    .exp_family = i % 5 ? 4 : 6,
		    .src = i % 3 ? a_src : a6_src,
		    .dst = i % 3 ? a_dst : a6_dst,
		    .exp_addr = i % 5 ? e4 : e6,
		    .exp_domain = 77,
		    .pkts = i + 1,
		    .bytes = 100 * (i + 1),
		    .meta = &m[i],
		};
		uint8_t ends[2][RM_IPFIX_END_MAX];
		set_ends(&r, ends, (struct rm_ipfix_end){"ripencc", holder, {'D', 'E'}, ""},
			 (struct rm_ipfix_end){"apnic", "", {'J', 'P'}, "jpnic"});
		rm_ipfix_add(x, &r, 1700000002);
	}
	rm_ipfix_flush(x, 1700000002);
	assert_true(n_sent > 3);
	assert_int_equal(x->records, 120);
	/* Read back with the collector's own decoder: one exporter, one domain. */
	struct rm_flow_state *st = state();
	st->want_meta = 1;
	uint32_t seq = 0;
	for (unsigned k = 0; k < n_sent; k++) {
		const uint8_t *p = sent[k];
		assert_true(sent_len[k] <= 1472);
		assert_int_equal(p[0] << 8 | p[1], 10);
		assert_int_equal(p[2] << 8 | p[3], sent_len[k]);
		assert_int_equal((uint32_t)(p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11]), seq);
		assert_int_equal(p[15], 5);
		feed(st, RM_FLOW_IPFIX, p, sent_len[k]);
		seq = (uint32_t)n_got;
	}
	struct rm_flow_exporter *e = only_exporter(st);
	assert_int_equal(n_got, 120);
	assert_int_equal(e->n[RM_EXP_LOST], 0);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 0);
	assert_int_equal(e->n[RM_EXP_TEMPLATES], 4); /* for records; aggregates' comes with them */
	unsigned seen4 = 0;
	for (unsigned i = 0; i < 120; i++) {
		/* The batch holds each family in order; match by the packet count. */
		const struct rec *g = NULL;
		for (unsigned j = 0; j < n_got; j++)
			if (got[j].pkts == i + 1)
				g = &got[j];
		assert_non_null(g);
		seen4 += g->family == 4;
		assert_int_equal(g->family, i % 3 ? 4 : 6);
		assert_memory_equal(g->src, i % 3 ? a_src : a6_src, i % 3 ? 4 : 16);
		assert_int_equal(g->bytes, 100 * (i + 1)); /* not multiplied again */
		/* The rest as the standard template lays it out, from the record. */
		const uint8_t *f = g->meta.rec + (i % 3 ? 8 : 32);
		/* ..., source end (no NIR), destination end, samplingApplied */
		const uint8_t *t = g->meta.rec + g->meta.rec_len - 4;
		assert_int_equal(t[3], 1 + i % 3);
		assert_memory_equal(t - 16,
				    "\x00" /* the source's empty NIR, then the destination */
				    "\x05"
				    "apnic"
				    "JP\x00"
				    "\x05"
				    "jpnic",
				    16);
		assert_int_equal(f[0] << 8 | f[1], 1000 + i);
		assert_int_equal(f[2] << 8 | f[3], 443);
		assert_int_equal(f[4], 6);
		assert_int_equal(get64(f + 21), 1700000000000ull + i);
		assert_int_equal(get64(f + 29), 1700000001000ull + i);
	}
	assert_int_equal(seen4, 80);
	/* Each end's elements: registry, country, holder, NIR (ids 1, 3, 5, 9;
	 * 2, 4, 6, 10), then samplingApplied. */
	const struct rm_flow_template *t256 = template_by_id(st, RM_IPFIX_TEMPLATE);
	static const uint16_t ie[] = {
	    RM_IE_SRC_REGISTRY, RM_IE_SRC_COUNTRY,  RM_IE_SRC_HOLDER,
	    RM_IE_SRC_NIR,	RM_IE_DST_REGISTRY, RM_IE_DST_COUNTRY,
	    RM_IE_DST_HOLDER,	RM_IE_DST_NIR,	    RM_IE_SAMPLING_APPLIED};
	assert_int_equal(t256->n_fields, 11 + 9);
	for (unsigned i = 0; i < 9; i++) {
		assert_int_equal(t256->type[11 + i], 0x8000 | ie[i]);
		assert_int_equal(t256->pen[11 + i], RM_IPFIX_PEN_DEFAULT);
	}
	assert_int_equal(RM_IE_SRC_NIR, 9);
	assert_int_equal(RM_IE_DST_NIR, 10);
	/* Aggregates of scope rows: read back as records without addresses. */
	struct rm_rows rows = {0};
	struct rm_row rw[6] = {
	    {"s", "rir", "src", "ripencc", 10, 1000, 1},
	    {"s", "country", "dst", "afrinic:KE", 5, 500, 1},
	    {"s", "holder", "src", "afrinic:F364712F", 2, 200, 1},
	    {"s", "rir_pair", NULL, "ripencc>arin", 3, 300, 1},
	    {"s", "nir", "dst", "apnic:jpnic", 4, 400, 1},
	    {"s", "nir", "src", "ripencc:", 6, 600, 1},
	};
	struct rm_rows src_rows = {rw, 6, 6};
	rm_rows_append(&rows, &src_rows);
	unsigned before = n_sent;
	rm_rows_to_ipfix(&rows, x, 1700000000000ull, 1700000010000ull, 1700000010);
	rm_ipfix_flush(x, 1700000010);
	assert_int_equal(n_sent, before + 1);
	feed(st, RM_FLOW_IPFIX, sent[before], sent_len[before]);
	assert_int_equal(e->n[RM_EXP_NO_ADDRESS], 6);
	assert_int_equal(e->n[RM_EXP_LOST], 0);
	assert_int_equal(e->n[RM_EXP_TEMPLATES], 5);
	const struct rm_flow_template *t260 = template_by_id(st, RM_IPFIX_AGGREGATE);
	assert_int_equal(t260->n_fields, 4 + 9);
	assert_int_equal(t260->type[4], 0x8000 | RM_IE_SCOPE);
	assert_int_equal(t260->type[11], 0x8000 | RM_IE_SRC_NIR);
	assert_int_equal(t260->type[12], 0x8000 | RM_IE_DST_NIR);
	/* The nir rows, in the order given: each NIR with its registry, in
	 * its direction; "" under no NIR. */
	char str[7][72];
	aggregate_strings(sent[before], sent_len[before], 4, str);
	assert_string_equal(str[0], "nir");
	assert_string_equal(str[1], "");
	assert_string_equal(str[2], "apnic");
	assert_string_equal(str[5], "");
	assert_string_equal(str[6], "jpnic");
	aggregate_strings(sent[before], sent_len[before], 5, str);
	assert_string_equal(str[0], "nir");
	assert_string_equal(str[1], "ripencc");
	assert_string_equal(str[5], "");
	assert_string_equal(str[6], "");
	aggregate_strings(sent[before], sent_len[before], 2, str);
	assert_string_equal(str[0], "holder");
	assert_string_equal(str[1], "afrinic");
	assert_string_equal(str[3], "F364712F");
	/* The holder row's record: "afrinic" then "F364712F" among its strings. */
	assert_non_null(memmem(sent[before], sent_len[before],
			       "\x07"
			       "afrinic",
			       8));
	assert_non_null(memmem(sent[before], sent_len[before],
			       "\x08"
			       "F364712F",
			       9));
	assert_non_null(memmem(sent[before], sent_len[before], "KE", 2));
	rm_rows_free(&rows);
	/* A refresh puts the templates first in the next message. */
	rm_ipfix_templates(x);
	rm_ipfix_flush(x, 1700000003);
	assert_int_equal(x->template_sends, 3); /* standard, aggregate, standard */
	assert_int_equal(x->records, 126);
	assert_int_equal(sent[n_sent - 1][16] << 8 | sent[n_sent - 1][17], 2);
	rm_flow_state_free(st);
	free(x);
}

/* The exporting side of a mirrored round trip: each flushed batch goes to
 * the encoder with every source in end 0 and every destination in end 1. */
static struct rm_ipfix *mirror_x;
static struct rm_ipfix_ends mirror_ends;

static void export_flush(struct rm_flow_state *st, void *ctx)
{
	(void)ctx;
	uint32_t ids[2 * RM_FLOW_BATCH];
	for (unsigned i = 0; i < 2 * RM_FLOW_BATCH; i++)
		ids[i] = i & 1;
	rm_ipfix_add_batch(mirror_x, st, ids, ids, &mirror_ends, 1700000005);
	st->batch.n4 = st->batch.n6 = 0;
}

/* A v9 datagram: template 300 with uptime times and a vendor type (40000),
 * then three 29-byte records; the records start at *rec. */
static void v9_mirror_datagram(struct buf *b, uint32_t seq, unsigned vendor_len, uint32_t *rec)
{
	v9_header(b, seq, 3);
	uint32_t s = open_set(b, 0);
	static const uint16_t f[][2] = {{8, 4},	 {12, 4}, {2, 4}, {1, 4},
					{22, 4}, {21, 4}, {7, 2}, {40000, 3}};
	put16(b, 300);
	put16(b, 8);
	for (int i = 0; i < 8; i++) {
		put16(b, f[i][0]);
		put16(b, i == 7 ? vendor_len : f[i][1]);
	}
	close_set(b, s);
	s = open_set(b, 300);
	*rec = b->n;
	for (uint32_t i = 0; i < 3; i++) {
		record_v4(b, a_src, a_dst, 10 + i, 0); /* 4 + 4 + 4 + 8: bytes below */
		b->n -= 8;
		put32(b, 1000 * (i + 1));
		put32(b, 500 + i); /* first, last: uptime ms */
		put32(b, 900 + i);
		put16(b, 53);
		for (unsigned k = 0; k < vendor_len; k++)
			put8(b, 0xa0 + k);
	}
	close_set(b, s);
}

/* Ids cycle over the four ends of the variants test, unevenly. */
static void put_flush(struct rm_flow_state *st, void *ctx)
{
	(void)ctx;
	uint32_t ids[2 * RM_FLOW_BATCH];
	for (unsigned i = 0; i < 2 * RM_FLOW_BATCH; i++)
		ids[i] = (i * 7 + i / 3) % 4;
	rm_ipfix_add_batch(mirror_x, st, ids, ids, &mirror_ends, 1700000005);
	st->batch.n4 = st->batch.n6 = 0;
}

/*
 * The re-export loop's two builds (baseline and AVX2) write the same bytes:
 * records of 27 to 107 bytes, ends of 16 to 70 bytes (70 is beyond what
 * the loop copies and goes the slow way), a template redefined while
 * records of the old definition wait in the batch, runs of one template
 * across datagrams with different time bases, messages filled to the MTU.
 * The collector reads every record back with its counts and time base.
 */
static void ipfix_export_put_variants(void **unused)
{
	(void)unused;
	static uint8_t first[64][9216];
	static uint32_t first_len[64];
	unsigned first_n = 0;
	const struct rm_ipfix_end e[4] = {
	    {"ripencc", "holder-a", {'D', 'E'}, ""},
	    {"arin", "0123456789abcdef0123456789abcdef", {'U', 'S'}, ""},
	    {"apnic",
	     "an-operator-label-of-sixty-bytes-or-so-0123456789abcdef",
	     {'J', 'P'},
	     "jpnic"},
	    {"lacnic", "", {'B', 'R'}, "nicbr"}};
	uint8_t bytes[4 * RM_IPFIX_END_MAX + 64] = {0};
	uint64_t at[4];
	uint32_t off = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t n = rm_ipfix_end_encode(&e[i], bytes + off);
		at[i] = RM_IPFIX_END_AT(off, n);
		off += n;
	}
	assert_int_equal(at[2] & 0xff, 70);
	mirror_ends = (struct rm_ipfix_ends){at, bytes};
	mirror_x = malloc(sizeof(*mirror_x));
	assert_non_null(mirror_x);
	const rm_ipfix_put_fn fn[2] = {rm_ipfix_put_sse2, rm_ipfix_put_avx2};
	for (int v = 0; v < (__builtin_cpu_supports("avx2") ? 2 : 1); v++) {
		n_sent = 0;
		rm_ipfix_init(mirror_x, RM_IPFIX_PEN_DEFAULT, 5, 1472, keep_message, NULL);
		mirror_x->put = fn[v];
		struct rm_flow_state *a = state();
		a->want_meta = 1;
		a->flush = put_flush;
		/* Datagrams stay in memory until their records are flushed. */
		static struct buf d[23];
		uint32_t uptime[23], n_dgram = 0, rec;
		for (unsigned vl = 1; vl <= 81; vl += 5) { /* redefined each time */
			v9_mirror_datagram(&d[n_dgram], n_dgram, vl, &rec);
			uptime[n_dgram] = 1000;
			rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, d[n_dgram].b,
					 d[n_dgram].n);
			n_dgram++;
		}
		for (unsigned k = 0; k < 6; k++, n_dgram++) { /* the same, later */
			v9_mirror_datagram(&d[n_dgram], n_dgram, 20, &rec);
			uptime[n_dgram] = 1000 + 7 * k;
			d[n_dgram].b[6] = (uint8_t)(uptime[n_dgram] >> 8);
			d[n_dgram].b[7] = (uint8_t)uptime[n_dgram];
			rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, d[n_dgram].b,
					 d[n_dgram].n);
		}
		put_flush(a, NULL);
		rm_ipfix_flush(mirror_x, 1700000006);
		assert_int_equal(mirror_x->records, 3 * n_dgram);
		assert_int_equal(mirror_x->oversized, 0);
		assert_true(n_sent > 3);

		struct rm_flow_state *b = state();
		b->want_meta = 1;
		for (unsigned k = 0; k < n_sent; k++)
			feed(b, RM_FLOW_IPFIX, sent[k], sent_len[k]);
		assert_int_equal(n_got, 3 * n_dgram);
		assert_int_equal(only_exporter(b)->n[RM_EXP_NO_TEMPLATE], 0);
		for (unsigned i = 0; i < n_got; i++) {
			const struct rec *g = &got[i];
			assert_memory_equal(g->src, a_src, 4);
			assert_memory_equal(g->dst, a_dst, 4);
			assert_int_equal(g->pkts, 10 + i % 3);
			unsigned vl = i / 3 < 17 ? 1 + 5 * (i / 3) : 20;
			const uint8_t *t = g->meta.rec + 26 + vl + 8; /* after exporter, domain */
			assert_int_equal(get64(t), 1700000000000ull - uptime[i / 3]);
		}
		if (v == 0) {
			first_n = n_sent;
			memcpy(first_len, sent_len, sizeof(first_len));
			for (unsigned k = 0; k < n_sent; k++)
				memcpy(first[k], sent[k], sent_len[k]);
		} else {
			assert_int_equal(n_sent, first_n);
			for (unsigned k = 0; k < n_sent; k++) {
				assert_int_equal(sent_len[k], first_len[k]);
				assert_memory_equal(sent[k], first[k], sent_len[k]);
			}
		}
		rm_flow_state_free(a);
		rm_flow_state_free(b);
	}
	free(mirror_x);
}

/*
 * Records re-exported as received: v5, v9 (uptime times, a vendor type) and
 * IPFIX (enterprise and variable-length fields).  The collector's own
 * decoder reads every record back byte for byte, with the exporter, time
 * base, sampling interval and ends after it; the counts come out equal
 * (the interval is carried, not applied).  Templates go once, again after
 * a refresh and after a redefinition; a record longer than a message is
 * counted, not sent.
 */
static void ipfix_export_mirrored(void **unused)
{
	(void)unused;
	mirror_x = malloc(sizeof(*mirror_x));
	assert_non_null(mirror_x);
	n_sent = 0;
	rm_ipfix_init(mirror_x, RM_IPFIX_PEN_DEFAULT, 5, 1472, keep_message, NULL);
	struct rm_ipfix_end e0 = {"ripencc", "holder-a", {'D', 'E'}, ""},
			    e1 = {"apnic", "A91A7381", {'J', 'P'}, "jpnic"};
	uint64_t at[2];
	uint8_t bytes[2 * RM_IPFIX_END_MAX + 48] = {0};
	uint32_t n0 = rm_ipfix_end_encode(&e0, bytes);
	at[0] = RM_IPFIX_END_AT(0, n0);
	at[1] = RM_IPFIX_END_AT(n0, rm_ipfix_end_encode(&e1, bytes + n0));
	mirror_ends = (struct rm_ipfix_ends){at, bytes};

	struct rm_flow_state *a = state();
	a->want_meta = 1;
	a->flush = export_flush;
	struct buf in[3];
	uint32_t rec_at[3], rec_len[3] = {48, 29, 0};
	unsigned n_rec[3] = {2, 3, 2};
	v5_header(&in[0], 2, 0, 10); /* 1 in 10 */
	v5_record(&in[0], a_src, a_dst, 3, 300);
	v5_record(&in[0], a_dst, a_src, 4, 400);
	rec_at[0] = 24;
	v9_mirror_datagram(&in[1], 0, 3, &rec_at[1]);
	ipfix_variable_datagram(&in[2]);
	rec_at[2] = 16 + 4 + 32 + 4; /* header, set, template 400, set */
	rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, in[0].b, in[0].n);
	export_flush(a, NULL);
	rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, in[1].b, in[1].n);
	export_flush(a, NULL);
	rm_flow_datagram(a, RM_FLOW_IPFIX, exporter4, 4, in[2].b, in[2].n);
	export_flush(a, NULL);
	rm_ipfix_flush(mirror_x, 1700000005);
	assert_int_equal(mirror_x->records, 7);
	assert_int_equal(mirror_x->mirror_sends, 3);
	assert_int_equal(mirror_x->oversized, 0);

	struct rm_flow_state *b = state();
	b->want_meta = 1;
	for (unsigned k = 0; k < n_sent; k++)
		feed(b, RM_FLOW_IPFIX, sent[k], sent_len[k]);
	assert_int_equal(n_got, 7);
	struct rm_flow_exporter *e = only_exporter(b);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 0);
	assert_int_equal(e->n[RM_EXP_LOST], 0);
	assert_int_equal(e->n[RM_EXP_TEMPLATES], 4 + 3); /* standard ones, then mirrored */
	static const uint64_t pkts[7] = {30, 40, 10, 11, 12, 7, 1};
	static const uint64_t octets[7] = {3000, 4000, 1000, 2000, 3000, 7000, 1500};
	for (unsigned i = 0, d = 0, r = 0; i < 7; i++, r++) {
		if (r == n_rec[d]) {
			d++;
			r = 0;
		}
		const struct rec *g = &got[i];
		const uint8_t *orig = in[d].b + rec_at[d];
		uint32_t len = rec_len[d];
		if (d == 2) /* variable: the second has a 300-byte name */
			len = r == 0 ? 16 + 4 + 5 + 16 + 2 + 4 : 16 + 4 + 3 + 300 + 16 + 2 + 4;
		for (unsigned j = 0; j < r; j++)
			orig += d == 2 ? 16 + 4 + 5 + 16 + 2 + 4 : rec_len[d];
		assert_int_equal(g->pkts, pkts[i]);
		assert_int_equal(g->bytes, octets[i]);
		assert_memory_equal(g->meta.rec, orig, len);
		const uint8_t *t = g->meta.rec + len;
		assert_memory_equal(t, exporter4, 4);
		assert_int_equal(t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7], d == 0   ? 7
									     : d == 1 ? 3
										      : 9);
		t += 8;
		if (d < 2) { /* systemInitTimeMilliseconds: the headers' clock less uptime */
			assert_int_equal(get64(t), 1700000000000ull - 1000);
			t += 8;
		}
		assert_int_equal(t[3], d == 0 ? 10 : 1); /* samplingInterval */
		uint32_t both = (uint32_t)(at[1] >> 8) + (at[1] & 0xff);
		assert_memory_equal(t + 4, bytes, both);
		assert_int_equal(g->meta.rec_len, len + (t + 4 + both - (g->meta.rec + len)));
	}
	/* The v9 vendor type goes as paddingOctets; the rest as received. */
	const struct rm_flow_template *v9 = template_by_id(b, RM_IPFIX_MIRROR + a->exp[1].tref[0]);
	assert_int_equal(template_by_id(b, RM_IPFIX_MIRROR + RM_META_V5)->n_fields, 20 + 12);
	assert_int_equal(v9->type[4], 22);
	assert_int_equal(v9->type[7], 210);
	assert_int_equal(v9->flen[7], 3);
	assert_int_equal(v9->type[8], 130);
	assert_int_equal(v9->type[10], 160);
	assert_int_equal(v9->type[11], 34);
	assert_int_equal(v9->type[12], 0x8000 | RM_IE_SRC_REGISTRY);
	assert_int_equal(v9->pen[12], RM_IPFIX_PEN_DEFAULT);
	assert_int_equal(v9->type[15], 0x8000 | RM_IE_SRC_NIR);
	assert_int_equal(v9->type[19], 0x8000 | RM_IE_DST_NIR);
	assert_int_equal(v9->pen[19], RM_IPFIX_PEN_DEFAULT);
	assert_int_equal(v9->n_fields, 20);
	const struct rm_flow_template *fix = template_by_id(b, RM_IPFIX_MIRROR + a->exp[2].tref[0]);
	assert_int_equal(fix->type[1], 0x8000 | 12);
	assert_int_equal(fix->pen[1], 12345);
	assert_int_equal(fix->flen[2], 65535);

	/* Announced once: the same again needs no template; a refresh or a
	 * redefinition (the vendor field grows) announces it again. */
	rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, in[1].b, in[1].n);
	export_flush(a, NULL);
	assert_int_equal(mirror_x->mirror_sends, 3);
	rm_ipfix_templates(mirror_x);
	rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, in[1].b, in[1].n);
	export_flush(a, NULL);
	assert_int_equal(mirror_x->mirror_sends, 4);
	struct buf v9b;
	v9_mirror_datagram(&v9b, 1, 5, &rec_at[1]);
	rm_flow_datagram(a, RM_FLOW_NETFLOW, exporter4, 4, v9b.b, v9b.n);
	export_flush(a, NULL);
	assert_int_equal(mirror_x->mirror_sends, 5);
	rm_ipfix_flush(mirror_x, 1700000006);
	unsigned before = n_got;
	for (unsigned k = 0; k < n_sent; k++)
		feed(b, RM_FLOW_IPFIX, sent[k], sent_len[k]);
	assert_int_equal(n_got - before, 7 + 9);
	assert_int_equal(only_exporter(b)->n[RM_EXP_NO_TEMPLATE], 0);
	assert_int_equal(template_by_id(b, RM_IPFIX_MIRROR + a->exp[1].tref[0])->flen[7], 5);

	/* The smallest MTU: the 343-byte record and its template fit one
	 * message each; a name of 600 bytes does not fit any: counted. */
	rm_ipfix_init(mirror_x, RM_IPFIX_PEN_DEFAULT, 5, 576 - 28, keep_message, NULL);
	n_sent = 0;
	rm_flow_datagram(a, RM_FLOW_IPFIX, exporter4, 4, in[2].b, in[2].n);
	export_flush(a, NULL);
	assert_int_equal(mirror_x->oversized, 0);
	struct buf big = in[2];
	uint32_t name = rec_at[2] + 16 + 4 + 5 + 16 + 2 + 4 + 16 + 4 + 1;
	set16(&big, name, 600); /* the second record's name, 300 more bytes after it */
	memmove(big.b + name + 2 + 600, big.b + name + 2 + 300, big.n - (name + 2 + 300));
	memset(big.b + name + 2 + 300, 'y', 300);
	big.n += 300;
	set16(&big, rec_at[2] - 2, big.n - (rec_at[2] - 4));
	ipfix_end(&big);
	rm_flow_datagram(a, RM_FLOW_IPFIX, exporter4, 4, big.b, big.n);
	export_flush(a, NULL);
	rm_ipfix_flush(mirror_x, 1700000007);
	assert_int_equal(mirror_x->oversized, 1);
	assert_int_equal(mirror_x->records, 3);
	for (unsigned k = 0; k < n_sent; k++)
		assert_true(sent_len[k] <= 576 - 28);
	rm_flow_state_free(a);
	rm_flow_state_free(b);
	free(mirror_x);
}

/* The smallest MTU: templates (the standard ones, and the aggregate one)
 * and the largest record never share a message that would not fit. */
static void ipfix_export_small_mtu(void **unused)
{
	(void)unused;
	struct rm_ipfix *x = malloc(sizeof(*x));
	assert_non_null(x);
	n_sent = 0;
	rm_ipfix_init(x, RM_IPFIX_PEN_DEFAULT, 1, 576 - 28, keep_message, NULL);
	char label[200];
	memset(label, 'x', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	struct rm_flow_meta m = {.sampling = 1};
	struct rm_ipfix_record r = {.family = 6,
				    .exp_family = 6,
				    .src = a6_src,
				    .dst = a6_dst,
				    .exp_addr = a6_src,
				    .meta = &m};
	uint8_t ends[2][RM_IPFIX_END_MAX];
	set_ends(&r, ends, (struct rm_ipfix_end){"ripencc", label, {'D', 'E'}, ""},
		 (struct rm_ipfix_end){"unknown", label, {0, 0}, label});
	for (int i = 0; i < 20; i++) {
		if (i == 10)
			rm_ipfix_templates(x);
		rm_ipfix_add(x, &r, 1);
	}
	/* Aggregates as the main lcore sends them: templates first, the
	 * largest aggregate (every string at its longest) after them. */
	rm_ipfix_templates(x);
	for (int i = 0; i < 3; i++) {
		struct rm_ipfix_aggregate a = {
		    label, {{label, label, {'D', 'E'}, label}, {label, label, {'J', 'P'}, label}}};
		rm_ipfix_add_aggregate(x, &a, 1);
	}
	rm_ipfix_flush(x, 1);
	for (unsigned k = 0; k < n_sent; k++)
		assert_true(sent_len[k] <= 576 - 28);
	assert_int_equal(x->records, 23);
	assert_int_equal(x->template_sends, 4); /* standard twice, standard and aggregate */
	free(x);
}

/* A holder longer than an IPFIX string takes is cut between characters:
 * IPFIX strings are UTF-8. */
static void ipfix_strings_cut_between_characters(void **unused)
{
	(void)unused;
	char holder[128] = "local:x";
	for (int i = 0; i < 40; i++)
		strcat(holder, "\xc3\xa9"); /* 7 + 80 bytes; byte 64 is inside one */
	const struct rm_ipfix_end e = {"ripencc", holder, {'D', 'E'}, ""};
	uint8_t out[RM_IPFIX_END_MAX];
	uint32_t n = rm_ipfix_end_encode(&e, out);
	/* [7]"ripencc" "DE" [len]holder [0]: no NIR */
	assert_int_equal(out[1 + 7 + 2], 63);
	assert_int_equal(n, 1 + 7 + 2 + 1 + 63 + 1);
	assert_memory_equal(out + 11, holder, 63);
	assert_int_equal(out[n - 1], 0);
	/* Every NIR's name goes out whole: none is cut. */
	for (unsigned nir = 0; nir < RM_NIR_COUNT; nir++)
		assert_true(strlen(rm_nir_name(nir)) <= RM_IPFIX_MAX_NIR);
}

static void config(void **unused)
{
	(void)unused;
	struct rm_flow_config c;
	char err[256];
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	    rm_flow_config_parse(&c, "netflow:2055,ipfix:4739,sflow:6343", err, sizeof(err)), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(rm_flow_port(&c, 4739), RM_FLOW_IPFIX);
	assert_int_equal(rm_flow_port(&c, 80), -1);
	const char *bad[] = {"netflow",
			     "nf:1",
			     "netflow:0",
			     "netflow:70000",
			     "ipfix:1,ipfix:1",
			     "sflow:12x",
			     "",
			     "netflow:+2055",
			     "netflow: 2055",
			     "netflow:2055.0",
			     "netflow:",
			     "netflow:-1",
			     "netflow:99999999999999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(rm_flow_config_parse(&c, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--flows"));
	}
}

/* ------------------------------------------------------------------ */
/* Ageing, eviction and the allow-list (issue #26)                     */

/* A v9 datagram of template 300 and one record, sequence seq. */
static void v9_template_record(struct buf *b, uint32_t seq)
{
	v9_header(b, seq, 0);
	uint32_t s = open_set(b, 0);
	template_v4(b, 300);
	close_set(b, s);
	s = open_set(b, 300);
	record_v4(b, a_src, a_dst, 1, 100);
	close_set(b, s);
}

/* A v9 datagram of one record of template 300 (no template). */
static void v9_record_only(struct buf *b, uint32_t seq)
{
	v9_header(b, seq, 0);
	uint32_t s = open_set(b, 300);
	record_v4(b, a_src, a_dst, 1, 100);
	close_set(b, s);
}

static void flood_source(uint32_t i, uint8_t a[4])
{
	a[0] = 10;
	a[1] = (uint8_t)(i >> 16);
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
}

/* Sum of counter k over every slot, live and released (what the health
 * rows add up to), read as the main lcore does. */
static uint64_t slot_sum(const struct rm_flow_state *st, unsigned k)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < RM_FLOW_MAX_EXPORTERS; i++) {
		struct rm_flow_exporter_view v;
		rm_flow_exporter_read(&st->exp[i], &v);
		sum += v.gone_n[k] + (v.used ? v.n[k] : 0);
	}
	return sum;
}

static void ageing_frees_slots(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	rm_flow_set_idle(st, 10 * 1000);
	v5_header(&b, 0, 0, 0);
	rm_flow_age(st, 1000);
	for (uint32_t i = 0; i < RM_FLOW_MAX_EXPORTERS + 10; i++) {
		uint8_t a[4];
		flood_source(i, a);
		rm_flow_datagram(st, RM_FLOW_NETFLOW, a, 4, b.b, b.n);
	}
	assert_int_equal(st->exporters_full, 10);
	/* Not yet idle: nothing goes. */
	rm_flow_age(st, 1000 + 9999);
	assert_int_equal(st->aged, 0);
	/* Idle: a few a call, bounded, until all are gone. */
	rm_flow_age(st, 1000 + 10000);
	assert_true(st->aged > 0 && st->aged <= 8);
	for (int k = 0; k < 1000 && st->aged < RM_FLOW_MAX_EXPORTERS; k++)
		rm_flow_age(st, 1000 + 10000);
	assert_int_equal(st->aged, RM_FLOW_MAX_EXPORTERS);
	assert_int_equal(st->n_free, RM_FLOW_MAX_EXPORTERS);
	/* Their counters stay in the slots' sums: totals never go back. */
	assert_int_equal(slot_sum(st, RM_EXP_DATAGRAMS), RM_FLOW_MAX_EXPORTERS);
	/* New exporters take the slots; each is found again afterwards (the
	 * hash, emptied by deletions, still holds every one). */
	for (uint32_t i = 0; i < RM_FLOW_MAX_EXPORTERS; i++) {
		uint8_t a[4];
		flood_source(i + 100000, a);
		rm_flow_datagram(st, RM_FLOW_NETFLOW, a, 4, b.b, b.n);
	}
	assert_int_equal(st->exporters_full, 10);
	assert_int_equal(st->n_exporters, RM_FLOW_MAX_EXPORTERS);
	for (uint32_t i = 0; i < RM_FLOW_MAX_EXPORTERS; i++) {
		uint8_t a[4];
		flood_source(i + 100000, a);
		struct rm_flow_exporter *e = rm_flow_exporter(st, RM_KIND_NETFLOW5, a, 4, 7);
		assert_non_null(e);
		assert_int_equal(e->n[RM_EXP_DATAGRAMS], 1);
	}
	assert_int_equal(slot_sum(st, RM_EXP_DATAGRAMS), 2 * RM_FLOW_MAX_EXPORTERS);
	rm_flow_state_free(st);
}

static void exporter_survives_flood(void **unused)
{
	(void)unused;
	struct rm_flow_state *st = state();
	struct buf b;
	uint64_t t = 5000;
	rm_flow_age(st, t);
	/* The real exporter: a template and records, then more: established. */
	v9_template_record(&b, 0);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	v9_record_only(&b, 1);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 2);
	/* A flood of one-datagram sources with valid v9 headers, the clock
	 * moving 1 ms a datagram: once the table is full, newcomers evict
	 * only probationary sources silent for the minimum age. */
	v9_header(&b, 0, 0);
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t a[4];
		flood_source(i, a);
		rm_flow_age(st, ++t);
		rm_flow_datagram(st, RM_FLOW_NETFLOW, a, 4, b.b, b.n);
	}
	assert_true(st->evicted > 0);
	assert_true(st->exporters_full > 0);
	assert_int_equal(st->evicted + st->exporters_full + RM_FLOW_MAX_EXPORTERS - 1, 100000);
	/* The real exporter kept its slot and its template: records still
	 * decode, none missed for want of a template. */
	n_got = 0;
	v9_record_only(&b, 2);
	feed(st, RM_FLOW_NETFLOW, b.b, b.n);
	assert_int_equal(n_got, 1);
	struct rm_flow_exporter *e = rm_flow_exporter(st, RM_KIND_NETFLOW9, exporter4, 4, 0);
	assert_non_null(e);
	assert_int_equal(e->n[RM_EXP_NO_TEMPLATE], 0);
	assert_int_equal(e->n[RM_EXP_RECORDS], 3);
	/* After the flood stops, a new exporter is accepted once the
	 * probationary sources have been silent for the minimum age. */
	static const uint8_t late[4] = {198, 51, 100, 7};
	v9_template_record(&b, 0);
	uint64_t full = st->exporters_full;
	rm_flow_datagram(st, RM_FLOW_NETFLOW, late, 4, b.b, b.n);
	collect(st, NULL);
	assert_int_equal(st->exporters_full, full + 1); /* the flood is too recent */
	rm_flow_age(st, t + RM_FLOW_MIN_AGE_MS);
	n_got = 0;
	rm_flow_datagram(st, RM_FLOW_NETFLOW, late, 4, b.b, b.n);
	collect(st, NULL);
	assert_int_equal(n_got, 1);
	assert_int_equal(st->exporters_full, full + 1);
	/* The real exporter ages only when it falls silent for idle_ms. */
	rm_flow_age(st, t + RM_FLOW_IDLE_MS + 1);
	for (int k = 0; k < 2000; k++)
		rm_flow_age(st, t + RM_FLOW_IDLE_MS + 1);
	assert_int_equal(e->used, 0);
	assert_int_equal(st->n_free, RM_FLOW_MAX_EXPORTERS - 1); /* the late one stays */
	rm_flow_state_free(st);
}

static void allow_list(void **unused)
{
	(void)unused;
	char err[256];
	struct rm_flow_allow *a =
	    rm_flow_allow_parse("192.0.2.0/24,2001:db8::/32,198.51.100.7", err, sizeof(err));
	assert_non_null(a);
	static const uint8_t in4[4] = {192, 0, 2, 200}, out4[4] = {192, 0, 3, 1};
	static const uint8_t host[4] = {198, 51, 100, 7}, near[4] = {198, 51, 100, 6};
	static const uint8_t in6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 1};
	static const uint8_t out6[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 1};
	assert_true(rm_flow_allowed(a, in4, 4));
	assert_true(rm_flow_allowed(a, host, 4));
	assert_false(rm_flow_allowed(a, out4, 4));
	assert_false(rm_flow_allowed(a, near, 4));
	assert_true(rm_flow_allowed(a, in6, 6));
	assert_false(rm_flow_allowed(a, out6, 6));
	/* Datagrams from outside are counted and leave no exporter behind. */
	struct rm_flow_state *st = state();
	st->allow = a;
	struct buf b;
	v9_template_record(&b, 0);
	for (int i = 0; i < 3; i++)
		rm_flow_datagram(st, RM_FLOW_NETFLOW, out4, 4, b.b, b.n);
	rm_flow_datagram(st, RM_FLOW_SFLOW, out6, 6, b.b, b.n);
	assert_int_equal(st->denied, 4);
	assert_int_equal(st->n_exporters, 0);
	struct rm_flow_denied_src top[RM_FLOW_DENIED_TOP];
	assert_int_equal(rm_flow_denied_read(st, top), 0);
	int seen = 0;
	for (int i = 0; i < RM_FLOW_DENIED_TOP; i++)
		if (top[i].count == 3 && top[i].family == 4 && memcmp(top[i].addr, out4, 4) == 0)
			seen = 1;
	assert_true(seen);
	rm_flow_datagram(st, RM_FLOW_NETFLOW, in4, 4, b.b, b.n);
	collect(st, NULL);
	assert_int_equal(st->n_exporters, 1);
	assert_int_equal(n_got, 1);
	/* Health rows: denied and its top source. */
	struct rm_rows rs = {0};
	struct rm_flow_state *one[1] = {st};
	rm_flow_rows(one, 1, "s", &rs);
	int denied = 0, from = 0;
	for (uint32_t i = 0; i < rs.n; i++) {
		denied |= strcmp(rs.v[i].key, "flow/denied") == 0 && rs.v[i].packets == 4;
		from |=
		    strcmp(rs.v[i].key, "flow/denied_from/192.0.3.1") == 0 && rs.v[i].packets == 3;
	}
	assert_true(denied && from);
	rm_rows_free(&rs);
	rm_flow_state_free(st);
	free(a);

	/* Bad prefixes: the reason, named. */
	static const char *const bad[][2] = {
	    {"10.0.0.1/33", "prefix length"},	 {"10.0.0.1/8", "host bits"},
	    {"nonsense", "not an IPv4"},	 {"10.0.0.0/8,,10.1.0.0/16", "is not a prefix"},
	    {"2001:db8::/129", "prefix length"}, {"10.0.0.0/ 8", "prefix length"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(rm_flow_allow_parse(bad[i][0], err, sizeof(err)));
		assert_non_null(strstr(err, bad[i][1]));
		assert_non_null(strstr(err, "--flows-allow: "));
	}
	/* A file: comments, blank lines; a bad line is FILE:LINE: reason. */
	char path[] = "/tmp/rm-allow-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# exporters\n\n192.0.2.0/24  # the lab\n  2001:db8::/32\n198.51.100.7# no space\n",
	      f);
	fclose(f);
	char spec[64];
	snprintf(spec, sizeof(spec), "@%s", path);
	a = rm_flow_allow_parse(spec, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(a->n, 3);
	assert_true(rm_flow_allowed(a, in6, 6));
	free(a);
	f = fopen(path, "w");
	fputs("192.0.2.0/24\n# fine\n192.0.2.1/24\n", f);
	fclose(f);
	assert_null(rm_flow_allow_parse(spec, err, sizeof(err)));
	char want[128];
	snprintf(want, sizeof(want), "%s:3: host bits", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	snprintf(spec, sizeof(spec), "@%s", path);
	assert_null(rm_flow_allow_parse(spec, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(netflow5_records_sampling_sequence),
	    cmocka_unit_test(netflow5_malformed),
	    cmocka_unit_test(ipv6_exporters),
	    cmocka_unit_test(netflow9_template_data_and_order),
	    cmocka_unit_test(netflow9_options_sampling),
	    cmocka_unit_test(netflow9_counts_overflow),
	    cmocka_unit_test(netflow9_malformed),
	    cmocka_unit_test(ipfix_variable_enterprise_ipv6),
	    cmocka_unit_test(ipfix_withdrawal_sequence_options),
	    cmocka_unit_test(ipfix_sequence_conventions),
	    cmocka_unit_test(ipfix_malformed),
	    cmocka_unit_test(sflow_flow_samples),
	    cmocka_unit_test(sflow_tunnelled_header),
	    cmocka_unit_test(sflow_extended_gateway),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(ageing_frees_slots),
	    cmocka_unit_test(exporter_survives_flood),
	    cmocka_unit_test(allow_list),
	    cmocka_unit_test(mutations),
	    cmocka_unit_test(ipfix_export_round_trip),
	    cmocka_unit_test(ipfix_export_mirrored),
	    cmocka_unit_test(ipfix_export_put_variants),
	    cmocka_unit_test(ipfix_export_small_mtu),
	    cmocka_unit_test(ipfix_strings_cut_between_characters),
	    cmocka_unit_test(config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
