/* test_glob: Redis-compatible glob matching (util/glob.h): a table of cases
 * checked against redis-server 7's KEYS, nocase folding, binary safety, a
 * randomized comparison with a naive recursive matcher, no exponential
 * blow-up, and the literal prefix helper. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/glob.h"

struct gcase {
    const char *pattern;
    const char *string;
    int nocase;
    int expected;
};

/* Expected results with nocase = 0 were produced by redis-server 7.0 (KEYS
 * pattern against a single key; against the key "" through "**", since KEYS
 * skips matching for "*" alone). */
static const struct gcase cases[] = {
    { "", "", 0, 1 },
    { "", "a", 0, 0 },
    { "a", "", 0, 0 },
    { "*", "", 0, 0 },
    { "**", "", 0, 0 },
    { "***", "", 0, 0 },
    { "?", "", 0, 0 },
    { "*", "anything", 0, 1 },
    { "a*", "a", 0, 1 },
    { "a*", "abc", 0, 1 },
    { "a*", "bac", 0, 0 },
    { "*c", "abc", 0, 1 },
    { "*c", "abd", 0, 0 },
    { "a*c", "ac", 0, 1 },
    { "a*c", "abbbc", 0, 1 },
    { "a*c", "abbbcd", 0, 0 },
    { "a**c", "abc", 0, 1 },
    { "*a*", "bab", 0, 1 },
    { "*a*", "bbb", 0, 0 },
    { "?", "a", 0, 1 },
    { "?", "", 0, 0 },
    { "?", "ab", 0, 0 },
    { "a?c", "abc", 0, 1 },
    { "a?c", "ac", 0, 0 },
    { "??", "ab", 0, 1 },
    { "h?llo", "hello", 0, 1 },
    { "h?llo", "hallo", 0, 1 },
    { "h*llo", "hllo", 0, 1 },
    { "h*llo", "heeeello", 0, 1 },
    { "h[ae]llo", "hello", 0, 1 },
    { "h[ae]llo", "hallo", 0, 1 },
    { "h[ae]llo", "hillo", 0, 0 },
    { "h[^e]llo", "hallo", 0, 1 },
    { "h[^e]llo", "hello", 0, 0 },
    { "h[a-b]llo", "hallo", 0, 1 },
    { "h[a-b]llo", "hbllo", 0, 1 },
    { "h[a-b]llo", "hcllo", 0, 0 },
    { "[b-a]", "a", 0, 1 },
    { "[b-a]", "b", 0, 1 },
    { "[b-a]", "c", 0, 0 },
    { "[z-a]x", "mx", 0, 1 },
    { "[abc]", "b", 0, 1 },
    { "[abc]", "d", 0, 0 },
    { "[a-cx-z]", "y", 0, 1 },
    { "[a-cx-z]", "m", 0, 0 },
    { "[]", "a", 0, 0 },
    { "[]", "", 0, 0 },
    { "[^]", "a", 0, 1 },
    { "[^]", "", 0, 0 },
    { "[^]", "ab", 0, 0 },
    { "[a-]", "-", 0, 0 },
    { "[a-]", "]", 0, 1 },
    { "[a-]", "^", 0, 1 },
    { "[a-]", "a", 0, 1 },
    { "[a-]", "b", 0, 0 },
    { "[abc", "a", 0, 1 },
    { "[abc", "d", 0, 0 },
    { "[", "a", 0, 0 },
    { "[", "[", 0, 0 },
    { "[^", "a", 0, 1 },
    { "[\\]]", "]", 0, 1 },
    { "[\\]]", "\\", 0, 0 },
    { "[\\-]", "-", 0, 1 },
    { "[a\\-c]", "b", 0, 0 },
    { "[a\\-c]", "-", 0, 1 },
    { "[\\^a]", "^", 0, 1 },
    { "[^\\]]", "]", 0, 0 },
    { "[^\\]]", "x", 0, 1 },
    { "\\*", "*", 0, 1 },
    { "\\*", "a", 0, 0 },
    { "\\?", "?", 0, 1 },
    { "\\?", "a", 0, 0 },
    { "\\[a]", "[a]", 0, 1 },
    { "\\[a]", "a", 0, 0 },
    { "a\\", "a\\", 0, 1 },
    { "\\", "\\", 0, 1 },
    { "\\\\", "\\", 0, 1 },
    { "\\a", "a", 0, 1 },
    { "*\\*", "abc*", 0, 1 },
    { "*\\*", "abc", 0, 0 },
    { "a*b*c", "aXbYc", 0, 1 },
    { "a*b*c", "aXcYb", 0, 0 },
    { "*a*b*c*", "xxaxxbxxcxx", 0, 1 },
    { "*ab", "aab", 0, 1 },
    { "*aab", "aaab", 0, 1 },
    { "a*aab", "aaab", 0, 1 },
    { "a*aab", "aab", 0, 0 },
    { "*?", "", 0, 0 },
    { "*?", "a", 0, 1 },
    { "?*", "", 0, 0 },
    { "*?*?", "a", 0, 0 },
    { "*?*?", "ab", 0, 1 },
    { "user:*:name", "user:1000:name", 0, 1 },
    { "user:*:name", "user:1000:age", 0, 0 },
    { "[[]", "[", 0, 1 },
    { "[*]", "*", 0, 1 },
    { "[*]", "a", 0, 0 },
    { "[?]", "?", 0, 1 },
    { "*[0-9]", "abc7", 0, 1 },
    { "*[0-9]", "abc", 0, 0 },
    { "HELLO", "hello", 0, 0 },
    { "HELLO", "hello", 1, 1 },
    { "h[A-Z]llo", "hello", 1, 1 },
    { "h[A-Z]llo", "hello", 0, 0 },
    { "h[E]llo", "hello", 1, 1 },
    { "h[^E]llo", "hello", 1, 0 },
    { "*PORT*", "tcp-port-x", 1, 1 },
    { "[\\E]", "e", 1, 0 },
    { "[\\E]", "E", 1, 1 },
    { "\\E", "e", 1, 1 },
    { "*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0 },
    { "*a*a*a*a*a*a*a*a*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 1 },
};

START_TEST(test_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct gcase *c = &cases[i];
        int got = glob_match(c->pattern, strlen(c->pattern), c->string, strlen(c->string),
                             c->nocase);
        ck_assert_msg(got == c->expected, "pattern '%s' string '%s' nocase %d: got %d want %d",
                      c->pattern, c->string, c->nocase, got, c->expected);
        ck_assert_int_eq(glob_match_cstr(c->pattern, c->string, c->nocase), got);
    }
}
END_TEST

/* Like redis-server 7.0 (KEYS checked): at most 1000 runs of stars that are
 * not at the end of the pattern, else no match (its recursion limit). */
START_TEST(test_star_run_limit)
{
    char p[2 * (GLOB_MAX_STAR_RUNS + 1) + 2], s[1100];
    size_t n = 0;

    memset(s, 'a', sizeof(s));
    for (int i = 0; i < GLOB_MAX_STAR_RUNS; i++) {
        p[n++] = '*';
        p[n++] = 'a';
    }
    ck_assert_int_eq(glob_match(p, n, s, sizeof(s), 0), 1);
    p[n] = '*';                                 /* a trailing run: no recursion */
    ck_assert_int_eq(glob_match(p, n + 1, s, sizeof(s), 0), 1);
    p[n + 1] = 'a';
    ck_assert_int_eq(glob_match(p, n + 2, s, sizeof(s), 0), 0);
    ck_assert_int_eq(glob_match(p, n + 2, s, sizeof(s), 1), 0);
}
END_TEST

START_TEST(test_binary_safe)
{
    /* NUL bytes are ordinary bytes on both sides. */
    ck_assert_int_eq(glob_match("a\0*", 3, "a\0bc", 4, 0), 1);
    ck_assert_int_eq(glob_match("a\0*", 3, "a\1bc", 4, 0), 0);
    ck_assert_int_eq(glob_match("?\0?", 3, "x\0y", 3, 0), 1);
    ck_assert_int_eq(glob_match("[\0]", 3, "\0", 1, 0), 1);
    /* Lengths bound the pattern: "a*" cut to "a" must not match "ab". */
    ck_assert_int_eq(glob_match("a*", 1, "ab", 2, 0), 0);
    /* Range bounds compare as signed chars, like redis-server 7 on x86-64
     * (KEYS checked): "[a-\xff]" is -1..'a', "[\x7f-\x80]" is every byte. */
    ck_assert_int_eq(glob_match("[\x80-\xff]", 5, "\xc3", 1, 0), 1);
    ck_assert_int_eq(glob_match("[\x80-\xff]", 5, "a", 1, 0), 0);
    ck_assert_int_eq(glob_match("[a-\xff]", 5, "\x90", 1, 0), 0);
    ck_assert_int_eq(glob_match("[a-\xff]", 5, "a", 1, 0), 1);
    ck_assert_int_eq(glob_match("[a-\xff]", 5, "b", 1, 0), 0);
    ck_assert_int_eq(glob_match("[z-\xff]", 5, "q", 1, 0), 1);
    ck_assert_int_eq(glob_match("[\x7f-\x80]", 5, "\x90", 1, 0), 1);
    ck_assert_int_eq(glob_match("[\x7f-\x80]", 5, "q", 1, 0), 1);
    /* With nocase the swapped bounds go through glibc's tolower(), which
     * maps negative chars but -1 to their unsigned value (redis-server 7's
     * CONFIG GET, which matches with nocase, checked). */
    ck_assert_int_eq(glob_match_cstr("[\xff-P]ort", "port", 1), 1);
    ck_assert_int_eq(glob_match_cstr("[\xfe-P]ort", "port", 1), 0);
    ck_assert_int_eq(glob_match_cstr("[\x80-P]ort", "port", 1), 0);
    ck_assert_int_eq(glob_match_cstr("[\x01-P]ort", "port", 1), 1);
    ck_assert_int_eq(glob_match_cstr("[\x80-z]", "_", 1), 0);
    ck_assert_int_eq(glob_match_cstr("[\x80-z]", "_", 0), 1);
    /* nocase folds ASCII letters only. */
    ck_assert_int_eq(glob_match("\xc3", 1, "\xe3", 1, 1), 0);
    ck_assert_int_eq(glob_match("[", 1, "{", 1, 1), 0);
}
END_TEST

START_TEST(test_no_blowup)
{
    char s[20001];
    const char *p = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    struct timespec t0, t1;

    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(glob_match(p, strlen(p), s, 22, 0), 0);
    ck_assert_int_eq(glob_match(p, strlen(p), s, strlen(s), 0), 0);
    ck_assert_int_eq(glob_match_cstr("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", s, 0), 1);
    ck_assert_int_eq(glob_match_cstr("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b", s, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(secs < 2.0, "pathological patterns took %.3f s", secs);
}
END_TEST

/* ---- reference: a direct recursive reading of Redis' algorithm ---- */

static int ref_fold(int c, int nocase)
{
    return nocase && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int ref_match(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl,
                     int nocase)
{
    if (pl == 0)
        return sl == 0;
    if (p[0] == '*')
        return ref_match(p + 1, pl - 1, s, sl, nocase) ||
               (sl > 0 && ref_match(p, pl, s + 1, sl - 1, nocase));
    if (sl == 0)
        return 0;
    if (p[0] == '?')
        return ref_match(p + 1, pl - 1, s + 1, sl - 1, nocase);
    if (p[0] == '[') {
        size_t i = 1;
        int neg = 0, m = 0;
        if (i < pl && p[i] == '^') {
            neg = 1;
            i++;
        }
        for (;;) {
            if (i >= pl)
                break;
            if (p[i] == '\\' && pl - i >= 2) {
                m |= p[i + 1] == s[0];
                i += 2;
            } else if (p[i] == ']') {
                i++;
                break;
            } else if (pl - i >= 3 && p[i + 1] == '-') {
                int lo = (signed char)p[i], hi = (signed char)p[i + 2];
                if (lo > hi) {
                    int t = lo;
                    lo = hi;
                    hi = t;
                }
                int c = ref_fold((signed char)s[0], nocase);
                m |= c >= ref_fold(lo, nocase) && c <= ref_fold(hi, nocase);
                i += 3;
            } else {
                m |= ref_fold(p[i], nocase) == ref_fold(s[0], nocase);
                i++;
            }
        }
        if (m == neg)
            return 0;
        return ref_match(p + i, pl - i, s + 1, sl - 1, nocase);
    }
    size_t adv = 1;
    unsigned char lit = p[0];
    if (p[0] == '\\' && pl >= 2) {
        lit = p[1];
        adv = 2;
    }
    if (ref_fold(lit, nocase) != ref_fold(s[0], nocase))
        return 0;
    return ref_match(p + adv, pl - adv, s + 1, sl - 1, nocase);
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

START_TEST(test_random_vs_reference)
{
    const char *env = getenv("SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    uint64_t x = seed | 1;
    const char palpha[] = "aAb*?[]^-\\";
    const char salpha[] = "aAb-]^\\*";

    fprintf(stderr, "# test_glob SEED=%llu\n", (unsigned long long)seed);
    for (int iter = 0; iter < 200000; iter++) {
        unsigned char p[10], s[10];
        size_t pl = rng_next(&x) % 9, sl = rng_next(&x) % 9;
        int nocase = (int)(rng_next(&x) & 1);
        for (size_t i = 0; i < pl; i++)
            p[i] = (unsigned char)palpha[rng_next(&x) % (sizeof(palpha) - 1)];
        for (size_t i = 0; i < sl; i++)
            s[i] = (unsigned char)salpha[rng_next(&x) % (sizeof(salpha) - 1)];
        /* stringmatchlen's loop never runs for an empty string: only the
         * empty pattern matches it (stars consume nothing there). */
        int want = sl == 0 ? pl == 0 : ref_match(p, pl, s, sl, nocase);
        int got = glob_match((const char *)p, pl, (const char *)s, sl, nocase);
        ck_assert_msg(got == want, "SEED=%llu pattern '%.*s' string '%.*s' nocase %d: got %d want %d",
                      (unsigned long long)seed, (int)pl, p, (int)sl, s, nocase, got, want);
    }
}
END_TEST

START_TEST(test_literal_prefix)
{
    static const struct {
        const char *pattern;
        const char *prefix;
        int whole;
    } pc[] = {
        { "", "", 1 },
        { "abc", "abc", 1 },
        { "abc*", "abc", 0 },
        { "user:*:name", "user:", 0 },
        { "a?c", "a", 0 },
        { "ab[cd]", "ab", 0 },
        { "*abc", "", 0 },
        { "a\\*b*", "a*b", 0 },
        { "a\\*b", "a*b", 1 },
        { "a\\", "a\\", 1 },
        { "\\\\x", "\\x", 1 },
        { "k\\[1]", "k[1]", 1 },
    };
    char out[64];

    for (size_t i = 0; i < sizeof(pc) / sizeof(pc[0]); i++) {
        int whole = -1;
        size_t n = glob_literal_prefix(pc[i].pattern, strlen(pc[i].pattern), out, &whole);
        ck_assert_msg(n == strlen(pc[i].prefix) && memcmp(out, pc[i].prefix, n) == 0,
                      "pattern '%s': prefix '%.*s' want '%s'", pc[i].pattern, (int)n, out,
                      pc[i].prefix);
        ck_assert_msg(whole == pc[i].whole, "pattern '%s': whole %d", pc[i].pattern, whole);
        if (pc[i].whole)   /* a whole literal matches exactly its prefix */
            ck_assert(glob_match(pc[i].pattern, strlen(pc[i].pattern), out, n, 0));
    }
    /* Binary: NUL inside the prefix; NULL whole is allowed. */
    ck_assert_uint_eq(glob_literal_prefix("a\0b*", 4, out, NULL), 3);
    ck_assert_int_eq(memcmp(out, "a\0b", 3), 0);
}
END_TEST

static Suite *glob_suite(void)
{
    Suite *s = suite_create("glob");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_star_run_limit);
    tcase_add_test(tc, test_binary_safe);
    tcase_add_test(tc, test_no_blowup);
    tcase_add_test(tc, test_random_vs_reference);
    tcase_add_test(tc, test_literal_prefix);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(glob_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
