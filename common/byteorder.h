/*
 * byteorder.h - big-endian loads and stores at any alignment, the one set
 * every folder uses.
 *
 * Network headers, flow export datagrams, the snapshot's keys and the
 * IPFIX messages rirmeter writes are big-endian and, inside a datagram or
 * a frame, at any alignment.  These are the Linux kernel's
 * get_unaligned_be16() and put_unaligned_be32() and their kin under this
 * project's prefix: a fixed-size copy to or from a local (no alignment
 * assumed, no strict-aliasing question) and one byte swap, which GCC and
 * clang compile to a single movbe, or a load and a bswap (rol for 16
 * bits), on x86-64.  __builtin_memcpy rather than memcpy so that the copy
 * is expanded inline whatever the flags (-fno-builtin, -O0) and this
 * header needs no <string.h>.
 *
 * The swap is unconditional: the project builds for x86-64 only (lookup/
 * has AVX2 variants, the dataplane runs DPDK there), and a big-endian
 * host fails the static assertion below rather than reading every field
 * wrong.
 *
 * Contract: p points to at least 2, 4 or 8 readable (get) or writable
 * (put) bytes; nothing is checked here.  Bounds are the caller's job (see
 * dataplane/cursor.h for a checked reader).
 */
#ifndef RM_BYTEORDER_H
#define RM_BYTEORDER_H

#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "byteorder.h assumes a little-endian host");

/* Reverse the bytes of v: a native value of a foreign byte order (a pcap
 * file written on the other kind of host) into this host's. */
static inline uint16_t rm_bswap16(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t rm_bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static inline uint64_t rm_bswap64(uint64_t v)
{
	return __builtin_bswap64(v);
}

/* The big-endian unsigned integer at p. */
static inline uint16_t rm_get_be16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

static inline uint32_t rm_get_be32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint64_t rm_get_be64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* Store v at p, big-endian. */
static inline void rm_put_be16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	__builtin_memcpy(p, &v, 2);
}

static inline void rm_put_be32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	__builtin_memcpy(p, &v, 4);
}

static inline void rm_put_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	__builtin_memcpy(p, &v, 8);
}

#endif
