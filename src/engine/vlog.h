/* vlog: the value log of key/value separation (WiscKey).
 *
 * A value of at least value_separation_threshold bytes is written once to the
 * active segment `NNNNNN.vlog`; the LSM keeps a value pointer instead
 * (LSM_TYPE_VPTR). A segment is a 16-byte file header followed by entries,
 * each readable and verifiable on its own:
 *   fixed32 masked crc32c of everything after it | fixed32 key length |
 *   fixed32 stored value length | u8 flags (bit 0: snappy) | 3 zero bytes |
 *   key | stored value
 * A pointer names {segment, offset, entry length, raw value length} plus up
 * to VLOG_PREFIX_MAX leading bytes of the raw value (so a caller that needs
 * only a value's header gets it without a read). Byte layout, sync order,
 * recovery and GC: docs/format-vlog.md.
 *
 * This module owns the files: the writer of the active segment (append, flush,
 * sync, seal), the table of readable segments (one read handle each, opened
 * lazily, closed when the segment is dropped and its last reader is done),
 * point reads by pointer (one pread, crc verified, never returned as data when
 * damaged: LSM_ECORRUPT naming file and offset), and the sequential scanner
 * used by GC and recovery (stops at a torn tail). The manifest records (which
 * segments exist, sizes, discard counts) belong to the caller (vlog_gc.c).
 *
 * Thread rules: the writer functions (vlog_new_segment, vlog_add*, vlog_flush,
 * vlog_sync, vlog_seal) are called by one thread at a time (the write leader);
 * each runs under the writer lock. vlog_read, vlog_seg_* and the stats are
 * safe from any thread. The active segment is read through its own read
 * handle, which sees what was pushed to the OS; appended bytes may stay in
 * the writer's buffer after their pointer is published, and a vlog_read that
 * needs them pushes the buffer itself (under the writer lock). */
#ifndef LSM_ENGINE_VLOG_H
#define LSM_ENGINE_VLOG_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct io_env;
struct io_file;

#define VLOG_FILE_HEADER_SIZE 16
#define VLOG_ENTRY_HEADER_SIZE 16
#define VLOG_PREFIX_MAX 16
#define VLOG_FLAG_SNAPPY 1
#define VLOG_MAGIC "lsmvlog1"            /* 8 bytes, then fixed64 segment number */

/* A decoded value pointer. */
struct vlog_ptr {
    uint64_t segment;
    uint64_t offset;          /* of the entry header */
    uint32_t length;          /* whole entry: header + key + stored value */
    uint32_t value_len;       /* raw (uncompressed) value length */
    uint32_t prefix_len;      /* min(value_len, VLOG_PREFIX_MAX) */
    char prefix[VLOG_PREFIX_MAX];
};

/* Appends the encoding of p to out:
 * varint64 segment, varint64 offset, varint32 length, varint32 value_len,
 * then prefix_len bytes of prefix (prefix_len = min(value_len, 16)). */
void vlog_ptr_encode(const struct vlog_ptr *p, struct buf *out);
/* 0, or LSM_ECORRUPT for a malformed pointer. */
int vlog_ptr_decode(struct slice in, struct vlog_ptr *p);

/* Encodes one entry into out (appended); compress: try snappy (values of at
 * least VLOG_COMPRESS_MIN bytes) and keep it when it saves >= 12.5%.
 * Returns 1 when the value was stored compressed. vlog_add skips the snappy
 * attempt for most values of a run of incompressible ones (see vlog.c). */
#define VLOG_COMPRESS_MIN 64
int vlog_entry_encode(struct buf *out, struct slice key, struct slice value, int compress);
/* Same with an already stored value (GC copies without recompressing). */
void vlog_entry_encode_stored(struct buf *out, struct slice key, struct slice stored,
                              int flags);
/* Verifies one whole entry (exactly its bytes): 0, or LSM_ECORRUPT with a
 * static reason in *why. key / stored point into in; *flags set. */
int vlog_entry_parse(struct slice in, struct slice *key, struct slice *stored, int *flags,
                     const char **why);
/* Raw value of a stored value: 0 or LSM_ECORRUPT (bad snappy data). */
int vlog_value_decode(struct slice stored, int flags, struct buf *value);

/* ---- the segment set ---- */
struct vlog;

struct vlog *vlog_create(struct io_env *env, const char *dir, int compress);
/* Segments created from now on are written through a shared mapping of
 * their first len bytes (io_file_map; best effort), 0 = never (the
 * default). Their files then hold allocated zeros after the last entry
 * until sealed, also after a crash (recovery keeps the valid prefix). */
void vlog_map_segments(struct vlog *vl, uint64_t len);
/* Closes every handle (the active segment is synced first); NULL no-op. */
void vlog_destroy(struct vlog *vl);
/* Detail of this thread's last vlog error ("" when none). */
const char *vlog_last_error(void);

/* Registers an existing, sealed segment for reading (size = its valid
 * length). */
void vlog_seg_add(struct vlog *vl, uint64_t number, uint64_t size);
/* Forgets a segment: new reads of it fail; its handle is closed when the
 * last running read ends. The file is not deleted here. */
void vlog_seg_drop(struct vlog *vl, uint64_t number);
/* 1 when the segment is registered. */
int vlog_seg_exists(struct vlog *vl, uint64_t number);

/* ---- writer (one thread at a time) ---- */
/* Creates NNNNNN.vlog, writes and syncs its header, opens it for reading and
 * makes it the active segment (the previous one must be sealed). The caller
 * syncs the directory and records the segment in the manifest before any
 * pointer into it can become durable. 0 or LSM_E*. */
int vlog_new_segment(struct vlog *vl, uint64_t number);
/* vlog_new_segment in two steps, so the file work (create, header, fsync)
 * can run ahead on another thread. Prepare (any thread, no writer state
 * touched): creates NNNNNN.vlog with its synced header and, best effort,
 * reserves `reserve` bytes of disk after it (io_file_reserve). Activate
 * (writer): makes it the active segment (none may be active) and takes
 * the file. Discard: closes and deletes a prepared segment never
 * activated. The caller's duties of vlog_new_segment (directory sync,
 * manifest) apply before activation. */
struct vlog_prepared {
    uint64_t number;
    struct io_file *f;       /* NULL: nothing prepared */
    uint64_t reserved;       /* disk allocated up to here */
};
int vlog_prepare_segment(struct vlog *vl, uint64_t number, uint64_t reserve,
                         struct vlog_prepared *out);
int vlog_activate_segment(struct vlog *vl, struct vlog_prepared *p);
void vlog_prepared_discard(struct vlog *vl, struct vlog_prepared *p);
/* 1 when there is an active segment. */
int vlog_has_active(struct vlog *vl);
uint64_t vlog_active_number(struct vlog *vl);
uint64_t vlog_active_size(struct vlog *vl);      /* bytes appended so far */
/* Appends one entry to the active segment (buffered) and fills *p. */
int vlog_add(struct vlog *vl, struct slice key, struct slice value, struct vlog_ptr *p);
/* Same with a stored value (GC); value_len/prefix come from the caller's
 * old pointer. */
int vlog_add_stored(struct vlog *vl, struct slice key, struct slice stored, int flags,
                    const struct vlog_ptr *old, struct vlog_ptr *p);
/* Pushes appended bytes to the OS (readers see them; survives a process
 * crash). */
int vlog_flush(struct vlog *vl);
/* Makes every appended byte durable (fdatasync) when some are not yet. */
int vlog_sync(struct vlog *vl);
/* Pushes appended bytes to the OS and returns in *file a handle that
 * io_file_sync() makes them durable through, from any thread, without the
 * writer lock (io_file_syncer), with the segment's number and the bytes
 * it covers (*upto). *file is NULL when no segment is active or nothing
 * was appended since the segment was last known durable (an fsync costs a
 * device flush even when the file is clean). The caller closes it. Later
 * appends may or may not be covered. */
int vlog_syncer(struct vlog *vl, struct io_file **file, uint64_t *number, uint64_t *upto);
/* A handle from vlog_syncer(number, upto) was fsynced: when nothing was
 * appended since, the segment is durable (vlog_dirty 0, and the next
 * vlog_syncer returns no handle). */
void vlog_synced(struct vlog *vl, uint64_t number, uint64_t upto);
/* 1 when bytes were appended since the segment was last made durable
 * (vlog_sync, or vlog_synced). */
int vlog_dirty(struct vlog *vl);
/* Syncs and closes the active segment's writer; it stays readable with its
 * final size, returned in *size. No active segment after this. */
int vlog_seal(struct vlog *vl, uint64_t *number, uint64_t *size);

/* Like vlog_seal but without the fsync: pushes the buffer to the OS and hands
 * the writer's file to the caller, who must io_file_sync() and
 * io_file_close() it (from any one thread), and may give back the disk
 * space reserved past *size by truncating the file to *size (a truncate
 * that frees blocks can wait for the device's discard). The segment stays
 * readable. */
int vlog_seal_detach(struct vlog *vl, uint64_t *number, uint64_t *size,
                     struct io_file **file);

/* Gives up the active segment after a write error: its file is closed
 * without flushing the buffer; it stays readable up to what was flushed. */
void vlog_abandon(struct vlog *vl);

/* ---- reads (any thread) ---- */
/* Reads the entry p points at with one pread, verifies it and its key
 * (key may be NULL: not checked), and decodes the raw value into value.
 * 0; LSM_ECORRUPT (damaged entry, missing segment, pointer beyond the
 * segment) or LSM_EIO, with vlog_last_error() = "path: offset N: reason". */
int vlog_read(struct vlog *vl, const struct vlog_ptr *p, const struct slice *key,
              struct buf *value);
/* Readahead hint for a pointer (forward scans). */
void vlog_prefetch(struct vlog *vl, const struct vlog_ptr *p);

/* ---- stats ---- */
struct vlog_io_stats {
    uint64_t bytes_written;   /* entries + headers appended */
    uint64_t reads;
    uint64_t bytes_read;
};
void vlog_get_io_stats(struct vlog *vl, struct vlog_io_stats *out);
/* Counts bytes read by a scanner as read (GC). */
void vlog_count_read(struct vlog *vl, uint64_t bytes);

/* ---- sequential scanner (GC, recovery) ---- */
struct vlog_scanner;

/* Opens path for a sequential read and checks the file header (number must
 * match). limit: bytes to consider (UINT64_MAX = the file size). 0 or LSM_E*
 * (LSM_ECORRUPT: bad or short header, with vlog_last_error()). */
int vlog_scan_open(struct io_env *env, const char *path, uint64_t number, uint64_t limit,
                   struct vlog_scanner **out);
/* Next entry: 1 (key, stored value, flags, its offset and length set; valid
 * until the next call), 0 at the end. At a damaged or truncated entry it
 * returns 0 too, with vlog_scan_torn() = 1: the valid prefix ends at
 * vlog_scan_end(). I/O errors: < 0. */
int vlog_scan_next(struct vlog_scanner *s, struct slice *key, struct slice *stored,
                   int *flags, uint64_t *offset, uint32_t *length);
int vlog_scan_torn(const struct vlog_scanner *s);
/* Offset just after the last valid entry returned. */
uint64_t vlog_scan_end(const struct vlog_scanner *s);
/* Reason of the stop when torn (static). */
const char *vlog_scan_why(const struct vlog_scanner *s);
void vlog_scan_close(struct vlog_scanner *s);

#endif
