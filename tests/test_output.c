/*
 * test_output.c - common/output.c: the atomic file writer (symlinks beside
 * or at the target are not followed, the mode is set, an abort leaves the
 * old file), "-" as standard output, the RFC 3339 times, and the text
 * helpers: UTF-8 checks and cuts, display text, JSON strings and CSV cells
 * (control characters, bidirectional controls, invalid bytes, formula
 * prefixes), and the record
 * reader's cut of a long field.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"
#include "record.h"

/* A fresh directory per test, removed with what is in it afterwards. */
static int make_dir(void **state)
{
	char *d = strdup("/tmp/rm_test_output.XXXXXX");
	if (!d || !mkdtemp(d))
		return -1;
	*state = d;
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	int rc = system(cmd);
	free(*state);
	return rc == 0 ? 0 : -1;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The whole of a small file, "" when it cannot be read. */
static const char *file_text(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* Entries in dir (not . and ..). */
static int entries(const char *dir)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void commit_replaces_with_mode(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], err[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/out.txt", d);
	put_file(path, "old\n");
	mode_t um = umask(077); /* the mode asked for wins over the umask */
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0640, err, sizeof(err)), 0);
	umask(um);
	fputs("new\n", a.f);
	assert_string_equal(file_text(path), "old\n"); /* nothing visible before commit */
	assert_int_equal(rm_atomic_commit(&a, err, sizeof(err)), 0);
	assert_string_equal(file_text(path), "new\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(entries(d), 1); /* no temporary file left */

	assert_int_equal(rm_atomic_open(&a, path, 0, err, sizeof(err)), 0);
	assert_int_equal(rm_atomic_commit(&a, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* 0: the default */
	assert_int_equal(st.st_size, 0);
}

static void abort_keeps_old(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], err[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/out.txt", d);
	put_file(path, "old\n");
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0644, err, sizeof(err)), 0);
	fputs("half of a new", a.f);
	fflush(a.f);
	rm_atomic_abort(&a);
	rm_atomic_abort(&a); /* twice is harmless */
	assert_string_equal(file_text(path), "old\n");
	assert_int_equal(entries(d), 1);
}

/* Links planted where a writer with a guessable name (PATH.tmp.PID) would
 * create its file: their targets stay as they were. */
static void planted_temp_links_not_followed(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], victim[PATH_MAX], link[PATH_MAX + 64], err[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/out.txt", d);
	snprintf(victim, sizeof(victim), "%s/victim", d);
	put_file(victim, "precious\n");
	snprintf(link, sizeof(link), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(symlink(victim, link), 0);
	snprintf(link, sizeof(link), "%s.tmp", path);
	assert_int_equal(symlink(victim, link), 0);
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0644, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(lstat(a.tmp, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* a file of its own, not a link */
	fputs("new\n", a.f);
	assert_int_equal(rm_atomic_commit(&a, err, sizeof(err)), 0);
	assert_string_equal(file_text(victim), "precious\n");
	assert_string_equal(file_text(path), "new\n");
}

/* A symlink at the target is replaced, not written through. */
static void target_link_not_followed(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], victim[PATH_MAX], err[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/out.txt", d);
	snprintf(victim, sizeof(victim), "%s/victim", d);
	put_file(victim, "precious\n");
	assert_int_equal(symlink(victim, path), 0);
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0644, err, sizeof(err)), 0);
	fputs("new\n", a.f);
	assert_int_equal(rm_atomic_commit(&a, err, sizeof(err)), 0);
	assert_string_equal(file_text(victim), "precious\n");
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(file_text(path), "new\n");
}

static void open_fails_cleanly(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], err[PATH_MAX + 128] = "";
	snprintf(path, sizeof(path), "%s/no/such/dir/out.txt", d);
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0644, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, path));
	rm_atomic_abort(&a); /* closed already: harmless */
	assert_int_equal(entries(d), 0);
}

/* A rename that cannot happen (a directory at the target): -1, the
 * temporary file removed. */
static void commit_fails_cleanly(void **state)
{
	const char *d = *state;
	char path[PATH_MAX], inner[PATH_MAX + 8], err[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/out", d);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(inner, sizeof(inner), "%s/x", path);
	put_file(inner, "x"); /* not empty: rename() over it fails */
	struct rm_atomic_file a;
	assert_int_equal(rm_atomic_open(&a, path, 0644, err, sizeof(err)), 0);
	fputs("new\n", a.f);
	assert_int_equal(rm_atomic_commit(&a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(entries(d), 1);
}

static void dash_is_stdout(void **state)
{
	const char *d = *state;
	char path[PATH_MAX];
	assert_ptr_equal(rm_open_output("-"), stdout);
	assert_int_equal(rm_close_output(stdout), 0);
	assert_int_equal(fcntl(STDOUT_FILENO, F_GETFD), 0); /* still open */
	snprintf(path, sizeof(path), "%s/plain.txt", d);
	FILE *f = rm_open_output(path);
	assert_non_null(f);
	fputs("x\n", f);
	assert_int_equal(rm_close_output(f), 0);
	assert_string_equal(file_text(path), "x\n");
	snprintf(path, sizeof(path), "%s/no/plain.txt", d);
	assert_null(rm_open_output(path));
}

/* Appending: created when missing, a cut last line completed, fresh only
 * for a file nothing was written to. */
static void append_completes_lines(void **state)
{
	const char *d = *state;
	char path[PATH_MAX];
	int fresh = -1;
	assert_ptr_equal(rm_open_append("-", &fresh), stdout);
	assert_int_equal(fresh, 1);
	snprintf(path, sizeof(path), "%s/a.jsonl", d);
	FILE *f = rm_open_append(path, &fresh);
	assert_non_null(f);
	assert_int_equal(fresh, 1);
	fputs("one\ntwo-cut", f);
	assert_int_equal(rm_close_output(f), 0);
	f = rm_open_append(path, &fresh);
	assert_non_null(f);
	assert_int_equal(fresh, 0);
	fputs("three\n", f);
	assert_int_equal(rm_close_output(f), 0);
	assert_string_equal(file_text(path), "one\ntwo-cut\nthree\n");
	f = rm_open_append(path, &fresh); /* ends in a newline: nothing added */
	assert_non_null(f);
	assert_int_equal(rm_close_output(f), 0);
	assert_string_equal(file_text(path), "one\ntwo-cut\nthree\n");
	put_file(path, "");
	f = rm_open_append(path, &fresh);
	assert_non_null(f);
	assert_int_equal(fresh, 1); /* empty counts as new: the header is due */
	assert_int_equal(rm_close_output(f), 0);
	snprintf(path, sizeof(path), "%s/no/a.jsonl", d);
	assert_null(rm_open_append(path, &fresh));
}

static void rfc3339(void **state)
{
	(void)state;
	char t[RM_RFC3339_LEN];
	rm_rfc3339(t, 1714564800.25, 1);
	assert_string_equal(t, "2024-05-01T12:00:00.250Z");
	rm_rfc3339(t, 1714564800.9999, 1);
	assert_string_equal(t, "2024-05-01T12:00:00.999Z"); /* cut, not rounded */
	rm_rfc3339(t, 1714564800, 0);
	assert_string_equal(t, "2024-05-01T12:00:00Z");
}

/* Counts for people: a value that rounds up to 1000 of a prefix is 1.0 of
 * the next one ("1000.0k" read as a thousand kilo, and took the column's
 * room). */
static void si_prefixes(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {0, "0"},
	    {999, "999"},
	    {999.7, "1.0k"},
	    {1000, "1.0k"},
	    {1234, "1.2k"},
	    {999949, "999.9k"},
	    {999999, "1.0M"},
	    {1e6, "1.0M"},
	    {999999999, "1.0G"},
	    {999999999999, "1.0T"},
	    {1e18, "1000.0P"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];
		rm_si_format(out, sizeof(out), cases[i].v, "");
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%.0f: got \"%s\", want \"%s\"", cases[i].v, out, cases[i].want);
	}
	char out[32];
	rm_si_format(out, sizeof(out), 999999, " ");
	assert_string_equal(out, "1.0 M");
}

/* What f writes for s, into out. */
static void written(void (*f)(FILE *, const char *), const char *s, char *out, size_t n)
{
	FILE *m = fmemopen(out, n, "w");
	assert_non_null(m);
	f(m, s);
	fclose(m);
}

static void utf8(void **state)
{
	(void)state;
	unsigned cp;
	assert_int_equal(rm_utf8_char("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(rm_utf8_char("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(rm_utf8_char("\xc3\xa9", 1, &cp), 0);	       /* cut */
	assert_int_equal(rm_utf8_char("\xc0\xaf", 2, &cp), 0);	       /* overlong */
	assert_int_equal(rm_utf8_char("\xe0\x80\xaf", 3, &cp), 0);     /* overlong */
	assert_int_equal(rm_utf8_char("\xed\xa0\x80", 3, &cp), 0);     /* surrogate */
	assert_int_equal(rm_utf8_char("\xf4\x90\x80\x80", 4, &cp), 0); /* > U+10FFFF */
	assert_int_equal(rm_utf8_char("\x80", 1, &cp), 0);
	assert_true(rm_utf8_valid("caf\xc3\xa9", 5));
	assert_false(rm_utf8_valid("caf\xc3", 4));
	assert_false(rm_utf8_valid("\xff", 1));
	/* Cuts: never inside a character. */
	const char *e = "ab\xe2\x82\xac"; /* "ab€" */
	assert_int_equal(rm_utf8_cut(e, 5), 5);
	assert_int_equal(rm_utf8_cut(e, 4), 2);
	assert_int_equal(rm_utf8_cut(e, 3), 2);
	assert_int_equal(rm_utf8_cut(e, 2), 2);
	assert_int_equal(rm_utf8_cut("a\x80\x80", 3), 3); /* stray bytes are units */
}

static void display_text(void **state)
{
	(void)state;
	char out[256];
	written(rm_put_text, "x\x1b]0;t\x07\x1b[2J\n\x7f\xc2\x9b\xff caf\xc3\xa9 \\", out,
		sizeof(out));
	assert_string_equal(out, "x\\x1b]0;t\\x07\\x1b[2J\\x0a\\x7f\\x9b\\xff caf\xc3\xa9 \\");
	assert_int_equal(rm_text_escape(out, sizeof(out), "a\nb"), 6);
	assert_string_equal(out, "a\\x0ab");
	/* Cut at a whole escape or character, like snprintf otherwise. */
	assert_int_equal(rm_text_escape(out, 4, "a\nb"), 6);
	assert_string_equal(out, "a");
	assert_int_equal(rm_text_escape(out, 3, "\xc3\xa9\xc3\xa9"), 4);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(rm_text_escape(NULL, 0, "\x01"), 4);
}

/* The bidirectional embeddings, overrides and isolates reorder a line as
 * shown ("Trojan Source"): every output that takes display text or JSON
 * shows each as \uNNNN, and leaves the characters beside them (U+2029,
 * U+202F, U+2065, U+206A: not such controls) as they are. */
static void bidi_controls(void **state)
{
	(void)state;
	static const unsigned bidi[] = {0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
					0x2066, 0x2067, 0x2068, 0x2069};
	char in[16], want[32], out[64];
	for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
		unsigned cp = bidi[i];
		snprintf(in, sizeof(in), "a%c%c%cb", (char)(0xe0 | cp >> 12),
			 (char)(0x80 | (cp >> 6 & 0x3f)), (char)(0x80 | (cp & 0x3f)));
		snprintf(want, sizeof(want), "a\\u%04xb", cp);
		written(rm_put_text, in, out, sizeof(out));
		assert_string_equal(out, want);
		assert_int_equal(rm_text_escape(out, sizeof(out), in), 8);
		assert_string_equal(out, want);
		written(rm_put_csv_field, in, out, sizeof(out));
		assert_string_equal(out, want);
		snprintf(want, sizeof(want), "\"a\\u%04xb\"", cp);
		written(rm_put_json_string, in, out, sizeof(out));
		assert_string_equal(out, want);
	}
	const char *plain = "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa";
	written(rm_put_text, plain, out, sizeof(out));
	assert_string_equal(out, plain);
	/* A cut never splits the escape. */
	assert_int_equal(rm_text_escape(out, 7, "a\xe2\x80\xae"), 7);
	assert_string_equal(out, "a");
}

static void json_strings(void **state)
{
	(void)state;
	char out[256];
	written(rm_put_json_string, "a\"\\\n\x1b\x7f\xc2\x9b\xff\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "\"a\\\"\\\\\\u000a\\u001b\\u007f\\u009b\\ufffd\xc3\xa9\"");
}

static void csv_cells(void **state)
{
	(void)state;
	char out[256];
	written(rm_put_csv_field, "ripencc:DE", out, sizeof(out));
	assert_string_equal(out, "ripencc:DE");
	written(rm_put_csv_field, "=HYPERLINK(\"x\")", out, sizeof(out));
	assert_string_equal(out, "\"'=HYPERLINK(\"\"x\"\")\"");
	const char *lead[] = {"+1", "-1", "@SUM(A1)", "=1"};
	for (size_t i = 0; i < 4; i++) {
		char want[16];
		written(rm_put_csv_field, lead[i], out, sizeof(out));
		snprintf(want, sizeof(want), "'%s", lead[i]);
		assert_string_equal(out, want);
	}
	written(rm_put_csv_field, "a,b\nc", out, sizeof(out));
	assert_string_equal(out, "\"a,b\\x0ac\"");
	written(rm_put_csv_field, "\t=1", out, sizeof(out)); /* the tab is escaped */
	assert_string_equal(out, "\\x09=1");
}

/* The record reader cuts a long text field between two characters. */
static void record_reader_cuts_whole_characters(void **state)
{
	(void)state;
	char line[1024] = "{\"scope\":\"holder\",\"key\":\"";
	for (int i = 0; i < 200; i++)
		strcat(line, "\xc3\xa9");
	strcat(line, "\",\"packets\":1}");
	struct rm_record_buf b;
	assert_int_equal(rm_record_read_json(line, &b), 0);
	size_t n = strlen(b.r.key);
	assert_true(n < RM_RECORD_TEXT_MAX && n >= RM_RECORD_TEXT_MAX - 2);
	assert_true(rm_utf8_valid(b.r.key, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(commit_replaces_with_mode, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(abort_keeps_old, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(planted_temp_links_not_followed, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(target_link_not_followed, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(open_fails_cleanly, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(commit_fails_cleanly, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(dash_is_stdout, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(append_completes_lines, make_dir, remove_dir),
	    cmocka_unit_test(rfc3339),
	    cmocka_unit_test(si_prefixes),
	    cmocka_unit_test(utf8),
	    cmocka_unit_test(display_text),
	    cmocka_unit_test(bidi_controls),
	    cmocka_unit_test(json_strings),
	    cmocka_unit_test(csv_cells),
	    cmocka_unit_test(record_reader_cuts_whole_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
