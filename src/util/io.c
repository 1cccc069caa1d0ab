/* io: the posix env (see io.h). The fault env lives in io_fault.c; both
 * implement the operation tables of io_internal.h. */
#include "util/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/io_internal.h"
#include "util/zmalloc.h"

#define POSIX_BUF_SIZE (64 * 1024)

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22        /* Linux 5.14 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23       /* Linux 5.14 */
#endif
#define MAP_AHEAD (8u << 20)         /* pages kept in the page cache ahead */
#define MAP_CHUNK (1u << 20)         /* one populate call */
#define MAP_BEHIND (1u << 20)        /* pages kept mapped behind the end */

/* A mapped file's shared mapping (io_file_map) and its populator thread.
 * The populator writes zeros (pwrite) over the allocated space ahead of
 * the appends and then maps those pages; it never writes below `done`,
 * and an append waits for it (map_claim) only when the bytes it is about
 * to copy lie at or beyond `done`, where a pwrite of zeros may be running. */
struct pf_map {
    char *base;
    int fd;
    uint64_t len;        /* virtual length mapped from offset 0 */
    uint64_t alloc;      /* [0, alloc) is in the file and allocated */
    uint64_t asked;      /* populate target last given to the thread */
    long page;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t want;       /* (mu) populate up to here */
    uint64_t done;       /* (mu; read atomically by the writer) zeroed by the
                          * populator or claimed by the writer up to here */
    uint64_t zeroing;    /* (mu) a pwrite of zeros of [done, zeroing) runs */
    pthread_cond_t zeroed;  /* signalled when it ends */
    uint64_t unmap;      /* (mu) unmap pages up to here */
    uint64_t unmapped;   /* (mu) unmapped up to here */
    int stop;            /* (mu) */
};

struct posix_file {
    struct io_file base;
    int fd;
    int writable;
    char *buf;           /* NULL until the first buffered append */
    size_t buf_len;
    uint64_t flushed;    /* bytes handed to the OS (writable files) */
    struct pf_map *map;  /* NULL unless io_file_map() */
};

struct posix_lock {
    struct io_lock base;
    int fd;
};

/* ---- dispatch: the public functions ---- */

int io_open_append(struct io_env *env, const char *path, struct io_file **out)
{
    return env->ops->open(env, path, IO_OPEN_APPEND, out);
}

int io_open_append_existing(struct io_env *env, const char *path,
                            struct io_file **out)
{
    return env->ops->open(env, path, IO_OPEN_APPEND_EXISTING, out);
}

int io_open_read(struct io_env *env, const char *path, struct io_file **out)
{
    return env->ops->open(env, path, IO_OPEN_READ, out);
}

int io_file_append(struct io_file *f, const void *data, size_t n)
{
    return f->ops->append(f, data, n);
}

int io_file_flush(struct io_file *f)
{
    return f->ops->flush(f);
}

int io_file_sync(struct io_file *f)
{
    return f->ops->sync(f);
}

ssize_t io_file_pread(struct io_file *f, void *buf, size_t n, uint64_t off)
{
    return f->ops->pread(f, buf, n, off);
}

int64_t io_file_size(struct io_file *f)
{
    return f->ops->size(f);
}

void io_file_prefetch(struct io_file *f, uint64_t off, size_t n)
{
    f->ops->prefetch(f, off, n);
}

int io_file_data_end(struct io_file *f, uint64_t off, uint64_t *end)
{
    enum { CHUNK = 1 << 20 };
    char *chunk = zmalloc(CHUNK);
    int rc = 0;

    *end = off;
    for (;;) {
        ssize_t got = io_file_pread(f, chunk, CHUNK, off), i;
        if (got <= 0) {
            rc = got < 0 ? (int)got : 0;
            break;
        }
        for (i = got; i > 0; i--)
            if (chunk[i - 1] != 0) {
                *end = off + (uint64_t)i;
                break;
            }
        off += (uint64_t)got;
    }
    zfree(chunk);
    return rc;
}

int io_file_reserve(struct io_file *f, uint64_t off, uint64_t n)
{
    return f->ops->reserve(f, off, n);
}

int io_file_map(struct io_file *f, uint64_t len)
{
    return f->ops->map(f, len);
}

int io_file_syncer(struct io_file *f, struct io_file **out)
{
    *out = NULL;
    return f->ops->syncer(f, out);
}

int io_file_close(struct io_file *f)
{
    return f ? f->ops->close(f) : 0;
}

int io_rename(struct io_env *env, const char *from, const char *to)
{
    return env->ops->rename(env, from, to);
}

int io_unlink(struct io_env *env, const char *path)
{
    return env->ops->unlink(env, path);
}

int io_mkdir(struct io_env *env, const char *path)
{
    return env->ops->mkdir(env, path);
}

int io_sync_dir(struct io_env *env, const char *dir)
{
    return env->ops->sync_dir(env, dir);
}

int io_exists(struct io_env *env, const char *path)
{
    return env->ops->exists(env, path);
}

int io_get_size(struct io_env *env, const char *path, uint64_t *size)
{
    return env->ops->get_size(env, path, size);
}

int io_free_space(struct io_env *env, const char *dir, uint64_t *bytes)
{
    return env->ops->free_space(env, dir, bytes);
}

int io_truncate(struct io_env *env, const char *path, uint64_t size)
{
    return env->ops->truncate(env, path, size);
}

int io_list_dir(struct io_env *env, const char *dir,
                int (*fn)(const char *name, void *arg), void *arg)
{
    return env->ops->list_dir(env, dir, fn, arg);
}

int io_lock(struct io_env *env, const char *path, struct io_lock **out)
{
    return env->ops->lock(env, path, out);
}

void io_unlock(struct io_lock *l)
{
    if (l)
        l->release(l);
}

/* ---- posix files ---- */

/* Writes all of [p, p+n) to fd at pos; -errno on failure (*done = bytes
 * written). */
static int write_all(int fd, const char *p, size_t n, uint64_t pos, size_t *done)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = pwrite(fd, p + off, n - off, (off_t)(pos + off));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            *done = off;
            return -errno;
        }
        off += (size_t)w;
    }
    *done = off;
    return 0;
}

/* Tells the populator where the appends are, every MAP_AHEAD / 2 bytes. */
static void map_advance(struct pf_map *m, uint64_t end)
{
    uint64_t want, unmap;
    if (end + MAP_AHEAD / 2 <= m->asked)
        return;
    unmap = end > MAP_BEHIND ? (end - MAP_BEHIND) & ~(uint64_t)(m->page - 1) : 0;
    /* Appends past the mapping are written (pwrite): never drop pages
     * beyond it, where other mappings (the heap) may lie. */
    if (unmap > (m->len & ~(uint64_t)(m->page - 1)))
        unmap = m->len & ~(uint64_t)(m->page - 1);
    want = end + MAP_AHEAD;
    if (want > m->alloc)
        want = m->alloc;
    if (want > m->len)
        want = m->len;
    want &= ~(uint64_t)(m->page - 1);
    m->asked = end + MAP_AHEAD;
    pthread_mutex_lock(&m->mu);
    if (want > m->want || unmap > m->unmap) {
        if (want > m->want)
            m->want = want;
        if (unmap > m->unmap)
            m->unmap = unmap;
        pthread_cond_signal(&m->cv);
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- a device error under a mapped copy ----
 * A copy into a page that is not in the page cache any more reads it back
 * first; when that read fails, or the file was cut under the mapping, the
 * kernel raises SIGBUS on the copying thread. The handler turns a SIGBUS
 * inside map_copy's destination into a jump back to map_copy, which
 * returns -EIO as write(2) would; any other SIGBUS goes to the handler
 * that was there before (by default it kills the process). */
static __thread sigjmp_buf *copy_jump;
static __thread char *copy_lo, *copy_hi;
static struct sigaction sigbus_prev;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    char *addr = si->si_addr;
    /* si_code > 0: raised by the kernel for a fault, not sent by kill. */
    if (copy_jump && si->si_code > 0 && addr >= copy_lo && addr < copy_hi)
        siglongjmp(*copy_jump, 1);
    if (sigbus_prev.sa_flags & SA_SIGINFO) {
        sigbus_prev.sa_sigaction(sig, si, uctx);
        return;
    }
    if (sigbus_prev.sa_handler != SIG_DFL && sigbus_prev.sa_handler != SIG_IGN) {
        sigbus_prev.sa_handler(sig);
        return;
    }
    /* The default action, for a fault or a SIGBUS sent by kill. */
    sigaction(SIGBUS, &sigbus_prev, NULL);
    raise(sig);
}

static void sigbus_install(void)
{
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    /* SA_NODEFER: the jump leaves the handler without sigreturn, so SIGBUS
     * must not stay blocked on the thread. */
    act.sa_flags = SA_SIGINFO | SA_NODEFER;
    act.sa_sigaction = on_sigbus;
    sigaction(SIGBUS, &act, &sigbus_prev);
}

/* memcpy into a mapping: 0, or -EIO when the kernel could not give the
 * destination's pages (the copy may have written part of them). */
static int map_copy(char *dst, const char *src, size_t n)
{
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0)) {           /* 0: no signal mask, no syscall */
        copy_jump = NULL;
        return -EIO;
    }
    copy_lo = dst;
    copy_hi = dst + n;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    copy_jump = &jump;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    memcpy(dst, src, n);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    copy_jump = NULL;
    return 0;
}

/* The appends are about to write up to end, past what the populator has
 * zeroed: wait for a pwrite of zeros that covers any of it, and keep the
 * populator above end from now on. */
static void map_claim(struct pf_map *m, uint64_t end)
{
    pthread_mutex_lock(&m->mu);
    while (m->zeroing != 0 && m->done < end)
        pthread_cond_wait(&m->zeroed, &m->mu);
    if (m->done < end)
        __atomic_store_n(&m->done, end, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&m->mu);
}

/* Hands [p, p+n) to the OS at the end of the file: a copy into the
 * mapping when the file holds allocated space there, else pwrite. */
static int pf_put(struct posix_file *pf, const char *p, size_t n, size_t *done)
{
    struct pf_map *m = pf->map;
    int rc;
    if (m && pf->flushed + n > __atomic_load_n(&m->done, __ATOMIC_ACQUIRE))
        map_claim(m, pf->flushed + n);   /* the populator lags: not past us */
    if (m && pf->flushed + n <= m->alloc && pf->flushed + n <= m->len) {
        if ((rc = map_copy(m->base + pf->flushed, p, n)) < 0) {
            *done = 0;
            return rc;
        }
        *done = n;
        pf->flushed += n;
        map_advance(m, pf->flushed);
        return 0;
    }
    rc = write_all(pf->fd, p, n, pf->flushed, done);
    pf->flushed += *done;
    if (m && pf->flushed > m->alloc)
        m->alloc = pf->flushed;        /* written bytes are allocated */
    return rc;
}

/* Hands the buffer to the OS; on failure keeps the unwritten tail buffered. */
static int pf_flush_buf(struct posix_file *pf)
{
    if (!pf->buf_len)
        return 0;
    size_t done = 0;
    int rc = pf_put(pf, pf->buf, pf->buf_len, &done);
    if (done && done < pf->buf_len)
        memmove(pf->buf, pf->buf + done, pf->buf_len - done);
    pf->buf_len -= done;
    return rc;
}

static int pf_append(struct io_file *f, const void *data, size_t n)
{
    struct posix_file *pf = (struct posix_file *)f;
    const char *p = data;
    if (!pf->writable)
        return -EBADF;
    if (pf->map) {                    /* no buffering: straight to the OS */
        size_t done = 0;
        int rc = pf_flush_buf(pf);
        return rc < 0 ? rc : pf_put(pf, p, n, &done);
    }
    if (pf->buf_len + n <= POSIX_BUF_SIZE) {
        if (!pf->buf)
            pf->buf = zmalloc(POSIX_BUF_SIZE);
        if (n)
            memcpy(pf->buf + pf->buf_len, p, n);
        pf->buf_len += n;
        if (pf->buf_len == POSIX_BUF_SIZE)
            return pf_flush_buf(pf);
        return 0;
    }
    int rc = pf_flush_buf(pf);
    if (rc < 0)
        return rc;
    if (n >= POSIX_BUF_SIZE) {        /* large appends bypass the buffer */
        size_t done = 0;
        return pf_put(pf, p, n, &done);
    }
    return pf_append(f, p, n);
}

static int pf_flush(struct io_file *f)
{
    return pf_flush_buf((struct posix_file *)f);
}

static int pf_sync(struct io_file *f)
{
    struct posix_file *pf = (struct posix_file *)f;
    int rc = pf_flush_buf(pf);
    if (rc < 0)
        return rc;
    if (fdatasync(pf->fd) < 0)
        return -errno;
    return 0;
}

static ssize_t pf_pread(struct io_file *f, void *buf, size_t n, uint64_t off)
{
    struct posix_file *pf = (struct posix_file *)f;
    if (pf->writable && pf->buf_len) {
        int rc = pf_flush_buf(pf);     /* readers see every appended byte */
        if (rc < 0)
            return rc;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(pf->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int64_t pf_size(struct io_file *f)
{
    struct posix_file *pf = (struct posix_file *)f;
    if (pf->writable)
        return (int64_t)(pf->flushed + pf->buf_len);
    struct stat st;
    if (fstat(pf->fd, &st) < 0)
        return -errno;
    return (int64_t)st.st_size;
}

static void pf_prefetch(struct io_file *f, uint64_t off, size_t n)
{
    struct posix_file *pf = (struct posix_file *)f;
    (void)posix_fadvise(pf->fd, (off_t)off, (off_t)n, POSIX_FADV_WILLNEED);
}

static int pf_reserve(struct io_file *f, uint64_t off, uint64_t n)
{
    struct posix_file *pf = (struct posix_file *)f;
    int rc;
    if (!pf->writable)
        return -EBADF;
    /* A mapped file grows over the space: only space inside the file can
     * be mapped, and allocated space cannot fail a copy into the mapping. */
    do
        rc = fallocate(pf->fd, pf->map ? 0 : FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)n);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        if (pf->map && off <= pf->map->alloc && off + n > pf->map->alloc) {
            pf->map->alloc = off + n;
            pf->map->asked = 0;        /* the populator may go further now */
            map_advance(pf->map, pf->flushed);
        }
        return 0;
    }
    /* Out of space (or quota, or file size), or the device failed: the
     * appends would fail too. Anything else (EOPNOTSUPP, EINVAL, ENOSYS
     * on file systems without fallocate): nothing reserved, not an error. */
    if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG || errno == EIO)
        return -errno;
    return 0;
}

static int pf_syncer(struct io_file *f, struct io_file **out)
{
    struct posix_file *pf = (struct posix_file *)f;
    int fd = fcntl(pf->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct posix_file *s = zcalloc(sizeof(*s));
    s->base.ops = pf->base.ops;
    s->fd = fd;           /* not writable: size is fstat, sync is fdatasync */
    *out = &s->base;
    return 0;
}

/* Writes zeros over [from, to), never past the file's end: a pwrite there
 * would grow a file that someone cut (the end is read once per call, so a
 * cut in the microseconds before the write still lets it grow back, with
 * zeros, up to `to`). Best effort: a failed write leaves those pages to
 * the writer's faults. */
static void zero_range(int fd, uint64_t from, uint64_t to)
{
    static const char zeros[64 << 10];
    struct iovec iov[16];
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    if ((uint64_t)st.st_size < to)
        to = (uint64_t)st.st_size;
    for (int i = 0; i < 16; i++) {
        iov[i].iov_base = (void *)zeros;
        iov[i].iov_len = sizeof zeros;
    }
    while (from < to) {
        uint64_t n = to - from;
        int cnt = 0;
        for (; cnt < 16 && n > 0; cnt++) {
            iov[cnt].iov_len = n < sizeof zeros ? (size_t)n : sizeof zeros;
            n -= iov[cnt].iov_len;
        }
        ssize_t w = pwritev(fd, iov, cnt, (off_t)from);
        for (int i = 0; i < cnt; i++)
            iov[i].iov_len = sizeof zeros;
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        from += (uint64_t)w;
    }
}

static void *map_populator(void *arg)
{
    struct pf_map *m = arg;
    pthread_setname_np(pthread_self(), "lsm-map");   /* its CPU shows apart */
    pthread_mutex_lock(&m->mu);
    for (;;) {
        uint64_t from, to;
        while (!m->stop && m->done >= m->want && m->unmapped >= m->unmap)
            pthread_cond_wait(&m->cv, &m->mu);
        if (m->stop)
            break;
        if (m->unmapped < m->unmap) {
            /* Drop the page-table entries of what the appends left behind
             * (the pages stay in the page cache, dirty until written
             * back): writeback of a page still mapped must write-protect
             * it, one TLB shootdown per page, which interrupts the writer. */
            from = m->unmapped;
            to = m->unmap;
            pthread_mutex_unlock(&m->mu);
            (void)madvise(m->base + from, (size_t)(to - from), MADV_DONTNEED);
            pthread_mutex_lock(&m->mu);
            m->unmapped = to;
            if (m->done < to)          /* appends got there first */
                __atomic_store_n(&m->done, to, __ATOMIC_RELEASE);
            continue;
        }
        from = m->done;
        to = m->want - from > MAP_CHUNK ? from + MAP_CHUNK : m->want;
        m->zeroing = to;
        pthread_mutex_unlock(&m->mu);
        /* Zeros written over the allocated space put its pages in the page
         * cache through the write path: mapping fallocated space directly
         * (MADV_POPULATE_WRITE alone) zeroes it in the fault path's
         * readahead, which cost 3-4 us per 4 KiB here against 0.9 for the
         * pwrite and the populate together (docs/benchmarks.md). */
        zero_range(m->fd, from, to);
        pthread_mutex_lock(&m->mu);
        m->zeroing = 0;
        if (m->done < to)
            __atomic_store_n(&m->done, to, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&m->zeroed);
        pthread_mutex_unlock(&m->mu);
        /* Writable pages (no disk read): the writer's copy then costs no
         * fault at all. They are dirty, so a sync or writeback that comes
         * before the appends writes them as zeros (at most MAP_AHEAD per
         * file), which a reader takes for the end of the log.
         * POPULATE_READ left them clean but cost the writer a write fault
         * per page: the 4 KB fill was 15% slower. The writer may already
         * be copying into them: mapping a page does not change it. Best
         * effort. */
        (void)madvise(m->base + from, (size_t)(to - from), MADV_POPULATE_WRITE);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static int pf_map(struct io_file *f, uint64_t len)
{
    struct posix_file *pf = (struct posix_file *)f;
    struct pf_map *m;
    struct stat st;
    long page = sysconf(_SC_PAGESIZE);
    void *base;
    int rc;

    if (!pf->writable)
        return -EBADF;
    if (pf->map || len == 0 || len > SIZE_MAX / 2 || page <= 0)
        return -EINVAL;
    if ((rc = pf_flush_buf(pf)) < 0)
        return rc;
    if (fstat(pf->fd, &st) < 0)
        return -errno;
    base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, pf->fd, 0);
    if (base == MAP_FAILED)
        return -errno;
    pthread_once(&sigbus_once, sigbus_install);
    /* Without MADV_POPULATE_WRITE (Linux 5.14, with POPULATE_READ, which
     * probes for it without dirtying the page) every page would fault in
     * the writer's copy, which costs more than write(2): stay unmapped. */
    if (madvise(base, (size_t)page, MADV_POPULATE_READ) < 0 && errno == EINVAL) {
        munmap(base, (size_t)len);
        return -EOPNOTSUPP;
    }
    m = zcalloc(sizeof(*m));
    m->base = base;
    m->fd = pf->fd;
    m->done = pf->flushed;          /* zeros only after what was appended */
    m->len = len;
    /* What the file holds now was written, so it is allocated. */
    m->alloc = (uint64_t)st.st_size > pf->flushed ? pf->flushed : (uint64_t)st.st_size;
    m->page = page;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    pthread_cond_init(&m->zeroed, NULL);
    if ((rc = pthread_create(&m->thread, NULL, map_populator, m)) != 0) {
        pthread_cond_destroy(&m->zeroed);
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        munmap(base, (size_t)len);
        zfree(m);
        return -rc;
    }
    pf->map = m;
    return 0;
}

/* Stops the populator and unmaps; the bytes stay in the page cache. */
static void pf_unmap(struct posix_file *pf)
{
    struct pf_map *m = pf->map;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    munmap(m->base, (size_t)m->len);
    pthread_cond_destroy(&m->zeroed);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    zfree(m);
    pf->map = NULL;
}

static int pf_release(struct posix_file *pf, int rc)
{
    pf_unmap(pf);
    if (close(pf->fd) < 0 && rc == 0)
        rc = -errno;
    zfree(pf->buf);
    zfree(pf);
    return rc;
}

static int pf_close(struct io_file *f)
{
    struct posix_file *pf = (struct posix_file *)f;
    return pf_release(pf, pf_flush_buf(pf));
}

static void pf_abandon(struct io_file *f)
{
    (void)pf_release((struct posix_file *)f, 0);
}

static const struct io_file_ops posix_file_ops = {
    .append = pf_append,
    .flush = pf_flush,
    .sync = pf_sync,
    .pread = pf_pread,
    .size = pf_size,
    .prefetch = pf_prefetch,
    .reserve = pf_reserve,
    .map = pf_map,
    .syncer = pf_syncer,
    .close = pf_close,
    .abandon = pf_abandon,
};

/* ---- posix env ---- */

static int pe_open(struct io_env *env, const char *path, enum io_open_mode mode,
                   struct io_file **out)
{
    static const int flags[] = {
        [IO_OPEN_APPEND] = O_RDWR | O_CREAT | O_TRUNC,
        [IO_OPEN_APPEND_EXISTING] = O_RDWR,
        [IO_OPEN_READ] = O_RDONLY,
    };
    *out = NULL;
    int fd;
    do {
        fd = open(path, flags[mode] | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    struct posix_file *pf = zcalloc(sizeof(*pf));
    pf->base.ops = &posix_file_ops;
    pf->fd = fd;
    pf->writable = mode != IO_OPEN_READ;
    if (mode == IO_OPEN_APPEND_EXISTING) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            int rc = -errno;
            pf_release(pf, 0);
            return rc;
        }
        pf->flushed = (uint64_t)end;
    }
    *out = &pf->base;
    return 0;
}

static int pe_rename(struct io_env *env, const char *from, const char *to)
{
    return rename(from, to) < 0 ? -errno : 0;
}

static int pe_unlink(struct io_env *env, const char *path)
{
    return unlink(path) < 0 ? -errno : 0;
}

static int pe_mkdir(struct io_env *env, const char *path)
{
    if (mkdir(path, 0755) == 0)
        return 0;
    int err = errno;
    struct stat st;
    if (err == EEXIST && stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    return -err;
}

static int pe_sync_dir(struct io_env *env, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int pe_exists(struct io_env *env, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

static int pe_free_space(struct io_env *env, const char *dir, uint64_t *bytes)
{
    struct statvfs st;
    if (statvfs(dir, &st) < 0)
        return -errno;
    *bytes = (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
    return 0;
}

static int pe_get_size(struct io_env *env, const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int pe_truncate(struct io_env *env, const char *path, uint64_t size)
{
    return truncate(path, (off_t)size) < 0 ? -errno : 0;
}

static int pe_list_dir(struct io_env *env, const char *dir,
                       int (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = -errno;
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        rc = fn(de->d_name, arg);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

static void pe_unlock(struct io_lock *l)
{
    struct posix_lock *pl = (struct posix_lock *)l;
    flock(pl->fd, LOCK_UN);
    close(pl->fd);
    zfree(pl);
}

static int pe_lock(struct io_env *env, const char *path, struct io_lock **out)
{
    *out = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    struct posix_lock *pl = zcalloc(sizeof(*pl));
    pl->base.release = pe_unlock;
    pl->fd = fd;
    *out = &pl->base;
    return 0;
}

static const struct io_env_ops posix_env_ops = {
    .open = pe_open,
    .rename = pe_rename,
    .unlink = pe_unlink,
    .mkdir = pe_mkdir,
    .sync_dir = pe_sync_dir,
    .exists = pe_exists,
    .get_size = pe_get_size,
    .free_space = pe_free_space,
    .truncate = pe_truncate,
    .list_dir = pe_list_dir,
    .lock = pe_lock,
};

static struct io_env posix_env = { &posix_env_ops };

struct io_env *io_env_posix(void)
{
    return &posix_env;
}
