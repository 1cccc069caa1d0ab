/* ae: epoll event loop (see ae.h). */
#include "server/ae.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/zmalloc.h"

struct ae_file_event {
    int mask;
    ae_file_proc *rproc;
    ae_file_proc *wproc;
    void *data;
};

struct ae_timer {
    int64_t id;
    int64_t when_ms;        /* monotonic */
    ae_timer_proc *proc;
    void *data;
    int deleted;
    struct ae_timer *next;
};

struct ae_loop {
    int epfd;
    int setsize;
    int maxfd;                        /* highest registered fd, -1 if none */
    int stop;
    struct ae_file_event *events;     /* indexed by fd */
    struct epoll_event *fired;        /* epoll_wait output */
    struct ae_timer *timers;
    int64_t next_timer_id;
    ae_hook_proc *before_sleep;
    ae_hook_proc *after_sleep;
};

struct ae_loop *ae_create(int setsize)
{
    struct ae_loop *loop = zcalloc(sizeof(*loop));
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        int e = errno;
        zfree(loop);
        errno = e;
        return NULL;
    }
    loop->setsize = setsize;
    loop->maxfd = -1;
    loop->events = zcalloc(sizeof(*loop->events) * (size_t)setsize);
    loop->fired = zcalloc(sizeof(*loop->fired) * (size_t)setsize);
    return loop;
}

void ae_destroy(struct ae_loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    while (loop->timers) {
        struct ae_timer *t = loop->timers;
        loop->timers = t->next;
        zfree(t);
    }
    zfree(loop->events);
    zfree(loop->fired);
    zfree(loop);
}

int ae_resize(struct ae_loop *loop, int setsize)
{
    if (setsize == loop->setsize)
        return 0;
    if (loop->maxfd >= setsize)
        return -1;
    loop->events = zrealloc(loop->events, sizeof(*loop->events) * (size_t)setsize);
    loop->fired = zrealloc(loop->fired, sizeof(*loop->fired) * (size_t)setsize);
    for (int i = loop->setsize; i < setsize; i++)
        memset(&loop->events[i], 0, sizeof(loop->events[i]));
    loop->setsize = setsize;
    return 0;
}

int ae_get_setsize(const struct ae_loop *loop)
{
    return loop->setsize;
}

static uint32_t epoll_mask(int mask)
{
    uint32_t ev = 0;
    if (mask & AE_READABLE)
        ev |= EPOLLIN;
    if (mask & AE_WRITABLE)
        ev |= EPOLLOUT;
    return ev;
}

int ae_add_file(struct ae_loop *loop, int fd, int mask, ae_file_proc *proc,
                void *data)
{
    if (fd < 0 || fd >= loop->setsize)
        return -ERANGE;
    struct ae_file_event *fe = &loop->events[fd];
    int newmask = fe->mask | mask;
    if (newmask != fe->mask) {
        struct epoll_event ee = { .events = epoll_mask(newmask), .data.fd = fd };
        int op = fe->mask == AE_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(loop->epfd, op, fd, &ee) < 0)
            return -errno;
    }
    fe->mask = newmask;
    if (mask & AE_READABLE)
        fe->rproc = proc;
    if (mask & AE_WRITABLE)
        fe->wproc = proc;
    fe->data = data;
    if (fd > loop->maxfd)
        loop->maxfd = fd;
    return 0;
}

void ae_del_file(struct ae_loop *loop, int fd, int mask)
{
    if (fd < 0 || fd >= loop->setsize)
        return;
    struct ae_file_event *fe = &loop->events[fd];
    if (fe->mask == AE_NONE)
        return;
    int newmask = fe->mask & ~mask;
    if (newmask == fe->mask)
        return;
    struct epoll_event ee = { .events = epoll_mask(newmask), .data.fd = fd };
    /* Errors are ignored: the fd may already be closed by the caller. */
    (void)epoll_ctl(loop->epfd, newmask == AE_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD,
                    fd, &ee);
    fe->mask = newmask;
    if (newmask == AE_NONE && fd == loop->maxfd) {
        int j = loop->maxfd - 1;
        while (j >= 0 && loop->events[j].mask == AE_NONE)
            j--;
        loop->maxfd = j;
    }
}

int ae_get_file_mask(const struct ae_loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->setsize)
        return AE_NONE;
    return loop->events[fd].mask;
}

int64_t ae_add_timer(struct ae_loop *loop, int64_t ms, ae_timer_proc *proc,
                     void *data)
{
    struct ae_timer *t = zcalloc(sizeof(*t));
    t->id = loop->next_timer_id++;
    t->when_ms = clock_mono_ms() + ms;
    t->proc = proc;
    t->data = data;
    t->next = loop->timers;
    loop->timers = t;
    return t->id;
}

int ae_del_timer(struct ae_loop *loop, int64_t id)
{
    for (struct ae_timer *t = loop->timers; t; t = t->next) {
        if (t->id == id && !t->deleted) {
            t->deleted = 1;   /* freed by the next timer pass */
            return 0;
        }
    }
    return -1;
}

void ae_set_before_sleep(struct ae_loop *loop, ae_hook_proc *proc)
{
    loop->before_sleep = proc;
}

void ae_set_after_sleep(struct ae_loop *loop, ae_hook_proc *proc)
{
    loop->after_sleep = proc;
}

/* Milliseconds until the nearest timer is due, or -1 when there is none. */
static int nearest_timer_ms(struct ae_loop *loop)
{
    int64_t nearest = -1;
    for (struct ae_timer *t = loop->timers; t; t = t->next)
        if (!t->deleted && (nearest < 0 || t->when_ms < nearest))
            nearest = t->when_ms;
    if (nearest < 0)
        return -1;
    int64_t d = nearest - clock_mono_ms();
    return d < 0 ? 0 : (int)d;
}

static int process_timers(struct ae_loop *loop)
{
    int processed = 0;
    int64_t now = clock_mono_ms();
    /* Timers added by a handler during this pass get ids >= max_id and wait
     * for the next pass. */
    int64_t max_id = loop->next_timer_id;
    struct ae_timer **pp = &loop->timers;
    while (*pp) {
        struct ae_timer *t = *pp;
        if (t->deleted) {
            *pp = t->next;
            zfree(t);
            continue;
        }
        if (t->id < max_id && t->when_ms <= now) {
            int64_t again = t->proc(loop, t->id, t->data);
            processed++;
            if (again == AE_NOMORE)
                t->deleted = 1;
            else
                t->when_ms = clock_mono_ms() + again;
            now = clock_mono_ms();
        }
        pp = &t->next;
    }
    return processed;
}

int ae_process_events(struct ae_loop *loop, int flags)
{
    if (loop->before_sleep)
        loop->before_sleep(loop);
    int timeout = (flags & AE_DONT_WAIT) ? 0 : nearest_timer_ms(loop);
    if (loop->stop)
        timeout = 0;
    int n = epoll_wait(loop->epfd, loop->fired, loop->setsize, timeout);
    if (loop->after_sleep)
        loop->after_sleep(loop);
    int processed = 0;
    for (int i = 0; i < n; i++) {
        int fd = loop->fired[i].data.fd;
        uint32_t ev = loop->fired[i].events;
        struct ae_file_event *fe = &loop->events[fd];
        int fired_read = 0;
        /* Errors and hang-ups are reported to both handlers, like Redis. */
        if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (fe->mask & AE_READABLE)) {
            fe->rproc(loop, fd, fe->data, AE_READABLE);
            fired_read = 1;
        }
        fe = &loop->events[fd];   /* the handler may have changed it */
        if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && (fe->mask & AE_WRITABLE)) {
            if (!fired_read || fe->wproc != fe->rproc)
                fe->wproc(loop, fd, fe->data, AE_WRITABLE);
        }
        processed++;
    }
    processed += process_timers(loop);
    return processed;
}

void ae_main(struct ae_loop *loop)
{
    loop->stop = 0;
    while (!loop->stop)
        ae_process_events(loop, 0);
}

void ae_stop(struct ae_loop *loop)
{
    loop->stop = 1;
}
