/*
 * capture.h - capture files read in place (capture.c): classic pcap
 * (microsecond and nanosecond, both byte orders) and pcapng (several
 * interfaces, each with its link type, timestamp resolution and offset,
 * several sections, either byte order), plain or gzip-compressed.
 *
 * A plain file is mapped; a compressed one is inflated into memory once,
 * at open.  Frames are handed out as pointers into that image, never
 * copied, and stay valid until rm_capture_close.  The file is untrusted:
 * every record and block header is read through a checked cursor, and a
 * record that claims more bytes than are left ends the file as truncated
 * (rm_capture_next returns -1 with the offset), never a read past the end.
 */
#ifndef RM_CAPTURE_H
#define RM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define RM_LINKTYPE_ETHERNET 1

struct rm_capture_frame {
	const uint8_t *data;
	uint32_t caplen; /* bytes at data */
	uint32_t len;	 /* on the wire (>= caplen) */
	uint32_t linktype;
	/* A pcapng simple packet block has no timestamp: it takes the time of
	 * the last packet before it in the file that had one, and untimed is
	 * set (ts_ns 0) only when none had. */
	uint32_t untimed;
	uint64_t ts_ns; /* capture time, ns since the epoch */
};

struct rm_capture;

/*
 * Open the capture at path: NULL with a reason naming it (not there, not
 * a capture file, a bad or truncated header, a broken compressed stream).
 */
struct rm_capture *rm_capture_open(const char *path, char *err, size_t errlen);
/* The same for the n bytes at p (copied), named name in reasons: for the
 * fuzzer (tests/fuzz/fuzz_capture.c). */
struct rm_capture *rm_capture_open_mem(const uint8_t *p, size_t n, const char *name, char *err,
				       size_t errlen);
/*
 * The next frame into *f: 1; 0 at the end of the file; -1 when the file
 * is cut short or a block is malformed, with the reason (naming the file
 * and offset) in err.  After -1 or 0, every call returns 0.
 */
int rm_capture_next(struct rm_capture *c, struct rm_capture_frame *f, char *err, size_t errlen);
/*
 * Frames in the capture at path, up to its end or to a record cut short
 * (libpcap, which net_pcap reads through, stops there too): how many
 * packets a net_pcap port reading the file will deliver, so that rirmeter
 * stops right after the last.  -1 with a reason when it cannot be opened.
 */
long long rm_capture_count(const char *path, char *err, size_t errlen);
/* Bytes of the capture's image (after decompression). */
uint64_t rm_capture_size(const struct rm_capture *c);
void rm_capture_close(struct rm_capture *c);

#endif
