/* io: the file-system interface through which every file operation of the
 * engine goes (LevelDB's Env), so tests can inject faults.
 *
 * An io_env is a table of operations. io_env_posix() is the real one (a
 * process-wide singleton). io_env_fault_create() wraps another env and can
 * inject EIO, ENOSPC and short writes, and simulate a crash: every byte not
 * made durable by io_file_sync() (and every create/rename/unlink not made
 * durable by io_sync_dir() of its directory) is dropped, then all further
 * operations fail with EIO until io_env_fault_reset().
 *
 * Errors: every function returns 0 (or a count) on success and -errno on
 * failure (-EIO, -ENOSPC, -ENOENT, ...). A short write is reported as an
 * error (-EIO) by io_file_append() after the partial bytes were written.
 * Thread rules: an io_env is safe from any thread; an io_file is used by one
 * thread at a time, except io_file_pread(), which is safe concurrently on a
 * file opened with io_open_read().
 *
 * Posix env details:
 * - A file opened for appending buffers up to 64 KB; the buffer goes to the
 *   OS when full, on io_file_flush/sync/close, and before an io_file_pread()
 *   of that file (so pread on a file being appended is NOT concurrency-safe).
 *   Appends of 64 KB or more are written directly. io_file_size() of an
 *   appending file counts buffered bytes; of a read-only file it is fstat().
 * - io_file_sync() is fdatasync(): it does not make a new file's directory
 *   entry durable; call io_sync_dir() on its directory for that (and after
 *   rename/unlink that must survive a crash).
 * - io_lock() uses flock(): a second io_lock() of the same path in the same
 *   process also fails with -EWOULDBLOCK. The lock file is never deleted.
 * - All descriptors are O_CLOEXEC.
 *
 * Fault env details:
 * - Counted operations (io_env_fault_ops(), EIO `after`): open*, append,
 *   flush, sync, pread, rename, unlink, mkdir, sync_dir, exists, get_size,
 *   truncate, list_dir, lock. Not counted, never failed by an armed fault:
 *   io_file_size, io_file_prefetch, io_file_map, io_file_close,
 *   io_unlock. A rename matches path_substr when either path contains it.
 * - A syncer's sync (io_file_syncer) counts as durable the file's size, but
 *   no more than its writer had appended (a mapped file spans its
 *   reservation).
 * - Once an EIO fault fires, every later matching operation fails too, until
 *   io_env_fault_reset() (or io_env_fault_set() re-arms it).
 * - ENOSPC: an append larger than the budget left writes the bytes that fit,
 *   then returns -ENOSPC; later matching appends write nothing.
 * - SHORT_WRITE: only appends count; the first failing append writes n/2
 *   bytes then returns -EIO, later matching appends write nothing, -EIO.
 * - Crash model (io_env_fault_crash()): for each path opened for writing
 *   through the fault env, the file is truncated to its size at the last
 *   io_file_sync() (io_open_append truncates: 0 until synced;
 *   io_open_append_existing: the size at open counts as durable). A file
 *   created by io_open_append() through the env is deleted unless io_sync_dir()
 *   of its directory succeeded after its creation. Directories are compared as
 *   spelled: "a/b/x" belongs to io_sync_dir("a/b") (or "a/b/"), a path without
 *   '/' to ".". rename() moves the tracking to the new name; renaming onto
 *   an existing file counts as durable (the new file survives a crash);
 *   renaming a created, not dir-synced file to a new name leaves it to be
 *   deleted. unlink, mkdir, and renames are otherwise not rolled back.
 * - After a crash every operation, including io_file_size (-EIO) and
 *   io_file_close (-EIO; the file is freed, its unflushed bytes dropped),
 *   fails. Files opened before a crash stay dead after io_env_fault_reset();
 *   reopen them. Close every file before io_env_fault_destroy().
 * - One mutex serializes all operations of a fault env (tests only). */
#ifndef LSM_UTIL_IO_H
#define LSM_UTIL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct io_env;
struct io_file;
struct io_lock;

struct io_env *io_env_posix(void);

/* Open for appending; creates or truncates. */
int io_open_append(struct io_env *env, const char *path, struct io_file **out);
/* Open an existing file for appending at its end (no truncation). */
int io_open_append_existing(struct io_env *env, const char *path, struct io_file **out);
/* Open an existing file for reading (pread). */
int io_open_read(struct io_env *env, const char *path, struct io_file **out);

/* Writes all n bytes (buffered by the env, not necessarily durable). */
int io_file_append(struct io_file *f, const void *data, size_t n);
/* Pushes buffered bytes to the OS (not durable). */
int io_file_flush(struct io_file *f);
/* Makes every appended byte durable (fdatasync). */
int io_file_sync(struct io_file *f);
/* Reads up to n bytes at off; returns bytes read (short only at EOF) or -errno. */
ssize_t io_file_pread(struct io_file *f, void *buf, size_t n, uint64_t off);
/* Size as seen by readers (appended bytes included). */
int64_t io_file_size(struct io_file *f);
/* *end = the end of the last non-zero byte of f from off to its end, or
 * off when there is none (a log's allocated tail, see io_file_map).
 * Reads everything after off. 0 or -errno (*end then as far as read). */
int io_file_data_end(struct io_file *f, uint64_t off, uint64_t *end);
/* Hint that [off, off+n) will be read soon (readahead); may be a no-op. */
void io_file_prefetch(struct io_file *f, uint64_t off, size_t n);
/* Allocates disk space for [off, off+n) of a file opened for appending,
 * without changing its size (fallocate FALLOC_FL_KEEP_SIZE; a mapped file,
 * io_file_map, grows instead), so that later
 * appends into that range cannot fail for lack of space when the buffer
 * reaches the OS. 0; -ENOSPC, -EDQUOT, -EFBIG or -EIO (nothing reserved).
 * 0 when the file system cannot reserve (those appends are then
 * unprotected). The space stays allocated beyond the end of the file until
 * the file is truncated or deleted. Not counted by the fault env and never
 * failed by an armed fault (its ENOSPC budget applies to appends). */
int io_file_reserve(struct io_file *f, uint64_t off, uint64_t n);
/* Mapped appends, for logs written in many small appends (the WAL, the
 * value log): f (opened for appending) gets a shared mapping of its first
 * len bytes. From then on io_file_reserve() grows the file over the space
 * it allocates (fallocate without FALLOC_FL_KEEP_SIZE), and an append that
 * lands in allocated space inside the mapping is a copy into it: no
 * system call, and no page-cache allocation on the caller's thread (a
 * thread of the file, "lsm-map", keeps up to 8 MiB ahead of the appends
 * in the page cache: it writes zeros there (pwrite, never past the file's
 * end, and never over bytes an append reached; an append that would copy
 * into a range it is zeroing waits for it), then maps those pages writable
 * (MADV_POPULATE_WRITE). They are dirty: a sync before the appends reach
 * them writes them as zeros. It drops the page-table entries
 * of the mapping 1 MiB behind them, never past the mapping's end). Other
 * appends are written (pwrite). Nothing is buffered any more: every appended byte is in the
 * OS when io_file_append returns, so io_file_flush has nothing to do, and
 * a process crash loses none of them. io_file_sync (fdatasync) covers the
 * copied bytes.
 * The file is then longer than its content: the reserved space after the
 * last append reads as zeros, and stays in the file after io_file_close()
 * (or a crash) until the caller truncates it to its content (io_truncate;
 * closing does not, as a truncate that frees blocks can wait for the
 * device). Readers of such a log must take zeros for its end.
 * A copy into a page that memory pressure evicted reads it back first; a
 * read error of the device then fails the append with -EIO, as write(2)
 * would (io_file_map installs a SIGBUS handler for that, once per
 * process; a SIGBUS anywhere else goes to the handler that was there
 * before, by default killing the process). The failed append may have
 * written part of its bytes; the file's size does not count them.
 * Truncate a mapped file only after io_file_close(): until then the
 * thread may be writing zeros up to the end the file had.
 * 0; -EINVAL (mapped already, len 0); -EBADF (read-only); -EOPNOTSUPP (the
 * kernel cannot populate pages ahead: before Linux 5.14), the file then
 * stays unmapped; or -errno of mmap. */
int io_file_map(struct io_file *f, uint64_t len);
/* A second handle on f's file that is only synced and closed: its
 * io_file_sync() makes durable every byte pushed to the OS through f
 * (io_file_flush) before that sync began, and can run on another thread
 * while f is appended to, flushed or closed (posix: fdatasync of a dup of
 * f's descriptor; bytes still in f's buffer are not covered). It outlives
 * f; close it with io_file_close(). 0 or -errno. Not counted by the fault
 * env and never failed by an armed fault; its sync is counted. */
int io_file_syncer(struct io_file *f, struct io_file **out);
/* Flushes, closes and frees; returns the first error seen. NULL is a no-op. */
int io_file_close(struct io_file *f);

int io_rename(struct io_env *env, const char *from, const char *to);
int io_unlink(struct io_env *env, const char *path);
int io_mkdir(struct io_env *env, const char *path);      /* exists = 0 */
int io_sync_dir(struct io_env *env, const char *dir);
int io_exists(struct io_env *env, const char *path);     /* 1, 0, or -errno */
int io_get_size(struct io_env *env, const char *path, uint64_t *size);
/* Bytes an unprivileged writer may still allocate on dir's file system
 * (statvfs f_bavail * f_frsize). Not counted by the fault env and never
 * failed by an armed fault; once its ENOSPC budget is armed it reports
 * that budget. */
int io_free_space(struct io_env *env, const char *dir, uint64_t *bytes);
int io_truncate(struct io_env *env, const char *path, uint64_t size);
/* Calls fn(name, arg) for each entry of dir except "." and ".."; stops and
 * returns fn's value when it is non-zero. */
int io_list_dir(struct io_env *env, const char *dir,
                int (*fn)(const char *name, void *arg), void *arg);
/* Exclusive advisory lock (flock) on path, created if absent; -EWOULDBLOCK
 * (== -EAGAIN) when another process holds it. */
int io_lock(struct io_env *env, const char *path, struct io_lock **out);
void io_unlock(struct io_lock *l);

/* ---- fault injection (tests only) ---- */
enum io_fault {
    IO_FAULT_NONE = 0,
    IO_FAULT_EIO,        /* the next matching operation fails with -EIO */
    IO_FAULT_ENOSPC,     /* appends fail with -ENOSPC once the budget is spent */
    IO_FAULT_SHORT_WRITE /* the next append writes half its bytes, then -EIO */
};

/* Wraps base (which must outlive it). */
struct io_env *io_env_fault_create(struct io_env *base);
void io_env_fault_destroy(struct io_env *env);
/* Arm a fault. For EIO/SHORT_WRITE, `after` = number of matching operations
 * that still succeed first; for ENOSPC, `after` = bytes that may still be
 * appended. path_substr (may be NULL) limits the fault to paths containing it
 * (e.g. ".wal"). Faults persist until io_env_fault_reset(). */
void io_env_fault_set(struct io_env *env, enum io_fault f, uint64_t after,
                      const char *path_substr);
/* Drop every unsynced byte and unsynced directory change, then fail all
 * further operations with -EIO (the "machine" is down). */
void io_env_fault_crash(struct io_env *env);
/* io_env_fault_crash, except that of each file's unsynced bytes a random
 * half of the 4 KiB pages (or 512-byte sectors) survive and the rest read
 * as zeros, in any order, as when the page cache had written some back
 * (seeded). */
void io_env_fault_crash_scatter(struct io_env *env, uint64_t seed);
/* Clear armed faults and the crashed state (the machine is back). */
void io_env_fault_reset(struct io_env *env);
/* Each later io_file_sync first sleeps usec outside the env's lock, so
 * other operations go on meanwhile (a slow disk); 0 = off. Kept across
 * io_env_fault_reset(). */
void io_env_fault_sync_delay(struct io_env *env, uint32_t usec);
/* The same for the syncs of files whose path contains path_substr only
 * (NULL = every file), e.g. ".sst" to hold a flush back. */
void io_env_fault_sync_delay_path(struct io_env *env, uint32_t usec, const char *path_substr);
/* Count of operations performed through the env (for tests that sweep). */
uint64_t io_env_fault_ops(struct io_env *env);

#endif
