/* lzf: decompression of the LZF format (liblzf's; Redis LZF-compresses
 * long strings in RDB files and DUMP payloads).
 *
 * The format is a sequence of runs, each starting with a control byte c:
 *   c < 32:   a literal run of c + 1 bytes, copied from the input;
 *   c >= 32:  a back reference: length l = c >> 5 (7: l += next byte),
 *             offset o = ((c & 31) << 8) + next byte; copies l + 2 bytes
 *             from o + 1 bytes behind the output's end (they may overlap
 *             the bytes being written).
 * Pure functions; every read and write is bounds-checked. */
#ifndef LSM_UTIL_LZF_H
#define LSM_UTIL_LZF_H

#include <stddef.h>

/* Decompresses in_len bytes into out (room for out_len). Returns the bytes
 * written, or 0 when the input is malformed (truncated run, reference
 * before the start) or does not fit out_len. */
size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
