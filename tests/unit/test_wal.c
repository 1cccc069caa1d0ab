/* test_wal: the log format. Round trips of every size class, trailers, torn
 * tails at every byte offset, bit flips, tolerant mode, injected faults. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "engine/wal.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define BLOCK WAL_BLOCK_SIZE
#define HDR WAL_HEADER_SIZE

/* Check reports every passing ck_assert to its parent process (a write per
 * assertion); in the hot loops only a failure is reported. */
#define EXPECT(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)
#define EXPECT_EQ(a, b) \
    EXPECT((a) == (b), "%s:%d: %s == %s failed (%lld vs %lld)", __FILE__, __LINE__, \
           #a, #b, (long long)(a), (long long)(b))

/* ---- helpers ---- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/test_wal.XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_entry(const char *name, void *arg)
{
    char p[512];

    (void)arg;
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    unlink(p);
    return 0;
}

static void remove_tmpdir(void)
{
    io_list_dir(io_env_posix(), tmpdir, rm_entry, NULL);
    rmdir(tmpdir);
}

static const char *tpath(const char *name)
{
    static char p[512];

    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return p;
}

static unsigned test_seed(const char *name)
{
    const char *env = getenv("SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 4242u;

    printf("# %s SEED=%u\n", name, seed);
    return seed;
}

/* Record i's contents: n bytes from a generator seeded by i. */
static void make_record(struct buf *b, int i, size_t n)
{
    uint32_t x = 2166136261u ^ (uint32_t)i * 16777619u;

    buf_clear(b);
    buf_reserve(b, n);
    for (size_t j = 0; j < n; j++) {
        x = x * 1103515245u + 12345u;
        b->data[j] = (char)(x >> 16);
    }
    b->len = n;
}

/* Expected contents, generated once per (index, size). */
#define CACHED 256
static struct buf expected[CACHED];
static size_t expected_len[CACHED];
static int expected_set[CACHED];

static int record_is(const struct buf *got, int i, size_t n)
{
    struct buf tmp = BUF_INIT, *want = &tmp;
    int ok;

    if (got->len != n)
        return 0;
    if (i < CACHED) {
        want = &expected[i];
        if (!expected_set[i] || expected_len[i] != n) {
            make_record(want, i, n);
            expected_len[i] = n;
            expected_set[i] = 1;
        }
    } else {
        make_record(want, i, n);
    }
    ok = n == 0 || memcmp(got->data, want->data, n) == 0;
    buf_free(&tmp);
    return ok;
}

/* Writes records (sizes[0..n)) to path; ends[i] = file offset after record i. */
static void write_log(struct io_env *env, const char *path, const size_t *sizes,
                      int n, uint64_t *ends)
{
    struct wal_writer *w;
    struct buf rec = BUF_INIT;

    EXPECT_EQ(wal_writer_open(env, path, &w), 0);
    for (int i = 0; i < n; i++) {
        make_record(&rec, i, sizes[i]);
        EXPECT_EQ(wal_writer_add(w, buf_slice(&rec)), 0);
        if (ends)
            ends[i] = wal_writer_size(w);
    }
    EXPECT_EQ(wal_writer_flush(w), 0);   /* readers see it; no fsync needed */
    EXPECT_EQ(wal_writer_close(w), 0);
    buf_free(&rec);
}

struct read_result {
    int rc;             /* final return of wal_reader_next */
    int count;          /* records returned */
    int torn;
    uint64_t torn_off;
    uint64_t dropped;
    uint64_t end_off;
    char err[512];
};

/* Reads the whole log. Strict: every record returned must be the next
 * expected one. Tolerant: a subsequence of the expected records. */
static void read_log(struct io_env *env, const char *path, int flags,
                     const size_t *sizes, int n, struct read_result *res)
{
    struct wal_reader *r;
    struct buf rec = BUF_INIT;
    int next = 0, rc;

    memset(res, 0, sizeof(*res));
    EXPECT_EQ(wal_reader_open(env, path, flags, &r), 0);
    while ((rc = wal_reader_next(r, &rec)) == 1) {
        if (flags & WAL_READ_TOLERANT) {
            while (next < n && !record_is(&rec, next, sizes[next]))
                next++;
        }
        EXPECT(next < n && record_is(&rec, next, sizes[next]),
                      "%s: record %d (len %zu) is wrong data", path, next, rec.len);
        next++;
        res->count++;
    }
    /* The end is sticky. */
    EXPECT_EQ(wal_reader_next(r, &rec), rc);
    res->rc = rc;
    res->torn = wal_reader_torn(r, &res->torn_off);
    res->dropped = wal_reader_dropped_bytes(r);
    res->end_off = wal_reader_end_offset(r);
    snprintf(res->err, sizeof(res->err), "%s", wal_reader_error(r));
    wal_reader_close(r);
    buf_free(&rec);
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    size_t n = (size_t)file_size(path);
    char *p = zmalloc(n + 1);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, p, n, 0), (ssize_t)n);
    close(fd);
    *len = n;
    return p;
}

/* ---- round trips ---- */

static const size_t size_classes[] = {
    0, 1, 7, 100, 1000, BLOCK - HDR, BLOCK - HDR + 1, BLOCK - 2 * HDR, BLOCK,
    2 * BLOCK, 100000, 0, 3, 20000, 40000, 1 << 20, 12, BLOCK - HDR - 3, 0, 5,
};
#define NCLASSES ((int)(sizeof(size_classes) / sizeof(size_classes[0])))

START_TEST(test_round_trip_size_classes)
{
    uint64_t ends[NCLASSES];
    struct read_result res;
    struct wal_reader *r;
    struct buf rec = BUF_INIT;

    make_tmpdir();
    write_log(NULL, tpath("a.wal"), size_classes, NCLASSES, ends);
    ck_assert_uint_eq(file_size(tpath("a.wal")), ends[NCLASSES - 1]);
    read_log(NULL, tpath("a.wal"), WAL_READ_STRICT, size_classes, NCLASSES, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, NCLASSES);
    ck_assert_int_eq(res.torn, 0);
    ck_assert_uint_eq(res.dropped, 0);
    ck_assert_uint_eq(res.end_off, ends[NCLASSES - 1]);

    /* Offsets of each record. */
    ck_assert_int_eq(wal_reader_open(NULL, tpath("a.wal"), 0, &r), 0);
    for (int i = 0; i < NCLASSES; i++) {
        ck_assert_int_eq(wal_reader_next(r, &rec), 1);
        ck_assert_uint_eq(wal_reader_end_offset(r), ends[i]);
        ck_assert_uint_lt(wal_reader_record_offset(r), ends[i]);
        if (i > 0)
            ck_assert_uint_ge(wal_reader_record_offset(r), ends[i - 1]);
    }
    ck_assert_int_eq(wal_reader_next(r, &rec), 0);
    ck_assert_str_eq(wal_reader_error(r), "");
    wal_reader_close(r);

    /* An empty log is a clean end; a missing one is LSM_ENOENT. */
    write_log(NULL, tpath("empty.wal"), NULL, 0, NULL);
    read_log(NULL, tpath("empty.wal"), 0, NULL, 0, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.torn, 0);
    ck_assert_int_eq(wal_reader_open(NULL, tpath("missing.wal"), 0, &r), LSM_ENOENT);
    ck_assert_ptr_null(r);
    buf_free(&rec);
    remove_tmpdir();
}
END_TEST

START_TEST(test_block_trailer)
{
    make_tmpdir();
    /* First record leaves k bytes in block 0; k < 7 is zero padding. */
    for (size_t k = 0; k <= 14; k++) {
        size_t sizes[3] = { BLOCK - HDR - k, 5, 0 };
        uint64_t ends[3];
        struct read_result res;
        size_t len;
        char *data;

        write_log(NULL, tpath("t.wal"), sizes, 3, ends);
        ck_assert_uint_eq(ends[0], BLOCK - k);
        if (k < HDR) {
            /* Padding, then a FULL record at the start of block 1. */
            ck_assert_uint_eq(ends[1], BLOCK + HDR + 5);
            data = slurp(tpath("t.wal"), &len);
            for (size_t j = BLOCK - k; j < BLOCK; j++)
                ck_assert_int_eq(data[j], 0);
            zfree(data);
        } else if (k - HDR >= 5) {
            ck_assert_uint_eq(ends[1], BLOCK - k + HDR + 5);
        } else {
            /* FIRST with k - 7 bytes (maybe none), LAST in block 1. */
            ck_assert_uint_eq(ends[1], BLOCK + HDR + 5 - (k - HDR));
        }
        if (BLOCK - ends[1] % BLOCK < HDR)
            ck_assert_uint_eq(ends[2], (ends[1] / BLOCK + 1) * BLOCK + HDR);
        else
            ck_assert_uint_eq(ends[2], ends[1] + HDR);
        read_log(NULL, tpath("t.wal"), 0, sizes, 3, &res);
        ck_assert_int_eq(res.rc, 0);
        ck_assert_int_eq(res.count, 3);
        ck_assert_int_eq(res.torn, 0);
    }
    remove_tmpdir();
}
END_TEST

START_TEST(test_header_layout)
{
    static const size_t sizes[] = { 3, 40000 };
    size_t len;
    char *d;

    make_tmpdir();
    write_log(NULL, tpath("h.wal"), sizes, 2, NULL);
    d = slurp(tpath("h.wal"), &len);
    /* FULL "abc"-sized record at 0: length 3, type 1. */
    ck_assert_uint_eq(decode_fixed16(d + 4), 3);
    ck_assert_int_eq(d[6], WAL_FULL);
    /* Second record: FIRST fills the rest of block 0, LAST starts block 1. */
    ck_assert_int_eq(d[10 + 6], WAL_FIRST);
    ck_assert_uint_eq(decode_fixed16(d + 10 + 4), BLOCK - 10 - HDR);
    ck_assert_int_eq(d[BLOCK + 6], WAL_LAST);
    ck_assert_uint_eq(decode_fixed16(d + BLOCK + 4), 40000 - (BLOCK - 10 - HDR));
    ck_assert_uint_eq(len, BLOCK + HDR + 40000 - (BLOCK - 10 - HDR));
    zfree(d);
    remove_tmpdir();
}
END_TEST

/* ---- torn tails ---- */

/* Every prefix of the log in [from, size], with stride 1 from `dense` on:
 * the records that fit are read intact, then a clean end; a cut inside a
 * record is a torn tail at the end of the last complete one. */
static void sweep_prefixes(const size_t *sizes, int n, uint64_t dense, size_t stride)
{
    uint64_t *ends = zmalloc(sizeof(uint64_t) * (size_t)n);
    char *data;
    size_t len, written = 0;
    int fd;

    write_log(NULL, tpath("full.wal"), sizes, n, ends);
    data = slurp(tpath("full.wal"), &len);
    fd = open(tpath("cut.wal"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    EXPECT((fd) >= (0), "line %d", __LINE__);
    for (size_t cut = 0; cut <= len; cut += (cut < dense ? stride : 1)) {
        struct read_result res;
        int complete = 0;
        uint64_t last_end = 0;

        EXPECT_EQ(pwrite(fd, data + written, cut - written, (off_t)written),
                         (ssize_t)(cut - written));
        written = cut;
        while (complete < n && ends[complete] <= cut)
            last_end = ends[complete++];
        read_log(NULL, tpath("cut.wal"), WAL_READ_STRICT, sizes, n, &res);
        EXPECT(res.rc == 0, "cut at %zu: rc %d (%s)", cut, res.rc, res.err);
        EXPECT(res.count == complete, "cut at %zu: %d records, want %d",
                      cut, res.count, complete);
        if (cut == last_end)
            EXPECT(!res.torn, "cut at record end %zu reported torn", cut);
        if (res.torn) {
            EXPECT_EQ(res.torn_off, last_end);
            EXPECT_EQ(res.dropped, cut - last_end);
        } else {
            /* Only trailer padding may follow the last record. */
            EXPECT(cut - last_end < HDR, "cut at %zu: not torn, %" PRIu64
                          " bytes after the last record", cut, cut - last_end);
        }
        /* The same holds in tolerant mode. */
        if (cut % 7 == 0) {
            struct read_result t;
            read_log(NULL, tpath("cut.wal"), WAL_READ_TOLERANT, sizes, n, &t);
            EXPECT_EQ(t.rc, 0);
            EXPECT_EQ(t.count, complete);
        }
    }
    close(fd);
    zfree(data);
    zfree(ends);
}

START_TEST(test_torn_tail_every_offset)
{
    /* ~2.3 blocks: small records, one spanning blocks, a trailer case. */
    static const size_t sizes[] = { 0, 100, 5000, 40000, 10, 0, 3000,
                                    BLOCK - 3000, 7, 20, 1500 };
    int n = (int)(sizeof(sizes) / sizeof(sizes[0]));
    size_t total = 0;

    for (int i = 0; i < n; i++)
        total += sizes[i] + HDR;
    make_tmpdir();
    /* Every byte offset of the last two blocks and more. */
    sweep_prefixes(sizes, n, total > 2 * BLOCK + 10000 ? total - 2 * BLOCK - 10000 : 0, 61);
    remove_tmpdir();
}
END_TEST

START_TEST(test_torn_tail_large_record)
{
    static const size_t sizes[] = { 10, 1 << 20, 5 };

    make_tmpdir();
    /* Stride through the 1 MB record (each read checks ~1 MB), every
     * offset of its last fragment and of the record after it. */
    sweep_prefixes(sizes, 3, (1 << 20) + 10 + 5 + 33 * HDR + 12 - 400, 997);
    remove_tmpdir();
}
END_TEST

START_TEST(test_append_after_torn_tail)
{
    static const size_t sizes[] = { 100, 50000, 30, 70000 };
    struct read_result res;
    struct io_file *f;
    struct wal_writer *w;
    struct buf rec = BUF_INIT;
    uint64_t ends[4];

    make_tmpdir();
    write_log(NULL, tpath("x.wal"), sizes, 4, ends);
    /* Crash in the middle of record 3. */
    ck_assert_int_eq(truncate(tpath("x.wal"), (off_t)(ends[2] + 40000)), 0);
    read_log(NULL, tpath("x.wal"), 0, sizes, 4, &res);
    ck_assert_int_eq(res.count, 3);
    ck_assert(res.torn);
    ck_assert_uint_eq(res.torn_off, ends[2]);
    /* Recovery contract: cut at the torn offset, then append. */
    ck_assert_int_eq(io_truncate(io_env_posix(), tpath("x.wal"), res.torn_off), 0);
    ck_assert_int_eq(io_open_append_existing(io_env_posix(), tpath("x.wal"), &f), 0);
    w = wal_writer_create(f, res.torn_off);
    make_record(&rec, 3, sizes[3]);
    ck_assert_int_eq(wal_writer_add(w, buf_slice(&rec)), 0);
    ck_assert_int_eq(wal_writer_close(w), 0);
    read_log(NULL, tpath("x.wal"), 0, sizes, 4, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 4);
    ck_assert(!res.torn);
    buf_free(&rec);
    remove_tmpdir();
}
END_TEST

START_TEST(test_zeroed_tail)
{
    /* Zeros after the last complete record (space allocated ahead by a
     * mapped writer, or a file a crash left longer than its data) are the
     * clean end of the log: nothing was lost, nothing is dropped. Zeros
     * over the end of the last record make it a torn tail. */
    static const size_t sizes[] = { 100, 200, 40000 };
    struct read_result res;
    uint64_t ends[3];
    char zeros[5] = { 0 };
    int fd;

    make_tmpdir();
    write_log(NULL, tpath("z.wal"), sizes, 3, ends);
    ck_assert_int_eq(truncate(tpath("z.wal"), (off_t)(ends[2] + 3 * BLOCK + 123)), 0);
    read_log(NULL, tpath("z.wal"), 0, sizes, 3, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 3);
    ck_assert(!res.torn);
    ck_assert_uint_eq(res.dropped, 0);
    ck_assert_uint_eq(res.end_off, ends[2]);

    fd = open(tpath("z.wal"), O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, zeros, sizeof zeros, (off_t)(ends[2] - sizeof zeros)), 5);
    close(fd);
    read_log(NULL, tpath("z.wal"), 0, sizes, 2, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 2);
    ck_assert(res.torn);
    ck_assert_uint_eq(res.torn_off, ends[1]);
    remove_tmpdir();
}
END_TEST

START_TEST(test_mapped_reservation_fails_whole)
{
    /* A record whose space cannot be allocated (here a file-size limit:
     * fallocate fails with EFBIG) fails before any byte of it is written,
     * and the writer stays usable: once the limit is lifted the next
     * records go in, and the log reads back without a gap or a tear. */
    enum { N = 40, LIMIT = 100000 };
    size_t sizes[N];
    struct read_result res;
    struct wal_writer *w;
    struct buf rec = BUF_INIT;
    struct rlimit old, rl;
    int i, n = 0, failed = 0;

    for (i = 0; i < N; i++)
        sizes[i] = 9000 + (size_t)i;
    make_tmpdir();
    EXPECT_EQ(wal_writer_open(NULL, tpath("r.wal"), &w), 0);
    if (wal_writer_map(w, 1 << 20, 64 << 10) != 0) {      /* a kernel before 5.14 */
        wal_writer_close(w);
        remove_tmpdir();
        return;
    }
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    rl = old;
    rl.rlim_cur = LIMIT;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    while (n < N && !failed) {
        uint64_t before = wal_writer_size(w);
        make_record(&rec, n, sizes[n]);
        if (wal_writer_add(w, buf_slice(&rec)) != 0) {
            failed = 1;
            ck_assert_uint_eq(wal_writer_size(w), before);   /* nothing of it */
            ck_assert_int_eq(wal_writer_error(w), 0);         /* not sticky */
        } else {
            n++;
        }
    }
    ck_assert(failed);
    ck_assert_uint_le(wal_writer_size(w), LIMIT);
    ck_assert_int_gt(n, 5);                  /* exact reservations got close */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    for (; n < N; n++) {
        make_record(&rec, n, sizes[n]);
        EXPECT_EQ(wal_writer_add(w, buf_slice(&rec)), 0);
    }
    EXPECT_EQ(wal_writer_close(w), 0);
    read_log(NULL, tpath("r.wal"), 0, sizes, N, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, N);
    ck_assert(!res.torn);
    buf_free(&rec);
    remove_tmpdir();
}
END_TEST

START_TEST(test_mapped_writer)
{
    /* wal_writer_map: records go into the page cache without a flush
     * (another handle reads them at once), the file holds allocated zeros
     * after them, a record past the mapping is written with pwrite, and
     * the reader ends cleanly at the zeros. */
    enum { N = 60 };
    size_t sizes[N];
    struct read_result res;
    struct wal_writer *w;
    struct buf rec = BUF_INIT;
    struct stat st;
    uint64_t total = 0;
    int i;

    for (i = 0; i < N; i++)
        sizes[i] = i % 10 == 9 ? 70000 : (size_t)(i * 37 % 3000);
    make_tmpdir();
    EXPECT_EQ(wal_writer_open(NULL, tpath("m.wal"), &w), 0);
    EXPECT_EQ(wal_writer_map(w, 256 << 10, 64 << 10), 0);
    for (i = 0; i < N; i++) {
        make_record(&rec, i, sizes[i]);
        EXPECT_EQ(wal_writer_add(w, buf_slice(&rec)), 0);
        total += sizes[i];
        ck_assert_uint_ge(wal_writer_allocated(w), wal_writer_size(w));
        if (i == N / 2) {
            /* no flush: the bytes are in the OS already */
            read_log(NULL, tpath("m.wal"), 0, sizes, i + 1, &res);
            ck_assert_int_eq(res.count, i + 1);
            ck_assert(!res.torn);
        }
    }
    ck_assert_uint_gt(wal_writer_size(w), 256 << 10);       /* past the mapping */
    ck_assert_int_eq(stat(tpath("m.wal"), &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, wal_writer_allocated(w));
    read_log(NULL, tpath("m.wal"), 0, sizes, N, &res);
    ck_assert_int_eq(res.count, N);
    ck_assert(!res.torn);
    ck_assert_uint_eq(res.end_off, wal_writer_size(w));
    EXPECT_EQ(wal_writer_sync(w), 0);
    EXPECT_EQ(wal_writer_close(w), 0);
    read_log(NULL, tpath("m.wal"), 0, sizes, N, &res);
    ck_assert_int_eq(res.count, N);
    ck_assert(!res.torn);
    ck_assert_uint_gt(total, 0);
    buf_free(&rec);
    remove_tmpdir();
}
END_TEST

START_TEST(test_hole_in_last_record_is_torn)
{
    /* Unsynced pages reach the disk in any order: a zeroed block inside the
     * last record, with later fragments of that record intact, is a torn
     * tail. The same hole with another record after it is corruption. */
    static const size_t sizes[] = { 100, 5 * BLOCK, 50 };
    struct read_result res;
    uint64_t ends[3];
    char zeros[BLOCK];
    int fd;

    memset(zeros, 0, sizeof(zeros));
    make_tmpdir();
    write_log(NULL, tpath("h.wal"), sizes, 2, ends);
    fd = open(tpath("h.wal"), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, zeros, BLOCK, 2 * BLOCK), BLOCK);
    close(fd);
    read_log(NULL, tpath("h.wal"), WAL_READ_STRICT, sizes, 2, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 1);
    ck_assert(res.torn);
    ck_assert_uint_eq(res.torn_off, ends[0]);

    write_log(NULL, tpath("h.wal"), sizes, 3, ends);
    fd = open(tpath("h.wal"), O_WRONLY);
    ck_assert_int_eq(pwrite(fd, zeros, BLOCK, 2 * BLOCK), BLOCK);
    close(fd);
    read_log(NULL, tpath("h.wal"), WAL_READ_STRICT, sizes, 3, &res);
    ck_assert_int_eq(res.rc, LSM_ECORRUPT);
    ck_assert_int_eq(res.count, 1);
    {
        char want[64];
        snprintf(want, sizeof(want), "h.wal: offset %d: ", 2 * BLOCK);
        ck_assert_msg(strstr(res.err, want) != NULL, "message: %s", res.err);
    }
    read_log(NULL, tpath("h.wal"), WAL_READ_TOLERANT, sizes, 3, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 2);      /* records 0 and 2 */
    ck_assert(!res.torn);
    ck_assert_uint_gt(res.dropped, 4 * BLOCK);
    remove_tmpdir();
}
END_TEST

/* ---- bit flips ---- */

/* Fragment header offsets of a valid log (walks the framing). */
static int frag_starts(const char *d, size_t len, uint64_t *starts, int max)
{
    size_t pos = 0;
    int n = 0;

    while (pos < len && n < max) {
        if (BLOCK - pos % BLOCK < HDR) {
            pos += BLOCK - pos % BLOCK;
            continue;
        }
        starts[n++] = pos;
        pos += HDR + decode_fixed16(d + pos + 4);
    }
    return n;
}

/* Which fragment holds byte off (-1 for trailer padding). */
static int frag_of(const uint64_t *starts, int nf, const char *d, uint64_t off)
{
    for (int i = 0; i < nf; i++)
        if (off >= starts[i] && off < starts[i] + HDR + decode_fixed16(d + starts[i] + 4))
            return i;
    return -1;
}

START_TEST(test_bit_flips)
{
    /* Block 0 full, block 1 partly used; records span the boundary. */
    static const size_t sizes[] = { 50, 3000, 10, 20000, 0, 15000, 200, 1000 };
    const int n = (int)(sizeof(sizes) / sizeof(sizes[0]));
    uint64_t ends[8], starts[64];
    size_t len;
    char *d;
    int fd, nf;
    unsigned long corrupt = 0, clean = 0;

    make_tmpdir();
    write_log(NULL, tpath("f.wal"), sizes, n, ends);
    d = slurp(tpath("f.wal"), &len);
    nf = frag_starts(d, len, starts, 64);
    EXPECT((len) > (BLOCK), "line %d", __LINE__);
    fd = open(tpath("f.wal"), O_WRONLY);
    EXPECT((fd) >= (0), "line %d", __LINE__);
    for (uint64_t off = 0; off < len; off++) {
        int fi = frag_of(starts, nf, d, off);
        int in_len_field = fi >= 0 && off >= starts[fi] + 4 && off < starts[fi] + 6;
        int last_frag = fi == nf - 1;
        /* Every bit of block 0; one bit a byte (rotating) in block 1. */
        for (int bit = 0; bit < 8; bit++) {
            struct read_result res;
            char c;

            if (off >= BLOCK && bit != (int)(off % 8))
                continue;
            c = (char)(d[off] ^ (1 << bit));
            EXPECT_EQ(pwrite(fd, &c, 1, (off_t)off), 1);
            read_log(NULL, tpath("f.wal"), WAL_READ_STRICT, sizes, n, &res);
            EXPECT(res.rc == 0 || res.rc == LSM_ECORRUPT,
                          "flip %" PRIu64 ".%d: rc %d", off, bit, res.rc);
            if (fi < 0) {
                /* Trailer padding is ignored. */
                EXPECT_EQ(res.rc, 0);
                EXPECT_EQ(res.count, n);
            } else if (!last_frag) {
                /* Valid data follows the damage (also when the damage is in
                 * a length field, which hides where it resumes): reported,
                 * with place. */
                EXPECT(res.rc == LSM_ECORRUPT, "flip %" PRIu64 ".%d not reported",
                              off, bit);
                EXPECT(strstr(res.err, "f.wal: offset ") != NULL, "line %d", __LINE__);
            } else if (last_frag) {
                EXPECT_EQ(res.rc, 0);
                EXPECT(res.torn, "line %d", __LINE__);
                EXPECT_EQ(res.count, n - 1);
                EXPECT_EQ(res.torn_off, ends[n - 2]);
            }
            if (res.rc == LSM_ECORRUPT)
                corrupt++;
            else
                clean++;
            /* Tolerant mode: skips the damage, returns only intact records. */
            if (bit == 0 || off >= BLOCK) {
                struct read_result t;
                read_log(NULL, tpath("f.wal"), WAL_READ_TOLERANT, sizes, n, &t);
                EXPECT_EQ(t.rc, 0);
                if (fi >= 0) {
                    EXPECT((t.count) < (n), "line %d", __LINE__);
                    EXPECT((t.dropped) > (0), "line %d", __LINE__);
                }
                if (fi >= 0 && !in_len_field && !last_frag)
                    EXPECT((t.count) >= (n - 2), "line %d", __LINE__);   /* only the hit record lost */
            }
            EXPECT_EQ(pwrite(fd, d + off, 1, (off_t)off), 1);
        }
    }
    printf("# bit flips: %lu reported corrupt, %lu clean stops\n", corrupt, clean);
    close(fd);
    zfree(d);
    remove_tmpdir();
}
END_TEST

START_TEST(test_length_flip_in_last_block)
{
    /* One block, 100 small records (a WAL of 100 synced writes): a flipped
     * bit in a fragment's length makes that fragment look cut by the end of
     * the file, or misplaces the next one. Records follow the damage, so it
     * is corruption (strict), never a torn tail that drops them; tolerant
     * mode resumes at the next record. */
    enum { N = 100 };
    size_t sizes[N];
    uint64_t ends[N];
    size_t len;
    char *d;
    int fd;

    for (int i = 0; i < N; i++)
        sizes[i] = 60 + (size_t)i;
    make_tmpdir();
    write_log(NULL, tpath("l.wal"), sizes, N, ends);
    d = slurp(tpath("l.wal"), &len);
    ck_assert_uint_lt(len, BLOCK);
    fd = open(tpath("l.wal"), O_WRONLY);
    ck_assert_int_ge(fd, 0);
    for (int rec = 0; rec < N - 1; rec += 7) {
        uint64_t start = rec ? ends[rec - 1] : 0;
        for (int bit = 0; bit < 16; bit++) {
            uint64_t off = start + 4 + (uint64_t)(bit / 8);
            char c = (char)(d[off] ^ (1 << (bit % 8)));
            struct read_result res;
            char want[64];

            ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
            read_log(NULL, tpath("l.wal"), WAL_READ_STRICT, sizes, N, &res);
            ck_assert_msg(res.rc == LSM_ECORRUPT, "record %d length bit %d: rc %d, %d records,"
                          " torn %d (%s)", rec, bit, res.rc, res.count, res.torn, res.err);
            ck_assert_int_eq(res.count, rec);
            ck_assert_uint_eq(res.end_off, start);
            snprintf(want, sizeof(want), "l.wal: offset %" PRIu64 ": ", start);
            ck_assert_msg(strstr(res.err, want) != NULL, "message: %s", res.err);

            read_log(NULL, tpath("l.wal"), WAL_READ_TOLERANT, sizes, N, &res);
            ck_assert_int_eq(res.rc, 0);
            ck_assert_int_eq(res.count, N - 1);     /* only the damaged record lost */
            ck_assert_uint_eq(res.dropped, sizes[rec] + HDR);
            ck_assert_int_eq(pwrite(fd, d + off, 1, (off_t)off), 1);
        }
    }
    /* The same flips in the last record: nothing follows, a torn tail. */
    for (int bit = 0; bit < 16; bit++) {
        uint64_t off = ends[N - 2] + 4 + (uint64_t)(bit / 8);
        char c = (char)(d[off] ^ (1 << (bit % 8)));
        struct read_result res;

        ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
        read_log(NULL, tpath("l.wal"), WAL_READ_STRICT, sizes, N, &res);
        ck_assert_int_eq(res.rc, 0);
        ck_assert(res.torn);
        ck_assert_int_eq(res.count, N - 1);
        ck_assert_uint_eq(res.torn_off, ends[N - 2]);
        ck_assert_int_eq(pwrite(fd, d + off, 1, (off_t)off), 1);
    }
    close(fd);
    zfree(d);
    remove_tmpdir();
}
END_TEST

START_TEST(test_corruption_message_and_tolerant_skip)
{
    static const size_t sizes[] = { 100, 100, 40000, 100, 100 };
    struct read_result res;
    uint64_t ends[5];
    size_t len;
    char *d;
    int fd;

    make_tmpdir();
    write_log(NULL, tpath("c.wal"), sizes, 5, ends);
    d = slurp(tpath("c.wal"), &len);
    fd = open(tpath("c.wal"), O_WRONLY);
    /* Damage the payload of record 1 (starts at ends[0]). */
    ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)(ends[0] + HDR + 10)), 1);
    close(fd);
    read_log(NULL, tpath("c.wal"), WAL_READ_STRICT, sizes, 5, &res);
    ck_assert_int_eq(res.rc, LSM_ECORRUPT);
    ck_assert_int_eq(res.count, 1);
    {
        char want[128];
        snprintf(want, sizeof(want), "c.wal: offset %" PRIu64 ": ", ends[0]);
        ck_assert_msg(strstr(res.err, want) != NULL, "message: %s", res.err);
        ck_assert(strstr(res.err, "checksum") != NULL);
    }
    read_log(NULL, tpath("c.wal"), WAL_READ_TOLERANT, sizes, 5, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, 4);
    ck_assert_uint_eq(res.dropped, 100 + HDR);
    ck_assert(!res.torn);
    zfree(d);
    remove_tmpdir();
}
END_TEST

/* ---- injected faults ---- */

START_TEST(test_fault_crash_keeps_synced_records)
{
    unsigned seed = test_seed("test_fault_crash_keeps_synced_records");
    struct io_env *env = io_env_fault_create(io_env_posix());
    size_t sizes[64];
    struct buf rec = BUF_INIT;

    make_tmpdir();
    srand(seed);
    for (int round = 0; round < 40; round++) {
        struct wal_writer *w;
        struct read_result res;
        int n = 1 + rand() % 40, synced = 0;

        for (int i = 0; i < n; i++)
            sizes[i] = size_classes[rand() % NCLASSES] % 70000;
        ck_assert_int_eq(wal_writer_open(env, tpath("r.wal"), &w), 0);
        ck_assert_int_eq(io_sync_dir(env, tmpdir), 0);
        for (int i = 0; i < n; i++) {
            make_record(&rec, i, sizes[i]);
            ck_assert_int_eq(wal_writer_add(w, buf_slice(&rec)), 0);
            if (rand() % 4 == 0) {
                ck_assert_int_eq(wal_writer_sync(w), 0);
                synced = i + 1;
            } else if (rand() % 3 == 0) {
                ck_assert_int_eq(wal_writer_flush(w), 0);
            }
        }
        io_env_fault_crash(env);
        /* The writer of the dead "machine" fails, never crashes. */
        ck_assert_int_ne(wal_writer_add(w, buf_slice(&rec)), 0);
        wal_writer_close(w);
        io_env_fault_reset(env);
        read_log(env, tpath("r.wal"), WAL_READ_STRICT, sizes, n, &res);
        ck_assert_int_eq(res.rc, 0);
        ck_assert_msg(res.count >= synced, "round %d: %d records, %d were synced",
                      round, res.count, synced);
    }
    buf_free(&rec);
    io_env_fault_destroy(env);
    remove_tmpdir();
}
END_TEST

/* Writes until an armed fault fails an add; the failure is sticky, and the
 * file holds exactly the records whose add succeeded. */
static void fault_write_run(enum io_fault kind, uint64_t after, int expect_rc)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    static const size_t base[] = { 10, 5000, 40000, 0, 300, 70000, 20 };
    size_t sizes[200];
    struct wal_writer *w;
    struct read_result res;
    struct buf rec = BUF_INIT;
    int ok = 0, rc = 0;

    for (int i = 0; i < 200; i++)
        sizes[i] = base[i % 7];
    ck_assert_int_eq(wal_writer_open(env, tpath("e.wal"), &w), 0);
    io_env_fault_set(env, kind, after, ".wal");
    for (int i = 0; i < 200; i++) {
        make_record(&rec, i, sizes[i]);
        if ((rc = wal_writer_add(w, buf_slice(&rec))) != 0)
            break;
        ok++;
    }
    ck_assert_int_eq(rc, expect_rc);
    ck_assert_int_eq(wal_writer_error(w), expect_rc);
    /* Sticky: nothing more is written. */
    ck_assert_int_eq(wal_writer_add(w, slice_cstr("more")), expect_rc);
    ck_assert_int_eq(wal_writer_sync(w), expect_rc);
    io_env_fault_reset(env);
    ck_assert_int_eq(wal_writer_close(w), expect_rc);
    read_log(NULL, tpath("e.wal"), WAL_READ_STRICT, sizes, 200, &res);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.count, ok);
    buf_free(&rec);
    io_env_fault_destroy(env);
}

START_TEST(test_fault_eio_enospc_short_write)
{
    make_tmpdir();
    for (uint64_t after = 0; after < 40; after += 3)
        fault_write_run(IO_FAULT_EIO, after, LSM_EIO);
    for (uint64_t after = 0; after < 300000; after += 12345)
        fault_write_run(IO_FAULT_ENOSPC, after, LSM_ENOSPC);
    for (uint64_t after = 0; after < 40; after += 5)
        fault_write_run(IO_FAULT_SHORT_WRITE, after, LSM_EIO);
    remove_tmpdir();
}
END_TEST

START_TEST(test_fault_sync_and_read_errors)
{
    struct io_env *env = io_env_fault_create(io_env_posix());
    static const size_t sizes[] = { 100, 40000 };
    struct wal_writer *w;
    struct wal_reader *r;
    struct buf rec = BUF_INIT;

    make_tmpdir();
    ck_assert_int_eq(wal_writer_open(env, tpath("s.wal"), &w), 0);
    ck_assert_int_eq(wal_writer_add(w, slice_cstr("abc")), 0);
    io_env_fault_set(env, IO_FAULT_EIO, 0, ".wal");
    ck_assert_int_eq(wal_writer_sync(w), LSM_EIO);
    ck_assert_int_eq(wal_writer_add(w, slice_cstr("def")), LSM_EIO);
    io_env_fault_reset(env);
    wal_writer_close(w);

    write_log(NULL, tpath("p.wal"), sizes, 2, NULL);
    ck_assert_int_eq(wal_reader_open(env, tpath("p.wal"), 0, &r), 0);
    ck_assert_int_eq(wal_reader_next(r, &rec), 1);
    io_env_fault_set(env, IO_FAULT_EIO, 0, "p.wal");
    ck_assert_int_eq(wal_reader_next(r, &rec), LSM_EIO);
    ck_assert(strstr(wal_reader_error(r), "p.wal") != NULL);
    ck_assert_int_eq(wal_reader_next(r, &rec), LSM_EIO);
    io_env_fault_reset(env);
    wal_reader_close(r);
    buf_free(&rec);
    io_env_fault_destroy(env);
    remove_tmpdir();
}
END_TEST

static Suite *wal_suite(void)
{
    Suite *s = suite_create("wal");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_round_trip_size_classes);
    tcase_add_test(tc, test_block_trailer);
    tcase_add_test(tc, test_header_layout);
    tcase_add_test(tc, test_torn_tail_every_offset);
    tcase_add_test(tc, test_torn_tail_large_record);
    tcase_add_test(tc, test_append_after_torn_tail);
    tcase_add_test(tc, test_zeroed_tail);
    tcase_add_test(tc, test_mapped_writer);
    tcase_add_test(tc, test_mapped_reservation_fails_whole);
    tcase_add_test(tc, test_hole_in_last_record_is_torn);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_length_flip_in_last_block);
    tcase_add_test(tc, test_corruption_message_and_tolerant_skip);
    tcase_add_test(tc, test_fault_crash_keeps_synced_records);
    tcase_add_test(tc, test_fault_eio_enospc_short_write);
    tcase_add_test(tc, test_fault_sync_and_read_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wal_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
