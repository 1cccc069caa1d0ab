/* test_ae: the event loop — readable/writable events fire for the right fd
 * with the right data, a handler may delete events (its own or another fd's)
 * during a batch, timers fire in time order, re-arm or stop, hooks run around
 * every wait, ae_stop ends ae_main, and fds beyond the table are refused. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/ae.h"
#include "util/clock.h"

static int fired_r, fired_w, before, after;
static int last_fd;
static void *last_data;

static void on_read(struct ae_loop *loop, int fd, void *data, int mask)
{
    char b[64];
    ck_assert_int_eq(mask, AE_READABLE);
    ssize_t n = read(fd, b, sizeof(b));
    (void)n;
    fired_r++;
    last_fd = fd;
    last_data = data;
}

static void on_write(struct ae_loop *loop, int fd, void *data, int mask)
{
    ck_assert_int_eq(mask, AE_WRITABLE);
    fired_w++;
    ae_del_file(loop, fd, AE_WRITABLE);   /* one shot */
}

static void hook_before(struct ae_loop *loop) { before++; }
static void hook_after(struct ae_loop *loop) { after++; }

START_TEST(test_file_events)
{
    struct ae_loop *loop = ae_create(1024);
    ck_assert_ptr_nonnull(loop);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int tag = 7;
    fired_r = fired_w = 0;
    ck_assert_int_eq(ae_add_file(loop, p[0], AE_READABLE, on_read, &tag), 0);
    ck_assert_int_eq(ae_get_file_mask(loop, p[0]), AE_READABLE);
    ck_assert_int_eq(ae_process_events(loop, AE_DONT_WAIT), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(ae_process_events(loop, AE_DONT_WAIT), 1);
    ck_assert_int_eq(fired_r, 1);
    ck_assert_int_eq(last_fd, p[0]);
    ck_assert_ptr_eq(last_data, &tag);

    ck_assert_int_eq(ae_add_file(loop, p[1], AE_WRITABLE, on_write, NULL), 0);
    ae_process_events(loop, AE_DONT_WAIT);
    ck_assert_int_eq(fired_w, 1);
    ck_assert_int_eq(ae_get_file_mask(loop, p[1]), AE_NONE);
    ae_process_events(loop, AE_DONT_WAIT);
    ck_assert_int_eq(fired_w, 1);

    ae_del_file(loop, p[0], AE_READABLE);
    ck_assert_int_eq(write(p[1], "y", 1), 1);
    ae_process_events(loop, AE_DONT_WAIT);
    ck_assert_int_eq(fired_r, 1);

    ck_assert_int_eq(ae_add_file(loop, 5000, AE_READABLE, on_read, NULL), -ERANGE);
    ck_assert_int_eq(ae_resize(loop, 6000), 0);
    ck_assert_int_eq(ae_get_setsize(loop), 6000);
    close(p[0]);
    close(p[1]);
    ae_destroy(loop);
}
END_TEST

/* A handler that removes the other pipe's event (data points at its fd). */
static int kills;
static void kill_other(struct ae_loop *loop, int fd, void *data, int mask)
{
    kills++;
    ae_del_file(loop, *(int *)data, AE_READABLE);
    ae_del_file(loop, fd, AE_READABLE);
}

START_TEST(test_delete_during_batch)
{
    struct ae_loop *loop = ae_create(64);
    int a[2], b[2];
    ck_assert_int_eq(pipe(a), 0);
    ck_assert_int_eq(pipe(b), 0);
    kills = 0;
    /* Whichever runs first removes the other: exactly one handler runs. */
    ck_assert_int_eq(ae_add_file(loop, a[0], AE_READABLE, kill_other, &b[0]), 0);
    ck_assert_int_eq(ae_add_file(loop, b[0], AE_READABLE, kill_other, &a[0]), 0);
    ck_assert_int_eq(write(a[1], "x", 1), 1);
    ck_assert_int_eq(write(b[1], "x", 1), 1);
    ae_process_events(loop, AE_DONT_WAIT);
    ck_assert_int_eq(kills, 1);
    ck_assert_int_eq(ae_get_file_mask(loop, a[0]), AE_NONE);
    ck_assert_int_eq(ae_get_file_mask(loop, b[0]), AE_NONE);
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    ae_destroy(loop);
}
END_TEST

static int order[8], norder;
static int64_t t_once(struct ae_loop *loop, int64_t id, void *data)
{
    order[norder++] = (int)(intptr_t)data;
    return AE_NOMORE;
}
static int repeats;
static int64_t t_repeat(struct ae_loop *loop, int64_t id, void *data)
{
    repeats++;
    if (repeats == 3)
        ae_stop(loop);
    return 5;
}

START_TEST(test_timers)
{
    struct ae_loop *loop = ae_create(64);
    norder = 0;
    repeats = 0;
    before = after = 0;
    ae_set_before_sleep(loop, hook_before);
    ae_set_after_sleep(loop, hook_after);
    ae_add_timer(loop, 30, t_once, (void *)(intptr_t)3);
    ae_add_timer(loop, 10, t_once, (void *)(intptr_t)1);
    ae_add_timer(loop, 20, t_once, (void *)(intptr_t)2);
    int64_t gone = ae_add_timer(loop, 15, t_once, (void *)(intptr_t)9);
    ck_assert_int_eq(ae_del_timer(loop, gone), 0);
    ck_assert_int_eq(ae_del_timer(loop, gone), -1);
    ae_add_timer(loop, 40, t_repeat, NULL);
    int64_t t0 = clock_mono_ms();
    ae_main(loop);   /* returns when t_repeat stops it (40 + 5 + 5 ms) */
    int64_t took = clock_mono_ms() - t0;
    ck_assert_int_eq(norder, 3);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 3);
    ck_assert_int_eq(repeats, 3);
    ck_assert_int_ge(took, 49);
    ck_assert_int_gt(before, 0);
    ck_assert_int_eq(before, after);
    ae_destroy(loop);
}
END_TEST

static Suite *ae_suite(void)
{
    Suite *s = suite_create("ae");
    TCase *tc = tcase_create("ae");
    tcase_add_test(tc, test_file_events);
    tcase_add_test(tc, test_delete_during_batch);
    tcase_add_test(tc, test_timers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ae_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
