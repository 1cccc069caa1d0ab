/* Unit tests of server/hll: the bytes Redis 7.0.15 writes for the same
 * elements (an element's register and value, a small sparse HLL, a 20,000
 * element sparse one, a 100,000 element dense one), the estimates Redis
 * gives, the dense register packing (the last register included), sparse
 * and dense agreeing register for register, promotion at sparse_max and
 * at a value above 32, corrupt sparse forms refused without a change, the
 * cache bits, PFDEBUG DECODE's text and the self-test. Every expected byte
 * and number was taken from redis-server 7.0.15. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "server/hll.h"
#include "util/zmalloc.h"
#include "util_test.h"

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static void add_numbers(struct buf *b, int from, int to, size_t sparse_max)
{
    for (int i = from; i <= to; i++) {
        char e[16];
        int n = snprintf(e, sizeof e, "%d", i);
        ck_assert_int_ge(hll_add(b, e, (size_t)n, sparse_max), 0);
    }
}

static const char *decoded(const struct buf *b)
{
    static struct buf text;
    buf_clear(&text);
    hll_decode(b->data, b->len, &text);
    return buf_cstr(&text);
}

static void from_hex(struct buf *b, const char *hex)
{
    buf_clear(b);
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
        buf_append_byte(b, (char)v);
    }
}

/* Each element's register and value as Redis' PFDEBUG DECODE shows them. */
START_TEST(elements_land_where_redis_puts_them)
{
    static const struct {
        const char *ele;
        size_t len;
        const char *text;
    } cases[] = {
        { "a", 1, "Z:12711 v:2,1 Z:3672" },
        { "foo", 3, "Z:7348 v:5,1 Z:9035" },
        { "", 0, "Z:5938 v:2,1 Z:10445" },
        { "hello world, twenty!", 20, "Z:9798 v:5,1 Z:6585" },
        { "\0\r\n", 3, "Z:13988 v:2,1 Z:2395" },
        { "12345678", 8, "Z:10579 v:3,1 Z:5804" },
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hll_init(&b);
        ck_assert_str_eq(decoded(&b), "Z:16384");
        ck_assert_int_eq(hll_add(&b, cases[i].ele, cases[i].len, 3000), 1);
        ck_assert_int_eq(hll_add(&b, cases[i].ele, cases[i].len, 3000), 0);
        ck_assert_str_eq(decoded(&b), cases[i].text);
    }
    buf_free(&b);
}
END_TEST

START_TEST(small_sparse_bytes_and_cache)
{
    struct buf b = BUF_INIT, want = BUF_INIT;
    hll_init(&b);
    ck_assert_uint_eq(b.len, 18);
    ck_assert(hll_valid(b.data, b.len));
    ck_assert_int_eq(hll_encoding(b.data), HLL_SPARSE);
    uint64_t card = 99;
    ck_assert_int_eq(hll_cache_get(b.data, &card), 1);
    ck_assert_uint_eq(card, 0);
    ck_assert_int_eq(hll_add(&b, "a", 1, 3000), 1);
    ck_assert_int_eq(hll_add(&b, "b", 1, 3000), 1);
    ck_assert_int_eq(hll_add(&b, "c", 1, 3000), 1);
    hll_invalidate(b.data);
    ck_assert_int_eq(hll_cache_get(b.data, &card), 0);
    from_hex(&want, "48594c4c01000000000000000000008060f38050b1844bfb80425a");
    ck_assert_mem_eq(b.data, want.data, want.len);
    ck_assert_uint_eq(b.len, want.len);
    ck_assert_int_eq(hll_count(b.data, b.len, &card), 0);
    ck_assert_uint_eq(card, 3);
    hll_cache_set(b.data, card);
    from_hex(&want, "48594c4c01000000030000000000000060f38050b1844bfb80425a");
    ck_assert_mem_eq(b.data, want.data, want.len);
    ck_assert_int_eq(hll_cache_get(b.data, &card), 1);
    ck_assert_uint_eq(card, 3);

    hll_init(&b);
    add_numbers(&b, 1, 10, 3000);
    hll_invalidate(b.data);
    from_hex(&want, "48594c4c01000000000000000000008041ee844823805351804ce0804092804c3f80"
                    "42d78042128c40b88015844322");
    ck_assert_uint_eq(b.len, want.len);
    ck_assert_mem_eq(b.data, want.data, want.len);
    ck_assert_int_eq(hll_count(b.data, b.len, &card), 0);
    ck_assert_uint_eq(card, 10);
    buf_free(&b);
    buf_free(&want);
}
END_TEST

/* Larger HLLs: Redis' length, estimate and a hash of its bytes. */
START_TEST(large_hlls_match_redis_bytes)
{
    struct buf b = BUF_INIT;
    uint64_t card;
    hll_init(&b);
    add_numbers(&b, 1, 1000, 3000);
    ck_assert_uint_eq(b.len, 1922);
    ck_assert_int_eq(hll_count(b.data, b.len, &card), 0);
    ck_assert_uint_eq(card, 1001);

    hll_init(&b);
    add_numbers(&b, 1, 20000, 100000);
    hll_invalidate(b.data);
    ck_assert_int_eq(hll_encoding(b.data), HLL_SPARSE);
    ck_assert_uint_eq(b.len, 13080);
    ck_assert_uint_eq(fnv1a(b.data, b.len), 0xa32c793ce3c2efc5ull);

    hll_init(&b);
    add_numbers(&b, 1, 100000, 3000);
    hll_invalidate(b.data);
    ck_assert_int_eq(hll_encoding(b.data), HLL_DENSE);
    ck_assert_uint_eq(b.len, HLL_DENSE_SIZE);
    ck_assert_uint_eq(fnv1a(b.data, b.len), 0x1dd51ecdcaaba319ull);
    ck_assert_int_eq(hll_count(b.data, b.len, &card), 0);
    ck_assert_uint_eq(card, 99562);
    buf_free(&b);
}
END_TEST

START_TEST(dense_registers_are_independent)
{
    struct buf b = BUF_INIT;
    hll_init(&b);
    ck_assert_int_eq(hll_to_dense(&b), 1);
    ck_assert_int_eq(hll_to_dense(&b), 0);
    ck_assert_uint_eq(b.len, HLL_DENSE_SIZE);
    /* Raise every register to a pseudo-random value, in a shuffled order,
     * then read them all back; the header is left alone. */
    static uint8_t want[HLL_REGISTERS];
    uint64_t st = ut_seed();
    for (int i = 0; i < HLL_REGISTERS; i++)
        want[i] = (uint8_t)(ut_rand(&st) % 64);
    want[HLL_REGISTERS - 1] = 63;
    for (int k = 0; k < HLL_REGISTERS; k++) {
        int i = (int)(((uint64_t)k * 7919) % HLL_REGISTERS);
        ck_assert_int_eq(hll_raise(&b, i, want[i], 0), want[i] > 0);
    }
    for (int i = 0; i < HLL_REGISTERS; i++)
        ck_assert_int_eq(hll_dense_get(b.data, i), want[i]);
    ck_assert_int_eq(hll_raise(&b, 5, want[5], 0), 0);      /* not higher */
    ck_assert_mem_eq(b.data, "HYLL\0\0\0\0", 8);
    buf_free(&b);
}
END_TEST

/* The same elements, sparse and dense: the same registers and estimate. */
START_TEST(sparse_and_dense_agree)
{
    struct buf s = BUF_INIT, d = BUF_INIT;
    hll_init(&s);
    hll_init(&d);
    hll_to_dense(&d);
    uint64_t st = ut_seed();
    for (int i = 0; i < 5000; i++) {
        uint64_t e = ut_rand(&st);
        int rs = hll_add(&s, &e, sizeof e, 1 << 20);
        int rd = hll_add(&d, &e, sizeof e, 0);
        ck_assert_int_eq(rs, rd);
    }
    ck_assert_int_eq(hll_encoding(s.data), HLL_SPARSE);
    uint64_t cs, cd;
    ck_assert_int_eq(hll_count(s.data, s.len, &cs), 0);
    ck_assert_int_eq(hll_count(d.data, d.len, &cd), 0);
    ck_assert_uint_eq(cs, cd);
    ck_assert(cs > 4800 && cs < 5200);
    static uint8_t ms[HLL_REGISTERS], md[HLL_REGISTERS];
    ck_assert_int_eq(hll_merge(ms, s.data, s.len), 0);
    ck_assert_int_eq(hll_merge(md, d.data, d.len), 0);
    ck_assert_mem_eq(ms, md, HLL_REGISTERS);
    ck_assert_uint_eq(hll_count_registers(ms), cs);
    ck_assert_int_eq(hll_to_dense(&s), 1);
    ck_assert_mem_eq(s.data + HLL_HDR_SIZE, d.data + HLL_HDR_SIZE,
                     HLL_DENSE_SIZE - HLL_HDR_SIZE);
    buf_free(&s);
    buf_free(&d);
}
END_TEST

/* hll_would_add answers what hll_add then does, sparse and dense. */
START_TEST(would_add_predicts_add)
{
    struct buf s = BUF_INIT, d = BUF_INIT;
    hll_init(&s);
    hll_init(&d);
    hll_to_dense(&d);
    uint64_t st = ut_seed();
    for (int i = 0; i < 20000; i++) {
        uint64_t e = ut_rand(&st) % 3000;      /* repeats, so many add nothing */
        int ws = hll_would_add(s.data, s.len, &e, sizeof e);
        int wd = hll_would_add(d.data, d.len, &e, sizeof e);
        ck_assert_int_eq(hll_add(&s, &e, sizeof e, 1 << 20), ws);
        ck_assert_int_eq(hll_add(&d, &e, sizeof e, 0), wd);
    }
    ck_assert_int_eq(hll_encoding(s.data), HLL_SPARSE);
    /* where no opcode covers the element's register: a change (hll_add
     * then reports the corruption) */
    from_hex(&s, "48594c4c010000000000000000000080");
    ck_assert_int_eq(hll_would_add(s.data, s.len, "a", 1), 1);
    ck_assert_int_eq(hll_add(&s, "a", 1, 3000), -1);
    buf_free(&s);
    buf_free(&d);
}
END_TEST

START_TEST(sparse_becomes_dense_past_its_limit)
{
    struct buf b = BUF_INIT;
    hll_init(&b);
    int i = 0;
    while (hll_encoding(b.data) == HLL_SPARSE) {
        ck_assert_uint_le(b.len, 100);
        char e[16];
        int n = snprintf(e, sizeof e, "e%d", i++);
        ck_assert_int_ge(hll_add(&b, e, (size_t)n, 100), 0);
    }
    ck_assert_uint_eq(b.len, HLL_DENSE_SIZE);
    ck_assert_int_gt(i, 10);
    /* A value above 32 does not fit a VAL opcode: dense at once. */
    hll_init(&b);
    ck_assert_int_eq(hll_raise(&b, 77, 33, 3000), 1);
    ck_assert_int_eq(hll_encoding(b.data), HLL_DENSE);
    ck_assert_int_eq(hll_dense_get(b.data, 77), 33);
    hll_init(&b);
    ck_assert_int_eq(hll_raise(&b, 77, 32, 3000), 1);
    ck_assert_str_eq(decoded(&b), "Z:77 v:32,1 Z:16306");
    buf_free(&b);
}
END_TEST

/* Neighbouring equal values merge into one VAL opcode of up to 4. */
START_TEST(sparse_runs_split_and_merge)
{
    struct buf b = BUF_INIT;
    hll_init(&b);
    ck_assert_int_eq(hll_raise(&b, 10, 3, 3000), 1);
    ck_assert_int_eq(hll_raise(&b, 12, 3, 3000), 1);
    ck_assert_str_eq(decoded(&b), "z:10 v:3,1 z:1 v:3,1 Z:16371");
    ck_assert_int_eq(hll_raise(&b, 11, 3, 3000), 1);
    ck_assert_str_eq(decoded(&b), "z:10 v:3,3 Z:16371");
    ck_assert_int_eq(hll_raise(&b, 13, 3, 3000), 1);
    ck_assert_str_eq(decoded(&b), "z:10 v:3,4 Z:16370");
    ck_assert_int_eq(hll_raise(&b, 14, 3, 3000), 1);
    ck_assert_str_eq(decoded(&b), "z:10 v:3,4 v:3,1 Z:16369");
    ck_assert_int_eq(hll_raise(&b, 11, 2, 3000), 0);
    ck_assert_int_eq(hll_raise(&b, 11, 5, 3000), 1);
    ck_assert_str_eq(decoded(&b), "z:10 v:3,1 v:5,1 v:3,3 Z:16369");
    ck_assert_int_eq(hll_raise(&b, 0, 1, 3000), 1);
    ck_assert_int_eq(hll_raise(&b, 16383, 1, 3000), 1);
    ck_assert_str_eq(decoded(&b), "v:1,1 z:9 v:3,1 v:5,1 v:3,3 Z:16368 v:1,1");
    buf_free(&b);
}
END_TEST

/* A sparse form whose runs do not cover exactly 16384 registers. */
START_TEST(corrupt_sparse_is_refused_unchanged)
{
    static const char *bodies[] = {
        "7fff00",        /* XZERO 16384 + ZERO 1 */
        "807fff",        /* VAL + XZERO 16384 */
        "7fffa5",        /* a VAL run past the end */
        "7ffea5",
        "7f",            /* XZERO cut short */
        "",              /* no opcode at all */
        "7ffe",          /* 16383 */
    };
    struct buf b = BUF_INIT, copy = BUF_INIT;
    static uint8_t max[HLL_REGISTERS];
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char hex[128];
        snprintf(hex, sizeof hex, "48594c4c010000000000000000000080%s", bodies[i]);
        from_hex(&b, hex);
        ck_assert(hll_valid(b.data, b.len));
        buf_set(&copy, b.data, b.len);
        uint64_t card;
        ck_assert_int_eq(hll_count(b.data, b.len, &card), -1);
        ck_assert_int_eq(hll_merge(max, b.data, b.len), -1);
        ck_assert_int_eq(hll_to_dense(&b), -1);
        ck_assert_int_eq(hll_raise(&b, 0, 40, 3000), -1);      /* needs dense */
        ck_assert_uint_eq(b.len, copy.len);
        ck_assert_mem_eq(b.data, copy.data, copy.len);
    }
    /* A register no opcode covers can't be raised. */
    from_hex(&b, "48594c4c0100000000000000000000807ffe");
    ck_assert_int_eq(hll_raise(&b, HLL_REGISTERS - 1, 2, 3000), -1);
    ck_assert_int_eq(hll_raise(&b, HLL_REGISTERS - 2, 2, 3000), 1);
    /* XZERO 16383 + XZERO cut short: Redis reads the missing byte as 0. */
    from_hex(&b, "48594c4c0100000000000000000000807ffe40");
    uint64_t card;
    ck_assert_int_eq(hll_count(b.data, b.len, &card), 0);
    ck_assert_uint_eq(card, 0);
    buf_free(&b);
    buf_free(&copy);
}
END_TEST

START_TEST(validity)
{
    static char dense[HLL_DENSE_SIZE + 1] = "HYLL";
    ck_assert(hll_valid(dense, HLL_DENSE_SIZE));
    ck_assert(!hll_valid(dense, HLL_DENSE_SIZE + 1));
    ck_assert(!hll_valid(dense, HLL_DENSE_SIZE - 1));
    dense[4] = 1;
    ck_assert(hll_valid(dense, 16));
    ck_assert(!hll_valid(dense, 15));
    dense[4] = 2;
    ck_assert(!hll_valid(dense, 100));
    ck_assert(!hll_valid("HYLX\1\0\0\0\0\0\0\0\0\0\0\0", 16));
    ck_assert(!hll_valid("", 0));
}
END_TEST

START_TEST(selftest_passes)
{
    char err[128] = "";
    ck_assert_int_eq(hll_selftest(err, sizeof err), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hll");
    TCase *tc = tcase_create("hll");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, elements_land_where_redis_puts_them);
    tcase_add_test(tc, small_sparse_bytes_and_cache);
    tcase_add_test(tc, large_hlls_match_redis_bytes);
    tcase_add_test(tc, dense_registers_are_independent);
    tcase_add_test(tc, sparse_and_dense_agree);
    tcase_add_test(tc, would_add_predicts_add);
    tcase_add_test(tc, sparse_becomes_dense_past_its_limit);
    tcase_add_test(tc, sparse_runs_split_and_merge);
    tcase_add_test(tc, corrupt_sparse_is_refused_unchanged);
    tcase_add_test(tc, validity);
    tcase_add_test(tc, selftest_passes);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
