/* Unit tests of util/crc64, util/lzf and server/dump: the CRC-64 check
 * value, LZF runs and every malformed input, DUMP payloads byte for byte
 * as redis-server 7.0.15 writes them, and RESTORE's reading of payloads
 * (Redis' quirks included) with random inputs that must never crash. */
#include <stdint.h>
#include <string.h>

#include "server/dump.h"
#include "util/coding.h"
#include "util/crc64.h"
#include "util/lzf.h"
#include "util/slice.h"
#include "util/zmalloc.h"
#include "util_test.h"

START_TEST(crc64_check_value)
{
    ck_assert_uint_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(crc64(crc64(0, "1234", 4), "56789", 5), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(crc64(0, "", 0), 0);
}
END_TEST

START_TEST(lzf_runs_and_errors)
{
    char out[64];
    /* a literal run of 2, then 19 bytes back 1: "a" x 21 */
    ck_assert_uint_eq(lzf_decompress("\x01\x61\x61\xe0\x0a\x00", 6, out, 21), 21);
    for (int i = 0; i < 21; i++)
        ck_assert_int_eq(out[i], 'a');
    ck_assert_uint_eq(lzf_decompress("\x02" "abc\x20\x02", 6, out, 6), 6);   /* 3 back 3 */
    ck_assert_int_eq(memcmp(out, "abcabc", 6), 0);
    ck_assert_uint_eq(lzf_decompress("\x02" "ab", 3, out, 64), 0);       /* run cut short */
    ck_assert_uint_eq(lzf_decompress("\x02" "abc", 4, out, 2), 0);       /* output full */
    ck_assert_uint_eq(lzf_decompress("\x00" "a\x20\x05", 4, out, 64), 0); /* before start */
    ck_assert_uint_eq(lzf_decompress("\x00" "a\xe0", 3, out, 64), 0);    /* no length byte */
    ck_assert_uint_eq(lzf_decompress("\x00" "a\x20", 3, out, 64), 0);    /* no offset byte */
    ck_assert_uint_eq(lzf_decompress("\x00" "a\x20\x00", 4, out, 2), 0); /* copy overflows */
    ck_assert_uint_eq(lzf_decompress("", 0, out, 64), 0);
}
END_TEST

static void expect_dump(const char *v, size_t n, const char *hex)
{
    struct buf b = BUF_INIT;
    char got[256] = "";
    dump_string(v, n, &b);
    for (size_t i = 0; i < b.len && 2 * i + 2 < sizeof got; i++)
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)b.data[i]);
    ck_assert_msg(strcmp(got, hex) == 0, "DUMP of \"%.*s\": %s, Redis: %s", (int)n, v, got, hex);
    ck_assert(dump_verify(b.data, b.len));
    struct buf back = BUF_INIT;
    ck_assert_int_eq(dump_load_string(b.data, b.len, 1 << 20, &back), 0);
    ck_assert(back.len == n && memcmp(back.data, v, n) == 0);
    buf_free(&back);
    buf_free(&b);
}

/* The payloads redis-server 7.0.15's DUMP gave for the same strings. */
START_TEST(dump_as_redis)
{
    expect_dump("", 0, "00000a005d9b5c400f7fa2da");
    expect_dump("1", 1, "00c0010a002678e7b6d10111fc");
    expect_dump("-1", 2, "00c0ff0a000c937e2485089dc5");
    expect_dump("128", 3, "00c180000a00eb7ab3b510cf4b65");
    expect_dump("-129", 4, "00c17fff0a001760822854808480");
    expect_dump("32768", 5, "00c2008000000a0045d82eedd5bda910");
    expect_dump("2147483647", 10, "00c2ffffff7f0a002c74e59ee02eada1");
    expect_dump("2147483648", 10, "000a323134373438333634380a00e7b129a34c1d76ee");
    expect_dump("-2147483648", 11, "00c2000000800a00c74f873e33558187");
    expect_dump("01", 2, "000230310a006cddc441144c7da4");
    expect_dump("+1", 2, "00022b310a00c286f0d7439aee6f");
    expect_dump("12345678901", 11, "000b31323334353637383930310a00304e52d727176510");
    expect_dump("abc", 3, "00036162630a00d9ac303d4172a2e2");
    expect_dump("aaaaaaaaaaaaaaaaaaaa", 20,
                "001461616161616161616161616161616161616161610a0083b46b5e1b11acf1");
}
END_TEST

/* A payload: body (it may be out itself), version, CRC-64. */
static size_t mk(char *out, const char *body, size_t n, unsigned version)
{
    memmove(out, body, n);
    encode_fixed16(out + n, (uint16_t)version);
    encode_fixed64(out + n + 2, crc64(0, out, n + 2));
    return n + 10;
}

static int load(const char *body, size_t n, struct buf *out)
{
    char p[128];
    size_t pn = mk(p, body, n, DUMP_RDB_VERSION);
    ck_assert(dump_verify(p, pn));
    return dump_load_string(p, pn, 1 << 20, out);
}

START_TEST(restore_reading)
{
    struct buf v = BUF_INIT;
    char p[64];
    /* version and checksum */
    size_t pn = mk(p, "\x00\x01x", 3, 9);
    ck_assert(dump_verify(p, pn));
    pn = mk(p, "\x00\x01x", 3, 11);
    ck_assert(!dump_verify(p, pn));
    pn = mk(p, "\x00\x01x", 3, 10);
    p[pn - 1] ^= 1;
    ck_assert(!dump_verify(p, pn));
    ck_assert(!dump_verify(p, 9));
    /* encodings */
    ck_assert_int_eq(load("\x00\xc0\x05", 3, &v), 0);
    ck_assert(v.len == 1 && v.data[0] == '5');
    ck_assert_int_eq(load("\x00\xc1\x05\x80", 4, &v), 0);
    ck_assert(v.len == 6 && memcmp(v.data, "-32763", 6) == 0);
    ck_assert_int_eq(load("\x00\xc2\x05\x80\x00\x80", 6, &v), 0);
    ck_assert(v.len == 11 && memcmp(v.data, "-2147450875", 11) == 0);
    ck_assert_int_eq(load("\x00\x40\x03" "abc", 6, &v), 0);                     /* 14 bits */
    ck_assert(v.len == 3 && memcmp(v.data, "abc", 3) == 0);
    ck_assert_int_eq(load("\x00\x80\x00\x00\x00\x03" "abc", 9, &v), 0);         /* 32 bits */
    ck_assert_int_eq(load("\x00\x81\x00\x00\x00\x00\x00\x00\x00\x03" "abc", 13, &v), 0);
    ck_assert(v.len == 3 && memcmp(v.data, "abc", 3) == 0);
    ck_assert_int_eq(load("\x00\xc3\x06\x15\x01\x61\x61\xe0\x0a\x00", 10, &v), 0);  /* LZF */
    ck_assert_uint_eq(v.len, 21);
    /* Redis' reader runs on into the footer: "ab" and 3 footer bytes. */
    ck_assert_int_eq(load("\x00\x05" "ab", 4, &v), 0);
    ck_assert_uint_eq(v.len, 5);
    /* an empty LZF string takes any data (liblzf's 0 is also its error) */
    ck_assert_int_eq(load("\x00\xc3\x02\x00\x01" "ab", 7, &v), 0);
    ck_assert_uint_eq(v.len, 0);
    /* bad data */
    ck_assert_int_eq(load("", 0, &v), -1);                        /* the version as type */
    ck_assert_int_eq(load("\x0e\x00", 2, &v), -1);                /* not a string */
    ck_assert_int_eq(load("\x00\x85", 2, &v), -1);                /* unknown length form */
    ck_assert_int_eq(load("\x00\xc4", 2, &v), -1);                /* unknown encoding */
    ck_assert_int_eq(load("\x00\xc3\x03\x05\x02" "abc", 8, &v), -1);   /* LZF gives 3 of 5 */
    ck_assert_int_eq(load("\x00\x3f" "abc", 5, &v), -1);          /* past the payload */
    ck_assert_int_eq(load("\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff", 10, &v), -1);
    pn = mk(p, "\x00\x10" "0123456789abcdef", 18, 10);
    ck_assert_int_eq(dump_load_string(p, pn, 15, &v), -1);        /* longer than max */
    ck_assert_int_eq(dump_load_string(p, pn, 16, &v), 0);
    buf_free(&v);
}
END_TEST

/* Random bytes and random mutations of valid payloads: an answer, never a
 * crash or a read out of bounds (ASan). */
START_TEST(restore_random_inputs)
{
    uint64_t st = ut_seed() | 1;
    struct buf v = BUF_INIT, good = BUF_INIT;
    char p[96];
    dump_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 38, &good);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)(ut_rand(&st) % 40);
        for (size_t i = 0; i < n; i++)
            p[i] = (char)ut_rand(&st);
        if (round % 2) {
            p[0] = 0;                                   /* a string, mostly */
            if (n > 1 && ut_rand(&st) % 2)
                p[1] = (char)(0xc0 | (ut_rand(&st) % 4));
        }
        size_t pn = mk(p, p, n, DUMP_RDB_VERSION);
        ck_assert(dump_verify(p, pn));
        int rc = dump_load_string(p, pn, 64, &v);
        ck_assert(rc == 0 || rc == -1);
        ck_assert(rc < 0 || v.len <= 64);
        (void)dump_verify(good.data, (size_t)(ut_rand(&st) % (good.len + 1)));
    }
    buf_free(&v);
    buf_free(&good);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dump");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crc64_check_value);
    tcase_add_test(tc, lzf_runs_and_errors);
    tcase_add_test(tc, dump_as_redis);
    tcase_add_test(tc, restore_reading);
    tcase_add_test(tc, restore_random_inputs);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
