/* test_iter: the empty iterator and the merging iterator against a sorted
 * model: forward, reverse, seeks and random direction changes; the user-key
 * iterator's lookahead over value pointers (dbiter_set_lookahead). Random:
 * prints its seed, accepts SEED=. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/dbformat.h"
#include "engine/dbiter.h"
#include "engine/iter.h"
#include "engine/lsm.h"
#include "util/zmalloc.h"

/* An iterator over a sorted array of C strings (key = value). */
struct vec_iter {
    struct iter base;
    char **keys;
    int n, pos;            /* pos in [-1, n]; valid when 0 <= pos < n */
    int fail_at;           /* >= 0: become invalid with LSM_EIO at this pos */
    int status;
};

static int vi_valid(const struct iter *it)
{
    const struct vec_iter *v = (const struct vec_iter *)it;
    return v->status == 0 && v->pos >= 0 && v->pos < v->n;
}
static void vi_check(struct vec_iter *v)
{
    if (v->fail_at >= 0 && v->pos == v->fail_at)
        v->status = LSM_EIO;
}
static void vi_first(struct iter *it) { struct vec_iter *v = (void *)it; v->pos = 0; vi_check(v); }
static void vi_last(struct iter *it) { struct vec_iter *v = (void *)it; v->pos = v->n - 1; vi_check(v); }
static void vi_seek(struct iter *it, struct slice t)
{
    struct vec_iter *v = (void *)it;
    v->pos = 0;
    while (v->pos < v->n && slice_compare(slice_cstr(v->keys[v->pos]), t) < 0)
        v->pos++;
    vi_check(v);
}
static void vi_seek_for_prev(struct iter *it, struct slice t)
{
    struct vec_iter *v = (void *)it;
    v->pos = v->n - 1;
    while (v->pos >= 0 && slice_compare(slice_cstr(v->keys[v->pos]), t) > 0)
        v->pos--;
    vi_check(v);
}
static void vi_next(struct iter *it) { struct vec_iter *v = (void *)it; v->pos++; vi_check(v); }
static void vi_prev(struct iter *it) { struct vec_iter *v = (void *)it; v->pos--; vi_check(v); }
static struct slice vi_key(const struct iter *it)
{
    const struct vec_iter *v = (const struct vec_iter *)it;
    return slice_cstr(v->keys[v->pos]);
}
static int vi_status(const struct iter *it) { return ((const struct vec_iter *)it)->status; }
static void vi_destroy(struct iter *it) { zfree(it); }

static const struct iter_ops vec_ops = {
    vi_valid, vi_first, vi_last, vi_seek, vi_seek_for_prev, vi_next, vi_prev,
    vi_key, vi_key, vi_status, vi_destroy
};

static struct iter *vec_iter(char **keys, int n)
{
    struct vec_iter *v = zcalloc(sizeof *v);
    v->base.ops = &vec_ops;
    v->keys = keys;
    v->n = n;
    v->pos = -1;
    v->fail_at = -1;
    return &v->base;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

START_TEST(test_empty)
{
    struct iter *e = iter_empty(0), *f = iter_empty(LSM_ECORRUPT);
    iter_seek_to_first(e);
    ck_assert(!iter_valid(e));
    ck_assert_int_eq(iter_status(e), 0);
    iter_seek(f, slice_cstr("x"));
    ck_assert(!iter_valid(f));
    ck_assert_int_eq(iter_status(f), LSM_ECORRUPT);
    iter_destroy(e);
    iter_destroy(f);
}
END_TEST

START_TEST(test_merge_none)
{
    struct iter *m = iter_merging(slice_compare, NULL, 0);
    iter_seek_to_first(m);
    ck_assert(!iter_valid(m));
    iter_seek_to_last(m);
    ck_assert(!iter_valid(m));
    iter_destroy(m);
}
END_TEST

#define NK 400
START_TEST(test_merge_random)
{
    static char store[NK][16];
    char *all[NK];
    char *part[5][NK];
    int np[5] = { 0 }, nchild, i, round;
    struct iter *kids[5], *m;
    const char *s = getenv("SEED");

    rng = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    fprintf(stderr, "# SEED=%llu\n", (unsigned long long)rng);
    if (rng == 0)
        rng = 1;
    for (i = 0; i < NK; i++) {
        snprintf(store[i], sizeof store[i], "k%06d", (int)(rnd() % 1000000) * 1000 + i % 1000);
        all[i] = store[i];
    }
    qsort(all, NK, sizeof all[0], cmp_str);
    /* unique keys */
    for (i = 1; i < NK; i++)
        ck_assert_int_ne(strcmp(all[i - 1], all[i]), 0);
    nchild = 1 + (int)(rnd() % 5);
    for (i = 0; i < NK; i++) {
        int c = (int)(rnd() % (uint64_t)nchild);
        part[c][np[c]++] = all[i];
    }
    for (i = 0; i < nchild; i++)
        kids[i] = vec_iter(part[i], np[i]);
    m = iter_merging(slice_compare, kids, nchild);

    iter_seek_to_first(m);
    for (i = 0; i < NK; i++, iter_next(m)) {
        ck_assert(iter_valid(m));
        ck_assert(slice_equal(iter_key(m), slice_cstr(all[i])));
    }
    ck_assert(!iter_valid(m));
    iter_seek_to_last(m);
    for (i = NK - 1; i >= 0; i--, iter_prev(m)) {
        ck_assert(iter_valid(m));
        ck_assert(slice_equal(iter_key(m), slice_cstr(all[i])));
    }
    ck_assert(!iter_valid(m));

    /* Random walks with direction changes from random seeks. */
    for (round = 0; round < 200; round++) {
        char target[16];
        int pos, step;
        snprintf(target, sizeof target, "k%06d", (int)(rnd() % 1000000000));
        if (rnd() & 1) {
            iter_seek(m, slice_cstr(target));
            for (pos = 0; pos < NK && strcmp(all[pos], target) < 0; pos++)
                ;
        } else {
            iter_seek_for_prev(m, slice_cstr(target));
            for (pos = NK - 1; pos >= 0 && strcmp(all[pos], target) > 0; pos--)
                ;
        }
        for (step = 0; step < 30; step++) {
            if (pos < 0 || pos >= NK) {
                ck_assert(!iter_valid(m));
                break;
            }
            ck_assert(iter_valid(m));
            ck_assert(slice_equal(iter_key(m), slice_cstr(all[pos])));
            if (rnd() & 1) {
                iter_next(m);
                pos++;
            } else {
                iter_prev(m);
                pos--;
            }
        }
    }
    ck_assert_int_eq(iter_status(m), 0);
    iter_destroy(m);
}
END_TEST

START_TEST(test_merge_child_error)
{
    static char *a[] = { "a", "c", "e", "g" };
    static char *b[] = { "b", "d", "f" };
    struct iter *kids[2];
    struct iter *m;
    struct vec_iter *vb;
    int n = 0;

    kids[0] = vec_iter(a, 4);
    kids[1] = vec_iter(b, 3);
    vb = (struct vec_iter *)kids[1];
    vb->fail_at = 2;          /* reading "f" fails */
    m = iter_merging(slice_compare, kids, 2);
    for (iter_seek_to_first(m); iter_valid(m); iter_next(m))
        n++;
    ck_assert_int_eq(iter_status(m), LSM_EIO);
    ck_assert_int_lt(n, 7);
    iter_destroy(m);
}
END_TEST

/* ---- dbiter lookahead ----
 * An internal iterator over NK keys "k000".. (one version each, type VPTR,
 * value "p000"..), sequence 10 except k060 (sequence 20, above the scan's
 * snapshot). A slow resolve (a disk read) turns the lookahead on; prefetch
 * records what it was asked for. */
#define LA_NK 100
static struct buf la_keys[LA_NK];
static int la_clones, la_nprefetch, la_cur;
static int la_prefetched[4 * LA_NK];
static int la_slow_resolve, la_slow_every;

struct kv_iter {
    struct iter base;
    int pos;
};
static int kv_valid(const struct iter *it) { int p = ((const struct kv_iter *)it)->pos; return p >= 0 && p < LA_NK; }
static void kv_first(struct iter *it) { ((struct kv_iter *)it)->pos = 0; }
static void kv_last(struct iter *it) { ((struct kv_iter *)it)->pos = LA_NK - 1; }
static void kv_seek(struct iter *it, struct slice t)
{
    struct kv_iter *v = (void *)it;
    for (v->pos = 0; v->pos < LA_NK && ikey_compare(buf_slice(&la_keys[v->pos]), t) < 0; v->pos++)
        ;
}
static void kv_seek_for_prev(struct iter *it, struct slice t)
{
    struct kv_iter *v = (void *)it;
    for (v->pos = LA_NK - 1; v->pos >= 0 && ikey_compare(buf_slice(&la_keys[v->pos]), t) > 0; v->pos--)
        ;
}
static void kv_next(struct iter *it) { ((struct kv_iter *)it)->pos++; }
static void kv_prev(struct iter *it) { ((struct kv_iter *)it)->pos--; }
static struct slice kv_key(const struct iter *it) { return buf_slice(&la_keys[((const struct kv_iter *)it)->pos]); }
static struct slice kv_value(const struct iter *it)
{
    static char v[LA_NK][8];
    int p = ((const struct kv_iter *)it)->pos;
    snprintf(v[p], sizeof v[p], "p%03d", p);
    return slice_make(v[p], 4);
}
static int kv_status(const struct iter *it) { (void)it; return 0; }
static void kv_destroy(struct iter *it) { zfree(it); }
static const struct iter_ops kv_ops = {
    kv_valid, kv_first, kv_last, kv_seek, kv_seek_for_prev, kv_next, kv_prev,
    kv_key, kv_value, kv_status, kv_destroy
};
static struct iter *kv_iter(void)
{
    struct kv_iter *v = zcalloc(sizeof *v);
    v->base.ops = &kv_ops;
    v->pos = -1;
    return &v->base;
}
static struct iter *la_clone(void *arg)
{
    (void)arg;
    la_clones++;
    return kv_iter();
}
static void la_prefetch(void *arg, struct slice ptr)
{
    (void)arg;
    ck_assert_int_lt(la_nprefetch, 4 * LA_NK);
    la_prefetched[la_nprefetch++] = atoi(ptr.data + 1);
}
static int64_t la_now;
static int64_t la_fake_clock(void)
{
    return la_now;
}
static int la_resolve(void *arg, struct slice key, struct slice ptr, struct buf *value)
{
    (void)arg;
    (void)key;
    static int nread;
    nread++;
    /* A disk read, or a cached one; with la_slow_every, a stray slow one. */
    la_now += la_slow_resolve || (la_slow_every && nread % la_slow_every == 0) ? 300 : 1;
    buf_append(value, "V", 1);
    buf_append(value, ptr.data, ptr.len);
    return 0;
}
static void la_setup(void)
{
    dbiter_set_clock(la_fake_clock);
    for (int i = 0; i < LA_NK; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%03d", i);
        buf_init(&la_keys[i]);
        ikey_append(&la_keys[i], slice_make(k, 4), i == 60 ? 20 : 10, LSM_TYPE_VPTR);
    }
    la_clones = la_nprefetch = 0;
}
static void la_teardown(void)
{
    dbiter_set_clock(NULL);
    for (int i = 0; i < LA_NK; i++)
        buf_free(&la_keys[i]);
}

/* Scans forward reading every value; checks values and that every prefetch
 * was ahead of the entry being read. Returns the number of entries. */
static int la_scan(struct iter *d, int from)
{
    int n = 0;
    char want[8];
    for (iter_seek(d, slice_make(from ? "k010" : "k000", 4)); iter_valid(d); iter_next(d)) {
        struct slice k = iter_key(d), v;
        la_cur = atoi(k.data + 1);
        int before = la_nprefetch;
        v = iter_value(d);
        snprintf(want, sizeof want, "Vp%03d", la_cur);
        ck_assert_int_eq((int)v.len, 5);
        ck_assert(memcmp(v.data, want, 5) == 0);
        for (int i = before; i < la_nprefetch; i++)
            ck_assert_int_gt(la_prefetched[i], la_cur);
        n++;
    }
    ck_assert_int_eq(iter_status(d), 0);
    return n;
}

START_TEST(test_dbiter_lookahead)
{
    struct slice up = slice_make("k090", 4);
    struct iter *d;
    la_setup();
    la_slow_resolve = 1;
    d = dbiter_create(kv_iter(), 15, NULL, &up, la_resolve, NULL);
    dbiter_set_lookahead(d, la_clone, NULL, la_prefetch, NULL);
    ck_assert_int_eq(la_scan(d, 0), 89);           /* k000..k089 without k060 */
    ck_assert_int_eq(la_clones, 1);
    /* Turned on after two slow reads: then each later pointer exactly once,
     * in order, below the bound, never the invisible k060. */
    int exp = 3;
    for (int i = 0; i < la_nprefetch; i++, exp++) {
        if (exp == 60)
            exp++;
        ck_assert_int_eq(la_prefetched[i], exp);
    }
    ck_assert_int_eq(exp, 90);
    /* A new seek starts the lookahead again from there. */
    la_nprefetch = 0;
    ck_assert_int_eq(la_scan(d, 1), 79);
    ck_assert_int_eq(la_prefetched[0], 11);
    ck_assert_int_eq(la_clones, 1);
    /* Backwards: no lookahead. */
    la_nprefetch = 0;
    for (iter_seek_to_last(d); iter_valid(d); iter_prev(d))
        (void)iter_value(d);
    ck_assert_int_eq(la_nprefetch, 0);
    /* Once reads are fast again (cached), a run of them turns it off. */
    la_slow_resolve = 0;
    for (int i = 0; i < 3; i++)
        la_scan(d, 0);
    la_nprefetch = 0;
    la_scan(d, 0);
    ck_assert_int_eq(la_nprefetch, 0);
    iter_destroy(d);
    la_teardown();
}
END_TEST

START_TEST(test_dbiter_no_lookahead_when_fast)
{
    struct iter *d;
    la_setup();
    la_slow_resolve = 0;
    la_slow_every = 7;              /* stray slow reads, never two in a row */
    d = dbiter_create(kv_iter(), 15, NULL, NULL, la_resolve, NULL);
    dbiter_set_lookahead(d, la_clone, NULL, la_prefetch, NULL);
    ck_assert_int_eq(la_scan(d, 0), LA_NK - 1);
    ck_assert_int_eq(la_scan(d, 0), LA_NK - 1);
    ck_assert_int_eq(la_clones, 0);
    ck_assert_int_eq(la_nprefetch, 0);
    la_slow_every = 0;
    iter_destroy(d);
    la_teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iter");
    TCase *tc = tcase_create("merge");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_merge_none);
    tcase_add_loop_test(tc, test_merge_random, 0, 5);
    tcase_add_test(tc, test_merge_child_error);
    tcase_add_test(tc, test_dbiter_lookahead);
    tcase_add_test(tc, test_dbiter_no_lookahead_when_fast);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
