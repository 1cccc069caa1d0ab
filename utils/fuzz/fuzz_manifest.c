/* fuzz_manifest: version edits and manifest recovery on arbitrary bytes.
 *
 * Input: a MANIFEST file (docs/format-manifest.md: log records, each one
 * encoded version edit). Checks, besides memory safety and zmalloc'd bytes
 * being the same after each input as before:
 *  - the whole input, and every record the log reader finds in it, is
 *    decoded as one version edit: 0 or LSM_ECORRUPT with a reason; an edit
 *    that decodes, encoded and decoded again, is the same edit, and encodes
 *    to the same bytes;
 *  - the input is recovered as MANIFEST-000001 named by CURRENT
 *    (version_set_recover), as is and with every fragment crc recomputed:
 *    0 or LSM_ECORRUPT with a message; a recovered version has its level
 *    >= 1 files sorted and disjoint and every file's smallest key <= its
 *    largest; the recovered state, written as a new manifest by
 *    version_set_log_and_apply (a snapshot) and recovered again, gives the
 *    same files, counters and value-log segments. */
#include <pthread.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "engine/dbformat.h"
#include "engine/lsm.h"
#include "engine/version.h"
#include "engine/wal.h"
#include "util/zmalloc.h"

static int slices_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static int file_eq(const struct file_meta *a, const struct file_meta *b)
{
    return a->number == b->number && a->size == b->size &&
           slices_eq(buf_slice(&a->smallest), buf_slice(&b->smallest)) &&
           slices_eq(buf_slice(&a->largest), buf_slice(&b->largest)) &&
           a->smallest_seq == b->smallest_seq && a->largest_seq == b->largest_seq;
}

static int vlog_eq(const struct edit_vlog *a, int na, const struct edit_vlog *b, int nb)
{
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (a[i].number != b[i].number || a[i].value != b[i].value)
            return 0;
    return 1;
}

static int edit_eq(const struct version_edit *a, const struct version_edit *b)
{
    if (a->has_comparator != b->has_comparator || a->has_log_number != b->has_log_number ||
        a->has_next_file != b->has_next_file || a->has_last_seq != b->has_last_seq)
        return 0;
    if ((a->has_comparator && !slices_eq(buf_slice(&a->comparator), buf_slice(&b->comparator))) ||
        (a->has_log_number && a->log_number != b->log_number) ||
        (a->has_next_file && a->next_file != b->next_file) ||
        (a->has_last_seq && a->last_seq != b->last_seq))
        return 0;
    if (a->ndeleted != b->ndeleted || a->nadded != b->nadded)
        return 0;
    for (int i = 0; i < a->ndeleted; i++)
        if (a->deleted[i].level != b->deleted[i].level ||
            a->deleted[i].number != b->deleted[i].number)
            return 0;
    for (int i = 0; i < a->nadded; i++)
        if (a->added[i].level != b->added[i].level || !file_eq(a->added[i].f, b->added[i].f))
            return 0;
    return vlog_eq(a->vlog_added, a->nvlog_added, b->vlog_added, b->nvlog_added) &&
           vlog_eq(a->vlog_removed, a->nvlog_removed, b->vlog_removed, b->nvlog_removed) &&
           vlog_eq(a->vlog_discard, a->nvlog_discard, b->vlog_discard, b->nvlog_discard);
}

/* Decodes in as an edit; one that decodes must survive encode + decode. */
static void check_edit(struct slice in)
{
    struct version_edit e, e2;
    const char *why = NULL;
    int rc = version_edit_decode(&e, in, &why);
    if (rc != 0) {
        fuzz_check(rc == LSM_ECORRUPT, "version_edit_decode returned %d", rc);
        fuzz_check(why != NULL && why[0] != '\0', "corrupt edit without a reason");
        return;
    }
    for (int i = 0; i < e.nadded; i++) {
        struct slice s = buf_slice(&e.added[i].f->smallest), l = buf_slice(&e.added[i].f->largest);
        fuzz_check(e.added[i].level >= 0 && e.added[i].level < LSM_NUM_LEVELS, "level %d",
                   e.added[i].level);
        fuzz_check(s.len >= LSM_TRAILER_LEN && l.len >= LSM_TRAILER_LEN && ikey_compare(s, l) <= 0,
                   "a new file with bad keys decoded");
    }
    for (int i = 0; i < e.ndeleted; i++)
        fuzz_check(e.deleted[i].level >= 0 && e.deleted[i].level < LSM_NUM_LEVELS, "level %d",
                   e.deleted[i].level);
    struct buf enc = BUF_INIT, enc2 = BUF_INIT;
    version_edit_encode(&e, &enc);
    rc = version_edit_decode(&e2, buf_slice(&enc), &why);
    fuzz_check(rc == 0, "a re-encoded edit does not decode: %s", why);
    fuzz_check(edit_eq(&e, &e2), "a re-encoded edit decodes to another edit");
    version_edit_encode(&e2, &enc2);
    fuzz_check(slices_eq(buf_slice(&enc), buf_slice(&enc2)), "encoding is not stable");
    buf_free(&enc);
    buf_free(&enc2);
    version_edit_free(&e);
    version_edit_free(&e2);
}

/* Every record the strict reader returns, as an edit. */
static void check_records(const char *path)
{
    struct wal_reader *r;
    struct buf rec = BUF_INIT;
    fuzz_check(wal_reader_open(NULL, path, WAL_READ_STRICT, &r) == 0, "cannot open %s", path);
    while (wal_reader_next(r, &rec) == 1)
        check_edit(buf_slice(&rec));
    buf_free(&rec);
    wal_reader_close(r);
}

static void check_version(const struct version *v)
{
    for (int level = 0; level < LSM_NUM_LEVELS; level++) {
        for (int i = 0; i < v->nfiles[level]; i++) {
            const struct file_meta *f = v->files[level][i];
            fuzz_check(ikey_compare(buf_slice(&f->smallest), buf_slice(&f->largest)) <= 0,
                       "L%d file %d: smallest > largest", level, i);
            if (level == 0 || i == 0)
                continue;
            const struct file_meta *p = v->files[level][i - 1];
            fuzz_check(slice_compare(ikey_user_key(buf_slice(&p->largest)),
                                     ikey_user_key(buf_slice(&f->smallest))) < 0,
                       "L%d files %d and %d overlap or are out of order", level, i - 1, i);
        }
    }
}

static void same_state(const struct version_set *a, const struct version_set *b)
{
    fuzz_check(a->log_number == b->log_number && a->last_seq == b->last_seq,
               "counters differ after a snapshot (log %llu/%llu, seq %llu/%llu)",
               (unsigned long long)a->log_number, (unsigned long long)b->log_number,
               (unsigned long long)a->last_seq, (unsigned long long)b->last_seq);
    fuzz_check(b->next_file >= a->next_file, "next file went back after a snapshot");
    for (int level = 0; level < LSM_NUM_LEVELS; level++) {
        fuzz_check(a->current->nfiles[level] == b->current->nfiles[level],
                   "L%d: %d files, %d after a snapshot", level, a->current->nfiles[level],
                   b->current->nfiles[level]);
        for (int i = 0; i < a->current->nfiles[level]; i++)
            fuzz_check(file_eq(a->current->files[level][i], b->current->files[level][i]),
                       "L%d file %d differs after a snapshot", level, i);
    }
    fuzz_check(a->nvlog == b->nvlog, "%d vlog segments, %d after a snapshot", a->nvlog, b->nvlog);
    for (int i = 0; i < a->nvlog; i++)
        fuzz_check(a->vlog[i].number == b->vlog[i].number && a->vlog[i].size == b->vlog[i].size &&
                       a->vlog[i].discard == b->vlog[i].discard,
                   "vlog segment %d differs after a snapshot", i);
}

static void recover(const uint8_t *data, size_t size)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    char path[4400];
    const char *dir = fuzz_scratch_dir();

    fuzz_scratch_clear();
    fuzz_write_file("MANIFEST-000001", data, size, path, sizeof(path));
    check_records(path);
    fuzz_write_file("CURRENT", "MANIFEST-000001\n", 16, path, sizeof(path));
    struct version_set *vs = version_set_create(NULL, dir);
    int rc = version_set_recover(vs);
    if (rc != 0) {
        fuzz_check(rc == LSM_ECORRUPT, "version_set_recover returned %d (%s)", rc, vs->errmsg);
        fuzz_check(vs->errmsg[0] != '\0', "recovery failed without a message");
        version_set_destroy(vs);
        return;
    }
    check_version(vs->current);

    /* The recovered state as a snapshot in a new manifest, recovered again. */
    struct version_edit e;
    version_edit_init(&e);
    pthread_mutex_lock(&mu);
    rc = version_set_log_and_apply(vs, &e, &mu);
    pthread_mutex_unlock(&mu);
    version_edit_free(&e);
    fuzz_check(rc == 0, "writing the recovered state failed: %d (%s)", rc, vs->errmsg);
    struct version_set *vs2 = version_set_create(NULL, dir);
    rc = version_set_recover(vs2);
    fuzz_check(rc == 0, "the snapshot of a recovered state does not recover: %d (%s)", rc,
               vs2->errmsg);
    same_state(vs, vs2);
    version_set_destroy(vs2);
    version_set_destroy(vs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t used = zmalloc_used_memory();

    check_edit(slice_make(data, size));
    recover(data, size);
    uint8_t *copy = zmalloc(size ? size : 1);
    if (size)
        memcpy(copy, data, size);
    fuzz_log_fix_checksums(copy, size);
    if (size && memcmp(copy, data, size) != 0)
        recover(copy, size);
    zfree(copy);
    fuzz_scratch_clear();
    fuzz_check(zmalloc_used_memory() == used, "zmalloc'd bytes %zu before, %zu after: a leak",
               used, zmalloc_used_memory());
    return 0;
}
