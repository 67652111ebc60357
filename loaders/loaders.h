/*
 * loaders.h - turn registry files into the normalized model.
 *
 * A build takes any number of input files, recognizes each by its content
 * (never by its name), parses it into claims ("this range belongs to this
 * registry/country/holder, says file F at line L"), and at the end resolves
 * the claims into the model of lookup/model.h.
 *
 * Precedence, from weakest to strongest:
 *   1. IANA's designations (ipv4-address-space, ipv6-unicast-assignments)
 *   2. registry records; between registries the newer file (header end
 *      date) wins and the overlap is reported with both sources; of several
 *      files of one registry only the newest is used
 *   3. IANA special-purpose registries (most specific row wins)
 *   4. operator labels, most specific wins; they keep the registry's rir,
 *      country and status and set the holder to "local:LABEL"
 * Holder names are joined to the registry records' holders on the blocks
 * (RPSL whois objects of exactly a record's range), through AS numbers
 * (asn.txt, location.db) or by id (the operator's registry,holder_id,name
 * CSV); NIRs come from NIR account ids and NIC.br's blocks (names.c says
 * how).  IPFire's location database also gives the located layer: per
 * network its country and origin AS (geo.c), apart from the attribution.
 * Any input may be gzip'd.
 *
 * Text that reaches the outputs, labels, holder ids and names from every
 * input (registry ids, RPSL and CSV names, IANA's names), must be valid
 * UTF-8 of at most RM_HOLDER_TEXT_MAX bytes (labels: printable too), else
 * the line is malformed: a report key is then never cut inside a
 * character, and JSON and Prometheus outputs never see an invalid byte.
 * A registry's holder id must not start "local:", which is the labels'
 * key space (model.h): so a registry cannot pose as an operator label.
 *
 * Malformed input is reported as "FILE:LINE: reason".  Strict mode (the
 * default) fails the build on any such error; lenient mode skips the line
 * and counts it.  Overlapping records within one file are a data error
 * naming both lines and the one that wins; lenient mode keeps both (it
 * skips neither), the later line winning where they overlap.
 */
#ifndef RL_LOADERS_H
#define RL_LOADERS_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

struct rl_options {
	bool lenient;	       /* skip malformed lines instead of failing */
	FILE *diag;	       /* where messages go; stderr when NULL */
	unsigned max_messages; /* per build, then only counted; 0 = 200 */
};

struct rl_counts {
	unsigned errors;    /* malformed lines and data errors */
	unsigned skipped;   /* of those, lines skipped in lenient mode */
	unsigned conflicts; /* overlaps between files, resolved by precedence */
	unsigned notices;   /* superseded files and similar */
	unsigned records;   /* records accepted */
};

struct rl_build;

struct rl_build *rl_build_new(const struct rl_options *opt);
void rl_build_free(struct rl_build *b);

/* Read one file; -1 when it cannot be read (out of memory, or 4 GiB or
 * larger, included) or its format is unknown. */
int rl_build_add_file(struct rl_build *b, const char *path);
/* The same, the input named `name` in messages and provenance (a file
 * downloaded to a temporary name, known by the name it will have). */
int rl_build_add_file_as(struct rl_build *b, const char *path, const char *name);
/* Same for a buffer already in memory (tests, fuzzing); name is for messages. */
int rl_build_add_buffer(struct rl_build *b, const char *name, const char *data, size_t len);

/*
 * Resolve all claims.  Returns the model, or NULL when strict mode saw
 * errors.  The caller frees the model with rm_model_free.
 */
struct rm_model *rl_build_finish(struct rl_build *b);

const struct rl_counts *rl_build_counts(const struct rl_build *b);

/* Format detection, exposed for tests: enum rm_input_kind or -1. */
int rl_detect(const char *data, size_t len);

/* Address text parsing (text.c), shared by the loaders, scan/ and rirdb
 * lookup. */
int rl_parse_v4(const char *s, size_t len, uint32_t *out);
int rl_parse_v6(const char *s, size_t len, rm_u128 *out);
/* The same in network byte order. */
int rl_parse_v6_bytes(const char *s, size_t len, uint8_t b[16]);
/* "a.b.c.d/n" or "x::/n"; family set to RM_V4 or RM_V6; host bits must be 0. */
int rl_parse_prefix(const char *s, size_t len, unsigned *family, rm_u128 *first, rm_u128 *last,
		    unsigned *plen, const char **why);
/* "AS3333", "as3333", "3333", or asdot "1.10" */
int rl_parse_asn(const char *s, size_t len, uint32_t *out);

#endif
