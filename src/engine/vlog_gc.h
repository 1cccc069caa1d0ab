/* vlog_gc: the value log inside a database — separation on the write path,
 * pointer resolution on the read path, recovery of segments, discard
 * accounting, and garbage collection in the background pool.
 *
 * State (struct vlog_db) hangs off db->vlog.arg; db.c and db_bg.c call the
 * functions below at fixed points (docs/format-vlog.md "Protocol"):
 * - open: vlog_db_open() after the manifest is recovered and before the WALs
 *   are replayed: registers sealed segments, seals the unsealed ones at their
 *   last valid entry (scan), deletes segment files the manifest does not
 *   know. vlog_db_replay_check() stops WAL replay at the first record whose
 *   pointer is not inside a recovered segment (never acknowledged as synced).
 * - write leader: vlog_db_prepare() (mu held) makes sure an active segment
 *   with room exists (roll = seal + new segment + one manifest edit);
 *   vlog_db_separate() (mu not held) moves values >= threshold to the vlog
 *   and gives the batch with pointers that goes to the WAL and memtable;
 *   vlog_db_flush(db, sync) runs before the WAL append/sync, so the vlog is
 *   always at least as durable as the WAL that points into it.
 * - compaction: the dropped hook adds an entry's length to its segment's
 *   discard count in the compaction's edit (persisted with it).
 * - GC: vlog_db_maybe_schedule_gc() (mu held) after compactions; the job
 *   rewrites live entries through the writer queue as a conditional write
 *   (vlog_db_gc_build() runs in the leader: an entry is rewritten only if the
 *   key still points at exactly that place); the segment is removed from the
 *   manifest and unlinked once every WAL that may hold its pointers is
 *   obsolete and no snapshot, iterator or get older than the rewrite exists.
 * Thread rules: as marked per function; counters under db->mu. */
#ifndef LSM_ENGINE_VLOG_GC_H
#define LSM_ENGINE_VLOG_GC_H

#include <stdint.h>

#include "engine/vlog.h"
#include "util/slice.h"

struct lsm_db;
struct lsm_batch;
struct lsm_stats;
struct version_edit;

/* A live reader's sequence (get or iterator), registered while it may still
 * follow pointers (mu held for enter/exit). */
struct vlog_view {
    uint64_t seq;
    struct vlog_view *prev, *next;
};

/* Candidates of one GC rewrite (built by the GC job, checked by the leader). */
struct vlog_gc_item {
    size_t koff, klen, soff, slen;     /* into data */
    int flags;
    struct vlog_ptr old;
};
struct vlog_gc_batch {
    struct buf data;
    struct vlog_gc_item *items;
    int n, cap;
    uint64_t bytes;                    /* entry bytes of the candidates */
    uint64_t rewritten;                /* set by the leader */
};

/* Open (mu held, single thread): creates the state, sets db->vlog hooks.
 * Edits for sealed / removed segments go into e (the recovery edit). */
int vlog_db_open(struct lsm_db *db, struct version_edit *e);
/* Free everything (after the pool stopped). The active segment is synced. */
void vlog_db_close(struct lsm_db *db);
/* 0 when every pointer of the batch lies inside a recovered segment; 1 when
 * one does not (replay stops there); 2 when one points at an intact entry
 * past the recovered end of an unsealed segment, i.e. that end was damage,
 * not a torn tail (LSM_ECORRUPT, message set). */
int vlog_db_replay_check(struct lsm_db *db, struct slice contents);
/* Clean close (mu held): seals the active segment and records its size. */
int vlog_db_seal(struct lsm_db *db);

/* Write leader, mu held: when group holds a value to separate (or gc is
 * set), makes sure an active segment with room exists (a roll seals the old
 * one and applies one manifest edit). 0 or LSM_E*. */
int vlog_db_prepare(struct lsm_db *db, struct lsm_batch *group, int gc);
/* Write leader, mu not held: *out = group itself when nothing is separated,
 * else a batch (owned by the state) with the large values replaced by
 * pointers. */
int vlog_db_separate(struct lsm_db *db, struct lsm_batch *group, struct lsm_batch **out);
/* Write leader, mu not held: builds the conditional GC rewrite into a batch
 * owned by the state (*out; may be empty). */
int vlog_db_gc_build(struct lsm_db *db, struct vlog_gc_batch *g, struct lsm_batch **out);
/* Write leader (or no writer): flush (sync = 0) or fsync (sync = 1) the active
 * segment; before every WAL append / sync. */
int vlog_db_flush(struct lsm_db *db, int sync);
/* Write leader (or no writer): the active segment and the bytes appended
 * to it (after vlog_db_flush(db, 1): what that made durable); 0 and 0
 * when there is none. */
void vlog_db_active(struct lsm_db *db, uint64_t *number, uint64_t *size);
/* Write leader (mu held or not): pushes the active segment's buffer to the
 * OS and returns a handle that syncs it off the writer queue (vlog_syncer),
 * with the segment and the bytes it covers; *file NULL when there is
 * nothing to sync. Tell vlog_db_synced once the handle's fsync succeeded. */
struct io_file;
int vlog_db_syncer(struct lsm_db *db, struct io_file **file, uint64_t *number, uint64_t *upto);
/* Any thread: a vlog_db_syncer handle (number, upto; number 0: none) was
 * fsynced (vlog_synced). */
void vlog_db_synced(struct lsm_db *db, uint64_t number, uint64_t upto);
/* Any thread, mu not held: waits until every rolled segment is fsynced
 * (their syncs run in the pool). 0, or the background error. */
int vlog_db_wait_sealed(struct lsm_db *db);
/* The vlog broke (append/sync failed): roll at the next prepare. */
void vlog_db_mark_broken(struct lsm_db *db);
/* 1 when separation is on (threshold > 0). */
int vlog_db_enabled(struct lsm_db *db);

/* Reader registration (mu held). */
void vlog_db_view_enter(struct lsm_db *db, struct vlog_view *v, uint64_t seq);
void vlog_db_view_exit(struct lsm_db *db, struct vlog_view *v);

/* mu held: fill the vlog fields of stats. */
void vlog_db_stats(struct lsm_db *db, struct lsm_stats *out);
/* mu held: after a compaction / flush / reader exit: schedule a GC job when
 * a segment passed the ratio, a purge when one may be removable. */
void vlog_db_maybe_schedule_gc(struct lsm_db *db);
/* Runs one GC pass on the calling thread (force: also segments whose
 * discard counts are unknown or below the ratio, measured by a scan) and
 * removes what can be removed. Returns 0 or LSM_E*. */
int vlog_db_run_gc(struct lsm_db *db, int force);

/* Compaction filter for one entry (VALUE or VPTR): LSM_FILTER_KEEP / DROP /
 * REPLACE (new value in newval). Pool threads. */
int vlog_db_filter(struct lsm_db *db, struct slice ukey, int type, struct slice val,
                   struct buf *newval);
/* The inline prefix of an encoded pointer and the full value length: 1, or
 * LSM_ECORRUPT. */
int vlog_db_pointer_prefix(struct slice ptr, struct slice *prefix, size_t *full_len);

/* The encoded pointer ptr with the first bytes of its value replaced by
 * data (cut to the value's length), appended to out: the entry it names is
 * unchanged, reads overlay the pointer's prefix (lsm_batch_patch). 0, or
 * LSM_ECORRUPT for a malformed pointer. */
int vlog_db_patch_pointer(struct slice ptr, struct slice data, struct buf *out);
/* 1 when two encoded pointers name the same entry (segment and offset). */
int vlog_db_same_place(struct slice a, struct slice b);

/* Discard accounting: adds ptr's entry length to its segment's count in e
 * (merged per segment). Exposed for tests. */
void vlog_discard_add(struct version_edit *e, struct slice ptr);

#endif
