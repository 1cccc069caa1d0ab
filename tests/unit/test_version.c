/* test_version: version edit encoding (every record kind, unknown tags,
 * damage), the version set and MANIFEST (apply, recover, rollover to a new
 * manifest, torn tail, corruption), live files of pinned versions, and the
 * level (concatenating) iterator. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "engine/version.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/zmalloc.h"
#include "db_test.h"

static char dir[4096];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void setup(void) { dt_mkdtemp(dir, sizeof dir); }
static void teardown(void) { dt_rmrf(dir); }

static struct file_meta *mkfile(uint64_t num, const char *lo, const char *hi, uint64_t seq)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct file_meta *f;
    ikey_append(&a, slice_cstr(lo), seq, LSM_TYPE_VALUE);
    ikey_append(&b, slice_cstr(hi), seq, LSM_TYPE_VALUE);
    f = file_meta_create(num, 1000 + num, buf_slice(&a), buf_slice(&b), seq, seq + 5);
    buf_free(&a);
    buf_free(&b);
    return f;
}

START_TEST(test_edit_roundtrip)
{
    struct version_edit e, d;
    struct buf enc = BUF_INIT;
    struct file_meta *f = mkfile(7, "apple", "pear", 42);
    const char *why = NULL;

    version_edit_init(&e);
    version_edit_set_comparator(&e, VERSION_COMPARATOR_NAME);
    version_edit_set_log_number(&e, 11);
    version_edit_set_next_file(&e, 99);
    version_edit_set_last_seq(&e, 123456789);
    version_edit_delete_file(&e, 3, 5);
    version_edit_add_file(&e, 2, f);
    version_edit_vlog_add(&e, 8, 4096);
    version_edit_vlog_remove(&e, 3);
    version_edit_vlog_discard(&e, 8, 100);
    version_edit_encode(&e, &enc);
    ck_assert_int_eq(version_edit_decode(&d, buf_slice(&enc), &why), 0);
    ck_assert(d.has_comparator && d.has_log_number && d.has_next_file && d.has_last_seq);
    ck_assert(slice_equal(buf_slice(&d.comparator), slice_cstr(VERSION_COMPARATOR_NAME)));
    ck_assert_uint_eq(d.log_number, 11);
    ck_assert_uint_eq(d.next_file, 99);
    ck_assert_uint_eq(d.last_seq, 123456789);
    ck_assert_int_eq(d.ndeleted, 1);
    ck_assert_int_eq(d.deleted[0].level, 3);
    ck_assert_uint_eq(d.deleted[0].number, 5);
    ck_assert_int_eq(d.nadded, 1);
    ck_assert_int_eq(d.added[0].level, 2);
    ck_assert_uint_eq(d.added[0].f->number, 7);
    ck_assert_uint_eq(d.added[0].f->size, 1007);
    ck_assert_uint_eq(d.added[0].f->smallest_seq, 42);
    ck_assert_uint_eq(d.added[0].f->largest_seq, 47);
    ck_assert(slice_equal(buf_slice(&d.added[0].f->smallest), buf_slice(&f->smallest)));
    ck_assert(slice_equal(buf_slice(&d.added[0].f->largest), buf_slice(&f->largest)));
    ck_assert_int_eq(d.nvlog_added, 1);
    ck_assert_uint_eq(d.vlog_added[0].value, 4096);
    ck_assert_int_eq(d.nvlog_removed, 1);
    ck_assert_uint_eq(d.vlog_removed[0].number, 3);
    ck_assert_int_eq(d.nvlog_discard, 1);
    ck_assert_uint_eq(d.vlog_discard[0].value, 100);
    version_edit_free(&d);

    /* Every strict prefix is either a valid shorter edit or corruption,
     * never a crash. */
    {
        size_t n;
        for (n = 0; n < enc.len; n++) {
            int rc = version_edit_decode(&d, slice_make(enc.data, n), &why);
            ck_assert(rc == 0 || rc == LSM_ECORRUPT);
            if (rc == 0)
                version_edit_free(&d);
        }
    }
    version_edit_free(&e);
    file_meta_unref(f);
    buf_free(&enc);
}
END_TEST

START_TEST(test_edit_unknown_tags)
{
    struct version_edit d;
    struct buf enc = BUF_INIT;
    const char *why = NULL;

    /* Ignorable tag (>= 64): length-prefixed, skipped. */
    put_varint32(&enc, 70);
    put_length_prefixed(&enc, slice_cstr("future"));
    put_varint32(&enc, 2);        /* log number */
    put_varint64(&enc, 5);
    ck_assert_int_eq(version_edit_decode(&d, buf_slice(&enc), &why), 0);
    ck_assert(d.has_log_number);
    ck_assert_uint_eq(d.log_number, 5);
    version_edit_free(&d);
    /* Unknown tag below 64: corruption. */
    buf_clear(&enc);
    put_varint32(&enc, 40);
    put_varint64(&enc, 1);
    ck_assert_int_eq(version_edit_decode(&d, buf_slice(&enc), &why), LSM_ECORRUPT);
    ck_assert_str_eq(why, "unknown tag");
    /* Level out of range: corruption. */
    buf_clear(&enc);
    put_varint32(&enc, 6);
    put_varint32(&enc, LSM_NUM_LEVELS);
    put_varint64(&enc, 1);
    ck_assert_int_eq(version_edit_decode(&d, buf_slice(&enc), &why), LSM_ECORRUPT);
    buf_free(&enc);
}
END_TEST

static struct version_set *fresh_set(void)
{
    struct version_set *vs = version_set_create(NULL, dir);
    ck_assert_int_eq(version_set_create_new(vs), 0);
    version_set_destroy(vs);
    vs = version_set_create(NULL, dir);
    ck_assert_msg(version_set_recover(vs) == 0, "%s", vs->errmsg);
    return vs;
}

static int apply_add(struct version_set *vs, int level, struct file_meta *f)
{
    struct version_edit e;
    int rc;
    version_edit_init(&e);
    version_edit_add_file(&e, level, f);
    pthread_mutex_lock(&mu);
    rc = version_set_log_and_apply(vs, &e, &mu);
    pthread_mutex_unlock(&mu);
    version_edit_free(&e);
    file_meta_unref(f);
    return rc;
}

START_TEST(test_recover_state)
{
    struct version_set *vs = fresh_set();
    struct version_edit e;
    uint64_t n1, n2, n3;

    n1 = version_set_new_file_number(vs);
    n2 = version_set_new_file_number(vs);
    n3 = version_set_new_file_number(vs);
    vs->last_seq = 500;
    ck_assert_int_eq(apply_add(vs, 0, mkfile(n1, "a", "m", 1)), 0);
    ck_assert_int_eq(apply_add(vs, 0, mkfile(n2, "c", "z", 10)), 0);
    ck_assert_int_eq(apply_add(vs, 2, mkfile(n3, "a", "b", 0)), 0);
    version_edit_init(&e);
    version_edit_delete_file(&e, 0, n1);
    version_edit_set_log_number(&e, 77);
    version_edit_vlog_add(&e, 12, 1 << 20);
    version_edit_vlog_discard(&e, 12, 300);
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(version_set_log_and_apply(vs, &e, &mu), 0);
    pthread_mutex_unlock(&mu);
    version_edit_free(&e);
    ck_assert_int_eq(vs->current->nfiles[0], 1);
    version_set_destroy(vs);

    vs = version_set_create(NULL, dir);
    ck_assert_msg(version_set_recover(vs) == 0, "%s", vs->errmsg);
    ck_assert_int_eq(vs->current->nfiles[0], 1);
    ck_assert_uint_eq(vs->current->files[0][0]->number, n2);
    ck_assert_int_eq(vs->current->nfiles[2], 1);
    ck_assert_uint_eq(vs->current->files[2][0]->number, n3);
    ck_assert_uint_eq(vs->last_seq, 500);
    ck_assert_uint_eq(vs->log_number, 77);
    ck_assert_uint_gt(vs->next_file, n3);
    ck_assert_int_eq(vs->nvlog, 1);
    ck_assert_uint_eq(vs->vlog[0].discard, 300);
    version_set_destroy(vs);
}
END_TEST

START_TEST(test_manifest_rollover)
{
    struct version_set *vs = fresh_set();
    uint64_t first_manifest;
    int i;

    vs->manifest_max = 200;     /* a new manifest every few edits */
    ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "a", "b", 1)), 0);
    first_manifest = vs->manifest_number;
    for (i = 0; i < 20; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%02d", i);
        ck_assert_int_eq(apply_add(vs, 1 + i % 3, mkfile(version_set_new_file_number(vs),
                                                         k, k, (uint64_t)i)), 0);
    }
    /* The same user key twice in a sorted level is refused. */
    ck_assert_int_eq(apply_add(vs, 1, mkfile(version_set_new_file_number(vs), "k00", "k00", 99)),
                     LSM_ECORRUPT);
    ck_assert_uint_gt(vs->manifest_number, first_manifest);
    version_set_destroy(vs);
    vs = version_set_create(NULL, dir);
    ck_assert_msg(version_set_recover(vs) == 0, "%s", vs->errmsg);
    ck_assert_int_eq(vs->current->nfiles[0], 1);
    ck_assert_int_eq(vs->current->nfiles[1] + vs->current->nfiles[2] + vs->current->nfiles[3], 20);
    version_set_destroy(vs);
}
END_TEST

static void manifest_path(struct version_set *vs, char *out, size_t n)
{
    snprintf(out, n, "%s/MANIFEST-%06llu", dir, (unsigned long long)vs->manifest_number);
}

START_TEST(test_torn_manifest_tail)
{
    struct version_set *vs = fresh_set();
    char path[4200];
    struct stat st;

    ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "a", "b", 1)), 0);
    ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "c", "d", 2)), 0);
    manifest_path(vs, path, sizeof path);
    version_set_destroy(vs);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size - 3), 0);   /* tear the last edit */
    vs = version_set_create(NULL, dir);
    ck_assert_msg(version_set_recover(vs) == 0, "%s", vs->errmsg);
    ck_assert_int_eq(vs->current->nfiles[0], 1);
    version_set_destroy(vs);
}
END_TEST

START_TEST(test_corrupt_manifest)
{
    struct version_set *vs = fresh_set();
    char path[4200];
    FILE *f;
    int c;

    ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "a", "b", 1)), 0);
    ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "c", "d", 2)), 0);
    manifest_path(vs, path, sizeof path);
    version_set_destroy(vs);
    f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 10, SEEK_SET);     /* inside the first record */
    c = fgetc(f);
    fseek(f, 10, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    vs = version_set_create(NULL, dir);
    ck_assert_int_eq(version_set_recover(vs), LSM_ECORRUPT);
    ck_assert_msg(strstr(vs->errmsg, "MANIFEST-") != NULL, "%s", vs->errmsg);
    version_set_destroy(vs);
    /* CURRENT naming a missing manifest is corruption too. */
    ck_assert_int_eq(unlink(path), 0);
    vs = version_set_create(NULL, dir);
    ck_assert_int_eq(version_set_recover(vs), LSM_ECORRUPT);
    version_set_destroy(vs);
}
END_TEST

/* A crash at any operation of a manifest switch (new MANIFEST, CURRENT
 * temp file, rename, directory syncs) recovers to the state before or after
 * the edit, never to "CURRENT names a missing manifest": under the fault
 * env's crash model a rename survives, a create whose directory was not
 * synced does not. */
START_TEST(test_manifest_switch_crash_sweep)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    uint64_t after;
    int done = 0;

    for (after = 0; !done && after < 500; after++) {
        char sub[4200];
        struct version_set *vs;
        int rc;

        snprintf(sub, sizeof sub, "%s/s%03llu", dir, (unsigned long long)after);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        vs = version_set_create(fe, sub);
        ck_assert_int_eq(version_set_create_new(vs), 0);
        ck_assert_msg(version_set_recover(vs) == 0, "%s", vs->errmsg);
        ck_assert_int_eq(apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "a", "b", 1)), 0);
        vs->manifest_max = 1;       /* the next edit switches to a new manifest */
        io_env_fault_set(fe, IO_FAULT_EIO, after, NULL);
        rc = apply_add(vs, 0, mkfile(version_set_new_file_number(vs), "c", "d", 2));
        io_env_fault_crash(fe);
        version_set_destroy(vs);
        io_env_fault_reset(fe);
        done = rc == 0;             /* the fault came after the whole switch */

        vs = version_set_create(fe, sub);
        ck_assert_msg(version_set_recover(vs) == 0, "crash at op %llu of a manifest switch "
                      "(apply returned %d): %s", (unsigned long long)after, rc, vs->errmsg);
        if (rc == 0)
            ck_assert_int_eq(vs->current->nfiles[0], 2);    /* acknowledged: durable */
        else
            ck_assert(vs->current->nfiles[0] == 1 || vs->current->nfiles[0] == 2);
        version_set_destroy(vs);
    }
    ck_assert_msg(done, "the sweep never got past the switch");
    io_env_fault_destroy(fe);
}
END_TEST

struct numset { uint64_t v[64]; int n; };
static void collect(void *arg, uint64_t n)
{
    struct numset *s = arg;
    int i;
    for (i = 0; i < s->n; i++)
        if (s->v[i] == n)
            return;
    s->v[s->n++] = n;
}
static int has(const struct numset *s, uint64_t n)
{
    int i;
    for (i = 0; i < s->n; i++)
        if (s->v[i] == n)
            return 1;
    return 0;
}

START_TEST(test_obsolete_needs_no_reference)
{
    struct version_set *vs = fresh_set();
    struct version *old;
    struct version_edit e;
    struct numset live = { { 0 }, 0 };
    uint64_t a = version_set_new_file_number(vs), b = version_set_new_file_number(vs);

    ck_assert_int_eq(apply_add(vs, 0, mkfile(a, "a", "b", 1)), 0);
    pthread_mutex_lock(&mu);
    old = vs->current;
    version_ref(old);              /* a reader pins the version */
    version_edit_init(&e);
    version_edit_delete_file(&e, 0, a);
    version_edit_add_file(&e, 1, mkfile(b, "a", "b", 1));
    file_meta_unref(e.added[0].f);  /* the edit holds its own reference */
    ck_assert_int_eq(version_set_log_and_apply(vs, &e, &mu), 0);
    version_edit_free(&e);
    version_set_live_files(vs, collect, &live);
    ck_assert(has(&live, a));      /* still referenced by the pinned version */
    ck_assert(has(&live, b));
    ck_assert_int_eq(version_set_live_versions(vs), 2);
    version_unref(old);
    live.n = 0;
    version_set_live_files(vs, collect, &live);
    ck_assert(!has(&live, a));
    ck_assert(has(&live, b));
    ck_assert_int_eq(version_set_live_versions(vs), 1);
    pthread_mutex_unlock(&mu);
    version_set_destroy(vs);
}
END_TEST

START_TEST(test_bad_edit_refused)
{
    struct version_set *vs = fresh_set();
    struct version_edit e;
    version_edit_init(&e);
    version_edit_delete_file(&e, 1, 12345);     /* not there */
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(version_set_log_and_apply(vs, &e, &mu), LSM_ECORRUPT);
    pthread_mutex_unlock(&mu);
    version_edit_free(&e);
    version_set_destroy(vs);
}
END_TEST

START_TEST(test_file_names)
{
    struct buf p = BUF_INIT;
    uint64_t n;
    db_file_path(&p, "/d", DB_FILE_SST, 12);
    ck_assert_str_eq(buf_cstr(&p), "/d/000012.sst");
    db_file_path(&p, "/d", DB_FILE_MANIFEST, 3);
    ck_assert_str_eq(buf_cstr(&p), "/d/MANIFEST-000003");
    ck_assert_int_eq(db_file_parse("000012.sst", &n), DB_FILE_SST);
    ck_assert_uint_eq(n, 12);
    ck_assert_int_eq(db_file_parse("1234567.wal", &n), DB_FILE_WAL);
    ck_assert_uint_eq(n, 1234567);
    ck_assert_int_eq(db_file_parse("MANIFEST-000009", &n), DB_FILE_MANIFEST);
    ck_assert_uint_eq(n, 9);
    ck_assert_int_eq(db_file_parse("CURRENT", &n), DB_FILE_CURRENT);
    ck_assert_int_eq(db_file_parse("LOCK", &n), DB_FILE_LOCK);
    ck_assert_int_eq(db_file_parse("x.sst", &n), DB_FILE_UNKNOWN);
    ck_assert_int_eq(db_file_parse("12.sstx", &n), DB_FILE_UNKNOWN);
    ck_assert_int_eq(db_file_parse("MANIFEST-", &n), DB_FILE_UNKNOWN);
    buf_free(&p);
}
END_TEST

/* Level iterator over fake files: each file "contains" its two bound keys. */
struct two_iter {
    struct iter base;
    struct slice k[2];
    int pos;
};
static int ti_valid(const struct iter *it) { const struct two_iter *t = (const void *)it; return t->pos >= 0 && t->pos < 2; }
static void ti_first(struct iter *it) { ((struct two_iter *)it)->pos = 0; }
static void ti_last(struct iter *it) { ((struct two_iter *)it)->pos = 1; }
static void ti_seek(struct iter *it, struct slice x)
{
    struct two_iter *t = (void *)it;
    t->pos = 0;
    while (t->pos < 2 && ikey_compare(t->k[t->pos], x) < 0)
        t->pos++;
}
static void ti_seek_prev(struct iter *it, struct slice x)
{
    struct two_iter *t = (void *)it;
    t->pos = 1;
    while (t->pos >= 0 && ikey_compare(t->k[t->pos], x) > 0)
        t->pos--;
}
static void ti_next(struct iter *it) { ((struct two_iter *)it)->pos++; }
static void ti_prev(struct iter *it) { ((struct two_iter *)it)->pos--; }
static struct slice ti_key(const struct iter *it) { const struct two_iter *t = (const void *)it; return t->k[t->pos]; }
static int ti_status(const struct iter *it) { (void)it; return 0; }
static void ti_destroy(struct iter *it) { zfree(it); }
static const struct iter_ops two_ops = { ti_valid, ti_first, ti_last, ti_seek, ti_seek_prev,
    ti_next, ti_prev, ti_key, ti_key, ti_status, ti_destroy };
static int opened;
static struct iter *open_two(void *arg, const struct file_meta *f)
{
    struct two_iter *t = zcalloc(sizeof *t);
    (void)arg;
    opened++;
    t->base.ops = &two_ops;
    t->k[0] = buf_slice(&f->smallest);
    t->k[1] = buf_slice(&f->largest);
    t->pos = -1;
    return &t->base;
}

START_TEST(test_level_iter)
{
    struct file_meta *f[3] = { mkfile(1, "b", "d", 1), mkfile(2, "f", "h", 1),
                               mkfile(3, "j", "l", 1) };
    static const char *order = "bdfhjl";
    struct iter *it = version_files_iter(f, 3, open_two, NULL);
    struct buf t = BUF_INIT;
    int i;

    iter_seek_to_first(it);
    for (i = 0; i < 6; i++, iter_next(it)) {
        ck_assert(iter_valid(it));
        ck_assert_int_eq(iter_key(it).data[0], order[i]);
    }
    ck_assert(!iter_valid(it));
    iter_seek_to_last(it);
    for (i = 5; i >= 0; i--, iter_prev(it))
        ck_assert_int_eq(iter_key(it).data[0], order[i]);
    ck_assert(!iter_valid(it));
    ikey_append(&t, slice_cstr("e"), LSM_MAX_SEQ, LSM_TYPE_SEEK);
    iter_seek(it, buf_slice(&t));
    ck_assert_int_eq(iter_key(it).data[0], 'f');
    iter_seek_for_prev(it, buf_slice(&t));
    ck_assert_int_eq(iter_key(it).data[0], 'd');
    buf_clear(&t);
    ikey_append(&t, slice_cstr("z"), LSM_MAX_SEQ, LSM_TYPE_SEEK);
    iter_seek(it, buf_slice(&t));
    ck_assert(!iter_valid(it));
    iter_seek_for_prev(it, buf_slice(&t));
    ck_assert_int_eq(iter_key(it).data[0], 'l');
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    for (i = 0; i < 3; i++)
        file_meta_unref(f[i]);
    buf_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("manifest");
    SRunner *sr;
    int failed;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_edit_roundtrip);
    tcase_add_test(tc, test_edit_unknown_tags);
    tcase_add_test(tc, test_recover_state);
    tcase_add_test(tc, test_manifest_rollover);
    tcase_add_test(tc, test_torn_manifest_tail);
    tcase_add_test(tc, test_corrupt_manifest);
    tcase_add_test(tc, test_manifest_switch_crash_sweep);
    tcase_add_test(tc, test_obsolete_needs_no_reference);
    tcase_add_test(tc, test_bad_edit_refused);
    tcase_add_test(tc, test_file_names);
    tcase_add_test(tc, test_level_iter);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
