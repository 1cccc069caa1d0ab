/* bloom.c: bloom filter builders and probes (see bloom.h for the formats). */
#include "engine/bloom.h"

#include <string.h>

#include "util/hash.h"
#include "util/zmalloc.h"

struct bloom_builder {
    int bits_per_key;
    enum bloom_format format;
    uint64_t *hashes;
    size_t n, cap;
};

int bloom_num_probes(int bits_per_key)
{
    /* bits * ln 2 (0.69), rounded down, clamped */
    int k = (int)(bits_per_key * 69 / 100);
    if (k < 1)
        k = 1;
    if (k > 30)
        k = 30;
    return k;
}

static int local_probes(int bits_per_key)
{
    int k = bloom_num_probes(bits_per_key);
    return k > BLOOM_LOCAL_MAX_PROBES ? BLOOM_LOCAL_MAX_PROBES : k;
}

static uint64_t key_hash(enum bloom_format format, struct slice key)
{
    if (format == BLOOM_LOCAL)
        return hash64(key.data, key.len, BLOOM_LOCAL_SEED);
    return hash32(key.data, key.len, BLOOM_SEED);
}

/* Appends a filter of `bytes` zero bytes and its probe count k to out;
 * returns where the bits start. */
static uint8_t *filter_append(struct buf *out, size_t bytes, int k)
{
    size_t start = out->len;

    buf_reserve(out, bytes + 1);
    memset(out->data + start, 0, bytes);
    out->len = start + bytes;
    buf_append_byte(out, (char)k);
    return (uint8_t *)out->data + start;
}

static void build_legacy(int bits_per_key, const uint64_t *hashes, size_t n, struct buf *out)
{
    uint64_t bits = (uint64_t)n * (uint64_t)bits_per_key;
    size_t bytes, i;
    int k = bloom_num_probes(bits_per_key), j;
    uint8_t *array;
    if (bits < 64)
        bits = 64;             /* small n would give a high false-positive rate */
    bytes = (size_t)((bits + 7) / 8);
    bits = (uint64_t)bytes * 8;
    array = filter_append(out, bytes, k);
    for (i = 0; i < n; i++) {
        uint32_t h = (uint32_t)hashes[i];
        uint32_t delta = (h >> 17) | (h << 15);
        for (j = 0; j < k; j++) {
            uint32_t pos = (uint32_t)(h % bits);
            array[pos / 8] |= (uint8_t)(1u << (pos % 8));
            h += delta;
        }
    }
}

/* The block of a BLOOM_LOCAL hash among nblocks: the high half of h scaled
 * to [0, nblocks) (a multiply, no division). */
static inline uint32_t local_block(uint64_t h, uint32_t nblocks)
{
    return (uint32_t)(((h >> 32) * (uint64_t)nblocks) >> 32);
}

/* Probe bit positions in a block come from the low half of h: the top 9
 * bits, multiplied by an odd constant between probes. */
#define LOCAL_MULT 0x9e3779b9u

static void build_local(int bits_per_key, const uint64_t *hashes, size_t n, struct buf *out)
{
    uint64_t bits = (uint64_t)n * (uint64_t)bits_per_key;
    uint64_t nb = (bits + BLOOM_LOCAL_BLOCK * 8 - 1) / (BLOOM_LOCAL_BLOCK * 8);
    size_t i;
    int k = local_probes(bits_per_key), j;
    uint8_t *array;

    if (nb < 1)
        nb = 1;
    if (nb > UINT32_MAX)
        nb = UINT32_MAX;
    array = filter_append(out, (size_t)nb * BLOOM_LOCAL_BLOCK, k);
    for (i = 0; i < n; i++) {
        uint8_t *blk = array + (size_t)local_block(hashes[i], (uint32_t)nb) * BLOOM_LOCAL_BLOCK;
        uint32_t h = (uint32_t)hashes[i];
        for (j = 0; j < k; j++) {
            uint32_t pos = h >> 23;          /* 0..511 */
            blk[pos / 8] |= (uint8_t)(1u << (pos % 8));
            h *= LOCAL_MULT;
        }
    }
}

static void build(int bits_per_key, enum bloom_format format, const uint64_t *hashes, size_t n,
                  struct buf *out)
{
    if (bits_per_key < 1)
        bits_per_key = 1;
    if (format == BLOOM_LOCAL)
        build_local(bits_per_key, hashes, n, out);
    else
        build_legacy(bits_per_key, hashes, n, out);
}

struct bloom_builder *bloom_builder_create(int bits_per_key, enum bloom_format format)
{
    struct bloom_builder *b = zcalloc(sizeof(*b));
    b->bits_per_key = bits_per_key < 1 ? 1 : bits_per_key;
    b->format = format;
    return b;
}

void bloom_builder_destroy(struct bloom_builder *b)
{
    if (!b)
        return;
    zfree(b->hashes);
    zfree(b);
}

void bloom_builder_add(struct bloom_builder *b, struct slice key)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->hashes = zrealloc(b->hashes, b->cap * sizeof(*b->hashes));
    }
    b->hashes[b->n++] = key_hash(b->format, key);
}

size_t bloom_builder_num_keys(const struct bloom_builder *b)
{
    return b->n;
}

void bloom_builder_finish(struct bloom_builder *b, struct buf *out)
{
    build(b->bits_per_key, b->format, b->hashes, b->n, out);
    b->n = 0;
}

void bloom_create_filter(int bits_per_key, enum bloom_format format, const struct slice *keys,
                         size_t n, struct buf *out)
{
    uint64_t *h = zmalloc((n ? n : 1) * sizeof(*h));
    size_t i;
    for (i = 0; i < n; i++)
        h[i] = key_hash(format, keys[i]);
    build(bits_per_key, format, h, n, out);
    zfree(h);
}

static int may_match_legacy(struct slice filter, struct slice key)
{
    const uint8_t *array = (const uint8_t *)filter.data;
    uint64_t bits;
    uint32_t h, delta;
    int k, j;
    if (filter.len < 2)
        return 1;
    bits = (uint64_t)(filter.len - 1) * 8;
    if (bits > UINT32_MAX)
        return 1;
    k = array[filter.len - 1];
    if (k < 1 || k > 30)
        return 1;             /* a format we do not know: cannot exclude */
    h = (uint32_t)key_hash(BLOOM_LEGACY, key);
    delta = (h >> 17) | (h << 15);
    {
        /* All probe positions first, their cache lines requested at once
         * (a filter is far larger than the CPU cache), then the tests.
         * 32-bit modulo: bits fits (checked above). */
        uint32_t pos[30], nb = (uint32_t)bits;
        for (j = 0; j < k; j++) {
            pos[j] = h % nb;
            __builtin_prefetch(array + pos[j] / 8);
            h += delta;
        }
        for (j = 0; j < k; j++)
            if (!(array[pos[j] / 8] & (1u << (pos[j] % 8))))
                return 0;
    }
    return 1;
}

static int may_match_local(struct slice filter, uint64_t h)
{
    const uint8_t *array = (const uint8_t *)filter.data, *blk;
    uint64_t nb;
    uint32_t h32;
    int k, j;

    if (filter.len < BLOOM_LOCAL_BLOCK + 1 || (filter.len - 1) % BLOOM_LOCAL_BLOCK != 0)
        return 1;
    nb = (filter.len - 1) / BLOOM_LOCAL_BLOCK;
    if (nb > UINT32_MAX)
        return 1;
    k = array[filter.len - 1];
    if (k < 1 || k > BLOOM_LOCAL_MAX_PROBES)
        return 1;
    blk = array + (size_t)local_block(h, (uint32_t)nb) * BLOOM_LOCAL_BLOCK;
    h32 = (uint32_t)h;
    for (j = 0; j < k; j++) {
        uint32_t pos = h32 >> 23;
        if (!(blk[pos / 8] & (1u << (pos % 8))))
            return 0;
        h32 *= LOCAL_MULT;
    }
    return 1;
}

uint64_t bloom_local_hash(struct slice key)
{
    return key_hash(BLOOM_LOCAL, key);
}

int bloom_may_match_hashed(enum bloom_format format, struct slice filter, struct slice key,
                           uint64_t local_hash)
{
    if (format == BLOOM_LOCAL)
        return may_match_local(filter, local_hash);
    if (format == BLOOM_LEGACY)
        return may_match_legacy(filter, key);
    return 1;
}

int bloom_may_match(enum bloom_format format, struct slice filter, struct slice key)
{
    return bloom_may_match_hashed(format, filter, key,
                                  format == BLOOM_LOCAL ? bloom_local_hash(key) : 0);
}
