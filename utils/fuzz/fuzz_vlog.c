/* fuzz_vlog: the value-log reader on an arbitrary segment file.
 *
 * Input: byte 0 picks the mode, byte 1 seeds the arbitrary pointers; the
 * rest is the file 000007.vlog (docs/format-vlog.md). Mode bits:
 *   0: rewrite every entry's crc before the read (walking the entries by
 *      their lengths), so that the bytes behind a valid checksum are fuzzed;
 *   1: put a valid file header in place;
 *   2: scan with a limit short of the file's end (seed bytes shorter);
 *   3: register the segment with the scanned valid length (as recovery
 *      does with an unsealed one) instead of the file's size.
 * The file is read the ways the engine does:
 *  - the sequential scanner (GC, recovery): each entry returned lies where
 *    the previous one ended, inside the limit, with the file's bytes and a
 *    correct crc; a torn stop is at an entry that really is invalid;
 *    an untorn end is the limit; the header is refused exactly when bad;
 *  - point reads (vlog_read) of pointers to every scanned entry, of
 *    variants of them (off by one, another key, another length, a missing
 *    segment) and of arbitrary pointers (decoded from the input, and
 *    extreme offsets and lengths): each returns 0 with exactly the value an
 *    independent decode of the file gives, or LSM_ECORRUPT naming the file
 *    (never an I/O error: the file is readable), exactly when that decode
 *    fails. */
#include <errno.h>
#include <inttypes.h>
#include <snappy-c.h>
#include <string.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "engine/vlog.h"
#include "fuzz.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/slice.h"

#define SEG 7
#define MAX_ENTRIES 64
#define MAX_DECODE (1u << 24)       /* the oracle decodes no bigger value */

static char path[4200];             /* the segment, in the scratch dir */

/* The input's own view of an entry at off (no engine code): 1 when
 * [off, off + len) is one whole entry with a good crc and flags. */
static int entry_ok(const uint8_t *f, size_t fsize, uint64_t off, uint64_t len)
{
    if (off > fsize || len > fsize - off || len < VLOG_ENTRY_HEADER_SIZE)
        return 0;
    const uint8_t *e = f + off;
    uint64_t klen = decode_fixed32((const char *)e + 4);
    uint64_t slen = decode_fixed32((const char *)e + 8);
    if (VLOG_ENTRY_HEADER_SIZE + klen + slen != len)
        return 0;
    if (crc32c_unmask(decode_fixed32((const char *)e)) != crc32c_value(e + 4, len - 4))
        return 0;
    return (e[12] & ~VLOG_FLAG_SNAPPY) == 0 && e[13] == 0 && e[14] == 0 && e[15] == 0;
}

/* Raw value of a verified entry into out (malloc'd, *olen): 1, or 0 when
 * it does not decode to exactly want bytes. */
static int entry_value(const uint8_t *e, uint64_t len, uint32_t want, char **out, size_t *olen)
{
    uint32_t klen = decode_fixed32((const char *)e + 4);
    const char *st = (const char *)e + VLOG_ENTRY_HEADER_SIZE + klen;
    size_t slen = len - VLOG_ENTRY_HEADER_SIZE - klen, ulen;
    *out = NULL;
    if (!(e[12] & VLOG_FLAG_SNAPPY)) {
        if (slen != want)
            return 0;
        *out = malloc(slen + 1);
        memcpy(*out, st, slen);
        *olen = slen;
        return 1;
    }
    if (snappy_uncompressed_length(st, slen, &ulen) != SNAPPY_OK || ulen != want ||
        ulen > MAX_DECODE)
        return 0;
    *out = malloc(ulen + 1);
    if (snappy_uncompress(st, slen, *out, &ulen) != SNAPPY_OK || ulen != want) {
        free(*out);
        *out = NULL;
        return 0;
    }
    *olen = ulen;
    return 1;
}

struct ctx {
    const uint8_t *f;
    size_t fsize;
    uint64_t regsize;               /* registered size of the segment */
    struct vlog *vl;
    struct buf val;
};

/* One point read, checked against the oracle. */
static void check_read(struct ctx *c, const struct vlog_ptr *p, const struct slice *key)
{
    int rc = vlog_read(c->vl, p, key, &c->val);
    char *want = NULL;
    size_t wlen = 0;
    int ok = p->segment == SEG && p->offset >= VLOG_FILE_HEADER_SIZE &&
             p->offset <= c->regsize && p->length <= c->regsize - p->offset &&
             entry_ok(c->f, c->fsize, p->offset, p->length);
    if (ok && key != NULL) {
        uint32_t klen = decode_fixed32((const char *)c->f + p->offset + 4);
        ok = klen == key->len &&
             memcmp(c->f + p->offset + VLOG_ENTRY_HEADER_SIZE, key->data, klen) == 0;
    }
    if (ok)
        ok = entry_value(c->f + p->offset, p->length, p->value_len, &want, &wlen);

    fuzz_check(rc == 0 || rc == LSM_ECORRUPT,
               "vlog_read {%" PRIu64 ", %" PRIu64 ", %" PRIu32 "}: rc %d (%s)", p->segment,
               p->offset, p->length, rc, vlog_last_error());
    fuzz_check((rc == 0) == ok, "vlog_read {%" PRIu64 ", %" PRIu64 ", %" PRIu32 ", %" PRIu32
               "}: rc %d but the entry is %s (%s)", p->segment, p->offset, p->length,
               p->value_len, rc, ok ? "valid" : "not", vlog_last_error());
    if (rc == 0) {
        fuzz_check(c->val.len == wlen && (wlen == 0 || memcmp(c->val.data, want, wlen) == 0),
                   "vlog_read at %" PRIu64 " returned other bytes", p->offset);
    } else {
        char name[32];
        snprintf(name, sizeof name, "%06" PRIu64 ".vlog", p->segment);
        fuzz_check(strstr(vlog_last_error(), name) != NULL,
                   "error does not name the file: %s", vlog_last_error());
    }
    free(want);
    vlog_prefetch(c->vl, p);
}

/* Fixes up the input in place as the mode asks. */
static void doctor(uint8_t *f, size_t n, int mode)
{
    if ((mode & 2) && n >= VLOG_FILE_HEADER_SIZE) {
        memcpy(f, VLOG_MAGIC, 8);
        encode_fixed64((char *)f + 8, SEG);
    }
    if (!(mode & 1))
        return;
    for (size_t off = VLOG_FILE_HEADER_SIZE; off + VLOG_ENTRY_HEADER_SIZE <= n;) {
        uint64_t klen = decode_fixed32((const char *)f + off + 4);
        uint64_t slen = decode_fixed32((const char *)f + off + 8);
        uint64_t len = VLOG_ENTRY_HEADER_SIZE + klen + slen;
        if (len > n - off)
            break;
        encode_fixed32((char *)f + off, crc32c_mask(crc32c_value(f + off + 4, len - 4)));
        off += len;
    }
}

struct scanned {
    uint64_t off;
    uint32_t len;
    uint32_t klen;
    int flags;
};

/* Scans the file; fills ents (up to MAX_ENTRIES), returns the valid end. */
static uint64_t scan(struct ctx *c, uint64_t limit, struct scanned *ents, int *nents)
{
    struct vlog_scanner *s = NULL;
    uint64_t lim = limit < c->fsize ? limit : c->fsize;
    int header_ok = lim >= VLOG_FILE_HEADER_SIZE && memcmp(c->f, VLOG_MAGIC, 8) == 0 &&
                    decode_fixed64((const char *)c->f + 8) == SEG;
    int rc = vlog_scan_open(NULL, path, SEG, limit, &s);

    *nents = 0;
    fuzz_check(rc == 0 || rc == LSM_ECORRUPT, "vlog_scan_open: rc %d", rc);
    fuzz_check((rc == 0) == header_ok, "vlog_scan_open: rc %d with header %s", rc,
               header_ok ? "good" : "bad");
    if (rc != 0) {
        fuzz_check(s == NULL, "scanner left open on error");
        fuzz_check(strstr(vlog_last_error(), "000007.vlog: offset 0") != NULL,
                   "open error does not name file and offset: %s", vlog_last_error());
        return 0;
    }
    uint64_t at = VLOG_FILE_HEADER_SIZE;
    struct slice k, st;
    int flags;
    uint64_t off;
    uint32_t len;
    while ((rc = vlog_scan_next(s, &k, &st, &flags, &off, &len)) == 1) {
        fuzz_check(off == at, "entry at %" PRIu64 ", previous ended at %" PRIu64, off, at);
        fuzz_check(len <= lim && off <= lim - len, "entry past the limit");
        fuzz_check(entry_ok(c->f, c->fsize, off, len), "invalid entry at %" PRIu64 " returned",
                   off);
        fuzz_check(k.len + st.len + VLOG_ENTRY_HEADER_SIZE == len &&
                       memcmp(k.data, c->f + off + VLOG_ENTRY_HEADER_SIZE, k.len) == 0 &&
                       memcmp(st.data, c->f + off + VLOG_ENTRY_HEADER_SIZE + k.len,
                              st.len) == 0,
                   "entry at %" PRIu64 ": key or value differ from the file", off);
        fuzz_check(flags == (c->f[off + 12] & VLOG_FLAG_SNAPPY), "flags differ");
        fuzz_check(vlog_scan_end(s) == off + len, "scan end not after the entry");
        if (*nents < MAX_ENTRIES)
            ents[(*nents)++] = (struct scanned){ off, len, (uint32_t)k.len, flags };
        at = off + len;
    }
    fuzz_check(rc == 0, "vlog_scan_next: rc %d (%s)", rc, vlog_last_error());
    fuzz_check(vlog_scan_end(s) == at, "scan end %" PRIu64 " != %" PRIu64, vlog_scan_end(s),
               at);
    if (vlog_scan_torn(s)) {
        fuzz_check(at < lim, "torn at the limit");
        fuzz_check(vlog_scan_why(s)[0] != '\0', "torn without a reason");
        /* The stop is real: no whole valid entry starts there within lim. */
        uint64_t len2 = at + VLOG_ENTRY_HEADER_SIZE <= lim
                            ? VLOG_ENTRY_HEADER_SIZE +
                                  (uint64_t)decode_fixed32((const char *)c->f + at + 4) +
                                  decode_fixed32((const char *)c->f + at + 8)
                            : 0;
        fuzz_check(len2 == 0 || len2 > lim - at || !entry_ok(c->f, c->fsize, at, len2),
                   "scan stopped at a valid entry at %" PRIu64, at);
    } else {
        fuzz_check(at == lim, "scan ended at %" PRIu64 ", limit %" PRIu64, at, lim);
    }
    vlog_scan_close(s);
    return at;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0];
    uint64_t x = (uint64_t)data[1] * 0x9E3779B97F4A7C15ULL + size + 1;
    size_t fsize = size - 2;
    uint8_t *f = malloc(fsize ? fsize : 1);
    memcpy(f, data + 2, fsize);
    doctor(f, fsize, mode);

    char name[16];
    snprintf(name, sizeof name, "%06d.vlog", SEG);
    fuzz_write_file(name, f, fsize, path, sizeof path);

    struct ctx c = { .f = f, .fsize = fsize, .regsize = fsize, .val = BUF_INIT };
    struct scanned ents[MAX_ENTRIES];
    int n = 0;
    uint64_t limit = (mode & 4) ? (fsize > data[1] ? fsize - data[1] : 0) : UINT64_MAX;
    uint64_t end = scan(&c, limit, ents, &n);
    if (limit != UINT64_MAX)        /* the whole file, as reads see it */
        end = scan(&c, UINT64_MAX, ents, &n);
    if (mode & 8)
        c.regsize = end;

    c.vl = vlog_create(NULL, fuzz_scratch_dir(), 1);
    vlog_seg_add(c.vl, SEG, c.regsize);

    /* Pointers to every scanned entry, then variants of them. */
    for (int i = 0; i < n; i++) {
        const uint8_t *e = f + ents[i].off;
        uint32_t slen = ents[i].len - VLOG_ENTRY_HEADER_SIZE - ents[i].klen;
        const char *st = (const char *)e + VLOG_ENTRY_HEADER_SIZE + ents[i].klen;
        size_t ulen = slen;
        if ((ents[i].flags & VLOG_FLAG_SNAPPY) &&
            snappy_uncompressed_length(st, slen, &ulen) != SNAPPY_OK)
            ulen = slen;
        if (ulen > MAX_DECODE)
            ulen = (uint32_t)rng_next(&x) % 4096;
        struct vlog_ptr p = { .segment = SEG, .offset = ents[i].off, .length = ents[i].len,
                              .value_len = (uint32_t)ulen };
        struct slice key = slice_make(e + VLOG_ENTRY_HEADER_SIZE, ents[i].klen);
        check_read(&c, &p, &key);
        check_read(&c, &p, NULL);

        struct vlog_ptr q = p;
        struct slice other = slice_make("some other key", 14);
        switch (rng_next(&x) % 8) {
        case 0: q.offset++; break;
        case 1: q.offset--; break;
        case 2: q.length++; break;
        case 3: q.length--; break;
        case 4: q.value_len++; break;
        case 5: q.segment = SEG + 1; break;
        case 6: q.offset = UINT64_MAX - q.length + 1 + rng_next(&x) % 32; break;
        default: check_read(&c, &q, &other); continue;
        }
        check_read(&c, &q, &key);
    }

    /* Arbitrary pointers: decoded from the input's bytes, and made up. */
    for (int i = 0; i < 8; i++) {
        struct vlog_ptr p;
        memset(&p, 0, sizeof p);
        if (i < 4 && fsize > 0) {
            size_t at = (size_t)(rng_next(&x) % fsize);
            size_t len = 1 + (size_t)(rng_next(&x) % 40);
            if (len > fsize - at)
                len = fsize - at;
            if (vlog_ptr_decode(slice_make(f + at, len), &p) != 0)
                continue;
        } else {
            static const uint64_t offs[] = { 0, 15, 16, UINT64_MAX, UINT64_MAX - 15,
                                             1ull << 63, (uint64_t)INT64_MAX };
            uint64_t r = rng_next(&x);
            p.segment = r % 16 == 0 ? SEG + 1 : SEG;
            p.offset = r % 3 == 0 ? offs[(r >> 8) % 7]
                                  : (r >> 16) % (fsize + 64);
            p.length = (uint32_t)(r % 5 == 0 ? UINT32_MAX - (r >> 40) % 64
                                             : VLOG_ENTRY_HEADER_SIZE + (r >> 24) % 512);
            p.value_len = (uint32_t)((r >> 32) % 1024);
        }
        check_read(&c, &p, NULL);
    }

    vlog_destroy(c.vl);
    buf_free(&c.val);
    unlink(path);
    free(f);
    return 0;
}
