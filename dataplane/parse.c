/*
 * parse.c - from a frame to the two addresses to attribute.
 *
 * Ethernet II, then any stack of 802.1Q (0x8100), 802.1ad (0x88a8) and
 * legacy QinQ (0x9100) tags, then optionally an MPLS label stack (0x8847,
 * 0x8848) whose payload is IPv4 or IPv6 by its first nibble, then the IP
 * header.  A frame is IPv4, IPv6, non-IP (another EtherType, or an MPLS
 * payload that is not IP, such as a pseudowire), or malformed, with the
 * first reason found.  Nothing beyond the IP header (and IPv6's extension
 * headers, or an authentication header) is read, so every fragment of a
 * datagram counts, and Ethernet padding after the IP datagram is allowed.
 * The parser reads only the len bytes it is given; the IP length fields
 * are checked against the whole frame's length.
 *
 * The IP header checks and untagged Ethernet live in parse.h, inline,
 * so that a worker parses the common frame without a call; this file has
 * the tag loop and the MPLS stack, which are not worth inlining, and the
 * tunnels (below).
 */
#include <string.h>

#include "parse.h"

#define ET_VLAN	 0x8100
#define ET_QINQ	 0x88a8
#define ET_QINQ9 0x9100
#define ET_MPLS	 0x8847
#define ET_MPLSM 0x8848

#define MAX_TAGS   8
#define MAX_LABELS 16

static const char *const reasons[RM_BAD_COUNT] = {
    "truncated",   "ipv4_ihl",	    "ipv4_length",   "ip_version",
    "ipv6_length", "too_many_tags", "tunnel_header", "too_many_tunnels",
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

/* IPv6 extension headers (RFC 8200): next header and length in the first
 * two bytes, the length in 8-byte units not counting the first 8; the
 * fragment header is 8 bytes, its offset (in 8 bytes) and M flag in the
 * third and fourth.  The authentication header (RFC 4302), in IPv4 and
 * IPv6: next header and length too, in 4-byte units less 2.  Linux's
 * ip6_tnl sends a destination options header, RFC 2473's encapsulation
 * limit, before every 4in6 and 6in6 packet. */
#define IPV6_FRAG_LEN 8
#define MAX_EXT	      8

void rm_parse_ext(const uint8_t *p, uint32_t len, struct rm_frame *f)
{
	uint32_t off = f->l4_off, end = off + f->l4_len;
	len = len < end ? len : end;
	int v6 = f->cls == RM_FRAME_IPV6;
	for (unsigned n = 0; n < MAX_EXT && f->fragment != 2 &&
			     (v6 ? rm_ipv6_ext(f->proto) : f->proto == RM_IPPROTO_AH);
	     n++) {
		if (len < off + 2)
			return;
		uint32_t hl = f->proto == RM_IPPROTO_FRAGMENT ? IPV6_FRAG_LEN
			      : f->proto == RM_IPPROTO_AH     ? (p[off + 1] + 2u) * 4
							      : (p[off + 1] + 1u) * 8;
		if (len < off + hl)
			return;
		if (f->proto == RM_IPPROTO_FRAGMENT) {
			uint16_t frag = rm_get_be16(p + off + 2);
			f->fragment = frag >> 3 ? 2 : frag & 1 ? 1 : 0; /* later, first, none */
		}
		f->proto = p[off];
		off += hl;
		f->l4_off = off;
		f->l4_len = end - off;
	}
}

/* From an EtherType at off (the bytes after it start at off): tags, MPLS,
 * IP, or not IP.  Ethernet's own type and GRE's and Geneve's protocol
 * types (EtherTypes too) come here. */
static void parse_ethertype(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
			    uint16_t type, struct rm_frame *f)
{
	f->cls = RM_FRAME_NON_IP;
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

/* An Ethernet frame at off: its EtherType on. */
static void parse_ethernet(const uint8_t *p, uint32_t len, uint32_t frame, uint32_t off,
			   struct rm_frame *f)
{
	if (len < off + 14)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	parse_ethertype(p, len, frame, off + 14, rm_get_be16(p + off + 12), f);
}

void rm_parse_frame_tagged(const uint8_t *p, uint32_t len, uint32_t frame, struct rm_frame *f)
{
	parse_ethernet(p, len, frame, 0, f);
}

/* ------------------------------------------------------------------ */
/* Tunnels                                                             */

/*
 * Each level below reads one encapsulation header of the IP packet f,
 * whose bytes present end at len (at most the packet's end) and whose
 * payload ends at end, and parses what it carries into f: the next IP
 * header, or non-IP, or malformed.  The headers, by their RFCs:
 *
 *   GRE (RFC 2784, 2890)   flags and version (C 0x8000, R 0x4000, K 0x2000,
 *                          S 0x1000, version 0), protocol type (an
 *                          EtherType), then checksum, key, sequence: 4
 *                          bytes each when their flag is set
 *   ERSPAN                 GRE protocol 0x88be: type II (8 bytes, version
 *                          1) when GRE has a sequence number, else type I
 *                          (no header); 0x22eb: type III (12 bytes, version
 *                          2, 8 more with the O flag); then the mirrored
 *                          Ethernet frame
 *   VXLAN (RFC 7348)       8 bytes, flag I (0x08) set, then Ethernet
 *   Geneve (RFC 8926)      version 0 and option length (4-byte words) in
 *                          the first byte, protocol type, VNI; then options
 *   GTP-U (TS 29.281)      version 1, PT 1, flags E S PN, message type,
 *                          length (after the first 8 bytes), TEID; 4 more
 *                          bytes when any of E S PN is set, the last of
 *                          them the next extension type; extensions are
 *                          4n bytes, n in their first byte, the next type
 *                          in their last.  Message 255 (G-PDU) carries a
 *                          user packet, IPv4 or IPv6 by its version; other
 *                          messages (echo, end marker) are not IP.
 */

#define GRE_C		0x8000 /* checksum and reserved word present */
#define GRE_R		0x4000 /* routing present: RFC 1701 only, refused */
#define GRE_K		0x2000 /* key present */
#define GRE_S		0x1000 /* sequence number present */
#define GRE_VERSION	0x0007
#define ET_TEB		0x6558 /* transparent Ethernet bridging: an Ethernet frame */
#define ET_ERSPAN2	0x88be /* ERSPAN type II, or type I without a GRE sequence */
#define ET_ERSPAN3	0x22eb
#define ERSPAN2_LEN	8
#define ERSPAN3_LEN	12
#define ERSPAN3_SUB_LEN 8    /* platform-specific subheader, with flag O */
#define ERSPAN3_O	0x01 /* in the header's last byte */
#define ERSPAN3_FT	0x7c /* frame type, in its 11th byte: 0 Ethernet */
#define VXLAN_LEN	8
#define VXLAN_I		0x08 /* the VNI is valid; RFC 7348 requires it */
#define GENEVE_LEN	8
#define GTPU_LEN	8
#define GTPU_OPT_LEN	4    /* sequence, N-PDU number, next extension type */
#define GTPU_VERSION_PT 0x30 /* version 1 (top three bits), PT 1: GTP, not GTP' */
#define GTPU_E_S_PN	0x07
#define GTPU_E		0x04
#define GTPU_G_PDU	0xff
#define UDP_LEN		8

/* Version of an IP header at off (first nibble): IPv4, IPv6, else not IP. */
static void parse_ip_by_version(const uint8_t *p, uint32_t len, uint32_t end, uint32_t off,
				struct rm_frame *f)
{
	if (len < off + 1)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	if (p[off] >> 4 == 4)
		return rm_parse_ipv4_at(p, len, end, off, f);
	if (p[off] >> 4 == 6)
		return rm_parse_ipv6_at(p, len, end, off, f);
	f->cls = RM_FRAME_NON_IP;
}

/* GRE at off, and ERSPAN in it; the kind it turned out to be. */
static enum rm_tunnel_kind gre(const uint8_t *p, uint32_t len, uint32_t end, uint32_t off,
			       struct rm_frame *f)
{
	if (len < off + 4) {
		rm_parse_bad(f, RM_BAD_TRUNCATED);
		return RM_TUN_GRE;
	}
	uint16_t flags = rm_get_be16(p + off), type = rm_get_be16(p + off + 2);
	off += 4 + (flags & GRE_C ? 4 : 0) + (flags & GRE_K ? 4 : 0) + (flags & GRE_S ? 4 : 0);
	if (flags & (GRE_R | GRE_VERSION)) { /* source routes; PPTP's enhanced GRE */
		rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
		return RM_TUN_GRE;
	}
	if (type == ET_ERSPAN2 || type == ET_ERSPAN3) {
		uint32_t hl = type == ET_ERSPAN3 ? ERSPAN3_LEN : flags & GRE_S ? ERSPAN2_LEN : 0;
		unsigned version = type == ET_ERSPAN3 ? 2 : 1;
		if (len < off + hl)
			rm_parse_bad(f, RM_BAD_TRUNCATED);
		else if (hl && p[off] >> 4 != version)
			rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
		else if (type == ET_ERSPAN3 && (p[off + 10] & ERSPAN3_FT))
			f->cls = RM_FRAME_NON_IP; /* a mirrored frame that is not Ethernet */
		else
			parse_ethernet(p, len, end,
				       off + hl +
					   (type == ET_ERSPAN3 && (p[off + 11] & ERSPAN3_O)
						? ERSPAN3_SUB_LEN
						: 0),
				       f);
		return RM_TUN_ERSPAN;
	}
	if (len < off) /* the optional words */
		rm_parse_bad(f, RM_BAD_TRUNCATED);
	else if (type == ET_TEB)
		parse_ethernet(p, len, end, off, f);
	else
		parse_ethertype(p, len, end, off, type, f);
	return RM_TUN_GRE;
}

/* GTP-U at off: a G-PDU's user packet, past the extension headers. */
static void gtpu(const uint8_t *p, uint32_t len, uint32_t end, uint32_t off, struct rm_frame *f)
{
	if (len < off + GTPU_LEN)
		return rm_parse_bad(f, RM_BAD_TRUNCATED);
	uint8_t flags = p[off], type = p[off + 1];
	uint32_t msg_end = off + GTPU_LEN + rm_get_be16(p + off + 2);
	if ((flags & 0xf0) != GTPU_VERSION_PT || msg_end > end)
		return rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
	off += GTPU_LEN;
	if (flags & GTPU_E_S_PN) {
		if (len < off + GTPU_OPT_LEN)
			return rm_parse_bad(f, RM_BAD_TRUNCATED);
		uint8_t next = flags & GTPU_E ? p[off + 3] : 0;
		off += GTPU_OPT_LEN;
		while (next) { /* each at least 4 bytes: bounded by the message */
			if (len < off + 1)
				return rm_parse_bad(f, RM_BAD_TRUNCATED);
			uint32_t ext = p[off] * 4u;
			if (ext == 0 || off + ext > msg_end)
				return rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
			if (len < off + ext)
				return rm_parse_bad(f, RM_BAD_TRUNCATED);
			next = p[off + ext - 1];
			off += ext;
		}
	}
	if (off > msg_end)
		return rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
	if (type != GTPU_G_PDU) {
		f->cls = RM_FRAME_NON_IP;
		return;
	}
	/* The user packet is the message's: what follows it in the datagram
	 * is not (a G-PDU of no bytes would take its version from there). */
	parse_ip_by_version(p, len < msg_end ? len : msg_end, msg_end, off, f);
}

/* The UDP datagram at off, when it is to a tunnel's port (VXLAN, Geneve,
 * GTP-U): what it carries parsed into f, and the kind; -1, f untouched,
 * when it is to another port or its UDP header is cut (then no tunnel can
 * be told apart, and the packet carrying it stands as it is). */
static int udp_tunnel(const uint8_t *p, uint32_t len, uint32_t end, uint32_t off,
		      struct rm_frame *f)
{
	if (len < off + UDP_LEN)
		return -1;
	uint16_t port = rm_get_be16(p + off + 2);
	int kind = port == RM_UDP_PORT_GTPU	? RM_TUN_GTPU
		   : port == RM_UDP_PORT_VXLAN	? RM_TUN_VXLAN
		   : port == RM_UDP_PORT_GENEVE ? RM_TUN_GENEVE
						: -1;
	if (kind < 0)
		return -1;
	uint32_t ulen = rm_get_be16(p + off + 4);
	if (ulen < UDP_LEN || off + ulen > end) {
		rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
		return kind;
	}
	/* The tunnel is the datagram's payload: what follows the datagram in
	 * the IP packet is not its header, which would otherwise be read
	 * there as whole (and an Ethernet frame found in it). */
	end = off + ulen;
	len = len < end ? len : end;
	off += UDP_LEN;
	if (kind == RM_TUN_GTPU) {
		gtpu(p, len, end, off, f);
	} else if (kind == RM_TUN_VXLAN) {
		if (len < off + VXLAN_LEN)
			rm_parse_bad(f, RM_BAD_TRUNCATED);
		else if (!(p[off] & VXLAN_I))
			rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
		else
			parse_ethernet(p, len, end, off + VXLAN_LEN, f);
	} else {
		if (len < off + GENEVE_LEN) {
			rm_parse_bad(f, RM_BAD_TRUNCATED);
			return kind;
		}
		uint32_t hl = GENEVE_LEN + (p[off] & 0x3f) * 4u;
		uint16_t type = rm_get_be16(p + off + 2);
		if (p[off] >> 6 != 0)
			rm_parse_bad(f, RM_BAD_TUNNEL_HEADER);
		else if (len < off + hl)
			rm_parse_bad(f, RM_BAD_TRUNCATED);
		else if (type == ET_TEB)
			parse_ethernet(p, len, end, off + hl, f);
		else
			parse_ethertype(p, len, end, off + hl, type, f);
	}
	return kind;
}

/* One level: the tunnel IP packet f carries, parsed into f; its kind, or
 * -1 (f untouched) when it carries none. */
static int decapsulate(const uint8_t *p, uint32_t avail, struct rm_frame *f)
{
	if (f->fragment)
		return -1;
	uint32_t end = f->l4_off + f->l4_len, off = f->l4_off;
	uint32_t len = avail < end ? avail : end;
	int v6 = f->cls == RM_FRAME_IPV6;
	switch (f->proto) {
	case RM_IPPROTO_IPIP:
		rm_parse_ipv4_at(p, len, end, off, f);
		return v6 ? RM_TUN_4IN6 : RM_TUN_IPIP;
	case RM_IPPROTO_IPV6:
		rm_parse_ipv6_at(p, len, end, off, f);
		return v6 ? RM_TUN_6IN6 : RM_TUN_6IN4;
	case RM_IPPROTO_GRE:
		return (int)gre(p, len, end, off, f);
	case RM_IPPROTO_UDP:
		return udp_tunnel(p, len, end, off, f);
	default:
		return -1;
	}
}

void rm_parse_tunnels(const uint8_t *p, uint32_t avail, const struct rm_frame *outer,
		      struct rm_frame *inner, struct rm_tunnels *t)
{
	*inner = *outer;
	t->n = 0;
	/* Each level in place: decapsulate leaves the frame as it was when it
	 * finds no tunnel, and one level too many ends malformed anyway. */
	while (inner->cls == RM_FRAME_IPV4 || inner->cls == RM_FRAME_IPV6) {
		int kind = decapsulate(p, avail, inner);
		if (kind < 0)
			return;
		if (t->n == RM_TUNNEL_MAX)
			return rm_parse_bad(inner, RM_BAD_TOO_MANY_TUNNELS);
		t->kind[t->n++] = (uint8_t)kind;
	}
}

static const char *const tunnel_names[RM_TUN_COUNT] = {
    "gre", "erspan", "vxlan", "geneve", "gtpu", "ipip", "6in4", "4in6", "6in6",
};

const char *rm_tunnel_name(unsigned kind)
{
	return kind < RM_TUN_COUNT ? tunnel_names[kind] : "invalid";
}

int rm_tunnel_mode_parse(const char *s, enum rm_tunnel_mode *mode)
{
	static const char *const names[] = {"outer", "inner", "both"};
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum rm_tunnel_mode)i;
			return 0;
		}
	return -1;
}
