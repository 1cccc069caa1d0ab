/* table_cache.c: open SST readers kept in a cache (see table_cache.h).
 * The readers live in a struct cache with charge 1 each, so capacity =
 * max_open_files; the cache's refcounted handles do the pinning. */
#include "engine/table_cache.h"

#include "engine/cache.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/zmalloc.h"

struct table_cache {
    struct io_env *env;
    char *dbdir;
    struct cache *readers;
    struct cache *block_cache;
    struct sst_stats *stats;
    int max_pins;
    int pins;                       /* atomic: live table_pins */
};

struct table_pin {
    struct table_cache *tc;
    struct cache_handle *h;
    struct sst_reader *r;
};

struct pin {
    struct table_cache *tc;
    struct cache_handle *h;
};

struct table_cache *table_cache_create(struct io_env *env, const char *dbdir,
                                       int max_open_files, struct cache *block_cache,
                                       struct sst_stats *stats)
{
    struct table_cache *tc = zcalloc(sizeof(*tc));
    int shards = max_open_files >= 256 ? 16 : max_open_files >= 64 ? 4 : 1;
    tc->env = env ? env : io_env_posix();
    tc->dbdir = zstrdup(dbdir);
    tc->readers = cache_create_sharded((size_t)(max_open_files < 1 ? 1 : max_open_files),
                                       shards);
    tc->block_cache = block_cache;
    tc->stats = stats;
    tc->max_pins = max_open_files / 2;
    return tc;
}

void table_cache_destroy(struct table_cache *tc)
{
    if (!tc)
        return;
    cache_destroy(tc->readers);
    zfree(tc->dbdir);
    zfree(tc);
}

static void reader_deleter(struct slice key, void *value)
{
    (void)key;
    sst_reader_close(value);
}

int table_cache_get(struct table_cache *tc, uint64_t file_number, uint64_t file_size,
                    struct cache_handle **handle, struct sst_reader **reader)
{
    char key[8];
    struct cache_handle *h;
    struct sst_reader *r;
    struct buf path = BUF_INIT;
    int rc;
    encode_fixed64(key, file_number);
    h = cache_lookup(tc->readers, slice_make(key, sizeof(key)));
    if (!h) {
        sst_file_path(&path, tc->dbdir, file_number);
        rc = sst_reader_open(tc->env, buf_cstr(&path), file_number, file_size,
                             tc->block_cache, tc->stats, &r);
        buf_free(&path);
        if (rc < 0) {
            *handle = NULL;
            *reader = NULL;
            return rc;
        }
        h = cache_insert(tc->readers, slice_make(key, sizeof(key)), r, 1, reader_deleter);
    }
    *handle = h;
    *reader = cache_value(h);
    return 0;
}

void table_cache_release(struct table_cache *tc, struct cache_handle *handle)
{
    cache_release(tc->readers, handle);
}

int table_cache_pin(struct table_cache *tc, uint64_t file_number, uint64_t file_size,
                    struct table_pin **pin)
{
    struct table_pin *p;
    int rc;

    *pin = NULL;
    if (__atomic_add_fetch(&tc->pins, 1, __ATOMIC_RELAXED) > tc->max_pins) {
        __atomic_sub_fetch(&tc->pins, 1, __ATOMIC_RELAXED);
        return 0;
    }
    p = zmalloc(sizeof(*p));
    p->tc = tc;
    rc = table_cache_get(tc, file_number, file_size, &p->h, &p->r);
    if (rc < 0) {
        __atomic_sub_fetch(&tc->pins, 1, __ATOMIC_RELAXED);
        zfree(p);
        return rc;
    }
    *pin = p;
    return 0;
}

struct sst_reader *table_pin_reader(const struct table_pin *pin)
{
    return pin->r;
}

void table_cache_unpin(struct table_pin *pin)
{
    if (pin == NULL)
        return;
    cache_release(pin->tc->readers, pin->h);
    __atomic_sub_fetch(&pin->tc->pins, 1, __ATOMIC_RELAXED);
    zfree(pin);
}

int table_cache_lookup(struct table_cache *tc, const struct sst_read_options *ro,
                       uint64_t file_number, uint64_t file_size, struct slice lookup,
                       struct sst_get_result *res, struct buf *value)
{
    struct cache_handle *h;
    struct sst_reader *r;
    int rc = table_cache_get(tc, file_number, file_size, &h, &r);
    if (rc < 0) {
        res->found = 0;
        return rc;
    }
    rc = sst_reader_get(r, ro, lookup, res, value);
    cache_release(tc->readers, h);
    return rc;
}

static void unpin(void *arg)
{
    struct pin *p = arg;
    cache_release(p->tc->readers, p->h);
    zfree(p);
}

struct iter *table_cache_iter(struct table_cache *tc, const struct sst_read_options *ro,
                              uint64_t file_number, uint64_t file_size,
                              struct sst_reader **reader_out)
{
    struct cache_handle *h;
    struct sst_reader *r;
    struct pin *p;
    int rc = table_cache_get(tc, file_number, file_size, &h, &r);
    if (reader_out)
        *reader_out = rc < 0 ? NULL : r;
    if (rc < 0)
        return sst_error_iter(rc);
    p = zmalloc(sizeof(*p));
    p->tc = tc;
    p->h = h;
    return sst_reader_iter_with_release(r, ro, unpin, p);
}

void table_cache_evict(struct table_cache *tc, uint64_t file_number)
{
    char key[8];
    encode_fixed64(key, file_number);
    cache_erase(tc->readers, slice_make(key, sizeof(key)));
}

uint64_t table_cache_open_count(struct table_cache *tc)
{
    struct cache_stats st;
    cache_get_stats(tc->readers, &st);
    return st.usage;
}
