/* test_model: model-based randomized test of the engine through lsm.h.
 *
 * Random puts, deletes and batches (lsm_write, with lsm_batch_patch among
 * their operations: new first bytes for the key's value), point reads, snapshots
 * (reads at a snapshot must see the model as it was when the snapshot was
 * taken), iterators (forward, backward, seek, seek_for_prev, random lower and
 * upper bounds, long-lived iterators that outlive later writes) are checked
 * against an in-memory ordered map (a sorted array of refcounted blobs).
 * Flushes, range compactions, value-log GC passes and close/reopen (with
 * randomly changed options, the value-separation threshold and small
 * value-log segments among them) are interleaved; small options make flushes, compactions and
 * several levels happen in a short run. Every write either is synced or
 * precedes an lsm_close (which syncs the WAL), so the model must survive a
 * reopen exactly.
 *
 * Environment (or argv words): SEED=n (default: time-based, printed),
 * OPS=n (default 50000), CONC_MS=n (length of the concurrent phase, default
 * 3000; 0 skips it), KEEP=1 keeps the directory. On a mismatch the test
 * prints the seed, the op number, what the op was and expected/actual, keeps
 * the directory and fails. Output is TAP (tests/tap.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/log.h"
#include "util/zmalloc.h"
#include "../tap.h"
#include "db_test.h"

/* ---- random numbers (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_n(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* ---- the model: a sorted array of (key, value) blobs ---- */

struct blob {
    int ref;
    size_t len;
    char data[];
};

struct ent {
    struct blob *k, *v;
};

struct model {
    struct ent *e;
    size_t n, cap;
};

static struct blob *blob_new(const void *p, size_t n)
{
    struct blob *b = zmalloc(sizeof *b + n + 1);
    b->ref = 1;
    b->len = n;
    if (n)
        memcpy(b->data, p, n);
    b->data[n] = 0;
    return b;
}

static struct blob *blob_ref(struct blob *b)
{
    b->ref++;
    return b;
}

static void blob_unref(struct blob *b)
{
    if (b && --b->ref == 0)
        zfree(b);
}

static int bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

/* First index whose key >= k. */
static size_t model_lower(const struct model *m, const void *k, size_t kn)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bytes_cmp(m->e[mid].k->data, m->e[mid].k->len, k, kn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index whose key > k. */
static size_t model_upper(const struct model *m, const void *k, size_t kn)
{
    size_t i = model_lower(m, k, kn);
    if (i < m->n && bytes_cmp(m->e[i].k->data, m->e[i].k->len, k, kn) == 0)
        i++;
    return i;
}

static struct blob *model_get(const struct model *m, const void *k, size_t kn)
{
    size_t i = model_lower(m, k, kn);
    if (i < m->n && bytes_cmp(m->e[i].k->data, m->e[i].k->len, k, kn) == 0)
        return m->e[i].v;
    return NULL;
}

static void model_put(struct model *m, const void *k, size_t kn, struct blob *v)
{
    size_t i = model_lower(m, k, kn);
    if (i < m->n && bytes_cmp(m->e[i].k->data, m->e[i].k->len, k, kn) == 0) {
        blob_unref(m->e[i].v);
        m->e[i].v = blob_ref(v);
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->e = zrealloc(m->e, m->cap * sizeof *m->e);
    }
    memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof *m->e);
    m->e[i].k = blob_new(k, kn);
    m->e[i].v = blob_ref(v);
    m->n++;
}

/* lsm_batch_patch on the model: the first bytes change; absent stays absent. */
static void model_patch(struct model *m, const void *k, size_t kn, const char *d, size_t dn)
{
    struct blob *cur = model_get(m, k, kn), *nv;
    if (cur == NULL)
        return;
    nv = blob_new(cur->data, cur->len);
    memcpy(nv->data, d, dn < nv->len ? dn : nv->len);
    model_put(m, k, kn, nv);
    blob_unref(nv);
}

static void model_del(struct model *m, const void *k, size_t kn)
{
    size_t i = model_lower(m, k, kn);
    if (i < m->n && bytes_cmp(m->e[i].k->data, m->e[i].k->len, k, kn) == 0) {
        blob_unref(m->e[i].k);
        blob_unref(m->e[i].v);
        memmove(m->e + i, m->e + i + 1, (m->n - i - 1) * sizeof *m->e);
        m->n--;
    }
}

static void model_copy(struct model *dst, const struct model *src)
{
    size_t i;
    dst->n = dst->cap = src->n;
    dst->e = zmalloc((src->n ? src->n : 1) * sizeof *dst->e);
    for (i = 0; i < src->n; i++) {
        dst->e[i].k = blob_ref(src->e[i].k);
        dst->e[i].v = blob_ref(src->e[i].v);
    }
}

static void model_free(struct model *m)
{
    size_t i;
    for (i = 0; i < m->n; i++) {
        blob_unref(m->e[i].k);
        blob_unref(m->e[i].v);
    }
    zfree(m->e);
    memset(m, 0, sizeof *m);
}

/* ---- keys and values ---- */

#define HOT_KEYS 1500
#define COLD_KEYS 60000
#define SHORT_KEYS 64
#define MAX_KEY 2800

/* Key number idx -> bytes. Numbers < SHORT_KEYS are one-byte keys (0x00 ..
 * 0xfc, plus the empty key for 0); the others are "%06u" followed by 0..20
 * pseudo-random bytes fixed by idx, so distinct numbers give distinct keys
 * and neighbouring numbers share prefixes; one key in 61 is 200..2700 bytes
 * long (longer than a 1 KB block). */
static size_t key_of(uint64_t idx, char *out)
{
    uint64_t h = mix(idx * 7919 + 17);
    size_t n, pad, i;

    if (idx == 0)
        return 0;
    if (idx < SHORT_KEYS) {
        out[0] = (char)(unsigned char)(idx * 4);
        return 1;
    }
    n = (size_t)snprintf(out, MAX_KEY, "%06" PRIu64, idx);
    pad = (h & 3) == 0 ? 0 : (size_t)((h >> 2) % 21);
    if (h % 61 == 0)        /* now and then a key longer than a block */
        pad = 200 + (size_t)((h >> 8) % 2500);
    for (i = 0; i < pad; i++) {
        h = mix(h);
        out[n + i] = (h & 1) ? (char)('a' + (h >> 8) % 26) : (char)(h >> 8);
    }
    return n + pad;
}

/* A key number biased to a hot set so overwrites and deletes hit. */
static uint64_t pick_idx(void)
{
    uint64_t r = rnd_n(100);
    if (r < 60)
        return SHORT_KEYS + rnd_n(HOT_KEYS);
    if (r < 64)
        return rnd_n(SHORT_KEYS);
    return SHORT_KEYS + rnd_n(COLD_KEYS);
}

/* A key for a read or a seek: mostly from the key space, sometimes any
 * short byte string (usually absent). */
static size_t pick_read_key(const struct model *m, char *out)
{
    uint64_t r = rnd_n(100);
    if (r < 40 && m->n > 0) {
        const struct blob *k = m->e[rnd_n(m->n)].k;
        memcpy(out, k->data, k->len);
        return k->len;
    }
    if (r < 90)
        return key_of(pick_idx(), out);
    {
        size_t n = rnd_n(9), i;
        for (i = 0; i < n; i++)
            out[i] = (char)(rnd_n(4) == 0 ? rnd() : '0' + rnd_n(10));
        return n;
    }
}

static char valbuf[40000];

/* A fresh value: mostly small, sometimes several blocks; compressible or
 * not; tagged with the op number. */
static struct blob *make_value(uint64_t op)
{
    uint64_t r = rnd_n(100);
    size_t n, i;

    if (r < 65)
        n = rnd_n(65);
    else if (r < 90)
        n = 64 + rnd_n(1000);
    else if (r < 99)
        n = 1000 + rnd_n(4000);
    else
        n = 5000 + rnd_n(30000);
    if (rnd_n(2)) {
        for (i = 0; i < n; i++)
            valbuf[i] = (char)('A' + (i + op) % 7);
    } else {
        for (i = 0; i < n; i += 8) {
            uint64_t x = rnd();
            memcpy(valbuf + i, &x, n - i < 8 ? n - i : 8);
        }
    }
    if (n >= 12)
        snprintf(valbuf, 12, "%011" PRIu64, (uint64_t)(op % 100000000000ull));
    return blob_new(valbuf, n);
}

/* ---- state ---- */

static uint64_t seed, op_no;
static char base[4096], dir[4200];
static struct lsm_db *db;
static struct model cur;
static const char *op_desc = "";
static char op_buf[256];

#define MAX_SNAPS 4
struct snap {
    const struct lsm_snapshot *s;
    struct model m;
    uint64_t taken_at;
};
static struct snap snaps[MAX_SNAPS];
static int nsnaps;

/* An iterator that lives across later writes: sees its model copy. */
struct liter {
    struct lsm_iter *it;
    struct model m;     /* state at creation */
    char lo[MAX_KEY], up[MAX_KEY];
    size_t lon, upn;
    int has_lo, has_up;
    long pos;           /* model index, -1 invalid */
    uint64_t created_at;
};
static struct liter live;
static int live_on;

static struct {
    uint64_t puts, dels, batches, gets, snapgets, iter_moves, flushes, compacts, reopens,
        scans, gcs;
    uint64_t gc_runs, gc_rewritten;     /* value-log GC work, over every open */
} counts;

/* ---- reporting ---- */

static void hexdump(char *out, size_t outn, const char *p, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < n && o + 5 < outn; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == 48 && n > 56) {
            o += (size_t)snprintf(out + o, outn - o, "...(%zu bytes)", n);
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outn - o, "\\x%02x", c);
    }
    out[o < outn ? o : outn - 1] = 0;
}

static void fail_now(const char *what, const char *key, size_t kn, const char *exp,
                     size_t expn, int exp_present, const char *act, size_t actn,
                     int act_present)
{
    char kb[400], eb[400], ab[400];

    hexdump(kb, sizeof kb, key ? key : "", key ? kn : 0);
    hexdump(eb, sizeof eb, exp ? exp : "", exp ? expn : 0);
    hexdump(ab, sizeof ab, act ? act : "", act ? actn : 0);
    tap_diag("MISMATCH seed=%" PRIu64 " op=%" PRIu64 " (%s): %s", seed, op_no, op_desc, what);
    tap_diag("  key      = \"%s\" (len %zu)", kb, key ? kn : 0);
    tap_diag("  expected = %s%s%s (len %zu)", exp_present ? "\"" : "<absent>",
             exp_present ? eb : "", exp_present ? "\"" : "", exp_present ? expn : 0);
    tap_diag("  actual   = %s%s%s (len %zu)", act_present ? "\"" : "<absent>",
             act_present ? ab : "", act_present ? "\"" : "", act_present ? actn : 0);
    tap_diag("  last engine error: %s", lsm_last_error());
    tap_diag("  reproduce: SEED=%" PRIu64 " OPS=%" PRIu64 " KEEP=1 tests/unit/test_model",
             seed, op_no);
    tap_diag("  database kept in %s", dir);
    tap_ok(0, "ops match the model (seed %" PRIu64 ")", seed);
    exit(tap_done());
}

static void fail_rc(const char *what, int rc)
{
    tap_diag("ERROR seed=%" PRIu64 " op=%" PRIu64 " (%s): %s returned %d (%s): %s", seed,
             op_no, op_desc, what, rc, lsm_strerror(rc), lsm_last_error());
    tap_diag("  reproduce: SEED=%" PRIu64 " OPS=%" PRIu64 " KEEP=1 tests/unit/test_model",
             seed, op_no);
    tap_diag("  database kept in %s", dir);
    tap_ok(0, "ops match the model (seed %" PRIu64 ")", seed);
    exit(tap_done());
}

/* ---- options ---- */

static void random_options(struct lsm_options *o)
{
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = 128 << 10;
    o->block_size = 1024;
    o->max_bytes_for_level_base = 256 << 10;
    o->level_size_multiplier = 4 + (int)rnd_n(7);
    o->l0_compaction_trigger = 2 + (int)rnd_n(3);
    o->block_restart_interval = 1 + (int)rnd_n(16);
    o->bloom_bits_per_key = rnd_n(4) == 0 ? 0 : 10;
    o->compression = rnd_n(3) == 0 ? LSM_COMPRESSION_NONE : LSM_COMPRESSION_SNAPPY;
    o->block_cache_size = rnd_n(2) ? (256 << 10) : (8 << 20);
    o->max_open_files = rnd_n(3) == 0 ? 12 : 100;
    o->bg_threads = 1 + (int)rnd_n(3);
    o->paranoid_checks = rnd_n(4) == 0;
    o->max_write_buffers = 2 + (int)rnd_n(2);
    /* Key/value separation: values above the threshold go to small value-log
     * segments, so segments are sealed, gain garbage and get collected
     * (automatically and by op_vlog_gc) while the model is checked; 0 turns
     * separation off across a reopen (old pointers must stay readable). */
    {
        static const size_t thresholds[] = { 0, 32, 200, 1024, 4096 };
        o->value_separation_threshold = thresholds[rnd_n(5)];
    }
    o->vlog_file_size = (uint64_t)(16 + rnd_n(240)) << 10;
    o->vlog_gc_ratio = rnd_n(4) == 0 ? 2.0 : 0.1 + (double)rnd_n(5) / 10.0;
    o->vlog_gc_max_mbps = 0;
}

static void open_db(void)
{
    struct lsm_options o;
    int rc;
    random_options(&o);
    rc = lsm_open(dir, &o, &db);
    if (rc != 0)
        fail_rc("lsm_open", rc);
}

/* ---- checks ---- */

static void check_get(const struct model *m, const struct lsm_snapshot *s, const char *k,
                      size_t kn)
{
    struct lsm_read_options ro;
    struct blob *exp = model_get(m, k, kn);
    char *v = NULL;
    size_t vn = 0;
    int rc;

    lsm_read_options_init(&ro);
    ro.snapshot = s;
    ro.fill_cache = rnd_n(8) != 0;
    rc = lsm_get(db, &ro, k, kn, &v, &vn);
    if (rc != 0 && rc != LSM_ENOTFOUND)
        fail_rc("lsm_get", rc);
    if (rc == LSM_ENOTFOUND && exp != NULL)
        fail_now("lsm_get says absent", k, kn, exp->data, exp->len, 1, NULL, 0, 0);
    if (rc == 0 && exp == NULL)
        fail_now("lsm_get found a key the model does not have", k, kn, NULL, 0, 0, v, vn, 1);
    if (rc == 0 && (vn != exp->len || (vn && memcmp(v, exp->data, vn) != 0)))
        fail_now("lsm_get returned a wrong value", k, kn, exp->data, exp->len, 1, v, vn, 1);
    lsm_free(v);
}

/* Model iterator over m restricted to [lo, up). */
struct miter {
    const struct model *m;
    long lo, hi, pos;
};

static void miter_init(struct miter *mi, const struct model *m, const char *lo, size_t lon,
                       int has_lo, const char *up, size_t upn, int has_up)
{
    mi->m = m;
    mi->lo = has_lo ? (long)model_lower(m, lo, lon) : 0;
    mi->hi = has_up ? (long)model_lower(m, up, upn) : (long)m->n;
    mi->pos = -1;
}

enum move { MV_FIRST, MV_LAST, MV_SEEK, MV_SEEK_PREV, MV_NEXT, MV_PREV, MV_COUNT };
static const char *const move_names[] = { "seek_to_first", "seek_to_last", "seek",
                                          "seek_for_prev", "next", "prev" };

static void miter_move(struct miter *mi, enum move mv, const char *k, size_t kn)
{
    long i;
    switch (mv) {
    case MV_FIRST:
        mi->pos = mi->lo < mi->hi ? mi->lo : -1;
        break;
    case MV_LAST:
        mi->pos = mi->hi > mi->lo ? mi->hi - 1 : -1;
        break;
    case MV_SEEK:
        i = (long)model_lower(mi->m, k, kn);
        if (i < mi->lo)
            i = mi->lo;
        mi->pos = i < mi->hi ? i : -1;
        break;
    case MV_SEEK_PREV:
        i = (long)model_upper(mi->m, k, kn) - 1;
        if (i > mi->hi - 1)
            i = mi->hi - 1;
        mi->pos = i >= mi->lo ? i : -1;
        break;
    case MV_NEXT:
        if (mi->pos >= 0)
            mi->pos = mi->pos + 1 < mi->hi ? mi->pos + 1 : -1;
        break;
    case MV_PREV:
        if (mi->pos >= 0)
            mi->pos = mi->pos - 1 >= mi->lo ? mi->pos - 1 : -1;
        break;
    default:
        break;
    }
}

static void iter_apply(struct lsm_iter *it, enum move mv, const char *k, size_t kn)
{
    switch (mv) {
    case MV_FIRST: lsm_iter_seek_to_first(it); break;
    case MV_LAST: lsm_iter_seek_to_last(it); break;
    case MV_SEEK: lsm_iter_seek(it, k, kn); break;
    case MV_SEEK_PREV: lsm_iter_seek_for_prev(it, k, kn); break;
    case MV_NEXT: lsm_iter_next(it); break;
    case MV_PREV: lsm_iter_prev(it); break;
    default: break;
    }
}

static void iter_compare(struct lsm_iter *it, const struct miter *mi, const char *what)
{
    int valid = lsm_iter_valid(it), st = lsm_iter_status(it);
    char msg[512];

    if (st != 0)
        fail_rc(what, st);
    if (!valid && mi->pos < 0)
        return;
    if (valid && mi->pos >= 0) {
        size_t kn, vn;
        const char *k = lsm_iter_key(it, &kn);
        const char *v = lsm_iter_value(it, &vn);
        const struct ent *e = &mi->m->e[mi->pos];
        if (kn != e->k->len || (kn && memcmp(k, e->k->data, kn) != 0)) {
            snprintf(msg, sizeof msg, "%s: iterator on a wrong key (key shown: expected key)",
                     what);
            fail_now(msg, e->k->data, e->k->len, e->k->data, e->k->len, 1, k, kn, 1);
        }
        if (vn != e->v->len || (vn && memcmp(v, e->v->data, vn) != 0)) {
            snprintf(msg, sizeof msg, "%s: iterator value differs", what);
            fail_now(msg, k, kn, e->v->data, e->v->len, 1, v, vn, 1);
        }
        return;
    }
    if (valid) {
        size_t kn;
        const char *k = lsm_iter_key(it, &kn);
        snprintf(msg, sizeof msg, "%s: iterator valid, model at end", what);
        fail_now(msg, k, kn, NULL, 0, 0, k, kn, 1);
    }
    {
        const struct ent *e = &mi->m->e[mi->pos];
        snprintf(msg, sizeof msg, "%s: iterator invalid, model has a key", what);
        fail_now(msg, e->k->data, e->k->len, e->k->data, e->k->len, 1, NULL, 0, 0);
    }
}

static void random_bounds(const struct model *m, char *lo, size_t *lon, int *has_lo, char *up,
                          size_t *upn, int *has_up)
{
    *has_lo = rnd_n(10) < 3;
    *has_up = rnd_n(10) < 3;
    if (*has_lo)
        *lon = pick_read_key(m, lo);
    if (*has_up)
        *upn = pick_read_key(m, up);
    /* Usually a non-empty range; sometimes lower > upper (empty). */
    if (*has_lo && *has_up && rnd_n(8) != 0 && bytes_cmp(lo, *lon, up, *upn) > 0) {
        char t[MAX_KEY];
        size_t tn = *lon;
        memcpy(t, lo, *lon);
        memcpy(lo, up, *upn);
        *lon = *upn;
        memcpy(up, t, tn);
        *upn = tn;
    }
}

static struct lsm_iter *iter_open(const struct lsm_snapshot *s, const char *lo, size_t lon,
                                  int has_lo, const char *up, size_t upn, int has_up)
{
    struct lsm_read_options ro;
    lsm_read_options_init(&ro);
    ro.snapshot = s;
    ro.fill_cache = rnd_n(4) != 0;
    if (has_lo) {
        ro.lower_bound = lo;
        ro.lower_bound_len = lon;
    }
    if (has_up) {
        ro.upper_bound = up;
        ro.upper_bound_len = upn;
    }
    return lsm_iter_create(db, &ro);
}

static enum move random_move(int valid)
{
    uint64_t r = rnd_n(100);
    if (!valid || r < 15)
        return (enum move)rnd_n(4);
    return r < 60 ? MV_NEXT : MV_PREV;
}

static void do_moves(struct lsm_iter *it, struct miter *mi, int n, const char *kind)
{
    char k[MAX_KEY + 16], what[160];
    int i;

    for (i = 0; i < n; i++) {
        enum move mv = random_move(mi->pos >= 0);
        size_t kn = 0;
        if (mv == MV_SEEK || mv == MV_SEEK_PREV)
            kn = pick_read_key(mi->m, k);
        miter_move(mi, mv, k, kn);
        iter_apply(it, mv, k, kn);
        snprintf(what, sizeof what, "%s, move %d: %s", kind, i, move_names[mv]);
        iter_compare(it, mi, what);
        counts.iter_moves++;
    }
}

/* A short iterator session at the latest state or at a snapshot. */
static void op_iter_session(void)
{
    char lo[MAX_KEY], up[MAX_KEY];
    size_t lon = 0, upn = 0;
    int has_lo, has_up, si = nsnaps > 0 && rnd_n(3) == 0 ? (int)rnd_n((uint64_t)nsnaps) : -1;
    const struct model *m = si >= 0 ? &snaps[si].m : &cur;
    struct lsm_iter *it;
    struct miter mi;

    random_bounds(m, lo, &lon, &has_lo, up, &upn, &has_up);
    snprintf(op_buf, sizeof op_buf, "iterator session at %s, bounds %s%s",
             si >= 0 ? "a snapshot" : "latest", has_lo ? "lower " : "",
             has_up ? "upper" : "");
    op_desc = op_buf;
    it = iter_open(si >= 0 ? snaps[si].s : NULL, lo, lon, has_lo, up, upn, has_up);
    miter_init(&mi, m, lo, lon, has_lo, up, upn, has_up);
    do_moves(it, &mi, 1 + (int)rnd_n(25), "iterator session");
    lsm_iter_destroy(it);
}

static void live_destroy(void)
{
    if (!live_on)
        return;
    lsm_iter_destroy(live.it);
    model_free(&live.m);
    live_on = 0;
}

/* A long-lived iterator: created now, moved now and in later ops. */
static void op_live_iter(void)
{
    struct miter mi;

    if (live_on && rnd_n(10) == 0) {
        live_destroy();
        return;
    }
    if (!live_on) {
        random_bounds(&cur, live.lo, &live.lon, &live.has_lo, live.up, &live.upn,
                      &live.has_up);
        model_copy(&live.m, &cur);
        live.it = iter_open(NULL, live.lo, live.lon, live.has_lo, live.up, live.upn,
                            live.has_up);
        live.pos = -1;
        live.created_at = op_no;
        live_on = 1;
    }
    snprintf(op_buf, sizeof op_buf, "long-lived iterator created at op %" PRIu64,
             live.created_at);
    op_desc = op_buf;
    miter_init(&mi, &live.m, live.lo, live.lon, live.has_lo, live.up, live.upn, live.has_up);
    mi.pos = live.pos;
    do_moves(live.it, &mi, 1 + (int)rnd_n(6), "long-lived iterator");
    live.pos = mi.pos;
}

/* Full scans, forward and backward, of the latest state. */
static void full_scan(const char *why)
{
    struct lsm_iter *it = iter_open(NULL, NULL, 0, 0, NULL, 0, 0);
    struct miter mi;
    char what[128];
    size_t i;

    snprintf(op_buf, sizeof op_buf, "full scan (%s)", why);
    op_desc = op_buf;
    miter_init(&mi, &cur, NULL, 0, 0, NULL, 0, 0);
    miter_move(&mi, MV_FIRST, NULL, 0);
    lsm_iter_seek_to_first(it);
    for (i = 0; i <= cur.n; i++) {
        snprintf(what, sizeof what, "forward scan, entry %zu of %zu", i, cur.n);
        iter_compare(it, &mi, what);
        miter_move(&mi, MV_NEXT, NULL, 0);
        lsm_iter_next(it);
    }
    miter_move(&mi, MV_LAST, NULL, 0);
    lsm_iter_seek_to_last(it);
    for (i = 0; i <= cur.n; i++) {
        snprintf(what, sizeof what, "backward scan, entry %zu from the end", i);
        iter_compare(it, &mi, what);
        miter_move(&mi, MV_PREV, NULL, 0);
        lsm_iter_prev(it);
    }
    lsm_iter_destroy(it);
    counts.scans++;
}

/* ---- writes ---- */

static struct lsm_write_options random_wo(void)
{
    struct lsm_write_options wo;
    wo.sync = rnd_n(100) == 0;
    return wo;
}

static void op_put(void)
{
    char k[MAX_KEY];
    size_t kn = key_of(pick_idx(), k);
    struct blob *v = make_value(op_no);
    struct lsm_write_options wo = random_wo();
    int rc;

    op_desc = "put";
    rc = lsm_put(db, &wo, k, kn, v->data, v->len);
    if (rc != 0)
        fail_rc("lsm_put", rc);
    model_put(&cur, k, kn, v);
    blob_unref(v);
    counts.puts++;
}

static void op_delete(void)
{
    char k[MAX_KEY];
    size_t kn;
    struct lsm_write_options wo = random_wo();
    int rc;

    if (cur.n > 0 && rnd_n(10) < 7) {
        const struct blob *b = cur.e[rnd_n(cur.n)].k;
        memcpy(k, b->data, b->len);
        kn = b->len;
    } else {
        kn = key_of(pick_idx(), k);
    }
    op_desc = "delete";
    rc = lsm_delete(db, &wo, k, kn);
    if (rc != 0)
        fail_rc("lsm_delete", rc);
    model_del(&cur, k, kn);
    counts.dels++;
}

/* A batch of puts and deletes, sometimes of the same key twice (the later
 * operation wins). Applied to the model only after lsm_write returned 0. */
static void op_batch(void)
{
    struct lsm_batch *b = lsm_batch_create();
    struct {
        char k[MAX_KEY];
        size_t kn;
        struct blob *v;
        char pd[LSM_PATCH_MAX];     /* a patch's bytes (pn > 0) */
        size_t pn;
    } ops[40];
    int n = 1 + (int)rnd_n(rnd_n(4) == 0 ? 40 : 8), i, rc;
    struct lsm_write_options wo = random_wo();

    for (i = 0; i < n; i++) {
        ops[i].kn = key_of(pick_idx(), ops[i].k);
        if (i > 0 && rnd_n(6) == 0) {   /* same key as an earlier op */
            int j = (int)rnd_n((uint64_t)i);
            memcpy(ops[i].k, ops[j].k, ops[j].kn);
            ops[i].kn = ops[j].kn;
        }
        ops[i].pn = 0;
        ops[i].v = NULL;
        if (rnd_n(5) == 0) {            /* a patch, of a key that may be absent */
            ops[i].pn = 1 + (size_t)rnd_n(LSM_PATCH_MAX);
            for (size_t j = 0; j < ops[i].pn; j++)
                ops[i].pd[j] = (char)('A' + rnd_n(26));
            if (lsm_batch_patch(b, ops[i].k, ops[i].kn, ops[i].pd, ops[i].pn) != 0)
                fail_rc("lsm_batch_patch", LSM_EINVAL);
            continue;
        }
        ops[i].v = rnd_n(4) == 0 ? NULL : make_value(op_no * 64 + (uint64_t)i);
        if (ops[i].v)
            lsm_batch_put(b, ops[i].k, ops[i].kn, ops[i].v->data, ops[i].v->len);
        else
            lsm_batch_delete(b, ops[i].k, ops[i].kn);
    }
    if (lsm_batch_count(b) != (uint32_t)n) {
        tap_diag("seed=%" PRIu64 " op=%" PRIu64 ": lsm_batch_count %u, expected %d", seed,
                 op_no, lsm_batch_count(b), n);
        tap_ok(0, "batch count");
        exit(tap_done());
    }
    snprintf(op_buf, sizeof op_buf, "batch of %d", n);
    op_desc = op_buf;
    rc = lsm_write(db, &wo, b);
    if (rc != 0)
        fail_rc("lsm_write", rc);
    for (i = 0; i < n; i++) {
        if (ops[i].pn > 0) {
            model_patch(&cur, ops[i].k, ops[i].kn, ops[i].pd, ops[i].pn);
        } else if (ops[i].v) {
            model_put(&cur, ops[i].k, ops[i].kn, ops[i].v);
            blob_unref(ops[i].v);
        } else {
            model_del(&cur, ops[i].k, ops[i].kn);
        }
    }
    lsm_batch_destroy(b);
    counts.batches++;
}

/* ---- reads, snapshots, maintenance ---- */

static void op_get(void)
{
    char k[MAX_KEY + 16];
    size_t kn = pick_read_key(&cur, k);
    op_desc = "get";
    check_get(&cur, NULL, k, kn);
    counts.gets++;
}

static void op_snap_get(void)
{
    struct snap *s;
    char k[MAX_KEY + 16];
    size_t kn;

    if (nsnaps == 0)
        return;
    s = &snaps[rnd_n((uint64_t)nsnaps)];
    kn = pick_read_key(rnd_n(2) ? &s->m : &cur, k);
    snprintf(op_buf, sizeof op_buf, "get at the snapshot taken at op %" PRIu64, s->taken_at);
    op_desc = op_buf;
    check_get(&s->m, s->s, k, kn);
    counts.snapgets++;
}

static void op_snap_create(void)
{
    struct snap *s;
    if (nsnaps == MAX_SNAPS)
        return;
    s = &snaps[nsnaps++];
    s->s = lsm_snapshot_create(db);
    model_copy(&s->m, &cur);
    s->taken_at = op_no;
}

static void snap_release(int i)
{
    lsm_snapshot_release(db, snaps[i].s);
    model_free(&snaps[i].m);
    snaps[i] = snaps[--nsnaps];
}

static void op_snap_release(void)
{
    if (nsnaps > 0)
        snap_release((int)rnd_n((uint64_t)nsnaps));
}

static void op_flush(void)
{
    int wait = rnd_n(2), rc;
    op_desc = wait ? "lsm_flush(wait)" : "lsm_flush(nowait)";
    rc = lsm_flush(db, wait);
    if (rc != 0)
        fail_rc("lsm_flush", rc);
    counts.flushes++;
}

static void op_compact(void)
{
    char b[MAX_KEY + 16], e[MAX_KEY + 16];
    size_t bn = 0, en = 0;
    int full = rnd_n(6) == 0, rc;

    if (!full) {
        bn = pick_read_key(&cur, b);
        en = pick_read_key(&cur, e);
        if (bytes_cmp(b, bn, e, en) > 0) {
            char t[MAX_KEY + 16];
            size_t tn = bn;
            memcpy(t, b, bn);
            memcpy(b, e, en);
            bn = en;
            memcpy(e, t, tn);
            en = tn;
        }
    }
    op_desc = full ? "lsm_compact_range(all)" : "lsm_compact_range(range)";
    rc = full ? lsm_compact_range(db, NULL, 0, NULL, 0) : lsm_compact_range(db, b, bn, e, en);
    if (rc != 0)
        fail_rc("lsm_compact_range", rc);
    counts.compacts++;
    if (full && rnd_n(4) == 0)
        full_scan("after a full compaction");
}

static void add_gc_stats(void)
{
    struct lsm_stats st;
    if (lsm_get_stats(db, &st) != 0)
        fail_rc("lsm_get_stats", LSM_EIO);
    counts.gc_runs += st.vlog_gc_runs;
    counts.gc_rewritten += st.vlog_gc_bytes_rewritten;
}

static void op_vlog_gc(void)
{
    int force = (int)rnd_n(2), rc;
    op_desc = force ? "lsm_vlog_gc(force)" : "lsm_vlog_gc";
    rc = lsm_vlog_gc(db, force);
    if (rc != 0)
        fail_rc("lsm_vlog_gc", rc);
    counts.gcs++;
    if (force && rnd_n(4) == 0)
        full_scan("after a forced value-log GC");
}

static void op_reopen(void)
{
    int rc;
    live_destroy();
    while (nsnaps > 0)
        snap_release(nsnaps - 1);
    add_gc_stats();
    op_desc = "lsm_close";
    rc = lsm_close(db);
    db = NULL;
    if (rc != 0)
        fail_rc("lsm_close", rc);
    op_desc = "lsm_open (reopen)";
    open_db();
    counts.reopens++;
    full_scan("after reopen");
}


/* ---- concurrent phase: threads on disjoint key prefixes ----
 * lsm_db is documented as safe from many threads. Each thread owns the keys
 * "t<id>/..." and a private model (only it writes them, so its reads must
 * match its model exactly, whatever the other threads and the background
 * do); the main thread flushes, compacts and takes snapshots meanwhile.
 * At the end a scan of each prefix, before and after a reopen, must equal
 * the thread's model. */

#define CTHREADS 4

struct cthread {
    int id;
    uint64_t rs;           /* private random state */
    uint64_t ops;
    struct model m;
    int failed;
    char msg[600];
    pthread_t th;
};

static atomic_int conc_stop;       /* set by the main thread, read by workers */

static uint64_t crnd(struct cthread *t)
{
    t->rs = mix(t->rs);
    return t->rs;
}

static size_t ckey(struct cthread *t, uint64_t idx, char *out)
{
    size_t n = (size_t)snprintf(out, 8, "t%d/", t->id);
    return n + key_of(SHORT_KEYS + idx, out + n);
}

static struct blob *cvalue(struct cthread *t, uint64_t op)
{
    char buf[3000];
    size_t n = crnd(t) % 16 == 0 ? 500 + crnd(t) % 2500 : crnd(t) % 120, i;
    for (i = 0; i < n; i++)
        buf[i] = (char)('a' + (op + i * 7 + (uint64_t)t->id) % 26);
    if (n >= 10)
        snprintf(buf, 10, "%09" PRIu64, (uint64_t)(op % 1000000000u));
    return blob_new(buf, n);
}

static void cfail(struct cthread *t, const char *what, const char *k, size_t kn)
{
    char kb[200];
    if (t->failed)
        return;
    hexdump(kb, sizeof kb, k, kn);
    snprintf(t->msg, sizeof t->msg, "thread %d, its op %" PRIu64 ": %s (key \"%s\"; engine: %s)",
             t->id, t->ops, what, kb, lsm_last_error());
    t->failed = 1;
}

/* Scan of t's prefix equals t's model. */
static void cscan(struct cthread *t, const char *when)
{
    char lo[8], up[8], what[200];
    struct lsm_read_options ro;
    struct lsm_iter *it;
    size_t i = 0, ln = (size_t)snprintf(lo, sizeof lo, "t%d/", t->id);
    int reverse = (int)(crnd(t) % 2);

    memcpy(up, lo, ln);
    up[ln - 1] = '/' + 1;
    lsm_read_options_init(&ro);
    ro.lower_bound = lo;
    ro.lower_bound_len = ln;
    ro.upper_bound = up;
    ro.upper_bound_len = ln;
    it = lsm_iter_create(db, &ro);
    if (reverse)
        lsm_iter_seek_to_last(it);
    else
        lsm_iter_seek_to_first(it);
    for (; lsm_iter_valid(it); reverse ? lsm_iter_prev(it) : lsm_iter_next(it), i++) {
        size_t kn, vn;
        const char *k = lsm_iter_key(it, &kn), *v = lsm_iter_value(it, &vn);
        const struct ent *e = i < t->m.n ? &t->m.e[reverse ? t->m.n - 1 - i : i] : NULL;
        if (e == NULL || kn != e->k->len || memcmp(k, e->k->data, kn) != 0 ||
            vn != e->v->len || (vn && memcmp(v, e->v->data, vn) != 0)) {
            snprintf(what, sizeof what, "%s: %s scan entry %zu differs from the model "
                     "(%zu keys)", when, reverse ? "backward" : "forward", i, t->m.n);
            cfail(t, what, k, kn);
            break;
        }
    }
    if (!t->failed && (i != t->m.n || lsm_iter_status(it) != 0)) {
        snprintf(what, sizeof what, "%s: scan saw %zu keys, the model has %zu (status %d)",
                 when, i, t->m.n, lsm_iter_status(it));
        cfail(t, what, lo, ln);
    }
    lsm_iter_destroy(it);
}

static void *cthread_main(void *arg)
{
    struct cthread *t = arg;
    struct lsm_batch *b = lsm_batch_create();

    while (!conc_stop && !t->failed) {
        uint64_t r = crnd(t) % 100;
        struct lsm_write_options wo = { .sync = crnd(t) % 50 == 0 };
        char k[MAX_KEY + 8];
        size_t kn = ckey(t, crnd(t) % 3000, k);
        int rc;

        t->ops++;
        if (r < 45) {
            struct blob *v = cvalue(t, t->ops);
            rc = lsm_put(db, &wo, k, kn, v->data, v->len);
            if (rc != 0)
                cfail(t, "lsm_put failed", k, kn);
            else
                model_put(&t->m, k, kn, v);
            blob_unref(v);
        } else if (r < 55) {
            rc = lsm_delete(db, &wo, k, kn);
            if (rc != 0)
                cfail(t, "lsm_delete failed", k, kn);
            else
                model_del(&t->m, k, kn);
        } else if (r < 65) {
            struct blob *vs[8];
            char ks[8][MAX_KEY + 8];
            size_t kns[8];
            int n = 1 + (int)(crnd(t) % 8), i;
            lsm_batch_clear(b);
            for (i = 0; i < n; i++) {
                kns[i] = ckey(t, crnd(t) % 3000, ks[i]);
                vs[i] = crnd(t) % 4 ? cvalue(t, t->ops * 8 + (uint64_t)i) : NULL;
                if (vs[i])
                    lsm_batch_put(b, ks[i], kns[i], vs[i]->data, vs[i]->len);
                else
                    lsm_batch_delete(b, ks[i], kns[i]);
            }
            rc = lsm_write(db, &wo, b);
            if (rc != 0)
                cfail(t, "lsm_write failed", ks[0], kns[0]);
            for (i = 0; i < n; i++) {
                if (rc == 0 && vs[i])
                    model_put(&t->m, ks[i], kns[i], vs[i]);
                else if (rc == 0)
                    model_del(&t->m, ks[i], kns[i]);
                blob_unref(vs[i]);
            }
        } else if (r < 97) {
            struct blob *exp = model_get(&t->m, k, kn);
            char *v = NULL;
            size_t vn = 0;
            rc = lsm_get(db, NULL, k, kn, &v, &vn);
            if (rc != 0 && rc != LSM_ENOTFOUND)
                cfail(t, "lsm_get failed", k, kn);
            else if ((rc == 0) != (exp != NULL))
                cfail(t, rc == 0 ? "lsm_get found a key the thread deleted or never wrote"
                                 : "lsm_get lost a key the thread wrote", k, kn);
            else if (exp && (vn != exp->len || (vn && memcmp(v, exp->data, vn) != 0)))
                cfail(t, "lsm_get returned a value the thread did not write last", k, kn);
            lsm_free(v);
        } else if (r < 99) {
            cscan(t, "during the concurrent phase");
        } else if (lsm_sync(db) != 0) {
            cfail(t, "lsm_sync failed", k, kn);
        }
    }
    lsm_batch_destroy(b);
    return NULL;
}

static void concurrent_phase(uint64_t millis)
{
    static struct cthread ts[CTHREADS];
    char cdir[4300];
    int i, rc, failed = 0;
    uint64_t total = 0, main_ops = 0;
    struct timeval a, b;

    snprintf(cdir, sizeof cdir, "%s/concurrent", base);
    {
        struct lsm_options o;
        random_options(&o);
        o.bg_threads = 2;
        rc = lsm_open(cdir, &o, &db);
        if (rc != 0) {
            tap_ok(0, "concurrent phase: open: %s", lsm_last_error());
            return;
        }
    }
    conc_stop = 0;
    for (i = 0; i < CTHREADS; i++) {
        memset(&ts[i], 0, sizeof ts[i]);
        ts[i].id = i;
        ts[i].rs = seed * 31 + (uint64_t)i * 1000003u + 7;
        pthread_create(&ts[i].th, NULL, cthread_main, &ts[i]);
    }
    gettimeofday(&a, NULL);
    for (;;) {
        uint64_t r = rnd_n(10);
        gettimeofday(&b, NULL);
        if ((uint64_t)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_usec - a.tv_usec) / 1000) >= millis)
            break;
        if (r < 4) {
            rc = lsm_flush(db, (int)rnd_n(2));
        } else if (r < 5) {
            rc = lsm_compact_range(db, NULL, 0, NULL, 0);
        } else if (r < 8) {
            const struct lsm_snapshot *sn = lsm_snapshot_create(db);
            struct lsm_read_options ro;
            struct lsm_iter *it;
            int n = 0;
            lsm_read_options_init(&ro);
            ro.snapshot = sn;
            it = lsm_iter_create(db, &ro);
            for (lsm_iter_seek_to_first(it); lsm_iter_valid(it) && n < 2000; lsm_iter_next(it))
                n++;
            rc = lsm_iter_status(it);
            lsm_iter_destroy(it);
            lsm_snapshot_release(db, sn);
        } else {
            struct lsm_stats st;
            rc = lsm_get_stats(db, &st);
            usleep(2000);
        }
        main_ops++;
        if (rc != 0) {
            tap_diag("concurrent phase: main thread op failed: %d %s", rc, lsm_last_error());
            failed++;
            break;
        }
        usleep(1000 * (useconds_t)rnd_n(20));
    }
    conc_stop = 1;
    for (i = 0; i < CTHREADS; i++) {
        pthread_join(ts[i].th, NULL);
        total += ts[i].ops;
    }
    for (i = 0; i < CTHREADS; i++)
        if (!ts[i].failed)
            cscan(&ts[i], "after the threads stopped");
    rc = lsm_close(db);
    db = NULL;
    if (rc != 0) {
        tap_diag("concurrent phase: close: %s", lsm_last_error());
        failed++;
    } else {
        struct lsm_options o;
        random_options(&o);
        rc = lsm_open(cdir, &o, &db);
        if (rc != 0) {
            tap_diag("concurrent phase: reopen: %s", lsm_last_error());
            failed++;
        } else {
            for (i = 0; i < CTHREADS; i++)
                if (!ts[i].failed)
                    cscan(&ts[i], "after reopen");
            lsm_close(db);
            db = NULL;
        }
    }
    for (i = 0; i < CTHREADS; i++) {
        if (ts[i].failed) {
            tap_diag("MISMATCH seed=%" PRIu64 " concurrent phase: %s", seed, ts[i].msg);
            failed++;
        }
        model_free(&ts[i].m);
    }
    tap_ok(failed == 0, "concurrent phase: %d threads, %" PRIu64 " ops on disjoint prefixes "
           "beside %" PRIu64 " flushes/compactions/snapshot scans: every thread's reads and "
           "scans match its model, also after reopen (seed %" PRIu64 ")", CTHREADS, total,
           main_ops, seed);
}


/* ---- compaction filter (lsm.h: a filtered entry becomes absent) ---- */

static int drop_filter(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
    (void)key;
    (void)klen;
    __atomic_add_fetch((uint64_t *)arg, 1, __ATOMIC_RELAXED);
    return vlen >= 4 && memcmp(val, "DROP", 4) == 0;
}

/* Old values at the bottom, then "DROP" values for keys 0..99 and new
 * values for 100..149, compacted while a snapshot taken before them lives:
 * the snapshot keeps seeing the old values; the latest view has keys 0..99
 * absent (not resurrected from the older versions), 100..149 new, 150..199
 * old; the same after the snapshot is released, another compaction and a
 * reopen. */
static void compaction_filter_phase(void)
{
    char fdir[4300], k[32], v[64];
    struct lsm_options o;
    struct lsm_write_options wo = { 0 };
    const struct lsm_snapshot *sn;
    uint64_t calls = 0;
    int i, rc, round, bad = 0;
    char first_bad[200] = "";

    snprintf(fdir, sizeof fdir, "%s/filter", base);
    random_options(&o);
    o.compaction_filter = drop_filter;
    o.compaction_filter_arg = &calls;
    if ((rc = lsm_open(fdir, &o, &db)) != 0) {
        tap_ok(0, "compaction filter: open: %s", lsm_last_error());
        return;
    }
    for (i = 0; i < 200; i++)
        lsm_put(db, &wo, k, (size_t)snprintf(k, sizeof k, "cf%04d", i), v,
                (size_t)snprintf(v, sizeof v, "old%d", i));
    lsm_compact_range(db, NULL, 0, NULL, 0);
    sn = lsm_snapshot_create(db);
    for (i = 0; i < 150; i++)
        lsm_put(db, &wo, k, (size_t)snprintf(k, sizeof k, "cf%04d", i), v,
                (size_t)snprintf(v, sizeof v, "%s%d", i < 100 ? "DROP" : "new", i));
    lsm_compact_range(db, NULL, 0, NULL, 0);
    for (round = 0; round < 4; round++) {
        const struct lsm_snapshot *at = round == 0 ? sn : NULL;
        if (round == 1) {
            lsm_snapshot_release(db, sn);
            lsm_compact_range(db, NULL, 0, NULL, 0);
        } else if (round == 2) {
            lsm_close(db);
            random_options(&o);
            o.compaction_filter = drop_filter;
            o.compaction_filter_arg = &calls;
            if ((rc = lsm_open(fdir, &o, &db)) != 0) {
                tap_ok(0, "compaction filter: reopen: %s", lsm_last_error());
                return;
            }
        } else if (round == 3) {
            lsm_compact_range(db, NULL, 0, NULL, 0);
        }
        for (i = 0; i < 200; i++) {
            struct lsm_read_options ro;
            char *got = NULL, want[64];
            size_t gn = 0;
            int wn = at || i >= 150 ? snprintf(want, sizeof want, "old%d", i)
                     : i >= 100 ? snprintf(want, sizeof want, "new%d", i) : -1;
            lsm_read_options_init(&ro);
            ro.snapshot = at;
            rc = lsm_get(db, &ro, k, (size_t)snprintf(k, sizeof k, "cf%04d", i), &got, &gn);
            if (wn < 0 ? rc != LSM_ENOTFOUND
                       : rc != 0 || gn != (size_t)wn || memcmp(got, want, gn) != 0) {
                if (bad++ == 0)
                    snprintf(first_bad, sizeof first_bad, "%s, %s: %s is %s%.*s%s, expected "
                             "%s", round == 0 ? "at the snapshot" : round == 1 ?
                             "after release + compaction" : round == 2 ? "after reopen" :
                             "after another compaction", "lsm_get", k, rc ? "" : "\"",
                             rc ? 0 : (int)gn, rc ? "" : got, rc ? lsm_strerror(rc) : "\"",
                             wn < 0 ? "absent" : want);
            }
            lsm_free(got);
        }
    }
    lsm_close(db);
    db = NULL;
    tap_ok(bad == 0 && calls > 0, "compaction filter: filtered keys become absent (older "
           "versions stay hidden), a snapshot older than them keeps its view (%" PRIu64
           " filter calls; %d wrong%s%s)", calls, bad, bad ? ": " : "", first_bad);
}

static uint64_t env_u64(int argc, char **argv, const char *name, uint64_t def)
{
    size_t n = strlen(name);
    const char *s = getenv(name);
    int i;
    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            s = argv[i] + n + 1;
    return s && *s ? strtoull(s, NULL, 0) : def;
}

int main(int argc, char **argv)
{
    struct timeval tv;
    uint64_t ops, keep, conc_ms;
    struct lsm_stats st;
    int l, deepest = 0, rc;
    time_t t0 = time(NULL);

    gettimeofday(&tv, NULL);
    seed = env_u64(argc, argv, "SEED", ((uint64_t)tv.tv_sec * 1000003u) ^ (uint64_t)tv.tv_usec ^
                                           ((uint64_t)getpid() << 20));
    ops = env_u64(argc, argv, "OPS", 50000);
    keep = env_u64(argc, argv, "KEEP", 0);
    conc_ms = env_u64(argc, argv, "CONC_MS", 3000);
    rng_state = seed;
    tap_diag("test_model: SEED=%" PRIu64 " OPS=%" PRIu64, seed, ops);
    dt_mkdtemp(base, sizeof base);
    snprintf(dir, sizeof dir, "%s/db", base);
    {
        char logp[4300];
        snprintf(logp, sizeof logp, "%s/engine.log", base);
        if (log_open_file(logp) != 0)
            tap_diag("could not open %s", logp);
    }
    tap_diag("database in %s (engine log: %s/engine.log)", dir, base);
    open_db();

    for (op_no = 1; op_no <= ops; op_no++) {
        uint64_t r = rnd_n(1000);
        if (r < 300)
            op_put();
        else if (r < 390)
            op_delete();
        else if (r < 470)
            op_batch();
        else if (r < 680)
            op_get();
        else if (r < 740)
            op_snap_get();
        else if (r < 800)
            op_iter_session();
        else if (r < 830)
            op_live_iter();
        else if (r < 845)
            op_snap_create();
        else if (r < 858)
            op_snap_release();
        else if (r < 862)
            op_flush();
        else if (r < 864)
            op_compact();
        else if (r < 865)
            op_reopen();
        else if (r < 868)
            op_vlog_gc();
        else
            op_put();
    }
    op_no = ops + 1;
    full_scan("end of run");
    rc = lsm_get_stats(db, &st);
    if (rc != 0)
        fail_rc("lsm_get_stats", rc);
    add_gc_stats();
    for (l = 0; l < LSM_STATS_LEVELS; l++)
        if (st.level[l].files > 0)
            deepest = l;
    tap_diag("%" PRIu64 " puts, %" PRIu64 " deletes, %" PRIu64 " batches, %" PRIu64
             " gets, %" PRIu64 " snapshot gets, %" PRIu64 " iterator moves, %" PRIu64
             " flushes, %" PRIu64 " compact_range, %" PRIu64 " reopens, %" PRIu64
             " full scans; %zu live keys; %ld s",
             counts.puts, counts.dels, counts.batches, counts.gets, counts.snapgets,
             counts.iter_moves, counts.flushes, counts.compacts, counts.reopens, counts.scans,
             cur.n, (long)(time(NULL) - t0));
    for (l = 0; l < LSM_STATS_LEVELS; l++)
        if (st.level[l].files > 0)
            tap_diag("L%d: %d files, %" PRIu64 " bytes", l, st.level[l].files,
                     st.level[l].bytes);
    tap_diag("value-log GC: %" PRIu64 " passes called, %" PRIu64 " segments collected, %"
             PRIu64 " bytes rewritten", counts.gcs, counts.gc_runs, counts.gc_rewritten);
    tap_ok(1, "%" PRIu64 " random ops match the model (seed %" PRIu64 ")", ops, seed);
    if (ops >= 20000)
        tap_ok(counts.gc_runs > 0 && counts.gc_rewritten > 0,
               "value-log GC collected segments and rewrote live values during the run");
    if (ops >= 20000)
        tap_ok(deepest >= 2, "data reached level %d (small options give several levels)",
               deepest);
    live_destroy();
    while (nsnaps > 0)
        snap_release(nsnaps - 1);
    rc = lsm_close(db);
    db = NULL;
    tap_ok(rc == 0, "lsm_close: %s", rc ? lsm_last_error() : "ok");
    model_free(&cur);
    compaction_filter_phase();
    if (conc_ms > 0)
        concurrent_phase(conc_ms);
    if (!keep && tap_failed == 0)
        dt_rmrf(base);
    return tap_done();
}
