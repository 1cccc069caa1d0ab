/* lsm.h: the public interface of liblsm, lsmdb's storage engine.
 *
 * An embedded, ordered key/value store on a log-structured merge tree: writes
 * go to a write-ahead log and a memtable, memtables are flushed to sorted
 * tables (SSTables) in level 0, and a background pool compacts levels. Keys
 * and values are arbitrary byte strings, ordered bytewise. This header is the
 * only one a user of the engine includes; it knows nothing of RESP.
 *
 * Errors: every call returns 0 (LSM_OK) or a negative LSM_E* code; calls that
 * return a pointer take an `int *err` out-parameter. lsm_last_error() gives
 * the message of the last error on this thread (file, offset, reason).
 * Corrupt files are reported as LSM_ECORRUPT, never asserted. An I/O error in
 * a background job (flush, compaction) becomes the database's sticky error:
 * writes fail with it, reads go on, lsm_resume() retries.
 *
 * Thread rules: a struct lsm_db is safe to use from many threads at once;
 * writes are serialized internally (a writer queue; concurrent writers are
 * group-committed). A batch, iterator or snapshot handle is used by one
 * thread at a time. Memory returned to the caller (lsm_get values) is freed
 * with lsm_free().
 *
 * Durability: a write with sync = 1 is in the fsynced WAL when the call
 * returns 0. A write with sync = 0 has been handed to the OS (it survives a
 * crash of the process, not of the machine) until a later sync write or
 * lsm_sync() makes it durable. A write that returned an error may or may not
 * be present after a restart; every write that returned 0 (and was synced) is.
 * Design notes: docs/engine-core.md; formats: docs/format-*.md. */
#ifndef LSM_ENGINE_LSM_H
#define LSM_ENGINE_LSM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lsm_error {
    LSM_OK = 0,
    LSM_ENOTFOUND = -1,     /* key absent (lsm_get only) */
    LSM_ECORRUPT = -2,      /* a file failed its checksum or format checks */
    LSM_EIO = -3,           /* an I/O error (see lsm_last_error) */
    LSM_ENOSPC = -4,        /* out of disk space */
    LSM_EINVAL = -5,        /* bad argument or option */
    LSM_EBUSY = -6,         /* the directory is locked by another process */
    LSM_ECLOSED = -7,       /* the database is shutting down */
    LSM_EEXIST = -8,        /* error_if_exists and the database exists */
    LSM_ENOENT = -9         /* no database and create_if_missing is off */
};

/* Static message for a code ("corruption", "I/O error", ...). */
const char *lsm_strerror(int code);
/* Detailed message of this thread's last failed call; "" when none. */
const char *lsm_last_error(void);

enum lsm_compression { LSM_COMPRESSION_NONE = 0, LSM_COMPRESSION_SNAPPY = 1 };

struct io_env;  /* from util/io.h; NULL means the real file system */

/* What compaction_filter_ex sees of an entry (see lsm_options). */
struct lsm_filter_entry {
    const char *key;
    size_t klen;
    const char *value;      /* the value, or its first bytes when value_is_prefix */
    size_t vlen;            /* bytes at value */
    size_t value_len;       /* length of the whole value */
    int value_is_prefix;    /* 1: a separated value, only its prefix is here */
};
enum lsm_filter_decision { LSM_FILTER_KEEP = 0, LSM_FILTER_DROP = 1, LSM_FILTER_REPLACE = 2 };

/* Options: lsm_options_init() fills in every default shown here. lsm_open()
 * returns LSM_EINVAL when write_buffer_size < 64 KiB, max_write_buffers < 2,
 * block_size < 64, block_restart_interval < 1, max_open_files < 10,
 * l0 triggers not ordered compaction <= slowdown <= stop,
 * max_bytes_for_level_base or target_file_size < 4096, or
 * level_size_multiplier < 2. Level sizes are static (L1 = base, each next
 * level x multiplier); up to bg_threads - 1 compactions run at once (one
 * thread is kept for flushes; at least 2 threads are started). */
struct lsm_options {
    int create_if_missing;          /* 1 */
    int error_if_exists;            /* 0 */
    size_t write_buffer_size;       /* 64 MiB: memtable size before it is frozen */
    int max_write_buffers;          /* 2: memtables (active + immutable) before writes stall */
    size_t block_size;              /* 4096: target uncompressed data-block size */
    int block_restart_interval;     /* 16: keys between restart points */
    int bloom_bits_per_key;         /* 10: 0 disables bloom filters */
    enum lsm_compression compression; /* LSM_COMPRESSION_SNAPPY */
    size_t block_cache_size;        /* 256 MiB, in bytes of cached blocks */
    int max_open_files;             /* 1000: table readers kept open */
    int bg_threads;                 /* 0 = number of online cores */
    int l0_compaction_trigger;      /* 4 files */
    int l0_slowdown_trigger;        /* 20 files: each write is delayed 1 ms */
    int l0_stop_trigger;            /* 36 files: writes wait for compaction */
    uint64_t max_bytes_for_level_base; /* 256 MiB: size of L1 */
    int level_size_multiplier;      /* 10 */
    uint64_t target_file_size;      /* 64 MiB */
    uint64_t soft_pending_compaction_bytes; /* 64 GiB: slowdown */
    uint64_t hard_pending_compaction_bytes; /* 256 GiB: stop */
    int paranoid_checks;            /* 0: 1 = verify checksums of every read */
    struct io_env *env;             /* NULL */
    /* Compaction filter: called during compaction for the newest version of
     * a key in that compaction when it is a value that every live snapshot
     * already sees; return 1 to drop it (the key becomes absent: the entry
     * turns into a deletion, so older versions stay hidden), 0 to keep it.
     * NULL = keep everything. Runs on pool threads, concurrently. */
    int (*compaction_filter)(void *arg, const char *key, size_t klen,
                             const char *val, size_t vlen);
    void *compaction_filter_arg;
    /* Extended compaction filter (used instead of compaction_filter when
     * set; same call rule). For a separated value it gets only the value's
     * first bytes (e->value_is_prefix = 1, e->value_len = the full length)
     * and no value-log read happens; the plain filter instead reads the whole
     * value. Returns LSM_FILTER_KEEP, LSM_FILTER_DROP, or LSM_FILTER_REPLACE
     * with *new_value / *new_len set to the new value (the filter's memory,
     * copied before the next call; stored inline, so keep it small). */
    int (*compaction_filter_ex)(void *arg, const struct lsm_filter_entry *e,
                                const char **new_value, size_t *new_len);
    /* Key/value separation (docs/format-vlog.md): a value of at least
     * value_separation_threshold bytes is written once to the value log and
     * the LSM keeps a small pointer to it; invisible to callers except in
     * stats. 0 disables separation (existing value-log data stays readable).
     * lsm_open returns LSM_EINVAL when vlog_file_size < 4096, vlog_gc_ratio
     * <= 0 or vlog_gc_max_mbps < 0. */
    size_t value_separation_threshold;  /* 1024 bytes (docs/benchmarks.md sweep) */
    uint64_t vlog_file_size;            /* 256 MiB: a segment is sealed at this size */
    double vlog_gc_ratio;               /* 0.5: collect a segment once discard/size
                                         * reaches it (> 1: no automatic GC) */
    double vlog_gc_max_mbps;            /* 64: GC read rate limit, MiB/s; 0 = none */
    /* 1: the WAL and the active value-log segment are written through a
     * shared mapping of space allocated ahead (io_file_map): an append is
     * a copy, no system call. Their files then hold zeros after their
     * content until sealed or closed. 0: buffered appends and write(2).
     * Either way, every byte a write appended is in the OS when it
     * returns. */
    int mapped_logs;                    /* 1 */
    /* A cache of separated values as read from the value log (decoded and
     * checked), keyed by where they are, so a value read again costs a
     * copy instead of a pread, a CRC and snappy. Gets and iterators fill
     * it; GC does not. Values above 1/32 of it are not cached. 0 = none;
     * none either under paranoid_checks, which verifies every read. */
    size_t value_cache_size;            /* 64 MiB */
};

void lsm_options_init(struct lsm_options *o);

struct lsm_db;
struct lsm_batch;
struct lsm_snapshot;
struct lsm_iter;

/* Open (creating dir and the database when create_if_missing) the database
 * in dir; recovers from the manifest and write-ahead logs (replayed WALs are
 * written to L0 tables before the call returns). Takes dir/LOCK: LSM_EBUSY
 * when another process (or another open handle) has it. LSM_ENOENT: no
 * database and create_if_missing is 0; LSM_EEXIST: error_if_exists; LSM_EINVAL:
 * bad options; LSM_ECORRUPT: damaged CURRENT/manifest/WAL (a torn tail of a
 * log is not damage: it is dropped); LSM_EIO / LSM_ENOSPC. *out is NULL on
 * error. */
int lsm_open(const char *dir, const struct lsm_options *opt, struct lsm_db **out);
/* Refuses new writes (LSM_ECLOSED), waits for queued writers and running
 * background jobs (which stop early), flushes nothing (the WAL holds the
 * memtable), syncs the WAL, frees everything (also on error). Every iterator
 * and snapshot must have been released. Returns 0, the WAL sync error, or the
 * sticky background error. NULL is a no-op. */
int lsm_close(struct lsm_db *db);

/* ---- writes ---- */
struct lsm_write_options {
    int sync;                       /* 1: durable before the call returns */
};
/* wo may be NULL: sync = 1. Each returns 0, the sticky background error
 * (writes are refused while one is set), LSM_ECLOSED while closing, or the
 * WAL's LSM_EIO / LSM_ENOSPC (which also becomes the sticky error). A write
 * may stall (see lsm_stats stall_*): 1 ms when L0 has l0_slowdown_trigger
 * files, until the background catches up when the memtables are full or L0
 * has l0_stop_trigger files (logged). Keys and values may be empty. */
int lsm_put(struct lsm_db *db, const struct lsm_write_options *wo,
            const void *key, size_t klen, const void *val, size_t vlen);
int lsm_delete(struct lsm_db *db, const struct lsm_write_options *wo,
               const void *key, size_t klen);
/* Applies every operation of the batch atomically (one sequence range). */
int lsm_write(struct lsm_db *db, const struct lsm_write_options *wo,
              struct lsm_batch *batch);
/* Makes every write acknowledged so far durable (group commit: many sync=0
 * writes, then one lsm_sync). Other writers are held only while the logs
 * are pushed to the OS, not during the fsyncs. Same errors as lsm_write. */
int lsm_sync(struct lsm_db *db);
/* lsm_write with sync = 0 whose WAL record may stay in the process's
 * buffer (no write() per call): lsm_flush_wal, lsm_sync or a later
 * lsm_write pushes it to the OS. Until then a process crash may lose it:
 * acknowledge such writes only after lsm_flush_wal returned 0. Readers see
 * the write at once. Same errors as lsm_write. */
int lsm_write_buffered(struct lsm_db *db, struct lsm_batch *batch);
/* Pushes WAL bytes left buffered by lsm_write_buffered to the OS (the
 * value-log bytes they point at first), so a process crash loses none of
 * them (one write() for many writes). Same errors as lsm_write (a failure
 * also becomes the sticky error). */
int lsm_flush_wal(struct lsm_db *db);

struct lsm_batch *lsm_batch_create(void);
void lsm_batch_destroy(struct lsm_batch *b);
void lsm_batch_clear(struct lsm_batch *b);
void lsm_batch_put(struct lsm_batch *b, const void *key, size_t klen,
                   const void *val, size_t vlen);
void lsm_batch_delete(struct lsm_batch *b, const void *key, size_t klen);
/* Replaces the first n bytes (1 <= n <= LSM_PATCH_MAX, else LSM_EINVAL) of
 * the key's value as it stands when the batch is applied (after the batch's
 * own earlier operations), keeping the rest and the length: a value of
 * fewer than n bytes takes only its length's worth; an absent key stays
 * absent (the operation becomes a deletion). A separated value is not read
 * or rewritten: the new bytes live in its pointer (docs/format-vlog.md), so
 * changing a large value's header costs no value-log I/O. */
#define LSM_PATCH_MAX LSM_VALUE_PREFIX_MAX   /* 16 */
int lsm_batch_patch(struct lsm_batch *b, const void *key, size_t klen, const void *data,
                    size_t n);
uint32_t lsm_batch_count(const struct lsm_batch *b);
size_t lsm_batch_size(const struct lsm_batch *b);   /* encoded bytes */

/* ---- reads ---- */
struct lsm_read_options {
    const struct lsm_snapshot *snapshot;  /* NULL = latest */
    int fill_cache;                       /* 1: blocks read go to the cache */
    int verify_checksums;                 /* 1 */
    /* Iterator bounds (NULL = unbounded): lower inclusive, upper exclusive. */
    const void *lower_bound;
    size_t lower_bound_len;
    const void *upper_bound;
    size_t upper_bound_len;
};
void lsm_read_options_init(struct lsm_read_options *ro);

/* On success *val (allocated, NUL-terminated for convenience, free with
 * lsm_free) and *vlen are set. LSM_ENOTFOUND when the key is absent at the
 * snapshot (or latest); LSM_ECORRUPT / LSM_EIO from a table (message names
 * the file). Reads work while a background error is set. ro may be NULL. */
int lsm_get(struct lsm_db *db, const struct lsm_read_options *ro,
            const void *key, size_t klen, char **val, size_t *vlen);
void lsm_free(void *p);
/* lsm_get for a caller with a buffer of its own: when the value and a NUL
 * fit in buf (cap bytes), they are copied there and *val = buf (nothing to
 * free); a bigger value is allocated as lsm_get's (free *val with lsm_free
 * when it is not buf; buf may be NULL with cap 0). The lookup assembles the
 * value in a buffer kept per thread, so a small value costs no allocation.
 * Same errors as lsm_get. */
int lsm_get_into(struct lsm_db *db, const struct lsm_read_options *ro,
                 const void *key, size_t klen, char *buf, size_t cap,
                 char **val, size_t *vlen);

/* lsm_get_into that may lend the value instead of copying it: a separated
 * value the value cache holds is not copied. Then *pin is set, *val points
 * into the cache (read only) and stays valid until lsm_unpin(db, *pin),
 * which must come before lsm_close. Otherwise *pin is NULL and *val is as
 * lsm_get_into sets it (buf, or allocated: free with lsm_free when it is
 * not buf). Same errors as lsm_get. */
int lsm_get_lent(struct lsm_db *db, const struct lsm_read_options *ro,
                 const void *key, size_t klen, char *buf, size_t cap,
                 const char **val, size_t *vlen, void **pin);
void lsm_unpin(struct lsm_db *db, void *pin);

/* A hint that key will be read soon: asks for the cache lines its get reads
 * first (the memtables' hash slots), so that work done meanwhile overlaps
 * their memory latency. No I/O, no effect on results, any thread. */
void lsm_prefetch(struct lsm_db *db, const void *key, size_t klen);

/* Reads the first bytes of a key's value without fetching a separated value
 * from the value log: up to cap bytes (at most LSM_VALUE_PREFIX_MAX of a
 * separated value) are copied to buf, *got = bytes copied, *full_len = the
 * whole value's length. Same errors as lsm_get. */
#define LSM_VALUE_PREFIX_MAX 16
int lsm_get_prefix(struct lsm_db *db, const struct lsm_read_options *ro,
                   const void *key, size_t klen, char *buf, size_t cap, size_t *got,
                   size_t *full_len);

/* A snapshot pins the last sequence number at creation: reads through it see
 * exactly the writes acknowledged before it; compaction keeps every version
 * it can see. Release it (before lsm_close) to let compaction drop them. */
const struct lsm_snapshot *lsm_snapshot_create(struct lsm_db *db);
void lsm_snapshot_release(struct lsm_db *db, const struct lsm_snapshot *s);
uint64_t lsm_snapshot_sequence(const struct lsm_snapshot *s);

/* The iterator sees the snapshot of ro (or the state at creation), bounded
 * by ro's lower (inclusive) / upper (exclusive) bounds, which are copied.
 * It starts invalid: position it with a seek. next/prev on an invalid
 * iterator are no-ops. A read error or corruption makes it invalid with a
 * non-zero lsm_iter_status() (which also sets lsm_last_error). The files it
 * reads stay on disk until it is destroyed. Never NULL. */
struct lsm_iter *lsm_iter_create(struct lsm_db *db, const struct lsm_read_options *ro);
void lsm_iter_destroy(struct lsm_iter *it);
void lsm_iter_seek_to_first(struct lsm_iter *it);
void lsm_iter_seek_to_last(struct lsm_iter *it);
void lsm_iter_seek(struct lsm_iter *it, const void *key, size_t klen);  /* first >= key */
void lsm_iter_seek_for_prev(struct lsm_iter *it, const void *key, size_t klen); /* last <= key */
void lsm_iter_next(struct lsm_iter *it);
void lsm_iter_prev(struct lsm_iter *it);
int lsm_iter_valid(const struct lsm_iter *it);
/* Valid until the next move or destroy. A separated value is read from the
 * value log at the first lsm_iter_value() of an entry (a scan of keys alone
 * never reads it); when that read fails, lsm_iter_value() returns NULL with
 * *len = 0 and the iterator becomes invalid with lsm_iter_status() set. */
const char *lsm_iter_key(const struct lsm_iter *it, size_t *len);
const char *lsm_iter_value(const struct lsm_iter *it, size_t *len);
/* The first bytes of the current value without a value-log read: the whole
 * value when it is stored inline, else its first LSM_VALUE_PREFIX_MAX bytes;
 * *full_len = the whole value's length. NULL on a malformed pointer. */
const char *lsm_iter_value_prefix(const struct lsm_iter *it, size_t *len, size_t *full_len);
int lsm_iter_status(const struct lsm_iter *it);     /* 0 or LSM_E* */

/* ---- maintenance ---- */
/* Freezes the memtable (no-op when it is empty) and flushes it to L0;
 * wait = 1 blocks until every memtable frozen so far is in a table. Returns
 * 0 or the sticky background error (e.g. the flush failed). */
int lsm_flush(struct lsm_db *db, int wait);
/* Flushes the memtable, then compacts every file overlapping user keys
 * [begin, end] (NULL = unbounded) level by level down to the deepest level
 * holding data in that range (L0 always moves to L1), whose files in the
 * range are rewritten in place (unless this call just wrote them), on the
 * calling thread; blocks until done. Deletions and overwritten versions no
 * snapshot needs are dropped, and the compaction filter sees every key in
 * the range. 0, the sticky error (e.g. LSM_ECORRUPT from a damaged table),
 * or LSM_ECLOSED. */
int lsm_compact_range(struct lsm_db *db, const void *begin, size_t blen,
                      const void *end, size_t elen);
/* Clears the sticky background error (after the operator freed space),
 * starts a new WAL if the old one failed, retries pending flushes and writes a
 * new manifest if the old one failed; returns 0 when the database is
 * writable again, else the new sticky error. 0 when there was no error. */
int lsm_resume(struct lsm_db *db);
/* The sticky background error (0 when none). */
int lsm_bg_error(struct lsm_db *db);
/* One value-log GC pass on the calling thread: collects every sealed segment
 * whose discard ratio reached vlog_gc_ratio; force = 1 also scans segments
 * whose discard count is unknown or below the ratio to measure their real
 * garbage (collecting those that reach the ratio), and waits for the
 * memtable flush that lets collected segments be deleted. Segments still
 * readable by a snapshot or iterator older than the GC are deleted later,
 * after those are released. 0, the sticky error or LSM_ECLOSED. */
int lsm_vlog_gc(struct lsm_db *db, int force);

/* ---- statistics (what INFO shows) ---- */
#define LSM_STATS_LEVELS 7
struct lsm_level_stats {
    int files;
    uint64_t bytes;
    double score;                   /* compaction score (>= 1: needs work) */
    uint64_t bytes_read;            /* by compactions into this level */
    uint64_t bytes_written;
    uint64_t compactions;
};
struct lsm_stats {
    struct lsm_level_stats level[LSM_STATS_LEVELS];
    uint64_t memtable_bytes;        /* active + immutable memtables */
    int immutable_memtables;
    uint64_t pending_compaction_bytes;
    uint64_t running_flushes;       /* 0 or 1: flushes run one at a time */
    uint64_t running_compactions;
    uint64_t stall_count;           /* writes that were delayed or stopped */
    uint64_t stall_micros;          /* total time writes spent stalled */
    uint64_t user_bytes_written;    /* keys + values given to put/delete/write */
    uint64_t wal_bytes_written;
    uint64_t flush_bytes_written;
    uint64_t compaction_bytes_read;
    uint64_t compaction_bytes_written;
    uint64_t flushes;
    uint64_t compactions;
    uint64_t block_cache_capacity;
    uint64_t block_cache_usage;
    uint64_t block_cache_hits;
    uint64_t block_cache_misses;
    uint64_t bloom_useful;          /* lookups a bloom filter answered "absent" */
    uint64_t bloom_false_positive;  /* filter said "maybe", table had no key */
    uint64_t last_sequence;
    uint64_t live_sst_bytes;
    uint64_t wal_files;             /* live WALs: one per memtable */
    int bg_error;                   /* sticky error code, 0 when none */
    /* value log (key/value separation) */
    uint64_t vlog_bytes;            /* all segments (the active one as written) */
    uint64_t vlog_live_bytes;       /* estimate: vlog_bytes - vlog_discard_bytes */
    uint64_t vlog_segments;
    uint64_t vlog_discard_bytes;    /* garbage known from compactions / GC scans */
    uint64_t vlog_bytes_written;    /* appended: separated values + GC rewrites */
    uint64_t vlog_bytes_read;       /* by gets, iterators and GC scans */
    uint64_t vlog_gc_runs;          /* segments collected */
    uint64_t vlog_gc_bytes_rewritten;
    uint64_t vlog_gc_bytes_reclaimed; /* sizes of deleted segments */
    uint64_t value_cache_capacity;
    uint64_t value_cache_usage;
    uint64_t value_cache_hits;
    uint64_t value_cache_misses;
};
int lsm_get_stats(struct lsm_db *db, struct lsm_stats *out);

#ifdef __cplusplus
}
#endif

#endif
