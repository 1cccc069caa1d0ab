/* test_vlog_gc: key/value separation through the public API.
 * - separation is invisible: large and small values, gets, iterators both
 *   ways, reopen;
 * - discard accounting: overwritten separated values add exactly their entry
 *   sizes to the discard counts, which survive a reopen;
 * - GC with old readers: overwrite and delete keys, run GC while a snapshot
 *   and a live iterator hold the old values: every reader sees its own view,
 *   the old segment stays until they are gone, then the space comes back;
 * - concurrent: reader threads (gets, snapshot iterators) check every value
 *   while a writer overwrites/deletes and GC runs in the background;
 * - corruption: a flipped byte in a vlog entry is LSM_ECORRUPT for that key
 *   (file + offset), never data; other keys read fine;
 * - lsm_batch_patch: new first bytes without a value-log read or append,
 *   through snapshots, iterators, tables, reopen, discard counts and GC.
 * SEED=n for the random parts (printed). */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db_test.h"
#include "engine/batch.h"
#include "engine/db_impl.h"
#include "engine/lsm.h"
#include "engine/version.h"
#include "engine/vlog.h"
#include "engine/wal.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define EXPECT(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static char dir[4096];
static uint64_t seed;

static void setup(void)
{
    const char *s = getenv("SEED");
    dt_mkdtemp(dir, sizeof dir);
    seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
}

static void teardown(void)
{
    dt_rmrf(dir);
}

static void opts(struct lsm_options *o)
{
    lsm_options_init(o);
    o->value_separation_threshold = 256;
    o->vlog_file_size = 64 << 10;
    o->write_buffer_size = 256 << 10;
    o->compression = LSM_COMPRESSION_NONE;
    o->vlog_gc_max_mbps = 0;
    o->bg_threads = 2;
}

static struct lsm_db *open_db(const struct lsm_options *o)
{
    struct lsm_db *db = NULL;
    int rc = lsm_open(dir, o, &db);
    EXPECT(rc == 0, "open: %s", lsm_last_error());
    return db;
}

static void key_of(char *k, int i)
{
    snprintf(k, 16, "k%06d", i);
}

/* Value of key i at version ver: its length varies around the threshold;
 * the content encodes (i, ver) so any mix-up is visible. */
static size_t value_of(char *v, int i, int ver)
{
    size_t len = (size_t)((i * 131 + ver * 71) % 1500) + 10, k;
    int n = snprintf(v, 64, "v%d.%d:", i, ver);
    for (k = (size_t)n; k < len; k++)
        v[k] = (char)('a' + (int)((k * 7 + (size_t)i + (size_t)ver) % 26));
    return len;
}

static void put(struct lsm_db *db, int i, int ver)
{
    char k[16], v[2048];
    size_t n = value_of(v, i, ver);
    struct lsm_write_options wo = { 0 };
    key_of(k, i);
    EXPECT(lsm_put(db, &wo, k, strlen(k), v, n) == 0, "put: %s", lsm_last_error());
}

static void del(struct lsm_db *db, int i)
{
    char k[16];
    struct lsm_write_options wo = { 0 };
    key_of(k, i);
    EXPECT(lsm_delete(db, &wo, k, strlen(k)) == 0, "delete: %s", lsm_last_error());
}

/* ver 0 = absent. */
static void expect_get(struct lsm_db *db, const struct lsm_snapshot *snap, int i, int ver)
{
    char k[16], want[2048];
    char *v = NULL;
    size_t n = 0, wn;
    struct lsm_read_options ro;
    int rc;

    lsm_read_options_init(&ro);
    ro.snapshot = snap;
    key_of(k, i);
    rc = lsm_get(db, &ro, k, strlen(k), &v, &n);
    if (ver == 0) {
        EXPECT(rc == LSM_ENOTFOUND, "key %d: expected absent, rc %d (%s)", i, rc,
               lsm_last_error());
        return;
    }
    EXPECT(rc == 0, "key %d: get rc %d: %s", i, rc, lsm_last_error());
    wn = value_of(want, i, ver);
    EXPECT(n == wn && memcmp(v, want, n) == 0, "key %d: wrong value (want version %d)", i, ver);
    lsm_free(v);
}

/* Forward and reverse scans equal the model (ver[i], 0 = absent). */
static void expect_scan(struct lsm_iter *it, const int *ver, int n)
{
    char k[16], want[2048];
    int i, seen = 0;

    lsm_iter_seek_to_first(it);
    for (i = 0; i < n; i++) {
        size_t kl, vl, wn;
        const char *kp, *vp;
        if (ver[i] == 0)
            continue;
        EXPECT(lsm_iter_valid(it), "scan ended before key %d (status %d: %s)", i,
               lsm_iter_status(it), lsm_last_error());
        key_of(k, i);
        kp = lsm_iter_key(it, &kl);
        vp = lsm_iter_value(it, &vl);
        EXPECT(kl == strlen(k) && memcmp(kp, k, kl) == 0, "scan key at %d", i);
        wn = value_of(want, i, ver[i]);
        EXPECT(vl == wn && memcmp(vp, want, wn) == 0, "scan value of key %d", i);
        seen++;
        lsm_iter_next(it);
    }
    EXPECT(!lsm_iter_valid(it) && lsm_iter_status(it) == 0, "scan: extra keys or error");
    lsm_iter_seek_to_last(it);
    for (i = n - 1; i >= 0; i--) {
        size_t kl, vl, wn;
        const char *vp;
        if (ver[i] == 0)
            continue;
        EXPECT(lsm_iter_valid(it), "reverse scan ended before key %d", i);
        lsm_iter_key(it, &kl);
        vp = lsm_iter_value(it, &vl);
        wn = value_of(want, i, ver[i]);
        EXPECT(vl == wn && memcmp(vp, want, wn) == 0, "reverse scan value of key %d", i);
        lsm_iter_prev(it);
    }
    EXPECT(lsm_iter_status(it) == 0, "reverse scan status");
    (void)seen;
}

static struct lsm_stats stats(struct lsm_db *db)
{
    struct lsm_stats s;
    lsm_get_stats(db, &s);
    return s;
}

#define NK 600

/* Bytes the file system allocated to path, or its size (-1 on error). */
static int64_t file_bytes(const char *path, int allocated)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return allocated ? (int64_t)st.st_blocks * 512 : (int64_t)st.st_size;
}

struct vlog_files { int n; int64_t worst_extra; const char *dir; };

static int vlog_file_fn(const char *name, void *arg)
{
    struct vlog_files *vf = arg;
    char path[4200];
    size_t len = strlen(name);
    if (len < 5 || strcmp(name + len - 5, ".vlog") != 0)
        return 0;
    snprintf(path, sizeof path, "%s/%s", vf->dir, name);
    int64_t extra = file_bytes(path, 1) - file_bytes(path, 0);
    if (extra > vf->worst_extra)
        vf->worst_extra = extra;
    vf->n++;
    return 0;
}

/* Segments roll many times (the next one prepared in the pool while the
 * active one fills, with its disk space reserved ahead): every value stays
 * readable, across a reopen; a rolled segment gives back the space reserved
 * past its end; a clean close leaves no prepared, unused segment behind
 * (every .vlog file is a segment the manifest counts). */
START_TEST(test_rolls_with_prepared_segments)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct vlog_files vf = { 0, 0, dir };
    int i;

    opts(&o);
    db = open_db(&o);
    for (i = 0; i < NK; i++)
        put(db, i, 1);                 /* ~450 KB: about 7 segments of 64 KB */
    EXPECT(lsm_sync(db) == 0, "sync: %s", lsm_last_error());
    for (i = 0; i < NK; i++)
        expect_get(db, NULL, i, 1);
    EXPECT(stats(db).vlog_segments >= 5, "only %" PRIu64 " segments", stats(db).vlog_segments);
    EXPECT(lsm_close(db) == 0, "close: %s", lsm_last_error());

    io_list_dir(io_env_posix(), dir, vlog_file_fn, &vf);
    /* ext4 and tmpfs allocate whole 4 KB blocks. */
    EXPECT(vf.worst_extra < 8192, "a sealed segment holds %" PRId64 " bytes past its end",
           vf.worst_extra);
    db = open_db(&o);
    EXPECT((uint64_t)vf.n == stats(db).vlog_segments, "%d .vlog files, %" PRIu64 " segments",
           vf.n, stats(db).vlog_segments);
    for (i = 0; i < NK; i++)
        expect_get(db, NULL, i, 1);
    EXPECT(lsm_close(db) == 0, "close: %s", lsm_last_error());
}
END_TEST

START_TEST(test_separation_invisible)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_iter *it;
    struct lsm_stats st;
    int ver[NK], i, pass;

    opts(&o);
    o.compression = _i ? LSM_COMPRESSION_SNAPPY : LSM_COMPRESSION_NONE;
    db = open_db(&o);
    for (i = 0; i < NK; i++) {
        put(db, i, 1);
        ver[i] = 1;
    }
    st = stats(db);
    EXPECT(st.vlog_bytes > 0 && st.vlog_segments > 0, "values were separated");
    EXPECT(st.vlog_bytes_written >= st.vlog_bytes, "bytes written counted");
    for (pass = 0; pass < 3; pass++) {
        for (i = 0; i < NK; i++)
            expect_get(db, NULL, i, ver[i]);
        it = lsm_iter_create(db, NULL);
        expect_scan(it, ver, NK);
        lsm_iter_destroy(it);
        if (pass == 0)
            ck_assert_int_eq(lsm_flush(db, 1), 0);
        if (pass == 1) {
            ck_assert_int_eq(lsm_close(db), 0);
            db = open_db(&o);
        }
    }
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* Every overwritten separated value adds exactly its entry size (16 + key
 * + value, no compression) to the discard count; the count is persisted. */
START_TEST(test_discard_accounting)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_stats st;
    uint64_t want = 0;
    char v[2048];
    int i;

    opts(&o);
    o.vlog_gc_ratio = 2.0;          /* never collect: counts stay visible */
    db = open_db(&o);
    for (i = 0; i < NK; i++)
        put(db, i, 1);
    for (i = 0; i < NK; i++) {
        size_t n = value_of(v, i, 1);
        if (n >= o.value_separation_threshold)
            want += 16 + 7 + n;
        if (i % 2)
            put(db, i, 2);
        else
            del(db, i);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    st = stats(db);
    EXPECT(st.vlog_discard_bytes == want, "discard %" PRIu64 ", want %" PRIu64,
           st.vlog_discard_bytes, want);
    EXPECT(st.vlog_live_bytes == st.vlog_bytes - want, "live estimate");
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    st = stats(db);
    EXPECT(st.vlog_discard_bytes == want, "after reopen: discard %" PRIu64 ", want %" PRIu64,
           st.vlog_discard_bytes, want);
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* GC while a snapshot and a live iterator hold the old values. */
START_TEST(test_gc_with_old_readers)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_iter *it;
    const struct lsm_snapshot *snap;
    struct lsm_read_options ro;
    struct lsm_stats st0, st1, st2;
    int v1[NK], v2[NK], i;

    opts(&o);
    db = open_db(&o);
    for (i = 0; i < NK; i++) {
        put(db, i, 1);
        v1[i] = 1;
    }
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    snap = lsm_snapshot_create(db);
    lsm_read_options_init(&ro);
    ro.snapshot = snap;
    it = lsm_iter_create(db, NULL);          /* implicit view of version 1 */
    lsm_iter_seek_to_first(it);
    for (i = 0; i < NK; i++) {
        if (i % 3 == 0) {
            del(db, i);
            v2[i] = 0;
        } else if (i % 3 == 1) {
            put(db, i, 2);
            v2[i] = 2;
        } else {
            v2[i] = 1;
        }
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    st0 = stats(db);
    ck_assert_int_eq(lsm_vlog_gc(db, 1), 0);
    st1 = stats(db);
    EXPECT(st1.vlog_gc_runs > st0.vlog_gc_runs, "GC ran");
    EXPECT(st1.vlog_gc_bytes_rewritten > 0, "live entries rewritten");
    EXPECT(st1.vlog_gc_bytes_reclaimed == 0, "nothing removed while old readers live");
    /* Each reader keeps its own view. */
    for (i = 0; i < NK; i++) {
        expect_get(db, snap, i, v1[i]);
        expect_get(db, NULL, i, v2[i]);
    }
    expect_scan(it, v1, NK);
    {
        struct lsm_iter *it2 = lsm_iter_create(db, &ro);
        expect_scan(it2, v1, NK);
        lsm_iter_destroy(it2);
        it2 = lsm_iter_create(db, NULL);
        expect_scan(it2, v2, NK);
        lsm_iter_destroy(it2);
    }
    /* Overwrite more while GC'd data is pending, then let the readers go. */
    lsm_iter_destroy(it);
    lsm_snapshot_release(db, snap);
    ck_assert_int_eq(lsm_vlog_gc(db, 1), 0);
    st2 = stats(db);
    EXPECT(st2.vlog_gc_bytes_reclaimed > 0, "space came back after readers closed");
    EXPECT(st2.vlog_bytes < st1.vlog_bytes, "vlog shrank: %" PRIu64 " -> %" PRIu64,
           st1.vlog_bytes, st2.vlog_bytes);
    for (i = 0; i < NK; i++)
        expect_get(db, NULL, i, v2[i]);
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    for (i = 0; i < NK; i++)
        expect_get(db, NULL, i, v2[i]);
    it = lsm_iter_create(db, NULL);
    expect_scan(it, v2, NK);
    lsm_iter_destroy(it);
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* A get that has read a value pointer but not yet the value (stalled in the
 * value-log read) must keep the segment it points into: GC rewrites the
 * segment but removes it only after that get is done. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int armed, entered, release;
    uint64_t segment;               /* the stalled get reads from it */
    int (*orig)(void *arg, struct slice key, struct slice ptr, struct buf *value);
} stall = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL };

static int segment_exists(uint64_t number)
{
    struct buf p = BUF_INIT;
    int r;
    db_file_path(&p, dir, DB_FILE_VLOG, number);
    r = access(buf_cstr(&p), F_OK) == 0;
    buf_free(&p);
    return r;
}

static int stalling_resolve(void *arg, struct slice key, struct slice ptr, struct buf *value)
{
    pthread_mutex_lock(&stall.mu);
    if (stall.armed) {
        struct vlog_ptr p;
        stall.armed = 0;
        stall.segment = vlog_ptr_decode(ptr, &p) == 0 ? p.segment : 0;
        stall.entered = 1;
        pthread_cond_broadcast(&stall.cv);
        while (!stall.release)
            pthread_cond_wait(&stall.cv, &stall.mu);
    }
    pthread_mutex_unlock(&stall.mu);
    return stall.orig(arg, key, ptr, value);
}

struct stalled_get {
    struct lsm_db *db;
    int i, ok;
    char msg[200];
};

static void *stalled_get_main(void *arg)
{
    struct stalled_get *g = arg;
    char k[16], want[2048];
    char *v = NULL;
    size_t n = 0, wn = value_of(want, g->i, 1);
    int rc;
    key_of(k, g->i);
    rc = lsm_get(g->db, NULL, k, strlen(k), &v, &n);
    g->ok = rc == 0 && n == wn && memcmp(v, want, n) == 0;
    snprintf(g->msg, sizeof g->msg, "rc %d (%s), %zu bytes", rc, rc ? lsm_last_error() : "",
             n);
    lsm_free(v);
    return NULL;
}

START_TEST(test_gc_waits_for_stalled_get)
{
    struct lsm_options o;
    struct stalled_get g;
    struct lsm_stats st0, st1;
    pthread_t th;
    char tmp[2048];
    int i;

    opts(&o);
    memset(&g, 0, sizeof g);
    g.db = open_db(&o);
    for (i = 0; i < NK; i++)
        put(g.db, i, 1);
    ck_assert_int_eq(lsm_flush(g.db, 1), 0);
    for (g.i = 0; g.i < NK && value_of(tmp, g.i, 1) < 600; g.i++)
        ;                               /* the first separated value: oldest segment */
    ck_assert_int_lt(g.i, NK);
    /* No garbage yet, so no GC has run: the get reads the original pointer. */
    stall.orig = g.db->vlog.resolve;
    ck_assert_ptr_nonnull(stall.orig);
    g.db->vlog.resolve = stalling_resolve;
    stall.armed = 1;
    stall.entered = stall.release = 0;
    pthread_create(&th, NULL, stalled_get_main, &g);
    pthread_mutex_lock(&stall.mu);
    while (!stall.entered)
        pthread_cond_wait(&stall.cv, &stall.mu);
    pthread_mutex_unlock(&stall.mu);
    ck_assert_uint_gt(stall.segment, 0);
    st0 = stats(g.db);
    /* Everything but that key is overwritten or deleted: its segment is
     * nearly all garbage, and GC rewrites it. */
    for (i = 0; i < NK; i++)
        if (i != g.i) {
            if (i % 2)
                put(g.db, i, 2);
            else
                del(g.db, i);
        }
    ck_assert_int_eq(lsm_compact_range(g.db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_vlog_gc(g.db, 1), 0);    /* (background GC may be first) */
    EXPECT(stats(g.db).vlog_gc_runs > st0.vlog_gc_runs, "GC ran");
    EXPECT(segment_exists(stall.segment),
           "segment %" PRIu64 " removed while a get could still read it", stall.segment);
    st1 = stats(g.db);
    pthread_mutex_lock(&stall.mu);
    stall.release = 1;
    pthread_cond_broadcast(&stall.cv);
    pthread_mutex_unlock(&stall.mu);
    pthread_join(th, NULL);
    EXPECT(g.ok, "stalled get of key %d: %s", g.i, g.msg);
    /* (Its last reference may already have let background GC remove it.) */
    ck_assert_int_eq(lsm_vlog_gc(g.db, 1), 0);
    EXPECT(!segment_exists(stall.segment), "segment %" PRIu64 " collected after the get",
           stall.segment);
    EXPECT(stats(g.db).vlog_gc_bytes_reclaimed > st1.vlog_gc_bytes_reclaimed,
           "space came back once the get was done");
    g.db->vlog.resolve = stall.orig;
    for (i = 0; i < NK; i++)
        expect_get(g.db, NULL, i, i == g.i ? 1 : i % 2 ? 2 : 0);
    ck_assert_int_eq(lsm_close(g.db), 0);
}
END_TEST

/* ---- concurrent readers, writer and background GC ---- */

#define CK 300
struct shared {
    struct lsm_db *db;
    int stop;                   /* atomic */
    int errors;                 /* atomic */
    char msg[256];
};

/* A value read for key i must be some version of key i. */
static int plausible(int i, const char *v, size_t n)
{
    char want[2048];
    int ki, ver;
    if (sscanf(v, "v%d.%d:", &ki, &ver) != 2 || ki != i || ver < 1)
        return 0;
    return value_of(want, i, ver) == n && memcmp(want, v, n) == 0;
}

static void *reader_main(void *arg)
{
    struct shared *s = arg;
    uint64_t r = seed ^ (uint64_t)(uintptr_t)&r;
    while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&s->errors, __ATOMIC_RELAXED)) {
        const struct lsm_snapshot *snap = lsm_snapshot_create(s->db);
        struct lsm_read_options ro;
        struct lsm_iter *it;
        int count = 0, i;
        lsm_read_options_init(&ro);
        ro.snapshot = snap;
        it = lsm_iter_create(s->db, &ro);
        for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
            size_t kl, vl;
            const char *k = lsm_iter_key(it, &kl), *v = lsm_iter_value(it, &vl);
            char *gv = NULL;
            size_t gn = 0;
            i = atoi(k + 1);
            if (!plausible(i, v, vl) ||
                lsm_get(s->db, &ro, k, kl, &gv, &gn) != 0 || gn != vl ||
                memcmp(gv, v, vl) != 0) {
                snprintf(s->msg, sizeof s->msg, "snapshot view broken at key %d: %s", i,
                         lsm_last_error());
                __atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
            }
            lsm_free(gv);
            count++;
            if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
                break;
        }
        if (lsm_iter_status(it) != 0) {
            snprintf(s->msg, sizeof s->msg, "iterator: %s", lsm_last_error());
            __atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
        }
        lsm_iter_destroy(it);
        lsm_snapshot_release(s->db, snap);
        for (i = 0; i < 200; i++) {
            char k[16], *v = NULL;
            size_t n;
            int rc;
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            key_of(k, (int)((r >> 33) % CK));
            rc = lsm_get(s->db, NULL, k, strlen(k), &v, &n);
            if (rc != 0 && rc != LSM_ENOTFOUND) {
                snprintf(s->msg, sizeof s->msg, "get: %s", lsm_last_error());
                __atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
            } else if (rc == 0 && !plausible(atoi(k + 1), v, n)) {
                snprintf(s->msg, sizeof s->msg, "get: implausible value for %s", k);
                __atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
            }
            lsm_free(v);
        }
        (void)count;
    }
    return NULL;
}

START_TEST(test_gc_concurrent)
{
    struct lsm_options o;
    struct shared s;
    pthread_t th[2];
    int ver[CK], i, round, gen = 1;
    uint64_t r = seed;
    struct lsm_stats st;

    fprintf(stderr, "# test_gc_concurrent SEED=%" PRIu64 "\n", seed);
    opts(&o);
    o.vlog_gc_ratio = 0.3;
    o.bg_threads = 3;
    memset(&s, 0, sizeof s);
    s.db = open_db(&o);
    memset(ver, 0, sizeof ver);
    for (i = 0; i < CK; i++) {
        put(s.db, i, 1);
        ver[i] = 1;
    }
    for (i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &s);
    for (round = 0; round < 12 && !__atomic_load_n(&s.errors, __ATOMIC_RELAXED); round++) {
        for (i = 0; i < CK; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            if ((r >> 40) % 5 == 0) {
                del(s.db, i);
                ver[i] = 0;
            } else if ((r >> 40) % 5 < 4) {
                ver[i] = ++gen;
                put(s.db, i, ver[i]);
            }
        }
        if (round % 3 == 2)
            ck_assert_int_eq(lsm_compact_range(s.db, NULL, 0, NULL, 0), 0);
        if (round % 4 == 3)
            ck_assert_int_eq(lsm_vlog_gc(s.db, 1), 0);
    }
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    EXPECT(s.errors == 0, "%s", s.msg);
    for (i = 0; i < CK; i++)
        expect_get(s.db, NULL, i, ver[i]);
    st = stats(s.db);
    EXPECT(st.vlog_gc_runs > 0, "GC ran");
    ck_assert_int_eq(lsm_close(s.db), 0);
    s.db = open_db(&o);
    for (i = 0; i < CK; i++)
        expect_get(s.db, NULL, i, ver[i]);
    ck_assert_int_eq(lsm_close(s.db), 0);
}
END_TEST

/* Latest-state gets (no snapshot: they pin a super version, not a snapshot)
 * while a writer overwrites keys and another thread switches memtables,
 * compacts and collects the value log. Key i's version before a get (done[])
 * and after it (started[]) bound what the get may return; deleted keys stay
 * absent; the value must be exactly that version's bytes. */
#define SVK 200
struct sv_shared {
    struct lsm_db *db;
    int done[SVK], started[SVK];    /* atomic: versions written / begun */
    int stop, errors;               /* atomic */
    long gets;                      /* atomic */
    char msg[256];
};

static void sv_fail(struct sv_shared *s, const char *fmt, int i, int a, int b)
{
    if (__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED) == 1)
        snprintf(s->msg, sizeof s->msg, fmt, i, a, b, lsm_last_error());
}

static void *sv_reader(void *arg)
{
    struct sv_shared *s = arg;
    uint64_t r = seed ^ (uint64_t)(uintptr_t)&r;

    while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&s->errors, __ATOMIC_RELAXED)) {
        char k[16], pre[LSM_VALUE_PREFIX_MAX], want[2048];
        char *v = NULL;
        size_t n = 0, got = 0, full = 0, wn;
        int i, lo, hi, ki, ver, rc;

        r = r * 6364136223846793005ull + 1442695040888963407ull;
        i = (int)((r >> 33) % (SVK + SVK / 4));
        key_of(k, i);
        if (i >= SVK) {                          /* deleted before the readers */
            rc = lsm_get(s->db, NULL, k, strlen(k), &v, &n);
            if (rc != LSM_ENOTFOUND)
                sv_fail(s, "deleted key %d: rc %d (%d): %s", i, rc, 0);
            lsm_free(v);
            continue;
        }
        lo = __atomic_load_n(&s->done[i], __ATOMIC_ACQUIRE);
        if ((r >> 20) & 1) {
            rc = lsm_get(s->db, NULL, k, strlen(k), &v, &n);
            hi = __atomic_load_n(&s->started[i], __ATOMIC_ACQUIRE);
            if (rc != 0 || sscanf(v, "v%d.%d:", &ki, &ver) != 2 || ki != i) {
                sv_fail(s, "key %d: get rc %d, versions %d.. : %s", i, rc, lo);
            } else if (ver < lo || ver > hi) {
                sv_fail(s, "key %d: version %d outside [%d, ..]: %s", i, ver, lo);
            } else {
                wn = value_of(want, i, ver);
                if (wn != n || memcmp(want, v, n) != 0 || v[n] != '\0')
                    sv_fail(s, "key %d: bytes of version %d wrong (%d): %s", i, ver, (int)n);
            }
            lsm_free(v);
        } else {
            rc = lsm_get_prefix(s->db, NULL, k, strlen(k), pre, sizeof pre, &got, &full);
            hi = __atomic_load_n(&s->started[i], __ATOMIC_ACQUIRE);
            /* The prefix names the version ("v<i>.<ver>:"), the length must match it. */
            memset(want, 0, 64);
            memcpy(want, pre, got < 63 ? got : 63);
            if (rc != 0 || sscanf(want, "v%d.%d:", &ki, &ver) != 2 || ki != i ||
                ver < lo || ver > hi || value_of(want, i, ver) != full)
                sv_fail(s, "key %d: prefix rc %d, version bound %d: %s", i, rc, lo);
        }
        __atomic_add_fetch(&s->gets, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *sv_background(void *arg)
{
    struct sv_shared *s = arg;
    int n = 0;

    while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&s->errors, __ATOMIC_RELAXED)) {
        int rc;
        switch (n++ % 4) {
        case 0: rc = lsm_flush(s->db, 0); break;
        case 1: rc = lsm_vlog_gc(s->db, 1); break;
        case 2: rc = lsm_compact_range(s->db, NULL, 0, NULL, 0); break;
        default: rc = lsm_flush(s->db, 1); break;
        }
        if (rc != 0)
            sv_fail(s, "background op %d: rc %d (%d): %s", n % 4, rc, 0);
    }
    return NULL;
}

START_TEST(test_gets_across_super_versions)
{
    struct lsm_options o;
    struct sv_shared *s = zcalloc(sizeof *s);
    pthread_t th[3];
    int i, round;
    uint64_t r = seed;
    struct lsm_stats st;

    fprintf(stderr, "# test_gets_across_super_versions SEED=%" PRIu64 "\n", seed);
    opts(&o);
    o.vlog_gc_ratio = 0.2;
    o.write_buffer_size = 64 << 10;    /* memtable switches all the time */
    o.bg_threads = 3;
    s->db = open_db(&o);
    for (i = 0; i < SVK + SVK / 4; i++)
        put(s->db, i, 1);
    for (i = SVK; i < SVK + SVK / 4; i++)
        del(s->db, i);
    for (i = 0; i < SVK; i++)
        s->done[i] = s->started[i] = 1;
    for (i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, sv_reader, s);
    pthread_create(&th[2], NULL, sv_background, s);
    for (round = 0; round < 30 && !__atomic_load_n(&s->errors, __ATOMIC_RELAXED); round++)
        for (i = 0; i < SVK; i++) {
            int ver = s->done[i] + 1;
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            if ((r >> 40) % 3 == 0)
                continue;
            __atomic_store_n(&s->started[i], ver, __ATOMIC_RELEASE);
            put(s->db, i, ver);
            __atomic_store_n(&s->done[i], ver, __ATOMIC_RELEASE);
        }
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    EXPECT(s->errors == 0, "%s", s->msg);
    EXPECT(s->gets > 1000, "readers ran (%ld gets)", s->gets);
    for (i = 0; i < SVK; i++)
        expect_get(s->db, NULL, i, s->done[i]);
    st = stats(s->db);
    EXPECT(st.vlog_gc_runs > 0, "GC ran");
    fprintf(stderr, "# %ld gets, %" PRIu64 " GC runs\n", s->gets, st.vlog_gc_runs);
    ck_assert_int_eq(lsm_close(s->db), 0);
    zfree(s);
}
END_TEST

/* A flipped byte inside one separated value: that key is corruption naming
 * the segment and offset; the others still read. */
/* The highest-numbered file of dir ending in suffix, or 0. */
static uint64_t newest_file(const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t best = 0;
    EXPECT(d != NULL, "opendir %s", dir);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        uint64_t n;
        if (len > sl && strcmp(e->d_name + len - sl, suffix) == 0 &&
            sscanf(e->d_name, "%" SCNu64, &n) == 1 && n > best)
            best = n;
    }
    closedir(d);
    return best;
}

/* Appends to the newest WAL, as the writer would, a record putting a value
 * pointer p for key i (sequence 1000: after everything the tests write). */
static void append_wal_vptr(int i, const struct vlog_ptr *p)
{
    struct lsm_batch b;
    struct buf ptr = BUF_INIT;
    struct io_file *f = NULL;
    struct wal_writer *w;
    char k[16], path[4200];
    int64_t size;

    vlog_ptr_encode(p, &ptr);
    key_of(k, i);
    batch_init(&b);
    batch_put_vptr(&b, slice_make(k, strlen(k)), buf_slice(&ptr));
    batch_set_sequence(&b, 1000);
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".wal", dir, newest_file(".wal"));
    EXPECT(io_open_append_existing(io_env_posix(), path, &f) == 0, "open %s", path);
    size = io_file_size(f);
    EXPECT(size >= 0, "size of %s", path);
    w = wal_writer_create(f, (uint64_t)size);
    EXPECT(wal_writer_add(w, batch_contents(&b)) == 0 && wal_writer_sync(w) == 0, "append");
    EXPECT(wal_writer_close(w) == 0, "close the log");
    batch_free(&b);
    buf_free(&ptr);
}

/* A WAL record (valid crc) whose value pointer's offset + length wraps
 * around 2^64 points past the segment: replay stops before it, as for any
 * record ahead of the recovered value log, and the key keeps its value.
 * The sum once wrapped to a small number, the record was replayed, and
 * every read of the key failed. */
START_TEST(test_replay_pointer_wraps)
{
    struct lsm_options o;
    struct lsm_db *db;

    opts(&o);
    db = open_db(&o);
    put(db, 1, 2);                  /* 283 bytes: separated */
    EXPECT(lsm_close(db) == 0, "close: %s", lsm_last_error());

    struct vlog_ptr p = { .segment = newest_file(".vlog"), .offset = UINT64_MAX - 8,
                          .length = 64, .value_len = 40 };
    EXPECT(p.segment != 0, "no value-log segment");
    append_wal_vptr(1, &p);

    db = open_db(&o);
    expect_get(db, NULL, 1, 2);
    lsm_close(db);
}
END_TEST

/* Limits this process's address space to what it maps now plus extra
 * bytes (the test runs in a child of its own; restored by the caller).
 * 0 under AddressSanitizer, whose shadow memory needs the space. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)        /* clang's spelling */
#define TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)           /* gcc's */
#define TEST_UNDER_ASAN 1
#endif

static int limit_address_space(size_t extra, struct rlimit *old)
{
#if defined(TEST_UNDER_ASAN)
    (void)extra;
    (void)old;
    return 0;
#else
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%lu", &pages) != 1) {
        if (f)
            fclose(f);
        return 0;
    }
    fclose(f);
    struct rlimit rl;
    EXPECT(getrlimit(RLIMIT_AS, old) == 0, "getrlimit");
    rl = *old;
    rl.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
    return setrlimit(RLIMIT_AS, &rl) == 0;
#endif
}

/* After a crash, a WAL record whose pointer names 3 GiB of the segment
 * that was active: replay must not read, or allocate, more than the file
 * holds to judge it (an earlier version probed the entry and sized a 3 GiB
 * buffer: here the address space has 512 MiB to spare, so such an
 * allocation aborts the test). The record lies past every sync point, so
 * the replay stops there and key 3 keeps its value. */
START_TEST(test_replay_probe_bounded)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct rlimit old;
    pid_t pid;
    int status, limited;

    opts(&o);
    o.vlog_file_size = 4 << 20;
    pid = fork();
    EXPECT(pid >= 0, "fork");
    if (pid == 0) {                 /* writes, then dies without a close */
        db = open_db(&o);
        for (int i = 0; i < 20; i++)
            put(db, i, 1);
        EXPECT(lsm_flush_wal(db) == 0, "flush wal");
        _exit(0);
    }
    EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "writer child");
    struct vlog_ptr p = { .segment = newest_file(".vlog"), .offset = VLOG_FILE_HEADER_SIZE,
                          .length = (uint64_t)3 << 30, .value_len = 40 };
    EXPECT(p.segment != 0, "no value-log segment");
    append_wal_vptr(3, &p);

    limited = limit_address_space((size_t)512 << 20, &old);
    db = open_db(&o);
    if (limited)
        EXPECT(setrlimit(RLIMIT_AS, &old) == 0, "setrlimit");
    for (int i = 0; i < 20; i++)
        expect_get(db, NULL, i, 1);         /* key 3 keeps its value */
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* A power loss whose unsynced value-log pages reached the disk out of
 * order: a child writes 40 separated values into one segment, syncing
 * after the first 10 (after each when sync_all), and dies without a
 * close; the segment's fourth page is then zeroed, a hole with intact
 * entries after it. Returns what lsm_open says (*out set on 0). */
static int vlog_hole(int sync_all, struct lsm_db **out)
{
    struct lsm_options o;
    char path[4200];
    pid_t pid;
    int status;

    opts(&o);
    pid = fork();
    EXPECT(pid >= 0, "fork");
    if (pid == 0) {
        struct lsm_db *db = open_db(&o);
        for (int i = 0; i < 40; i++) {
            put(db, i, 1);
            if ((i == 9 || sync_all) && lsm_sync(db) != 0)
                _exit(1);
        }
        _exit(0);
    }
    EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "writer child");
    uint64_t seg = newest_file(".vlog");
    EXPECT(seg != 0, "no value-log segment");
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".vlog", dir, seg);
    static const char zeros[4096];
    int fd = open(path, O_WRONLY);
    EXPECT(fd >= 0 && pwrite(fd, zeros, sizeof zeros, 3 * 4096) == (ssize_t)sizeof zeros,
           "zero a page of %s", path);
    close(fd);
    return lsm_open(dir, &o, out);
}

START_TEST(test_vlog_hole_past_sync_points)
{
    struct lsm_db *db = NULL;
    int i, gap = 0, present = 0;

    EXPECT(vlog_hole(0, &db) == 0, "open: %s", lsm_last_error());
    for (i = 0; i < 10; i++)
        expect_get(db, NULL, i, 1);         /* synced */
    /* The replay stopped at the first record past the hole: a prefix. */
    for (i = 10; i < 40; i++) {
        char k[16], *v = NULL;
        size_t n = 0;
        struct lsm_read_options ro;
        lsm_read_options_init(&ro);
        key_of(k, i);
        int rc = lsm_get(db, &ro, k, strlen(k), &v, &n);
        if (rc == LSM_ENOTFOUND) {
            gap = 1;
        } else {
            EXPECT(rc == 0 && !gap, "key %d: %d after a lost one", i, rc);
            expect_get(db, NULL, i, 1);
            present++;
        }
        lsm_free(v);
    }
    EXPECT(gap && present > 0, "%d of the unsynced values replayed", present);
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

START_TEST(test_vlog_hole_inside_synced_is_corruption)
{
    struct lsm_db *db = NULL;
    int rc = vlog_hole(1, &db);
    EXPECT(rc == LSM_ECORRUPT && strstr(lsm_last_error(), ".vlog: offset ") != NULL &&
               strstr(lsm_last_error(), "sync made durable") != NULL,
           "open: %d %s", rc, lsm_last_error());
}
END_TEST

/* A pointer to another key's entry (as a bug or a damaged record could
 * leave it) is corruption for gets and iterators alike, never the other
 * key's value: reads check the key the entry holds. */
START_TEST(test_pointer_to_other_key)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct vlog_scanner *sc = NULL;
    struct vlog_ptr p = { 0 };
    struct slice k, stored;
    struct buf path = BUF_INIT;
    char want[16], *v = NULL;
    size_t n = 0;
    int flags, rc, found = 0;
    uint64_t off;
    uint32_t len;

    opts(&o);
    db = open_db(&o);
    put(db, 1, 2);                  /* both separated */
    put(db, 2, 1);
    EXPECT(lsm_close(db) == 0, "close: %s", lsm_last_error());

    /* Key 1's entry, from the segment itself. */
    key_of(want, 1);
    p.segment = newest_file(".vlog");
    db_file_path(&path, dir, DB_FILE_VLOG, p.segment);
    EXPECT(vlog_scan_open(io_env_posix(), buf_cstr(&path), p.segment, UINT64_MAX, &sc) == 0,
           "scan %s", buf_cstr(&path));
    while (!found && vlog_scan_next(sc, &k, &stored, &flags, &off, &len) == 1)
        if (slice_compare(k, slice_make(want, strlen(want))) == 0) {
            struct buf val = BUF_INIT;
            EXPECT(vlog_value_decode(stored, flags, &val) == 0, "decode");
            p.offset = off;
            p.length = len;
            p.value_len = (uint32_t)val.len;
            p.prefix_len = val.len < VLOG_PREFIX_MAX ? (uint32_t)val.len : VLOG_PREFIX_MAX;
            memcpy(p.prefix, val.data, p.prefix_len);
            buf_free(&val);
            found = 1;
        }
    vlog_scan_close(sc);
    buf_free(&path);
    EXPECT(found, "key 1's entry not in segment %" PRIu64, p.segment);
    append_wal_vptr(2, &p);         /* key 2 -> key 1's entry */

    db = open_db(&o);
    expect_get(db, NULL, 1, 2);
    key_of(want, 2);
    rc = lsm_get(db, NULL, want, strlen(want), &v, &n);
    EXPECT(rc == LSM_ECORRUPT, "get of key 2: rc %d, %zu bytes", rc, n);
    EXPECT(strstr(lsm_last_error(), "another key") != NULL, "error: %s", lsm_last_error());
    lsm_free(v);

    struct lsm_iter *it = lsm_iter_create(db, NULL);
    size_t ivn = 1;
    EXPECT(it != NULL, "iterator");
    lsm_iter_seek(it, want, strlen(want));
    EXPECT(lsm_iter_valid(it), "key 2 is listed");
    EXPECT(lsm_iter_value(it, &ivn) == NULL && ivn == 0, "iterator gave key 2 a value");
    EXPECT(!lsm_iter_valid(it) && lsm_iter_status(it) == LSM_ECORRUPT,
           "iterator value of key 2: valid %d, status %d", lsm_iter_valid(it),
           lsm_iter_status(it));
    lsm_iter_destroy(it);
    lsm_close(db);
}
END_TEST

START_TEST(test_corrupt_entry)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_iter *it;
    char k[16], path[4200], *v = NULL;
    size_t n;
    int i, rc, found = 0;
    FILE *f;
    long off;

    opts(&o);
    db = open_db(&o);
    for (i = 0; i < 20; i++) {
        char val[2048];
        size_t len = 1000;
        key_of(k, i);
        memset(val, 'a' + i, len);
        ck_assert_int_eq(lsm_put(db, NULL, k, strlen(k), val, len), 0);
    }
    ck_assert_int_eq(lsm_close(db), 0);
    /* Entry i starts at 16 + i * (16 + 7 + 1000) = 5131 for key 5: flip one
     * of its value bytes. */
    snprintf(path, sizeof path, "ls %s/*.vlog | head -1", dir);
    f = popen(path, "r");
    ck_assert(fgets(path, sizeof path, f) != NULL);
    pclose(f);
    path[strcspn(path, "\n")] = 0;
    off = 16 + 5 * (16 + 7 + 1000) + 16 + 7 + 500;
    f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, off, SEEK_SET);
    fputc('Z', f);
    fclose(f);

    db = open_db(&o);
    key_of(k, 5);
    rc = lsm_get(db, NULL, k, strlen(k), &v, &n);
    EXPECT(rc == LSM_ECORRUPT, "corrupt value returned as data (rc %d)", rc);
    EXPECT(strstr(lsm_last_error(), ".vlog") && strstr(lsm_last_error(), "offset 5131"),
           "message names file and offset: %s", lsm_last_error());
    for (i = 0; i < 20; i++) {
        if (i == 5)
            continue;
        key_of(k, i);
        ck_assert_int_eq(lsm_get(db, NULL, k, strlen(k), &v, &n), 0);
        ck_assert(n == 1000 && v[0] == 'a' + i);
        lsm_free(v);
    }
    /* Keys alone never read the value log; the damaged value is reported
     * (NULL, iterator invalid, status) when it is asked for. */
    it = lsm_iter_create(db, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it))
        found++;
    EXPECT(found == 20 && lsm_iter_status(it) == 0, "key scan: %d keys", found);
    found = 0;
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t vl, pl, full;
        const char *pv = lsm_iter_value_prefix(it, &pl, &full);
        EXPECT(pv != NULL && pl == 16 && full == 1000 && pv[0] == 'a' + found,
               "prefix without a read");
        if (lsm_iter_value(it, &vl) == NULL)
            break;
        found++;
    }
    EXPECT(found == 5 && !lsm_iter_valid(it) && lsm_iter_status(it) == LSM_ECORRUPT,
           "value scan stops with corruption at key 5 (%d)", found);
    EXPECT(strstr(lsm_last_error(), "offset 5131") != NULL, "iterator error: %s",
           lsm_last_error());
    lsm_iter_destroy(it);
    /* lsm_get_prefix: the header bytes of a separated value without a read,
     * even of the damaged one. */
    {
        char pb[16];
        size_t got, full;
        key_of(k, 5);
        ck_assert_int_eq(lsm_get_prefix(db, NULL, k, strlen(k), pb, 10, &got, &full), 0);
        ck_assert(got == 10 && full == 1000 && pb[0] == 'a' + 5);
        ck_assert_int_eq(lsm_get_prefix(db, NULL, "nope", 4, pb, 10, &got, &full),
                         LSM_ENOTFOUND);
    }
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* ---- compaction filters on separated values ---- */

static int plain_calls, ex_calls, ex_prefix_calls;

/* Drops keys whose value starts with "DROP" (needs the whole value). */
static int plain_filter(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    (void)arg;
    (void)key;
    (void)klen;
    __atomic_add_fetch(&plain_calls, 1, __ATOMIC_RELAXED);
    return vlen >= 4 && memcmp(val, "DROP", 4) == 0 && vlen > 300;
}

/* Decides from the first bytes only: DROP -> drop, REPL -> replace by "small". */
static int ex_filter(void *arg, const struct lsm_filter_entry *e, const char **nv, size_t *nl)
{
    (void)arg;
    __atomic_add_fetch(&ex_calls, 1, __ATOMIC_RELAXED);
    if (e->value_is_prefix)
        __atomic_add_fetch(&ex_prefix_calls, 1, __ATOMIC_RELAXED);
    if (e->vlen >= 4 && memcmp(e->value, "DROP", 4) == 0)
        return LSM_FILTER_DROP;
    if (e->vlen >= 4 && memcmp(e->value, "REPL", 4) == 0) {
        *nv = "small";
        *nl = 5;
        return LSM_FILTER_REPLACE;
    }
    return LSM_FILTER_KEEP;
}

START_TEST(test_compaction_filters)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_stats st;
    char big[2000], k[16], *v;
    size_t n;
    int i;

    opts(&o);
    o.vlog_gc_ratio = 2.0;
    if (_i == 0)
        o.compaction_filter = plain_filter;
    else
        o.compaction_filter_ex = ex_filter;
    db = open_db(&o);
    for (i = 0; i < 90; i++) {
        memset(big, 'x', sizeof big);
        memcpy(big, i % 3 == 0 ? "DROP" : i % 3 == 1 ? "REPL" : "KEEP", 4);
        key_of(k, i);
        ck_assert_int_eq(lsm_put(db, NULL, k, strlen(k), big, sizeof big), 0);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    for (i = 0; i < 90; i++) {
        int rc;
        key_of(k, i);
        rc = lsm_get(db, NULL, k, strlen(k), &v, &n);
        if (i % 3 == 0) {
            EXPECT(rc == LSM_ENOTFOUND, "key %d: filtered value still there", i);
        } else if (i % 3 == 1 && _i == 1) {
            EXPECT(rc == 0 && n == 5 && memcmp(v, "small", 5) == 0, "key %d: replaced", i);
        } else {
            EXPECT(rc == 0 && n == sizeof big && memcmp(v, i % 3 == 1 ? "REPL" : "KEEP", 4) == 0,
                   "key %d: kept", i);
        }
        if (rc == 0)
            lsm_free(v);
    }
    st = stats(db);
    /* Dropped (and replaced) separated values are garbage now. */
    EXPECT(st.vlog_discard_bytes == (uint64_t)(_i ? 60 : 30) * (16 + 7 + sizeof big),
           "discard %" PRIu64, st.vlog_discard_bytes);
    if (_i == 1)
        EXPECT(ex_prefix_calls > 0 && ex_prefix_calls == ex_calls, "ex filter saw prefixes only");
    else
        EXPECT(plain_calls >= 90, "plain filter saw every value");
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* An I/O error in the value log fails the write and becomes the sticky
 * error; after lsm_resume the next write rolls to a new segment and every
 * acknowledged value is still there, also after a reopen. */
/* The machine of env crashes (every unsynced byte is gone); db is closed
 * and opened again, and keys 0..n-1 must hold version 1. */
static struct lsm_db *crash_and_reopen(struct io_env *env, struct lsm_db *db,
                                       const struct lsm_options *o, int n)
{
    io_env_fault_crash(env);
    lsm_close(db);                       /* fails: the machine is down */
    io_env_fault_reset(env);
    db = open_db(o);
    for (int i = 0; i < n; i++)
        expect_get(db, NULL, i, 1);
    return db;
}

struct prepared_seg { int64_t allocated; uint64_t number; const char *dir; };

/* 1 when the file is a segment header and nothing else: no entry, at
 * most zeros (a mapped segment's file spans its reserved space). */
static int header_only(const char *path)
{
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t got, i, at = 0;
    int only = 1;
    if (f == NULL)
        return 0;
    while (only && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (i = 0; i < got && only; i++)
            only = at + i < VLOG_FILE_HEADER_SIZE || chunk[i] == 0;
        at += got;
    }
    fclose(f);
    return only && at >= VLOG_FILE_HEADER_SIZE;
}

/* The newest .vlog file holding only its header (a prepared segment). */
static int prepared_fn(const char *name, void *arg)
{
    struct prepared_seg *ps = arg;
    char path[4200];
    unsigned long long num;
    if (sscanf(name, "%llu.vlog", &num) != 1 || strstr(name, ".vlog") == NULL)
        return 0;
    snprintf(path, sizeof path, "%s/%s", ps->dir, name);
    if (header_only(path) && num >= ps->number) {
        ps->number = num;
        ps->allocated = file_bytes(path, 1);
    }
    return 0;
}

/* Zero bytes at the end of each .vlog and .wal file of dir (after its
 * last non-zero byte); the most of any file in *worst. */
struct zero_tails { uint64_t worst; int files; };

static int zero_tail_fn(const char *name, void *arg)
{
    struct zero_tails *zt = arg;
    char path[4200], chunk[4096];
    size_t len = strlen(name);
    uint64_t off = 0, last = 0;
    size_t got;
    FILE *f;
    if (!(len > 5 && strcmp(name + len - 5, ".vlog") == 0) &&
        !(len > 4 && strcmp(name + len - 4, ".wal") == 0))
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = fopen(path, "rb")) == NULL)
        return 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < got; i++)
            if (chunk[i] != 0)
                last = off + i + 1;
        off += got;
    }
    fclose(f);
    zt->files++;
    if (off - last > zt->worst)
        zt->worst = off - last;
    return 0;
}

/* A process killed while writing through mapped logs (the default) leaves
 * its WAL and value-log segments with the space allocated ahead of their
 * content (zeros). The next open recovers every write (they were in the
 * page cache), and gives that space back: no segment keeps a zero tail,
 * and a prepared segment never used is gone. */
START_TEST(test_mapped_logs_after_kill)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct zero_tails zt = { 0, 0 };
    int i, st = 0;
    pid_t pid;

    opts(&o);
    o.vlog_file_size = 1 << 20;
    o.write_buffer_size = 4 << 20;
    pid = fork();
    EXPECT(pid >= 0, "fork");
    if (pid == 0) {
        db = open_db(&o);
        for (i = 0; i < 1500; i++)
            put(db, i, 1);                 /* ~1.4 MiB: past half the second segment */
        usleep(200000);                    /* the pool prepares the next segment */
        kill(getpid(), SIGKILL);
        _exit(3);
    }
    EXPECT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st), "child did not die by the signal");
    io_list_dir(io_env_posix(), dir, zero_tail_fn, &zt);
    EXPECT(zt.worst >= (64 << 10), "no log was left with its allocated space (%" PRIu64
           " zero bytes at most): not mapped?", zt.worst);
    db = open_db(&o);
    for (i = 0; i < 1500; i++)
        expect_get(db, NULL, i, 1);
    memset(&zt, 0, sizeof zt);
    io_list_dir(io_env_posix(), dir, zero_tail_fn, &zt);
    /* The recovered WALs are gone (flushed); the new WAL is empty. A
     * segment's last entry may end in zeros of its own value (< 2 KiB). */
    EXPECT(zt.worst < 2048, "a log still ends in %" PRIu64 " zero bytes", zt.worst);
    for (i = 1500; i < 1600; i++)
        put(db, i, 2);
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    for (i = 0; i < 1600; i++)
        expect_get(db, NULL, i, i < 1500 ? 1 : 2);
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* The segment prepared ahead reserves its whole size while the disk has
 * room to spare (8 times that), and nothing when space is tight (a fault
 * env whose ENOSPC budget is 400 KB), so that flushes keep that space. */
START_TEST(test_prepared_reservation)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    struct lsm_options o;
    struct lsm_db *db;
    struct prepared_seg ps = { -1, 0, dir };
    int i, tight = _i;

    opts(&o);
    o.env = env;
    db = open_db(&o);
    if (tight)
        io_env_fault_set(env, IO_FAULT_ENOSPC, 400 << 10, ".vlog");
    for (i = 0; i < 160; i++)
        put(db, i, 1);                 /* ~110 KB of values: past half the second segment */
    EXPECT(lsm_sync(db) == 0, "sync: %s", lsm_last_error());
    /* The pool prepares it: creates the file, writes its header, then
     * reserves the space, so a reservation is waited for (up to 2 s). */
    for (i = 0; i < 200; i++) {
        io_list_dir(io_env_posix(), dir, prepared_fn, &ps);
        if (ps.number != 0 && (tight || ps.allocated >= 64 << 10))
            break;
        usleep(10000);
    }
    EXPECT(ps.number != 0, "no segment was prepared");
    if (tight)
        EXPECT(ps.allocated <= 8192, "%" PRId64 " bytes reserved on a tight disk", ps.allocated);
    else
        EXPECT(ps.allocated >= 64 << 10, "only %" PRId64 " bytes reserved", ps.allocated);
    for (i = 0; i < 160; i++)
        expect_get(db, NULL, i, 1);
    if (tight) {
        ck_assert_int_eq(lsm_close(db), 0);
    } else {
        /* A crash leaves the prepared segment: the next open drops it. */
        char path[4200];
        db = crash_and_reopen(env, db, &o, 160);
        snprintf(path, sizeof path, "%s/%06" PRIu64 ".vlog", dir, ps.number);
        EXPECT(file_bytes(path, 0) < 0, "the unused segment %s is still there", path);
        ck_assert_int_eq(lsm_close(db), 0);
    }
    io_env_fault_destroy(env);
}
END_TEST

/* A flush installs a table whose pointers name value-log bytes that no
 * sync made durable (sync=0 writes, no lsm_sync, no roll): the flush
 * fsyncs them first, so after a crash every key of the table is readable
 * (no dangling pointer). */
START_TEST(test_flush_syncs_vlog_first)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    struct lsm_options o;
    struct lsm_db *db;
    int i;

    opts(&o);
    o.env = env;
    o.vlog_file_size = 4 << 20;          /* no roll: no seal fsyncs it */
    db = open_db(&o);
    for (i = 0; i < 200; i++)
        put(db, i, 1);
    EXPECT(lsm_flush(db, 1) == 0, "flush: %s", lsm_last_error());
    EXPECT(stats(db).vlog_segments == 1, "%" PRIu64 " segments", stats(db).vlog_segments);
    db = crash_and_reopen(env, db, &o, 200);
    ck_assert_int_eq(lsm_close(db), 0);
    io_env_fault_destroy(env);
}
END_TEST

/* lsm_sync fsyncs the value log only when something was appended to it
 * since it was last made durable: a clean fdatasync still costs a device
 * flush. The fault env's EIO on ".vlog" shows which syncs touch it. */
START_TEST(test_sync_skips_clean_vlog)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_write_options wo = { 0 };        /* not sync: lsm_sync does it */
    char big[1500], k[16];
    int rc;

    opts(&o);
    o.env = env;
    o.vlog_file_size = 4 << 20;                 /* no roll, no preparation */
    db = open_db(&o);
    memset(big, 'q', sizeof big);
    key_of(k, 1);
    ck_assert_int_eq(lsm_put(db, &wo, k, strlen(k), big, sizeof big), 0);
    EXPECT(lsm_sync(db) == 0, "sync: %s", lsm_last_error());
    /* Inline values only since: the vlog is not fsynced again. */
    io_env_fault_set(env, IO_FAULT_EIO, 0, ".vlog");
    key_of(k, 2);
    ck_assert_int_eq(lsm_put(db, &wo, k, strlen(k), "small", 5), 0);
    rc = lsm_sync(db);
    EXPECT(rc == 0, "sync with a clean vlog touched it: %d %s", rc, lsm_last_error());
    rc = lsm_sync(db);
    EXPECT(rc == 0, "an empty sync touched it: %d %s", rc, lsm_last_error());
    /* A separated value makes it dirty: the next sync fsyncs it (and fails). */
    io_env_fault_reset(env);
    key_of(k, 3);
    ck_assert_int_eq(lsm_put(db, &wo, k, strlen(k), big, sizeof big), 0);
    ck_assert_int_eq(lsm_flush_wal(db), 0);
    io_env_fault_set(env, IO_FAULT_EIO, 0, ".vlog");
    rc = lsm_sync(db);
    EXPECT(rc == LSM_EIO, "sync after a separated value: %d %s", rc, lsm_last_error());
    EXPECT(strstr(lsm_last_error(), "value log") != NULL, "%s", lsm_last_error());
    io_env_fault_reset(env);
    ck_assert_int_eq(lsm_resume(db), 0);
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    key_of(k, 2);
    char *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(lsm_get(db, NULL, k, strlen(k), &v, &n), 0);
    ck_assert(n == 5 && memcmp(v, "small", 5) == 0);
    lsm_free(v);
    ck_assert_int_eq(lsm_close(db), 0);
    io_env_fault_destroy(env);
}
END_TEST

START_TEST(test_vlog_io_error)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    struct lsm_options o;
    struct lsm_db *db;
    char big[1500], k[16];
    int i, rc;

    opts(&o);
    o.env = env;
    db = open_db(&o);
    for (i = 0; i < 50; i++)
        put(db, i, 1);
    io_env_fault_set(env, _i ? IO_FAULT_ENOSPC : IO_FAULT_EIO, 0, ".vlog");
    memset(big, 'q', sizeof big);
    key_of(k, 50);
    rc = lsm_put(db, NULL, k, strlen(k), big, sizeof big);
    EXPECT(rc == (_i ? LSM_ENOSPC : LSM_EIO), "vlog failure reaches the caller (%d: %s)", rc,
           lsm_last_error());
    EXPECT(strstr(lsm_last_error(), ".vlog") != NULL, "message names the segment: %s",
           lsm_last_error());
    EXPECT(lsm_bg_error(db) != 0, "sticky error");
    EXPECT(lsm_put(db, NULL, "small", 5, "v", 1) != 0, "writes refused while sticky");
    io_env_fault_reset(env);
    for (i = 0; i < 50; i++)
        expect_get(db, NULL, i, 1);              /* reads go on */
    ck_assert_int_eq(lsm_resume(db), 0);
    for (i = 50; i < 100; i++)
        put(db, i, 2);
    for (i = 0; i < 100; i++)
        expect_get(db, NULL, i, i < 50 ? 1 : 2);
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    for (i = 0; i < 100; i++)
        expect_get(db, NULL, i, i < 50 ? 1 : 2);
    ck_assert_int_eq(lsm_close(db), 0);
    io_env_fault_destroy(env);
}
END_TEST

/* lsm_batch_patch: the first bytes of a value change, the rest and the
 * length stay; a separated value is neither read nor rewritten (the new
 * bytes live in its pointer). _i = 0: values separated, 1: all inline. */
static void expect_value(struct lsm_db *db, const struct lsm_snapshot *snap, const char *k,
                         const char *want, size_t wn)
{
    struct lsm_read_options ro;
    char *v = NULL;
    size_t n = 0;
    int rc;

    lsm_read_options_init(&ro);
    ro.snapshot = snap;
    rc = lsm_get(db, &ro, k, strlen(k), &v, &n);
    if (want == NULL) {
        EXPECT(rc == LSM_ENOTFOUND, "%s: expected absent, rc %d", k, rc);
        return;
    }
    EXPECT(rc == 0, "%s: get rc %d (%s)", k, rc, lsm_last_error());
    EXPECT(n == wn && memcmp(v, want, wn) == 0, "%s: value differs (%zu bytes, want %zu): "
           "%.8s", k, n, wn, v);
    lsm_free(v);
}

static void patch1(struct lsm_db *db, const char *k, const char *data)
{
    struct lsm_batch *b = lsm_batch_create();
    ck_assert_int_eq(lsm_batch_patch(b, k, strlen(k), data, strlen(data)), 0);
    EXPECT(lsm_write(db, NULL, b) == 0, "patch %s: %s", k, lsm_last_error());
    lsm_batch_destroy(b);
}

START_TEST(test_patch_values)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_batch *b;
    struct lsm_stats st0, st1;
    const struct lsm_snapshot *snap;
    struct lsm_iter *it;
    char big[1000], orig[1000], want[1000], head[16];
    size_t got = 0, full = 0;
    int pass;

    opts(&o);
    o.vlog_gc_ratio = 2.0;
    if (_i == 1)
        o.value_separation_threshold = 0;
    db = open_db(&o);
    for (size_t j = 0; j < sizeof big; j++)
        big[j] = (char)('a' + j % 26);
    memcpy(orig, big, sizeof big);
    ck_assert_int_eq(lsm_put(db, NULL, "big", 3, big, sizeof big), 0);
    ck_assert_int_eq(lsm_put(db, NULL, "abc", 3, "abc", 3), 0);
    ck_assert_int_eq(lsm_put(db, NULL, "gone", 4, "xyz", 3), 0);
    ck_assert_int_eq(lsm_delete(db, NULL, "gone", 4), 0);
    snap = lsm_snapshot_create(db);
    st0 = stats(db);

    patch1(db, "big", "HEAD");
    patch1(db, "big", "HX");                 /* on top of the first patch */
    patch1(db, "abc", "ABCDEFG");            /* cut to the value's 3 bytes */
    patch1(db, "gone", "Z");                 /* deleted: stays absent */
    patch1(db, "never", "Z");                /* absent: stays absent */
    b = lsm_batch_create();
    ck_assert_int_eq(lsm_batch_patch(b, "big", 3, "x", 0), LSM_EINVAL);
    ck_assert_int_eq(lsm_batch_patch(b, "big", 3, "0123456789abcdefg", 17), LSM_EINVAL);
    /* A patch after a write of the same key in one batch applies to it. */
    lsm_batch_put(b, "pair", 4, big, sizeof big);
    ck_assert_int_eq(lsm_batch_patch(b, "pair", 4, "Q", 1), 0);
    lsm_batch_put(b, "small", 5, "hello", 5);
    ck_assert_int_eq(lsm_batch_patch(b, "small", 5, "J", 1), 0);
    lsm_batch_delete(b, "del", 3);
    ck_assert_int_eq(lsm_batch_patch(b, "del", 3, "J", 1), 0);
    ck_assert_int_eq(lsm_batch_count(b), 6);   /* 3 of them go: patched in place */
    EXPECT(lsm_write(db, NULL, b) == 0, "batch: %s", lsm_last_error());
    lsm_batch_destroy(b);
    st1 = stats(db);
    if (_i == 0)    /* only "pair" reached the value log, nothing was read */
        EXPECT(st1.vlog_bytes == st0.vlog_bytes + 16 + 4 + sizeof big,
               "vlog %" PRIu64 " -> %" PRIu64, st0.vlog_bytes, st1.vlog_bytes);

    for (pass = 0; pass < 3; pass++) {
        memcpy(want, orig, sizeof orig);
        memcpy(want, "HXAD", 4);
        expect_value(db, NULL, "big", want, sizeof big);
        expect_value(db, snap, "big", big, sizeof big);     /* the snapshot's view */
        expect_value(db, NULL, "abc", "ABC", 3);
        expect_value(db, NULL, "gone", NULL, 0);
        expect_value(db, NULL, "never", NULL, 0);
        expect_value(db, NULL, "small", "Jello", 5);
        expect_value(db, NULL, "del", NULL, 0);
        memcpy(want, orig, sizeof orig);
        want[0] = 'Q';
        expect_value(db, NULL, "pair", want, sizeof big);
        ck_assert_int_eq(lsm_get_prefix(db, NULL, "big", 3, head, sizeof head, &got, &full), 0);
        EXPECT(got == sizeof head && full == sizeof big && memcmp(head, "HXADefghijklmnop", 16) == 0,
               "prefix %.16s", head);
        /* Iterators see the patched bytes too (the value is read lazily). */
        it = lsm_iter_create(db, NULL);
        lsm_iter_seek(it, "big", 3);
        EXPECT(lsm_iter_valid(it), "iterator at big");
        {
            size_t vn = 0;
            const char *vv = lsm_iter_value(it, &vn);
            EXPECT(vv != NULL && vn == sizeof big && memcmp(vv, "HXADefgh", 8) == 0,
                   "iterator value");
        }
        lsm_iter_destroy(it);
        /* Then the same from tables, and after a reopen (WAL replay). */
        if (pass == 0) {
            ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
        } else if (pass == 1) {
            lsm_snapshot_release(db, snap);
            ck_assert_int_eq(lsm_close(db), 0);
            db = open_db(&o);
            snap = lsm_snapshot_create(db);
            memcpy(big, "HXAD", 4);          /* no older view after a reopen */
        }
    }
    lsm_snapshot_release(db, snap);
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* Patched separated values through flush, compaction and GC: a patch is no
 * garbage (the entry is still the key's), GC moves the entry and keeps the
 * patched bytes, and the old segments go. */
START_TEST(test_patch_gc)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_stats st;
    char v[2048], k[16];
    uint64_t want = 0;
    int i, round;

    opts(&o);
    o.vlog_gc_ratio = 2.0;          /* GC only when asked */
    db = open_db(&o);
    for (i = 0; i < NK; i++)
        put(db, i, 1);
    ck_assert_int_eq(lsm_flush(db, 1), 0);
    for (round = 0; round < 3; round++)     /* versions sharing one entry */
        for (i = 0; i < NK; i++) {
            key_of(k, i);
            patch1(db, k, round == 2 ? "PP" : "pp");
        }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    st = stats(db);
    EXPECT(st.vlog_discard_bytes == 0, "patches counted as garbage: %" PRIu64,
           st.vlog_discard_bytes);
    /* Now make half of it garbage, and collect. */
    for (i = 0; i < NK; i += 2) {
        size_t n = value_of(v, i, 1);
        if (n >= o.value_separation_threshold)
            want += 16 + 7 + n;
        del(db, i);
    }
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    st = stats(db);
    EXPECT(st.vlog_discard_bytes == want, "discard %" PRIu64 ", want %" PRIu64,
           st.vlog_discard_bytes, want);
    ck_assert_int_eq(lsm_close(db), 0);
    o.vlog_gc_ratio = 0.3;          /* about half of each segment is garbage */
    db = open_db(&o);
    ck_assert_int_eq(lsm_vlog_gc(db, 1), 0);
    st = stats(db);
    EXPECT(st.vlog_gc_bytes_rewritten > 0, "GC moved the live entries");
    /* The older (pre-GC) versions go with a compaction; then the segments. */
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_vlog_gc(db, 1), 0);
    st = stats(db);
    EXPECT(st.vlog_gc_bytes_reclaimed > 0, "GC removed segments");
    for (round = 0; round < 2; round++) {
        for (i = 0; i < NK; i++) {
            size_t n = value_of(v, i, 1);
            key_of(k, i);
            memcpy(v, "PP", 2);
            expect_value(db, NULL, k, i % 2 ? v : NULL, n);
        }
        ck_assert_int_eq(lsm_close(db), 0);
        db = open_db(&o);
    }
    ck_assert_int_eq(lsm_close(db), 0);
}
END_TEST

/* The value cache: a value read twice is cached (the doorkeeper lets the
 * second read in) and the third read hits; a hit takes the prefix of the
 * pointer it came through (a patch), a new write of the key is a new
 * entry, a value above 1/32 of the cache is never cached, GC's rewrite is
 * read at its new place, and capacity 0 caches nothing. */
START_TEST(test_value_cache)
{
    struct lsm_options o;
    struct lsm_db *db;
    char v[2000], big[40000], want[2000];
    opts(&o);
    o.vlog_gc_ratio = 0.3;
    o.value_cache_size = _i ? 0 : 1 << 20;
    db = open_db(&o);
    for (size_t j = 0; j < sizeof v; j++)
        v[j] = (char)('a' + j % 23);
    memset(big, 'B', sizeof big);
    ck_assert_int_eq(lsm_put(db, NULL, "k", 1, v, sizeof v), 0);
    ck_assert_int_eq(lsm_put(db, NULL, "big", 3, big, sizeof big), 0);
    for (int r = 0; r < 3; r++) {
        expect_value(db, NULL, "k", v, sizeof v);
        expect_value(db, NULL, "big", big, sizeof big);
    }
    struct lsm_stats st = stats(db);
    if (_i == 0) {
        /* k: miss, miss (admitted), hit; big: three misses, never cached */
        EXPECT(st.value_cache_hits == 1 && st.value_cache_misses == 5,
               "hits %" PRIu64 " misses %" PRIu64, st.value_cache_hits, st.value_cache_misses);
        EXPECT(st.value_cache_capacity == 1 << 20, "capacity %" PRIu64, st.value_cache_capacity);
        EXPECT(st.value_cache_usage >= sizeof v && st.value_cache_usage < sizeof big,
               "usage %" PRIu64, st.value_cache_usage);
    } else {
        EXPECT(st.value_cache_hits == 0 && st.value_cache_misses == 0 &&
               st.value_cache_capacity == 0, "a cache of size 0 was used");
    }
    uint64_t reads = st.vlog_bytes_read;

    /* A patch: the cached entry is served with the new pointer's prefix. */
    patch1(db, "k", "PATCHED");
    memcpy(want, v, sizeof v);
    memcpy(want, "PATCHED", 7);
    expect_value(db, NULL, "k", want, sizeof want);
    st = stats(db);
    if (_i == 0)
        EXPECT(st.value_cache_hits == 2 && st.vlog_bytes_read == reads,
               "patched read: hits %" PRIu64 ", vlog bytes read %" PRIu64 " -> %" PRIu64,
               st.value_cache_hits, reads, st.vlog_bytes_read);

    /* A new value of the key: its own entry, read from the log. */
    v[1000] = '#';
    ck_assert_int_eq(lsm_put(db, NULL, "k", 1, v, sizeof v), 0);
    expect_value(db, NULL, "k", v, sizeof v);
    expect_value(db, NULL, "k", v, sizeof v);
    expect_value(db, NULL, "k", v, sizeof v);

    /* GC moves the entry (its segment is mostly garbage): read at the new
     * place, same bytes. */
    uint64_t moved = stats(db).vlog_gc_bytes_rewritten;
    for (int j = 0; j < 60; j++)
        ck_assert_int_eq(lsm_put(db, NULL, "churn", 5, big, 1000 + (size_t)j), 0);
    ck_assert_int_eq(lsm_compact_range(db, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(lsm_vlog_gc(db, 1), 0);
    /* (a GC in the pool may have been first, and may still be running) */
    for (int w = 0; w < 500 && stats(db).vlog_gc_bytes_rewritten == moved; w++)
        usleep(10000);
    EXPECT(stats(db).vlog_gc_bytes_rewritten > moved, "GC rewrote nothing");
    for (int r = 0; r < 3; r++)
        expect_value(db, NULL, "k", v, sizeof v);
    lsm_close(db);
}
END_TEST

/* The value cache misses of one read of k (which must give v). */
static uint64_t read_misses(struct lsm_db *db, const char *k, const char *v, size_t n)
{
    uint64_t before = stats(db).value_cache_misses;
    expect_value(db, NULL, k, v, n);
    return stats(db).value_cache_misses - before;
}

/* A large value (64 KiB or more) that replaces one read lately (the cache
 * holds it, or the doorkeeper saw its first read) is cached at its new
 * place by the write: a read-modify-write's next read hits, and the old
 * place's entry is dropped. A blind rewrite and a smaller value are not
 * cached by the write; with no cache nothing is. */
START_TEST(test_value_cache_rewrite)
{
    struct lsm_options o;
    struct lsm_db *db;
    static char v[100000], bmv[100000], small[2000];
    opts(&o);
    o.vlog_file_size = 1 << 20;
    o.vlog_gc_ratio = 2.0;
    o.value_cache_size = _i ? 0 : 8 << 20;
    db = open_db(&o);
    memset(v, 'a', sizeof v);
    ck_assert_int_eq(lsm_put(db, NULL, "bm", 2, v, sizeof v), 0);
    expect_value(db, NULL, "bm", v, sizeof v);          /* miss: first read */
    struct lsm_stats st = stats(db);
    uint64_t hits = st.value_cache_hits, misses = st.value_cache_misses;
    uint64_t reads = st.vlog_bytes_read;
    for (int r = 0; r < 3; r++) {                       /* read, modify, write */
        v[1000 * r + 7] = (char)('b' + r);
        ck_assert_int_eq(lsm_put(db, NULL, "bm", 2, v, sizeof v), 0);
        expect_value(db, NULL, "bm", v, sizeof v);
    }
    memcpy(bmv, v, sizeof v);
    st = stats(db);
    if (_i == 0) {
        EXPECT(st.value_cache_misses == misses && st.vlog_bytes_read == reads,
               "rewritten value read from the log: misses %" PRIu64 " -> %" PRIu64
               ", bytes read %" PRIu64 " -> %" PRIu64, misses, st.value_cache_misses, reads,
               st.vlog_bytes_read);
        EXPECT(st.value_cache_hits == hits + 3, "hits %" PRIu64 " -> %" PRIu64
               " (one per read: the write's check counts none)", hits, st.value_cache_hits);
        EXPECT(st.value_cache_usage < 2 * sizeof v,
               "the replaced entries stay cached: usage %" PRIu64, st.value_cache_usage);
    } else {
        EXPECT(st.value_cache_hits == 0 && st.value_cache_usage == 0, "a cache of size 0 was used");
    }

    /* Written twice, never read: the second write is not cached. */
    ck_assert_int_eq(lsm_put(db, NULL, "cold", 4, v, sizeof v), 0);
    v[5] = 'c';
    ck_assert_int_eq(lsm_put(db, NULL, "cold", 4, v, sizeof v), 0);
    misses = read_misses(db, "cold", v, sizeof v);
    EXPECT(_i || misses == 1, "a blind rewrite was cached");

    /* A value under 64 KiB: left to the doorkeeper. */
    memset(small, 's', sizeof small);
    ck_assert_int_eq(lsm_put(db, NULL, "s", 1, small, sizeof small), 0);
    expect_value(db, NULL, "s", small, sizeof small);
    small[9] = 't';
    ck_assert_int_eq(lsm_put(db, NULL, "s", 1, small, sizeof small), 0);
    misses = read_misses(db, "s", small, sizeof small);
    EXPECT(_i || misses == 1, "a small rewrite was cached");

    /* After a reopen (an empty cache) the log holds the same values. */
    ck_assert_int_eq(lsm_close(db), 0);
    db = open_db(&o);
    expect_value(db, NULL, "bm", bmv, sizeof bmv);
    expect_value(db, NULL, "cold", v, sizeof v);
    expect_value(db, NULL, "s", small, sizeof small);
    lsm_close(db);
}
END_TEST

/* lsm_get_lent: a cached separated value is lent (no copy, the same bytes
 * on every call) while its pointer's prefix matches the cached bytes; a
 * patched prefix, an inline value, an absent key or no cache fall back to
 * lsm_get_into's copy. */
START_TEST(test_value_cache_lends)
{
    struct lsm_options o;
    struct lsm_db *db;
    char v[3000], small[64];
    const char *val;
    size_t vlen;
    void *pin;
    opts(&o);
    o.vlog_gc_ratio = 2.0;
    o.value_cache_size = _i ? 0 : 1 << 20;
    db = open_db(&o);
    for (size_t j = 0; j < sizeof v; j++)
        v[j] = (char)('A' + j % 19);
    ck_assert_int_eq(lsm_put(db, NULL, "k", 1, v, sizeof v), 0);
    ck_assert_int_eq(lsm_put(db, NULL, "tiny", 4, "xyz", 3), 0);
    /* first reads: copies (read twice, then cached) */
    for (int r = 0; r < 2; r++) {
        ck_assert_int_eq(lsm_get_lent(db, NULL, "k", 1, small, sizeof small, &val, &vlen, &pin), 0);
        ck_assert_ptr_null(pin);
        ck_assert_uint_eq(vlen, sizeof v);
        ck_assert_mem_eq(val, v, sizeof v);
        lsm_free((char *)val);
    }
    const char *first = NULL;
    for (int r = 0; r < 2; r++) {
        ck_assert_int_eq(lsm_get_lent(db, NULL, "k", 1, small, sizeof small, &val, &vlen, &pin), 0);
        ck_assert_uint_eq(vlen, sizeof v);
        ck_assert_mem_eq(val, v, sizeof v);
        if (_i == 0) {
            ck_assert_ptr_nonnull(pin);          /* lent: the cache's own bytes */
            if (first)
                ck_assert_ptr_eq(val, first);
            first = val;
            lsm_unpin(db, pin);
        } else {
            ck_assert_ptr_null(pin);
            lsm_free((char *)val);
        }
    }
    /* a patch: the cached bytes no longer start as the pointer says */
    patch1(db, "k", "NEW");
    ck_assert_int_eq(lsm_get_lent(db, NULL, "k", 1, small, sizeof small, &val, &vlen, &pin), 0);
    ck_assert_ptr_null(pin);
    ck_assert_mem_eq(val, "NEW", 3);
    ck_assert_mem_eq(val + 3, v + 3, sizeof v - 3);
    lsm_free((char *)val);
    /* inline and absent values */
    ck_assert_int_eq(lsm_get_lent(db, NULL, "tiny", 4, small, sizeof small, &val, &vlen, &pin), 0);
    ck_assert_ptr_null(pin);
    ck_assert_ptr_eq(val, small);
    ck_assert_uint_eq(vlen, 3);
    ck_assert_int_eq(lsm_get_lent(db, NULL, "none", 4, small, sizeof small, &val, &vlen, &pin),
                     LSM_ENOTFOUND);
    ck_assert_ptr_null(pin);
    lsm_unpin(db, NULL);                         /* a no-op */
    lsm_close(db);
}
END_TEST

static Suite *vlog_gc_suite(void)
{
    Suite *s = suite_create("vlog_gc");
    TCase *tc = tcase_create("db");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_separation_invisible, 0, 2);
    tcase_add_test(tc, test_rolls_with_prepared_segments);
    tcase_add_test(tc, test_flush_syncs_vlog_first);
    tcase_add_loop_test(tc, test_prepared_reservation, 0, 2);
    tcase_add_test(tc, test_mapped_logs_after_kill);
    tcase_add_test(tc, test_discard_accounting);
    tcase_add_test(tc, test_gc_with_old_readers);
    tcase_add_test(tc, test_gc_waits_for_stalled_get);
    tcase_add_test(tc, test_gc_concurrent);
    tcase_add_test(tc, test_gets_across_super_versions);
    tcase_add_test(tc, test_corrupt_entry);
    tcase_add_test(tc, test_replay_pointer_wraps);
    tcase_add_test(tc, test_replay_probe_bounded);
    tcase_add_test(tc, test_vlog_hole_past_sync_points);
    tcase_add_test(tc, test_vlog_hole_inside_synced_is_corruption);
    tcase_add_test(tc, test_pointer_to_other_key);
    tcase_add_loop_test(tc, test_compaction_filters, 0, 2);
    tcase_add_loop_test(tc, test_vlog_io_error, 0, 2);
    tcase_add_test(tc, test_sync_skips_clean_vlog);
    tcase_add_loop_test(tc, test_patch_values, 0, 2);
    tcase_add_test(tc, test_patch_gc);
    tcase_add_loop_test(tc, test_value_cache, 0, 2);
    tcase_add_loop_test(tc, test_value_cache_lends, 0, 2);
    tcase_add_loop_test(tc, test_value_cache_rewrite, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vlog_gc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
