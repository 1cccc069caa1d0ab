/* util_test.h: small helpers shared by the util unit suites.
 * Header-only (static functions), included by tests/unit/test_*.c of util. */
#ifndef LSM_TESTS_UNIT_UTIL_TEST_H
#define LSM_TESTS_UNIT_UTIL_TEST_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Seed of the random tests: $SEED when set, else time-based; printed once. */
static inline uint64_t ut_seed(void)
{
    static uint64_t seed;
    static int done;
    if (!done) {
        const char *s = getenv("SEED");
        seed = s && *s ? strtoull(s, NULL, 0)
                       : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
        fprintf(stderr, "# SEED=%llu\n", (unsigned long long)seed);
        done = 1;
    }
    return seed;
}

/* xorshift64*: deterministic from the seed. */
static inline uint64_t ut_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Runs one suite; exit status 0 when every case passed. */
static inline int ut_run(Suite *s)
{
    (void)ut_seed();                /* one seed for every forked case */
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
