/* test_keyspace: the keyspace layer (server/keyspace.h) over a real engine:
 * the stored encoding, transactions (read-your-writes, nesting, rollback),
 * exact counters through every kind of change and across reopen, the TTL
 * index invariant under a random workload, lazy and active expiry, O(1)
 * FLUSHDB/SWAPDB with background reclaim, iterators merged with the
 * transaction, persistent SCAN cursors, the touch hook, INFO sections,
 * blind SETs counted later (ks_overwrite, ks_defer.h) and the recount
 * after a crash that left some of them uncounted. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "server/keyspace.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/log.h"

static char dir[] = "/tmp/lsmdb-test-ks-XXXXXX";
static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

/* The tests' options: small memtables and cache, files through env (NULL:
 * the real file system). */
static void test_options(struct ks_options *o, struct io_env *env)
{
    ks_options_init(o);
    o->write_buffer_size = 256 << 10;
    o->block_cache_size = 1 << 20;
    o->bg_threads = 2;
    o->env = env;
}

static void ks_open_ok(int reclaim)
{
    struct ks_options o;
    char err[256];
    test_options(&o, NULL);
    o.reclaim = reclaim;
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
}

static void setup(void)
{
    strcpy(dir, "/tmp/lsmdb-test-ks-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    fake_now = 1700000000000LL;
    ks_set_clock(fake_clock);
    log_set_level(LOG_WARNING);
    ks_open_ok(1);
}

static void teardown(void)
{
    char cmd[256];
    ks_set_touch_hook(NULL);
    ks_close();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void reopen(void)
{
    ck_assert_int_eq(ks_close(), 0);
    ks_open_ok(1);
}

/* One committed command. */
static int set_s(int db, const char *k, const char *v, int64_t exp)
{
    ks_txn_begin();
    int r = ks_set(db, k, strlen(k), KS_TYPE_STRING, v, strlen(v), exp);
    ck_assert_int_eq(ks_txn_commit(), 0);
    return r;
}

static int del_s(int db, const char *k)
{
    ks_txn_begin();
    int r = ks_delete(db, k, strlen(k));
    ck_assert_int_eq(ks_txn_commit(), 0);
    return r;
}

/* The value of k in db as a string, or NULL (static buffer). */
static const char *get_s(int db, const char *k)
{
    static char out[8192];
    struct ks_value v;
    ks_txn_begin();
    int r = ks_lookup(db, k, strlen(k), &v);
    ck_assert_int_ge(r, 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    if (r == 0)
        return NULL;
    ck_assert_uint_lt(v.len, sizeof(out));
    memcpy(out, v.data, v.len);
    out[v.len] = '\0';
    ks_value_free(&v);
    return out;
}

static long long dbsize(int db)
{
    ks_txn_begin();
    long long n = ks_dbsize(db);
    ck_assert_int_eq(ks_txn_commit(), 0);
    return n;
}

static long long expires(int db)
{
    ks_txn_begin();
    long long n = ks_expires(db);
    ck_assert_int_eq(ks_txn_commit(), 0);
    return n;
}

/* Raw engine value of a stored key, or NULL. */
static char *raw(const void *k, size_t kl, size_t *vl)
{
    char *v = NULL;
    int rc = lsm_get(ks_engine(), NULL, k, kl, &v, vl);
    if (rc == LSM_ENOTFOUND)
        return NULL;
    ck_assert_int_eq(rc, 0);
    return v;
}

START_TEST(encoding_layout)
{
    /* db 0 is namespace 1 on a fresh database: "\0\0\0\1" + key. */
    set_s(0, "k", "hello", -1);
    size_t n;
    char *v = raw("\0\0\0\1k", 5, &n);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 2 + 5);
    ck_assert_int_eq(v[0], KS_TYPE_STRING);
    ck_assert_int_eq(v[1], 0);
    ck_assert_mem_eq(v + 2, "hello", 5);
    lsm_free(v);

    /* With an expire: flags bit 0 and a fixed64 LE expire time. */
    int64_t e = fake_now + 5000;
    set_s(2, "x", "v", e);
    v = raw("\0\0\0\3x", 5, &n);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 2 + 8 + 1);
    ck_assert_int_eq(v[1], 1);
    ck_assert_int_eq((int64_t)decode_fixed64(v + 2), e);
    ck_assert_int_eq(v[10], 'v');
    lsm_free(v);

    /* The TTL index entry: ns0 'T' be64(E) be32(ns) key -> "". */
    char ik[4 + 1 + 8 + 4 + 1] = { 0, 0, 0, 0, 'T' };
    for (int i = 0; i < 8; i++)
        ik[5 + i] = (char)((uint64_t)e >> (56 - 8 * i));
    memcpy(ik + 13, "\0\0\0\3x", 5);
    v = raw(ik, sizeof(ik), &n);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(n, 0);
    lsm_free(v);
}
END_TEST

START_TEST(binary_round_trip)
{
    const char key[] = { 'a', 0, '\r', '\n', (char)0xff };
    char val[300];
    for (int i = 0; i < 300; i++)
        val[i] = (char)i;
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, key, sizeof(key), KS_TYPE_STRING, val, sizeof(val), -1), 0);
    ck_assert_int_eq(ks_set(0, "", 0, KS_TYPE_STRING, "", 0, -1), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    struct ks_value v;
    ks_txn_begin();
    ck_assert_int_eq(ks_lookup(0, key, sizeof(key), &v), 1);
    ck_assert_uint_eq(v.len, sizeof(val));
    ck_assert_mem_eq(v.data, val, sizeof(val));
    ck_assert_int_eq(v.expire_at, -1);
    ks_value_free(&v);
    ck_assert_int_eq(ks_lookup(0, "", 0, &v), 1);
    ck_assert_uint_eq(v.len, 0);
    ks_value_free(&v);
    int type = -1;
    int64_t exp = 0;
    ck_assert_int_eq(ks_lookup_meta(0, key, sizeof(key), &type, &exp), 1);
    ck_assert_int_eq(type, KS_TYPE_STRING);
    ck_assert_int_eq(exp, -1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_str_eq(ks_type_name(KS_TYPE_STRING), "string");
    ck_assert_str_eq(ks_type_name(-1), "none");
}
END_TEST

START_TEST(txn_read_your_writes)
{
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, "a", 1, KS_TYPE_STRING, "1", 1, -1), 0);
    ck_assert_int_eq(ks_set(0, "a", 1, KS_TYPE_STRING, "2", 1, -1), 1);
    ck_assert_int_eq(ks_exists(0, "a", 1), 1);
    ks_txn_begin();                 /* nested: EXEC's inner command */
    struct ks_value v;
    ck_assert_int_eq(ks_lookup(0, "a", 1, &v), 1);
    ck_assert_mem_eq(v.data, "2", 1);
    ks_value_free(&v);
    ck_assert_int_eq(ks_delete(0, "a", 1), 1);
    ck_assert_int_eq(ks_exists(0, "a", 1), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(ks_txn_depth(), 1);
    ck_assert_int_eq(ks_set(0, "b", 1, KS_TYPE_STRING, "x", 1, -1), 0);
    ck_assert_int_eq(ks_dbsize(0), 1);
    /* Nothing is in the engine before the outermost commit. */
    size_t n;
    ck_assert_ptr_null(raw("\0\0\0\1b", 5, &n));
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(ks_txn_depth(), 0);
    ck_assert_ptr_null(get_s(0, "a"));
    ck_assert_str_eq(get_s(0, "b"), "x");
    ck_assert_int_eq(dbsize(0), 1);
}
END_TEST

START_TEST(txn_abort_rolls_back_everything)
{
    set_s(0, "keep", "1", -1);
    uint64_t commits = ks_commit_count();
    ks_txn_begin();
    ks_set(0, "new", 3, KS_TYPE_STRING, "x", 1, fake_now + 1000);
    ks_delete(0, "keep", 4);
    ks_flushdb(1);
    ks_swapdb(0, 2);
    ck_assert_int_eq(ks_dbsize(2), 1);
    ck_assert_int_eq(ks_txn_dirty(), 1);
    ks_txn_abort();
    ck_assert_int_eq(ks_txn_depth(), 0);
    ck_assert_uint_eq(ks_commit_count(), commits);
    ck_assert_str_eq(get_s(0, "keep"), "1");
    ck_assert_ptr_null(get_s(0, "new"));
    ck_assert_int_eq(dbsize(0), 1);
    ck_assert_int_eq(expires(0), 0);
    ck_assert_int_eq(dbsize(2), 0);
    reopen();
    ck_assert_str_eq(get_s(0, "keep"), "1");
    ck_assert_int_eq(dbsize(0), 1);
}
END_TEST

/* db 0 counts no key and no TTL, before and after a reopen. */
static void check_db0_empty_across_reopen(void)
{
    ck_assert_int_eq(dbsize(0), 0);
    ck_assert_int_eq(expires(0), 0);
    reopen();
    ck_assert_int_eq(dbsize(0), 0);
    ck_assert_int_eq(expires(0), 0);
}

START_TEST(counters_exact)
{
    ck_assert_int_eq(set_s(0, "a", "1", -1), 0);
    ck_assert_int_eq(set_s(0, "a", "2", -1), 1);                 /* overwrite */
    ck_assert_int_eq(set_s(0, "b", "1", fake_now + 10000), 0);   /* with TTL */
    ck_assert_int_eq(set_s(0, "c", "1", fake_now + 20000), 0);
    ck_assert_int_eq(dbsize(0), 3);
    ck_assert_int_eq(expires(0), 2);
    ks_txn_begin();
    ck_assert_int_eq(ks_avg_ttl(0), 15000);
    ck_assert_int_eq(ks_set_expire(0, "c", 1, -1), 1);            /* PERSIST */
    ck_assert_int_eq(ks_set_expire(0, "zz", 2, fake_now + 1), 0); /* absent */
    ck_assert_int_eq(ks_set_keepttl(0, "b", 1, KS_TYPE_STRING, "2", 1), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(expires(0), 1);
    ck_assert_int_eq(del_s(0, "a"), 1);
    ck_assert_int_eq(del_s(0, "a"), 0);
    ck_assert_int_eq(dbsize(0), 2);
    /* A set with a past time deletes; returns whether it existed. */
    ck_assert_int_eq(set_s(0, "c", "x", fake_now - 1), 1);
    ck_assert_int_eq(dbsize(0), 1);
    reopen();
    ck_assert_int_eq(dbsize(0), 1);
    ck_assert_int_eq(expires(0), 1);
    fake_now += 10000;              /* b expires */
    check_db0_empty_across_reopen();
}
END_TEST

/* Records in the value log (>= 1024 bytes): overwrites, KEEPTTL, DEL and
 * expiry read only the record's header (through the value pointer's inline
 * prefix), and still keep the counters and the TTL index exact. */
START_TEST(separated_values_counters)
{
    char big[3000], big2[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memset(big2, 'y', sizeof(big2) - 1);
    big2[sizeof(big2) - 1] = '\0';
    ck_assert_int_eq(set_s(0, "L", big, fake_now + 10000), 0);
    ck_assert_int_eq(set_s(0, "M", big, -1), 0);
    ck_assert_int_eq(expires(0), 1);
    reopen();                       /* the records come from the engine now */
    ck_assert_int_eq(set_s(0, "L", big2, -1), 1);   /* drops the TTL */
    ck_assert_int_eq(expires(0), 0);
    ck_assert_int_eq(dbsize(0), 2);
    ck_assert_str_eq(get_s(0, "L"), big2);
    ck_assert_int_eq(set_s(0, "M", big2, fake_now + 5000), 1);
    ck_assert_int_eq(expires(0), 1);
    ks_txn_begin();
    ck_assert_int_eq(ks_set_keepttl(0, "M", 1, KS_TYPE_STRING, big, strlen(big)), 1);
    int type = -1;
    int64_t exp = 0;
    ck_assert_int_eq(ks_lookup_meta(0, "M", 1, &type, &exp), 1);
    ck_assert_int_eq(type, KS_TYPE_STRING);
    ck_assert_int_eq(exp, fake_now + 5000);
    ck_assert_int_eq(ks_txn_commit(), 0);
    reopen();
    ks_txn_begin();
    ck_assert_int_eq(ks_lookup_meta(0, "M", 1, &type, &exp), 1);
    ck_assert_int_eq(exp, fake_now + 5000);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_str_eq(get_s(0, "M"), big);
    ck_assert_int_eq(del_s(0, "L"), 1);
    ck_assert_int_eq(del_s(0, "L"), 0);
    ck_assert_int_eq(dbsize(0), 1);
    fake_now += 5000;               /* M expires */
    ck_assert_ptr_null(get_s(0, "M"));
    check_db0_empty_across_reopen();
}
END_TEST

START_TEST(expired_keys_invisible)
{
    set_s(0, "e1", "v", fake_now + 100);
    set_s(0, "live", "v", -1);
    set_s(0, "e2", "v", fake_now + 100);
    fake_now += 100;
    ck_assert_ptr_null(get_s(0, "e1"));
    ks_txn_begin();
    ck_assert_int_eq(ks_exists(0, "e2", 2), 0);
    ck_assert_int_eq(ks_set_expire(0, "e2", 2, fake_now + 5000), 0);
    struct ks_iter *it = ks_iter_create(0, NULL, 0);
    ck_assert_ptr_nonnull(it);
    int n = 0;
    for (; ks_iter_valid(it); ks_iter_next(it)) {
        size_t kl;
        const char *k = ks_iter_key(it, &kl);
        ck_assert_uint_eq(kl, 4);
        ck_assert_mem_eq(k, "live", 4);
        n++;
    }
    ck_assert_int_eq(ks_iter_status(it), 0);
    ks_iter_destroy(it);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(ks_dbsize(0), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    struct buf k = BUF_INIT;
    ks_txn_begin();
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(ks_random_key(0, &k), 1);
        ck_assert_uint_eq(k.len, 4);
        ck_assert_mem_eq(k.data, "live", 4);
    }
    ck_assert_int_eq(ks_random_key(5, &k), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    buf_free(&k);
}
END_TEST

static int touched_whole[16];
static int touched_keys;

static void touch(int db, const char *key, size_t klen)
{
    (void)klen;
    if (key == NULL)
        touched_whole[db]++;
    else
        touched_keys++;
}

START_TEST(active_expiry_in_order)
{
    char k[16];
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "k%05d", i);
        set_s(i % 3, k, "v", fake_now + 1000 + i);
    }
    set_s(0, "forever", "v", -1);
    ks_set_touch_hook(touch);
    touched_keys = 0;
    fake_now += 1000 + 1499;        /* 1500 are due */
    long long n = ks_active_expire_cycle(10 * 1000 * 1000);
    ck_assert_int_eq(n, 1500);
    ck_assert_int_eq(touched_keys, 1500);
    ck_assert_ptr_null(get_s(1, "k01498")); /* 1498 % 3 == 1 */
    ck_assert_str_eq(get_s(0, "k01500"), "v");
    /* Physically gone, not just hidden. */
    size_t vl;
    ck_assert_ptr_null(raw("\0\0\0\1k00000", 10, &vl));
    ck_assert_int_eq(dbsize(0) + dbsize(1) + dbsize(2), 1501);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    reopen();
    ck_assert_int_eq(dbsize(0) + dbsize(1) + dbsize(2), 1501);
    ck_assert_int_eq(expires(0) + expires(1) + expires(2), 1500);
}
END_TEST

START_TEST(active_expiry_resumes_and_clock_back)
{
    char k[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof(k), "k%05d", i);
        set_s(0, k, "v", fake_now + 10 + i);
    }
    fake_now += 10000;
    long long total = 0;
    for (int round = 0; round < 10000 && total < 5000; round++) {
        long long n = ks_active_expire_cycle(200);   /* tiny budget: many passes */
        ck_assert_int_ge(n, 0);
        total += n;
    }
    ck_assert_int_eq(total, 5000);
    ck_assert_int_eq(dbsize(0), 0);
    /* The wall clock goes back: an entry older than the resume point is
     * still found. */
    fake_now -= 9000;
    set_s(0, "back", "v", fake_now + 5);
    fake_now += 5;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(dbsize(0), 0);
}
END_TEST

/* The active expiry cycle's "nothing due before" mark (expire_next):
 * found as "no TTL at all" on an empty index, it is lowered by the first
 * TTL written, so that key is still deleted actively once due. */
/* One active expiry cycle deletes exactly one key (with its touch), which
 * leaves db 0 with keys keys and expires TTLs; raw key rk (rlen bytes) is
 * gone from the engine. */
static void cycle_deletes_one(const char *rk, size_t rlen, long long keys, long long exps)
{
    size_t vl;
    ks_set_touch_hook(touch);
    touched_keys = 0;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(touched_keys, 1);
    ck_assert_int_eq(dbsize(0), keys);
    ck_assert_int_eq(expires(0), exps);
    ck_assert_ptr_null(raw(rk, rlen, &vl));
}

START_TEST(active_expiry_first_ttl_after_empty_cycle)
{
    set_s(0, "plain", "v", -1);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);  /* no TTL anywhere */
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    fake_now += 1000;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    /* No DBSIZE/EXPIRES from here to the cycle: they run expire_due,
     * which would find the mark again by itself. */
    set_s(0, "t1", "v", fake_now + 100);
    fake_now += 99;                         /* not due yet */
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    fake_now += 1;                          /* due: expire time == now */
    /* Nothing has read t1 since: only the cycle can delete it. */
    cycle_deletes_one("\0\0\0\1t1", 6, 1, 0);
    ck_assert_str_eq(get_s(0, "plain"), "v");
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
}
END_TEST

/* The mark is the first TTL not due (a far one): a nearer TTL written
 * afterwards (SET with EX, and EXPIRE on a key without one) lowers it, so
 * the near key goes when due while the far one stays until its time. */
START_TEST(active_expiry_nearer_ttl_after_far_one)
{
    size_t vl;
    int64_t far = fake_now + 1000000;
    set_s(0, "far", "v", far);
    set_s(0, "p", "v", -1);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);  /* mark = far */
    fake_now += 10;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    set_s(0, "near", "v", fake_now + 100);
    fake_now += 101;
    cycle_deletes_one("\0\0\0\1near", 8, 2, 1);
    char *v = raw("\0\0\0\1far", 7, &vl);
    ck_assert_ptr_nonnull(v);
    lsm_free(v);
    /* EXPIRE on a key that had no TTL: the same. */
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);  /* mark = far again */
    ks_txn_begin();
    ck_assert_int_eq(ks_set_expire(0, "p", 1, fake_now + 50), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    fake_now += 51;
    cycle_deletes_one("\0\0\0\1p", 5, 1, 1);
    /* A TTL moved earlier on a key that has one (the far key itself). */
    ks_txn_begin();
    ck_assert_int_eq(ks_set_expire(0, "far", 3, fake_now + 20), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    fake_now += 21;
    cycle_deletes_one("\0\0\0\1far", 7, 0, 0);
}
END_TEST

/* A reopen forgets the mark: a database opened after a cycle found no TTL
 * in another one still has its due keys deleted. */
START_TEST(active_expiry_mark_not_kept_across_open)
{
    char dir2[] = "/tmp/lsmdb-test-ks2-XXXXXX";
    char saved[sizeof(dir)], cmd[256];
    size_t vl;
    struct ks_options o;
    char err[256];

    ck_assert_ptr_nonnull(mkdtemp(dir2));
    strcpy(saved, dir);
    /* dir2: one key with a TTL, not due. */
    ck_assert_int_eq(ks_close(), 0);
    ks_options_init(&o);
    o.write_buffer_size = 256 << 10;
    o.block_cache_size = 1 << 20;
    o.bg_threads = 2;
    ck_assert_msg(ks_open(dir2, &o, err, sizeof(err)) == 0, "open: %s", err);
    set_s(0, "t", "v", fake_now + 100);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    ck_assert_int_eq(ks_close(), 0);
    /* dir: no TTL at all, noted as "none" (DBSIZE runs the expiry
     * scan whatever the mark). */
    ks_open_ok(1);
    set_s(0, "plain", "v", -1);
    ck_assert_int_eq(dbsize(0), 1);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    ck_assert_int_eq(ks_close(), 0);
    /* dir2 again, the key due now. */
    fake_now += 200;
    ck_assert_msg(ks_open(dir2, &o, err, sizeof(err)) == 0, "open: %s", err);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(dbsize(0), 0);
    ck_assert_ptr_null(raw("\0\0\0\1t", 5, &vl));
    ck_assert_int_eq(ks_close(), 0);
    /* The same database reopened: a key set before, due after. */
    ks_open_ok(1);
    set_s(0, "t2", "v", fake_now + 100);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    reopen();
    fake_now += 101;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(dbsize(0), 1);
    ck_assert_int_eq(expires(0), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir2);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_str_eq(dir, saved);
}
END_TEST

/* A TTL written in a transaction, then DBSIZE (or INFO keyspace) in the
 * same transaction: expire_due scans the engine, not the transaction's
 * pending index entry, so it must not raise the mark past that entry. */
START_TEST(active_expiry_ttl_then_dbsize_in_one_txn)
{
    set_s(0, "plain", "v", -1);
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 0);
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, "t", 1, KS_TYPE_STRING, "v", 1, fake_now + 100), 0);
    ck_assert_int_eq(ks_dbsize(0), 2);
    ck_assert_int_eq(ks_txn_commit(), 0);
    fake_now += 101;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
}
END_TEST

/* A cycle's deletions rolled back (the transaction aborted after
 * expire_due found the next mark): the due key is deleted by a later
 * cycle, not left until the next mark. */
START_TEST(active_expiry_mark_after_rollback)
{
    set_s(0, "soon", "v", fake_now + 10);
    set_s(0, "far", "v", fake_now + 1000000);
    fake_now += 11;
    ks_txn_begin();
    ck_assert_int_eq(ks_dbsize(0), 1);      /* runs expire_due: deletes "soon" */
    ks_txn_abort();
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
}
END_TEST

START_TEST(flushdb_is_o1_and_reclaimed)
{
    char k[32];
    for (int b = 0; b < 20; b++) {
        ks_txn_begin();
        for (int i = 0; i < 1000; i++) {
            snprintf(k, sizeof(k), "key:%06d", b * 1000 + i);
            ks_set(3, k, strlen(k), KS_TYPE_STRING, "value-value-value", 17,
                   i % 2 ? fake_now + 100000 : -1);
        }
        ck_assert_int_eq(ks_txn_commit(), 0);
    }
    set_s(4, "other", "v", -1);
    ck_assert_int_eq(dbsize(3), 20000);
    ck_assert_int_eq(expires(3), 10000);
    ks_set_touch_hook(touch);
    memset(touched_whole, 0, sizeof(touched_whole));
    uint64_t commits = ks_commit_count();
    int64_t t0 = clock_mono_us();
    ks_txn_begin();
    ck_assert_int_eq(ks_flushdb(3), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    int64_t us = clock_mono_us() - t0;
    ck_assert_uint_eq(ks_commit_count(), commits + 1);
    ck_assert_msg(us < 200000, "flushdb took %lld us", (long long)us);
    ck_assert_int_eq(touched_whole[3], 1);
    ck_assert_int_eq(dbsize(3), 0);
    ck_assert_int_eq(expires(3), 0);
    ck_assert_ptr_null(get_s(3, "key:000001"));
    ck_assert_str_eq(get_s(4, "other"), "v");
    /* New writes go to the fresh namespace. */
    set_s(3, "key:000001", "new", -1);
    ck_assert_int_eq(dbsize(3), 1);

    /* The old namespace (4: db 3 on a fresh database) is compacted away in
     * the background: no key of it remains in the engine. */
    int gone = 0;
    for (int tries = 0; tries < 200 && !gone; tries++) {
        struct lsm_read_options ro;
        lsm_read_options_init(&ro);
        ro.lower_bound = "\0\0\0\4";
        ro.lower_bound_len = 4;
        ro.upper_bound = "\0\0\0\5";
        ro.upper_bound_len = 4;
        struct lsm_iter *it = lsm_iter_create(ks_engine(), &ro);
        lsm_iter_seek_to_first(it);
        struct lsm_stats st;
        lsm_get_stats(ks_engine(), &st);
        gone = !lsm_iter_valid(it) && st.compactions > 0;
        lsm_iter_destroy(it);
        if (!gone)
            usleep(50000);
    }
    ck_assert_msg(gone, "the dead namespace was not reclaimed");
    reopen();
    ck_assert_int_eq(dbsize(3), 1);
    ck_assert_str_eq(get_s(3, "key:000001"), "new");
    ck_assert_str_eq(get_s(4, "other"), "v");
    /* FLUSHALL empties every db. */
    ks_txn_begin();
    ck_assert_int_eq(ks_flushall(), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    for (int d = 0; d < 16; d++)
        ck_assert_int_eq(dbsize(d), 0);
    reopen();
    for (int d = 0; d < 16; d++)
        ck_assert_int_eq(dbsize(d), 0);
}
END_TEST

START_TEST(swapdb_swaps_contents_and_counters)
{
    set_s(0, "a", "0", -1);
    set_s(1, "b", "1", fake_now + 5000);
    set_s(1, "c", "1", -1);
    ks_set_touch_hook(touch);
    memset(touched_whole, 0, sizeof(touched_whole));
    ks_txn_begin();
    ck_assert_int_eq(ks_swapdb(0, 1), 0);
    ck_assert_int_eq(ks_exists(0, "b", 1), 1);   /* visible inside the txn */
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(touched_whole[0], 1);
    ck_assert_int_eq(touched_whole[1], 1);
    ck_assert_str_eq(get_s(0, "b"), "1");
    ck_assert_str_eq(get_s(1, "a"), "0");
    ck_assert_int_eq(dbsize(0), 2);
    ck_assert_int_eq(expires(0), 1);
    ck_assert_int_eq(dbsize(1), 1);
    reopen();
    ck_assert_str_eq(get_s(0, "c"), "1");
    ck_assert_int_eq(dbsize(0), 2);
    ck_assert_int_eq(dbsize(1), 1);
    /* Expiry follows the key to its new db. */
    fake_now += 5000;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(dbsize(0), 1);
    ks_txn_begin();
    ck_assert_int_eq(ks_swapdb(0, 99), LSM_EINVAL);
    ck_assert_int_eq(ks_set(16, "x", 1, 0, "", 0, -1), LSM_EINVAL);
    ks_txn_abort();
}
END_TEST

START_TEST(iterator_merges_transaction)
{
    set_s(0, "b", "eng", -1);
    set_s(0, "d", "eng", -1);
    set_s(0, "f", "eng", -1);
    ks_txn_begin();
    ks_set(0, "a", 1, KS_TYPE_STRING, "txn", 3, -1);
    ks_set(0, "d", 1, KS_TYPE_STRING, "txn", 3, -1);
    ks_delete(0, "f", 1);
    ks_set(1, "zz", 2, KS_TYPE_STRING, "other db", 8, -1);
    const char *want[] = { "a", "b", "d" };
    const char *wantv[] = { "txn", "eng", "txn" };
    struct ks_iter *it = ks_iter_create(0, NULL, 0);
    int n = 0;
    for (; ks_iter_valid(it); ks_iter_next(it), n++) {
        size_t kl, vl;
        const char *k = ks_iter_key(it, &kl);
        const char *v = ks_iter_value(it, &vl);
        ck_assert_int_lt(n, 3);
        ck_assert_uint_eq(kl, 1);
        ck_assert_int_eq(k[0], want[n][0]);
        ck_assert_uint_eq(vl, 3);
        ck_assert_mem_eq(v, wantv[n], 3);
        ck_assert_int_eq(ks_iter_type(it), KS_TYPE_STRING);
        ck_assert_int_eq(ks_iter_expire(it), -1);
    }
    ck_assert_int_eq(n, 3);
    ks_iter_seek(it, "c", 1);
    ck_assert(ks_iter_valid(it));
    size_t kl;
    ck_assert_int_eq(ks_iter_key(it, &kl)[0], 'd');
    ks_iter_destroy(it);
    it = ks_iter_create(0, "b\x01", 2);
    ck_assert_int_eq(ks_iter_key(it, &kl)[0], 'd');
    ks_iter_destroy(it);
    ck_assert_int_eq(ks_txn_commit(), 0);
}
END_TEST

START_TEST(cursors_survive_reopen)
{
    uint64_t c1, c2;
    struct buf r = BUF_INIT;
    int db = -1;
    ks_txn_begin();
    ck_assert_int_eq(ks_cursor_save(7, "resume\0here", 11, &c1), 0);
    ck_assert_int_eq(ks_cursor_save(2, "x", 1, &c2), 0);
    ck_assert_uint_ne(c1, 0);
    ck_assert_uint_ne(c1, c2);
    ck_assert_int_eq(ks_cursor_load(c1, &db, &r), 1);   /* in the txn */
    ck_assert_int_eq(ks_txn_commit(), 0);
    reopen();
    ks_txn_begin();
    ck_assert_int_eq(ks_cursor_load(c1, &db, &r), 1);
    ck_assert_int_eq(db, 7);
    ck_assert_uint_eq(r.len, 11);
    ck_assert_mem_eq(r.data, "resume\0here", 11);
    ck_assert_int_eq(ks_cursor_load(c2, &db, &r), 1);
    ck_assert_int_eq(db, 2);
    ck_assert_int_eq(ks_cursor_load(c1 + 1000, &db, &r), 0);   /* unknown */
    /* A new run never hands out an id of an old one. */
    uint64_t c3;
    ck_assert_int_eq(ks_cursor_save(0, "", 0, &c3), 0);
    ck_assert_uint_ne(c3, c1);
    ck_assert_uint_ne(c3, c2);
    ck_assert_int_eq(ks_txn_commit(), 0);
    /* Many concurrent scans: each keeps its own cursor. */
    uint64_t ids[2000];
    ks_txn_begin();
    for (int i = 0; i < 2000; i++) {
        char k[16];
        snprintf(k, sizeof(k), "r%d", i);
        ck_assert_int_eq(ks_cursor_save(i % 16, k, strlen(k), &ids[i]), 0);
    }
    ck_assert_int_eq(ks_txn_commit(), 0);
    ks_txn_begin();
    for (int i = 0; i < 2000; i += 97) {
        char k[16];
        snprintf(k, sizeof(k), "r%d", i);
        ck_assert_int_eq(ks_cursor_load(ids[i], &db, &r), 1);
        ck_assert_int_eq(db, i % 16);
        ck_assert_uint_eq(r.len, strlen(k));
        ck_assert_mem_eq(r.data, k, r.len);
    }
    ck_assert_int_eq(ks_txn_commit(), 0);
    /* Cursors expire (ks_options.cursor_ttl_ms, one day). */
    fake_now += 24LL * 3600 * 1000;
    ks_txn_begin();
    ck_assert_int_eq(ks_cursor_load(c1, &db, &r), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    buf_free(&r);
}
END_TEST

/* Checks the TTL index invariant and the counters against a full walk of
 * the engine. */
static void check_invariants(void)
{
    struct lsm_read_options ro;
    ck_assert_int_ge(ks_active_expire_cycle(100000000), 0);   /* due keys go first */
    lsm_read_options_init(&ro);
    struct lsm_iter *it = lsm_iter_create(ks_engine(), &ro);
    long long keys[16] = { 0 }, exps[16] = { 0 }, idx = 0;
    /* ns of db d on this database: d + 1 (no flush in the random test). */
    for (lsm_iter_seek_to_first(it); lsm_iter_valid(it); lsm_iter_next(it)) {
        size_t kl, vl;
        const char *k = lsm_iter_key(it, &kl);
        const char *v = lsm_iter_value(it, &vl);
        uint32_t ns = ((uint32_t)(unsigned char)k[0] << 24) | ((uint32_t)(unsigned char)k[1] << 16) |
                      ((uint32_t)(unsigned char)k[2] << 8) | (unsigned char)k[3];
        if (ns == 0 && kl >= 17 && k[4] == 'T') {
            int64_t e = 0;
            for (int i = 0; i < 8; i++)
                e = (e << 8) | (unsigned char)k[5 + i];
            char *rv;
            size_t rl;
            rv = raw(k + 13, kl - 13, &rl);
            /* A blind SET leaves the old expire's entry behind (stale):
             * allowed until it is due, when expiry drops it. */
            if (rv && rv[1] == 1 && (int64_t)decode_fixed64(rv + 2) == e)
                idx++;
            else
                ck_assert_msg(e > fake_now, "a stale index entry is due and still there");
            lsm_free(rv);
        } else if (ns >= 1 && ns <= 16) {
            keys[ns - 1]++;
            if (v[1] & 1) {
                exps[ns - 1]++;
                idx--;
            }
        }
    }
    lsm_iter_destroy(it);
    ck_assert_int_eq(idx, 0);       /* each record with expire has its entry */
    for (int d = 0; d < 4; d++) {
        ck_assert_int_eq(dbsize(d), keys[d]);
        ck_assert_int_eq(expires(d), exps[d]);
    }
}

START_TEST(random_ttl_index_invariant)
{
    unsigned long long seed = getenv("SEED") ? strtoull(getenv("SEED"), NULL, 10)
                                             : (unsigned long long)clock_us();
    fprintf(stderr, "# test_keyspace random_ttl_index_invariant SEED=%llu\n", seed);
    srand((unsigned)seed);
    char k[16];
    for (int round = 0; round < 6; round++) {
        for (int op = 0; op < 1500; op++) {
            int db = rand() % 4;
            snprintf(k, sizeof(k), "k%d", rand() % 300);
            int64_t exp = rand() % 3 ? -1 : fake_now + 1 + rand() % 2000;
            int multi = rand() % 4 == 0;
            ks_txn_begin();
            int n = multi ? 1 + rand() % 5 : 1;
            for (int j = 0; j < n; j++) {
                switch (rand() % 7) {
                case 0:
                    ck_assert_int_ge(ks_set(db, k, strlen(k), 0, "v", 1, exp), 0);
                    break;
                case 1: case 6:             /* blind when it can be */
                    ck_assert_int_eq(ks_overwrite(db, k, strlen(k), 0, "b", 1, exp), 0);
                    break;
                case 2:
                    ck_assert_int_ge(ks_delete(db, k, strlen(k)), 0);
                    break;
                case 3:
                    ck_assert_int_ge(ks_set_expire(db, k, strlen(k), exp), 0);
                    break;
                case 4:
                    ck_assert_int_ge(ks_set_keepttl(db, k, strlen(k), 0, "w", 1), 0);
                    break;
                default:
                    ck_assert_int_ge(ks_exists(db, k, strlen(k)), 0);
                }
            }
            if (rand() % 10 == 0)
                ks_txn_abort();
            else
                ck_assert_int_eq(ks_txn_commit(), 0);
            if (rand() % 8 == 0)
                ks_defer_tick(rand() % 2);  /* the loop's end of iteration */
            fake_now += rand() % 3;
        }
        check_invariants();
        if (round % 2)
            reopen();
    }
}
END_TEST

/* One committed ks_overwrite (a plain SET: blind when it can be). */
static void over_s(int db, const char *k, int64_t exp)
{
    ks_txn_begin();
    ck_assert_int_eq(ks_overwrite(db, k, strlen(k), KS_TYPE_STRING, "o", 1, exp), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
}

/* The TTL index entry (exp, db 0's namespace 1, k) is stored. */
static int ttl_entry_in_db0(const char *k, int64_t exp)
{
    char key[64];
    size_t n = 0;
    memset(key, 0, 4);
    key[4] = 'T';
    for (int i = 0; i < 8; i++)
        key[5 + i] = (char)((uint64_t)exp >> (56 - 8 * i));
    key[13] = key[14] = key[15] = 0;
    key[16] = 1;
    n = 17 + strlen(k);
    memcpy(key + 17, k, strlen(k));
    size_t vl;
    char *v = raw(key, n, &vl);
    lsm_free(v);
    return v != NULL;
}

static int defer_mark_stored(void)
{
    size_t vl;
    char *v = raw("\0\0\0\0D", 5, &vl);
    lsm_free(v);
    return v != NULL;
}

/* Blind SETs over new, existing, expiring and deleted keys, counted while
 * the counting thread is behind, then FLUSHDB and SWAPDB with counts
 * outstanding, and a rolled-back blind SET: DBSIZE and the expires count
 * stay exact. */
START_TEST(blind_set_counts_exact)
{
    char k[16];
    int64_t far = fake_now + 100000;
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        set_s(0, k, "v", i < 20 ? far : -1);
    }
    reopen();       /* an empty write table: the SETs below cannot skip reading */
    /* One loop iteration: no tick in between. */
    for (int i = 0; i < 10; i++) {                  /* had an expire, loses it */
        snprintf(k, sizeof(k), "k%d", i);
        over_s(0, k, -1);
    }
    for (int i = 50; i < 150; i++) {                /* 50 overwritten, 50 new */
        snprintf(k, sizeof(k), "k%d", i);
        over_s(0, k, i < 60 ? far + 1000 : -1);
    }
    ck_assert_int_eq(del_s(0, "k60"), 1);
    over_s(0, "k60", -1);                           /* written since: reads first */
    over_s(0, "k61", -1);
    /* The blind path was taken: the old expire's index entry is left. */
    ck_assert(ttl_entry_in_db0("k0", far));
    ck_assert(defer_mark_stored());
    ck_assert_int_eq(dbsize(0), 150);
    ck_assert_int_eq(expires(0), 20);               /* k10-k19 and k50-k59 */
    /* The stale entry is dropped when due; k0 stays. */
    fake_now = far + 1;
    ck_assert_int_ge(ks_active_expire_cycle(100000000), 10);  /* k10-k19 */
    ck_assert(!ttl_entry_in_db0("k0", far));
    ck_assert_str_eq(get_s(0, "k0"), "o");
    ck_assert_int_eq(dbsize(0), 140);
    ck_assert_int_eq(expires(0), 10);

    /* FLUSHDB and SWAPDB while writes of those dbs are not counted yet. */
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof(k), "f%d", i);
        over_s(1, k, -1);
    }
    ks_txn_begin();
    ck_assert_int_eq(ks_flushdb(1), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    over_s(1, "f0", -1);
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof(k), "s%d", i);
        over_s(2, k, i < 5 ? far + 5 : -1);
    }
    ks_txn_begin();
    ck_assert_int_eq(ks_swapdb(2, 3), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    /* A blind SET rolled back is not counted. */
    ks_txn_begin();
    ck_assert_int_eq(ks_overwrite(0, "gone", 4, KS_TYPE_STRING, "x", 1, -1), 0);
    ks_txn_abort();
    ck_assert_int_eq(dbsize(1), 1);
    ck_assert_int_eq(dbsize(2), 0);
    ck_assert_int_eq(dbsize(3), 40);
    ck_assert_int_eq(expires(3), 5);
    ck_assert_int_eq(dbsize(0), 140);
    ck_assert_ptr_null(get_s(0, "gone"));
    /* Counts that arrive inside a transaction that flushed their db, which
     * is then rolled back, are kept. */
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "r%d", i);
        over_s(4, k, -1);
    }
    ks_txn_begin();
    ck_assert_int_eq(ks_flushdb(4), 0);
    ck_assert_int_eq(dbsize(4), 0);
    ks_txn_abort();
    ck_assert_int_eq(dbsize(4), 10);

    /* The counters were written and the mark dropped: a reopen (no
     * recount) agrees. */
    ks_defer_tick(1);
    ck_assert(!defer_mark_stored());
    reopen();
    ck_assert_int_eq(dbsize(0), 140);
    ck_assert_int_eq(dbsize(1), 1);
    ck_assert_int_eq(dbsize(3), 40);
    ck_assert_int_eq(expires(3), 5);
    ck_assert_int_eq(dbsize(4), 10);
}
END_TEST

/* An integer field of an INFO section. */
static long long info_ll(const char *section, const char *field)
{
    struct buf b = BUF_INIT;
    ck_assert_int_eq(ks_info_section(section, &b), 1);
    buf_append_byte(&b, 0);
    const char *p = strstr(b.data, field);
    ck_assert_msg(p != NULL, "no %s", field);
    long long n = atoll(p + strlen(field) + 1);
    buf_free(&b);
    return n;
}

static long long persistence_ll(const char *field)
{
    return info_ll("persistence", field);
}

/* Keys written lately are answered from the write table, without a read,
 * and exactly: present, absent, with and without an expire, expired since
 * (deleted lazily, as a read would), rolled back (not in the table). */
START_TEST(write_table_answers_recent_keys)
{
    char k[16];
    int64_t t;
    int type;
    reopen();
    long long hits = persistence_ll("keyspace_write_table_hits");
    set_s(0, "plain", "1", -1);
    set_s(0, "ttl", "1", fake_now + 5000);
    set_s(0, "soon", "1", fake_now + 10);
    set_s(0, "dead", "1", -1);
    ck_assert_int_eq(del_s(0, "dead"), 1);      /* known: it existed */
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, "undone", 6, KS_TYPE_STRING, "1", 1, -1), 0);
    ks_txn_abort();
    long long h0 = persistence_ll("keyspace_write_table_hits");
    ck_assert_int_eq(h0 - hits, 1);
    ks_txn_begin();
    ck_assert_int_eq(ks_lookup_meta(0, "plain", 5, &type, &t), 1);
    ck_assert_int_eq(type, KS_TYPE_STRING);
    ck_assert_int_eq(t, -1);
    ck_assert_int_eq(ks_lookup_meta(0, "ttl", 3, NULL, &t), 1);
    ck_assert_int_eq(t, fake_now + 5000);
    ck_assert_int_eq(ks_exists(0, "dead", 4), 0);
    ck_assert_int_eq(ks_exists(0, "undone", 6), 0);   /* not in the table: read */
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(persistence_ll("keyspace_write_table_hits") - h0, 3);
    fake_now += 20;                             /* "soon" expires */
    ks_txn_begin();
    ck_assert_int_eq(ks_exists(0, "soon", 4), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(dbsize(0), 2);
    ck_assert_int_eq(expires(0), 1);
    /* SET over a known key: exact counters and TTL index, no stale entry. */
    ck_assert_int_eq(set_s(0, "ttl", "2", -1), 1);
    ck_assert(!ttl_entry_in_db0("ttl", fake_now - 20 + 5000));
    ck_assert_int_eq(expires(0), 0);
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "w%d", i);
        set_s(1, k, "v", i % 2 ? fake_now + 1000 : -1);
        ks_txn_begin();
        ck_assert_int_eq(ks_overwrite(1, k, strlen(k), KS_TYPE_STRING, "x", 1, -1), 0);
        ck_assert_int_eq(ks_txn_commit(), 0);
    }
    ck_assert_int_eq(dbsize(1), 50);
    ck_assert_int_eq(expires(1), 0);
    ck_assert_int_eq(persistence_ll("keyspace_stale_ttl_deleted"), 0);
    reopen();                                   /* the table starts empty */
    ck_assert_int_eq(dbsize(1), 50);
    ck_assert_int_eq(expires(1), 0);
}
END_TEST

/* Opens with a write table of `bytes`, writes n keys, then reads them all
 * back: the number of reads the write table answered. */
static long long write_table_hits_for(size_t bytes, int n, long long *table_bytes)
{
    struct ks_options o;
    char err[256], k[16];
    ck_assert_int_eq(ks_close(), 0);
    test_options(&o, NULL);
    o.write_table_size = bytes;
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
    *table_bytes = info_ll("memory", "keyspace_write_table");
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "t%d", i);
        set_s(0, k, "v", -1);
    }
    long long h0 = persistence_ll("keyspace_write_table_hits");
    ks_txn_begin();
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "t%d", i);
        ck_assert_int_eq(ks_exists(0, k, strlen(k)), 1);
    }
    ck_assert_int_eq(ks_txn_commit(), 0);
    return persistence_ll("keyspace_write_table_hits") - h0;
}

/* write-table-size: a power of two of 32-byte slots (rounded down, at
 * least 1024 of them); a table with room for the keys written lately
 * answers (nearly) all of their reads, a small one only as many as it has
 * slots. */
START_TEST(write_table_size_sets_what_it_remembers)
{
    long long bytes;
    long long small = write_table_hits_for(0, 4096, &bytes);
    ck_assert_int_eq(bytes, 32768);
    ck_assert_int_le(small, 1024);
    long long big = write_table_hits_for((3u << 20) + 5, 4096, &bytes);
    ck_assert_int_eq(bytes, 2 << 20);          /* 65536 slots */
    ck_assert_int_ge(big, 3800);
    ck_assert_int_eq(dbsize(0), 4096);

    /* A table that cannot be mapped (1 PB, beyond any address space) fails
     * the open with a message; nothing is left half open. */
    struct ks_options o;
    char err[256] = "";
    ck_assert_int_eq(ks_close(), 0);
    test_options(&o, NULL);
    o.write_table_size = (size_t)1 << 50;
    ck_assert_int_ne(ks_open(dir, &o, err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, "write table") != NULL, "err: %s", err);
    ck_assert(!ks_is_open());
    ks_open_ok(1);
    ck_assert_int_eq(dbsize(0), 4096);
}
END_TEST

/* A blind SET over a key with another expire leaves the old TTL index
 * entry; once the write is counted, the loop's tick deletes it, unless the
 * key was written again since (then it may be live: SET k EX with the old
 * time), and never the entry of the current expire. */
START_TEST(blind_set_drops_stale_ttl_entries)
{
    int64_t far = fake_now + 100000;
    set_s(0, "gone", "v", far);         /* blind SET without an expire */
    set_s(0, "moved", "v", far);        /* blind SET with another expire */
    set_s(0, "same", "v", far);         /* blind SET with the same expire */
    set_s(0, "again", "v", far);        /* blind SET, then SET EX far again */
    set_s(0, "later", "v", far);        /* blind SET, then a write without TTL */
    reopen();                           /* an empty write table: blind SETs */
    long long base = persistence_ll("keyspace_stale_ttl_deleted");
    over_s(0, "gone", -1);
    over_s(0, "moved", far + 7);
    over_s(0, "same", far);
    over_s(0, "again", -1);
    set_s(0, "again", "v", far);        /* reads first: the entry is live again */
    over_s(0, "later", -1);
    set_s(0, "later", "w", -1);
    ck_assert(ttl_entry_in_db0("gone", far));
    ck_assert(ttl_entry_in_db0("moved", far));
    ck_assert_int_eq(dbsize(0), 5);     /* waits for the counting */
    ck_assert_int_eq(expires(0), 3);    /* moved, same, again */
    ks_defer_tick(0);                   /* the end of the loop iteration */
    ck_assert(!ttl_entry_in_db0("gone", far));
    ck_assert(!ttl_entry_in_db0("moved", far));
    ck_assert(ttl_entry_in_db0("moved", far + 7));
    ck_assert(ttl_entry_in_db0("same", far));
    ck_assert(ttl_entry_in_db0("again", far));
    ck_assert(ttl_entry_in_db0("later", far));   /* written again: left to expiry */
    ck_assert_int_eq(persistence_ll("keyspace_stale_ttl_deleted") - base, 2);
    /* Expiry then finds exactly the live entries. */
    fake_now = far + 8;
    ck_assert_int_eq(ks_active_expire_cycle(100000000), 3);
    ck_assert_int_eq(dbsize(0), 2);     /* gone, later */
    ck_assert_int_eq(expires(0), 0);
    ck_assert(!ttl_entry_in_db0("later", far));
    ck_assert_str_eq(get_s(0, "later"), "w");
}
END_TEST

/* A process that dies with blind SETs not yet counted leaves the D mark;
 * the next open recounts from the data. */
START_TEST(blind_set_crash_recounts)
{
    char k[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        set_s(0, k, "v", i < 10 ? fake_now + 5000 : -1);
    }
    ck_assert_int_eq(ks_close(), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        ks_open_ok(1);
        for (int i = 0; i < 10; i++) {          /* expire dropped */
            snprintf(k, sizeof(k), "k%d", i);
            over_s(0, k, -1);
        }
        for (int i = 40; i < 240; i++) {        /* 10 overwritten, 190 new */
            snprintf(k, sizeof(k), "k%d", i);
            over_s(0, k, i % 4 == 0 ? fake_now + 9000 : -1);
        }
        for (int i = 0; i < 20; i++) {          /* one db of new keys */
            snprintf(k, sizeof(k), "n%d", i);
            over_s(5, k, -1);
        }
        /* Writes that read first change the counters too; with the mark
         * stored, their counter records wait (for the recount). */
        for (int i = 0; i < 6; i++) {
            snprintf(k, sizeof(k), "m%d", i);
            set_s(6, k, "v", i < 3 ? fake_now + 4000 : -1);
        }
        if (del_s(6, "m0") != 1 || del_s(6, "m5") != 1)
            _exit(4);
        ks_defer_tick(0);                       /* counted, mark kept */
        size_t vl;
        char *c6 = raw("\0\0\0\0C\0\0\0\7", 9, &vl);   /* db 6's counters */
        int stored = c6 != NULL;
        lsm_free(c6);
        if (stored)
            _exit(5);
        _exit(defer_mark_stored() ? 0 : 3);     /* no close: a crash */
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    ks_open_ok(1);
    ck_assert(!defer_mark_stored());
    ck_assert_int_eq(dbsize(6), 4);
    ck_assert_int_eq(expires(6), 2);
    ck_assert_int_eq(dbsize(0), 240);
    ck_assert_int_eq(expires(0), 50);           /* every 4th of k40-k239 */
    ck_assert_int_eq(dbsize(5), 20);
    /* The stale entries of k0-k9 come due and go; the counts hold. */
    fake_now += 6000;
    ck_assert_int_ge(ks_active_expire_cycle(100000000), 0);
    ck_assert_int_eq(dbsize(0), 240);
    ck_assert_int_eq(expires(0), 50);
}
END_TEST

/* A read that fails in the counting thread: INFO says the counts are not
 * exact, the D mark stays, and the next open recounts. */
START_TEST(blind_set_read_error_recounts)
{
    char err[256], k[16], v[128];
    ks_close();
    struct io_env *fenv = io_env_fault_create(io_env_posix());
    struct ks_options o;
    test_options(&o, fenv);
    o.write_buffer_size = 64 << 10;
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
    memset(v, 'v', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    for (int i = 0; i < 2000; i++) {        /* several memtables: tables */
        snprintf(k, sizeof(k), "k%d", i);
        set_s(0, k, v, -1);
    }
    /* All in one level, so that no compaction runs (and fails) while
     * table files fail below; then cold caches. */
    ck_assert_int_eq(lsm_compact_range(ks_engine(), NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(ks_close(), 0);
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
    ck_assert(!defer_mark_stored());
    /* Counting k0-k9 reads tables, and every table read fails. */
    io_env_fault_set(fenv, IO_FAULT_EIO, 0, ".sst");
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        over_s(0, k, -1);
    }
    over_s(0, "new", -1);
    ks_txn_begin();
    (void)ks_dbsize(0);                     /* waits for the counts */
    ks_txn_commit();
    struct buf b = BUF_INIT;
    ck_assert_int_eq(ks_info_section("persistence", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_msg(strstr(b.data, "keyspace_counts_exact:0\r\n") != NULL, "%s", b.data);
    buf_free(&b);
    io_env_fault_reset(fenv);
    ks_defer_tick(1);                       /* must not drop the mark */
    ck_assert(defer_mark_stored());
    ck_assert_int_eq(ks_close(), 0);
    io_env_fault_destroy(fenv);
    ks_open_ok(1);
    ck_assert(!defer_mark_stored());
    ck_assert_int_eq(dbsize(0), 2001);
    b = (struct buf)BUF_INIT;
    ck_assert_int_eq(ks_info_section("persistence", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_ptr_nonnull(strstr(b.data, "keyspace_counts_exact:1\r\n"));
    buf_free(&b);
}
END_TEST

/* Puts (or deletes, v NULL) stored keys straight into the engine. */
static void raw_write(struct lsm_db *db, const void *k, size_t kl, const void *v, size_t vl)
{
    struct lsm_batch *b = lsm_batch_create();
    struct lsm_write_options wo = { .sync = 1 };
    if (v)
        lsm_batch_put(b, k, kl, v, vl);
    else
        lsm_batch_delete(b, k, kl);
    ck_assert_int_eq(lsm_write(db, &wo, b), 0);
    lsm_batch_destroy(b);
}

/* An open that must recount (the D mark) and cannot (a damaged record met
 * on the TTL index walk) fails with a message, loses nothing and keeps the
 * mark; once the record is repaired, the next open recounts. */
START_TEST(recount_failure_fails_open)
{
    char err[256], ttl[32];
    struct ks_options o;
    int64_t at = fake_now + 50000;
    set_s(0, "a", "1", -1);
    set_s(0, "b", "2", at);
    /* A damaged record (1 byte: shorter than any header) of db 0 with an
     * index entry, and the mark, as a crash between writes would leave it. */
    raw_write(ks_engine(), "\0\0\0\1bad", 7, "x", 1);
    memset(ttl, 0, sizeof(ttl));
    ttl[4] = 'T';
    for (int i = 0; i < 8; i++)
        ttl[5 + i] = (char)((uint64_t)at >> (56 - 8 * i));
    ttl[16] = 1;
    memcpy(ttl + 17, "bad", 3);
    raw_write(ks_engine(), ttl, 20, "", 0);
    raw_write(ks_engine(), "\0\0\0\0D", 5, "", 0);
    ck_assert_int_eq(ks_close(), 0);
    test_options(&o, NULL);
    err[0] = '\0';
    ck_assert_int_eq(ks_open(dir, &o, err, sizeof(err)), LSM_ECORRUPT);
    ck_assert_msg(strstr(err, "keyspace metadata") != NULL, "message: %s", err);
    /* Repair the record with the engine alone: the mark is still there. */
    struct lsm_options lo;
    struct lsm_db *db = NULL;
    lsm_options_init(&lo);
    ck_assert_int_eq(lsm_open(dir, &lo, &db), 0);
    char *v = NULL;
    size_t vl = 0;
    ck_assert_int_eq(lsm_get(db, NULL, "\0\0\0\0D", 5, &v, &vl), 0);
    lsm_free(v);
    raw_write(db, "\0\0\0\1bad", 7, NULL, 0);
    ck_assert_int_eq(lsm_close(db), 0);
    ks_open_ok(1);
    ck_assert(!defer_mark_stored());
    ck_assert_int_eq(dbsize(0), 2);
    ck_assert_int_eq(expires(0), 1);
    ck_assert_str_eq(get_s(0, "b"), "2");
}
END_TEST

/* ---- strings kept in chunks ---- */

/* Stored keys of metadata kind `kind` (X: chunks, Y: the chunked index). */
static int count_kind(char kind)
{
    struct lsm_read_options ro;
    char lo[5] = { 0, 0, 0, 0, kind }, hi[5] = { 0, 0, 0, 0, (char)(kind + 1) };
    int n = 0;
    lsm_read_options_init(&ro);
    ro.lower_bound = lo;
    ro.lower_bound_len = 5;
    ro.upper_bound = hi;
    ro.upper_bound_len = 5;
    struct lsm_iter *it = lsm_iter_create(ks_engine(), &ro);
    ck_assert_ptr_nonnull(it);
    for (lsm_iter_seek(it, lo, 5); lsm_iter_valid(it); lsm_iter_next(it))
        n++;
    ck_assert_int_eq(lsm_iter_status(it), 0);
    lsm_iter_destroy(it);
    return n;
}

static void chunk_open(size_t chunk)
{
    struct ks_options o;
    char err[256];
    ks_close();
    test_options(&o, NULL);
    o.string_chunk_size = chunk;
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
}

/* One committed ks_write_range; the new length. */
static uint64_t wrange(int db, const char *k, uint64_t off, const char *data, size_t n)
{
    uint64_t nl = 0;
    ks_txn_begin();
    ck_assert_int_ge(ks_write_range(db, k, strlen(k), off, data, n, &nl), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    return nl;
}

/* The model of a string of *len bytes that wrange changes. */
static void model_write(char *m, size_t *len, uint64_t off, const char *data, size_t n)
{
    if (off > *len)
        memset(m + *len, 0, (size_t)off - *len);
    memcpy(m + off, data, n);
    if (off + n > *len)
        *len = (size_t)(off + n);
}

static void check_value(int db, const char *k, const char *m, size_t len)
{
    struct ks_value v;
    int type;
    uint64_t l;
    ks_txn_begin();
    ck_assert_int_eq(ks_lookup(db, k, strlen(k), &v), 1);
    ck_assert_int_eq(v.type, KS_TYPE_STRING);
    ck_assert_uint_eq(v.len, len);
    ck_assert_uint_eq(v.total, len);
    ck_assert(memcmp(v.data, m, len) == 0);
    ks_value_free(&v);
    ck_assert_int_eq(ks_lookup_len(db, k, strlen(k), &type, &l), 1);
    ck_assert_int_eq(type, KS_TYPE_STRING);
    ck_assert_uint_eq(l, len);
    ck_assert_int_eq(ks_lookup_meta(db, k, strlen(k), &type, NULL), 1);
    ck_assert_int_eq(type, KS_TYPE_STRING);
    for (uint64_t off = 0; off < len + 3; off += 7) {   /* ranges across chunks */
        uint64_t end = off + 11 < len ? off + 11 : len;
        ck_assert_int_eq(ks_lookup_range(db, k, strlen(k), off, 11, &v), 1);
        ck_assert_uint_eq(v.total, len);
        if (off < len) {
            ck_assert_uint_le(v.off, off);
            ck_assert_uint_ge(v.off + v.len, end);
            ck_assert(memcmp(v.data + (off - v.off), m + off, (size_t)(end - off)) == 0);
        }
        ks_value_free(&v);
    }
    ck_assert_int_eq(ks_txn_commit(), 0);
}

/* A string that range writes leave at 2 x string-chunk-size or more is kept
 * in chunks: whole and partial reads see the bytes a whole string would
 * hold, and every way its record goes (a blind SET, also after a reopen,
 * DEL, expiry, a rolled-back transaction, FLUSHDB) takes its chunks and
 * index entry with it. */
START_TEST(chunked_strings)
{
    static char m[4096], data[600];
    size_t len = 0;
    uint64_t nl;
    chunk_open(16);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);

    /* Written whole at once it stays whole (as by SET); then written in
     * part at 40 bytes it goes to chunks (3 of 16), and grows with a gap
     * of zeros. */
    ck_assert_uint_eq(wrange(0, "a", 0, data, 35), 35);
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_uint_eq(wrange(0, "a", 35, data + 35, 5), 40);
    model_write(m, &len, 0, data, 40);
    ck_assert_int_eq(count_kind('X'), 3);
    ck_assert_int_eq(count_kind('Y'), 1);
    check_value(0, "a", m, len);
    ck_assert_uint_eq(wrange(0, "a", 100, "WXYZ", 4), 104);
    model_write(m, &len, 100, "WXYZ", 4);
    check_value(0, "a", m, len);
    ck_assert_int_eq(count_kind('X'), 7);
    ck_assert_int_eq(del_s(0, "a"), 1);
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_int_eq(count_kind('Y'), 0);

    /* Random overwrites and appends against the model, from empty. */
    len = 0;
    srand(7);
    for (int i = 0; i < 300; i++) {
        uint64_t off = (uint64_t)(rand() % (int)(len + 40));
        size_t n = (size_t)(rand() % 60), from = (size_t)(rand() % 26);
        if (off + n > sizeof m)
            continue;
        size_t want = off + n > len ? (size_t)(off + n) : len;
        ck_assert_uint_eq(wrange(0, "a", off, data + from, n), want);
        model_write(m, &len, off, data + from, n);
    }
    check_value(0, "a", m, len);
    ck_assert_int_eq(dbsize(0), 1);

    /* A blind SET replaces it: chunks and index entry go. */
    ks_txn_begin();
    ck_assert_int_eq(ks_overwrite(0, "a", 1, KS_TYPE_STRING, "small", 5, -1), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ks_defer_tick(1);
    ck_assert_str_eq(get_s(0, "a"), "small");
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_int_eq(count_kind('Y'), 0);
    ck_assert_int_eq(dbsize(0), 1);

    /* The same after a reopen (the index tells the keyspace again). */
    wrange(0, "b", 0, data, 1);
    wrange(0, "b", 1, data, 99);
    chunk_open(16);
    ks_txn_begin();
    ck_assert_int_eq(ks_overwrite(0, "b", 1, KS_TYPE_STRING, "x", 1, -1), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_str_eq(get_s(0, "b"), "x");

    /* Range writes keep the expire; expiry takes the chunks. */
    wrange(0, "c", 0, data, 1);
    wrange(0, "c", 1, data, 49);
    ks_txn_begin();
    ck_assert_int_eq(ks_set_expire(0, "c", 1, fake_now + 1000), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    wrange(0, "c", 60, data, 10);
    ks_txn_begin();
    int64_t exp = 0;
    ck_assert_int_eq(ks_lookup_meta(0, "c", 1, NULL, &exp), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(exp, fake_now + 1000);
    ck_assert_int_eq(count_kind('X'), 5);
    fake_now += 2000;
    ck_assert_int_eq(ks_active_expire_cycle(1000000), 1);
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_int_eq(count_kind('Y'), 0);

    /* A rolled-back transaction leaves nothing. */
    ks_txn_begin();
    ck_assert_int_eq(ks_write_range(0, "d", 1, 40, data, 40, &nl), 0);
    ck_assert_int_eq(ks_write_range(0, "d", 1, 0, data, 4, &nl), 1);
    ks_txn_abort();
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_ptr_null(get_s(0, "d"));

    /* A SET keeps a string whole whatever its length; a range write then
     * moves it to chunks. */
    static char big[100];
    memcpy(big, data, 99);
    set_s(0, "e", big, -1);
    ck_assert_int_eq(count_kind('X'), 0);
    wrange(0, "e", 99, "!", 1);
    ck_assert_int_eq(count_kind('X'), 7);
    len = 0;
    model_write(m, &len, 0, big, 99);
    model_write(m, &len, 99, "!", 1);
    check_value(0, "e", m, len);

    /* RENAME moves the record and index entry; the chunks stay. Onto a
     * chunked string, that one's chunks go; RENAMENX onto a key: nothing. */
    ks_txn_begin();
    ck_assert_int_eq(ks_set_expire(0, "e", 1, fake_now + 5000), 1);
    ck_assert_int_eq(ks_rename_chunked(0, "e", 1, "g", 1, 1), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(count_kind('X'), 7);
    ck_assert_int_eq(count_kind('Y'), 1);
    ck_assert_ptr_null(get_s(0, "e"));
    check_value(0, "g", m, len);
    ks_txn_begin();
    ck_assert_int_eq(ks_lookup_meta(0, "g", 1, NULL, &exp), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(exp, fake_now + 5000);
    wrange(0, "h", 0, data, 1);
    wrange(0, "h", 1, data, 49);    /* 4 chunks */
    ck_assert_int_eq(count_kind('X'), 11);
    ks_txn_begin();
    ck_assert_int_eq(ks_rename_chunked(0, "g", 1, "h", 1, 0), 0);   /* RENAMENX */
    ck_assert_int_eq(ks_rename_chunked(0, "b", 1, "h", 1, 1), 2);   /* not chunked */
    ck_assert_int_eq(ks_rename_chunked(0, "g", 1, "h", 1, 1), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(count_kind('X'), 7);
    ck_assert_int_eq(count_kind('Y'), 1);
    check_value(0, "h", m, len);
    ck_assert_ptr_null(get_s(0, "g"));
    uint64_t bytes = 0;             /* MEMORY USAGE counts the 7 chunks too */
    ks_txn_begin();
    ck_assert_int_eq(ks_usage(0, "h", 1, &bytes), 1);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_uint_ge(bytes, len + 7 * 2 * (4 + 1 + 4 + 8 + 4));
    ck_assert_int_eq(dbsize(0), 3);     /* a, b, h */
    ck_assert_int_eq(expires(0), 1);

    /* A write that would take over 2^20 chunks (1-byte chunks here) writes
     * the string whole instead. */
    chunk_open(1);
    wrange(0, "f", 0, "ab", 2);
    wrange(0, "f", 2, "c", 1);
    ck_assert_int_eq(count_kind('X'), 7 + 3);
    ck_assert_uint_eq(wrange(0, "f", 2000000, "x", 1), 2000001);
    ck_assert_int_eq(count_kind('X'), 7);
    ks_txn_begin();
    struct ks_value v;
    ck_assert_int_eq(ks_lookup(0, "f", 1, &v), 1);
    ck_assert_uint_eq(v.len, 2000001);
    ck_assert(memcmp(v.data, "abc", 3) == 0 && v.data[3] == 0 && v.data[2000000] == 'x');
    ks_value_free(&v);
    ck_assert_int_eq(ks_txn_commit(), 0);

    /* FLUSHDB: compaction drops the dead namespace's chunks and index. */
    ks_txn_begin();
    ck_assert_int_eq(ks_flushdb(0), 0);
    ck_assert_int_eq(ks_txn_commit(), 0);
    ck_assert_int_eq(lsm_compact_range(ks_engine(), NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(count_kind('X'), 0);
    ck_assert_int_eq(count_kind('Y'), 0);
}
END_TEST

START_TEST(info_sections)
{
    struct buf b = BUF_INIT;
    set_s(0, "a", "1", -1);
    set_s(5, "b", "1", fake_now + 10000);
    ck_assert_int_eq(ks_info_section("keyspace", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_str_eq(b.data, "db0:keys=1,expires=0,avg_ttl=0\r\n"
                             "db5:keys=1,expires=1,avg_ttl=10000\r\n");
    buf_clear(&b);
    ck_assert_int_eq(ks_info_section("persistence", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_ptr_nonnull(strstr(b.data, "aof_last_write_status:ok\r\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "appendfsync:everysec\r\n"));
    buf_clear(&b);
    ck_assert_int_eq(ks_info_section("lsm", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_ptr_nonnull(strstr(b.data, "level0:files="));
    ck_assert_ptr_nonnull(strstr(b.data, "block_cache_hit_rate:"));
    ck_assert_ptr_nonnull(strstr(b.data, "vlog_bytes_written:0\r\n"));
    buf_clear(&b);
    /* A value for the value log shows in its stats and in the write
     * amplification. */
    static char big[5000];
    uint32_t x = 12345;
    for (size_t i = 0; i + 1 < sizeof(big); i++) {   /* incompressible */
        x = x * 1103515245u + 12345u;
        big[i] = (char)('a' + (x >> 16) % 26);
    }
    set_s(0, "big", big, -1);
    ck_assert_int_eq(ks_info_section("lsm", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_ptr_null(strstr(b.data, "vlog_bytes_written:0\r\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "vlog_segments:1\r\n"));
    const char *wa = strstr(b.data, "write_amplification:");
    ck_assert_ptr_nonnull(wa);
    ck_assert_double_gt(atof(wa + strlen("write_amplification:")), 0.5);
    /* Nothing overwritten or dead yet: about 1 (the value log's live
     * estimate is its size). */
    const char *sa = strstr(b.data, "space_amplification:");
    ck_assert_ptr_nonnull(sa);
    ck_assert_double_ge(atof(sa + strlen("space_amplification:")), 1.0);
    ck_assert_double_lt(atof(sa + strlen("space_amplification:")), 1.5);
    buf_clear(&b);
    ck_assert_int_eq(ks_info_section("clients", &b), 0);
    buf_free(&b);
    char msg[128];
    ck_assert_int_eq(ks_write_error(msg, sizeof(msg)), 0);
    ck_assert_int_eq(ks_sync(), 0);
    ck_assert_int_eq(ks_before_sleep(), 0);
}
END_TEST

START_TEST(group_commit_always)
{
    ks_set_appendfsync(KS_FSYNC_ALWAYS);
    set_s(0, "a", "1", -1);
    set_s(0, "b", "1", -1);
    ck_assert_int_eq(ks_sync_pending(), 1);
    ck_assert_int_eq(ks_before_sleep(), 0);
    ck_assert_int_eq(ks_sync_pending(), 0);
    /* A read-only transaction has nothing to sync. */
    get_s(0, "a");
    ck_assert_int_eq(ks_sync_pending(), 0);
    ks_set_appendfsync(KS_FSYNC_EVERYSEC);
}
END_TEST

/* Disk full: the failing command changes nothing (engine or counters),
 * writes are refused with Redis' MISCONF line, reads go on, and writes are
 * accepted again once space is back — without a restart. */
START_TEST(write_error_and_recovery)
{
    char err[256];
    ks_close();
    struct io_env *fenv = io_env_fault_create(io_env_posix());
    struct ks_options o;
    test_options(&o, fenv);
    ck_assert_msg(ks_open(dir, &o, err, sizeof(err)) == 0, "open: %s", err);
    set_s(0, "a", "1", -1);
    set_s(0, "gone", "1", fake_now + 10);
    uint64_t commits = ks_commit_count();

    io_env_fault_set(fenv, IO_FAULT_ENOSPC, 0, NULL);
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, "b", 1, 0, "2", 1, -1), 0);
    ck_assert_int_eq(ks_dbsize(0), 3);
    int rc = ks_txn_commit();
    ck_assert_msg(rc == LSM_ENOSPC || rc == LSM_EIO, "commit: %d", rc);
    ck_assert_uint_eq(ks_commit_count(), commits);
    char msg[256];
    ck_assert_int_eq(ks_write_error(msg, sizeof(msg)), 1);
    ck_assert_msg(strncmp(msg, "MISCONF Errors writing to the AOF file: ", 40) == 0, "%s", msg);
    /* Nothing of the failed command is visible; reads go on. */
    ck_assert_ptr_null(get_s(0, "b"));
    ck_assert_str_eq(get_s(0, "a"), "1");
    ck_assert_int_eq(dbsize(0), 2);
    /* A read that meets an expired key still answers (its lazy deletion is
     * dropped, not reported). */
    fake_now += 10;
    ck_assert_ptr_null(get_s(0, "gone"));
    ks_txn_begin();
    ck_assert_int_eq(ks_set(0, "c", 1, 0, "3", 1, -1), 0);
    ck_assert_int_lt(ks_txn_commit(), 0);   /* refused while the error stands */
    struct buf b = BUF_INIT;
    ck_assert_int_eq(ks_info_section("persistence", &b), 1);
    buf_append_byte(&b, 0);
    ck_assert_ptr_nonnull(strstr(b.data, "aof_last_write_status:err\r\n"));
    buf_free(&b);

    /* Space is back: the cron's probe write clears the error. */
    io_env_fault_reset(fenv);
    ks_cron_second();
    ck_assert_int_eq(ks_write_error(msg, sizeof(msg)), 0);
    set_s(0, "b", "2", -1);
    ck_assert_int_eq(dbsize(0), 2);           /* a, b ("gone" expired) */
    ck_assert_int_eq(ks_close(), 0);
    io_env_fault_destroy(fenv);
    ks_open_ok(1);
    ck_assert_str_eq(get_s(0, "b"), "2");
    ck_assert_int_eq(dbsize(0), 2);
}
END_TEST

static Suite *keyspace_suite(void)
{
    Suite *s = suite_create("keyspace");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, encoding_layout);
    tcase_add_test(tc, binary_round_trip);
    tcase_add_test(tc, txn_read_your_writes);
    tcase_add_test(tc, txn_abort_rolls_back_everything);
    tcase_add_test(tc, counters_exact);
    tcase_add_test(tc, separated_values_counters);
    tcase_add_test(tc, expired_keys_invisible);
    tcase_add_test(tc, active_expiry_in_order);
    tcase_add_test(tc, active_expiry_resumes_and_clock_back);
    tcase_add_test(tc, active_expiry_first_ttl_after_empty_cycle);
    tcase_add_test(tc, active_expiry_nearer_ttl_after_far_one);
    tcase_add_test(tc, active_expiry_mark_not_kept_across_open);
    tcase_add_test(tc, active_expiry_ttl_then_dbsize_in_one_txn);
    tcase_add_test(tc, active_expiry_mark_after_rollback);
    tcase_add_test(tc, flushdb_is_o1_and_reclaimed);
    tcase_add_test(tc, swapdb_swaps_contents_and_counters);
    tcase_add_test(tc, iterator_merges_transaction);
    tcase_add_test(tc, cursors_survive_reopen);
    tcase_add_test(tc, random_ttl_index_invariant);
    tcase_add_test(tc, blind_set_counts_exact);
    tcase_add_test(tc, blind_set_drops_stale_ttl_entries);
    tcase_add_test(tc, write_table_answers_recent_keys);
    tcase_add_test(tc, write_table_size_sets_what_it_remembers);
    tcase_add_test(tc, blind_set_crash_recounts);
    tcase_add_test(tc, blind_set_read_error_recounts);
    tcase_add_test(tc, recount_failure_fails_open);
    tcase_add_test(tc, chunked_strings);
    tcase_add_test(tc, info_sections);
    tcase_add_test(tc, group_commit_always);
    tcase_add_test(tc, write_error_and_recovery);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(keyspace_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
