/* test_hll.c: the HyperLogLog commands against a real server, byte for
 * byte as Redis 7.0 answers: PFADD (the empty sparse HLL it creates, 1 only
 * when a register changed, the TTL kept, strings that are not an HLL),
 * PFCOUNT (exact counts for 1 to 20000 elements added pipelined, the cached
 * cardinality in header bytes 8..15 and its "stale" bit, the union of
 * several keys, corrupted sparse HLLs and dense ones of the wrong length),
 * the promotion from sparse to dense (hll-sparse-max-bytes and its bounds,
 * a run length above 32), PFMERGE (missing and existing destinations,
 * missing sources, sparse with dense, the TTL kept, bad sources), PFDEBUG
 * ENCODING DECODE TODENSE GETREG and its errors, PFSELFTEST, MULTI/EXEC and
 * which of these commands touch a WATCHed key, binary elements and keys,
 * and HLLs built by Redis stored with SET (sparse as bytes, dense from a
 * register pattern). The values are strings: GET shows their exact bytes,
 * and those are Redis' bytes. Every expected reply was taken from
 * redis-server 7.0.15: running this test with
 * LSMDB_SERVER=/usr/bin/redis-server passes.
 *
 * Steps are command lines split on single spaces ("" is an empty argument)
 * and the exact reply; in both, %HH is the byte 0xHH, so binary keys,
 * elements, HLL values and replies fit in a table. */
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
#define QUEUED "+QUEUED\r\n"
#define NIL "$-1\r\n"
#define WRONGTYPE "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"
#define INVALIDOBJ "-INVALIDOBJ Corrupted HLL object detected\r\n"
#define NO_KEY "-ERR The specified key does not exist\r\n"
#define NOT_SPARSE "-ERR HLL encoding is not sparse\r\n"
#define MEMORY_VALUE                                                                            \
    "-ERR CONFIG SET failed (possibly related to argument 'hll-sparse-max-bytes') - argument " \
    "must be a memory value\r\n"
#define OUT_OF_RANGE                                                                            \
    "-ERR CONFIG SET failed (possibly related to argument 'hll-sparse-max-bytes') - argument " \
    "must be between 0 and 9223372036854775807 inclusive\r\n"
#define ARITY(cmd) "-ERR wrong number of arguments for '" cmd "' command\r\n"
/* the empty HLL: "HYLL", sparse, 3 unused bytes, a stale cached count of
 * 0, one XZERO opcode for all 16384 registers */
#define EMPTY_HLL "$18\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80%7f%ff\r\n"

#define HLL_REGISTERS 16384
#define HLL_DENSE_LEN 12304         /* 16-byte header + 16384 6-bit registers */

static void run_steps(const char *section, const struct step *steps)
{
    for (const struct step *s = steps; s->cmd; s++)
        tap_ok(line_reply_is(C, s->cmd, s->expect), "%s: %s", section, s->cmd);
}

/* The parsed reply of a command line (NULL when none came). */
static struct rv *call_rv(const char *line)
{
    size_t rlen = 0;
    char *raw = conn_call_line(C, line, CALL_PCT, &rlen);
    struct rv *v = raw ? rv_parse(raw, rlen) : NULL;
    zfree(raw);
    return v;
}

/* The integer reply of a command line, or -999999 when the reply is not
 * an integer. */
static long long call_int(const char *line)
{
    struct rv *v = call_rv(line);
    long long n = v && v->type == ':' ? v->integer : -999999;
    rv_free(v);
    return n;
}

/* FNV-1a 64 of a string's bytes: the fingerprint of a whole HLL value. */
static unsigned long long fnv1a(const char *p, size_t n)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* GET key: its length and fingerprint; -1 when the reply is no bulk. */
static long long get_fnv(const char *key, unsigned long long *h)
{
    const char *argv[] = { "GET", key };
    size_t lens[] = { 3, strlen(key) };
    size_t rlen = 0;
    char *raw = conn_call_argv(C, 2, argv, lens, &rlen, 10000);
    struct rv *v = raw ? rv_parse(raw, rlen) : NULL;
    long long n = -1;
    if (v && v->type == '$') {
        n = (long long)v->len;
        *h = fnv1a(v->str, v->len);
    }
    rv_free(v);
    zfree(raw);
    return n;
}

/* PFDEBUG GETREG key into regs[HLL_REGISTERS]; 0, or -1 when the reply is
 * not an array of 16384 integers (printed). */
static int getreg(const char *key, long long *regs)
{
    char line[128];
    snprintf(line, sizeof line, "PFDEBUG GETREG %s", key);
    struct rv *v = call_rv(line);
    int ok = v && v->type == '*' && v->n == HLL_REGISTERS;
    for (size_t i = 0; ok && i < HLL_REGISTERS; i++) {
        ok = v->elem[i]->type == ':';
        regs[i] = v->elem[i]->integer;
    }
    if (!ok)
        tap_diag("GETREG %s: type %c, %zu elements", key, v ? v->type : '?', v ? v->n : 0);
    rv_free(v);
    return ok ? 0 : -1;
}

/* One non-zero register. */
struct reg {
    int idx;
    int val;
};

/* 1 when regs holds exactly the non-zero registers nz (n of them, by
 * index) and zeros elsewhere; prints the first difference. */
static int regs_are(const long long *regs, const struct reg *nz, size_t n)
{
    size_t k = 0;
    for (int i = 0; i < HLL_REGISTERS; i++) {
        long long want = k < n && nz[k].idx == i ? nz[k++].val : 0;
        if (regs[i] != want) {
            tap_diag("register %d is %lld, expected %lld", i, regs[i], want);
            return 0;
        }
    }
    return 1;
}

static const struct step pfadd_steps[] = {
    /* a new key with no elements: created, the 18-byte empty sparse HLL */
    { "PFADD h:e", ":1\r\n" },
    { "EXISTS h:e", ":1\r\n" },
    { "GET h:e", EMPTY_HLL },
    { "STRLEN h:e", ":18\r\n" },
    { "TYPE h:e", "+string\r\n" },
    { "PFDEBUG ENCODING h:e", "+sparse\r\n" },
    { "PFDEBUG DECODE h:e", "$7\r\nZ:16384\r\n" },
    { "PFCOUNT h:e", ":0\r\n" },
    /* an existing key with no elements changes nothing */
    { "PFADD h:e", ":0\r\n" },
    { "GET h:e", "$18\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%00%7f%ff\r\n" },
    /* elements: 1 when a register changed, 0 when none did */
    { "PFADD h:a x y z", ":1\r\n" },
    { "GET h:a", "$26\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80a%84%80X%cd%88E%a0%84%08\r\n" },
    { "PFDEBUG DECODE h:a", "$42\r\nZ:8581 v:1,1 Z:6350 v:3,1 Z:1441 v:2,1 z:9\r\n" },
    { "PFADD h:a x", ":0\r\n" },
    { "PFADD h:a z y x", ":0\r\n" },
    { "PFADD h:a x x x x", ":0\r\n" },
    { "PFADD h:a", ":0\r\n" },
    { "GET h:a", "$26\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80a%84%80X%cd%88E%a0%84%08\r\n" },
    { "PFADD h:a w", ":1\r\n" },
    { "GET h:a", "$29\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80PG%84Q;%80X%cd%88E%a0%84%08\r\n" },
    { "PFDEBUG DECODE h:a", "$55\r\nZ:4168 v:2,1 Z:4412 v:1,1 Z:6350 v:3,1 Z:1441 v:2,1 z:9\r\n" },
    { "PFADD h:r a a a a", ":1\r\n" },
    { "PFCOUNT h:r", ":1\r\n" },
    { "pfadd h:r b", ":1\r\n" },
    { "PfAdd h:r b", ":0\r\n" },
    { "PFADD h:one x", ":1\r\n" },
    { "GET h:one", "$20\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80%7f%f5%84%08\r\n" },
    { "PFADD h:emp \"\"", ":1\r\n" },
    { "GET h:emp", "$21\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80W1%84h%cc\r\n" },
    { "PFCOUNT h:emp", ":1\r\n" },
    /* the TTL stays, whether PFADD changes something or not */
    { "PFADD h:t a b", ":1\r\n" },
    { "EXPIRE h:t 100", ":1\r\n" },
    { "PFADD h:t c", ":1\r\n" },
    { "TTL h:t", ":100\r\n" },
    { "PFADD h:t a", ":0\r\n" },
    { "TTL h:t", ":100\r\n" },
    { "PFADD h:t", ":0\r\n" },
    { "TTL h:t", ":100\r\n" },
    /* not an HLL: any string that is not one; nothing is written */
    { "SET h:s hello", OK },
    { "PFADD h:s x", WRONGTYPE },
    { "PFADD h:s", WRONGTYPE },
    { "GET h:s", "$5\r\nhello\r\n" },
    { "SET h:n 12345", OK },
    { "PFADD h:n x", WRONGTYPE },
    { "SET h:z \"\"", OK },
    { "PFADD h:z", WRONGTYPE },
    { "GET h:z", "$0\r\n\r\n" },
    { "SET h:16 HYLL%01%00%00%00%00%00%00%00%00%00%00", OK },
    { "PFADD h:16 x", WRONGTYPE },
    { "PFADD", ARITY("pfadd") },
    { "pfadd", ARITY("pfadd") },
    { "EXISTS h:none", ":0\r\n" },
    { NULL, NULL },
};

static const struct step pfcount_steps[] = {
    { "PFCOUNT h:none", ":0\r\n" },
    { "EXISTS h:none", ":0\r\n" },
    /* the cache: after PFCOUNT bytes 8..15 hold the count, little-endian,
     * the top bit of byte 15 clear */
    { "GET h:a", "$29\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80PG%84Q;%80X%cd%88E%a0%84%08\r\n" },
    { "PFCOUNT h:a", ":4\r\n" },
    { "GET h:a", "$29\r\nHYLL%01%00%00%00%04%00%00%00%00%00%00%00PG%84Q;%80X%cd%88E%a0%84%08\r\n" },
    /* a PFADD that changes nothing keeps it valid */
    { "PFADD h:a w x", ":0\r\n" },
    { "GET h:a", "$29\r\nHYLL%01%00%00%00%04%00%00%00%00%00%00%00PG%84Q;%80X%cd%88E%a0%84%08\r\n" },
    /* one that changes a register sets the top bit of byte 15 */
    { "PFADD h:a v", ":1\r\n" },
    { "GET h:a", "$32\r\nHYLL%01%00%00%00%04%00%00%00%00%00%00%80PG%84Q;%80X%cd%88E %80@~%84%08\r\n" },
    { "PFCOUNT h:a", ":5\r\n" },
    { "GET h:a", "$32\r\nHYLL%01%00%00%00%05%00%00%00%00%00%00%00PG%84Q;%80X%cd%88E %80@~%84%08\r\n" },
    { "PFCOUNT h:a", ":5\r\n" },
    { "pfcount h:a", ":5\r\n" },
    /* several keys: the count of the union; missing keys are empty */
    { "PFCOUNT h:a h:e", ":5\r\n" },
    { "PFCOUNT h:a h:none", ":5\r\n" },
    { "PFCOUNT h:none h:a", ":5\r\n" },
    { "PFCOUNT h:none h:none2", ":0\r\n" },
    { "PFCOUNT h:a h:a", ":5\r\n" },
    { "PFCOUNT h:a h:r", ":7\r\n" },
    { "PFCOUNT h:r h:a h:one h:emp", ":8\r\n" },
    /* several keys never write the cache */
    { "PFADD h:b q r s", ":1\r\n" },
    { "PFCOUNT h:b h:none", ":3\r\n" },
    { "GET h:b", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80U%af%94Df%80P%ec%80T%f8\r\n" },
    { "PFCOUNT h:b h:b", ":3\r\n" },
    { "GET h:b", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80U%af%94Df%80P%ec%80T%f8\r\n" },
    { "EXISTS h:none", ":0\r\n" },
    /* one key that is no HLL fails the whole count */
    { "PFCOUNT h:s", WRONGTYPE },
    { "PFCOUNT h:a h:s", WRONGTYPE },
    { "PFCOUNT h:s h:a", WRONGTYPE },
    { "PFCOUNT h:none h:s", WRONGTYPE },
    { "PFCOUNT h:a h:none h:n", WRONGTYPE },
    { "PFCOUNT h:z", WRONGTYPE },
    { "PFCOUNT", ARITY("pfcount") },
    /* corrupted sparse HLLs (valid header): registers summing to 16000 or
     * 16385, or no opcode at all, are detected when counted */
    { "SET c:lt HYLL%01%00%00%00%00%00%00%00%00%00%00%80%7e%7f", OK },
    { "PFCOUNT c:lt", INVALIDOBJ },
    { "PFCOUNT c:lt h:a", INVALIDOBJ },
    { "PFCOUNT h:none c:lt", INVALIDOBJ },
    { "PFADD c:lt x", INVALIDOBJ },
    { "PFMERGE c:d c:lt", INVALIDOBJ },
    { "PFMERGE c:d h:a c:lt", INVALIDOBJ },
    { "EXISTS c:d", ":0\r\n" },
    { "PFMERGE h:a c:lt", INVALIDOBJ },
    { "PFCOUNT h:a", ":5\r\n" },
    { "PFDEBUG TODENSE c:lt", INVALIDOBJ },
    { "PFDEBUG GETREG c:lt", INVALIDOBJ },
    { "PFDEBUG ENCODING c:lt", "+sparse\r\n" },
    { "GET c:lt", "$18\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80~%7f\r\n" },
    { "SET c:gt HYLL%01%00%00%00%00%00%00%00%00%00%00%80%7f%ff%00", OK },
    { "PFCOUNT c:gt", INVALIDOBJ },
    { "SET c:gt2 HYLL%01%00%00%00%00%00%00%00%00%00%00%80%7f%ff%80", OK },
    { "PFCOUNT c:gt2", INVALIDOBJ },
    { "SET c:none HYLL%01%00%00%00%00%00%00%00%00%00%00%80", OK },
    { "PFCOUNT c:none", INVALIDOBJ },
    { "PFADD c:none x", INVALIDOBJ },
    { "GET c:none", "$16\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80\r\n" },
    /* PFADD stops at the first element whose register no opcode covers;
     * the elements before it stay added ("a": register 12711, value 2;
     * "e1674": register 16383, past an XZERO of 16383), cache still stale */
    { "SET c:part HYLL%01%00%00%00%00%00%00%00%00%00%00%00%7f%fe", OK },
    { "PFADD c:part a e1674", INVALIDOBJ },
    { "GET c:part", "$21\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80q%a6%84NV\r\n" },
    { "PFADD c:part e1674", INVALIDOBJ },
    { "GET c:part", "$21\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80q%a6%84NV\r\n" },
    /* a valid cached count is answered without reading the registers; a
     * count of several keys always reads them */
    { "SET c:cached HYLL%01%00%00%00%07%00%00%00%00%00%00%00%7e%7f", OK },
    { "PFCOUNT c:cached", ":7\r\n" },
    { "PFCOUNT c:cached h:none", INVALIDOBJ },
    /* not an HLL at all: a dense one of the wrong length, an unknown
     * encoding, a bad magic, a short header */
    { "SET c:dense HYLL%00%00%00%00%00%00%00%00%00%00%00%80", OK },
    { "PFCOUNT c:dense", WRONGTYPE },
    { "PFADD c:dense x", WRONGTYPE },
    { "PFMERGE c:dense", WRONGTYPE },
    { "PFDEBUG ENCODING c:dense", WRONGTYPE },
    { "SET c:dense2 HYLL%00%00%00%00%00%00%00%00%00%00%00%80%7f%ff", OK },
    { "PFCOUNT c:dense2", WRONGTYPE },
    { "SET c:enc HYLL%02%00%00%00%00%00%00%00%00%00%00%80%7f%ff", OK },
    { "PFCOUNT c:enc", WRONGTYPE },
    { "SET c:magic HYLX%01%00%00%00%00%00%00%00%00%00%00%80%7f%ff", OK },
    { "PFCOUNT c:magic", WRONGTYPE },
    { "SET c:magic2 hyll%01%00%00%00%00%00%00%00%00%00%00%80%7f%ff", OK },
    { "PFCOUNT c:magic2", WRONGTYPE },
    { "SET c:short HYLL%01%00%00%00%00%00%00%00%00%00%00", OK },
    { "PFCOUNT c:short", WRONGTYPE },
    { NULL, NULL },
};

static const struct step dense_steps[] = {
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$4\r\n3000\r\n" },
    /* a sparse HLL that would grow past hll-sparse-max-bytes becomes dense */
    { "CONFIG SET hll-sparse-max-bytes 100", OK },
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$3\r\n100\r\n" },
    { "PFADD d:p e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12 e13 e14 e15 e16 e17 e18 e19 "
      "e20 e21 e22 e23 e24 e25 e26 e27",
      ":1\r\n" },
    { "PFDEBUG ENCODING d:p", "+sparse\r\n" },
    { "STRLEN d:p", ":99\r\n" },
    { "GETRANGE d:p 0 15", "$16\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80\r\n" },
    { "GETRANGE d:p 80 98", "$19\r\n@y%84A%93%84@%88%80@j%84@H%80%13%80AR\r\n" },
    { "PFADD d:p e28", ":1\r\n" },
    { "PFDEBUG ENCODING d:p", "+dense\r\n" },
    { "STRLEN d:p", ":12304\r\n" },
    { "PFCOUNT d:p", ":29\r\n" },
    { "GETRANGE d:p 0 15", "$16\r\nHYLL%00%00%00%00%1d%00%00%00%00%00%00%00\r\n" },
    { "GETRANGE d:p 16 31", "$16\r\n%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00\r\n" },
    { "GETRANGE d:p 1002 1006", "$5\r\n%00%00%10%00%00\r\n" },
    { "GETRANGE d:p 6238 6242", "$5\r\n%00%00%04%00%00\r\n" },
    { "GETRANGE d:p 8963 8967", "$5\r\n%00%00%02%00%00\r\n" },
    { "GETRANGE d:p 12288 12303", "$16\r\n%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00\r\n" },
    { "GETRANGE d:p 12300 20000", "$4\r\n%00%00%00%00\r\n" },
    /* the limit is inclusive: a limit of 99 holds the same 99 bytes, 98 does not */
    { "CONFIG SET hll-sparse-max-bytes 99", OK },
    { "PFADD d:q e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12 e13 e14 e15 e16 e17 e18 e19 "
      "e20 e21 e22 e23 e24 e25 e26 e27",
      ":1\r\n" },
    { "PFDEBUG ENCODING d:q", "+sparse\r\n" },
    { "STRLEN d:q", ":99\r\n" },
    { "CONFIG SET hll-sparse-max-bytes 98", OK },
    { "PFADD d:r e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12 e13 e14 e15 e16 e17 e18 e19 "
      "e20 e21 e22 e23 e24 e25 e26 e27",
      ":1\r\n" },
    { "PFDEBUG ENCODING d:r", "+dense\r\n" },
    { "STRLEN d:r", ":12304\r\n" },
    { "PFCOUNT d:r", ":28\r\n" },
    /* a lower limit leaves a longer sparse HLL alone until it grows */
    { "PFADD d:q e1", ":0\r\n" },
    { "PFDEBUG ENCODING d:q", "+sparse\r\n" },
    { "PFADD d:q e28", ":1\r\n" },
    { "PFDEBUG ENCODING d:q", "+dense\r\n" },
    /* 0: the empty HLL is still created sparse, the first element promotes */
    { "CONFIG SET hll-sparse-max-bytes 0", OK },
    { "PFADD d:z", ":1\r\n" },
    { "PFDEBUG ENCODING d:z", "+sparse\r\n" },
    { "PFADD d:z x", ":1\r\n" },
    { "PFDEBUG ENCODING d:z", "+dense\r\n" },
    { "PFCOUNT d:z", ":1\r\n" },
    { "CONFIG SET hll-sparse-max-bytes 1kb", OK },
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$4\r\n1024\r\n" },
    { "CONFIG SET hll-sparse-max-bytes -1", MEMORY_VALUE },
    { "CONFIG SET hll-sparse-max-bytes abc", MEMORY_VALUE },
    { "CONFIG SET hll-sparse-max-bytes 1.5", MEMORY_VALUE },
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$4\r\n1024\r\n" },
    { "CONFIG SET hll-sparse-max-bytes 9223372036854775808", OUT_OF_RANGE },
    { "CONFIG SET hll-sparse-max-bytes 9223372036854775807", OK },
    { "CONFIG GET hll-sparse-max-bytes",
      "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$19\r\n9223372036854775807\r\n" },
    /* Redis 7.0 reads an empty memory value as 0 */
    { "CONFIG SET hll-sparse-max-bytes \"\"", OK },
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$1\r\n0\r\n" },
    { "CONFIG SET hll-sparse-max-bytes 3000", OK },
    { "CONFIG GET hll-sparse-max-bytes", "*2\r\n$20\r\nhll-sparse-max-bytes\r\n$4\r\n3000\r\n" },
    /* a sparse VAL holds run lengths up to 32: 6362051948 sets register 3460
     * to 32 and stays sparse; 1692856687 sets register 6288 to 33, which
     * makes the HLL dense */
    { "PFADD d:r32 6362051948", ":1\r\n" },
    { "PFDEBUG ENCODING d:r32", "+sparse\r\n" },
    { "PFDEBUG DECODE d:r32", "$21\r\nZ:3460 v:32,1 Z:12923\r\n" },
    { "GET d:r32", "$21\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80M%83%fcrz\r\n" },
    { "PFCOUNT d:r32", ":1\r\n" },
    { "PFADD d:r32 1692856687", ":1\r\n" },
    { "PFDEBUG ENCODING d:r32", "+dense\r\n" },
    { "PFCOUNT d:r32", ":2\r\n" },
    { "GETRANGE d:r32 2609 2611", "$3\r\n%00%00 \r\n" },
    { "PFADD d:run 1692856687", ":1\r\n" },
    { "PFDEBUG ENCODING d:run", "+dense\r\n" },
    { "STRLEN d:run", ":12304\r\n" },
    { "PFCOUNT d:run", ":1\r\n" },
    { "GETRANGE d:run 0 15", "$16\r\nHYLL%00%00%00%00%01%00%00%00%00%00%00%00\r\n" },
    { "GETRANGE d:run 4730 4733", "$4\r\n%00%00!%00\r\n" },
    { "PFADD d:run2 a b", ":1\r\n" },
    { "PFADD d:run2 1692856687", ":1\r\n" },
    { "PFDEBUG ENCODING d:run2", "+dense\r\n" },
    { "PFCOUNT d:run2", ":3\r\n" },
    /* dense PFADD, then the cache */
    { "PFADD d:p e28", ":0\r\n" },
    { "PFADD d:p e29", ":1\r\n" },
    { "GETRANGE d:p 0 15", "$16\r\nHYLL%00%00%00%00%1d%00%00%00%00%00%00%80\r\n" },
    { "GETRANGE d:p 8007 8011", "$5\r\n%00%00@%00%00\r\n" },
    { "PFCOUNT d:p", ":30\r\n" },
    { "GETRANGE d:p 0 15", "$16\r\nHYLL%00%00%00%00%1e%00%00%00%00%00%00%00\r\n" },
    { NULL, NULL },
};

static const struct step pfdebug_steps[] = {
    { "PFADD g:a x y z", ":1\r\n" },
    { "PFDEBUG ENCODING g:a", "+sparse\r\n" },
    { "pfdebug encoding g:a", "+sparse\r\n" },
    { "PFDEBUG DECODE g:a", "$42\r\nZ:8581 v:1,1 Z:6350 v:3,1 Z:1441 v:2,1 z:9\r\n" },
    { "PFDEBUG decode h:e", "$7\r\nZ:16384\r\n" },
    /* TODENSE answers 1 when it converted, then 0 */
    { "PFDEBUG TODENSE g:a", ":1\r\n" },
    { "PFDEBUG TODENSE g:a", ":0\r\n" },
    { "PFDEBUG todense g:a", ":0\r\n" },
    { "PFDEBUG ENCODING g:a", "+dense\r\n" },
    { "STRLEN g:a", ":12304\r\n" },
    { "GETRANGE g:a 0 15", "$16\r\nHYLL%00%00%00%00%00%00%00%00%00%00%00%80\r\n" },
    { "PFDEBUG DECODE g:a", NOT_SPARSE },
    { "PFCOUNT g:a", ":3\r\n" },
    { "GETRANGE g:a 0 15", "$16\r\nHYLL%00%00%00%00%03%00%00%00%00%00%00%00\r\n" },
    /* the key is looked up before the subcommand */
    { "PFDEBUG FOO g:a", "-ERR Unknown PFDEBUG subcommand 'FOO'\r\n" },
    { "PFDEBUG foo g:a", "-ERR Unknown PFDEBUG subcommand 'foo'\r\n" },
    { "PFDEBUG FOO g:none", NO_KEY },
    { "PFDEBUG ENCODING g:none", NO_KEY },
    { "PFDEBUG DECODE g:none", NO_KEY },
    { "PFDEBUG TODENSE g:none", NO_KEY },
    { "PFDEBUG GETREG g:none", NO_KEY },
    { "EXISTS g:none", ":0\r\n" },
    { "PFDEBUG ENCODING h:s", WRONGTYPE },
    { "PFDEBUG GETREG h:s", WRONGTYPE },
    { "PFDEBUG FOO h:s", WRONGTYPE },
    /* Redis 7.0 gives PFDEBUG an arity of exactly 3 */
    { "PFDEBUG", ARITY("pfdebug") },
    { "PFDEBUG ENCODING", ARITY("pfdebug") },
    { "PFDEBUG ENCODING g:a g:a", ARITY("pfdebug") },
    { "PFDEBUG GETREG g:a x", ARITY("pfdebug") },
    { "PFDEBUG FOO g:a x", ARITY("pfdebug") },
    /* the TTL stays */
    { "PFADD g:t a", ":1\r\n" },
    { "EXPIRE g:t 100", ":1\r\n" },
    { "PFDEBUG TODENSE g:t", ":1\r\n" },
    { "TTL g:t", ":100\r\n" },
    { "PFSELFTEST", OK },
    { "pfselftest", OK },
    { "PFSELFTEST x", ARITY("pfselftest") },
    { NULL, NULL },
};

/* PFDEBUG GETREG: 16384 integers, the registers; it converts a sparse HLL
 * to dense. x, y, z set registers 16374, 14932, 8581 to 2, 3, 1. */
static const struct reg xyz_regs[] = { { 8581, 1 }, { 14932, 3 }, { 16374, 2 } };
static const struct reg run_regs[] = { { 6288, 33 } };

static void test_getreg(void)
{
    long long *regs = zmalloc(HLL_REGISTERS * sizeof *regs);
    tap_ok(line_reply_is(C, "PFADD r:a x y z", ":1\r\n"), "getreg: PFADD r:a x y z");
    tap_ok(line_reply_is(C, "PFDEBUG ENCODING r:a", "+sparse\r\n"), "getreg: r:a is sparse");
    if (tap_ok(getreg("r:a", regs) == 0, "getreg: GETREG of a sparse HLL is 16384 integers"))
        tap_ok(regs_are(regs, xyz_regs, 3), "getreg: registers 8581, 14932, 16374 are 1, 3, 2, the rest 0");
    tap_ok(line_reply_is(C, "PFDEBUG ENCODING r:a", "+dense\r\n"), "getreg: GETREG made r:a dense");
    tap_ok(line_reply_is(C, "STRLEN r:a", ":12304\r\n"), "getreg: STRLEN r:a is 12304");
    tap_ok(line_reply_is(C, "GETRANGE r:a 0 15", "$16\r\nHYLL%00%00%00%00%00%00%00%00%00%00%00%80\r\n"),
           "getreg: the dense header keeps the stale cache");
    if (tap_ok(getreg("r:a", regs) == 0, "getreg: GETREG of the dense HLL"))
        tap_ok(regs_are(regs, xyz_regs, 3), "getreg: the same registers");
    tap_ok(line_reply_is(C, "PFCOUNT r:a", ":3\r\n"), "getreg: PFCOUNT r:a");
    if (tap_ok(getreg("d:run", regs) == 0, "getreg: GETREG d:run"))
        tap_ok(regs_are(regs, run_regs, 1), "getreg: register 6288 of d:run is 33");
    tap_ok(line_reply_is(C, "PFADD r:e", ":1\r\n"), "getreg: PFADD r:e");
    if (tap_ok(getreg("r:e", regs) == 0, "getreg: GETREG of the empty HLL"))
        tap_ok(regs_are(regs, NULL, 0), "getreg: every register is 0");
    tap_ok(line_reply_is(C, "STRLEN r:e", ":12304\r\n"), "getreg: STRLEN r:e is 12304");
    tap_ok(line_reply_is(C, "PFDEBUG TODENSE r:e", ":0\r\n"), "getreg: TODENSE after GETREG answers 0");
    zfree(regs);
}

static const struct step pfmerge_steps[] = {
    { "PFADD m:a x y z", ":1\r\n" },
    { "PFADD m:b a b c", ":1\r\n" },
    /* a missing destination is created */
    { "PFMERGE m:d m:a m:b", OK },
    { "GET m:d",
      "$35\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80@%8f%80P %84H%ab%88CN%80BP%84%08\r\n" },
    { "PFDEBUG ENCODING m:d", "+sparse\r\n" },
    { "PFCOUNT m:d", ":6\r\n" },
    { "GET m:d",
      "$35\r\nHYLL%01%00%00%00%06%00%00%00%00%00%00%00`%f3%80@%8f%80P %84H%ab%88CN%80BP%84%08\r\n" },
    { "PFMERGE m:d2 m:b m:a", OK },
    { "GET m:d2",
      "$35\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80@%8f%80P %84H%ab%88CN%80BP%84%08\r\n" },
    /* an existing destination is part of the union; the cache is invalidated */
    { "PFADD m:e q", ":1\r\n" },
    { "PFCOUNT m:e", ":1\r\n" },
    { "PFMERGE m:e m:a", OK },
    { "GET m:e", "$29\r\nHYLL%01%00%00%00%01%00%00%00%00%00%00%80U%af%94K%d3%80X%cd%88E%a0%84%08\r\n" },
    { "PFCOUNT m:e", ":4\r\n" },
    { "PFMERGE m:e m:a", OK },
    { "GET m:e", "$29\r\nHYLL%01%00%00%00%04%00%00%00%00%00%00%80U%af%94K%d3%80X%cd%88E%a0%84%08\r\n" },
    /* missing sources are empty */
    { "PFMERGE m:f m:none", OK },
    { "GET m:f", EMPTY_HLL },
    { "PFMERGE m:f m:none m:a m:none2", OK },
    { "GET m:f", "$26\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80a%84%80X%cd%88E%a0%84%08\r\n" },
    { "EXISTS m:none", ":0\r\n" },
    /* no sources: an empty HLL, or the destination unchanged but for its cache */
    { "PFMERGE m:g", OK },
    { "GET m:g", EMPTY_HLL },
    { "PFCOUNT m:b", ":3\r\n" },
    { "PFMERGE m:b", OK },
    { "GET m:b", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { "PFMERGE m:b m:b", OK },
    { "GET m:b", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    /* sparse with dense: the result is dense */
    { "PFADD m:dn k l", ":1\r\n" },
    { "PFDEBUG TODENSE m:dn", ":1\r\n" },
    { "PFMERGE m:x m:a m:dn", OK },
    { "PFDEBUG ENCODING m:x", "+dense\r\n" },
    { "STRLEN m:x", ":12304\r\n" },
    { "PFCOUNT m:x", ":5\r\n" },
    { "GETRANGE m:x 0 15", "$16\r\nHYLL%00%00%00%00%05%00%00%00%00%00%00%00\r\n" },
    { "PFMERGE m:y m:dn", OK },
    { "PFDEBUG ENCODING m:y", "+dense\r\n" },
    { "PFCOUNT m:y", ":2\r\n" },
    { "PFMERGE m:a2 m:a", OK },
    { "PFMERGE m:a2 m:dn", OK },
    { "PFDEBUG ENCODING m:a2", "+dense\r\n" },
    { "PFCOUNT m:a2", ":5\r\n" },
    /* a dense destination stays dense */
    { "PFMERGE m:dn m:a", OK },
    { "PFDEBUG ENCODING m:dn", "+dense\r\n" },
    { "PFCOUNT m:dn", ":5\r\n" },
    /* merging sparse sources can promote the destination */
    { "CONFIG SET hll-sparse-max-bytes 30", OK },
    { "PFMERGE m:s m:a m:b", OK },
    { "PFDEBUG ENCODING m:s", "+dense\r\n" },
    { "PFCOUNT m:s", ":6\r\n" },
    { "CONFIG SET hll-sparse-max-bytes 3000", OK },
    /* the destination's TTL stays */
    { "PFADD m:t q", ":1\r\n" },
    { "EXPIRE m:t 100", ":1\r\n" },
    { "PFMERGE m:t m:a", OK },
    { "TTL m:t", ":100\r\n" },
    { "PFCOUNT m:t", ":4\r\n" },
    { "PFMERGE m:t2 m:a", OK },
    { "EXPIRE m:t2 100", ":1\r\n" },
    { "PFMERGE m:t2", OK },
    { "TTL m:t2", ":100\r\n" },
    /* errors: a source or the destination that is no HLL; nothing is created */
    { "PFMERGE m:w m:a h:s", WRONGTYPE },
    { "EXISTS m:w", ":0\r\n" },
    { "PFMERGE m:w h:s", WRONGTYPE },
    { "PFMERGE h:s m:a", WRONGTYPE },
    { "GET h:s", "$5\r\nhello\r\n" },
    { "PFMERGE h:s", WRONGTYPE },
    { "PFMERGE m:a h:n", WRONGTYPE },
    { "PFCOUNT m:a", ":3\r\n" },
    { "PFMERGE", ARITY("pfmerge") },
    { "pfmerge", ARITY("pfmerge") },
    { NULL, NULL },
};

static const struct step binary_steps[] = {
    /* elements and keys with NUL, CR LF, 0xff; the element is hashed whole */
    { "PFADD b:%00k%0d%0a %00 %0d%0a a%00b a", ":1\r\n" },
    { "GET b:%00k%0d%0a",
      "$30\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80b%87%84O%1d%84B%a6%80H.%84C%7f\r\n" },
    { "PFCOUNT b:%00k%0d%0a", ":4\r\n" },
    { "PFADD b:%00k%0d%0a a%00b", ":0\r\n" },
    { "PFADD b:%00k%0d%0a a%00c", ":1\r\n" },
    { "PFCOUNT b:%00k%0d%0a", ":5\r\n" },
    { "PFADD b:%ff %ff%fe%fd %00%00%00%00%00%00%00%00%00 %0d%0a%0d%0a", ":1\r\n" },
    { "GET b:%ff", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80[%f6%88X%cb%88I%b3%80A%85\r\n" },
    { "PFCOUNT b:%00k%0d%0a b:%ff", ":8\r\n" },
    { "PFMERGE b:%0d%0a b:%00k%0d%0a b:%ff", OK },
    { "GET b:%0d%0a",
      "$42\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80[%f6%88F%8f%84O%1d%84B%a6%80@s%88F%93%9cA$"
      "%84A%f8%80A%85\r\n" },
    { "PFCOUNT b:%0d%0a", ":8\r\n" },
    { "PFADD \"\" x", ":1\r\n" },
    { "GET \"\"", "$20\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80%7f%f5%84%08\r\n" },
    { "PFCOUNT \"\"", ":1\r\n" },
    { "PFDEBUG ENCODING \"\"", "+sparse\r\n" },
    { "DEL \"\"", ":1\r\n" },
    { NULL, NULL },
};

static const struct step import_steps[] = {
    /* HLLs built by Redis, stored with SET: they count the same, and PFADD
     * goes on from them. 40 elements imp0..imp39, the cache stale */
    { "SET i:s HYLL%01%00%00%00%00%00%00%00%00%00%00%80A%90%88E7%80@`%80Af%88C%86%80%17%84Al%80D%b1%80"
      "%0c%84H9%84%0e%80@%f0%84@C%80@%da%80A%06%80@%83%98%13%84A%e1%80@%ed%80A{%80@%87%80@%91%88B9%84A"
      "K%84@F%80A}%84A%08%80@%90%80@%da%80@%a6%88A%d3%84A%3f%80C%e6%88A%a9%84@p%80AG%80C%02%80A%99%80A"
      "2%80A%b8%80A%cf",
      OK },
    { "PFDEBUG ENCODING i:s", "+sparse\r\n" },
    { "PFCOUNT i:s", ":40\r\n" },
    { "GET i:s",
      "$134\r\nHYLL%01%00%00%00(%00%00%00%00%00%00%00A%90%88E7%80@`%80Af%88C%86%80%17%84Al%80D%b1"
      "%80%0c%84H9%84%0e%80@%f0%84@C%80@%da%80A%06%80@%83%98%13%84A%e1%80@%ed%80A{%80@%87%80@%91"
      "%88B9%84AK%84@F%80A}%84A%08%80@%90%80@%da%80@%a6%88A%d3%84A%3f%80C%e6%88A%a9%84@p%80AG%80C"
      "%02%80A%99%80A2%80A%b8%80A%cf\r\n" },
    { "PFADD i:s imp0 imp17 imp39", ":0\r\n" },
    { "PFADD i:s imp40", ":1\r\n" },
    { "PFCOUNT i:s", ":41\r\n" },
    { "GET i:s",
      "$137\r\nHYLL%01%00%00%00)%00%00%00%00%00%00%00A%90%88E7%80@`%80Af%88C%86%80%17%84Al%80D%b1"
      "%80%0c%84H9%84%0e%80@%f0%84@C%80@%da%80A%06%80@%83%98%13%84A%e1%80@%ed%80A{%80@%87%80@%91"
      "%88B9%84AK%84@F%80A}%84A%08%80@%90%80@%da%80@%a6%88A%d3%84A%3f%80A%b9%80B+%88A%a9%84@p%80A"
      "G%80C%02%80A%99%80A2%80A%b8%80A%cf\r\n" },
    { "PFMERGE i:m i:s h:a", OK },
    { "PFCOUNT i:m", ":46\r\n" },
    { "GET i:m",
      "$151\r\nHYLL%01%00%00%00.%00%00%00%00%00%00%00A%90%88E7%80@`%80Af%88C%86%80%17%84Al%80B%a3"
      "%84B%0c%80%0c%84H9%84%0e%80@%f0%84@C%80@%da%80A%06%80@%83%98%13%84A%e1%80@%ed%80@M%80A,%80"
      "@%87%80@%91%88B9%84AK%84@F%80A}%84A%08%80@%90%80@%da%80@%a6%88A%d3%84A%3f%80A%b9%80B+%88A"
      "%a9%84@p%80AG%80C%02%80@%ac%88@%eb%80A2%80A%b8%80AE%80@~%84%08\r\n" },
    { NULL, NULL },
};

/* The registers of i:m (i:s and h:a merged), read by GETREG at the end of
 * the import steps. */
static const struct reg im_regs[] = {
    { 401, 3 }, { 1738, 1 }, { 1836, 1 }, { 2196, 3 }, { 3100, 1 }, { 3125, 2 }, { 3491, 1 },
    { 4168, 2 }, { 4694, 1 }, { 4708, 2 }, { 6815, 2 }, { 6831, 1 }, { 7073, 2 }, { 7142, 1 },
    { 7362, 1 }, { 7626, 1 }, { 7759, 7 }, { 7780, 2 }, { 8263, 1 }, { 8502, 1 }, { 8581, 1 },
    { 8883, 1 }, { 9020, 1 }, { 9167, 3 }, { 9738, 2 }, { 10071, 2 }, { 10143, 1 }, { 10526, 2 },
    { 10792, 1 }, { 10938, 1 }, { 11158, 1 }, { 11326, 3 }, { 11795, 2 }, { 12116, 1 },
    { 12559, 1 }, { 13116, 3 }, { 13543, 2 }, { 13657, 1 }, { 13986, 1 }, { 14758, 1 },
    { 14932, 3 }, { 15169, 1 }, { 15477, 1 }, { 15919, 1 }, { 16246, 1 }, { 16374, 2 },
};

static void test_import(void)
{
    run_steps("import", import_steps);
    long long *regs = zmalloc(HLL_REGISTERS * sizeof *regs);
    if (tap_ok(getreg("i:m", regs) == 0, "import: GETREG i:m"))
        tap_ok(regs_are(regs, im_regs, sizeof im_regs / sizeof im_regs[0]),
               "import: the %zu non-zero registers of i:m", sizeof im_regs / sizeof im_regs[0]);
    tap_ok(line_reply_is(C, "PFDEBUG ENCODING i:m", "+dense\r\n"), "import: i:m is dense now");
    tap_ok(line_reply_is(C, "PFCOUNT i:m", ":46\r\n"), "import: PFCOUNT i:m is still 46");
    zfree(regs);
}

/* Dense HLLs written by hand with SET: register j at bit 6j of the
 * registers, least significant bits first; the header's cache stale. The
 * counts are Redis' for the same bytes. */
static int reg_a(int j)
{
    return j % 3 == 0 ? 0 : 1 + (j * 7) % 20;
}

static int reg_b(int j)
{
    return j % 64 == 0 ? 1 + (j / 64) % 5 : 0;
}

struct dense_case {
    const char *key;
    int (*reg)(int j);
    const char *count;              /* PFCOUNT as written */
    const char *header;             /* GETRANGE 0 15 after that count */
    const char *count2;             /* PFCOUNT after PFADD x y z */
};

static const struct dense_case dense_cases[] = {
    { "i:da", reg_a, ":23489\r\n", "$16\r\nHYLL%00%00%00%00%c1[%00%00%00%00%00%00\r\n", ":23494\r\n" },
    { "i:db", reg_b, ":258\r\n", "$16\r\nHYLL%00%00%00%00%02%01%00%00%00%00%00%00\r\n", ":261\r\n" },
};

static void dense_fill(unsigned char *v, int (*reg)(int j))
{
    memset(v, 0, HLL_DENSE_LEN);
    memcpy(v, "HYLL", 4);
    v[15] = 0x80;
    for (int j = 0; j < HLL_REGISTERS; j++) {
        unsigned r = (unsigned)reg(j);
        size_t bit = (size_t)j * 6, byte = 16 + bit / 8;
        unsigned fb = bit & 7;
        v[byte] |= (unsigned char)(r << fb);
        if (fb > 2)
            v[byte + 1] |= (unsigned char)(r >> (8 - fb));
    }
}

static void test_dense_import(void)
{
    unsigned char *v = zmalloc(HLL_DENSE_LEN);
    long long *regs = zmalloc(HLL_REGISTERS * sizeof *regs);
    char line[128];
    for (size_t i = 0; i < sizeof dense_cases / sizeof dense_cases[0]; i++) {
        const struct dense_case *d = &dense_cases[i];
        dense_fill(v, d->reg);
        const char *argv[] = { "SET", d->key, (const char *)v };
        size_t lens[] = { 3, strlen(d->key), HLL_DENSE_LEN };
        size_t rlen = 0;
        char *r = conn_call_argv(C, 3, argv, lens, &rlen, 10000);
        tap_ok(bytes_are(r, rlen, OK, strlen(OK)), "dense import: SET %s (12304 bytes)", d->key);
        snprintf(line, sizeof line, "PFDEBUG ENCODING %s", d->key);
        tap_ok(line_reply_is(C, line, "+dense\r\n"), "dense import: %s", line);
        if (tap_ok(getreg(d->key, regs) == 0, "dense import: GETREG %s", d->key)) {
            int same = 1;
            for (int j = 0; j < HLL_REGISTERS && same; j++)
                same = regs[j] == d->reg(j);
            tap_ok(same, "dense import: GETREG %s reads every register as written", d->key);
        }
        snprintf(line, sizeof line, "PFCOUNT %s", d->key);
        tap_ok(line_reply_is(C, line, d->count), "dense import: %s", line);
        snprintf(line, sizeof line, "GETRANGE %s 0 15", d->key);
        tap_ok(line_reply_is(C, line, d->header), "dense import: the count cached in %s's header", d->key);
        snprintf(line, sizeof line, "PFADD %s x y z", d->key);
        tap_ok(line_reply_is(C, line, ":1\r\n"), "dense import: %s", line);
        snprintf(line, sizeof line, "PFCOUNT %s", d->key);
        tap_ok(line_reply_is(C, line, d->count2), "dense import: %s after PFADD", line);
    }
    tap_ok(line_reply_is(C, "PFCOUNT i:da i:db", ":23935\r\n"), "dense import: PFCOUNT i:da i:db");
    zfree(regs);
    zfree(v);
}

/* Exact counts of n distinct elements "el:<n>:<i>", added by pipelined
 * PFADDs of 100 elements each. changed = how many PFADDs answered 1; the
 * value's length and FNV-1a 64 are those of Redis' value after PFCOUNT. */
struct count_case {
    int n;
    int changed;
    long long count;
    const char *encoding;
    long long len;
    unsigned long long fnv;
};

static const struct count_case count_cases[] = {
    { 1, 1, 1, "sparse", 21, 0x217f55031585d4e0ULL },
    { 10, 1, 10, "sparse", 48, 0xca93b26370e83224ULL },
    { 100, 1, 99, "sparse", 278, 0x59b1f4db7a8598ceULL },
    { 1000, 10, 991, "sparse", 1888, 0x0901984a2edb1820ULL },
    { 20000, 200, 19797, "dense", 12304, 0x8bf4dd3e0fa202eeULL },
};

#define BATCH 100

/* Sends the PFADDs of elements [0, n) of set n (all pipelined), then reads
 * their replies; returns how many answered :1, or -1 on an unexpected
 * reply. */
static int pfadd_pipelined(int n)
{
    char key[32];
    char (*el)[32] = zmalloc(BATCH * sizeof *el);
    const char *argv[BATCH + 2];
    size_t lens[BATCH + 2];
    int sent = 0, ones = 0;
    snprintf(key, sizeof key, "n:%d", n);
    argv[0] = "PFADD";
    lens[0] = 5;
    argv[1] = key;
    lens[1] = strlen(key);
    for (int s = 0; s < n; s += BATCH) {
        int m = n - s < BATCH ? n - s : BATCH;
        for (int i = 0; i < m; i++) {
            lens[i + 2] = (size_t)snprintf(el[i], sizeof el[i], "el:%d:%d", n, s + i);
            argv[i + 2] = el[i];
        }
        if (conn_sendargv(C, m + 2, argv, lens) < 0)
            break;
        sent++;
    }
    for (int i = 0; i < sent; i++) {
        size_t rlen = 0;
        char *r = conn_reply(C, 10000, &rlen);
        if (r && rlen == 4 && memcmp(r, ":1\r\n", 4) == 0)
            ones++;
        else if (!r || rlen != 4 || memcmp(r, ":0\r\n", 4) != 0) {
            tap_diag("PFADD n:%d: reply %d is \"%s\"", n, i, r ? esc(r, rlen) : "(none)");
            ones = -1;
            zfree(r);
            break;
        }
        zfree(r);
    }
    zfree(el);
    return sent * BATCH >= n ? ones : -1;
}

static long long vlog_written(void)
{
    return srv_is_redis() ? -1 : conn_info_ll(C, "lsm", "vlog_bytes_written");
}

static void test_counts(void)
{
    char line[160];
    for (size_t i = 0; i < sizeof count_cases / sizeof count_cases[0]; i++) {
        const struct count_case *k = &count_cases[i];
        long long w0 = vlog_written();
        int ones = pfadd_pipelined(k->n);
        tap_ok(ones == k->changed, "count %d: %d of the pipelined PFADDs answered 1 (%d expected)", k->n,
               ones, k->changed);
        long long w1 = vlog_written();
        snprintf(line, sizeof line, "PFCOUNT n:%d", k->n);
        long long got = call_int(line);
        tap_ok(got == k->count, "count %d: PFCOUNT is %lld (%lld expected)", k->n, got, k->count);
        snprintf(line, sizeof line, "PFDEBUG ENCODING n:%d", k->n);
        char want[32];
        snprintf(want, sizeof want, "+%s\r\n", k->encoding);
        tap_ok(line_reply_is(C, line, want), "count %d: the HLL is %s", k->n, k->encoding);
        unsigned long long h = 0;
        snprintf(line, sizeof line, "n:%d", k->n);
        long long len = get_fnv(line, &h);
        tap_ok(len == k->len && h == k->fnv, "count %d: GET is Redis' value (%lld bytes, fnv %016llx)", k->n,
               len, h);
        if (w0 >= 0 && k->len == HLL_DENSE_LEN)
            tap_ok(w1 > w0, "count %d: the dense value went to the value log (%lld -> %lld)", k->n, w0, w1);
        ones = pfadd_pipelined(k->n);
        tap_ok(ones == 0, "count %d: adding the same elements again answers 0 every time", k->n);
        snprintf(line, sizeof line, "PFCOUNT n:%d", k->n);
        got = call_int(line);
        tap_ok(got == k->count, "count %d: PFCOUNT is still %lld", k->n, got);
    }
    /* the union of the five disjoint sets, counted and merged */
    tap_ok(line_reply_is(C, "PFCOUNT n:1 n:10 n:100 n:1000 n:20000", ":20856\r\n"),
           "count: PFCOUNT of the five sets");
    tap_ok(line_reply_is(C, "PFCOUNT n:1 n:10 n:100 n:1000", ":1103\r\n"), "count: PFCOUNT of the four sparse sets");
    tap_ok(line_reply_is(C, "PFMERGE n:all n:1 n:10 n:100 n:1000 n:20000", OK), "count: PFMERGE n:all of the five");
    unsigned long long h = 0;
    long long len = get_fnv("n:all", &h);
    tap_ok(len == HLL_DENSE_LEN && h == 0x5fd891c73555747eULL,
           "count: GET n:all is Redis' value (%lld bytes, fnv %016llx)", len, h);
    tap_ok(line_reply_is(C, "PFCOUNT n:all", ":20856\r\n"), "count: PFCOUNT n:all");
    len = get_fnv("n:all", &h);
    tap_ok(len == HLL_DENSE_LEN && h == 0x8e84455895acf65dULL,
           "count: GET n:all with its cached count (fnv %016llx)", h);
}

static const struct step multi_steps[] = {
    { "MULTI", OK },
    { "PFADD x:a a b c", QUEUED },
    { "PFADD x:a a", QUEUED },
    { "PFCOUNT x:a", QUEUED },
    { "PFCOUNT x:a x:none", QUEUED },
    { "PFMERGE x:m x:a", QUEUED },
    { "PFDEBUG ENCODING x:m", QUEUED },
    { "PFADD x:a", QUEUED },
    { "EXEC", "*7\r\n:1\r\n:0\r\n:3\r\n:3\r\n+OK\r\n+sparse\r\n:0\r\n" },
    { "GET x:a", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { "MULTI", OK },
    { "PFADD h:s x", QUEUED },
    { "PFCOUNT x:a", QUEUED },
    { "EXEC", "*2\r\n-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n:3\r\n" },
    { "MULTI", OK },
    { "PFADD", ARITY("pfadd") },
    { "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n" },
    { NULL, NULL },
};

/* Which commands touch a WATCHed key: client A puts w:k into a state,
 * WATCHes it, client B runs a command, A's MULTI/SET/EXEC succeeds (*1 +OK)
 * or is aborted (*-1); then A checks the key. exec NULL: either (not
 * asserted). */
enum { W_CACHED, W_STALE, W_CORRUPT, W_MISSING, W_STRING };

static const struct {
    const char *name;
    const char *setup[3];           /* on A before WATCH; NULL ends */
} watch_states[] = {
    [W_CACHED] = { "an HLL with its count cached", { "DEL w:k", "PFADD w:k a b c", "PFCOUNT w:k" } },
    [W_STALE] = { "an HLL with a stale cache", { "DEL w:k", "PFADD w:k a b c", NULL } },
    [W_CORRUPT] = { "a corrupt HLL",
                    { "SET w:k HYLL%01%00%00%00%00%00%00%00%00%00%00%80%7e%7f", NULL, NULL } },
    [W_MISSING] = { "no key", { "DEL w:k", NULL, NULL } },
    [W_STRING] = { "a string", { "SET w:k abc", NULL, NULL } },
};

struct watch_case {
    int state;                      /* W_* */
    const char *cmd;                /* on B */
    const char *reply;              /* B's reply, or NULL: any */
    const char *exec;               /* A's EXEC, or NULL: any */
    const char *after_cmd;          /* on A afterwards */
    const char *after;
};

#define EXEC_OK "*1\r\n+OK\r\n"
#define EXEC_ABORT "*-1\r\n"

static const struct watch_case watch_cases[] = {
    /* PFADD: only a change of a register (or a new key) touches the key */
    { W_CACHED, "PFADD w:k a", ":0\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_CACHED, "PFADD w:k", ":0\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_CACHED, "PFADD w:k d", ":1\r\n", EXEC_ABORT,
      "GET w:k", "$30\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%80%5c{%80Dv%80P%b1%84K%fb%80BZ\r\n" },
    { W_MISSING, "PFADD w:k", ":1\r\n", EXEC_ABORT,
      "GET w:k", EMPTY_HLL },
    { W_MISSING, "PFADD w:k a", ":1\r\n", EXEC_ABORT,
      "GET w:k", "$21\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80q%a6%84NW\r\n" },
    { W_STRING, "PFADD w:k a", WRONGTYPE, EXEC_OK,
      "GET w:k", "$3\r\nabc\r\n" },
    { W_CORRUPT, "PFADD w:k x", INVALIDOBJ, EXEC_OK,
      "GET w:k", "$18\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80~%7f\r\n" },
    /* PFCOUNT of one key writes a stale cache back, and that touches it;
     * a valid cache, or several keys, write nothing */
    { W_CACHED, "PFCOUNT w:k", ":3\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_STALE, "PFCOUNT w:k", ":3\r\n", EXEC_ABORT,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_STALE, "PFCOUNT w:k w:none", ":3\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_STALE, "PFCOUNT w:none w:k", ":3\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_MISSING, "PFCOUNT w:k", ":0\r\n", EXEC_OK,
      "GET w:k", NIL },
    { W_CORRUPT, "PFCOUNT w:k", INVALIDOBJ, EXEC_OK,
      "GET w:k", "$18\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80~%7f\r\n" },
    /* PFMERGE always touches its destination, never its sources */
    { W_CACHED, "PFMERGE w:k", OK, EXEC_ABORT,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_CACHED, "PFMERGE w:k w:k", OK, EXEC_ABORT,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_MISSING, "PFMERGE w:k", OK, EXEC_ABORT,
      "GET w:k", EMPTY_HLL },
    { W_STALE, "PFMERGE w:m w:k", OK, EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_STRING, "PFMERGE w:k", WRONGTYPE, EXEC_OK,
      "GET w:k", "$3\r\nabc\r\n" },
    /* PFDEBUG ENCODING and DECODE only read */
    { W_STALE, "PFDEBUG ENCODING w:k", "+sparse\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_STALE, "PFDEBUG DECODE w:k", "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n", EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%00%00%00%00%00%00%00%80`%f3%80P%b1%84K%fb%80BZ\r\n" },
    { W_CACHED, "PFSELFTEST", OK, EXEC_OK,
      "GET w:k", "$27\r\nHYLL%01%00%00%00%03%00%00%00%00%00%00%00`%f3%80P%b1%84K%fb%80BZ\r\n" },
    /* Redis 7.0 converts the key to dense for PFDEBUG TODENSE and GETREG
     * without touching it: a WATCH of it is not aborted, although GET then
     * answers other bytes */
    { W_STALE, "PFDEBUG TODENSE w:k", ":1\r\n", EXEC_OK, "STRLEN w:k", ":12304\r\n" },
    { W_STALE, "PFDEBUG GETREG w:k", NULL, EXEC_OK, "STRLEN w:k", ":12304\r\n" },
    { 0, NULL, NULL, NULL, NULL, NULL },
};

static void run_watch_cases(int port)
{
    struct conn *a = conn_tcp(port), *b = conn_tcp(port);
    if (!tap_ok(a && b, "watch: two connections")) {
        conn_close(a);
        conn_close(b);
        return;
    }
    for (const struct watch_case *w = watch_cases; w->cmd; w++) {
        const char *const *setup = watch_states[w->state].setup;
        for (int i = 0; i < 3 && setup[i]; i++)
            zfree(conn_call_line(a, setup[i], CALL_PCT, NULL));
        int ok = line_reply_is(a, "WATCH w:k", OK);
        if (w->reply)
            ok &= line_reply_is(b, w->cmd, w->reply);
        else
            zfree(conn_call_line(b, w->cmd, CALL_PCT, NULL));
        ok &= line_reply_is(a, "MULTI", OK);
        ok &= line_reply_is(a, "SET w:x 1", QUEUED);
        if (w->exec)
            ok &= line_reply_is(a, "EXEC", w->exec);
        else
            zfree(conn_call_line(a, "EXEC", CALL_PCT, NULL));
        ok &= line_reply_is(a, w->after_cmd, w->after);
        tap_ok(ok, "watch: on %s, B's %s %s the WATCH", watch_states[w->state].name, w->cmd,
               !w->exec ? "may abort" : strcmp(w->exec, EXEC_OK) == 0 ? "keeps" : "aborts");
    }
    conn_close(a);
    conn_close(b);
}

int main(void)
{
    harness_init(120);
    struct srv s;
    if (srv_start_args(&s, NULL) != 0)
        tap_bail("server did not start");
    C = conn_tcp(s.port);
    if (!C)
        tap_bail("no connection");
    run_steps("pfadd", pfadd_steps);
    run_steps("pfcount", pfcount_steps);
    run_steps("dense", dense_steps);
    run_steps("pfdebug", pfdebug_steps);
    test_getreg();
    run_steps("pfmerge", pfmerge_steps);
    run_steps("binary", binary_steps);
    test_import();
    test_dense_import();
    test_counts();
    run_steps("multi", multi_steps);
    run_watch_cases(s.port);
    conn_close(C);
    srv_stop(&s);
    return tap_done();
}
