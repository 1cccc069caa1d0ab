/* strconv: Redis' strict number parsing, shared by the protocol parser, the
 * configuration loader and the commands, so all three accept exactly the
 * same integers (Redis' string2ll); and hex digits.
 * Thread rules: pure functions. */
#ifndef LSM_UTIL_STRCONV_H
#define LSM_UTIL_STRCONV_H

#include <stddef.h>

/* Redis' string2ll(): optional '-', digits without a leading zero (except
 * "0" itself), no '+', no spaces, at most 20 bytes, within long long.
 * Returns 1 and *out, or 0 (and *out untouched). */
int str_to_ll(const char *s, size_t len, long long *out);

/* The value of a hex digit (0-9, a-f, A-F), or -1 for any other byte
 * (the "\xHH" escapes of the inline protocol and of config strings). */
int str_hex_digit(int c);

#endif
