/*
 * capture.c - classic pcap and pcapng files, plain, gzip'd or zstd'd,
 * read in place (capture.h).
 *
 * Why not libpcap: it copies every frame into its own buffer, one read at
 * a time, which is what held DPDK's net_pcap to 3.6 Mpps; a mapped file
 * hands the parser the frame where the page cache has it.  Compressed
 * files cannot be mapped: they are inflated once into anonymous memory
 * (what a streaming reader would save is memory, not time, and a batch
 * run holds the whole file anyway while threads share it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef RM_HAVE_ZSTD
#include <zstd.h>
#endif

#include "byteorder.h"
#include "capture.h"
#include "cursor.h"
#include "output.h"

#define PCAPNG_SHB     0x0A0D0D0Au
#define PCAPNG_IDB     1u
#define PCAPNG_PB      2u /* obsolete Packet Block */
#define PCAPNG_SPB     3u
#define PCAPNG_EPB     6u
#define PCAPNG_BOM     0x1A2B3C4Du
#define MAX_INTERFACES 256
#define MAX_INFLATED   ((uint64_t)1 << 40)

struct iface {
	int bad; /* its description block was cut short: a frame on it is malformed */
	uint32_t linktype;
	uint32_t snaplen; /* 0: none */
	uint64_t units;	  /* timestamp units per second */
	uint64_t ns_mul;  /* ns per unit when units divides 1e9, else 0 */
	int64_t tsoffset; /* if_tsoffset: seconds added to every timestamp */
};

struct rm_capture {
	char path[512];
	const uint8_t *base;
	uint64_t size;
	int mapped; /* base is a mapping (else malloc'd) */
	struct rm_cur cur;
	int ng;	     /* pcapng, else classic pcap */
	int swapped; /* the file's byte order is not the host's */
	int done;
	/* classic pcap */
	uint32_t linktype;
	uint32_t ns_per_unit; /* 1000 (microsecond magic) or 1 */
	/* pcapng: the current section's interfaces */
	struct iface ifs[MAX_INTERFACES];
	uint32_t n_ifs;
	/* The time of the file's last packet block that had one, for a simple
	 * packet block (which has none); have_time once there was one. */
	uint64_t last_ns;
	int have_time;
};

static inline uint32_t u32(const struct rm_capture *c, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return c->swapped ? rm_bswap32(v) : v;
}

static inline uint64_t u64(const struct rm_capture *c, const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return c->swapped ? rm_bswap64(v) : v;
}

static inline uint16_t u16(const struct rm_capture *c, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return c->swapped ? rm_bswap16(v) : v;
}

/* ------------------------------------------------------------------ */
/* Decompression                                                       */

/* Room for at least `more` bytes past *len in *buf; -1 past the limit. */
static int reserve(uint8_t **buf, uint64_t *cap, uint64_t len, uint64_t more)
{
	if (len + more <= *cap)
		return 0;
	uint64_t ncap = *cap ? *cap : 1u << 20;
	while (ncap < len + more)
		ncap *= 2;
	if (ncap > MAX_INFLATED)
		return -1;
	uint8_t *nb = realloc(*buf, ncap);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* gzip (every member of a concatenation) inflated into *out; -1 with a
 * reason. */
static int inflate_gzip(const uint8_t *in, uint64_t n, uint8_t **out, uint64_t *out_len, char *err,
			size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) {
		snprintf(err, errlen, "cannot start inflating");
		return -1;
	}
	uint8_t *buf = NULL;
	uint64_t cap = 0, len = 0, pos = 0;
	int rc = Z_OK;
	while (pos < n || rc == Z_OK) {
		if (reserve(&buf, &cap, len, n > (1u << 20) ? n : (1u << 20))) {
			snprintf(err, errlen, "out of memory inflating (%llu bytes so far)",
				 (unsigned long long)len);
			rc = Z_MEM_ERROR;
			break;
		}
		uint64_t in_chunk = n - pos > UINT32_MAX ? UINT32_MAX : n - pos;
		uint64_t out_chunk = cap - len > UINT32_MAX ? UINT32_MAX : cap - len;
		z.next_in = (Bytef *)(uintptr_t)(in + pos);
		z.avail_in = (uInt)in_chunk;
		z.next_out = buf + len;
		z.avail_out = (uInt)out_chunk;
		rc = inflate(&z, Z_NO_FLUSH);
		pos += in_chunk - z.avail_in;
		len += out_chunk - z.avail_out;
		if (rc == Z_STREAM_END) {
			/* Zeros after the last member pad the file (gzip(1) ignores
			 * them too); anything else is another member. */
			uint64_t k = pos;
			while (k < n && in[k] == 0)
				k++;
			if (k >= n)
				break;
			inflateReset(&z); /* another member follows */
			rc = Z_OK;
			continue;
		}
		if (rc == Z_BUF_ERROR && pos >= n) {
			snprintf(err, errlen, "gzip stream cut short after %llu bytes inflated",
				 (unsigned long long)len);
			break;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(err, errlen, "gzip stream broken at byte %llu: %s",
				 (unsigned long long)pos, z.msg ? z.msg : "error");
			break;
		}
		rc = Z_OK;
	}
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

#ifdef RM_HAVE_ZSTD
/* zstd (every frame of a concatenation) decompressed into *out. */
static int inflate_zstd(const uint8_t *in, uint64_t n, uint8_t **out, uint64_t *out_len, char *err,
			size_t errlen)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z) {
		snprintf(err, errlen, "cannot start zstd");
		return -1;
	}
	ZSTD_initDStream(z);
	uint8_t *buf = NULL;
	uint64_t cap = 0;
	ZSTD_inBuffer ib = {in, n, 0};
	size_t rc = 1;
	ZSTD_outBuffer ob = {NULL, 0, 0};
	while (ib.pos < ib.size) {
		if (reserve(&buf, &cap, ob.pos, 4u << 20)) {
			snprintf(err, errlen, "out of memory decompressing");
			rc = 1;
			break;
		}
		ob.dst = buf;
		ob.size = cap;
		rc = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(rc)) {
			snprintf(err, errlen, "zstd stream broken: %s", ZSTD_getErrorName(rc));
			break;
		}
	}
	ZSTD_freeDStream(z);
	if (rc != 0) {
		if (!ZSTD_isError(rc) && ib.pos >= ib.size)
			snprintf(err, errlen, "zstd stream cut short");
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = ob.pos;
	return 0;
}
#endif

/* ------------------------------------------------------------------ */
/* Headers                                                             */

static int open_pcap(struct rm_capture *c, char *err, size_t errlen)
{
	const uint8_t *h = rm_cur_take(&c->cur, 24);
	uint32_t magic;
	memcpy(&magic, c->base, 4);
	c->swapped = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	c->ns_per_unit = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u ? 1 : 1000;
	if (!h) {
		snprintf(err, errlen, "%s: cut short in the pcap file header", c->path);
		return -1;
	}
	/* The link type is the field's low 16 bits; above them are the FCS
	 * length (28-31), its presence flag P (26) and reserved bits, which
	 * left in made an Ethernet capture with an FCS a link type of its own
	 * (libpcap's LT_LINKTYPE takes the low 16 bits too). */
	c->linktype = u32(c, h + 20) & 0xffffu;
	return 0;
}

static void clear_ifaces(struct rm_capture *c)
{
	c->n_ifs = 0;
}

/* if_tsresol: 10^-v, or 2^-v with the top bit set; default microseconds. */
static void set_resolution(struct iface *i, uint8_t v)
{
	uint64_t units = 1;
	unsigned e = v & 0x7f;
	if (v & 0x80)
		units = e < 64 ? (uint64_t)1 << e : 0;
	else
		for (unsigned k = 0; k < e && units <= UINT64_MAX / 10; k++)
			units *= 10;
	if (!units)
		units = 1000000;
	i->units = units;
	i->ns_mul = units <= 1000000000u && 1000000000u % units == 0 ? 1000000000u / units : 0;
}

static void add_iface(struct rm_capture *c, struct rm_cur body)
{
	if (c->n_ifs == MAX_INTERFACES) {
		c->n_ifs++; /* beyond the table: a frame on it is malformed */
		return;
	}
	if (c->n_ifs > MAX_INTERFACES)
		return;
	struct iface *i = &c->ifs[c->n_ifs++];
	const uint8_t *h = rm_cur_take(&body, 8);
	*i = (struct iface){
	    .bad = !h, .linktype = h ? u16(c, h) : 0, .snaplen = h ? u32(c, h + 4) : 0};
	set_resolution(i, 6);
	/* Options: code, length, value padded to 4; opt_endofopt ends them. */
	const uint8_t *o;
	while (h && (o = rm_cur_take(&body, 4))) {
		uint16_t code = u16(c, o), olen = u16(c, o + 2);
		const uint8_t *v = rm_cur_take(&body, (olen + 3u) & ~3u);
		if (code == 0 || !v)
			break;
		if (code == 9 && olen >= 1)
			set_resolution(i, v[0]);
		if (code == 14 && olen >= 8) /* if_tsoffset, signed */
			i->tsoffset = (int64_t)u64(c, v);
	}
}

/*
 * c, holding its file's bytes (base, size, mapped), decompressed when they
 * are gzip or zstd, and its first header read: c, or NULL after closing it
 * with a reason naming path.
 */
static struct rm_capture *start(struct rm_capture *c, const char *path, char *err, size_t errlen)
{
	uint8_t *plain = NULL;
	uint64_t plain_len = 0;
	char why[256];
	int rc = 1;
	if (c->size >= 2 && c->base[0] == 0x1f && c->base[1] == 0x8b)
		rc = inflate_gzip(c->base, c->size, &plain, &plain_len, why, sizeof(why));
#ifdef RM_HAVE_ZSTD
	else if (c->size >= 4 && rm_get_be32(c->base) == 0x28b52ffdu)
		rc = inflate_zstd(c->base, c->size, &plain, &plain_len, why, sizeof(why));
#endif
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (rc == 0) {
		if (c->mapped)
			munmap((void *)c->base, c->size);
		else
			free((void *)c->base);
		c->base = plain;
		c->size = plain_len;
		c->mapped = 0;
	}
	c->cur = (struct rm_cur){c->base, c->base + c->size};
	uint32_t magic = 0;
	if (c->size >= 4)
		memcpy(&magic, c->base, 4);
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du || magic == 0xd4c3b2a1u ||
	    magic == 0x4d3cb2a1u) {
		if (open_pcap(c, err, errlen))
			goto fail;
	} else if (magic == PCAPNG_SHB) {
		c->ng = 1; /* the section header is read as the first block */
	} else {
		snprintf(err, errlen,
			 "%s: not a capture file (neither pcap nor pcapng%s; starts %02x %02x "
			 "%02x %02x)",
			 path,
#ifdef RM_HAVE_ZSTD
			 ", plain, gzip'd or zstd'd",
#else
			 ", plain or gzip'd",
#endif
			 c->size > 0 ? c->base[0] : 0, c->size > 1 ? c->base[1] : 0,
			 c->size > 2 ? c->base[2] : 0, c->size > 3 ? c->base[3] : 0);
		goto fail;
	}
	return c;
fail:
	rm_capture_close(c);
	return NULL;
}

struct rm_capture *rm_capture_open(const char *path, char *err, size_t errlen)
{
	unsigned long long size;
	int fd = rm_open_regular(path, &size, err, errlen);
	if (fd < 0)
		return NULL;
	if (size < 4) {
		snprintf(err, errlen, "%s: not a capture file (%llu bytes)", path, size);
		close(fd);
		return NULL;
	}
	/* MAP_POPULATE: the frames are read once, in order, from the page
	 * cache; faulting them in one page at a time cost more than the parse. */
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", path, strerror(e));
		return NULL;
	}
	madvise(m, size, MADV_SEQUENTIAL);
	struct rm_capture *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	*c = (struct rm_capture){.base = m, .size = size, .mapped = 1};
	snprintf(c->path, sizeof(c->path), "%s", path);
	return start(c, path, err, errlen);
}

struct rm_capture *rm_capture_open_mem(const uint8_t *p, size_t n, const char *name, char *err,
				       size_t errlen)
{
	struct rm_capture *c = calloc(1, sizeof(*c));
	uint8_t *copy = malloc(n ? n : 1);
	if (!c || !copy)
		abort();
	memcpy(copy, p, n);
	*c = (struct rm_capture){.base = copy, .size = n};
	snprintf(c->path, sizeof(c->path), "%s", name);
	return start(c, name, err, errlen);
}

long long rm_capture_count(const char *path, char *err, size_t errlen)
{
	struct rm_capture *c = rm_capture_open(path, err, errlen);
	if (!c)
		return -1;
	struct rm_capture_frame f;
	char why[256];
	long long n = 0;
	while (rm_capture_next(c, &f, why, sizeof(why)) == 1)
		n++;
	rm_capture_close(c);
	return n;
}

uint64_t rm_capture_size(const struct rm_capture *c)
{
	return c->size;
}

void rm_capture_close(struct rm_capture *c)
{
	if (!c)
		return;
	if (c->mapped && c->base)
		munmap((void *)c->base, c->size);
	else
		free((void *)c->base);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

static int cut(struct rm_capture *c, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: truncated: %s at byte %llu", c->path, what,
		 (unsigned long long)(c->cur.p - c->base));
	c->done = 1;
	return -1;
}

static int next_pcap(struct rm_capture *c, struct rm_capture_frame *f, char *err, size_t errlen)
{
	const uint8_t *h = rm_cur_take(&c->cur, 16);
	if (!h)
		return rm_cur_left(&c->cur) ? cut(c, "a record header", err, errlen) : 0;
	uint32_t caplen = u32(c, h + 8);
	/* Where the next record starts depends on this one's length: a chain
	 * of loads, one cache miss a frame once frames are longer than what
	 * the hardware prefetcher runs ahead (IMIX: 3.2-4.1 GB/s a core with this,
	 * 2.7 without, interleaved runs; 64-byte IPv4 within noise).  What
	 * lies 1 and 2 KB ahead is fetched now, so that the chain finds it in
	 * cache; a prefetch past the end does not fault. */
	__builtin_prefetch(h + 1024);
	__builtin_prefetch(h + 2048);
	const uint8_t *data = rm_cur_take(&c->cur, caplen);
	if (!data) {
		c->cur.p = h;
		return cut(c, "a record longer than what is left", err, errlen);
	}
	uint32_t len = u32(c, h + 12);
	*f = (struct rm_capture_frame){
	    data,
	    caplen,
	    len > caplen ? len : caplen,
	    c->linktype,
	    0,
	    (uint64_t)u32(c, h) * 1000000000u + (uint64_t)u32(c, h + 4) * c->ns_per_unit};
	return 1;
}

/* A timestamp of an interface's units, with the interface's if_tsoffset
 * added, into *ns (nanoseconds since the epoch): -1 when that lies outside
 * what 64 bits of them hold (before 1970, or after 2554).  In 128 bits:
 * the offset is any signed 64-bit count of seconds, and a fraction of a
 * second in units finer than 1e-10 s (up to 2^63 a second) times 1e9 does
 * not fit 64. */
static int ts_ns(const struct iface *i, uint64_t t, uint64_t *ns)
{
	__int128 v = i->ns_mul ? (__int128)t * i->ns_mul
			       : (__int128)(t / i->units) * 1000000000 +
				     (__int128)(t % i->units) * 1000000000 / i->units;
	v += (__int128)i->tsoffset * 1000000000;
	if (v < 0 || v > (__int128)UINT64_MAX)
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

/* Why ng_frame refused a packet block. */
enum { NG_NO_IFACE = -1, NG_BAD_TIME = -2 };

/*
 * A frame of a packet block on interface id at time t (its units), or
 * without a time (t NULL: a simple packet block), which takes the time of
 * the file's last packet that had one: a time of 0 would put the frame in
 * 1970, and under rirmeter -r --interval open an interval there (batch.c
 * counts a frame still untimed, before any time, in the first interval).
 * NG_NO_IFACE for an unknown interface, NG_BAD_TIME for a time out of
 * range.
 */
static int ng_frame(struct rm_capture *c, uint32_t id, const uint64_t *t, const uint8_t *data,
		    uint32_t caplen, uint32_t len, struct rm_capture_frame *f)
{
	if (id >= c->n_ifs || id >= MAX_INTERFACES || c->ifs[id].bad)
		return NG_NO_IFACE;
	const struct iface *i = &c->ifs[id];
	if (t) {
		if (ts_ns(i, *t, &c->last_ns))
			return NG_BAD_TIME;
		c->have_time = 1;
	}
	*f = (struct rm_capture_frame){data,	    caplen,	   len > caplen ? len : caplen,
				       i->linktype, !c->have_time, c->last_ns};
	return 0;
}

/* An enhanced or obsolete packet block on interface id, its 20-byte
 * header at b (timestamp high and low, captured and original length from
 * byte 4) and its data next in body. */
static int packet_block(struct rm_capture *c, struct rm_cur *body, const uint8_t *b, uint32_t id,
			struct rm_capture_frame *f)
{
	uint32_t caplen = u32(c, b + 12);
	const uint8_t *data = rm_cur_take(body, caplen);
	uint64_t t = (uint64_t)u32(c, b + 4) << 32 | u32(c, b + 8);
	return data ? ng_frame(c, id, &t, data, caplen, u32(c, b + 16), f) : NG_NO_IFACE;
}

static int next_ng(struct rm_capture *c, struct rm_capture_frame *f, char *err, size_t errlen)
{
	for (;;) {
		const uint8_t *start = c->cur.p;
		const uint8_t *h = rm_cur_take(&c->cur, 8);
		__builtin_prefetch(start + 2048); /* as next_pcap: the next blocks */
		if (!h) {
			if (!rm_cur_left(&c->cur))
				return 0;
			return cut(c, "a block header", err, errlen);
		}
		uint32_t type;
		memcpy(&type, h, 4); /* the same in either byte order for the SHB */
		if (type == PCAPNG_SHB) {
			const uint8_t *bom = rm_cur_take(&c->cur, 4);
			if (!bom) {
				c->cur.p = start;
				return cut(c, "a section header", err, errlen);
			}
			uint32_t m;
			memcpy(&m, bom, 4);
			if (m != PCAPNG_BOM && m != rm_bswap32(PCAPNG_BOM)) {
				c->cur.p = start;
				snprintf(err, errlen,
					 "%s: malformed: bad byte-order magic in a section header "
					 "at byte %llu",
					 c->path, (unsigned long long)(start - c->base));
				c->done = 1;
				return -1;
			}
			c->swapped = m != PCAPNG_BOM;
			clear_ifaces(c);
			c->cur.p = start + 8;
		} else {
			type = u32(c, h);
		}
		uint32_t total = u32(c, h + 4);
		struct rm_cur body;
		if (total < 12 || total % 4) {
			c->cur.p = start;
			snprintf(err, errlen, "%s: malformed: block length %u at byte %llu",
				 c->path, total, (unsigned long long)(start - c->base));
			c->done = 1;
			return -1;
		}
		if (rm_cur_sub(&c->cur, total - 8, &body)) {
			c->cur.p = start;
			return cut(c, "a block longer than what is left", err, errlen);
		}
		body.end -= 4; /* the trailing copy of the length */
		/* A leading length that was damaged would step over the blocks
		 * it covers, their frames lost without a word; the trailing copy
		 * tells (libpcap refuses such a block too). */
		if (u32(c, body.end) != total) {
			c->cur.p = start;
			snprintf(err, errlen,
				 "%s: malformed: block length %u at byte %llu, but %u at its end",
				 c->path, total, (unsigned long long)(start - c->base),
				 u32(c, body.end));
			c->done = 1;
			return -1;
		}
		const uint8_t *b;
		int rc = NG_NO_IFACE;
		uint32_t id = 0;
		switch (type) {
		case PCAPNG_IDB:
			add_iface(c, body);
			continue;
		case PCAPNG_EPB: /* interface id(4) */
		case PCAPNG_PB:	 /* interface id(2), drops(2) */
			if (!(b = rm_cur_take(&body, 20)))
				break;
			id = type == PCAPNG_PB ? u16(c, b) : u32(c, b);
			if ((rc = packet_block(c, &body, b, id, f)) == 0)
				return 1;
			break;
		case PCAPNG_SPB:
			if (!(b = rm_cur_take(&body, 4)))
				break;
			{
				/* The frame is min(original length, interface 0's snap
				 * length), padded to 4: what is left of the block past
				 * that is padding, not the frame's. */
				uint32_t len = u32(c, b), caplen = (uint32_t)rm_cur_left(&body);
				uint32_t snap = c->n_ifs ? c->ifs[0].snaplen : 0;
				caplen = len < caplen ? len : caplen;
				caplen = snap && snap < caplen ? snap : caplen;
				if (ng_frame(c, 0, NULL, body.p, caplen, len, f) == 0)
					return 1;
			}
			break;
		default:
			continue; /* name resolution, statistics, custom: not frames */
		}
		if (rc == NG_BAD_TIME) /* ng_frame checked id */
			snprintf(err, errlen,
				 "%s: malformed: packet block at byte %llu: its timestamp, with "
				 "interface %u's if_tsoffset of %lld s, is before 1970 or after "
				 "2554",
				 c->path, (unsigned long long)(start - c->base), id,
				 (long long)c->ifs[id].tsoffset);
		else
			snprintf(
			    err, errlen,
			    "%s: malformed: packet block of type %u at byte %llu (its lengths, or "
			    "an interface not described)",
			    c->path, type, (unsigned long long)(start - c->base));
		c->done = 1;
		return -1;
	}
}

int rm_capture_next(struct rm_capture *c, struct rm_capture_frame *f, char *err, size_t errlen)
{
	if (c->done)
		return 0;
	int rc = c->ng ? next_ng(c, f, err, errlen) : next_pcap(c, f, err, errlen);
	if (rc == 0)
		c->done = 1;
	return rc;
}
