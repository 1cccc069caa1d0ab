/* bloom: the bloom filter policy of SSTables.
 *
 * One filter per table, built over the table's USER keys (internal keys with
 * their 8-byte trailer stripped, each distinct user key once), so a lookup
 * at any snapshot can ask the filter. Filter bytes: a bit array of
 * max(64, n * bits_per_key) bits rounded up to whole bytes, followed by one
 * byte k = number of probes, k = bits_per_key * ln 2 clamped to [1, 30].
 * Probes use double hashing on h = hash32(key, BLOOM_SEED): probe i tests bit
 * (h + i * delta) mod nbits with delta = h rotated right by 17 bits. These
 * bytes are part of the SST format (docs/format-sst.md): never change them.
 * The builder keeps only one 32-bit hash per key, not the keys.
 * Thread rules: a builder belongs to one thread; bloom_may_match() is a pure
 * function, safe from any thread. */
#ifndef LSM_ENGINE_BLOOM_H
#define LSM_ENGINE_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define BLOOM_SEED 0xbc9f1d34u

struct bloom_builder;

/* bits_per_key >= 1. */
struct bloom_builder *bloom_builder_create(int bits_per_key);
void bloom_builder_destroy(struct bloom_builder *b);
/* Adds one key (the caller skips repeats of the same user key). */
void bloom_builder_add(struct bloom_builder *b, struct slice key);
size_t bloom_builder_num_keys(const struct bloom_builder *b);
/* Appends the filter for every key added to out, then forgets the keys. */
void bloom_builder_finish(struct bloom_builder *b, struct buf *out);

/* Builds a filter over keys[0..n) into out (for tests and one-shot use). */
void bloom_create_filter(int bits_per_key, const struct slice *keys, size_t n,
                         struct buf *out);

/* 0 when key is certainly absent from the set the filter was built over;
 * 1 when it may be present. A malformed filter answers 1 (never a false
 * negative, never an out-of-bounds read). */
int bloom_may_match(struct slice filter, struct slice key);

/* Number of probes for bits_per_key (bits * ln 2, clamped to 1..30). */
int bloom_num_probes(int bits_per_key);

#endif
