/* Unit tests of util/clock: units, monotonicity, the tick counter. */
#include <time.h>

#include "util/clock.h"
#include "util_test.h"

START_TEST(wall_clock_is_unix_time)
{
    int64_t now = (int64_t)time(NULL);
    int64_t ms = clock_ms(), us = clock_us();
    ck_assert_int_ge(ms / 1000, now - 1);
    ck_assert_int_le(ms / 1000, now + 1);
    ck_assert_int_ge(us / 1000000, now - 1);
    ck_assert_int_le(us / 1000000, now + 1);
}
END_TEST

START_TEST(monotonic_never_goes_back)
{
    int64_t prev = clock_mono_us();
    for (int i = 0; i < 100000; i++) {
        int64_t t = clock_mono_us();
        ck_assert_int_ge(t, prev);
        prev = t;
    }
    int64_t a = clock_mono_ms();
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    int64_t b = clock_mono_ms();
    ck_assert_int_ge(b - a, 19);
    ck_assert_int_lt(b - a, 5000);
}
END_TEST

START_TEST(test_ticks_measure_time)
{
    double rate = clock_ticks_per_us();
    ck_assert(rate > 0);
    ck_assert(clock_ticks_per_us() == rate);          /* calibrated once */
    uint64_t t0 = clock_ticks();
    int64_t m0 = clock_mono_us();
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    uint64_t t1 = clock_ticks();
    int64_t m1 = clock_mono_us();
    ck_assert_uint_gt(t1, t0);
    double us = (double)(t1 - t0) / rate;
    /* Within 10% of the monotonic clock over the same 200 ms. */
    ck_assert_msg(us > 0.9 * (double)(m1 - m0) && us < 1.1 * (double)(m1 - m0),
                  "ticks say %.0f us, the monotonic clock %lld us", us, (long long)(m1 - m0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, wall_clock_is_unix_time);
    tcase_add_test(tc, monotonic_never_goes_back);
    tcase_add_test(tc, test_ticks_measure_time);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
