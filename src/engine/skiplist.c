/* skiplist: lock-free-read skiplist in an arena (see skiplist.h). */
#include "engine/skiplist.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "util/arena.h"
#include "util/zmalloc.h"

#define SKIPLIST_BRANCHING 4

struct skiplist_node {
    struct slice key;
    /* next[0] is the bottom level; the node is allocated with room for
     * exactly its height. */
    _Atomic(struct skiplist_node *) next[1];
};

struct skiplist {
    struct arena *arena;
    skiplist_cmp_fn cmp;
    void *cmp_arg;
    struct skiplist_node *head;
    atomic_int max_height;
    _Atomic uint64_t count;
    uint64_t rnd;              /* xorshift state; writer only */
    /* skiplist_node_alloc -> skiplist_insert_node; writer only */
    struct skiplist_node *pending;
    int pending_height;
};

/* Bytewise order (slice_compare), inlined: the search compares ~25 keys
 * per insert, and a call through a pointer to memcmp per compare showed up
 * as ~15% of the server's SET. Eight bytes at a time, big-endian. */
static inline int sl_bytewise(struct slice a, struct slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    const unsigned char *p = (const unsigned char *)a.data;
    const unsigned char *q = (const unsigned char *)b.data;

    for (; n >= 8; n -= 8, p += 8, q += 8) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        memcpy(&y, q, 8);
        if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
#endif
            return x < y ? -1 : 1;
        }
    }
    for (; n > 0; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

static inline int sl_cmp(const struct skiplist *l, struct slice a, struct slice b)
{
    return l->cmp == NULL ? sl_bytewise(a, b) : l->cmp(l->cmp_arg, a, b);
}

static struct skiplist_node *sl_next(const struct skiplist_node *n, int level)
{
    /* Acquire: see the node's contents as they were before it was linked. */
    return atomic_load_explicit(&((struct skiplist_node *)n)->next[level],
                                memory_order_acquire);
}

static void sl_set_next(struct skiplist_node *n, int level, struct skiplist_node *x)
{
    atomic_store_explicit(&n->next[level], x, memory_order_release);
}

static size_t sl_node_size(int height)
{
    return sizeof(struct skiplist_node) +
           sizeof(_Atomic(struct skiplist_node *)) * (size_t)(height - 1);
}

/* A node of the given height with extra bytes of caller memory right after
 * it (one arena allocation). */
static struct skiplist_node *sl_new_node(struct skiplist *l, struct slice key, int height,
                                         size_t extra)
{
    struct skiplist_node *n = arena_alloc_aligned(l->arena, sl_node_size(height) + extra);

    n->key = key;
    for (int i = 0; i < height; i++)
        atomic_init(&n->next[i], NULL);
    return n;
}

struct skiplist *skiplist_create(struct arena *arena, skiplist_cmp_fn cmp,
                                 void *cmp_arg, uint64_t seed)
{
    struct skiplist *l = zcalloc(sizeof(*l));

    l->arena = arena;
    l->cmp = cmp;
    l->cmp_arg = cmp_arg;
    l->rnd = seed ? seed : 0x9e3779b97f4a7c15ULL;
    atomic_init(&l->max_height, 1);
    atomic_init(&l->count, 0);
    l->head = sl_new_node(l, slice_make("", 0), SKIPLIST_MAX_HEIGHT, 0);
    return l;
}

void skiplist_destroy(struct skiplist *l)
{
    zfree(l);
}

static int sl_random_height(struct skiplist *l)
{
    int h = 1;

    while (h < SKIPLIST_MAX_HEIGHT) {
        l->rnd ^= l->rnd << 13;
        l->rnd ^= l->rnd >> 7;
        l->rnd ^= l->rnd << 17;
        if ((l->rnd >> 32) % SKIPLIST_BRANCHING != 0)
            break;
        h++;
    }
    return h;
}

static int sl_height(const struct skiplist *l)
{
    return atomic_load_explicit(&((struct skiplist *)l)->max_height, memory_order_relaxed);
}

/* First node >= key; fills prev[level] with the last node < key when prev. */
static struct skiplist_node *sl_find_ge(const struct skiplist *l, struct slice key,
                                        struct skiplist_node **prev)
{
    struct skiplist_node *x = l->head;
    struct skiplist_node *last_ge = NULL;   /* a node known to be >= key */
    int level = sl_height(l) - 1;

    for (;;) {
        struct skiplist_node *next = sl_next(x, level);

        /* Overlap the miss on the node after next with the compare of
         * next's (inline) key: the search is a chain of cache misses. */
        if (next != NULL && next != last_ge)
            __builtin_prefetch(atomic_load_explicit(&next->next[level], memory_order_relaxed));
        /* The node that stopped the level above often stops this one
         * too: no second compare of it. */
        if (next != NULL && next != last_ge && sl_cmp(l, next->key, key) < 0) {
            x = next;
        } else {
            last_ge = next;
            if (prev != NULL)
                prev[level] = x;
            if (level == 0)
                return next;
            level--;
        }
    }
}

/* Last node < key, or head. */
static struct skiplist_node *sl_find_lt(const struct skiplist *l, struct slice key)
{
    struct skiplist_node *x = l->head;
    int level = sl_height(l) - 1;

    for (;;) {
        struct skiplist_node *next = sl_next(x, level);

        if (next != NULL && sl_cmp(l, next->key, key) < 0) {
            x = next;
        } else {
            if (level == 0)
                return x;
            level--;
        }
    }
}

/* Last node, or head when empty. */
static struct skiplist_node *sl_find_last(const struct skiplist *l)
{
    struct skiplist_node *x = l->head;
    int level = sl_height(l) - 1;

    for (;;) {
        struct skiplist_node *next = sl_next(x, level);

        if (next != NULL) {
            x = next;
        } else {
            if (level == 0)
                return x;
            level--;
        }
    }
}

/* Links node x of the given height after prev[] (from sl_find_ge). */
static int sl_link(struct skiplist *l, struct skiplist_node *x, int height,
                   struct skiplist_node **prev)
{
    int cur = sl_height(l);

    if (height > cur) {
        for (int i = cur; i < height; i++)
            prev[i] = l->head;
        /* Relaxed is enough: a reader that sees the new height before the
         * new links finds NULL at those levels of head and moves down. */
        atomic_store_explicit(&l->max_height, height, memory_order_relaxed);
    }
    for (int i = 0; i < height; i++) {
        /* x is not yet visible: its own links can be plain stores. */
        atomic_store_explicit(&x->next[i], sl_next(prev[i], i), memory_order_relaxed);
        sl_set_next(prev[i], i, x);
    }
    atomic_fetch_add_explicit(&l->count, 1, memory_order_relaxed);
    return 0;
}

int skiplist_insert(struct skiplist *l, struct slice key)
{
    struct skiplist_node *prev[SKIPLIST_MAX_HEIGHT];
    struct skiplist_node *x = sl_find_ge(l, key, prev);
    int height;

    if (x != NULL && sl_cmp(l, x->key, key) == 0)
        return 1;
    height = sl_random_height(l);
    return sl_link(l, sl_new_node(l, key, height, 0), height, prev);
}

struct skiplist_node *skiplist_node_alloc(struct skiplist *l, size_t len, char **mem)
{
    int height = sl_random_height(l);
    struct skiplist_node *n = sl_new_node(l, slice_make("", 0), height, len);

    l->pending = n;
    l->pending_height = height;
    *mem = (char *)n + sl_node_size(height);
    return n;
}

int skiplist_insert_node(struct skiplist *l, struct skiplist_node *n, struct slice key)
{
    struct skiplist_node *prev[SKIPLIST_MAX_HEIGHT];
    struct skiplist_node *x;

    assert(l->pending == n);
    l->pending = NULL;
    x = sl_find_ge(l, key, prev);
    if (x != NULL && sl_cmp(l, x->key, key) == 0)
        return 1;
    n->key = key;
    return sl_link(l, n, l->pending_height, prev);
}

int skiplist_contains(const struct skiplist *l, struct slice key)
{
    struct skiplist_node *x = sl_find_ge(l, key, NULL);

    return x != NULL && sl_cmp(l, x->key, key) == 0;
}

uint64_t skiplist_count(const struct skiplist *l)
{
    return atomic_load_explicit(&((struct skiplist *)l)->count, memory_order_relaxed);
}

/* ---- iterator ---- */

void skiplist_iter_init(struct skiplist_iter *it, const struct skiplist *l)
{
    it->list = l;
    it->node = NULL;
}

int skiplist_iter_valid(const struct skiplist_iter *it)
{
    return it->node != NULL;
}

struct slice skiplist_iter_key(const struct skiplist_iter *it)
{
    assert(it->node != NULL);
    return it->node->key;
}

void skiplist_iter_next(struct skiplist_iter *it)
{
    assert(it->node != NULL);
    it->node = sl_next(it->node, 0);
}

void skiplist_iter_prev(struct skiplist_iter *it)
{
    const struct skiplist_node *x;

    assert(it->node != NULL);
    x = sl_find_lt(it->list, it->node->key);
    it->node = (x == it->list->head) ? NULL : x;
}

void skiplist_iter_seek(struct skiplist_iter *it, struct slice target)
{
    it->node = sl_find_ge(it->list, target, NULL);
}

void skiplist_iter_seek_for_prev(struct skiplist_iter *it, struct slice target)
{
    const struct skiplist *l = it->list;
    const struct skiplist_node *x = sl_find_ge(l, target, NULL);

    if (x != NULL && sl_cmp(l, x->key, target) == 0) {
        it->node = x;
        return;
    }
    x = sl_find_lt(l, target);
    it->node = (x == l->head) ? NULL : x;
}

void skiplist_iter_seek_to_first(struct skiplist_iter *it)
{
    it->node = sl_next(it->list->head, 0);
}

void skiplist_iter_seek_to_last(struct skiplist_iter *it)
{
    const struct skiplist_node *x = sl_find_last(it->list);

    it->node = (x == it->list->head) ? NULL : x;
}
