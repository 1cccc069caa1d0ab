/* db_impl: the internals of struct lsm_db shared by db.c (open, writes,
 * reads, iterators, stats) and db_bg.c (flush, compaction, obsolete files).
 *
 * Locking: db->mu protects everything below marked (mu): the memtable list,
 * the version set, snapshots, the writer queue, background state and the
 * sticky error. The memtable itself is written only by the current write
 * leader (outside mu) and read by anyone holding a reference. The WAL writer
 * is used only by the write leader, or under mu when no leader can exist.
 * I/O is done outside mu except creating a new WAL at a memtable switch
 * and directory listing for obsolete files. */
#ifndef LSM_ENGINE_DB_IMPL_H
#define LSM_ENGINE_DB_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "engine/batch.h"
#include "engine/compaction.h"
#include "engine/lsm.h"
#include "engine/sst.h"
#include "engine/version.h"
#include "engine/vlog_gc.h"

struct memtable;
struct wal_writer;
struct table_cache;
struct cache;
struct tpool;
struct io_lock;

/* Value-log hooks, set by vlog_db_open() (vlog_gc.c); arg = struct vlog_db. */
struct db_vlog_hooks {
    void *arg;
    /* Reads the value a VPTR entry points at into value: 0 or an LSM_E*
     * code (with lsm_last_error set). NULL: a VPTR entry is LSM_ECORRUPT. */
    int (*resolve)(void *arg, struct slice key, struct slice ptr, struct buf *value);
    /* resolve that may lend the value instead: when the value cache holds
     * it as the pointer names it, *data / *len point into the cache and
     * *pin holds it (release with unpin); else as resolve (*pin NULL).
     * NULL: no lending. */
    int (*lend)(void *arg, struct slice key, struct slice ptr, struct buf *value,
                const char **data, size_t *len, void **pin);
    void (*unpin)(void *arg, void *pin);
    /* Compaction dropped a VPTR entry (shadowed, deleted or filtered): add its
     * size to its segment's discard count in e, which is applied with the
     * compaction's own edit, unless newer (the value of the key's next newer
     * version in the same pass, empty when none or not a pointer) names the
     * same entry: a patched pointer (lsm_batch_patch) keeps its entry alive.
     * Compaction thread, mu not held. */
    void (*dropped)(void *arg, struct slice ptr, struct slice newer, struct version_edit *e);
    /* A hint that the value a VPTR entry points at will be read soon (an
     * iterator's lookahead); no error. NULL: no lookahead. */
    void (*prefetch)(void *arg, struct slice ptr);
};

/* The read state of point lookups (RocksDB's SuperVersion): the active
 * memtable, the immutables (newest first) and the current version, each
 * referenced. A new one is installed (under mu) whenever any of them changes;
 * lsm_get pins the installed one with one atomic reference under sv_lock (a
 * spin lock held for a pointer load and an increment), never taking mu. The
 * db holds one reference on the installed one; whoever drops the last
 * reference frees it under mu (version refs are mu-protected). Live super
 * versions are listed oldest first: value-log GC removes a rewritten segment
 * only when every live one was installed after the rewrite (a get reads the
 * last sequence after pinning, so it then sees the new pointers). */
/* The live list's links, first in a super version: the list head in
 * lsm_db is a bare link (a super version ends in its memtable array). */
struct sv_link {
    struct sv_link *prev, *next;       /* (mu) */
};

struct super_version {
    struct sv_link link;               /* (mu) live list */
    int refs;                          /* atomic */
    uint64_t number;                   /* install order, from 1 */
    struct version *v;
    int nmem;
    struct memtable *mems[];           /* mem, then immutables newest first */
};

struct lsm_snapshot {
    uint64_t seq;
    struct lsm_snapshot *prev, *next;
};

/* Handles to fsync off the writer queue (NULL: nothing to sync): the
 * value-log segment and a WAL as they were when pushed to the OS, for
 * lsm_sync (with wal_gen at that moment) and for a WAL retired by a
 * memtable switch (gen unused); the segment's number and the bytes the
 * vlog handle covers (vlog_db_synced). */
struct sync_point {
    struct io_file *vlog, *wal;
    uint64_t gen;
    uint64_t vlog_number, vlog_upto;
    uint64_t wal_number, wal_upto;     /* the WAL and the bytes its handle covers */
};

/* One entry of a sync mark (docs/format-wal.md, "Sync-mark record"): a sync
 * point made file `number` (a WAL or a value-log segment) durable up to
 * `upto`. */
enum { MARK_WAL = 1, MARK_VLOG = 2 };
struct sync_mark {
    uint32_t kind;
    uint64_t number, upto;
    int dirty;                         /* not written into a WAL since */
};
#define DB_MAX_MARKS 8

struct db_writer {
    struct lsm_batch *batch;     /* NULL: a sync or flush request */
    struct vlog_gc_batch *gc;    /* a value-log GC rewrite (conditional) */
    int sync;
    int force_flush;             /* switch the memtable (lsm_flush) */
    int wal_push;                /* 0: leave the WAL record in the buffer
                                  * (lsm_write_buffered); 1: push it (and
                                  * what buffered writes left) to the OS */
    struct sync_point *detach;   /* lsm_sync: leads its own group, whose
                                  * leader pushes the logs and hands back
                                  * handles to fsync them off the queue */
    int done;
    int rc;
    pthread_cond_t cv;
    struct db_writer *next;
};

struct lsm_db {
    char *dir;
    struct lsm_options opt;
    struct io_env *env;
    struct io_lock *lock;
    pthread_mutex_t mu;
    pthread_cond_t bg_cv;              /* background progress / errors */
    struct version_set *vs;            /* (mu) */
    struct compaction_options copt;
    struct cache *block_cache;
    struct table_cache *tc;
    struct sst_stats sst_stats;
    struct db_vlog_hooks vlog;
    struct tpool *pool;
    /* Value-log GC jobs run on their own thread: a GC pass can wait on the
     * writer queue or for a flush, which must never wait for a pool thread
     * that GC holds. */
    struct tpool *gc_pool;
    int max_compactions;

    struct memtable *mem;              /* (mu) pointer; contents: leader */
    uint64_t mem_log;                  /* WAL number of mem */
    struct memtable **imm;             /* (mu) oldest first */
    uint64_t *imm_log;
    /* Per immutable: a handle on the value-log segment active at its
     * switch (NULL: none), which its flush fsyncs before the table that
     * points into it is installed (the switch itself does not wait). */
    struct io_file **imm_vsync;
    int nimm, cimm;
    uint64_t imm_pushed, imm_flushed;  /* (mu) counters for lsm_flush(wait) */
    struct wal_writer *wal;
    int wal_dirty;                     /* (mu) appended since last sync */
    uint64_t wal_gen;                  /* (mu) bumped by each WAL append left
                                        * unsynced, and by each switch */
    int sync_failed;                   /* (mu) an lsm_sync fsync failed: the
                                        * next leader starts a new WAL and
                                        * value-log segment */
    int syncs_out;                     /* (mu) lsm_sync calls running */
    /* How far the completed sync points made the files durable; the dirty
     * entries go into the WAL with the next write (a sync-mark record),
     * which recovery reads to tell an unsynced tail from damage inside
     * what was synced. (mu) */
    struct sync_mark marks[DB_MAX_MARKS];
    int nmarks;
    /* Recovery only: the marks found in the WALs being replayed (loaded
     * when damage needs them, db_marked_upto) and those WALs' numbers. */
    struct sync_mark *rmarks;
    int nrmarks, rmarks_loaded;
    const uint64_t *rwals;
    int nrwals;
    /* WALs retired by a memtable switch with unsynced writes, oldest first:
     * handles to fsync them off the loop, each with a handle on the value
     * log as it was at the switch, fsynced first (a pool job does it;
     * lsm_sync, a sync write and close wait for it: db_retire_drain).
     * Recovery does not replay a WAL past a previous one shorter than at
     * its switch (docs/format-wal.md, link record). (mu) */
    struct sync_point *retired;
    int nretired, cretired;
    int retire_busy;                   /* (mu) entries being synced */
    /* The next WAL, created (directory fsynced) in the pool once the
     * memtable is half full, so a switch does no directory fsync. A switch
     * while it is being made takes a new number itself and marks it stale
     * (WAL numbers must grow in switch order); a stale one is deleted. */
    struct wal_writer *next_wal;       /* (mu) */
    uint64_t next_wal_number;          /* (mu) */
    uint64_t next_wal_tried;           /* (mu) mem_log it was last started for */
    enum { WAL_NEXT_NONE, WAL_NEXT_MAKING, WAL_NEXT_STALE, WAL_NEXT_READY } next_wal_state;

    int need_new_wal;                  /* (mu) the WAL failed: switch first */

    pthread_spinlock_t sv_lock;        /* pins sv: load + ref */
    struct super_version *sv;          /* installed (mu + sv_lock to replace) */
    struct sv_link sv_live;            /* (mu) list head, oldest first */
    uint64_t sv_number;                /* (mu) last installed */
    int sv_on;                         /* (mu) from open until close */

    struct db_writer *wq_head, *wq_tail; /* (mu) */
    struct lsm_batch group;            /* leader only */
    struct lsm_batch patched;          /* leader only: a group with its PATCHes resolved */

    struct lsm_snapshot snaps;         /* (mu) list head, oldest first */

    uint64_t *pending; int npending, cpending;   /* (mu) outputs in progress */
    int flush_scheduled;               /* (mu) */
    struct compaction **running; int nrunning, crunning;  /* (mu) */
    int manual_running;                /* (mu) */
    int closing;                       /* (mu) */
    int bg_error;                      /* (mu) sticky; stored atomically: lsm_bg_error reads it without mu */
    char bg_errmsg[256];               /* (mu) */
    int stall_logged;                  /* a stop was logged; log the resume */
    int64_t stall_log_us;

    /* stats (mu unless noted) */
    uint64_t stall_count, stall_micros;
    uint64_t user_bytes, wal_bytes, flush_bytes, comp_read, comp_written;
    uint64_t flushes, compactions;
    struct lsm_level_stats lstats[LSM_NUM_LEVELS];
};

/* Error detail of this thread (lsm_last_error). */
void db_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a background failure as the sticky error (mu held). */
void db_set_bg_error(struct lsm_db *db, int code, const char *msg);
/* Oldest snapshot sequence or the last sequence (mu held). */
uint64_t db_smallest_snapshot(struct lsm_db *db);

/* Installs a new super version from mem, imm and the current version (mu
 * held); no-op before the first one (open) and after close began freeing. */
void db_sv_install(struct lsm_db *db);
/* Number of the oldest live super version, UINT64_MAX when none (mu held). */
uint64_t db_sv_oldest(struct lsm_db *db);

/* db_bg.c (mu held unless noted) */
void db_maybe_schedule_flush(struct lsm_db *db);
/* Links mem's waiting keys into its order in the pool (memtable_link_due
 * said so); holds a reference on mem until done. Any thread, mu not needed. */
void db_schedule_memtable_link(struct lsm_db *db, struct memtable *mem);
void db_maybe_schedule_compaction(struct lsm_db *db);
/* Deletes files no live version, pending output or log needs; no-op while
 * a background error is set. */
void db_delete_obsolete_files(struct lsm_db *db);
/* Writes mem to a new L0 table (mu NOT held); *meta NULL when empty.
 * With edit, a version shadowed by a newer one of its key that every
 * reader sees (sequence <= smallest_snap, as compaction's rule) is not
 * written, and a dropped value pointer's size goes to edit's discard
 * counts; without (recovery), every version is written. */
int db_write_level0(struct lsm_db *db, struct memtable *mem, uint64_t number,
                    uint64_t smallest_snap, struct version_edit *edit,
                    struct file_meta **meta);
/* mu held (released while syncing): fsyncs every WAL retired so far, each
 * after the value-log bytes its records point at. 0, or the error (then
 * also the sticky one). */
int db_retire_drain(struct lsm_db *db);
/* Recovery: the furthest a sync mark in the WALs being replayed says file
 * `number` of `kind` (MARK_WAL, MARK_VLOG) was durable; 0 when no mark
 * names it. */
uint64_t db_marked_upto(struct lsm_db *db, uint32_t kind, uint64_t number);
void db_pending_add(struct lsm_db *db, uint64_t number);
void db_pending_remove(struct lsm_db *db, uint64_t number);
/* Runs c on the calling thread (mu held on entry/exit); releases c. */
int db_run_compaction(struct lsm_db *db, struct compaction *c);
/* Newest entry of ukey at the last sequence, without resolving pointers:
 * 1 (value = raw bytes, *type = VALUE or VPTR), 0 absent, < 0 error. */
int db_get_latest(struct lsm_db *db, struct slice ukey, struct buf *value, int *type);
/* Sends a value-log GC rewrite through the writer queue (checked and
 * appended by the leader): 0 or LSM_E*. */
int db_write_gc(struct lsm_db *db, struct vlog_gc_batch *g);
/* Table iterator for the level iterator (arg = db). */
struct iter *db_table_iter(void *arg, const struct file_meta *f);

#endif
