/*
 * scanner.h - find IPv4 and IPv6 address literals in a stream of text.
 *
 * A Hyperscan database ("::"), compiled once and shared read-only by every
 * thread, and a vector classifier (dotted quads, eight hex groups) find
 * candidates; a validator decides.  A scanner is one stream:
 * feed it buffers of any size, cut anywhere, and it reports each address
 * once, in stream order, exactly as if the text had come in one piece.
 *
 * The rules (README "rirdb scan"):
 *   - A token is a maximal run of [0-9A-Fa-f.:]; an IPv6 address may be
 *     followed by a zone "%" [A-Za-z0-9_.-]+, which is skipped and is part
 *     of no other token.  After anything else '%' is punctuation and what
 *     follows it is read as text ("1.2.3.4:80%eth0" is 1.2.3.4).
 *   - Trailing dots are sentence punctuation and dropped, as is a single
 *     trailing or leading ':' (not "::"): "from 1.2.3.4." and "ip:1.2.3.4".
 *   - The characters just outside the token must not be a letter, digit or
 *     '_' (no addresses inside words: "v1.2.3.4", "1.2.3.4x"), except
 *     beyond a dropped ':' (a separator); dropped dots join, so the word
 *     beyond them counts ("host.1.2.3.4", "4.3.2.1.in-addr.arpa").  A hex
 *     letter before ':' is part of the token: "id:fe80::1" is the token
 *     "d:fe80::1" after the word "i", not an address.
 *     A token right after "word/" is a product's version, not an address
 *     ("Chrome/120.0.0.0"); after "/" alone it is one ("GET /1.2.3.4").
 *   - IPv4 is exactly four decimal octets 0-255 without leading zeros
 *     ("01.2.3.4" is ambiguous and refused; "1.2.3.4.5" is a version).
 *     "1.2.3.4:443" is the address with a port.
 *   - IPv6 is any RFC 4291 text form, with "::" compression and an IPv4
 *     tail; it needs at least one hex digit (a bare "::" is punctuation).
 *     "::ffff:a.b.c.d" (IPv4-mapped) is reported as the IPv4 address.
 *     Brackets ("[2001:db8::1]:443") delimit like any other punctuation.
 *   - A token longer than RL_SCAN_MAX_TOKEN characters is not an address.
 *   Hence MAC addresses (six groups), times ("12:34:56") and hex words are
 *   never reported; eight colon-separated hex groups are an IPv6 address.
 */
#ifndef RL_SCAN_H
#define RL_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define RL_SCAN_MAX_TOKEN 96

struct rl_found {
	int v6;		    /* 0: IPv4 in v4; 1: IPv6 in v6 */
	uint32_t v4;	    /* host order */
	uint8_t v6addr[16]; /* network order */
	uint64_t offset;    /* stream offset of the token's first character */
	uint32_t len;	    /* of the token as it was read (zone included) */
};

typedef void (*rl_found_fn)(void *ctx, const struct rl_found *f);

struct rl_scan_db;
struct rl_scanner;

/* Compile the candidate patterns; NULL with a message in err on failure. */
struct rl_scan_db *rl_scan_db_new(char *err, size_t errlen);
void rl_scan_db_free(struct rl_scan_db *db);

/* One stream with its own Hyperscan scratch, for one thread. */
struct rl_scanner *rl_scanner_new(const struct rl_scan_db *db, char *err, size_t errlen);
void rl_scanner_free(struct rl_scanner *s);

/* Feed the next piece of the stream; 0, or -1 on a Hyperscan error. */
int rl_scanner_feed(struct rl_scanner *s, const char *buf, size_t len, rl_found_fn fn, void *ctx);
/* The same without a copy: the caller reads up to len bytes into the room
 * (NULL when out of memory) and commits what it read. */
char *rl_scanner_room(struct rl_scanner *s, size_t len);
int rl_scanner_commit(struct rl_scanner *s, size_t len, rl_found_fn fn, void *ctx);
/* End the stream (report what waited for its right edge); the scanner is
 * then ready for a new stream at offset 0. */
int rl_scanner_end(struct rl_scanner *s, rl_found_fn fn, void *ctx);

/* The validator alone: is text[0..len) with the given neighbours (-1: the
 * stream's edge) an address?  Fills f except offset; 1 yes, 0 no. */
int rl_scan_token(const char *text, size_t len, int left, int right, struct rl_found *f);

#endif
