/* test_crash: acknowledged writes survive crashes; nothing else appears.
 *
 * 1. kill -9: a child (crash_writer) writes batches with sync = 1 and
 *    reports each batch before the write (ATTEMPT) and after it returned 0
 *    (ACK) through a pipe. The parent kills it with SIGKILL after a random
 *    10-300 ms (sometimes during its recovery), reopens the same directory
 *    and checks that the database is exactly the state after every
 *    acknowledged batch, or that plus the one batch in flight (batches are
 *    atomic): no acknowledged write lost, no deleted key resurrected, no
 *    key or value that was never written. Every round reopens the same
 *    directory, so recovery of a recovered database is covered.
 * 2. Fault env, sync = 1: writes in-process through io_env_fault; another
 *    thread calls io_env_fault_crash() (unsynced bytes and directory entries
 *    are dropped) at a random moment; after reset and reopen every write
 *    whose lsm_write returned 0 is present, same exactness as 1.
 * 3. Fault env, sync = 0 + lsm_sync() as group commit: everything before
 *    the last successful lsm_sync survives; what survives after it is a
 *    prefix of the batches (WAL order).
 *
 * Environment: SEED=n (printed), ROUNDS=n (kill -9 rounds, default 30),
 * FAULT_ROUNDS=n (each fault variant, default 15), KEEP=1 keeps the
 * directories. TAP output. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/io.h"
#include "util/log.h"
#include "util/zmalloc.h"
#include "../tap.h"
#include "../unit/db_test.h"
#include "crash_common.h"

static uint64_t seed, rng;

static uint64_t rnd(void)
{
    rng = hash_mix64(rng);
    return rng;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- model: w[idx] = operation number of idx's live put, 0 = absent ---- */

struct state {
    uint64_t *w;
    uint64_t cap;
};

static void state_grow(struct state *s, uint64_t idx)
{
    if (idx < s->cap)
        return;
    uint64_t n = s->cap ? s->cap : 1024;
    while (n <= idx)
        n *= 2;
    s->w = zrealloc(s->w, n * sizeof *s->w);
    memset(s->w + s->cap, 0, (n - s->cap) * sizeof *s->w);
    s->cap = n;
}

static uint64_t state_at(const struct state *s, uint64_t idx)
{
    return idx < s->cap ? s->w[idx] : 0;
}

static void state_apply(struct state *s, uint64_t first, uint64_t last)
{
    uint64_t c;
    for (c = first; c <= last; c++) {
        struct crash_op op = crash_op(c);
        state_grow(s, op.idx);
        s->w[op.idx] = op.is_delete ? 0 : c;
    }
}

static void state_copy(struct state *dst, const struct state *src)
{
    state_grow(dst, src->cap ? src->cap - 1 : 0);
    memset(dst->w, 0, dst->cap * sizeof *dst->w);
    if (src->cap)
        memcpy(dst->w, src->w, src->cap * sizeof *src->w);
}

struct batch_range {
    uint64_t first, last;
};

struct opts_env {
    struct io_env *env;
};

/* Same options as crash_writer's. */
static void crash_options(struct lsm_options *o, struct io_env *env)
{
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = 64 << 10;
    o->block_size = 1024;
    o->max_bytes_for_level_base = 256 << 10;
    o->l0_compaction_trigger = 2;
    o->block_cache_size = 1 << 20;
    o->bg_threads = 2;
    o->env = env;
}

/* Reads the whole database into d (idx -> operation number); 0 or -1 with
 * a diagnostic (a foreign key, a damaged value, an iterator error). */
static int scan_db(struct lsm_db *db, struct state *d, uint64_t *nkeys)
{
    struct lsm_iter *it = lsm_iter_create(db, NULL);
    char want[CRASH_MAX_VALUE];
    int rc = 0;

    *nkeys = 0;
    if (d->cap)
        memset(d->w, 0, d->cap * sizeof *d->w);
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t kn, vn;
        const char *k = lsm_iter_key(it, &kn), *v = lsm_iter_value(it, &vn);
        uint64_t idx = crash_key_idx(k, kn), c = crash_value_c(v, vn);
        if (idx == 0 || c == 0 || crash_value(idx, c, want) != vn ||
            memcmp(want, v, vn) != 0 || crash_op(c).idx != idx || crash_op(c).is_delete) {
            tap_diag("scan: key '%.*s' (len %zu) has a value that no write produced (len %zu, "
                     "starts '%.*s')", (int)kn, k, kn, vn, (int)(vn < 24 ? vn : 24), v);
            rc = -1;
            break;
        }
        state_grow(d, idx);
        d->w[idx] = c;
        (*nkeys)++;
    }
    if (rc == 0 && lsm_iter_status(it) != 0) {
        tap_diag("scan: iterator status %d: %s", lsm_iter_status(it), lsm_last_error());
        rc = -1;
    }
    lsm_iter_destroy(it);
    return rc;
}

/* Point reads agree with the scan for a sample of key numbers. */
static int check_gets(struct lsm_db *db, const struct state *d, uint64_t max_idx, int n)
{
    char key[CRASH_KEY_LEN];
    int i;

    for (i = 0; i < n && max_idx > 0; i++) {
        uint64_t idx = 1 + rnd() % max_idx, c = state_at(d, idx);
        char *v = NULL;
        size_t vn;
        int rc;
        crash_key(idx, key);
        rc = lsm_get(db, NULL, key, CRASH_KEY_LEN, &v, &vn);
        if ((c == 0 && rc != LSM_ENOTFOUND) || (c != 0 && (rc != 0 || crash_value_c(v, vn) != c))) {
            tap_diag("get of key %" PRIu64 ": rc %d (%s), value from op %" PRIu64
                     ", but the scan saw op %" PRIu64, idx, rc, rc ? lsm_last_error() : "",
                     rc == 0 ? crash_value_c(v, vn) : 0, c);
            lsm_free(v);
            return -1;
        }
        lsm_free(v);
    }
    return 0;
}

/* Explains how d differs from the durable state m (first few keys). */
static void explain(const struct state *m, const struct state *d, uint64_t last_attempted)
{
    uint64_t cap = m->cap > d->cap ? m->cap : d->cap, idx;
    int shown = 0;

    for (idx = 1; idx < cap && shown < 8; idx++) {
        uint64_t e = state_at(m, idx), a = state_at(d, idx);
        const char *why;
        if (e == a)
            continue;
        if (a > last_attempted)
            why = "a write that was never attempted";
        else if (e != 0 && a == 0)
            why = "acknowledged put lost (or a later delete not acknowledged)";
        else if (e != 0 && a < e)
            why = "acknowledged overwrite lost: an older value came back";
        else if (e == 0 && a != 0 && a < m->cap && crash_op(a).idx == idx)
            why = a <= last_attempted ? "deleted key resurrected, or unacknowledged write present"
                                      : "never written";
        else
            why = "unacknowledged write present";
        tap_diag("  key %" PRIu64 ": expected %s%" PRIu64 ", found %s%" PRIu64 ": %s", idx,
                 e ? "value of op " : "absent ", e, a ? "value of op " : "absent ", a, why);
        shown++;
    }
}

/* The database must equal m after applying a prefix of `pending` batches
 * (batch boundaries only). On success m becomes the database state and
 * *next the next operation number. */
static int verify(struct lsm_db *db, struct state *m, const struct batch_range *pending,
                  int npending, uint64_t *next, const char *what, uint64_t *nkeys_out,
                  int *applied_out)
{
    static struct state d, m0;
    uint64_t cap, idx, mismatch = 0, nkeys, last_attempted;
    int i, matched = -2;

    last_attempted = npending ? pending[npending - 1].last : *next - 1;
    if (scan_db(db, &d, &nkeys) != 0)
        return -1;
    state_copy(&m0, m);
    state_grow(m, d.cap ? d.cap - 1 : 0);
    state_grow(&d, m->cap - 1);
    cap = m->cap;
    for (idx = 0; idx < cap; idx++)
        mismatch += m->w[idx] != d.w[idx];
    if (mismatch == 0)
        matched = -1;
    for (i = 0; i < npending && matched == -2; i++) {
        uint64_t c;
        for (c = pending[i].first; c <= pending[i].last; c++) {
            struct crash_op op = crash_op(c);
            uint64_t nv = op.is_delete ? 0 : c;
            if (op.idx >= cap) {       /* d has nothing there */
                if (nv != 0)
                    mismatch++;
                state_grow(m, op.idx);
                state_grow(&d, op.idx);
                cap = m->cap;
                m->w[op.idx] = nv;
                continue;
            }
            mismatch -= m->w[op.idx] != d.w[op.idx];
            m->w[op.idx] = nv;
            mismatch += m->w[op.idx] != d.w[op.idx];
        }
        if (mismatch == 0)
            matched = i;
    }
    if (matched == -2) {
        tap_diag("%s: the database matches neither the acknowledged state nor any allowed "
                 "in-flight prefix (%d pending batch(es), last attempted op %" PRIu64
                 "); %" PRIu64 " keys in the database. Differences from the durable state:",
                 what, npending, last_attempted, nkeys);
        explain(&m0, &d, last_attempted);
        state_copy(m, &m0);
        return -1;
    }
    state_copy(m, &d);
    *next = matched >= 0 ? pending[matched].last + 1 : (npending ? pending[0].first : *next);
    *nkeys_out = nkeys;
    *applied_out = matched + 1;
    if (check_gets(db, &d, last_attempted, 300) != 0) {
        tap_diag("%s: lsm_get disagrees with the iterator", what);
        return -1;
    }
    return 0;
}

static int open_db(const char *dir, struct io_env *env, struct lsm_db **db)
{
    struct lsm_options o;
    int rc;
    crash_options(&o, env);
    rc = lsm_open(dir, &o, db);
    if (rc != 0)
        tap_diag("lsm_open(%s): %d %s", dir, rc, lsm_last_error());
    return rc;
}

/* ---- 1: kill -9 of a writer process ---- */

static char writer_path[PATH_MAX], writer_log[4400];

static void find_writer(const char *argv0)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;
    if (n <= 0) {
        snprintf(self, sizeof self, "%s", argv0);
        n = (ssize_t)strlen(self);
    }
    self[n] = 0;
    slash = strrchr(self, '/');
    if (slash)
        slash[1] = 0;
    else
        strcpy(self, "./");
    snprintf(writer_path, sizeof writer_path, "%scrash_writer", self);
}

static int read_msg(int fd, struct crash_msg *m, int timeout_ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    size_t got = 0;
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0)
        return 0;          /* timeout */
    while (got < sizeof *m) {
        ssize_t n = read(fd, (char *)m + got, sizeof *m - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;     /* EOF */
        got += (size_t)n;
    }
    return 1;
}

/* What the parent learned from one writer round. */
struct round_state {
    int opened, err, has_pending;
    struct batch_range pending;     /* the batch being written, if any */
    uint64_t acked_ops, next;       /* next: first op of the next round */
};

static void round_msg(struct round_state *rs, struct state *m, const struct crash_msg *msg)
{
    if (msg->type == CRASH_MSG_OPENED) {
        rs->opened = 1;
    } else if (msg->type == CRASH_MSG_ATTEMPT) {
        rs->pending.first = msg->first;
        rs->pending.last = msg->last;
        rs->has_pending = 1;
    } else if (msg->type == CRASH_MSG_ACK) {
        state_apply(m, msg->first, msg->last);
        rs->acked_ops += msg->last - msg->first + 1;
        rs->next = msg->last + 1;
        rs->has_pending = 0;
    } else if (msg->type == CRASH_MSG_ERROR) {
        rs->err = msg->rc;
    }
}

static void kill_rounds(const char *dir, int rounds)
{
    struct state m = { NULL, 0 };
    uint64_t next = 1, total_acked = 0;
    int round, failures = 0, in_flight_seen = 0, in_flight_kept = 0;

    for (round = 1; round <= rounds && failures == 0; round++) {
        int fds[2], status, applied = 0;
        pid_t pid;
        int64_t delay = 10 + (int64_t)(rnd() % 291), deadline;
        struct round_state rs = { .next = next };
        uint64_t nkeys = 0;
        struct lsm_db *db;
        struct crash_msg msg;
        char first[32], sd[32], fdstr[16];

        if (pipe(fds) != 0)
            tap_bail("pipe");
        snprintf(first, sizeof first, "%" PRIu64, next);
        snprintf(sd, sizeof sd, "%" PRIu64, rnd());
        snprintf(fdstr, sizeof fdstr, "%d", fds[1]);
        fflush(stdout);
        pid = fork();
        if (pid < 0)
            tap_bail("fork");
        if (pid == 0) {
            close(fds[0]);
            execl(writer_path, writer_path, dir, first, sd, fdstr, writer_log, (char *)NULL);
            perror(writer_path);
            _exit(127);
        }
        close(fds[1]);
        deadline = now_ms() + delay;
        for (;;) {
            int64_t left = deadline - now_ms();
            int r;
            if (left <= 0)
                break;
            r = read_msg(fds[0], &msg, (int)left);
            if (r < 0)
                break;
            if (r == 0)
                continue;
            round_msg(&rs, &m, &msg);
        }
        kill(pid, SIGKILL);
        /* Messages written before the kill are still in the pipe. */
        while (read_msg(fds[0], &msg, 5000) > 0)
            round_msg(&rs, &m, &msg);
        next = rs.next;
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (rs.err != 0 || !WIFSIGNALED(status)) {
            tap_ok(0, "round %d: the writer failed by itself (error %d, status 0x%x); "
                   "see its stderr above", round, rs.err, status);
            failures++;
            break;
        }
        total_acked += rs.acked_ops;
        if (open_db(dir, NULL, &db) != 0) {
            tap_ok(0, "round %d (SEED=%" PRIu64 "): reopen after kill -9 at %" PRId64 " ms",
                   round, seed, delay);
            failures++;
            break;
        }
        {
            char what[128];
            snprintf(what, sizeof what, "kill -9 round %d (SEED=%" PRIu64 ", killed at %" PRId64
                     " ms)", round, seed, delay);
            if (verify(db, &m, &rs.pending, rs.has_pending, &next, what, &nkeys, &applied) != 0) {
                tap_ok(0, "%s: acknowledged writes present, nothing else", what);
                failures++;
                lsm_close(db);
                break;
            }
        }
        if (rs.has_pending) {
            in_flight_seen++;
            in_flight_kept += applied;
        }
        tap_ok(lsm_close(db) == 0, "kill -9 round %d: killed at %" PRId64 " ms%s, %" PRIu64
               " ops acknowledged, all present; in-flight batch %s; %" PRIu64 " keys",
               round, delay, rs.opened ? "" : " (during open)", rs.acked_ops,
               !rs.has_pending ? "none" : applied ? "present" : "absent", nkeys);
    }
    tap_diag("kill -9: %d rounds, %" PRIu64 " acknowledged ops, in-flight batches: %d seen, "
             "%d of them recovered", round - 1, total_acked, in_flight_seen, in_flight_kept);
    zfree(m.w);
}

/* ---- 2 and 3: fault env crash ---- */

struct crasher {
    struct io_env *env;
    int delay_ms;
    volatile int fired;
};

static void *crasher_main(void *arg)
{
    struct crasher *cr = arg;
    usleep((useconds_t)cr->delay_ms * 1000);
    io_env_fault_crash(cr->env);
    __atomic_store_n(&cr->fired, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void build_batch(struct lsm_batch *b, uint64_t *c, struct batch_range *r)
{
    char key[CRASH_KEY_LEN], val[CRASH_MAX_VALUE];
    uint64_t n = 1 + rnd() % 8, i;

    lsm_batch_clear(b);
    r->first = *c;
    for (i = 0; i < n; i++, (*c)++) {
        struct crash_op op = crash_op(*c);
        crash_key(op.idx, key);
        if (op.is_delete)
            lsm_batch_delete(b, key, CRASH_KEY_LEN);
        else
            lsm_batch_put(b, key, CRASH_KEY_LEN, val, crash_value(op.idx, *c, val));
    }
    r->last = *c - 1;
}

/* group = 0: sync = 1 per batch. group = 1: sync = 0, lsm_sync every 1..16
 * batches. */
static void fault_rounds(const char *dir, int rounds, int group)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    struct state m = { NULL, 0 };
    struct lsm_batch *b = lsm_batch_create();
    struct batch_range *pend = NULL;
    int cpend = 0, round, failures = 0;
    uint64_t next = 1, total = 0;
    const char *name = group ? "group commit (sync=0 + lsm_sync)" : "fault env (sync=1)";

    for (round = 1; round <= rounds && failures == 0; round++) {
        struct lsm_db *db;
        struct crasher cr;
        pthread_t th;
        struct lsm_write_options wo = { .sync = !group };
        int npend = 0, applied = 0, since_sync = 0, sync_every = 1 + (int)(rnd() % 16);
        uint64_t c = next, nkeys = 0, acked = 0, synced_ops = 0;
        char what[160];
        int rc;

        /* One round in four the crash may hit lsm_open's recovery itself
         * (replaying the WAL, flushing it, writing the new manifest). */
        int early = rnd() % 4 == 0;
        cr.env = env;
        cr.delay_ms = early ? (int)(rnd() % 15) : 5 + (int)(rnd() % 200);
        cr.fired = 0;
        if (early)
            pthread_create(&th, NULL, crasher_main, &cr);
        if (open_db(dir, env, &db) != 0) {
            if (early)
                pthread_join(th, NULL);
            if (!early || !__atomic_load_n(&cr.fired, __ATOMIC_SEQ_CST)) {
                tap_ok(0, "%s round %d (SEED=%" PRIu64 "): open after crash", name, round,
                       seed);
                failures++;
                break;
            }
            db = NULL;   /* crashed during recovery: nothing written this round */
            early = 2;   /* joined */
        }
        if (!early)
            pthread_create(&th, NULL, crasher_main, &cr);
        for (; db != NULL;) {
            struct batch_range r;
            build_batch(b, &c, &r);
            if (npend == cpend) {
                cpend = cpend ? cpend * 2 : 64;
                pend = zrealloc(pend, (size_t)cpend * sizeof *pend);
            }
            pend[npend++] = r;
            rc = lsm_write(db, &wo, b);
            if (rc != 0)
                break;
            if (!group) {
                /* Acknowledged: durable. */
                state_apply(&m, r.first, r.last);
                acked += r.last - r.first + 1;
                npend = 0;
                next = c;
                continue;
            }
            if (++since_sync >= sync_every) {
                since_sync = 0;
                if (lsm_sync(db) != 0)
                    break;
                /* Everything attempted so far is durable. */
                state_apply(&m, pend[0].first, pend[npend - 1].last);
                synced_ops += pend[npend - 1].last - pend[0].first + 1;
                npend = 0;
                next = c;
            }
        }
        if (early != 2)
            pthread_join(th, NULL);
        if (db != NULL && !__atomic_load_n(&cr.fired, __ATOMIC_SEQ_CST))
            tap_diag("round %d: a write failed before the crash: %s", round, lsm_last_error());
        if (db != NULL)
            lsm_close(db);   /* the "machine" is down: errors expected, no hang */
        io_env_fault_reset(env);
        if (open_db(dir, env, &db) != 0) {
            tap_ok(0, "%s round %d (SEED=%" PRIu64 "): reopen after a crash at %d ms", name,
                   round, seed, cr.delay_ms);
            failures++;
            break;
        }
        snprintf(what, sizeof what, "%s round %d (SEED=%" PRIu64 ", crash at %d ms)", name,
                 round, seed, cr.delay_ms);
        if (verify(db, &m, pend, npend, &next, what, &nkeys, &applied) != 0) {
            tap_ok(0, "%s: durable writes present, nothing else", what);
            failures++;
            lsm_close(db);
            break;
        }
        total += group ? synced_ops : acked;
        rc = lsm_close(db);
        tap_ok(rc == 0, "%s round %d: crash at %d ms%s, %" PRIu64 " durable ops present, %d of "
               "%d later batches recovered (a prefix), %" PRIu64 " keys", name, round,
               cr.delay_ms, early ? " of lsm_open" : "", group ? synced_ops : acked, applied,
               npend, nkeys);
    }
    /* The real file system agrees with the fault env's view. */
    if (failures == 0) {
        struct lsm_db *db;
        uint64_t nkeys = 0, nx = next;
        int applied = 0;
        if (open_db(dir, NULL, &db) == 0) {
            int vr = verify(db, &m, NULL, 0, &nx, "posix reopen", &nkeys, &applied);
            tap_ok(vr == 0, "%s: reopening through the posix env shows the same %" PRIu64
                   " keys", name, nkeys);
            lsm_close(db);
        } else {
            tap_ok(0, "%s: reopen through the posix env", name);
        }
    }
    tap_diag("%s: %d rounds, %" PRIu64 " durable ops", name, round - 1, total);
    lsm_batch_destroy(b);
    zfree(pend);
    zfree(m.w);
    io_env_fault_destroy(env);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : def;
}

int main(int argc, char **argv)
{
    struct timeval tv;
    char base[4096], d1[4200], d2[4200], d3[4200], logp[4200];
    int rounds, frounds;

    (void)argc;
    gettimeofday(&tv, NULL);
    seed = env_u64("SEED", ((uint64_t)tv.tv_sec * 1000003u) ^ (uint64_t)tv.tv_usec ^
                               ((uint64_t)getpid() << 20));
    rounds = (int)env_u64("ROUNDS", 30);
    frounds = (int)env_u64("FAULT_ROUNDS", 15);
    rng = seed;
    tap_diag("test_crash: SEED=%" PRIu64 " ROUNDS=%d FAULT_ROUNDS=%d", seed, rounds, frounds);
    signal(SIGPIPE, SIG_IGN);
    find_writer(argv[0]);
    if (access(writer_path, X_OK) != 0)
        tap_bail("crash_writer not found next to test_crash");

    dt_mkdtemp(base, sizeof base);
    snprintf(d1, sizeof d1, "%s/kill", base);
    snprintf(d2, sizeof d2, "%s/fault", base);
    snprintf(d3, sizeof d3, "%s/group", base);
    snprintf(logp, sizeof logp, "%s/engine.log", base);
    log_open_file(logp);
    snprintf(writer_log, sizeof writer_log, "%s/writer.log", base);
    tap_diag("directories under %s (engine log: %s)", base, logp);

    kill_rounds(d1, rounds);
    fault_rounds(d2, frounds, 0);
    fault_rounds(d3, frounds, 1);

    if (tap_failed == 0 && !env_u64("KEEP", 0))
        dt_rmrf(base);
    else
        tap_diag("kept %s (SEED=%" PRIu64 ")", base, seed);
    return tap_done();
}
