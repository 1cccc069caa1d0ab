/* tpool: fixed pool of named threads with two FIFO priority queues
 * (see tpool.h). */
#include "util/tpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/zmalloc.h"

struct tpool_job {
    struct tpool_job *next;
    tpool_fn fn;
    void *arg;
};

struct tpool_queue {
    struct tpool_job *head, *tail;
};

struct tpool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;      /* a job was queued, or stopping */
    pthread_cond_t idle_cv;      /* pending dropped */
    struct tpool_queue q[2];     /* indexed by enum tpool_priority */
    size_t pending;              /* queued + running */
    size_t inner_waiters;        /* jobs blocked in tpool_wait_idle() */
    int stopping;
    int nthreads;
    char prefix[11];
    pthread_t *threads;
};

struct tpool_start {
    struct tpool *pool;
    int index;
};

/* The pool whose worker this thread is (for wait_idle from a job). */
static __thread struct tpool *tpool_current;

static struct tpool_job *tpool_pop(struct tpool *p)
{
    for (int i = 0; i < 2; i++) {
        struct tpool_job *j = p->q[i].head;
        if (j) {
            p->q[i].head = j->next;
            if (!p->q[i].head)
                p->q[i].tail = NULL;
            return j;
        }
    }
    return NULL;
}

static void *tpool_main(void *argp)
{
    struct tpool_start *st = argp;
    struct tpool *p = st->pool;
    char name[16];
    snprintf(name, sizeof(name), "%s-%d", p->prefix, st->index);
    zfree(st);
    pthread_setname_np(pthread_self(), name);
    tpool_background_thread();
    log_set_role('B');
    tpool_current = p;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct tpool_job *j = tpool_pop(p);
        if (!j) {
            if (p->stopping)
                break;
            pthread_cond_wait(&p->work_cv, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        zfree(j);
        pthread_mutex_lock(&p->mu);
        p->pending--;
        if (p->pending <= p->inner_waiters)
            pthread_cond_broadcast(&p->idle_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void tpool_background_thread(void)
{
#ifdef SCHED_BATCH
    struct sched_param sp = { 0 };
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
}

struct tpool *tpool_create(int nthreads, const char *name_prefix)
{
    if (nthreads < 1)
        nthreads = 1;
    struct tpool *p = zcalloc(sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    snprintf(p->prefix, sizeof(p->prefix), "%s", name_prefix ? name_prefix : "tpool");
    p->threads = zcalloc(sizeof(pthread_t) * (size_t)nthreads);
    for (int i = 0; i < nthreads; i++) {
        struct tpool_start *st = zmalloc(sizeof(*st));
        st->pool = p;
        st->index = i;
        int rc = pthread_create(&p->threads[i], NULL, tpool_main, st);
        if (rc != 0) {
            log_warning("tpool: cannot create thread %d: %s", i, strerror(rc));
            zfree(st);
            break;
        }
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        tpool_destroy(p);
        return NULL;
    }
    return p;
}

void tpool_destroy(struct tpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Workers leave only with empty queues, so nothing is left to free. */
    pthread_cond_destroy(&p->idle_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    zfree(p->threads);
    zfree(p);
}

int tpool_submit(struct tpool *p, enum tpool_priority pri, tpool_fn fn, void *arg)
{
    struct tpool_job *j = zmalloc(sizeof(*j));
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    int qi = pri == TPOOL_HIGH ? 0 : 1;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        zfree(j);
        return -1;
    }
    struct tpool_queue *q = &p->q[qi];
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    p->pending++;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

size_t tpool_pending(struct tpool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->pending;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void tpool_wait_idle(struct tpool *p)
{
    pthread_mutex_lock(&p->mu);
    if (tpool_current == p) {
        /* From inside a job: wait for every job but the waiting ones. */
        p->inner_waiters++;
        pthread_cond_broadcast(&p->idle_cv);
        while (p->pending > p->inner_waiters)
            pthread_cond_wait(&p->idle_cv, &p->mu);
        p->inner_waiters--;
    } else {
        while (p->pending > 0)
            pthread_cond_wait(&p->idle_cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

int tpool_threads(const struct tpool *p)
{
    return p->nthreads;
}
