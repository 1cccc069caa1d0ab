/* keyspace: Redis databases over liblsm (see keyspace.h and
 * docs/format-keyspace.md for the layout). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/lsm.h"
#include "server/keyspace.h"
#include "server/ks_defer.h"
#include "server/ks_wtab.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/tpool.h"
#include "util/zmalloc.h"

#define NS_LEN 4
/* Metadata record kinds: the byte after namespace 0. */
enum {
    MK_MAP = 'M', MK_COUNT = 'C', MK_TTL = 'T', MK_CURSOR = 'S', MK_PROBE = 'P',
    MK_DEFER = 'D', MK_CHUNK = 'X', MK_CHUNKED = 'Y'
};
/* A string kept in chunks (docs/format-keyspace.md, "Strings in chunks"):
 * its record's type byte. Only this file sees it: every caller gets
 * KS_TYPE_STRING. The record's value is fixed64 length | fixed64 id |
 * fixed32 chunk size; chunk i is `0 | X | ns | id | i`. */
#define KS_TYPE_CHUNKED 6
#define CHUNKED_PAYLOAD 20
/* A range write that would write more chunks than this (a tiny
 * string-chunk-size and a far offset) writes the string whole instead. */
#define CHUNKS_WRITE_MAX ((uint64_t)1 << 20)
#define CHUNK_KEY_LEN (NS_LEN + 1 + NS_LEN + 8 + 4)
#define REC_HAS_EXPIRE 0x01
#define REC_EXPIRE_SLOT 0x02        /* the expire field is there, unused */
#define REC_HDR_MAX 10
#define MAP_VERSION 1
#define COUNT_LEN 32
#define TTL_KEY_FIXED (NS_LEN + 1 + 8 + NS_LEN)
#define EXPIRE_BATCH 1000
#define TENT_SEED 0x6b73
/* Deferred counting (ks_defer.h): at most this many blind SETs wait for
 * their existence check (more read the key themselves), and only keys up
 * to this size are deferred. */
#define DEFER_MAX_PENDING 4096
#define DEFER_KEY_MAX 1024
/* An epoch is handed to the thread at the end of a loop iteration once it
 * holds this many writes (else at the next cron tick, or when a counter
 * read needs it): one wake-up of the thread per few hundred SETs, not one
 * per iteration at -P 1. */
#define DEFER_EPOCH_MIN 512

/* ---- big-endian key parts ---- */

static void be32_put(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24); p[1] = (char)(v >> 16); p[2] = (char)(v >> 8); p[3] = (char)v;
}

static uint32_t be32_get(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) | ((uint32_t)u[2] << 8) | u[3];
}

static void be64_put(char *p, uint64_t v)
{
    be32_put(p, (uint32_t)(v >> 32));
    be32_put(p + 4, (uint32_t)v);
}

static uint64_t be64_get(const char *p)
{
    return ((uint64_t)be32_get(p) << 32) | be32_get(p + 4);
}

/* ---- state ---- */

struct dbent {
    uint32_t ns;
    int64_t keys;
    int64_t expires;
    __int128 ttl_sum;               /* sum of expire_at of keys with one */
};

/* A pending change of the open transaction (stored key -> record). */
struct tent {
    char *key;
    size_t klen;
    char *val;                      /* NULL for a deletion */
    size_t vlen;
    uint64_t hash;
    int del;
    int patch;                      /* val: the record's new 10-byte header */
    int soft;                       /* only lazy expiry / cursor writes */
    int quiet;                      /* only written under ks_quiet: no hook */
    int db;                         /* data key of this db, -1 metadata */
};

struct undo {
    int db;
    struct dbent old;
};

struct txn {
    int depth;
    int64_t now;
    int user_dirty;
    struct tent *ent;
    size_t n, cap;
    int32_t *idx;                   /* open addressing, -1 empty */
    size_t icap;
    struct undo *undo;
    int nundo, capundo;
    unsigned char *touched;         /* per db: saved in undo */
    int map_dirty;
    int defer_mark_put;             /* this transaction writes the D mark */
    int unmark;                     /* this transaction deletes it (defer_unmark) */
    size_t defer_at;                /* ksd_staged() at the outermost begin */
    uint32_t old_next_ns;
    int *whole;                     /* dbs touched as a whole */
    int nwhole, capwhole;
    uint32_t *killed;               /* namespaces made dead */
    int nkilled, capkilled;
    /* Keys a command changed to no effect (a SET with a past expire of an
     * absent key): nothing to write, but Redis signals them modified, so
     * the hook sees them (WATCH). Keys in touch_keys, db/offset/length. */
    struct buf touch_keys;
    struct ktouch { int db; size_t off, len; } *touch;
    int ntouch, captouch;
    int quiet_mode;                 /* ks_quiet: new writes tell no watcher */
    uint64_t nexpired;              /* keys it deletes because they expired */
};

static struct {
    int open;
    struct lsm_db *lsm;
    struct ks_options opt;
    int ndb;                        /* map entries (>= opt.databases) */
    struct dbent *dbs;
    uint32_t next_ns;
    uint32_t boot;
    uint32_t cursor_seq;
    /* Deferred counting: plain SETs do not read the key; ks_defer finds
     * later whether it existed and the counters get the difference. NULL
     * when off (every SET reads first). */
    struct ksd *defer;
    struct ks_wtab *wtab;           /* what recent commits left in their keys */
    unsigned char *cdirty;          /* per db: counters changed by deltas, not written */
    int defer_mark;                 /* the D record is written (or in the open batch) */
    int counts_unsure;              /* a deferred read failed: recount at next open */
    uint64_t defer_count;           /* blind writes staged */
    uint64_t defer_waits;           /* counter reads that waited for the thread */
    uint64_t stale_dropped;         /* TTL index entries blind writes left, deleted */
    uint64_t wtab_hits;             /* key lookups the write table answered */
    int64_t defer_wait_max_us;      /* the longest such wait */
    /* No TTL index entry is older than this (committed deletions before it):
     * expiry seeks here instead of wading through the tombstones that
     * active expiry leaves at the head of the index. */
    int64_t expire_hint;
    int64_t expire_last;            /* last entry handled by expire_due */
    /* No TTL index entry is due before this (ms; 0 = unknown, INT64_MAX =
     * none): the active expiry cycle does nothing until then, not even
     * create an iterator. Found by expire_due, lowered by every write of
     * an entry. */
    int64_t expire_next;
    struct txn t;
    struct lsm_batch *batch;        /* the commit batch, reused */
    ks_touch_fn hook;
    int64_t (*clock)(void);
    uint64_t rng;

    /* durability */
    int sync_pending;               /* commits since the last sync (always) */
    int unflushed;                  /* defer_flush commits not yet pushed */
    uint64_t commits;
    uint64_t commits_at_sync;
    int64_t last_sync_ms;
    uint64_t sync_count, sync_errors, write_errors;
    uint64_t expired_keys;          /* INFO stats; CONFIG RESETSTAT clears it */
    int persist_err;                /* LSM_E* of the failure, 0 = none */
    char persist_msg[256];
    int64_t persist_err_since;

    /* the compaction filter's copy of the live namespaces */
    pthread_mutex_t flt_mu;
    uint32_t *flt_live;             /* sorted */
    int flt_nlive;
    uint32_t flt_next_ns;           /* 0 = drop nothing */

    /* background threads: everysec sync, dead-namespace reclaim */
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    int bg_stop;
    int bg_sync_flag;               /* a commit to sync (everysec) */
    int bg_sync_err;                /* last background sync result */
    char bg_sync_msg[256];          /* its lsm_last_error(), which is per thread */
    int64_t bg_last_sync_ms;
    uint64_t bg_sync_count, bg_sync_errors;
    int bg_save_pending;            /* BGSAVE asked for a sync now */
    int bg_save_running;            /* ... and the thread is running it */
    int bg_save_err;                /* the last BGSAVE's result */
    int bgsave_scheduled;           /* BGSAVE inside EXEC: start at the cron */
    uint32_t *reclaim;
    int nreclaim, capreclaim;
    pthread_t sync_thread, reclaim_thread;
    int threads;
} ks = { .flt_mu = PTHREAD_MUTEX_INITIALIZER, .bg_mu = PTHREAD_MUTEX_INITIALIZER,
         .bg_cv = PTHREAD_COND_INITIALIZER };

static const char *write_error_reason(void);
static void defer_collect(int wait);
static void defer_unmark(void);
static int load_defer_mark(void);
static int chs_load(void);
static void chs_free(void);
static void remove_record(int db, uint32_t ns, const char *key, size_t klen, int64_t exp,
                          int soft);

static struct buf kbuf = BUF_INIT;   /* scratch: a data key */
static struct buf ibuf = BUF_INIT;   /* scratch: a TTL index key */

static int64_t now_wall(void)
{
    return ks.clock ? ks.clock() : clock_ms();
}

void ks_set_clock(int64_t (*now_ms)(void))
{
    ks.clock = now_ms;
}

/* The transaction's clock: read once, at its first use, and the same for
 * every check of the command (Redis' command time snapshot). */
static int64_t txn_now(void)
{
    if (ks.t.depth == 0)
        return now_wall();
    if (ks.t.now < 0)
        ks.t.now = now_wall();
    return ks.t.now;
}

int64_t ks_now(void)
{
    return txn_now();
}

static uint64_t rng_next(void)
{
    uint64_t x = ks.rng ? ks.rng : (uint64_t)clock_us() | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ks.rng = x;
    return x;
}

const char *ks_type_name(int type)
{
    static const char *const names[] = { "string", "list", "set", "zset", "hash", "stream" };
    if (type < 0 || type >= (int)(sizeof(names) / sizeof(names[0])))
        return "none";
    return names[type];
}

void ks_options_init(struct ks_options *o)
{
    struct lsm_options lo;
    lsm_options_init(&lo);
    memset(o, 0, sizeof(*o));
    o->databases = 16;
    o->appendfsync = KS_FSYNC_EVERYSEC;
    o->cursor_ttl_ms = 24LL * 3600 * 1000;
    o->block_cache_size = lo.block_cache_size;
    o->value_cache_size = lo.value_cache_size;
    o->write_buffer_size = lo.write_buffer_size;
    o->bg_threads = lo.bg_threads;
    o->bloom_bits_per_key = lo.bloom_bits_per_key;
    o->compression = (int)lo.compression;
    o->max_open_files = lo.max_open_files;
    o->value_separation_threshold = lo.value_separation_threshold;
    o->vlog_file_size = lo.vlog_file_size;
    o->vlog_gc_ratio = lo.vlog_gc_ratio;
    o->vlog_gc_max_mbps = lo.vlog_gc_max_mbps;
    o->mapped_logs = lo.mapped_logs;
    o->reclaim = 1;
    o->defer_flush = 0;
    o->defer_counts = 1;
    o->write_table_size = (size_t)32 << 20;
    o->string_chunk_size = (size_t)64 << 10;
}

/* ---- key and record encoding ---- */

static void mk_data_key(struct buf *b, uint32_t ns, const char *key, size_t klen)
{
    char p[NS_LEN];
    be32_put(p, ns);
    buf_clear(b);
    buf_reserve(b, NS_LEN + klen);
    buf_append(b, p, NS_LEN);
    buf_append(b, key, klen);
}

void ks_prefetch(int db, const char *key, size_t klen)
{
    char k[NS_LEN + 64];

    if (!ks.open || db < 0 || db >= ks.opt.databases || klen > sizeof(k) - NS_LEN)
        return;
    be32_put(k, ks.dbs[db].ns);
    memcpy(k + NS_LEN, key, klen);
    lsm_prefetch(ks.lsm, k, NS_LEN + klen);
    wtab_prefetch(ks.wtab, hash64(k, NS_LEN + klen, TENT_SEED));
}

static void mk_meta_key(struct buf *b, char kind)
{
    static const char zero[NS_LEN] = { 0 };
    buf_clear(b);
    buf_append(b, zero, NS_LEN);
    buf_append_byte(b, kind);
}

static void mk_ttl_key(struct buf *b, int64_t exp, uint32_t ns, const char *key, size_t klen)
{
    char p[8 + NS_LEN];
    mk_meta_key(b, MK_TTL);
    be64_put(p, (uint64_t)exp);
    be32_put(p + 8, ns);
    buf_append(b, p, sizeof(p));
    buf_append(b, key, klen);
}

static void mk_count_key(struct buf *b, uint32_t ns)
{
    char p[NS_LEN];
    mk_meta_key(b, MK_COUNT);
    be32_put(p, ns);
    buf_append(b, p, NS_LEN);
}

static void mk_cursor_key(struct buf *b, uint64_t id)
{
    char p[8];
    mk_meta_key(b, MK_CURSOR);
    be64_put(p, id);
    buf_append(b, p, 8);
}

static void mk_chunk_key(struct buf *b, uint32_t ns, uint64_t id, uint32_t idx)
{
    char p[NS_LEN + 8 + 4];
    mk_meta_key(b, MK_CHUNK);
    be32_put(p, ns);
    be64_put(p + NS_LEN, id);
    be32_put(p + NS_LEN + 8, idx);
    buf_append(b, p, sizeof(p));
}

/* The index entry of a string kept in chunks: `0 | Y | ns | key`. */
static void mk_chunked_key(struct buf *b, uint32_t ns, const char *key, size_t klen)
{
    char p[NS_LEN];
    mk_meta_key(b, MK_CHUNKED);
    be32_put(p, ns);
    buf_append(b, p, NS_LEN);
    buf_append(b, key, klen);
}

/* ro's bounds: every metadata entry of one kind (lo, hi: their keys, which
 * must outlive ro). */
static void meta_kind_bounds(struct lsm_read_options *ro, struct buf *lo, struct buf *hi,
                             char kind)
{
    mk_meta_key(lo, kind);
    mk_meta_key(hi, (char)(kind + 1));
    ro->lower_bound = lo->data;
    ro->lower_bound_len = lo->len;
    ro->upper_bound = hi->data;
    ro->upper_bound_len = hi->len;
}

/* The 10-byte header of a record with expire exp (-1: none; the field is
 * there all the same). */
static void rec_header10(char *r, int type, int64_t exp)
{
    r[0] = (char)type;
    r[1] = (char)(exp >= 0 ? REC_HAS_EXPIRE : REC_EXPIRE_SLOT);
    encode_fixed64(r + 2, exp >= 0 ? (uint64_t)exp : 0);
}

/* A record (zmalloc'd, *outlen bytes). One the engine will separate keeps
 * the expire field even without an expire, so that EXPIRE, PERSIST and
 * GETEX can patch its header in place (ks_set_expire). */
static char *rec_encode(int type, int64_t exp, const void *data, size_t len, size_t *outlen)
{
    size_t sep = ks.opt.value_separation_threshold;
    int slot = exp >= 0 || (sep > 0 && 2 + len >= sep);
    size_t h = slot ? 10 : 2;
    char *r = zmalloc(h + len + 1);
    if (slot) {
        rec_header10(r, type, exp);
    } else {
        r[0] = (char)type;
        r[1] = 0;
    }
    if (len)
        memcpy(r + h, data, len);
    *outlen = h + len;
    return r;
}

static int rec_decode(const char *p, size_t n, int *type, int64_t *exp,
                      const char **data, size_t *dlen)
{
    size_t h = 2;
    unsigned flags = n >= 2 ? (unsigned char)p[1] : 0;
    if (n < 2 || (flags & ~(unsigned)(REC_HAS_EXPIRE | REC_EXPIRE_SLOT)) != 0 ||
        flags == (REC_HAS_EXPIRE | REC_EXPIRE_SLOT))
        return LSM_ECORRUPT;
    *exp = -1;
    if (flags) {
        if (n < 10)
            return LSM_ECORRUPT;
        if (flags & REC_HAS_EXPIRE)
            *exp = (int64_t)decode_fixed64(p + 2);
        h = 10;
    }
    *type = (unsigned char)p[0];
    *data = p + h;
    *dlen = n - h;
    return 0;
}

/* The type, expire time and (len, may be NULL) value length of a record
 * from its first bytes (got of them; the whole record is full bytes long). */
static int rec_decode_len(const char *p, size_t got, size_t full, int *type, int64_t *exp,
                          uint64_t *len)
{
    const char *data;
    size_t dlen;
    if (full < 2 || got < (full < REC_HDR_MAX ? full : REC_HDR_MAX))
        return LSM_ECORRUPT;
    int rc = rec_decode(p, got, type, exp, &data, &dlen);
    if (rc == 0 && len)
        *len = full - (size_t)(data - p);
    return rc;
}

static int rec_decode_head(const char *p, size_t got, size_t full, int *type, int64_t *exp)
{
    return rec_decode_len(p, got, full, type, exp, NULL);
}

/* rec_decode_head for ks_defer: the expire time only. */
static int defer_head(const char *head, size_t got, size_t full, int64_t *exp)
{
    int type;
    return rec_decode_head(head, got, full, &type, exp);
}

/* ---- the transaction's change set ---- */

/* Reports a committed change of a data key to the write table. */
static void tent_written(const struct tent *x)
{
    int type = 0;
    int64_t exp = WTAB_EXP_DELETED;
    if (!x->del) {
        size_t got = x->vlen < REC_HDR_MAX ? x->vlen : REC_HDR_MAX;
        if (rec_decode_head(x->val, got, x->vlen, &type, &exp) != 0)
            exp = WTAB_EXP_UNKNOWN;
    }
    wtab_written(ks.wtab, x->hash, type, exp);
}

static struct tent *tent_find(const char *key, size_t klen, uint64_t h)
{
    struct txn *t = &ks.t;
    if (t->icap == 0)
        return NULL;
    for (size_t i = h & (t->icap - 1);; i = (i + 1) & (t->icap - 1)) {
        int32_t e = t->idx[i];
        if (e < 0)
            return NULL;
        struct tent *x = &t->ent[e];
        if (x->hash == h && x->klen == klen && memcmp(x->key, key, klen) == 0)
            return x;
    }
}

/* The transaction's entry for key, or NULL; hashes only when it has any. */
static struct tent *tent_lookup(const char *key, size_t klen)
{
    return ks.t.n == 0 ? NULL : tent_find(key, klen, hash64(key, klen, TENT_SEED));
}

static void tent_index_insert(size_t e)
{
    struct txn *t = &ks.t;
    for (size_t i = t->ent[e].hash & (t->icap - 1);; i = (i + 1) & (t->icap - 1)) {
        if (t->idx[i] < 0) {
            t->idx[i] = (int32_t)e;
            return;
        }
    }
}

static void tent_grow_index(void)
{
    struct txn *t = &ks.t;
    size_t ncap = t->icap ? t->icap * 2 : 64;
    zfree(t->idx);
    t->idx = zmalloc(ncap * sizeof(*t->idx));
    memset(t->idx, 0xff, ncap * sizeof(*t->idx));
    t->icap = ncap;
    for (size_t e = 0; e < t->n; e++)
        tent_index_insert(e);
}

/* Records a put (val != NULL, taken over) or a deletion of a stored key;
 * returns its entry. tent_put_hashed: the key's hash (hash64 with
 * TENT_SEED) already known. */
static struct tent *tent_put_hashed(const char *key, size_t klen, uint64_t h, char *val,
                                    size_t vlen, int db, int soft)
{
    struct txn *t = &ks.t;
    struct tent *x = tent_find(key, klen, h);
    if (x) {
        zfree(x->val);
        x->soft = x->soft && soft;
        x->quiet = x->quiet && t->quiet_mode;
    } else {
        if ((t->n + 1) * 2 > t->icap)
            tent_grow_index();
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 16;
            t->ent = zrealloc(t->ent, t->cap * sizeof(*t->ent));
        }
        x = &t->ent[t->n];
        x->key = zmemdup(key, klen);
        x->klen = klen;
        x->hash = h;
        x->soft = soft;
        x->quiet = t->quiet_mode;
        x->db = db;
        t->n++;
        tent_index_insert(t->n - 1);
    }
    x->val = val;
    x->vlen = val ? vlen : 0;
    x->del = val == NULL;
    x->patch = 0;
    if (!soft)
        t->user_dirty = 1;
    return x;
}

static struct tent *tent_put(const char *key, size_t klen, char *val, size_t vlen, int db,
                             int soft)
{
    return tent_put_hashed(key, klen, hash64(key, klen, TENT_SEED), val, vlen, db, soft);
}

/* Reads a stored key through the transaction. 1 found (*val, *vlen; *alloc
 * is the engine's buffer to lsm_free, NULL when the value lives in the
 * transaction or in buf), 0 absent, < 0 error. A value of less than cap
 * bytes from the engine is read into buf (cap 0: never). With pin not
 * NULL, a value the engine's value cache holds may be lent instead of
 * copied (*pin: release with lsm_unpin; *val read only). */
static int raw_get_lent(const char *key, size_t klen, const char **val, size_t *vlen,
                        char **alloc, char *buf, size_t cap, void **pin)
{
    struct tent *x = tent_lookup(key, klen);
    *alloc = NULL;
    if (pin)
        *pin = NULL;
    if (x && !x->patch) {
        if (x->del)
            return 0;
        *val = x->val;
        *vlen = x->vlen;
        return 1;
    }
    if (pin && !x) {        /* nothing of the transaction to lay over it */
        int rc = lsm_get_lent(ks.lsm, NULL, key, klen, buf, cap, val, vlen, pin);
        if (rc == LSM_ENOTFOUND)
            return 0;
        if (rc != 0)
            return rc;
        if (!*pin && *val != buf)
            *alloc = (char *)*val;
        return 1;
    }
    char *v = NULL;
    size_t n = 0;
    int rc = lsm_get_into(ks.lsm, NULL, key, klen, buf, cap, &v, &n);
    if (rc == LSM_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (x)                          /* a patched header: the engine will too */
        memcpy(v, x->val, x->vlen < n ? x->vlen : n);
    *val = v;
    *vlen = n;
    *alloc = v != buf ? v : NULL;
    return 1;
}

static int raw_get(const char *key, size_t klen, const char **val, size_t *vlen, char **alloc,
                   char *buf, size_t cap)
{
    return raw_get_lent(key, klen, val, vlen, alloc, buf, cap, NULL);
}

/* raw_get_head with the transaction's entry for key already looked up (x,
 * NULL when it has none). */
static int raw_get_head_at(const struct tent *x, const char *key, size_t klen, char *head,
                           size_t cap, size_t *got, size_t *full)
{
    if (x && !x->patch) {
        if (x->del)
            return 0;
        *full = x->vlen;
        *got = x->vlen < cap ? x->vlen : cap;
        memcpy(head, x->val, *got);
        return 1;
    }
    int rc = lsm_get_prefix(ks.lsm, NULL, key, klen, head, cap, got, full);
    if (rc == LSM_ENOTFOUND)
        return 0;
    if (rc == 0 && x)               /* a patched header */
        memcpy(head, x->val, x->vlen < *got ? x->vlen : *got);
    return rc == 0 ? 1 : rc;
}

/* The first bytes of a stored record through the transaction, without
 * reading or copying the rest of its value (no value-log read for a
 * separated one): 1 found (head: got of the record's full bytes), 0 absent,
 * < 0 error. */
static int raw_get_head(const char *key, size_t klen, char head[REC_HDR_MAX], size_t *got,
                        size_t *full)
{
    return raw_get_head_at(tent_lookup(key, klen), key, klen, head, REC_HDR_MAX, got, full);
}

/* The db's entry for writing: its old value is saved for rollback. */
static struct dbent *dbw(int db)
{
    struct txn *t = &ks.t;
    if (!t->touched[db]) {
        if (t->nundo == t->capundo) {
            t->capundo = t->capundo ? t->capundo * 2 : 8;
            t->undo = zrealloc(t->undo, (size_t)t->capundo * sizeof(*t->undo));
        }
        t->undo[t->nundo].db = db;
        t->undo[t->nundo].old = ks.dbs[db];
        t->nundo++;
        t->touched[db] = 1;
    }
    return &ks.dbs[db];
}

static void txn_reset(void)
{
    struct txn *t = &ks.t;
    t->quiet_mode = 0;
    t->nexpired = 0;
    size_t used = t->n;
    for (size_t i = 0; i < t->n; i++) {
        zfree(t->ent[i].key);
        zfree(t->ent[i].val);
    }
    t->n = 0;
    if (used == 0) {
        /* nothing to clear in the index */
    } else if (t->icap > 1024) {           /* a huge EXEC: give the memory back */
        zfree(t->idx);
        t->idx = NULL;
        t->icap = 0;
        zfree(t->ent);
        t->ent = NULL;
        t->cap = 0;
    } else if (t->icap) {
        memset(t->idx, 0xff, t->icap * sizeof(*t->idx));
    }
    for (int i = 0; i < t->nundo; i++)
        t->touched[t->undo[i].db] = 0;
    t->nundo = 0;
    t->nwhole = 0;
    t->nkilled = 0;
    t->ntouch = 0;
    buf_clear(&t->touch_keys);
    t->map_dirty = 0;
    t->user_dirty = 0;
    t->defer_mark_put = 0;
    t->unmark = 0;
    t->depth = 0;
}

static void txn_rollback(void)
{
    struct txn *t = &ks.t;
    for (int i = t->nundo - 1; i >= 0; i--)
        ks.dbs[t->undo[i].db] = t->undo[i].old;
    ks.next_ns = t->old_next_ns;
    if (ks.defer)
        ksd_truncate(ks.defer, t->defer_at);   /* its blind writes did not happen */
    if (t->defer_mark_put)
        ks.defer_mark = 0;
    /* Deletions expire_due counted on are undone: find the mark again. */
    ks.expire_next = 0;
    txn_reset();
}

static void push_int(int **arr, int *n, int *cap, int v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = zrealloc(*arr, (size_t)*cap * sizeof(**arr));
    }
    (*arr)[(*n)++] = v;
}

static void push_u32(uint32_t **arr, int *n, int *cap, uint32_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = zrealloc(*arr, (size_t)*cap * sizeof(**arr));
    }
    (*arr)[(*n)++] = v;
}

/* ---- the compaction filter (pool threads) ---- */

static int ns_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Dead: allocated once (below next_ns), mapped by no db. Caller holds flt_mu. */
static int flt_dead(uint32_t ns)
{
    if (ns == 0 || ns >= ks.flt_next_ns)
        return 0;
    return bsearch(&ns, ks.flt_live, (size_t)ks.flt_nlive, sizeof(ns), ns_cmp) == NULL;
}

static int ks_compaction_filter(void *arg, const char *key, size_t klen,
                                const char *val, size_t vlen)
{
    (void)arg;
    if (klen < NS_LEN + 1)
        return 0;
    uint32_t ns = be32_get(key);
    int drop = 0;
    if (ns == 0) {
        char kind = key[NS_LEN];
        if (kind == MK_CURSOR && vlen >= 8)
            return (int64_t)decode_fixed64(val) < clock_ms();
        if (kind == MK_TTL && klen >= TTL_KEY_FIXED)
            ns = be32_get(key + NS_LEN + 1 + 8);
        else if (kind == MK_COUNT && klen == NS_LEN + 1 + NS_LEN)
            ns = be32_get(key + NS_LEN + 1);
        else if ((kind == MK_CHUNK || kind == MK_CHUNKED) && klen >= NS_LEN + 1 + NS_LEN)
            ns = be32_get(key + NS_LEN + 1);
        else
            return 0;
    }
    pthread_mutex_lock(&ks.flt_mu);
    drop = flt_dead(ns);
    pthread_mutex_unlock(&ks.flt_mu);
    return drop;
}

/* The engine's extended filter: it passes only the first bytes of a value
 * kept in the value log, which is all ks_compaction_filter reads (the key,
 * and the 8-byte expiry at the front of a cursor record), so compaction
 * never fetches a separated value. */
static int ks_compaction_filter_ex(void *arg, const struct lsm_filter_entry *e,
                                   const char **new_value, size_t *new_len)
{
    (void)new_value;
    (void)new_len;
    return ks_compaction_filter(arg, e->key, e->klen, e->value, e->vlen)
               ? LSM_FILTER_DROP : LSM_FILTER_KEEP;
}

static void flt_publish(void)
{
    uint32_t *live = zmalloc((size_t)ks.ndb * sizeof(*live) + 1);
    for (int i = 0; i < ks.ndb; i++)
        live[i] = ks.dbs[i].ns;
    qsort(live, (size_t)ks.ndb, sizeof(*live), ns_cmp);
    pthread_mutex_lock(&ks.flt_mu);
    uint32_t *old = ks.flt_live;
    ks.flt_live = live;
    ks.flt_nlive = ks.ndb;
    ks.flt_next_ns = ks.next_ns;
    pthread_mutex_unlock(&ks.flt_mu);
    zfree(old);
}

/* ---- background threads ---- */

static void *sync_main(void *arg)
{
    (void)arg;
    log_set_role('B');
    tpool_background_thread();
    pthread_mutex_lock(&ks.bg_mu);
    while (!ks.bg_stop) {
        struct timespec ts;
        if (!ks.bg_save_pending) {          /* BGSAVE: no waiting */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&ks.bg_cv, &ks.bg_mu, &ts);
        }
        if (ks.bg_stop || (!ks.bg_sync_flag && !ks.bg_save_pending))
            continue;
        int save = ks.bg_save_pending;
        ks.bg_sync_flag = 0;
        ks.bg_save_pending = 0;
        ks.bg_save_running = save;
        pthread_mutex_unlock(&ks.bg_mu);
        int rc = lsm_sync(ks.lsm);
        pthread_mutex_lock(&ks.bg_mu);
        if (save) {
            ks.bg_save_running = 0;
            ks.bg_save_err = rc;
        }
        ks.bg_sync_err = rc;
        if (rc == 0) {
            ks.bg_last_sync_ms = clock_ms();
            ks.bg_sync_count++;
        } else {
            snprintf(ks.bg_sync_msg, sizeof(ks.bg_sync_msg), "%s", lsm_last_error());
            ks.bg_sync_errors++;
            ks.bg_sync_flag = 1;    /* retry next second */
        }
    }
    pthread_mutex_unlock(&ks.bg_mu);
    return NULL;
}

static void *reclaim_main(void *arg)
{
    (void)arg;
    log_set_role('B');
    tpool_background_thread();
    pthread_mutex_lock(&ks.bg_mu);
    while (!ks.bg_stop) {
        if (ks.nreclaim == 0) {
            pthread_cond_wait(&ks.bg_cv, &ks.bg_mu);
            continue;
        }
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int i = 0; i < ks.nreclaim; i++) {
            lo = ks.reclaim[i] < lo ? ks.reclaim[i] : lo;
            hi = ks.reclaim[i] > hi ? ks.reclaim[i] : hi;
        }
        ks.nreclaim = 0;
        pthread_mutex_unlock(&ks.bg_mu);
        char b[NS_LEN], e[NS_LEN];
        be32_put(b, lo);
        be32_put(e, hi == UINT32_MAX ? hi : hi + 1);
        int rc = lsm_compact_range(ks.lsm, b, NS_LEN, e, NS_LEN);
        if (rc != 0 && rc != LSM_ECLOSED)
            log_warning("keyspace: reclaiming namespaces %" PRIu32 "..%" PRIu32 " failed: %s",
                        lo, hi, lsm_strerror(rc));
        else if (rc == 0)
            log_verbose("keyspace: reclaimed namespaces %" PRIu32 "..%" PRIu32, lo, hi);
        pthread_mutex_lock(&ks.bg_mu);
    }
    pthread_mutex_unlock(&ks.bg_mu);
    return NULL;
}

static void bg_start(void)
{
    ks.bg_stop = 0;
    ks.threads = 0;
    if (pthread_create(&ks.sync_thread, NULL, sync_main, NULL) == 0)
        ks.threads |= 1;
    if (pthread_create(&ks.reclaim_thread, NULL, reclaim_main, NULL) == 0)
        ks.threads |= 2;
}

static void bg_stop(void)
{
    pthread_mutex_lock(&ks.bg_mu);
    ks.bg_stop = 1;
    pthread_cond_broadcast(&ks.bg_cv);
    pthread_mutex_unlock(&ks.bg_mu);
    if (ks.threads & 1)
        pthread_join(ks.sync_thread, NULL);
    if (ks.threads & 2)
        pthread_join(ks.reclaim_thread, NULL);
    ks.threads = 0;
}

/* ---- open / close: the map record ---- */

static void map_encode(struct buf *b)
{
    buf_clear(b);
    buf_append_byte(b, MAP_VERSION);
    put_fixed32(b, ks.next_ns);
    put_fixed32(b, ks.boot);
    put_fixed32(b, (uint32_t)ks.ndb);
    for (int i = 0; i < ks.ndb; i++)
        put_fixed32(b, ks.dbs[i].ns);
}

static int map_decode(const char *p, size_t n)
{
    if (n < 13 || p[0] != MAP_VERSION)
        return LSM_ECORRUPT;
    uint32_t next = decode_fixed32(p + 1), boot = decode_fixed32(p + 5);
    uint32_t ndb = decode_fixed32(p + 9);
    if (ndb == 0 || ndb > (1u << 24) || n != 13 + (size_t)ndb * 4)
        return LSM_ECORRUPT;
    ks.next_ns = next;
    ks.boot = boot;
    ks.ndb = (int)ndb;
    ks.dbs = zcalloc((size_t)ndb * sizeof(*ks.dbs));
    for (uint32_t i = 0; i < ndb; i++) {
        ks.dbs[i].ns = decode_fixed32(p + 13 + i * 4);
        if (ks.dbs[i].ns == 0 || ks.dbs[i].ns >= next)
            return LSM_ECORRUPT;
    }
    return 0;
}

static void count_encode(char *p, const struct dbent *d)
{
    encode_fixed64(p, (uint64_t)d->keys);
    encode_fixed64(p + 8, (uint64_t)d->expires);
    encode_fixed64(p + 16, (uint64_t)(unsigned __int128)d->ttl_sum);
    encode_fixed64(p + 24, (uint64_t)((unsigned __int128)d->ttl_sum >> 64));
}

static int load_counters(void)
{
    struct buf k = BUF_INIT;
    int rc = 0;
    for (int i = 0; i < ks.ndb && rc == 0; i++) {
        char *v = NULL;
        size_t n = 0;
        mk_count_key(&k, ks.dbs[i].ns);
        rc = lsm_get(ks.lsm, NULL, k.data, k.len, &v, &n);
        if (rc == LSM_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc == 0 && n != COUNT_LEN)
            rc = LSM_ECORRUPT;
        if (rc == 0) {
            struct dbent *d = &ks.dbs[i];
            d->keys = (int64_t)decode_fixed64(v);
            d->expires = (int64_t)decode_fixed64(v + 8);
            unsigned __int128 s = ((unsigned __int128)decode_fixed64(v + 24) << 64) |
                                  decode_fixed64(v + 16);
            d->ttl_sum = (__int128)s;
        }
        lsm_free(v);
    }
    buf_free(&k);
    return rc;
}

/* Loads or creates the map, bumps the boot number (cursor ids) and writes
 * the map back durably. */
static int load_map(void)
{
    struct buf k = BUF_INIT, v = BUF_INIT;
    char *val = NULL;
    size_t n = 0;
    mk_meta_key(&k, MK_MAP);
    int rc = lsm_get(ks.lsm, NULL, k.data, k.len, &val, &n);
    if (rc == LSM_ENOTFOUND) {
        ks.ndb = ks.opt.databases;
        ks.dbs = zcalloc((size_t)ks.ndb * sizeof(*ks.dbs));
        for (int i = 0; i < ks.ndb; i++)
            ks.dbs[i].ns = (uint32_t)i + 1;
        ks.next_ns = (uint32_t)ks.ndb + 1;
        ks.boot = 0;
        rc = 0;
    } else if (rc == 0) {
        rc = map_decode(val, n);
    }
    lsm_free(val);
    if (rc == 0 && ks.ndb < ks.opt.databases) {
        ks.dbs = zrealloc(ks.dbs, (size_t)ks.opt.databases * sizeof(*ks.dbs));
        for (int i = ks.ndb; i < ks.opt.databases; i++) {
            memset(&ks.dbs[i], 0, sizeof(ks.dbs[i]));
            ks.dbs[i].ns = ks.next_ns++;
        }
        ks.ndb = ks.opt.databases;
    }
    if (rc == 0) {
        ks.boot++;
        ks.cursor_seq = 0;
        map_encode(&v);
        struct lsm_write_options wo = { .sync = 1 };
        rc = lsm_put(ks.lsm, &wo, k.data, k.len, v.data, v.len);
    }
    buf_free(&k);
    buf_free(&v);
    return rc;
}

int ks_open(const char *dir, const struct ks_options *opt, char *err, size_t errlen)
{
    struct lsm_options lo;
    int rc;
    if (ks.open) {
        snprintf(err, errlen, "keyspace already open");
        return LSM_EINVAL;
    }
    ks.opt = *opt;
    if (ks.opt.databases < 1)
        ks.opt.databases = 1;
    ks.wtab = wtab_create(ks.opt.write_table_size);
    if (!ks.wtab) {
        snprintf(err, errlen, "can't map the write table (write-table-size %zu bytes): %s",
                 ks.opt.write_table_size, strerror(errno));
        return LSM_EINVAL;
    }
    lsm_options_init(&lo);
    lo.block_cache_size = opt->block_cache_size;
    lo.value_cache_size = opt->value_cache_size;
    lo.write_buffer_size = opt->write_buffer_size;
    lo.bg_threads = opt->bg_threads;
    lo.bloom_bits_per_key = opt->bloom_bits_per_key;
    lo.compression = (enum lsm_compression)opt->compression;
    lo.max_open_files = opt->max_open_files;
    lo.value_separation_threshold = opt->value_separation_threshold;
    lo.vlog_file_size = opt->vlog_file_size;
    lo.vlog_gc_ratio = opt->vlog_gc_ratio;
    lo.vlog_gc_max_mbps = opt->vlog_gc_max_mbps;
    lo.mapped_logs = opt->mapped_logs;
    lo.env = opt->env;
    lo.compaction_filter_ex = ks_compaction_filter_ex;
    lo.compaction_filter_arg = NULL;
    pthread_mutex_lock(&ks.flt_mu);
    ks.flt_next_ns = 0;             /* nothing is dead until the map is loaded */
    pthread_mutex_unlock(&ks.flt_mu);
    rc = lsm_open(dir, &lo, &ks.lsm);
    if (rc != 0) {
        snprintf(err, errlen, "can't open the database in '%s': %s", dir,
                 *lsm_last_error() ? lsm_last_error() : lsm_strerror(rc));
        ks.lsm = NULL;
        wtab_destroy(ks.wtab);
        ks.wtab = NULL;
        return rc;
    }
    rc = load_map();
    if (rc == 0)
        rc = load_counters();
    if (rc == 0)
        rc = load_defer_mark();
    if (rc == 0)
        rc = chs_load();
    if (rc != 0) {
        snprintf(err, errlen, "can't load the keyspace metadata in '%s': %s", dir,
                 *lsm_last_error() ? lsm_last_error() : lsm_strerror(rc));
        lsm_close(ks.lsm);
        ks.lsm = NULL;
        zfree(ks.dbs);
        ks.dbs = NULL;
        wtab_destroy(ks.wtab);
        ks.wtab = NULL;
        return rc;
    }
    ks.t.touched = zcalloc((size_t)ks.ndb);
    ks.cdirty = zcalloc((size_t)ks.ndb);
    ks.defer_mark = 0;
    ks.counts_unsure = 0;
    ks.defer_count = ks.defer_waits = ks.stale_dropped = ks.wtab_hits = 0;
    ks.defer_wait_max_us = 0;
    ks.defer = NULL;
    if (ks.opt.defer_counts) {
        ks.defer = ksd_create(ks.lsm, ks.wtab, defer_head, DEFER_MAX_PENDING);
        if (!ks.defer)
            log_warning("keyspace: no thread for deferred counting; every SET reads first");
    }
    ks.expire_hint = 0;
    ks.expire_next = 0;
    ks.persist_err = 0;
    ks.sync_pending = 0;
    ks.commits = ks.commits_at_sync = 0;
    ks.last_sync_ms = clock_ms();
    ks.bg_last_sync_ms = ks.last_sync_ms;
    ks.sync_count = ks.sync_errors = ks.write_errors = 0;
    ks.bg_sync_flag = ks.bg_sync_err = 0;
    ks.bg_sync_count = ks.bg_sync_errors = 0;
    ks.bg_save_pending = ks.bg_save_running = ks.bg_save_err = 0;
    ks.bgsave_scheduled = 0;
    flt_publish();
    ks.open = 1;
    bg_start();
    return 0;
}

int ks_close(void)
{
    if (!ks.open)
        return 0;
    if (ks.t.depth > 0)
        ks_txn_abort();
    if (ks.defer) {
        defer_collect(1);
        defer_unmark();
        ksd_destroy(ks.defer);
        ks.defer = NULL;
    }
    wtab_destroy(ks.wtab);
    ks.wtab = NULL;
    bg_stop();
    int rc = lsm_sync(ks.lsm);
    int rc2 = lsm_close(ks.lsm);
    lsm_batch_destroy(ks.batch);
    ks.batch = NULL;
    ks.lsm = NULL;
    ks.open = 0;
    struct txn *t = &ks.t;
    zfree(t->ent);
    zfree(t->idx);
    zfree(t->undo);
    zfree(t->touched);
    zfree(ks.cdirty);
    ks.cdirty = NULL;
    zfree(t->whole);
    zfree(t->killed);
    zfree(t->touch);
    buf_free(&t->touch_keys);
    memset(t, 0, sizeof(*t));
    chs_free();
    zfree(ks.dbs);
    ks.dbs = NULL;
    zfree(ks.reclaim);
    ks.reclaim = NULL;
    ks.nreclaim = ks.capreclaim = 0;
    pthread_mutex_lock(&ks.flt_mu);
    zfree(ks.flt_live);
    ks.flt_live = NULL;
    ks.flt_nlive = 0;
    ks.flt_next_ns = 0;
    pthread_mutex_unlock(&ks.flt_mu);
    buf_free(&kbuf);
    buf_free(&ibuf);
    return rc ? rc : rc2;
}

int ks_is_open(void)
{
    return ks.open;
}

struct lsm_db *ks_engine(void)
{
    return ks.lsm;
}

void ks_set_appendfsync(int policy)
{
    ks.opt.appendfsync = policy;
}

void ks_set_cursor_ttl(int64_t ms)
{
    ks.opt.cursor_ttl_ms = ms > 0 ? ms : 1;
}

int ks_databases(void)
{
    return ks.open ? ks.opt.databases : 0;
}

void ks_set_touch_hook(ks_touch_fn fn)
{
    ks.hook = fn;
}

int ks_quiet(int on)
{
    int was = ks.t.quiet_mode;
    ks.t.quiet_mode = on;
    return was;
}

/* ---- transactions ---- */

void ks_txn_begin(void)
{
    if (ks.t.depth++ == 0) {
        ks.t.now = -1;              /* read at first use: PING needs no clock */
        ks.t.old_next_ns = ks.next_ns;
        ks.t.defer_at = ks.defer ? ksd_staged(ks.defer) : 0;
    }
}

int ks_txn_depth(void)
{
    return ks.t.depth;
}

int ks_txn_dirty(void)
{
    return ks.t.depth > 0 && ks.t.user_dirty;
}

void ks_txn_abort(void)
{
    if (ks.t.depth > 0)
        txn_rollback();
}

/* detail: the engine's message for rc, taken on the thread that failed
 * (lsm_last_error() is per thread). */
static void set_persist_error_detail(int rc, const char *what, const char *detail)
{
    if (!ks.persist_err) {
        ks.persist_err_since = clock_ms();
        log_warning("keyspace: %s failed: %s; writes are refused until it succeeds again",
                    what, *detail ? detail : lsm_strerror(rc));
    }
    ks.persist_err = rc;
    snprintf(ks.persist_msg, sizeof(ks.persist_msg), "%s",
             rc == LSM_ENOSPC ? "No space left on device" :
             rc == LSM_EIO ? "Input/output error" : lsm_strerror(rc));
}

static void set_persist_error(int rc, const char *what)
{
    set_persist_error_detail(rc, what, lsm_last_error());
}

/* Adds d's counter record (k: scratch) to the batch. */
static void batch_count(struct lsm_batch *b, struct buf *k, const struct dbent *d)
{
    char cv[COUNT_LEN];
    mk_count_key(k, d->ns);
    if (d->keys == 0 && d->expires == 0) {
        lsm_batch_delete(b, k->data, k->len);
    } else {
        count_encode(cv, d);
        lsm_batch_put(b, k->data, k->len, cv, COUNT_LEN);
    }
}

/* Whether this commit may leave its counter records to a later one: the D
 * record is stored (or goes in this batch) and stays, so a crash before
 * they are written recounts from the data. defer_unmark writes them all
 * in the batch that deletes D. */
static int counts_deferrable(void)
{
    return ks.defer_mark && !ks.t.unmark;
}

/* Adds the counters (unless counts_deferrable) and the map of the
 * transaction to the batch. */
static void batch_meta(struct lsm_batch *b)
{
    struct txn *t = &ks.t;
    struct buf k = BUF_INIT;
    for (int i = 0; i < t->nundo && !counts_deferrable(); i++) {
        const struct dbent *d = &ks.dbs[t->undo[i].db];
        const struct dbent *o = &t->undo[i].old;
        /* Unchanged (an overwrite that keeps the key's TTL state): the
         * stored record already says this. */
        if (d->ns == o->ns && d->keys == o->keys && d->expires == o->expires &&
            d->ttl_sum == o->ttl_sum && !ks.cdirty[t->undo[i].db])
            continue;
        batch_count(b, &k, d);
    }
    /* Counters that deferred deltas changed outside any transaction. */
    for (int i = 0; i < ks.ndb && !counts_deferrable(); i++)
        if (ks.cdirty[i] && !t->touched[i])
            batch_count(b, &k, &ks.dbs[i]);
    if (t->map_dirty) {
        struct buf v = BUF_INIT;
        mk_meta_key(&k, MK_MAP);
        map_encode(&v);
        lsm_batch_put(b, k.data, k.len, v.data, v.len);
        buf_free(&v);
    }
    buf_free(&k);
}

/* key of db was "modified" to no effect (see struct txn's touch). */
static void touch_only(int db, const char *key, size_t klen)
{
    struct txn *t = &ks.t;
    if (!ks.hook)
        return;
    if (t->ntouch == t->captouch) {
        t->captouch = t->captouch ? t->captouch * 2 : 8;
        t->touch = zrealloc(t->touch, (size_t)t->captouch * sizeof(*t->touch));
    }
    t->touch[t->ntouch++] = (struct ktouch){ db, t->touch_keys.len, klen };
    buf_append(&t->touch_keys, key, klen);
}

static void call_hooks(void)
{
    struct txn *t = &ks.t;
    if (!ks.hook)
        return;
    for (size_t i = 0; i < t->n; i++) {
        const struct tent *x = &t->ent[i];
        if (x->db >= 0 && !x->quiet)
            ks.hook(x->db, x->key + NS_LEN, x->klen - NS_LEN);
    }
    for (int i = 0; i < t->ntouch; i++)
        ks.hook(t->touch[i].db, t->touch_keys.data + t->touch[i].off, t->touch[i].len);
    for (int i = 0; i < t->nwhole; i++)
        ks.hook(t->whole[i], NULL, 0);
}

static void after_commit(void)
{
    struct txn *t = &ks.t;
    ks.commits++;
    if (ks.opt.appendfsync == KS_FSYNC_ALWAYS) {
        ks.sync_pending = 1;
    } else if (ks.opt.appendfsync == KS_FSYNC_EVERYSEC) {
        pthread_mutex_lock(&ks.bg_mu);
        ks.bg_sync_flag = 1;
        pthread_mutex_unlock(&ks.bg_mu);
    }
    if (t->map_dirty)
        flt_publish();
    if (t->nkilled > 0 && ks.opt.reclaim) {
        pthread_mutex_lock(&ks.bg_mu);
        for (int i = 0; i < t->nkilled; i++)
            push_u32(&ks.reclaim, &ks.nreclaim, &ks.capreclaim, t->killed[i]);
        pthread_cond_broadcast(&ks.bg_cv);
        pthread_mutex_unlock(&ks.bg_mu);
    }
    call_hooks();
}

int ks_txn_commit(void)
{
    struct txn *t = &ks.t;
    if (t->depth == 0)
        return LSM_EINVAL;
    if (t->depth > 1) {
        t->depth--;
        return 0;
    }
    if (t->n == 0 && t->nundo == 0 && !t->map_dirty) {
        ks.expired_keys += t->nexpired;     /* a SET that expired at once */
        if (t->ntouch > 0) {        /* nothing to write, only watchers to tell */
            t->depth = 0;
            call_hooks();
        }
        txn_reset();
        return 0;
    }
    int user = t->user_dirty || t->map_dirty;
    if (write_error_reason() != NULL) {
        int rc = ks.persist_err ? ks.persist_err : lsm_bg_error(ks.lsm);
        txn_rollback();
        return user ? (rc ? rc : LSM_EIO) : 0;
    }
    if (!ks.batch)
        ks.batch = lsm_batch_create();
    struct lsm_batch *b = ks.batch;     /* reused: no allocation per command */
    lsm_batch_clear(b);
    for (size_t i = 0; i < t->n; i++) {
        const struct tent *x = &t->ent[i];
        if (x->del)
            lsm_batch_delete(b, x->key, x->klen);
        else if (x->patch)
            (void)lsm_batch_patch(b, x->key, x->klen, x->val, x->vlen);  /* 10 bytes: valid */
        else
            lsm_batch_put(b, x->key, x->klen, x->val, x->vlen);
    }
    batch_meta(b);
    struct lsm_write_options wo = { .sync = 0 };
    int rc = ks.opt.defer_flush ? lsm_write_buffered(ks.lsm, b) : lsm_write(ks.lsm, &wo, b);
    if (lsm_batch_size(b) > (1u << 20)) {   /* don't keep a huge one around */
        lsm_batch_destroy(b);
        ks.batch = NULL;
    }
    if (rc != 0) {
        ks.write_errors++;
        if (rc != LSM_ECLOSED && rc != LSM_EINVAL)
            set_persist_error(rc, "writing to the engine");
        txn_rollback();
        return user ? rc : 0;
    }
    t->depth = 0;                   /* hooks run outside the transaction */
    ks.unflushed = ks.opt.defer_flush;
    if (counts_deferrable()) {       /* written later: see batch_meta */
        for (int i = 0; i < t->nundo; i++)
            ks.cdirty[t->undo[i].db] = 1;
    } else {
        memset(ks.cdirty, 0, (size_t)ks.ndb);  /* batch_meta wrote them */
    }
    wtab_commit(ks.wtab);
    for (size_t i = 0; i < t->n; i++)
        if (t->ent[i].db >= 0)
            tent_written(&t->ent[i]);
    ks.expired_keys += t->nexpired;
    after_commit();
    txn_reset();
    return 0;
}

/* ---- keys ---- */

static int valid_db(int db)
{
    return ks.open && ks.t.depth > 0 && db >= 0 && db < ks.opt.databases;
}

struct found {
    int type;
    int64_t exp;
    const char *data;
    size_t dlen;
    char *alloc;                    /* engine buffer, or NULL */
    void *pin;                      /* the engine's lent value, or NULL */
    int in_buf;                     /* data is in find_live's buf */
};

static void found_free(struct found *f)
{
    lsm_free(f->alloc);
    f->alloc = NULL;
    lsm_unpin(ks.lsm, f->pin);
    f->pin = NULL;
}

/* ---- strings kept in chunks ---- */

/* The stored keys (their hash64 with TENT_SEED) that may hold a string kept
 * in chunks: every one that does is here (loaded from the Y entries at
 * open, added when a transaction writes one); one that no longer does may
 * stay, which only costs a read. A blind SET of a key here reads it
 * first, so that the chunks of the string it replaces are deleted with
 * it. Open addressing, 0 = empty. */
static struct {
    uint64_t *v;
    size_t cap, n;
} chs;

static uint64_t chs_slot_hash(uint64_t h)
{
    return h ? h : 1;
}

static int chs_has(uint64_t h)
{
    if (chs.n == 0)
        return 0;
    h = chs_slot_hash(h);
    for (size_t i = h & (chs.cap - 1);; i = (i + 1) & (chs.cap - 1)) {
        if (chs.v[i] == h)
            return 1;
        if (chs.v[i] == 0)
            return 0;
    }
}

static void chs_insert(uint64_t *v, size_t cap, uint64_t h)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (v[i] == h)
            return;
        if (v[i] == 0) {
            v[i] = h;
            chs.n++;
            return;
        }
    }
}

static void chs_add(uint64_t h)
{
    h = chs_slot_hash(h);
    if ((chs.n + 1) * 2 > chs.cap) {
        size_t ncap = chs.cap ? chs.cap * 2 : 64;
        uint64_t *nv = zcalloc(ncap * sizeof(*nv));
        size_t old = chs.cap;
        chs.n = 0;
        for (size_t i = 0; i < old; i++)
            if (chs.v[i])
                chs_insert(nv, ncap, chs.v[i]);
        zfree(chs.v);
        chs.v = nv;
        chs.cap = ncap;
    }
    chs_insert(chs.v, chs.cap, h);
}

static void chs_free(void)
{
    zfree(chs.v);
    memset(&chs, 0, sizeof(chs));
}

/* A new id, never given out before in this directory: the boot number
 * (written durably at every open) and a count in this run. SCAN cursors
 * and chunked strings take them. */
static uint64_t next_id(void)
{
    if (++ks.cursor_seq == 0) {     /* 2^32 in one run: next boot number */
        ks.boot++;
        ks.t.map_dirty = 1;
        ks.cursor_seq = 1;
    }
    return ((uint64_t)(ks.boot & 0x7fffffffu) << 32) | ks.cursor_seq;
}

struct chunked {
    uint64_t len, id;
    uint32_t csize;
};

static uint64_t chunk_count(const struct chunked *c)
{
    return (c->len + c->csize - 1) / c->csize;
}

static int chunked_decode(const char *data, size_t dlen, struct chunked *c)
{
    if (dlen != CHUNKED_PAYLOAD)
        return LSM_ECORRUPT;
    c->len = decode_fixed64(data);
    c->id = decode_fixed64(data + 8);
    c->csize = decode_fixed32(data + 16);
    if (c->csize == 0 || c->id == 0 || c->len > ((uint64_t)1 << 42) ||
        chunk_count(c) > UINT32_MAX)
        return LSM_ECORRUPT;
    return 0;
}

/* Copies the bytes [off, off + n) of a chunked string (all of them exist)
 * into out, reading the chunks they fall in through the transaction. */
static int chunks_read(uint32_t ns, const struct chunked *c, uint64_t off, uint64_t n,
                       char *out)
{
    struct buf k = BUF_INIT;
    int rc = 0;
    for (uint64_t pos = off; pos < off + n && rc == 0;) {
        uint64_t idx = pos / c->csize, start = idx * c->csize;
        uint64_t csz = c->len - start < c->csize ? c->len - start : c->csize;
        const char *v;
        size_t vlen;
        char *alloc;
        void *pin;                  /* a cached chunk is lent, not copied */
        mk_chunk_key(&k, ns, c->id, (uint32_t)idx);
        rc = raw_get_lent(k.data, k.len, &v, &vlen, &alloc, NULL, 0, &pin);
        if (rc == 0 || (rc > 0 && vlen != csz)) {
            log_warning("keyspace: chunk %" PRIu64 " of string %" PRIu64 " is %s", idx,
                        c->id, rc == 0 ? "missing" : "of the wrong size");
            rc = LSM_ECORRUPT;
        }
        if (rc > 0) {
            uint64_t end = off + n < start + csz ? off + n : start + csz;
            memcpy(out + (pos - off), v + (pos - start), (size_t)(end - pos));
            pos = end;
            rc = 0;
        }
        lsm_free(alloc);
        lsm_unpin(ks.lsm, pin);
    }
    buf_free(&k);
    return rc;
}

/* A damaged record must not size an allocation or a loop: one whose
 * string spans more than 1024 chunks is believed once its last chunk is
 * there, of the right size. 0 or LSM_ECORRUPT. */
static int chunked_check(uint32_t ns, const struct chunked *c)
{
    char b;
    if (chunk_count(c) <= 1024)
        return 0;
    return chunks_read(ns, c, c->len - 1, 1, &b);
}

/* If the stored key (namespace ns) holds a string kept in chunks, deletes
 * its chunks and its index entry in the transaction (soft as tent_put),
 * before its record is replaced or deleted. */
static void chunks_drop(uint32_t ns, const char *key, size_t klen, int soft)
{
    struct buf k = BUF_INIT;
    const char *v, *data;
    size_t vlen, dlen;
    char *alloc, small[64];
    int type;
    int64_t exp;
    struct chunked c;

    if (chs.n == 0)                 /* no string was ever kept in chunks */
        return;
    mk_data_key(&k, ns, key, klen);
    if (!chs_has(hash64(k.data, k.len, TENT_SEED))) {
        buf_free(&k);
        return;
    }
    int rc = raw_get(k.data, k.len, &v, &vlen, &alloc, small, sizeof small);
    if (rc > 0 && rec_decode(v, vlen, &type, &exp, &data, &dlen) == 0 &&
        type == KS_TYPE_CHUNKED && chunked_decode(data, dlen, &c) == 0 &&
        (rc = chunked_check(ns, &c)) == 0) {
        for (uint64_t i = 0, n = chunk_count(&c); i < n; i++) {
            mk_chunk_key(&k, ns, c.id, (uint32_t)i);
            tent_put(k.data, k.len, NULL, 0, -1, soft);
        }
        mk_chunked_key(&k, ns, key, klen);
        tent_put(k.data, k.len, NULL, 0, -1, soft);
    } else if (rc < 0) {
        log_warning("keyspace: can't read a string kept in chunks to delete them (%s): "
                    "they stay", lsm_strerror(rc));
    }
    lsm_free(alloc);
    buf_free(&k);
}

/* Loads the chunked strings' index into chs (ks_open). */
static int chs_load(void)
{
    struct lsm_read_options ro;
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    int rc;
    chs_free();
    lsm_read_options_init(&ro);
    meta_kind_bounds(&ro, &lo, &hi, MK_CHUNKED);
    struct lsm_iter *it = lsm_iter_create(ks.lsm, &ro);
    if (!it) {
        rc = LSM_EIO;
    } else {
        for (lsm_iter_seek(it, lo.data, lo.len); lsm_iter_valid(it); lsm_iter_next(it)) {
            size_t n;
            const char *key = lsm_iter_key(it, &n);
            if (n >= NS_LEN + 1 + NS_LEN)   /* the data key: ns | user key */
                chs_add(hash64(key + NS_LEN + 1, n - NS_LEN - 1, TENT_SEED));
        }
        rc = lsm_iter_status(it);
        lsm_iter_destroy(it);
    }
    buf_free(&lo);
    buf_free(&hi);
    return rc;
}

/* Deletes a key and its index entry, adjusting the counters. */
static void remove_key(int db, uint32_t ns, const char *key, size_t klen, int64_t exp, int soft)
{
    chunks_drop(ns, key, klen, soft);
    remove_record(db, ns, key, klen, exp, soft);
}

/* remove_key without the chunks of a string kept in chunks: the record and
 * its TTL index entry go, the counters follow. */
static void remove_record(int db, uint32_t ns, const char *key, size_t klen, int64_t exp,
                          int soft)
{
    struct dbent *d = dbw(db);
    mk_data_key(&kbuf, ns, key, klen);
    tent_put(kbuf.data, kbuf.len, NULL, 0, db, soft);
    d->keys--;
    if (exp >= 0) {
        mk_ttl_key(&ibuf, exp, ns, key, klen);
        tent_put(ibuf.data, ibuf.len, NULL, 0, -1, soft);
        d->expires--;
        d->ttl_sum -= exp;
    }
}

/* remove_key for a key that expired (counted in INFO stats expired_keys
 * once the transaction commits, as Redis counts lazy and active expiry). */
static void remove_expired(int db, uint32_t ns, const char *key, size_t klen, int64_t exp)
{
    remove_key(db, ns, key, klen, exp, 1);
    ks.t.nexpired++;
}

/* The live record of key: 1 (f filled; found_free it), 0 absent or expired
 * (an expired one is deleted in the transaction), < 0 error. A small record
 * is read into buf (cap bytes; cap 0: none), where f->data then points. */
static int find_live(int db, const char *key, size_t klen, struct found *f, char *buf,
                     size_t cap)
{
    uint32_t ns = ks.dbs[db].ns;
    const char *v;
    size_t n;
    f->alloc = NULL;
    f->pin = NULL;
    f->in_buf = 0;
    mk_data_key(&kbuf, ns, key, klen);
    int rc = raw_get_lent(kbuf.data, kbuf.len, &v, &n, &f->alloc, buf, cap, &f->pin);
    if (rc <= 0)
        return rc;
    f->in_buf = buf != NULL && v == buf;
    rc = rec_decode(v, n, &f->type, &f->exp, &f->data, &f->dlen);
    if (rc != 0) {
        found_free(f);
        return rc;
    }
    if (f->exp >= 0 && f->exp <= txn_now()) {
        int64_t exp = f->exp;
        found_free(f);
        remove_expired(db, ns, key, klen, exp);
        return 0;
    }
    return 1;
}

/* find_live for callers that need only the type and expire time, and (len
 * not NULL) the value's length: the value is neither read (no value-log read
 * for a separated one) nor copied. The write table answers without a read
 * when it knows the key, but it does not know lengths. */
/* The live record's first bytes (up to cap >= REC_HDR_MAX) into buf, through
 * the transaction (x: its entry for the data key in kbuf, or NULL): 1 (type,
 * exp, *len the value's length; *got of the record's *full bytes read), 0
 * absent or expired (deleted in the transaction), < 0 error. */
static int live_prefix_at(int db, const char *key, size_t klen, const struct tent *x, char *buf,
                          size_t cap, size_t *got, size_t *full, int *type, int64_t *exp,
                          uint64_t *len)
{
    int rc = raw_get_head_at(x, kbuf.data, kbuf.len, buf, cap, got, full);
    if (rc <= 0)
        return rc;
    rc = rec_decode_len(buf, *got, *full, type, exp, len);
    if (rc != 0)
        return rc;
    if (*exp >= 0 && *exp <= txn_now()) {
        remove_expired(db, ks.dbs[db].ns, key, klen, *exp);
        return 0;
    }
    return 1;
}

static int find_live_head(int db, const char *key, size_t klen, int *type, int64_t *exp,
                          uint64_t *len)
{
    char head[REC_HDR_MAX];
    size_t got, full;
    mk_data_key(&kbuf, ks.dbs[db].ns, key, klen);
    uint64_t h = hash64(kbuf.data, kbuf.len, TENT_SEED);
    struct tent *x = ks.t.n > 0 ? tent_find(kbuf.data, kbuf.len, h) : NULL;
    if (x || len || !wtab_known(ks.wtab, h, type, exp))
        return live_prefix_at(db, key, klen, x, head, sizeof head, &got, &full, type, exp, len);
    /* Committed lately: the write table knows the record (no read). */
    ks.wtab_hits++;
    if (*exp == WTAB_EXP_DELETED)
        return 0;
    if (*exp >= 0 && *exp <= txn_now()) {
        remove_expired(db, ks.dbs[db].ns, key, klen, *exp);
        return 0;
    }
    return 1;
}

/* A TTL index entry for exp is being written: expiry looks there. */
static void note_expire(int64_t exp)
{
    if (exp < ks.expire_hint)       /* the wall clock went back */
        ks.expire_hint = exp;
    if (exp < ks.expire_next)
        ks.expire_next = exp;
}

/* The TTL index and counter changes of a record written with expire exp,
 * given what was there. */
static void note_record(int db, const char *key, size_t klen, int64_t exp, int existed,
                        int64_t oldexp)
{
    uint32_t ns = ks.dbs[db].ns;
    struct dbent *d = dbw(db);
    if (!existed)
        d->keys++;
    if (existed && oldexp != exp && oldexp >= 0) {
        mk_ttl_key(&ibuf, oldexp, ns, key, klen);
        tent_put(ibuf.data, ibuf.len, NULL, 0, -1, 0);
        d->expires--;
        d->ttl_sum -= oldexp;
    }
    if (exp >= 0 && (!existed || oldexp != exp)) {
        note_expire(exp);
        mk_ttl_key(&ibuf, exp, ns, key, klen);
        tent_put(ibuf.data, ibuf.len, zmemdup("", 0), 0, -1, 0);
        d->expires++;
        d->ttl_sum += exp;
    }
}

/* Writes the new record (data copied before anything is replaced) and the
 * index/counter changes, given what was there. */
static void write_record(int db, const char *key, size_t klen, int type, const void *data,
                         size_t len, int64_t exp, int existed, int64_t oldexp)
{
    size_t rlen;
    char *rec = rec_encode(type, exp, data, len, &rlen);
    if (existed && type != KS_TYPE_CHUNKED)   /* a new value replaces the chunks */
        chunks_drop(ks.dbs[db].ns, key, klen, 0);
    note_record(db, key, klen, exp, existed, oldexp);
    mk_data_key(&kbuf, ks.dbs[db].ns, key, klen);
    tent_put(kbuf.data, kbuf.len, rec, rlen, db, 0);
}

/* Gives an existing record with the 10-byte header a new expire without
 * reading or rewriting its value: an engine patch (lsm_batch_patch) of the
 * header, so a separated value costs no value-log I/O. */
static void write_header_patch(int db, const char *key, size_t klen, int type, int64_t exp,
                               int64_t oldexp)
{
    char *h = zmalloc(REC_HDR_MAX);
    rec_header10(h, type, exp);
    note_record(db, key, klen, exp, 1, oldexp);
    mk_data_key(&kbuf, ks.dbs[db].ns, key, klen);
    tent_put(kbuf.data, kbuf.len, h, REC_HDR_MAX, db, 0)->patch = 1;
}

/* Writes (db, key) without reading it first when ks_defer can count the
 * write later: the command is not inside EXEC (a DBSIZE queued after it
 * must count it), this transaction has not touched the key, and nothing
 * wrote the key since the open epoch's snapshot. The old record's TTL
 * index entry, if it had another expire, is left behind, stale: the
 * counting thread finds it and stale_sweep deletes it, unless the key was
 * written again since; expiry drops one still there when it comes due.
 * Returns 1 written, 0 not possible. */
static int set_blind(int db, const char *key, size_t klen, int type, const void *data,
                     size_t len, int64_t exp)
{
    if (!ks.defer || ks.t.depth != 1 || klen > DEFER_KEY_MAX)
        return 0;
    uint32_t ns = ks.dbs[db].ns;
    mk_data_key(&kbuf, ns, key, klen);
    uint64_t h = hash64(kbuf.data, kbuf.len, TENT_SEED);
    int ktype;
    int64_t kexp;
    if ((ks.t.n > 0 && tent_find(kbuf.data, kbuf.len, h)) || !ksd_can_defer(ks.defer, h) ||
        wtab_known(ks.wtab, h, &ktype, &kexp) ||    /* then reading costs nothing */
        chs_has(h))                 /* its chunks must go with the old string */
        return 0;
    ksd_defer(ks.defer, kbuf.data, kbuf.len, ns, exp, h);
    ks.defer_count++;
    if (!ks.defer_mark) {
        /* A crash before this write is counted recounts at open. */
        mk_meta_key(&ibuf, MK_DEFER);
        tent_put(ibuf.data, ibuf.len, zmemdup("", 0), 0, -1, 0);
        ks.defer_mark = 1;
        ks.t.defer_mark_put = 1;
    }
    if (exp >= 0) {
        note_expire(exp);
        mk_ttl_key(&ibuf, exp, ns, key, klen);
        tent_put(ibuf.data, ibuf.len, zmemdup("", 0), 0, -1, 0);
    }
    size_t rlen;
    char *rec = rec_encode(type, exp, data, len, &rlen);
    tent_put_hashed(kbuf.data, kbuf.len, h, rec, rlen, db, 0);  /* kbuf: still the key */
    return 1;
}

static int set_common(int db, const char *key, size_t klen, int type, const void *data,
                      size_t len, int64_t exp, int keepttl, int blind)
{
    int existed = 0, oldtype;
    int64_t oldexp = -1;
    if (!valid_db(db))
        return LSM_EINVAL;
    if (blind && !keepttl && (exp < 0 || exp > txn_now()) &&
        set_blind(db, key, klen, type, data, len, exp))
        return 0;
    int rc = find_live_head(db, key, klen, &oldtype, &oldexp, NULL);
    if (rc < 0)
        return rc;
    existed = rc;
    if (!existed)
        oldexp = -1;
    if (keepttl)
        exp = oldexp;
    if (exp >= 0 && exp <= txn_now()) {
        if (existed)
            remove_key(db, ks.dbs[db].ns, key, klen, oldexp, 0);
        else
            touch_only(db, key, klen);  /* Redis sets, then expires it */
        ks.t.nexpired++;                /* (and counts it expired then) */
        return existed;
    }
    write_record(db, key, klen, type, data, len, exp, existed, oldexp);
    return existed;
}

int ks_set(int db, const char *key, size_t klen, int type, const void *data, size_t len,
           int64_t expire_at)
{
    return set_common(db, key, klen, type, data, len, expire_at < 0 ? -1 : expire_at, 0, 0);
}

int ks_overwrite(int db, const char *key, size_t klen, int type, const void *data,
                 size_t len, int64_t expire_at)
{
    int rc = set_common(db, key, klen, type, data, len, expire_at < 0 ? -1 : expire_at, 0, 1);
    return rc < 0 ? rc : 0;
}

int ks_set_keepttl(int db, const char *key, size_t klen, int type, const void *data,
                   size_t len)
{
    return set_common(db, key, klen, type, data, len, -1, 1, 0);
}

int ks_delete(int db, const char *key, size_t klen)
{
    int type;
    int64_t exp;
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = find_live_head(db, key, klen, &type, &exp, NULL);
    if (rc <= 0)
        return rc;
    remove_key(db, ks.dbs[db].ns, key, klen, exp, 0);
    return 1;
}

/* ks_set_expire reads a record of up to this many bytes whole, in the
 * lookup that reads its header; a longer one is patched when it has the
 * 10-byte header (its value neither read nor rewritten), else read whole
 * and rewritten. */
#define EXPIRE_READ_MAX 1024

int ks_set_expire(int db, const char *key, size_t klen, int64_t expire_at)
{
    char rec[EXPIRE_READ_MAX];
    size_t got, full;
    uint64_t len;
    int type;
    int64_t exp;
    struct found f;
    if (!valid_db(db))
        return LSM_EINVAL;
    mk_data_key(&kbuf, ks.dbs[db].ns, key, klen);
    struct tent *x = tent_lookup(kbuf.data, kbuf.len);
    int rc = live_prefix_at(db, key, klen, x, rec, sizeof rec, &got, &full, &type, &exp, &len);
    if (rc <= 0)
        return rc;
    if (expire_at < 0)
        expire_at = -1;
    if (expire_at == exp) {         /* nothing to write; Redis still */
        touch_only(db, key, klen);  /* signals the key modified */
        return 1;
    }
    if (expire_at >= 0 && expire_at <= txn_now()) {
        remove_key(db, ks.dbs[db].ns, key, klen, exp, 0);
        return 1;
    }
    if (got == full) {              /* read whole already */
        write_record(db, key, klen, type, rec + (full - len), (size_t)len, expire_at, 1, exp);
        return 1;
    }
    if (full - len == REC_HDR_MAX && (!x || x->patch)) {
        write_header_patch(db, key, klen, type, expire_at, exp);
        return 1;
    }
    rc = find_live(db, key, klen, &f, NULL, 0);
    if (rc <= 0)
        return rc;
    write_record(db, key, klen, f.type, f.data, f.dlen, expire_at, 1, f.exp);
    found_free(&f);
    return 1;
}

/* ks_lookup and ks_lookup_range (range: only [off, off + len) of a chunked
 * string is needed). */
static int lookup(int db, const char *key, size_t klen, struct ks_value *out, int range,
                  uint64_t off, uint64_t len)
{
    struct found f;
    if (out)      /* all but inline_ (256 bytes, read only through data) */
        memset(out, 0, offsetof(struct ks_value, inline_));
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = out ? find_live(db, key, klen, &f, out->inline_, sizeof(out->inline_))
                 : find_live(db, key, klen, &f, NULL, 0);
    if (rc <= 0 || !out) {
        if (rc > 0)
            found_free(&f);
        return rc;
    }
    out->expire_at = f.exp;
    if (f.type == KS_TYPE_CHUNKED) {
        struct chunked c;
        rc = chunked_decode(f.data, f.dlen, &c);
        found_free(&f);
        if (rc != 0)
            return rc;
        if (!range) {
            off = 0;
            len = c.len;
        }
        if (off > c.len)
            off = c.len;
        if (len > c.len - off)
            len = c.len - off;
        if ((rc = chunked_check(ks.dbs[db].ns, &c)) != 0)
            return rc;
        char *buf = zmalloc((size_t)len + 1);
        rc = chunks_read(ks.dbs[db].ns, &c, off, len, buf);
        if (rc != 0) {
            zfree(buf);
            return rc;
        }
        out->type = KS_TYPE_STRING;
        out->data = buf;
        out->alloc_ = buf;
        out->alloc_kind_ = 2;
        out->len = (size_t)len;
        out->off = off;
        out->total = c.len;
        return 1;
    }
    out->type = f.type;
    if (f.alloc) {
        out->data = f.data;
        out->alloc_ = f.alloc;
        out->alloc_kind_ = 1;
    } else if (f.pin) {
        out->data = f.data;           /* lent by the engine's value cache */
        out->alloc_ = f.pin;
        out->alloc_kind_ = 3;
    } else if (f.in_buf) {
        out->data = f.data;           /* read into out itself */
    } else {
        char *copy = zmemdup(f.data, f.dlen);
        out->data = copy;
        out->alloc_ = copy;
        out->alloc_kind_ = 2;
    }
    out->len = f.dlen;
    out->total = f.dlen;
    return 1;
}

int ks_lookup(int db, const char *key, size_t klen, struct ks_value *out)
{
    return lookup(db, key, klen, out, 0, 0, 0);
}

int ks_lookup_range(int db, const char *key, size_t klen, uint64_t off, uint64_t len,
                    struct ks_value *out)
{
    return lookup(db, key, klen, out, 1, off, len);
}

/* Starts a chunked string for key holding the n bytes at src (its chunks,
 * under a new id, and its index entry, in the transaction; its record is
 * the caller's): payload gets the record's value. */
static void chunks_create(uint32_t ns, const char *key, size_t klen, uint64_t n,
                          const char *src, char payload[CHUNKED_PAYLOAD])
{
    struct buf k = BUF_INIT;
    uint32_t cs = (uint32_t)ks.opt.string_chunk_size;
    uint64_t id = next_id();
    for (uint64_t pos = 0, i = 0; pos < n; pos += cs, i++) {
        size_t csz = n - pos < cs ? (size_t)(n - pos) : cs;
        mk_chunk_key(&k, ns, id, (uint32_t)i);
        tent_put(k.data, k.len, zmemdup(src + pos, csz), csz, -1, 0);
    }
    mk_chunked_key(&k, ns, key, klen);
    tent_put(k.data, k.len, zmemdup("", 0), 0, -1, 0);
    mk_data_key(&k, ns, key, klen);
    chs_add(hash64(k.data, k.len, TENT_SEED));
    encode_fixed64(payload, n);
    encode_fixed64(payload + 8, id);
    encode_fixed32(payload + 16, cs);
    buf_free(&k);
}

/* Rewrites the chunks of c that [off, off + n) touches, and those between
 * its old end and off (zeros), for a new length of newlen. */
static int chunks_write(uint32_t ns, const struct chunked *c, uint64_t off, const char *data,
                        size_t n, uint64_t newlen)
{
    struct buf k = BUF_INIT;
    uint64_t cs = c->csize, first = (off < c->len ? off : c->len) / cs;
    uint64_t last = (off + n - (n > 0)) / cs;
    int rc = 0;
    if (n == 0)
        return 0;
    for (uint64_t i = first; i <= last && rc == 0; i++) {
        uint64_t start = i * cs;
        size_t csz = newlen - start < cs ? (size_t)(newlen - start) : (size_t)cs;
        char *chunk = zcalloc(csz + 1);
        if (start < c->len) {       /* what it held */
            uint64_t have = c->len - start < cs ? c->len - start : cs;
            rc = chunks_read(ns, c, start, have, chunk);
        }
        uint64_t lo = off > start ? off : start, hi = off + n < start + csz ? off + n : start + csz;
        if (lo < hi)
            memcpy(chunk + (lo - start), data + (lo - off), (size_t)(hi - lo));
        if (rc == 0) {
            mk_chunk_key(&k, ns, c->id, (uint32_t)i);
            tent_put(k.data, k.len, chunk, csz, -1, 0);
        } else {
            zfree(chunk);
        }
    }
    buf_free(&k);
    return rc;
}

int ks_write_range(int db, const char *key, size_t klen, uint64_t off, const void *data,
                   size_t n, uint64_t *newlen)
{
    struct found f;
    char small[64];
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = find_live(db, key, klen, &f, small, sizeof small);
    if (rc < 0)
        return rc;
    int existed = rc;
    int64_t exp = existed ? f.exp : -1;
    uint32_t ns = ks.dbs[db].ns;
    size_t cs = ks.opt.string_chunk_size;
    if (existed && f.type == KS_TYPE_CHUNKED) {
        struct chunked c;
        char payload[CHUNKED_PAYLOAD];
        rc = chunked_decode(f.data, f.dlen, &c);
        found_free(&f);
        if (rc != 0)
            return rc;
        uint64_t nl = off + n > c.len ? off + n : c.len;
        if (n > 0 && (off + n - 1) / c.csize - (off < c.len ? off : c.len) / c.csize >=
                         CHUNKS_WRITE_MAX) {
            char *nv = zcalloc((size_t)nl + 1);
            rc = chunked_check(ns, &c);
            if (rc == 0)
                rc = chunks_read(ns, &c, 0, c.len, nv);
            if (rc == 0) {
                memcpy(nv + off, data, n);
                write_record(db, key, klen, KS_TYPE_STRING, nv, (size_t)nl, exp, 1, exp);
                *newlen = nl;
            }
            zfree(nv);
            return rc == 0 ? 1 : rc;
        }
        rc = chunks_write(ns, &c, off, data, n, nl);
        if (rc != 0)
            return rc;
        encode_fixed64(payload, nl);
        encode_fixed64(payload + 8, c.id);
        encode_fixed32(payload + 16, c.csize);
        /* The record is written even when only chunks changed: the key's
         * watchers hear of it, and the write table stays right. */
        write_record(db, key, klen, KS_TYPE_CHUNKED, payload, sizeof payload, exp, 1, exp);
        *newlen = nl;
        return 1;
    }
    size_t olen = existed ? f.dlen : 0;
    size_t nl = (size_t)off + n > olen ? (size_t)off + n : olen;
    char *nv = zmalloc(nl + 1);
    if (olen)
        memcpy(nv, f.data, olen);
    if (existed)
        found_free(&f);
    if (off > olen)
        memset(nv + olen, 0, (size_t)off - olen);
    if (n)
        memcpy(nv + off, data, n);
    if (cs > 0 && nl >= 2 * cs && nl > n && (nl + cs - 1) / cs <= CHUNKS_WRITE_MAX) {
        /* Long enough, and written in part: kept in chunks from now on. */
        char payload[CHUNKED_PAYLOAD];
        chunks_create(ns, key, klen, nl, nv, payload);
        write_record(db, key, klen, KS_TYPE_CHUNKED, payload, sizeof payload, exp, existed,
                     exp);
    } else {
        write_record(db, key, klen, KS_TYPE_STRING, nv, nl, exp, existed, exp);
    }
    zfree(nv);
    *newlen = nl;
    return existed;
}

void ks_value_free(struct ks_value *v)
{
    if (!v)
        return;
    if (v->alloc_kind_ == 1)
        lsm_free(v->alloc_);
    else if (v->alloc_kind_ == 2)
        zfree(v->alloc_);
    else if (v->alloc_kind_ == 3)
        lsm_unpin(ks.lsm, v->alloc_);
    v->alloc_ = NULL;
    v->alloc_kind_ = 0;
    v->data = NULL;
    v->len = 0;
}

int ks_lookup_meta(int db, const char *key, size_t klen, int *type, int64_t *expire_at)
{
    int t;
    int64_t exp;
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = find_live_head(db, key, klen, &t, &exp, NULL);
    if (rc <= 0)
        return rc;
    if (type)
        *type = t == KS_TYPE_CHUNKED ? KS_TYPE_STRING : t;
    if (expire_at)
        *expire_at = exp;
    return 1;
}

int ks_rename_chunked(int db, const char *src, size_t slen, const char *dst, size_t dlen,
                      int replace)
{
    struct found f;
    char small[64];
    struct chunked c;
    int dtype;
    int64_t dexp;
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = find_live(db, src, slen, &f, small, sizeof small);
    if (rc <= 0)
        return rc < 0 ? rc : 2;
    if (f.type != KS_TYPE_CHUNKED) {
        found_free(&f);
        return 2;
    }
    char payload[CHUNKED_PAYLOAD];
    int64_t exp = f.exp;
    rc = chunked_decode(f.data, f.dlen, &c);
    memcpy(payload, f.data, f.dlen < sizeof payload ? f.dlen : sizeof payload);
    found_free(&f);
    if (rc != 0)
        return rc;
    rc = find_live_head(db, dst, dlen, &dtype, &dexp, NULL);
    if (rc < 0)
        return rc;
    int existed = rc;
    if (existed && !replace)
        return 0;
    uint32_t ns = ks.dbs[db].ns;
    struct buf k = BUF_INIT;
    if (existed)
        chunks_drop(ns, dst, dlen, 0);
    write_record(db, dst, dlen, KS_TYPE_CHUNKED, payload, sizeof payload, exp, existed,
                 existed ? dexp : -1);
    mk_chunked_key(&k, ns, dst, dlen);
    tent_put(k.data, k.len, zmemdup("", 0), 0, -1, 0);
    mk_data_key(&k, ns, dst, dlen);
    chs_add(hash64(k.data, k.len, TENT_SEED));
    remove_record(db, ns, src, slen, exp, 0);
    mk_chunked_key(&k, ns, src, slen);
    tent_put(k.data, k.len, NULL, 0, -1, 0);
    buf_free(&k);
    return 1;
}

/* A chunked string's length, id and chunk size, from its record (read
 * whole: small). 1, 0 absent, < 0 error. */
static int chunked_info(int db, const char *key, size_t klen, struct chunked *c)
{
    struct found f;
    char small[64];
    int rc = find_live(db, key, klen, &f, small, sizeof small);
    if (rc <= 0)
        return rc;
    rc = f.type == KS_TYPE_CHUNKED ? chunked_decode(f.data, f.dlen, c) : LSM_ECORRUPT;
    found_free(&f);
    return rc != 0 ? rc : 1;
}

int ks_lookup_len(int db, const char *key, size_t klen, int *type, uint64_t *len)
{
    int64_t exp;
    if (!valid_db(db))
        return LSM_EINVAL;
    int rc = find_live_head(db, key, klen, type, &exp, len);
    if (rc > 0 && *type == KS_TYPE_CHUNKED) {
        struct chunked c;
        *type = KS_TYPE_STRING;
        rc = chunked_info(db, key, klen, &c);
        if (rc > 0)
            *len = c.len;
    }
    return rc;
}

/* An engine entry's fixed cost besides its key and value: the internal
 * key's sequence/type trailer. A separated value's log entry adds its 16-byte
 * header and a copy of the key; the LSM then keeps a pointer of about 30
 * bytes (docs/format-vlog.md). */
#define ENTRY_TRAILER 8
#define VLOG_ENTRY_FIXED 16
#define VLOG_POINTER 30

int ks_usage(int db, const char *key, size_t klen, uint64_t *bytes)
{
    int type;
    uint64_t len;
    int64_t exp;
    char head[REC_HDR_MAX];
    size_t got, full;
    if (!valid_db(db))
        return LSM_EINVAL;
    mk_data_key(&kbuf, ks.dbs[db].ns, key, klen);
    int rc = live_prefix_at(db, key, klen, tent_lookup(kbuf.data, kbuf.len), head, sizeof head,
                            &got, &full, &type, &exp, &len);
    if (rc <= 0)
        return rc;
    uint64_t dkey = NS_LEN + klen, rec = full;
    uint64_t b = dkey + ENTRY_TRAILER;
    if (ks.opt.value_separation_threshold > 0 && rec >= ks.opt.value_separation_threshold)
        b += VLOG_POINTER + VLOG_ENTRY_FIXED + dkey + rec;
    else
        b += rec;
    if (type == KS_TYPE_CHUNKED) {  /* its chunks (in the value log) and index entry */
        struct chunked c;
        rc = chunked_info(db, key, klen, &c);
        if (rc <= 0)
            return rc;
        b += c.len + chunk_count(&c) * (CHUNK_KEY_LEN + ENTRY_TRAILER + VLOG_POINTER +
                                        VLOG_ENTRY_FIXED + CHUNK_KEY_LEN);
        b += NS_LEN + 1 + dkey + ENTRY_TRAILER;
    }
    if (exp >= 0)                   /* its entry in the TTL index */
        b += TTL_KEY_FIXED + klen + ENTRY_TRAILER;
    *bytes = b;
    return 1;
}

int ks_exists(int db, const char *key, size_t klen)
{
    return ks_lookup_meta(db, key, klen, NULL, NULL);
}

/* ---- expiry through the TTL index ---- */

static int ns_to_db(uint32_t ns)
{
    static int last;
    if (last < ks.ndb && ks.dbs[last].ns == ns)
        return last;
    for (int i = 0; i < ks.ndb; i++) {
        if (ks.dbs[i].ns == ns) {
            last = i;
            return i;
        }
    }
    return -1;
}

/* Handles one due index entry; returns 1 if a key was deleted. */
static int expire_entry(const char *ik, size_t iklen)
{
    int64_t exp = (int64_t)be64_get(ik + NS_LEN + 1);
    uint32_t ns = be32_get(ik + NS_LEN + 1 + 8);
    const char *key = ik + TTL_KEY_FIXED;
    size_t klen = iklen - TTL_KEY_FIXED;
    struct tent *x = tent_lookup(ik, iklen);
    if (x && x->del)
        return 0;                   /* this transaction already removed it */
    int db = ns_to_db(ns);
    if (db < 0 || db >= ks.opt.databases) {
        tent_put(ik, iklen, NULL, 0, -1, 1);   /* a dead namespace's entry */
        return 0;
    }
    char head[REC_HDR_MAX];
    size_t got, full;
    int type;
    int64_t rexp;
    mk_data_key(&kbuf, ns, key, klen);
    int rc = raw_get_head(kbuf.data, kbuf.len, head, &got, &full);
    if (rc > 0 && rec_decode_head(head, got, full, &type, &rexp) == 0 && rexp == exp) {
        struct buf k = BUF_INIT;    /* remove_key reuses ibuf/kbuf */
        buf_set(&k, key, klen);
        remove_expired(db, ns, k.data, k.len, exp);
        buf_free(&k);
        return 1;
    }
    if (rc >= 0) {
        log_verbose("keyspace: dropping a stale TTL index entry");
        tent_put(ik, iklen, NULL, 0, -1, 1);
    }
    return 0;
}

/* Deletes due keys (expire_at <= the transaction's clock) in expire order,
 * at most max of them, until deadline_us (monotonic; 0 = none). When it
 * gets past the due ones, ks.expire_next becomes the first entry not due
 * (INT64_MAX when there is none), unless the transaction had changes
 * before (an index entry it wrote is not in the engine yet). Returns the
 * number deleted or < 0. */
static long long expire_due(int64_t deadline_us, long long max)
{
    struct lsm_read_options ro;
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    char e[8];
    long long count = 0, seen = 0;
    int64_t now = txn_now(), next = INT64_MAX;
    int clean = ks.t.n == 0;
    mk_meta_key(&lo, MK_TTL);
    mk_meta_key(&hi, MK_TTL + 1);
    be64_put(e, (uint64_t)(ks.expire_hint > 0 ? ks.expire_hint : 0));
    buf_append(&lo, e, 8);
    lsm_read_options_init(&ro);
    ro.lower_bound = lo.data;
    ro.lower_bound_len = lo.len;
    ro.upper_bound = hi.data;
    ro.upper_bound_len = hi.len;
    ro.fill_cache = 1;
    struct lsm_iter *it = lsm_iter_create(ks.lsm, &ro);
    int rc = 0;
    if (!it) {
        rc = LSM_EIO;
        goto out;
    }
    for (lsm_iter_seek(it, lo.data, lo.len); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t iklen;
        const char *ik = lsm_iter_key(it, &iklen);
        if (iklen < TTL_KEY_FIXED)
            continue;
        int64_t at = (int64_t)be64_get(ik + NS_LEN + 1);
        if (at > now) {
            next = at;
            break;
        }
        ks.expire_last = at;
        count += expire_entry(ik, iklen);
        if (count >= max)
            break;
        if (deadline_us && (++seen & 15) == 0 && clock_mono_us() >= deadline_us)
            break;
    }
    rc = lsm_iter_status(it);
    if (clean && rc == 0 && (next != INT64_MAX || !lsm_iter_valid(it)))
        ks.expire_next = next;
    lsm_iter_destroy(it);
out:
    buf_free(&lo);
    buf_free(&hi);
    return rc < 0 ? rc : count;
}

uint64_t ks_expired_keys(void)
{
    return ks.expired_keys;
}

void ks_reset_expired_keys(void)
{
    ks.expired_keys = 0;
}

long long ks_active_expire_cycle(int64_t budget_us)
{
    long long total = 0, n;
    if (!ks.open || ks.t.depth > 0 || txn_now() < ks.expire_next)
        return 0;
    int64_t deadline = clock_mono_us() + (budget_us > 0 ? budget_us : 1);
    do {
        if (write_error_reason() != NULL)
            break;
        ks_txn_begin();
        int64_t hint = ks.expire_hint;
        ks.expire_last = -1;
        n = expire_due(deadline, EXPIRE_BATCH);
        if (n < 0) {
            ks_txn_abort();
            return total ? total : n;
        }
        if (ks_txn_commit() != 0 || ks.persist_err)
            break;
        /* Everything before the last entry handled is gone now (unless a
         * write moved the hint back meanwhile). */
        if (ks.expire_last > hint && ks.expire_hint == hint)
            ks.expire_hint = ks.expire_last;
        total += n;
    } while (n == EXPIRE_BATCH && clock_mono_us() < deadline);
    return total;
}

/* ---- deferred counting ---- */

static void dbent_add(struct dbent *d, const struct ksd_delta *x)
{
    d->keys += x->keys;
    d->expires += x->expires;
    d->ttl_sum += x->ttl_sum;
}

/* Adds a finished delta to the counters of the db that holds its namespace
 * now (none: flushed since, the delta is dropped), and to the open
 * transaction's saved copy of the db that held it before (so that a
 * rollback of a FLUSHDB or SWAPDB keeps the delta). The counter records are
 * written with the next commit. */
static void apply_delta(void *arg, const struct ksd_delta *x)
{
    (void)arg;
    for (int i = 0; i < ks.t.nundo; i++) {
        if (ks.t.undo[i].old.ns == x->ns) {
            dbent_add(&ks.t.undo[i].old, x);
            ks.cdirty[ks.t.undo[i].db] = 1;
        }
    }
    int db = ns_to_db(x->ns);
    if (db >= 0) {
        dbent_add(&ks.dbs[db], x);
        ks.cdirty[db] = 1;
    }
}

/* Applies the finished deltas; with wait, first every outstanding one, so
 * that the counters are exact. Not inside a transaction that wrote blind
 * (it would count writes that may still be rolled back). */
static void defer_collect(int wait)
{
    if (!ks.defer)
        return;
    int64_t t0 = wait && ksd_pending(ks.defer) > 0 ? clock_mono_us() : 0;
    int failed = ksd_collect(ks.defer, wait, apply_delta, NULL);
    if (t0) {
        int64_t us = clock_mono_us() - t0;
        ks.defer_waits++;
        if (us > ks.defer_wait_max_us)
            ks.defer_wait_max_us = us;
    }
    if (failed > 0 && !ks.counts_unsure) {
        ks.counts_unsure = 1;
        log_warning("keyspace: %d writes could not be counted (reading their keys failed); "
                    "DBSIZE may be off until the next start recounts", failed);
    }
}

/* Writes every counter record deltas changed and drops the D mark, once
 * every blind write is counted (nothing staged or unresolved). */
static void defer_unmark(void)
{
    if (!ks.defer_mark || ks.counts_unsure || ks.t.depth > 0 || write_error_reason())
        return;
    /* Read before collecting: a write resolved in between is then among
     * the deltas collected (the thread publishes a delta and lowers the
     * count under one lock). */
    size_t pending = ksd_pending(ks.defer);
    defer_collect(0);
    if (pending > 0)
        return;
    struct buf k = BUF_INIT;
    ks_txn_begin();
    ks.t.unmark = 1;                /* with every counter record */
    mk_meta_key(&k, MK_DEFER);
    tent_put(k.data, k.len, NULL, 0, -1, 1);
    buf_free(&k);
    if (ks_txn_commit() == 0)
        ks.defer_mark = 0;
}

/* ksd_take_stale's callback, inside stale_sweep's transaction. */
static void stale_drop(void *arg, const struct ksd_stale *st)
{
    uint64_t *n = arg;
    if (st->sklen < NS_LEN || ns_to_db(st->ns) < 0 ||
        !wtab_left_other_expire(ks.wtab, st->key_hash, st->commit, st->old_exp))
        return;         /* a flushed db's entries go with it; expiry drops the rest */
    mk_ttl_key(&ibuf, st->old_exp, st->ns, st->skey + NS_LEN, st->sklen - NS_LEN);
    tent_put(ibuf.data, ibuf.len, NULL, 0, -1, 1);
    (*n)++;
}

/* Deletes the TTL index entries the counting thread found stale (blind
 * writes replaced their records' expires) and still are. */
static void stale_sweep(void)
{
    uint64_t n = 0;
    if (!ksd_has_stale(ks.defer) || write_error_reason())
        return;                     /* (they wait: expiry drops them when due) */
    ks_txn_begin();
    ksd_take_stale(ks.defer, stale_drop, &n);
    if (ks_txn_commit() == 0)
        ks.stale_dropped += n;
}

void ks_defer_tick(int cron)
{
    if (!ks.open || !ks.defer || ks.t.depth > 0)
        return;
    if (cron || ksd_staged(ks.defer) >= DEFER_EPOCH_MIN)
        ksd_seal(ks.defer);
    defer_collect(0);
    stale_sweep();
    if (cron)
        defer_unmark();
}

/* The counters from the data, after a run that ended with blind writes not
 * yet counted (the D mark is there): the records of each namespace, and
 * the TTL index entries that match their record's expire. Writes them and
 * drops the mark in one synced batch. */
static int recount(void)
{
    struct lsm_read_options ro;
    struct buf lo = BUF_INIT, hi = BUF_INIT, k = BUF_INIT;
    struct lsm_iter *it = NULL;
    int64_t t0 = clock_mono_ms();
    int rc = 0;
    lsm_read_options_init(&ro);
    ro.fill_cache = 0;
    for (int i = 0; i < ks.ndb && rc == 0; i++) {
        struct dbent *d = &ks.dbs[i];
        char b[NS_LEN], e[NS_LEN];
        d->keys = d->expires = 0;
        d->ttl_sum = 0;
        be32_put(b, d->ns);
        be32_put(e, d->ns + 1);     /* ns < UINT32_MAX: ids are never that high */
        ro.lower_bound = b;
        ro.lower_bound_len = NS_LEN;
        ro.upper_bound = e;
        ro.upper_bound_len = NS_LEN;
        it = lsm_iter_create(ks.lsm, &ro);
        if (!it) {
            rc = LSM_EIO;
            break;
        }
        for (lsm_iter_seek(it, b, NS_LEN); lsm_iter_valid(it); lsm_iter_next(it))
            d->keys++;
        rc = lsm_iter_status(it);
        lsm_iter_destroy(it);
    }
    meta_kind_bounds(&ro, &lo, &hi, MK_TTL);
    it = rc == 0 ? lsm_iter_create(ks.lsm, &ro) : NULL;
    if (rc == 0 && !it)
        rc = LSM_EIO;
    if (it)
        lsm_iter_seek(it, lo.data, lo.len);
    for (; it && rc == 0 && lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t iklen;
        const char *ik = lsm_iter_key(it, &iklen);
        if (iklen < TTL_KEY_FIXED)
            continue;
        int64_t at = (int64_t)be64_get(ik + NS_LEN + 1);
        int db = ns_to_db(be32_get(ik + NS_LEN + 1 + 8));
        if (db < 0)
            continue;
        char head[REC_HDR_MAX];
        size_t got, full;
        int type;
        int64_t exp;
        mk_data_key(&k, ks.dbs[db].ns, ik + TTL_KEY_FIXED, iklen - TTL_KEY_FIXED);
        int r = lsm_get_prefix(ks.lsm, NULL, k.data, k.len, head, sizeof(head), &got, &full);
        if (r == LSM_ENOTFOUND)
            continue;
        if (r == 0)
            r = rec_decode_head(head, got, full, &type, &exp);
        if (r != 0)
            rc = r;
        else if (exp == at) {
            ks.dbs[db].expires++;
            ks.dbs[db].ttl_sum += at;
        }
    }
    if (it) {
        if (rc == 0)
            rc = lsm_iter_status(it);
        lsm_iter_destroy(it);
    }
    if (rc == 0) {
        struct lsm_batch *b = lsm_batch_create();
        struct lsm_write_options wo = { .sync = 1 };
        int64_t total = 0;
        for (int i = 0; i < ks.ndb; i++) {
            batch_count(b, &k, &ks.dbs[i]);
            total += ks.dbs[i].keys;
        }
        mk_meta_key(&k, MK_DEFER);
        lsm_batch_delete(b, k.data, k.len);
        rc = lsm_write(ks.lsm, &wo, b);
        lsm_batch_destroy(b);
        if (rc == 0)
            log_notice("keyspace: recounted %" PRId64 " keys in %lld ms (the last run "
                       "stopped before counting all its writes)",
                       total, (long long)(clock_mono_ms() - t0));
    }
    buf_free(&lo);
    buf_free(&hi);
    buf_free(&k);
    return rc;
}

/* Recounts when the D mark says the counters miss some writes. */
static int load_defer_mark(void)
{
    struct buf k = BUF_INIT;
    char *v = NULL;
    size_t n = 0;
    mk_meta_key(&k, MK_DEFER);
    int rc = lsm_get(ks.lsm, NULL, k.data, k.len, &v, &n);
    lsm_free(v);
    buf_free(&k);
    if (rc == LSM_ENOTFOUND)
        return 0;
    return rc == 0 ? recount() : rc;
}

/* ---- databases ---- */

/* Runs fn inside the open transaction, or inside one of its own. */
#define WITH_TXN(expr_)                                                       \
    do {                                                                      \
        int own_ = ks.t.depth == 0;                                           \
        if (own_)                                                             \
            ks_txn_begin();                                                   \
        expr_;                                                                \
        if (own_)                                                             \
            ks_txn_commit();                                                  \
    } while (0)

/* Average remaining TTL (ms) of d's keys that have one; 0 when none. */
static long long avg_ttl(const struct dbent *d, int64_t now)
{
    long long r = d->expires > 0 ? (long long)(d->ttl_sum / d->expires) - now : 0;
    return r > 0 ? r : 0;
}

enum db_stat { DB_KEYS, DB_EXPIRES, DB_AVG_TTL };

/* One figure of db, exact: what is due to expire is deleted first. */
static long long db_stat(int db, enum db_stat which)
{
    long long r = 0;
    if (!ks.open || db < 0 || db >= ks.opt.databases)
        return LSM_EINVAL;
    defer_collect(1);
    WITH_TXN(
        r = expire_due(0, LLONG_MAX);
        if (r >= 0) {
            const struct dbent *d = &ks.dbs[db];
            r = which == DB_KEYS ? d->keys : which == DB_EXPIRES ? d->expires
                                                                 : avg_ttl(d, txn_now());
        });
    return r;
}

long long ks_dbsize(int db)
{
    return db_stat(db, DB_KEYS);
}

long long ks_expires(int db)
{
    return db_stat(db, DB_EXPIRES);
}

long long ks_avg_ttl(int db)
{
    return db_stat(db, DB_AVG_TTL);
}

static int flush_one(int db)
{
    struct txn *t = &ks.t;
    struct dbent *d = dbw(db);
    struct buf k = BUF_INIT;
    push_u32(&t->killed, &t->nkilled, &t->capkilled, d->ns);
    mk_count_key(&k, d->ns);
    tent_put(k.data, k.len, NULL, 0, -1, 0);
    buf_free(&k);
    d->ns = ks.next_ns++;
    d->keys = d->expires = 0;
    d->ttl_sum = 0;
    t->map_dirty = 1;
    t->user_dirty = 1;
    push_int(&t->whole, &t->nwhole, &t->capwhole, db);
    return 0;
}

int ks_flushdb(int db)
{
    if (!valid_db(db))
        return LSM_EINVAL;
    if (ks.next_ns == UINT32_MAX)
        return LSM_EINVAL;
    return flush_one(db);
}

int ks_flushall(void)
{
    if (!ks.open || ks.t.depth == 0)
        return LSM_EINVAL;
    if (ks.next_ns > UINT32_MAX - (uint32_t)ks.ndb)
        return LSM_EINVAL;
    for (int i = 0; i < ks.opt.databases; i++)
        flush_one(i);
    return 0;
}

int ks_swapdb(int a, int b)
{
    struct txn *t = &ks.t;
    if (!valid_db(a) || !valid_db(b))
        return LSM_EINVAL;
    if (a == b)
        return 0;
    struct dbent *x = dbw(a), *y = dbw(b), tmp = *x;
    *x = *y;
    *y = tmp;
    t->map_dirty = 1;
    t->user_dirty = 1;
    push_int(&t->whole, &t->nwhole, &t->capwhole, a);
    push_int(&t->whole, &t->nwhole, &t->capwhole, b);
    return 0;
}

/* ---- iteration ---- */

struct tview {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
    int del;
};

struct ks_iter {
    int db;
    uint32_t ns;
    int64_t now;
    struct lsm_iter *it;
    char lo[NS_LEN], hi[NS_LEN];
    struct tview *tv;               /* the transaction's changes of ns, sorted */
    size_t ntv, tpos;
    struct buf copy;                /* keys and values of tv */
    int valid, src, status;         /* src: 0 engine, 1 transaction */
    const char *key, *val;
    size_t klen, vlen;
    int type;
    int64_t exp;
};

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

static int tview_cmp(const void *a, const void *b)
{
    const struct tview *x = a, *y = b;
    return key_cmp(x->key, x->klen, y->key, y->klen);
}

static void iter_collect(struct ks_iter *it)
{
    struct txn *t = &ks.t;
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->ent[i].klen >= NS_LEN && be32_get(t->ent[i].key) == it->ns) {
            n++;
            bytes += t->ent[i].klen + t->ent[i].vlen;
        }
    }
    if (n == 0)
        return;
    it->tv = zmalloc(n * sizeof(*it->tv));
    buf_reserve(&it->copy, bytes);
    size_t off = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct tent *x = &t->ent[i];
        if (x->klen < NS_LEN || be32_get(x->key) != it->ns)
            continue;
        struct tview *v = &it->tv[it->ntv++];
        const char *val = x->val;
        size_t vlen = x->vlen;
        char *alloc = NULL;
        if (x->patch && raw_get(x->key, x->klen, &val, &vlen, &alloc, NULL, 0) <= 0) {
            /* Unreadable: the engine's record shows, with its old header. */
            it->ntv--;
            continue;
        }
        buf_append(&it->copy, x->key, x->klen);
        buf_append(&it->copy, val, vlen);
        lsm_free(alloc);
        v->klen = x->klen;
        v->vlen = vlen;
        v->del = x->del;
        v->key = (const char *)(uintptr_t)off;   /* fixed up below */
        v->val = (const char *)(uintptr_t)(off + x->klen);
        off += x->klen + vlen;
    }
    for (size_t i = 0; i < it->ntv; i++) {
        it->tv[i].key = it->copy.data + (uintptr_t)it->tv[i].key;
        it->tv[i].val = it->copy.data + (uintptr_t)it->tv[i].val;
    }
    qsort(it->tv, it->ntv, sizeof(*it->tv), tview_cmp);
}

/* Moves to the first live entry at or after the current positions. */
static void iter_settle(struct ks_iter *it)
{
    for (;;) {
        int ev = lsm_iter_valid(it->it), tvv = it->tpos < it->ntv;
        const char *k, *v;
        size_t kl = 0, vl = 0;
        int del = 0, c;
        if (!ev && !tvv) {
            it->valid = 0;
            it->status = lsm_iter_status(it->it);
            return;
        }
        const char *ek = ev ? lsm_iter_key(it->it, &kl) : NULL;
        size_t ekl = kl;
        if (!ev)
            c = 1;
        else if (!tvv)
            c = -1;
        else
            c = key_cmp(ek, ekl, it->tv[it->tpos].key, it->tv[it->tpos].klen);
        if (c < 0) {
            k = ek;
            kl = ekl;
            v = lsm_iter_value(it->it, &vl);
            it->src = 0;
        } else {
            const struct tview *t = &it->tv[it->tpos];
            if (c == 0)
                lsm_iter_next(it->it);   /* shadowed by the transaction */
            k = t->key;
            kl = t->klen;
            v = t->val;
            vl = t->vlen;
            del = t->del;
            it->src = 1;
        }
        if (!del && kl >= NS_LEN) {
            const char *data;
            size_t dlen;
            if (rec_decode(v, vl, &it->type, &it->exp, &data, &dlen) != 0) {
                it->valid = 0;
                it->status = LSM_ECORRUPT;
                return;
            }
            if (it->exp < 0 || it->exp > it->now) {
                it->valid = 1;
                it->key = k + NS_LEN;
                it->klen = kl - NS_LEN;
                it->val = data;
                it->vlen = dlen;
                return;
            }
        }
        if (it->src == 0)
            lsm_iter_next(it->it);
        else
            it->tpos++;
    }
}

struct ks_iter *ks_iter_create(int db, const char *start, size_t slen)
{
    struct lsm_read_options ro;
    if (!valid_db(db))
        return NULL;
    struct ks_iter *it = zcalloc(sizeof(*it));
    it->db = db;
    it->ns = ks.dbs[db].ns;
    it->now = txn_now();
    buf_init(&it->copy);
    be32_put(it->lo, it->ns);
    be32_put(it->hi, it->ns + 1);
    lsm_read_options_init(&ro);
    ro.lower_bound = it->lo;
    ro.lower_bound_len = NS_LEN;
    if (it->ns != UINT32_MAX) {
        ro.upper_bound = it->hi;
        ro.upper_bound_len = NS_LEN;
    }
    ro.fill_cache = 0;
    it->it = lsm_iter_create(ks.lsm, &ro);
    if (!it->it) {
        zfree(it);
        return NULL;
    }
    iter_collect(it);
    ks_iter_seek(it, start ? start : "", start ? slen : 0);
    return it;
}

void ks_iter_destroy(struct ks_iter *it)
{
    if (!it)
        return;
    lsm_iter_destroy(it->it);
    zfree(it->tv);
    buf_free(&it->copy);
    zfree(it);
}

void ks_iter_seek(struct ks_iter *it, const char *key, size_t klen)
{
    struct buf k = BUF_INIT;
    mk_data_key(&k, it->ns, key, klen);
    lsm_iter_seek(it->it, k.data, k.len);
    size_t lo = 0, hi = it->ntv;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp(it->tv[mid].key, it->tv[mid].klen, k.data, k.len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    it->tpos = lo;
    buf_free(&k);
    iter_settle(it);
}

int ks_iter_valid(const struct ks_iter *it)
{
    return it && it->valid;
}

void ks_iter_next(struct ks_iter *it)
{
    if (!it->valid)
        return;
    if (it->src == 0)
        lsm_iter_next(it->it);
    else
        it->tpos++;
    iter_settle(it);
}

const char *ks_iter_key(const struct ks_iter *it, size_t *klen)
{
    *klen = it->klen;
    return it->key;
}

int ks_iter_type(const struct ks_iter *it)
{
    return it->type == KS_TYPE_CHUNKED ? KS_TYPE_STRING : it->type;
}

int64_t ks_iter_expire(const struct ks_iter *it)
{
    return it->exp;
}

const char *ks_iter_value(const struct ks_iter *it, size_t *vlen)
{
    if (it->type == KS_TYPE_CHUNKED) {
        *vlen = 0;
        return NULL;
    }
    *vlen = it->vlen;
    return it->val;
}

int ks_iter_status(const struct ks_iter *it)
{
    return it->status;
}

/* The last stored key of the db's namespace (raw: may be deleted/expired). */
static int last_raw_key(uint32_t ns, struct buf *out)
{
    struct lsm_read_options ro;
    char lo[NS_LEN], hi[NS_LEN];
    be32_put(lo, ns);
    be32_put(hi, ns + 1);
    lsm_read_options_init(&ro);
    ro.lower_bound = lo;
    ro.lower_bound_len = NS_LEN;
    if (ns != UINT32_MAX) {
        ro.upper_bound = hi;
        ro.upper_bound_len = NS_LEN;
    }
    ro.fill_cache = 0;
    struct lsm_iter *it = lsm_iter_create(ks.lsm, &ro);
    if (!it)
        return LSM_EIO;
    lsm_iter_seek_to_last(it);
    int found = lsm_iter_valid(it);
    if (found) {
        size_t n;
        const char *k = lsm_iter_key(it, &n);
        buf_set(out, k + NS_LEN, n - NS_LEN);
    }
    int rc = lsm_iter_status(it);
    lsm_iter_destroy(it);
    return rc ? rc : found;
}

int ks_random_key(int db, struct buf *out)
{
    struct buf first = BUF_INIT, last = BUF_INIT, target = BUF_INIT;
    struct ks_iter *it = ks_iter_create(db, NULL, 0);
    int rc;
    if (!it)
        return LSM_EINVAL;
    if (!ks_iter_valid(it)) {
        rc = ks_iter_status(it);
        goto out;
    }
    size_t n;
    const char *k = ks_iter_key(it, &n);
    buf_set(&first, k, n);
    rc = last_raw_key(ks.dbs[db].ns, &last);
    if (rc < 0)
        goto out;
    if (rc > 0 && key_cmp(last.data, last.len, first.data, first.len) > 0) {
        /* A random point between the first and last key: the common prefix,
         * then bytes drawn between the two keys' bytes, then random ones. */
        size_t p = 0;
        while (p < first.len && p < last.len && first.data[p] == last.data[p])
            p++;
        buf_set(&target, first.data, p);
        unsigned lo = p < first.len ? (unsigned char)first.data[p] : 0;
        unsigned hi = p < last.len ? (unsigned char)last.data[p] : 255;
        buf_append_byte(&target, (char)(lo + rng_next() % (hi - lo + 1)));
        for (int i = 0; i < 8; i++)
            buf_append_byte(&target, (char)rng_next());
        ks_iter_seek(it, target.data, target.len);
        if (!ks_iter_valid(it))
            ks_iter_seek(it, first.data, first.len);
    }
    if (ks_iter_valid(it)) {
        k = ks_iter_key(it, &n);
        buf_set(out, k, n);
        rc = 1;
    } else {
        rc = ks_iter_status(it);
    }
out:
    ks_iter_destroy(it);
    buf_free(&first);
    buf_free(&last);
    buf_free(&target);
    return rc;
}

/* ---- cursors ---- */

int ks_cursor_save(int db, const char *resume, size_t rlen, uint64_t *cursor)
{
    struct buf k = BUF_INIT;
    if (!valid_db(db))
        return LSM_EINVAL;
    uint64_t id = next_id();
    size_t vlen = 12 + rlen;
    char *v = zmalloc(vlen + 1);
    encode_fixed64(v, (uint64_t)(txn_now() + ks.opt.cursor_ttl_ms));
    encode_fixed32(v + 8, (uint32_t)db);
    memcpy(v + 12, resume, rlen);
    mk_cursor_key(&k, id);
    tent_put(k.data, k.len, v, vlen, -1, 1);
    buf_free(&k);
    *cursor = id;
    return 0;
}

int ks_cursor_load(uint64_t cursor, int *db, struct buf *resume)
{
    struct buf k = BUF_INIT;
    const char *v;
    size_t n;
    char *alloc;
    if (!ks.open || ks.t.depth == 0)
        return LSM_EINVAL;
    mk_cursor_key(&k, cursor);
    int rc = raw_get(k.data, k.len, &v, &n, &alloc, NULL, 0);
    buf_free(&k);
    if (rc <= 0)
        return rc;
    if (n < 12) {
        rc = LSM_ECORRUPT;
    } else if ((int64_t)decode_fixed64(v) <= txn_now()) {
        rc = 0;
    } else {
        *db = (int)decode_fixed32(v + 8);
        buf_set(resume, v + 12, n - 12);
        rc = 1;
    }
    lsm_free(alloc);
    return rc;
}

/* ---- durability ---- */

uint64_t ks_commit_count(void)
{
    return ks.commits;
}

int ks_sync_pending(void)
{
    return ks.sync_pending;
}

int ks_unflushed(void)
{
    return ks.unflushed;
}

int ks_flush(void)
{
    if (!ks.unflushed)
        return 0;
    ks.unflushed = 0;
    int rc = lsm_flush_wal(ks.lsm);
    if (rc != 0) {
        ks.write_errors++;
        set_persist_error(rc, "writing to the engine");
    }
    return rc;
}

void ks_sync_done(int rc, uint64_t covered)
{
    if (rc == 0) {
        if (ks.commits == covered)
            ks.sync_pending = 0;
        ks.commits_at_sync = covered;
        ks.last_sync_ms = clock_ms();
        ks.sync_count++;
    } else {
        ks.sync_errors++;
        set_persist_error(rc, "fsync of the write-ahead log");
    }
}

int ks_sync(void)
{
    if (!ks.open)
        return 0;
    uint64_t covered = ks.commits;
    int rc = lsm_sync(ks.lsm);
    ks_sync_done(rc, covered);
    return rc;
}

int ks_bgsave(void)
{
    int busy;
    pthread_mutex_lock(&ks.bg_mu);
    busy = ks.bg_save_pending || ks.bg_save_running;
    if (!busy) {
        ks.bg_save_pending = 1;
        pthread_cond_broadcast(&ks.bg_cv);
    }
    pthread_mutex_unlock(&ks.bg_mu);
    return busy ? -1 : 0;
}

void ks_bgsave_schedule(void)
{
    ks.bgsave_scheduled = 1;
}

int ks_bgsave_in_progress(void)
{
    pthread_mutex_lock(&ks.bg_mu);
    int busy = ks.bg_save_pending || ks.bg_save_running;
    pthread_mutex_unlock(&ks.bg_mu);
    return busy;
}

int64_t ks_last_save_ms(void)
{
    pthread_mutex_lock(&ks.bg_mu);
    int64_t last = ks.bg_last_sync_ms > ks.last_sync_ms ? ks.bg_last_sync_ms : ks.last_sync_ms;
    pthread_mutex_unlock(&ks.bg_mu);
    return last;
}

int ks_before_sleep(void)
{
    if (!ks.open || !ks.sync_pending || ks.opt.appendfsync != KS_FSYNC_ALWAYS)
        return 0;
    return ks_sync();
}

/* A durable probe write: proves the engine accepts writes again. */
static int probe_write(void)
{
    struct buf k = BUF_INIT;
    char v[8];
    struct lsm_write_options wo = { .sync = 1 };
    mk_meta_key(&k, MK_PROBE);
    encode_fixed64(v, (uint64_t)clock_ms());
    int rc = lsm_put(ks.lsm, &wo, k.data, k.len, v, sizeof(v));
    buf_free(&k);
    return rc;
}

void ks_cron_second(void)
{
    if (!ks.open)
        return;
    pthread_mutex_lock(&ks.bg_mu);
    int bgerr = ks.bg_sync_err;
    char bgmsg[sizeof(ks.bg_sync_msg)];
    memcpy(bgmsg, ks.bg_sync_msg, sizeof(bgmsg));
    ks.bg_sync_err = 0;
    if (ks.bg_last_sync_ms > ks.last_sync_ms)
        ks.last_sync_ms = ks.bg_last_sync_ms;
    pthread_mutex_unlock(&ks.bg_mu);
    if (bgerr)
        set_persist_error_detail(bgerr, "background fsync of the write-ahead log", bgmsg);
    if (ks.bgsave_scheduled && ks_bgsave() == 0)
        ks.bgsave_scheduled = 0;
    if (lsm_bg_error(ks.lsm) != 0) {
        if (lsm_resume(ks.lsm) == 0)
            log_notice("keyspace: the engine's background error is cleared");
        else
            return;
    }
    if (ks.persist_err && probe_write() == 0) {
        log_notice("keyspace: writes to the engine succeed again; accepting writes");
        ks.persist_err = 0;
        ks.persist_msg[0] = '\0';
        ks.sync_pending = 0;
        ks.commits_at_sync = ks.commits;
        ks.last_sync_ms = clock_ms();
    }
}

/* Why writes are refused, or NULL when they are accepted. */
static const char *write_error_reason(void)
{
    if (!ks.open)
        return NULL;
    if (ks.persist_err)
        return ks.persist_msg;
    int bg = lsm_bg_error(ks.lsm);
    if (!bg)
        return NULL;
    return bg == LSM_ENOSPC ? "No space left on device" :
           bg == LSM_EIO ? "Input/output error" : lsm_strerror(bg);
}

int ks_write_error(char *buf, size_t buflen)
{
    const char *reason = write_error_reason();
    if (!reason)
        return 0;
    snprintf(buf, buflen, "MISCONF Errors writing to the AOF file: %s", reason);
    return 1;
}

/* ---- INFO ---- */

static void info_line(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info_line(struct buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    buf_append(b, line, (size_t)n);
    buf_append(b, "\r\n", 2);
}

/* name_capacity, name_usage, name_hits, name_misses and name_hit_rate. */
static void info_cache(struct buf *b, const char *name, uint64_t capacity, uint64_t usage,
                       uint64_t hits, uint64_t misses)
{
    info_line(b, "%s_capacity:%" PRIu64, name, capacity);
    info_line(b, "%s_usage:%" PRIu64, name, usage);
    info_line(b, "%s_hits:%" PRIu64, name, hits);
    info_line(b, "%s_misses:%" PRIu64, name, misses);
    info_line(b, "%s_hit_rate:%.4f", name,
              hits + misses ? (double)hits / (double)(hits + misses) : 0.0);
}

static const char *const fsync_names[] = { "no", "everysec", "always" };

static void info_persistence(struct buf *b)
{
    pthread_mutex_lock(&ks.bg_mu);
    uint64_t syncs = ks.sync_count + ks.bg_sync_count;
    uint64_t errs = ks.sync_errors + ks.bg_sync_errors;
    int bgsave = ks.bg_save_pending || ks.bg_save_running;
    int bgsave_err = ks.bg_save_err;
    pthread_mutex_unlock(&ks.bg_mu);
    int64_t last = ks_last_save_ms();
    const char *reason = write_error_reason();
    int err = reason != NULL;
    info_line(b, "loading:0");
    info_line(b, "async_loading:0");
    info_line(b, "rdb_changes_since_last_save:%" PRIu64,
              ks.opt.appendfsync == KS_FSYNC_ALWAYS ? ks.commits - ks.commits_at_sync : 0);
    info_line(b, "rdb_bgsave_in_progress:%d", bgsave);
    info_line(b, "rdb_last_save_time:%" PRId64, last / 1000);
    info_line(b, "rdb_last_bgsave_status:%s", bgsave_err ? "err" : "ok");
    info_line(b, "aof_enabled:1");
    info_line(b, "aof_rewrite_in_progress:0");
    info_line(b, "aof_rewrite_scheduled:0");
    info_line(b, "aof_last_bgrewrite_status:ok");
    info_line(b, "aof_last_write_status:%s", err ? "err" : "ok");
    info_line(b, "appendfsync:%s", fsync_names[ks.opt.appendfsync]);
    info_line(b, "lsm_syncs:%" PRIu64, syncs);
    info_line(b, "lsm_sync_errors:%" PRIu64, errs);
    info_line(b, "lsm_write_errors:%" PRIu64, ks.write_errors);
    info_line(b, "lsm_last_sync_time:%" PRId64, last / 1000);
    info_line(b, "lsm_write_error:%s", err ? reason : "");
    info_line(b, "lsm_write_error_since:%" PRId64, err ? ks.persist_err_since / 1000 : 0);
    info_line(b, "keyspace_deferred_counting:%d", ks.defer != NULL);
    info_line(b, "keyspace_deferred_writes:%" PRIu64, ks.defer_count);
    info_line(b, "keyspace_deferred_pending:%zu", ks.defer ? ksd_pending(ks.defer) : 0);
    info_line(b, "keyspace_deferred_waits:%" PRIu64, ks.defer_waits);
    info_line(b, "keyspace_deferred_wait_max_us:%" PRId64, ks.defer_wait_max_us);
    info_line(b, "keyspace_stale_ttl_deleted:%" PRIu64, ks.stale_dropped);
    info_line(b, "keyspace_write_table_hits:%" PRIu64, ks.wtab_hits);
    info_line(b, "keyspace_counts_exact:%d", !ks.counts_unsure);
}

static void info_lsm(struct buf *b)
{
    struct lsm_stats s;
    if (lsm_get_stats(ks.lsm, &s) != 0)
        return;
    for (int i = 0; i < LSM_STATS_LEVELS; i++) {
        const struct lsm_level_stats *l = &s.level[i];
        info_line(b, "level%d:files=%d,bytes=%" PRIu64 ",score=%.2f,compactions=%" PRIu64
                  ",read_bytes=%" PRIu64 ",written_bytes=%" PRIu64,
                  i, l->files, l->bytes, l->score, l->compactions, l->bytes_read,
                  l->bytes_written);
    }
    /* Everything written for the user's bytes, the value log included. */
    uint64_t written = s.wal_bytes_written + s.flush_bytes_written +
                       s.compaction_bytes_written + s.vlog_bytes_written;
    info_line(b, "memtable_bytes:%" PRIu64, s.memtable_bytes);
    info_line(b, "immutable_memtables:%d", s.immutable_memtables);
    info_line(b, "wal_files:%" PRIu64, s.wal_files);
    info_line(b, "live_sst_bytes:%" PRIu64, s.live_sst_bytes);
    info_line(b, "pending_compaction_bytes:%" PRIu64, s.pending_compaction_bytes);
    info_line(b, "running_flushes:%" PRIu64, s.running_flushes);
    info_line(b, "running_compactions:%" PRIu64, s.running_compactions);
    info_line(b, "flushes:%" PRIu64, s.flushes);
    info_line(b, "compactions:%" PRIu64, s.compactions);
    info_line(b, "stall_count:%" PRIu64, s.stall_count);
    info_line(b, "stall_micros:%" PRIu64, s.stall_micros);
    info_line(b, "user_bytes_written:%" PRIu64, s.user_bytes_written);
    info_line(b, "wal_bytes_written:%" PRIu64, s.wal_bytes_written);
    info_line(b, "flush_bytes_written:%" PRIu64, s.flush_bytes_written);
    info_line(b, "compaction_bytes_read:%" PRIu64, s.compaction_bytes_read);
    info_line(b, "compaction_bytes_written:%" PRIu64, s.compaction_bytes_written);
    info_line(b, "vlog_bytes:%" PRIu64, s.vlog_bytes);
    info_line(b, "vlog_live_bytes:%" PRIu64, s.vlog_live_bytes);
    info_line(b, "vlog_segments:%" PRIu64, s.vlog_segments);
    info_line(b, "vlog_discard_bytes:%" PRIu64, s.vlog_discard_bytes);
    info_line(b, "vlog_bytes_written:%" PRIu64, s.vlog_bytes_written);
    info_line(b, "vlog_bytes_read:%" PRIu64, s.vlog_bytes_read);
    info_line(b, "vlog_gc_runs:%" PRIu64, s.vlog_gc_runs);
    info_line(b, "vlog_gc_bytes_rewritten:%" PRIu64, s.vlog_gc_bytes_rewritten);
    info_line(b, "vlog_gc_bytes_reclaimed:%" PRIu64, s.vlog_gc_bytes_reclaimed);
    info_line(b, "write_amplification:%.2f",
              s.user_bytes_written ? (double)written / (double)s.user_bytes_written : 0.0);
    /* Space amplification, estimated like RocksDB's for leveled compaction:
     * all bytes over those of the deepest non-empty level (which holds the
     * live data once compactions settle), plus the value log over its live
     * estimate. */
    uint64_t deepest = 0;
    for (int i = 0; i < LSM_STATS_LEVELS; i++)
        if (s.level[i].bytes > 0)
            deepest = s.level[i].bytes;
    uint64_t live = deepest + s.vlog_live_bytes;
    info_line(b, "space_amplification:%.2f",
              live ? (double)(s.live_sst_bytes + s.vlog_bytes) / (double)live : 0.0);
    info_cache(b, "block_cache", s.block_cache_capacity, s.block_cache_usage,
               s.block_cache_hits, s.block_cache_misses);
    info_cache(b, "value_cache", s.value_cache_capacity, s.value_cache_usage,
               s.value_cache_hits, s.value_cache_misses);
    info_line(b, "bloom_useful:%" PRIu64, s.bloom_useful);
    info_line(b, "bloom_false_positive:%" PRIu64, s.bloom_false_positive);
    info_line(b, "last_sequence:%" PRIu64, s.last_sequence);
    info_line(b, "bg_error:%s", s.bg_error ? lsm_strerror(s.bg_error) : "none");
}

static void info_memory(struct buf *b)
{
    struct lsm_stats s;
    if (lsm_get_stats(ks.lsm, &s) != 0)
        return;
    info_line(b, "lsm_block_cache_used:%" PRIu64, s.block_cache_usage);
    info_line(b, "lsm_block_cache_capacity:%" PRIu64, s.block_cache_capacity);
    info_line(b, "lsm_value_cache_used:%" PRIu64, s.value_cache_usage);
    info_line(b, "lsm_value_cache_capacity:%" PRIu64, s.value_cache_capacity);
    info_line(b, "lsm_memtables:%" PRIu64, s.memtable_bytes);
    info_line(b, "keyspace_write_table:%zu", wtab_bytes(ks.wtab));
}

static void info_keyspace(struct buf *b)
{
    defer_collect(1);
    WITH_TXN(expire_due(0, LLONG_MAX));
    int64_t now = now_wall();
    for (int i = 0; i < ks.opt.databases; i++) {
        const struct dbent *d = &ks.dbs[i];
        if (d->keys <= 0)
            continue;
        info_line(b, "db%d:keys=%" PRId64 ",expires=%" PRId64 ",avg_ttl=%lld", i, d->keys,
                  d->expires, avg_ttl(d, now));
    }
}

int ks_info_section(const char *name, struct buf *b)
{
    static const struct {
        const char *name;
        void (*fn)(struct buf *);
    } sections[] = {
        { "persistence", info_persistence },
        { "lsm", info_lsm },
        { "memory", info_memory },
        { "keyspace", info_keyspace },
    };
    if (!ks.open)
        return 0;
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        if (strcasecmp(name, sections[i].name) == 0) {
            sections[i].fn(b);
            return 1;
        }
    }
    return 0;
}
