/* memtable: the in-memory write buffer of the engine.
 *
 * Internal keys (user key + fixed64(seq << 8 | type)) -> values, in an arena,
 * ordered by ikey_compare() (user key ascending, sequence descending), so the
 * first entry at or after a lookup key (user_key, snapshot, LSM_TYPE_SEEK) is
 * the newest version visible to that snapshot. Inside: a skiplist with one
 * node per user key, each holding a chain of its versions (newest first),
 * and a hash index user key -> node, so a point lookup or a new version of
 * a key already present needs no skiplist search; a new key's node joins
 * the skiplist when the next iterator is created (docs/engine-core.md).
 * Lifetime: reference counted. memtable_create() returns one reference; the
 * memtable is freed when the last memtable_unref() drops it. Readers (gets,
 * iterators, a flush) hold a reference while they use it; an iterator holds
 * its own until destroyed. A get from a thread other than the writer's
 * *must* hold its own reference (taken with memtable_ref, not borrowed
 * from the writer's): the writer frees superseded hash tables when it sees
 * no reference but its own.
 * Thread rules: one writer at a time (memtable_add*, normally the commit
 * thread); gets, iterators, memory usage and ref/unref from any thread,
 * concurrently with the writer; only creating an iterator takes a lock
 * (it links the keys added since the last one). */
#ifndef LSM_ENGINE_MEMTABLE_H
#define LSM_ENGINE_MEMTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct memtable;
struct iter;
struct lsm_batch;

struct memtable *memtable_create(void);          /* refcount 1 */
void memtable_ref(struct memtable *mt);
void memtable_unref(struct memtable *mt);         /* frees at 0; NULL no-op */

/* Adds one version: type is LSM_TYPE_VALUE, LSM_TYPE_DELETION (value ignored)
 * or LSM_TYPE_VPTR (value = encoded pointer). Returns 0, or LSM_EEXIST when
 * that exact (key, seq, type) is already present (nothing added). */
int memtable_add(struct memtable *mt, uint64_t seq, int type,
                 struct slice user_key, struct slice value);
/* Adds every operation of a batch with sequences batch_seq, batch_seq+1...:
 * 0 or LSM_ECORRUPT (operations before the damage were added). */
int memtable_add_batch(struct memtable *mt, const struct lsm_batch *b);
/* A hint, no effect on contents: brings the hash-index slots of b's keys
 * (its first 32) into the cache, so that memtable_add_batch, called after other work
 * (the value log's compression), does not wait for them. */
void memtable_prefetch_batch(const struct memtable *mt, const struct lsm_batch *b);

enum memtable_get_result {
    MEMTABLE_NOT_FOUND = 0,  /* no version <= snapshot_seq: look further */
    MEMTABLE_FOUND = 1,      /* *type = VALUE or VPTR, value copied to *value */
    MEMTABLE_DELETED = 2     /* newest visible version is a deletion: stop */
};
/* Looks up the newest version of user_key with sequence <= snapshot_seq.
 * type, value and seq (each may be NULL) receive the entry's type, value
 * bytes (for VPTR: the pointer bytes) and sequence. */
int memtable_get(struct memtable *mt, struct slice user_key, uint64_t snapshot_seq,
                 int *type, struct buf *value, uint64_t *seq);
/* The hash memtable_get_hashed and memtable_prefetch take: the same for
 * every memtable, so a reader that looks in several computes it once. */
uint64_t memtable_key_hash(struct slice user_key);
/* memtable_get with h = memtable_key_hash(user_key). */
int memtable_get_hashed(struct memtable *mt, uint64_t h, struct slice user_key,
                        uint64_t snapshot_seq, int *type, struct buf *value, uint64_t *seq);

/* Links the keys added since the last link into the order (what
 * memtable_iter_create does first); any thread holding a reference. */
void memtable_link(struct memtable *mt);
/* Writer, after adds: 1 when enough keys wait to be linked that the caller
 * should run memtable_link soon, off its thread, so that no iterator (a
 * scan on the event loop) has a whole memtable's keys to sort at once.
 * Says 1 once until that link (or any other) has run, and never before
 * memtable_note_scan: while nothing but the flush iterates a memtable, its
 * keys are linked once, by the flush, into an empty order (appends), which
 * costs a fraction of linking them batch by batch. */
int memtable_link_due(struct memtable *mt);
/* A reader is about to iterate mt (not the flush): if mt holds any key,
 * links are kept due from now on. Any thread. */
void memtable_note_scan(struct memtable *mt);

/* Asks for the cache line of the hash slot of the key whose
 * memtable_key_hash is h (a hint; any thread holding a reference, no
 * effect on results). */
void memtable_prefetch(struct memtable *mt, uint64_t h);

/* Bytes reserved by the arena (the flush trigger); any thread. */
size_t memtable_approximate_memory_usage(const struct memtable *mt);
/* Number of entries; any thread. */
uint64_t memtable_entries(const struct memtable *mt);

/* Iterator over internal keys -> values, in ikey_compare order; holds a
 * reference on mt until iter_destroy(). status() is always 0. */
struct iter *memtable_iter_create(struct memtable *mt);

#endif
