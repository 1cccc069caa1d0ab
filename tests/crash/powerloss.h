/* powerloss.h: simulated power loss for tests that kill -9 lsmdb-server.
 *
 * kill -9 alone loses nothing the server wrote (the page cache survives), so
 * it cannot tell an fsync'd write from one still in the cache. With this
 * helper the server runs with tests/crash/syncshim.so preloaded, which keeps
 * a shadow copy of each file as it was at its last successful
 * fsync/fdatasync (syncshim.c). After the kill, pl_cut() puts every file of
 * the data directory back to that copy (or, if not synced by this
 * incarnation, to what it held at its start; files created and never synced
 * become empty): what a power loss could leave. Content, not sizes, is put
 * back, so a mapped log (whose file spans space allocated ahead, zeros until
 * appended) loses its unsynced appends like a log written with write(2).
 * Directory entries likewise: the data directory gets back the names it had
 * at its last fsync (or at the start): a file created, or renamed into a
 * name, since then is removed, and one unlinked or renamed away comes back
 * (with its shadow's content, empty when it has none). pl_cut_pages keeps
 * some of the unsynced pages or sectors instead. Not modelled: a file cut
 * shorter after its last sync (it gets its synced length back), and a
 * sector torn mid-write. A file's shadow is named by its device and inode.
 *
 * Use: pl_init(); before each srv_start pl_before_start(), after it
 * pl_after_start(); after kill -9 + wait, pl_cut(); pl_free() at the end
 * (removes the shadow directory). Header-only. */
#ifndef LSM_TESTS_POWERLOSS_H
#define LSM_TESTS_POWERLOSS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hash.h"
#include "util/zmalloc.h"

struct pl_file {
    uint64_t dev, ino, size;
};

struct powerloss {
    int enabled;
    char shim[512];
    char shadows[320];              /* the shim's directory of shadow copies */
    char dir[256];
    char saved_preload[1024];
    int had_preload;
};

enum { PL_CHUNK = 64 << 10 };

/* Finds syncshim.so: $LSMDB_SYNCSHIM, next to the test binary, in
 * ../crash/ from it, or under $LSMDB_BUILDDIR/tests/crash/. */
static inline int pl_find_shim(char *out, size_t cap)
{
    const char *e = getenv("LSMDB_SYNCSHIM");
    if (e && *e) {
        snprintf(out, cap, "%s", e);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char self[400];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            size_t l = strlen(self);
            if (l > 6 && strcmp(self + l - 6, "/.libs") == 0)
                self[l - 6] = '\0';
            snprintf(out, cap, "%s/syncshim.so", self);
            if (access(out, R_OK) == 0)
                return 0;
            snprintf(out, cap, "%s/../crash/syncshim.so", self);
            if (access(out, R_OK) == 0)
                return 0;
        }
    }
    e = getenv("LSMDB_BUILDDIR");
    if (e && *e) {
        snprintf(out, cap, "%s/tests/crash/syncshim.so", e);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

/* dir: the server's data dir; shadows: a directory path outside it (made
 * here, removed by pl_free). Returns 1 when the shim was found (power loss
 * can be simulated), else 0. */
static inline int pl_init(struct powerloss *p, const char *dir, const char *shadows)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    snprintf(p->shadows, sizeof p->shadows, "%s", shadows);
    p->enabled = pl_find_shim(p->shim, sizeof p->shim) == 0;
    if (p->enabled && mkdir(p->shadows, 0755) != 0 && errno != EEXIST)
        p->enabled = 0;
    return p->enabled;
}

static inline void pl_shadow_path(const struct powerloss *p, const struct pl_file *f, char *out,
                                  size_t cap)
{
    snprintf(out, cap, "%s/%llu-%llu", p->shadows, (unsigned long long)f->dev,
             (unsigned long long)f->ino);
}

/* Makes dst's content that of src (same length), writing only the chunks
 * that differ. Returns the bytes that differed or were cut, or -1. */
static inline long long pl_copy(int src, int dst)
{
    static char a[PL_CHUNK], b[PL_CHUNK];
    struct stat ss, ds;
    if (fstat(src, &ss) != 0 || fstat(dst, &ds) != 0)
        return -1;
    long long changed = 0;
    off_t off = 0;
    while (off < ss.st_size) {
        ssize_t n = pread(src, a, sizeof a, off);
        if (n <= 0)
            return -1;
        ssize_t m = pread(dst, b, (size_t)n, off);
        if (m != n || memcmp(a, b, (size_t)n) != 0) {
            for (ssize_t i = 0; i < n; i++)
                changed += i >= m || m < 0 || a[i] != b[i];
            if (pwrite(dst, a, (size_t)n, off) != n)
                return -1;
        }
        off += n;
    }
    if (ds.st_size > off)
        changed += (long long)(ds.st_size - off);
    if (ftruncate(dst, off) != 0)
        return -1;
    return changed;
}

/* Bytes [off, off + n) of fd into buf, zeros past its end. */
static inline int pl_read_page(int fd, uint64_t size, char *buf, size_t n, uint64_t off)
{
    memset(buf, 0, n);
    if (fd < 0 || off >= size)
        return 0;
    size_t want = size - off < n ? (size_t)(size - off) : n;
    return pread(fd, buf, want, (off_t)off) == (ssize_t)want ? 0 : -1;
}

/* The power loss of pages written back in any order: every 4 KiB page
 * (512-byte sector, in half of the calls: pages torn mid-write) of file
 * whose content differs from the shadow (fd -1: none, the file was never
 * synced) keeps its current content with probability 1/2 (the page cache
 * had written it back) or gets the shadow's (zeros past its end). The file
 * ends at the shadow's length or after the last unit it kept past it.
 * Returns the bytes put back or cut, or -1. */
static inline long long pl_restore_pages(int shadow, int file, uint64_t *rng)
{
    enum { MAXU = 4096 };
    static char a[MAXU], b[MAXU];
    /* Whole pages, or 512-byte sectors (a page torn mid-write). */
    const uint64_t unit = hash_mix64((*rng)++) & 1 ? 4096 : 512;
    struct stat fs, ss;
    uint64_t slen = 0, flen, len, off;
    long long changed = 0;
    if (fstat(file, &fs) != 0 || (shadow >= 0 && fstat(shadow, &ss) != 0))
        return -1;
    flen = (uint64_t)fs.st_size;
    if (shadow >= 0)
        slen = (uint64_t)ss.st_size;
    uint64_t end = flen > slen ? flen : slen;
    uint64_t nunits = (end + unit - 1) / unit;
    unsigned char *keep = zcalloc(nunits ? nunits : 1);
    len = slen;
    for (uint64_t i = 0; i < nunits; i++) {
        off = i * unit;
        if (pl_read_page(shadow, slen, a, unit, off) < 0 ||
            pl_read_page(file, flen, b, unit, off) < 0) {
            zfree(keep);
            return -1;
        }
        if (memcmp(a, b, unit) == 0) {
            keep[i] = 2;                       /* the same either way */
            continue;
        }
        keep[i] = off < flen && (hash_mix64((*rng)++) & 1);
        if (keep[i] && off + unit > len)
            len = off + unit < flen ? off + unit : flen;
    }
    for (uint64_t i = 0; i < nunits && i * unit < len; i++) {
        if (keep[i])
            continue;
        off = i * unit;
        size_t n = len - off < unit ? (size_t)(len - off) : unit;
        if (pl_read_page(shadow, slen, a, unit, off) < 0 ||
            pwrite(file, a, n, (off_t)off) != (ssize_t)n) {
            zfree(keep);
            return -1;
        }
        changed += (long long)n;
    }
    zfree(keep);
    if (flen > len)
        changed += (long long)(flen - len);
    if (ftruncate(file, (off_t)len) != 0)
        return -1;
    return changed;
}

/* The shim's list of the data directory's entries: "dev ino name" lines,
 * written at each fsync of the directory (syncshim.c). */
static inline void pl_dir_list_path(const struct powerloss *p, char *out, size_t cap)
{
    struct stat st;
    if (stat(p->dir, &st) != 0)
        memset(&st, 0, sizeof st);
    snprintf(out, cap, "%s/dir-%llu-%llu", p->shadows, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
}

struct pl_entry {
    uint64_t dev, ino;
    char name[256];
    int seen;
};

/* The entries of the last list (*n); NULL (n 0) when there is none. */
static inline struct pl_entry *pl_dir_list_read(const struct powerloss *p, size_t *n)
{
    char path[700], line[400];
    struct pl_entry *v = NULL;
    size_t cap = 0;
    pl_dir_list_path(p, path, sizeof path);
    FILE *f = fopen(path, "r");
    *n = 0;
    if (!f)
        return NULL;
    while (fgets(line, sizeof line, f)) {
        unsigned long long dev, ino;
        char name[256];
        if (sscanf(line, "%llu %llu %255s", &dev, &ino, name) != 3)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            v = zrealloc(v, cap * sizeof *v);
        }
        v[*n].dev = dev;
        v[*n].ino = ino;
        snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
        v[*n].seen = 0;
        (*n)++;
    }
    fclose(f);
    return v;
}

/* Removes every file of the shadow directory. */
static inline void pl_clear_shadows(const struct powerloss *p)
{
    DIR *d = opendir(p->shadows);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[700];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", p->shadows, de->d_name);
        (void)unlink(path);
    }
    closedir(d);
}

/* Regular files of the data dir (flat), as (dev, ino, size); *n set. */
static inline struct pl_file *pl_scan(const char *dir, size_t *n, char ***names)
{
    DIR *d = opendir(dir);
    struct pl_file *v = NULL;
    char **nm = NULL;
    size_t cnt = 0, cap = 0;
    if (!d) {
        *n = 0;
        if (names)
            *names = NULL;
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[600];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            v = zrealloc(v, cap * sizeof *v);
            nm = zrealloc(nm, cap * sizeof *nm);
        }
        v[cnt].dev = (uint64_t)st.st_dev;
        v[cnt].ino = (uint64_t)st.st_ino;
        v[cnt].size = (uint64_t)st.st_size;
        nm[cnt] = zmalloc(strlen(path) + 1);
        memcpy(nm[cnt], path, strlen(path) + 1);
        cnt++;
    }
    closedir(d);
    *n = cnt;
    if (names) {
        *names = nm;
    } else {
        for (size_t i = 0; i < cnt; i++)
            zfree(nm[i]);
        zfree(nm);
    }
    return v;
}

/* Before starting the server: the files as they are now are durable (each
 * gets its shadow); the shim is put into the environment. */
static inline void pl_before_start(struct powerloss *p)
{
    if (!p->enabled)
        return;
    size_t n = 0;
    char **names = NULL;
    struct pl_file *now = pl_scan(p->dir, &n, &names);
    pl_clear_shadows(p);
    for (size_t i = 0; i < n; i++) {
        char path[700];
        pl_shadow_path(p, &now[i], path, sizeof path);
        int src = open(names[i], O_RDONLY | O_CLOEXEC);
        int dst = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (src < 0 || dst < 0 || pl_copy(src, dst) < 0)
            p->enabled = 0;             /* cannot tell what was durable */
        if (src >= 0)
            close(src);
        if (dst >= 0)
            close(dst);
    }
    /* Its entries as they are now are durable too. */
    char lpath[700];
    pl_dir_list_path(p, lpath, sizeof lpath);
    FILE *lf = fopen(lpath, "w");
    for (size_t i = 0; lf && i < n; i++) {
        const char *base = strrchr(names[i], '/');
        fprintf(lf, "%llu %llu %s\n", (unsigned long long)now[i].dev,
                (unsigned long long)now[i].ino, base ? base + 1 : names[i]);
    }
    if (!lf || fclose(lf) != 0)
        p->enabled = 0;
    for (size_t i = 0; i < n; i++)
        zfree(names[i]);
    zfree(names);
    zfree(now);
    if (!p->enabled)
        return;
    const char *pre = getenv("LD_PRELOAD");
    p->had_preload = pre != NULL;
    snprintf(p->saved_preload, sizeof p->saved_preload, "%s", pre ? pre : "");
    char val[1600];
    snprintf(val, sizeof val, "%s%s%s", p->shim, pre && *pre ? ":" : "", pre ? pre : "");
    setenv("LD_PRELOAD", val, 1);
    setenv("LSMDB_SYNCSHIM_DIR", p->shadows, 1);
    /* an ASan-built server would refuse a preload that comes first */
    const char *asan = getenv("ASAN_OPTIONS");
    if (!asan || !strstr(asan, "verify_asan_link_order")) {
        char a[1024];
        snprintf(a, sizeof a, "%s%sverify_asan_link_order=0", asan ? asan : "",
                 asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", a, 1);
    }
}

/* After srv_start: the test's own environment back as it was. */
static inline void pl_after_start(struct powerloss *p)
{
    if (!p->enabled)
        return;
    if (p->had_preload)
        setenv("LD_PRELOAD", p->saved_preload, 1);
    else
        unsetenv("LD_PRELOAD");
    unsetenv("LSMDB_SYNCSHIM_DIR");
}

/* Closes the descriptors (-1: none) and adds c bytes (< 0: an error) to
 * *cut, and the file to *files when it changed. */
static inline void pl_done(int a, int b, long long c, int changed, long long *cut, int *files)
{
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    if (c < 0) {
        *cut = -1;
    } else if (changed && *cut >= 0) {
        *cut += c;
        (*files)++;
    }
}

/* After kill -9 and waitpid: puts the data directory back to the names of
 * its last sync, and every file back to its shadow (empty if it has none).
 * rng NULL: all of it; else the pages written since are kept or lost at
 * random (pl_restore_pages). Returns the number of bytes that changed or
 * were cut (files_cut set to the files that changed, were removed or came
 * back), or -1 on error. */
static inline long long pl_cut_with(struct powerloss *p, int *files_cut, uint64_t *rng)
{
    *files_cut = 0;
    if (!p->enabled)
        return 0;
    size_t n = 0, nl = 0;
    char **names = NULL;
    struct pl_file *now = pl_scan(p->dir, &n, &names);
    struct pl_entry *list = pl_dir_list_read(p, &nl);
    long long cut = 0;
    for (size_t i = 0; i < n; i++) {
        char path[700];
        long long c = -1;
        const char *base = strrchr(names[i], '/');
        size_t j;
        base = base ? base + 1 : names[i];
        for (j = 0; j < nl; j++)
            if (list[j].ino == now[i].ino && list[j].dev == now[i].dev &&
                strcmp(list[j].name, base) == 0)
                break;
        if (j == nl) {
            /* Created, or renamed here, since the directory's last sync. */
            if (unlink(names[i]) == 0) {
                cut += (long long)now[i].size;
                (*files_cut)++;
            } else {
                cut = -1;
            }
            zfree(names[i]);
            continue;
        }
        list[j].seen = 1;
        pl_shadow_path(p, &now[i], path, sizeof path);
        int dst = open(names[i], O_RDWR | O_CLOEXEC);
        int src = open(path, O_RDONLY | O_CLOEXEC);
        if (dst >= 0 && (src >= 0 || errno == ENOENT)) {
            if (rng)
                c = pl_restore_pages(src, dst, rng);
            else if (src >= 0)
                c = pl_copy(src, dst);
            else                                /* never synced: empty */
                c = ftruncate(dst, 0) == 0 ? (long long)now[i].size : -1;
        }
        pl_done(src, dst, c, c > 0, &cut, files_cut);
        zfree(names[i]);
    }
    /* Unlinked, or renamed away, since the directory's last sync: back,
     * with the content of their last sync. */
    for (size_t j = 0; j < nl; j++) {
        char path[700], sh[700];
        struct pl_file f = { list[j].dev, list[j].ino, 0 };
        if (list[j].seen)
            continue;
        snprintf(path, sizeof path, "%s/%s", p->dir, list[j].name);
        pl_shadow_path(p, &f, sh, sizeof sh);
        int dst = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int src = open(sh, O_RDONLY | O_CLOEXEC);
        long long c = dst < 0 ? -1 : src >= 0 ? pl_copy(src, dst) : 0;
        pl_done(src, dst, c, 1, &cut, files_cut);
    }
    zfree(list);
    zfree(names);
    zfree(now);
    return cut;
}

static inline long long pl_cut(struct powerloss *p, int *files_cut)
{
    return pl_cut_with(p, files_cut, NULL);
}

/* pl_cut where the page cache had written back a random half of the pages
 * (or 512-byte sectors) written since each file's last sync, in any order
 * (seeded by *rng). */
static inline long long pl_cut_pages(struct powerloss *p, int *files_cut, uint64_t *rng)
{
    return pl_cut_with(p, files_cut, rng);
}

static inline void pl_free(struct powerloss *p)
{
    if (!p->enabled)
        return;
    pl_clear_shadows(p);
    (void)rmdir(p->shadows);
}

#endif
