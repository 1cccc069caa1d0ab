/* fuzz_wal: the log reader (WALs and manifests share it) and the write
 * batch decoder on an arbitrary log file.
 *
 * Input: a whole .wal file (docs/format-wal.md). Checks, besides memory
 * safety and zmalloc'd bytes being the same after each input as before:
 *  - the input is read in strict and in tolerant mode, as is and again with
 *    the crc of every fragment the harness can walk recomputed (so damage
 *    reaches the fragment sequencing and the batch decoder); every call
 *    returns a record, the end (clean or torn) or LSM_ECORRUPT, and the
 *    reader's state stays consistent: offsets within the file, a clean end
 *    only inside a block trailer or before nothing but zeros (the space a
 *    mapped writer allocates ahead), a torn tail whose dropped bytes are the
 *    rest of the file, the end and errors sticky, strict mode's records a
 *    prefix of tolerant mode's;
 *  - every record that is not a link record is a write batch: it decodes or
 *    gives LSM_ECORRUPT; a batch that decodes, rebuilt operation by
 *    operation, decodes to the same operations;
 *  - what the writer writes the reader reads back: the records read are
 *    written again with wal_writer, read back whole (the same records, a
 *    clean end at the writer's size), cut at an offset taken from the input
 *    (records that end before the cut come back, then a clean or torn end;
 *    LSM_ECORRUPT only for the documented payload-that-looks-like-a-fragment
 *    case) and with one bit flipped (never a record that was not written). */
#include <string.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "engine/batch.h"
#include "engine/dbformat.h"
#include "engine/lsm.h"
#include "engine/wal.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

#define MAX_RECORDS 20000

struct records {
    struct buf *rec;
    uint64_t *end;              /* reader's end offset after each record */
    int n, cap;
    int rc;                     /* final: 0 or an LSM_E* code */
    int torn;
    uint64_t torn_off, dropped;
};

static void records_free(struct records *r)
{
    for (int i = 0; i < r->n; i++)
        buf_free(&r->rec[i]);
    zfree(r->rec);
    zfree(r->end);
    memset(r, 0, sizeof(*r));
}

static int slices_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

/* ---- write batches ---- */

struct ops {
    struct lsm_batch b;         /* the operations, rebuilt */
    int count;
};

static int rebuild_op(void *arg, int type, struct slice key, struct slice value)
{
    struct ops *o = arg;
    if (type == LSM_TYPE_VALUE)
        batch_put(&o->b, key, value);
    else if (type == LSM_TYPE_VPTR)
        batch_put_vptr(&o->b, key, value);
    else if (type == LSM_TYPE_DELETION) {
        fuzz_check(value.len == 0, "deletion with a value");
        batch_delete(&o->b, key);
    } else
        fuzz_fail("batch_iterate passed type %d", type);
    o->count++;
    return 0;
}

static void check_batch(struct slice rec)
{
    /* A link record (docs/format-wal.md): sequence 0, count 0, 16 bytes. */
    if (rec.len == 28 && decode_fixed64(rec.data) == 0 && decode_fixed32(rec.data + 8) == 0)
        return;
    struct lsm_batch b;
    batch_init(&b);
    int rc = batch_set_contents(&b, rec);
    fuzz_check(rc == 0 || rc == LSM_ECORRUPT, "batch_set_contents returned %d", rc);
    if (rc == 0) {
        fuzz_check(rec.len >= BATCH_HEADER_SIZE, "a batch shorter than its header decoded");
        struct ops o, o2;
        batch_init(&o.b);
        batch_init(&o2.b);
        o.count = o2.count = 0;
        batch_set_sequence(&o.b, batch_get_sequence(&b));
        fuzz_check(batch_iterate(&b, rebuild_op, &o) == 0, "a decoded batch does not iterate");
        fuzz_check((uint32_t)o.count == decode_fixed32(rec.data + 8), "count %u, %d operations",
                   decode_fixed32(rec.data + 8), o.count);
        batch_set_sequence(&o2.b, batch_get_sequence(&o.b));
        fuzz_check(batch_iterate_contents(batch_contents(&o.b), rebuild_op, &o2) == 0,
                   "a rebuilt batch does not iterate");
        fuzz_check(slices_eq(batch_contents(&o.b), batch_contents(&o2.b)),
                   "a rebuilt batch decodes to other operations");
        fuzz_check(batch_get_sequence(&o.b) == decode_fixed64(rec.data), "sequence differs");
        batch_free(&o.b);
        batch_free(&o2.b);
    } else {
        /* The two decoders agree: what batch_set_contents refuses does not
         * iterate either. */
        struct ops o;
        batch_init(&o.b);
        o.count = 0;
        fuzz_check(batch_iterate_contents(rec, rebuild_op, &o) == LSM_ECORRUPT,
                   "batch_set_contents refused a record that batch_iterate_contents takes");
        batch_free(&o.b);
    }
    batch_free(&b);
}

/* ---- reading ---- */

/* 1 when every byte of path from off on is zero. */
static int zeros_from(const char *path, uint64_t off)
{
    struct io_file *f;
    char chunk[4096];
    ssize_t got;
    int zero = 1;
    fuzz_check(io_open_read(io_env_posix(), path, &f) == 0, "cannot open %s", path);
    while (zero && (got = io_file_pread(f, chunk, sizeof chunk, off)) > 0) {
        for (ssize_t i = 0; i < got; i++)
            zero &= chunk[i] == 0;
        off += (uint64_t)got;
    }
    io_file_close(f);
    return zero;
}

/* Reads the log at path (size bytes) to its end; checks the reader's
 * contract on the way. */
static void read_log(const char *path, uint64_t size, int flags, struct records *out)
{
    struct wal_reader *r;
    struct buf rec = BUF_INIT;
    uint64_t last_end = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    fuzz_check(wal_reader_open(NULL, path, flags, &r) == 0, "cannot open %s", path);
    while ((rc = wal_reader_next(r, &rec)) == 1) {
        uint64_t off = wal_reader_record_offset(r), end = wal_reader_end_offset(r);
        fuzz_check(off >= last_end && off < end && end <= size,
                   "record at %llu..%llu (previous end %llu, size %llu)", (unsigned long long)off,
                   (unsigned long long)end, (unsigned long long)last_end,
                   (unsigned long long)size);
        fuzz_check(end - off >= rec.len + WAL_HEADER_SIZE, "record longer than its bytes");
        last_end = end;
        if (out->n < MAX_RECORDS) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 16;
                out->rec = zrealloc(out->rec, out->cap * sizeof(*out->rec));
                out->end = zrealloc(out->end, out->cap * sizeof(*out->end));
            }
            buf_init(&out->rec[out->n]);
            buf_set(&out->rec[out->n], rec.data, rec.len);
            out->end[out->n] = end;
            out->n++;
        }
    }
    fuzz_check(rc == 0 || rc == LSM_ECORRUPT, "wal_reader_next returned %d", rc);
    fuzz_check(flags == WAL_READ_STRICT || rc == 0, "tolerant reader returned %d", rc);
    out->rc = rc;
    out->torn = wal_reader_torn(r, &out->torn_off);
    out->dropped = wal_reader_dropped_bytes(r);
    if (rc == LSM_ECORRUPT) {
        fuzz_check(wal_reader_error(r)[0] != '\0', "corruption without a message");
        fuzz_check(wal_reader_end_offset(r) == last_end, "end offset moved at the corruption");
    } else if (out->torn) {
        fuzz_check(out->torn_off == last_end, "torn at %llu, last record ended at %llu",
                   (unsigned long long)out->torn_off, (unsigned long long)last_end);
        if (flags == WAL_READ_STRICT)
            fuzz_check(out->dropped == size - out->torn_off, "torn: dropped %llu of %llu after %llu",
                       (unsigned long long)out->dropped, (unsigned long long)size,
                       (unsigned long long)out->torn_off);
    } else if (flags == WAL_READ_STRICT) {
        /* A clean end: only a block trailer (< 7 bytes), or zeros, may
         * follow. */
        fuzz_check((size - last_end < WAL_HEADER_SIZE &&
                    (size - last_end == 0 ||
                     last_end / WAL_BLOCK_SIZE == (size - 1) / WAL_BLOCK_SIZE)) ||
                       zeros_from(path, last_end),
                   "clean end at %llu of %llu", (unsigned long long)last_end,
                   (unsigned long long)size);
        fuzz_check(out->dropped == 0, "clean end with %llu bytes dropped",
                   (unsigned long long)out->dropped);
    }
    fuzz_check(wal_reader_next(r, &rec) == rc, "end or error not sticky");
    buf_free(&rec);
    wal_reader_close(r);
}

static void read_both(const char *path, uint64_t size, struct records *strict)
{
    struct records tol;
    read_log(path, size, WAL_READ_STRICT, strict);
    read_log(path, size, WAL_READ_TOLERANT, &tol);
    for (int i = 0; i < strict->n && i < MAX_RECORDS; i++) {
        fuzz_check(i < tol.n, "strict read %d records, tolerant only %d", strict->n, tol.n);
        fuzz_check(slices_eq(buf_slice(&strict->rec[i]), buf_slice(&tol.rec[i])),
                   "record %d differs between strict and tolerant mode", i);
    }
    if (strict->rc == 0 && !strict->torn)
        fuzz_check(tol.n == strict->n && !tol.torn && tol.dropped == 0,
                   "clean log, tolerant read differs");
    records_free(&tol);
    for (int i = 0; i < strict->n; i++)
        check_batch(buf_slice(&strict->rec[i]));
}

/* ---- writer round trip ---- */

static void expect_prefix(const struct records *got, const struct records *want, const char *what)
{
    fuzz_check(got->n <= want->n, "%s: read %d records, %d written", what, got->n, want->n);
    for (int i = 0; i < got->n; i++)
        fuzz_check(slices_eq(buf_slice(&got->rec[i]), buf_slice(&want->rec[i])),
                   "%s: record %d is not the one written", what, i);
}

static void round_trip(const struct records *recs, const uint8_t *data, size_t size)
{
    char path[4400];
    struct wal_writer *w;
    struct records back, written;
    memset(&written, 0, sizeof(written));
    written = *recs;
    written.end = zmalloc((recs->n + 1) * sizeof(*written.end));
    snprintf(path, sizeof(path), "%s/%s", fuzz_scratch_dir(), "000002.wal");
    fuzz_check(wal_writer_open(NULL, path, &w) == 0, "cannot create %s", path);
    for (int i = 0; i < recs->n; i++) {
        fuzz_check(wal_writer_add(w, buf_slice(&recs->rec[i])) == 0, "wal_writer_add failed");
        written.end[i] = wal_writer_size(w);
    }
    uint64_t wsize = wal_writer_size(w);
    fuzz_check(wal_writer_close(w) == 0, "wal_writer_close failed");

    read_log(path, wsize, WAL_READ_STRICT, &back);
    fuzz_check(back.rc == 0 && !back.torn && back.n == recs->n,
               "written log read back: rc %d, torn %d, %d of %d records", back.rc, back.torn,
               back.n, recs->n);
    expect_prefix(&back, &written, "written log");
    for (int i = 0; i < back.n; i++)
        fuzz_check(back.end[i] == written.end[i], "record %d ends at %llu, writer says %llu", i,
                   (unsigned long long)back.end[i], (unsigned long long)written.end[i]);
    records_free(&back);

    size_t n;
    uint8_t *bytes = fuzz_read_file(path, &n);
    fuzz_check(n == wsize, "file has %zu bytes, writer says %llu", n, (unsigned long long)wsize);
    uint32_t h = crc32c_value(data, size);
    if (n > 0) {
        /* Cut. */
        size_t cut = h % n;
        fuzz_write_file("000003.wal", bytes, cut, path, sizeof(path));
        read_log(path, cut, WAL_READ_STRICT, &back);
        expect_prefix(&back, &written, "cut log");
        if (back.rc == 0) {
            int whole = 0;
            while (whole < written.n && written.end[whole] <= cut)
                whole++;
            fuzz_check(back.n == whole, "cut at %zu: %d records back, %d written before it", cut,
                       back.n, whole);
        }
        records_free(&back);
        /* One bit flipped. */
        size_t at = (h >> 3) % n;
        bytes[at] ^= (uint8_t)(1u << (h & 7));
        fuzz_write_file("000003.wal", bytes, n, path, sizeof(path));
        read_log(path, n, WAL_READ_STRICT, &back);
        expect_prefix(&back, &written, "flipped log");
        records_free(&back);
    }
    free(bytes);
    zfree(written.end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4400];
    size_t used = zmalloc_used_memory();
    struct records strict;

    fuzz_write_file("000001.wal", data, size, path, sizeof(path));
    read_both(path, size, &strict);

    uint8_t *copy = zmalloc(size ? size : 1);
    if (size)
        memcpy(copy, data, size);
    fuzz_log_fix_checksums(copy, size);
    if (size && memcmp(copy, data, size) != 0) {
        records_free(&strict);
        fuzz_write_file("000001.wal", copy, size, path, sizeof(path));
        read_both(path, size, &strict);
    }
    zfree(copy);
    round_trip(&strict, data, size);
    records_free(&strict);
    fuzz_check(zmalloc_used_memory() == used, "zmalloc'd bytes %zu before, %zu after: a leak",
               used, zmalloc_used_memory());
    return 0;
}
