/* test_persistence.c: the keyspace's durability against a real server —
 * group commit under appendfsync always (every pipelined write acknowledged,
 * fewer fsyncs than writes), CONFIG SET/GET appendfsync, INFO persistence /
 * lsm / keyspace / memory fields, exact INFO keyspace through expiry,
 * data + TTLs + counters surviving SHUTDOWN and a restart, and acknowledged
 * writes surviving kill -9 under appendfsync always (several rounds, SEED=). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static int info_has(struct conn *c, const char *section, const char *text)
{
    char *r = conn_call(c, "INFO", section, NULL);
    int ok = r && strstr(r, text) != NULL;
    if (!ok)
        tap_diag("INFO %s lacks '%s': %s", section, text, r ? esc(r, strlen(r)) : "(none)");
    zfree(r);
    return ok;
}

static void test_group_commit(struct srv *s)
{
    struct conn *c = conn_tcp(s->port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "appendfsync", "always", NULL), "+OK\r\n"),
           "CONFIG SET appendfsync always");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "appendfsync", NULL),
                    "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"),
           "CONFIG GET appendfsync");
    long long syncs0 = conn_info_ll(c, "persistence", "lsm_syncs");
    enum { NCONN = 20, PER = 50 };
    struct conn *cs[NCONN];
    char k[32], v[32];
    for (int i = 0; i < NCONN; i++)
        cs[i] = conn_tcp(s->port);
    for (int j = 0; j < PER; j++) {
        for (int i = 0; i < NCONN; i++) {
            snprintf(k, sizeof k, "gc:%d:%d", i, j);
            snprintf(v, sizeof v, "v%d", j);
            conn_sendv(cs[i], "SET", k, v, NULL);
        }
    }
    int oks = 0;
    for (int i = 0; i < NCONN; i++) {
        for (int j = 0; j < PER; j++) {
            char *r = conn_reply(cs[i], 10000, NULL);
            oks += r && strcmp(r, "+OK\r\n") == 0;
            zfree(r);
        }
        conn_close(cs[i]);
    }
    tap_ok(oks == NCONN * PER, "appendfsync always: all %d pipelined SETs acknowledged (%d)",
           NCONN * PER, oks);
    long long syncs = conn_info_ll(c, "persistence", "lsm_syncs") - syncs0;
    tap_ok(syncs > 0 && syncs < NCONN * PER,
           "group commit: %lld fsyncs for %d writes", syncs, NCONN * PER);
    tap_ok(info_has(c, "persistence", "appendfsync:always\r\n"), "INFO shows appendfsync always");
    tap_ok(reply_is(conn_call(c, "GET", "gc:19:49", NULL), "$3\r\nv49\r\n"), "last write readable");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "appendfsync", "everysec", NULL), "+OK\r\n"),
           "CONFIG SET appendfsync everysec");
    tap_ok(reply_is(conn_call(c, "SET", "after", "1", NULL), "+OK\r\n"),
           "writes go on after switching back to everysec");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "appendfsync", "sometimes", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - "
                    "argument(s) must be one of the following: everysec, always, no\r\n"),
           "CONFIG SET appendfsync with a bad value");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "scan-cursor-ttl", "3600", NULL), "+OK\r\n"),
           "CONFIG SET scan-cursor-ttl");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "scan-cursor-ttl", NULL),
                    "*2\r\n$15\r\nscan-cursor-ttl\r\n$4\r\n3600\r\n"),
           "CONFIG GET scan-cursor-ttl");
    conn_close(c);
}

static void test_info(struct srv *s)
{
    struct conn *c = conn_tcp(s->port);
    tap_ok(info_has(c, "persistence", "aof_last_write_status:ok\r\n"), "INFO persistence");
    tap_ok(info_has(c, "lsm", "level0:files="), "INFO lsm levels");
    tap_ok(info_has(c, "lsm", "block_cache_hit_rate:"), "INFO lsm cache hit rate");
    tap_ok(info_has(c, "memory", "lsm_memtables:"), "INFO memory shows the memtables");
    /* the value cache: a separated value read a third time is a hit */
    tap_ok(info_has(c, "memory", "lsm_value_cache_capacity:67108864\r\n"),
           "INFO memory shows the value cache (value-cache-size 64mb)");
    static char big[3000];
    memset(big, 'v', sizeof big - 1);
    zfree(conn_call(c, "SET", "vc:big", big, NULL));
    long long hits0 = conn_info_ll(c, "lsm", "value_cache_hits");
    for (int i = 0; i < 3; i++)
        zfree(conn_call(c, "GET", "vc:big", NULL));
    tap_ok(conn_info_ll(c, "lsm", "value_cache_hits") == hits0 + 1,
           "INFO lsm: the third GET of a separated value is a value-cache hit");
    zfree(conn_call(c, "DEL", "vc:big", NULL));
    zfree(conn_call(c, "SELECT", "1", NULL));
    zfree(conn_call(c, "SET", "p", "1", NULL));
    zfree(conn_call(c, "SET", "t", "1", "PX", "150", NULL));
    zfree(conn_call(c, "SELECT", "3", NULL));
    zfree(conn_call(c, "SET", "x", "1", "EX", "100", NULL));
    tap_ok(info_has(c, "keyspace", "db1:keys=2,expires=1,avg_ttl="), "INFO keyspace db1");
    tap_ok(info_has(c, "keyspace", "db3:keys=1,expires=1,avg_ttl="), "INFO keyspace db3");
    usleep(300 * 1000);
    tap_ok(info_has(c, "keyspace", "db1:keys=1,expires=0,avg_ttl=0\r\n"),
           "INFO keyspace is exact once a key expired");
    conn_close(c);
}

static void test_restart(struct srv *s)
{
    struct conn *c = conn_tcp(s->port);
    zfree(conn_call(c, "SELECT", "6", NULL));
    zfree(conn_call(c, "SET", "a", "1", NULL));
    zfree(conn_call(c, "SET", "b", "2", "EX", "1000", NULL));
    zfree(conn_call(c, "SELECT", "5", NULL));
    zfree(conn_call(c, "SET", "c", "3", NULL));
    conn_close(c);
    srv_stop_keep(s);
    struct srv s2;
    struct srv_opts o = { .dir = s->dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "restart on the same dir")) {
        srv_cleanup(s);
        return;
    }
    c = conn_tcp(s2.port);
    zfree(conn_call(c, "SELECT", "6", NULL));
    tap_ok(reply_is(conn_call(c, "GET", "a", NULL), "$1\r\n1\r\n"), "restart: value kept");
    /* The TTL survived: db6's average TTL is still about 1000 s. */
    char *r = conn_call(c, "INFO", "keyspace", NULL);
    const char *p = r ? strstr(r, "db6:keys=2,expires=1,avg_ttl=") : NULL;
    long long avg = p ? atoll(p + strlen("db6:keys=2,expires=1,avg_ttl=")) : -1;
    tap_ok(avg > 990000 && avg <= 1000000, "restart: TTL kept (avg_ttl %lld)", avg);
    zfree(r);
    tap_ok(info_has(c, "keyspace", "db6:keys=2,expires=1,"), "restart: db6 counters");
    tap_ok(info_has(c, "keyspace", "db0:keys=1001,expires=0,avg_ttl=0\r\n"),
           "restart: db0 counters");
    tap_ok(info_has(c, "keyspace", "db5:keys=1,expires=0,avg_ttl=0\r\n"), "restart: db5 counters");
    conn_close(c);
    srv_stop(&s2);
    srv_cleanup(s);
}

/* kill -9 while 8 clients write under appendfsync always; every
 * acknowledged SET must be there after the restart. */
static void test_kill9(void)
{
    enum { NCONN = 8, ROUNDS = 4 };
    unsigned seed = getenv("SEED") ? (unsigned)atoi(getenv("SEED")) : (unsigned)getpid();
    tap_diag("kill -9 rounds: SEED=%u", seed);
    srand(seed);
    struct srv s;
    static const char *const args[] = { "--appendfsync", "always", NULL };
    if (!tap_ok(srv_start_args(&s, args) == 0, "kill -9: server starts"))
        return;
    char dir[SRV_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s.dir);
    long long acked[NCONN];
    memset(acked, 0, sizeof acked);
    struct srv cur = s;
    int ok_all = 1;
    for (int round = 0; round < ROUNDS && ok_all; round++) {
        struct conn *cs[NCONN];
        long long next[NCONN];
        for (int i = 0; i < NCONN; i++) {
            cs[i] = conn_tcp(cur.port);
            next[i] = acked[i];
        }
        long long stop_at = now_ms() + 100 + rand() % 400;
        char k[64];
        /* Each client keeps one SET in flight; kill at a random moment. */
        for (int i = 0; i < NCONN; i++) {
            snprintf(k, sizeof k, "c%d:%lld", i, next[i]);
            conn_sendv(cs[i], "SET", k, k, NULL);
        }
        while (now_ms() < stop_at) {
            for (int i = 0; i < NCONN; i++) {
                char *r = conn_reply(cs[i], 2000, NULL);
                if (r && strcmp(r, "+OK\r\n") == 0)
                    acked[i] = ++next[i];
                zfree(r);
                snprintf(k, sizeof k, "c%d:%lld", i, next[i]);
                conn_sendv(cs[i], "SET", k, k, NULL);
            }
        }
        kill(cur.pid, SIGKILL);
        srv_wait_exit(&cur, 5000);
        for (int i = 0; i < NCONN; i++)
            conn_close(cs[i]);
        cur.pid = 0;
        struct srv n;
        struct srv_opts o = { .dir = dir, .args = args };
        if (!tap_ok(srv_start(&n, &o) == 0, "kill -9 round %d: restart", round)) {
            ok_all = 0;
            break;
        }
        struct conn *c = conn_tcp(n.port);
        long long missing = 0, total = 0;
        for (int i = 0; i < NCONN; i++) {
            for (long long j = 0; j < acked[i]; j++) {
                snprintf(k, sizeof k, "c%d:%lld", i, j);
                char *r = conn_call(c, "GET", k, NULL);
                char want[80];
                snprintf(want, sizeof want, "$%zu\r\n%s\r\n", strlen(k), k);
                missing += !(r && strcmp(r, want) == 0);
                total++;
                zfree(r);
            }
        }
        conn_close(c);
        ok_all = tap_ok(missing == 0, "kill -9 round %d: %lld acknowledged writes, %lld missing",
                        round, total, missing);
        if (cur.tmp[0] && strcmp(cur.tmp, s.tmp) != 0)
            srv_cleanup(&cur);
        cur = n;
    }
    srv_stop(&cur);
    srv_cleanup(&s);
}

int main(void)
{
    harness_init(300);
    if (srv_is_redis()) {
        tap_skip_all("lsmdb-only behaviour");
        return 0;
    }
    struct srv s;
    if (srv_start(&s, NULL) != 0)
        tap_bail("the server does not start");
    test_group_commit(&s);
    test_info(&s);
    test_restart(&s);
    test_kill9();
    return tap_done();
}
