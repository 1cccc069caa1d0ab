/* fuzz_glob: glob_match (KEYS, SCAN MATCH, CONFIG GET) against a reference
 * written here from Redis 7's stringmatchlen rules, and glob_literal_prefix.
 *
 * Input: byte 0 holds the flags (bit 0: nocase); the rest is the pattern, a
 * NUL byte, then the string (which may hold NULs; without a NUL the string
 * is empty).
 *
 * The reference is deliberately simple rather than fast: the pattern is cut
 * into tokens the way Redis steps through it (a run of '*'; '?'; a set
 * "[...]"; "\x"; a literal byte), then a set of reachable string positions
 * is pushed through the tokens (a star reaches every later position, any
 * other token consumes one matching byte). On top of that, Redis' own rules:
 *  - an empty string matches only the empty pattern (its loop never runs);
 *  - more than 1000 star runs that are not at the end make stringmatchlen
 *    give up (its recursion limit, "nesting > 1000"), so no match;
 *  - inside a set, the bounds of a range and the byte compare as C chars,
 *    signed on the platforms Redis 7 ships for (x86-64): "[a-\xff]" is the
 *    range -1..'a'; a range's bounds are swapped first, then folded with
 *    nocase by glibc's tolower (which turns a negative char but -1 into its
 *    unsigned value: "[\x80-P]" is then 128..'p', empty); an escaped byte
 *    in a set compares without folding. Checked with redis-server 7.0's
 *    KEYS (case-sensitive) and CONFIG GET (nocase).
 * Checked besides: a case-sensitive match starts with glob_literal_prefix's
 * prefix (and is exactly it when the pattern is all literal). glob_match
 * must not take exponential time ("*a*a*a*a*b" on long strings): libFuzzer's
 * -timeout and the corpus file slow-stars catch that. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "util/glob.h"

#define REDIS_MAX_NESTING 1000      /* not GLOB_MAX_STAR_RUNS: independent */

enum tok_kind { T_STAR, T_ANY, T_SET, T_LIT };

struct tok {
    enum tok_kind kind;
    size_t from, to;                /* T_SET: the bytes between '[' and its end */
    unsigned char lit;
};

/* tolower() of glibc, the C library Redis 7 runs on: letters fold, and a
 * negative char other than EOF (-1) comes out as its unsigned value. */
static int lower(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c + ('a' - 'A');
    if (c < 0 && c != -1)
        return c + 256;
    return c;
}

/* One byte against the set p[from..), stepping exactly as Redis does;
 * *end is where the set ends (after ']', or plen when unterminated). */
static int set_match(const unsigned char *p, size_t from, size_t plen, unsigned char c,
                     int nocase, size_t *end)
{
    size_t i = from;
    int neg = 0, match = 0;

    if (i < plen && p[i] == '^') {
        neg = 1;
        i++;
    }
    for (;; i++) {
        if (i >= plen) {
            *end = plen;
            break;
        }
        if (p[i] == '\\' && plen - i >= 2) {
            i++;
            if (p[i] == c)
                match = 1;
        } else if (p[i] == ']') {
            *end = i + 1;
            break;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            int a = (signed char)p[i], b = (signed char)p[i + 2], x = (signed char)c;
            if (a > b) {
                int t = a;
                a = b;
                b = t;
            }
            if (nocase) {
                a = lower(a);
                b = lower(b);
                x = lower(x);
            }
            if (x >= a && x <= b)
                match = 1;
            i += 2;
        } else if (nocase ? lower(p[i]) == lower(c) : p[i] == c) {
            match = 1;
        }
    }
    return match != neg;
}

/* Cuts the pattern into tokens; returns how many. */
static size_t tokenize(const unsigned char *p, size_t plen, struct tok *t)
{
    size_t n = 0, i = 0;

    while (i < plen) {
        struct tok *k = &t[n++];
        switch (p[i]) {
        case '*':
            k->kind = T_STAR;
            while (i < plen && p[i] == '*')
                i++;
            break;
        case '?':
            k->kind = T_ANY;
            i++;
            break;
        case '[':
            k->kind = T_SET;
            k->from = i + 1;
            set_match(p, i + 1, plen, 0, 0, &i);
            k->to = i;
            break;
        case '\\':
            if (plen - i >= 2)
                i++;
            /* fall through */
        default:
            k->kind = T_LIT;
            k->lit = p[i++];
            break;
        }
    }
    return n;
}

static int tok_match(const unsigned char *p, const struct tok *k, unsigned char c, int nocase)
{
    size_t end;

    switch (k->kind) {
    case T_ANY:
        return 1;
    case T_SET:
        /* The set's bytes end where tokenize found its end. */
        return set_match(p, k->from, k->to, c, nocase, &end);
    default:
        return nocase ? lower(k->lit) == lower(c) : k->lit == c;
    }
}

static int ref_match(const unsigned char *p, size_t plen, const unsigned char *s, size_t slen,
                     int nocase)
{
    struct tok *t = malloc(sizeof(*t) * (plen + 1));
    unsigned char *reach = calloc(slen + 1, 1);
    size_t n, stars = 0;
    int match;

    if (!t || !reach)
        abort();
    n = tokenize(p, plen, t);
    reach[0] = 1;
    /* lo..hi bounds the reachable positions (lo > hi: none), to keep long
     * inputs fast; it changes nothing else. */
    size_t lo = 0, hi = 0;
    for (size_t k = 0; k < n; k++) {
        if (t[k].kind == T_STAR) {
            if (k + 1 < n)
                stars++;
            if (lo <= hi) {
                memset(reach + lo, 1, slen + 1 - lo);
                hi = slen;
            }
            continue;
        }
        if (lo > hi)
            continue;
        if (slen == 0) {
            reach[0] = 0;
            lo = 1;
            hi = 0;
            continue;
        }
        /* Position j moves to j + 1 when s[j] matches; descending, so
         * reach[j + 1] is written only after it was read. */
        size_t nlo = SIZE_MAX, nhi = 0;
        size_t top = hi < slen ? hi : slen - 1;     /* slen > 0 here */
        for (size_t j = top + 1; j-- > lo;) {
            int m = reach[j] && tok_match(p, &t[k], s[j], nocase);
            reach[j + 1] = (unsigned char)m;
            if (m) {
                nlo = j + 1;
                if (nhi == 0)
                    nhi = j + 1;
            }
        }
        reach[lo] = 0;
        lo = nlo;
        hi = nhi;
    }
    match = lo <= hi && reach[slen];
    if (slen == 0)
        match = plen == 0;
    else if (stars > REDIS_MAX_NESTING)
        match = 0;
    free(t);
    free(reach);
    return match;
}

static void check_prefix(const char *pat, size_t plen, const char *s, size_t slen)
{
    char *pre = malloc(plen + 1);
    int whole = -1;

    if (!pre)
        abort();
    size_t n = glob_literal_prefix(pat, plen, pre, &whole);
    fuzz_check(n <= plen && (whole == 0 || whole == 1), "glob_literal_prefix: %zu, whole %d", n,
               whole);
    if (glob_match(pat, plen, s, slen, 0)) {
        fuzz_check(n <= slen && memcmp(pre, s, n) == 0,
                   "a match does not start with the literal prefix (%zu bytes)", n);
        fuzz_check(!whole || n == slen, "an all-literal pattern matched a longer string");
    }
    if (whole)
        fuzz_check(glob_match(pat, plen, pre, n, 0), "an all-literal pattern misses its prefix");
    free(pre);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int nocase = data[0] & 1;
    const char *pat = (const char *)data + 1;
    const char *nul = memchr(pat, '\0', size - 1);
    size_t plen = nul ? (size_t)(nul - pat) : size - 1;
    const char *s = nul ? nul + 1 : pat + plen;
    size_t slen = nul ? size - 1 - plen - 1 : 0;

    int got = glob_match(pat, plen, s, slen, nocase);
    int want = ref_match((const unsigned char *)pat, plen, (const unsigned char *)s, slen, nocase);
    fuzz_check(got == want, "glob_match(\"%.*s\", \"%.*s\", nocase %d) = %d, reference %d",
               (int)plen, pat, (int)slen, s, nocase, got, want);
    check_prefix(pat, plen, s, slen);
    return 0;
}
