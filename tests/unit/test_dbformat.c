/* test_dbformat: internal key encoding, parsing, ordering and separators. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dbformat.h"

static struct buf ik(const char *u, uint64_t seq, int type)
{
    struct buf b = BUF_INIT;
    ikey_append(&b, slice_cstr(u), seq, type);
    return b;
}

START_TEST(test_roundtrip)
{
    static const char *keys[] = { "", "a", "hello", "\xff\xff" };
    static const uint64_t seqs[] = { 0, 1, 255, 256, LSM_MAX_SEQ - 1, LSM_MAX_SEQ };
    size_t i, j;
    int t;
    for (i = 0; i < 4; i++)
        for (j = 0; j < 6; j++)
            for (t = 0; t <= LSM_TYPE_VPTR; t++) {
                struct buf b = ik(keys[i], seqs[j], t);
                struct ikey_parsed p;
                ck_assert_uint_eq(b.len, strlen(keys[i]) + 8);
                ck_assert_int_eq(ikey_parse(buf_slice(&b), &p), 0);
                ck_assert(slice_equal(p.user_key, slice_cstr(keys[i])));
                ck_assert_uint_eq(p.seq, seqs[j]);
                ck_assert_int_eq(p.type, t);
                ck_assert_uint_eq(ikey_trailer(buf_slice(&b)), dbformat_pack(seqs[j], t));
                buf_free(&b);
            }
}
END_TEST

START_TEST(test_parse_rejects_bad)
{
    struct ikey_parsed p;
    char bad[9] = { 'k', 7, 0, 0, 0, 0, 0, 0, 0 };   /* type 7 */
    ck_assert_int_eq(ikey_parse(slice_make("short", 5), &p), -1);
    ck_assert_int_eq(ikey_parse(slice_make(bad, 9), &p), -1);
}
END_TEST

START_TEST(test_order)
{
    struct buf a1 = ik("a", 1, LSM_TYPE_VALUE), a5 = ik("a", 5, LSM_TYPE_VALUE);
    struct buf a5d = ik("a", 5, LSM_TYPE_DELETION), b0 = ik("b", 0, LSM_TYPE_VALUE);
    struct buf ab = ik("ab", 100, LSM_TYPE_VALUE), e = ik("", 1, LSM_TYPE_VALUE);
    ck_assert_int_lt(ikey_compare(buf_slice(&a5), buf_slice(&a1)), 0);   /* newer first */
    ck_assert_int_lt(ikey_compare(buf_slice(&a5), buf_slice(&a5d)), 0);  /* higher type first */
    ck_assert_int_lt(ikey_compare(buf_slice(&a1), buf_slice(&ab)), 0);   /* prefix first */
    ck_assert_int_lt(ikey_compare(buf_slice(&ab), buf_slice(&b0)), 0);
    ck_assert_int_lt(ikey_compare(buf_slice(&e), buf_slice(&a1)), 0);
    ck_assert_int_eq(ikey_compare(buf_slice(&a1), buf_slice(&a1)), 0);
    ck_assert_int_gt(ikey_compare(buf_slice(&b0), buf_slice(&a1)), 0);
    buf_free(&a1); buf_free(&a5); buf_free(&a5d); buf_free(&b0); buf_free(&ab); buf_free(&e);
}
END_TEST

/* A damaged table can hold keys shorter than the trailer: they sort before
 * every internal key (bytewise among themselves) and are compared without
 * reading past their bytes (each is its own exact-size allocation, for
 * ASan). utils/fuzz/corpus/sst/crash-short-ikey-seek. */
START_TEST(test_order_short_keys)
{
    struct buf a1 = ik("a", 1, LSM_TYPE_VALUE);
    struct buf lng = ik("a-user-key-of-twenty", 3, LSM_TYPE_VALUE);
    char *b = malloc(1), *ab = malloc(2), *seven = malloc(7);
    memcpy(b, "b", 1);
    memcpy(ab, "ab", 2);
    memcpy(seven, "zzzzzzz", 7);
    struct slice sb = slice_make(b, 1), sab = slice_make(ab, 2), s7 = slice_make(seven, 7);
    struct slice empty = slice_make(NULL, 0);
    ck_assert_int_lt(ikey_compare(sb, buf_slice(&a1)), 0);
    ck_assert_int_gt(ikey_compare(buf_slice(&a1), sb), 0);
    ck_assert_int_lt(ikey_compare(s7, buf_slice(&lng)), 0);
    ck_assert_int_gt(ikey_compare(buf_slice(&lng), s7), 0);
    ck_assert_int_lt(ikey_compare(sab, sb), 0);
    ck_assert_int_lt(ikey_compare(empty, sab), 0);
    ck_assert_int_gt(ikey_compare(s7, sb), 0);
    ck_assert_int_eq(ikey_compare(sb, sb), 0);
    free(b);
    free(ab);
    free(seven);
    buf_free(&a1);
    buf_free(&lng);
}
END_TEST

static void check_sep(const char *ua, const char *ub, const char *want_user)
{
    struct buf a = ik(ua, 10, LSM_TYPE_VALUE), b = ik(ub, 20, LSM_TYPE_VALUE), out = BUF_INIT;
    ikey_find_shortest_separator(&out, buf_slice(&a), buf_slice(&b));
    ck_assert_int_le(ikey_compare(buf_slice(&a), buf_slice(&out)), 0);
    ck_assert_int_lt(ikey_compare(buf_slice(&out), buf_slice(&b)), 0);
    ck_assert(slice_equal(ikey_user_key(buf_slice(&out)), slice_cstr(want_user)));
    buf_free(&a); buf_free(&b); buf_free(&out);
}

START_TEST(test_separator)
{
    check_sep("abcdef", "abzz", "abd");
    check_sep("abc", "abd", "abc");           /* adjacent: unchanged */
    check_sep("abc", "abcd", "abc");          /* prefix: unchanged */
    check_sep("a\xff", "b", "a\xff");
    check_sep("aaa", "c", "b");
}
END_TEST

START_TEST(test_successor)
{
    struct buf a = ik("abc", 10, LSM_TYPE_VALUE), f = ik("\xff\xff", 3, LSM_TYPE_VALUE);
    struct buf out = BUF_INIT;
    ikey_find_short_successor(&out, buf_slice(&a));
    ck_assert(slice_equal(ikey_user_key(buf_slice(&out)), slice_cstr("b")));
    ck_assert_int_lt(ikey_compare(buf_slice(&a), buf_slice(&out)), 0);
    buf_clear(&out);
    ikey_find_short_successor(&out, buf_slice(&f));
    ck_assert_int_eq(ikey_compare(buf_slice(&f), buf_slice(&out)), 0);
    buf_free(&a); buf_free(&f); buf_free(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dbformat");
    TCase *tc = tcase_create("ikey");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_parse_rejects_bad);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_order_short_keys);
    tcase_add_test(tc, test_separator);
    tcase_add_test(tc, test_successor);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
