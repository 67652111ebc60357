/*
 * parse.c - from a frame to the two addresses to attribute.
 *
 * Ethernet II, then any stack of 802.1Q (0x8100), 802.1ad (0x88a8) and
 * legacy QinQ (0x9100) tags, then optionally an MPLS label stack (0x8847,
 * 0x8848) whose payload is IPv4 or IPv6 by its first nibble, then the IP
 * header.  A frame is IPv4, IPv6, non-IP (another EtherType, or an MPLS
 * payload that is not IP, such as a pseudowire), or malformed, with the
 * first reason found.  Nothing beyond the IP header is read, so every
 * fragment of a datagram counts, and Ethernet padding after the IP
 * datagram is allowed.  The function reads only the len bytes it is given;
 * the IP length fields are checked against the whole frame's length.
 */
#include "dataplane.h"

#define ET_IPV4	 0x0800
#define ET_IPV6	 0x86dd
#define ET_VLAN	 0x8100
#define ET_QINQ	 0x88a8
#define ET_QINQ9 0x9100
#define ET_MPLS	 0x8847
#define ET_MPLSM 0x8848

#define MAX_TAGS   8
#define MAX_LABELS 16

static const char *const reasons[RM_BAD_COUNT] = {
    "truncated", "ipv4_ihl", "ipv4_length", "ip_version", "ipv6_length", "too_many_tags",
};

const char *rm_malformed_name(unsigned reason)
{
	return reason < RM_BAD_COUNT ? reasons[reason] : "invalid";
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void bad(struct rm_frame *f, enum rm_malformed why)
{
	f->cls = RM_FRAME_MALFORMED;
	f->reason = (uint8_t)why;
}

static void parse_ipv4(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
		       struct rm_frame *f)
{
	if (len < off + 1)
		return bad(f, RM_BAD_TRUNCATED);
	if (p[off] >> 4 != 4)
		return bad(f, RM_BAD_IP_VERSION);
	uint32_t hl = (uint32_t)(p[off] & 15) * 4;
	if (len < off + 20)
		return bad(f, RM_BAD_TRUNCATED);
	if (hl < 20)
		return bad(f, RM_BAD_IPV4_IHL);
	if (len < off + hl)
		return bad(f, RM_BAD_TRUNCATED);
	uint32_t total = be16(p + off + 2);
	if (total < hl || off + total > frame)
		return bad(f, RM_BAD_IPV4_LENGTH);
	f->cls = RM_FRAME_IPV4;
	f->l3_off = (uint16_t)off;
	f->proto = p[off + 9];
	uint16_t frag = be16(p + off + 6);
	f->fragment = frag & 0x1fff ? 2 : frag & 0x2000 ? 1 : 0; /* later, first, none */
	f->l4_off = (uint16_t)(off + hl);
	f->l4_len = total - hl;
	f->src = p + off + 12;
	f->dst = p + off + 16;
}

static void parse_ipv6(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
		       struct rm_frame *f)
{
	if (len < off + 1)
		return bad(f, RM_BAD_TRUNCATED);
	if (p[off] >> 4 != 6)
		return bad(f, RM_BAD_IP_VERSION);
	if (len < off + 40)
		return bad(f, RM_BAD_TRUNCATED);
	uint32_t payload = be16(p + off + 4);
	if (off + 40 + payload > frame)
		return bad(f, RM_BAD_IPV6_LENGTH);
	f->cls = RM_FRAME_IPV6;
	f->l3_off = (uint16_t)off;
	f->proto = p[off + 6]; /* extension headers are not followed */
	f->fragment = 0;
	f->l4_off = (uint16_t)(off + 40);
	f->l4_len = payload;
	f->src = p + off + 8;
	f->dst = p + off + 24;
}

/* Past the label stack: IP by the first nibble, or not IP at all. */
static void parse_mpls(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
		       struct rm_frame *f)
{
	for (unsigned labels = 1;; labels++) {
		if (labels > MAX_LABELS)
			return bad(f, RM_BAD_TOO_MANY_TAGS);
		if (len < off + 4)
			return bad(f, RM_BAD_TRUNCATED);
		int bottom = p[off + 2] & 1;
		off += 4;
		if (bottom)
			break;
	}
	if (len < off + 1)
		return bad(f, RM_BAD_TRUNCATED);
	switch (p[off] >> 4) {
	case 4:
		return parse_ipv4(p, len, frame, off, f);
	case 6:
		return parse_ipv6(p, len, frame, off, f);
	default:
		f->cls = RM_FRAME_NON_IP;
	}
}

void rm_parse_ip(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *f)
{
	f->cls = RM_FRAME_NON_IP;
	if (len < 1)
		return bad(f, RM_BAD_TRUNCATED);
	if (p[0] >> 4 == 6)
		return parse_ipv6(p, len, frame, 0, f);
	return parse_ipv4(p, len, frame, 0, f);
}

void rm_parse_frame(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *f)
{
	f->cls = RM_FRAME_NON_IP;
	if (len < 14)
		return bad(f, RM_BAD_TRUNCATED);
	uint32_t off = 14;
	uint16_t type = be16(p + 12);
	if (type == ET_IPV6) /* the untagged cases first: no loop, no switch */
		return parse_ipv6(p, len, frame, off, f);
	if (type == ET_IPV4)
		return parse_ipv4(p, len, frame, off, f);
	for (unsigned tags = 0; type == ET_VLAN || type == ET_QINQ || type == ET_QINQ9;) {
		if (++tags > MAX_TAGS)
			return bad(f, RM_BAD_TOO_MANY_TAGS);
		if (len < off + 4)
			return bad(f, RM_BAD_TRUNCATED);
		type = be16(p + off + 2);
		off += 4;
	}
	switch (type) {
	case ET_IPV4:
		return parse_ipv4(p, len, frame, off, f);
	case ET_IPV6:
		return parse_ipv6(p, len, frame, off, f);
	case ET_MPLS:
	case ET_MPLSM:
		return parse_mpls(p, len, frame, off, f);
	default:
		f->cls = RM_FRAME_NON_IP;
	}
}
