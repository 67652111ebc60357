/*
 * fuzz_snapshot.c - libFuzzer harness for the snapshot reader.
 *
 * A snapshot always holds the fixed-size lookup tables (tens of MiB), too
 * big for the fuzzer to mutate as a whole, so an input is a list of patches
 * to a valid snapshot built once at start from a small registry text:
 *
 *   region (1 byte)   0: the header and section table; k: section k-1
 *   offset (4 bytes)  little-endian, taken modulo the region's size
 *   length (1 byte)   then that many bytes written at the offset
 *
 * Regions follow the file's own section table, so patches land in the small
 * sections (attributions, blocks, ranges, trie nodes) as often as in the big
 * ones.  Unless the input's first byte is odd, the CRC in the header is then
 * recomputed, so that the patched contents pass the checksum and reach the
 * field-by-field validation: the reader must refuse them or serve lookups
 * from them without reading out of bounds.  Patches are undone after each
 * run, so the base file is never copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dir24.h"
#include "loaders.h"
#include "snapshot.h"
#include "trie6.h"

#define HEADER	   64u
#define SECTION	   24u
#define CRC_OFFSET 28u

static const char registry[] = "2|ripencc|20140630|6|19830705|20140630|+0100\n"
			       "ripencc|DE|ipv4|193.0.0.0|2048|19930901|allocated|A1\n"
			       "ripencc|NL|ipv4|193.0.8.0|256|19930901|assigned|A2\n"
			       "ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated|A3\n"
			       "ripencc|DE|ipv6|2001:67c::|32|20040101|allocated|A1\n"
			       "ripencc|NL|ipv6|2001:67e:2e8::|48|20040101|assigned|A2\n"
			       "ripencc|SE|ipv6|2a00::|12|20100101|allocated|A4\n";

static unsigned char *file; /* the memfd, mapped shared: patches and reads */
static size_t size;
static char path[64];
static struct {
	uint64_t off, len;
} region[65];
static unsigned n_regions;

static void build_base(void)
{
	char dir[] = "/tmp/rm-fuzz-snap-XXXXXX", tmp[64], err[512];
	if (!mkdtemp(dir))
		abort();
	snprintf(tmp, sizeof(tmp), "%s/base.snap", dir);
	FILE *diag = fopen("/dev/null", "w");
	struct rl_options o = {.diag = diag};
	struct rl_build *b = rl_build_new(&o);
	rl_build_add_buffer(b, "registry", registry, sizeof(registry) - 1);
	struct rm_model *m = rl_build_finish(b);
	rl_build_free(b);
	struct rm_db db;
	if (!m)
		abort();
	/* A located layer too, so that its sections are patched as well. */
	struct rm_geo *geo = calloc(3, sizeof(*geo));
	uint32_t *v4s = malloc(3 * 4), *v4i = malloc(3 * 4), *v6i = malloc(2 * 4);
	struct rm_key *v6s = calloc(2, sizeof(*v6s));
	if (!geo || !v4s || !v4i || !v6i || !v6s)
		abort();
	geo[1] = (struct rm_geo){{'D', 'E'}, 0, 3320};
	geo[2] = (struct rm_geo){{'N', 'L'}, 0, 1136};
	v4s[0] = 0, v4i[0] = 0, v4s[1] = 0xc1000000u, v4i[1] = 1, v4s[2] = 0xc1000800u, v4i[2] = 2;
	v6s[1] = rm_key_make((rm_u128)0x2001067cu << 96), v6i[0] = 0, v6i[1] = 2;
	rm_model_set_geo(m, geo, 3, v4s, v4i, 3, v6s, v6i, 2);
	rm_model_view(m, &db);
	if (rm_snapshot_write(&db, tmp, err, sizeof(err)))
		abort();
	rm_model_free(m);
	fclose(diag);
	FILE *f = fopen(tmp, "rb");
	int fd = memfd_create("snapshot", 0);
	if (!f || fd < 0 || fseek(f, 0, SEEK_END))
		abort();
	size = (size_t)ftell(f);
	rewind(f);
	if (ftruncate(fd, (off_t)size))
		abort();
	file = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (file == MAP_FAILED || fread(file, 1, size, f) != size)
		abort();
	fclose(f);
	unlink(tmp);
	rmdir(dir);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	uint32_t n;
	memcpy(&n, file + 24, 4);
	region[0].off = 0;
	region[0].len = HEADER + (uint64_t)n * SECTION;
	for (uint32_t i = 0; i < n && i < 64; i++) {
		uint32_t esize;
		uint64_t off, count;
		memcpy(&esize, file + HEADER + i * SECTION + 4, 4);
		memcpy(&off, file + HEADER + i * SECTION + 8, 8);
		memcpy(&count, file + HEADER + i * SECTION + 16, 8);
		region[i + 1].off = off;
		region[i + 1].len = count * esize ? count * esize : 1;
	}
	n_regions = n + 1;
}

struct undo {
	uint64_t off;
	uint8_t len;
	unsigned char old[255];
};

static void serve_lookups(const struct rm_snapshot *s)
{
	const struct rm_db *db = rm_snapshot_db(s);
	const struct rm_dir24 *d24 = rm_snapshot_dir24(s);
	static const uint32_t a4[8] = {0xc1000001, 0xc1000801, 0x02000000, 0x02ffffff,
				       0x08080808, 0,	       0xffffffff, 0xc10007ff};
	uint32_t ids[8];
	rm_dir24_select(RM_SIMD_BEST)(d24, a4, ids, 8);
	for (int i = 0; i < 8; i++)
		if (ids[i] >= db->n_attrs || rm_dir24_lookup_one(d24, a4[i]) >= db->n_attrs ||
		    rm_ref_find4(db, a4[i]) >= db->v4.n || rm_ref_lookup4(db, a4[i]) >= db->n_attrs)
			abort();
	uint8_t a6[4][16] = {{0x20, 0x01, 0x06, 0x7c, 0x02, 0xe8, [15] = 1},
			     {0x2a, 0x00, [15] = 2},
			     {0x20, 0x01, 0x06, 0x7c, [15] = 3},
			     {0xff, 0xff}};
	rm_trie6_select(RM_SIMD_BEST)(rm_snapshot_trie6(s), (const uint8_t(*)[16])a6, ids, 4);
	for (int i = 0; i < 4; i++)
		if (ids[i] >= db->n_attrs ||
		    rm_ref_lookup6(db, rm_v6_from_bytes(a6[i])) >= db->n_attrs)
			abort();
	for (int i = 0; i < 8; i++)
		if (db->n_geo && rm_ref_geo4(db, a4[i]) >= db->n_geo)
			abort();
	for (int i = 0; i < 4; i++)
		if (db->n_geo && rm_ref_geo6(db, rm_v6_from_bytes(a6[i])) >= db->n_geo)
			abort();
	for (uint32_t i = 0; i < db->n_attrs; i++) {
		char key[256];
		rm_key_country(db, &db->attrs[i], key, sizeof(key));
		rm_key_holder(db, &db->attrs[i], key, sizeof(key));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size_in);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size_in)
{
	static struct undo undo[64];
	if (!file)
		build_base();
	if (size_in < 1)
		return 0;
	int fix_crc = !(data[0] & 1);
	const uint8_t *p = data + 1, *end = data + size_in;
	unsigned n_undo = 0;
	while (end - p >= 6 && n_undo < 64) {
		unsigned r = p[0] % n_regions;
		uint32_t off;
		memcpy(&off, p + 1, 4);
		uint8_t len = p[5];
		p += 6;
		if (len > end - p)
			len = (uint8_t)(end - p);
		uint64_t at = region[r].off + off % region[r].len;
		if (at >= size)
			break;
		if (len > size - at)
			len = (uint8_t)(size - at);
		struct undo *u = &undo[n_undo++];
		u->off = at;
		u->len = len;
		memcpy(u->old, file + at, len);
		memcpy(file + at, p, len);
		p += len;
	}
	uint32_t crc_old;
	memcpy(&crc_old, file + CRC_OFFSET, 4);
	if (fix_crc) {
		uint32_t zero = 0, crc;
		memcpy(file + CRC_OFFSET, &zero, 4);
		crc = rm_crc32c(0, file, size);
		memcpy(file + CRC_OFFSET, &crc, 4);
	}
	char err[512];
	for (unsigned flags = 0; flags <= RM_SNAP_HUGEPAGE; flags += RM_SNAP_HUGEPAGE) {
		struct rm_snapshot *s = rm_snapshot_open_flags(path, flags, err, sizeof(err));
		if (s) {
			serve_lookups(s);
			rm_snapshot_close(s);
		}
		if (n_undo) /* once is enough for a patched file: halve the cost */
			break;
	}
	memcpy(file + CRC_OFFSET, &crc_old, 4);
	while (n_undo--)
		memcpy(file + undo[n_undo].off, undo[n_undo].old, undo[n_undo].len);
	return 0;
}
