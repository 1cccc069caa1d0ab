/* test_memtable: versions and snapshot visibility, iteration, refcounts. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/batch.h"
#include "engine/dbformat.h"
#include "engine/iter.h"
#include "engine/lsm.h"
#include "engine/memtable.h"

static int get(struct memtable *mt, const char *key, uint64_t snap, struct buf *v,
               int *type)
{
    buf_clear(v);
    return memtable_get(mt, slice_cstr(key), snap, type, v, NULL);
}

START_TEST(test_empty)
{
    struct memtable *mt = memtable_create();
    struct buf v = BUF_INIT;
    struct iter *it;

    ck_assert_int_eq(get(mt, "a", LSM_MAX_SEQ, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_uint_eq(memtable_entries(mt), 0);
    it = memtable_iter_create(mt);
    iter_seek_to_first(it);
    ck_assert(!iter_valid(it));
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);
    memtable_unref(mt);
    buf_free(&v);
}
END_TEST

/* Keys wait for a link; once a reader has scanned the memtable,
 * memtable_link_due asks for one once enough wait (4096, and an eighth of
 * those linked), once per link; the link orders them all, and overwrites
 * never count. Before any scan (or after a scan of the empty memtable) it
 * never asks: the flush links them all at once. */
START_TEST(test_link_due)
{
    struct memtable *mt = memtable_create();
    char k[32];
    int i, asked = 0;
    uint64_t seq = 1;
    struct iter *it;
    size_t n = 0;

    memtable_note_scan(mt);                         /* empty: no hint */
    for (i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "j%06d", (i * 7919) % 100000);
        ck_assert_int_eq(memtable_add(mt, seq++, LSM_TYPE_VALUE, slice_cstr(k), slice_cstr("v")), 0);
        ck_assert(!memtable_link_due(mt));
    }
    memtable_link(mt);
    ck_assert(!memtable_link_due(mt));
    memtable_note_scan(mt);                         /* a scan: links are due from now on */
    for (i = 0; i < 4095; i++) {
        snprintf(k, sizeof(k), "k%06d", (i * 7919) % 100000);
        ck_assert_int_eq(memtable_add(mt, seq++, LSM_TYPE_VALUE, slice_cstr(k), slice_cstr("v")), 0);
        ck_assert(!memtable_link_due(mt));
    }
    /* overwrites of waiting keys are no new keys */
    ck_assert_int_eq(memtable_add(mt, seq++, LSM_TYPE_VALUE, slice_cstr("k000000"), slice_cstr("w")), 0);
    ck_assert(!memtable_link_due(mt));
    snprintf(k, sizeof(k), "k%06d", 99999);
    ck_assert_int_eq(memtable_add(mt, seq++, LSM_TYPE_VALUE, slice_cstr(k), slice_cstr("v")), 0);
    ck_assert(memtable_link_due(mt));               /* 4096 waiting */
    ck_assert(!memtable_link_due(mt));              /* said once */
    memtable_link(mt);
    ck_assert(!memtable_link_due(mt));              /* none waiting */
    /* 4096 linked: the next 4096 new keys are due again (>= linked / 8) */
    for (i = 0; i < 4096; i++) {
        snprintf(k, sizeof(k), "m%06d", (i * 7919) % 100000);
        ck_assert_int_eq(memtable_add(mt, seq++, LSM_TYPE_VALUE, slice_cstr(k), slice_cstr("v")), 0);
        asked += memtable_link_due(mt);
    }
    ck_assert_int_eq(asked, 1);
    it = memtable_iter_create(mt);                  /* links the rest itself */
    char prev[32] = "";
    for (iter_seek_to_first(it); iter_valid(it); iter_next(it)) {
        struct slice uk = ikey_user_key(iter_key(it));
        ck_assert_uint_lt(uk.len, sizeof(prev));
        memcpy(k, uk.data, uk.len);
        k[uk.len] = '\0';
        if (strcmp(k, prev) != 0) {
            ck_assert_int_gt(strcmp(k, prev), 0);
            strcpy(prev, k);
            n++;
        }
    }
    ck_assert_uint_eq(n, 5000 + 4096 + 4096);
    ck_assert(!memtable_link_due(mt));
    iter_destroy(it);
    memtable_unref(mt);
}
END_TEST

START_TEST(test_versions_and_snapshots)
{
    struct memtable *mt = memtable_create();
    struct buf v = BUF_INIT;
    uint64_t seq = 0;
    int type = -1;

    ck_assert_int_eq(memtable_add(mt, 10, LSM_TYPE_VALUE, slice_cstr("k"), slice_cstr("v10")), 0);
    ck_assert_int_eq(memtable_add(mt, 20, LSM_TYPE_VALUE, slice_cstr("k"), slice_cstr("v20")), 0);
    ck_assert_int_eq(memtable_add(mt, 30, LSM_TYPE_DELETION, slice_cstr("k"), slice_cstr("ignored")), 0);
    ck_assert_int_eq(memtable_add(mt, 40, LSM_TYPE_VALUE, slice_cstr("k"), slice_cstr("v40")), 0);
    ck_assert_int_eq(memtable_add(mt, 15, LSM_TYPE_VALUE, slice_cstr("k2"), slice_cstr("other")), 0);
    /* Prefix and extension of the key do not leak into its lookups. */
    ck_assert_int_eq(memtable_add(mt, 50, LSM_TYPE_VALUE, slice_cstr(""), slice_cstr("empty")), 0);
    ck_assert_int_eq(memtable_add(mt, 51, LSM_TYPE_VALUE, slice_cstr("kk"), slice_cstr("kk")), 0);

    /* The same (key, seq, type) twice is refused. */
    ck_assert_int_eq(memtable_add(mt, 20, LSM_TYPE_VALUE, slice_cstr("k"), slice_cstr("dup")),
                     LSM_EEXIST);

    /* Newest version wins. */
    ck_assert_int_eq(get(mt, "k", LSM_MAX_SEQ, &v, &type), MEMTABLE_FOUND);
    ck_assert_int_eq(type, LSM_TYPE_VALUE);
    ck_assert_str_eq(buf_cstr(&v), "v40");
    /* Snapshot 39 sees the deletion at 30. */
    ck_assert_int_eq(get(mt, "k", 39, &v, &type), MEMTABLE_DELETED);
    ck_assert_int_eq(type, LSM_TYPE_DELETION);
    ck_assert_int_eq(get(mt, "k", 30, &v, NULL), MEMTABLE_DELETED);
    /* Snapshot seq hides newer writes. */
    ck_assert_int_eq(get(mt, "k", 29, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "v20");
    ck_assert_int_eq(get(mt, "k", 20, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "v20");
    ck_assert_int_eq(get(mt, "k", 19, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "v10");
    ck_assert_int_eq(memtable_get(mt, slice_cstr("k"), 10, NULL, &v, &seq), MEMTABLE_FOUND);
    ck_assert_uint_eq(seq, 10);
    ck_assert_int_eq(get(mt, "k", 9, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_int_eq(get(mt, "k2", 14, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_int_eq(get(mt, "k2", 15, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "other");
    ck_assert_int_eq(get(mt, "", LSM_MAX_SEQ, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "empty");
    ck_assert_int_eq(get(mt, "kk", LSM_MAX_SEQ, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "kk");
    ck_assert_int_eq(get(mt, "j", LSM_MAX_SEQ, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_int_eq(get(mt, "kkk", LSM_MAX_SEQ, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_uint_eq(memtable_entries(mt), 7);
    memtable_unref(mt);
    buf_free(&v);
}
END_TEST

START_TEST(test_vptr_and_long_keys)
{
    struct memtable *mt = memtable_create();
    struct buf v = BUF_INIT;
    char key[300], val[70000];
    int type = -1;

    memset(key, 'q', sizeof(key));
    for (size_t i = 0; i < sizeof(val); i++)
        val[i] = (char)(i * 31);
    ck_assert_int_eq(memtable_add(mt, 5, LSM_TYPE_VPTR, slice_cstr("big"), slice_make("\1\2\3\0\5", 5)), 0);
    ck_assert_int_eq(memtable_add(mt, 6, LSM_TYPE_VALUE, slice_make(key, sizeof(key)),
                                  slice_make(val, sizeof(val))), 0);
    ck_assert_int_eq(get(mt, "big", LSM_MAX_SEQ, &v, &type), MEMTABLE_FOUND);
    ck_assert_int_eq(type, LSM_TYPE_VPTR);
    ck_assert_uint_eq(v.len, 5);
    ck_assert(memcmp(v.data, "\1\2\3\0\5", 5) == 0);
    buf_clear(&v);
    ck_assert_int_eq(memtable_get(mt, slice_make(key, sizeof(key)), 6, &type, &v, NULL),
                     MEMTABLE_FOUND);
    ck_assert_uint_eq(v.len, sizeof(val));
    ck_assert(memcmp(v.data, val, sizeof(val)) == 0);
    ck_assert_uint_ge(memtable_approximate_memory_usage(mt), sizeof(val) + sizeof(key));
    memtable_unref(mt);
    buf_free(&v);
}
END_TEST

START_TEST(test_iterator_order)
{
    struct memtable *mt = memtable_create();
    struct iter *it;
    struct ikey_parsed pk;
    struct buf target = BUF_INIT;
    /* Expected order: user key ascending, sequence descending. */
    static const struct { const char *k; uint64_t seq; int type; const char *v; } exp[] = {
        { "a", 9, LSM_TYPE_VALUE, "a9" },
        { "a", 3, LSM_TYPE_DELETION, "" },
        { "a", 1, LSM_TYPE_VALUE, "a1" },
        { "b", 7, LSM_TYPE_VPTR, "ptr" },
        { "c", 8, LSM_TYPE_VALUE, "c8" },
        { "c", 2, LSM_TYPE_VALUE, "c2" },
    };
    static const int add_order[] = { 4, 1, 5, 0, 3, 2 };
    size_t n = sizeof(exp) / sizeof(exp[0]), i;

    for (i = 0; i < n; i++) {
        int j = add_order[i];
        ck_assert_int_eq(memtable_add(mt, exp[j].seq, exp[j].type, slice_cstr(exp[j].k),
                                      slice_cstr(exp[j].v)), 0);
    }
    it = memtable_iter_create(mt);
    /* The iterator holds its own reference: dropping ours keeps it alive. */
    memtable_unref(mt);
    for (iter_seek_to_first(it), i = 0; iter_valid(it); iter_next(it), i++) {
        ck_assert_uint_lt(i, n);
        ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
        ck_assert(slice_equal(pk.user_key, slice_cstr(exp[i].k)));
        ck_assert_uint_eq(pk.seq, exp[i].seq);
        ck_assert_int_eq(pk.type, exp[i].type);
        ck_assert(slice_equal(iter_value(it), slice_cstr(exp[i].v)));
    }
    ck_assert_uint_eq(i, n);
    for (iter_seek_to_last(it), i = n; iter_valid(it); iter_prev(it)) {
        i--;
        ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
        ck_assert_uint_eq(pk.seq, exp[i].seq);
    }
    ck_assert_uint_eq(i, 0);

    /* Seek to (c, snapshot 5) lands on c@2; seek_for_prev to (a, 2) on a@3. */
    ikey_append(&target, slice_cstr("c"), 5, LSM_TYPE_SEEK);
    iter_seek(it, buf_slice(&target));
    ck_assert(iter_valid(it));
    ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
    ck_assert_uint_eq(pk.seq, 2);
    buf_clear(&target);
    ikey_append(&target, slice_cstr("a"), 2, LSM_TYPE_SEEK);
    iter_seek_for_prev(it, buf_slice(&target));
    ck_assert(iter_valid(it));
    ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
    ck_assert_uint_eq(pk.seq, 3);
    buf_clear(&target);
    ikey_append(&target, slice_cstr("d"), LSM_MAX_SEQ, LSM_TYPE_SEEK);
    iter_seek(it, buf_slice(&target));
    ck_assert(!iter_valid(it));
    ck_assert_int_eq(iter_status(it), 0);
    iter_destroy(it);                /* frees the memtable (ASan checks) */
    buf_free(&target);
}
END_TEST

START_TEST(test_add_batch)
{
    struct memtable *mt = memtable_create();
    struct lsm_batch *b = lsm_batch_create();
    struct buf v = BUF_INIT;

    lsm_batch_put(b, "x", 1, "1", 1);
    lsm_batch_put(b, "x", 1, "2", 1);   /* later in the batch wins */
    lsm_batch_delete(b, "y", 1);
    batch_put_vptr(b, slice_cstr("z"), slice_cstr("P"));
    batch_set_sequence(b, 100);
    ck_assert_int_eq(memtable_add_batch(mt, b), 0);
    ck_assert_uint_eq(memtable_entries(mt), 4);
    ck_assert_int_eq(get(mt, "x", LSM_MAX_SEQ, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "2");
    ck_assert_int_eq(get(mt, "x", 100, &v, NULL), MEMTABLE_FOUND);
    ck_assert_str_eq(buf_cstr(&v), "1");
    ck_assert_int_eq(get(mt, "y", 102, &v, NULL), MEMTABLE_DELETED);
    ck_assert_int_eq(get(mt, "y", 101, &v, NULL), MEMTABLE_NOT_FOUND);
    ck_assert_int_eq(get(mt, "z", 103, &v, NULL), MEMTABLE_FOUND);
    memtable_unref(mt);
    lsm_batch_destroy(b);
    buf_free(&v);
}
END_TEST

START_TEST(test_random_model)
{
    /* Random versions of few keys against a brute-force model. */
    enum { OPS = 3000, KEYS = 20 };
    const char *env = getenv("SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 77u;
    struct memtable *mt = memtable_create();
    static int mtype[OPS + 1], mkey[OPS + 1];
    struct buf v = BUF_INIT;
    char key[16], val[32];

    printf("# test_random_model SEED=%u\n", seed);
    srand(seed);
    for (int s = 1; s <= OPS; s++) {
        mkey[s] = rand() % KEYS;
        mtype[s] = rand() % 4 == 0 ? LSM_TYPE_DELETION : LSM_TYPE_VALUE;
        snprintf(key, sizeof(key), "key%d", mkey[s]);
        snprintf(val, sizeof(val), "val%d", s);
        ck_assert_int_eq(memtable_add(mt, (uint64_t)s, mtype[s], slice_cstr(key), slice_cstr(val)), 0);
    }
    for (int q = 0; q < 5000; q++) {
        int k = rand() % KEYS, snap = rand() % (OPS + 1), newest = 0, rc;
        for (int s = snap; s >= 1; s--)
            if (mkey[s] == k) { newest = s; break; }
        snprintf(key, sizeof(key), "key%d", k);
        rc = get(mt, key, (uint64_t)snap, &v, NULL);
        if (newest == 0) {
            ck_assert_int_eq(rc, MEMTABLE_NOT_FOUND);
        } else if (mtype[newest] == LSM_TYPE_DELETION) {
            ck_assert_int_eq(rc, MEMTABLE_DELETED);
        } else {
            ck_assert_int_eq(rc, MEMTABLE_FOUND);
            snprintf(val, sizeof(val), "val%d", newest);
            ck_assert_str_eq(buf_cstr(&v), val);
        }
    }
    memtable_unref(mt);
    buf_free(&v);
}
END_TEST

START_TEST(test_refcount)
{
    struct memtable *mt = memtable_create();

    memtable_ref(mt);
    memtable_add(mt, 1, LSM_TYPE_VALUE, slice_cstr("a"), slice_cstr("b"));
    memtable_unref(mt);
    ck_assert_uint_eq(memtable_entries(mt), 1);   /* still alive */
    memtable_unref(mt);                           /* freed (ASan/leak check) */
    memtable_unref(NULL);
}
END_TEST

/* One writer adding versions, readers doing gets and scans at the same time:
 * a reader sees, for each key, a version no older than what was published
 * before its get, with the value that belongs to that sequence. */
enum { CW = 20000, CKEYS = 64 };

struct conc {
    struct memtable *mt;
    uint64_t entries;                /* the writer adds sequences 1..entries */
    void (*key)(char *out, size_t n, uint64_t s);   /* the key of sequence s */
    _Atomic uint64_t published;      /* sequences 1..published are in */
    atomic_int done;
    atomic_int failures;
};

/* The writer: sequence s is key c->key(s) = "v<s>", published in order. */
static void *seq_writer(void *arg)
{
    struct conc *c = arg;
    char key[16], val[32];

    for (uint64_t s = 1; s <= c->entries; s++) {
        c->key(key, sizeof(key), s);
        snprintf(val, sizeof(val), "v%llu", (unsigned long long)s);
        memtable_add(c->mt, s, LSM_TYPE_VALUE, slice_cstr(key), slice_cstr(val));
        atomic_store_explicit(&c->published, s, memory_order_release);
    }
    atomic_store(&c->done, 1);
    return NULL;
}

static void conc_key(char *out, size_t n, uint64_t s)
{
    snprintf(out, n, "key%02d", (int)(s % CKEYS));
}

static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    struct buf v = BUF_INIT;
    char key[16], want[32];
    unsigned r = 99;

    while (!atomic_load(&c->done)) {
        uint64_t pub = atomic_load_explicit(&c->published, memory_order_acquire), seq = 0;
        int k, rc;
        struct iter *it;
        size_t n = 0;

        r = r * 1103515245u + 12345u;
        k = (int)((r >> 8) % CKEYS);
        conc_key(key, sizeof(key), (uint64_t)k);
        memtable_ref(c->mt);            /* a reader holds its own reference */
        rc = memtable_get(c->mt, slice_cstr(key), LSM_MAX_SEQ, NULL, &v, &seq);
        memtable_unref(c->mt);
        /* Newest published version of key k: largest s <= pub, s % CKEYS == k. */
        uint64_t newest = pub >= (uint64_t)k ? pub - ((pub - (uint64_t)k) % CKEYS) : 0;
        if (newest > 0 && (rc != MEMTABLE_FOUND || seq < newest))
            atomic_fetch_add(&c->failures, 1);
        if (rc == MEMTABLE_FOUND) {
            snprintf(want, sizeof(want), "v%llu", (unsigned long long)seq);
            if (strcmp(buf_cstr(&v), want) != 0 || seq % CKEYS != (uint64_t)k)
                atomic_fetch_add(&c->failures, 1);
        }
        if ((r >> 4) % 64 == 0) {
            /* A scan is ordered and holds at least what was published. */
            struct buf prev = BUF_INIT;
            it = memtable_iter_create(c->mt);
            for (iter_seek_to_first(it); iter_valid(it); iter_next(it), n++) {
                if (prev.len && ikey_compare(buf_slice(&prev), iter_key(it)) >= 0)
                    atomic_fetch_add(&c->failures, 1);
                buf_set(&prev, iter_key(it).data, iter_key(it).len);
            }
            if (n < pub)
                atomic_fetch_add(&c->failures, 1);
            iter_destroy(it);
            buf_free(&prev);
        }
        (void)memtable_approximate_memory_usage(c->mt);
    }
    buf_free(&v);
    return NULL;
}

/* seq_writer with key and two readers on a new memtable; the readers must
 * report no failure and the memtable ends with `entries` entries. */
static void run_writer_and_readers(void (*key)(char *, size_t, uint64_t),
                                   void *(*reader)(void *), uint64_t entries)
{
    struct conc c;
    pthread_t w, rd[2];

    memset(&c, 0, sizeof(c));
    c.mt = memtable_create();
    c.entries = entries;
    c.key = key;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&rd[i], NULL, reader, &c), 0);
    ck_assert_int_eq(pthread_create(&w, NULL, seq_writer, &c), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(rd[i], NULL);
    ck_assert_int_eq(atomic_load(&c.failures), 0);
    ck_assert_uint_eq(memtable_entries(c.mt), entries);
    memtable_unref(c.mt);
}

START_TEST(test_concurrent_readers)
{
    run_writer_and_readers(conc_key, conc_reader, CW);
}
END_TEST

/* Version chains and the hash index against a sorted model: many keys
 * (the hash index grows several times), many versions per key added in a
 * random sequence order (out-of-order versions go inside a chain), then full
 * scans both ways, random seeks / seek_for_prev / prev steps, and snapshot
 * gets that must see old versions. */
enum { CH_KEYS = 3000, CH_OPS = 12000 };

struct ch_ent {
    int key;
    uint64_t seq;
    int type;
};

static int ch_cmp(const void *a, const void *b)
{
    const struct ch_ent *x = a, *y = b;
    char kx[16], ky[16];
    int c;

    snprintf(kx, sizeof(kx), "k%05d", x->key);
    snprintf(ky, sizeof(ky), "k%05d", y->key);
    c = strcmp(kx, ky);
    if (c != 0)
        return c;
    if (x->seq != y->seq)
        return x->seq > y->seq ? -1 : 1;
    return y->type - x->type;
}

static void ch_ikey(struct buf *b, const struct ch_ent *e)
{
    char k[16];

    snprintf(k, sizeof(k), "k%05d", e->key);
    buf_clear(b);
    ikey_append(b, slice_cstr(k), e->seq, e->type);
}

START_TEST(test_chains_model)
{
    const char *env = getenv("SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 4242u;
    static struct ch_ent ent[CH_OPS], sorted[CH_OPS];
    struct memtable *mt = memtable_create();
    struct buf want = BUF_INIT, tgt = BUF_INIT, v = BUF_INIT;
    struct iter *it;
    uint64_t perm[CH_OPS];
    size_t i, j;
    char k[16], val[32];

    printf("# test_chains_model SEED=%u\n", seed);
    srand(seed);
    /* Sequences 1..CH_OPS, shuffled: each a version of a random key, half
     * of them on 30 hot keys (long chains). */
    for (i = 0; i < CH_OPS; i++)
        perm[i] = i + 1;
    for (i = CH_OPS - 1; i > 0; i--) {
        uint64_t t;
        j = (size_t)rand() % (i + 1);
        t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    for (i = 0; i < CH_OPS; i++) {
        ent[i].key = rand() % 2 ? rand() % 30 : rand() % CH_KEYS;
        ent[i].seq = perm[i];
        ent[i].type = rand() % 5 == 0 ? LSM_TYPE_DELETION : LSM_TYPE_VALUE;
        snprintf(k, sizeof(k), "k%05d", ent[i].key);
        snprintf(val, sizeof(val), "v%llu", (unsigned long long)ent[i].seq);
        ck_assert_int_eq(memtable_add(mt, ent[i].seq, ent[i].type, slice_cstr(k),
                                      slice_cstr(val)), 0);
        /* The same version again is refused, wherever it is in its chain. */
        if (i % 97 == 0)
            ck_assert_int_eq(memtable_add(mt, ent[i].seq, ent[i].type, slice_cstr(k),
                                          slice_cstr(val)), LSM_EEXIST);
    }
    ck_assert_uint_eq(memtable_entries(mt), CH_OPS);
    memcpy(sorted, ent, sizeof(ent));
    qsort(sorted, CH_OPS, sizeof(sorted[0]), ch_cmp);

    it = memtable_iter_create(mt);
    for (iter_seek_to_first(it), i = 0; iter_valid(it); iter_next(it), i++) {
        ck_assert_uint_lt(i, CH_OPS);
        ch_ikey(&want, &sorted[i]);
        ck_assert(slice_equal(iter_key(it), buf_slice(&want)));
    }
    ck_assert_uint_eq(i, CH_OPS);
    for (iter_seek_to_last(it), i = CH_OPS; iter_valid(it); iter_prev(it)) {
        ck_assert_uint_gt(i, 0);
        i--;
        ch_ikey(&want, &sorted[i]);
        ck_assert(slice_equal(iter_key(it), buf_slice(&want)));
    }
    ck_assert_uint_eq(i, 0);

    for (int q = 0; q < 3000; q++) {
        struct ch_ent t = { rand() % 2 ? rand() % 30 : rand() % (CH_KEYS + 1),
                            (uint64_t)(rand() % (CH_OPS + 2)), LSM_TYPE_SEEK };
        size_t lo = 0, hi = CH_OPS;
        int newest = -1;

        /* Model: first entry >= t. */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (ch_cmp(&sorted[mid], &t) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        ch_ikey(&tgt, &t);
        iter_seek(it, buf_slice(&tgt));
        if (lo == CH_OPS) {
            ck_assert(!iter_valid(it));
        } else {
            ck_assert(iter_valid(it));
            ch_ikey(&want, &sorted[lo]);
            ck_assert(slice_equal(iter_key(it), buf_slice(&want)));
            if (lo > 0) {
                iter_prev(it);
                ck_assert(iter_valid(it));
                ch_ikey(&want, &sorted[lo - 1]);
                ck_assert(slice_equal(iter_key(it), buf_slice(&want)));
            }
        }
        /* Last entry <= t (t's type is the highest: no entry equals it). */
        iter_seek_for_prev(it, buf_slice(&tgt));
        if (lo == 0) {
            ck_assert(!iter_valid(it));
        } else {
            ck_assert(iter_valid(it));
            ch_ikey(&want, &sorted[lo - 1]);
            ck_assert(slice_equal(iter_key(it), buf_slice(&want)));
        }
        /* A snapshot get sees the newest version <= its sequence. */
        for (i = lo; i < CH_OPS && sorted[i].key == t.key; i++) {
            newest = (int)i;
            break;
        }
        snprintf(k, sizeof(k), "k%05d", t.key);
        {
            uint64_t seq = 0;
            int type = -1;
            int rc = memtable_get(mt, slice_cstr(k), t.seq, &type, &v, &seq);
            if (newest < 0) {
                ck_assert_int_eq(rc, MEMTABLE_NOT_FOUND);
            } else if (sorted[newest].type == LSM_TYPE_DELETION) {
                ck_assert_int_eq(rc, MEMTABLE_DELETED);
                ck_assert_uint_eq(seq, sorted[newest].seq);
            } else {
                ck_assert_int_eq(rc, MEMTABLE_FOUND);
                ck_assert_uint_eq(seq, sorted[newest].seq);
                snprintf(val, sizeof(val), "v%llu", (unsigned long long)seq);
                ck_assert_str_eq(buf_cstr(&v), val);
            }
        }
    }
    iter_destroy(it);
    memtable_unref(mt);
    buf_free(&want);
    buf_free(&tgt);
    buf_free(&v);
}
END_TEST

/* A counter-like key with a version per write: a reverse scan through
 * all of them is one step each (a one-way chain walked from its head per
 * step would be quadratic: ~2e10 steps here, far past the timeout). */
START_TEST(test_long_chain_reverse)
{
    enum { V = 200000 };
    struct memtable *mt = memtable_create();
    struct iter *it;
    struct ikey_parsed pk;
    char val[16];
    uint64_t n = 0, want = V;

    memtable_add(mt, V + 1, LSM_TYPE_VALUE, slice_cstr("a"), slice_cstr("a"));
    for (uint64_t s = 1; s <= V; s++) {
        snprintf(val, sizeof(val), "%llu", (unsigned long long)s);
        ck_assert_int_eq(memtable_add(mt, s, LSM_TYPE_VALUE, slice_cstr("counter"),
                                      slice_cstr(val)), 0);
    }
    memtable_add(mt, V + 2, LSM_TYPE_VALUE, slice_cstr("z"), slice_cstr("z"));
    it = memtable_iter_create(mt);
    iter_seek_to_last(it);
    ck_assert(iter_valid(it));
    ck_assert(slice_equal(ikey_user_key(iter_key(it)), slice_cstr("z")));
    for (iter_prev(it); iter_valid(it); iter_prev(it)) {
        ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
        if (slice_equal(pk.user_key, slice_cstr("a")))
            break;
        /* Oldest first going backwards: 1, 2, ... V. */
        ck_assert_uint_eq(pk.seq, n + 1);
        n++;
    }
    ck_assert_uint_eq(n, want);
    ck_assert(iter_valid(it));
    /* Forward again from the middle of the chain, then back. */
    {
        struct buf t = BUF_INIT;
        ikey_append(&t, slice_cstr("counter"), V / 2, LSM_TYPE_SEEK);
        iter_seek(it, buf_slice(&t));
        ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
        ck_assert_uint_eq(pk.seq, V / 2);
        iter_next(it);
        iter_prev(it);
        iter_prev(it);
        ck_assert_int_eq(ikey_parse(iter_key(it), &pk), 0);
        ck_assert_uint_eq(pk.seq, V / 2 + 1);
        buf_free(&t);
    }
    iter_destroy(it);
    memtable_unref(mt);
}
END_TEST

/* Readers during writes that add new keys (the hash index grows under the
 * readers) and overwrite old ones: every published version is found, and
 * a scan started at any moment is in order. */
enum { GW = 60000, GKEYS = 20000 };

static void grow_key(char *out, size_t n, uint64_t s)
{
    snprintf(out, n, "g%06llu", (unsigned long long)(s % GKEYS));
}

static void *grow_reader(void *arg)
{
    struct conc *c = arg;
    struct buf v = BUF_INIT, prev = BUF_INIT;
    char key[16], want[32];
    unsigned r = 7;
    int scans = 0;

    while (!atomic_load(&c->done)) {
        uint64_t pub = atomic_load_explicit(&c->published, memory_order_acquire), seq = 0, s;
        int rc;

        if (pub == 0)
            continue;
        r = r * 1103515245u + 12345u;
        s = 1 + (uint64_t)(r >> 4) % pub;       /* a published sequence */
        grow_key(key, sizeof(key), s);
        /* Snapshot s sees exactly version s of its key. A reference per
         * get: the writer frees old hash tables between them. */
        memtable_ref(c->mt);
        rc = memtable_get(c->mt, slice_cstr(key), s, NULL, &v, &seq);
        memtable_unref(c->mt);
        snprintf(want, sizeof(want), "v%llu", (unsigned long long)s);
        if (rc != MEMTABLE_FOUND || seq != s || strcmp(buf_cstr(&v), want) != 0)
            atomic_fetch_add(&c->failures, 1);
        if ((r >> 6) % 512 == 0 && scans < 20) {
            struct iter *it = memtable_iter_create(c->mt);
            size_t n = 0;
            scans++;
            buf_clear(&prev);
            for (iter_seek_to_first(it); iter_valid(it); iter_next(it), n++) {
                if (prev.len && ikey_compare(buf_slice(&prev), iter_key(it)) >= 0)
                    atomic_fetch_add(&c->failures, 1);
                buf_set(&prev, iter_key(it).data, iter_key(it).len);
            }
            if (n < pub)
                atomic_fetch_add(&c->failures, 1);
            iter_destroy(it);
        }
    }
    buf_free(&v);
    buf_free(&prev);
    return NULL;
}

START_TEST(test_concurrent_growth)
{
    run_writer_and_readers(grow_key, grow_reader, GW);
}
END_TEST

static Suite *memtable_suite(void)
{
    Suite *s = suite_create("memtable");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_link_due);
    tcase_add_test(tc, test_versions_and_snapshots);
    tcase_add_test(tc, test_vptr_and_long_keys);
    tcase_add_test(tc, test_iterator_order);
    tcase_add_test(tc, test_add_batch);
    tcase_add_test(tc, test_random_model);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_concurrent_readers);
    tcase_add_test(tc, test_chains_model);
    tcase_add_test(tc, test_long_chain_reverse);
    tcase_add_test(tc, test_concurrent_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(memtable_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
