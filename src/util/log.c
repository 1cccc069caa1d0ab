/* log: Redis-format process log (see log.h). */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_LINE 8192

static _Atomic int log_level = LOG_NOTICE;
/* STDOUT_FILENO, or a private descriptor that a later log_open_file() swaps
 * in place with dup3() so concurrent writers never see a closed fd. */
static _Atomic int log_fd = STDOUT_FILENO;
static __thread char log_role = 'M';

static const char log_marks[] = { '.', '-', '*', '#' };

void log_set_level(enum log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level);
}

int log_open_file(const char *path)
{
    int cur = atomic_load(&log_fd);
    int nfd;
    if (!path || !*path) {
        if (cur == STDOUT_FILENO)
            return 0;
        nfd = STDOUT_FILENO;
    } else {
        nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (nfd < 0)
            return -errno;
        if (cur == STDOUT_FILENO) {
            atomic_store(&log_fd, nfd);
            return 0;
        }
    }
    int rc = dup3(nfd, cur, O_CLOEXEC) < 0 ? -errno : 0;
    if (nfd != STDOUT_FILENO)
        close(nfd);
    return rc;
}

void log_set_role(char role)
{
    log_role = role;
}

/* Formats the prefix and message into one line and writes it at once. */
static void log_emit(enum log_level level, const char *fmt, va_list ap,
                     const char *plain)
{
    char line[LOG_MAX_LINE];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int lv = (int)level;
    if (lv < 0 || lv > LOG_WARNING)
        lv = LOG_WARNING;
    size_t off = (size_t)snprintf(line, sizeof(line), "%d:%c ", (int)getpid(),
                                  log_role);
    off += strftime(line + off, sizeof(line) - off, "%d %b %Y %H:%M:%S", &tm);
    off += (size_t)snprintf(line + off, sizeof(line) - off, ".%03d %c ",
                            (int)(tv.tv_usec / 1000), log_marks[lv]);
    size_t room = sizeof(line) - off - 1;   /* keep one byte for '\n' */
    int n;
    if (plain)
        n = snprintf(line + off, room + 1, "%s", plain);
    else
        n = vsnprintf(line + off, room + 1, fmt, ap);
    if (n < 0)
        n = 0;
    off += (size_t)n > room ? room : (size_t)n;
    line[off++] = '\n';
    int fd = atomic_load(&log_fd);
    ssize_t w;
    do {
        w = write(fd, line, off);
    } while (w < 0 && errno == EINTR);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&log_level))
        return;
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    log_emit(level, fmt, ap, NULL);
    va_end(ap);
    errno = saved;
}

static void log_emit_plain(enum log_level level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_emit(level, NULL, ap, msg);
    va_end(ap);
}

void log_raw(enum log_level level, const char *msg)
{
    int saved = errno;
    log_emit_plain(level, msg);
    errno = saved;
}
