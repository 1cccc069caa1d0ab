/* Unit tests of util/crc32c: standard vectors, extend = one-shot, mask,
 * and hardware == table path on random buffers, alignments and lengths. */
#include <string.h>

#include "util/crc32c.h"
#include "util/zmalloc.h"
#include "util_test.h"

/* Bit-at-a-time reference, independent of the tables. */
static uint32_t crc_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

START_TEST(standard_vectors)
{
    unsigned char b[48];
    memset(b, 0, 32);
    ck_assert_uint_eq(crc32c_value(b, 32), 0x8a9136aau);
    ck_assert_uint_eq(crc32c_extend_sw(0, b, 32), 0x8a9136aau);
    memset(b, 0xff, 32);
    ck_assert_uint_eq(crc32c_value(b, 32), 0x62a8ab43u);
    ck_assert_uint_eq(crc32c_extend_sw(0, b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    ck_assert_uint_eq(crc32c_value(b, 32), 0x46dd794eu);
    ck_assert_uint_eq(crc32c_extend_sw(0, b, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    ck_assert_uint_eq(crc32c_value(b, 32), 0x113fdb5cu);
    ck_assert_uint_eq(crc32c_value("123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(crc32c_extend_sw(0, "123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(crc32c_value("", 0), 0);
    /* iSCSI read command PDU (RFC 3720 B.4) */
    static const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    ck_assert_uint_eq(crc32c_value(pdu, 48), 0xd9963a56u);
    ck_assert_uint_eq(crc32c_extend_sw(0, pdu, 48), 0xd9963a56u);
}
END_TEST

START_TEST(extend_equals_one_shot_at_every_split)
{
    const char *s = "hello world, this is a crc32c extend test of some length";
    size_t n = strlen(s);
    uint32_t whole = crc32c_value(s, n);
    ck_assert_uint_ne(whole, crc32c_value("a", 1));
    for (size_t k = 0; k <= n; k++) {
        ck_assert_uint_eq(crc32c_extend(crc32c_value(s, k), s + k, n - k), whole);
        ck_assert_uint_eq(crc32c_extend_sw(crc32c_extend_sw(0, s, k), s + k, n - k),
                          whole);
    }
}
END_TEST

START_TEST(mask_round_trips_and_changes_value)
{
    uint32_t crc = crc32c_value("foo", 3);
    ck_assert_uint_ne(crc32c_mask(crc), crc);
    ck_assert_uint_ne(crc32c_mask(crc32c_mask(crc)), crc);
    ck_assert_uint_eq(crc32c_unmask(crc32c_mask(crc)), crc);
    ck_assert_uint_eq(crc32c_unmask(crc32c_unmask(crc32c_mask(crc32c_mask(crc)))), crc);
    /* LevelDB's definition: rotate right by 15, add 0xa282ead8 */
    ck_assert_uint_eq(crc32c_mask(0), 0xa282ead8u);
    ck_assert_uint_eq(crc32c_mask(0x8000u), 0xa282ead8u + 1);
    uint64_t st = ut_seed();
    for (int i = 0; i < 10000; i++) {
        uint32_t v = (uint32_t)ut_rand(&st);
        ck_assert_uint_eq(crc32c_unmask(crc32c_mask(v)), v);
    }
}
END_TEST

START_TEST(hw_equals_sw_on_random_buffers)
{
    uint64_t st = ut_seed() + 1;
    unsigned char *buf = zmalloc(70000);
    for (size_t i = 0; i < 70000; i++)
        buf[i] = (unsigned char)ut_rand(&st);
    for (int iter = 0; iter < 3000; iter++) {
        size_t off = ut_rand(&st) % 64;
        size_t len = iter < 200 ? (size_t)iter : ut_rand(&st) % (70000 - 64);
        uint32_t init = (iter & 1) ? (uint32_t)ut_rand(&st) : 0;
        uint32_t hw = crc32c_extend(init, buf + off, len);
        uint32_t sw = crc32c_extend_sw(init, buf + off, len);
        ck_assert_msg(hw == sw, "off %zu len %zu: hw %08x sw %08x", off, len, hw, sw);
        if (len < 4096 && init == 0)
            ck_assert_uint_eq(sw, crc_ref(buf + off, len));
    }
    /* Around the hardware path's three-lane rounds (768 bytes each). */
    for (size_t len = 700; len < 2400; len++) {
        size_t off = ut_rand(&st) % 64;
        uint32_t init = (uint32_t)ut_rand(&st);
        ck_assert_uint_eq(crc32c_extend(init, buf + off, len),
                          crc32c_extend_sw(init, buf + off, len));
    }
    zfree(buf);
}
END_TEST

START_TEST(hw_detection_reports)
{
    int hw = crc32c_hw_available();
    ck_assert(hw == 0 || hw == 1);
    fprintf(stderr, "# crc32c hardware path: %s\n", hw ? "sse4.2" : "table");
#if defined(__x86_64__)
    __builtin_cpu_init();
    ck_assert_int_eq(hw, __builtin_cpu_supports("sse4.2") ? 1 : 0);
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, standard_vectors);
    tcase_add_test(tc, extend_equals_one_shot_at_every_split);
    tcase_add_test(tc, mask_round_trips_and_changes_value);
    tcase_add_test(tc, hw_equals_sw_on_random_buffers);
    tcase_add_test(tc, hw_detection_reports);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
