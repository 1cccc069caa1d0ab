/* dump: Redis' DUMP payload of a string, written and read (DUMP, RESTORE).
 *
 * A payload is an RDB object, then the RDB version (2 bytes LE) and a
 * CRC-64 (8 bytes LE, util/crc64.h) of everything before it:
 *   type byte 0 (string), then the string:
 *     an integer of 8, 16 or 32 bits (0xC0 | 0, 1, 2 and the value LE)
 *       when the string is one written the canonical way (str_to_ll);
 *     else its length (RDB's length encoding: 6 bits, 14 bits, 0x80 + 32
 *       bits BE, 0x81 + 64 bits BE) and its bytes.
 * Reading also takes an LZF-compressed string (0xC3, compressed length,
 * length, data), which Redis writes for strings of more than 20 bytes that
 * compress; lsmdb writes those uncompressed (still a valid payload for
 * Redis' RESTORE, but not byte-identical to its DUMP). As in Redis, the
 * object is read from the whole payload (a string running into the footer
 * takes its bytes) and bytes between the object and the footer are
 * ignored. Other types (lists, sets, ...) are not read: lsmdb has none.
 * Pure functions. */
#ifndef LSM_SERVER_DUMP_H
#define LSM_SERVER_DUMP_H

#include <stddef.h>

#include "util/slice.h"

/* The RDB version lsmdb writes and the newest it reads (Redis 7.0's). */
#define DUMP_RDB_VERSION 10

/* Appends the payload of the string v (n bytes) to out. */
void dump_string(const char *v, size_t n, struct buf *out);
/* Appends the footer to the object that starts at out->data + start: the
 * RDB version (DUMP_RDB_VERSION) and the CRC-64 of the object and version. */
void dump_footer(struct buf *out, size_t start);
/* 1 when the payload's version is at most DUMP_RDB_VERSION and its CRC-64
 * matches, else 0 (Redis: "DUMP payload version or checksum are wrong"). */
int dump_verify(const char *p, size_t n);
/* The string a verified payload holds, into out (replaced): 0, or -1 when
 * it holds no well-formed string of at most max bytes (Redis: "Bad data
 * format"). */
int dump_load_string(const char *p, size_t n, size_t max, struct buf *out);

#endif
