/* test_bitmap.c: the bitmap commands against a real server, byte for byte
 * as Redis 7.0 answers: GETBIT and SETBIT (bit order, growth with zero
 * bytes, offset and value errors, the proto-max-bulk-len limit, the TTL
 * kept), BITCOUNT and BITPOS (BYTE and BIT ranges, negative indexes,
 * missing and empty keys), BITOP AND OR XOR NOT (different lengths, missing
 * sources, an empty result deleting the destination, its TTL dropped), which
 * writes touch a WATCHed key, binary keys and values, an 8 KB value stored
 * in the value log; then, as a block of its own, BITFIELD and BITFIELD_RO.
 * Every expected reply was taken from redis-server 7.0.15: running this test
 * with LSMDB_SERVER=/usr/bin/redis-server passes.
 *
 * Steps are command lines split on single spaces ("" is an empty argument)
 * and the exact reply; in both, %HH is the byte 0xHH, so binary keys,
 * values and replies fit in a table ("%20" is a space inside an argument). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static struct conn *C;

struct step {
    const char *cmd;
    const char *expect;
};

#define OK "+OK\r\n"
#define NIL "$-1\r\n"
#define SYNTAX "-ERR syntax error\r\n"
#define NOT_INT "-ERR value is not an integer or out of range\r\n"
#define BAD_OFFSET "-ERR bit offset is not an integer or out of range\r\n"
#define BAD_BIT "-ERR bit is not an integer or out of range\r\n"
#define BITPOS_BIT "-ERR The bit argument must be 1 or 0.\r\n"
#define NOT_ONE_KEY "-ERR BITOP NOT must be called with a single source key.\r\n"
#define BAD_TYPE                                                                                \
    "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "    \
    "but i64 is.\r\n"
#define RO_GET_ONLY "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
#define BAD_OVERFLOW "-ERR Invalid OVERFLOW type specified\r\n"
#define ARITY(cmd) "-ERR wrong number of arguments for '" cmd "' command\r\n"

static void run_steps(const char *section, const struct step *steps)
{
    for (const struct step *s = steps; s->cmd; s++)
        tap_ok(line_reply_is(C, s->cmd, s->expect), "%s: %s", section, s->cmd);
}

/* 1 when raw is the bulk reply of exactly (p, n). Frees raw. */
static int bulk_is(char *raw, size_t rlen, const unsigned char *p, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "$%zu\r\n", n);
    int ok = raw && rlen == (size_t)h + n + 2 && memcmp(raw, head, (size_t)h) == 0 &&
             memcmp(raw + h, p, n) == 0 && memcmp(raw + h + n, "\r\n", 2) == 0;
    if (!ok)
        printf("#   got %zu bytes: \"%s\"\n", rlen, raw ? esc(raw, rlen < 64 ? rlen : 64) : "(none)");
    zfree(raw);
    return ok;
}

static const struct step getbit_steps[] = {
    { "GETBIT g:none 0", ":0\r\n" },
    { "GETBIT g:none 100", ":0\r\n" },
    { "EXISTS g:none", ":0\r\n" },
    /* bit 0 is the most significant bit of the first byte */
    { "SET g:a %80", OK },
    { "GETBIT g:a 0", ":1\r\n" },
    { "GETBIT g:a 1", ":0\r\n" },
    { "GETBIT g:a 7", ":0\r\n" },
    { "GETBIT g:a 8", ":0\r\n" },
    { "GETBIT g:a 1000", ":0\r\n" },
    { "SET g:b %01%00%ff", OK },
    { "GETBIT g:b 7", ":1\r\n" },
    { "GETBIT g:b 8", ":0\r\n" },
    { "GETBIT g:b 16", ":1\r\n" },
    { "GETBIT g:b 23", ":1\r\n" },
    { "GETBIT g:b 24", ":0\r\n" },
    { "getbit g:b 7", ":1\r\n" },
    /* offsets: non-negative, strict integers, below 8 * proto-max-bulk-len */
    { "GETBIT g:a -1", BAD_OFFSET },
    { "GETBIT g:a abc", BAD_OFFSET },
    { "GETBIT g:a \"\"", BAD_OFFSET },
    { "GETBIT g:a 1.5", BAD_OFFSET },
    { "GETBIT g:a +1", BAD_OFFSET },
    { "GETBIT g:a 01", BAD_OFFSET },
    { "GETBIT g:a -0", BAD_OFFSET },
    { "GETBIT g:a 4294967296", BAD_OFFSET },
    { "GETBIT g:a 9223372036854775807", BAD_OFFSET },
    { "GETBIT g:a 99999999999999999999", BAD_OFFSET },
    { "GETBIT g:a 0%00", BAD_OFFSET },
    { "GETBIT g:none -1", BAD_OFFSET },
    { "GETBIT g:none 4294967296", BAD_OFFSET },
    { "GETBIT g:a 4294967295", ":0\r\n" },
    { "GETBIT g:none 4294967295", ":0\r\n" },
    { "GETBIT g:a", ARITY("getbit") },
    { "GETBIT g:a 1 2", ARITY("getbit") },
    { "GETBIT", ARITY("getbit") },
    /* the limit follows CONFIG SET proto-max-bulk-len */
    { "CONFIG SET proto-max-bulk-len 1048576", OK },
    { "GETBIT g:a 8388608", BAD_OFFSET },
    { "GETBIT g:a 8388607", ":0\r\n" },
    { "CONFIG SET proto-max-bulk-len 536870912", OK },
    { "GETBIT g:a 8388608", ":0\r\n" },
    { NULL, NULL },
};

static const struct step setbit_steps[] = {
    /* the reply is the old bit */
    { "SETBIT s:a 7 1", ":0\r\n" },
    { "GET s:a", "$1\r\n%01\r\n" },
    { "SETBIT s:a 7 1", ":1\r\n" },
    { "SETBIT s:a 7 0", ":1\r\n" },
    { "SETBIT s:a 7 0", ":0\r\n" },
    { "GET s:a", "$1\r\n%00\r\n" },
    { "STRLEN s:a", ":1\r\n" },
    /* growing pads with zero bytes */
    { "SETBIT s:a 100 1", ":0\r\n" },
    { "STRLEN s:a", ":13\r\n" },
    { "GET s:a", "$13\r\n%00%00%00%00%00%00%00%00%00%00%00%00%08\r\n" },
    { "GETBIT s:a 100", ":1\r\n" },
    { "GETBIT s:a 99", ":0\r\n" },
    { "SETBIT s:a 0 1", ":0\r\n" },
    { "GET s:a", "$13\r\n%80%00%00%00%00%00%00%00%00%00%00%00%08\r\n" },
    { "setbit s:a 0 0", ":1\r\n" },
    /* a missing key is created even when the bit set is 0 */
    { "SETBIT s:z 0 0", ":0\r\n" },
    { "EXISTS s:z", ":1\r\n" },
    { "GET s:z", "$1\r\n%00\r\n" },
    { "SETBIT s:z2 15 0", ":0\r\n" },
    { "GET s:z2", "$2\r\n%00%00\r\n" },
    /* the value is 0 or 1, a strict integer */
    { "SETBIT s:a 0 2", BAD_BIT },
    { "SETBIT s:a 0 -1", BAD_BIT },
    { "SETBIT s:a 0 x", BAD_BIT },
    { "SETBIT s:a 0 \"\"", BAD_BIT },
    { "SETBIT s:a 0 01", BAD_BIT },
    { "SETBIT s:a 0 +1", BAD_BIT },
    { "SETBIT s:a 0 1.0", BAD_BIT },
    { "SETBIT s:a 0 1%00", BAD_BIT },
    /* the offset is checked before the value */
    { "SETBIT s:a -1 1", BAD_OFFSET },
    { "SETBIT s:a -1 2", BAD_OFFSET },
    { "SETBIT s:a abc x", BAD_OFFSET },
    { "SETBIT s:a 4294967296 1", BAD_OFFSET },
    { "SETBIT s:a 4294967296 x", BAD_OFFSET },
    { "GET s:a", "$13\r\n%00%00%00%00%00%00%00%00%00%00%00%00%08\r\n" },
    /* a failed SETBIT creates nothing */
    { "SETBIT s:n 0 x", BAD_BIT },
    { "SETBIT s:n -1 1", BAD_OFFSET },
    { "EXISTS s:n", ":0\r\n" },
    { "SETBIT s:a 0", ARITY("setbit") },
    { "SETBIT s:a 0 1 1", ARITY("setbit") },
    /* the TTL stays */
    { "SET s:t v EX 100", OK },
    { "SETBIT s:t 0 1", ":0\r\n" },
    { "TTL s:t", ":100\r\n" },
    { "GET s:t", "$1\r\n%f6\r\n" },
    { "SETBIT s:t 20 1", ":0\r\n" },
    { "TTL s:t", ":100\r\n" },
    { "GET s:t", "$3\r\n%f6%00%08\r\n" },
    /* the limit follows CONFIG SET proto-max-bulk-len: 1 MB is 8388608 bits */
    { "CONFIG SET proto-max-bulk-len 1048576", OK },
    { "SETBIT s:pm 8388608 1", BAD_OFFSET },
    { "EXISTS s:pm", ":0\r\n" },
    { "SETBIT s:pm 8388607 1", ":0\r\n" },
    { "STRLEN s:pm", ":1048576\r\n" },
    { "GETBIT s:pm 8388607", ":1\r\n" },
    { "GETBIT s:pm 8388606", ":0\r\n" },
    { "CONFIG SET proto-max-bulk-len 536870912", OK },
    { "DEL s:pm", ":1\r\n" },
    { NULL, NULL },
};

static const struct step bitcount_steps[] = {
    { "SET c:k foobar", OK },
    { "BITCOUNT c:k", ":26\r\n" },
    { "BITCOUNT c:k 0 0", ":4\r\n" },
    { "BITCOUNT c:k 1 1", ":6\r\n" },
    { "BITCOUNT c:k 1 1 byte", ":6\r\n" },
    { "BITCOUNT c:k 1 -2", ":18\r\n" },
    { "BITCOUNT c:k -2 -1", ":7\r\n" },
    { "BITCOUNT c:k 0 -1", ":26\r\n" },
    { "BITCOUNT c:k -100 100", ":26\r\n" },
    { "BITCOUNT c:k 100 200", ":0\r\n" },
    /* start after end (also both negative) */
    { "BITCOUNT c:k 3 1", ":0\r\n" },
    { "BITCOUNT c:k -1 -10", ":0\r\n" },
    { "BITCOUNT c:k 9223372036854775807 9223372036854775807", ":0\r\n" },
    { "BITCOUNT c:k -9223372036854775808 -9223372036854775808", ":4\r\n" },
    /* BIT ranges */
    { "BITCOUNT c:k 5 30 BIT", ":17\r\n" },
    { "BITCOUNT c:k 5 30 BYTE", ":4\r\n" },
    { "BITCOUNT c:k 0 -1 bit", ":26\r\n" },
    { "BITCOUNT c:k -5 -1 BIT", ":2\r\n" },
    { "BITCOUNT c:k 0 0 BIT", ":0\r\n" },
    { "BITCOUNT c:k 1 1 BIT", ":1\r\n" },
    { "BITCOUNT c:k 0 9223372036854775807 BIT", ":26\r\n" },
    { "BITCOUNT c:k -9223372036854775808 -1 BIT", ":26\r\n" },
    { "BITCOUNT c:k 0 1 BIT%00", ":1\r\n" },
    /* errors on an existing key */
    { "BITCOUNT c:k 0", SYNTAX },
    { "BITCOUNT c:k 0 1 foo", SYNTAX },
    { "BITCOUNT c:k 0 1 bits", SYNTAX },
    { "BITCOUNT c:k 0 1 BIT x", SYNTAX },
    { "BITCOUNT c:k a 1", NOT_INT },
    { "BITCOUNT c:k 0 b", NOT_INT },
    { "BITCOUNT c:k 0%00 1", NOT_INT },
    { "BITCOUNT c:k 9223372036854775808 1", NOT_INT },
    /* Redis 7.0 answers 0 for a missing key before looking at the range */
    { "BITCOUNT c:none", ":0\r\n" },
    { "BITCOUNT c:none 0", ":0\r\n" },
    { "BITCOUNT c:none 0 1", ":0\r\n" },
    { "BITCOUNT c:none 0 1 BIT", ":0\r\n" },
    { "BITCOUNT c:none 0 1 foo", ":0\r\n" },
    { "BITCOUNT c:none a 1", ":0\r\n" },
    { "BITCOUNT c:none 0 1 BIT x", ":0\r\n" },
    { "EXISTS c:none", ":0\r\n" },
    { "SET c:e \"\"", OK },
    { "BITCOUNT c:e", ":0\r\n" },
    { "BITCOUNT c:e 0 -1", ":0\r\n" },
    { "BITCOUNT c:e 0 -1 BIT", ":0\r\n" },
    { "BITCOUNT", ARITY("bitcount") },
    { NULL, NULL },
};

static const struct step bitpos_steps[] = {
    { "SET p:k %ff%f0%00", OK },
    { "BITPOS p:k 0", ":12\r\n" },
    { "BITPOS p:k 1", ":0\r\n" },
    { "BITPOS p:k 0 1", ":12\r\n" },
    { "BITPOS p:k 0 2", ":16\r\n" },
    { "BITPOS p:k 1 2", ":-1\r\n" },
    { "BITPOS p:k 1 1 1", ":8\r\n" },
    { "BITPOS p:k 0 0 -1", ":12\r\n" },
    { "BITPOS p:k 0 -1", ":16\r\n" },
    { "BITPOS p:k 1 -1", ":-1\r\n" },
    { "BITPOS p:k 0 -100", ":12\r\n" },
    { "BITPOS p:k 1 -100", ":0\r\n" },
    /* start past the end, start after end */
    { "BITPOS p:k 0 3", ":-1\r\n" },
    { "BITPOS p:k 1 3", ":-1\r\n" },
    { "BITPOS p:k 0 100", ":-1\r\n" },
    { "BITPOS p:k 0 2 1", ":-1\r\n" },
    { "BITPOS p:k 1 9223372036854775807", ":-1\r\n" },
    { "BITPOS p:k 0 -9223372036854775808", ":12\r\n" },
    { "BITPOS p:k 0 0 -9223372036854775808", ":-1\r\n" },
    /* BIT and BYTE ranges */
    { "BITPOS p:k 1 7 15 BIT", ":7\r\n" },
    { "BITPOS p:k 0 7 15 BIT", ":12\r\n" },
    { "BITPOS p:k 1 12 -1 BIT", ":-1\r\n" },
    { "BITPOS p:k 0 -3 -1 BIT", ":21\r\n" },
    { "BITPOS p:k 1 -3 -1 BIT", ":-1\r\n" },
    { "BITPOS p:k 0 8 -1 bit", ":12\r\n" },
    { "BITPOS p:k 1 20 30 BIT", ":-1\r\n" },
    { "BITPOS p:k 0 0 9223372036854775807 BIT", ":12\r\n" },
    { "BITPOS p:k 0 0 23 BYTE", ":12\r\n" },
    { "BITPOS p:k 1 0 1 byte", ":0\r\n" },
    /* all ones: looking for 0 without an end answers the bit just past the
     * string; with an explicit end it answers -1 */
    { "SET p:ones %ff%ff%ff", OK },
    { "BITPOS p:ones 0", ":24\r\n" },
    { "BITPOS p:ones 0 1", ":24\r\n" },
    { "BITPOS p:ones 0 -1", ":24\r\n" },
    { "BITPOS p:ones 0 0 -1", ":-1\r\n" },
    { "BITPOS p:ones 0 1 1", ":-1\r\n" },
    { "BITPOS p:ones 0 0 -1 BIT", ":-1\r\n" },
    { "BITPOS p:ones 0 0 23 BIT", ":-1\r\n" },
    { "BITPOS p:ones 1", ":0\r\n" },
    { "BITPOS p:ones 1 2", ":16\r\n" },
    { "BITPOS p:ones 1 20 30 BIT", ":20\r\n" },
    { "BITPOS p:ones 1 -3 -1 BIT", ":21\r\n" },
    { "SET p:zeros %00%00%00", OK },
    { "BITPOS p:zeros 0", ":0\r\n" },
    { "BITPOS p:zeros 1", ":-1\r\n" },
    { "BITPOS p:zeros 0 1", ":8\r\n" },
    { "BITPOS p:zeros 0 -1", ":16\r\n" },
    { "BITPOS p:zeros 0 7 15 BIT", ":7\r\n" },
    { "BITPOS p:zeros 1 0 -1 BIT", ":-1\r\n" },
    { "SET p:m %00%ff%f0", OK },
    { "BITPOS p:m 1", ":8\r\n" },
    { "BITPOS p:m 0 1", ":20\r\n" },
    { "BITPOS p:m 1 12 -1 BIT", ":12\r\n" },
    { "BITPOS p:m 0 8 -1 BIT", ":20\r\n" },
    /* the empty string has neither a 0 nor a 1 */
    { "SET p:e \"\"", OK },
    { "BITPOS p:e 0", ":-1\r\n" },
    { "BITPOS p:e 1", ":-1\r\n" },
    { "BITPOS p:e 0 0 -1", ":-1\r\n" },
    { "BITPOS p:e 0 0 -1 BIT", ":-1\r\n" },
    /* a missing key is all zeros: 0 for bit 0, -1 for bit 1, whatever the
     * range (which Redis 7.0 does not even parse) */
    { "BITPOS p:none 0", ":0\r\n" },
    { "BITPOS p:none 1", ":-1\r\n" },
    { "BITPOS p:none 0 100", ":0\r\n" },
    { "BITPOS p:none 1 0 -1", ":-1\r\n" },
    { "BITPOS p:none 0 7 15 BIT", ":0\r\n" },
    { "BITPOS p:none 0 x", ":0\r\n" },
    { "BITPOS p:none 0 0 1 foo", ":0\r\n" },
    { "EXISTS p:none", ":0\r\n" },
    /* errors: the bit first (even for a missing key), then the range */
    { "BITPOS p:k 2", BITPOS_BIT },
    { "BITPOS p:k -1", BITPOS_BIT },
    { "BITPOS p:k 2 x", BITPOS_BIT },
    { "BITPOS p:k 2 0 1 foo", BITPOS_BIT },
    { "BITPOS p:none 2", BITPOS_BIT },
    { "BITPOS p:k x", NOT_INT },
    { "BITPOS p:k 01", NOT_INT },
    { "BITPOS p:k \"\"", NOT_INT },
    { "BITPOS p:k 1%00", NOT_INT },
    { "BITPOS p:k x 0 1 foo", NOT_INT },
    { "BITPOS p:none x", NOT_INT },
    { "BITPOS p:k 0 x", NOT_INT },
    { "BITPOS p:k 0 0 x", NOT_INT },
    { "BITPOS p:k 0 x 1 foo", NOT_INT },
    { "BITPOS p:k 0 9223372036854775808", NOT_INT },
    { "BITPOS p:k 0 0 1 foo", SYNTAX },
    { "BITPOS p:k 0 0 1 BIT x", SYNTAX },
    { "BITPOS p:k", ARITY("bitpos") },
    { "BITPOS", ARITY("bitpos") },
    { NULL, NULL },
};

static const struct step bitop_steps[] = {
    { "SET o:a %ff%0f", OK },
    { "SET o:b %0f", OK },
    { "SET o:c %01%02%03%04", OK },
    /* the result has the longest source's length, shorter ones read as 0 */
    { "BITOP AND o:d o:a o:b", ":2\r\n" },
    { "GET o:d", "$2\r\n%0f%00\r\n" },
    { "BITOP OR o:d o:a o:b", ":2\r\n" },
    { "GET o:d", "$2\r\n%ff%0f\r\n" },
    { "BITOP XOR o:d o:a o:b", ":2\r\n" },
    { "GET o:d", "$2\r\n%f0%0f\r\n" },
    { "BITOP XOR o:d o:a o:b o:c", ":4\r\n" },
    { "GET o:d", "$4\r\n%f1%0d%03%04\r\n" },
    { "BITOP NOT o:d o:a", ":2\r\n" },
    { "GET o:d", "$2\r\n%00%f0\r\n" },
    { "bitop not o:d o:b", ":1\r\n" },
    { "GET o:d", "$1\r\n%f0\r\n" },
    { "BITOP and o:d o:a", ":2\r\n" },
    { "GET o:d", "$2\r\n%ff%0f\r\n" },
    { "BITOP AND%00 o:d o:b", ":1\r\n" },
    { "GET o:d", "$1\r\n%0f\r\n" },
    { "BITOP AND o:d o:a o:a o:a o:a o:a o:a o:a o:a o:a", ":2\r\n" },
    { "GET o:d", "$2\r\n%ff%0f\r\n" },
    /* a missing source is an empty string */
    { "BITOP AND o:d o:a o:none", ":2\r\n" },
    { "GET o:d", "$2\r\n%00%00\r\n" },
    { "BITOP OR o:d o:a o:none", ":2\r\n" },
    { "GET o:d", "$2\r\n%ff%0f\r\n" },
    { "BITOP XOR o:d o:none o:b", ":1\r\n" },
    { "GET o:d", "$1\r\n%0f\r\n" },
    /* an empty result deletes the destination and answers 0 */
    { "BITOP NOT o:d o:none", ":0\r\n" },
    { "EXISTS o:d", ":0\r\n" },
    { "SET o:d x", OK },
    { "BITOP AND o:d o:none o:none2", ":0\r\n" },
    { "EXISTS o:d", ":0\r\n" },
    { "SET o:d x", OK },
    { "BITOP OR o:d o:none", ":0\r\n" },
    { "EXISTS o:d", ":0\r\n" },
    { "SET o:e \"\"", OK },
    { "SET o:d x", OK },
    { "BITOP OR o:d o:e", ":0\r\n" },
    { "EXISTS o:d", ":0\r\n" },
    { "BITOP NOT o:d o:e", ":0\r\n" },
    { "EXISTS o:d", ":0\r\n" },
    { "BITOP AND o:d o:e o:a", ":2\r\n" },
    { "GET o:d", "$2\r\n%00%00\r\n" },
    /* the destination's old TTL goes */
    { "SET o:t v EX 100", OK },
    { "BITOP OR o:t o:a", ":2\r\n" },
    { "TTL o:t", ":-1\r\n" },
    { "GET o:t", "$2\r\n%ff%0f\r\n" },
    { "SET o:t v EX 100", OK },
    { "BITOP OR o:t o:none", ":0\r\n" },
    { "TTL o:t", ":-2\r\n" },
    { "SET o:t2 %0f EX 100", OK },
    { "BITOP NOT o:t2 o:t2", ":1\r\n" },
    { "TTL o:t2", ":-1\r\n" },
    { "GET o:t2", "$1\r\n%f0\r\n" },
    /* errors */
    { "BITOP NOT o:d o:a o:b", NOT_ONE_KEY },
    { "BITOP NOT o:d o:a o:b o:c", NOT_ONE_KEY },
    { "BITOP FOO o:d o:a", SYNTAX },
    { "BITOP NAND o:d o:a", SYNTAX },
    { "BITOP NOT o:d", ARITY("bitop") },
    { "BITOP FOO o:d", ARITY("bitop") },
    { "BITOP AND o:d", ARITY("bitop") },
    { "BITOP AND", ARITY("bitop") },
    { "BITOP", ARITY("bitop") },
    { "GET o:d", "$2\r\n%00%00\r\n" },
    /* the destination may be a source */
    { "BITOP AND o:a o:a o:b", ":2\r\n" },
    { "GET o:a", "$2\r\n%0f%00\r\n" },
    { NULL, NULL },
};

/* Binary keys and values: NUL, 0xff, CR LF inside keys, values and
 * replies; option words compare as C strings (up to a NUL), numbers do
 * not. */
static const struct step binary_steps[] = {
    { "SET b:%00k%0d%0aey %00%ff%0d%0a", OK },
    { "BITCOUNT b:%00k%0d%0aey", ":13\r\n" },
    { "GETBIT b:%00k%0d%0aey 7", ":0\r\n" },
    { "GETBIT b:%00k%0d%0aey 8", ":1\r\n" },
    { "GETBIT b:%00k%0d%0aey 20", ":1\r\n" },
    { "BITPOS b:%00k%0d%0aey 1", ":8\r\n" },
    { "BITPOS b:%00k%0d%0aey 0 1", ":16\r\n" },
    { "SETBIT b:%00k%0d%0aey 7 1", ":0\r\n" },
    { "SETBIT b:%00k%0d%0aey 39 1", ":0\r\n" },
    { "GET b:%00k%0d%0aey", "$5\r\n%01%ff%0d%0a%01\r\n" },
    { "BITCOUNT b:", ":0\r\n" },
    { "GETBIT b: 0", ":0\r\n" },
    { "BITOP NOT b:%0d%0a b:%00k%0d%0aey", ":5\r\n" },
    { "GET b:%0d%0a", "$5\r\n%fe%00%f2%f5%fe\r\n" },
    { "BITOP AND b:%00 b:%00k%0d%0aey b:%0d%0a", ":5\r\n" },
    { "GET b:%00", "$5\r\n%00%00%00%00%00\r\n" },
    { "BITOP XOR b:%00 b:%00k%0d%0aey b:%0d%0a", ":5\r\n" },
    { "GET b:%00", "$5\r\n%ff%ff%ff%ff%ff\r\n" },
    { "BITCOUNT b:%00 0 1 BIT%00", ":2\r\n" },
    { "BITCOUNT b:%00 0 1 BYTE%00junk", ":16\r\n" },
    { "BITCOUNT b:%00 0%00 1", NOT_INT },
    { "SETBIT b:n 0 1%00", BAD_BIT },
    { "GETBIT b:n 0%00", BAD_OFFSET },
    { "BITPOS b:%00 1%00", NOT_INT },
    { "EXISTS b:n", ":0\r\n" },
    /* the empty key */
    { "SETBIT \"\" 3 1", ":0\r\n" },
    { "GET \"\"", "$1\r\n%10\r\n" },
    { "BITCOUNT \"\"", ":1\r\n" },
    { "DEL \"\"", ":1\r\n" },
    { NULL, NULL },
};

/* Which writes touch a WATCHed key: client A WATCHes w:k, client B runs a
 * command, A's MULTI/SET/EXEC succeeds (*1 +OK) or is aborted (*-1).
 * Redis 7.0 signals only a real change: a SETBIT that leaves the bit as it
 * was does not abort; creating or growing the string does. BITOP always
 * writes the destination (or deletes it). */
struct watch_case {
    const char *setup;              /* on A before WATCH */
    const char *cmd;                /* on B */
    const char *reply;              /* B's reply */
    const char *exec;               /* A's EXEC */
    const char *after;              /* GET w:k afterwards */
};

#define EXEC_OK "*1\r\n+OK\r\n"
#define EXEC_ABORT "*-1\r\n"

static const struct watch_case watch_cases[] = {
    { "SET w:k %80", "SETBIT w:k 0 1", ":1\r\n", EXEC_OK, "$1\r\n%80\r\n" },
    { "SET w:k %80", "SETBIT w:k 7 0", ":0\r\n", EXEC_OK, "$1\r\n%80\r\n" },
    { "SET w:k %80", "SETBIT w:k 0 0", ":1\r\n", EXEC_ABORT, "$1\r\n%00\r\n" },
    { "SET w:k %80", "SETBIT w:k 1 1", ":0\r\n", EXEC_ABORT, "$1\r\n%c0\r\n" },
    { "SET w:k %80", "SETBIT w:k 8 0", ":0\r\n", EXEC_ABORT, "$2\r\n%80%00\r\n" },
    { "DEL w:k", "SETBIT w:k 0 0", ":0\r\n", EXEC_ABORT, "$1\r\n%00\r\n" },
    { "SET w:k %80", "SETBIT w:k 0 x", BAD_BIT, EXEC_OK, "$1\r\n%80\r\n" },
    { "DEL w:k", "GETBIT w:k 0", ":0\r\n", EXEC_OK, NIL },
    { "SET w:k ab", "BITCOUNT w:k", ":6\r\n", EXEC_OK, "$2\r\nab\r\n" },
    { "SET w:k ab", "BITOP OR w:k w:k", ":2\r\n", EXEC_ABORT, "$2\r\nab\r\n" },
    { "DEL w:k", "BITOP OR w:k w:none", ":0\r\n", EXEC_OK, NIL },
    { "SET w:k ab", "BITOP OR w:k w:none", ":0\r\n", EXEC_ABORT, NIL },
    { NULL, NULL, NULL, NULL, NULL },
};

static void run_watch_cases(int port, const char *section, const struct watch_case *cases)
{
    struct conn *a = conn_tcp(port), *b = conn_tcp(port);
    if (!tap_ok(a && b, "%s: two connections", section)) {
        conn_close(a);
        conn_close(b);
        return;
    }
    for (const struct watch_case *w = cases; w->setup; w++) {
        zfree(conn_call_line(a, w->setup, CALL_PCT, NULL));     /* SET or DEL: either reply */
        int ok = line_reply_is(a, "WATCH w:k", OK);
        ok &= line_reply_is(b, w->cmd, w->reply);
        ok &= line_reply_is(a, "MULTI", OK);
        ok &= line_reply_is(a, "SET w:x 1", "+QUEUED\r\n");
        ok &= line_reply_is(a, "EXEC", w->exec);
        ok &= line_reply_is(a, "GET w:k", w->after);
        tap_ok(ok, "%s: after %s, B's %s %s the WATCH", section, w->setup, w->cmd,
               strcmp(w->exec, EXEC_OK) == 0 ? "keeps" : "aborts");
    }
    conn_close(a);
    conn_close(b);
}

/* The bytes of the 8 KB value: byte i is i mod 256 (every byte value,
 * NUL, CR, LF and 0xff included). */
#define SEP_LEN 8192
#define SEP_GROWN 12501             /* after SETBIT 100000 */

static long long vlog_written(void)
{
    return srv_is_redis() ? -1 : conn_info_ll(C, "lsm", "vlog_bytes_written");
}

static int get_is(const char *key, const unsigned char *p, size_t n)
{
    const char *argv[] = { "GET", key };
    size_t lens[] = { 3, strlen(key) };
    size_t rlen = 0;
    char *r = conn_call_argv(C, 2, argv, lens, &rlen, 10000);
    return bulk_is(r, rlen, p, n);
}

/* Replies verified against redis-server 7.0.15 for the value above. */
static const struct step sep_steps[] = {
    { "BITCOUNT v:big", ":32768\r\n" },
    { "GETBIT v:big 32783", ":1\r\n" },
    { "GETBIT v:big 32782", ":0\r\n" },
    { "GETBIT v:big 65535", ":1\r\n" },
    { "GETBIT v:big 65536", ":0\r\n" },
    { "BITCOUNT v:big 4096 4351", ":1024\r\n" },
    { "BITCOUNT v:big -256 -1", ":1024\r\n" },
    { "BITCOUNT v:big 32768 32775 BIT", ":0\r\n" },
    { "BITCOUNT v:big 65528 65535 BIT", ":8\r\n" },
    { "BITPOS v:big 1", ":15\r\n" },
    { "BITPOS v:big 0", ":0\r\n" },
    { "BITPOS v:big 1 8000", ":64001\r\n" },
    { "BITPOS v:big 0 255", ":2048\r\n" },
    { "BITPOS v:big 0 -1", ":65536\r\n" },
    { "BITPOS v:big 1 -1 -1", ":65528\r\n" },
    /* inside, then far past the end */
    { "SETBIT v:big 40001 1", ":0\r\n" },
    { "SETBIT v:big 40001 1", ":1\r\n" },
    { "SETBIT v:big 100000 1", ":0\r\n" },
    { "STRLEN v:big", ":12501\r\n" },
    { "GETBIT v:big 100000", ":1\r\n" },
    { "GETBIT v:big 99999", ":0\r\n" },
    { "GETBIT v:big 40001", ":1\r\n" },
    { "BITCOUNT v:big", ":32770\r\n" },
    { "BITPOS v:big 1 8192", ":100000\r\n" },
    { "BITCOUNT v:big 8192 -1", ":1\r\n" },
    { NULL, NULL },
};

static const struct step sep_bitop_steps[] = {
    { "BITOP NOT v:not v:big", ":12501\r\n" },
    { "BITCOUNT v:not", ":67238\r\n" },
    { "BITOP AND v:and v:big v:not", ":12501\r\n" },
    { "BITCOUNT v:and", ":0\r\n" },
    { "BITPOS v:and 1", ":-1\r\n" },
    { "BITOP OR v:or v:big v:not", ":12501\r\n" },
    { "BITCOUNT v:or", ":100008\r\n" },
    { "BITPOS v:or 0", ":100008\r\n" },
    { "BITPOS v:or 0 0 -1", ":-1\r\n" },
    { "SET v:small %ff%00%0d%0a", OK },
    { "BITOP XOR v:xor v:big v:small", ":12501\r\n" },
    { "GETRANGE v:xor 0 7", "$8\r\n%ff%01%0f%09%04%05%06%07\r\n" },
    { "BITCOUNT v:xor", ":32781\r\n" },
    { "BITOP XOR v:small v:small v:big", ":12501\r\n" },
    { "BITCOUNT v:small", ":32781\r\n" },
    { NULL, NULL },
};

/* An 8 KB value, above the value-separation threshold: lsmdb keeps it in
 * the value log; the bit commands read and rewrite it there. */
static void test_separated(void)
{
    unsigned char *m = zcalloc(SEP_GROWN);
    for (size_t i = 0; i < SEP_LEN; i++)
        m[i] = (unsigned char)(i & 255);
    long long w0 = vlog_written();
    const char *set[] = { "SET", "v:big", (const char *)m };
    size_t setl[] = { 3, 5, SEP_LEN };
    size_t rlen = 0;
    char *r = conn_call_argv(C, 3, set, setl, &rlen, 10000);
    tap_ok(bytes_are(r, rlen, OK, strlen(OK)), "separated: SET an 8 KB value");
    long long w1 = vlog_written();
    if (w0 >= 0)
        tap_ok(w1 > w0, "separated: the value went to the value log (%lld -> %lld bytes)", w0, w1);
    run_steps("separated", sep_steps);
    m[40001 / 8] |= (unsigned char)(0x80 >> (40001 % 8));
    m[100000 / 8] |= (unsigned char)(0x80 >> (100000 % 8));
    tap_ok(get_is("v:big", m, SEP_GROWN), "separated: GET after SETBIT is the value, grown with zeros");
    long long w2 = vlog_written();
    if (w0 >= 0)
        tap_ok(w2 > w1, "separated: the grown value was rewritten to the value log");
    run_steps("separated bitop", sep_bitop_steps);
    unsigned char *x = zmalloc(SEP_GROWN);
    for (size_t i = 0; i < SEP_GROWN; i++)
        x[i] = (unsigned char)~m[i];
    tap_ok(get_is("v:not", x, SEP_GROWN), "separated: GET of BITOP NOT is every byte inverted");
    memcpy(x, m, SEP_GROWN);
    x[0] ^= 0xff;
    x[2] ^= 0x0d;
    x[3] ^= 0x0a;
    tap_ok(get_is("v:xor", x, SEP_GROWN), "separated: GET of BITOP XOR with a 4-byte value");
    tap_ok(get_is("v:small", x, SEP_GROWN), "separated: BITOP XOR into one of its sources");
    if (w0 >= 0)
        tap_ok(vlog_written() > w2, "separated: the BITOP results went to the value log");
    zfree(x);
    zfree(m);
}

/* ---------------------------------------------------------------------
 * BITFIELD and BITFIELD_RO. Kept apart: until the server implements them
 * these fail with "unknown command"; the expectations are Redis 7.0.15's.
 * --------------------------------------------------------------------- */

static const struct step bitfield_steps[] = {
    /* GET on a missing key reads zeros and creates nothing */
    { "BITFIELD f:none GET u8 0", "*1\r\n:0\r\n" },
    { "BITFIELD f:none GET u8 0 GET i16 #3", "*2\r\n:0\r\n:0\r\n" },
    { "BITFIELD f:none", "*0\r\n" },
    { "EXISTS f:none", ":0\r\n" },
    /* SET answers the old value; GET reads i (two's complement) and u */
    { "BITFIELD f:k SET u8 0 255 GET u8 0 GET i8 0", "*3\r\n:0\r\n:255\r\n:-1\r\n" },
    { "GET f:k", "$1\r\n%ff\r\n" },
    { "BITFIELD f:k SET i8 #1 -2 GET u8 #1 GET i4 8 GET u4 12", "*4\r\n:0\r\n:254\r\n:-1\r\n:14\r\n" },
    { "GET f:k", "$2\r\n%ff%fe\r\n" },
    { "BITFIELD f:h SET i16 #2 -1 GET u8 #4 GET u8 #5 GET u16 #2", "*4\r\n:0\r\n:255\r\n:255\r\n:65535\r\n" },
    { "GET f:h", "$6\r\n%00%00%00%00%ff%ff\r\n" },
    { "BITFIELD f:h SET i5 3 100 GET i5 3 GET u5 3", "*3\r\n:0\r\n:4\r\n:4\r\n" },
    { "BITFIELD f:h SET u1 0 1 GET i1 0", "*2\r\n:0\r\n:-1\r\n" },
    /* INCRBY grows the string; u2 wraps by default */
    { "BITFIELD f:k INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1",
      "*4\r\n:1\r\n:2\r\n:3\r\n:0\r\n" },
    { "STRLEN f:k", ":13\r\n" },
    /* OVERFLOW WRAP (default), SAT, FAIL (a nil, nothing written) */
    { "BITFIELD f:s SET u8 0 5 INCRBY u8 0 -10 GET u8 0", "*3\r\n:0\r\n:251\r\n:251\r\n" },
    { "BITFIELD f:s SET u8 0 5 OVERFLOW SAT INCRBY u8 0 -10 GET u8 0", "*3\r\n:251\r\n:0\r\n:0\r\n" },
    { "BITFIELD f:s SET u8 0 5 OVERFLOW FAIL INCRBY u8 0 -10 GET u8 0", "*3\r\n:0\r\n$-1\r\n:5\r\n" },
    { "BITFIELD f:s SET u8 0 5 OVERFLOW WRAP SET u8 0 -1 GET u8 0", "*3\r\n:5\r\n:5\r\n:255\r\n" },
    /* SAT of a SET: u8 takes -1 as a huge positive value (255), 300 is 255 */
    { "BITFIELD f:s SET u8 0 5 OVERFLOW SAT SET u8 0 -1 GET u8 0", "*3\r\n:255\r\n:5\r\n:255\r\n" },
    { "BITFIELD f:s SET u8 0 5 OVERFLOW SAT SET u8 0 300 GET u8 0", "*3\r\n:255\r\n:5\r\n:255\r\n" },
    { "BITFIELD f:s SET u8 0 5 OVERFLOW FAIL SET u8 0 256 GET u8 0", "*3\r\n:255\r\n$-1\r\n:5\r\n" },
    { "BITFIELD f:s OVERFLOW SAT SET i8 0 -200 GET i8 0", "*2\r\n:5\r\n:-128\r\n" },
    { "BITFIELD f:s OVERFLOW SAT SET i8 0 200 GET i8 0", "*2\r\n:-128\r\n:127\r\n" },
    { "BITFIELD f:s OVERFLOW WRAP SET i8 0 200 GET i8 0", "*2\r\n:127\r\n:-56\r\n" },
    { "BITFIELD f:s OVERFLOW FAIL SET i8 0 200 GET i8 0", "*2\r\n$-1\r\n:-56\r\n" },
    { "BITFIELD f:s OVERFLOW SAT INCRBY i8 0 -1000 INCRBY i8 0 1000", "*2\r\n:-128\r\n:127\r\n" },
    /* OVERFLOW applies to the INCRBY/SET after it, until the next one */
    { "BITFIELD f:s SET u8 0 100 OVERFLOW SAT INCRBY u8 0 200 OVERFLOW WRAP INCRBY u8 0 10 "
      "OVERFLOW FAIL INCRBY u8 0 250 GET u8 0",
      "*5\r\n:127\r\n:255\r\n:9\r\n$-1\r\n:9\r\n" },
    { "BITFIELD f:s SET i8 0 5 OVERFLOW SAT INCRBY i8 0 9223372036854775807 "
      "INCRBY i8 0 -9223372036854775808",
      "*3\r\n:9\r\n:127\r\n:-128\r\n" },
    { "BITFIELD f:s SET i8 0 -128 OVERFLOW WRAP INCRBY i8 0 -1 INCRBY i8 0 9223372036854775807",
      "*3\r\n:-128\r\n:127\r\n:126\r\n" },
    { "BITFIELD f:s SET i1 0 0 INCRBY i1 0 1 INCRBY i1 0 1", "*3\r\n:0\r\n:-1\r\n:0\r\n" },
    { "BITFIELD f:s OVERFLOW SAT INCRBY i1 0 1", "*1\r\n:0\r\n" },
    /* 64-bit: i64 and u63 */
    { "BITFIELD f:w SET i64 0 -1 GET i64 0 GET u63 0 GET u63 1",
      "*4\r\n:0\r\n:-1\r\n:9223372036854775807\r\n:9223372036854775807\r\n" },
    { "BITFIELD f:w SET u63 0 9223372036854775807 INCRBY u63 0 1", "*2\r\n:9223372036854775807\r\n:0\r\n" },
    { "BITFIELD f:w OVERFLOW SAT SET i64 0 9223372036854775807 INCRBY i64 0 1",
      "*2\r\n:1\r\n:9223372036854775807\r\n" },
    { "BITFIELD f:w OVERFLOW WRAP INCRBY i64 0 1", "*1\r\n:-9223372036854775808\r\n" },
    { "BITFIELD f:w OVERFLOW FAIL INCRBY i64 0 -1", "*1\r\n$-1\r\n" },
    { "BITFIELD f:w OVERFLOW FAIL INCRBY i64 0 9223372036854775807", "*1\r\n:-1\r\n" },
    /* subcommands and OVERFLOW words are case-insensitive */
    { "BITFIELD f:s get u8 0 overflow sat incrby u8 0 1", "*2\r\n:126\r\n:127\r\n" },
    /* the TTL stays */
    { "SET f:t v EX 100", OK },
    { "BITFIELD f:t SET u8 8 1", "*1\r\n:0\r\n" },
    { "TTL f:t", ":100\r\n" },
    { "GET f:t", "$2\r\nv%01\r\n" },
    /* bad types */
    { "BITFIELD f:k GET u64 0", BAD_TYPE },
    { "BITFIELD f:k GET i65 0", BAD_TYPE },
    { "BITFIELD f:k GET x8 0", BAD_TYPE },
    { "BITFIELD f:k GET u0 0", BAD_TYPE },
    { "BITFIELD f:k GET i0 0", BAD_TYPE },
    { "BITFIELD f:k GET u 0", BAD_TYPE },
    { "BITFIELD f:k GET U8 0", BAD_TYPE },
    { "BITFIELD f:k GET u08 0", BAD_TYPE },
    { "BITFIELD f:k GET u8%20 0", BAD_TYPE },
    { "BITFIELD f:k GET u8%00junk 0", "*1\r\n:255\r\n" },
    /* offsets: plain bits or #N (N times the width); the same limit as
     * GETBIT */
    { "BITFIELD f:k GET u8 -1", BAD_OFFSET },
    { "BITFIELD f:k GET u8 #-1", BAD_OFFSET },
    { "BITFIELD f:k GET u8 x", BAD_OFFSET },
    { "BITFIELD f:k GET u8 +1", BAD_OFFSET },
    { "BITFIELD f:k GET u8 #", BAD_OFFSET },
    { "BITFIELD f:k GET u8 #x", BAD_OFFSET },
    { "BITFIELD f:k GET u8 4294967296", BAD_OFFSET },
    { "BITFIELD f:k GET u8 #536870912", BAD_OFFSET },
    { "BITFIELD f:k GET u8 4294967295", "*1\r\n:0\r\n" },
    { "BITFIELD f:k GET u8 #536870911", "*1\r\n:0\r\n" },
    { "CONFIG SET proto-max-bulk-len 1048576", OK },
    { "BITFIELD f:k GET u8 8388608", BAD_OFFSET },
    { "BITFIELD f:pm GET u8 0 SET u8 8388608 1", BAD_OFFSET },
    { "EXISTS f:pm", ":0\r\n" },
    { "BITFIELD f:k GET u8 8388607", "*1\r\n:0\r\n" },
    { "CONFIG SET proto-max-bulk-len 536870912", OK },
    /* other errors; the whole command is checked before anything runs */
    { "BITFIELD f:k GET u8", SYNTAX },
    { "BITFIELD f:k SET u8 0", SYNTAX },
    { "BITFIELD f:k SET u8 0 x", NOT_INT },
    { "BITFIELD f:k INCRBY u8 0 x", NOT_INT },
    { "BITFIELD f:k SET u8 0 9223372036854775808", NOT_INT },
    { "BITFIELD f:k OVERFLOW FOO GET u8 0", BAD_OVERFLOW },
    { "BITFIELD f:k OVERFLOW", SYNTAX },
    { "BITFIELD f:k FOO", SYNTAX },
    { "BITFIELD f:k GET u8 0 FOO", SYNTAX },
    { "BITFIELD f:k SET u8 0 1 GET u64 0", BAD_TYPE },
    { "BITFIELD f:k GET u8 0", "*1\r\n:255\r\n" },
    { "BITFIELD", ARITY("bitfield") },
    /* BITFIELD_RO: GET only */
    { "BITFIELD_RO f:k GET u8 0 GET i8 #1", "*2\r\n:255\r\n:-2\r\n" },
    { "BITFIELD_RO f:k SET u8 0 1", RO_GET_ONLY },
    { "BITFIELD_RO f:k INCRBY u8 0 1", RO_GET_ONLY },
    { "BITFIELD_RO f:k OVERFLOW SAT GET u8 0", "*1\r\n:255\r\n" },
    { "BITFIELD_RO f:k", "*0\r\n" },
    { "BITFIELD_RO f:none GET u8 0", "*1\r\n:0\r\n" },
    { "BITFIELD_RO f:k GET u64 0", BAD_TYPE },
    { "BITFIELD_RO f:k FOO", SYNTAX },
    { "BITFIELD_RO", ARITY("bitfield_ro") },
    { "GET f:k", "$13\r\n%ff%fe%00%00%00%00%00%00%00%00%00%00%00\r\n" },
    /* Redis 7.0: a write that FAILs on a missing key still creates it,
     * zero-filled up to the field */
    { "BITFIELD f:x OVERFLOW FAIL SET u8 0 300", "*1\r\n$-1\r\n" },
    { "GET f:x", "$1\r\n%00\r\n" },
    { "BITFIELD f:y OVERFLOW FAIL INCRBY u8 8 300", "*1\r\n$-1\r\n" },
    { "GET f:y", "$2\r\n%00%00\r\n" },
    /* Redis 7.0 saturates a SET far below a wide signed field's minimum
     * to the field's maximum (its 64-bit wraparound), not its minimum */
    { "BITFIELD f:sat OVERFLOW SAT SET i63 0 -9223372036854775808 GET i63 0",
      "*2\r\n:0\r\n:4611686018427387903\r\n" },
    { "BITFIELD f:sat OVERFLOW SAT SET i62 0 -2305843009213693953 GET i62 0",
      "*2\r\n:2305843009213693951\r\n:-2305843009213693952\r\n" },
    { NULL, NULL },
};

static const struct watch_case bitfield_watch_cases[] = {
    { "SET w:k ab", "BITFIELD w:k SET u8 0 97", "*1\r\n:97\r\n", EXEC_OK, "$2\r\nab\r\n" },
    { "SET w:k ab", "BITFIELD w:k SET u8 0 98", "*1\r\n:97\r\n", EXEC_ABORT, "$2\r\nbb\r\n" },
    { "SET w:k ab", "BITFIELD w:k INCRBY u8 0 0", "*1\r\n:97\r\n", EXEC_OK, "$2\r\nab\r\n" },
    { "SET w:k ab", "BITFIELD w:k SET u8 16 0", "*1\r\n:0\r\n", EXEC_ABORT, "$3\r\nab%00\r\n" },
    { "SET w:k %ff", "BITFIELD w:k OVERFLOW FAIL INCRBY u8 0 1", "*1\r\n$-1\r\n", EXEC_OK, "$1\r\n%ff\r\n" },
    { "SET w:k %ff", "BITFIELD w:k OVERFLOW SAT INCRBY u8 0 1", "*1\r\n:255\r\n", EXEC_OK, "$1\r\n%ff\r\n" },
    { "DEL w:k", "BITFIELD w:k GET u8 0", "*1\r\n:0\r\n", EXEC_OK, NIL },
    { "SET w:k ab", "BITFIELD_RO w:k GET u8 0", "*1\r\n:97\r\n", EXEC_OK, "$2\r\nab\r\n" },
    /* Redis 7.0 creates (or grows) the key for a BITFIELD write that
     * OVERFLOW FAIL then refuses, without aborting a WATCH of it; a field
     * written into a created or grown key does abort it, even when it
     * writes the zeros already there */
    { "DEL w:k", "BITFIELD w:k OVERFLOW FAIL INCRBY u8 0 300", "*1\r\n$-1\r\n", EXEC_OK,
      "$1\r\n%00\r\n" },
    { "SET w:k ab", "BITFIELD w:k OVERFLOW FAIL INCRBY u8 16 300", "*1\r\n$-1\r\n", EXEC_OK,
      "$3\r\nab%00\r\n" },
    { "DEL w:k", "BITFIELD w:k SET u8 8 0", "*1\r\n:0\r\n", EXEC_ABORT, "$2\r\n%00%00\r\n" },
    { "DEL w:k", "BITFIELD w:k SET u7 71 256", "*1\r\n:0\r\n", EXEC_ABORT,
      "$10\r\n%00%00%00%00%00%00%00%00%00%00\r\n" },
    { "DEL w:k", "BITFIELD w:k SET u8 8 1", "*1\r\n:0\r\n", EXEC_ABORT, "$2\r\n%00%01\r\n" },
    { NULL, NULL, NULL, NULL, NULL },
};

/* The separated value of test_separated, through BITFIELD. */
static const struct step bitfield_sep_steps[] = {
    { "BITFIELD v:big GET u8 #4097 SET u16 #5000 65535 GET i8 #12500", "*3\r\n:1\r\n:0\r\n:-128\r\n" },
    { "BITCOUNT v:big", ":32786\r\n" },
    { "BITFIELD_RO v:big GET u16 #5000 GET u8 #8191", "*2\r\n:65535\r\n:255\r\n" },
    { "STRLEN v:big", ":12501\r\n" },
    { NULL, NULL },
};

/* Which access a proxy or cluster client is told BITFIELD makes: a read
 * while every subcommand is a complete GET or OVERFLOW. */
static const struct step bitfield_keys_steps[] = {
    { "COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0 OVERFLOW SAT",
      "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n" },
    { "COMMAND GETKEYSANDFLAGS BITFIELD k get u8 0 incrby i5 3 1",
      "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n" },
    { "COMMAND GETKEYSANDFLAGS BITFIELD k GET u8",
      "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n" },
    { NULL, NULL },
};

static const struct step bitfield_resp3_steps[] = {
    { "SET r3:k %ff", OK },
    { "BITFIELD r3:k OVERFLOW FAIL INCRBY u8 0 1 GET u8 0", "*2\r\n_\r\n:255\r\n" },
    { "BITFIELD r3:none GET u8 0", "*1\r\n:0\r\n" },
    { NULL, NULL },
};

/* Under RESP3 the bitmap replies are the same integers; a FAILed BITFIELD
 * field is "_". */
static void test_bitfield_resp3(int port)
{
    struct conn *saved = C;
    C = conn_tcp(port);
    size_t rlen = 0;
    char *r = conn_call_line(C, "HELLO 3", CALL_PCT, &rlen);
    if (tap_ok(r && r[0] == '%', "resp3: HELLO 3")) {
        tap_ok(line_reply_is(C, "BITPOS r3:none 1", ":-1\r\n"), "resp3: BITPOS r3:none 1");
        tap_ok(line_reply_is(C, "GETBIT r3:none 0", ":0\r\n"), "resp3: GETBIT r3:none 0");
        run_steps("resp3", bitfield_resp3_steps);
    }
    zfree(r);
    conn_close(C);
    C = saved;
}

static void test_bitfield(int port)
{
    run_steps("bitfield", bitfield_steps);
    run_watch_cases(port, "bitfield watch", bitfield_watch_cases);
    run_steps("bitfield separated", bitfield_sep_steps);
    run_steps("bitfield keys", bitfield_keys_steps);
    test_bitfield_resp3(port);
}

int main(void)
{
    harness_init(120);
    /* lsmdb: a threshold well below the 8 KB value, so that it and the
     * BITOP results over it live in the value log */
    static const char *const lsm_args[] = { "--value-separation-threshold", "512", NULL };
    struct srv s;
    if (srv_start_args(&s, srv_is_redis() ? NULL : lsm_args) != 0)
        tap_bail("server did not start");
    C = conn_tcp(s.port);
    if (!C)
        tap_bail("no connection");
    run_steps("getbit", getbit_steps);
    run_steps("setbit", setbit_steps);
    run_steps("bitcount", bitcount_steps);
    run_steps("bitpos", bitpos_steps);
    run_steps("bitop", bitop_steps);
    run_steps("binary", binary_steps);
    run_watch_cases(s.port, "watch", watch_cases);
    test_separated();
    test_bitfield(s.port);
    conn_close(C);
    srv_stop(&s);
    return tap_done();
}
