/* dump: see dump.h. */
#include "server/dump.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/coding.h"
#include "util/crc64.h"
#include "util/lzf.h"
#include "util/strconv.h"

#define RDB_TYPE_STRING 0
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3
#define RDB_LEN_32 0x80
#define RDB_LEN_64 0x81
#define FOOTER 10                       /* version + CRC-64 */

static void put_be(struct buf *out, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        buf_append_byte(out, (char)((v >> (8 * i)) & 0xff));
}

static void put_len(struct buf *out, uint64_t len)
{
    if (len < 64) {
        buf_append_byte(out, (char)len);
    } else if (len < 16384) {
        buf_append_byte(out, (char)(0x40 | (len >> 8)));
        buf_append_byte(out, (char)(len & 0xff));
    } else if (len <= UINT32_MAX) {
        buf_append_byte(out, (char)RDB_LEN_32);
        put_be(out, len, 4);
    } else {
        buf_append_byte(out, (char)RDB_LEN_64);
        put_be(out, len, 8);
    }
}

void dump_string(const char *v, size_t n, struct buf *out)
{
    size_t start = out->len;
    long long x;
    buf_append_byte(out, RDB_TYPE_STRING);
    if (n <= 11 && str_to_ll(v, n, &x) && x >= INT32_MIN && x <= INT32_MAX) {
        int bytes = x >= -128 && x <= 127 ? 1 : x >= -32768 && x <= 32767 ? 2 : 4;
        char le[4];
        encode_fixed32(le, (uint32_t)x);        /* the low bytes, little endian */
        buf_append_byte(out, (char)(0xC0 | (bytes == 1 ? RDB_ENC_INT8
                                            : bytes == 2 ? RDB_ENC_INT16 : RDB_ENC_INT32)));
        buf_append(out, le, (size_t)bytes);
    } else {
        put_len(out, n);
        buf_append(out, v, n);
    }
    dump_footer(out, start);
}

void dump_footer(struct buf *out, size_t start)
{
    char ver[2];
    encode_fixed16(ver, DUMP_RDB_VERSION);
    buf_append(out, ver, 2);
    put_fixed64(out, crc64(0, out->data + start, out->len - start));
}

int dump_verify(const char *p, size_t n)
{
    if (n < FOOTER)
        return 0;
    const char *f = p + n - FOOTER;
    return decode_fixed16(f) <= DUMP_RDB_VERSION && crc64(0, p, n - 8) == decode_fixed64(f + 2);
}

/* A cursor over the whole payload (as Redis' rio over the buffer). */
struct rd {
    const unsigned char *p;
    size_t n, pos;
};

static int take(struct rd *r, void *dst, size_t k)
{
    if (r->n - r->pos < k)
        return -1;
    if (dst)
        memcpy(dst, r->p + r->pos, k);
    r->pos += k;
    return 0;
}

/* RDB's length encoding: 0 and *len, 1 and *enc for an encoded string,
 * -1 malformed. */
static int get_len(struct rd *r, uint64_t *len, int *enc)
{
    unsigned char b[8];
    if (take(r, b, 1) < 0)
        return -1;
    switch (b[0] >> 6) {
    case 0:
        *len = b[0] & 0x3f;
        return 0;
    case 1: {
        unsigned char lo;
        if (take(r, &lo, 1) < 0)
            return -1;
        *len = ((uint64_t)(b[0] & 0x3f) << 8) | lo;
        return 0;
    }
    case 3:
        *enc = b[0] & 0x3f;
        return 1;
    default: {
        int k = b[0] == RDB_LEN_32 ? 4 : b[0] == RDB_LEN_64 ? 8 : 0;
        if (k == 0 || take(r, b, (size_t)k) < 0)
            return -1;
        *len = 0;
        for (int i = 0; i < k; i++)
            *len = (*len << 8) | b[i];
        return 0;
    }
    }
}

/* A plain length (an encoded string is malformed here). */
static int get_plain_len(struct rd *r, uint64_t *len)
{
    int enc;
    return get_len(r, len, &enc) == 0 ? 0 : -1;
}

static int load_int(struct rd *r, int enc, struct buf *out)
{
    char b[4];
    int k = enc == RDB_ENC_INT8 ? 1 : enc == RDB_ENC_INT16 ? 2 : 4;
    if (take(r, b, (size_t)k) < 0)
        return -1;
    int64_t v = k == 1 ? (int8_t)b[0] : k == 2 ? (int16_t)decode_fixed16(b)
                                               : (int32_t)decode_fixed32(b);
    char s[24];
    int m = snprintf(s, sizeof s, "%lld", (long long)v);
    buf_set(out, s, (size_t)m);
    return 0;
}

int dump_load_string(const char *p, size_t n, size_t max, struct buf *out)
{
    struct rd r = { (const unsigned char *)p, n, 0 };
    unsigned char type;
    uint64_t len, clen;
    int enc = -1;
    if (take(&r, &type, 1) < 0 || type != RDB_TYPE_STRING)
        return -1;
    int e = get_len(&r, &len, &enc);
    if (e < 0)
        return -1;
    if (e == 1) {
        if (enc == RDB_ENC_INT8 || enc == RDB_ENC_INT16 || enc == RDB_ENC_INT32)
            return load_int(&r, enc, out);
        if (enc != RDB_ENC_LZF || get_plain_len(&r, &clen) < 0 ||
            get_plain_len(&r, &len) < 0 || len > max || clen > r.n - r.pos)
            return -1;
        buf_clear(out);
        buf_reserve(out, (size_t)len);
        /* liblzf's convention, which Redis compares with len: 0 is also
         * its error, so an empty string takes any data. */
        if (lzf_decompress(r.p + r.pos, (size_t)clen, out->data, (size_t)len) != len)
            return -1;
        out->len = (size_t)len;
        return 0;
    }
    if (len > max || len > r.n - r.pos)
        return -1;
    buf_set(out, p + r.pos, (size_t)len);
    return 0;
}
