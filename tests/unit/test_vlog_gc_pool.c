/* test_vlog_gc_pool: value-log GC must never starve flushes of a thread.
 *
 * A GC pass can wait: its rewrites go through the writer queue (which stops
 * when the memtables are full) and it pushes the memtable so that collected
 * segments can go. A flush, which is what ends those waits, runs on the
 * background pool; if GC passes held the pool's threads the database would
 * hang for good. Here a writer keeps overwriting separated values with tiny
 * memtables (max_write_buffers 2: writes stop often), automatic GC runs after
 * every compaction, and the main thread races manual passes (plain and
 * forced) and flushes against them. Check's timeout turns a hang into a
 * failure; at the end every key must read its last value. SEED=n.
 * (The hang this guards against — two GC jobs on the two pool threads, one
 * waiting for the other, the other for a flush — was seen in test_model
 * under load; it needs a narrow race, so this run exercises the paths
 * rather than forcing it. GC now has its own thread.) */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_test.h"
#include "engine/lsm.h"

#define NKEYS 300
#define VLEN 700

static char dir[4096];
static struct lsm_db *db;
static volatile int stop;
static uint32_t last[NKEYS];        /* the writer's last version of each key */
static int writer_rc;

static void value_of(int k, uint32_t ver, char *out)
{
    uint64_t x = ((uint64_t)k << 32) | ver;
    for (int i = 0; i < VLEN; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = (char)('a' + (x >> 59));
    }
    snprintf(out, 24, "%05d:%010" PRIu32, k, ver);
}

static void *writer(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg;
    char key[16], val[VLEN];
    struct lsm_write_options wo = { .sync = 0 };
    while (!stop) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)((r >> 33) % NKEYS);
        snprintf(key, sizeof key, "k%05d", k);
        value_of(k, last[k] + 1, val);
        int rc = lsm_put(db, &wo, key, strlen(key), val, VLEN);
        if (rc != 0) {
            writer_rc = rc;
            break;
        }
        last[k]++;
    }
    return NULL;
}

START_TEST(gc_never_starves_flushes)
{
    struct lsm_options o;
    const char *s = getenv("SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    pthread_t th;
    fprintf(stderr, "# test_vlog_gc_pool: SEED=%" PRIu64 "\n", seed);
    dt_mkdtemp(dir, sizeof dir);
    lsm_options_init(&o);
    o.value_separation_threshold = 64;
    o.vlog_file_size = 16 << 10;
    o.write_buffer_size = 64 << 10;
    o.max_write_buffers = 2;
    o.bg_threads = 2;
    o.vlog_gc_ratio = 0.1;
    o.vlog_gc_max_mbps = 0;
    o.compression = LSM_COMPRESSION_NONE;
    o.l0_compaction_trigger = 1;      /* compactions (which schedule GC) often */
    o.target_file_size = 16 << 10;
    o.max_bytes_for_level_base = 64 << 10;
    ck_assert_msg(lsm_open(dir, &o, &db) == 0, "open: %s", lsm_last_error());
    stop = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, writer, (void *)(uintptr_t)(seed | 1)), 0);
    int64_t end = (int64_t)time(NULL) + 3;
    for (int i = 0; time(NULL) < end; i++) {
        int rc = lsm_vlog_gc(db, i % 2 == 0);
        ck_assert_msg(rc == 0, "lsm_vlog_gc: %s", lsm_last_error());
        if (i % 7 == 0)
            ck_assert_int_eq(lsm_flush(db, 0), 0);
    }
    stop = 1;
    pthread_join(th, NULL);
    ck_assert_msg(writer_rc == 0, "writer: %s", lsm_strerror(writer_rc));
    struct lsm_stats st;
    ck_assert_int_eq(lsm_get_stats(db, &st), 0);
    ck_assert_uint_gt(st.vlog_gc_runs, 0);
    char key[16], want[VLEN];
    for (int k = 0; k < NKEYS; k++) {
        char *v = NULL;
        size_t n = 0;
        snprintf(key, sizeof key, "k%05d", k);
        int rc = lsm_get(db, NULL, key, strlen(key), &v, &n);
        if (last[k] == 0) {
            ck_assert_int_eq(rc, LSM_ENOTFOUND);
            continue;
        }
        ck_assert_msg(rc == 0, "get %s: %s", key, lsm_last_error());
        value_of(k, last[k], want);
        ck_assert_msg(n == VLEN && memcmp(v, want, VLEN) == 0, "%s: not its last value", key);
        lsm_free(v);
    }
    ck_assert_int_eq(lsm_close(db), 0);
    db = NULL;
    dt_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vlog_gc_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gc_never_starves_flushes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
