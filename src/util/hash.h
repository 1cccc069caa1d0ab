/* hash: non-cryptographic hashes.
 *
 * hash32() is the bloom-filter and block-cache-shard hash (Murmur-like, seeded);
 * its values are part of the SST filter format, so it must never change.
 * hash64() is a fast 64-bit hash (in-memory tables, and the cache-line bloom
 * filter of SSTs: its values are part of that format too, never change it).
 * hash_siphash() is keyed SipHash-2-4 for tables fed by clients (hash-flooding).
 * hash_murmur64a() is Austin Appleby's MurmurHash64A (bytes read little
 * endian on every host): Redis' HyperLogLog places elements with it, so its
 * values are part of the HLL format (server/hll.h), never change it.
 * hash_mix64() is SplitMix64's step: a well-spread 64-bit value for each
 * input, for seeded pseudo-random sequences (hash_mix64(seed + i)).
 * Thread rules: pure functions. */
#ifndef LSM_UTIL_HASH_H
#define LSM_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

uint32_t hash32(const void *data, size_t n, uint32_t seed);
uint64_t hash64(const void *data, size_t n, uint64_t seed);
uint64_t hash_murmur64a(const void *data, size_t n, uint64_t seed);
uint64_t hash_siphash(const void *data, size_t n, const uint8_t key[16]);
uint64_t hash_siphash_nocase(const void *data, size_t n, const uint8_t key[16]);

static inline uint64_t hash_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

#endif
