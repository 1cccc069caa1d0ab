/* dbiter.c: user-key view over internal keys (see dbiter.h).
 *
 * Forward: the inner iterator sits on the entry that gives the current key
 * and value. Reverse: it sits just before every entry of the current key,
 * whose key and value are saved in saved_key / saved_value.
 * Value pointers are resolved lazily: only when value() is called (a scan
 * of keys never touches the value log). */
#include "engine/dbiter.h"

#include "engine/dbformat.h"
#include "engine/lsm.h"
#include "util/clock.h"
#include "util/zmalloc.h"

/* A value read slower than this came from the disk, not the page cache. */
#define LA_SLOW_US 40
#define LA_SLOW_READS 2         /* slow reads before the lookahead starts */
#define LA_FAST_READS 256       /* fast reads in a row that stop it */

enum { FWD = 0, REV = 1 };

static int64_t (*la_clock)(void) = clock_mono_us;

void dbiter_set_clock(int64_t (*now_us)(void))
{
    la_clock = now_us ? now_us : clock_mono_us;
}

struct dbiter {
    struct iter base;
    struct iter *in;
    uint64_t seq;
    int dir;
    int valid;
    int status;
    int has_lower, has_upper;
    struct buf lower, upper;
    struct buf saved_key;      /* user key (skip key forward, current reverse) */
    struct buf saved_value;
    struct buf resolved;       /* value of a VPTR entry */
    int cur_is_ptr;            /* the current entry's value is a pointer */
    int value_resolved;        /* `resolved` holds it */
    struct buf tmp;
    dbiter_resolve_fn resolve;
    void *resolve_arg;
    /* lookahead (dbiter_set_lookahead) */
    dbiter_clone_fn clone;
    void *clone_arg;
    dbiter_prefetch_fn prefetch;
    void *prefetch_arg;
    struct iter *la;           /* internal iterator ahead of `in`, or NULL */
    int la_slow;               /* slow value reads seen while off */
    int la_fast;               /* fast reads in a row while on */
    int la_on;                 /* reads are slow: look ahead */
    int la_pos;                /* la is positioned for the current scan */
    int la_ahead;              /* pointers prefetched past the current entry */
};

static int parse_cur(struct dbiter *d, struct ikey_parsed *p)
{
    if (ikey_parse(iter_key(d->in), p) != 0) {
        d->status = LSM_ECORRUPT;
        return -1;
    }
    return 0;
}

static int above_upper(const struct dbiter *d, struct slice ukey)
{
    return d->has_upper && slice_compare(ukey, buf_slice(&d->upper)) >= 0;
}

static int below_lower(const struct dbiter *d, struct slice ukey)
{
    return d->has_lower && slice_compare(ukey, buf_slice(&d->lower)) < 0;
}

/* The current entry's user key. */
static struct slice cur_key(const struct dbiter *d)
{
    if (d->dir == FWD)
        return ikey_user_key(iter_key(d->in));
    return buf_slice(&d->saved_key);
}

/* Resolves the current VPTR value into d->resolved; 0 or an error (status
 * set). The key goes along: the value-log entry must be this key's. */
static int resolve_value(struct dbiter *d, struct slice ptr)
{
    int rc = d->resolve ? d->resolve(d->resolve_arg, cur_key(d), ptr, &d->resolved)
                        : LSM_ECORRUPT;
    if (rc != 0)
        d->status = rc;
    return rc;
}

/* Keeps la up to DBITER_LOOKAHEAD value pointers ahead of the current
 * (forward) entry, handing each to prefetch. Shadowed versions may be
 * prefetched too: a wasted read hint, never a wrong value. */
static void lookahead(struct dbiter *d)
{
    struct slice cur = ikey_user_key(iter_key(d->in));
    if (d->la == NULL) {
        d->la = d->clone(d->clone_arg);
        if (d->la == NULL) {
            d->la_on = 0;
            d->clone = NULL;
            return;
        }
    }
    if (d->la_pos && iter_valid(d->la) &&
        slice_compare(ikey_user_key(iter_key(d->la)), cur) > 0) {
        if (d->la_ahead > 0)
            d->la_ahead--;          /* the current entry was one of them */
    } else if (!d->la_pos || iter_valid(d->la)) {
        /* Start, or fallen behind (keys stepped over without values). */
        iter_seek(d->la, iter_key(d->in));
        while (iter_valid(d->la) && slice_compare(ikey_user_key(iter_key(d->la)), cur) <= 0)
            iter_next(d->la);
        d->la_pos = 1;
        d->la_ahead = 0;
    }
    while (d->la_ahead < DBITER_LOOKAHEAD && iter_valid(d->la)) {
        struct ikey_parsed p;
        if (ikey_parse(iter_key(d->la), &p) != 0 || above_upper(d, p.user_key))
            break;
        if (p.seq <= d->seq && p.type == LSM_TYPE_VPTR) {
            d->prefetch(d->prefetch_arg, iter_value(d->la));
            d->la_ahead++;
        }
        iter_next(d->la);
    }
}

/* Turns the lookahead on after LA_SLOW_READS slow reads in a row, off again
 * after LA_FAST_READS fast ones in a row (the values are cached now). */
static void la_account(struct dbiter *d, int slow)
{
    if (slow) {
        d->la_fast = 0;
        if (!d->la_on && ++d->la_slow >= LA_SLOW_READS) {
            d->la_on = 1;
            d->la_pos = 0;
        }
    } else if (!d->la_on) {
        d->la_slow = 0;             /* slow reads in a row, not a stray one */
    } else if (++d->la_fast >= LA_FAST_READS) {
        d->la_on = 0;
        d->la_slow = 0;
        d->la_fast = 0;
    }
}

static void set_invalid(struct dbiter *d)
{
    d->valid = 0;
    buf_clear(&d->saved_key);
    buf_clear(&d->saved_value);
}

static void find_next_user_entry(struct dbiter *d, int skipping)
{
    d->value_resolved = 0;
    d->cur_is_ptr = 0;
    while (iter_valid(d->in)) {
        struct ikey_parsed p;
        if (parse_cur(d, &p) != 0)
            break;
        if (above_upper(d, p.user_key))
            break;
        if (p.seq <= d->seq) {
            if (p.type == LSM_TYPE_DELETION) {
                buf_set(&d->saved_key, p.user_key.data, p.user_key.len);
                skipping = 1;
            } else if (!skipping ||
                       slice_compare(p.user_key, buf_slice(&d->saved_key)) > 0) {
                d->cur_is_ptr = p.type == LSM_TYPE_VPTR;
                d->valid = 1;
                buf_clear(&d->saved_key);
                return;
            }
        }
        iter_next(d->in);
    }
    set_invalid(d);
}

static void find_prev_user_entry(struct dbiter *d)
{
    int vtype = LSM_TYPE_DELETION;

    while (iter_valid(d->in)) {
        struct ikey_parsed p;
        if (parse_cur(d, &p) != 0) {
            vtype = LSM_TYPE_DELETION;
            break;
        }
        if (below_lower(d, p.user_key))
            break;
        if (p.seq <= d->seq) {
            if (vtype != LSM_TYPE_DELETION &&
                slice_compare(p.user_key, buf_slice(&d->saved_key)) < 0)
                break;     /* an entry of the previous key: current is final */
            vtype = p.type;
            if (vtype == LSM_TYPE_DELETION) {
                buf_clear(&d->saved_key);
                buf_clear(&d->saved_value);
            } else {
                struct slice v = iter_value(d->in);
                buf_set(&d->saved_key, p.user_key.data, p.user_key.len);
                buf_set(&d->saved_value, v.data, v.len);
            }
        }
        iter_prev(d->in);
    }
    d->value_resolved = 0;
    d->cur_is_ptr = vtype == LSM_TYPE_VPTR;
    if (vtype == LSM_TYPE_DELETION || d->status != 0) {
        set_invalid(d);
        d->dir = FWD;
    } else {
        d->valid = 1;
    }
}

static int di_valid(const struct iter *it)
{
    const struct dbiter *d = (const struct dbiter *)it;
    return d->valid && d->status == 0;
}

static void di_seek_to_first(struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;
    d->la_pos = 0;
    d->dir = FWD;
    d->status = 0;
    buf_clear(&d->saved_value);
    if (d->has_lower) {
        buf_clear(&d->tmp);
        ikey_append(&d->tmp, buf_slice(&d->lower), LSM_MAX_SEQ, LSM_TYPE_SEEK);
        iter_seek(d->in, buf_slice(&d->tmp));
    } else {
        iter_seek_to_first(d->in);
    }
    find_next_user_entry(d, 0);
}

static void di_seek_to_last(struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;
    d->la_pos = 0;
    d->dir = REV;
    d->status = 0;
    buf_clear(&d->saved_value);
    if (d->has_upper) {
        /* Last entry before every version of `upper`. */
        buf_clear(&d->tmp);
        ikey_append(&d->tmp, buf_slice(&d->upper), LSM_MAX_SEQ, LSM_TYPE_SEEK);
        iter_seek_for_prev(d->in, buf_slice(&d->tmp));
        if (iter_valid(d->in) &&
            slice_compare(ikey_user_key(iter_key(d->in)), buf_slice(&d->upper)) >= 0)
            iter_prev(d->in);
    } else {
        iter_seek_to_last(d->in);
    }
    find_prev_user_entry(d);
}

static void di_seek(struct iter *it, struct slice target)
{
    struct dbiter *d = (struct dbiter *)it;
    d->la_pos = 0;
    d->dir = FWD;
    d->status = 0;
    buf_clear(&d->saved_value);
    if (d->has_lower && slice_compare(target, buf_slice(&d->lower)) < 0)
        target = buf_slice(&d->lower);
    buf_clear(&d->tmp);
    ikey_append(&d->tmp, target, d->seq, LSM_TYPE_SEEK);
    iter_seek(d->in, buf_slice(&d->tmp));
    find_next_user_entry(d, 0);
}

static void di_seek_for_prev(struct iter *it, struct slice target)
{
    struct dbiter *d = (struct dbiter *)it;
    if (d->has_upper && slice_compare(target, buf_slice(&d->upper)) >= 0) {
        di_seek_to_last(it);
        return;
    }
    d->la_pos = 0;
    d->dir = REV;
    d->status = 0;
    buf_clear(&d->saved_value);
    buf_clear(&d->tmp);
    /* (target, 0, lowest type) is the last possible entry of target. */
    ikey_append(&d->tmp, target, 0, LSM_TYPE_DELETION);
    iter_seek_for_prev(d->in, buf_slice(&d->tmp));
    find_prev_user_entry(d);
}

static void di_next(struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;

    if (!d->valid)
        return;
    if (d->dir == REV) {
        /* The inner iterator is before the current key's entries; step
         * into them, saved_key holds the key to skip past. */
        d->dir = FWD;
        if (!iter_valid(d->in))
            iter_seek_to_first(d->in);
        else
            iter_next(d->in);
    } else {
        struct slice uk = ikey_user_key(iter_key(d->in));
        buf_set(&d->saved_key, uk.data, uk.len);
        iter_next(d->in);
    }
    find_next_user_entry(d, 1);
}

static void di_prev(struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;

    if (!d->valid)
        return;
    d->la_pos = 0;
    if (d->dir == FWD) {
        struct slice uk = ikey_user_key(iter_key(d->in));
        buf_set(&d->saved_key, uk.data, uk.len);
        for (;;) {
            iter_prev(d->in);
            if (!iter_valid(d->in)) {
                set_invalid(d);
                return;
            }
            if (slice_compare(ikey_user_key(iter_key(d->in)), buf_slice(&d->saved_key)) < 0)
                break;
        }
        d->dir = REV;
    }
    find_prev_user_entry(d);
}

static struct slice di_key(const struct iter *it)
{
    return cur_key((const struct dbiter *)it);
}

/* The stored value: the value itself or the pointer bytes. */
static struct slice raw_value(const struct dbiter *d)
{
    return d->dir == FWD ? iter_value(d->in) : buf_slice(&d->saved_value);
}

static struct slice di_value(const struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;    /* lazy resolution caches */
    if (!d->cur_is_ptr)
        return raw_value(d);
    if (!d->value_resolved) {
        buf_clear(&d->resolved);
        if (d->la_on && d->dir == FWD)
            lookahead(d);           /* the next reads start before this one */
        int64_t t0 = d->clone != NULL ? la_clock() : -1;   /* the read alone */
        if (resolve_value(d, raw_value(d)) != 0) {
            set_invalid(d);
            return slice_make(NULL, 0);
        }
        d->value_resolved = 1;
        if (t0 >= 0)
            la_account(d, la_clock() - t0 >= LA_SLOW_US);
    }
    return buf_slice(&d->resolved);
}

int dbiter_raw_value(const struct iter *it, struct slice *raw)
{
    const struct dbiter *d = (const struct dbiter *)it;
    *raw = raw_value(d);
    return d->cur_is_ptr;
}

static int di_status(const struct iter *it)
{
    const struct dbiter *d = (const struct dbiter *)it;
    if (d->status != 0)
        return d->status;
    return iter_status(d->in);
}

static void di_destroy(struct iter *it)
{
    struct dbiter *d = (struct dbiter *)it;
    iter_destroy(d->in);
    if (d->la != NULL)
        iter_destroy(d->la);
    buf_free(&d->lower);
    buf_free(&d->upper);
    buf_free(&d->saved_key);
    buf_free(&d->saved_value);
    buf_free(&d->resolved);
    buf_free(&d->tmp);
    zfree(d);
}

static const struct iter_ops dbiter_ops = {
    di_valid, di_seek_to_first, di_seek_to_last, di_seek, di_seek_for_prev,
    di_next, di_prev, di_key, di_value, di_status, di_destroy
};

struct iter *dbiter_create(struct iter *inner, uint64_t seq,
                           const struct slice *lower, const struct slice *upper,
                           dbiter_resolve_fn resolve, void *resolve_arg)
{
    struct dbiter *d = zcalloc(sizeof *d);

    d->base.ops = &dbiter_ops;
    d->in = inner;
    d->seq = seq;
    d->resolve = resolve;
    d->resolve_arg = resolve_arg;
    if (lower != NULL) {
        d->has_lower = 1;
        buf_set(&d->lower, lower->data, lower->len);
    }
    if (upper != NULL) {
        d->has_upper = 1;
        buf_set(&d->upper, upper->data, upper->len);
    }
    return &d->base;
}

void dbiter_set_lookahead(struct iter *it, dbiter_clone_fn clone, void *clone_arg,
                          dbiter_prefetch_fn prefetch, void *prefetch_arg)
{
    struct dbiter *d = (struct dbiter *)it;
    d->clone = clone;
    d->clone_arg = clone_arg;
    d->prefetch = prefetch;
    d->prefetch_arg = prefetch_arg;
}
