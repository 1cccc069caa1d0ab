/* Unit tests of util/hash. hash32 and hash64 values are frozen here because
 * they are part of the SST filter formats: if one of these changes, old
 * files break. */
#include <string.h>

#include "util/hash.h"
#include "util/zmalloc.h"
#include "util_test.h"

START_TEST(hash32_matches_leveldb_vectors)
{
    static const unsigned char d1[] = { 0x62 };
    static const unsigned char d2[] = { 0xc3, 0x97 };
    static const unsigned char d3[] = { 0xe2, 0x99, 0xa5 };
    static const unsigned char d4[] = { 0xe1, 0x80, 0xb9, 0x32 };
    static const unsigned char d5[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    const uint32_t seed = 0xbc9f1d34u;
    ck_assert_uint_eq(hash32(NULL, 0, seed), 0xbc9f1d34u);
    ck_assert_uint_eq(hash32(d1, sizeof(d1), seed), 0xef1345c4u);
    ck_assert_uint_eq(hash32(d2, sizeof(d2), seed), 0x5b663814u);
    ck_assert_uint_eq(hash32(d3, sizeof(d3), seed), 0x323c078fu);
    ck_assert_uint_eq(hash32(d4, sizeof(d4), seed), 0xed21633au);
    ck_assert_uint_eq(hash32(d5, sizeof(d5), 0x12345678u), 0xf333dabbu);
}
END_TEST

START_TEST(hash32_values_are_frozen)
{
    static const struct {
        const char *key;
        uint32_t bloom_seed, zero_seed;
    } v[] = {
        { "", 0xbc9f1d34u, 0x00000000u },
        { "a", 0x286e9db0u, 0xca6c9dd6u },
        { "ab", 0x39aca330u, 0x589c01ddu },
        { "abc", 0x855d012fu, 0xac7e1f42u },
        { "abcd", 0xb9c83353u, 0x9e87a0d0u },
        { "abcde", 0x41d2c26du, 0x8fa76260u },
        { "hello world", 0x008dfddbu, 0x723e3f86u },
        { "lsmdb bloom filter key 0001", 0xc6681159u, 0x0d7c5ac6u },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].key);
        ck_assert_uint_eq(hash32(v[i].key, n, 0xbc9f1d34u), v[i].bloom_seed);
        ck_assert_uint_eq(hash32(v[i].key, n, 0), v[i].zero_seed);
    }
}
END_TEST

START_TEST(hash32_ignores_alignment)
{
    char *b = zmalloc(64);
    const char *s = "alignment-independent key";
    size_t n = strlen(s);
    uint32_t h = hash32(s, n, 7);
    for (int off = 0; off < 16; off++) {
        memcpy(b + off, s, n);
        ck_assert_uint_eq(hash32(b + off, n, 7), h);
    }
    zfree(b);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Few collisions on sequential keys, all lengths and seeds matter. */
START_TEST(hash64_distinguishes_inputs)
{
    enum { N = 100000 };
    uint64_t *h = zmalloc(sizeof(uint64_t) * N);
    for (int i = 0; i < N; i++) {
        char k[32];
        int n = snprintf(k, sizeof(k), "key:%d", i);
        h[i] = hash64(k, (size_t)n, 0);
        if (h[i] != hash64(k, (size_t)n, 0))
            ck_abort_msg("hash64 not deterministic for %s", k);
        if (h[i] == hash64(k, (size_t)n, 1))
            ck_abort_msg("hash64 ignores the seed for %s", k);
    }
    /* no full collisions, and the low 16 bits spread (bucket use) */
    int buckets[1 << 12] = { 0 };
    for (int i = 0; i < N; i++)
        buckets[h[i] & 0xfff]++;
    for (int b = 0; b < (1 << 12); b++)
        ck_assert_int_lt(buckets[b], 3 * N / (1 << 12));
    qsort(h, N, sizeof(h[0]), cmp_u64);
    for (int i = 1; i < N; i++)
        if (h[i] == h[i - 1])
            ck_abort_msg("hash64 collision among %d keys", N);
    zfree(h);
    unsigned char zeros[64] = { 0 };
    for (size_t n = 1; n <= 64; n++)
        ck_assert_uint_ne(hash64(zeros, n, 0), hash64(zeros, n - 1, 0));
}
END_TEST

/* hash64 values are part of the SSTs' cache-line bloom filter format
 * (seed BLOOM_LOCAL_SEED): a change here breaks every table's filter. */
START_TEST(hash64_values_are_frozen)
{
    const uint64_t seed = 0x6c736d626c6f6f6dull;
    ck_assert_uint_eq(hash64("", 0, seed), 0xa1bc842d1362327bull);
    ck_assert_uint_eq(hash64("a", 1, seed), 0x083cff08e48f9218ull);
    ck_assert_uint_eq(hash64("key:000000000001", 16, seed), 0x8f9b3238d27fe88full);
    ck_assert_uint_eq(hash64("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
                             "\x0f\x10\x11", 17, seed),
                      0xdda7abd6ad2af611ull);
    ck_assert_uint_eq(hash64("the quick brown fox jumps over the lazy dog", 43, seed),
                      0xa7823df40b42fb9bull);
}
END_TEST

/* MurmurHash64A places HyperLogLog elements (seed 0xadc83b19, Redis'):
 * 'a' lands in register 0x31a7 = 12711, as redis-server puts it. */
START_TEST(murmur64a_values_are_frozen)
{
    const uint64_t seed = 0xadc83b19ull;
    ck_assert_uint_eq(hash_murmur64a("", 0, seed), 0xd8dfea6585bc9732ull);
    ck_assert_uint_eq(hash_murmur64a("a", 1, seed), 0x53d2470a9b43b1a7ull);
    ck_assert_uint_eq(hash_murmur64a("foo", 3, seed), 0xe64609b8b0141cb4ull);
    ck_assert_uint_eq(hash_murmur64a("12345678", 8, seed), 0x95ebb86389132953ull);
    ck_assert_uint_eq(hash_murmur64a("hello world, twenty!", 20, seed), 0x145ba60d1fec2646ull);
    /* unaligned input gives the same value */
    char buf[32];
    memcpy(buf + 3, "hello world, twenty!", 20);
    ck_assert_uint_eq(hash_murmur64a(buf + 3, 20, seed), 0x145ba60d1fec2646ull);
}
END_TEST

START_TEST(hash64_flipping_a_bit_changes_half_the_output)
{
    uint64_t st = ut_seed();
    unsigned char buf[40];
    long total = 0, trials = 0;
    for (int t = 0; t < 2000; t++) {
        size_t n = 1 + ut_rand(&st) % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)ut_rand(&st);
        uint64_t a = hash64(buf, n, 42);
        size_t bit = ut_rand(&st) % (n * 8);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        uint64_t b = hash64(buf, n, 42);
        if (a == b)
            ck_abort_msg("one-bit change, same hash64 (len %zu)", n);
        total += __builtin_popcountll(a ^ b);
        trials++;
    }
    double avg = (double)total / (double)trials;
    ck_assert_msg(avg > 28.0 && avg < 36.0, "avalanche average %.2f bits", avg);
}
END_TEST

START_TEST(siphash_reference_vectors)
{
    uint8_t key[16];
    unsigned char msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    /* from the SipHash paper / reference vectors.h (key 00..0f, msg 00..) */
    ck_assert_uint_eq(hash_siphash(msg, 0, key), 0x726fdb47dd0e0e31ull);
    ck_assert_uint_eq(hash_siphash(msg, 1, key), 0x74f839c593dc67fdull);
    ck_assert_uint_eq(hash_siphash(msg, 2, key), 0x0d6c8009d9a94f5aull);
    ck_assert_uint_eq(hash_siphash(msg, 3, key), 0x85676696d7fb7e2dull);
    ck_assert_uint_eq(hash_siphash(msg, 8, key), 0x93f5f5799a932462ull);
    ck_assert_uint_eq(hash_siphash(msg, 15, key), 0xa129ca6149be45e5ull);
}
END_TEST

START_TEST(siphash_nocase_folds_ascii_only)
{
    uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    const char *a = "Hello-World_KEY:0123456789";
    const char *b = "hello-world_key:0123456789";
    size_t n = strlen(a);
    ck_assert_uint_eq(hash_siphash_nocase(a, n, key), hash_siphash_nocase(b, n, key));
    ck_assert_uint_eq(hash_siphash_nocase(a, n, key), hash_siphash(b, n, key));
    ck_assert_uint_ne(hash_siphash(a, n, key), hash_siphash(b, n, key));
    /* non-letters and non-ASCII bytes are not folded */
    ck_assert_uint_ne(hash_siphash_nocase("[", 1, key), hash_siphash_nocase("{", 1, key));
    ck_assert_uint_ne(hash_siphash_nocase("\xc0", 1, key), hash_siphash_nocase("\xe0", 1, key));
    uint8_t key2[16] = { 0 };
    ck_assert_uint_ne(hash_siphash(a, n, key), hash_siphash(a, n, key2));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, hash32_matches_leveldb_vectors);
    tcase_add_test(tc, hash32_values_are_frozen);
    tcase_add_test(tc, hash32_ignores_alignment);
    tcase_add_test(tc, hash64_distinguishes_inputs);
    tcase_add_test(tc, hash64_values_are_frozen);
    tcase_add_test(tc, hash64_flipping_a_bit_changes_half_the_output);
    tcase_add_test(tc, murmur64a_values_are_frozen);
    tcase_add_test(tc, siphash_reference_vectors);
    tcase_add_test(tc, siphash_nocase_folds_ascii_only);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
