/* version: the set of table files that make up the database, and the MANIFEST
 * that makes it durable.
 *
 * A version is an immutable snapshot of the LSM shape: per level, the list of
 * table files (L0: ordered by file number, may overlap, newest last; L1+:
 * sorted by smallest key, disjoint). Versions are reference counted: readers
 * (gets, iterators) and compactions pin the version they started on; a table
 * file is obsolete (may be deleted) only when no live version lists it.
 *
 * A version edit is the difference between two versions plus the counters
 * that must survive a restart (next file number, last sequence, WAL log
 * number) and the value log's records (segments added/removed, discard
 * counts). version_set_log_and_apply() appends the edit to MANIFEST-n (the
 * WAL record format), syncs it, then installs the new version. CURRENT names
 * the live manifest and is switched by write-temp + fsync + rename + fsync dir.
 * Byte layout and recovery rules: docs/format-manifest.md.
 *
 * Thread rules: the version set is protected by the caller's mutex (the db
 * mutex) passed to version_set_log_and_apply(), which drops it while writing
 * the manifest and serializes concurrent callers. version_ref/unref need the
 * same mutex. A version's file lists are read-only and may be read by any
 * thread holding a reference. */
#ifndef LSM_ENGINE_VERSION_H
#define LSM_ENGINE_VERSION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/dbformat.h"
#include "engine/iter.h"
#include "util/slice.h"

struct io_env;
struct wal_writer;

/* ---- file names ---- */
enum db_file_type {
    DB_FILE_UNKNOWN = 0, DB_FILE_WAL, DB_FILE_SST, DB_FILE_MANIFEST,
    DB_FILE_CURRENT, DB_FILE_LOCK, DB_FILE_TEMP, DB_FILE_VLOG
};
/* "dir/NNNNNN.wal", "dir/NNNNNN.sst", "dir/MANIFEST-NNNNNN", ... into out. */
void db_file_path(struct buf *out, const char *dir, enum db_file_type t, uint64_t number);
/* Classifies a directory entry; *number set for numbered files. */
enum db_file_type db_file_parse(const char *name, uint64_t *number);

/* ---- file metadata ---- */
struct file_meta {
    int refs;                 /* versions/edits listing this file (atomic) */
    int being_compacted;      /* an input of a running compaction */
    uint64_t number;
    uint64_t size;
    struct buf smallest;      /* internal keys */
    struct buf largest;
    uint64_t smallest_seq;
    uint64_t largest_seq;
    /* Its reader, pinned by the first point lookup (atomic, set once, see
     * table_cache_pin); released when the last reference goes. */
    struct table_pin *pin;
};

struct file_meta *file_meta_create(uint64_t number, uint64_t size,
                                   struct slice smallest, struct slice largest,
                                   uint64_t smallest_seq, uint64_t largest_seq);
void file_meta_unref(struct file_meta *f);

/* ---- version edits ---- */
struct edit_file { int level; struct file_meta *f; };        /* f owned (ref) */
struct edit_del { int level; uint64_t number; };
struct edit_vlog { uint64_t number; uint64_t value; };        /* size or bytes */

struct version_edit {
    int has_comparator, has_log_number, has_next_file, has_last_seq;
    struct buf comparator;
    uint64_t log_number;       /* WALs with smaller numbers are obsolete */
    uint64_t next_file;
    uint64_t last_seq;
    struct edit_del *deleted; int ndeleted, cdeleted;
    struct edit_file *added; int nadded, cadded;
    /* Value log (issue 5): segments added (number, size), removed (number),
     * discard bytes added to a segment's count (number, bytes). */
    struct edit_vlog *vlog_added; int nvlog_added, cvlog_added;
    struct edit_vlog *vlog_removed; int nvlog_removed, cvlog_removed;
    struct edit_vlog *vlog_discard; int nvlog_discard, cvlog_discard;
};

void version_edit_init(struct version_edit *e);
void version_edit_free(struct version_edit *e);
void version_edit_set_log_number(struct version_edit *e, uint64_t n);
void version_edit_set_next_file(struct version_edit *e, uint64_t n);
void version_edit_set_last_seq(struct version_edit *e, uint64_t s);
void version_edit_set_comparator(struct version_edit *e, const char *name);
/* Adds a file (takes a new reference on f). */
void version_edit_add_file(struct version_edit *e, int level, struct file_meta *f);
void version_edit_delete_file(struct version_edit *e, int level, uint64_t number);
void version_edit_vlog_add(struct version_edit *e, uint64_t number, uint64_t size);
void version_edit_vlog_remove(struct version_edit *e, uint64_t number);
void version_edit_vlog_discard(struct version_edit *e, uint64_t number, uint64_t bytes);
/* Appends the encoding (docs/format-manifest.md). */
void version_edit_encode(const struct version_edit *e, struct buf *out);
/* Decodes into a freshly initialized edit: 0 or LSM_ECORRUPT (reason in
 * *why, a static string). Unknown tags >= 64 are skipped (length-prefixed);
 * unknown tags < 64 are corruption (a newer format we must not misapply). */
int version_edit_decode(struct version_edit *e, struct slice in, const char **why);

/* ---- versions ---- */
struct version_set;

struct version {
    struct version_set *vset;
    int refs;
    struct version *prev, *next;          /* live versions of the set */
    struct file_meta **files[LSM_NUM_LEVELS];
    int nfiles[LSM_NUM_LEVELS];
};

void version_ref(struct version *v);
/* Drops a reference; frees the version at 0 (files unreferenced too). */
void version_unref(struct version *v);
uint64_t version_level_bytes(const struct version *v, int level);
/* Index of the first file in a sorted level (>= 1) whose largest key >= ikey
 * (nfiles when none). */
int version_find_file(const struct version *v, int level, struct slice ikey);
/* 1 when some file of level overlaps the user-key range [a, b] (NULL =
 * unbounded). */
int version_overlap_in_level(const struct version *v, int level,
                             const struct slice *a, const struct slice *b);
/* Files of level overlapping user-key range [a, b] (NULL = unbounded);
 * for L0 the range grows to cover the overlapping files transitively, as
 * LevelDB does. *out is zmalloc'ed (caller frees), *n its length. */
void version_overlapping(const struct version *v, int level,
                         const struct slice *a, const struct slice *b,
                         struct file_meta ***out, int *n);

/* Concatenating iterator over the sorted files of one level (>= 1): opens one
 * table iterator at a time with open_fn(arg, f). The caller holds a
 * reference on v while the iterator lives. */
typedef struct iter *(*version_open_fn)(void *arg, const struct file_meta *f);
struct iter *version_level_iter(struct version *v, int level,
                                version_open_fn open_fn, void *arg);
/* Same over an explicit sorted, disjoint file array (the array is copied;
 * the caller keeps the files alive, e.g. by a version reference, until the
 * iterator is destroyed). */
struct iter *version_files_iter(struct file_meta **files, int n,
                                version_open_fn open_fn, void *arg);

/* ---- version set ---- */
struct vlog_segment { uint64_t number, size, discard; };

struct version_set {
    struct io_env *env;
    char *dir;
    uint64_t next_file;
    uint64_t last_seq;
    uint64_t log_number;
    uint64_t manifest_number;
    struct wal_writer *manifest;
    uint64_t manifest_max;                /* new manifest beyond this size */
    struct version *current;
    struct version head;                  /* list head of live versions */
    int writing;                          /* a manifest write is in progress */
    pthread_cond_t write_cv;
    struct vlog_segment *vlog; int nvlog, cvlog;
    struct buf compact_ptr[LSM_NUM_LEVELS]; /* round-robin pick (ikeys) */
    char errmsg[256];                     /* detail of the last failure */
    /* Called (mu held) after a new current version is installed. */
    void (*installed)(void *arg);
    void *installed_arg;
};

#define VERSION_COMPARATOR_NAME "lsmdb.bytewise"
#define VERSION_MANIFEST_MAX (64ull << 20)

struct version_set *version_set_create(struct io_env *env, const char *dir);
/* Frees everything; live versions other than current must be gone. */
void version_set_destroy(struct version_set *vs);
/* Loads CURRENT -> manifest into vs. 0; LSM_ENOENT (no CURRENT); LSM_ECORRUPT
 * (bad CURRENT, manifest damaged in the middle, missing fields, unknown
 * comparator) or LSM_EIO, with detail in vs->errmsg. A torn last record of
 * the manifest is dropped (it was never acknowledged). */
int version_set_recover(struct version_set *vs);
/* Creates an empty database: writes MANIFEST-1 and CURRENT. */
int version_set_create_new(struct version_set *vs);
uint64_t version_set_new_file_number(struct version_set *vs);
/* Applies e to current: writes it to the manifest (a new manifest with a full
 * snapshot first when there is none or it grew past manifest_max), syncs,
 * installs the new version. mu is held on entry and exit, released during
 * I/O. On error the in-memory state is unchanged, the manifest is closed (the
 * next apply starts a new one) and the error is returned (detail in errmsg).
 * Fills in e's next_file and last_seq from vs. */
int version_set_log_and_apply(struct version_set *vs, struct version_edit *e,
                              pthread_mutex_t *mu);
/* Calls fn for every file number listed by a live version. */
void version_set_live_files(struct version_set *vs,
                            void (*fn)(void *arg, uint64_t number), void *arg);
/* Count of live versions (tests). */
int version_set_live_versions(struct version_set *vs);
/* Switch CURRENT to MANIFEST-number (temp + fsync + rename + fsync dir). */
int version_set_write_current(struct io_env *env, const char *dir, uint64_t number);

/* Util -errno to LSM_E*. */
int version_errno(int neg_errno);

#endif
