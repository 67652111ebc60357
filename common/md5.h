/*
 * md5.h - MD5 (RFC 1321), for the registries' published .md5 files
 * (rirdb/fetch.c).  Not a secure hash: see md5.c.
 */
#ifndef RM_MD5_H
#define RM_MD5_H

#include <stddef.h>
#include <stdint.h>

struct rm_md5 {
	uint32_t h[4];
	uint64_t len;
	uint8_t buf[64];
};
void rm_md5_init(struct rm_md5 *s);
void rm_md5_update(struct rm_md5 *s, const void *data, size_t n);
void rm_md5_final(struct rm_md5 *s, uint8_t out[16]);

#endif
