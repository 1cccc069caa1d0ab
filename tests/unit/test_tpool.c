/* Unit tests of util/tpool: priority order, FIFO, many jobs, submit and
 * wait_idle from inside jobs, draining destroy, thread names, background
 * scheduling. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "util/tpool.h"
#include "util/zmalloc.h"
#include "util_test.h"

/* A gate the blocker jobs wait on, so the test can queue work behind them. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static int blocked;

static void blocker(void *arg)
{
    pthread_mutex_lock(&gate_mu);
    blocked++;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void block_all(struct tpool *p, int n)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = 0;
    blocked = 0;
    pthread_mutex_unlock(&gate_mu);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tpool_submit(p, TPOOL_HIGH, blocker, NULL), 0);
    pthread_mutex_lock(&gate_mu);
    while (blocked < n)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static int order[64];
static int norder;

static void record(void *arg)
{
    pthread_mutex_lock(&order_mu);
    order[norder++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&order_mu);
}

START_TEST(high_runs_before_low_fifo_within)
{
    struct tpool *p = tpool_create(1, "tp");
    norder = 0;
    block_all(p, 1);
    /* lows 100.., highs 0.. interleaved while the only worker is blocked */
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(tpool_submit(p, TPOOL_LOW, record, (void *)(intptr_t)(100 + i)), 0);
        ck_assert_int_eq(tpool_submit(p, TPOOL_HIGH, record, (void *)(intptr_t)i), 0);
    }
    ck_assert_uint_eq(tpool_pending(p), 21);
    open_gate();
    tpool_wait_idle(p);
    ck_assert_uint_eq(tpool_pending(p), 0);
    ck_assert_int_eq(norder, 20);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(order[i], i);
        ck_assert_int_eq(order[10 + i], 100 + i);
    }
    tpool_destroy(p);
}
END_TEST

/* A second gate that keeps some workers busy for a whole test. */
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int hold_open, held;

static void holder(void *arg)
{
    pthread_mutex_lock(&hold_mu);
    held++;
    pthread_cond_broadcast(&hold_cv);
    while (!hold_open)
        pthread_cond_wait(&hold_cv, &hold_mu);
    pthread_mutex_unlock(&hold_mu);
}

START_TEST(priority_with_several_workers)
{
    /* 3 workers: 2 held for the whole test, 1 blocked while the queues fill,
     * so the order seen is the queue order, whatever the scheduling. */
    struct tpool *p = tpool_create(3, "tp");
    ck_assert_int_eq(tpool_threads(p), 3);
    norder = 0;
    hold_open = 0;
    held = 0;
    tpool_submit(p, TPOOL_HIGH, holder, NULL);
    tpool_submit(p, TPOOL_HIGH, holder, NULL);
    pthread_mutex_lock(&hold_mu);
    while (held < 2)
        pthread_cond_wait(&hold_cv, &hold_mu);
    pthread_mutex_unlock(&hold_mu);
    block_all(p, 1);
    for (int i = 0; i < 6; i++)
        tpool_submit(p, TPOOL_LOW, record, (void *)(intptr_t)(100 + i));
    for (int i = 0; i < 6; i++)
        tpool_submit(p, TPOOL_HIGH, record, (void *)(intptr_t)i);
    ck_assert_uint_eq(tpool_pending(p), 15);
    open_gate();
    while (tpool_pending(p) > 2) {
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    ck_assert_int_eq(norder, 12);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(order[i], i);
        ck_assert_int_eq(order[6 + i], 100 + i);
    }
    pthread_mutex_lock(&hold_mu);
    hold_open = 1;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold_mu);
    tpool_wait_idle(p);
    ck_assert_uint_eq(tpool_pending(p), 0);
    tpool_destroy(p);
}
END_TEST

static atomic_long counter;

static void bump(void *arg)
{
    atomic_fetch_add(&counter, (long)(intptr_t)arg);
}

START_TEST(many_jobs_all_run)
{
    struct tpool *p = tpool_create(4, "tp");
    atomic_store(&counter, 0);
    for (int i = 0; i < 200000; i++)
        ck_assert_int_eq(tpool_submit(p, (i % 3) ? TPOOL_LOW : TPOOL_HIGH, bump,
                                      (void *)(intptr_t)1), 0);
    tpool_wait_idle(p);
    ck_assert_int_eq(atomic_load(&counter), 200000);
    ck_assert_uint_eq(tpool_pending(p), 0);
    tpool_destroy(p);
}
END_TEST

static struct tpool *chain_pool;

static void chain(void *arg)
{
    intptr_t left = (intptr_t)arg;
    atomic_fetch_add(&counter, 1);
    if (left > 0) {
        /* submit twice at the top to fan out, then a plain chain */
        if (left > 990)
            tpool_submit(chain_pool, TPOOL_LOW, chain, (void *)(left - 1));
        tpool_submit(chain_pool, TPOOL_HIGH, chain, (void *)(left - 1));
    }
}

START_TEST(submit_from_inside_a_job)
{
    chain_pool = tpool_create(2, "tp");
    atomic_store(&counter, 0);
    tpool_submit(chain_pool, TPOOL_LOW, chain, (void *)(intptr_t)1000);
    tpool_wait_idle(chain_pool);    /* pending never hits 0 mid-chain */
    /* levels 1000..991 each double: count is sum over the chain tree */
    long expect = 0, width = 1;
    for (int level = 1000; level >= 0; level--) {
        expect += width;
        if (level > 990)
            width *= 2;
    }
    ck_assert_int_eq(atomic_load(&counter), expect);
    tpool_destroy(chain_pool);
}
END_TEST

static void slow_bump(void *arg)
{
    struct timespec ts = { 0, 1000 * 1000 };
    nanosleep(&ts, NULL);
    atomic_fetch_add(&counter, 1);
}

static void waiter_job(void *arg)
{
    for (int i = 0; i < 20; i++)
        tpool_submit(chain_pool, TPOOL_LOW, slow_bump, NULL);
    tpool_wait_idle(chain_pool);     /* from a job: waits for the others */
    ck_assert_int_eq(atomic_load(&counter), 20);
    atomic_fetch_add(&counter, 1000);
}

START_TEST(wait_idle_inside_a_job_waits_for_others)
{
    chain_pool = tpool_create(3, "tp");
    atomic_store(&counter, 0);
    tpool_submit(chain_pool, TPOOL_HIGH, waiter_job, NULL);
    tpool_wait_idle(chain_pool);
    ck_assert_int_eq(atomic_load(&counter), 1020);
    tpool_destroy(chain_pool);
}
END_TEST

START_TEST(destroy_drains_queued_jobs)
{
    struct tpool *p = tpool_create(2, "tp");
    atomic_store(&counter, 0);
    for (int i = 0; i < 300; i++)
        tpool_submit(p, i & 1 ? TPOOL_LOW : TPOOL_HIGH, slow_bump, NULL);
    tpool_destroy(p);
    ck_assert_int_eq(atomic_load(&counter), 300);
}
END_TEST

static atomic_int late_rc = 99;
static atomic_int destroying;
static atomic_long accepted;

/* Submits until refused: destroy must refuse new work soon, and every job
 * accepted before that still runs. */
static void late_submitter(void *arg)
{
    while (!atomic_load(&destroying))
        ;
    for (int i = 0; i < 100000; i++) {
        int rc = tpool_submit(chain_pool, TPOOL_HIGH, bump, (void *)(intptr_t)1);
        if (rc != 0) {
            atomic_store(&late_rc, rc);
            return;
        }
        atomic_fetch_add(&accepted, 1);
        struct timespec ts = { 0, 100 * 1000 };
        nanosleep(&ts, NULL);
    }
}

START_TEST(submit_during_destroy_is_refused)
{
    chain_pool = tpool_create(1, "tp");
    atomic_store(&counter, 0);
    atomic_store(&accepted, 0);
    tpool_submit(chain_pool, TPOOL_HIGH, late_submitter, NULL);
    atomic_store(&destroying, 1);
    tpool_destroy(chain_pool);
    ck_assert_int_eq(atomic_load(&late_rc), -1);
    ck_assert_int_eq(atomic_load(&counter), atomic_load(&accepted));
}
END_TEST

static pthread_t job_thread;
static char job_name[32];

static void name_job(void *arg)
{
    job_thread = pthread_self();
    pthread_getname_np(pthread_self(), job_name, sizeof(job_name));
}

START_TEST(threads_are_named_and_not_the_caller)
{
    struct tpool *p = tpool_create(1, "lsm-bg");
    tpool_submit(p, TPOOL_HIGH, name_job, NULL);
    tpool_wait_idle(p);
    ck_assert_str_eq(job_name, "lsm-bg-0");
    ck_assert(!pthread_equal(job_thread, pthread_self()));
    tpool_destroy(p);
    p = tpool_create(2, "0123456789");          /* longest allowed prefix */
    block_all(p, 2);
    open_gate();
    tpool_submit(p, TPOOL_HIGH, name_job, NULL);
    tpool_wait_idle(p);
    ck_assert(strncmp(job_name, "0123456789-", 11) == 0);
    tpool_destroy(p);
}
END_TEST

static int job_policy = -1;

static void policy_job(void *arg)
{
    (void)arg;
    job_policy = sched_getscheduler(0);
}

/* Pool threads must not preempt the event loop when woken: SCHED_BATCH,
 * while the creating thread keeps its own policy. */
START_TEST(threads_are_background)
{
    int mine = sched_getscheduler(0);
    struct tpool *p = tpool_create(1, "lsm-bg");
    tpool_submit(p, TPOOL_HIGH, policy_job, NULL);
    tpool_wait_idle(p);
    ck_assert_int_eq(job_policy, SCHED_BATCH);
    ck_assert_int_eq(sched_getscheduler(0), mine);
    tpool_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tpool");
    TCase *tc = tcase_create("tpool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, high_runs_before_low_fifo_within);
    tcase_add_test(tc, priority_with_several_workers);
    tcase_add_test(tc, many_jobs_all_run);
    tcase_add_test(tc, submit_from_inside_a_job);
    tcase_add_test(tc, wait_idle_inside_a_job_waits_for_others);
    tcase_add_test(tc, destroy_drains_queued_jobs);
    tcase_add_test(tc, submit_during_destroy_is_refused);
    tcase_add_test(tc, threads_are_named_and_not_the_caller);
    tcase_add_test(tc, threads_are_background);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
