/* ae: the server's event loop — file events and timers over epoll.
 *
 * Owns one epoll instance, a table of file events indexed by fd (each fd has
 * at most one readable and one writable handler), and a short list of timers
 * (the server has only a few: the cron). ae_process_events() waits once in
 * epoll_wait(), calls the before-sleep hook first (where pending replies are
 * written, like Redis' handleClientsWithPendingWrites) and the after-sleep
 * hook after the wait (time caching), runs the ready file handlers (readable
 * before writable), then the due timers.
 * Invariants: fds are < setsize; a handler may delete any event, including
 * its own or another fd's, during dispatch (checked against the live mask).
 * Thread rules: everything is called only from the loop thread. */
#ifndef LSM_SERVER_AE_H
#define LSM_SERVER_AE_H

#include <stdint.h>

#define AE_NONE 0
#define AE_READABLE 1
#define AE_WRITABLE 2

/* Returned by a timer handler to remove the timer. */
#define AE_NOMORE (-1)

/* ae_process_events() flags. */
#define AE_DONT_WAIT 1 /* poll without blocking */

struct ae_loop;

typedef void ae_file_proc(struct ae_loop *loop, int fd, void *data, int mask);
/* Returns the delay in ms until the next run, or AE_NOMORE. */
typedef int64_t ae_timer_proc(struct ae_loop *loop, int64_t id, void *data);
typedef void ae_hook_proc(struct ae_loop *loop);

/* Returns a loop for fds < setsize, or NULL (errno set) if epoll fails. */
struct ae_loop *ae_create(int setsize);
void ae_destroy(struct ae_loop *loop);
/* Grows/shrinks the fd table; returns 0, or -1 if an fd >= setsize is in use. */
int ae_resize(struct ae_loop *loop, int setsize);
int ae_get_setsize(const struct ae_loop *loop);

/* Adds mask (AE_READABLE and/or AE_WRITABLE) for fd with proc; returns 0 or
 * -errno (-ERANGE when fd >= setsize). */
int ae_add_file(struct ae_loop *loop, int fd, int mask, ae_file_proc *proc,
                void *data);
/* Removes mask from fd's events (no-op for events not registered). */
void ae_del_file(struct ae_loop *loop, int fd, int mask);
/* Returns the registered mask of fd (AE_NONE when nothing). */
int ae_get_file_mask(const struct ae_loop *loop, int fd);

/* Runs proc after ms milliseconds; returns the timer id (>= 0). */
int64_t ae_add_timer(struct ae_loop *loop, int64_t ms, ae_timer_proc *proc,
                     void *data);
/* Returns 0, or -1 when no timer has that id. */
int ae_del_timer(struct ae_loop *loop, int64_t id);

/* Called before every epoll_wait (after the previous batch was handled). */
void ae_set_before_sleep(struct ae_loop *loop, ae_hook_proc *proc);
/* Called right after every epoll_wait, before any handler runs. */
void ae_set_after_sleep(struct ae_loop *loop, ae_hook_proc *proc);

/* One iteration; returns the number of file and timer events processed. */
int ae_process_events(struct ae_loop *loop, int flags);
/* Runs iterations until ae_stop(). */
void ae_main(struct ae_loop *loop);
void ae_stop(struct ae_loop *loop);

#endif
