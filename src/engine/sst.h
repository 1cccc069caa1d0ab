/* sst: sorted string tables — the immutable files (NNNNNN.sst) that hold the
 * LSM tree's levels. This module owns their byte layout (docs/format-sst.md):
 * data blocks (prefix-compressed internal keys, restart points, snappy per
 * block when it saves >= 12.5%, 5-byte trailer with type + masked crc32c), an
 * index block (one shortest-separator key + block handle per data block), one
 * bloom filter over the table's user keys, a properties block, a metaindex
 * block naming the meta blocks, and a fixed-length footer with its own crc,
 * the format version and a magic number.
 *
 * Builder: keys are added in ikey_compare order (the caller guarantees it);
 * all writes go through io_file_append() of a file the caller opened and
 * keeps: the caller syncs and closes it after sst_builder_finish(). An I/O
 * error is sticky: later adds and finish return it.
 *
 * Reader: opened on a file of known size (from the manifest); reads the
 * footer, the index, the filter and the properties at open and keeps them in
 * memory; data blocks are read with io_file_pread() through the block cache
 * (key = the reader's cache id + block offset). Every length and offset read
 * from the file is bounds-checked and every block's crc is verified (at open
 * always; data blocks when verify_checksums is set), so a damaged file gives
 * LSM_ECORRUPT (with the file name and offset in sst_last_error()), never a
 * crash and never wrong data.
 *
 * Thread rules: a builder is used by one thread. A reader is safe from any
 * number of threads at once (get, iterators); each iterator is used by one
 * thread at a time and must be destroyed before its reader is closed. */
#ifndef LSM_ENGINE_SST_H
#define LSM_ENGINE_SST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/iter.h"
#include "engine/lsm.h"
#include "util/slice.h"

struct io_env;
struct io_file;
struct cache;

#define SST_MAGIC 0x6c736d6462737374ull    /* "lsmdbsst" as big-endian ASCII */
#define SST_FORMAT_VERSION 1
#define SST_FOOTER_LEN 56

/* Builds "dir/NNNNNN.sst" (six digits or more) into out (replacing it). */
void sst_file_path(struct buf *out, const char *dir, uint64_t file_number);

/* Detail of this thread's last sst/table-cache error ("" when none), e.g.
 * "000012.sst: corrupt block at offset 4096: checksum mismatch". */
const char *sst_last_error(void);

/* Convert a util -errno into an LSM_E* code (-ENOSPC -> LSM_ENOSPC,
 * -ENOENT -> LSM_ENOENT, anything else -> LSM_EIO). */
int sst_errno_to_lsm(int neg_errno);

/* ---- options, properties, stats ---- */
struct sst_options {
    size_t block_size;               /* 4096 */
    int restart_interval;            /* 16 */
    int bloom_bits_per_key;          /* 10; 0 = no filter */
    enum lsm_compression compression;/* LSM_COMPRESSION_SNAPPY */
    int bloom_format;                /* enum bloom_format: BLOOM_LOCAL (tests
                                      * write BLOOM_LEGACY tables to read them) */
};
void sst_options_init(struct sst_options *o);
/* The table options of the engine options. */
void sst_options_from_lsm(struct sst_options *o, const struct lsm_options *lo);

/* What the properties block records (all counts are of this table). */
struct sst_props {
    uint64_t num_entries;
    uint64_t num_deletions;          /* LSM_TYPE_DELETION entries */
    uint64_t num_value_ptrs;         /* LSM_TYPE_VPTR entries */
    uint64_t num_data_blocks;
    uint64_t raw_key_size;           /* sum of internal key lengths */
    uint64_t raw_value_size;
    uint64_t data_size;              /* data blocks incl. trailers */
    uint64_t index_size;
    uint64_t filter_size;
    uint64_t file_size;              /* whole file, footer included */
    uint64_t smallest_seq;
    uint64_t largest_seq;
    uint64_t creation_time;          /* unix seconds */
    uint64_t compression;            /* enum lsm_compression requested */
    uint64_t bloom_bits_per_key;
    uint64_t format_version;
    struct buf smallest_key;         /* internal keys */
    struct buf largest_key;
};
void sst_props_init(struct sst_props *p);
void sst_props_free(struct sst_props *p);   /* frees the key bufs */

/* Counters shared by the readers of one database (what lsm_get_stats
 * shows). Updated with relaxed atomics; read them with sst_stats_read(). */
struct sst_stats {
    uint64_t bloom_useful;           /* gets the filter answered "absent" */
    uint64_t bloom_false_positive;   /* filter said "maybe", key not there */
    uint64_t bloom_checked;          /* gets that consulted a filter */
    uint64_t blocks_read;            /* data blocks read from files */
    uint64_t bytes_read;
    uint64_t corruptions;            /* LSM_ECORRUPT results */
};
void sst_stats_read(const struct sst_stats *s, struct sst_stats *out);

/* ---- builder ---- */
struct sst_builder;

/* file: opened by the caller (io_open_append), empty. Never NULL. */
struct sst_builder *sst_builder_create(struct io_file *file, const struct sst_options *opt);
/* Adds one entry; ikey > every key added before. 0 or LSM_EIO/LSM_ENOSPC
 * (sticky), LSM_EINVAL for an internal key shorter than its trailer. */
int sst_builder_add(struct sst_builder *b, struct slice ikey, struct slice value);
/* Writes the last data block, filter, properties, metaindex, index and
 * footer, fills *props (may be NULL; free it with sst_props_free) and frees
 * the builder. Returns 0 or the builder's error. Does not sync the file. */
int sst_builder_finish(struct sst_builder *b, struct sst_props *props);
/* Frees the builder without finishing the file (the caller deletes it). */
void sst_builder_abandon(struct sst_builder *b);
/* Bytes written so far + the size of the pending data block: compare with
 * target_file_size to decide when to cut the output. */
uint64_t sst_builder_file_size(const struct sst_builder *b);
uint64_t sst_builder_num_entries(const struct sst_builder *b);
int sst_builder_status(const struct sst_builder *b);

/* ---- reader ---- */
struct sst_reader;

struct sst_read_options {
    int verify_checksums;            /* 1 */
    int fill_cache;                  /* 1: blocks read go to the block cache */
};
void sst_read_options_init(struct sst_read_options *ro);

/* Opens path (file_size from the manifest; 0 = ask the file system).
 * block_cache and stats may be NULL. Returns 0, LSM_ECORRUPT (bad footer,
 * magic, version, index, filter...), LSM_ENOENT or LSM_EIO. */
int sst_reader_open(struct io_env *env, const char *path, uint64_t file_number,
                    uint64_t file_size, struct cache *block_cache,
                    struct sst_stats *stats, struct sst_reader **out);
void sst_reader_close(struct sst_reader *r);     /* NULL is a no-op */
const struct sst_props *sst_reader_props(const struct sst_reader *r);
uint64_t sst_reader_file_number(const struct sst_reader *r);
uint64_t sst_reader_file_size(const struct sst_reader *r);

struct sst_get_result {
    int found;                       /* 1: an entry for the user key was found */
    int type;                        /* enum lsm_value_type of that entry */
    uint64_t seq;
};
/* Point lookup: lookup is an internal key (user key, snapshot seq,
 * LSM_TYPE_SEEK). Consults the bloom filter first, then finds the newest
 * entry with the same user key and seq <= the lookup's. On found, its value
 * (the inline value, the vlog pointer, or empty for a deletion) is copied
 * into *value (replacing it); *value is also the scratch buffer of the
 * search, so its contents are unspecified when nothing is found (no
 * allocation per lookup). ro may be NULL (defaults). Returns 0 (with
 * res->found 0 or 1) or LSM_ECORRUPT / LSM_EIO (LSM_EINVAL for a lookup
 * shorter than the trailer). */
int sst_reader_get(struct sst_reader *r, const struct sst_read_options *ro,
                   struct slice lookup, struct sst_get_result *res, struct buf *value);
/* sst_reader_get with bloom_local_hash() of lookup's user key given: a
 * lookup that asks several tables hashes the key once. */
int sst_reader_get_hashed(struct sst_reader *r, const struct sst_read_options *ro,
                          struct slice lookup, uint64_t local_hash,
                          struct sst_get_result *res, struct buf *value);
/* 0 when the table's bloom filter says user_key is certainly absent; 1 when
 * it may be present (or the table has no filter). No I/O. */
int sst_reader_may_contain(struct sst_reader *r, struct slice user_key);

/* Iterator over every entry (internal keys), forward and backward, seek and
 * seek_for_prev. ro may be NULL. Never NULL. Must be destroyed before the
 * reader is closed. */
struct iter *sst_reader_iter(struct sst_reader *r, const struct sst_read_options *ro);
/* Same, calling release(arg) when the iterator is destroyed (the table
 * cache uses it to unpin the reader). */
struct iter *sst_reader_iter_with_release(struct sst_reader *r,
                                          const struct sst_read_options *ro,
                                          void (*release)(void *arg), void *arg);

/* Approximate file offset where ikey's data would be (0 for keys before the
 * table, about the data size for keys after it): for compaction splits. */
uint64_t sst_reader_approximate_offset(struct sst_reader *r, struct slice ikey);

/* An iterator over nothing with the given status (used for errors). */
struct iter *sst_error_iter(int status);

#endif
