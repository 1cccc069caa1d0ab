/* batch: write-batch encoding (see batch.h). */
#include "engine/batch.h"

#include <assert.h>
#include <string.h>

#include "engine/dbformat.h"
#include "util/coding.h"
#include "util/zmalloc.h"

static void batch_reset(struct lsm_batch *b)
{
    char hdr[BATCH_HEADER_SIZE];

    memset(hdr, 0, sizeof(hdr));
    buf_set(&b->rep, hdr, sizeof(hdr));
    b->user_bytes = 0;
    b->npatch = 0;
}

void batch_init(struct lsm_batch *b)
{
    buf_init(&b->rep);
    batch_reset(b);
}

void batch_free(struct lsm_batch *b)
{
    buf_free(&b->rep);
    b->user_bytes = 0;
    b->npatch = 0;
}

static uint32_t batch_count_raw(struct slice rep)
{
    return decode_fixed32(rep.data + 8);
}

static void batch_set_count(struct lsm_batch *b, uint32_t n)
{
    encode_fixed32(b->rep.data + 8, n);
}

uint64_t batch_get_sequence(const struct lsm_batch *b)
{
    return decode_fixed64(b->rep.data);
}

void batch_set_sequence(struct lsm_batch *b, uint64_t seq)
{
    encode_fixed64(b->rep.data, seq);
}

struct slice batch_contents(const struct lsm_batch *b)
{
    return buf_slice(&b->rep);
}

uint64_t batch_user_bytes(const struct lsm_batch *b)
{
    return b->user_bytes;
}

/* Parses one operation from the front of *in. Returns 0 or LSM_ECORRUPT. */
static int batch_parse_op(struct slice *in, int *type, struct slice *key,
                          struct slice *value)
{
    if (in->len < 1)
        return LSM_ECORRUPT;
    *type = (unsigned char)in->data[0];
    in->data++;
    in->len--;
    if (get_length_prefixed(in, key) != 0)
        return LSM_ECORRUPT;
    switch (*type) {
    case LSM_TYPE_VALUE:
    case LSM_TYPE_VPTR:
    case BATCH_OP_PATCH:
        if (get_length_prefixed(in, value) != 0)
            return LSM_ECORRUPT;
        return 0;
    case LSM_TYPE_DELETION:
        *value = slice_make("", 0);
        return 0;
    default:
        return LSM_ECORRUPT;
    }
}

static int iterate(struct slice contents, int patches, batch_handler_fn fn, void *arg)
{
    struct slice in, key, value;
    uint32_t count, seen = 0;
    int type, rc;

    if (contents.len < BATCH_HEADER_SIZE)
        return LSM_ECORRUPT;
    count = batch_count_raw(contents);
    in = slice_make(contents.data + BATCH_HEADER_SIZE,
                    contents.len - BATCH_HEADER_SIZE);
    while (in.len > 0) {
        if (seen == count)
            return LSM_ECORRUPT;        /* trailing bytes */
        rc = batch_parse_op(&in, &type, &key, &value);
        if (rc != 0)
            return rc;
        if (type == BATCH_OP_PATCH && !patches)
            return LSM_ECORRUPT;        /* never on disk */
        seen++;
        if (fn != NULL && (rc = fn(arg, type, key, value)) != 0)
            return rc;
    }
    return seen == count ? 0 : LSM_ECORRUPT;
}

int batch_iterate_contents(struct slice contents, batch_handler_fn fn, void *arg)
{
    return iterate(contents, 0, fn, arg);
}

int batch_iterate(const struct lsm_batch *b, batch_handler_fn fn, void *arg)
{
    return iterate(batch_contents(b), 1, fn, arg);
}

static int batch_sum_bytes(void *arg, int type, struct slice key, struct slice value)
{
    (void)type;
    *(uint64_t *)arg += key.len + value.len;
    return 0;
}

int batch_set_contents(struct lsm_batch *b, struct slice contents)
{
    uint64_t bytes = 0;

    if (batch_iterate_contents(contents, batch_sum_bytes, &bytes) != 0)
        return LSM_ECORRUPT;
    buf_set(&b->rep, contents.data, contents.len);
    b->user_bytes = bytes;
    b->npatch = 0;
    return 0;
}

static void batch_add(struct lsm_batch *b, int type, struct slice key,
                      const struct slice *value)
{
    batch_set_count(b, batch_count_raw(buf_slice(&b->rep)) + 1);
    buf_append_byte(&b->rep, (char)type);
    put_length_prefixed(&b->rep, key);
    b->user_bytes += key.len;
    if (value != NULL) {
        put_length_prefixed(&b->rep, *value);
        b->user_bytes += value->len;
    }
    if (type == BATCH_OP_PATCH)
        b->npatch++;
}

void batch_add_op(struct lsm_batch *b, int type, struct slice key, struct slice value)
{
    batch_add(b, type, key, type == LSM_TYPE_DELETION ? NULL : &value);
}

void batch_put(struct lsm_batch *b, struct slice key, struct slice value)
{
    batch_add(b, LSM_TYPE_VALUE, key, &value);
}

void batch_delete(struct lsm_batch *b, struct slice key)
{
    batch_add(b, LSM_TYPE_DELETION, key, NULL);
}

void batch_put_vptr(struct lsm_batch *b, struct slice key, struct slice ptr)
{
    batch_add(b, LSM_TYPE_VPTR, key, &ptr);
}

void batch_append(struct lsm_batch *dst, const struct lsm_batch *src)
{
    struct slice s = batch_contents(src);

    assert(s.len >= BATCH_HEADER_SIZE);
    batch_set_count(dst, batch_count_raw(buf_slice(&dst->rep)) + batch_count_raw(s));
    buf_append(&dst->rep, s.data + BATCH_HEADER_SIZE, s.len - BATCH_HEADER_SIZE);
    dst->user_bytes += src->user_bytes;
    dst->npatch += src->npatch;
}

/* ---- public API (lsm.h) ---- */

struct lsm_batch *lsm_batch_create(void)
{
    struct lsm_batch *b = zmalloc(sizeof(*b));

    batch_init(b);
    return b;
}

void lsm_batch_destroy(struct lsm_batch *b)
{
    if (b == NULL)
        return;
    batch_free(b);
    zfree(b);
}

void lsm_batch_clear(struct lsm_batch *b)
{
    batch_reset(b);
}

void lsm_batch_put(struct lsm_batch *b, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    batch_put(b, slice_make(key, klen), slice_make(val, vlen));
}

void lsm_batch_delete(struct lsm_batch *b, const void *key, size_t klen)
{
    batch_delete(b, slice_make(key, klen));
}

int lsm_batch_patch(struct lsm_batch *b, const void *key, size_t klen, const void *data,
                    size_t n)
{
    if (n == 0 || n > LSM_PATCH_MAX)
        return LSM_EINVAL;
    batch_add(b, BATCH_OP_PATCH, slice_make(key, klen), &(struct slice){ data, n });
    return 0;
}

uint32_t lsm_batch_count(const struct lsm_batch *b)
{
    return batch_count_raw(buf_slice(&b->rep));
}

size_t lsm_batch_size(const struct lsm_batch *b)
{
    return b->rep.len;
}
