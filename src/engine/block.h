/* block: the sorted key/value block of an SSTable (data, index, metaindex
 * and properties blocks all use it), its builder and its iterator.
 *
 * Layout (docs/format-sst.md): entries, each
 *     varint32 shared | varint32 non_shared | varint32 value_len
 *     | key[shared..] (non_shared bytes) | value
 * where `shared` is the length of the prefix shared with the previous key;
 * every `restart_interval` entries a restart point stores its key whole
 * (shared = 0). The block ends with the restart offsets (fixed32 each) and
 * their count (fixed32). A block handle {offset, size} locates a block in a
 * file; the 5-byte trailer (compression type + masked crc32c) that follows
 * each block in a file is handled by sst.c, not here.
 *
 * Invariants: keys are added in strictly increasing order of the comparator
 * the reader will use (ikey_compare for data/index blocks, bytewise for
 * meta blocks). The reader never trusts the bytes: every offset and length is
 * bounds-checked, and a malformed block makes the iterator invalid with
 * status LSM_ECORRUPT instead of reading out of bounds.
 * Thread rules: a builder belongs to one thread. A struct block is immutable
 * and may be shared by many threads (the block cache does); each block
 * iterator is used by one thread at a time. */
#ifndef LSM_ENGINE_BLOCK_H
#define LSM_ENGINE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/iter.h"
#include "util/slice.h"

/* ---- block handles ---- */
struct block_handle {
    uint64_t offset;     /* of the block's first byte in the file */
    uint64_t size;       /* of the block contents, trailer excluded */
};
#define BLOCK_HANDLE_MAX_LEN 20     /* two varint64 */
#define BLOCK_TRAILER_LEN 5         /* 1 byte type + fixed32 masked crc32c */

void block_handle_encode(struct buf *out, const struct block_handle *h);
/* Consumes a handle from the front of *in; 0 or LSM_ECORRUPT. */
int block_handle_decode(struct slice *in, struct block_handle *h);

/* ---- builder ---- */
struct block_builder;

/* restart_interval >= 1 (values < 1 are taken as 1). */
struct block_builder *block_builder_create(int restart_interval);
void block_builder_destroy(struct block_builder *b);
/* Forgets every entry; the builder can build the next block. */
void block_builder_reset(struct block_builder *b);
/* Key must sort after every key added since the last reset. */
void block_builder_add(struct block_builder *b, struct slice key, struct slice value);
/* Appends the restart array; returns the block contents, valid until the
 * next reset/destroy. Call once per block. */
struct slice block_builder_finish(struct block_builder *b);
/* Size the block would have if finished now. */
size_t block_builder_size_estimate(const struct block_builder *b);
int block_builder_empty(const struct block_builder *b);
/* The last key added (empty slice when none). */
struct slice block_builder_last_key(const struct block_builder *b);

/* ---- reader ---- */
struct block;

typedef int (*block_cmp_fn)(struct slice a, struct slice b);

/* Wraps contents [data, data+size). owned = 1: the block frees data with
 * zfree when destroyed; 0: data must outlive the block. Returns 0, or
 * LSM_ECORRUPT when the restart array does not fit (the block is not created
 * and, when owned, data is freed). */
int block_open(const char *data, size_t size, int owned, struct block **out);
void block_destroy(struct block *b);
size_t block_size(const struct block *b);          /* contents bytes */
/* Bytes the block holds in memory (for cache charges). */
size_t block_memory(const struct block *b);

/* An iterator over the block, ordered by cmp. release (may be NULL) is
 * called with arg when the iterator is destroyed: the caller uses it to
 * unpin the block (e.g. release its cache handle). Never returns NULL. */
struct iter *block_iter_create(const struct block *b, block_cmp_fn cmp,
                               void (*release)(void *arg), void *arg);

/* Builds a search accelerator for seeks by cmp (8 bytes per restart point,
 * in an array for 16 or more restart points, 12 more for runs of equal
 * prefixes; inside the block's struct for 2 to 4, with the restart
 * offsets, so a seek reads no restart array): cmp must order keys by
 * their bytes without the last suffix_len bytes (bytewise, shorter first)
 * before anything else, as ikey_compare does with the 8-byte trailer.
 * Seeks with another comparator ignore it. Call before the block is
 * shared between threads. 0 (also when the block has no use for one), or
 * LSM_ECORRUPT when the keys are malformed or unsorted (no accelerator;
 * seeks report the damage as before). */
int block_build_prefix_index(struct block *b, block_cmp_fn cmp, size_t suffix_len);
/* Point seek without creating an iterator (the get path): finds the first
 * entry >= target. Returns 1 with the key copied into *key (a buf the caller
 * reuses) and *value pointing into the block, 0 when every key is < target,
 * or LSM_ECORRUPT. */
int block_seek_once(const struct block *b, block_cmp_fn cmp, struct slice target,
                    struct buf *key, struct slice *value);

#endif
