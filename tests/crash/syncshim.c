/* syncshim.c: an LD_PRELOAD shim for the power-loss tests (powerloss.h).
 *
 * Keeps, for every regular file the server fsyncs or fdatasyncs, a shadow
 * copy of the file as it was when the call was made, in
 * $LSMDB_SYNCSHIM_DIR/<dev>-<ino>: what a power loss right after that sync
 * is sure to leave. The copy is made before the real call, so it holds at
 * least every byte written before the sync began (and maybe part of what a
 * concurrent writer appended meanwhile, as a disk could), and before the
 * call returns to the server, so before any reply that depends on the sync.
 * A mapped log's bytes are copied like any other: the copy reads the file,
 * not the server's writes.
 *
 * An open that creates a file, or truncates it (O_TRUNC), drops its shadow:
 * until its next sync, a power loss leaves it empty. An fsync of a
 * directory writes the names it holds then, with their device and inode,
 * to $LSMDB_SYNCSHIM_DIR/dir-<dev>-<ino> (lines "dev ino name"): the
 * entries a power loss keeps. After kill -9 the test puts the data
 * directory back to its last such list and every file to its shadow
 * (pl_cut).
 *
 * Each sync compares the whole file with its shadow and writes only the
 * chunks that differ. (It once started where the previous sync had found
 * its first difference. That is wrong while a writer appends during the
 * copy: a chunk read before the appends reached it matches the old shadow,
 * the first difference shows in a later chunk, and the stale chunk was
 * never compared again. The test then lost a value a sync had covered.)
 * Syncs are serialized by one mutex. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 64 << 10 };

typedef int (*open_fn)(const char *, int, ...);

static const char *shadow_dir;
static open_fn real_open;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void shim_init(void)
{
    const char *p = getenv("LSMDB_SYNCSHIM_DIR");
    real_open = (open_fn)dlsym(RTLD_NEXT, "open");
    if (p && *p)
        shadow_dir = p;
}

static void shadow_path(char *out, size_t cap, const struct stat *st)
{
    snprintf(out, cap, "%s/%llu-%llu", shadow_dir, (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
}

static ssize_t read_at(int fd, char *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Brings the shadow of fd's file up to the file's content. Best effort: a
 * failure here shows as a lost write in the test, never hides one. */
static void shadow_update(int fd)
{
    static char a[CHUNK], b[CHUNK];  /* (mu) */
    char path[600], self[64];
    struct stat st;
    if (!shadow_dir || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    /* A fresh descriptor: the server's may be write-only. */
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int in = real_open(self, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return;
    shadow_path(path, sizeof path, &st);
    int out = real_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0;
    while (off < size) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        ssize_t got = read_at(in, a, n, (off_t)off);
        if (got <= 0)
            break;
        ssize_t had = read_at(out, b, (size_t)got, (off_t)off);
        if (had != got || memcmp(a, b, (size_t)got) != 0) {
            if (pwrite(out, a, (size_t)got, (off_t)off) != got)
                break;
        }
        off += (uint64_t)got;
    }
    if (ftruncate(out, (off_t)off) != 0) {
        /* the test sees the difference */
    }
    close(out);
    close(in);
}

/* Writes the names the directory fd holds (regular files) to its list,
 * through a temporary file renamed over it. Best effort. */
static void dir_update(int fd, const struct stat *st)
{
    char self[64], path[600], tmp[620];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    DIR *d = opendir(self);
    if (!d)
        return;
    snprintf(path, sizeof path, "%s/dir-%llu-%llu", shadow_dir, (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int out = real_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = out >= 0 ? fdopen(out, "w") : NULL;
    struct dirent *de;
    while (f && (de = readdir(d)) != NULL) {
        struct stat fs;
        if (fstatat(dirfd(d), de->d_name, &fs, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(fs.st_mode))
            fprintf(f, "%llu %llu %s\n", (unsigned long long)fs.st_dev,
                    (unsigned long long)fs.st_ino, de->d_name);
    }
    closedir(d);
    if (f && fclose(f) == 0)
        (void)rename(tmp, path);
    else if (out >= 0 && !f)
        close(out);
}

static int synced(int fd, const char *name)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
    struct stat st;
    pthread_mutex_lock(&mu);
    if (shadow_dir && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        dir_update(fd, &st);
    else
        shadow_update(fd);
    pthread_mutex_unlock(&mu);
    return real(fd);
}

int fsync(int fd)
{
    return synced(fd, "fsync");
}

int fdatasync(int fd)
{
    return synced(fd, "fdatasync");
}

/* A file that open created or truncated has no durable content yet. */
static int opened(int fd, int flags, int existed)
{
    struct stat st;
    if (fd < 0 || !shadow_dir || (existed && !(flags & O_TRUNC)) || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return fd;
    char path[600];
    shadow_path(path, sizeof path, &st);
    pthread_mutex_lock(&mu);
    (void)unlink(path);
    pthread_mutex_unlock(&mu);
    return fd;
}

static int do_open(const char *sym, const char *path, int flags, mode_t mode)
{
    open_fn real = (open_fn)dlsym(RTLD_NEXT, sym);
    int existed = !(flags & O_CREAT) || access(path, F_OK) == 0;
    return opened(real(path, flags, mode), flags, existed);
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
    return do_open("open", path, flags, mode);
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
    return do_open("open64", path, flags, mode);
}
