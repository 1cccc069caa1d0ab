/* test_batch: write-batch encoding, round trip and rejection of bad input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/batch.h"
#include "engine/dbformat.h"
#include "engine/lsm.h"
#include "util/coding.h"

/* Collects operations as "T:key=value;" text. */
static int collect(void *arg, int type, struct slice key, struct slice value)
{
    struct buf *out = arg;
    char t = type == LSM_TYPE_VALUE ? 'P' : type == LSM_TYPE_DELETION ? 'D' : 'V';

    buf_append_byte(out, t);
    buf_append_byte(out, ':');
    buf_append(out, key.data, key.len);
    buf_append_byte(out, '=');
    buf_append(out, value.data, value.len);
    buf_append_byte(out, ';');
    return 0;
}

static const char *dump(const struct lsm_batch *b, struct buf *out, int *rc)
{
    buf_clear(out);
    *rc = batch_iterate(b, collect, out);
    return buf_cstr(out);
}

START_TEST(test_empty)
{
    struct lsm_batch *b = lsm_batch_create();
    struct buf out = BUF_INIT;
    int rc;

    ck_assert_uint_eq(lsm_batch_count(b), 0);
    ck_assert_uint_eq(lsm_batch_size(b), BATCH_HEADER_SIZE);
    ck_assert_uint_eq(batch_get_sequence(b), 0);
    ck_assert_str_eq(dump(b, &out, &rc), "");
    ck_assert_int_eq(rc, 0);
    lsm_batch_destroy(b);
    lsm_batch_destroy(NULL);
    buf_free(&out);
}
END_TEST

START_TEST(test_round_trip)
{
    struct lsm_batch *b = lsm_batch_create(), *c = lsm_batch_create();
    struct buf out = BUF_INIT, out2 = BUF_INIT;
    char big[1000];
    int rc;

    memset(big, 'x', sizeof(big));
    lsm_batch_put(b, "foo", 3, "bar", 3);
    lsm_batch_delete(b, "box", 3);
    lsm_batch_put(b, "", 0, "", 0);
    batch_put_vptr(b, slice_cstr("big"), slice_cstr("PTR"));
    lsm_batch_put(b, "k", 1, big, sizeof(big));
    batch_set_sequence(b, 100);
    ck_assert_uint_eq(lsm_batch_count(b), 5);
    ck_assert_uint_eq(batch_get_sequence(b), 100);
    ck_assert_uint_eq(batch_user_bytes(b), 6 + 3 + 0 + 6 + 1 + sizeof(big));
    ck_assert_uint_eq(lsm_batch_size(b), batch_contents(b).len);

    dump(b, &out, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(strncmp(out.data, "P:foo=bar;D:box=;P:=;V:big=PTR;P:k=xxx", 38) == 0);

    /* The encoding read back from a "WAL record" gives the same batch. */
    ck_assert_int_eq(batch_set_contents(c, batch_contents(b)), 0);
    ck_assert_uint_eq(lsm_batch_count(c), 5);
    ck_assert_uint_eq(batch_get_sequence(c), 100);
    ck_assert_uint_eq(batch_user_bytes(c), batch_user_bytes(b));
    dump(c, &out2, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(buf_cstr(&out), buf_cstr(&out2));

    /* Header layout: fixed64 sequence, fixed32 count. */
    ck_assert_uint_eq(decode_fixed64(batch_contents(b).data), 100);
    ck_assert_uint_eq(decode_fixed32(batch_contents(b).data + 8), 5);

    lsm_batch_clear(b);
    ck_assert_uint_eq(lsm_batch_count(b), 0);
    ck_assert_uint_eq(lsm_batch_size(b), BATCH_HEADER_SIZE);
    ck_assert_uint_eq(batch_user_bytes(b), 0);
    lsm_batch_destroy(b);
    lsm_batch_destroy(c);
    buf_free(&out);
    buf_free(&out2);
}
END_TEST

static int stop_at_second(void *arg, int type, struct slice key, struct slice value)
{
    int *n = arg;

    (void)type; (void)key; (void)value;
    return ++*n == 2 ? 42 : 0;
}

START_TEST(test_handler_stops)
{
    struct lsm_batch *b = lsm_batch_create();
    int n = 0;

    lsm_batch_put(b, "a", 1, "1", 1);
    lsm_batch_put(b, "b", 1, "2", 1);
    lsm_batch_put(b, "c", 1, "3", 1);
    ck_assert_int_eq(batch_iterate(b, stop_at_second, &n), 42);
    ck_assert_int_eq(n, 2);
    lsm_batch_destroy(b);
}
END_TEST

START_TEST(test_append)
{
    struct lsm_batch *a = lsm_batch_create(), *b = lsm_batch_create();
    struct buf out = BUF_INIT;
    int rc;

    lsm_batch_put(a, "a", 1, "1", 1);
    batch_set_sequence(a, 7);
    lsm_batch_delete(b, "b", 1);
    batch_put_vptr(b, slice_cstr("c"), slice_cstr("p"));
    batch_set_sequence(b, 99);
    batch_append(a, b);
    ck_assert_uint_eq(lsm_batch_count(a), 3);
    ck_assert_uint_eq(batch_get_sequence(a), 7);
    ck_assert_uint_eq(batch_user_bytes(a), 2 + 1 + 2);
    ck_assert_str_eq(dump(a, &out, &rc), "P:a=1;D:b=;V:c=p;");
    ck_assert_int_eq(rc, 0);
    /* Appending an empty batch changes nothing. */
    lsm_batch_clear(b);
    batch_append(a, b);
    ck_assert_uint_eq(lsm_batch_count(a), 3);
    ck_assert_uint_eq(lsm_batch_size(a), batch_contents(a).len);
    lsm_batch_destroy(a);
    lsm_batch_destroy(b);
    buf_free(&out);
}
END_TEST

START_TEST(test_embedded)
{
    struct lsm_batch b;

    batch_init(&b);
    batch_put(&b, slice_cstr("k"), slice_cstr("v"));
    ck_assert_uint_eq(lsm_batch_count(&b), 1);
    batch_free(&b);
}
END_TEST

static struct lsm_batch *sample(void)
{
    struct lsm_batch *b = lsm_batch_create();

    lsm_batch_put(b, "alpha", 5, "one", 3);
    lsm_batch_delete(b, "beta", 4);
    batch_put_vptr(b, slice_cstr("gamma"), slice_cstr("0123456789"));
    lsm_batch_put(b, "delta", 5, "", 0);
    batch_set_sequence(b, 12345);
    return b;
}

START_TEST(test_every_truncation_rejected)
{
    struct lsm_batch *b = sample(), *c = lsm_batch_create();
    struct slice s = batch_contents(b);

    lsm_batch_put(c, "keep", 4, "me", 2);
    for (size_t n = 0; n < s.len; n++) {
        ck_assert_msg(batch_set_contents(c, slice_make(s.data, n)) == LSM_ECORRUPT,
                      "truncation to %zu bytes accepted", n);
        ck_assert_int_eq(batch_iterate_contents(slice_make(s.data, n), NULL, NULL),
                         LSM_ECORRUPT);
        /* A rejected input leaves the batch as it was. */
        ck_assert_uint_eq(lsm_batch_count(c), 1);
    }
    ck_assert_int_eq(batch_set_contents(c, s), 0);
    lsm_batch_destroy(b);
    lsm_batch_destroy(c);
}
END_TEST

START_TEST(test_bad_contents_rejected)
{
    struct lsm_batch *b = sample(), *c = lsm_batch_create();
    struct buf raw = BUF_INIT;

    /* Unknown type byte in the first record. */
    buf_set(&raw, batch_contents(b).data, batch_contents(b).len);
    raw.data[BATCH_HEADER_SIZE] = 9;
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    /* Count larger / smaller than the records present. */
    buf_set(&raw, batch_contents(b).data, batch_contents(b).len);
    encode_fixed32(raw.data + 8, 5);
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    encode_fixed32(raw.data + 8, 3);
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    /* Trailing garbage. */
    buf_set(&raw, batch_contents(b).data, batch_contents(b).len);
    buf_append_byte(&raw, 1);
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    /* Key length past the end. */
    buf_set(&raw, batch_contents(b).data, batch_contents(b).len);
    raw.data[BATCH_HEADER_SIZE + 1] = 100;
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    /* Over-long varint. */
    buf_set(&raw, batch_contents(b).data, BATCH_HEADER_SIZE);
    encode_fixed32(raw.data + 8, 1);
    buf_append(&raw, "\x01\xff\xff\xff\xff\xff\xff", 7);
    ck_assert_int_eq(batch_set_contents(c, buf_slice(&raw)), LSM_ECORRUPT);
    ck_assert_uint_eq(lsm_batch_count(c), 0);
    lsm_batch_destroy(b);
    lsm_batch_destroy(c);
    buf_free(&raw);
}
END_TEST

/* A PATCH lives in memory only: it is counted, appended with the batch,
 * and a WAL record that holds one is corrupt. */
START_TEST(test_patch_ops)
{
    struct lsm_batch *a = lsm_batch_create(), *b = lsm_batch_create(), *c = lsm_batch_create();

    ck_assert_int_eq(lsm_batch_patch(a, "k", 1, "", 0), LSM_EINVAL);
    ck_assert_int_eq(lsm_batch_patch(a, "k", 1, "01234567890123456", 17), LSM_EINVAL);
    ck_assert_uint_eq(lsm_batch_count(a), 0);
    ck_assert(!batch_has_patch(a));
    lsm_batch_put(a, "k", 1, "value", 5);
    ck_assert_int_eq(lsm_batch_patch(a, "k", 1, "0123456789abcdef", 16), 0);
    ck_assert(batch_has_patch(a));
    ck_assert_uint_eq(lsm_batch_count(a), 2);
    batch_append(b, a);
    ck_assert(batch_has_patch(b));
    ck_assert_int_eq(batch_iterate(b, NULL, NULL), 0);
    ck_assert_int_eq(batch_iterate_contents(batch_contents(b), NULL, NULL), LSM_ECORRUPT);
    ck_assert_int_eq(batch_set_contents(c, batch_contents(b)), LSM_ECORRUPT);
    ck_assert_uint_eq(lsm_batch_count(c), 0);
    lsm_batch_clear(b);
    ck_assert(!batch_has_patch(b));
    lsm_batch_destroy(a);
    lsm_batch_destroy(b);
    lsm_batch_destroy(c);
}
END_TEST

START_TEST(test_random_bytes_never_crash)
{
    const char *env = getenv("SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 1234u;
    struct lsm_batch *b = sample(), *c = lsm_batch_create();
    struct slice s = batch_contents(b);
    struct buf raw = BUF_INIT;

    printf("# test_random_bytes_never_crash SEED=%u\n", seed);
    srand(seed);
    /* Flip every bit of a valid batch: the result is either rejected or a
     * well-formed batch (e.g. a changed key byte); never a crash. */
    for (size_t i = 0; i < s.len * 8; i++) {
        int rc;
        buf_set(&raw, s.data, s.len);
        raw.data[i / 8] ^= (char)(1 << (i % 8));
        rc = batch_set_contents(c, buf_slice(&raw));
        ck_assert(rc == 0 || rc == LSM_ECORRUPT);
        if (rc == 0)
            ck_assert_int_eq(batch_iterate(c, NULL, NULL), 0);
    }
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(rand() % 64);
        buf_clear(&raw);
        for (size_t j = 0; j < n; j++)
            buf_append_byte(&raw, (char)rand());
        int rc = batch_set_contents(c, buf_slice(&raw));
        ck_assert(rc == 0 || rc == LSM_ECORRUPT);
    }
    lsm_batch_destroy(b);
    lsm_batch_destroy(c);
    buf_free(&raw);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_handler_stops);
    tcase_add_test(tc, test_append);
    tcase_add_test(tc, test_embedded);
    tcase_add_test(tc, test_every_truncation_rejected);
    tcase_add_test(tc, test_bad_contents_rejected);
    tcase_add_test(tc, test_random_bytes_never_crash);
    tcase_add_test(tc, test_patch_ops);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(batch_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
