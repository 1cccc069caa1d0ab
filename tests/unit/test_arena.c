/* Unit tests of util/arena: contents survive, alignment, block accounting. */
#include <string.h>

#include "util/arena.h"
#include "util/zmalloc.h"
#include "util_test.h"

START_TEST(random_allocations_keep_contents)
{
    uint64_t st = ut_seed();
    struct arena *a = arena_create(0);
    enum { N = 20000 };
    char **ptrs = zmalloc(sizeof(char *) * N);
    size_t *lens = zmalloc(sizeof(size_t) * N);
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        size_t n = (i % 1000 == 0) ? 5000 + ut_rand(&st) % 20000
                                   : 1 + ut_rand(&st) % ((i % 10 == 0) ? 6000 : 100);
        char *p = (i & 1) ? arena_alloc_aligned(a, n) : arena_alloc(a, n);
        if ((i & 1) && (uintptr_t)p % sizeof(void *) != 0)
            ck_abort_msg("allocation %d misaligned", i);
        memset(p, i % 256, n);
        ptrs[i] = p;
        lens[i] = n;
        total += n;
        if (arena_memory_usage(a) < total)
            ck_abort_msg("usage %zu < allocated %zu", arena_memory_usage(a), total);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < lens[i]; k++)
            if ((unsigned char)ptrs[i][k] != i % 256)
                ck_abort_msg("allocation %d byte %zu overwritten", i, k);
    /* bookkeeping overhead stays small relative to what was asked for */
    ck_assert_uint_le(arena_memory_usage(a), total * 2 + 65536);
    zfree(ptrs);
    zfree(lens);
    arena_destroy(a);
}
END_TEST

START_TEST(aligned_after_odd_sizes)
{
    struct arena *a = arena_create(128);
    for (int i = 0; i < 1000; i++) {
        char *u = arena_alloc(a, 1 + (size_t)i % 7);
        *u = 1;
        void *p = arena_alloc_aligned(a, 1 + (size_t)i % 13);
        ck_assert_uint_eq((uintptr_t)p % sizeof(void *), 0);
    }
    arena_destroy(a);
}
END_TEST

START_TEST(usage_counts_blocks)
{
    struct arena *a = arena_create(4096);
    ck_assert_uint_eq(arena_memory_usage(a), 0);
    arena_alloc(a, 10);
    size_t one = arena_memory_usage(a);
    ck_assert_uint_ge(one, 4096);
    arena_alloc(a, 100);                     /* fits in the same block */
    arena_alloc(a, 3000);                    /* still fits: 986 left */
    ck_assert_uint_eq(arena_memory_usage(a), one);
    arena_alloc(a, 2000);                    /* > block/4, no fit: own block */
    size_t two = arena_memory_usage(a);
    ck_assert_uint_ge(two, one + 2000);
    ck_assert_uint_lt(two, one + 4096);
    char *p = arena_alloc(a, 500);           /* served by the first block */
    memset(p, 0, 500);
    arena_alloc(a, 400);
    ck_assert_uint_eq(arena_memory_usage(a), two);
    arena_alloc(a, 600);                     /* small, no fit: new full block */
    ck_assert_uint_ge(arena_memory_usage(a), two + 4096);
    arena_destroy(a);
    arena_destroy(NULL);
}
END_TEST

START_TEST(destroy_returns_memory)
{
    size_t before = zmalloc_used_memory();
    struct arena *a = arena_create(0);
    for (int i = 0; i < 10000; i++)
        arena_alloc(a, 1 + (size_t)i % 3000);
    ck_assert_uint_gt(zmalloc_used_memory(), before);
    arena_destroy(a);
    ck_assert_uint_eq(zmalloc_used_memory(), before);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, random_allocations_keep_contents);
    tcase_add_test(tc, aligned_after_odd_sizes);
    tcase_add_test(tc, usage_counts_blocks);
    tcase_add_test(tc, destroy_returns_memory);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
