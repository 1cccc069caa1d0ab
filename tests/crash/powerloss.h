/* powerloss.h: simulated power loss for tests that kill -9 lsmdb-server.
 *
 * kill -9 alone loses nothing the server wrote (the page cache survives), so
 * it cannot tell an fsync'd write from one still in the cache. With this
 * helper the server runs with tests/crash/syncshim.so preloaded, which logs
 * the size of a file at every successful fsync/fdatasync. After the kill,
 * pl_cut() cuts every file in the data directory back to the size it had at
 * its last sync (or, if not synced by this incarnation, at its start; files
 * created and never synced become empty) — what a power loss could leave of
 * append-only files. Not modelled: directory entries (a rename or create
 * whose directory was not fsync'd is kept) and torn sectors.
 *
 * Use: pl_init(); before each srv_start pl_before_start(), after it
 * pl_after_start(); after kill -9 + wait, pl_cut(). Header-only. */
#ifndef LSM_TESTS_POWERLOSS_H
#define LSM_TESTS_POWERLOSS_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/zmalloc.h"

struct pl_file {
    uint64_t dev, ino, size;
};

struct powerloss {
    int enabled;
    char shim[512];
    char log[320];
    char dir[256];
    struct pl_file *base;           /* sizes when the incarnation started */
    size_t nbase;
    char saved_preload[1024];
    int had_preload;
};

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

/* dir: the server's data dir; log: a file outside it. Returns 1 when the
 * shim was found (power loss can be simulated), else 0. */
static inline int pl_init(struct powerloss *p, const char *dir, const char *log)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    snprintf(p->log, sizeof p->log, "%s", log);
    p->enabled = pl_find_shim(p->shim, sizeof p->shim) == 0;
    return p->enabled;
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

/* Before starting the server: the files as they are now are durable; the
 * sync log starts empty; the shim is put into the environment. */
static inline void pl_before_start(struct powerloss *p)
{
    if (!p->enabled)
        return;
    zfree(p->base);
    p->base = pl_scan(p->dir, &p->nbase, NULL);
    int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
    const char *pre = getenv("LD_PRELOAD");
    p->had_preload = pre != NULL;
    snprintf(p->saved_preload, sizeof p->saved_preload, "%s", pre ? pre : "");
    char val[1600];
    snprintf(val, sizeof val, "%s%s%s", p->shim, pre && *pre ? ":" : "", pre ? pre : "");
    setenv("LD_PRELOAD", val, 1);
    setenv("LSMDB_SYNCSHIM_LOG", p->log, 1);
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
    unsetenv("LSMDB_SYNCSHIM_LOG");
}

/* After kill -9 and waitpid: cuts every file back to its last synced size.
 * Returns the number of bytes removed (files_cut set), or -1 on error. */
static inline long long pl_cut(struct powerloss *p, int *files_cut)
{
    *files_cut = 0;
    if (!p->enabled)
        return 0;
    size_t nrec = 0;
    char *raw = NULL;
    {
        int fd = open(p->log, O_RDONLY);
        if (fd < 0)
            return -1;
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            return -1;
        }
        raw = zmalloc((size_t)st.st_size + 1);
        ssize_t got = 0;
        while (got < st.st_size) {
            ssize_t r = read(fd, raw + got, (size_t)(st.st_size - got));
            if (r <= 0)
                break;
            got += r;
        }
        close(fd);
        nrec = (size_t)got / 32;
    }
    size_t n = 0;
    char **names = NULL;
    struct pl_file *now = pl_scan(p->dir, &n, &names);
    long long cut = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t durable = 0;
        for (size_t j = 0; j < p->nbase; j++)
            if (p->base[j].dev == now[i].dev && p->base[j].ino == now[i].ino)
                durable = p->base[j].size;
        for (size_t r = 0; r < nrec; r++) {
            uint64_t rec[4];
            memcpy(rec, raw + r * 32, 32);
            if (rec[0] != now[i].dev || rec[1] != now[i].ino)
                continue;
            if (rec[3] == 1)
                durable = 0;
            else if (rec[2] > durable)
                durable = rec[2];
        }
        if (now[i].size > durable) {
            if (truncate(names[i], (off_t)durable) == 0) {
                cut += (long long)(now[i].size - durable);
                (*files_cut)++;
            }
        }
        zfree(names[i]);
    }
    zfree(names);
    zfree(now);
    zfree(raw);
    return cut;
}

static inline void pl_free(struct powerloss *p)
{
    zfree(p->base);
    p->base = NULL;
}

#endif
