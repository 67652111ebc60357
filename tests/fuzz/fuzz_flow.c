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
 * the datagram (checked by the flush).
 */
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"

#define SEP "\xf1RM\xf2"

static void flush(struct rm_flow_state *st, void *ctx)
{
	(void)ctx;
	st->batch.n4 = st->batch.n6 = 0;
}

static void decode(struct rm_flow_state *st, const uint8_t *p, size_t len, unsigned k)
{
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, p, len);
	/* Exporters over both families; alternate between two sources. */
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
	if (!st && !(st = rm_flow_state_new()))
		abort();
	rm_flow_state_reset(st);
	st->flush = flush;
	/* Half the inputs also read what re-export needs (ports, times). */
	st->want_meta = size & 1;
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
	return 0;
}
