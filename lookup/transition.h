/*
 * transition.h - IPv6 addresses that carry an IPv4 address (transition.c).
 *
 * A 6to4 address (2002::/16, RFC 3056) carries its site's IPv4 in bits
 * 16-47; a Teredo address (2001::/32, RFC 4380) its server's IPv4 in bits
 * 32-63 and its client's, every bit inverted, in bits 96-127; a NAT64
 * address (RFC 6052) the IPv4 it stands for, after the well-known prefix
 * 64:ff9b::/96, the local-use 64:ff9b:1::/48 (RFC 8215), or an operator's
 * own prefix of 32, 40, 48, 56, 64 or 96 bits, skipping bits 64-71 (the
 * "u" octet).  Such an address is attributed as its embedded IPv4 (for
 * Teredo, the client's): a registry's space, or special space when the
 * IPv4 is special (192.0.2.1 inside 6to4 stays documentation space).
 */
#ifndef RM_TRANSITION_H
#define RM_TRANSITION_H

#include <stddef.h>
#include <stdint.h>

#include "lookup.h"

/* How an IPv6 address carries an IPv4 one (the `via` column and key). */
enum rm_via { RM_VIA_NONE, RM_VIA_6TO4, RM_VIA_TEREDO, RM_VIA_NAT64, RM_VIA_COUNT };

/* "", "6to4", "teredo", "nat64". */
const char *rm_via_name(unsigned via);

#define RM_NAT64_MAX 16 /* operator prefixes, besides the two well-known ones */

/* The NAT64 prefixes in use: the well-known ones and the operator's. */
struct rm_transition {
	uint8_t prefix[RM_NAT64_MAX + 2][16];
	uint8_t len[RM_NAT64_MAX + 2]; /* bits: 32, 40, 48, 56, 64 or 96 */
	/* The same as two 64-bit words of prefix and of mask (0xff for each
	 * byte of the prefix), in memory order: a match is two and-nots. */
	uint64_t word[RM_NAT64_MAX + 2][2], mask[RM_NAT64_MAX + 2][2];
	unsigned n;
};

/* The well-known NAT64 prefixes only. */
void rm_transition_init(struct rm_transition *t);

/* Add the operator's prefixes from "PREFIX/LEN,..." (--nat64), each one
 * once (a prefix t holds is skipped); -1 with a reason in err when one is
 * not an IPv6 prefix of an RFC 6052 length, or there are more than
 * RM_NAT64_MAX. */
int rm_transition_add(struct rm_transition *t, const char *list, char *err, size_t errlen);

/* A snapshot's NAT64 section (rirdb build --nat64) holds at most
 * RM_NAT64_MAX prefixes of RFC 6052 lengths, the bits past each length
 * zero; -1 with a reason otherwise. */
int rm_transition_check_db(const struct rm_db *db, char *err, size_t errlen);

/* Add a checked snapshot's prefixes to t, skipping those t holds; -1 with
 * a reason in err when the operator's (--nat64's) and the snapshot's
 * together are more than RM_NAT64_MAX: a prefix left out would count its
 * addresses as themselves, so the caller refuses to start. */
int rm_transition_add_db(struct rm_transition *t, const struct rm_db *db, char *err, size_t errlen);

/* The prefixes t holds beyond the well-known two, as a snapshot's NAT64
 * section (rirdb build --nat64): into out (RM_NAT64_MAX), their count. */
uint32_t rm_transition_to_db(const struct rm_transition *t, struct rm_nat64_prefix *out);

/* Whether a (16 bytes, network order) carries an IPv4 address: how, the
 * IPv4 to attribute it to (*v4, host order; Teredo's client), and for
 * Teredo the server's IPv4 in *server (else 0).  RM_VIA_NONE otherwise. */
enum rm_via rm_transition_embedded(const struct rm_transition *t, const uint8_t a[16], uint32_t *v4,
				   uint32_t *server);

/*
 * Which attribution ids a transition address can have, for a bound
 * snapshot: the ids of every range that meets 2002::/16, 2001::/32 or a
 * NAT64 prefix (special space; for an operator's prefix the record around
 * it, and any label or more specific record inside it).  A fast path
 * looks an IPv6 address up as usual and checks maybe[id], one load,
 * before anything else.
 */
struct rm_via_map {
	uint8_t *maybe; /* indexed by attribution id */
	const struct rm_transition *t;
};

int rm_via_map_init(struct rm_via_map *m, const struct rm_lookup *l, const struct rm_transition *t);
void rm_via_map_free(struct rm_via_map *m);

/* The attribution of a, looked up as id: the embedded IPv4's when a is a
 * transition address (*via says how), else id (*via RM_VIA_NONE). */
uint32_t rm_via_attribute(const struct rm_via_map *m, const struct rm_lookup *l,
			  const uint8_t a[16], uint32_t id, enum rm_via *via);

#endif
