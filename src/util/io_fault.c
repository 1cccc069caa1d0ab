/* io_fault: an io_env wrapping another one to inject EIO, ENOSPC, short
 * writes and crashes (see io.h for the contract).
 *
 * For a crash it tracks, per path written through it, the size made durable
 * by the last io_file_sync() and whether the file was created through it in
 * a directory not io_sync_dir()'ed since. One mutex serializes every
 * operation (tests only), so a crash never races an in-flight write. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/hash.h"
#include "util/io.h"
#include "util/io_internal.h"
#include "util/zmalloc.h"

struct fault_track {
    struct fault_track *next;
    char *path;
    uint64_t synced;     /* durable size */
    uint64_t written;    /* the writer's size after its last append */
    int created;         /* created here, directory not synced since */
    int linked;          /* still on the env's list */
    int refs;            /* the list + open files */
};

struct fault_env {
    struct io_env base;
    struct io_env *target;
    pthread_mutex_t mu;
    enum io_fault kind;
    uint64_t after;      /* EIO/SHORT_WRITE: ops left; ENOSPC: bytes left */
    char *substr;
    int fired;           /* SHORT_WRITE: the short write was done */
    int crashed;
    uint64_t epoch;      /* bumped by each crash; older files are dead */
    uint64_t ops;
    struct fault_track *tracks;
    uint32_t sync_delay_us;  /* io_env_fault_sync_delay (mu) */
    char sync_delay_path[64];    /* only files whose path holds it ("" = all) */
};

struct fault_file {
    struct io_file base;
    struct fault_env *env;
    struct io_file *target;
    struct fault_track *t;   /* NULL when opened for reading */
    char *path;
    uint64_t epoch;
    int syncer;              /* an io_file_syncer handle */
};

static const struct io_env_ops fault_env_ops;
static const struct io_file_ops fault_file_ops;

/* ---- tracking ---- */

static struct fault_track *track_find(struct fault_env *fe, const char *path)
{
    for (struct fault_track *t = fe->tracks; t; t = t->next)
        if (!strcmp(t->path, path))
            return t;
    return NULL;
}

static void track_unref(struct fault_track *t)
{
    if (t && --t->refs == 0) {
        zfree(t->path);
        zfree(t);
    }
}

static void track_detach(struct fault_env *fe, struct fault_track *t)
{
    for (struct fault_track **pp = &fe->tracks; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            t->linked = 0;
            track_unref(t);
            return;
        }
    }
}

static void track_detach_all(struct fault_env *fe)
{
    while (fe->tracks)
        track_detach(fe, fe->tracks);
}

static struct fault_track *track_get(struct fault_env *fe, const char *path,
                                     int *fresh)
{
    struct fault_track *t = track_find(fe, path);
    *fresh = t == NULL;
    if (!t) {
        t = zcalloc(sizeof(*t));
        t->path = zstrdup(path);
        t->linked = 1;
        t->refs = 1;
        t->next = fe->tracks;
        fe->tracks = t;
    }
    return t;
}

/* 1 when dir is the directory part of path, compared as spelled ("." when
 * path has no slash; trailing slashes ignored). */
static int same_dir(const char *path, const char *dir)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (!slash)
        return dlen == 1 && dir[0] == '.';
    size_t plen = (size_t)(slash - path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    if (plen == 0)
        return dlen == 1 && dir[0] == '/';
    return plen == dlen && !memcmp(path, dir, plen);
}

/* ---- fault decisions (called with mu held) ---- */

static int fault_matches(struct fault_env *fe, const char *a, const char *b)
{
    if (!fe->substr)
        return 1;
    return (a && strstr(a, fe->substr)) || (b && strstr(b, fe->substr));
}

/* Every countable operation goes through here: counts it, fails it when
 * crashed or when an armed EIO fault fires. */
static int fault_check2(struct fault_env *fe, const char *a, const char *b)
{
    fe->ops++;
    if (fe->crashed)
        return -EIO;
    if (fe->kind == IO_FAULT_EIO && fault_matches(fe, a, b)) {
        if (fe->after == 0)
            return -EIO;
        fe->after--;
    }
    return 0;
}

static int fault_check(struct fault_env *fe, const char *path)
{
    return fault_check2(fe, path, NULL);
}

static int ff_check(struct fault_file *ff)
{
    struct fault_env *fe = ff->env;
    if (ff->epoch != fe->epoch) {
        fe->ops++;
        return -EIO;
    }
    return fault_check(fe, ff->path);
}

/* ---- files ---- */

static int ff_append(struct io_file *f, const void *data, size_t n)
{
    struct fault_file *ff = (struct fault_file *)f;
    struct fault_env *fe = ff->env;
    pthread_mutex_lock(&fe->mu);
    int rc = ff_check(ff);
    if (rc == 0 && fault_matches(fe, ff->path, NULL)) {
        if (fe->kind == IO_FAULT_ENOSPC && n > fe->after) {
            size_t part = (size_t)fe->after;
            fe->after = 0;
            if (part)
                (void)ff->target->ops->append(ff->target, data, part);
            rc = -ENOSPC;
        } else if (fe->kind == IO_FAULT_ENOSPC) {
            fe->after -= n;
        } else if (fe->kind == IO_FAULT_SHORT_WRITE) {
            if (fe->after > 0) {
                fe->after--;
            } else {
                if (!fe->fired && n / 2)
                    (void)ff->target->ops->append(ff->target, data, n / 2);
                fe->fired = 1;
                rc = -EIO;
            }
        }
    }
    if (rc == 0)
        rc = ff->target->ops->append(ff->target, data, n);
    if (ff->t) {
        int64_t sz = ff->target->ops->size(ff->target);
        if (sz >= 0)
            ff->t->written = (uint64_t)sz;
    }
    pthread_mutex_unlock(&fe->mu);
    return rc;
}

static int ff_flush(struct io_file *f)
{
    struct fault_file *ff = (struct fault_file *)f;
    pthread_mutex_lock(&ff->env->mu);
    int rc = ff_check(ff);
    if (rc == 0)
        rc = ff->target->ops->flush(ff->target);
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

/* The slow disk of io_env_fault_sync_delay (sleeps with no lock held). */
static void sync_delay(struct fault_file *ff)
{
    struct fault_env *fe = ff->env;
    pthread_mutex_lock(&fe->mu);
    uint32_t us = fe->sync_delay_us;
    if (us && fe->sync_delay_path[0] && strstr(ff->path, fe->sync_delay_path) == NULL)
        us = 0;
    pthread_mutex_unlock(&fe->mu);
    if (us)
        usleep(us);
}

static int ff_sync(struct io_file *f)
{
    struct fault_file *ff = (struct fault_file *)f;
    sync_delay(ff);
    pthread_mutex_lock(&ff->env->mu);
    int rc = ff_check(ff);
    if (rc == 0)
        rc = ff->target->ops->sync(ff->target);
    if (rc == 0 && ff->t) {
        int64_t sz = ff->target->ops->size(ff->target);
        /* A syncer's size is the file's (fstat): past what was appended
         * when the file is mapped (io_file_map allocates ahead). */
        if (sz >= 0 && ff->syncer && (uint64_t)sz > ff->t->written)
            sz = (int64_t)ff->t->written;
        if (sz >= 0)
            ff->t->synced = (uint64_t)sz;
    }
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

static ssize_t ff_pread(struct io_file *f, void *buf, size_t n, uint64_t off)
{
    struct fault_file *ff = (struct fault_file *)f;
    pthread_mutex_lock(&ff->env->mu);
    ssize_t rc = ff_check(ff);
    if (rc == 0)
        rc = ff->target->ops->pread(ff->target, buf, n, off);
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

static int64_t ff_size(struct io_file *f)
{
    struct fault_file *ff = (struct fault_file *)f;
    pthread_mutex_lock(&ff->env->mu);
    int64_t rc = (ff->env->crashed || ff->epoch != ff->env->epoch)
                     ? -EIO
                     : ff->target->ops->size(ff->target);
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

static void ff_prefetch(struct io_file *f, uint64_t off, size_t n)
{
    struct fault_file *ff = (struct fault_file *)f;
    pthread_mutex_lock(&ff->env->mu);
    if (!ff->env->crashed && ff->epoch == ff->env->epoch)
        ff->target->ops->prefetch(ff->target, off, n);
    pthread_mutex_unlock(&ff->env->mu);
}

static int ff_reserve(struct io_file *f, uint64_t off, uint64_t n)
{
    struct fault_file *ff = (struct fault_file *)f;
    int rc;
    pthread_mutex_lock(&ff->env->mu);
    rc = (ff->env->crashed || ff->epoch != ff->env->epoch)
             ? -EIO
             : ff->target->ops->reserve(ff->target, off, n);
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

static int ff_map(struct io_file *f, uint64_t len)
{
    struct fault_file *ff = (struct fault_file *)f;
    int rc;
    pthread_mutex_lock(&ff->env->mu);
    rc = (ff->env->crashed || ff->epoch != ff->env->epoch)
             ? -EIO
             : ff->target->ops->map(ff->target, len);
    pthread_mutex_unlock(&ff->env->mu);
    return rc;
}

/* The syncer shares the file's crash tracking: its sync records the size
 * the OS has (every byte pushed through the writer) as durable. */
static int ff_syncer(struct io_file *f, struct io_file **out)
{
    struct fault_file *ff = (struct fault_file *)f;
    struct fault_env *fe = ff->env;
    struct io_file *inner;
    int rc;
    pthread_mutex_lock(&fe->mu);
    rc = (fe->crashed || ff->epoch != fe->epoch) ? -EIO
                                                  : ff->target->ops->syncer(ff->target, &inner);
    if (rc == 0) {
        struct fault_file *s = zcalloc(sizeof(*s));
        s->base.ops = &fault_file_ops;
        s->env = fe;
        s->target = inner;
        s->path = zstrdup(ff->path);
        s->epoch = ff->epoch;
        s->syncer = 1;
        s->t = ff->t;
        if (s->t)
            s->t->refs++;
        *out = &s->base;
    }
    pthread_mutex_unlock(&fe->mu);
    return rc;
}

static void ff_free(struct fault_file *ff)
{
    track_unref(ff->t);
    zfree(ff->path);
    zfree(ff);
}

/* Close is not a counted operation and never fails by an armed fault; a
 * file of a crashed "machine" is dropped with its unflushed bytes. */
static int ff_close(struct io_file *f)
{
    struct fault_file *ff = (struct fault_file *)f;
    struct fault_env *fe = ff->env;
    int rc;
    pthread_mutex_lock(&fe->mu);
    if (fe->crashed || ff->epoch != fe->epoch) {
        ff->target->ops->abandon(ff->target);
        rc = -EIO;
    } else {
        rc = ff->target->ops->close(ff->target);
    }
    ff_free(ff);
    pthread_mutex_unlock(&fe->mu);
    return rc;
}

static void ff_abandon(struct io_file *f)
{
    struct fault_file *ff = (struct fault_file *)f;
    pthread_mutex_lock(&ff->env->mu);
    ff->target->ops->abandon(ff->target);
    ff_free(ff);
    pthread_mutex_unlock(&ff->env->mu);
}

static const struct io_file_ops fault_file_ops = {
    .append = ff_append,
    .flush = ff_flush,
    .sync = ff_sync,
    .pread = ff_pread,
    .size = ff_size,
    .prefetch = ff_prefetch,
    .reserve = ff_reserve,
    .map = ff_map,
    .syncer = ff_syncer,
    .close = ff_close,
    .abandon = ff_abandon,
};

/* ---- env operations ---- */

#define FE(env) ((struct fault_env *)(env))

/* Starts an env operation: locks and runs the fault check. */
static int fe_begin(struct fault_env *fe, const char *a, const char *b)
{
    pthread_mutex_lock(&fe->mu);
    return fault_check2(fe, a, b);
}

static int fe_end(struct fault_env *fe, int rc)
{
    pthread_mutex_unlock(&fe->mu);
    return rc;
}

/* Registers a file opened for writing with the crash tracking. */
static void fe_track_open(struct fault_env *fe, struct fault_file *ff,
                          enum io_open_mode mode, int existed)
{
    int fresh;
    struct fault_track *t = track_get(fe, ff->path, &fresh);
    if (mode == IO_OPEN_APPEND) {
        t->synced = 0;                    /* truncated: nothing durable */
        if (!existed)
            t->created = 1;
    } else if (fresh) {
        int64_t sz = ff->target->ops->size(ff->target);
        t->synced = sz > 0 ? (uint64_t)sz : 0;   /* what was there is durable */
    }
    {
        int64_t sz = ff->target->ops->size(ff->target);
        t->written = sz > 0 ? (uint64_t)sz : 0;
    }
    t->refs++;
    ff->t = t;
}

static int fe_open(struct io_env *env, const char *path, enum io_open_mode mode,
                   struct io_file **out)
{
    struct fault_env *fe = FE(env);
    *out = NULL;
    int rc = fe_begin(fe, path, NULL);
    if (rc < 0)
        return fe_end(fe, rc);
    struct io_env *tg = fe->target;
    int existed = mode == IO_OPEN_APPEND ? tg->ops->exists(tg, path) == 1 : 1;
    struct io_file *inner;
    rc = tg->ops->open(tg, path, mode, &inner);
    if (rc < 0)
        return fe_end(fe, rc);
    struct fault_file *ff = zcalloc(sizeof(*ff));
    ff->base.ops = &fault_file_ops;
    ff->env = fe;
    ff->target = inner;
    ff->path = zstrdup(path);
    ff->epoch = fe->epoch;
    if (mode != IO_OPEN_READ)
        fe_track_open(fe, ff, mode, existed);
    *out = &ff->base;
    return fe_end(fe, 0);
}

static int fe_rename(struct io_env *env, const char *from, const char *to)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, from, to);
    if (rc < 0)
        return fe_end(fe, rc);
    struct io_env *tg = fe->target;
    int to_existed = tg->ops->exists(tg, to) == 1;
    rc = tg->ops->rename(tg, from, to);
    if (rc < 0)
        return fe_end(fe, rc);
    struct fault_track *old = track_find(fe, to);
    if (old)
        track_detach(fe, old);
    struct fault_track *t = track_find(fe, from);
    if (t) {
        zfree(t->path);
        t->path = zstrdup(to);
        if (to_existed)
            t->created = 0;       /* replacing a file is treated as durable */
    }
    return fe_end(fe, 0);
}

static int fe_unlink(struct io_env *env, const char *path)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->unlink(fe->target, path);
    if (rc == 0) {
        struct fault_track *t = track_find(fe, path);
        if (t)
            track_detach(fe, t);
    }
    return fe_end(fe, rc);
}

static int fe_mkdir(struct io_env *env, const char *path)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->mkdir(fe->target, path);
    return fe_end(fe, rc);
}

static int fe_sync_dir(struct io_env *env, const char *dir)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, dir, NULL);
    if (rc == 0)
        rc = fe->target->ops->sync_dir(fe->target, dir);
    if (rc == 0)
        for (struct fault_track *t = fe->tracks; t; t = t->next)
            if (t->created && same_dir(t->path, dir))
                t->created = 0;
    return fe_end(fe, rc);
}

static int fe_exists(struct io_env *env, const char *path)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->exists(fe->target, path);
    return fe_end(fe, rc);
}

static int fe_get_size(struct io_env *env, const char *path, uint64_t *size)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->get_size(fe->target, path, size);
    return fe_end(fe, rc);
}

static int fe_free_space(struct io_env *env, const char *dir, uint64_t *bytes)
{
    struct fault_env *fe = FE(env);
    int rc;
    pthread_mutex_lock(&fe->mu);
    rc = fe->target->ops->free_space(fe->target, dir, bytes);
    if (rc == 0 && fe->kind == IO_FAULT_ENOSPC && fe->after < *bytes)
        *bytes = fe->after;
    pthread_mutex_unlock(&fe->mu);
    return rc;
}

static int fe_truncate(struct io_env *env, const char *path, uint64_t size)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->truncate(fe->target, path, size);
    if (rc == 0) {
        struct fault_track *t = track_find(fe, path);
        if (t && t->synced > size)
            t->synced = size;
        if (t && t->written > size)
            t->written = size;
    }
    return fe_end(fe, rc);
}

static int fe_list_dir(struct io_env *env, const char *dir,
                       int (*fn)(const char *name, void *arg), void *arg)
{
    struct fault_env *fe = FE(env);
    int rc = fe_begin(fe, dir, NULL);
    pthread_mutex_unlock(&fe->mu);       /* fn may call back into the env */
    if (rc == 0)
        rc = fe->target->ops->list_dir(fe->target, dir, fn, arg);
    return rc;
}

static int fe_lock(struct io_env *env, const char *path, struct io_lock **out)
{
    struct fault_env *fe = FE(env);
    *out = NULL;
    int rc = fe_begin(fe, path, NULL);
    if (rc == 0)
        rc = fe->target->ops->lock(fe->target, path, out);
    return fe_end(fe, rc);
}

static const struct io_env_ops fault_env_ops = {
    .open = fe_open,
    .rename = fe_rename,
    .unlink = fe_unlink,
    .mkdir = fe_mkdir,
    .sync_dir = fe_sync_dir,
    .exists = fe_exists,
    .get_size = fe_get_size,
    .free_space = fe_free_space,
    .truncate = fe_truncate,
    .list_dir = fe_list_dir,
    .lock = fe_lock,
};

/* ---- public ---- */

struct io_env *io_env_fault_create(struct io_env *base)
{
    struct fault_env *fe = zcalloc(sizeof(*fe));
    fe->base.ops = &fault_env_ops;
    fe->target = base;
    pthread_mutex_init(&fe->mu, NULL);
    return &fe->base;
}

void io_env_fault_destroy(struct io_env *env)
{
    if (!env)
        return;
    struct fault_env *fe = FE(env);
    track_detach_all(fe);
    zfree(fe->substr);
    pthread_mutex_destroy(&fe->mu);
    zfree(fe);
}

void io_env_fault_set(struct io_env *env, enum io_fault f, uint64_t after,
                      const char *path_substr)
{
    struct fault_env *fe = FE(env);
    pthread_mutex_lock(&fe->mu);
    fe->kind = f;
    fe->after = after;
    fe->fired = 0;
    zfree(fe->substr);
    fe->substr = path_substr ? zstrdup(path_substr) : NULL;
    pthread_mutex_unlock(&fe->mu);
}

/* The unsynced bytes [synced, size) of path as a disk may keep them after
 * a power loss: each unit (a 4 KiB page, or a 512-byte sector in half of
 * the files) written since the sync survived or reads as zeros, in any
 * order; the file ends at the synced size or after the last unit kept.
 * Through the real file system (the fault env wraps the posix one in
 * tests). */
static void scatter_tail(const char *path, uint64_t synced, uint64_t size, uint64_t *rng)
{
    static const char zeros[4096];
    uint64_t unit = hash_mix64((*rng)++) & 1 ? 4096 : 512, off, end = synced;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (off = synced - synced % unit; off < size; off += unit) {
        uint64_t from = off > synced ? off : synced, to = off + unit < size ? off + unit : size;
        if (hash_mix64((*rng)++) & 1)
            end = to;                             /* written back */
        else if (pwrite(fd, zeros, (size_t)(to - from), (off_t)from) != (ssize_t)(to - from))
            break;
    }
    if (ftruncate(fd, (off_t)end) != 0) {
        /* the test sees what is left */
    }
    close(fd);
}

static void crash(struct io_env *env, uint64_t *rng)
{
    struct fault_env *fe = FE(env);
    struct io_env *tg = fe->target;
    pthread_mutex_lock(&fe->mu);
    for (struct fault_track *t = fe->tracks; t; t = t->next) {
        uint64_t size;
        if (t->created)
            (void)tg->ops->unlink(tg, t->path);
        else if (tg->ops->get_size(tg, t->path, &size) != 0 || size <= t->synced)
            continue;
        else if (rng != NULL)
            scatter_tail(t->path, t->synced, size, rng);
        else
            (void)tg->ops->truncate(tg, t->path, t->synced);
    }
    track_detach_all(fe);
    fe->crashed = 1;
    fe->epoch++;
    pthread_mutex_unlock(&fe->mu);
}

void io_env_fault_crash(struct io_env *env)
{
    crash(env, NULL);
}

void io_env_fault_crash_scatter(struct io_env *env, uint64_t seed)
{
    crash(env, &seed);
}

void io_env_fault_reset(struct io_env *env)
{
    struct fault_env *fe = FE(env);
    pthread_mutex_lock(&fe->mu);
    fe->kind = IO_FAULT_NONE;
    fe->after = 0;
    fe->fired = 0;
    zfree(fe->substr);
    fe->substr = NULL;
    fe->crashed = 0;
    pthread_mutex_unlock(&fe->mu);
}

void io_env_fault_sync_delay(struct io_env *env, uint32_t usec)
{
    io_env_fault_sync_delay_path(env, usec, NULL);
}

void io_env_fault_sync_delay_path(struct io_env *env, uint32_t usec, const char *path_substr)
{
    struct fault_env *fe = FE(env);
    pthread_mutex_lock(&fe->mu);
    fe->sync_delay_us = usec;
    snprintf(fe->sync_delay_path, sizeof fe->sync_delay_path, "%s",
             path_substr != NULL ? path_substr : "");
    pthread_mutex_unlock(&fe->mu);
}

uint64_t io_env_fault_ops(struct io_env *env)
{
    struct fault_env *fe = FE(env);
    pthread_mutex_lock(&fe->mu);
    uint64_t n = fe->ops;
    pthread_mutex_unlock(&fe->mu);
    return n;
}
