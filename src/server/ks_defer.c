/* ks_defer: deferred existence checks for blind writes (see ks_defer.h). */
#include <pthread.h>
#include <string.h>

#include "engine/lsm.h"
#include "server/ks_defer.h"
#include "server/ks_wtab.h"
#include "util/coding.h"
#include "util/log.h"
#include "util/slice.h"
#include "util/tpool.h"
#include "util/zmalloc.h"

/* A staged write: ns fixed32 | exp fixed64 | klen fixed32 | commit fixed64 |
 * key hash fixed64 | stored key. A stale TTL entry (ksd_stale) is the same
 * with exp = the old record's expire. */
#define ENT_FIXED 32

/* A staged (or stale) entry, decoded; key points into the buffer. */
struct ent {
    uint32_t ns;
    int64_t exp;
    size_t klen;
    uint64_t commit;
    uint64_t key_hash;
    const char *key;
};

/* Decodes the entry at p; returns its size. */
static size_t ent_decode(const char *p, struct ent *e)
{
    e->ns = decode_fixed32(p);
    e->exp = (int64_t)decode_fixed64(p + 4);
    e->klen = decode_fixed32(p + 12);
    e->commit = decode_fixed64(p + 16);
    e->key_hash = decode_fixed64(p + 24);
    e->key = p + ENT_FIXED;
    return ENT_FIXED + e->klen;
}

struct epoch {
    struct epoch *next;
    const struct lsm_snapshot *snap;
    uint64_t snap_commit;           /* commits before the snapshot */
    struct buf ents;
    size_t n;
};

struct ksd {
    struct lsm_db *lsm;
    ksd_head_fn head;
    size_t max_pending;

    /* loop thread only */
    struct epoch *open;             /* NULL until a write is staged */
    const struct ks_wtab *wtab;     /* the keyspace's */

    /* shared with the resolver, under mu */
    pthread_mutex_t mu;
    pthread_cond_t work, done_cv;
    struct epoch *qhead, *qtail;
    size_t queued;                  /* writes sealed and not yet resolved */
    int busy;                       /* epochs being resolved */
    struct ksd_delta *done;
    size_t ndone, capdone;
    struct buf stale;               /* finished ksd_stale entries, as staged */
    size_t stale_len;               /* stale.len, read without mu */
    int failed;
    int stop;
    pthread_t thread;
};

static void epoch_free(struct ksd *d, struct epoch *e)
{
    lsm_snapshot_release(d->lsm, e->snap);
    buf_free(&e->ents);
    zfree(e);
}

static struct ksd_delta *delta_for(struct ksd_delta **arr, size_t *n, size_t *cap,
                                   uint32_t ns)
{
    for (size_t i = 0; i < *n; i++)
        if ((*arr)[i].ns == ns)
            return &(*arr)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *arr = zrealloc(*arr, *cap * sizeof(**arr));
    }
    struct ksd_delta *x = &(*arr)[(*n)++];
    memset(x, 0, sizeof(*x));
    x->ns = ns;
    return x;
}

/* Reads every staged key of e at e's snapshot; adds the deltas to *arr.
 * Returns the number of failed reads. */
static int resolve(struct ksd *d, const struct epoch *e, struct ksd_delta **arr, size_t *n,
                   size_t *cap, struct buf *stale)
{
    struct lsm_read_options ro;
    int failed = 0;
    lsm_read_options_init(&ro);
    ro.snapshot = e->snap;
    ro.fill_cache = 1;
    for (size_t off = 0; off < e->ents.len;) {
        const char *p = e->ents.data + off;
        struct ent en;
        off += ent_decode(p, &en);
        uint32_t ns = en.ns;
        int64_t exp = en.exp;
        size_t klen = en.klen;
        const char *key = en.key;

        char head[LSM_VALUE_PREFIX_MAX];
        size_t got = 0, full = 0;
        int64_t old = -1;
        int present = 0;
        int rc = lsm_get_prefix(d->lsm, &ro, key, klen, head, sizeof(head), &got, &full);
        if (rc == 0) {
            rc = d->head(head, got, full, &old);
            present = 1;
        } else if (rc == LSM_ENOTFOUND) {
            rc = 0;
        }
        if (rc != 0) {
            if (failed++ == 0)
                log_warning("keyspace: counting a write: reading its key failed: %s",
                            *lsm_last_error() ? lsm_last_error() : lsm_strerror(rc));
            continue;
        }
        int had = present && old >= 0;
        if (had && old != exp) {    /* its TTL index entry is left behind */
            size_t at = stale->len;
            buf_append(stale, p, ENT_FIXED + klen);
            encode_fixed64(stale->data + at + 4, (uint64_t)old);
        }
        struct ksd_delta *x = delta_for(arr, n, cap, ns);
        x->keys += !present;
        x->expires += (exp >= 0) - had;
        x->ttl_sum += (exp >= 0 ? exp : 0) - (had ? old : 0);
    }
    return failed;
}

/* Takes the next sealed epoch off the queue (mu held; NULL if none); the
 * caller resolves it with mu released, then calls finish. */
static struct epoch *take(struct ksd *d)
{
    struct epoch *e = d->qhead;
    if (e) {
        d->qhead = e->next;
        if (!d->qhead)
            d->qtail = NULL;
        d->busy++;
    }
    return e;
}

/* Resolves e (mu not held) and publishes its deltas (mu held on return). */
static void resolve_and_finish(struct ksd *d, struct epoch *e)
{
    struct ksd_delta *arr = NULL;
    size_t n = 0, cap = 0;
    struct buf stale = BUF_INIT;
    int failed = resolve(d, e, &arr, &n, &cap, &stale);
    size_t writes = e->n;
    epoch_free(d, e);

    pthread_mutex_lock(&d->mu);
    buf_append(&d->stale, stale.data, stale.len);
    __atomic_store_n(&d->stale_len, d->stale.len, __ATOMIC_RELAXED);
    buf_free(&stale);
    for (size_t i = 0; i < n; i++) {
        struct ksd_delta *x = delta_for(&d->done, &d->ndone, &d->capdone, arr[i].ns);
        x->keys += arr[i].keys;
        x->expires += arr[i].expires;
        x->ttl_sum += arr[i].ttl_sum;
    }
    zfree(arr);
    d->failed += failed;
    __atomic_sub_fetch(&d->queued, writes, __ATOMIC_RELAXED);  /* read without mu */
    d->busy--;
    pthread_cond_broadcast(&d->done_cv);
}

static void *resolver_main(void *arg)
{
    struct ksd *d = arg;
    pthread_setname_np(pthread_self(), "ks-count");
    tpool_background_thread();      /* its counts may wait; requests may not */
    log_set_role('B');
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        struct epoch *e = take(d);
        if (!e) {
            pthread_cond_wait(&d->work, &d->mu);
            continue;
        }
        pthread_mutex_unlock(&d->mu);
        resolve_and_finish(d, e);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

struct ksd *ksd_create(struct lsm_db *lsm, const struct ks_wtab *wtab, ksd_head_fn head,
                       size_t max_pending)
{
    struct ksd *d = zcalloc(sizeof(*d));
    d->lsm = lsm;
    d->head = head;
    d->max_pending = max_pending;
    d->wtab = wtab;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->work, NULL);
    pthread_cond_init(&d->done_cv, NULL);
    if (pthread_create(&d->thread, NULL, resolver_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->work);
        pthread_cond_destroy(&d->done_cv);
        zfree(d);
        return NULL;
    }
    return d;
}

void ksd_destroy(struct ksd *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_broadcast(&d->work);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    while (d->qhead) {
        struct epoch *e = d->qhead;
        d->qhead = e->next;
        epoch_free(d, e);
    }
    if (d->open)
        epoch_free(d, d->open);
    zfree(d->done);
    buf_free(&d->stale);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->done_cv);
    zfree(d);
}

size_t ksd_pending(const struct ksd *d)
{
    size_t queued = __atomic_load_n(&d->queued, __ATOMIC_RELAXED);
    return (d->open ? d->open->n : 0) + queued;
}

int ksd_can_defer(const struct ksd *d, uint64_t key_hash)
{
    if (ksd_pending(d) >= d->max_pending)
        return 0;
    /* No commit since the snapshot wrote a key of this slot (so not this
     * key: a false "no" only costs a read). */
    return !d->open || wtab_slot_commit(d->wtab, key_hash) <= d->open->snap_commit;
}

void ksd_defer(struct ksd *d, const char *skey, size_t sklen, uint32_t ns, int64_t exp,
               uint64_t key_hash)
{
    struct epoch *e = d->open;
    if (!e) {
        e = zcalloc(sizeof(*e));
        e->snap = lsm_snapshot_create(d->lsm);
        e->snap_commit = wtab_commits(d->wtab);
        d->open = e;
    }
    char p[ENT_FIXED];
    encode_fixed32(p, ns);
    encode_fixed64(p + 4, (uint64_t)exp);
    encode_fixed32(p + 12, (uint32_t)sklen);
    encode_fixed64(p + 16, wtab_commits(d->wtab) + 1);    /* the commit that writes it */
    encode_fixed64(p + 24, key_hash);
    buf_reserve(&e->ents, ENT_FIXED + sklen);
    buf_append(&e->ents, p, ENT_FIXED);
    buf_append(&e->ents, skey, sklen);
    e->n++;
}

size_t ksd_staged(const struct ksd *d)
{
    return d->open ? d->open->n : 0;
}

void ksd_truncate(struct ksd *d, size_t mark)
{
    struct epoch *e = d->open;
    if (!e || e->n <= mark)
        return;
    size_t off = 0;
    struct ent en;
    for (size_t i = 0; i < mark; i++)
        off += ent_decode(e->ents.data + off, &en);
    buf_truncate(&e->ents, off);
    e->n = mark;
}

void ksd_seal(struct ksd *d)
{
    struct epoch *e = d->open;
    if (!e)
        return;
    d->open = NULL;
    if (e->n == 0) {
        epoch_free(d, e);
        return;
    }
    pthread_mutex_lock(&d->mu);
    if (d->qtail)
        d->qtail->next = e;
    else
        d->qhead = e;
    d->qtail = e;
    __atomic_add_fetch(&d->queued, e->n, __ATOMIC_RELAXED);
    pthread_cond_signal(&d->work);
    pthread_mutex_unlock(&d->mu);
}

int ksd_collect(struct ksd *d, int wait, void (*fn)(void *arg, const struct ksd_delta *),
                void *arg)
{
    if (wait)
        ksd_seal(d);
    pthread_mutex_lock(&d->mu);
    while (wait && (d->qhead || d->busy)) {
        /* Help: resolve queued epochs here rather than wait behind them. */
        struct epoch *e = take(d);
        if (e) {
            pthread_mutex_unlock(&d->mu);
            resolve_and_finish(d, e);
        } else {
            pthread_cond_wait(&d->done_cv, &d->mu);
        }
    }
    struct ksd_delta *done = d->done;
    size_t ndone = d->ndone;
    int failed = d->failed;
    d->done = NULL;
    d->ndone = d->capdone = 0;
    d->failed = 0;
    pthread_mutex_unlock(&d->mu);
    for (size_t i = 0; i < ndone; i++)
        fn(arg, &done[i]);
    zfree(done);
    return failed;
}

int ksd_has_stale(const struct ksd *d)
{
    return __atomic_load_n(&d->stale_len, __ATOMIC_RELAXED) > 0;
}

void ksd_take_stale(struct ksd *d, void (*fn)(void *arg, const struct ksd_stale *), void *arg)
{
    pthread_mutex_lock(&d->mu);
    struct buf stale = d->stale;
    d->stale = (struct buf)BUF_INIT;
    __atomic_store_n(&d->stale_len, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&d->mu);
    for (size_t off = 0; off < stale.len;) {
        struct ent en;
        off += ent_decode(stale.data + off, &en);
        struct ksd_stale st = { en.ns, en.exp, en.key, en.klen, en.commit, en.key_hash };
        fn(arg, &st);
    }
    buf_free(&stale);
}
