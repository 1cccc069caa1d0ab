/* test_scan.c: SCAN against a real server — Redis' guarantee (every key
 * present for the whole scan is returned) while other keys are added and
 * deleted between the calls; MATCH with a literal prefix (lsmdb seeks to it
 * and ends the scan when keys leave it) and with full globs; TYPE (string,
 * another type, an unknown name); COUNT; a cursor that survives a server
 * restart in the middle of a scan; 2,000 scans interleaved (pipelined), each
 * complete; KEYS with prefix and glob; FLUSHDB of 1,000,000 keys in < 2 s
 * with the keys gone afterwards.
 * Runs against redis-server too (LSMDB_SERVER=/usr/bin/redis-server):
 * lsmdb-only properties (no duplicates, exact COUNT, a prefix scan in one
 * call, restart) are skipped there. SCAN_BIG_KEYS=n changes the 1M. */
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

/* One SCAN call: returns the new cursor (-1 on error) and calls fn on each
 * key. */
typedef void key_fn(const char *k, size_t n, void *arg);

static long long scan_call(struct conn *c, const char *cursor, const char *opts, key_fn *fn,
                           void *arg, size_t *nkeys)
{
    char line[512];
    snprintf(line, sizeof line, "SCAN %s%s%s", cursor, opts[0] ? " " : "", opts);
    struct rv *v = kc_rv(c, line);
    if (!v || v->type != '*' || v->n != 2 || v->elem[0]->type != '$') {
        tap_diag("bad SCAN reply to %s", line);
        rv_free(v);
        return -1;
    }
    long long next = strtoll(v->elem[0]->str, NULL, 10);
    if (nkeys)
        *nkeys = v->elem[1]->n;
    for (size_t i = 0; i < v->elem[1]->n; i++)
        fn(v->elem[1]->elem[i]->str, v->elem[1]->elem[i]->len, arg);
    rv_free(v);
    return next;
}

/* Marks "prefix:N" keys in a count array. */
struct marks {
    const char *prefix;
    int *seen;
    int n;
    long long other;                /* keys outside the prefix/range */
};

static void mark_key(const char *k, size_t n, void *arg)
{
    struct marks *m = arg;
    size_t pl = strlen(m->prefix);
    if (n > pl && memcmp(k, m->prefix, pl) == 0) {
        int i = atoi(k + pl);
        if (i >= 0 && i < m->n) {
            m->seen[i]++;
            return;
        }
    }
    m->other++;
}

static void setn(const char *fmt, int from, int to)
{
    /* Pipelined SETs, replies drained in blocks. */
    char key[64];
    int pending = 0;
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, fmt, i);
        const char *argv[] = { "SET", key, "v" };
        size_t lens[] = { 3, strlen(key), 1 };
        conn_sendargv(C, 3, argv, lens);
        if (++pending == 500 || i == to - 1) {
            for (; pending > 0; pending--)
                zfree(conn_reply(C, 10000, NULL));
        }
    }
}

/* Keys g:0..G-1 stay for the whole scan; n:* keys are added and v:* keys
 * deleted between the calls: every g: key must come back. */
static void test_guarantee(void)
{
    enum { G = 3000, V = 1000 };
    kc_do(C, "FLUSHALL");
    setn("g:%d", 0, G);
    setn("v:%d", 0, V);
    static int seen[G];
    memset(seen, 0, sizeof seen);
    struct marks m = { "g:", seen, G, 0 };
    char cur[32] = "0";
    int calls = 0, added = 0, deleted = 0;
    do {
        long long next = scan_call(C, cur, "COUNT 37", mark_key, &m, NULL);
        if (next < 0)
            break;
        snprintf(cur, sizeof cur, "%lld", next);
        calls++;
        /* Churn: 7 new keys spread over the key space, 5 deletions. */
        for (int j = 0; j < 7; j++) {
            char line[64];
            snprintf(line, sizeof line, "SET %c:new:%d v", "ahnwz"[j % 5], added++);
            zfree(kc_call(C, line));
        }
        for (int j = 0; j < 5 && deleted < V; j++) {
            char line[64];
            snprintf(line, sizeof line, "DEL v:%d", (deleted++ * 7919) % V);
            zfree(kc_call(C, line));
        }
    } while (strcmp(cur, "0") != 0 && calls < 100000);
    int missing = 0, dups = 0;
    for (int i = 0; i < G; i++) {
        missing += seen[i] == 0;
        dups += seen[i] > 1;
    }
    tap_ok(strcmp(cur, "0") == 0, "guarantee: the scan ends with cursor 0 (%d calls)", calls);
    tap_ok(missing == 0, "guarantee: every key present for the whole scan was returned "
                         "(%d missing of %d, %d added, %d deleted meanwhile)",
           missing, G, added, deleted);
    if (!srv_is_redis())
        tap_ok(dups == 0, "guarantee: no key returned twice (%d)", dups);
}

/* MATCH: prefix patterns seek (lsmdb: one call covers the whole prefix even
 * with many other keys), full globs filter. */
static void test_match(void)
{
    enum { U = 500, O = 5000 };
    kc_do(C, "FLUSHALL");
    setn("user:%d", 0, U);
    setn("order:%d", 0, O);
    kc_do(C, "SET u[x] 1");
    kc_do(C, "SET u?y 1");

    static int seen[U];
    memset(seen, 0, sizeof seen);
    struct marks m = { "user:", seen, U, 0 };
    char cur[32] = "0";
    int calls = 0;
    do {
        long long next = scan_call(C, cur, "MATCH user:* COUNT 1000", mark_key, &m, NULL);
        if (next < 0)
            break;
        snprintf(cur, sizeof cur, "%lld", next);
        calls++;
    } while (strcmp(cur, "0") != 0 && calls < 100000);
    int missing = 0;
    for (int i = 0; i < U; i++)
        missing += seen[i] != 1;
    tap_ok(missing == 0 && m.other == 0, "match user:*: all %d user keys once, nothing else "
                                         "(%d wrong, %lld others)", U, missing, m.other);
    if (!srv_is_redis())
        tap_ok(calls == 1, "match user:*: one call with COUNT 1000 (prefix seek), %d", calls);

    /* user:1?? and user:1* via glob. */
    memset(seen, 0, sizeof seen);
    m.other = 0;
    strcpy(cur, "0");
    calls = 0;
    do {
        long long next = scan_call(C, cur, "MATCH user:[1-2]?[05] COUNT 50", mark_key, &m, NULL);
        if (next < 0)
            break;
        snprintf(cur, sizeof cur, "%lld", next);
        calls++;
    } while (strcmp(cur, "0") != 0 && calls < 100000);
    int ok = m.other == 0;
    for (int i = 0; i < U; i++) {
        int want = (i >= 100 && i < 300 && (i % 10 == 0 || i % 10 == 5));
        ok &= seen[i] == want;
    }
    tap_ok(ok, "match user:[1-2]?[05]: exactly the 40 matching keys");

    /* Escapes: u\[x\] is the literal key u[x]; u\?y only u?y. */
    struct rv *v = kc_rv(C, "KEYS u\\[x\\]");
    tap_ok(v && v->n == 1 && strcmp(v->elem[0]->str, "u[x]") == 0, "keys: escaped [ ]");
    rv_free(v);
    v = kc_rv(C, "KEYS u\\?y");
    tap_ok(v && v->n == 1 && strcmp(v->elem[0]->str, "u?y") == 0, "keys: escaped ?");
    rv_free(v);
    v = kc_rv(C, "KEYS user:4?9");
    tap_ok(v && v->n == 10, "keys: user:4?9 -> 10 keys");
    rv_free(v);
    v = kc_rv(C, "KEYS *");
    tap_ok(v && v->n == U + O + 2, "keys: * -> all %d keys", U + O + 2);
    rv_free(v);
    v = kc_rv(C, "KEYS nothing*");
    tap_ok(v && v->type == '*' && v->n == 0, "keys: no match -> empty array");
    rv_free(v);
    v = kc_rv(C, "KEYS user:7");
    tap_ok(v && v->n == 1 && strcmp(v->elem[0]->str, "user:7") == 0,
           "keys: a literal pattern returns only that key (not user:70..)");
    rv_free(v);
    if (!srv_is_redis()) {
        v = kc_rv(C, "SCAN 0 MATCH user:7 COUNT 1");
        tap_ok(v && v->n == 2 && strcmp(v->elem[0]->str, "0") == 0 && v->elem[1]->n == 1 &&
                   strcmp(v->elem[1]->elem[0]->str, "user:7") == 0,
               "match user:7 (a literal): the key and cursor 0 in one call");
        rv_free(v);
    }
    v = kc_rv(C, "SCAN 0 MATCH nothing*");
    tap_ok(v && v->n == 2 && v->elem[1]->n == 0, "match nothing*: empty page");
    if (!srv_is_redis())
        tap_ok(v && v->n == 2 && strcmp(v->elem[0]->str, "0") == 0,
               "match nothing*: the scan ends at once (prefix seek)");
    rv_free(v);
}

static void count_key(const char *k, size_t n, void *arg)
{
    (void)k;
    (void)n;
    (*(long long *)arg)++;
}

static long long scan_count_all(const char *opts, int *calls)
{
    char cur[32] = "0";
    long long n = 0;
    *calls = 0;
    do {
        long long next = scan_call(C, cur, opts, count_key, &n, NULL);
        if (next < 0)
            return -1;
        snprintf(cur, sizeof cur, "%lld", next);
        (*calls)++;
    } while (strcmp(cur, "0") != 0 && *calls < 1000000);
    return n;
}

static void test_type_count(void)
{
    kc_do(C, "FLUSHALL");
    setn("t:%d", 0, 300);
    int calls;
    tap_ok(scan_count_all("TYPE string COUNT 100", &calls) == 300, "type string: all 300");
    tap_ok(scan_count_all("TYPE STRING", &calls) == 300, "type STRING (any case): all 300");
    tap_ok(scan_count_all("TYPE list COUNT 100", &calls) == 0, "type list: none");
    tap_ok(scan_count_all("TYPE nosuchtype COUNT 100", &calls) == 0,
           "type nosuchtype: none, no error (Redis 7.0)");
    size_t n = 0;
    long long next = scan_call(C, "0", "COUNT 5", count_key, &(long long){ 0 }, &n);
    tap_ok(next > 0 && n >= 1 && n <= 10, "count 5: a short page (%zu keys) and a cursor", n);
    if (!srv_is_redis()) {
        tap_ok(n == 5, "count 5: exactly 5 keys examined and returned");
        long long total = scan_count_all("COUNT 7", &calls);
        tap_ok(total == 300 && calls == 43, "count 7: 300 keys in %d calls", calls);
    }
    tap_ok(scan_count_all("COUNT 100000", &calls) == 300 && calls == 1,
           "count 100000: everything in one call");
}

/* A cursor from before a restart continues the same scan after it. */
static void test_restart(struct srv *s)
{
    if (srv_is_redis()) {
        tap_diag("restart: skipped against redis-server");
        return;
    }
    enum { R = 1000 };
    kc_do(C, "FLUSHALL");
    setn("r:%d", 0, R);
    static int seen[R];
    memset(seen, 0, sizeof seen);
    struct marks m = { "r:", seen, R, 0 };
    char cur[32] = "0";
    for (int i = 0; i < 3; i++) {
        long long next = scan_call(C, cur, "COUNT 100", mark_key, &m, NULL);
        snprintf(cur, sizeof cur, "%lld", next);
    }
    tap_ok(strcmp(cur, "0") != 0, "restart: a scan in the middle (cursor %s)", cur);
    conn_close(C);
    srv_stop_keep(s);
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
    int calls = 0;
    do {
        long long next = scan_call(C, cur, "COUNT 100", mark_key, &m, NULL);
        if (next < 0)
            break;
        snprintf(cur, sizeof cur, "%lld", next);
        calls++;
    } while (strcmp(cur, "0") != 0 && calls < 1000);
    int bad = 0;
    for (int i = 0; i < R; i++)
        bad += seen[i] != 1;
    tap_ok(bad == 0 && calls == 7, "restart: the cursor resumes; every key once "
                                   "(%d wrong, %d calls after the restart)", bad, calls);
}

/* A cursor older than scan-cursor-ttl is forgotten: the scan ends (cursor 0,
 * no keys) instead of failing or restarting. */
static void test_cursor_ttl(void)
{
    if (srv_is_redis()) {
        tap_diag("cursor ttl: skipped against redis-server");
        return;
    }
    kc_do(C, "FLUSHALL");
    setn("ct:%d", 0, 50);
    tap_ok(kc_is(C, "CONFIG SET scan-cursor-ttl 1", OK), "cursor ttl: CONFIG SET 1 s");
    struct rv *v = kc_rv(C, "SCAN 0 COUNT 10");
    char cur[32] = "";
    if (v && v->n == 2)
        snprintf(cur, sizeof cur, "%s", v->elem[0]->str);
    rv_free(v);
    tap_ok(cur[0] && strcmp(cur, "0") != 0, "cursor ttl: a cursor (%s)", cur);
    usleep(1300 * 1000);
    char line[64];
    snprintf(line, sizeof line, "SCAN %s COUNT 10", cur);
    tap_ok(kc_is(C, line, "*2\r\n$1\r\n0\r\n*0\r\n"),
           "cursor ttl: an expired cursor ends the scan");
    tap_ok(kc_is(C, "CONFIG SET scan-cursor-ttl 86400", OK), "cursor ttl: back to a day");
}

/* NS scans interleaved: each round sends one SCAN per unfinished scan
 * (pipelined) and reads the replies. Each scan must see all K keys once. */
static void test_concurrent(void)
{
    enum { NS = 2000, K = 250 };
    kc_do(C, "FLUSHALL");
    setn("c:%03d", 0, K);
    static char cursors[NS][24];
    static unsigned char seen[NS][K];
    static int done[NS];
    memset(seen, 0, sizeof seen);
    memset(done, 0, sizeof done);
    for (int i = 0; i < NS; i++)
        strcpy(cursors[i], "0");
    int rounds = 0, active = NS, errors = 0;
    while (active > 0 && rounds < 100) {
        /* Different COUNTs so the scans drift apart. */
        for (int i = 0; i < NS; i++) {
            if (done[i])
                continue;
            char count[16];
            snprintf(count, sizeof count, "%d", 20 + i % 61);
            const char *argv[] = { "SCAN", cursors[i], "COUNT", count };
            size_t lens[] = { 4, strlen(cursors[i]), 5, strlen(count) };
            conn_sendargv(C, 4, argv, lens);
        }
        for (int i = 0; i < NS; i++) {
            if (done[i])
                continue;
            size_t n;
            char *raw = conn_reply(C, 30000, &n);
            struct rv *v = raw ? rv_parse(raw, n) : NULL;
            zfree(raw);
            if (!v || v->n != 2) {
                errors++;
                done[i] = 1;
                active--;
                rv_free(v);
                continue;
            }
            for (size_t j = 0; j < v->elem[1]->n; j++) {
                int k = atoi(v->elem[1]->elem[j]->str + 2);
                if (k >= 0 && k < K && seen[i][k] < 255)
                    seen[i][k]++;
            }
            snprintf(cursors[i], sizeof cursors[i], "%s", v->elem[0]->str);
            if (strcmp(cursors[i], "0") == 0) {
                done[i] = 1;
                active--;
            }
            rv_free(v);
        }
        rounds++;
    }
    int incomplete = 0;
    for (int i = 0; i < NS; i++) {
        int ok = done[i];
        for (int k = 0; k < K && ok; k++)
            ok = srv_is_redis() ? seen[i][k] >= 1 : seen[i][k] == 1;
        incomplete += !ok;
    }
    tap_ok(errors == 0 && active == 0 && incomplete == 0,
           "2000 interleaved scans: each one complete (%d incomplete, %d errors, %d rounds)",
           incomplete, errors, rounds);
}

/* FLUSHDB of a large db is O(1): fast, and the keys are gone. */
static void test_flush_big(void)
{
    const char *e = getenv("SCAN_BIG_KEYS");
    long n = e ? atol(e) : 1000000;
    kc_do(C, "FLUSHALL");
    kc_do(C, "SELECT 7");
    long long t0 = now_ms();
    /* MSET batches of 1000 keys, 20 batches in flight. */
    enum { BATCH = 1000 };
    static char keys[BATCH][24];
    static const char *argv[1 + 2 * BATCH];
    static size_t lens[1 + 2 * BATCH];
    argv[0] = "MSET";
    lens[0] = 4;
    long sent = 0, inflight = 0, bad = 0;
    for (long base = 0; base < n; base += BATCH) {
        int m = (int)(n - base < BATCH ? n - base : BATCH);
        for (int i = 0; i < m; i++) {
            snprintf(keys[i], sizeof keys[i], "big:%08ld", base + i);
            argv[1 + 2 * i] = keys[i];
            lens[1 + 2 * i] = strlen(keys[i]);
            argv[2 + 2 * i] = "v";
            lens[2 + 2 * i] = 1;
        }
        conn_sendargv(C, 1 + 2 * m, argv, lens);
        sent += m;
        if (++inflight == 20) {
            for (; inflight > 0; inflight--) {
                char *r = conn_reply(C, 60000, NULL);
                bad += !r || strcmp(r, OK) != 0;
                zfree(r);
            }
        }
    }
    for (; inflight > 0; inflight--) {
        char *r = conn_reply(C, 60000, NULL);
        bad += !r || strcmp(r, OK) != 0;
        zfree(r);
    }
    tap_diag("flush: loaded %ld keys in %lld ms", sent, now_ms() - t0);
    tap_ok(bad == 0 && kc_int(C, "DBSIZE") == n, "flush: %ld keys loaded", n);
    kc_do(C, "SELECT 8");
    kc_do(C, "SET other db8");
    kc_do(C, "SELECT 7");
    long long t1 = now_ms();
    int flushed = kc_is(C, "FLUSHDB", OK);
    long long dt = now_ms() - t1;
    if (srv_is_redis())   /* Redis frees every key: O(N), no time limit for it */
        tap_ok(flushed, "flush: FLUSHDB of %ld keys (redis-server: %lld ms)", n, dt);
    else
        tap_ok(flushed && dt < 2000, "flush: FLUSHDB of %ld keys took %lld ms (< 2000)", n, dt);
    tap_ok(kc_int(C, "DBSIZE") == 0, "flush: DBSIZE 0");
    tap_ok(kc_is(C, "GET big:00000000", "$-1\r\n") && kc_is(C, "GET big:00999999", "$-1\r\n") &&
               kc_int(C, "EXISTS big:00500000") == 0,
           "flush: the keys are gone");
    tap_ok(kc_is(C, "SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n"), "flush: SCAN finds nothing");
    tap_ok(kc_is(C, "KEYS *", "*0\r\n") && kc_is(C, "RANDOMKEY", "$-1\r\n"),
           "flush: KEYS and RANDOMKEY find nothing");
    tap_ok(kc_is(C, "SET big:00000001 new", OK) && kc_is(C, "GET big:00000001", "$3\r\nnew\r\n") &&
               kc_int(C, "DBSIZE") == 1,
           "flush: the db works afterwards");
    kc_do(C, "SELECT 8");
    tap_ok(kc_is(C, "GET other", "$3\r\ndb8\r\n"), "flush: another db is untouched");
    kc_do(C, "SELECT 7");
    long long t2 = now_ms();
    flushed = kc_is(C, "FLUSHALL ASYNC", OK);
    tap_ok(flushed && now_ms() - t2 < 2000 && kc_int(C, "DBSIZE") == 0,
           "flush: FLUSHALL ASYNC");
    kc_do(C, "SELECT 0");
}

int main(void)
{
    harness_init(170);
    struct srv s;
    if (srv_start(&s, NULL) != 0)
        tap_bail("server did not start");
    C = conn_tcp(s.port);
    if (!C)
        tap_bail("no connection");
    long long t = now_ms();
    test_guarantee();
    test_match();
    test_type_count();
    test_restart(&s);
    test_cursor_ttl();
    test_concurrent();
    tap_diag("scan tests took %lld ms", now_ms() - t);
    test_flush_big();
    if (C)
        conn_close(C);
    srv_stop(&s);
    if (old_srv.tmp[0])
        srv_cleanup(&old_srv);
    return tap_done();
}
