/* skiplist: the ordered in-memory index of the memtable.
 *
 * Keys are opaque byte strings (slices) ordered by a comparator given at
 * creation; the list stores the slice, not a copy, so the bytes must live at
 * least as long as the list (the memtable puts them in the same arena).
 * Nodes are allocated from an arena and freed only with it; nothing is ever
 * removed. Max height 12, branching factor 4. Equal keys are not inserted
 * twice.
 * Deferred insertion: a writer can also hand nodes over without a search
 * (skiplist_defer_node, a few stores); they stay invisible to readers until
 * skiplist_link_deferred sorts them and links them in key order, each
 * search starting where the last one ended.
 * Thread rules: one linker at a time (skiplist_insert_node,
 * skiplist_link_deferred; the caller serializes them) and one allocating or
 * deferring writer at a time (skiplist_node_alloc, skiplist_defer_node),
 * which may run concurrently with the linker; skiplist_insert is both (it
 * allocates and links), so it runs alone among writers; any number of readers
 * (contains, iterators) concurrently with both and without locks: a node is
 * fully built before it is published with a release store, readers follow
 * links with acquire loads. */
#ifndef LSM_ENGINE_SKIPLIST_H
#define LSM_ENGINE_SKIPLIST_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct arena;
struct skiplist;
struct skiplist_node;

#define SKIPLIST_MAX_HEIGHT 12

/* <0, 0, >0. */
typedef int (*skiplist_cmp_fn)(void *arg, struct slice a, struct slice b);

/* The list allocates its nodes from arena, which must outlive it. cmp NULL
 * = bytewise order (slice_compare), compared inline (faster). seed
 * drives node heights (tests pass one to be reproducible; 0 = fixed default). */
struct skiplist *skiplist_create(struct arena *arena, skiplist_cmp_fn cmp,
                                 void *cmp_arg, uint64_t seed);
/* Frees the list header (nodes live in the arena). NULL is a no-op. */
void skiplist_destroy(struct skiplist *l);
/* Inserts key: 0, or 1 when an equal key is present (nothing inserted). */
int skiplist_insert(struct skiplist *l, struct slice key);
/* Inline keys (the memtable's way): a node with len bytes of caller memory
 * right after it, in one arena allocation, so a search reads the node and
 * its key from neighbouring cache lines instead of two far-apart places.
 * Fill *mem (the key must lie in it, at most 4 GiB), then either
 * skiplist_insert_node(l, node, key) (returns like skiplist_insert; on 1 the
 * node's memory is simply left unused) or skiplist_defer_node. */
struct skiplist_node *skiplist_node_alloc(struct skiplist *l, size_t len, char **mem);
int skiplist_insert_node(struct skiplist *l, struct skiplist_node *n, struct slice key);
/* Hands node n (key inside its memory) over for the next
 * skiplist_link_deferred; readers do not see it until then. The caller
 * should not defer a key twice or one that is linked; if it does, the
 * link keeps one node of equal keys and leaves the others unused. */
void skiplist_defer_node(struct skiplist *l, struct skiplist_node *n, struct slice key);
/* Links every node deferred before the call (linker): returns how many it
 * took. */
size_t skiplist_link_deferred(struct skiplist *l);
/* 1 when an equal key is present. */
int skiplist_contains(const struct skiplist *l, struct slice key);
/* Number of keys (relaxed read, any thread). */
uint64_t skiplist_count(const struct skiplist *l);

/* A position in the list; a plain value, no cleanup needed. Valid while the
 * list lives; keys inserted after creation may or may not be seen. */
struct skiplist_iter {
    const struct skiplist *list;
    const struct skiplist_node *node;    /* NULL = not valid */
};

void skiplist_iter_init(struct skiplist_iter *it, const struct skiplist *l);
int skiplist_iter_valid(const struct skiplist_iter *it);
struct slice skiplist_iter_key(const struct skiplist_iter *it);   /* valid only */
void skiplist_iter_next(struct skiplist_iter *it);
void skiplist_iter_prev(struct skiplist_iter *it);                /* O(log n) */
void skiplist_iter_seek(struct skiplist_iter *it, struct slice target);   /* first >= */
void skiplist_iter_seek_for_prev(struct skiplist_iter *it, struct slice target); /* last <= */
void skiplist_iter_seek_to_first(struct skiplist_iter *it);
void skiplist_iter_seek_to_last(struct skiplist_iter *it);

#endif
