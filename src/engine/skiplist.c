/* skiplist: lock-free-read skiplist in an arena (see skiplist.h). */
#include "engine/skiplist.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "util/arena.h"
#include "util/zmalloc.h"

#define SKIPLIST_BRANCHING 4

struct skiplist_node {
    const char *key_data;
    uint32_t key_len;
    uint32_t height;
    /* next[0] is the bottom level; the node is allocated with room for
     * exactly its height. A deferred node (not linked yet) uses next[0]
     * for the deferred chain. */
    _Atomic(struct skiplist_node *) next[1];
};

static inline struct slice sl_key(const struct skiplist_node *n)
{
    return slice_make(n->key_data, n->key_len);
}

static inline void sl_set_key(struct skiplist_node *n, struct slice key)
{
    assert(key.len <= UINT32_MAX);
    n->key_data = key.data;
    n->key_len = (uint32_t)key.len;
}

struct skiplist {
    struct arena *arena;
    skiplist_cmp_fn cmp;
    void *cmp_arg;
    struct skiplist_node *head;
    atomic_int max_height;
    _Atomic uint64_t count;
    uint64_t rnd;              /* xorshift state; allocating writer only */
    /* Deferred nodes, newest first, chained through next[0]; pushed by
     * the deferring writer, taken whole by skiplist_link_deferred. */
    _Atomic(struct skiplist_node *) deferred;
    /* Length of the prefix every deferred or linked key shares with
     * lcp_ref (the first such key): a sort compares 8 bytes from there
     * instead of the (often equal) first 8. Written by the deferring
     * writer, only ever shrinks. */
    const char *lcp_ref;
    size_t lcp_ref_len;
    _Atomic size_t lcp;
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

    sl_set_key(n, key);
    n->height = (uint32_t)height;
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
    atomic_init(&l->deferred, NULL);
    atomic_init(&l->lcp, 0);
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
        if (next != NULL && next != last_ge && sl_cmp(l, sl_key(next), key) < 0) {
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

        if (next != NULL && sl_cmp(l, sl_key(next), key) < 0) {
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

    if (x != NULL && sl_cmp(l, sl_key(x), key) == 0)
        return 1;
    height = sl_random_height(l);
    return sl_link(l, sl_new_node(l, key, height, 0), height, prev);
}

struct skiplist_node *skiplist_node_alloc(struct skiplist *l, size_t len, char **mem)
{
    int height = sl_random_height(l);
    struct skiplist_node *n = sl_new_node(l, slice_make("", 0), height, len);

    *mem = (char *)n + sl_node_size(height);
    return n;
}

int skiplist_insert_node(struct skiplist *l, struct skiplist_node *n, struct slice key)
{
    struct skiplist_node *prev[SKIPLIST_MAX_HEIGHT];
    struct skiplist_node *x;

    x = sl_find_ge(l, key, prev);
    if (x != NULL && sl_cmp(l, sl_key(x), key) == 0)
        return 1;
    sl_set_key(n, key);
    return sl_link(l, n, (int)n->height, prev);
}

/* ---- deferred insertion ---- */

void skiplist_defer_node(struct skiplist *l, struct skiplist_node *n, struct slice key)
{
    struct skiplist_node *h;
    size_t lcp = atomic_load_explicit(&l->lcp, memory_order_relaxed);

    sl_set_key(n, key);
    if (l->lcp_ref == NULL) {
        l->lcp_ref = key.data;
        l->lcp_ref_len = lcp = key.len;
    } else {
        size_t i = 0, m = lcp < key.len ? lcp : key.len;
        while (i < m && l->lcp_ref[i] == key.data[i])
            i++;
        lcp = i;
    }
    atomic_store_explicit(&l->lcp, lcp, memory_order_relaxed);
    h = atomic_load_explicit(&l->deferred, memory_order_relaxed);
    do {
        atomic_store_explicit(&n->next[0], h, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&l->deferred, &h, n, memory_order_release,
                                                    memory_order_relaxed));
}

/* A deferred node to sort: 16 key bytes from the common prefix on, as two
 * big-endian words (0-padded), then the node. */
struct sl_sortent {
    uint64_t prefix, prefix2;
    struct skiplist_node *n;
};

static uint64_t sl_prefix(struct slice key, size_t off)
{
    uint64_t p = 0;

    for (size_t i = 0; i < 8; i++)
        p = p << 8 | (off + i < key.len ? (unsigned char)key.data[off + i] : 0);
    return p;
}

/* The 16 bytes of key from off into e's prefix words. */
static inline void sl_set_prefix(struct sl_sortent *e, struct slice key, size_t off)
{
    e->prefix = sl_prefix(key, off);
    e->prefix2 = sl_prefix(key, off + 8);
}

/* By prefix words; on equal ones 0, or (full) by the whole keys. */
static inline int sl_sortent_cmp(const struct skiplist *l, const struct sl_sortent *a,
                                 const struct sl_sortent *b, int full)
{
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    if (a->prefix2 != b->prefix2)
        return a->prefix2 < b->prefix2 ? -1 : 1;
    return full ? sl_cmp(l, sl_key(a->n), sl_key(b->n)) : 0;
}

/* Bottom-up merge sort of v[0..n) (stable; tmp holds n entries). */
static void sl_msort(const struct skiplist *l, struct sl_sortent *v, struct sl_sortent *tmp,
                     size_t n, int full)
{
    struct sl_sortent *src = v, *dst = tmp;

    /* Runs of 8 by insertion sort. */
    for (size_t lo = 0; lo < n; lo += 8) {
        size_t hi = lo + 8 < n ? lo + 8 : n;
        for (size_t i = lo + 1; i < hi; i++) {
            struct sl_sortent e = v[i];
            size_t j = i;
            while (j > lo && sl_sortent_cmp(l, &e, &v[j - 1], full) < 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = e;
        }
    }
    for (size_t w = 8; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = sl_sortent_cmp(l, &src[j], &src[i], full) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct sl_sortent *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
}

/* Prefix rounds before a still tied run is sorted by whole keys. */
#define SL_SORT_ROUNDS 8

/* Sorts v[0..n), whose keys share their first off bytes and whose prefix
 * words hold the 16 bytes from off: by those alone (no key read per
 * compare), then each run of equal words by the next 16 bytes, and so on.
 * One outlier key (the server's metadata beside its data keys) makes the
 * common prefix short, and the first 8 bytes then tell few keys apart: a
 * sort that fell back to whole keys on ties read two keys per compare (a
 * cache miss each), most of the flush's time; one of 8-byte rounds sorted
 * the data keys twice. A run whose keys all end in the window, or still
 * tied after SL_SORT_ROUNDS rounds, is sorted by whole keys (equal or
 * nearly equal keys: short runs). */
static void sl_sort(const struct skiplist *l, struct sl_sortent *v, struct sl_sortent *tmp,
                    size_t n, size_t off, int round)
{
    size_t a, b;

    if (l->cmp != NULL || round == SL_SORT_ROUNDS) {
        sl_msort(l, v, tmp, n, 1);
        return;
    }
    sl_msort(l, v, tmp, n, 0);
    for (a = 0; a < n; a = b) {
        int longer = 0;

        for (b = a + 1; b < n && sl_sortent_cmp(l, &v[b], &v[a], 0) == 0; b++)
            ;
        if (b - a < 2)
            continue;
        for (size_t i = a; i < b; i++)
            longer |= sl_key(v[i].n).len > off + 16;
        if (!longer) {
            sl_msort(l, v + a, tmp + a, b - a, 1);
            continue;
        }
        for (size_t i = a; i < b; i++) {
            if (i + 8 < b)
                __builtin_prefetch(v[i + 8].n);
            sl_set_prefix(&v[i], sl_key(v[i].n), off + 16);
        }
        sl_sort(l, v + a, tmp + a, b - a, off + 16, round + 1);
    }
}

/* Links sorted, distinct nodes: each search starts from the previous
 * one's predecessors, going up only as far as the gap to the new key
 * needs (a run of keys close together costs a few compares each, not a
 * search from the head). */
static void sl_link_sorted(struct skiplist *l, const struct sl_sortent *v, size_t n)
{
    struct skiplist_node *prev[SKIPLIST_MAX_HEIGHT];
    struct skiplist_node *last = NULL;

    for (size_t i = 0; i < n; i++) {
        struct skiplist_node *x = v[i].n, *ge;
        struct slice key = sl_key(x);

        if (i + 4 < n)
            __builtin_prefetch(v[i + 4].n);
        if (last == NULL) {
            ge = sl_find_ge(l, key, prev);
        } else {
            int height = sl_height(l), level = 0;
            struct skiplist_node *y, *next;
            /* Lowest level whose successor of prev is past key: the
             * levels from there up keep their predecessors. */
            while (level < height) {
                next = sl_next(prev[level], level);
                if (next == NULL || sl_cmp(l, sl_key(next), key) >= 0)
                    break;
                level++;
            }
            if (level == height)
                level = height - 1;
            else if (level == 0)
                goto found;
            else
                level--;
            y = prev[level];
            for (;;) {
                next = sl_next(y, level);
                if (next != NULL && sl_cmp(l, sl_key(next), key) < 0) {
                    y = next;
                } else {
                    prev[level] = y;
                    if (level == 0)
                        break;
                    level--;
                }
            }
        found:
            ge = sl_next(prev[0], 0);
        }
        if ((ge != NULL && sl_cmp(l, sl_key(ge), key) == 0) ||
            (last != NULL && sl_cmp(l, sl_key(last), key) == 0))
            continue;   /* an equal key is linked: not linked twice */
        sl_link(l, x, (int)x->height, prev);
        for (uint32_t h = 0; h < x->height; h++)
            prev[h] = x;
        last = x;
    }
}

size_t skiplist_link_deferred(struct skiplist *l)
{
    struct skiplist_node *c = atomic_exchange_explicit(&l->deferred, NULL, memory_order_acq_rel);
    struct sl_sortent *v;
    size_t n = 0, cap = 64, off;

    if (c == NULL)
        return 0;
    off = l->cmp == NULL ? atomic_load_explicit(&l->lcp, memory_order_relaxed) : 0;
    v = zmalloc(cap * 2 * sizeof(*v));
    for (; c != NULL; c = atomic_load_explicit(&c->next[0], memory_order_relaxed)) {
        if (n == cap) {
            cap *= 2;
            v = zrealloc(v, cap * 2 * sizeof(*v));
        }
        v[n].n = c;
        if (l->cmp == NULL)
            sl_set_prefix(&v[n], sl_key(c), off);
        else
            v[n].prefix = v[n].prefix2 = 0;
        n++;
    }
    sl_sort(l, v, v + cap, n, off, 0);
    sl_link_sorted(l, v, n);
    zfree(v);
    return n;
}

int skiplist_contains(const struct skiplist *l, struct slice key)
{
    struct skiplist_node *x = sl_find_ge(l, key, NULL);

    return x != NULL && sl_cmp(l, sl_key(x), key) == 0;
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
    return sl_key(it->node);
}

void skiplist_iter_next(struct skiplist_iter *it)
{
    const struct skiplist_node *n;
    assert(it->node != NULL);
    n = it->node = sl_next(it->node, 0);
    /* The node after it: its miss overlaps the caller's work on this one
     * (a flush or a scan walks nodes in key order, scattered in the arena). */
    if (n != NULL)
        __builtin_prefetch(sl_next(n, 0));
}

void skiplist_iter_prev(struct skiplist_iter *it)
{
    const struct skiplist_node *x;

    assert(it->node != NULL);
    x = sl_find_lt(it->list, sl_key(it->node));
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

    if (x != NULL && sl_cmp(l, sl_key(x), target) == 0) {
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
