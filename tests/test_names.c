/*
 * test_names.c - holder names joined on blocks and through AS numbers, and
 * the NIR level (loaders/rpsl.c, asnames.c, names.c), on fixtures in each
 * registry's dump shape.
 */
#include <zlib.h>

#include "helpers.h"

#define RIPE_EXT    "2.3|ripencc|1|4|20230101|20230323|+0100\n"
#define APNIC_EXT   "2.3|apnic|1|4|20230101|20230323|+1000\n"
#define AFRINIC_EXT "2.3|afrinic|1|4|00000000|20230323|00000\n"
#define LACNIC_EXT  "2.3|lacnic|1|4|20230101|20230323|-0300\n"

/* RIPE: an allocation, a second block and an AS of the same holder, a
 * customer's assignment inside the allocation, the registry's /8 around it. */
#define RIPE_STATS                                                                                 \
	RIPE_EXT "ripencc|NL|ipv4|193.0.0.0|2048|19930901|allocated|uuid-ncc\n"                    \
		 "ripencc|NL|ipv4|193.0.16.0|4096|19930901|allocated|uuid-ncc\n"                   \
		 "ripencc|NL|ipv6|2001:67c::|32|20040101|allocated|uuid-other\n"                   \
		 "ripencc|NL|asn|3333|1|19930901|assigned|uuid-ncc\n"                              \
		 "ripencc|DE|ipv4|193.1.0.0|1024|19930901|allocated|uuid-de\n"

/* ripe.db.inetnum as the split files look: a header, "# Filtered",
 * continuation lines (space and '+'), CR LF line ends. */
#define RIPE_INETNUM                                                                               \
	"#\r\n# The contents of this file are subject to the RIPE Database Terms\r\n#\r\n\r\n"     \
	"inetnum:        193.0.0.0 - 193.255.255.255\r\n"                                          \
	"netname:        EU-ZZ-193\r\n"                                                            \
	"org:            ORG-NCC1-RIPE\r\n"                                                        \
	"status:         ALLOCATED UNSPECIFIED\r\n"                                                \
	"source:         RIPE # Filtered\r\n\r\n"                                                  \
	"inetnum:        193.0.0.0 - 193.0.7.255\r\n"                                              \
	"netname:        RIPE-NCC\r\n"                                                             \
	"descr:          first line\r\n"                                                           \
	"                second line\r\n"                                                          \
	"+               third line\r\n"                                                           \
	"org:            ORG-RIEN1-RIPE\r\n"                                                       \
	"status:         ALLOCATED PA\r\n"                                                         \
	"source:         RIPE # Filtered\r\n\r\n"                                                  \
	"inetnum:        193.0.0.0 - 193.0.0.255\r\n"                                              \
	"org:            ORG-CUST1-RIPE\r\n"                                                       \
	"status:         ASSIGNED PA\r\n"                                                          \
	"source:         RIPE # Filtered\r\n"

#define RIPE_ORGS                                                                                  \
	"% comment\n\norganisation:   ORG-RIEN1-RIPE\n"                                            \
	"org-name:       Reseaux IP Europeens\n"                                                   \
	"                Network Coordination Centre\n"                                            \
	"source:         RIPE # Filtered\n\n"                                                      \
	"organisation:   ORG-NCC1-RIPE\norg-name:       RIPE NCC registry space\n\n"               \
	"organisation:   ORG-CUST1-RIPE\norg-name:       A Customer\n"

static const char *name_of(const struct rm_db *db, const char *q)
{
	return rm_holder_name(db, attr_of(db, q));
}

static const char *source_of(const struct rm_db *db, const char *q)
{
	return rm_name_source_name(attr_of(db, q)->name_source);
}

static void ripe_split_files_join_on_blocks(void **state)
{
	(void)state;
	/* Dumps before the statistics file: the join waits for it. */
	struct built *r = build_texts(0, "ripe.db.organisation", RIPE_ORGS, "ripe.db.inetnum",
				      RIPE_INETNUM, "stats", RIPE_STATS, NULL);
	assert_non_null(r->m);
	/* Exact range: named, with the continuation line joined. */
	assert_string_equal(name_of(&r->db, "193.0.3.1"),
			    "Reseaux IP Europeens Network Coordination Centre");
	assert_string_equal(source_of(&r->db, "193.0.3.1"), "rpsl");
	/* The customer's assignment inside does not rename the allocation's
	 * first /24, and the /8 object around does not name anything. */
	assert_string_equal(name_of(&r->db, "193.0.0.1"),
			    "Reseaux IP Europeens Network Coordination Centre");
	/* The holder's other block and its AS number get the same name. */
	assert_string_equal(name_of(&r->db, "193.0.16.1"),
			    "Reseaux IP Europeens Network Coordination Centre");
	assert_string_equal(name_of(&r->db, "AS3333"),
			    "Reseaux IP Europeens Network Coordination Centre");
	/* A holder no object names keeps its id. */
	assert_string_equal(name_of(&r->db, "193.1.0.1"), "");
	assert_string_equal(source_of(&r->db, "193.1.0.1"), "");
	assert_string_equal(holder_of(&r->db, "193.1.0.1"), "uuid-de");
	/* The names of objects that named nothing are not in the snapshot. */
	assert_null(memmem(r->db.strings, r->db.strings_len, "A Customer", 10));
	assert_null(memmem(r->db.strings, r->db.strings_len, "registry space", 14));
	assert_int_equal(r->counts.conflicts, 0);
	built_free(r);
}

static void inet6num_and_aut_num(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "stats", RIPE_STATS, "ripe.db.inet6num",
	    "inet6num:       2001:67c::/32\norg:            ORG-OTH1-RIPE\n\n"
	    "inet6num:       2001:67c:2e8::/48\norg:            ORG-RIEN1-RIPE\n",
	    "ripe.db.aut-num", "aut-num:        AS3333\norg:            ORG-RIEN1-RIPE\n",
	    "ripe.db.organisation", RIPE_ORGS "\norganisation: ORG-OTH1-RIPE\norg-name: Other BV\n",
	    NULL);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "2001:67c:2e8::1"), "Other BV");
	assert_string_equal(name_of(&r->db, "193.0.16.1"),
			    "Reseaux IP Europeens Network Coordination Centre");
	built_free(r);
}

static void conflicting_names_reported_first_kept(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "stats", RIPE_STATS, "one.db",
	    "inetnum: 193.0.0.0 - 193.0.7.255\norg: ORG-A\n\n"
	    "organisation: ORG-A\norg-name: Alpha\n\norganisation: ORG-B\norg-name: Beta\n",
	    "two.db", "inetnum: 193.0.16.0 - 193.0.31.255\norg: ORG-B\n", NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.conflicts, 1);
	assert_true(diag_has(r, "two.db:1: holder 'ripencc:uuid-ncc' named 'Beta' here and "
				"'Alpha' at one.db:1; the first in input order is kept"));
	assert_string_equal(name_of(&r->db, "193.0.16.1"), "Alpha");
	built_free(r);
}

static void precedence_csv_rpsl_asname(void **state)
{
	(void)state;
	const char *asn_txt = "3333 RIPE-NCC-AS - Reseaux IP Europeens NCC, NL\n"
			      "3334 X-AS - Other name, DE\n"
			      "3335 NO-SEPARATOR, ZZ\n";
	/* AS names only: the lowest named AS names the holder. */
	struct built *r =
	    build_texts(0, "stats",
			RIPE_STATS "ripencc|DE|asn|3334|2|19930901|assigned|uuid-de\n"
				   "ripencc|DE|asn|3330|1|19930901|assigned|uuid-de\n",
			"asn.txt", asn_txt, NULL);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "193.0.3.1"), "Reseaux IP Europeens NCC");
	assert_string_equal(source_of(&r->db, "193.0.3.1"), "asname");
	/* AS3330 has no name: AS3334 is the lowest named. */
	assert_string_equal(name_of(&r->db, "193.1.0.1"), "Other name");
	built_free(r);
	/* RPSL beats the AS name; the operator's CSV beats both. */
	r = build_texts(0, "asn.txt", asn_txt, "stats", RIPE_STATS, "inetnum", RIPE_INETNUM, "orgs",
			RIPE_ORGS, "names.csv",
			"registry,holder_id,name\nripencc,uuid-de,Operator's name\n", NULL);
	assert_non_null(r->m);
	assert_string_equal(source_of(&r->db, "193.0.3.1"), "rpsl");
	assert_string_equal(name_of(&r->db, "193.1.0.1"), "Operator's name");
	assert_string_equal(source_of(&r->db, "193.1.0.1"), "csv");
	assert_string_equal(holder_of(&r->db, "193.1.0.1"), "Operator's name");
	assert_string_equal(rm_str(&r->db, attr_of(&r->db, "193.1.0.1")->holder_id), "uuid-de");
	built_free(r);
	/* Comment lines before the header, as format detection skips them:
	 * not the header, and the header not a record. */
	r = build_texts(0, "stats", RIPE_STATS, "names.csv",
			"# the operator's names\nregistry,holder_id,name\n"
			"ripencc,uuid-de,Operator's name\n",
			NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.errors, 0);
	assert_string_equal(name_of(&r->db, "193.1.0.1"), "Operator's name");
	built_free(r);
}

static void lacnic_cidr_and_owner(void **state)
{
	(void)state;
	struct built *r =
	    build_texts(0, "stats",
			LACNIC_EXT "lacnic|BR|ipv4|200.7.84.0|512|20000101|allocated|1234\n"
				   "lacnic|AR|ipv4|24.232.0.0|65536|20000101|allocated|99\n"
				   "lacnic|BR|ipv6|2801:80::|32|20000101|allocated|1234\n",
			"lacnic.db",
			"% LACNIC dump\n\ninetnum:     200.7.84/23\nstatus:      allocated\n"
			"owner:       Universidade Exemplo\nownerid:     BR-UNEX-LACNIC\n\n"
			"inetnum:     24.232/16\nowner:       Cablevision SA\n\n"
			"inetnum:     24.232.1/24\nowner:       A customer\n",
			NULL);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "200.7.85.1"), "Universidade Exemplo");
	assert_string_equal(name_of(&r->db, "2801:80::1"), "Universidade Exemplo");
	assert_string_equal(name_of(&r->db, "24.232.1.1"), "Cablevision SA");
	built_free(r);
}

static void apnic_and_afrinic_single_files(void **state)
{
	(void)state;
	struct built *r = build_texts(
	    0, "apnic", APNIC_EXT "apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED\n",
	    "apnic.db.inetnum",
	    "inetnum:        1.0.0.0 - 1.0.0.255\nnetname:        APNIC-LABS\n"
	    "org:            ORG-ARAD1-AP\nsource:         APNIC\n",
	    "apnic.db.organisation",
	    "organisation:   ORG-ARAD1-AP\norg-name:       APNIC Research and Development\n",
	    "afrinic", AFRINIC_EXT "afrinic|ZA|ipv4|196.4.0.0|4096|19930831|assigned|F3651CDB\n",
	    "afrinic.db",
	    "organisation:   ORG-IBL1-AFRINIC\norg-name:       Investec Bank Ltd\n\n"
	    "inetnum:        196.4.0.0 - 196.4.15.255\norg:            ORG-IBL1-AFRINIC\n"
	    "remarks:        Geofeed https://example.net/geofeed.csv\n",
	    NULL);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "1.0.0.1"), "APNIC Research and Development");
	assert_string_equal(name_of(&r->db, "196.4.1.1"), "Investec Bank Ltd");
	built_free(r);
}

static void malformed_objects(void **state)
{
	(void)state;
	const char *bad = "inetnum: 193.0.7.255 - 193.0.0.0\norg: ORG-A\n\n"
			  "no colon on this line\n\n"
			  "inetnum: 193.0.0.0 - 193.0.7.255\norg: ORG-A\n\n"
			  "organisation: ORG-A\norg-name: Alpha\n";
	struct built *r = build_texts(0, "stats", RIPE_STATS, "bad.db", bad, NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "bad.db:1: range ends before it starts"));
	assert_true(diag_has(r, "bad.db:4: not an RPSL 'attribute: value' line"));
	built_free(r);
	r = build_texts(1, "stats", RIPE_STATS, "bad.db", bad, NULL);
	assert_non_null(r->m);
	assert_int_equal(r->counts.skipped, 2);
	assert_string_equal(name_of(&r->db, "193.0.0.1"), "Alpha");
	built_free(r);
}

/* A gzip member of text (zlib's compress2 makes zlib, not gzip). */
static char *gzip_text(const char *text, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&z, strlen(text));
	char *out = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static struct built *build_files(int lenient, const char *const *paths)
{
	struct built *r = calloc(1, sizeof(*r));
	FILE *diag = open_memstream(&r->diag, &r->diag_len);
	struct rl_options o = {.lenient = lenient, .diag = diag, .max_messages = 10000};
	struct rl_build *b = rl_build_new(&o);
	for (; *paths; paths++)
		rl_build_add_file(b, *paths);
	return built_finish(r, b, diag);
}

static void gzip_files_and_buffers(void **state)
{
	(void)state;
	char stats[64], dump[64], cut[64];
	snprintf(stats, sizeof(stats), "/tmp/rm-names-stats-%d.gz", (int)getpid());
	snprintf(dump, sizeof(dump), "/tmp/rm-names-dump-%d.gz", (int)getpid());
	snprintf(cut, sizeof(cut), "/tmp/rm-names-cut-%d.gz", (int)getpid());
	size_t n_stats, n_dump;
	char *zs = gzip_text(RIPE_STATS, &n_stats);
	char *zd = gzip_text(RIPE_INETNUM "\n" RIPE_ORGS, &n_dump);
	write_file(stats, zs, n_stats);
	write_file(dump, zd, n_dump);
	write_file(cut, zd, n_dump - 12);
	const char *ok[] = {dump, stats, NULL};
	struct built *r = build_files(0, ok);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "193.0.3.1"),
			    "Reseaux IP Europeens Network Coordination Centre");
	built_free(r);
	/* A truncated dump is named; lenient keeps what was read before. */
	const char *bad[] = {stats, cut, NULL};
	r = build_files(0, bad);
	assert_null(r->m);
	char want[128];
	snprintf(want, sizeof(want), "%s:", cut);
	assert_true(diag_has(r, want));
	assert_true(diag_has(r, "truncated gzip stream"));
	built_free(r);
	/* The same through a buffer. */
	struct built *rb = calloc(1, sizeof(*rb));
	FILE *diag = open_memstream(&rb->diag, &rb->diag_len);
	struct rl_options o = {.diag = diag};
	struct rl_build *b = rl_build_new(&o);
	assert_int_equal(rl_build_add_buffer(b, "stats.gz", zs, n_stats), 0);
	assert_int_equal(rl_build_add_buffer(b, "cut.gz", zd, n_dump - 12), -1);
	built_finish(rb, b, diag);
	assert_true(diag_has(rb, "cut.gz: truncated gzip stream"));
	built_free(rb);
	unlink(stats);
	unlink(dump);
	unlink(cut);
	free(zs);
	free(zd);
}

#define LOCATION_DB "/usr/share/libloc-location/location.db"

static void location_db_names_as3333s_holder(void **state)
{
	(void)state;
	if (access(LOCATION_DB, R_OK) != 0)
		fail_msg("%s is missing: install Debian's libloc-database", LOCATION_DB);
	char stats[64];
	snprintf(stats, sizeof(stats), "/tmp/rm-names-loc-%d", (int)getpid());
	write_file(stats, RIPE_STATS, strlen(RIPE_STATS));
	const char *paths[] = {stats, LOCATION_DB, NULL};
	struct built *r = build_files(0, paths);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "193.0.3.1"),
			    "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)");
	assert_string_equal(source_of(&r->db, "193.0.3.1"), "asname");
	assert_string_equal(rm_input_kind_name(r->db.inputs[1].kind), "location");
	assert_true(r->db.inputs[1].records > 50000);
	built_free(r);
	unlink(stats);
}

static void nirs(void **state)
{
	(void)state;
	char *ids = read_data("nir-ids.csv");
	struct built *r =
	    build_texts(0, "apnic",
			APNIC_EXT "apnic|JP|ipv4|133.0.0.0|65536|19970101|allocated|A91A7381\n"
				  "apnic|JP|asn|4672|10|19970101|allocated|A91A7381\n"
				  "apnic|KR|ipv4|1.208.0.0|65536|20100101|allocated|A9149F3E\n"
				  "apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED\n",
			"nir-ids.csv", ids, "lacnic",
			LACNIC_EXT "lacnic|BR|ipv4|200.160.0.0|65536|19980101|allocated|77\n"
				   "lacnic|BR|asn|22548|1|19980101|allocated|77\n"
				   "lacnic|AR|ipv4|200.0.0.0|65536|19980101|allocated|88\n",
			"nicbr-asn-blk-latest.txt",
			"AS22548|Nucleo de Inf. e Coord. do Ponto BR - NIC.BR|05.506.560/0001-36|"
			"200.160.0.0/20|2001:12ff::/32|\n",
			NULL);
	assert_non_null(r->m);
	assert_string_equal(rm_nir_name(attr_of(&r->db, "133.0.0.1")->nir), "jpnic");
	assert_string_equal(rm_nir_name(attr_of(&r->db, "AS4675")->nir), "jpnic");
	assert_string_equal(rm_nir_name(attr_of(&r->db, "1.208.0.1")->nir), "krnic");
	assert_string_equal(rm_nir_name(attr_of(&r->db, "1.0.0.1")->nir), "");
	/* NIC.br: its block inside the LACNIC record only, not the rest. */
	assert_string_equal(rm_nir_name(attr_of(&r->db, "200.160.1.1")->nir), "nicbr");
	assert_string_equal(rm_nir_name(attr_of(&r->db, "200.160.16.1")->nir), "");
	assert_string_equal(rm_nir_name(attr_of(&r->db, "200.0.0.1")->nir), "");
	/* ... and its name through the AS number, on the whole holder. */
	assert_string_equal(name_of(&r->db, "200.160.16.1"),
			    "Nucleo de Inf. e Coord. do Ponto BR - NIC.BR");
	assert_string_equal(source_of(&r->db, "200.160.16.1"), "nicbr");
	char key[RM_KEY_MAX];
	rm_key_nir(&r->db, attr_of(&r->db, "200.160.1.1"), key, sizeof(key));
	assert_string_equal(key, "lacnic:nicbr");
	rm_key_nir(&r->db, attr_of(&r->db, "1.0.0.1"), key, sizeof(key));
	assert_string_equal(key, "apnic:");
	built_free(r);
	/* Bad rows name their line. */
	r = build_texts(0, "ids", "registry,holder_id,nir\napnic,X,nonic\nnowhere,Y,jpnic\n",
			"nicbr", "AS1|name|cnpj|300.0.0.0/8\n", NULL);
	assert_null(r->m);
	assert_true(diag_has(r, "ids:2: unknown NIR 'nonic'"));
	assert_true(diag_has(r, "ids:3: unknown registry 'nowhere'"));
	assert_true(diag_has(r, "nicbr:1: "));
	built_free(r);
	free(ids);
}

/*
 * A MaxMind DB whose search tree is a chain of nodes, each linking both
 * sides to the next, the last both to one record: a valid file of a few
 * hundred bytes naming 2^depth networks (an IPv4 file of depth 32: four
 * billion, hundreds of GB).  Refused as a whole, at once.
 */
static void mmdb_shared_nodes_refused(void **state)
{
	(void)state;
	enum { DEPTH = 22 };
	unsigned char f[1024];
	size_t n = 0;
	for (unsigned i = 0; i < DEPTH; i++) {
		uint32_t r = i + 1 < DEPTH ? i + 1 : DEPTH + 16; /* the record at offset 0 */
		for (int side = 0; side < 2; side++) {
			f[n++] = (unsigned char)(r >> 16);
			f[n++] = (unsigned char)(r >> 8);
			f[n++] = (unsigned char)r;
		}
	}
	memset(f + n, 0, 16);
	n += 16;
	static const char data[] = "\xe1\x4c"
				   "country_code\x42"
				   "DE";
	memcpy(f + n, data, sizeof(data) - 1);
	n += sizeof(data) - 1;
	static const char meta[] = "\xab\xcd\xefMaxMind.com"
				   "\xe9"
				   "\x4anode_count\xc4\x00\x00\x00\x16"
				   "\x4brecord_size\xa2\x00\x18"
				   "\x4aip_version\xa2\x00\x04"
				   "\x4d"
				   "database_type\x47hostile"
				   "\x49languages\x00\x04"
				   "\x4b"
				   "description\xe0"
				   "\x5b"
				   "binary_format_major_version\xa2\x00\x02"
				   "\x5b"
				   "binary_format_minor_version\xa2\x00\x00"
				   "\x4b"
				   "build_epoch\x08\x02\x00\x00\x00\x00\x65\x53\xf1\x00";
	memcpy(f + n, meta, sizeof(meta) - 1);
	n += sizeof(meta) - 1;
	char stats[64], mmdb[64];
	snprintf(stats, sizeof(stats), "/tmp/rm-names-chain-%d", (int)getpid());
	snprintf(mmdb, sizeof(mmdb), "/tmp/rm-names-chain-%d.mmdb", (int)getpid());
	write_file(stats, RIPE_STATS, strlen(RIPE_STATS));
	write_file(mmdb, f, n);
	const char *paths[] = {stats, mmdb, NULL};
	struct built *r = build_files(1, paths);
	assert_non_null(r->m);
	assert_true(diag_has(r, "nodes shared beyond the IPv4 aliases"));
	assert_int_equal(r->db.n_geo, 0);
	built_free(r);
	unlink(stats);
	unlink(mmdb);
}

/* RIPE_STATS in a file, and the path of a dump file beside it, both
 * named by tag. */
static void stats_and_dump(const char *tag, char stats[64], char dump[64])
{
	snprintf(stats, 64, "/tmp/rm-names-%s-%d", tag, (int)getpid());
	snprintf(dump, 64, "/tmp/rm-names-%s-%d.db", tag, (int)getpid());
	write_file(stats, RIPE_STATS, strlen(RIPE_STATS));
}

/* An RPSL dump that starts with a UTF-8 byte-order mark, read from its
 * file: its first object names the block, as from a buffer. */
static void rpsl_file_with_bom(void **state)
{
	(void)state;
	char stats[64], dump[64];
	stats_and_dump("bom", stats, dump);
	static const char text[] = "\xEF\xBB\xBFinetnum: 193.0.0.0 - 193.0.7.255\n"
				   "owner: Holder Of The First Object\n";
	write_file(dump, text, sizeof(text) - 1);
	const char *paths[] = {stats, dump, NULL};
	struct built *r = build_files(0, paths);
	assert_non_null(r->m);
	assert_string_equal(name_of(&r->db, "193.0.3.1"), "Holder Of The First Object");
	built_free(r);
	unlink(stats);
	unlink(dump);
}

/* A line too long to keep in a dump read from its file is reported at its
 * own number and skipped; the objects after it are read (before, the dump
 * ended there, under --lenient silently). */
static void rpsl_file_long_line(void **state)
{
	(void)state;
	char stats[64], dump[64];
	stats_and_dump("long", stats, dump);
	static const char head[] = "inetnum: 10.0.0.0 - 10.0.0.255\nremarks: ";
	static const char tail[] = "\n\ninetnum: 193.0.0.0 - 193.0.7.255\n"
				   "owner: Holder After The Long Line\n";
	size_t long_len = 3u << 20, n = sizeof(head) - 1 + long_len + sizeof(tail) - 1;
	char *text = malloc(n);
	if (!text) /* not assert_non_null: GCC's bounds warning saw a path past it */
		abort();
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'x', long_len);
	memcpy(text + sizeof(head) - 1 + long_len, tail, sizeof(tail) - 1);
	write_file(dump, text, n);
	free(text);
	const char *paths[] = {stats, dump, NULL};
	struct built *r = build_files(1, paths);
	assert_non_null(r->m);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: 1 line of 2 MiB or more", dump);
	assert_true(diag_has(r, want));
	assert_string_equal(name_of(&r->db, "193.0.3.1"), "Holder After The Long Line");
	built_free(r);
	r = build_files(0, paths);
	assert_null(r->m);
	built_free(r);
	unlink(stats);
	unlink(dump);
}

static void detection(void **state)
{
	(void)state;
	const char *asn = "1 LVLT-1 - Level 3 Parent, LLC, US\n";
	const char *nic = "AS1916|Rede Nacional|00.000.000/0000-00|200.143.192.0/18|\n";
	const char *ids = "registry,holder_id,nir\napnic,A91A7381,jpnic\n";
	assert_int_equal(rl_detect(asn, strlen(asn)), RM_IN_AS_NAMES);
	assert_int_equal(rl_detect(nic, strlen(nic)), RM_IN_NICBR);
	assert_int_equal(rl_detect(ids, strlen(ids)), RM_IN_NIR_IDS);
	assert_int_equal(rl_detect(RIPE_INETNUM, strlen(RIPE_INETNUM)), RM_IN_HOLDERS_RPSL);
	assert_int_equal(rl_detect("LOCDBXX\1\0\0", 10), RM_IN_LOCATION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ripe_split_files_join_on_blocks),
	    cmocka_unit_test(inet6num_and_aut_num),
	    cmocka_unit_test(conflicting_names_reported_first_kept),
	    cmocka_unit_test(precedence_csv_rpsl_asname),
	    cmocka_unit_test(lacnic_cidr_and_owner),
	    cmocka_unit_test(apnic_and_afrinic_single_files),
	    cmocka_unit_test(malformed_objects),
	    cmocka_unit_test(gzip_files_and_buffers),
	    cmocka_unit_test(location_db_names_as3333s_holder),
	    cmocka_unit_test(nirs),
	    cmocka_unit_test(mmdb_shared_nodes_refused),
	    cmocka_unit_test(rpsl_file_with_bom),
	    cmocka_unit_test(rpsl_file_long_line),
	    cmocka_unit_test(detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
