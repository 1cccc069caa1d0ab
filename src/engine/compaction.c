/* compaction.c: the leveled picker (see compaction.h). */
#include "engine/compaction.h"

#include <string.h>

#include "util/zmalloc.h"

uint64_t compaction_max_bytes(const struct compaction_options *o, int level)
{
    uint64_t r = o->base_bytes;
    while (level > 1) {
        r *= (uint64_t)o->multiplier;
        level--;
    }
    return r;
}

void compaction_scores(const struct version *v, const struct compaction_options *o,
                       double score[LSM_NUM_LEVELS])
{
    int l;

    score[0] = (double)v->nfiles[0] / (double)o->l0_trigger;
    for (l = 1; l < LSM_NUM_LEVELS - 1; l++)
        score[l] = (double)version_level_bytes(v, l) / (double)compaction_max_bytes(o, l);
    score[LSM_NUM_LEVELS - 1] = 0;
}

uint64_t compaction_pending_bytes(const struct version *v,
                                  const struct compaction_options *o)
{
    uint64_t total = 0;
    int l;

    if (v->nfiles[0] >= o->l0_trigger)
        total += version_level_bytes(v, 0) + version_level_bytes(v, 1);
    for (l = 1; l < LSM_NUM_LEVELS - 1; l++) {
        uint64_t b = version_level_bytes(v, l), max = compaction_max_bytes(o, l);
        if (b > max)
            /* The excess moves down and rewrites about `multiplier` times its
             * size of the next level. */
            total += (b - max) * (uint64_t)(o->multiplier + 1);
    }
    return total;
}

uint64_t compaction_input_bytes(const struct compaction *c, int which)
{
    uint64_t s = 0;
    int i;
    for (i = 0; i < c->ninputs[which]; i++)
        s += c->inputs[which][i]->size;
    return s;
}

static void user_range(struct file_meta **files, int n, struct buf *lo, struct buf *hi,
                       int extend)
{
    int i;
    for (i = 0; i < n; i++) {
        struct slice s = ikey_user_key(buf_slice(&files[i]->smallest));
        struct slice l = ikey_user_key(buf_slice(&files[i]->largest));
        if ((!extend && i == 0) || slice_compare(s, buf_slice(lo)) < 0)
            buf_set(lo, s.data, s.len);
        if ((!extend && i == 0) || slice_compare(l, buf_slice(hi)) > 0)
            buf_set(hi, l.data, l.len);
    }
}

static int any_marked(struct file_meta **files, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (files[i]->being_compacted)
            return 1;
    return 0;
}

static int ranges_overlap(struct slice a_lo, struct slice a_hi, struct slice b_lo,
                          struct slice b_hi)
{
    return !(slice_compare(a_hi, b_lo) < 0 || slice_compare(b_hi, a_lo) < 0);
}

/* 1 when a compaction of [lo, hi] on levels level/out_level would conflict
 * with a running one. */
static int conflicts(struct compaction **running, int nrunning, int level, int out_level,
                     struct slice lo, struct slice hi)
{
    int i;
    for (i = 0; i < nrunning; i++) {
        const struct compaction *r = running[i];
        int shared = r->level == level || r->level == out_level ||
                     r->out_level == level || r->out_level == out_level;
        if (level == 0 && r->level == 0)
            return 1;
        if (shared && ranges_overlap(lo, hi, buf_slice(&r->smallest), buf_slice(&r->largest)))
            return 1;
    }
    return 0;
}

static struct compaction *compaction_new(struct version *v, int level,
                                         const struct compaction_options *o)
{
    struct compaction *c = zcalloc(sizeof *c);
    c->level = level;
    c->out_level = level + 1;
    c->version = v;
    c->max_output_file_size = o->target_file_size;
    version_edit_init(&c->edit);
    return c;
}

static void compaction_free(struct compaction *c)
{
    zfree(c->inputs[0]);
    zfree(c->inputs[1]);
    zfree(c->grandparents);
    buf_free(&c->smallest);
    buf_free(&c->largest);
    version_edit_free(&c->edit);
    zfree(c);
}

/* Completes c from inputs[0]: output-level inputs, grandparents, range;
 * returns -1 (c freed) on a conflict. */
static int compaction_setup(struct compaction *c, struct compaction **running, int nrunning)
{
    struct version *v = c->version;
    struct buf lo = BUF_INIT, hi = BUF_INIT;
    struct slice slo, shi;
    int i;

    user_range(c->inputs[0], c->ninputs[0], &lo, &hi, 0);
    slo = buf_slice(&lo);
    shi = buf_slice(&hi);
    if (c->out_level != c->level)   /* else a level into itself: no second input */
        version_overlapping(v, c->out_level, &slo, &shi, &c->inputs[1], &c->ninputs[1]);
    buf_set(&c->smallest, lo.data, lo.len);
    buf_set(&c->largest, hi.data, hi.len);
    user_range(c->inputs[1], c->ninputs[1], &c->smallest, &c->largest, 1);
    if (c->out_level + 1 < LSM_NUM_LEVELS) {
        slo = buf_slice(&c->smallest);
        shi = buf_slice(&c->largest);
        version_overlapping(v, c->out_level + 1, &slo, &shi, &c->grandparents, &c->ngrand);
    }
    buf_free(&lo);
    buf_free(&hi);
    if (any_marked(c->inputs[0], c->ninputs[0]) || any_marked(c->inputs[1], c->ninputs[1]) ||
        conflicts(running, nrunning, c->level, c->out_level, buf_slice(&c->smallest),
                  buf_slice(&c->largest))) {
        compaction_free(c);
        return -1;
    }
    for (i = 0; i < c->ninputs[0]; i++)
        c->inputs[0][i]->being_compacted = 1;
    for (i = 0; i < c->ninputs[1]; i++)
        c->inputs[1][i]->being_compacted = 1;
    version_ref(v);
    return 0;
}

static struct compaction *pick_level0(struct version_set *vs,
                                      const struct compaction_options *o,
                                      struct compaction **running, int nrunning)
{
    struct version *v = vs->current;
    struct compaction *c;
    struct slice lo, hi;

    if (v->nfiles[0] == 0 || any_marked(v->files[0], v->nfiles[0]))
        return NULL;
    c = compaction_new(v, 0, o);
    /* The oldest file and every L0 file overlapping it, transitively. */
    lo = ikey_user_key(buf_slice(&v->files[0][0]->smallest));
    hi = ikey_user_key(buf_slice(&v->files[0][0]->largest));
    version_overlapping(v, 0, &lo, &hi, &c->inputs[0], &c->ninputs[0]);
    if (compaction_setup(c, running, nrunning) != 0)
        return NULL;
    return c;
}

static struct compaction *pick_level(struct version_set *vs,
                                     const struct compaction_options *o, int level,
                                     struct compaction **running, int nrunning)
{
    struct version *v = vs->current;
    int n = v->nfiles[level], start = 0, k;

    if (n == 0)
        return NULL;
    /* Round robin: begin after the last key compacted at this level. */
    if (vs->compact_ptr[level].len > 0) {
        start = version_find_file(v, level, buf_slice(&vs->compact_ptr[level]));
        if (start < n && ikey_compare(buf_slice(&v->files[level][start]->largest),
                                      buf_slice(&vs->compact_ptr[level])) <= 0)
            start++;
        if (start >= n)
            start = 0;
    }
    for (k = 0; k < n; k++) {
        struct file_meta *f = v->files[level][(start + k) % n];
        struct compaction *c;
        if (f->being_compacted)
            continue;
        c = compaction_new(v, level, o);
        c->inputs[0] = zmalloc(sizeof(*c->inputs[0]));
        c->inputs[0][0] = f;
        c->ninputs[0] = 1;
        if (compaction_setup(c, running, nrunning) == 0) {
            buf_set(&vs->compact_ptr[level], f->largest.data, f->largest.len);
            return c;
        }
    }
    return NULL;
}

struct compaction *compaction_pick(struct version_set *vs,
                                   const struct compaction_options *o,
                                   struct compaction **running, int nrunning)
{
    double score[LSM_NUM_LEVELS];
    int order[LSM_NUM_LEVELS], i, j;

    compaction_scores(vs->current, o, score);
    for (i = 0; i < LSM_NUM_LEVELS; i++)
        order[i] = i;
    for (i = 1; i < LSM_NUM_LEVELS; i++)
        for (j = i; j > 0 && score[order[j]] > score[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (i = 0; i < LSM_NUM_LEVELS - 1; i++) {
        int l = order[i];
        struct compaction *c;
        if (score[l] < 1.0)
            break;
        c = l == 0 ? pick_level0(vs, o, running, nrunning)
                   : pick_level(vs, o, l, running, nrunning);
        if (c != NULL)
            return c;
    }
    return NULL;
}

/* A manual compaction of level's files in [begin, end] into out_level. */
static struct compaction *pick_range(struct version_set *vs,
                                     const struct compaction_options *o, int level,
                                     int out_level, const struct slice *begin,
                                     const struct slice *end, struct compaction **running,
                                     int nrunning, int *busy)
{
    struct version *v = vs->current;
    struct compaction *c;

    *busy = 0;
    c = compaction_new(v, level, o);
    c->out_level = out_level;
    c->manual = 1;
    version_overlapping(v, level, begin, end, &c->inputs[0], &c->ninputs[0]);
    if (c->ninputs[0] == 0) {
        compaction_free(c);
        return NULL;
    }
    if (compaction_setup(c, running, nrunning) != 0) {
        *busy = 1;
        return NULL;
    }
    return c;
}

struct compaction *compaction_pick_range(struct version_set *vs,
                                         const struct compaction_options *o,
                                         int level, const struct slice *begin,
                                         const struct slice *end,
                                         struct compaction **running, int nrunning,
                                         int *busy)
{
    *busy = 0;
    if (level >= LSM_NUM_LEVELS - 1)
        return NULL;
    return pick_range(vs, o, level, level + 1, begin, end, running, nrunning, busy);
}

struct compaction *compaction_pick_range_bottom(struct version_set *vs,
                                                const struct compaction_options *o,
                                                int level, const struct slice *begin,
                                                const struct slice *end,
                                                struct compaction **running, int nrunning,
                                                int *busy)
{
    *busy = 0;
    if (level < 1 || level >= LSM_NUM_LEVELS)
        return NULL;
    return pick_range(vs, o, level, level, begin, end, running, nrunning, busy);
}

int compaction_is_trivial_move(const struct compaction *c)
{
    uint64_t g = 0;
    int i;

    if (c->ninputs[0] != 1 || c->ninputs[1] != 0 || c->manual)
        return 0;
    for (i = 0; i < c->ngrand; i++)
        g += c->grandparents[i]->size;
    return g <= 10 * c->max_output_file_size;
}

void compaction_add_input_deletions(struct compaction *c)
{
    int w, i;
    for (w = 0; w < 2; w++)
        for (i = 0; i < c->ninputs[w]; i++)
            version_edit_delete_file(&c->edit, w == 0 ? c->level : c->out_level,
                                     c->inputs[w][i]->number);
}

int compaction_is_base_level_for_key(const struct compaction *c, struct slice user_key)
{
    int l;
    for (l = c->out_level + 1; l < LSM_NUM_LEVELS; l++)
        if (version_overlap_in_level(c->version, l, &user_key, &user_key))
            return 0;
    return 1;
}

int compaction_should_stop_before(struct compaction *c, struct slice ikey)
{
    while (c->grand_index < c->ngrand &&
           ikey_compare(ikey, buf_slice(&c->grandparents[c->grand_index]->largest)) > 0) {
        if (c->seen_key)
            c->overlapped_bytes += c->grandparents[c->grand_index]->size;
        c->grand_index++;
    }
    c->seen_key = 1;
    if (c->overlapped_bytes > 10 * c->max_output_file_size) {
        c->overlapped_bytes = 0;
        return 1;
    }
    return 0;
}

void compaction_release(struct compaction *c)
{
    int w, i;

    if (c == NULL)
        return;
    for (w = 0; w < 2; w++)
        for (i = 0; i < c->ninputs[w]; i++)
            c->inputs[w][i]->being_compacted = 0;
    version_unref(c->version);
    compaction_free(c);
}
