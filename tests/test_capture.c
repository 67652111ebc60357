/*
 * test_capture.c - the capture reader (capture.h) on pcap and pcapng
 * images built here, byte by byte, little-endian.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"

struct image {
	uint8_t b[4096];
	uint32_t n;
};

static void put(struct image *m, const void *p, uint32_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct image *m, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(m, b, 2);
}

static void put32(struct image *m, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(m, b, 4);
}

static void set32(struct image *m, uint32_t at, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	memcpy(m->b + at, b, 4);
}

static void pad4(struct image *m)
{
	while (m->n % 4)
		put(m, "", 1);
}

/* A block's header; its offset, for block_close. */
static uint32_t block_open(struct image *m, uint32_t type)
{
	uint32_t at = m->n;
	put32(m, type);
	put32(m, 0);
	return at;
}

/* The block's length, in its header and trailer. */
static void block_close(struct image *m, uint32_t at)
{
	pad4(m);
	put32(m, m->n + 4 - at);
	set32(m, at + 4, m->n - at);
}

static void shb(struct image *m)
{
	uint32_t at = block_open(m, 0x0A0D0D0Au);
	put32(m, 0x1A2B3C4Du);
	put16(m, 1);
	put16(m, 0);
	put32(m, 0xffffffffu); /* section length unknown */
	put32(m, 0xffffffffu);
	block_close(m, at);
}

static void idb(struct image *m, uint16_t linktype, uint32_t snaplen)
{
	uint32_t at = block_open(m, 1);
	put16(m, linktype);
	put16(m, 0);
	put32(m, snaplen);
	block_close(m, at);
}

/* An enhanced packet block on interface id, at ts (the interface's units). */
static void epb_on(struct image *m, uint32_t id, uint64_t ts, const void *data, uint32_t caplen,
		   uint32_t len)
{
	uint32_t at = block_open(m, 6);
	put32(m, id);
	put32(m, (uint32_t)(ts >> 32));
	put32(m, (uint32_t)ts);
	put32(m, caplen);
	put32(m, len);
	put(m, data, caplen);
	block_close(m, at);
}

static void epb(struct image *m, uint32_t ts_low, const void *data, uint32_t caplen, uint32_t len)
{
	epb_on(m, 0, ts_low, data, caplen, len);
}

static void spb(struct image *m, const void *data, uint32_t caplen, uint32_t len)
{
	uint32_t at = block_open(m, 3);
	put32(m, len);
	put(m, data, caplen);
	block_close(m, at);
}

static struct rm_capture *open_image(const struct image *m)
{
	char err[768];
	struct rm_capture *c = rm_capture_open_mem(m->b, m->n, "test", err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	return c;
}

static const uint8_t frame64[64] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45};

/* Two frames, each in its block: both are read, and the file ends. */
static void pcapng_two_frames(void **state)
{
	(void)state;
	struct image m = {0};
	shb(&m);
	idb(&m, 1, 0);
	epb(&m, 1, frame64, 60, 60);
	epb(&m, 2, frame64, 64, 64);
	struct rm_capture *c = open_image(&m);
	struct rm_capture_frame f;
	char err[768];
	assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 1);
	assert_int_equal(f.caplen, 60);
	assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 1);
	assert_int_equal(f.caplen, 64);
	assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 0);
	rm_capture_close(c);
}

/* A block whose leading length disagrees with its trailing copy (here one
 * that swallows the next block whole): an error naming it, not the frames
 * it covers skipped without a word. */
static void pcapng_length_mismatch(void **state)
{
	(void)state;
	struct image m = {0};
	shb(&m);
	idb(&m, 1, 0);
	uint32_t first = m.n;
	epb(&m, 1, frame64, 60, 60);
	epb(&m, 2, frame64, 64, 64);
	set32(&m, first + 4, m.n - first);
	struct rm_capture *c = open_image(&m);
	struct rm_capture_frame f;
	char err[768] = "";
	int rc;
	unsigned frames = 0;
	while ((rc = rm_capture_next(c, &f, err, sizeof(err))) == 1)
		frames++;
	assert_int_equal(rc, -1);
	assert_int_equal(frames, 0);
	assert_non_null(strstr(err, "block length"));
	rm_capture_close(c);
}

/* An interface block too short for its link type, its lengths whole (the
 * path of fuzz regression idb-cut-short-then-epb, whose trailing length
 * no longer gets that far): a frame on it ends the file as malformed. */
static void pcapng_interface_cut_short(void **state)
{
	(void)state;
	struct image m = {0};
	shb(&m);
	uint32_t at = block_open(&m, 1);
	block_close(&m, at);
	epb(&m, 1, frame64, 60, 60);
	struct rm_capture *c = open_image(&m);
	struct rm_capture_frame f;
	char err[768] = "";
	assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "an interface not described"));
	rm_capture_close(c);
}

/* An Ethernet interface with if_tsresol tsresol (none when negative) and
 * if_tsoffset seconds (none when 0). */
static void idb_time(struct image *m, int tsresol, int64_t tsoffset)
{
	uint32_t at = block_open(m, 1);
	put16(m, 1);
	put16(m, 0);
	put32(m, 0);
	if (tsresol >= 0) {
		put16(m, 9);
		put16(m, 1);
		put32(m, (uint32_t)tsresol); /* the byte, then padding */
	}
	if (tsoffset) {
		put16(m, 14);
		put16(m, 8);
		put32(m, (uint32_t)(uint64_t)tsoffset);
		put32(m, (uint32_t)((uint64_t)tsoffset >> 32));
	}
	put32(m, 0); /* opt_endofopt */
	block_close(m, at);
}

/* The next frame's capture time, in nanoseconds. */
static uint64_t next_ts(struct rm_capture *c)
{
	struct rm_capture_frame f;
	char err[768] = "";
	int rc = rm_capture_next(c, &f, err, sizeof(err));
	if (rc != 1)
		fail_msg("%d %s", rc, err);
	return f.ts_ns;
}

/* if_tsoffset, seconds added to every timestamp of its interface: per
 * interface, signed, in the interface's own resolution; a new section's
 * interfaces start without it, and a simple packet block has no time (it
 * takes the previous packet's, offset and all). */
static void pcapng_tsoffset(void **state)
{
	(void)state;
	const uint64_t t0 = 1700000000;
	struct image m = {0};
	shb(&m);
	idb_time(&m, -1, 3600);		  /* microseconds, an hour ahead */
	idb_time(&m, 9, -60);		  /* nanoseconds, a minute back */
	idb_time(&m, 0x80 | 10, 1000000); /* 2^-10 s */
	idb_time(&m, -1, 0);
	epb_on(&m, 0, t0 * 1000000 + 5, frame64, 60, 60);
	epb_on(&m, 1, t0 * 1000000000 + 7, frame64, 60, 60);
	epb_on(&m, 2, t0 * 1024 + 512, frame64, 60, 60);
	epb_on(&m, 3, t0 * 1000000 + 5, frame64, 60, 60);
	spb(&m, frame64, 60, 60);
	shb(&m);
	idb_time(&m, -1, 0);
	epb_on(&m, 0, t0 * 1000000 + 5, frame64, 60, 60);
	struct rm_capture *c = open_image(&m);
	assert_int_equal(next_ts(c), (t0 + 3600) * 1000000000 + 5000);
	assert_int_equal(next_ts(c), (t0 - 60) * 1000000000 + 7);
	assert_int_equal(next_ts(c), (t0 + 1000000) * 1000000000 + 500000000);
	assert_int_equal(next_ts(c), t0 * 1000000000 + 5000);
	assert_int_equal(next_ts(c), t0 * 1000000000 + 5000);
	assert_int_equal(next_ts(c), t0 * 1000000000 + 5000);
	rm_capture_close(c);
}

/* Resolutions finer than 1e-10 s: the fraction of a second, in units,
 * times 1e9 is past 64 bits, and was cut to them.  Picoseconds, 2^-40 s
 * and 2^-63 s (what 64 bits of them reach lies in 1970). */
static void pcapng_fine_resolution(void **state)
{
	(void)state;
	struct image m = {0};
	shb(&m);
	idb_time(&m, 12, 0);
	idb_time(&m, 0x80 | 40, 0);
	idb_time(&m, 0x80 | 63, 0);
	epb_on(&m, 0, 1500000000000ull + 250, frame64, 60, 60);	     /* 1.5 s and 250 ps */
	epb_on(&m, 1, (3ull << 40) + (3ull << 38), frame64, 60, 60); /* 3.75 s */
	epb_on(&m, 2, (1ull << 63) - 1, frame64, 60, 60);	     /* all but 2^-63 s of 1 s */
	struct rm_capture *c = open_image(&m);
	assert_int_equal(next_ts(c), 1500000000);
	assert_int_equal(next_ts(c), 3750000000);
	assert_int_equal(next_ts(c), 999999999);
	rm_capture_close(c);
}

/* An offset that takes a timestamp before 1970, or past what 64 bits of
 * nanoseconds hold (2554), is a malformed block named in the error, not a
 * time that wrapped around. */
static void pcapng_tsoffset_out_of_range(void **state)
{
	(void)state;
	static const struct {
		int64_t offset;
		uint64_t ts; /* microseconds */
	} cases[] = {
	    {-100, 50000000},
	    {INT64_MAX, 0},
	    {INT64_MIN, 1700000000000000},
	    {1, 18446744073709551ull - 500000}, /* half a second before the end */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct image m = {0};
		shb(&m);
		idb_time(&m, -1, cases[i].offset);
		epb_on(&m, 0, cases[i].ts, frame64, 60, 60);
		struct rm_capture *c = open_image(&m);
		struct rm_capture_frame f;
		char err[768] = "", want[64];
		assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "if_tsoffset of %lld s", (long long)cases[i].offset);
		assert_non_null(strstr(err, want));
		assert_non_null(strstr(err, "at byte 64"));
		rm_capture_close(c);
	}
}

/* A classic pcap header of link type field linktype (microseconds). */
static void pcap_header(struct image *m, uint32_t linktype)
{
	put32(m, 0xa1b2c3d4u);
	put16(m, 2);
	put16(m, 4);
	put32(m, 0);
	put32(m, 0);
	put32(m, 65535);
	put32(m, linktype);
}

static void pcap_record(struct image *m, uint32_t sec, const void *data, uint32_t caplen,
			uint32_t len)
{
	put32(m, sec);
	put32(m, 0);
	put32(m, caplen);
	put32(m, len);
	put(m, data, caplen);
}

/* The link type field's upper bits say whether frames end in an FCS and
 * how long it is (FCS length 28-31, P 26: libpcap's LT_FCS_DATALINK_EXT);
 * the link type is the low 16 bits, Ethernet here whatever they say. */
static void pcap_linktype_with_fcs_bits(void **state)
{
	(void)state;
	static const uint32_t fields[] = {1, 0x24000001u, 0x04000001u, 0xf4000001u};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct image m = {0};
		pcap_header(&m, fields[i]);
		pcap_record(&m, 1, frame64, 64, 64);
		struct rm_capture *c = open_image(&m);
		struct rm_capture_frame f;
		char err[768];
		assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 1);
		assert_int_equal(f.linktype, RM_LINKTYPE_ETHERNET);
		rm_capture_close(c);
	}
}

/* A simple packet block holds min(original length, the interface's
 * snap length) bytes, padded to 4: the padding is not the frame's. */
static void pcapng_simple_packet_snaplen(void **state)
{
	(void)state;
	static const struct {
		uint32_t snaplen, stored, len, want;
	} cases[] = {
	    {33, 33, 64, 33}, /* cut at 33, 3 bytes of padding */
	    {0, 61, 61, 61},  /* no snap length; padding past the original length */
	    {64, 61, 61, 61},
	    {62, 62, 100, 62},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct image m = {0};
		shb(&m);
		idb(&m, 1, cases[i].snaplen);
		spb(&m, frame64, cases[i].stored, cases[i].len);
		struct rm_capture *c = open_image(&m);
		struct rm_capture_frame f;
		char err[768];
		assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 1);
		assert_int_equal(f.caplen, cases[i].want);
		assert_int_equal(f.len, cases[i].len);
		rm_capture_close(c);
	}
}

/* A simple packet block has no timestamp: it takes the time of the last
 * packet before it in the file that had one (across sections, whatever
 * its interface's resolution), and is untimed (time 0, not a time in
 * 1970) only before any. */
static void pcapng_simple_packet_time(void **state)
{
	(void)state;
	const uint64_t t0 = 1700000000;
	struct image m = {0};
	shb(&m);
	idb_time(&m, 9, 0); /* nanoseconds */
	spb(&m, frame64, 60, 60);
	spb(&m, frame64, 60, 60);
	epb_on(&m, 0, t0 * 1000000000 + 7, frame64, 60, 60);
	spb(&m, frame64, 60, 60);
	epb_on(&m, 0, (t0 + 5) * 1000000000, frame64, 60, 60);
	shb(&m);
	idb_time(&m, -1, 0); /* microseconds */
	spb(&m, frame64, 60, 60);
	epb_on(&m, 0, (t0 + 9) * 1000000, frame64, 60, 60);
	spb(&m, frame64, 60, 60);
	static const struct {
		uint32_t untimed;
		uint64_t ts;
	} want[] = {
	    {1, 0},
	    {1, 0},
	    {0, t0 * 1000000000 + 7},
	    {0, t0 * 1000000000 + 7},
	    {0, (t0 + 5) * 1000000000},
	    {0, (t0 + 5) * 1000000000}, /* a new section: still the file's last time */
	    {0, (t0 + 9) * 1000000000},
	    {0, (t0 + 9) * 1000000000},
	};
	struct rm_capture *c = open_image(&m);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rm_capture_frame f;
		char err[768] = "";
		assert_int_equal(rm_capture_next(c, &f, err, sizeof(err)), 1);
		if (f.untimed != want[i].untimed || f.ts_ns != want[i].ts)
			fail_msg("frame %zu: untimed %u, ts %llu; want %u, %llu", i, f.untimed,
				 (unsigned long long)f.ts_ns, want[i].untimed,
				 (unsigned long long)want[i].ts);
	}
	rm_capture_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pcapng_two_frames),
	    cmocka_unit_test(pcapng_length_mismatch),
	    cmocka_unit_test(pcapng_interface_cut_short),
	    cmocka_unit_test(pcap_linktype_with_fcs_bits),
	    cmocka_unit_test(pcapng_simple_packet_snaplen),
	    cmocka_unit_test(pcapng_simple_packet_time),
	    cmocka_unit_test(pcapng_tsoffset),
	    cmocka_unit_test(pcapng_tsoffset_out_of_range),
	    cmocka_unit_test(pcapng_fine_resolution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
