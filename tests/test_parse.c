/*
 * test_parse.c - the frame parser, case by case, without DPDK.
 */
#include "burst.h"
#include "parse.h"
#include "helpers.h"

struct frame {
	uint8_t b[1 << 17]; /* past 64 KiB: headers_past_64k */
	uint32_t n;
};

static void put(struct frame *f, const void *p, uint32_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
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

/* ------------------------------------------------------------------ */
/* Tunnels: frames built header by header, each length field closed over
 * what follows it once that is written. */

/* Big-endian 16 bits at offset at. */
static void set16(struct frame *f, uint32_t at, uint32_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

/* An IPv4 header of protocol proto from addr, to addr + 1; its offset. */
static uint32_t ip4_open(struct frame *f, uint8_t proto, uint8_t addr)
{
	uint32_t at = f->n;
	uint8_t h[20] = {0x45, 0, 0,   0,  0,	0,    0,   0,  64,  proto,
			 0,    0, 198, 51, 100, addr, 198, 51, 100, (uint8_t)(addr + 1)};
	put(f, h, 20);
	return at;
}

static void ip4_close(struct frame *f, uint32_t at)
{
	set16(f, at + 2, f->n - at);
}

/* An IPv6 header of next header proto, 2001:db8::addr to 2001:db8::addr+1. */
static uint32_t ip6_open(struct frame *f, uint8_t proto, uint8_t addr)
{
	uint32_t at = f->n;
	uint8_t h[40] = {0x60, 0, 0, 0, 0, 0, proto, 64, 0x20, 0x01, 0x0d, 0xb8};
	h[23] = addr;
	h[24] = 0x20;
	h[25] = 0x01;
	h[26] = 0x0d;
	h[27] = 0xb8;
	h[39] = (uint8_t)(addr + 1);
	put(f, h, 40);
	return at;
}

static void ip6_close(struct frame *f, uint32_t at)
{
	set16(f, at + 4, f->n - at - 40);
}

static uint32_t udp_open(struct frame *f, uint16_t dport)
{
	uint32_t at = f->n;
	put16(f, 40000);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return at;
}

static void udp_close(struct frame *f, uint32_t at)
{
	set16(f, at + 4, f->n - at);
}

/* The innermost packet: IPv4 (addresses .9 and .10) with 8 bytes of UDP. */
static void inner4(struct frame *f)
{
	uint32_t at = ip4_open(f, 17, 9);
	put(f, "\x9c\x40\x00\x35\x00\x08\x00\x00", 8);
	ip4_close(f, at);
}

static void inner6(struct frame *f)
{
	uint32_t at = ip6_open(f, 17, 9);
	put(f, "\x9c\x40\x00\x35\x00\x08\x00\x00", 8);
	ip6_close(f, at);
}

static void inner_eth(struct frame *f, uint16_t type)
{
	put(f, "\x02\0\0\0\0\x05\x02\0\0\0\0\x06", 12);
	put16(f, type);
}

enum shape {
	GRE4,
	GRE_KEY_SEQ_CSUM,
	GRE_ETH,
	ERSPAN1,
	ERSPAN2,
	ERSPAN3,
	ERSPAN3_SUB,
	IPIP,
	SIX_IN_4,
	FOUR_IN_6,
	SIX_IN_6,
	VXLAN,
	GENEVE,
	GENEVE_IP,
	GTPU,
	GTPU_EXT,
	VLAN_GRE_V6,
	GTPU_IN_VXLAN,
	SHAPES
};

/* A frame of shape s: its tunnel kinds (n of them) and inner family. */
static void build(struct frame *f, enum shape s, uint8_t kinds[2], unsigned *n, int *family)
{
	int v6out = s == FOUR_IN_6 || s == SIX_IN_6;
	eth(f, v6out ? 0x86dd : 0x0800);
	if (s == VLAN_GRE_V6)
		tag(f, 0x8100, 0x0800);
	static const uint8_t proto[SHAPES] = {47, 47, 47, 47, 47, 47, 47, 4,  41,
					      4,  41, 17, 17, 17, 17, 17, 47, 17};
	uint32_t out = v6out ? ip6_open(f, proto[s], 1) : ip4_open(f, proto[s], 1), u = 0;
	*family = s == SIX_IN_4 || s == SIX_IN_6 || s == VLAN_GRE_V6 ? 6 : 4;
	*n = 1;
	switch (s) {
	case GRE4:
		put(f, "\x00\x00\x08\x00", 4);
		kinds[0] = RM_TUN_GRE;
		break;
	case GRE_KEY_SEQ_CSUM:
		put(f,
		    "\xb0\x00\x08\x00"
		    "\0\0\0\0"
		    "\0\0\0\x2a"
		    "\0\0\0\x07",
		    16);
		kinds[0] = RM_TUN_GRE;
		break;
	case GRE_ETH:
		put(f,
		    "\x20\x00\x65\x58"
		    "\0\0\0\x2a",
		    8);
		inner_eth(f, 0x0800);
		kinds[0] = RM_TUN_GRE;
		break;
	case ERSPAN1:
		put(f, "\x00\x00\x88\xbe", 4);
		inner_eth(f, 0x0800);
		kinds[0] = RM_TUN_ERSPAN;
		break;
	case ERSPAN2:
		put(f,
		    "\x10\x00\x88\xbe"
		    "\0\0\0\x07"
		    "\x10\x0a\x00\x42\0\0\0\0",
		    16);
		inner_eth(f, 0x8100);
		put(f, "\x00\x14\x08\x00", 4);
		kinds[0] = RM_TUN_ERSPAN;
		break;
	case ERSPAN3:
	case ERSPAN3_SUB:
		put(f,
		    "\x10\x00\x22\xeb"
		    "\0\0\0\x07"
		    "\x20\x0a\x00\x42\0\0\x30\x39\0\0\0",
		    19);
		put(f,
		    s == ERSPAN3_SUB ? "\x01"
				       "12345678"
				     : "\x00",
		    s == ERSPAN3_SUB ? 9 : 1);
		inner_eth(f, 0x0800);
		kinds[0] = RM_TUN_ERSPAN;
		break;
	case IPIP:
	case FOUR_IN_6:
		kinds[0] = s == IPIP ? RM_TUN_IPIP : RM_TUN_4IN6;
		break;
	case SIX_IN_4:
	case SIX_IN_6:
		kinds[0] = s == SIX_IN_4 ? RM_TUN_6IN4 : RM_TUN_6IN6;
		break;
	case VXLAN:
		u = udp_open(f, 4789);
		put(f, "\x08\0\0\0\0\x12\x34\0", 8);
		inner_eth(f, 0x0800);
		kinds[0] = RM_TUN_VXLAN;
		break;
	case GENEVE:
	case GENEVE_IP:
		u = udp_open(f, 6081);
		if (s == GENEVE)
			put(f,
			    "\x02\x00\x65\x58\0\x56\x78\0"
			    "\x01\x02\x80\x01\xaa\xbb\xcc\xdd",
			    16);
		else
			put(f, "\x00\x00\x08\x00\0\x56\x78\0", 8);
		if (s == GENEVE)
			inner_eth(f, 0x0800);
		kinds[0] = RM_TUN_GENEVE;
		break;
	case GTPU:
	case GTPU_EXT:
		u = udp_open(f, 2152);
		if (s == GTPU)
			put(f, "\x30\xff\0\x1c\0\0\x12\x34", 8);
		else /* E: sequence word, then two PDU session containers */
			put(f,
			    "\x34\xff\0\x2c\0\0\x12\x34"
			    "\0\0\0\x85"
			    "\x01\x10\x00\x85"
			    "\x02\x00\x00\x00\x00\x00\x00\x00",
			    24);
		kinds[0] = RM_TUN_GTPU;
		break;
	case VLAN_GRE_V6:
		put(f,
		    "\x20\x00\x86\xdd"
		    "\0\0\0\x2a",
		    8);
		kinds[0] = RM_TUN_GRE;
		break;
	case GTPU_IN_VXLAN: {
		u = udp_open(f, 4789);
		put(f, "\x08\0\0\0\0\x12\x34\0", 8);
		inner_eth(f, 0x0800);
		uint32_t mid = ip4_open(f, 17, 5), mu = udp_open(f, 2152);
		put(f, "\x30\xff\0\x1c\0\0\x12\x34", 8);
		inner4(f);
		udp_close(f, mu);
		ip4_close(f, mid);
		kinds[0] = RM_TUN_VXLAN;
		kinds[1] = RM_TUN_GTPU;
		*n = 2;
		break;
	}
	default:
		fail();
	}
	if (s != GTPU_IN_VXLAN)
		(*family == 6 ? inner6 : inner4)(f);
	if (u)
		udp_close(f, u);
	(v6out ? ip6_close : ip4_close)(f, out);
}

/* Parse the first avail bytes of f (in a block of exactly that size, so
 * that the sanitizers see any read past them), outer and inner. */
static struct rm_frame decap(const struct frame *f, uint32_t avail, struct rm_tunnels *t)
{
	uint8_t *p = malloc(avail ? avail : 1);
	assert_non_null(p);
	memcpy(p, f->b, avail);
	struct rm_frame outer, inner;
	rm_parse_frame(p, avail, f->n, &outer);
	t->n = 0;
	inner = outer;
	if ((outer.cls == RM_FRAME_IPV4 || outer.cls == RM_FRAME_IPV6) &&
	    rm_parse_may_tunnel(&outer, p, avail))
		rm_parse_tunnels(p, avail, &outer, &inner, t);
	/* Addresses kept as offsets: the block goes. */
	if (inner.cls == RM_FRAME_IPV4 || inner.cls == RM_FRAME_IPV6) {
		assert_true(inner.src >= p &&
			    inner.dst + (inner.cls == RM_FRAME_IPV4 ? 4 : 16) <= p + avail);
		inner.src = f->b + (inner.src - p);
		inner.dst = f->b + (inner.dst - p);
	}
	free(p);
	return inner;
}

/* Each shape whole: its kinds, and the innermost packet's addresses.
 * Then cut at every byte (a short first segment, a sampled header):
 * before the innermost IP header is whole, the frame is truncated, or,
 * when a UDP tunnel's UDP header is cut, the IP packet that carries it;
 * from there on, the innermost packet as whole. */
static void each_tunnel_whole_and_cut(void **state)
{
	(void)state;
	for (int s = 0; s < SHAPES; s++) {
		struct frame f;
		uint8_t kinds[2];
		unsigned n;
		int family;
		build(&f, (enum shape)s, kinds, &n, &family);
		struct rm_tunnels t;
		struct rm_frame whole = decap(&f, f.n, &t);
		assert_int_equal(whole.cls, family == 4 ? RM_FRAME_IPV4 : RM_FRAME_IPV6);
		assert_int_equal(t.n, n);
		for (unsigned k = 0; k < n; k++)
			assert_int_equal(t.kind[k], kinds[k]);
		assert_int_equal(whole.src[family == 4 ? 3 : 15], 9);
		assert_int_equal(whole.dst[family == 4 ? 3 : 15], 10);
		assert_int_equal(whole.l4_off + whole.l4_len, f.n); /* the innermost ends it */
		uint32_t need = whole.l4_off;
		for (uint32_t k = 0; k < f.n; k++) {
			struct rm_frame r = decap(&f, k, &t);
			if (k >= need) {
				assert_int_equal(r.cls, whole.cls);
				assert_ptr_equal(r.src, whole.src);
				assert_int_equal(t.n, n);
			} else if (r.cls != RM_FRAME_MALFORMED) {
				/* An IP packet (the outer, or one between two
				 * tunnels) whose UDP header is cut: it cannot
				 * say which tunnel follows, so none does. */
				assert_int_equal(r.proto, 17);
				assert_true(r.l4_off + 8u > k);
				assert_int_equal(t.n, r.l3_off > 14 + 4 ? 1 : 0);
			} else {
				assert_int_equal(r.cls, RM_FRAME_MALFORMED);
				assert_int_equal(r.reason, RM_BAD_TRUNCATED);
			}
		}
	}
}

static void tunnel_malformed(void **state)
{
	(void)state;
	struct frame f;
	struct rm_tunnels t;
	uint32_t out, u;
	struct {
		const char *hdr;
		uint32_t len;
		uint16_t port; /* 0: GRE */
	} bad[] = {
	    {"\x00\x01\x88\x0b", 4, 0}, /* GRE version 1 (PPTP) */
	    {"\x40\x00\x08\x00", 4, 0}, /* GRE routing present */
	    {"\x10\x00\x88\xbe"
	     "\0\0\0\x07"
	     "\x30\x0a\0\x42\0\0\0\0",
	     16, 0},				       /* ERSPAN v3 in II */
	    {"\x00\0\0\0\0\x12\x34\0", 8, 4789},       /* VXLAN without I */
	    {"\x40\x00\x08\x00\0\x56\x78\0", 8, 6081}, /* Geneve version 1 */
	    {"\x34\xff\0\x24\0\0\x12\x34"
	     "\0\0\0\x85"
	     "\x00\x10\x00\x00",
	     16, 2152},				     /* ext 0 */
	    {"\x30\xff\0\xf0\0\0\x12\x34", 8, 2152}, /* G-PDU past its datagram */
	    {"\x50\xff\0\x1c\0\0\x12\x34", 8, 2152}, /* GTP version 2 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eth(&f, 0x0800);
		out = ip4_open(&f, bad[i].port ? 17 : 47, 1);
		u = bad[i].port ? udp_open(&f, bad[i].port) : 0;
		put(&f, bad[i].hdr, bad[i].len);
		inner4(&f);
		if (u)
			udp_close(&f, u);
		ip4_close(&f, out);
		struct rm_frame r = decap(&f, f.n, &t);
		assert_int_equal(r.cls, RM_FRAME_MALFORMED);
		assert_int_equal(r.reason, RM_BAD_TUNNEL_HEADER);
		assert_int_equal(t.n, 1);
	}
	/* Five levels of IP-in-IP: four are followed, the fifth is one too many. */
	eth(&f, 0x0800);
	uint32_t lv[5];
	for (int k = 0; k < 5; k++)
		lv[k] = ip4_open(&f, 4, (uint8_t)(20 + k));
	inner4(&f);
	for (int k = 4; k >= 0; k--)
		ip4_close(&f, lv[k]);
	struct rm_frame r = decap(&f, f.n, &t);
	assert_int_equal(r.reason, RM_BAD_TOO_MANY_TUNNELS);
	assert_int_equal(t.n, RM_TUNNEL_MAX);
	/* An inner packet longer than its tunnel's payload. */
	eth(&f, 0x0800);
	out = ip4_open(&f, 47, 1);
	put(&f, "\x00\x00\x08\x00", 4);
	inner4(&f);
	set16(&f, f.n - 28 + 2, 200);
	ip4_close(&f, out);
	assert_int_equal(decap(&f, f.n, &t).reason, RM_BAD_IPV4_LENGTH);
	/* GTP-U echo request and ARP over GRE: tunnels that carry no IP. */
	eth(&f, 0x0800);
	out = ip4_open(&f, 17, 1);
	u = udp_open(&f, 2152);
	put(&f, "\x32\x01\0\x04\0\0\0\0\0\x01\0\0", 12);
	udp_close(&f, u);
	ip4_close(&f, out);
	assert_int_equal(decap(&f, f.n, &t).cls, RM_FRAME_NON_IP);
	assert_int_equal(t.kind[0], RM_TUN_GTPU);
	eth(&f, 0x0800);
	out = ip4_open(&f, 47, 1);
	put(&f, "\x00\x00\x08\x06", 4);
	put(&f, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 28);
	ip4_close(&f, out);
	assert_int_equal(decap(&f, f.n, &t).cls, RM_FRAME_NON_IP);
	/* A fragment's payload is not followed; nor is plain UDP. */
	eth(&f, 0x0800);
	out = ip4_open(&f, 4, 1);
	inner4(&f);
	ip4_close(&f, out);
	f.b[14 + 6] = 0x20;
	assert_int_equal(decap(&f, f.n, &t).cls, RM_FRAME_IPV4);
	assert_int_equal(t.n, 0);
	for (unsigned k = 0; k < RM_TUN_COUNT; k++)
		assert_string_not_equal(rm_tunnel_name(k), "invalid");
}

/* A UDP tunnel's headers lie within its UDP datagram: bytes past the UDP
 * length (the rest of the IP payload) are not the tunnel's, so a header
 * that runs into them is cut short, as one past the IP packet's end is. */
static void udp_tunnel_within_datagram(void **state)
{
	(void)state;
	struct frame f;
	struct rm_tunnels t;
	static const struct {
		const char *hdr;
		uint32_t len, in_udp; /* header bytes, of them inside the datagram */
		uint16_t port;
	} cases[] = {
	    {"\x08\0\0\0\0\x12\x34\0", 8, 8, 4789},		 /* VXLAN; Ethernet outside */
	    {"\x08\0\0\0\0\x12\x34\0", 8, 4, 4789},		 /* VXLAN header cut */
	    {"\x01\0\x65\x58\0\x56\x78\0\0\0\0\0", 12, 8, 6081}, /* Geneve options */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		eth(&f, 0x0800);
		uint32_t out = ip4_open(&f, 17, 1);
		uint32_t u = udp_open(&f, cases[i].port);
		put(&f, cases[i].hdr, cases[i].len);
		inner_eth(&f, 0x0806); /* ARP, had it been inside */
		put(&f, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 28);
		ip4_close(&f, out);
		set16(&f, u + 4, 8 + cases[i].in_udp);
		struct rm_frame r = decap(&f, f.n, &t);
		assert_int_equal(t.n, 1);
		assert_int_equal(r.cls, RM_FRAME_MALFORMED);
		assert_int_equal(r.reason, RM_BAD_TRUNCATED);
	}
	/* The same within a GTP-U message: a G-PDU of no bytes, the datagram
	 * going on past it, carries no user packet to read. */
	eth(&f, 0x0800);
	uint32_t out = ip4_open(&f, 17, 1);
	uint32_t u = udp_open(&f, 2152);
	put(&f, "\x30\xff\0\0\0\0\x12\x34", 8);
	put(&f, "\x01\x02\x03\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 28);
	udp_close(&f, u);
	ip4_close(&f, out);
	struct rm_frame r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(r.cls, RM_FRAME_MALFORMED);
	assert_int_equal(r.reason, RM_BAD_TRUNCATED);
}

/* IPv6 extension headers before a tunnel: Linux's ip6_tnl puts a
 * destination options header (the tunnel encapsulation limit, RFC 2473)
 * before every 4in6 and 6in6 packet it sends; hop-by-hop options and a
 * routing header may stand there too.  A fragment header, or a chain cut
 * short, stops the search: no tunnel, the packet stands as it is. */
static void ipv6_extension_headers_before_tunnel(void **state)
{
	(void)state;
	struct frame f;
	struct rm_tunnels t;
	/* Encapsulation limit 4, then PadN; next header filled in below. */
	static const uint8_t dst_opts[8] = {0, 0, 4, 1, 4, 1, 1, 0};
	static const uint8_t hbh[16] = {0, 1, 1, 12};	/* PadN over the rest */
	static const uint8_t routing[8] = {0, 0, 0, 0}; /* type 0, no segments left */
	for (int chain = 0; chain < 3; chain++) {
		eth(&f, 0x86dd);
		uint32_t out = ip6_open(&f, chain == 1 ? 0 : 60, 1);
		if (chain == 1) {
			put(&f, hbh, 16);
			f.b[f.n - 16] = 43;
			put(&f, routing, 8);
			f.b[f.n - 8] = 60;
		}
		put(&f, dst_opts, 8);
		f.b[f.n - 8] = chain == 2 ? 47 : 4;
		if (chain == 2)
			put(&f, "\x00\x00\x86\xdd", 4);
		if (chain == 2)
			inner6(&f);
		else
			inner4(&f);
		ip6_close(&f, out);
		struct rm_frame r = decap(&f, f.n, &t);
		assert_int_equal(t.n, 1);
		assert_int_equal(t.kind[0], chain == 2 ? RM_TUN_GRE : RM_TUN_4IN6);
		assert_int_equal(r.cls, chain == 2 ? RM_FRAME_IPV6 : RM_FRAME_IPV4);
		assert_int_equal(r.src[chain == 2 ? 15 : 3], 9);
		assert_int_equal(r.l4_off + r.l4_len, f.n);
	}
	/* A fragment header: its payload is not a whole packet. */
	eth(&f, 0x86dd);
	uint32_t out = ip6_open(&f, 44, 1);
	put(&f, "\x04\0\0\x01\0\0\0\x07", 8); /* first fragment, more follow */
	inner4(&f);
	ip6_close(&f, out);
	struct rm_frame r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.cls, RM_FRAME_IPV6);
	assert_int_equal(r.fragment, 1);
	assert_int_equal(r.src[15], 1);
	/* An options header longer than the packet: no tunnel found in it. */
	eth(&f, 0x86dd);
	out = ip6_open(&f, 60, 1);
	put(&f, dst_opts, 8);
	f.b[f.n - 8] = 4;
	f.b[f.n - 7] = 200;
	inner4(&f);
	ip6_close(&f, out);
	r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.cls, RM_FRAME_IPV6);
}

/* A UDP datagram to port dport in an IPv4 (v6: IPv6) packet whose
 * fragment fields say frag: 0 none, 1 the first of several, 2 a later one
 * (offset 1480, more follow).  In IPv6 the fragment header stands behind
 * a destination options header when opts (extension headers before it are
 * followed too).  The later fragment's payload looks like a UDP header
 * all the same: it must not be read as one. */
static void fragmented_udp(struct frame *f, int v6, int frag, int opts, uint16_t dport)
{
	eth(f, v6 ? 0x86dd : 0x0800);
	uint32_t out = v6 ? ip6_open(f, frag ? (opts ? 60 : 44) : 17, 1) : ip4_open(f, 17, 1);
	uint16_t bits = frag == 2 ? 1480 / 8 : 0;
	if (v6 && frag) {
		if (opts)
			put(f, "\x2c\0\x01\x04\0\0\0\0", 8); /* PadN over the rest */
		put(f, "\x11\0", 2);
		put16(f, (uint16_t)(bits << 3 | 1)); /* offset, M */
		put(f, "\0\0\x12\x34", 4);
	} else if (frag) {
		set16(f, out + 6, 0x2000u | bits); /* MF, offset */
	}
	uint32_t u = udp_open(f, dport);
	put(f, "\0\x05\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	udp_close(f, u);
	(v6 ? ip6_close : ip4_close)(f, out);
}

/* IPv6 fragments are marked as IPv4's are: the first one has its
 * transport header where l4_off says (behind the fragment header and any
 * extension header before it), a later one has none; an atomic fragment
 * (offset 0, no more to follow) is none.  A fragment carries no tunnel. */
static void ipv6_fragments_as_ipv4(void **state)
{
	(void)state;
	struct frame f;
	for (int frag = 0; frag <= 2; frag++) {
		for (int opts = 0; opts <= 1; opts++) {
			fragmented_udp(&f, 0, frag, 0, 53);
			struct rm_frame v4 = parse(&f);
			fragmented_udp(&f, 1, frag, opts, 53);
			struct rm_frame v6 = parse(&f);
			assert_int_equal(v4.cls, RM_FRAME_IPV4);
			assert_int_equal(v6.cls, RM_FRAME_IPV6);
			assert_int_equal(v6.fragment, v4.fragment);
			assert_int_equal(v6.fragment, frag);
			assert_int_equal(v6.proto, 17);
			/* Both point at what follows the IP headers: the UDP header
			 * (the later fragment's payload, its bytes alike). */
			assert_int_equal(v4.l4_off, 14 + 20);
			assert_int_equal(v6.l4_off,
					 14 + 40 + (frag ? 8 : 0) + (frag && opts ? 8 : 0));
			assert_int_equal(v6.l4_off + v6.l4_len, f.n);
			assert_int_equal(v4.l4_len, 32);
			assert_int_equal(v6.l4_len, 32);
		}
	}
	/* An atomic fragment: a whole packet behind a fragment header. */
	fragmented_udp(&f, 1, 1, 0, 53);
	set16(&f, 14 + 40 + 2, 0);
	struct rm_frame r = parse(&f);
	assert_int_equal(r.fragment, 0);
	assert_int_equal(r.proto, 17);
	/* A chain cut before the fragment header (a sampled header): the
	 * frame stands, its transport header not found. */
	fragmented_udp(&f, 1, 1, 1, 53);
	rm_parse_frame(f.b, 14 + 40 + 8 + 4, f.n, &r);
	assert_int_equal(r.cls, RM_FRAME_IPV6);
	assert_int_equal(r.fragment, 0);
	assert_int_equal(r.proto, 44); /* the fragment header */
	assert_int_equal(r.l4_off, 14 + 40 + 8);
	/* A later fragment of 6in6: its payload is not followed. */
	eth(&f, 0x86dd);
	uint32_t out = ip6_open(&f, 44, 1);
	put(&f, "\x29\0\x05\xc9\0\0\0\x07", 8); /* offset 185, M */
	inner6(&f);
	ip6_close(&f, out);
	struct rm_tunnels t;
	r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.fragment, 2);
	assert_int_equal(r.src[15], 1);
}

/* An authentication header (RFC 4302) of words 4-byte words, next header
 * next: its length field is words - 2. */
static void ah(struct frame *f, uint8_t next, unsigned words)
{
	uint8_t h[2] = {next, (uint8_t)(words - 2)};
	put(f, h, 2);
	put(f, "\0\0\0\0\x01\0\0\0\0\x07", 10); /* reserved, SPI 256, sequence 7 */
	for (unsigned k = 12; k < 4 * words; k++)
		put(f, "\0", 1); /* the integrity check value */
}

/* IPsec's authentication header is followed, in IPv4 and in IPv6 (after
 * other extension headers), to a tunnel or a transport header; one that
 * runs past the packet, or a later IPv4 fragment's payload, is not. */
static void authentication_header_followed(void **state)
{
	(void)state;
	struct frame f;
	struct rm_tunnels t;
	/* GRE behind AH in IPv4: a 96-bit ICV, 24 bytes in all. */
	eth(&f, 0x0800);
	uint32_t out = ip4_open(&f, 51, 1);
	ah(&f, 47, 6);
	put(&f, "\x00\x00\x08\x00", 4);
	inner4(&f);
	ip4_close(&f, out);
	struct rm_frame r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.kind[0], RM_TUN_GRE);
	assert_int_equal(r.cls, RM_FRAME_IPV4);
	assert_int_equal(r.src[3], 9);
	/* 4in6 behind a destination options header and AH (IPv6's AH a
	 * multiple of 8 bytes). */
	eth(&f, 0x86dd);
	out = ip6_open(&f, 60, 1);
	put(&f, "\x33\0\x01\x04\0\0\0\0", 8);
	ah(&f, 4, 8);
	inner4(&f);
	ip6_close(&f, out);
	r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.kind[0], RM_TUN_4IN6);
	assert_int_equal(r.src[3], 9);
	/* UDP behind AH: its header where l4_off says, for flows and sFlow. */
	eth(&f, 0x0800);
	out = ip4_open(&f, 51, 1);
	ah(&f, 17, 6);
	uint32_t u = udp_open(&f, 2055);
	udp_close(&f, u);
	ip4_close(&f, out);
	r = parse(&f);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.l4_off, u);
	assert_int_equal(r.l4_len, 8);
	/* An AH longer than the packet: not followed, no tunnel. */
	eth(&f, 0x0800);
	out = ip4_open(&f, 51, 1);
	ah(&f, 4, 6);
	inner4(&f);
	ip4_close(&f, out);
	f.b[out + 21] = 20; /* 88 bytes */
	r = decap(&f, f.n, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.proto, 51);
	assert_int_equal(r.l4_off, out + 20);
	/* A later IPv4 fragment: its payload is not an AH. */
	f.b[out + 21] = 4;
	set16(&f, out + 6, 185);
	r = decap(&f, f.n, &t);
	assert_int_equal(r.fragment, 2);
	assert_int_equal(r.proto, 51);
	assert_int_equal(t.n, 0);
}

/* A frame longer than 64 KiB (a capture's snap length allows it) whose
 * innermost header lies past 64 KiB: an IPv6 packet of 65,535 bytes of
 * payload, GTP-U in it with extension headers filling all but the last 31
 * bytes, an IPv4 packet there.  Its offsets are where it is, not 64 KiB
 * short of it. */
static void headers_past_64k(void **state)
{
	(void)state;
	struct frame *f = malloc(sizeof(*f));
	assert_non_null(f);
	eth(f, 0x86dd);
	uint32_t out = ip6_open(f, 17, 1), u = udp_open(f, 2152), gtp = f->n;
	put(f, "\x34\xff\0\0\0\0\x12\x34\0\0\0\x85", 12); /* E, G-PDU; next: extension */
	for (int k = 0; k <= 64; k++) {			  /* 64 of 1020 bytes, one of 204 */
		uint8_t words = k < 64 ? 255 : 51, zero[1020] = {0};
		put(f, &words, 1);
		put(f, zero, words * 4u - 2);
		put(f, k < 64 ? "\x85" : "\0", 1);
	}
	uint32_t in = ip4_open(f, 17, 9);
	put(f, "\x9c\x40\x00\x35\x00\x0b\0\0\0\0\0", 11);
	ip4_close(f, in);
	set16(f, gtp + 2, f->n - gtp - 8);
	udp_close(f, u);
	ip6_close(f, out);
	assert_int_equal(f->n, 14 + 40 + 65535);
	assert_true(in > 65535);
	struct rm_tunnels t;
	struct rm_frame r = decap(f, f->n, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.kind[0], RM_TUN_GTPU);
	assert_int_equal(r.cls, RM_FRAME_IPV4);
	assert_int_equal(r.l3_off, in);
	assert_ptr_equal(r.src, f->b + in + 12);
	assert_int_equal(r.src[3], 9);
	assert_int_equal(r.l4_off, in + 20);
	assert_int_equal(r.l4_len, 11);
	assert_int_equal(r.proto, 17);
	free(f);
}

static const uint8_t *in_place(const void *frame, uint32_t off, uint32_t len, void *buf)
{
	const struct frame *f = frame;
	(void)buf;
	return off + len <= f->n ? f->b + off : NULL;
}

/* A datagram to a flow port, fragmented: its first fragment is counted as
 * a flow datagram dropped for being a fragment, its later ones are traffic
 * (not_flow under --flows-only), over IPv6 as over IPv4. */
static void flow_fragments_either_family(void **state)
{
	(void)state;
	struct frame f;
	for (int v6 = 0; v6 <= 1; v6++) {
		for (int frag = 1; frag <= 2; frag++) {
			for (int only = 0; only <= 1; only++) {
				struct rm_flow_config cfg = {.port = {2055},
							     .proto = {RM_FLOW_NETFLOW},
							     .n = 1,
							     .only = only};
				fragmented_udp(&f, v6, frag, v6, 2055);
				struct rm_frame r = parse(&f);
				struct rm_flow_state *fs = rm_flow_state_new();
				struct rm_counters *c = calloc(1, sizeof(*c));
				assert_non_null(fs);
				assert_non_null(c);
				int took = rm_burst_flow(&cfg, fs, c, f.b, f.n, f.n, &r, v6 ? 6 : 4,
							 in_place, &f);
				assert_int_equal(took, frag == 1 || only);
				assert_int_equal(c->flow, frag == 1);
				assert_int_equal(fs->bad[RM_FLOWBAD_FRAGMENT], frag == 1);
				assert_int_equal(c->not_flow, frag == 2 && only);
				free(c);
				rm_flow_state_free(fs);
			}
		}
	}
}

/*
 * rm_parse_plain against the parse, over frames of every kind it turns on:
 * either family, tagged or not, IPv4 with options, protocols that are
 * extension headers, tunnels or neither, UDP to tunnel ports and to
 * others (one, 0x0900, sharing their high bytes' range), a length field
 * past the frame, and every cut of the bytes present.  Whatever it calls
 * plain, the parse must make an IP frame of that family with the
 * addresses where it says, which rm_parse_may_tunnel turns away; and the
 * untagged, whole frames of TCP, ICMPv6 and UDP to ordinary ports must
 * be plain (the worker's fast way).
 */
/* One frame of plain_frames_as_parsed: its checks at every cut; how many
 * cuts rm_parse_plain took. */
static unsigned plain_case(int v6, int tagged, int opts, uint8_t proto, uint16_t port, int longer)
{
	static struct frame f;
	eth(&f, v6 ? 0x86dd : 0x0800);
	if (tagged)
		tag(&f, 0x8100, v6 ? 0x86dd : 0x0800);
	uint32_t at = v6 ? ip6_open(&f, proto, 1) : ip4_open(&f, proto, 1);
	if (opts) {
		f.b[at] = 0x46;
		put(&f, "\x01\x01\x01\x00", 4);
	}
	uint32_t u = udp_open(&f, port);
	put(&f, "payload!", 8);
	udp_close(&f, u);
	if (v6)
		ip6_close(&f, at);
	else
		ip4_close(&f, at);
	while (f.n < 60)
		put(&f, "\0", 1); /* Ethernet padding */
	if (longer)		  /* the length field says one byte more than the frame has */
		set16(&f, at + (v6 ? 4 : 2), f.n - at + 1 - (v6 ? 40 : 0));
	uint32_t hl = v6 ? 40 : 20 + 4 * (uint32_t)opts;
	bool ordinary = proto == 6 || proto == 58 || (proto == 17 && (port == 53 || port == 443));
	unsigned taken = 0;
	for (uint32_t avail = 0; avail <= f.n; avail++) {
		int plain = rm_parse_plain(f.b, avail, f.n);
		if (!tagged && !opts && !longer && avail == f.n && ordinary)
			assert_int_equal(plain, v6 ? 6 : 4);
		if (!plain)
			continue;
		taken++;
		struct rm_frame r = {0};
		rm_parse_frame(f.b, avail, f.n, &r);
		assert_int_equal(plain, v6 ? 6 : 4);
		assert_int_equal(r.cls, v6 ? RM_FRAME_IPV6 : RM_FRAME_IPV4);
		assert_ptr_equal(r.src, f.b + (v6 ? RM_PLAIN6_SRC : RM_PLAIN4_SRC));
		assert_ptr_equal(r.dst, r.src + (v6 ? 16 : 4));
		assert_int_equal(r.l4_off, 14 + hl);
		assert_false(rm_parse_may_tunnel(&r, f.b, avail));
	}
	return taken;
}

/*
 * rm_parse_plain against the parse, over frames of every kind it turns on:
 * either family, tagged or not, IPv4 with options, protocols that are
 * extension headers, tunnels or neither, UDP to tunnel ports and to
 * others (one, 0x0900, sharing their high bytes' range), a length field
 * past the frame, and every cut of the bytes present.  Whatever it calls
 * plain, the parse must make an IP frame of that family with the
 * addresses where it says, which rm_parse_may_tunnel turns away; and the
 * untagged, whole frames of TCP, ICMPv6 and UDP to ordinary ports must
 * be plain (the worker's fast way).
 */
static void plain_frames_as_parsed(void **state)
{
	(void)state;
	static const uint8_t protos[] = {0, 4, 6, 17, 41, 43, 44, 47, 50, 51, 58, 60, 132, 255};
	static const uint16_t ports[] = {53, 443, 2152, 0x0900, 4789, 6081};
	const unsigned n_ports = sizeof(ports) / sizeof(ports[0]);
	unsigned taken = 0;
	/* Every combination, counted through: family, tag, options (IPv4),
	 * protocol, port, length. */
	for (unsigned i = 0; i < 2 * 2 * 2 * sizeof(protos) * n_ports * 2; i++) {
		unsigned x = i;
		int longer = x % 2;
		uint16_t port = ports[(x /= 2) % n_ports];
		uint8_t proto = protos[(x /= n_ports) % sizeof(protos)];
		int opts = (x /= sizeof(protos)) % 2, tagged = (x /= 2) % 2, v6 = (x / 2) % 2;
		if (v6 && opts)
			continue;
		taken += plain_case(v6, tagged, opts, proto, port, longer);
	}
	assert_true(taken > 0);
}

/*
 * rm_burst_take on a worker with flow ports: a frame is queued as traffic
 * unless it is UDP to a flow port (a datagram, or a first fragment,
 * counted dropped) or --flows-only counts it apart; a later fragment is
 * traffic whatever its bytes say.  Plain frames (no fragment, or IPv4's)
 * take rm_burst_take_plain, IPv6 fragments the parse: both must
 * decide the same.  The flow port is one whose high byte no tunnel port
 * has (2055's, 0x08, is GTP-U's: such frames are never plain).
 */
static void plain_traffic_beside_flow_ports(void **state)
{
	(void)state;
	static struct frame f;
	static struct rm_burst b;
	for (unsigned i = 0; i < 2 * 3 * 2 * 2; i++) {
		int v6 = i & 1, frag = (int)(i / 2 % 3), only = (int)(i / 6 % 2);
		uint16_t port = i / 12 % 2 ? 9996 : 53;
		struct rm_flow_config cfg = {
		    .port = {9996}, .proto = {RM_FLOW_NETFLOW}, .n = 1, .only = only};
		fragmented_udp(&f, v6, frag, 0, port);
		struct rm_burst_queues q = {&b, &b, 0, 0, 0, 0};
		struct rm_flow_state *fs = rm_flow_state_new();
		struct rm_counters *c = calloc(1, sizeof(*c));
		assert_non_null(fs);
		assert_non_null(c);
		rm_burst_take(&cfg, fs, c, &q, f.b, f.n, f.n, in_place, &f);
		bool flow = port == 9996 && frag != 2, queued = !only && !flow;
		assert_int_equal(v6 ? q.n6 : q.n4, queued);
		assert_int_equal(v6 ? q.n4 : q.n6, 0);
		assert_int_equal(c->flow, flow);
		assert_int_equal(c->not_flow, only && !flow);
		if (queued && v6)
			assert_memory_equal(b.a6[0], f.b + RM_PLAIN6_SRC, 32);
		else if (queued)
			assert_int_equal(b.a4[0], rm_get_be32(f.b + RM_PLAIN4_SRC));
		free(c);
		rm_flow_state_free(fs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_and_tagged),
	    cmocka_unit_test(ipv4_options_fragments_padding),
	    cmocka_unit_test(ipv6_and_mpls),
	    cmocka_unit_test(each_malformed_reason),
	    cmocka_unit_test(headers_only_in_first_segment),
	    cmocka_unit_test(each_tunnel_whole_and_cut),
	    cmocka_unit_test(tunnel_malformed),
	    cmocka_unit_test(udp_tunnel_within_datagram),
	    cmocka_unit_test(ipv6_extension_headers_before_tunnel),
	    cmocka_unit_test(ipv6_fragments_as_ipv4),
	    cmocka_unit_test(flow_fragments_either_family),
	    cmocka_unit_test(authentication_header_followed),
	    cmocka_unit_test(headers_past_64k),
	    cmocka_unit_test(plain_frames_as_parsed),
	    cmocka_unit_test(plain_traffic_beside_flow_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
