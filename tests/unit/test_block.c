/* test_block: block builder + iterator round trips against a sorted
 * reference (seek, seek_for_prev, next, prev at several restart intervals),
 * handles, and malformed blocks that must never be read out of bounds. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/block.h"
#include "engine/dbformat.h"
#include "engine/lsm.h"
#include "util/coding.h"
#include "util/zmalloc.h"

static unsigned seed;

static unsigned rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) & 0xffffff;
}

struct kv {
    char key[48];
    size_t klen;
    char val[40];
    size_t vlen;
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    return slice_compare(slice_make(x->key, x->klen), slice_make(y->key, y->klen));
}

/* n distinct keys with long shared prefixes (so prefix compression works)
 * and a few short ones, sorted. */
static struct kv *make_kvs(size_t n)
{
    struct kv *v = zcalloc(n * sizeof(*v));
    size_t i, j = 0;
    for (i = 0; i < n; i++) {
        if (rnd() % 10 == 0)
            v[i].klen = (size_t)snprintf(v[i].key, sizeof(v[i].key), "%u", rnd() % 100000);
        else
            v[i].klen = (size_t)snprintf(v[i].key, sizeof(v[i].key), "user:%08u:%u",
                                         rnd() % 50000, rnd() % 4);
        v[i].vlen = rnd() % sizeof(v[i].val);
        memset(v[i].val, 'a' + (int)(i % 26), v[i].vlen);
    }
    qsort(v, n, sizeof(*v), kv_cmp);
    for (i = 0; i < n; i++)        /* dedupe */
        if (j == 0 || kv_cmp(&v[j - 1], &v[i]) != 0)
            v[j++] = v[i];
    return v;
}

static size_t dedup_count(struct kv *v, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++)
        if (kv_cmp(&v[i - 1], &v[i]) >= 0)
            return i;
    return n;
}

static void check_at(struct iter *it, const struct kv *e)
{
    struct slice k, v;
    ck_assert(iter_valid(it));
    k = iter_key(it);
    v = iter_value(it);
    ck_assert_uint_eq(k.len, e->klen);
    ck_assert(memcmp(k.data, e->key, k.len) == 0);
    ck_assert_uint_eq(v.len, e->vlen);
    ck_assert(memcmp(v.data, e->val, v.len) == 0);
}

/* index of the first element >= t, n when none */
static size_t lower_bound(const struct kv *v, size_t n, struct slice t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (slice_compare(slice_make(v[mid].key, v[mid].klen), t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void round_trip(size_t nwant, int interval)
{
    struct kv *v = make_kvs(nwant);
    size_t n = dedup_count(v, nwant), i;
    struct block_builder *bb = block_builder_create(interval);
    struct block *blk;
    struct slice contents;
    struct iter *it;
    char *copy;
    int r;

    for (i = 0; i < n; i++)
        block_builder_add(bb, slice_make(v[i].key, v[i].klen), slice_make(v[i].val, v[i].vlen));
    ck_assert_uint_eq(block_builder_empty(bb), n == 0);
    contents = block_builder_finish(bb);
    ck_assert_uint_eq(contents.len, block_builder_size_estimate(bb));
    copy = zmalloc(contents.len);
    memcpy(copy, contents.data, contents.len);
    ck_assert_int_eq(block_open(copy, contents.len, 1, &blk), 0);
    it = block_iter_create(blk, slice_compare, NULL, NULL);

    /* forward and backward scans */
    i = 0;
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it))
        check_at(it, &v[i++]);
    ck_assert_uint_eq(i, n);
    for (iter_seek_to_last(it); iter_valid(it); iter_prev(it))
        check_at(it, &v[--i]);
    ck_assert_uint_eq(i, 0);
    ck_assert_int_eq(iter_status(it), 0);

    /* seeks to existing and to absent keys, then a few steps either way */
    for (r = 0; r < 2000; r++) {
        char t[24];
        size_t tl, pos, j;
        int steps = (int)(rnd() % 5);
        if (n && rnd() % 2) {
            const struct kv *e = &v[rnd() % n];
            memcpy(t, e->key, e->klen);
            tl = e->klen;
            if (rnd() % 2 && tl > 1)
                tl--;                       /* a prefix: usually absent */
        } else {
            tl = (size_t)snprintf(t, sizeof(t), "user:%08u", rnd() % 60000);
        }
        pos = lower_bound(v, n, slice_make(t, tl));
        {   /* the allocation-free point seek agrees */
            struct buf kb = BUF_INIT;
            struct slice val;
            int rc = block_seek_once(blk, slice_compare, slice_make(t, tl), &kb, &val);
            ck_assert_int_eq(rc, pos < n);
            if (rc == 1) {
                ck_assert(slice_equal(buf_slice(&kb), slice_make(v[pos].key, v[pos].klen)));
                ck_assert(slice_equal(val, slice_make(v[pos].val, v[pos].vlen)));
            }
            buf_free(&kb);
        }
        iter_seek(it, slice_make(t, tl));
        if (pos == n) {
            ck_assert(!iter_valid(it));
        } else {
            check_at(it, &v[pos]);
            for (j = pos; steps-- > 0;) {
                if (rnd() % 2) {
                    iter_next(it);
                    if (++j == n) {
                        ck_assert(!iter_valid(it));
                        break;
                    }
                } else {
                    iter_prev(it);
                    if (j-- == 0) {
                        ck_assert(!iter_valid(it));
                        break;
                    }
                }
                check_at(it, &v[j]);
            }
        }
        /* seek_for_prev: last <= t */
        iter_seek_for_prev(it, slice_make(t, tl));
        if (pos < n && v[pos].klen == tl && memcmp(v[pos].key, t, tl) == 0)
            check_at(it, &v[pos]);
        else if (pos == 0)
            ck_assert(!iter_valid(it));
        else
            check_at(it, &v[pos - 1]);
    }
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    block_destroy(blk);
    block_builder_destroy(bb);
    zfree(v);
}

START_TEST(test_round_trip_intervals)
{
    static const int intervals[] = { 1, 2, 3, 16, 100, 1000 };
    size_t i;
    for (i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
        round_trip(5000, intervals[i]);
        round_trip(1, intervals[i]);
        round_trip(17, intervals[i]);
    }
}
END_TEST

START_TEST(test_empty_block)
{
    struct block_builder *bb = block_builder_create(16);
    struct slice c = block_builder_finish(bb);
    struct block *blk;
    struct iter *it;
    ck_assert_uint_eq(c.len, 8);
    ck_assert_int_eq(block_open(c.data, c.len, 0, &blk), 0);
    it = block_iter_create(blk, slice_compare, NULL, NULL);
    iter_seek_to_first(it);
    ck_assert(!iter_valid(it));
    iter_seek_to_last(it);
    ck_assert(!iter_valid(it));
    iter_seek(it, slice_cstr("x"));
    ck_assert(!iter_valid(it));
    iter_seek_for_prev(it, slice_cstr("x"));
    ck_assert(!iter_valid(it));
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    block_destroy(blk);
    /* reset builds a fresh block */
    block_builder_reset(bb);
    block_builder_add(bb, slice_cstr("a"), slice_cstr("1"));
    ck_assert_uint_eq(block_builder_last_key(bb).len, 1);
    block_builder_destroy(bb);
}
END_TEST

static int released;
static void on_release(void *arg)
{
    released += *(int *)arg;
}

START_TEST(test_release_callback)
{
    struct block_builder *bb = block_builder_create(4);
    struct slice c;
    struct block *blk;
    struct iter *it;
    int one = 1;
    block_builder_add(bb, slice_cstr("k"), slice_cstr("v"));
    c = block_builder_finish(bb);
    ck_assert_int_eq(block_open(c.data, c.len, 0, &blk), 0);
    it = block_iter_create(blk, slice_compare, on_release, &one);
    released = 0;
    iter_destroy(it);
    ck_assert_int_eq(released, 1);
    block_destroy(blk);
    block_builder_destroy(bb);
}
END_TEST

START_TEST(test_handles)
{
    struct block_handle h = { 123456789012ull, 4096 }, g;
    struct buf b = BUF_INIT;
    struct slice in;
    block_handle_encode(&b, &h);
    ck_assert_uint_le(b.len, BLOCK_HANDLE_MAX_LEN);
    in = buf_slice(&b);
    ck_assert_int_eq(block_handle_decode(&in, &g), 0);
    ck_assert_uint_eq(g.offset, h.offset);
    ck_assert_uint_eq(g.size, h.size);
    ck_assert_uint_eq(in.len, 0);
    in = slice_make(b.data, b.len - 1);        /* truncated */
    ck_assert_int_eq(block_handle_decode(&in, &g), LSM_ECORRUPT);
    buf_free(&b);
}
END_TEST

/* Walks everything the iterator offers; must stop cleanly. */
static void exercise(struct iter *it)
{
    int guard = 0;
    for (iter_seek_to_first(it); iter_valid(it) && guard < 100000; iter_next(it))
        guard++;
    for (iter_seek_to_last(it); iter_valid(it) && guard < 200000; iter_prev(it))
        guard++;
    iter_seek(it, slice_cstr("user:00020000"));
    if (iter_valid(it))
        iter_prev(it);
    iter_seek_for_prev(it, slice_cstr("user:00030000"));
    if (iter_valid(it))
        iter_next(it);
    ck_assert_int_lt(guard, 200000);
}

START_TEST(test_corrupt_blocks_are_safe)
{
    struct kv *v = make_kvs(300);
    size_t n = dedup_count(v, 300), i, round;
    struct block_builder *bb = block_builder_create(4);
    struct slice c;
    struct block *blk;
    for (i = 0; i < n; i++)
        block_builder_add(bb, slice_make(v[i].key, v[i].klen), slice_make(v[i].val, v[i].vlen));
    c = block_builder_finish(bb);
    for (round = 0; round < 3000; round++) {
        size_t len = c.len, flips = 1 + rnd() % 3, k;
        char *copy = zmalloc(len);
        struct iter *it;
        memcpy(copy, c.data, len);
        if (round % 3 == 0)
            len = rnd() % (c.len + 1);              /* truncation */
        for (k = 0; k < flips && len; k++)
            copy[rnd() % len] ^= (char)(1 + rnd() % 255);
        if (block_open(copy, len, 1, &blk) < 0)
            continue;                               /* rejected up front */
        it = block_iter_create(blk, slice_compare, NULL, NULL);
        exercise(it);
        ck_assert(iter_status(it) == 0 || iter_status(it) == LSM_ECORRUPT);
        iter_destroy(it);
        block_destroy(blk);
    }
    /* a restart count pointing past the block is rejected */
    {
        char bad[8];
        encode_fixed32(bad, 0);
        encode_fixed32(bad + 4, 5);
        ck_assert_int_eq(block_open(bad, sizeof(bad), 0, &blk), LSM_ECORRUPT);
        ck_assert_int_eq(block_open(bad, 3, 0, &blk), LSM_ECORRUPT);
    }
    block_builder_destroy(bb);
    zfree(v);
}
END_TEST

/* Key shape of rand_ikey: 0 = one prefix for all keys; 1 = most keys in
 * namespaces sharing a long prefix, with a few outliers below and above
 * (like the server's metadata keys before its data keys): the first 8
 * bytes after what all keys share tie for most keys, so seeks need the
 * prefix array's second level. */
static int key_shape;

/* A random internal key (at most 38 bytes): "usr/" (shape 1: a namespace
 * of up to 18 bytes) + 0..12 bytes (0x00, 0xff, letters: ties in
 * the first 8 bytes, prefixes of each other) + trailer; mode 1/2 give user
 * keys below/above the shared prefix, 3 a proper prefix of it. */
static size_t rand_ikey(char *out, int mode)
{
    static const char alpha[] = { 0, 1, 'a', 'b', 'c', (char)0xff };
    static const char *const ns[] = { "usr/namespace-000/", "usr/namespace-001/",
                                      "usr/namespace-00", "usr/nb/" };
    size_t n = 0, len = rnd() % 13, i;
    const char *pre = mode == 1 ? "usq/" : mode == 2 ? "usz/" : mode == 3 ? "us" : "usr/";
    if (key_shape == 1 && mode == 0)
        pre = ns[rnd() % 4];
    memcpy(out, pre, strlen(pre));
    n = strlen(pre);
    if (mode != 3)
        for (i = 0; i < len; i++)
            out[n++] = alpha[rnd() % sizeof alpha];
    encode_fixed64(out + n, dbformat_pack(rnd() % 50, rnd() % 2 ? LSM_TYPE_VALUE : LSM_TYPE_SEEK));
    return n + LSM_TRAILER_LEN;
}

static int ik_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    return ikey_compare(slice_make(x->key, x->klen), slice_make(y->key, y->klen));
}

/* The index blocks' prefix accelerator finds exactly what the plain binary
 * search finds, for targets inside, between, below and above the keys. */
START_TEST(test_prefix_index_matches_plain)
{
    /* Big blocks (an array per restart point, shape 1 with a second
     * level) and small ones (2 to 4 restart points, kept in the struct). */
    static const struct {
        size_t n;
        int interval, shape;
    } cases[] = { { 3000, 1, 0 }, { 3000, 4, 0 }, { 3000, 1, 1 }, { 3000, 4, 1 },
                  { 40, 16, 0 },  { 60, 16, 1 },  { 12, 4, 0 },   { 30, 16, 1 },
                  { 16, 16, 0 } };
    size_t n, i, m, t;
    int iv;
    for (iv = 0; iv < (int)(sizeof(cases) / sizeof(cases[0])); iv++) {
        int interval = cases[iv].interval;
        size_t small, nr;
        n = cases[iv].n;
        key_shape = cases[iv].shape;
        struct kv *v = zcalloc(n * sizeof(*v));
        struct block_builder *bb = block_builder_create(interval);
        struct block *plain, *fast;
        struct slice c;
        char *copy, *fcopy;
        for (i = 0; i < n; i++) {
            /* shape 1: 1 in 50 keys is an outlier below or above */
            v[i].klen = rand_ikey(v[i].key, key_shape == 1 && i % 50 == 0 ? 1 + (int)(i / 50 % 2) : 0);
            v[i].vlen = (size_t)snprintf(v[i].val, sizeof v[i].val, "%zu", i);
        }
        qsort(v, n, sizeof(*v), ik_cmp);
        for (i = 0, m = 0; i < n; i++)          /* strictly increasing */
            if (m == 0 || ik_cmp(&v[m - 1], &v[i]) < 0)
                v[m++] = v[i];
        for (i = 0; i < m; i++)
            block_builder_add(bb, slice_make(v[i].key, v[i].klen),
                              slice_make(v[i].val, v[i].vlen));
        c = block_builder_finish(bb);
        copy = zmalloc(c.len);
        memcpy(copy, c.data, c.len);
        fcopy = zmalloc(c.len);
        memcpy(fcopy, c.data, c.len);
        nr = (m + (size_t)interval - 1) / (size_t)interval;
        small = nr >= 2 && nr <= 4;
        ck_assert_int_eq(block_open(copy, c.len, 0, &plain), 0);
        ck_assert_int_eq(block_open(fcopy, c.len, 0, &fast), 0);
        ck_assert_int_eq(block_build_prefix_index(fast, ikey_compare, LSM_TRAILER_LEN), 0);
        if (small) {
            /* Kept in the struct: nothing allocated, and the restart array
             * is never read again (garbage there changes no answer). */
            ck_assert_uint_eq(block_memory(fast), block_memory(plain));
            memset(fcopy + c.len - 4 - 4 * nr, 0xff, 4 * nr);
        } else if (nr < 16) {
            ck_assert_uint_eq(block_memory(fast), block_memory(plain));   /* none */
        } else {
            /* 8 bytes per restart point; 20 with the second level, which
             * shape 1 must have (its long runs of equal prefixes). */
            size_t extra = block_memory(fast) - block_memory(plain);
            if (key_shape == 1)
                ck_assert_uint_eq(extra, nr * 20);
            else
                ck_assert(extra == nr * 8 || extra == nr * 20);
        }
        for (t = 0; t < 20000; t++) {
            char tk[48];
            size_t tl;
            struct buf k1 = BUF_INIT, k2 = BUF_INIT;
            struct slice v1 = { 0 }, v2 = { 0 };
            struct iter *it1, *it2;
            int r1, r2;
            if (t % 3 == 0) {
                const struct kv *e = &v[rnd() % m];
                memcpy(tk, e->key, e->klen);
                tl = e->klen;
            } else if (t % 3 == 1 && t % 2 == 0) {
                /* a key's user key cut short (a proper prefix of keys) */
                const struct kv *e = &v[rnd() % m];
                size_t ul = e->klen - LSM_TRAILER_LEN, cut = rnd() % (ul + 1);
                memcpy(tk, e->key, cut);
                encode_fixed64(tk + cut, dbformat_pack(rnd() % 50, LSM_TYPE_SEEK));
                tl = cut + LSM_TRAILER_LEN;
            } else {
                tl = rand_ikey(tk, t % 10 < 7 ? 0 : (int)(t % 10) - 6);
            }
            r1 = block_seek_once(plain, ikey_compare, slice_make(tk, tl), &k1, &v1);
            r2 = block_seek_once(fast, ikey_compare, slice_make(tk, tl), &k2, &v2);
            ck_assert_int_eq(r1, r2);
            if (r1 == 1) {
                ck_assert(slice_equal(buf_slice(&k1), buf_slice(&k2)));
                ck_assert(slice_equal(v1, v2));
            }
            it1 = block_iter_create(plain, ikey_compare, NULL, NULL);
            it2 = block_iter_create(fast, ikey_compare, NULL, NULL);
            iter_seek(it1, slice_make(tk, tl));
            iter_seek(it2, slice_make(tk, tl));
            ck_assert_int_eq(iter_valid(it1), iter_valid(it2));
            if (iter_valid(it1))
                ck_assert(slice_equal(iter_key(it1), iter_key(it2)));
            iter_destroy(it1);
            iter_destroy(it2);
            buf_free(&k1);
            buf_free(&k2);
        }
        block_destroy(plain);
        block_destroy(fast);
        zfree(copy);
        zfree(fcopy);
        block_builder_destroy(bb);
        zfree(v);
    }
}
END_TEST

static Suite *block_suite(void)
{
    Suite *s = suite_create("block");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip_intervals);
    tcase_add_test(tc, test_empty_block);
    tcase_add_test(tc, test_release_callback);
    tcase_add_test(tc, test_handles);
    tcase_add_test(tc, test_corrupt_blocks_are_safe);
    tcase_add_test(tc, test_prefix_index_matches_plain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *env = getenv("SEED");
    SRunner *sr;
    int failed;
    seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("# test_block SEED=%u\n", seed);
    fflush(stdout);
    sr = srunner_create(block_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
