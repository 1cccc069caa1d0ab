/* coding: fixed-width and varint encodings (see coding.h). */
#include "util/coding.h"

void encode_fixed16(char *dst, uint16_t v)
{
    unsigned char *p = (unsigned char *)dst;
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

void encode_fixed32(char *dst, uint32_t v)
{
    unsigned char *p = (unsigned char *)dst;
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

void encode_fixed64(char *dst, uint64_t v)
{
    encode_fixed32(dst, (uint32_t)v);
    encode_fixed32(dst + 4, (uint32_t)(v >> 32));
}

uint16_t decode_fixed16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint16_t)(u[0] | (u[1] << 8));
}

uint32_t decode_fixed32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | ((uint32_t)u[1] << 8) | ((uint32_t)u[2] << 16) |
           ((uint32_t)u[3] << 24);
}

uint64_t decode_fixed64(const char *p)
{
    return (uint64_t)decode_fixed32(p) | ((uint64_t)decode_fixed32(p + 4) << 32);
}

char *encode_varint32(char *dst, uint32_t v)
{
    return encode_varint64(dst, v);
}

char *encode_varint64(char *dst, uint64_t v)
{
    unsigned char *p = (unsigned char *)dst;
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return (char *)p;
}

int varint_length(uint64_t v)
{
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Shared decoder: at most maxlen bytes, and the last byte may only carry the
 * bits that still fit in `bits` (so 2^32 in a varint32 is rejected). */
static const char *decode_varint(const char *p, const char *limit, int bits,
                                 uint64_t *v)
{
    uint64_t result = 0;
    for (int shift = 0; shift < bits && p < limit; shift += 7) {
        uint64_t byte = *(const unsigned char *)p++;
        uint64_t payload = byte & 0x7f;
        if (bits - shift < 7 && (payload >> (bits - shift)) != 0)
            return NULL;                  /* overflows the type */
        result |= payload << shift;
        if (!(byte & 0x80)) {
            *v = result;
            return p;
        }
    }
    return NULL;                          /* truncated or too long */
}

const char *decode_varint32(const char *p, const char *limit, uint32_t *v)
{
    uint64_t r;
    const char *q = decode_varint(p, limit, 32, &r);
    if (q)
        *v = (uint32_t)r;
    return q;
}

const char *decode_varint64(const char *p, const char *limit, uint64_t *v)
{
    return decode_varint(p, limit, 64, v);
}

void put_fixed32(struct buf *b, uint32_t v)
{
    char tmp[4];
    encode_fixed32(tmp, v);
    buf_append(b, tmp, sizeof(tmp));
}

void put_fixed64(struct buf *b, uint64_t v)
{
    char tmp[8];
    encode_fixed64(tmp, v);
    buf_append(b, tmp, sizeof(tmp));
}

void put_varint32(struct buf *b, uint32_t v)
{
    char tmp[VARINT32_MAX_LEN];
    char *end = encode_varint32(tmp, v);
    buf_append(b, tmp, (size_t)(end - tmp));
}

void put_varint64(struct buf *b, uint64_t v)
{
    char tmp[VARINT64_MAX_LEN];
    char *end = encode_varint64(tmp, v);
    buf_append(b, tmp, (size_t)(end - tmp));
}

void put_length_prefixed(struct buf *b, struct slice s)
{
    put_varint32(b, (uint32_t)s.len);
    buf_append(b, s.data, s.len);
}

int get_varint32(struct slice *in, uint32_t *v)
{
    const char *q = decode_varint32(in->data, in->data + in->len, v);
    if (!q)
        return -1;
    in->len -= (size_t)(q - in->data);
    in->data = q;
    return 0;
}

int get_varint64(struct slice *in, uint64_t *v)
{
    const char *q = decode_varint64(in->data, in->data + in->len, v);
    if (!q)
        return -1;
    in->len -= (size_t)(q - in->data);
    in->data = q;
    return 0;
}

int get_fixed32(struct slice *in, uint32_t *v)
{
    if (in->len < 4)
        return -1;
    *v = decode_fixed32(in->data);
    in->data += 4;
    in->len -= 4;
    return 0;
}

int get_fixed64(struct slice *in, uint64_t *v)
{
    if (in->len < 8)
        return -1;
    *v = decode_fixed64(in->data);
    in->data += 8;
    in->len -= 8;
    return 0;
}

int get_length_prefixed(struct slice *in, struct slice *out)
{
    uint32_t n;
    if (get_varint32(in, &n) < 0 || in->len < n)
        return -1;
    *out = slice_make(in->data, n);
    in->data += n;
    in->len -= n;
    return 0;
}
