/*
 * model.h - the normalized attribution model and its reference lookup.
 *
 * Everything rirmeter knows about who manages an address comes down to
 * three sorted range lists (IPv4, IPv6, AS numbers) over one attribution
 * table.  The invariants every producer must keep and every consumer may
 * rely on:
 *
 *   - Each list covers its whole key space with no gap and no overlap:
 *     range i spans [start[i], start[i+1] - 1] and the last range runs to
 *     the top of the space.  start[0] is 0.  Space that nothing covers
 *     points at attribution 0, which is always rir "unknown".
 *   - id[i] < n_attrs and block[i] < n_blocks or RM_NO_BLOCK.
 *   - Attributions are unique (rir, status, cc, holder, name, name source,
 *     nir) tuples, so
 *     an id is a dense small integer that counters can index directly.
 *   - Blocks record provenance: the registry record (or IANA row, or
 *     operator label) a range came from, with input file and line.
 *   - Strings live in one pool; offset 0 is the empty string.
 *
 * The same struct rm_db describes a model built in memory (model.c) and a
 * snapshot mapped from disk (snapshot.c): it only holds pointers.  The fast
 * lookup tables are not part of the model: they are built from it
 * (dir24.h, trie6.h) and a snapshot keeps them beside it.  The
 * reference lookup below is a binary search over it.  It is deliberately
 * simple: it is the oracle that the fast structures are tested against.
 */
#ifndef RM_MODEL_H
#define RM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

__extension__ typedef unsigned __int128 rm_u128;

enum rm_rir {
	RM_RIR_UNKNOWN,
	RM_RIR_IANA,
	RM_RIR_AFRINIC,
	RM_RIR_APNIC,
	RM_RIR_ARIN,
	RM_RIR_LACNIC,
	RM_RIR_RIPENCC,
	RM_RIR_COUNT
};

enum rm_status {
	RM_ST_UNKNOWN,	  /* covered by nothing */
	RM_ST_ALLOCATED,  /* registry record: allocated to an LIR */
	RM_ST_ASSIGNED,	  /* registry record: assigned to an end user */
	RM_ST_AVAILABLE,  /* registry record: in the registry's free pool */
	RM_ST_RESERVED,	  /* registry record or IANA: reserved */
	RM_ST_DESIGNATED, /* only IANA's designation of the block to a registry */
	RM_ST_LEGACY,	  /* only IANA's legacy designation */
	RM_ST_SPECIAL,	  /* IANA special-purpose registry */
	RM_ST_COUNT
};

enum rm_family { RM_V4, RM_V6, RM_ASN, RM_FAMILY_COUNT };

/* National Internet Registries: the level between a registry and its LIRs
 * (APNIC's NIRs by their account ids, NIC.br by its own file). */
enum rm_nir {
	RM_NIR_NONE,
	RM_NIR_JPNIC,
	RM_NIR_KRNIC,
	RM_NIR_CNNIC,
	RM_NIR_TWNIC,
	RM_NIR_IDNIC,
	RM_NIR_VNNIC,
	RM_NIR_IRINN,
	RM_NIR_NICBR,
	RM_NIR_COUNT
};

/* Where a holder's name came from, strongest first (loaders.h). */
enum rm_name_source {
	RM_NAME_NONE,
	RM_NAME_CSV,	/* the operator's registry,holder_id,name file */
	RM_NAME_RPSL,	/* org-name (owner: at LACNIC) of an object on the block */
	RM_NAME_NICBR,	/* NIC.br's nicbr-asn-blk file */
	RM_NAME_ASNAME, /* the name of the holder's lowest-numbered named AS */
	RM_NAME_SOURCE_COUNT
};

#define RM_NO_BLOCK UINT32_MAX

struct rm_attr {
	uint8_t rir;	      /* enum rm_rir */
	uint8_t status;	      /* enum rm_status */
	char cc[2];	      /* ISO 3166 code as the registry wrote it, or "\0\0" */
	uint32_t holder_id;   /* string offset: opaque id or "local:LABEL" */
	uint32_t holder_name; /* string offset: name when one was loaded */
	uint8_t nir;	      /* enum rm_nir */
	uint8_t name_source;  /* enum rm_name_source of holder_name; IANA's names: 0 */
	uint8_t pad[2];	      /* zero */
};

/* A 128-bit key as stored on disk: most significant half first. */
struct rm_key {
	uint64_t hi, lo;
};

struct rm_block {
	struct rm_key first, last; /* IPv4 and ASN keys sit in lo */
	uint32_t input;		   /* index into inputs */
	uint32_t line;		   /* line of the record in that input */
	uint32_t date;		   /* YYYYMMDD from the record, 0 when none */
	uint32_t family;	   /* enum rm_family */
};

enum rm_input_kind {
	RM_IN_STATS,	    /* RIR statistics exchange file */
	RM_IN_IANA_V4,	    /* ipv4-address-space.csv */
	RM_IN_IANA_V6,	    /* ipv6-unicast-address-assignments.csv */
	RM_IN_SPECIAL_V4,   /* iana-ipv4-special-registry */
	RM_IN_SPECIAL_V6,   /* iana-ipv6-special-registry */
	RM_IN_SPECIAL_ASN,  /* iana-as-numbers-special-registry */
	RM_IN_HOLDERS_RPSL, /* whois dump with organisation objects */
	RM_IN_HOLDERS_CSV,  /* registry,holder_id,name */
	RM_IN_LABELS,	    /* prefix,label */
	RM_IN_AS_NAMES,	    /* RIPE's asn.txt: "<asn> <handle> - <name>, <CC>" */
	RM_IN_LOCATION,	    /* IPFire's location database (libloc): AS names */
	RM_IN_NICBR,	    /* NIC.br's "AS<n>|name|CNPJ|block|..." */
	RM_IN_NIR_IDS,	    /* registry,holder_id,nir: the NIRs' account ids */
	RM_IN_MMDB,	    /* a MaxMind DB: located country and/or origin AS */
	RM_IN_KIND_COUNT
};

/*
 * Whether an input's records are used, and if not why (rm_input.unused):
 * only a statistics file is ever left unused, when another file of its
 * registry is used instead (loaders/merge.c) or when its header was
 * refused (loaders/stats.c; a lenient build goes on without it).  A file
 * with records missing that is used all the same, no complete file of its
 * registry being given, is RM_USED_RECORDS_MISSING: rirdb info marks it so
 * that the registry's data is known to be incomplete.  The values keep
 * their numbers (snapshots hold them); test with rm_input_used().
 */
enum rm_input_unused {
	RM_USED,
	RM_SUPERSEDED,		 /* a newer file of its registry is used */
	RM_RECORDS_MISSING,	 /* fewer records than its header or summaries count
				  * (a truncated download?): an older complete file of
				  * its registry is used */
	RM_REFUSED_HEADER,	 /* its header was refused: nothing of it read, and
				  * its record holds no registry, serial or dates */
	RM_USED_RECORDS_MISSING, /* used, though records are missing: no
				  * complete file of its registry was given */
	RM_UNUSED_COUNT
};

struct rm_input {
	uint32_t name;	     /* string offset: file name as given */
	uint32_t serial;     /* string offset: header serial, stats files only */
	uint32_t kind;	     /* enum rm_input_kind */
	uint32_t rir;	     /* registry of a stats file */
	uint32_t start_date; /* YYYYMMDD or 0 */
	uint32_t end_date;   /* YYYYMMDD or 0 */
	uint32_t records;    /* records read */
	uint32_t unused;     /* enum rm_input_unused: whether its records are used */
};

/* Whether input in's records are used (enum rm_input_unused). */
static inline int rm_input_used(const struct rm_input *in)
{
	return in->unused == RM_USED || in->unused == RM_USED_RECORDS_MISSING;
}

/*
 * The located layer, beside the registry's attribution and apart from it:
 * where an address is used (country) and which AS announces it, from
 * IPFire's location database.  Ranges cover the whole space like the
 * registry's (start[0] = 0, sorted, ids < n_geo); geo id 0 is "nothing
 * known" (no country, no AS).  A db without the layer has n_geo = 0.
 */
struct rm_geo {
	char cc[2];   /* ISO 3166 code, upper case, or "\0\0" */
	uint16_t pad; /* zero */
	uint32_t asn; /* origin AS, 0 when none */
};

struct rm_ranges32 {
	const uint32_t *start;
	const uint32_t *id;
	const uint32_t *block;
	uint32_t n;
};

struct rm_ranges128 {
	const struct rm_key *start;
	const uint32_t *id;
	const uint32_t *block;
	uint32_t n;
};

/* A NAT64 prefix of a snapshot: 32, 40, 48, 56, 64 or 96 bits. */
struct rm_nat64_prefix {
	uint8_t prefix[16]; /* network order, bits past len zero */
	uint8_t len;
	uint8_t reserved[15];
};

struct rm_db {
	const struct rm_attr *attrs;
	uint32_t n_attrs;
	const char *strings;
	uint32_t strings_len;
	const struct rm_block *blocks;
	uint32_t n_blocks;
	const struct rm_input *inputs;
	uint32_t n_inputs;
	struct rm_ranges32 v4;
	struct rm_ranges128 v6;
	struct rm_ranges32 asn;
	uint64_t build_time; /* Unix seconds */
	/* The located layer (block arrays NULL): n_geo 0 when absent. */
	const struct rm_geo *geo;
	uint32_t n_geo;
	struct rm_ranges32 geo_v4;
	struct rm_ranges128 geo_v6;
	/* The operator's NAT64 prefixes (rirdb build --nat64; transition.h),
	 * an optional section: snapshots without one have none. */
	const struct rm_nat64_prefix *nat64;
	uint32_t n_nat64;
};

/*
 * Bytes of the longest label, holder id or holder name a build takes
 * (valid UTF-8: loaders.h); a label is stored as "local:LABEL", 6 more.
 * rm_db_check() holds every snapshot to the same bounds, so RM_KEY_MAX
 * holds every key rm_key_country() and rm_key_holder() make of a checked
 * db, uncut: "ripencc:" (the longest registry name and its colon) before
 * a string of up to "local:" and RM_HOLDER_TEXT_MAX bytes, and the NUL.
 */
#define RM_HOLDER_TEXT_MAX 200
#define RM_LABEL_PREFIX	   "local:"
#define RM_KEY_MAX	   (8 + 6 + RM_HOLDER_TEXT_MAX + 1)

/* Names */
const char *rm_rir_name(unsigned rir);
const char *rm_status_name(unsigned status);
const char *rm_input_kind_name(unsigned kind);
/* Why an input is not used (enum rm_input_unused), as rirdb info says it:
 * "" for a used one, "records missing" for one used with records missing. */
const char *rm_input_unused_name(unsigned unused);
const char *rm_nir_name(unsigned nir);		 /* "" for RM_NIR_NONE */
const char *rm_name_source_name(unsigned src);	 /* "" for RM_NAME_NONE */
int rm_nir_from_name(const char *s, size_t len); /* -1 when not a NIR */
int rm_rir_from_name(const char *s, size_t len); /* -1 when not a registry */
int rm_status_from_name(const char *s, size_t len);
/* Report keys, the same in every output: "ripencc:DE" ("ZZ" when the
 * registry recorded no country); the holder "ripencc:ID" (the registry's
 * opaque id, else a name IANA gives), "local:LABEL", or "none".  Like
 * snprintf: the length the key needs, below RM_KEY_MAX for a checked db.
 * Only labels start "local:": a build refuses registry ids that do
 * (loaders.h), and rm_db_check() refuses a "local:" holder on any range
 * whose block is not a label's, so a registry's holder never shares a
 * label's key. */
int rm_key_country(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n);
int rm_key_holder(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n);
/* The NIR key: "apnic:jpnic", "lacnic:nicbr", or "ripencc:" for space under
 * no NIR.  Like snprintf; always below RM_KEY_MAX. */
int rm_key_nir(const struct rm_db *db, const struct rm_attr *a, char *out, size_t n);
/* The holder's display name, "" when none was loaded. */
static inline const char *rm_holder_name(const struct rm_db *db, const struct rm_attr *a);

static inline const char *rm_str(const struct rm_db *db, uint32_t off)
{
	return db->strings + off;
}

static inline const char *rm_holder_name(const struct rm_db *db, const struct rm_attr *a)
{
	return rm_str(db, a->holder_name);
}

/* The name the outputs show beside a holder's key: "" when the key is
 * itself the name (IANA's holders have a name and no id). */
static inline const char *rm_holder_key_name(const struct rm_db *db, const struct rm_attr *a)
{
	return *rm_str(db, a->holder_id) ? rm_holder_name(db, a) : "";
}

/* Keys */
static inline rm_u128 rm_key_get(struct rm_key k)
{
	return ((rm_u128)k.hi << 64) | k.lo;
}

static inline struct rm_key rm_key_make(rm_u128 v)
{
	struct rm_key k = {(uint64_t)(v >> 64), (uint64_t)v};
	return k;
}

rm_u128 rm_v6_from_bytes(const uint8_t b[16]);
void rm_v6_to_bytes(rm_u128 v, uint8_t b[16]);

/*
 * Reference lookups: index of the range holding the key.  Always valid,
 * since the ranges cover the whole space.
 */
uint32_t rm_ref_find4(const struct rm_db *db, uint32_t addr);
uint32_t rm_ref_find6(const struct rm_db *db, rm_u128 addr);
uint32_t rm_ref_findasn(const struct rm_db *db, uint32_t asn);

/* Located layer: the geo id of an address (0 when the db has none). */
uint32_t rm_ref_geo4(const struct rm_db *db, uint32_t addr);
uint32_t rm_ref_geo6(const struct rm_db *db, rm_u128 addr);

/*
 * Holders.  A holder is a (registry, holder id) pair: the extended
 * statistics files give an organisation's AS numbers and its address
 * blocks the same opaque id, so the pair joins them.  rm_attr_is_holder:
 * a is a registry's attribution (not IANA's, nor an operator label's)
 * with a holder id.  rm_holder_cmp orders by registry, then id text (not
 * string offset: a snapshot need not intern its strings).
 */
bool rm_attr_is_holder(const struct rm_db *db, const struct rm_attr *a);
int rm_holder_cmp(const struct rm_db *db, const struct rm_attr *a, const struct rm_attr *b);

/*
 * Whether the origin AS of an address belongs to the holder of its block:
 * RM_ORIGIN_HOLDER when AS asn is delegated to the same holder as
 * attribution attr; RM_ORIGIN_OTHER when it is delegated to another
 * holder (leased, transferred or hijacked space, or a provider announcing
 * a customer's block); RM_ORIGIN_UNKNOWN when there is no origin AS
 * (asn 0), or either side has no holder id to compare (standard files,
 * IANA's space, an AS no extended file delegates).
 */
enum rm_origin { RM_ORIGIN_UNKNOWN, RM_ORIGIN_HOLDER, RM_ORIGIN_OTHER, RM_ORIGIN_COUNT };
enum rm_origin rm_ref_origin(const struct rm_db *db, uint32_t attr, uint32_t asn);
/* Its two steps, for a caller that looks each AS up once: the
 * attribution of AS asn's delegation (UINT32_MAX for asn 0 or a db
 * without AS numbers), and the origin of attribution attr against it. */
uint32_t rm_ref_asn_attr(const struct rm_db *db, uint32_t asn);
enum rm_origin rm_origin_of(const struct rm_db *db, uint32_t attr, uint32_t asn_attr);
/* The name an AS number's row shows: the name of the holder the registry
 * delegated it to (model.h rm_holder_name), "" when it went to no holder
 * or the holder has no name. */
const char *rm_asn_name(const struct rm_db *db, uint32_t asn);
const char *rm_origin_name(enum rm_origin o); /* "unknown", "holder", "other" */

/* Attribution id of an address: what every fast structure must return. */
static inline uint32_t rm_ref_lookup4(const struct rm_db *db, uint32_t addr)
{
	return db->v4.id[rm_ref_find4(db, addr)];
}

static inline uint32_t rm_ref_lookup6(const struct rm_db *db, rm_u128 addr)
{
	return db->v6.id[rm_ref_find6(db, addr)];
}

/*
 * Text forms.  rm_format_block prints the CIDR piece of block b that
 * contains key (registry IPv4 counts need not be powers of two, so a record
 * is a list of CIDR blocks), or the AS range.  Buffers of RM_TEXT_MAX.
 */
#define RM_KEY_TEXT 48
#define RM_TEXT_MAX 100
void rm_format_key(enum rm_family f, rm_u128 key, char *out); /* RM_KEY_TEXT */
void rm_format_block(const struct rm_block *b, rm_u128 key, char *out);
void rm_format_range(const struct rm_block *b, char *out);
/* YYYYMMDD as "YYYY-MM-DD" ("YYYY-MM" when the day is 00; "" for 0). */
void rm_format_date(uint32_t date, char out[16]);

/*
 * Split [first, last] of a width-bit space into CIDR blocks, largest
 * first as the address grows.  Calls fn for each; returns the count.
 */
unsigned rm_range_to_cidrs(rm_u128 first, rm_u128 last, unsigned width,
			   void (*fn)(rm_u128 base, unsigned plen, void *arg), void *arg);

/* The CIDR piece of [first, last] that holds key. */
void rm_cidr_containing(rm_u128 first, rm_u128 last, unsigned width, rm_u128 key, rm_u128 *base,
			unsigned *plen);

/*
 * Consistency check of a db: the invariants above, and the text bounds the
 * outputs rely on: a country code is two letters A-Z or none, holder ids
 * and names are valid UTF-8 of at most RM_HOLDER_TEXT_MAX bytes ("local:"
 * and a label of that length); and a range has a "local:" holder exactly
 * when its block comes from a labels file (the layer decides, not the
 * text).  Returns 0, or -1 with a reason in err.
 * Used on every snapshot that is mapped.
 */
int rm_db_check(const struct rm_db *db, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Building a model in memory (used by the loaders).                   */

struct rm_model;

struct rm_model *rm_model_new(void);
void rm_model_free(struct rm_model *m);
uint32_t rm_model_intern(struct rm_model *m, const char *s, size_t len);
uint32_t rm_model_attr(struct rm_model *m, const struct rm_attr *a);
uint32_t rm_model_block(struct rm_model *m, const struct rm_block *b);
uint32_t rm_model_input(struct rm_model *m, const struct rm_input *in);
struct rm_input *rm_model_input_at(struct rm_model *m, uint32_t i);
const struct rm_block *rm_model_block_at(const struct rm_model *m, uint32_t i);
const struct rm_attr *rm_model_attr_at(const struct rm_model *m, uint32_t i);
const char *rm_model_str(const struct rm_model *m, uint32_t off);
/* Ranges must be appended in key order, the first at key 0. */
void rm_model_add_range(struct rm_model *m, enum rm_family f, rm_u128 start, uint32_t id,
			uint32_t block);
void rm_model_set_build_time(struct rm_model *m, uint64_t unix_seconds);
/* The located layer, finished (ranges from key 0, sorted, geo[0] nothing
 * known): the model takes the malloc'd arrays and frees them. */
void rm_model_set_geo(struct rm_model *m, struct rm_geo *geo, uint32_t n_geo, uint32_t *v4_start,
		      uint32_t *v4_id, uint32_t n4, struct rm_key *v6_start, uint32_t *v6_id,
		      uint32_t n6);
/* A view of the model; valid until the model is changed or freed. */
void rm_model_view(const struct rm_model *m, struct rm_db *db);

#endif
