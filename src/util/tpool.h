/* tpool: the background thread pool (flush, compaction, value-log GC).
 *
 * A fixed number of named threads ("lsm-bg-0", ...) take jobs from queues
 * ordered by priority: every queued TPOOL_HIGH job runs before any queued
 * TPOOL_LOW job (flushes before compactions); FIFO within a priority.
 * tpool_destroy() stops accepting jobs, lets queued and running jobs finish,
 * then joins the threads. A job never runs on the submitting thread.
 * Pool threads are background threads (tpool_background_thread).
 * Thread rules: submit/wait/pending are safe from any thread, including from
 * inside a job; destroy only from the thread that created the pool. */
#ifndef LSM_UTIL_TPOOL_H
#define LSM_UTIL_TPOOL_H

#include <stddef.h>

enum tpool_priority { TPOOL_HIGH = 0, TPOOL_LOW = 1 };

struct tpool;
typedef void (*tpool_fn)(void *arg);

/* nthreads >= 1; name_prefix is at most 10 chars (Linux thread names are 15). */
struct tpool *tpool_create(int nthreads, const char *name_prefix);
void tpool_destroy(struct tpool *p);
/* Returns 0, or -1 when the pool is shutting down (the job does not run). */
int tpool_submit(struct tpool *p, enum tpool_priority pri, tpool_fn fn, void *arg);
size_t tpool_pending(struct tpool *p);           /* queued + running jobs */
void tpool_wait_idle(struct tpool *p);           /* until pending == 0 */
int tpool_threads(const struct tpool *p);

/* Marks the calling thread as background work (Linux SCHED_BATCH): it
 * keeps its fair share of CPU, but waking it up does not preempt the
 * running thread, so on a busy machine it waits for its turn instead of
 * interrupting the event loop or a client. Best effort. */
void tpool_background_thread(void);

#endif
