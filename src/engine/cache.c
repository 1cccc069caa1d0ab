/* cache.c: sharded LRU cache with refcounted handles (see cache.h).
 *
 * Each shard keeps its entries in a chained hash table and in one of two
 * lists: `lru` (in the cache, no outside reference: evictable, oldest first)
 * or `in_use` (in the cache and referenced by handles). An entry holds one
 * reference for being in the cache plus one per handle; it is freed when
 * the count reaches zero. */
#include "engine/cache.h"

#include <assert.h>
#include <pthread.h>

#include "util/hash.h"
#include "util/zmalloc.h"

#define CACHE_DEFAULT_SHARDS 16
#define CACHE_MAX_SHARDS 64
#define CACHE_HASH_SEED 0x5a17c0deu

/* The LRU links, first in a handle: a shard's list heads are bare links
 * (a handle ends in its key, so it cannot be a field of the shard). */
struct cache_link {
    struct cache_link *next, *prev;
};

struct cache_handle {
    struct cache_link link;
    void *value;
    cache_deleter_fn deleter;
    struct cache_handle *next_hash;
    size_t charge;
    uint32_t hash;
    uint32_t refs;
    int in_cache;
    size_t key_len;
    char key[];
};

struct shard {
    pthread_mutex_t mu;
    size_t capacity;
    size_t usage;
    size_t entries;
    struct cache_link lru;        /* list heads */
    struct cache_link in_use;
    struct cache_handle **table;
    uint32_t table_len;           /* power of two */
    uint64_t hits, misses, inserts, evictions;
};

struct cache {
    int nshards;
    int shift;                    /* hash >> shift = shard index */
    size_t capacity;
    uint64_t next_id;             /* atomic */
    struct shard shards[];
};

static struct cache_handle *link_handle(struct cache_link *l)
{
    return (struct cache_handle *)l;    /* the link is the first member */
}

static void list_remove(struct cache_handle *h)
{
    struct cache_link *e = &h->link;
    e->next->prev = e->prev;
    e->prev->next = e->next;
}

static void list_append(struct cache_link *head, struct cache_handle *h)
{
    struct cache_link *e = &h->link;
    e->next = head;
    e->prev = head->prev;
    e->prev->next = e;
    e->next->prev = e;
}

static struct cache_handle **find_slot(struct shard *s, struct slice key, uint32_t hash)
{
    struct cache_handle **p = &s->table[hash & (s->table_len - 1)];
    while (*p && ((*p)->hash != hash || (*p)->key_len != key.len ||
                  memcmp((*p)->key, key.data, key.len) != 0))
        p = &(*p)->next_hash;
    return p;
}

static void grow_table(struct shard *s)
{
    uint32_t nlen = s->table_len * 2, i;
    struct cache_handle **nt = zcalloc(nlen * sizeof(*nt));
    for (i = 0; i < s->table_len; i++) {
        struct cache_handle *e = s->table[i];
        while (e) {
            struct cache_handle *next = e->next_hash;
            struct cache_handle **slot = &nt[e->hash & (nlen - 1)];
            e->next_hash = *slot;
            *slot = e;
            e = next;
        }
    }
    zfree(s->table);
    s->table = nt;
    s->table_len = nlen;
}

static void free_entry(struct cache_handle *e)
{
    if (e->deleter)
        e->deleter(slice_make(e->key, e->key_len), e->value);
    zfree(e);
}

/* Drops one reference (shard locked); returns the entry when it must be
 * freed (outside the lock), NULL otherwise. */
static struct cache_handle *unref(struct shard *s, struct cache_handle *e)
{
    assert(e->refs > 0);
    e->refs--;
    if (e->refs == 0) {
        assert(!e->in_cache);
        s->usage -= e->charge;
        return e;
    }
    if (e->in_cache && e->refs == 1) {      /* no more handles: evictable */
        list_remove(e);
        list_append(&s->lru, e);
    }
    return NULL;
}

static void ref(struct shard *s, struct cache_handle *e)
{
    if (e->in_cache && e->refs == 1) {
        list_remove(e);
        list_append(&s->in_use, e);
    }
    e->refs++;
}

/* Takes e out of the hash table and list (shard locked, e in cache).
 * Returns e when it must be freed. */
static struct cache_handle *finish_erase(struct shard *s, struct cache_handle *e)
{
    assert(e->in_cache);
    list_remove(e);
    e->in_cache = 0;
    s->entries--;
    return unref(s, e);
}

/* Removes LRU entries while over capacity; appends victims to *dead. */
static void evict(struct shard *s, struct cache_handle **dead)
{
    while (s->usage > s->capacity && s->lru.next != &s->lru) {
        struct cache_handle *old = link_handle(s->lru.next), *f;
        struct cache_handle **slot = find_slot(s, slice_make(old->key, old->key_len), old->hash);
        assert(*slot == old);
        *slot = old->next_hash;
        s->evictions++;
        f = finish_erase(s, old);
        if (f) {
            f->next_hash = *dead;
            *dead = f;
        }
    }
}

static void free_list(struct cache_handle *dead)
{
    while (dead) {
        struct cache_handle *next = dead->next_hash;
        free_entry(dead);
        dead = next;
    }
}

static struct shard *shard_of(struct cache *c, uint32_t hash)
{
    return &c->shards[c->shift >= 32 ? 0 : hash >> c->shift];
}

struct cache *cache_create_sharded(size_t capacity, int shards)
{
    int n = 1, bits = 0, i;
    struct cache *c;
    if (shards > CACHE_MAX_SHARDS)
        shards = CACHE_MAX_SHARDS;
    while (n < shards) {
        n *= 2;
        bits++;
    }
    c = zcalloc(sizeof(*c) + (size_t)n * sizeof(struct shard));
    c->nshards = n;
    c->shift = 32 - bits;
    c->capacity = capacity;
    c->next_id = 1;
    for (i = 0; i < n; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->capacity = (capacity + (size_t)n - 1) / (size_t)n;
        s->lru.next = s->lru.prev = &s->lru;
        s->in_use.next = s->in_use.prev = &s->in_use;
        s->table_len = 16;
        s->table = zcalloc(s->table_len * sizeof(*s->table));
    }
    return c;
}

struct cache *cache_create(size_t capacity)
{
    return cache_create_sharded(capacity, CACHE_DEFAULT_SHARDS);
}

void cache_destroy(struct cache *c)
{
    int i;
    if (!c)
        return;
    for (i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        struct cache_handle *dead = NULL;
        assert(s->in_use.next == &s->in_use);     /* every handle released */
        while (s->lru.next != &s->lru) {
            struct cache_handle *e = link_handle(s->lru.next), *f;
            f = finish_erase(s, e);
            if (f) {
                f->next_hash = dead;
                dead = f;
            }
        }
        free_list(dead);
        zfree(s->table);
        pthread_mutex_destroy(&s->mu);
    }
    zfree(c);
}

struct cache_handle *cache_insert(struct cache *c, struct slice key, void *value,
                                  size_t charge, cache_deleter_fn deleter)
{
    uint32_t hash = hash32(key.data, key.len, CACHE_HASH_SEED);
    struct shard *s = shard_of(c, hash);
    struct cache_handle *e = zmalloc(sizeof(*e) + key.len), *dead = NULL, *f;
    struct cache_handle **slot;
    e->value = value;
    e->deleter = deleter;
    e->charge = charge;
    e->hash = hash;
    e->key_len = key.len;
    memcpy(e->key, key.data, key.len);
    e->refs = 1;                 /* the returned handle */
    e->in_cache = 0;
    e->next_hash = NULL;
    e->link.next = e->link.prev = &e->link;

    pthread_mutex_lock(&s->mu);
    s->inserts++;
    s->usage += charge;
    if (s->capacity > 0) {
        e->refs++;               /* the cache's reference */
        e->in_cache = 1;
        list_append(&s->in_use, e);
        slot = find_slot(s, key, hash);
        s->entries++;
        if (*slot) {                           /* replace the old entry */
            struct cache_handle *old = *slot;
            e->next_hash = old->next_hash;
            *slot = e;
            f = finish_erase(s, old);
            if (f) {
                f->next_hash = dead;
                dead = f;
            }
        } else {
            *slot = e;
            if (s->entries > s->table_len)
                grow_table(s);
        }
    }
    evict(s, &dead);
    pthread_mutex_unlock(&s->mu);
    free_list(dead);
    return e;
}

struct cache_handle *cache_lookup(struct cache *c, struct slice key)
{
    uint32_t hash = hash32(key.data, key.len, CACHE_HASH_SEED);
    struct shard *s = shard_of(c, hash);
    struct cache_handle *e;
    pthread_mutex_lock(&s->mu);
    e = *find_slot(s, key, hash);
    if (e) {
        ref(s, e);
        s->hits++;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

void cache_release(struct cache *c, struct cache_handle *h)
{
    struct shard *s = shard_of(c, h->hash);
    struct cache_handle *f, *dead = NULL;
    pthread_mutex_lock(&s->mu);
    f = unref(s, h);
    if (s->usage > s->capacity)
        evict(s, &dead);               /* it may have become evictable */
    pthread_mutex_unlock(&s->mu);
    if (f)
        free_entry(f);
    free_list(dead);
}

void *cache_value(const struct cache_handle *h)
{
    return h->value;
}

int cache_erase(struct cache *c, struct slice key)
{
    uint32_t hash = hash32(key.data, key.len, CACHE_HASH_SEED);
    struct shard *s = shard_of(c, hash);
    struct cache_handle **slot, *e, *f = NULL;
    pthread_mutex_lock(&s->mu);
    slot = find_slot(s, key, hash);
    if ((e = *slot) != NULL) {
        *slot = e->next_hash;
        f = finish_erase(s, e);
    }
    pthread_mutex_unlock(&s->mu);
    if (f)
        free_entry(f);
    return e != NULL;
}

void cache_prune(struct cache *c)
{
    int i;
    for (i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        struct cache_handle *dead = NULL;
        size_t saved;
        pthread_mutex_lock(&s->mu);
        saved = s->capacity;
        s->capacity = 0;
        evict(s, &dead);
        s->capacity = saved;
        pthread_mutex_unlock(&s->mu);
        free_list(dead);
    }
}

uint64_t cache_new_id(struct cache *c)
{
    return __atomic_fetch_add(&c->next_id, 1, __ATOMIC_RELAXED);
}

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
    int i;
    memset(out, 0, sizeof(*out));
    out->capacity = __atomic_load_n(&c->capacity, __ATOMIC_RELAXED);
    for (i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        out->usage += s->usage;
        out->entries += s->entries;
        out->hits += s->hits;
        out->misses += s->misses;
        out->inserts += s->inserts;
        out->evictions += s->evictions;
        pthread_mutex_unlock(&s->mu);
    }
}

size_t cache_usage(struct cache *c)
{
    struct cache_stats st;
    cache_get_stats(c, &st);
    return (size_t)st.usage;
}

size_t cache_capacity(const struct cache *c)
{
    return __atomic_load_n(&c->capacity, __ATOMIC_RELAXED);
}

void cache_set_capacity(struct cache *c, size_t capacity)
{
    int i;
    __atomic_store_n(&c->capacity, capacity, __ATOMIC_RELAXED);
    for (i = 0; i < c->nshards; i++) {
        struct shard *s = &c->shards[i];
        struct cache_handle *dead = NULL;
        pthread_mutex_lock(&s->mu);
        s->capacity = (capacity + (size_t)c->nshards - 1) / (size_t)c->nshards;
        evict(s, &dead);
        pthread_mutex_unlock(&s->mu);
        free_list(dead);
    }
}
