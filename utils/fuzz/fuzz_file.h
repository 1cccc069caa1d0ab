/* fuzz_file.h: a per-process scratch directory for the targets that feed
 * the engine's file readers (sst, wal, manifest).
 *
 * io.h has no in-memory env (its operation tables are private to
 * src/util), so an input is written to a file that the reader then opens
 * through io_env_posix(), in the process's scratch directory (fuzz.h).
 * Static inline functions; each target includes this once. */
#ifndef LSM_UTILS_FUZZ_FILE_H
#define LSM_UTILS_FUZZ_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "engine/wal.h"
#include "util/coding.h"
#include "util/crc32c.h"

/* Log files (WAL, manifest): recomputes the crc of every fragment found by
 * walking each 32 KB block from its start, so that damage to lengths,
 * types and payloads gets past the checksum to the code behind it. */
static inline void fuzz_log_fix_checksums(uint8_t *d, size_t size)
{
    for (size_t blk = 0; blk < size; blk += WAL_BLOCK_SIZE) {
        size_t end = blk + WAL_BLOCK_SIZE < size ? blk + WAL_BLOCK_SIZE : size;
        size_t pos = blk;
        while (end - pos >= WAL_HEADER_SIZE) {
            size_t len = decode_fixed16((const char *)d + pos + 4);
            if (len > end - pos - WAL_HEADER_SIZE)
                break;
            uint32_t crc = crc32c_extend(crc32c_value(d + pos + 6, 1), d + pos + 7, len);
            encode_fixed32((char *)d + pos, crc32c_mask(crc));
            pos += WAL_HEADER_SIZE + len;
        }
    }
}

#endif
