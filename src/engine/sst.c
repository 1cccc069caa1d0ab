/* sst.c: SSTable builder, reader and two-level iterator (see sst.h and
 * docs/format-sst.md). */
#include "engine/sst.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <snappy-c.h>

#include "engine/block.h"
#include "engine/bloom.h"
#include "engine/cache.h"
#include "engine/dbformat.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define SST_HANDLES_LEN (2 * BLOCK_HANDLE_MAX_LEN)   /* padded handle area */
#define SST_MAX_BLOCK ((uint64_t)1 << 30)            /* sanity bound on a block */
/* Snappy's best case: a 3-byte copy element expands to 64 bytes, so a
 * block's raw length is below 22 times its compressed one. A length
 * header beyond that is damage, and must not size an allocation. */
#define SNAPPY_MAX_EXPANSION 22
#define META_FILTER "filter.bloom"             /* BLOOM_LEGACY */
#define META_FILTER_LOCAL "filter.bloom.local" /* BLOOM_LOCAL */
#define META_PROPS "properties"

enum { BLOCK_RAW = 0, BLOCK_SNAPPY = 1 };

/* ---- errors ---- */

static __thread char sst_err[512];

const char *sst_last_error(void)
{
    return sst_err;
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sst_err, sizeof(sst_err), fmt, ap);
    va_end(ap);
}

int sst_errno_to_lsm(int neg_errno)
{
    if (neg_errno == -ENOSPC)
        return LSM_ENOSPC;
    if (neg_errno == -ENOENT)
        return LSM_ENOENT;
    return LSM_EIO;
}

void sst_file_path(struct buf *out, const char *dir, uint64_t file_number)
{
    char tmp[32];
    buf_clear(out);
    buf_append(out, dir, strlen(dir));
    snprintf(tmp, sizeof(tmp), "/%06" PRIu64 ".sst", file_number);
    buf_append(out, tmp, strlen(tmp));
    buf_cstr(out);
}

struct iter *sst_error_iter(int status)
{
    return iter_empty(status);
}

static void stat_add(uint64_t *p, uint64_t n)
{
    __atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

void sst_stats_read(const struct sst_stats *s, struct sst_stats *out)
{
    out->bloom_useful = __atomic_load_n(&s->bloom_useful, __ATOMIC_RELAXED);
    out->bloom_false_positive = __atomic_load_n(&s->bloom_false_positive, __ATOMIC_RELAXED);
    out->bloom_checked = __atomic_load_n(&s->bloom_checked, __ATOMIC_RELAXED);
    out->blocks_read = __atomic_load_n(&s->blocks_read, __ATOMIC_RELAXED);
    out->bytes_read = __atomic_load_n(&s->bytes_read, __ATOMIC_RELAXED);
    out->corruptions = __atomic_load_n(&s->corruptions, __ATOMIC_RELAXED);
}

/* ---- options and properties ---- */

void sst_options_init(struct sst_options *o)
{
    o->block_size = 4096;
    o->restart_interval = 16;
    o->bloom_bits_per_key = 10;
    o->compression = LSM_COMPRESSION_SNAPPY;
    o->bloom_format = BLOOM_LOCAL;
}

void sst_options_from_lsm(struct sst_options *o, const struct lsm_options *lo)
{
    o->block_size = lo->block_size ? lo->block_size : 4096;
    o->restart_interval = lo->block_restart_interval > 0 ? lo->block_restart_interval : 16;
    o->bloom_bits_per_key = lo->bloom_bits_per_key > 0 ? lo->bloom_bits_per_key : 0;
    o->compression = lo->compression;
    o->bloom_format = BLOOM_LOCAL;
}

void sst_read_options_init(struct sst_read_options *ro)
{
    ro->verify_checksums = 1;
    ro->fill_cache = 1;
}

void sst_props_init(struct sst_props *p)
{
    memset(p, 0, sizeof(*p));
    buf_init(&p->smallest_key);
    buf_init(&p->largest_key);
}

void sst_props_free(struct sst_props *p)
{
    buf_free(&p->smallest_key);
    buf_free(&p->largest_key);
}

/* The properties block: one row per numeric property (value = varint64),
 * plus the two keys (value = the internal key bytes). Names sorted. */
static const struct {
    const char *name;
    size_t off;
} prop_rows[] = {
    { "lsm.bloom.bits_per_key", offsetof(struct sst_props, bloom_bits_per_key) },
    { "lsm.compression", offsetof(struct sst_props, compression) },
    { "lsm.creation_time", offsetof(struct sst_props, creation_time) },
    { "lsm.data_size", offsetof(struct sst_props, data_size) },
    { "lsm.filter_size", offsetof(struct sst_props, filter_size) },
    { "lsm.format_version", offsetof(struct sst_props, format_version) },
    { "lsm.index_size", offsetof(struct sst_props, index_size) },
    { "lsm.num_data_blocks", offsetof(struct sst_props, num_data_blocks) },
    { "lsm.num_deletions", offsetof(struct sst_props, num_deletions) },
    { "lsm.num_entries", offsetof(struct sst_props, num_entries) },
    { "lsm.num_value_ptrs", offsetof(struct sst_props, num_value_ptrs) },
    { "lsm.raw_key_size", offsetof(struct sst_props, raw_key_size) },
    { "lsm.raw_value_size", offsetof(struct sst_props, raw_value_size) },
    { "lsm.seq.largest", offsetof(struct sst_props, largest_seq) },
    { "lsm.seq.smallest", offsetof(struct sst_props, smallest_seq) },
};
#define PROP_KEY_LARGEST "lsm.key.largest"     /* sorts between creation_time and */
#define PROP_KEY_SMALLEST "lsm.key.smallest"   /* num_data_blocks */
#define NPROP_ROWS (sizeof(prop_rows) / sizeof(prop_rows[0]))

static uint64_t *prop_field(struct sst_props *p, size_t i)
{
    return (uint64_t *)((char *)p + prop_rows[i].off);
}

static void props_encode(struct sst_props *p, struct block_builder *bb)
{
    struct buf v = BUF_INIT;
    size_t i;
    int keys_done = 0;
    for (i = 0; i < NPROP_ROWS; i++) {
        if (!keys_done && strcmp(prop_rows[i].name, PROP_KEY_LARGEST) > 0) {
            block_builder_add(bb, slice_cstr(PROP_KEY_LARGEST), buf_slice(&p->largest_key));
            block_builder_add(bb, slice_cstr(PROP_KEY_SMALLEST), buf_slice(&p->smallest_key));
            keys_done = 1;
        }
        buf_clear(&v);
        put_varint64(&v, *prop_field(p, i));
        block_builder_add(bb, slice_cstr(prop_rows[i].name), buf_slice(&v));
    }
    buf_free(&v);
}

/* Fills p from a properties block; unknown names are skipped (newer writers
 * may add properties). */
static int props_decode(const struct block *blk, struct sst_props *p)
{
    struct iter *it = block_iter_create(blk, slice_compare, NULL, NULL);
    int rc;
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it)) {
        struct slice k = iter_key(it), v = iter_value(it);
        size_t i;
        if (slice_equal(k, slice_cstr(PROP_KEY_LARGEST))) {
            buf_set(&p->largest_key, v.data, v.len);
            continue;
        }
        if (slice_equal(k, slice_cstr(PROP_KEY_SMALLEST))) {
            buf_set(&p->smallest_key, v.data, v.len);
            continue;
        }
        for (i = 0; i < NPROP_ROWS; i++) {
            if (slice_equal(k, slice_cstr(prop_rows[i].name))) {
                if (get_varint64(&v, prop_field(p, i)) < 0) {
                    iter_destroy(it);
                    return LSM_ECORRUPT;
                }
                break;
            }
        }
    }
    rc = iter_status(it);
    iter_destroy(it);
    return rc;
}

/* ---- builder ---- */

struct sst_builder {
    struct io_file *file;
    struct sst_options opt;
    int status;
    uint64_t offset;
    struct block_builder *data_block;
    struct block_builder *index_block;
    struct bloom_builder *bloom;
    struct buf last_key;
    int pending_index;               /* a block was written; its index entry
                                        waits for the next key (separator) */
    struct block_handle pending_handle;
    struct buf compressed;
    struct buf scratch;
    struct sst_props props;
};

struct sst_builder *sst_builder_create(struct io_file *file, const struct sst_options *opt)
{
    struct sst_builder *b = zcalloc(sizeof(*b));
    b->file = file;
    if (opt)
        b->opt = *opt;
    else
        sst_options_init(&b->opt);
    if (b->opt.block_size == 0)
        b->opt.block_size = 4096;
    b->data_block = block_builder_create(b->opt.restart_interval);
    b->index_block = block_builder_create(1);
    if (b->opt.bloom_format != BLOOM_LEGACY)
        b->opt.bloom_format = BLOOM_LOCAL;
    if (b->opt.bloom_bits_per_key > 0)
        b->bloom = bloom_builder_create(b->opt.bloom_bits_per_key,
                                        (enum bloom_format)b->opt.bloom_format);
    buf_init(&b->last_key);
    buf_init(&b->compressed);
    buf_init(&b->scratch);
    sst_props_init(&b->props);
    b->props.compression = (uint64_t)b->opt.compression;
    b->props.bloom_bits_per_key = (uint64_t)(b->opt.bloom_bits_per_key > 0 ? b->opt.bloom_bits_per_key : 0);
    b->props.format_version = SST_FORMAT_VERSION;
    b->props.smallest_seq = UINT64_MAX;
    return b;
}

static void builder_free(struct sst_builder *b)
{
    block_builder_destroy(b->data_block);
    block_builder_destroy(b->index_block);
    bloom_builder_destroy(b->bloom);
    buf_free(&b->last_key);
    buf_free(&b->compressed);
    buf_free(&b->scratch);
    sst_props_free(&b->props);
    zfree(b);
}

void sst_builder_abandon(struct sst_builder *b)
{
    if (b)
        builder_free(b);
}

static int append(struct sst_builder *b, const void *p, size_t n)
{
    int rc;
    if (b->status)
        return b->status;
    rc = io_file_append(b->file, p, n);
    if (rc < 0) {
        b->status = sst_errno_to_lsm(rc);
        set_error("sst write failed at offset %" PRIu64 ": %s", b->offset, strerror(-rc));
        return b->status;
    }
    b->offset += n;
    return 0;
}

/* Writes contents + trailer; fills h. */
static int write_raw_block(struct sst_builder *b, struct slice contents, int type,
                           struct block_handle *h)
{
    char trailer[BLOCK_TRAILER_LEN];
    uint32_t crc;
    h->offset = b->offset;
    h->size = contents.len;
    trailer[0] = (char)type;
    crc = crc32c_extend(crc32c_value(contents.data, contents.len), trailer, 1);
    encode_fixed32(trailer + 1, crc32c_mask(crc));
    if (append(b, contents.data, contents.len) < 0)
        return b->status;
    return append(b, trailer, sizeof(trailer));
}

/* Compresses when allowed and worth it (saves >= 12.5%), then writes. */
static int write_block(struct sst_builder *b, struct slice raw, int compress,
                       struct block_handle *h)
{
    if (compress && b->opt.compression == LSM_COMPRESSION_SNAPPY) {
        size_t clen = snappy_max_compressed_length(raw.len);
        buf_clear(&b->compressed);
        buf_reserve(&b->compressed, clen);
        if (snappy_compress(raw.data, raw.len, b->compressed.data, &clen) == SNAPPY_OK &&
            clen <= raw.len - raw.len / 8)
            return write_raw_block(b, slice_make(b->compressed.data, clen), BLOCK_SNAPPY, h);
    }
    return write_raw_block(b, raw, BLOCK_RAW, h);
}

static int flush_data_block(struct sst_builder *b)
{
    struct slice raw;
    if (block_builder_empty(b->data_block))
        return b->status;
    raw = block_builder_finish(b->data_block);
    if (write_block(b, raw, 1, &b->pending_handle) < 0)
        return b->status;
    block_builder_reset(b->data_block);
    b->pending_index = 1;
    b->props.num_data_blocks++;
    return 0;
}

static void add_index_entry(struct sst_builder *b, struct slice sep)
{
    struct buf h = BUF_INIT;
    block_handle_encode(&h, &b->pending_handle);
    block_builder_add(b->index_block, sep, buf_slice(&h));
    buf_free(&h);
    b->pending_index = 0;
}

int sst_builder_add(struct sst_builder *b, struct slice ikey, struct slice value)
{
    struct ikey_parsed pk;
    if (b->status)
        return b->status;
    if (ikey_parse(ikey, &pk) < 0)
        return LSM_EINVAL;
    if (b->pending_index) {
        buf_clear(&b->scratch);
        ikey_find_shortest_separator(&b->scratch, buf_slice(&b->last_key), ikey);
        add_index_entry(b, buf_slice(&b->scratch));
    }
    if (b->bloom && (b->props.num_entries == 0 ||
                     !slice_equal(ikey_user_key(buf_slice(&b->last_key)), pk.user_key)))
        bloom_builder_add(b->bloom, pk.user_key);
    if (b->props.num_entries == 0)
        buf_set(&b->props.smallest_key, ikey.data, ikey.len);
    b->props.num_entries++;
    b->props.raw_key_size += ikey.len;
    b->props.raw_value_size += value.len;
    if (pk.type == LSM_TYPE_DELETION)
        b->props.num_deletions++;
    else if (pk.type == LSM_TYPE_VPTR)
        b->props.num_value_ptrs++;
    if (pk.seq < b->props.smallest_seq)
        b->props.smallest_seq = pk.seq;
    if (pk.seq > b->props.largest_seq)
        b->props.largest_seq = pk.seq;
    buf_set(&b->last_key, ikey.data, ikey.len);
    block_builder_add(b->data_block, ikey, value);
    if (block_builder_size_estimate(b->data_block) >= b->opt.block_size)
        return flush_data_block(b);
    return 0;
}

uint64_t sst_builder_file_size(const struct sst_builder *b)
{
    return b->offset + (block_builder_empty(b->data_block)
                        ? 0 : block_builder_size_estimate(b->data_block));
}

uint64_t sst_builder_num_entries(const struct sst_builder *b)
{
    return b->props.num_entries;
}

int sst_builder_status(const struct sst_builder *b)
{
    return b->status;
}

static int write_footer(struct sst_builder *b, const struct block_handle *meta,
                        const struct block_handle *index)
{
    struct buf f = BUF_INIT;
    int rc;
    block_handle_encode(&f, meta);
    block_handle_encode(&f, index);
    while (f.len < SST_HANDLES_LEN)
        buf_append_byte(&f, 0);
    put_fixed32(&f, SST_FORMAT_VERSION);
    put_fixed32(&f, crc32c_mask(crc32c_value(f.data, f.len)));
    put_fixed64(&f, SST_MAGIC);
    rc = append(b, f.data, f.len);
    buf_free(&f);
    return rc;
}

/* filter, index, properties, metaindex, footer */
static int write_tail(struct sst_builder *b)
{
    struct block_handle filter_h = { 0, 0 }, index_h, props_h, meta_h;
    struct block_builder *bb = NULL;
    struct buf tmp = BUF_INIT;
    int has_filter = 0;
    if (flush_data_block(b) < 0)
        goto done;
    b->props.data_size = b->offset;
    if (b->bloom) {
        bloom_builder_finish(b->bloom, &tmp);
        if (write_raw_block(b, buf_slice(&tmp), BLOCK_RAW, &filter_h) < 0)
            goto done;
        b->props.filter_size = filter_h.size + BLOCK_TRAILER_LEN;
        has_filter = 1;
    }
    if (b->pending_index) {
        buf_clear(&b->scratch);
        ikey_find_short_successor(&b->scratch, buf_slice(&b->last_key));
        add_index_entry(b, buf_slice(&b->scratch));
    }
    if (write_block(b, block_builder_finish(b->index_block), 0, &index_h) < 0)
        goto done;
    b->props.index_size = index_h.size + BLOCK_TRAILER_LEN;
    buf_set(&b->props.largest_key, b->last_key.data, b->last_key.len);
    if (b->props.num_entries == 0)
        b->props.smallest_seq = 0;
    b->props.creation_time = (uint64_t)time(NULL);
    bb = block_builder_create(1);
    props_encode(&b->props, bb);
    if (write_block(b, block_builder_finish(bb), 0, &props_h) < 0)
        goto done;
    block_builder_reset(bb);
    if (has_filter) {
        buf_clear(&tmp);
        block_handle_encode(&tmp, &filter_h);
        block_builder_add(bb, slice_cstr(b->opt.bloom_format == BLOOM_LOCAL ? META_FILTER_LOCAL
                                                                            : META_FILTER),
                          buf_slice(&tmp));
    }
    buf_clear(&tmp);
    block_handle_encode(&tmp, &props_h);
    block_builder_add(bb, slice_cstr(META_PROPS), buf_slice(&tmp));
    if (write_block(b, block_builder_finish(bb), 0, &meta_h) < 0)
        goto done;
    write_footer(b, &meta_h, &index_h);
done:
    block_builder_destroy(bb);
    buf_free(&tmp);
    return b->status;
}

int sst_builder_finish(struct sst_builder *b, struct sst_props *props)
{
    int rc = b->status ? b->status : write_tail(b);
    if (rc == 0 && (rc = io_file_flush(b->file)) < 0) {
        set_error("sst flush failed: %s", strerror(-rc));
        rc = sst_errno_to_lsm(rc);
    }
    if (props) {
        sst_props_init(props);
        *props = b->props;
        props->file_size = b->offset;
        sst_props_init(&b->props);     /* the key bufs now belong to *props */
    }
    builder_free(b);
    return rc;
}

/* ---- reader ---- */

struct sst_reader {
    struct io_env *env;
    struct io_file *file;
    char *path;
    uint64_t number;
    uint64_t file_size;
    struct cache *cache;
    uint64_t cache_id;
    struct sst_stats *stats;
    struct block *index;
    uint64_t index_offset;           /* for error messages */
    char *filter;                    /* NULL when the table has none */
    size_t filter_len;
    enum bloom_format filter_format;
    struct sst_props props;
};

static int corrupt(const struct sst_reader *r, uint64_t off, const char *why)
{
    set_error("%s: corruption at offset %" PRIu64 ": %s", r->path, off, why);
    if (r->stats)
        stat_add(&r->stats->corruptions, 1);
    return LSM_ECORRUPT;
}

/* Reads the block at h into a zmalloc'd buffer *out (length *len),
 * decompressed; verifies the crc when asked. */
static int read_block(struct sst_reader *r, const struct block_handle *h, int verify,
                      char **out, size_t *len)
{
    uint64_t n;
    ssize_t got;
    char *raw;
    int type;
    *out = NULL;
    if (h->size > SST_MAX_BLOCK || h->size + BLOCK_TRAILER_LEN > r->file_size ||
        h->offset > r->file_size - SST_FOOTER_LEN ||
        h->offset + h->size + BLOCK_TRAILER_LEN > r->file_size - SST_FOOTER_LEN)
        return corrupt(r, h->offset, "block handle out of range");
    n = h->size + BLOCK_TRAILER_LEN;
    raw = zmalloc(n);
    got = io_file_pread(r->file, raw, n, h->offset);
    if (got < 0) {
        zfree(raw);
        set_error("%s: read error at offset %" PRIu64 ": %s", r->path, h->offset,
                  strerror((int)-got));
        return sst_errno_to_lsm((int)got);
    }
    if ((uint64_t)got != n) {
        zfree(raw);
        return corrupt(r, h->offset, "truncated block");
    }
    if (r->stats) {
        stat_add(&r->stats->blocks_read, 1);
        stat_add(&r->stats->bytes_read, n);
    }
    if (verify) {
        uint32_t want = crc32c_unmask(decode_fixed32(raw + h->size + 1));
        uint32_t have = crc32c_extend(crc32c_value(raw, h->size), raw + h->size, 1);
        if (want != have) {
            zfree(raw);
            return corrupt(r, h->offset, "block checksum mismatch");
        }
    }
    type = (uint8_t)raw[h->size];
    if (type == BLOCK_RAW) {
        *out = raw;
        *len = h->size;
        return 0;
    }
    if (type == BLOCK_SNAPPY) {
        size_t ulen;
        char *u;
        if (snappy_uncompressed_length(raw, h->size, &ulen) != SNAPPY_OK ||
            ulen > SST_MAX_BLOCK || ulen > h->size * SNAPPY_MAX_EXPANSION) {
            zfree(raw);
            return corrupt(r, h->offset, "bad snappy block length");
        }
        u = zmalloc(ulen ? ulen : 1);
        if (snappy_uncompress(raw, h->size, u, &ulen) != SNAPPY_OK) {
            zfree(raw);
            zfree(u);
            return corrupt(r, h->offset, "snappy block does not decompress");
        }
        zfree(raw);
        *out = u;
        *len = ulen;
        return 0;
    }
    zfree(raw);
    return corrupt(r, h->offset, "unknown block compression type");
}

static int read_block_struct(struct sst_reader *r, const struct block_handle *h,
                             int verify, struct block **out)
{
    char *data;
    size_t len;
    int rc = read_block(r, h, verify, &data, &len);
    if (rc < 0)
        return rc;
    if (block_open(data, len, 1, out) < 0)
        return corrupt(r, h->offset, "bad block restart array");
    return 0;
}

static void block_deleter(struct slice key, void *value)
{
    (void)key;
    block_destroy(value);
}

/* A data block, from the block cache when possible. *ch is the cache handle
 * to release, or NULL when the caller owns *blk (destroy it). */
static int get_data_block(struct sst_reader *r, const struct sst_read_options *ro,
                          const struct block_handle *h, struct block **blk,
                          struct cache_handle **ch)
{
    char key[16];
    int rc;
    *ch = NULL;
    if (r->cache) {
        encode_fixed64(key, r->cache_id);
        encode_fixed64(key + 8, h->offset);
        *ch = cache_lookup(r->cache, slice_make(key, sizeof(key)));
        if (*ch) {
            *blk = cache_value(*ch);
            return 0;
        }
    }
    rc = read_block_struct(r, h, ro->verify_checksums, blk);
    if (rc < 0)
        return rc;
    /* A small block keeps its restart points and their key prefixes in its
     * struct: a get from the cache then reads no restart array. A
     * malformed block gets none; its seeks report it. */
    (void)block_build_prefix_index(*blk, ikey_compare, LSM_TRAILER_LEN);
    if (r->cache && ro->fill_cache)
        *ch = cache_insert(r->cache, slice_make(key, sizeof(key)), *blk,
                           block_memory(*blk), block_deleter);
    return 0;
}

static void put_data_block(struct sst_reader *r, struct block *blk, struct cache_handle *ch)
{
    if (ch)
        cache_release(r->cache, ch);
    else
        block_destroy(blk);
}

static int read_footer(struct sst_reader *r, struct block_handle *meta,
                       struct block_handle *index)
{
    char f[SST_FOOTER_LEN];
    uint64_t off = r->file_size - SST_FOOTER_LEN;
    ssize_t got = io_file_pread(r->file, f, sizeof(f), off);
    struct slice in;
    if (got < 0) {
        set_error("%s: read error at offset %" PRIu64 ": %s", r->path, off,
                  strerror((int)-got));
        return sst_errno_to_lsm((int)got);
    }
    if (got != (ssize_t)sizeof(f))
        return corrupt(r, off, "truncated footer");
    if (decode_fixed64(f + SST_HANDLES_LEN + 8) != SST_MAGIC)
        return corrupt(r, off, "bad magic number (not an sst file, or truncated)");
    if (crc32c_unmask(decode_fixed32(f + SST_HANDLES_LEN + 4)) !=
        crc32c_value(f, SST_HANDLES_LEN + 4))
        return corrupt(r, off, "footer checksum mismatch");
    if (decode_fixed32(f + SST_HANDLES_LEN) != SST_FORMAT_VERSION)
        return corrupt(r, off, "unsupported format version");
    in = slice_make(f, SST_HANDLES_LEN);
    if (block_handle_decode(&in, meta) < 0 || block_handle_decode(&in, index) < 0)
        return corrupt(r, off, "bad block handle in footer");
    return 0;
}

/* Reads the metaindex and, through it, the filter and the properties. */
static int read_meta(struct sst_reader *r, const struct block_handle *meta_h)
{
    struct block *meta;
    struct iter *it;
    int rc = read_block_struct(r, meta_h, 1, &meta);
    if (rc < 0)
        return rc;
    it = block_iter_create(meta, slice_compare, NULL, NULL);
    for (iter_seek_to_first(it); rc == 0 && iter_valid(it); iter_next(it)) {
        struct slice v = iter_value(it);
        struct block_handle h;
        if (block_handle_decode(&v, &h) < 0) {
            rc = corrupt(r, meta_h->offset, "bad handle in metaindex");
            break;
        }
        if ((slice_equal(iter_key(it), slice_cstr(META_FILTER)) ||
             slice_equal(iter_key(it), slice_cstr(META_FILTER_LOCAL))) &&
            !r->filter) {
            r->filter_format = slice_equal(iter_key(it), slice_cstr(META_FILTER)) ? BLOOM_LEGACY
                                                                                  : BLOOM_LOCAL;
            rc = read_block(r, &h, 1, &r->filter, &r->filter_len);
        } else if (slice_equal(iter_key(it), slice_cstr(META_PROPS))) {
            struct block *pb;
            rc = read_block_struct(r, &h, 1, &pb);
            if (rc == 0) {
                if (props_decode(pb, &r->props) < 0)
                    rc = corrupt(r, h.offset, "bad properties block");
                block_destroy(pb);
            }
        }
    }
    if (rc == 0 && iter_status(it) < 0)
        rc = corrupt(r, meta_h->offset, "bad metaindex block");
    iter_destroy(it);
    block_destroy(meta);
    return rc;
}

int sst_reader_open(struct io_env *env, const char *path, uint64_t file_number,
                    uint64_t file_size, struct cache *block_cache,
                    struct sst_stats *stats, struct sst_reader **out)
{
    struct sst_reader *r = zcalloc(sizeof(*r));
    struct block_handle meta_h, index_h;
    int rc;
    *out = NULL;
    r->env = env ? env : io_env_posix();
    r->path = zstrdup(path);
    r->number = file_number;
    r->cache = block_cache;
    r->stats = stats;
    sst_props_init(&r->props);
    if (file_size == 0 && (rc = io_get_size(r->env, path, &file_size)) < 0) {
        set_error("%s: cannot stat: %s", path, strerror(-rc));
        rc = sst_errno_to_lsm(rc);
        goto fail;
    }
    r->file_size = file_size;
    if ((rc = io_open_read(r->env, path, &r->file)) < 0) {
        set_error("%s: cannot open: %s", path, strerror(-rc));
        rc = sst_errno_to_lsm(rc);
        goto fail;
    }
    if (file_size < SST_FOOTER_LEN) {
        rc = corrupt(r, 0, "file too short to be an sst");
        goto fail;
    }
    if ((rc = read_footer(r, &meta_h, &index_h)) < 0)
        goto fail;
    r->index_offset = index_h.offset;
    if ((rc = read_block_struct(r, &index_h, 1, &r->index)) < 0 ||
        (rc = read_meta(r, &meta_h)) < 0)
        goto fail;
    /* Point lookups binary-search the index on every get: give it the dense
     * prefix array. A malformed index gets none; its seeks report it. */
    (void)block_build_prefix_index(r->index, ikey_compare, LSM_TRAILER_LEN);
    r->props.file_size = file_size;
    r->cache_id = block_cache ? cache_new_id(block_cache) : 0;
    *out = r;
    return 0;
fail:
    sst_reader_close(r);
    return rc;
}

void sst_reader_close(struct sst_reader *r)
{
    if (!r)
        return;
    io_file_close(r->file);
    block_destroy(r->index);
    zfree(r->filter);
    sst_props_free(&r->props);
    zfree(r->path);
    zfree(r);
}

const struct sst_props *sst_reader_props(const struct sst_reader *r)
{
    return &r->props;
}

uint64_t sst_reader_file_number(const struct sst_reader *r)
{
    return r->number;
}

uint64_t sst_reader_file_size(const struct sst_reader *r)
{
    return r->file_size;
}

int sst_reader_may_contain(struct sst_reader *r, struct slice user_key)
{
    if (!r->filter)
        return 1;
    return bloom_may_match(r->filter_format, slice_make(r->filter, r->filter_len), user_key);
}

static const struct sst_read_options default_ro = { 1, 1 };

int sst_reader_get(struct sst_reader *r, const struct sst_read_options *ro,
                   struct slice lookup, struct sst_get_result *res, struct buf *value)
{
    uint64_t h = 0;

    if (r->filter && r->filter_format == BLOOM_LOCAL && lookup.len >= LSM_TRAILER_LEN)
        h = bloom_local_hash(ikey_user_key(lookup));
    return sst_reader_get_hashed(r, ro, lookup, h, res, value);
}

int sst_reader_get_hashed(struct sst_reader *r, const struct sst_read_options *ro,
                          struct slice lookup, uint64_t local_hash,
                          struct sst_get_result *res, struct buf *value)
{
    struct slice ukey, v;
    struct block *blk = NULL;
    struct cache_handle *ch = NULL;
    struct block_handle h;
    struct buf *key = value;     /* scratch for the keys seen (no allocation) */
    int rc;
    if (!ro)
        ro = &default_ro;
    res->found = 0;
    if (lookup.len < LSM_TRAILER_LEN)
        return LSM_EINVAL;
    ukey = ikey_user_key(lookup);
    if (r->filter) {
        if (r->stats)
            stat_add(&r->stats->bloom_checked, 1);
        if (!bloom_may_match_hashed(r->filter_format, slice_make(r->filter, r->filter_len), ukey,
                                    local_hash)) {
            if (r->stats)
                stat_add(&r->stats->bloom_useful, 1);
            return 0;
        }
    }
    rc = block_seek_once(r->index, ikey_compare, lookup, key, &v);
    if (rc <= 0) {
        if (rc < 0)
            rc = corrupt(r, r->index_offset, "bad index block");
        goto done;
    }
    if (block_handle_decode(&v, &h) < 0) {
        rc = corrupt(r, r->index_offset, "bad block handle in index");
        goto done;
    }
    if ((rc = get_data_block(r, ro, &h, &blk, &ch)) < 0)
        goto done;
    rc = block_seek_once(blk, ikey_compare, lookup, key, &v);
    if (rc == 1) {
        struct ikey_parsed pk;
        rc = 0;
        if (ikey_parse(buf_slice(key), &pk) < 0) {
            rc = corrupt(r, h.offset, "bad internal key");
            goto done;
        }
        if (slice_equal(pk.user_key, ukey)) {
            res->found = 1;
            res->type = pk.type;
            res->seq = pk.seq;
            buf_set(value, v.data, v.len);   /* pk is not used after this */
        }
    } else if (rc < 0) {
        rc = corrupt(r, h.offset, "bad data block");
    }
done:
    if (rc == 0 && !res->found && r->filter && r->stats)
        stat_add(&r->stats->bloom_false_positive, 1);
    if (blk)
        put_data_block(r, blk, ch);
    return rc;
}

uint64_t sst_reader_approximate_offset(struct sst_reader *r, struct slice ikey)
{
    struct iter *ii = block_iter_create(r->index, ikey_compare, NULL, NULL);
    uint64_t off = r->props.data_size;
    iter_seek(ii, ikey);
    if (iter_valid(ii)) {
        struct slice v = iter_value(ii);
        struct block_handle h;
        if (block_handle_decode(&v, &h) == 0)
            off = h.offset;
    }
    iter_destroy(ii);
    return off;
}

/* ---- two-level iterator: index block -> data blocks ---- */

struct sst_iter {
    struct iter base;
    struct sst_reader *r;
    struct sst_read_options ro;
    struct iter *index;
    struct iter *data;               /* NULL when no block is loaded */
    struct block *blk;
    struct cache_handle *ch;
    uint64_t data_offset;            /* offset of the loaded block */
    uint64_t readahead_end;          /* prefetched up to here */
    int seq_blocks;                  /* blocks entered by next() in a row */
    int status;
    void (*release)(void *);
    void *release_arg;
};

static void drop_data(struct sst_iter *it)
{
    if (!it->data)
        return;
    iter_destroy(it->data);
    put_data_block(it->r, it->blk, it->ch);
    it->data = NULL;
    it->blk = NULL;
    it->ch = NULL;
}

static void fail_iter(struct sst_iter *it, int rc)
{
    drop_data(it);
    if (!it->status)
        it->status = rc;
}

/* Loads the block the index points at (keeps it when already loaded).
 * Returns 0 or an error (iterator failed). */
static int load_data(struct sst_iter *it)
{
    struct block_handle h;
    struct slice v;
    int rc;
    if (!iter_valid(it->index)) {
        drop_data(it);
        if (iter_status(it->index) < 0) {
            fail_iter(it, corrupt(it->r, it->r->index_offset, "bad index block"));
            return it->status;
        }
        return 0;
    }
    v = iter_value(it->index);
    if (block_handle_decode(&v, &h) < 0) {
        fail_iter(it, corrupt(it->r, it->r->index_offset, "bad block handle in index"));
        return it->status;
    }
    if (it->data && it->data_offset == h.offset)
        return 0;
    drop_data(it);
    if ((rc = get_data_block(it->r, &it->ro, &h, &it->blk, &it->ch)) < 0) {
        fail_iter(it, rc);
        return rc;
    }
    it->data = block_iter_create(it->blk, ikey_compare, NULL, NULL);
    it->data_offset = h.offset;
    return 0;
}

/* After a data iterator ran off an end (or hit corruption). Returns 1 when
 * the data iterator has an error (which is then the iterator's status). */
static int data_failed(struct sst_iter *it)
{
    if (it->data && iter_status(it->data) < 0) {
        fail_iter(it, corrupt(it->r, it->data_offset, "bad data block"));
        return 1;
    }
    return 0;
}

#define SST_READAHEAD (256 * 1024)

/* A scan that walks from block to block gets the OS to read ahead. */
static void readahead(struct sst_iter *it)
{
    if (++it->seq_blocks < 2 || it->data_offset + SST_READAHEAD / 4 < it->readahead_end)
        return;
    io_file_prefetch(it->r->file, it->data_offset, SST_READAHEAD);
    it->readahead_end = it->data_offset + SST_READAHEAD;
}

static void skip_forward(struct sst_iter *it)
{
    while (!it->status && (!it->data || !iter_valid(it->data))) {
        if (data_failed(it))
            return;
        if (!iter_valid(it->index)) {
            drop_data(it);
            return;
        }
        iter_next(it->index);
        if (load_data(it) < 0)
            return;
        if (it->data) {
            readahead(it);
            iter_seek_to_first(it->data);
        }
    }
}

static void skip_backward(struct sst_iter *it)
{
    while (!it->status && (!it->data || !iter_valid(it->data))) {
        if (data_failed(it))
            return;
        if (!iter_valid(it->index)) {
            drop_data(it);
            return;
        }
        iter_prev(it->index);
        if (load_data(it) < 0)
            return;
        if (it->data)
            iter_seek_to_last(it->data);
    }
}

static int si_valid(const struct iter *base)
{
    const struct sst_iter *it = (const struct sst_iter *)base;
    return !it->status && it->data && iter_valid(it->data);
}

static void si_seek_to_first(struct iter *base)
{
    struct sst_iter *it = (struct sst_iter *)base;
    it->seq_blocks = 0;
    if (it->status)
        return;
    iter_seek_to_first(it->index);
    if (load_data(it) < 0)
        return;
    if (it->data)
        iter_seek_to_first(it->data);
    skip_forward(it);
}

static void si_seek_to_last(struct iter *base)
{
    struct sst_iter *it = (struct sst_iter *)base;
    it->seq_blocks = 0;
    if (it->status)
        return;
    iter_seek_to_last(it->index);
    if (load_data(it) < 0)
        return;
    if (it->data)
        iter_seek_to_last(it->data);
    skip_backward(it);
}

static void si_seek(struct iter *base, struct slice target)
{
    struct sst_iter *it = (struct sst_iter *)base;
    it->seq_blocks = 0;
    if (it->status)
        return;
    iter_seek(it->index, target);
    if (load_data(it) < 0)
        return;
    if (it->data)
        iter_seek(it->data, target);
    skip_forward(it);
}

static void si_seek_for_prev(struct iter *base, struct slice target)
{
    struct sst_iter *it = (struct sst_iter *)base;
    it->seq_blocks = 0;
    if (it->status)
        return;
    /* the first block whose separator is >= target holds the answer or
     * starts after it; past every separator, the answer is the last key */
    iter_seek(it->index, target);
    if (!iter_valid(it->index)) {
        if (iter_status(it->index) < 0) {
            fail_iter(it, corrupt(it->r, it->r->index_offset, "bad index block"));
            return;
        }
        iter_seek_to_last(it->index);
        if (load_data(it) < 0)
            return;
        if (it->data)
            iter_seek_to_last(it->data);
    } else {
        if (load_data(it) < 0)
            return;
        if (it->data)
            iter_seek_for_prev(it->data, target);
    }
    skip_backward(it);
}

static void si_next(struct iter *base)
{
    struct sst_iter *it = (struct sst_iter *)base;
    iter_next(it->data);
    skip_forward(it);
}

static void si_prev(struct iter *base)
{
    struct sst_iter *it = (struct sst_iter *)base;
    iter_prev(it->data);
    skip_backward(it);
}

static struct slice si_key(const struct iter *base)
{
    return iter_key(((const struct sst_iter *)base)->data);
}

static struct slice si_value(const struct iter *base)
{
    return iter_value(((const struct sst_iter *)base)->data);
}

static int si_status(const struct iter *base)
{
    const struct sst_iter *it = (const struct sst_iter *)base;
    return it->status;
}

static void si_destroy(struct iter *base)
{
    struct sst_iter *it = (struct sst_iter *)base;
    drop_data(it);
    iter_destroy(it->index);
    if (it->release)
        it->release(it->release_arg);
    zfree(it);
}

static const struct iter_ops sst_iter_ops = {
    .valid = si_valid,
    .seek_to_first = si_seek_to_first,
    .seek_to_last = si_seek_to_last,
    .seek = si_seek,
    .seek_for_prev = si_seek_for_prev,
    .next = si_next,
    .prev = si_prev,
    .key = si_key,
    .value = si_value,
    .status = si_status,
    .destroy = si_destroy,
};

struct iter *sst_reader_iter_with_release(struct sst_reader *r,
                                          const struct sst_read_options *ro,
                                          void (*release)(void *arg), void *arg)
{
    struct sst_iter *it = zcalloc(sizeof(*it));
    it->base.ops = &sst_iter_ops;
    it->r = r;
    it->ro = ro ? *ro : default_ro;
    it->index = block_iter_create(r->index, ikey_compare, NULL, NULL);
    it->release = release;
    it->release_arg = arg;
    return &it->base;
}

struct iter *sst_reader_iter(struct sst_reader *r, const struct sst_read_options *ro)
{
    return sst_reader_iter_with_release(r, ro, NULL, NULL);
}
