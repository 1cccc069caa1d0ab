/* wal: LevelDB-style log files (see wal.h and docs/format-wal.md). */
#include "engine/wal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/lsm.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/io.h"
#include "util/zmalloc.h"

/* Maps an io-layer -errno to an engine code. */
static int wal_io_error(int err)
{
    if (err == -ENOSPC)
        return LSM_ENOSPC;
    if (err == -ENOENT)
        return LSM_ENOENT;
    return LSM_EIO;
}

/* crc32c of the type byte, the start of every fragment's checksum. */
static uint32_t wal_type_crc(int type)
{
    char t = (char)type;

    return crc32c_value(&t, 1);
}

/* ================================ writer ================================ */

struct wal_writer {
    struct io_file *f;
    uint64_t offset;        /* bytes in the file */
    uint64_t step;          /* wal_writer_map: reserve this much ahead */
    uint64_t reserved;      /* disk allocated up to here */
    int err;                /* sticky */
    uint32_t type_crc[WAL_MAX_TYPE + 1];
};

struct wal_writer *wal_writer_create(struct io_file *f, uint64_t offset)
{
    struct wal_writer *w = zcalloc(sizeof(*w));

    w->f = f;
    w->offset = offset;
    for (int t = 0; t <= WAL_MAX_TYPE; t++)
        w->type_crc[t] = wal_type_crc(t);
    return w;
}

int wal_writer_open(struct io_env *env, const char *path, struct wal_writer **out)
{
    struct io_file *f = NULL;
    int rc;

    *out = NULL;
    rc = io_open_append(env ? env : io_env_posix(), path, &f);
    if (rc < 0)
        return wal_io_error(rc);
    *out = wal_writer_create(f, 0);
    return 0;
}

int wal_writer_map(struct wal_writer *w, uint64_t len, uint64_t step)
{
    int rc = io_file_map(w->f, len);
    if (rc < 0)
        return wal_io_error(rc);
    w->step = step;
    w->reserved = w->offset;
    return 0;
}

/* Allocates the space of a record of n bytes before any of it is
 * appended, so that a full disk fails the record whole and the writer
 * stays usable (not sticky). */
static int wal_reserve(struct wal_writer *w, size_t n)
{
    /* n + a header per fragment (at most n / payload + 2 of them) + a
     * block trailer (< a header) */
    uint64_t end = w->offset + n + (n / (WAL_BLOCK_SIZE - WAL_HEADER_SIZE) + 3) * WAL_HEADER_SIZE;
    int rc;

    if (end <= w->reserved)
        return 0;
    rc = io_file_reserve(w->f, w->reserved, end + w->step - w->reserved);
    if (rc == 0) {
        w->reserved = end + w->step;
        return 0;
    }
    rc = io_file_reserve(w->f, w->reserved, end - w->reserved);
    if (rc == 0) {
        w->reserved = end;
        return 0;
    }
    return wal_io_error(rc);
}

static int wal_append(struct wal_writer *w, const void *p, size_t n)
{
    int rc = io_file_append(w->f, p, n);

    if (rc < 0) {
        w->err = wal_io_error(rc);
        return w->err;
    }
    w->offset += n;
    return 0;
}

static int wal_emit(struct wal_writer *w, int type, const char *p, size_t n)
{
    char hdr[WAL_HEADER_SIZE];
    uint32_t crc = crc32c_extend(w->type_crc[type], p, n);
    int rc;

    encode_fixed32(hdr, crc32c_mask(crc));
    encode_fixed16(hdr + 4, (uint16_t)n);
    hdr[6] = (char)type;
    rc = wal_append(w, hdr, sizeof(hdr));
    if (rc == 0 && n > 0)
        rc = wal_append(w, p, n);
    return rc;
}

int wal_writer_add(struct wal_writer *w, struct slice rec)
{
    static const char zeros[WAL_HEADER_SIZE];
    const char *p = rec.data;
    size_t left = rec.len;
    int begin = 1, rc;

    if (w->err)
        return w->err;
    if (w->step > 0 && (rc = wal_reserve(w, rec.len)) != 0)
        return rc;
    do {
        size_t room = WAL_BLOCK_SIZE - (size_t)(w->offset % WAL_BLOCK_SIZE);
        size_t n;
        int type, end;

        if (room < WAL_HEADER_SIZE) {
            /* Trailer: pad the block, the fragment starts in the next one. */
            if (room > 0 && (rc = wal_append(w, zeros, room)) != 0)
                return rc;
            room = WAL_BLOCK_SIZE;
        }
        n = room - WAL_HEADER_SIZE;
        if (n > left)
            n = left;
        end = (n == left);
        type = begin ? (end ? WAL_FULL : WAL_FIRST) : (end ? WAL_LAST : WAL_MIDDLE);
        if ((rc = wal_emit(w, type, p, n)) != 0)
            return rc;
        p += n;
        left -= n;
        begin = 0;
    } while (left > 0);
    return 0;
}

int wal_writer_flush(struct wal_writer *w)
{
    int rc;

    if (w->err)
        return w->err;
    if ((rc = io_file_flush(w->f)) < 0)
        w->err = wal_io_error(rc);
    return w->err;
}

int wal_writer_sync(struct wal_writer *w)
{
    int rc;

    if (w->err)
        return w->err;
    if ((rc = io_file_sync(w->f)) < 0)
        w->err = wal_io_error(rc);
    return w->err;
}

int wal_writer_syncer(struct wal_writer *w, struct io_file **file)
{
    int rc;

    *file = NULL;
    if (wal_writer_flush(w) != 0)
        return w->err;
    /* Not sticky: the writer itself is fine. */
    if ((rc = io_file_syncer(w->f, file)) < 0)
        return wal_io_error(rc);
    return 0;
}

uint64_t wal_writer_size(const struct wal_writer *w)
{
    return w->offset;
}

uint64_t wal_writer_allocated(const struct wal_writer *w)
{
    return w->reserved > w->offset ? w->reserved : w->offset;
}

int wal_writer_error(const struct wal_writer *w)
{
    return w->err;
}

int wal_writer_close(struct wal_writer *w)
{
    int rc, err;

    if (w == NULL)
        return 0;
    err = w->err;
    rc = io_file_close(w->f);
    if (err == 0 && rc < 0)
        err = wal_io_error(rc);
    zfree(w);
    return err;
}

/* ================================ reader ================================ */

struct wal_reader {
    struct io_file *f;
    char *name;
    int flags;
    char *block;            /* current block */
    size_t block_len;       /* bytes of it in the file */
    size_t pos;             /* next fragment in block */
    uint64_t block_off;     /* file offset of block */
    int started;            /* a block was read */
    int done;               /* final result reached */
    int final_rc;           /* what next() returns once done */
    uint64_t rec_off;       /* start of the record last returned */
    uint64_t end_off;       /* end of the record last returned */
    int torn;
    uint64_t torn_off;
    int damaged;            /* strict mode stopped at damage ... */
    uint64_t damage_off;    /* ... that starts here */
    uint64_t dropped;
    char err[512];
};

/* Outcome of reading one fragment. */
enum wal_frag {
    FRAG_OK,
    FRAG_EOF,       /* end of file at a fragment boundary */
    FRAG_TRUNC,     /* header or payload cut by the end of the file */
    FRAG_BAD,       /* bad checksum, length or type */
    FRAG_IOERR
};

struct wal_frag_info {
    int type;
    struct slice payload;
    uint64_t off;           /* file offset of the fragment header */
    size_t skip;            /* bad fragment: bytes to skip (0 = rest of block) */
    const char *why;
};

struct wal_reader *wal_reader_create(struct io_file *f, const char *name, int flags)
{
    struct wal_reader *r = zcalloc(sizeof(*r));

    r->f = f;
    r->name = zstrdup(name ? name : "(log)");
    r->flags = flags;
    r->block = zmalloc(WAL_BLOCK_SIZE);
    return r;
}

int wal_reader_open(struct io_env *env, const char *path, int flags,
                    struct wal_reader **out)
{
    struct io_file *f = NULL;
    int rc;

    *out = NULL;
    rc = io_open_read(env ? env : io_env_posix(), path, &f);
    if (rc < 0)
        return wal_io_error(rc);
    *out = wal_reader_create(f, path, flags);
    return 0;
}

void wal_reader_close(struct wal_reader *r)
{
    if (r == NULL)
        return;
    io_file_close(r->f);
    zfree(r->block);
    zfree(r->name);
    zfree(r);
}

static void wal_reader_msg(struct wal_reader *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void wal_reader_msg(struct wal_reader *r, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->err, sizeof(r->err), "%s: offset %" PRIu64 ": ", r->name, off);

    if (n < 0 || (size_t)n >= sizeof(r->err))
        return;
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Reads the block at off into dst; returns bytes read or a negative code. */
static ssize_t wal_read_block(struct wal_reader *r, char *dst, uint64_t off)
{
    size_t got = 0;

    while (got < WAL_BLOCK_SIZE) {
        ssize_t n = io_file_pread(r->f, dst + got, WAL_BLOCK_SIZE - got, off + got);

        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Checks the fragment at p (avail bytes, inside one block): 1 when it has a
 * known type, fits and its checksum matches. */
static int wal_frag_valid(const char *p, size_t avail)
{
    uint32_t len, crc;
    int type;

    if (avail < WAL_HEADER_SIZE)
        return 0;
    len = decode_fixed16(p + 4);
    type = (unsigned char)p[6];
    if (type < WAL_FULL || type > WAL_MAX_TYPE || WAL_HEADER_SIZE + (size_t)len > avail)
        return 0;
    crc = crc32c_extend(wal_type_crc(type), p + WAL_HEADER_SIZE, len);
    return crc == crc32c_unmask(decode_fixed32(p));
}

/* Walks the valid fragments of one block from p (avail bytes up to the end
 * of the data or block): 1 when one of them starts a record (FULL/FIRST). */
static int wal_chain_starts_record(const char *p, size_t avail)
{
    while (avail >= WAL_HEADER_SIZE && wal_frag_valid(p, avail)) {
        size_t n = WAL_HEADER_SIZE + decode_fixed16(p + 4);
        int type = (unsigned char)p[6];

        if (type == WAL_FULL || type == WAL_FIRST)
            return 1;
        p += n;
        avail -= n;
    }
    return 0;
}

/* Reads the next fragment. */
static enum wal_frag wal_read_frag(struct wal_reader *r, struct wal_frag_info *fi)
{
    for (;;) {
        const char *p;
        uint32_t len;
        int type;

        if (!r->started || WAL_BLOCK_SIZE - r->pos < WAL_HEADER_SIZE) {
            /* Next block (the rest of this one is trailer). */
            ssize_t n;
            uint64_t off = r->started ? r->block_off + WAL_BLOCK_SIZE : 0;

            if (r->started && r->block_len < WAL_BLOCK_SIZE)
                return FRAG_EOF;         /* the file ended in the trailer */
            n = wal_read_block(r, r->block, off);
            if (n < 0) {
                wal_reader_msg(r, off, "read error: %s", strerror((int)-n));
                return FRAG_IOERR;
            }
            r->started = 1;
            r->block_off = off;
            r->block_len = (size_t)n;
            r->pos = 0;
            continue;
        }
        fi->off = r->block_off + r->pos;
        fi->skip = 0;
        if (r->pos == r->block_len)
            return FRAG_EOF;
        if (r->pos + WAL_HEADER_SIZE > r->block_len) {
            fi->why = "truncated fragment header";
            return FRAG_TRUNC;
        }
        p = r->block + r->pos;
        len = decode_fixed16(p + 4);
        type = (unsigned char)p[6];
        if (r->pos + WAL_HEADER_SIZE + len > r->block_len) {
            if (r->block_len < WAL_BLOCK_SIZE) {
                fi->why = "fragment cut by the end of the file";
                return FRAG_TRUNC;
            }
            fi->why = "fragment length past the end of its block";
            return FRAG_BAD;
        }
        fi->skip = WAL_HEADER_SIZE + len;
        if (crc32c_extend(wal_type_crc(type), p + WAL_HEADER_SIZE, len) !=
            crc32c_unmask(decode_fixed32(p))) {
            if (type == WAL_ZERO && len == 0 && decode_fixed32(p) == 0) {
                fi->why = "zeroed bytes";
                fi->skip = 0;
            } else {
                fi->why = "checksum mismatch";
            }
            return FRAG_BAD;
        }
        if (type < WAL_FULL || type > WAL_MAX_TYPE) {
            fi->why = "unknown fragment type";
            return FRAG_BAD;
        }
        fi->type = type;
        fi->payload = slice_make(p + WAL_HEADER_SIZE, len);
        r->pos += WAL_HEADER_SIZE + len;
        return FRAG_OK;
    }
}

/* 1 when the bytes at p (avail of them, inside one block) could be a FULL or
 * FIRST fragment: type and length only, no checksum. */
static int wal_frag_starts_record(const char *p, size_t avail)
{
    int type;

    if (avail < WAL_HEADER_SIZE)
        return 0;
    type = (unsigned char)p[6];
    return (type == WAL_FULL || type == WAL_FIRST) &&
           WAL_HEADER_SIZE + (size_t)decode_fixed16(p + 4) <= avail;
}

/* 1 when a fragment of plausible type and length, the end of the data, or
 * the block trailer is at block offset e (len bytes of the block read). */
static int wal_frag_boundary(const char *block, size_t len, size_t e)
{
    int type;

    if (e == len || WAL_BLOCK_SIZE - e < WAL_HEADER_SIZE)
        return 1;
    if (len - e < WAL_HEADER_SIZE)
        return 0;
    type = (unsigned char)block[e + 6];
    return type >= WAL_FULL && type <= WAL_MAX_TYPE &&
           WAL_HEADER_SIZE + (size_t)decode_fixed16(block + e + 4) <= len - e;
}

/* Looks at every byte offset of block [from, len) for a valid FULL/FIRST
 * fragment, for damage whose length field cannot be trusted (one flipped
 * bit in it hides where the next fragment starts). With `followed`, only a
 * fragment that ends at a fragment boundary counts: a cheap filter that
 * spares checksumming random payload; without it, a valid record followed
 * by more damage is found too. 1 and *at = its offset, or 0. */
static int wal_scan_block(const char *block, size_t from, size_t len, int followed,
                          size_t *at)
{
    for (size_t q = from; q + WAL_HEADER_SIZE <= len; q++) {
        const char *p = block + q;

        if (!wal_frag_starts_record(p, len - q))
            continue;
        if (followed &&
            !wal_frag_boundary(block, len, q + WAL_HEADER_SIZE + decode_fixed16(p + 4)))
            continue;
        if (wal_frag_valid(p, len - q)) {
            *at = q;
            return 1;
        }
    }
    return 0;
}

/* 1 when a block after the current one starts a record (each block written
 * begins with a fragment), 0 when none does, negative on a read error. */
static int wal_later_block_starts_record(struct wal_reader *r)
{
    char *tmp;
    uint64_t off;
    int found = 0;

    if (r->block_len < WAL_BLOCK_SIZE)
        return 0;
    tmp = zmalloc(WAL_BLOCK_SIZE);
    for (off = r->block_off + WAL_BLOCK_SIZE;; off += WAL_BLOCK_SIZE) {
        ssize_t n = wal_read_block(r, tmp, off);

        if (n < 0) {
            wal_reader_msg(r, off, "read error: %s", strerror((int)-n));
            found = LSM_EIO;
            break;
        }
        if (wal_chain_starts_record(tmp, (size_t)n)) {
            found = 1;
            break;
        }
        if (n < WAL_BLOCK_SIZE)
            break;
    }
    zfree(tmp);
    return found;
}

/* After damage at the current fragment (fi, at r->pos): 1 when another
 * record starts after it (the damage is in the middle of the log), 0 when
 * nothing but garbage, zeros or continuation fragments of the damaged record
 * follow (a torn tail: unsynced pages can reach the disk in any order),
 * negative on a read error. *skip = bytes from r->pos to resume at in
 * tolerant mode. Looks right after the damaged fragment when its length is
 * plausible; at the start of every later block; at every offset of the rest
 * of the block (the length itself may be damaged), first with the boundary
 * filter, then without. Tolerant mode scans the block before the later
 * blocks, to resume at the first record left in it. */
static int wal_valid_after(struct wal_reader *r, const struct wal_frag_info *fi,
                           size_t *skip)
{
    size_t from = r->pos + WAL_HEADER_SIZE, at;
    int rc;

    *skip = r->block_len - r->pos;
    if (fi->skip > 0) {
        size_t probe = r->pos + fi->skip;

        if (probe < r->block_len && WAL_BLOCK_SIZE - probe >= WAL_HEADER_SIZE &&
            wal_chain_starts_record(r->block + probe, r->block_len - probe)) {
            *skip = fi->skip;
            return 1;
        }
    }
    if (!(r->flags & WAL_READ_TOLERANT) && (rc = wal_later_block_starts_record(r)) != 0)
        return rc;
    if (wal_scan_block(r->block, from, r->block_len, 1, &at)) {
        *skip = at - r->pos;
        return 1;
    }
    if ((r->flags & WAL_READ_TOLERANT) && (rc = wal_later_block_starts_record(r)) != 0)
        return rc;
    if (wal_scan_block(r->block, from, r->block_len, 0, &at)) {
        *skip = at - r->pos;
        return 1;
    }
    return 0;
}

/* Ends the log with a torn tail at the end of the last complete record. */
static int wal_reader_end_torn(struct wal_reader *r, uint64_t damage_off, const char *why)
{
    int64_t size = io_file_size(r->f);

    r->torn = 1;
    r->torn_off = r->end_off;
    if (size > 0 && (uint64_t)size > r->end_off)
        r->dropped += (uint64_t)size - r->end_off;
    wal_reader_msg(r, damage_off, "torn tail dropped (%s); log ends at %" PRIu64,
                   why, r->end_off);
    r->done = 1;
    r->final_rc = 0;
    return 0;
}

static int wal_reader_fail(struct wal_reader *r, int rc)
{
    r->done = 1;
    r->final_rc = rc;
    return rc;
}

/* 1 when every byte from off to the end of the file is zero (the space a
 * mapped writer allocated ahead, wal_writer_map), 0 when not, or
 * LSM_EIO. */
static int wal_zero_from(struct wal_reader *r, uint64_t off)
{
    uint64_t end;
    if (io_file_data_end(r->f, off, &end) != 0)
        return LSM_EIO;
    return end == off;
}

/* Damage with valid data after it: corruption (strict) or skip (tolerant).
 * Returns 1 to go on reading, else what next() returns. */
static int wal_reader_damage(struct wal_reader *r, const struct wal_frag_info *fi,
                             struct buf *partial)
{
    size_t skip;
    int after = wal_valid_after(r, fi, &skip);

    if (after < 0)
        return wal_reader_fail(r, after);
    if (after == 0 && partial->len == 0 && fi->skip == 0 &&
        (after = wal_zero_from(r, fi->off)) != 0) {
        if (after < 0)
            return wal_reader_fail(r, after);
        r->done = 1;                  /* allocated space after the log */
        r->final_rc = 0;
        return 0;
    }
    if (after == 0)
        return wal_reader_end_torn(r, fi->off, fi->why);
    if (!(r->flags & WAL_READ_TOLERANT)) {
        wal_reader_msg(r, fi->off, "corrupt log record: %s", fi->why);
        r->damaged = 1;
        r->damage_off = fi->off;
        return wal_reader_fail(r, LSM_ECORRUPT);
    }
    r->dropped += skip + partial->len;
    buf_clear(partial);
    r->pos += skip;
    wal_reader_msg(r, fi->off, "skipped damaged log bytes (%s); %" PRIu64
                   " bytes dropped so far", fi->why, r->dropped);
    return 1;
}

/* A well-formed fragment out of sequence (e.g. MIDDLE without FIRST). */
static int wal_reader_bad_sequence(struct wal_reader *r, uint64_t off,
                                   const char *why, size_t dropped)
{
    if (!(r->flags & WAL_READ_TOLERANT)) {
        wal_reader_msg(r, off, "corrupt log record: %s", why);
        r->damaged = 1;
        r->damage_off = off;
        return wal_reader_fail(r, LSM_ECORRUPT);
    }
    r->dropped += dropped;
    wal_reader_msg(r, off, "skipped damaged log bytes (%s); %" PRIu64
                   " bytes dropped so far", why, r->dropped);
    return 1;
}

int wal_reader_next(struct wal_reader *r, struct buf *rec)
{
    struct wal_frag_info fi;
    int in_record = 0, rc;
    uint64_t start = 0;

    if (r->done)
        return r->final_rc;
    buf_clear(rec);
    for (;;) {
        switch (wal_read_frag(r, &fi)) {
        case FRAG_EOF:
            if (in_record)
                return wal_reader_end_torn(r, start, "record without its last fragment");
            r->done = 1;
            r->final_rc = 0;
            return 0;
        case FRAG_IOERR:
            return wal_reader_fail(r, LSM_EIO);
        case FRAG_TRUNC:    /* a damaged length may look like a cut: look further */
        case FRAG_BAD:
            if ((rc = wal_reader_damage(r, &fi, rec)) != 1)
                return rc;
            in_record = 0;
            continue;
        case FRAG_OK:
            break;
        }
        if (fi.type == WAL_FULL || fi.type == WAL_FIRST) {
            if (in_record) {
                rc = wal_reader_bad_sequence(r, start, "record without its last fragment",
                                             rec->len + WAL_HEADER_SIZE);
                if (rc != 1)
                    return rc;
                buf_clear(rec);
            }
            in_record = 1;
            start = fi.off;
        } else if (!in_record) {
            rc = wal_reader_bad_sequence(r, fi.off, "fragment without its first fragment",
                                         fi.payload.len + WAL_HEADER_SIZE);
            if (rc != 1)
                return rc;
            continue;
        }
        buf_append(rec, fi.payload.data, fi.payload.len);
        if (fi.type == WAL_FULL || fi.type == WAL_LAST) {
            r->rec_off = start;
            r->end_off = fi.off + WAL_HEADER_SIZE + fi.payload.len;
            return 1;
        }
    }
}

uint64_t wal_reader_record_offset(const struct wal_reader *r)
{
    return r->rec_off;
}

uint64_t wal_reader_end_offset(const struct wal_reader *r)
{
    return r->end_off;
}

int wal_reader_torn(const struct wal_reader *r, uint64_t *offset)
{
    if (offset != NULL)
        *offset = r->torn_off;
    return r->torn;
}

int wal_reader_damaged(const struct wal_reader *r, uint64_t *offset)
{
    if (offset != NULL)
        *offset = r->damage_off;
    return r->damaged;
}

uint64_t wal_reader_dropped_bytes(const struct wal_reader *r)
{
    return r->dropped;
}

const char *wal_reader_error(const struct wal_reader *r)
{
    return r->err;
}
