/* Unit tests of util/clock: units and monotonicity. */
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

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_add_test(tc, wall_clock_is_unix_time);
    tcase_add_test(tc, monotonic_never_goes_back);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
