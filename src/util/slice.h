/* slice and buf: the two byte-string types used everywhere below the server.
 *
 * struct slice is a borrowed view (pointer + length, never owns, not NUL
 * terminated). struct buf is an owned growable byte buffer; its data is
 * allocated with zmalloc and always has one spare byte so buf_cstr() can NUL
 * terminate. Both are plain value types (fields are public).
 * Thread rules: none; a buf belongs to whoever holds it. */
#ifndef LSM_UTIL_SLICE_H
#define LSM_UTIL_SLICE_H

#include <stddef.h>
#include <string.h>

struct slice {
    const char *data;
    size_t len;
};

static inline struct slice slice_make(const void *p, size_t n)
{
    struct slice s = { (const char *)p, n };
    return s;
}

static inline struct slice slice_cstr(const char *s)
{
    return slice_make(s, strlen(s));
}

/* <0, 0, >0 like memcmp, shorter prefix sorts first. */
int slice_compare(struct slice a, struct slice b);
int slice_equal(struct slice a, struct slice b);
int slice_starts_with(struct slice s, struct slice prefix);

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);                    /* releases memory, len=cap=0 */
void buf_clear(struct buf *b);                   /* len = 0, keeps capacity */
void buf_reserve(struct buf *b, size_t extra);   /* room for len+extra (+1) */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_byte(struct buf *b, char c);
void buf_append_slice(struct buf *b, struct slice s);
/* Appends [p, p+n) double-quoted as Redis' sdscatrepr() writes it: \\ \"
 * \n \r \t \a \b escaped, other unprintable bytes as \xhh. */
void buf_append_repr(struct buf *b, const char *p, size_t n);
void buf_set(struct buf *b, const void *p, size_t n);   /* replace contents */
void buf_truncate(struct buf *b, size_t len);    /* len must be <= b->len */
const char *buf_cstr(struct buf *b);             /* NUL terminated view */
static inline struct slice buf_slice(const struct buf *b)
{
    return slice_make(b->data, b->len);
}

#endif
