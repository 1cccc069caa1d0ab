/* tap.h: a tiny TAP producer for tests that are not Check suites
 * (integration and crash tests). Prints "ok N - name" / "not ok N - name",
 * diagnostics as "# ...", and the plan at the end. A test program returns
 * tap_done(), which is 0 when every check passed. tap_skip_all() prints
 * "1..0 # SKIP reason" (automake counts the test as skipped).
 * Header-only; one test program = one translation unit using it. */
#ifndef LSM_TESTS_TAP_H
#define LSM_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* Records one check; returns cond so callers can branch on it. */
static inline int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    return cond;
}

static inline void tap_skip_all(const char *reason)
{
    printf("1..0 # SKIP %s\n", reason);
    fflush(stdout);
    exit(0);
}

static inline void tap_bail(const char *reason)
{
    printf("Bail out! %s\n", reason);
    fflush(stdout);
    exit(1);
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif
