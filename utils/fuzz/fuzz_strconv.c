/* fuzz_strconv: the number conversions of command arguments, against
 * references written here independently of the product.
 *
 * Input: byte 0 picks the mode, the rest is the argument.
 *  0: str_to_ll (Redis' string2ll) against strtoll plus "the string is
 *     exactly how %lld prints that number" (which is what string2ll's
 *     strictness amounts to: no sign but '-', no spaces, no leading zero,
 *     no "-0", at most 20 bytes, within long long);
 *  1: str_to_ld (Redis' string2ld) against a recogniser of strtold's syntax
 *     plus strtold for the value, with Redis' rules: the whole string, no
 *     leading space, no NaN, "inf" accepted, an overflow to infinity or an
 *     underflow of a non-zero number to zero rejected;
 *  2: the first 8 bytes as a long long: printed with %lld, str_to_ll gives
 *     it back;
 *  3: the first 10 bytes as an x87 long double (when finite).
 * Every accepted long double, and mode 3's value, also goes through
 * str_from_ld_human (Redis' ld2string LD_STR_HUMAN): the text has the shape
 * -?digits[.digits] without trailing zeros and is never "-0"; parsing it
 * gives a value within half a unit of the 17th decimal (plus an ulp) whose
 * text is the same (the format is a fixed point of parse + format). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "server/cmd_string.h"
#include "util/strconv.h"

/* ---- integers ---- */

static int ref_ll(const char *s, size_t len, long long *out)
{
    char buf[32], canon[32];
    char *end;

    if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0')
        return 0;
    snprintf(canon, sizeof(canon), "%lld", v);
    if (strcmp(canon, buf) != 0)
        return 0;
    *out = v;
    return 1;
}

static void check_ll(const char *s, size_t len)
{
    long long got = 12345, want = 0;
    int ok = str_to_ll(s, len, &got);
    int rok = ref_ll(s, len, &want);

    fuzz_check(ok == rok, "str_to_ll(\"%.*s\") = %d, reference says %d", (int)len, s, ok, rok);
    if (!ok)
        fuzz_check(got == 12345, "str_to_ll wrote *out on failure");
    else
        fuzz_check(got == want, "str_to_ll(\"%.*s\") = %lld, reference %lld", (int)len, s, got,
                   want);
}

static void roundtrip_ll(long long v)
{
    char buf[32];
    long long back = 0;
    int n = snprintf(buf, sizeof(buf), "%lld", v);

    fuzz_check(str_to_ll(buf, (size_t)n, &back) == 1 && back == v,
               "str_to_ll does not read back %%lld of %lld", v);
}

/* ---- long doubles ---- */

enum { LD_NUMBER, LD_INF, LD_NAN };

static size_t span(const char *s, size_t i, size_t len, int (*cls)(int))
{
    while (i < len && cls((unsigned char)s[i]))
        i++;
    return i;
}

static int is_nchar(int c)
{
    return isalnum(c) || c == '_';
}

/* The digits of a mantissa from s[i]: digits [. digits], at least one digit.
 * Returns the index after it (== i when there is none); *nonzero is set when
 * a digit is not 0. */
static size_t mantissa(const char *s, size_t i, size_t len, int (*digit)(int), int *nonzero)
{
    size_t start = i, ndig = 0;
    int dot = 0;

    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (digit(c)) {
            ndig++;
            if (c != '0')
                *nonzero = 1;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            break;
        }
    }
    return ndig ? i : start;
}

/* 1 when the whole of s is one strtold subject sequence (C locale, no
 * leading space); *kind says which. */
static int ref_ld_syntax(const char *s, size_t len, int *kind, int *nonzero)
{
    size_t i = 0, j;

    *nonzero = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if ((len - i == 3 && strncasecmp(s + i, "inf", 3) == 0) ||
        (len - i == 8 && strncasecmp(s + i, "infinity", 8) == 0)) {
        *kind = LD_INF;
        return 1;
    }
    if (len - i >= 3 && strncasecmp(s + i, "nan", 3) == 0) {
        *kind = LD_NAN;
        j = i + 3;
        if (j == len)
            return 1;
        if (s[j] != '(')
            return 0;
        j = span(s, j + 1, len, is_nchar);
        return j + 1 == len && s[j] == ')';
    }
    *kind = LD_NUMBER;
    int hex = len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
    if (hex) {
        j = mantissa(s, i + 2, len, isxdigit, nonzero);
        if (j == i + 2)
            return 0;       /* "0x" alone: strtold stops after the 0 */
    } else {
        j = mantissa(s, i, len, isdigit, nonzero);
        if (j == i)
            return 0;
    }
    if (j == len)
        return 1;
    if (s[j] != (hex ? 'p' : 'e') && s[j] != (hex ? 'P' : 'E'))
        return 0;
    j++;
    if (j < len && (s[j] == '+' || s[j] == '-'))
        j++;
    size_t k = span(s, j, len, isdigit);
    return k > j && k == len;
}

static int ref_ld(const char *s, size_t len, long double *out)
{
    char buf[STR_LD_BUFSIZE];
    int kind, nonzero;

    if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
        return 0;
    if (!ref_ld_syntax(s, len, &kind, &nonzero) || kind == LD_NAN)
        return 0;
    if (kind == LD_INF) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    long double v = strtold(buf, NULL);
    if (isinf(v) || (v == 0 && nonzero))
        return 0;
    *out = v;
    return 1;
}

static void check_human(long double v)
{
    static char buf[STR_LD_BUFSIZE], again[STR_LD_BUFSIZE];
    long double back = 0;

    int n = str_from_ld_human(buf, sizeof(buf), v);
    fuzz_check(n > 0 && (size_t)n == strlen(buf), "str_from_ld_human(%La) returned %d", v, n);
    if (isinf(v)) {
        fuzz_check(strcmp(buf, v > 0 ? "inf" : "-inf") == 0, "infinity printed as %s", buf);
    } else {
        size_t i = buf[0] == '-', d = i;
        while (isdigit((unsigned char)buf[d]))
            d++;
        fuzz_check(d > i, "no integer digits in %s", buf);
        if (buf[d] == '.') {
            size_t f = d + 1;
            while (isdigit((unsigned char)buf[f]))
                f++;
            fuzz_check(f > d + 1 && f == (size_t)n && buf[f - 1] != '0',
                       "bad fraction in %s", buf);
        } else {
            fuzz_check(d == (size_t)n, "junk after the digits of %s", buf);
        }
        fuzz_check(strcmp(buf, "-0") != 0, "-0 printed for %La", v);
    }
    fuzz_check(str_to_ld(buf, (size_t)n, &back) == 1, "str_to_ld rejects the text %s of %La",
               buf, v);
    if (isinf(v)) {
        fuzz_check(back == v, "%s read back as %La", buf, back);
        return;
    }
    long double ulp = fabsl(nextafterl(v, v < 0 ? -INFINITY : INFINITY) - v);
    fuzz_check(fabsl(back - v) <= 5.001e-18L + ulp, "%s read back as %La, far from %La", buf,
               back, v);
    int m = str_from_ld_human(again, sizeof(again), back);
    fuzz_check(m == n && strcmp(buf, again) == 0, "%La prints as %s, read back prints as %s", v,
               buf, again);
}

static void check_ld(const char *s, size_t len)
{
    long double got = 42, want = 0;
    int ok = str_to_ld(s, len, &got);
    int rok = ref_ld(s, len, &want);

    fuzz_check(ok == rok, "str_to_ld(\"%.*s\") = %d, reference says %d", (int)len, s, ok, rok);
    if (!ok) {
        fuzz_check(got == 42, "str_to_ld wrote *out on failure");
        return;
    }
    fuzz_check(got == want && signbit(got) == signbit(want),
               "str_to_ld(\"%.*s\") = %La, reference %La", (int)len, s, got, want);
    check_human(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;

    switch (data[0] & 3) {
    case 0:
        check_ll(s, len);
        break;
    case 1:
        check_ld(s, len);
        break;
    case 2: {
        long long v = 0;
        memcpy(&v, s, len < sizeof(v) ? len : sizeof(v));
        roundtrip_ll(v);
        break;
    }
    default: {
        long double v = 0;
        memcpy(&v, s, len < 10 ? len : 10);
        int c = fpclassify(v);
        if (c == FP_NORMAL || c == FP_SUBNORMAL || c == FP_ZERO || c == FP_INFINITE)
            check_human(v);
        break;
    }
    }
    return 0;
}
