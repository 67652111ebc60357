/*
 * parse.h - one frame -> IPv4/IPv6 addresses, non-IP, or malformed (parse.c).
 *
 * Ethernet, 802.1Q/802.1ad/QinQ tags and MPLS label stacks down to the IP
 * header, and in IPv6 past the extension headers to the transport header
 * (a fragment header marks the frame as a fragment, as IPv4's fragment
 * fields do).  The common cases (untagged IPv4 and IPv6) are inline so that
 * the worker's hot loop decides them without a call; everything else goes
 * through rm_parse_frame_tagged.  Every length is checked before it is
 * used: a frame that ends early is malformed, never read past its end.
 *
 * Tunnels (GRE, ERSPAN, IP-in-IP, VXLAN, Geneve, GTP-U) are a second step:
 * rm_parse_may_tunnel, inline and a few compares, tells whether an IP
 * frame may carry one; only then does rm_parse_tunnels, out of line, go
 * through the encapsulations to the innermost IP header.
 *
 * A caller that needs only the addresses (traffic to attribute, not a
 * flow datagram) asks rm_parse_plain first: the untagged IP frame without options, extension
 * headers or a tunnel, decided from one 8-byte load and the protocol,
 * without filling a struct rm_frame; anything else it leaves to
 * rm_parse_frame.
 */
#ifndef RM_PARSE_H
#define RM_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "byteorder.h"

enum rm_frame_class { RM_FRAME_IPV4, RM_FRAME_IPV6, RM_FRAME_NON_IP, RM_FRAME_MALFORMED };

enum rm_malformed {
	RM_BAD_TRUNCATED,	 /* ends inside a header */
	RM_BAD_IPV4_IHL,	 /* IHL < 5 */
	RM_BAD_IPV4_LENGTH,	 /* total length beyond the frame, or below the header */
	RM_BAD_IP_VERSION,	 /* version field disagrees with the EtherType or MPLS nibble */
	RM_BAD_IPV6_LENGTH,	 /* payload length beyond the frame */
	RM_BAD_TOO_MANY_TAGS,	 /* more VLAN tags or MPLS labels than we follow */
	RM_BAD_TUNNEL_HEADER,	 /* a tunnel header with a version, flag or length we refuse */
	RM_BAD_TOO_MANY_TUNNELS, /* more nested tunnels than RM_TUNNEL_MAX */
	RM_BAD_COUNT
};

const char *rm_malformed_name(unsigned reason);

/* The offsets are 32 bits: a frame may be longer than 64 KiB (a capture's
 * snap length, a tunnel inside an IPv6 packet of 65,535 bytes behind tags
 * or labels), and an inner header past 64 KiB lies there; the small fields
 * first, so that it is still 32 bytes, passed by value in the hot loop. */
struct rm_frame {
	uint8_t cls;	/* enum rm_frame_class */
	uint8_t reason; /* enum rm_malformed when malformed */
	/* For IP: the protocol past the extension headers followed
	 * (rm_parse_ext: IPv4's authentication header, IPv6's), whether this
	 * is a fragment (IPv4 by its header, IPv6 by a fragment header; 1:
	 * the first, with the transport header; 2: a later one, whose payload
	 * is not a transport header), where that protocol's header starts
	 * (l4_off) and how many bytes of the packet the IP length says follow
	 * from there. */
	uint8_t proto, fragment;
	uint32_t l3_off;	  /* offset of the IP header */
	const uint8_t *src, *dst; /* into the frame: 4 or 16 bytes */
	uint32_t l4_off;
	uint32_t l4_len;
};
_Static_assert(sizeof(struct rm_frame) == 32, "struct rm_frame grew");

#define RM_ET_IPV4 0x0800
#define RM_ET_IPV6 0x86dd

static inline void rm_parse_bad(struct rm_frame *f, enum rm_malformed why)
{
	f->cls = RM_FRAME_MALFORMED;
	f->reason = (uint8_t)why;
}

/* Whether an IP header of version v starts at p + off; if not, why. */
static inline bool rm_parse_version(const uint8_t *p, uint32_t len, uint32_t off, unsigned v,
				    struct rm_frame *f)
{
	if (len < off + 1)
		rm_parse_bad(f, RM_BAD_TRUNCATED);
	else if (p[off] >> 4 != v)
		rm_parse_bad(f, RM_BAD_IP_VERSION);
	else
		return true;
	return false;
}

#define RM_IPPROTO_HOPOPTS  0  /* IPv6 extension headers: hop-by-hop options, */
#define RM_IPPROTO_ROUTING  43 /* routing, */
#define RM_IPPROTO_FRAGMENT 44 /* fragment, */
#define RM_IPPROTO_AH	    51 /* IPsec authentication header (IPv4 too), */
#define RM_IPPROTO_DSTOPTS  60 /* destination options */

/* Whether IPv6 next header proto is an extension header that rm_parse_ext
 * follows: one compare and a bit test, on every IPv6 frame. */
static inline bool rm_ipv6_ext(uint8_t proto)
{
	const uint64_t ext = 1ull << RM_IPPROTO_HOPOPTS | 1ull << RM_IPPROTO_ROUTING |
			     1ull << RM_IPPROTO_FRAGMENT | 1ull << RM_IPPROTO_AH |
			     1ull << RM_IPPROTO_DSTOPTS;
	return proto < 64 && (ext >> proto & 1);
}

/*
 * IP frame f (parsed from the len bytes present at p), whose protocol is
 * an extension header (IPv4: an authentication header; IPv6: any of
 * rm_ipv6_ext's): past them to the header that follows (proto, l4_off and
 * l4_len then say where it is).  An IPv6 fragment header marks the frame
 * as IPv4's fragment bits do (fragment 1 or 2; an atomic fragment, offset
 * 0 without more to follow, is none), and after a later fragment's the
 * walk stops: its payload is not a header (nor is a later IPv4
 * fragment's, which is not walked).  A header cut short by len, or
 * running past the packet, or one more than the most followed (8), stops
 * the walk at that header: the frame keeps its addresses, and no
 * transport header or tunnel is found behind it.
 */
void rm_parse_ext(const uint8_t *p, uint32_t len, struct rm_frame *f);

/* The IPv4 header at p + off, of a frame whose first len bytes are at p. */
static inline void rm_parse_ipv4_at(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
				    struct rm_frame *f)
{
	if (!rm_parse_version(p, len, off, 4, f))
		return;
	uint32_t hl = (uint32_t)(p[off] & 15) * 4;
	if (len < off + 20)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	if (hl < 20)
		return rm_parse_bad(f, RM_BAD_IPV4_IHL);
	if (len < off + hl)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint32_t total = rm_get_be16(p + off + 2);
	if (total < hl || off + total > frame)
		return rm_parse_bad(f, RM_BAD_IPV4_LENGTH);
	f->cls = RM_FRAME_IPV4;
	f->l3_off = off;
	f->proto = p[off + 9];
	uint16_t frag = rm_get_be16(p + off + 6);
	f->fragment = frag & 0x1fff ? 2 : frag & 0x2000 ? 1 : 0; /* later, first, none */
	f->l4_off = off + hl;
	f->l4_len = total - hl;
	f->src = p + off + 12;
	f->dst = p + off + 16;
	if (__builtin_expect(f->proto == RM_IPPROTO_AH, 0) && f->fragment != 2)
		rm_parse_ext(p, len, f);
}

/* The IPv6 header at p + off, and its extension headers (rm_parse_ext,
 * out of line: few frames have them). */
static inline void rm_parse_ipv6_at(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
				    struct rm_frame *f)
{
	if (!rm_parse_version(p, len, off, 6, f))
		return;
	if (len < off + 40)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint32_t payload = rm_get_be16(p + off + 4);
	if (off + 40 + payload > frame)
		return rm_parse_bad(f, RM_BAD_IPV6_LENGTH);
	f->cls = RM_FRAME_IPV6;
	f->l3_off = off;
	f->proto = p[off + 6];
	f->fragment = 0;
	f->l4_off = off + 40;
	f->l4_len = payload;
	f->src = p + off + 8;
	f->dst = p + off + 24;
	if (__builtin_expect(rm_ipv6_ext(f->proto), 0))
		rm_parse_ext(p, len, f);
}

/* rm_parse_frame past an EtherType that is not IP: tags, MPLS, or not IP. */
void rm_parse_frame_tagged(const uint8_t *p, uint32_t avail, uint32_t frame, struct rm_frame *out);

/*
 * Parse Ethernet, any number of 802.1Q/802.1ad tags (up to 8), an MPLS
 * label stack (up to 16 labels), then IPv4 or IPv6.  avail is the bytes
 * present at p (the headers must lie within them), frame the length of
 * the whole frame (what the IP length fields are checked against).  Every
 * fragment counts (the header has both addresses); IPv4 options are
 * skipped by IHL, authentication and IPv6 extension headers followed
 * (rm_parse_ext).
 * Untagged IP, what nearly every frame is, is parsed inline; the rest (a
 * loop GCC compiles badly when inlined) is not.
 */
static inline void rm_parse_frame(const uint8_t *p, uint32_t avail, uint32_t frame,
				  struct rm_frame *out)
{
	if (avail >= 14) {
		uint16_t type = rm_get_be16(p + 12);
		if (type == RM_ET_IPV6)
			return rm_parse_ipv6_at(p, avail, frame, 14, out);
		if (type == RM_ET_IPV4)
			return rm_parse_ipv4_at(p, avail, frame, 14, out);
	}
	rm_parse_frame_tagged(p, avail, frame, out);
}

/* The same from the IP header on (no link layer), IPv4 or IPv6 by its version. */
void rm_parse_ip(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *out);

/* ------------------------------------------------------------------ */
/* Tunnels                                                             */

/* What an encapsulation is counted as (the tunnel scope's keys). */
enum rm_tunnel_kind {
	RM_TUN_GRE,    /* GRE carrying IP, Ethernet (0x6558) or any EtherType */
	RM_TUN_ERSPAN, /* GRE carrying a mirrored frame: ERSPAN type I, II, III */
	RM_TUN_VXLAN,  /* UDP 4789 */
	RM_TUN_GENEVE, /* UDP 6081 */
	RM_TUN_GTPU,   /* UDP 2152, G-PDUs and GTP-U's own messages */
	RM_TUN_IPIP,   /* IPv4 in IPv4 (protocol 4) */
	RM_TUN_6IN4,   /* IPv6 in IPv4 (protocol 41) */
	RM_TUN_4IN6,   /* IPv4 in IPv6 (protocol 4) */
	RM_TUN_6IN6,   /* IPv6 in IPv6 (protocol 41) */
	RM_TUN_COUNT
};

const char *rm_tunnel_name(unsigned kind);

/* Which addresses are attributed (--tunnels): the outermost IP header's
 * (what the frame looks like on the wire), the innermost's (whose traffic
 * it is), or both, the innermost to scopes of their own (inner_rir, ...). */
enum rm_tunnel_mode { RM_TUNNELS_OUTER, RM_TUNNELS_INNER, RM_TUNNELS_BOTH };

/* "outer", "inner", "both" into *mode; -1 for anything else. */
int rm_tunnel_mode_parse(const char *s, enum rm_tunnel_mode *mode);

/* Levels of encapsulation followed; one more is malformed (too_many_tunnels). */
#define RM_TUNNEL_MAX 4

/* The encapsulations crossed, outermost first. */
struct rm_tunnels {
	uint8_t n;
	uint8_t kind[RM_TUNNEL_MAX]; /* enum rm_tunnel_kind */
};

#define RM_IPPROTO_IPIP	   4 /* IPv4 payload, RFC 2003 / RFC 2473 */
#define RM_IPPROTO_UDP	   17
#define RM_IPPROTO_IPV6	   41 /* IPv6 payload, RFC 4213 / RFC 2473 */
#define RM_IPPROTO_GRE	   47
#define RM_UDP_PORT_GTPU   2152
#define RM_UDP_PORT_VXLAN  4789
#define RM_UDP_PORT_GENEVE 6081

/*
 * Whether IP frame f (parsed from the avail bytes at p) may carry a
 * tunnel: its protocol (past IPv6 extension headers) is IP-in-IP or GRE,
 * or UDP to a tunnel's destination port.  Cheap and on every IP frame, so
 * it only looks;
 * rm_parse_tunnels decides (fragments, lengths, headers).
 */
static inline bool rm_parse_may_tunnel(const struct rm_frame *f, const uint8_t *p, uint32_t avail)
{
	if (f->proto == RM_IPPROTO_UDP) {
		if (f->l4_off + 4u > avail)
			return false;
		/* One byte's compare turns most ports away: the high bytes of the
		 * tunnels' ports lie in a range (0x08-0x17) that DNS, HTTP(S)
		 * and the ephemeral ports are outside of. */
		const unsigned lo = RM_UDP_PORT_GTPU >> 8, hi = RM_UDP_PORT_GENEVE >> 8;
		if ((unsigned)(p[f->l4_off + 2] - lo) > hi - lo)
			return false;
		uint16_t port = rm_get_be16(p + f->l4_off + 2);
		return port == RM_UDP_PORT_GTPU || port == RM_UDP_PORT_VXLAN ||
		       port == RM_UDP_PORT_GENEVE;
	}
	return f->proto == RM_IPPROTO_IPIP || f->proto == RM_IPPROTO_IPV6 ||
	       f->proto == RM_IPPROTO_GRE;
}

/*
 * Follow the encapsulations of IP frame outer (parsed by rm_parse_frame or
 * rm_parse_ip from the avail bytes at p) down to the innermost packet, at
 * most RM_TUNNEL_MAX levels, into *inner: IPv4 or IPv6 (its addresses
 * point into p), non-IP (a tunnel carrying ARP, a pseudowire, a GTP-U
 * echo), or malformed with the first reason found.  A frame that carries
 * no tunnel (or is a fragment, whose payload is not a whole packet) gives
 * inner = *outer and t->n = 0.  Each level's length fields are checked
 * against the packet that carries it, never against the frame: an inner
 * packet longer than its tunnel's payload is malformed.
 */
void rm_parse_tunnels(const uint8_t *p, uint32_t avail, const struct rm_frame *outer,
		      struct rm_frame *inner, struct rm_tunnels *t);

/* ------------------------------------------------------------------ */
/* Plain frames                                                        */

/* Where a plain frame's source address is (the destination follows). */
#define RM_PLAIN4_SRC (14 + 12)
#define RM_PLAIN6_SRC (14 + 8)

/* Protocols after which a plain frame is not plain: IPv4's
 * authentication header and IPv6's extension headers (rm_ipv6_ext's),
 * and the tunnels rm_parse_may_tunnel names by protocol.  UDP is decided
 * by its port, apart; protocols 64 and above are never plain. */
#define RM_PLAIN_NOT                                                                               \
	(1ull << RM_IPPROTO_HOPOPTS | 1ull << RM_IPPROTO_ROUTING | 1ull << RM_IPPROTO_FRAGMENT |   \
	 1ull << RM_IPPROTO_AH | 1ull << RM_IPPROTO_DSTOPTS | 1ull << RM_IPPROTO_IPIP |            \
	 1ull << RM_IPPROTO_IPV6 | 1ull << RM_IPPROTO_GRE)

/* Whether transport protocol proto, whose header starts at p + l4 (p
 * holding avail bytes, at least l4 + 4), makes a frame plain: no
 * extension header to follow and no tunnel to look for (the port test of
 * rm_parse_may_tunnel, on the port's high byte). */
static inline bool rm_plain_proto(const uint8_t *p, uint32_t l4, uint8_t proto)
{
	if (proto == RM_IPPROTO_UDP)
		return (unsigned)(p[l4 + 2] - (RM_UDP_PORT_GTPU >> 8)) >
		       (RM_UDP_PORT_GENEVE >> 8) - (RM_UDP_PORT_GTPU >> 8);
	return proto < 64 && !(RM_PLAIN_NOT >> proto & 1);
}

/*
 * Whether the frame at p (avail bytes present, frame in all) is plain, and
 * of which family: 6 for untagged IPv6 without extension headers, 4 for
 * untagged IPv4 without options, whose length field fits the frame and
 * whose protocol rm_plain_proto passes; 0 for any other frame.  A plain
 * frame is what rm_parse_frame would parse into an IP frame with its
 * addresses at RM_PLAIN4_SRC or RM_PLAIN6_SRC and on which
 * rm_parse_may_tunnel would say no, decided from one 8-byte load of the
 * EtherType and the IP header's first fields, the length and the
 * protocol; it says nothing of fragments (IPv4's fields are not read), so
 * only a caller that has no use for them (traffic to attribute, not a
 * flow datagram: burst.h) may take it for the parse.  A frame it turns away is not wrong, only not
 * decided here: rm_parse_frame then decides it, as it decides the plain ones.
 */
static inline int rm_parse_plain(const uint8_t *p, uint32_t avail, uint32_t frame)
{
	if (avail < 14 + 20 + 4) /* IPv4's header and the ports */
		return 0;
	/* The EtherType, then the version and IPv4's header length or
	 * IPv6's traffic class, flow label and payload length. */
	uint64_t w = rm_get_be64(p + 12);
	if (w >> 44 == ((uint64_t)RM_ET_IPV6 << 4 | 6)) {
		uint32_t payload = (uint16_t)w;
		if (avail < 14 + 40 + 4 || 14 + 40 + payload > frame ||
		    !rm_plain_proto(p, 14 + 40, p[14 + 6]))
			return 0;
		return 6;
	}
	if (w >> 40 == ((uint64_t)RM_ET_IPV4 << 8 | 0x45)) { /* version 4, 20-byte header */
		uint32_t total = (uint16_t)(w >> 16);
		if (total < 20 || 14 + total > frame || !rm_plain_proto(p, 14 + 20, p[14 + 9]))
			return 0;
		return 4;
	}
	return 0;
}

#endif
