/* dbiter: the user-visible view of an internal iterator (LevelDB's DBIter).
 *
 * Wraps an iterator over internal keys (the merge of memtables and tables)
 * and yields, in user-key order forward or reverse, one entry per user key:
 * its newest version with sequence <= seq, skipping keys whose newest such
 * version is a deletion, and keys outside [lower, upper). key() is the user
 * key. A value-pointer entry (LSM_TYPE_VPTR) is passed to resolve(), which
 * fills the value or returns an error; with resolve NULL it is corruption.
 * Errors of the inner iterator (or a malformed internal key: LSM_ECORRUPT)
 * make it invalid with that status.
 * Thread rules: one thread at a time. */
#ifndef LSM_ENGINE_DBITER_H
#define LSM_ENGINE_DBITER_H

#include <stdint.h>

#include "engine/iter.h"
#include "util/slice.h"

typedef int (*dbiter_resolve_fn)(void *arg, struct slice ptr, struct buf *value);

/* Takes ownership of inner. lower/upper may be NULL (copied). */
struct iter *dbiter_create(struct iter *inner, uint64_t seq,
                           const struct slice *lower, const struct slice *upper,
                           dbiter_resolve_fn resolve, void *resolve_arg);

#endif
