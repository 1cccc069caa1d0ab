/* test_restart.c: what survives a restart of lsmdb-server on the same
 * directory, and what a full disk does.
 *
 *  1. SHUTDOWN, then restart: values (1 B .. 200 KB, binary: NUL, CRLF),
 *     overwritten and deleted keys, INCR counters, several databases, TTLs
 *     (remaining PTTL = before - elapsed, within a second; EXPIRETIME
 *     exact; keys without TTL stay at -1), keys whose TTL ran out while the
 *     server was down are gone, DBSIZE and INFO keyspace (keys, expires,
 *     avg_ttl roughly) exact.
 *  2. The same after more changes and SIGTERM (exit status 0).
 *  3. appendfsync everysec: writes, 2 s, kill -9 plus a simulated power
 *     loss (tests/crash/powerloss.h: files put back to their content at
 *     their last fsync; the logs are mapped, the default): everything is there (and the background fsync ran in between:
 *     lsm_syncs grew). Then writes and an immediate power loss: the older
 *     keys stay, the last ones may go (reported).
 *  4. Disk full: a tmpfs of a few MB mounted here (root only; skipped when
 *     mounting fails) holds the data dir and a spare file; fill it until a
 *     write is refused: the reply is an error (not OK), reads are still
 *     served, INFO persistence and the log show the error; delete the spare
 *     file: writes resume without a restart; then a restart keeps every
 *     acknowledged write.
 *  5. A value-log page the device cannot give back: the active segment is
 *     cut under the running server, so the next separated value's copy
 *     into its mapping faults (as a read error of an evicted page would).
 *     The write gets an error reply, the server keeps running and serving
 *     reads, INFO persistence shows the I/O error, and once the engine
 *     resumes (on a new segment) writes succeed again.
 * SEED= fixes the generated values. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "../crash/powerloss.h"
#include "util/hash.h"
#include "util/zmalloc.h"

static uint64_t seed;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* A value of len bytes determined by (key, version): arbitrary bytes,
 * including NUL and CRLF. */
static char *make_value(const char *key, int version, size_t len)
{
    char *v = zmalloc(len + 1);
    uint64_t s = seed ^ (uint64_t)version;
    for (const char *p = key; *p; p++)
        s = hash_mix64(s ^ (unsigned char)*p);
    uint64_t r = 0;
    for (size_t i = 0; i < len; i++) {
        if ((i & 7) == 0)
            r = s = hash_mix64(s);
        v[i] = (char)(r >> ((i & 7) * 8));
    }
    if (len > 4) {
        v[0] = '\r';
        v[1] = '\n';
        v[2] = '\0';
    }
    v[len] = '\0';
    return v;
}

/* ---- the model: what the test wrote ---- */

enum { K_VALUE, K_COUNTER };

struct rkey {
    int db;
    char name[48];
    int kind;
    int present;
    int version;
    size_t len;
    long long counter;
    long long expire_ms;            /* absolute UNIX ms, 0 = none */
    int exact;                      /* expire_ms given by PXAT */
};

#define MAXKEYS 2048
static struct rkey keys[MAXKEYS];
static int nkeys;

static long long unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *callargv(struct conn *c, int argc, const char **argv, const size_t *lens)
{
    size_t l[16];
    for (int i = 0; i < argc; i++)
        l[i] = lens && lens[i] != (size_t)-1 ? lens[i] : strlen(argv[i]);
    if (conn_sendargv(c, argc, argv, l) < 0)
        return NULL;
    return conn_reply(c, 10000, NULL);
}

static int is_reply(char *r, const char *want)
{
    int ok = r && strcmp(r, want) == 0;
    zfree(r);
    return ok;
}

static int cur_db = -1;

static int select_db(struct conn *c, int db)
{
    if (db == cur_db)
        return 1;
    char d[16];
    snprintf(d, sizeof d, "%d", db);
    int ok = is_reply(conn_call(c, "SELECT", d, NULL), "+OK\r\n");
    cur_db = ok ? db : -1;
    return ok;
}

static struct rkey *find_key(int db, const char *name)
{
    for (int i = 0; i < nkeys; i++)
        if (keys[i].db == db && strcmp(keys[i].name, name) == 0)
            return &keys[i];
    if (nkeys == MAXKEYS)
        tap_bail("too many keys");
    struct rkey *k = &keys[nkeys++];
    memset(k, 0, sizeof *k);
    k->db = db;
    snprintf(k->name, sizeof k->name, "%s", name);
    return k;
}

/* SET key value [PX ms | PXAT ms]; ttl_mode 0 none, 1 PX, 2 PXAT. */
static int do_set(struct conn *c, int db, const char *name, size_t len, int ttl_mode, long long t)
{
    if (!select_db(c, db))
        return 0;
    struct rkey *k = find_key(db, name);
    int version = k->version + 1;
    char *v = make_value(name, version, len);
    char tb[32];
    snprintf(tb, sizeof tb, "%lld", t);
    const char *argv[5] = { "SET", name, v, ttl_mode == 1 ? "PX" : "PXAT", tb };
    size_t lens[5] = { (size_t)-1, (size_t)-1, len, (size_t)-1, (size_t)-1 };
    long long before = unix_ms();
    int ok = is_reply(callargv(c, ttl_mode ? 5 : 3, argv, lens), "+OK\r\n");
    zfree(v);
    if (ok) {
        k->kind = K_VALUE;
        k->present = 1;
        k->version = version;
        k->len = len;
        k->expire_ms = ttl_mode == 1 ? before + t : ttl_mode == 2 ? t : 0;
        k->exact = ttl_mode == 2;
    }
    return ok;
}

static int live_now(const struct rkey *k, long long margin)
{
    return k->present && (!k->expire_ms || k->expire_ms > unix_ms() + margin);
}

static int do_del(struct conn *c, int db, const char *name)
{
    if (!select_db(c, db))
        return 0;
    struct rkey *k = find_key(db, name);
    char want[8];
    snprintf(want, sizeof want, ":%d\r\n", live_now(k, 0));
    int ok = is_reply(conn_call(c, "DEL", name, NULL), want);
    if (ok)
        k->present = 0;
    return ok;
}

static int do_incrby(struct conn *c, int db, const char *name, long long by)
{
    if (!select_db(c, db))
        return 0;
    struct rkey *k = find_key(db, name);
    char b[32], want[40];
    snprintf(b, sizeof b, "%lld", by);
    long long nv = (k->present ? k->counter : 0) + by;
    snprintf(want, sizeof want, ":%lld\r\n", nv);
    int ok = is_reply(conn_call(c, "INCRBY", name, b, NULL), want);
    if (ok) {
        k->kind = K_COUNTER;
        k->present = 1;
        k->counter = nv;
        k->expire_ms = 0;
    }
    return ok;
}

static long long int_call(struct conn *c, const char *a0, const char *a1)
{
    char *r = conn_call(c, a0, a1, NULL);
    long long v = r && r[0] == ':' ? atoll(r + 1) : -999999;
    zfree(r);
    return v;
}

struct dbcount {
    long long keys, expires;
};

/* Checks every key the test wrote and the per-db counts. label names the
 * phase. Keys whose TTL ends within `margin` ms are skipped (racy). */
static void verify_all(struct conn *c, const char *label, int ndb)
{
    const long long margin = 1500;
    int bad_val = 0, bad_ttl = 0, bad_gone = 0, checked = 0, ttl_checked = 0, racy = 0;
    struct dbcount cnt[16];
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < nkeys; i++) {
        struct rkey *k = &keys[i];
        if (!select_db(c, k->db)) {
            bad_val++;
            continue;
        }
        int live = live_now(k, margin);
        if (k->present && !live && k->expire_ms > unix_ms() - 50) {
            racy++;                 /* expires just about now: either answer is right */
            cnt[k->db].keys = -1000000;  /* and the counts can't be exact */
            continue;
        }
        checked++;
        char *r = conn_call(c, "GET", k->name, NULL);
        int ok;
        if (!live) {
            ok = r && strcmp(r, "$-1\r\n") == 0;
            if (!ok) {
                bad_gone++;
                tap_diag("%s: db%d %s should be gone (%s), got %s", label, k->db, k->name,
                         k->present ? "expired" : "deleted", r ? esc(r, strlen(r)) : "(none)");
            }
            zfree(r);
            continue;
        }
        cnt[k->db].keys++;
        if (k->kind == K_COUNTER) {
            char want[48];
            snprintf(want, sizeof want, "$%d\r\n%lld\r\n",
                     snprintf(NULL, 0, "%lld", k->counter), k->counter);
            ok = r && strcmp(r, want) == 0;
        } else {
            char *v = make_value(k->name, k->version, k->len);
            char hdr[32];
            int h = snprintf(hdr, sizeof hdr, "$%zu\r\n", k->len);
            ok = r && strncmp(r, hdr, (size_t)h) == 0 && memcmp(r + h, v, k->len) == 0;
            zfree(v);
        }
        if (!ok) {
            bad_val++;
            if (bad_val <= 5)
                tap_diag("%s: db%d %s (version %d, %zu bytes) wrong: %s", label, k->db, k->name,
                         k->version, k->len, r ? esc(r, strlen(r) > 40 ? 40 : strlen(r)) : "(none)");
        }
        zfree(r);
        if (k->expire_ms) {
            cnt[k->db].expires++;
            ttl_checked++;
            long long pttl = int_call(c, "PTTL", k->name);
            long long want = k->expire_ms - unix_ms();
            long long et = int_call(c, "PEXPIRETIME", k->name);
            /* PX: the server's clock set the expire a few ms after ours;
             * PXAT: exact. */
            long long tol = k->exact ? 0 : 50;
            if (pttl > want + 50 || pttl < want - 1000 || llabs(et - k->expire_ms) > tol) {
                bad_ttl++;
                if (bad_ttl <= 5)
                    tap_diag("%s: db%d %s PTTL %lld (expected about %lld), PEXPIRETIME %lld "
                             "(expected %lld)",
                             label, k->db, k->name, pttl, want, et, k->expire_ms);
            }
        } else {
            long long pttl = int_call(c, "PTTL", k->name);
            if (pttl != -1 && ++bad_ttl <= 5) {
                tap_diag("%s: db%d %s has no TTL but PTTL is %lld", label, k->db, k->name, pttl);
            }
        }
    }
    tap_ok(bad_val == 0, "%s: %d keys read back, every value exact (%d wrong)", label, checked,
           bad_val);
    tap_ok(bad_gone == 0, "%s: deleted and expired keys stay gone (%d back)", label, bad_gone);
    tap_ok(bad_ttl == 0, "%s: %d remaining TTLs preserved within a second (%d off)", label,
           ttl_checked, bad_ttl);
    if (racy)
        tap_diag("%s: %d keys expiring right now not checked", label, racy);
    /* DBSIZE and INFO keyspace per db. */
    char *info = NULL;
    int bad_cnt = 0;
    for (int db = 0; db < ndb; db++) {
        if (cnt[db].keys < 0)
            continue;
        select_db(c, db);
        long long dbsize = int_call(c, "DBSIZE", NULL);
        zfree(info);
        info = conn_call(c, "INFO", "keyspace", NULL);
        char field[16], line[128];
        snprintf(field, sizeof field, "db%d", db);
        long long ik = 0, ie = 0, avg = 0;
        if (info && info_field(info, field, line, sizeof line) == 0)
            sscanf(line, "keys=%lld,expires=%lld,avg_ttl=%lld", &ik, &ie, &avg);
        if (dbsize != cnt[db].keys || ik != cnt[db].keys || ie != cnt[db].expires) {
            bad_cnt++;
            tap_diag("%s: db%d: expected keys=%lld expires=%lld; DBSIZE %lld, INFO keys=%lld "
                     "expires=%lld",
                     label, db, cnt[db].keys, cnt[db].expires, dbsize, ik, ie);
        }
        /* avg_ttl: the mean remaining TTL of the db's volatile keys. */
        if (cnt[db].expires > 0) {
            long long sum = 0, n = 0, now = unix_ms();
            for (int i = 0; i < nkeys; i++)
                if (keys[i].db == db && live_now(&keys[i], 0) && keys[i].expire_ms) {
                    sum += keys[i].expire_ms - now;
                    n++;
                }
            long long want = n ? sum / n : 0;
            if (llabs(avg - want) > want / 20 + 2000) {
                bad_cnt++;
                tap_diag("%s: db%d avg_ttl %lld, expected about %lld", label, db, avg, want);
            }
        }
    }
    zfree(info);
    tap_ok(bad_cnt == 0, "%s: DBSIZE and INFO keyspace (keys, expires, avg_ttl) exact", label);
}

/* Populates dbs 0, 3 and 9 with values of every size class, TTLs, counters,
 * overwrites and deletes. */
static int populate(struct conn *c, int phase)
{
    static const size_t sizes[] = { 0, 1, 2, 7, 100, 1000, 4095, 4096, 4097, 10000, 65536, 200000 };
    const int nsizes = (int)(sizeof sizes / sizeof sizes[0]);
    int ok = 1;
    char name[48];
    long long far = unix_ms() + 3600 * 1000;
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof name, "p%d:key:%03d", phase, i);
        size_t len = sizes[(i * 7 + phase) % nsizes];
        if (i % 5 == 0)
            ok &= do_set(c, 0, name, len, 1, 600000 + i * 1000);     /* PX: 10 min .. */
        else if (i % 23 == 0)
            ok &= do_set(c, 0, name, len, 2, far + i);               /* PXAT */
        else if (i % 41 == 0)
            ok &= do_set(c, 0, name, len, 1, 1200);                  /* expires during the stop */
        else
            ok &= do_set(c, 0, name, len, 0, 0);
    }
    for (int i = 0; i < 400; i += 3) {     /* overwrite a third, some with a new TTL */
        snprintf(name, sizeof name, "p%d:key:%03d", phase, i);
        ok &= do_set(c, 0, name, sizes[(i + 5) % nsizes], i % 2 ? 1 : 0, 900000);
    }
    for (int i = 1; i < 400; i += 10) {    /* delete some */
        snprintf(name, sizeof name, "p%d:key:%03d", phase, i);
        ok &= do_del(c, 0, name);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "p%d:ctr:%d", phase, i);
        for (int j = 0; j <= i; j++)
            ok &= do_incrby(c, 0, name, j * 1000 + 1);
    }
    for (int db = 3; db <= 9; db += 6)
        for (int i = 0; i < 30; i++) {
            snprintf(name, sizeof name, "p%d:db%d:%d", phase, db, i);
            ok &= do_set(c, db, name, sizes[i % nsizes], i % 4 == 0 ? 1 : 0, 300000 + i);
        }
    return ok;
}

static int exit_code(int st)
{
    return st == -1 ? -1000 : WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

static void test_shutdown_sigterm(void)
{
    struct srv s;
    if (!tap_ok(srv_start(&s, NULL) == 0, "server starts"))
        return;
    char dir[SRV_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s.dir);
    struct conn *c = conn_tcp(s.port);
    cur_db = -1;
    tap_ok(populate(c, 1), "phase 1: %d keys written (every reply as expected)", nkeys);
    verify_all(c, "before SHUTDOWN", 10);
    long long t_stop = now_ms();
    conn_sendv(c, "SHUTDOWN", NULL);
    int closed = conn_wait_close(c, 10000);
    conn_close(c);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(closed && exit_code(st) == 0, "SHUTDOWN: connection closed, exit status %d",
           exit_code(st));
    /* Let the 1.2 s TTLs run out while the server is down. */
    long long wait = 1600 - (now_ms() - t_stop);
    if (wait > 0)
        sleep_ms(wait);
    struct srv s2;
    struct srv_opts o = { .dir = dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "restart after SHUTDOWN")) {
        srv_stop(&s);
        return;
    }
    c = conn_tcp(s2.port);
    cur_db = -1;
    verify_all(c, "after SHUTDOWN + restart", 10);

    /* More changes, then SIGTERM. */
    tap_ok(populate(c, 2), "phase 2: more writes, overwrites, deletes (%d keys in all)", nkeys);
    int ok = 1;
    char name[48];
    for (int i = 0; i < 400; i += 7) {       /* touch phase-1 keys again */
        snprintf(name, sizeof name, "p1:key:%03d", i);
        ok &= i % 2 ? do_del(c, 0, name) : do_set(c, 0, name, (size_t)(i * 13), 0, 0);
    }
    ok &= do_incrby(c, 0, "p1:ctr:3", -77);
    tap_ok(ok, "phase 2: phase-1 keys changed");
    conn_close(c);
    t_stop = now_ms();
    kill(s2.pid, SIGTERM);
    st = srv_wait_exit(&s2, 10000);
    tap_ok(exit_code(st) == 0, "SIGTERM: exit status %d", exit_code(st));
    wait = 1600 - (now_ms() - t_stop);
    if (wait > 0)
        sleep_ms(wait);
    struct srv s3;
    if (!tap_ok(srv_start(&s3, &o) == 0, "restart after SIGTERM")) {
        srv_stop(&s2);
        srv_stop(&s);
        return;
    }
    c = conn_tcp(s3.port);
    cur_db = -1;
    verify_all(c, "after SIGTERM + restart", 10);
    conn_close(c);
    srv_stop(&s3);
    srv_stop(&s2);
    srv_stop(&s);
}

/* deferred-key-counting: on by default (SETs counted later), off with the
 * directive (every SET reads first); DBSIZE is exact both ways. */
static void test_deferred_key_counting(void)
{
    static const char *const off[] = { "--deferred-key-counting", "no", NULL };
    for (int pass = 0; pass < 2; pass++) {
        struct srv s;
        struct srv_opts o = { .args = pass ? off : NULL };
        const char *label = pass ? "deferred-key-counting no" : "deferred-key-counting (default)";
        if (!tap_ok(srv_start(&s, &o) == 0, "%s: server starts", label))
            return;
        struct conn *c = conn_tcp(s.port);
        char k[32];
        int oks = 0;
        for (int i = 0; i < 300; i++) {
            snprintf(k, sizeof k, "dk%d", i % 200);        /* 100 overwrites */
            oks += is_reply(conn_call(c, "SET", k, "v", NULL), "+OK\r\n");
        }
        long long on = conn_info_ll(c, "persistence", "keyspace_deferred_counting");
        long long blind = conn_info_ll(c, "persistence", "keyspace_deferred_writes");
        long long known = conn_info_ll(c, "persistence", "keyspace_write_table_hits");
        long long n = int_call(c, "DBSIZE", NULL);
        /* The 100 overwrites find their key's state in the write table,
         * with or without deferred counting. */
        tap_ok(oks == 300 && on == !pass && (pass ? blind == 0 : blind > 0) && n == 200 &&
               known >= 90,
               "%s: INFO keyspace_deferred_counting:%lld, %lld SETs written without a read, "
               "%lld answered by the write table, DBSIZE %lld (want 200)", label, on, blind,
               known, n);
        /* SETs that drop an expire: a blind one leaves the old TTL index
         * entry, which the loop deletes once the write is counted. After a
         * restart, so that the keys are not in the write table (a SET of a
         * key written lately knows its record and deletes the entry). */
        oks = 0;
        for (int i = 0; i < 50; i++) {
            snprintf(k, sizeof k, "dk%d", i);
            oks += is_reply(conn_call(c, "SET", k, "v", "EX", "1000", NULL), "+OK\r\n");
        }
        conn_close(c);
        srv_stop_keep(&s);
        struct srv s2;
        struct srv_opts o2 = { .dir = s.dir, .args = o.args };
        if (!tap_ok(srv_start(&s2, &o2) == 0, "%s: restart", label)) {
            srv_cleanup(&s);
            return;
        }
        c = conn_tcp(s2.port);
        for (int i = 0; i < 50; i++) {
            snprintf(k, sizeof k, "dk%d", i);
            oks += is_reply(conn_call(c, "SET", k, "w", NULL), "+OK\r\n");
        }
        long long stale = 0, want = pass ? 0 : 50;
        n = int_call(c, "DBSIZE", NULL);
        for (int tries = 0; tries < 100; tries++) {      /* up to ~2 s of cron ticks */
            stale = conn_info_ll(c, "persistence", "keyspace_stale_ttl_deleted");
            if (stale >= want)
                break;
            sleep_ms(20);
        }
        long long ttl = int_call(c, "TTL", "dk7");
        char *ks = conn_call(c, "INFO", "keyspace", NULL);
        int exact = ks && strstr(ks, "db0:keys=200,expires=0,") != NULL;
        tap_ok(oks == 100 && n == 200 && stale == want && ttl == -1 && exact,
               "%s: 50 SET EX then 50 SET: %lld stale TTL entries deleted (want %lld), "
               "TTL %lld, INFO keyspace db0:keys=200,expires=0: %s", label, stale, want, ttl,
               exact ? "yes" : "no");
        zfree(ks);
        conn_close(c);
        srv_stop(&s2);
        srv_cleanup(&s2);
        srv_cleanup(&s);
    }
}

static void test_everysec_kill9(void)
{
    /* Value-log segments of 1 MiB: the shim compares a mapped segment's
     * whole file at every sync. */
    static const char *const args[] = { "--appendfsync", "everysec", "--vlog-file-size", "1mb",
                                        NULL };
    const char *tmpdir = getenv("TMPDIR");
    char dir[SRV_PATH_MAX], shadows[SRV_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/lsmdb-everysec-XXXXXX",
             tmpdir && *tmpdir && strlen(tmpdir) < 80 ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        tap_ok(0, "everysec: mkdtemp");
        return;
    }
    snprintf(shadows, sizeof shadows, "%s.shadows", dir);
    struct powerloss pl;
    pl_init(&pl, dir, shadows);
    struct srv s;
    struct srv_opts o = { .dir = dir, .args = args };
    pl_before_start(&pl);
    int rc = srv_start(&s, &o);
    pl_after_start(&pl);
    if (!tap_ok(rc == 0, "everysec: server starts"))
        return;
    struct conn *c = conn_tcp(s.port);
    enum { N = 3000 };
    /* Pipelined in chunks of 100. */
    int oks = 0;
    char k[32];
    for (int i = 0; i < N; i += 100) {
        for (int j = i; j < i + 100; j++) {
            snprintf(k, sizeof k, "es:%d", j);
            char *v = make_value(k, 1, (size_t)(j % 10 == 0 ? 5000 : 50));
            const char *argv[3] = { "SET", k, v };
            size_t lens[3] = { 3, strlen(k), (size_t)(j % 10 == 0 ? 5000 : 50) };
            conn_sendargv(c, 3, argv, lens);
            zfree(v);
        }
        for (int j = i; j < i + 100; j++)
            oks += is_reply(conn_reply(c, 10000, NULL), "+OK\r\n");
    }
    tap_ok(oks == N, "everysec: %d pipelined SETs acknowledged (%d)", N, oks);
    long long syncs0 = conn_info_ll(c, "persistence", "lsm_syncs");
    sleep_ms(2000);
    long long syncs1 = conn_info_ll(c, "persistence", "lsm_syncs");
    long long last = conn_info_ll(c, "persistence", "lsm_last_sync_time");
    tap_ok(syncs1 > syncs0 && last >= time(NULL) - 2,
           "everysec: the background fsync ran in the 2 s (lsm_syncs %lld -> %lld, last %lld s ago)",
           syncs0, syncs1, (long long)time(NULL) - last);
    conn_close(c);
    kill(s.pid, SIGKILL);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(exit_code(st) == -SIGKILL, "everysec: kill -9");
    int files = 0;
    long long cut = pl_cut(&pl, &files);
    if (pl.enabled)
        tap_diag("everysec: simulated power loss cut %lld unsynced bytes from %d files", cut, files);
    else
        tap_diag("everysec: syncshim.so not found: kill -9 only (no power-loss simulation)");
    struct srv s2;
    pl_before_start(&pl);
    rc = srv_start(&s2, &o);
    pl_after_start(&pl);
    if (!tap_ok(rc == 0, "everysec: restart after kill -9%s", pl.enabled ? " + power loss" : "")) {
        srv_stop(&s);
        return;
    }
    c = conn_tcp(s2.port);
    int good = 0;
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "es:%d", i);
        size_t len = (size_t)(i % 10 == 0 ? 5000 : 50);
        char *v = make_value(k, 1, len);
        size_t rl = 0;
        conn_sendv(c, "GET", k, NULL);
        char *r = conn_reply(c, 10000, &rl);
        char hdr[32];
        int h = snprintf(hdr, sizeof hdr, "$%zu\r\n", len);
        good += r && rl == (size_t)h + len + 2 && memcmp(r, hdr, (size_t)h) == 0 &&
                memcmp(r + h, v, len) == 0;
        zfree(r);
        zfree(v);
    }
    tap_ok(good == N, "everysec: all %d writes made 2 s before kill -9%s are there (%d)", N,
           pl.enabled ? " + power loss" : "", good);
    tap_ok(int_call(c, "DBSIZE", NULL) == N, "everysec: DBSIZE %d after recovery", N);
    /* The other side: writes of the last moment are lost by a power loss
     * under everysec (shows the simulation bites; not a requirement). */
    if (pl.enabled) {
        int sent = 0;
        for (int i = 0; i < 500; i++) {
            snprintf(k, sizeof k, "late:%d", i);
            sent += is_reply(conn_call(c, "SET", k, "x", NULL), "+OK\r\n");
        }
        conn_close(c);
        c = NULL;
        kill(s2.pid, SIGKILL);
        srv_wait_exit(&s2, 10000);
        cut = pl_cut(&pl, &files);
        struct srv s3;
        pl_before_start(&pl);
        rc = srv_start(&s3, &o);
        pl_after_start(&pl);
        if (tap_ok(rc == 0, "everysec: restart after an immediate power loss")) {
            c = conn_tcp(s3.port);
            long long n = int_call(c, "DBSIZE", NULL);
            tap_ok(n >= N && n <= N + sent,
                   "everysec: an immediate power loss keeps the old %d keys; %lld of the %d "
                   "acknowledged just before it survive (%lld bytes cut)",
                   N, n - N, sent, cut);
            conn_close(c);
            c = NULL;
            srv_stop(&s3);
        }
    }
    if (c)
        conn_close(c);
    srv_stop(&s2);
    srv_stop(&s);
    pl_free(&pl);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, shadows);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
}

/* ---- disk full on a private tmpfs ---- */

static char mnt[128];

static void unmount_at_exit(void)
{
    if (mnt[0]) {
        umount2(mnt, MNT_DETACH);
        rmdir(mnt);
        mnt[0] = '\0';
    }
}

static int write_spare(const char *path, size_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    char buf[65536];
    memset(buf, 'x', sizeof buf);
    size_t done = 0;
    while (done < bytes) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    fsync(fd);
    close(fd);
    return 0;
}

static void test_disk_full(void)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(mnt, sizeof mnt, "%s/lsmdb-full-XXXXXX",
             tmpdir && *tmpdir && strlen(tmpdir) < 80 ? tmpdir : "/tmp");
    if (geteuid() != 0 || !mkdtemp(mnt)) {
        tap_ok(1, "# SKIP disk full: not root (cannot mount a small tmpfs)");
        mnt[0] = '\0';
        return;
    }
    if (mount("lsmdb-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=12m,mode=0755") != 0) {
        tap_ok(1, "# SKIP disk full: mount tmpfs failed: %s", strerror(errno));
        rmdir(mnt);
        mnt[0] = '\0';
        return;
    }
    atexit(unmount_at_exit);
    char data[192], spare[192];
    snprintf(data, sizeof data, "%s/data", mnt);
    snprintf(spare, sizeof spare, "%s/spare", mnt);
    if (!tap_ok(write_spare(spare, 3 << 20) == 0, "disk full: 3 MB spare file on a 12 MB tmpfs")) {
        unmount_at_exit();
        return;
    }
    static const char *const args[] = { "--write-buffer-size", "1mb", NULL };
    struct srv s;
    struct srv_opts o = { .dir = data, .args = args };
    if (!tap_ok(srv_start(&s, &o) == 0, "disk full: server starts on the tmpfs")) {
        unmount_at_exit();
        return;
    }
    struct conn *c = conn_tcp(s.port);
    enum { VLEN = 32768, MAXFILL = 2000 };
    int acked = 0;
    char *first_err = NULL;
    char k[32];
    for (int i = 0; i < MAXFILL; i++) {
        snprintf(k, sizeof k, "full:%d", i);
        char *v = make_value(k, 1, VLEN);
        const char *argv[3] = { "SET", k, v };
        size_t lens[3] = { 3, strlen(k), VLEN };
        char *r = conn_sendargv(c, 3, argv, lens) == 0 ? conn_reply(c, 10000, NULL) : NULL;
        zfree(v);
        if (r && strcmp(r, "+OK\r\n") == 0) {
            acked++;
            zfree(r);
            continue;
        }
        first_err = r;
        break;
    }
    tap_ok(first_err && first_err[0] == '-',
           "disk full: after %d acknowledged 32 KB SETs a write gets an error reply: %s", acked,
           first_err ? esc(first_err, strlen(first_err)) : "(no reply / connection closed)");
    zfree(first_err);
    if (c->eof || !first_err) {
        conn_close(c);
        c = conn_tcp(s.port);
    }
    char *r = conn_call(c, "SET", "full:more", "x", NULL);
    tap_ok(r && (strncmp(r, "-MISCONF", 8) == 0 || strncmp(r, "-ERR", 4) == 0),
           "disk full: the next write is refused too: %s", r ? esc(r, strlen(r)) : "(none)");
    if (r && strncmp(r, "-MISCONF", 8) == 0) {
        /* Refused before running: INFO commandstats counts it as Redis does. */
        char *cs = conn_call(c, "INFO", "commandstats", NULL), line[256];
        tap_ok(cs && info_field(cs, "cmdstat_set", line, sizeof line) == 0 &&
                   strstr(line, "rejected_calls=") && !strstr(line, "rejected_calls=0,"),
               "a -MISCONF SET counts as a rejected call: %s", cs ? line : "(none)");
        zfree(cs);
    }
    zfree(r);
    int reads = 0;
    for (int i = 0; i < acked; i++) {
        snprintf(k, sizeof k, "full:%d", i);
        char *v = make_value(k, 1, VLEN);
        size_t rl = 0;
        conn_sendv(c, "GET", k, NULL);
        r = conn_reply(c, 10000, &rl);
        reads += r && rl == 8 + VLEN + 2 && memcmp(r + 8, v, VLEN) == 0;
        zfree(r);
        zfree(v);
    }
    tap_ok(reads == acked, "disk full: reads still served: %d of %d acknowledged values", reads,
           acked);
    r = conn_call(c, "INFO", "persistence", NULL);
    char st[64] = "", why[256] = "";
    if (r) {
        info_field(r, "aof_last_write_status", st, sizeof st);
        info_field(r, "lsm_write_error", why, sizeof why);
    }
    zfree(r);
    tap_ok(strcmp(st, "err") == 0 && why[0], "disk full: INFO persistence aof_last_write_status:%s "
           "lsm_write_error:%s", st, why);
    size_t loglen = 0;
    char *log = NULL;
    for (long long until = now_ms() + 3000;;) {
        log = read_file(s.logfile, &loglen);
        if ((log && strstr(log, "o space left on device")) || now_ms() > until)
            break;
        zfree(log);
        sleep_ms(100);
    }
    if (!tap_ok(log && strstr(log, "o space left on device"), "disk full: the log names the error"))
        srv_dump(&s);
    /* Every warning about the failure gives its real reason, not the
     * leftover detail of an unrelated lookup ("key not found"). */
    int stale = 0;
    for (char *line = log; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        char one[600];
        snprintf(one, sizeof one, "%.*s", (int)(ll < sizeof one - 1 ? ll : sizeof one - 1), line);
        if (strstr(one, "failed") && strstr(one, "not found")) {
            stale++;
            tap_diag("log: %s", one);
        }
        line = nl ? nl + 1 : NULL;
    }
    tap_ok(stale == 0, "disk full: no log line blames the failure on 'not found' (%d do)", stale);
    zfree(log);

    /* Free space: writes resume without a restart. */
    unlink(spare);
    long long deadline = now_ms() + 15000, t0 = now_ms();
    int resumed = 0;
    while (now_ms() < deadline && !resumed) {
        r = conn_call(c, "SET", "full:after", "resumed", NULL);
        resumed = r && strcmp(r, "+OK\r\n") == 0;
        zfree(r);
        if (!resumed)
            sleep_ms(100);
    }
    tap_ok(resumed, "disk full: after freeing 3 MB writes resume without a restart (%.1f s)",
           (now_ms() - t0) / 1000.0);
    r = conn_call(c, "INFO", "persistence", NULL);
    st[0] = '\0';
    if (r)
        info_field(r, "aof_last_write_status", st, sizeof st);
    zfree(r);
    tap_ok(strcmp(st, "ok") == 0, "disk full: INFO persistence back to ok (%s)", st);
    tap_ok(is_reply(conn_call(c, "GET", "full:after", NULL), "$7\r\nresumed\r\n"),
           "disk full: the new write reads back");
    long long dbsize = int_call(c, "DBSIZE", NULL);
    tap_ok(dbsize == acked + 1, "disk full: DBSIZE %lld = %d acknowledged + 1", dbsize, acked);
    conn_close(c);

    /* A restart keeps every acknowledged write. */
    int rc = srv_stop_keep(&s);
    tap_ok(exit_code(rc) == 0, "disk full: clean stop (status %d)", exit_code(rc));
    struct srv s2;
    if (tap_ok(srv_start(&s2, &o) == 0, "disk full: restart on the tmpfs")) {
        c = conn_tcp(s2.port);
        reads = 0;
        for (int i = 0; i < acked; i++) {
            snprintf(k, sizeof k, "full:%d", i);
            char *v = make_value(k, 1, VLEN);
            size_t rl = 0;
            conn_sendv(c, "GET", k, NULL);
            r = conn_reply(c, 10000, &rl);
            reads += r && rl == 8 + VLEN + 2 && memcmp(r + 8, v, VLEN) == 0;
            zfree(r);
            zfree(v);
        }
        tap_ok(reads == acked, "disk full: after restart %d of %d acknowledged values", reads,
               acked);
        tap_ok(is_reply(conn_call(c, "GET", "full:after", NULL), "$7\r\nresumed\r\n"),
               "disk full: the write after recovery survives the restart");
        dbsize = int_call(c, "DBSIZE", NULL);
        tap_ok(dbsize == acked + 1, "disk full: DBSIZE %lld after restart", dbsize);
        conn_close(c);
        srv_stop(&s2);
    } else {
        srv_dump(&s);
    }
    srv_stop(&s);
    unmount_at_exit();
}

/* Cuts every value-log segment in dir to 0 bytes; the number cut. */
static int cut_vlogs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[SRV_PATH_MAX + 64];
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".vlog") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            n += truncate(path, 0) == 0;
        }
    }
    closedir(d);
    return n;
}

static void test_vlog_page_lost(void)
{
    struct srv s;
    if (!tap_ok(srv_start(&s, NULL) == 0, "vlog page lost: server starts"))
        return;
    struct conn *c = conn_tcp(s.port);
    enum { VLEN = 8192 };
    char *v = make_value("lost", 1, VLEN);
    const char *argv[3] = { "SET", "lost:a", v };
    size_t lens[3] = { 3, 6, VLEN };
    char *r = conn_call_argv(c, 3, argv, lens, NULL, 10000);
    tap_ok(r && strcmp(r, "+OK\r\n") == 0, "vlog page lost: a separated value is written");
    zfree(r);
    r = conn_call(c, "SET", "lost:small", "kept", NULL);
    zfree(r);
    tap_ok(cut_vlogs(s.dir) > 0, "vlog page lost: the active segment is cut under the server");
    argv[1] = "lost:b";
    r = conn_call_argv(c, 3, argv, lens, NULL, 10000);
    if (r && strcmp(r, "+OK\r\n") == 0) {
        /* Appends were written (a kernel without MADV_POPULATE_WRITE). */
        tap_ok(1, "# SKIP vlog page lost: the value log is not mapped here");
    } else {
        tap_ok(r && r[0] == '-', "vlog page lost: the write gets an error reply: %s",
               r ? esc(r, strlen(r)) : "(none)");
        tap_ok(srv_alive(&s), "vlog page lost: the server is still running");
        char *g = conn_call(c, "GET", "lost:small", NULL);
        tap_ok(reply_is(g, "$4\r\nkept\r\n"), "vlog page lost: reads are still served");
        char *info = conn_call(c, "INFO", "persistence", NULL), why[256] = "";
        if (info)
            info_field(info, "lsm_write_error", why, sizeof why);
        zfree(info);
        tap_ok(strstr(why, "nput/output error") != NULL,
               "vlog page lost: INFO persistence lsm_write_error:%s", why);
        /* The engine's resume moves to a new segment: separated writes
         * succeed again without a restart, and read back. */
        argv[1] = "lost:c";
        int ok = 0;
        for (long long until = now_ms() + 10000; !ok && now_ms() < until;) {
            zfree(r);
            r = conn_call_argv(c, 3, argv, lens, NULL, 10000);
            ok = r && strcmp(r, "+OK\r\n") == 0;
            if (!ok)
                sleep_ms(200);
        }
        tap_ok(ok, "vlog page lost: writes resume without a restart");
        size_t rl = 0;
        conn_sendv(c, "GET", "lost:c", NULL);
        char *back = conn_reply(c, 10000, &rl);
        tap_ok(back && rl == 7 + VLEN + 2 && memcmp(back + 7, v, VLEN) == 0,
               "vlog page lost: the value written after the resume reads back");
        zfree(back);
    }
    zfree(r);
    zfree(v);
    conn_close(c);
    srv_stop(&s);
}

/* A byte of a separated value flipped on disk: GET answers an error that
 * names the segment and the entry's offset, never the damaged bytes, and
 * the server keeps serving the other keys. */
static void test_vlog_value_damaged(void)
{
    struct srv s;
    if (!tap_ok(srv_start(&s, NULL) == 0, "damaged value: server starts"))
        return;
    struct conn *c = conn_tcp(s.port);
    enum { VLEN = 20000 };
    char *v = make_value("dmg", 1, VLEN);
    const char *argv[3] = { "SET", "dmg:big", v };
    size_t lens[3] = { 3, 7, VLEN };
    tap_ok(is_reply(conn_call_argv(c, 3, argv, lens, NULL, 10000), "+OK\r\n") &&
               is_reply(conn_call(c, "SET", "dmg:small", "fine", NULL), "+OK\r\n"),
           "damaged value: a separated and a small value written");
    conn_close(c);
    srv_stop_keep(&s);
    /* The only segment holds the one entry: flip a byte in its middle. */
    char cmd[SRV_PATH_MAX * 2 + 200];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && f=$(ls *.vlog | head -1) && n=$(stat -c %%s $f) && "
             "printf '\\377' | dd of=$f bs=1 seek=$((n - %d)) conv=notrunc status=none",
             s.dir, VLEN / 2);
    tap_ok(system(cmd) == 0, "damaged value: a byte of the value log flipped");
    struct srv s2;
    struct srv_opts o = { .dir = s.dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "damaged value: restart")) {
        srv_cleanup(&s);
        zfree(v);
        return;
    }
    c = conn_tcp(s2.port);
    char *r = conn_call(c, "GET", "dmg:big", NULL);
    tap_ok(r && strncmp(r, "-ERR corruption: ", 17) == 0 && strstr(r, ".vlog: offset ") != NULL,
           "damaged value: GET answers the corruption with file and offset: %s",
           r ? esc(r, strlen(r)) : "(none)");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "GET", "dmg:small", NULL), "$4\r\nfine\r\n") && srv_alive(&s2),
           "damaged value: the server goes on serving the other keys");
    conn_close(c);
    srv_stop(&s2);
    srv_cleanup(&s);
    zfree(v);
}

int main(void)
{
    const char *e = getenv("SEED");
    seed = e && *e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    harness_init(240);
    if (srv_is_redis())
        tap_skip_all("lsmdb-only: restart of lsmdb-server on its directory");
    tap_diag("SEED=%" PRIu64, seed);
    test_shutdown_sigterm();
    test_deferred_key_counting();
    test_everysec_kill9();
    test_disk_full();
    test_vlog_page_lost();
    test_vlog_value_damaged();
    return tap_done();
}
