/* test_table_cache: readers opened once and reused, the open-file bound,
 * pinning by handles and iterators across eviction, failed opens not
 * cached, concurrent lookups. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/dbformat.h"
#include "engine/sst.h"
#include "engine/table_cache.h"
#include "util/io.h"
#include "util/zmalloc.h"

#include "table_test.h"

static char dir[256];
static unsigned seed;
static uint64_t sizes[20];

#define NFILES 20
#define NKEYS 500

/* file f holds keys "f<f>-<i>" = "v<i>" at seq i+1 */
static void key_of(struct buf *ik, int f, int i, uint64_t seq, int type)
{
    char uk[32];
    int n = snprintf(uk, sizeof(uk), "f%02d-%05d", f, i);
    buf_clear(ik);
    ikey_append(ik, slice_make(uk, (size_t)n), seq, type);
}

static void build_files(void)
{
    struct buf p = BUF_INIT, ik = BUF_INIT;
    int f, i;
    for (f = 0; f < NFILES; f++) {
        struct io_file *file;
        struct sst_builder *b;
        struct sst_props props;
        sst_file_path(&p, dir, (uint64_t)f + 1);
        ck_assert_int_eq(io_open_append(io_env_posix(), buf_cstr(&p), &file), 0);
        b = sst_builder_create(file, NULL);
        for (i = 0; i < NKEYS; i++) {
            char v[16];
            int vl = snprintf(v, sizeof(v), "v%d", i);
            key_of(&ik, f, i, (uint64_t)i + 1, LSM_TYPE_VALUE);
            ck_assert_int_eq(sst_builder_add(b, buf_slice(&ik), slice_make(v, (size_t)vl)), 0);
        }
        ck_assert_int_eq(sst_builder_finish(b, &props), 0);
        sizes[f] = props.file_size;
        sst_props_free(&props);
        ck_assert_int_eq(io_file_close(file), 0);
    }
    buf_free(&p);
    buf_free(&ik);
}

static void check_lookup(struct table_cache *tc, int f, int i)
{
    struct buf ik = BUF_INIT, v = BUF_INIT;
    struct sst_get_result res;
    char want[16];
    int wl = snprintf(want, sizeof(want), "v%d", i);
    key_of(&ik, f, i, LSM_MAX_SEQ, LSM_TYPE_SEEK);
    ck_assert_int_eq(table_cache_lookup(tc, NULL, (uint64_t)f + 1, sizes[f], buf_slice(&ik),
                                        &res, &v), 0);
    ck_assert_int_eq(res.found, 1);
    ck_assert(slice_equal(buf_slice(&v), slice_make(want, (size_t)wl)));
    buf_free(&ik);
    buf_free(&v);
}

START_TEST(test_bound_and_reuse)
{
    struct cache *bc = cache_create(1 << 20);
    struct sst_stats st = { 0 };
    struct table_cache *tc = table_cache_create(NULL, dir, 5, bc, &st);
    struct cache_handle *h1, *h2;
    struct sst_reader *r1, *r2;
    int f;
    build_files();
    ck_assert_int_eq(table_cache_get(tc, 1, sizes[0], &h1, &r1), 0);
    ck_assert_int_eq(table_cache_get(tc, 1, sizes[0], &h2, &r2), 0);
    ck_assert_ptr_eq(r1, r2);                     /* opened once */
    ck_assert_uint_eq(sst_reader_file_number(r1), 1);
    table_cache_release(tc, h2);
    /* touch every file: at most 5 stay open, plus the pinned one */
    for (f = 0; f < NFILES; f++) {
        check_lookup(tc, f, f * 7 % NKEYS);
        ck_assert_uint_le(table_cache_open_count(tc), 6);
    }
    /* the pinned reader still works after its entry was pushed out */
    ck_assert_uint_eq(sst_reader_props(r1)->num_entries, NKEYS);
    table_cache_release(tc, h1);
    ck_assert_uint_le(table_cache_open_count(tc), 5);
    table_cache_destroy(tc);
    cache_destroy(bc);
}
END_TEST

START_TEST(test_iterator_pins_reader)
{
    struct table_cache *tc = table_cache_create(NULL, dir, 2, NULL, NULL);
    struct sst_reader *r;
    struct iter *it;
    int n = 0, f;
    build_files();
    it = table_cache_iter(tc, NULL, 3, sizes[2], &r);
    ck_assert_ptr_nonnull(r);
    table_cache_evict(tc, 3);                     /* file "deleted" */
    for (f = 0; f < NFILES; f++)                  /* and the cache churned */
        check_lookup(tc, f, 1);
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it))
        n++;
    ck_assert_int_eq(n, NKEYS);
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    ck_assert_uint_le(table_cache_open_count(tc), 2);
    table_cache_destroy(tc);
}
END_TEST

/* Long pins (file metadata keeps its reader): at most half of the limit,
 * the rest stays a bounded LRU; a pinned reader survives eviction of its
 * entry and churn; unpinning frees the budget and lets the reader close. */
START_TEST(test_long_pins_bounded)
{
    struct table_cache *tc = table_cache_create(NULL, dir, 8, NULL, NULL);
    struct table_pin *pins[NFILES];
    int f, npinned = 0;
    build_files();
    for (f = 0; f < NFILES; f++) {
        ck_assert_int_eq(table_cache_pin(tc, (uint64_t)f + 1, sizes[f], &pins[f]), 0);
        if (pins[f] != NULL) {
            ck_assert_uint_eq(sst_reader_file_number(table_pin_reader(pins[f])), (uint64_t)f + 1);
            npinned++;
        }
    }
    ck_assert_int_eq(npinned, 4);                 /* half of 8 */
    table_cache_evict(tc, 1);                     /* file 1 "deleted" */
    for (f = 0; f < NFILES; f++)
        check_lookup(tc, f, 3);
    ck_assert_uint_le(table_cache_open_count(tc), 8);
    ck_assert_uint_eq(sst_reader_props(table_pin_reader(pins[0]))->num_entries, NKEYS);
    for (f = 0; f < NFILES; f++)
        table_cache_unpin(pins[f]);               /* NULL ones are no-ops */
    ck_assert_int_eq(table_cache_pin(tc, 5, sizes[4], &pins[0]), 0);
    ck_assert_ptr_nonnull(pins[0]);               /* budget is back */
    ck_assert_int_eq(table_cache_pin(tc, 99, 1000, &pins[1]), LSM_ENOENT);
    ck_assert_ptr_null(pins[1]);
    table_cache_unpin(pins[0]);
    table_cache_destroy(tc);                      /* asserts every handle released */
}
END_TEST

START_TEST(test_failed_open_not_cached)
{
    struct table_cache *tc = table_cache_create(NULL, dir, 10, NULL, NULL);
    struct sst_reader *r;
    struct cache_handle *h;
    struct iter *it;
    struct buf p = BUF_INIT, ik = BUF_INIT, v = BUF_INIT;
    struct sst_get_result res;
    FILE *fp;
    build_files();
    ck_assert_int_eq(table_cache_get(tc, 77, 1000, &h, &r), LSM_ENOENT);
    it = table_cache_iter(tc, NULL, 77, 1000, &r);
    ck_assert_ptr_null(r);
    ck_assert(!iter_valid(it));
    ck_assert_int_eq(iter_status(it), LSM_ENOENT);
    iter_destroy(it);
    key_of(&ik, 0, 0, LSM_MAX_SEQ, LSM_TYPE_SEEK);
    ck_assert_int_eq(table_cache_lookup(tc, NULL, 77, 1000, buf_slice(&ik), &res, &v),
                     LSM_ENOENT);
    /* a garbage file: corruption; then a good file under that number opens */
    sst_file_path(&p, dir, 77);
    fp = fopen(buf_cstr(&p), "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("this is not an sst file, not even close to one; padding padding padding", fp);
    fclose(fp);
    ck_assert_int_eq(table_cache_get(tc, 77, 0, &h, &r), LSM_ECORRUPT);
    ck_assert_uint_eq(table_cache_open_count(tc), 0);
    unlink(buf_cstr(&p));
    buf_free(&p);
    buf_free(&ik);
    buf_free(&v);
    table_cache_destroy(tc);
}
END_TEST

struct worker {
    struct table_cache *tc;
    unsigned seed;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    int i;
    for (i = 0; i < 3000; i++) {
        w->seed = w->seed * 1103515245u + 12345u;
        check_lookup(w->tc, (int)((w->seed >> 8) % NFILES), (int)((w->seed >> 16) % NKEYS));
    }
    return NULL;
}

START_TEST(test_concurrent_lookups)
{
    struct cache *bc = cache_create(64 << 10);
    struct table_cache *tc = table_cache_create(NULL, dir, 4, bc, NULL);
    pthread_t t[4];
    struct worker w[4];
    int i;
    build_files();
    for (i = 0; i < 4; i++) {
        w[i].tc = tc;
        w[i].seed = seed + (unsigned)i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_le(table_cache_open_count(tc), 4);
    table_cache_destroy(tc);
    cache_destroy(bc);
}
END_TEST

static Suite *tc_suite(void)
{
    Suite *s = suite_create("table_cache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bound_and_reuse);
    tcase_add_test(tc, test_iterator_pins_reader);
    tcase_add_test(tc, test_failed_open_not_cached);
    tcase_add_test(tc, test_long_pins_bounded);
    tcase_add_test(tc, test_concurrent_lookups);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tt_main("test_table_cache", tc_suite, &seed, dir, sizeof(dir));
}
