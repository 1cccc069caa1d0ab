/* crc32c: CRC-32C, hardware (SSE4.2) or slicing-by-8 (see crc32c.h). */
#include "util/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82f63b78u        /* reflected Castagnoli polynomial */
#define CRC32C_MASK_DELTA 0xa282ead8u

static uint32_t crc_table[8][256];
static int crc_hw;

/* Hardware path for long buffers: three independent crc32 chains over
 * three consecutive LANE-byte pieces (the instruction has a latency of 3
 * cycles and a throughput of 1, so one chain leaves two thirds of it idle),
 * then joined. Joining uses linearity: the state after a piece Y from state
 * t is shift(t) ^ crc(0, Y), where shift = LANE zero bytes from t, a linear
 * map kept as four byte-indexed tables (lane_shift). */
#define LANE 256
static uint32_t lane_shift[4][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
    /* shift of each basis state (bit j), by the table-driven crc: the raw
     * (not inverted) state after LANE zero bytes. */
    uint32_t col[32];
    for (int j = 0; j < 32; j++) {
        uint32_t c = 1u << j;
        for (int k = 0; k < LANE; k++)
            c = crc_table[0][c & 0xff] ^ (c >> 8);
        col[j] = c;
    }
    for (int t = 0; t < 4; t++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++)
                if (b & (1u << j))
                    v ^= col[8 * t + j];
            lane_shift[t][b] = v;
        }
}

static inline uint32_t shift_lane(uint32_t c)
{
    return lane_shift[0][c & 0xff] ^ lane_shift[1][(c >> 8) & 0xff] ^
           lane_shift[2][(c >> 16) & 0xff] ^ lane_shift[3][c >> 24];
}

static inline void crc32c_ready(void)
{
    pthread_once(&crc_once, crc32c_init);
}

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint32_t crc_sw(uint32_t l, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        l = crc_table[0][(l ^ *p++) & 0xff] ^ (l >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w = load_le64(p) ^ l;
        l = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
            crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
            crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
            crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        l = crc_table[0][(l ^ *p++) & 0xff] ^ (l >> 8);
    return l;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc_hw_run(uint32_t l, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        l = _mm_crc32_u8(l, *p++);
        n--;
    }
    uint64_t l64 = l;
    while (n >= 3 * LANE) {
        uint64_t a = l64, b = 0, c = 0, w0, w1, w2;
        for (int i = 0; i < LANE; i += 8) {
            memcpy(&w0, p + i, 8);
            memcpy(&w1, p + LANE + i, 8);
            memcpy(&w2, p + 2 * LANE + i, 8);
            a = _mm_crc32_u64(a, w0);
            b = _mm_crc32_u64(b, w1);
            c = _mm_crc32_u64(c, w2);
        }
        l64 = shift_lane(shift_lane((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
        p += 3 * LANE;
        n -= 3 * LANE;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        l64 = _mm_crc32_u64(l64, w);
        p += 8;
        n -= 8;
    }
    l = (uint32_t)l64;
    while (n--)
        l = _mm_crc32_u8(l, *p++);
    return l;
}
#endif

uint32_t crc32c_extend_sw(uint32_t crc, const void *data, size_t n)
{
    crc32c_ready();
    return crc_sw(crc ^ 0xffffffffu, data, n) ^ 0xffffffffu;
}

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t n)
{
    crc32c_ready();
#if defined(__x86_64__)
    if (crc_hw)
        return crc_hw_run(crc ^ 0xffffffffu, data, n) ^ 0xffffffffu;
#endif
    return crc_sw(crc ^ 0xffffffffu, data, n) ^ 0xffffffffu;
}

int crc32c_hw_available(void)
{
    crc32c_ready();
    return crc_hw;
}

uint32_t crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + CRC32C_MASK_DELTA;
}

uint32_t crc32c_unmask(uint32_t masked)
{
    uint32_t rot = masked - CRC32C_MASK_DELTA;
    return (rot >> 17) | (rot << 15);
}
