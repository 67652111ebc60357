/*
 * model.c - names, the reference lookup, text forms, the consistency
 * check, and the in-memory model builder.
 *
 * The builder interns strings and attributions in open-addressing hash
 * tables so that equal tuples always get the same dense id; ids are handed
 * out in first-seen order, which makes a build deterministic for a given
 * input order.  Id 0 is reserved for "unknown" and string offset 0 for "".
 */
#include "model.h"
#include "grow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "output.h"

static const char *const rir_names[RM_RIR_COUNT] = {
    "unknown", "iana", "afrinic", "apnic", "arin", "lacnic", "ripencc",
};

static const char *const status_names[RM_ST_COUNT] = {
    "unknown", "allocated", "assigned", "available", "reserved", "designated", "legacy", "special",
};

static const char *const kind_names[RM_IN_KIND_COUNT] = {
    "stats",	   "iana-ipv4",	   "iana-ipv6",	  "special-ipv4", "special-ipv6",
    "special-asn", "holders-rpsl", "holders-csv", "labels",	  "as-names",
    "location",	   "nicbr",	   "nir-ids",	  "mmdb",
};

static const char *const unused_names[RM_UNUSED_COUNT] = {
    "", "superseded", "set aside: records missing", "refused at its header", "records missing",
};

static const char *const nir_names[RM_NIR_COUNT] = {
    "", "jpnic", "krnic", "cnnic", "twnic", "idnic", "vnnic", "irinn", "nicbr",
};

static const char *const name_source_names[RM_NAME_SOURCE_COUNT] = {
    "", "csv", "rpsl", "nicbr", "asname",
};

const char *rm_rir_name(unsigned rir)
{
	return rir < RM_RIR_COUNT ? rir_names[rir] : "invalid";
}

const char *rm_status_name(unsigned status)
{
	return status < RM_ST_COUNT ? status_names[status] : "invalid";
}

const char *rm_input_kind_name(unsigned kind)
{
	return kind < RM_IN_KIND_COUNT ? kind_names[kind] : "invalid";
}

const char *rm_input_unused_name(unsigned unused)
{
	return unused < RM_UNUSED_COUNT ? unused_names[unused] : "invalid";
}

const char *rm_nir_name(unsigned nir)
{
	return nir < RM_NIR_COUNT ? nir_names[nir] : "invalid";
}

const char *rm_name_source_name(unsigned src)
{
	return src < RM_NAME_SOURCE_COUNT ? name_source_names[src] : "invalid";
}

int rm_key_nir(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n)
{
	(void)db;
	return snprintf(out, n, "%s:%s", rm_rir_name(a->rir), rm_nir_name(a->nir));
}

int rm_key_country(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n)
{
	(void)db;
	return snprintf(out, n, "%s:%c%c", rm_rir_name(a->rir), a->cc[0] ? a->cc[0] : 'Z',
			a->cc[0] ? a->cc[1] : 'Z');
}

int rm_key_holder(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n)
{
	const char *h = rm_str(db, *rm_str(db, a->holder_id) ? a->holder_id : a->holder_name);
	if (!*h)
		return snprintf(out, n, "none");
	if (strncmp(h, RM_LABEL_PREFIX, sizeof(RM_LABEL_PREFIX) - 1) == 0)
		return snprintf(out, n, "%s", h);
	return snprintf(out, n, "%s:%s", rm_rir_name(a->rir), h);
}

static int name_index(const char *const *names, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

int rm_rir_from_name(const char *s, size_t len)
{
	return name_index(rir_names, RM_RIR_COUNT, s, len);
}

int rm_nir_from_name(const char *s, size_t len)
{
	return len ? name_index(nir_names, RM_NIR_COUNT, s, len) : -1;
}

int rm_status_from_name(const char *s, size_t len)
{
	return name_index(status_names, RM_ST_COUNT, s, len);
}

rm_u128 rm_v6_from_bytes(const uint8_t b[16])
{
	return (rm_u128)rm_get_be64(b) << 64 | rm_get_be64(b + 8);
}

void rm_v6_to_bytes(rm_u128 v, uint8_t b[16])
{
	rm_put_be64(b, (uint64_t)(v >> 64));
	rm_put_be64(b + 8, (uint64_t)v);
}

/* ------------------------------------------------------------------ */
/* Reference lookup: last range whose start is <= key.                 */

static uint32_t find32(const struct rm_ranges32 *r, uint32_t key)
{
	uint32_t lo = 0, hi = r->n; /* answer in [lo, hi) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->start[mid] <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

uint32_t rm_ref_find4(const struct rm_db *db, uint32_t addr)
{
	return find32(&db->v4, addr);
}

uint32_t rm_ref_geo4(const struct rm_db *db, uint32_t addr)
{
	return db->n_geo ? db->geo_v4.id[find32(&db->geo_v4, addr)] : 0;
}

uint32_t rm_ref_findasn(const struct rm_db *db, uint32_t asn)
{
	return find32(&db->asn, asn);
}

static uint32_t find128(const struct rm_ranges128 *r, rm_u128 key)
{
	uint32_t lo = 0, hi = r->n;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rm_key_get(r->start[mid]) <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

uint32_t rm_ref_find6(const struct rm_db *db, rm_u128 addr)
{
	return find128(&db->v6, addr);
}

uint32_t rm_ref_geo6(const struct rm_db *db, rm_u128 addr)
{
	return db->n_geo ? db->geo_v6.id[find128(&db->geo_v6, addr)] : 0;
}

bool rm_attr_is_holder(const struct rm_db *db, const struct rm_attr *a)
{
	const char *id = rm_str(db, a->holder_id);
	/* IANA's names and operator labels are not a registry's holders. */
	return a->rir >= RM_RIR_AFRINIC && a->rir < RM_RIR_COUNT && *id &&
	       strncmp(id, RM_LABEL_PREFIX, sizeof(RM_LABEL_PREFIX) - 1) != 0;
}

int rm_holder_cmp(const struct rm_db *db, const struct rm_attr *a, const struct rm_attr *b)
{
	if (a->rir != b->rir)
		return a->rir < b->rir ? -1 : 1;
	return strcmp(rm_str(db, a->holder_id), rm_str(db, b->holder_id));
}

uint32_t rm_ref_asn_attr(const struct rm_db *db, uint32_t asn)
{
	return asn && db->asn.n ? db->asn.id[rm_ref_findasn(db, asn)] : UINT32_MAX;
}

enum rm_origin rm_origin_of(const struct rm_db *db, uint32_t attr, uint32_t asn_attr)
{
	const struct rm_attr *a = &db->attrs[attr];
	if (asn_attr == UINT32_MAX || !rm_attr_is_holder(db, a))
		return RM_ORIGIN_UNKNOWN;
	const struct rm_attr *b = &db->attrs[asn_attr];
	if (!rm_attr_is_holder(db, b))
		return RM_ORIGIN_UNKNOWN;
	return rm_holder_cmp(db, a, b) == 0 ? RM_ORIGIN_HOLDER : RM_ORIGIN_OTHER;
}

enum rm_origin rm_ref_origin(const struct rm_db *db, uint32_t attr, uint32_t asn)
{
	return rm_origin_of(db, attr, rm_ref_asn_attr(db, asn));
}

const char *rm_asn_name(const struct rm_db *db, uint32_t asn)
{
	uint32_t id = rm_ref_asn_attr(db, asn);
	if (id == UINT32_MAX)
		return "";
	return rm_attr_is_holder(db, &db->attrs[id]) ? rm_holder_name(db, &db->attrs[id]) : "";
}

const char *rm_origin_name(enum rm_origin o)
{
	static const char *const names[RM_ORIGIN_COUNT] = {"unknown", "holder", "other"};
	return o < RM_ORIGIN_COUNT ? names[o] : "unknown";
}

/* ------------------------------------------------------------------ */
/* CIDR arithmetic                                                     */

static rm_u128 space_max(unsigned width)
{
	return width >= 128 ? ~(rm_u128)0 : (((rm_u128)1 << width) - 1);
}

/* Largest aligned block starting at first that does not pass last. */
static unsigned largest_block(rm_u128 first, rm_u128 last, unsigned width)
{
	unsigned plen = 0;
	for (; plen < width; plen++) {
		unsigned host = width - plen;
		rm_u128 mask = host >= 128 ? ~(rm_u128)0 : (((rm_u128)1 << host) - 1);
		if ((first & mask) == 0 && (first | mask) <= last)
			break;
	}
	return plen;
}

static rm_u128 block_last(rm_u128 base, unsigned plen, unsigned width)
{
	unsigned host = width - plen;
	return base | (host >= 128 ? ~(rm_u128)0 : (((rm_u128)1 << host) - 1));
}

unsigned rm_range_to_cidrs(rm_u128 first, rm_u128 last, unsigned width,
			   void (*fn)(rm_u128 base, unsigned plen, void *arg), void *arg)
{
	unsigned n = 0;
	for (;;) {
		unsigned plen = largest_block(first, last, width);
		rm_u128 end = block_last(first, plen, width);
		if (fn)
			fn(first, plen, arg);
		n++;
		if (end >= last || end == space_max(width))
			return n;
		first = end + 1;
	}
}

void rm_cidr_containing(rm_u128 first, rm_u128 last, unsigned width, rm_u128 key, rm_u128 *base,
			unsigned *plen)
{
	for (;;) {
		unsigned p = largest_block(first, last, width);
		rm_u128 end = block_last(first, p, width);
		if (key <= end || end >= last) {
			*base = first;
			*plen = p;
			return;
		}
		first = end + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Text forms                                                          */

void rm_format_key(enum rm_family f, rm_u128 key, char *out)
{
	if (f == RM_V4) {
		uint8_t a[4];
		rm_put_be32(a, (uint32_t)key);
		inet_ntop(AF_INET, a, out, RM_KEY_TEXT);
	} else if (f == RM_V6) {
		uint8_t b[16];
		rm_v6_to_bytes(key, b);
		inet_ntop(AF_INET6, b, out, RM_KEY_TEXT);
	} else {
		snprintf(out, RM_KEY_TEXT, "AS%u", (uint32_t)key);
	}
}

static unsigned family_width(unsigned f)
{
	return f == RM_V6 ? 128 : 32;
}

void rm_format_block(const struct rm_block *b, rm_u128 key, char *out)
{
	rm_u128 first = rm_key_get(b->first), last = rm_key_get(b->last);
	if (b->family == RM_ASN) {
		rm_format_range(b, out);
		return;
	}
	rm_u128 base;
	unsigned plen;
	rm_cidr_containing(first, last, family_width(b->family), key, &base, &plen);
	rm_format_key(b->family, base, out);
	size_t len = strlen(out);
	snprintf(out + len, RM_TEXT_MAX - len, "/%u", plen);
}

void rm_format_range(const struct rm_block *b, char *out)
{
	char a[RM_KEY_TEXT], z[RM_KEY_TEXT];
	rm_format_key(b->family, rm_key_get(b->first), a);
	rm_format_key(b->family, rm_key_get(b->last), z);
	if (rm_key_get(b->first) == rm_key_get(b->last))
		snprintf(out, RM_TEXT_MAX, "%s", a);
	else
		snprintf(out, RM_TEXT_MAX, "%s-%s", a, z);
}

void rm_format_date(uint32_t d, char out[16])
{
	if (d == 0)
		out[0] = '\0';
	else if (d % 100 == 0)
		snprintf(out, 16, "%04u-%02u", d / 10000 % 10000, d / 100 % 100);
	else
		snprintf(out, 16, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
}

/* ------------------------------------------------------------------ */
/* Consistency check                                                   */

static int fail(char *err, size_t errlen, const char *what, uint32_t i)
{
	snprintf(err, errlen, "%s (at index %u)", what, i);
	return -1;
}

static int check_string(const struct rm_db *db, uint32_t off)
{
	return off < db->strings_len;
}

/* A holder id or name in bounds: valid UTF-8, not longer than a label. */
static int check_holder_text(const struct rm_db *db, uint32_t off)
{
	const char *s = rm_str(db, off);
	size_t n = strnlen(s, db->strings_len - off);
	return n <= sizeof(RM_LABEL_PREFIX) - 1 + RM_HOLDER_TEXT_MAX && rm_utf8_valid(s, n);
}

/* An ISO 3166 code as the loaders keep it: two letters A-Z, or none. */
static int check_cc(const char cc[2])
{
	if (cc[0] == '\0' && cc[1] == '\0')
		return 1;
	return cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z';
}

/*
 * Labels and registry holders are told apart by the layer a range came
 * from, its provenance block's input, not by their text alone: a range
 * carries a "local:" holder exactly when its block is from a labels file
 * (merge.c gives a label's stretch the label's block).  So a snapshot in
 * which a registry's attribution poses as a label is refused, even one
 * not made by rirdb build.
 */
static int is_label_holder(const struct rm_db *db, const struct rm_attr *a)
{
	return strncmp(rm_str(db, a->holder_id), RM_LABEL_PREFIX, sizeof(RM_LABEL_PREFIX) - 1) == 0;
}

static int from_labels(const struct rm_db *db, uint32_t block)
{
	return block != RM_NO_BLOCK && db->inputs[db->blocks[block].input].kind == RM_IN_LABELS;
}

static int check_ids(const struct rm_db *db, const uint32_t *id, const uint32_t *block, uint32_t n,
		     unsigned family, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		if (id[i] >= db->n_attrs)
			return fail(err, errlen, "range points past the attribution table", i);
		if (block[i] != RM_NO_BLOCK &&
		    (block[i] >= db->n_blocks || db->blocks[block[i]].family != family))
			return fail(err, errlen, "range points at a bad block", i);
		if (is_label_holder(db, &db->attrs[id[i]]) != from_labels(db, block[i]))
			return fail(err, errlen,
				    "a 'local:' holder outside a label's block, or a label's "
				    "block without one",
				    i);
	}
	return 0;
}

/* The located layer: absent, or whole (see model.h). */
static int check_geo(const struct rm_db *db, char *err, size_t errlen)
{
	if (db->n_geo == 0)
		return db->geo_v4.n || db->geo_v6.n
			   ? fail(err, errlen, "located ranges without their table", 0)
			   : 0;
	if (db->geo[0].cc[0] || db->geo[0].cc[1] || db->geo[0].asn)
		return fail(err, errlen, "located entry 0 is not 'nothing known'", 0);
	for (uint32_t i = 0; i < db->n_geo; i++)
		if (!check_cc(db->geo[i].cc) || db->geo[i].pad)
			return fail(err, errlen, "located country is not two letters A-Z", i);
	if (db->geo_v4.n == 0 || db->geo_v4.start[0] != 0 || db->geo_v6.n == 0 ||
	    rm_key_get(db->geo_v6.start[0]) != 0)
		return fail(err, errlen, "located ranges do not start at address 0", 0);
	for (uint32_t i = 0; i < db->geo_v4.n; i++)
		if (db->geo_v4.id[i] >= db->n_geo ||
		    (i && db->geo_v4.start[i] <= db->geo_v4.start[i - 1]))
			return fail(err, errlen, "located IPv4 range out of order or bounds", i);
	for (uint32_t i = 0; i < db->geo_v6.n; i++)
		if (db->geo_v6.id[i] >= db->n_geo ||
		    (i && rm_key_get(db->geo_v6.start[i]) <= rm_key_get(db->geo_v6.start[i - 1])))
			return fail(err, errlen, "located IPv6 range out of order or bounds", i);
	return 0;
}

int rm_db_check(const struct rm_db *db, char *err, size_t errlen)
{
	if (db->strings_len == 0 || db->strings[db->strings_len - 1] != '\0' ||
	    db->strings[0] != '\0')
		return fail(err, errlen, "string pool not NUL-delimited", 0);
	if (db->n_attrs == 0 || db->attrs[0].rir != RM_RIR_UNKNOWN)
		return fail(err, errlen, "attribution 0 is not 'unknown'", 0);
	for (uint32_t i = 0; i < db->n_attrs; i++) {
		const struct rm_attr *a = &db->attrs[i];
		if (a->rir >= RM_RIR_COUNT || a->status >= RM_ST_COUNT)
			return fail(err, errlen, "attribution with bad rir or status", i);
		if (!check_string(db, a->holder_id) || !check_string(db, a->holder_name))
			return fail(err, errlen, "attribution string out of bounds", i);
		if (!check_holder_text(db, a->holder_id) || !check_holder_text(db, a->holder_name))
			return fail(err, errlen, "holder id or name too long or not valid UTF-8",
				    i);
		if (!check_cc(a->cc))
			return fail(err, errlen, "country code is not two letters A-Z", i);
		if (a->nir >= RM_NIR_COUNT || a->name_source >= RM_NAME_SOURCE_COUNT ||
		    (a->name_source != RM_NAME_NONE && !*rm_str(db, a->holder_name)) || a->pad[0] ||
		    a->pad[1])
			return fail(err, errlen, "attribution with bad nir or name source", i);
	}
	if (check_geo(db, err, errlen))
		return -1;
	for (uint32_t i = 0; i < db->n_inputs; i++) {
		const struct rm_input *in = &db->inputs[i];
		if (!check_string(db, in->name) || !check_string(db, in->serial) ||
		    in->kind >= RM_IN_KIND_COUNT || in->rir >= RM_RIR_COUNT ||
		    in->unused >= RM_UNUSED_COUNT)
			return fail(err, errlen, "bad input record", i);
	}
	for (uint32_t i = 0; i < db->n_blocks; i++) {
		const struct rm_block *b = &db->blocks[i];
		if (b->family >= RM_FAMILY_COUNT || b->input >= db->n_inputs ||
		    rm_key_get(b->first) > rm_key_get(b->last) ||
		    rm_key_get(b->last) > space_max(family_width(b->family)))
			return fail(err, errlen, "bad block", i);
	}
	const struct rm_ranges32 *r32[2] = {&db->v4, &db->asn};
	const unsigned fam32[2] = {RM_V4, RM_ASN};
	for (int k = 0; k < 2; k++) {
		const struct rm_ranges32 *r = r32[k];
		if (r->n == 0 || r->start[0] != 0)
			return fail(err, errlen, "range list does not start at 0", 0);
		for (uint32_t i = 1; i < r->n; i++)
			if (r->start[i] <= r->start[i - 1])
				return fail(err, errlen, "range starts not increasing", i);
		if (check_ids(db, r->id, r->block, r->n, fam32[k], err, errlen))
			return -1;
	}
	if (db->v6.n == 0 || rm_key_get(db->v6.start[0]) != 0)
		return fail(err, errlen, "IPv6 range list does not start at 0", 0);
	for (uint32_t i = 1; i < db->v6.n; i++)
		if (rm_key_get(db->v6.start[i]) <= rm_key_get(db->v6.start[i - 1]))
			return fail(err, errlen, "IPv6 range starts not increasing", i);
	return check_ids(db, db->v6.id, db->v6.block, db->v6.n, RM_V6, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Model builder                                                       */

/* Out of memory aborts (common/grow.h): the builder's calls hand out ids
 * and have no error to return. */
#define GROW(arr, n, cap) RM_GROW_OR_DIE(&(arr), &(cap), (n), 1, 64)

struct range_list {
	rm_u128 *start;
	uint32_t *id, *block;
	uint32_t n, cap;
};

struct rm_model {
	char *strings;
	uint32_t strings_len, strings_cap;
	uint32_t *str_hash; /* offsets + 1, 0 = empty slot */
	uint32_t str_hash_cap, n_strings;

	struct rm_attr *attrs;
	uint32_t n_attrs, attrs_cap;
	uint32_t *attr_hash; /* ids + 1 */
	uint32_t attr_hash_cap;

	struct rm_block *blocks;
	uint32_t n_blocks, blocks_cap;
	struct rm_input *inputs;
	uint32_t n_inputs, inputs_cap;

	struct range_list ranges[RM_FAMILY_COUNT];

	struct rm_geo *geo; /* the located layer, as rm_model_set_geo gave it */
	uint32_t n_geo, geo_n4, geo_n6;
	uint32_t *geo_v4_start, *geo_v4_id, *geo_v6_id;
	struct rm_key *geo_v6_start;

	/* packed copies for rm_model_view */
	uint32_t *packed32[RM_FAMILY_COUNT];
	struct rm_key *packed128;
	uint64_t build_time;
};

static uint64_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

/*
 * The two hash tables double too, but not through rm_grow: a rehash needs
 * a new zeroed table beside the old one, not the old one extended.  They
 * follow its policy: a capacity that would not fit in 32 bits, like a
 * failed allocation, takes the way out of the builder's arrays
 * (common/grow.h).
 */
static void str_rehash(struct rm_model *m)
{
	if (m->str_hash_cap > UINT32_MAX / 2)
		rm_out_of_memory();
	uint32_t cap = m->str_hash_cap ? m->str_hash_cap * 2 : 1024;
	uint32_t *t = calloc(cap, sizeof(*t));
	if (!t)
		rm_out_of_memory();
	for (uint32_t i = 0; i < m->str_hash_cap; i++) {
		uint32_t v = m->str_hash[i];
		if (!v)
			continue;
		const char *s = m->strings + v - 1;
		uint32_t j = (uint32_t)hash_bytes(s, strlen(s)) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = v;
	}
	free(m->str_hash);
	m->str_hash = t;
	m->str_hash_cap = cap;
}

uint32_t rm_model_intern(struct rm_model *m, const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if ((m->n_strings + 1) * 2 >= m->str_hash_cap)
		str_rehash(m);
	uint32_t j = (uint32_t)hash_bytes(s, len) & (m->str_hash_cap - 1);
	for (; m->str_hash[j]; j = (j + 1) & (m->str_hash_cap - 1)) {
		const char *t = m->strings + m->str_hash[j] - 1;
		if (strncmp(t, s, len) == 0 && t[len] == '\0')
			return m->str_hash[j] - 1;
	}
	RM_GROW_OR_DIE(&m->strings, &m->strings_cap, m->strings_len, len + 1, 4096);
	uint32_t off = m->strings_len;
	memcpy(m->strings + off, s, len);
	m->strings[off + len] = '\0';
	m->strings_len += (uint32_t)len + 1;
	m->str_hash[j] = off + 1;
	m->n_strings++;
	return off;
}

static int attr_equal(const struct rm_attr *a, const struct rm_attr *b)
{
	return a->rir == b->rir && a->status == b->status && a->cc[0] == b->cc[0] &&
	       a->cc[1] == b->cc[1] && a->holder_id == b->holder_id &&
	       a->holder_name == b->holder_name && a->nir == b->nir &&
	       a->name_source == b->name_source;
}

static uint32_t attr_hash(const struct rm_attr *a)
{
	struct rm_attr k;
	memset(&k, 0, sizeof(k));
	k.rir = a->rir;
	k.status = a->status;
	k.cc[0] = a->cc[0];
	k.cc[1] = a->cc[1];
	k.holder_id = a->holder_id;
	k.holder_name = a->holder_name;
	k.nir = a->nir;
	k.name_source = a->name_source;
	return (uint32_t)hash_bytes(&k, sizeof(k));
}

static void attr_rehash(struct rm_model *m)
{
	if (m->attr_hash_cap > UINT32_MAX / 2)
		rm_out_of_memory();
	uint32_t cap = m->attr_hash_cap ? m->attr_hash_cap * 2 : 1024;
	uint32_t *t = calloc(cap, sizeof(*t));
	if (!t)
		rm_out_of_memory();
	for (uint32_t i = 0; i < m->n_attrs; i++) {
		uint32_t j = attr_hash(&m->attrs[i]) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = i + 1;
	}
	free(m->attr_hash);
	m->attr_hash = t;
	m->attr_hash_cap = cap;
}

uint32_t rm_model_attr(struct rm_model *m, const struct rm_attr *a)
{
	if ((m->n_attrs + 1) * 2 >= m->attr_hash_cap)
		attr_rehash(m);
	uint32_t j = attr_hash(a) & (m->attr_hash_cap - 1);
	for (; m->attr_hash[j]; j = (j + 1) & (m->attr_hash_cap - 1))
		if (attr_equal(&m->attrs[m->attr_hash[j] - 1], a))
			return m->attr_hash[j] - 1;
	GROW(m->attrs, m->n_attrs, m->attrs_cap);
	m->attrs[m->n_attrs] = *a;
	m->attr_hash[j] = m->n_attrs + 1;
	return m->n_attrs++;
}

struct rm_model *rm_model_new(void)
{
	struct rm_model *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->strings_cap = 4096;
	m->strings = malloc(m->strings_cap);
	if (!m->strings)
		abort();
	m->strings[0] = '\0';
	m->strings_len = 1;
	struct rm_attr unknown = {0};
	rm_model_attr(m, &unknown);
	return m;
}

void rm_model_free(struct rm_model *m)
{
	if (!m)
		return;
	free(m->strings);
	free(m->str_hash);
	free(m->attrs);
	free(m->attr_hash);
	free(m->blocks);
	free(m->inputs);
	for (int f = 0; f < RM_FAMILY_COUNT; f++) {
		free(m->ranges[f].start);
		free(m->ranges[f].id);
		free(m->ranges[f].block);
		free(m->packed32[f]);
	}
	free(m->packed128);
	free(m->geo);
	free(m->geo_v4_start);
	free(m->geo_v4_id);
	free(m->geo_v6_start);
	free(m->geo_v6_id);
	free(m);
}

void rm_model_set_geo(struct rm_model *m, struct rm_geo *geo, uint32_t n_geo, uint32_t *v4_start,
		      uint32_t *v4_id, uint32_t n4, struct rm_key *v6_start, uint32_t *v6_id,
		      uint32_t n6)
{
	free(m->geo);
	free(m->geo_v4_start);
	free(m->geo_v4_id);
	free(m->geo_v6_start);
	free(m->geo_v6_id);
	m->geo = geo;
	m->n_geo = n_geo;
	m->geo_v4_start = v4_start;
	m->geo_v4_id = v4_id;
	m->geo_n4 = n4;
	m->geo_v6_start = v6_start;
	m->geo_v6_id = v6_id;
	m->geo_n6 = n6;
}

uint32_t rm_model_block(struct rm_model *m, const struct rm_block *b)
{
	GROW(m->blocks, m->n_blocks, m->blocks_cap);
	m->blocks[m->n_blocks] = *b;
	return m->n_blocks++;
}

uint32_t rm_model_input(struct rm_model *m, const struct rm_input *in)
{
	GROW(m->inputs, m->n_inputs, m->inputs_cap);
	m->inputs[m->n_inputs] = *in;
	return m->n_inputs++;
}

struct rm_input *rm_model_input_at(struct rm_model *m, uint32_t i)
{
	return &m->inputs[i];
}

const struct rm_block *rm_model_block_at(const struct rm_model *m, uint32_t i)
{
	return &m->blocks[i];
}

const struct rm_attr *rm_model_attr_at(const struct rm_model *m, uint32_t i)
{
	return &m->attrs[i];
}

const char *rm_model_str(const struct rm_model *m, uint32_t off)
{
	return m->strings + off;
}

void rm_model_add_range(struct rm_model *m, enum rm_family f, rm_u128 start, uint32_t id,
			uint32_t block)
{
	struct range_list *r = &m->ranges[f];
	if (r->n == r->cap) {
		/* Three arrays, one capacity: each grows to the same new one. */
		uint32_t c = r->cap;
		RM_GROW_OR_DIE(&r->start, &c, r->n, 1, 1024);
		c = r->cap;
		RM_GROW_OR_DIE(&r->id, &c, r->n, 1, 1024);
		c = r->cap;
		RM_GROW_OR_DIE(&r->block, &c, r->n, 1, 1024);
		r->cap = c;
	}
	r->start[r->n] = start;
	r->id[r->n] = id;
	r->block[r->n] = block;
	r->n++;
}

void rm_model_view(const struct rm_model *cm, struct rm_db *db)
{
	struct rm_model *m = (struct rm_model *)cm; /* packed copies are a cache */
	memset(db, 0, sizeof(*db));
	db->attrs = m->attrs;
	db->n_attrs = m->n_attrs;
	db->strings = m->strings;
	db->strings_len = m->strings_len;
	db->blocks = m->blocks;
	db->n_blocks = m->n_blocks;
	db->inputs = m->inputs;
	db->n_inputs = m->n_inputs;
	db->build_time = m->build_time;
	db->geo = m->geo;
	db->n_geo = m->n_geo;
	db->geo_v4 = (struct rm_ranges32){m->geo_v4_start, m->geo_v4_id, NULL, m->geo_n4};
	db->geo_v6 = (struct rm_ranges128){m->geo_v6_start, m->geo_v6_id, NULL, m->geo_n6};

	int fams[2] = {RM_V4, RM_ASN};
	struct rm_ranges32 *dst[2] = {&db->v4, &db->asn};
	for (int k = 0; k < 2; k++) {
		const struct range_list *r = &m->ranges[fams[k]];
		free(m->packed32[fams[k]]);
		m->packed32[fams[k]] = malloc((r->n + 1) * sizeof(uint32_t));
		if (!m->packed32[fams[k]])
			abort();
		for (uint32_t i = 0; i < r->n; i++)
			m->packed32[fams[k]][i] = (uint32_t)r->start[i];
		dst[k]->start = m->packed32[fams[k]];
		dst[k]->id = r->id;
		dst[k]->block = r->block;
		dst[k]->n = r->n;
	}
	const struct range_list *r6 = &m->ranges[RM_V6];
	free(m->packed128);
	m->packed128 = malloc((r6->n + 1) * sizeof(struct rm_key));
	if (!m->packed128)
		abort();
	for (uint32_t i = 0; i < r6->n; i++)
		m->packed128[i] = rm_key_make(r6->start[i]);
	db->v6.start = m->packed128;
	db->v6.id = r6->id;
	db->v6.block = r6->block;
	db->v6.n = r6->n;
}

void rm_model_set_build_time(struct rm_model *m, uint64_t t)
{
	m->build_time = t;
}
