/* crc32c: CRC-32C (Castagnoli), the checksum of every on-disk record.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
 * run time), a slicing-by-8 table otherwise; both give identical results.
 * crc32c_mask() is applied before storing a CRC that covers data which may
 * itself contain CRCs (LevelDB's rotation + constant), crc32c_unmask() undoes it.
 * Thread rules: pure functions, safe from any thread. */
#ifndef LSM_UTIL_CRC32C_H
#define LSM_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc of data appended to a stream whose crc so far is `crc` (0 to start). */
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t n);
static inline uint32_t crc32c_value(const void *data, size_t n)
{
    return crc32c_extend(0, data, n);
}
uint32_t crc32c_mask(uint32_t crc);
uint32_t crc32c_unmask(uint32_t masked);
int crc32c_hw_available(void);                  /* 1 when the instruction is used */
/* Table-only path, for tests that compare it with the hardware path. */
uint32_t crc32c_extend_sw(uint32_t crc, const void *data, size_t n);

#endif
