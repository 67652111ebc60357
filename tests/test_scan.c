/*
 * test_scan.c - the address scanner: a corpus of tricky lines with the
 * exact addresses expected, real log formats, and the stream cut at every
 * byte offset (and fed byte by byte) giving the same answer as one piece.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scanner.h"
#include "scan_simd.h"

static struct rl_scan_db *db;
static struct rl_scanner *sc;

struct out {
	char text[8192];
	size_t n;
	uint64_t last_offset;
	int order_ok;
};

static void collect(void *ctx, const struct rl_found *f)
{
	struct out *o = ctx;
	char a[INET6_ADDRSTRLEN];
	if (f->v6) {
		inet_ntop(AF_INET6, f->v6addr, a, sizeof(a));
	} else {
		uint32_t be = htonl(f->v4);
		inet_ntop(AF_INET, &be, a, sizeof(a));
	}
	if (o->n && f->offset <= o->last_offset)
		o->order_ok = 0;
	o->last_offset = f->offset;
	size_t used = strlen(o->text);
	snprintf(o->text + used, sizeof(o->text) - used, "%s%s@%llu", o->n ? " " : "", a,
		 (unsigned long long)f->offset);
	o->n++;
}

/* Scan text fed in pieces cut at the given offsets (ascending). */
static void feed_cut(const char *text, size_t len, const size_t *cuts, size_t n_cuts,
		     rl_found_fn fn, void *ctx)
{
	size_t at = 0;
	for (size_t i = 0; i < n_cuts; i++) {
		assert_int_equal(rl_scanner_feed(sc, text + at, cuts[i] - at, fn, ctx), 0);
		at = cuts[i];
	}
	assert_int_equal(rl_scanner_feed(sc, text + at, len - at, fn, ctx), 0);
	assert_int_equal(rl_scanner_end(sc, fn, ctx), 0);
}

static void scan_cut(const char *text, size_t len, const size_t *cuts, size_t n_cuts, struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->order_ok = 1;
	feed_cut(text, len, cuts, n_cuts, collect, o);
	assert_true(o->order_ok);
}

/* The addresses found, without offsets. */
static void addrs_of(const char *text, size_t len, char *out, size_t cap)
{
	struct out o;
	scan_cut(text, len, NULL, 0, &o);
	out[0] = '\0';
	char *save = NULL;
	for (char *t = strtok_r(o.text, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		*strchr(t, '@') = '\0';
		size_t used = strlen(out);
		snprintf(out + used, cap - used, "%s%s", used ? " " : "", t);
	}
}

static const struct {
	const char *in, *want;
} corpus[] = {
    {"GET from 192.0.2.1 ok", "192.0.2.1"},
    {"192.0.2.1", "192.0.2.1"},
    {"0.0.0.0 255.255.255.255", "0.0.0.0 255.255.255.255"},
    {"version 1.2.3.4.5 and 1.2.3", ""},
    {"v1.2.3.4 1.2.3.4x _1.2.3.4 1.2.3.4_", ""},
    {"01.2.3.4 1.02.3.4 1.2.3.004", ""},
    {"256.1.1.1 1.2.3.999", ""},
    {"from 1.2.3.4. Then 5.6.7.8...", "1.2.3.4 5.6.7.8"},
    {"at 1.2.3.4: refused", "1.2.3.4"},
    {"ip:1.2.3.4 src=5.6.7.8", "1.2.3.4 5.6.7.8"},
    {"1.2.3.4:443 1.2.3.4:65536", "1.2.3.4"},
    {"1.2.3.4-5.6.7.8 10.0.0.0/8", "1.2.3.4 5.6.7.8 10.0.0.0"},
    {"x=1.2.3.4,y=5.6.7.8\r\n", "1.2.3.4 5.6.7.8"},
    {"\"1.2.3.4\" '5.6.7.8' (9.9.9.9) <1.1.1.1>", "1.2.3.4 5.6.7.8 9.9.9.9 1.1.1.1"},
    {"4.3.2.1.in-addr.arpa host.1.2.3.4", ""},
    {"Chrome/120.0.0.0 Safari/537.36 GET /1.2.3.4 http://5.6.7.8/", "1.2.3.4 5.6.7.8"},
    {"[2001:db8::1]:443", "2001:db8::1"},
    {"fe80::1%eth0 up fe80::2%25en0.1", "fe80::1 fe80::2"},
    {"::ffff:192.0.2.1 ::FFFF:c000:0202", "192.0.2.1 192.0.2.2"},
    {"2001:db8::192.0.2.1", "2001:db8::c000:201"},
    {"1:2:3:4:5:6:7:8 2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8 2001:db8::1"},
    {"::1 :: ::: a::b::c", "::1"},
    {"00:11:22:33:44:55 00-11-22-33-44-55 12:34:56 12:34:56.789", ""},
    {"std::string Foo::Bar deadbeef cafe:babe 1:2:3:4:5:6:7", ""},
    {"2001:db8::1. next", "2001:db8::1"},
    {"2001:db8:::1 2001:db8::1::2 12345::1 2001:db8::g", ""},
    {"1.2.3.4%20x", "1.2.3.4"},
    {"10.0.0.1 ::1 10.0.0.2 a::1", "10.0.0.1 ::1 10.0.0.2 a::1"},
    {"fe80::1%1.2.3.4 :d2.7%5.6.7.8 v1.2.3.4fe80::1%eth0--9.9.9.9", "fe80::1 5.6.7.8 9.9.9.9"},
    {"1.2.3.4:80%eth0 ::ffff:5.6.7.8%eth0 fe80::1%eth0-8400:62:0:3dff:dd:1e:2aba:a3",
     "1.2.3.4 5.6.7.8 fe80::1"},
};

static void test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char got[8192];
		addrs_of(corpus[i].in, strlen(corpus[i].in), got, sizeof(got));
		if (strcmp(got, corpus[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", corpus[i].in, got, corpus[i].want);
	}
}

static void test_binary_and_utf8(void **state)
{
	(void)state;
	static const char bin[] = "\x01\xff"
				  "1.2.3.4\x00\x80"
				  "2001:db8::5\xc3("
				  "9.8.7.6\xe2\x82";
	char got[256];
	addrs_of(bin, sizeof(bin) - 1, got, sizeof(got));
	assert_string_equal(got, "1.2.3.4 2001:db8::5 9.8.7.6");
}

static void test_long_lines(void **state)
{
	(void)state;
	size_t n = 300000;
	char *t = malloc(n);
	assert_non_null(t);
	memset(t, 'a', 100000);
	memcpy(t + 100000, " 1.2.3.4 ", 9);
	for (size_t i = 100009; i < n; i++) /* a 200 kB token of digits and dots */
		t[i] = (i & 1) ? '.' : '1';
	char got[256];
	addrs_of(t, n, got, sizeof(got));
	assert_string_equal(got, "1.2.3.4");
	/* a run of colons and hex longer than any address */
	for (size_t i = 0; i < n; i++)
		t[i] = (i % 3 == 2) ? ':' : 'f';
	addrs_of(t, n, got, sizeof(got));
	assert_string_equal(got, "");
	free(t);
}

static const char *const samples[] = {
    /* Apache/nginx combined */
    "203.0.113.9 - - [28/Nov/2026:18:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 512 "
    "\"http://198.51.100.2/ref\" \"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.71 "
    "Safari/537.36\"\n"
    "2001:db8:85a3::8a2e:370:7334 - alice [28/Nov/2026:18:00:01 +0000] \"POST /api HTTP/2.0\" "
    "201 17 \"-\" \"curl/8.5.0\"\n",
    /* syslog */
    "Nov 28 18:00:00 gw sshd[4242]: Failed password for root from 198.51.100.7 port 22 ssh2\n"
    "Nov 28 18:00:02 gw kernel: IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 "
    "SRC=192.0.2.33 DST=203.0.113.1 LEN=60\n",
    /* Zeek conn.log */
    "#separator \\x09\n1764352800.123456\tCkq3\t192.0.2.1\t5353\t2001:db8::53\t53\tudp\tdns\n"
    "1764352801.000001\tCz9\t[fe80::1%eth0]\t546\tff02::1:2\t547\tudp\t-\n",
    /* JSON lines */
    "{\"ts\":\"2026-11-28T18:00:00Z\",\"src\":\"192.0.2.1\",\"dst\":\"2001:db8::2\","
    "\"ver\":\"1.2.3.4.5\"}\r\n",
};
static const char *const sample_want[] = {
    "203.0.113.9 198.51.100.2 2001:db8:85a3::8a2e:370:7334",
    "198.51.100.7 192.0.2.33 203.0.113.1",
    "192.0.2.1 2001:db8::53 fe80::1 ff02::1:2",
    "192.0.2.1 2001:db8::2",
};

static void test_log_formats(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char got[1024];
		addrs_of(samples[i], strlen(samples[i]), got, sizeof(got));
		assert_string_equal(got, sample_want[i]);
	}
}

/* Every cut of every sample and corpus line, one cut and two cuts around
 * each address, and byte-by-byte: the same addresses at the same offsets. */
static void check_cuts(const char *text)
{
	size_t len = strlen(text);
	struct out whole, part;
	scan_cut(text, len, NULL, 0, &whole);
	for (size_t c = 1; c < len; c++) {
		size_t cuts[2] = {c, c + 3 < len ? c + 3 : len};
		scan_cut(text, len, cuts, 1, &part);
		if (strcmp(whole.text, part.text) != 0)
			fail_msg("cut at %zu of \"%s\": \"%s\" vs \"%s\"", c, text, part.text,
				 whole.text);
		scan_cut(text, len, cuts, 2, &part);
		assert_string_equal(whole.text, part.text);
	}
	size_t *every = malloc(len * sizeof(size_t));
	assert_non_null(every);
	for (size_t c = 1; c < len; c++)
		every[c - 1] = c;
	scan_cut(text, len, every, len ? len - 1 : 0, &part);
	assert_string_equal(whole.text, part.text);
	free(every);
}

static void test_stream_cuts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		check_cuts(samples[i]);
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		check_cuts(corpus[i].in);
}

/* Offsets are those of the address's first character in the stream, and
 * a scanner starts again at 0 after rl_scanner_end. */
static void test_offsets(void **state)
{
	(void)state;
	struct out o;
	const char *t = "ab [2001:db8::1]:80 ip:10.1.2.3.";
	scan_cut(t, strlen(t), NULL, 0, &o);
	assert_string_equal(o.text, "2001:db8::1@4 10.1.2.3@23");
	scan_cut(t, strlen(t), NULL, 0, &o);
	assert_string_equal(o.text, "2001:db8::1@4 10.1.2.3@23");
}

static uint64_t rnd(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return *seed >> 33;
}

static int good_dot(const char *w, size_t p)
{
	return w[p] == '.' && w[p - 1] >= '0' && w[p - 1] <= '9' && w[p + 1] >= '0' &&
	       w[p + 1] <= '9';
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int good_colon(const char *w, size_t p)
{
	return w[p] == ':' && hex(w[p - 1]) && hex(w[p + 1]);
}

/* n good colons from p on, each 2-5 bytes after the one before. */
static int colon_chain(const char *w, size_t p, int n)
{
	if (!good_colon(w, p))
		return 0;
	for (size_t g = 2; n > 1 && g <= 5; g++)
		if (colon_chain(w, p + g, n - 1))
			return 1;
	return n == 1;
}

/* The candidate finder's definition, one position at a time. */
static int candidate(const char *w, size_t p)
{
	if (colon_chain(w, p, 7))
		return 1;
	if (!good_dot(w, p))
		return 0;
	for (size_t q = p + 2; q <= p + 4; q++)
		for (size_t r = q + 2; good_dot(w, q) && r <= q + 4; r++)
			if (good_dot(w, r))
				return 1;
	return 0;
}

/* Both variants of the candidate finder report exactly the definition's
 * positions, for any range, on text dense in digits, dots and colons. */
static void test_candidate_finder(void **state)
{
	(void)state;
	enum { PAD = RL_SIMD_PAD, LEN = 4096 };
	static char mem[PAD + LEN + PAD];
	static uint64_t got[LEN], want[LEN];
	static const char alpha[] = "0123456789.....::::::aF /";
	char *w = mem + PAD;
	uint64_t seed = 7;
	rl_candidates_fn fns[2] = {rl_candidates_sse2,
				   __builtin_cpu_supports("avx2") ? rl_candidates_avx2 : NULL};
	for (int round = 0; round < 300; round++) {
		for (size_t i = 0; i < sizeof(mem); i++)
			mem[i] = alpha[rnd(&seed) % (sizeof(alpha) - 1)];
		size_t from = 1 + rnd(&seed) % 300, to = from + rnd(&seed) % (LEN - from);
		size_t n_want = 0;
		for (size_t p = from; p < to; p++)
			if (candidate(w, p))
				want[n_want++] = 1000 + p;
		for (int v = 0; v < 2; v++) {
			if (!fns[v])
				continue;
			size_t n = fns[v](w, from, to, 1000, got);
			assert_int_equal(n, n_want);
			assert_memory_equal(got, want, n * sizeof(*got));
		}
	}
}

/* Addresses found in a long text, as text. */
struct big {
	char text[1 << 20];
	size_t len, n;
};

static void collect_big(void *ctx, const struct rl_found *f)
{
	struct big *b = ctx;
	char a[INET6_ADDRSTRLEN];
	uint32_t be = htonl(f->v4);
	inet_ntop(f->v6 ? AF_INET6 : AF_INET, f->v6 ? (const void *)f->v6addr : &be, a, sizeof(a));
	b->len += (size_t)snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s%s",
				   b->n++ ? " " : "", a);
}

/* Long random text with addresses and decoys at every alignment: exactly
 * the planted addresses come out, whole and cut in random places. */
static void test_random_text(void **state)
{
	(void)state;
	static const char *const decoys[] = {
	    "1.2.3",	"Chrome/1.2.3.4",    "1.2.3.4.5", "v10.0.0.1",
	    "12:34:56", "00:11:22:33:44:55", "HTTP/1.1",  "537.36",
	    "a.b.c.d",	"10.0.0.256",	     "::",	  "1.2.3.4x",
	    "01.2.3.4", "fe80::g",	     "text",	  "...",
	    "1..2.3.4", "99.99.99"};
	static const char *const seps[] = {" ", "\n", ", ", "\t", "=", "\"", " [", "] ", "(", ") "};
	static char text[1 << 18];
	static char want[1 << 20];
	static struct big got, part;
	uint64_t seed = 11;
	for (int round = 0; round < 8; round++) {
		size_t n = 0, wn = 0, planted = 0;
		want[0] = '\0';
		while (n < sizeof(text) - 200) {
			char tok[64];
			uint64_t r = rnd(&seed);
			if (r % 3 == 0) {
				uint32_t v4 = (uint32_t)rnd(&seed) << 16 ^ (uint32_t)rnd(&seed);
				uint8_t b[16];
				for (int i = 0; i < 16; i++)
					b[i] = (uint8_t)(rnd(&seed) % (i % 3 ? 256 : 2));
				uint32_t be = htonl(v4);
				if (r % 2)
					inet_ntop(AF_INET, &be, tok, sizeof(tok));
				else
					inet_ntop(AF_INET6, b, tok, sizeof(tok));
				wn += (size_t)snprintf(want + wn, sizeof(want) - wn, "%s%s",
						       planted++ ? " " : "", tok);
			} else {
				snprintf(tok, sizeof(tok), "%s",
					 decoys[rnd(&seed) % (sizeof(decoys) / sizeof(*decoys))]);
			}
			const char *sep = seps[rnd(&seed) % (sizeof(seps) / sizeof(*seps))];
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", tok, sep);
		}
		got.len = got.n = part.len = part.n = 0;
		feed_cut(text, n, NULL, 0, collect_big, &got);
		assert_string_equal(got.text, want);
		/* the same through random cuts */
		size_t cuts[64], nc = 0, at = 0;
		while (nc < 64 && at < n) {
			at += 1 + rnd(&seed) % (n / 16);
			if (at < n)
				cuts[nc++] = at;
		}
		feed_cut(text, n, cuts, nc, collect_big, &part);
		assert_int_equal(got.n, planted);
		assert_string_equal(part.text, want);
	}
}

/* Reading into the scanner's room: a room asked for and left unused at
 * the end of the input (as a reader does at end of file) must not let what
 * the window held before count as text after the stream's end. */
static void test_room_left_unused(void **state)
{
	(void)state;
	char text[1000];
	memset(text, '7', sizeof(text));
	memcpy(text + sizeof(text) - 8, " 1.2.3.4", 8);
	struct out o;
	memset(&o, 0, sizeof(o));
	char *room = rl_scanner_room(sc, sizeof(text));
	assert_non_null(room);
	memcpy(room, text, sizeof(text));
	assert_int_equal(rl_scanner_commit(sc, sizeof(text), collect, &o), 0);
	assert_non_null(rl_scanner_room(sc, 1u << 20)); /* then end of file */
	assert_int_equal(rl_scanner_end(sc, collect, &o), 0);
	assert_string_equal(o.text, "1.2.3.4@993");
}

static void test_validator(void **state)
{
	(void)state;
	struct rl_found f;
	assert_int_equal(rl_scan_token("1.2.3.4", 7, ' ', ' ', &f), 1);
	assert_int_equal(f.v4, 0x01020304u);
	assert_int_equal(rl_scan_token("1.2.3.4", 7, 'x', ' ', &f), 0);
	assert_int_equal(rl_scan_token("1.2.3.4", 7, -1, -1, &f), 1);
	assert_int_equal(rl_scan_token("fe80::1%eth0", 12, -1, -1, &f), 1);
	assert_int_equal(f.v6, 1);
	assert_int_equal(f.len, 12);
	assert_int_equal(rl_scan_token("1.2.3.4%eth0", 12, -1, -1, &f), 0);
}

static int setup(void **state)
{
	(void)state;
	char err[256];
	db = rl_scan_db_new(err, sizeof(err));
	if (!db)
		return -1;
	sc = rl_scanner_new(db, err, sizeof(err));
	return sc ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rl_scanner_free(sc);
	rl_scan_db_free(db);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validator),	    cmocka_unit_test(test_corpus),
	    cmocka_unit_test(test_binary_and_utf8), cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_log_formats),	    cmocka_unit_test(test_offsets),
	    cmocka_unit_test(test_stream_cuts),	    cmocka_unit_test(test_candidate_finder),
	    cmocka_unit_test(test_random_text),	    cmocka_unit_test(test_room_left_unused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
