/* Unit tests of server/lathist: percentiles within a bucket's width (about
 * 3%) of the exact ones, the upper edge of the bucket reported, small
 * values exact, huge ones counted, an empty histogram, exact counts below
 * powers of two (LATENCY HISTOGRAM). */
#include <stdint.h>

#include "server/lathist.h"
#include "util_test.h"

START_TEST(percentiles_of_1_to_100000)
{
    struct lathist *h = NULL;
    for (uint64_t v = 1; v <= 100000; v++)
        lathist_record(&h, v);
    ck_assert_uint_eq(lathist_count(h), 100000);
    static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 100 };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double exact = ps[i] * 1000;                /* p% of 1..100000 */
        uint64_t got = lathist_percentile(h, ps[i]);
        ck_assert_msg(got >= exact && got <= exact * 1.032, "p%g: %llu for %g", ps[i],
                      (unsigned long long)got, exact);
    }
    lathist_free(&h);
    ck_assert_ptr_null(h);
}
END_TEST

START_TEST(small_values_are_exact)
{
    struct lathist *h = NULL;
    for (int i = 0; i < 10; i++)
        lathist_record(&h, 7);
    lathist_record(&h, 31);
    ck_assert_uint_eq(lathist_percentile(h, 50), 7);
    ck_assert_uint_eq(lathist_percentile(h, 0), 7);
    ck_assert_uint_eq(lathist_percentile(h, 100), 31);
    lathist_free(&h);
}
END_TEST

/* Below a power of two the count is exact: the values 1..100000 count
 * 2^k - 1 below 2^k, and 100000 below any larger edge. */
START_TEST(counts_below_powers_of_two_are_exact)
{
    struct lathist *h = NULL;
    ck_assert_uint_eq(lathist_count_below(h, 1024), 0);
    for (uint64_t v = 1; v <= 100000; v++)
        lathist_record(&h, v);
    for (uint64_t edge = 1024; edge <= (1u << 20); edge <<= 1) {
        uint64_t want = edge - 1 < 100000 ? edge - 1 : 100000;
        ck_assert_msg(lathist_count_below(h, edge) == want, "below %llu: %llu, not %llu",
                      (unsigned long long)edge,
                      (unsigned long long)lathist_count_below(h, edge),
                      (unsigned long long)want);
    }
    lathist_free(&h);
}
END_TEST

START_TEST(huge_values_and_empty)
{
    struct lathist *h = NULL;
    ck_assert_uint_eq(lathist_count(h), 0);
    ck_assert_uint_eq(lathist_percentile(h, 50), 0);
    lathist_record(&h, UINT64_MAX);
    lathist_record(&h, 1);
    ck_assert_uint_eq(lathist_count(h), 2);
    ck_assert_uint_eq(lathist_percentile(h, 100), (1ull << 40) - 1);   /* the last bucket */
    ck_assert_uint_eq(lathist_percentile(h, 50), 1);
    ck_assert_uint_eq(lathist_percentile(h, 250), (1ull << 40) - 1);   /* clamped */
    lathist_free(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lathist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, percentiles_of_1_to_100000);
    tcase_add_test(tc, small_values_are_exact);
    tcase_add_test(tc, huge_values_and_empty);
    tcase_add_test(tc, counts_below_powers_of_two_are_exact);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
