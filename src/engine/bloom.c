/* bloom.c: bloom filter builder and probe (see bloom.h for the format). */
#include "engine/bloom.h"

#include "util/hash.h"
#include "util/zmalloc.h"

struct bloom_builder {
    int bits_per_key;
    uint32_t *hashes;
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

static uint32_t bloom_hash(struct slice key)
{
    return hash32(key.data, key.len, BLOOM_SEED);
}

static void build(int bits_per_key, const uint32_t *hashes, size_t n, struct buf *out)
{
    uint64_t bits = (uint64_t)n * (uint64_t)(bits_per_key < 1 ? 1 : bits_per_key);
    size_t bytes, i, start = out->len;
    int k = bloom_num_probes(bits_per_key), j;
    char *array;
    if (bits < 64)
        bits = 64;             /* small n would give a high false-positive rate */
    bytes = (size_t)((bits + 7) / 8);
    bits = (uint64_t)bytes * 8;
    buf_reserve(out, bytes + 1);
    memset(out->data + start, 0, bytes);
    out->len = start + bytes;
    buf_append_byte(out, (char)k);
    array = out->data + start;
    for (i = 0; i < n; i++) {
        uint32_t h = hashes[i];
        uint32_t delta = (h >> 17) | (h << 15);
        for (j = 0; j < k; j++) {
            uint32_t pos = (uint32_t)(h % bits);
            array[pos / 8] |= (char)(1 << (pos % 8));
            h += delta;
        }
    }
}

struct bloom_builder *bloom_builder_create(int bits_per_key)
{
    struct bloom_builder *b = zcalloc(sizeof(*b));
    b->bits_per_key = bits_per_key < 1 ? 1 : bits_per_key;
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
        b->hashes = zrealloc(b->hashes, b->cap * sizeof(uint32_t));
    }
    b->hashes[b->n++] = bloom_hash(key);
}

size_t bloom_builder_num_keys(const struct bloom_builder *b)
{
    return b->n;
}

void bloom_builder_finish(struct bloom_builder *b, struct buf *out)
{
    build(b->bits_per_key, b->hashes, b->n, out);
    b->n = 0;
}

void bloom_create_filter(int bits_per_key, const struct slice *keys, size_t n,
                         struct buf *out)
{
    uint32_t *h = zmalloc((n ? n : 1) * sizeof(uint32_t));
    size_t i;
    for (i = 0; i < n; i++)
        h[i] = bloom_hash(keys[i]);
    build(bits_per_key, h, n, out);
    zfree(h);
}

int bloom_may_match(struct slice filter, struct slice key)
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
    h = bloom_hash(key);
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
