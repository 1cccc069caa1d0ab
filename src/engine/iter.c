/* iter.c: the empty iterator and the merging iterator (see iter.h).
 *
 * The merge keeps the valid children in a binary heap: a min-heap while moving
 * forward, a max-heap while moving in reverse. Changing direction re-positions
 * every non-current child around the current key, as LevelDB does, then
 * rebuilds the heap. */
#include "engine/iter.h"

#include "engine/lsm.h"
#include "util/zmalloc.h"

/* ---- empty ---- */

struct empty_iter {
    struct iter base;
    int status;
};

static int empty_valid(const struct iter *it) { (void)it; return 0; }
static void empty_noop(struct iter *it) { (void)it; }
static void empty_seek(struct iter *it, struct slice t) { (void)it; (void)t; }
static struct slice empty_kv(const struct iter *it) { (void)it; return slice_make("", 0); }
static int empty_status(const struct iter *it)
{
    return ((const struct empty_iter *)it)->status;
}
static void empty_destroy(struct iter *it) { zfree(it); }

static const struct iter_ops empty_ops = {
    empty_valid, empty_noop, empty_noop, empty_seek, empty_seek,
    empty_noop, empty_noop, empty_kv, empty_kv, empty_status, empty_destroy
};

struct iter *iter_empty(int status)
{
    struct empty_iter *e = zmalloc(sizeof *e);
    e->base.ops = &empty_ops;
    e->status = status;
    return &e->base;
}

/* ---- merging ---- */

enum { DIR_FWD = 0, DIR_REV = 1 };

struct merge_iter {
    struct iter base;
    iter_cmp_fn cmp;
    struct iter **child;
    int n;
    int *heap;          /* child indexes; heap[0] is the current child */
    int hn;
    int dir;
    int status;
};

/* 1 when child a must come before child b in the current direction. */
static int m_before(const struct merge_iter *m, int a, int b)
{
    int r = m->cmp(iter_key(m->child[a]), iter_key(m->child[b]));
    if (m->dir == DIR_REV)
        r = -r;
    if (r != 0)
        return r < 0;
    return a < b;
}

static void m_sift_down(struct merge_iter *m, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, best = i, t;
        if (l < m->hn && m_before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->hn && m_before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            return;
        t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

/* A child that is not valid: stop everything if it failed. */
static void m_check_child(struct merge_iter *m, int c)
{
    int st = iter_status(m->child[c]);
    if (st != 0 && m->status == 0)
        m->status = st;
}

static void m_build(struct merge_iter *m, int dir)
{
    int i;

    m->dir = dir;
    m->hn = 0;
    for (i = 0; i < m->n; i++) {
        if (iter_valid(m->child[i]))
            m->heap[m->hn++] = i;
        else
            m_check_child(m, i);
    }
    if (m->status != 0) {
        m->hn = 0;
        return;
    }
    for (i = m->hn / 2 - 1; i >= 0; i--)
        m_sift_down(m, i);
}

/* After the current child moved: keep it or drop it, restore the heap. */
static void m_fix_top(struct merge_iter *m)
{
    int c = m->heap[0];

    if (!iter_valid(m->child[c])) {
        m_check_child(m, c);
        if (m->status != 0) {
            m->hn = 0;
            return;
        }
        m->heap[0] = m->heap[--m->hn];
    }
    if (m->hn > 0)
        m_sift_down(m, 0);
}

static int m_valid(const struct iter *it)
{
    const struct merge_iter *m = (const struct merge_iter *)it;
    return m->status == 0 && m->hn > 0;
}

static void m_seek_to_first(struct iter *it)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int i;
    m->status = 0;
    for (i = 0; i < m->n; i++)
        iter_seek_to_first(m->child[i]);
    m_build(m, DIR_FWD);
}

static void m_seek_to_last(struct iter *it)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int i;
    m->status = 0;
    for (i = 0; i < m->n; i++)
        iter_seek_to_last(m->child[i]);
    m_build(m, DIR_REV);
}

static void m_seek(struct iter *it, struct slice t)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int i;
    m->status = 0;
    for (i = 0; i < m->n; i++)
        iter_seek(m->child[i], t);
    m_build(m, DIR_FWD);
}

static void m_seek_for_prev(struct iter *it, struct slice t)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int i;
    m->status = 0;
    for (i = 0; i < m->n; i++)
        iter_seek_for_prev(m->child[i], t);
    m_build(m, DIR_REV);
}

static void m_next(struct iter *it)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int cur = m->heap[0], i;

    if (m->dir != DIR_FWD) {
        /* Put every other child at its first entry > key(). The current
         * child is not moved, so key() stays valid meanwhile. */
        struct slice k = iter_key(m->child[cur]);
        for (i = 0; i < m->n; i++) {
            struct iter *c = m->child[i];
            if (i == cur)
                continue;
            iter_seek(c, k);
            if (iter_valid(c) && m->cmp(iter_key(c), k) == 0)
                iter_next(c);
        }
        iter_next(m->child[cur]);
        m_build(m, DIR_FWD);
        return;
    }
    iter_next(m->child[cur]);
    m_fix_top(m);
}

static void m_prev(struct iter *it)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int cur = m->heap[0], i;

    if (m->dir != DIR_REV) {
        /* Put every other child at its last entry < key(). */
        struct slice k = iter_key(m->child[cur]);
        for (i = 0; i < m->n; i++) {
            struct iter *c = m->child[i];
            if (i == cur)
                continue;
            iter_seek(c, k);
            if (iter_valid(c))
                iter_prev(c);
            else if (iter_status(c) == 0)
                iter_seek_to_last(c);
        }
        iter_prev(m->child[cur]);
        m_build(m, DIR_REV);
        return;
    }
    iter_prev(m->child[cur]);
    m_fix_top(m);
}

static struct slice m_key(const struct iter *it)
{
    const struct merge_iter *m = (const struct merge_iter *)it;
    return iter_key(m->child[m->heap[0]]);
}

static struct slice m_value(const struct iter *it)
{
    const struct merge_iter *m = (const struct merge_iter *)it;
    return iter_value(m->child[m->heap[0]]);
}

static int m_status(const struct iter *it)
{
    const struct merge_iter *m = (const struct merge_iter *)it;
    int i;
    if (m->status != 0)
        return m->status;
    for (i = 0; i < m->n; i++) {
        int st = iter_status(m->child[i]);
        if (st != 0)
            return st;
    }
    return 0;
}

static void m_destroy(struct iter *it)
{
    struct merge_iter *m = (struct merge_iter *)it;
    int i;
    for (i = 0; i < m->n; i++)
        iter_destroy(m->child[i]);
    zfree(m->child);
    zfree(m->heap);
    zfree(m);
}

static const struct iter_ops merge_ops = {
    m_valid, m_seek_to_first, m_seek_to_last, m_seek, m_seek_for_prev,
    m_next, m_prev, m_key, m_value, m_status, m_destroy
};

struct iter *iter_merging(iter_cmp_fn cmp, struct iter **children, int n)
{
    struct merge_iter *m = zcalloc(sizeof *m);
    int i;

    m->base.ops = &merge_ops;
    m->cmp = cmp;
    m->n = n;
    m->child = zmalloc(sizeof(*m->child) * (size_t)(n > 0 ? n : 1));
    m->heap = zmalloc(sizeof(*m->heap) * (size_t)(n > 0 ? n : 1));
    for (i = 0; i < n; i++)
        m->child[i] = children[i];
    return &m->base;
}
