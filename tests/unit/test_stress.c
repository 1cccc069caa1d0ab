/* test_stress: the server's engine workload, concurrently, with small options
 * so that flushes, compactions, trivial moves, table-cache evictions and
 * manifest updates happen all the time.
 *
 * Threads (all against lsm.h):
 * - writers: each owns the keys k with k % WRITERS == id; before every batch
 *   it reads the keys it is about to change (as the server's SET reads the
 *   old record) and checks them exactly against its model, then writes a
 *   sync=0 batch of puts/deletes; it also writes and range-deletes "t" keys
 *   (dropped by the compaction filter, like FLUSHDB'd namespaces);
 * - a syncer: lsm_sync in a loop (the server's group commit);
 * - readers: random gets checked against the writers' published state
 *   (monotonic), full / bounded / reverse scans (sorted, no duplicates, key
 *   and value consistent) held open for a while, snapshot scans repeated
 *   later (identical), snapshot gets;
 * - a compactor: lsm_compact_range over random ranges and the whole db,
 *   lsm_flush(0), occasionally lsm_flush(1);
 * Checks: no call ever returns anything but 0 / LSM_ENOTFOUND (never
 * LSM_ENOENT, LSM_ECORRUPT, LSM_EIO, ...), no background error; at the end
 * close, reopen and compare every key with the model.
 * DURATION=seconds (default 20), SEED=n (printed), THREADS=bg_threads,
 * KEYS=key count (6000), VSEP=value_separation_threshold (0: no value
 * log), MANIFEST_MAX=bytes
 * before a new manifest is started (default 32 KiB: manifest switches, with
 * their CURRENT rename, happen during the run too; set through db_impl.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "db_test.h"
#include "engine/db_impl.h"
#include "engine/lsm.h"

#define WRITERS 2
#define READERS 3
#define MAXKEYS 200000
static int NKEYS = 6000;      /* KEYS= (at most MAXKEYS) */
#define NTEMP 4000

static char dir[4096];
static uint64_t seed;
static int stop_flag;   /* atomic */
#define STOPPING() __atomic_load_n(&stop_flag, __ATOMIC_RELAXED)
#define STOP() __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED)
static int failures;
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lsm_db *db;

/* Per key: (version << 1) | deleted, published after the write returned
 * (state) and before it started (inflight). */
static uint64_t state[MAXKEYS], inflight[MAXKEYS];
/* Writer-private exact model: version of the latest write (0 = never),
 * deleted flag. */
static uint64_t model_ver[MAXKEYS];
static int model_del[MAXKEYS];

static uint64_t stat_gets, stat_iters, stat_compacts, stat_writes, stat_syncs;

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&fail_mu);
    failures++;
    if (failures <= 20)
        tap_diag("FAIL: %s", msg);
    pthread_mutex_unlock(&fail_mu);
    STOP();
}

/* Any code other than 0 / LSM_ENOTFOUND is a failure. */
static int check_rc(int rc, const char *what)
{
    if (rc == 0 || rc == LSM_ENOTFOUND)
        return 0;
    fail("%s: %s (%d): %s", what, lsm_strerror(rc), rc, lsm_last_error());
    return -1;
}

static int filter_drop_t(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    (void)arg;
    (void)val;
    (void)vlen;
    return klen > 0 && key[0] == 't';
}

static int mkkey(char *b, int k)
{
    return snprintf(b, 32, "k%06d", k);
}

/* "k000123|ver|" + padding; some values above the separation threshold. */
static size_t mkval(char *b, size_t cap, int k, uint64_t ver, uint64_t *rs)
{
    int n = snprintf(b, cap, "k%06d|%" PRIu64 "|", k, ver);
    size_t len = (size_t)n, want;
    uint64_t r = rnd(rs) % 100;
    want = r < 3 ? 1500 + rnd(rs) % 2000 : 10 + rnd(rs) % 120;
    if (want > cap - 1)
        want = cap - 1;
    while (len < want) {
        b[len] = (char)('a' + (len + ver) % 26);
        len++;
    }
    b[len] = '\0';
    return len;
}

/* Parses a value: 0 and *ver when it belongs to key k and is well formed. */
static int parse_val(const char *v, size_t n, int k, uint64_t *ver)
{
    char key[32], tmp[64];
    size_t kl = (size_t)mkkey(key, k), i;
    if (n < kl + 3 || memcmp(v, key, kl) != 0 || v[kl] != '|')
        return -1;
    for (i = kl + 1; i < n && v[i] != '|' && i - kl - 1 < sizeof tmp - 1; i++)
        tmp[i - kl - 1] = v[i];
    if (i >= n || v[i] != '|')
        return -1;
    tmp[i - kl - 1] = '\0';
    *ver = strtoull(tmp, NULL, 10);
    for (i = i + 1; i < n; i++)
        ;
    return 0;
}

/* ---- writers ---- */

static void *writer_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t rs = seed * 31 + (uint64_t)id * 7919 + 1;
    struct lsm_batch *b = lsm_batch_create();
    struct lsm_write_options wo = { 0 };
    char key[32], val[4096];
    uint64_t ver = 0;

    while (!STOPPING()) {
        int n = 1 + (int)(rnd(&rs) % 16), i, nops = 0, rc;
        int ks[16], del[16];
        uint64_t vs[16];

        lsm_batch_clear(b);
        for (i = 0; i < n && !STOPPING(); i++) {
            int k = (int)(rnd(&rs) % (NKEYS / WRITERS)) * WRITERS + id, j, dup = 0;
            size_t kl, vl, glen = 0;
            char *got = NULL;
            for (j = 0; j < nops; j++)
                dup |= ks[j] == k;
            if (dup)
                continue;
            kl = (size_t)mkkey(key, k);
            /* The server reads the old record before every write. */
            rc = lsm_get(db, NULL, key, kl, &got, &glen);
            __atomic_add_fetch(&stat_gets, 1, __ATOMIC_RELAXED);
            if (check_rc(rc, "writer get") != 0)
                break;
            if (model_ver[k] == 0 || model_del[k]) {
                if (rc != LSM_ENOTFOUND)
                    fail("writer: %s: expected absent (ver %" PRIu64 "), found %.*s", key,
                         model_ver[k], (int)(glen > 40 ? 40 : glen), got);
            } else {
                uint64_t gv = 0;
                if (rc != 0)
                    fail("writer: %s: expected version %" PRIu64 ", not found", key,
                         model_ver[k]);
                else if (parse_val(got, glen, k, &gv) != 0 || gv != model_ver[k])
                    fail("writer: %s: expected version %" PRIu64 ", got %.*s", key,
                         model_ver[k], (int)(glen > 40 ? 40 : glen), got);
            }
            lsm_free(got);
            ver++;
            ks[nops] = k;
            vs[nops] = ver * WRITERS + (uint64_t)id;
            del[nops] = rnd(&rs) % 10 == 0;
            if (del[nops]) {
                lsm_batch_delete(b, key, kl);
            } else {
                vl = mkval(val, sizeof val, k, vs[nops], &rs);
                lsm_batch_put(b, key, kl, val, vl);
            }
            nops++;
        }
        if (STOPPING())
            break;
        /* Temporary keys ("t"), dropped by the filter; sometimes a run of
         * them is deleted (a FLUSHDB'd namespace). */
        if (rnd(&rs) % 4 == 0) {
            int t = (int)(rnd(&rs) % NTEMP), m = 1 + (int)(rnd(&rs) % 20), j;
            int d = rnd(&rs) % 3 == 0;
            for (j = 0; j < m; j++) {
                int kl = snprintf(key, sizeof key, "t%d%05d", id, (t + j) % NTEMP);
                size_t vl = mkval(val, sizeof val, 0, ver, &rs);
                if (d)
                    lsm_batch_delete(b, key, (size_t)kl);
                else
                    lsm_batch_put(b, key, (size_t)kl, val, vl);
            }
        }
        for (i = 0; i < nops; i++)
            __atomic_store_n(&inflight[ks[i]], (vs[i] << 1) | (uint64_t)del[i],
                             __ATOMIC_RELEASE);
        rc = lsm_write(db, &wo, b);
        if (check_rc(rc, "lsm_write") != 0)
            break;
        __atomic_add_fetch(&stat_writes, 1, __ATOMIC_RELAXED);
        for (i = 0; i < nops; i++) {
            model_ver[ks[i]] = vs[i];
            model_del[ks[i]] = del[i];
            __atomic_store_n(&state[ks[i]], (vs[i] << 1) | (uint64_t)del[i], __ATOMIC_RELEASE);
        }
    }
    lsm_batch_destroy(b);
    return NULL;
}

/* ---- syncer ---- */

static void *syncer_main(void *arg)
{
    (void)arg;
    while (!STOPPING()) {
        if (check_rc(lsm_sync(db), "lsm_sync") != 0)
            break;
        __atomic_add_fetch(&stat_syncs, 1, __ATOMIC_RELAXED);
        usleep(2000);
    }
    return NULL;
}

/* ---- readers ---- */

/* A get checked against the state published before it (s0) and the newest
 * write started by its end (s1). */
static void reader_get(int k, const struct lsm_read_options *ro)
{
    char key[32], *got = NULL;
    size_t kl = (size_t)mkkey(key, k), glen = 0;
    uint64_t s0 = __atomic_load_n(&state[k], __ATOMIC_ACQUIRE), s1, gv = 0;
    int rc = lsm_get(db, ro, key, kl, &got, &glen);

    s1 = __atomic_load_n(&inflight[k], __ATOMIC_ACQUIRE);
    __atomic_add_fetch(&stat_gets, 1, __ATOMIC_RELAXED);
    if (check_rc(rc, "reader get") != 0)
        return;
    if (ro != NULL)
        s0 = 0;     /* a snapshot read: only the format is checked */
    if (rc == 0) {
        if (parse_val(got, glen, k, &gv) != 0)
            fail("reader: %s: malformed value %.*s", key, (int)(glen > 40 ? 40 : glen), got);
        else if ((s0 >> 1) != 0 && (gv < (s0 >> 1) || (gv == (s0 >> 1) && (s0 & 1))))
            fail("reader: %s: version %" PRIu64 " older than published %" PRIu64 "%s", key,
                 gv, s0 >> 1, (s0 & 1) ? " (deleted)" : "");
        else if (gv > (s1 >> 1))
            fail("reader: %s: version %" PRIu64 " never written (newest %" PRIu64 ")", key,
                 gv, s1 >> 1);
    } else if ((s0 >> 1) != 0 && !(s0 & 1) && s1 == s0) {
        char *again = NULL;
        size_t alen = 0;
        int rc2 = lsm_get(db, NULL, key, kl, &again, &alen);
        fail("reader: %s: not found, published version %" PRIu64 " (read again: rc %d %.*s)",
             key, s0 >> 1, rc2, (int)(alen > 30 ? 30 : alen), again ? again : "");
        lsm_free(again);
    }
    lsm_free(got);
}

/* Key index of "k%06d", or -1 ("t" keys). */
static int key_index(const char *k, size_t n)
{
    int v = 0;
    size_t i;
    if (n != 7 || k[0] != 'k')
        return -1;
    for (i = 1; i < 7; i++) {
        if (k[i] < '0' || k[i] > '9')
            return -2;
        v = v * 10 + (k[i] - '0');
    }
    return v < NKEYS ? v : -2;
}

/* Walks it from its position in one direction: sorted, no duplicates, values
 * consistent; returns a hash of what was seen (count in *cnt). Sleeps now
 * and then (an iterator held open while compactions run). */
static uint64_t walk(struct lsm_iter *it, int reverse, int all_values, uint64_t *rs,
                     uint64_t *cnt, const char *what)
{
    char prev[64];
    size_t plen = 0;
    int have = 0, st;
    uint64_t h = 1469598103934665603ull, n = 0;

    for (; lsm_iter_valid(it); reverse ? lsm_iter_prev(it) : lsm_iter_next(it)) {
        size_t kl, vl, i;
        const char *k = lsm_iter_key(it, &kl);
        const char *v;
        int idx = key_index(k, kl);
        if (have) {
            size_t m = kl < plen ? kl : plen;
            int c = memcmp(prev, k, m);
            if (c == 0)
                c = plen < kl ? -1 : plen > kl;
            if (reverse ? c <= 0 : c >= 0) {
                fail("%s: keys out of order or duplicated: %.*s then %.*s", what,
                     (int)plen, prev, (int)kl, k);
                break;
            }
        }
        if (kl >= sizeof prev) {
            fail("%s: unexpected key length %zu", what, kl);
            break;
        }
        memcpy(prev, k, kl);
        plen = kl;
        have = 1;
        if (idx == -2) {
            fail("%s: unexpected key %.*s", what, (int)kl, k);
            break;
        }
        if (idx >= 0 && (all_values || rnd(rs) % 4 == 0)) {
            uint64_t gv;
            v = lsm_iter_value(it, &vl);
            if (v == NULL) {
                if (lsm_iter_status(it) != 0)
                    break;
                fail("%s: NULL value for %.*s", what, (int)kl, k);
                break;
            }
            if (parse_val(v, vl, idx, &gv) != 0) {
                fail("%s: value of %.*s malformed", what, (int)kl, k);
                break;
            }
            for (i = 0; i < 8; i++)
                h = (h ^ ((gv >> (8 * i)) & 0xff)) * 1099511628211ull;
        }
        for (i = 0; i < kl; i++)
            h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
        n++;
        if (rnd(rs) % 3000 == 0)
            usleep(1000 * (useconds_t)(1 + rnd(rs) % 50));
        if (STOPPING())
            break;
    }
    st = lsm_iter_status(it);
    if (st != 0)
        fail("%s: iterator status %s (%d): %s", what, lsm_strerror(st), st, lsm_last_error());
    *cnt = n;
    return h;
}

static void *reader_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t rs = seed * 131 + (uint64_t)id * 104729 + 3;

    while (!STOPPING()) {
        uint64_t r = rnd(&rs) % 100, cnt;
        if (r < 70) {
            int i;
            for (i = 0; i < 50 && !STOPPING(); i++)
                reader_get((int)(rnd(&rs) % NKEYS), NULL);
        } else if (r < 85) {
            /* Full or bounded scan, forward or reverse, held open. */
            struct lsm_read_options ro;
            char lo[32], hi[32];
            struct lsm_iter *it;
            int bounded = rnd(&rs) % 2, reverse = rnd(&rs) % 3 == 0;
            lsm_read_options_init(&ro);
            if (bounded) {
                int a = (int)(rnd(&rs) % NKEYS), b = a + 1 + (int)(rnd(&rs) % 1500);
                ro.lower_bound = lo;
                ro.lower_bound_len = (size_t)mkkey(lo, a);
                ro.upper_bound = hi;
                ro.upper_bound_len = (size_t)mkkey(hi, b);
            }
            ro.fill_cache = (int)(rnd(&rs) % 2);
            it = lsm_iter_create(db, &ro);
            if (rnd(&rs) % 4 == 0)
                usleep(1000 * (useconds_t)(rnd(&rs) % 100));
            if (reverse)
                lsm_iter_seek_to_last(it);
            else
                lsm_iter_seek_to_first(it);
            walk(it, reverse, 0, &rs, &cnt, reverse ? "reverse scan" : "scan");
            lsm_iter_destroy(it);
            __atomic_add_fetch(&stat_iters, 1, __ATOMIC_RELAXED);
        } else if (r < 95) {
            /* Snapshot: scan a range twice, some time apart: identical. */
            const struct lsm_snapshot *snap = lsm_snapshot_create(db);
            struct lsm_read_options ro;
            char lo[32], hi[32];
            uint64_t h1, h2, c1, c2;
            struct lsm_iter *it;
            int a = (int)(rnd(&rs) % NKEYS), b = a + 1 + (int)(rnd(&rs) % 800), i;
            lsm_read_options_init(&ro);
            ro.snapshot = snap;
            ro.lower_bound = lo;
            ro.lower_bound_len = (size_t)mkkey(lo, a);
            ro.upper_bound = hi;
            ro.upper_bound_len = (size_t)mkkey(hi, b);
            it = lsm_iter_create(db, &ro);
            lsm_iter_seek(it, lo, ro.lower_bound_len);
            h1 = walk(it, 0, 1, &rs, &c1, "snapshot scan");
            lsm_iter_destroy(it);
            for (i = 0; i < 20 && !STOPPING(); i++)
                reader_get((a + (int)(rnd(&rs) % (uint64_t)(b - a))) % NKEYS, &ro);
            usleep(1000 * (useconds_t)(rnd(&rs) % 200));
            ro.lower_bound = NULL;   /* the same range by seek + upper bound */
            it = lsm_iter_create(db, &ro);
            lsm_iter_seek(it, lo, (size_t)mkkey(lo, a));
            h2 = walk(it, 0, 1, &rs, &c2, "snapshot rescan");
            lsm_iter_destroy(it);
            if (!STOPPING() && (c1 != c2 || h1 != h2))
                fail("snapshot %" PRIu64 ": range %d..%d: %" PRIu64 " then %" PRIu64
                     " entries, different contents", lsm_snapshot_sequence(snap), a, b, c1, c2);
            lsm_snapshot_release(db, snap);
            __atomic_add_fetch(&stat_iters, 2, __ATOMIC_RELAXED);
        } else {
            /* DBSIZE-like: count everything, keys only. */
            struct lsm_iter *it = lsm_iter_create(db, NULL);
            uint64_t n = 0;
            int st;
            for (lsm_iter_seek_to_first(it); lsm_iter_valid(it) && !STOPPING();
                 lsm_iter_next(it))
                n++;
            st = lsm_iter_status(it);
            if (st != 0)
                fail("count scan: %s (%d): %s", lsm_strerror(st), st, lsm_last_error());
            lsm_iter_destroy(it);
            __atomic_add_fetch(&stat_iters, 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* ---- compactor ---- */

static void *compactor_main(void *arg)
{
    uint64_t rs = seed * 17 + 11;
    (void)arg;
    while (!STOPPING()) {
        uint64_t r = rnd(&rs) % 100;
        int rc;
        if (r < 50) {
            char lo[32], hi[32];
            int a, b;
            if (rnd(&rs) % 2) {
                a = (int)(rnd(&rs) % NKEYS);
                b = a + (int)(rnd(&rs) % 2000);
                rc = lsm_compact_range(db, lo, (size_t)mkkey(lo, a), hi, (size_t)mkkey(hi, b));
            } else {
                /* A temp-key range (the server's reclaim after FLUSHDB). */
                a = (int)(rnd(&rs) % NTEMP);
                b = a + (int)(rnd(&rs) % 2000);
                rc = lsm_compact_range(db, lo, (size_t)snprintf(lo, sizeof lo, "t%d%05d",
                                                                 (int)(rnd(&rs) % WRITERS), a),
                                       hi, (size_t)snprintf(hi, sizeof hi, "t%d%05d",
                                                            WRITERS - 1, b));
            }
        } else if (r < 60) {
            rc = lsm_compact_range(db, NULL, 0, NULL, 0);
        } else if (r < 90) {
            rc = lsm_flush(db, 0);
        } else {
            rc = lsm_flush(db, 1);
        }
        if (check_rc(rc, "compact/flush") != 0)
            break;
        __atomic_add_fetch(&stat_compacts, 1, __ATOMIC_RELAXED);
        rc = lsm_bg_error(db);
        if (rc != 0) {
            fail("background error %s (%d)", lsm_strerror(rc), rc);
            break;
        }
        usleep(1000 * (useconds_t)(rnd(&rs) % 30));
    }
    return NULL;
}

/* ---- main ---- */

static void options(struct lsm_options *o, uint64_t *rs)
{
    const char *t = getenv("THREADS");
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = (64 + rnd(rs) % 65) << 10;
    o->max_bytes_for_level_base = 256 << 10;
    o->level_size_multiplier = 4;
    o->bg_threads = t ? atoi(t) : 3 + (int)(rnd(rs) % 2);
    o->block_cache_size = 64 << 10;
    o->block_size = 1024;
    o->max_open_files = 20;
    o->compaction_filter = filter_drop_t;
    o->value_separation_threshold = getenv("VSEP") ? (size_t)atoi(getenv("VSEP")) : 1024;
    o->vlog_file_size = 256 << 10;
    o->vlog_gc_max_mbps = 0;
}

static int verify_reopened(const struct lsm_options *o)
{
    struct lsm_db *d = NULL;
    struct lsm_iter *it;
    int rc = lsm_open(dir, o, &d), k, bad = 0;
    uint64_t present = 0, seen = 0;

    if (!tap_ok(rc == 0, "reopen: %s", rc ? lsm_last_error() : "ok"))
        return -1;
    for (k = 0; k < NKEYS; k++) {
        char key[32], *got = NULL;
        size_t kl = (size_t)mkkey(key, k), glen = 0;
        uint64_t gv = 0;
        rc = lsm_get(d, NULL, key, kl, &got, &glen);
        if (model_ver[k] != 0 && !model_del[k]) {
            present++;
            if (rc != 0 || parse_val(got, glen, k, &gv) != 0 || gv != model_ver[k]) {
                if (bad++ < 10)
                    tap_diag("after reopen: %s: want version %" PRIu64 ", rc %d (%s)", key,
                             model_ver[k], rc, rc ? lsm_last_error() : "");
            }
        } else if (rc != LSM_ENOTFOUND) {
            if (bad++ < 10)
                tap_diag("after reopen: %s: want absent, rc %d (%s)", key, rc,
                         rc ? lsm_last_error() : "");
        }
        lsm_free(got);
    }
    tap_ok(bad == 0, "every key matches the model after reopen (%d bad)", bad);
    it = lsm_iter_create(d, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t kl;
        const char *kk = lsm_iter_key(it, &kl);
        if (key_index(kk, kl) >= 0)
            seen++;
    }
    rc = lsm_iter_status(it);
    lsm_iter_destroy(it);
    tap_ok(rc == 0 && seen == present, "a full scan after reopen sees %" PRIu64
           " model keys (want %" PRIu64 ", status %d)", seen, present, rc);
    rc = lsm_compact_range(d, NULL, 0, NULL, 0);
    tap_ok(rc == 0, "whole-db compaction after reopen: %s", rc ? lsm_last_error() : "ok");
    rc = lsm_close(d);
    tap_ok(rc == 0, "close after verify");
    return 0;
}

/* Regression: a manifest switch (version_set_log_and_apply, mu released)
 * writes the next CURRENT as NNNNNN.dbtmp, NNNNNN = the new manifest's
 * number, then renames it. An obsolete-file scan running meanwhile (the end
 * of a flush or compaction on another thread) must leave it alone: it used
 * to delete every .dbtmp below next_file, the rename failed with ENOENT
 * and LSM_ENOENT became the sticky error of every write. Here the switch is
 * frozen between the two steps: number allocated, temp file written. */
static void check_switch_temp_survives_scan(void)
{
    struct lsm_options o;
    struct lsm_db *d = NULL;
    char path[4200];
    uint64_t n;
    FILE *f;
    int rc;

    lsm_options_init(&o);
    o.write_buffer_size = 64 << 10;
    rc = lsm_open(dir, &o, &d);
    if (!tap_ok(rc == 0, "open for the manifest-switch check"))
        return;
    pthread_mutex_lock(&d->mu);
    n = version_set_new_file_number(d->vs);     /* as log_and_apply does */
    snprintf(path, sizeof path, "%s/%06" PRIu64 ".dbtmp", dir, n);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs("MANIFEST-000000\n", f);
        fclose(f);
    }
    db_delete_obsolete_files(d);                /* another thread's scan */
    pthread_mutex_unlock(&d->mu);
    tap_ok(access(path, F_OK) == 0, "an obsolete-file scan keeps the temp file of a "
           "manifest switch in progress (%06" PRIu64 ".dbtmp)", n);
    unlink(path);
    rc = lsm_close(d);
    tap_ok(rc == 0, "close after the manifest-switch check");
    /* A leftover of a crashed switch goes at the next open. */
    f = fopen(path, "w");
    if (f != NULL)
        fclose(f);
    rc = lsm_open(dir, &o, &d);
    tap_ok(rc == 0 && access(path, F_OK) != 0, "a stale temp file is removed at open");
    if (rc == 0)
        lsm_close(d);
    dt_rmrf(dir);
    dt_mkdtemp(dir, sizeof dir);
}

int main(void)
{
    const char *s = getenv("SEED"), *dur = getenv("DURATION");
    struct lsm_options o;
    pthread_t w[WRITERS], r[READERS], sy, co;
    uint64_t rs;
    int duration = dur ? atoi(dur) : 20, i, rc;
    time_t t0;

    if (getenv("KEYS") != NULL && atoi(getenv("KEYS")) >= WRITERS &&
        atoi(getenv("KEYS")) <= MAXKEYS)
        NKEYS = atoi(getenv("KEYS"));
    seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    if (seed == 0)
        seed = 1;
    rs = seed;
    tap_diag("test_stress SEED=%" PRIu64 " DURATION=%d KEYS=%d", seed, duration, NKEYS);
    dt_mkdtemp(dir, sizeof dir);
    check_switch_temp_survives_scan();
    options(&o, &rs);
    tap_diag("bg_threads %d, target_file_size %" PRIu64 ", dir %s", o.bg_threads,
             o.target_file_size, dir);
    rc = lsm_open(dir, &o, &db);
    if (!tap_ok(rc == 0, "open: %s", rc ? lsm_last_error() : "ok"))
        return tap_done();
    pthread_mutex_lock(&db->mu);
    db->vs->manifest_max = getenv("MANIFEST_MAX") ? strtoull(getenv("MANIFEST_MAX"), NULL, 10)
                                                  : 32 << 10;
    pthread_mutex_unlock(&db->mu);

    for (i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer_main, (void *)(intptr_t)i);
    for (i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, reader_main, (void *)(intptr_t)i);
    pthread_create(&sy, NULL, syncer_main, NULL);
    pthread_create(&co, NULL, compactor_main, NULL);
    t0 = time(NULL);
    while (!STOPPING() && time(NULL) - t0 < duration)
        usleep(100000);
    STOP();
    for (i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    for (i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    pthread_join(sy, NULL);
    pthread_join(co, NULL);
    {
        struct lsm_stats st;
        lsm_get_stats(db, &st);
        tap_diag("writes %" PRIu64 ", gets %" PRIu64 ", iterators %" PRIu64
                 ", compact/flush calls %" PRIu64 ", syncs %" PRIu64 "; flushes %" PRIu64
                 ", compactions %" PRIu64 ", L0..L3 files %d/%d/%d/%d, vlog segments %" PRIu64
                 ", vlog gc runs %" PRIu64, stat_writes, stat_gets, stat_iters, stat_compacts,
                 stat_syncs, st.flushes, st.compactions, st.level[0].files, st.level[1].files,
                 st.level[2].files, st.level[3].files, st.vlog_segments, st.vlog_gc_runs);
        tap_ok(st.bg_error == 0, "no background error (%d)", st.bg_error);
    }
    tap_ok(failures == 0, "no failed call or wrong read during the run (%d failures)", failures);
    rc = lsm_close(db);
    tap_ok(rc == 0, "close: %s", rc ? lsm_last_error() : "ok");
    if (rc == 0 || rc != LSM_EBUSY)
        verify_reopened(&o);
    if (tap_failed == 0)
        dt_rmrf(dir);
    else
        tap_diag("left %s for inspection (SEED=%" PRIu64 ")", dir, seed);
    return tap_done();
}
