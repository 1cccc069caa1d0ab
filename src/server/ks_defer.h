/* ks_defer: deferred existence checks for the keyspace's blind writes.
 *
 * A plain SET does not need to know whether its key existed: only the
 * exact counters (DBSIZE, INFO keyspace) do. So the keyspace writes such a
 * key without reading it first ("blind"), stages the write here, and a
 * thread of this module later reads the key as it was just before the
 * write, and turns what it finds into counter deltas (keys, expires, sum of
 * expire times) per namespace, which the keyspace adds to its counters.
 *
 * Owns: the open epoch (an engine snapshot, the number of commits before
 * it, and the blind writes staged since), the queue of sealed epochs, the
 * resolver thread, and what it has finished: the deltas and the stale TTL
 * index entries. It reads the keyspace's write table (ks_wtab.h), which
 * the keyspace keeps up to date with every commit.
 *
 * Invariant: a write is staged only if its stored key was not written
 * between the epoch's snapshot and the write (ksd_can_defer: no commit
 * since the snapshot wrote a key of the write table's slot), so reading
 * the key at the snapshot gives its state just before the write. The
 * snapshot is released when the epoch is resolved.
 *
 * Stale TTL entries: a blind write that replaced a record with another
 * expire leaves that record's TTL index entry behind. The resolver reports
 * each one (ksd_stale), with the commit that made the blind write (the
 * one after those counted when it was staged). The entry is still stale
 * if the write table says that commit is still the key's last write and
 * left another expire (wtab_left_other_expire, which errs only towards
 * "no"), so deleting the entries it confirms never deletes a live one.
 *
 * A delta counts a present record whatever its expire (an expired record
 * still counted is the keyspace's business): keys +1 if no record was
 * there; expires +1 if the new write has an expire, -1 if the old record
 * had one; ttl_sum likewise with the expire times.
 *
 * Thread rules: every function is called by one thread (the loop), except
 * the resolver's own work, which only reads the engine through snapshots. */
#ifndef LSMDB_SERVER_KS_DEFER_H
#define LSMDB_SERVER_KS_DEFER_H

#include <stddef.h>
#include <stdint.h>

struct lsm_db;
struct ks_wtab;
struct ksd;

struct ksd_delta {
    uint32_t ns;
    int64_t keys;
    int64_t expires;
    __int128 ttl_sum;
};

/* A TTL index entry (old_exp, ns, key) that a blind write left behind;
 * skey is the stored key (valid during the callback). */
struct ksd_stale {
    uint32_t ns;
    int64_t old_exp;
    const char *skey;
    size_t sklen;
    uint64_t commit;                /* the blind write's */
    uint64_t key_hash;
};

/* Decodes the expire time (-1 = none) from a record's first got bytes (of
 * full); 0 or a negative LSM_E* code for a malformed record. */
typedef int (*ksd_head_fn)(const char *head, size_t got, size_t full, int64_t *exp);

/* max_pending bounds the staged + unresolved writes: beyond it
 * ksd_can_defer says no and the caller reads the key itself. wtab (the
 * keyspace's, kept up to date with every commit) must outlive it. NULL
 * when the thread cannot be started. */
struct ksd *ksd_create(struct lsm_db *lsm, const struct ks_wtab *wtab, ksd_head_fn head,
                       size_t max_pending);
/* Stops the thread; work not collected is dropped (collect with wait
 * first). Releases every snapshot. */
void ksd_destroy(struct ksd *d);

/* 1 if a write of the stored key with this hash (the write table's) may
 * be staged now. */
int ksd_can_defer(const struct ksd *d, uint64_t key_hash);
/* Stages a blind write of stored key skey (namespace ns, new expire exp or
 * -1, key_hash as for ksd_can_defer). Takes the epoch's snapshot on the
 * first write of an epoch, so call it before the write is committed; the
 * next commit the write table counts is taken to be the write's. */
void ksd_defer(struct ksd *d, const char *skey, size_t sklen, uint32_t ns, int64_t exp,
               uint64_t key_hash);
/* Writes staged in the open epoch. A transaction takes this count when it
 * begins, and ksd_truncate drops what it staged after that when it is
 * rolled back. */
size_t ksd_staged(const struct ksd *d);
void ksd_truncate(struct ksd *d, size_t mark);

/* Hands the open epoch to the resolver (nothing if it is empty). */
void ksd_seal(struct ksd *d);
/* Calls fn for every finished delta and forgets it. With wait, seals the
 * open epoch, resolves queued epochs on the calling thread as well (so the
 * wait is not behind a thread starved of CPU), and returns only when every
 * staged write has been resolved.
 * Returns the number of reads that failed since the last call (their
 * writes are not in any delta). */
int ksd_collect(struct ksd *d, int wait, void (*fn)(void *arg, const struct ksd_delta *),
                void *arg);
/* 1 if the resolver has reported stale TTL entries not yet taken. */
int ksd_has_stale(const struct ksd *d);
/* Calls fn for every stale TTL entry the resolver has reported and forgets
 * it. */
void ksd_take_stale(struct ksd *d, void (*fn)(void *arg, const struct ksd_stale *), void *arg);
/* Staged or unresolved writes (0: the counters are exact once collected). */
size_t ksd_pending(const struct ksd *d);

#endif
