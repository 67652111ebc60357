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
 * datagram is allowed.  The parser reads only the len bytes it is given;
 * the IP length fields are checked against the whole frame's length.
 *
 * The IP header checks and untagged Ethernet live in parse.h, inline,
 * so that a worker parses the common frame without a call; this file has
 * the tag loop and the MPLS stack, which are not worth inlining.
 */
#include "parse.h"

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

/* Past the label stack: IP by the first nibble, or not IP at all. */
static void parse_mpls(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
		       struct rm_frame *f)
{
	for (unsigned labels = 1;; labels++) {
		if (labels > MAX_LABELS)
			return rm_parse_bad(f, RM_BAD_TOO_MANY_TAGS);
		if (len < off + 4)
			return rm_parse_bad(f, RM_BAD_TRUNCATED);
		int bottom = p[off + 2] & 1;
		off += 4;
		if (bottom)
			break;
	}
	if (len < off + 1)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	switch (p[off] >> 4) {
	case 4:
		return rm_parse_ipv4_at(p, len, frame, off, f);
	case 6:
		return rm_parse_ipv6_at(p, len, frame, off, f);
	default:
		f->cls = RM_FRAME_NON_IP;
	}
}

void rm_parse_ip(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *f)
{
	f->cls = RM_FRAME_NON_IP;
	if (len < 1)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	if (p[0] >> 4 == 6)
		return rm_parse_ipv6_at(p, len, frame, 0, f);
	return rm_parse_ipv4_at(p, len, frame, 0, f);
}

void rm_parse_frame_tagged(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *f)
{
	f->cls = RM_FRAME_NON_IP;
	if (len < 14)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint32_t off = 14;
	uint16_t type = rm_get_be16(p + 12);
	for (unsigned tags = 0; type == ET_VLAN || type == ET_QINQ || type == ET_QINQ9;) {
		if (++tags > MAX_TAGS)
			return rm_parse_bad(f, RM_BAD_TOO_MANY_TAGS);
		if (len < off + 4)
			return rm_parse_bad(f, RM_BAD_TRUNCATED);
		type = rm_get_be16(p + off + 2);
		off += 4;
	}
	switch (type) {
	case RM_ET_IPV4:
		return rm_parse_ipv4_at(p, len, frame, off, f);
	case RM_ET_IPV6:
		return rm_parse_ipv6_at(p, len, frame, off, f);
	case ET_MPLS:
	case ET_MPLSM:
		return parse_mpls(p, len, frame, off, f);
	default:
		f->cls = RM_FRAME_NON_IP;
	}
}
