/* slice and buf (see slice.h). */
#include "util/slice.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdint.h>

#include "util/zmalloc.h"

int slice_compare(struct slice a, struct slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.data, b.data, n) : 0;
    if (r != 0)
        return r;
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

int slice_equal(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

int slice_starts_with(struct slice s, struct slice prefix)
{
    return s.len >= prefix.len &&
           (prefix.len == 0 || memcmp(s.data, prefix.data, prefix.len) == 0);
}

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    zfree(b->data);
    buf_init(b);
}

void buf_clear(struct buf *b)
{
    b->len = 0;
}

/* cap counts usable bytes excluding the spare byte for the NUL. */
void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (b->data && need <= b->cap)
        return;
    size_t ncap = b->cap ? b->cap : 16;
    while (ncap < need)
        ncap = ncap < (SIZE_MAX / 4) ? ncap * 2 : need;
    b->data = zrealloc(b->data, ncap + 1);
    b->cap = ncap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_append_byte(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void buf_append_slice(struct buf *b, struct slice s)
{
    buf_append(b, s.data, s.len);
}

void buf_set(struct buf *b, const void *p, size_t n)
{
    b->len = 0;
    buf_append(b, p, n);
}

void buf_truncate(struct buf *b, size_t len)
{
    assert(len <= b->len);
    b->len = len;
}

const char *buf_cstr(struct buf *b)
{
    buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}

void buf_append_repr(struct buf *b, const char *p, size_t n)
{
    buf_append_byte(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *esc = NULL;
        switch (c) {
        case '\\': esc = "\\\\"; break;
        case '"': esc = "\\\""; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        default: break;
        }
        if (esc) {
            buf_append(b, esc, 2);
        } else if (isprint(c)) {
            buf_append_byte(b, (char)c);
        } else {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", c);
            buf_append(b, hex, 4);
        }
    }
    buf_append_byte(b, '"');
}
