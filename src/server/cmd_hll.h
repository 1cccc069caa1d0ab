/* cmd_hll: Redis 7's HyperLogLog commands, PFADD, PFCOUNT, PFMERGE,
 * PFDEBUG and PFSELFTEST, over the keyspace layer. An HLL is a string key
 * holding the HYLL format of server/hll.h, so GET, SET, DUMP and RESTORE
 * carry it as they carry any string, and its bytes are the ones Redis
 * writes for the same commands.
 *
 * Every write keeps the key's expire. PFCOUNT of one key stores the
 * estimate in the header's cache when the cache was stale (a write, as in
 * Redis: it tells a WATCH of the key), except while writes are refused:
 * then it only answers. A string that is not an HLL gets "WRONGTYPE Key is
 * not a valid HyperLogLog string value.", an HLL whose sparse runs are
 * broken "INVALIDOBJ Corrupted HLL object detected" (PFADD keeps the
 * elements it added before it met the damage, as Redis does; the other
 * commands write nothing). Replies, errors and argument-check order are
 * Redis 7.0's. Every
 * handler runs inside the transaction the dispatcher opened. Thread rules:
 * loop thread only. */
#ifndef LSM_SERVER_CMD_HLL_H
#define LSM_SERVER_CMD_HLL_H

#include "server/commands.h"

/* The rows of the HyperLogLog commands (struct command of commands.h),
 * ended by a row whose name is NULL; the command table registers them. */
extern struct command hll_commands[];

#endif
