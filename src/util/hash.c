/* hash: hash32 (Murmur-like, stable), hash64, SipHash-2-4 (see hash.h). */
#include "util/hash.h"

#include <string.h>

static inline uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t load64(const unsigned char *p)
{
    return (uint64_t)load32(p) | ((uint64_t)load32(p + 4) << 32);
}

/* LevelDB's Hash(): its values are stored in SST filters; never change it. */
uint32_t hash32(const void *data, size_t n, uint32_t seed)
{
    const uint32_t m = 0xc6a4a793u;
    const unsigned char *p = data;
    const unsigned char *end = p + n;
    uint32_t h = seed ^ ((uint32_t)n * m);
    while (end - p >= 4) {
        h += load32(p);
        p += 4;
        h *= m;
        h ^= h >> 16;
    }
    switch (end - p) {
    case 3:
        h += (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h += (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h += p[0];
        h *= m;
        h ^= h >> 24;
        break;
    default:
        break;
    }
    return h;
}

/* hash64: 128-bit multiply-fold mixer over 16-byte stripes. */
#define H64_P0 0x9e3779b97f4a7c15ull
#define H64_P1 0xc2b2ae3d27d4eb4full
#define H64_P2 0x165667b19e3779f9ull
#define H64_P3 0xd6e8feb86659fd93ull

static inline uint64_t h64_fold(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t hash64(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ H64_P0 ^ ((uint64_t)n * H64_P3);
    size_t left = n;
    while (left >= 16) {
        h ^= h64_fold(load64(p) ^ H64_P1, load64(p + 8) ^ h ^ H64_P2);
        h = (h << 23 | h >> 41) * H64_P0;
        p += 16;
        left -= 16;
    }
    if (left) {
        unsigned char tail[16] = { 0 };
        memcpy(tail, p, left);
        h ^= h64_fold(load64(tail) ^ H64_P1, load64(tail + 8) ^ h ^ H64_P3 ^ left);
        h = (h << 23 | h >> 41) * H64_P0;
    }
    h = h64_fold(h ^ H64_P2, (uint64_t)n ^ H64_P1);
    h ^= h >> 31;
    h *= H64_P3;
    h ^= h >> 29;
    return h;
}

/* MurmurHash64A: 8-byte blocks, then the tail bytes, then a final mix. */
uint64_t hash_murmur64a(const void *data, size_t n, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ull;
    const int r = 47;
    const unsigned char *p = data;
    uint64_t h = seed ^ ((uint64_t)n * m);
    size_t left = n;
    while (left >= 8) {
        uint64_t k = load64(p);
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
        p += 8;
        left -= 8;
    }
    if (left) {
        for (size_t i = left; i-- > 0;)
            h ^= (uint64_t)p[i] << (8 * i);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

/* ---- SipHash-2-4 ---- */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                    \
    do {                                                            \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                    \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                    \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
    } while (0)

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Reads up to 8 bytes little endian, lowercasing them when nocase. */
static inline uint64_t sip_load(const unsigned char *p, size_t n, int nocase)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)(nocase ? ascii_lower(p[i]) : p[i]) << (8 * i);
    return v;
}

static uint64_t siphash_impl(const unsigned char *in, size_t n,
                             const uint8_t key[16], int nocase)
{
    uint64_t k0 = load64(key), k1 = load64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0;
    uint64_t v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0;
    uint64_t v3 = 0x7465646279746573ull ^ k1;
    size_t left = n;
    while (left >= 8) {
        uint64_t m = nocase ? sip_load(in, 8, 1) : load64(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
        in += 8;
        left -= 8;
    }
    uint64_t b = ((uint64_t)n << 56) | sip_load(in, left, nocase);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t hash_siphash(const void *data, size_t n, const uint8_t key[16])
{
    return siphash_impl(data, n, key, 0);
}

uint64_t hash_siphash_nocase(const void *data, size_t n, const uint8_t key[16])
{
    return siphash_impl(data, n, key, 1);
}
