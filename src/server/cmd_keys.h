/* cmd_keys: Redis 7's generic keyspace commands (DEL, UNLINK, EXISTS, TYPE,
 * RENAME, RENAMENX, COPY, MOVE, the EXPIRE family with NX XX GT LT, PERSIST,
 * TTL, PTTL, EXPIRETIME, PEXPIRETIME, TOUCH, SCAN, KEYS, RANDOMKEY) and the
 * database commands (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB) over the keyspace
 * layer (server/keyspace.h).
 *
 * Every handler runs inside the transaction the dispatcher opened and only
 * calls ks_* functions; argument checks happen in Redis 7.0's order so the
 * first error reported for an input is Redis' own. SCAN's cursor is the
 * decimal handle of a persistent resume record (docs/scan.md).
 * Thread rules: loop thread only. */
#ifndef LSM_SERVER_CMD_KEYS_H
#define LSM_SERVER_CMD_KEYS_H

#include "server/commands.h"

/* The rows of these commands (struct command of commands.h), ended by a
 * row whose name is NULL; the command table registers them. */
extern struct command keys_commands[];

#endif
