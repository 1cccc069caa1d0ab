/* cmd_keys: the generic key and database commands (see cmd_keys.h). Each
 * handler follows the order of Redis 7.0's checks (options, numbers, db
 * range, lookups) so the first error reported for an input is the same. */
#include "server/cmd_keys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/cmdarg.h"
#include "server/cmd_multi.h"
#include "server/cmd_string.h"
#include "server/config.h"
#include "server/dump.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/glob.h"
#include "util/slice.h"
#include "util/zmalloc.h"

#define ERR_SYNTAX "ERR syntax error"
#define ERR_NOT_INT CMDARG_ERR_NOT_INT
#define ERR_NO_KEY "ERR no such key"
#define ERR_SAME "ERR source and destination objects are the same"
#define ERR_DB_RANGE "ERR DB index is out of range"

/* ---- helpers ---- */

/* Redis' getIntFromObjectOrReply(c, o, &v, msg): msg NULL = the generic
 * texts. 1, or 0 after the error reply. */
static int arg_int(struct client *c, int i, int *out, const char *msg)
{
    long long v;
    if (!str_to_ll(c->argv[i], c->argvlen[i], &v)) {
        reply_error(&c->obuf, msg ? msg : ERR_NOT_INT);
        return 0;
    }
    if (v < INT_MIN || v > INT_MAX) {
        if (msg)
            reply_error(&c->obuf, msg);
        else
            reply_errorf(&c->obuf, "ERR value is out of range, value must between %d and %d",
                         INT_MIN, INT_MAX);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int valid_db(int db)
{
    return db >= 0 && db < ks_databases();
}

static int same_key(const struct client *c, int a, int b)
{
    return c->argvlen[a] == c->argvlen[b] &&
           memcmp(c->argv[a], c->argv[b], c->argvlen[a]) == 0;
}

/* ---- DEL UNLINK EXISTS TOUCH TYPE ---- */

/* DEL and UNLINK (UNLINK's work is O(1) anyway: a deletion is one tombstone). */
static void cmd_del(struct client *c)
{
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        int rc = ks_delete(c->db, c->argv[i], c->argvlen[i]);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            return;
        }
        n += rc;
    }
    reply_long(&c->obuf, n);
}

/* EXISTS and TOUCH: how many of the arguments exist (repeats count). */
static void cmd_exists(struct client *c)
{
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        int rc = ks_exists(c->db, c->argv[i], c->argvlen[i]);
        server_count_lookup(rc);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            return;
        }
        n += rc;
    }
    reply_long(&c->obuf, n);
}

static void cmd_type(struct client *c)
{
    int type;
    int rc = ks_lookup_meta(c->db, c->argv[1], c->argvlen[1], &type, NULL);
    server_count_lookup(rc);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    reply_status(&c->obuf, rc ? ks_type_name(type) : "none");
}

/* ---- RENAME RENAMENX COPY MOVE ---- */

/* Stores v (with its expire) under (db, argv[k]) unless replace is 0 and
 * that key exists: 1 stored, 0 it exists, < 0 error. */
static int store_value(struct client *c, int db, int k, const struct ks_value *v,
                       int replace)
{
    int rc;
    if (!replace && (rc = ks_exists(db, c->argv[k], c->argvlen[k])) != 0)
        return rc < 0 ? rc : 0;
    rc = ks_set(db, c->argv[k], c->argvlen[k], v->type, v->data, v->len, v->expire_at);
    return rc < 0 ? rc : 1;
}

/* store_value, then deletes argv[1] from c->db once stored (RENAME, MOVE). */
static int move_value(struct client *c, int db, int k, const struct ks_value *v,
                      int replace)
{
    int rc = store_value(c, db, k, v, replace);
    if (rc > 0) {
        int d = ks_delete(c->db, c->argv[1], c->argvlen[1]);
        if (d < 0)
            rc = d;
    }
    return rc;
}

static void rename_generic(struct client *c, int nx)
{
    int rc = 2;
    if (!same_key(c, 1, 2))         /* a string in chunks moves, not copied */
        rc = ks_rename_chunked(c->db, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2],
                               !nx);
    if (rc == 2) {                  /* any other value: read whole, stored whole */
        struct ks_value v = { 0 };
        rc = ks_lookup(c->db, c->argv[1], c->argvlen[1], &v);
        if (rc == 0) {
            reply_error(&c->obuf, ERR_NO_KEY);
            return;
        }
        if (rc > 0)
            rc = same_key(c, 1, 2) ? 0 : move_value(c, c->db, 2, &v, !nx);
        ks_value_free(&v);
    }
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else if (nx)
        reply_long(&c->obuf, rc);
    else
        reply_ok(&c->obuf);
}

static void cmd_rename(struct client *c)
{
    rename_generic(c, 0);
}

static void cmd_renamenx(struct client *c)
{
    rename_generic(c, 1);
}

/* The DB argument of COPY and MOVE. 1, or 0 after the error reply. */
static int arg_db(struct client *c, int i, int *db)
{
    if (!arg_int(c, i, db, NULL))
        return 0;
    if (valid_db(*db))
        return 1;
    reply_error(&c->obuf, ERR_DB_RANGE);
    return 0;
}

static void cmd_copy(struct client *c)
{
    int dst = c->db, replace = 0;
    for (int j = 3; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (cmdarg_opt_is(c, j, "replace")) {
            replace = 1;
        } else if (cmdarg_opt_is(c, j, "db") && additional >= 1) {
            if (!arg_db(c, j + 1, &dst))
                return;
            j++;
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            return;
        }
    }
    if (dst == c->db && same_key(c, 1, 2)) {
        reply_error(&c->obuf, ERR_SAME);
        return;
    }
    struct ks_value v = { 0 };
    int rc = ks_lookup(c->db, c->argv[1], c->argvlen[1], &v);
    server_count_lookup(rc);
    if (rc > 0)
        rc = store_value(c, dst, 2, &v, replace);
    ks_value_free(&v);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, rc);
}

static void cmd_move(struct client *c)
{
    int dst;
    if (!arg_db(c, 2, &dst))
        return;
    if (dst == c->db) {
        reply_error(&c->obuf, ERR_SAME);
        return;
    }
    struct ks_value v = { 0 };
    int rc = ks_lookup(c->db, c->argv[1], c->argvlen[1], &v);
    if (rc > 0)
        rc = move_value(c, dst, 1, &v, 0);
    ks_value_free(&v);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, rc);
}

/* ---- DUMP, RESTORE (strings: server/dump.h) ---- */

static void cmd_dump(struct client *c)
{
    struct ks_value v = { 0 };
    int rc = ks_lookup(c->db, c->argv[1], c->argvlen[1], &v);
    server_count_lookup(rc);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    if (rc == 0) {
        reply_null(&c->obuf);
        return;
    }
    struct buf p = BUF_INIT;
    dump_string(v.data, v.len, &p);
    reply_bulk(&c->obuf, p.data, p.len);
    buf_free(&p);
    ks_value_free(&v);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
 * [FREQ frequency], Redis 7.0's checks in its order. IDLETIME and FREQ are
 * checked and then unused: lsmdb keeps no access clock or counter. */
static void cmd_restore(struct client *c)
{
    int replace = 0, absttl = 0;
    long long ttl, idle = -1, freq = -1;
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (cmdarg_opt_is(c, j, "replace")) {
            replace = 1;
        } else if (cmdarg_opt_is(c, j, "absttl")) {
            absttl = 1;
        } else if (cmdarg_opt_is(c, j, "idletime") && additional >= 1 && freq == -1) {
            if (!cmdarg_ll(c, j + 1, &idle))
                return;
            if (idle < 0) {
                reply_error(&c->obuf, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (cmdarg_opt_is(c, j, "freq") && additional >= 1 && idle == -1) {
            if (!cmdarg_ll(c, j + 1, &freq))
                return;
            if (freq < 0 || freq > 255) {
                reply_error(&c->obuf, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            return;
        }
    }
    int rc;
    if (!replace) {
        rc = ks_exists(c->db, c->argv[1], c->argvlen[1]);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            return;
        }
        if (rc > 0) {
            reply_error(&c->obuf, "BUSYKEY Target key name already exists.");
            return;
        }
    }
    if (!cmdarg_ll(c, 2, &ttl))
        return;
    if (ttl < 0) {
        reply_error(&c->obuf, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    const char *pl = c->argv[3];
    size_t pn = c->argvlen[3];
    if (!dump_verify(pl, pn)) {
        reply_error(&c->obuf, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    struct buf v = BUF_INIT;
    if (dump_load_string(pl, pn, (size_t)server_cfg.proto_max_bulk_len, &v) < 0) {
        buf_free(&v);
        reply_error(&c->obuf, "ERR Bad data format");
        return;
    }
    rc = 0;
    if (replace)
        rc = ks_delete(c->db, c->argv[1], c->argvlen[1]);
    /* Redis adds the clock to a relative TTL: one past LLONG_MAX wraps to
     * a time long gone, and the key is not created. */
    int64_t now = ks_now();
    int64_t at = ttl == 0 ? -1 : absttl ? ttl : ttl > LLONG_MAX - now ? 0 : ttl + now;
    if (rc >= 0 && (at < 0 || at > now))
        rc = ks_set(c->db, c->argv[1], c->argvlen[1], KS_TYPE_STRING, v.data ? v.data : "",
                    v.len, at);
    buf_free(&v);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_ok(&c->obuf);
}

/* ---- EXPIRE family, PERSIST, TTL family ---- */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

/* Redis' parseExtendedExpireArgumentsOrReply. 1, or 0 after the error. */
static int parse_expire_flags(struct client *c, int *flags)
{
    int f = 0;
    for (int j = 3; j < c->argc; j++) {
        if (cmdarg_opt_is(c, j, "nx")) {
            f |= EXP_NX;
        } else if (cmdarg_opt_is(c, j, "xx")) {
            f |= EXP_XX;
        } else if (cmdarg_opt_is(c, j, "gt")) {
            f |= EXP_GT;
        } else if (cmdarg_opt_is(c, j, "lt")) {
            f |= EXP_LT;
        } else {
            reply_errorf(&c->obuf, "ERR Unsupported option %.*s", (int)cmdarg_clen(c, j),
                         c->argv[j]);
            return 0;
        }
    }
    if ((f & EXP_NX) && (f & (EXP_XX | EXP_GT | EXP_LT))) {
        reply_error(&c->obuf, "ERR NX and XX, GT or LT options at the same time are not "
                              "compatible");
        return 0;
    }
    if ((f & EXP_GT) && (f & EXP_LT)) {
        reply_error(&c->obuf, "ERR GT and LT options at the same time are not compatible");
        return 0;
    }
    *flags = f;
    return 1;
}

/* Redis' expireGenericCommand: relative = add the command's clock. */
static void expire_generic(struct client *c, int relative, int seconds)
{
    int flags;
    long long when;
    if (!parse_expire_flags(c, &flags) || !cmdarg_ll(c, 2, &when))
        return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto invalid;
        when *= 1000;
    }
    int64_t now = ks_now();
    int64_t base = relative ? now : 0;
    if (when > LLONG_MAX - base)
        goto invalid;
    when += base;

    int64_t cur;
    int rc = ks_lookup_meta(c->db, c->argv[1], c->argvlen[1], NULL, &cur);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    if (rc == 0 || ((flags & EXP_NX) && cur != -1) || ((flags & EXP_XX) && cur == -1) ||
        ((flags & EXP_GT) && (cur == -1 || when <= cur)) ||
        ((flags & EXP_LT) && cur != -1 && when >= cur)) {
        reply_long(&c->obuf, 0);
        return;
    }
    /* A time in the past deletes the key (-1 would mean "no expire"). */
    if (when <= now)
        rc = ks_delete(c->db, c->argv[1], c->argvlen[1]);
    else
        rc = ks_set_expire(c->db, c->argv[1], c->argvlen[1], when);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, 1);
    return;
invalid:
    reply_errorf(&c->obuf, "ERR invalid expire time in '%s' command", c->cmd->fullname);
}

static void cmd_expire(struct client *c)
{
    expire_generic(c, 1, 1);
}

static void cmd_pexpire(struct client *c)
{
    expire_generic(c, 1, 0);
}

static void cmd_expireat(struct client *c)
{
    expire_generic(c, 0, 1);
}

static void cmd_pexpireat(struct client *c)
{
    expire_generic(c, 0, 0);
}

static void cmd_persist(struct client *c)
{
    int64_t cur;
    int rc = ks_lookup_meta(c->db, c->argv[1], c->argvlen[1], NULL, &cur);
    if (rc > 0 && cur != -1)
        rc = ks_set_expire(c->db, c->argv[1], c->argvlen[1], -1);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_long(&c->obuf, rc ? 1 : 0);
}

/* Redis' ttlGenericCommand. */
static void ttl_generic(struct client *c, int ms, int absolute)
{
    int64_t exp;
    int rc = ks_lookup_meta(c->db, c->argv[1], c->argvlen[1], NULL, &exp);
    server_count_lookup(rc);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return;
    }
    if (rc == 0) {
        reply_long(&c->obuf, -2);
        return;
    }
    if (exp == -1) {
        reply_long(&c->obuf, -1);
        return;
    }
    long long ttl = absolute ? exp : exp - ks_now();
    if (ttl < 0)
        ttl = 0;
    /* Rounded to seconds in unsigned arithmetic: an expire near LLONG_MAX
     * (PEXPIREAT 9223372036854775807) must not overflow ttl + 500; Redis
     * answers 9223372036854776 there. */
    reply_long(&c->obuf, ms ? ttl : (long long)(((unsigned long long)ttl + 500) / 1000));
}

static void cmd_ttl(struct client *c)
{
    ttl_generic(c, 0, 0);
}

static void cmd_pttl(struct client *c)
{
    ttl_generic(c, 1, 0);
}

static void cmd_expiretime(struct client *c)
{
    ttl_generic(c, 0, 1);
}

static void cmd_pexpiretime(struct client *c)
{
    ttl_generic(c, 1, 1);
}

/* ---- SCAN KEYS RANDOMKEY ---- */

/* Redis' parseScanCursorOrReply: strtoul over the argument as a C string
 * (so "" is 0 and "-1" wraps), no leading space, nothing after the digits. */
static int parse_cursor(const struct client *c, uint64_t *out)
{
    char buf[64];
    size_t n = cmdarg_clen(c, 1);
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, c->argv[1], n);
    buf[n] = '\0';
    if (isspace((unsigned char)buf[0]))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return 0;
    *out = v;
    return 1;
}

/* Keys gathered by one SCAN call before the reply is written. */
struct keylist {
    struct buf bytes;
    size_t *off;                    /* start of key i in bytes; off[n] = end */
    size_t n, cap;
};

static void keylist_add(struct keylist *l, const char *k, size_t n)
{
    if (l->n + 2 > l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->off = zrealloc(l->off, l->cap * sizeof(*l->off));
    }
    l->off[l->n] = l->bytes.len;
    buf_append(&l->bytes, k, n);
    l->n++;
    l->off[l->n] = l->bytes.len;
}

static void keylist_free(struct keylist *l)
{
    buf_free(&l->bytes);
    zfree(l->off);
}

static int has_prefix(const char *k, size_t n, const char *p, size_t plen)
{
    return plen == 0 || (n >= plen && memcmp(k, p, plen) == 0);
}

/* Whether key k can still match a pattern whose literal prefix is p (the
 * whole pattern when whole): past the last such key, SCAN and KEYS stop. */
static int in_pattern_range(const char *k, size_t n, const char *p, size_t plen, int whole)
{
    return has_prefix(k, n, p, plen) && !(whole && n != plen);
}

/* SCAN options (Redis 7.0's scanGenericCommand step 1). */
struct scan_opts {
    long long count;
    const char *pat;
    size_t patlen;
    const char *type;               /* NULL = any */
    size_t typelen;                 /* as a C string (Redis' strcasecmp) */
};

static int type_is(const struct scan_opts *o, int type)
{
    const char *name = ks_type_name(type);
    return strlen(name) == o->typelen && strncasecmp(name, o->type, o->typelen) == 0;
}

static int parse_scan_opts(struct client *c, struct scan_opts *o)
{
    o->count = 10;
    o->pat = NULL;
    o->patlen = 0;
    o->type = NULL;
    o->typelen = 0;
    for (int i = 2; i < c->argc; i += 2) {
        int j = c->argc - i;
        if (cmdarg_opt_is(c, i, "count") && j >= 2) {
            if (!cmdarg_ll(c, i + 1, &o->count))
                return 0;
            if (o->count < 1) {
                reply_error(&c->obuf, ERR_SYNTAX);
                return 0;
            }
        } else if (cmdarg_opt_is(c, i, "match") && j >= 2) {
            o->pat = c->argv[i + 1];
            o->patlen = c->argvlen[i + 1];
            if (o->patlen == 1 && o->pat[0] == '*')
                o->pat = NULL;
        } else if (cmdarg_opt_is(c, i, "type") && j >= 2) {
            o->type = c->argv[i + 1];
            o->typelen = cmdarg_clen(c, i + 1);
        } else {
            reply_error(&c->obuf, ERR_SYNTAX);
            return 0;
        }
    }
    return 1;
}

static void reply_keylist(struct client *c, const struct keylist *l)
{
    reply_array_len(&c->obuf, (long long)l->n);
    for (size_t i = 0; i < l->n; i++)
        reply_bulk(&c->obuf, l->bytes.data + l->off[i], l->off[i + 1] - l->off[i]);
}

static void reply_scan(struct client *c, uint64_t cursor, const struct keylist *l)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)cursor);
    reply_array_len(&c->obuf, 2);
    reply_bulk_cstr(&c->obuf, num);
    reply_keylist(c, l);
}

/* SCAN: walks the db in key order from the cursor's resume key (or from the
 * MATCH pattern's literal prefix), examining at most COUNT keys, and saves
 * the next key as a new persistent cursor (docs/scan.md). */
static void cmd_scan(struct client *c)
{
    uint64_t cursor;
    struct scan_opts o;
    if (!parse_cursor(c, &cursor)) {
        reply_error(&c->obuf, "ERR invalid cursor");
        return;
    }
    if (!parse_scan_opts(c, &o))
        return;

    struct keylist l = { BUF_INIT, NULL, 0, 0 };
    struct buf start = BUF_INIT;
    char *prefix = NULL;
    size_t plen = 0;
    int whole = 0;                  /* MATCH is a literal: at most one key */
    int rc = 0;
    if (cursor != 0) {
        int db;
        rc = ks_cursor_load(cursor, &db, &start);
        if (rc < 0)
            goto fail;
        if (rc == 0) {              /* unknown or expired: the scan is over */
            reply_scan(c, 0, &l);
            goto out;
        }
    }
    if (o.pat) {
        prefix = zmalloc(o.patlen + 1);
        plen = glob_literal_prefix(o.pat, o.patlen, prefix, &whole);
        size_t m = start.len < plen ? start.len : plen;
        int cmp = memcmp(start.data ? start.data : "", prefix, m);
        if (cmp < 0 || (cmp == 0 && start.len < plen))
            buf_set(&start, prefix, plen);
    }
    struct ks_iter *it = ks_iter_create(c->db, start.data ? start.data : "", start.len);
    if (!it) {
        rc = LSM_EINVAL;
        goto fail;
    }
    int done = 0;
    for (long long examined = 0; examined < o.count; examined++) {
        if (!ks_iter_valid(it))
            break;
        size_t kn;
        const char *k = ks_iter_key(it, &kn);
        if (!in_pattern_range(k, kn, prefix, plen, whole)) {
            done = 1;
            break;
        }
        if (!o.pat || glob_match(o.pat, o.patlen, k, kn, 0)) {
            /* Redis reads each key that matched to check its type (a
             * keyspace hit; the iterator skips expired keys). */
            if (o.type)
                server_count_lookup(1);
            if (!o.type || type_is(&o, ks_iter_type(it)))
                keylist_add(&l, k, kn);
        }
        ks_iter_next(it);
    }
    uint64_t next = 0;
    if (!done && ks_iter_valid(it)) {
        size_t kn;
        const char *k = ks_iter_key(it, &kn);
        if (in_pattern_range(k, kn, prefix, plen, whole))
            buf_set(&start, k, kn);
        else
            done = 1;
    } else {
        done = 1;
    }
    rc = ks_iter_status(it);
    ks_iter_destroy(it);
    if (rc < 0)
        goto fail;
    if (!done && (rc = ks_cursor_save(c->db, start.data ? start.data : "", start.len, &next)) < 0)
        goto fail;
    reply_scan(c, next, &l);
    goto out;
fail:
    cmdarg_reply_ks_error(c, rc);
out:
    zfree(prefix);
    buf_free(&start);
    keylist_free(&l);
}

static void cmd_keys(struct client *c)
{
    const char *pat = c->argv[1];
    size_t patlen = c->argvlen[1];
    int all = patlen == 1 && pat[0] == '*';
    char *prefix = zmalloc(patlen + 1);
    int whole;                      /* a literal pattern: only that key */
    size_t plen = glob_literal_prefix(pat, patlen, prefix, &whole);
    struct ks_iter *it = ks_iter_create(c->db, prefix, plen);
    if (!it) {
        zfree(prefix);
        cmdarg_reply_ks_error(c, LSM_EINVAL);
        return;
    }
    struct keylist l = { BUF_INIT, NULL, 0, 0 };
    for (; ks_iter_valid(it); ks_iter_next(it)) {
        size_t kn;
        const char *k = ks_iter_key(it, &kn);
        if (!in_pattern_range(k, kn, prefix, plen, whole))
            break;
        if (all || glob_match(pat, patlen, k, kn, 0))
            keylist_add(&l, k, kn);
    }
    int rc = ks_iter_status(it);
    ks_iter_destroy(it);
    zfree(prefix);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_keylist(c, &l);
    keylist_free(&l);
}

/* RANDOMKEY: a random descent of the key trie, never a walk of the db.
 * At each level the distinct next bytes under the current prefix are found
 * by seeks (one per distinct byte, at most RK_FANOUT), and one of them — or
 * the prefix itself when it is a key — is drawn uniformly. Every key is
 * reachable, and keys sharing structured prefixes ("user:000".."user:199")
 * are drawn about evenly, where a seek to one random point of the key
 * space would favour the keys that follow large gaps. A level with more
 * than RK_FANOUT distinct bytes falls back to a random seek among them. */
#define RK_FANOUT 64
#define RK_MAX_DEPTH 100000

static uint64_t rk_state;

static uint64_t rk_next(void)
{
    if (rk_state == 0)
        rk_state = (uint64_t)ks_now() * 0x9e3779b97f4a7c15ULL | 1;
    rk_state ^= rk_state << 13;   /* xorshift64 */
    rk_state ^= rk_state >> 7;
    rk_state ^= rk_state << 17;
    return rk_state;
}

/* Seeks to prefix + byte b. */
static void rk_seek(struct ks_iter *it, struct buf *p, unsigned b)
{
    buf_append_byte(p, (char)b);
    ks_iter_seek(it, p->data, p->len);
    buf_truncate(p, p->len - 1);
}

/* Under prefix p (the iterator at its first key): 1 and *pick = -1 to take
 * the prefix itself, or 1 and *pick = the next byte; 0 when nothing is
 * under p any more. */
static int rk_choose(struct ks_iter *it, struct buf *p, int *pick)
{
    unsigned char opts[RK_FANOUT];
    int nopt = 0, terminal = 0, more = 0;
    size_t kn;
    const char *k;
    if (!ks_iter_valid(it))
        return 0;
    k = ks_iter_key(it, &kn);
    if (!has_prefix(k, kn, p->data, p->len))
        return 0;
    if (kn == p->len) {
        terminal = 1;
        ks_iter_next(it);
    }
    while (ks_iter_valid(it)) {
        k = ks_iter_key(it, &kn);
        if (!has_prefix(k, kn, p->data, p->len))
            break;
        unsigned char b = (unsigned char)k[p->len];
        if (nopt == RK_FANOUT) {
            more = 1;
            break;
        }
        opts[nopt++] = b;
        if (b == 255)
            break;
        rk_seek(it, p, b + 1u);
    }
    if (terminal + nopt == 0)
        return 0;
    if (more) {
        unsigned lo = opts[0];
        rk_seek(it, p, lo + (unsigned)(rk_next() % (256 - lo)));
        if (ks_iter_valid(it)) {
            k = ks_iter_key(it, &kn);
            if (has_prefix(k, kn, p->data, p->len)) {
                *pick = (unsigned char)k[p->len];
                return 1;
            }
        }
        *pick = lo;
        return 1;
    }
    int r = (int)(rk_next() % (uint64_t)(terminal + nopt));
    *pick = (terminal && r == 0) ? -1 : opts[r - terminal];
    return 1;
}

/* 1 and out = a random live key, 0 when the db is empty, < 0 error. */
static int random_key(int db, struct buf *out)
{
    struct ks_iter *it = ks_iter_create(db, "", 0);
    if (!it)
        return LSM_EINVAL;
    struct buf p = BUF_INIT;
    int rc = 0;
    for (int depth = 0; depth < RK_MAX_DEPTH; depth++) {
        int pick;
        if (!rk_choose(it, &p, &pick))
            break;
        if (pick < 0) {
            buf_set(out, p.data ? p.data : "", p.len);
            rc = 1;
            break;
        }
        buf_append_byte(&p, (char)pick);
        ks_iter_seek(it, p.data, p.len);
    }
    if (rc == 0) {
        /* Nothing found on the way down (the db is empty, or an error):
         * the first key, if any. */
        ks_iter_seek(it, "", 0);
        if (ks_iter_valid(it)) {
            size_t kn;
            const char *k = ks_iter_key(it, &kn);
            buf_set(out, k, kn);
            rc = 1;
        }
    }
    int st = ks_iter_status(it);
    ks_iter_destroy(it);
    buf_free(&p);
    return st < 0 ? st : rc;
}

static void cmd_randomkey(struct client *c)
{
    struct buf k = BUF_INIT;
    int rc = random_key(c->db, &k);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else if (rc == 0)
        reply_null(&c->obuf);
    else
        reply_bulk(&c->obuf, k.data ? k.data : "", k.len);
    buf_free(&k);
}

/* ---- DBSIZE FLUSHDB FLUSHALL SWAPDB ---- */

static void cmd_dbsize(struct client *c)
{
    long long n = ks_dbsize(c->db);
    if (n < 0)
        cmdarg_reply_ks_error(c, (int)n);
    else
        reply_long(&c->obuf, n);
}

/* Redis' getFlushCommandFlags: nothing, SYNC or ASYNC (both O(1) here). */
static int flush_args_ok(struct client *c)
{
    if (c->argc == 1 || (c->argc == 2 && (cmdarg_opt_is(c, 1, "sync") || cmdarg_opt_is(c, 1, "async"))))
        return 1;
    reply_error(&c->obuf, ERR_SYNTAX);
    return 0;
}

static void cmd_flushdb(struct client *c)
{
    if (!flush_args_ok(c))
        return;
    int rc = ks_flushdb(c->db);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_ok(&c->obuf);
}

static void cmd_flushall(struct client *c)
{
    if (!flush_args_ok(c))
        return;
    int rc = ks_flushall();
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_ok(&c->obuf);
}

static void cmd_swapdb(struct client *c)
{
    int a, b;
    if (!arg_int(c, 1, &a, "ERR invalid first DB index") ||
        !arg_int(c, 2, &b, "ERR invalid second DB index"))
        return;
    if (!valid_db(a) || !valid_db(b)) {
        reply_error(&c->obuf, ERR_DB_RANGE);
        return;
    }
    multi_before_swapdb(a, b);
    int rc = a == b ? 0 : ks_swapdb(a, b);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_ok(&c->obuf);
}

/* ---- the table rows ---- */

#define A_END { NULL, 0, NULL, NULL, NULL, 0, NULL }
#define A_KEY { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL }

static const struct cmd_arg key_args[] = { A_KEY, A_END };
static const struct cmd_arg keys_multi_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    A_END,
};
static const struct cmd_arg rename_args[] = {
    A_KEY,
    { "newkey", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg copy_args[] = {
    { "source", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "destination", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "destination-db", ARG_INTEGER, "DB", NULL, NULL, ARG_OPTIONAL, NULL },
    { "replace", ARG_PURE_TOKEN, "REPLACE", NULL, NULL, ARG_OPTIONAL, NULL },
    A_END,
};
static const struct cmd_arg restore_args[] = {
    A_KEY,
    { "ttl", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "serialized-value", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "replace", ARG_PURE_TOKEN, "REPLACE", "3.0.0", NULL, ARG_OPTIONAL, NULL },
    { "absttl", ARG_PURE_TOKEN, "ABSTTL", "5.0.0", NULL, ARG_OPTIONAL, NULL },
    { "seconds", ARG_INTEGER, "IDLETIME", "5.0.0", NULL, ARG_OPTIONAL, NULL },
    { "frequency", ARG_INTEGER, "FREQ", "5.0.0", NULL, ARG_OPTIONAL, NULL },
    A_END,
};
static const struct cmd_arg move_args[] = {
    A_KEY,
    { "db", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg expire_condition[] = {
    { "nx", ARG_PURE_TOKEN, "NX", NULL, NULL, 0, NULL },
    { "xx", ARG_PURE_TOKEN, "XX", NULL, NULL, 0, NULL },
    { "gt", ARG_PURE_TOKEN, "GT", NULL, NULL, 0, NULL },
    { "lt", ARG_PURE_TOKEN, "LT", NULL, NULL, 0, NULL },
    A_END,
};
#define A_CONDITION { "condition", ARG_ONEOF, NULL, "7.0.0", NULL, ARG_OPTIONAL, \
                      expire_condition }
static const struct cmd_arg expire_args[] = {
    A_KEY, { "seconds", ARG_INTEGER, NULL, NULL, NULL, 0, NULL }, A_CONDITION, A_END,
};
static const struct cmd_arg pexpire_args[] = {
    A_KEY, { "milliseconds", ARG_INTEGER, NULL, NULL, NULL, 0, NULL }, A_CONDITION, A_END,
};
static const struct cmd_arg expireat_args[] = {
    A_KEY, { "unix-time-seconds", ARG_UNIX_TIME, NULL, NULL, NULL, 0, NULL }, A_CONDITION,
    A_END,
};
static const struct cmd_arg pexpireat_args[] = {
    A_KEY, { "unix-time-milliseconds", ARG_UNIX_TIME, NULL, NULL, NULL, 0, NULL },
    A_CONDITION, A_END,
};
static const struct cmd_arg scan_args[] = {
    { "cursor", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "pattern", ARG_PATTERN, "MATCH", NULL, NULL, ARG_OPTIONAL, NULL },
    { "count", ARG_INTEGER, "COUNT", NULL, NULL, ARG_OPTIONAL, NULL },
    { "type", ARG_STRING, "TYPE", "6.0.0", NULL, ARG_OPTIONAL, NULL },
    A_END,
};
static const struct cmd_arg keys_args[] = {
    { "pattern", ARG_PATTERN, NULL, NULL, NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg flush_modes[] = {
    { "async", ARG_PURE_TOKEN, "ASYNC", "4.0.0", NULL, 0, NULL },
    { "sync", ARG_PURE_TOKEN, "SYNC", "6.2.0", NULL, 0, NULL },
    A_END,
};
static const struct cmd_arg flush_args[] = {
    { "async", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, flush_modes },
    A_END,
};
static const struct cmd_arg swapdb_args[] = {
    { "index1", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "index2", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    A_END,
};

static const struct cmd_history exists_history[] = {
    { "3.0.3", "Accepts multiple `key` arguments." },
    { NULL, NULL },
};
static const struct cmd_history expire_history[] = {
    { "7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`." },
    { NULL, NULL },
};
static const struct cmd_history ttl_history[] = {
    { "2.8.0", "Added the -2 reply." },
    { NULL, NULL },
};
static const struct cmd_history renamenx_history[] = {
    { "3.2.0", "The command no longer returns an error when source and destination "
               "names are the same." },
    { NULL, NULL },
};
static const struct cmd_history scan_history[] = {
    { "6.0.0", "Added the `TYPE` subcommand." },
    { NULL, NULL },
};
static const struct cmd_history flush_history[] = {
    { "4.0.0", "Added the `ASYNC` flushing mode modifier." },
    { "6.2.0", "Added the `SYNC` flushing mode modifier." },
    { NULL, NULL },
};

static const struct cmd_history restore_history[] = {
    { "3.0.0", "Added the `REPLACE` modifier." },
    { "5.0.0", "Added the `ABSTTL` modifier." },
    { "5.0.0", "Added the `IDLETIME` and `FREQ` options." },
    { NULL, NULL },
};

static const char *const tips_multi_sum[] = { "request_policy:multi_shard",
                                              "response_policy:agg_sum", NULL };
static const char *const tips_nondet[] = { "nondeterministic_output", NULL };
static const char *const tips_scan[] = { "nondeterministic_output", "request_policy:special",
                                         NULL };
static const char *const tips_keys[] = { "request_policy:all_shards",
                                         "nondeterministic_output_order", NULL };
static const char *const tips_randomkey[] = { "request_policy:all_shards",
                                              "nondeterministic_output", NULL };
static const char *const tips_dbsize[] = { "request_policy:all_shards",
                                           "response_policy:agg_sum", NULL };
static const char *const tips_flush[] = { "request_policy:all_shards",
                                          "response_policy:all_succeeded", NULL };

/* Key specs (Redis 7.0's): one key at argv[1], every argument from 1, or
 * the two keys of RENAME/COPY. */
#define KS_END { NULL, 0, 0, 0, 0, 0 }
#define KSPEC1(fl) { { NULL, fl, 1, 0, 1, 0 }, KS_END }
#define KSPEC_ALL(fl) { { NULL, fl, 1, -1, 1, 0 }, KS_END }
#define KSPEC2(fl1, fl2) { { NULL, fl1, 1, 0, 1, 0 }, { NULL, fl2, 2, 0, 1, 0 }, KS_END }
static const struct cmd_key_spec spec_del[] = KSPEC_ALL(KSPEC_RM | KSPEC_DELETE);
static const struct cmd_key_spec spec_ro_all[] = KSPEC_ALL(KSPEC_RO);
static const struct cmd_key_spec spec_ro[] = KSPEC1(KSPEC_RO);
static const struct cmd_key_spec spec_ro_access[] = KSPEC1(KSPEC_RO | KSPEC_ACCESS);
static const struct cmd_key_spec spec_rw_update[] = KSPEC1(KSPEC_RW | KSPEC_UPDATE);
static const struct cmd_key_spec spec_move[] = KSPEC1(KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
static const struct cmd_key_spec spec_rename[] =
    KSPEC2(KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE, KSPEC_OW | KSPEC_UPDATE);
static const struct cmd_key_spec spec_renamenx[] =
    KSPEC2(KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE, KSPEC_OW | KSPEC_INSERT);
static const struct cmd_key_spec spec_ow_update[] = KSPEC1(KSPEC_OW | KSPEC_UPDATE);
static const struct cmd_key_spec spec_copy[] =
    KSPEC2(KSPEC_RO | KSPEC_ACCESS, KSPEC_OW | KSPEC_UPDATE);

#define ROW(n, summ, cplx, since_, grp, hist, tips_, proc_, ar, fl, acl_, args_, ks)   \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_, .group = grp,  \
      .history = hist, .tips = tips_, .proc = proc_, .arity = ar, .flags = fl,        \
      .acl = ACL_KEYSPACE | (acl_), .args = args_, .key_specs = ks }
#define GEN(n, summ, cplx, since_, hist, tips_, proc_, ar, fl, acl_, args_, ks) \
    ROW(n, summ, cplx, since_, "generic", hist, tips_, proc_, ar, fl, acl_, args_, ks)

#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)
#define O1 "O(1)"
#define ON_KEYS "O(N) where N is the number of keys given"

struct command keys_commands[] = {
    GEN("copy", "Copy the value of a key to another key, optionally in another database",
        "O(N) worst case for collections, where N is the number of nested items. O(1) "
        "for string values.", "6.2.0", NULL, NULL, cmd_copy, -3, CMD_WRITE | CMD_DENYOOM,
        0, copy_args, spec_copy),
    GEN("del", "Delete keys", ON_KEYS, "1.0.0", NULL, tips_multi_sum, cmd_del, -2,
        CMD_WRITE, 0, keys_multi_args, spec_del),
    GEN("dump", "Return a serialized version of the value of a key",
        "O(1) to find the key and O(N) to serialize a string of N bytes", "2.6.0", NULL,
        tips_nondet, cmd_dump, 2, CMD_READONLY, 0, key_args, spec_ro_access),
    GEN("exists", "Count how many of the given keys exist", ON_KEYS, "1.0.0",
        exists_history, tips_multi_sum, cmd_exists, -2, R_FAST, 0, keys_multi_args, spec_ro_all),
    GEN("expire", "Set a key's time to live in seconds", O1, "1.0.0", expire_history,
        NULL, cmd_expire, -3, W_FAST, 0, expire_args, spec_rw_update),
    GEN("expireat", "Set a key's expiry as a UNIX time in seconds", O1, "1.2.0",
        expire_history, NULL, cmd_expireat, -3, W_FAST, 0, expireat_args, spec_rw_update),
    GEN("expiretime", "Return a key's expiry as a UNIX time in seconds", O1, "7.0.0", NULL,
        NULL, cmd_expiretime, 2, R_FAST, 0, key_args, spec_ro_access),
    GEN("keys", "Return every key that matches a glob pattern",
        "O(N) with N being the number of keys in the database", "1.0.0", NULL, tips_keys,
        cmd_keys, 2, CMD_READONLY, ACL_DANGEROUS, keys_args, NULL),
    GEN("move", "Move a key to another database", O1, "1.0.0", NULL, NULL, cmd_move, 3,
        W_FAST, 0, move_args, spec_move),
    GEN("persist", "Remove the expiry of a key", O1, "2.2.0", NULL, NULL, cmd_persist, 2,
        W_FAST, 0, key_args, spec_rw_update),
    GEN("pexpire", "Set a key's time to live in milliseconds", O1, "2.6.0", expire_history,
        NULL, cmd_pexpire, -3, W_FAST, 0, pexpire_args, spec_rw_update),
    GEN("pexpireat", "Set a key's expiry as a UNIX time in milliseconds", O1, "2.6.0",
        expire_history, NULL, cmd_pexpireat, -3, W_FAST, 0, pexpireat_args, spec_rw_update),
    GEN("pexpiretime", "Return a key's expiry as a UNIX time in milliseconds", O1, "7.0.0",
        NULL, NULL, cmd_pexpiretime, 2, R_FAST, 0, key_args, spec_ro_access),
    GEN("pttl", "Return a key's time to live in milliseconds", O1, "2.6.0", ttl_history,
        tips_nondet, cmd_pttl, 2, R_FAST, 0, key_args, spec_ro_access),
    GEN("randomkey", "Return a random key of the database", O1, "1.0.0", NULL,
        tips_randomkey, cmd_randomkey, 1, CMD_READONLY, 0, NULL, NULL),
    GEN("rename", "Rename a key, replacing the new name's value", O1, "1.0.0", NULL, NULL,
        cmd_rename, 3, CMD_WRITE, 0, rename_args, spec_rename),
    GEN("renamenx", "Rename a key only if the new name does not exist", O1, "1.0.0",
        renamenx_history, NULL, cmd_renamenx, 3, W_FAST, 0, rename_args, spec_renamenx),
    GEN("restore", "Create a key from the serialized value DUMP returned",
        "O(1) to create the key and O(N) to read a string of N bytes", "2.6.0",
        restore_history, NULL, cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, ACL_DANGEROUS,
        restore_args, spec_ow_update),
    GEN("scan", "Iterate over the keys of the database with a cursor",
        "O(1) for every call. O(N) for a complete iteration.", "2.8.0", scan_history,
        tips_scan, cmd_scan, -2, CMD_READONLY, 0, scan_args, NULL),
    GEN("touch", "Count how many of the given keys exist, marking them accessed", ON_KEYS,
        "3.2.1", NULL, tips_multi_sum, cmd_exists, -2, R_FAST, 0, keys_multi_args, spec_ro_all),
    GEN("ttl", "Return a key's time to live in seconds", O1, "1.0.0", ttl_history,
        tips_nondet, cmd_ttl, 2, R_FAST, 0, key_args, spec_ro_access),
    GEN("type", "Return the type of the value of a key", O1, "1.0.0", NULL, NULL, cmd_type,
        2, R_FAST, 0, key_args, spec_ro),
    GEN("unlink", "Delete keys (the space is reclaimed in the background)", ON_KEYS,
        "4.0.0", NULL, tips_multi_sum, cmd_del, -2, W_FAST, 0, keys_multi_args, spec_del),
    ROW("dbsize", "Return the number of keys in the selected database", O1, "1.0.0",
        "server", NULL, tips_dbsize, cmd_dbsize, 1, R_FAST, 0, NULL, NULL),
    ROW("flushall", "Remove every key of every database", O1, "1.0.0", "server",
        flush_history, tips_flush, cmd_flushall, -1, CMD_WRITE, ACL_DANGEROUS, flush_args, NULL),
    ROW("flushdb", "Remove every key of the selected database", O1, "1.0.0", "server",
        flush_history, tips_flush, cmd_flushdb, -1, CMD_WRITE, ACL_DANGEROUS, flush_args, NULL),
    ROW("swapdb", "Exchange the contents of two databases", O1, "4.0.0", "server", NULL,
        NULL, cmd_swapdb, 3, W_FAST, ACL_DANGEROUS, swapdb_args, NULL),
    { .name = NULL },
};
