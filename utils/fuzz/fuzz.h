/* fuzz.h: the one entry point every fuzz target defines (libFuzzer's).
 *
 * A target is one file utils/fuzz/fuzz_<name>.c. It is linked twice:
 *  - with -fsanitize=fuzzer (configure --enable-fuzzing, clang) into
 *    utils/fuzz/fuzz_<name>, the libFuzzer binary;
 *  - with replay.c into utils/fuzz/replay_<name>, a test in `make check` that
 *    runs every input of utils/fuzz/corpus/<name>/ and seeded mutations of
 *    them through the target, with any compiler.
 * A target returns 0 and must not leak, crash or hang on any input; a broken
 * invariant calls fuzz_fail(), which aborts (libFuzzer and the replay both
 * report an abort as a failure). */
#ifndef LSM_UTILS_FUZZ_H
#define LSM_UTILS_FUZZ_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: fuzz invariant broken: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

#define fuzz_check(cond, ...)                                               \
    do {                                                                    \
        if (!(cond))                                                        \
            fuzz_fail(__VA_ARGS__);                                         \
    } while (0)

/* ---- the process's scratch directory ----
 * Targets that need files get them under one directory per process:
 * "lsmdb-fuzz-XXXXXX" in $TMPDIR, else in /dev/shm when it is writable
 * (fsyncs cost nothing there), else in /tmp; made on first use, removed
 * with everything in it at exit. No fork: fast enough to clear per input. */
static char fuzz_scratch[4096];

static inline int fuzz_rm_any(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    remove(p);
    return 0;
}

static inline int fuzz_rm_below(const char *p, const struct stat *st, int type, struct FTW *f)
{
    return f->level > 0 ? fuzz_rm_any(p, st, type, f) : 0;
}

/* Removes dir and everything under it. */
static inline void fuzz_rmrf(const char *dir)
{
    nftw(dir, fuzz_rm_any, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fuzz_scratch_remove(void)
{
    if (fuzz_scratch[0])
        fuzz_rmrf(fuzz_scratch);
    fuzz_scratch[0] = '\0';
}

static inline const char *fuzz_scratch_dir(void)
{
    if (!fuzz_scratch[0]) {
        const char *t = getenv("TMPDIR");
        if (!t || !*t)
            t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_scratch, sizeof(fuzz_scratch), "%s/lsmdb-fuzz-XXXXXX", t);
        if (!mkdtemp(fuzz_scratch))
            fuzz_fail("mkdtemp %s failed", fuzz_scratch);
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch;
}

/* Writes data to <scratch>/name (replacing it); the path goes to path. */
static inline void fuzz_write_file(const char *name, const void *data, size_t size,
                                   char *path, size_t cap)
{
    FILE *f;
    snprintf(path, cap, "%s/%s", fuzz_scratch_dir(), name);
    f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fuzz_fail("cannot write %s", path);
}

/* Reads a whole file into a malloc'd buffer (caller frees); *size its
 * length. */
static inline uint8_t *fuzz_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *p;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        fuzz_fail("cannot read %s", path);
    p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        fuzz_fail("cannot read %s", path);
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* Empties the scratch directory (it stays). */
static inline void fuzz_scratch_clear(void)
{
    nftw(fuzz_scratch_dir(), fuzz_rm_below, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
