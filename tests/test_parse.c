/*
 * test_parse.c - the frame parser, case by case, without DPDK.
 */
#include "parse.h"
#include "helpers.h"

struct frame {
	uint8_t b[256];
	uint32_t n;
};

static void put(struct frame *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(f, b, 2);
}

static void eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	f->n = 0;
	put(f, macs, 12);
	put16(f, type);
}

static void tag(struct frame *f, uint16_t tpid, uint16_t next)
{
	/* Rewrite the EtherType just written as the tag's TPID. */
	f->n -= 2;
	put16(f, tpid);
	put16(f, 100);
	put16(f, next);
}

static void ipv4(struct frame *f, uint8_t vihl, uint16_t total, uint32_t payload)
{
	uint8_t h[20] = {vihl,
			 0,
			 (uint8_t)(total >> 8),
			 (uint8_t)total,
			 0,
			 0,
			 0,
			 0,
			 64,
			 17,
			 0,
			 0,
			 10,
			 1,
			 2,
			 3,
			 192,
			 0,
			 2,
			 7};
	put(f, h, 20);
	for (uint32_t i = 20; i < ((vihl & 15u) * 4u) && i < 60; i++)
		put(f, "\x01", 1); /* options: NOP */
	for (uint32_t i = 0; i < payload; i++)
		put(f, "\0", 1);
}

static void ipv6(struct frame *f, uint8_t ver, uint16_t plen, uint32_t payload)
{
	uint8_t h[40] = {(uint8_t)(ver << 4), 0, 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 17, 64};
	h[8] = 0x20;
	h[9] = 0x01;
	h[39] = 1;
	put(f, h, 40);
	for (uint32_t i = 0; i < payload; i++)
		put(f, "\0", 1);
}

static struct rm_frame parse(const struct frame *f)
{
	struct rm_frame r = {0}; /* a malformed frame leaves the addresses unset */
	rm_parse_frame(f->b, f->n, f->n, &r);
	return r;
}

static void plain_and_tagged(void **state)
{
	(void)state;
	struct frame f;
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};
	for (int tags = 0; tags <= 8; tags++) {
		eth(&f, 0x0800);
		for (int k = 0; k < tags; k++)
			tag(&f, tpids[k % 3], 0x0800);
		ipv4(&f, 0x45, 28, 8);
		struct rm_frame r = parse(&f);
		assert_int_equal(r.cls, RM_FRAME_IPV4);
		assert_int_equal(r.l3_off, 14 + 4 * tags);
		assert_memory_equal(r.src, "\x0a\x01\x02\x03", 4);
		assert_memory_equal(r.dst, "\xc0\x00\x02\x07", 4);
	}
	eth(&f, 0x0800);
	for (int k = 0; k < 9; k++)
		tag(&f, 0x8100, 0x0800);
	ipv4(&f, 0x45, 28, 8);
	struct rm_frame r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_MALFORMED);
	assert_int_equal(r.reason, RM_BAD_TOO_MANY_TAGS);
}

static void ipv4_options_fragments_padding(void **state)
{
	(void)state;
	struct frame f;
	eth(&f, 0x0800);
	ipv4(&f, 0x4f, 60 + 8, 8); /* IHL 15: 40 bytes of options */
	struct rm_frame r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_IPV4);
	assert_memory_equal(r.src, "\x0a\x01\x02\x03", 4);
	eth(&f, 0x0800);
	ipv4(&f, 0x45, 20, 26); /* Ethernet padding after a short datagram */
	assert_int_equal(parse(&f).cls, RM_FRAME_IPV4);
	eth(&f, 0x0800);
	ipv4(&f, 0x45, 28, 8);
	f.b[14 + 6] = 0x20; /* more fragments: still counted */
	assert_int_equal(parse(&f).cls, RM_FRAME_IPV4);
}

static void ipv6_and_mpls(void **state)
{
	(void)state;
	struct frame f;
	eth(&f, 0x86dd);
	ipv6(&f, 6, 8, 8);
	struct rm_frame r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_IPV6);
	assert_int_equal(r.src[0], 0x20);
	assert_int_equal(r.dst[15], 1);
	/* MPLS: three labels, then IPv6 by its first nibble. */
	eth(&f, 0x8847);
	put(&f, "\x00\x01\x00\x40\x00\x02\x00\x40\x00\x03\x01\x40", 12);
	ipv6(&f, 6, 0, 0);
	r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_IPV6);
	assert_int_equal(r.l3_off, 26);
	/* MPLS carrying Ethernet (pseudowire control word 0): not IP. */
	eth(&f, 0x8848);
	put(&f, "\x00\x01\x01\x40\x00\x00\x00\x00", 8);
	assert_int_equal(parse(&f).cls, RM_FRAME_NON_IP);
	eth(&f, 0x0806);
	put(&f, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(parse(&f).cls, RM_FRAME_NON_IP);
}

static void each_malformed_reason(void **state)
{
	(void)state;
	struct frame f;
	struct rm_frame r;

	eth(&f, 0x0800);
	f.n = 10;
	r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_MALFORMED);
	assert_int_equal(r.reason, RM_BAD_TRUNCATED);

	eth(&f, 0x0800);
	ipv4(&f, 0x45, 28, 8);
	f.n = 14 + 12;
	r = parse(&f);
	assert_int_equal(r.cls, RM_FRAME_MALFORMED);
	assert_int_equal(r.reason, RM_BAD_TRUNCATED);

	eth(&f, 0x0800);
	ipv4(&f, 0x44, 28, 8);
	assert_int_equal(parse(&f).reason, RM_BAD_IPV4_IHL);

	eth(&f, 0x0800);
	ipv4(&f, 0x45, 1500, 8);
	assert_int_equal(parse(&f).reason, RM_BAD_IPV4_LENGTH);

	eth(&f, 0x0800);
	ipv4(&f, 0x45, 12, 8); /* total below the header */
	assert_int_equal(parse(&f).reason, RM_BAD_IPV4_LENGTH);

	eth(&f, 0x0800);
	ipv4(&f, 0x65, 28, 8);
	assert_int_equal(parse(&f).reason, RM_BAD_IP_VERSION);

	eth(&f, 0x86dd);
	ipv6(&f, 4, 8, 8);
	assert_int_equal(parse(&f).reason, RM_BAD_IP_VERSION);

	eth(&f, 0x86dd);
	ipv6(&f, 6, 100, 8);
	assert_int_equal(parse(&f).reason, RM_BAD_IPV6_LENGTH);

	eth(&f, 0x86dd);
	ipv6(&f, 6, 8, 8);
	f.n = 14 + 39;
	assert_int_equal(parse(&f).reason, RM_BAD_TRUNCATED);

	eth(&f, 0x8100);
	f.n = 16; /* a tag cut in half */
	assert_int_equal(parse(&f).reason, RM_BAD_TRUNCATED);

	eth(&f, 0x8847);
	put(&f, "\x00\x01\x00\x40", 4); /* no bottom of stack */
	assert_int_equal(parse(&f).reason, RM_BAD_TRUNCATED);
}

static void headers_only_in_first_segment(void **state)
{
	(void)state;
	/* The IP length is checked against the whole frame, the headers
	 * against what is present. */
	struct frame f;
	struct rm_frame r;
	eth(&f, 0x0800);
	ipv4(&f, 0x45, 1000, 8);
	rm_parse_frame(f.b, f.n, 14 + 1000, &r);
	assert_int_equal(r.cls, RM_FRAME_IPV4);
	rm_parse_frame(f.b, 20, 14 + 1000, &r);
	assert_int_equal(r.reason, RM_BAD_TRUNCATED);
	for (unsigned k = 0; k < RM_BAD_COUNT; k++)
		assert_string_not_equal(rm_malformed_name(k), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_and_tagged),
	    cmocka_unit_test(ipv4_options_fragments_padding),
	    cmocka_unit_test(ipv6_and_mpls),
	    cmocka_unit_test(each_malformed_reason),
	    cmocka_unit_test(headers_only_in_first_segment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
