/* dbformat.c: internal keys (see dbformat.h). */
#include "engine/dbformat.h"

#include <string.h>

#include "util/coding.h"

void ikey_append(struct buf *b, struct slice user_key, uint64_t seq, int type)
{
    char t[LSM_TRAILER_LEN];

    buf_append(b, user_key.data, user_key.len);
    encode_fixed64(t, dbformat_pack(seq, type));
    buf_append(b, t, sizeof t);
}

int ikey_parse(struct slice ikey, struct ikey_parsed *out)
{
    uint64_t tr;
    int type;

    if (ikey.len < LSM_TRAILER_LEN)
        return -1;
    tr = decode_fixed64(ikey.data + ikey.len - LSM_TRAILER_LEN);
    type = (int)(tr & 0xff);
    if (type > LSM_TYPE_SEEK)
        return -1;
    out->user_key = slice_make(ikey.data, ikey.len - LSM_TRAILER_LEN);
    out->seq = tr >> 8;
    out->type = type;
    return 0;
}

uint64_t ikey_trailer(struct slice ikey)
{
    return decode_fixed64(ikey.data + ikey.len - LSM_TRAILER_LEN);
}

/* Keys shorter than the trailer (only a damaged table has them) sort before
 * every internal key, bytewise among themselves: a seek over them stays in
 * bounds and the order stays total; readers report them (ikey_parse). */
static int short_key_compare(struct slice a, struct slice b)
{
    if (a.len >= LSM_TRAILER_LEN)
        return 1;
    if (b.len >= LSM_TRAILER_LEN)
        return -1;
    return slice_compare(a, b);
}

int ikey_compare(struct slice a, struct slice b)
{
    struct slice ua, ub;
    size_t n;
    int r;
    uint64_t ta, tb;

    if (a.len < LSM_TRAILER_LEN || b.len < LSM_TRAILER_LEN)
        return short_key_compare(a, b);
    ua = ikey_user_key(a);
    ub = ikey_user_key(b);
    n = ua.len < ub.len ? ua.len : ub.len;
    r = n ? memcmp(ua.data, ub.data, n) : 0;
    if (r != 0)
        return r;
    if (ua.len != ub.len)
        return ua.len < ub.len ? -1 : 1;
    /* Same user key: larger trailer (newer) sorts first. */
    ta = ikey_trailer(a);
    tb = ikey_trailer(b);
    if (ta > tb)
        return -1;
    if (ta < tb)
        return 1;
    return 0;
}

/* Appends user key u with the seek trailer (max seq, highest type). */
static void append_seek_key(struct buf *out, const char *u, size_t n)
{
    ikey_append(out, slice_make(u, n), LSM_MAX_SEQ, LSM_TYPE_SEEK);
}

void ikey_find_shortest_separator(struct buf *out, struct slice a, struct slice b)
{
    struct slice ua = ikey_user_key(a), ub = ikey_user_key(b);
    size_t min = ua.len < ub.len ? ua.len : ub.len;
    size_t i = 0;

    while (i < min && ua.data[i] == ub.data[i])
        i++;
    if (i < min) {
        uint8_t c = (uint8_t)ua.data[i];
        if (c < 0xff && c + 1 < (uint8_t)ub.data[i]) {
            /* ua[0..i] with its byte i incremented is > ua and < ub. */
            size_t start = out->len;
            append_seek_key(out, ua.data, i + 1);
            out->data[start + i] = (char)(c + 1);
            return;
        }
    }
    /* No shorter separator: keep a unchanged. */
    buf_append(out, a.data, a.len);
}

void ikey_find_short_successor(struct buf *out, struct slice a)
{
    struct slice ua = ikey_user_key(a);
    size_t i;

    for (i = 0; i < ua.len; i++) {
        uint8_t c = (uint8_t)ua.data[i];
        if (c != 0xff) {
            size_t start = out->len;
            append_seek_key(out, ua.data, i + 1);
            out->data[start + i] = (char)(c + 1);
            return;
        }
    }
    /* All 0xff: a itself is the successor. */
    buf_append(out, a.data, a.len);
}
