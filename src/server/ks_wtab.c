/* ks_wtab: the keyspace's write table (see ks_wtab.h). */
#include "server/ks_wtab.h"

#include <stdint.h>
#include <sys/mman.h>

#include "util/zmalloc.h"

struct wslot {
    uint64_t hash;                  /* the key's hash, never 0; 0 = empty */
    uint64_t commit;
    int64_t exp;
    int type;
};

_Static_assert(sizeof(struct wslot) == WTAB_SLOT_BYTES, "a slot is 32 bytes");

#define HUGE_PAGE ((size_t)2 << 20)

/* slots is page aligned (2MB aligned when mapped), so no slot straddles
 * two cache lines. */
struct ks_wtab {
    struct wslot *slots;
    uint64_t mask;
    uint64_t commits;
    size_t bytes;
    int mapped;                     /* slots from mmap, not zmalloc */
};

/* A key whose hash is 0 is stored as 1 (0 marks an empty slot). */
static uint64_t stored_hash(uint64_t h)
{
    return h ? h : 1;
}

static const struct wslot *slot_of(const struct ks_wtab *w, uint64_t h)
{
    return &w->slots[h & w->mask];
}

/* Zeroed, 2MB-aligned memory advised to use huge pages; NULL on failure. */
static void *map_huge(size_t bytes)
{
    size_t len = bytes + HUGE_PAGE;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + bytes < p + len)
        munmap(a + bytes, (size_t)(p + len - (a + bytes)));
    (void)madvise(a, bytes, MADV_HUGEPAGE);     /* a hint: fine if refused */
    return a;
}

struct ks_wtab *wtab_create(size_t bytes)
{
    struct ks_wtab *w = zcalloc(sizeof(*w));
    size_t slots = WTAB_MIN_BYTES / WTAB_SLOT_BYTES;
    while (slots <= SIZE_MAX / 2 / WTAB_SLOT_BYTES && slots * 2 * WTAB_SLOT_BYTES <= bytes)
        slots *= 2;
    w->bytes = slots * WTAB_SLOT_BYTES;
    w->mask = slots - 1;
    w->mapped = w->bytes >= HUGE_PAGE;
    if (!w->mapped) {
        w->slots = zcalloc(w->bytes);
    } else if ((w->slots = map_huge(w->bytes)) == NULL) {
        zfree(w);
        return NULL;
    }
    return w;
}

void wtab_destroy(struct ks_wtab *w)
{
    if (!w)
        return;
    if (w->mapped)
        munmap(w->slots, w->bytes);
    else
        zfree(w->slots);
    zfree(w);
}

size_t wtab_bytes(const struct ks_wtab *w)
{
    return w->bytes;
}

uint64_t wtab_commits(const struct ks_wtab *w)
{
    return w->commits;
}

void wtab_commit(struct ks_wtab *w)
{
    w->commits++;
}

void wtab_written(struct ks_wtab *w, uint64_t key_hash, int type, int64_t exp)
{
    struct wslot *s = &w->slots[key_hash & w->mask];
    s->hash = stored_hash(key_hash);
    s->commit = w->commits;
    s->exp = exp;
    s->type = type;
}

int wtab_known(const struct ks_wtab *w, uint64_t key_hash, int *type, int64_t *exp)
{
    const struct wslot *s = slot_of(w, key_hash);
    if (s->hash != stored_hash(key_hash) || s->exp == WTAB_EXP_UNKNOWN)
        return 0;
    *type = s->type;
    *exp = s->exp;
    return 1;
}

uint64_t wtab_slot_commit(const struct ks_wtab *w, uint64_t key_hash)
{
    return slot_of(w, key_hash)->commit;
}

int wtab_left_other_expire(const struct ks_wtab *w, uint64_t key_hash, uint64_t commit,
                           int64_t exp)
{
    const struct wslot *s = slot_of(w, key_hash);
    return s->hash == stored_hash(key_hash) && s->commit == commit &&
           s->exp != WTAB_EXP_UNKNOWN && s->exp != exp;
}

void wtab_prefetch(const struct ks_wtab *w, uint64_t key_hash)
{
    __builtin_prefetch(slot_of(w, key_hash), 1);
}
