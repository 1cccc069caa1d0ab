/* test_fault: I/O faults and damaged files, seen through lsm.h.
 *
 * - EIO / ENOSPC / short write on WAL appends: the write returns the error,
 *   the database stays readable, lsm_resume() after the fault is cleared
 *   makes it writable, no acknowledged write is lost across a reopen.
 * - ENOSPC during a flush and during a compaction: a sticky background error
 *   (lsm_bg_error, writes fail with it, reads go on); lsm_resume() after the
 *   fault is cleared; data intact after reopen.
 * - A sweep: EIO / ENOSPC / short write after N operations on WAL, SST,
 *   MANIFEST, CURRENT, temp files or any file, during puts, a flush, a
 *   compaction, close and open; every error is LSM_EIO/LSM_ENOSPC with a
 *   message; after the fault is cleared the database recovers with every
 *   acknowledged write and nothing never written.
 * - Corruption: a byte flipped anywhere in an SSTable gives LSM_ECORRUPT
 *   naming the file (lsm_get, iterators), never wrong data or a crash;
 *   damaged CURRENT / MANIFEST: lsm_open fails with a clear error, or (a torn
 *   last manifest record) recovers without inventing data; a torn WAL tail
 *   is dropped cleanly (a prefix of the writes survives); damage in the
 *   middle of a WAL is reported.
 *
 * SEED=n (printed) varies the sweep's budgets and the flipped offsets;
 * ONLY=part[,part] runs some parts (wal, bg, sweep, sst, current, missing,
 * manifest, torn); KEEP=1 keeps the directories.
 * Output is TAP. Run it under ASan too (--enable-sanitizers). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/io.h"
#include "util/log.h"
#include "util/zmalloc.h"
#include "../tap.h"
#include "db_test.h"

static uint64_t seed, rng;
static char base[2048];
static int dir_seq;
static struct io_env *fenv;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void new_dir(char *out, size_t n)
{
    snprintf(out, n, "%s/d%03d", base, ++dir_seq);
}

static void small_options(struct lsm_options *o, struct io_env *env)
{
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = 64 << 10;
    o->block_size = 1024;
    o->max_bytes_for_level_base = 256 << 10;
    o->block_cache_size = 256 << 10;
    o->l0_compaction_trigger = 8;
    o->l0_slowdown_trigger = 20;
    o->l0_stop_trigger = 36;
    o->bg_threads = 2;
    o->env = env;
}

static int open_env(const char *dir, struct io_env *env, struct lsm_db **db)
{
    struct lsm_options o;
    small_options(&o, env);
    return lsm_open(dir, &o, db);
}

/* ---- keys, values and the model ---- */

#define MAXK 400
static int gen[MAXK];      /* acknowledged generation, 0 = absent */
static int alt[MAXK];      /* a failed write's generation (may or may not be there) */

static size_t key_of(int i, char *k)
{
    return (size_t)snprintf(k, 16, "key%06d", i);
}

static size_t val_of(int i, int g, char *v)
{
    size_t n = 60 + (size_t)((i * 31 + g * 17) % 140), j;
    int h = snprintf(v, 32, "v%d.%d|", i, g);
    for (j = (size_t)h; j < n; j++)
        v[j] = (char)('a' + (i + g + (int)j) % 23);
    return n;
}

static void model_reset(void)
{
    memset(gen, 0, sizeof gen);
    memset(alt, 0, sizeof alt);
}

/* Checks one key: 0 ok, -1 wrong. allow_err: an I/O error is acceptable. */
static int check_key(struct lsm_db *db, int i, int allow_err, const char *what)
{
    char k[16], want[256];
    char *v = NULL;
    size_t kn = key_of(i, k), vn = 0, wn;
    int rc = lsm_get(db, NULL, k, kn, &v, &vn), ok;

    if (rc != 0 && rc != LSM_ENOTFOUND) {
        if (!allow_err)
            tap_diag("%s: get %s: %d %s", what, k, rc, lsm_last_error());
        return allow_err ? 0 : -1;
    }
    if (rc == LSM_ENOTFOUND) {
        ok = gen[i] == 0;
        if (!ok)
            tap_diag("%s: %s lost (acknowledged generation %d)", what, k, gen[i]);
        return ok ? 0 : -1;
    }
    wn = val_of(i, gen[i], want);
    ok = gen[i] != 0 && vn == wn && memcmp(v, want, wn) == 0;
    if (!ok && alt[i] != 0) {
        wn = val_of(i, alt[i], want);
        ok = vn == wn && memcmp(v, want, wn) == 0;
    }
    if (!ok)
        tap_diag("%s: %s has a wrong value '%.*s' (acknowledged generation %d, failed %d)",
                 what, k, (int)(vn < 20 ? vn : 20), v, gen[i], alt[i]);
    lsm_free(v);
    return ok ? 0 : -1;
}

/* Every key by lsm_get, then a full scan: no key outside the model. */
static int verify_all(struct lsm_db *db, int allow_err, const char *what)
{
    struct lsm_iter *it;
    int i, bad = 0, seen = 0;

    for (i = 0; i < MAXK && bad < 5; i++)
        bad += check_key(db, i, allow_err, what) != 0;
    it = lsm_iter_create(db, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it) && bad < 5; lsm_iter_next(it)) {
        size_t kn;
        const char *k = lsm_iter_key(it, &kn);
        int idx = -1;
        if (kn == 9 && memcmp(k, "key", 3) == 0)
            idx = atoi(k + 3);
        if (idx < 0 || idx >= MAXK || (gen[idx] == 0 && alt[idx] == 0)) {
            tap_diag("%s: scan found '%.*s', never written (or deleted)", what, (int)kn, k);
            bad++;
        }
        seen++;
    }
    if (lsm_iter_status(it) != 0 && !allow_err) {
        tap_diag("%s: scan status %d: %s", what, lsm_iter_status(it), lsm_last_error());
        bad++;
    }
    lsm_iter_destroy(it);
    return bad;
}

/* Writes keys [a, b) at generation g in synced batches of `per`; stops at
 * the first failure (whose batch becomes `alt`). Returns 0 or the error. */
static int put_range(struct lsm_db *db, int a, int b, int g, int per)
{
    struct lsm_batch *bt = lsm_batch_create();
    struct lsm_write_options wo = { .sync = 1 };
    char k[16], v[256];
    int i, j, rc = 0;

    for (i = a; i < b && rc == 0; i += per) {
        int end = i + per < b ? i + per : b;
        lsm_batch_clear(bt);
        for (j = i; j < end; j++)
            lsm_batch_put(bt, k, key_of(j, k), v, val_of(j, g, v));
        rc = lsm_write(db, &wo, bt);
        for (j = i; j < end; j++) {
            if (rc == 0) {
                gen[j] = g;
                alt[j] = 0;
            } else {
                alt[j] = g;
            }
        }
    }
    lsm_batch_destroy(bt);
    return rc;
}

static int is_io_error(int rc)
{
    return rc == LSM_EIO || rc == LSM_ENOSPC;
}

/* ---- explicit scenarios ---- */

static void test_wal_append_fault(enum io_fault kind, const char *name, int expect)
{
    char dir[2100];
    struct lsm_db *db;
    int rc, rc2, bad;

    model_reset();
    new_dir(dir, sizeof dir);
    io_env_fault_reset(fenv);
    if (open_env(dir, fenv, &db) != 0) {
        tap_ok(0, "%s: open: %s", name, lsm_last_error());
        return;
    }
    tap_ok(put_range(db, 0, 100, 1, 10) == 0, "%s: 100 keys written before the fault", name);
    io_env_fault_set(fenv, kind, kind == IO_FAULT_ENOSPC ? 700 : 1, ".wal");
    rc = put_range(db, 100, 200, 1, 5);
    tap_ok(rc == expect, "%s: the write fails with %s (got %d %s: %s)", name,
           lsm_strerror(expect), rc, lsm_strerror(rc), lsm_last_error());
    tap_ok(strlen(lsm_last_error()) > 0, "%s: lsm_last_error explains it: \"%s\"", name,
           lsm_last_error());
    bad = verify_all(db, 0, name);
    tap_ok(bad == 0, "%s: every acknowledged key still readable while the fault lasts", name);
    rc2 = put_range(db, 300, 301, 1, 1);
    tap_ok(rc2 != 0, "%s: while the fault lasts writes keep failing (got %d)", name, rc2);
    io_env_fault_reset(fenv);
    rc = lsm_resume(db);
    tap_ok(rc == 0, "%s: lsm_resume after the fault is cleared: %d %s", name, rc,
           rc ? lsm_last_error() : "");
    rc = put_range(db, 200, 260, 2, 10);
    tap_ok(rc == 0, "%s: writable again after lsm_resume (%d %s)", name, rc,
           rc ? lsm_last_error() : "");
    rc = lsm_close(db);
    tap_ok(rc == 0, "%s: close: %d %s", name, rc, rc ? lsm_last_error() : "");
    rc = open_env(dir, NULL, &db);
    if (!tap_ok(rc == 0, "%s: reopen: %s", name, rc ? lsm_last_error() : "ok"))
        return;
    tap_ok(verify_all(db, 0, name) == 0, "%s: after reopen every acknowledged write is there, "
           "nothing else", name);
    lsm_close(db);
}

/* ENOSPC (or EIO) in a background job: flush (compaction = 0) or
 * compaction (compaction = 1). */
static void test_bg_fault(int compaction, enum io_fault kind)
{
    char dir[2100], name[128];
    struct lsm_db *db;
    struct lsm_stats st;
    int rc, bad, expect = kind == IO_FAULT_ENOSPC ? LSM_ENOSPC : LSM_EIO;

    snprintf(name, sizeof name, "%s during %s", kind == IO_FAULT_ENOSPC ? "ENOSPC" : "EIO",
             compaction ? "a compaction" : "a flush");
    model_reset();
    new_dir(dir, sizeof dir);
    io_env_fault_reset(fenv);
    if (open_env(dir, fenv, &db) != 0) {
        tap_ok(0, "%s: open: %s", name, lsm_last_error());
        return;
    }
    put_range(db, 0, 150, 1, 10);
    if (compaction) {
        /* Three L0 files, then compact them with no space. */
        lsm_flush(db, 1);
        put_range(db, 100, 250, 2, 10);
        lsm_flush(db, 1);
        put_range(db, 200, 350, 3, 10);
        rc = lsm_flush(db, 1);
        lsm_get_stats(db, &st);
        tap_ok(rc == 0 && st.level[0].files >= 3, "%s: setup: %d L0 files", name,
               st.level[0].files);
        io_env_fault_set(fenv, kind, kind == IO_FAULT_ENOSPC ? 2000 : 3, ".sst");
        rc = lsm_compact_range(db, NULL, 0, NULL, 0);
    } else {
        io_env_fault_set(fenv, kind, kind == IO_FAULT_ENOSPC ? 5000 : 2, ".sst");
        rc = lsm_flush(db, 1);
    }
    tap_ok(rc == expect, "%s: the call fails with %s (got %d: %s)", name, lsm_strerror(expect),
           rc, lsm_last_error());
    rc = lsm_bg_error(db);
    tap_ok(rc == expect, "%s: sticky background error %s (lsm_bg_error = %d)", name,
           lsm_strerror(expect), rc);
    lsm_get_stats(db, &st);
    tap_ok(st.bg_error == expect, "%s: stats show bg_error %d", name, st.bg_error);
    rc = put_range(db, 390, 391, 9, 1);
    tap_ok(rc == expect, "%s: writes fail with the sticky error (got %d %s: %s)", name, rc,
           lsm_strerror(rc), lsm_last_error());
    rc = put_range(db, 391, 392, 9, 1);
    tap_ok(rc == expect, "%s: ... and keep failing (got %d)", name, rc);
    /* An EIO fault on .sst also fails reads of tables: only ENOSPC leaves
     * every read working. */
    bad = verify_all(db, kind == IO_FAULT_EIO, name);
    tap_ok(bad == 0, "%s: reads go on and are right while the error is set", name);
    io_env_fault_reset(fenv);
    rc = lsm_resume(db);
    tap_ok(rc == 0, "%s: lsm_resume after the fault is cleared: %d %s", name, rc,
           rc ? lsm_last_error() : "");
    tap_ok(lsm_bg_error(db) == 0, "%s: lsm_bg_error is 0 after lsm_resume", name);
    rc = put_range(db, 350, 380, 4, 10);
    tap_ok(rc == 0, "%s: writable again (%d %s)", name, rc, rc ? lsm_last_error() : "");
    rc = compaction ? lsm_compact_range(db, NULL, 0, NULL, 0) : lsm_flush(db, 1);
    tap_ok(rc == 0, "%s: the %s succeeds after resume (%d %s)", name,
           compaction ? "compaction" : "flush", rc, rc ? lsm_last_error() : "");
    tap_ok(verify_all(db, 0, name) == 0, "%s: data right after resume", name);
    rc = lsm_close(db);
    tap_ok(rc == 0, "%s: close: %d %s", name, rc, rc ? lsm_last_error() : "");
    rc = open_env(dir, NULL, &db);
    if (!tap_ok(rc == 0, "%s: reopen: %s", name, rc ? lsm_last_error() : "ok"))
        return;
    tap_ok(verify_all(db, 0, name) == 0, "%s: after reopen the data is intact", name);
    lsm_close(db);
}

/* ---- the sweep ---- */

static const char *const sweep_names[] = { "step 1: puts", "step 2: flush", "step 3: puts",
                                           "step 4: compact_range", "step 5: close",
                                           "step 6: open" };

/* One scenario: fault armed after setup, workload until the first error,
 * then reset, resume, reopen, verify. Returns the number of problems. */
static int sweep_one(enum io_fault kind, uint64_t after, const char *filter, int *hit)
{
    char dir[2100], name[160];
    struct lsm_db *db;
    int rc = 0, step, bad = 0;

    snprintf(name, sizeof name, "sweep %s after %" PRIu64 " on %s",
             kind == IO_FAULT_EIO ? "EIO" : kind == IO_FAULT_ENOSPC ? "ENOSPC" : "short write",
             after, filter ? filter : "any file");
    model_reset();
    new_dir(dir, sizeof dir);
    io_env_fault_reset(fenv);
    if (open_env(dir, fenv, &db) != 0 || put_range(db, 0, 100, 1, 20) != 0 ||
        lsm_flush(db, 1) != 0) {
        tap_diag("%s: setup failed: %s", name, lsm_last_error());
        return 1;
    }
    io_env_fault_set(fenv, kind, after, filter);
    *hit = 0;
    for (step = 0; step < 6 && rc == 0; step++) {
        switch (step) {
        case 0: rc = put_range(db, 100, 250, 1, 10); break;
        case 1: rc = lsm_flush(db, 1); break;
        case 2: rc = put_range(db, 0, 60, 2, 10); break;
        case 3: rc = lsm_compact_range(db, NULL, 0, NULL, 0); break;
        case 4: rc = lsm_close(db); db = NULL; break;
        case 5: rc = open_env(dir, fenv, &db); if (rc) db = NULL; break;
        }
        if (rc != 0) {
            *hit = 1;
            if (!is_io_error(rc) || strlen(lsm_last_error()) == 0) {
                tap_diag("%s, %s: error %d (%s) with message \"%s\": expected an I/O error "
                         "with a message", name, sweep_names[step], rc, lsm_strerror(rc),
                         lsm_last_error());
                bad++;
            }
        }
    }
    /* While the fault lasts, reads that touch no faulted file go on. */
    if (db != NULL && filter != NULL && strcmp(filter, ".sst") != 0 && kind == IO_FAULT_EIO) {
        if (verify_all(db, 0, name) != 0) {
            tap_diag("%s: reads failed while the fault (not on tables) lasted", name);
            bad++;
        }
    }
    io_env_fault_reset(fenv);
    if (db != NULL) {
        rc = lsm_resume(db);
        if (rc != 0) {
            tap_diag("%s: lsm_resume after the fault was cleared: %d %s", name, rc,
                     lsm_last_error());
            bad++;
        } else if ((rc = put_range(db, 300, 320, 5, 10)) != 0) {
            tap_diag("%s: write after lsm_resume: %d %s", name, rc, lsm_last_error());
            bad++;
        }
        rc = lsm_close(db);
        if (rc != 0 && bad == 0) {
            tap_diag("%s: close after resume: %d %s", name, rc, lsm_last_error());
            bad++;
        }
    }
    rc = open_env(dir, NULL, &db);
    if (rc != 0) {
        tap_diag("%s: reopen without faults: %d %s", name, rc, lsm_last_error());
        return bad + 1;
    }
    if (verify_all(db, 0, name) != 0) {
        tap_diag("%s: acknowledged data lost or unwritten data present after reopen", name);
        bad++;
    }
    lsm_close(db);
    if (bad == 0)
        dt_rmrf(dir);
    return bad;
}

static void test_sweep(void)
{
    static const char *const filters[] = { ".wal", ".sst", "MANIFEST", "CURRENT", ".dbtmp", NULL };
    static const uint64_t afters[] = { 0, 1, 2, 3, 4, 6, 9, 14, 21, 33, 50, 80 };
    size_t f, a;
    int kind;

    for (kind = IO_FAULT_EIO; kind <= IO_FAULT_SHORT_WRITE; kind++) {
        for (f = 0; f < sizeof filters / sizeof filters[0]; f++) {
            int bad = 0, hits = 0, n = 0;
            if (kind != IO_FAULT_EIO && filters[f] != NULL &&
                (strcmp(filters[f], "CURRENT") == 0 || strcmp(filters[f], ".dbtmp") == 0))
                continue;   /* no appends to those names */
            for (a = 0; a < sizeof afters / sizeof afters[0]; a++) {
                uint64_t after = afters[a];
                int hit = 0;
                if (kind == IO_FAULT_ENOSPC)   /* a byte budget */
                    after = after * 1000 + rnd() % 1000;
                bad += sweep_one((enum io_fault)kind, after, filters[f], &hit);
                hits += hit;
                n++;
            }
            tap_ok(bad == 0, "sweep: %s on %s, %d scenarios (%d hit an error): every error is "
                   "reported, resume works, no acknowledged write lost",
                   kind == IO_FAULT_EIO ? "EIO" : kind == IO_FAULT_ENOSPC ? "ENOSPC"
                                                                          : "short write",
                   filters[f] ? filters[f] : "any file", n, hits);
        }
    }
}

/* ---- corruption ---- */

static int copy_dir(const char *from, const char *to)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    return system(cmd);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static int flip_byte(const char *path, int64_t off, unsigned char mask)
{
    int fd = open(path, O_RDWR);
    unsigned char c;
    int rc = -1;
    if (fd < 0)
        return -1;
    if (pread(fd, &c, 1, off) == 1) {
        c ^= mask;
        if (pwrite(fd, &c, 1, off) == 1)
            rc = 0;
    }
    close(fd);
    return rc;
}

/* Name of the first file in dir ending with suffix (largest number last). */
static int find_file(const char *dir, const char *suffix, char *out, size_t n)
{
    char cmd[2300];
    FILE *p;
    int ok = 0;
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -- '%s$' | sort | tail -1", dir, suffix);
    p = popen(cmd, "r");
    if (p && fgets(out, (int)n, p)) {
        out[strcspn(out, "\n")] = 0;
        ok = out[0] != 0;
    }
    if (p)
        pclose(p);
    return ok ? 0 : -1;
}

/* Reads every key and scans: wrong data counts in *wrong; reports whether
 * corruption was detected and whether every error named the file. */
static void read_all_corrupt(struct lsm_db *db, const char *fname, int *detected, int *wrong,
                             int *unnamed, int *bad_code, char *errbuf, size_t errn)
{
    struct lsm_iter *it;
    int i, expect_next = 0;

    for (i = 0; i < MAXK; i++) {
        char k[16], want[256];
        char *v = NULL;
        size_t kn = key_of(i, k), vn, wn;
        int rc = lsm_get(db, NULL, k, kn, &v, &vn);
        if (rc == LSM_ECORRUPT) {
            (*detected)++;
            if (strstr(lsm_last_error(), fname) == NULL)
                (*unnamed)++;
            snprintf(errbuf, errn, "%s", lsm_last_error());
        } else if (rc == LSM_ENOTFOUND) {
            if (gen[i] != 0)
                (*wrong)++;
        } else if (rc == 0) {
            wn = val_of(i, gen[i], want);
            if (gen[i] == 0 || vn != wn || memcmp(v, want, wn) != 0)
                (*wrong)++;
        } else {
            (*bad_code)++;
            snprintf(errbuf, errn, "%s", lsm_last_error());
        }
        lsm_free(v);
    }
    /* A scan yields the model's keys in order until it stops; if it stops
     * early, its status says why. */
    it = lsm_iter_create(db, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t kn, vn, wn;
        const char *k = lsm_iter_key(it, &kn), *v = lsm_iter_value(it, &vn);
        char want[256], wk[16];
        while (expect_next < MAXK && gen[expect_next] == 0)
            expect_next++;
        if (expect_next >= MAXK || kn != key_of(expect_next, wk) || memcmp(k, wk, kn) != 0) {
            (*wrong)++;
            break;
        }
        wn = val_of(expect_next, gen[expect_next], want);
        if (vn != wn || memcmp(v, want, wn) != 0) {
            (*wrong)++;
            break;
        }
        expect_next++;
    }
    while (expect_next < MAXK && gen[expect_next] == 0)
        expect_next++;
    if (!lsm_iter_valid(it)) {
        int st = lsm_iter_status(it);
        if (st == LSM_ECORRUPT) {
            (*detected)++;
            if (strstr(lsm_last_error(), fname) == NULL)
                (*unnamed)++;
        } else if (st != 0) {
            (*bad_code)++;
        } else if (expect_next < MAXK) {
            (*wrong)++;      /* ended early without an error */
        }
    }
    lsm_iter_destroy(it);
}

static void test_sst_corruption(void)
{
    char pristine[2100], work[2100], fname[256], path[2400], errbuf[512] = "";
    struct lsm_db *db;
    int64_t size, off;
    int positions = 0, detected_pos = 0, wrong_pos = 0, unnamed_pos = 0, badcode_pos = 0,
        crash_free = 1;
    struct lsm_options o;

    model_reset();
    new_dir(pristine, sizeof pristine);
    new_dir(work, sizeof work);
    if (open_env(pristine, NULL, &db) != 0) {
        tap_ok(0, "sst corruption: setup open: %s", lsm_last_error());
        return;
    }
    put_range(db, 0, 300, 1, 50);
    lsm_compact_range(db, NULL, 0, NULL, 0);
    lsm_close(db);
    if (find_file(pristine, ".sst", fname, sizeof fname) != 0) {
        tap_ok(0, "sst corruption: setup made an .sst file");
        return;
    }
    snprintf(path, sizeof path, "%s/%s", pristine, fname);
    size = file_size(path);
    tap_diag("sst corruption: flipping bytes of %s (%" PRId64 " bytes)", fname, size);
    snprintf(path, sizeof path, "%s/%s", work, fname);
    copy_dir(pristine, work);
    /* Every ~size/150 bytes, plus every byte of the last 64 (footer). */
    for (off = (int64_t)(rnd() % 7); off < size; ) {
        int detected = 0, wrong = 0, unnamed = 0, bad_code = 0, rc;
        if (flip_byte(path, off, (unsigned char)(1u << (rnd() % 8))) != 0)
            break;
        small_options(&o, NULL);
        o.block_cache_size = 64 << 10;
        rc = lsm_open(work, &o, &db);
        if (rc == 0) {
            read_all_corrupt(db, fname, &detected, &wrong, &unnamed, &bad_code, errbuf,
                             sizeof errbuf);
            lsm_close(db);
        } else if (rc == LSM_ECORRUPT) {
            detected = 1;
        } else {
            bad_code = 1;
            snprintf(errbuf, sizeof errbuf, "open: %s", lsm_last_error());
        }
        positions++;
        detected_pos += detected > 0;
        if (wrong) {
            wrong_pos++;
            if (wrong_pos <= 5)
                tap_diag("sst corruption: flipped byte at offset %" PRId64 " of %" PRId64
                         ": %d wrong answer(s) (wrong value, or a key missing without an "
                         "error)", off, size, wrong);
        }
        if (unnamed) {
            unnamed_pos++;
            if (unnamed_pos <= 3)
                tap_diag("sst corruption: offset %" PRId64 ": error does not name %s: \"%s\"",
                         off, fname, lsm_last_error());
        }
        if (bad_code) {
            badcode_pos++;
            if (badcode_pos <= 3)
                tap_diag("sst corruption: offset %" PRId64 ": an error other than "
                         "LSM_ECORRUPT: %s", off, errbuf);
        }
        flip_byte(path, off, 0);   /* no-op; restore below */
        copy_dir(pristine, work);
        if (off >= size - 64)
            off++;
        else {
            off += 1 + (int64_t)(rnd() % (uint64_t)(size / 150 + 1));
            if (off >= size - 64)
                off = size - 64;
        }
    }
    tap_ok(crash_free, "sst corruption: %d flipped positions, no crash", positions);
    tap_ok(wrong_pos == 0, "sst corruption: never wrong data (%d of %d positions gave a wrong "
           "answer)", wrong_pos, positions);
    tap_ok(detected_pos >= positions * 3 / 4, "sst corruption: LSM_ECORRUPT reported for %d of "
           "%d positions", detected_pos, positions);
    tap_ok(unnamed_pos == 0, "sst corruption: every corruption error names the file (%s); "
           "last: \"%s\"", fname, errbuf);
    tap_ok(badcode_pos == 0, "sst corruption: errors are LSM_ECORRUPT (%d other)", badcode_pos);
}

/* A table file deleted behind the engine's back: lsm_open refuses, or the
 * reads that need it fail with LSM_ECORRUPT / LSM_EIO naming it; never
 * LSM_ENOENT ("database does not exist"), never wrong data. */
static void test_missing_sst(void)
{
    char dir[2100], fname[256], path[2400];
    struct lsm_db *db;
    int rc, i, wrong = 0, codes = 0, unnamed = 0, errs = 0;
    char example[600] = "";

    model_reset();
    new_dir(dir, sizeof dir);
    open_env(dir, NULL, &db);
    put_range(db, 0, 300, 1, 50);
    lsm_compact_range(db, NULL, 0, NULL, 0);
    lsm_close(db);
    if (find_file(dir, ".sst", fname, sizeof fname) != 0) {
        tap_ok(0, "missing sst: setup made an .sst file");
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    unlink(path);
    rc = open_env(dir, NULL, &db);
    if (rc != 0) {
        tap_ok(rc == LSM_ECORRUPT && strstr(lsm_last_error(), fname) != NULL,
               "missing sst: lsm_open refuses with LSM_ECORRUPT naming %s (%d: \"%s\")", fname,
               rc, lsm_last_error());
        return;
    }
    for (i = 0; i < MAXK; i++) {
        char k[16], want[256];
        char *v = NULL;
        size_t kn = key_of(i, k), vn, wn;
        int g = lsm_get(db, NULL, k, kn, &v, &vn);
        if (g == 0) {
            wn = val_of(i, gen[i], want);
            wrong += gen[i] == 0 || vn != wn || memcmp(v, want, wn) != 0;
        } else if (g != LSM_ENOTFOUND) {
            errs++;
            if (g != LSM_ECORRUPT && g != LSM_EIO && codes++ == 0)
                snprintf(example, sizeof example, "%s: %d (%s) \"%s\"", k, g, lsm_strerror(g),
                         lsm_last_error());
            if (strstr(lsm_last_error(), fname) == NULL)
                unnamed++;
        }
        lsm_free(v);
    }
    lsm_close(db);
    tap_ok(wrong == 0, "missing sst: no wrong data (%d)", wrong);
    tap_ok(errs > 0 && codes == 0 && unnamed == 0, "missing sst: lsm_open accepted a database "
           "without %s; its reads fail with LSM_ECORRUPT/LSM_EIO naming it (%d errors, %d with "
           "another code%s%s)", fname, errs, codes, codes ? ": " : "", example);
}

/* Writes `content` (len bytes) over path. */
static int write_file(const char *path, const void *content, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (len && fwrite(content, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

static void test_current_corruption(void)
{
    char pristine[2100], work[2100], path[2300];
    struct lsm_db *db;
    static const struct { const char *name; const char *content; } cases[] = {
        { "empty CURRENT", "" },
        { "CURRENT without newline, garbage", "\x01\x02 junk" },
        { "CURRENT naming a missing manifest", "MANIFEST-999999\n" },
        { "CURRENT naming a non-manifest", "000001.sst\n" },
        { "CURRENT with a path", "../MANIFEST-000001\n" },
    };
    size_t i;
    int rc;

    model_reset();
    new_dir(pristine, sizeof pristine);
    new_dir(work, sizeof work);
    open_env(pristine, NULL, &db);
    put_range(db, 0, 50, 1, 10);
    lsm_flush(db, 1);
    lsm_close(db);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_dir(pristine, work);
        snprintf(path, sizeof path, "%s/CURRENT", work);
        write_file(path, cases[i].content, strlen(cases[i].content));
        rc = open_env(work, NULL, &db);
        tap_ok(rc != 0 && rc != LSM_ENOTFOUND && strlen(lsm_last_error()) > 0,
               "%s: lsm_open fails with a clear error (%d %s: \"%s\")", cases[i].name, rc,
               lsm_strerror(rc), lsm_last_error());
        if (rc == 0)
            lsm_close(db);
    }
    /* CURRENT deleted but a manifest is there: not "no database". */
    copy_dir(pristine, work);
    snprintf(path, sizeof path, "%s/CURRENT", work);
    unlink(path);
    rc = open_env(work, NULL, &db);
    if (rc == 0) {
        int nsst = dt_count_files(work, ".sst");
        lsm_close(db);
        tap_ok(0, "CURRENT missing next to a MANIFEST and tables: lsm_open refuses rather "
               "than creating an empty database (it returned 0; %d .sst files left in the "
               "directory afterwards)", nsst);
    } else {
        tap_ok(1, "CURRENT missing next to a MANIFEST and tables: lsm_open refuses (%d: "
               "\"%s\")", rc, lsm_last_error());
    }
    /* The pristine copy still opens: failed opens changed nothing there. */
    rc = open_env(pristine, NULL, &db);
    if (tap_ok(rc == 0, "pristine database opens: %s", rc ? lsm_last_error() : "ok")) {
        tap_ok(verify_all(db, 0, "pristine") == 0, "pristine database intact");
        lsm_close(db);
    }
}

static void test_manifest_corruption(void)
{
    char pristine[2100], work[2100], mname[256], path[2400], errbuf[512] = "";
    struct lsm_db *db;
    int64_t size, off;
    int rc, fails = 0, opens = 0, wrong_total = 0, unclear = 0, bad_code = 0, n = 0,
        inconsistent = 0;
    char incons_example[900] = "";

    model_reset();
    new_dir(pristine, sizeof pristine);
    new_dir(work, sizeof work);
    open_env(pristine, NULL, &db);
    put_range(db, 0, 100, 1, 10);
    lsm_flush(db, 1);
    put_range(db, 50, 200, 2, 10);
    lsm_flush(db, 1);
    put_range(db, 150, 250, 3, 10);
    lsm_compact_range(db, NULL, 0, NULL, 0);
    put_range(db, 200, 300, 4, 10);
    lsm_flush(db, 1);
    lsm_close(db);
    {
        char cmd[2300];
        FILE *p;
        snprintf(cmd, sizeof cmd, "ls '%s' | grep '^MANIFEST-' | sort | tail -1", pristine);
        p = popen(cmd, "r");
        mname[0] = 0;
        if (p && fgets(mname, sizeof mname, p))
            mname[strcspn(mname, "\n")] = 0;
        if (p)
            pclose(p);
    }
    snprintf(path, sizeof path, "%s/%s", pristine, mname);
    size = file_size(path);
    if (!tap_ok(size > 0, "manifest corruption: setup wrote %s (%" PRId64 " bytes)", mname, size))
        return;
    snprintf(path, sizeof path, "%s/%s", work, mname);
    /* Flip bytes, then truncate at lengths: every byte of small manifests,
     * a sample of about 150 positions each of larger ones. */
    for (off = 0; off < 2 * size; off += size <= 150 ? 1 : 1 + (int64_t)(rnd() % (uint64_t)(size / 75))) {
        int64_t o = off < size ? off : off - size;
        copy_dir(pristine, work);
        if (off < size)
            flip_byte(path, o, (unsigned char)(1u << (rnd() % 8)));
        else if (truncate(path, o) != 0)
            continue;
        rc = open_env(work, NULL, &db);
        n++;
        if (rc != 0) {
            fails++;
            if (strlen(lsm_last_error()) == 0 || (rc == LSM_ECORRUPT &&
                strstr(lsm_last_error(), "MANIFEST") == NULL && strstr(lsm_last_error(), "CURRENT") == NULL)) {
                unclear++;
                snprintf(errbuf, sizeof errbuf, "%s at %" PRId64 ": %d \"%s\"",
                         off < size ? "flip" : "truncate", o, rc, lsm_last_error());
            }
            if (rc != LSM_ECORRUPT && rc != LSM_EIO) {
                bad_code++;
                snprintf(errbuf, sizeof errbuf, "%s at %" PRId64 ": %d \"%s\"",
                         off < size ? "flip" : "truncate", o, rc, lsm_last_error());
            }
            continue;
        }
        opens++;
        /* Opened (a torn last record dropped): may miss the last edit's
         * data, but must be a consistent database (every table it lists
         * exists) and never show data that was not written. */
        {
            int i, wrong = 0, errs = 0;
            char first_err[400] = "";
            for (i = 0; i < MAXK; i++) {
                char k[16], want[256];
                char *v = NULL;
                size_t kn = key_of(i, k), vn, wn;
                int g = lsm_get(db, NULL, k, kn, &v, &vn), ok = g == LSM_ENOTFOUND, gg;
                for (gg = 1; gg <= 4 && g == 0 && !ok; gg++) {
                    wn = val_of(i, gg, want);
                    ok = vn == wn && memcmp(v, want, wn) == 0;
                }
                if (g != 0 && g != LSM_ENOTFOUND) {
                    if (errs++ == 0)
                        snprintf(first_err, sizeof first_err, "%s: %d (%s) %s", k, g,
                                 lsm_strerror(g), lsm_last_error());
                } else if (!ok) {
                    wrong++;
                }
                lsm_free(v);
            }
            if (wrong) {
                wrong_total++;
                tap_diag("manifest %s at %" PRId64 " of %" PRId64 ": opened and returned %d "
                         "value(s) never written", off < size ? "flip" : "truncate", o, size,
                         wrong);
            }
            if (errs) {
                if (inconsistent++ == 0)
                    snprintf(incons_example, sizeof incons_example, "%s at %" PRId64 " of %"
                             PRId64 ": lsm_open returned 0, then %d of %d gets failed, first "
                             "%s", off < size ? "flip" : "truncate", o, size, errs, MAXK,
                             first_err);
            }
        }
        lsm_close(db);
    }
    tap_diag("manifest corruption: %d damaged copies: %d refused by lsm_open, %d opened "
             "(damage in the torn-tail region)", n, fails, opens);
    tap_ok(wrong_total == 0, "manifest corruption: never wrong data, no crash");
    tap_ok(inconsistent == 0, "manifest corruption: lsm_open never accepts a manifest whose "
           "tables are missing (%d of %d accepted ones were; %s)", inconsistent, opens,
           inconsistent ? incons_example : "ok");
    tap_ok(unclear == 0, "manifest corruption: refusals name the manifest (%s)",
           unclear ? errbuf : "ok");
    tap_ok(bad_code == 0, "manifest corruption: refusals are LSM_ECORRUPT/LSM_EIO (%s)",
           bad_code ? errbuf : "ok");
    tap_ok(fails > 0, "manifest corruption: damage in the middle of the manifest is refused");
}

/* The next cut of test_wal_tail: random steps, small ones in the last ~3
 * records; never past the whole file, which is always the last cut. */
static int64_t next_cut(int64_t cut, int64_t size)
{
    int64_t step = cut < size - 350 ? 1 + (int64_t)(rnd() % 300) : 1 + (int64_t)(rnd() % 3);

    if (cut < size && cut + step > size)
        return size;
    return cut + step;
}

/* Torn WAL tails: the writes that survive are a prefix; corruption in the
 * middle is reported. */
static void test_wal_tail(void)
{
    char pristine[2100], work[2100], wname[256], path[2400];
    struct lsm_db *db;
    int64_t size, cut;
    int rc, i, prev = -1, nonprefix = 0, openfail = 0, regress = 0, cuts = 0;
    char lasterr[512] = "";

    model_reset();
    new_dir(pristine, sizeof pristine);
    new_dir(work, sizeof work);
    open_env(pristine, NULL, &db);
    /* One record per key. */
    for (i = 0; i < 100; i++)
        put_range(db, i, i + 1, 1, 1);
    lsm_close(db);
    if (find_file(pristine, ".wal", wname, sizeof wname) != 0) {
        tap_ok(0, "torn WAL: setup left a WAL");
        return;
    }
    snprintf(path, sizeof path, "%s/%s", pristine, wname);
    size = file_size(path);
    tap_diag("torn WAL: %s is %" PRId64 " bytes", wname, size);
    snprintf(path, sizeof path, "%s/%s", work, wname);
    /* Every cut in the last ~3 records, some random ones before. */
    for (cut = 0; cut <= size; cut = next_cut(cut, size)) {
        int present = 0, first_absent = -1, ok_prefix = 1;
        copy_dir(pristine, work);
        if (truncate(path, cut) != 0)
            break;
        rc = open_env(work, NULL, &db);
        cuts++;
        if (rc != 0) {
            openfail++;
            snprintf(lasterr, sizeof lasterr, "cut at %" PRId64 ": %d %s", cut, rc,
                     lsm_last_error());
            continue;
        }
        for (i = 0; i < 100; i++) {
            char k[16], want[256];
            char *v = NULL;
            size_t kn = key_of(i, k), vn, wn = val_of(i, 1, want);
            int g = lsm_get(db, NULL, k, kn, &v, &vn);
            if (g == 0 && vn == wn && memcmp(v, want, wn) == 0) {
                present++;
                if (first_absent >= 0)
                    ok_prefix = 0;
            } else if (g == LSM_ENOTFOUND) {
                if (first_absent < 0)
                    first_absent = i;
            } else {
                ok_prefix = 0;
            }
            lsm_free(v);
        }
        if (!ok_prefix) {
            nonprefix++;
            tap_diag("torn WAL cut at %" PRId64 ": surviving writes are not a prefix", cut);
        }
        if (present < prev)
            regress++;
        prev = present;
        lsm_close(db);
    }
    tap_ok(openfail == 0, "torn WAL: %d cuts, every one recovers (%s)", cuts,
           openfail ? lasterr : "ok");
    tap_ok(nonprefix == 0, "torn WAL: the surviving writes are always a prefix");
    tap_ok(regress == 0 && prev == 100, "torn WAL: longer files keep more writes; the whole "
           "file keeps all 100 (%d)", prev);

    /* Garbage / zeros appended to the tail: everything is there. */
    {
        static const char *const kinds[] = { "zeros", "random bytes", "a copy of a header" };
        int k;
        for (k = 0; k < 3; k++) {
            char junk[300];
            FILE *f;
            int bad = 0;
            copy_dir(pristine, work);
            for (i = 0; i < (int)sizeof junk; i++)
                junk[i] = k == 0 ? 0 : (char)rnd();
            if (k == 2) {
                junk[4] = 10;
                junk[5] = 0;
                junk[6] = 1;
            }
            f = fopen(path, "ab");
            if (f) {
                fwrite(junk, 1, k == 2 ? 40 : sizeof junk, f);
                fclose(f);
            }
            rc = open_env(work, NULL, &db);
            if (!tap_ok(rc == 0, "torn WAL: %s appended: recovers (%s)", kinds[k],
                        rc ? lsm_last_error() : "ok"))
                continue;
            for (i = 0; i < 100; i++)
                gen[i] = 1;
            bad = verify_all(db, 0, "torn WAL garbage");
            tap_ok(bad == 0, "torn WAL: %s appended: all 100 writes there", kinds[k]);
            /* Recovery of the recovered database. */
            put_range(db, 100, 110, 2, 5);
            lsm_close(db);
            rc = open_env(work, NULL, &db);
            if (tap_ok(rc == 0, "torn WAL: reopen after writing to the recovered db")) {
                tap_ok(verify_all(db, 0, "torn WAL reopen") == 0,
                       "torn WAL: all writes there after the second recovery");
                lsm_close(db);
            }
            model_reset();
        }
    }

    /* A flipped bit anywhere before the last record (valid records follow):
     * corruption is reported, or (a harmless flip) everything is there;
     * never a silent loss of later acknowledged records. */
    {
        int64_t off;
        int positions = 0, silent = 0, reported = 0, intact = 0;
        char example[600] = "";
        for (off = 0; off < size * 9 / 10; off += off < 24 ? 1 : 1 + (int64_t)(rnd() % 300)) {
            int present = 0;
            copy_dir(pristine, work);
            flip_byte(path, off, (unsigned char)(1u << (rnd() % 8)));
            rc = open_env(work, NULL, &db);
            positions++;
            if (rc == LSM_ECORRUPT && strstr(lsm_last_error(), wname) != NULL) {
                reported++;
                continue;
            }
            if (rc != 0) {
                silent++;
                snprintf(example, sizeof example, "flip at %" PRId64 ": open %d \"%s\"", off,
                         rc, lsm_last_error());
                continue;
            }
            for (i = 0; i < 100; i++) {
                char k[16], want[256];
                char *v = NULL;
                size_t kn = key_of(i, k), vn, wn = val_of(i, 1, want);
                if (lsm_get(db, NULL, k, kn, &v, &vn) == 0 && vn == wn &&
                    memcmp(v, want, wn) == 0)
                    present++;
                lsm_free(v);
            }
            lsm_close(db);
            if (present == 100) {
                intact++;
            } else {
                if (silent++ == 0 || off == 4 || off == 5)
                    snprintf(example, sizeof example, "bit flip at offset %" PRId64 " of %"
                             PRId64 ": lsm_open returned 0 and only %d of 100 acknowledged "
                             "writes are there", off, size, present);
            }
        }
        tap_ok(silent == 0, "WAL damaged before its last record (%d positions: %d reported, %d "
               "intact): never a silent loss (%d; %s)", positions, reported, intact, silent,
               silent ? example : "ok");
    }

    /* A flipped byte in an early record's payload: reported. */
    copy_dir(pristine, work);
    flip_byte(path, 20, 0x10);
    rc = open_env(work, NULL, &db);
    tap_ok(rc == LSM_ECORRUPT && strstr(lsm_last_error(), wname) != NULL,
           "WAL damaged in the middle: lsm_open reports corruption naming %s (%d: \"%s\")",
           wname, rc, lsm_last_error());
    if (rc == 0)
        lsm_close(db);
}

/* ONLY=word runs only the parts named by it (wal, bg, sweep, sst, current,
 * missing, manifest, torn). */
static int want(const char *part)
{
    const char *only = getenv("ONLY");
    return only == NULL || *only == 0 || strstr(only, part) != NULL;
}

int main(void)
{
    struct timeval tv;
    char logp[2200];
    const char *s = getenv("SEED");

    gettimeofday(&tv, NULL);
    seed = s && *s ? strtoull(s, NULL, 0) : ((uint64_t)tv.tv_sec * 1000003u) ^
                                                (uint64_t)tv.tv_usec ^ ((uint64_t)getpid() << 20);
    rng = seed;
    tap_diag("test_fault: SEED=%" PRIu64, seed);
    /* The faults are injected, not real: a RAM file system (when there is
     * one and TMPDIR is not set) keeps the hundreds of reopens fast. */
    if ((getenv("TMPDIR") == NULL || !*getenv("TMPDIR")) && access("/dev/shm", W_OK) == 0) {
        snprintf(base, sizeof base, "/dev/shm/lsmdb-test-XXXXXX");
        if (mkdtemp(base) == NULL)
            dt_mkdtemp(base, sizeof base);
    } else {
        dt_mkdtemp(base, sizeof base);
    }
    snprintf(logp, sizeof logp, "%s/engine.log", base);
    log_open_file(logp);
    tap_diag("directories under %s", base);
    fenv = io_env_fault_create(io_env_posix());

    if (want("wal"))
        test_wal_append_fault(IO_FAULT_EIO, "EIO on WAL append", LSM_EIO);
    if (want("wal"))
        test_wal_append_fault(IO_FAULT_ENOSPC, "ENOSPC on WAL append", LSM_ENOSPC);
    if (want("wal"))
        test_wal_append_fault(IO_FAULT_SHORT_WRITE, "short write on WAL append", LSM_EIO);
    if (want("bg")) {
        test_bg_fault(0, IO_FAULT_ENOSPC);
        test_bg_fault(1, IO_FAULT_ENOSPC);
        test_bg_fault(0, IO_FAULT_EIO);
        test_bg_fault(1, IO_FAULT_EIO);
    }
    if (want("sweep"))
        test_sweep();
    if (want("sst"))
        test_sst_corruption();
    if (want("current"))
        test_current_corruption();
    if (want("missing"))
        test_missing_sst();
    if (want("manifest"))
        test_manifest_corruption();
    if (want("torn"))
        test_wal_tail();

    io_env_fault_destroy(fenv);
    if (tap_failed == 0 && !getenv("KEEP"))
        dt_rmrf(base);
    else
        tap_diag("kept %s (SEED=%" PRIu64 ")", base, seed);
    return tap_done();
}
