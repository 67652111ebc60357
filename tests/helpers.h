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

#include <cmocka.h>

#include "loaders.h"
#include "model.h"

struct built {
	struct rm_model *m; /* NULL when the build failed */
	struct rm_db db;
	char *diag; /* everything the loaders printed */
	size_t diag_len;
	struct rl_counts counts;
};

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
	r->m = rl_build_finish(b);
	r->counts = *rl_build_counts(b);
	rl_build_free(b);
	fclose(diag);
	if (r->m)
		rm_model_view(r->m, &r->db);
	return r;
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
