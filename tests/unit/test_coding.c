/* Unit tests of util/coding: layouts, round trips, and bounds checking of
 * every decoder (truncation and overflow must fail, never over-read). */
#include <string.h>

#include "util/coding.h"
#include "util/zmalloc.h"
#include "util_test.h"

static const uint64_t samples64[] = {
    0, 1, 127, 128, 255, 256, 16383, 16384, 2097151, 2097152, 268435455,
    268435456, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
    0x7ffffffffull, 0x800000000ull, (1ull << 49) - 1, 1ull << 49,
    (1ull << 56) - 1, 1ull << 56, (1ull << 63) - 1, 1ull << 63, ~0ull,
};
#define NSAMPLES (sizeof(samples64) / sizeof(samples64[0]))

START_TEST(fixed_is_little_endian)
{
    char b[8];
    encode_fixed16(b, 0x0102);
    ck_assert(memcmp(b, "\x02\x01", 2) == 0);
    ck_assert_uint_eq(decode_fixed16(b), 0x0102);
    encode_fixed32(b, 0x01020304u);
    ck_assert(memcmp(b, "\x04\x03\x02\x01", 4) == 0);
    ck_assert_uint_eq(decode_fixed32(b), 0x01020304u);
    encode_fixed64(b, 0x0102030405060708ull);
    ck_assert(memcmp(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8) == 0);
    ck_assert_uint_eq(decode_fixed64(b), 0x0102030405060708ull);
    encode_fixed32(b, 0xfffffffeu);
    ck_assert_uint_eq(decode_fixed32(b), 0xfffffffeu);
    encode_fixed64(b, ~0ull - 1);
    ck_assert_uint_eq(decode_fixed64(b), ~0ull - 1);
}
END_TEST

START_TEST(varint_layout_matches_leveldb)
{
    char b[VARINT64_MAX_LEN];
    ck_assert_int_eq(encode_varint32(b, 0) - b, 1);
    ck_assert_int_eq((unsigned char)b[0], 0);
    ck_assert_int_eq(encode_varint32(b, 300) - b, 2);
    ck_assert(memcmp(b, "\xac\x02", 2) == 0);
    ck_assert_int_eq(encode_varint32(b, 0xffffffffu) - b, 5);
    ck_assert(memcmp(b, "\xff\xff\xff\xff\x0f", 5) == 0);
    ck_assert_int_eq(encode_varint64(b, ~0ull) - b, 10);
    ck_assert(memcmp(b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10) == 0);
}
END_TEST

START_TEST(varint64_round_trip_and_length)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        char b[VARINT64_MAX_LEN];
        uint64_t v = samples64[i], got = 12345;
        char *end = encode_varint64(b, v);
        ck_assert_int_eq(end - b, varint_length(v));
        const char *q = decode_varint64(b, end, &got);
        ck_assert_ptr_eq(q, end);
        ck_assert_uint_eq(got, v);
    }
}
END_TEST

START_TEST(varint32_round_trip_and_length)
{
    for (uint32_t v = 0; v < (1u << 15); v++) {
        char b[VARINT32_MAX_LEN];
        uint32_t got;
        char *end = encode_varint32(b, v);
        ck_assert_int_eq(end - b, varint_length(v));
        ck_assert_ptr_eq(decode_varint32(b, end, &got), end);
        ck_assert_uint_eq(got, v);
    }
    for (size_t i = 0; i < NSAMPLES; i++) {
        if (samples64[i] > 0xffffffffull)
            continue;
        char b[VARINT32_MAX_LEN];
        uint32_t v = (uint32_t)samples64[i], got;
        char *end = encode_varint32(b, v);
        ck_assert_ptr_eq(decode_varint32(b, end, &got), end);
        ck_assert_uint_eq(got, v);
    }
}
END_TEST

START_TEST(varint_every_truncation_fails)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        /* exact-size heap copies so ASan catches any over-read */
        char tmp[VARINT64_MAX_LEN];
        int len = (int)(encode_varint64(tmp, samples64[i]) - tmp);
        for (int cut = 0; cut < len; cut++) {
            char *b = zmalloc((size_t)cut + 1);
            memcpy(b, tmp, (size_t)cut);
            uint64_t v64;
            uint32_t v32;
            ck_assert_ptr_null(decode_varint64(b, b + cut, &v64));
            ck_assert_ptr_null(decode_varint32(b, b + cut, &v32));
            struct slice in = slice_make(b, (size_t)cut);
            ck_assert_int_eq(get_varint64(&in, &v64), -1);
            in = slice_make(b, (size_t)cut);
            ck_assert_int_eq(get_varint32(&in, &v32), -1);
            zfree(b);
        }
    }
}
END_TEST

START_TEST(varint_overflow_rejected)
{
    uint32_t v32;
    uint64_t v64;
    /* 2^32 does not fit a varint32 */
    const char over32[] = "\x80\x80\x80\x80\x10";
    ck_assert_ptr_null(decode_varint32(over32, over32 + 5, &v32));
    ck_assert_ptr_nonnull(decode_varint64(over32, over32 + 5, &v64));
    ck_assert_uint_eq(v64, 1ull << 32);
    /* 0xffffffff is the largest */
    const char max32[] = "\xff\xff\xff\xff\x0f";
    ck_assert_ptr_eq(decode_varint32(max32, max32 + 5, &v32), max32 + 5);
    ck_assert_uint_eq(v32, 0xffffffffu);
    /* a sixth byte is too long for varint32 even if the value is small */
    const char long32[] = "\x80\x80\x80\x80\x80\x00";
    ck_assert_ptr_null(decode_varint32(long32, long32 + 6, &v32));
    /* varint64: 10th byte may only be 0 or 1 */
    const char over64[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02";
    ck_assert_ptr_null(decode_varint64(over64, over64 + 10, &v64));
    const char long64[] = "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00";
    ck_assert_ptr_null(decode_varint64(long64, long64 + 11, &v64));
    struct slice in = slice_make(over64, 10);
    ck_assert_int_eq(get_varint64(&in, &v64), -1);
    in = slice_make(over32, 5);
    ck_assert_int_eq(get_varint32(&in, &v32), -1);
}
END_TEST

START_TEST(put_get_stream_round_trip)
{
    struct buf b = BUF_INIT;
    uint64_t seed = ut_seed(), st = seed;
    uint64_t vals[500];
    for (int i = 0; i < 500; i++) {
        vals[i] = ut_rand(&st) >> (ut_rand(&st) % 64);
        put_varint64(&b, vals[i]);
        put_varint32(&b, (uint32_t)vals[i]);
        put_fixed32(&b, (uint32_t)vals[i]);
        put_fixed64(&b, vals[i]);
        char key[32];
        int kn = snprintf(key, sizeof(key), "k%d", i);
        put_length_prefixed(&b, slice_make(key, (size_t)kn));
    }
    struct slice in = buf_slice(&b);
    for (int i = 0; i < 500; i++) {
        uint64_t v64;
        uint32_t v32;
        struct slice s;
        ck_assert_int_eq(get_varint64(&in, &v64), 0);
        ck_assert_uint_eq(v64, vals[i]);
        ck_assert_int_eq(get_varint32(&in, &v32), 0);
        ck_assert_uint_eq(v32, (uint32_t)vals[i]);
        ck_assert_int_eq(get_fixed32(&in, &v32), 0);
        ck_assert_uint_eq(v32, (uint32_t)vals[i]);
        ck_assert_int_eq(get_fixed64(&in, &v64), 0);
        ck_assert_uint_eq(v64, vals[i]);
        ck_assert_int_eq(get_length_prefixed(&in, &s), 0);
        char key[32];
        int kn = snprintf(key, sizeof(key), "k%d", i);
        ck_assert(slice_equal(s, slice_make(key, (size_t)kn)));
    }
    ck_assert_uint_eq(in.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(get_fixed_and_length_prefixed_truncations_fail)
{
    struct buf b = BUF_INIT;
    put_length_prefixed(&b, slice_cstr("a length-prefixed value of some size"));
    for (size_t cut = 0; cut < b.len; cut++) {
        char *p = zmemdup(b.data, cut);
        struct slice in = slice_make(p, cut), out;
        ck_assert_int_eq(get_length_prefixed(&in, &out), -1);
        in = slice_make(p, cut);
        uint32_t v32;
        uint64_t v64;
        if (cut < 4)
            ck_assert_int_eq(get_fixed32(&in, &v32), -1);
        in = slice_make(p, cut);
        if (cut < 8)
            ck_assert_int_eq(get_fixed64(&in, &v64), -1);
        zfree(p);
    }
    struct slice in = buf_slice(&b), out;
    ck_assert_int_eq(get_length_prefixed(&in, &out), 0);
    ck_assert_uint_eq(out.len, strlen("a length-prefixed value of some size"));
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coding");
    TCase *tc = tcase_create("coding");
    tcase_add_test(tc, fixed_is_little_endian);
    tcase_add_test(tc, varint_layout_matches_leveldb);
    tcase_add_test(tc, varint64_round_trip_and_length);
    tcase_add_test(tc, varint32_round_trip_and_length);
    tcase_add_test(tc, varint_every_truncation_fails);
    tcase_add_test(tc, varint_overflow_rejected);
    tcase_add_test(tc, put_get_stream_round_trip);
    tcase_add_test(tc, get_fixed_and_length_prefixed_truncations_fail);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
