/* test_skiplist: order, iteration and lock-free concurrent reads. */
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

static Suite *skiplist_suite(void)
{
    Suite *s = suite_create("skiplist");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_bytewise_order);
    tcase_add_test(tc, test_random_vs_sorted_reference);
    tcase_add_test(tc, test_concurrent_readers);
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
