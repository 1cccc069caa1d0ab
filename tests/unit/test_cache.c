/* test_cache: LRU eviction by charge, refcounted handles that outlive
 * eviction/erase/replacement, deleters run exactly once, stats, and
 * concurrent use from several threads. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cache.h"
#include "util/coding.h"
#include "util/zmalloc.h"

static unsigned seed;

/* Values are ints; the deleter records which key was deleted. */
static int deleted_keys[1024];
static int deleted_vals[1024];
static int ndeleted;
static pthread_mutex_t del_mu = PTHREAD_MUTEX_INITIALIZER;

static void deleter(struct slice key, void *value)
{
    pthread_mutex_lock(&del_mu);
    if (ndeleted < 1024) {
        deleted_keys[ndeleted] = (int)decode_fixed32(key.data);
        deleted_vals[ndeleted] = (int)(intptr_t)value;
    }
    ndeleted++;
    pthread_mutex_unlock(&del_mu);
}

static struct slice ikey(char *b, int k)
{
    encode_fixed32(b, (uint32_t)k);
    return slice_make(b, 4);
}

/* value of key k, or -1 */
static int lookup(struct cache *c, int k)
{
    char b[4];
    struct cache_handle *h = cache_lookup(c, ikey(b, k));
    int v;
    if (!h)
        return -1;
    v = (int)(intptr_t)cache_value(h);
    cache_release(c, h);
    return v;
}

static void insert(struct cache *c, int k, int v, size_t charge)
{
    char b[4];
    cache_release(c, cache_insert(c, ikey(b, k), (void *)(intptr_t)v, charge, deleter));
}

static void reset_deleted(void)
{
    ndeleted = 0;
}

START_TEST(test_hit_and_miss)
{
    struct cache *c = cache_create_sharded(1000, 1);
    struct cache_stats st;
    reset_deleted();
    ck_assert_int_eq(lookup(c, 100), -1);
    insert(c, 100, 101, 1);
    ck_assert_int_eq(lookup(c, 100), 101);
    ck_assert_int_eq(lookup(c, 200), -1);
    ck_assert_int_eq(lookup(c, 300), -1);
    insert(c, 200, 201, 1);
    ck_assert_int_eq(lookup(c, 100), 101);
    ck_assert_int_eq(lookup(c, 200), 201);
    insert(c, 100, 102, 1);                 /* replaces */
    ck_assert_int_eq(lookup(c, 100), 102);
    ck_assert_int_eq(ndeleted, 1);
    ck_assert_int_eq(deleted_keys[0], 100);
    ck_assert_int_eq(deleted_vals[0], 101);
    cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits, 4);
    ck_assert_uint_eq(st.misses, 3);
    ck_assert_uint_eq(st.entries, 2);
    ck_assert_uint_eq(st.usage, 2);
    cache_destroy(c);
    ck_assert_int_eq(ndeleted, 3);
}
END_TEST

START_TEST(test_erase)
{
    struct cache *c = cache_create(1000);
    char b[4];
    reset_deleted();
    ck_assert_int_eq(cache_erase(c, ikey(b, 200)), 0);
    ck_assert_int_eq(ndeleted, 0);
    insert(c, 100, 101, 1);
    insert(c, 200, 201, 1);
    ck_assert_int_eq(cache_erase(c, ikey(b, 100)), 1);
    ck_assert_int_eq(lookup(c, 100), -1);
    ck_assert_int_eq(lookup(c, 200), 201);
    ck_assert_int_eq(ndeleted, 1);
    ck_assert_int_eq(deleted_keys[0], 100);
    ck_assert_int_eq(cache_erase(c, ikey(b, 100)), 0);
    ck_assert_int_eq(ndeleted, 1);
    cache_destroy(c);
}
END_TEST

START_TEST(test_handles_pin_entries)
{
    struct cache *c = cache_create_sharded(1000, 1);
    char b[4];
    struct cache_handle *h1, *h2;
    reset_deleted();
    h1 = cache_insert(c, ikey(b, 100), (void *)101, 1, deleter);
    h2 = cache_insert(c, ikey(b, 100), (void *)102, 1, deleter);   /* replaces h1's entry */
    ck_assert_int_eq(ndeleted, 0);
    ck_assert_int_eq((int)(intptr_t)cache_value(h1), 101);
    cache_release(c, h1);
    ck_assert_int_eq(ndeleted, 1);
    ck_assert_int_eq(deleted_vals[0], 101);
    cache_erase(c, ikey(b, 100));
    ck_assert_int_eq(lookup(c, 100), -1);
    ck_assert_int_eq(ndeleted, 1);                /* h2 still held */
    ck_assert_int_eq((int)(intptr_t)cache_value(h2), 102);
    cache_release(c, h2);
    ck_assert_int_eq(ndeleted, 2);
    ck_assert_int_eq(deleted_vals[1], 102);
    cache_destroy(c);
}
END_TEST

START_TEST(test_lru_eviction_by_charge)
{
    struct cache *c = cache_create_sharded(1000, 1);
    char b[4];
    struct cache_handle *pinned;
    int i;
    reset_deleted();
    insert(c, 100, 101, 1);
    insert(c, 200, 201, 1);
    insert(c, 300, 301, 1);
    pinned = cache_lookup(c, ikey(b, 300));
    /* frequently used 100 survives a stream of inserts; 200 is evicted;
     * pinned 300 survives because it is in use */
    for (i = 0; i < 1000 + 100; i++) {
        insert(c, 1000 + i, 2000 + i, 1);
        ck_assert_int_eq(lookup(c, 1000 + i), 2000 + i);
        ck_assert_int_eq(lookup(c, 100), 101);
    }
    ck_assert_int_eq(lookup(c, 100), 101);
    ck_assert_int_eq(lookup(c, 200), -1);
    ck_assert_int_eq(lookup(c, 300), 301);
    cache_release(c, pinned);
    ck_assert_uint_le(cache_usage(c), 1000);
    /* heavy entries: a charge of 400 pushes out the oldest light ones */
    insert(c, 5, 6, 400);
    ck_assert_uint_le(cache_usage(c), 1000);
    ck_assert_int_eq(lookup(c, 5), 6);
    cache_destroy(c);
}
END_TEST

START_TEST(test_usage_over_capacity_while_pinned)
{
    struct cache *c = cache_create_sharded(10, 1);
    char b[4];
    struct cache_handle *h[20];
    int i;
    reset_deleted();
    for (i = 0; i < 20; i++)
        h[i] = cache_insert(c, ikey(b, i), (void *)(intptr_t)i, 1, deleter);
    ck_assert_uint_eq(cache_usage(c), 20);     /* all pinned: nothing evicted */
    ck_assert_int_eq(ndeleted, 0);
    for (i = 0; i < 20; i++)
        ck_assert_int_eq((int)(intptr_t)cache_value(h[i]), i);
    for (i = 0; i < 20; i++)
        cache_release(c, h[i]);
    ck_assert_uint_le(cache_usage(c), 10);
    ck_assert_int_eq(ndeleted, 10);
    cache_set_capacity(c, 3);
    ck_assert_uint_le(cache_usage(c), 3);
    cache_prune(c);
    ck_assert_uint_eq(cache_usage(c), 0);
    ck_assert_int_eq(ndeleted, 20);
    cache_destroy(c);
}
END_TEST

START_TEST(test_zero_capacity)
{
    struct cache *c = cache_create(0);
    char b[4];
    struct cache_handle *h;
    reset_deleted();
    h = cache_insert(c, ikey(b, 1), (void *)7, 100, deleter);
    ck_assert_int_eq((int)(intptr_t)cache_value(h), 7);
    ck_assert_int_eq(lookup(c, 1), -1);
    cache_release(c, h);
    ck_assert_int_eq(ndeleted, 1);
    ck_assert_uint_eq(cache_usage(c), 0);
    cache_destroy(c);
}
END_TEST

START_TEST(test_new_id_unique)
{
    struct cache *c = cache_create(10);
    uint64_t a = cache_new_id(c), b2 = cache_new_id(c);
    ck_assert(a != b2);
    cache_destroy(c);
}
END_TEST

/* Threads insert, look up, erase and hold handles on a shared key space;
 * every value seen must be the one inserted under that key. */
struct worker {
    struct cache *c;
    unsigned seed;
    long ops;
    int bad;
};

static void heap_deleter(struct slice key, void *value)
{
    (void)key;
    zfree(value);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct cache_handle *held[8] = { 0 };
    long i;
    char b[4];
    for (i = 0; i < w->ops; i++) {
        unsigned r = (w->seed = w->seed * 1103515245u + 12345u) >> 8;
        int k = (int)((r >> 2) % 2000), slot = (int)((r >> 13) % 8);
        struct cache_handle *h;
        switch (r % 4) {
        case 0: {
            uint32_t *v = zmalloc(sizeof(*v));
            *v = (uint32_t)k;
            h = cache_insert(w->c, ikey(b, k), v, 1 + (r >> 20) % 16, heap_deleter);
            break;
        }
        case 3:
            cache_erase(w->c, ikey(b, k));
            h = NULL;
            break;
        default:
            h = cache_lookup(w->c, ikey(b, k));
            break;
        }
        if (h && *(uint32_t *)cache_value(h) != (uint32_t)k)
            w->bad++;
        if (held[slot]) {
            if (*(uint32_t *)cache_value(held[slot]) > 2000)
                w->bad++;
            cache_release(w->c, held[slot]);
        }
        held[slot] = h;
    }
    for (i = 0; i < 8; i++)
        if (held[i])
            cache_release(w->c, held[i]);
    return NULL;
}

START_TEST(test_concurrent)
{
    struct cache *c = cache_create(4000);
    pthread_t t[4];
    struct worker w[4];
    struct cache_stats st;
    int i;
    for (i = 0; i < 4; i++) {
        w[i].c = c;
        w[i].seed = seed + (unsigned)i * 7919u;
        w[i].ops = 200000;
        w[i].bad = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].bad, 0);
    }
    cache_get_stats(c, &st);
    ck_assert_uint_le(st.usage, 4000 + 16 * 16);   /* per-shard rounding */
    ck_assert_uint_gt(st.hits, 0);
    ck_assert_uint_gt(st.misses, 0);
    cache_destroy(c);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hit_and_miss);
    tcase_add_test(tc, test_erase);
    tcase_add_test(tc, test_handles_pin_entries);
    tcase_add_test(tc, test_lru_eviction_by_charge);
    tcase_add_test(tc, test_usage_over_capacity_while_pinned);
    tcase_add_test(tc, test_zero_capacity);
    tcase_add_test(tc, test_new_id_unique);
    tcase_add_test(tc, test_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *env = getenv("SEED");
    SRunner *sr;
    int failed;
    seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("# test_cache SEED=%u\n", seed);
    fflush(stdout);
    sr = srunner_create(cache_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
