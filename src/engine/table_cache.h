/* table_cache: the bounded set of open SST readers of one database, keyed by
 * file number, so a read never reopens a file that is already open and at
 * most max_open_files readers (each with an open descriptor, its index and
 * its filter in memory) exist at a time; the least recently used unpinned
 * reader is closed first. Files are "dbdir/NNNNNN.sst" (sst_file_path).
 *
 * Pinning: table_cache_get() returns a handle that keeps its reader open
 * until table_cache_release(); an iterator from table_cache_iter() pins its
 * reader until the iterator is destroyed. table_cache_evict() (called when a
 * file is deleted) drops the cache's entry; pinned readers stay valid until
 * unpinned. A failed open is not cached: the next call retries it.
 * Thread rules: every function is safe from any thread. */
#ifndef LSM_ENGINE_TABLE_CACHE_H
#define LSM_ENGINE_TABLE_CACHE_H

#include <stdint.h>

#include "engine/iter.h"
#include "engine/sst.h"
#include "util/slice.h"

struct io_env;
struct cache;
struct cache_handle;
struct table_cache;

/* env NULL = io_env_posix(); block_cache and stats may be NULL (stats: the
 * counters every reader updates). dbdir is copied. max_open_files >= 1. */
struct table_cache *table_cache_create(struct io_env *env, const char *dbdir,
                                       int max_open_files, struct cache *block_cache,
                                       struct sst_stats *stats);
/* Every handle and iterator must have been released/destroyed. */
void table_cache_destroy(struct table_cache *tc);

/* Opens (or finds) the reader of file_number. Returns 0 with *handle and
 * *reader set, or the open's error (LSM_ECORRUPT, LSM_ENOENT, LSM_EIO). */
int table_cache_get(struct table_cache *tc, uint64_t file_number, uint64_t file_size,
                    struct cache_handle **handle, struct sst_reader **reader);
void table_cache_release(struct table_cache *tc, struct cache_handle *handle);

/* sst_reader_get() on the file's reader. */
int table_cache_lookup(struct table_cache *tc, const struct sst_read_options *ro,
                       uint64_t file_number, uint64_t file_size, struct slice lookup,
                       struct sst_get_result *res, struct buf *value);

/* Long pins (point lookups without a cache lookup): a file's metadata may
 * keep its reader open for as long as the file is live. At most half of
 * max_open_files readers are pinned this way, so the limit still holds and
 * the other half stays an LRU. table_cache_pin() returns 0 with *pin set,
 * or with *pin NULL when that budget is used up (use table_cache_lookup),
 * or the open's error. table_cache_unpin() releases it (any thread). */
struct table_pin;
int table_cache_pin(struct table_cache *tc, uint64_t file_number, uint64_t file_size,
                    struct table_pin **pin);
struct sst_reader *table_pin_reader(const struct table_pin *pin);
void table_cache_unpin(struct table_pin *pin);

/* Iterator over the file (pins the reader). Never NULL: when the file cannot
 * be opened it is an empty iterator whose status is the error. reader_out
 * (may be NULL) receives the reader (valid while the iterator lives) or NULL. */
struct iter *table_cache_iter(struct table_cache *tc, const struct sst_read_options *ro,
                              uint64_t file_number, uint64_t file_size,
                              struct sst_reader **reader_out);

/* Forgets the reader of file_number (call before deleting the file). */
void table_cache_evict(struct table_cache *tc, uint64_t file_number);

/* Readers currently open (in the cache or pinned). */
uint64_t table_cache_open_count(struct table_cache *tc);

#endif
