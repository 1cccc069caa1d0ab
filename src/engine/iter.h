/* iter: the engine's internal iterator interface.
 *
 * Every source of sorted entries (memtable, block, table, level, merge of
 * several) exposes itself through this vtable, so the merging iterator and the
 * public iterator compose them without knowing which is which. Keys are
 * internal keys (see dbformat.h) unless a source documents otherwise.
 * Invariants: key()/value() are valid only while valid() is true and until the
 * next move; they point into memory the iterator owns. status() is 0 or a
 * negative LSM_E* code; an iterator that hit corruption or an I/O error
 * becomes invalid and keeps that status.
 * Thread rules: one thread at a time per iterator. */
#ifndef LSM_ENGINE_ITER_H
#define LSM_ENGINE_ITER_H

#include "util/slice.h"

struct iter;

struct iter_ops {
    int (*valid)(const struct iter *it);
    void (*seek_to_first)(struct iter *it);
    void (*seek_to_last)(struct iter *it);
    void (*seek)(struct iter *it, struct slice target);      /* first >= target */
    void (*seek_for_prev)(struct iter *it, struct slice target); /* last <= target */
    void (*next)(struct iter *it);
    void (*prev)(struct iter *it);
    struct slice (*key)(const struct iter *it);
    struct slice (*value)(const struct iter *it);
    int (*status)(const struct iter *it);
    void (*destroy)(struct iter *it);
};

/* Concrete iterators embed this as their first member. */
struct iter {
    const struct iter_ops *ops;
};

static inline int iter_valid(const struct iter *it) { return it->ops->valid(it); }
static inline void iter_seek_to_first(struct iter *it) { it->ops->seek_to_first(it); }
static inline void iter_seek_to_last(struct iter *it) { it->ops->seek_to_last(it); }
static inline void iter_seek(struct iter *it, struct slice t) { it->ops->seek(it, t); }
static inline void iter_seek_for_prev(struct iter *it, struct slice t) { it->ops->seek_for_prev(it, t); }
static inline void iter_next(struct iter *it) { it->ops->next(it); }
static inline void iter_prev(struct iter *it) { it->ops->prev(it); }
static inline struct slice iter_key(const struct iter *it) { return it->ops->key(it); }
static inline struct slice iter_value(const struct iter *it) { return it->ops->value(it); }
static inline int iter_status(const struct iter *it) { return it->ops->status(it); }
static inline void iter_destroy(struct iter *it) { if (it) it->ops->destroy(it); }

/* An iterator over nothing, carrying status (0 or an error). */
struct iter *iter_empty(int status);

/* Key order used by composed iterators (ikey_compare for internal keys). */
typedef int (*iter_cmp_fn)(struct slice a, struct slice b);

/* Merging iterator over n children (LevelDB's MergingIterator, with a binary
 * heap): yields the union of the children's entries in cmp order, forward and
 * reverse; among equal keys the child with the lower index comes first. Takes
 * ownership of the children (and of the array's contents, not the array).
 * The first child error makes the merge invalid with that status. n may be 0. */
struct iter *iter_merging(iter_cmp_fn cmp, struct iter **children, int n);

#endif
