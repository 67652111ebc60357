/*
 * snapshot.c - writing, mapping and validating snapshot files.
 *
 * See snapshot.h for the layout.  The writer assembles the whole file in
 * memory (tens of MiB at most), checksums it, writes it to a temporary
 * file beside the target and renames it into place, so readers never see
 * a half-written snapshot.  The reader trusts nothing: every offset and
 * count is checked against the file before a pointer is formed.
 */
#include "snapshot.h"
#include "transition.h"
#include "dir24.h"
#include "output.h"
#include "trie6.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC	       "RIRMSNAP"
#define BYTE_ORDER_TAG 0x01020304u
#define HEADER_SIZE    64u
#define MAX_SECTIONS   64u

struct header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint32_t n_sections;
	uint32_t crc;
	uint64_t build_time;
	uint32_t byte_order;
	uint32_t reserved[5];
};

struct section {
	uint32_t type;
	uint32_t elem_size;
	uint64_t offset;
	uint64_t count;
};

_Static_assert(sizeof(struct header) == HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct section) == 24, "section layout");
_Static_assert(sizeof(struct rm_attr) == 16, "attr layout");
_Static_assert(sizeof(struct rm_block) == 48, "block layout");
_Static_assert(sizeof(struct rm_input) == 32, "input layout");
_Static_assert(sizeof(struct rm_key) == 16, "key layout");
_Static_assert(sizeof(struct rm_geo) == 8, "located entry layout");
_Static_assert(sizeof(struct rm_trie6_node) == 64, "trie node layout");
_Static_assert(sizeof(struct rm_nat64_prefix) == 32, "NAT64 prefix layout");

enum section_type {
	SEC_STRINGS = 1,
	SEC_ATTRS,
	SEC_BLOCKS,
	SEC_INPUTS,
	SEC_V4_START,
	SEC_V4_ID,
	SEC_V4_BLOCK,
	SEC_V6_START,
	SEC_V6_ID,
	SEC_V6_BLOCK,
	SEC_ASN_START,
	SEC_ASN_ID,
	SEC_ASN_BLOCK,
	SEC_DIR24_TBL24,
	SEC_DIR24_TBL8,
	SEC_DIR24_TBL16,
	SEC_TRIE6_DIR24,
	SEC_TRIE6_DIR16,
	SEC_TRIE6_NODES,
	SEC_TRIE6_META,
	SEC_TRIE6_DENSE,
	/* The located layer: all five, or none (model.h). */
	SEC_GEO,
	SEC_GEO_V4_START,
	SEC_GEO_V4_ID,
	SEC_GEO_V6_START,
	SEC_GEO_V6_ID,
	SEC_NAT64, /* optional: the operator's NAT64 prefixes */
};

struct rm_snapshot {
	void *map;
	size_t size;
	uint32_t crc;
	struct rm_db db;
	struct rm_dir24 dir24; /* the tables, beside the model they are built from */
	struct rm_trie6 trie6;
	size_t huge_size; /* the length of the private copy, 0 when file-mapped */
};

/* ------------------------------------------------------------------ */
/* CRC-32C                                                             */

static uint32_t crc_table[8][256];

static void crc_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] =
			    (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	if (crc_table[0][1] == 0)
		crc_init_table();
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		v ^= crc;
		crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
							 size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

uint32_t rm_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static int have_hw = -1;
	if (have_hw < 0)
		have_hw = __builtin_cpu_supports("sse4.2");
	crc = ~crc;
	crc = have_hw ? crc_hw(crc, buf, len) : crc_soft(crc, buf, len);
	return ~crc;
}

uint32_t rm_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	return ~crc_soft(~crc, buf, len);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

struct plan {
	struct section sec[MAX_SECTIONS];
	const void *data[MAX_SECTIONS];
	uint32_t n;
};

static void plan_add(struct plan *p, uint32_t type, const void *data, uint32_t elem_size,
		     uint64_t count)
{
	p->sec[p->n].type = type;
	p->sec[p->n].elem_size = elem_size;
	p->sec[p->n].count = count;
	p->data[p->n] = data;
	p->n++;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void plan_db(struct plan *p, const struct rm_db *db, const struct rm_dir24 *d24,
		    const struct rm_trie6 *t6, const uint32_t meta[4])
{
	plan_add(p, SEC_STRINGS, db->strings, 1, db->strings_len);
	plan_add(p, SEC_ATTRS, db->attrs, sizeof(struct rm_attr), db->n_attrs);
	plan_add(p, SEC_BLOCKS, db->blocks, sizeof(struct rm_block), db->n_blocks);
	plan_add(p, SEC_INPUTS, db->inputs, sizeof(struct rm_input), db->n_inputs);
	plan_add(p, SEC_V4_START, db->v4.start, 4, db->v4.n);
	plan_add(p, SEC_V4_ID, db->v4.id, 4, db->v4.n);
	plan_add(p, SEC_V4_BLOCK, db->v4.block, 4, db->v4.n);
	plan_add(p, SEC_V6_START, db->v6.start, sizeof(struct rm_key), db->v6.n);
	plan_add(p, SEC_V6_ID, db->v6.id, 4, db->v6.n);
	plan_add(p, SEC_V6_BLOCK, db->v6.block, 4, db->v6.n);
	plan_add(p, SEC_ASN_START, db->asn.start, 4, db->asn.n);
	plan_add(p, SEC_ASN_ID, db->asn.id, 4, db->asn.n);
	plan_add(p, SEC_ASN_BLOCK, db->asn.block, 4, db->asn.n);
	plan_add(p, SEC_DIR24_TBL16, d24->tbl16, d24->width, RM_DIR24_TBL16 + RM_DIR24_PAD);
	plan_add(p, SEC_DIR24_TBL24, d24->tbl24, d24->width, RM_DIR24_TBL24 + RM_DIR24_PAD);
	plan_add(p, SEC_DIR24_TBL8, d24->tbl8, d24->width,
		 (uint64_t)d24->n_groups * 256 + RM_DIR24_PAD);
	plan_add(p, SEC_TRIE6_DIR24, t6->dir24, t6->width, RM_TRIE6_DIR24 + RM_TRIE6_PAD);
	plan_add(p, SEC_TRIE6_DIR16, t6->dir16, 4, RM_TRIE6_DIR16);
	plan_add(p, SEC_TRIE6_NODES, t6->nodes, sizeof(struct rm_trie6_node), t6->n_units);
	plan_add(p, SEC_TRIE6_META, meta, 4, 4);
	plan_add(p, SEC_TRIE6_DENSE, t6->dense, t6->width,
		 (uint64_t)t6->n_dense * RM_TRIE6_GROUP + RM_TRIE6_PAD);
	if (db->n_geo) {
		plan_add(p, SEC_GEO, db->geo, sizeof(struct rm_geo), db->n_geo);
		plan_add(p, SEC_GEO_V4_START, db->geo_v4.start, 4, db->geo_v4.n);
		plan_add(p, SEC_GEO_V4_ID, db->geo_v4.id, 4, db->geo_v4.n);
		plan_add(p, SEC_GEO_V6_START, db->geo_v6.start, sizeof(struct rm_key),
			 db->geo_v6.n);
		plan_add(p, SEC_GEO_V6_ID, db->geo_v6.id, 4, db->geo_v6.n);
	}
	if (db->n_nat64) /* optional: earlier readers skip a section they do not know */
		plan_add(p, SEC_NAT64, db->nat64, sizeof(struct rm_nat64_prefix), db->n_nat64);
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

#define BIG_ALIGN (2u << 20)

int rm_snapshot_write(const struct rm_db *db, const char *path, char *err, size_t errlen)
{
	struct rm_dir24_owned d24 = {0};
	struct rm_trie6_owned t6 = {0};
	if (rm_dir24_build(db, &d24, err, errlen))
		return -1;
	if (rm_trie6_build(db, &t6, err, errlen)) {
		rm_dir24_free(&d24);
		return -1;
	}
	struct plan p = {.n = 0};
	uint32_t meta[4] = {t6.t.n_nodes, t6.t.dense_at[1], t6.t.dense_at[2], 0};
	plan_db(&p, db, &d24.t, &t6.t, meta);

	uint64_t off = align_up(HEADER_SIZE + p.n * sizeof(struct section), 64);
	for (uint32_t i = 0; i < p.n; i++) {
		uint64_t bytes = p.sec[i].count * p.sec[i].elem_size;
		off = align_up(off, bytes >= BIG_ALIGN ? BIG_ALIGN : 64);
		p.sec[i].offset = off;
		off += bytes;
	}
	uint64_t size = align_up(off, 64);
	unsigned char *buf = calloc(1, size);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory for %llu bytes", path,
			 (unsigned long long)size);
		rm_dir24_free(&d24);
		rm_trie6_free(&t6);
		return -1;
	}
	struct header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, 8);
	h.version = RM_SNAPSHOT_VERSION;
	h.header_size = HEADER_SIZE;
	h.file_size = size;
	h.n_sections = p.n;
	h.build_time = db->build_time;
	h.byte_order = BYTE_ORDER_TAG;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + HEADER_SIZE, p.sec, p.n * sizeof(struct section));
	for (uint32_t i = 0; i < p.n; i++)
		if (p.sec[i].count)
			memcpy(buf + p.sec[i].offset, p.data[i],
			       p.sec[i].count * p.sec[i].elem_size);
	h.crc = rm_crc32c(0, buf, size);
	memcpy(buf + offsetof(struct header, crc), &h.crc, sizeof(h.crc));

	struct rm_atomic_file a; /* written by fd: nothing goes through a.f */
	int rc = rm_atomic_open(&a, path, 0644, err, errlen);
	if (rc == 0 && write_all(a.fd, buf, size)) {
		snprintf(err, errlen, "%s: write failed: %s", a.tmp, strerror(errno));
		rm_atomic_abort(&a);
		rc = -1;
	} else if (rc == 0) {
		rc = rm_atomic_commit(&a, err, errlen);
	}
	free(buf);
	rm_dir24_free(&d24);
	rm_trie6_free(&t6);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

struct want {
	uint32_t type, elem_size;
	const void **ptr;
	uint64_t count;
	int seen;
};

/* The located layer's sections: all five or none; their contents are
 * rm_db_check's.  Bounds were checked by bind_sections. */
static int bind_geo(struct rm_snapshot *s, const struct section *sec, uint32_t n, const char *path,
		    char *err, size_t errlen)
{
	struct rm_db *db = &s->db;
	struct {
		uint32_t type, elem_size;
		const void **ptr;
		uint64_t count;
		int seen;
	} w[] = {
	    {SEC_GEO, sizeof(struct rm_geo), (const void **)&db->geo, 0, 0},
	    {SEC_GEO_V4_START, 4, (const void **)&db->geo_v4.start, 0, 0},
	    {SEC_GEO_V4_ID, 4, (const void **)&db->geo_v4.id, 0, 0},
	    {SEC_GEO_V6_START, sizeof(struct rm_key), (const void **)&db->geo_v6.start, 0, 0},
	    {SEC_GEO_V6_ID, 4, (const void **)&db->geo_v6.id, 0, 0},
	};
	unsigned seen = 0;
	for (uint32_t i = 0; i < n; i++)
		for (unsigned k = 0; k < 5; k++) {
			if (w[k].type != sec[i].type)
				continue;
			if (w[k].seen || sec[i].elem_size != w[k].elem_size) {
				snprintf(err, errlen,
					 "%s: section type %u repeated or of wrong size", path,
					 sec[i].type);
				return -1;
			}
			w[k].seen = 1;
			w[k].count = sec[i].count;
			*w[k].ptr = (const unsigned char *)s->map + sec[i].offset;
			seen++;
		}
	if (seen == 0)
		return 0;
	if (seen != 5 || w[0].count == 0 || w[1].count != w[2].count || w[3].count != w[4].count) {
		snprintf(err, errlen, "%s: the located layer's sections are incomplete", path);
		return -1;
	}
	db->n_geo = (uint32_t)w[0].count;
	db->geo_v4.n = (uint32_t)w[1].count;
	db->geo_v6.n = (uint32_t)w[3].count;
	return 0;
}

static int bind_sections(struct rm_snapshot *s, const struct section *sec, uint32_t n,
			 const char *path, char *err, size_t errlen)
{
	struct rm_db *db = &s->db;
	struct rm_dir24 *d24 = &s->dir24;
	struct rm_trie6 *t6 = &s->trie6;
	uint32_t v4n = 0, v6n = 0, asnn = 0;
	const uint32_t *meta = NULL;
	struct want w[] = {
	    {SEC_STRINGS, 1, (const void **)&db->strings, 0, 0},
	    {SEC_ATTRS, sizeof(struct rm_attr), (const void **)&db->attrs, 0, 0},
	    {SEC_BLOCKS, sizeof(struct rm_block), (const void **)&db->blocks, 0, 0},
	    {SEC_INPUTS, sizeof(struct rm_input), (const void **)&db->inputs, 0, 0},
	    {SEC_V4_START, 4, (const void **)&db->v4.start, 0, 0},
	    {SEC_V4_ID, 4, (const void **)&db->v4.id, 0, 0},
	    {SEC_V4_BLOCK, 4, (const void **)&db->v4.block, 0, 0},
	    {SEC_V6_START, sizeof(struct rm_key), (const void **)&db->v6.start, 0, 0},
	    {SEC_V6_ID, 4, (const void **)&db->v6.id, 0, 0},
	    {SEC_V6_BLOCK, 4, (const void **)&db->v6.block, 0, 0},
	    {SEC_ASN_START, 4, (const void **)&db->asn.start, 0, 0},
	    {SEC_ASN_ID, 4, (const void **)&db->asn.id, 0, 0},
	    {SEC_ASN_BLOCK, 4, (const void **)&db->asn.block, 0, 0},
	    {SEC_DIR24_TBL24, 0, (const void **)&d24->tbl24, 0, 0}, /* 2 or 4 */
	    {SEC_DIR24_TBL8, 0, (const void **)&d24->tbl8, 0, 0},
	    {SEC_DIR24_TBL16, 0, (const void **)&d24->tbl16, 0, 0},
	    {SEC_TRIE6_DIR24, 0, (const void **)&t6->dir24, 0, 0}, /* 2 or 4 */
	    {SEC_TRIE6_DIR16, 4, (const void **)&t6->dir16, 0, 0},
	    {SEC_TRIE6_NODES, sizeof(struct rm_trie6_node), (const void **)&t6->nodes, 0, 0},
	    {SEC_TRIE6_META, 4, (const void **)&meta, 0, 0},
	    {SEC_TRIE6_DENSE, 0, (const void **)&t6->dense, 0, 0}, /* 2 or 4 */
	};
	uint32_t width6 = 0, width6d = 0;
	uint32_t width24 = 0, width8 = 0, width16 = 0;
	const unsigned nw = sizeof(w) / sizeof(w[0]);
	for (uint32_t i = 0; i < n; i++) {
		const struct section *x = &sec[i];
		if (x->elem_size == 0 || x->elem_size > 4096 || x->count > UINT32_MAX ||
		    x->offset > s->size || x->count * x->elem_size > s->size - x->offset ||
		    x->offset % 16 != 0) {
			snprintf(err, errlen, "%s: section %u (type %u) lies outside the file",
				 path, i, x->type);
			return -1;
		}
		if (x->type == SEC_NAT64) {
			if (x->elem_size != sizeof(struct rm_nat64_prefix) || db->nat64) {
				snprintf(err, errlen, "%s: NAT64 section repeated or of wrong size",
					 path);
				return -1;
			}
			db->nat64 = (const void *)((const unsigned char *)s->map + x->offset);
			db->n_nat64 = (uint32_t)x->count;
		}
		for (unsigned k = 0; k < nw; k++) {
			if (w[k].type != x->type)
				continue;
			int ok_size = w[k].elem_size ? w[k].elem_size == x->elem_size
						     : (x->elem_size == 2 || x->elem_size == 4);
			if (w[k].seen || !ok_size) {
				snprintf(err, errlen,
					 "%s: section type %u repeated or of wrong size", path,
					 x->type);
				return -1;
			}
			w[k].seen = 1;
			w[k].count = x->count;
			if (x->type == SEC_DIR24_TBL24)
				width24 = x->elem_size;
			if (x->type == SEC_DIR24_TBL8)
				width8 = x->elem_size;
			if (x->type == SEC_DIR24_TBL16)
				width16 = x->elem_size;
			if (x->type == SEC_TRIE6_DIR24)
				width6 = x->elem_size;
			if (x->type == SEC_TRIE6_DENSE)
				width6d = x->elem_size;
			*w[k].ptr = (const unsigned char *)s->map + x->offset;
		}
	}
	for (unsigned k = 0; k < nw; k++) {
		if (!w[k].seen) {
			snprintf(err, errlen, "%s: section type %u missing", path, w[k].type);
			return -1;
		}
	}
	db->strings_len = (uint32_t)w[0].count;
	db->n_attrs = (uint32_t)w[1].count;
	db->n_blocks = (uint32_t)w[2].count;
	db->n_inputs = (uint32_t)w[3].count;
	v4n = (uint32_t)w[4].count;
	v6n = (uint32_t)w[7].count;
	asnn = (uint32_t)w[10].count;
	if (w[5].count != v4n || w[6].count != v4n || w[8].count != v6n || w[9].count != v6n ||
	    w[11].count != asnn || w[12].count != asnn) {
		snprintf(err, errlen, "%s: range sections disagree on their length", path);
		return -1;
	}
	db->v4.n = v4n;
	db->v6.n = v6n;
	db->asn.n = asnn;
	uint64_t c24 = w[13].count, c8 = w[14].count;
	if (width24 != width8 || width24 != width16 ||
	    w[15].count != RM_DIR24_TBL16 + RM_DIR24_PAD || c24 != RM_DIR24_TBL24 + RM_DIR24_PAD ||
	    c8 < RM_DIR24_PAD || (c8 - RM_DIR24_PAD) % 256 != 0 ||
	    (c8 - RM_DIR24_PAD) / 256 > RM_DIR24_MAX_GROUPS) {
		snprintf(err, errlen, "%s: IPv4 table sections have a bad shape", path);
		return -1;
	}
	uint64_t c6d = w[20].count;
	if (w[16].count != RM_TRIE6_DIR24 + RM_TRIE6_PAD || w[17].count != RM_TRIE6_DIR16 ||
	    width6d != width6 || c6d < RM_TRIE6_PAD || (c6d - RM_TRIE6_PAD) % RM_TRIE6_GROUP != 0) {
		snprintf(err, errlen, "%s: IPv6 trie directories have a bad size", path);
		return -1;
	}
	t6->width = width6;
	t6->n_dense = (uint32_t)((c6d - RM_TRIE6_PAD) / RM_TRIE6_GROUP);
	if (w[19].count != 4) {
		snprintf(err, errlen, "%s: IPv6 trie description has a bad size", path);
		return -1;
	}
	t6->n_units = (uint32_t)w[18].count;
	t6->n_nodes = meta[0];
	/* The levels' bounds; rm_trie6_check refuses them out of order. */
	t6->dense_at[0] = 0;
	t6->dense_at[1] = meta[1];
	t6->dense_at[2] = meta[2];
	t6->dense_at[3] = t6->n_dense;
	d24->width = width24;
	d24->n_groups = (uint32_t)((c8 - RM_DIR24_PAD) / 256);
	return bind_geo(s, sec, n, path, err, errlen);
}

static int validate(struct rm_snapshot *s, const char *path, char *err, size_t errlen)
{
	struct header h;
	if (s->size < HEADER_SIZE) {
		snprintf(err, errlen, "%s: truncated: %zu bytes, smaller than a header", path,
			 s->size);
		return -1;
	}
	memcpy(&h, s->map, sizeof(h));
	if (memcmp(h.magic, MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not a rirmeter snapshot (bad magic)", path);
		return -1;
	}
	if (h.version != RM_SNAPSHOT_VERSION) {
		snprintf(err, errlen, "%s: snapshot format version %u, this build reads version %u",
			 path, h.version, RM_SNAPSHOT_VERSION);
		return -1;
	}
	if (h.byte_order != BYTE_ORDER_TAG || h.header_size != HEADER_SIZE) {
		snprintf(err, errlen, "%s: written on a machine of another byte order or layout",
			 path);
		return -1;
	}
	if (h.file_size != s->size) {
		snprintf(err, errlen,
			 "%s: truncated or extended: header says %llu bytes, file has %zu", path,
			 (unsigned long long)h.file_size, s->size);
		return -1;
	}
	if (h.n_sections > MAX_SECTIONS ||
	    HEADER_SIZE + (uint64_t)h.n_sections * sizeof(struct section) > s->size) {
		snprintf(err, errlen, "%s: bad section count %u", path, h.n_sections);
		return -1;
	}
	uint32_t stored = h.crc;
	h.crc = 0;
	uint32_t crc = rm_crc32c(0, &h, sizeof(h));
	crc = rm_crc32c(crc, (const unsigned char *)s->map + HEADER_SIZE, s->size - HEADER_SIZE);
	if (crc != stored) {
		snprintf(err, errlen,
			 "%s: checksum mismatch (stored %08x, computed %08x): corrupted", path,
			 stored, crc);
		return -1;
	}
	s->crc = stored;
	struct section sec[MAX_SECTIONS];
	memcpy(sec, (const unsigned char *)s->map + HEADER_SIZE,
	       h.n_sections * sizeof(struct section));
	if (bind_sections(s, sec, h.n_sections, path, err, errlen))
		return -1;
	s->db.build_time = h.build_time;
	char why[256];
	if (rm_db_check(&s->db, why, sizeof(why)) ||
	    rm_transition_check_db(&s->db, why, sizeof(why)) ||
	    rm_dir24_check(&s->dir24, s->db.n_attrs, why, sizeof(why)) ||
	    rm_trie6_check(&s->trie6, s->db.n_attrs, why, sizeof(why))) {
		snprintf(err, errlen, "%s: inconsistent contents: %s", path, why);
		return -1;
	}
	return 0;
}

/*
 * The whole file in anonymous memory, 2 MiB aligned and advised onto
 * transparent huge pages (the big sections sit at 2 MiB offsets in the file,
 * so they land on huge pages as they are).  Nothing stays mapped from the
 * file, so a file overwritten in place (instead of renamed) cannot change
 * or fault the tables under a running reader; a reload reads it afresh and
 * a half-written file fails validation.
 */
static void *read_private(int fd, size_t size, size_t *mapped, size_t *short_at)
{
	size_t len = (size + BIG_ALIGN - 1) & ~(size_t)(BIG_ALIGN - 1);
	unsigned char *raw =
	    mmap(NULL, len + BIG_ALIGN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	unsigned char *al =
	    (unsigned char *)(((uintptr_t)raw + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1));
	if (al > raw)
		munmap(raw, (size_t)(al - raw));
	size_t tail = (size_t)(raw + len + BIG_ALIGN - (al + len));
	if (tail)
		munmap(al + len, tail);
#ifdef MADV_HUGEPAGE
	madvise(al, len, MADV_HUGEPAGE);
#endif
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, al + got, size - got, (off_t)got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0) /* the file ends before its size: changed since */
				*short_at = got;
			munmap(al, len);
			return NULL;
		}
		got += (size_t)n;
	}
	mprotect(al, len, PROT_READ);
	*mapped = len;
	return al;
}

size_t rm_snapshot_hugepage_bytes(const struct rm_snapshot *s)
{
	return s->huge_size;
}

struct rm_snapshot *rm_snapshot_open(const char *path, char *err, size_t errlen)
{
	return rm_snapshot_open_flags(path, 0, err, errlen);
}

struct rm_snapshot *rm_snapshot_open_flags(const char *path, unsigned flags, char *err,
					   size_t errlen)
{
	unsigned long long size;
	int fd = rm_open_regular(path, &size, err, errlen);
	if (fd < 0)
		return NULL;
	struct rm_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->size = (size_t)size;
	if (s->size == 0) {
		snprintf(err, errlen, "%s: truncated: empty file", path);
		close(fd);
		free(s);
		return NULL;
	}
	if (flags & RM_SNAP_HUGEPAGE) {
		size_t short_at = SIZE_MAX;
		s->map = read_private(fd, s->size, &s->huge_size, &short_at);
		if (!s->map && short_at != SIZE_MAX) {
			snprintf(err, errlen,
				 "%s: truncated while being read: %zu of its %zu bytes (changed "
				 "since it was opened?)",
				 path, short_at, s->size);
			close(fd);
			free(s);
			return NULL;
		}
		if (!s->map)
			s->map = MAP_FAILED;
	} else {
		s->map = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	close(fd);
	if (s->map == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	if (validate(s, path, err, errlen)) {
		rm_snapshot_close(s);
		return NULL;
	}
	return s;
}

const struct rm_db *rm_snapshot_db(const struct rm_snapshot *s)
{
	return &s->db;
}

const struct rm_dir24 *rm_snapshot_dir24(const struct rm_snapshot *s)
{
	return &s->dir24;
}

const struct rm_trie6 *rm_snapshot_trie6(const struct rm_snapshot *s)
{
	return &s->trie6;
}

uint64_t rm_snapshot_size(const struct rm_snapshot *s)
{
	return s->size;
}

uint32_t rm_snapshot_crc(const struct rm_snapshot *s)
{
	return s->crc;
}

void rm_snapshot_close(struct rm_snapshot *s)
{
	if (!s)
		return;
	munmap(s->map, s->huge_size ? s->huge_size : s->size);
	free(s);
}
