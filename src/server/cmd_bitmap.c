/* cmd_bitmap: GETBIT SETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO
 * (see cmd_bitmap.h). */
#include "server/cmd_bitmap.h"

#include <stdint.h>
#include <string.h>

#include "server/client.h"
#include "server/cmdarg.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "util/strconv.h"
#include "util/zmalloc.h"

#define ERR_SYNTAX "ERR syntax error"
#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"
#define ERR_BIT_VALUE "ERR bit is not an integer or out of range"
#define ERR_BITPOS_BIT "ERR The bit argument must be 1 or 0."
#define ERR_FIELD_TYPE                                                              \
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not " \
    "supported but i64 is."

/* ---- bits of a byte string ---- */

static int bit_get(const unsigned char *p, uint64_t bit)
{
    return (p[bit >> 3] >> (7 - (bit & 7))) & 1;
}

static void bit_put(unsigned char *p, uint64_t bit, int on)
{
    unsigned char m = (unsigned char)(1u << (7 - (bit & 7)));
    if (on)
        p[bit >> 3] |= m;
    else
        p[bit >> 3] &= (unsigned char)~m;
}

/* Set bits of a word, without the popcnt instruction (the build targets
 * baseline x86-64, where __builtin_popcountll is a library call). */
static uint64_t popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

/* Set bits in bytes [from, to] of p. */
static uint64_t popcount_bytes(const unsigned char *p, uint64_t from, uint64_t to)
{
    uint64_t n = 0, i = from;
    for (; i + 8 <= to + 1; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        n += popcount64(w);
    }
    for (; i <= to; i++)
        n += popcount64(p[i]);
    return n;
}

/* Set bits among bits [from, to] of p: the partial bytes at the ends bit
 * by bit, the whole bytes between them at once. */
static uint64_t popcount_bits(const unsigned char *p, uint64_t from, uint64_t to)
{
    uint64_t n = 0, first = from >> 3, last = to >> 3, b;
    if (first == last) {
        for (b = from; b <= to; b++)
            n += (uint64_t)bit_get(p, b);
        return n;
    }
    for (b = from; b < (first + 1) * 8; b++)
        n += (uint64_t)bit_get(p, b);
    for (b = last * 8; b <= to; b++)
        n += (uint64_t)bit_get(p, b);
    if (last > first + 1)
        n += popcount_bytes(p, first + 1, last - 1);
    return n;
}

/* The first bit equal to `bit` among bits [from, to] of p, or -1. */
static int64_t find_bit(const unsigned char *p, uint64_t from, uint64_t to, int bit)
{
    const unsigned char skip = bit ? 0x00 : 0xff;   /* a byte without one */
    while (from <= to) {
        if ((from & 7) == 0 && from + 7 <= to && p[from >> 3] == skip) {
            from += 8;
            continue;
        }
        if (bit_get(p, from) == bit)
            return (int64_t)from;
        from++;
    }
    return -1;
}

/* A field of `bits` bits (1..64) at bit offset off of p, most significant
 * bit first; p holds every byte the field touches. */
static uint64_t field_get(const unsigned char *p, uint64_t off, int bits)
{
    uint64_t v = 0;
    for (int i = 0; i < bits; i++)
        v = (v << 1) | (uint64_t)bit_get(p, off + (uint64_t)i);
    return v;
}

static void field_put(unsigned char *p, uint64_t off, int bits, uint64_t v)
{
    for (int i = 0; i < bits; i++)
        bit_put(p, off + (uint64_t)i, (int)((v >> (bits - 1 - i)) & 1));
}

/* A field's bits as a signed value (two's complement of `bits` bits). */
static int64_t sign_extend(uint64_t v, int bits)
{
    if (bits < 64 && (v >> (bits - 1)) & 1)
        v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

/* ---- arguments ---- */

/* Redis' getBitOffsetFromArgument: a bit offset below proto-max-bulk-len
 * bytes; with field_bits > 0, "#n" means n * field_bits. 1, or 0 with the
 * error replied. */
static int bit_offset(struct client *c, int i, int field_bits, uint64_t *out)
{
    const char *p = c->argv[i];
    size_t n = c->argvlen[i];
    int hash = field_bits > 0 && n > 0 && p[0] == '#';
    long long v;
    if (!str_to_ll(p + hash, n - (size_t)hash, &v) ||
        (hash && __builtin_mul_overflow(v, field_bits, &v)) || v < 0 ||
        (unsigned long long)(v >> 3) >= (unsigned long long)server_cfg.proto_max_bulk_len) {
        reply_error(&c->obuf, ERR_BIT_OFFSET);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

/* The unit word of BITCOUNT/BITPOS: 1 BIT, 0 BYTE, -1 after a syntax error. */
static int index_unit(struct client *c, int i)
{
    if (cmdarg_opt_is(c, i, "bit"))
        return 1;
    if (cmdarg_opt_is(c, i, "byte"))
        return 0;
    reply_error(&c->obuf, ERR_SYNTAX);
    return -1;
}

/* Clamps a Redis range [start, end] (negative counts from total's end) to
 * [0, total - 1]; 0 when it is empty. */
static int clamp_range(long long *start, long long *end, long long total)
{
    if (*start < 0)
        *start += total;
    if (*end < 0)
        *end += total;
    if (*start < 0)
        *start = 0;
    if (*end < 0)
        *end = 0;
    if (*end >= total)
        *end = total - 1;
    return *start <= *end;
}

/* ---- the string a write changes ---- */

/* The string SETBIT and BITFIELD write: the key's value copied and grown
 * with zero bytes to hold bit `top`. */
struct bitstr {
    unsigned char *p;
    size_t len;
    int existed;
    int grown;                      /* created, or longer than it was */
};

/* The string to change from the key's value v (rc: 1 found, 0 absent),
 * which it frees. */
static void bitstr_from(struct ks_value *v, int rc, uint64_t top, struct bitstr *s)
{
    size_t need = (size_t)(top >> 3) + 1;
    size_t have = rc ? v->len : 0;
    s->len = have > need ? have : need;
    s->p = zmalloc(s->len);
    if (have)
        memcpy(s->p, v->data, have);
    memset(s->p + have, 0, s->len - have);
    s->existed = rc;
    s->grown = s->len != have || !rc;
    ks_value_free(v);
}

/* 1 ready, 0 after an error reply (WRONGTYPE, engine). */
static int bitstr_load(struct client *c, uint64_t top, struct bitstr *s)
{
    struct ks_value v;
    int rc = cmdarg_lookup_string(c, 1, &v);
    if (rc < 0)
        return 0;
    bitstr_from(&v, rc, top, s);
    return 1;
}

/* Writes the string back, keeping the key's expire. 1, or 0 replied. */
static int bitstr_store(struct client *c, const struct bitstr *s)
{
    const char *key = c->argv[1];
    size_t klen = c->argvlen[1];
    int rc = s->existed ? ks_set_keepttl(c->db, key, klen, KS_TYPE_STRING, s->p, s->len)
                        : ks_set(c->db, key, klen, KS_TYPE_STRING, s->p, s->len, -1);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return 0;
    }
    return 1;
}

/* ---- GETBIT, SETBIT ---- */

/* The byte of the string that holds bit off (0 past its end) is read
 * alone when the string is kept in chunks. */
static void cmd_getbit(struct client *c)
{
    uint64_t off;
    struct ks_value v;
    if (!bit_offset(c, 2, 0, &off))
        return;
    uint64_t byte = off >> 3;
    int rc = cmdarg_string_range(c, 1, byte, 1, &v, 1);
    if (rc < 0)
        return;
    int bit = rc && byte >= v.off && byte < v.off + v.len &&
              bit_get((const unsigned char *)v.data + (byte - v.off), off & 7);
    ks_value_free(&v);
    reply_long(&c->obuf, bit);
}

static void cmd_setbit(struct client *c)
{
    uint64_t off, nlen;
    long long on;
    if (!bit_offset(c, 2, 0, &off))
        return;
    if (!str_to_ll(c->argv[3], c->argvlen[3], &on) || (on & ~1LL)) {
        reply_error(&c->obuf, ERR_BIT_VALUE);
        return;
    }
    uint64_t byte = off >> 3;
    struct ks_value v;
    int rc = cmdarg_string_range(c, 1, byte, 1, &v, 0);
    if (rc < 0)
        return;
    int inside = rc && byte >= v.off && byte < v.off + v.len;
    unsigned char b = inside ? (unsigned char)v.data[byte - v.off] : 0;
    ks_value_free(&v);
    int old = bit_get(&b, off & 7);
    /* An unchanged bit of a string long enough is no write (as in Redis: a
     * WATCH of the key survives it; a hot large bitmap is mostly set again
     * to what it holds). */
    if (inside && old == on) {
        reply_long(&c->obuf, old);
        return;
    }
    bit_put(&b, off & 7, (int)on);
    rc = ks_write_range(c->db, c->argv[1], c->argvlen[1], byte, &b, 1, &nlen);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    reply_long(&c->obuf, old);
}

/* ---- BITCOUNT, BITPOS ---- */

static void cmd_bitcount(struct client *c)
{
    struct ks_value v;
    long long start = 0, end = 0;
    int unit = 0;
    int rc = cmdarg_read_string(c, 1, &v);
    if (rc <= 0) {                  /* a missing key counts 0 whatever follows */
        if (rc == 0)
            reply_long(&c->obuf, 0);
        return;
    }
    const unsigned char *p = (const unsigned char *)v.data;
    long long total = (long long)v.len;
    if (c->argc == 2) {
        end = total - 1;
    } else if (c->argc == 4 || c->argc == 5) {
        if (!cmdarg_ll(c, 2, &start) || !cmdarg_ll(c, 3, &end))
            goto out;
        if (start < 0 && end < 0 && start > end) {
            reply_long(&c->obuf, 0);
            goto out;
        }
        if (c->argc == 5 && (unit = index_unit(c, 4)) < 0)
            goto out;
        if (unit)
            total *= 8;
    } else {
        reply_error(&c->obuf, ERR_SYNTAX);
        goto out;
    }
    if (!clamp_range(&start, &end, total))
        reply_long(&c->obuf, 0);
    else if (unit)
        reply_long(&c->obuf, (long long)popcount_bits(p, (uint64_t)start, (uint64_t)end));
    else
        reply_long(&c->obuf, (long long)popcount_bytes(p, (uint64_t)start, (uint64_t)end));
out:
    ks_value_free(&v);
}

/* BITPOS: the first bit equal to `bit` in the range. Looking for a 0 bit
 * without an explicit end, the string counts as padded with zeros: the
 * first bit past the range is the answer when the range holds no 0. */
static void cmd_bitpos(struct client *c)
{
    struct ks_value v;
    long long bit, start = 0, end = 0;
    int unit = 0, end_given = 0;
    if (!cmdarg_ll(c, 2, &bit))
        return;
    if (bit != 0 && bit != 1) {
        reply_error(&c->obuf, ERR_BITPOS_BIT);
        return;
    }
    int rc = cmdarg_read_string(c, 1, &v);
    if (rc <= 0) {              /* a missing key: endless zeros */
        if (rc == 0)
            reply_long(&c->obuf, bit ? -1 : 0);
        return;
    }
    long long total = (long long)v.len;
    if (c->argc == 3) {
        end = total - 1;
    } else if (c->argc <= 6) {
        if (!cmdarg_ll(c, 3, &start))
            goto out;
        if (c->argc == 6 && (unit = index_unit(c, 5)) < 0)
            goto out;
        if (c->argc >= 5) {
            if (!cmdarg_ll(c, 4, &end))
                goto out;
            end_given = 1;
        } else {
            end = total - 1;
        }
        if (unit)
            total *= 8;
    } else {
        reply_error(&c->obuf, ERR_SYNTAX);
        goto out;
    }
    if (!clamp_range(&start, &end, total)) {
        reply_long(&c->obuf, -1);
        goto out;
    }
    uint64_t from = (uint64_t)start, to = (uint64_t)end;
    if (!unit) {
        from *= 8;
        to = to * 8 + 7;
    }
    int64_t pos = find_bit((const unsigned char *)v.data, from, to, (int)bit);
    if (pos < 0 && bit == 0 && !end_given)
        pos = (int64_t)to + 1;
    reply_long(&c->obuf, pos);
out:
    ks_value_free(&v);
}

/* ---- BITOP ---- */

enum { OP_AND, OP_OR, OP_XOR, OP_NOT };

static void cmd_bitop(struct client *c)
{
    int op;
    if (cmdarg_opt_is(c, 1, "and"))
        op = OP_AND;
    else if (cmdarg_opt_is(c, 1, "or"))
        op = OP_OR;
    else if (cmdarg_opt_is(c, 1, "xor"))
        op = OP_XOR;
    else if (cmdarg_opt_is(c, 1, "not"))
        op = OP_NOT;
    else {
        reply_error(&c->obuf, ERR_SYNTAX);
        return;
    }
    if (op == OP_NOT && c->argc != 4) {
        reply_error(&c->obuf, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    /* First the lengths and types (no value is read), then the sources one
     * at a time into the result: memory for the result and one source, not
     * for all of them (they may be large values in the value log). */
    int n = c->argc - 3, i, rc;
    size_t maxlen = 0;
    for (i = 0; i < n; i++) {
        uint64_t len;
        if (cmdarg_read_string_len(c, 3 + i, &len) < 0)
            return;
        if (len > maxlen)
            maxlen = (size_t)len;
    }
    if (maxlen == 0) {          /* nothing but empty strings: no destination */
        if ((rc = ks_delete(c->db, c->argv[2], c->argvlen[2])) < 0)
            cmdarg_reply_ks_error(c, rc);
        else
            reply_long(&c->obuf, 0);
        return;
    }
    unsigned char *res = zmalloc(maxlen);
    for (i = 0; i < n; i++) {
        struct ks_value v;
        if ((rc = cmdarg_lookup_string(c, 3 + i, &v)) < 0) {
            zfree(res);
            return;
        }
        /* A source shorter than the result reads as zeros past its end. */
        const unsigned char *sp = (const unsigned char *)v.data;
        size_t len = rc ? (v.len < maxlen ? v.len : maxlen) : 0, k;
        if (i == 0) {
            if (len)
                memcpy(res, sp, len);
            memset(res + len, 0, maxlen - len);
            if (op == OP_NOT)
                for (k = 0; k < maxlen; k++)
                    res[k] = (unsigned char)~res[k];
        } else if (op == OP_AND) {
            for (k = 0; k < len; k++)
                res[k] &= sp[k];
            memset(res + len, 0, maxlen - len);
        } else if (op == OP_OR) {
            for (k = 0; k < len; k++)
                res[k] |= sp[k];
        } else {
            for (k = 0; k < len; k++)
                res[k] ^= sp[k];
        }
        ks_value_free(&v);
    }
    rc = ks_overwrite(c->db, c->argv[2], c->argvlen[2], KS_TYPE_STRING, res, maxlen, -1);
    zfree(res);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, (long long)maxlen);
}

/* ---- BITFIELD, BITFIELD_RO ---- */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

struct bf_op {
    int code;
    int overflow;                   /* BF_*, the last OVERFLOW before it */
    int sign;
    int bits;
    uint64_t off;
    int64_t arg;                    /* SET's value, INCRBY's increment */
    uint64_t res;                   /* its reply (a signed one as int64_t) */
    int failed;                     /* OVERFLOW FAIL: a null reply */
};

/* "i1".."i64" or "u1".."u63" (the letter's case matters). 1, or 0 replied. */
static int field_type(struct client *c, int i, int *sign, int *bits)
{
    const char *p = c->argv[i];
    size_t n = cmdarg_clen(c, i);
    long long b;
    if (n < 1 || (p[0] != 'i' && p[0] != 'u') || !str_to_ll(p + 1, n - 1, &b) || b < 1 ||
        b > (p[0] == 'i' ? 64 : 63)) {
        reply_error(&c->obuf, ERR_FIELD_TYPE);
        return 0;
    }
    *sign = p[0] == 'i';
    *bits = (int)b;
    return 1;
}

/* What writing value + incr (exactly, no wraparound) into the field gives:
 * the value, or on overflow the value the policy makes of it. 1 when it
 * overflowed (the sum is outside the field's range), else 0. */
static int field_add(const struct bf_op *op, uint64_t value, int64_t incr, uint64_t *out)
{
    __int128 sum, min, max;
    if (op->sign) {
        sum = (__int128)(int64_t)value + incr;
        max = ((__int128)1 << (op->bits - 1)) - 1;
        min = -max - 1;
    } else {
        sum = (__int128)value + incr;
        max = ((__int128)1 << op->bits) - 1;
        min = 0;
    }
    if (sum >= min && sum <= max) {
        *out = (uint64_t)sum;
        return 0;
    }
    if (op->overflow == BF_SAT) {
        int high = sum > max;
        if (op->sign) {
            /* Redis 7.0 picks the side with 64-bit wraparound: a SET far
             * below a wide field's minimum (any, for i63) saturates to its
             * maximum. The same, as it computes it. */
            int64_t v = (int64_t)value, m = (int64_t)max;
            int64_t maxincr = (int64_t)((uint64_t)m - value);
            high = v > m || (op->bits != 64 && incr > maxincr) ||
                   (v >= 0 && incr > 0 && incr > maxincr);
        }
        *out = (uint64_t)(high ? max : min);
    } else {                        /* WRAP (FAIL does not use it) */
        uint64_t w = value + (uint64_t)incr;
        if (op->bits < 64)
            w &= ((uint64_t)1 << op->bits) - 1;
        *out = op->sign ? (uint64_t)sign_extend(w, op->bits) : w;
    }
    return 1;
}

/* Redis' bitfieldGetKeys: the key is only read when every subcommand is a
 * well-formed GET or OVERFLOW. */
static int bitfield_getkeys(int argc, const char *const *argv, const size_t *argvlen,
                            struct cmd_key_ref *keys, int max)
{
    int ro = 1;
    if (max < 1 || argc < 2)
        return 0;
    for (int i = 2; i < argc && ro; i++) {
        int left = argc - i - 1;
        if (cmdarg_word_is(argv[i], argvlen[i], "get") && left >= 2)
            i += 2;
        else if (cmdarg_word_is(argv[i], argvlen[i], "overflow") && left >= 1)
            i += 1;
        else
            ro = 0;                 /* SET, INCRBY, or a syntax error */
    }
    keys[0].pos = 1;
    keys[0].flags = ro ? KSPEC_RO | KSPEC_ACCESS : KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE;
    return 1;
}

/* Parses every subcommand first (nothing runs when one is wrong), then runs
 * them in order on one copy of the string, written back once. */
static void bitfield_generic(struct client *c, int readonly_cmd)
{
    int nops = 0, overflow = BF_WRAP, writes = 0;
    uint64_t top = 0;
    struct bf_op *ops = zmalloc(sizeof(*ops) * (size_t)(c->argc / 2 + 1));
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        struct bf_op *op = &ops[nops];
        memset(op, 0, sizeof(*op));
        if (cmdarg_opt_is(c, j, "get") && left >= 2) {
            op->code = BF_GET;
        } else if (cmdarg_opt_is(c, j, "set") && left >= 3) {
            op->code = BF_SET;
        } else if (cmdarg_opt_is(c, j, "incrby") && left >= 3) {
            op->code = BF_INCRBY;
        } else if (cmdarg_opt_is(c, j, "overflow") && left >= 1) {
            j++;
            if (cmdarg_opt_is(c, j, "wrap"))
                overflow = BF_WRAP;
            else if (cmdarg_opt_is(c, j, "sat"))
                overflow = BF_SAT;
            else if (cmdarg_opt_is(c, j, "fail"))
                overflow = BF_FAIL;
            else {
                reply_error(&c->obuf, "ERR Invalid OVERFLOW type specified");
                goto out;
            }
            continue;
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            goto out;
        }
        if (!field_type(c, j + 1, &op->sign, &op->bits) ||
            !bit_offset(c, j + 2, op->bits, &op->off))
            goto out;
        op->overflow = overflow;
        if (op->code != BF_GET) {
            long long a;
            if (!cmdarg_ll(c, j + 3, &a))
                goto out;
            op->arg = a;
            writes = 1;
            if (op->off + (uint64_t)op->bits - 1 > top)
                top = op->off + (uint64_t)op->bits - 1;
        }
        nops++;
        j += op->code == BF_GET ? 2 : 3;
    }

    struct bitstr s = { NULL, 0, 0, 0 };
    struct ks_value v;
    memset(&v, 0, sizeof(v));
    if (writes) {
        if (readonly_cmd) {
            reply_error(&c->obuf, "ERR BITFIELD_RO only supports the GET subcommand");
            goto out;
        }
        if (!bitstr_load(c, top, &s))   /* grown to the farthest bit written */
            goto out;
    } else {
        int rc = cmdarg_read_string(c, 1, &v);
        if (rc < 0)
            goto out;
        s.p = (unsigned char *)v.data;  /* only read */
        s.len = rc ? v.len : 0;
    }

    /* Every result first: a write the engine refuses then replies only
     * its error. */
    int changed = 0;        /* a field took another value */
    int applied = 0;        /* a SET or INCRBY was not failed by OVERFLOW FAIL */
    for (int i = 0; i < nops; i++) {
        struct bf_op *op = &ops[i];
        if (op->code == BF_GET) {
            /* Past the end reads zeros: the field's bytes, zero-padded. */
            unsigned char buf[9] = { 0 };
            uint64_t byte = op->off >> 3;
            for (uint64_t k = 0; k < 9 && byte + k < s.len; k++)
                buf[k] = s.p[byte + k];
            op->res = field_get(buf, op->off & 7, op->bits);
            if (op->sign)
                op->res = (uint64_t)sign_extend(op->res, op->bits);
            continue;
        }
        uint64_t old = field_get(s.p, op->off, op->bits), nv;
        if (op->sign)
            old = (uint64_t)sign_extend(old, op->bits);
        int over = op->code == BF_INCRBY ? field_add(op, old, op->arg, &nv)
                                         : field_add(op, (uint64_t)op->arg, 0, &nv);
        if (over && op->overflow == BF_FAIL) {
            op->failed = 1;
            continue;
        }
        op->res = op->code == BF_INCRBY ? nv : old;
        field_put(s.p, op->off, op->bits, nv);
        applied = 1;
        if (nv != old)
            changed = 1;
    }
    /* A created or grown key is written even if no field changes, as in
     * Redis. Redis signals the write (a WATCH of the key aborts) when a
     * field changed, or when the key was created or grown and some SET or
     * INCRBY was applied, even one that wrote the zeros already there; a
     * key created or grown only for operations that OVERFLOW FAIL refused
     * is written without telling a WATCH of it. */
    int ok = 1;
    if (writes && (changed || s.grown)) {
        int quiet = ks_quiet(!changed && !applied);
        ok = bitstr_store(c, &s);
        ks_quiet(quiet);
    }
    if (writes)
        zfree(s.p);
    else
        ks_value_free(&v);
    if (!ok)
        goto out;
    reply_array_len(&c->obuf, nops);
    for (int i = 0; i < nops; i++) {
        if (ops[i].failed)
            reply_null(&c->obuf);
        else if (ops[i].sign)
            reply_long(&c->obuf, (long long)(int64_t)ops[i].res);
        else
            reply_long(&c->obuf, (long long)ops[i].res);
    }
out:
    zfree(ops);
}

static void cmd_bitfield(struct client *c)
{
    bitfield_generic(c, 0);
}

static void cmd_bitfield_ro(struct client *c)
{
    bitfield_generic(c, 1);
}

/* ---- the table rows ---- */

#define A_END { NULL, 0, NULL, NULL, NULL, 0, NULL }
#define A_KEY { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL }
#define A_INT(n) { n, ARG_INTEGER, NULL, NULL, NULL, 0, NULL }
#define A_STR(n) { n, ARG_STRING, NULL, NULL, NULL, 0, NULL }
#define A_TOKEN(n, t) { n, ARG_PURE_TOKEN, t, NULL, NULL, 0, NULL }

static const struct cmd_arg getbit_args[] = { A_KEY, A_INT("offset"), A_END };
static const struct cmd_arg setbit_args[] = { A_KEY, A_INT("offset"), A_INT("value"), A_END };
static const struct cmd_arg index_unit_args[] = {
    A_TOKEN("byte", "BYTE"), A_TOKEN("bit", "BIT"), A_END };
static const struct cmd_arg bitcount_index[] = {
    A_INT("start"), A_INT("end"),
    { "index_unit", ARG_ONEOF, NULL, "7.0.0", NULL, ARG_OPTIONAL, index_unit_args },
    A_END,
};
static const struct cmd_arg bitcount_args[] = {
    A_KEY, { "index", ARG_BLOCK, NULL, NULL, NULL, ARG_OPTIONAL, bitcount_index }, A_END };
static const struct cmd_arg bitpos_end[] = {
    A_INT("end"),
    { "index_unit", ARG_ONEOF, NULL, "7.0.0", NULL, ARG_OPTIONAL, index_unit_args },
    A_END,
};
static const struct cmd_arg bitpos_index[] = {
    A_INT("start"), { "end_index", ARG_BLOCK, NULL, NULL, NULL, ARG_OPTIONAL, bitpos_end },
    A_END,
};
static const struct cmd_arg bitpos_args[] = {
    A_KEY, A_INT("bit"),
    { "index", ARG_BLOCK, NULL, NULL, NULL, ARG_OPTIONAL, bitpos_index }, A_END };
static const struct cmd_arg bitop_args[] = {
    A_STR("operation"), { "destkey", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "key", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL }, A_END };
static const struct cmd_arg bf_get_args[] = { A_STR("encoding"), A_INT("offset"), A_END };
static const struct cmd_arg bf_set_args[] = {
    A_STR("encoding"), A_INT("offset"), A_INT("value"), A_END };
static const struct cmd_arg bf_incr_args[] = {
    A_STR("encoding"), A_INT("offset"), A_INT("increment"), A_END };
static const struct cmd_arg bf_overflow_args[] = {
    A_TOKEN("wrap", "WRAP"), A_TOKEN("sat", "SAT"), A_TOKEN("fail", "FAIL"), A_END };
static const struct cmd_arg bf_write_op_args[] = {
    { "encoding_offset_value", ARG_BLOCK, "SET", NULL, NULL, 0, bf_set_args },
    { "encoding_offset_increment", ARG_BLOCK, "INCRBY", NULL, NULL, 0, bf_incr_args },
    A_END,
};
static const struct cmd_arg bf_write_args[] = {
    { "wrap_sat_fail", ARG_ONEOF, "OVERFLOW", NULL, NULL, ARG_OPTIONAL, bf_overflow_args },
    { "write_operation", ARG_ONEOF, NULL, NULL, NULL, 0, bf_write_op_args },
    A_END,
};
static const struct cmd_arg bf_operation_args[] = {
    { "encoding_offset", ARG_BLOCK, "GET", NULL, NULL, 0, bf_get_args },
    { "write", ARG_BLOCK, NULL, NULL, NULL, 0, bf_write_args },
    A_END,
};
static const struct cmd_arg bitfield_args[] = {
    A_KEY,
    { "operation", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, bf_operation_args },
    A_END,
};
static const struct cmd_arg bitfield_ro_args[] = {
    A_KEY,
    { "encoding_offset", ARG_BLOCK, "GET", NULL, NULL,
      ARG_OPTIONAL | ARG_MULTIPLE | ARG_MULTIPLE_TOKEN, bf_get_args },
    A_END,
};

static const struct cmd_history unit_history[] = {
    { "7.0.0", "Added the `BYTE|BIT` option." },
    { NULL, NULL },
};

#define KSPEC1(notes_, fl) { { notes_, fl, 1, 0, 1, 0 }, { NULL, 0, 0, 0, 0, 0 } }
static const struct cmd_key_spec spec_ro_access[] = KSPEC1(NULL, KSPEC_RO | KSPEC_ACCESS);
static const struct cmd_key_spec spec_rw_access_update[] =
    KSPEC1(NULL, KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
static const struct cmd_key_spec spec_bitfield[] =
    KSPEC1("This command allows both access and modification of the key",
           KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE | KSPEC_VARIABLE_FLAGS);
static const struct cmd_key_spec spec_bitop[] = {
    { NULL, KSPEC_OW | KSPEC_UPDATE, 2, 0, 1, 0 },
    { NULL, KSPEC_RO | KSPEC_ACCESS, 3, -1, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};

#define BIT_ROW(n, summ, cplx, since_, hist, proc_, ar, fl, args_, kspecs)            \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_,                \
      .group = "bitmap", .history = hist, .proc = proc_, .arity = ar, .flags = fl,    \
      .acl = ACL_BITMAP, .args = args_, .key_specs = kspecs }

#define ON "O(N)"

struct command bitmap_commands[] = {
    { .name = "bitfield", .summary = "Read, set or add to integer fields of a string",
      .complexity = "O(1) for each subcommand specified", .since = "3.2.0",
      .group = "bitmap", .proc = cmd_bitfield, .arity = -2,
      .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_BITMAP, .args = bitfield_args,
      .key_specs = spec_bitfield, .getkeys = bitfield_getkeys },
    BIT_ROW("bitfield_ro", "Read integer fields of a string (BITFIELD with GET only)",
            "O(1) for each subcommand specified", "6.0.0", NULL, cmd_bitfield_ro, -2,
            CMD_READONLY | CMD_FAST, bitfield_ro_args, spec_ro_access),
    BIT_ROW("bitop", "Combine strings bit by bit (AND, OR, XOR, NOT) into a key", ON,
            "2.6.0", NULL, cmd_bitop, -4, CMD_WRITE | CMD_DENYOOM, bitop_args, spec_bitop),
    BIT_ROW("bitcount", "Count the bits set in a string, or in a range of it", ON, "2.6.0",
            unit_history, cmd_bitcount, -2, CMD_READONLY, bitcount_args, spec_ro_access),
    BIT_ROW("bitpos", "Find the first bit set or clear in a string, or in a range of it", ON,
            "2.8.7", unit_history, cmd_bitpos, -3, CMD_READONLY, bitpos_args,
            spec_ro_access),
    BIT_ROW("getbit", "Return the bit at an offset of the string of a key", "O(1)", "2.2.0",
            NULL, cmd_getbit, 3, CMD_READONLY | CMD_FAST, getbit_args, spec_ro_access),
    BIT_ROW("setbit", "Set or clear the bit at an offset of the string of a key", "O(1)",
            "2.2.0", NULL, cmd_setbit, 4, CMD_WRITE | CMD_DENYOOM, setbit_args,
            spec_rw_access_update),
    { .name = NULL },
};
