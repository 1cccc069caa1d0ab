/* io_internal: the operation tables behind struct io_env / io_file / io_lock.
 *
 * Private to src/util (io.c, io_fault.c): the rest of lsmdb sees only the
 * opaque types of io.h. An env is a table of operations; a file carries its
 * own table, so a wrapping env (the fault env) wraps files as well. */
#ifndef LSM_UTIL_IO_INTERNAL_H
#define LSM_UTIL_IO_INTERNAL_H

#include "util/io.h"

enum io_open_mode { IO_OPEN_APPEND = 0, IO_OPEN_APPEND_EXISTING, IO_OPEN_READ };

struct io_file_ops {
    int (*append)(struct io_file *f, const void *data, size_t n);
    int (*flush)(struct io_file *f);
    int (*sync)(struct io_file *f);
    ssize_t (*pread)(struct io_file *f, void *buf, size_t n, uint64_t off);
    int64_t (*size)(struct io_file *f);
    void (*prefetch)(struct io_file *f, uint64_t off, size_t n);
    int (*reserve)(struct io_file *f, uint64_t off, uint64_t n);
    int (*map)(struct io_file *f, uint64_t len);
    int (*syncer)(struct io_file *f, struct io_file **out);
    int (*close)(struct io_file *f);
    /* Close and free without pushing buffered bytes to the OS (crash). */
    void (*abandon)(struct io_file *f);
};

struct io_file {
    const struct io_file_ops *ops;
};

struct io_env_ops {
    int (*open)(struct io_env *env, const char *path, enum io_open_mode mode,
                struct io_file **out);
    int (*rename)(struct io_env *env, const char *from, const char *to);
    int (*unlink)(struct io_env *env, const char *path);
    int (*mkdir)(struct io_env *env, const char *path);
    int (*sync_dir)(struct io_env *env, const char *dir);
    int (*exists)(struct io_env *env, const char *path);
    int (*get_size)(struct io_env *env, const char *path, uint64_t *size);
    int (*free_space)(struct io_env *env, const char *dir, uint64_t *bytes);
    int (*truncate)(struct io_env *env, const char *path, uint64_t size);
    int (*list_dir)(struct io_env *env, const char *dir,
                    int (*fn)(const char *name, void *arg), void *arg);
    int (*lock)(struct io_env *env, const char *path, struct io_lock **out);
};

struct io_env {
    const struct io_env_ops *ops;
};

struct io_lock {
    void (*release)(struct io_lock *l);
};

#endif
