/* zmalloc: allocation wrappers that count usable bytes (see zmalloc.h). */
#include "util/zmalloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if !defined(LSM_SANITIZERS) && defined(__has_include)
#if __has_include(<jemalloc/jemalloc.h>)
/* Only the version macros are wanted; the prototypes it adds are harmless
 * on Linux, where jemalloc replaces malloc under its own name. */
#include <jemalloc/jemalloc.h>
#endif
#endif

static _Atomic size_t used_memory;

static void zmalloc_oom(size_t size)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg),
                     "zmalloc: out of memory allocating %zu bytes\n", size);
    if (n > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
        (void)w;
    }
    abort();
}

static inline void count_alloc(void *p)
{
    atomic_fetch_add_explicit(&used_memory, malloc_usable_size(p),
                              memory_order_relaxed);
}

static inline void count_free(void *p)
{
    atomic_fetch_sub_explicit(&used_memory, malloc_usable_size(p),
                              memory_order_relaxed);
}

void *zmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        zmalloc_oom(size);
    count_alloc(p);
    return p;
}

void *ztrymalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p)
        count_alloc(p);
    return p;
}

void *zcalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        zmalloc_oom(size);
    count_alloc(p);
    return p;
}

void *zrealloc(void *ptr, size_t size)
{
    if (!ptr)
        return zmalloc(size);
    if (size == 0) {
        zfree(ptr);
        return NULL;
    }
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size);
    if (!p)
        zmalloc_oom(size);
    atomic_fetch_sub_explicit(&used_memory, old, memory_order_relaxed);
    count_alloc(p);
    return p;
}

void zfree(void *ptr)
{
    if (!ptr)
        return;
    count_free(ptr);
    free(ptr);
}

char *zstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = zmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

void *zmemdup(const void *src, size_t n)
{
    char *p = zmalloc(n + 1);
    if (n)
        memcpy(p, src, n);
    p[n] = '\0';
    return p;
}

size_t zmalloc_used_memory(void)
{
    return atomic_load_explicit(&used_memory, memory_order_relaxed);
}

size_t zmalloc_size(const void *ptr)
{
    return ptr ? malloc_usable_size((void *)ptr) : 0;
}

#define ZM_STR2(x) #x
#define ZM_STR(x) ZM_STR2(x)

const char *zmalloc_lib(void)
{
#if defined(LSM_SANITIZERS)
    return "libc";
#elif defined(JEMALLOC_VERSION_MAJOR)
    return "jemalloc-" ZM_STR(JEMALLOC_VERSION_MAJOR) "." ZM_STR(
        JEMALLOC_VERSION_MINOR) "." ZM_STR(JEMALLOC_VERSION_BUGFIX);
#else
    return "jemalloc";
#endif
}
