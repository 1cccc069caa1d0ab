/* test_db: the public API of lsm.h end to end: put/get/delete, batches,
 * snapshots, iterators (both directions, bounds), reopen/recovery, flush,
 * compact_range, stats, locking and option errors. */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/batch.h"
#include "engine/lsm.h"
#include "engine/wal.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/io.h"
#include "db_test.h"

static char dir[4096];
static struct lsm_db *db;

static void small_options(struct lsm_options *o)
{
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = 32 << 10;
    o->max_bytes_for_level_base = 128 << 10;
    o->block_cache_size = 1 << 20;
    o->bg_threads = 2;
}

static void open_db(void)
{
    struct lsm_options o;
    small_options(&o);
    ck_assert_msg(lsm_open(dir, &o, &db) == 0, "open: %s", lsm_last_error());
}

static void reopen(void)
{
    ck_assert_int_eq(lsm_close(db), 0);
    open_db();
}

static void setup(void)
{
    dt_mkdtemp(dir, sizeof dir);
    open_db();
}

static void teardown(void)
{
    if (db)
        lsm_close(db);
    db = NULL;
    dt_rmrf(dir);
}

static void put(const char *k, const char *v)
{
    struct lsm_write_options wo = { 0 };
    ck_assert_int_eq(lsm_put(db, &wo, k, strlen(k), v, strlen(v)), 0);
}

static void del(const char *k)
{
    struct lsm_write_options wo = { 0 };
    ck_assert_int_eq(lsm_delete(db, &wo, k, strlen(k)), 0);
}

/* "NOT_FOUND" when absent. */
static const char *get_snap(const char *k, const struct lsm_snapshot *s)
{
    static char out[4096];
    struct lsm_read_options ro;
    char *v;
    size_t n;
    int rc;

    lsm_read_options_init(&ro);
    ro.snapshot = s;
    rc = lsm_get(db, &ro, k, strlen(k), &v, &n);
    if (rc == LSM_ENOTFOUND)
        return "NOT_FOUND";
    ck_assert_msg(rc == 0, "get %s: %s", k, lsm_last_error());
    ck_assert_uint_lt(n, sizeof out);
    memcpy(out, v, n);
    out[n] = '\0';
    lsm_free(v);
    return out;
}

static const char *get(const char *k)
{
    return get_snap(k, NULL);
}

/* lsm_put / lsm_delete reuse a per-thread batch buffer: a large value
 * (buffer dropped after it), then small ones, and puts from threads that
 * exit (their buffer freed at exit: ASan's leak check) all land intact. */
static void *put_thread_main(void *arg)
{
    struct lsm_write_options wo = { 0 };
    char k[16];
    int t = (int)(intptr_t)arg;

    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "t%d-%02d", t, i);
        if (lsm_put(db, &wo, k, strlen(k), k, strlen(k)) != 0)
            return (void *)1;
    }
    snprintf(k, sizeof k, "t%d-00", t);
    return lsm_delete(db, &wo, k, strlen(k)) == 0 ? NULL : (void *)1;
}

START_TEST(test_put_buffer_reuse)
{
    struct lsm_write_options wo = { 0 };
    static char big[600 << 10];
    size_t big_len = sizeof big;
    char *v;
    size_t n;
    pthread_t th[3];

    memset(big, 'x', big_len);
    ck_assert_int_eq(lsm_put(db, &wo, "big", 3, big, big_len), 0);
    put("small", "1");
    ck_assert_str_eq(get("small"), "1");
    ck_assert_int_eq(lsm_get(db, NULL, "big", 3, &v, &n), 0);
    ck_assert_uint_eq(n, big_len);
    ck_assert(memcmp(v, big, n) == 0);
    lsm_free(v);
    for (int t = 0; t < 3; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, put_thread_main, (void *)(intptr_t)t), 0);
    for (int t = 0; t < 3; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        ck_assert_ptr_null(rc);
    }
    ck_assert_str_eq(get("t1-00"), "NOT_FOUND");
    ck_assert_str_eq(get("t2-49"), "t2-49");
}
END_TEST

static void *get_into_thread_main(void *arg)
{
    int t = (int)(intptr_t)arg;
    char k[16], want[64], buf[32];
    for (int i = 0; i < 3000; i++) {
        char *v;
        size_t n;
        snprintf(k, sizeof k, "gi%d", (t + i) % 4);
        snprintf(want, sizeof want, "value of gi%d", (t + i) % 4);
        if (lsm_get_into(db, NULL, k, strlen(k), buf, sizeof buf, &v, &n) != 0 || v != buf ||
            n != strlen(want) || memcmp(v, want, n) != 0)
            return (void *)1;
    }
    return NULL;
}

/* lsm_get_into: a value and its NUL that fit go into the caller's buffer,
 * a bigger one (inline or separated) is allocated; absent keys; several
 * threads at once each get their own values (per-thread assembly). */
START_TEST(test_get_into)
{
    struct lsm_write_options wo = { 0 };
    char buf[16], big[5000], *v;
    size_t n;
    pthread_t th[3];

    put("fits", "0123456789abcde");            /* 15 bytes + NUL = 16 */
    put("over", "0123456789abcdef");           /* 16 bytes: does not fit */
    ck_assert_int_eq(lsm_get_into(db, NULL, "fits", 4, buf, sizeof buf, &v, &n), 0);
    ck_assert_ptr_eq(v, buf);
    ck_assert_uint_eq(n, 15);
    ck_assert_str_eq(v, "0123456789abcde");
    ck_assert_int_eq(lsm_get_into(db, NULL, "over", 4, buf, sizeof buf, &v, &n), 0);
    ck_assert_ptr_ne(v, buf);
    ck_assert_uint_eq(n, 16);
    ck_assert_str_eq(v, "0123456789abcdef");
    lsm_free(v);
    ck_assert_int_eq(lsm_get_into(db, NULL, "none", 4, buf, sizeof buf, &v, &n), LSM_ENOTFOUND);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    /* A separated value, read back through both paths. */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + (i * 7) % 26);
    ck_assert_int_eq(lsm_put(db, &wo, "big", 3, big, sizeof big), 0);
    ck_assert_int_eq(lsm_get_into(db, NULL, "big", 3, buf, sizeof buf, &v, &n), 0);
    ck_assert_ptr_ne(v, buf);
    ck_assert_uint_eq(n, sizeof big);
    ck_assert(memcmp(v, big, n) == 0);
    lsm_free(v);
    {
        static char large[8192];
        ck_assert_int_eq(lsm_get_into(db, NULL, "big", 3, large, sizeof large, &v, &n), 0);
        ck_assert_ptr_eq(v, large);
        ck_assert_uint_eq(n, sizeof big);
        ck_assert(memcmp(v, big, n) == 0 && large[n] == '\0');
    }
    /* After the big value, a small one still comes back whole. */
    ck_assert_int_eq(lsm_get_into(db, NULL, "fits", 4, buf, sizeof buf, &v, &n), 0);
    ck_assert_str_eq(v, "0123456789abcde");
    for (int i = 0; i < 4; i++) {
        char k[16], val[64];
        snprintf(k, sizeof k, "gi%d", i);
        snprintf(val, sizeof val, "value of gi%d", i);
        put(k, val);
    }
    for (int t = 0; t < 3; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, get_into_thread_main, (void *)(intptr_t)t),
                         0);
    for (int t = 0; t < 3; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        ck_assert_ptr_null(rc);
    }
}
END_TEST

START_TEST(test_put_get_delete)
{
    ck_assert_str_eq(get("a"), "NOT_FOUND");
    put("a", "1");
    put("b", "2");
    ck_assert_str_eq(get("a"), "1");
    ck_assert_str_eq(get("b"), "2");
    put("a", "3");
    ck_assert_str_eq(get("a"), "3");
    del("a");
    ck_assert_str_eq(get("a"), "NOT_FOUND");
    put("", "empty key");
    ck_assert_str_eq(get(""), "empty key");
    put("e", "");
    ck_assert_str_eq(get("e"), "");
}
END_TEST

START_TEST(test_batch_atomic)
{
    struct lsm_batch *b = lsm_batch_create();
    lsm_batch_put(b, "x", 1, "1", 1);
    lsm_batch_put(b, "y", 1, "2", 1);
    lsm_batch_delete(b, "x", 1);
    lsm_batch_put(b, "z", 1, "3", 1);
    ck_assert_int_eq(lsm_write(db, NULL, b), 0);
    lsm_batch_destroy(b);
    ck_assert_str_eq(get("x"), "NOT_FOUND");   /* later op in a batch wins */
    ck_assert_str_eq(get("y"), "2");
    ck_assert_str_eq(get("z"), "3");
    reopen();
    ck_assert_str_eq(get("x"), "NOT_FOUND");
    ck_assert_str_eq(get("y"), "2");
}
END_TEST

START_TEST(test_snapshot)
{
    const struct lsm_snapshot *s1, *s2;
    put("k", "v1");
    s1 = lsm_snapshot_create(db);
    put("k", "v2");
    del("gone");
    s2 = lsm_snapshot_create(db);
    del("k");
    ck_assert_str_eq(get_snap("k", s1), "v1");
    ck_assert_str_eq(get_snap("k", s2), "v2");
    ck_assert_str_eq(get("k"), "NOT_FOUND");
    /* Snapshots survive flush and compaction. */
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_str_eq(get_snap("k", s1), "v1");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_str_eq(get_snap("k", s1), "v1");
    ck_assert_str_eq(get_snap("k", s2), "v2");
    ck_assert_str_eq(get("k"), "NOT_FOUND");
    ck_assert_uint_lt(lsm_snapshot_sequence(s1), lsm_snapshot_sequence(s2));
    lsm_snapshot_release(db, s1);
    lsm_snapshot_release(db, s2);
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_str_eq(get("k"), "NOT_FOUND");
}
END_TEST

/* Collects the iterator forward (or backward) as "k=v," pairs. */
static void scan(struct lsm_iter *it, int reverse, char *out, size_t n)
{
    out[0] = '\0';
    if (reverse)
        lsm_iter_seek_to_last(it);
    else
        lsm_iter_seek_to_first(it);
    while (lsm_iter_valid(it)) {
        size_t kl, vl;
        const char *k = lsm_iter_key(it, &kl), *v = lsm_iter_value(it, &vl);
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%.*s=%.*s,", (int)kl, k, (int)vl, v);
        if (reverse)
            lsm_iter_prev(it);
        else
            lsm_iter_next(it);
    }
    ck_assert_int_eq(lsm_iter_status(it), 0);
}

static void check_iter_both(const char *fwd, const char *rev)
{
    char buf[8192];
    struct lsm_iter *it = lsm_iter_create(db, NULL);
    scan(it, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, fwd);
    scan(it, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, rev);
    lsm_iter_destroy(it);
}

/* 100 letters from an LCG seeded by n (snappy cannot shrink them). */
static void letters(char *v, int n)
{
    uint32_t x = (uint32_t)n * 2654435761u + 1;

    for (int i = 0; i < 100; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (char)('a' + (x >> 16) % 26);
    }
    v[100] = '\0';
}

static uint64_t table_bytes(void)
{
    struct lsm_stats st;
    uint64_t b = 0;

    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    for (int l = 0; l < LSM_STATS_LEVELS; l++)
        b += st.level[l].bytes;
    return b;
}

/* A flush writes only the versions a reader can still see: 300 overwrites
 * of a key in the memtable become one entry; with a snapshot held, the
 * versions newer than it stay (and the snapshot reads its own). */
START_TEST(test_flush_drops_shadowed_versions)
{
    const struct lsm_snapshot *s;
    char v[101], first[101];
    uint64_t bytes;

    for (int i = 0; i < 300; i++) {
        letters(v, i);
        put("k", v);
    }
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_str_eq(get("k"), v);
    bytes = table_bytes();
    ck_assert_uint_lt(bytes, 4096);                 /* not 300 x 100 bytes */
    letters(first, 1000);
    put("k", first);
    s = lsm_snapshot_create(db);
    for (int i = 0; i < 300; i++) {
        letters(v, 2000 + i);
        put("k", v);
    }
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_str_eq(get_snap("k", s), first);
    ck_assert_str_eq(get("k"), v);
    ck_assert_uint_gt(table_bytes() - bytes, 250 * 100);   /* newer than s: kept */
    lsm_snapshot_release(db, s);
    reopen();
    ck_assert_str_eq(get("k"), v);
}
END_TEST

START_TEST(test_iterator_basic)
{
    check_iter_both("", "");
    put("b", "2");
    put("a", "1");
    put("c", "3");
    put("b", "22");
    del("c");
    put("d", "4");
    check_iter_both("a=1,b=22,d=4,", "d=4,b=22,a=1,");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    put("a", "11");
    del("d");
    put("e", "5");
    check_iter_both("a=11,b=22,e=5,", "e=5,b=22,a=11,");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    check_iter_both("a=11,b=22,e=5,", "e=5,b=22,a=11,");
}
END_TEST

START_TEST(test_iterator_seek_and_direction)
{
    struct lsm_iter *it;
    size_t n;
    const char *k;

    put("a", "1");
    put("c", "3");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    put("e", "5");
    put("g", "7");
    it = lsm_iter_create(db, NULL);
    lsm_iter_seek(it, "b", 1);
    ck_assert(lsm_iter_valid(it));
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(k[0], 'c');
    lsm_iter_next(it);
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'e');
    lsm_iter_prev(it);                 /* direction change */
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'c');
    lsm_iter_prev(it);
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'a');
    lsm_iter_prev(it);
    ck_assert(!lsm_iter_valid(it));
    lsm_iter_seek_for_prev(it, "f", 1);
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'e');
    lsm_iter_next(it);                 /* direction change */
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'g');
    lsm_iter_next(it);
    ck_assert(!lsm_iter_valid(it));
    lsm_iter_seek_for_prev(it, "e", 1);
    k = lsm_iter_key(it, &n);
    ck_assert_int_eq(k[0], 'e');
    lsm_iter_seek(it, "h", 1);
    ck_assert(!lsm_iter_valid(it));
    lsm_iter_seek_for_prev(it, "0", 1);
    ck_assert(!lsm_iter_valid(it));
    lsm_iter_destroy(it);
}
END_TEST

START_TEST(test_iterator_bounds_and_snapshot)
{
    struct lsm_read_options ro;
    struct lsm_iter *it;
    const struct lsm_snapshot *s;
    char buf[1024];
    size_t n;

    put("a", "1");
    put("b", "2");
    put("c", "3");
    put("d", "4");
    s = lsm_snapshot_create(db);
    put("b", "22");
    del("c");
    lsm_read_options_init(&ro);
    ro.lower_bound = "b";
    ro.lower_bound_len = 1;
    ro.upper_bound = "d";
    ro.upper_bound_len = 1;
    it = lsm_iter_create(db, &ro);
    scan(it, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "b=22,");
    scan(it, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "b=22,");
    lsm_iter_seek(it, "a", 1);
    ck_assert(lsm_iter_valid(it));
    ck_assert_int_eq(lsm_iter_key(it, &n)[0], 'b');
    lsm_iter_seek_for_prev(it, "z", 1);
    ck_assert_int_eq(lsm_iter_key(it, &n)[0], 'b');
    lsm_iter_destroy(it);
    ro.snapshot = s;
    it = lsm_iter_create(db, &ro);
    scan(it, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "b=2,c=3,");
    scan(it, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "c=3,b=2,");
    lsm_iter_destroy(it);
    lsm_snapshot_release(db, s);
}
END_TEST

START_TEST(test_iterator_is_a_snapshot)
{
    struct lsm_iter *it;
    char buf[1024];
    put("a", "1");
    it = lsm_iter_create(db, NULL);
    put("b", "2");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    scan(it, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "a=1,");
    lsm_iter_destroy(it);
}
END_TEST

START_TEST(test_reopen_recovers_wal)
{
    char k[32], v[64];
    int i;
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "key%06d", i);
        snprintf(v, sizeof v, "value%d", i);
        put(k, v);
    }
    for (i = 0; i < 1000; i += 3) {
        snprintf(k, sizeof k, "key%06d", i);
        del(k);
    }
    reopen();
    reopen();     /* twice: the recovered data was flushed the first time */
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "key%06d", i);
        snprintf(v, sizeof v, "value%d", i);
        ck_assert_str_eq(get(k), i % 3 == 0 ? "NOT_FOUND" : v);
    }
}
END_TEST

START_TEST(test_many_writes_flush_and_compact)
{
    char k[32], v[200];
    struct lsm_stats st;
    struct lsm_iter *it;
    int i, round, count;

    /* Several memtables' worth, overwritten: background flushes and
     * compactions run while we write. */
    for (round = 0; round < 3; round++)
        for (i = 0; i < 3000; i++) {
            snprintf(k, sizeof k, "k%05d", (i * 7919) % 3000);
            snprintf(v, sizeof v, "%d-%d-%0100d", round, (i * 7919) % 3000, 0);
            put(k, v);
        }
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    ck_assert_uint_gt(st.flushes, 0);
    ck_assert_uint_gt(st.user_bytes_written, 9000 * 100);
    ck_assert_uint_ge(st.wal_bytes_written, st.user_bytes_written);
    ck_assert_uint_eq(st.last_sequence, 9000);
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "2-%d-%0100d", i, 0);
        ck_assert_str_eq(get(k), v);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    ck_assert_int_eq(st.level[0].files, 0);
    ck_assert_uint_gt(st.compactions, 0);
    ck_assert_uint_gt(st.live_sst_bytes, 0);
    reopen();
    it = lsm_iter_create(db, NULL);
    count = 0;
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it))
        count++;
    ck_assert_int_eq(lsm_iter_status(it), 0);
    lsm_iter_destroy(it);
    ck_assert_int_eq(count, 3000);
    for (i = 0; i < 3000; i += 7) {
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "2-%d-%0100d", i, 0);
        ck_assert_str_eq(get(k), v);
    }
}
END_TEST

START_TEST(test_tombstones_dropped_at_bottom)
{
    char k[32];
    struct lsm_stats st;
    int i;
    for (i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        put(k, "some value that takes a bit of room");
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    for (i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        del(k);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    /* Everything was deleted and nothing older remains: no table left. */
    ck_assert_uint_eq(st.live_sst_bytes, 0);
    ck_assert_int_eq(dt_count_files(dir, ".sst"), 0);
    ck_assert_str_eq(get("k00001"), "NOT_FOUND");
}
END_TEST

static int drop_x(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    (void)arg; (void)k; (void)kl;
    return vl > 0 && v[0] == 'x';
}

START_TEST(test_compaction_filter)
{
    struct lsm_options o;
    ck_assert_int_eq(lsm_close(db), 0);
    small_options(&o);
    o.compaction_filter = drop_x;
    ck_assert_int_eq(lsm_open(dir, &o, &db), 0);
    put("a", "old");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    put("a", "xnew");          /* filtered: must not resurrect "old" */
    put("b", "keep");
    put("c", "xgone");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_str_eq(get("a"), "NOT_FOUND");
    ck_assert_str_eq(get("b"), "keep");
    ck_assert_str_eq(get("c"), "NOT_FOUND");
}
END_TEST

/* lsm_compact_range reaches data already in the bottom level: a value the
 * filter drops but that was kept for a snapshot, and old versions kept for
 * a snapshot, are purged by the next compact_range once the snapshot is
 * released (lsm.h: every overlapping file is compacted). */
START_TEST(test_compact_range_rewrites_bottom_level)
{
    char k[16], big[800];       /* inline: below value_separation_threshold */
    struct lsm_options o;
    struct lsm_stats st;
    const struct lsm_snapshot *s;
    struct lsm_write_options wo = { 0 };
    size_t i, x = 1;
    int j;

    ck_assert_int_eq(lsm_close(db), 0);
    small_options(&o);
    o.compaction_filter = drop_x;
    ck_assert_int_eq(lsm_open(dir, &o, &db), 0);
    for (j = 0; j < 20; j++) {
        for (i = 0; i < sizeof big; i++) {          /* incompressible */
            x = x * 1103515245u + 12345u;
            big[i] = (char)('A' + (x >> 16) % 26);
        }
        ck_assert_int_eq(lsm_put(db, &wo, k, (size_t)snprintf(k, sizeof k, "a%02d", j), big,
                                 sizeof big), 0);
    }
    put("b", "keep");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    s = lsm_snapshot_create(db);
    for (j = 0; j < 20; j++) {
        snprintf(k, sizeof k, "a%02d", j);
        put(k, "new");          /* the big values stay for the snapshot */
    }
    put("c", "xgone");          /* newer than the snapshot: not filtered yet */
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_str_eq(get("c"), "xgone");
    ck_assert_uint_eq(strlen(get_snap("a07", s)), sizeof big);
    lsm_snapshot_release(db, s);
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    ck_assert_uint_gt(st.live_sst_bytes, 10 * sizeof big);
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_str_eq(get("a07"), "new");
    ck_assert_str_eq(get("b"), "keep");
    ck_assert_str_eq(get("c"), "NOT_FOUND");
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    ck_assert_uint_lt(st.live_sst_bytes, 2 * sizeof big);   /* old versions purged */
    reopen();
    ck_assert_str_eq(get("c"), "NOT_FOUND");
    ck_assert_str_eq(get("a07"), "new");
}
END_TEST

START_TEST(test_obsolete_files_deleted)
{
    char k[32];
    int i;
    for (i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        put(k, "value value value value value value value value");
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    reopen();
    ck_assert_int_eq(dt_count_files(dir, ".wal"), 1);
    ck_assert_int_eq(dt_count_files(dir, "MANIFEST-[0-9]*"), 1);
    ck_assert_int_eq(dt_count_files(dir, ".dbtmp"), 0);
}
END_TEST

START_TEST(test_lock_and_options)
{
    struct lsm_options o;
    struct lsm_db *db2 = NULL;
    char other[4096];

    lsm_options_init(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db2), LSM_EBUSY);
    ck_assert(strstr(lsm_last_error(), "LOCK") != NULL);
    o.error_if_exists = 1;
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    ck_assert_int_eq(lsm_open(dir, &o, &db2), LSM_EEXIST);
    dt_mkdtemp(other, sizeof other);
    lsm_options_init(&o);
    o.create_if_missing = 0;
    ck_assert_int_eq(lsm_open(other, &o, &db2), LSM_ENOENT);
    lsm_options_init(&o);
    o.max_write_buffers = 1;
    ck_assert_int_eq(lsm_open(other, &o, &db2), LSM_EINVAL);
    dt_rmrf(other);
    ck_assert_str_eq(lsm_strerror(LSM_ECORRUPT), "corruption");
    open_db();
}
END_TEST

START_TEST(test_sync_and_nosync)
{
    struct lsm_write_options wo = { 0 };
    int i;
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(lsm_put(db, &wo, "k", 1, "v", 1), 0);
    ck_assert_int_eq(lsm_sync(db), 0);
    ck_assert_int_eq(lsm_put(db, NULL, "k2", 2, "v2", 2), 0);   /* NULL = sync */
    reopen();
    ck_assert_str_eq(get("k2"), "v2");
}
END_TEST

START_TEST(test_corrupt_current_reported)
{
    FILE *f;
    char path[4200];
    struct lsm_options o;

    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("garbage", f);
    fclose(f);
    small_options(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    ck_assert(strstr(lsm_last_error(), "CURRENT") != NULL);
    db = NULL;
}
END_TEST

/* Concurrent writers: every acknowledged write is readable afterwards. */
struct wthread { int id; };
static void *writer_main(void *arg)
{
    struct wthread *t = arg;
    struct lsm_write_options wo = { 0 };
    char k[32], v[32];
    int i;
    for (i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "t%d-%05d", t->id, i);
        snprintf(v, sizeof v, "v%d", i);
        wo.sync = (i % 100) == 0;
        if (lsm_put(db, &wo, k, strlen(k), v, strlen(v)) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(test_concurrent_writers)
{
    pthread_t th[4];
    struct wthread a[4];
    char k[32], v[32];
    int i, t;
    for (t = 0; t < 4; t++) {
        a[t].id = t;
        pthread_create(&th[t], NULL, writer_main, &a[t]);
    }
    for (t = 0; t < 4; t++) {
        void *r;
        pthread_join(th[t], &r);
        ck_assert_ptr_null(r);
    }
    reopen();
    for (t = 0; t < 4; t++)
        for (i = 0; i < 2000; i += 13) {
            snprintf(k, sizeof k, "t%d-%05d", t, i);
            snprintf(v, sizeof v, "v%d", i);
            ck_assert_str_eq(get(k), v);
        }
}
END_TEST


/* ---- faults (util/io fault env) ---- */

static struct io_env *fenv;

static void open_fault(void)
{
    struct lsm_options o;
    small_options(&o);
    o.env = fenv;
    ck_assert_msg(lsm_open(dir, &o, &db) == 0, "open: %s", lsm_last_error());
}

static void fault_setup(void)
{
    dt_mkdtemp(dir, sizeof dir);
    fenv = io_env_fault_create(io_env_posix());
    open_fault();
}

static void fault_teardown(void)
{
    if (db)
        lsm_close(db);
    db = NULL;
    io_env_fault_destroy(fenv);
    dt_rmrf(dir);
}

static void fault_reopen(void)
{
    lsm_close(db);      /* may report the error of a crashed env */
    db = NULL;
    io_env_fault_reset(fenv);
    open_fault();
}

START_TEST(test_fault_sst_write_is_sticky)
{
    struct lsm_write_options wo = { .sync = 1 };
    int rc;

    put("a", "1");
    put("b", "2");
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, ".sst");
    rc = lsm_flush(db, 1);
    ck_assert_int_eq(rc, LSM_EIO);
    ck_assert_int_eq(lsm_bg_error(db), LSM_EIO);
    ck_assert_msg(strstr(lsm_last_error(), ".sst") != NULL, "%s", lsm_last_error());
    /* Writes fail with the sticky error, reads go on. */
    ck_assert_int_eq(lsm_put(db, &wo, "c", 1, "3", 1), LSM_EIO);
    ck_assert_str_eq(get("a"), "1");
    io_env_fault_reset(fenv);
    ck_assert_msg(lsm_resume(db) == 0, "%s", lsm_last_error());
    ck_assert_int_eq(lsm_bg_error(db), 0);
    put("c", "3");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    fault_reopen();
    ck_assert_str_eq(get("a"), "1");
    ck_assert_str_eq(get("b"), "2");
    ck_assert_str_eq(get("c"), "3");
}
END_TEST

START_TEST(test_fault_wal_append)
{
    struct lsm_write_options wo = { .sync = 1 };

    put("a", "1");
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, ".wal");
    ck_assert_int_eq(lsm_put(db, &wo, "b", 1, "2", 1), LSM_EIO);
    ck_assert_int_eq(lsm_bg_error(db), LSM_EIO);
    ck_assert_int_eq(lsm_put(db, &wo, "c", 1, "3", 1), LSM_EIO);
    ck_assert_str_eq(get("a"), "1");
    io_env_fault_reset(fenv);
    ck_assert_msg(lsm_resume(db) == 0, "%s", lsm_last_error());
    put("d", "4");
    ck_assert_str_eq(get("d"), "4");
    fault_reopen();
    ck_assert_str_eq(get("a"), "1");
    ck_assert_str_eq(get("c"), "NOT_FOUND");   /* refused, never written */
    ck_assert_str_eq(get("d"), "4");
}
END_TEST

START_TEST(test_fault_manifest_write)
{
    put("a", "1");
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, "MANIFEST");
    ck_assert_int_eq(lsm_flush(db, 1), LSM_EIO);
    ck_assert_str_eq(get("a"), "1");
    io_env_fault_reset(fenv);
    ck_assert_msg(lsm_resume(db) == 0, "%s", lsm_last_error());
    put("b", "2");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    fault_reopen();
    ck_assert_str_eq(get("a"), "1");
    ck_assert_str_eq(get("b"), "2");
}
END_TEST

START_TEST(test_fault_current_rename)
{
    struct lsm_options o;

    /* Open writes a new manifest and switches CURRENT: fail its temp file,
     * then its rename; the database stays openable with its data. */
    ck_assert_int_eq(lsm_put(db, NULL, "a", 1, "1", 1), 0);
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    small_options(&o);
    o.env = fenv;
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, ".dbtmp");
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_EIO);
    db = NULL;
    io_env_fault_reset(fenv);
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, "CURRENT");
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_EIO);
    db = NULL;
    io_env_fault_reset(fenv);
    open_fault();
    ck_assert_str_eq(get("a"), "1");
    ck_assert_int_eq(lsm_put(db, NULL, "b", 1, "2", 1), 0);
    fault_reopen();
    ck_assert_str_eq(get("a"), "1");
    ck_assert_str_eq(get("b"), "2");
}
END_TEST

START_TEST(test_crash_keeps_synced_writes)
{
    struct lsm_write_options nosync = { 0 };
    char k[32];
    int i;

    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        ck_assert_int_eq(lsm_put(db, NULL, k, strlen(k),
                                 "synced value, long enough to fill a few memtables.........",
                                 58), 0);
    }
    ck_assert_int_eq(lsm_put(db, &nosync, "unsynced", 8, "x", 1), 0);
    io_env_fault_crash(fenv);
    fault_reopen();
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        ck_assert_str_eq(get(k), "synced value, long enough to fill a few memtables.........");
    }
    /* Crash again right after recovery work. */
    io_env_fault_crash(fenv);
    fault_reopen();
    ck_assert_str_eq(get("k00000"), "synced value, long enough to fill a few memtables.........");
    ck_assert_str_eq(get("k02999"), "synced value, long enough to fill a few memtables.........");
}
END_TEST

/* lsm_sync on a slow disk: its fsyncs run after it left the writer queue,
 * so writes meanwhile are not held behind them; what was written before
 * the call is durable when it returns, value-log values included; writes
 * made during it become durable by the next lsm_sync. */
struct sync_arg {
    int rc;
    int done;       /* atomic */
};

static void *sync_thread_main(void *arg)
{
    struct sync_arg *a = arg;
    a->rc = lsm_sync(db);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void put_n(const char *prefix, int n, size_t vlen)
{
    struct lsm_write_options nosync = { 0 };
    char k[32], *v = malloc(vlen);
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s%04d", prefix, i);
        memset(v, 'a' + i % 26, vlen);
        ck_assert_int_eq(lsm_put(db, &nosync, k, strlen(k), v, vlen), 0);
    }
    free(v);
}

static void check_n(const char *prefix, int n, size_t vlen)
{
    struct lsm_read_options ro;
    char k[32], *v;
    size_t len;
    lsm_read_options_init(&ro);
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s%04d", prefix, i);
        int rc = lsm_get(db, &ro, k, strlen(k), &v, &len);
        ck_assert_msg(rc == 0, "%s: %s", k, rc == LSM_ENOTFOUND ? "lost" : lsm_last_error());
        ck_assert_uint_eq(len, vlen);
        ck_assert_int_eq(v[0], 'a' + i % 26);
        ck_assert_int_eq(v[len - 1], 'a' + i % 26);
        lsm_free(v);
    }
}

START_TEST(test_sync_does_not_hold_writers)
{
    struct sync_arg a = { -1, 0 };
    pthread_t th;
    int during_done;

    put_n("small", 50, 100);
    put_n("big", 50, 3000);            /* value log */
    io_env_fault_sync_delay(fenv, 400000);
    ck_assert_int_eq(pthread_create(&th, NULL, sync_thread_main, &a), 0);
    usleep(100000);                    /* the sync is in its first fsync */
    put_n("during", 100, 2000);
    during_done = !__atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
    pthread_join(th, NULL);
    io_env_fault_sync_delay(fenv, 0);
    ck_assert_msg(a.rc == 0, "%s", lsm_last_error());
    ck_assert_msg(during_done, "the writes waited for lsm_sync's fsyncs");
    check_n("during", 100, 2000);
    io_env_fault_crash(fenv);
    fault_reopen();
    check_n("small", 50, 100);
    check_n("big", 50, 3000);

    put_n("later", 100, 2000);
    ck_assert_int_eq(lsm_sync(db), 0);
    /* Nothing new since: no fsync (each would take a second here). */
    io_env_fault_sync_delay(fenv, 1000000);
    int64_t t0 = clock_mono_us();
    ck_assert_int_eq(lsm_sync(db), 0);
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    io_env_fault_sync_delay(fenv, 0);
    ck_assert_msg(secs < 0.5, "an lsm_sync with nothing to sync took %.2f s", secs);
    io_env_fault_crash(fenv);
    fault_reopen();
    check_n("small", 50, 100);
    check_n("later", 100, 2000);
}
END_TEST

/* A memtable switch on a slow disk does not wait for the old WAL's fsync
 * (the pool does it); an lsm_sync after it covers the writes of the old
 * WAL as well as the new one. */
START_TEST(test_switch_does_not_wait_for_old_wal)
{
    ck_assert_int_eq(lsm_flush(db, 1), 0);          /* no immutable memtable left */
    put_n("old", 50, 100);
    io_env_fault_sync_delay(fenv, 500000);
    int64_t t0 = clock_mono_us();
    ck_assert_int_eq(lsm_flush(db, 0), 0);          /* switch, flush in the pool */
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    ck_assert_msg(secs < 0.4, "the switch took %.2f s: it waited for an fsync", secs);
    put_n("new", 50, 100);
    ck_assert_int_eq(lsm_sync(db), 0);
    io_env_fault_sync_delay(fenv, 0);
    io_env_fault_crash(fenv);
    fault_reopen();
    check_n("old", 50, 100);
    check_n("new", 50, 100);
}
END_TEST

/* Large values written, then a switch, then an lsm_sync that finds the
 * new WAL clean: it makes the retired WAL durable, and the value-log bytes
 * its records point at before it, although the flush that would fsync
 * them too is still on its way (every fsync takes 0.5 s here). */
START_TEST(test_sync_after_switch_covers_vlog)
{
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    put_n("big", 50, 3000);                           /* value log */
    io_env_fault_sync_delay(fenv, 500000);
    ck_assert_int_eq(lsm_flush(db, 0), 0);            /* switch */
    ck_assert_int_eq(lsm_sync(db), 0);
    io_env_fault_crash(fenv);
    io_env_fault_sync_delay(fenv, 0);
    fault_reopen();
    check_n("big", 50, 3000);
}
END_TEST

/* The newest WAL with records in it (not one made ahead for a switch). */
static int newest_wal_fn(const char *name, void *arg)
{
    unsigned long long n;
    uint64_t *max = arg, size = 0;
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sscanf(name, "%llu.wal", &n) == 1 && strstr(name, ".wal") != NULL && n > *max &&
        io_get_size(io_env_posix(), path, &size) == 0 && size > 0)
        *max = n;
    return 0;
}

/* Zeroes the 4 KiB page at offset off of a file: a hole, as a power loss
 * leaves one in a log whose pages went to the disk out of order. */
static void zero_page(const char *path, long off)
{
    static const char zeros[4096];
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, off, SEEK_SET), 0);
    ck_assert_int_eq(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
    ck_assert_int_eq(fclose(f), 0);
}

/* The old WAL's fsync, run in the pool after a switch, fails: lsm_sync
 * reports it, writes stop with the sticky error, reads go on; after
 * lsm_resume writes go on in a new WAL and nothing acknowledged is lost. */
START_TEST(test_retired_wal_sync_fails)
{
    char name[32];
    uint64_t wal = 0;
    int rc;

    ck_assert_int_eq(lsm_flush(db, 1), 0);
    put_n("old", 50, 100);
    io_list_dir(io_env_posix(), dir, newest_wal_fn, &wal);
    ck_assert_uint_gt(wal, 0);
    snprintf(name, sizeof name, "%06" PRIu64 ".wal", wal);
    io_env_fault_sync_delay(fenv, 1000000);          /* the pool's fsync waits */
    ck_assert_int_eq(lsm_flush(db, 0), 0);            /* switch */
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, name);   /* its only I/O left: the fsync */
    rc = lsm_sync(db);
    io_env_fault_sync_delay(fenv, 0);
    ck_assert_msg(rc == LSM_EIO && strstr(lsm_last_error(), "retired WAL") != NULL,
                  "lsm_sync: %d %s", rc, lsm_last_error());
    ck_assert_int_eq(lsm_bg_error(db), LSM_EIO);
    ck_assert_int_ne(lsm_put(db, NULL, "x", 1, "y", 1), 0);
    check_n("old", 50, 100);                          /* reads go on */
    io_env_fault_reset(fenv);
    ck_assert_msg(lsm_resume(db) == 0, "%s", lsm_last_error());
    put_n("new", 50, 100);
    ck_assert_int_eq(lsm_sync(db), 0);
    fault_reopen();
    check_n("old", 50, 100);
    check_n("new", 50, 100);
}
END_TEST

/* The fsync of a retired WAL is a sync point too: the mark it leaves
 * (written into the next WAL by the next write) makes damage inside that
 * WAL corruption, not an unsynced tail. The flush that would make the
 * retired WAL unneeded is held back by slow table syncs until the crash. */
START_TEST(test_retired_wal_sync_marks_it)
{
    struct lsm_write_options sync = { .sync = 1 };
    struct lsm_options o;
    char path[4300];
    uint64_t wal = 0, size = 0;

    ck_assert_int_eq(lsm_flush(db, 1), 0);
    put_n("old", 300, 100);
    io_list_dir(io_env_posix(), dir, newest_wal_fn, &wal);
    ck_assert_uint_gt(wal, 0);
    io_env_fault_sync_delay_path(fenv, 2000000, ".sst");
    ck_assert_int_eq(lsm_flush(db, 0), 0);           /* switch: the old WAL retires */
    ck_assert_int_eq(lsm_sync(db), 0);               /* drains it: fsync, mark noted */
    ck_assert_int_eq(lsm_put(db, &sync, "new", 3, "v", 1), 0);   /* the mark, synced */
    io_env_fault_crash(fenv);
    io_env_fault_sync_delay_path(fenv, 0, NULL);
    lsm_close(db);
    db = NULL;
    io_env_fault_reset(fenv);
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".wal", dir, wal);
    ck_assert_msg(io_get_size(io_env_posix(), path, &size) == 0 && size > 12288,
                  "%s: the flush finished before the crash (size %llu)", path,
                  (unsigned long long)size);
    zero_page(path, 4096);
    small_options(&o);
    o.env = fenv;
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    ck_assert_msg(strstr(lsm_last_error(), ".wal: offset ") != NULL, "%s", lsm_last_error());
    db = NULL;
}
END_TEST

/* Recovery and the link record that starts a WAL after a switch: WAL B
 * names WAL A and A's size at the switch. A complete: both replayed. A
 * shorter (its tail never synced, a power loss): A's surviving records are
 * replayed, B's are not, so no write survives an earlier lost one. A link
 * to a WAL already flushed (below the log number) is not checked. An empty
 * WAL numbered between them (prepared for a switch, not used) changes
 * nothing. */
static void craft_wal(uint64_t number, const char *link, const char *prefix, int n,
                      uint64_t seq, uint64_t *ends)
{
    struct wal_writer *w;
    char path[4300], k[32];
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".wal", dir, number);
    ck_assert_int_eq(wal_writer_open(NULL, path, &w), 0);
    if (link != NULL)
        ck_assert_int_eq(wal_writer_add(w, slice_make(link, 28)), 0);
    for (int i = 0; i < n; i++) {
        struct lsm_batch *b = lsm_batch_create();
        snprintf(k, sizeof k, "%s%04d", prefix, i);
        lsm_batch_put(b, k, strlen(k), "v", 1);
        batch_set_sequence(b, seq + (uint64_t)i);
        ck_assert_int_eq(wal_writer_add(w, batch_contents(b)), 0);
        lsm_batch_destroy(b);
        if (ends != NULL)
            ends[i] = wal_writer_size(w);
    }
    ck_assert_int_eq(wal_writer_sync(w), 0);
    ck_assert_int_eq(wal_writer_close(w), 0);
}

static int count_present(const char *prefix, int n)
{
    char k[32];
    int found = 0;
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s%04d", prefix, i);
        found += strcmp(get(k), "NOT_FOUND") != 0;
    }
    return found;
}

START_TEST(test_wal_link_guards_replay)
{
    char link[28], path[4300];
    uint64_t ends[10], a, base;
    int complete = _i != 1, flushed = _i == 2, between = _i == 3;

    put("base", "1");
    ck_assert_int_eq(lsm_close(db), 0);     /* a clean close: base is in a table */
    db = NULL;
    a = 1000;                               /* above every number in use */
    base = 1u << 20;                        /* above every sequence in use */
    craft_wal(a, NULL, "a", 10, base, ends);
    memset(link, 0, 12);
    encode_fixed64(link + 12, flushed ? 1 : a);      /* 1: long gone */
    encode_fixed64(link + 20, flushed ? UINT64_C(1) << 40 : ends[9]);
    if (between)                   /* an empty log made for a switch, not used */
        craft_wal(a + 1, NULL, "x", 0, base + 10, NULL);
    craft_wal(a + 1 + between, link, "b", 10, base + 10, NULL);
    if (!complete) {
        snprintf(path, sizeof path, "%s/%06" PRIu64 ".wal", dir, a);
        ck_assert_int_eq(truncate(path, (off_t)ends[4]), 0);
    }
    open_db();
    ck_assert_str_eq(get("base"), "1");
    ck_assert_int_eq(count_present("a", 10), complete || flushed ? 10 : 5);
    ck_assert_int_eq(count_present("b", 10), complete || flushed ? 10 : 0);
    /* The database goes on from there. */
    put("after", "2");
    reopen();
    ck_assert_str_eq(get("after"), "2");
    ck_assert_int_eq(count_present("b", 10), complete || flushed ? 10 : 0);
}
END_TEST

/* ---- randomized against a model (small; the full model test is separate) ---- */

#define MK 120
struct model { char *v[MK]; };

static uint64_t mrng;
static uint64_t mrand(void)
{
    mrng ^= mrng >> 12;
    mrng ^= mrng << 25;
    mrng ^= mrng >> 27;
    return mrng * 0x2545f4914f6cdd1dull;
}

static void mkey(char *k, size_t n, int i) { snprintf(k, n, "key%04d", i * 7); }

static void model_copy(struct model *dst, const struct model *src)
{
    int i;
    for (i = 0; i < MK; i++)
        dst->v[i] = src->v[i] ? strdup(src->v[i]) : NULL;
}

static void model_free(struct model *m)
{
    int i;
    for (i = 0; i < MK; i++) {
        free(m->v[i]);
        m->v[i] = NULL;
    }
}

/* Checks get and a full iteration (random bounds, random direction) of the
 * db view (snapshot s) against m. */
static void check_view(const struct model *m, const struct lsm_snapshot *s)
{
    struct lsm_read_options ro;
    struct lsm_iter *it;
    char k[32], lo[32], hi[32];
    int i, lo_i, hi_i, pos, steps;

    for (i = 0; i < MK; i++) {
        mkey(k, sizeof k, i);
        ck_assert_str_eq(get_snap(k, s), m->v[i] ? m->v[i] : "NOT_FOUND");
    }
    lsm_read_options_init(&ro);
    ro.snapshot = s;
    lo_i = (int)(mrand() % (MK + 1)) - 1;      /* -1 = no bound */
    hi_i = (int)(mrand() % (MK + 1));          /* MK = no bound */
    if (lo_i >= 0) {
        mkey(lo, sizeof lo, lo_i);
        ro.lower_bound = lo;
        ro.lower_bound_len = strlen(lo);
    }
    if (hi_i < MK) {
        mkey(hi, sizeof hi, hi_i);
        ro.upper_bound = hi;
        ro.upper_bound_len = strlen(hi);
    }
    if (lo_i < 0)
        lo_i = 0;
    it = lsm_iter_create(db, &ro);
    /* Random walk: start at first or last, then random next/prev. */
    if (mrand() & 1) {
        lsm_iter_seek_to_first(it);
        for (pos = lo_i; pos < hi_i && !m->v[pos]; pos++)
            ;
    } else {
        lsm_iter_seek_to_last(it);
        for (pos = hi_i - 1; pos >= lo_i && !m->v[pos]; pos--)
            ;
    }
    for (steps = 0; steps < 300; steps++) {
        int fwd = (int)(mrand() % 3) != 0;
        if (pos < lo_i || pos >= hi_i) {
            ck_assert(!lsm_iter_valid(it));
            break;
        }
        ck_assert(lsm_iter_valid(it));
        {
            size_t kl, vl;
            const char *ik = lsm_iter_key(it, &kl), *iv = lsm_iter_value(it, &vl);
            mkey(k, sizeof k, pos);
            ck_assert_int_eq((int)kl, (int)strlen(k));
            ck_assert(memcmp(ik, k, kl) == 0);
            ck_assert_int_eq((int)vl, (int)strlen(m->v[pos]));
            ck_assert(memcmp(iv, m->v[pos], vl) == 0);
        }
        if (fwd) {
            lsm_iter_next(it);
            for (pos++; pos < hi_i && !m->v[pos]; pos++)
                ;
        } else {
            lsm_iter_prev(it);
            for (pos--; pos >= lo_i && !m->v[pos]; pos--)
                ;
        }
    }
    ck_assert_int_eq(lsm_iter_status(it), 0);
    lsm_iter_destroy(it);
}

START_TEST(test_random_against_model)
{
    struct model m, snapm;
    const struct lsm_snapshot *snap = NULL;
    const char *seed = getenv("SEED");
    char k[32], v[64];
    int op, i;

    memset(&m, 0, sizeof m);
    memset(&snapm, 0, sizeof snapm);
    mrng = seed && *seed ? strtoull(seed, NULL, 0)
                         : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    fprintf(stderr, "# test_random_against_model SEED=%llu\n", (unsigned long long)mrng);
    if (mrng == 0)
        mrng = 1;
    for (op = 0; op < 4000; op++) {
        int r = (int)(mrand() % 1000);
        i = (int)(mrand() % MK);
        mkey(k, sizeof k, i);
        if (r < 450) {
            snprintf(v, sizeof v, "v%d-%llu", op, (unsigned long long)(mrand() % 100000));
            put(k, v);
            free(m.v[i]);
            m.v[i] = strdup(v);
        } else if (r < 650) {
            del(k);
            free(m.v[i]);
            m.v[i] = NULL;
        } else if (r < 750) {
            struct lsm_batch *b = lsm_batch_create();
            int j, n = 1 + (int)(mrand() % 8);
            for (j = 0; j < n; j++) {
                int x = (int)(mrand() % MK);
                mkey(k, sizeof k, x);
                free(m.v[x]);
                if (mrand() & 1) {
                    snprintf(v, sizeof v, "b%d-%d", op, j);
                    lsm_batch_put(b, k, strlen(k), v, strlen(v));
                    m.v[x] = strdup(v);
                } else {
                    lsm_batch_delete(b, k, strlen(k));
                    m.v[x] = NULL;
                }
            }
            ck_assert_int_eq(lsm_write(db, NULL, b), 0);
            lsm_batch_destroy(b);
        } else if (r < 800) {
            check_view(&m, NULL);
        } else if (r < 830) {
            if (snap) {
                check_view(&snapm, snap);
                lsm_snapshot_release(db, snap);
                model_free(&snapm);
            }
            snap = lsm_snapshot_create(db);
            model_copy(&snapm, &m);
        } else if (r < 860 && snap) {
            check_view(&snapm, snap);
        } else if (r < 900) {
            ck_assert_int_eq(lsm_flush(db, (int)(mrand() & 1)), 0);
        } else if (r < 925) {
            char a[32], bkey[32];
            int x = (int)(mrand() % MK), y = (int)(mrand() % MK);
            mkey(a, sizeof a, x < y ? x : y);
            mkey(bkey, sizeof bkey, x < y ? y : x);
            if (mrand() & 1)
                ck_assert_int_eq(lsm_compact_range(db, a, strlen(a), bkey, strlen(bkey)), 0);
            else
                ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
        } else if (r < 935) {
            if (snap) {
                lsm_snapshot_release(db, snap);
                model_free(&snapm);
                snap = NULL;
            }
            reopen();
        }
    }
    check_view(&m, NULL);
    if (snap) {
        check_view(&snapm, snap);
        lsm_snapshot_release(db, snap);
    }
    model_free(&snapm);
    reopen();
    check_view(&m, NULL);
    model_free(&m);
}
END_TEST

/* ---- concurrency: writers, readers and iterators while flushes and
 * compactions run on several levels ---- */

static int stress_stop;    /* atomic */

/* "round:" + 128 hex digits, incompressible, deterministic. */
static void stress_value(char *v, size_t n, int round, int key)
{
    uint64_t x = (uint64_t)(key + 1) * 0x9e3779b97f4a7c15ull + (uint64_t)round;
    size_t used = (size_t)snprintf(v, n, "%d:", round);
    int j;
    for (j = 0; j < 8; j++) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        used += (size_t)snprintf(v + used, n - used, "%016llx", (unsigned long long)x);
    }
}

static void *stress_writer(void *arg)
{
    int id = (int)(intptr_t)arg, round, i;
    struct lsm_write_options wo = { 0 };
    char k[32], v[200];
    for (round = 0; round < 6; round++)
        for (i = 0; i < 1500; i++) {
            int key = (i * 37) % 1500;
            snprintf(k, sizeof k, "w%d-%05d", id, key);
            stress_value(v, sizeof v, round, key);
            if (lsm_put(db, &wo, k, strlen(k), v, strlen(v)) != 0)
                return (void *)1;
        }
    return NULL;
}

static void *stress_reader(void *arg)
{
    char prev[64];
    (void)arg;
    while (!__atomic_load_n(&stress_stop, __ATOMIC_RELAXED)) {
        struct lsm_iter *it = lsm_iter_create(db, NULL);
        size_t pl = 0;
        int n = 0;
        for (lsm_iter_seek_to_first(it); lsm_iter_valid(it) && n < 2000; lsm_iter_next(it), n++) {
            size_t kl, vl;
            const char *k = lsm_iter_key(it, &kl);
            const char *v = lsm_iter_value(it, &vl);
            if (vl < 120 || strchr("012345", v[0]) == NULL)
                return (void *)1;
            if (pl > 0) {
                size_t m = pl < kl ? pl : kl;
                int c = memcmp(prev, k, m);
                if (c > 0 || (c == 0 && pl >= kl))
                    return (void *)2;     /* not strictly ascending */
            }
            memcpy(prev, k, kl < sizeof prev ? kl : sizeof prev);
            pl = kl < sizeof prev ? kl : sizeof prev;
        }
        if (lsm_iter_status(it) != 0)
            return (void *)3;
        lsm_iter_destroy(it);
        {
            char *v;
            size_t vl;
            int rc = lsm_get(db, NULL, "w0-00007", 8, &v, &vl);
            if (rc == 0)
                lsm_free(v);
            else if (rc != LSM_ENOTFOUND)
                return (void *)4;
        }
    }
    return NULL;
}

START_TEST(test_concurrent_readers_during_compaction)
{
    pthread_t w[3], r[2];
    struct lsm_stats st;
    char k[32], v[200];
    int i, t, deep = 0;

    /* 4 pool threads: up to 3 compactions at once. */
    {
        struct lsm_options o;
        ck_assert_int_eq(lsm_close(db), 0);
        small_options(&o);
        o.bg_threads = 4;
        ck_assert_int_eq(lsm_open(dir, &o, &db), 0);
    }
    __atomic_store_n(&stress_stop, 0, __ATOMIC_RELAXED);
    for (t = 0; t < 2; t++)
        pthread_create(&r[t], NULL, stress_reader, NULL);
    for (t = 0; t < 3; t++)
        pthread_create(&w[t], NULL, stress_writer, (void *)(intptr_t)t);
    for (t = 0; t < 3; t++) {
        void *res;
        pthread_join(w[t], &res);
        ck_assert_ptr_null(res);
    }
    __atomic_store_n(&stress_stop, 1, __ATOMIC_RELAXED);
    for (t = 0; t < 2; t++) {
        void *res;
        pthread_join(r[t], &res);
        ck_assert_msg(res == NULL, "reader failed: %ld", (long)(intptr_t)res);
    }
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    for (i = 2; i < LSM_STATS_LEVELS; i++)
        deep += st.level[i].files;
    for (i = 0; i < LSM_STATS_LEVELS; i++)
        fprintf(stderr, "# L%d files %d bytes %llu score %.2f\n", i, st.level[i].files,
                (unsigned long long)st.level[i].bytes, st.level[i].score);
    ck_assert_uint_gt(st.compactions, 0);
    ck_assert_int_gt(deep, 0);          /* data reached L2 or deeper */
    reopen();
    for (t = 0; t < 3; t++)
        for (i = 0; i < 1500; i += 11) {
            snprintf(k, sizeof k, "w%d-%05d", t, i);
            stress_value(v, sizeof v, 5, i);
            ck_assert_str_eq(get(k), v);
        }
}
END_TEST

/* ---- corruption: reported with the file name, never wrong data ---- */

/* Flips one byte at `off` (negative: from the end) of the first file in dir
 * whose name ends with suffix; returns 0 when done. */
static int flip_byte(const char *suffix, long off)
{
    char cmd[4900], name[512];
    FILE *p, *f;
    int c;
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -- '%s$' | head -1", dir, suffix);
    p = popen(cmd, "r");
    if (p == NULL || fgets(name, sizeof name, p) == NULL) {
        if (p)
            pclose(p);
        return -1;
    }
    pclose(p);
    name[strcspn(name, "\n")] = '\0';
    snprintf(cmd, sizeof cmd, "%s/%s", dir, name);
    f = fopen(cmd, "r+b");
    if (f == NULL)
        return -1;
    fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
    c = fgetc(f);
    fseek(f, -1, SEEK_CUR);
    fputc(c ^ 0x55, f);
    fclose(f);
    return 0;
}

START_TEST(test_corrupt_table_reported)
{
    char k[32], v[64];
    int i, bad = 0;
    struct lsm_iter *it;
    struct lsm_read_options ro;

    for (i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "value-%d-%d", i, i * 31);
        put(k, v);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    ck_assert_int_eq(flip_byte(".sst", 1000), 0);     /* inside a data block */
    open_db();
    lsm_read_options_init(&ro);
    for (i = 0; i < 2000; i++) {
        char *val;
        size_t n;
        int rc;
        snprintf(k, sizeof k, "k%05d", i);
        snprintf(v, sizeof v, "value-%d-%d", i, i * 31);
        rc = lsm_get(db, &ro, k, strlen(k), &val, &n);
        if (rc == 0) {
            ck_assert_int_eq((int)n, (int)strlen(v));
            ck_assert(memcmp(val, v, n) == 0);     /* never wrong data */
            lsm_free(val);
        } else {
            ck_assert_int_eq(rc, LSM_ECORRUPT);
            ck_assert_msg(strstr(lsm_last_error(), ".sst") != NULL, "%s", lsm_last_error());
            bad++;
        }
    }
    ck_assert_int_gt(bad, 0);
    it = lsm_iter_create(db, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it))
        ;
    ck_assert_int_eq(lsm_iter_status(it), LSM_ECORRUPT);
    lsm_iter_destroy(it);
    /* A compaction over the damaged table (the bottom level is compacted
     * too) fails with a sticky error; reads go on. */
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), LSM_ECORRUPT);
    ck_assert_int_eq(lsm_bg_error(db), LSM_ECORRUPT);
    ck_assert_str_eq(get("k01999"), "value-1999-61969");
}
END_TEST

START_TEST(test_corrupt_wal_middle_reported)
{
    struct lsm_options o;
    char k[32];
    int i;

    for (i = 0; i < 300; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        put(k, "a value in the write-ahead log only");
    }
    ck_assert_int_eq(lsm_close(db), 0);     /* the WAL holds the memtable */
    db = NULL;
    ck_assert_int_eq(flip_byte(".wal", 100), 0);
    small_options(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    ck_assert_msg(strstr(lsm_last_error(), ".wal") != NULL, "%s", lsm_last_error());
    db = NULL;
}
END_TEST

START_TEST(test_torn_wal_tail_dropped)
{
    char k[32], path[4300];
    int i;

    for (i = 0; i < 300; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        put(k, "a value in the write-ahead log only");
    }
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    /* Tear the last record: cut the sync mark a clean close ends the
     * (only) WAL with (a 7-byte header and 24 + 20 bytes for the WAL's
     * one entry) and 5 bytes of the record before it. */
    snprintf(path, sizeof path, "cd '%s' && f=$(ls *.wal | tail -1) && "
             "truncate -s -56 $f", dir);
    ck_assert_int_eq(system(path), 0);
    open_db();
    ck_assert_str_eq(get("k00298"), "a value in the write-ahead log only");
    ck_assert_str_eq(get("k00299"), "NOT_FOUND");      /* the torn one */
}
END_TEST

/* A power loss whose unsynced WAL pages reached the disk out of order: a
 * child writes k00000..k00009 synced, then k00010..k00199 (synced too when
 * sync_rest) and dies without a close; the WAL's second page is then
 * zeroed, a hole with complete records after it. Returns what lsm_open
 * says (db open on 0). */
static int wal_hole(int sync_rest)
{
    char k[32], path[4300];
    uint64_t wal = 0;
    pid_t pid;
    int status;

    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct lsm_options o;
        struct lsm_db *c;
        small_options(&o);
        if (lsm_open(dir, &o, &c) != 0)
            _exit(1);
        for (int i = 0; i < 200; i++) {
            struct lsm_write_options wo = { 0 };
            wo.sync = i < 10 || sync_rest;
            snprintf(k, sizeof k, "k%05d", i);
            if (lsm_put(c, &wo, k, strlen(k), "a value only the write-ahead log holds", 38) != 0)
                _exit(1);
        }
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    io_list_dir(io_env_posix(), dir, newest_wal_fn, &wal);
    ck_assert_uint_gt(wal, 0);
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".wal", dir, wal);
    zero_page(path, 4096);
    struct lsm_options o;
    small_options(&o);
    return lsm_open(dir, &o, &db);
}

START_TEST(test_wal_hole_past_sync_points)
{
    char k[32];
    int i, present = 0, gap = 0;

    ck_assert_msg(wal_hole(0) == 0, "open: %s", lsm_last_error());
    for (i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        ck_assert_str_eq(get(k), "a value only the write-ahead log holds");
    }
    /* What survives is a prefix: the records before the hole. */
    for (i = 10; i < 200; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        if (strcmp(get(k), "NOT_FOUND") == 0) {
            gap = 1;
        } else {
            ck_assert_msg(!gap, "%s replayed after a record lost before it", k);
            present++;
        }
    }
    ck_assert_msg(gap && present > 0, "%d of the unsynced records replayed", present);
}
END_TEST

START_TEST(test_wal_hole_inside_synced_is_corruption)
{
    ck_assert_int_eq(wal_hole(1), LSM_ECORRUPT);
    ck_assert_msg(strstr(lsm_last_error(), ".wal: offset ") != NULL, "%s", lsm_last_error());
    db = NULL;
}
END_TEST

/* Sweep: the n-th I/O operation (EIO), the n-th append (short write) or the
 * byte budget (ENOSPC) fails during a workload of puts, flushes and a
 * compaction; optionally the machine then crashes (unsynced data dropped,
 * or, crash 2, a random half of its pages or sectors kept in any order).
 * After reopening without faults, every acknowledged durable write is there
 * with its value. */
static int sweep_once(enum io_fault kind, uint64_t after, int crash)
{
    struct lsm_options o;
    char k[32], v[200];
    int acked[80], i, stop = 0, syncrc, lost = 0, finished;

    small_options(&o);
    o.env = fenv;
    memset(acked, 0, sizeof acked);
    io_env_fault_set(fenv, kind, after, NULL);
    for (i = 0; i < 80 && !stop; i++) {
        struct lsm_write_options wo = { .sync = i % 4 == 0 };
        snprintf(k, sizeof k, "k%04d", i);
        memset(v, 'a' + i % 26, 150);
        if (lsm_put(db, &wo, k, strlen(k), v, 150) != 0)
            break;
        acked[i] = wo.sync ? 2 : 1;
        if (i == 30 || i == 60)
            stop = lsm_flush(db, 1) != 0;
        if (i == 70)
            stop = lsm_compact_range(db, NULL, 0, NULL, 0) != 0;
    }
    finished = i == 80;
    syncrc = lsm_sync(db);
    if (crash == 2)
        io_env_fault_crash_scatter(fenv, after * 31 + (uint64_t)kind);
    else if (crash)
        io_env_fault_crash(fenv);
    lsm_close(db);
    db = NULL;
    io_env_fault_reset(fenv);
    ck_assert_msg(lsm_open(dir, &o, &db) == 0, "after=%llu: reopen: %s",
                  (unsigned long long)after, lsm_last_error());
    for (i = 0; i < 80; i++) {
        char *val;
        size_t n;
        if (!(acked[i] == 2 || (acked[i] == 1 && syncrc == 0)))
            continue;
        snprintf(k, sizeof k, "k%04d", i);
        if (lsm_get(db, NULL, k, strlen(k), &val, &n) != 0) {
            lost++;
            continue;
        }
        if (n != 150 || val[0] != 'a' + i % 26)
            lost++;
        lsm_free(val);
    }
    ck_assert_msg(lost == 0, "fault %d after %llu crash %d: %d acknowledged writes lost",
                  (int)kind, (unsigned long long)after, crash, lost);
    /* Start the next round from an empty database. */
    lsm_close(db);
    db = NULL;
    dt_rmrf(dir);
    open_fault();
    return finished;
}

START_TEST(test_fault_sweep)
{
    static const struct { enum io_fault kind; uint64_t step; } kinds[] = {
        { IO_FAULT_EIO, 23 }, { IO_FAULT_SHORT_WRITE, 11 }, { IO_FAULT_ENOSPC, 1700 },
    };
    int crash = _i;
    size_t k;
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint64_t after;
        for (after = 0; after < 100000; after += kinds[k].step)
            if (sweep_once(kinds[k].kind, after, crash))
                break;      /* the workload no longer reaches the fault */
    }
}
END_TEST

START_TEST(test_missing_current_with_data_refused)
{
    char path[4200];
    struct lsm_options o;

    put("a", "1");
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    ck_assert_int_eq(unlink(path), 0);
    small_options(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    ck_assert_msg(strstr(lsm_last_error(), "CURRENT") != NULL, "%s", lsm_last_error());
    db = NULL;
    ck_assert_int_ge(dt_count_files(dir, ".sst"), 1);     /* nothing deleted */
}
END_TEST

START_TEST(test_missing_table_is_corruption)
{
    char cmd[4300];
    char *v;
    size_t n;
    struct lsm_iter *it;
    struct lsm_options o;

    put("a", "1");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    reopen();
    /* Deleted behind an open database (nothing has opened it yet): reads
     * report corruption naming it, not LSM_ENOENT. */
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.sst", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(lsm_get(db, NULL, "a", 1, &v, &n), LSM_ECORRUPT);
    ck_assert_msg(strstr(lsm_last_error(), ".sst") != NULL, "%s", lsm_last_error());
    it = lsm_iter_create(db, NULL);
    lsm_iter_seek_to_first(it);
    ck_assert(!lsm_iter_valid(it));
    ck_assert_int_eq(lsm_iter_status(it), LSM_ECORRUPT);
    lsm_iter_destroy(it);
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    /* Missing at open: refused, naming the table and the manifest, and
     * nothing deleted. */
    small_options(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    db = NULL;
    ck_assert_msg(strstr(lsm_last_error(), ".sst") != NULL &&
                  strstr(lsm_last_error(), "MANIFEST-") != NULL, "%s", lsm_last_error());
    ck_assert_int_eq(dt_count_files(dir, ".wal"), 1);
    ck_assert_int_eq(dt_count_files(dir, "MANIFEST-[0-9]*"), 1);
}
END_TEST

/* A table shorter than the manifest says (cut behind the engine) is refused
 * at open, naming it. */
START_TEST(test_table_size_checked_at_open)
{
    char cmd[4300];
    struct lsm_options o;

    put("a", "1");
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.sst; do truncate -s -1 \"$f\"; done", dir);
    ck_assert_int_eq(system(cmd), 0);
    small_options(&o);
    ck_assert_int_eq(lsm_open(dir, &o, &db), LSM_ECORRUPT);
    db = NULL;
    ck_assert_msg(strstr(lsm_last_error(), ".sst") != NULL &&
                  strstr(lsm_last_error(), "bytes") != NULL, "%s", lsm_last_error());
    ck_assert_int_eq(dt_count_files(dir, ".sst"), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("api");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_put_get_delete);
    tcase_add_test(tc, test_put_buffer_reuse);
    tcase_add_test(tc, test_get_into);
    tcase_add_test(tc, test_batch_atomic);
    tcase_add_test(tc, test_snapshot);
    tcase_add_test(tc, test_flush_drops_shadowed_versions);
    tcase_add_test(tc, test_iterator_basic);
    tcase_add_test(tc, test_iterator_seek_and_direction);
    tcase_add_test(tc, test_iterator_bounds_and_snapshot);
    tcase_add_test(tc, test_iterator_is_a_snapshot);
    tcase_add_test(tc, test_reopen_recovers_wal);
    tcase_add_test(tc, test_many_writes_flush_and_compact);
    tcase_add_test(tc, test_tombstones_dropped_at_bottom);
    tcase_add_test(tc, test_compaction_filter);
    tcase_add_test(tc, test_compact_range_rewrites_bottom_level);
    tcase_add_test(tc, test_obsolete_files_deleted);
    tcase_add_test(tc, test_lock_and_options);
    tcase_add_test(tc, test_sync_and_nosync);
    tcase_add_loop_test(tc, test_wal_link_guards_replay, 0, 4);
    tcase_add_test(tc, test_corrupt_current_reported);
    tcase_add_test(tc, test_concurrent_writers);
    tcase_add_loop_test(tc, test_random_against_model, 0, 3);
    tcase_add_test(tc, test_concurrent_readers_during_compaction);
    tcase_add_test(tc, test_corrupt_table_reported);
    tcase_add_test(tc, test_corrupt_wal_middle_reported);
    tcase_add_test(tc, test_torn_wal_tail_dropped);
    tcase_add_test(tc, test_wal_hole_past_sync_points);
    tcase_add_test(tc, test_wal_hole_inside_synced_is_corruption);
    tcase_add_test(tc, test_missing_current_with_data_refused);
    tcase_add_test(tc, test_missing_table_is_corruption);
    tcase_add_test(tc, test_table_size_checked_at_open);
    suite_add_tcase(s, tc);
    tc = tcase_create("faults");
    tcase_add_checked_fixture(tc, fault_setup, fault_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fault_sst_write_is_sticky);
    tcase_add_test(tc, test_fault_wal_append);
    tcase_add_test(tc, test_fault_manifest_write);
    tcase_add_test(tc, test_fault_current_rename);
    tcase_add_test(tc, test_crash_keeps_synced_writes);
    tcase_add_test(tc, test_sync_does_not_hold_writers);
    tcase_add_test(tc, test_switch_does_not_wait_for_old_wal);
    tcase_add_test(tc, test_retired_wal_sync_fails);
    tcase_add_test(tc, test_sync_after_switch_covers_vlog);
    tcase_add_test(tc, test_retired_wal_sync_marks_it);
    tcase_add_loop_test(tc, test_fault_sweep, 0, 3);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
