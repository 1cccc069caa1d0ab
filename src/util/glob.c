/* glob: Redis-compatible glob matching without recursion (see glob.h). */
#include "util/glob.h"

#include <stdint.h>
#include <string.h>

/* Redis' tolower() as glibc has it, on ints: a range's bounds and byte are
 * signed chars (see match_set), and glibc maps a negative char other than
 * EOF (-1) to its unsigned value. Bytes (0..255) just fold ASCII letters. */
static inline int fold(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 'a';
    return c < -1 ? c + 256 : c;
}

/* Matches the set starting just after '[' at p[i] against c. Sets *next to the
 * index after the set's closing ']' (or plen when unterminated). */
static int match_set(const unsigned char *p, size_t plen, size_t i,
                     unsigned char c, int nocase, size_t *next)
{
    int negate = 0, match = 0;

    if (i < plen && p[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen) {
        if (p[i] == '\\' && plen - i >= 2) {
            /* Redis compares an escaped byte without case folding. */
            if (p[i + 1] == c)
                match = 1;
            i += 2;
        } else if (p[i] == ']') {
            i++;
            *next = i;
            return match != negate;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            /* Redis compares a range as C chars, signed on x86-64: "[a-\xff]"
             * is the range -1..'a' there, so "b" and "\x90" are outside.
             * With nocase the swapped bounds are folded as Redis' tolower()
             * does, which can empty the range ("[\x80-z]" is 128..'z'). */
            int lo = (signed char)p[i], hi = (signed char)p[i + 2], x = (signed char)c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = fold(lo);
                hi = fold(hi);
                x = fold(x);
            }
            if (x >= lo && x <= hi)
                match = 1;
            i += 3;
        } else {
            if (nocase ? fold(p[i]) == fold(c) : p[i] == c)
                match = 1;
            i++;
        }
    }
    *next = plen;
    return match != negate;
}

/* Matches the single-byte token at p[i] (not '*') against c. */
static int match_one(const unsigned char *p, size_t plen, size_t i,
                     unsigned char c, int nocase, size_t *next)
{
    unsigned char lit;

    switch (p[i]) {
    case '?':
        *next = i + 1;
        return 1;
    case '[':
        return match_set(p, plen, i + 1, c, nocase, next);
    case '\\':
        if (plen - i >= 2)
            i++;
        /* fall through */
    default:
        lit = p[i];
        *next = i + 1;
        return nocase ? fold(lit) == fold(c) : lit == c;
    }
}

int glob_match(const char *pattern, size_t plen,
               const char *string, size_t slen, int nocase)
{
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *s = (const unsigned char *)string;
    size_t pi = 0, si = 0, next;
    size_t star_p = SIZE_MAX, star_s = 0, stars = 0;

    /* Like stringmatchlen, whose loop never runs for an empty string: only
     * the empty pattern matches it, "*" and "**" do not. (KEYS * and SCAN
     * MATCH * return the key "" because they skip matching for "*".) */
    if (slen == 0)
        return plen == 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            while (pi < plen && p[pi] == '*')
                pi++;
            if (pi == plen)
                return 1;
            /* Every run of stars is reached once; Redis recurses per run
             * and gives up past GLOB_MAX_STAR_RUNS. */
            if (++stars > GLOB_MAX_STAR_RUNS)
                return 0;
            star_p = pi;
            star_s = si;
            continue;
        }
        if (pi < plen && match_one(p, plen, pi, s[si], nocase, &next)) {
            pi = next;
            si++;
            continue;
        }
        /* Mismatch: let the last star swallow one more byte. Every other
         * token consumes exactly one byte, so earlier stars never need to
         * be revisited. */
        if (star_p == SIZE_MAX)
            return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

int glob_match_cstr(const char *pattern, const char *string, int nocase)
{
    return glob_match(pattern, strlen(pattern), string, strlen(string),
                      nocase);
}

size_t glob_literal_prefix(const char *pattern, size_t plen, char *out,
                           int *whole)
{
    size_t i = 0, n = 0;

    while (i < plen) {
        char c = pattern[i];
        if (c == '*' || c == '?' || c == '[')
            break;
        if (c == '\\' && plen - i >= 2)
            i++;
        out[n++] = pattern[i++];
    }
    if (whole)
        *whole = (i == plen);
    return n;
}
