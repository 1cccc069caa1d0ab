/* vlog.c: value-log segments, entries and pointers (see vlog.h and
 * docs/format-vlog.md). */
#include "engine/vlog.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/lsm.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

static __thread char vlog_err[512];

const char *vlog_last_error(void)
{
    return vlog_err;
}

static int vl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vl_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vlog_err, sizeof vlog_err, fmt, ap);
    va_end(ap);
    return code;
}

static int errno_code(int neg)
{
    return neg == -ENOSPC ? LSM_ENOSPC : LSM_EIO;
}

/* ---- pointers ---- */

void vlog_ptr_encode(const struct vlog_ptr *p, struct buf *out)
{
    uint32_t n = p->value_len < VLOG_PREFIX_MAX ? p->value_len : VLOG_PREFIX_MAX;
    put_varint64(out, p->segment);
    put_varint64(out, p->offset);
    put_varint32(out, p->length);
    put_varint32(out, p->value_len);
    buf_append(out, p->prefix, n);
}

int vlog_ptr_decode(struct slice in, struct vlog_ptr *p)
{
    uint32_t n;
    if (get_varint64(&in, &p->segment) != 0 || get_varint64(&in, &p->offset) != 0 ||
        get_varint32(&in, &p->length) != 0 || get_varint32(&in, &p->value_len) != 0)
        return LSM_ECORRUPT;
    n = p->value_len < VLOG_PREFIX_MAX ? p->value_len : VLOG_PREFIX_MAX;
    if (in.len != n || p->length < VLOG_ENTRY_HEADER_SIZE)
        return LSM_ECORRUPT;
    p->prefix_len = n;
    memcpy(p->prefix, in.data, n);
    return 0;
}

/* ---- entries ---- */

static void entry_header(char *h, uint32_t klen, uint32_t slen, int flags)
{
    encode_fixed32(h + 4, klen);
    encode_fixed32(h + 8, slen);
    h[12] = (char)flags;
    h[13] = h[14] = h[15] = 0;
}

void vlog_entry_encode_stored(struct buf *out, struct slice key, struct slice stored,
                              int flags)
{
    size_t start = out->len;
    char h[VLOG_ENTRY_HEADER_SIZE];
    uint32_t crc;

    entry_header(h, (uint32_t)key.len, (uint32_t)stored.len, flags);
    buf_append(out, h, sizeof h);
    buf_append(out, key.data, key.len);
    buf_append(out, stored.data, stored.len);
    crc = crc32c_value(out->data + start + 4, out->len - start - 4);
    encode_fixed32(out->data + start, crc32c_mask(crc));
}

int vlog_entry_encode(struct buf *out, struct slice key, struct slice value, int compress)
{
    size_t start = out->len, clen;
    char h[VLOG_ENTRY_HEADER_SIZE];
    uint32_t crc;

    if (compress && value.len >= VLOG_COMPRESS_MIN) {
        clen = snappy_max_compressed_length(value.len);
        buf_reserve(out, VLOG_ENTRY_HEADER_SIZE + key.len + clen);
        memset(h, 0, sizeof h);
        buf_append(out, h, sizeof h);
        buf_append(out, key.data, key.len);
        if (snappy_compress(value.data, value.len, out->data + out->len, &clen) == SNAPPY_OK &&
            clen <= value.len - value.len / 8) {
            out->len += clen;
            entry_header(out->data + start, (uint32_t)key.len, (uint32_t)clen,
                         VLOG_FLAG_SNAPPY);
            crc = crc32c_value(out->data + start + 4, out->len - start - 4);
            encode_fixed32(out->data + start, crc32c_mask(crc));
            return 1;
        }
        buf_truncate(out, start);
    }
    vlog_entry_encode_stored(out, key, value, 0);
    return 0;
}

int vlog_entry_parse(struct slice in, struct slice *key, struct slice *stored, int *flags,
                     const char **why)
{
    uint32_t klen, slen, crc;

    if (in.len < VLOG_ENTRY_HEADER_SIZE) {
        *why = "entry shorter than its header";
        return LSM_ECORRUPT;
    }
    klen = decode_fixed32(in.data + 4);
    slen = decode_fixed32(in.data + 8);
    if ((uint64_t)VLOG_ENTRY_HEADER_SIZE + klen + slen != in.len) {
        *why = "entry lengths do not match";
        return LSM_ECORRUPT;
    }
    crc = crc32c_unmask(decode_fixed32(in.data));
    if (crc32c_value(in.data + 4, in.len - 4) != crc) {
        *why = "entry checksum mismatch";
        return LSM_ECORRUPT;
    }
    if ((in.data[12] & ~VLOG_FLAG_SNAPPY) != 0 || in.data[13] || in.data[14] || in.data[15]) {
        *why = "unknown entry flags";
        return LSM_ECORRUPT;
    }
    *flags = in.data[12];
    *key = slice_make(in.data + VLOG_ENTRY_HEADER_SIZE, klen);
    *stored = slice_make(in.data + VLOG_ENTRY_HEADER_SIZE + klen, slen);
    return 0;
}

int vlog_value_decode(struct slice stored, int flags, struct buf *value)
{
    size_t ulen;

    if (!(flags & VLOG_FLAG_SNAPPY)) {
        buf_set(value, stored.data, stored.len);
        return 0;
    }
    if (snappy_uncompressed_length(stored.data, stored.len, &ulen) != SNAPPY_OK)
        return LSM_ECORRUPT;
    buf_clear(value);
    buf_reserve(value, ulen);
    if (snappy_uncompress(stored.data, stored.len, value->data, &ulen) != SNAPPY_OK)
        return LSM_ECORRUPT;
    value->len = ulen;
    return 0;
}

/* ---- segment table ---- */

struct vlog_seg {
    uint64_t number;
    uint64_t size;            /* readable bytes (grows while active) */
    struct io_file *rf;       /* read handle, opened lazily */
    int refs;                 /* table + running reads */
    int dropped;
};

struct vlog {
    struct io_env *env;
    char *dir;
    int compress;
    uint64_t map_len;         /* io_file_map of new segments; 0 = off */
    pthread_mutex_t mu;       /* segs, seg fields, stats */
    /* Held by every writer function and by a reader that pushes the
     * writer's buffer (vlog_read of bytes not yet pushed); taken before mu. */
    pthread_mutex_t wmu;
    struct vlog_seg **segs;   /* sorted by number */
    int nsegs, csegs;
    /* writer (one thread) */
    struct io_file *wf;
    struct vlog_seg *active;
    uint64_t wsize;           /* appended, including buffered */
    uint64_t reserved;        /* disk space allocated up to here */
    int dirty;
    struct buf scratch;
    struct vlog_io_stats st;
    /* Values that snappy could not shrink, in a row; after INCOMPRESSIBLE_RUN
     * of them only one value in INCOMPRESSIBLE_SKIP + 1 is tried, until one
     * compresses again (random data costs a snappy pass for nothing). */
    int incompressible;
    int skip;
};

/* Appends stay in the writer's buffer until the WAL is pushed; so that
 * pushing them cannot fail for lack of space after their write was
 * accepted, the disk space is reserved (fallocate) at append time, this
 * much ahead. */
#define RESERVE_AHEAD (256u << 10)

#define INCOMPRESSIBLE_RUN 8
#define INCOMPRESSIBLE_SKIP 15

static void seg_path(struct buf *out, const char *dir, uint64_t number)
{
    char name[32];
    snprintf(name, sizeof name, "/%06" PRIu64 ".vlog", number);
    buf_clear(out);
    buf_append(out, dir, strlen(dir));
    buf_append(out, name, strlen(name));
    buf_cstr(out);
}

void vlog_map_segments(struct vlog *vl, uint64_t len)
{
    vl->map_len = len;
}

struct vlog *vlog_create(struct io_env *env, const char *dir, int compress)
{
    struct vlog *vl = zcalloc(sizeof *vl);
    vl->env = env ? env : io_env_posix();
    vl->dir = zstrdup(dir);
    vl->compress = compress;
    pthread_mutex_init(&vl->mu, NULL);
    pthread_mutex_init(&vl->wmu, NULL);
    return vl;
}

static void seg_unref(struct vlog_seg *s)
{
    if (--s->refs == 0) {
        io_file_close(s->rf);
        zfree(s);
    }
}

void vlog_destroy(struct vlog *vl)
{
    int i;
    if (vl == NULL)
        return;
    if (vl->wf) {
        if (vl->dirty)
            io_file_sync(vl->wf);
        io_file_close(vl->wf);
    }
    for (i = 0; i < vl->nsegs; i++)
        seg_unref(vl->segs[i]);
    zfree(vl->segs);
    buf_free(&vl->scratch);
    pthread_mutex_destroy(&vl->mu);
    pthread_mutex_destroy(&vl->wmu);
    zfree(vl->dir);
    zfree(vl);
}

/* Index of number in segs or of where it would go (mu held). */
static int seg_find(struct vlog *vl, uint64_t number, int *found)
{
    int lo = 0, hi = vl->nsegs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (vl->segs[mid]->number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < vl->nsegs && vl->segs[lo]->number == number;
    return lo;
}

static struct vlog_seg *seg_insert(struct vlog *vl, uint64_t number, uint64_t size)
{
    struct vlog_seg *s;
    int found, i;

    pthread_mutex_lock(&vl->mu);
    i = seg_find(vl, number, &found);
    if (found) {
        s = vl->segs[i];
        s->size = size;
        pthread_mutex_unlock(&vl->mu);
        return s;
    }
    if (vl->nsegs == vl->csegs) {
        vl->csegs = vl->csegs ? vl->csegs * 2 : 16;
        vl->segs = zrealloc(vl->segs, sizeof(*vl->segs) * (size_t)vl->csegs);
    }
    memmove(vl->segs + i + 1, vl->segs + i, sizeof(*vl->segs) * (size_t)(vl->nsegs - i));
    s = zcalloc(sizeof *s);
    s->number = number;
    s->size = size;
    s->refs = 1;
    vl->segs[i] = s;
    vl->nsegs++;
    pthread_mutex_unlock(&vl->mu);
    return s;
}

void vlog_seg_add(struct vlog *vl, uint64_t number, uint64_t size)
{
    seg_insert(vl, number, size);
}

void vlog_seg_drop(struct vlog *vl, uint64_t number)
{
    int found, i;
    pthread_mutex_lock(&vl->mu);
    i = seg_find(vl, number, &found);
    if (found && vl->segs[i] != vl->active) {
        struct vlog_seg *s = vl->segs[i];
        memmove(vl->segs + i, vl->segs + i + 1, sizeof(*vl->segs) * (size_t)(vl->nsegs - i - 1));
        vl->nsegs--;
        s->dropped = 1;
        seg_unref(s);
    }
    pthread_mutex_unlock(&vl->mu);
}

int vlog_seg_exists(struct vlog *vl, uint64_t number)
{
    int found;
    pthread_mutex_lock(&vl->mu);
    seg_find(vl, number, &found);
    pthread_mutex_unlock(&vl->mu);
    return found;
}

/* ---- writer ---- */

int vlog_prepare_segment(struct vlog *vl, uint64_t number, uint64_t reserve,
                         struct vlog_prepared *out)
{
    struct buf path = BUF_INIT;
    char h[VLOG_FILE_HEADER_SIZE];
    int rc;

    out->number = number;
    out->f = NULL;
    out->reserved = VLOG_FILE_HEADER_SIZE;
    seg_path(&path, vl->dir, number);
    rc = io_open_append(vl->env, path.data, &out->f);
    if (rc != 0) {
        out->f = NULL;
        rc = vl_error(errno_code(rc), "%s: create: %s", path.data, strerror(-rc));
        goto out;
    }
    memcpy(h, VLOG_MAGIC, 8);
    encode_fixed64(h + 8, number);
    rc = io_file_append(out->f, h, sizeof h);
    if (rc == 0)
        rc = io_file_sync(out->f);
    if (rc != 0) {
        rc = vl_error(errno_code(rc), "%s: write header: %s", path.data, strerror(-rc));
        io_file_close(out->f);
        out->f = NULL;
        io_unlink(vl->env, path.data);
        goto out;
    }
    /* Best effort: appends then go through write(2). Mapped before the
     * reservation, which then grows the file (see io_file_map). */
    if (vl->map_len > 0)
        (void)io_file_map(out->f, vl->map_len);
    /* Best effort: a disk without that much room reserves as it goes. */
    if (reserve > 0 && io_file_reserve(out->f, VLOG_FILE_HEADER_SIZE, reserve) == 0)
        out->reserved += reserve;
out:
    buf_free(&path);
    return rc;
}

void vlog_prepared_discard(struct vlog *vl, struct vlog_prepared *p)
{
    struct buf path = BUF_INIT;
    if (p->f == NULL)
        return;
    io_file_close(p->f);
    p->f = NULL;
    seg_path(&path, vl->dir, p->number);
    (void)io_unlink(vl->env, path.data);
    buf_free(&path);
}

static int activate(struct vlog *vl, struct vlog_prepared *p)
{
    struct vlog_seg *s;

    if (vl->wf != NULL)
        return vl_error(LSM_EINVAL, "vlog: a segment is already active");
    s = seg_insert(vl, p->number, VLOG_FILE_HEADER_SIZE);
    pthread_mutex_lock(&vl->mu);
    vl->active = s;
    pthread_mutex_unlock(&vl->mu);
    vl->wf = p->f;
    p->f = NULL;
    vl->wsize = VLOG_FILE_HEADER_SIZE;
    vl->reserved = p->reserved;
    vl->dirty = 0;
    vl->st.bytes_written += VLOG_FILE_HEADER_SIZE;
    return 0;
}

static int new_segment(struct vlog *vl, uint64_t number)
{
    struct vlog_prepared p;
    int rc;

    if (vl->wf != NULL)
        return vl_error(LSM_EINVAL, "vlog: a segment is already active");
    rc = vlog_prepare_segment(vl, number, 0, &p);
    return rc != 0 ? rc : activate(vl, &p);
}

int vlog_has_active(struct vlog *vl)
{
    return vl->wf != NULL;
}

uint64_t vlog_active_number(struct vlog *vl)
{
    return vl->active ? vl->active->number : 0;
}

uint64_t vlog_active_size(struct vlog *vl)
{
    return __atomic_load_n(&vl->wsize, __ATOMIC_RELAXED);   /* stats read it under db mu */
}

/* Makes sure disk space is reserved up to end: RESERVE_AHEAD more when
 * possible, else exactly. 0 or -errno. */
static int reserve_to(struct vlog *vl, uint64_t end)
{
    int rc;
    if (end <= vl->reserved)
        return 0;
    rc = io_file_reserve(vl->wf, vl->reserved, end + RESERVE_AHEAD - vl->reserved);
    if (rc == 0) {
        vl->reserved = end + RESERVE_AHEAD;
        return 0;
    }
    rc = io_file_reserve(vl->wf, vl->reserved, end - vl->reserved);
    if (rc == 0)
        vl->reserved = end;
    return rc;
}

/* Gives back the space reserved beyond the end of the writer's file (its
 * bytes pushed); a failure only leaves that space allocated. */
static void release_reserve(struct vlog *vl)
{
    struct buf path = BUF_INIT;
    if (vl->reserved <= vl->wsize)
        return;
    seg_path(&path, vl->dir, vl->active->number);
    (void)io_truncate(vl->env, path.data, vl->wsize);
    vl->reserved = vl->wsize;
    buf_free(&path);
}

static int append_entry(struct vlog *vl, struct slice key, uint32_t value_len,
                        const char *prefix, struct vlog_ptr *p)
{
    int rc;

    if (vl->wf == NULL)
        return vl_error(LSM_EINVAL, "vlog: no active segment");
    rc = reserve_to(vl, vl->wsize + vl->scratch.len);
    if (rc != 0) {
        struct buf path = BUF_INIT;
        seg_path(&path, vl->dir, vl->active->number);
        rc = vl_error(errno_code(rc), "%s: reserve: %s", path.data, strerror(-rc));
        buf_free(&path);
        return rc;
    }
    p->segment = vl->active->number;
    p->offset = vl->wsize;
    p->length = (uint32_t)vl->scratch.len;
    p->value_len = value_len;
    p->prefix_len = value_len < VLOG_PREFIX_MAX ? value_len : VLOG_PREFIX_MAX;
    memcpy(p->prefix, prefix, p->prefix_len);
    rc = io_file_append(vl->wf, vl->scratch.data, vl->scratch.len);
    if (rc != 0) {
        struct buf path = BUF_INIT;
        seg_path(&path, vl->dir, p->segment);
        rc = vl_error(errno_code(rc), "%s: append: %s", path.data, strerror(-rc));
        buf_free(&path);
        return rc;
    }
    (void)key;
    __atomic_store_n(&vl->wsize, vl->wsize + vl->scratch.len, __ATOMIC_RELAXED);
    vl->dirty = 1;
    pthread_mutex_lock(&vl->mu);
    vl->st.bytes_written += vl->scratch.len;
    pthread_mutex_unlock(&vl->mu);
    return 0;
}

static int add_value(struct vlog *vl, struct slice key, struct slice value, struct vlog_ptr *p)
{
    int try = vl->compress && value.len >= VLOG_COMPRESS_MIN;
    buf_clear(&vl->scratch);
    if (try && vl->skip > 0) {
        vl->skip--;
        try = 0;
    }
    if (vlog_entry_encode(&vl->scratch, key, value, try)) {
        vl->incompressible = 0;
    } else if (try && ++vl->incompressible >= INCOMPRESSIBLE_RUN) {
        vl->skip = INCOMPRESSIBLE_SKIP;
    }
    return append_entry(vl, key, (uint32_t)value.len, value.data, p);
}

static int add_stored(struct vlog *vl, struct slice key, struct slice stored, int flags,
                      const struct vlog_ptr *old, struct vlog_ptr *p)
{
    buf_clear(&vl->scratch);
    vlog_entry_encode_stored(&vl->scratch, key, stored, flags);
    return append_entry(vl, key, old->value_len, old->prefix, p);
}

static int writer_op(struct vlog *vl, int sync)
{
    int rc;
    if (vl->wf == NULL || (!sync && vl->active->size == vl->wsize))
        return 0;     /* (size is written under wmu, which we hold) */
    rc = sync ? io_file_sync(vl->wf) : io_file_flush(vl->wf);
    if (rc != 0) {
        struct buf path = BUF_INIT;
        seg_path(&path, vl->dir, vl->active->number);
        rc = vl_error(errno_code(rc), "%s: %s: %s", path.data, sync ? "sync" : "write",
                      strerror(-rc));
        buf_free(&path);
        return rc;
    }
    /* Readers may now see everything appended. */
    pthread_mutex_lock(&vl->mu);
    vl->active->size = vl->wsize;
    pthread_mutex_unlock(&vl->mu);
    if (sync)
        vl->dirty = 0;
    return 0;
}

/* Every public writer function runs its body under wmu. */
static void wlock(struct vlog *vl)
{
    pthread_mutex_lock(&vl->wmu);
}

/* Unlocks and passes rc through. */
static int wunlock(struct vlog *vl, int rc)
{
    pthread_mutex_unlock(&vl->wmu);
    return rc;
}

int vlog_new_segment(struct vlog *vl, uint64_t number)
{
    wlock(vl);
    return wunlock(vl, new_segment(vl, number));
}

int vlog_activate_segment(struct vlog *vl, struct vlog_prepared *p)
{
    wlock(vl);
    return wunlock(vl, activate(vl, p));
}

int vlog_add(struct vlog *vl, struct slice key, struct slice value, struct vlog_ptr *p)
{
    wlock(vl);
    return wunlock(vl, add_value(vl, key, value, p));
}

int vlog_add_stored(struct vlog *vl, struct slice key, struct slice stored, int flags,
                    const struct vlog_ptr *old, struct vlog_ptr *p)
{
    wlock(vl);
    return wunlock(vl, add_stored(vl, key, stored, flags, old, p));
}

int vlog_flush(struct vlog *vl)
{
    wlock(vl);
    return wunlock(vl, writer_op(vl, 0));
}

int vlog_sync(struct vlog *vl)
{
    wlock(vl);
    return wunlock(vl, vl->dirty ? writer_op(vl, 1) : 0);
}

static int syncer(struct vlog *vl, struct io_file **file, uint64_t *number, uint64_t *upto)
{
    int rc;
    *file = NULL;
    *number = *upto = 0;
    if (vl->wf == NULL || !vl->dirty)
        return 0;       /* every byte of the segment is durable already */
    rc = writer_op(vl, 0);
    *number = vl->active->number;
    *upto = vl->wsize;
    if (rc == 0 && (rc = io_file_syncer(vl->wf, file)) != 0) {
        struct buf path = BUF_INIT;
        seg_path(&path, vl->dir, vl->active->number);
        rc = vl_error(errno_code(rc), "%s: dup for sync: %s", path.data, strerror(-rc));
        buf_free(&path);
    }
    return rc;
}

int vlog_syncer(struct vlog *vl, struct io_file **file, uint64_t *number, uint64_t *upto)
{
    wlock(vl);
    return wunlock(vl, syncer(vl, file, number, upto));
}

void vlog_synced(struct vlog *vl, uint64_t number, uint64_t upto)
{
    wlock(vl);
    /* Nothing appended since the handle was taken: all is durable. */
    if (vl->wf != NULL && vl->active->number == number && vl->wsize == upto)
        vl->dirty = 0;
    (void)wunlock(vl, 0);
}

int vlog_dirty(struct vlog *vl)
{
    wlock(vl);
    return wunlock(vl, vl->dirty);
}

static int seal(struct vlog *vl, uint64_t *number, uint64_t *size)
{
    int rc;
    if (vl->wf == NULL)
        return vl_error(LSM_EINVAL, "vlog: no active segment");
    rc = vl->dirty ? writer_op(vl, 1) : writer_op(vl, 0);
    if (rc != 0)
        return rc;
    io_file_close(vl->wf);          /* first: its populator stops */
    vl->wf = NULL;
    release_reserve(vl);
    *number = vl->active->number;
    *size = vl->wsize;
    pthread_mutex_lock(&vl->mu);
    vl->active->size = vl->wsize;
    vl->active = NULL;
    pthread_mutex_unlock(&vl->mu);
    return 0;
}

int vlog_seal(struct vlog *vl, uint64_t *number, uint64_t *size)
{
    wlock(vl);
    return wunlock(vl, seal(vl, number, size));
}

static int seal_detach(struct vlog *vl, uint64_t *number, uint64_t *size,
                       struct io_file **file)
{
    int rc;
    if (vl->wf == NULL)
        return vl_error(LSM_EINVAL, "vlog: no active segment");
    rc = writer_op(vl, 0);
    if (rc != 0)
        return rc;
    *file = vl->wf;
    vl->wf = NULL;
    vl->dirty = 0;
    *number = vl->active->number;
    *size = vl->wsize;
    pthread_mutex_lock(&vl->mu);
    vl->active->size = vl->wsize;
    vl->active = NULL;
    pthread_mutex_unlock(&vl->mu);
    return 0;
}

int vlog_seal_detach(struct vlog *vl, uint64_t *number, uint64_t *size,
                     struct io_file **file)
{
    wlock(vl);
    return wunlock(vl, seal_detach(vl, number, size, file));
}

void vlog_abandon(struct vlog *vl)
{
    pthread_mutex_lock(&vl->wmu);
    if (vl->wf != NULL) {
        io_file_close(vl->wf);  /* may fail: the file is given up either way */
        vl->wf = NULL;
        vl->dirty = 0;
        pthread_mutex_lock(&vl->mu);
        vl->active = NULL;
        pthread_mutex_unlock(&vl->mu);
    }
    pthread_mutex_unlock(&vl->wmu);
}

/* ---- reads ---- */

/* The segment with a reference and an open read handle, or NULL (error set);
 * *size = its readable size. */
static struct vlog_seg *seg_get(struct vlog *vl, uint64_t number, uint64_t *size, int *err)
{
    struct vlog_seg *s;
    int found, i, rc;

    pthread_mutex_lock(&vl->mu);
    i = seg_find(vl, number, &found);
    if (!found) {
        pthread_mutex_unlock(&vl->mu);
        *err = vl_error(LSM_ECORRUPT, "%s/%06" PRIu64 ".vlog: value pointer into a missing "
                        "segment", vl->dir, number);
        return NULL;
    }
    s = vl->segs[i];
    if (s->rf == NULL) {
        struct buf path = BUF_INIT;
        seg_path(&path, vl->dir, number);
        /* Opened under mu: rare (once per segment), keeps one handle. */
        rc = io_open_read(vl->env, path.data, &s->rf);
        if (rc != 0) {
            s->rf = NULL;
            pthread_mutex_unlock(&vl->mu);
            *err = vl_error(rc == -ENOENT ? LSM_ECORRUPT : LSM_EIO, "%s: open: %s", path.data,
                            strerror(-rc));
            buf_free(&path);
            return NULL;
        }
        buf_free(&path);
    }
    s->refs++;
    *size = s->size;
    pthread_mutex_unlock(&vl->mu);
    return s;
}

static void seg_put(struct vlog *vl, struct vlog_seg *s)
{
    pthread_mutex_lock(&vl->mu);
    seg_unref(s);
    pthread_mutex_unlock(&vl->mu);
}

/* A read of [.., end) of segment s beyond its readable size: when s is the
 * active segment and the bytes were appended, pushes the writer's buffer to
 * the OS (the writer leaves appended bytes buffered until the WAL needs them
 * or its buffer fills). 0 with *size updated, or LSM_E* (error set). */
static int push_for_reader(struct vlog *vl, struct vlog_seg *s, uint64_t end, uint64_t *size)
{
    int rc = 0;
    pthread_mutex_lock(&vl->wmu);
    if (vl->active == s && vl->wf != NULL && end <= vl->wsize)
        rc = writer_op(vl, 0);
    pthread_mutex_lock(&vl->mu);
    *size = s->size;
    pthread_mutex_unlock(&vl->mu);
    pthread_mutex_unlock(&vl->wmu);
    return rc;
}

/* 1 when the stored value decodes to len bytes (as its header says). */
static int stored_len_is(struct slice stored, int flags, uint32_t len)
{
    size_t ulen;
    if (!(flags & VLOG_FLAG_SNAPPY))
        return stored.len == len;
    return snappy_uncompressed_length(stored.data, stored.len, &ulen) == SNAPPY_OK &&
           ulen == len;
}

/* 1 when the entry p names lies after the file header and inside the first
 * size bytes (a damaged pointer's offset + length may wrap around). */
static int ptr_inside(const struct vlog_ptr *p, uint64_t size)
{
    return p->offset >= VLOG_FILE_HEADER_SIZE && p->length <= size &&
           p->offset <= size - p->length;
}

int vlog_read(struct vlog *vl, const struct vlog_ptr *p, const struct slice *key,
              struct buf *value)
{
    uint64_t size = 0;
    int err = LSM_ECORRUPT;
    struct vlog_seg *s = seg_get(vl, p->segment, &size, &err);
    struct buf raw = BUF_INIT;
    struct slice k, stored;
    const char *why = NULL;
    ssize_t n;
    int flags, rc = 0;

    if (s == NULL)
        return err;
    if (!ptr_inside(p, size) && p->offset >= VLOG_FILE_HEADER_SIZE &&
        p->offset <= UINT64_MAX - p->length &&
        (rc = push_for_reader(vl, s, p->offset + p->length, &size)) != 0)
        goto out;
    if (!ptr_inside(p, size)) {
        why = "value pointer beyond the end of the segment";
        goto corrupt;
    }
    buf_reserve(&raw, p->length);
    n = io_file_pread(s->rf, raw.data, p->length, p->offset);
    if (n < 0) {
        rc = vl_error(LSM_EIO, "%s/%06" PRIu64 ".vlog: offset %" PRIu64 ": read: %s",
                      vl->dir, p->segment, p->offset, strerror((int)-n));
        goto out;
    }
    if ((size_t)n != p->length) {
        why = "entry truncated";
        goto corrupt;
    }
    raw.len = (size_t)n;
    if (vlog_entry_parse(buf_slice(&raw), &k, &stored, &flags, &why) != 0)
        goto corrupt;
    if (key != NULL && !slice_equal(k, *key)) {
        why = "entry holds another key";
        goto corrupt;
    }
    /* Before decoding: snappy's length header is read from the entry, and
     * a damaged one must not size the allocation (up to 4 GiB). */
    if (!stored_len_is(stored, flags, p->value_len)) {
        why = "value length differs from the pointer";
        goto corrupt;
    }
    if (vlog_value_decode(stored, flags, value) != 0) {
        why = "bad snappy value";
        goto corrupt;
    }
    if (value->len != p->value_len) {
        why = "value length differs from the pointer";
        goto corrupt;
    }
    /* The pointer's prefix wins: a patch (lsm_batch_patch) changed it. */
    memcpy(value->data, p->prefix, p->prefix_len);
    __atomic_add_fetch(&vl->st.reads, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&vl->st.bytes_read, p->length, __ATOMIC_RELAXED);
    goto out;
corrupt:
    rc = vl_error(LSM_ECORRUPT, "%s/%06" PRIu64 ".vlog: offset %" PRIu64 ": %s", vl->dir,
                  p->segment, p->offset, why);
out:
    buf_free(&raw);
    seg_put(vl, s);
    return rc;
}

void vlog_prefetch(struct vlog *vl, const struct vlog_ptr *p)
{
    uint64_t size;
    int err;
    struct vlog_seg *s = seg_get(vl, p->segment, &size, &err);
    if (s == NULL)
        return;
    io_file_prefetch(s->rf, p->offset, p->length);
    seg_put(vl, s);
}

void vlog_get_io_stats(struct vlog *vl, struct vlog_io_stats *out)
{
    pthread_mutex_lock(&vl->mu);
    out->bytes_written = vl->st.bytes_written;
    pthread_mutex_unlock(&vl->mu);
    out->reads = __atomic_load_n(&vl->st.reads, __ATOMIC_RELAXED);
    out->bytes_read = __atomic_load_n(&vl->st.bytes_read, __ATOMIC_RELAXED);
}

void vlog_count_read(struct vlog *vl, uint64_t bytes)
{
    __atomic_add_fetch(&vl->st.bytes_read, bytes, __ATOMIC_RELAXED);
}

/* ---- scanner ---- */

#define SCAN_CHUNK (1u << 20)

struct vlog_scanner {
    struct io_file *f;
    char *path;
    uint64_t limit;           /* bytes to consider */
    uint64_t pos;             /* offset of the next entry */
    struct buf win;           /* bytes [win_off, win_off + win.len) */
    uint64_t win_off;
    int torn;
    const char *why;
};

/* Makes [off, off + n) available in the window: 1, 0 when past limit, < 0. */
static int scan_fill(struct vlog_scanner *s, uint64_t off, size_t n)
{
    size_t want;
    ssize_t got;

    if (off + n > s->limit)
        return 0;
    if (off >= s->win_off && off + n <= s->win_off + s->win.len)
        return 1;
    want = n > SCAN_CHUNK ? n : SCAN_CHUNK;
    if (off + want > s->limit)
        want = (size_t)(s->limit - off);
    buf_clear(&s->win);
    buf_reserve(&s->win, want);
    got = io_file_pread(s->f, s->win.data, want, off);
    if (got < 0)
        return vl_error(LSM_EIO, "%s: offset %" PRIu64 ": read: %s", s->path, off,
                        strerror((int)-got));
    s->win.len = (size_t)got;
    s->win_off = off;
    return (size_t)got >= n;
}

int vlog_scan_open(struct io_env *env, const char *path, uint64_t number, uint64_t limit,
                   struct vlog_scanner **out)
{
    struct vlog_scanner *s = zcalloc(sizeof *s);
    int64_t fsz;
    int rc;

    *out = NULL;
    env = env ? env : io_env_posix();
    rc = io_open_read(env, path, &s->f);
    if (rc != 0) {
        zfree(s);
        return vl_error(rc == -ENOENT ? LSM_ECORRUPT : LSM_EIO, "%s: open: %s", path,
                        strerror(-rc));
    }
    s->path = zstrdup(path);
    fsz = io_file_size(s->f);
    s->limit = fsz < 0 ? 0 : (uint64_t)fsz;
    if (limit < s->limit)
        s->limit = limit;
    rc = scan_fill(s, 0, VLOG_FILE_HEADER_SIZE);
    if (rc <= 0 || memcmp(s->win.data, VLOG_MAGIC, 8) != 0 ||
        decode_fixed64(s->win.data + 8) != number) {
        if (rc == 0 || rc == 1)
            rc = vl_error(LSM_ECORRUPT, "%s: offset 0: %s", path,
                          rc == 0 ? "file shorter than its header" : "bad file header");
        vlog_scan_close(s);
        return rc;
    }
    s->pos = VLOG_FILE_HEADER_SIZE;
    *out = s;
    return 0;
}

static int scan_stop(struct vlog_scanner *s, const char *why)
{
    s->torn = 1;
    s->why = why;
    return 0;
}

int vlog_scan_next(struct vlog_scanner *s, struct slice *key, struct slice *stored,
                   int *flags, uint64_t *offset, uint32_t *length)
{
    uint64_t klen, slen, total;
    const char *why;
    int rc;

    if (s->torn || s->pos >= s->limit)
        return 0;
    rc = scan_fill(s, s->pos, VLOG_ENTRY_HEADER_SIZE);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return scan_stop(s, "truncated entry header");
    klen = decode_fixed32(s->win.data + (s->pos - s->win_off) + 4);
    slen = decode_fixed32(s->win.data + (s->pos - s->win_off) + 8);
    total = VLOG_ENTRY_HEADER_SIZE + klen + slen;
    rc = scan_fill(s, s->pos, (size_t)total);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return scan_stop(s, "truncated entry");
    if (vlog_entry_parse(slice_make(s->win.data + (s->pos - s->win_off), (size_t)total), key,
                         stored, flags, &why) != 0)
        return scan_stop(s, why);
    *offset = s->pos;
    *length = (uint32_t)total;
    s->pos += total;
    return 1;
}

int vlog_scan_torn(const struct vlog_scanner *s)
{
    return s->torn;
}

uint64_t vlog_scan_end(const struct vlog_scanner *s)
{
    return s->pos;
}

const char *vlog_scan_why(const struct vlog_scanner *s)
{
    return s->why ? s->why : "";
}

void vlog_scan_close(struct vlog_scanner *s)
{
    if (s == NULL)
        return;
    io_file_close(s->f);
    buf_free(&s->win);
    zfree(s->path);
    zfree(s);
}
