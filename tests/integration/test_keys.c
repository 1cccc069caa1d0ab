/* test_keys.c: the generic key and database commands against a real
 * server, byte for byte as Redis 7.0 answers: DEL, UNLINK, EXISTS (repeats
 * counted), TYPE, RENAME, RENAMENX, COPY (DB, REPLACE), MOVE, the EXPIRE
 * family with NX XX GT LT (incompatible options, overflow, past times),
 * PERSIST, TTL, PTTL, EXPIRETIME, PEXPIRETIME, TOUCH, SCAN and KEYS argument
 * errors, RANDOMKEY, DBSIZE, FLUSHDB/FLUSHALL (SYNC, ASYNC), SWAPDB; SELECT
 * isolation between databases; binary keys (NUL, CRLF, empty).
 * The expected replies were recorded from redis-server 7.0.15: running this
 * test with LSMDB_SERVER=/usr/bin/redis-server passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "harness.h"
#include "keys_common.h"
#include "util/zmalloc.h"

static struct conn *C;

/* Recorded from redis-server 7.0.15 (one client, in this order). */
static const struct step key_steps[] = {
    { "FLUSHALL", "+OK\r\n" },
    { "SET a 1", "+OK\r\n" },
    { "SET b 2", "+OK\r\n" },
    { "DEL a a b c", ":2\r\n" },
    { "EXISTS a", ":0\r\n" },
    { "SET a 1", "+OK\r\n" },
    { "EXISTS a a a b", ":3\r\n" },
    { "TYPE a", "+string\r\n" },
    { "TYPE nokey", "+none\r\n" },
    { "RENAME nokey x", "-ERR no such key\r\n" },
    { "RENAME a a", "+OK\r\n" },
    { "RENAMENX a a", ":0\r\n" },
    { "RENAMENX nokey a", "-ERR no such key\r\n" },
    { "SET b 2", "+OK\r\n" },
    { "RENAMENX a b", ":0\r\n" },
    { "RENAME a b", "+OK\r\n" },
    { "GET b", "$1\r\n1\r\n" },
    { "EXISTS a", ":0\r\n" },
    { "RENAME b c", "+OK\r\n" },
    { "SET d 4", "+OK\r\n" },
    { "RENAMENX c d", ":0\r\n" },
    { "RENAMENX c e", ":1\r\n" },
    { "GET e", "$1\r\n1\r\n" },
    { "COPY e e", "-ERR source and destination objects are the same\r\n" },
    { "COPY e f", ":1\r\n" },
    { "COPY e f", ":0\r\n" },
    { "COPY e f REPLACE", ":1\r\n" },
    { "COPY e f DB 1", ":1\r\n" },
    { "COPY e f DB 16", "-ERR DB index is out of range\r\n" },
    { "COPY e f DB -1", "-ERR DB index is out of range\r\n" },
    { "COPY e f DB x", "-ERR value is not an integer or out of range\r\n" },
    { "COPY e f DB 99999999999", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n" },
    { "COPY e f DB", "-ERR syntax error\r\n" },
    { "COPY e f FOO", "-ERR syntax error\r\n" },
    { "COPY e e DB 0", "-ERR source and destination objects are the same\r\n" },
    { "COPY e e DB 1", ":1\r\n" },
    { "COPY nokey x", ":0\r\n" },
    { "MOVE e 0", "-ERR source and destination objects are the same\r\n" },
    { "MOVE e 1", ":0\r\n" },
    { "MOVE e 16", "-ERR DB index is out of range\r\n" },
    { "MOVE e x", "-ERR value is not an integer or out of range\r\n" },
    { "MOVE e 99999999999", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n" },
    { "MOVE nokey 1", ":0\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET e", "$1\r\n1\r\n" },
    { "EXISTS f", ":1\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "SET e v", "+OK\r\n" },
    { "MOVE e 1", ":0\r\n" },
    { "MOVE e 1", ":0\r\n" },
    { NULL, NULL },
};

static const struct step expire_steps[] = {
    { "EXPIRE e 100", ":1\r\n" },
    { "SET k v", "+OK\r\n" },
    { "EXPIRE k 100 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "EXPIRE k 100 NX GT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "EXPIRE k 100 NX LT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "EXPIRE k 100 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n" },
    { "EXPIRE k 100 FOO", "-ERR Unsupported option FOO\r\n" },
    { "EXPIRE k abc", "-ERR value is not an integer or out of range\r\n" },
    { "EXPIRE k 100 XX", ":0\r\n" },
    { "EXPIRE k 100 GT", ":0\r\n" },
    { "EXPIRE k 100 LT", ":1\r\n" },
    { "TTL k", ":100\r\n" },
    { "EXPIRE k 100 NX", ":0\r\n" },
    { "TTL k", ":100\r\n" },
    { "EXPIRE k 50 NX", ":0\r\n" },
    { "EXPIRE k 200 GT", ":1\r\n" },
    { "TTL k", ":200\r\n" },
    { "EXPIRE k 100 GT", ":0\r\n" },
    { "EXPIRE k 300 LT", ":0\r\n" },
    { "EXPIRE k 150 LT", ":1\r\n" },
    { "TTL k", ":150\r\n" },
    { "EXPIRE k 99999999999999999", "-ERR invalid expire time in 'expire' command\r\n" },
    { "EXPIRE k 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n" },
    { "EXPIRE k -9223372036854775808", "-ERR invalid expire time in 'expire' command\r\n" },
    { "PEXPIRE k 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n" },
    { "PEXPIREAT k 9223372036854775807", ":1\r\n" },
    { "EXPIREAT k 9223372036854775807", "-ERR invalid expire time in 'expireat' command\r\n" },
    { "EXPIREAT k 9223372036854775", ":1\r\n" },
    { "PEXPIRETIME k", ":9223372036854775000\r\n" },
    { "EXPIRETIME k", ":9223372036854775\r\n" },
    { "PERSIST k", ":1\r\n" },
    { "PERSIST k", ":0\r\n" },
    { "PERSIST nokey", ":0\r\n" },
    { "TTL k", ":-1\r\n" },
    { "PTTL k", ":-1\r\n" },
    { "TTL nokey", ":-2\r\n" },
    { "PTTL nokey", ":-2\r\n" },
    { "EXPIRETIME k", ":-1\r\n" },
    { "PEXPIRETIME k", ":-1\r\n" },
    { "EXPIRETIME nokey", ":-2\r\n" },
    { "PEXPIRETIME nokey", ":-2\r\n" },
    { "EXPIRE k -1", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "SET k v", "+OK\r\n" },
    { "PEXPIREAT k -1", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "SET k v", "+OK\r\n" },
    { "EXPIREAT k 1", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "SET k v", "+OK\r\n" },
    { "EXPIRE k 0", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "EXPIRE nokey 10", ":0\r\n" },
    { "SET k v", "+OK\r\n" },
    { "PEXPIRE k 0 GT", ":0\r\n" },
    { "EXPIRE k 10 LT", ":1\r\n" },
    { "TTL k", ":10\r\n" },
    { "TOUCH k k nokey", ":2\r\n" },
    { "TOUCH", "-ERR wrong number of arguments for 'touch' command\r\n" },
    { "DEL", "-ERR wrong number of arguments for 'del' command\r\n" },
    { "EXISTS", "-ERR wrong number of arguments for 'exists' command\r\n" },
    { NULL, NULL },
};

static const struct step db_steps[] = {
    { "FLUSHALL", "+OK\r\n" },
    { "SET a 1", "+OK\r\n" },
    { "DBSIZE", ":1\r\n" },
    { "DBSIZE x", "-ERR wrong number of arguments for 'dbsize' command\r\n" },
    { "FLUSHDB x", "-ERR syntax error\r\n" },
    { "FLUSHDB async", "+OK\r\n" },
    { "FLUSHDB sync", "+OK\r\n" },
    { "FLUSHDB SYNC ASYNC", "-ERR syntax error\r\n" },
    { "FLUSHALL ASYNC", "+OK\r\n" },
    { "FLUSHALL foo", "-ERR syntax error\r\n" },
    { "SWAPDB 0 1", "+OK\r\n" },
    { "SWAPDB x 1", "-ERR invalid first DB index\r\n" },
    { "SWAPDB 0 x", "-ERR invalid second DB index\r\n" },
    { "SWAPDB 0 16", "-ERR DB index is out of range\r\n" },
    { "SWAPDB -1 0", "-ERR DB index is out of range\r\n" },
    { "SWAPDB 0 0", "+OK\r\n" },
    { "SWAPDB 99999999999 0", "-ERR invalid first DB index\r\n" },
    { "SWAPDB 0 99999999999", "-ERR invalid second DB index\r\n" },
    { "SWAPDB 1", "-ERR wrong number of arguments for 'swapdb' command\r\n" },
    { "RANDOMKEY", "$-1\r\n" },
    { "RANDOMKEY x", "-ERR wrong number of arguments for 'randomkey' command\r\n" },
    { "SET a 1", "+OK\r\n" },
    { "RANDOMKEY", "$1\r\na\r\n" },
    { "KEYS", "-ERR wrong number of arguments for 'keys' command\r\n" },
    { "KEYS *", "*1\r\n$1\r\na\r\n" },
    { "KEYS a", "*1\r\n$1\r\na\r\n" },
    { "KEYS b", "*0\r\n" },
    { "KEYS a*", "*1\r\n$1\r\na\r\n" },
    { "SCAN", "-ERR wrong number of arguments for 'scan' command\r\n" },
    { "SCAN x", "-ERR invalid cursor\r\n" },
    { "SCAN \" 0\"", "-ERR invalid cursor\r\n" },
    { "SCAN 0x1", "-ERR invalid cursor\r\n" },
    { "SCAN 0 COUNT 0", "-ERR syntax error\r\n" },
    { "SCAN 0 COUNT -1", "-ERR syntax error\r\n" },
    { "SCAN 0 COUNT x", "-ERR value is not an integer or out of range\r\n" },
    { "SCAN 0 COUNT", "-ERR syntax error\r\n" },
    { "SCAN 0 MATCH", "-ERR syntax error\r\n" },
    { "SCAN 0 FOO bar", "-ERR syntax error\r\n" },
    { "SCAN 0 TYPE string", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n" },
    { "SCAN 0 TYPE STRING", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n" },
    { "SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n" },
    { "SCAN 0 TYPE nosuchtype", "*2\r\n$1\r\n0\r\n*0\r\n" },
    { "SCAN 0 MATCH a* COUNT 100 TYPE string", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n" },
    { "SCAN \"\"", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n" },
    { "SCAN 99999999999999999999999", "-ERR invalid cursor\r\n" },
    { "SCAN 0 count 1 count 2", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n" },
    { "SCAN 0 COUNT 9999999999999999999", "-ERR value is not an integer or out of range\r\n" },
    { NULL, NULL },
};

static const struct step select_steps[] = {
    { "FLUSHALL", "+OK\r\n" },
    { "SET k db0", "+OK\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET k", "$-1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "SET k db1", "+OK\r\n" },
    { "DBSIZE", ":1\r\n" },
    { "SELECT 2", "+OK\r\n" },
    { "SET k db2", "+OK\r\n" },
    { "SET only2 x", "+OK\r\n" },
    { "DBSIZE", ":2\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "GET k", "$3\r\ndb0\r\n" },
    { "DBSIZE", ":1\r\n" },
    { "KEYS only*", "*0\r\n" },
    { "SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n" },
    { "SWAPDB 0 2", "+OK\r\n" },
    { "GET k", "$3\r\ndb2\r\n" },
    { "DBSIZE", ":2\r\n" },
    { "KEYS only*", "*1\r\n$5\r\nonly2\r\n" },
    { "SELECT 2", "+OK\r\n" },
    { "GET k", "$3\r\ndb0\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "MOVE only2 1", ":1\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET only2", "$1\r\nx\r\n" },
    { "KEYS only*", "*1\r\n$5\r\nonly2\r\n" },
    { "COPY only2 only2 DB 3", ":1\r\n" },
    { "SELECT 3", "+OK\r\n" },
    { "GET only2", "$1\r\nx\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "FLUSHDB", "+OK\r\n" },
    { "DBSIZE", ":0\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "DBSIZE", ":1\r\n" },
    { "GET k", "$3\r\ndb2\r\n" },
    { "RENAME k k2", "+OK\r\n" },
    { "SELECT 2", "+OK\r\n" },
    { "GET k2", "$-1\r\n" },
    { "SELECT 3", "+OK\r\n" },
    { "FLUSHALL", "+OK\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "DBSIZE", ":0\r\n" },
    { "SELECT 2", "+OK\r\n" },
    { "DBSIZE", ":0\r\n" },
    { "SELECT 3", "+OK\r\n" },
    { "DBSIZE", ":0\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { NULL, NULL },
};

/* TTLs carried by RENAME/COPY/MOVE, expired keys in the target db, WATCH
 * and MULTI corner cases, EXPIRE option combinations. */
static const struct step more_steps[] = {
    { "FLUSHALL", "+OK\r\n" },
    { "SET a 1", "+OK\r\n" },
    { "SET b 2 EX 100", "+OK\r\n" },
    { "RENAME a b", "+OK\r\n" },
    { "TTL b", ":-1\r\n" },
    { "SET a 1 EX 50", "+OK\r\n" },
    { "RENAME a b", "+OK\r\n" },
    { "TTL b", ":50\r\n" },
    { "SET c 3", "+OK\r\n" },
    { "COPY b c REPLACE", ":1\r\n" },
    { "TTL c", ":50\r\n" },
    { "COPY c d", ":1\r\n" },
    { "TTL d", ":50\r\n" },
    { "SET e 1 PX 50", "+OK\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "SET e old PX 50", "+OK\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "SLEEP 0.2", NULL },
    { "MOVE e 1", ":0\r\n" },
    { "SET e 1", "+OK\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "SET e old PX 50", "+OK\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "SLEEP 0.2", NULL },
    { "MOVE e 1", ":1\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET e", "$1\r\n1\r\n" },
    { "TYPE e", "+string\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "SET k v", "+OK\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "NOSUCH", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n" },
    { "MULTI", "+OK\r\n" },
    { "NOSUCH", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n" },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "DISCARD", "+OK\r\n" },
    { "SET k 2", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "GET k", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n$1\r\n2\r\n" },
    { "WATCH k", "+OK\r\n" },
    { "EXEC", "-ERR EXEC without MULTI\r\n" },
    { "SET k 3", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "EXEC", "*-1\r\n" },
    { "KEYS \"\"", "*0\r\n" },
    { "SET \"\" empty", "+OK\r\n" },
    { "KEYS \"\"", "*1\r\n$0\r\n\r\n" },
    { "SCAN 0 MATCH \"\"", "*2\r\n$1\r\n0\r\n*1\r\n$0\r\n\r\n" },
    { "SELECT 9", "+OK\r\n" },
    { "SET \"\" only", "+OK\r\n" },
    { "KEYS *", "*1\r\n$0\r\n\r\n" },
    { "KEYS **", "*0\r\n" },
    { "SCAN 0 MATCH *", "*2\r\n$1\r\n0\r\n*1\r\n$0\r\n\r\n" },
    { "SCAN 0 MATCH **", "*2\r\n$1\r\n0\r\n*0\r\n" },
    { "SCAN 0 MATCH *?", "*2\r\n$1\r\n0\r\n*0\r\n" },
    { "DEL \"\"", ":1\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "DEL \"\"", ":1\r\n" },
    { "EXPIREAT k 0", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "SET k v", "+OK\r\n" },
    { "PEXPIRE k -5", ":1\r\n" },
    { "EXISTS k", ":0\r\n" },
    { "MULTI", "+OK\r\n" },
    { "SELECT 1", "+QUEUED\r\n" },
    { "SET inmulti 1", "+QUEUED\r\n" },
    { "EXEC", "*2\r\n+OK\r\n+OK\r\n" },
    { "GET inmulti", "$1\r\n1\r\n" },
    { "SELECT 1", "+OK\r\n" },
    { "GET inmulti", "$1\r\n1\r\n" },
    { "DEL inmulti", ":1\r\n" },
    { "SELECT 0", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "GET", "-ERR wrong number of arguments for 'get' command\r\n" },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { "MULTI", "+OK\r\n" },
    { "FLUSHALL", "+QUEUED\r\n" },
    { "EXEC", "*1\r\n+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "WATCH", "-ERR wrong number of arguments for 'watch' command\r\n" },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { "SET x 1", "+OK\r\n" },
    { "MULTI", "+OK\r\n" },
    { "RENAME x y", "+QUEUED\r\n" },
    { "RENAME x y", "+QUEUED\r\n" },
    { "EXEC", "*2\r\n+OK\r\n-ERR no such key\r\n" },
    { "MULTI", "+OK\r\n" },
    { "DISCARD", "+OK\r\n" },
    { "DISCARD", "-ERR DISCARD without MULTI\r\n" },
    { "SET t 1 EX 100", "+OK\r\n" },
    { "EXPIRE t 99 GT", ":0\r\n" },
    { "EXPIRE t 101 GT", ":1\r\n" },
    { "EXPIRE t 50 LT", ":1\r\n" },
    { "EXPIRE t 60 XX LT", ":0\r\n" },
    { "EXPIRE t 10 XX GT", ":0\r\n" },
    { "TTL t", ":50\r\n" },
    { "EXPIRE t 100 xx gt", ":1\r\n" },
    { "TTL t", ":100\r\n" },
    { "EXPIRE t 5 lt nx", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "EXPIRE t", "-ERR wrong number of arguments for 'expire' command\r\n" },
    { "EXPIRE", "-ERR wrong number of arguments for 'expire' command\r\n" },
    { "PERSIST t t", "-ERR wrong number of arguments for 'persist' command\r\n" },
    { "TOUCH t t t nokey", ":3\r\n" },
    { "EXISTS t t nokey t", ":3\r\n" },
    { "EXPIRE t 10 GT GT", ":0\r\n" },
    { "EXPIRE t 10 GT XX NX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { "EXPIRE t 10 LT GT NX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n" },
    { NULL, NULL },
};

static int rv_is_bulk(const struct rv *v, const char *p, size_t n)
{
    return v && v->type == '$' && v->len == n && memcmp(v->str, p, n) == 0;
}

static int rv_has_bulk(const struct rv *arr, const char *p, size_t n)
{
    for (size_t i = 0; arr && i < arr->n; i++)
        if (rv_is_bulk(arr->elem[i], p, n))
            return 1;
    return 0;
}

/* Calls argv (lengths given) and checks the reply is the integer want. */
static void expect_int(const char *name, int argc, const char **argv, const size_t *lens,
                       long long want)
{
    struct rv *v = kc_callv(C, argc, argv, lens);
    tap_ok(v && v->type == ':' && v->integer == want, "binary: %s -> %lld", name, want);
    rv_free(v);
}

/* Keys with NUL, CR/LF and the empty key go through every command intact. */
static void test_binary(void)
{
    static const char k1[] = "bin\0key";
    static const char k2[] = "crlf\r\nkey";
    const size_t l1 = sizeof(k1) - 1, l2 = sizeof(k2) - 1;
    tap_ok(kc_is(C, "FLUSHDB", "+OK\r\n"), "binary: FLUSHDB");
    {
        const char *a[] = { "SET", k1, "v1" };
        size_t l[] = { 3, l1, 2 };
        struct rv *v = kc_callv(C, 3, a, l);
        tap_ok(v && v->type == '+', "binary: SET a key with a NUL");
        rv_free(v);
    }
    {
        const char *a[] = { "SET", k2, "v2" };
        size_t l[] = { 3, l2, 2 };
        struct rv *v = kc_callv(C, 3, a, l);
        tap_ok(v && v->type == '+', "binary: SET a key with CRLF");
        rv_free(v);
    }
    {
        const char *a[] = { "SET", "", "empty" };
        size_t l[] = { 3, 0, 5 };
        struct rv *v = kc_callv(C, 3, a, l);
        tap_ok(v && v->type == '+', "binary: SET the empty key");
        rv_free(v);
    }
    {
        const char *a[] = { "EXISTS", k1, k2, "", "bin" };
        size_t l[] = { 6, l1, l2, 0, 3 };
        expect_int("EXISTS nul crlf empty bin(prefix)", 5, a, l, 3);
    }
    {
        struct rv *v = kc_rv(C, "KEYS *");
        tap_ok(v && v->n == 3 && rv_has_bulk(v, k1, l1) && rv_has_bulk(v, k2, l2) &&
                   rv_has_bulk(v, "", 0),
               "binary: KEYS * returns the three keys byte for byte");
        rv_free(v);
    }
    {
        struct rv *v = kc_rv(C, "SCAN 0 COUNT 100");
        const struct rv *keys = v && v->n == 2 ? v->elem[1] : NULL;
        tap_ok(keys && keys->n == 3 && rv_has_bulk(keys, k1, l1) && rv_has_bulk(keys, k2, l2) &&
                   rv_has_bulk(keys, "", 0) && rv_is_bulk(v->elem[0], "0", 1),
               "binary: SCAN returns the three keys and cursor 0");
        rv_free(v);
    }
    {
        struct rv *v = kc_rv(C, "KEYS bin*");
        tap_ok(v && v->n == 1 && rv_has_bulk(v, k1, l1), "binary: KEYS bin* (prefix seek)");
        rv_free(v);
    }
    {
        const char *a[] = { "RENAME", k1, "bin\0new" };
        size_t l[] = { 6, l1, 7 };
        struct rv *v = kc_callv(C, 3, a, l);
        tap_ok(v && v->type == '+', "binary: RENAME to another NUL key");
        rv_free(v);
        const char *g[] = { "GET", "bin\0new" };
        size_t gl[] = { 3, 7 };
        v = kc_callv(C, 2, g, gl);
        tap_ok(rv_is_bulk(v, "v1", 2), "binary: the renamed key holds the value");
        rv_free(v);
        const char *e[] = { "EXISTS", k1 };
        size_t el[] = { 6, l1 };
        expect_int("EXISTS old name", 2, e, el, 0);
    }
    {
        const char *a[] = { "COPY", k2, "", "REPLACE" };
        size_t l[] = { 4, l2, 0, 7 };
        expect_int("COPY crlf -> empty REPLACE", 4, a, l, 1);
        const char *g[] = { "GET", "" };
        size_t gl[] = { 3, 0 };
        struct rv *v = kc_callv(C, 2, g, gl);
        tap_ok(rv_is_bulk(v, "v2", 2), "binary: the empty key holds the copy");
        rv_free(v);
    }
    {
        const char *a[] = { "PEXPIRE", k2, "100000" };
        size_t l[] = { 7, l2, 6 };
        expect_int("PEXPIRE crlf", 3, a, l, 1);
        const char *t[] = { "TTL", k2 };
        size_t tl[] = { 3, l2 };
        expect_int("TTL crlf", 2, t, tl, 100);
        const char *m[] = { "MOVE", k2, "1" };
        size_t ml[] = { 4, l2, 1 };
        expect_int("MOVE crlf 1", 3, m, ml, 1);
        tap_ok(kc_is(C, "SELECT 1", "+OK\r\n"), "binary: SELECT 1");
        expect_int("TTL crlf in db 1 (the TTL moved along)", 2, t, tl, 100);
        const char *d[] = { "DEL", k2, "" };
        size_t dl[] = { 3, l2, 0 };
        expect_int("DEL crlf empty in db 1", 3, d, dl, 1);
        tap_ok(kc_is(C, "SELECT 0", "+OK\r\n"), "binary: SELECT 0");
    }
    {
        const char *t[] = { "TYPE", "" };
        size_t tl[] = { 4, 0 };
        struct rv *v = kc_callv(C, 2, t, tl);
        tap_ok(v && v->type == '+' && strcmp(v->str, "string") == 0,
               "binary: TYPE of the empty key");
        rv_free(v);
    }
}

/* Argument shapes a command line can't express. */
static void test_odd_args(void)
{
    const char *a[] = { "SCAN", " 0" };
    size_t l[] = { 4, 2 };
    struct rv *v = kc_callv(C, 2, a, l);
    tap_ok(v && v->type == '-' && strcmp(v->str, "ERR invalid cursor") == 0,
           "SCAN ' 0': a leading space is an invalid cursor");
    rv_free(v);
    const char *b[] = { "SCAN", "" };
    size_t bl[] = { 4, 0 };
    v = kc_callv(C, 2, b, bl);
    tap_ok(v && v->type == '*' && v->n == 2 && rv_is_bulk(v->elem[0], "0", 1),
           "SCAN '': the empty cursor is cursor 0");
    rv_free(v);
    const char *e[] = { "EXPIRE", "k", "10", "nx\0junk" };
    size_t el[] = { 6, 1, 2, 7 };
    kc_do(C, "SET k v");
    v = kc_callv(C, 4, e, el);
    tap_ok(v && v->type == ':' && v->integer == 1,
           "EXPIRE k 10 'nx\\0junk': options compare as C strings (NX)");
    rv_free(v);
    kc_do(C, "DEL k");
}

/* DEL and EXISTS with many arguments; UNLINK counts like DEL. */
static void test_many(void)
{
    enum { N = 1000 };
    static const char *argv[N + 1];
    static size_t lens[N + 1];
    static char names[N][16];
    kc_do(C, "FLUSHDB");
    for (int i = 0; i < N; i += 2) {
        char line[64];
        snprintf(line, sizeof line, "SET many:%d x", i);
        zfree(kc_call(C, line));
    }
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "many:%d", i);
        argv[i + 1] = names[i];
        lens[i + 1] = strlen(names[i]);
    }
    argv[0] = "EXISTS";
    lens[0] = 6;
    struct rv *v = kc_callv(C, N + 1, argv, lens);
    tap_ok(v && v->type == ':' && v->integer == N / 2, "EXISTS of 1000 keys, 500 present");
    rv_free(v);
    argv[0] = "UNLINK";
    v = kc_callv(C, N / 2 + 1, argv, lens);
    tap_ok(v && v->type == ':' && v->integer == N / 4, "UNLINK of 500 keys, 250 present");
    rv_free(v);
    argv[0] = "DEL";
    lens[0] = 3;
    v = kc_callv(C, N + 1, argv, lens);
    tap_ok(v && v->type == ':' && v->integer == N / 4, "DEL of 1000 keys, 250 left");
    rv_free(v);
    tap_ok(kc_int(C, "DBSIZE") == 0, "DBSIZE 0 after the deletes");
}

/* RANDOMKEY picks among the keys (not always the same one), never a
 * missing key, and returns a null when the db is empty. */
static void test_randomkey(void)
{
    enum { NKEYS = 200, CALLS = 300 };
    kc_do(C, "FLUSHDB");
    tap_ok(kc_is(C, "RANDOMKEY", "$-1\r\n"), "RANDOMKEY on an empty db is a null bulk");
    for (int i = 0; i < NKEYS; i++) {
        char line[64];
        snprintf(line, sizeof line, "SET rk:%03d x", i);
        zfree(kc_call(C, line));
    }
    static int seen[NKEYS];
    memset(seen, 0, sizeof seen);
    int distinct = 0, bad = 0;
    for (int i = 0; i < CALLS; i++) {
        struct rv *v = kc_rv(C, "RANDOMKEY");
        int idx = -1;
        if (v && v->type == '$' && v->len == 6 && memcmp(v->str, "rk:", 3) == 0)
            idx = atoi(v->str + 3);
        if (idx < 0 || idx >= NKEYS)
            bad++;
        else if (!seen[idx]++)
            distinct++;
        rv_free(v);
    }
    tap_ok(bad == 0, "RANDOMKEY always returns an existing key (%d bad)", bad);
    tap_ok(distinct >= 40, "RANDOMKEY spreads over the keys (%d distinct of %d in %d calls)",
           distinct, NKEYS, CALLS);
    kc_do(C, "FLUSHDB");
}


/* payload for the string "a" x 21 as redis-server 7.0.15's DUMP gives it
 * (LZF-compressed), and for the integer 128 (16-bit encoding). */
static const char lzf_a21[] = "\x00\xc3\x06\x15\x01\x61\x61\xe0\x0a\x00\x0a\x00\xfd\x0c\xb3"
                              "\x68\x07\x41\x3f\x68";
static const char int_128[] = "\x00\xc1\x80\x00\x0a\x00\xeb\x7a\xb3\xb5\x10\xcf\x4b\x65";

/* RESTORE key ttl payload [options...]; the parsed reply. */
static struct rv *restore(const char *key, const char *ttl, const char *p, size_t n,
                          const char *opt1, const char *opt2)
{
    const char *a[] = { "RESTORE", key, ttl, p, opt1, opt2 };
    size_t l[] = { 7, strlen(key), strlen(ttl), n, opt1 ? strlen(opt1) : 0,
                   opt2 ? strlen(opt2) : 0 };
    return kc_callv(C, 3 + 1 + !!opt1 + !!opt2, a, l);
}

static int rv_is(struct rv *v, int type, const char *text)
{
    int ok = v && v->type == type && (!text || (v->len == strlen(text) &&
                                                memcmp(v->str, text, v->len) == 0));
    rv_free(v);
    return ok;
}

/* DUMP and RESTORE of strings: every size and kind goes round intact (also
 * a separated value), Redis' payloads load, and Redis' errors. */
static void test_dump_restore(void)
{
    static const size_t sizes[] = { 0, 1, 11, 20, 21, 63, 64, 16383, 16384, 5000 };
    tap_ok(kc_is(C, "FLUSHDB", "+OK\r\n"), "dump: FLUSHDB");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        char *v = zmalloc(n + 1);
        for (size_t j = 0; j < n; j++)
            v[j] = (char)(j % 7 == 0 ? '\0' : 'a' + (j * 31 + n) % 26);
        const char *set[] = { "SET", "d:src", v };
        size_t setl[] = { 3, 5, n };
        rv_free(kc_callv(C, 3, set, setl));
        const char *dump[] = { "DUMP", "d:src" };
        size_t dumpl[] = { 4, 5 };
        struct rv *p = kc_callv(C, 2, dump, dumpl);
        int ok = p && p->type == '$';
        if (ok) {
            ok = rv_is(restore("d:dst", "0", p->str, p->len, "REPLACE", NULL), '+', "OK");
            const char *get[] = { "GET", "d:dst" };
            size_t getl[] = { 3, 5 };
            struct rv *g = kc_callv(C, 2, get, getl);
            ok = ok && rv_is_bulk(g, v, n);
            rv_free(g);
        }
        rv_free(p);
        tap_ok(ok, "dump: a %zu-byte string goes through DUMP and RESTORE", n);
        zfree(v);
    }
    tap_ok(kc_is(C, "SET d:int 128", "+OK\r\n") && kc_is(C, "DUMP d:nokey", "$-1\r\n"),
           "dump: of a missing key is null");
    {
        struct rv *p = kc_rv(C, "DUMP d:int");
        tap_ok(rv_is_bulk(p, int_128, sizeof int_128 - 1), "dump: 128 as Redis encodes it");
        rv_free(p);
    }
    tap_ok(rv_is(restore("d:a21", "0", lzf_a21, sizeof lzf_a21 - 1, NULL, NULL), '+', "OK") &&
           kc_is(C, "GET d:a21", "$21\r\naaaaaaaaaaaaaaaaaaaaa\r\n"),
           "dump: RESTORE of Redis' LZF-compressed payload");
    tap_ok(rv_is(restore("d:a21", "0", lzf_a21, sizeof lzf_a21 - 1, NULL, NULL), '-',
                 "BUSYKEY Target key name already exists."),
           "dump: RESTORE over an existing key without REPLACE");
    tap_ok(rv_is(restore("d:t", "100000", int_128, sizeof int_128 - 1, NULL, NULL), '+', "OK"),
           "dump: RESTORE with a TTL");
    long long pttl = kc_int(C, "PTTL d:t");
    tap_ok(pttl > 90000 && pttl <= 100000, "dump: the TTL is set (%lld ms)", pttl);
    tap_ok(rv_is(restore("d:t", "1", int_128, sizeof int_128 - 1, "ABSTTL", "REPLACE"), '+',
                 "OK") && kc_is(C, "EXISTS d:t", ":0\r\n"),
           "dump: RESTORE REPLACE ABSTTL in the past deletes the key");
    tap_ok(rv_is(restore("d:x", "-1", int_128, sizeof int_128 - 1, NULL, NULL), '-',
                 "ERR Invalid TTL value, must be >= 0"), "dump: a negative TTL");
    tap_ok(rv_is(restore("d:x", "0", int_128, sizeof int_128 - 2, NULL, NULL), '-',
                 "ERR DUMP payload version or checksum are wrong"), "dump: a bad checksum");
    tap_ok(rv_is(restore("d:x", "0", "\x0e\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12,
                         NULL, NULL), '-', "ERR DUMP payload version or checksum are wrong"),
           "dump: a zero checksum");
    tap_ok(rv_is(restore("d:x", "0", int_128, sizeof int_128 - 1, "FREQ", "256"), '-',
                 "ERR Invalid FREQ value, must be >= 0 and <= 255"), "dump: FREQ out of range");
    tap_ok(rv_is(restore("d:x", "0", int_128, sizeof int_128 - 1, "IDLETIME", "-1"), '-',
                 "ERR Invalid IDLETIME value, must be >= 0"), "dump: IDLETIME below 0");
    tap_ok(rv_is(restore("d:x", "0", int_128, sizeof int_128 - 1, "foo", NULL), '-',
                 "ERR syntax error"), "dump: an unknown option");
    {
        const char *a[] = { "RESTORE", "d:x", "0", int_128, "IDLETIME", "5", "FREQ", "3" };
        size_t l[] = { 7, 3, 1, sizeof int_128 - 1, 8, 1, 4, 1 };
        tap_ok(rv_is(kc_callv(C, 8, a, l), '-', "ERR syntax error"),
               "dump: IDLETIME and FREQ together");
    }
    /* Redis adds the clock to a relative TTL; past LLONG_MAX it wraps to a
     * time long gone: OK, and no key. */
    tap_ok(rv_is(restore("d:w", "9223372036854775807", int_128, sizeof int_128 - 1, NULL, NULL),
                 '+', "OK") && kc_is(C, "EXISTS d:w", ":0\r\n"),
           "dump: a relative TTL that overflows creates nothing");
    tap_ok(kc_is(C, "EXISTS d:x", ":0\r\n"), "dump: failed RESTOREs created nothing");
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
    kc_steps(C, "keys", key_steps);
    kc_steps(C, "expire", expire_steps);
    kc_steps(C, "db", db_steps);
    kc_steps(C, "select", select_steps);
    kc_steps(C, "more", more_steps);
    test_binary();
    test_odd_args();
    test_many();
    test_randomkey();
    test_dump_restore();
    conn_close(C);
    srv_stop(&s);
    return tap_done();
}
