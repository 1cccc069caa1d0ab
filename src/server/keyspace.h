/* keyspace: the Redis keyspace (databases 0..databases-1, keys, types, TTLs)
 * stored in the engine (liblsm). The byte layout is docs/format-keyspace.md.
 *
 * Owns: the engine handle, the db -> namespace map, the exact per-namespace
 * counters (keys, keys with an expire, sum of expire times), the TTL index,
 * the persistent SCAN cursors, the current transaction, active and lazy
 * expiry, and the durability state (appendfsync, persistence error).
 *
 * Encoding in one paragraph: a stored key is a namespace id (fixed32 big
 * endian) + the user key. Each db maps to a namespace; FLUSHDB gives the db a
 * fresh namespace (one metadata write, O(1)) and the old one becomes dead: it
 * is invisible at once, dropped by the compaction filter and reclaimed by a
 * background compact_range. SWAPDB swaps two map entries. Namespace 0 holds
 * metadata (map, counters, TTL index, cursors, the chunks of long strings
 * that range writes changed). A value record is type byte + flags byte +
 * [expire_at_ms fixed64] + value bytes.
 *
 * Transactions: every command runs inside a transaction. The dispatcher
 * calls ks_txn_begin() before the handler and ks_txn_commit() after it;
 * EXEC wraps all queued commands in one (begin/commit nest: only the
 * outermost commit writes). Every change of the transaction (data, TTL
 * index, counters, map) goes to the engine as ONE atomic batch, written
 * without fsync (group commit: ks_before_sleep() syncs once per loop
 * iteration under appendfsync always). Reads see the transaction's own
 * writes first. The transaction's clock is fixed at its outermost begin
 * (ks_now()), like Redis' command time: nothing expires mid-transaction.
 *
 * Invariants (after every commit, and after a crash + reopen):
 *  - a record in ns with expire_at E has the TTL index entry (E, ns, key);
 *    an entry whose record has another expire or is gone (left by a blind
 *    SET, below) is stale: the loop deletes it once the counting thread
 *    has reported it (ks_defer_tick), and expiry drops one still there when
 *    it is due;
 *  - the counters of a namespace, plus the deltas of its blind SETs not yet
 *    counted, equal its number of records and records with an expire
 *    (expired-but-not-yet-deleted ones included; readers of
 *    ks_dbsize/ks_expires get exact live figures because those first add
 *    every outstanding delta and delete every due key). While some blind
 *    SET may be missing from the stored counters, the D record is stored,
 *    and ks_open recounts from the data when it finds it; while it is
 *    stored, commits leave their counter records to the one that deletes
 *    it.
 *
 * Blind SETs (ks_overwrite): a SET that does not read the key; ks_defer
 * finds on its own thread whether the key existed, at a snapshot taken
 * before the write (see ks_defer.h and docs/format-keyspace.md). A key
 * written lately is not read either: the write table (ks_wtab.h) holds
 * its record's type and expire, which every read of a key's metadata
 * uses.
 *
 * Keys and values are binary safe (any bytes, any length). Returned codes:
 * 0/1 results as documented, or a negative LSM_E* code from engine/lsm.h
 * (LSM_EINVAL for a bad db index or a call outside a transaction).
 *
 * Thread rules: loop thread only, except the compaction filter (pool
 * threads) which only reads a mutex-protected copy of the namespace map,
 * and ks_defer's thread, which only reads the engine through snapshots. */
#ifndef LSM_SERVER_KEYSPACE_H
#define LSM_SERVER_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct io_env;
struct lsm_db;
struct lsm_options;

/* Value types (the record's type byte). Only strings exist so far; the other
 * numbers are reserved so TYPE and WRONGTYPE can be added without a format
 * change. */
enum ks_type {
    KS_TYPE_STRING = 0,
    KS_TYPE_LIST = 1,
    KS_TYPE_SET = 2,
    KS_TYPE_ZSET = 3,
    KS_TYPE_HASH = 4,
    KS_TYPE_STREAM = 5,
};

/* Redis' TYPE name of a type ("string", "list", ...; "none" for < 0). */
const char *ks_type_name(int type);

/* A looked-up value. data/len stay valid until ks_value_free(). */
#define KS_VALUE_INLINE 256
/* data may point into the struct itself (a small value read from the
 * engine): use it in place, never copy a ks_value by assignment. */
struct ks_value {
    int type;                       /* enum ks_type */
    int64_t expire_at;              /* absolute ms (UNIX epoch), -1 = none */
    const char *data;
    size_t len;
    uint64_t off;                   /* data holds the bytes [off, off + len) */
    uint64_t total;                 /* of a string this long */
    void *alloc_;                   /* private */
    int alloc_kind_;                /* private */
    char inline_[KS_VALUE_INLINE];  /* private; stays the last field */
};
void ks_value_free(struct ks_value *v);   /* safe on a zeroed/freed value */

/* ---- lifecycle ---- */

/* Engine and keyspace settings, filled from server_cfg by the server (tests
 * fill them directly). ks_options_init() sets the defaults. */
struct ks_options {
    int databases;                  /* 16 */
    int appendfsync;                /* KS_FSYNC_EVERYSEC */
    int64_t cursor_ttl_ms;          /* how long a SCAN cursor stays valid: 1 day */
    size_t block_cache_size;        /* engine defaults (lsm_options_init) */
    size_t value_cache_size;
    size_t write_buffer_size;
    int bg_threads;
    int bloom_bits_per_key;
    int compression;                /* enum lsm_compression */
    int max_open_files;
    size_t value_separation_threshold;
    uint64_t vlog_file_size;
    double vlog_gc_ratio;
    double vlog_gc_max_mbps;
    int mapped_logs;                /* lsm_options.mapped_logs */
    int reclaim;                    /* 1: compact dead namespaces away in the
                                     * background after FLUSHDB/FLUSHALL */
    int defer_flush;                /* 1: commits leave their WAL record in
                                     * the engine's buffer (no write() per
                                     * command); ks_flush pushes them to the
                                     * OS — call it before their replies go
                                     * out (0 = each commit pushes) */
    size_t write_table_size;        /* bytes of the write table (ks_wtab.h):
                                     * 32 MB */
    int defer_counts;               /* 1: ks_overwrite may write without
                                     * reading the key; a thread counts it
                                     * later (ks_defer.h). Needs
                                     * ks_defer_tick() called between
                                     * commands. 0: it reads first */
    size_t string_chunk_size;       /* a string that APPEND, SETRANGE or
                                     * SETBIT leave at 2 x this size or
                                     * longer is kept in chunks of this
                                     * size, so that such a write touches
                                     * one chunk, not the whole string
                                     * (64 KiB; 0 = never) */
    struct io_env *env;             /* NULL = the real file system (tests
                                     * pass a fault-injecting one) */
};
enum { KS_FSYNC_NO = 0, KS_FSYNC_EVERYSEC = 1, KS_FSYNC_ALWAYS = 2 };
void ks_options_init(struct ks_options *o);

/* Opens (creating) the engine in dir and loads the map and counters.
 * Returns 0, or an LSM_E* code with a message in err. */
int ks_open(const char *dir, const struct ks_options *opt, char *err, size_t errlen);
/* Commits nothing (an open transaction is aborted), waits for the background
 * reclaim, syncs and closes the engine. Returns the first error (0 = fine). */
int ks_close(void);
/* 1 between ks_open and ks_close. */
int ks_is_open(void);
/* The engine handle (INFO, tests). NULL when closed. */
struct lsm_db *ks_engine(void);
/* Changes the fsync policy at run time (CONFIG SET appendfsync). */
void ks_set_appendfsync(int policy);
/* Changes how long new SCAN cursors stay valid (CONFIG SET scan-cursor-ttl). */
void ks_set_cursor_ttl(int64_t ms);

/* ---- transactions ---- */

/* Opens a transaction, or nests inside the open one (depth + 1). */
void ks_txn_begin(void);
/* Outermost: writes every change as one engine batch (sync=0), then calls
 * the touch hook for every key changed. Returns 0, or the LSM_E* code when
 * the engine refused the batch (or writes are refused, see ks_write_error):
 * then NOTHING of the transaction was applied, in the engine or in memory.
 * A transaction whose only changes are lazy-expiry deletions never fails
 * (the deletions are simply retried later). Nested: 0 and depth - 1. */
int ks_txn_commit(void);
/* Drops every change of the transaction (any depth; closes it entirely). */
void ks_txn_abort(void);
/* Transaction depth (0 = none open). */
int ks_txn_depth(void);
/* 1 when the open transaction has changes a commit would write (besides
 * lazy-expiry deletions). */
int ks_txn_dirty(void);
/* The transaction's clock (ms, wall): fixed at the outermost begin; outside
 * a transaction the current time. Expiry decisions use it. */
int64_t ks_now(void);

/* ---- keys (inside a transaction; db in [0, databases)) ---- */

/* 1 found (out filled, free with ks_value_free), 0 absent or expired,
 * < 0 error. out may be NULL (existence test). */
int ks_lookup(int db, const char *key, size_t klen, struct ks_value *out);
/* ks_lookup for a reader of part of a string: the value holds at least the
 * bytes [off, off + len) of the string that exist (out->off, out->len: the
 * bytes it holds; out->total: the string's length). A string kept in chunks
 * is read only where the range falls; another is read whole (off 0). */
int ks_lookup_range(int db, const char *key, size_t klen, uint64_t off, uint64_t len,
                    struct ks_value *out);
/* Writes n bytes at offset off of the string of key (SETRANGE; APPEND at
 * its length), zero bytes filling any gap, keeping its expire; an absent
 * key becomes a string. A string kept in chunks is rewritten only in the
 * chunks the range touches. The caller checked that the key holds no
 * other type and the size limit. *newlen: the string's length after.
 * Returns 1 existed / 0 created / < 0 error. */
int ks_write_range(int db, const char *key, size_t klen, uint64_t off, const void *data,
                   size_t n, uint64_t *newlen);
/* RENAME (replace 1) or RENAMENX (0) of src to dst, two different keys of
 * db, when src holds a string kept in chunks: its record and index entry
 * move to dst with its expire, its chunks stay where they are (keyed by
 * the string's id), and whatever dst held goes. 1 moved, 0 not (dst
 * exists and replace is 0), 2 src is not such a string (or is absent):
 * nothing done, the caller renames the generic way; < 0 error. */
int ks_rename_chunked(int db, const char *src, size_t slen, const char *dst, size_t dlen,
                      int replace);
/* A hint that key of db will be read soon (lsm_prefetch); no effect on
 * results, nothing when the keyspace is closed or db is out of range. */
void ks_prefetch(int db, const char *key, size_t klen);
/* Like ks_lookup without returning the value bytes: type and expire_at
 * (either may be NULL). 1 found, 0 absent/expired, < 0 error. */
int ks_lookup_meta(int db, const char *key, size_t klen, int *type,
                   int64_t *expire_at);
/* Like ks_lookup_meta, with the value's length instead of its bytes: the
 * value is not read (a separated one stays in the value log). 1 found (type
 * and *len set), 0 absent/expired, < 0 error. */
int ks_lookup_len(int db, const char *key, size_t klen, int *type, uint64_t *len);
/* MEMORY USAGE: the bytes the key's entries take in the engine before
 * compression (its record, or its value-log entry and pointer, and its TTL
 * index entry). 1 found, 0 absent/expired, < 0 error. */
int ks_usage(int db, const char *key, size_t klen, uint64_t *bytes);
/* 1 if the key exists (not expired), 0 if not, < 0 error. */
int ks_exists(int db, const char *key, size_t klen);
/* Stores (type, data) with expire_at (-1 = none; a time <= ks_now() deletes
 * the key instead, like Redis' SET with a past EXAT). Returns 1 if the key
 * existed before, 0 if not, < 0 error. */
int ks_set(int db, const char *key, size_t klen, int type,
           const void *data, size_t len, int64_t expire_at);
/* ks_set for a caller that does not need to know whether the key existed
 * (SET, SETEX, PSETEX, MSET, GETSET): the write may skip reading the key,
 * which is then counted later (ks_defer.h). Returns 0 or < 0 error. */
int ks_overwrite(int db, const char *key, size_t klen, int type,
                 const void *data, size_t len, int64_t expire_at);
/* Like ks_set but keeps the key's current expire (SET KEEPTTL, APPEND,
 * INCR, SETRANGE). Returns 1 existed / 0 new / < 0. */
int ks_set_keepttl(int db, const char *key, size_t klen, int type,
                   const void *data, size_t len);
/* Deletes; 1 if it existed (not expired), 0 if not, < 0 error. */
int ks_delete(int db, const char *key, size_t klen);
/* Sets (expire_at >= 0) or removes (expire_at = -1, PERSIST) the expire of
 * an existing key; a time <= ks_now() deletes the key. Returns 1 when the
 * key exists (and was updated or deleted), 0 when absent, < 0 error. The
 * value is rewritten (a future engine call may avoid fetching it); the same
 * expire again writes nothing, but watchers are told, as Redis does. */
int ks_set_expire(int db, const char *key, size_t klen, int64_t expire_at);

/* Tests: the clock expiry decisions use (NULL = clock_ms). */
void ks_set_clock(int64_t (*now_ms)(void));

/* ---- databases ---- */

int ks_databases(void);
/* Exact number of live keys / live keys with an expire (due keys are
 * deleted first, inside the transaction). < 0 on error. */
long long ks_dbsize(int db);
long long ks_expires(int db);
/* Average remaining TTL in ms of keys with an expire (0 when none), as
 * INFO keyspace's avg_ttl. */
long long ks_avg_ttl(int db);
/* O(1): the db gets a fresh namespace, the old data is invisible at once
 * and reclaimed in the background. 0 or < 0. */
int ks_flushdb(int db);
int ks_flushall(void);
/* O(1): exchanges the contents of two dbs. 0 or < 0. */
int ks_swapdb(int a, int b);

/* ---- iteration (SCAN, KEYS, RANDOMKEY) ---- */

/* Iterates the live keys of one db in byte order: a consistent snapshot of
 * the engine taken at creation, merged with the open transaction's changes,
 * expired keys skipped. Create inside a transaction; destroy before it
 * commits. */
struct ks_iter;
/* Positioned at the first live key >= start (start NULL = the first key). */
struct ks_iter *ks_iter_create(int db, const char *start, size_t slen);
void ks_iter_destroy(struct ks_iter *it);
void ks_iter_seek(struct ks_iter *it, const char *key, size_t klen);
int ks_iter_valid(const struct ks_iter *it);
void ks_iter_next(struct ks_iter *it);
/* Current key / type / expire (-1 none) / value; valid until the next move. */
const char *ks_iter_key(const struct ks_iter *it, size_t *klen);
int ks_iter_type(const struct ks_iter *it);
int64_t ks_iter_expire(const struct ks_iter *it);
/* The value of a string kept in chunks is not assembled here: NULL. */
const char *ks_iter_value(const struct ks_iter *it, size_t *vlen);
/* 0, or the engine error that stopped the iteration. */
int ks_iter_status(const struct ks_iter *it);

/* A random live key of db into out (replaced). 1 found, 0 db empty, < 0. */
int ks_random_key(int db, struct buf *out);

/* ---- SCAN cursors ----
 * A cursor is a decimal handle of a persistent record (db, resume key,
 * expiry ks_options.cursor_ttl_ms): it survives restarts, and any number of
 * scans may be open. 0 is never a saved cursor (it means "start"). */

/* Saves a resume point (the next key to return, i.e. SCAN resumes at the
 * first key >= resume) and returns its cursor (> 0) in *cursor. 0 or < 0.
 * Written with the open transaction. */
int ks_cursor_save(int db, const char *resume, size_t rlen, uint64_t *cursor);
/* Loads a cursor: *db and the resume key (into resume, replaced). 1 found,
 * 0 unknown or expired, < 0 error. */
int ks_cursor_load(uint64_t cursor, int *db, struct buf *resume);

/* ---- hooks, expiry, durability ---- */

/* Called after a successful commit for every key it changed (set, deleted,
 * expired), and by active expiry; key NULL (klen 0) = the whole db changed
 * (FLUSHDB, FLUSHALL, SWAPDB). For WATCH. NULL removes the hook. The hook
 * runs after the commit, outside any transaction: it must not call ks_*
 * functions that need one. */
typedef void (*ks_touch_fn)(int db, const char *key, size_t klen);
void ks_set_touch_hook(ks_touch_fn fn);
/* While on, the keys written (set, deleted) are changed without the touch
 * hook hearing of them at the commit, unless the transaction writes the
 * same key again while it is off: Redis changes a few values without
 * telling watchers (PFDEBUG TODENSE and GETREG, a BITFIELD that only
 * created its key). Returns the previous setting; the caller restores it
 * before its handler returns. */
int ks_quiet(int on);

/* Active expiry (Redis' activeExpireCycle), called from the cron outside
 * any transaction: deletes due keys in expire order, walking the TTL index
 * only (never the keyspace), for at most budget_us microseconds. Returns
 * the number of keys deleted, or < 0 on error. */
long long ks_active_expire_cycle(int64_t budget_us);
/* Keys deleted because they expired (active expiry, reads or writes that
 * found them expired, and a SET whose expire time had passed, which Redis
 * sets and expires), in committed transactions since the start or
 * ks_reset_expired_keys() (INFO stats expired_keys, CONFIG RESETSTAT). */
uint64_t ks_expired_keys(void);
void ks_reset_expired_keys(void);

/* Deferred counting, outside any transaction: hands the blind writes
 * staged so far to the counting thread (once there are enough of them, or
 * always with cron), adds the counts it has finished, and deletes the
 * stale TTL index entries it has found (in a transaction of its own). Call it each loop
 * iteration, and with cron ~10 times a second: that also writes the
 * counters and drops the "not all counted" mark once nothing is
 * outstanding. */
void ks_defer_tick(int cron);

/* Call in the loop's before-sleep step, BEFORE any reply is written. Under
 * appendfsync always, syncs once if anything was committed since the last
 * sync. Returns 0, or the sync's LSM_E* code: then every write committed in
 * this iteration is not known durable and its client must not get a reply
 * (close it); the persistence error is set. */
int ks_before_sleep(void);
/* Once a second from the cron: the everysec sync, lsm_resume after a
 * background error, clearing the persistence error once the engine accepts
 * writes again. */
void ks_cron_second(void);
/* Makes every committed write durable now (lsm_sync). 0 or < 0. */
int ks_sync(void);
/* For a caller that runs lsm_sync itself (on another thread): records the
 * result of a sync that started when ks_commit_count() was `covered` —
 * statistics, the persistence error on failure, the pending flag. Loop
 * thread. */
void ks_sync_done(int rc, uint64_t covered);
/* BGSAVE: asks the background sync thread to make every write committed so
 * far durable now (lsm_sync), whatever appendfsync says. 0, or -1 while an
 * earlier request is queued or running. */
int ks_bgsave(void);
/* BGSAVE inside EXEC: the sync is asked for at the next ks_cron_second,
 * after the transaction's writes are committed. */
void ks_bgsave_schedule(void);
/* 1 while a BGSAVE's sync is queued or running. */
int ks_bgsave_in_progress(void);
/* UNIX time in ms of the last successful sync by any path (SAVE, BGSAVE,
 * everysec, always), or of the open: LASTSAVE and rdb_last_save_time. */
int64_t ks_last_save_ms(void);
/* 1 if writes committed since the last successful sync (group commit). */
int ks_sync_pending(void);
/* defer_flush: 1 while commits wait in the engine's WAL buffer. */
int ks_unflushed(void);
/* Pushes them to the OS (one write for all): 0, or the engine's error (then
 * writes are refused like after a failed commit). Loop thread. */
int ks_flush(void);
/* Counter of committed write transactions; the dispatcher compares it
 * before/after a command to know whether the client's reply must wait for
 * the sync. */
uint64_t ks_commit_count(void);

/* Writes are refused (persistence error or the engine's background error):
 * returns 1 and writes the full error reply text (without '-') to buf, e.g.
 * "MISCONF Errors writing to the AOF file: No space left on device"; 0 when
 * writes are accepted. */
int ks_write_error(char *buf, size_t buflen);

/* Appends the INFO section `name` ("persistence", "lsm", "keyspace",
 * "memory" extra lines) to b, fields as "name:value\r\n" without the
 * "# Section" header. Returns 1 if the section is ours, 0 otherwise. */
int ks_info_section(const char *name, struct buf *b);

#endif
