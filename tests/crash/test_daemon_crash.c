/* test_daemon_crash.c: acknowledged writes survive kill -9 of lsmdb-server
 * under `appendfsync always`.
 *
 * One data directory, ROUNDS rounds (default 20; ROUNDS= overrides; SEED=
 * replays the same operation streams). Each round starts the daemon on the
 * directory, runs WRITERS hiredis connections in threads (pipeline depths 1
 * to 64) that each own a disjoint set of keys and send SET (values derived
 * from key + round + sequence, 1 B .. 64 KB, mixing small and >= 4 KB
 * values, arbitrary bytes), DEL, INCR/INCRBY, MULTI {SET, DEL, INCRBY}
 * EXEC (all or nothing after the crash), and APPEND of 1 B .. 3 KB pieces to
 * a log key of their own (kept in 4 KiB chunks once it reaches 8 KiB:
 * `--string-chunk-size 4kb`; deleted again past 256 KiB), and kill -9 the
 * daemon at a
 * random moment. Every few rounds the restart itself is also killed part-way
 * through recovery. Every other round simulates a power loss instead of a
 * plain process crash (when tests/crash/syncshim.so is found, see
 * powerloss.h; POWERLOSS=0 turns it off): every file is put back to its
 * content at its last fsync before the restart, so an acknowledged write
 * that was not on disk yet is lost and caught. In rounds 4 and 6 of every
 * 8 (PAGES=1: all of them) a random half of the pages written since that
 * fsync survive instead, in any order, as when the page cache had written
 * some of them back: holes with valid records after them, which recovery
 * must tell from corruption (docs/format-wal.md, "Sync-mark record");
 * KEEP_PRECUT=1 keeps a copy of the directory and shadows before each cut.
 * The servers write their logs
 * through a mapping (the default), except the one every fourth round kills,
 * which writes them with write(2) (`mapped-logs no`). After the restart on
 * the same directory:
 *  - every write acknowledged before the kill is there with its exact value;
 *    acknowledged DELs stay deleted; INCR counters are >= their acknowledged
 *    value;
 *  - the writes in flight (sent, no reply) of one connection were applied as
 *    a prefix of what it sent (the WAL is ordered);
 *  - DBSIZE, INFO keyspace and a full SCAN agree with the number of live
 *    keys the test accounts for, and SCAN finds no key the test did not write;
 *  - while running, every reply is the one the model predicts (OK, DEL's
 *    count, INCR's new value), and no error is replied.
 * The model carries over from round to round, so writes acknowledged in
 * round 1 are checked again after every later crash. */
#include <errno.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "../integration/harness.h"
#include "powerloss.h"
#include "util/hash.h"
#include "util/zmalloc.h"

#define NKEYS 150                   /* string keys per writer */
#define NCTR 4                      /* counters per writer */
#define MAXW 16
#define MAXVAL (64 * 1024)

struct kstate {
    int present;
    uint32_t tag;                   /* value = make_value(w, k, tag, len) */
    uint32_t len;
};

struct model {
    struct kstate k[NKEYS];
    int cpresent[NCTR];
    long long c[NCTR];
    uint32_t nlog;                  /* the log key holds pieces 0..nlog-1 */
    uint64_t loglen;                /* of loglen bytes (0: no key) */
};

/* OP_MULTI: MULTI, SET idx, DEL idx2, INCRBY cidx arg, EXEC — all or nothing.
 * OP_APPEND: APPEND log <piece nlog>; OP_LOGDEL: DEL log. */
enum { OP_SET = 'S', OP_DEL = 'D', OP_INCR = 'I', OP_MULTI = 'M', OP_APPEND = 'A',
       OP_LOGDEL = 'L', OP_FAILED = 'X' };
#define LOG_MAX (256 * 1024)

struct op {
    char kind;
    int idx;                        /* key or counter index */
    uint32_t tag, len;              /* SET */
    long long arg;                  /* INCRBY amount */
    long long expect;               /* predicted integer reply (DEL, INCR) */
    int idx2, cidx;                 /* MULTI: the DEL key, the counter */
    long long expect2;              /* MULTI: INCRBY's reply (expect: DEL's) */
};

struct writer {
    int id, depth, port, round;
    uint64_t rng;
    struct model base;              /* verified state at round start */
    struct model sent;              /* base + every op generated so far */
    struct op *ops;
    size_t nops, cap, acked;
    int connected;
    int bad;                        /* replies that differ from the model */
    int errors;                     /* error replies */
    char first_bad[240];
    pthread_t th;
};

static struct writer W[MAXW];
static int nwriters = 6;
static const int depths[MAXW] = { 1, 1, 4, 16, 32, 8, 2, 64, 1, 4, 16, 32, 8, 2, 1, 16 };
static atomic_int n_connected;

/* ---- deterministic values ---- */

static uint64_t rng_next(uint64_t *s)
{
    *s = hash_mix64(*s);
    return *s;
}

static void make_value(char *buf, int w, int k, uint32_t tag, uint32_t len)
{
    char hdr[48];
    int h = snprintf(hdr, sizeof hdr, "w%d:k%d:%" PRIu32 "|", w, k, tag);
    uint64_t s = hash_mix64(((uint64_t)w << 48) ^ ((uint64_t)k << 32) ^ tag);
    uint64_t r = 0;
    for (uint32_t i = 0; i < len; i++) {
        if ((int)i < h) {
            buf[i] = hdr[i];
            continue;
        }
        if ((i & 7) == 0 || i == (uint32_t)h)
            r = rng_next(&s);
        buf[i] = (char)(r >> ((i & 7) * 8));
    }
}

static uint32_t pick_len(uint64_t *rng)
{
    uint64_t r = rng_next(rng) % 100;
    uint64_t x = rng_next(rng);
    if (r < 3) {                    /* around the 4 KB mark */
        static const uint32_t edge[] = { 4095, 4096, 4097, 8192 };
        return edge[x % 4];
    }
    if (r < 55)
        return 1 + (uint32_t)(x % 128);
    if (r < 80)
        return 129 + (uint32_t)(x % (4095 - 129));
    if (r < 96)
        return 4096 + (uint32_t)(x % (16384 - 4096));
    return 16385 + (uint32_t)(x % (MAXVAL - 16385));
}

static void key_name(char *buf, size_t cap, int w, int k)
{
    snprintf(buf, cap, "w%d:k%03d", w, k);
}

static void ctr_name(char *buf, size_t cap, int w, int c)
{
    snprintf(buf, cap, "w%d:c%d", w, c);
}

static void log_name(char *buf, size_t cap, int w)
{
    snprintf(buf, cap, "w%d:log", w);
}

/* Piece j of writer w's log: its length, and its bytes (make_value's, as
 * for a key numbered NKEYS). */
static uint32_t piece_len(int w, uint32_t j)
{
    return 1 + (uint32_t)(hash_mix64(((uint64_t)w << 32) ^ j ^ 0x10c) % 3000);
}

/* ---- the model ---- */

static void model_apply(struct model *m, const struct op *o)
{
    switch (o->kind) {
    case OP_SET:
        m->k[o->idx].present = 1;
        m->k[o->idx].tag = o->tag;
        m->k[o->idx].len = o->len;
        break;
    case OP_DEL:
        m->k[o->idx].present = 0;
        break;
    case OP_INCR:
        if (!m->cpresent[o->idx]) {
            m->cpresent[o->idx] = 1;
            m->c[o->idx] = 0;
        }
        m->c[o->idx] += o->arg;
        break;
    case OP_APPEND:
        m->loglen += piece_len(o->idx, m->nlog);
        m->nlog++;
        break;
    case OP_LOGDEL:
        m->nlog = 0;
        m->loglen = 0;
        break;
    case OP_MULTI: {
        struct op part = *o;
        part.kind = OP_SET;
        model_apply(m, &part);
        part.kind = OP_DEL;
        part.idx = o->idx2;
        model_apply(m, &part);
        part.kind = OP_INCR;
        part.idx = o->cidx;
        model_apply(m, &part);
        break;
    }
    default:
        break;
    }
}

/* Generates the next op of w against w->sent (and predicts its reply). */
static struct op gen_op(struct writer *w)
{
    struct op o;
    memset(&o, 0, sizeof o);
    uint64_t r = rng_next(&w->rng) % 100;
    if (r < 70) {
        o.kind = OP_SET;
        o.idx = (int)(rng_next(&w->rng) % NKEYS);
        o.tag = ((uint32_t)w->round << 20) | (uint32_t)(w->nops & 0xfffff);
        o.len = pick_len(&w->rng);
    } else if (r < 76) {
        o.kind = OP_MULTI;
        o.idx = (int)(rng_next(&w->rng) % NKEYS);
        o.idx2 = (o.idx + 1 + (int)(rng_next(&w->rng) % (NKEYS - 1))) % NKEYS;
        o.cidx = (int)(rng_next(&w->rng) % NCTR);
        o.tag = ((uint32_t)w->round << 20) | (uint32_t)(w->nops & 0xfffff);
        o.len = pick_len(&w->rng);
        o.arg = 1 + (long long)(rng_next(&w->rng) % 100);
        o.expect = w->sent.k[o.idx2].present;
        o.expect2 = (w->sent.cpresent[o.cidx] ? w->sent.c[o.cidx] : 0) + o.arg;
    } else if (r < 80) {
        o.idx = w->id;
        if (w->sent.loglen > LOG_MAX) {
            o.kind = OP_LOGDEL;
            o.expect = 1;
        } else {
            o.kind = OP_APPEND;
            o.len = piece_len(w->id, w->sent.nlog);
            o.tag = w->sent.nlog;
            o.expect = (long long)(w->sent.loglen + o.len);
        }
    } else if (r < 86) {
        o.kind = OP_DEL;
        o.idx = (int)(rng_next(&w->rng) % NKEYS);
        o.expect = w->sent.k[o.idx].present;
    } else {
        o.kind = OP_INCR;
        o.idx = (int)(rng_next(&w->rng) % NCTR);
        o.arg = (rng_next(&w->rng) % 2) ? 1 : 1 + (long long)(rng_next(&w->rng) % 1000);
        o.expect = (w->sent.cpresent[o.idx] ? w->sent.c[o.idx] : 0) + o.arg;
    }
    model_apply(&w->sent, &o);
    return o;
}

static void note_bad(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_bad(struct writer *w, const char *fmt, ...)
{
    if (w->bad++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_bad, sizeof w->first_bad, fmt, ap);
        va_end(ap);
    }
}

static int append_args(redisContext *ctx, int argc, const char **argv, size_t *lens)
{
    for (int i = 0; i < argc; i++)
        if (lens[i] == (size_t)-1)
            lens[i] = strlen(argv[i]);
    return redisAppendCommandArgv(ctx, argc, argv, lens);
}

static int append_set(redisContext *ctx, int w, int idx, uint32_t tag, uint32_t len, char *vbuf)
{
    char key[32];
    key_name(key, sizeof key, w, idx);
    make_value(vbuf, w, idx, tag, len);
    const char *argv[3] = { "SET", key, vbuf };
    size_t lens[3] = { (size_t)-1, (size_t)-1, len };
    return append_args(ctx, 3, argv, lens);
}

static int append_del(redisContext *ctx, int w, int idx)
{
    char key[32];
    key_name(key, sizeof key, w, idx);
    const char *argv[2] = { "DEL", key };
    size_t lens[2] = { (size_t)-1, (size_t)-1 };
    return append_args(ctx, 2, argv, lens);
}

static int append_incr(redisContext *ctx, int w, int c, long long by)
{
    char key[32], num[32];
    ctr_name(key, sizeof key, w, c);
    snprintf(num, sizeof num, "%lld", by);
    const char *argv[3] = { by == 1 ? "INCR" : "INCRBY", key, num };
    size_t lens[3] = { (size_t)-1, (size_t)-1, (size_t)-1 };
    return append_args(ctx, by == 1 ? 2 : 3, argv, lens);
}

static int append_log(redisContext *ctx, int w, const struct op *o, char *vbuf)
{
    char key[32];
    log_name(key, sizeof key, w);
    if (o->kind == OP_LOGDEL) {
        const char *argv[2] = { "DEL", key };
        size_t lens[2] = { (size_t)-1, (size_t)-1 };
        return append_args(ctx, 2, argv, lens);
    }
    make_value(vbuf, w, NKEYS, o->tag, o->len);
    const char *argv[3] = { "APPEND", key, vbuf };
    size_t lens[3] = { (size_t)-1, (size_t)-1, o->len };
    return append_args(ctx, 3, argv, lens);
}

static int append_word(redisContext *ctx, const char *word)
{
    const char *argv[1] = { word };
    size_t lens[1] = { (size_t)-1 };
    return append_args(ctx, 1, argv, lens);
}

/* Appends the commands of o; returns the number of replies to expect, or -1. */
static int append_op(redisContext *ctx, struct writer *w, const struct op *o, char *vbuf)
{
    int rc;
    switch (o->kind) {
    case OP_SET:
        return append_set(ctx, w->id, o->idx, o->tag, o->len, vbuf) == REDIS_OK ? 1 : -1;
    case OP_DEL:
        return append_del(ctx, w->id, o->idx) == REDIS_OK ? 1 : -1;
    case OP_INCR:
        return append_incr(ctx, w->id, o->idx, o->arg) == REDIS_OK ? 1 : -1;
    case OP_APPEND:
    case OP_LOGDEL:
        return append_log(ctx, w->id, o, vbuf) == REDIS_OK ? 1 : -1;
    case OP_MULTI:
        rc = append_word(ctx, "MULTI");
        rc |= append_set(ctx, w->id, o->idx, o->tag, o->len, vbuf);
        rc |= append_del(ctx, w->id, o->idx2);
        rc |= append_incr(ctx, w->id, o->cidx, o->arg);
        rc |= append_word(ctx, "EXEC");
        return rc == REDIS_OK ? 5 : -1;
    default:
        return -1;
    }
}

static int is_status(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STATUS && strcmp(r->str, s) == 0;
}

static int is_int(const redisReply *r, long long v)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer == v;
}

/* 1 when reply number k (0-based) of o is the predicted one. */
static int reply_good(const struct op *o, int k, const redisReply *r)
{
    switch (o->kind) {
    case OP_SET:
        return is_status(r, "OK");
    case OP_DEL:
    case OP_INCR:
    case OP_APPEND:
    case OP_LOGDEL:
        return is_int(r, o->expect);
    case OP_MULTI:
        if (k == 0)
            return is_status(r, "OK");
        if (k < 4)
            return is_status(r, "QUEUED");
        return r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is_status(r->element[0], "OK") &&
               is_int(r->element[1], o->expect) && is_int(r->element[2], o->expect2);
    default:
        return 0;
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct timeval tv = { 10, 0 };
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", w->port, tv);
    if (!ctx || ctx->err) {
        atomic_fetch_add(&n_connected, 1);
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv);
    w->connected = 1;
    atomic_fetch_add(&n_connected, 1);
    char *vbuf = zmalloc(MAXVAL);
    int nrep[256];
    for (;;) {
        size_t first = w->nops;
        for (int i = 0; i < w->depth; i++) {
            if (w->nops == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 1024;
                w->ops = zrealloc(w->ops, w->cap * sizeof *w->ops);
            }
            w->ops[w->nops] = gen_op(w);
            nrep[i] = append_op(ctx, w, &w->ops[w->nops], vbuf);
            if (nrep[i] < 0)
                goto out;
            w->nops++;
        }
        for (size_t i = first; i < w->nops; i++) {
            struct op *o = &w->ops[i];
            char key[32];
            if (o->kind == OP_INCR)
                ctr_name(key, sizeof key, w->id, o->idx);
            else if (o->kind == OP_APPEND || o->kind == OP_LOGDEL)
                log_name(key, sizeof key, w->id);
            else
                key_name(key, sizeof key, w->id, o->idx);
            int failed = 0;
            for (int k = 0; k < nrep[i - first]; k++) {
                redisReply *r = NULL;
                if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r)
                    goto out;       /* the server is gone: the rest is in flight */
                int err = r->type == REDIS_REPLY_ERROR ||
                          (o->kind == OP_MULTI && k == 4 && r->type != REDIS_REPLY_ARRAY);
                if (err) {
                    w->errors++;
                    note_bad(w, "%c %s (reply %d): error '%s'", o->kind, key, k,
                             r->str ? r->str : "");
                    failed = 1;
                } else if (!reply_good(o, k, r)) {
                    note_bad(w, "%c %s (reply %d): type %d int %lld str '%s' elements %zu, "
                             "expected integers %lld %lld",
                             o->kind, key, k, r->type, r->integer,
                             r->str ? esc(r->str, r->len) : "", r->elements, o->expect,
                             o->expect2);
                }
                freeReplyObject(r);
            }
            if (failed) {
                /* not applied (taken as such); stop: later predictions are off */
                o->kind = OP_FAILED;
                w->acked = i + 1;
                goto out;
            }
            w->acked = i + 1;
        }
    }
out:
    zfree(vbuf);
    redisFree(ctx);
    return NULL;
}

/* ---- verification ---- */

static int key_matches(const redisReply *r, int w, int k, const struct kstate *ks, char *vbuf)
{
    if (!ks->present)
        return r->type == REDIS_REPLY_NIL;
    if (r->type != REDIS_REPLY_STRING || r->len != ks->len)
        return 0;
    make_value(vbuf, w, k, ks->tag, ks->len);
    return memcmp(r->str, vbuf, ks->len) == 0;
}

/* 1 when r is writer w's log as model m has it: pieces 0..nlog-1. */
static int log_matches(const redisReply *r, int w, const struct model *m, char *vbuf)
{
    if (m->nlog == 0)
        return r->type == REDIS_REPLY_NIL;
    if (r->type != REDIS_REPLY_STRING || r->len != m->loglen)
        return 0;
    size_t at = 0;
    for (uint32_t j = 0; j < m->nlog; j++) {
        uint32_t n = piece_len(w, j);
        make_value(vbuf, w, NKEYS, j, n);
        if (memcmp(r->str + at, vbuf, n) != 0)
            return 0;
        at += n;
    }
    return 1;
}

static int ctr_matches(const redisReply *r, int present, long long v)
{
    if (!present)
        return r->type == REDIS_REPLY_NIL;
    char want[32];
    snprintf(want, sizeof want, "%lld", v);
    return r->type == REDIS_REPLY_STRING && r->len == strlen(want) && memcmp(r->str, want, r->len) == 0;
}

static const char *describe(const redisReply *r)
{
    static char buf[128];
    if (r->type == REDIS_REPLY_NIL)
        return "(nil)";
    if (r->type == REDIS_REPLY_STRING) {
        char head[40];
        size_t n = r->len < 24 ? r->len : 24;
        snprintf(head, sizeof head, "%s", esc(r->str, n));
        snprintf(buf, sizeof buf, "%zu bytes '%s'", r->len, head);
        return buf;
    }
    snprintf(buf, sizeof buf, "reply type %d", r->type);
    return buf;
}

struct verdict {
    long long acked_ops, checked_keys;
    int lost;                       /* acknowledged writes missing / wrong */
    int resurrected;                /* acknowledged deletes undone */
    int ctr_low;                    /* counters below the acknowledged value */
    int not_prefix;                 /* writers whose state is no prefix of their stream */
    int live;                       /* keys present */
    long long inflight;
};

/* Checks writer w against its observed keys (rk: NKEYS string replies, rc:
 * NCTR counter replies) and sets w->base to the recovered state. */
static void verify_writer(struct writer *w, redisReply **rk, redisReply **rc,
                          const redisReply *rlog, struct verdict *v, char *vbuf)
{
    struct model a = w->base;
    for (size_t i = 0; i < w->acked; i++)
        model_apply(&a, &w->ops[i]);
    v->acked_ops += (long long)w->acked;
    v->inflight += (long long)(w->nops - w->acked);
    int touched_k[NKEYS] = { 0 }, touched_c[NCTR] = { 0 }, touched_log = 0;
    for (size_t i = w->acked; i < w->nops; i++) {
        const struct op *o = &w->ops[i];
        if (o->kind == OP_APPEND || o->kind == OP_LOGDEL) {
            touched_log = 1;
        } else if (o->kind == OP_INCR) {
            touched_c[o->idx] = 1;
        } else if (o->kind == OP_MULTI) {
            touched_k[o->idx] = touched_k[o->idx2] = 1;
            touched_c[o->cidx] = 1;
        } else if (o->kind != OP_FAILED) {
            touched_k[o->idx] = 1;
        }
    }
    char name[32];
    int shown = 0;
    /* Keys no in-flight op touched: exactly the acknowledged state. */
    for (int k = 0; k < NKEYS; k++) {
        v->checked_keys++;
        if (touched_k[k] || key_matches(rk[k], w->id, k, &a.k[k], vbuf))
            continue;
        if (a.k[k].present)
            v->lost++;
        else
            v->resurrected++;
        if (shown++ < 5) {
            key_name(name, sizeof name, w->id, k);
            tap_diag("  %s: expected %s (tag %" PRIu32 ", %" PRIu32 " bytes), got %s", name,
                     a.k[k].present ? "value" : "no key", a.k[k].tag, a.k[k].len, describe(rk[k]));
        }
    }
    v->checked_keys++;
    if (!touched_log && !log_matches(rlog, w->id, &a, vbuf)) {
        v->lost++;
        tap_diag("  writer %d's log: expected %" PRIu32 " pieces, %" PRIu64 " bytes, got %s",
                 w->id, a.nlog, a.loglen, describe(rlog));
    }
    for (int c = 0; c < NCTR; c++) {
        v->checked_keys++;
        const redisReply *r = rc[c];
        long long got = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
        if (a.cpresent[c] && (r->type != REDIS_REPLY_STRING || got < a.c[c])) {
            v->ctr_low++;
            ctr_name(name, sizeof name, w->id, c);
            tap_diag("  %s: acknowledged %lld, got %s", name, a.c[c], describe(r));
        }
        if (!touched_c[c] && !ctr_matches(r, a.cpresent[c], a.c[c])) {
            v->lost++;
            if (shown++ < 5) {
                ctr_name(name, sizeof name, w->id, c);
                tap_diag("  %s: expected %lld (present %d), got %s", name, a.c[c], a.cpresent[c],
                         describe(r));
            }
        }
    }
    /* Touched keys: the state after some prefix acked..p of the in-flight ops. */
    struct model s = a;
    int found = -1;
    for (size_t p = w->acked;; p++) {
        int ok = 1;
        for (int k = 0; k < NKEYS && ok; k++)
            if (touched_k[k] && !key_matches(rk[k], w->id, k, &s.k[k], vbuf))
                ok = 0;
        for (int c = 0; c < NCTR && ok; c++)
            if (touched_c[c] && !ctr_matches(rc[c], s.cpresent[c], s.c[c]))
                ok = 0;
        if (ok && touched_log && !log_matches(rlog, w->id, &s, vbuf))
            ok = 0;
        if (ok) {
            found = (int)(p - w->acked);
            break;
        }
        if (p == w->nops)
            break;
        model_apply(&s, &w->ops[p]);
    }
    if (found < 0) {
        v->not_prefix++;
        tap_diag("  writer %d: in-flight ops %zu..%zu: recovered state is no prefix", w->id,
                 w->acked, w->nops);
        for (int k = 0; k < NKEYS; k++)
            if (touched_k[k]) {
                key_name(name, sizeof name, w->id, k);
                tap_diag("    %s: acked %s (tag %" PRIu32 ", %" PRIu32 " bytes), got %s", name,
                         a.k[k].present ? "value" : "no key", a.k[k].tag, a.k[k].len,
                         describe(rk[k]));
            }
        if (touched_log)
            tap_diag("    log: acked %" PRIu32 " pieces, %" PRIu64 " bytes, got %s", a.nlog,
                     a.loglen, describe(rlog));
    }
    /* The recovered state becomes the next round's base (exact where it
     * matched; on a mismatch the round fails and the test stops). */
    if (found >= 0) {
        struct model n = a;
        for (size_t i = w->acked; i < w->acked + (size_t)found; i++)
            model_apply(&n, &w->ops[i]);
        w->base = n;
    } else {
        w->base = a;
    }
    for (int k = 0; k < NKEYS; k++)
        v->live += w->base.k[k].present;
    for (int c = 0; c < NCTR; c++)
        v->live += w->base.cpresent[c];
    v->live += w->base.nlog > 0;
}

static long long int_reply(redisContext *ctx, const char *cmd)
{
    redisReply *r = redisCommand(ctx, cmd);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Full SCAN of db 0: the number of keys, and how many are not ours. */
static long long scan_count(redisContext *ctx, long long *foreign)
{
    char cursor[32] = "0";
    long long n = 0;
    *foreign = 0;
    int guard = 0;
    do {
        redisReply *r = redisCommand(ctx, "SCAN %s COUNT 500", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            int w, x;
            char t;
            n++;
            int log = sscanf(k, "w%d:lo%c", &w, &t) == 2 && t == 'g' && w >= 0 && w < nwriters &&
                      strchr(k, 'g')[1] == '\0';
            if (!log && (sscanf(k, "w%d:%c%d", &w, &t, &x) != 3 || w < 0 || w >= nwriters ||
                         (t != 'k' && t != 'c')))
                (*foreign)++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && ++guard < 100000);
    return n;
}

static long long info_keys(redisContext *ctx)
{
    redisReply *r = redisCommand(ctx, "INFO keyspace");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "db0:keys=");
        v = p ? atoll(p + 9) : 0;
    }
    if (r)
        freeReplyObject(r);
    return v;
}

/* Returns 1 when the round's checks passed. */
static int verify_round(int round, int port)
{
    struct timeval tv = { 10, 0 };
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!tap_ok(ctx && !ctx->err, "round %d: connect after restart", round)) {
        if (ctx)
            redisFree(ctx);
        return 0;
    }
    redisSetTimeout(ctx, tv);
    char *vbuf = zmalloc(MAXVAL);
    struct verdict v;
    memset(&v, 0, sizeof v);
    int io_ok = 1;
    for (int wi = 0; wi < nwriters && io_ok; wi++) {
        struct writer *w = &W[wi];
        redisReply *rk[NKEYS], *rc[NCTR];
        char name[32];
        for (int k = 0; k < NKEYS; k++) {
            key_name(name, sizeof name, wi, k);
            redisAppendCommand(ctx, "GET %s", name);
        }
        for (int c = 0; c < NCTR; c++) {
            ctr_name(name, sizeof name, wi, c);
            redisAppendCommand(ctx, "GET %s", name);
        }
        log_name(name, sizeof name, wi);
        redisAppendCommand(ctx, "GET %s", name);
        redisReply *rlog = NULL;
        int got = 0;
        for (int k = 0; k < NKEYS + NCTR + 1; k++) {
            redisReply *r = NULL;
            if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) {
                io_ok = 0;
                break;
            }
            if (k < NKEYS)
                rk[k] = r;
            else if (k < NKEYS + NCTR)
                rc[k - NKEYS] = r;
            else
                rlog = r;
            got++;
        }
        if (io_ok)
            verify_writer(w, rk, rc, rlog, &v, vbuf);
        for (int k = 0; k < got && k < NKEYS + NCTR; k++)
            freeReplyObject(k < NKEYS ? rk[k] : rc[k - NKEYS]);
        if (rlog)
            freeReplyObject(rlog);
    }
    zfree(vbuf);
    if (!tap_ok(io_ok, "round %d: read back every key", round)) {
        redisFree(ctx);
        return 0;
    }
    int ok = 1;
    ok &= tap_ok(v.lost == 0 && v.resurrected == 0,
                 "round %d: %lld acknowledged ops this round, all %lld keys as acknowledged "
                 "(%d lost or wrong, %d deleted keys back)",
                 round, v.acked_ops, v.checked_keys, v.lost, v.resurrected);
    ok &= tap_ok(v.ctr_low == 0, "round %d: INCR counters >= acknowledged values (%d below)", round,
                 v.ctr_low);
    ok &= tap_ok(v.not_prefix == 0,
                 "round %d: %lld in-flight ops applied as a prefix per connection (%d writers not)",
                 round, v.inflight, v.not_prefix);
    long long dbsize = int_reply(ctx, "DBSIZE");
    long long foreign = 0;
    long long scanned = scan_count(ctx, &foreign);
    long long ik = info_keys(ctx);
    ok &= tap_ok(dbsize == v.live && scanned == v.live && ik == v.live && foreign == 0,
                 "round %d: live keys %d: DBSIZE %lld, SCAN %lld (%lld unknown), INFO keyspace %lld",
                 round, v.live, dbsize, scanned, foreign, ik);
    int bad = 0, errors = 0;
    for (int wi = 0; wi < nwriters; wi++) {
        bad += W[wi].bad;
        errors += W[wi].errors;
        if (W[wi].bad)
            tap_diag("  writer %d: %d unexpected replies, first: %s", wi, W[wi].bad, W[wi].first_bad);
    }
    ok &= tap_ok(bad == 0 && errors == 0,
                 "round %d: every reply as predicted before the kill (%d unexpected, %d errors)",
                 round, bad, errors);
    redisFree(ctx);
    return ok;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

static int env_int(const char *name, int def)
{
    const char *e = getenv(name);
    return e && *e ? atoi(e) : def;
}

int main(void)
{
    unsigned seed = (unsigned)env_int("SEED", 0);
    if (!seed)
        seed = (unsigned)(time(NULL) ^ (getpid() << 8));
    int rounds = env_int("ROUNDS", 20);
    nwriters = env_int("WRITERS", 6);
    if (nwriters < 1 || nwriters > MAXW)
        nwriters = 6;
    harness_init(120 + rounds * 15);
    if (srv_is_redis())
        tap_skip_all("lsmdb-only: kill -9 and recovery of lsmdb-server");
    tap_diag("SEED=%u ROUNDS=%d WRITERS=%d", seed, rounds, nwriters);
    uint64_t master = hash_mix64(seed);

    const char *tmpdir = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/lsmdb-dcrash-XXXXXX",
             tmpdir && *tmpdir && strlen(tmpdir) < 120 ? tmpdir : "/tmp");
    if (!mkdtemp(dir))
        tap_bail("mkdtemp failed");
    /* APPENDFSYNC=everysec|no checks the test itself: power-loss rounds
     * must then find acknowledged writes missing. */
    const char *policy = getenv("APPENDFSYNC") && *getenv("APPENDFSYNC") ? getenv("APPENDFSYNC")
                                                                       : "always";
    /* The servers of the kill -9 rounds, and of every other power-loss
     * round, write the logs through the mapping; the others with write(2)
     * (`mapped-logs no`). Each restart reads the files the other kind
     * left. Value-log segments of 1 MiB: a mapped segment's file spans its
     * whole size, which the shim compares at every sync. */
    const char *const args[] = { "--appendfsync", policy, "--write-buffer-size", "256kb",
                                 "--vlog-file-size", "1mb", "--mapped-logs", "yes",
                                 "--string-chunk-size", "4kb", NULL };
    const char *const args_plain[] = { "--appendfsync", policy, "--write-buffer-size", "256kb",
                                       "--vlog-file-size", "1mb", "--mapped-logs", "no",
                                       "--string-chunk-size", "4kb", NULL };
    struct srv_opts o = { .dir = dir, .args = args };
    struct srv s;
    memset(W, 0, sizeof W);
    int all_ok = 1;
    long long total_acked = 0, t0 = now_ms();
    /* The server that recovered (and was verified) is the next round's
     * victim: no clean shutdown between crashes. */
    char shadows[300];
    snprintf(shadows, sizeof shadows, "%s.shadows", dir);
    struct powerloss pl;
    pl_init(&pl, dir, shadows);
    if (env_int("POWERLOSS", 1) == 0)
        pl.enabled = 0;
    tap_diag("appendfsync %s", policy);
    tap_diag("power-loss rounds: %s%s", pl.enabled ? "every other round, shim " : "off",
             pl.enabled ? pl.shim : "");
    pl_before_start(&pl);
    int rc0 = srv_start(&s, &o);
    pl_after_start(&pl);
    if (!tap_ok(rc0 == 0, "server starts on a fresh directory (appendfsync %s)", policy))
        tap_bail("the server does not start");
    for (int round = 1; round <= rounds && all_ok; round++) {
        atomic_store(&n_connected, 0);
        for (int wi = 0; wi < nwriters; wi++) {
            struct writer *w = &W[wi];
            w->id = wi;
            w->depth = depths[wi];
            w->port = s.port;
            w->round = round;
            w->rng = hash_mix64(master ^ ((uint64_t)round << 32) ^ (uint64_t)wi);
            w->sent = w->base;
            w->nops = w->acked = 0;
            w->connected = 0;
            w->bad = w->errors = 0;
            w->first_bad[0] = '\0';
            pthread_create(&w->th, NULL, writer_main, w);
        }
        while (atomic_load(&n_connected) < nwriters)
            sleep_ms(1);
        uint64_t r = hash_mix64(master ^ (uint64_t)round);
        long delay = 20 + (long)(r % 900);
        sleep_ms(delay);
        kill(s.pid, SIGKILL);
        int st = srv_wait_exit(&s, 10000);
        for (int wi = 0; wi < nwriters; wi++)
            pthread_join(W[wi].th, NULL);
        long long sent = 0, acked = 0;
        for (int wi = 0; wi < nwriters; wi++) {
            sent += (long long)W[wi].nops;
            acked += (long long)W[wi].acked;
        }
        total_acked += acked;
        int power = pl.enabled && round % 2 == 0;
        if (!tap_ok(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                    "round %d: %s after %ld ms (%lld ops sent, %lld acknowledged)", round,
                    power ? "kill -9 + power loss" : "kill -9", delay, sent, acked))
            srv_dump(&s);
        srv_stop(&s);
        if (power) {
            int files = 0;
            /* Rounds 4, 6, 12, 14, ...: the page cache had written back
             * a random half of the unsynced pages, in any order. */
            uint64_t prng = hash_mix64(r ^ 0x5eed);
            int pages = round % 8 == 4 || round % 8 == 6 || env_int("PAGES", 0);
            if (getenv("KEEP_PRECUT") != NULL && *getenv("KEEP_PRECUT") != '\0') {
                /* What the server left, before the cut (for debugging). */
                char cmd[2048];
                snprintf(cmd, sizeof cmd, "cp -a '%s' '%s.pre%d' && cp -a '%s' '%s.pre%d'", dir,
                         dir, round, shadows, shadows, round);
                if (system(cmd) != 0)
                    tap_diag("round %d: KEEP_PRECUT: copy failed", round);
            }
            long long cut = pages ? pl_cut_pages(&pl, &files, &prng) : pl_cut(&pl, &files);
            tap_diag("round %d: power loss %s %lld unsynced bytes from %d files", round,
                     pages ? "(pages in any order) took back" : "cut", cut, files);
        }
        /* Every fourth round, also crash the restart during recovery. */
        if (round % 4 == 0) {
            struct srv_opts on = o;
            on.no_wait = 1;
            on.args = power && round % 4 == 0 ? args_plain : args;
            pl_before_start(&pl);
            int rc1 = srv_start(&s, &on);
            pl_after_start(&pl);
            if (rc1 == 0) {
                long d = (long)((r >> 20) % 60);
                sleep_ms(d);
                kill(s.pid, SIGKILL);
                srv_wait_exit(&s, 10000);
                int files = 0;
                long long cut = power ? pl_cut(&pl, &files) : 0;
                tap_diag("round %d: restart killed again after %ld ms%s (%lld bytes cut)", round,
                         d, power ? " with power loss" : "", cut);
            }
            srv_stop(&s);
        }
        o.args = pl.enabled && (round + 1) % 4 == 0 ? args_plain : args;
        pl_before_start(&pl);
        int rc2 = srv_start(&s, &o);
        pl_after_start(&pl);
        if (!tap_ok(rc2 == 0, "round %d: restart after the kill", round)) {
            all_ok = 0;
            break;
        }
        if (!verify_round(round, s.port)) {
            all_ok = 0;
            srv_dump(&s);
        }
    }
    srv_stop(&s);
    tap_diag("%lld acknowledged ops in %.1f s", total_acked, (now_ms() - t0) / 1000.0);
    for (int wi = 0; wi < MAXW; wi++)
        zfree(W[wi].ops);
    if (all_ok) {
        pl_free(&pl);
        rm_rf(dir);
    } else
        tap_diag("shadow copies kept: %s", shadows);
    if (!all_ok)
        tap_diag("data directory kept: %s (SEED=%u)", dir, seed);
    return tap_done();
}
