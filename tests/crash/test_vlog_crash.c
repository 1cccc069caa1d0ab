/* test_vlog_crash: crashes during separated writes and value-log GC.
 *
 * 1. kill -9: a child process writes puts (values around and above the
 *    separation threshold, small segments) and deletes over a small key
 *    set, with sync = 1 (odd rounds) or as runs of lsm_write_buffered
 *    acknowledged by one lsm_flush_wal (even rounds, the daemon's way, where
 *    value-log bytes stay buffered until that push). Keys are overwritten
 *    and deleted constantly; a forced value-log GC pass runs every few dozen
 *    writes (plus background GC): the kill lands in writes, GC scans, GC
 *    rewrites and segment removals. Before each write the child reports the
 *    attempt, after its acknowledgement the ack, through a pipe. The parent
 *    kills it after 20-400 ms, reopens and checks every key: its value is
 *    the last acknowledged one (or one in flight), a deleted
 *    key stays deleted (no resurrection), every value is intact, and a full
 *    scan ends with status 0 (no pointer to a missing or truncated segment).
 * 2. Fault env: the same in-process through io_env_fault; another thread
 *    "crashes the machine" (every unsynced byte and directory entry
 *    dropped) at a random moment; after reset and reopen the same checks.
 *    This is what makes the vlog-before-WAL sync order matter.
 *
 * Some writes are patches (lsm_batch_patch) of a value's first 16 bytes,
 * so a kill or crash also lands among patched pointers, their flushes,
 * compactions and GC rewrites; a patched value is the base version's value
 * under a header naming the key and the patch's own version.
 *
 * Environment: SEED=n (printed), ROUNDS=n (kill -9 rounds, default 30),
 * FAULT_ROUNDS=n (default 15), KEEP=1 keeps the directory. TAP output. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/io.h"
#include "util/log.h"
#include "util/zmalloc.h"
#include "../tap.h"
#include "../unit/db_test.h"

#define NKEYS 160

static uint64_t rng;

static uint64_t rnd(void)
{
    rng += 0x9e3779b97f4a7c15ull;
    uint64_t x = rng;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void key_of(char *k, uint32_t i)
{
    snprintf(k, 16, "key%05u", i);
}

/* Value of (key, ver): length 40..4000 from both, content derived from both. */
static size_t value_of(char *v, uint32_t k, uint32_t ver)
{
    size_t len = 40 + (size_t)((k * 2654435761u + ver * 40503u) % 3960), i;
    int n = snprintf(v, 48, "%u.%u:", k, ver);
    for (i = (size_t)n; i < len; i++)
        v[i] = (char)('A' + (int)((i * 31 + k + ver * 7) % 53));
    return len;
}

/* A patch's 16 bytes: '#', the key, its version, padding. */
#define PATCH_LEN 16
static void patch_of(char *p, uint32_t k, uint32_t pver)
{
    char t[PATCH_LEN + 1];
    snprintf(t, sizeof t, "#%03x%08x----", k & 0xfffu, pver);
    memcpy(p, t, PATCH_LEN);
}

/* The value of (key, ver) when ver is a patch of base (0: not a patch). */
static size_t value_full(char *v, uint32_t k, uint32_t ver, uint32_t base)
{
    if (base == 0)
        return value_of(v, k, ver);
    size_t n = value_of(v, k, base);
    patch_of(v, k, ver);
    return n;
}

static void options(struct lsm_options *o, struct io_env *env)
{
    lsm_options_init(o);
    o->env = env;
    o->value_separation_threshold = 200;
    o->vlog_file_size = 48 << 10;
    o->vlog_gc_ratio = 0.3;
    o->vlog_gc_max_mbps = 0;
    o->write_buffer_size = 64 << 10;
    o->bg_threads = 2;
}

/* Model: ver[k] = acknowledged version (0 = absent); pend[k] = a version
 * in flight for k (has_pend[k]). */
struct model {
    uint32_t ver[NKEYS];
    uint32_t base[NKEYS];           /* ver patched this version (0: no patch) */
    uint32_t pend[NKEYS];
    uint32_t pend_base[NKEYS];
    unsigned char has_pend[NKEYS];
};

struct msg {
    char t;              /* 'A' attempt, 'K' ack */
    uint32_t key, ver;   /* ver 0 = delete (or a patch of an absent key) */
    uint32_t base;       /* a patch of this version's value; 0 = a plain write */
};

static uint64_t patched_seen;       /* patched values verify met */

/* Checks db against m; in-flight ops may or may not be there. Returns
 * 0 or 1 (a diagnostic printed). Updates m to what the db holds. */
static int verify(struct lsm_db *db, struct model *m, const char *what)
{
    char k[16], want[4096];
    struct lsm_iter *it;
    uint32_t i;
    int bad = 0, n = 0;

    for (i = 0; i < NKEYS && !bad; i++) {
        char *v = NULL;
        size_t len = 0;
        uint32_t got = 0, kk;
        int rc;
        key_of(k, i);
        uint32_t base = 0;
        rc = lsm_get(db, NULL, k, strlen(k), &v, &len);
        if (rc == 0 && len > 0 && v[0] == '#') {
            /* A patch: its base is the model's for that version. */
            if (sscanf(v, "#%3x%8x", &kk, &got) != 2)
                got = 0;
            base = got == m->ver[i] ? m->base[i]
                 : m->has_pend[i] && got == m->pend[i] ? m->pend_base[i] : 0;
            if (kk != i || base == 0 || value_full(want, i, got, base) != len ||
                memcmp(want, v, len) != 0) {
                tap_diag("%s: key %u: damaged or foreign patched value", what, i);
                bad = 1;
            }
            patched_seen++;
        } else if (rc == 0) {
            if (sscanf(v, "%u.%u:", &kk, &got) != 2 || kk != i ||
                value_of(want, i, got) != len || memcmp(want, v, len) != 0) {
                tap_diag("%s: key %u: damaged or foreign value", what, i);
                bad = 1;
            }
        } else if (rc != LSM_ENOTFOUND) {
            tap_diag("%s: key %u: get: %s", what, i, lsm_last_error());
            bad = 1;
        }
        lsm_free(v);
        if (bad)
            break;
        if (got != m->ver[i] && !(m->has_pend[i] && got == m->pend[i])) {
            tap_diag("%s: key %u holds version %u, acknowledged %u%s", what, i, got, m->ver[i],
                     got == 0 ? " (acknowledged write lost)" : m->ver[i] == 0 ?
                     " (deleted key resurrected)" : "");
            bad = 1;
        }
        m->ver[i] = got;
        m->base[i] = base;
    }
    memset(m->has_pend, 0, sizeof m->has_pend);
    it = lsm_iter_create(db, NULL);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t vl;
        lsm_iter_value(it, &vl);
        n++;
    }
    if (lsm_iter_status(it) != 0) {
        tap_diag("%s: scan: %s", what, lsm_last_error());
        bad = 1;
    }
    lsm_iter_destroy(it);
    for (i = 0; i < NKEYS; i++)
        n -= m->ver[i] != 0;
    if (!bad && n != 0) {
        tap_diag("%s: scan count differs from gets by %d", what, n);
        bad = 1;
    }
    return bad;
}

/* One write: put a new version, delete, or (patch: m->base set) patch the
 * first bytes; 0 or the lsm error. buffered: lsm_write_buffered
 * (acknowledged only after a later lsm_flush_wal, as the server does under
 * appendfsync everysec), else a sync write. */
static int do_op(struct lsm_db *db, const struct msg *m, int patch, int buffered)
{
    char k[16], v[4096];
    struct lsm_write_options wo = { .sync = 1 };
    struct lsm_batch *b = lsm_batch_create();
    int rc;
    key_of(k, m->key);
    if (patch) {
        patch_of(v, m->key, m->ver);
        lsm_batch_patch(b, k, strlen(k), v, PATCH_LEN);
    } else if (m->ver == 0) {
        lsm_batch_delete(b, k, strlen(k));
    } else {
        lsm_batch_put(b, k, strlen(k), v, value_of(v, m->key, m->ver));
    }
    rc = buffered ? lsm_write_buffered(db, b) : lsm_write(db, &wo, b);
    lsm_batch_destroy(b);
    return rc;
}

/* The next operation on key: a delete (ver 0), a new version, or now and
 * then a patch of the key's value; base[] is what this process knows of
 * each key (version patched, UINT32_MAX unknown), kept up to date. */
static int next_op(struct lsm_db *db, struct msg *m, uint32_t *ver, uint32_t *base,
                   uint32_t *cur)
{
    uint32_t r = (uint32_t)(rnd() % 12);
    m->base = 0;
    if (r < 3 && cur[m->key] == UINT32_MAX) {
        /* Not written by this process yet: learn its plain version. */
        char k[16], *v = NULL;
        size_t len = 0;
        uint32_t kk, got;
        key_of(k, m->key);
        int rc = lsm_get(db, NULL, k, strlen(k), &v, &len);
        if (rc == LSM_ENOTFOUND)
            cur[m->key] = base[m->key] = 0;
        else if (rc == 0 && sscanf(v, "%u.%u:", &kk, &got) == 2)
            cur[m->key] = base[m->key] = got;
        lsm_free(v);
    }
    if (r < 3 && cur[m->key] != UINT32_MAX) {
        m->ver = cur[m->key] == 0 ? 0 : ++*ver;     /* absent stays absent */
        m->base = cur[m->key] == 0 ? 0 : base[m->key];
        cur[m->key] = m->ver;
        return 1;
    }
    m->ver = r == 3 || r == 4 ? 0 : ++*ver;
    cur[m->key] = base[m->key] = m->ver;
    return 0;
}

static void apply_msg(struct model *m, const struct msg *msg, uint64_t *acks)
{
    if (msg->t == 'A') {
        m->has_pend[msg->key] = 1;
        m->pend[msg->key] = msg->ver;
        m->pend_base[msg->key] = msg->base;
    } else {
        m->ver[msg->key] = msg->ver;
        m->base[msg->key] = msg->base;
        m->has_pend[msg->key] = 0;
        ++*acks;
    }
}

/* ---- 1. kill -9 ---- */

/* Writes forever. Sync mode: one sync write at a time, each acknowledged.
 * Buffered mode: runs of 1-64 buffered writes to distinct keys, then one
 * lsm_flush_wal acknowledges the run (the WAL may reach the OS before the
 * value-log bytes its records point at; only acknowledged ones count). */
static void child_main(const char *dir, int fd, uint32_t ver0, uint64_t seed, int buffered)
{
    struct lsm_options o;
    struct lsm_db *db;
    uint32_t ver = ver0, base[NKEYS], cur[NKEYS];
    int n = 0;

    memset(cur, 0xff, sizeof cur);      /* unknown until read or written */
    memset(base, 0, sizeof base);
    rng = seed;
    options(&o, NULL);
    if (lsm_open(dir, &o, &db) != 0)
        _exit(3);
    for (;;) {
        struct msg run[64];
        unsigned char used[NKEYS] = { 0 };
        int len = buffered ? 1 + (int)(rnd() % 64) : 1, i;
        for (i = 0; i < len; i++) {
            struct msg *m = &run[i];
            do
                m->key = (uint32_t)(rnd() % NKEYS);
            while (used[m->key]);
            used[m->key] = 1;
            m->t = 'A';
            int patch = next_op(db, m, &ver, base, cur);
            if (write(fd, m, sizeof *m) != sizeof *m)
                _exit(4);
            if (do_op(db, m, patch, buffered) != 0)
                _exit(5);
        }
        if (buffered && lsm_flush_wal(db) != 0)
            _exit(5);
        for (i = 0; i < len; i++) {
            run[i].t = 'K';
            if (write(fd, &run[i], sizeof run[i]) != sizeof run[i])
                _exit(4);
        }
        if (++n % 40 == 0)
            lsm_vlog_gc(db, 1);
    }
}

static int kill_round(const char *dir, struct model *m, int round, uint32_t *ver0,
                      int buffered)
{
    int p[2], status, bad;
    pid_t pid;
    int64_t delay = 20 + (int64_t)(rnd() % 380);
    struct timespec t0, t1;
    struct lsm_options o;
    struct lsm_db *db;
    struct msg msg;
    char what[64];
    uint64_t acks = 0;

    if (pipe(p) != 0)
        tap_bail("pipe");
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_main(dir, p[1], *ver0, rnd(), buffered);
    }
    close(p[1]);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pf = { p[0], POLLIN, 0 };
        int64_t el;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= delay)
            break;
        if (poll(&pf, 1, (int)(delay - el)) > 0) {
            if (read(p[0], &msg, sizeof msg) != sizeof msg)
                break;
            apply_msg(m, &msg, &acks);
        }
    }
    kill(pid, SIGKILL);
    /* Whatever the child wrote before dying still counts. */
    while (read(p[0], &msg, sizeof msg) == sizeof msg)
        apply_msg(m, &msg, &acks);
    close(p[0]);
    waitpid(pid, &status, 0);
    *ver0 += 1000000;
    options(&o, NULL);
    snprintf(what, sizeof what, "kill -9 round %d (%s writes)", round,
             buffered ? "buffered" : "sync");
    if (lsm_open(dir, &o, &db) != 0) {
        tap_diag("%s: reopen: %s", what, lsm_last_error());
        return tap_ok(0, "%s: reopen", what), 1;
    }
    bad = verify(db, m, what);
    bad |= lsm_close(db) != 0;
    tap_ok(!bad, "%s: killed after %" PRId64 " ms, %" PRIu64 " acknowledged writes: all there, "
           "nothing resurrected, no dangling pointer", what, delay, acks);
    return bad;
}

/* ---- 2. fault env ---- */

struct crasher { struct io_env *env; int delay_ms; };

static void *crasher_main(void *arg)
{
    struct crasher *c = arg;
    usleep((useconds_t)c->delay_ms * 1000);
    io_env_fault_crash(c->env);
    return NULL;
}

static int fault_round(const char *dir, struct io_env *env, struct model *m, int round,
                       uint32_t *ver)
{
    uint64_t acks = 0;
    struct lsm_options o;
    struct lsm_db *db = NULL;
    struct crasher cr = { env, 10 + (int)(rnd() % 300) };
    pthread_t th;
    char what[64];
    int bad, n = 0;
    uint32_t base[NKEYS], cur[NKEYS];

    memset(cur, 0xff, sizeof cur);
    memset(base, 0, sizeof base);

    options(&o, env);
    snprintf(what, sizeof what, "fault-env round %d", round);
    if (lsm_open(dir, &o, &db) != 0)
        return tap_ok(0, "%s: open: %s", what, lsm_last_error()), 1;
    pthread_create(&th, NULL, crasher_main, &cr);
    for (;;) {
        struct msg op = { 'A', (uint32_t)(rnd() % NKEYS), 0, 0 };
        int patch = next_op(db, &op, ver, base, cur);
        apply_msg(m, &op, &acks);
        if (do_op(db, &op, patch, 0) != 0)
            break;
        op.t = 'K';
        apply_msg(m, &op, &acks);
        if (++n % 40 == 0 && lsm_vlog_gc(db, 1) != 0)
            break;
    }
    pthread_join(th, NULL);
    lsm_close(db);            /* the machine is down: errors expected */
    io_env_fault_reset(env);
    if (lsm_open(dir, &o, &db) != 0)
        return tap_ok(0, "%s: reopen: %s", what, lsm_last_error()), 1;
    bad = verify(db, m, what);
    bad |= lsm_close(db) != 0;
    tap_ok(!bad, "%s: crash after %d ms, %d writes: acknowledged ones all there, nothing "
           "resurrected, no dangling pointer", what, cr.delay_ms, n);
    return bad;
}

int main(void)
{
    const char *s = getenv("SEED"), *r = getenv("ROUNDS"), *fr = getenv("FAULT_ROUNDS");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) * 2654435761u;
    int rounds = r ? atoi(r) : 30, frounds = fr ? atoi(fr) : 15, i, bad = 0;
    char dir[4096], sub[4200];
    struct model m;
    uint32_t ver0 = 1;
    struct io_env *env;

    log_set_level(LOG_WARNING);
    rng = seed;
    dt_mkdtemp(dir, sizeof dir);
    tap_diag("test_vlog_crash SEED=%" PRIu64 " dir %s", seed, dir);

    snprintf(sub, sizeof sub, "%s/kill", dir);
    memset(&m, 0, sizeof m);
    for (i = 1; i <= rounds && !bad; i++)
        bad |= kill_round(sub, &m, i, &ver0, i % 2 == 0);

    snprintf(sub, sizeof sub, "%s/fault", dir);
    memset(&m, 0, sizeof m);
    env = io_env_fault_create(io_env_posix());
    ver0 = 1;
    for (i = 1; i <= frounds && !bad; i++)
        bad |= fault_round(sub, env, &m, i, &ver0);
    io_env_fault_destroy(env);
    tap_ok(bad || patched_seen > 0, "patched values were checked after crashes (%" PRIu64 ")",
           patched_seen);
    if (bad)
        tap_diag("kept %s (SEED=%" PRIu64 ")", dir, seed);
    else if (!getenv("KEEP"))
        dt_rmrf(dir);
    return tap_done();
}
