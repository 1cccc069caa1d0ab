/* crc64: see crc64.h. Byte-at-a-time with a table (about 1 GB/s). */
#include "util/crc64.h"

#include <pthread.h>

#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? CRC64_POLY_REFLECTED : 0);
        table[i] = c;
    }
}

uint64_t crc64(uint64_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    pthread_once(&once, build);
    while (n--)
        crc = table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}
