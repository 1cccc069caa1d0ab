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

typedef int (*dbiter_resolve_fn)(void *arg, struct slice ptr, struct buf *value);

/* Takes ownership of inner. lower/upper may be NULL (copied). */
struct iter *dbiter_create(struct iter *inner, uint64_t seq,
                           const struct slice *lower, const struct slice *upper,
                           dbiter_resolve_fn resolve, void *resolve_arg);

/* The current entry's stored value (a value, or the encoded pointer) without
 * resolving it: 1 when it is a pointer, 0 when it is the value. */
int dbiter_raw_value(const struct iter *it, struct slice *raw);

#endif
