/* glob: Redis-compatible glob-style matching (stringmatchlen semantics), for
 * CONFIG GET, KEYS and SCAN MATCH.
 *
 * Pattern syntax:
 *   *        any run of bytes (also empty)
 *   ?        exactly one byte
 *   [abc]    one byte of the set;  [^abc] one byte not in the set
 *   [a-z]    a range (reversed ranges like [z-a] work too); inside a set,
 *            \x is the literal x; an unterminated set ends at the pattern end
 *   \x       the literal x (a trailing lone \ is a literal backslash)
 * nocase folds ASCII letters only. Patterns and strings are binary safe
 * (lengths, not NUL terminators); range bounds and the byte compare as
 * signed chars, like Redis 7 on x86-64 ("[a-\xff]" is the range -1..'a',
 * which holds "\x80".."\xff" but not "b"); with nocase the swapped bounds
 * and the byte then go through glibc's tolower(), which maps a negative char
 * other than -1 to its unsigned value ("[\x80-P]" is then 128..'p', empty),
 * as CONFIG GET patterns in redis-server 7 show.
 * Quirks kept from Redis: "[]" matches nothing, "[^]" matches any byte,
 * "[a-]" is a range from ']' to 'a'; an escaped byte inside a set is matched
 * case-sensitively even with nocase; the empty string matches only the empty
 * pattern, not "*" (callers that want "*" to mean every key, as KEYS and
 * SCAN do in Redis, skip matching for it).
 *
 * Redis' recursion limit is kept: a pattern needing more than
 * GLOB_MAX_STAR_RUNS runs of stars before its last byte (e.g. "*a" 1001
 * times) matches no non-empty string (stringmatchlen's "nesting > 1000").
 *
 * Cost: no recursion; O(plen * slen) in the worst case (backtracking only to
 * the last star), so patterns like "*a*a*a*a*b" can't blow up.
 * Thread rules: pure functions, safe from any thread. */
#ifndef LSM_UTIL_GLOB_H
#define LSM_UTIL_GLOB_H

#include <stddef.h>

#define GLOB_MAX_STAR_RUNS 1000     /* Redis' stringmatchlen nesting limit */

/* 1 if string matches pattern, else 0. */
int glob_match(const char *pattern, size_t plen,
               const char *string, size_t slen, int nocase);
/* glob_match() on NUL-terminated strings. */
int glob_match_cstr(const char *pattern, const char *string, int nocase);

/* The literal prefix every match starts with (escapes resolved), for range
 * scans: written to out, which must have room for plen bytes; returns its
 * length. *whole (may be NULL) is set to 1 when the entire pattern is a
 * literal (then the only match, case-sensitively, is the prefix itself).
 * Meaningful for case-sensitive matching only. */
size_t glob_literal_prefix(const char *pattern, size_t plen, char *out,
                           int *whole);

#endif
