/*
 * fuzz_flow.c - libFuzzer harness for one flow decoder, built once per
 * protocol (FUZZ_PROTO: RM_FLOW_NETFLOW for v5 and v9, RM_FLOW_IPFIX,
 * RM_FLOW_SFLOW).
 *
 * An input is a sequence of datagrams separated by the 4 bytes "\xf1RM\xf2"
 * (a separator rather than length prefixes, so that mutations keep the
 * boundaries), decoded in order by one fresh exporter state: templates of
 * an early datagram describe the records of a later one.  Each datagram is
 * copied into a heap block of exactly its length, so that AddressSanitizer
 * sees a read past its end.  Every record must carry addresses from inside
 * the datagram; half the inputs are also re-exported as enriched IPFIX, the
 * records as received (checked by the flush to lie inside the datagram).
 *
 * Ageing and the allow-list too: the worker's clock advances per datagram
 * by an amount taken from the input, with a one-second --flows-idle, and
 * datagrams come from a handful of sources chosen by the input, so that
 * exporters are created, aged, evicted and their slots reused between
 * datagrams (and between a batch's records and its flush); a quarter of the
 * inputs run behind an allow-list that denies some of those sources.
 */
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "ipfix.h"

#define SEP "\xf1RM\xf2"

/* The datagram being decoded: re-exported records must lie inside it. */
static const uint8_t *dgram;
static size_t dgram_len;
static struct rm_ipfix *enc;

static void sent(void *ctx, const uint8_t *msg, uint32_t len)
{
	(void)ctx;
	if (len > enc->max || len < 16 || (uint32_t)(msg[2] << 8 | msg[3]) != len)
		abort();
}

static void check_records(const struct rm_flow_batch *b, int family, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rm_flow_meta m;
		rm_flow_batch_meta(b, family, i, &m);
		if (m.tmpl != RM_META_SFLOW &&
		    (m.rec < dgram || m.rec + m.rec_len > dgram + dgram_len))
			abort();
	}
}

/* With want_meta, every record is also re-exported as enriched IPFIX (the
 * encoder writes what the decoder accepted, in messages within its MTU). */
static void flush(struct rm_flow_state *st, void *ctx)
{
	(void)ctx;
	struct rm_flow_batch *b = &st->batch;
	if (st->want_meta) {
		static uint64_t at[2] = {RM_IPFIX_END_AT(0, 12), RM_IPFIX_END_AT(12, 25)};
		static uint32_t ids[2 * RM_FLOW_BATCH];
		static uint8_t bytes[37 + 48] = "\x07ripencc"
						"DE\x00\x00"
						"\x05"
						"apnic"
						"JP\x0aholder-xyz\x05"
						"jpnic";
		static const struct rm_ipfix_ends ends = {at, bytes};
		for (unsigned i = 0; i < 2 * RM_FLOW_BATCH; i++)
			ids[i] = i & 1;
		check_records(b, 4, b->n4);
		check_records(b, 6, b->n6);
		rm_ipfix_add_batch(enc, st, ids, ids, &ends, 1700000000);
	}
	b->n4 = b->n6 = 0;
}

static void decode(struct rm_flow_state *st, const uint8_t *p, size_t len, unsigned k)
{
	uint8_t v4[4] = {192, 0, 2, 1};
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, p, len);
	dgram = copy;
	dgram_len = len;
	/* The last byte picks the source (one of 8 per family) and how far
	 * the clock moves: 0 to 2.5 s, across the idle time and the minimum
	 * age of eviction. */
	uint8_t last = len ? p[len - 1] : 0;
	v4[3] = v6[15] = (uint8_t)(1 + (last & 7));
	rm_flow_age(st, st->clock_ms + (uint64_t)(last >> 3) * 80);
	/* Exporters over both families; alternate between them. */
	if (k & 1)
		rm_flow_datagram(st, FUZZ_PROTO, v6, 6, copy, (uint32_t)len);
	else
		rm_flow_datagram(st, FUZZ_PROTO, v4, 4, copy, (uint32_t)len);
	flush(st, NULL);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rm_flow_state *st;
	static struct rm_flow_allow *allow;
	char err[128];
	if (!st && !(st = rm_flow_state_new()))
		abort();
	/* Sources .1-.4 of each family allowed, .5-.8 denied. */
	if (!allow && !(allow = rm_flow_allow_parse("192.0.2.0/30,192.0.2.4/32,2001:db8::/126,"
						    "2001:db8::4",
						    err, sizeof(err))))
		abort();
	if (!enc && !(enc = malloc(sizeof(*enc))))
		abort();
	rm_flow_state_reset(st);
	rm_flow_set_idle(st, 1000);
	st->allow = (size & 12) == 12 ? allow : NULL;
	/* Either MTU: the smallest allowed, or an Ethernet one. */
	rm_ipfix_init(enc, RM_IPFIX_PEN_DEFAULT, 1, size & 2 ? 548 : 1472, sent, NULL);
	st->flush = flush;
	/* Half the inputs are re-exported too. */
	st->want_meta = size & 1;
	/* Half of them read sFlow headers through their tunnels (--tunnels inner). */
	st->inner = size & 16;
	st->now_ms = 1700000000000ull;
	unsigned k = 0;
	while (size > 0) {
		const uint8_t *end = memmem(data, size, SEP, 4);
		size_t n = end ? (size_t)(end - data) : size;
		decode(st, data, n, k++);
		if (!end)
			break;
		size -= n + 4;
		data += n + 4;
	}
	rm_ipfix_flush(enc, 1700000000);
	return 0;
}
