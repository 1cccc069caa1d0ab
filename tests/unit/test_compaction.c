/* test_compaction: the leveled picker's choices on hand-made versions (no
 * table files needed): triggers and scores, L0 overlap expansion, round
 * robin, trivial moves, concurrency rules, grandparent splits, base-level
 * checks, manual ranges. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/compaction.h"
#include "engine/lsm.h"
#include "util/zmalloc.h"
#include "db_test.h"

static char dir[4096];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct version_set *vs;
static struct compaction_options co;

static void setup(void)
{
    dt_mkdtemp(dir, sizeof dir);
    vs = version_set_create(NULL, dir);
    ck_assert_int_eq(version_set_create_new(vs), 0);
    ck_assert_int_eq(version_set_recover(vs), 0);
    co.l0_trigger = 4;
    co.base_bytes = 10000;
    co.multiplier = 10;
    co.target_file_size = 1000;
}

static void teardown(void)
{
    version_set_destroy(vs);
    dt_rmrf(dir);
}

static uint64_t add(int level, const char *lo, const char *hi, uint64_t size)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct version_edit e;
    uint64_t num = version_set_new_file_number(vs);
    struct file_meta *f;
    ikey_append(&a, slice_cstr(lo), num, LSM_TYPE_VALUE);
    ikey_append(&b, slice_cstr(hi), num, LSM_TYPE_VALUE);
    f = file_meta_create(num, size, buf_slice(&a), buf_slice(&b), num, num);
    version_edit_init(&e);
    version_edit_add_file(&e, level, f);
    file_meta_unref(f);
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(version_set_log_and_apply(vs, &e, &mu), 0);
    pthread_mutex_unlock(&mu);
    version_edit_free(&e);
    buf_free(&a);
    buf_free(&b);
    return num;
}

static int has_input(const struct compaction *c, int which, uint64_t num)
{
    int i;
    for (i = 0; i < c->ninputs[which]; i++)
        if (c->inputs[which][i]->number == num)
            return 1;
    return 0;
}

START_TEST(test_nothing_to_do)
{
    ck_assert_ptr_null(compaction_pick(vs, &co, NULL, 0));
    add(0, "a", "c", 100);
    add(0, "b", "d", 100);
    add(0, "x", "z", 100);
    ck_assert_ptr_null(compaction_pick(vs, &co, NULL, 0));   /* 3 < trigger 4 */
    add(1, "a", "z", 9000);                                    /* under 10000 */
    ck_assert_ptr_null(compaction_pick(vs, &co, NULL, 0));
}
END_TEST

START_TEST(test_l0_trigger_and_overlap)
{
    uint64_t f1 = add(0, "a", "c", 100), f2 = add(0, "b", "e", 100);
    uint64_t f3 = add(0, "d", "f", 100), f4 = add(0, "x", "z", 100);
    uint64_t l1a = add(1, "a", "b", 100), l1b = add(1, "e", "g", 100), l1c = add(1, "h", "k", 100);
    double score[LSM_NUM_LEVELS];
    struct compaction *c;

    compaction_scores(vs->current, &co, score);
    ck_assert(score[0] >= 1.0);
    c = compaction_pick(vs, &co, NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->level, 0);
    ck_assert_int_eq(c->out_level, 1);
    /* oldest file + transitive overlaps: a-c, b-e, d-f; not x-z */
    ck_assert_int_eq(c->ninputs[0], 3);
    ck_assert(has_input(c, 0, f1) && has_input(c, 0, f2) && has_input(c, 0, f3));
    ck_assert(!has_input(c, 0, f4));
    ck_assert(has_input(c, 1, l1a) && has_input(c, 1, l1b) && !has_input(c, 1, l1c));
    ck_assert(!compaction_is_trivial_move(c));
    /* A second L0 compaction never runs beside the first. */
    ck_assert_ptr_null(compaction_pick(vs, &co, &c, 1));
    pthread_mutex_lock(&mu);
    compaction_release(c);
    pthread_mutex_unlock(&mu);
}
END_TEST

START_TEST(test_level_score_round_robin_trivial)
{
    uint64_t a = add(1, "a", "b", 6000), b = add(1, "c", "d", 6000);
    uint64_t g = add(2, "c", "c", 100);
    struct compaction *c1, *c2;

    c1 = compaction_pick(vs, &co, NULL, 0);     /* L1 = 12000 > 10000 */
    ck_assert_ptr_nonnull(c1);
    ck_assert_int_eq(c1->level, 1);
    ck_assert(has_input(c1, 0, a));
    ck_assert_int_eq(c1->ninputs[1], 0);
    ck_assert(compaction_is_trivial_move(c1));  /* nothing below overlaps */
    /* Runs concurrently with a disjoint compaction of the same level. */
    c2 = compaction_pick(vs, &co, &c1, 1);
    ck_assert_ptr_nonnull(c2);
    ck_assert(has_input(c2, 0, b));
    ck_assert(has_input(c2, 1, g));
    ck_assert(!compaction_is_trivial_move(c2));
    pthread_mutex_lock(&mu);
    compaction_release(c1);
    compaction_release(c2);
    pthread_mutex_unlock(&mu);
    /* Round robin: the next pick starts after the last key compacted (d). */
    c1 = compaction_pick(vs, &co, NULL, 0);
    ck_assert_ptr_nonnull(c1);
    ck_assert(has_input(c1, 0, a));
    pthread_mutex_lock(&mu);
    compaction_release(c1);
    pthread_mutex_unlock(&mu);
}
END_TEST

START_TEST(test_conflicting_ranges_wait)
{
    struct compaction *c1, *c2;
    int busy;
    uint64_t l1 = add(1, "a", "m", 20000);
    add(2, "a", "z", 100);
    c1 = compaction_pick(vs, &co, NULL, 0);
    ck_assert_ptr_nonnull(c1);
    ck_assert(has_input(c1, 0, l1));
    /* The L2 file is an input of c1: a manual L2 compaction must wait. */
    c2 = compaction_pick_range(vs, &co, 2, NULL, NULL, &c1, 1, &busy);
    ck_assert_ptr_null(c2);
    ck_assert_int_eq(busy, 1);
    /* Nothing in L3 range: manual L3 has nothing to do. */
    c2 = compaction_pick_range(vs, &co, 3, NULL, NULL, &c1, 1, &busy);
    ck_assert_ptr_null(c2);
    ck_assert_int_eq(busy, 0);
    pthread_mutex_lock(&mu);
    compaction_release(c1);
    pthread_mutex_unlock(&mu);
    c2 = compaction_pick_range(vs, &co, 2, NULL, NULL, NULL, 0, &busy);
    ck_assert_ptr_nonnull(c2);
    ck_assert(c2->manual);
    ck_assert(!compaction_is_trivial_move(c2));   /* manual: always rewrite */
    pthread_mutex_lock(&mu);
    compaction_release(c2);
    pthread_mutex_unlock(&mu);
}
END_TEST

/* compaction_pick_range_bottom: the level's files in the range, compacted
 * into the level itself (no second input), never trivially moved; waits for
 * a running compaction that holds one of them. */
START_TEST(test_bottom_range_into_itself)
{
    uint64_t a = add(3, "a", "c", 100), b = add(3, "d", "f", 100), z = add(3, "x", "z", 100);
    struct slice lo = slice_cstr("b"), hi = slice_cstr("e");
    struct compaction *c, *c2;
    int busy;

    c = compaction_pick_range_bottom(vs, &co, 3, &lo, &hi, NULL, 0, &busy);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->level, 3);
    ck_assert_int_eq(c->out_level, 3);
    ck_assert_int_eq(c->ninputs[0], 2);
    ck_assert(has_input(c, 0, a) && has_input(c, 0, b) && !has_input(c, 0, z));
    ck_assert_int_eq(c->ninputs[1], 0);
    ck_assert(c->manual && !compaction_is_trivial_move(c));
    /* Nothing below: a tombstone may be dropped at the output. */
    ck_assert(compaction_is_base_level_for_key(c, slice_cstr("b")));
    c2 = compaction_pick_range_bottom(vs, &co, 3, NULL, NULL, &c, 1, &busy);
    ck_assert_ptr_null(c2);
    ck_assert_int_eq(busy, 1);
    /* The edit (inputs deleted, outputs added on the same level) applies. */
    compaction_add_input_deletions(c);
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(version_set_log_and_apply(vs, &c->edit, &mu), 0);
    compaction_release(c);
    pthread_mutex_unlock(&mu);
    ck_assert_int_eq(vs->current->nfiles[3], 1);
    /* L0 never compacts into itself; an empty range has nothing to do. */
    ck_assert_ptr_null(compaction_pick_range_bottom(vs, &co, 0, NULL, NULL, NULL, 0, &busy));
    ck_assert_ptr_null(compaction_pick_range_bottom(vs, &co, 3, &lo, &hi, NULL, 0, &busy));
    ck_assert_int_eq(busy, 0);
}
END_TEST

START_TEST(test_grandparent_split_and_base_level)
{
    struct compaction *c;
    struct buf k = BUF_INIT;
    int i, cuts = 0;
    char key[8];

    add(1, "a", "z", 20000);
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "g%02d", i);
        add(3, key, key, 3000);       /* grandparents of an L1->L2 compaction */
    }
    add(4, "q", "q", 10);
    c = compaction_pick(vs, &co, NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->ngrand, 20);
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "g%02dz", i);
        buf_clear(&k);
        ikey_append(&k, slice_cstr(key), 1, LSM_TYPE_VALUE);
        cuts += compaction_should_stop_before(c, buf_slice(&k));
    }
    /* 3000 bytes of grandparent per key, limit 10 x 1000: a cut about every
     * 4 keys. */
    ck_assert_int_ge(cuts, 3);
    ck_assert_int_le(cuts, 6);
    ck_assert(!compaction_is_base_level_for_key(c, slice_cstr("g05")));
    ck_assert(!compaction_is_base_level_for_key(c, slice_cstr("q")));
    ck_assert(compaction_is_base_level_for_key(c, slice_cstr("b")));
    pthread_mutex_lock(&mu);
    compaction_release(c);
    pthread_mutex_unlock(&mu);
    buf_free(&k);
}
END_TEST

START_TEST(test_pending_bytes_and_max)
{
    ck_assert_uint_eq(compaction_max_bytes(&co, 1), 10000);
    ck_assert_uint_eq(compaction_max_bytes(&co, 3), 1000000);
    ck_assert_uint_eq(compaction_pending_bytes(vs->current, &co), 0);
    add(1, "a", "b", 15000);
    ck_assert_uint_eq(compaction_pending_bytes(vs->current, &co), 5000 * 11);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compaction");
    TCase *tc = tcase_create("picker");
    SRunner *sr;
    int failed;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nothing_to_do);
    tcase_add_test(tc, test_l0_trigger_and_overlap);
    tcase_add_test(tc, test_level_score_round_robin_trivial);
    tcase_add_test(tc, test_conflicting_ranges_wait);
    tcase_add_test(tc, test_bottom_range_into_itself);
    tcase_add_test(tc, test_grandparent_split_and_base_level);
    tcase_add_test(tc, test_pending_bytes_and_max);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
