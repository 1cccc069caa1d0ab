/* test_iter: the empty iterator and the merging iterator against a sorted
 * model: forward, reverse, seeks and random direction changes. Random: prints
 * its seed, accepts SEED=. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
