/* arena: bump allocator (see arena.h). */
#include "util/arena.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>

#include "util/zmalloc.h"

#define ARENA_DEFAULT_BLOCK 4096
#define ARENA_ALIGN (sizeof(void *) > 8 ? sizeof(void *) : 8)

/* Every block starts with this header so destroy can walk the list. */
struct arena_block {
    struct arena_block *next;
};

struct arena {
    char *ptr;                   /* next free byte of the current block */
    size_t remaining;            /* bytes left in the current block */
    size_t block_size;
    struct arena_block *blocks;
    _Atomic size_t usage;
};

/* Header rounded up so block payloads start aligned. */
#define ARENA_HDR ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))

struct arena *arena_create(size_t block_size)
{
    struct arena *a = zcalloc(sizeof(*a));
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
    atomic_init(&a->usage, 0);
    return a;
}

void arena_destroy(struct arena *a)
{
    if (!a)
        return;
    struct arena_block *b = a->blocks;
    while (b) {
        struct arena_block *next = b->next;
        zfree(b);
        b = next;
    }
    zfree(a);
}

static char *arena_new_block(struct arena *a, size_t bytes)
{
    struct arena_block *b = zmalloc(ARENA_HDR + bytes);
    b->next = a->blocks;
    a->blocks = b;
    atomic_fetch_add_explicit(&a->usage, ARENA_HDR + bytes + sizeof(void *),
                              memory_order_relaxed);
    return (char *)b + ARENA_HDR;
}

static void *arena_fallback(struct arena *a, size_t n)
{
    if (n > a->block_size / 4)
        return arena_new_block(a, n);       /* own block, keep the current one */
    a->ptr = arena_new_block(a, a->block_size);
    a->remaining = a->block_size;
    char *r = a->ptr;
    a->ptr += n;
    a->remaining -= n;
    return r;
}

void *arena_alloc(struct arena *a, size_t n)
{
    assert(n > 0);
    if (n <= a->remaining) {
        char *r = a->ptr;
        a->ptr += n;
        a->remaining -= n;
        return r;
    }
    return arena_fallback(a, n);
}

void *arena_alloc_aligned(struct arena *a, size_t n)
{
    assert(n > 0);
    size_t mod = (uintptr_t)a->ptr & (ARENA_ALIGN - 1);
    size_t slop = mod ? ARENA_ALIGN - mod : 0;
    if (a->ptr && n + slop <= a->remaining) {
        char *r = a->ptr + slop;
        a->ptr += n + slop;
        a->remaining -= n + slop;
        return r;
    }
    /* New blocks start aligned (zmalloc alignment + aligned header). */
    return arena_fallback(a, n);
}

size_t arena_memory_usage(const struct arena *a)
{
    return atomic_load_explicit(&((struct arena *)a)->usage,
                                memory_order_relaxed);
}
