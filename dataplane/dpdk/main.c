/*
 * main.c - rirmeter: EAL, options, ports, lcores, and the main loop.
 *
 *   rirmeter -r FILE... --db FILE [--threads N] [OPTIONS]
 *   rirmeter -i IFACE... --db FILE [--threads N] [OPTIONS] [-- EAL options]
 *   rirmeter [EAL options] -- --db FILE [--json PATH|-] [--csv PATH|-] [--prom PATH]
 *            [--prom-listen [ADDR:]PORT] [--interval S] [--duration S] [--top N]
 *            [--burst N] [--queues N] [--mbufs N] [--quiet]
 *            [--flows PROTO:PORT,... [--flows-only] [--flows-allow PREFIX,...|@FILE]
 *            [--flows-idle S]]
 *            [--ipfix-export PORT:IPV4:UDP_PORT[@MAC],... [--ipfix-source IPV4] [--ipfix-pen N]]
 *            [--clickhouse URL [--clickhouse-auth FILE] [--name NAME] [--spool DIR]
 *             [--spool-max BYTES]]
 *            [--tunnels outer|inner|both] [--nat64 PREFIX,...] [--no-located]
 *
 * (the synopsis of README.md's "## rirmeter", which usage() prints and
 * tests/options.sh compares).  Numeric option values follow one policy,
 * common/options.h: the whole string is the number, in range, or exit 2.
 *
 * Every worker lcore (all lcores but the main one) polls the RX queues it
 * was given; each port gets one queue per worker, or --queues N, at most
 * as many as the port has, spread round-robin, with RSS where the port has
 * it.  The main lcore never touches packets: it sleeps, wakes to export
 * each interval, and decides when to stop (a signal, --duration, or, when
 * every port reads capture files through net_pcap, the last packet of the
 * last file).  At exit it stops the workers, writes the totals, prints the
 * table and checks that received = attributed + non-IP + malformed (+ flow
 * export + not flow, with --flows).  With --clickhouse each interval's rows
 * are also queued for the ClickHouse sink (dataplane/chsink.h), whose own
 * thread sends them.
 *
 * Operator mode, -r or -i before any "--": -r hands the files to
 * dataplane/batch.c (no EAL at all); -i builds EAL's arguments itself (a
 * net_af_xdp port per interface where the kernel allows, else
 * net_af_packet with fanout) and goes on as above.
 *
 * Exit codes: 0 success, 1 runtime error (or counts that do not balance),
 * 2 bad options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "batch.h"
#include "capture.h"
#include "chsink.h"
#include "flow.h"
#include "formats.h"
#include "output.h"
#include "ipfix.h"
#include "options.h"
#include "promhttp.h"
#include "record.h"
#include "rows.h"
#include "snapshot.h"
#include "reload.h"
#include "worker.h"

#define RX_DESC	    1024
#define MBUF_CACHE  256
#define MAX_PORTS   32
#define PROG	    "rirmeter"
#define IDLE_STOP_S 2.0 /* capture input: no progress this long means the end */

struct options {
	const char *db, *json, *csv, *prom, *prom_listen;
	double interval, duration;
	unsigned top, burst, queues, mbufs;
	int quiet, io_only;
	enum rm_tunnel_mode tunnels;
	struct rm_transition transition; /* NAT64 prefixes: well-known and --nat64 */
	int no_located;			 /* --no-located */
	struct rm_flow_config flows;
	const char *flows_allow;     /* --flows-allow as given, or NULL */
	struct rm_flow_allow *allow; /* parsed at start (and on reload) */
	uint64_t flows_idle_ms;
	struct rm_export_cfg export;
	int export_source_set;
	struct rm_chsink_options ch; /* ch.url NULL: no ClickHouse sink */
	/* -r FILE... or -i IFACE... (operator_mode mode, before any EAL option) */
	char **files, **ifaces;
	unsigned n_files, n_ifaces, threads;
	int interval_set; /* --interval given (-r's default is totals only) */
};

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(FILE *o)
{
	fprintf(o,
		/* README.md's synopsis, word for word: it is the reference. */
		"usage: rirmeter -r FILE... --db FILE [--threads N] [OPTIONS]\n"
		"       rirmeter -i IFACE... --db FILE [--threads N] [OPTIONS] [-- EAL options]\n"
		"       rirmeter [EAL options] -- --db FILE [--json PATH|-] [--csv PATH|-] "
		"[--prom PATH]\n"
		"                [--prom-listen [ADDR:]PORT] [--interval S] [--duration S] "
		"[--top N]\n"
		"                [--burst N] [--queues N] [--mbufs N] [--io-only] [--quiet]\n"
		"                [--flows PROTO:PORT,... [--flows-only] [--flows-allow "
		"PREFIX,...|@FILE]\n"
		"                [--flows-idle S]]\n"
		"                [--ipfix-export PORT:IPV4:UDP_PORT[@MAC],... [--ipfix-source "
		"IPV4] [--ipfix-pen N]\n"
		"                 [--ipfix-domain N] [--ipfix-mtu N] [--ipfix-refresh S]]\n"
		"                [--clickhouse URL [--clickhouse-auth FILE] [--name NAME] "
		"[--spool DIR]\n"
		"                 [--spool-max BYTES]]\n"
		"                [--tunnels outer|inner|both] [--nat64 PREFIX,...] [--no-located]\n"
		"\n"
		"  -r FILE...       read capture files (pcap, pcapng; gzip'd or zstd'd too)\n"
		"                   without EAL or DPDK ports; intervals run on capture time\n"
		"  -i IFACE...      read Linux interfaces (DPDK net_af_xdp where the kernel\n"
		"                   allows, else net_af_packet with fanout), no binding needed\n"
		"  --threads N      with -r or -i: workers (default: one per CPU; with -i at\n"
		"                   most 64, and under net_af_xdp the RX queues it binds)\n"
		"  --db FILE        snapshot made by 'rirdb build' (required)\n"
		"  --json PATH|-    JSON Lines output\n"
		"  --csv PATH|-     CSV output\n"
		"  --prom PATH      Prometheus textfile (node_exporter), written atomically\n"
		"  --prom-listen [ADDR:]PORT  serve /metrics for Prometheus (loopback when\n"
		"                   only a port is given; IPv6 in brackets: [::1]:9100)\n"
		"  --interval S     export every S seconds (default 10; 0: only at exit);\n"
		"                   with -r, S seconds of capture time (default 0)\n"
		"  --duration S     stop after S seconds (default: on a signal, or at the end\n"
		"                   of the capture files when every port is net_pcap rx_pcap;\n"
		"                   with --duration, capture files do not end the run)\n"
		"  --top N          keys of holder, country_located and asn reported per\n"
		"                   interval and direction (default 20), the rest as other\n"
		"  --burst N        packets per RX burst, 1..%d (default 32)\n"
		"  --queues N       RX queues per port (default: one per worker lcore)\n"
		"  --quiet          no table at exit\n"
		"  --mbufs N        mbuf pool size (default: enough for the RX rings; net_pcap\n"
		"                   with infinite_rx needs one per packet of the file)\n"
		"  --io-only        benchmark baseline: receive and free packets, attribute\n"
		"                   nothing (all count as non-IP)\n"
		"  --flows PROTO:PORT,...  collect flow export sent to these UDP ports\n"
		"                   (PROTO netflow (v5 and v9), ipfix or sflow), e.g.\n"
		"                   netflow:2055,ipfix:4739,sflow:6343\n"
		"  --flows-only     with --flows, ignore traffic that is not flow export\n"
		"  --flows-allow PREFIX,...|@FILE  take flow export only from these source\n"
		"                   prefixes (IPv4, IPv6; @FILE: one a line, '#' comments,\n"
		"                   re-read on SIGHUP); others are counted as denied\n"
		"  --flows-idle S   release an exporter silent for S seconds (default 1800);\n"
		"                   a full table lets a newcomer evict an exporter still on\n"
		"                   probation once silent for min(60, S) seconds\n"
		"  --ipfix-export PORT:IPV4:UDP_PORT[@MAC],...  re-export every flow record,\n"
		"                   enriched with registry, country, holder and NIR, as IPFIX\n"
		"                   out of DPDK port PORT (next hop MAC, default broadcast)\n"
		"  --ipfix-source IPV4  source address of the export (required unless the\n"
		"                   destination is a loopback address)\n"
		"  --ipfix-pen N    Private Enterprise Number of the enrichment elements\n"
		"                   (default 32473, RFC 5612's number for documentation)\n"
		"  --ipfix-domain N observation domain of the first worker (default 1;\n"
		"                   worker i uses N + i)\n"
		"  --ipfix-mtu N    path MTU of the export (default 1500)\n"
		"  --ipfix-refresh S  template refresh interval (default 30)\n"
		"  --clickhouse URL insert every interval's rows into ClickHouse's table\n"
		"                   rirmeter_raw over HTTP (rirdb clickhouse-schema), e.g.\n"
		"                   http://127.0.0.1:8123/?database=rirmeter\n"
		"  --clickhouse-auth FILE  'user:password' on one line\n"
		"  --name NAME      the appliance's name in the rows (default: the host name)\n"
		"  --spool DIR      batches not yet stored wait here, survive restarts and\n"
		"                   are sent first (default: in memory only)\n"
		"  --spool-max BYTES  bound of the waiting batches (default 268435456);\n"
		"                   what does not fit is dropped and counted\n"
		"  --tunnels outer|inner|both  attribute the outermost IP header's addresses\n"
		"                   (default), the innermost's (inside GRE, ERSPAN, IP-in-IP,\n"
		"                   VXLAN, Geneve, GTP-U), or both: the innermost to scopes\n"
		"                   inner_rir, inner_country, inner_holder, inner_rir_pair\n"
		"  --nat64 PREFIX,...  NAT64 prefixes (RFC 6052 lengths) besides 64:ff9b::/96\n"
		"                   and 64:ff9b:1::/48: their addresses, like 6to4 and Teredo\n"
		"                   ones, are attributed as the IPv4 they carry\n"
		"  --no-located     ignore the snapshot's located layer (no geo_country,\n"
		"                   country_located, asn, origin scopes): saves its tables,\n"
		"                   about 160 MB and 0.3 s per load of the full location.db\n",
		RM_MAX_BURST);
}

/* A list option (-r FILE..., -i IFACE...): its first value, the ones after. */
static void list_add(char ***list, unsigned *n, char *v)
{
	char **nl = realloc(*list, (*n + 1) * sizeof(**list));
	if (!nl)
		abort();
	nl[(*n)++] = v;
	*list = nl;
}

/*
 * The options after EAL's (or all of them in operator_mode mode, -r or -i,
 * where operator_mode is 1): 0, or -1 after naming what is wrong.
 */
static int parse_options(int argc, char **argv, struct options *o, int operator_mode)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"json", required_argument, NULL, 'j'},
	    {"csv", required_argument, NULL, 'c'},
	    {"prom", required_argument, NULL, 'p'},
	    {"interval", required_argument, NULL, 'v'},
	    {"duration", required_argument, NULL, 't'},
	    {"top", required_argument, NULL, 'n'},
	    {"burst", required_argument, NULL, 'b'},
	    {"queues", required_argument, NULL, 'q'},
	    {"io-only", no_argument, NULL, 'I'},
	    {"mbufs", required_argument, NULL, 'm'},
	    {"prom-listen", required_argument, NULL, 'P'},
	    {"quiet", no_argument, NULL, 'Q'},
	    {"flows", required_argument, NULL, 'F'},
	    {"flows-only", no_argument, NULL, 'O'},
	    {"flows-allow", required_argument, NULL, 'A'},
	    {"flows-idle", required_argument, NULL, 'L'},
	    {"ipfix-export", required_argument, NULL, 'X'},
	    {"ipfix-source", required_argument, NULL, 'S'},
	    {"ipfix-pen", required_argument, NULL, 'E'},
	    {"ipfix-domain", required_argument, NULL, 'D'},
	    {"ipfix-mtu", required_argument, NULL, 'M'},
	    {"ipfix-refresh", required_argument, NULL, 'R'},
	    {"clickhouse", required_argument, NULL, 'C'},
	    {"clickhouse-auth", required_argument, NULL, 'U'},
	    {"name", required_argument, NULL, 'e'},
	    {"spool", required_argument, NULL, 'W'},
	    {"spool-max", required_argument, NULL, 'Z'},
	    {"tunnels", required_argument, NULL, 'T'},
	    {"nat64", required_argument, NULL, 'N'},
	    {"no-located", no_argument, NULL, 'G'},
	    {"threads", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){
	    .interval = 10, .top = 20, .burst = 32, .flows_idle_ms = RM_FLOW_IDLE_MS};
	o->export.pen = RM_IPFIX_PEN_DEFAULT;
	o->export.domain = 1;
	o->export.mtu = 1500;
	o->export.refresh_s = 30;
	rm_transition_init(&o->transition);
	uint64_t v;
	int c, only = 0;
	char err[256];
	optind = 1;
	while ((c = getopt_long(argc, argv, operator_mode ? "r:i:" : "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			list_add(&o->files, &o->n_files, optarg);
			break;
		case 'i':
			list_add(&o->ifaces, &o->n_ifaces, optarg);
			break;
		case 'H':
			if (rm_opt_uint(PROG, "--threads", optarg, 1, RM_MAX_QUEUES, &o->threads))
				return -1;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'p':
			o->prom = optarg;
			break;
		case 'v':
			if (rm_opt_decimal(PROG, "--interval", optarg, 0, 86400, &o->interval))
				return -1;
			o->interval_set = 1;
			break;
		case 't':
			if (rm_opt_decimal(PROG, "--duration", optarg, 0, 1e9, &o->duration))
				return -1;
			break;
		case 'n':
			if (rm_opt_uint(PROG, "--top", optarg, 0, 100000, &o->top))
				return -1;
			break;
		case 'b':
			if (rm_opt_uint(PROG, "--burst", optarg, 1, RM_MAX_BURST, &o->burst))
				return -1;
			break;
		case 'q':
			if (rm_opt_uint(PROG, "--queues", optarg, 1, RM_MAX_QUEUES, &o->queues))
				return -1;
			break;
		case 'Q':
			o->quiet = 1;
			break;
		case 'I':
			o->io_only = 1;
			break;
		case 'm':
			if (rm_opt_uint(PROG, "--mbufs", optarg, 1024, 1 << 24, &o->mbufs))
				return -1;
			break;
		case 'P':
			if (rm_promhttp_check_listen(optarg, err, sizeof(err))) {
				fprintf(stderr, PROG ": %s\n", err);
				return -1;
			}
			o->prom_listen = optarg;
			break;
		case 'F':
			if (rm_flow_config_parse(&o->flows, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirmeter: %s\n", err);
				return -1;
			}
			break;
		case 'O':
			only = 1;
			break;
		case 'A':
			free(o->allow);
			if (!(o->allow = rm_flow_allow_parse(optarg, err, sizeof(err)))) {
				fprintf(stderr, "rirmeter: %s\n", err);
				return -1;
			}
			o->flows_allow = optarg;
			break;
		case 'L':
			if (rm_opt_u64(PROG, "--flows-idle", optarg, 1, 7 * 86400, &v))
				return -1;
			o->flows_idle_ms = v * 1000;
			break;
		case 'X':
			if (rm_export_parse(&o->export, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirmeter: %s\n", err);
				return -1;
			}
			break;
		case 'S':
			if (inet_pton(AF_INET, optarg, o->export.source) != 1) {
				fprintf(
				    stderr,
				    "rirmeter: --ipfix-source wants an IPv4 address, not '%s'\n",
				    optarg);
				return -1;
			}
			o->export_source_set = 1;
			break;
		case 'E':
			if (rm_opt_u64(PROG, "--ipfix-pen", optarg, 1, UINT32_MAX, &v))
				return -1;
			o->export.pen = (uint32_t)v;
			break;
		case 'D':
			if (rm_opt_u64(PROG, "--ipfix-domain", optarg, 0, 4294967040u, &v))
				return -1;
			o->export.domain = (uint32_t)v;
			break;
		case 'M':
			if (rm_opt_uint(PROG, "--ipfix-mtu", optarg, 576, 9216, &o->export.mtu))
				return -1;
			break;
		case 'R':
			if (rm_opt_decimal(PROG, "--ipfix-refresh", optarg, 1, 86400,
					   &o->export.refresh_s))
				return -1;
			break;
		case 'C':
			o->ch.url = optarg;
			break;
		case 'U':
			o->ch.auth_file = optarg;
			break;
		case 'e':
			o->ch.name = optarg;
			break;
		case 'W':
			o->ch.spool = optarg;
			break;
		case 'Z':
			if (rm_opt_u64(PROG, "--spool-max", optarg, 65536, UINT64_MAX / 2,
				       &o->ch.spool_max))
				return -1;
			break;
		case 'T':
			if (rm_tunnel_mode_parse(optarg, &o->tunnels)) {
				fprintf(stderr,
					"rirmeter: --tunnels: '%s' is not outer, inner or both\n",
					optarg);
				return -1;
			}
			break;
		case 'N':
			if (rm_transition_add(&o->transition, optarg, err, sizeof(err))) {
				fprintf(stderr, "rirmeter: %s\n", err);
				return -1;
			}
			break;
		case 'G':
			o->no_located = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	/* -r a.pcap b.pcap: the values after the first are left as operands. */
	for (; optind < argc && (o->n_files || o->n_ifaces); optind++)
		list_add(o->n_files ? &o->files : &o->ifaces,
			 o->n_files ? &o->n_files : &o->n_ifaces, argv[optind]);
	if (optind < argc) {
		fprintf(stderr, "rirmeter: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (operator_mode && !o->n_files == !o->n_ifaces) {
		fprintf(stderr, "rirmeter: give capture files (-r FILE...) or interfaces (-i "
				"IFACE...), not both\n");
		return -1;
	}
	if (!operator_mode && o->threads) {
		fprintf(stderr, "rirmeter: --threads is for -r and -i; with EAL options, "
				"workers are the lcores (-l)\n");
		return -1;
	}
	if (o->n_files && (o->queues || o->mbufs || o->io_only || o->duration > 0 ||
			   o->prom_listen || o->export.n)) {
		fprintf(stderr, "rirmeter: -r reads files without DPDK: --queues, --mbufs, "
				"--io-only, --duration, --prom-listen and --ipfix-export are for "
				"ports\n");
		return -1;
	}
	if (o->n_files && o->ch.url) {
		fprintf(stderr, "rirmeter: --clickhouse sends a live run's intervals; -r "
				"writes --json, --csv or --prom\n");
		return -1;
	}
	if (!o->ch.url && (o->ch.auth_file || o->ch.name || o->ch.spool || o->ch.spool_max)) {
		fprintf(stderr, "rirmeter: --clickhouse-auth, --name, --spool and --spool-max "
				"need --clickhouse URL\n");
		return -1;
	}
	if (only && o->flows.n == 0) {
		fprintf(stderr, "rirmeter: --flows-only needs --flows PROTO:PORT,...\n");
		return -1;
	}
	if ((o->flows_allow || o->flows_idle_ms != RM_FLOW_IDLE_MS) && o->flows.n == 0) {
		fprintf(stderr, "rirmeter: --flows-allow and --flows-idle need --flows "
				"PROTO:PORT,...\n");
		return -1;
	}
	o->flows.only = only;
	if (o->export.n && !o->flows.n) {
		fprintf(stderr, "rirmeter: --ipfix-export re-exports flow records: it needs "
				"--flows PROTO:PORT,...\n");
		return -1;
	}
	if (o->export.n && !o->export_source_set) {
		for (unsigned i = 0; i < o->export.n; i++)
			if (o->export.dst[i].ip[0] != 127) {
				fprintf(stderr,
					"rirmeter: --ipfix-export to a non-loopback address "
					"needs --ipfix-source IPV4\n");
				return -1;
			}
		memcpy(o->export.source, (uint8_t[]){127, 0, 0, 1}, 4);
	}
	if (!o->db) {
		fprintf(stderr,
			"rirmeter: --db FILE is required (a snapshot from 'rirdb build')\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Outputs                                                             */

/*
 * An output appended to (output.h: a cut last line is completed): with a
 * service manager restarting rirmeter, truncating would erase what earlier
 * runs collected.  *fresh says the file is new or empty (the CSV header is
 * then due).  NULL after naming the path on stderr.
 */
static FILE *open_output(const char *path, int *fresh)
{
	FILE *f = rm_open_append(path, fresh);
	if (!f)
		fprintf(stderr, "rirmeter: %s: cannot write: %s\n", path, strerror(errno));
	return f;
}

/* Fail early when the textfile cannot be written where it must go. */
static int check_prom_path(const char *path)
{
	struct rm_atomic_file a;
	char err[PATH_MAX + 128];
	if (rm_atomic_open(&a, path, 0644, err, sizeof(err))) {
		fprintf(stderr, "rirmeter: %s: cannot write: %s\n", path, strerror(errno));
		return -1;
	}
	rm_atomic_abort(&a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Ports                                                               */

struct port {
	uint16_t id;
	uint16_t n_queues;  /* RX; 0 for a port that only sends (net_pcap tx_pcap alone) */
	long long expected; /* packets in its capture files, -1 when not files */
};

/* A net_pcap port given only TX files or interfaces: an export sink, not an
 * input. */
static int send_only(uint16_t port)
{
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(port, &info) || !info.driver_name ||
	    strcmp(info.driver_name, "net_pcap") != 0)
		return 0;
	const struct rte_devargs *da = rte_dev_devargs(info.device);
	return da && da->args && !strstr(da->args, "rx_") && !strstr(da->args, "iface=");
}

/* Packets in the rx_pcap files of a net_pcap port, or -1. */
static long long capture_packets(uint16_t port)
{
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(port, &info) || !info.driver_name ||
	    strcmp(info.driver_name, "net_pcap") != 0)
		return -1;
	const struct rte_devargs *da = rte_dev_devargs(info.device);
	if (!da || !da->args || strstr(da->args, "rx_iface") || strstr(da->args, "infinite_rx"))
		return -1;
	long long total = 0;
	int files = 0;
	for (const char *s = strstr(da->args, "rx_pcap="); s; s = strstr(s + 1, "rx_pcap=")) {
		char path[4096], err[512];
		size_t n = strcspn(s + 8, ",");
		if (n >= sizeof(path))
			return -1;
		memcpy(path, s + 8, n);
		path[n] = '\0';
		long long c = rm_capture_count(path, err, sizeof(err));
		if (c < 0) {
			fprintf(stderr, "rirmeter: %s; will stop when input stays idle\n", err);
			return -1;
		}
		total += c;
		files++;
	}
	return files ? total : -1;
}

static int setup_port(struct port *p, unsigned want_queues, unsigned want_tx,
		      struct rte_mempool *pool)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(p->id, &info);
	if (rc) {
		fprintf(stderr, "rirmeter: port %u: no device info: %s\n", p->id, strerror(-rc));
		return -1;
	}
	int sink = want_tx && send_only(p->id);
	p->n_queues =
	    sink ? 0
		 : (uint16_t)(want_queues < info.max_rx_queues ? want_queues : info.max_rx_queues);
	if (want_tx > info.max_tx_queues) {
		fprintf(stderr,
			"rirmeter: port %u (%s) has %u TX queues; the export needs %u (one "
			"per worker)\n",
			p->id, info.driver_name, info.max_tx_queues, want_tx);
		return -1;
	}
	if (p->n_queues == 0 && !sink) {
		fprintf(stderr, "rirmeter: port %u (%s) has no RX queue\n", p->id,
			info.driver_name);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (p->n_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	/* TX only for the export; a PMD that insists on a TX queue gets one. */
	uint16_t ntx = (uint16_t)want_tx;
	rc = rte_eth_dev_configure(p->id, p->n_queues, ntx, &conf);
	if (rc && ntx == 0 && info.max_tx_queues > 0) {
		ntx = 1;
		rc = rte_eth_dev_configure(p->id, p->n_queues, ntx, &conf);
	}
	if (rc) {
		fprintf(stderr, "rirmeter: port %u: configure failed: %s\n", p->id, strerror(-rc));
		return -1;
	}
	uint16_t nrx = RX_DESC, ntxd = 512;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nrx, &ntxd);
	int socket = rte_eth_dev_socket_id(p->id);
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, nrx, socket < 0 ? 0 : (unsigned)socket, NULL,
					    pool);
		if (rc) {
			fprintf(stderr, "rirmeter: port %u queue %u: setup failed: %s\n", p->id, q,
				strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < ntx; q++)
		rte_eth_tx_queue_setup(p->id, q, ntxd, socket < 0 ? 0 : (unsigned)socket, NULL);
	rc = rte_eth_dev_start(p->id);
	if (rc) {
		fprintf(stderr, "rirmeter: port %u: start failed: %s\n", p->id, strerror(-rc));
		return -1;
	}
	rte_eth_promiscuous_enable(p->id); /* a mirror port sees others' traffic */
	p->expected = sink ? -2 : capture_packets(p->id);
	return 0;
}

static void read_ports(const struct port *ports, unsigned n, struct rm_port_stats *out)
{
	for (unsigned i = 0; i < n; i++) {
		struct rte_eth_stats st;
		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(ports[i].id, &st);
		out[i] = (struct rm_port_stats){ports[i].id, st.ipackets, st.imissed, st.ierrors};
	}
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

struct run {
	struct options opt;
	struct rm_reloader rl;
	struct rm_outputs out;
	struct port ports[MAX_PORTS];
	unsigned n_ports;
	struct rm_worker *workers;
	unsigned n_workers;
	uint64_t reloads_reported[2];	 /* ok, failed as of the last export */
	struct rm_promhttp *http;	 /* --prom-listen, or NULL */
	struct rm_flow_state **fs;	 /* per worker, with --flows */
	struct rm_export *exports;	 /* per worker, with --ipfix-export */
	struct rm_export *main_export;	 /* the main lcore's: per-interval aggregates */
	struct rm_chsink *ch;		 /* --clickhouse, or NULL */
	struct rm_chsink_stats ch_final; /* its counters once closed */
	int ch_closed;
	int stopped;		  /* the workers have returned */
	struct rm_rows flow_prev; /* exporter rows as of the last export */
	/* --flows-allow as the workers read it: replaced on reload, the old
	 * one freed once every worker has passed a quiescent state. */
	const struct rm_flow_allow *volatile allow;
	uint64_t allow_failed; /* reloads of --flows-allow @FILE refused */
	FILE *json, *csv;
	/* The main lcore's longest pass (TSC cycles) over its periodic work,
	 * reloads aside, since the last reload and in all: what must not grow
	 * with the run's length or its number of swaps. */
	uint64_t pass_max_since_reload, pass_max;
	unsigned port_failed; /* setup failed at port port_failed - 1's configuration */
};

static volatile int reload_flag;

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

/* Reloads since the last export, as health lines of the current snapshot. */
static void reload_rows(struct run *r, struct rm_rows *rows, int since_last)
{
	uint64_t ok = r->rl.ok - (since_last ? r->reloads_reported[0] : 0);
	uint64_t failed = r->rl.failed - (since_last ? r->reloads_reported[1] : 0);
	struct rm_row w = {.scope = "health", .dir = NULL};
	snprintf(w.snap, sizeof(w.snap), "%s", r->rl.gen->id);
	struct rm_rows one = {&w, 1, 1};
	snprintf(w.key, sizeof(w.key), "reload.ok");
	w.packets = ok;
	rm_rows_append(rows, &one);
	snprintf(w.key, sizeof(w.key), "reload.failed");
	w.packets = failed;
	rm_rows_append(rows, &one);
}

/* The flow collector's and the export's counters, cumulative, compacted. */
static void collector_rows(struct run *r, const char *snap, struct rm_rows *rows)
{
	struct rm_rows mine = {0};
	rm_flow_rows(r->fs, r->n_workers, snap, &mine);
	if (r->allow_failed) {
		struct rm_row w = {.scope = "health", .dir = NULL, .packets = r->allow_failed};
		struct rm_rows one = {&w, 1, 1};
		snprintf(w.snap, sizeof(w.snap), "%s", snap);
		snprintf(w.key, sizeof(w.key), "flow/allow_reload_failed");
		rm_rows_append(&mine, &one);
		rm_rows_compact(&mine);
	}
	if (r->exports) {
		static const char *const names[] = {"records",		"messages", "templates",
						    "frames",		"dropped",  "aggregates",
						    "record_templates", "oversized"};
		uint64_t v[8] = {0};
		for (unsigned w = 0; w <= r->n_workers; w++) { /* the last is the main lcore's */
			const volatile struct rm_export *x = &r->exports[w];
			v[w < r->n_workers ? 0 : 5] += x->enc.records;
			v[1] += x->enc.messages;
			v[2] += x->enc.template_sends;
			v[3] += x->frames;
			v[4] += x->dropped;
			v[6] += x->enc.mirror_sends;
			v[7] += x->enc.oversized;
		}
		struct rm_row w = {.scope = "health", .dir = NULL};
		struct rm_rows one = {&w, 1, 1};
		snprintf(w.snap, sizeof(w.snap), "%s", snap);
		for (int k = 0; k < 8; k++) {
			snprintf(w.key, sizeof(w.key), "ipfix_export/%s", names[k]);
			w.packets = v[k];
			rm_rows_append(&mine, &one);
		}
		rm_rows_compact(&mine);
	}
	rm_rows_append(rows, &mine);
	rm_rows_free(&mine);
}

/* Rows of the current generation so far, under its snapshot id, with the
 * reload and collector counters (which outlive generations). */
static void current_rows(struct run *r, struct rm_rows *rows)
{
	struct rm_gen *g = r->rl.gen;
	rm_gen_read(g, &g->cum);
	rm_rows_of(&g->rep, &g->cum, g->id, rows);
	reload_rows(r, rows, 0);
	if (r->fs)
		collector_rows(r, g->id, rows);
	if (r->ch || r->ch_closed) {
		struct rm_chsink_stats st = r->ch_final;
		if (r->ch)
			rm_chsink_stats(r->ch, &st);
		rm_chsink_rows(&st, g->id, rows);
	}
}

/* Rows as the outputs write them, queued for ClickHouse as the batch of
 * the interval [from, to]. */
static void clickhouse_batch(struct run *r, const struct rm_rows *rows,
			     const struct rm_port_stats *ps, double from, double to)
{
	if (!r->ch)
		return;
	struct rm_rows fin = {0};
	rm_rows_finish(&r->out, rows, ps, r->n_ports, r->rl.gen->id, &fin);
	rm_chsink_batch(r->ch, &fin, from, to);
	rm_rows_free(&fin);
}

/*
 * Rows of everything so far: the retired generations summed by key (no
 * snapshot id, reload.h) and the current one.  For the sums over
 * snapshots: the Prometheus counters, the table and its balance.
 */
static void total_rows(struct run *r, struct rm_rows *rows)
{
	rm_rows_append(rows, &r->rl.retired_total);
	current_rows(r, rows);
}

/*
 * A retired snapshot's rows of the whole run as its "total" lines, now,
 * so that nothing keeps them: before retired counters were folded by key,
 * every snapshot's totals were written at exit.  Across swaps the "total"
 * lines of each snapshot are the same as then but carry the time of the
 * swap, not of the exit; one snapshot alone writes exactly what it did.
 */
static int write_retired(struct run *r, const struct rm_rows *final)
{
	if (!final->n || (!r->json && !r->csv))
		return 0;
	return rm_write_rows(&r->out, final, NULL, 0, "", now_s(), 0, true);
}

/* Exporter rows since the last export (they outlive snapshots: keyed by none). */
static void flow_interval_rows(struct run *r, struct rm_rows *rows)
{
	struct rm_rows now = {0};
	collector_rows(r, "", &now);
	struct rm_rows delta = {0};
	rm_rows_append(&delta, &now);
	rm_rows_minus(&delta, &r->flow_prev);
	for (uint32_t i = 0; i < delta.n; i++)
		snprintf(delta.v[i].snap, sizeof(delta.v[i].snap), "%s", r->rl.gen->id);
	rm_rows_append(rows, &delta);
	rm_rows_free(&delta);
	rm_rows_free(&r->flow_prev);
	r->flow_prev = now;
}

/* The scopes of [from, to) as IPFIX aggregates, sent by the main lcore now. */
static void export_aggregates(struct run *r, const struct rm_rows *rows, double from, double to)
{
	if (!r->main_export)
		return;
	struct rm_ipfix *x = &r->main_export->enc;
	/* Templates lead every batch: one message an interval, so a collector
	 * that starts late, or lost one, decodes the next interval. */
	rm_ipfix_templates(x);
	rm_rows_to_ipfix(rows, x, (uint64_t)(from * 1000), (uint64_t)(to * 1000), (uint64_t)to);
	rm_ipfix_flush(x, (uint64_t)to);
	if (r->stopped) /* worker 0 no longer drains the handoff: its queue is free */
		rm_export_drain(&r->exports[0]);
}

static int export_interval(struct run *r, double now, double length)
{
	struct rm_port_stats ps[MAX_PORTS];
	struct rm_rows rows = {0}, total = {0};
	struct rm_gen *g = r->rl.gen;
	read_ports(r->ports, r->n_ports, ps);
	rm_gen_read(g, &g->cum);
	rm_counters_sub(&g->delta, &g->cum, &g->prev);
	rm_counters_copy(&g->prev, &g->cum);
	rm_rows_append(&rows, &r->rl.retired_interval);
	rm_rows_free(&r->rl.retired_interval);
	rm_rows_of(&g->rep, &g->delta, g->id, &rows);
	reload_rows(r, &rows, 1);
	if (r->fs)
		flow_interval_rows(r, &rows);
	r->reloads_reported[0] = r->rl.ok;
	r->reloads_reported[1] = r->rl.failed;
	export_aggregates(r, &rows, now - length, now);
	int rc = rm_write_rows(&r->out, &rows, ps, r->n_ports, g->id, now, length, false);
	clickhouse_batch(r, &rows, ps, now - length, now);
	if (r->out.prom) {
		total_rows(r, &total);
		rc |= rm_write_prom(&r->out, &total, ps, r->n_ports, g->id, g->inputs);
	}
	rm_rows_free(&rows);
	rm_rows_free(&total);
	return rc;
}

/* All capture files read: every expected packet received or missed. */
static int captures_done(struct run *r, uint64_t received)
{
	long long expected = 0;
	uint64_t missed = 0;
	for (unsigned i = 0; i < r->n_ports; i++) {
		if (r->ports[i].expected == -2)
			continue; /* sends only */
		if (r->ports[i].expected < 0)
			return 0;
		expected += r->ports[i].expected;
		struct rte_eth_stats st;
		if (rte_eth_stats_get(r->ports[i].id, &st) == 0)
			missed += st.imissed;
	}
	return received + missed >= (uint64_t)expected;
}

static int all_captures(struct run *r)
{
	int inputs = 0;
	for (unsigned i = 0; i < r->n_ports; i++) {
		if (r->ports[i].expected == -1)
			return 0;
		inputs += r->ports[i].expected >= 0;
	}
	return inputs > 0;
}

/* Frames counted so far by all generations (a live reading). */
static uint64_t workers_received(struct run *r)
{
	uint64_t n = r->rl.retired_received;
	for (unsigned w = 0; w < r->n_workers; w++)
		n += *(volatile uint64_t *)&r->rl.gen->counters[w].received;
	return n;
}

/* Render the totals for the scrape endpoint (main lcore only). */
static void publish_http(struct run *r)
{
	if (!r->http)
		return;
	struct rm_port_stats ps[MAX_PORTS];
	struct rm_rows total = {0};
	char *text = NULL;
	size_t len = 0;
	read_ports(r->ports, r->n_ports, ps);
	total_rows(r, &total);
	if (rm_render_prom(&r->out, &total, ps, r->n_ports, r->rl.gen->id, r->rl.gen->inputs, &text,
			   &len) == 0)
		rm_promhttp_publish(r->http, text, len);
	else
		free(text);
	rm_rows_free(&total);
}

/*
 * --flows-allow @FILE is re-read with the snapshot (SIGHUP, or the
 * snapshot replaced).  A list is immutable: the new one is published, and
 * the old one freed after every worker has passed a quiescent state, past
 * which none holds it (a worker loads the pointer at the start of a burst
 * and passes a quiescent state after each).  A bad file is refused and
 * counted; the old list stays.
 */
static void reload_allow(struct run *r)
{
	char err[512];
	if (!r->opt.flows_allow || r->opt.flows_allow[0] != '@')
		return;
	struct rm_flow_allow *na = rm_flow_allow_parse(r->opt.flows_allow, err, sizeof(err));
	if (!na) {
		r->allow_failed++;
		fprintf(stderr, "rirmeter: --flows-allow reload refused: %s; the old list stays\n",
			err);
		return;
	}
	struct rm_flow_allow *old = (struct rm_flow_allow *)r->allow;
	__atomic_store_n(&r->allow, na, __ATOMIC_RELEASE);
	uint64_t token = rte_rcu_qsbr_start(r->rl.qsv);
	rte_rcu_qsbr_check(r->rl.qsv, token, true);
	free(old);
	fprintf(stderr, "rirmeter: --flows-allow reloaded: %u prefixes\n", na->n);
}

static double run_seconds;

static int main_loop(struct run *r)
{
	double start = now_s(), next = start + r->opt.interval, last_export = start;
	double last_progress = start, next_http = start;
	uint64_t last_received = 0;
	/* A fixed --duration wins over the end of capture files. */
	int captures = all_captures(r) && r->opt.duration <= 0, rc = 0;
	while (!stop_flag) {
		usleep(captures ? 1000 : 10000);
		if (rm_reloader_changed(&r->rl))
			reload_flag = 1;
		if (reload_flag) {
			reload_flag = 0;
			uint64_t t0 = rte_rdtsc();
			struct rm_rows final = {0};
			int ok = rm_reload(&r->rl, &final) == 0;
			if (ok)
				rc |= write_retired(r, &final);
			rm_rows_free(&final);
			if (ok) {
				double hz = (double)rte_get_tsc_hz();
				fprintf(stderr,
					"rirmeter: main lcore: reload %.1f ms; longest other "
					"pass since the last reload %.1f us\n",
					(double)(rte_rdtsc() - t0) * 1e3 / hz,
					(double)r->pass_max_since_reload * 1e6 / hz);
				r->pass_max_since_reload = 0;
			}
			reload_allow(r);
		}
		uint64_t pass_start = rte_rdtsc();
		double t = now_s();
		uint64_t received = workers_received(r);
		if (received != last_received) {
			last_received = received;
			last_progress = t;
		}
		if (r->opt.duration > 0 && t - start >= r->opt.duration)
			break;
		if (captures && (captures_done(r, received) || t - last_progress > IDLE_STOP_S))
			break;
		if (r->opt.interval > 0 && t >= next) {
			rc |= export_interval(r, t, t - last_export);
			last_export = t;
			next += r->opt.interval;
		}
		if (r->http && t >= next_http) { /* fresh enough for any scrape interval */
			publish_http(r);
			next_http = t + 1.0;
		}
		uint64_t pass = rte_rdtsc() - pass_start;
		if (pass > r->pass_max_since_reload)
			r->pass_max_since_reload = pass;
		if (pass > r->pass_max)
			r->pass_max = pass;
	}
	stop_flag = 1;
	rte_eal_mp_wait_lcore();
	r->stopped = 1;
	double t = now_s();
	run_seconds = t - start;
	if (r->opt.interval > 0 && t - last_export > 1e-3)
		rc |= export_interval(r, t, t - last_export); /* the partial last interval */
	return rc;
}

static int finish(struct run *r)
{
	struct rm_port_stats ps[MAX_PORTS];
	struct rm_rows total = {0}, cur = {0};
	read_ports(r->ports, r->n_ports, ps);
	/* Without intervals, ClickHouse gets the run as one batch; then the
	 * sink has its last chance to send what waits (5 s), and the totals
	 * carry its final counters. */
	if (r->ch) {
		if (r->opt.interval <= 0) {
			current_rows(r, &cur);
			clickhouse_batch(r, &cur, ps, now_s() - run_seconds, now_s());
			rm_rows_free(&cur);
		}
		rm_chsink_close(r->ch, 5.0, &r->ch_final);
		r->ch = NULL;
		r->ch_closed = 1;
	}
	total_rows(r, &total);
	struct rm_gen *g = r->rl.gen;
	if (r->main_export && r->opt.interval <= 0) { /* no intervals: the whole run is one */
		export_aggregates(r, &total, now_s() - run_seconds, now_s());
		rm_rows_free(&total); /* again, with what the export counted */
		total_rows(r, &total);
	}
	/* The retired snapshots' "total" lines were written as they retired. */
	current_rows(r, &cur);
	int rc = rm_write_rows(&r->out, &cur, ps, r->n_ports, g->id, now_s(), 0, true);
	rm_rows_free(&cur);
	if (r->out.prom)
		rc |= rm_write_prom(&r->out, &total, ps, r->n_ports, g->id, g->inputs);
	publish_http(r);
	FILE *table = (r->json == stdout || r->csv == stdout) ? stderr : stdout;
	uint64_t received = workers_received(r);
	if (rm_write_table(r->opt.quiet ? NULL : table, &total)) {
		fprintf(stderr, "rirmeter: counts do not balance\n");
		rc = -1;
	}
	uint64_t longest = 0, at = 0;
	for (unsigned w = 0; w < r->n_workers; w++)
		if (r->workers[w].max_loop_tsc > longest) {
			longest = r->workers[w].max_loop_tsc;
			at = r->workers[w].max_loop_at;
		}
	/* When, in wall-clock time, so that it can be set beside other events. */
	double when = now_s() - (double)(rte_rdtsc() - at) / (double)rte_get_tsc_hz();
	fprintf(stderr,
		"rirmeter: %" PRIu64 " packets in %.3f s: %.3f Mpps with %u worker%s; longest "
		"poll loop %.1f us, ended at %.6f; longest main-lcore pass %.1f us\n",
		received, run_seconds, run_seconds > 0 ? (double)received / run_seconds / 1e6 : 0.0,
		r->n_workers, r->n_workers == 1 ? "" : "s",
		(double)longest * 1e6 / (double)rte_get_tsc_hz(), when,
		(double)r->pass_max * 1e6 / (double)rte_get_tsc_hz());
	if (all_captures(r) && !captures_done(r, received)) {
		fprintf(stderr, "rirmeter: stopped before the end of the capture files\n");
		rc = -1;
	}
	rm_rows_free(&total);
	return rc;
}

static int assign_queues(struct run *r)
{
	unsigned lcore, w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		r->workers[w].lcore = lcore;
		w++;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < r->n_ports; i++)
		for (uint16_t q = 0; q < r->ports[i].n_queues; q++, k++) {
			struct rm_worker *wk = &r->workers[k % r->n_workers];
			if (wk->n_queues == RM_MAX_QUEUES) {
				fprintf(stderr, "rirmeter: more than %d queues on one worker\n",
					RM_MAX_QUEUES);
				return -1;
			}
			wk->queues[wk->n_queues].port = r->ports[i].id;
			wk->queues[wk->n_queues].queue = q;
			wk->n_queues++;
		}
	return 0;
}

/* Whether port carries --ipfix-export frames. */
static int exports_on(const struct run *r, uint16_t port)
{
	for (unsigned i = 0; i < r->opt.export.n; i++)
		if (r->opt.export.dst[i].port == port)
			return 1;
	return 0;
}

/* The export's mbufs, source MACs and one exporter per worker. */
static int setup_export(struct run *r)
{
	struct rm_export_cfg *cfg = &r->opt.export;
	if (!cfg->n)
		return 0;
	for (unsigned i = 0; i < cfg->n; i++) {
		struct rte_ether_addr mac;
		if (!rte_eth_dev_is_valid_port(cfg->dst[i].port)) {
			fprintf(stderr, "rirmeter: --ipfix-export: no port %u\n", cfg->dst[i].port);
			return -1;
		}
		rte_eth_macaddr_get(cfg->dst[i].port, &mac);
		memcpy(cfg->src_mac[i], mac.addr_bytes, 6);
	}
	/* Each worker's frames in flight, and a full handoff ring of aggregates.
	 * A frame is the MTU and its Ethernet header; the encoder builds each
	 * message in place and needs its slack past the end. */
	cfg->pool = rte_pktmbuf_pool_create(
	    "rirmeter_tx", r->n_workers * 1024 + 4096 + 1023, MBUF_CACHE, 0,
	    (uint16_t)(RTE_PKTMBUF_HEADROOM + 14 + cfg->mtu + RM_IPFIX_SLACK + 64),
	    (int)rte_socket_id());
	/* One more than the workers: the main lcore's, last, for the aggregates
	 * (observation domain base + n_workers), handed to worker 0 to send. */
	r->exports = rte_zmalloc("exports", (r->n_workers + 1) * sizeof(*r->exports), 64);
	if (!cfg->pool || !r->exports) {
		fprintf(stderr, "rirmeter: cannot allocate the export's buffers (-m)\n");
		return -1;
	}
	struct rte_ring *ring = rte_ring_create("rirmeter_agg", 4096, (int)rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!ring) {
		fprintf(stderr, "rirmeter: cannot allocate the export's ring (-m)\n");
		return -1;
	}
	for (unsigned w = 0; w <= r->n_workers; w++)
		rm_export_init(&r->exports[w], cfg, w);
	/* Under --flows-only every count is a flow record, re-exported on its own:
	 * aggregates would count them twice in a collector that sums both. */
	if (!r->opt.flows.only) {
		r->main_export = &r->exports[r->n_workers];
		r->main_export->handoff_out = ring;
		r->exports[0].handoff_in = ring;
	}
	return 0;
}

static int setup(struct run *r)
{
	char err[512];
	r->n_workers = rte_lcore_count() - 1;
	if (r->n_workers == 0) {
		fprintf(stderr, "rirmeter: needs at least two lcores (-l 0,1): the main lcore "
				"exports, the others poll ports\n");
		return -1;
	}
	if (rm_reloader_init(&r->rl, r->opt.db, r->n_workers, err, sizeof(err))) {
		fprintf(stderr, "rirmeter: %s\n", err);
		return -1;
	}
	r->rl.keep_interval = r->opt.interval > 0; /* else nothing would empty it */
	r->n_ports = rte_eth_dev_count_avail();
	if (r->n_ports == 0) {
		fprintf(stderr,
			"rirmeter: no ports: give a NIC or a --vdev (net_pcap0,rx_pcap=F)\n");
		return -1;
	}
	if (r->n_ports > MAX_PORTS) {
		fprintf(stderr, "rirmeter: %u ports, at most %d\n", r->n_ports, MAX_PORTS);
		return -1;
	}
	unsigned want = r->opt.queues ? r->opt.queues : r->n_workers, total_q = 0;
	unsigned mbufs = r->opt.mbufs ? r->opt.mbufs
				      : r->n_ports * want * (RX_DESC + RM_MAX_BURST) +
					    r->n_workers * (MBUF_CACHE + RM_MAX_BURST) + 1024;
	struct rte_mempool *pool = rte_pktmbuf_pool_create(
	    "rirmeter_rx", mbufs, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "rirmeter: cannot allocate %u mbufs (give EAL more memory, -m)\n",
			mbufs);
		return -1;
	}
	if (setup_export(r))
		return -1;
	uint16_t pid, i = 0;
	RTE_ETH_FOREACH_DEV(pid)
	{
		r->ports[i].id = pid;
		if (setup_port(&r->ports[i], want, exports_on(r, pid) ? r->n_workers : 0, pool)) {
			r->port_failed = i + 1;
			return -1;
		}
		total_q += r->ports[i].n_queues;
		i++;
	}
	/* The outputs only now: a port that fails (net_af_xdp's, which -i
	 * then replaces in a new process) leaves no file, header or
	 * listener behind. */
	int json_fresh = 0, csv_fresh = 0;
	if ((r->opt.json && !(r->json = open_output(r->opt.json, &json_fresh))) ||
	    (r->opt.csv && !(r->csv = open_output(r->opt.csv, &csv_fresh))) ||
	    (r->opt.prom && check_prom_path(r->opt.prom)))
		return -1;
	if (r->csv && csv_fresh) /* one header per file, however many runs append */
		rm_record_write_csv_header(r->csv, RM_RECORD_TRAFFIC);
	r->out = (struct rm_outputs){r->json, r->csv, r->opt.prom, r->opt.top};
	if (r->opt.prom_listen &&
	    !(r->http = rm_promhttp_start(r->opt.prom_listen, err, sizeof(err)))) {
		fprintf(stderr, "rirmeter: %s\n", err);
		return -1;
	}
	r->workers = rte_zmalloc("workers", r->n_workers * sizeof(*r->workers), 64);
	if (!r->workers)
		return -1;
	rm_report_flows(r->opt.flows.n > 0);
	if (r->opt.flows.n) {
		r->fs = calloc(r->n_workers, sizeof(*r->fs));
		for (unsigned w = 0; r->fs && w < r->n_workers; w++)
			if (!(r->fs[w] = rm_flow_state_new()))
				return -1;
		if (!r->fs)
			return -1;
		for (unsigned w = 0; w < r->n_workers; w++) {
			rm_flow_set_idle(r->fs[w], r->opt.flows_idle_ms);
			r->fs[w]->inner = r->opt.tunnels == RM_TUNNELS_INNER;
		}
		r->allow = r->opt.allow;
		r->opt.allow = NULL;
	}
	for (unsigned w = 0; w < r->n_workers; w++) {
		struct rm_worker *wk = &r->workers[w];
		wk->index = w;
		wk->burst = (uint16_t)r->opt.burst;
		wk->io_only = (uint16_t)r->opt.io_only;
		wk->tunnels = (uint8_t)r->opt.tunnels;
		wk->current = &r->rl.current;
		wk->qsv = r->rl.qsv;
		wk->stop = &stop_flag;
		if (r->opt.flows.n) {
			wk->flows = &r->opt.flows;
			wk->fs = r->fs[w];
			wk->allow = &r->allow;
		}
		if (r->exports)
			wk->export = &r->exports[w];
	}
	if (assign_queues(r))
		return -1;
	if (total_q < r->n_workers)
		fprintf(stderr, "rirmeter: %u queues for %u workers: some workers will idle\n",
			total_q, r->n_workers);
	return 0;
}

static void teardown(struct run *r)
{
	for (unsigned i = 0; i < r->n_ports; i++) {
		rte_eth_dev_stop(r->ports[i].id);
		rte_eth_dev_close(r->ports[i].id);
	}
	rte_free(r->workers);
	rte_free(r->exports);
	for (unsigned w = 0; r->fs && w < r->n_workers; w++)
		rm_flow_state_free(r->fs[w]);
	free(r->fs);
	free((void *)r->allow);
	free(r->opt.allow);
	rm_rows_free(&r->flow_prev);
	rm_promhttp_stop(r->http);
	rm_chsink_close(r->ch, 0, NULL);
	rm_reloader_free(&r->rl);
	if (r->json)
		rm_close_output(r->json);
	if (r->csv)
		rm_close_output(r->csv);
}

/* The sink, its defaults filled in: NULL after a message on a bad URL,
 * auth file or spool directory (a server that is down is only counted). */
static struct rm_chsink *open_clickhouse(struct rm_chsink_options *o)
{
	static char host[256];
	char err[PATH_MAX + 256];
	if (!o->name) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "unknown");
		o->name = host;
	}
	if (!o->spool_max)
		o->spool_max = 256u << 20;
	o->timeout = 10;
	struct rm_chsink *s = rm_chsink_open(o, err, sizeof(err));
	if (!s)
		fprintf(stderr, "rirmeter: %s\n", err);
	return s;
}

/* -i's EAL arguments (eal_array, as EAL permuted it) and the first eal_own
 * of them in their first order, this program's own (heap): kept for the
 * run, since EAL may keep pointers into them, and freed at exit. */
static char **eal_args, **eal_array;
static int eal_own;

static void free_eal_args(void)
{
	for (int i = 0; i < eal_own; i++)
		free(eal_args[i]);
	free(eal_args);
	free(eal_array);
}

/* Whether the command line is operator mode: -r or -i before any "--". */
static int operator_command(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "-i") == 0)
			return 1;
	return 0;
}

/* The outputs opened for -r (the DPDK path opens them in setup()). */
static int batch(struct options *o)
{
	FILE *json = NULL, *csv = NULL;
	int json_fresh = 0, csv_fresh = 0, rc = 1;
	if ((o->json && !(json = open_output(o->json, &json_fresh))) ||
	    (o->csv && !(csv = open_output(o->csv, &csv_fresh))) ||
	    (o->prom && check_prom_path(o->prom)))
		goto out;
	if (csv && csv_fresh)
		rm_record_write_csv_header(csv, RM_RECORD_TRAFFIC);
	const struct rm_batch_config cfg = {
	    .db = o->db,
	    .files = o->files,
	    .n_files = o->n_files,
	    .threads = o->threads,
	    /* A capture is read in one go: its totals, unless intervals of
	     * capture time are asked for. */
	    .interval = o->interval_set ? o->interval : 0,
	    .out = {json, csv, o->prom, o->top},
	    .quiet = o->quiet,
	    .flows = o->flows.n ? &o->flows : NULL,
	    .allow = o->allow,
	    .flows_idle_ms = o->flows_idle_ms,
	    .tunnels = o->tunnels,
	};
	rc = rm_batch_run(&cfg);
out:
	if (json)
		rm_close_output(json);
	if (csv)
		rm_close_output(csv);
	return rc;
}

/* Whether the kernel opens AF_XDP sockets for us (DPDK's net_af_xdp needs
 * them; RIRMETER_NO_AF_XDP set means it was tried and failed). */
static int af_xdp_usable(void)
{
	if (getenv("RIRMETER_NO_AF_XDP"))
		return 0;
	int s = socket(44 /* AF_XDP */, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	close(s);
	return 1;
}

/*
 * The queues net_af_xdp can bind on a Linux interface: its combined
 * channels (ethtool), or 1 for a device without them (veth, for one),
 * which DPDK's PMD then treats as one stream.
 */
static unsigned xdp_queues(const char *iface)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_data = (void *)&ch;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = s < 0 ? -1 : ioctl(s, SIOCETHTOOL, &ifr);
	if (s >= 0)
		close(s);
	return rc == 0 && ch.combined_count ? ch.combined_count : 1;
}

/*
 * EAL's arguments for -i: no huge pages, PCI or shared files; one lcore
 * per worker besides the main one, spread over the CPUs; one port per
 * interface, then the operator's own EAL arguments (after "--"), which
 * come last and so win.  The port is net_af_xdp where the kernel allows
 * (every frame as it came; every RX queue of the interface, spread over
 * the workers), else net_af_packet (a queue per worker, spread by the
 * kernel's fanout; DPDK 22.11's PMD asks the fanout to defragment, so
 * IPv4 fragments arrive reassembled, or not at all when incomplete).
 * argv[0] first.
 */
static char **interface_eal(struct options *o, int extra_argc, char **extra, int *eal_argc,
			    int *xdp)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned ncpu = cpus > 0 ? (unsigned)cpus : 1;
	size_t n = 0, cap = 16 + 2 * o->n_ifaces + (size_t)extra_argc;
	char **v = calloc(cap, sizeof(*v)), lcores[1024], *s;
	unsigned *queues = calloc(o->n_ifaces, sizeof(*queues)), all_queues = 0;
	if (!v || !queues)
		abort();
	*xdp = af_xdp_usable();
	/* AF_XDP sees only the queues it binds: all of them, spread over the
	 * workers (--queues). */
	for (unsigned i = 0; i < o->n_ifaces; i++) {
		unsigned q = xdp_queues(o->ifaces[i]);
		queues[i] = q < RM_MAX_QUEUES ? q : RM_MAX_QUEUES;
		all_queues += queues[i];
		if (*xdp && queues[i] > o->queues)
			o->queues = queues[i];
	}
	unsigned workers = o->threads;
	if (!workers) {
		/* One per CPU, but an lcore each (the main one has lcore 0) and
		 * no more than --threads takes; under net_af_xdp no more than
		 * the queues it binds, where a worker past them would poll
		 * nothing (net_af_packet makes a queue per worker). */
		unsigned max =
		    RM_MAX_QUEUES < RTE_MAX_LCORE - 1 ? RM_MAX_QUEUES : RTE_MAX_LCORE - 1;
		unsigned per_cpu = rm_default_threads(cpus, UINT_MAX);
		workers = rm_interface_workers(cpus, max, *xdp ? all_queues : 0);
		if (workers < per_cpu && *xdp && workers == all_queues)
			fprintf(stderr,
				"rirmeter: -i: %u worker%s, not one per CPU (%u): net_af_xdp binds "
				"%u RX queue%s on %s (--threads N to choose)\n",
				workers, workers == 1 ? "" : "s", per_cpu, all_queues,
				all_queues == 1 ? "" : "s",
				o->n_ifaces == 1 ? o->ifaces[0] : "the interfaces");
		else if (workers < per_cpu)
			fprintf(stderr,
				"rirmeter: -i: %u workers, not one per CPU (%u): at most %u in one "
				"run\n",
				workers, per_cpu, max);
	}
	size_t used = (size_t)snprintf(lcores, sizeof(lcores), "0@0");
	for (unsigned w = 1; w <= workers && used < sizeof(lcores); w++)
		used +=
		    (size_t)snprintf(lcores + used, sizeof(lcores) - used, ",%u@%u", w, w % ncpu);
	v[n++] = strdup(PROG);
	v[n++] = strdup("--no-huge");
	v[n++] = strdup("--no-pci");
	v[n++] = strdup("--no-shconf");
	/* No telemetry socket: every DPDK process of this host shares its
	 * path (/var/run/dpdk/rte), and one that hangs in its start-up
	 * listening but not yet accepting blocks the next one's connect(). */
	v[n++] = strdup("--no-telemetry");
	v[n++] = strdup("-m");
	v[n++] = strdup("512");
	v[n++] = strdup("--log-level=error");
	v[n++] = strdup("--lcores");
	v[n++] = strdup(lcores);
	for (unsigned i = 0; i < o->n_ifaces; i++) {
		int rc = *xdp ? asprintf(&s, "net_af_xdp%u,iface=%s,start_queue=0,queue_count=%u",
					 i, o->ifaces[i], queues[i])
			      /* A deep ring (8192 frames a queue): a burst the worker
			       * has not yet polled waits there, not dropped. */
			      : asprintf(&s, "net_af_packet%u,iface=%s,qpairs=%u,framecnt=8192", i,
					 o->ifaces[i], workers);
		if (rc < 0)
			abort();
		v[n++] = strdup("--vdev");
		v[n++] = s;
	}
	free(queues);
	for (size_t i = 0; i < n; i++)
		if (!v[i])
			abort();
	eal_own = (int)n;
	for (int i = 0; i < extra_argc; i++)
		v[n++] = extra[i];
	*eal_argc = (int)n;
	return v;
}

/* Whether setup failed at the configuration of one of -i's net_af_xdp
 * ports (port i is interface i: interface_eal adds them in -i's order,
 * before the operator's own EAL arguments). */
static int xdp_port_failed(const struct run *r)
{
	struct rte_eth_dev_info info;
	unsigned i = r->port_failed;
	return i && i <= r->opt.n_ifaces && rte_eth_dev_info_get(r->ports[i - 1].id, &info) == 0 &&
	       info.driver_name && strcmp(info.driver_name, "net_af_xdp") == 0;
}

/* -i through net_af_xdp failed on iface (or one of the interfaces): run
 * again as a new process, through net_af_packet, since EAL starts once a
 * process.  Returns only when that cannot be done (exit 1). */
static int again_without_af_xdp(const char *iface, char **argv)
{
	fprintf(stderr, "rirmeter: net_af_xdp failed on %s; trying net_af_packet\n", iface);
	setenv("RIRMETER_NO_AF_XDP", "1", 1);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "rirmeter: cannot run again: %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	static struct run r;
	int n, xdp = 0; /* -i, through net_af_xdp */
	if (operator_command(argc, argv)) {
		int own = 1;
		while (own < argc && strcmp(argv[own], "--") != 0)
			own++;
		if (parse_options(own, argv, &r.opt, 1))
			return 2;
		if (r.opt.n_files) {
			rm_counters_layers(r.opt.tunnels == RM_TUNNELS_BOTH);
			rm_counters_record_as(r.opt.flows.n > 0);
			rm_gen_transition(&r.opt.transition);
			rm_gen_located(!r.opt.no_located);
			return batch(&r.opt);
		}
		int eal_argc;
		char **eal = interface_eal(&r.opt, own < argc ? argc - own - 1 : 0, argv + own + 1,
					   &eal_argc, &xdp);
		/* EAL permutes the array, not the strings: the strings to free are
		 * copied in their first order. */
		eal_args = malloc((size_t)eal_own * sizeof(*eal_args));
		if (!eal_args)
			abort();
		memcpy(eal_args, eal, (size_t)eal_own * sizeof(*eal_args));
		eal_array = eal;
		atexit(free_eal_args);
		int ok = rte_eal_init(eal_argc, eal) >= 0;
		if (xdp && (!ok || rte_eth_dev_count_avail() < r.opt.n_ifaces)) {
			if (ok)
				rte_eal_cleanup();
			return again_without_af_xdp(r.opt.ifaces[0], argv);
		}
		if (!ok) {
			fprintf(stderr, "rirmeter: EAL initialisation failed (see above)\n");
			return 2;
		}
		if (rte_eth_dev_count_avail() < r.opt.n_ifaces) {
			fprintf(stderr, "rirmeter: -i: cannot open every interface (see above)\n");
			rte_eal_cleanup();
			return 1;
		}
	} else {
		n = rte_eal_init(argc, argv);
		if (n < 0) {
			fprintf(stderr, "rirmeter: EAL initialisation failed (see above)\n");
			return 2;
		}
		if (parse_options(argc - n, argv + n, &r.opt, 0)) {
			rte_eal_cleanup();
			return 2;
		}
	}
	if (r.opt.ch.url && !(r.ch = open_clickhouse(&r.opt.ch))) {
		rte_eal_cleanup();
		return 2;
	}
	rm_counters_layers(r.opt.tunnels == RM_TUNNELS_BOTH); /* before any snapshot */
	rm_counters_record_as(r.opt.flows.n > 0);
	rm_gen_transition(&r.opt.transition);
	rm_gen_located(!r.opt.no_located);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);
	int rc = 1;
	if (setup(&r) == 0) {
		for (unsigned w = 0; w < r.n_workers; w++)
			rte_eal_remote_launch(rm_worker_main, &r.workers[w], r.workers[w].lcore);
		rc = main_loop(&r) | finish(&r) ? 1 : 0;
	} else if (xdp && !stop_flag && xdp_port_failed(&r)) {
		/* net_af_xdp opened the interface but would not bind its queues
		 * (no XDP on it, as on lo here): nothing has been counted or
		 * written yet (the outputs come after the ports). */
		const char *iface = r.opt.ifaces[r.port_failed - 1];
		teardown(&r);
		rte_eal_cleanup();
		return again_without_af_xdp(iface, argv);
	}
	teardown(&r);
	rte_eal_cleanup();
	return rc;
}
