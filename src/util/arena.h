/* arena: bump allocator for memtable nodes and keys.
 *
 * Memory is carved from blocks (default 4 KB; a request that does not fit in
 * the current block and is larger than a quarter block gets its own block,
 * leaving the current block in use) and freed all at once by arena_destroy().
 * Invariants: returned pointers stay valid until destroy; arena_alloc_aligned()
 * returns pointer-aligned memory.
 * Thread rules: one allocating thread; arena_memory_usage() may be read from
 * any thread (relaxed atomic). */
#ifndef LSM_UTIL_ARENA_H
#define LSM_UTIL_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_create(size_t block_size);   /* 0 = default 4096 */
void arena_destroy(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);     /* n > 0, unaligned */
void *arena_alloc_aligned(struct arena *a, size_t n);
size_t arena_memory_usage(const struct arena *a); /* bytes reserved in blocks */

#endif
