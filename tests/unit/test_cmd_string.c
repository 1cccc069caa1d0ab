/* test_cmd_string: the number helpers of the string commands behave like
 * Redis 7.0's string2ll / string2ld / ld2string(LD_STR_HUMAN) — what INCR,
 * INCRBY, INCRBYFLOAT and every integer argument accept and print. Expected
 * values were checked against redis-server 7.0.15 on x86-64 (80-bit long
 * double). */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server/cmd_string.h"

static int ll(const char *s, long long *v)
{
    return str_to_ll(s, strlen(s), v);
}

START_TEST(test_ll_accepts)
{
    long long v = 1;
    ck_assert(ll("0", &v) && v == 0);
    ck_assert(ll("-1", &v) && v == -1);
    ck_assert(ll("123456", &v) && v == 123456);
    ck_assert(ll("9223372036854775807", &v) && v == LLONG_MAX);
    ck_assert(ll("-9223372036854775808", &v) && v == LLONG_MIN);
}
END_TEST

START_TEST(test_ll_rejects)
{
    static const char *const bad[] = {
        "", "-", "+1", "01", "-0", "00", " 1", "1 ", "1.0", "1e3", "0x10", "abc",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "-99999999999999999999", "123456789012345678901",
    };
    long long v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!ll(bad[i], &v), "accepted \"%s\"", bad[i]);
    ck_assert(!str_to_ll("1\0", 2, &v));   /* binary: a NUL is not a digit */
}
END_TEST

/* a + b formatted as INCRBYFLOAT replies, or "invalid". */
static const char *add(const char *a, const char *b)
{
    static char out[STR_LD_BUFSIZE];
    long double x, y;
    if (!str_to_ld(a, strlen(a), &x) || !str_to_ld(b, strlen(b), &y))
        return "invalid";
    str_from_ld_human(out, sizeof(out), x + y);
    return out;
}

START_TEST(test_ld_format)
{
    ck_assert_str_eq(add("10.5", "0.1"), "10.6");
    ck_assert_str_eq(add("10.6", "1e20"), "100000000000000000008");
    ck_assert_str_eq(add("3", "0.1"), "3.1");
    ck_assert_str_eq(add("3.1", "-3.1"), "0");
    ck_assert_str_eq(add("0", "1.5e-7"), "0.00000015");
    ck_assert_str_eq(add("0.00000015", "123456789.123456789"), "123456789.12345693899987964");
    ck_assert_str_eq(add("-0.0", "0"), "0");
    ck_assert_str_eq(add("0", "-0"), "0");
    ck_assert_str_eq(add("0", "1e-20"), "0");
    ck_assert_str_eq(add("1e-4940", "0"), "0");
    ck_assert_str_eq(add("0x10", "1"), "17");
    ck_assert_str_eq(add(".5", "5."), "5.5");
    ck_assert_str_eq(add("+1", "-2"), "-1");
    ck_assert_str_eq(add("3.0000000000000000001", "0"), "3");
    ck_assert_str_eq(add("1.0", "0"), "1");
    ck_assert_str_eq(add("-1.25", "0"), "-1.25");
}
END_TEST

START_TEST(test_ld_parse)
{
    static const char *const bad[] = { "", " 1", "1 ", "nan", "NaN", "abc", "1e5000",
                                       "-1e5000", "1e-5000", "1,5", "--1", "0x" };
    long double v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!str_to_ld(bad[i], strlen(bad[i]), &v), "accepted \"%s\"", bad[i]);
    ck_assert(!str_to_ld("1\0", 2, &v));
    ck_assert(str_to_ld("inf", 3, &v) && v > 0 && v * 0 != v * 0);   /* inf is a value */
    ck_assert(str_to_ld("-Infinity", 9, &v) && v < 0);
    char big[STR_LD_BUFSIZE + 1];
    memset(big, '1', sizeof(big));
    ck_assert(!str_to_ld(big, STR_LD_BUFSIZE, &v));   /* too long, like Redis */
    ck_assert(str_to_ld(big, STR_LD_BUFSIZE - 1 - 4940, &v));
}
END_TEST

START_TEST(test_ld_inf_and_huge)
{
    char buf[STR_LD_BUFSIZE];
    long double v;
    ck_assert_int_eq(str_from_ld_human(buf, sizeof(buf), 1.0L / 0.0L), 3);
    ck_assert_str_eq(buf, "inf");
    ck_assert_int_eq(str_from_ld_human(buf, sizeof(buf), -1.0L / 0.0L), 4);
    ck_assert_str_eq(buf, "-inf");
    /* the largest long doubles still fit the buffer, without a fraction */
    ck_assert(str_to_ld("1e4932", 6, &v));
    int n = str_from_ld_human(buf, sizeof(buf), v);
    ck_assert_int_eq(n, 4933);
    ck_assert_ptr_null(strchr(buf, '.'));
}
END_TEST

static Suite *cmd_string_suite(void)
{
    Suite *s = suite_create("cmd_string");
    TCase *tc = tcase_create("numbers");
    tcase_add_test(tc, test_ll_accepts);
    tcase_add_test(tc, test_ll_rejects);
    tcase_add_test(tc, test_ld_format);
    tcase_add_test(tc, test_ld_parse);
    tcase_add_test(tc, test_ld_inf_and_huge);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmd_string_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
