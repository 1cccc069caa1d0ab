/* test_expire.c: expiry with real short TTLs against a real server: TTL,
 * PTTL, EXPIRETIME, PEXPIRETIME against the server's clock; expired keys
 * absent to GET, EXISTS, TYPE, TTL, SCAN, KEYS, RANDOMKEY, DBSIZE, RENAME,
 * COPY, MOVE, PERSIST; TTLs carried by RENAME, COPY and MOVE; PERSIST saving
 * a key; active expiry deleting keys nobody reads (the engine's sequence
 * moves and the keys are gone without any client touching them); TTLs and
 * absolute expire times surviving a restart, and keys that expire while the
 * server is down staying gone.
 * Runs against redis-server too (LSMDB_SERVER=/usr/bin/redis-server): the
 * restart part is skipped there, active expiry is checked via expired_keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "keys_common.h"
#include "util/zmalloc.h"

static struct srv old_srv;   /* stopped before a restart; its tmp holds the data */
static struct conn *C;

#define OK "+OK\r\n"
#define NIL "$-1\r\n"

/* The server's clock in ms (TIME). */
static long long server_ms(void)
{
    struct rv *v = kc_rv(C, "TIME");
    long long ms = -1;
    if (v && v->n == 2)
        ms = atoll(v->elem[0]->str) * 1000 + atoll(v->elem[1]->str) / 1000;
    rv_free(v);
    return ms;
}

static void test_ttl_values(void)
{
    kc_do(C, "FLUSHALL");
    long long t0 = server_ms();
    tap_ok(kc_is(C, "SET k v EX 100", OK), "ttl: SET EX 100");
    long long t1 = server_ms();
    tap_ok(kc_int(C, "TTL k") == 100, "ttl: TTL 100");
    long long pttl = kc_int(C, "PTTL k");
    tap_ok(pttl > 98000 && pttl <= 100000, "ttl: PTTL %lld in (98000, 100000]", pttl);
    long long pet = kc_int(C, "PEXPIRETIME k");
    tap_ok(pet >= t0 + 100000 - 5 && pet <= t1 + 100000 + 5,
           "ttl: PEXPIRETIME %lld is SET time + 100 s (%lld..%lld)", pet, t0 + 100000,
           t1 + 100000);
    long long et = kc_int(C, "EXPIRETIME k");
    tap_ok(et == (pet + 500) / 1000, "ttl: EXPIRETIME %lld is PEXPIRETIME rounded", et);
    char line[96];
    long long at = (t1 / 1000 + 1000) * 1000 + 123;
    snprintf(line, sizeof line, "PEXPIREAT k %lld", at);
    tap_ok(kc_int(C, line) == 1, "ttl: PEXPIREAT an exact time");
    tap_ok(kc_int(C, "PEXPIRETIME k") == at, "ttl: PEXPIRETIME returns it exactly");
    tap_ok(kc_int(C, "EXPIRETIME k") == at / 1000, "ttl: EXPIRETIME rounds .123 down");
    snprintf(line, sizeof line, "EXPIREAT k %lld", t1 / 1000 + 50);
    tap_ok(kc_int(C, line) == 1, "ttl: EXPIREAT in 50 s");
    long long ttl = kc_int(C, "TTL k");
    tap_ok(ttl >= 48 && ttl <= 50, "ttl: TTL %lld about 50", ttl);
    tap_ok(kc_int(C, "PERSIST k") == 1 && kc_int(C, "TTL k") == -1 &&
               kc_int(C, "PEXPIRETIME k") == -1,
           "ttl: PERSIST removes it (-1)");
    /* The largest expire: seconds are rounded without overflowing, as
     * redis-server 7.0 answers (it was undefined behaviour here). */
    tap_ok(kc_int(C, "PEXPIREAT k 9223372036854775807") == 1 &&
               kc_int(C, "PEXPIRETIME k") == 9223372036854775807LL,
           "ttl: PEXPIREAT LLONG_MAX");
    tap_ok(kc_int(C, "EXPIRETIME k") == 9223372036854776LL,
           "ttl: EXPIRETIME of it is 9223372036854776");
    tap_ok(kc_int(C, "TTL k") > 9223370000000000LL, "ttl: TTL of it does not overflow");
    tap_ok(kc_int(C, "PERSIST k") == 1, "ttl: PERSIST again");
}

/* Keys with short TTLs vanish from every read path. */
static void test_short_ttls(void)
{
    kc_do(C, "FLUSHALL");
    tap_ok(kc_is(C, "SET e:px v PX 150", OK), "short: SET PX 150");
    tap_ok(kc_is(C, "SET e:pexpire v", OK) && kc_int(C, "PEXPIRE e:pexpire 150") == 1,
           "short: PEXPIRE 150");
    tap_ok(kc_is(C, "SET e:expire v", OK) && kc_int(C, "EXPIRE e:expire 1") == 1,
           "short: EXPIRE 1");
    tap_ok(kc_is(C, "SET e:persist v PX 150", OK) && kc_int(C, "PERSIST e:persist") == 1,
           "short: PERSIST saves a key");
    tap_ok(kc_is(C, "SET e:ren v PX 150", OK) && kc_is(C, "RENAME e:ren e:renamed", OK),
           "short: RENAME keeps the TTL");
    long long p = kc_int(C, "PTTL e:renamed");
    tap_ok(p > 0 && p <= 150, "short: renamed key's PTTL %lld", p);
    tap_ok(kc_is(C, "SET e:copy v PX 150", OK) && kc_int(C, "COPY e:copy e:copied") == 1,
           "short: COPY keeps the TTL");
    p = kc_int(C, "PTTL e:copied");
    tap_ok(p > 0 && p <= 150, "short: copied key's PTTL %lld", p);
    tap_ok(kc_is(C, "SET e:move v PX 150", OK) && kc_int(C, "MOVE e:move 1") == 1,
           "short: MOVE keeps the TTL");
    tap_ok(kc_is(C, "SET e:keep v", OK), "short: a key without TTL");
    tap_ok(kc_int(C, "DBSIZE") == 8, "short: DBSIZE 8 before expiry");
    usleep(1300 * 1000);
    tap_ok(kc_int(C, "DBSIZE") == 2, "short: DBSIZE 2 after expiry");
    tap_ok(kc_is(C, "GET e:px", NIL), "short: GET of an expired key is null");
    tap_ok(kc_int(C, "EXISTS e:px e:pexpire e:expire e:renamed e:copied e:copy e:persist") == 1,
           "short: EXISTS counts only the persisted key");
    tap_ok(kc_is(C, "TYPE e:px", "+none\r\n"), "short: TYPE none");
    tap_ok(kc_int(C, "TTL e:px") == -2 && kc_int(C, "PTTL e:pexpire") == -2 &&
               kc_int(C, "EXPIRETIME e:expire") == -2,
           "short: TTL/PTTL/EXPIRETIME -2");
    tap_ok(kc_is(C, "RENAME e:px x", "-ERR no such key\r\n"), "short: RENAME no such key");
    tap_ok(kc_int(C, "COPY e:px x") == 0 && kc_int(C, "MOVE e:px 2") == 0 &&
               kc_int(C, "PERSIST e:px") == 0 && kc_int(C, "EXPIRE e:px 100") == 0,
           "short: COPY/MOVE/PERSIST/EXPIRE see no key");
    struct rv *v = kc_rv(C, "KEYS *");
    tap_ok(v && v->n == 2, "short: KEYS * returns the 2 live keys (%zu)", v ? v->n : 0);
    rv_free(v);
    v = kc_rv(C, "SCAN 0 COUNT 1000");
    tap_ok(v && v->n == 2 && v->elem[1]->n == 2, "short: SCAN returns the 2 live keys");
    rv_free(v);
    kc_do(C, "SELECT 1");
    tap_ok(kc_is(C, "GET e:move", NIL) && kc_int(C, "DBSIZE") == 0,
           "short: the moved key expired in db 1");
    tap_ok(kc_is(C, "RANDOMKEY", NIL), "short: RANDOMKEY null on a db of expired keys");
    kc_do(C, "SELECT 0");
}

/* A value of INFO as a number, or -1. */
static long long info_num(const char *section, const char *field)
{
    char line[64], out[64];
    snprintf(line, sizeof line, "INFO %s", section);
    struct rv *v = kc_rv(C, line);
    long long n = -1;
    if (v && v->str && info_field(v->str, field, out, sizeof out) == 0)
        n = atoll(out);
    rv_free(v);
    return n;
}

/* Keys that nobody reads are deleted by the server's active expiry cycle. */
static void test_active_expiry(void)
{
    enum { N = 500 };
    kc_do(C, "FLUSHALL");
    kc_do(C, "SELECT 3");
    for (int i = 0; i < N; i++) {
        char line[64];
        snprintf(line, sizeof line, "SET ae:%d v PX 100", i);
        zfree(kc_call(C, line));
    }
    kc_do(C, "SET ae:stays v");
    long long seq0 = info_num("lsm", "last_sequence");
    long long exp0 = info_num("stats", "expired_keys");
    usleep(1500 * 1000);
    long long seq1 = info_num("lsm", "last_sequence");
    long long exp1 = info_num("stats", "expired_keys");
    if (seq0 >= 0 && seq1 >= 0)
        tap_ok(seq1 - seq0 >= N, "active expiry: the engine wrote %lld ops with no client "
                                 "command (>= %d deletions)", seq1 - seq0, N);
    tap_ok(exp1 - exp0 == N, "active expiry: expired_keys grew by %lld (%d)", exp1 - exp0, N);
    tap_ok(kc_int(C, "DBSIZE") == 1, "active expiry: DBSIZE 1 (the key without TTL)");
    kc_do(C, "SELECT 0");
}

static void test_restart(struct srv *s)
{
    if (srv_is_redis()) {
        tap_diag("restart: skipped against redis-server");
        return;
    }
    kc_do(C, "FLUSHALL");
    long long now = server_ms();
    char line[96];
    long long at = now + 3600 * 1000 + 77;
    tap_ok(kc_is(C, "SET r:ex v EX 1000", OK), "restart: SET EX 1000");
    snprintf(line, sizeof line, "SET r:at v PXAT %lld", at);
    tap_ok(kc_is(C, line, OK), "restart: SET PXAT in an hour");
    tap_ok(kc_is(C, "SET r:short v PX 300", OK), "restart: SET PX 300");
    tap_ok(kc_is(C, "SET r:plain v", OK), "restart: SET without TTL");
    kc_do(C, "SELECT 5");
    tap_ok(kc_is(C, "SET r:db5 v EX 500", OK), "restart: SET EX 500 in db 5");
    kc_do(C, "SELECT 0");
    conn_close(C);
    srv_stop_keep(s);
    usleep(400 * 1000);
    struct srv s2;
    struct srv_opts o = { .dir = s->dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "restart: the server starts on the same dir")) {
        C = NULL;
        return;
    }
    /* The first server's temp dir holds the data dir: removed at exit. */
    old_srv = *s;
    *s = s2;
    C = conn_tcp(s->port);
    long long ttl = kc_int(C, "TTL r:ex");
    tap_ok(ttl > 990 && ttl <= 1000, "restart: TTL survives (%lld)", ttl);
    tap_ok(kc_int(C, "PEXPIRETIME r:at") == at, "restart: PEXPIRETIME exact after restart");
    tap_ok(kc_int(C, "TTL r:plain") == -1, "restart: a key without TTL has none");
    tap_ok(kc_int(C, "EXISTS r:short") == 0, "restart: a key that expired while down is gone");
    tap_ok(kc_int(C, "DBSIZE") == 3, "restart: DBSIZE 3");
    kc_do(C, "SELECT 5");
    ttl = kc_int(C, "TTL r:db5");
    tap_ok(ttl > 490 && ttl <= 500, "restart: TTL in db 5 survives (%lld)", ttl);
    kc_do(C, "SELECT 0");
}

/* INFO stats expired_keys counts keys deleted because they expired: read
 * after their time or found by active expiry, and a SET whose expire time
 * has passed (Redis sets the key, then expires it); EXPIRE to a past time
 * is a deletion, not counted. CONFIG RESETSTAT clears it. */
static void test_expired_keys(void)
{
    kc_do(C, "FLUSHALL");
    kc_do(C, "CONFIG RESETSTAT");
    tap_ok(info_num("stats", "expired_keys") == 0, "expired_keys: 0 after CONFIG RESETSTAT");
    kc_do(C, "SET ek:a v PX 30");
    kc_do(C, "SET ek:b v EXAT 1");
    kc_do(C, "SET ek:c v");
    kc_do(C, "EXPIRE ek:c -1");
    usleep(100 * 1000);
    tap_ok(kc_is(C, "GET ek:a", NIL), "expired_keys: the PX 30 key is gone after 100 ms");
    /* Redis counts ek:b when its active expiry finds it: wait for it. */
    long long n = -1;
    for (int i = 0; i < 100 && (n = info_num("stats", "expired_keys")) < 2; i++)
        usleep(50 * 1000);
    usleep(200 * 1000);
    n = info_num("stats", "expired_keys");
    tap_ok(n == 2, "expired_keys: 2 (a key past its time, a SET with a past EXAT; "
                   "not EXPIRE -1): %lld", n);
    tap_ok(kc_int(C, "DBSIZE") == 0, "expired_keys: DBSIZE 0");
}

int main(void)
{
    harness_init(120);
    struct srv s;
    if (srv_start(&s, NULL) != 0)
        tap_bail("server did not start");
    C = conn_tcp(s.port);
    if (!C)
        tap_bail("no connection");
    test_ttl_values();
    test_short_ttls();
    test_active_expiry();
    test_expired_keys();
    test_restart(&s);
    if (C)
        conn_close(C);
    srv_stop(&s);
    if (old_srv.tmp[0])
        srv_cleanup(&old_srv);
    return tap_done();
}
