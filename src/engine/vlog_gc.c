/* vlog_gc.c: the value log inside a database (see vlog_gc.h and
 * docs/format-vlog.md): recovery, separation, resolution, discard
 * accounting, garbage collection and removal of collected segments. */
#include "engine/vlog_gc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/batch.h"
#include "engine/cache.h"
#include "engine/db_impl.h"
#include "engine/memtable.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/io.h"
#include "util/log.h"
#include "util/tpool.h"
#include "util/zmalloc.h"

#define GC_BATCH_BYTES (1u << 20)
#define VLOG_MAP_SLACK (4u << 20)       /* mapped beyond vlog_file_size */

struct seg_size { uint64_t number, size; int unsealed; };

/* A collected segment waiting until nothing can reach it. */
struct pending_rm {
    uint64_t number, size;
    uint64_t seq;             /* last sequence after its live entries moved */
    uint64_t wal;             /* WAL that was active then */
    uint64_t sv;              /* super version installed then (db_impl.h) */
};

struct vlog_db {
    struct lsm_db *db;
    struct vlog *vl;
    size_t threshold;
    uint64_t file_size;
    double gc_ratio;
    double gc_mbps;
    struct lsm_batch sep, gcb;      /* leader only */
    struct buf tmp;                 /* leader only */
    struct buf hot;                 /* leader only: vcache_old_place */
    int broken;                     /* leader / mu */
    struct vlog_view views;         /* (mu) list head */
    struct cache *vcache;           /* separated values read, NULL = none */
    size_t vcache_max;              /* largest value it takes */
    uint32_t *seen;                 /* doorkeeper: tags of entries read once */
    size_t seen_mask;
    struct seg_size *rec; int nrec; /* recovered segments (open/replay) */
    uint64_t *unknown; int nunknown, cunknown;  /* (mu) discard unknown */
    struct pending_rm *rm; int nrm, crm;        /* (mu) */
    uint64_t gc_segment;            /* (mu) being collected, 0 none */
    int gc_running, purge_running;  /* (mu) */
    int gc_job_queued;              /* (mu) */
    int roll_requested;             /* (mu) seal the active segment at the next write */
    /* Rolled segments whose fsync + manifest seal runs in the pool (mu):
     * a sync write waits for them (vlog before WAL). */
    struct sealing { uint64_t number, size; struct io_file *f; } *sealing;
    int nsealing, csealing;
    int seal_queued;                /* a seal job is submitted, not started */
    int seal_running;               /* a thread is in seal_run_locked */
    uint64_t gc_runs, gc_rewritten, gc_reclaimed;   /* (mu) */
    /* The next segment, prepared in the pool once the active one is half
     * full: created, header synced, disk reserved, directory synced, named
     * in the manifest (unsealed). A roll then only swaps it in, and the
     * loop does none of those fsyncs. (mu) */
    struct vlog_prepared next;
    enum { NEXT_NONE, NEXT_PREPARING, NEXT_READY } next_state;
    uint64_t next_tried;            /* active segment it was last started for */
};

static struct vlog_db *VD(struct lsm_db *db)
{
    return db->vlog.arg;
}

static void seg_path(struct buf *out, const char *dir, uint64_t number)
{
    buf_clear(out);
    db_file_path(out, dir, DB_FILE_VLOG, number);
    buf_cstr(out);
}

/* ---- hooks ---- */

/* Readahead for scans over values laid out in order (written in key order,
 * or rewritten by GC): when this thread's reads walk a segment forward,
 * the OS is asked for the next PREFETCH_WINDOW bytes, once per window.
 * Random layouts cost nothing (no hint). */
#define PREFETCH_WINDOW (256u << 10)
static __thread struct { uint64_t seg, end, ahead; } pf;

static void maybe_prefetch(struct vlog_db *vd, const struct vlog_ptr *p)
{
    uint64_t end = p->offset + p->length;
    if (p->segment == pf.seg && p->offset >= pf.end && p->offset - pf.end <= (64u << 10)) {
        if (end + (64u << 10) > pf.ahead) {
            struct vlog_ptr w = *p;
            w.offset = end;
            w.length = PREFETCH_WINDOW;
            vlog_prefetch(vd->vl, &w);
            pf.ahead = end + PREFETCH_WINDOW;
        }
    } else {
        pf.ahead = 0;
    }
    pf.seg = p->segment;
    pf.end = end;
}

/* ---- the value cache ---- */

/* A cached value: the key its entry holds, then the decoded value (with
 * the prefix of the pointer it was read through: every pointer carries
 * the first min(len, 16) bytes, which a hit overwrites). Entries never go
 * stale: a segment's entries never change and its number is never reused
 * while the process runs; a value GC moved is cached again at its new
 * place, and the old one ages out. */
struct vcached {
    size_t klen, vlen;
    char data[];
};

static void vcache_key(const struct vlog_ptr *p, char out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (char)(p->segment >> (56 - 8 * i));
        out[8 + i] = (char)(p->offset >> (56 - 8 * i));
    }
}

static void vcached_free(struct slice key, void *value)
{
    (void)key;
    zfree(value);
}

/* 1 when the entry p names is cached for key: lent (*pin holds the cache
 * entry, *data / *len its value) when pin is not NULL and the cached bytes
 * start with the pointer's prefix, else copied into value. */
static int vcache_get(struct vlog_db *vd, const struct vlog_ptr *p, struct slice key,
                      struct buf *value, const char **data, size_t *len, void **pin)
{
    char k[16];
    vcache_key(p, k);
    struct cache_handle *h = cache_lookup(vd->vcache, slice_make(k, sizeof k));
    if (h == NULL)
        return 0;
    const struct vcached *e = cache_value(h);
    int ok = e->vlen == p->value_len && e->klen == key.len &&
             memcmp(e->data, key.data, key.len) == 0;
    const char *v = e->data + e->klen;
    if (ok && pin && memcmp(v, p->prefix, p->prefix_len) == 0) {
        *data = v;
        *len = e->vlen;
        *pin = h;
        return 1;
    }
    if (ok) {
        buf_set(value, v, e->vlen);
        memcpy(value->data, p->prefix, p->prefix_len);
    }
    cache_release(vd->vcache, h);
    return ok;
}

/* The doorkeeper's slot for the entry of cache key k, and the tag that
 * marks it read once. */
static uint32_t *seen_slot(struct vlog_db *vd, const char k[16], uint32_t *tag)
{
    uint64_t h = hash64(k, 16, 0);
    *tag = (uint32_t)(h >> 32) | 1;
    return &vd->seen[h & vd->seen_mask];
}

/* Caches a value just read, on its second read within the doorkeeper's
 * memory: random reads over more values than fit (most read once) then
 * cost a tag check, not a copy and an eviction each. Races between
 * threads on a tag only lose or add an admission. */
static void vcache_put(struct vlog_db *vd, const struct vlog_ptr *p, struct slice key,
                       const struct buf *value)
{
    if (value->len > vd->vcache_max)
        return;
    char k[16];
    uint32_t tag;
    vcache_key(p, k);
    uint32_t *slot = seen_slot(vd, k, &tag);
    if (__atomic_load_n(slot, __ATOMIC_RELAXED) != tag) {
        __atomic_store_n(slot, tag, __ATOMIC_RELAXED);
        return;
    }
    __atomic_store_n(slot, 0, __ATOMIC_RELAXED);
    size_t charge = sizeof(struct vcached) + key.len + value->len;
    struct vcached *e = zmalloc(charge);
    e->klen = key.len;
    e->vlen = value->len;
    memcpy(e->data, key.data, key.len);
    memcpy(e->data + key.len, value->data, value->len);
    cache_release(vd->vcache,
                  cache_insert(vd->vcache, slice_make(k, sizeof k), e, charge, vcached_free));
}

/* A value of VCACHE_HOT_MIN bytes or more that replaces one the cache holds
 * is a read-modify-write of a large value (APPEND, SETBIT, SETRANGE of a
 * big string): each rewrite moves it to a new place, so without this its
 * next read would miss and pay a pread, a CRC and snappy for all of it
 * (46% of the server's CPU in a SETBIT loop on a 1 MiB string). Smaller
 * values are left to the doorkeeper: the lookup of the old place is a
 * point read, too much for every 4 KB SET. */
#define VCACHE_HOT_MIN (64u << 10)

/* 1 when key's latest version is a pointer (its cache key in old[16]).
 * The write leader only (no other write runs). */
static int vcache_old_place(struct vlog_db *vd, struct slice key, char old[16])
{
    struct vlog_ptr p;
    int type;

    buf_clear(&vd->hot);
    if (db_get_latest(vd->db, key, &vd->hot, &type) != 1 || type != LSM_TYPE_VPTR ||
        vlog_ptr_decode(buf_slice(&vd->hot), &p) != 0)
        return 0;
    vcache_key(&p, old);
    return 1;
}

/* A value just written at p replaced the one at old: when that one was
 * read lately (the cache held it, or the doorkeeper remembers its first
 * read: the read of a read-modify-write), the new one is cached in its
 * place. The check itself counts as no hit or miss. */
static void vcache_replace(struct vlog_db *vd, const char old[16], const struct vlog_ptr *p,
                           struct slice key, struct slice value)
{
    char k[16];
    uint32_t tag;
    int seen = __atomic_load_n(seen_slot(vd, old, &tag), __ATOMIC_RELAXED) == tag;
    if (!cache_erase(vd->vcache, slice_make(old, 16)) && !seen)
        return;
    size_t charge = sizeof(struct vcached) + key.len + value.len;
    struct vcached *e = zmalloc(charge);
    e->klen = key.len;
    e->vlen = value.len;
    memcpy(e->data, key.data, key.len);
    memcpy(e->data + key.len, value.data, value.len);
    vcache_key(p, k);
    cache_release(vd->vcache,
                  cache_insert(vd->vcache, slice_make(k, sizeof k), e, charge, vcached_free));
}

/* A get's or an iterator's value: the entry must hold key (a pointer that
 * names another key's entry is corruption, not that key's value). With pin
 * not NULL a cached value may be lent instead of copied (lend_hook). */
static int resolve_value(struct vlog_db *vd, struct slice key, struct slice ptr,
                         struct buf *value, const char **data, size_t *len, void **pin)
{
    struct vlog_ptr p;
    int rc;

    if (pin)
        *pin = NULL;
    if (vlog_ptr_decode(ptr, &p) != 0) {
        db_set_error(LSM_ECORRUPT, "malformed value pointer");
        return LSM_ECORRUPT;
    }
    maybe_prefetch(vd, &p);
    if (vd->vcache && vcache_get(vd, &p, key, value, data, len, pin))
        return 0;
    rc = vlog_read(vd->vl, &p, &key, value);
    if (rc != 0)
        db_set_error(rc, "%s", vlog_last_error());
    else if (vd->vcache)
        vcache_put(vd, &p, key, value);
    return rc;
}

static int resolve_hook(void *arg, struct slice key, struct slice ptr, struct buf *value)
{
    return resolve_value(arg, key, ptr, value, NULL, NULL, NULL);
}

static int lend_hook(void *arg, struct slice key, struct slice ptr, struct buf *value,
                     const char **data, size_t *len, void **pin)
{
    return resolve_value(arg, key, ptr, value, data, len, pin);
}

static void unpin_hook(void *arg, void *pin)
{
    struct vlog_db *vd = arg;
    cache_release(vd->vcache, pin);
}

void vlog_discard_add(struct version_edit *e, struct slice ptr)
{
    struct vlog_ptr p;
    int i;

    if (vlog_ptr_decode(ptr, &p) != 0)
        return;
    for (i = 0; i < e->nvlog_discard; i++)
        if (e->vlog_discard[i].number == p.segment) {
            e->vlog_discard[i].value += p.length;
            return;
        }
    version_edit_vlog_discard(e, p.segment, p.length);
}

/* An iterator's lookahead: ask the OS for the value's bytes now. */
static void prefetch_hook(void *arg, struct slice ptr)
{
    struct vlog_db *vd = arg;
    struct vlog_ptr p;
    if (vlog_ptr_decode(ptr, &p) == 0)
        vlog_prefetch(vd->vl, &p);
}

int vlog_db_same_place(struct slice a, struct slice b)
{
    struct vlog_ptr pa, pb;
    return vlog_ptr_decode(a, &pa) == 0 && vlog_ptr_decode(b, &pb) == 0 &&
           pa.segment == pb.segment && pa.offset == pb.offset;
}

int vlog_db_patch_pointer(struct slice ptr, struct slice data, struct buf *out)
{
    struct vlog_ptr p;
    if (vlog_ptr_decode(ptr, &p) != 0) {
        db_set_error(LSM_ECORRUPT, "malformed value pointer");
        return LSM_ECORRUPT;
    }
    memcpy(p.prefix, data.data, data.len < p.prefix_len ? data.len : p.prefix_len);
    vlog_ptr_encode(&p, out);
    return 0;
}

static void dropped_hook(void *arg, struct slice ptr, struct slice newer, struct version_edit *e)
{
    (void)arg;
    if (newer.len > 0 && vlog_db_same_place(ptr, newer))
        return;     /* a patched version still points there */
    vlog_discard_add(e, ptr);
}

/* ---- compaction filter ---- */

int vlog_db_filter(struct lsm_db *db, struct slice ukey, int type, struct slice val,
                   struct buf *newval)
{
    struct vlog_db *vd = VD(db);
    struct lsm_filter_entry fe;
    struct vlog_ptr p;
    struct buf full = BUF_INIT;
    int act = LSM_FILTER_KEEP;

    fe.key = ukey.data;
    fe.klen = ukey.len;
    fe.value = val.data;
    fe.vlen = fe.value_len = val.len;
    fe.value_is_prefix = 0;
    if (type == LSM_TYPE_VPTR) {
        if (vlog_ptr_decode(val, &p) != 0)
            return LSM_FILTER_KEEP;
        if (db->opt.compaction_filter_ex != NULL) {
            fe.value = p.prefix;
            fe.vlen = p.prefix_len;
            fe.value_len = p.value_len;
            fe.value_is_prefix = 1;
        } else {
            /* The plain filter wants the whole value: read it (kept on error). */
            if (vd == NULL || vlog_read(vd->vl, &p, &ukey, &full) != 0) {
                buf_free(&full);
                return LSM_FILTER_KEEP;
            }
            fe.value = full.data ? full.data : "";
            fe.vlen = fe.value_len = full.len;
        }
    }
    if (db->opt.compaction_filter_ex != NULL) {
        const char *nv = NULL;
        size_t nl = 0;
        act = db->opt.compaction_filter_ex(db->opt.compaction_filter_arg, &fe, &nv, &nl);
        if (act == LSM_FILTER_REPLACE)
            buf_set(newval, nv ? nv : "", nl);
        else if (act != LSM_FILTER_DROP)
            act = LSM_FILTER_KEEP;
    } else if (db->opt.compaction_filter(db->opt.compaction_filter_arg, fe.key, fe.klen,
                                         fe.value, fe.vlen)) {
        act = LSM_FILTER_DROP;
    }
    buf_free(&full);
    return act;
}

int vlog_db_pointer_prefix(struct slice ptr, struct slice *prefix, size_t *full_len)
{
    /* The prefix is the tail of the encoding (vlog_ptr_encode). */
    struct vlog_ptr p;
    if (vlog_ptr_decode(ptr, &p) != 0) {
        db_set_error(LSM_ECORRUPT, "malformed value pointer");
        return LSM_ECORRUPT;
    }
    *prefix = slice_make(ptr.data + ptr.len - p.prefix_len, p.prefix_len);
    *full_len = p.value_len;
    return 1;
}

/* ---- open / close ---- */

struct dir_segs { uint64_t *v; int n, cap; };

static int list_vlog(const char *name, void *arg)
{
    struct dir_segs *d = arg;
    uint64_t num;
    if (db_file_parse(name, &num) != DB_FILE_VLOG)
        return 0;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = zrealloc(d->v, sizeof(*d->v) * (size_t)d->cap);
    }
    d->v[d->n++] = num;
    return 0;
}

static void rec_add(struct vlog_db *vd, uint64_t number, uint64_t size, int unsealed)
{
    vd->rec = zrealloc(vd->rec, sizeof(*vd->rec) * (size_t)(vd->nrec + 1));
    vd->rec[vd->nrec].number = number;
    vd->rec[vd->nrec].size = size;
    vd->rec[vd->nrec].unsealed = unsealed;
    vd->nrec++;
}

static void unknown_add(struct vlog_db *vd, uint64_t number)
{
    if (vd->nunknown == vd->cunknown) {
        vd->cunknown = vd->cunknown ? vd->cunknown * 2 : 8;
        vd->unknown = zrealloc(vd->unknown, sizeof(*vd->unknown) * (size_t)vd->cunknown);
    }
    vd->unknown[vd->nunknown++] = number;
}

/* *out = the end of the last non-zero byte of path from off on (the zeros
 * after it are the space a mapped segment allocated ahead,
 * vlog_map_segments). 0 or -errno. */
static int data_end(struct lsm_db *db, const char *path, uint64_t off, uint64_t *out)
{
    struct io_file *f = NULL;
    int rc = io_open_read(db->env, path, &f);

    *out = off;
    if (rc != 0)
        return rc;
    rc = io_file_data_end(f, off, out);
    io_file_close(f);
    return rc;
}

/* An unsealed segment (size 0 in the manifest): keep its valid prefix. */
static int recover_unsealed(struct vlog_db *vd, uint64_t number, struct version_edit *e)
{
    struct lsm_db *db = vd->db;
    struct buf path = BUF_INIT;
    struct vlog_scanner *s = NULL;
    struct slice k, st;
    uint64_t off, fsize = 0, end, dend;
    uint32_t len;
    int flags, rc;

    seg_path(&path, db->dir, number);
    rc = io_get_size(db->env, path.data, &fsize);
    if (rc == -ENOENT || (rc == 0 && fsize < VLOG_FILE_HEADER_SIZE)) {
        /* Created but nothing durable in it: no pointer can name it. */
        version_edit_vlog_remove(e, number);
        io_unlink(db->env, path.data);
        rc = 0;
        goto out;
    }
    if (rc != 0) {
        int e2 = -rc;
        rc = version_errno(rc);
        db_set_error(rc, "%s: stat: %s", path.data, strerror(e2));
        goto out;
    }
    rc = vlog_scan_open(db->env, path.data, number, UINT64_MAX, &s);
    if (rc == LSM_ECORRUPT) {
        /* A header that never became durable: nothing in it either. */
        log_warning("lsm: %s: %s; segment dropped", path.data, vlog_last_error());
        version_edit_vlog_remove(e, number);
        io_unlink(db->env, path.data);
        rc = 0;
        goto out;
    }
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        goto out;
    }
    while ((rc = vlog_scan_next(s, &k, &st, &flags, &off, &len)) == 1)
        ;
    if (rc < 0) {
        db_set_error(rc, "%s", vlog_last_error());
        goto out;
    }
    end = vlog_scan_end(s);
    if ((rc = data_end(db, path.data, end, &dend)) != 0) {
        int e2 = -rc;
        rc = version_errno(rc);
        db_set_error(rc, "%s: read: %s", path.data, strerror(e2));
        goto out;
    }
    if (dend == VLOG_FILE_HEADER_SIZE) {
        /* Only a header (a segment prepared for a roll, never used): no
         * pointer can name it. */
        version_edit_vlog_remove(e, number);
        io_unlink(db->env, path.data);
        goto out;
    }
    /* Zeros after the data: the space a mapped segment allocated ahead,
     * not a loss; given back (best effort). */
    if (dend < fsize)
        (void)io_truncate(db->env, path.data, dend);
    if (end < dend)
        /* Not truncated: the bytes stay as evidence for the replay check
         * (a valid entry beyond `end` means damage, not a torn tail). */
        log_warning("lsm: %s: torn tail of %" PRIu64 " bytes at offset %" PRIu64
                    " (%s) ignored", path.data, dend - end, end, vlog_scan_why(s));
    version_edit_vlog_add(e, number, end);
    vlog_seg_add(vd->vl, number, end);
    rec_add(vd, number, end, 1);
    unknown_add(vd, number);
out:
    vlog_scan_close(s);
    buf_free(&path);
    return rc;
}

static int in_manifest(struct lsm_db *db, uint64_t number)
{
    int i;
    for (i = 0; i < db->vs->nvlog; i++)
        if (db->vs->vlog[i].number == number)
            return 1;
    return 0;
}

int vlog_db_open(struct lsm_db *db, struct version_edit *e)
{
    struct vlog_db *vd = zcalloc(sizeof *vd);
    struct dir_segs d = { NULL, 0, 0 };
    struct buf path = BUF_INIT;
    int i, rc = 0;

    vd->db = db;
    vd->threshold = db->opt.value_separation_threshold;
    vd->file_size = db->opt.vlog_file_size;
    vd->gc_ratio = db->opt.vlog_gc_ratio;
    vd->gc_mbps = db->opt.vlog_gc_max_mbps;
    vd->vl = vlog_create(db->env, db->dir, db->opt.compression == LSM_COMPRESSION_SNAPPY);
    if (db->opt.value_cache_size > 0 && !db->opt.paranoid_checks) {   /* those check every read */
        /* One doorkeeper tag per 4 KiB of cache (16 Ki for 64 MiB): a value
         * read again within about as many reads as the cache holds 4 KiB
         * values gets in; one read again only after many more (a working
         * set larger than the cache) mostly finds its tag overwritten. */
        size_t n = 1024;
        while (n < db->opt.value_cache_size / 4096 && n < (1u << 22))
            n <<= 1;
        vd->vcache = cache_create(db->opt.value_cache_size);
        vd->vcache_max = db->opt.value_cache_size / 32;   /* 2 MiB of 64: a 1 MiB bitmap fits */
        vd->seen = zcalloc(n * sizeof(*vd->seen));
        vd->seen_mask = n - 1;
    }
    /* A segment ends with the entry that crosses vlog_file_size; entries
     * past the mapping are written with pwrite. */
    if (db->opt.mapped_logs)
        vlog_map_segments(vd->vl, db->opt.vlog_file_size + VLOG_MAP_SLACK);
    vd->views.next = vd->views.prev = &vd->views;
    batch_init(&vd->sep);
    batch_init(&vd->gcb);
    db->vlog.arg = vd;
    db->vlog.resolve = resolve_hook;
    db->vlog.lend = lend_hook;
    db->vlog.unpin = unpin_hook;
    db->vlog.dropped = dropped_hook;
    db->vlog.prefetch = prefetch_hook;

    for (i = 0; i < db->vs->nvlog && rc == 0; i++) {
        struct vlog_segment *s = &db->vs->vlog[i];
        uint64_t fsize = 0;
        if (s->size == 0) {
            rc = recover_unsealed(vd, s->number, e);
            continue;
        }
        seg_path(&path, db->dir, s->number);
        rc = io_get_size(db->env, path.data, &fsize);
        if (rc != 0 || fsize < s->size) {
            rc = LSM_ECORRUPT;
            db_set_error(rc, "%s: value-log segment %s (manifest size %" PRIu64 ")",
                         path.data, fsize < s->size && fsize ? "truncated" : "missing",
                         s->size);
            break;
        }
        vlog_seg_add(vd->vl, s->number, s->size);
        rec_add(vd, s->number, s->size, 0);
    }
    /* Segment files the manifest does not name: created, never used. */
    if (rc == 0 && io_list_dir(db->env, db->dir, list_vlog, &d) == 0) {
        for (i = 0; i < d.n; i++)
            if (!in_manifest(db, d.v[i])) {
                seg_path(&path, db->dir, d.v[i]);
                log_notice("lsm: removing unreferenced value-log segment %s", path.data);
                io_unlink(db->env, path.data);
            }
    }
    zfree(d.v);
    buf_free(&path);
    return rc;
}

void vlog_db_close(struct lsm_db *db)
{
    struct vlog_db *vd = VD(db);
    int i;
    if (vd == NULL)
        return;
    for (i = 0; i < vd->nsealing; i++) {
        io_file_sync(vd->sealing[i].f);
        io_file_close(vd->sealing[i].f);
    }
    zfree(vd->sealing);
    /* A prepared segment left (no clean close): recovery seals it empty. */
    io_file_close(vd->next.f);
    vlog_destroy(vd->vl);
    if (vd->vcache)
        cache_destroy(vd->vcache);
    zfree(vd->seen);
    batch_free(&vd->sep);
    batch_free(&vd->gcb);
    buf_free(&vd->tmp);
    buf_free(&vd->hot);
    zfree(vd->rec);
    zfree(vd->unknown);
    zfree(vd->rm);
    zfree(vd);
    db->vlog.arg = NULL;
    db->vlog.resolve = NULL;
    db->vlog.lend = NULL;
    db->vlog.unpin = NULL;
    db->vlog.dropped = NULL;
}

static int replay_op(void *arg, int type, struct slice key, struct slice value)
{
    struct vlog_db *vd = arg;
    struct vlog_ptr p;
    int i;
    (void)key;
    if (type != LSM_TYPE_VPTR)
        return 0;
    if (vlog_ptr_decode(value, &p) != 0)
        return 2;
    for (i = 0; i < vd->nrec; i++)
        if (vd->rec[i].number == p.segment) {
            uint64_t size = vd->rec[i].size;    /* offset + length may wrap */
            if (p.length <= size && p.offset <= size - p.length)
                return 0;
            if (vd->rec[i].unsealed) {
                /* Past the valid prefix of a segment that was active at the
                 * crash. Past every sync point: a torn tail, or a hole of
                 * unsynced pages written back out of order; this record
                 * was never acknowledged as durable (replay stops here).
                 * Inside what a sync made durable: corruption. */
                uint64_t marked = db_marked_upto(vd->db, MARK_VLOG, p.segment);
                char path[64];
                if (marked <= size)
                    return 1;
                snprintf(path, sizeof path, "%06" PRIu64 ".vlog", p.segment);
                db_set_error(LSM_ECORRUPT, "%s/%s: offset %" PRIu64 ": damaged entry inside "
                             "what a sync made durable (up to %" PRIu64 ")", vd->db->dir, path,
                             size, marked);
                return 2;
            }
            return 1;
        }
    return 1;
}

int vlog_db_replay_check(struct lsm_db *db, struct slice contents)
{
    struct vlog_db *vd = VD(db);
    int rc = batch_iterate_contents(contents, replay_op, vd);
    if (rc == 2 && *lsm_last_error() == '\0')
        db_set_error(LSM_ECORRUPT, "malformed value pointer in a WAL record");
    return rc == 2 ? 2 : rc != 0;
}

int vlog_db_seal(struct lsm_db *db)
{
    struct vlog_db *vd = VD(db);
    struct version_edit e;
    uint64_t num, size;
    int rc;

    if (vd != NULL && vd->next_state == NEXT_READY && db->bg_error == 0) {
        /* Never used: out of the manifest, then deleted. */
        version_edit_init(&e);
        version_edit_vlog_remove(&e, vd->next.number);
        rc = version_set_log_and_apply(db->vs, &e, &db->mu);
        version_edit_free(&e);
        if (rc != 0) {
            db_set_error(rc, "%s", db->vs->errmsg);
            return rc;
        }
        vlog_prepared_discard(vd->vl, &vd->next);
        vd->next_state = NEXT_NONE;
    }
    if (vd == NULL || !vlog_has_active(vd->vl) || vd->broken || db->bg_error != 0)
        return 0;
    rc = vlog_seal(vd->vl, &num, &size);
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        return rc;
    }
    version_edit_init(&e);
    version_edit_vlog_add(&e, num, size);
    rc = version_set_log_and_apply(db->vs, &e, &db->mu);
    if (rc != 0)
        db_set_error(rc, "%s", db->vs->errmsg);
    version_edit_free(&e);
    return rc;
}

int vlog_db_enabled(struct lsm_db *db)
{
    return VD(db) != NULL && VD(db)->threshold > 0;
}

/* ---- write path ---- */

static int big_op(void *arg, int type, struct slice key, struct slice value)
{
    struct vlog_db *vd = arg;
    (void)key;
    return type == LSM_TYPE_VALUE && value.len >= vd->threshold;
}

static int has_big(struct vlog_db *vd, struct lsm_batch *b)
{
    return vd->threshold > 0 && b != NULL && batch_iterate(b, big_op, vd) == 1;
}

/* Fsyncs rolled segments, then records their final size (mu held, released
 * during I/O; one thread at a time: the caller saw seal_running clear). */
static void seal_run_locked(struct lsm_db *db, struct vlog_db *vd)
{
    vd->seal_running = 1;
    while (vd->nsealing > 0) {
        struct sealing sg = vd->sealing[0];
        struct version_edit e;
        int rc;
        pthread_mutex_unlock(&db->mu);
        rc = io_file_sync(sg.f);
        if (rc != 0) {
            rc = version_errno(rc);
            db_set_error(rc, "%s/%06" PRIu64 ".vlog: sync: %s", db->dir, sg.number,
                         lsm_strerror(rc));
        }
        io_file_close(sg.f);
        if (rc == 0) {
            /* Give back the space reserved past the end (off the loop: it
             * can wait for a discard). A failure only leaves it allocated. */
            struct buf path = BUF_INIT;
            seg_path(&path, db->dir, sg.number);
            (void)io_truncate(db->env, path.data, sg.size);
            buf_free(&path);
        }
        pthread_mutex_lock(&db->mu);
        if (rc == 0) {
            version_edit_init(&e);
            version_edit_vlog_add(&e, sg.number, sg.size);
            rc = version_set_log_and_apply(db->vs, &e, &db->mu);
            if (rc != 0)
                db_set_error(rc, "%s", db->vs->errmsg);
            version_edit_free(&e);
        }
        if (rc != 0)
            db_set_bg_error(db, rc, lsm_last_error());
        memmove(vd->sealing, vd->sealing + 1, sizeof(*vd->sealing) * (size_t)(vd->nsealing - 1));
        __atomic_store_n(&vd->nsealing, vd->nsealing - 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&db->bg_cv);
    }
    vd->seal_running = 0;
    pthread_cond_broadcast(&db->bg_cv);
}

/* Pool job: seal_run_locked, unless a waiter already does the work. */
static void seal_job(void *arg)
{
    struct lsm_db *db = arg;
    struct vlog_db *vd = VD(db);
    pthread_mutex_lock(&db->mu);
    vd->seal_queued = 0;
    if (!vd->seal_running)
        seal_run_locked(db, vd);
    pthread_mutex_unlock(&db->mu);
}

/* Waits until every rolled segment is fsynced (mu held). Does the work
 * itself unless a thread is doing it: a seal job only queued may sit
 * behind pool threads that are all waiting here (a flush, a retired
 * WAL's sync). */
static void wait_sealed(struct lsm_db *db, struct vlog_db *vd)
{
    while (vd->nsealing > 0) {
        if (!vd->seal_running)
            seal_run_locked(db, vd);
        else
            pthread_cond_wait(&db->bg_cv, &db->mu);
    }
}

/* A prepared segment reserves its whole size only while the disk has this
 * many times that free. */
#define PREPARE_RESERVE_HEADROOM 8

/* Pool job: prepares the next segment (see struct vlog_db). */
static void prepare_next_job(void *arg)
{
    struct lsm_db *db = arg;
    struct vlog_db *vd = VD(db);
    struct vlog_prepared p;
    struct version_edit e;
    uint64_t number, free_bytes = 0, reserve = vd->file_size;
    int rc;

    pthread_mutex_lock(&db->mu);
    if (db->closing || db->bg_error != 0) {
        vd->next_state = NEXT_NONE;
        pthread_mutex_unlock(&db->mu);
        return;
    }
    number = version_set_new_file_number(db->vs);
    pthread_mutex_unlock(&db->mu);
    /* The whole segment's space ahead, unless the disk is getting full:
     * then the writer reserves as it goes, so that space stays free for
     * flushes and compactions until values really need it. */
    if (io_free_space(db->env, db->dir, &free_bytes) != 0 ||
        free_bytes / PREPARE_RESERVE_HEADROOM < vd->file_size)
        reserve = 0;
    rc = vlog_prepare_segment(vd->vl, number, reserve, &p);
    if (rc == 0 && (rc = io_sync_dir(db->env, db->dir)) != 0) {
        rc = version_errno(rc);
        db_set_error(rc, "%s: fsync dir: %s", db->dir, lsm_strerror(rc));
    }
    pthread_mutex_lock(&db->mu);
    if (rc == 0 && !db->closing && db->bg_error == 0) {
        version_edit_init(&e);
        version_edit_vlog_add(&e, number, 0);
        rc = version_set_log_and_apply(db->vs, &e, &db->mu);
        version_edit_free(&e);
        if (rc == 0) {
            vd->next = p;
            vd->next_state = NEXT_READY;
            pthread_mutex_unlock(&db->mu);
            return;
        }
        db_set_error(rc, "%s", db->vs->errmsg);
        db_set_bg_error(db, rc, lsm_last_error());
    } else if (rc != 0) {
        /* The roll will create the segment itself (and report why not). */
        log_warning("lsm: preparing value-log segment %" PRIu64 ": %s", number,
                    lsm_last_error());
    }
    vlog_prepared_discard(vd->vl, &p);
    vd->next_state = NEXT_NONE;
    pthread_mutex_unlock(&db->mu);
}

/* Starts preparing the next segment once the active one is half full
 * (mu held). */
static void maybe_prepare_next(struct lsm_db *db, struct vlog_db *vd)
{
    if (vd->next_state != NEXT_NONE || db->pool == NULL || db->closing ||
        !vlog_has_active(vd->vl) || vd->next_tried == vlog_active_number(vd->vl) ||
        vlog_active_size(vd->vl) < vd->file_size / 2)
        return;
    vd->next_tried = vlog_active_number(vd->vl);   /* once per segment, even if it fails */
    vd->next_state = NEXT_PREPARING;
    if (tpool_submit(db->pool, TPOOL_HIGH, prepare_next_job, db) != 0)
        vd->next_state = NEXT_NONE;
}

/* Seals the active segment (if any; its fsync runs in the pool) and starts a
 * new one; mu held. */
static int roll(struct lsm_db *db, struct vlog_db *vd)
{
    struct version_edit e;
    uint64_t number;
    int rc = 0;

    version_edit_init(&e);
    if (vlog_has_active(vd->vl)) {
        struct sealing sg;
        rc = vlog_seal_detach(vd->vl, &sg.number, &sg.size, &sg.f);
        if (rc != 0 && vd->broken) {
            /* The old segment failed before: give it up. It stays unsealed
             * in the manifest and is scanned at the next open; no pointer
             * into its unwritten tail was ever published. */
            log_warning("lsm: value-log segment %" PRIu64 " abandoned after a write error",
                        vlog_active_number(vd->vl));
            vlog_abandon(vd->vl);
            rc = 0;
        } else if (rc != 0) {
            db_set_error(rc, "%s", vlog_last_error());
            goto out;
        } else {
            if (vd->nsealing == vd->csealing) {
                vd->csealing = vd->csealing ? vd->csealing * 2 : 4;
                vd->sealing = zrealloc(vd->sealing,
                                       sizeof(*vd->sealing) * (size_t)vd->csealing);
            }
            vd->sealing[vd->nsealing] = sg;
            __atomic_store_n(&vd->nsealing, vd->nsealing + 1, __ATOMIC_RELEASE);
            if (!vd->seal_queued && db->pool != NULL &&
                tpool_submit(db->pool, TPOOL_HIGH, seal_job, db) == 0)
                vd->seal_queued = 1;
        }
    }
    if (vd->next_state == NEXT_READY) {
        /* Already in the manifest, its directory entry durable. */
        vd->next_state = NEXT_NONE;
        rc = vlog_activate_segment(vd->vl, &vd->next);
        if (rc != 0) {
            db_set_error(rc, "%s", vlog_last_error());
            vd->next_state = NEXT_READY;    /* still prepared */
        } else {
            vd->broken = 0;
        }
        goto out;
    }
    number = version_set_new_file_number(db->vs);
    rc = vlog_new_segment(vd->vl, number);
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        goto out;
    }
    rc = io_sync_dir(db->env, db->dir);
    if (rc != 0) {
        rc = version_errno(rc);
        db_set_error(rc, "%s: fsync dir: %s", db->dir, lsm_strerror(rc));
    }
    if (rc == 0) {
        version_edit_vlog_add(&e, number, 0);
        rc = version_set_log_and_apply(db->vs, &e, &db->mu);
        if (rc != 0)
            db_set_error(rc, "%s", db->vs->errmsg);
    }
    if (rc != 0) {
        /* Never used: seal and forget it (an orphan file is removed at open). */
        uint64_t n2, s2;
        vlog_seal(vd->vl, &n2, &s2);
        vlog_seg_drop(vd->vl, number);
        goto out;
    }
    vd->broken = 0;
out:
    version_edit_free(&e);
    return rc;
}

int vlog_db_prepare(struct lsm_db *db, struct lsm_batch *group, int gc)
{
    struct vlog_db *vd = VD(db);
    if (vd == NULL || (!gc && !has_big(vd, group)))
        return 0;
    if (!vlog_has_active(vd->vl) || vd->broken || vd->roll_requested ||
        vlog_active_size(vd->vl) >= vd->file_size) {
        vd->roll_requested = 0;
        return roll(db, vd);
    }
    maybe_prepare_next(db, vd);
    return 0;
}

struct sep_state {
    struct vlog_db *vd;
    struct lsm_batch *out;
    int rc;
};

static int sep_op(void *arg, int type, struct slice key, struct slice value)
{
    struct sep_state *s = arg;
    struct vlog_db *vd = s->vd;
    struct vlog_ptr p;
    char old[16];
    int rc, hot;

    switch (type) {
    case LSM_TYPE_VALUE:
        if (value.len < vd->threshold) {
            batch_put(s->out, key, value);
            return 0;
        }
        hot = vd->vcache && value.len >= VCACHE_HOT_MIN && value.len <= vd->vcache_max &&
              vcache_old_place(vd, key, old);
        rc = vlog_add(vd->vl, key, value, &p);
        if (rc != 0) {
            s->rc = rc;
            return 1;
        }
        if (hot)
            vcache_replace(vd, old, &p, key, value);
        buf_clear(&vd->tmp);
        vlog_ptr_encode(&p, &vd->tmp);
        batch_put_vptr(s->out, key, buf_slice(&vd->tmp));
        return 0;
    case LSM_TYPE_VPTR:
        batch_put_vptr(s->out, key, value);
        return 0;
    default:
        batch_delete(s->out, key);
        return 0;
    }
}

int vlog_db_separate(struct lsm_db *db, struct lsm_batch *group, struct lsm_batch **out)
{
    struct vlog_db *vd = VD(db);
    struct sep_state s;

    *out = group;
    if (vd == NULL || !has_big(vd, group))
        return 0;
    if (!vlog_has_active(vd->vl)) {
        db_set_error(LSM_EIO, "value log: no active segment");
        return LSM_EIO;
    }
    lsm_batch_clear(&vd->sep);
    s.vd = vd;
    s.out = &vd->sep;
    s.rc = 0;
    batch_iterate(group, sep_op, &s);
    if (s.rc != 0) {
        db_set_error(s.rc, "%s", vlog_last_error());
        vd->broken = 1;
        return s.rc;
    }
    batch_set_sequence(&vd->sep, batch_get_sequence(group));
    *out = &vd->sep;
    return 0;
}

int vlog_db_wait_sealed(struct lsm_db *db)
{
    struct vlog_db *vd = VD(db);
    int rc;
    if (vd == NULL || __atomic_load_n(&vd->nsealing, __ATOMIC_ACQUIRE) == 0)
        return 0;
    /* A rolled segment's fsync is still running in the pool. */
    pthread_mutex_lock(&db->mu);
    wait_sealed(db, vd);
    rc = db->bg_error;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int vlog_db_flush(struct lsm_db *db, int sync)
{
    struct vlog_db *vd = VD(db);
    int rc;
    if (vd == NULL)
        return 0;
    if (sync && (rc = vlog_db_wait_sealed(db)) != 0)
        return rc;
    if (!vlog_has_active(vd->vl) || vd->broken)
        return 0;
    rc = sync ? vlog_sync(vd->vl) : vlog_flush(vd->vl);
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        vd->broken = 1;
    }
    return rc;
}

void vlog_db_active(struct lsm_db *db, uint64_t *number, uint64_t *size)
{
    struct vlog_db *vd = VD(db);
    *number = *size = 0;
    if (vd == NULL || !vlog_has_active(vd->vl) || vd->broken)
        return;
    *number = vlog_active_number(vd->vl);
    *size = vlog_active_size(vd->vl);
}

int vlog_db_syncer(struct lsm_db *db, struct io_file **file, uint64_t *number, uint64_t *upto)
{
    struct vlog_db *vd = VD(db);
    int rc;
    *file = NULL;
    *number = *upto = 0;
    if (vd == NULL || !vlog_has_active(vd->vl) || vd->broken)
        return 0;
    rc = vlog_syncer(vd->vl, file, number, upto);
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        vd->broken = 1;
    }
    return rc;
}

void vlog_db_synced(struct lsm_db *db, uint64_t number, uint64_t upto)
{
    struct vlog_db *vd = VD(db);
    if (vd != NULL && number != 0)
        vlog_synced(vd->vl, number, upto);
}

void vlog_db_mark_broken(struct lsm_db *db)
{
    if (VD(db))
        VD(db)->broken = 1;
}

int vlog_db_gc_build(struct lsm_db *db, struct vlog_gc_batch *g, struct lsm_batch **out)
{
    struct vlog_db *vd = VD(db);
    struct buf cur = BUF_INIT;
    int i, rc = 0;

    lsm_batch_clear(&vd->gcb);
    *out = &vd->gcb;
    g->rewritten = 0;
    for (i = 0; i < g->n && rc == 0; i++) {
        struct vlog_gc_item *it = &g->items[i];
        struct slice key = slice_make(g->data.data + it->koff, it->klen);
        struct vlog_ptr p, np;
        int type = 0, r;

        buf_clear(&cur);
        r = db_get_latest(db, key, &cur, &type);
        if (r < 0) {
            rc = r;
            break;
        }
        /* Conditional: only if the key still points at exactly this place. */
        if (r != 1 || type != LSM_TYPE_VPTR || vlog_ptr_decode(buf_slice(&cur), &p) != 0 ||
            p.segment != it->old.segment || p.offset != it->old.offset)
            continue;
        /* p, not it->old: a patch since the scan lives in p's prefix. */
        rc = vlog_add_stored(vd->vl, key, slice_make(g->data.data + it->soff, it->slen),
                             it->flags, &p, &np);
        if (rc != 0) {
            db_set_error(rc, "%s", vlog_last_error());
            vd->broken = 1;
            break;
        }
        buf_clear(&vd->tmp);
        vlog_ptr_encode(&np, &vd->tmp);
        batch_put_vptr(&vd->gcb, key, buf_slice(&vd->tmp));
        g->rewritten += np.length;
    }
    buf_free(&cur);
    return rc;
}

/* ---- readers ---- */

void vlog_db_view_enter(struct lsm_db *db, struct vlog_view *v, uint64_t seq)
{
    struct vlog_db *vd = VD(db);
    v->seq = seq;
    if (vd == NULL) {
        v->next = v->prev = v;
        return;
    }
    v->next = &vd->views;
    v->prev = vd->views.prev;
    v->prev->next = v;
    vd->views.prev = v;
}

void vlog_db_view_exit(struct lsm_db *db, struct vlog_view *v)
{
    struct vlog_db *vd = VD(db);
    v->prev->next = v->next;
    v->next->prev = v->prev;
    v->next = v->prev = v;
    if (vd != NULL && vd->nrm > 0) {
        /* Only a reader older than a pending removal can have blocked it. */
        int i;
        for (i = 0; i < vd->nrm; i++)
            if (v->seq < vd->rm[i].seq) {
                vlog_db_maybe_schedule_gc(db);
                break;
            }
    }
}

/* Oldest sequence any reader may still look at (mu held). */
static uint64_t oldest_reader(struct lsm_db *db, struct vlog_db *vd)
{
    uint64_t m = db_smallest_snapshot(db);
    struct vlog_view *v;
    for (v = vd->views.next; v != &vd->views; v = v->next)
        if (v->seq < m)
            m = v->seq;
    return m;
}

/* ---- stats ---- */

void vlog_db_stats(struct lsm_db *db, struct lsm_stats *out)
{
    struct vlog_db *vd = VD(db);
    struct vlog_io_stats io;
    int i;

    if (vd == NULL)
        return;
    for (i = 0; i < db->vs->nvlog; i++) {
        const struct vlog_segment *s = &db->vs->vlog[i];
        uint64_t size = s->size;
        if (size == 0 && vlog_has_active(vd->vl) && s->number == vlog_active_number(vd->vl))
            size = vlog_active_size(vd->vl);
        if (size == 0) {
            int j;
            for (j = 0; j < vd->nsealing; j++)
                if (vd->sealing[j].number == s->number)
                    size = vd->sealing[j].size;
        }
        out->vlog_bytes += size;
        out->vlog_discard_bytes += s->discard < size ? s->discard : size;
        out->vlog_segments++;
    }
    out->vlog_live_bytes = out->vlog_bytes - out->vlog_discard_bytes;
    vlog_get_io_stats(vd->vl, &io);
    out->vlog_bytes_written = io.bytes_written;
    out->vlog_bytes_read = io.bytes_read;
    out->vlog_gc_runs = vd->gc_runs;
    out->vlog_gc_bytes_rewritten = vd->gc_rewritten;
    out->vlog_gc_bytes_reclaimed = vd->gc_reclaimed;
    if (vd->vcache) {
        struct cache_stats cs;
        cache_get_stats(vd->vcache, &cs);
        out->value_cache_capacity = cs.capacity;
        out->value_cache_usage = cs.usage;
        out->value_cache_hits = cs.hits;
        out->value_cache_misses = cs.misses;
    }
}

/* ---- GC ---- */

static int is_pending_rm(struct vlog_db *vd, uint64_t number)
{
    int i;
    for (i = 0; i < vd->nrm; i++)
        if (vd->rm[i].number == number)
            return 1;
    return 0;
}

static int is_unknown(struct vlog_db *vd, uint64_t number)
{
    int i;
    for (i = 0; i < vd->nunknown; i++)
        if (vd->unknown[i] == number)
            return 1;
    return 0;
}

static void unknown_remove(struct vlog_db *vd, uint64_t number)
{
    int i;
    for (i = 0; i < vd->nunknown; i++)
        if (vd->unknown[i] == number) {
            vd->unknown[i] = vd->unknown[--vd->nunknown];
            return;
        }
}

/* Segments to collect, best first (mu held): sealed, not active, not pending
 * removal, garbage ratio >= the GC ratio; with force also segments whose
 * discard count is unknown or below the ratio (measured[i] = 1: scan first
 * to learn the real ratio). Returns the count (<= max). */
static int pick_segments(struct lsm_db *db, struct vlog_db *vd, int force, uint64_t *nums,
                         uint64_t *sizes, int *measure, int max)
{
    double ratio[64];
    int i, j, n = 0;

    for (i = 0; i < db->vs->nvlog; i++) {
        const struct vlog_segment *s = &db->vs->vlog[i];
        double r;
        int unknown;
        if (s->size <= VLOG_FILE_HEADER_SIZE || is_pending_rm(vd, s->number) ||
            (vlog_has_active(vd->vl) && s->number == vlog_active_number(vd->vl)))
            continue;
        unknown = is_unknown(vd, s->number);
        r = unknown ? 2.0 : (double)s->discard / (double)s->size;
        if (r < vd->gc_ratio && !force)
            continue;
        /* insertion by ratio, descending */
        for (j = n; j > 0 && ratio[j - 1] < r; j--) {
            if (j >= max)
                continue;
            ratio[j] = ratio[j - 1];
            nums[j] = nums[j - 1];
            sizes[j] = sizes[j - 1];
            measure[j] = measure[j - 1];
        }
        if (j >= max)
            continue;
        ratio[j] = r;
        nums[j] = s->number;
        sizes[j] = s->size;
        measure[j] = unknown || r < vd->gc_ratio;
        if (n < max)
            n++;
    }
    return n;
}

static void throttle(struct vlog_db *vd, int64_t t0, uint64_t bytes)
{
    int64_t want, now;
    if (vd->gc_mbps <= 0)
        return;
    want = (int64_t)((double)bytes / (vd->gc_mbps * 1048576.0) * 1e6);
    now = clock_mono_us() - t0;
    if (want > now)
        usleep((useconds_t)(want - now));
}

static void gcb_add(struct vlog_gc_batch *g, struct slice key, struct slice stored, int flags,
                    const struct vlog_ptr *old)
{
    struct vlog_gc_item *it;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->items = zrealloc(g->items, sizeof(*g->items) * (size_t)g->cap);
    }
    it = &g->items[g->n++];
    it->koff = g->data.len;
    it->klen = key.len;
    buf_append(&g->data, key.data, key.len);
    it->soff = g->data.len;
    it->slen = stored.len;
    buf_append(&g->data, stored.data, stored.len);
    it->flags = flags;
    it->old = *old;
    g->bytes += old->length;
}

static void gcb_clear(struct vlog_gc_batch *g)
{
    buf_clear(&g->data);
    g->n = 0;
    g->bytes = 0;
}

static int closing(struct lsm_db *db)
{
    int c;
    pthread_mutex_lock(&db->mu);
    c = db->closing || db->bg_error != 0;
    pthread_mutex_unlock(&db->mu);
    return c;
}

/* One pass over segment `number`: live entries are sent as conditional
 * rewrites (measure_only: only counted). *live = bytes of live entries. */
static int gc_scan(struct lsm_db *db, struct vlog_db *vd, uint64_t number, uint64_t size,
                   int measure_only, uint64_t *live, uint64_t *rewritten)
{
    struct buf path = BUF_INIT, cur = BUF_INIT;
    struct vlog_gc_batch g;
    struct vlog_scanner *s = NULL;
    struct slice k, st;
    uint64_t off, scanned = 0;
    uint32_t len;
    int64_t t0 = clock_mono_us();
    int flags, rc;

    memset(&g, 0, sizeof g);
    *live = 0;
    seg_path(&path, db->dir, number);
    rc = vlog_scan_open(db->env, path.data, number, size, &s);
    if (rc != 0) {
        db_set_error(rc, "%s", vlog_last_error());
        goto out;
    }
    while ((rc = vlog_scan_next(s, &k, &st, &flags, &off, &len)) == 1) {
        struct vlog_ptr p;
        int type = 0, r;
        scanned += len;
        if ((scanned & ~((uint64_t)GC_BATCH_BYTES - 1)) != ((scanned - len) & ~((uint64_t)GC_BATCH_BYTES - 1))) {
            throttle(vd, t0, scanned);
            if (closing(db)) {
                rc = LSM_ECLOSED;
                break;
            }
        }
        buf_clear(&cur);
        r = db_get_latest(db, k, &cur, &type);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r != 1 || type != LSM_TYPE_VPTR || vlog_ptr_decode(buf_slice(&cur), &p) != 0 ||
            p.segment != number || p.offset != off)
            continue;
        *live += len;
        if (measure_only)
            continue;
        gcb_add(&g, k, st, flags, &p);
        if (g.bytes >= GC_BATCH_BYTES) {
            rc = db_write_gc(db, &g);
            *rewritten += g.rewritten;
            gcb_clear(&g);
            if (rc != 0)
                break;
        }
    }
    if (rc == 0 && vlog_scan_torn(s)) {
        rc = LSM_ECORRUPT;
        db_set_error(rc, "%s: offset %" PRIu64 ": %s (value-log GC skips this segment)",
                     path.data, vlog_scan_end(s), vlog_scan_why(s));
    }
    if (rc == 0 && g.n > 0) {
        rc = db_write_gc(db, &g);
        *rewritten += g.rewritten;
    }
    vlog_count_read(vd->vl, scanned);
out:
    vlog_scan_close(s);
    buf_free(&g.data);
    zfree(g.items);
    buf_free(&cur);
    buf_free(&path);
    return rc;
}

/* Removes collected segments nothing can reach any more (mu held). */
static void purge(struct lsm_db *db, struct vlog_db *vd)
{
    struct version_edit e;
    struct buf path = BUF_INIT;
    uint64_t oldest, nums[64], sizes[64];
    int i, n = 0, rc, quiet;

    if (vd->purge_running || vd->nrm == 0 || db->bg_error != 0)
        return;
    oldest = oldest_reader(db, vd);
    quiet = db->nimm == 0 && memtable_entries(db->mem) == 0;
    version_edit_init(&e);
    for (i = 0; i < vd->nrm && n < 64; i++) {
        struct pending_rm *r = &vd->rm[i];
        /* No WAL that may hold its pointers is replayed at the next open,
         * and no reader older than the rewrite remains. */
        if ((db->vs->log_number > r->wal || (quiet && db->mem_log == r->wal)) &&
            oldest >= r->seq && db_sv_oldest(db) >= r->sv) {
            version_edit_vlog_remove(&e, r->number);
            nums[n] = r->number;
            sizes[n++] = r->size;
        }
    }
    if (n == 0) {
        version_edit_free(&e);
        return;
    }
    vd->purge_running = 1;
    rc = version_set_log_and_apply(db->vs, &e, &db->mu);
    version_edit_free(&e);
    vd->purge_running = 0;
    if (rc != 0) {
        db_set_error(rc, "%s", db->vs->errmsg);
        db_set_bg_error(db, rc, lsm_last_error());
        return;
    }
    for (i = 0; i < n; i++) {
        int j;
        vlog_seg_drop(vd->vl, nums[i]);
        seg_path(&path, db->dir, nums[i]);
        io_unlink(db->env, path.data);
        vd->gc_reclaimed += sizes[i];
        for (j = 0; j < vd->nrm; j++)
            if (vd->rm[j].number == nums[i]) {
                vd->rm[j] = vd->rm[--vd->nrm];
                break;
            }
    }
    buf_free(&path);
}

/* Collects one segment (mu held on entry and exit; released while working).
 * 1 when a segment was processed, 0 when none qualified, < 0 error. */
static int gc_one(struct lsm_db *db, struct vlog_db *vd, uint64_t number, uint64_t size,
                  int measure)
{
    uint64_t live = 0, rewritten = 0;
    int rc;

    if (is_pending_rm(vd, number))
        return 0;
    vd->gc_segment = number;
    pthread_mutex_unlock(&db->mu);
    rc = 0;
    if (measure) {
        rc = gc_scan(db, vd, number, size, 1, &live, &rewritten);
        pthread_mutex_lock(&db->mu);
        if (rc == 0) {
            /* Now known: bring the discard count up to what the scan saw. */
            uint64_t garbage = size - VLOG_FILE_HEADER_SIZE - live;
            int i;
            for (i = 0; i < db->vs->nvlog; i++)
                if (db->vs->vlog[i].number == number && db->vs->vlog[i].discard < garbage) {
                    struct version_edit e;
                    version_edit_init(&e);
                    version_edit_vlog_discard(&e, number, garbage - db->vs->vlog[i].discard);
                    rc = version_set_log_and_apply(db->vs, &e, &db->mu);
                    version_edit_free(&e);
                    break;
                }
            unknown_remove(vd, number);
            if (rc == 0 && (double)garbage / (double)size < vd->gc_ratio) {
                vd->gc_segment = 0;
                return 1;       /* worth keeping as it is */
            }
        }
        pthread_mutex_unlock(&db->mu);
    }
    if (rc == 0)
        rc = gc_scan(db, vd, number, size, 0, &live, &rewritten);
    pthread_mutex_lock(&db->mu);
    vd->gc_segment = 0;
    if (rc != 0) {
        if (rc != LSM_ECLOSED)
            log_warning("lsm: value-log GC of segment %" PRIu64 " failed: %s", number,
                        lsm_last_error());
        return rc;
    }
    if (vd->nrm == vd->crm) {
        vd->crm = vd->crm ? vd->crm * 2 : 8;
        vd->rm = zrealloc(vd->rm, sizeof(*vd->rm) * (size_t)vd->crm);
    }
    vd->rm[vd->nrm].number = number;
    vd->rm[vd->nrm].size = size;
    vd->rm[vd->nrm].seq = db->vs->last_seq;
    vd->rm[vd->nrm].wal = db->mem_log;
    /* A get pinning an older super version may have read its sequence
     * before the rewrite: wait until none is left (db_impl.h). */
    db_sv_install(db);
    vd->rm[vd->nrm].sv = db->sv_number;
    vd->nrm++;
    unknown_remove(vd, number);
    vd->gc_runs++;
    vd->gc_rewritten += rewritten;
    return 1;
}

/* Makes the WAL holding the rewrites' old pointers obsolete soon (mu held). */
static void push_memtable(struct lsm_db *db)
{
    pthread_mutex_unlock(&db->mu);
    lsm_flush(db, 0);
    pthread_mutex_lock(&db->mu);
}

static int run_locked(struct lsm_db *db, struct vlog_db *vd, int force)
{
    uint64_t nums[64], sizes[64];
    int measure[64], n, i, rc = 0, did = 0, r;

    while (vd->gc_running && !db->closing)
        pthread_cond_wait(&db->bg_cv, &db->mu);
    if (db->closing)
        return LSM_ECLOSED;
    vd->gc_running = 1;
    if (force && vlog_has_active(vd->vl)) {
        /* A forced pass may also collect the active segment once enough of
         * it is garbage: seal it first (through the writer queue). */
        uint64_t act = vlog_active_number(vd->vl), asz = vlog_active_size(vd->vl);
        for (i = 0; i < db->vs->nvlog; i++)
            if (db->vs->vlog[i].number == act &&
                (double)db->vs->vlog[i].discard >= vd->gc_ratio * (double)asz) {
                struct vlog_gc_batch empty;
                memset(&empty, 0, sizeof empty);
                vd->roll_requested = 1;
                pthread_mutex_unlock(&db->mu);
                db_write_gc(db, &empty);
                pthread_mutex_lock(&db->mu);
                break;
            }
    }
    n = pick_segments(db, vd, force, nums, sizes, measure, 64);
    for (i = 0; i < n && !db->closing && db->bg_error == 0; i++) {
        r = gc_one(db, vd, nums[i], sizes[i], measure[i]);
        if (r < 0) {
            rc = r;
            break;
        }
        did |= r;
    }
    if (did && vd->nrm > 0)
        push_memtable(db);
    purge(db, vd);
    vd->gc_running = 0;
    pthread_cond_broadcast(&db->bg_cv);
    return rc;
}

int vlog_db_run_gc(struct lsm_db *db, int force)
{
    struct vlog_db *vd = VD(db);
    int rc;
    if (vd == NULL)
        return 0;
    pthread_mutex_lock(&db->mu);
    rc = run_locked(db, vd, force);
    if (rc == 0 && force && vd->nrm > 0 && !db->closing) {
        /* Manual pass: wait for the flush that lets the segments go. */
        pthread_mutex_unlock(&db->mu);
        lsm_flush(db, 1);
        pthread_mutex_lock(&db->mu);
        purge(db, vd);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static void gc_job(void *arg)
{
    struct lsm_db *db = arg;
    struct vlog_db *vd = VD(db);

    pthread_mutex_lock(&db->mu);
    vd->gc_job_queued = 0;
    if (!db->closing)
        run_locked(db, vd, 0);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
}

void vlog_db_maybe_schedule_gc(struct lsm_db *db)
{
    struct vlog_db *vd = VD(db);
    uint64_t num, size;
    int measure;

    if (vd == NULL || db->closing || db->bg_error != 0 || vd->gc_running || vd->gc_job_queued)
        return;
    if (vd->nrm == 0 && pick_segments(db, vd, 0, &num, &size, &measure, 1) == 0)
        return;
    vd->gc_job_queued = 1;
    if (db->gc_pool == NULL || tpool_submit(db->gc_pool, TPOOL_LOW, gc_job, db) != 0)
        vd->gc_job_queued = 0;
}

int lsm_vlog_gc(struct lsm_db *db, int force)
{
    int rc;
    if (db == NULL) {
        db_set_error(LSM_EINVAL, "lsm_vlog_gc: NULL argument");
        return LSM_EINVAL;
    }
    rc = vlog_db_run_gc(db, force);
    if (rc == 0) {
        pthread_mutex_lock(&db->mu);
        rc = db->bg_error;
        pthread_mutex_unlock(&db->mu);
    }
    return rc;
}
