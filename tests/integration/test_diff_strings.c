/* test_diff_strings.c: differential test. The same seeded random stream of
 * string commands (all of them), keyspace commands (DEL EXISTS TYPE PERSIST
 * EXPIRE/EXPIREAT/PEXPIRE/PEXPIREAT with NX XX GT LT, DBSIZE RENAME RENAMENX
 * COPY MOVE TOUCH UNLINK SWAPDB, a periodic FLUSHDB), the bitmap commands
 * (GETBIT SETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO), the
 * HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG ENCODING|DECODE; GET
 * compares the HLL strings' bytes) and SELECT --
 * valid and invalid arguments, wrong arities, NX/XX/GET/KEEPTTL, absolute expire
 * times in the past and relative ones far in the future so that timing
 * never matters, binary keys and values, sizes around the value-separation
 * threshold -- goes to lsmdb-server and to a real redis-server (pipelined,
 * up to 64 at a time); every raw RESP reply must be byte-identical. KEYS and SCAN
 * (glob patterns over the key pool, which holds "" and a binary key; SCAN
 * with a COUNT that covers the whole db, so both end in one call, and
 * sometimes TYPE) are compared with the keys of their arrays sorted, since
 * Redis lists them in hash order. MULTI, EXEC, DISCARD, WATCH and UNWATCH
 * come at random too, so commands are queued, transactions run or abort
 * (EXECABORT after a queued arity error, a watched key written), and
 * misplaced ones get their errors. TTL, PTTL, EXPIRETIME and PEXPIRETIME
 * are compared with a positive time made 1 (it depends on the moment),
 * RANDOMKEY only as key or null (the key depends on hash order); neither
 * is sent inside MULTI, nor are KEYS and SCAN (EXEC's nested reply is
 * compared as it is).
 *
 * At the end, the final values, INFO keyspace's counts and INFO stats'
 * keyspace_hits / keyspace_misses must be the same in both servers.
 * Odd seeds speak RESP3 (HELLO 3), even seeds RESP2.
 * Two clients per server share the stream: each batch (1 to 64 commands)
 * goes to one of them, its replies read before the next is sent.
 * SEED=n replays a run (the seed is printed first), OPS=n sets the number
 * of commands (default 50000). Seeds with bit 1 set run lsmdb with strings
 * kept in tiny chunks (CHUNK=n sets the size, 0 the default). Skipped when no redis-server is installed.
 * Keyspace commands the server does not know yet (COMMAND INFO answers
 * null) are left out of the stream, with a diagnostic. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

#define BATCH 64
#define MAX_ARGS 24

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* One command: arguments owned by a scratch arena (freed per batch). */
struct cmd {
    int argc;
    char *argv[MAX_ARGS];
    size_t len[MAX_ARGS];
};

static void add_arg(struct cmd *c, const void *p, size_t n)
{
    if (c->argc >= MAX_ARGS)
        return;
    c->argv[c->argc] = zmemdup(p, n);
    c->len[c->argc] = n;
    c->argc++;
}

static void add_str(struct cmd *c, const char *s)
{
    add_arg(c, s, strlen(s));
}

static void add_fmt(struct cmd *c, const char *fmt, long long v)
{
    char b[64];
    snprintf(b, sizeof b, fmt, v);
    add_str(c, b);
}

static void cmd_free(struct cmd *c)
{
    for (int i = 0; i < c->argc; i++)
        zfree(c->argv[i]);
    c->argc = 0;
}

/* ---- random pieces ---- */

static void add_key(struct cmd *c)
{
    static const char bin_key[] = "bin\0\r\nkey";
    unsigned r = pick(100);
    if (r < 3) {
        add_arg(c, bin_key, sizeof bin_key - 1);
    } else if (r < 5) {
        add_str(c, "");
    } else {
        char k[16];
        snprintf(k, sizeof k, "k%u", pick(24));
        add_str(c, k);
    }
}

static const char *const int_like[] = {
    "0", "1", "-1", "10", "42", "-7", "100", "9223372036854775807", "-9223372036854775808",
    "9223372036854775806", "-9223372036854775807", "9223372036854775808", "+1", "01", "-0",
    "1.5", "abc", "", " 1", "1 ", "99999999999999999999", "3", "123456",
};
static const char *const float_like[] = {
    "0", "1.5", "-0.25", "1e3", "3.0e-5", "-1e2", "0.1", "inf", "-inf", "nan", "abc", "",
    "1e400", "1e5000", "0x10", ".5", "5.", "+2", "1e-20", "12345.6789", "-0", " 1",
};

static void add_value(struct cmd *c)
{
    unsigned r = pick(100);
    if (r < 30) {
        add_str(c, int_like[pick(sizeof int_like / sizeof int_like[0])]);
    } else if (r < 40) {
        add_str(c, float_like[pick(sizeof float_like / sizeof float_like[0])]);
    } else if (r < 45) {
        static const char bin[] = "a\0b\r\nc\nd\r";
        add_arg(c, bin, sizeof bin - 1);
    } else if (r < 50) {
        /* around the value-separation threshold and a few larger sizes */
        static const size_t sizes[] = { 1024, 4095, 4096, 4097, 8000, 20000 };
        size_t n = sizes[pick(sizeof sizes / sizeof sizes[0])];
        char *v = zmalloc(n);
        unsigned seed = pick(26);
        for (size_t i = 0; i < n; i++)
            v[i] = (char)('a' + (i + seed) % 26);
        add_arg(c, v, n);
        zfree(v);
    } else {
        char v[24];
        unsigned n = pick(12);
        for (unsigned i = 0; i < n; i++)
            v[i] = (char)('a' + pick(26));
        add_arg(c, v, n);
    }
}

/* An expire argument for a unit: mostly valid and far away, sometimes
 * invalid (0, negative, overflowing, not a number); absolute times are in
 * the past (1) or far in the future. Valid times fall on a 100-second
 * grid, absolute ones 50 s off it, so two expires compared (GT/LT) differ
 * by more than a run lasts (under 50 s), or are the same absolute time.
 * A relative time is never drawn twice in a run: the same one again,
 * compared (PEXPIRE k X GT after PSETEX k X), gives 1 on a server whose
 * clock moved a millisecond between the two commands and 0 on one whose
 * did not (seed 6386 under load). */
#define TIME_GRID 100000
static unsigned char rel_used[TIME_GRID / 8];

static long long grid_point(void)
{
    return 100 * (long long)pick(TIME_GRID);
}

/* A relative grid point not drawn before in this run. */
static long long grid_point_new(void)
{
    static unsigned drawn;
    unsigned i = pick(TIME_GRID);
    if (drawn++ == TIME_GRID) {       /* every point used: a run too long anyway */
        memset(rel_used, 0, sizeof rel_used);
        drawn = 1;
    }
    while (rel_used[i / 8] & (1u << (i % 8)))
        i = (i + 1) % TIME_GRID;
    rel_used[i / 8] |= (unsigned char)(1u << (i % 8));
    return 100 * (long long)i;
}

static void add_time(struct cmd *c, const char *unit, long long now_s)
{
    unsigned r = pick(100);
    int abs_s = !strcasecmp(unit, "EXAT"), abs_ms = !strcasecmp(unit, "PXAT");
    int ms = !strcasecmp(unit, "PX") || abs_ms;
    if (r < 8) {
        static const char *const bad[] = { "0", "-1", "abc", "9223372036854775807",
                                           "9223372036854775", "1.5", "" };
        add_str(c, bad[pick(sizeof bad / sizeof bad[0])]);
    } else if (r < 18 && (abs_s || abs_ms)) {
        add_str(c, "1");   /* in the past: the key goes away */
    } else if (abs_s) {
        add_fmt(c, "%lld", now_s + 100050 + grid_point());
    } else if (abs_ms) {
        add_fmt(c, "%lld", (now_s + 100050 + grid_point()) * 1000);
    } else {
        long long sec = 100000 + grid_point_new();
        add_fmt(c, "%lld", ms ? sec * 1000 : sec);
    }
}

static const char *const set_opts[] = { "NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT",
                                        "PXAT", "nx", "get", "ex", "PERSIST", "foo" };
static const char *const getex_opts[] = { "EX", "PX", "EXAT", "PXAT", "PERSIST", "persist",
                                          "NX", "KEEPTTL" };

static void add_options(struct cmd *c, const char *const *opts, unsigned nopts,
                        long long now_s)
{
    unsigned n = pick(100) < 50 ? 0 : 1 + pick(3);
    for (unsigned i = 0; i < n; i++) {
        const char *o = opts[pick(nopts)];
        add_str(c, o);
        if (!strcasecmp(o, "EX") || !strcasecmp(o, "PX") || !strcasecmp(o, "EXAT") ||
            !strcasecmp(o, "PXAT")) {
            if (pick(100) < 97)
                add_time(c, o, now_s);
        }
    }
}

/* A glob pattern over the key pool's bytes: "", "*", "**" and other runs of
 * stars (which Redis does not match against ""), sets, ranges, escapes. */
static void add_pattern(struct cmd *c)
{
    static const char *const fixed[] = { "", "*", "**", "***", "k*", "k?", "k1*", "*\\r*",
                                         "bin*", "[" };
    static const char alpha[] = "k0129*?*[]^-\\b\r";
    if (pick(100) < 40) {
        add_str(c, fixed[pick(sizeof fixed / sizeof fixed[0])]);
        return;
    }
    char p[8];
    unsigned n = 1 + pick(6);
    for (unsigned i = 0; i < n; i++)
        p[i] = alpha[pick(sizeof alpha - 1)];
    add_arg(c, p, n);
}

static void add_index(struct cmd *c)
{
    static const char *const special[] = { "-1", "-100", "100000", "abc", "",
                                           "9223372036854775807", "-9223372036854775808" };
    if (pick(100) < 15)
        add_str(c, special[pick(sizeof special / sizeof special[0])]);
    else
        add_fmt(c, "%lld", (long long)pick(40) - 20);
}

/* A bit offset: mostly within or just past the pool's values, now and
 * then negative, not a number, or past the 512MB limit; with field, also
 * BITFIELD's "#n" (n times the field's width). Never the last valid bit
 * (4294967295): a SETBIT there makes a 512MB string, which would slow the
 * whole stream down (test_bitmap reads that bit). */
static void add_bit_offset(struct cmd *c, int field)
{
    static const char *const special[] = { "-1", "abc", "", "4294967296", "+3",
                                           "99999999999999999999" };
    unsigned r = pick(100);
    if (r < 6)
        add_str(c, special[pick(sizeof special / sizeof special[0])]);
    else if (field && r < 25)
        add_fmt(c, pick(10) ? "#%lld" : "#-%lld", (long long)pick(12));
    else
        add_fmt(c, "%lld", (long long)pick(r < 80 ? 40 : 400));
}

/* A BITCOUNT/BITPOS unit word. */
static void add_bit_unit(struct cmd *c)
{
    add_str(c, (const char *[]){ "BIT", "BYTE", "bit", "byte", "bits" }[pick(5)]);
}

/* A BITFIELD subcommand (mostly well formed). */
static void add_bitfield_op(struct cmd *c, int readonly)
{
    static const char *const types[] = { "i1", "i5", "i8", "u1", "u7", "u8", "i16", "u16",
                                         "i32", "u32", "i63", "u63", "i64", "u64", "i65",
                                         "x8", "I8", "i0", "u", "" };
    static const char *const values[] = { "0", "1", "-1", "7", "100", "-100", "127", "128",
                                          "255", "256", "-129", "1000000",
                                          "9223372036854775807", "-9223372036854775808",
                                          "x", "" };
    unsigned r = pick(100);
    int ntypes = pick(100) < 92 ? 14 : (int)(sizeof types / sizeof types[0]);
    if (r < (readonly ? 85u : 35u)) {
        add_str(c, pick(2) ? "GET" : "get");
        add_str(c, types[pick((unsigned)ntypes)]);
        add_bit_offset(c, 1);
    } else if (r < 92) {
        add_str(c, r < 65 ? "SET" : "INCRBY");
        add_str(c, types[pick((unsigned)ntypes)]);
        add_bit_offset(c, 1);
        add_str(c, values[pick(pick(100) < 90 ? 14 : sizeof values / sizeof values[0])]);
    } else {
        add_str(c, "OVERFLOW");
        add_str(c, (const char *[]){ "WRAP", "SAT", "FAIL", "fail", "WRAPS" }[pick(5)]);
    }
}

/* ---- the command generator ---- */

enum gen {
    G_GET, G_SET, G_SETNX, G_SETEX, G_PSETEX, G_GETSET, G_GETDEL, G_GETEX, G_MGET, G_MSET,
    G_MSETNX, G_INCR, G_DECR, G_INCRBY, G_DECRBY, G_INCRBYFLOAT, G_APPEND, G_STRLEN,
    G_GETRANGE, G_SETRANGE, G_SUBSTR, G_LCS,
    /* keyspace commands (used when the server knows them) */
    G_SELECT,
    G_DEL, G_EXISTS, G_TYPE, G_PERSIST, G_EXPIRE, G_PEXPIREAT, G_DBSIZE, G_RENAME,
    G_FLUSHDB, G_SWAPDB, G_COPY, G_RENAMENX, G_MOVE, G_TOUCH, G_UNLINK, G_EXPIREAT,
    G_PEXPIRE, G_KEYS, G_SCAN, G_MULTI, G_EXEC, G_DISCARD, G_WATCH, G_UNWATCH,
    G_TTL, G_PTTL, G_EXPIRETIME, G_PEXPIRETIME, G_RANDOMKEY,
    /* bitmap commands over strings (used when the server knows them) */
    G_GETBIT, G_SETBIT, G_BITCOUNT, G_BITPOS, G_BITOP, G_BITFIELD, G_BITFIELD_RO,
    /* HyperLogLog commands over strings (used when the server knows them) */
    G_PFADD, G_PFCOUNT, G_PFMERGE, G_PFDEBUG,
    G_COUNT
};

static const struct {
    const char *name;
    int weight;
    int keyspace;
} gens[G_COUNT] = {
    [G_GET] = { "get", 12, 0 },        [G_SET] = { "set", 14, 0 },
    [G_SETNX] = { "setnx", 3, 0 },     [G_SETEX] = { "setex", 3, 0 },
    [G_PSETEX] = { "psetex", 2, 0 },   [G_GETSET] = { "getset", 3, 0 },
    [G_GETDEL] = { "getdel", 3, 0 },   [G_GETEX] = { "getex", 5, 0 },
    [G_MGET] = { "mget", 4, 0 },       [G_MSET] = { "mset", 3, 0 },
    [G_MSETNX] = { "msetnx", 2, 0 },   [G_INCR] = { "incr", 5, 0 },
    [G_DECR] = { "decr", 2, 0 },       [G_INCRBY] = { "incrby", 4, 0 },
    [G_DECRBY] = { "decrby", 3, 0 },   [G_INCRBYFLOAT] = { "incrbyfloat", 5, 0 },
    [G_APPEND] = { "append", 5, 0 },   [G_STRLEN] = { "strlen", 3, 0 },
    [G_GETRANGE] = { "getrange", 4, 0 }, [G_SETRANGE] = { "setrange", 4, 0 },
    [G_SUBSTR] = { "substr", 1, 0 },   [G_LCS] = { "lcs", 2, 0 },
    [G_DEL] = { "del", 4, 1 },
    [G_EXISTS] = { "exists", 3, 1 },   [G_TYPE] = { "type", 1, 1 },
    [G_PERSIST] = { "persist", 2, 1 }, [G_EXPIRE] = { "expire", 2, 1 },
    [G_PEXPIREAT] = { "pexpireat", 1, 1 }, [G_DBSIZE] = { "dbsize", 1, 1 },
    [G_RENAME] = { "rename", 1, 1 },   [G_SELECT] = { "select", 1, 0 },
    [G_FLUSHDB] = { "flushdb", 0, 1 },  [G_SWAPDB] = { "swapdb", 1, 1 },
    [G_COPY] = { "copy", 2, 1 },       [G_RENAMENX] = { "renamenx", 1, 1 },
    [G_MOVE] = { "move", 1, 1 },       [G_TOUCH] = { "touch", 1, 1 },
    [G_UNLINK] = { "unlink", 1, 1 },   [G_EXPIREAT] = { "expireat", 1, 1 },
    [G_PEXPIRE] = { "pexpire", 1, 1 },  [G_KEYS] = { "keys", 1, 1 },
    [G_SCAN] = { "scan", 1, 1 },      [G_MULTI] = { "multi", 2, 1 },
    [G_EXEC] = { "exec", 2, 1 },       [G_DISCARD] = { "discard", 1, 1 },
    [G_WATCH] = { "watch", 2, 1 },     [G_UNWATCH] = { "unwatch", 1, 1 },
    [G_TTL] = { "ttl", 2, 1 },         [G_PTTL] = { "pttl", 1, 1 },
    [G_EXPIRETIME] = { "expiretime", 1, 1 }, [G_PEXPIRETIME] = { "pexpiretime", 1, 1 },
    [G_RANDOMKEY] = { "randomkey", 1, 1 },
    [G_GETBIT] = { "getbit", 3, 1 },   [G_SETBIT] = { "setbit", 4, 1 },
    [G_BITCOUNT] = { "bitcount", 3, 1 }, [G_BITPOS] = { "bitpos", 3, 1 },
    [G_BITOP] = { "bitop", 2, 1 },     [G_BITFIELD] = { "bitfield", 4, 1 },
    [G_BITFIELD_RO] = { "bitfield_ro", 1, 1 },
    [G_PFADD] = { "pfadd", 5, 1 },     [G_PFCOUNT] = { "pfcount", 3, 1 },
    [G_PFMERGE] = { "pfmerge", 2, 1 }, [G_PFDEBUG] = { "pfdebug", 1, 1 },
};

static int enabled[G_COUNT];
static int total_weight;

/* Redis keeps a key SET with a past EXAT/PXAT in its dictionary until it is
 * touched (DBSIZE counts it meanwhile); lsmdb drops it at once. A GET of the
 * key right after such a SET makes both agree whatever the timing. */
static struct cmd follow_up;

static int past_time_set(const struct cmd *c)
{
    for (int i = 3; i + 1 < c->argc; i++)
        if ((!strcasecmp(c->argv[i], "EXAT") || !strcasecmp(c->argv[i], "PXAT")) &&
            strcmp(c->argv[i + 1], "1") == 0)
            return 1;
    return 0;
}

/* Whether each client is between MULTI and EXEC/DISCARD: commands whose
 * replies are compared after canonical_reply() are not generated there
 * (they would be nested in EXEC's reply, which it does not reach). */
static int in_multi[2];
static int cur;                 /* the client the batch goes to */

static void track_multi(const struct cmd *c)
{
    const char *n = c->argv[0];
    if (!strcasecmp(n, "multi") && c->argc == 1)
        in_multi[cur] = 1;
    else if (!strcasecmp(n, "exec") || (!strcasecmp(n, "discard") && c->argc == 1))
        in_multi[cur] = 0;   /* a rejected EXEC discards too */
}

static void gen_command(struct cmd *c, long long now_s)
{
    static long generated;
    if (follow_up.argc) {
        *c = follow_up;
        follow_up.argc = 0;
        return;
    }
    if (++generated % 5000 == 0 && enabled[G_FLUSHDB]) {
        add_str(c, "flushdb");   /* now and then, start the db afresh */
        return;
    }
    int g;
    do {
        int w = (int)pick((unsigned)total_weight);
        for (g = 0; g < G_COUNT; g++) {
            if (!enabled[g])
                continue;
            if (w < gens[g].weight)
                break;
            w -= gens[g].weight;
        }
    } while (in_multi[cur] && (g == G_KEYS || g == G_SCAN || g == G_TTL || g == G_PTTL ||
                               g == G_EXPIRETIME || g == G_PEXPIRETIME || g == G_RANDOMKEY));
    /* 2% of the time, a wrong number of arguments */
    int arity_bug = pick(100) < 2;
    add_str(c, gens[g].name);
    switch (g) {
    case G_GET: case G_GETDEL: case G_INCR: case G_DECR: case G_STRLEN:
    case G_TYPE: case G_PERSIST: case G_TTL: case G_PTTL: case G_EXPIRETIME:
    case G_PEXPIRETIME:
        add_key(c);
        break;
    case G_SET:
        add_key(c);
        add_value(c);
        add_options(c, set_opts, sizeof set_opts / sizeof set_opts[0], now_s);
        break;
    case G_SETNX: case G_GETSET: case G_APPEND:
        add_key(c);
        add_value(c);
        break;
    case G_SETEX: case G_PSETEX:
        add_key(c);
        add_time(c, g == G_SETEX ? "EX" : "PX", now_s);
        add_value(c);
        break;
    case G_GETEX:
        add_key(c);
        add_options(c, getex_opts, sizeof getex_opts / sizeof getex_opts[0], now_s);
        break;
    case G_MGET: case G_DEL: case G_EXISTS: {
        unsigned n = 1 + pick(5);
        for (unsigned i = 0; i < n; i++)
            add_key(c);
        break;
    }
    case G_MSET: case G_MSETNX: {
        unsigned n = 1 + pick(4);
        for (unsigned i = 0; i < n; i++) {
            add_key(c);
            add_value(c);
        }
        break;
    }
    case G_INCRBY: case G_DECRBY:
        add_key(c);
        add_str(c, int_like[pick(sizeof int_like / sizeof int_like[0])]);
        break;
    case G_INCRBYFLOAT:
        add_key(c);
        add_str(c, float_like[pick(sizeof float_like / sizeof float_like[0])]);
        break;
    case G_GETRANGE: case G_SUBSTR:
        add_key(c);
        add_index(c);
        add_index(c);
        break;
    case G_LCS: {
        /* options in any order, now and then a bad or conflicting one */
        static const char *const minlen[] = { "0", "1", "2", "3", "-1", "x", "" };
        add_key(c);
        add_key(c);
        for (unsigned n = pick(4); n > 0; n--) {
            unsigned r = pick(100);
            if (r < 30) {
                add_str(c, pick(2) ? "IDX" : "idx");
            } else if (r < 45) {
                add_str(c, "LEN");
            } else if (r < 70) {
                add_str(c, "MINMATCHLEN");
                if (pick(100) < 95)
                    add_str(c, minlen[pick(sizeof minlen / sizeof minlen[0])]);
            } else if (r < 95) {
                add_str(c, "WITHMATCHLEN");
            } else {
                add_str(c, "foo");
            }
        }
        break;
    }
    case G_SETRANGE:
        add_key(c);
        if (pick(100) < 5)
            add_str(c, pick(2) ? "536870912" : "-1");
        else
            add_index(c);
        add_value(c);
        break;
    case G_EXPIRE: case G_EXPIREAT: case G_PEXPIRE: {
        static const char *const expire_opts[] = { "NX", "XX", "GT", "LT", "nx", "foo" };
        add_key(c);
        add_time(c, g == G_EXPIRE ? "EX" : g == G_EXPIREAT ? "EXAT" : "PX", now_s);
        if (pick(100) < 30)
            add_str(c, expire_opts[pick(sizeof expire_opts / sizeof expire_opts[0])]);
        if (pick(100) < 5)
            add_str(c, expire_opts[pick(sizeof expire_opts / sizeof expire_opts[0])]);
        break;
    }
    case G_COPY: {
        add_key(c);
        add_key(c);
        unsigned r = pick(100);
        if (r < 20) {
            add_str(c, "DB");
            add_str(c, (const char *[]){ "0", "1", "2", "16", "-1", "x" }[pick(6)]);
        }
        if (pick(100) < 30)
            add_str(c, "REPLACE");
        break;
    }
    case G_RENAMENX:
        add_key(c);
        add_key(c);
        break;
    case G_MOVE:
        add_key(c);
        add_str(c, (const char *[]){ "0", "1", "2", "16", "-1", "x" }[pick(6)]);
        break;
    case G_TOUCH: case G_UNLINK: {
        unsigned n = 1 + pick(3);
        for (unsigned i = 0; i < n; i++)
            add_key(c);
        break;
    }
    case G_PEXPIREAT:
        add_key(c);
        add_time(c, "PXAT", now_s);
        break;
    case G_DBSIZE:
        break;
    case G_KEYS:
        add_pattern(c);
        break;
    case G_MULTI: case G_EXEC: case G_DISCARD: case G_UNWATCH: case G_RANDOMKEY:
        break;
    case G_WATCH: {
        unsigned n = 1 + pick(3);
        for (unsigned i = 0; i < n; i++)
            add_key(c);
        break;
    }
    case G_SCAN: {
        /* COUNT first or last; the cursor is always 0 (cursors differ). */
        int count_first = (int)pick(2);
        add_str(c, "0");
        if (count_first) {
            add_str(c, "COUNT");
            add_str(c, "1000");
        }
        if (pick(100) < 70) {
            add_str(c, pick(2) ? "MATCH" : "match");
            add_pattern(c);
        }
        if (pick(100) < 20) {
            add_str(c, "TYPE");
            add_str(c, (const char *[]){ "string", "STRING", "hash", "none" }[pick(4)]);
        }
        if (!count_first) {
            add_str(c, "count");
            add_str(c, "1000");
        }
        break;
    }
    case G_SELECT:
        add_str(c, pick(20) ? (const char *[]){ "0", "1", "2" }[pick(3)] : "16");
        break;
    case G_FLUSHDB:
        break;
    case G_SWAPDB:
        add_fmt(c, "%lld", (long long)pick(3));
        add_fmt(c, "%lld", (long long)pick(3));
        break;
    case G_RENAME:
        add_key(c);
        add_key(c);
        break;
    case G_GETBIT:
        add_key(c);
        add_bit_offset(c, 0);
        break;
    case G_SETBIT:
        add_key(c);
        add_bit_offset(c, 0);
        add_str(c, pick(100) < 90 ? (pick(2) ? "1" : "0")
                                  : (const char *[]){ "2", "-1", "x", "" }[pick(4)]);
        break;
    case G_BITCOUNT: case G_BITPOS: {
        unsigned n = pick(5);       /* arguments after the key (and the bit) */
        add_key(c);
        if (g == G_BITPOS)
            add_str(c, pick(100) < 93 ? (pick(2) ? "1" : "0")
                                      : (const char *[]){ "2", "x", "-1" }[pick(3)]);
        for (unsigned i = 0; i < n && i < 2; i++)
            add_index(c);
        if (n >= 3)
            add_bit_unit(c);
        if (n >= 4)
            add_str(c, "extra");
        break;
    }
    case G_BITOP: {
        unsigned n = 1 + pick(3);
        add_str(c, (const char *[]){ "AND", "or", "XOR", "NOT", "not", "foo" }[pick(6)]);
        add_key(c);
        for (unsigned i = 0; i < n; i++)
            add_key(c);
        break;
    }
    case G_BITFIELD: case G_BITFIELD_RO: {
        unsigned n = pick(5);
        add_key(c);
        for (unsigned i = 0; i < n; i++)
            add_bitfield_op(c, g == G_BITFIELD_RO);
        if (pick(100) < 3)
            add_str(c, "GET");      /* a subcommand short of its arguments */
        break;
    }
    case G_PFADD: {
        /* mostly a few elements; now and then hundreds, so that some HLLs
         * outgrow the sparse form */
        unsigned n = pick(100) < 4 ? 100 + pick(400) : pick(6);
        add_key(c);
        for (unsigned i = 0; i < n; i++) {
            if (pick(100) < 3)
                add_arg(c, "\0\r\n", 3 - pick(3));
            else
                add_fmt(c, "%u", pick(20000));
        }
        break;
    }
    case G_PFCOUNT: case G_PFMERGE: {
        unsigned n = 1 + pick(g == G_PFCOUNT && pick(2) ? 1 : 3);
        for (unsigned i = 0; i < n; i++)
            add_key(c);
        break;
    }
    case G_PFDEBUG:
        add_str(c, (const char *[]){ "ENCODING", "decode", "foo" }[pick(3)]);
        add_key(c);
        break;
    }
    if (arity_bug) {
        if (c->argc > 1 && pick(2))
            zfree(c->argv[--c->argc]);
        else
            add_str(c, "extra");
    }
    track_multi(c);
    if (g == G_SET && c->argc > 2 && past_time_set(c)) {
        add_str(&follow_up, "get");
        add_arg(&follow_up, c->argv[1], c->len[1]);
    }
}

/* ---- running ---- */

/* Parses a bulk string at *p (end e): 0 and *p past it, or -1. */
static int skip_bulk(const char **p, const char *e)
{
    const char *q = *p;
    if (q >= e || *q != '$')
        return -1;
    char *end;
    long n = strtol(q + 1, &end, 10);
    if (n < 0 || end + 2 > e || end[0] != '\r' || end[1] != '\n' || end + 2 + n + 2 > e)
        return -1;
    *p = end + 2 + n + 2;
    return 0;
}

struct elem {
    const char *p;      /* the whole "$n\r\n...\r\n" */
    size_t len;
};

static int elem_cmp(const void *a, const void *b)
{
    const struct elem *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts, in place, the bulk strings of the array at r + off (KEYS' reply,
 * or SCAN's second element); leaves anything else (errors) as it is. */
static void sort_array_at(char *r, size_t len, size_t off)
{
    const char *p = r + off, *e = r + len;
    if (p >= e || *p != '*')
        return;
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (n < 2 || end + 2 > e || end[0] != '\r')
        return;
    const char *first = end + 2, *q = first;
    struct elem *v = zmalloc(sizeof(*v) * (size_t)n);
    for (long i = 0; i < n; i++) {
        const char *s = q;
        if (skip_bulk(&q, e) != 0) {
            zfree(v);
            return;
        }
        v[i].p = s;
        v[i].len = (size_t)(q - s);
    }
    qsort(v, (size_t)n, sizeof(*v), elem_cmp);
    size_t total = (size_t)(q - first), at = 0;
    char *tmp = zmalloc(total);
    for (long i = 0; i < n; i++) {
        memcpy(tmp + at, v[i].p, v[i].len);
        at += v[i].len;
    }
    memcpy(r + (first - r), tmp, total);
    zfree(tmp);
    zfree(v);
}

/* KEYS and SCAN list keys in hash order in Redis: compare them sorted.
 * A remaining time or an expire time (from a relative EX/PX) depends on
 * the moment: a positive one becomes 1. RANDOMKEY's key depends on hash
 * order: a key becomes +KEY (a null stays). Returns the new length. */
static size_t canonical_reply(const struct cmd *c, char *r, size_t len)
{
    if (!r || c->argc < 1)
        return len;
    const char *n = c->argv[0];
    if (!strcasecmp(n, "ttl") || !strcasecmp(n, "pttl") || !strcasecmp(n, "expiretime") ||
        !strcasecmp(n, "pexpiretime")) {
        if (len > 3 && r[0] == ':' && r[1] >= '1' && r[1] <= '9') {
            memcpy(r, ":1\r\n", 4);
            return 4;
        }
    } else if (!strcasecmp(n, "randomkey")) {
        if (len >= 6 && r[0] == '$' && r[1] != '-') {
            memcpy(r, "+KEY\r\n", 6);
            return 6;
        }
    } else if (!strcasecmp(n, "keys")) {
        sort_array_at(r, len, 0);
    } else if (!strcasecmp(c->argv[0], "scan") && len > 4 && !memcmp(r, "*2\r\n", 4)) {
        const char *p = r + 4;
        if (skip_bulk(&p, r + len) == 0)
            sort_array_at(r, len, (size_t)(p - r));
    }
    return len;
}

static int known_command(struct conn *c, const char *name)
{
    char *r = conn_call(c, "COMMAND", "INFO", name, NULL);
    int known = r && strncmp(r, "*1\r\n*", 5) == 0;
    zfree(r);
    return known;
}

static void format_cmd(const struct cmd *c, char *line, size_t size, size_t max_arg)
{
    size_t pos = 0;
    line[0] = '\0';
    for (int i = 0; i < c->argc && pos + 64 < size; i++) {
        size_t n = c->len[i] > max_arg ? max_arg : c->len[i];
        pos += (size_t)snprintf(line + pos, size - pos, "%s\"%s\"%s", i ? " " : "",
                                esc(c->argv[i], n), n < c->len[i] ? "..." : "");
    }
}

static void print_cmd(const struct cmd *c)
{
    char line[2048];
    format_cmd(c, line, sizeof line, 200);
    tap_diag("command: %s", line);
}

/* The commands sent last, shown when a reply differs (HISTORY=n, default
 * 40): what led to the state that differs. */
#define HISTORY_MAX 1000
static char *history[HISTORY_MAX];
static long history_n, history_keep = 40;

static void remember(const struct cmd *c)
{
    char line[512];
    int at0 = snprintf(line, sizeof line, "[client %d] ", cur);
    format_cmd(c, line + at0, sizeof line - (size_t)at0, 24);
    long at = history_n++ % history_keep;
    zfree(history[at]);
    history[at] = zstrdup(line);
}

static void print_history(long upto)
{
    long from = upto - history_keep > 0 ? upto - history_keep : 0;
    for (long k = from; k < upto; k++)
        tap_diag("  #%ld: %s", k + 1, history[k % history_keep]);
}

/* "db0:keys=3,expires=1 db2:keys=1,expires=0 " from INFO keyspace, or
 * NULL when the reply is not INFO's bulk string. */
static char *keyspace_counts(int port)
{
    struct conn *c = conn_tcp(port);
    char *r = c ? conn_call(c, "INFO", "keyspace", NULL) : NULL;
    conn_close(c);
    if (!r || r[0] != '$') {
        zfree(r);
        return NULL;
    }
    size_t cap = strlen(r) + 1, n = 0;
    char *out = zmalloc(cap);
    out[0] = '\0';
    for (const char *p = strstr(r, "\r\n") + 2; (p = strstr(p, "db")) != NULL;) {
        const char *end = strstr(p, ",avg_ttl=");
        const char *eol = strstr(p, "\r\n");
        if (!end || !eol || end > eol)
            break;
        n += (size_t)snprintf(out + n, cap - n, "%.*s ", (int)(end - p), p);
        p = eol;
    }
    zfree(r);
    return out;
}

/* "keyspace_hits:N keyspace_misses:M" from INFO stats (allocated; NULL
 * when either is missing). */
static char *lookup_counts(int port)
{
    struct conn *c = conn_tcp(port);
    char *r = c ? conn_call(c, "INFO", "stats", NULL) : NULL;
    conn_close(c);
    char *out = NULL;
    const char *h = r ? strstr(r, "keyspace_hits:") : NULL;
    const char *m = r ? strstr(r, "keyspace_misses:") : NULL;
    if (h && m) {
        out = zmalloc(128);
        snprintf(out, 128, "%.*s %.*s", (int)strcspn(h, "\r"), h, (int)strcspn(m, "\r"), m);
    }
    zfree(r);
    return out;
}

/* One check: lsmdb's counters a equal redis-server's b (both allocated,
 * freed here; NULL when the server did not give them). */
static void same_counts(char *a, char *b, const char *what)
{
    if (tap_ok(a && b && strcmp(a, b) == 0, "%s", what))
        tap_diag("both: %s", a);
    else
        tap_diag("lsmdb: %s; redis: %s", a ? a : "(none)", b ? b : "(none)");
    zfree(a);
    zfree(b);
}

int main(void)
{
    harness_init(600);
    if (!redis_binary())
        tap_skip_all("redis-server is not installed");
    const char *e = getenv("SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    e = getenv("OPS");
    long ops = e && *e ? atol(e) : 50000;
    e = getenv("HISTORY");
    if (e && atol(e) > 0)
        history_keep = atol(e) < HISTORY_MAX ? atol(e) : HISTORY_MAX;
    printf("# SEED=%" PRIu64 " OPS=%ld\n", seed, ops);
    rng_state = seed ? seed : 1;

    /* Seeds with bit 1 set keep strings in tiny chunks (8-39 bytes): every
     * APPEND, SETRANGE and SETBIT that leaves a string of twice that size
     * or more goes through the chunked layout, across many chunk
     * boundaries. CHUNK=n sets the size (0: the default config). */
    long chunk = (seed >> 1) & 1 ? 8 + (long)((seed >> 2) % 32) : 0;
    e = getenv("CHUNK");
    if (e && *e)
        chunk = atol(e);
    char chunk_arg[32];
    snprintf(chunk_arg, sizeof chunk_arg, "%ld", chunk);
    const char *const chunk_args[] = { "--string-chunk-size", chunk_arg, NULL };
    if (chunk > 0)
        printf("# string-chunk-size %ld\n", chunk);
    struct srv ls, rs;
    srv_start_pair_args(&ls, &rs, chunk > 0 ? chunk_args : NULL);
    /* Two clients per server: each batch goes to one of them, and its
     * replies are read before the next batch is sent, so both servers see
     * the same interleaving (WATCH by one client, writes by the other). */
    struct conn *lcs[2], *rcs[2];
    for (int k = 0; k < 2; k++) {
        lcs[k] = conn_tcp(ls.port);
        rcs[k] = conn_tcp(rs.port);
        if (!lcs[k] || !rcs[k])
            tap_bail("no connection");
    }
    struct conn *lc = lcs[0], *rc = rcs[0];

    /* Every other seed runs the stream in RESP3 (HELLO 3 on both sides). */
    int resp3 = (int)(seed & 1);
    for (int k = 0; k < 2 && resp3; k++) {
        char *a = conn_call(lcs[k], "HELLO", "3", NULL), *b = conn_call(rcs[k], "HELLO", "3", NULL);
        if (!a || !b || a[0] != '%' || b[0] != '%')
            tap_bail("HELLO 3 failed");
        zfree(a);
        zfree(b);
    }
    tap_diag("protocol: RESP%d", resp3 ? 3 : 2);
    for (int g = 0; g < G_COUNT; g++) {
        enabled[g] = !gens[g].keyspace || known_command(lc, gens[g].name);
        if (!enabled[g])
            tap_diag("left out (unknown to the server): %s", gens[g].name);
        else
            total_weight += gens[g].weight;
    }

    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long now_s = (long long)tv.tv_sec;
    struct cmd batch[BATCH];
    memset(batch, 0, sizeof batch);
    long done = 0, mismatches = 0, nulls = 0;
    long kinds[256] = { 0 };
    long long t0 = now_ms();
    while (done < ops && !mismatches) {
        /* A pending follow-up GET goes where its SET went. */
        if (!follow_up.argc)
            cur = (int)pick(2);
        lc = lcs[cur];
        rc = rcs[cur];
        int n = (int)(ops - done < BATCH ? ops - done : BATCH);
        n = 1 + (int)pick((unsigned)n);
        for (int i = 0; i < n; i++) {
            gen_command(&batch[i], now_s);
            remember(&batch[i]);
            conn_sendargv(lc, batch[i].argc, (const char *const *)batch[i].argv, batch[i].len);
            conn_sendargv(rc, batch[i].argc, (const char *const *)batch[i].argv, batch[i].len);
        }
        for (int i = 0; i < n; i++) {
            size_t ll = 0, rl = 0;
            char *a = conn_reply(lc, 10000, &ll);
            char *b = conn_reply(rc, 10000, &rl);
            ll = canonical_reply(&batch[i], a, ll);
            rl = canonical_reply(&batch[i], b, rl);
            if (!mismatches && (!a || !b || ll != rl || memcmp(a, b, ll) != 0)) {
                mismatches++;
                tap_diag("first difference at command #%ld (SEED=%" PRIu64 ")", done + i + 1,
                         seed);
                print_cmd(&batch[i]);
                tap_diag("the commands before it:");
                print_history(done + i);
                /* From a little before the first differing byte. */
                size_t at = 0;
                while (a && b && at < ll && at < rl && a[at] == b[at])
                    at++;
                at = at > 60 ? at - 60 : 0;
                if (at)
                    tap_diag("replies agree on their first %zu bytes", at);
                tap_diag("lsmdb: %s", a ? esc(a + at, ll - at > 300 ? 300 : ll - at) : "(no reply)");
                tap_diag("redis: %s", b ? esc(b + at, rl - at > 300 ? 300 : rl - at) : "(no reply)");
            }
            if (b)
                kinds[(unsigned char)b[0]]++;
            if (b && (strncmp(b, "$-1", 3) == 0 || b[0] == '_'))
                nulls++;
            zfree(a);
            zfree(b);
            cmd_free(&batch[i]);
        }
        done += n;
    }
    tap_ok(mismatches == 0, "%ld commands, every reply identical to redis-server's (%lld ms)",
           done, now_ms() - t0);

    tap_diag("replies: %ld errors, %ld integers, %ld bulks (%ld null), %ld arrays, %ld +OK",
             kinds['-'], kinds[':'], kinds['$'], nulls, kinds['*'], kinds['+']);
    /* The final state must match too: every key of the pool. */
    if (!mismatches) {
        int same = 1;
        for (unsigned k = 0; k < 24 && same; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%u", k);
            char *a = conn_call(lc, "GET", key, NULL), *b = conn_call(rc, "GET", key, NULL);
            same = a && b && strcmp(a, b) == 0;
            if (!same)
                tap_diag("final GET %s differs", key);
            zfree(a);
            zfree(b);
        }
        tap_ok(same, "final values identical");
        /* The exact counters: INFO keyspace's keys and expires of every db
         * (avg_ttl is an estimate in Redis), on fresh RESP2 connections. */
        same_counts(keyspace_counts(ls.port), keyspace_counts(rs.port),
                    "INFO keyspace counts identical");
        /* Every read of a key counted as Redis counts it (lookupKeyRead). */
        same_counts(lookup_counts(ls.port), lookup_counts(rs.port),
                    "INFO stats keyspace_hits/misses identical");
    }
    for (int k = 0; k < 2; k++) {
        conn_close(lcs[k]);
        conn_close(rcs[k]);
    }
    srv_stop(&ls);
    srv_stop(&rs);
    return tap_done();
}
