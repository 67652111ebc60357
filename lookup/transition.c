/*
 * transition.c - the IPv4 address inside a 6to4, Teredo or NAT64 address
 * (transition.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "transition.h"

#define SIXTOFOUR_HI  0x2002	 /* 2002::/16 */
#define TEREDO_HI     0x20010000 /* 2001::/32 */
#define U_OCTET	      8		 /* RFC 6052: byte 8 of a NAT64 address is 0 */
#define TEREDO_SERVER 4		 /* byte offsets of the server and client IPv4 */
#define TEREDO_CLIENT 12

static const char *const via_names[RM_VIA_COUNT] = {"", "6to4", "teredo", "nat64"};

const char *rm_via_name(unsigned via)
{
	return via < RM_VIA_COUNT ? via_names[via] : "invalid";
}

/* One prefix, its bits past len cleared. */
/* Whether t holds prefix/len already (the operator may give a prefix both
 * to rirdb build --nat64 and to --nat64, or a well-known one again). */
static int held(const struct rm_transition *t, const uint8_t prefix[16], unsigned len)
{
	for (unsigned k = 0; k < t->n; k++)
		if (t->len[k] == len && memcmp(t->prefix[k], prefix, len / 8) == 0)
			return 1;
	return 0;
}

/* Add prefix/len to t, which has room. */
static void add(struct rm_transition *t, const uint8_t prefix[16], unsigned len)
{
	uint8_t mask[16] = {0};
	memset(mask, 0xff, len / 8);
	memset(t->prefix[t->n], 0, 16);
	memcpy(t->prefix[t->n], prefix, len / 8);
	memcpy(t->word[t->n], t->prefix[t->n], 16);
	memcpy(t->mask[t->n], mask, 16);
	t->len[t->n++] = (uint8_t)len;
}

static int rfc6052_len(unsigned len)
{
	return len == 32 || len == 40 || len == 48 || len == 56 || len == 64 || len == 96;
}

void rm_transition_init(struct rm_transition *t)
{
	static const uint8_t well_known[16] = {0, 0x64, 0xff, 0x9b};
	static const uint8_t local_use[16] = {0, 0x64, 0xff, 0x9b, 0, 1};
	t->n = 0;
	add(t, well_known, 96);
	add(t, local_use, 48);
}

int rm_transition_add(struct rm_transition *t, const char *list, char *err, size_t errlen)
{
	char item[128];
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ",");
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, s, n);
		item[n] = '\0';
		s += n + (s[n] == ',');
		char *slash = strchr(item, '/');
		unsigned len = 0;
		uint8_t a[16];
		int ok = slash && sscanf(slash + 1, "%u", &len) == 1;
		if (ok) {
			*slash = '\0';
			char back[8];
			snprintf(back, sizeof(back), "%u", len);
			ok = strcmp(slash + 1, back) == 0 && inet_pton(AF_INET6, item, a) == 1 &&
			     rfc6052_len(len);
			*slash = '/';
		}
		if (!ok) {
			snprintf(err, errlen,
				 "--nat64: '%s' is not an IPv6 prefix of 32, 40, 48, 56, 64 or 96 "
				 "bits",
				 item);
			return -1;
		}
		if (held(t, a, len))
			continue;
		if (t->n >= RM_NAT64_MAX + 2) {
			snprintf(err, errlen, "--nat64: more than %d prefixes", RM_NAT64_MAX);
			return -1;
		}
		add(t, a, len);
	}
	return 0;
}

int rm_transition_check_db(const struct rm_db *db, char *err, size_t errlen)
{
	if (db->n_nat64 > RM_NAT64_MAX) {
		snprintf(err, errlen, "%u NAT64 prefixes, more than %d", db->n_nat64, RM_NAT64_MAX);
		return -1;
	}
	for (uint32_t i = 0; i < db->n_nat64; i++) {
		const struct rm_nat64_prefix *x = &db->nat64[i];
		static const uint8_t zero[16];
		if (!rfc6052_len(x->len) || memcmp(x->prefix + x->len / 8, zero, 16 - x->len / 8)) {
			snprintf(err, errlen, "NAT64 prefix %u: not of an RFC 6052 length", i);
			return -1;
		}
	}
	return 0;
}

int rm_transition_add_db(struct rm_transition *t, const struct rm_db *db, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < db->n_nat64; i++) {
		const struct rm_nat64_prefix *x = &db->nat64[i];
		if (held(t, x->prefix, x->len))
			continue;
		if (t->n >= RM_NAT64_MAX + 2) {
			snprintf(err, errlen,
				 "the snapshot's NAT64 prefixes and --nat64's together are more "
				 "than %d",
				 RM_NAT64_MAX);
			return -1;
		}
		add(t, x->prefix, x->len);
	}
	return 0;
}

uint32_t rm_transition_to_db(const struct rm_transition *t, struct rm_nat64_prefix *out)
{
	uint32_t n = 0;
	for (unsigned k = 2; k < t->n; k++, n++) { /* past the well-known two */
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].prefix, t->prefix[k], 16);
		out[n].len = t->len[k];
	}
	return n;
}

/* Whether a lies in prefix k of t. */
static int in_prefix(const struct rm_transition *t, unsigned k, const uint8_t a[16])
{
	uint64_t w[2];
	memcpy(w, a, 16);
	return (((w[0] ^ t->word[k][0]) & t->mask[k][0]) |
		((w[1] ^ t->word[k][1]) & t->mask[k][1])) == 0;
}

enum rm_via rm_transition_embedded(const struct rm_transition *t, const uint8_t a[16], uint32_t *v4,
				   uint32_t *server)
{
	*server = 0;
	if (rm_get_be16(a) == SIXTOFOUR_HI) {
		*v4 = rm_get_be32(a + 2);
		return RM_VIA_6TO4;
	}
	if (rm_get_be32(a) == TEREDO_HI) {
		*server = rm_get_be32(a + TEREDO_SERVER);
		*v4 = ~rm_get_be32(a + TEREDO_CLIENT); /* obfuscated: every bit inverted */
		return RM_VIA_TEREDO;
	}
	for (unsigned k = 0; k < t->n; k++) {
		if (!in_prefix(t, k, a))
			continue;
		uint8_t b[4];
		for (unsigned i = t->len[k] / 8, j = 0; j < 4; i++)
			if (i != U_OCTET)
				b[j++] = a[i];
		*v4 = rm_get_be32(b);
		return RM_VIA_NAT64;
	}
	return RM_VIA_NONE;
}

/* Flag the ids of [first, last]: of every range that meets it (a label
 * or a more specific record inside a prefix gives its addresses an id of
 * their own), from the one that holds first (the ranges cover the whole
 * space) to the one that holds last. */
static void flag(struct rm_via_map *m, const struct rm_db *db, const uint8_t first[16],
		 const uint8_t last[16])
{
	rm_u128 end = rm_v6_from_bytes(last);
	for (uint32_t i = rm_ref_find6(db, rm_v6_from_bytes(first));
	     i < db->v6.n && rm_key_get(db->v6.start[i]) <= end; i++)
		m->maybe[db->v6.id[i]] = 1;
}

/* The last address of the prefix of len bits (a multiple of 8) at p. */
static void last_of(const uint8_t p[16], unsigned len, uint8_t last[16])
{
	memcpy(last, p, 16);
	memset(last + len / 8, 0xff, 16 - len / 8);
}

int rm_via_map_init(struct rm_via_map *m, const struct rm_lookup *l, const struct rm_transition *t)
{
	m->t = t;
	m->maybe = calloc(l->db->n_attrs ? l->db->n_attrs : 1, 1);
	if (!m->maybe)
		return -1;
	static const uint8_t sixtofour[16] = {0x20, 0x02}, teredo[16] = {0x20, 0x01};
	uint8_t last[16];
	last_of(sixtofour, 16, last);
	flag(m, l->db, sixtofour, last);
	last_of(teredo, 32, last);
	flag(m, l->db, teredo, last);
	for (unsigned k = 0; k < t->n; k++) {
		last_of(t->prefix[k], t->len[k], last);
		flag(m, l->db, t->prefix[k], last);
	}
	return 0;
}

void rm_via_map_free(struct rm_via_map *m)
{
	free(m->maybe);
	m->maybe = NULL;
}

uint32_t rm_via_attribute(const struct rm_via_map *m, const struct rm_lookup *l,
			  const uint8_t a[16], uint32_t id, enum rm_via *via)
{
	uint32_t v4, server;
	*via = m->maybe[id] ? rm_transition_embedded(m->t, a, &v4, &server) : RM_VIA_NONE;
	return *via == RM_VIA_NONE ? id : rm_lookup4_one(l, v4);
}
