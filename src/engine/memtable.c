/* memtable: skiplist of encoded entries in an arena (see memtable.h). */
#include "engine/memtable.h"

#include <assert.h>
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

/* A blocked bloom filter over the user keys of the memtable: a point lookup
 * of a key the memtable lacks (every SET of a new key reads the old record;
 * every read of an older key passes each memtable) costs one cache line
 * instead of a whole skiplist search (~25 dependent cache misses in a 64 MB
 * memtable). One 64-byte line per key, 6 bits in it. Fixed size (1 MiB,
 * ~16 bits per key for a 64 MB memtable of 100-byte values; fewer bits,
 * more false positives, for larger memtables): the memtable does not know
 * its write buffer size. Written by the single writer before the entry is
 * linked (release), so a reader that can see the entry sees its bits. */
#define MT_BLOOM_LINES (1u << 14)
#define MT_BLOOM_PROBES 6

struct memtable {
    struct arena *arena;
    struct skiplist *list;
    _Atomic int refs;
    _Atomic uint64_t *bloom;            /* MT_BLOOM_LINES * 8 words */
};

static uint64_t mt_hash(struct slice user_key)
{
    return hash64(user_key.data, user_key.len, 0x6d74626c);
}

static void mt_bloom_add(struct memtable *mt, uint64_t h)
{
    _Atomic uint64_t *line = mt->bloom + (size_t)((h >> 32) & (MT_BLOOM_LINES - 1)) * 8;
    uint32_t g = (uint32_t)h, delta = (g >> 17) | (g << 15);

    for (int i = 0; i < MT_BLOOM_PROBES; i++) {
        uint32_t bit = g & 511;
        /* Single writer: a relaxed load + store is enough (no lost bits). */
        uint64_t w = atomic_load_explicit(&line[bit >> 6], memory_order_relaxed);
        atomic_store_explicit(&line[bit >> 6], w | (1ull << (bit & 63)),
                              memory_order_relaxed);
        g += delta;
    }
}

static int mt_bloom_may_contain(const struct memtable *mt, uint64_t h)
{
    _Atomic uint64_t *line = mt->bloom + (size_t)((h >> 32) & (MT_BLOOM_LINES - 1)) * 8;
    uint32_t g = (uint32_t)h, delta = (g >> 17) | (g << 15);

    for (int i = 0; i < MT_BLOOM_PROBES; i++) {
        uint32_t bit = g & 511;
        if (!(atomic_load_explicit(&line[bit >> 6], memory_order_relaxed) &
              (1ull << (bit & 63))))
            return 0;
        g += delta;
    }
    return 1;
}

static int memtable_cmp(void *arg, struct slice a, struct slice b)
{
    (void)arg;
    return ikey_compare(a, b);
}

struct memtable *memtable_create(void)
{
    struct memtable *mt = zcalloc(sizeof(*mt));

    mt->arena = arena_create(MEMTABLE_ARENA_BLOCK);
    mt->list = skiplist_create(mt->arena, memtable_cmp, NULL, 0);
    atomic_init(&mt->refs, 1);
    mt->bloom = zcalloc((size_t)MT_BLOOM_LINES * 8 * sizeof(uint64_t));
    return mt;
}

void memtable_ref(struct memtable *mt)
{
    atomic_fetch_add_explicit(&mt->refs, 1, memory_order_relaxed);
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
    arena_destroy(mt->arena);
    zfree((void *)mt->bloom);
    zfree(mt);
}

/* The value stored right after an entry's internal key (the skiplist key). */
static struct slice memtable_entry_value(struct slice ikey)
{
    const char *p = ikey.data + ikey.len;
    uint32_t vlen = 0;

    /* Written by memtable_add: the varint is complete and in bounds. */
    p = decode_varint32(p, p + VARINT32_MAX_LEN, &vlen);
    assert(p != NULL);
    return slice_make(p, vlen);
}

int memtable_add(struct memtable *mt, uint64_t seq, int type,
                 struct slice user_key, struct slice value)
{
    size_t klen = user_key.len + LSM_TRAILER_LEN;
    size_t vlen;
    struct skiplist_node *node;
    char *entry, *p;

    assert(seq <= LSM_MAX_SEQ);
    assert(type == LSM_TYPE_VALUE || type == LSM_TYPE_DELETION || type == LSM_TYPE_VPTR);
    if (type == LSM_TYPE_DELETION)
        value = slice_make("", 0);
    vlen = value.len;
    /* The entry (internal key, varint value length, value) lives right
     * after its skiplist node: a search reads both from one place. */
    node = skiplist_node_alloc(mt->list, klen + (size_t)varint_length(vlen) + vlen, &entry);
    memcpy(entry, user_key.data, user_key.len);
    encode_fixed64(entry + user_key.len, dbformat_pack(seq, type));
    p = encode_varint32(entry + klen, (uint32_t)vlen);
    if (vlen > 0)
        memcpy(p, value.data, vlen);
    mt_bloom_add(mt, mt_hash(user_key));
    if (skiplist_insert_node(mt->list, node, slice_make(entry, klen)) != 0)
        return LSM_EEXIST;
    return 0;
}

struct memtable_batch_ctx {
    struct memtable *mt;
    uint64_t seq;
};

static int memtable_batch_op(void *arg, int type, struct slice key, struct slice value)
{
    struct memtable_batch_ctx *c = arg;

    /* An exact duplicate (replayed twice) is harmless: same version. */
    memtable_add(c->mt, c->seq++, type, key, value);
    return 0;
}

int memtable_add_batch(struct memtable *mt, const struct lsm_batch *b)
{
    struct memtable_batch_ctx c = { mt, batch_get_sequence(b) };

    return batch_iterate(b, memtable_batch_op, &c);
}

int memtable_get(struct memtable *mt, struct slice user_key, uint64_t snapshot_seq,
                 int *type, struct buf *value, uint64_t *seq)
{
    char small[128];
    char *lk = small;
    size_t lklen = user_key.len + LSM_TRAILER_LEN;
    struct skiplist_iter it;
    struct ikey_parsed pk;
    int rc = MEMTABLE_NOT_FOUND;

    if (!mt_bloom_may_contain(mt, mt_hash(user_key)))
        return MEMTABLE_NOT_FOUND;
    if (snapshot_seq > LSM_MAX_SEQ)
        snapshot_seq = LSM_MAX_SEQ;
    if (lklen > sizeof(small))
        lk = zmalloc(lklen);
    memcpy(lk, user_key.data, user_key.len);
    encode_fixed64(lk + user_key.len, dbformat_pack(snapshot_seq, LSM_TYPE_SEEK));
    skiplist_iter_init(&it, mt->list);
    skiplist_iter_seek(&it, slice_make(lk, lklen));
    if (skiplist_iter_valid(&it) &&
        ikey_parse(skiplist_iter_key(&it), &pk) == 0 &&
        slice_equal(pk.user_key, user_key)) {
        if (type != NULL)
            *type = pk.type;
        if (seq != NULL)
            *seq = pk.seq;
        if (pk.type == LSM_TYPE_DELETION) {
            rc = MEMTABLE_DELETED;
        } else {
            if (value != NULL) {
                struct slice v = memtable_entry_value(skiplist_iter_key(&it));
                buf_set(value, v.data, v.len);
            }
            rc = MEMTABLE_FOUND;
        }
    }
    if (lk != small)
        zfree(lk);
    return rc;
}

size_t memtable_approximate_memory_usage(const struct memtable *mt)
{
    return arena_memory_usage(mt->arena);
}

uint64_t memtable_entries(const struct memtable *mt)
{
    return skiplist_count(mt->list);
}

/* ---- iterator ---- */

struct memtable_iter {
    struct iter base;
    struct memtable *mt;
    struct skiplist_iter it;
};

static int mti_valid(const struct iter *i)
{
    return skiplist_iter_valid(&((const struct memtable_iter *)i)->it);
}

static void mti_seek_to_first(struct iter *i)
{
    skiplist_iter_seek_to_first(&((struct memtable_iter *)i)->it);
}

static void mti_seek_to_last(struct iter *i)
{
    skiplist_iter_seek_to_last(&((struct memtable_iter *)i)->it);
}

static void mti_seek(struct iter *i, struct slice target)
{
    skiplist_iter_seek(&((struct memtable_iter *)i)->it, target);
}

static void mti_seek_for_prev(struct iter *i, struct slice target)
{
    skiplist_iter_seek_for_prev(&((struct memtable_iter *)i)->it, target);
}

static void mti_next(struct iter *i)
{
    skiplist_iter_next(&((struct memtable_iter *)i)->it);
}

static void mti_prev(struct iter *i)
{
    skiplist_iter_prev(&((struct memtable_iter *)i)->it);
}

static struct slice mti_key(const struct iter *i)
{
    return skiplist_iter_key(&((const struct memtable_iter *)i)->it);
}

static struct slice mti_value(const struct iter *i)
{
    return memtable_entry_value(skiplist_iter_key(&((const struct memtable_iter *)i)->it));
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
    skiplist_iter_init(&mi->it, mt->list);
    return &mi->base;
}
