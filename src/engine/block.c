/* block.c: block builder, block reader and block iterator (see block.h). */
#include "engine/block.h"

#include <assert.h>

#include "engine/lsm.h"
#include "util/coding.h"
#include "util/zmalloc.h"

/* ---- handles ---- */

void block_handle_encode(struct buf *out, const struct block_handle *h)
{
    put_varint64(out, h->offset);
    put_varint64(out, h->size);
}

int block_handle_decode(struct slice *in, struct block_handle *h)
{
    if (get_varint64(in, &h->offset) < 0 || get_varint64(in, &h->size) < 0)
        return LSM_ECORRUPT;
    return 0;
}

/* ---- builder ---- */

struct block_builder {
    int restart_interval;
    int counter;             /* entries since the last restart */
    int finished;
    struct buf data;
    struct buf last_key;
    uint32_t *restarts;
    size_t nrestarts, caprestarts;
};

struct block_builder *block_builder_create(int restart_interval)
{
    struct block_builder *b = zcalloc(sizeof(*b));
    b->restart_interval = restart_interval < 1 ? 1 : restart_interval;
    buf_init(&b->data);
    buf_init(&b->last_key);
    block_builder_reset(b);
    return b;
}

void block_builder_destroy(struct block_builder *b)
{
    if (!b)
        return;
    buf_free(&b->data);
    buf_free(&b->last_key);
    zfree(b->restarts);
    zfree(b);
}

static void push_restart(struct block_builder *b, uint32_t off)
{
    if (b->nrestarts == b->caprestarts) {
        b->caprestarts = b->caprestarts ? b->caprestarts * 2 : 16;
        b->restarts = zrealloc(b->restarts, b->caprestarts * sizeof(uint32_t));
    }
    b->restarts[b->nrestarts++] = off;
}

void block_builder_reset(struct block_builder *b)
{
    buf_clear(&b->data);
    buf_clear(&b->last_key);
    b->nrestarts = 0;
    push_restart(b, 0);      /* the first restart is at offset 0 */
    b->counter = 0;
    b->finished = 0;
}

void block_builder_add(struct block_builder *b, struct slice key, struct slice value)
{
    size_t shared = 0;
    assert(!b->finished);
    if (b->counter < b->restart_interval) {
        size_t min = b->last_key.len < key.len ? b->last_key.len : key.len;
        while (shared < min && b->last_key.data[shared] == key.data[shared])
            shared++;
    } else {
        push_restart(b, (uint32_t)b->data.len);
        b->counter = 0;
    }
    put_varint32(&b->data, (uint32_t)shared);
    put_varint32(&b->data, (uint32_t)(key.len - shared));
    put_varint32(&b->data, (uint32_t)value.len);
    buf_append(&b->data, key.data + shared, key.len - shared);
    buf_append(&b->data, value.data, value.len);
    buf_truncate(&b->last_key, shared);
    buf_append(&b->last_key, key.data + shared, key.len - shared);
    b->counter++;
}

struct slice block_builder_finish(struct block_builder *b)
{
    size_t i;
    assert(!b->finished);
    for (i = 0; i < b->nrestarts; i++)
        put_fixed32(&b->data, b->restarts[i]);
    put_fixed32(&b->data, (uint32_t)b->nrestarts);
    b->finished = 1;
    return buf_slice(&b->data);
}

size_t block_builder_size_estimate(const struct block_builder *b)
{
    if (b->finished)
        return b->data.len;
    return b->data.len + b->nrestarts * sizeof(uint32_t) + sizeof(uint32_t);
}

int block_builder_empty(const struct block_builder *b)
{
    return b->data.len == 0;
}

struct slice block_builder_last_key(const struct block_builder *b)
{
    return buf_slice(&b->last_key);
}

/* ---- reader ---- */

/* Restart points a small block keeps in its struct (block_build_prefix_index):
 * a point lookup reads the struct anyway, so with these its search costs no
 * read of the restart array and no probe of a restart entry. */
#define BLOCK_INLINE_RESTARTS 4
#define BLOCK_INLINE_COMMON 16

struct block {
    /* First cache line: what a seek in a small block reads. */
    const char *data;
    uint32_t restart_offset;     /* where the restart array begins */
    uint32_t nrestarts;
    /* Small-block accelerator: when sn == nrestarts (2..4), sroff[i] is
     * restart point i and spfx[i] the 8 bytes of its user key after the
     * sc bytes (scommon) all of them share; as pfx below. sn 0: none. */
    uint8_t sn, sc;
    uint32_t sroff[BLOCK_INLINE_RESTARTS];
    uint64_t spfx[BLOCK_INLINE_RESTARTS];
    char scommon[BLOCK_INLINE_COMMON];
    size_t size;
    int owned;
    /* Search accelerator (block_build_prefix_index): for restart point i,
     * the 8 bytes of its user key after the prefix all of them share
     * (big-endian, zero-padded), so a seek by pfx_cmp binary-searches one
     * dense array instead of decoding an entry per step. NULL: none. */
    uint64_t *pfx;
    block_cmp_fn pfx_cmp;        /* also the small-block accelerator's */
    const char *pfx_common;      /* the shared prefix (inside data) */
    uint32_t pfx_common_len;
    uint32_t pfx_suffix;         /* bytes after the user key (trailer) */
    /* Second level, for runs of restart points with equal pfx (keys that
     * share more than the whole block does, e.g. one namespace of many
     * after a few keys of another): pfx2_len[i] is the prefix length all
     * keys of i's run share (0: no second level), pfx2[i] the 8 bytes of
     * i's user key after it. NULL: no run long enough. */
    uint64_t *pfx2;
    uint32_t *pfx2_len;
};

int block_open(const char *data, size_t size, int owned, struct block **out)
{
    struct block *b;
    uint32_t n;
    *out = NULL;
    if (size < sizeof(uint32_t) || size > UINT32_MAX)
        goto fail;
    n = decode_fixed32(data + size - sizeof(uint32_t));
    if (n == 0 || n > (size - sizeof(uint32_t)) / sizeof(uint32_t))
        goto fail;
    b = zmalloc(sizeof(*b));
    b->data = data;
    b->size = size;
    b->nrestarts = n;
    b->restart_offset = (uint32_t)(size - (1 + (size_t)n) * sizeof(uint32_t));
    b->owned = owned;
    b->sn = 0;
    b->pfx = NULL;
    b->pfx_cmp = NULL;
    b->pfx2 = NULL;
    b->pfx2_len = NULL;
    *out = b;
    return 0;
fail:
    if (owned)
        zfree((void *)data);
    return LSM_ECORRUPT;
}

void block_destroy(struct block *b)
{
    if (!b)
        return;
    if (b->owned)
        zfree((void *)b->data);
    zfree(b->pfx);
    zfree(b->pfx2);
    zfree(b->pfx2_len);
    zfree(b);
}

size_t block_size(const struct block *b)
{
    return b->size;
}

size_t block_memory(const struct block *b)
{
    return b->size + sizeof(*b) + (b->pfx ? b->nrestarts * sizeof(*b->pfx) : 0) +
           (b->pfx2 ? b->nrestarts * (sizeof(*b->pfx2) + sizeof(*b->pfx2_len)) : 0);
}

/* ---- iterator ---- */

struct block_iter {
    struct iter base;
    const char *data;
    uint32_t restart_offset;     /* end of the entries */
    uint32_t nrestarts;
    block_cmp_fn cmp;
    const struct block *blk;     /* for its search accelerator */
    const uint32_t *sroff;       /* blk's inline restart points, or NULL */
    uint32_t current;            /* offset of the current entry; == restart_offset when invalid */
    uint32_t next_off;           /* offset just after the current entry */
    uint32_t restart_index;      /* restart block holding current */
    struct buf key;
    struct slice value;
    int status;
    void (*release)(void *);
    void *release_arg;
};

/* Little-endian fixed32, inlined: the restart array is read on every step. */
static inline uint32_t load32(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | ((uint32_t)u[1] << 8) | ((uint32_t)u[2] << 16) |
           ((uint32_t)u[3] << 24);
}

static inline uint32_t restart_point(const struct block_iter *it, uint32_t i)
{
    if (it->sroff != NULL)
        return it->sroff[i];
    return load32(it->data + it->restart_offset + i * sizeof(uint32_t));
}

static void mark_corrupt(struct block_iter *it)
{
    it->status = LSM_ECORRUPT;
    it->current = it->restart_offset;
    it->next_off = it->restart_offset;
    it->restart_index = it->nrestarts;
    buf_clear(&it->key);
    it->value = slice_make(NULL, 0);
}

/* Decodes the entry header at p (bounded by limit). Returns the start of the
 * key delta or NULL when malformed. */
static inline const char *decode_entry(const char *p, const char *limit, uint32_t *shared,
                                uint32_t *non_shared, uint32_t *vlen)
{
    if (limit - p < 3)
        return NULL;
    if (((uint8_t)p[0] | (uint8_t)p[1] | (uint8_t)p[2]) < 128) {
        *shared = (uint8_t)p[0];     /* fast path: three one-byte varints */
        *non_shared = (uint8_t)p[1];
        *vlen = (uint8_t)p[2];
        p += 3;
    } else {
        if (!(p = decode_varint32(p, limit, shared)) ||
            !(p = decode_varint32(p, limit, non_shared)) ||
            !(p = decode_varint32(p, limit, vlen)))
            return NULL;
    }
    if ((uint64_t)(limit - p) < (uint64_t)*non_shared + *vlen)
        return NULL;
    return p;
}

/* Parses the entry at next_off into key/value. Returns 1 when an entry was
 * read, 0 at the end (or on corruption, which sets status). */
static int parse_next(struct block_iter *it)
{
    const char *p, *limit = it->data + it->restart_offset;
    uint32_t shared, non_shared, vlen;
    it->current = it->next_off;
    if (it->current >= it->restart_offset) {
        it->current = it->restart_offset;
        it->restart_index = it->nrestarts;
        return 0;
    }
    p = decode_entry(it->data + it->current, limit, &shared, &non_shared, &vlen);
    if (!p || shared > it->key.len) {
        mark_corrupt(it);
        return 0;
    }
    if (!it->key.data || it->key.cap < (size_t)shared + non_shared)
        buf_reserve(&it->key, (size_t)shared + non_shared - it->key.len);
    memcpy(it->key.data + shared, p, non_shared);
    it->key.len = (size_t)shared + non_shared;
    it->value = slice_make(p + non_shared, vlen);
    it->next_off = (uint32_t)(p + non_shared + vlen - it->data);
    while (it->restart_index + 1 < it->nrestarts &&
           restart_point(it, it->restart_index + 1) <= it->current)
        it->restart_index++;
    return 1;
}

static int seek_to_restart(struct block_iter *it, uint32_t index)
{
    uint32_t off = restart_point(it, index);
    if (off >= it->restart_offset && !(off == 0 && it->restart_offset == 0)) {
        mark_corrupt(it);
        return -1;
    }
    buf_clear(&it->key);
    it->restart_index = index;
    it->next_off = off;
    return 0;
}

static int bi_valid(const struct iter *base)
{
    const struct block_iter *it = (const struct block_iter *)base;
    return it->current < it->restart_offset;
}

static struct slice bi_key(const struct iter *base)
{
    const struct block_iter *it = (const struct block_iter *)base;
    return buf_slice(&it->key);
}

static struct slice bi_value(const struct iter *base)
{
    return ((const struct block_iter *)base)->value;
}

static int bi_status(const struct iter *base)
{
    return ((const struct block_iter *)base)->status;
}

static void bi_seek_to_first(struct iter *base)
{
    struct block_iter *it = (struct block_iter *)base;
    if (it->status || seek_to_restart(it, 0) < 0)
        return;
    parse_next(it);
}

static void bi_seek_to_last(struct iter *base)
{
    struct block_iter *it = (struct block_iter *)base;
    if (it->status || seek_to_restart(it, it->nrestarts - 1) < 0)
        return;
    while (parse_next(it) && it->next_off < it->restart_offset)
        ;
}

static void bi_next(struct iter *base)
{
    struct block_iter *it = (struct block_iter *)base;
    assert(bi_valid(base));
    parse_next(it);
}

static void bi_prev(struct iter *base)
{
    struct block_iter *it = (struct block_iter *)base;
    uint32_t original = it->current;
    assert(bi_valid(base));
    /* back to the restart point before the current entry, then forward */
    while (restart_point(it, it->restart_index) >= original) {
        if (it->restart_index == 0) {
            it->current = it->restart_offset;      /* before the first entry */
            it->restart_index = it->nrestarts;
            return;
        }
        it->restart_index--;
    }
    if (seek_to_restart(it, it->restart_index) < 0)
        return;
    while (parse_next(it) && it->next_off < original)
        ;
    if (!it->status && it->next_off != original && bi_valid(base))
        mark_corrupt(it);          /* entries did not line up with original */
}

/* Key stored at restart point i (shared must be 0), or -1 on corruption. */
static int restart_key(struct block_iter *it, uint32_t i, struct slice *key)
{
    uint32_t shared, non_shared, vlen, off = restart_point(it, i);
    const char *p;
    if (off >= it->restart_offset)
        return -1;
    p = decode_entry(it->data + off, it->data + it->restart_offset, &shared,
                     &non_shared, &vlen);
    if (!p || shared != 0)
        return -1;
    *key = slice_make(p, non_shared);
    return 0;
}

/* Big-endian value of the first (up to) 8 bytes of p, zero-padded: the
 * order of these values never contradicts the bytewise order of keys. */
static inline uint64_t load_prefix(const char *p, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | (i < n ? (uint8_t)p[i] : 0);
    return v;
}

/* First index in [a, z) of the sorted v whose value is >= x (gt: > x). */
static inline uint32_t pfx_bound(const uint64_t *v, uint32_t a, uint32_t z, uint64_t x, int gt)
{
    while (a < z) {
        uint32_t m = a + (z - a) / 2;
        if (v[m] < x || (gt && v[m] == x))
            a = m + 1;
        else
            z = m;
    }
    return a;
}

/* Narrows [*lo, *hi) (restart points with equal pfx, a run sharing
 * pfx2_len bytes) with the second level; ulen is the target's user key
 * length. Returns -1 when the run's first key cannot be decoded. */
static int pfx2_narrow(const struct block_iter *it, const char *t, size_t ulen,
                       uint32_t *lo, uint32_t *hi)
{
    const struct block *b = it->blk;
    uint32_t c = b->pfx_common_len, c2 = b->pfx2_len[*lo];
    struct slice k;
    size_t m;
    int r;

    if (restart_key((struct block_iter *)it, *lo, &k) < 0 || k.len < c2)
        return -1;
    m = ulen < c2 ? ulen : c2;
    r = memcmp(t + c, k.data + c, m - c);     /* the first c bytes are equal */
    if (r < 0 || (r == 0 && ulen < c2)) {
        *hi = *lo;                             /* below the whole run */
    } else if (r > 0) {
        *lo = *hi;                             /* above it */
    } else {
        uint64_t pt = load_prefix(t + c2, ulen - c2);
        uint32_t a = pfx_bound(b->pfx2, *lo, *hi, pt, 0);
        *hi = pfx_bound(b->pfx2, a, *hi, pt, 1);
        *lo = a;
    }
    return 0;
}

/* Restart points [*lo, *hi) of a prefix array (n points whose user keys
 * share the c bytes at common, pfx their next 8) are those whose prefix
 * equals the target's (user key t, ulen bytes); the ones before are
 * < target, the ones after > target. Returns 1 when the target shares
 * the c bytes (the range may be non-empty), 0 when it is outside them. */
static int pfx_range(const uint64_t *pfx, uint32_t n, const char *common, uint32_t c,
                     const char *t, size_t ulen, uint32_t *lo, uint32_t *hi)
{
    int r = memcmp(t, common, ulen < c ? ulen : c);
    if (r < 0 || (r == 0 && ulen < c)) {
        *lo = *hi = 0;                         /* below every restart key */
        return 0;
    }
    if (r > 0) {
        *lo = *hi = n;                         /* above every restart key */
        return 0;
    }
    uint64_t pt = load_prefix(t + c, ulen - c);
    *lo = pfx_bound(pfx, 0, n, pt, 0);
    *hi = pfx_bound(pfx, *lo, n, pt, 1);
    return 1;
}

/* Narrows the restart search of bi_seek to [*left, *right] with the prefix
 * array (or the small block's inline one): restart keys whose prefix is
 * below the target's are < target, those above it are > target; only
 * equal prefixes need a real compare (or the second level's). */
static void pfx_narrow(const struct block_iter *it, struct slice target, uint32_t *left,
                       uint32_t *right)
{
    const struct block *b = it->blk;
    uint32_t lo, hi;
    size_t ulen;

    if (target.len < b->pfx_suffix)
        return;                                /* let the comparator decide */
    ulen = target.len - b->pfx_suffix;
    if (b->pfx == NULL) {
        (void)pfx_range(b->spfx, b->sn, b->scommon, b->sc, target.data, ulen, &lo, &hi);
    } else if (pfx_range(b->pfx, b->nrestarts, b->pfx_common, b->pfx_common_len, target.data,
                         ulen, &lo, &hi) &&
               hi - lo >= 2 && b->pfx2 != NULL && b->pfx2_len[lo] != 0 &&
               pfx2_narrow(it, target.data, ulen, &lo, &hi) < 0) {
        return;                                /* the full search reports it */
    }
    /* The last restart key < target is lo - 1 (known) up to hi - 1. */
    *left = lo > 0 ? lo - 1 : 0;
    *right = hi > 0 ? hi - 1 : 0;
}

/* The user key (suffix_len bytes off) of restart point i in *first, and
 * the length (at most max) of the prefix it shares with that of restart
 * point j > i: keys being sorted, every key between them shares it too.
 * 0, or -1 when either key is malformed. */
static int shared_prefix(struct block_iter *it, uint32_t i, uint32_t j, size_t suffix_len,
                         size_t max, struct slice *first, size_t *len)
{
    struct slice last;
    size_t c = 0;

    if (restart_key(it, i, first) < 0 || restart_key(it, j, &last) < 0 ||
        first->len < suffix_len || last.len < suffix_len)
        return -1;
    first->len -= suffix_len;
    last.len -= suffix_len;
    while (c < max && c < first->len && c < last.len && first->data[c] == last.data[c])
        c++;
    *len = c;
    return 0;
}

/* The small-block accelerator (struct block): 0, or LSM_ECORRUPT. */
static int build_small(struct block *b, struct block_iter *it, block_cmp_fn cmp,
                       size_t suffix_len)
{
    uint32_t n = b->nrestarts, i;
    struct slice first, k;
    size_t c;

    if (shared_prefix(it, 0, n - 1, suffix_len, BLOCK_INLINE_COMMON, &first, &c) < 0)
        return LSM_ECORRUPT;
    for (i = 0; i < n; i++) {
        if (restart_key(it, i, &k) < 0 || k.len < suffix_len + c ||
            memcmp(k.data, first.data, c) != 0)
            return LSM_ECORRUPT;
        b->spfx[i] = load_prefix(k.data + c, k.len - suffix_len - c);
        b->sroff[i] = restart_point(it, i);
        if (i > 0 && b->spfx[i] < b->spfx[i - 1])
            return LSM_ECORRUPT;                /* unsorted */
    }
    memcpy(b->scommon, first.data, c);
    b->sc = (uint8_t)c;
    b->pfx_cmp = cmp;
    b->pfx_suffix = (uint32_t)suffix_len;
    b->sn = (uint8_t)n;
    return 0;
}

/* The second level of the prefix array (see struct block): for every run
 * of at least 4 restart points with equal pfx whose keys share more than
 * c bytes. 0, or LSM_ECORRUPT. */
static int build_pfx2(struct block *b, struct block_iter *it, size_t suffix_len)
{
    uint32_t n = b->nrestarts, c = b->pfx_common_len, a, z, i;
    struct slice first, k;

    for (a = 0; a < n; a = z) {
        size_t c2;
        for (z = a + 1; z < n && b->pfx[z] == b->pfx[a]; z++)
            ;
        if (z - a < 4)
            continue;
        if (shared_prefix(it, a, z - 1, suffix_len, SIZE_MAX, &first, &c2) < 0)
            return LSM_ECORRUPT;
        if (c2 <= c)
            continue;
        if (b->pfx2 == NULL) {
            b->pfx2 = zmalloc(sizeof(*b->pfx2) * n);
            b->pfx2_len = zcalloc(sizeof(*b->pfx2_len) * n);
        }
        for (i = a; i < z; i++) {
            if (restart_key(it, i, &k) < 0)
                return LSM_ECORRUPT;
            k.len -= suffix_len;
            /* Sorted keys between first and last share their c2 bytes. */
            if (k.len < c2 || memcmp(k.data, first.data, c2) != 0)
                return LSM_ECORRUPT;
            b->pfx2[i] = load_prefix(k.data + c2, k.len - c2);
            b->pfx2_len[i] = (uint32_t)c2;
            if (i > a && b->pfx2[i] < b->pfx2[i - 1])
                return LSM_ECORRUPT;
        }
    }
    return 0;
}

int block_build_prefix_index(struct block *b, block_cmp_fn cmp, size_t suffix_len)
{
    struct block_iter it;
    struct slice first, k;
    uint64_t *pfx;
    uint32_t i, n = b->nrestarts;
    size_t c;

    if (b->pfx != NULL || b->sn != 0 || n < 2 || b->restart_offset == 0 ||
        (n > BLOCK_INLINE_RESTARTS && n < 16))
        return 0;
    memset(&it, 0, sizeof it);
    it.data = b->data;
    it.restart_offset = b->restart_offset;
    it.nrestarts = n;
    if (n <= BLOCK_INLINE_RESTARTS)
        return build_small(b, &it, cmp, suffix_len);
    if (shared_prefix(&it, 0, n - 1, suffix_len, UINT32_MAX, &first, &c) < 0)
        return LSM_ECORRUPT;
    pfx = zmalloc(sizeof(*pfx) * n);
    for (i = 0; i < n; i++) {
        if (restart_key(&it, i, &k) < 0 || k.len < suffix_len + c ||
            memcmp(k.data, first.data, c) != 0 ||
            (i > 0 && load_prefix(k.data + c, k.len - suffix_len - c) < pfx[i - 1])) {
            zfree(pfx);
            return LSM_ECORRUPT;                /* unsorted or malformed */
        }
        pfx[i] = load_prefix(k.data + c, k.len - suffix_len - c);
    }
    b->pfx = pfx;
    b->pfx_cmp = cmp;
    b->pfx_common = first.data;
    b->pfx_common_len = (uint32_t)c;
    b->pfx_suffix = (uint32_t)suffix_len;
    if (build_pfx2(b, &it, suffix_len) < 0) {
        zfree(b->pfx);
        zfree(b->pfx2);
        zfree(b->pfx2_len);
        b->pfx = NULL;
        b->pfx2 = NULL;
        b->pfx2_len = NULL;
        return LSM_ECORRUPT;
    }
    return 0;
}

/* The entries of restart interval i are scanned next: ask for their cache
 * lines at once (a block from the cache is usually cold in the CPU cache;
 * the scan would otherwise wait for one line after the other). */
static inline void prefetch_interval(const struct block_iter *it, uint32_t i)
{
    uint32_t off = restart_point(it, i), end, n;
    end = i + 1 < it->nrestarts ? restart_point(it, i + 1) : it->restart_offset;
    if (end > it->restart_offset)
        end = it->restart_offset;
    for (n = 0; off < end && n < 32; off += 64, n++)
        __builtin_prefetch(it->data + off);
}

static void bi_seek(struct iter *base, struct slice target)
{
    struct block_iter *it = (struct block_iter *)base;
    uint32_t left = 0, right = it->nrestarts - 1;
    struct slice k;
    if (it->status)
        return;
    if (it->restart_offset == 0) {             /* empty block */
        it->current = it->next_off = 0;
        return;
    }
    if (it->blk != NULL && it->cmp == it->blk->pfx_cmp)
        pfx_narrow(it, target, &left, &right);
    /* last restart point whose key is < target */
    while (left < right) {
        uint32_t mid = left + (right - left + 1) / 2;
        if (restart_key(it, mid, &k) < 0) {
            mark_corrupt(it);
            return;
        }
        if (it->cmp(k, target) < 0)
            left = mid;
        else
            right = mid - 1;
    }
    if (seek_to_restart(it, left) < 0)
        return;
    prefetch_interval(it, left);
    while (parse_next(it)) {
        if (it->cmp(buf_slice(&it->key), target) >= 0)
            return;
    }
}

static void bi_seek_for_prev(struct iter *base, struct slice target)
{
    bi_seek(base, target);
    if (((struct block_iter *)base)->status)
        return;
    if (!bi_valid(base))
        bi_seek_to_last(base);
    else if (((struct block_iter *)base)->cmp(bi_key(base), target) > 0)
        bi_prev(base);
}

static void bi_destroy(struct iter *base)
{
    struct block_iter *it = (struct block_iter *)base;
    buf_free(&it->key);
    if (it->release)
        it->release(it->release_arg);
    zfree(it);
}

static const struct iter_ops block_iter_ops = {
    .valid = bi_valid,
    .seek_to_first = bi_seek_to_first,
    .seek_to_last = bi_seek_to_last,
    .seek = bi_seek,
    .seek_for_prev = bi_seek_for_prev,
    .next = bi_next,
    .prev = bi_prev,
    .key = bi_key,
    .value = bi_value,
    .status = bi_status,
    .destroy = bi_destroy,
};

struct iter *block_iter_create(const struct block *b, block_cmp_fn cmp,
                               void (*release)(void *arg), void *arg)
{
    struct block_iter *it = zcalloc(sizeof(*it));
    it->base.ops = &block_iter_ops;
    it->data = b->data;
    it->restart_offset = b->restart_offset;
    it->nrestarts = b->nrestarts;
    it->cmp = cmp;
    it->blk = b;
    it->sroff = b->sn ? b->sroff : NULL;
    it->current = it->next_off = b->restart_offset;
    it->restart_index = b->nrestarts;
    buf_init(&it->key);
    it->release = release;
    it->release_arg = arg;
    return &it->base;
}

int block_seek_once(const struct block *b, block_cmp_fn cmp, struct slice target,
                    struct buf *key, struct slice *value)
{
    struct block_iter it;
    int rc;
    memset(&it, 0, sizeof(it));
    it.base.ops = &block_iter_ops;
    it.data = b->data;
    it.restart_offset = b->restart_offset;
    it.nrestarts = b->nrestarts;
    it.cmp = cmp;
    it.blk = b;
    it.sroff = b->sn ? b->sroff : NULL;
    it.current = it.next_off = b->restart_offset;
    it.restart_index = b->nrestarts;
    buf_clear(key);
    it.key = *key;                   /* borrow the caller's buffer */
    bi_seek(&it.base, target);
    if (it.status)
        rc = it.status;
    else if (bi_valid(&it.base)) {
        *value = it.value;
        rc = 1;
    } else {
        rc = 0;
    }
    *key = it.key;
    return rc;
}
