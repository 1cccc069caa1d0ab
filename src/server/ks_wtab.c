/* ks_wtab: the keyspace's write table (see ks_wtab.h). */
#include "server/ks_wtab.h"

#include "util/zmalloc.h"

#define WTAB_SLOTS (1u << 15)
#define WTAB_MASK (WTAB_SLOTS - 1)

struct wslot {
    uint64_t hash;                  /* the key's hash, never 0; 0 = empty */
    uint64_t commit;
    int64_t exp;
    int type;
};

/* The slots first: the allocation is page aligned, so no 32-byte slot
 * straddles two cache lines. */
struct ks_wtab {
    struct wslot slots[WTAB_SLOTS];
    uint64_t commits;
};

/* A key whose hash is 0 is stored as 1 (0 marks an empty slot). */
static uint64_t stored_hash(uint64_t h)
{
    return h ? h : 1;
}

static const struct wslot *slot_of(const struct ks_wtab *w, uint64_t h)
{
    return &w->slots[h & WTAB_MASK];
}

struct ks_wtab *wtab_create(void)
{
    return zcalloc(sizeof(struct ks_wtab));
}

void wtab_destroy(struct ks_wtab *w)
{
    zfree(w);
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
    struct wslot *s = &w->slots[key_hash & WTAB_MASK];
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
