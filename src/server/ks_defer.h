/* ks_defer: deferred existence checks for the keyspace's blind writes.
 *
 * A plain SET does not need to know whether its key existed: only the
 * exact counters (DBSIZE, INFO keyspace) do. So the keyspace writes such a
 * key without reading it first ("blind"), stages the write here, and a
 * thread of this module later reads the key as it was just before the
 * write, and turns what it finds into counter deltas (keys, expires, sum of
 * expire times) per namespace, which the keyspace adds to its counters.
 *
 * Owns: the open epoch (an engine snapshot, the blind writes staged since
 * it was taken, the set of stored keys written since then), the queue of
 * sealed epochs, the resolver thread, and the deltas it has finished.
 *
 * Invariant: a write is staged only if its stored key was not written
 * between the epoch's snapshot and the write (the caller checks
 * ksd_can_defer and reports every committed write with ksd_written), so
 * reading the key at the snapshot gives its state just before the write.
 * The snapshot is released when the epoch is resolved.
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
struct ksd;

struct ksd_delta {
    uint32_t ns;
    int64_t keys;
    int64_t expires;
    __int128 ttl_sum;
};

/* Decodes the expire time (-1 = none) from a record's first got bytes (of
 * full); 0 or a negative LSM_E* code for a malformed record. */
typedef int (*ksd_head_fn)(const char *head, size_t got, size_t full, int64_t *exp);

/* max_pending bounds the staged + unresolved writes: beyond it
 * ksd_can_defer says no and the caller reads the key itself. NULL when the
 * thread cannot be started. */
struct ksd *ksd_create(struct lsm_db *lsm, ksd_head_fn head, size_t max_pending);
/* Stops the thread; work not collected is dropped (collect with wait
 * first). Releases every snapshot. */
void ksd_destroy(struct ksd *d);

/* 1 if a write of the stored key with this hash may be staged now. */
int ksd_can_defer(const struct ksd *d, uint64_t key_hash);
/* Stages a blind write of stored key skey (namespace ns, new expire exp or
 * -1). Takes the epoch's snapshot on the first write of an epoch, so call
 * it before the write is committed. */
void ksd_defer(struct ksd *d, const char *skey, size_t sklen, uint32_t ns, int64_t exp);
/* A committed write of a stored key (blind or not). */
void ksd_written(struct ksd *d, uint64_t key_hash);
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
/* Staged or unresolved writes (0: the counters are exact once collected). */
size_t ksd_pending(const struct ksd *d);

#endif
