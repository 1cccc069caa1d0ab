/* crc64: the CRC-64 of Redis' DUMP payloads and RDB files ("Jones":
 * reflected polynomial 0xad93d23594c935a9, initial value 0, no final xor;
 * crc64 of "123456789" is 0xe9c6d914c4b8d9ca).
 * Owns: a 256-entry table, built once (thread-safe). Pure otherwise. */
#ifndef LSM_UTIL_CRC64_H
#define LSM_UTIL_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes. */
uint64_t crc64(uint64_t crc, const void *p, size_t n);

#endif
