/*
 * trie6.c - building and checking the IPv6 trie, and choosing a walk.
 *
 * Build: top-down from the model's range list.  A slot whose address
 * interval lies inside one range holds that range's id; any other slot
 * holds a new node one byte deeper.  A node takes its index before its
 * children are made, so children always have larger indices (which is
 * what the check relies on to prove that walks end).  A cursor moves
 * through the range list in step with the slots, so a node costs its 256
 * slots plus the ranges inside it, never a search per slot.
 */
#include "trie6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
	const struct rm_db *db;
	struct rm_trie6_node *nodes;
	uint32_t n_nodes, cap_nodes;
	uint32_t *values;
	uint32_t n_values, cap_values;
};

static rm_u128 start_of(const struct rm_db *db, uint32_t i)
{
	return rm_key_get(db->v6.start[i]);
}

/* Move cursor *i forward to the range holding key. */
static void advance(const struct rm_db *db, uint32_t *i, rm_u128 key)
{
	while (*i + 1 < db->v6.n && start_of(db, *i + 1) <= key)
		(*i)++;
}

/* The id of [lo, hi] when range i (holding lo) covers it all, else none. */
static int uniform(const struct rm_db *db, uint32_t i, rm_u128 hi, uint32_t *id)
{
	if (i + 1 < db->v6.n && start_of(db, i + 1) <= hi)
		return 0;
	*id = db->v6.id[i];
	return 1;
}

static uint32_t new_node(struct build *b)
{
	if (b->n_nodes == b->cap_nodes) {
		b->cap_nodes = b->cap_nodes ? b->cap_nodes * 2 : 1024;
		b->nodes = realloc(b->nodes, (size_t)b->cap_nodes * sizeof(*b->nodes));
		if (!b->nodes)
			abort();
	}
	memset(&b->nodes[b->n_nodes], 0, sizeof(*b->nodes));
	return b->n_nodes++;
}

static uint32_t reserve_values(struct build *b, uint32_t count)
{
	while (b->n_values + count > b->cap_values) {
		b->cap_values = b->cap_values ? b->cap_values * 2 : 4096;
		b->values = realloc(b->values, (size_t)b->cap_values * sizeof(*b->values));
		if (!b->values)
			abort();
	}
	uint32_t first = b->n_values;
	b->n_values += count;
	return first;
}

static uint32_t make_node(struct build *b, rm_u128 p, unsigned depth);

/* The value of one slot: an id, or a node for [lo, lo + 2^(128-depth) - 1]. */
static uint32_t slot_value(struct build *b, uint32_t *cursor, rm_u128 lo, unsigned depth)
{
	rm_u128 hi = lo + (((rm_u128)1 << (128 - depth)) - 1);
	uint32_t id;
	advance(b->db, cursor, lo);
	if (uniform(b->db, *cursor, hi, &id) && id < RM_TRIE6_NODE)
		return id;
	return RM_TRIE6_NODE | make_node(b, lo, depth);
}

/* A node over prefix p whose slots are the byte after `depth` bits. */
static uint32_t make_node(struct build *b, rm_u128 p, unsigned depth)
{
	uint32_t idx = new_node(b), v[256], cursor = rm_ref_find6(b->db, p);
	uint64_t bm[4] = {0};
	uint32_t runs = 0;
	for (unsigned s = 0; s < 256; s++) {
		v[s] = slot_value(b, &cursor, p + ((rm_u128)s << (120 - depth)), depth + 8);
		if (s == 0 || v[s] != v[s - 1] || (v[s] & RM_TRIE6_NODE)) {
			bm[s >> 6] |= 1ull << (s & 63);
			v[runs++] = v[s];
		}
	}
	uint32_t base = reserve_values(b, runs);
	memcpy(&b->values[base], v, runs * sizeof(uint32_t));
	struct rm_trie6_node *nd = &b->nodes[idx];
	memcpy(nd->bm, bm, sizeof(bm));
	nd->base[0] = base;
	for (unsigned w = 1; w < 4; w++)
		nd->base[w] = nd->base[w - 1] + (uint32_t)__builtin_popcountll(bm[w - 1]);
	nd->byte = depth / 8;
	return idx;
}

static void fill_dirs(struct build *b, uint32_t *dir24, uint32_t *dir16)
{
	uint32_t cursor = 0;
	for (uint32_t h = 0; h < RM_TRIE6_DIR16; h++) {
		if ((h >> 13) == 1) {
			dir16[h] = 0; /* 2000::/3 goes through dir24 */
			continue;
		}
		dir16[h] = slot_value(b, &cursor, (rm_u128)h << 112, 16);
	}
	cursor = rm_ref_find6(b->db, (rm_u128)1 << 125);
	for (uint32_t k = 0; k < RM_TRIE6_DIR24; k++)
		dir24[k] = slot_value(b, &cursor, ((rm_u128)1 << 125) | ((rm_u128)k << 104), 24);
}

int rm_trie6_build(const struct rm_db *db, struct rm_trie6_owned *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct build b = {.db = db};
	uint32_t *dir24 = calloc(RM_TRIE6_DIR24 + RM_TRIE6_PAD, sizeof(uint32_t));
	uint32_t *dir16 = malloc(RM_TRIE6_DIR16 * sizeof(uint32_t));
	if (!dir24 || !dir16) {
		free(dir24);
		free(dir16);
		snprintf(err, errlen, "out of memory for the IPv6 trie");
		return -1;
	}
	fill_dirs(&b, dir24, dir16);
	/* Two-byte dir24 entries when ids and node indices fit 15 bits. */
	uint32_t width = db->n_attrs <= 0x8000u && b.n_nodes <= 0x8000u ? 2 : 4;
	if (width == 2) {
		uint16_t *narrow = (uint16_t *)dir24;
		for (uint32_t k = 0; k < RM_TRIE6_DIR24; k++) /* in place: reads stay ahead */
			narrow[k] = (uint16_t)(dir24[k] & RM_TRIE6_NODE
						   ? 0x8000u | (dir24[k] & ~RM_TRIE6_NODE)
						   : dir24[k]);
	}
	out->dir24 = dir24;
	out->dir16 = dir16;
	out->nodes = b.nodes;
	out->values = b.values;
	out->t = (struct rm_trie6){.dir24 = dir24,
				   .dir16 = dir16,
				   .nodes = b.nodes,
				   .values = b.values,
				   .n_nodes = b.n_nodes,
				   .n_values = b.n_values,
				   .width = width};
	return 0;
}

void rm_trie6_free(struct rm_trie6_owned *o)
{
	free(o->dir24);
	free(o->dir16);
	free(o->nodes);
	free(o->values);
	memset(o, 0, sizeof(*o));
}

size_t rm_trie6_bytes(const struct rm_trie6 *t)
{
	return (size_t)RM_TRIE6_DIR24 * t->width + RM_TRIE6_DIR16 * sizeof(uint32_t) +
	       (size_t)t->n_nodes * sizeof(struct rm_trie6_node) +
	       (size_t)t->n_values * sizeof(uint32_t);
}

/* ------------------------------------------------------------------ */
/* Check                                                               */

struct check {
	const struct rm_trie6 *t;
	uint32_t n_attrs;
	uint8_t *least_byte; /* smallest byte a node may consume, from its parents */
	char *err;
	size_t errlen;
};

/* A value in dir or node slot: an id in range, or a node deeper than byte. */
static int check_value(struct check *c, uint32_t v, unsigned byte, uint32_t from)
{
	if (!(v & RM_TRIE6_NODE)) {
		if (v >= c->n_attrs) {
			snprintf(c->err, c->errlen, "IPv6 trie id %u out of bounds", v);
			return -1;
		}
		return 0;
	}
	uint32_t n = v & ~RM_TRIE6_NODE;
	if (n >= c->t->n_nodes || (from != UINT32_MAX && n <= from)) {
		snprintf(c->err, c->errlen, "IPv6 trie points to bad node %u", n);
		return -1;
	}
	if (c->least_byte[n] < byte)
		c->least_byte[n] = (uint8_t)byte;
	return 0;
}

int rm_trie6_check(const struct rm_trie6 *t, uint32_t n_attrs, char *err, size_t errlen)
{
	if (t->width != 2 && t->width != 4) {
		snprintf(err, errlen, "IPv6 trie entry width %u", t->width);
		return -1;
	}
	struct check c = {t, n_attrs, calloc((size_t)t->n_nodes + 1, 1), err, errlen};
	int rc = -1;
	if (!c.least_byte) {
		snprintf(err, errlen, "out of memory checking the IPv6 trie");
		return -1;
	}
	for (uint32_t h = 0; h < RM_TRIE6_DIR16; h++)
		if ((h >> 13) != 1 && check_value(&c, t->dir16[h], 2, UINT32_MAX))
			goto out;
	for (uint32_t k = 0; k < RM_TRIE6_DIR24; k++) {
		uint32_t e;
		if (t->width == 2) {
			e = ((const uint16_t *)t->dir24)[k];
			e = e & 0x8000u ? RM_TRIE6_NODE | (e & 0x7fffu) : e;
		} else {
			e = ((const uint32_t *)t->dir24)[k];
		}
		if (check_value(&c, e, 3, UINT32_MAX))
			goto out;
	}
	for (uint32_t i = 0; i < t->n_nodes; i++) {
		const struct rm_trie6_node *nd = &t->nodes[i];
		uint64_t end = nd->base[0];
		int bases_ok = 1;
		for (unsigned w = 0; w < 4; w++) {
			bases_ok &= nd->base[w] == end;
			end += (uint64_t)__builtin_popcountll(nd->bm[w]);
		}
		if (!bases_ok || !(nd->bm[0] & 1) || end > t->n_values ||
		    nd->byte > RM_TRIE6_MAX_BYTE ||
		    (c.least_byte[i] && nd->byte < c.least_byte[i])) {
			snprintf(err, errlen, "IPv6 trie node %u malformed", i);
			goto out;
		}
		uint32_t runs = (uint32_t)(end - nd->base[0]);
		for (uint32_t k = 0; k < runs; k++)
			if (check_value(&c, t->values[nd->base[0] + k], nd->byte + 1u, i))
				goto out;
	}
	rc = 0;
out:
	free(c.least_byte);
	return rc;
}

int rm_trie6_have_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vpopcntdq");
}

/*
 * The AVX-512 walk is not chosen on AMD CPUs: their EVEX gathers are
 * microcoded, and on Zen 4 it measured slower than the POPCNT walk
 * (perf/README.md).  RM_SIMD=avx512 forces it; RM_MAX_SIMD caps as for IPv4.
 */
rm_trie6_bulk_fn rm_trie6_select(void)
{
	__builtin_cpu_init();
	const char *cap = getenv("RM_MAX_SIMD"), *force = getenv("RM_SIMD");
	int vec_ok = (!cap || strcmp(cap, "avx512") == 0) && !__builtin_cpu_is("amd");
	if (force && strcmp(force, "avx512") == 0)
		vec_ok = 1;
	if (vec_ok && rm_trie6_have_avx512())
		return rm_trie6_lookup_avx512;
	if (__builtin_cpu_supports("popcnt"))
		return rm_trie6_lookup_popcnt;
	return rm_trie6_lookup_generic;
}
