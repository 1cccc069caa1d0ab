/* test_sst: tables built from 100k random internal keys (versions and
 * deletions) read back through get and iterators (forward, backward, seek,
 * seek_for_prev) against a sorted reference, with snappy on and off; the
 * bloom filter and block cache counters; and damaged files (a byte flipped
 * anywhere, the footer, the index, a data block, truncation) reported as
 * LSM_ECORRUPT, never a crash and never wrong data. */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/block.h"
#include "engine/cache.h"
#include "engine/dbformat.h"
#include "engine/bloom.h"
#include "engine/sst.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

#include "table_test.h"

static unsigned seed;
static char dir[256];

static unsigned rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) & 0xffffff;
}

struct ent {
    struct buf ikey;
    struct buf val;
};

static int ent_cmp(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    return ikey_compare(buf_slice(&x->ikey), buf_slice(&y->ikey));
}

static void user_key(char *out, size_t *len, unsigned k)
{
    *len = (size_t)snprintf(out, 32, "user%07u", k);
}

/* n entries over `keyspace` user keys; each (user key, seq) unique,
 * ~10% deletions, ~5% value pointers, values half-compressible. */
static struct ent *make_ents(size_t n, unsigned keyspace)
{
    struct ent *e = zcalloc(n * sizeof(*e));
    size_t i;
    for (i = 0; i < n; i++) {
        char uk[32];
        size_t ul, vl = rnd() % 120, j;
        unsigned k = rnd() % keyspace;
        unsigned t = rnd() % 20;
        int type = t < 2 ? LSM_TYPE_DELETION : t < 3 ? LSM_TYPE_VPTR : LSM_TYPE_VALUE;
        user_key(uk, &ul, k);
        buf_init(&e[i].ikey);
        buf_init(&e[i].val);
        ikey_append(&e[i].ikey, slice_make(uk, ul), i + 1, type);   /* seq unique */
        if (type != LSM_TYPE_DELETION) {
            for (j = 0; j < vl; j++)
                buf_append_byte(&e[i].val, j < vl / 2 ? 'x' : (char)('a' + rnd() % 26));
        }
    }
    qsort(e, n, sizeof(*e), ent_cmp);
    return e;
}

static void free_ents(struct ent *e, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        buf_free(&e[i].ikey);
        buf_free(&e[i].val);
    }
    zfree(e);
}

static void path_of(struct buf *p, uint64_t num)
{
    sst_file_path(p, dir, num);
}

static uint64_t build(uint64_t num, const struct ent *e, size_t n,
                      const struct sst_options *o, struct sst_props *props)
{
    struct buf p = BUF_INIT;
    struct io_file *f;
    struct sst_builder *b;
    size_t i;
    uint64_t size;
    path_of(&p, num);
    ck_assert_int_eq(io_open_append(io_env_posix(), buf_cstr(&p), &f), 0);
    b = sst_builder_create(f, o);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(sst_builder_add(b, buf_slice(&e[i].ikey), buf_slice(&e[i].val)), 0);
        ck_assert_uint_eq(sst_builder_num_entries(b), i + 1);
    }
    ck_assert_int_eq(sst_builder_finish(b, props), 0);
    ck_assert_int_eq(io_file_sync(f), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_get_size(io_env_posix(), buf_cstr(&p), &size), 0);
    ck_assert_uint_eq(size, props->file_size);
    buf_free(&p);
    return size;
}

static int open_reader(uint64_t num, uint64_t size, struct cache *c, struct sst_stats *st,
                       struct sst_reader **r)
{
    struct buf p = BUF_INIT;
    int rc;
    path_of(&p, num);
    rc = sst_reader_open(io_env_posix(), buf_cstr(&p), num, size, c, st, r);
    buf_free(&p);
    return rc;
}

static void check_ent(struct iter *it, const struct ent *e)
{
    ck_assert(iter_valid(it));
    ck_assert(slice_equal(iter_key(it), buf_slice(&e->ikey)));
    ck_assert(slice_equal(iter_value(it), buf_slice(&e->val)));
}

static size_t lower_bound(const struct ent *e, size_t n, struct slice t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ikey_compare(buf_slice(&e[mid].ikey), t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A random lookup target: an existing user key (or one just outside the
 * key space) at a random snapshot. */
static void random_target(struct buf *t, unsigned keyspace, size_t n)
{
    char uk[32];
    size_t ul;
    user_key(uk, &ul, rnd() % (keyspace + 10));
    if (rnd() % 8 == 0)
        ul--;                                   /* a prefix */
    buf_clear(t);
    ikey_append(t, slice_make(uk, ul), rnd() % (n + 2), LSM_TYPE_SEEK);
}

static void verify_table(struct sst_reader *r, const struct ent *e, size_t n,
                         unsigned keyspace, int rounds)
{
    struct sst_read_options ro = { (int)(rnd() % 2), (int)(rnd() % 2) };
    struct iter *it = sst_reader_iter(r, rounds % 2 ? &ro : NULL);
    struct buf t = BUF_INIT, val = BUF_INIT;
    size_t i = 0;
    int round;

    for (iter_seek_to_first(it); iter_valid(it); iter_next(it))
        check_ent(it, &e[i++]);
    ck_assert_int_eq(iter_status(it), 0);
    ck_assert_uint_eq(i, n);
    for (iter_seek_to_last(it); iter_valid(it); iter_prev(it))
        check_ent(it, &e[--i]);
    ck_assert_int_eq(i, 0);
    ck_assert_int_eq(iter_status(it), 0);

    for (round = 0; round < rounds; round++) {
        size_t pos, j;
        int steps = (int)(rnd() % 6);
        struct sst_get_result res;
        random_target(&t, keyspace, n);
        pos = lower_bound(e, n, buf_slice(&t));
        /* seek + steps */
        iter_seek(it, buf_slice(&t));
        if (pos == n) {
            ck_assert(!iter_valid(it));
        } else {
            check_ent(it, &e[pos]);
            for (j = pos; steps-- > 0;) {
                if (rnd() % 2) {
                    iter_next(it);
                    if (++j == n) {
                        ck_assert(!iter_valid(it));
                        break;
                    }
                } else {
                    iter_prev(it);
                    if (j-- == 0) {
                        ck_assert(!iter_valid(it));
                        break;
                    }
                }
                check_ent(it, &e[j]);
            }
        }
        /* seek_for_prev: last <= target (targets never equal an entry:
         * their type is LSM_TYPE_SEEK on a value/deletion's seq... unless
         * equal, handled) */
        iter_seek_for_prev(it, buf_slice(&t));
        if (pos < n && ikey_compare(buf_slice(&e[pos].ikey), buf_slice(&t)) == 0)
            check_ent(it, &e[pos]);
        else if (pos == 0)
            ck_assert(!iter_valid(it));
        else
            check_ent(it, &e[pos - 1]);
        /* get: the first entry >= target with the same user key */
        ck_assert_int_eq(sst_reader_get(r, round % 2 ? &ro : NULL, buf_slice(&t), &res, &val), 0);
        if (pos < n && slice_equal(ikey_user_key(buf_slice(&e[pos].ikey)),
                                   ikey_user_key(buf_slice(&t)))) {
            struct ikey_parsed pk;
            ck_assert_int_eq(ikey_parse(buf_slice(&e[pos].ikey), &pk), 0);
            ck_assert_int_eq(res.found, 1);
            ck_assert_int_eq(res.type, pk.type);
            ck_assert_uint_eq(res.seq, pk.seq);
            ck_assert(slice_equal(buf_slice(&val), buf_slice(&e[pos].val)));
        } else {
            ck_assert_int_eq(res.found, 0);
        }
    }
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    buf_free(&t);
    buf_free(&val);
}

static void big_round_trip(enum lsm_compression comp, size_t block_size, int restart,
                           enum bloom_format filter)
{
    size_t n = 100000;
    unsigned keyspace = 60000;
    struct ent *e = make_ents(n, keyspace);
    struct sst_options o;
    struct sst_props props;
    struct sst_reader *r;
    struct cache *c = cache_create(8 << 20);
    struct sst_stats st = { 0 }, snap;
    struct cache_stats cs;
    const struct sst_props *rp;
    uint64_t size, dels = 0, vptrs = 0;
    size_t i;

    sst_options_init(&o);
    o.compression = comp;
    o.block_size = block_size;
    o.restart_interval = restart;
    o.bloom_format = filter;
    size = build(7, e, n, &o, &props);
    for (i = 0; i < n; i++) {
        dels += ikey_trailer(buf_slice(&e[i].ikey)) % 256 == LSM_TYPE_DELETION;
        vptrs += ikey_trailer(buf_slice(&e[i].ikey)) % 256 == LSM_TYPE_VPTR;
    }
    ck_assert_uint_eq(props.num_entries, n);
    ck_assert_uint_eq(props.num_deletions, dels);
    ck_assert_uint_eq(props.num_value_ptrs, vptrs);
    ck_assert(slice_equal(buf_slice(&props.smallest_key), buf_slice(&e[0].ikey)));
    ck_assert(slice_equal(buf_slice(&props.largest_key), buf_slice(&e[n - 1].ikey)));
    ck_assert_uint_gt(props.num_data_blocks, 1);

    ck_assert_int_eq(open_reader(7, size, c, &st, &r), 0);
    rp = sst_reader_props(r);
    ck_assert_uint_eq(rp->num_entries, n);
    ck_assert_uint_eq(rp->num_deletions, dels);
    ck_assert_uint_eq(rp->num_value_ptrs, vptrs);
    ck_assert_uint_eq(rp->num_data_blocks, props.num_data_blocks);
    ck_assert_uint_eq(rp->data_size, props.data_size);
    ck_assert_uint_eq(rp->index_size, props.index_size);
    ck_assert_uint_eq(rp->filter_size, props.filter_size);
    ck_assert_uint_eq(rp->smallest_seq, 1);
    ck_assert_uint_eq(rp->largest_seq, n);
    ck_assert_uint_eq(rp->file_size, size);
    ck_assert_uint_eq(rp->compression, (uint64_t)comp);
    ck_assert(slice_equal(buf_slice(&rp->smallest_key), buf_slice(&e[0].ikey)));
    ck_assert(slice_equal(buf_slice(&rp->largest_key), buf_slice(&e[n - 1].ikey)));
    if (comp == LSM_COMPRESSION_SNAPPY)
        ck_assert_uint_lt(rp->data_size, rp->raw_key_size + rp->raw_value_size);
    else
        ck_assert_uint_gt(rp->data_size, rp->raw_value_size);
    printf("# %s block %zu restart %d: %" PRIu64 " bytes, %" PRIu64 " blocks\n",
           comp ? "snappy" : "none", block_size, restart, size, rp->num_data_blocks);

    verify_table(r, e, n, keyspace, 20000);

    /* the filter: absent user keys are mostly answered without I/O */
    for (i = 0; i < 20000; i++) {
        struct buf t = BUF_INIT, v = BUF_INIT;
        struct sst_get_result res;
        char uk[32];
        int ul = snprintf(uk, sizeof(uk), "absent%u", (unsigned)i);
        ikey_append(&t, slice_make(uk, (size_t)ul), LSM_MAX_SEQ, LSM_TYPE_SEEK);
        ck_assert_int_eq(sst_reader_get(r, NULL, buf_slice(&t), &res, &v), 0);
        ck_assert_int_eq(res.found, 0);
        buf_free(&t);
        buf_free(&v);
    }
    sst_stats_read(&st, &snap);
    ck_assert_uint_gt(snap.bloom_useful, 19000);
    ck_assert_uint_gt(snap.bloom_false_positive, 0);
    ck_assert_uint_gt(snap.blocks_read, 0);
    ck_assert_uint_eq(snap.corruptions, 0);
    cache_get_stats(c, &cs);
    ck_assert_uint_gt(cs.hits, 0);
    ck_assert_uint_le(cs.usage, 8 << 20);

    /* approximate offsets grow with the key */
    ck_assert_uint_eq(sst_reader_approximate_offset(r, buf_slice(&e[0].ikey)), 0);
    ck_assert_uint_le(sst_reader_approximate_offset(r, buf_slice(&e[n / 2].ikey)),
                      sst_reader_approximate_offset(r, buf_slice(&e[n - 1].ikey)));
    ck_assert_uint_gt(sst_reader_approximate_offset(r, buf_slice(&e[n / 2].ikey)), 0);

    sst_reader_close(r);
    cache_destroy(c);
    sst_props_free(&props);
    free_ents(e, n);
}

START_TEST(test_round_trip_snappy)
{
    big_round_trip(LSM_COMPRESSION_SNAPPY, 4096, 16, BLOOM_LOCAL);
}
END_TEST

START_TEST(test_round_trip_none)
{
    big_round_trip(LSM_COMPRESSION_NONE, 4096, 16, BLOOM_LOCAL);
}
END_TEST

START_TEST(test_round_trip_small_blocks)
{
    big_round_trip(LSM_COMPRESSION_SNAPPY, 256, 1, BLOOM_LOCAL);
}
END_TEST

/* Tables written before the cache-line filter (its legacy format, under
 * its own metaindex name) are read and filtered as before. */
START_TEST(test_round_trip_legacy_filter)
{
    big_round_trip(LSM_COMPRESSION_SNAPPY, 4096, 16, BLOOM_LEGACY);
}
END_TEST

START_TEST(test_no_filter_and_no_cache)
{
    size_t n = 5000;
    struct ent *e = make_ents(n, 3000);
    struct sst_options o;
    struct sst_props props;
    struct sst_reader *r;
    struct sst_stats st = { 0 };
    uint64_t size;
    sst_options_init(&o);
    o.bloom_bits_per_key = 0;
    size = build(8, e, n, &o, &props);
    ck_assert_uint_eq(props.filter_size, 0);
    ck_assert_int_eq(open_reader(8, 0, NULL, &st, &r), 0);   /* size from the fs */
    ck_assert_uint_eq(sst_reader_file_size(r), size);
    ck_assert_uint_eq(sst_reader_file_number(r), 8);
    ck_assert_int_eq(sst_reader_may_contain(r, slice_cstr("nothing")), 1);
    verify_table(r, e, n, 3000, 3001);
    ck_assert_uint_eq(st.bloom_checked, 0);
    sst_reader_close(r);
    sst_props_free(&props);
    free_ents(e, n);
}
END_TEST

START_TEST(test_empty_table)
{
    struct sst_options o;
    struct sst_props props;
    struct sst_reader *r;
    struct iter *it;
    struct sst_get_result res;
    struct buf t = BUF_INIT, v = BUF_INIT;
    uint64_t size;
    sst_options_init(&o);
    size = build(9, NULL, 0, &o, &props);
    ck_assert_int_eq(open_reader(9, size, NULL, NULL, &r), 0);
    it = sst_reader_iter(r, NULL);
    iter_seek_to_first(it);
    ck_assert(!iter_valid(it));
    iter_seek_to_last(it);
    ck_assert(!iter_valid(it));
    ikey_append(&t, slice_cstr("a"), 5, LSM_TYPE_SEEK);
    iter_seek_for_prev(it, buf_slice(&t));
    ck_assert(!iter_valid(it));
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    ck_assert_int_eq(sst_reader_get(r, NULL, buf_slice(&t), &res, &v), 0);
    ck_assert_int_eq(res.found, 0);
    sst_reader_close(r);
    sst_props_free(&props);
    buf_free(&t);
    buf_free(&v);
}
END_TEST

START_TEST(test_bad_key_rejected)
{
    struct buf p = BUF_INIT;
    struct io_file *f;
    struct sst_builder *b;
    path_of(&p, 10);
    ck_assert_int_eq(io_open_append(io_env_posix(), buf_cstr(&p), &f), 0);
    b = sst_builder_create(f, NULL);
    ck_assert_int_eq(sst_builder_add(b, slice_cstr("short"), slice_cstr("v")), LSM_EINVAL);
    sst_builder_abandon(b);
    io_file_close(f);
    buf_free(&p);
}
END_TEST

/* ---- damaged files ---- */

static char *read_whole(uint64_t num, size_t *len)
{
    struct buf p = BUF_INIT;
    FILE *fp;
    char *data;
    long sz;
    path_of(&p, num);
    fp = fopen(buf_cstr(&p), "rb");
    ck_assert(fp != NULL);
    fseek(fp, 0, SEEK_END);
    sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    data = zmalloc((size_t)sz);
    ck_assert_uint_eq(fread(data, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    buf_free(&p);
    *len = (size_t)sz;
    return data;
}

static void write_whole(uint64_t num, const char *data, size_t len)
{
    struct buf p = BUF_INIT;
    FILE *fp;
    path_of(&p, num);
    fp = fopen(buf_cstr(&p), "wb");
    ck_assert(fp != NULL);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
    buf_free(&p);
}

/* Opens num and reads everything; returns 0 when the whole table read back
 * exactly like e, or the error (every entry returned before it must match). */
static int read_back(uint64_t num, uint64_t size, const struct ent *e, size_t n)
{
    struct sst_reader *r;
    struct iter *it;
    size_t i = 0;
    int rc = open_reader(num, size, NULL, NULL, &r);
    if (rc < 0)
        return rc;
    it = sst_reader_iter(r, NULL);
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it)) {
        ck_assert_uint_lt(i, n);
        check_ent(it, &e[i++]);
    }
    rc = iter_status(it);
    if (rc == 0)
        ck_assert_uint_eq(i, n);
    iter_destroy(it);
    /* backward too */
    it = sst_reader_iter(r, NULL);
    i = n;
    for (iter_seek_to_last(it); iter_valid(it); iter_prev(it)) {
        ck_assert_uint_gt(i, 0);
        check_ent(it, &e[--i]);
    }
    if (rc == 0)
        rc = iter_status(it);
    iter_destroy(it);
    /* and a get of every key */
    for (i = 0; i < n && rc == 0; i += 7) {
        struct sst_get_result res;
        struct buf v = BUF_INIT;
        int grc = sst_reader_get(r, NULL, buf_slice(&e[i].ikey), &res, &v);
        if (grc < 0) {
            rc = grc;
        } else {
            ck_assert_int_eq(res.found, 1);
            ck_assert(slice_equal(buf_slice(&v), buf_slice(&e[i].val)));
        }
        buf_free(&v);
    }
    sst_reader_close(r);
    return rc;
}

/* Bytes of a small table, flipped in turn: the open or the reads
 * report LSM_ECORRUPT; nothing crashes and no wrong entry is returned. */
START_TEST(test_flip_every_byte)
{
    size_t n = 400, len, pos;
    struct ent *e = make_ents(n, 300);
    struct sst_options o;
    struct sst_props props;
    struct buf p = BUF_INIT;
    size_t stride;
    char *orig;
    int comp, fd;
    for (comp = 0; comp < 2; comp++) {
        sst_options_init(&o);
        o.compression = comp ? LSM_COMPRESSION_SNAPPY : LSM_COMPRESSION_NONE;
        o.block_size = 1024;
        build(11, e, n, &o, &props);
        orig = read_whole(11, &len);
        ck_assert_int_eq(read_back(11, len, e, n), 0);
        path_of(&p, 11);
        fd = open(buf_cstr(&p), O_RDWR);
        ck_assert_int_ge(fd, 0);
        /* every byte of the tail (meta blocks, index, footer), every few
         * bytes of the data blocks (from a random start) */
        stride = props.data_size / 1500 + 1;
        for (pos = rnd() % stride; pos < len;
             pos += pos < props.data_size ? stride : 1) {
            int rc;
            char c = (char)(orig[pos] ^ (1 << (rnd() % 8)));
            ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)pos), 1);
            rc = read_back(11, len, e, n);
            ck_assert_msg(rc == LSM_ECORRUPT, "flip at %zu of %zu: rc %d", pos, len, rc);
            ck_assert_int_eq(pwrite(fd, &orig[pos], 1, (off_t)pos), 1);
        }
        close(fd);
        zfree(orig);
        sst_props_free(&props);
    }
    buf_free(&p);
    free_ents(e, n);
}
END_TEST

static void footer_handles(const char *data, size_t len, struct block_handle *meta,
                           struct block_handle *index)
{
    struct slice in = slice_make(data + len - SST_FOOTER_LEN, 40);
    ck_assert_int_eq(block_handle_decode(&in, meta), 0);
    ck_assert_int_eq(block_handle_decode(&in, index), 0);
}

START_TEST(test_targeted_corruption)
{
    size_t n = 20000, len;
    struct ent *e = make_ents(n, 10000);
    struct sst_options o;
    struct sst_props props;
    struct block_handle meta, index;
    struct sst_reader *r;
    char *orig;
    sst_options_init(&o);
    build(12, e, n, &o, &props);
    orig = read_whole(12, &len);
    footer_handles(orig, len, &meta, &index);

    /* the magic number */
    orig[len - 1] ^= 1;
    write_whole(12, orig, len);
    ck_assert_int_eq(open_reader(12, len, NULL, NULL, &r), LSM_ECORRUPT);
    ck_assert(strstr(sst_last_error(), "000012.sst") != NULL);
    ck_assert(strstr(sst_last_error(), "magic") != NULL);
    orig[len - 1] ^= 1;
    /* the footer's version and handles */
    orig[len - 16] ^= 1;
    write_whole(12, orig, len);
    ck_assert_int_eq(open_reader(12, len, NULL, NULL, &r), LSM_ECORRUPT);
    orig[len - 16] ^= 1;
    orig[len - SST_FOOTER_LEN] ^= 0x80;
    write_whole(12, orig, len);
    ck_assert_int_eq(open_reader(12, len, NULL, NULL, &r), LSM_ECORRUPT);
    orig[len - SST_FOOTER_LEN] ^= 0x80;
    /* the index block */
    orig[index.offset + index.size / 2] ^= 4;
    write_whole(12, orig, len);
    ck_assert_int_eq(open_reader(12, len, NULL, NULL, &r), LSM_ECORRUPT);
    ck_assert(strstr(sst_last_error(), "checksum") != NULL);
    orig[index.offset + index.size / 2] ^= 4;
    /* a data block in the middle */
    orig[props.data_size / 2] ^= 0x10;
    write_whole(12, orig, len);
    ck_assert_int_eq(read_back(12, len, e, n), LSM_ECORRUPT);
    orig[props.data_size / 2] ^= 0x10;
    /* intact again */
    write_whole(12, orig, len);
    ck_assert_int_eq(read_back(12, len, e, n), 0);
    /* truncated: by the manifest's size or on disk */
    ck_assert_int_eq(open_reader(12, len - 1, NULL, NULL, &r), LSM_ECORRUPT);
    ck_assert_int_eq(open_reader(12, 10, NULL, NULL, &r), LSM_ECORRUPT);
    ck_assert_int_eq(open_reader(12, len + 100, NULL, NULL, &r), LSM_ECORRUPT);
    write_whole(12, orig, len / 2);
    ck_assert_int_eq(open_reader(12, len, NULL, NULL, &r), LSM_ECORRUPT);
    ck_assert_int_eq(open_reader(12, 0, NULL, NULL, &r), LSM_ECORRUPT);
    write_whole(12, orig, 0);
    ck_assert_int_eq(open_reader(12, 0, NULL, NULL, &r), LSM_ECORRUPT);
    /* missing */
    ck_assert_int_eq(open_reader(999, 100, NULL, NULL, &r), LSM_ENOENT);
    zfree(orig);
    sst_props_free(&props);
    free_ents(e, n);
}
END_TEST

/* A data block whose crc is right but whose snappy header claims 200 MiB
 * (a damaged writer, or a crafted file): more than snappy can expand the
 * block to, so the read reports it before sizing a buffer by it. */
START_TEST(test_snappy_length_bounded)
{
    size_t n = 200, len, bsize;
    struct ent *e = make_ents(n, 1000);
    struct sst_options o;
    struct sst_props props;
    char *orig;
    sst_options_init(&o);
    o.compression = LSM_COMPRESSION_SNAPPY;
    o.block_size = 1 << 16;                     /* one data block, at offset 0 */
    build(13, e, n, &o, &props);
    orig = read_whole(13, &len);
    ck_assert_uint_gt(props.data_size, BLOCK_TRAILER_LEN + 8);
    bsize = props.data_size - BLOCK_TRAILER_LEN;
    ck_assert_int_eq(orig[bsize], 1);           /* stored with snappy */
    ck_assert_uint_eq(crc32c_unmask(decode_fixed32(orig + bsize + 1)),
                      crc32c_extend(crc32c_value(orig, bsize), orig + bsize, 1));
    ck_assert_int_eq(read_back(13, len, e, n), 0);
    /* 200 MiB as the length header (a 4-byte varint, like the 2-byte one
     * it replaces only longer: the bytes after it are the block's), the
     * crc made right again */
    ck_assert_int_eq(varint_length(200u << 20), 4);
    encode_varint32(orig, 200u << 20);
    encode_fixed32(orig + bsize + 1,
                   crc32c_mask(crc32c_extend(crc32c_value(orig, bsize), orig + bsize, 1)));
    write_whole(13, orig, len);
    ck_assert_int_eq(read_back(13, len, e, n), LSM_ECORRUPT);
    ck_assert_msg(strstr(sst_last_error(), "bad snappy block length") != NULL, "%s",
                  sst_last_error());
    zfree(orig);
    sst_props_free(&props);
    free_ents(e, n);
}
END_TEST

/* ---- I/O errors ---- */

START_TEST(test_write_errors_are_sticky)
{
    static const enum io_fault faults[] = { IO_FAULT_ENOSPC, IO_FAULT_EIO, IO_FAULT_SHORT_WRITE };
    static const int want[] = { LSM_ENOSPC, LSM_EIO, LSM_EIO };
    size_t n = 20000, k;
    struct ent *e = make_ents(n, 10000);
    for (k = 0; k < 3; k++) {
        struct io_env *fe = io_env_fault_create(io_env_posix());
        struct buf p = BUF_INIT;
        struct io_file *f;
        struct sst_builder *b;
        size_t i;
        int rc = 0;
        path_of(&p, 13);
        ck_assert_int_eq(io_open_append(fe, buf_cstr(&p), &f), 0);
        io_env_fault_set(fe, faults[k], faults[k] == IO_FAULT_ENOSPC ? 50000 : 5, ".sst");
        b = sst_builder_create(f, NULL);
        for (i = 0; i < n && rc == 0; i++)
            rc = sst_builder_add(b, buf_slice(&e[i].ikey), buf_slice(&e[i].val));
        ck_assert_int_eq(rc, want[k]);
        ck_assert_int_eq(sst_builder_status(b), want[k]);
        ck_assert_int_eq(sst_builder_add(b, buf_slice(&e[n - 1].ikey), buf_slice(&e[0].val)),
                         want[k]);
        ck_assert_int_eq(sst_builder_finish(b, NULL), want[k]);
        io_file_close(f);
        io_env_fault_reset(fe);
        io_env_fault_destroy(fe);
        buf_free(&p);
    }
    free_ents(e, n);
}
END_TEST

START_TEST(test_read_errors_are_io_errors)
{
    size_t n = 20000;
    struct ent *e = make_ents(n, 10000);
    struct sst_options o;
    struct sst_props props;
    struct io_env *fe = io_env_fault_create(io_env_posix());
    struct buf p = BUF_INIT, v = BUF_INIT;
    struct sst_reader *r;
    struct sst_get_result res;
    struct iter *it;
    uint64_t size;
    int rc, seen = 0;
    sst_options_init(&o);
    size = build(14, e, n, &o, &props);
    path_of(&p, 14);
    /* failing at open */
    io_env_fault_set(fe, IO_FAULT_EIO, 0, ".sst");
    rc = sst_reader_open(fe, buf_cstr(&p), 14, size, NULL, NULL, &r);
    ck_assert_int_eq(rc, LSM_EIO);
    io_env_fault_reset(fe);
    /* failing later, in a data block read */
    ck_assert_int_eq(sst_reader_open(fe, buf_cstr(&p), 14, size, NULL, NULL, &r), 0);
    io_env_fault_set(fe, IO_FAULT_EIO, 0, ".sst");
    ck_assert_int_eq(sst_reader_get(r, NULL, buf_slice(&e[n / 2].ikey), &res, &v), LSM_EIO);
    it = sst_reader_iter(r, NULL);
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it))
        seen++;
    ck_assert_int_eq(seen, 0);
    ck_assert_int_eq(iter_status(it), LSM_EIO);
    iter_destroy(it);
    io_env_fault_reset(fe);
    /* and back to normal */
    ck_assert_int_eq(sst_reader_get(r, NULL, buf_slice(&e[n / 2].ikey), &res, &v), 0);
    ck_assert_int_eq(res.found, 1);
    sst_reader_close(r);
    io_env_fault_destroy(fe);
    sst_props_free(&props);
    buf_free(&p);
    buf_free(&v);
    free_ents(e, n);
}
END_TEST

static Suite *sst_suite(void)
{
    Suite *s = suite_create("sst");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_round_trip_snappy);
    tcase_add_test(tc, test_round_trip_none);
    tcase_add_test(tc, test_round_trip_small_blocks);
    tcase_add_test(tc, test_round_trip_legacy_filter);
    tcase_add_test(tc, test_no_filter_and_no_cache);
    tcase_add_test(tc, test_empty_table);
    tcase_add_test(tc, test_bad_key_rejected);
    suite_add_tcase(s, tc);
    tc = tcase_create("corruption");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_flip_every_byte);
    tcase_add_test(tc, test_targeted_corruption);
    tcase_add_test(tc, test_snappy_length_bounded);
    tcase_add_test(tc, test_write_errors_are_sticky);
    tcase_add_test(tc, test_read_errors_are_io_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tt_main("test_sst", sst_suite, &seed, dir, sizeof(dir));
}
