/* reply: output buffer and reply encoders (see reply.h for the contract). */
#include "server/reply.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/zmalloc.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

struct obuf_chunk {
    struct obuf_chunk *next;
    size_t size;    /* capacity of data */
    size_t used;    /* bytes queued in data */
    char data[];
};

/* An open deferred length: a gap of OBUF_DEFER_GAP bytes at off inside a
 * region (chunk, or the static buf when chunk is NULL). */
struct obuf_defer {
    unsigned id;
    struct obuf_chunk *chunk;
    size_t off;
};

#define OBUF_DEFER_GAP 24              /* '%' + 20 digits + CRLF fits */
#define OBUF_MUTED_HANDLE ((void *)~(uintptr_t)0)
#define OBUF_SMALL_HDR 32              /* shared "*N\r\n" etc. below this */

/* ---- the buffer ---- */

void obuf_init(struct obuf *o)
{
    o->resp = 2;
    o->muted = 0;
    o->bufpos = 0;
    o->sentlen = 0;
    o->head = o->tail = NULL;
    o->chunk_bytes = 0;
    o->pending = 0;
    o->defer = NULL;
    o->ndefer = o->defer_cap = 0;
    o->defer_seq = 0;
}

static void obuf_drop_chunks(struct obuf *o)
{
    struct obuf_chunk *c = o->head;
    while (c) {
        struct obuf_chunk *next = c->next;
        zfree(c);
        c = next;
    }
    o->head = o->tail = NULL;
    o->chunk_bytes = 0;
}

void obuf_reset(struct obuf *o)
{
    obuf_drop_chunks(o);
    o->ndefer = 0;
    o->bufpos = o->sentlen = o->pending = 0;
}

void obuf_free(struct obuf *o)
{
    obuf_reset(o);
    zfree(o->defer);
    o->defer = NULL;
    o->defer_cap = 0;
}

void obuf_mark(const struct obuf *o, struct obuf_mark *m)
{
    m->tail = o->tail;
    m->used = o->tail ? o->tail->used : o->bufpos;
    m->pending = o->pending;
    m->ndefer = o->ndefer;
}

void obuf_rewind(struct obuf *o, const struct obuf_mark *m)
{
    struct obuf_chunk *c = m->tail ? m->tail->next : o->head;

    assert(o->pending >= m->pending);
    while (c) {
        struct obuf_chunk *next = c->next;
        o->chunk_bytes -= sizeof(*c) + c->size;
        zfree(c);
        c = next;
    }
    if (m->tail) {
        m->tail->next = NULL;
        m->tail->used = m->used;
        o->tail = m->tail;
    } else {
        o->head = o->tail = NULL;
        o->bufpos = m->used;
    }
    o->pending = m->pending;
    if (o->ndefer > m->ndefer)
        o->ndefer = m->ndefer;
}

/* Append a chunk with room for at least n bytes; it becomes the tail. */
static struct obuf_chunk *obuf_new_chunk(struct obuf *o, size_t n)
{
    size_t size = n < OBUF_CHUNK_SIZE ? OBUF_CHUNK_SIZE : n;
    struct obuf_chunk *c = zmalloc(sizeof(*c) + size);

    c->next = NULL;
    c->size = size;
    c->used = 0;
    if (o->tail)
        o->tail->next = c;
    else
        o->head = c;
    o->tail = c;
    o->chunk_bytes += sizeof(*c) + size;
    return c;
}

/* The free bytes after the end of the queue (static buffer or tail chunk):
 * their count, and where they start at *dst. */
static inline size_t obuf_room(struct obuf *o, char **dst)
{
    if (o->head == NULL) {
        *dst = o->buf + o->bufpos;
        return OBUF_STATIC_SIZE - o->bufpos;
    }
    *dst = o->tail->data + o->tail->used;
    return o->tail->size - o->tail->used;
}

/* n contiguous free bytes at the end of the queue (not yet counted). */
static inline char *obuf_reserve(struct obuf *o, size_t n)
{
    char *dst;
    if (obuf_room(o, &dst) >= n)
        return dst;
    return obuf_new_chunk(o, n)->data;
}

/* Count n bytes written at the pointer obuf_reserve() returned. */
static inline void obuf_commit(struct obuf *o, size_t n)
{
    if (o->head == NULL)
        o->bufpos += n;
    else
        o->tail->used += n;
    o->pending += n;
}

/* Append bytes, filling the tail first, then one chunk for the rest (so each
 * byte is copied once, however large). */
static void obuf_append(struct obuf *o, const void *p, size_t n)
{
    const char *s = p;
    char *dst;
    size_t room = obuf_room(o, &dst);

    if (n <= room) {
        memcpy(dst, s, n);
        obuf_commit(o, n);
        return;
    }
    memcpy(dst, s, room);
    obuf_commit(o, room);
    s += room;
    n -= room;
    /* Leave a little room after a big payload for its CRLF and the next
     * small reply. */
    dst = obuf_new_chunk(o, n + 64)->data;
    memcpy(dst, s, n);
    obuf_commit(o, n);
}

/* ---- writing ---- */

/* Forget n written bytes, freeing chunks that were fully written. */
static void obuf_consume(struct obuf *o, size_t n)
{
    o->pending -= n;
    if (o->bufpos > 0) {
        size_t left = o->bufpos - o->sentlen;
        if (n < left) {
            o->sentlen += n;
            return;
        }
        n -= left;
        o->bufpos = o->sentlen = 0;
    }
    while (o->head) {
        struct obuf_chunk *c = o->head;
        size_t left = c->used - o->sentlen;
        if (n < left) {
            o->sentlen += n;
            return;
        }
        n -= left;
        o->sentlen = 0;
        o->head = c->next;
        if (o->head == NULL)
            o->tail = NULL;
        o->chunk_bytes -= sizeof(*c) + c->size;
        zfree(c);
    }
    assert(n == 0);
}

/* Up to IOV_MAX regions starting with the first unsent byte. */
static int obuf_iov(struct obuf *o, struct iovec *iov, size_t *total)
{
    int cnt = 0;
    size_t skip = o->sentlen;
    struct obuf_chunk *c;

    *total = 0;
    if (o->bufpos > 0) {
        iov[cnt].iov_base = o->buf + skip;
        iov[cnt].iov_len = o->bufpos - skip;
        *total += iov[cnt++].iov_len;
        skip = 0;
    }
    for (c = o->head; c && cnt < IOV_MAX; c = c->next) {
        if (c->used > skip) {
            iov[cnt].iov_base = c->data + skip;
            iov[cnt].iov_len = c->used - skip;
            *total += iov[cnt++].iov_len;
        }
        skip = 0;
    }
    return cnt;
}

ssize_t obuf_write(struct obuf *o, int fd)
{
    struct iovec iov[IOV_MAX];
    ssize_t total = 0;

    assert(o->ndefer == 0);
    while (o->pending > 0) {
        size_t want;
        ssize_t n;

        if (o->head == NULL) {
            want = o->bufpos - o->sentlen;
            n = write(fd, o->buf + o->sentlen, want);
        } else {
            int cnt = obuf_iov(o, iov, &want);
            n = writev(fd, iov, cnt);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return total > 0 ? total : -errno;
        }
        obuf_consume(o, (size_t)n);
        total += n;
        if ((size_t)n < want)
            break;   /* the socket is full */
    }
    return total;
}

/* ---- numbers ---- */

static const char obuf_digits2[] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Decimal digits of v at dst (no NUL); returns their count (<= 20). */
static size_t obuf_ull2str(char *dst, unsigned long long v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    size_t n;

    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = obuf_digits2[i + 1];
        *--p = obuf_digits2[i];
    }
    if (v < 10) {
        *--p = (char)('0' + v);
    } else {
        unsigned i = (unsigned)v * 2;
        *--p = obuf_digits2[i + 1];
        *--p = obuf_digits2[i];
    }
    n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, n);
    return n;
}

static size_t obuf_ll2str(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + obuf_ull2str(dst + 1, 0ULL - (unsigned long long)v);
    }
    return obuf_ull2str(dst, (unsigned long long)v);
}

/* "<prefix><v>\r\n" at dst; returns its length (<= OBUF_DEFER_GAP - 1). */
static size_t obuf_fmt_hdr(char *dst, char prefix, long long v)
{
    size_t n;

    dst[0] = prefix;
    n = 1 + obuf_ll2str(dst + 1, v);
    dst[n++] = '\r';
    dst[n++] = '\n';
    return n;
}

/* Shared small headers: "*0\r\n" .. "*31\r\n" and the same for '$', ':',
 * '%', '~', '>' — built once, copied as 4 or 5 bytes. */
struct obuf_small_hdr {
    char s[8];
    unsigned char n;
};
static struct obuf_small_hdr obuf_hdrs[6][OBUF_SMALL_HDR];
static const char obuf_hdr_prefix[6] = { '*', '$', ':', '%', '~', '>' };
static int obuf_hdrs_ready;

static void obuf_hdrs_init(void)
{
    int k, i;

    for (k = 0; k < 6; k++)
        for (i = 0; i < OBUF_SMALL_HDR; i++)
            obuf_hdrs[k][i].n =
                (unsigned char)obuf_fmt_hdr(obuf_hdrs[k][i].s, obuf_hdr_prefix[k], i);
    obuf_hdrs_ready = 1;
}

enum { HDR_ARRAY = 0, HDR_BULK, HDR_INT, HDR_MAP, HDR_SET, HDR_PUSH };

static inline void obuf_hdr(struct obuf *o, int kind, long long v)
{
    char *dst = obuf_reserve(o, OBUF_DEFER_GAP);

    if (v >= 0 && v < OBUF_SMALL_HDR) {
        const struct obuf_small_hdr *h;
        if (!obuf_hdrs_ready)
            obuf_hdrs_init();
        h = &obuf_hdrs[kind][v];
        memcpy(dst, h->s, 8);
        obuf_commit(o, h->n);
        return;
    }
    obuf_commit(o, obuf_fmt_hdr(dst, obuf_hdr_prefix[kind], v));
}

/* ---- encoders ---- */

void reply_raw(struct obuf *o, const void *p, size_t n)
{
    if (o->muted)
        return;
    obuf_append(o, p, n);
}

void reply_status_len(struct obuf *o, const char *s, size_t n)
{
    char *dst;

    if (o->muted)
        return;
    dst = obuf_reserve(o, n + 3);
    dst[0] = '+';
    memcpy(dst + 1, s, n);
    dst[n + 1] = '\r';
    dst[n + 2] = '\n';
    obuf_commit(o, n + 3);
}

void reply_status(struct obuf *o, const char *s)
{
    reply_status_len(o, s, strlen(s));
}

void reply_ok(struct obuf *o)
{
    char *dst;

    if (o->muted)
        return;
    dst = obuf_reserve(o, 5);
    memcpy(dst, "+OK\r\n", 5);
    obuf_commit(o, 5);
}

static void (*error_hook)(const char *msg, size_t n);

void reply_set_error_hook(void (*fn)(const char *msg, size_t n))
{
    error_hook = fn;
}

/* Like addReplyErrorFormat: trim CR/LF at both ends, map inner ones to ' '. */
static void reply_error_len(struct obuf *o, const char *msg, size_t n)
{
    size_t i;
    char *dst;

    while (n > 0 && (msg[0] == '\r' || msg[0] == '\n'))
        msg++, n--;
    while (n > 0 && (msg[n - 1] == '\r' || msg[n - 1] == '\n'))
        n--;
    if (n > 0 && msg[0] == '-')
        msg++, n--;
    if (error_hook)
        error_hook(msg, n);
    if (o->muted)
        return;
    dst = obuf_reserve(o, n + 3);
    dst[0] = '-';
    for (i = 0; i < n; i++) {
        char c = msg[i];
        dst[i + 1] = (c == '\r' || c == '\n') ? ' ' : c;
    }
    dst[n + 1] = '\r';
    dst[n + 2] = '\n';
    obuf_commit(o, n + 3);
}

void reply_error(struct obuf *o, const char *msg)
{
    reply_error_len(o, msg, strlen(msg));
}

void reply_errorf(struct obuf *o, const char *fmt, ...)
{
    char small[512];
    char *s = small;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(small)) {
        s = zmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    /* Like sdscatvprintf, the text ends at a NUL written by %c/%s. */
    reply_error_len(o, s, strlen(s));
    if (s != small)
        zfree(s);
}

void reply_bulk(struct obuf *o, const void *p, size_t n)
{
    char *dst;

    if (o->muted)
        return;
    if (obuf_room(o, &dst) >= n + OBUF_DEFER_GAP + 2) {   /* one contiguous write */
        size_t h = obuf_fmt_hdr(dst, '$', (long long)n);
        memcpy(dst + h, p, n);
        dst[h + n] = '\r';
        dst[h + n + 1] = '\n';
        obuf_commit(o, h + n + 2);
        return;
    }
    obuf_hdr(o, HDR_BULK, (long long)n);
    obuf_append(o, p, n);
    obuf_append(o, "\r\n", 2);
}

char *reply_bulk_reserve(struct obuf *o, size_t n)
{
    char *dst;

    if (o->muted)
        return NULL;
    obuf_hdr(o, HDR_BULK, (long long)n);
    dst = obuf_reserve(o, n + 2);
    dst[n] = '\r';
    dst[n + 1] = '\n';
    obuf_commit(o, n + 2);
    return dst;
}

void reply_bulk_cstr(struct obuf *o, const char *s)
{
    if (s == NULL)
        reply_null(o);
    else
        reply_bulk(o, s, strlen(s));
}

void reply_bulk_long(struct obuf *o, long long v)
{
    char digits[24];
    size_t n = obuf_ll2str(digits, v);

    reply_bulk(o, digits, n);
}

void reply_long(struct obuf *o, long long v)
{
    if (o->muted)
        return;
    obuf_hdr(o, HDR_INT, v);
}

void reply_double(struct obuf *o, double d)
{
    char dbuf[64];
    int n;

    if (o->muted)
        return;
    if (isinf(d)) {
        if (o->resp == 2)
            reply_bulk(o, d > 0 ? "inf" : "-inf", d > 0 ? 3 : 4);
        else
            obuf_append(o, d > 0 ? ",inf\r\n" : ",-inf\r\n", d > 0 ? 6 : 7);
        return;
    }
    if (isnan(d)) {
        if (o->resp == 2)
            reply_bulk(o, "nan", 3);
        else
            obuf_append(o, ",nan\r\n", 6);
        return;
    }
    n = snprintf(dbuf + 1, sizeof(dbuf) - 3, "%.17g", d);
    if (o->resp == 2) {
        reply_bulk(o, dbuf + 1, (size_t)n);
    } else {
        dbuf[0] = ',';
        dbuf[n + 1] = '\r';
        dbuf[n + 2] = '\n';
        obuf_append(o, dbuf, (size_t)n + 3);
    }
}

void reply_null(struct obuf *o)
{
    if (o->muted)
        return;
    if (o->resp == 2)
        obuf_append(o, "$-1\r\n", 5);
    else
        obuf_append(o, "_\r\n", 3);
}

void reply_null_array(struct obuf *o)
{
    if (o->muted)
        return;
    if (o->resp == 2)
        obuf_append(o, "*-1\r\n", 5);
    else
        obuf_append(o, "_\r\n", 3);
}

void reply_array_len(struct obuf *o, long long n)
{
    if (o->muted)
        return;
    obuf_hdr(o, HDR_ARRAY, n);
}

void reply_map_len(struct obuf *o, long long n)
{
    if (o->muted)
        return;
    if (o->resp == 2)
        obuf_hdr(o, HDR_ARRAY, n * 2);
    else
        obuf_hdr(o, HDR_MAP, n);
}

void reply_set_len(struct obuf *o, long long n)
{
    if (o->muted)
        return;
    obuf_hdr(o, o->resp == 2 ? HDR_ARRAY : HDR_SET, n);
}

void reply_push_len(struct obuf *o, long long n)
{
    if (o->muted)
        return;
    obuf_hdr(o, o->resp == 2 ? HDR_ARRAY : HDR_PUSH, n);
}

void reply_bool(struct obuf *o, int b)
{
    if (o->muted)
        return;
    if (o->resp == 2)
        obuf_append(o, b ? ":1\r\n" : ":0\r\n", 4);
    else
        obuf_append(o, b ? "#t\r\n" : "#f\r\n", 4);
}

void reply_verbatim(struct obuf *o, const char *p, size_t n, const char *fmt)
{
    char hdr[OBUF_DEFER_GAP + 4];
    size_t h;

    if (o->muted)
        return;
    if (o->resp == 2) {
        reply_bulk(o, p, n);
        return;
    }
    h = obuf_fmt_hdr(hdr, '=', (long long)n + 4);
    memcpy(hdr + h, fmt, 3);
    hdr[h + 3] = ':';
    obuf_append(o, hdr, h + 4);
    obuf_append(o, p, n);
    obuf_append(o, "\r\n", 2);
}

void reply_empty_array(struct obuf *o)
{
    if (o->muted)
        return;
    obuf_append(o, "*0\r\n", 4);
}

/* ---- deferred lengths ---- */

void *reply_defer_len(struct obuf *o)
{
    struct obuf_defer *d;
    char *gap;

    if (o->muted)
        return OBUF_MUTED_HANDLE;
    if (o->ndefer == o->defer_cap) {
        o->defer_cap = o->defer_cap ? o->defer_cap * 2 : 4;
        o->defer = zrealloc(o->defer, (size_t)o->defer_cap * sizeof(*o->defer));
    }
    gap = obuf_reserve(o, OBUF_DEFER_GAP);
    d = &o->defer[o->ndefer++];
    if (++o->defer_seq == 0 ||
        o->defer_seq == (unsigned)(uintptr_t)OBUF_MUTED_HANDLE)
        o->defer_seq = 1;
    d->id = o->defer_seq;
    d->chunk = o->head ? o->tail : NULL;
    d->off = (size_t)(gap - (o->head ? o->tail->data : o->buf));
    obuf_commit(o, OBUF_DEFER_GAP);
    return (void *)(uintptr_t)d->id;
}

void reply_set_defer_len(struct obuf *o, void *handle, long long n,
                         enum reply_kind kind)
{
    struct obuf_defer d;
    char *base;
    size_t *used, h, shrink;
    int i, k;
    char prefix;

    if (handle == OBUF_MUTED_HANDLE)
        return;
    for (i = o->ndefer - 1; i >= 0; i--)
        if (o->defer[i].id == (unsigned)(uintptr_t)handle)
            break;
    assert(i >= 0);
    if (i < 0)
        return;
    d = o->defer[i];
    memmove(&o->defer[i], &o->defer[i + 1],
            (size_t)(o->ndefer - i - 1) * sizeof(*o->defer));
    o->ndefer--;

    switch (kind) {
    case REPLY_MAP:
        prefix = o->resp == 2 ? '*' : '%';
        if (o->resp == 2)
            n *= 2;
        break;
    case REPLY_SET: prefix = o->resp == 2 ? '*' : '~'; break;
    case REPLY_PUSH: prefix = o->resp == 2 ? '*' : '>'; break;
    default: prefix = '*'; break;
    }
    if (d.chunk) {
        base = d.chunk->data;
        used = &d.chunk->used;
    } else {
        base = o->buf;
        used = &o->bufpos;
    }
    /* Write the header into the gap and close the rest of the gap by moving
     * the region's later bytes back. */
    h = obuf_fmt_hdr(base + d.off, prefix, n);
    shrink = OBUF_DEFER_GAP - h;
    memmove(base + d.off + h, base + d.off + OBUF_DEFER_GAP,
            *used - d.off - OBUF_DEFER_GAP);
    *used -= shrink;
    o->pending -= shrink;
    for (k = 0; k < o->ndefer; k++)
        if (o->defer[k].chunk == d.chunk && o->defer[k].off > d.off)
            o->defer[k].off -= shrink;
}
