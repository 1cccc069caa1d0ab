/* test_vlog: the value log's format and files. Pointer encode/decode, writer
 * and reader round trips (compressible and incompressible values), entry
 * checksums (a flipped byte is corruption naming file and offset, never
 * data), torn tails at every byte offset, dropped segments, and the
 * engine-level discard accounting (tests/unit/test_vlog_gc.c has GC). */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_test.h"
#include "engine/lsm.h"
#include "engine/version.h"
#include "engine/vlog.h"
#include "engine/vlog_gc.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define EXPECT(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static char dir[4096];

static void setup(void)
{
    dt_mkdtemp(dir, sizeof dir);
}

static void teardown(void)
{
    dt_rmrf(dir);
}

static void seg_file(char *out, size_t n, uint64_t number)
{
    snprintf(out, n, "%s/%06" PRIu64 ".vlog", dir, number);
}

/* Deterministic value i of length len; half of them compress well. */
static void make_value(struct buf *v, int i, size_t len)
{
    size_t k;
    uint32_t x = (uint32_t)i * 2654435761u + 1;
    buf_clear(v);
    for (k = 0; k < len; k++) {
        x = x * 1103515245u + 12345u;
        buf_append_byte(v, (i & 1) ? (char)('a' + (k / 13) % 7) : (char)(x >> 16));
    }
}

static void make_key(struct buf *k, int i)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "key%08d", i);
    buf_set(k, tmp, strlen(tmp));
}

START_TEST(test_ptr_roundtrip)
{
    struct vlog_ptr p, q;
    struct buf b = BUF_INIT;
    uint32_t lens[] = { 0, 1, 15, 16, 17, 4096, 1u << 30 };
    size_t i;

    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(&p, 0, sizeof p);
        p.segment = 123456789012ull + i;
        p.offset = (1ull << 40) + i;
        p.length = 16 + lens[i];
        p.value_len = lens[i];
        p.prefix_len = lens[i] < 16 ? lens[i] : 16;
        memset(p.prefix, 'a' + (int)i, p.prefix_len);
        buf_clear(&b);
        vlog_ptr_encode(&p, &b);
        ck_assert_int_eq(vlog_ptr_decode(buf_slice(&b), &q), 0);
        ck_assert_uint_eq(q.segment, p.segment);
        ck_assert_uint_eq(q.offset, p.offset);
        ck_assert_uint_eq(q.length, p.length);
        ck_assert_uint_eq(q.value_len, p.value_len);
        ck_assert_uint_eq(q.prefix_len, p.prefix_len);
        ck_assert(memcmp(q.prefix, p.prefix, p.prefix_len) == 0);
        /* Every truncation and one extra byte are rejected. */
        {
            size_t n;
            for (n = 0; n < b.len; n++)
                ck_assert_int_eq(vlog_ptr_decode(slice_make(b.data, n), &q), LSM_ECORRUPT);
            buf_append_byte(&b, 'x');
            ck_assert_int_eq(vlog_ptr_decode(buf_slice(&b), &q), LSM_ECORRUPT);
        }
    }
    buf_free(&b);
}
END_TEST

START_TEST(test_entry_roundtrip)
{
    struct buf e = BUF_INIT, v = BUF_INIT, out = BUF_INIT;
    struct slice k, s;
    const char *why;
    int flags, i;

    for (i = 0; i < 8; i++) {
        make_value(&v, i, (size_t)i * 700);
        buf_clear(&e);
        vlog_entry_encode(&e, slice_cstr("kk"), buf_slice(&v), 1);
        ck_assert_int_eq(vlog_entry_parse(buf_slice(&e), &k, &s, &flags, &why), 0);
        ck_assert(slice_equal(k, slice_cstr("kk")));
        if ((i & 1) && i > 0)
            ck_assert_int_eq(flags, VLOG_FLAG_SNAPPY);   /* compressible */
        if (!(i & 1))
            ck_assert_int_eq(flags, 0);                  /* random: kept raw */
        ck_assert_int_eq(vlog_value_decode(s, flags, &out), 0);
        ck_assert(slice_equal(buf_slice(&out), buf_slice(&v)));
    }
    buf_free(&e);
    buf_free(&v);
    buf_free(&out);
}
END_TEST

#define N 200

/* Writes N entries to segment 7; ptrs filled. */
static struct vlog *write_segment(struct vlog_ptr *ptrs, int compress)
{
    struct vlog *vl = vlog_create(NULL, dir, compress);
    struct buf k = BUF_INIT, v = BUF_INIT;
    int i;

    ck_assert_int_eq(vlog_new_segment(vl, 7), 0);
    ck_assert(vlog_has_active(vl));
    ck_assert_uint_eq(vlog_active_number(vl), 7);
    for (i = 0; i < N; i++) {
        make_key(&k, i);
        make_value(&v, i, (size_t)(i * 37) % 5000 + 1);
        ck_assert_int_eq(vlog_add(vl, buf_slice(&k), buf_slice(&v), &ptrs[i]), 0);
        if (i % 10 == 9)
            ck_assert_int_eq(vlog_flush(vl), 0);
    }
    ck_assert_int_eq(vlog_flush(vl), 0);
    buf_free(&k);
    buf_free(&v);
    return vl;
}

static void check_all(struct vlog *vl, const struct vlog_ptr *ptrs)
{
    struct buf k = BUF_INIT, v = BUF_INIT, got = BUF_INIT;
    int i;
    for (i = 0; i < N; i++) {
        struct slice ks;
        make_key(&k, i);
        make_value(&v, i, (size_t)(i * 37) % 5000 + 1);
        ks = buf_slice(&k);
        EXPECT(vlog_read(vl, &ptrs[i], &ks, &got) == 0, "read %d: %s", i, vlog_last_error());
        EXPECT(slice_equal(buf_slice(&got), buf_slice(&v)), "value %d differs", i);
        EXPECT(memcmp(ptrs[i].prefix, v.data, ptrs[i].prefix_len) == 0, "prefix %d", i);
    }
    buf_free(&k);
    buf_free(&v);
    buf_free(&got);
}

START_TEST(test_write_read)
{
    struct vlog_ptr ptrs[N];
    struct vlog *vl = write_segment(ptrs, _i);
    uint64_t num, size;
    struct vlog_io_stats st;

    /* Readable while active (after flush), after seal, after reopen. */
    check_all(vl, ptrs);
    ck_assert_int_eq(vlog_sync(vl), 0);
    ck_assert(!vlog_dirty(vl));
    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    ck_assert_uint_eq(num, 7);
    ck_assert_uint_eq(size, ptrs[N - 1].offset + ptrs[N - 1].length);
    {
        /* The seal gives back the disk space reserved ahead of the appends
         * (256 KiB past the end while the segment was active). */
        char path[4200];
        struct stat fst;
        snprintf(path, sizeof path, "%s/000007.vlog", dir);
        ck_assert_int_eq(stat(path, &fst), 0);
        ck_assert_int_eq(fst.st_size, (off_t)size);
        ck_assert_msg((uint64_t)fst.st_blocks * 512 < size + (64 << 10),
                      "%" PRIu64 " bytes allocated for a %" PRIu64 "-byte segment",
                      (uint64_t)fst.st_blocks * 512, size);
    }
    ck_assert(!vlog_has_active(vl));
    check_all(vl, ptrs);
    vlog_get_io_stats(vl, &st);
    ck_assert_uint_eq(st.bytes_written, size);
    vlog_destroy(vl);

    vl = vlog_create(NULL, dir, 1);
    vlog_seg_add(vl, 7, size);
    check_all(vl, ptrs);
    /* A key mismatch is corruption (the pointer went to another entry). */
    {
        struct buf got = BUF_INIT;
        struct slice wrong = slice_cstr("nope");
        ck_assert_int_eq(vlog_read(vl, &ptrs[3], &wrong, &got), LSM_ECORRUPT);
        buf_free(&got);
    }
    /* A dropped segment can no longer be read. */
    vlog_seg_drop(vl, 7);
    ck_assert(!vlog_seg_exists(vl, 7));
    {
        struct buf got = BUF_INIT;
        ck_assert_int_eq(vlog_read(vl, &ptrs[0], NULL, &got), LSM_ECORRUPT);
        ck_assert(strstr(vlog_last_error(), "000007.vlog") != NULL);
        buf_free(&got);
    }
    vlog_destroy(vl);
}
END_TEST

/* Appended entries may stay in the writer's buffer after their pointer is
 * handed out; a read needs no vlog_flush first: it pushes the buffer. A
 * second thread reads every entry as soon as the writer publishes its
 * pointer, while the writer keeps appending (run it under TSan too). */
struct unpushed_reader {
    struct vlog *vl;
    struct vlog_ptr *ptrs;
    int published;            /* atomic: entries [0, published) readable */
    int bad;
};

static void *unpushed_reader_main(void *arg)
{
    struct unpushed_reader *r = arg;
    struct buf k = BUF_INIT, v = BUF_INIT, got = BUF_INIT;
    int i = 0;
    while (i < N) {
        int upto = __atomic_load_n(&r->published, __ATOMIC_ACQUIRE);
        for (; i < upto; i++) {
            struct slice ks;
            make_key(&k, i);
            make_value(&v, i, (size_t)(i * 37) % 5000 + 1);
            ks = buf_slice(&k);
            if (vlog_read(r->vl, &r->ptrs[i], &ks, &got) != 0 ||
                !slice_equal(buf_slice(&got), buf_slice(&v)))
                r->bad++;
        }
    }
    buf_free(&k);
    buf_free(&v);
    buf_free(&got);
    return NULL;
}

START_TEST(test_read_unpushed)
{
    struct vlog_ptr ptrs[N], bad;
    struct vlog *vl = vlog_create(NULL, dir, 1);
    struct buf k = BUF_INIT, v = BUF_INIT, got = BUF_INIT;
    struct unpushed_reader r = { vl, ptrs, 0, 0 };
    pthread_t th;
    int i;

    ck_assert_int_eq(vlog_new_segment(vl, 9), 0);
    /* Same thread: add, then read at once. */
    make_key(&k, 0);
    make_value(&v, 0, 100);
    ck_assert_int_eq(vlog_add(vl, buf_slice(&k), buf_slice(&v), &ptrs[0]), 0);
    ck_assert_int_eq(vlog_read(vl, &ptrs[0], NULL, &got), 0);
    ck_assert(slice_equal(buf_slice(&got), buf_slice(&v)));
    /* Past what was appended: still corruption. */
    bad = ptrs[0];
    bad.offset = ptrs[0].offset + ptrs[0].length;
    ck_assert_int_eq(vlog_read(vl, &bad, NULL, &got), LSM_ECORRUPT);
    vlog_destroy(vl);

    vl = vlog_create(NULL, dir, 1);
    r.vl = vl;
    ck_assert_int_eq(vlog_new_segment(vl, 10), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, unpushed_reader_main, &r), 0);
    for (i = 0; i < N; i++) {
        make_key(&k, i);
        make_value(&v, i, (size_t)(i * 37) % 5000 + 1);
        ck_assert_int_eq(vlog_add(vl, buf_slice(&k), buf_slice(&v), &ptrs[i]), 0);
        __atomic_store_n(&r.published, i + 1, __ATOMIC_RELEASE);
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(r.bad, 0);
    check_all(vl, ptrs);
    buf_free(&k);
    buf_free(&v);
    buf_free(&got);
    vlog_destroy(vl);
}
END_TEST

/* A pointer beyond what was flushed/sealed is corruption, not a short read. */
START_TEST(test_pointer_beyond_end)
{
    struct vlog_ptr ptrs[N], bad;
    struct vlog *vl = write_segment(ptrs, 1);
    struct buf got = BUF_INIT;
    uint64_t num, size;

    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    bad = ptrs[N - 1];
    bad.offset = size;
    ck_assert_int_eq(vlog_read(vl, &bad, NULL, &got), LSM_ECORRUPT);
    ck_assert(strstr(vlog_last_error(), "beyond") != NULL);
    bad = ptrs[5];
    bad.length += 1;
    ck_assert_int_eq(vlog_read(vl, &bad, NULL, &got), LSM_ECORRUPT);
    buf_free(&got);
    vlog_destroy(vl);
}
END_TEST

/* A damaged pointer whose offset + length wraps around 2^64 (offset near
 * UINT64_MAX) is beyond the segment: LSM_ECORRUPT, not a pread at a
 * negative offset reported as an I/O error (found by fuzz_vlog). */
START_TEST(test_pointer_offset_wraps)
{
    struct vlog_ptr ptrs[N], bad;
    struct vlog *vl = write_segment(ptrs, 1);
    struct buf got = BUF_INIT;
    uint64_t num, size, d;

    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    for (d = 0; d < 64; d += 7) {
        bad = ptrs[3];
        bad.offset = UINT64_MAX - bad.length + 1 + VLOG_FILE_HEADER_SIZE + d;
        ck_assert_int_eq(vlog_read(vl, &bad, NULL, &got), LSM_ECORRUPT);
        ck_assert(strstr(vlog_last_error(), "beyond") != NULL);
    }
    /* The active segment too (a read past its pushed size pushes first). */
    vlog_destroy(vl);
    vl = write_segment(ptrs, 1);
    bad = ptrs[N - 1];
    bad.offset = UINT64_MAX - bad.length + 1 + ptrs[0].offset;
    ck_assert_int_eq(vlog_read(vl, &bad, NULL, &got), LSM_ECORRUPT);
    buf_free(&got);
    vlog_destroy(vl);
}
END_TEST

/* An intact (crc-valid) entry whose snappy header claims a huge length that
 * the pointer does not: LSM_ECORRUPT before anything is allocated for it
 * (it used to size the value buffer, up to 4 GiB; found by fuzz_vlog). */
START_TEST(test_snappy_length_not_trusted)
{
    static const char huge[] = "\x80\x80\x80\x80\x04" "0123456789";  /* 1 GiB */
    struct buf seg = BUF_INIT, got = BUF_INIT;
    char path[4200], h[VLOG_FILE_HEADER_SIZE];
    struct vlog_ptr p;
    struct vlog *vl;
    FILE *f;

    memcpy(h, VLOG_MAGIC, 8);
    encode_fixed64(h + 8, 9);
    buf_append(&seg, h, sizeof h);
    vlog_entry_encode_stored(&seg, slice_cstr("k"), slice_make(huge, sizeof huge - 1),
                             VLOG_FLAG_SNAPPY);
    seg_file(path, sizeof path, 9);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(seg.data, 1, seg.len, f), seg.len);
    fclose(f);

    vl = vlog_create(NULL, dir, 1);
    vlog_seg_add(vl, 9, seg.len);
    memset(&p, 0, sizeof p);
    p.segment = 9;
    p.offset = VLOG_FILE_HEADER_SIZE;
    p.length = (uint32_t)(seg.len - VLOG_FILE_HEADER_SIZE);
    p.value_len = 10;
    ck_assert_int_eq(vlog_read(vl, &p, NULL, &got), LSM_ECORRUPT);
    ck_assert(strstr(vlog_last_error(), "000009.vlog: offset 16") != NULL);
    ck_assert_msg(got.cap < (1u << 20), "%zu bytes reserved for a 10-byte value", got.cap);
    buf_free(&got);
    buf_free(&seg);
    vlog_destroy(vl);
}
END_TEST

static void flip_byte(const char *path, uint64_t off)
{
    FILE *f = fopen(path, "r+b");
    int c;
    ck_assert_ptr_nonnull(f);
    fseek(f, (long)off, SEEK_SET);
    c = fgetc(f);
    fseek(f, (long)off, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
}

/* A flipped byte anywhere in an entry: that read is LSM_ECORRUPT naming the
 * file and the entry's offset; its neighbours still read fine. */
START_TEST(test_checksum_every_byte)
{
    struct vlog_ptr ptrs[N];
    struct vlog *vl = write_segment(ptrs, 1);
    struct buf got = BUF_INIT;
    char path[4200], want[64];
    uint64_t num, size, off;
    int victim = 11;

    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    seg_file(path, sizeof path, 7);
    snprintf(want, sizeof want, "offset %" PRIu64, ptrs[victim].offset);
    for (off = ptrs[victim].offset; off < ptrs[victim].offset + ptrs[victim].length; off++) {
        flip_byte(path, off);
        EXPECT(vlog_read(vl, &ptrs[victim], NULL, &got) == LSM_ECORRUPT, "flip at %" PRIu64
               " not detected", off);
        EXPECT(strstr(vlog_last_error(), "000007.vlog") && strstr(vlog_last_error(), want),
               "message: %s", vlog_last_error());
        EXPECT(vlog_read(vl, &ptrs[victim - 1], NULL, &got) == 0, "neighbour");
        EXPECT(vlog_read(vl, &ptrs[victim + 1], NULL, &got) == 0, "neighbour");
        flip_byte(path, off);
    }
    ck_assert_int_eq(vlog_read(vl, &ptrs[victim], NULL, &got), 0);
    buf_free(&got);
    vlog_destroy(vl);
}
END_TEST

/* The scanner returns every entry in order; cut at every byte offset it
 * returns exactly the entries wholly before the cut and reports a torn tail
 * unless the cut falls between entries. */
START_TEST(test_torn_tail_every_offset)
{
    struct vlog *vl = vlog_create(NULL, dir, 1);
    struct vlog_ptr ptrs[12];
    struct buf k = BUF_INIT, v = BUF_INIT, content = BUF_INIT;
    char path[4200], cut[4300];
    uint64_t num, size, len;
    int i, n = 12;
    FILE *f;

    ck_assert_int_eq(vlog_new_segment(vl, 9), 0);
    for (i = 0; i < n; i++) {
        make_key(&k, i);
        make_value(&v, i, (size_t)(i * 53) % 300 + 1);
        ck_assert_int_eq(vlog_add(vl, buf_slice(&k), buf_slice(&v), &ptrs[i]), 0);
    }
    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    vlog_destroy(vl);
    seg_file(path, sizeof path, 9);
    f = fopen(path, "rb");
    buf_reserve(&content, size);
    content.len = fread(content.data, 1, size, f);
    fclose(f);
    ck_assert_uint_eq(content.len, size);
    snprintf(cut, sizeof cut, "%s/cut.vlog", dir);

    for (len = 0; len <= size; len++) {
        struct vlog_scanner *s;
        struct slice ks, st;
        uint64_t off;
        uint32_t elen;
        int flags, got = 0, rc, whole = 0;

        f = fopen(cut, "wb");
        fwrite(content.data, 1, (size_t)len, f);
        fclose(f);
        rc = vlog_scan_open(NULL, cut, 9, UINT64_MAX, &s);
        if (len < VLOG_FILE_HEADER_SIZE) {
            EXPECT(rc == LSM_ECORRUPT, "short header at %" PRIu64, len);
            continue;
        }
        EXPECT(rc == 0, "open at %" PRIu64 ": %s", len, vlog_last_error());
        while ((rc = vlog_scan_next(s, &ks, &st, &flags, &off, &elen)) == 1) {
            make_key(&k, got);
            EXPECT(slice_equal(ks, buf_slice(&k)), "key %d at cut %" PRIu64, got, len);
            EXPECT(off == ptrs[got].offset && elen == ptrs[got].length, "entry %d place", got);
            got++;
        }
        EXPECT(rc == 0, "scan error");
        for (i = 0; i < n; i++)
            if (ptrs[i].offset + ptrs[i].length <= len)
                whole = i + 1;
        EXPECT(got == whole, "cut %" PRIu64 ": %d entries, expected %d", len, got, whole);
        EXPECT(vlog_scan_end(s) == (whole ? ptrs[whole - 1].offset + ptrs[whole - 1].length
                                          : VLOG_FILE_HEADER_SIZE), "end");
        EXPECT(vlog_scan_torn(s) == (vlog_scan_end(s) != len), "torn flag at %" PRIu64, len);
        vlog_scan_close(s);
    }
    /* A wrong segment number in the header is corruption. */
    {
        struct vlog_scanner *s;
        ck_assert_int_eq(vlog_scan_open(NULL, path, 8, UINT64_MAX, &s), LSM_ECORRUPT);
    }
    buf_free(&k);
    buf_free(&v);
    buf_free(&content);
}
END_TEST

/* A damaged entry in the middle stops the scan there (the caller decides
 * whether that is a torn tail or corruption). */
START_TEST(test_scan_stops_at_damage)
{
    struct vlog_ptr ptrs[N];
    struct vlog *vl = write_segment(ptrs, 1);
    struct vlog_scanner *s;
    struct slice ks, st;
    char path[4200];
    uint64_t num, size, off;
    uint32_t elen;
    int flags, n = 0;

    ck_assert_int_eq(vlog_seal(vl, &num, &size), 0);
    vlog_destroy(vl);
    seg_file(path, sizeof path, 7);
    flip_byte(path, ptrs[50].offset + 20);
    ck_assert_int_eq(vlog_scan_open(NULL, path, 7, size, &s), 0);
    while (vlog_scan_next(s, &ks, &st, &flags, &off, &elen) == 1)
        n++;
    ck_assert_int_eq(n, 50);
    ck_assert(vlog_scan_torn(s));
    ck_assert_uint_eq(vlog_scan_end(s), ptrs[50].offset);
    ck_assert(strstr(vlog_scan_why(s), "checksum") != NULL);
    vlog_scan_close(s);
}
END_TEST

/* Compaction's discard accounting: each dropped pointer adds its entry
 * length to its segment, merged into one record per segment. */
/* After a run of values snappy cannot shrink, most are stored without a
 * snappy attempt; a compressible value is tried within 16 and ends the run;
 * everything reads back. */
START_TEST(test_incompressible_run_skips_snappy)
{
    struct vlog *vl = vlog_create(NULL, dir, 1);
    struct buf k = BUF_INIT, v = BUF_INIT, got = BUF_INIT;
    struct vlog_ptr p[64];
    char zeros[4000];
    uint64_t x = 99;
    int i;

    memset(zeros, 'z', sizeof zeros);
    ck_assert_int_eq(vlog_new_segment(vl, 3), 0);
    for (i = 0; i < 64; i++) {
        make_key(&k, i);
        buf_clear(&v);
        if (i < 8) {
            for (int j = 0; j < 4000; j++) {      /* random: incompressible */
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                buf_append_byte(&v, (char)(x >> 56));
            }
        } else {
            buf_append(&v, zeros, sizeof zeros);  /* compresses well */
        }
        ck_assert_int_eq(vlog_add(vl, buf_slice(&k), buf_slice(&v), &p[i]), 0);
    }
    ck_assert_int_eq(vlog_flush(vl), 0);
    /* Entries 8..23: stored raw (no attempt) for 15 of them, then one
     * attempt that compresses; all later ones compress. */
    int raw = 0;
    for (i = 8; i < 24; i++)
        raw += p[i].length > 4000;
    ck_assert_int_eq(raw, 15);
    for (i = 24; i < 64; i++)
        ck_assert_uint_lt(p[i].length, 1000);
    for (i = 0; i < 64; i++) {
        make_key(&k, i);
        buf_clear(&got);
        ck_assert_int_eq(vlog_read(vl, &p[i], NULL, &got), 0);
        ck_assert_uint_eq(got.len, 4000);
    }
    vlog_destroy(vl);
    buf_free(&k);
    buf_free(&v);
    buf_free(&got);
}
END_TEST

START_TEST(test_discard_add)
{
    struct version_edit e;
    struct vlog_ptr p;
    struct buf b = BUF_INIT;
    uint64_t want[3] = { 0, 0, 0 };
    int i, j;

    version_edit_init(&e);
    memset(&p, 0, sizeof p);
    for (i = 0; i < 30; i++) {
        p.segment = 10 + (uint64_t)(i % 3);
        p.offset = 16 + (uint64_t)i * 100;
        p.length = 50 + (uint32_t)i;
        p.value_len = 20;
        buf_clear(&b);
        vlog_ptr_encode(&p, &b);
        vlog_discard_add(&e, buf_slice(&b));
        want[i % 3] += p.length;
    }
    vlog_discard_add(&e, slice_make("\xff", 1));    /* malformed: ignored */
    ck_assert_int_eq(e.nvlog_discard, 3);
    for (j = 0; j < 3; j++) {
        for (i = 0; i < e.nvlog_discard; i++)
            if (e.vlog_discard[i].number == 10 + (uint64_t)j)
                ck_assert_uint_eq(e.vlog_discard[i].value, want[j]);
    }
    version_edit_free(&e);
    buf_free(&b);
}
END_TEST

static Suite *vlog_suite(void)
{
    Suite *s = suite_create("vlog");
    TCase *tc = tcase_create("format");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ptr_roundtrip);
    tcase_add_test(tc, test_entry_roundtrip);
    tcase_add_loop_test(tc, test_write_read, 0, 2);
    tcase_add_test(tc, test_pointer_beyond_end);
    tcase_add_test(tc, test_pointer_offset_wraps);
    tcase_add_test(tc, test_snappy_length_not_trusted);
    tcase_add_test(tc, test_read_unpushed);
    tcase_add_test(tc, test_checksum_every_byte);
    tcase_add_test(tc, test_torn_tail_every_offset);
    tcase_add_test(tc, test_scan_stops_at_damage);
    tcase_add_test(tc, test_incompressible_run_skips_snappy);
    tcase_add_test(tc, test_discard_add);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vlog_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
