/*
 * lookup_bench.c - rirmeter's lookup tables against DPDK's, in one run.
 *
 *   lookup_bench -d SNAPSHOT [--json] [--keys N] [--rounds R] [--burst B] [--family 4|6]
 *
 * IPv4: rirmeter's DIR-24-8 (each code path this CPU has) against DPDK
 * rte_lpm (bulk and x4) and rte_fib DIR24_8 (every lookup type), plus the
 * memory floor: one random 4-byte read per key in an array the size of
 * rirmeter's first level.  IPv6: rirmeter's trie (every walk) against
 * rte_lpm6 and rte_fib6 TRIE (scalar and AVX-512), plus five floors (see
 * floor6_pass and depth_pass), each contender's speed over the `dir24+1`
 * floor's, and how many reads below the first stride each stream's keys
 * take in the trie.  Every structure is loaded with the same prefixes
 * (the snapshot's ranges split into CIDR blocks) and given the same key
 * arrays, on three streams:
 *
 *   allocated  uniform over registry-delegated space (weighted by size)
 *   zipf       Zipf (s = 1) over delegated blocks in random rank order
 *   uniform    uniform over all 2^32, or over 2000::/3 for IPv6
 *
 * The machine is shared and noisy, so contenders are interleaved in every
 * round (rotating who goes first), each pass is preceded by a touch of the
 * key and output arrays, and the median over rounds is reported with the
 * ratio to the best DPDK variant of the same run.  DPDK's EAL gets
 * --force-max-simd-bitwidth=512 so that rte_fib and rte_fib6 may use their
 * AVX-512 lookups, and all tables sit on huge pages as users run them:
 * rirmeter's first IPv4 level through RM_SNAP_HUGEPAGE (transparent huge
 * pages), DPDK's on hugetlbfs when pages are reserved (perf/hugepages.sh),
 * else on --no-huge memory madvised for transparent huge pages (which the
 * kernel may not honour for memory DPDK has already touched: the header
 * line says which).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_memory.h>

#include "dir24.h"
#include "snapshot.h"
#include "trie6.h"

#define MAX_CONTENDERS 16
#define MAX_ROUNDS     64

typedef uint8_t addr6[16];

struct stream {
	const char *name;
	void *keys; /* uint32_t[] for IPv4, addr6[] for IPv6 */
};

struct contender {
	const char *structure, *variant;
	size_t bytes;
	double build_ms;
	void (*run)(struct contender *c, const void *keys, uint32_t n, uint32_t burst);
	void *obj;
	int type;   /* DPDK lookup type */
	void *fn;   /* rirmeter variant */
	int answer; /* how to read its output: see answer_of() */
	double mlps[MAX_ROUNDS];
};

enum { ANS_U32, ANS_U64, ANS_LPM_FLAGGED, ANS_I32_MISS };

static const struct rm_db *g_db;
static const struct rm_dir24 *g_dir24; /* the snapshot's tables */
static const struct rm_trie6 *g_trie6;
static uint32_t *out32;
static uint64_t *out64;
static uint32_t *floor_arr;
static uint16_t *floor6_arr; /* the second read of the IPv6 floors */
static uint32_t floor6_mask;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double rnd01(void)
{
	return (double)(rnd64() >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------------ */
/* Contenders                                                          */

static void run_dir24(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	rm_dir24_bulk_fn fn = (rm_dir24_bulk_fn)c->fn;
	for (uint32_t i = 0; i < n; i += burst)
		fn(g_dir24, (const uint32_t *)keys + i, out32 + i, burst);
}

static void run_trie6(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	rm_trie6_bulk_fn fn = (rm_trie6_bulk_fn)c->fn;
	for (uint32_t i = 0; i < n; i += burst)
		fn(g_trie6, (const addr6 *)keys + i, out32 + i, burst);
}

static void run_fib(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	rte_fib_select_lookup(c->obj, c->type);
	for (uint32_t i = 0; i < n; i += burst)
		rte_fib_lookup_bulk(c->obj, (uint32_t *)(uintptr_t)keys + i, out64 + i, burst);
}

static void run_fib6(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	rte_fib6_select_lookup(c->obj, c->type);
	for (uint32_t i = 0; i < n; i += burst)
		rte_fib6_lookup_bulk(c->obj, (addr6 *)(uintptr_t)keys + i, out64 + i, (int)burst);
}

static void run_lpm_bulk(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	for (uint32_t i = 0; i < n; i += burst)
		rte_lpm_lookup_bulk(c->obj, (const uint32_t *)keys + i, out32 + i, burst);
}

static void run_lpm_x4(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	(void)burst;
	for (uint32_t i = 0; i < n; i += 4) {
		xmm_t ip = _mm_loadu_si128((const __m128i *)((const uint32_t *)keys + i));
		rte_lpm_lookupx4(c->obj, ip, out32 + i, 0);
	}
}

static void run_lpm6(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	for (uint32_t i = 0; i < n; i += burst)
		rte_lpm6_lookup_bulk_func(c->obj, (addr6 *)(uintptr_t)keys + i,
					  (int32_t *)out32 + i, burst);
}

static void run_floor(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	(void)c;
	(void)burst;
	const uint32_t *k = keys;
	for (uint32_t i = 0; i < n; i++)
		out32[i] = floor_arr[k[i] >> 9];
}

/*
 * The IPv6 floors: what any lookup that reads the trie's first stride
 * costs, with this machine's fastest way to read it (eight addresses'
 * leading 32 bits out of four 32-byte loads, one 8-lane gather), with no
 * decision after it: `dir24` reads one entry per address; `dir24+1` reads
 * a second one for every address, from a 2-byte table the size of the
 * trie's dense groups, at the slot the first entry and the address's next
 * byte select: what one uncompressed level costs (one access, like a tbl8
 * of rte_fib6).  Their answers are not ids: they bound from below what the
 * trie's walk can cost for keys that end in the first stride (`dir24`)
 * and for keys that need one more read (`dir24+1`; a /48 needs more).
 * `dir24+packed` takes the one decision a walk cannot do without: after
 * the first read, the lanes whose entry names a dense group are packed
 * (one permute each 8 lanes) and read their entry in the trie's real
 * groups 8 at a time, every gather full but a batch's last; the entries
 * stay packed (nothing is written back in key order).  It bounds a design
 * that takes the step below the first stride only for the keys that need
 * it, in full vectors.
 */

/* dir24+depth: the walk's reads and nothing else.  The lanes of each 64
 * keys that read each dense level are listed beforehand (make_depths, from
 * the simple walk), so the program takes the first stride for all in
 * gathers, as floor/dir24 does, then for each level the scalar read of its
 * listed lanes, each waiting on the one above as in the walk's passes: no
 * list is built, no decision made.  The floor of the trie's own layout,
 * its reads taken the way its walk takes them. */
struct depth_lists {
	uint8_t n[RM_TRIE6_LEVELS], lane[RM_TRIE6_LEVELS][64];
};
static const void *depth_keys[3];
static int depth_floor; /* measured: the burst is a multiple of 64 */
static struct depth_lists *depth_of[3];

/* How many dense levels address a (its first 32 bits top, inside
 * 2000::/3) reads below the first stride, the entry after them into *e;
 * when b is not NULL, lane is appended to b's list of each level read.
 * print_steps and make_depths count the same reads. */
static unsigned dense_reads(const uint8_t *a, uint32_t top, uint32_t *e, struct depth_lists *b,
			    uint8_t lane)
{
	const struct rm_trie6 *t = g_trie6;
	unsigned lv = 0;
	*e = rm_trie6_dir24(t, top, t->width);
	for (; lv < RM_TRIE6_LEVELS && (*e & RM_TRIE6_NODE); lv++) {
		if (b)
			b->lane[lv][b->n[lv]++] = lane;
		*e = rm_trie6_dense(t, *e, a[3 + lv], t->width);
	}
	return lv;
}

/* The lists of dir24+depth for the three streams' nkeys keys. */
static void make_depths(const struct stream *st, uint32_t nkeys)
{
	for (int q = 0; q < 3; q++) {
		struct depth_lists *d = calloc(nkeys / 64 + 1, sizeof(*d));
		if (!d) {
			fprintf(stderr, "lookup_bench: out of memory for the depth lists\n");
			exit(1);
		}
		for (uint32_t i = 0; i < nkeys; i++) {
			const uint8_t *a = ((const addr6 *)st[q].keys)[i];
			uint32_t top = rm_get_be32(a), e;
			if ((top >> 29) == 1)
				dense_reads(a, top, &e, &d[i / 64], (uint8_t)(i % 64));
		}
		depth_keys[q] = st[q].keys;
		depth_of[q] = d;
	}
}

#ifdef __x86_64__
#include "trie6_top8.h"

/* The set bits of a byte as lane numbers, lowest first, one a byte. */
static uint64_t lanes_of[256];

static void init_lanes_of(void)
{
	for (unsigned m = 0; m < 256; m++)
		for (unsigned k = 0, c = 0; k < 8; k++)
			if (m >> k & 1)
				lanes_of[m] |= (uint64_t)k << (8 * c++);
}

/* dir24+packed's second read, after the first pass left every address's
 * 2-byte dir24 entry in the low half of out[k]: per 64 addresses, the
 * dense indexes of the lanes on a group packed, then gathered 8 at a time
 * (lanes past the last read entry 0). */
__attribute__((target("avx2"))) static void packed_pass(const addr6 *a, uint32_t *out, uint32_t n)
{
	const __m256i unit = _mm256_set1_epi32(0x7fff), byte = _mm256_set1_epi32(0xff);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const void *dense = g_trie6->dense;
	uint32_t idx[64 + 8];
	for (uint32_t b = 0; b < n; b += 64) {
		uint32_t m = n - b < 64 ? n - b : 64, cnt = 0;
		for (uint32_t k = 0; k + 8 <= m; k += 8) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(out + b + k));
			unsigned grp = (unsigned)_mm256_movemask_ps(
			    _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
			__m256i j =
			    _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(v, unit), 8),
					    _mm256_and_si256(rm_trie6_top8(a + b + k), byte));
			__m256i perm =
			    _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)&lanes_of[grp]));
			_mm256_storeu_si256((__m256i *)(idx + cnt),
					    _mm256_permutevar8x32_epi32(j, perm));
			cnt += (uint32_t)__builtin_popcount(grp);
		}
		for (uint32_t i = 0; i < cnt; i += 8) {
			__m256i ok = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(cnt - i)), lane);
			__m256i j =
			    _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(idx + i)), ok);
			_mm256_storeu_si256((__m256i *)(out + b + i),
					    _mm256_i32gather_epi32((const int *)dense, j, 2));
		}
	}
}

/* Appends the lanes of 8 whose 2-byte entry (sign-extended in v) names a
 * group, of the first `live` lanes: their dense index j and next word w,
 * packed, to idx and wd at cnt.  Returns the new count. */
__attribute__((target("avx2"))) static inline uint32_t
pack8(__m256i j, __m256i w, __m256i v, unsigned live, uint32_t *idx, uint32_t *wd, uint32_t cnt)
{
	unsigned grp = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(v)) & live;
	__m256i perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)&lanes_of[grp]));
	_mm256_storeu_si256((__m256i *)(idx + cnt), _mm256_permutevar8x32_epi32(j, perm));
	_mm256_storeu_si256((__m256i *)(wd + cnt), _mm256_permutevar8x32_epi32(w, perm));
	return cnt + (uint32_t)__builtin_popcount(grp);
}

/* dir24+levels: dir24+packed carried through all three dense levels.  Per
 * 64 addresses, the lanes on a level-0 group are packed with their next
 * word (bytes 4-7) and read their entry 8 at a time; of those, the lanes on
 * a level-1 group are packed again and read theirs at byte 4, then level
 * 2 at byte 5.  Every gather is full but each level's last, every read is
 * one the trie's walk must make for that address (each level waits on the
 * one above, as the walk's does), and no decision is left to a scalar
 * loop: the least the trie's own layout can cost in full vectors.  The
 * entries stay packed. */
__attribute__((target("avx2"))) static void levels_pass(const addr6 *a, uint32_t *out, uint32_t n)
{
	const __m256i unit = _mm256_set1_epi32(0x7fff), byte = _mm256_set1_epi32(0xff);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const void *dense = g_trie6->dense;
	uint32_t idx[2][64 + 8], wd[2][64 + 8];
	for (uint32_t b = 0; b < n; b += 64) {
		uint32_t m = n - b < 64 ? n - b : 64, cnt = 0;
		for (uint32_t k = 0; k + 8 <= m; k += 8) {
			__m256i v = _mm256_slli_epi32(
			    _mm256_loadu_si256((const __m256i *)(out + b + k)), 16);
			__m256i j = _mm256_or_si256(
			    _mm256_slli_epi32(_mm256_and_si256(_mm256_srai_epi32(v, 16), unit), 8),
			    _mm256_and_si256(rm_trie6_top8(a + b + k), byte));
			cnt = pack8(j, rm_trie6_word8(a + b + k, 1), v, 0xff, idx[0], wd[0], cnt);
		}
		for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++) {
			uint32_t *from = idx[lv & 1], *fw = wd[lv & 1], next = 0;
			const int shift = lv == 0 ? 24 : 16; /* byte 4, then byte 5 */
			for (uint32_t i = 0; i < cnt; i += 8) {
				__m256i ok =
				    _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(cnt - i)), lane);
				__m256i j = _mm256_and_si256(
				    _mm256_loadu_si256((const __m256i *)(from + i)), ok);
				__m256i v = _mm256_slli_epi32(
				    _mm256_i32gather_epi32((const int *)dense, j, 2), 16);
				_mm256_storeu_si256((__m256i *)(out + b + i), v);
				if (lv + 1 == RM_TRIE6_LEVELS)
					continue;
				__m256i w = _mm256_loadu_si256((const __m256i *)(fw + i));
				__m256i jn = _mm256_or_si256(
				    _mm256_slli_epi32(
					_mm256_and_si256(_mm256_srai_epi32(v, 16), unit), 8),
				    _mm256_and_si256(_mm256_srli_epi32(w, shift), byte));
				unsigned live =
				    (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(ok));
				next = pack8(jn, w, v, live, idx[(lv + 1) & 1], wd[(lv + 1) & 1],
					     next);
			}
			cnt = next;
		}
	}
}

/* The IPv6 floors, a contender's type. */
enum floor6 { FLOOR6_DIR24, FLOOR6_DIR24_1, FLOOR6_PACKED, FLOOR6_LEVELS, FLOOR6_DEPTH };

/* The first read for all n addresses, then the second (dir24+1) for all
 * of them, or the packed reads of dir24+packed or dir24+levels: the reads
 * of one pass are independent, so they overlap as far as the core allows,
 * which is how the trie's walk goes too. */
__attribute__((target("avx2"))) static void floor6_pass(const addr6 *a, uint32_t *out, uint32_t n,
							enum floor6 second)
{
	const __m256i index = _mm256_set1_epi32(RM_TRIE6_DIR24 - 1);
	const __m256i unit = _mm256_set1_epi32(0x7fff), byte = _mm256_set1_epi32(0xff);
	const __m256i mask2 = _mm256_set1_epi32((int)floor6_mask);
	const void *dir24 = g_trie6->dir24;
	for (uint32_t k = 0; k + 8 <= n; k += 8) {
		__m256i i = _mm256_and_si256(_mm256_srli_epi32(rm_trie6_top8(a + k), 8), index);
		_mm256_storeu_si256((__m256i *)(out + k),
				    _mm256_i32gather_epi32((const int *)dir24, i, 2));
	}
	if (second == FLOOR6_DIR24)
		return;
	if (second == FLOOR6_PACKED) {
		packed_pass(a, out, n);
		return;
	}
	if (second == FLOOR6_LEVELS) {
		levels_pass(a, out, n);
		return;
	}
	for (uint32_t k = 0; k + 8 <= n; k += 8) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(out + k));
		__m256i j = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(v, unit), 8),
					    _mm256_and_si256(rm_trie6_top8(a + k), byte));
		j = _mm256_and_si256(j, mask2);
		_mm256_storeu_si256((__m256i *)(out + k),
				    _mm256_i32gather_epi32((const int *)floor6_arr, j, 2));
	}
}

__attribute__((target("avx2"))) static void depth_pass(const addr6 *a, uint32_t *out, uint32_t n,
						       const struct depth_lists *d)
{
	const struct rm_trie6 *t = g_trie6;
	for (uint32_t b = 0; b < n; b += 64, d++) {
		uint32_t m = n - b < 64 ? n - b : 64, *e = out + b;
		floor6_pass(a + b, e, m, FLOOR6_DIR24);
		for (unsigned lv = 0; lv < RM_TRIE6_LEVELS; lv++)
			for (uint32_t j = 0; j < d->n[lv]; j++) {
				uint32_t k = d->lane[lv][j];
				e[k] =
				    rm_trie6_dense(t, (uint32_t)(int16_t)e[k], a[b + k][3 + lv], 2);
			}
	}
}

static void run_floor6(struct contender *c, const void *keys, uint32_t n, uint32_t burst)
{
	if (c->type == FLOOR6_DEPTH) {
		int q = keys == depth_keys[0] ? 0 : keys == depth_keys[1] ? 1 : 2;
		for (uint32_t i = 0; i < n; i += burst)
			depth_pass((const addr6 *)keys + i, out32 + i, burst, depth_of[q] + i / 64);
		return;
	}
	for (uint32_t i = 0; i < n; i += burst)
		floor6_pass((const addr6 *)keys + i, out32 + i, burst, (enum floor6)c->type);
}
#endif

static uint32_t answer_of(const struct contender *c, uint32_t i)
{
	switch (c->answer) {
	case ANS_U64:
		return (uint32_t)out64[i];
	case ANS_LPM_FLAGGED:
		return out32[i] & RTE_LPM_LOOKUP_SUCCESS ? out32[i] & 0xffffff : 0;
	case ANS_I32_MISS:
		return (int32_t)out32[i] < 0 ? 0 : out32[i];
	default:
		return out32[i];
	}
}

/* ------------------------------------------------------------------ */
/* Loading DPDK's structures with the snapshot's ranges               */

struct cidr_sink {
	void *obj;
	int kind; /* 0 rte_lpm, 1 rte_fib, 2 rte_lpm6, 3 rte_fib6, -1 count only */
	uint32_t id;
	unsigned count;
	int failed;
};

static void add_cidr(rm_u128 base, unsigned plen, void *arg)
{
	struct cidr_sink *s = arg;
	uint8_t ip[16];
	int rc = 0;
	rm_v6_to_bytes(base, ip);
	switch (s->kind) {
	case 0:
		rc = rte_lpm_add(s->obj, (uint32_t)base, (uint8_t)plen, s->id);
		break;
	case 1:
		rc = rte_fib_add(s->obj, (uint32_t)base, (uint8_t)plen, s->id);
		break;
	case 2:
		rc = rte_lpm6_add(s->obj, ip, (uint8_t)plen, s->id);
		break;
	case 3:
		rc = rte_fib6_add(s->obj, ip, (uint8_t)plen, s->id);
		break;
	}
	s->failed |= rc != 0;
	s->count++;
}

/* Feed every range with a non-default id as CIDR blocks; the count. */
static unsigned load_ranges(int family, void *obj, int kind, int *failed)
{
	const struct rm_db *db = g_db;
	struct cidr_sink s = {.obj = obj, .kind = kind};
	uint32_t n = family == 4 ? db->v4.n : db->v6.n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = family == 4 ? db->v4.id[i] : db->v6.id[i];
		if (id == 0)
			continue; /* the default answer */
		rm_u128 first, last;
		if (family == 4) {
			first = db->v4.start[i];
			last = i + 1 < n ? (rm_u128)db->v4.start[i + 1] - 1 : 0xffffffffu;
		} else {
			first = rm_key_get(db->v6.start[i]);
			last = i + 1 < n ? rm_key_get(db->v6.start[i + 1]) - 1 : ~(rm_u128)0;
		}
		s.id = id;
		if (kind < 0)
			s.count +=
			    rm_range_to_cidrs(first, last, family == 4 ? 32 : 128, NULL, NULL);
		else
			rm_range_to_cidrs(first, last, family == 4 ? 32 : 128, add_cidr, &s);
	}
	if (failed)
		*failed = s.failed;
	return s.count;
}

/* Free hugetlbfs memory in MiB, 0 when none is mounted or reserved. */
static unsigned long hugetlb_free_mib(void)
{
	unsigned long free_pages = 0, kb = 0;
	int mounted = 0;
	char line[512];
	FILE *f = fopen("/proc/mounts", "r");
	while (f && fgets(line, sizeof(line), f))
		mounted |= strstr(line, " hugetlbfs ") != NULL;
	if (f)
		fclose(f);
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &kb);
	}
	if (f)
		fclose(f);
	return mounted ? free_pages * kb / 1024 : 0;
}

static int advise_huge(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	madvise(msl->base_va, msl->len, MADV_HUGEPAGE);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Key streams                                                         */

static int delegated(uint32_t id)
{
	unsigned st = g_db->attrs[id].status;
	return st == RM_ST_ALLOCATED || st == RM_ST_ASSIGNED;
}

struct blocks {
	uint32_t n;
	rm_u128 *first;
	double *size; /* addresses, as a double (IPv6 blocks reach 2^100) */
};

static struct blocks delegated_blocks(int family)
{
	const struct rm_db *db = g_db;
	uint32_t n = family == 4 ? db->v4.n : db->v6.n;
	struct blocks b = {0, malloc(n * sizeof(rm_u128)), malloc(n * sizeof(double))};
	for (uint32_t i = 0; i < n; i++) {
		if (!delegated(family == 4 ? db->v4.id[i] : db->v6.id[i]))
			continue;
		rm_u128 s, e;
		if (family == 4) {
			s = db->v4.start[i];
			e = i + 1 < n ? db->v4.start[i + 1] : ((rm_u128)1 << 32);
		} else {
			s = rm_key_get(db->v6.start[i]);
			e = i + 1 < n ? rm_key_get(db->v6.start[i + 1]) : 0; /* 0: wraps */
		}
		b.first[b.n] = s;
		b.size[b.n] = (double)(e - s);
		b.n++;
	}
	return b;
}

static uint32_t pick(const double *cum, uint32_t n, double x)
{
	uint32_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (cum[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A uniform address in block k: offsets drawn as fractions of its size. */
static rm_u128 inside(const struct blocks *b, uint32_t k)
{
	rm_u128 r = ((rm_u128)rnd64() << 64) | rnd64();
	double sz = b->size[k];
	if (sz < 1.8e19)
		return b->first[k] + (rm_u128)(r % (rm_u128)(uint64_t)sz);
	/* Larger than 2^64: keep the random low bits below the block size. */
	int bits = (int)log2(sz);
	return b->first[k] + (r & (((rm_u128)1 << bits) - 1));
}

static void put_key(int family, void *keys, uint32_t i, rm_u128 a)
{
	if (family == 4)
		((uint32_t *)keys)[i] = (uint32_t)a;
	else
		rm_v6_to_bytes(a, ((addr6 *)keys)[i]);
}

static void make_streams(int family, struct stream *s, uint32_t nkeys)
{
	struct blocks b = delegated_blocks(family);
	double *cum = malloc(b.n * sizeof(double)), *zcum = malloc(b.n * sizeof(double));
	uint32_t *rank = malloc(b.n * sizeof(uint32_t));
	double acc = 0, zacc = 0;
	for (uint32_t k = 0; k < b.n; k++) {
		cum[k] = acc += b.size[k];
		rank[k] = k;
		zcum[k] = zacc += 1.0 / (k + 1);
	}
	/* Zipf ranks in random order, so that hot blocks are scattered. */
	for (uint32_t k = b.n - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(rnd64() % (k + 1)), t = rank[k];
		rank[k] = rank[j];
		rank[j] = t;
	}
	size_t ksz = family == 4 ? 4 : 16;
	s[0].name = "allocated";
	s[1].name = "zipf";
	s[2].name = "uniform";
	for (int j = 0; j < 3; j++)
		s[j].keys = aligned_alloc(64, (size_t)nkeys * ksz);
	for (uint32_t i = 0; i < nkeys; i++) {
		put_key(family, s[0].keys, i, inside(&b, pick(cum, b.n, rnd01() * acc)));
		put_key(family, s[1].keys, i, inside(&b, rank[pick(zcum, b.n, rnd01() * zacc)]));
		rm_u128 r = ((rm_u128)rnd64() << 64) | rnd64();
		put_key(family, s[2].keys, i, family == 4 ? r : (r >> 3) | ((rm_u128)1 << 125));
	}
	free(b.first);
	free(b.size);
	free(cum);
	free(zcum);
	free(rank);
}

/* ------------------------------------------------------------------ */
/* Measurement                                                         */

static volatile uint64_t sink;

static void touch(const void *keys, size_t bytes, uint32_t n)
{
	const uint8_t *k = keys;
	uint64_t s = 0;
	for (size_t i = 0; i < bytes; i += 64)
		s += k[i];
	memset(out32, 0, (size_t)n * 4);
	memset(out64, 0, (size_t)n * 8);
	sink += s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[MAX_ROUNDS];
	memcpy(t, v, (size_t)n * sizeof(double));
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static uint32_t reference(int family, const void *keys, uint32_t i)
{
	if (family == 4)
		return rm_ref_lookup4(g_db, ((const uint32_t *)keys)[i]);
	return rm_ref_lookup6(g_db, rm_v6_from_bytes(((const addr6 *)keys)[i]));
}

/* Every contender's answers must equal the reference before timing. */
static void verify(int family, struct contender *c, int nc, const void *keys, uint32_t n,
		   uint32_t burst)
{
	for (int k = 0; k < nc; k++) {
		if (strcmp(c[k].structure, "floor") == 0)
			continue;
		c[k].run(&c[k], keys, n, burst);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t got = answer_of(&c[k], i), want = reference(family, keys, i);
			if (got != want) {
				fprintf(stderr,
					"lookup_bench: IPv%d %s/%s answers %u, reference %u\n",
					family, c[k].structure, c[k].variant, got, want);
				exit(1);
			}
		}
	}
}

struct results {
	double best_ours[3]; /* per stream, for the IPv6/IPv4 comparison */
};

static void measure(int family, struct contender *con, int nc, struct stream *st, uint32_t nkeys,
		    int rounds, uint32_t burst, int json, struct results *res)
{
	size_t ksz = family == 4 ? 4 : 16;
	for (int s = 0; s < 3; s++) {
		verify(family, con, nc, st[s].keys, nkeys < 65536 ? nkeys : 65536, burst);
		for (int r = 0; r < rounds; r++) {
			for (int j = 0; j < nc; j++) {
				struct contender *x = &con[(j + r) % nc];
				touch(st[s].keys, (size_t)nkeys * ksz, nkeys);
				double a = now_s();
				x->run(x, st[s].keys, nkeys, burst);
				x->mlps[r] = nkeys / (now_s() - a) / 1e6;
			}
		}
		double best_dpdk = 0, floor1 = 0; /* floor1: IPv6's dir24+1, when measured */
		res->best_ours[s] = 0;
		for (int j = 0; j < nc; j++) {
			double m = median(con[j].mlps, rounds);
			if (strncmp(con[j].structure, "rte_", 4) == 0)
				best_dpdk = fmax(best_dpdk, m);
			if (strcmp(con[j].variant, "dir24+1") == 0)
				floor1 = m;
			if (strcmp(con[j].structure, "rirmeter") == 0)
				res->best_ours[s] = fmax(res->best_ours[s], m);
		}
		if (!json)
			printf("IPv%d %-9s  %-9s %-13s %9s %8s %9s %9s %8s%s\n", family, st[s].name,
			       "structure", "variant", "Mlookup/s", "ns/look", "MiB", "build ms",
			       "vs DPDK", floor1 > 0 ? " vs dir24+1" : "");
		for (int j = 0; j < nc; j++) {
			double m = median(con[j].mlps, rounds);
			if (json) {
				printf("{\"family\":%d,\"structure\":\"%s\",\"variant\":\"%s\","
				       "\"stream\":\"%s\",\"mlps\":%.2f,\"ns_per_lookup\":%.3f,"
				       "\"bytes\":%zu,\"build_ms\":%.1f,\"ratio_vs_best_dpdk\":%."
				       "3f",
				       family, con[j].structure, con[j].variant, st[s].name, m,
				       1e3 / m, con[j].bytes, con[j].build_ms, m / best_dpdk);
				if (floor1 > 0)
					printf(",\"ratio_vs_floor_dir24_1\":%.3f", m / floor1);
				printf("}\n");
			} else {
				printf("                 %-9s %-13s %9.1f %8.2f %9.1f %9.1f %7.2fx",
				       con[j].structure, con[j].variant, m, 1e3 / m,
				       con[j].bytes / 1048576.0, con[j].build_ms, m / best_dpdk);
				if (floor1 > 0)
					printf(" %10.2fx", m / floor1);
				printf("\n");
			}
		}
		if (!json)
			printf("\n");
	}
}

/* ------------------------------------------------------------------ */
/* The two families                                                    */

static int add(struct contender *con, int nc, struct contender c)
{
	con[nc] = c;
	return nc + 1;
}

static int ipv4_contenders(struct contender *con)
{
	const struct rm_db *db = g_db;
	int nc = 0;
	char err[256];
	struct rm_dir24_owned fresh;
	double t0 = now_s();
	if (rm_dir24_build(db, &fresh, err, sizeof(err))) {
		fprintf(stderr, "lookup_bench: %s\n", err);
		exit(1);
	}
	double ms = (now_s() - t0) * 1e3;
	rm_dir24_free(&fresh);
	size_t bytes = ((size_t)RM_DIR24_TBL16 + RM_DIR24_TBL24 + 2 * RM_DIR24_PAD +
			(size_t)g_dir24->n_groups * 256 + RM_DIR24_PAD) *
		       g_dir24->width;
	for (int l = RM_SIMD_SCALAR; l <= RM_SIMD_AVX512; l++) {
		rm_dir24_bulk_fn fn = rm_dir24_select((enum rm_simd)l);
		if (fn)
			nc = add(con, nc,
				 (struct contender){.structure = "rirmeter",
						    .variant = rm_simd_name((enum rm_simd)l),
						    .bytes = bytes,
						    .build_ms = ms,
						    .run = run_dir24,
						    .fn = (void *)fn});
	}

	unsigned ncidr = load_ranges(4, NULL, -1, NULL);
	uint32_t tbl8 = g_dir24->n_groups + 256;
	int nh2 = db->n_attrs < 0x8000;
	struct rte_fib_conf fc = {.type = RTE_FIB_DIR24_8, .max_routes = (int)ncidr + 16};
	fc.dir24_8.nh_sz = nh2 ? RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	fc.dir24_8.num_tbl8 = tbl8;
	int failed;
	t0 = now_s();
	struct rte_fib *fib = rte_fib_create("bench_fib", SOCKET_ID_ANY, &fc);
	if (!fib || (load_ranges(4, fib, 1, &failed), failed)) {
		fprintf(stderr, "lookup_bench: rte_fib could not take the prefixes\n");
		exit(1);
	}
	ms = (now_s() - t0) * 1e3;
	bytes = ((size_t)RM_DIR24_TBL24 + (size_t)tbl8 * 256) * (nh2 ? 2 : 4);
	static const struct {
		int type;
		const char *name;
	} types[] = {
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_MACRO, "scalar_macro"},
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_INLINE, "scalar_inline"},
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_UNI, "scalar_uni"},
	    {RTE_FIB_LOOKUP_DIR24_8_VECTOR_AVX512, "avx512"},
	};
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (rte_fib_select_lookup(fib, types[k].type) != 0) {
			fprintf(stderr, "lookup_bench: rte_fib %s not available\n", types[k].name);
			continue;
		}
		nc = add(con, nc,
			 (struct contender){.structure = "rte_fib",
					    .variant = types[k].name,
					    .bytes = bytes,
					    .build_ms = ms,
					    .run = run_fib,
					    .obj = fib,
					    .type = types[k].type,
					    .answer = ANS_U64});
	}

	struct rte_lpm_config lc = {.max_rules = ncidr + 16, .number_tbl8s = tbl8};
	t0 = now_s();
	struct rte_lpm *lpm = rte_lpm_create("bench_lpm", SOCKET_ID_ANY, &lc);
	if (!lpm || (load_ranges(4, lpm, 0, &failed), failed)) {
		fprintf(stderr, "lookup_bench: rte_lpm could not take the prefixes\n");
		exit(1);
	}
	ms = (now_s() - t0) * 1e3;
	bytes = ((size_t)RM_DIR24_TBL24 + (size_t)tbl8 * 256) * 4;
	nc = add(con, nc,
		 (struct contender){.structure = "rte_lpm",
				    .variant = "bulk",
				    .bytes = bytes,
				    .build_ms = ms,
				    .run = run_lpm_bulk,
				    .obj = lpm,
				    .answer = ANS_LPM_FLAGGED});
	nc = add(con, nc,
		 (struct contender){.structure = "rte_lpm",
				    .variant = "x4_sse",
				    .bytes = bytes,
				    .build_ms = ms,
				    .run = run_lpm_x4,
				    .obj = lpm});

	size_t floor_n = (size_t)1 << 23; /* 32 MiB of 4-byte words */
	floor_arr = aligned_alloc(2u << 20, floor_n * 4);
	madvise(floor_arr, floor_n * 4, MADV_HUGEPAGE);
	for (size_t i = 0; i < floor_n; i++)
		floor_arr[i] = (uint32_t)i;
	return add(
	    con, nc,
	    (struct contender){
		.structure = "floor", .variant = "read4", .bytes = floor_n * 4, .run = run_floor});
}

/*
 * DPDK's IPv6 tables take a tbl8 count up front: grow it until they fit.
 * rte_fib6 with 2-byte next hops addresses at most 32767 tbl8s, so it
 * moves to 4-byte next hops when that is not enough.
 */
static struct rte_fib6 *make_fib6(unsigned ncidr, uint32_t *tbl8, unsigned *nh_bytes, double *ms)
{
	static const struct {
		int nh;
		uint32_t tbl8;
	} tries[] = {{2, 16384},   {2, 32767},	 {4, 1 << 16}, {4, 1 << 17},
		     {4, 1 << 18}, {4, 1 << 19}, {4, 1 << 20}, {4, 1 << 21}};
	for (size_t k = 0; k < sizeof(tries) / sizeof(tries[0]); k++) {
		if (tries[k].nh == 2 && g_db->n_attrs >= 0x8000)
			continue;
		struct rte_fib6_conf fc = {.type = RTE_FIB6_TRIE, .max_routes = (int)ncidr + 16};
		fc.trie.nh_sz = tries[k].nh == 2 ? RTE_FIB6_TRIE_2B : RTE_FIB6_TRIE_4B;
		fc.trie.num_tbl8 = tries[k].tbl8;
		int failed;
		double t0 = now_s();
		struct rte_fib6 *f = rte_fib6_create("bench_fib6", SOCKET_ID_ANY, &fc);
		if (f && (load_ranges(6, f, 3, &failed), !failed)) {
			*ms = (now_s() - t0) * 1e3;
			*tbl8 = tries[k].tbl8;
			*nh_bytes = (unsigned)tries[k].nh;
			return f;
		}
		if (f)
			rte_fib6_free(f);
	}
	fprintf(stderr, "lookup_bench: rte_fib6 could not take the prefixes\n");
	exit(1);
}

static struct rte_lpm6 *make_lpm6(unsigned ncidr, uint32_t *tbl8, double *ms)
{
	for (*tbl8 = 1u << 14; *tbl8 <= 1u << 22; *tbl8 *= 2) {
		struct rte_lpm6_config lc = {.max_rules = ncidr + 16, .number_tbl8s = *tbl8};
		int failed;
		double t0 = now_s();
		struct rte_lpm6 *l = rte_lpm6_create("bench_lpm6", SOCKET_ID_ANY, &lc);
		if (l && (load_ranges(6, l, 2, &failed), !failed)) {
			*ms = (now_s() - t0) * 1e3;
			return l;
		}
		if (l)
			rte_lpm6_free(l);
	}
	fprintf(stderr, "lookup_bench: rte_lpm6 could not take the prefixes\n");
	exit(1);
}

static int ipv6_contenders(struct contender *con, uint32_t burst)
{
	const struct rm_db *db = g_db;
	int nc = 0;
	char err[256];
	struct rm_trie6_owned fresh;
	double t0 = now_s();
	if (rm_trie6_build(db, &fresh, err, sizeof(err))) {
		fprintf(stderr, "lookup_bench: %s\n", err);
		exit(1);
	}
	double ms = (now_s() - t0) * 1e3;
	rm_trie6_free(&fresh);
	size_t bytes = rm_trie6_bytes(g_trie6);
	const int popcnt = __builtin_cpu_supports("popcnt");
	const struct {
		const char *variant;
		int have;
		rm_trie6_bulk_fn fn;
	} walks[] = {{"generic", 1, rm_trie6_lookup_generic},
		     {"popcnt", popcnt, rm_trie6_lookup_popcnt},
		     {"avx2", popcnt && __builtin_cpu_supports("avx2"), rm_trie6_lookup_avx2}};
	for (size_t k = 0; k < sizeof(walks) / sizeof(walks[0]); k++)
		if (walks[k].have)
			nc = add(con, nc,
				 (struct contender){.structure = "rirmeter",
						    .variant = walks[k].variant,
						    .bytes = bytes,
						    .build_ms = ms,
						    .run = run_trie6,
						    .fn = (void *)walks[k].fn});

	unsigned ncidr = load_ranges(6, NULL, -1, NULL);
	uint32_t tbl8;
	unsigned nh;
	struct rte_fib6 *fib6 = make_fib6(ncidr, &tbl8, &nh, &ms);
	/* TRIE: a 2^24-entry first level plus 256-entry tbl8s, nh bytes each. */
	bytes = (((size_t)1 << 24) + (size_t)tbl8 * 256) * nh;
	static const struct {
		int type;
		const char *name;
	} types[] = {
	    {RTE_FIB6_LOOKUP_TRIE_SCALAR, "scalar"},
	    {RTE_FIB6_LOOKUP_TRIE_VECTOR_AVX512, "avx512"},
	};
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (rte_fib6_select_lookup(fib6, types[k].type) != 0) {
			fprintf(stderr, "lookup_bench: rte_fib6 %s not available\n", types[k].name);
			continue;
		}
		nc = add(con, nc,
			 (struct contender){.structure = "rte_fib6",
					    .variant = types[k].name,
					    .bytes = bytes,
					    .build_ms = ms,
					    .run = run_fib6,
					    .obj = fib6,
					    .type = types[k].type,
					    .answer = ANS_U64});
	}
	struct rte_lpm6 *lpm6 = make_lpm6(ncidr, &tbl8, &ms);
	/* lpm6: a 2^24-entry tbl24 and 256-entry tbl8s of 4-byte entries. */
	bytes = (((size_t)1 << 24) + (size_t)tbl8 * 256) * 4;
	nc = add(con, nc,
		 (struct contender){.structure = "rte_lpm6",
				    .variant = "bulk",
				    .bytes = bytes,
				    .build_ms = ms,
				    .run = run_lpm6,
				    .obj = lpm6,
				    .answer = ANS_I32_MISS});
#ifdef __x86_64__
	if (!__builtin_cpu_supports("avx2") || g_trie6->width != 2)
		return nc;
	uint32_t dense = g_trie6->n_dense * RM_TRIE6_GROUP;
	floor6_mask = 1;
	while (floor6_mask < dense)
		floor6_mask <<= 1;
	floor6_arr = aligned_alloc(2u << 20, (size_t)floor6_mask * 2 + (2u << 20));
	madvise(floor6_arr, (size_t)floor6_mask * 2, MADV_HUGEPAGE);
	for (uint32_t i = 0; i < floor6_mask; i++)
		floor6_arr[i] = (uint16_t)i;
	floor6_mask--;
	bytes = rm_trie6_bytes(g_trie6);
	nc = add(con, nc,
		 (struct contender){
		     .structure = "floor", .variant = "dir24", .bytes = bytes, .run = run_floor6});
	nc = add(con, nc,
		 (struct contender){.structure = "floor",
				    .variant = "dir24+1",
				    .bytes = bytes + ((size_t)floor6_mask + 1) * 2,
				    .run = run_floor6,
				    .type = FLOOR6_DIR24_1});
	init_lanes_of();
	nc = add(con, nc,
		 (struct contender){.structure = "floor",
				    .variant = "dir24+packed",
				    .bytes = bytes,
				    .run = run_floor6,
				    .type = FLOOR6_PACKED});
	nc = add(con, nc,
		 (struct contender){.structure = "floor",
				    .variant = "dir24+levels",
				    .bytes = bytes,
				    .run = run_floor6,
				    .type = FLOOR6_LEVELS});
	depth_floor = burst % 64 == 0; /* its lists are of 64 keys */
	if (depth_floor)
		nc = add(con, nc,
			 (struct contender){.structure = "floor",
					    .variant = "dir24+depth",
					    .bytes = bytes,
					    .run = run_floor6,
					    .type = FLOOR6_DEPTH});
#endif
	return nc;
}

/* The share of each stream's keys answered by the first stride, or after
 * 1, 2, 3 or more reads below it (dense levels, then nodes): what the
 * floors are to be read against. */
static void print_steps(const struct stream *st, uint32_t nkeys)
{
	const struct rm_trie6 *t = g_trie6;
	const uint32_t unit = rm_trie6_unit_mask(t->width);
	for (int q = 0; q < 3; q++) {
		uint32_t h[5] = {0};
		for (uint32_t i = 0; i < nkeys; i++) {
			const uint8_t *a = ((const addr6 *)st[q].keys)[i];
			uint32_t top = rm_get_be32(a), d = 0, e;
			if ((top >> 29) == 1)
				d = dense_reads(a, top, &e, NULL, 0);
			else
				e = t->dir16[top >> 16];
			for (; e & RM_TRIE6_NODE; d++)
				e = rm_trie6_step(t, e & unit, a);
			h[d < 4 ? d : 4]++;
		}
		printf("IPv6 %-9s  keys by reads below the first stride: 0 %.1f%%, 1 %.1f%%, "
		       "2 %.1f%%, 3 %.1f%%, more %.1f%%\n",
		       st[q].name, 100.0 * h[0] / nkeys, 100.0 * h[1] / nkeys, 100.0 * h[2] / nkeys,
		       100.0 * h[3] / nkeys, 100.0 * h[4] / nkeys);
	}
	printf("\n");
}

/* How much of the process sits on transparent huge pages, for the record. */
static void print_hugepages(const struct rm_snapshot *snap)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "AnonHugePages:", 14) == 0)
			printf("transparent huge pages in use: %s", line + 14);
	if (f)
		fclose(f);
	printf("rirmeter snapshot copied onto huge pages: %zu MiB\n",
	       rm_snapshot_hugepage_bytes(snap) >> 20);
}

static void usage(void)
{
	fprintf(stderr, "usage: lookup_bench -d SNAPSHOT [--json] [--keys N] [--rounds R] "
			"[--burst B] [--family 4|6]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"keys", required_argument, NULL, 'k'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"burst", required_argument, NULL, 'b'},
	    {"family", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int json = 0, rounds = 7, family = 0, c;
	uint32_t nkeys = 1u << 22, burst = 64;
	while ((c = getopt_long(argc, argv, "d:jk:r:b:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'k':
			nkeys = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'b':
			burst = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'f':
			family = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!path || rounds < 1 || rounds > MAX_ROUNDS || burst < 4 || burst % 4 || nkeys < burst ||
	    (family && family != 4 && family != 6))
		usage();
	nkeys -= nkeys % burst;

	/* DPDK gets real huge pages when the machine has them reserved
	 * (perf/hugepages.sh), as in production; otherwise --no-huge memory
	 * with a madvise for transparent huge pages.  No telemetry socket:
	 * a jammed one on a shared machine blocked every DPDK process's
	 * start (tenth session). */
	int huge = hugetlb_free_mib() >= 3072;
	char *eal_huge[] = {"lookup_bench",
			    "--in-memory",
			    "--no-pci",
			    "-m",
			    "3072",
			    "-l",
			    "0",
			    "--force-max-simd-bitwidth=512",
			    "--log-level=error",
			    "--no-telemetry",
			    NULL};
	char *eal_nohuge[] = {"lookup_bench",
			      "--no-huge",
			      "--no-pci",
			      "-m",
			      "3072",
			      "--no-shconf",
			      "-l",
			      "0",
			      "--force-max-simd-bitwidth=512",
			      "--log-level=error",
			      "--no-telemetry",
			      NULL};
	if (huge ? rte_eal_init(10, eal_huge) < 0 : rte_eal_init(11, eal_nohuge) < 0) {
		fprintf(stderr, "lookup_bench: EAL init failed\n");
		return 1;
	}
	if (!huge)
		rte_memseg_list_walk(advise_huge, NULL);

	char err[512];
	struct rm_snapshot *snap = rm_snapshot_open_flags(path, RM_SNAP_HUGEPAGE, err, sizeof(err));
	if (!snap) {
		fprintf(stderr, "lookup_bench: %s\n", err);
		return 1;
	}
	g_db = rm_snapshot_db(snap);
	g_dir24 = rm_snapshot_dir24(snap);
	g_trie6 = rm_snapshot_trie6(snap);
	out32 = aligned_alloc(64, (size_t)nkeys * 4 + 64);
	out64 = aligned_alloc(64, (size_t)nkeys * 8 + 64);
	if (!json)
		printf("%u keys x %d rounds, burst %u; DPDK memory on %s\n"
		       "IPv4: %u ranges, %u CIDR prefixes, %u groups; IPv6: %u ranges, %u CIDR "
		       "prefixes, %u trie nodes; %u attributions\n\n",
		       nkeys, rounds, burst,
		       huge ? "hugetlbfs pages" : "4 KiB pages (madvised for THP)", g_db->v4.n,
		       load_ranges(4, NULL, -1, NULL), g_dir24->n_groups, g_db->v6.n,
		       load_ranges(6, NULL, -1, NULL), g_trie6->n_nodes, g_db->n_attrs);

	struct results r4 = {{0}}, r6 = {{0}};
	struct contender con[MAX_CONTENDERS];
	struct stream st[3];
	int fams[2] = {4, 6};
	for (int k = 0; k < 2; k++) {
		if (family && family != fams[k])
			continue;
		memset(con, 0, sizeof(con));
		int nc = fams[k] == 4 ? ipv4_contenders(con) : ipv6_contenders(con, burst);
		make_streams(fams[k], st, nkeys);
		if (fams[k] == 6 && !json)
			print_steps(st, nkeys);
		if (fams[k] == 6 && depth_floor)
			make_depths(st, nkeys);
		measure(fams[k], con, nc, st, nkeys, rounds, burst, json, fams[k] == 4 ? &r4 : &r6);
		for (int s = 0; s < 3; s++) {
			free(st[s].keys);
			if (fams[k] == 6 && depth_floor)
				free(depth_of[s]);
		}
	}
	if (!json && !family) {
		printf("rirmeter IPv6 / IPv4 speed, best variant each:");
		for (int s = 0; s < 3; s++)
			printf("  %s %.2f", st[s].name, r6.best_ours[s] / r4.best_ours[s]);
		printf("\n");
	}
	if (!json)
		print_hugepages(snap);
	rm_snapshot_close(snap);
	rte_eal_cleanup();
	return 0;
}
