/*
 * helpers.h - shared by the C unit tests: build a model from texts held in
 * the test, capture the loaders' messages, and look answers up by text.
 */
#ifndef RM_TEST_HELPERS_H
#define RM_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loaders.h"
#include "model.h"
#include "snapshot.h"

struct built {
	struct rm_model *m; /* NULL when the build failed */
	struct rm_db db;
	char *diag; /* everything the loaders printed */
	size_t diag_len;
	struct rl_counts counts;
};

/* Resolve the inputs added to b; the model's view goes into r->db. */
static inline struct built *built_finish(struct built *r, struct rl_build *b, FILE *diag)
{
	r->m = rl_build_finish(b);
	r->counts = *rl_build_counts(b);
	rl_build_free(b);
	fclose(diag);
	if (r->m)
		rm_model_view(r->m, &r->db);
	return r;
}

/*
 * Write db to a snapshot and run check on it as the programs open it: mapped
 * in place, and copied onto huge pages (where vector reads must stop at the
 * padding of the last entry).
 */
static inline void each_snapshot_copy(const struct rm_db *db, const char *tag,
				      void (*check)(const struct rm_snapshot *))
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "/tmp/rm-%s-%ld.snap", tag, (long)getpid());
	assert_int_equal(rm_snapshot_write(db, path, err, sizeof(err)), 0);
	for (unsigned flags = 0; flags <= RM_SNAP_HUGEPAGE; flags++) {
		struct rm_snapshot *s = rm_snapshot_open_flags(path, flags, err, sizeof(err));
		if (!s)
			fail_msg("%s", err);
		check(s);
		rm_snapshot_close(s);
	}
	unlink(path);
}

/* Build from (name, text) pairs ended by NULL. */
static inline struct built *build_texts(int lenient, ...)
{
	struct built *r = calloc(1, sizeof(*r));
	FILE *diag = open_memstream(&r->diag, &r->diag_len);
	struct rl_options o = {.lenient = lenient, .diag = diag, .max_messages = 10000};
	struct rl_build *b = rl_build_new(&o);
	va_list ap;
	va_start(ap, lenient);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (!name)
			break;
		const char *text = va_arg(ap, const char *);
		rl_build_add_buffer(b, name, text, strlen(text));
	}
	va_end(ap);
	return built_finish(r, b, diag);
}

/* A file under the bundled data directory (RM_DATA_DIR, else ./data). */
static inline char *read_data(const char *rel)
{
	const char *d = getenv("RM_DATA_DIR");
	char p[2048];
	snprintf(p, sizeof(p), "%s/%s", d ? d : "data", rel);
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	if (b)
		b[n] = '\0';
	fclose(f);
	return b;
}

/* Build from bundled data files, strictly, named by their path under data/. */
static inline struct built *build_data(const char *const *rels)
{
	struct built *r = calloc(1, sizeof(*r));
	FILE *diag = open_memstream(&r->diag, &r->diag_len);
	struct rl_options o = {.diag = diag, .max_messages = 10000};
	struct rl_build *b = rl_build_new(&o);
	for (; *rels; rels++) {
		char *text = read_data(*rels);
		if (!text)
			fail_msg("bundled data file %s missing", *rels);
		rl_build_add_buffer(b, *rels, text, strlen(text));
		free(text);
	}
	return built_finish(r, b, diag);
}

/* xorshift64: deterministic test data. */
static inline uint64_t test_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Write len bytes to a new file at path. */
static inline void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static inline void built_free(struct built *r)
{
	rm_model_free(r->m);
	free(r->diag);
	free(r);
}

static inline int diag_has(const struct built *r, const char *needle)
{
	return r->diag && strstr(r->diag, needle) != NULL;
}

/* The attribution of an address or "ASn" given as text. */
static inline const struct rm_attr *attr_of(const struct rm_db *db, const char *q)
{
	uint32_t v4, asn;
	rm_u128 v6;
	if (strncmp(q, "AS", 2) == 0 && rl_parse_asn(q, strlen(q), &asn) == 0)
		return &db->attrs[db->asn.id[rm_ref_findasn(db, asn)]];
	if (rl_parse_v4(q, strlen(q), &v4) == 0)
		return &db->attrs[rm_ref_lookup4(db, v4)];
	if (rl_parse_v6(q, strlen(q), &v6) == 0)
		return &db->attrs[rm_ref_lookup6(db, v6)];
	fail_msg("test query '%s' does not parse", q);
	return NULL;
}

static inline const char *rir_of(const struct rm_db *db, const char *q)
{
	return rm_rir_name(attr_of(db, q)->rir);
}

static inline const char *status_of(const struct rm_db *db, const char *q)
{
	return rm_status_name(attr_of(db, q)->status);
}

static inline const char *holder_of(const struct rm_db *db, const char *q)
{
	const struct rm_attr *a = attr_of(db, q);
	return rm_str(db, a->holder_name ? a->holder_name : a->holder_id);
}

static inline void cc_of(const struct rm_db *db, const char *q, char out[3])
{
	const struct rm_attr *a = attr_of(db, q);
	out[0] = a->cc[0];
	out[1] = a->cc[1];
	out[2] = '\0';
}

#define assert_cc(db, q, want)                                                                     \
	do {                                                                                       \
		char cc_[3];                                                                       \
		cc_of((db), (q), cc_);                                                             \
		assert_string_equal(cc_, (want));                                                  \
	} while (0)

#endif
