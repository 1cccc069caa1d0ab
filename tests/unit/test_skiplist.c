/* test_skiplist: order, iteration, lock-free concurrent reads, and deferred
 * insertion (hidden until linked, sorted by prefix then key, concurrent
 * deferring, linking and reading). */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/skiplist.h"
#include "util/arena.h"
#include "util/zmalloc.h"

static unsigned test_seed(const char *name)
{
    const char *env = getenv("SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 301u;

    printf("# %s SEED=%u\n", name, seed);
    return seed;
}

static int cmp_bytes(void *arg, struct slice a, struct slice b)
{
    (void)arg;
    return slice_compare(a, b);
}

/* Keys are 8-byte big-endian numbers, so byte order = numeric order. */
static void enc(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

static uint64_t dec(struct slice s)
{
    uint64_t v = 0;

    ck_assert_uint_eq(s.len, 8);
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)s.data[i];
    return v;
}

static struct slice arena_key(struct arena *a, uint64_t v)
{
    char *p = arena_alloc(a, 8);

    enc(p, v);
    return slice_make(p, 8);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

START_TEST(test_empty)
{
    struct arena *a = arena_create(0);
    struct skiplist *l = skiplist_create(a, cmp_bytes, NULL, 1);
    struct skiplist_iter it;
    char k[8];

    enc(k, 10);
    ck_assert(!skiplist_contains(l, slice_make(k, 8)));
    ck_assert_uint_eq(skiplist_count(l), 0);
    skiplist_iter_init(&it, l);
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_iter_seek_to_first(&it);
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_iter_seek_to_last(&it);
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_iter_seek(&it, slice_make(k, 8));
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_iter_seek_for_prev(&it, slice_make(k, 8));
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_destroy(l);
    arena_destroy(a);
}
END_TEST

START_TEST(test_random_vs_sorted_reference)
{
    enum { N = 5000, R = 20000 };
    unsigned seed = test_seed("test_random_vs_sorted_reference");
    struct arena *a = arena_create(0);
    struct skiplist *l = skiplist_create(a, cmp_bytes, NULL, seed);
    uint64_t *ref = zmalloc(sizeof(uint64_t) * N);
    size_t n = 0;
    struct skiplist_iter it;
    char k[8];

    srand(seed);
    for (int i = 0; i < N; i++) {
        uint64_t v = (uint64_t)(rand() % R);
        int dup = skiplist_contains(l, slice_make((enc(k, v), k), 8));
        int rc = skiplist_insert(l, arena_key(a, v));
        ck_assert_int_eq(rc, dup ? 1 : 0);
        if (!dup)
            ref[n++] = v;
    }
    qsort(ref, n, sizeof(uint64_t), cmp_u64);
    ck_assert_uint_eq(skiplist_count(l), n);

    /* Forward and backward walks give the reference order. */
    skiplist_iter_init(&it, l);
    skiplist_iter_seek_to_first(&it);
    for (size_t i = 0; i < n; i++) {
        ck_assert(skiplist_iter_valid(&it));
        ck_assert_uint_eq(dec(skiplist_iter_key(&it)), ref[i]);
        skiplist_iter_next(&it);
    }
    ck_assert(!skiplist_iter_valid(&it));
    skiplist_iter_seek_to_last(&it);
    for (size_t i = n; i-- > 0;) {
        ck_assert(skiplist_iter_valid(&it));
        ck_assert_uint_eq(dec(skiplist_iter_key(&it)), ref[i]);
        skiplist_iter_prev(&it);
    }
    ck_assert(!skiplist_iter_valid(&it));

    /* Every possible target: seek = first >=, seek_for_prev = last <=,
     * contains agrees with the reference. */
    for (uint64_t t = 0; t <= R; t++) {
        uint64_t *ge = ref, *end = ref + n;
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (ref[mid] < t) lo = mid + 1; else hi = mid;
        }
        ge = ref + lo;
        enc(k, t);
        skiplist_iter_seek(&it, slice_make(k, 8));
        if (ge == end) {
            ck_assert(!skiplist_iter_valid(&it));
        } else {
            ck_assert(skiplist_iter_valid(&it));
            ck_assert_uint_eq(dec(skiplist_iter_key(&it)), *ge);
        }
        ck_assert_int_eq(skiplist_contains(l, slice_make(k, 8)), ge != end && *ge == t);
        skiplist_iter_seek_for_prev(&it, slice_make(k, 8));
        if (ge != end && *ge == t) {
            ck_assert(skiplist_iter_valid(&it));
            ck_assert_uint_eq(dec(skiplist_iter_key(&it)), t);
        } else if (ge == ref) {
            ck_assert(!skiplist_iter_valid(&it));
        } else {
            ck_assert(skiplist_iter_valid(&it));
            ck_assert_uint_eq(dec(skiplist_iter_key(&it)), ge[-1]);
        }
    }
    zfree(ref);
    skiplist_destroy(l);
    arena_destroy(a);
}
END_TEST

/* ---- one writer, several lock-free readers ---- */

enum { CN = 20000, READERS = 3 };

struct conc {
    struct skiplist *list;
    char (*keys)[8];             /* keys[i] inserted i-th, distinct */
    _Atomic size_t published;    /* keys[0..published) are in the list */
    atomic_int done;
    atomic_int failures;
    _Atomic uint64_t scans;
};

static void *conc_writer(void *arg)
{
    struct conc *c = arg;

    for (size_t i = 0; i < CN; i++) {
        if (skiplist_insert(c->list, slice_make(c->keys[i], 8)) != 0)
            atomic_fetch_add(&c->failures, 1);
        atomic_store_explicit(&c->published, i + 1, memory_order_release);
        if (i % 64 == 0)
            sched_yield();          /* let readers run during the inserts */
    }
    atomic_store(&c->done, 1);
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    struct skiplist_iter it;
    unsigned r = 7;

    skiplist_iter_init(&it, c->list);
    do {
        size_t pub = atomic_load_explicit(&c->published, memory_order_acquire);
        size_t seen = 0;
        struct slice prev = { NULL, 0 };

        /* Ordering: a full scan is strictly increasing. */
        for (skiplist_iter_seek_to_first(&it); skiplist_iter_valid(&it);
             skiplist_iter_next(&it)) {
            struct slice k = skiplist_iter_key(&it);
            if (k.len != 8 || (prev.data && slice_compare(prev, k) >= 0))
                atomic_fetch_add(&c->failures, 1);
            prev = k;
            seen++;
        }
        /* Completeness: everything published before the scan is there. */
        if (seen < pub)
            atomic_fetch_add(&c->failures, 1);
        for (int j = 0; j < 50 && pub > 0; j++) {
            r = r * 1103515245u + 12345u;
            size_t i = (r >> 8) % pub;
            struct slice k = slice_make(c->keys[i], 8);
            if (!skiplist_contains(c->list, k))
                atomic_fetch_add(&c->failures, 1);
            skiplist_iter_seek(&it, k);
            if (!skiplist_iter_valid(&it) || slice_compare(skiplist_iter_key(&it), k) != 0)
                atomic_fetch_add(&c->failures, 1);
        }
        atomic_fetch_add(&c->scans, 1);
    } while (!atomic_load(&c->done));
    return NULL;
}

START_TEST(test_concurrent_readers)
{
    unsigned seed = test_seed("test_concurrent_readers");
    struct arena *a = arena_create(0);
    struct conc c;
    pthread_t w, rd[READERS];
    uint64_t *vals = zmalloc(sizeof(uint64_t) * CN);

    memset(&c, 0, sizeof(c));
    c.list = skiplist_create(a, cmp_bytes, NULL, seed);
    c.keys = zmalloc(sizeof(*c.keys) * CN);
    /* Distinct keys in random order: a shuffled arithmetic sequence. */
    srand(seed);
    for (size_t i = 0; i < CN; i++)
        vals[i] = i * 7919 + 13;
    for (size_t i = CN - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        uint64_t t = vals[i]; vals[i] = vals[j]; vals[j] = t;
    }
    for (size_t i = 0; i < CN; i++)
        enc(c.keys[i], vals[i]);
    atomic_init(&c.published, 0);
    atomic_init(&c.done, 0);
    atomic_init(&c.failures, 0);
    atomic_init(&c.scans, 0);
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&rd[i], NULL, conc_reader, &c), 0);
    ck_assert_int_eq(pthread_create(&w, NULL, conc_writer, &c), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(rd[i], NULL);
    printf("# concurrent: %llu reader passes\n", (unsigned long long)atomic_load(&c.scans));
    ck_assert_int_eq(atomic_load(&c.failures), 0);
    ck_assert_uint_eq(skiplist_count(c.list), CN);
    zfree(c.keys);
    zfree(vals);
    skiplist_destroy(c.list);
    arena_destroy(a);
}
END_TEST

/* cmp NULL: the inline bytewise order equals slice_compare, on keys of
 * every length 0..20 sharing long prefixes (the 8-byte steps, the tail,
 * the length tie-break, bytes >= 0x80). */
START_TEST(test_bytewise_order)
{
    unsigned seed = test_seed("test_bytewise_order");
    struct arena *a = arena_create(0);
    struct skiplist *l = skiplist_create(a, NULL, NULL, seed);
    struct skiplist_iter it;
    enum { N = 3000 };
    static struct slice keys[N];
    size_t n = 0;

    srand(seed);
    for (int i = 0; i < N; i++) {
        size_t len = (size_t)(rand() % 21);
        char *p = arena_alloc(a, len + 1);
        for (size_t j = 0; j < len; j++)
            p[j] = (char)(rand() % 3 == 0 ? 0xff - rand() % 3 : 'a' + rand() % 2);
        keys[i] = slice_make(p, len);
        if (skiplist_insert(l, keys[i]) == 0)
            n++;
    }
    for (int i = 0; i < N; i++)
        ck_assert(skiplist_contains(l, keys[i]));
    skiplist_iter_init(&it, l);
    skiplist_iter_seek_to_first(&it);
    {
        size_t seen = 0;
        struct slice prev = { NULL, 0 };
        for (; skiplist_iter_valid(&it); skiplist_iter_next(&it), seen++) {
            struct slice k = skiplist_iter_key(&it);
            if (seen > 0)
                ck_assert_int_lt(slice_compare(prev, k), 0);
            prev = k;
        }
        ck_assert_uint_eq(seen, n);
    }
    for (int i = 0; i < N; i++) {
        skiplist_iter_seek(&it, keys[i]);
        ck_assert(skiplist_iter_valid(&it));
        ck_assert(slice_equal(skiplist_iter_key(&it), keys[i]));
    }
    skiplist_destroy(l);
    arena_destroy(a);
}
END_TEST

/* ---- deferred insertion (skiplist_defer_node / skiplist_link_deferred) ---- */

static int cmp_rev(void *arg, struct slice a, struct slice b)
{
    (void)arg;
    return slice_compare(b, a);
}

/* A bijection on 64-bit values (splitmix64's finalizer): distinct inputs,
 * distinct scattered outputs. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static skiplist_cmp_fn sort_cmp;

static int qsort_slices(const void *a, const void *b)
{
    return sort_cmp(NULL, *(const struct slice *)a, *(const struct slice *)b);
}

/* The whole list, forwards, is exactly vis[0..n) sorted by cmp (so no
 * deferred key shows up and every linked one does); backwards too when
 * back. */
static void check_iteration(const struct skiplist *l, struct slice *vis, size_t n, int back)
{
    struct skiplist_iter it;
    size_t i = 0;

    qsort(vis, n, sizeof(*vis), qsort_slices);
    skiplist_iter_init(&it, l);
    for (skiplist_iter_seek_to_first(&it); skiplist_iter_valid(&it); skiplist_iter_next(&it)) {
        ck_assert_msg(i < n, "more keys in the list than linked (%zu)", n);
        ck_assert_msg(slice_equal(skiplist_iter_key(&it), vis[i]), "key %zu of %zu out of place",
                      i, n);
        i++;
    }
    ck_assert_uint_eq(i, n);
    if (!back)
        return;
    skiplist_iter_seek_to_last(&it);
    for (i = n; i-- > 0; skiplist_iter_prev(&it)) {
        ck_assert(skiplist_iter_valid(&it));
        ck_assert(slice_equal(skiplist_iter_key(&it), vis[i]));
    }
    ck_assert(!skiplist_iter_valid(&it));
}

/* Puts keys[0..n) (distinct, any bytes) in a list, in that order: each in
 * a node from skiplist_node_alloc (key inside the node), most deferred, one
 * in five inserted at once with skiplist_insert_node; batches of random
 * size, a link at random points. Between links a deferred key is neither
 * found nor iterated; after one it is, in cmp order, and the link says how
 * many it took. */
static void deferred_round(const char *name, const struct slice *keys, size_t n,
                           skiplist_cmp_fn cmp, unsigned seed)
{
    struct arena *a = arena_create(0);
    struct skiplist *l = skiplist_create(a, cmp, NULL, seed);
    struct slice *vis = zmalloc((n + 1) * sizeof(*vis));
    struct slice *pend = zmalloc((n + 1) * sizeof(*pend));
    size_t nvis = 0, npend = 0, i = 0, links = 0, batches = 0;

    printf("# %s: %zu keys, SEED=%u\n", name, n, seed);
    sort_cmp = cmp != NULL ? cmp : cmp_bytes;
    srand(seed);
    while (i < n) {
        size_t batch = rand() % 8 == 0 ? 1 + (size_t)rand() % 600 : 1 + (size_t)rand() % 40;

        for (size_t j = 0; j < batch && i < n; j++, i++) {
            char *mem;
            struct skiplist_node *node = skiplist_node_alloc(l, keys[i].len, &mem);
            struct slice k;

            if (keys[i].len > 0)
                memcpy(mem, keys[i].data, keys[i].len);
            k = slice_make(mem, keys[i].len);
            if (rand() % 5 == 0) {
                ck_assert_int_eq(skiplist_insert_node(l, node, k), 0);
                ck_assert(skiplist_contains(l, k));
                vis[nvis++] = k;
            } else {
                skiplist_defer_node(l, node, k);
                pend[npend++] = k;
            }
        }
        for (size_t j = 0; j < npend; j++)
            ck_assert_msg(!skiplist_contains(l, pend[j]), "deferred key %zu visible before link",
                          j);
        ck_assert_uint_eq(skiplist_count(l), nvis);
        if (++batches % 3 == 0)
            check_iteration(l, vis, nvis, 0);
        if (rand() % 3 == 0 || i == n) {
            ck_assert_uint_eq(skiplist_link_deferred(l), npend);
            ck_assert_uint_eq(skiplist_link_deferred(l), 0);    /* nothing left */
            memcpy(vis + nvis, pend, npend * sizeof(*pend));
            nvis += npend;
            for (size_t j = 0; j < npend; j++)
                ck_assert_msg(skiplist_contains(l, pend[j]), "deferred key %zu missing after link",
                              j);
            npend = 0;
            links++;
            ck_assert_uint_eq(skiplist_count(l), nvis);
            check_iteration(l, vis, nvis, 0);
        }
    }
    ck_assert_uint_eq(nvis, n);
    check_iteration(l, vis, nvis, 1);
    /* Seeks land on every key. */
    for (size_t j = 0; j < n; j++) {
        struct skiplist_iter it;
        skiplist_iter_init(&it, l);
        skiplist_iter_seek(&it, keys[j]);
        ck_assert(skiplist_iter_valid(&it));
        ck_assert(slice_equal(skiplist_iter_key(&it), keys[j]));
    }
    printf("# %s: %zu links\n", name, links);
    zfree(vis);
    zfree(pend);
    skiplist_destroy(l);
    arena_destroy(a);
}

static void shuffle_slices(struct slice *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rand() % i;
        struct slice t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Random distinct 8-byte keys (no common prefix to speak of). */
static size_t keys_random8(struct arena *a, struct slice *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = arena_key(a, mix64(seed * 1000003ULL + i));
    return n;
}

static struct slice arena_bytes(struct arena *a, const char *p, size_t len)
{
    char *q = arena_alloc(a, len + 1);

    memcpy(q, p, len);
    return slice_make(q, len);
}

/* Sorts v[0..n) bytewise and drops repeats: the new count. */
static size_t dedup_slices(struct slice *v, size_t n)
{
    size_t m = 0;

    sort_cmp = cmp_bytes;
    qsort(v, n, sizeof(*v), qsort_slices);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || !slice_equal(v[m - 1], v[i]))
            v[m++] = v[i];
    return m;
}

/* Keys built so that the 8-byte sort prefix after the common prefix
 * decides little: 20-byte keys with a 12-byte common prefix that differ in
 * the last bytes only; 28-byte keys whose bytes 12..19 take 3 values
 * (equal sort prefixes) and differ after; the bare prefix followed by 0..20
 * zero bytes, then 0x01 or 0xff (keys that are prefixes of each other, all
 * with a zero-padded sort prefix). Shuffled; when outliers, keys sharing
 * nothing (or less) with the rest come last, so the common prefix shrinks
 * after many deferrals. */
static size_t keys_prefixed(struct arena *a, struct slice *v, size_t n20, int outliers)
{
    static const char pfx[] = "common:pfx:/";       /* 12 bytes */
    char b[64];
    size_t n = 0;

    for (size_t i = 0; i < n20; i++) {
        uint64_t r = mix64(i + 77);
        memcpy(b, pfx, 12);
        /* Mostly the last byte or two differ. */
        enc(b + 12, i % 3 == 0 ? i : (i % 3 == 1 ? (r & 0xffff) << 8 | (i & 0xff) : r));
        v[n++] = arena_bytes(a, b, 20);
    }
    for (size_t i = 0; i < n20; i++) {
        memcpy(b, pfx, 12);
        enc(b + 12, i % 3);
        enc(b + 20, mix64(i + 5));
        v[n++] = arena_bytes(a, b, 28);
    }
    for (size_t z = 0; z <= 20; z++) {
        memcpy(b, pfx, 12);
        memset(b + 12, 0, z);
        v[n++] = arena_bytes(a, b, 12 + z);
        b[12 + z] = 1;
        v[n++] = arena_bytes(a, b, 12 + z + 1);
        b[12 + z] = (char)0xff;
        v[n++] = arena_bytes(a, b, 12 + z + 1);
    }
    /* Shorter than the rest but a prefix of them, and empty. */
    v[n++] = arena_bytes(a, pfx, 6);
    v[n++] = arena_bytes(a, "", 0);
    /* The families overlap (the prefix + 8 zero bytes is also key 0 of
     * the first): keep one of each, the deferred keys must be distinct. */
    n = dedup_slices(v, n);
    shuffle_slices(v, n);
    if (outliers) {
        v[n++] = arena_bytes(a, "common:pfx:-zz", 14);          /* shares 11 */
        v[n++] = arena_bytes(a, "common:pfx", 10);              /* a prefix */
        v[n++] = arena_bytes(a, "commoN", 6);
        v[n++] = arena_bytes(a, "\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9);
        v[n++] = arena_bytes(a, "a", 1);
    }
    return n;
}

/* The "ab", "ab\0", "ab\0\0"... family alone: every key's sort prefix
 * after the common "ab" is zero-padded and equal for most of them. */
static size_t keys_ab(struct arena *a, struct slice *v)
{
    char b[64] = "ab";
    size_t n = 0;

    for (size_t z = 0; z <= 24; z++) {
        memset(b + 2, 0, z);
        v[n++] = arena_bytes(a, b, 2 + z);
        b[2 + z] = 1;
        v[n++] = arena_bytes(a, b, 3 + z);
        b[2 + z] = (char)0x80;
        v[n++] = arena_bytes(a, b, 3 + z);
    }
    shuffle_slices(v, n);
    return n;
}

/* Keys sharing 150 bytes (more than the sort's prefix rounds reach: the
 * rest is sorted by whole keys) and some sharing 40, after an outlier that
 * makes the common prefix empty: ties on every 16-byte window up to the
 * last round. */
static size_t keys_long(struct arena *a, struct slice *v, size_t n150)
{
    char b[192];
    size_t n = 0;

    v[n++] = arena_bytes(a, "\x01", 1);
    memset(b, 'x', sizeof(b));
    for (size_t i = 0; i < n150; i++) {
        enc(b + 150, mix64(i + 11) % (n150 * 4));
        v[n++] = arena_bytes(a, b, 158);
        enc(b + 40, mix64(i + 12));
        v[n++] = arena_bytes(a, b, 48 + i % 3);
        memset(b + 40, 'x', 8);
    }
    n = dedup_slices(v, n);             /* the outlier sorts first: kept first */
    shuffle_slices(v + 1, n - 1);
    return n;
}

START_TEST(test_deferred_random_keys)
{
    unsigned seed = test_seed("test_deferred_random_keys");
    struct arena *ka = arena_create(0);
    enum { N = 4000 };
    struct slice *v = zmalloc(N * sizeof(*v));
    size_t n = keys_random8(ka, v, N, seed);

    deferred_round("random 8-byte, bytewise", v, n, NULL, seed);
    deferred_round("random 8-byte, cmp_bytes", v, n, cmp_bytes, seed + 1);
    deferred_round("random 8-byte, reverse", v, n, cmp_rev, seed + 2);
    zfree(v);
    arena_destroy(ka);
}
END_TEST

START_TEST(test_deferred_common_prefixes)
{
    unsigned seed = test_seed("test_deferred_common_prefixes");
    struct arena *ka = arena_create(0);
    struct slice *v = zmalloc(5000 * sizeof(*v));
    size_t n;

    srand(seed);
    n = keys_prefixed(ka, v, 1500, 0);
    deferred_round("prefixed, bytewise", v, n, NULL, seed);
    deferred_round("prefixed, reverse", v, n, cmp_rev, seed + 1);
    n = keys_prefixed(ka, v, 1500, 1);
    deferred_round("prefixed + outliers last, bytewise", v, n, NULL, seed + 2);
    deferred_round("prefixed + outliers last, reverse", v, n, cmp_rev, seed + 3);
    n = keys_long(ka, v, 1000);
    deferred_round("long shared prefixes after an outlier, bytewise", v, n, NULL, seed + 6);
    n = keys_ab(ka, v);
    deferred_round("ab\\0..., bytewise", v, n, NULL, seed + 4);
    deferred_round("ab\\0..., reverse", v, n, cmp_rev, seed + 5);
    zfree(v);
    arena_destroy(ka);
}
END_TEST

/* All keys deferred in one batch, in several orders (ascending,
 * descending, shuffled): one link sorts them all. */
START_TEST(test_deferred_one_batch)
{
    unsigned seed = test_seed("test_deferred_one_batch");
    struct arena *ka = arena_create(0);
    enum { N = 3000 };
    struct slice *v = zmalloc(N * sizeof(*v));
    size_t n;

    srand(seed);
    n = keys_prefixed(ka, v, 900, 1);
    for (int order = 0; order < 3; order++) {
        struct arena *a = arena_create(0);
        struct skiplist *l = skiplist_create(a, NULL, NULL, seed + (unsigned)order);
        struct slice *vis = zmalloc(n * sizeof(*vis));

        memcpy(vis, v, n * sizeof(*v));
        sort_cmp = cmp_bytes;
        if (order < 2)
            qsort(vis, n, sizeof(*vis), qsort_slices);
        for (size_t i = 0; i < n; i++) {
            size_t j = order == 1 ? n - 1 - i : i;
            char *mem;
            struct skiplist_node *node = skiplist_node_alloc(l, vis[j].len, &mem);
            if (vis[j].len > 0)
                memcpy(mem, vis[j].data, vis[j].len);
            skiplist_defer_node(l, node, slice_make(mem, vis[j].len));
        }
        ck_assert_uint_eq(skiplist_count(l), 0);
        check_iteration(l, vis, 0, 1);
        ck_assert_uint_eq(skiplist_link_deferred(l), n);
        ck_assert_uint_eq(skiplist_count(l), n);
        check_iteration(l, vis, n, 1);
        zfree(vis);
        skiplist_destroy(l);
        arena_destroy(a);
    }
    zfree(v);
    arena_destroy(ka);
}
END_TEST

/* A key deferred while an equal one is linked is skipped at link time
 * (the header's promise): counted as taken, linked once. */
START_TEST(test_deferred_equal_to_linked_skipped)
{
    struct arena *a = arena_create(0);
    struct skiplist *l = skiplist_create(a, NULL, NULL, 5);
    struct slice want[4];
    const char *ks[] = { "b", "d", "a", "c" };
    char *mem;
    struct skiplist_node *node;

    for (int i = 0; i < 2; i++) {     /* "b", "d" linked now */
        node = skiplist_node_alloc(l, 1, &mem);
        mem[0] = ks[i][0];
        ck_assert_int_eq(skiplist_insert_node(l, node, slice_make(mem, 1)), 0);
    }
    for (int i = 0; i < 4; i++) {     /* all four deferred */
        node = skiplist_node_alloc(l, 1, &mem);
        mem[0] = ks[i][0];
        skiplist_defer_node(l, node, slice_make(mem, 1));
    }
    ck_assert_uint_eq(skiplist_link_deferred(l), 4);
    ck_assert_uint_eq(skiplist_count(l), 4);
    want[0] = slice_make("a", 1);
    want[1] = slice_make("b", 1);
    want[2] = slice_make("c", 1);
    want[3] = slice_make("d", 1);
    sort_cmp = cmp_bytes;
    check_iteration(l, want, 4, 1);
    skiplist_destroy(l);
    arena_destroy(a);
}
END_TEST

/* The upper levels built by skiplist_link_deferred are as good as those of
 * plain inserts: a search in a list filled by deferred batches costs about
 * as many compares as in one filled key by key. (Iteration and lookups stay
 * right even with out-of-order upper levels, so only the cost shows it.) */
static _Atomic uint64_t cost_compares;

static int cmp_counting(void *arg, struct slice a, struct slice b)
{
    (void)arg;
    atomic_fetch_add_explicit(&cost_compares, 1, memory_order_relaxed);
    return slice_compare(a, b);
}

static double avg_search_compares(const struct skiplist *l, const struct slice *keys, size_t n)
{
    uint64_t before = atomic_load(&cost_compares);

    for (size_t i = 0; i < n; i++)
        ck_assert(skiplist_contains(l, keys[i]));
    return (double)(atomic_load(&cost_compares) - before) / (double)n;
}

START_TEST(test_deferred_search_cost)
{
    unsigned seed = test_seed("test_deferred_search_cost");
    enum { N = 20000 };
    struct arena *a = arena_create(0), *b = arena_create(0);
    struct skiplist *ld = skiplist_create(a, cmp_counting, NULL, seed);
    struct skiplist *li = skiplist_create(b, cmp_counting, NULL, seed);
    struct slice *v = zmalloc(N * sizeof(*v));
    double cd, ci;

    keys_random8(a, v, N, seed);
    srand(seed);
    for (size_t i = 0; i < N; i++) {
        char *mem;
        struct skiplist_node *node = skiplist_node_alloc(ld, 8, &mem);
        memcpy(mem, v[i].data, 8);
        skiplist_defer_node(ld, node, slice_make(mem, 8));
        if (rand() % 500 == 0)
            skiplist_link_deferred(ld);
        ck_assert_int_eq(skiplist_insert(li, v[i]), 0);
    }
    skiplist_link_deferred(ld);
    cd = avg_search_compares(ld, v, N);
    ci = avg_search_compares(li, v, N);
    printf("# compares per search: deferred %.1f, inserted %.1f\n", cd, ci);
    ck_assert_msg(cd < ci * 1.5 + 4, "deferred list search costs %.1f compares, inserted %.1f",
                  cd, ci);
    zfree(v);
    skiplist_destroy(ld);
    skiplist_destroy(li);
    arena_destroy(a);
    arena_destroy(b);
}
END_TEST

/* ---- deferring writer, linker, readers at once ---- */

enum { DN = 60000, DREADERS = 2, DKLEN = 12 };

struct dconc {
    struct skiplist *list;
    char (*keys)[DKLEN];
    _Atomic size_t deferred;     /* keys[0..deferred) handed over */
    _Atomic size_t linked;       /* keys[0..linked) linked */
    _Atomic size_t taken;        /* sum of link_deferred's returns */
    atomic_int writer_done, done;
    atomic_int failures;
    _Atomic uint64_t scans, links;     /* reader passes, links that took keys */
};

static void *dconc_writer(void *arg)
{
    struct dconc *c = arg;

    for (size_t i = 0; i < DN; i++) {
        char *mem;
        struct skiplist_node *n = skiplist_node_alloc(c->list, DKLEN, &mem);
        memcpy(mem, c->keys[i], DKLEN);
        skiplist_defer_node(c->list, n, slice_make(mem, DKLEN));
        atomic_store_explicit(&c->deferred, i + 1, memory_order_release);
        /* Keep within a few thousand keys of the linker, so that links
         * really run between deferrals however the threads are scheduled. */
        while (i + 1 > atomic_load_explicit(&c->linked, memory_order_acquire) + 4096)
            sched_yield();
        if (i % 256 == 0)
            sched_yield();
    }
    atomic_store(&c->writer_done, 1);
    return NULL;
}

static void *dconc_linker(void *arg)
{
    struct dconc *c = arg;

    while (!atomic_load(&c->writer_done)) {
        /* Everything deferred before the call is linked after it. */
        size_t d = atomic_load_explicit(&c->deferred, memory_order_acquire);
        size_t k = skiplist_link_deferred(c->list);
        atomic_fetch_add(&c->taken, k);
        atomic_store_explicit(&c->linked, d, memory_order_release);
        if (k > 0)
            atomic_fetch_add(&c->links, 1);
        else
            sched_yield();
    }
    return NULL;
}

static void *dconc_reader(void *arg)
{
    struct dconc *c = arg;
    struct skiplist_iter it;
    unsigned r = 11;

    skiplist_iter_init(&it, c->list);
    do {
        size_t lk = atomic_load_explicit(&c->linked, memory_order_acquire);
        size_t seen = 0;
        struct slice prev = { NULL, 0 };

        for (skiplist_iter_seek_to_first(&it); skiplist_iter_valid(&it);
             skiplist_iter_next(&it)) {
            struct slice k = skiplist_iter_key(&it);
            if (k.len != DKLEN || (prev.data && slice_compare(prev, k) >= 0))
                atomic_fetch_add(&c->failures, 1);
            prev = k;
            seen++;
        }
        if (seen < lk || seen > DN)
            atomic_fetch_add(&c->failures, 1);
        for (int j = 0; j < 64 && lk > 0; j++) {
            r = r * 1103515245u + 12345u;
            struct slice k = slice_make(c->keys[(r >> 8) % lk], DKLEN);
            if (!skiplist_contains(c->list, k))
                atomic_fetch_add(&c->failures, 1);
        }
        atomic_fetch_add(&c->scans, 1);
    } while (!atomic_load(&c->done));
    return NULL;
}

START_TEST(test_deferred_concurrent)
{
    unsigned seed = test_seed("test_deferred_concurrent");
    struct arena *a = arena_create(0);
    struct dconc c;
    pthread_t w, lk, rd[DREADERS];
    struct slice *all = zmalloc(DN * sizeof(*all));

    memset(&c, 0, sizeof(c));
    c.list = skiplist_create(a, NULL, NULL, seed);
    c.keys = zmalloc(sizeof(*c.keys) * DN);
    /* 12-byte keys "pfx:" + a scattered number (one in three with 3
     * leading zero bytes, i in its low bits to stay distinct), every
     * 5000th "pfy:" (the common prefix shrinks while the linker runs). */
    for (size_t i = 0; i < DN; i++) {
        memcpy(c.keys[i], i % 5000 == 4999 ? "pfy:" : "pfx:", 4);
        enc(c.keys[i] + 4, i % 3 == 0 ? (mix64(seed + i) >> 44) << 20 | (uint64_t)i
                                       : mix64(seed + i));
        all[i] = slice_make(c.keys[i], DKLEN);
    }
    for (int i = 0; i < DREADERS; i++)
        ck_assert_int_eq(pthread_create(&rd[i], NULL, dconc_reader, &c), 0);
    ck_assert_int_eq(pthread_create(&lk, NULL, dconc_linker, &c), 0);
    ck_assert_int_eq(pthread_create(&w, NULL, dconc_writer, &c), 0);
    pthread_join(w, NULL);
    pthread_join(lk, NULL);
    atomic_fetch_add(&c.taken, skiplist_link_deferred(c.list));   /* the rest */
    atomic_store(&c.done, 1);
    for (int i = 0; i < DREADERS; i++)
        pthread_join(rd[i], NULL);
    printf("# deferred concurrent: %llu links, %llu reader passes\n",
           (unsigned long long)atomic_load(&c.links), (unsigned long long)atomic_load(&c.scans));
    ck_assert_int_eq(atomic_load(&c.failures), 0);
    ck_assert_uint_ge(atomic_load(&c.links), DN / 4096);    /* it did interleave */
    ck_assert_uint_eq(atomic_load(&c.taken), DN);
    ck_assert_uint_eq(skiplist_count(c.list), DN);
    for (size_t i = 0; i < DN; i++)
        ck_assert(skiplist_contains(c.list, all[i]));
    sort_cmp = cmp_bytes;
    check_iteration(c.list, all, DN, 1);
    zfree(all);
    zfree(c.keys);
    skiplist_destroy(c.list);
    arena_destroy(a);
}
END_TEST

static Suite *skiplist_suite(void)
{
    Suite *s = suite_create("skiplist");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_bytewise_order);
    tcase_add_test(tc, test_random_vs_sorted_reference);
    tcase_add_test(tc, test_concurrent_readers);
    tcase_add_test(tc, test_deferred_random_keys);
    tcase_add_test(tc, test_deferred_common_prefixes);
    tcase_add_test(tc, test_deferred_one_batch);
    tcase_add_test(tc, test_deferred_equal_to_linked_skipped);
    tcase_add_test(tc, test_deferred_search_cost);
    tcase_add_test(tc, test_deferred_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(skiplist_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
