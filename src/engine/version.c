/* version.c: version edits, versions, the version set and the MANIFEST
 * (see version.h and docs/format-manifest.md). */
#include "engine/version.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lsm.h"
#include "engine/table_cache.h"
#include "engine/wal.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/log.h"
#include "util/zmalloc.h"

/* ---- file names ---- */

void db_file_path(struct buf *out, const char *dir, enum db_file_type t, uint64_t number)
{
    char tmp[64];

    buf_clear(out);
    buf_append(out, dir, strlen(dir));
    buf_append_byte(out, '/');
    switch (t) {
    case DB_FILE_WAL: snprintf(tmp, sizeof tmp, "%06" PRIu64 ".wal", number); break;
    case DB_FILE_SST: snprintf(tmp, sizeof tmp, "%06" PRIu64 ".sst", number); break;
    case DB_FILE_VLOG: snprintf(tmp, sizeof tmp, "%06" PRIu64 ".vlog", number); break;
    case DB_FILE_MANIFEST: snprintf(tmp, sizeof tmp, "MANIFEST-%06" PRIu64, number); break;
    case DB_FILE_CURRENT: snprintf(tmp, sizeof tmp, "CURRENT"); break;
    case DB_FILE_LOCK: snprintf(tmp, sizeof tmp, "LOCK"); break;
    case DB_FILE_TEMP: snprintf(tmp, sizeof tmp, "%06" PRIu64 ".dbtmp", number); break;
    default: tmp[0] = '\0'; break;
    }
    buf_append(out, tmp, strlen(tmp));
    buf_cstr(out);
}

static int parse_number(const char *s, const char **end, uint64_t *n)
{
    uint64_t v = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == s)
        return -1;
    *end = p;
    *n = v;
    return 0;
}

enum db_file_type db_file_parse(const char *name, uint64_t *number)
{
    const char *end;
    static const struct { const char *ext; enum db_file_type t; } exts[] = {
        { ".wal", DB_FILE_WAL }, { ".sst", DB_FILE_SST },
        { ".vlog", DB_FILE_VLOG }, { ".dbtmp", DB_FILE_TEMP },
    };
    size_t i;

    *number = 0;
    if (strcmp(name, "CURRENT") == 0)
        return DB_FILE_CURRENT;
    if (strcmp(name, "LOCK") == 0)
        return DB_FILE_LOCK;
    if (strncmp(name, "MANIFEST-", 9) == 0) {
        if (parse_number(name + 9, &end, number) == 0 && *end == '\0')
            return DB_FILE_MANIFEST;
        return DB_FILE_UNKNOWN;
    }
    if (parse_number(name, &end, number) != 0)
        return DB_FILE_UNKNOWN;
    for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcmp(end, exts[i].ext) == 0)
            return exts[i].t;
    return DB_FILE_UNKNOWN;
}

int version_errno(int neg_errno)
{
    if (neg_errno == -ENOSPC)
        return LSM_ENOSPC;
    if (neg_errno == -ENOENT)
        return LSM_ENOENT;
    return LSM_EIO;
}

/* ---- file metadata ---- */

struct file_meta *file_meta_create(uint64_t number, uint64_t size,
                                   struct slice smallest, struct slice largest,
                                   uint64_t smallest_seq, uint64_t largest_seq)
{
    struct file_meta *f = zcalloc(sizeof *f);
    f->refs = 1;
    f->number = number;
    f->size = size;
    buf_set(&f->smallest, smallest.data, smallest.len);
    buf_set(&f->largest, largest.data, largest.len);
    f->smallest_seq = smallest_seq;
    f->largest_seq = largest_seq;
    return f;
}

void file_meta_unref(struct file_meta *f)
{
    if (f == NULL)
        return;
    if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    table_cache_unpin(__atomic_load_n(&f->pin, __ATOMIC_ACQUIRE));
    buf_free(&f->smallest);
    buf_free(&f->largest);
    zfree(f);
}

/* ---- version edits ---- */

enum edit_tag {
    TAG_COMPARATOR = 1,
    TAG_LOG_NUMBER = 2,
    TAG_NEXT_FILE = 3,
    TAG_LAST_SEQ = 4,
    TAG_DELETED_FILE = 6,
    TAG_NEW_FILE = 7,
    TAG_VLOG_ADD = 20,
    TAG_VLOG_REMOVE = 21,
    TAG_VLOG_DISCARD = 22,
    TAG_IGNORABLE_MIN = 64   /* tags >= 64: varint length + payload, skippable */
};

void version_edit_init(struct version_edit *e)
{
    memset(e, 0, sizeof *e);
}

void version_edit_free(struct version_edit *e)
{
    int i;

    for (i = 0; i < e->nadded; i++)
        file_meta_unref(e->added[i].f);
    zfree(e->added);
    zfree(e->deleted);
    zfree(e->vlog_added);
    zfree(e->vlog_removed);
    zfree(e->vlog_discard);
    buf_free(&e->comparator);
    memset(e, 0, sizeof *e);
}

void version_edit_set_log_number(struct version_edit *e, uint64_t n)
{
    e->has_log_number = 1;
    e->log_number = n;
}

void version_edit_set_next_file(struct version_edit *e, uint64_t n)
{
    e->has_next_file = 1;
    e->next_file = n;
}

void version_edit_set_last_seq(struct version_edit *e, uint64_t s)
{
    e->has_last_seq = 1;
    e->last_seq = s;
}

void version_edit_set_comparator(struct version_edit *e, const char *name)
{
    e->has_comparator = 1;
    buf_set(&e->comparator, name, strlen(name));
}

#define GROW(arr, n, cap) do {                                         \
        if ((n) == (cap)) {                                            \
            (cap) = (cap) ? (cap) * 2 : 4;                             \
            (arr) = zrealloc((arr), sizeof(*(arr)) * (size_t)(cap));   \
        }                                                              \
    } while (0)

void version_edit_add_file(struct version_edit *e, int level, struct file_meta *f)
{
    GROW(e->added, e->nadded, e->cadded);
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    e->added[e->nadded].level = level;
    e->added[e->nadded].f = f;
    e->nadded++;
}

void version_edit_delete_file(struct version_edit *e, int level, uint64_t number)
{
    GROW(e->deleted, e->ndeleted, e->cdeleted);
    e->deleted[e->ndeleted].level = level;
    e->deleted[e->ndeleted].number = number;
    e->ndeleted++;
}

static void vlog_push(struct edit_vlog **arr, int *n, int *cap, uint64_t num, uint64_t v)
{
    GROW(*arr, *n, *cap);
    (*arr)[*n].number = num;
    (*arr)[*n].value = v;
    (*n)++;
}

void version_edit_vlog_add(struct version_edit *e, uint64_t number, uint64_t size)
{
    vlog_push(&e->vlog_added, &e->nvlog_added, &e->cvlog_added, number, size);
}

void version_edit_vlog_remove(struct version_edit *e, uint64_t number)
{
    vlog_push(&e->vlog_removed, &e->nvlog_removed, &e->cvlog_removed, number, 0);
}

void version_edit_vlog_discard(struct version_edit *e, uint64_t number, uint64_t bytes)
{
    vlog_push(&e->vlog_discard, &e->nvlog_discard, &e->cvlog_discard, number, bytes);
}

void version_edit_encode(const struct version_edit *e, struct buf *out)
{
    int i;

    if (e->has_comparator) {
        put_varint32(out, TAG_COMPARATOR);
        put_length_prefixed(out, buf_slice(&e->comparator));
    }
    if (e->has_log_number) {
        put_varint32(out, TAG_LOG_NUMBER);
        put_varint64(out, e->log_number);
    }
    if (e->has_next_file) {
        put_varint32(out, TAG_NEXT_FILE);
        put_varint64(out, e->next_file);
    }
    if (e->has_last_seq) {
        put_varint32(out, TAG_LAST_SEQ);
        put_varint64(out, e->last_seq);
    }
    for (i = 0; i < e->ndeleted; i++) {
        put_varint32(out, TAG_DELETED_FILE);
        put_varint32(out, (uint32_t)e->deleted[i].level);
        put_varint64(out, e->deleted[i].number);
    }
    for (i = 0; i < e->nadded; i++) {
        const struct file_meta *f = e->added[i].f;
        put_varint32(out, TAG_NEW_FILE);
        put_varint32(out, (uint32_t)e->added[i].level);
        put_varint64(out, f->number);
        put_varint64(out, f->size);
        put_length_prefixed(out, buf_slice(&f->smallest));
        put_length_prefixed(out, buf_slice(&f->largest));
        put_varint64(out, f->smallest_seq);
        put_varint64(out, f->largest_seq);
    }
    for (i = 0; i < e->nvlog_added; i++) {
        put_varint32(out, TAG_VLOG_ADD);
        put_varint64(out, e->vlog_added[i].number);
        put_varint64(out, e->vlog_added[i].value);
    }
    for (i = 0; i < e->nvlog_removed; i++) {
        put_varint32(out, TAG_VLOG_REMOVE);
        put_varint64(out, e->vlog_removed[i].number);
    }
    for (i = 0; i < e->nvlog_discard; i++) {
        put_varint32(out, TAG_VLOG_DISCARD);
        put_varint64(out, e->vlog_discard[i].number);
        put_varint64(out, e->vlog_discard[i].value);
    }
}

static int get_level(struct slice *in, int *level)
{
    uint32_t v;
    if (get_varint32(in, &v) != 0 || v >= LSM_NUM_LEVELS)
        return -1;
    *level = (int)v;
    return 0;
}

static int decode_new_file(struct version_edit *e, struct slice *in)
{
    int level;
    uint64_t num, size, sseq, lseq;
    struct slice sm, lg;
    struct file_meta *f;

    if (get_level(in, &level) != 0 || get_varint64(in, &num) != 0 ||
        get_varint64(in, &size) != 0 || get_length_prefixed(in, &sm) != 0 ||
        get_length_prefixed(in, &lg) != 0 || get_varint64(in, &sseq) != 0 ||
        get_varint64(in, &lseq) != 0)
        return -1;
    if (sm.len < LSM_TRAILER_LEN || lg.len < LSM_TRAILER_LEN ||
        ikey_compare(sm, lg) > 0)
        return -1;
    f = file_meta_create(num, size, sm, lg, sseq, lseq);
    version_edit_add_file(e, level, f);
    file_meta_unref(f);
    return 0;
}

int version_edit_decode(struct version_edit *e, struct slice in, const char **why)
{
    const char *msg = NULL;

    version_edit_init(e);
    while (in.len > 0 && msg == NULL) {
        uint32_t tag;
        uint64_t a, b;
        int level;
        struct slice s;

        if (get_varint32(&in, &tag) != 0) {
            msg = "bad tag";
            break;
        }
        switch (tag) {
        case TAG_COMPARATOR:
            if (get_length_prefixed(&in, &s) != 0)
                msg = "bad comparator name";
            else {
                e->has_comparator = 1;
                buf_set(&e->comparator, s.data, s.len);
            }
            break;
        case TAG_LOG_NUMBER:
            if (get_varint64(&in, &a) != 0)
                msg = "bad log number";
            else
                version_edit_set_log_number(e, a);
            break;
        case TAG_NEXT_FILE:
            if (get_varint64(&in, &a) != 0)
                msg = "bad next file number";
            else
                version_edit_set_next_file(e, a);
            break;
        case TAG_LAST_SEQ:
            if (get_varint64(&in, &a) != 0 || a > LSM_MAX_SEQ)
                msg = "bad last sequence";
            else
                version_edit_set_last_seq(e, a);
            break;
        case TAG_DELETED_FILE:
            if (get_level(&in, &level) != 0 || get_varint64(&in, &a) != 0)
                msg = "bad deleted-file record";
            else
                version_edit_delete_file(e, level, a);
            break;
        case TAG_NEW_FILE:
            if (decode_new_file(e, &in) != 0)
                msg = "bad new-file record";
            break;
        case TAG_VLOG_ADD:
            if (get_varint64(&in, &a) != 0 || get_varint64(&in, &b) != 0)
                msg = "bad vlog-add record";
            else
                version_edit_vlog_add(e, a, b);
            break;
        case TAG_VLOG_REMOVE:
            if (get_varint64(&in, &a) != 0)
                msg = "bad vlog-remove record";
            else
                version_edit_vlog_remove(e, a);
            break;
        case TAG_VLOG_DISCARD:
            if (get_varint64(&in, &a) != 0 || get_varint64(&in, &b) != 0)
                msg = "bad vlog-discard record";
            else
                version_edit_vlog_discard(e, a, b);
            break;
        default:
            if (tag >= TAG_IGNORABLE_MIN) {
                if (get_length_prefixed(&in, &s) != 0)
                    msg = "bad ignorable record";
            } else {
                msg = "unknown tag";
            }
            break;
        }
    }
    if (msg != NULL) {
        if (why)
            *why = msg;
        version_edit_free(e);
        return LSM_ECORRUPT;
    }
    return 0;
}

/* ---- versions ---- */

static struct version *version_new(struct version_set *vs)
{
    struct version *v = zcalloc(sizeof *v);
    v->vset = vs;
    v->prev = v->next = v;
    return v;
}

static void version_link(struct version_set *vs, struct version *v)
{
    v->next = &vs->head;
    v->prev = vs->head.prev;
    v->prev->next = v;
    v->next->prev = v;
}

void version_ref(struct version *v)
{
    v->refs++;
}

void version_unref(struct version *v)
{
    int l, i;

    if (v == NULL || --v->refs > 0)
        return;
    v->prev->next = v->next;
    v->next->prev = v->prev;
    for (l = 0; l < LSM_NUM_LEVELS; l++) {
        for (i = 0; i < v->nfiles[l]; i++)
            file_meta_unref(v->files[l][i]);
        zfree(v->files[l]);
    }
    zfree(v);
}

uint64_t version_level_bytes(const struct version *v, int level)
{
    uint64_t s = 0;
    int i;
    for (i = 0; i < v->nfiles[level]; i++)
        s += v->files[level][i]->size;
    return s;
}

int version_find_file(const struct version *v, int level, struct slice ikey)
{
    int lo = 0, hi = v->nfiles[level];

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ikey_compare(buf_slice(&v->files[level][mid]->largest), ikey) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int file_before(const struct slice *ukey, const struct file_meta *f)
{
    /* ukey (upper bound) is before f entirely */
    return ukey != NULL && slice_compare(*ukey, ikey_user_key(buf_slice(&f->smallest))) < 0;
}

static int file_after(const struct slice *ukey, const struct file_meta *f)
{
    return ukey != NULL && slice_compare(*ukey, ikey_user_key(buf_slice(&f->largest))) > 0;
}

int version_overlap_in_level(const struct version *v, int level,
                             const struct slice *a, const struct slice *b)
{
    int i;

    if (level == 0) {
        for (i = 0; i < v->nfiles[0]; i++)
            if (!file_after(a, v->files[0][i]) && !file_before(b, v->files[0][i]))
                return 1;
        return 0;
    }
    if (a != NULL) {
        struct buf k = BUF_INIT;
        ikey_append(&k, *a, LSM_MAX_SEQ, LSM_TYPE_SEEK);
        i = version_find_file(v, level, buf_slice(&k));
        buf_free(&k);
    } else {
        i = 0;
    }
    if (i >= v->nfiles[level])
        return 0;
    return !file_before(b, v->files[level][i]);
}

void version_overlapping(const struct version *v, int level,
                         const struct slice *a, const struct slice *b,
                         struct file_meta ***out, int *n)
{
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    int has_lo = a != NULL, has_hi = b != NULL;
    int i, cnt = 0;
    struct file_meta **res = zmalloc(sizeof(*res) * (size_t)(v->nfiles[level] + 1));

    if (has_lo)
        buf_set(&lo, a->data, a->len);
    if (has_hi)
        buf_set(&hi, b->data, b->len);
    for (i = 0; i < v->nfiles[level]; i++) {
        struct file_meta *f = v->files[level][i];
        struct slice fs = ikey_user_key(buf_slice(&f->smallest));
        struct slice fl = ikey_user_key(buf_slice(&f->largest));
        if (has_lo && slice_compare(fl, buf_slice(&lo)) < 0)
            continue;
        if (has_hi && slice_compare(fs, buf_slice(&hi)) > 0)
            continue;
        res[cnt++] = f;
        if (level == 0) {
            /* L0 files overlap each other: widen the range and restart
             * when this file extends it. */
            int widened = 0;
            if (has_lo && slice_compare(fs, buf_slice(&lo)) < 0) {
                buf_set(&lo, fs.data, fs.len);
                widened = 1;
            }
            if (has_hi && slice_compare(fl, buf_slice(&hi)) > 0) {
                buf_set(&hi, fl.data, fl.len);
                widened = 1;
            }
            if (widened) {
                cnt = 0;
                i = -1;
            }
        }
    }
    buf_free(&lo);
    buf_free(&hi);
    *out = res;
    *n = cnt;
}

/* ---- level (concatenating) iterator ---- */

struct level_iter {
    struct iter base;
    struct file_meta **files;
    int n;
    int idx;                  /* file of cur, or -1 / n */
    struct iter *cur;
    version_open_fn open_fn;
    void *arg;
    int status;
};

static void li_set_file(struct level_iter *li, int idx)
{
    if (li->cur != NULL && li->idx == idx)
        return;
    if (li->cur != NULL) {
        int st = iter_status(li->cur);
        if (st != 0 && li->status == 0)
            li->status = st;
        iter_destroy(li->cur);
        li->cur = NULL;
    }
    li->idx = idx;
    if (idx >= 0 && idx < li->n)
        li->cur = li->open_fn(li->arg, li->files[idx]);
}

static int li_cur_valid(const struct level_iter *li)
{
    return li->cur != NULL && iter_valid(li->cur);
}

/* The current file is exhausted forward: move to the next non-empty one. */
static void li_skip_forward(struct level_iter *li)
{
    while (!li_cur_valid(li)) {
        if (li->cur != NULL && iter_status(li->cur) != 0) {
            li->status = iter_status(li->cur);
            return;
        }
        if (li->idx + 1 >= li->n) {
            li_set_file(li, li->n);
            return;
        }
        li_set_file(li, li->idx + 1);
        iter_seek_to_first(li->cur);
    }
}

static void li_skip_backward(struct level_iter *li)
{
    while (!li_cur_valid(li)) {
        if (li->cur != NULL && iter_status(li->cur) != 0) {
            li->status = iter_status(li->cur);
            return;
        }
        if (li->idx - 1 < 0) {
            li_set_file(li, -1);
            return;
        }
        li_set_file(li, li->idx - 1);
        iter_seek_to_last(li->cur);
    }
}

static int li_valid(const struct iter *it)
{
    const struct level_iter *li = (const struct level_iter *)it;
    return li->status == 0 && li_cur_valid(li);
}

static void li_seek_to_first(struct iter *it)
{
    struct level_iter *li = (struct level_iter *)it;
    li_set_file(li, 0);
    if (li->cur)
        iter_seek_to_first(li->cur);
    li_skip_forward(li);
}

static void li_seek_to_last(struct iter *it)
{
    struct level_iter *li = (struct level_iter *)it;
    li_set_file(li, li->n - 1);
    if (li->cur)
        iter_seek_to_last(li->cur);
    li_skip_backward(li);
}

static int li_find(const struct level_iter *li, struct slice ikey)
{
    int lo = 0, hi = li->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ikey_compare(buf_slice(&li->files[mid]->largest), ikey) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void li_seek(struct iter *it, struct slice t)
{
    struct level_iter *li = (struct level_iter *)it;
    li_set_file(li, li_find(li, t));
    if (li->cur)
        iter_seek(li->cur, t);
    li_skip_forward(li);
}

static void li_seek_for_prev(struct iter *it, struct slice t)
{
    struct level_iter *li = (struct level_iter *)it;
    int idx = li_find(li, t);
    if (idx >= li->n)
        idx = li->n - 1;
    li_set_file(li, idx);
    if (li->cur)
        iter_seek_for_prev(li->cur, t);
    li_skip_backward(li);
}

static void li_next(struct iter *it)
{
    struct level_iter *li = (struct level_iter *)it;
    iter_next(li->cur);
    li_skip_forward(li);
}

static void li_prev(struct iter *it)
{
    struct level_iter *li = (struct level_iter *)it;
    iter_prev(li->cur);
    li_skip_backward(li);
}

static struct slice li_key(const struct iter *it)
{
    return iter_key(((const struct level_iter *)it)->cur);
}

static struct slice li_value(const struct iter *it)
{
    return iter_value(((const struct level_iter *)it)->cur);
}

static int li_status(const struct iter *it)
{
    const struct level_iter *li = (const struct level_iter *)it;
    if (li->status != 0)
        return li->status;
    return li->cur ? iter_status(li->cur) : 0;
}

static void li_destroy(struct iter *it)
{
    struct level_iter *li = (struct level_iter *)it;
    iter_destroy(li->cur);
    zfree(li->files);
    zfree(li);
}

static const struct iter_ops level_ops = {
    li_valid, li_seek_to_first, li_seek_to_last, li_seek, li_seek_for_prev,
    li_next, li_prev, li_key, li_value, li_status, li_destroy
};

/* The caller keeps the files alive (a version reference) while the
 * iterator lives. */
struct iter *version_files_iter(struct file_meta **files, int n,
                                version_open_fn open_fn, void *arg)
{
    struct level_iter *li = zcalloc(sizeof *li);
    int i;

    li->base.ops = &level_ops;
    li->files = zmalloc(sizeof(*li->files) * (size_t)(n > 0 ? n : 1));
    for (i = 0; i < n; i++)
        li->files[i] = files[i];
    li->n = n;
    li->idx = -1;
    li->open_fn = open_fn;
    li->arg = arg;
    return &li->base;
}

struct iter *version_level_iter(struct version *v, int level,
                                version_open_fn open_fn, void *arg)
{
    return version_files_iter(v->files[level], v->nfiles[level], open_fn, arg);
}

/* ---- version set ---- */

struct version_set *version_set_create(struct io_env *env, const char *dir)
{
    struct version_set *vs = zcalloc(sizeof *vs);

    vs->env = env ? env : io_env_posix();
    vs->dir = zstrdup(dir);
    vs->next_file = 2;
    vs->manifest_max = VERSION_MANIFEST_MAX;
    vs->head.prev = vs->head.next = &vs->head;
    pthread_cond_init(&vs->write_cv, NULL);
    vs->current = version_new(vs);
    version_link(vs, vs->current);
    version_ref(vs->current);
    return vs;
}

void version_set_destroy(struct version_set *vs)
{
    int l;

    if (vs == NULL)
        return;
    if (vs->current)
        version_unref(vs->current);
    /* Anything left is a leak by the caller; free it anyway. */
    while (vs->head.next != &vs->head) {
        struct version *v = vs->head.next;
        v->refs = 1;
        version_unref(v);
    }
    wal_writer_close(vs->manifest);
    for (l = 0; l < LSM_NUM_LEVELS; l++)
        buf_free(&vs->compact_ptr[l]);
    zfree(vs->vlog);
    pthread_cond_destroy(&vs->write_cv);
    zfree(vs->dir);
    zfree(vs);
}

uint64_t version_set_new_file_number(struct version_set *vs)
{
    return vs->next_file++;
}

int version_set_live_versions(struct version_set *vs)
{
    int n = 0;
    struct version *v;
    for (v = vs->head.next; v != &vs->head; v = v->next)
        n++;
    return n;
}

void version_set_live_files(struct version_set *vs,
                            void (*fn)(void *arg, uint64_t number), void *arg)
{
    struct version *v;
    int l, i;

    for (v = vs->head.next; v != &vs->head; v = v->next)
        for (l = 0; l < LSM_NUM_LEVELS; l++)
            for (i = 0; i < v->nfiles[l]; i++)
                fn(arg, v->files[l][i]->number);
}

/* Mutable per-level lists used to build a version from a base and edits. */
struct vbuilder {
    struct file_meta **files[LSM_NUM_LEVELS];
    int n[LSM_NUM_LEVELS], cap[LSM_NUM_LEVELS];
};

static void vb_push(struct vbuilder *b, int level, struct file_meta *f)
{
    GROW(b->files[level], b->n[level], b->cap[level]);
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    b->files[level][b->n[level]++] = f;
}

static void vb_init(struct vbuilder *b, const struct version *base)
{
    int l, i;
    memset(b, 0, sizeof *b);
    for (l = 0; l < LSM_NUM_LEVELS; l++)
        for (i = 0; i < base->nfiles[l]; i++)
            vb_push(b, l, base->files[l][i]);
}

static void vb_free(struct vbuilder *b)
{
    int l, i;
    for (l = 0; l < LSM_NUM_LEVELS; l++) {
        for (i = 0; i < b->n[l]; i++)
            file_meta_unref(b->files[l][i]);
        zfree(b->files[l]);
    }
}

/* Applies e's file changes; -1 when it deletes a file that is not there or
 * adds one twice (a corrupt manifest or a bug). */
static int vb_apply(struct vbuilder *b, const struct version_edit *e)
{
    int i, j, k;

    for (i = 0; i < e->ndeleted; i++) {
        int l = e->deleted[i].level, found = 0;
        for (j = 0; j < b->n[l]; j++) {
            if (b->files[l][j]->number == e->deleted[i].number) {
                file_meta_unref(b->files[l][j]);
                b->files[l][j] = b->files[l][--b->n[l]];
                found = 1;
                break;
            }
        }
        if (!found)
            return -1;
    }
    for (i = 0; i < e->nadded; i++) {
        int l = e->added[i].level;
        for (k = 0; k < LSM_NUM_LEVELS; k++)
            for (j = 0; j < b->n[k]; j++)
                if (b->files[k][j]->number == e->added[i].f->number)
                    return -1;
        vb_push(b, l, e->added[i].f);
    }
    return 0;
}

static int cmp_by_number(const void *a, const void *b)
{
    const struct file_meta *fa = *(struct file_meta *const *)a;
    const struct file_meta *fb = *(struct file_meta *const *)b;
    return fa->number < fb->number ? -1 : fa->number > fb->number;
}

static int cmp_by_smallest(const void *a, const void *b)
{
    const struct file_meta *fa = *(struct file_meta *const *)a;
    const struct file_meta *fb = *(struct file_meta *const *)b;
    int r = ikey_compare(buf_slice(&fa->smallest), buf_slice(&fb->smallest));
    if (r != 0)
        return r;
    return fa->number < fb->number ? -1 : fa->number > fb->number;
}

/* Moves the builder's lists into a new version; -1 when files of a level
 * >= 1 overlap in user keys (the version is freed). */
static int vb_save(struct vbuilder *b, struct version_set *vs, struct version **out)
{
    struct version *v = version_new(vs);
    int l, i, bad = 0;

    for (l = 0; l < LSM_NUM_LEVELS; l++) {
        v->files[l] = b->files[l];
        v->nfiles[l] = b->n[l];
        b->files[l] = NULL;
        b->n[l] = b->cap[l] = 0;
        if (v->nfiles[l] > 1)
            qsort(v->files[l], (size_t)v->nfiles[l], sizeof(*v->files[l]),
                  l == 0 ? cmp_by_number : cmp_by_smallest);
        if (l > 0)
            for (i = 1; i < v->nfiles[l]; i++)
                /* Disjoint in user keys: a user key never spans two files
                 * of a sorted level (compaction cuts only between keys). */
                if (slice_compare(ikey_user_key(buf_slice(&v->files[l][i - 1]->largest)),
                                  ikey_user_key(buf_slice(&v->files[l][i]->smallest))) >= 0)
                    bad = 1;
    }
    if (bad) {
        v->refs = 1;
        v->prev = v->next = v;
        version_unref(v);
        return -1;
    }
    *out = v;
    return 0;
}

static struct vlog_segment *vlog_find(struct version_set *vs, uint64_t number)
{
    int i;
    for (i = 0; i < vs->nvlog; i++)
        if (vs->vlog[i].number == number)
            return &vs->vlog[i];
    return NULL;
}

static void vlog_apply(struct version_set *vs, const struct version_edit *e)
{
    int i;

    for (i = 0; i < e->nvlog_added; i++) {
        struct vlog_segment *s = vlog_find(vs, e->vlog_added[i].number);
        if (s == NULL) {
            GROW(vs->vlog, vs->nvlog, vs->cvlog);
            s = &vs->vlog[vs->nvlog++];
            s->number = e->vlog_added[i].number;
            s->discard = 0;
        }
        s->size = e->vlog_added[i].value;
    }
    for (i = 0; i < e->nvlog_discard; i++) {
        struct vlog_segment *s = vlog_find(vs, e->vlog_discard[i].number);
        if (s != NULL)
            s->discard += e->vlog_discard[i].value;
    }
    for (i = 0; i < e->nvlog_removed; i++) {
        struct vlog_segment *s = vlog_find(vs, e->vlog_removed[i].number);
        if (s != NULL)
            *s = vs->vlog[--vs->nvlog];
    }
}

/* The whole state as one edit (first record of a new manifest). */
static void encode_snapshot(struct version_set *vs, struct buf *out)
{
    struct version_edit e;
    int l, i;

    version_edit_init(&e);
    version_edit_set_comparator(&e, VERSION_COMPARATOR_NAME);
    for (l = 0; l < LSM_NUM_LEVELS; l++)
        for (i = 0; i < vs->current->nfiles[l]; i++)
            version_edit_add_file(&e, l, vs->current->files[l][i]);
    for (i = 0; i < vs->nvlog; i++) {
        version_edit_vlog_add(&e, vs->vlog[i].number, vs->vlog[i].size);
        if (vs->vlog[i].discard)
            version_edit_vlog_discard(&e, vs->vlog[i].number, vs->vlog[i].discard);
    }
    version_edit_encode(&e, out);
    version_edit_free(&e);
}

int version_set_write_current(struct io_env *env, const char *dir, uint64_t number)
{
    struct buf tmp = BUF_INIT, cur = BUF_INIT;
    struct io_file *f = NULL;
    char content[64];
    int n, rc;

    n = snprintf(content, sizeof content, "MANIFEST-%06" PRIu64 "\n", number);
    db_file_path(&tmp, dir, DB_FILE_TEMP, number);
    db_file_path(&cur, dir, DB_FILE_CURRENT, 0);
    rc = io_open_append(env, tmp.data, &f);
    if (rc == 0)
        rc = io_file_append(f, content, (size_t)n);
    if (rc == 0)
        rc = io_file_sync(f);
    if (f != NULL) {
        int rc2 = io_file_close(f);
        if (rc == 0)
            rc = rc2;
    }
    /* The names of the new manifest (synced by the caller) and of the temp
     * file must be durable before CURRENT can name them: a crash may keep
     * the rename but lose a create whose directory was not synced. */
    if (rc == 0)
        rc = io_sync_dir(env, dir);
    if (rc == 0)
        rc = io_rename(env, tmp.data, cur.data);
    if (rc == 0)
        rc = io_sync_dir(env, dir);
    if (rc != 0)
        io_unlink(env, tmp.data);
    buf_free(&tmp);
    buf_free(&cur);
    return rc == 0 ? 0 : version_errno(rc);
}

/* Opens MANIFEST-number and writes the snapshot record; unlocked. */
static int new_manifest(struct version_set *vs, uint64_t number, struct slice snap,
                        struct wal_writer **out)
{
    struct buf path = BUF_INIT;
    int rc;

    db_file_path(&path, vs->dir, DB_FILE_MANIFEST, number);
    rc = wal_writer_open(vs->env, path.data, out);
    if (rc == 0)
        rc = wal_writer_add(*out, snap);
    if (rc != 0)
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: write failed: %s",
                 path.data, lsm_strerror(rc));
    buf_free(&path);
    return rc;
}

int version_set_log_and_apply(struct version_set *vs, struct version_edit *e,
                              pthread_mutex_t *mu)
{
    struct vbuilder b;
    struct version *v = NULL;
    struct wal_writer *w = NULL, *fresh = NULL;
    struct buf rec = BUF_INIT, snap = BUF_INIT;
    uint64_t mnum = 0;
    int rc = 0;

    while (vs->writing)
        pthread_cond_wait(&vs->write_cv, mu);
    vs->writing = 1;

    if (!e->has_log_number)
        version_edit_set_log_number(e, vs->log_number);
    else if (e->log_number < vs->log_number)
        e->log_number = vs->log_number;
    version_edit_set_last_seq(e, vs->last_seq);

    vb_init(&b, vs->current);
    if (vb_apply(&b, e) != 0 || vb_save(&b, vs, &v) != 0) {
        vb_free(&b);
        snprintf(vs->errmsg, sizeof vs->errmsg,
                 "version edit does not apply to the current version");
        rc = LSM_ECORRUPT;
        goto out_locked;
    }
    vb_free(&b);

    if (vs->manifest == NULL || wal_writer_size(vs->manifest) >= vs->manifest_max) {
        mnum = version_set_new_file_number(vs);
        encode_snapshot(vs, &snap);
    }
    version_edit_set_next_file(e, vs->next_file);
    version_edit_encode(e, &rec);
    w = vs->manifest;

    pthread_mutex_unlock(mu);
    if (mnum != 0) {
        rc = new_manifest(vs, mnum, buf_slice(&snap), &fresh);
        w = fresh;
    }
    if (rc == 0) {
        rc = wal_writer_add(w, buf_slice(&rec));
        if (rc == 0)
            rc = wal_writer_sync(w);
        if (rc != 0)
            snprintf(vs->errmsg, sizeof vs->errmsg, "manifest write/sync failed: %s",
                     lsm_strerror(rc));
    }
    if (rc == 0 && mnum != 0) {
        rc = version_set_write_current(vs->env, vs->dir, mnum);
        if (rc != 0)
            snprintf(vs->errmsg, sizeof vs->errmsg, "%s/CURRENT: switch failed: %s",
                     vs->dir, lsm_strerror(rc));
    }
    pthread_mutex_lock(mu);

    if (rc == 0) {
        if (fresh != NULL) {
            wal_writer_close(vs->manifest);
            vs->manifest = fresh;
            vs->manifest_number = mnum;
        }
        version_link(vs, v);
        version_ref(v);
        version_unref(vs->current);
        vs->current = v;
        v = NULL;
        vs->log_number = e->log_number;
        vlog_apply(vs, e);
        if (vs->installed != NULL)
            vs->installed(vs->installed_arg);
    } else {
        /* The record may or may not be on disk: never append to this
         * manifest again; the next apply writes a complete new one. */
        wal_writer_close(fresh);
        wal_writer_close(vs->manifest);
        vs->manifest = NULL;
        log_warning("lsm: manifest update failed: %s", vs->errmsg);
    }
out_locked:
    if (v != NULL) {
        v->refs = 1;
        v->prev = v->next = v;
        version_unref(v);
    }
    buf_free(&rec);
    buf_free(&snap);
    vs->writing = 0;
    pthread_cond_broadcast(&vs->write_cv);
    return rc;
}

int version_set_create_new(struct version_set *vs)
{
    struct version_edit e;
    struct wal_writer *w = NULL;
    struct buf rec = BUF_INIT, path = BUF_INIT;
    int rc;

    version_edit_init(&e);
    version_edit_set_comparator(&e, VERSION_COMPARATOR_NAME);
    version_edit_set_log_number(&e, 0);
    version_edit_set_next_file(&e, 2);
    version_edit_set_last_seq(&e, 0);
    version_edit_encode(&e, &rec);
    version_edit_free(&e);
    db_file_path(&path, vs->dir, DB_FILE_MANIFEST, 1);
    rc = wal_writer_open(vs->env, path.data, &w);
    if (rc == 0)
        rc = wal_writer_add(w, buf_slice(&rec));
    if (rc == 0)
        rc = wal_writer_sync(w);
    if (w != NULL) {
        int rc2 = wal_writer_close(w);
        if (rc == 0)
            rc = rc2;
    }
    if (rc == 0)
        rc = version_set_write_current(vs->env, vs->dir, 1);
    if (rc != 0) {
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: cannot create: %s",
                 path.data, lsm_strerror(rc));
        io_unlink(vs->env, path.data);
    }
    buf_free(&rec);
    buf_free(&path);
    return rc;
}

/* Reads CURRENT: the manifest number it names. */
static int read_current(struct version_set *vs, uint64_t *number)
{
    struct buf path = BUF_INIT;
    struct io_file *f = NULL;
    char data[128];
    ssize_t n;
    const char *end;
    int rc;

    db_file_path(&path, vs->dir, DB_FILE_CURRENT, 0);
    rc = io_open_read(vs->env, path.data, &f);
    if (rc != 0) {
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: %s", path.data, strerror(-rc));
        buf_free(&path);
        return rc == -ENOENT ? LSM_ENOENT : LSM_EIO;
    }
    n = io_file_pread(f, data, sizeof data - 1, 0);
    io_file_close(f);
    rc = 0;
    if (n < 0) {
        rc = LSM_EIO;
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: read: %s", path.data, strerror((int)-n));
    } else {
        data[n] = '\0';
        if (n < 11 || strncmp(data, "MANIFEST-", 9) != 0 ||
            parse_number(data + 9, &end, number) != 0 || *end != '\n' ||
            end + 1 != data + n) {
            rc = LSM_ECORRUPT;
            snprintf(vs->errmsg, sizeof vs->errmsg,
                     "%s: offset 0: malformed (expected \"MANIFEST-n\\n\")", path.data);
        }
    }
    buf_free(&path);
    return rc;
}

int version_set_recover(struct version_set *vs)
{
    struct buf path = BUF_INIT, rec = BUF_INIT;
    struct wal_reader *r = NULL;
    struct vbuilder b;
    struct version *v = NULL;
    uint64_t mnum = 0, log_number = 0, next_file = 0, last_seq = 0;
    int have_log = 0, have_next = 0, have_seq = 0;
    int rc;

    rc = read_current(vs, &mnum);
    if (rc != 0)
        return rc;
    db_file_path(&path, vs->dir, DB_FILE_MANIFEST, mnum);
    rc = wal_reader_open(vs->env, path.data, WAL_READ_STRICT, &r);
    if (rc != 0) {
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: cannot open (named by CURRENT): %s",
                 path.data, lsm_strerror(rc));
        buf_free(&path);
        /* CURRENT names a manifest that is not there: corrupt database. */
        return rc == LSM_ENOENT ? LSM_ECORRUPT : rc;
    }
    vb_init(&b, vs->current);
    for (;;) {
        struct version_edit e;
        const char *why = "";
        int n = wal_reader_next(r, &rec);
        if (n == 0)
            break;
        if (n < 0) {
            snprintf(vs->errmsg, sizeof vs->errmsg, "%s", wal_reader_error(r));
            rc = n;
            break;
        }
        if (version_edit_decode(&e, buf_slice(&rec), &why) != 0) {
            snprintf(vs->errmsg, sizeof vs->errmsg, "%s: offset %" PRIu64 ": %s",
                     path.data, wal_reader_record_offset(r), why);
            rc = LSM_ECORRUPT;
            break;
        }
        if (e.has_comparator &&
            !slice_equal(buf_slice(&e.comparator), slice_cstr(VERSION_COMPARATOR_NAME))) {
            snprintf(vs->errmsg, sizeof vs->errmsg,
                     "%s: offset %" PRIu64 ": unknown comparator %.*s", path.data,
                     wal_reader_record_offset(r), (int)e.comparator.len, e.comparator.data);
            rc = LSM_ECORRUPT;
        } else if (vb_apply(&b, &e) != 0) {
            snprintf(vs->errmsg, sizeof vs->errmsg,
                     "%s: offset %" PRIu64 ": edit does not apply (file added twice or "
                     "deleted while absent)", path.data, wal_reader_record_offset(r));
            rc = LSM_ECORRUPT;
        } else {
            if (e.has_log_number) { log_number = e.log_number; have_log = 1; }
            if (e.has_next_file) { next_file = e.next_file; have_next = 1; }
            if (e.has_last_seq) { last_seq = e.last_seq; have_seq = 1; }
            vlog_apply(vs, &e);
        }
        version_edit_free(&e);
        if (rc != 0)
            break;
    }
    if (rc == 0 && wal_reader_torn(r, NULL))
        log_warning("lsm: %s: dropped a torn last record (%" PRIu64 " bytes)",
                    path.data, wal_reader_dropped_bytes(r));
    wal_reader_close(r);
    if (rc == 0 && (!have_log || !have_next || !have_seq)) {
        snprintf(vs->errmsg, sizeof vs->errmsg,
                 "%s: missing %s", path.data,
                 !have_log ? "log number" : !have_next ? "next file number" : "last sequence");
        rc = LSM_ECORRUPT;
    }
    if (rc == 0 && vb_save(&b, vs, &v) != 0) {
        snprintf(vs->errmsg, sizeof vs->errmsg, "%s: overlapping files in a level >= 1",
                 path.data);
        rc = LSM_ECORRUPT;
    }
    vb_free(&b);
    buf_free(&rec);
    buf_free(&path);
    if (rc != 0)
        return rc;
    version_link(vs, v);
    version_ref(v);
    version_unref(vs->current);
    vs->current = v;
    vs->log_number = log_number;
    vs->last_seq = last_seq;
    vs->next_file = next_file;
    if (vs->next_file <= mnum)
        vs->next_file = mnum + 1;
    vs->manifest_number = mnum;
    /* vs->manifest stays NULL: the first apply writes a new manifest. */
    return 0;
}
