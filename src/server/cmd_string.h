/* cmd_string: Redis 7's string commands (GET, SET and its options, SETNX,
 * SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET, MSETNX, INCR, DECR,
 * INCRBY, DECRBY, INCRBYFLOAT, APPEND, STRLEN, GETRANGE, SETRANGE, SUBSTR)
 * over the keyspace layer (server/keyspace.h).
 *
 * Every handler runs inside the transaction the dispatcher opened and only
 * calls ks_* functions; replies, error strings and edge cases (integer and
 * float parsing, expire-time overflow, the proto-max-bulk-len limit) are
 * Redis 7.0's. Thread rules: loop thread only. */
#ifndef LSM_SERVER_CMD_STRING_H
#define LSM_SERVER_CMD_STRING_H

#include <stddef.h>

#include "server/commands.h"
#include "util/strconv.h"

/* The rows of the string commands (struct command of commands.h), ended by
 * a row whose name is NULL; the command table registers them. */
extern struct command string_commands[];

/* str_to_ll() (Redis' string2ll) lives in util/strconv.h. */

/* Redis' string2ld(): strtold over the whole string (no leading space, no
 * trailing bytes, no NaN, no overflow, no underflow to zero; "inf" is
 * accepted). Returns 1 and *out, or 0. */
int str_to_ld(const char *s, size_t len, long double *out);

/* Redis' ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros (and
 * without a trailing '.'), "-0" printed as "0", "inf"/"-inf". buf needs
 * STR_LD_BUFSIZE bytes. Returns the length. */
#define STR_LD_BUFSIZE (5 * 1024)
int str_from_ld_human(char *buf, size_t cap, long double v);

#endif
