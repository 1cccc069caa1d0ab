/* cmd_string: the string commands (see cmd_string.h). Each handler follows
 * the order of Redis 7.0's checks (argument parsing, lookup, type, limits)
 * so that the first error reported for a given input is the same. */
#include "server/cmd_string.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/cmdarg.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/strconv.h"
#include "util/zmalloc.h"

#define ERR_SYNTAX "ERR syntax error"
#define ERR_NOT_INT CMDARG_ERR_NOT_INT
#define ERR_NOT_FLOAT "ERR value is not a valid float"

/* ---- number parsing and formatting ---- */

int str_to_ld(const char *s, size_t len, long double *out)
{
    char buf[STR_LD_BUFSIZE];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    /* isspace() in the C locale, as Redis checks buf[0] */
    if (strchr(" \t\n\v\f\r", buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO)) || errno == EINVAL ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

int str_from_ld_human(char *buf, size_t cap, long double v)
{
    if (isinf(v))
        return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    int n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n + 1 > cap) {
        buf[0] = '\0';
        return 0;
    }
    size_t l = (size_t)n;
    if (memchr(buf, '.', l)) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return (int)l;
}

/* ---- argument and reply helpers ---- */

/* ---- SET family ---- */

enum {
    SET_NX = 1 << 0,
    SET_XX = 1 << 1,
    SET_GET = 1 << 2,
    SET_KEEPTTL = 1 << 3,
    SET_PERSIST = 1 << 4,
    SET_EX = 1 << 5,
    SET_PX = 1 << 6,
    SET_EXAT = 1 << 7,
    SET_PXAT = 1 << 8,
};
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

enum { PARSE_SET, PARSE_GETEX };

/* Redis' parseExtendedStringArgumentsOrReply: the option words of SET (from
 * argv[3]) or GETEX (from argv[2]). *expire_arg is the index of the time
 * argument (0 = none). Returns 1, or 0 after replying a syntax error. */
static int parse_set_options(struct client *c, int kind, int *flags, int *expire_arg)
{
    int f = 0;
    for (int j = kind == PARSE_SET ? 3 : 2; j < c->argc; j++) {
        int has_next = j + 1 < c->argc;
        int set = kind == PARSE_SET;
        int timed = 0;
        if (set && cmdarg_opt_is(c, j, "nx") && !(f & SET_XX)) {
            f |= SET_NX;
        } else if (set && cmdarg_opt_is(c, j, "xx") && !(f & SET_NX)) {
            f |= SET_XX;
        } else if (set && cmdarg_opt_is(c, j, "get")) {
            f |= SET_GET;
        } else if (set && cmdarg_opt_is(c, j, "keepttl") && !(f & (SET_PERSIST | SET_ANY_EXPIRE))) {
            f |= SET_KEEPTTL;
        } else if (!set && cmdarg_opt_is(c, j, "persist") &&
                   !(f & (SET_ANY_EXPIRE | SET_KEEPTTL))) {
            f |= SET_PERSIST;
        } else if (cmdarg_opt_is(c, j, "ex") && has_next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT))) {
            f |= SET_EX;
            timed = 1;
        } else if (cmdarg_opt_is(c, j, "px") && has_next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT))) {
            f |= SET_PX;
            timed = 1;
        } else if (cmdarg_opt_is(c, j, "exat") && has_next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT))) {
            f |= SET_EXAT;
            timed = 1;
        } else if (cmdarg_opt_is(c, j, "pxat") && has_next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX))) {
            f |= SET_PXAT;
            timed = 1;
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            return 0;
        }
        if (timed)
            *expire_arg = ++j;
    }
    *flags = f;
    return 1;
}

static void reply_invalid_expire(struct client *c)
{
    reply_errorf(&c->obuf, "ERR invalid expire time in '%s' command", c->cmd->fullname);
}

/* Redis' getExpireMillisecondsOrReply: argument argi as an absolute expire
 * time in ms. Seconds (EX, EXAT, SETEX) are multiplied by 1000; relative
 * times (EX, PX, SETEX, PSETEX) are added to the command's clock. Returns 1,
 * or 0 after replying the error. */
static int parse_expire(struct client *c, int argi, int seconds, int relative, int64_t *out)
{
    long long ms;
    if (!cmdarg_ll(c, argi, &ms))
        return 0;
    if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
        reply_invalid_expire(c);
        return 0;
    }
    if (seconds)
        ms *= 1000;
    if (relative) {
        int64_t now = ks_now();
        if (ms > LLONG_MAX - now) {   /* Redis' sum would wrap to <= 0 */
            reply_invalid_expire(c);
            return 0;
        }
        ms += now;
    }
    *out = ms;
    return 1;
}

/* Redis' setGenericCommand. ok/abort: replies for success and for an NX/XX
 * refusal (NULL = +OK / null). */
static void set_generic(struct client *c, int flags, int keyi, int vali, int expire_arg,
                        const char *ok_reply, const char *abort_reply)
{
    struct obuf *o = &c->obuf;
    const char *key = c->argv[keyi];
    size_t klen = c->argvlen[keyi];
    int64_t expire_at = -1;
    if (expire_arg &&
        !parse_expire(c, expire_arg, (flags & (SET_EX | SET_EXAT)) != 0,
                      (flags & (SET_EX | SET_PX)) != 0, &expire_at))
        return;

    /* The old value (GET) is replied after the write, so that a failed
     * write replaces it with the error. */
    struct ks_value old;
    int found;
    if (flags & SET_GET) {
        found = cmdarg_read_string(c, keyi, &old);
    } else if (flags & (SET_NX | SET_XX)) {
        memset(&old, 0, sizeof(old));
        found = ks_exists(c->db, key, klen);
        if (found < 0)
            cmdarg_reply_ks_error(c, found);
    } else {
        /* A plain SET needs no lookup: ks_overwrite does not read the
         * key at all when it can count the write later (ks_defer.h). */
        memset(&old, 0, sizeof(old));
        found = 0;
    }
    if (found < 0)
        return;

    int rc = 0;
    int refused = ((flags & SET_NX) && found) || ((flags & SET_XX) && !found);
    if (!refused) {
        const char *val = c->argv[vali];
        size_t vlen = c->argvlen[vali];
        rc = (flags & SET_KEEPTTL)
                 ? ks_set_keepttl(c->db, key, klen, KS_TYPE_STRING, val, vlen)
                 : ks_overwrite(c->db, key, klen, KS_TYPE_STRING, val, vlen, expire_at);
    }
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else if ((flags & SET_GET) && found)
        reply_bulk(o, old.data, old.len);
    else if (flags & SET_GET)
        reply_null(o);
    else if (refused && abort_reply)
        reply_raw(o, abort_reply, strlen(abort_reply));
    else if (refused)
        reply_null(o);
    else if (ok_reply)
        reply_raw(o, ok_reply, strlen(ok_reply));
    else
        reply_ok(o);
    ks_value_free(&old);
}

static void cmd_set(struct client *c)
{
    int flags, expire_arg = 0;
    if (!parse_set_options(c, PARSE_SET, &flags, &expire_arg))
        return;
    set_generic(c, flags, 1, 2, expire_arg, NULL, NULL);
}

static void cmd_setnx(struct client *c)
{
    set_generic(c, SET_NX, 1, 2, 0, ":1\r\n", ":0\r\n");
}

static void cmd_setex(struct client *c)
{
    set_generic(c, SET_EX, 1, 3, 2, NULL, NULL);
}

static void cmd_psetex(struct client *c)
{
    set_generic(c, SET_PX, 1, 3, 2, NULL, NULL);
}

/* ---- GET family ---- */

static void cmd_get(struct client *c)
{
    struct ks_value v;
    int rc = cmdarg_read_string(c, 1, &v);
    if (rc < 0)
        return;
    if (rc == 0) {
        reply_null(&c->obuf);
        return;
    }
    reply_bulk(&c->obuf, v.data, v.len);
    ks_value_free(&v);
}

static void cmd_getex(struct client *c)
{
    int flags, expire_arg = 0;
    if (!parse_set_options(c, PARSE_GETEX, &flags, &expire_arg))
        return;
    struct ks_value v;
    int rc = cmdarg_read_string(c, 1, &v);
    if (rc < 0)
        return;
    if (rc == 0) {
        reply_null(&c->obuf);
        return;
    }
    int64_t expire_at = -1;
    if (expire_arg &&
        !parse_expire(c, expire_arg, (flags & (SET_EX | SET_EXAT)) != 0,
                      (flags & (SET_EX | SET_PX)) != 0, &expire_at)) {
        ks_value_free(&v);
        return;
    }
    /* A past EXAT/PXAT deletes the key (ks_set_expire does so for any time
     * <= the command's clock). PERSIST on a key without a TTL is a no-op.
     * The change goes first so that a failure replaces the reply. */
    rc = 0;
    if (expire_arg)
        rc = ks_set_expire(c->db, c->argv[1], c->argvlen[1], expire_at);
    else if ((flags & SET_PERSIST) && v.expire_at >= 0)
        rc = ks_set_expire(c->db, c->argv[1], c->argvlen[1], -1);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_bulk(&c->obuf, v.data, v.len);
    ks_value_free(&v);
}

static void cmd_getdel(struct client *c)
{
    struct ks_value v;
    int rc = cmdarg_read_string(c, 1, &v);
    if (rc < 0)
        return;
    if (rc == 0) {
        reply_null(&c->obuf);
        return;
    }
    rc = ks_delete(c->db, c->argv[1], c->argvlen[1]);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_bulk(&c->obuf, v.data, v.len);
    ks_value_free(&v);
}

static void cmd_getset(struct client *c)
{
    struct ks_value v;
    int found = cmdarg_read_string(c, 1, &v);
    if (found < 0)
        return;
    int rc = ks_overwrite(c->db, c->argv[1], c->argvlen[1], KS_TYPE_STRING, c->argv[2],
                          c->argvlen[2], -1);
    if (rc < 0) {
        ks_value_free(&v);
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    if (found) {
        reply_bulk(&c->obuf, v.data, v.len);
        ks_value_free(&v);
    } else {
        reply_null(&c->obuf);
    }
}

static void cmd_mget(struct client *c)
{
    struct obuf *o = &c->obuf;
    reply_array_len(o, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        struct ks_value v;
        int rc = ks_lookup(c->db, c->argv[j], c->argvlen[j], &v);
        server_count_lookup(rc);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);   /* an error element keeps the array whole */
        } else if (rc == 0 || v.type != KS_TYPE_STRING) {
            reply_null(o);
            ks_value_free(&v);
        } else {
            reply_bulk(o, v.data, v.len);
            ks_value_free(&v);
        }
    }
}

static void mset_generic(struct client *c, int nx)
{
    if (c->argc % 2 == 0) {
        reply_errorf(&c->obuf, "ERR wrong number of arguments for '%s' command",
                     c->cmd->fullname);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            int rc = ks_exists(c->db, c->argv[j], c->argvlen[j]);
            if (rc < 0) {
                cmdarg_reply_ks_error(c, rc);
                return;
            }
            if (rc) {
                reply_long(&c->obuf, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        int rc = ks_overwrite(c->db, c->argv[j], c->argvlen[j], KS_TYPE_STRING,
                              c->argv[j + 1], c->argvlen[j + 1], -1);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            return;
        }
    }
    if (nx)
        reply_long(&c->obuf, 1);
    else
        reply_ok(&c->obuf);
}

static void cmd_mset(struct client *c)
{
    mset_generic(c, 0);
}

static void cmd_msetnx(struct client *c)
{
    mset_generic(c, 1);
}

/* ---- counters ---- */

static void incr_generic(struct client *c, long long incr)
{
    struct ks_value v;
    int rc = cmdarg_lookup_string(c, 1, &v);
    if (rc < 0)
        return;
    long long value = 0;
    if (rc) {
        int ok = str_to_ll(v.data, v.len, &value);
        ks_value_free(&v);
        if (!ok) {
            reply_error(&c->obuf, ERR_NOT_INT);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(&c->obuf, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", value);
    rc = ks_set_keepttl(c->db, c->argv[1], c->argvlen[1], KS_TYPE_STRING, buf, (size_t)n);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    reply_long(&c->obuf, value);
}

static void cmd_incr(struct client *c)
{
    incr_generic(c, 1);
}

static void cmd_decr(struct client *c)
{
    incr_generic(c, -1);
}

static void cmd_incrby(struct client *c)
{
    long long incr;
    if (cmdarg_ll(c, 2, &incr))
        incr_generic(c, incr);
}

static void cmd_decrby(struct client *c)
{
    long long incr;
    if (!cmdarg_ll(c, 2, &incr))
        return;
    if (incr == LLONG_MIN) {   /* -incr would overflow */
        reply_error(&c->obuf, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -incr);
}

static void cmd_incrbyfloat(struct client *c)
{
    struct ks_value v;
    int rc = cmdarg_lookup_string(c, 1, &v);
    if (rc < 0)
        return;
    long double value = 0, incr;
    if (rc) {
        int ok = str_to_ld(v.data, v.len, &value);
        ks_value_free(&v);
        if (!ok) {
            reply_error(&c->obuf, ERR_NOT_FLOAT);
            return;
        }
    }
    if (!str_to_ld(c->argv[2], c->argvlen[2], &incr)) {
        reply_error(&c->obuf, ERR_NOT_FLOAT);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(&c->obuf, "ERR increment would produce NaN or Infinity");
        return;
    }
    char *buf = zmalloc(STR_LD_BUFSIZE);
    int n = str_from_ld_human(buf, STR_LD_BUFSIZE, value);
    rc = ks_set_keepttl(c->db, c->argv[1], c->argvlen[1], KS_TYPE_STRING, buf, (size_t)n);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_bulk(&c->obuf, buf, (size_t)n);
    zfree(buf);
}

/* ---- APPEND STRLEN GETRANGE SETRANGE ---- */

static void cmd_append(struct client *c)
{
    const char *key = c->argv[1], *add = c->argv[2];
    size_t klen = c->argvlen[1], alen = c->argvlen[2];
    uint64_t len, nlen;
    int rc = cmdarg_string_len(c, 1, &len, 0);
    if (rc < 0)
        return;
    if (rc > 0 && !cmdarg_check_length(c, len, alen))
        return;
    /* At the end: a string kept in chunks rewrites only its last ones. */
    rc = ks_write_range(c->db, key, klen, len, add, alen, &nlen);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, (long long)nlen);
}

/* The length comes from the record's head: a separated value is not read. */
static void cmd_strlen(struct client *c)
{
    uint64_t len;
    if (cmdarg_read_string_len(c, 1, &len) >= 0)
        reply_long(&c->obuf, (long long)len);
}

/* GETRANGE and SUBSTR (Redis 7.0's index rules: a negative end below the
 * start of the string clamps to 0, so "0 -100" returns the first byte). */
static void cmd_getrange(struct client *c)
{
    long long start, end;
    if (!cmdarg_ll(c, 2, &start) || !cmdarg_ll(c, 3, &end))
        return;
    /* A string kept in chunks gives its length here, and is then read
     * only where the range falls; another one is read whole at once. */
    struct ks_value v;
    int rc = cmdarg_string_range(c, 1, 0, 0, &v, 1);
    if (rc < 0)
        return;
    if (rc == 0) {
        reply_bulk(&c->obuf, "", 0);
        return;
    }
    long long len = (long long)v.total;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(&c->obuf, "", 0);
        ks_value_free(&v);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0) {
        reply_bulk(&c->obuf, "", 0);
        ks_value_free(&v);
        return;
    }
    uint64_t n = (uint64_t)(end - start + 1);
    if ((uint64_t)start < v.off || (uint64_t)start + n > v.off + v.len) {
        ks_value_free(&v);
        rc = cmdarg_string_range(c, 1, (uint64_t)start, n, &v, 0);
        if (rc < 0)
            return;
        if (rc == 0 || (uint64_t)start < v.off || (uint64_t)start + n > v.off + v.len) {
            ks_value_free(&v);          /* cannot be: the same transaction */
            cmdarg_reply_ks_error(c, LSM_ECORRUPT);
            return;
        }
    }
    reply_bulk(&c->obuf, v.data + ((uint64_t)start - v.off), (size_t)n);
    ks_value_free(&v);
}

/* ---- LCS ---- */

/* A common run of LCS ... IDX: a[a0..a1] == b[b0..b1]. */
struct lcs_range {
    uint32_t a0, a1, b0, b1;
};

/* The lengths of LCS's two strings (a missing key is ""): 1, or 0 with an
 * error replied. Only the records' heads are read. */
static int lcs_lengths(struct client *c, uint64_t len[2])
{
    for (int k = 0; k < 2; k++) {
        int type = KS_TYPE_STRING;
        int rc = ks_lookup_len(c->db, c->argv[1 + k], c->argvlen[1 + k], &type, &len[k]);
        server_count_lookup(rc);          /* the value's read (lcs_value) is not counted */
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            return 0;
        }
        if (rc == 0)
            len[k] = 0;
        else if (type != KS_TYPE_STRING) {
            reply_error(&c->obuf, "ERR The specified keys must contain string values");
            return 0;
        }
    }
    return 1;
}

/* The value of LCS's key argv[argi] into v (empty when missing): 0, or -1
 * with an error replied. */
static int lcs_value(struct client *c, int argi, struct ks_value *v)
{
    int rc = cmdarg_lookup_string(c, argi, v);
    if (rc == 0) {
        memset(v, 0, sizeof(*v));
        v->data = "";
    }
    return rc < 0 ? -1 : 0;
}

/* Walks the table back from (alen, blen) as Redis 7.0 does (on a tie it
 * moves in b), filling res (n bytes; may be NULL) and, when ranges is not
 * NULL, the common runs of at least minlen bytes, last first. */
static void lcs_walk(const uint32_t *t, const char *a, uint32_t alen, const char *b,
                     uint32_t blen, char *res, long long minlen, struct lcs_range **ranges,
                     size_t *nranges)
{
#define LCS_AT(i, j) t[(size_t)(j) + (size_t)(i) * ((size_t)blen + 1)]
    uint32_t i = alen, j = blen, k = LCS_AT(alen, blen);
    struct lcs_range cur = { 0, 0, 0, 0 };
    size_t cap = 0;
    int open = 0;
    while (i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            if (res)
                res[k - 1] = a[i - 1];
            if (!open) {
                cur = (struct lcs_range){ i - 1, i - 1, j - 1, j - 1 };
                open = 1;
            } else if (cur.a0 == i && cur.b0 == j) {
                cur.a0--;               /* the run goes on backwards */
                cur.b0--;
            } else {
                emit = 1;
            }
            if (cur.a0 == 0 || cur.b0 == 0)
                emit = 1;
            k--;
            i--;
            j--;
        } else {
            if (LCS_AT(i - 1, j) > LCS_AT(i, j - 1))
                i--;
            else
                j--;
            emit = open;
        }
        if (emit) {
            if (ranges && (minlen == 0 || (long long)(cur.a1 - cur.a0) + 1 >= minlen)) {
                if (*nranges == cap) {
                    cap = cap ? cap * 2 : 16;
                    *ranges = zrealloc(*ranges, cap * sizeof(**ranges));
                }
                (*ranges)[(*nranges)++] = cur;
            }
            open = 0;
        }
    }
#undef LCS_AT
}

/* Redis 7.0's limit on LCS's table of (alen+1) x (blen+1) 32-bit cells: 1,
 * or 0 with the error replied. */
#define ERR_LCS_ALLOC "ERR Insufficient memory, failed allocating transient memory for LCS"
#define ERR_LCS_LONG "ERR String too long for LCS"
static int lcs_table_fits(struct client *c, uint64_t alen, uint64_t blen)
{
    unsigned long long cells = (alen + 1) * (blen + 1);
    unsigned long long bytes = cells * sizeof(uint32_t);
    if (!(bytes < SIZE_MAX && bytes / cells == sizeof(uint32_t))) {
        reply_error(&c->obuf, ERR_LCS_ALLOC);
        return 0;
    }
    if (bytes > (unsigned long long)server_cfg.proto_max_bulk_len) {
        reply_error(&c->obuf, "ERR Insufficient memory, transient memory for LCS exceeds "
                              "proto-max-bulk-len");
        return 0;
    }
    return 1;
}

static void reply_lcs_idx(struct client *c, const struct lcs_range *r, size_t n,
                          int withmatchlen, uint32_t len)
{
    struct obuf *o = &c->obuf;
    reply_map_len(o, 2);
    reply_bulk(o, "matches", 7);
    reply_array_len(o, (long long)n);
    for (size_t i = 0; i < n; i++) {
        reply_array_len(o, 2 + withmatchlen);
        reply_array_len(o, 2);
        reply_long(o, r[i].a0);
        reply_long(o, r[i].a1);
        reply_array_len(o, 2);
        reply_long(o, r[i].b0);
        reply_long(o, r[i].b1);
        if (withmatchlen)
            reply_long(o, (long long)(r[i].a1 - r[i].a0) + 1);
    }
    reply_bulk(o, "len", 3);
    reply_long(o, len);
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], as Redis 7.0:
 * the dynamic-programming table of (|a|+1) x (|b|+1) 32-bit cells, refused
 * when it would exceed proto-max-bulk-len. The lengths are checked before
 * either value is read. */
static void cmd_lcs(struct client *c)
{
    uint64_t len[2];
    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minlen = 0;
    if (!lcs_lengths(c, len))
        return;
    for (int j = 3; j < c->argc; j++) {
        if (cmdarg_opt_is(c, j, "idx")) {
            getidx = 1;
        } else if (cmdarg_opt_is(c, j, "len")) {
            getlen = 1;
        } else if (cmdarg_opt_is(c, j, "withmatchlen")) {
            withmatchlen = 1;
        } else if (cmdarg_opt_is(c, j, "minmatchlen") && j + 1 < c->argc) {
            if (!cmdarg_ll(c, j + 1, &minlen))
                return;
            if (minlen < 0)
                minlen = 0;
            j++;
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            return;
        }
    }
    if (getidx && getlen) {
        reply_error(&c->obuf, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (len[0] >= UINT32_MAX - 1 || len[1] >= UINT32_MAX - 1) {
        reply_error(&c->obuf, ERR_LCS_LONG);
        return;
    }
    if (!lcs_table_fits(c, len[0], len[1]))
        return;
    struct ks_value va, vb;
    if (lcs_value(c, 1, &va) < 0)
        return;
    if (lcs_value(c, 2, &vb) < 0) {
        ks_value_free(&va);
        return;
    }
    /* The table is sized by what was read (the same lengths as above). */
    uint32_t *t = NULL;
    if (va.len >= UINT32_MAX - 1 || vb.len >= UINT32_MAX - 1)
        reply_error(&c->obuf, ERR_LCS_LONG);
    else if (lcs_table_fits(c, va.len, vb.len) &&
        !(t = ztrymalloc(((size_t)va.len + 1) * ((size_t)vb.len + 1) * sizeof(*t))))
        reply_error(&c->obuf, ERR_LCS_ALLOC);
    if (t == NULL) {
        ks_value_free(&va);
        ks_value_free(&vb);
        return;
    }
    const char *a = va.data, *b = vb.data;
    uint32_t alen = (uint32_t)va.len, blen = (uint32_t)vb.len;
    size_t row = (size_t)blen + 1;
    memset(t, 0, row * sizeof(*t));                 /* row 0 */
    for (uint32_t i = 1; i <= alen; i++) {
        uint32_t *cur = t + (size_t)i * row, *up = cur - row;
        cur[0] = 0;
        for (uint32_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1])
                cur[j] = up[j - 1] + 1;
            else
                cur[j] = up[j] > cur[j - 1] ? up[j] : cur[j - 1];
        }
    }
    uint32_t n = t[(size_t)alen * row + blen];
    if (getlen) {
        reply_long(&c->obuf, n);
    } else if (getidx) {
        struct lcs_range *r = NULL;
        size_t nr = 0;
        lcs_walk(t, a, alen, b, blen, NULL, minlen, &r, &nr);
        reply_lcs_idx(c, r, nr, withmatchlen, n);
        zfree(r);
    } else {
        char *res = zmalloc((size_t)n + 1);
        lcs_walk(t, a, alen, b, blen, res, 0, NULL, NULL);
        reply_bulk(&c->obuf, res, n);
        zfree(res);
    }
    zfree(t);
    ks_value_free(&va);
    ks_value_free(&vb);
}

static void cmd_setrange(struct client *c)
{
    const char *key = c->argv[1], *val = c->argv[3];
    size_t klen = c->argvlen[1], vlen = c->argvlen[3];
    long long offset;
    uint64_t len, nlen;
    if (!cmdarg_ll(c, 2, &offset))
        return;
    if (offset < 0) {
        reply_error(&c->obuf, "ERR offset is out of range");
        return;
    }
    int rc = cmdarg_string_len(c, 1, &len, 0);
    if (rc < 0)
        return;
    if (vlen == 0) {   /* nothing to write: the current length (0 if absent) */
        reply_long(&c->obuf, (long long)len);
        return;
    }
    if (!cmdarg_check_length(c, (unsigned long long)offset, vlen))
        return;
    rc = ks_write_range(c->db, key, klen, (uint64_t)offset, val, vlen, &nlen);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, (long long)nlen);
}

/* ---- the table rows ---- */

#define A_END { NULL, 0, NULL, NULL, NULL, 0, NULL }
#define A_KEY { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL }
#define A_VALUE { "value", ARG_STRING, NULL, NULL, NULL, 0, NULL }

static const struct cmd_arg key_args[] = { A_KEY, A_END };
static const struct cmd_arg key_value_args[] = { A_KEY, A_VALUE, A_END };
static const struct cmd_arg mget_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    A_END,
};
static const struct cmd_arg mset_args[] = {
    { "key_value", ARG_BLOCK, NULL, NULL, NULL, ARG_MULTIPLE, key_value_args },
    A_END,
};
static const struct cmd_arg set_condition[] = {
    { "nx", ARG_PURE_TOKEN, "NX", NULL, NULL, 0, NULL },
    { "xx", ARG_PURE_TOKEN, "XX", NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg set_expiration[] = {
    { "seconds", ARG_INTEGER, "EX", "2.6.12", NULL, 0, NULL },
    { "milliseconds", ARG_INTEGER, "PX", "2.6.12", NULL, 0, NULL },
    { "unix-time-seconds", ARG_UNIX_TIME, "EXAT", "6.2.0", NULL, 0, NULL },
    { "unix-time-milliseconds", ARG_UNIX_TIME, "PXAT", "6.2.0", NULL, 0, NULL },
    { "keepttl", ARG_PURE_TOKEN, "KEEPTTL", "6.0.0", NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg set_args[] = {
    A_KEY,
    A_VALUE,
    { "condition", ARG_ONEOF, NULL, "2.6.12", NULL, ARG_OPTIONAL, set_condition },
    { "get", ARG_PURE_TOKEN, "GET", "6.2.0", NULL, ARG_OPTIONAL, NULL },
    { "expiration", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, set_expiration },
    A_END,
};
static const struct cmd_arg getex_expiration[] = {
    { "seconds", ARG_INTEGER, "EX", NULL, NULL, 0, NULL },
    { "milliseconds", ARG_INTEGER, "PX", NULL, NULL, 0, NULL },
    { "unix-time-seconds", ARG_UNIX_TIME, "EXAT", NULL, NULL, 0, NULL },
    { "unix-time-milliseconds", ARG_UNIX_TIME, "PXAT", NULL, NULL, 0, NULL },
    { "persist", ARG_PURE_TOKEN, "PERSIST", NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg getex_args[] = {
    A_KEY,
    { "expiration", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, getex_expiration },
    A_END,
};
static const struct cmd_arg setex_args[] = {
    A_KEY,
    { "seconds", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_VALUE,
    A_END,
};
static const struct cmd_arg psetex_args[] = {
    A_KEY,
    { "milliseconds", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_VALUE,
    A_END,
};
static const struct cmd_arg incrby_args[] = {
    A_KEY,
    { "increment", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg decrby_args[] = {
    A_KEY,
    { "decrement", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg incrbyfloat_args[] = {
    A_KEY,
    { "increment", ARG_DOUBLE, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg range_args[] = {
    A_KEY,
    { "start", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "end", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg lcs_args[] = {
    { "key1", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "key2", ARG_KEY, NULL, NULL, NULL, ARG_SAME_SPEC, NULL },
    { "len", ARG_PURE_TOKEN, "LEN", NULL, NULL, ARG_OPTIONAL, NULL },
    { "idx", ARG_PURE_TOKEN, "IDX", NULL, NULL, ARG_OPTIONAL, NULL },
    /* "len", as in Redis 7.0's COMMAND DOCS */
    { "len", ARG_INTEGER, "MINMATCHLEN", NULL, NULL, ARG_OPTIONAL, NULL },
    { "withmatchlen", ARG_PURE_TOKEN, "WITHMATCHLEN", NULL, NULL, ARG_OPTIONAL, NULL },
    A_END,
};
static const struct cmd_arg setrange_args[] = {
    A_KEY,
    { "offset", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_VALUE,
    A_END,
};

static const struct cmd_history set_history[] = {
    { "2.6.12", "New options `EX`, `PX`, `NX` and `XX`." },
    { "6.0.0", "New option `KEEPTTL`." },
    { "6.2.0", "New options `GET`, `EXAT` and `PXAT`." },
    { "7.0.0", "`NX` and `GET` may be combined." },
    { NULL, NULL },
};

static const char *const tips_mget[] = { "request_policy:multi_shard", NULL };
static const char *const tips_mset[] = { "request_policy:multi_shard",
                                         "response_policy:all_succeeded", NULL };
static const char *const tips_msetnx[] = { "request_policy:multi_shard",
                                           "response_policy:agg_min", NULL };

/* Key specs: one key at argv[1], or every argument from 1 (step 1 or 2). */
#define KSPEC1(notes_, fl) { { notes_, fl, 1, 0, 1, 0 }, { NULL, 0, 0, 0, 0, 0 } }
#define KSPEC_ALL(fl, step) { { NULL, fl, 1, -1, step, 0 }, { NULL, 0, 0, 0, 0, 0 } }
static const struct cmd_key_spec spec_ro[] = KSPEC1(NULL, KSPEC_RO);
static const struct cmd_key_spec spec_ro_access[] = KSPEC1(NULL, KSPEC_RO | KSPEC_ACCESS);
static const struct cmd_key_spec spec_rw_access_update[] =
    KSPEC1(NULL, KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
static const struct cmd_key_spec spec_set[] =
    KSPEC1("RW and ACCESS because of the optional GET option",
           KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE | KSPEC_VARIABLE_FLAGS);
static const struct cmd_key_spec spec_getex[] =
    KSPEC1("RW and UPDATE because the TTL changes", KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
static const struct cmd_key_spec spec_ow_insert[] = KSPEC1(NULL, KSPEC_OW | KSPEC_INSERT);
static const struct cmd_key_spec spec_ow_update[] = KSPEC1(NULL, KSPEC_OW | KSPEC_UPDATE);
static const struct cmd_key_spec spec_getdel[] =
    KSPEC1(NULL, KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE);
static const struct cmd_key_spec spec_append[] = KSPEC1(NULL, KSPEC_RW | KSPEC_INSERT);
static const struct cmd_key_spec spec_setrange[] = KSPEC1(NULL, KSPEC_RW | KSPEC_UPDATE);
static const struct cmd_key_spec spec_lcs[] = {
    { NULL, KSPEC_RO | KSPEC_ACCESS, 1, 1, 1, 0 }, { NULL, 0, 0, 0, 0, 0 } };
static const struct cmd_key_spec spec_mget[] = KSPEC_ALL(KSPEC_RO | KSPEC_ACCESS, 1);
static const struct cmd_key_spec spec_mset[] = KSPEC_ALL(KSPEC_OW | KSPEC_UPDATE, 2);
static const struct cmd_key_spec spec_msetnx[] = KSPEC_ALL(KSPEC_OW | KSPEC_INSERT, 2);

/* Redis' setGetKeys: SET's key is RW/access with GET, else only written. */
static int set_getkeys(int argc, const char *const *argv, const size_t *argvlen,
                       struct cmd_key_ref *keys, int max)
{
    if (max < 1 || argc < 2)
        return 0;
    keys[0].pos = 1;
    keys[0].flags = KSPEC_OW | KSPEC_UPDATE;
    for (int i = 3; i < argc; i++) {
        if (cmdarg_word_is(argv[i], argvlen[i], "get")) {
            keys[0].flags = KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE;
            break;
        }
    }
    return 1;
}

#define STR_ROW(n, summ, cplx, since_, hist, tips_, proc_, ar, fl, args_, kspecs)     \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_,                \
      .group = "string", .history = hist, .tips = tips_, .proc = proc_, .arity = ar,  \
      .flags = fl, .acl = ACL_STRING, .args = args_, .key_specs = kspecs }
/* A deprecated command (COMMAND DOCS doc_flags, deprecated_since, replaced_by). */
#define STR_OLD_ROW(n, summ, cplx, since_, proc_, ar, fl, args_, kspecs, dep, repl)     \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_,                \
      .group = "string", .proc = proc_, .arity = ar, .flags = fl, .acl = ACL_STRING,  \
      .args = args_, .key_specs = kspecs, .doc_flags = CMD_DOC_DEPRECATED,            \
      .deprecated_since = dep, .replaced_by = repl }

#define W_DENY (CMD_WRITE | CMD_DENYOOM)
#define W_DENY_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)
#define O1 "O(1)"
#define RANGE_CPLX "O(N) where N is the length of the returned string"

struct command string_commands[] = {
    STR_ROW("append", "Append a value to the string of a key", O1, "2.0.0", NULL, NULL,
            cmd_append, 3, W_DENY_FAST, key_value_args, spec_append),
    STR_ROW("decr", "Decrement the integer in a key by one", O1, "1.0.0", NULL, NULL,
            cmd_decr, 2, W_DENY_FAST, key_args, spec_rw_access_update),
    STR_ROW("decrby", "Decrement the integer in a key by a given amount", O1, "1.0.0",
            NULL, NULL, cmd_decrby, 3, W_DENY_FAST, decrby_args, spec_rw_access_update),
    STR_ROW("get", "Return the string value of a key", O1, "1.0.0", NULL, NULL, cmd_get, 2,
            R_FAST, key_args, spec_ro_access),
    STR_ROW("getdel", "Return the string value of a key and delete the key", O1, "6.2.0",
            NULL, NULL, cmd_getdel, 2, CMD_WRITE | CMD_FAST, key_args, spec_getdel),
    STR_ROW("getex", "Return the string value of a key and change or remove its expiry",
            O1, "6.2.0", NULL, NULL, cmd_getex, -2, CMD_WRITE | CMD_FAST, getex_args,
            spec_getex),
    STR_ROW("getrange", "Return a byte range of the string of a key", RANGE_CPLX, "2.4.0",
            NULL, NULL, cmd_getrange, 4, CMD_READONLY, range_args, spec_ro_access),
    STR_OLD_ROW("getset", "Replace the string of a key, returning the old one", O1, "1.0.0",
                cmd_getset, 3, W_DENY_FAST, key_value_args, spec_rw_access_update, "6.2.0",
                "`SET` with the `GET` option"),
    STR_ROW("incr", "Increment the integer in a key by one", O1, "1.0.0", NULL, NULL,
            cmd_incr, 2, W_DENY_FAST, key_args, spec_rw_access_update),
    STR_ROW("incrby", "Increment the integer in a key by a given amount", O1, "1.0.0",
            NULL, NULL, cmd_incrby, 3, W_DENY_FAST, incrby_args, spec_rw_access_update),
    STR_ROW("incrbyfloat", "Increment the number in a key by a floating point amount", O1,
            "2.6.0", NULL, NULL, cmd_incrbyfloat, 3, W_DENY_FAST, incrbyfloat_args,
            spec_rw_access_update),
    STR_ROW("lcs", "Find longest common substring",
            "O(N*M) where N and M are the lengths of s1 and s2, respectively", "7.0.0", NULL,
            NULL, cmd_lcs, -3, CMD_READONLY, lcs_args, spec_lcs),
    STR_ROW("mget", "Return the string values of several keys",
            "O(N) where N is the number of keys", "1.0.0", NULL, tips_mget, cmd_mget, -2,
            R_FAST, mget_args, spec_mget),
    STR_ROW("mset", "Set several keys to string values",
            "O(N) where N is the number of keys", "1.0.1", NULL, tips_mset, cmd_mset, -3,
            W_DENY, mset_args, spec_mset),
    STR_ROW("msetnx", "Set several keys to string values, only if none of them exists",
            "O(N) where N is the number of keys", "1.0.1", NULL, tips_msetnx, cmd_msetnx,
            -3, W_DENY, mset_args, spec_msetnx),
    STR_ROW("psetex", "Set a string value with an expiry in milliseconds", O1, "2.6.0",
            NULL, NULL, cmd_psetex, 4, W_DENY, psetex_args, spec_ow_update),
    { .name = "set",
      .summary = "Set the string value of a key, with optional conditions and expiry",
      .complexity = O1, .since = "1.0.0", .group = "string", .history = set_history,
      .proc = cmd_set, .arity = -3, .flags = W_DENY, .acl = ACL_STRING, .args = set_args,
      .key_specs = spec_set, .getkeys = set_getkeys },
    STR_ROW("setex", "Set a string value with an expiry in seconds", O1, "2.0.0", NULL,
            NULL, cmd_setex, 4, W_DENY, setex_args, spec_ow_update),
    STR_ROW("setnx", "Set a string value only if the key does not exist", O1, "1.0.0",
            NULL, NULL, cmd_setnx, 3, W_DENY_FAST, key_value_args, spec_ow_insert),
    STR_ROW("setrange", "Overwrite part of the string of a key at an offset",
            "O(M) where M is the length of the written value", "2.2.0", NULL, NULL,
            cmd_setrange, 4, W_DENY, setrange_args, spec_setrange),
    STR_ROW("strlen", "Return the length of the string of a key", O1, "2.2.0", NULL, NULL,
            cmd_strlen, 2, R_FAST, key_args, spec_ro),
    STR_OLD_ROW("substr", "Return a byte range of the string of a key (old name of GETRANGE)",
                RANGE_CPLX, "1.0.0", cmd_getrange, 4, CMD_READONLY, range_args,
                spec_ro_access, "2.0.0", "`GETRANGE`"),
    { .name = NULL },
};
