/* cmd_hll: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (see cmd_hll.h). */
#include "server/cmd_hll.h"

#include <stdint.h>
#include <string.h>

#include "server/client.h"
#include "server/cmdarg.h"
#include "server/config.h"
#include "server/hll.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "util/zmalloc.h"

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

static size_t sparse_max(void)
{
    long long m = server_cfg.hll_sparse_max_bytes;
    return m < 0 ? 0 : (size_t)m;
}

/* Looks up the HLL at argv[argi]: 1 found (v filled, free it), 0 absent,
 * -1 an error was replied (another type, not an HLL, engine). read: count
 * it in keyspace_hits/misses (PFCOUNT and PFMERGE do, as in Redis). */
static int hll_lookup(struct client *c, int argi, struct ks_value *v, int read)
{
    int rc = read ? cmdarg_read_string(c, argi, v) : cmdarg_lookup_string(c, argi, v);
    if (rc <= 0)
        return rc;
    if (!hll_valid(v->data, v->len)) {
        ks_value_free(v);
        reply_error(&c->obuf, ERR_NOT_HLL);
        return -1;
    }
    return 1;
}

/* The HLL of argv[argi] copied into b (or a new empty one): 1 it existed,
 * 0 new, -1 replied. */
static int hll_load(struct client *c, int argi, struct buf *b)
{
    struct ks_value v;
    int rc = hll_lookup(c, argi, &v, 0);
    if (rc < 0)
        return -1;
    if (rc) {
        buf_set(b, v.data, v.len);
        ks_value_free(&v);
    } else {
        hll_init(b);
    }
    return rc;
}

/* Writes b to argv[argi], keeping the expire of a key that existed. 1, or
 * 0 after replying the engine's error. */
static int hll_store(struct client *c, int argi, const struct buf *b, int existed)
{
    const char *key = c->argv[argi];
    size_t klen = c->argvlen[argi];
    int rc = existed ? ks_set_keepttl(c->db, key, klen, KS_TYPE_STRING, b->data, b->len)
                     : ks_set(c->db, key, klen, KS_TYPE_STRING, b->data, b->len, -1);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return 0;
    }
    return 1;
}

/* hll_store of a key that exists, without telling a WATCH of it: Redis
 * changes the HLL in place without signalling it (PFDEBUG's conversions, a
 * PFADD cut short by a damaged HLL). */
static int hll_store_quiet(struct client *c, int argi, const struct buf *b)
{
    int was = ks_quiet(1);
    int ok = hll_store(c, argi, b, 1);
    ks_quiet(was);
    return ok;
}

/* 1 when PFADD's elements would change the HLL v, else 0 (nothing to copy
 * or write: a hot, large HLL mostly sees elements it has counted). */
static int pfadd_changes(struct client *c, const struct ks_value *v)
{
    for (int i = 2; i < c->argc; i++)
        if (hll_would_add(v->data, v->len, c->argv[i], c->argvlen[i]))
            return 1;
    return 0;
}

static void cmd_pfadd(struct client *c)
{
    struct ks_value v;
    int rc = hll_lookup(c, 1, &v, 0);
    if (rc < 0)
        return;
    if (rc && !pfadd_changes(c, &v)) {
        ks_value_free(&v);
        reply_long(&c->obuf, 0);
        return;
    }
    struct buf b = BUF_INIT;
    int existed = rc;
    if (existed) {
        buf_set(&b, v.data, v.len);
        ks_value_free(&v);
    } else {
        hll_init(&b);
    }
    int updated = !existed;
    for (int i = 2; i < c->argc; i++) {
        int raised = hll_add(&b, c->argv[i], c->argvlen[i], sparse_max());
        if (raised < 0) {
            /* As Redis, which edits the HLL in place: the registers raised
             * before the corruption stay raised (and the cache stale). */
            int stored = 1;
            if (updated) {
                hll_invalidate(b.data);
                stored = hll_store_quiet(c, 1, &b);   /* 0: it replied */
            }
            if (stored)
                reply_error(&c->obuf, ERR_CORRUPT);
            buf_free(&b);
            return;
        }
        updated |= raised;
    }
    if (updated) {
        hll_invalidate(b.data);
        if (!hll_store(c, 1, &b, existed)) {
            buf_free(&b);
            return;
        }
    }
    buf_free(&b);
    reply_long(&c->obuf, updated);
}

/* Raises max[] (HLL_REGISTERS bytes) to the registers of the HLLs at
 * argv[1..]: 1 done, 0 after an error reply. When dest is not NULL the HLL
 * of argv[1] is copied there (*dest_existed set) and *dense tells whether
 * any of them is dense (PFMERGE). */
static int merge_keys(struct client *c, uint8_t *max, struct buf *dest, int *dest_existed,
                      int *dense)
{
    for (int i = 1; i < c->argc; i++) {
        struct ks_value v;
        int rc = hll_lookup(c, i, &v, 1);
        if (rc < 0)
            return 0;
        if (rc == 0)
            continue;
        if (dest && hll_encoding(v.data) == HLL_DENSE)
            *dense = 1;
        if (dest && i == 1) {
            buf_set(dest, v.data, v.len);
            *dest_existed = 1;
        }
        rc = hll_merge(max, v.data, v.len);
        ks_value_free(&v);
        if (rc < 0) {
            reply_error(&c->obuf, ERR_CORRUPT);
            return 0;
        }
    }
    return 1;
}

/* PFCOUNT of several keys: the estimate of their registers' maximum. */
static void pfcount_union(struct client *c)
{
    uint8_t *max = zcalloc(HLL_REGISTERS);
    if (merge_keys(c, max, NULL, NULL, NULL))
        reply_long(&c->obuf, (long long)hll_count_registers(max));
    zfree(max);
}

static void cmd_pfcount(struct client *c)
{
    if (c->argc > 2) {
        pfcount_union(c);
        return;
    }
    struct ks_value v;
    int rc = hll_lookup(c, 1, &v, 1);
    if (rc <= 0) {
        if (rc == 0)
            reply_long(&c->obuf, 0);
        return;
    }
    uint64_t card;
    if (hll_cache_get(v.data, &card)) {
        ks_value_free(&v);
        reply_long(&c->obuf, (long long)card);
        return;
    }
    if (hll_count(v.data, v.len, &card) < 0) {
        ks_value_free(&v);
        reply_error(&c->obuf, ERR_CORRUPT);
        return;
    }
    /* Store the estimate in the cache, as Redis does, unless writes are
     * refused: an answer does not need it. */
    char why[8];
    if (!ks_write_error(why, sizeof why)) {
        struct buf b = BUF_INIT;
        buf_set(&b, v.data, v.len);
        hll_cache_set(b.data, card);
        int stored = hll_store(c, 1, &b, 1);
        buf_free(&b);
        if (!stored) {
            ks_value_free(&v);
            return;
        }
    }
    ks_value_free(&v);
    reply_long(&c->obuf, (long long)card);
}

static void cmd_pfmerge(struct client *c)
{
    uint8_t *max = zcalloc(HLL_REGISTERS);
    struct buf dest = BUF_INIT;
    int dest_existed = 0, use_dense = 0;
    /* Every key, the destination first, is a source. */
    if (!merge_keys(c, max, &dest, &dest_existed, &use_dense))
        goto out;
    if (!dest_existed)
        hll_init(&dest);
    if (use_dense && hll_to_dense(&dest) < 0) {
        reply_error(&c->obuf, ERR_CORRUPT);
        goto out;
    }
    for (int j = 0; j < HLL_REGISTERS; j++)
        if (max[j] && hll_raise(&dest, j, max[j], sparse_max()) < 0) {
            reply_error(&c->obuf, ERR_CORRUPT);
            goto out;
        }
    hll_invalidate(dest.data);
    if (hll_store(c, 1, &dest, dest_existed))
        reply_ok(&c->obuf);
out:
    buf_free(&dest);
    zfree(max);
}

/* PFDEBUG GETREG: the registers, the key made dense. */
static void pfdebug_getreg(struct client *c, struct buf *b)
{
    int rc = hll_to_dense(b);
    if (rc < 0) {
        reply_error(&c->obuf, ERR_CORRUPT);
        return;
    }
    if (rc && !hll_store_quiet(c, 2, b))
        return;
    reply_array_len(&c->obuf, HLL_REGISTERS);
    for (int j = 0; j < HLL_REGISTERS; j++)
        reply_long(&c->obuf, hll_dense_get(b->data, j));
}

static void cmd_pfdebug(struct client *c)
{
    struct buf b = BUF_INIT;
    int rc = hll_load(c, 2, &b);
    if (rc <= 0) {
        if (rc == 0)
            reply_error(&c->obuf, "ERR The specified key does not exist");
        buf_free(&b);
        return;
    }
    if (cmdarg_opt_is(c, 1, "getreg")) {
        pfdebug_getreg(c, &b);
    } else if (cmdarg_opt_is(c, 1, "decode")) {
        if (hll_encoding(b.data) != HLL_SPARSE) {
            reply_error(&c->obuf, "ERR HLL encoding is not sparse");
        } else {
            struct buf text = BUF_INIT;
            hll_decode(b.data, b.len, &text);
            reply_bulk(&c->obuf, text.data, text.len);
            buf_free(&text);
        }
    } else if (cmdarg_opt_is(c, 1, "encoding")) {
        reply_status(&c->obuf, hll_encoding(b.data) == HLL_DENSE ? "dense" : "sparse");
    } else if (cmdarg_opt_is(c, 1, "todense")) {
        rc = hll_to_dense(&b);
        if (rc < 0)
            reply_error(&c->obuf, ERR_CORRUPT);
        else if (!rc || hll_store_quiet(c, 2, &b))
            reply_long(&c->obuf, rc);
    } else {
        reply_errorf(&c->obuf, "ERR Unknown PFDEBUG subcommand '%.*s'",
                     (int)cmdarg_clen(c, 1), c->argv[1]);
    }
    buf_free(&b);
}

static void cmd_pfselftest(struct client *c)
{
    char err[128];
    if (hll_selftest(err, sizeof err) < 0)
        reply_error(&c->obuf, err);
    else
        reply_ok(&c->obuf);
}

/* ---- the table rows ---- */

#define A_END { NULL, 0, NULL, NULL, NULL, 0, NULL }

static const struct cmd_arg pfadd_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "element", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    A_END,
};
static const struct cmd_arg pfcount_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    A_END,
};
static const struct cmd_arg pfmerge_args[] = {
    { "destkey", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "sourcekey", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    A_END,
};
static const struct cmd_arg pfdebug_args[] = {
    { "subcommand", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    A_END,
};

static const struct cmd_key_spec spec_pfadd[] = {
    { NULL, KSPEC_RW | KSPEC_INSERT, 1, 0, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};
static const struct cmd_key_spec spec_pfcount[] = {
    { "RW because it may change the internal representation of the key, and propagate to "
      "replicas", KSPEC_RW | KSPEC_ACCESS, 1, -1, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};
static const struct cmd_key_spec spec_pfmerge[] = {
    { NULL, KSPEC_RW | KSPEC_ACCESS | KSPEC_INSERT, 1, 0, 1, 0 },
    { NULL, KSPEC_RO | KSPEC_ACCESS, 2, -1, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};
static const struct cmd_key_spec spec_pfdebug[] = {
    { NULL, KSPEC_RW | KSPEC_ACCESS, 2, 0, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};

#define HLL_ROW(n, summ, cplx, proc_, ar, fl, acl_, args_, kspecs, doc)                    \
    { .name = n, .summary = summ, .complexity = cplx, .since = "2.8.9",                   \
      .group = "hyperloglog", .proc = proc_, .arity = ar, .flags = fl,                    \
      .acl = ACL_HYPERLOGLOG | (acl_), .args = args_, .key_specs = kspecs, .doc_flags = doc }

struct command hll_commands[] = {
    HLL_ROW("pfadd", "Add elements to the HyperLogLog of a key",
            "O(1) per element", cmd_pfadd, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 0,
            pfadd_args, spec_pfadd, 0),
    HLL_ROW("pfcount",
            "Estimate how many distinct elements the HyperLogLogs of the keys saw",
            "O(1) for one key (its cached estimate, or one pass over its registers); "
            "O(N) passes over the registers for N keys",
            cmd_pfcount, -2, CMD_READONLY, 0, pfcount_args, spec_pfcount, 0),
    HLL_ROW("pfmerge", "Store the union of HyperLogLogs in the destination key",
            "O(N) passes over the registers for N keys", cmd_pfmerge, -2,
            CMD_WRITE | CMD_DENYOOM, 0, pfmerge_args, spec_pfmerge, 0),
    HLL_ROW("pfdebug", "Inspect or convert the representation of a HyperLogLog", "N/A",
            cmd_pfdebug, 3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, 0, pfdebug_args,
            spec_pfdebug, CMD_DOC_SYSCMD),
    HLL_ROW("pfselftest", "Check the HyperLogLog implementation against its own tests", "N/A",
            cmd_pfselftest, 1, CMD_ADMIN, 0, NULL, NULL, CMD_DOC_SYSCMD),
    { .name = NULL },
};
