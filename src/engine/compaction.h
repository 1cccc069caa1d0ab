/* compaction: choosing what to compact (leveled), and the per-compaction
 * decisions the compaction job asks for while it merges.
 *
 * Shape: L0 holds flushed memtables (overlapping files); L1..L6 are sorted
 * runs. Level sizes are static (not dynamic level bytes): L1 may hold
 * max_bytes_for_level_base (256 MiB), each next level level_size_multiplier
 * (10) times more. Scores: L0 = files / l0_compaction_trigger; Ln =
 * bytes / max bytes of Ln. The bottom level has no score. The picker takes
 * levels by descending score >= 1.
 *
 * Concurrency: the inputs of a running compaction are marked
 * being_compacted. A new compaction never takes a marked file, never takes a
 * file whose overlap in the output level is marked, never runs a second L0
 * compaction at once, and never overlaps (in user keys, on a shared level)
 * a running compaction. So several compactions run at once only on disjoint
 * levels or disjoint key ranges, and each one's edit still applies to
 * whatever the current version is when it finishes.
 *
 * Output files of the job are cut only where the user key changes, so a user
 * key never spans two files of a level >= 1 (no "boundary inputs" needed).
 * Thread rules: pick/release under the db mutex; the other functions read
 * only the compaction's own (pinned) data and run on the pool thread. */
#ifndef LSM_ENGINE_COMPACTION_H
#define LSM_ENGINE_COMPACTION_H

#include <stdint.h>

#include "engine/version.h"

struct compaction_options {
    int l0_trigger;                 /* 4 */
    uint64_t base_bytes;            /* 256 MiB: L1 */
    int multiplier;                 /* 10 */
    uint64_t target_file_size;      /* 64 MiB */
};

struct compaction {
    int level;                      /* inputs[0] level; output level + 1 (or the
                                     * level itself: compaction_pick_range_bottom) */
    int out_level;
    int manual;
    struct version *version;        /* pinned input version */
    struct file_meta **inputs[2];
    int ninputs[2];
    struct file_meta **grandparents;
    int ngrand;
    int grand_index;
    int seen_key;
    uint64_t overlapped_bytes;
    uint64_t max_output_file_size;
    struct buf smallest;            /* user-key range of all inputs */
    struct buf largest;
    struct version_edit edit;       /* deletions of inputs + outputs */
};

/* Maximum bytes of level (>= 1). */
uint64_t compaction_max_bytes(const struct compaction_options *o, int level);
/* Scores of every level (see above); the bottom level gets 0. */
void compaction_scores(const struct version *v, const struct compaction_options *o,
                       double score[LSM_NUM_LEVELS]);
/* Estimate of bytes compaction must still rewrite to bring every level
 * under its target (for stalls and stats). */
uint64_t compaction_pending_bytes(const struct version *v,
                                  const struct compaction_options *o);

/* The next compaction by score from vs->current that does not conflict with
 * the running ones, or NULL. Marks its inputs being_compacted and pins the
 * version. */
struct compaction *compaction_pick(struct version_set *vs,
                                   const struct compaction_options *o,
                                   struct compaction **running, int nrunning);
/* A manual compaction of the files of level overlapping user keys [begin,
 * end] (NULL = unbounded) into level + 1. NULL with *busy = 1 when it
 * conflicts with a running compaction (retry later), NULL with *busy = 0
 * when there is nothing to do. */
struct compaction *compaction_pick_range(struct version_set *vs,
                                         const struct compaction_options *o,
                                         int level, const struct slice *begin,
                                         const struct slice *end,
                                         struct compaction **running, int nrunning,
                                         int *busy);
/* A manual compaction of the files of level (>= 1) overlapping [begin, end]
 * into the same level (RocksDB's bottommost-level compaction): for the
 * deepest level holding data in the range, so the compaction filter reaches
 * it and versions no snapshot needs any more are dropped. Inputs are a
 * contiguous run of the level (all its files overlapping the range), so the
 * outputs overlap no other file of it. NULL and *busy as above. */
struct compaction *compaction_pick_range_bottom(struct version_set *vs,
                                                const struct compaction_options *o,
                                                int level, const struct slice *begin,
                                                const struct slice *end,
                                                struct compaction **running, int nrunning,
                                                int *busy);
/* 1 when the compaction can move its single input file down unchanged. */
int compaction_is_trivial_move(const struct compaction *c);
/* Adds the deletion of every input to c->edit. */
void compaction_add_input_deletions(struct compaction *c);
/* 1 when no level below the output level holds user_key (so a tombstone for
 * it may be dropped at the output). */
int compaction_is_base_level_for_key(const struct compaction *c, struct slice user_key);
/* 1 when the output file should end before ikey (too much grandparent
 * overlap). Call once per key, in order. */
int compaction_should_stop_before(struct compaction *c, struct slice ikey);
/* Unmarks the inputs, unpins the version, frees (under the db mutex). */
void compaction_release(struct compaction *c);
/* Total bytes of the inputs. */
uint64_t compaction_input_bytes(const struct compaction *c, int which);

#endif
