/* memtable: a skiplist of user keys with version chains and a hash index,
 * in an arena (see memtable.h). */
#include "engine/memtable.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/batch.h"
#include "engine/dbformat.h"
#include "engine/iter.h"
#include "engine/lsm.h"
#include "engine/skiplist.h"
#include "util/arena.h"
#include "util/coding.h"
#include "util/hash.h"
#include "util/zmalloc.h"

#define MEMTABLE_ARENA_BLOCK (32 * 1024)
#define MT_HASH_MIN_SLOTS 1024
/* memtable_link_due: at least this many keys waiting, and an eighth of
 * those linked (a link's searches climb ~log4(linked / waiting) levels). */
#define MT_LINK_MIN 4096

/* Layout. The skiplist holds one node per *user key* (ordered by user key);
 * the node's inline memory is the key's first internal key (padded to 8),
 * a struct mt_key, then that version's struct mt_ver and value: the key
 * right after the node's links, so a search compare mostly reads one cache
 * line, not the node's and then the key's. A later version is struct
 * mt_ver + internal key + value. Each version links to the
 * next older one: the chain is sorted by trailer (seq << 8 | type)
 * descending, so walking the list and then each chain yields internal keys
 * in ikey_compare order. A hash index (open addressing, user key ->
 * struct mt_key) finds a key without a skiplist search: a point lookup and
 * an overwrite of a key already in the memtable (and every write of a
 * counter-like key) cost a few cache misses instead of ~25. Writes never
 * search the skiplist: a key's first version is published in the hash
 * index and its node deferred (skiplist_defer_node); the next iterator
 * (memtable_iter_create, also the flush's) sorts the deferred nodes and
 * links them in order, each search starting where the previous one
 * stopped. A random insert into a large list was ~25 cache misses, a
 * third of the server's SET.
 * Chains link one way (8 bytes per version less); an iterator going
 * backwards keeps the path it walked down a chain, so a reverse scan over
 * a counter-like key (a version per write) is still O(1) per step.
 * Publication: every link (chain, hash slot, hash table) is written by
 * the single writer, every skiplist link by the one linker (link_mu), with
 * a release store after what it points
 * to is complete; readers load with acquire. Nothing is ever removed; a
 * hash table replaced by a bigger one is freed at once when no reader
 * holds a reference (mt_hash_insert), else with the memtable. */
struct mt_ver {
    _Atomic(struct mt_ver *) older;
    uint32_t klen;                      /* internal key length */
    uint32_t vlen;
    /* char ikey[klen]; char value[vlen]; */
};

struct mt_key {
    _Atomic(struct mt_ver *) newest;
    /* struct mt_ver first; (the key's first version, inline) */
};

/* A slot holds the key node's address and, in bits 48-63 (zero in user
 * addresses on x86-64, arm64 and 32-bit systems), the top 16 bits of the
 * key's hash: a probe passes other keys without touching their nodes (a
 * cache miss each). Should the writer ever meet an address using those
 * bits, the table is rebuilt untagged. */
#define MT_TAG_SHIFT 48

/* mt_hash_new relies on a zeroed slot being an empty one. */
_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t), "plain 64-bit atomics");

struct mt_hash {
    struct mt_hash *retired;            /* the table this one replaced */
    size_t mask;
    int tagged;
    _Atomic uint64_t slots[];           /* 0 = empty */
};

struct memtable {
    struct arena *arena;
    struct skiplist *list;
    pthread_mutex_t link_mu;            /* one skiplist linker at a time */
    _Atomic size_t ndeferred;           /* keys added, not linked yet (about) */
    _Atomic int link_claimed;           /* memtable_link_due said 1, no link since */
    _Atomic int scanned;                /* memtable_note_scan was called */
    _Atomic int refs;
    _Atomic(struct mt_hash *) hash;
    size_t nkeys;                       /* writer only */
    _Atomic uint64_t entries;
};

/* klen flag: the key's first version, its internal key before its mt_key. */
#define MT_FIRST 0x80000000u

static inline size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static inline uint32_t ver_klen(const struct mt_ver *v)
{
    return v->klen & ~MT_FIRST;
}

static inline const char *ver_ikey(const struct mt_ver *v)
{
    if (v->klen & MT_FIRST)
        return (const char *)v - sizeof(struct mt_key) - pad8(ver_klen(v));
    return (const char *)(v + 1);
}

static inline uint64_t ver_tag(const struct mt_ver *v)
{
    return decode_fixed64(ver_ikey(v) + ver_klen(v) - LSM_TRAILER_LEN);
}

static inline struct slice ver_key(const struct mt_ver *v)
{
    return slice_make(ver_ikey(v), ver_klen(v));
}

static inline struct slice ver_value(const struct mt_ver *v)
{
    const char *p = (const char *)(v + 1);

    return slice_make((v->klen & MT_FIRST) ? p : p + v->klen, v->vlen);
}

static inline struct mt_ver *ver_older(const struct mt_ver *v)
{
    return atomic_load_explicit(&((struct mt_ver *)v)->older, memory_order_acquire);
}

static inline struct mt_ver *key_first(const struct mt_key *k)
{
    return (struct mt_ver *)(k + 1);
}

static inline struct mt_ver *key_newest(const struct mt_key *k)
{
    return atomic_load_explicit(&((struct mt_key *)k)->newest, memory_order_acquire);
}

static inline struct slice key_user_key(const struct mt_key *k)
{
    const struct mt_ver *v = key_first(k);
    size_t klen = ver_klen(v);
    return slice_make((const char *)k - pad8(klen), klen - LSM_TRAILER_LEN);
}

/* The mt_key whose user key is the skiplist key s. */
static inline const struct mt_key *key_of(struct slice s)
{
    return (const struct mt_key *)(s.data + pad8(s.len + LSM_TRAILER_LEN));
}

static uint64_t mt_hash(struct slice user_key)
{
    return hash64(user_key.data, user_key.len, 0x6d74626c);
}

/* Frees t and every table it replaced. */
static void mt_hash_free(struct mt_hash *t)
{
    while (t != NULL) {
        struct mt_hash *r = t->retired;
        zfree(t);
        t = r;
    }
}

static struct mt_hash *mt_hash_new(size_t slots, int tagged)
{
    /* zcalloc'd: all-zero bytes are an empty slot (lock-free 64-bit
     * atomics have no hidden state), no second pass over the table. */
    struct mt_hash *t = zcalloc(sizeof(*t) + slots * sizeof(t->slots[0]));

    t->mask = slots - 1;
    t->tagged = tagged;
    return t;
}

static inline struct mt_key *slot_key(const struct mt_hash *t, uint64_t slot)
{
    if (t->tagged)
        slot &= ((uint64_t)1 << MT_TAG_SHIFT) - 1;
    return (struct mt_key *)(uintptr_t)slot;
}

static inline int slot_may_be(const struct mt_hash *t, uint64_t slot, uint64_t h)
{
    return !t->tagged || (slot >> MT_TAG_SHIFT) == (h >> MT_TAG_SHIFT);
}

/* The key node of user_key, or NULL; any thread. */
static struct mt_key *mt_hash_find(const struct memtable *mt, uint64_t h, struct slice user_key)
{
    /* seq_cst: see mt_hash_insert (the reader took its reference first). */
    struct mt_hash *t = atomic_load_explicit(&((struct memtable *)mt)->hash,
                                             memory_order_seq_cst);
    size_t i = (size_t)h & t->mask;

    for (;;) {
        uint64_t slot = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (slot == 0)
            return NULL;
        if (slot_may_be(t, slot, h)) {
            struct mt_key *k = slot_key(t, slot);
            if (slice_equal(key_user_key(k), user_key))
                return k;
        }
        i = (i + 1) & t->mask;
    }
}

static void mt_hash_put(struct mt_hash *t, struct mt_key *k, uint64_t h)
{
    uint64_t slot = (uint64_t)(uintptr_t)k;
    size_t i = (size_t)h & t->mask;

    if (t->tagged)
        slot |= h >> MT_TAG_SHIFT << MT_TAG_SHIFT;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != 0)
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], slot, memory_order_release);
}

/* Writer: a copy of t with the given size (published by the caller). */
static struct mt_hash *mt_hash_copy(struct mt_hash *t, size_t slots, int tagged)
{
    struct mt_hash *n = mt_hash_new(slots, tagged);

    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t slot;
        /* Each entry's hash is computed again from its key (not stored:
         * 8 bytes per key): fetch a few nodes ahead. */
        if (i + 8 <= t->mask) {
            slot = atomic_load_explicit(&t->slots[i + 8], memory_order_relaxed);
            if (slot != 0)
                __builtin_prefetch(slot_key(t, slot));
        }
        slot = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (slot != 0) {
            struct mt_key *k = slot_key(t, slot);
            mt_hash_put(n, k, mt_hash(key_user_key(k)));
        }
    }
    n->retired = t;
    return n;
}

/* Writer: adds k, doubling the table first when it would pass half full
 * (short probe sequences, also for keys that are absent). */
static void mt_hash_insert(struct memtable *mt, struct mt_key *k, uint64_t h)
{
    struct mt_hash *t = atomic_load_explicit(&mt->hash, memory_order_relaxed);
    int tagged = t->tagged && ((uint64_t)(uintptr_t)k >> MT_TAG_SHIFT) == 0;

    if ((mt->nkeys + 1) * 2 > t->mask + 1 || tagged != t->tagged) {
        size_t slots = (mt->nkeys + 1) * 2 > t->mask + 1 ? (t->mask + 1) * 2 : t->mask + 1;
        t = mt_hash_copy(t, slots, tagged);
        atomic_store_explicit(&mt->hash, t, memory_order_seq_cst);
        /* Every reader holds a reference (memtable.h). When the writer's
         * is the only one, no reader can be probing an old table, and one
         * that takes a reference from now on loads the new table: both
         * the reference count increment and the loads/stores of mt->hash
         * are seq_cst, so "reader saw the old table" and "writer saw no
         * reader" cannot both happen. Then the old tables go at once
         * instead of staying until the memtable is freed. */
        if (atomic_load_explicit(&mt->refs, memory_order_seq_cst) == 1) {
            mt_hash_free(t->retired);
            t->retired = NULL;
        }
    }
    mt_hash_put(t, k, h);
    mt->nkeys++;
}

struct memtable *memtable_create(void)
{
    struct memtable *mt = zcalloc(sizeof(*mt));

    mt->arena = arena_create(MEMTABLE_ARENA_BLOCK);
    mt->list = skiplist_create(mt->arena, NULL, NULL, 0);   /* user keys, bytewise */
    pthread_mutex_init(&mt->link_mu, NULL);
    atomic_init(&mt->ndeferred, 0);
    atomic_init(&mt->link_claimed, 0);
    atomic_init(&mt->scanned, 0);
    atomic_init(&mt->refs, 1);
    atomic_init(&mt->hash, mt_hash_new(MT_HASH_MIN_SLOTS, 1));
    atomic_init(&mt->entries, 0);
    return mt;
}

void memtable_ref(struct memtable *mt)
{
    /* seq_cst: pairs with the writer freeing old hash tables. */
    atomic_fetch_add_explicit(&mt->refs, 1, memory_order_seq_cst);
}

void memtable_unref(struct memtable *mt)
{
    int old;

    if (mt == NULL)
        return;
    old = atomic_fetch_sub_explicit(&mt->refs, 1, memory_order_acq_rel);
    assert(old > 0);
    if (old != 1)
        return;
    skiplist_destroy(mt->list);
    pthread_mutex_destroy(&mt->link_mu);
    arena_destroy(mt->arena);
    mt_hash_free(atomic_load_explicit(&mt->hash, memory_order_relaxed));
    zfree(mt);
}

/* Fills version v: its internal key at ikey, its value right after v. */
static void ver_fill(struct mt_ver *v, char *ikey, uint32_t flags, struct slice user_key,
                     uint64_t tag, struct slice value)
{
    char *p = (char *)(v + 1);

    v->klen = (uint32_t)(user_key.len + LSM_TRAILER_LEN) | flags;
    v->vlen = (uint32_t)value.len;
    memcpy(ikey, user_key.data, user_key.len);
    encode_fixed64(ikey + user_key.len, tag);
    if (ikey == p)
        p += user_key.len + LSM_TRAILER_LEN;
    if (value.len > 0)
        memcpy(p, value.data, value.len);
}

/* First version of a key absent from the memtable: a new skiplist node. */
static int mt_add_key(struct memtable *mt, uint64_t h, uint64_t tag, struct slice user_key,
                      struct slice value)
{
    size_t kpad = pad8(user_key.len + LSM_TRAILER_LEN);
    size_t len = kpad + sizeof(struct mt_key) + sizeof(struct mt_ver) + value.len;
    char *mem;
    struct skiplist_node *node = skiplist_node_alloc(mt->list, len, &mem);
    struct mt_key *k = (struct mt_key *)(mem + kpad);
    struct mt_ver *v = key_first(k);

    assert(user_key.len + LSM_TRAILER_LEN < MT_FIRST);
    ver_fill(v, mem, MT_FIRST, user_key, tag, value);
    atomic_init(&v->older, NULL);
    atomic_init(&k->newest, v);
    /* The hash index said the key is absent: publish it there, and leave
     * its place in the order to the next memtable_iter_create. */
    mt_hash_insert(mt, k, h);
    /* Counted before the push, so a linker that takes it never makes the
     * count go below zero. */
    atomic_fetch_add_explicit(&mt->ndeferred, 1, memory_order_relaxed);
    skiplist_defer_node(mt->list, node, slice_make(ver_ikey(v), user_key.len));
    return 0;
}

/* One more version of a key in the memtable: linked into its chain at its
 * place (normally the head: sequences grow). */
static int mt_add_version(struct memtable *mt, struct mt_key *k, uint64_t tag,
                          struct slice user_key, struct slice value)
{
    _Atomic(struct mt_ver *) *link = &k->newest;
    struct mt_ver *cur = atomic_load_explicit(link, memory_order_relaxed);
    struct mt_ver *v;

    while (cur != NULL && ver_tag(cur) > tag) {
        link = &cur->older;
        cur = atomic_load_explicit(link, memory_order_relaxed);
    }
    if (cur != NULL && ver_tag(cur) == tag)
        return LSM_EEXIST;
    v = arena_alloc_aligned(mt->arena, sizeof(*v) + user_key.len + LSM_TRAILER_LEN + value.len);
    ver_fill(v, (char *)(v + 1), 0, user_key, tag, value);
    atomic_init(&v->older, cur);
    atomic_store_explicit(link, v, memory_order_release);
    return 0;
}

int memtable_add(struct memtable *mt, uint64_t seq, int type,
                 struct slice user_key, struct slice value)
{
    uint64_t h = mt_hash(user_key);
    uint64_t tag = dbformat_pack(seq, type);
    struct mt_key *k;
    int rc;

    assert(seq <= LSM_MAX_SEQ);
    assert(type == LSM_TYPE_VALUE || type == LSM_TYPE_DELETION || type == LSM_TYPE_VPTR);
    if (type == LSM_TYPE_DELETION)
        value = slice_make("", 0);
    k = mt_hash_find(mt, h, user_key);
    rc = k == NULL ? mt_add_key(mt, h, tag, user_key, value)
                   : mt_add_version(mt, k, tag, user_key, value);
    if (rc == 0)
        atomic_fetch_add_explicit(&mt->entries, 1, memory_order_relaxed);
    return rc;
}

struct memtable_batch_ctx {
    struct memtable *mt;
    uint64_t seq;
};

static int memtable_batch_op(void *arg, int type, struct slice key, struct slice value)
{
    struct memtable_batch_ctx *c = arg;

    if (type == BATCH_OP_PATCH)     /* resolved by the write leader, never here */
        return LSM_EINVAL;
    /* An exact duplicate (replayed twice) is harmless: same version. */
    memtable_add(c->mt, c->seq++, type, key, value);
    return 0;
}

int memtable_add_batch(struct memtable *mt, const struct lsm_batch *b)
{
    struct memtable_batch_ctx c = { mt, batch_get_sequence(b) };

    return batch_iterate(b, memtable_batch_op, &c);
}

/* Lines prefetched for one batch: more would be evicted before the
 * inserts reach them (a large batch, e.g. a GC rewrite or a big EXEC). */
#define MT_PREFETCH_MAX 32

struct mt_prefetch {
    struct mt_hash *t;
    int left;
};

static int memtable_prefetch_op(void *arg, int type, struct slice key, struct slice value)
{
    struct mt_prefetch *p = arg;
    (void)type;
    (void)value;
    __builtin_prefetch((const void *)&p->t->slots[(size_t)mt_hash(key) & p->t->mask], 1, 3);
    return --p->left == 0;         /* non-zero stops the iteration */
}

void memtable_prefetch_batch(const struct memtable *mt, const struct lsm_batch *b)
{
    struct mt_prefetch p = {
        atomic_load_explicit(&((struct memtable *)mt)->hash, memory_order_acquire),
        MT_PREFETCH_MAX
    };
    (void)batch_iterate(b, memtable_prefetch_op, &p);
}

uint64_t memtable_key_hash(struct slice user_key)
{
    return mt_hash(user_key);
}

int memtable_get(struct memtable *mt, struct slice user_key, uint64_t snapshot_seq,
                 int *type, struct buf *value, uint64_t *seq)
{
    return memtable_get_hashed(mt, mt_hash(user_key), user_key, snapshot_seq, type, value, seq);
}

int memtable_get_hashed(struct memtable *mt, uint64_t h, struct slice user_key,
                        uint64_t snapshot_seq, int *type, struct buf *value, uint64_t *seq)
{
    struct mt_key *k = mt_hash_find(mt, h, user_key);
    const struct mt_ver *v;
    uint64_t max_tag, tag;
    int t;

    if (k == NULL)
        return MEMTABLE_NOT_FOUND;
    if (snapshot_seq > LSM_MAX_SEQ)
        snapshot_seq = LSM_MAX_SEQ;
    max_tag = dbformat_pack(snapshot_seq, LSM_TYPE_SEEK);
    for (v = key_newest(k); v != NULL; v = ver_older(v)) {
        tag = ver_tag(v);
        if (tag <= max_tag)
            break;
    }
    if (v == NULL)
        return MEMTABLE_NOT_FOUND;
    t = (int)(tag & 0xff);
    if (type != NULL)
        *type = t;
    if (seq != NULL)
        *seq = tag >> 8;
    if (t == LSM_TYPE_DELETION)
        return MEMTABLE_DELETED;
    if (value != NULL) {
        struct slice val = ver_value(v);
        buf_set(value, val.data, val.len);
    }
    return MEMTABLE_FOUND;
}

void memtable_link(struct memtable *mt)
{
    size_t n;

    pthread_mutex_lock(&mt->link_mu);
    n = skiplist_link_deferred(mt->list);
    atomic_fetch_sub_explicit(&mt->ndeferred, n, memory_order_relaxed);
    atomic_store_explicit(&mt->link_claimed, 0, memory_order_release);
    pthread_mutex_unlock(&mt->link_mu);
}

int memtable_link_due(struct memtable *mt)
{
    size_t waiting = atomic_load_explicit(&mt->ndeferred, memory_order_relaxed);
    size_t linked = (size_t)skiplist_count(mt->list);

    if (waiting < MT_LINK_MIN || waiting < linked / 8 ||
        !atomic_load_explicit(&mt->scanned, memory_order_relaxed))
        return 0;
    return !atomic_exchange_explicit(&mt->link_claimed, 1, memory_order_acq_rel);
}

void memtable_note_scan(struct memtable *mt)
{
    /* A scan of an empty memtable (the server's start-up one) says nothing
     * about the writes to come. */
    if (atomic_load_explicit(&mt->entries, memory_order_relaxed) > 0 &&
        !atomic_load_explicit(&mt->scanned, memory_order_relaxed))
        atomic_store_explicit(&mt->scanned, 1, memory_order_relaxed);
}

void memtable_prefetch(struct memtable *mt, uint64_t h)
{
    struct mt_hash *t = atomic_load_explicit(&mt->hash, memory_order_seq_cst);

    __builtin_prefetch(&t->slots[(size_t)h & t->mask]);
}

size_t memtable_approximate_memory_usage(const struct memtable *mt)
{
    return arena_memory_usage(mt->arena);
}

uint64_t memtable_entries(const struct memtable *mt)
{
    return atomic_load_explicit(&((struct memtable *)mt)->entries, memory_order_relaxed);
}

/* ---- iterator ---- */

/* Position: a skiplist node (user key) and one version in its chain. */
struct memtable_iter {
    struct iter base;
    struct memtable *mt;
    struct skiplist_iter it;
    const struct mt_ver *v;             /* NULL = not valid */
    /* Going backwards: the versions from the node's newest down to v
     * (path[npath - 1] == v), so prev in a chain is a pop. Stale (rebuilt)
     * when its top is not v. */
    const struct mt_ver **path;
    size_t npath, cpath;
};

static void mti_path_push(struct memtable_iter *mi, const struct mt_ver *v)
{
    if (mi->npath == mi->cpath) {
        mi->cpath = mi->cpath ? mi->cpath * 2 : 16;
        mi->path = zrealloc(mi->path, mi->cpath * sizeof(*mi->path));
    }
    mi->path[mi->npath++] = v;
}

static const struct mt_key *mti_node_key(const struct memtable_iter *mi)
{
    return key_of(skiplist_iter_key(&mi->it));
}

/* The newest version of the current node (or not valid). */
static void mti_to_newest(struct memtable_iter *mi)
{
    mi->v = skiplist_iter_valid(&mi->it) ? key_newest(mti_node_key(mi)) : NULL;
}

/* The oldest version of the current node (or not valid). */
static void mti_to_oldest(struct memtable_iter *mi)
{
    const struct mt_ver *v;

    mi->npath = 0;
    if (!skiplist_iter_valid(&mi->it)) {
        mi->v = NULL;
        return;
    }
    for (v = key_newest(mti_node_key(mi)); v != NULL; v = ver_older(v))
        mti_path_push(mi, v);
    mi->v = mi->path[mi->npath - 1];
}

static int mti_valid(const struct iter *i)
{
    return ((const struct memtable_iter *)i)->v != NULL;
}

static void mti_seek_to_first(struct iter *i)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;

    skiplist_iter_seek_to_first(&mi->it);
    mti_to_newest(mi);
}

static void mti_seek_to_last(struct iter *i)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;

    skiplist_iter_seek_to_last(&mi->it);
    mti_to_oldest(mi);
}

/* First entry >= target (an internal key). */
static void mti_seek(struct iter *i, struct slice target)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;
    struct slice ukey = ikey_user_key(target);
    uint64_t tag = ikey_trailer(target);
    const struct mt_ver *v;

    skiplist_iter_seek(&mi->it, ukey);
    if (!skiplist_iter_valid(&mi->it) || !slice_equal(skiplist_iter_key(&mi->it), ukey)) {
        mti_to_newest(mi);
        return;
    }
    for (v = key_newest(mti_node_key(mi)); v != NULL && ver_tag(v) > tag; v = ver_older(v))
        ;
    mi->v = v;
    if (v == NULL) {
        skiplist_iter_next(&mi->it);
        mti_to_newest(mi);
    }
}

/* Last entry <= target (an internal key). */
static void mti_seek_for_prev(struct iter *i, struct slice target)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;
    struct slice ukey = ikey_user_key(target);
    uint64_t tag = ikey_trailer(target);
    const struct mt_ver *v, *o;

    skiplist_iter_seek_for_prev(&mi->it, ukey);
    if (!skiplist_iter_valid(&mi->it) || !slice_equal(skiplist_iter_key(&mi->it), ukey)) {
        mti_to_oldest(mi);
        return;
    }
    v = key_newest(mti_node_key(mi));
    if (ver_tag(v) < tag) {
        /* Every version of this key is after the target. */
        skiplist_iter_prev(&mi->it);
        mti_to_oldest(mi);
        return;
    }
    mi->npath = 0;
    mti_path_push(mi, v);
    while ((o = ver_older(v)) != NULL && ver_tag(o) >= tag) {
        v = o;
        mti_path_push(mi, v);
    }
    mi->v = v;
}

static void mti_next(struct iter *i)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;

    assert(mi->v != NULL);
    mi->v = ver_older(mi->v);
    if (mi->v == NULL) {
        skiplist_iter_next(&mi->it);
        mti_to_newest(mi);
    }
}

static void mti_prev(struct iter *i)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;
    const struct mt_ver *v;

    assert(mi->v != NULL);
    if (mi->npath == 0 || mi->path[mi->npath - 1] != mi->v) {
        /* Came here forwards: walk the chain down to v once. */
        mi->npath = 0;
        for (v = key_newest(mti_node_key(mi)); v != mi->v; v = ver_older(v))
            mti_path_push(mi, v);
        mti_path_push(mi, mi->v);
    }
    if (mi->npath == 1) {
        /* The newest version (one added since may be missed: a concurrent
         * write, seen or not). */
        skiplist_iter_prev(&mi->it);
        mti_to_oldest(mi);
        return;
    }
    mi->npath--;
    mi->v = mi->path[mi->npath - 1];
}

static struct slice mti_key(const struct iter *i)
{
    return ver_key(((const struct memtable_iter *)i)->v);
}

static struct slice mti_value(const struct iter *i)
{
    return ver_value(((const struct memtable_iter *)i)->v);
}

static int mti_status(const struct iter *i)
{
    (void)i;
    return 0;
}

static void mti_destroy(struct iter *i)
{
    struct memtable_iter *mi = (struct memtable_iter *)i;

    memtable_unref(mi->mt);
    zfree(mi->path);
    zfree(mi);
}

static const struct iter_ops memtable_iter_ops = {
    .valid = mti_valid,
    .seek_to_first = mti_seek_to_first,
    .seek_to_last = mti_seek_to_last,
    .seek = mti_seek,
    .seek_for_prev = mti_seek_for_prev,
    .next = mti_next,
    .prev = mti_prev,
    .key = mti_key,
    .value = mti_value,
    .status = mti_status,
    .destroy = mti_destroy,
};

struct iter *memtable_iter_create(struct memtable *mt)
{
    struct memtable_iter *mi = zcalloc(sizeof(*mi));

    mi->base.ops = &memtable_iter_ops;
    mi->mt = mt;
    memtable_ref(mt);
    /* Keys added before this call are ordered now: the linking happens
     * under the mutex, so a key another linker took is linked too. */
    memtable_link(mt);
    skiplist_iter_init(&mi->it, mt->list);
    return &mi->base;
}
