/* Unit tests of util/io: the posix env, and the fault env (every fault kind,
 * the path filter, crash dropping exactly the unsynced bytes and creations,
 * reset, and the operation counter). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/io.h"
#include "util/slice.h"
#include "util/zmalloc.h"
#include "util_test.h"

static char dir[256];

static const char *P(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
    return p;
}

static int rm_entry(const char *name, void *arg)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", (const char *)arg, name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        io_list_dir(io_env_posix(), path, rm_entry, path);
        rmdir(path);
    } else {
        unlink(path);
    }
    return 0;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "%s/lsm-test-io-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    io_list_dir(io_env_posix(), dir, rm_entry, dir);
    rmdir(dir);
}

/* Writes data to path in one go, synced; returns 0 or the first error. */
static int write_file(struct io_env *env, const char *path, const char *data,
                      size_t n, int sync)
{
    struct io_file *f;
    int rc = io_open_append(env, path, &f);
    if (rc < 0)
        return rc;
    rc = io_file_append(f, data, n);
    if (rc == 0 && sync)
        rc = io_file_sync(f);
    int rc2 = io_file_close(f);
    return rc ? rc : rc2;
}

/* Whole file through the posix env; returns its size (or -errno). */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
    struct io_file *f;
    int rc = io_open_read(io_env_posix(), path, &f);
    if (rc < 0)
        return rc;
    ssize_t n = io_file_pread(f, buf, cap, 0);
    io_file_close(f);
    return n;
}

static uint64_t file_size(const char *path)
{
    uint64_t sz = 0;
    ck_assert_int_eq(io_get_size(io_env_posix(), path, &sz), 0);
    return sz;
}

/* ------------------------------------------------------------ posix --- */

START_TEST(append_and_read_back_random_sizes)
{
    struct io_env *env = io_env_posix();
    uint64_t st = ut_seed();
    size_t total = 1 << 20;
    char *data = zmalloc(total), *back = zmalloc(total + 10);
    for (size_t i = 0; i < total; i++)
        data[i] = (char)ut_rand(&st);
    struct io_file *f;
    ck_assert_int_eq(io_open_append(env, P("a"), &f), 0);
    size_t off = 0;
    while (off < total) {
        size_t n = ut_rand(&st) % 3 == 0 ? ut_rand(&st) % 200000 : ut_rand(&st) % 300;
        if (n > total - off)
            n = total - off;
        ck_assert_int_eq(io_file_append(f, data + off, n), 0);
        off += n;
        ck_assert_int_eq(io_file_size(f), (int64_t)off);
    }
    /* pread on the appending file sees every appended byte */
    ck_assert_int_eq(io_file_pread(f, back, 100, total - 100), 100);
    ck_assert(memcmp(back, data + total - 100, 100) == 0);
    ck_assert_int_eq(io_file_sync(f), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(read_file(P("a"), back, total + 10), (ssize_t)total);
    ck_assert(memcmp(back, data, total) == 0);
    ck_assert_uint_eq(file_size(P("a")), total);
    zfree(data);
    zfree(back);
}
END_TEST

START_TEST(appends_are_buffered_until_flush)
{
    struct io_env *env = io_env_posix();
    struct io_file *f;
    ck_assert_int_eq(io_open_append(env, P("b"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "hello", 5), 0);
    ck_assert_uint_eq(file_size(P("b")), 0);        /* still in the 64 KB buffer */
    ck_assert_int_eq(io_file_size(f), 5);
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_uint_eq(file_size(P("b")), 5);
    char big[70000];
    memset(big, 'z', sizeof(big));
    ck_assert_int_eq(io_file_append(f, big, sizeof(big)), 0);   /* > buffer */
    ck_assert_uint_eq(file_size(P("b")), 5 + sizeof(big));
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_file_close(NULL), 0);
}
END_TEST

/* Reserved space is allocated (st_blocks) without changing the size, the
 * appends into it read back, a truncate to the size gives it back, and a
 * read-only file cannot reserve. */
START_TEST(reserve_allocates_without_growing)
{
    struct io_env *env = io_env_posix();
    struct io_file *f, *r;
    struct stat st;
    char data[3000];
    ck_assert_int_eq(io_open_append(env, P("res"), &f), 0);
    ck_assert_int_eq(io_file_reserve(f, 0, 1 << 20), 0);
    ck_assert_int_eq(stat(P("res"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    if (st.st_blocks == 0) {
        /* A file system without fallocate: reserving is a no-op there. */
        io_file_close(f);
        return;
    }
    ck_assert_int_ge(st.st_blocks * 512, 1 << 20);
    memset(data, 'r', sizeof data);
    ck_assert_int_eq(io_file_append(f, data, sizeof data), 0);
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_uint_eq(file_size(P("res")), sizeof data);
    ck_assert_int_eq(io_truncate(env, P("res"), sizeof data), 0);
    ck_assert_int_eq(stat(P("res"), &st), 0);
    ck_assert_int_lt(st.st_blocks * 512, 64 << 10);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_open_read(env, P("res"), &r), 0);
    ck_assert_int_eq(io_file_reserve(r, 0, 4096), -EBADF);
    ck_assert_int_eq(io_file_close(r), 0);
}
END_TEST

/* A byte of the mapped tests' content at offset i. */
static char map_byte(uint64_t i)
{
    return (char)(1 + (i * 7 + i / 4093) % 251);      /* never 0 */
}

/* Appends [from, to) of the pattern in pieces of 1 .. 9000 bytes. */
static void map_append(struct io_file *f, uint64_t from, uint64_t to, uint64_t *rng)
{
    static char piece[9000];
    while (from < to) {
        size_t n = 1 + (size_t)(ut_rand(rng) % sizeof piece);
        if (n > to - from)
            n = (size_t)(to - from);
        for (size_t i = 0; i < n; i++)
            piece[i] = map_byte(from + i);
        ck_assert_int_eq(io_file_append(f, piece, n), 0);
        from += n;
    }
}

/* 1 once the first n bytes of path are all in the page cache (within 10 s). */
static int wait_resident(const char *path, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (n + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = zmalloc(pages);
    int fd = open(path, O_RDONLY), ok = 0;
    void *m = fd < 0 ? MAP_FAILED : mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    for (int tries = 0; m != MAP_FAILED && !ok && tries < 1000; tries++) {
        ok = mincore(m, n, vec) == 0;
        for (size_t i = 0; ok && i < pages; i++)
            ok = vec[i] & 1;
        if (!ok)
            usleep(10000);
    }
    if (m != MAP_FAILED)
        munmap(m, n);
    if (fd >= 0)
        close(fd);
    zfree(vec);
    return ok;
}

/* The file's first n bytes hold the pattern. */
static void map_check_prefix(const char *path, uint64_t n)
{
    struct io_file *r;
    char got[256];
    ck_assert_uint_le(n, sizeof got);
    ck_assert_int_eq(io_open_read(io_env_posix(), path, &r), 0);
    ck_assert_int_eq(io_file_pread(r, got, (size_t)n, 0), (ssize_t)n);
    for (uint64_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == map_byte(i), "%s: byte %llu is %d", path, (unsigned long long)i,
                      got[i]);
    io_file_close(r);
}

/* The file holds the pattern on [0, n), then only zeros. */
static void map_check(const char *path, uint64_t n)
{
    struct io_file *r;
    static char chunk[65536];
    uint64_t off = 0;
    ssize_t got;
    ck_assert_int_eq(io_open_read(io_env_posix(), path, &r), 0);
    while ((got = io_file_pread(r, chunk, sizeof chunk, off)) > 0) {
        for (ssize_t i = 0; i < got; i++, off++)
            if (chunk[i] != (off < n ? map_byte(off) : 0))
                ck_abort_msg("%s: byte %llu is %d", path, (unsigned long long)off, chunk[i]);
    }
    ck_assert_int_eq(got, 0);
    ck_assert_uint_ge(off, n);
    io_file_close(r);
}

/* io_file_map: appends reach the OS without a flush (another handle reads
 * them), the reservation grows the file (zeros after the content), appends
 * past the reservation or the mapping are written, the content stays
 * right across the populator and the unmapping behind the appends (20 MiB),
 * sync works, and close keeps the file as it is. */
START_TEST(mapped_appends)
{
    struct io_env *env = io_env_posix();
    struct io_file *f, *r;
    uint64_t rng = ut_seed(), n = 0;
    char back[4];
    int rc;

    ck_assert_int_eq(io_open_append(env, P("m"), &f), 0);
    map_append(f, 0, 100, &rng);
    n = 100;
    rc = io_file_map(f, 24u << 20);
    if (rc == -EOPNOTSUPP) {             /* a kernel before 5.14 */
        io_file_close(f);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(io_file_map(f, 1 << 20), -EINVAL);          /* mapped already */
    ck_assert_int_eq(io_file_reserve(f, n, 16u << 20), 0);
    ck_assert_uint_eq(file_size(P("m")), n + (16u << 20));        /* grown */
    /* The populator writes zeros ahead of the appends, never over what
     * the file held when it was mapped. */
    ck_assert(wait_resident(P("m"), 8u << 20));
    map_check_prefix(P("m"), n);
    map_append(f, n, 5000, &rng);
    n = 5000;
    ck_assert_int_eq(io_file_size(f), (int64_t)n);
    ck_assert_int_eq(io_open_read(env, P("m"), &r), 0);           /* no flush */
    ck_assert_int_eq(io_file_pread(r, back, 4, n - 4), 4);
    ck_assert_int_eq(back[3], map_byte(n - 1));
    io_file_close(r);
    /* 20 MiB: past the reservation (written), so past what the populator
     * and the unmapping behind handle in one step. */
    map_append(f, n, 20u << 20, &rng);
    n = 20u << 20;
    ck_assert_int_eq(io_file_size(f), (int64_t)n);
    map_check(P("m"), n);
    /* Reserve again, then past the 24 MiB mapping. */
    ck_assert_int_eq(io_file_reserve(f, n, 2u << 20), 0);
    map_append(f, n, 26u << 20, &rng);
    n = 26u << 20;
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_int_eq(io_file_sync(f), 0);
    ck_assert_int_eq(io_file_reserve(f, n, 1 << 20), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_uint_eq(file_size(P("m")), n + (1 << 20));          /* close keeps it */
    map_check(P("m"), n);
    ck_assert_int_eq(io_truncate(env, P("m"), n), 0);
    ck_assert_uint_eq(file_size(P("m")), n);

    ck_assert_int_eq(io_open_read(env, P("m"), &r), 0);
    ck_assert_int_eq(io_file_map(r, 1 << 20), -EBADF);
    io_file_close(r);
}
END_TEST

/* The address just past the mapping of the file path in this process
 * (from /proc/self/maps), or NULL. */
static char *mapping_end(const char *path)
{
    char line[1024], real[512];
    unsigned long lo, hi, end = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps || !realpath(path, real)) {
        if (maps)
            fclose(maps);
        return NULL;
    }
    while (fgets(line, sizeof line, maps)) {
        char *name = strchr(line, '/');
        if (name && sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
            strncmp(name, real, strlen(real)) == 0 && name[strlen(real)] == '\n')
            end = hi;
    }
    fclose(maps);
    return (char *)end;
}

/* Appends that go past the mapping (written with pwrite) must not make the
 * populator drop pages beyond it: there, other memory may lie (it zeroed
 * the test's heap, 1 run in 6 under load). An anonymous region of ours
 * placed right after the mapping keeps its bytes. To get it there, with the
 * kernel's top-down placement (the highest free gap that fits): reserve 16
 * MiB, fill every 1 MiB gap above it, give back all of it but its top MiB,
 * and map the file, which then lands just below that MiB. */
/* The populator writes zeros ahead of the appends; reserving in small
 * steps keeps it right at the appends' heels, so it is often zeroing the
 * range the next append copies into: no appended byte may become zero. */
START_TEST(mapped_appends_race_the_populator)
{
    struct io_file *f;
    uint64_t rng = ut_seed(), n = 0;
    ck_assert_int_eq(io_open_append(io_env_posix(), P("race"), &f), 0);
    int rc = io_file_map(f, 72u << 20);
    if (rc == -EOPNOTSUPP) {             /* a kernel before 5.14 */
        io_file_close(f);
        return;
    }
    ck_assert_int_eq(rc, 0);
    while (n < (64u << 20)) {
        uint64_t step = 4096 + ut_rand(&rng) % (256u << 10);
        ck_assert_int_eq(io_file_reserve(f, n, step + (ut_rand(&rng) % 3) * 4096), 0);
        map_append(f, n, n + step, &rng);
        n += step;
    }
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(truncate(P("race"), (off_t)n), 0);
    map_check(P("race"), n);
}
END_TEST

START_TEST(mapped_appends_past_the_mapping_leave_neighbours_alone)
{
    enum { FILL_MAX = 4096 };
    static char *fill[FILL_MAX];
    struct io_file *f;
    uint64_t rng = ut_seed();
    const size_t mib = 1u << 20;
    int nfill = 0;
    ck_assert_int_eq(io_open_append(io_env_posix(), P("nb"), &f), 0);
    char *g = mmap(NULL, 16 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(g, MAP_FAILED);
    while (nfill < FILL_MAX) {
        char *x = mmap(NULL, mib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(x, MAP_FAILED);
        if (x < g) {                          /* no gap above g is left */
            munmap(x, mib);
            break;
        }
        fill[nfill++] = x;
    }
    char *nb = g + 15 * mib;                 /* the neighbour */
    memset(nb, 0xab, mib);
    ck_assert_int_eq(munmap(g, 15 * mib), 0);
    int rc = io_file_map(f, mib);            /* nothing maps in between */
    for (int i = 0; i < nfill; i++)
        munmap(fill[i], mib);
    if (rc == -EOPNOTSUPP) {
        io_file_close(f);
        munmap(nb, mib);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(mapping_end(P("nb")) == nb, "the mapping did not land just below ours");
    ck_assert_int_eq(io_file_reserve(f, 0, mib), 0);
    map_append(f, 0, 4 * mib, &rng);        /* 3 MiB past the mapping */
    ck_assert_int_eq(io_file_reserve(f, 4 * mib, mib), 0);   /* the populator's turn */
    usleep(300 * 1000);
    size_t kept = 0;
    while (kept < mib && (unsigned char)nb[kept] == 0xab)
        kept++;
    munmap(nb, mib);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_msg(kept == mib, "the memory after the mapping lost its bytes from %zu on", kept);
    map_check(P("nb"), 4 * mib);
}
END_TEST

/* A process killed while appending through the mapping leaves every byte
 * appended before the kill in the file (the page cache has them), then the
 * allocated zeros. */
START_TEST(mapped_appends_survive_process_death)
{
    const uint64_t n = 3u << 20;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct io_file *f;
        uint64_t rng = 7;
        if (io_open_append(io_env_posix(), P("k"), &f) != 0 || io_file_map(f, 8u << 20) != 0 ||
            io_file_reserve(f, 0, 8u << 20) != 0)
            _exit(3);
        map_append(f, 0, n, &rng);
        kill(getpid(), SIGKILL);              /* no close, no flush, no sync */
        _exit(4);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
        return;                               /* cannot map here (old kernel) */
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert_uint_eq(file_size(P("k")), 8u << 20);
    map_check(P("k"), n);
}
END_TEST

/* io_file_data_end: the end of the last non-zero byte from an offset on,
 * across its 1 MiB reads, or the offset itself when only zeros follow. */
START_TEST(data_end_finds_the_last_nonzero_byte)
{
    struct io_env *env = io_env_posix();
    static char data[(1 << 20) + 5000];
    struct io_file *r;
    uint64_t end = 1;
    memset(data, 0, sizeof data);
    data[3] = 'a';
    data[(1 << 20) + 10] = 'b';                /* in the second read */
    ck_assert_int_eq(write_file(env, P("z"), data, sizeof data, 0), 0);
    ck_assert_int_eq(io_open_read(env, P("z"), &r), 0);
    ck_assert_int_eq(io_file_data_end(r, 0, &end), 0);
    ck_assert_uint_eq(end, (1 << 20) + 11);
    ck_assert_int_eq(io_file_data_end(r, (1 << 20) + 11, &end), 0);
    ck_assert_uint_eq(end, (1 << 20) + 11);    /* zeros only */
    ck_assert_int_eq(io_file_data_end(r, 2, &end), 0);
    ck_assert_uint_eq(end, (1 << 20) + 11);
    ck_assert_int_eq(io_file_data_end(r, sizeof data + 100, &end), 0);   /* past the end */
    ck_assert_uint_eq(end, sizeof data + 100);
    io_file_close(r);
}
END_TEST

START_TEST(pread_short_only_at_eof)
{
    struct io_env *env = io_env_posix();
    ck_assert_int_eq(write_file(env, P("c"), "0123456789", 10, 1), 0);
    struct io_file *f;
    ck_assert_int_eq(io_open_read(env, P("c"), &f), 0);
    char b[32];
    ck_assert_int_eq(io_file_pread(f, b, 4, 3), 4);
    ck_assert(memcmp(b, "3456", 4) == 0);
    ck_assert_int_eq(io_file_pread(f, b, 32, 8), 2);
    ck_assert_int_eq(io_file_pread(f, b, 32, 10), 0);
    ck_assert_int_eq(io_file_pread(f, b, 32, 1000), 0);
    ck_assert_int_eq(io_file_size(f), 10);
    io_file_prefetch(f, 0, 10);
    ck_assert_int_eq(io_file_append(f, "x", 1), -EBADF);   /* read-only */
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_open_read(env, P("missing"), &f), -ENOENT);
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(append_existing_continues_and_append_truncates)
{
    struct io_env *env = io_env_posix();
    struct io_file *f;
    ck_assert_int_eq(io_open_append_existing(env, P("d"), &f), -ENOENT);
    ck_assert_int_eq(write_file(env, P("d"), "abc", 3, 0), 0);
    ck_assert_int_eq(io_open_append_existing(env, P("d"), &f), 0);
    ck_assert_int_eq(io_file_size(f), 3);
    ck_assert_int_eq(io_file_append(f, "def", 3), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    char b[16];
    ck_assert_int_eq(read_file(P("d"), b, sizeof(b)), 6);
    ck_assert(memcmp(b, "abcdef", 6) == 0);
    ck_assert_int_eq(write_file(env, P("d"), "X", 1, 0), 0);
    ck_assert_int_eq(read_file(P("d"), b, sizeof(b)), 1);
}
END_TEST

static int collect(const char *name, void *arg)
{
    struct buf *b = arg;
    buf_append(b, name, strlen(name));
    buf_append_byte(b, ',');
    return 0;
}

static int stop_at_two(const char *name, void *arg)
{
    return ++*(int *)arg == 2 ? 42 : 0;
}

START_TEST(directory_operations)
{
    struct io_env *env = io_env_posix();
    ck_assert_int_eq(io_mkdir(env, P("sub")), 0);
    ck_assert_int_eq(io_mkdir(env, P("sub")), 0);           /* exists = 0 */
    ck_assert_int_eq(write_file(env, P("file"), "1", 1, 0), 0);
    ck_assert_int_eq(io_mkdir(env, P("file")), -ENOTDIR);
    ck_assert_int_eq(io_exists(env, P("file")), 1);
    ck_assert_int_eq(io_exists(env, P("nope")), 0);
    ck_assert_int_eq(io_rename(env, P("file"), P("sub/moved")), 0);
    ck_assert_int_eq(io_exists(env, P("file")), 0);
    ck_assert_int_eq(io_exists(env, P("sub/moved")), 1);
    ck_assert_int_eq(io_rename(env, P("nope"), P("x")), -ENOENT);
    ck_assert_int_eq(io_truncate(env, P("sub/moved"), 100), 0);
    ck_assert_uint_eq(file_size(P("sub/moved")), 100);
    uint64_t sz;
    ck_assert_int_eq(io_get_size(env, P("nope"), &sz), -ENOENT);
    ck_assert_int_eq(io_sync_dir(env, P("sub")), 0);
    ck_assert_int_eq(io_sync_dir(env, P("nope")), -ENOENT);
    ck_assert_int_eq(write_file(env, P("sub/two"), "2", 1, 0), 0);
    struct buf names = BUF_INIT;
    ck_assert_int_eq(io_list_dir(env, P("sub"), collect, &names), 0);
    const char *s = buf_cstr(&names);
    ck_assert(strcmp(s, "moved,two,") == 0 || strcmp(s, "two,moved,") == 0);
    buf_free(&names);
    int calls = 0;
    ck_assert_int_eq(write_file(env, P("sub/three"), "3", 1, 0), 0);
    ck_assert_int_eq(io_list_dir(env, P("sub"), stop_at_two, &calls), 42);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(io_list_dir(env, P("nope"), collect, NULL), -ENOENT);
    ck_assert_int_eq(io_unlink(env, P("sub/two")), 0);
    ck_assert_int_eq(io_unlink(env, P("sub/two")), -ENOENT);
}
END_TEST

START_TEST(lock_is_exclusive)
{
    struct io_env *env = io_env_posix();
    struct io_lock *a, *b;
    ck_assert_int_eq(io_lock(env, P("LOCK"), &a), 0);
    ck_assert_int_eq(io_lock(env, P("LOCK"), &b), -EWOULDBLOCK);
    ck_assert_ptr_null(b);
    io_unlock(a);
    ck_assert_int_eq(io_lock(env, P("LOCK"), &b), 0);
    io_unlock(b);
    io_unlock(NULL);
    ck_assert_int_eq(io_lock(env, P("no/such/LOCK"), &a), -ENOENT);
}
END_TEST

/* ------------------------------------------------------------ fault --- */

START_TEST(fault_env_passes_through)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    ck_assert_int_eq(write_file(fe, P("f"), "hello", 5, 1), 0);
    char b[8];
    ck_assert_int_eq(read_file(P("f"), b, sizeof(b)), 5);
    struct io_file *f;
    ck_assert_int_eq(io_open_read(fe, P("f"), &f), 0);
    ck_assert_int_eq(io_file_pread(f, b, 8, 1), 4);
    ck_assert_int_eq(io_file_size(f), 5);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_exists(fe, P("f")), 1);
    ck_assert_int_eq(io_rename(fe, P("f"), P("g")), 0);
    ck_assert_int_eq(io_mkdir(fe, P("d")), 0);
    ck_assert_int_eq(io_sync_dir(fe, dir), 0);
    struct io_lock *l;
    ck_assert_int_eq(io_lock(fe, P("LOCK"), &l), 0);
    io_unlock(l);
    ck_assert_int_eq(io_unlink(fe, P("g")), 0);
    ck_assert_int_eq(io_exists(fe, P("g")), 0);
    ck_assert_uint_gt(io_env_fault_ops(fe), 10);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(eio_after_n_operations_and_persists)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    struct io_file *f;
    ck_assert_int_eq(io_open_append(fe, P("e"), &f), 0);
    io_env_fault_set(fe, IO_FAULT_EIO, 3, NULL);
    ck_assert_int_eq(io_file_append(f, "a", 1), 0);
    ck_assert_int_eq(io_file_append(f, "b", 1), 0);
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_int_eq(io_file_sync(f), -EIO);
    ck_assert_int_eq(io_file_append(f, "c", 1), -EIO);
    ck_assert_int_eq(io_exists(fe, P("e")), -EIO);
    ck_assert_int_eq(io_mkdir(fe, P("x")), -EIO);
    io_env_fault_reset(fe);
    ck_assert_int_eq(io_file_append(f, "d", 1), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    char b[8];
    ck_assert_int_eq(read_file(P("e"), b, sizeof(b)), 3);
    ck_assert(memcmp(b, "abd", 3) == 0);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(eio_path_filter)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    io_env_fault_set(fe, IO_FAULT_EIO, 0, ".wal");
    struct io_file *f;
    ck_assert_int_eq(io_open_append(fe, P("000001.wal"), &f), -EIO);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(io_open_append(fe, P("000002.sst"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "x", 1), 0);
    ck_assert_int_eq(io_file_sync(f), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_rename(fe, P("000002.sst"), P("000003.wal")), -EIO);
    ck_assert_int_eq(io_exists(fe, P("000002.sst")), 1);
    /* filter set after open still applies to the file's later operations */
    io_env_fault_reset(fe);
    ck_assert_int_eq(io_open_append(fe, P("000004.wal"), &f), 0);
    io_env_fault_set(fe, IO_FAULT_EIO, 1, "wal");
    ck_assert_int_eq(io_file_append(f, "y", 1), 0);
    ck_assert_int_eq(io_file_sync(f), -EIO);
    ck_assert_int_eq(io_exists(fe, P("000002.sst")), 1);
    ck_assert_int_eq(io_file_close(f), 0);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(enospc_budget)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    io_env_fault_set(fe, IO_FAULT_ENOSPC, 10, NULL);
    struct io_file *f;
    ck_assert_int_eq(io_open_append(fe, P("n"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "0123", 4), 0);
    ck_assert_int_eq(io_file_append(f, "4567", 4), 0);
    ck_assert_int_eq(io_file_append(f, "89abcd", 6), -ENOSPC);   /* 2 fit */
    ck_assert_int_eq(io_file_append(f, "e", 1), -ENOSPC);
    ck_assert_int_eq(io_file_sync(f), 0);        /* only appends fail */
    ck_assert_int_eq(io_file_close(f), 0);
    char b[32];
    ck_assert_int_eq(read_file(P("n"), b, sizeof(b)), 10);
    ck_assert(memcmp(b, "0123456789", 10) == 0);
    /* other files are limited only when they match the filter */
    io_env_fault_set(fe, IO_FAULT_ENOSPC, 0, "full");
    ck_assert_int_eq(write_file(fe, P("ok"), "abc", 3, 1), 0);
    ck_assert_int_eq(write_file(fe, P("full"), "abc", 3, 1), -ENOSPC);
    io_env_fault_reset(fe);
    ck_assert_int_eq(write_file(fe, P("full"), "abc", 3, 1), 0);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(short_write_writes_half)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    io_env_fault_set(fe, IO_FAULT_SHORT_WRITE, 1, NULL);
    struct io_file *f;
    ck_assert_int_eq(io_open_append(fe, P("s"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "first", 5), 0);
    ck_assert_int_eq(io_file_sync(f), 0);        /* not an append: unaffected */
    ck_assert_int_eq(io_file_append(f, "0123456789", 10), -EIO);
    ck_assert_int_eq(io_file_append(f, "more", 4), -EIO);
    ck_assert_int_eq(io_file_size(f), 10);
    ck_assert_int_eq(io_file_close(f), 0);
    char b[32];
    ck_assert_int_eq(read_file(P("s"), b, sizeof(b)), 10);
    ck_assert(memcmp(b, "first01234", 10) == 0);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(crash_drops_exactly_the_unsynced_bytes)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    uint64_t st = ut_seed();
    char data[200000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)ut_rand(&st);
    /* the files pre-exist (durable directory entry) */
    ck_assert_int_eq(write_file(io_env_posix(), P("w1"), "", 0, 1), 0);
    ck_assert_int_eq(write_file(io_env_posix(), P("w2"), "", 0, 1), 0);
    ck_assert_int_eq(io_sync_dir(io_env_posix(), dir), 0);
    struct io_file *f1, *f2;
    ck_assert_int_eq(io_open_append(fe, P("w1"), &f1), 0);
    ck_assert_int_eq(io_open_append(fe, P("w2"), &f2), 0);
    size_t off = 0, synced1 = 0;
    while (off < sizeof(data) - 3000) {
        size_t n = 1 + ut_rand(&st) % 3000;
        ck_assert_int_eq(io_file_append(f1, data + off, n), 0);
        off += n;
        if (ut_rand(&st) % 4 == 0) {
            ck_assert_int_eq(io_file_sync(f1), 0);
            synced1 = off;
        } else if (ut_rand(&st) % 3 == 0) {
            ck_assert_int_eq(io_file_flush(f1), 0);   /* flushed is not durable */
        }
    }
    if (synced1 == off) {              /* make sure something is unsynced */
        ck_assert_int_eq(io_file_append(f1, data + off, 100), 0);
        off += 100;
    }
    ck_assert_int_eq(io_file_append(f2, data, 5000), 0);
    ck_assert_int_eq(io_file_flush(f2), 0);      /* never synced */
    io_env_fault_crash(fe);
    ck_assert_uint_eq(file_size(P("w1")), synced1);
    ck_assert_uint_eq(file_size(P("w2")), 0);
    char *back = zmalloc(sizeof(data));
    ck_assert_int_eq(read_file(P("w1"), back, sizeof(data)), (ssize_t)synced1);
    ck_assert(memcmp(back, data, synced1) == 0);
    zfree(back);
    /* the machine is down: everything fails, closing drops the buffers */
    ck_assert_int_eq(io_file_append(f1, "x", 1), -EIO);
    ck_assert_int_eq(io_file_sync(f1), -EIO);
    ck_assert_int_eq(io_file_size(f1), -EIO);
    ck_assert_int_eq(io_exists(fe, P("w1")), -EIO);
    struct io_file *g;
    ck_assert_int_eq(io_open_read(fe, P("w1"), &g), -EIO);
    ck_assert_int_eq(io_file_close(f1), -EIO);
    io_env_fault_reset(fe);
    ck_assert_int_eq(io_file_append(f2, "x", 1), -EIO);  /* pre-crash file is dead */
    ck_assert_int_eq(io_file_close(f2), -EIO);
    ck_assert_uint_eq(file_size(P("w1")), synced1);      /* close wrote nothing */
    ck_assert_uint_eq(file_size(P("w2")), 0);
    ck_assert_int_eq(io_exists(fe, P("w1")), 1);
    io_env_fault_destroy(fe);
}
END_TEST

/* A syncer makes durable what was pushed through the writer before its
 * sync, not what was still in the writer's buffer, and outlives the writer
 * (posix: the data is the same file's; fault env: the crash keeps exactly
 * those bytes). */
START_TEST(syncer_syncs_what_was_pushed)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    char data[9000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    ck_assert_int_eq(write_file(io_env_posix(), P("s1"), "", 0, 1), 0);
    ck_assert_int_eq(io_sync_dir(io_env_posix(), dir), 0);

    struct io_file *f, *s, *s2;
    ck_assert_int_eq(io_open_append(fe, P("s1"), &f), 0);
    ck_assert_int_eq(io_file_append(f, data, 5000), 0);
    ck_assert_int_eq(io_file_syncer(f, &s), 0);
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_int_eq(io_file_append(f, data + 5000, 3000), 0);   /* stays buffered */
    ck_assert_int_eq(io_file_sync(s), 0);
    io_env_fault_crash(fe);
    ck_assert_uint_eq(file_size(P("s1")), 5000);
    ck_assert_int_eq(io_file_sync(s), -EIO);           /* the machine is down */
    ck_assert_int_eq(io_file_close(s), -EIO);
    ck_assert_int_eq(io_file_close(f), -EIO);
    io_env_fault_reset(fe);

    /* The writer closes first; the syncer still syncs the file. */
    ck_assert_int_eq(io_open_append_existing(fe, P("s1"), &f), 0);
    ck_assert_int_eq(io_file_append(f, data + 5000, 4000), 0);
    ck_assert_int_eq(io_file_flush(f), 0);
    ck_assert_int_eq(io_file_syncer(f, &s2), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_file_sync(s2), 0);
    ck_assert_int_eq(io_file_close(s2), 0);
    io_env_fault_crash(fe);
    ck_assert_uint_eq(file_size(P("s1")), 9000);
    char back[9000];
    ck_assert_int_eq(read_file(P("s1"), back, sizeof(back)), 9000);
    ck_assert(memcmp(back, data, 9000) == 0);
    io_env_fault_destroy(fe);

    /* A mapped file's syncer: the file spans its reservation, but only
     * what was appended is durable; a crash cuts the rest. */
    fe = io_env_fault_create(io_env_posix());
    ck_assert_int_eq(io_open_append(fe, P("s3"), &f), 0);
    ck_assert_int_eq(io_sync_dir(fe, dir), 0);
    ck_assert_int_eq(io_file_append(f, data, 100), 0);
    if (io_file_map(f, 1 << 20) != 0) {      /* a kernel before 5.14 */
        ck_assert_int_eq(io_file_close(f), 0);
    } else {
        ck_assert_int_eq(io_file_reserve(f, 100, 64 << 10), 0);
        ck_assert_int_eq(io_file_append(f, data + 100, 6000), 0);
        ck_assert_int_eq(io_file_syncer(f, &s), 0);
        ck_assert_int_eq(io_file_sync(s), 0);
        ck_assert_int_eq(io_file_append(f, data + 6100, 2000), 0);   /* not synced */
        ck_assert_uint_eq(file_size(P("s3")), 100 + (64 << 10));
        io_env_fault_crash(fe);
        ck_assert_uint_eq(file_size(P("s3")), 6100);
        ck_assert_int_eq(read_file(P("s3"), back, sizeof(back)), 6100);
        ck_assert(memcmp(back, data, 6100) == 0);
        ck_assert_int_eq(io_file_close(s), -EIO);
        ck_assert_int_eq(io_file_close(f), -EIO);
    }
    io_env_fault_destroy(fe);

    /* posix: a syncer of a writer at its end, synced from the handle. */
    ck_assert_int_eq(io_open_append(io_env_posix(), P("s2"), &f), 0);
    ck_assert_int_eq(io_file_append(f, data, 100), 0);
    ck_assert_int_eq(io_file_syncer(f, &s), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    ck_assert_int_eq(io_file_sync(s), 0);
    ck_assert_int_eq(io_file_size(s), 100);
    ck_assert_int_eq(io_file_close(s), 0);
}
END_TEST

/* Free space: the file system's, and no more than an armed ENOSPC budget
 * through the fault env. */
START_TEST(free_space_and_budget)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    uint64_t real = 0, seen = 0;
    ck_assert_int_eq(io_free_space(io_env_posix(), dir, &real), 0);
    ck_assert_uint_gt(real, 0);
    ck_assert_int_eq(io_free_space(fe, dir, &seen), 0);
    ck_assert_uint_gt(seen, 0);
    io_env_fault_set(fe, IO_FAULT_ENOSPC, 5000, NULL);
    ck_assert_int_eq(io_free_space(fe, dir, &seen), 0);
    ck_assert_uint_eq(seen, 5000);
    ck_assert_int_eq(io_free_space(io_env_posix(), "/nonexistent/dir", &seen), -ENOENT);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(crash_deletes_creations_not_dir_synced)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    ck_assert_int_eq(io_mkdir(io_env_posix(), P("db")), 0);
    /* created + synced, directory synced: survives */
    ck_assert_int_eq(write_file(fe, P("db/kept"), "kept", 4, 1), 0);
    ck_assert_int_eq(io_sync_dir(fe, P("db")), 0);
    /* created + synced, directory synced later (below): survives */
    ck_assert_int_eq(write_file(fe, P("db/early"), "earl", 4, 1), 0);
    /* created in another directory whose sync does not cover it */
    ck_assert_int_eq(write_file(fe, P("top"), "top", 3, 1), 0);
    char slash[600];
    snprintf(slash, sizeof(slash), "%s/", P("db"));
    ck_assert_int_eq(io_sync_dir(fe, slash), 0);       /* trailing '/' ok */
    ck_assert_int_eq(write_file(fe, P("db/late"), "late", 4, 1), 0);
    /* pre-existing file opened for appending keeps its old bytes */
    ck_assert_int_eq(write_file(io_env_posix(), P("db/old"), "old!", 4, 1), 0);
    struct io_file *f;
    ck_assert_int_eq(io_open_append_existing(fe, P("db/old"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "new", 3), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    /* CURRENT-style: temp file synced then renamed over an existing name */
    ck_assert_int_eq(write_file(io_env_posix(), P("db/CURRENT"), "v1", 2, 1), 0);
    ck_assert_int_eq(write_file(fe, P("db/CURRENT.tmp"), "v2", 2, 1), 0);
    ck_assert_int_eq(io_rename(fe, P("db/CURRENT.tmp"), P("db/CURRENT")), 0);
    io_env_fault_crash(fe);
    ck_assert_int_eq(io_exists(io_env_posix(), P("db/kept")), 1);
    ck_assert_uint_eq(file_size(P("db/kept")), 4);
    ck_assert_int_eq(io_exists(io_env_posix(), P("db/early")), 1);
    ck_assert_int_eq(io_exists(io_env_posix(), P("top")), 0);
    ck_assert_int_eq(io_exists(io_env_posix(), P("db/late")), 0);
    ck_assert_uint_eq(file_size(P("db/old")), 4);
    char b[8];
    ck_assert_int_eq(read_file(P("db/CURRENT"), b, sizeof(b)), 2);
    ck_assert(memcmp(b, "v2", 2) == 0);
    io_env_fault_reset(fe);
    /* after reset the env works again and tracks from scratch */
    ck_assert_int_eq(write_file(fe, P("db/after"), "a", 1, 1), 0);
    ck_assert_int_eq(io_exists(fe, P("db/after")), 1);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(crash_then_reset_tracks_new_writes)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    ck_assert_int_eq(write_file(fe, P("r"), "abc", 3, 1), 0);
    ck_assert_int_eq(io_sync_dir(fe, dir), 0);
    struct io_file *f;
    ck_assert_int_eq(io_open_append_existing(fe, P("r"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "def", 3), 0);
    ck_assert_int_eq(io_file_close(f), 0);       /* closed, never synced */
    ck_assert_int_eq(io_open_append_existing(fe, P("r"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "ghi", 3), 0);
    io_env_fault_crash(fe);
    ck_assert_uint_eq(file_size(P("r")), 3);     /* "def" was never durable */
    io_file_close(f);
    io_env_fault_reset(fe);
    ck_assert_int_eq(io_open_append_existing(fe, P("r"), &f), 0);
    ck_assert_int_eq(io_file_append(f, "jk", 2), 0);
    ck_assert_int_eq(io_file_sync(f), 0);
    ck_assert_int_eq(io_file_append(f, "lm", 2), 0);
    ck_assert_int_eq(io_file_close(f), 0);
    io_env_fault_crash(fe);
    char b[16];
    ck_assert_int_eq(read_file(P("r"), b, sizeof(b)), 5);
    ck_assert(memcmp(b, "abcjk", 5) == 0);
    io_env_fault_destroy(fe);
}
END_TEST

START_TEST(unlink_and_truncate_update_tracking)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    ck_assert_int_eq(write_file(fe, P("u"), "gone", 4, 1), 0);
    ck_assert_int_eq(io_unlink(fe, P("u")), 0);
    /* same name recreated by someone else (not through the env) */
    ck_assert_int_eq(write_file(io_env_posix(), P("u"), "other", 5, 1), 0);
    ck_assert_int_eq(write_file(fe, P("t"), "0123456789", 10, 1), 0);
    ck_assert_int_eq(io_sync_dir(fe, dir), 0);
    ck_assert_int_eq(io_truncate(fe, P("t"), 4), 0);
    io_env_fault_crash(fe);
    ck_assert_uint_eq(file_size(P("u")), 5);     /* untouched by the crash */
    ck_assert_uint_eq(file_size(P("t")), 4);
    io_env_fault_destroy(fe);
}
END_TEST

/* The counter lets a test sweep "fail the k-th operation" over a workload. */
static int workload(struct io_env *env)
{
    struct io_file *f;
    int rc;
    if ((rc = io_open_append(env, P("sweep.tmp"), &f)) < 0)
        return rc;
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = io_file_append(f, "record", 6);
    if (rc == 0)
        rc = io_file_sync(f);
    int rc2 = io_file_close(f);
    if (rc == 0)
        rc = rc2;
    if (rc == 0)
        rc = io_rename(env, P("sweep.tmp"), P("sweep"));
    if (rc == 0)
        rc = io_sync_dir(env, dir);
    return rc;
}

START_TEST(ops_counter_drives_a_sweep)
{
    struct io_env *fe = io_env_fault_create(io_env_posix());
    uint64_t before = io_env_fault_ops(fe);
    ck_assert_int_eq(workload(fe), 0);
    uint64_t n = io_env_fault_ops(fe) - before;
    ck_assert_uint_eq(n, 9);     /* open, 5 appends, sync, rename, sync_dir */
    for (uint64_t k = 0; k < n; k++) {
        io_env_fault_set(fe, IO_FAULT_EIO, k, NULL);
        ck_assert_int_eq(workload(fe), -EIO);
        io_env_fault_reset(fe);
    }
    io_env_fault_set(fe, IO_FAULT_EIO, n, NULL);
    ck_assert_int_eq(workload(fe), 0);
    io_env_fault_destroy(fe);
}
END_TEST

/* A copy into a mapped page the kernel cannot give (a device read error;
 * here the file is cut under the mapping, which faults the same way)
 * fails the append with -EIO and leaves the process alive; a SIGBUS that
 * is not under such a copy still kills the process. */
START_TEST(mapped_append_fault_is_eio)
{
    struct io_env *env = io_env_posix();
    struct io_file *f;
    uint64_t rng = ut_seed();
    char x[100];
    memset(x, 'x', sizeof x);

    ck_assert_int_eq(io_open_append(env, P("b"), &f), 0);
    int rc = io_file_map(f, 8u << 20);
    if (rc == -EOPNOTSUPP) {             /* a kernel before 5.14 */
        io_file_close(f);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(io_file_reserve(f, 0, 4u << 20), 0);
    map_append(f, 0, 10000, &rng);
    /* The populator writes zeros over the reserved space (then stops):
     * cut the file after that, as a device error would come. */
    ck_assert_msg(wait_resident(P("b"), 4u << 20), "the populator did not fill the space");
    ck_assert_int_eq(truncate(P("b"), 0), 0);
    ck_assert_int_eq(io_file_append(f, x, sizeof x), -EIO);
    ck_assert_int_eq(io_file_append(f, x, sizeof x), -EIO);   /* again, not a crash */
    ck_assert_int_eq(io_file_size(f), 10000);                 /* not counted */
    io_file_close(f);

    /* The handler is installed now; a fault outside a mapped append must
     * still end the process with SIGBUS. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(P("c"), O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            _exit(2);
        volatile char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED || ftruncate(fd, 0) != 0)
            _exit(2);
        m[0] = 1;
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* Killed by SIGBUS, or (under a sanitizer, whose handler was there
     * first) ended by that handler: never past the faulting store. */
    ck_assert_msg((WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) ||
                      (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2),
                  "a SIGBUS outside a mapped append: status %d", status);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("posix");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, append_and_read_back_random_sizes);
    tcase_add_test(tc, appends_are_buffered_until_flush);
    tcase_add_test(tc, reserve_allocates_without_growing);
    tcase_add_test(tc, mapped_appends);
    tcase_add_test(tc, mapped_appends_race_the_populator);
    tcase_add_test(tc, mapped_appends_past_the_mapping_leave_neighbours_alone);
    tcase_add_test(tc, mapped_appends_survive_process_death);
    tcase_add_test(tc, mapped_append_fault_is_eio);
    tcase_add_test(tc, data_end_finds_the_last_nonzero_byte);
    tcase_add_test(tc, pread_short_only_at_eof);
    tcase_add_test(tc, append_existing_continues_and_append_truncates);
    tcase_add_test(tc, directory_operations);
    tcase_add_test(tc, lock_is_exclusive);
    suite_add_tcase(s, tc);
    tc = tcase_create("fault");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fault_env_passes_through);
    tcase_add_test(tc, eio_after_n_operations_and_persists);
    tcase_add_test(tc, eio_path_filter);
    tcase_add_test(tc, enospc_budget);
    tcase_add_test(tc, short_write_writes_half);
    tcase_add_test(tc, crash_drops_exactly_the_unsynced_bytes);
    tcase_add_test(tc, syncer_syncs_what_was_pushed);
    tcase_add_test(tc, free_space_and_budget);
    tcase_add_test(tc, crash_deletes_creations_not_dir_synced);
    tcase_add_test(tc, crash_then_reset_tracks_new_writes);
    tcase_add_test(tc, unlink_and_truncate_update_tracking);
    tcase_add_test(tc, ops_counter_drives_a_sweep);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
