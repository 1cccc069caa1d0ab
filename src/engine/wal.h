/* wal: the log file format of the engine (write-ahead logs and MANIFEST files).
 *
 * A log is a sequence of 32 KB blocks. A record (any byte string, empty
 * included) is written as one or more fragments; a fragment never spans a
 * block. Each fragment = header (masked crc32c: 4 bytes LE, length: 2 bytes
 * LE, type: 1 byte) + payload. The crc covers the type byte and the payload.
 * Type FULL holds a whole record; FIRST, MIDDLE..., LAST hold the pieces of a
 * larger one. When fewer than 7 bytes remain in a block they are zero padding
 * (a "trailer") and the next fragment starts in the next block. Byte layout:
 * docs/format-wal.md.
 *
 * Reading: wal_reader_next() returns records in order. A damaged region after
 * which no valid fragment follows (a torn tail: a crash during the last
 * append, a truncated file, zeroed or garbage bytes at the end) is reported
 * as the clean end of the log, and wal_reader_torn() says where the last
 * complete record ended (truncate the file there before appending to it).
 * Damage after which another record starts is corruption: LSM_ECORRUPT
 * with the file name and offset in wal_reader_error(). With WAL_READ_TOLERANT
 * the reader instead skips damaged fragments, counts them in
 * wal_reader_dropped_bytes(), and goes on (recovery of older logs).
 *
 * Writer: after an I/O error the writer is unusable (sticky error: every
 * later call returns it), because a half-written record may be on disk.
 * Thread rules: a writer or reader is used by one thread at a time (the WAL
 * writer by the thread that commits writes). */
#ifndef LSM_ENGINE_WAL_H
#define LSM_ENGINE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct io_env;
struct io_file;

#define WAL_BLOCK_SIZE 32768
#define WAL_HEADER_SIZE 7   /* crc32c (4) + length (2) + type (1) */

enum wal_record_type {
    WAL_ZERO = 0,     /* never written: zeroed/preallocated space */
    WAL_FULL = 1,
    WAL_FIRST = 2,
    WAL_MIDDLE = 3,
    WAL_LAST = 4
};
#define WAL_MAX_TYPE WAL_LAST

/* ---- writer ---- */
struct wal_writer;

/* Creates (or truncates) path and returns a writer on it: 0, LSM_EIO,
 * LSM_ENOSPC. env NULL = io_env_posix(). */
int wal_writer_open(struct io_env *env, const char *path, struct wal_writer **out);
/* A writer over an already open file (takes ownership: wal_writer_close
 * closes it) whose current length is `offset`, e.g. a log reopened with
 * io_open_append_existing() to append after its last complete record.
 * Never fails (allocation aborts). */
struct wal_writer *wal_writer_create(struct io_file *f, uint64_t offset);
/* Writes the log through a shared mapping of its first len bytes
 * (io_file_map): appends are copies into the page cache, none buffered.
 * From then on each record first has its disk space allocated, step bytes
 * ahead when possible (a full disk then fails that record, whole, and the
 * writer stays usable). The file keeps the allocated zeros after its last
 * record (the reader takes them for its end). 0, or LSM_EIO etc. of
 * io_file_map (the writer is then unchanged, buffered). */
int wal_writer_map(struct wal_writer *w, uint64_t len, uint64_t step);
/* Appends one record (buffered by the io layer, not durable): 0, LSM_EIO,
 * LSM_ENOSPC, or the sticky error of an earlier failure. */
int wal_writer_add(struct wal_writer *w, struct slice record);
/* Pushes appended bytes to the OS (visible to readers, not durable). */
int wal_writer_flush(struct wal_writer *w);
/* Makes every appended record durable (group commit: many adds, one sync). */
int wal_writer_sync(struct wal_writer *w);
/* Pushes appended bytes to the OS and returns in *file a handle whose
 * io_file_sync() makes them durable from any thread while the writer goes
 * on (io_file_syncer); the caller closes it. 0, LSM_EIO, or the sticky
 * error. */
int wal_writer_syncer(struct wal_writer *w, struct io_file **file);
/* File offset after the last appended record = bytes in the file. */
uint64_t wal_writer_size(const struct wal_writer *w);
/* Bytes of the file = disk allocated by a mapped writer: at least
 * wal_writer_size(); more when wal_writer_map reserved space ahead. */
uint64_t wal_writer_allocated(const struct wal_writer *w);
/* The sticky error (0 when none). */
int wal_writer_error(const struct wal_writer *w);
/* Closes the file (no sync) and frees; returns the first error seen.
 * NULL is a no-op. */
int wal_writer_close(struct wal_writer *w);

/* ---- reader ---- */
struct wal_reader;

enum wal_read_flags {
    WAL_READ_STRICT = 0,
    WAL_READ_TOLERANT = 1   /* skip damaged fragments, count dropped bytes */
};

/* Opens path for reading: 0, LSM_ENOENT (no such file), LSM_EIO. */
int wal_reader_open(struct io_env *env, const char *path, int flags,
                    struct wal_reader **out);
/* A reader over an open file (takes ownership); name is used in messages. */
struct wal_reader *wal_reader_create(struct io_file *f, const char *name, int flags);
/* Reads the next record into rec (contents replaced). Returns 1 = a record,
 * 0 = end of the log (clean, or a torn tail: see wal_reader_torn),
 * LSM_ECORRUPT = damage in the middle of the log (strict mode only), LSM_EIO.
 * After 0 or an error every later call returns the same. */
int wal_reader_next(struct wal_reader *r, struct buf *rec);
/* File offset where the record last returned starts. */
uint64_t wal_reader_record_offset(const struct wal_reader *r);
/* File offset just after the last record returned (= where a writer may
 * continue once the reader reached the end). After LSM_ECORRUPT it is the
 * end of the last good record, so a caller may choose point-in-time
 * recovery (keep [0, end) and stop) instead of failing. */
uint64_t wal_reader_end_offset(const struct wal_reader *r);
/* 1 when the log ended in a torn tail; *offset (may be NULL) = where the
 * last complete record ended, i.e. the length to truncate the file to. */
int wal_reader_torn(const struct wal_reader *r, uint64_t *offset);
/* 1 when a strict reader stopped at damage with a valid record after it
 * (wal_reader_next returned LSM_ECORRUPT); *offset (may be NULL) = where
 * the damaged fragment starts. */
int wal_reader_damaged(const struct wal_reader *r, uint64_t *offset);
/* Bytes skipped as damaged (tolerant mode) plus bytes of a torn tail. */
uint64_t wal_reader_dropped_bytes(const struct wal_reader *r);
/* Message for the last corruption or I/O error ("file: offset N: reason"),
 * or a note on what was dropped in tolerant mode; "" when none. */
const char *wal_reader_error(const struct wal_reader *r);
/* Closes the file and frees. NULL is a no-op. */
void wal_reader_close(struct wal_reader *r);

#endif
