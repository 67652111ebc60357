/*
 * test_rows.c - the nir scope and holder names through the exporters'
 * rows and formats (dataplane/rows.c, formats.c), on a model built here
 * with NIRs set (no loader needed): nir rows keyed "registry:NIR" per
 * direction, holder rows carrying the holder's name in JSON Lines (not
 * CSV, whose columns stay), and the Prometheus name label cut to
 * RM_PROM_NAME_MAX bytes between characters and escaped; and the flow
 * records' AS numbers through the counters' readings (counters.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "burst.h"
#include "gen.h"
#include "formats.h"
#include "model.h"
#include "rows.h"
#include "snapshot.h"

/* gen_error_names_file asks for more memory than an allocator gives:
 * AddressSanitizer then returns NULL, as malloc does, instead of aborting
 * (as tests/test_grow.c). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* 63 bytes of 'a' then "é" (2 bytes): the cut at 64 falls inside "é". */
#define LONG_NAME "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9 and more"

struct fixture {
	struct rm_model *m;
	struct rm_db db;
	struct rm_reporter r;
	struct rm_counters c;
	struct rm_rows rows; /* of c, under snapshot "s1" */
};

static uint32_t attr(struct rm_model *m, unsigned rir, const char *cc, const char *id,
		     const char *name, unsigned nir)
{
	struct rm_attr a = {.rir = (uint8_t)rir, .status = RM_ST_ALLOCATED, .nir = (uint8_t)nir};
	if (cc)
		memcpy(a.cc, cc, 2);
	a.holder_id = rm_model_intern(m, id, strlen(id));
	a.holder_name = rm_model_intern(m, name, strlen(name));
	a.name_source = *name ? RM_NAME_CSV : RM_NAME_NONE;
	return rm_model_attr(m, &a);
}

/* Ids: 0 unknown; 1, 2 one JPNIC holder in two countries; 3 a KRNIC
 * holder with quotes and a backslash in its name; 4 a NIC.br holder with a
 * long name; 5 APNIC space under no NIR, no name. */
static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->m = rm_model_new();
	struct rm_attr unknown = {0};
	assert_int_equal(rm_model_attr(f->m, &unknown), 0);
	assert_int_equal(attr(f->m, RM_RIR_APNIC, "JP", "A91A", "Example \xe6\x97\xa5\xe6\x9c\xac",
			      RM_NIR_JPNIC),
			 1);
	assert_int_equal(attr(f->m, RM_RIR_APNIC, "US", "A91A", "Example \xe6\x97\xa5\xe6\x9c\xac",
			      RM_NIR_JPNIC),
			 2);
	assert_int_equal(
	    attr(f->m, RM_RIR_APNIC, "KR", "A92B", "Say \"hi\" \\ there", RM_NIR_KRNIC), 3);
	assert_int_equal(attr(f->m, RM_RIR_LACNIC, "BR", "BR-XY", LONG_NAME, RM_NIR_NICBR), 4);
	assert_int_equal(attr(f->m, RM_RIR_APNIC, "AU", "A93C", "", RM_NIR_NONE), 5);
	rm_model_add_range(f->m, RM_V4, 0, 0, RM_NO_BLOCK);
	rm_model_add_range(f->m, RM_V6, 0, 0, RM_NO_BLOCK);
	rm_model_add_range(f->m, RM_ASN, 0, 0, RM_NO_BLOCK);
	rm_model_view(f->m, &f->db);
	assert_int_equal(rm_reporter_init(&f->r, &f->db), 0);
	assert_int_equal(rm_counters_init(&f->c, f->db.n_attrs, 0, 1), 0);
	/* src id i: i packets of 100 bytes; dst always id 5. */
	for (uint32_t i = 1; i <= 5; i++) {
		f->c.by_id[RM_SRC][i] = (struct rm_cell){i, 100 * i};
		f->c.by_id[RM_DST][5].pkts += i;
		f->c.by_id[RM_DST][5].bytes += 100 * i;
	}
	rm_rows_of(&f->r, &f->c, "s1", &f->rows);
	return f;
}

static void teardown(struct fixture *f)
{
	rm_rows_free(&f->rows);
	rm_counters_free(&f->c);
	rm_reporter_free(&f->r);
	rm_model_free(f->m);
	free(f);
}

static const struct rm_row *find(const struct rm_rows *rs, const char *scope, const char *dir,
				 const char *key)
{
	for (uint32_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].scope, scope) == 0 && rs->v[i].dir &&
		    strcmp(rs->v[i].dir, dir) == 0 && strcmp(rs->v[i].key, key) == 0)
			return &rs->v[i];
	return NULL;
}

/* The fixture's rows copied (as a reload's totals are) and compacted. */
static struct rm_rows copy_of(const struct fixture *f)
{
	struct rm_rows copy = {0};
	rm_rows_append(&copy, &f->rows);
	rm_rows_compact(&copy);
	return copy;
}

static void nir_rows(void **state)
{
	(void)state;
	struct fixture *f = setup();
	struct rm_rows rs = copy_of(f);
	const struct rm_row *w = find(&rs, "nir", "src", "apnic:jpnic");
	assert_non_null(w);
	assert_int_equal(w->packets, 3); /* ids 1 and 2: one NIR, two countries */
	assert_int_equal(w->bytes, 300);
	assert_int_equal(find(&rs, "nir", "src", "apnic:krnic")->packets, 3);
	assert_int_equal(find(&rs, "nir", "src", "lacnic:nicbr")->packets, 4);
	assert_int_equal(find(&rs, "nir", "src", "apnic:")->packets, 5);
	assert_int_equal(find(&rs, "nir", "dst", "apnic:")->packets, 15);
	assert_null(find(&rs, "nir", "dst", "apnic:jpnic")); /* no traffic, no row */
	/* nir rows come between country and holder. */
	int seen_country = 0, seen_holder_before = 0;
	for (uint32_t i = 0; i < rs.n; i++) {
		if (strcmp(rs.v[i].scope, "country") == 0)
			seen_country = 1;
		if (strcmp(rs.v[i].scope, "nir") == 0 && !seen_country)
			fail_msg("nir row before the country rows");
		if (strcmp(rs.v[i].scope, "holder") == 0)
			seen_holder_before = 1;
		if (strcmp(rs.v[i].scope, "nir") == 0 && seen_holder_before)
			fail_msg("nir row after a holder row");
	}
	rm_rows_free(&rs);
	teardown(f);
}

static void holder_names(void **state)
{
	(void)state;
	struct fixture *f = setup();
	struct rm_rows copy = copy_of(f); /* names survive a copy */
	const struct rm_row *w = find(&copy, "holder", "src", "apnic:A91A");
	assert_non_null(w);
	assert_int_equal(w->packets, 3);
	assert_string_equal(w->name, "Example \xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(find(&copy, "holder", "src", "apnic:A93C")->name, "");
	assert_string_equal(find(&copy, "holder", "src", "lacnic:BR-XY")->name, LONG_NAME);
	assert_string_equal(find(&copy, "country", "src", "apnic:JP")->name, "");
	rm_rows_free(&copy);
	teardown(f);
}

/* Names are interned: one copy per distinct name, cut to
 * RM_HOLDER_TEXT_MAX bytes between characters, valid after the snapshot
 * (here the model) it came from is gone. */
static void interned_names(void **state)
{
	(void)state;
	struct fixture *f = setup();
	struct rm_rows copy = copy_of(f);
	const struct rm_row *w = find(&copy, "holder", "src", "apnic:A91A");
	assert_ptr_equal(w->name, rm_name_intern("Example \xe6\x97\xa5\xe6\x9c\xac"));
	teardown(f);
	assert_string_equal(w->name, "Example \xe6\x97\xa5\xe6\x9c\xac");
	rm_rows_free(&copy);
	char long_name[RM_HOLDER_TEXT_MAX + 8];
	memset(long_name, 'x', RM_HOLDER_TEXT_MAX - 1);
	memcpy(long_name + RM_HOLDER_TEXT_MAX - 1, "\xc3\xa9yz", 5); /* é across the end */
	const char *n = rm_name_intern(long_name);
	assert_int_equal(strlen(n), RM_HOLDER_TEXT_MAX - 1);
	assert_ptr_equal(rm_name_intern(""), rm_name_intern(""));
	assert_string_equal(rm_name_intern(""), "");
	/* Many names: the pool grows and keeps each one. */
	const char *first = rm_name_intern("name 0");
	for (int i = 0; i < 5000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "name %d", i);
		assert_string_equal(rm_name_intern(s), s);
	}
	assert_ptr_equal(rm_name_intern("name 0"), first);
}

/* A name changed between two snapshots: the merged row keeps one, the same
 * whichever order the rows came in. */
static void renamed_holder(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		struct rm_rows rs = {0};
		const char *names[2] = {"New Name", "Old Name"};
		for (int k = 0; k < 2; k++) {
			rm_rows_push(&rs, "", "holder", "src", "apnic:A91A", 1, 10, 1);
			rm_rows_name_last(&rs, names[k ^ order]);
		}
		rm_rows_push(&rs, "", "holder", "src", "apnic:A91A", 1, 10, 1); /* unnamed */
		rm_rows_compact(&rs);
		assert_int_equal(rs.n, 1);
		assert_int_equal(rs.v[0].packets, 3);
		assert_string_equal(rs.v[0].name, "New Name");
		rm_rows_free(&rs);
	}
}

/* The text an output function writes. */
static char *json_csv(const struct rm_rows *rs, int csv, unsigned top)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	assert_non_null(o);
	struct rm_outputs out = {csv ? NULL : o, csv ? o : NULL, NULL, top};
	assert_int_equal(rm_write_rows(&out, rs, NULL, 0, "s1", 1700000000.0, 10, true), 0);
	assert_int_equal(fclose(o), 0);
	return text;
}

static void json_and_csv(void **state)
{
	(void)state;
	struct fixture *f = setup();
	char *js = json_csv(&f->rows, 0, 100);
	assert_non_null(strstr(js, "\"scope\":\"nir\",\"dir\":\"src\",\"key\":\"apnic:jpnic\","
				   "\"packets\":3,\"bytes\":300}\n"));
	assert_non_null(strstr(js, "\"key\":\"apnic:A92B\",\"packets\":3,\"bytes\":300,"
				   "\"name\":\"Say \\\"hi\\\" \\\\ there\"}\n"));
	assert_non_null(strstr(js, "\"key\":\"lacnic:BR-XY\",\"packets\":4,\"bytes\":400,"
				   "\"name\":\"" LONG_NAME "\"}\n"));
	/* An unnamed holder's line has no name field at all. */
	assert_non_null(strstr(js, "\"key\":\"apnic:A93C\",\"packets\":5,\"bytes\":500}\n"));
	free(js);
	/* CSV: the same rows, the columns of before (no name). */
	char *csv = json_csv(&f->rows, 1, 100);
	assert_non_null(strstr(csv, ",total,s1,nir,src,apnic:jpnic,3,300\n"));
	assert_non_null(strstr(csv, ",total,s1,holder,src,apnic:A92B,3,300\n"));
	assert_null(strstr(csv, "Say"));
	free(csv);
	/* The rest beyond the top holders is "other", with no name. */
	js = json_csv(&f->rows, 0, 1);
	assert_non_null(strstr(js, "\"key\":\"other\",\"packets\":10,\"bytes\":1000}\n"));
	free(js);
	teardown(f);
}

/* The exposition of rows (top 100 holders). */
static char *prom(const struct rm_rows *rs)
{
	struct rm_outputs out = {NULL, NULL, NULL, 100};
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(rm_render_prom(&out, rs, NULL, 0, "s1", "in", &text, &len), 0);
	return text;
}

static void prometheus(void **state)
{
	(void)state;
	struct fixture *f = setup();
	char *text = prom(&f->rows);
	assert_non_null(strstr(text, "# TYPE rirmeter_nir_packets_total counter\n"));
	assert_non_null(strstr(
	    text, "rirmeter_nir_packets_total{direction=\"src\",rir=\"apnic\",nir=\"jpnic\"} 3\n"));
	assert_non_null(strstr(
	    text, "rirmeter_nir_bytes_total{direction=\"dst\",rir=\"apnic\",nir=\"\"} 1500\n"));
	assert_non_null(strstr(text,
			       "rirmeter_holder_packets_total{direction=\"src\",holder=\"apnic:"
			       "A92B\",name=\"Say \\\"hi\\\" \\\\ there\"} 3\n"));
	assert_non_null(strstr(text,
			       "rirmeter_holder_packets_total{direction=\"src\",holder=\"apnic:"
			       "A91A\",name=\"Example \xe6\x97\xa5\xe6\x9c\xac\"} 3\n"));
	/* 64 bytes would end inside "é": the label stops before it. */
	assert_non_null(strstr(text,
			       "holder=\"lacnic:BR-XY\",name=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} 4\n"));
	assert_non_null(strstr(
	    text, "rirmeter_holder_packets_total{direction=\"src\",holder=\"apnic:A93C\"} 5\n"));
	free(text);
	teardown(f);
}

/* A cut that lands exactly after a whole character keeps it. */
static void prometheus_cut_on_boundary(void **state)
{
	(void)state;
	struct rm_rows rs = {0};
	/* 62 bytes of 'b' then "é": 64 bytes exactly, then more. */
	const char *name =
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\xc3\xa9zz";
	rm_rows_push(&rs, "s1", "holder", "dst", "ripencc:ORG-X", 7, 70, 1);
	rm_rows_name_last(&rs, name);
	char *text = prom(&rs);
	assert_non_null(strstr(text,
			       "holder=\"ripencc:ORG-X\",name=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\xc3\xa9\"} 7\n"));
	free(text);
	rm_rows_free(&rs);
}

/* Add n packets of one byte to AS asn of a worker block's source table
 * (or its full cell), as rm_burst_flow_located does. */
static void count_as(struct rm_counters *w, uint32_t asn, uint64_t n)
{
	struct rm_cell *cell = rm_as_cell(w->rec_as[RM_SRC], asn);
	if (!cell)
		cell = &w->rec_as_full[RM_SRC];
	cell->pkts += n;
	cell->bytes += n;
}

/* The packets of AS asn in direction d of a reading (its table, or 0). */
static uint64_t as_pkts_dir(const struct rm_counters *c, int d, uint32_t asn)
{
	const struct rm_cell *cell = rm_as_find(c->rec_as[d], asn);
	return cell ? cell->pkts : 0;
}

/* The packets of AS asn in a reading (its table, or 0), and in all. */
static uint64_t as_pkts(const struct rm_counters *c, uint32_t asn)
{
	const struct rm_cell *cell = rm_as_find(c->rec_as[RM_SRC], asn);
	return cell ? cell->pkts : 0;
}

static uint64_t as_total(const struct rm_counters *c)
{
	const struct rm_as_cells *t = c->rec_as[RM_SRC];
	uint64_t n = c->rec_as_full[RM_SRC].pkts;
	for (uint32_t i = 0; i <= t->mask; i++)
		n += t->asn[i] ? t->cell[i].pkts : 0;
	return n;
}

/*
 * The flow records' own AS numbers through two workers' tables and the
 * readings the main lcore takes (rm_counters_add into a reading, then
 * rm_counters_sub of two readings): a worker's table full past
 * RM_AS_CELLS_MAX numbers counts the rest in its full cell, the readings
 * (sized for both workers) never fill, and an interval is exactly what
 * was counted in it, per AS and in all, when the two workers' numbers
 * together are more than one table holds.
 */
static void record_as_readings(void **state)
{
	(void)state;
	rm_counters_record_as(true);
	struct rm_counters w[2], prev, cum, delta;
	for (int i = 0; i < 2; i++)
		assert_int_equal(rm_counters_init(&w[i], 4, 8, 1), 0);
	assert_int_equal(rm_counters_init(&prev, 4, 8, 2), 0);
	assert_int_equal(rm_counters_init(&cum, 4, 8, 2), 0);
	assert_int_equal(rm_counters_init(&delta, 4, 8, 2), 0);
	/* Worker 1: RM_AS_CELLS_MAX numbers of 10 packets, then 5 more
	 * numbers that find its table full. */
	for (uint32_t a = 1; a <= RM_AS_CELLS_MAX + 5; a++)
		count_as(&w[1], 100000 + a, 10);
	assert_int_equal(w[1].rec_as_full[RM_SRC].pkts, 50);
	for (int i = 0; i < 2; i++)
		rm_counters_add(&cum, &w[i]);
	rm_counters_copy(&prev, &cum);
	assert_int_equal(as_total(&prev), 10 * (RM_AS_CELLS_MAX + 5));
	/* Worker 0: 1,000 new numbers of 1 packet and one of worker 1's. */
	for (uint32_t a = 1; a <= 1000; a++)
		count_as(&w[0], 500000 + a, 1);
	count_as(&w[0], 100001, 7);
	rm_counters_zero(&cum);
	for (int i = 0; i < 2; i++)
		rm_counters_add(&cum, &w[i]);
	rm_counters_sub(&delta, &cum, &prev);
	assert_int_equal(as_total(&delta), 1007);
	assert_int_equal(as_pkts(&delta, 500001), 1);
	assert_int_equal(as_pkts(&delta, 100001), 7);
	assert_int_equal(as_pkts(&delta, 100002), 0);
	assert_int_equal(as_pkts(&cum, 100001), 17);
	assert_int_equal(delta.rec_as_full[RM_SRC].pkts, 0);
	for (int i = 0; i < 2; i++)
		rm_counters_free(&w[i]);
	rm_counters_free(&prev);
	rm_counters_free(&cum);
	rm_counters_free(&delta);
	rm_counters_record_as(false);
}

/* A flow record's AS_TRANS (23456, RFC 6793: what a 2-byte AS field of
 * NetFlow v5 or IPFIX carries for any 4-byte AS) names no origin: the
 * address counts by the database's AS, as a 0 does, not as AS23456. */
static void record_as_trans(void **state)
{
	(void)state;
	rm_counters_record_as(true);
	struct rm_counters c;
	assert_int_equal(rm_counters_init(&c, 4, 8, 1), 0);
	const uint32_t as[2] = {23456, 64500}, loc[2] = {3, 5};
	const uint64_t pkts[1] = {2}, bytes[1] = {200};
	rm_burst_flow_located(&c, as, loc, 1, pkts, bytes);
	assert_null(rm_as_find(c.rec_as[RM_SRC], 23456));
	assert_int_equal(c.by_loc[RM_SRC][3].pkts, 2);
	assert_int_equal(c.by_loc_rec[RM_SRC][3].pkts, 0);
	assert_int_equal(as_pkts_dir(&c, RM_DST, 64500), 2);
	assert_int_equal(c.asn_database, 1);
	assert_int_equal(c.asn_record, 1);
	rm_counters_free(&c);
	rm_counters_record_as(false);
}

/* inner_holder rows (--tunnels both) carry the holder's name as holder
 * rows do. */
static void inner_holder_names(void **state)
{
	(void)state;
	struct fixture *f = setup();
	for (int d = 0; d < RM_DIRS; d++)
		f->c.inner_by_id[d] = calloc(f->db.n_attrs, sizeof(struct rm_cell));
	f->c.inner_by_id[RM_SRC][3] = (struct rm_cell){2, 200};
	struct rm_rows rs = {0};
	rm_rows_of(&f->r, &f->c, "s1", &rs);
	const struct rm_row *w = find(&rs, "inner_holder", "src", "apnic:A92B");
	assert_non_null(w);
	assert_int_equal(w->packets, 2);
	assert_string_equal(w->name, "Say \"hi\" \\ there");
	rm_rows_free(&rs);
	teardown(f);
}

/* The inner scopes (--tunnels both) sort as scopes of their own: their
 * rows are not interleaved by key, so each top scope is cut once, and
 * rows of two scopes are never summed as one. */
static void inner_scopes_apart(void **state)
{
	(void)state;
	struct rm_rows rs = {0}, out = {0};
	rm_rows_push(&rs, "s1", "inner_holder", "src", "afrinic:A1", 1, 10, 1);
	rm_rows_push(&rs, "s1", "inner_country", "src", "afrinic:ZA", 1, 10, 1);
	rm_rows_push(&rs, "s1", "inner_holder", "src", "arin:B1", 1, 20, 1);
	rm_rows_push(&rs, "s1", "inner_country", "src", "arin:US", 1, 10, 1);
	rm_rows_push(&rs, "s1", "inner_holder", "src", "ripencc:C1", 1, 30, 1);
	rm_rows_push(&rs, "s1", "inner_holder", "src", "ripencc:DE", 1, 5, 1);
	rm_rows_push(&rs, "s1", "inner_country", "src", "ripencc:DE", 1, 7, 1);
	rm_rows_push(&rs, "s1", "tunnel", NULL, "gre", 2, 60, 1);
	rm_rows_push(&rs, "s1", "inner_rir_pair", NULL, "afrinic>arin", 1, 10, 1);
	rm_rows_push(&rs, "s1", "inner_rir_pair", NULL, "ripencc>arin", 1, 10, 1);
	struct rm_outputs o = {NULL, NULL, NULL, 1};
	rm_rows_finish(&o, &rs, NULL, 0, "", &out);
	unsigned holders = 0, others = 0, countries = 0;
	for (uint32_t i = 0; i < out.n; i++) {
		const struct rm_row *w = &out.v[i];
		if (strcmp(w->scope, "inner_holder") == 0) {
			holders++;
			others += strcmp(w->key, "other") == 0;
		}
		if (strcmp(w->scope, "inner_country") == 0) {
			countries++;
			if (strcmp(w->key, "ripencc:DE") == 0)
				assert_int_equal(w->bytes, 7);
		}
		/* Each scope's rows together. */
		if (i && strcmp(out.v[i - 1].scope, w->scope) != 0)
			for (uint32_t k = i + 1; k < out.n; k++)
				assert_string_not_equal(out.v[k].scope, out.v[i - 1].scope);
	}
	assert_int_equal(holders, 2); /* the top one and one "other" */
	assert_int_equal(others, 1);
	assert_int_equal(countries, 3);
	rm_rows_free(&rs);
	rm_rows_free(&out);
}

/* A generation's inputs label (gen.c) lists whole "registry:serial"
 * entries: one that does not fit in what is left is left out, not cut, so
 * that a serial is never shown shortened as if it were another. */
static void gen_inputs_whole_entries(void **state)
{
	(void)state;
	struct fixture *f = setup();
	char serial[400];
	memset(serial, '7', sizeof(serial) - 1);
	serial[sizeof(serial) - 1] = '\0';
	const unsigned rirs[2] = {RM_RIR_APNIC, RM_RIR_ARIN};
	for (int k = 0; k < 2; k++) {
		struct rm_input in = {.kind = RM_IN_STATS, .rir = rirs[k]};
		in.name = rm_model_intern(f->m, "delegated", 9);
		in.serial = rm_model_intern(f->m, serial, sizeof(serial) - 1 - (size_t)k);
		rm_model_input(f->m, &in);
	}
	struct rm_db db;
	rm_model_view(f->m, &db);
	char path[64], err[512];
	snprintf(path, sizeof(path), "/tmp/rm-test-gen-%ld", (long)getpid());
	assert_int_equal(rm_snapshot_write(&db, path, err, sizeof(err)), 0);
	struct rm_gen *g = rm_gen_open(path, 1, 0, err, sizeof(err));
	unlink(path);
	assert_non_null(g);
	/* The first entry fits (6 + 1 + 399 bytes); the second does not. */
	char want[512];
	snprintf(want, sizeof(want), "apnic:%s", serial);
	assert_string_equal(g->inputs, want);
	rm_gen_free(g);
	teardown(f);
}

/* A generation that cannot be set up says which file it was for: a
 * reload refused every interval is otherwise a reason with no name.  Out
 * of memory is forced by asking for more workers' counters than any
 * machine holds (about 10 TB); skipped where memory is overcommitted
 * without limit, as such a request could then succeed. */
static void gen_error_names_file(void **state)
{
	(void)state;
	FILE *oc = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = oc ? fgetc(oc) : '0';
	if (oc)
		fclose(oc);
	if (mode == '1')
		skip();
	struct fixture *f = setup();
	char path[64], err[512];
	snprintf(path, sizeof(path), "/tmp/rm-test-gen-oom-%ld", (long)getpid());
	assert_int_equal(rm_snapshot_write(&f->db, path, err, sizeof(err)), 0);
	struct rm_gen *g = rm_gen_open(path, UINT32_MAX, 0, err, sizeof(err));
	unlink(path);
	assert_null(g);
	char want[128];
	snprintf(want, sizeof(want), "%s: out of memory", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, want);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nir_rows),
	    cmocka_unit_test(holder_names),
	    cmocka_unit_test(renamed_holder),
	    cmocka_unit_test(interned_names),
	    cmocka_unit_test(json_and_csv),
	    cmocka_unit_test(prometheus),
	    cmocka_unit_test(prometheus_cut_on_boundary),
	    cmocka_unit_test(record_as_readings),
	    cmocka_unit_test(record_as_trans),
	    cmocka_unit_test(inner_scopes_apart),
	    cmocka_unit_test(inner_holder_names),
	    cmocka_unit_test(gen_inputs_whole_entries),
	    cmocka_unit_test(gen_error_names_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
