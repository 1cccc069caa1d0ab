/* test_multi.c: MULTI / EXEC / DISCARD / WATCH / UNWATCH against a real
 * server, as Redis 7.0 answers: queueing (+QUEUED), queue-time errors
 * (unknown command, wrong arity, no_multi commands) making EXEC answer
 * -EXECABORT, the nested / without-MULTI errors, runtime errors as elements
 * of EXEC's array, DISCARD, UNWATCH; WATCH races between two clients
 * (optimistic counters), WATCH + a key expiring, WATCH + FLUSHDB/FLUSHALL/
 * SWAPDB by another client, the RESP3 null of an aborted EXEC, a client
 * closing in MULTI, an EXEC's writes all visible at once (and all
 * surviving a restart, being one engine batch), and transactions while the
 * disk is full (a private tmpfs; root only): -MISCONF at queue time, EXEC
 * discarding a transaction queued before the failure.
 * The recorded replies come from redis-server 7.0.15: running this test
 * with LSMDB_SERVER=/usr/bin/redis-server passes (the restart is skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "keys_common.h"
#include "util/zmalloc.h"

static struct srv old_srv;   /* stopped before a restart; its tmp holds the data */
static struct conn *A, *B;

/* Recorded from redis-server 7.0.15 (one client, in this order). */
static const struct step multi_steps[] = {
    { "FLUSHALL", "+OK\r\n" },
    { "EXEC", "-ERR EXEC without MULTI\r\n" },
    { "DISCARD", "-ERR DISCARD without MULTI\r\n" },
    { "UNWATCH", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "MULTI", "-ERR MULTI calls can not be nested\r\n" },
    { "SET a 1", "+QUEUED\r\n" },
    { "INCR a", "+QUEUED\r\n" },
    { "GET a", "+QUEUED\r\n" },
    { "WATCH a", "-ERR WATCH inside MULTI is not allowed\r\n" },
    { "EXEC", "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n" },
    { "EXEC", "-ERR EXEC without MULTI\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SET a 1", "+QUEUED\r\n" },
    { "NOSUCHCMD x y", "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' 'y' \r\n" },
    { "GET", "-ERR wrong number of arguments for 'get' command\r\n" },
    { "SET b 2", "+QUEUED\r\n" },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { "EXISTS b", ":0\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SET a 1", "+QUEUED\r\n" },
    { "EXPIRE a 100 NX XX", "+QUEUED\r\n" },
    { "EXEC", "*2\r\n+OK\r\n-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SET a x", "+QUEUED\r\n" },
    { "INCR a", "+QUEUED\r\n" },
    { "GET a", "+QUEUED\r\n" },
    { "EXPIRE a foo", "+QUEUED\r\n" },
    { "DEL a", "+QUEUED\r\n" },
    { "DISCARD", "+OK\r\n" },
    { "GET a", "$1\r\n1\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SHUTDOWN", "-ERR Command not allowed inside a transaction\r\n" },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { "MULTI", "+OK\r\n" },
    { "UNWATCH", "+QUEUED\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "SELECT 1", "+QUEUED\r\n" },
    { "SET z 1", "+QUEUED\r\n" },
    { "SELECT 0", "+QUEUED\r\n" },
    { "EXEC", "*5\r\n+OK\r\n+PONG\r\n+OK\r\n+OK\r\n+OK\r\n" },
    { "GET z", "$-1\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET z", "$1\r\n1\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SET c 1", "+QUEUED\r\n" },
    { "INCR c", "+QUEUED\r\n" },
    { "INCR c", "+QUEUED\r\n" },
    { "RENAME nokey x", "+QUEUED\r\n" },
    { "GET c", "+QUEUED\r\n" },
    { "EXEC", "*5\r\n+OK\r\n:2\r\n:3\r\n-ERR no such key\r\n$1\r\n3\r\n" },
    { "MULTI", "+OK\r\n" },
    { "EXEC", "*0\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "SET k 1", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "GET k", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "UNWATCH", "+OK\r\n" },
    { "SET k 2", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "GET k", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n$1\r\n2\r\n" },
    { "WATCH nokey", "+OK\r\n" },
    { "DEL nokey", ":0\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n+PONG\r\n" },
    { "SET w 1", "+OK\r\n" },
    { "WATCH w", "+OK\r\n" },
    { "FLUSHDB", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    { "WATCH nokey2", "+OK\r\n" },
    { "FLUSHDB", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n+PONG\r\n" },
    { "SET w 1", "+OK\r\n" },
    { "WATCH w", "+OK\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "FLUSHALL", "+OK\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "SET sw 1", "+OK\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "WATCH sw", "+OK\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    /* sw is in db 0 now, not in db 1: a swap there and back still counts */
    { "SELECT 1", "+OK\r\n" },
    { "WATCH sw", "+OK\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "SWAPDB 1 0", "+OK\r\n" },
    { "EXISTS sw", ":0\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    /* a SET with a past expire of an absent key leaves no key, but Redis
     * sets it, then expires it: the watcher is told */
    { "WATCH pastset", "+OK\r\n" },
    { "SET pastset v EXAT 1", "+OK\r\n" },
    { "EXISTS pastset", ":0\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    /* a swap that brings in no copy of the key is no change */
    { "WATCH other", "+OK\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n+PONG\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "FLUSHALL", "+OK\r\n" },
    { "WATCH a b", "+OK\r\n" },
    { "WATCH", "-ERR wrong number of arguments for 'watch' command\r\n" },
    { "MULTI", "+OK\r\n" },
    { "WATCH x", "-ERR WATCH inside MULTI is not allowed\r\n" },
    { "EXEC", "*0\r\n" },
    { "SET k 1", "+OK\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "SET k 2", "+OK\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "PING", "+QUEUED\r\n" },
    { "EXEC", "*-1\r\n" },
    { NULL, NULL },
};

#define OK "+OK\r\n"
#define QUEUED "+QUEUED\r\n"
#define NULLARR "*-1\r\n"

/* A watched key written by another client aborts EXEC; an untouched one
 * does not; the other client's write stays. */
static void test_two_clients(void)
{
    kc_do(A, "FLUSHALL");
    tap_ok(kc_is(A, "WATCH w", OK), "race: A WATCH w");
    tap_ok(kc_is(B, "SET w fromB", OK), "race: B SET w");
    tap_ok(kc_is(A, "MULTI", OK), "race: A MULTI");
    tap_ok(kc_is(A, "SET w fromA", QUEUED), "race: A SET w queued");
    tap_ok(kc_is(A, "EXEC", NULLARR), "race: A EXEC is a null array");
    tap_ok(kc_is(B, "GET w", "$5\r\nfromB\r\n"), "race: B's value stays");

    tap_ok(kc_is(A, "WATCH w other", OK), "race: A WATCH w other");
    tap_ok(kc_is(B, "SET unrelated 1", OK), "race: B writes another key");
    tap_ok(kc_is(B, "GET w", "$5\r\nfromB\r\n"), "race: B reads w");
    tap_ok(kc_is(A, "MULTI", OK), "race: A MULTI");
    tap_ok(kc_is(A, "SET w fromA", QUEUED), "race: A SET w queued");
    tap_ok(kc_is(A, "EXEC", "*1\r\n+OK\r\n"), "race: EXEC succeeds when w is untouched");
    tap_ok(kc_is(B, "GET w", "$5\r\nfromA\r\n"), "race: B sees A's value");

    /* A write in another db to a key of the same name is no change. */
    tap_ok(kc_is(A, "WATCH w", OK), "race: A WATCH w (db 0)");
    kc_do(B, "SELECT 1");
    tap_ok(kc_is(B, "SET w db1", OK), "race: B SET w in db 1");
    kc_do(B, "SELECT 0");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "race: A MULTI PING");
    tap_ok(kc_is(A, "EXEC", "*1\r\n+PONG\r\n"), "race: another db's key does not abort");

    /* DEL by B, MULTI queued before the write: still aborted. */
    tap_ok(kc_is(A, "WATCH w", OK), "race: A WATCH w");
    tap_ok(kc_is(A, "MULTI", OK), "race: A MULTI");
    tap_ok(kc_is(A, "GET w", QUEUED), "race: A GET queued");
    tap_ok(kc_is(B, "DEL w", ":1\r\n"), "race: B DEL w while A is in MULTI");
    tap_ok(kc_is(A, "EXEC", NULLARR), "race: EXEC aborted by a write after MULTI");
}

/* Which commands count as a change of a watched key, and which do not, as
 * redis-server 7.0.15 answered: client A watches k after the setup, client
 * B runs the commands, then A's MULTI PING EXEC runs or is aborted. Lines
 * are split on " | "; "" is the empty argument. */
static const struct {
    const char *name, *setup, *ops;
    int aborts;
} touch_cases[] = {
    { "rename same", "SET k v", "RENAME k k", 0 },
    { "renamenx same", "SET k v", "RENAMENX k k", 0 },
    { "setrange empty absent", "", "SETRANGE k 0 \"\"", 0 },
    { "setrange empty existing", "SET k v", "SETRANGE k 0 \"\"", 0 },
    { "setrange same bytes", "SET k v", "SETRANGE k 0 v", 1 },
    { "append empty existing", "SET k v", "APPEND k \"\"", 1 },
    { "incrby 0", "SET k 1", "INCRBY k 0", 1 },
    { "persist no ttl", "SET k v", "PERSIST k", 0 },
    { "persist ttl", "SET k v EX 100", "PERSIST k", 1 },
    { "expire gt fails", "SET k v EX 100", "EXPIRE k 50 GT", 0 },
    { "expire nx fails", "SET k v EX 100", "EXPIRE k 50 NX", 0 },
    { "expire same", "SET k v EX 100", "EXPIRE k 100", 1 },
    { "del absent", "", "DEL k", 0 },
    { "touch", "SET k v", "TOUCH k", 0 },
    { "get", "SET k v", "GET k", 0 },
    { "getex no opt", "SET k v EX 100", "GETEX k", 0 },
    { "getex persist no ttl", "SET k v", "GETEX k PERSIST", 0 },
    { "getex persist ttl", "SET k v EX 100", "GETEX k PERSIST", 1 },
    { "getex ex", "SET k v", "GETEX k EX 100", 1 },
    { "getex pxat past absent", "", "GETEX k PXAT 1", 0 },
    { "setnx fails", "SET k v", "SETNX k w", 0 },
    { "set nx fails", "SET k v", "SET k w NX", 0 },
    { "set xx fails", "", "SET k w XX", 0 },
    { "set xx past", "SET k v", "SET k w XX PXAT 1", 1 },
    { "set nx past absent", "", "SET k w NX PXAT 1", 1 },
    { "set get past absent", "", "SET k w GET PXAT 1", 1 },
    { "set same value", "SET k v", "SET k v", 1 },
    { "msetnx fails", "SET k v", "MSETNX k w j x", 0 },
    { "msetnx other", "", "MSETNX j w", 0 },
    { "copy to k", "SET j v", "COPY j k", 1 },
    { "copy to k exists no replace", "SET j v | SET k v", "COPY j k", 0 },
    { "copy from k", "SET k v", "COPY k j", 0 },
    { "move k", "SET k v", "MOVE k 1", 1 },
    { "move k exists dst", "SET k v | SELECT 1 | SET k x | SELECT 0", "MOVE k 1", 0 },
    { "move into k from db1", "SELECT 1 | SET k x | SELECT 0", "SELECT 1 | MOVE k 0 | SELECT 0", 1 },
    { "swapdb same", "SET k v", "SWAPDB 0 0", 0 },
    { "swapdb other dbs", "SET k v", "SWAPDB 1 2", 0 },
    { "flushdb other", "SET k v", "SELECT 1 | FLUSHDB | SELECT 0", 0 },
    { "flushdb empty", "", "FLUSHDB", 0 },
    { "flushall absent", "", "FLUSHALL", 0 },
    { "flushall present", "SET k v", "FLUSHALL", 1 },
    { "getdel absent", "", "GETDEL k", 0 },
    { "getset", "SET k v", "GETSET k v", 1 },
    { "incrbyfloat 0", "SET k 1", "INCRBYFLOAT k 0", 1 },
    { "unlink absent", "", "UNLINK k", 0 },
    { "expireat past absent", "", "EXPIREAT k 1", 0 },
    { "expireat past", "SET k v", "EXPIREAT k 1", 1 },
    { "rename to k", "SET j v", "RENAME j k", 1 },
    { "rename from k", "SET k v", "RENAME k j", 1 },
    { "expireat same", "SET k v EXAT 4102444800", "EXPIREAT k 4102444800", 1 },
    { "pexpireat same", "SET k v PXAT 4102444800000", "PEXPIREAT k 4102444800000", 1 },
    { "getex exat same", "SET k v EXAT 4102444800", "GETEX k EXAT 4102444800", 1 },
    { "expireat same gt", "SET k v EXAT 4102444800", "EXPIREAT k 4102444800 GT", 0 },
    { "renamenx to k exists", "SET j v | SET k v", "RENAMENX j k", 0 },
};

static void run_lines(struct conn *c, const char *lines)
{
    char buf[256];
    const char *p = lines;
    while (*p) {
        const char *bar = strstr(p, " | ");
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s", (int)n, p);
        kc_do(c, buf);
        p += n + (bar ? 3 : 0);
    }
}

static void test_watch_touches(void)
{
    for (size_t i = 0; i < sizeof touch_cases / sizeof touch_cases[0]; i++) {
        kc_do(A, "FLUSHALL");
        run_lines(A, touch_cases[i].setup);
        kc_do(A, "WATCH k");
        run_lines(B, touch_cases[i].ops);
        kc_do(A, "MULTI");
        kc_do(A, "PING");
        tap_ok(kc_is(A, "EXEC", touch_cases[i].aborts ? NULLARR : "*1\r\n+PONG\r\n"),
               "watch touch: %s -> EXEC %s", touch_cases[i].name,
               touch_cases[i].aborts ? "aborted" : "runs");
    }
    kc_do(A, "FLUSHALL");
}

/* RESET ends a MULTI (it is not queued) and drops the WATCHes, puts the
 * connection back in db 0, RESP2, without a name, as Redis 7 does. */
static void test_reset(void)
{
    kc_do(A, "FLUSHALL");
    tap_ok(kc_is(A, "SELECT 2", OK) && kc_is(A, "CLIENT SETNAME rn", OK), "reset: SELECT, SETNAME");
    tap_ok(kc_is(A, "WATCH rk", OK) && kc_is(A, "MULTI", OK) && kc_is(A, "SET rk 1", QUEUED),
           "reset: WATCH MULTI SET");
    tap_ok(kc_is(A, "RESET", "+RESET\r\n"), "reset: +RESET, not queued");
    tap_ok(kc_is(A, "EXEC", "-ERR EXEC without MULTI\r\n"), "reset: the MULTI is over");
    tap_ok(kc_is(A, "CLIENT GETNAME", "$-1\r\n"), "reset: no name");
    kc_do(B, "SELECT 2");
    tap_ok(kc_is(B, "EXISTS rk", ":0\r\n"), "reset: nothing queued ran");
    kc_do(B, "SELECT 0");
    tap_ok(kc_is(A, "SET rk a", OK) && kc_is(B, "GET rk", "$1\r\na\r\n"), "reset: back in db 0");
    tap_ok(kc_is(A, "WATCH rk", OK) && kc_is(A, "RESET", "+RESET\r\n"), "reset: WATCH, RESET");
    tap_ok(kc_is(B, "SET rk b", OK), "reset: another client writes the key");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED) &&
           kc_is(A, "EXEC", "*1\r\n+PONG\r\n"), "reset: the WATCH is gone, EXEC runs");
    char *h = kc_call(A, "HELLO 3");
    tap_ok(h && h[0] == '%', "reset: HELLO 3");
    zfree(h);
    tap_ok(kc_is(A, "RESET", "+RESET\r\n") && kc_is(A, "GET nosuch", "$-1\r\n"),
           "reset: back to RESP2 (a null bulk, not _)");
    tap_ok(kc_is(A, "RESET x", "-ERR wrong number of arguments for 'reset' command\r\n"),
           "reset: arity");
    kc_do(A, "FLUSHALL");
}

/* Optimistic increments from two clients, interleaved so that some
 * transactions lose: the counter ends equal to the successful EXECs. */
static void test_optimistic_counter(void)
{
    kc_do(A, "SET ctr 0");
    long long wins = 0, losses = 0;
    struct conn *cl[2] = { A, B };
    for (int round = 0; round < 200; round++) {
        long long v[2];
        for (int i = 0; i < 2; i++) {
            zfree(kc_call(cl[i], "WATCH ctr"));
            char *r = kc_call(cl[i], "GET ctr");
            v[i] = r && r[0] == '$' ? atoll(strstr(r, "\r\n") + 2) : -1;
            zfree(r);
        }
        /* Round r: client (r % 2) commits first; the other one read the
         * same value and must lose, unless only one of them runs. */
        int first = round % 2;
        int both = round % 3 != 0;
        for (int k = 0; k < (both ? 2 : 1); k++) {
            int i = k == 0 ? first : 1 - first;
            char line[64];
            zfree(kc_call(cl[i], "MULTI"));
            snprintf(line, sizeof line, "SET ctr %lld", v[i] + 1);
            zfree(kc_call(cl[i], line));
            char *r = kc_call(cl[i], "EXEC");
            if (r && strcmp(r, "*1\r\n+OK\r\n") == 0)
                wins++;
            else if (r && strcmp(r, NULLARR) == 0)
                losses++;
            zfree(r);
        }
        if (!both)
            zfree(kc_call(cl[1 - first], "UNWATCH"));
    }
    long long ctr = -1;
    char *r = kc_call(A, "GET ctr");
    if (r && r[0] == '$')
        ctr = atoll(strstr(r, "\r\n") + 2);
    zfree(r);
    tap_ok(wins == 200 && losses == 133 && ctr == wins,
           "optimistic counter: %lld wins, %lld losses, counter %lld", wins, losses, ctr);
}

/* Redis 7: a watched key that expires before EXEC aborts it; a key that had
 * already expired when watched does not. Active expiry (nobody reads the
 * key) counts too. */
static void test_watch_expiry(void)
{
    kc_do(A, "FLUSHALL");
    tap_ok(kc_is(A, "SET t v PX 100", OK), "expiry: SET t PX 100");
    tap_ok(kc_is(A, "WATCH t", OK), "expiry: WATCH t");
    usleep(300 * 1000);
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "expiry: MULTI PING");
    tap_ok(kc_is(A, "EXEC", NULLARR), "expiry: the watched key expired: EXEC aborted");

    tap_ok(kc_is(A, "SET t v PX 100", OK), "expiry: SET t PX 100 again");
    usleep(300 * 1000);
    tap_ok(kc_is(A, "WATCH t", OK), "expiry: WATCH t after it expired");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "expiry: MULTI PING");
    tap_ok(kc_is(A, "EXEC", "*1\r\n+PONG\r\n"), "expiry: already expired at WATCH: EXEC runs");

    tap_ok(kc_is(A, "SET t v PX 100", OK), "expiry: SET t PX 100 (read by B after expiry)");
    tap_ok(kc_is(A, "WATCH t", OK), "expiry: WATCH t");
    usleep(300 * 1000);
    tap_ok(kc_is(B, "GET t", "$-1\r\n"), "expiry: B reads the expired key (lazy deletion)");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "expiry: MULTI PING");
    tap_ok(kc_is(A, "EXEC", NULLARR), "expiry: EXEC aborted");

    tap_ok(kc_is(A, "SET t v EX 100", OK), "expiry: SET t EX 100");
    tap_ok(kc_is(A, "WATCH t", OK), "expiry: WATCH t");
    tap_ok(kc_is(B, "PEXPIRE t 50", ":1\r\n"), "expiry: B shortens the TTL");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "expiry: MULTI PING");
    tap_ok(kc_is(A, "EXEC", NULLARR), "expiry: changing the TTL is a write: EXEC aborted");
}

/* FLUSHDB / FLUSHALL / SWAPDB by another client touch the watched keys that
 * existed (Redis' touchAllWatchedKeysInDb). */
static void test_watch_flush(void)
{
    static const struct {
        const char *by_b;
        int existed;
        const char *expect;
    } cases[] = {
        { "FLUSHDB", 1, NULLARR },
        { "FLUSHDB", 0, "*1\r\n+PONG\r\n" },
        { "FLUSHALL", 1, NULLARR },
        { "FLUSHALL ASYNC", 1, NULLARR },
        { "SWAPDB 0 1", 1, NULLARR },
        { "SWAPDB 0 1", 0, "*1\r\n+PONG\r\n" },
        { "SWAPDB 2 3", 1, "*1\r\n+PONG\r\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kc_do(A, "FLUSHALL");
        if (cases[i].existed)
            kc_do(A, "SET f v");
        tap_ok(kc_is(A, "WATCH f", OK), "flush %zu: WATCH f (%s)", i,
               cases[i].existed ? "exists" : "absent");
        tap_ok(kc_is(B, cases[i].by_b, OK), "flush %zu: B %s", i, cases[i].by_b);
        tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "flush %zu: MULTI PING", i);
        tap_ok(kc_is(A, "EXEC", cases[i].expect), "flush %zu: EXEC after %s", i, cases[i].by_b);
    }
    /* The key appears through SWAPDB: Redis also checks the db swapped in. */
    kc_do(A, "FLUSHALL");
    kc_do(B, "SELECT 1");
    kc_do(B, "SET f fromdb1");
    kc_do(B, "SELECT 0");
    tap_ok(kc_is(A, "WATCH f", OK), "swap-in: WATCH f (absent in db 0)");
    tap_ok(kc_is(B, "SWAPDB 1 0", OK), "swap-in: B SWAPDB 1 0");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "swap-in: MULTI PING");
    tap_ok(kc_is(A, "EXEC", NULLARR), "swap-in: EXEC aborted");
    kc_do(A, "FLUSHALL");
}

/* EXEC with a wrong arity ends the transaction and drops the WATCHes, in
 * MULTI or not (Redis' rejectCommand on EXEC). */
static void test_exec_arity(void)
{
    kc_do(A, "DEL ea");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "SET ea 1", QUEUED), "exec arity: MULTI SET");
    tap_ok(kc_is(A, "EXEC x", "-EXECABORT Transaction discarded because of: wrong number of "
                              "arguments for 'exec' command\r\n"),
           "exec arity: EXEC x -> EXECABORT because of the arity");
    tap_ok(kc_is(A, "EXEC", "-ERR EXEC without MULTI\r\n"), "exec arity: the MULTI is over");
    tap_ok(kc_is(A, "EXISTS ea", ":0\r\n"), "exec arity: nothing ran");
    /* Outside MULTI too: the reply is the same and the WATCHes go (redis
     * 7.0.15: the EXEC that follows runs although ea was written). */
    tap_ok(kc_is(A, "WATCH ea", OK), "exec arity: WATCH");
    tap_ok(kc_is(A, "EXEC x", "-EXECABORT Transaction discarded because of: wrong number of "
                              "arguments for 'exec' command\r\n"),
           "exec arity: EXEC x outside MULTI -> EXECABORT too");
    tap_ok(kc_is(A, "SET ea 2", OK) && kc_is(A, "MULTI", OK) && kc_is(A, "GET ea", QUEUED),
           "exec arity: the watched key written, MULTI GET");
    tap_ok(kc_is(A, "EXEC", "*1\r\n$1\r\n2\r\n"), "exec arity: ... and EXEC runs: no WATCH left");
    kc_do(A, "DEL ea");
}

static void test_resp3(void)
{
    kc_do(A, "FLUSHALL");
    char *r = kc_call(A, "HELLO 3");
    tap_ok(r && r[0] == '%', "resp3: HELLO 3");
    zfree(r);
    tap_ok(kc_is(A, "WATCH k", OK), "resp3: WATCH k");
    tap_ok(kc_is(B, "SET k 1", OK), "resp3: B SET k");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "PING", QUEUED), "resp3: MULTI PING");
    tap_ok(kc_is(A, "EXEC", "_\r\n"), "resp3: an aborted EXEC is a RESP3 null");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "GET k", QUEUED) && kc_is(A, "GET nokey", QUEUED),
           "resp3: MULTI GET GET");
    tap_ok(kc_is(A, "EXEC", "*2\r\n$1\r\n1\r\n_\r\n"), "resp3: EXEC replies in RESP3");
    r = kc_call(A, "HELLO 2");
    zfree(r);
}

/* Queued writes are invisible until EXEC, then all there at once. */
static void test_atomic(struct srv *s)
{
    enum { N = 200 };
    kc_do(A, "FLUSHALL");
    tap_ok(kc_is(A, "MULTI", OK), "atomic: MULTI");
    int queued = 0;
    for (int i = 0; i < N; i++) {
        char line[64];
        snprintf(line, sizeof line, "SET at:%03d %d", i, i);
        queued += kc_is(A, line, QUEUED);
        if (i == N / 2)
            tap_ok(kc_int(B, "DBSIZE") == 0, "atomic: nothing visible while queueing");
    }
    tap_ok(queued == N, "atomic: %d SETs queued", queued);
    tap_ok(kc_is(A, "INCR at:000", QUEUED) && kc_is(A, "DEL at:001", QUEUED),
           "atomic: INCR and DEL queued");
    char *r = kc_call(A, "EXEC");
    tap_ok(r && strncmp(r, "*202\r\n", 6) == 0, "atomic: EXEC replies 202 elements");
    zfree(r);
    tap_ok(kc_int(B, "DBSIZE") == N - 1, "atomic: B sees every write at once");
    tap_ok(kc_is(B, "GET at:000", "$1\r\n1\r\n"), "atomic: INCR saw the queued SET");
    if (srv_is_redis()) {
        tap_diag("atomic: restart skipped against redis-server");
        return;
    }
    conn_close(A);
    conn_close(B);
    srv_stop_keep(s);
    struct srv s2;
    struct srv_opts o = { .dir = s->dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "atomic: restart on the same dir")) {
        A = B = NULL;
        return;
    }
    /* The first server's temp dir holds the data dir: removed at exit. */
    old_srv = *s;
    *s = s2;
    A = conn_tcp(s->port);
    B = conn_tcp(s->port);
    tap_ok(kc_int(A, "DBSIZE") == N - 1, "atomic: the transaction survives a restart");
    tap_ok(kc_is(A, "GET at:199", "$3\r\n199\r\n"), "atomic: its last write too");
}

/* A client that closes in MULTI or with watched keys leaves nothing behind
 * that affects others. */
static void test_close_in_multi(int port)
{
    struct conn *x = conn_tcp(port);
    tap_ok(kc_is(x, "WATCH gone", OK) && kc_is(x, "MULTI", OK) && kc_is(x, "SET gone 1", QUEUED),
           "close: a client queues in MULTI");
    conn_close(x);
    usleep(100 * 1000);
    tap_ok(kc_is(A, "EXISTS gone", ":0\r\n"), "close: its queued write never ran");
    tap_ok(kc_is(A, "SET gone 2", OK), "close: the watched key can be written");
    tap_ok(kc_is(A, "MULTI", OK) && kc_is(A, "GET gone", QUEUED) &&
               kc_is(A, "EXEC", "*1\r\n$1\r\n2\r\n"),
           "close: other clients' transactions are unaffected");
}


/* ---- disk full (a private tmpfs) ---- */

static char mnt[128];

static void unmount_at_exit(void)
{
    if (mnt[0]) {
        umount2(mnt, MNT_DETACH);
        rmdir(mnt);
        mnt[0] = '\0';
    }
}

/* While writes fail: a write queued in MULTI gets the write error at queue
 * time and EXEC answers EXECABORT; EXEC of a transaction queued before the
 * failure is refused with the reason (Redis' rejectCommand on EXEC); a
 * read-only transaction still runs. */
static void test_disk_full(void)
{
    if (srv_is_redis()) {
        tap_diag("disk full: skipped against redis-server");
        return;
    }
    snprintf(mnt, sizeof mnt, "/tmp/lsmdb-mfull-XXXXXX");
    if (geteuid() != 0 || !mkdtemp(mnt)) {
        kc_skip("disk full", "not root (cannot mount a small tmpfs)");
        mnt[0] = '\0';
        return;
    }
    if (mount("lsmdb-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=10m,mode=0755") != 0) {
        kc_skip("disk full", "mount tmpfs failed");
        rmdir(mnt);
        mnt[0] = '\0';
        return;
    }
    atexit(unmount_at_exit);
    char data[192];
    snprintf(data, sizeof data, "%s/data", mnt);
    static const char *const args[] = { "--write-buffer-size", "1mb", NULL };
    struct srv s;
    struct srv_opts o = { .dir = data, .args = args };
    if (!tap_ok(srv_start(&s, &o) == 0, "disk full: server starts on a 10 MB tmpfs")) {
        unmount_at_exit();
        return;
    }
    struct conn *x = conn_tcp(s.port), *c = conn_tcp(s.port);
    tap_ok(kc_is(x, "MULTI", OK) && kc_is(x, "SET q 1", QUEUED),
           "disk full: a transaction queued before the failure");
    enum { VLEN = 32768 };
    char *v = zmalloc(VLEN);
    unsigned long long rs = 88172645463325252ULL;   /* incompressible bytes */
    for (int i = 0; i < VLEN; i++) {
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        v[i] = (char)(rs >> 24);
    }
    int acked = 0;
    char k[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "full:%d", i);
        memcpy(v, k, strlen(k));   /* values differ */
        const char *argv[3] = { "SET", k, v };
        size_t lens[3] = { 3, strlen(k), VLEN };
        char *r = conn_sendargv(c, 3, argv, lens) == 0 ? conn_reply(c, 10000, NULL) : NULL;
        int ok = r && strcmp(r, OK) == 0;
        zfree(r);
        if (!ok)
            break;
        acked++;
    }
    zfree(v);
    conn_close(c);
    c = conn_tcp(s.port);
    char *r = kc_call(c, "SET after full");
    int refused = r && r[0] == '-';
    tap_ok(refused, "disk full: writes refused after %d 32 KB SETs: %s", acked,
           r ? esc(r, strlen(r)) : "(none)");
    char why[300] = "";
    if (refused)
        snprintf(why, sizeof why, "%.*s", (int)strcspn(r + 1, "\r"), r + 1);
    zfree(r);
    if (!refused) {
        conn_close(x);
        conn_close(c);
        srv_stop(&s);
        unmount_at_exit();
        return;
    }
    char expect[400];
    snprintf(expect, sizeof expect, "-EXECABORT Transaction discarded because of: %s\r\n", why);
    tap_ok(kc_is(x, "EXEC", expect), "disk full: EXEC of a write queued before: EXECABORT "
                                     "because of the write error");
    tap_ok(kc_is(x, "EXISTS q", ":0\r\n"), "disk full: its write did not happen");
    tap_ok(kc_is(c, "MULTI", OK), "disk full: MULTI");
    r = kc_call(c, "SET a b");
    snprintf(expect, sizeof expect, "-%s\r\n", why);
    tap_ok(r && strcmp(r, expect) == 0, "disk full: a write is refused at queue time: %s",
           r ? esc(r, strlen(r)) : "(none)");
    zfree(r);
    tap_ok(kc_is(c, "GET full:0", QUEUED), "disk full: a read is queued");
    tap_ok(kc_is(c, "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
           "disk full: EXEC aborted by the queue-time error");
    tap_ok(kc_is(c, "MULTI", OK) && kc_is(c, "EXISTS full:0 nokey", QUEUED) &&
               kc_is(c, "EXEC", "*1\r\n:1\r\n"),
           "disk full: a read-only transaction still runs");
    conn_close(x);
    conn_close(c);
    srv_stop(&s);
    unmount_at_exit();
}

int main(void)
{
    harness_init(120);
    struct srv s;
    if (srv_start(&s, NULL) != 0)
        tap_bail("server did not start");
    A = conn_tcp(s.port);
    B = conn_tcp(s.port);
    if (!A || !B)
        tap_bail("no connection");
    kc_steps(A, "multi", multi_steps);
    test_two_clients();
    test_watch_touches();
    test_reset();
    test_optimistic_counter();
    test_watch_expiry();
    test_watch_flush();
    test_exec_arity();
    test_resp3();
    test_close_in_multi(s.port);
    test_atomic(&s);
    test_disk_full();
    if (A)
        conn_close(A);
    if (B)
        conn_close(B);
    srv_stop(&s);
    if (old_srv.tmp[0])
        srv_cleanup(&old_srv);
    return tap_done();
}
