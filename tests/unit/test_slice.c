/* Unit tests of util/slice (slice, buf) and util/zmalloc. */
#include <string.h>

#include "util/slice.h"
#include "util/zmalloc.h"
#include "util_test.h"

#ifdef LSM_SANITIZERS
/* Let ASan's malloc return NULL so zmalloc's own OOM path is what runs. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

START_TEST(slice_compare_orders_bytes_then_length)
{
    ck_assert_int_eq(slice_compare(slice_cstr("abc"), slice_cstr("abc")), 0);
    ck_assert_int_lt(slice_compare(slice_cstr("ab"), slice_cstr("abc")), 0);
    ck_assert_int_gt(slice_compare(slice_cstr("abc"), slice_cstr("ab")), 0);
    ck_assert_int_lt(slice_compare(slice_cstr("abc"), slice_cstr("abd")), 0);
    ck_assert_int_lt(slice_compare(slice_cstr(""), slice_cstr("a")), 0);
    ck_assert_int_eq(slice_compare(slice_make(NULL, 0), slice_cstr("")), 0);
    /* bytes compare unsigned */
    ck_assert_int_gt(slice_compare(slice_make("\xff", 1), slice_make("\x01", 1)), 0);
    ck_assert_int_lt(slice_compare(slice_make("a\0", 2), slice_make("a\1", 2)), 0);
}
END_TEST

START_TEST(slice_equal_and_prefix)
{
    ck_assert(slice_equal(slice_cstr("x"), slice_cstr("x")));
    ck_assert(!slice_equal(slice_cstr("x"), slice_cstr("xy")));
    ck_assert(slice_equal(slice_make(NULL, 0), slice_cstr("")));
    ck_assert(slice_starts_with(slice_cstr("hello"), slice_cstr("he")));
    ck_assert(slice_starts_with(slice_cstr("hello"), slice_cstr("")));
    ck_assert(slice_starts_with(slice_cstr("hello"), slice_cstr("hello")));
    ck_assert(!slice_starts_with(slice_cstr("he"), slice_cstr("hello")));
    ck_assert(!slice_starts_with(slice_cstr("hello"), slice_cstr("hx")));
}
END_TEST

START_TEST(buf_grows_and_keeps_contents)
{
    struct buf b = BUF_INIT;
    char expect[10000];
    for (int i = 0; i < 10000; i++) {
        expect[i] = (char)(i * 7);
        buf_append_byte(&b, expect[i]);
        ck_assert_uint_ge(b.cap, b.len);
    }
    ck_assert_uint_eq(b.len, 10000);
    ck_assert(memcmp(b.data, expect, 10000) == 0);
    buf_append(&b, "tail", 4);
    ck_assert_uint_eq(b.len, 10004);
    ck_assert(memcmp(b.data + 10000, "tail", 4) == 0);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(buf_cstr_terminates_without_changing_len)
{
    struct buf b;
    buf_init(&b);
    ck_assert_str_eq(buf_cstr(&b), "");
    buf_append_slice(&b, slice_cstr("abc"));
    ck_assert_str_eq(buf_cstr(&b), "abc");
    ck_assert_uint_eq(b.len, 3);
    buf_truncate(&b, 1);
    ck_assert_str_eq(buf_cstr(&b), "a");
    buf_set(&b, "xyz123", 6);
    ck_assert_str_eq(buf_cstr(&b), "xyz123");
    size_t cap = b.cap;
    buf_clear(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_str_eq(buf_cstr(&b), "");
    struct slice s = buf_slice(&b);
    ck_assert_uint_eq(s.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(buf_reserve_gives_room)
{
    struct buf b = BUF_INIT;
    buf_reserve(&b, 1000);
    ck_assert_uint_ge(b.cap, 1000);
    char *p = b.data;
    for (int i = 0; i < 1000; i++)
        buf_append_byte(&b, 'a');
    ck_assert_ptr_eq(b.data, p);       /* no reallocation within the reserve */
    buf_cstr(&b);
    ck_assert_ptr_eq(b.data, p);       /* the spare byte was reserved too */
    buf_free(&b);
}
END_TEST

START_TEST(zmalloc_counts_usable_bytes)
{
    size_t before = zmalloc_used_memory();
    char *p = zmalloc(1000);
    ck_assert_uint_ge(zmalloc_size(p), 1000);
    ck_assert_uint_eq(zmalloc_used_memory(), before + zmalloc_size(p));
    p = zrealloc(p, 100000);
    ck_assert_uint_eq(zmalloc_used_memory(), before + zmalloc_size(p));
    zfree(p);
    ck_assert_uint_eq(zmalloc_used_memory(), before);
    zfree(NULL);
    ck_assert_uint_eq(zmalloc_used_memory(), before);
}
END_TEST

START_TEST(zcalloc_zeroes_and_dups_copy)
{
    unsigned char *z = zcalloc(4096);
    for (int i = 0; i < 4096; i++)
        ck_assert_uint_eq(z[i], 0);
    zfree(z);
    char *s = zstrdup("hello");
    ck_assert_str_eq(s, "hello");
    zfree(s);
    char *m = zmemdup("ab\0cd", 5);
    ck_assert(memcmp(m, "ab\0cd", 5) == 0);
    ck_assert_int_eq(m[5], 0);
    zfree(m);
    void *r = zrealloc(NULL, 10);       /* realloc of NULL allocates */
    ck_assert_ptr_nonnull(r);
    zfree(r);
}
END_TEST

START_TEST(zmalloc_lib_names_allocator)
{
    const char *lib = zmalloc_lib();
#ifdef LSM_SANITIZERS
    ck_assert_str_eq(lib, "libc");
#else
    ck_assert(strncmp(lib, "jemalloc", 8) == 0);
#endif
}
END_TEST

START_TEST(zmalloc_out_of_memory_aborts)
{
    /* Runs in a forked child (Check's default); expected to die by SIGABRT. */
    volatile void *p = zmalloc((size_t)1 << 62);
    (void)p;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slice");
    TCase *tc = tcase_create("slice");
    tcase_add_test(tc, slice_compare_orders_bytes_then_length);
    tcase_add_test(tc, slice_equal_and_prefix);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf");
    tcase_add_test(tc, buf_grows_and_keeps_contents);
    tcase_add_test(tc, buf_cstr_terminates_without_changing_len);
    tcase_add_test(tc, buf_reserve_gives_room);
    suite_add_tcase(s, tc);
    tc = tcase_create("zmalloc");
    tcase_add_test(tc, zmalloc_counts_usable_bytes);
    tcase_add_test(tc, zcalloc_zeroes_and_dups_copy);
    tcase_add_test(tc, zmalloc_lib_names_allocator);
    if (getenv("CK_FORK") == NULL || strcmp(getenv("CK_FORK"), "no") != 0)
        tcase_add_test_raise_signal(tc, zmalloc_out_of_memory_aborts, 6);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
