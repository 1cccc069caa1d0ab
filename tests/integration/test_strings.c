/* test_strings.c: the string commands against a real server, byte for byte
 * as Redis 7.0 answers: every option and error path of SET (EX PX EXAT PXAT
 * NX XX KEEPTTL GET), SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET,
 * MSET, MSETNX, INCR/DECR/INCRBY/DECRBY (integer parsing, overflow),
 * INCRBYFLOAT (float parsing and formatting), APPEND, STRLEN, GETRANGE,
 * SETRANGE (offset and size limits), SUBSTR; binary-safe keys and values;
 * values around the value-separation threshold and a 100 MB value; short
 * TTLs; keys and TTLs surviving a restart on the same directory.
 * The expected bytes were taken from redis-server 7.0: running this test
 * with LSMDB_SERVER=/usr/bin/redis-server passes (the restart part is
 * skipped there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static struct conn *C;

/* One step: a command line (words split on spaces, "" = an empty argument)
 * and the exact reply expected. */
struct step {
    const char *cmd;
    const char *expect;
};

static char *call_line(struct conn *c, const char *line)
{
    return conn_call_line(c, line, 0, NULL);
}

static void run_steps(const char *section, const struct step *steps)
{
    for (const struct step *s = steps; s->cmd; s++)
        tap_ok(reply_is(call_line(C, s->cmd), s->expect), "%s: %s", section, s->cmd);
}

/* 1 when raw is the bulk reply of exactly (p, n). */
static int is_bulk(const char *raw, size_t rlen, const char *p, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "$%zu\r\n", n);
    return raw && rlen == (size_t)h + n + 2 && memcmp(raw, head, (size_t)h) == 0 &&
           memcmp(raw + h, p, n) == 0 && memcmp(raw + h + n, "\r\n", 2) == 0;
}

#define INVALID_SET "-ERR invalid expire time in 'set' command\r\n"
#define NOT_INT "-ERR value is not an integer or out of range\r\n"
#define NOT_FLOAT "-ERR value is not a valid float\r\n"
#define SYNTAX "-ERR syntax error\r\n"
#define TOO_BIG "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
#define NIL "$-1\r\n"
#define OK "+OK\r\n"

static const struct step set_steps[] = {
    { "SET s:k v", OK },
    { "GET s:k", "$1\r\nv\r\n" },
    { "SET s:k v2 XX", OK },
    { "SET s:k v3 NX", NIL },
    { "SET s:new v XX", NIL },
    { "GET s:new", NIL },
    { "SET s:k v NX XX", SYNTAX },
    { "SET s:k v XX NX", SYNTAX },
    { "SET s:k v nx nx", NIL },
    { "SET s:k v xx xx", OK },
    { "SET s:g v1 NX GET", NIL },
    { "SET s:g v2 NX GET", "$2\r\nv1\r\n" },
    { "GET s:g", "$2\r\nv1\r\n" },
    { "SET s:g v3 XX GET", "$2\r\nv1\r\n" },
    { "SET s:g v4 GET GET", "$2\r\nv3\r\n" },
    { "SET s:g2 v GET XX", NIL },
    { "EXISTS s:g2", ":0\r\n" },
    { "SET s:k v EX 0", INVALID_SET },
    { "SET s:k v EX -1", INVALID_SET },
    { "SET s:k v PX 0", INVALID_SET },
    { "SET s:k v PX -100", INVALID_SET },
    { "SET s:k v EXAT 0", INVALID_SET },
    { "SET s:k v PXAT -1", INVALID_SET },
    { "SET s:k v PXAT 0", INVALID_SET },
    { "SET s:k v EX 9223372036854775807", INVALID_SET },
    { "SET s:k v EX 9223372036854775", INVALID_SET },
    { "SET s:k v EX 9223372036854774", INVALID_SET },
    { "SET s:k v PX 9223372036854775807", INVALID_SET },
    { "SET s:k v PX 9223372036854775000", INVALID_SET },
    { "SET s:k v EXAT 9223372036854776", INVALID_SET },
    { "SET s:k v EX abc", NOT_INT },
    { "SET s:k v EX 1.5", NOT_INT },
    { "SET s:k v EX +10", NOT_INT },
    { "SET s:k v EX 010", NOT_INT },
    { "SET s:k v EX -0", NOT_INT },
    { "SET s:k v EX 9223372036854775808", NOT_INT },
    { "SET s:k v EX", SYNTAX },
    { "SET s:k v PX", SYNTAX },
    { "SET s:k v EX 10 PX 20", SYNTAX },
    { "SET s:k v EX 10 EXAT 20", SYNTAX },
    { "SET s:k v PXAT 10 PX 20", SYNTAX },
    { "SET s:k v EX 10 KEEPTTL", SYNTAX },
    { "SET s:k v KEEPTTL EX 10", SYNTAX },
    { "SET s:k v KEEPTTL PXAT 10", SYNTAX },
    { "SET s:k v PERSIST", SYNTAX },
    { "SET s:k v foo", SYNTAX },
    { "SET s:k v EX 10 foo", SYNTAX },
    { "SET s:k", "-ERR wrong number of arguments for 'set' command\r\n" },
    /* the syntax is checked before the expire value, the value before GET */
    { "SET s:k v EX abc NX XX", SYNTAX },
    { "SET s:g v5 EX 0 GET", INVALID_SET },
    { "GET s:g", "$2\r\nv4\r\n" },
    /* TTLs: EX then TTL; repeated EX, last wins; KEEPTTL keeps; plain SET clears */
    { "SET s:t v EX 100", OK },
    { "TTL s:t", ":100\r\n" },
    { "SET s:t v EX 10 EX 200", OK },
    { "TTL s:t", ":200\r\n" },
    { "SET s:t v2 KEEPTTL", OK },
    { "TTL s:t", ":200\r\n" },
    { "SET s:t v3 keepttl keepttl", OK },
    { "TTL s:t", ":200\r\n" },
    { "SET s:t v4", OK },
    { "TTL s:t", ":-1\r\n" },
    { "SET s:t v PX 100000", OK },
    { "TTL s:t", ":100\r\n" },
    { "SET s:t v EXAT 9223372036854775", OK },
    { "GET s:t", "$1\r\nv\r\n" },
    { "SET s:t v PXAT 9223372036854775807", OK },
    { "GET s:t", "$1\r\nv\r\n" },
    /* an absolute time in the past: OK, and the key is gone */
    { "SET s:t v EXAT 1", OK },
    { "EXISTS s:t", ":0\r\n" },
    { "SET s:t v", OK },
    { "SET s:t w PXAT 1 GET", "$1\r\nv\r\n" },
    { "EXISTS s:t", ":0\r\n" },
    /* options are case-insensitive */
    { "set s:c v ex 100 nX", OK },
    { "sEt s:c v Px 100 Xx gEt", "$1\r\nv\r\n" },
    /* SETNX SETEX PSETEX */
    { "SETNX s:nx a", ":1\r\n" },
    { "SETNX s:nx b", ":0\r\n" },
    { "GET s:nx", "$1\r\na\r\n" },
    { "SETNX s:nx", "-ERR wrong number of arguments for 'setnx' command\r\n" },
    { "SETEX s:ex 100 v", OK },
    { "TTL s:ex", ":100\r\n" },
    { "SETEX s:ex 0 v", "-ERR invalid expire time in 'setex' command\r\n" },
    { "SETEX s:ex -5 v", "-ERR invalid expire time in 'setex' command\r\n" },
    { "SETEX s:ex 9223372036854775 v", "-ERR invalid expire time in 'setex' command\r\n" },
    { "SETEX s:ex abc v", NOT_INT },
    { "SETEX s:ex 10", "-ERR wrong number of arguments for 'setex' command\r\n" },
    { "PSETEX s:ex 100000 w", OK },
    { "TTL s:ex", ":100\r\n" },
    { "GET s:ex", "$1\r\nw\r\n" },
    { "PSETEX s:ex 0 v", "-ERR invalid expire time in 'psetex' command\r\n" },
    { "PSETEX s:ex -5 v", "-ERR invalid expire time in 'psetex' command\r\n" },
    { "PSETEX s:ex 9223372036854775807 v", "-ERR invalid expire time in 'psetex' command\r\n" },
    { "PSETEX s:ex x v", NOT_INT },
    { NULL, NULL },
};

static const struct step get_steps[] = {
    { "GET g:none", NIL },
    { "GET", "-ERR wrong number of arguments for 'get' command\r\n" },
    { "GET a b", "-ERR wrong number of arguments for 'get' command\r\n" },
    { "SET g:k v", OK },
    { "GETSET g:k w", "$1\r\nv\r\n" },
    { "GETSET g:new w", NIL },
    { "GET g:new", "$1\r\nw\r\n" },
    { "GETSET g:k", "-ERR wrong number of arguments for 'getset' command\r\n" },
    { "SET g:k v EX 100", OK },
    { "GETSET g:k v", "$1\r\nv\r\n" },
    { "TTL g:k", ":-1\r\n" },
    { "GETDEL g:k", "$1\r\nv\r\n" },
    { "GETDEL g:k", NIL },
    { "EXISTS g:k", ":0\r\n" },
    { "GETDEL", "-ERR wrong number of arguments for 'getdel' command\r\n" },
    /* GETEX */
    { "GETEX g:none", NIL },
    { "GETEX g:none EX abc", NIL },
    { "GETEX g:none EX 0", NIL },
    { "GETEX g:none PERSIST", NIL },
    { "GETEX g:none foo", SYNTAX },
    { "GETEX", "-ERR wrong number of arguments for 'getex' command\r\n" },
    { "SET g:e v", OK },
    { "GETEX g:e", "$1\r\nv\r\n" },
    { "TTL g:e", ":-1\r\n" },
    { "GETEX g:e EX 100", "$1\r\nv\r\n" },
    { "TTL g:e", ":100\r\n" },
    { "GETEX g:e PX 200000", "$1\r\nv\r\n" },
    { "TTL g:e", ":200\r\n" },
    { "GETEX g:e EX 10 EX 300", "$1\r\nv\r\n" },
    { "TTL g:e", ":300\r\n" },
    { "GETEX g:e PERSIST", "$1\r\nv\r\n" },
    { "TTL g:e", ":-1\r\n" },
    { "GETEX g:e PERSIST PERSIST", "$1\r\nv\r\n" },
    { "GETEX g:e EXAT 9223372036854775", "$1\r\nv\r\n" },
    { "GETEX g:e PXAT 9223372036854775807", "$1\r\nv\r\n" },
    { "GETEX g:e persist", "$1\r\nv\r\n" },
    { "GETEX g:e NX", SYNTAX },
    { "GETEX g:e XX", SYNTAX },
    { "GETEX g:e GET", SYNTAX },
    { "GETEX g:e KEEPTTL", SYNTAX },
    { "GETEX g:e EX", SYNTAX },
    { "GETEX g:e EX 10 PERSIST", SYNTAX },
    { "GETEX g:e PERSIST EX 10", SYNTAX },
    { "GETEX g:e PX 5000 EXAT 100", SYNTAX },
    { "GETEX g:e EX abc", NOT_INT },
    { "GETEX g:e EX 0", "-ERR invalid expire time in 'getex' command\r\n" },
    { "GETEX g:e PX -1", "-ERR invalid expire time in 'getex' command\r\n" },
    { "GETEX g:e PXAT 0", "-ERR invalid expire time in 'getex' command\r\n" },
    { "GETEX g:e EXAT 9223372036854776", "-ERR invalid expire time in 'getex' command\r\n" },
    { "GETEX g:e EX 9223372036854775", "-ERR invalid expire time in 'getex' command\r\n" },
    { "TTL g:e", ":-1\r\n" },
    /* a past absolute time returns the value and deletes the key */
    { "GETEX g:e EXAT 1", "$1\r\nv\r\n" },
    { "EXISTS g:e", ":0\r\n" },
    { "SET g:e v", OK },
    { "GETEX g:e PXAT 1", "$1\r\nv\r\n" },
    { "GET g:e", NIL },
    /* MGET MSET MSETNX */
    { "MSET m:a 1 m:b 2", OK },
    { "MGET m:a m:b m:c m:a", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n1\r\n" },
    { "MGET m:none", "*1\r\n$-1\r\n" },
    { "MGET", "-ERR wrong number of arguments for 'mget' command\r\n" },
    { "MSET m:a 1 m:b", "-ERR wrong number of arguments for 'mset' command\r\n" },
    { "MSET m:a", "-ERR wrong number of arguments for 'mset' command\r\n" },
    { "MSET m:d 1 m:d 2", OK },
    { "GET m:d", "$1\r\n2\r\n" },
    { "SET m:t v EX 100", OK },
    { "MSET m:t w", OK },
    { "TTL m:t", ":-1\r\n" },
    { "MSETNX m:a 1 m:c 2", ":0\r\n" },
    { "EXISTS m:c", ":0\r\n" },
    { "MSETNX m:c 3 m:e 4", ":1\r\n" },
    { "MGET m:c m:e", "*2\r\n$1\r\n3\r\n$1\r\n4\r\n" },
    { "MSETNX m:x 1 m:x 2", ":1\r\n" },
    { "GET m:x", "$1\r\n2\r\n" },
    { "MSETNX m:y 1 m:z", "-ERR wrong number of arguments for 'msetnx' command\r\n" },
    { "MSETNX m:y", "-ERR wrong number of arguments for 'msetnx' command\r\n" },
    { NULL, NULL },
};

static const struct step counter_steps[] = {
    { "INCR c:a", ":1\r\n" },
    { "INCR c:a", ":2\r\n" },
    { "DECR c:b", ":-1\r\n" },
    { "INCRBY c:a 10", ":12\r\n" },
    { "INCRBY c:a -20", ":-8\r\n" },
    { "DECRBY c:a -8", ":0\r\n" },
    { "DECRBY c:a 5", ":-5\r\n" },
    { "GET c:a", "$2\r\n-5\r\n" },
    { "INCRBY c:a abc", NOT_INT },
    { "INCRBY c:a 1.0", NOT_INT },
    { "INCRBY c:a +1", NOT_INT },
    { "INCRBY c:a 01", NOT_INT },
    { "INCRBY c:a -0", NOT_INT },
    { "INCRBY c:a \"\"", NOT_INT },
    { "INCRBY c:a 9223372036854775808", NOT_INT },
    { "DECRBY c:a -9223372036854775809", NOT_INT },
    { "DECRBY c:a -9223372036854775808", "-ERR decrement would overflow\r\n" },
    { "INCRBY c:a 0", ":-5\r\n" },
    { "SET c:m 9223372036854775807", OK },
    { "INCR c:m", "-ERR increment or decrement would overflow\r\n" },
    { "INCRBY c:m -9223372036854775807", ":0\r\n" },
    { "INCRBY c:m -9223372036854775808", ":-9223372036854775808\r\n" },
    { "DECR c:m", "-ERR increment or decrement would overflow\r\n" },
    { "GET c:m", "$20\r\n-9223372036854775808\r\n" },
    { "INCRBY c:m 9223372036854775807", ":-1\r\n" },
    { "SET c:s hello", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s 10.5", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s 007", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s +5", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s -0", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s 99999999999999999999", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:s \"\"", OK },
    { "INCR c:s", NOT_INT },
    { "SET c:t 5 EX 100", OK },
    { "INCR c:t", ":6\r\n" },
    { "TTL c:t", ":100\r\n" },
    { "INCR", "-ERR wrong number of arguments for 'incr' command\r\n" },
    { "INCRBY c:a", "-ERR wrong number of arguments for 'incrby' command\r\n" },
    { "DECRBY c:a 1 2", "-ERR wrong number of arguments for 'decrby' command\r\n" },
    /* INCRBYFLOAT: parsing, formatting (%.17Lf without trailing zeros) */
    { "INCRBYFLOAT f:a 10.5", "$4\r\n10.5\r\n" },
    { "INCRBYFLOAT f:a 0.1", "$4\r\n10.6\r\n" },
    { "INCRBYFLOAT f:a -5", "$3\r\n5.6\r\n" },
    { "INCRBYFLOAT f:a 1e20", "$21\r\n100000000000000000008\r\n" },
    { "SET f:b 3", OK },
    { "INCRBYFLOAT f:b 0.1", "$3\r\n3.1\r\n" },
    { "INCRBYFLOAT f:b -3.1", "$1\r\n0\r\n" },
    { "INCRBYFLOAT f:b 1.5e-7", "$10\r\n0.00000015\r\n" },
    { "INCRBYFLOAT f:b 123456789.123456789", "$27\r\n123456789.12345693899987964\r\n" },
    { "INCRBYFLOAT f:c -0", "$1\r\n0\r\n" },
    { "INCRBYFLOAT f:d 1e-20", "$1\r\n0\r\n" },
    { "INCRBYFLOAT f:e 0x10", "$2\r\n16\r\n" },
    { "INCRBYFLOAT f:e 0x1p3", "$2\r\n24\r\n" },
    { "INCRBYFLOAT f:e .5", "$4\r\n24.5\r\n" },
    { "INCRBYFLOAT f:e +1", "$4\r\n25.5\r\n" },
    { "INCRBYFLOAT f:e 5.", "$4\r\n30.5\r\n" },
    { "INCRBYFLOAT f:e 1e-4940", "$4\r\n30.5\r\n" },
    { "INCRBYFLOAT f:e 1E2", "$5\r\n130.5\r\n" },
    { "INCRBYFLOAT f:e inf", "-ERR increment would produce NaN or Infinity\r\n" },
    { "INCRBYFLOAT f:e -INF", "-ERR increment would produce NaN or Infinity\r\n" },
    { "INCRBYFLOAT f:e infinity", "-ERR increment would produce NaN or Infinity\r\n" },
    { "INCRBYFLOAT f:e nan", NOT_FLOAT },
    { "INCRBYFLOAT f:e abc", NOT_FLOAT },
    { "INCRBYFLOAT f:e \"\"", NOT_FLOAT },
    { "INCRBYFLOAT f:e 1e5000", NOT_FLOAT },
    { "INCRBYFLOAT f:e 1e-5000", NOT_FLOAT },
    { "INCRBYFLOAT f:e 1,5", NOT_FLOAT },
    { "GET f:e", "$5\r\n130.5\r\n" },
    { "SET f:s hello", OK },
    { "INCRBYFLOAT f:s 1", NOT_FLOAT },
    { "SET f:s inf", OK },
    { "INCRBYFLOAT f:s 0", "-ERR increment would produce NaN or Infinity\r\n" },
    { "SET f:s 1e5000", OK },
    { "INCRBYFLOAT f:s 1", NOT_FLOAT },
    { "SET f:s 1.0", OK },
    { "INCRBYFLOAT f:s 0", "$1\r\n1\r\n" },
    { "SET f:s 3.0000000000000000001", OK },
    { "INCRBYFLOAT f:s 0", "$1\r\n3\r\n" },
    { "SET f:t 5 EX 100", OK },
    { "INCRBYFLOAT f:t 1.5", "$3\r\n6.5\r\n" },
    { "TTL f:t", ":100\r\n" },
    { "INCRBYFLOAT f:t", "-ERR wrong number of arguments for 'incrbyfloat' command\r\n" },
    { "SET f:big 1e308", OK },
    { "INCRBYFLOAT f:big 1e308",
      "$309\r\n1999999999999999999933717593116912913211201996948311344155940959898434697376"
      "76123744200253843777078640893494450108026446304269499187921167194841628860392837535"
      "91820003920638155732621920901421333587830679157787782912108712612253672980323726043"
      "4173178506889763247582601711514636284849020905456510092687857156096\r\n" },
    { NULL, NULL },
};

static const struct step range_steps[] = {
    { "APPEND r:a hello", ":5\r\n" },
    { "APPEND r:a _world", ":11\r\n" },
    { "GET r:a", "$11\r\nhello_world\r\n" },
    { "APPEND r:e \"\"", ":0\r\n" },
    { "EXISTS r:e", ":1\r\n" },
    { "STRLEN r:e", ":0\r\n" },
    { "SET r:t v EX 100", OK },
    { "APPEND r:t x", ":2\r\n" },
    { "TTL r:t", ":100\r\n" },
    { "APPEND r:a", "-ERR wrong number of arguments for 'append' command\r\n" },
    { "STRLEN r:a", ":11\r\n" },
    { "STRLEN r:none", ":0\r\n" },
    { "STRLEN", "-ERR wrong number of arguments for 'strlen' command\r\n" },
    { "SET r:s hello", OK },
    { "GETRANGE r:s 0 -1", "$5\r\nhello\r\n" },
    { "GETRANGE r:s 0 0", "$1\r\nh\r\n" },
    { "GETRANGE r:s 1 3", "$3\r\nell\r\n" },
    { "GETRANGE r:s -3 -1", "$3\r\nllo\r\n" },
    { "GETRANGE r:s 0 100", "$5\r\nhello\r\n" },
    { "GETRANGE r:s 0 -100", "$1\r\nh\r\n" },
    { "GETRANGE r:s -100 -100", "$1\r\nh\r\n" },
    { "GETRANGE r:s -100 100", "$5\r\nhello\r\n" },
    { "GETRANGE r:s -1 -5", "$0\r\n\r\n" },
    { "GETRANGE r:s 3 2", "$0\r\n\r\n" },
    { "GETRANGE r:s 5 10", "$0\r\n\r\n" },
    { "GETRANGE r:s 4 4", "$1\r\no\r\n" },
    { "GETRANGE r:s 9223372036854775807 -9223372036854775808", "$0\r\n\r\n" },
    { "GETRANGE r:s -9223372036854775808 9223372036854775807", "$5\r\nhello\r\n" },
    { "GETRANGE r:none 0 1", "$0\r\n\r\n" },
    { "GETRANGE r:none a 1", NOT_INT },
    { "GETRANGE r:s a 1", NOT_INT },
    { "GETRANGE r:s 0 b", NOT_INT },
    { "GETRANGE r:e 0 -1", "$0\r\n\r\n" },
    { "GETRANGE r:e 0 0", "$0\r\n\r\n" },
    { "GETRANGE r:s 1", "-ERR wrong number of arguments for 'getrange' command\r\n" },
    { "SUBSTR r:s 1 2", "$2\r\nel\r\n" },
    { "SUBSTR r:s -2 -1", "$2\r\nlo\r\n" },
    { "SUBSTR r:s 1", "-ERR wrong number of arguments for 'substr' command\r\n" },
    /* SETRANGE */
    { "SETRANGE r:s 1 EL", ":5\r\n" },
    { "GET r:s", "$5\r\nhELlo\r\n" },
    { "SETRANGE r:s 5 !!", ":7\r\n" },
    { "GET r:s", "$7\r\nhELlo!!\r\n" },
    { "SETRANGE r:z 3 ab", ":5\r\n" },
    /* (a C string cannot hold the reply's NUL bytes: its parts instead) */
    { "STRLEN r:z", ":5\r\n" },
    { "BITCOUNT r:z 0 2", ":0\r\n" },
    { "GETRANGE r:z 3 4", "$2\r\nab\r\n" },
    { "SETRANGE r:s -1 x", "-ERR offset is out of range\r\n" },
    { "SETRANGE r:none -1 \"\"", "-ERR offset is out of range\r\n" },
    { "SETRANGE r:s abc x", NOT_INT },
    { "SETRANGE r:s 536870912 x", TOO_BIG },
    { "SETRANGE r:s 5368709110 x", TOO_BIG },
    { "SETRANGE r:s 9223372036854775807 x", TOO_BIG },
    { "SETRANGE r:none 536870912 x", TOO_BIG },
    { "EXISTS r:none", ":0\r\n" },
    { "SETRANGE r:none 100 \"\"", ":0\r\n" },
    { "SETRANGE r:none 9223372036854775807 \"\"", ":0\r\n" },
    { "EXISTS r:none", ":0\r\n" },
    { "SETRANGE r:s 100000000000 \"\"", ":7\r\n" },
    { "SETRANGE r:s 0 \"\"", ":7\r\n" },
    { "SET r:t abc EX 100", OK },
    { "SETRANGE r:t 1 X", ":3\r\n" },
    { "TTL r:t", ":100\r\n" },
    { "GET r:t", "$3\r\naXc\r\n" },
    { "SETRANGE r:s 1", "-ERR wrong number of arguments for 'setrange' command\r\n" },
    /* the limit follows CONFIG SET proto-max-bulk-len */
    { "CONFIG SET proto-max-bulk-len 1048576", OK },
    { "SETRANGE r:pm 1048576 x", TOO_BIG },
    { "SETRANGE r:pm 1048575 x", ":1048576\r\n" },
    { "APPEND r:pm y", TOO_BIG },
    { "APPEND r:pm \"\"", ":1048576\r\n" },
    { "SETRANGE r:pm 1048575 yz", TOO_BIG },
    { "SETRANGE r:pm 1048575 y", ":1048576\r\n" },
    { "CONFIG SET proto-max-bulk-len 536870912", OK },
    { "APPEND r:pm y", ":1048577\r\n" },
    { NULL, NULL },
};

static const struct step resp3_steps[] = {
    { "GET r3:none", "_\r\n" },
    { "SET r3:a v", OK },
    { "SET r3:a v NX", "_\r\n" },
    { "SET r3:a v NX GET", "$1\r\nv\r\n" },
    { "SET r3:b v XX GET", "_\r\n" },
    { "MGET r3:a r3:none", "*2\r\n$1\r\nv\r\n_\r\n" },
    { "INCRBYFLOAT r3:f 1.5", "$3\r\n1.5\r\n" },
    { "GETEX r3:none", "_\r\n" },
    { "GETDEL r3:none", "_\r\n" },
    { "GETSET r3:c x", "_\r\n" },
    { "SETNX r3:a x", ":0\r\n" },
    { "GETRANGE r3:none 0 1", "$0\r\n\r\n" },
    { NULL, NULL },
};

/* COMMAND INFO / DOCS of the string commands: Redis 7.0's arity, flags,
 * first/last/step, categories, tips and key specs byte for byte; DOCS
 * doc_flags of deprecated commands and key_spec_index of key arguments. */
static void test_command_info(void)
{
    tap_ok(reply_is(call_line(C, "COMMAND INFO get"),
                    "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
                    "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n"
                    "+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
                    "$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n"
                    "$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
                    "$5\r\nlimit\r\n:0\r\n*0\r\n"),
           "COMMAND INFO get: Redis' reply");
    tap_ok(reply_is(call_line(C, "COMMAND INFO mset"),
                    "*1\r\n*10\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n"
                    "*3\r\n+@write\r\n+@string\r\n+@slow\r\n*2\r\n$26\r\nrequest_policy:multi_shard\r\n"
                    "$29\r\nresponse_policy:all_succeeded\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n"
                    "+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n"
                    "*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n"
                    "$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n"
                    ":0\r\n*0\r\n"),
           "COMMAND INFO mset: Redis' reply (keys 1..-1 step 2)");
    char *r = call_line(C, "COMMAND INFO set");
    tap_ok(r && strstr(r, "$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n") &&
               strstr(r, "*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n"),
           "COMMAND INFO set: positions 1 1 1, key flags RW access update variable_flags");
    zfree(r);
    size_t n;
    conn_sendv(C, "COMMAND", "DOCS", "getset", NULL);
    r = conn_reply(C, 5000, &n);
    struct rv *v = rv_parse(r, n);
    const struct rv *d = v && v->n == 2 ? v->elem[1] : NULL;
    const struct rv *flags = d ? rv_get(d, "doc_flags") : NULL;
    const struct rv *since = d ? rv_get(d, "deprecated_since") : NULL;
    const struct rv *args = d ? rv_get(d, "arguments") : NULL;
    const struct rv *ksi = args && args->n == 2 ? rv_get(args->elem[0], "key_spec_index") : NULL;
    tap_ok(flags && flags->n == 1 && strcmp(flags->elem[0]->str, "deprecated") == 0 && since &&
               strcmp(since->str, "6.2.0") == 0 && rv_get(d, "replaced_by") && ksi &&
               ksi->integer == 0 && !rv_get(args->elem[1], "key_spec_index"),
           "COMMAND DOCS getset: deprecated since 6.2.0, replaced_by, key_spec_index 0");
    rv_free(v);
    zfree(r);
    r = call_line(C, "COMMAND LIST FILTERBY ACLCAT string");
    v = rv_parse(r, r ? strlen(r) : 0);
    tap_ok(v && v->type == '*' && v->n >= 22, "COMMAND LIST FILTERBY ACLCAT string: 22 commands (%zu)",
           v ? v->n : 0);
    rv_free(v);
    zfree(r);
    /* LCS's two keys share one key spec, as in Redis (ARG_SAME_SPEC), and
     * that marker is no documented flag. */
    conn_sendv(C, "COMMAND", "DOCS", "lcs", NULL);
    r = conn_reply(C, 5000, &n);
    v = rv_parse(r, n);
    d = v && v->n == 2 ? v->elem[1] : NULL;
    args = d ? rv_get(d, "arguments") : NULL;
    const struct rv *k1 = args && args->n == 6 ? rv_get(args->elem[0], "key_spec_index") : NULL;
    const struct rv *k2 = args && args->n == 6 ? rv_get(args->elem[1], "key_spec_index") : NULL;
    tap_ok(k1 && k2 && k1->integer == 0 && k2->integer == 0 && !rv_get(args->elem[1], "flags"),
           "COMMAND DOCS lcs: key1 and key2 both key_spec_index 0, key2 without flags");
    rv_free(v);
    zfree(r);
}

/* The null replies under RESP3 (HELLO 3) are "_". */
static void test_resp3(int port)
{
    struct conn *saved = C;
    C = conn_tcp(port);
    char *r = C ? conn_call(C, "HELLO", "3", NULL) : NULL;
    if (tap_ok(r && r[0] == '%', "resp3: HELLO 3")) {
        run_steps("resp3", resp3_steps);
    }
    zfree(r);
    if (C)
        conn_close(C);
    C = saved;
}

/* Binary-safe keys and values (NUL, CR, LF) through every command family. */
static void test_binary(void)
{
    static const char key[] = "b:\0k\r\ney";
    static const char val[] = "v\0a\r\nl\nu\re\0";
    size_t kl = sizeof key - 1, vl = sizeof val - 1;
    size_t rl;
    const char *set[] = { "SET", key, val };
    size_t setl[] = { 3, kl, vl };
    tap_ok(reply_is(conn_call_argv(C, 3, set, setl, NULL, 5000), OK), "binary: SET key/value with NUL CR LF");
    const char *get[] = { "GET", key };
    size_t getl[] = { 3, kl };
    char *r = conn_call_argv(C, 2, get, getl, &rl, 5000);
    tap_ok(is_bulk(r, rl, val, vl), "binary: GET returns the exact bytes");
    zfree(r);
    const char *get2[] = { "GET", "b:" };
    size_t get2l[] = { 3, 2 };
    tap_ok(reply_is(conn_call_argv(C, 2, get2, get2l, NULL, 5000), NIL), "binary: the key's prefix before NUL is another key");
    const char *app[] = { "APPEND", key, "\r\n\0" };
    size_t appl[] = { 6, kl, 3 };
    char expect[32];
    snprintf(expect, sizeof expect, ":%zu\r\n", vl + 3);
    tap_ok(reply_is(conn_call_argv(C, 3, app, appl, NULL, 5000), expect), "binary: APPEND CRLF NUL");
    const char *gr[] = { "GETRANGE", key, "1", "4" };
    size_t grl[] = { 8, kl, 1, 1 };
    r = conn_call_argv(C, 4, gr, grl, &rl, 5000);
    tap_ok(is_bulk(r, rl, "\0a\r\n", 4), "binary: GETRANGE of binary bytes");
    zfree(r);
    const char *sr[] = { "SETRANGE", key, "0", "\0" };
    size_t srl[] = { 8, kl, 1, 1 };
    snprintf(expect, sizeof expect, ":%zu\r\n", vl + 3);
    tap_ok(reply_is(conn_call_argv(C, 4, sr, srl, NULL, 5000), expect), "binary: SETRANGE with a NUL byte");
    const char *mg[] = { "MGET", key, "b:" };
    size_t mgl[] = { 4, kl, 2 };
    r = conn_call_argv(C, 3, mg, mgl, &rl, 5000);
    char full[64];
    memcpy(full, "\0\0a\r\nl\nu\re\0\r\n\0", vl + 3);
    char head[16];
    int hl = snprintf(head, sizeof head, "*2\r\n$%zu\r\n", vl + 3);
    tap_ok(r && rl == (size_t)hl + vl + 3 + 2 + 5 && memcmp(r, head, (size_t)hl) == 0 &&
               memcmp(r + hl, full, vl + 3) == 0 && memcmp(r + hl + vl + 3, "\r\n$-1\r\n", 7) == 0,
           "binary: MGET returns the binary value and a null");
    zfree(r);
    /* option words compare as C strings, like Redis: "nx\0junk" is NX */
    const char *opt[] = { "SET", "b:opt", "v", "nx\0junk" };
    size_t optl[] = { 3, 5, 1, 7 };
    tap_ok(reply_is(conn_call_argv(C, 4, opt, optl, NULL, 5000), OK), "binary: option word up to its NUL (NX)");
    tap_ok(reply_is(conn_call_argv(C, 4, opt, optl, NULL, 5000), NIL), "... and the second NX is refused");
    const char *num[] = { "INCRBY", "b:n", "1\0" };
    size_t numl[] = { 6, 3, 2 };
    tap_ok(reply_is(conn_call_argv(C, 3, num, numl, NULL, 5000), NOT_INT), "binary: a number with a NUL is not a number");
    const char *fl[] = { "INCRBYFLOAT", "b:n", "1\0" };
    size_t fll[] = { 11, 3, 2 };
    tap_ok(reply_is(conn_call_argv(C, 3, fl, fll, NULL, 5000), NOT_FLOAT), "binary: a float with a NUL is not a float");
    const char *ek[] = { "SET", "", "" };
    size_t ekl[] = { 3, 0, 0 };
    tap_ok(reply_is(conn_call_argv(C, 3, ek, ekl, NULL, 5000), OK), "binary: empty key and empty value");
    const char *egk[] = { "GET", "" };
    size_t egkl[] = { 3, 0 };
    tap_ok(reply_is(conn_call_argv(C, 2, egk, egkl, NULL, 5000), "$0\r\n\r\n"), "binary: GET of the empty key");
}

/* A value of n bytes (a pattern that depends on n and i). */
static char *make_value(size_t n, unsigned seed)
{
    char *v = zmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + (i * 7 + seed) % 26);
    v[n] = '\0';
    return v;
}

static char *get_raw(const char *key, size_t klen, size_t *rl, int timeout_ms)
{
    const char *get[] = { "GET", key };
    size_t getl[] = { 3, klen };
    return conn_call_argv(C, 2, get, getl, rl, timeout_ms);
}

/* INFO lsm's vlog_bytes_read (-1 when absent: redis-server). */
static long long vlog_bytes_read(void)
{
    const char *a[] = { "INFO", "lsm" };
    size_t l[] = { 4, 3 };
    char *r = conn_call_argv(C, 2, a, l, NULL, 5000);
    char v[32];
    long long out = -1;
    if (r && info_field(r, "vlog_bytes_read", v, sizeof v) == 0)
        out = atoll(v);
    zfree(r);
    return out;
}

/* Values of size n around the value-separation threshold: SET, GET, STRLEN,
 * GETRANGE of the last bytes, APPEND one byte, SETRANGE in the middle. */
static void check_size(size_t n)
{
    char *v = make_value(n + 1, (unsigned)n);
    char key[32], num[32], expect[48];
    snprintf(key, sizeof key, "z:%zu", n);
    size_t kl = strlen(key);
    const char *set[] = { "SET", key, v };
    size_t setl[] = { 3, kl, n };
    tap_ok(reply_is(conn_call_argv(C, 3, set, setl, NULL, 10000), OK), "size %zu: SET", n);
    size_t rl;
    char *r = get_raw(key, kl, &rl, 10000);
    tap_ok(is_bulk(r, rl, v, n), "size %zu: GET returns the value", n);
    zfree(r);
    const char *sl[] = { "STRLEN", key };
    size_t sll[] = { 6, kl };
    snprintf(expect, sizeof expect, ":%zu\r\n", n);
    long long read_before = vlog_bytes_read();
    tap_ok(reply_is(conn_call_argv(C, 2, sl, sll, NULL, 5000), expect), "size %zu: STRLEN", n);
    if (read_before >= 0)   /* the length is in the record's head */
        tap_ok(vlog_bytes_read() == read_before, "size %zu: STRLEN reads no value bytes", n);
    /* A new expire patches the record's header: the value is neither read
     * nor written again (docs/format-keyspace.md). */
    long long written = conn_info_ll(C, "lsm", "vlog_bytes");
    read_before = vlog_bytes_read();
    const char *ex[] = { "PEXPIRE", key, "5000000" };
    size_t exl[] = { 7, kl, 7 };
    tap_ok(reply_is(conn_call_argv(C, 3, ex, exl, NULL, 5000), ":1\r\n"), "size %zu: PEXPIRE", n);
    const char *ttl[] = { "PTTL", key };
    size_t ttll[] = { 4, kl };
    r = conn_call_argv(C, 2, ttl, ttll, NULL, 5000);
    tap_ok(r && r[0] == ':' && atoll(r + 1) > 4990000 && atoll(r + 1) <= 5000000,
           "size %zu: PTTL after PEXPIRE", n);
    zfree(r);
    const char *pe[] = { "PERSIST", key };
    size_t pel[] = { 7, kl };
    tap_ok(reply_is(conn_call_argv(C, 2, pe, pel, NULL, 5000), ":1\r\n"), "size %zu: PERSIST", n);
    tap_ok(reply_is(conn_call_argv(C, 2, ttl, ttll, NULL, 5000), ":-1\r\n"), "size %zu: no TTL after PERSIST",
           n);
    if (read_before >= 0) {
        tap_ok(vlog_bytes_read() == read_before, "size %zu: PEXPIRE, PERSIST read no value bytes",
               n);
        tap_ok(conn_info_ll(C, "lsm", "vlog_bytes") == written,
               "size %zu: PEXPIRE, PERSIST write no value bytes", n);
    }
    const char *gx[] = { "GETEX", key, "EX", "100" };
    size_t gxl[] = { 5, kl, 2, 3 };
    r = conn_call_argv(C, 4, gx, gxl, &rl, 10000);
    tap_ok(is_bulk(r, rl, v, n), "size %zu: GETEX EX returns the value", n);
    zfree(r);
    r = conn_call_argv(C, 2, ttl, ttll, NULL, 5000);
    tap_ok(r && r[0] == ':' && atoll(r + 1) > 99000 && atoll(r + 1) <= 100000,
           "size %zu: PTTL after GETEX EX", n);
    zfree(r);
    if (read_before >= 0)
        tap_ok(conn_info_ll(C, "lsm", "vlog_bytes") == written,
               "size %zu: GETEX EX writes no value bytes", n);
    r = get_raw(key, kl, &rl, 10000);
    tap_ok(is_bulk(r, rl, v, n), "size %zu: GET after the expire changes", n);
    zfree(r);
    tap_ok(reply_is(conn_call_argv(C, 2, pe, pel, NULL, 5000), ":1\r\n"), "size %zu: PERSIST again", n);
    /* In a transaction, later commands see the patched header. */
    /* command, then the key, then the rest of the line */
    static const char *const queued[][2] = {
        { "PEXPIREAT", " 99999999999999" }, { "PEXPIRETIME", "" }, { "STRLEN", "" },
        { "SCAN 0 MATCH", " COUNT 1000000 TYPE string" }, { "PERSIST", "" }, { "PTTL", "" },
    };
    char line[128], want_exec[128];
    int ok = reply_is(call_line(C, "MULTI"), "+OK\r\n");
    for (size_t q = 0; q < sizeof queued / sizeof queued[0]; q++) {
        snprintf(line, sizeof line, "%s %s%s", queued[q][0], key, queued[q][1]);
        ok &= reply_is(call_line(C, line), "+QUEUED\r\n");
    }
    snprintf(want_exec, sizeof want_exec,
             "*6\r\n:1\r\n:99999999999999\r\n:%zu\r\n*2\r\n$1\r\n0\r\n*1\r\n$%zu\r\n%s\r\n"
             ":1\r\n:-1\r\n", n, kl, key);
    ok &= reply_is(call_line(C, "EXEC"), want_exec);
    tap_ok(ok, "size %zu: PEXPIREAT, PEXPIRETIME, STRLEN, SCAN, PERSIST, PTTL in one EXEC", n);
    const char *gr[] = { "GETRANGE", key, "-3", "-1" };
    size_t grl[] = { 8, kl, 2, 2 };
    r = conn_call_argv(C, 4, gr, grl, &rl, 5000);
    tap_ok(is_bulk(r, rl, v + n - 3, 3), "size %zu: GETRANGE of the last 3 bytes", n);
    zfree(r);
    const char *ap[] = { "APPEND", key, v + n };
    size_t apl[] = { 6, kl, 1 };
    snprintf(expect, sizeof expect, ":%zu\r\n", n + 1);
    tap_ok(reply_is(conn_call_argv(C, 3, ap, apl, NULL, 5000), expect), "size %zu: APPEND one byte", n);
    snprintf(num, sizeof num, "%zu", n / 2);
    const char *sr[] = { "SETRANGE", key, num, "XY" };
    size_t srl[] = { 8, kl, strlen(num), 2 };
    tap_ok(reply_is(conn_call_argv(C, 4, sr, srl, NULL, 5000), expect), "size %zu: SETRANGE in the middle", n);
    v[n / 2] = 'X';
    v[n / 2 + 1] = 'Y';
    r = get_raw(key, kl, &rl, 10000);
    tap_ok(is_bulk(r, rl, v, n + 1), "size %zu: GET after APPEND and SETRANGE", n);
    zfree(r);
    zfree(v);
}

static void test_sizes(void)
{
    static const size_t sizes[] = { 1024, 4000, 4095, 4096, 4097, 8192, 65535, 65536, 65537 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_size(sizes[i]);
}

/* A 100 MB value: SET, GET, STRLEN, GETRANGE at the end, GETDEL. */
static void test_huge(void)
{
    size_t n = 100u * 1024 * 1024;
    char *v = make_value(n, 3);
    const char *set[] = { "SET", "h:big", v };
    size_t setl[] = { 3, 5, n };
    tap_ok(reply_is(conn_call_argv(C, 3, set, setl, NULL, 60000), OK), "100 MB: SET");
    size_t rl;
    char *r = get_raw("h:big", 5, &rl, 60000);
    tap_ok(is_bulk(r, rl, v, n), "100 MB: GET returns the value byte for byte");
    zfree(r);
    tap_ok(reply_is(call_line(C, "STRLEN h:big"), ":104857600\r\n"), "100 MB: STRLEN");
    r = call_line(C, "GETRANGE h:big 104857590 104857599");
    tap_ok(r && is_bulk(r, strlen(r), v + n - 10, 10), "100 MB: GETRANGE of the last 10 bytes");
    zfree(r);
    tap_ok(reply_is(call_line(C, "APPEND h:big !"), ":104857601\r\n"), "100 MB: APPEND");
    r = call_line(C, "GETRANGE h:big -2 -1");
    char tail[2] = { v[n - 1], '!' };
    tap_ok(r && is_bulk(r, strlen(r), tail, 2), "100 MB: the appended byte is at the end");
    zfree(r);
    r = get_raw("h:big", 5, &rl, 60000);
    tap_ok(r && rl == 12 + n + 1 + 2 && memcmp(r, "$104857601\r\n", 12) == 0, "100 MB: GET after APPEND has the new length");
    zfree(r);
    tap_ok(reply_is(call_line(C, "DEL h:big"), ":1\r\n"), "100 MB: DEL");
    zfree(v);
}

/* One command given as arguments; 1 when its raw reply is `want`. */
static int argv_is(int argc, const char **argv, const size_t *lens, const char *want)
{
    size_t rl;
    char *r = conn_call_argv(C, argc, argv, lens, &rl, 10000);
    int ok = r && rl == strlen(want) && memcmp(r, want, rl) == 0;
    zfree(r);
    return ok;
}

/* A long string that range writes change (lsmdb keeps it in 64 KiB chunks
 * by default, docs/format-keyspace.md): APPEND in 4 KiB steps to 400 KiB,
 * SETRANGE and GETRANGE across chunk boundaries, SETBIT far past the end
 * (zeros between), GETBIT, GET, against a model. */
static void test_chunked(void)
{
    size_t len = 0, cap = 600000;
    char *m = zcalloc(cap), *piece = make_value(4096, 5), want[64];
    int ok = 1;
    for (int i = 0; i < 100 && ok; i++) {
        const char *a[] = { "APPEND", "ch:log", piece };
        size_t al[] = { 6, 6, 4096 };
        memcpy(m + len, piece, 4096);
        len += 4096;
        snprintf(want, sizeof want, ":%zu\r\n", len);
        ok = argv_is(3, a, al, want);
    }
    tap_ok(ok, "chunks: 100 APPENDs of 4 KiB answer the growing length");
    memcpy(m + 65530, "ABCDEFGHIJKL", 12);
    tap_ok(reply_is(call_line(C, "SETRANGE ch:log 65530 ABCDEFGHIJKL"), ":409600\r\n"),
           "chunks: SETRANGE across a chunk boundary");
    char *r = call_line(C, "GETRANGE ch:log 65528 65545");
    tap_ok(r && is_bulk(r, strlen(r), m + 65528, 18), "chunks: GETRANGE across it");
    zfree(r);
    r = call_line(C, "GETRANGE ch:log -5 -1");
    tap_ok(r && is_bulk(r, strlen(r), m + len - 5, 5), "chunks: GETRANGE at the end");
    zfree(r);
    tap_ok(reply_is(call_line(C, "SETBIT ch:log 4000000 1"), ":0\r\n"),
           "chunks: SETBIT past the end");
    len = 500001;
    m[500000] = (char)0x80;
    tap_ok(reply_is(call_line(C, "GETBIT ch:log 4000000"), ":1\r\n") &&
               reply_is(call_line(C, "GETBIT ch:log 3999999"), ":0\r\n") &&
               reply_is(call_line(C, "GETBIT ch:log 999"), m[124] & 0x01 ? ":1\r\n" : ":0\r\n"),
           "chunks: GETBIT");
    tap_ok(reply_is(call_line(C, "STRLEN ch:log"), ":500001\r\n"), "chunks: STRLEN");
    memcpy(m + 450000, "xyz", 3);
    tap_ok(reply_is(call_line(C, "SETRANGE ch:log 450000 xyz"), ":500001\r\n"),
           "chunks: SETRANGE in the zeros");
    size_t rl;
    r = get_raw("ch:log", 6, &rl, 10000);
    tap_ok(is_bulk(r, rl, m, len), "chunks: GET returns the model byte for byte");
    zfree(r);
    tap_ok(reply_is(call_line(C, "SET ch:log small"), OK) &&
               reply_is(call_line(C, "GET ch:log"), "$5\r\nsmall\r\n"),
           "chunks: a SET replaces it");
    tap_ok(reply_is(call_line(C, "DEL ch:log"), ":1\r\n"), "chunks: DEL");
    zfree(m);
    zfree(piece);
}

/* Short TTLs expire for real: SET PX, PSETEX, SET EX then GETEX PX,
 * KEEPTTL keeps the short TTL, GETEX PERSIST saves the key. */
static const struct step expiry_setup[] = {
    { "SET x:a v PX 100", OK },
    { "PSETEX x:b 100 v", OK },
    { "SET x:c v EX 100", OK },
    { "GETEX x:c PX 100", "$1\r\nv\r\n" },
    { "SET x:d v PX 100", OK },
    { "SET x:d w KEEPTTL", OK },                 /* keeps the 100 ms */
    { "SET x:e v PX 100", OK },
    { "GETEX x:e PERSIST", "$1\r\nv\r\n" },    /* saved from expiry */
    { "SET x:f 1 PX 100", OK },
    { "INCR x:f", ":2\r\n" },                     /* keeps the TTL */
    { "MGET x:a x:b x:c x:d", "*4\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nw\r\n" },
    { NULL, NULL },
};

static void test_expiry(void)
{
    /* The steps before the TTL go as one pipeline (executed back to back by
     * the server); they only prove something when they took < 100 ms. */
    long long t0 = now_ms();
    int n = 0;
    for (const struct step *st = expiry_setup; st->cmd; st++, n++) {
        char line[128];
        snprintf(line, sizeof line, "%s", st->cmd);
        const char *argv[8];
        size_t lens[8];
        int argc = 0;
        for (char *tok = strtok(line, " "); tok && argc < 8; tok = strtok(NULL, " ")) {
            argv[argc] = tok;
            lens[argc++] = strlen(tok);
        }
        conn_sendargv(C, argc, argv, lens);
    }
    char *replies[16];
    for (int i = 0; i < n; i++)
        replies[i] = conn_reply(C, 10000, NULL);
    long long took = now_ms() - t0;
    if (took < 100) {
        for (int i = 0; i < n; i++)
            tap_ok(reply_is(replies[i], expiry_setup[i].expect), "expiry: %s", expiry_setup[i].cmd);
    } else {
        tap_diag("expiry: skipped, the pipeline took %lld ms (loaded machine)", took);
        for (int i = 0; i < n; i++)
            zfree(replies[i]);
        return;
    }
    usleep(250 * 1000);
    tap_ok(reply_is(call_line(C, "MGET x:a x:b x:c x:d x:e"),
                    "*5\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\nv\r\n"),
           "expiry: gone after 250 ms, the persisted key stays");
    tap_ok(reply_is(call_line(C, "GET x:f"), NIL), "expiry: the INCRed counter expired too");
    tap_ok(reply_is(call_line(C, "INCR x:f"), ":1\r\n"), "expiry: INCR of an expired key starts at 0");
    tap_ok(reply_is(call_line(C, "SETNX x:a again"), ":1\r\n"), "expiry: SETNX on an expired key sets it");
    tap_ok(reply_is(call_line(C, "SET x:b v NX"), OK), "expiry: SET NX on an expired key sets it");
    tap_ok(reply_is(call_line(C, "SET x:c v XX"), NIL), "expiry: SET XX on an expired key does nothing");
    tap_ok(reply_is(call_line(C, "APPEND x:d z"), ":1\r\n"), "expiry: APPEND on an expired key starts empty");
    tap_ok(reply_is(call_line(C, "STRLEN x:c"), ":0\r\n"), "expiry: STRLEN of an expired key");
}

/* Keys, values and TTLs survive a restart on the same directory. */
static void test_restart(struct srv *s)
{
    if (srv_is_redis()) {
        tap_diag("restart: skipped against redis-server (no persistence configured)");
        return;
    }
    tap_ok(reply_is(call_line(C, "MSET p:a 1 p:b two p:c 3"), OK), "restart: MSET");
    tap_ok(reply_is(call_line(C, "SET p:t v EX 1000"), OK), "restart: SET EX 1000");
    tap_ok(reply_is(call_line(C, "SET p:short v PX 300"), OK), "restart: SET PX 300");
    tap_ok(reply_is(call_line(C, "INCRBY p:a 41"), ":42\r\n"), "restart: INCRBY");
    tap_ok(reply_is(call_line(C, "APPEND p:b !"), ":4\r\n"), "restart: APPEND");
    tap_ok(reply_is(call_line(C, "GETDEL p:c"), "$1\r\n3\r\n"), "restart: GETDEL");
    /* 150,000 bytes, the last 50,000 appended: kept in chunks. */
    char *big = make_value(150000, 9);
    const char *set[] = { "SET", "p:chunked", big }, *app[] = { "APPEND", "p:chunked", big + 100000 };
    size_t setl[] = { 3, 9, 100000 }, appl[] = { 6, 9, 50000 };
    tap_ok(argv_is(3, set, setl, OK) && argv_is(3, app, appl, ":150000\r\n"),
           "restart: a string APPEND made long");
    conn_close(C);
    srv_stop_keep(s);
    usleep(400 * 1000);
    struct srv s2;
    struct srv_opts o = { .dir = s->dir };
    if (!tap_ok(srv_start(&s2, &o) == 0, "restart: the server starts on the same dir")) {
        C = NULL;
        return;
    }
    C = conn_tcp(s2.port);
    tap_ok(reply_is(call_line(C, "MGET p:a p:b p:c p:t p:short"),
                    "*5\r\n$2\r\n42\r\n$4\r\ntwo!\r\n$-1\r\n$1\r\nv\r\n$-1\r\n"),
           "restart: values survive, deleted and expired keys stay gone");
    char *r = call_line(C, "TTL p:t");
    long long ttl = r && r[0] == ':' ? atoll(r + 1) : -100;
    tap_ok(ttl > 990 && ttl <= 1000, "restart: the TTL survives (%lld)", ttl);
    zfree(r);
    tap_ok(reply_is(call_line(C, "TTL p:a"), ":-1\r\n"), "restart: a key without TTL has none");
    r = call_line(C, "GETRANGE p:chunked 99990 100009");
    tap_ok(r && is_bulk(r, strlen(r), big + 99990, 20) &&
               reply_is(call_line(C, "STRLEN p:chunked"), ":150000\r\n"),
           "restart: the long string survives");
    zfree(r);
    tap_ok(reply_is(call_line(C, "SET p:chunked x"), OK) &&
               reply_is(call_line(C, "GET p:chunked"), "$1\r\nx\r\n"),
           "restart: a SET replaces it");
    zfree(big);
    conn_close(C);
    C = NULL;
    srv_stop(&s2);
}

/* LCS, Redis 7.0's replies (checked against redis-server 7.0.15). */
static const struct step lcs_steps[] = {
    { "SET l:a ohmytext", OK },
    { "SET l:b mynewtext", OK },
    { "LCS l:a l:b", "$6\r\nmytext\r\n" },
    { "LCS l:a l:b LEN", ":6\r\n" },
    { "LCS l:a l:b IDX",
      "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
      "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n" },
    { "LCS l:a l:b IDX MINMATCHLEN 4 WITHMATCHLEN",
      "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
      "$3\r\nlen\r\n:6\r\n" },
    { "LCS l:a l:b idx minmatchlen -5 withmatchlen",
      "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
      "*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n" },
    { "LCS l:a l:b WITHMATCHLEN MINMATCHLEN 3", "$6\r\nmytext\r\n" },
    { "LCS l:a l:none", "$0\r\n\r\n" },
    { "LCS l:none l:none2 IDX",
      "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n" },
    { "LCS l:a l:b LEN IDX",
      "-ERR If you want both the length and indexes, please just use IDX.\r\n" },
    { "LCS l:a l:b foo", "-ERR syntax error\r\n" },
    { "LCS l:a l:b MINMATCHLEN", "-ERR syntax error\r\n" },
    { "LCS l:a l:b MINMATCHLEN x", "-ERR value is not an integer or out of range\r\n" },
    { "LCS l:a", "-ERR wrong number of arguments for 'lcs' command\r\n" },
    { NULL, NULL },
};

/* LCS's table ((|a|+1) x (|b|+1) 32-bit cells) must fit proto-max-bulk-len;
 * lsmdb checks it from the lengths, before reading either value. Then LCS
 * of two separated values (one common run in the middle). */
static void test_lcs_limits(void)
{
    size_t n = 2000;                /* separated (the threshold is 1024) */
    char *x = make_value(n, 1), *y = make_value(n, 2);
    memset(x, 'x', n);
    memset(y, 'y', n);
    memcpy(x + 1300, "common", 6);
    memcpy(y + 100, "common", 6);
    const char *sx[] = { "SET", "l:x", x }, *sy[] = { "SET", "l:y", y };
    size_t sl[] = { 3, 3, n };
    tap_ok(reply_is(conn_call_argv(C, 3, sx, sl, NULL, 5000), OK) && reply_is(conn_call_argv(C, 3, sy, sl, NULL, 5000), OK),
           "lcs: two 2000-byte values");
    tap_ok(reply_is(call_line(C, "CONFIG SET proto-max-bulk-len 1mb"), OK), "lcs: a 1 MB limit");
    long long read_before = vlog_bytes_read();
    tap_ok(reply_is(call_line(C, "LCS l:x l:y LEN"),
                    "-ERR Insufficient memory, transient memory for LCS exceeds "
                    "proto-max-bulk-len\r\n"),
           "lcs: a 2001 x 2001 table exceeds 1 MB");
    if (read_before >= 0)
        tap_ok(vlog_bytes_read() == read_before, "lcs: refused before reading the values");
    tap_ok(reply_is(call_line(C, "CONFIG SET proto-max-bulk-len 512mb"), OK), "lcs: limit back");
    tap_ok(reply_is(call_line(C, "LCS l:x l:y"), "$6\r\ncommon\r\n"), "lcs: of 2000-byte values");
    tap_ok(reply_is(call_line(C, "LCS l:x l:y IDX WITHMATCHLEN"),
                    "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1300\r\n:1305\r\n*2\r\n"
                    ":100\r\n:105\r\n:6\r\n$3\r\nlen\r\n:6\r\n"),
           "lcs: IDX of 2000-byte values");
    zfree(x);
    zfree(y);
}

int main(void)
{
    harness_init(300);
    struct srv s;
    if (srv_start(&s, NULL) != 0)
        tap_bail("server did not start");
    C = conn_tcp(s.port);
    if (!C)
        tap_bail("no connection");
    run_steps("set", set_steps);
    run_steps("get", get_steps);
    run_steps("counters", counter_steps);
    run_steps("ranges", range_steps);
    run_steps("lcs", lcs_steps);
    test_lcs_limits();
    test_command_info();
    test_resp3(s.port);
    test_binary();
    test_sizes();
    test_expiry();
    test_huge();
    test_chunked();
    test_restart(&s);
    if (C)
        conn_close(C);
    srv_stop(&s);
    return tap_done();
}
