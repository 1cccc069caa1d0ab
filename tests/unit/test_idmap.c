/* Unit tests of util/idmap: random puts, gets and deletes against a plain
 * array, with the real hash and with hashes that make long colliding runs
 * and runs that wrap around the end of the table. */
#include <string.h>

#include "util/idmap.h"
#include "util/zmalloc.h"
#include "util_test.h"

static uint64_t hash_mod8(uint64_t id)
{
    return id % 8;                    /* every id in 8 homes: long runs */
}

static uint64_t hash_last(uint64_t id)
{
    return ~(uint64_t)0 - id % 3;     /* homes at the table's end: runs wrap */
}

/* ops random operations on ids below range, checked after each. */
static void against_array(uint64_t (*hash)(uint64_t), uint64_t range, int ops)
{
    uint64_t seed = ut_seed(), st = seed ^ range;
    struct idmap m;
    char *val = zcalloc(range);       /* 0 absent, else the value's byte */
    size_t n = 0;

    if (hash)
        idmap_init_hash(&m, hash);
    else
        idmap_init(&m);
    for (int i = 0; i < ops; i++) {
        uint64_t id = ut_rand(&st) % range;
        uint64_t op = ut_rand(&st) % 10;
        if (op < 5) {
            if (!val[id])
                n++;
            val[id] = (char)(1 + ut_rand(&st) % 100);
            idmap_put(&m, id, &val[id]);
        } else if (op < 8) {
            ck_assert_int_eq(idmap_del(&m, id), val[id] != 0);
            if (val[id])
                n--;
            val[id] = 0;
        }
        ck_assert_uint_eq(idmap_count(&m), n);
        if (i % 97 == 0 || op >= 5) {
            for (uint64_t k = 0; k < range; k++) {
                char *v = idmap_get(&m, k);
                ck_assert_msg(val[k] ? v == &val[k] : v == NULL,
                              "id %llu after op %d (SEED=%llu)", (unsigned long long)k, i,
                              (unsigned long long)seed);
            }
        }
    }
    /* empty it: every id deleted once */
    for (uint64_t k = 0; k < range; k++)
        ck_assert_int_eq(idmap_del(&m, k), val[k] != 0);
    ck_assert_uint_eq(idmap_count(&m), 0);
    ck_assert_ptr_null(idmap_get(&m, 0));
    idmap_free(&m);
    zfree(val);
}

START_TEST(real_hash)
{
    against_array(NULL, 300, 4000);
}
END_TEST

START_TEST(colliding_runs)
{
    against_array(hash_mod8, 200, 4000);
}
END_TEST

START_TEST(runs_that_wrap)
{
    against_array(hash_last, 120, 4000);
}
END_TEST

START_TEST(sequential_ids_come_and_go)
{
    struct idmap m = { 0 };             /* zeroed: an empty map, no init */
    static int one;

    ck_assert_ptr_null(idmap_get(&m, 7));
    ck_assert_int_eq(idmap_del(&m, 7), 0);
    for (uint64_t id = 1; id <= 100000; id++) {
        idmap_put(&m, id, &one);
        if (id > 50)
            ck_assert_int_eq(idmap_del(&m, id - 50), 1);
    }
    ck_assert_uint_eq(idmap_count(&m), 50);
    ck_assert_ptr_eq(idmap_get(&m, 100000), &one);
    ck_assert_ptr_null(idmap_get(&m, 99950));
    idmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idmap");
    TCase *tc = tcase_create("idmap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, real_hash);
    tcase_add_test(tc, colliding_runs);
    tcase_add_test(tc, runs_that_wrap);
    tcase_add_test(tc, sequential_ids_come_and_go);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
