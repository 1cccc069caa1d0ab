/* cache: a sharded LRU cache of refcounted entries, charged in bytes.
 *
 * Used for the block cache (value = struct block *, charge = its memory) and,
 * with charge 1 per entry, for the table cache (value = an open table reader).
 * Keys are byte strings (copied). The cache is split into shards by
 * hash32(key) (16 by default), each with its own mutex, hash table and LRU
 * list; each shard gets capacity / shards.
 *
 * Entries are refcounted: cache_insert() and a successful cache_lookup()
 * return a handle holding one reference; cache_release() drops it. While a
 * handle is held the value stays valid even if the entry is evicted, erased
 * or replaced by a newer insert with the same key; the deleter runs exactly
 * once, when the entry is out of the cache and no handle is held.
 * Eviction: when usage exceeds capacity, unreferenced entries are dropped
 * least-recently-used first; entries in use are never dropped, so usage may
 * exceed capacity while handles are held. Capacity 0 caches nothing (inserts
 * still return a usable handle whose entry is freed on release).
 * Thread rules: every function is safe from any thread. A handle is released
 * exactly once, to the cache that gave it. */
#ifndef LSM_ENGINE_CACHE_H
#define LSM_ENGINE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

struct cache;
struct cache_handle;

typedef void (*cache_deleter_fn)(struct slice key, void *value);

/* 16 shards. */
struct cache *cache_create(size_t capacity);
/* shards: rounded to a power of two in 1..64 (small caches, e.g. a table
 * cache of 10 files, want few shards so the bound is not diluted). */
struct cache *cache_create_sharded(size_t capacity, int shards);
/* Every entry must have been released; runs the deleters. */
void cache_destroy(struct cache *c);

/* Inserts (replacing any entry with the same key) and returns a handle. */
struct cache_handle *cache_insert(struct cache *c, struct slice key, void *value,
                                  size_t charge, cache_deleter_fn deleter);
/* Handle on the entry for key, or NULL (counted as a hit or a miss). */
struct cache_handle *cache_lookup(struct cache *c, struct slice key);
void cache_release(struct cache *c, struct cache_handle *h);
void *cache_value(const struct cache_handle *h);
/* Removes the entry from the cache (held handles stay valid): 1 if there
 * was one, else 0. Not counted as a hit or a miss. */
int cache_erase(struct cache *c, struct slice key);
/* Drops every unreferenced entry. */
void cache_prune(struct cache *c);
/* A new id, unique within this cache: table readers prefix their block keys
 * with one so that two files never share cache keys. */
uint64_t cache_new_id(struct cache *c);

struct cache_stats {
    uint64_t capacity;
    uint64_t usage;          /* sum of charges of entries in the cache or held */
    uint64_t entries;
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;
    uint64_t evictions;
};
void cache_get_stats(struct cache *c, struct cache_stats *out);
size_t cache_usage(struct cache *c);
size_t cache_capacity(const struct cache *c);
/* Changes the capacity (evicting at once if it shrank). */
void cache_set_capacity(struct cache *c, size_t capacity);

#endif
