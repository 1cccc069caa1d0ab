/* syncshim.c: an LD_PRELOAD shim for test_daemon_crash's power-loss rounds.
 *
 * Records, for every successful fsync/fdatasync of a regular file, the
 * file's (device, inode) and its size just before the call into the file
 * named by $LSMDB_SYNCSHIM_LOG (fixed 32-byte records, one O_APPEND write
 * each, written before the call returns to the server, so a reply that
 * depends on the sync is sent after its record exists). An open with O_TRUNC
 * is recorded as size 0 (kind 1). After kill -9 the test cuts every file of
 * the data directory back to its last synced size: what a power loss could
 * leave of append-only files (every lsmdb file is append-only). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct shim_rec {
    uint64_t dev, ino, size, kind;  /* kind 0 synced, 1 truncated by open */
};

static int logfd = -1;

__attribute__((constructor)) static void shim_init(void)
{
    const char *p = getenv("LSMDB_SYNCSHIM_LOG");
    if (p && *p) {
        int (*real_open)(const char *, int, ...) =
            (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
        logfd = real_open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
}

static void shim_note(const struct stat *st, uint64_t size, uint64_t kind)
{
    if (logfd < 0 || !S_ISREG(st->st_mode))
        return;
    struct shim_rec r = { (uint64_t)st->st_dev, (uint64_t)st->st_ino, size, kind };
    if (write(logfd, &r, sizeof r) != (ssize_t)sizeof r) {
        /* nothing to do: the test sees a short log */
    }
}

static int synced(int fd, const char *name)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
    struct stat st;
    int have = fstat(fd, &st) == 0;
    int rc = real(fd);
    if (rc == 0 && have)
        shim_note(&st, (uint64_t)st.st_size, 0);
    return rc;
}

int fsync(int fd)
{
    return synced(fd, "fsync");
}

int fdatasync(int fd)
{
    return synced(fd, "fdatasync");
}

static int opened(int fd, int flags)
{
    struct stat st;
    if (fd >= 0 && (flags & O_TRUNC) && fstat(fd, &st) == 0)
        shim_note(&st, 0, 1);
    return fd;
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    return opened(real(path, flags, mode), flags);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    return opened(real(path, flags, mode), flags);
}
