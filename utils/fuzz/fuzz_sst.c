/* fuzz_sst: the SSTable reader on an arbitrary table file.
 *
 * Input: a whole .sst file (docs/format-sst.md). It is read twice:
 *  1. as is, through a block cache, checksums verified: the reader must open
 *     it or return an error, and every call on it (forward and backward
 *     iteration, seeks and point gets for keys taken from the input and
 *     from the table) must give an error or data. When the table opened and
 *     iterated without error in both directions, its bytes passed every crc,
 *     so they are what the builder wrote: the keys must come out in strictly
 *     increasing ikey_compare order, backward must be forward reversed, and
 *     seeks and gets must agree with the entries iterated.
 *  2. with every checksum the harness can locate recomputed (footer, index,
 *     metaindex, the blocks the metaindex names, the data blocks the index
 *     names), without a cache, checksums of data blocks verified or not
 *     (last byte of the input): the damage then reaches the block, filter,
 *     properties and snappy decoders. Only safety is checked there (a
 *     table with forged crcs need not be sorted).
 * Every allocation of the reader goes through zmalloc: the bytes in use must
 * be the same after each input as before (a leak check that works without
 * LeakSanitizer too). */
#include <string.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "engine/block.h"
#include "engine/cache.h"
#include "engine/dbformat.h"
#include "engine/sst.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define MAX_ENTRIES 4096        /* differential checks only up to this */
#define MAX_STEPS 20000         /* iteration steps per direction */

struct entries {
    struct buf *keys, *vals;
    int n;
    int complete;               /* iterated to the end with status 0, all kept */
};

static void entries_free(struct entries *e)
{
    for (int i = 0; i < e->n; i++) {
        buf_free(&e->keys[i]);
        buf_free(&e->vals[i]);
    }
    zfree(e->keys);
    zfree(e->vals);
    memset(e, 0, sizeof(*e));
}

static void entries_push(struct entries *e, struct slice k, struct slice v)
{
    if (e->n == 0) {
        e->keys = zcalloc(MAX_ENTRIES * sizeof(*e->keys));
        e->vals = zcalloc(MAX_ENTRIES * sizeof(*e->vals));
    }
    buf_set(&e->keys[e->n], k.data, k.len);
    buf_set(&e->vals[e->n], v.data, v.len);
    e->n++;
}

/* Walks the table forward (dir > 0) or backward; collects what it sees. */
static void walk(struct iter *it, int dir, struct entries *out)
{
    int steps = 0, overflow = 0;
    memset(out, 0, sizeof(*out));
    if (dir > 0)
        iter_seek_to_first(it);
    else
        iter_seek_to_last(it);
    for (; iter_valid(it) && steps < MAX_STEPS; steps++) {
        struct slice k = iter_key(it), v = iter_value(it);
        fuzz_check(k.len == 0 || k.data != NULL, "valid iterator, NULL key");
        if (out->n < MAX_ENTRIES)
            entries_push(out, k, v);
        else
            overflow = 1;
        if (dir > 0)
            iter_next(it);
        else
            iter_prev(it);
    }
    out->complete = !iter_valid(it) && iter_status(it) == 0 && !overflow;
    fuzz_check(iter_valid(it) || iter_status(it) <= 0, "status %d > 0", iter_status(it));
}

static int slices_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

/* Index of the first entry >= t (ikey order), fwd sorted. */
static int lower_bound(const struct entries *fwd, struct slice t)
{
    int i = 0;
    while (i < fwd->n && ikey_compare(buf_slice(&fwd->keys[i]), t) < 0)
        i++;
    return i;
}

/* Targets: internal keys built from pieces of the input and from the keys
 * iterated (each at a few sequence numbers). */
static int make_targets(const uint8_t *data, size_t size, const struct entries *fwd,
                        struct buf *t, int cap)
{
    int n = 0;
    static const uint64_t seqs[] = { LSM_MAX_SEQ, 1, 0 };
    for (int i = 0; i < 4 && n < cap && size > 0; i++) {
        size_t at = (size_t)(i * 2654435761u) % size;
        size_t len = (size_t)data[at] % 24;
        if (len > size - at)
            len = size - at;
        buf_clear(&t[n]);
        ikey_append(&t[n], slice_make(data + at, len), seqs[i % 3], LSM_TYPE_SEEK);
        n++;
    }
    for (int j = 0; j < fwd->n && n < cap; j += fwd->n / 5 + 1) {
        struct slice k = buf_slice(&fwd->keys[j]);
        if (k.len < LSM_TRAILER_LEN)
            continue;
        struct ikey_parsed p;
        uint64_t seq = ikey_parse(k, &p) == 0 ? p.seq : 0;
        buf_clear(&t[n]);
        ikey_append(&t[n], ikey_user_key(k), seq, LSM_TYPE_SEEK);
        n++;
        if (n < cap && seq > 0) {
            buf_clear(&t[n]);
            ikey_append(&t[n], ikey_user_key(k), seq - 1, LSM_TYPE_SEEK);
            n++;
        }
    }
    return n;
}

/* Seeks and gets for every target; checked against fwd when sorted != 0. */
static void probe(struct sst_reader *r, const struct sst_read_options *ro, struct iter *it,
                  const struct buf *t, int nt, const struct entries *fwd, int sorted)
{
    struct buf val = BUF_INIT;
    for (int i = 0; i < nt; i++) {
        struct slice target = buf_slice(&t[i]);
        iter_seek(it, target);
        if (sorted) {
            int lb = lower_bound(fwd, target);
            if (iter_status(it) == 0) {
                fuzz_check(iter_valid(it) == (lb < fwd->n), "seek: valid %d, expected entry %d of %d",
                           iter_valid(it), lb, fwd->n);
                if (iter_valid(it))
                    fuzz_check(slices_eq(iter_key(it), buf_slice(&fwd->keys[lb])),
                               "seek found another key than iteration");
            }
        } else if (iter_valid(it)) {
            (void)iter_key(it);
            iter_next(it);
        }
        iter_seek_for_prev(it, target);
        if (sorted && iter_status(it) == 0) {
            int lb = lower_bound(fwd, target);
            int want = lb < fwd->n && ikey_compare(buf_slice(&fwd->keys[lb]), target) == 0 ? lb
                                                                                            : lb - 1;
            fuzz_check(iter_valid(it) == (want >= 0), "seek_for_prev: valid %d, expected %d",
                       iter_valid(it), want);
            if (iter_valid(it))
                fuzz_check(slices_eq(iter_key(it), buf_slice(&fwd->keys[want])),
                           "seek_for_prev found another key than iteration");
        } else if (iter_valid(it)) {
            iter_prev(it);
        }

        struct sst_get_result res;
        memset(&res, 0, sizeof(res));
        int rc = sst_reader_get(r, ro, target, &res, &val);
        fuzz_check(rc == 0 || rc == LSM_ECORRUPT || rc == LSM_EIO, "get returned %d", rc);
        (void)sst_reader_may_contain(r, ikey_user_key(target));
        (void)sst_reader_approximate_offset(r, target);
        if (rc != 0 || !sorted)
            continue;
        /* The newest entry with the target's user key and seq <= its seq:
         * the first such entry at or after lower_bound. */
        int lb = lower_bound(fwd, target);
        struct slice uk = ikey_user_key(target);
        int want = lb < fwd->n && slices_eq(ikey_user_key(buf_slice(&fwd->keys[lb])), uk);
        fuzz_check(res.found == want, "get: found %d, iteration says %d", res.found, want);
        if (want) {
            struct ikey_parsed p;
            fuzz_check(ikey_parse(buf_slice(&fwd->keys[lb]), &p) == 0, "bad ikey iterated");
            fuzz_check(res.seq == p.seq && res.type == p.type, "get: seq/type differ");
            fuzz_check(slices_eq(buf_slice(&val), buf_slice(&fwd->vals[lb])),
                       "get: value differs from iteration");
        }
    }
    buf_free(&val);
}

/* Whether fwd holds well-formed internal keys in strictly increasing order. */
static int check_sorted(const struct entries *fwd)
{
    for (int i = 0; i < fwd->n; i++) {
        struct ikey_parsed p;
        fuzz_check(ikey_parse(buf_slice(&fwd->keys[i]), &p) == 0,
                   "checksums ok, entry %d is not an internal key", i);
        if (i > 0)
            fuzz_check(ikey_compare(buf_slice(&fwd->keys[i - 1]), buf_slice(&fwd->keys[i])) < 0,
                       "checksums ok, entry %d is not above entry %d", i, i - 1);
    }
    return 1;
}

static void read_table(const char *path, size_t size, const uint8_t *data, int genuine,
                       int verify)
{
    struct cache *cache = genuine ? cache_create(64 << 10) : NULL;
    struct sst_stats stats;
    struct sst_reader *r = NULL;
    memset(&stats, 0, sizeof(stats));
    int rc = sst_reader_open(io_env_posix(), path, 7, size, cache, &stats, &r);
    if (rc != 0) {
        fuzz_check(rc == LSM_ECORRUPT || rc == LSM_EIO, "open returned %d", rc);
        fuzz_check(r == NULL, "failed open left a reader");
        fuzz_check(sst_last_error()[0] != '\0', "open failed without a message");
        cache_destroy(cache);
        return;
    }
    (void)sst_reader_props(r);
    struct sst_read_options ro;
    sst_read_options_init(&ro);
    ro.verify_checksums = verify;
    struct iter *it = sst_reader_iter(r, &ro);
    struct entries fwd, bwd;
    walk(it, 1, &fwd);
    walk(it, -1, &bwd);
    int sorted = genuine && fwd.complete && bwd.complete && check_sorted(&fwd);
    if (sorted) {
        fuzz_check(fwd.n == bwd.n, "forward %d entries, backward %d", fwd.n, bwd.n);
        for (int i = 0; i < fwd.n; i++)
            fuzz_check(slices_eq(buf_slice(&fwd.keys[i]), buf_slice(&bwd.keys[fwd.n - 1 - i])) &&
                           slices_eq(buf_slice(&fwd.vals[i]), buf_slice(&bwd.vals[fwd.n - 1 - i])),
                       "backward entry %d differs from forward", i);
    }
    struct buf t[16];
    for (int i = 0; i < 16; i++)
        buf_init(&t[i]);
    int nt = make_targets(data, size, &fwd, t, 16);
    probe(r, &ro, it, t, nt, &fwd, sorted);
    for (int i = 0; i < 16; i++)
        buf_free(&t[i]);
    entries_free(&fwd);
    entries_free(&bwd);
    iter_destroy(it);
    sst_reader_close(r);
    cache_destroy(cache);
}

/* ---- checksum fix-up (pass 2) ---- */

/* Recomputes the trailer crc of the block at h when it lies in the file. */
static int fix_block(uint8_t *d, size_t size, const struct block_handle *h)
{
    if (size < SST_FOOTER_LEN || h->size > size || h->offset > size - SST_FOOTER_LEN ||
        h->size + BLOCK_TRAILER_LEN > size - SST_FOOTER_LEN - h->offset)
        return -1;
    uint8_t *p = d + h->offset;
    uint32_t crc = crc32c_extend(crc32c_value(p, h->size), p + h->size, 1);
    encode_fixed32((char *)p + h->size + 1, crc32c_mask(crc));
    return 0;
}

/* Fixes the crc of every block whose handle is a value of the block at h
 * (the index: data blocks; the metaindex: filter and properties). */
static void fix_children(uint8_t *d, size_t size, const struct block_handle *h)
{
    struct block *b;
    if (fix_block(d, size, h) < 0)
        return;
    if (d[h->offset + h->size] != 0 ||          /* only raw blocks are walked */
        block_open((const char *)d + h->offset, h->size, 0, &b) < 0)
        return;
    struct iter *it = block_iter_create(b, slice_compare, NULL, NULL);
    int steps = 0;
    for (iter_seek_to_first(it); iter_valid(it) && steps < MAX_STEPS; iter_next(it), steps++) {
        struct slice v = iter_value(it);
        struct block_handle c;
        if (block_handle_decode(&v, &c) == 0)
            (void)fix_block(d, size, &c);
    }
    iter_destroy(it);
    block_destroy(b);
    (void)fix_block(d, size, h);    /* again, in case a child overlapped it */
}

static void fix_checksums(uint8_t *d, size_t size)
{
    if (size < SST_FOOTER_LEN)
        return;
    char *f = (char *)d + size - SST_FOOTER_LEN;
    struct block_handle meta, index;
    struct slice in = slice_make(f, 40);
    int ok = block_handle_decode(&in, &meta) == 0 && block_handle_decode(&in, &index) == 0;
    encode_fixed32(f + 44, crc32c_mask(crc32c_value(f, 44)));
    if (!ok)
        return;
    /* Blocks may overlap in a damaged table: the footer, index and
     * metaindex are fixed last, so that at least they verify. */
    fix_children(d, size, &meta);
    fix_children(d, size, &index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4400];
    size_t used = zmalloc_used_memory();

    fuzz_write_file("000007.sst", data, size, path, sizeof(path));
    read_table(path, size, data, 1, 1);

    uint8_t *copy = zmalloc(size ? size : 1);
    if (size)
        memcpy(copy, data, size);
    fix_checksums(copy, size);
    if (size && memcmp(copy, data, size) != 0) {
        fuzz_write_file("000007.sst", copy, size, path, sizeof(path));
        read_table(path, size, copy, 0, size ? data[size - 1] & 1 : 1);
    }
    zfree(copy);
    fuzz_check(zmalloc_used_memory() == used, "zmalloc'd bytes %zu before, %zu after: a leak",
               used, zmalloc_used_memory());
    return 0;
}
