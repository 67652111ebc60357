/*
 * snapshot.h - the compiled snapshot file.
 *
 * A snapshot is the normalized model laid out as arrays that a process can
 * mmap and use in place: no parsing at start-up.  Layout:
 *
 *   header (64 bytes)  magic "RIRMSNAP", format version, file size,
 *                      section count, CRC-32C of the whole file (computed
 *                      with the CRC field zero), build time, byte-order tag
 *   section table      one entry per section: type, element size, offset,
 *                      element count
 *   sections           each 64-byte aligned (2 MiB for large ones), so that
 *                      arrays can be read in place with natural alignment
 *                      and the big tables can sit on huge pages
 *
 * Opening checks, in order, and refuses with a reason: magic, version,
 * byte order, size against the file, section bounds and element sizes,
 * the checksum, then the model's own invariants (rm_db_check), so that a
 * file with a valid checksum over hostile contents is still refused.
 */
#ifndef RM_SNAPSHOT_H
#define RM_SNAPSHOT_H

#include "model.h"

/* Bumped whenever a reader of the previous version could misread a new
 * file, so that it names the version instead: 7, the input record's two
 * new reasons (refused at its header, used with records missing), which a
 * version-6 reader refused as "bad input record". */
#define RM_SNAPSHOT_VERSION 7

struct rm_snapshot;
struct rm_dir24; /* dir24.h */
struct rm_trie6; /* trie6.h */

/*
 * Write db to path atomically (temporary file, fsync, rename).  The fast
 * lookup tables are built here from the ranges.
 */
int rm_snapshot_write(const struct rm_db *db, const char *path, char *err, size_t errlen);

/* Map and validate; NULL with a reason in err. */
struct rm_snapshot *rm_snapshot_open(const char *path, char *err, size_t errlen);

/*
 * RM_SNAP_HUGEPAGE reads the file into private anonymous memory backed by
 * transparent huge pages (madvise) instead of mapping it: a random lookup
 * in the big tables does not also miss the TLB, and rewriting the file in
 * place cannot disturb a running reader.  Costs one read of the file
 * (about 46 MB, tens of milliseconds) at open.
 */
#define RM_SNAP_HUGEPAGE 1u
struct rm_snapshot *rm_snapshot_open_flags(const char *path, unsigned flags, char *err,
					   size_t errlen);
/* Bytes of the private copy RM_SNAP_HUGEPAGE made (0: file-mapped). */
size_t rm_snapshot_hugepage_bytes(const struct rm_snapshot *s);
const struct rm_db *rm_snapshot_db(const struct rm_snapshot *s);
/* The fast tables of the db above, checked against it when mapped.  Users
 * of lookups get them through lookup.h (rm_lookup_bind). */
const struct rm_dir24 *rm_snapshot_dir24(const struct rm_snapshot *s);
const struct rm_trie6 *rm_snapshot_trie6(const struct rm_snapshot *s);
uint64_t rm_snapshot_size(const struct rm_snapshot *s);
uint32_t rm_snapshot_crc(const struct rm_snapshot *s);
void rm_snapshot_close(struct rm_snapshot *s);

/* CRC-32C (Castagnoli), hardware-assisted where the CPU has SSE4.2. */
uint32_t rm_crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven path alone, for CPUs without SSE4.2 (and its tests). */
uint32_t rm_crc32c_portable(uint32_t crc, const void *buf, size_t len);

#endif
