/* bloom: the bloom filter policies of SSTables.
 *
 * One filter per table, built over the table's USER keys (internal keys with
 * their 8-byte trailer stripped, each distinct user key once), so a lookup
 * at any snapshot can ask the filter. Two formats, both part of the SST
 * format (docs/format-sst.md, "Filter block"): never change their bytes.
 *
 * BLOOM_LOCAL (what tables are written with): the bits are 64-byte blocks;
 * a key's k probes all fall in one block, chosen by the high half of
 * h = hash64(key, BLOOM_LOCAL_SEED) (one cache line per lookup, not k).
 * Blocks: max(1, ceil(n * bits_per_key / 512)), then one byte k.
 * BLOOM_LEGACY (tables written before it; read only in practice): one bit
 * array of max(64, n * bits_per_key) bits rounded up to whole bytes, then
 * one byte k; probes by double hashing of a 32-bit hash32. Its hash made
 * keys that differ in a few trailing digits collide: 5.5% false positives
 * at 10 bits/key for `key:%012d` keys, where BLOOM_LOCAL gives ~1%.
 * k = bits_per_key * ln 2, clamped to 1..30 (legacy) or 1..16 (local).
 * The builder keeps one 64-bit hash per key, not the keys.
 * Thread rules: a builder belongs to one thread; bloom_may_match() is a
 * pure function, safe from any thread. */
#ifndef LSM_ENGINE_BLOOM_H
#define LSM_ENGINE_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define BLOOM_SEED 0xbc9f1d34u
#define BLOOM_LOCAL_SEED 0x6c736d626c6f6f6dull
#define BLOOM_LOCAL_BLOCK 64          /* bytes per block (one cache line) */
#define BLOOM_LOCAL_MAX_PROBES 16

enum bloom_format {
    BLOOM_LEGACY = 1,
    BLOOM_LOCAL = 2,
};

struct bloom_builder;

/* bits_per_key >= 1. */
struct bloom_builder *bloom_builder_create(int bits_per_key, enum bloom_format format);
void bloom_builder_destroy(struct bloom_builder *b);
/* Adds one key (the caller skips repeats of the same user key). */
void bloom_builder_add(struct bloom_builder *b, struct slice key);
size_t bloom_builder_num_keys(const struct bloom_builder *b);
/* Appends the filter for every key added to out, then forgets the keys. */
void bloom_builder_finish(struct bloom_builder *b, struct buf *out);

/* Builds a filter over keys[0..n) into out (for tests and one-shot use). */
void bloom_create_filter(int bits_per_key, enum bloom_format format, const struct slice *keys,
                         size_t n, struct buf *out);

/* 0 when key is certainly absent from the set the filter was built over;
 * 1 when it may be present. A malformed filter answers 1 (never a false
 * negative, never an out-of-bounds read). */
int bloom_may_match(enum bloom_format format, struct slice filter, struct slice key);

/* The hash a BLOOM_LOCAL filter probes for key: the same for every table,
 * so a lookup that asks several tables computes it once for
 * bloom_may_match_hashed. */
uint64_t bloom_local_hash(struct slice key);
/* bloom_may_match, with local_hash = bloom_local_hash(key) (used by
 * BLOOM_LOCAL; other formats hash key themselves). */
int bloom_may_match_hashed(enum bloom_format format, struct slice filter, struct slice key,
                           uint64_t local_hash);

/* Number of probes for bits_per_key (bits * ln 2, clamped to 1..30). */
int bloom_num_probes(int bits_per_key);

#endif
