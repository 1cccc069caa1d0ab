/* dbiter: the user-visible view of an internal iterator (LevelDB's DBIter).
 *
 * Wraps an iterator over internal keys (the merge of memtables and tables)
 * and yields, in user-key order forward or reverse, one entry per user key:
 * its newest version with sequence <= seq, skipping keys whose newest such
 * version is a deletion, and keys outside [lower, upper). key() is the user
 * key. A value-pointer entry (LSM_TYPE_VPTR) is passed to resolve(), which
 * fills the value or returns an error; with resolve NULL it is corruption.
 * Resolution is lazy: it happens at the first value() of an entry; when it
 * fails, value() returns an empty slice with data NULL and the iterator
 * becomes invalid with that status.
 * Errors of the inner iterator (or a malformed internal key: LSM_ECORRUPT)
 * make it invalid with that status.
 * Thread rules: one thread at a time. */
#ifndef LSM_ENGINE_DBITER_H
#define LSM_ENGINE_DBITER_H

#include <stdint.h>

#include "engine/iter.h"
#include "util/slice.h"

typedef int (*dbiter_resolve_fn)(void *arg, struct slice key, struct slice ptr,
                                 struct buf *value);

/* Takes ownership of inner. lower/upper may be NULL (copied). */
struct iter *dbiter_create(struct iter *inner, uint64_t seq,
                           const struct slice *lower, const struct slice *upper,
                           dbiter_resolve_fn resolve, void *resolve_arg);

/* Lookahead for forward scans over separated values in a random layout:
 * once value reads turn slow (they reach the disk), the iterator walks a
 * second internal iterator (made by clone over the same view) ahead of the
 * current entry and passes the next DBITER_LOOKAHEAD value pointers to
 * prefetch, so their reads are in flight together instead of one random
 * read at a time (two slow reads in a row turn it on). Values read fast
 * (page cache) never enable it, and a run of fast reads turns it off again. */
#define DBITER_LOOKAHEAD 16
typedef struct iter *(*dbiter_clone_fn)(void *arg);
typedef void (*dbiter_prefetch_fn)(void *arg, struct slice ptr);
void dbiter_set_lookahead(struct iter *it, dbiter_clone_fn clone, void *clone_arg,
                          dbiter_prefetch_fn prefetch, void *prefetch_arg);
/* Tests: the microsecond clock the lookahead times reads with (NULL: the
 * monotonic clock). Not thread-safe; set it before creating iterators. */
void dbiter_set_clock(int64_t (*now_us)(void));

/* The current entry's stored value (a value, or the encoded pointer) without
 * resolving it: 1 when it is a pointer, 0 when it is the value. */
int dbiter_raw_value(const struct iter *it, struct slice *raw);

#endif
