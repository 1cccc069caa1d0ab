/* cmd_bitmap: Redis 7's bitmap commands, which treat a string as an array
 * of bits (bit 0 is the most significant bit of the first byte): GETBIT,
 * SETBIT, BITCOUNT and BITPOS (with BYTE|BIT ranges), BITOP (AND OR XOR
 * NOT), BITFIELD and BITFIELD_RO (GET SET INCRBY, i1..i64 and u1..u63
 * fields, OVERFLOW WRAP|SAT|FAIL), over the keyspace layer.
 *
 * A missing key reads as an empty string, and an empty string as endless
 * zero bits. A write grows the string with zero bytes to the highest bit
 * it sets and keeps the key's expire (BITOP's destination is replaced and
 * loses it). Offsets stop below proto-max-bulk-len bytes, as in Redis.
 * Replies, error strings and the order in which arguments are checked are
 * Redis 7.0's. Every handler runs inside the transaction the dispatcher
 * opened. Thread rules: loop thread only. */
#ifndef LSM_SERVER_CMD_BITMAP_H
#define LSM_SERVER_CMD_BITMAP_H

#include "server/commands.h"

/* The rows of the bitmap commands (struct command of commands.h), ended by
 * a row whose name is NULL; the command table registers them. */
extern struct command bitmap_commands[];

#endif
