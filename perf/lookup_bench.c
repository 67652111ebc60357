/*
 * lookup_bench.c - rirmeter's lookup tables against DPDK's, in one run.
 *
 *   lookup_bench -d SNAPSHOT [--json] [--keys N] [--rounds R] [--burst B]
 *
 * IPv4: rirmeter's DIR-24-8 (each code path this CPU has) against DPDK
 * rte_lpm (bulk and x4) and rte_fib DIR24_8 (every lookup type), loaded
 * with the same prefixes (the snapshot's ranges split into CIDR blocks)
 * and given the same key arrays, on three streams:
 *   allocated  uniform over registry-delegated space (weighted by size)
 *   zipf       Zipf (s = 1) over delegated blocks in random rank order
 *   uniform    uniform over all 2^32
 * plus the memory floor: one random 4-byte read per key in an array the
 * size of rirmeter's first level.
 *
 * The machine is shared and noisy, so contenders are interleaved in every
 * round (rotating who goes first), each pass is preceded by a touch of the
 * key and output arrays, and the median over rounds is reported with the
 * ratio to the best DPDK variant of the same round set.  DPDK's EAL gets
 * --force-max-simd-bitwidth=512 so that rte_fib may use its AVX-512
 * lookup, and all tables sit on huge pages as users run them: rirmeter's
 * through RM_SNAP_HUGEPAGE (transparent huge pages), DPDK's on hugetlbfs
 * when pages are reserved (perf/hugepages.sh), else on --no-huge memory
 * madvised for transparent huge pages (which the kernel may not honour
 * for memory DPDK has already touched: the header line says which).
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
#include <rte_lpm.h>
#include <rte_memory.h>

#include "dir24.h"
#include "snapshot.h"

#define MAX_CONTENDERS 16

struct stream {
	const char *name;
	uint32_t *keys;
};

struct contender {
	const char *structure, *variant;
	size_t bytes;
	double build_ms;
	int (*run)(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst);
	void *obj;
	int type; /* rte_fib lookup type */
	rm_dir24_bulk_fn fn;
	double mlps[64];
};

static uint32_t *out32;
static uint64_t *out64;
static uint32_t *floor_arr;
static const struct rm_dir24 *g_t;

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

/* ------------------------------------------------------------------ */
/* Contenders                                                          */

static int run_rirmeter(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst)
{
	for (uint32_t i = 0; i < n; i += burst)
		c->fn(g_t, keys + i, out32 + i, burst);
	return 0;
}

static int run_fib(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst)
{
	if (rte_fib_select_lookup(c->obj, c->type) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i += burst)
		rte_fib_lookup_bulk(c->obj, (uint32_t *)(uintptr_t)(keys + i), out64 + i, burst);
	return 0;
}

static int run_lpm_bulk(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst)
{
	for (uint32_t i = 0; i < n; i += burst)
		rte_lpm_lookup_bulk(c->obj, keys + i, out32 + i, burst);
	return 0;
}

static int run_lpm_x4(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst)
{
	(void)burst;
	for (uint32_t i = 0; i < n; i += 4) {
		xmm_t ip = _mm_loadu_si128((const __m128i *)(keys + i));
		rte_lpm_lookupx4(c->obj, ip, out32 + i, 0);
	}
	return 0;
}

static int run_floor(struct contender *c, const uint32_t *keys, uint32_t n, uint32_t burst)
{
	(void)c;
	(void)burst;
	for (uint32_t i = 0; i < n; i++)
		out32[i] = floor_arr[keys[i] >> 9];
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loading DPDK's structures with the snapshot's ranges               */

struct cidr_sink {
	void *obj;
	int is_fib;
	uint32_t id;
	unsigned count;
	int failed;
};

static void add_cidr(rm_u128 base, unsigned plen, void *arg)
{
	struct cidr_sink *s = arg;
	int rc = s->is_fib ? rte_fib_add(s->obj, (uint32_t)base, (uint8_t)plen, s->id)
			   : rte_lpm_add(s->obj, (uint32_t)base, (uint8_t)plen, s->id);
	s->failed |= rc != 0;
	s->count++;
}

static unsigned load_ranges(const struct rm_db *db, void *obj, int is_fib)
{
	struct cidr_sink s = {.obj = obj, .is_fib = is_fib};
	for (uint32_t i = 0; i < db->v4.n; i++) {
		if (db->v4.id[i] == 0)
			continue; /* the default answer */
		uint32_t last = i + 1 < db->v4.n ? db->v4.start[i + 1] - 1 : 0xffffffffu;
		s.id = db->v4.id[i];
		rm_range_to_cidrs(db->v4.start[i], last, 32, add_cidr, &s);
	}
	if (s.failed) {
		fprintf(stderr, "lookup_bench: DPDK refused a prefix\n");
		exit(1);
	}
	return s.count;
}

static unsigned count_cidrs(const struct rm_db *db)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < db->v4.n; i++) {
		uint32_t last = i + 1 < db->v4.n ? db->v4.start[i + 1] - 1 : 0xffffffffu;
		if (db->v4.id[i])
			n += rm_range_to_cidrs(db->v4.start[i], last, 32, NULL, NULL);
	}
	return n;
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

static int delegated(const struct rm_db *db, uint32_t i)
{
	unsigned st = db->attrs[db->v4.id[i]].status;
	return st == RM_ST_ALLOCATED || st == RM_ST_ASSIGNED;
}

static uint32_t range_size(const struct rm_db *db, uint32_t i)
{
	uint64_t end = i + 1 < db->v4.n ? db->v4.start[i + 1] : (1ull << 32);
	return (uint32_t)(end - db->v4.start[i]);
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

static void make_streams(const struct rm_db *db, struct stream *s, uint32_t nkeys)
{
	uint32_t nb = 0, *blk = malloc(db->v4.n * sizeof(uint32_t));
	for (uint32_t i = 0; i < db->v4.n; i++)
		if (delegated(db, i))
			blk[nb++] = i;
	double *cum = malloc(nb * sizeof(double)), *zcum = malloc(nb * sizeof(double));
	double acc = 0, zacc = 0;
	for (uint32_t k = 0; k < nb; k++)
		cum[k] = acc += range_size(db, blk[k]);
	/* Zipf ranks in random order, so that hot blocks are scattered. */
	uint32_t *rank = malloc(nb * sizeof(uint32_t));
	for (uint32_t k = 0; k < nb; k++)
		rank[k] = blk[k];
	for (uint32_t k = nb - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(rnd64() % (k + 1)), t = rank[k];
		rank[k] = rank[j];
		rank[j] = t;
	}
	for (uint32_t k = 0; k < nb; k++)
		zcum[k] = zacc += 1.0 / (k + 1);
	s[0].name = "allocated";
	s[1].name = "zipf";
	s[2].name = "uniform";
	for (int j = 0; j < 3; j++)
		s[j].keys = aligned_alloc(64, (size_t)nkeys * 4);
	for (uint32_t i = 0; i < nkeys; i++) {
		double x = (double)(rnd64() >> 11) / 9007199254740992.0;
		uint32_t b = blk[pick(cum, nb, x * acc)];
		s[0].keys[i] = db->v4.start[b] + (uint32_t)(rnd64() % range_size(db, b));
		x = (double)(rnd64() >> 11) / 9007199254740992.0;
		b = rank[pick(zcum, nb, x * zacc)];
		s[1].keys[i] = db->v4.start[b] + (uint32_t)(rnd64() % range_size(db, b));
		s[2].keys[i] = (uint32_t)rnd64();
	}
	free(blk);
	free(cum);
	free(zcum);
	free(rank);
}

/* ------------------------------------------------------------------ */
/* Measurement                                                         */

static volatile uint64_t sink;

static void touch(const uint32_t *keys, uint32_t n)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < n; i += 16)
		s += keys[i];
	memset(out32, 0, (size_t)n * 4);
	memset(out64, 0, (size_t)n * 8);
	sink += s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double t[64];
	memcpy(t, v, n * sizeof(double));
	qsort(t, n, sizeof(double), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Every contender's answers must equal the reference before timing. */
static void verify(struct contender *c, int nc, const struct rm_db *db, const uint32_t *keys,
		   uint32_t n, uint32_t burst)
{
	for (int k = 0; k < nc; k++) {
		if (strcmp(c[k].structure, "floor") == 0)
			continue;
		if (c[k].run(&c[k], keys, n, burst))
			continue;
		int wide = strcmp(c[k].structure, "rte_fib") == 0;
		int flagged = strcmp(c[k].variant, "bulk") == 0; /* rte_lpm bulk: hit flag */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t got = wide ? (uint32_t)out64[i] : out32[i];
			if (flagged)
				got = got & RTE_LPM_LOOKUP_SUCCESS ? got & 0xffffff : 0;
			uint32_t want = rm_ref_lookup4(db, keys[i]);
			if (got != want) {
				fprintf(stderr,
					"lookup_bench: %s/%s answers %u for %08x, reference %u\n",
					c[k].structure, c[k].variant, got, keys[i], want);
				exit(1);
			}
		}
	}
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
	printf("rirmeter first level on huge pages: %zu MiB\n",
	       rm_snapshot_hugepage_bytes(snap) >> 20);
}

static void usage(void)
{
	fprintf(stderr, "usage: lookup_bench -d SNAPSHOT [--json] [--keys N] [--rounds R] "
			"[--burst B]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},    {"json", no_argument, NULL, 'j'},
	    {"keys", required_argument, NULL, 'k'},  {"rounds", required_argument, NULL, 'r'},
	    {"burst", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int json = 0, rounds = 7, c;
	uint32_t nkeys = 1u << 22, burst = 64;
	while ((c = getopt_long(argc, argv, "d:jk:r:b:", opts, NULL)) != -1) {
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
		default:
			usage();
		}
	}
	if (!path || rounds < 1 || rounds > 64 || burst < 4 || burst % 4 || nkeys < burst)
		usage();
	nkeys -= nkeys % burst;

	/* DPDK gets real huge pages when the machine has them reserved
	 * (perf/hugepages.sh), as in production; otherwise --no-huge memory
	 * with a madvise for transparent huge pages. */
	int huge = hugetlb_free_mib() >= 1024;
	char *eal_huge[] = {"lookup_bench",
			    "--in-memory",
			    "--no-pci",
			    "-m",
			    "1024",
			    "-l",
			    "0",
			    "--force-max-simd-bitwidth=512",
			    "--log-level=error",
			    NULL};
	char *eal_nohuge[] = {"lookup_bench",
			      "--no-huge",
			      "--no-pci",
			      "-m",
			      "2048",
			      "--no-shconf",
			      "-l",
			      "0",
			      "--force-max-simd-bitwidth=512",
			      "--log-level=error",
			      NULL};
	if (huge ? rte_eal_init(9, eal_huge) < 0 : rte_eal_init(10, eal_nohuge) < 0) {
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
	const struct rm_db *db = rm_snapshot_db(snap);
	g_t = &db->dir24;

	struct contender con[MAX_CONTENDERS];
	int nc = 0;
	memset(con, 0, sizeof(con));

	/* rirmeter: build time from the model's ranges, measured here. */
	struct rm_dir24_owned fresh;
	double t0 = now_s();
	if (rm_dir24_build(db, &fresh, err, sizeof(err))) {
		fprintf(stderr, "lookup_bench: %s\n", err);
		return 1;
	}
	double build_ms = (now_s() - t0) * 1e3;
	rm_dir24_free(&fresh);
	size_t our_bytes = ((size_t)RM_DIR24_TBL16 + RM_DIR24_PAD + RM_DIR24_TBL24 + RM_DIR24_PAD +
			    (size_t)db->dir24.n_groups * 256 + RM_DIR24_PAD) *
			   db->dir24.width;
	for (int l = RM_SIMD_SCALAR; l <= RM_SIMD_AVX512; l++) {
		rm_dir24_bulk_fn fn = rm_dir24_select((enum rm_simd)l);
		if (!fn)
			continue;
		con[nc++] = (struct contender){"rirmeter",
					       rm_simd_name((enum rm_simd)l),
					       our_bytes,
					       build_ms,
					       run_rirmeter,
					       NULL,
					       0,
					       fn,
					       {0}};
	}

	unsigned ncidr = count_cidrs(db);
	uint32_t tbl8 = db->dir24.n_groups + 256;
	int nh2 = db->n_attrs < 0x8000;
	struct rte_fib_conf fc = {.type = RTE_FIB_DIR24_8,
				  .default_nh = 0,
				  .max_routes = (int)ncidr + 16,
				  .rib_ext_sz = 0};
	fc.dir24_8.nh_sz = nh2 ? RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	fc.dir24_8.num_tbl8 = tbl8;
	t0 = now_s();
	struct rte_fib *fib = rte_fib_create("bench_fib", SOCKET_ID_ANY, &fc);
	if (!fib) {
		fprintf(stderr, "lookup_bench: rte_fib_create failed\n");
		return 1;
	}
	load_ranges(db, fib, 1);
	double fib_ms = (now_s() - t0) * 1e3;
	size_t fib_bytes = ((size_t)RM_DIR24_TBL24 + (size_t)tbl8 * 256) * (nh2 ? 2 : 4);
	static const struct {
		int type;
		const char *name;
	} fib_types[] = {
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_MACRO, "scalar_macro"},
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_INLINE, "scalar_inline"},
	    {RTE_FIB_LOOKUP_DIR24_8_SCALAR_UNI, "scalar_uni"},
	    {RTE_FIB_LOOKUP_DIR24_8_VECTOR_AVX512, "avx512"},
	};
	for (size_t k = 0; k < sizeof(fib_types) / sizeof(fib_types[0]); k++) {
		if (rte_fib_select_lookup(fib, fib_types[k].type) != 0) {
			fprintf(stderr, "lookup_bench: rte_fib %s not available here\n",
				fib_types[k].name);
			continue;
		}
		con[nc++] =
		    (struct contender){"rte_fib", fib_types[k].name, fib_bytes, fib_ms, run_fib,
				       fib,	  fib_types[k].type, NULL,	{0}};
	}

	struct rte_lpm_config lc = {.max_rules = ncidr + 16, .number_tbl8s = tbl8, .flags = 0};
	t0 = now_s();
	struct rte_lpm *lpm = rte_lpm_create("bench_lpm", SOCKET_ID_ANY, &lc);
	if (!lpm) {
		fprintf(stderr, "lookup_bench: rte_lpm_create failed\n");
		return 1;
	}
	load_ranges(db, lpm, 0);
	double lpm_ms = (now_s() - t0) * 1e3;
	size_t lpm_bytes = ((size_t)RM_DIR24_TBL24 + (size_t)tbl8 * 256) * 4;
	con[nc++] = (struct contender){"rte_lpm", "bulk", lpm_bytes, lpm_ms, run_lpm_bulk,
				       lpm,	  0,	  NULL,	     {0}};
	con[nc++] = (struct contender){"rte_lpm", "x4_sse", lpm_bytes, lpm_ms, run_lpm_x4,
				       lpm,	  0,	    NULL,      {0}};

	size_t floor_n = (size_t)1 << 23; /* 32 MiB of 4-byte words */
	floor_arr = aligned_alloc(2u << 20, floor_n * 4);
	madvise(floor_arr, floor_n * 4, MADV_HUGEPAGE);
	for (size_t i = 0; i < floor_n; i++)
		floor_arr[i] = (uint32_t)i;
	con[nc++] =
	    (struct contender){"floor", "read4", floor_n * 4, 0, run_floor, NULL, 0, NULL, {0}};

	out32 = aligned_alloc(64, (size_t)nkeys * 4 + 64);
	out64 = aligned_alloc(64, (size_t)nkeys * 8 + 64);
	struct stream st[3];
	make_streams(db, st, nkeys);

	if (!json)
		printf("IPv4: %u ranges, %u CIDR prefixes, %u attributions, %u groups; %u keys x "
		       "%d rounds, burst %u; DPDK memory on %s\n\n",
		       db->v4.n, ncidr, db->n_attrs, db->dir24.n_groups, nkeys, rounds, burst,
		       huge ? "hugetlbfs pages" : "4 KiB pages (madvised for THP)");
	for (int s = 0; s < 3; s++) {
		verify(con, nc, db, st[s].keys, nkeys < 65536 ? nkeys : 65536, burst);
		for (int r = 0; r < rounds; r++) {
			for (int j = 0; j < nc; j++) {
				struct contender *x = &con[(j + r) % nc];
				touch(st[s].keys, nkeys);
				double a = now_s();
				x->run(x, st[s].keys, nkeys, burst);
				double b = now_s();
				x->mlps[r] = nkeys / (b - a) / 1e6;
			}
		}
		double best_dpdk = 0;
		for (int j = 0; j < nc; j++)
			if (strncmp(con[j].structure, "rte_", 4) == 0)
				best_dpdk = fmax(best_dpdk, median(con[j].mlps, rounds));
		if (!json)
			printf("stream %-9s   %-9s %-13s %9s %8s %10s %9s %9s\n", st[s].name,
			       "structure", "variant", "Mlookup/s", "ns/look", "MiB", "build ms",
			       "vs DPDK");
		for (int j = 0; j < nc; j++) {
			double m = median(con[j].mlps, rounds);
			if (json)
				printf("{\"family\":4,\"structure\":\"%s\",\"variant\":\"%s\","
				       "\"stream\":\"%s\",\"mlps\":%.2f,\"ns_per_lookup\":%.3f,"
				       "\"bytes\":%zu,\"build_ms\":%.1f,\"ratio_vs_best_dpdk\":%."
				       "3f}\n",
				       con[j].structure, con[j].variant, st[s].name, m, 1e3 / m,
				       con[j].bytes, con[j].build_ms, m / best_dpdk);
			else
				printf("                   %-9s %-13s %9.1f %8.2f %10.1f %9.1f "
				       "%8.2fx\n",
				       con[j].structure, con[j].variant, m, 1e3 / m,
				       con[j].bytes / 1048576.0, con[j].build_ms, m / best_dpdk);
		}
		if (!json)
			printf("\n");
	}
	if (!json)
		print_hugepages(snap);
	rte_fib_free(fib);
	rte_lpm_free(lpm);
	rm_snapshot_close(snap);
	rte_eal_cleanup();
	return 0;
}
