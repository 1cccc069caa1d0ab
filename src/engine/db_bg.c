/* db_bg.c: background work of the engine: memtable flushes (TPOOL_HIGH),
 * compactions (TPOOL_LOW), deletion of obsolete files. See db_impl.h. */
#include "engine/db_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/memtable.h"
#include "engine/table_cache.h"
#include "engine/vlog_gc.h"
#include "util/clock.h"
#include "util/io.h"
#include "util/log.h"
#include "util/tpool.h"
#include "util/zmalloc.h"

void db_pending_add(struct lsm_db *db, uint64_t number)
{
    if (db->npending == db->cpending) {
        db->cpending = db->cpending ? db->cpending * 2 : 8;
        db->pending = zrealloc(db->pending, sizeof(*db->pending) * (size_t)db->cpending);
    }
    db->pending[db->npending++] = number;
}

void db_pending_remove(struct lsm_db *db, uint64_t number)
{
    int i;
    for (i = 0; i < db->npending; i++)
        if (db->pending[i] == number) {
            db->pending[i] = db->pending[--db->npending];
            return;
        }
}

struct iter *db_table_iter(void *arg, const struct file_meta *f)
{
    struct lsm_db *db = arg;
    struct sst_read_options ro;
    sst_read_options_init(&ro);
    ro.fill_cache = 0;
    return table_cache_iter(db->tc, &ro, f->number, f->size, NULL);
}

/* ---- table output ---- */

struct table_out {
    struct io_file *file;
    struct sst_builder *b;
    uint64_t number;
    struct buf path;
    struct buf smallest, largest;
    uint64_t sseq, lseq;
    uint64_t entries;
};

static int out_open(struct lsm_db *db, struct table_out *o, uint64_t number)
{
    struct sst_options so;
    int rc;

    memset(o, 0, sizeof *o);
    o->number = number;
    o->sseq = UINT64_MAX;
    sst_file_path(&o->path, db->dir, number);
    buf_cstr(&o->path);
    rc = io_open_append(db->env, o->path.data, &o->file);
    if (rc != 0) {
        db_set_error(version_errno(rc), "%s: create: %s", o->path.data, strerror(-rc));
        buf_free(&o->path);
        return version_errno(rc);
    }
    sst_options_from_lsm(&so, &db->opt);
    o->b = sst_builder_create(o->file, &so);
    return 0;
}

static int out_add(struct table_out *o, struct slice ikey, struct slice val)
{
    uint64_t seq = ikey_trailer(ikey) >> 8;
    int rc = sst_builder_add(o->b, ikey, val);
    if (rc != 0)
        return rc;
    if (o->entries == 0)
        buf_set(&o->smallest, ikey.data, ikey.len);
    buf_set(&o->largest, ikey.data, ikey.len);
    if (seq < o->sseq)
        o->sseq = seq;
    if (seq > o->lseq)
        o->lseq = seq;
    o->entries++;
    return 0;
}

/* Finishes, syncs and closes the table; *meta = its metadata (NULL when it
 * had no entries and was removed). */
static int out_finish(struct lsm_db *db, struct table_out *o, struct file_meta **meta,
                      uint64_t *bytes)
{
    struct sst_props props;
    int rc = 0, rc2;

    *meta = NULL;
    if (o->entries == 0) {
        sst_builder_abandon(o->b);
        io_file_close(o->file);
        io_unlink(db->env, o->path.data);
        goto done;
    }
    sst_props_init(&props);
    rc = sst_builder_finish(o->b, &props);
    if (rc == 0) {
        rc = io_file_sync(o->file);
        if (rc != 0) {
            db_set_error(version_errno(rc), "%s: sync: %s", o->path.data, strerror(-rc));
            rc = version_errno(rc);
        }
    } else {
        db_set_error(rc, "%s: write: %s", o->path.data, sst_last_error());
    }
    rc2 = io_file_close(o->file);
    if (rc == 0 && rc2 != 0) {
        db_set_error(version_errno(rc2), "%s: close: %s", o->path.data, strerror(-rc2));
        rc = version_errno(rc2);
    }
    if (rc == 0) {
        *meta = file_meta_create(o->number, props.file_size, buf_slice(&o->smallest),
                                 buf_slice(&o->largest), o->sseq, o->lseq);
        if (bytes)
            *bytes += props.file_size;
    } else {
        io_unlink(db->env, o->path.data);
    }
    sst_props_free(&props);
done:
    buf_free(&o->path);
    buf_free(&o->smallest);
    buf_free(&o->largest);
    return rc;
}

static void out_abandon(struct lsm_db *db, struct table_out *o)
{
    sst_builder_abandon(o->b);
    io_file_close(o->file);
    io_unlink(db->env, o->path.data);
    buf_free(&o->path);
    buf_free(&o->smallest);
    buf_free(&o->largest);
}

static int sync_dir(struct lsm_db *db)
{
    int rc = io_sync_dir(db->env, db->dir);
    if (rc != 0) {
        db_set_error(version_errno(rc), "%s: fsync dir: %s", db->dir, strerror(-rc));
        return version_errno(rc);
    }
    return 0;
}

int db_write_level0(struct lsm_db *db, struct memtable *mem, uint64_t number,
                    uint64_t smallest_snap, struct version_edit *edit,
                    struct file_meta **meta)
{
    struct table_out o;
    struct iter *it;
    struct slice ukey = slice_make("", 0);   /* in mem's arena: stable */
    struct slice newer = slice_make("", 0);  /* the key's newer version if a pointer: arena */
    uint64_t bytes = 0, last_seq_for_key = 0;
    int rc, has_ukey = 0;

    *meta = NULL;
    rc = out_open(db, &o, number);
    if (rc != 0)
        return rc;
    it = memtable_iter_create(mem);
    for (iter_seek_to_first(it); iter_valid(it) && rc == 0; iter_next(it)) {
        struct ikey_parsed p;

        /* Versions come newest first within a key. The server's counter
         * record has one per write: without this, half a flushed table
         * of 100-byte SETs was old counter versions. */
        if (edit != NULL && ikey_parse(iter_key(it), &p) == 0) {
            int shadowed;

            if (!has_ukey || !slice_equal(p.user_key, ukey)) {
                ukey = p.user_key;
                has_ukey = 1;
                last_seq_for_key = LSM_MAX_SEQ + 1;
                newer = slice_make("", 0);
            }
            shadowed = last_seq_for_key <= smallest_snap;
            last_seq_for_key = p.seq;
            if (shadowed && p.type == LSM_TYPE_VPTR && db->vlog.dropped != NULL)
                db->vlog.dropped(db->vlog.arg, iter_value(it), newer, edit);
            newer = p.type == LSM_TYPE_VPTR ? iter_value(it) : slice_make("", 0);
            if (shadowed)
                continue;
        }
        rc = out_add(&o, iter_key(it), iter_value(it));
    }
    iter_destroy(it);
    if (rc != 0) {
        db_set_error(rc, "%s: write: %s", o.path.data, sst_last_error());
        out_abandon(db, &o);
        return rc;
    }
    rc = out_finish(db, &o, meta, &bytes);
    if (rc == 0 && *meta != NULL)
        rc = sync_dir(db);
    if (rc != 0 && *meta != NULL) {
        file_meta_unref(*meta);
        *meta = NULL;
    }
    return rc;
}

/* ---- flush ---- */

static void flush_job(void *arg)
{
    struct lsm_db *db = arg;

    pthread_mutex_lock(&db->mu);
    while (db->nimm > 0 && db->bg_error == 0 && !db->closing) {
        struct memtable *mem = db->imm[0];
        uint64_t number = version_set_new_file_number(db->vs);
        struct file_meta *meta = NULL;
        struct version_edit e;
        uint64_t smallest_snap = db_smallest_snapshot(db);
        int rc;

        struct io_file *vsync = db->imm_vsync[0];
        memtable_ref(mem);
        db_pending_add(db, number);
        version_edit_init(&e);
        pthread_mutex_unlock(&db->mu);
        rc = db_write_level0(db, mem, number, smallest_snap, &e, &meta);
        if (rc == 0 && vsync != NULL && (rc = io_file_sync(vsync)) < 0) {
            /* The table points into the value log: its bytes first. */
            rc = version_errno(rc);
            db_set_error(rc, "%s: value-log sync before flush: %s", db->dir, lsm_strerror(rc));
        }
        if (rc == 0)
            rc = vlog_db_wait_sealed(db);
        pthread_mutex_lock(&db->mu);
        memtable_unref(mem);
        if (rc == 0) {
            if (meta != NULL)
                version_edit_add_file(&e, 0, meta);
            /* WALs older than the next memtable's are no longer needed. */
            version_edit_set_log_number(&e, db->nimm > 1 ? db->imm_log[1] : db->mem_log);
            rc = version_set_log_and_apply(db->vs, &e, &db->mu);
            if (rc != 0)
                db_set_error(rc, "%s", db->vs->errmsg);
        }
        version_edit_free(&e);
        db_pending_remove(db, number);
        if (rc != 0) {
            file_meta_unref(meta);
            db_set_bg_error(db, rc, lsm_last_error());
            break;
        }
        if (meta != NULL) {
            db->flush_bytes += meta->size;
            db->lstats[0].bytes_written += meta->size;
            file_meta_unref(meta);
        }
        db->flushes++;
        memtable_unref(db->imm[0]);
        io_file_close(db->imm_vsync[0]);
        memmove(db->imm, db->imm + 1, sizeof(*db->imm) * (size_t)(db->nimm - 1));
        memmove(db->imm_log, db->imm_log + 1, sizeof(*db->imm_log) * (size_t)(db->nimm - 1));
        memmove(db->imm_vsync, db->imm_vsync + 1,
                sizeof(*db->imm_vsync) * (size_t)(db->nimm - 1));
        db->nimm--;
        db_sv_install(db);
        db->imm_flushed++;
        pthread_cond_broadcast(&db->bg_cv);
    }
    db->flush_scheduled = 0;
    db_maybe_schedule_compaction(db);
    vlog_db_maybe_schedule_gc(db);   /* a collected segment's WAL may be gone */
    db_delete_obsolete_files(db);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
}

static void link_job(void *arg)
{
    struct memtable *mem = arg;

    memtable_link(mem);
    memtable_unref(mem);
}

void db_schedule_memtable_link(struct lsm_db *db, struct memtable *mem)
{
    memtable_ref(mem);
    if (tpool_submit(db->pool, TPOOL_HIGH, link_job, mem) != 0) {
        memtable_link(mem);       /* no pool (closing): here, clears the claim */
        memtable_unref(mem);
    }
}

void db_maybe_schedule_flush(struct lsm_db *db)
{
    if (db->flush_scheduled || db->nimm == 0 || db->bg_error != 0 || db->closing)
        return;
    db->flush_scheduled = 1;
    if (tpool_submit(db->pool, TPOOL_HIGH, flush_job, db) != 0)
        db->flush_scheduled = 0;
}

/* ---- compaction ---- */

struct comp_job {
    struct lsm_db *db;
    struct compaction *c;
};

static void running_add(struct lsm_db *db, struct compaction *c)
{
    if (db->nrunning == db->crunning) {
        db->crunning = db->crunning ? db->crunning * 2 : 4;
        db->running = zrealloc(db->running, sizeof(*db->running) * (size_t)db->crunning);
    }
    db->running[db->nrunning++] = c;
}

static void running_remove(struct lsm_db *db, struct compaction *c)
{
    int i;
    for (i = 0; i < db->nrunning; i++)
        if (db->running[i] == c) {
            db->running[i] = db->running[--db->nrunning];
            return;
        }
}

static void compaction_job(void *arg)
{
    struct comp_job *j = arg;
    struct lsm_db *db = j->db;

    pthread_mutex_lock(&db->mu);
    if (db->closing) {
        int i;
        for (i = 0; i < db->nrunning; i++)
            if (db->running[i] == j->c) {
                db->running[i] = db->running[--db->nrunning];
                break;
            }
        compaction_release(j->c);
        pthread_cond_broadcast(&db->bg_cv);
        pthread_mutex_unlock(&db->mu);
        zfree(j);
        return;
    }
    db_run_compaction(db, j->c);
    db_maybe_schedule_compaction(db);
    vlog_db_maybe_schedule_gc(db);   /* discard counts grew */
    db_delete_obsolete_files(db);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    zfree(j);
}

void db_maybe_schedule_compaction(struct lsm_db *db)
{
    while (!db->closing && db->bg_error == 0 && db->nrunning < db->max_compactions) {
        struct compaction *c = compaction_pick(db->vs, &db->copt, db->running, db->nrunning);
        struct comp_job *j;
        if (c == NULL)
            return;
        running_add(db, c);
        j = zmalloc(sizeof *j);
        j->db = db;
        j->c = c;
        if (tpool_submit(db->pool, TPOOL_LOW, compaction_job, j) != 0) {
            running_remove(db, c);
            compaction_release(c);
            zfree(j);
            return;
        }
    }
}

/* The merge of c's inputs. */
static struct iter *compaction_input_iter(struct lsm_db *db, struct compaction *c)
{
    int n = 0, i;
    struct iter **kids = zmalloc(sizeof(*kids) * (size_t)(c->ninputs[0] + 2));
    struct iter *m;

    if (c->level == 0) {
        for (i = 0; i < c->ninputs[0]; i++)
            kids[n++] = db_table_iter(db, c->inputs[0][i]);
    } else {
        kids[n++] = version_files_iter(c->inputs[0], c->ninputs[0], db_table_iter, db);
    }
    if (c->ninputs[1] > 0)
        kids[n++] = version_files_iter(c->inputs[1], c->ninputs[1], db_table_iter, db);
    m = iter_merging(ikey_compare, kids, n);
    zfree(kids);
    return m;
}

struct comp_state {
    struct table_out out;
    int open;
    struct file_meta **outputs;
    int nout, cout;
    uint64_t bytes;
    uint64_t *numbers;          /* every output number allocated (pending) */
    int nnum, cnum;
};

static int cs_finish_output(struct lsm_db *db, struct comp_state *s)
{
    struct file_meta *meta = NULL;
    int rc;

    s->open = 0;
    rc = out_finish(db, &s->out, &meta, &s->bytes);
    if (rc == 0 && meta != NULL) {
        if (s->nout == s->cout) {
            s->cout = s->cout ? s->cout * 2 : 4;
            s->outputs = zrealloc(s->outputs, sizeof(*s->outputs) * (size_t)s->cout);
        }
        s->outputs[s->nout++] = meta;
    }
    return rc;
}

/* Decides, for each input entry in order, whether it is written. */
struct drop_state {
    struct buf cur_ukey;
    int has_ukey;
    uint64_t last_seq_for_key;
    struct buf newer;       /* the key's newer input version, if a pointer */
};

/* The merge loop, mu NOT held. */
static int do_compaction_work(struct lsm_db *db, struct compaction *c, uint64_t smallest_snap,
                              struct comp_state *s)
{
    struct iter *in = compaction_input_iter(db, c);
    struct drop_state d = { BUF_INIT, 0, 0, BUF_INIT };
    struct buf tmp = BUF_INIT, last_out_ukey = BUF_INIT, newval = BUF_INIT;
    uint64_t n = 0;
    int rc = 0;

    for (iter_seek_to_first(in); iter_valid(in); iter_next(in)) {
        struct slice key = iter_key(in), val = iter_value(in);
        struct ikey_parsed p;
        int drop = 0, first, filtered = 0;

        if ((++n & 1023) == 0) {
            int closing;
            pthread_mutex_lock(&db->mu);
            closing = db->closing;
            pthread_mutex_unlock(&db->mu);
            if (closing) {
                rc = LSM_ECLOSED;
                break;
            }
        }
        if (ikey_parse(key, &p) != 0) {
            rc = LSM_ECORRUPT;
            db_set_error(rc, "compaction: malformed internal key in a table of level %d",
                         c->level);
            break;
        }
        first = !d.has_ukey || !slice_equal(p.user_key, buf_slice(&d.cur_ukey));
        if (first) {
            buf_set(&d.cur_ukey, p.user_key.data, p.user_key.len);
            d.has_ukey = 1;
            d.last_seq_for_key = LSM_MAX_SEQ + 1;
            buf_clear(&d.newer);
        }
        if (d.last_seq_for_key <= smallest_snap) {
            drop = 1;   /* a newer version is visible to every reader */
        } else {
            int type = p.type, act = LSM_FILTER_KEEP;
            if (first && (type == LSM_TYPE_VALUE || type == LSM_TYPE_VPTR) &&
                p.seq <= smallest_snap &&
                (db->opt.compaction_filter != NULL || db->opt.compaction_filter_ex != NULL))
                act = vlog_db_filter(db, p.user_key, type, val, &newval);
            filtered = act != LSM_FILTER_KEEP;
            if (filtered && p.type == LSM_TYPE_VPTR && db->vlog.dropped != NULL)
                db->vlog.dropped(db->vlog.arg, val, slice_make("", 0),
                                 &c->edit);  /* its value is garbage now */
            if (act == LSM_FILTER_REPLACE) {
                type = LSM_TYPE_VALUE;
                buf_clear(&tmp);
                ikey_append(&tmp, p.user_key, p.seq, LSM_TYPE_VALUE);
                key = buf_slice(&tmp);
                val = buf_slice(&newval);
            }
            if (act == LSM_FILTER_DROP) {
                /* Filtered: becomes a tombstone so older versions stay hidden. */
                type = LSM_TYPE_DELETION;
                buf_clear(&tmp);
                ikey_append(&tmp, p.user_key, p.seq, LSM_TYPE_DELETION);
                key = buf_slice(&tmp);
                val = slice_make("", 0);
            }
            if (type == LSM_TYPE_DELETION && p.seq <= smallest_snap &&
                compaction_is_base_level_for_key(c, p.user_key))
                drop = 1;   /* nothing older below: the tombstone has done its job */
        }
        d.last_seq_for_key = p.seq;
        if (drop && !filtered && p.type == LSM_TYPE_VPTR && db->vlog.dropped != NULL)
            db->vlog.dropped(db->vlog.arg, iter_value(in), buf_slice(&d.newer), &c->edit);
        if (p.type == LSM_TYPE_VPTR)
            buf_set(&d.newer, iter_value(in).data, iter_value(in).len);
        else
            buf_clear(&d.newer);
        if (drop)
            continue;

        /* Cut outputs only between user keys. */
        if (s->open && !slice_equal(p.user_key, buf_slice(&last_out_ukey)) &&
            (compaction_should_stop_before(c, key) ||
             sst_builder_file_size(s->out.b) >= c->max_output_file_size)) {
            rc = cs_finish_output(db, s);
            if (rc != 0)
                break;
        }
        if (!s->open) {
            uint64_t number;
            pthread_mutex_lock(&db->mu);
            number = version_set_new_file_number(db->vs);
            db_pending_add(db, number);
            pthread_mutex_unlock(&db->mu);
            if (s->nnum == s->cnum) {
                s->cnum = s->cnum ? s->cnum * 2 : 4;
                s->numbers = zrealloc(s->numbers, sizeof(*s->numbers) * (size_t)s->cnum);
            }
            s->numbers[s->nnum++] = number;
            rc = out_open(db, &s->out, number);
            if (rc != 0)
                break;
            s->open = 1;
        }
        rc = out_add(&s->out, key, val);
        if (rc != 0) {
            db_set_error(rc, "%s: write: %s", s->out.path.data, sst_last_error());
            break;
        }
        buf_set(&last_out_ukey, p.user_key.data, p.user_key.len);
    }
    if (rc == 0 && iter_status(in) != 0) {
        rc = iter_status(in);
        if (rc == LSM_ENOENT)
            rc = LSM_ECORRUPT;     /* a listed table is missing */
        db_set_error(rc, "compaction input: %s", sst_last_error());
    }
    iter_destroy(in);
    if (rc == 0 && s->open)
        rc = cs_finish_output(db, s);
    if (s->open)
        out_abandon(db, &s->out);
    s->open = 0;
    if (rc == 0 && s->nout > 0)
        rc = sync_dir(db);
    buf_free(&d.cur_ukey);
    buf_free(&d.newer);
    buf_free(&tmp);
    buf_free(&newval);
    buf_free(&last_out_ukey);
    return rc;
}

static int trivial_move(struct lsm_db *db, struct compaction *c)
{
    struct file_meta *f = c->inputs[0][0];
    int rc;

    version_edit_delete_file(&c->edit, c->level, f->number);
    version_edit_add_file(&c->edit, c->out_level, f);
    rc = version_set_log_and_apply(db->vs, &c->edit, &db->mu);
    if (rc != 0)
        db_set_error(rc, "%s", db->vs->errmsg);
    return rc;
}

int db_run_compaction(struct lsm_db *db, struct compaction *c)
{
    struct comp_state s;
    uint64_t smallest_snap, in_bytes;
    int rc, i;

    memset(&s, 0, sizeof s);
    in_bytes = compaction_input_bytes(c, 0) + compaction_input_bytes(c, 1);
    if (compaction_is_trivial_move(c)) {
        rc = trivial_move(db, c);
        if (rc == 0) {
            db->compactions++;
            db->lstats[c->out_level].compactions++;
        }
        goto out;
    }
    smallest_snap = db_smallest_snapshot(db);
    pthread_mutex_unlock(&db->mu);
    rc = do_compaction_work(db, c, smallest_snap, &s);
    pthread_mutex_lock(&db->mu);
    if (rc == 0) {
        compaction_add_input_deletions(c);
        for (i = 0; i < s.nout; i++)
            version_edit_add_file(&c->edit, c->out_level, s.outputs[i]);
        rc = version_set_log_and_apply(db->vs, &c->edit, &db->mu);
        if (rc != 0)
            db_set_error(rc, "%s", db->vs->errmsg);
    }
    if (rc == 0) {
        db->compactions++;
        db->comp_read += in_bytes;
        db->comp_written += s.bytes;
        db->lstats[c->out_level].compactions++;
        db->lstats[c->out_level].bytes_read += in_bytes;
        db->lstats[c->out_level].bytes_written += s.bytes;
    }
out:
    for (i = 0; i < s.nnum; i++)
        db_pending_remove(db, s.numbers[i]);
    for (i = 0; i < s.nout; i++)
        file_meta_unref(s.outputs[i]);
    zfree(s.outputs);
    zfree(s.numbers);
    if (rc != 0 && rc != LSM_ECLOSED)
        db_set_bg_error(db, rc, lsm_last_error());
    /* running list: the caller added it (auto or manual) */
    for (i = 0; i < db->nrunning; i++)
        if (db->running[i] == c) {
            db->running[i] = db->running[--db->nrunning];
            break;
        }
    compaction_release(c);
    pthread_cond_broadcast(&db->bg_cv);
    return rc;
}

/* ---- obsolete files ---- */

struct live_set {
    uint64_t *v;
    int n, cap;
};

static void live_add(void *arg, uint64_t number)
{
    struct live_set *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = zrealloc(s->v, sizeof(*s->v) * (size_t)s->cap);
    }
    s->v[s->n++] = number;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct obsolete_scan {
    struct live_set live;
    uint64_t next_file, log_number, manifest_number;
    struct live_set del_sst;
    struct buf names;            /* NUL-separated names to unlink */
};

static int scan_entry(const char *name, void *arg)
{
    struct obsolete_scan *o = arg;
    uint64_t num;
    enum db_file_type t = db_file_parse(name, &num);
    int del = 0;

    switch (t) {
    case DB_FILE_WAL:
        del = num < o->log_number;
        break;
    case DB_FILE_MANIFEST:
        del = num < o->manifest_number;
        break;
    case DB_FILE_SST:
        del = num < o->next_file &&
              (o->live.n == 0 ||
               bsearch(&num, o->live.v, (size_t)o->live.n, sizeof(uint64_t), cmp_u64) == NULL);
        if (del)
            live_add(&o->del_sst, num);
        break;
    case DB_FILE_TEMP:
        /* NNNNNN.dbtmp is the next CURRENT, named after the manifest it
         * points to (version_set_write_current): a manifest switch running
         * unlocked in version_set_log_and_apply has one numbered above
         * manifest_number until its rename. Deleting it there made the
         * rename fail with ENOENT: a sticky LSM_ENOENT ("database does not
         * exist") on every write. Older ones are leftovers of a crash. */
        del = num < o->manifest_number;
        break;
    default:
        break;
    }
    if (del)
        buf_append(&o->names, name, strlen(name) + 1);
    return 0;
}

void db_delete_obsolete_files(struct lsm_db *db)
{
    struct obsolete_scan o;
    struct buf path = BUF_INIT;
    size_t off;
    int i;

    if (db->bg_error != 0)
        return;
    memset(&o, 0, sizeof o);
    version_set_live_files(db->vs, live_add, &o.live);
    for (i = 0; i < db->npending; i++)
        live_add(&o.live, db->pending[i]);
    if (o.live.n > 1)
        qsort(o.live.v, (size_t)o.live.n, sizeof(uint64_t), cmp_u64);
    o.next_file = db->vs->next_file;
    o.log_number = db->vs->log_number;
    o.manifest_number = db->vs->manifest_number;
    /* Files numbered >= next_file are created after this point and kept;
     * the decision is taken here, so the unlinks may run unlocked. */
    pthread_mutex_unlock(&db->mu);
    io_list_dir(db->env, db->dir, scan_entry, &o);
    for (i = 0; i < o.del_sst.n; i++)
        table_cache_evict(db->tc, o.del_sst.v[i]);
    for (off = 0; off < o.names.len; off += strlen(o.names.data + off) + 1) {
        buf_clear(&path);
        buf_append(&path, db->dir, strlen(db->dir));
        buf_append_byte(&path, '/');
        buf_append(&path, o.names.data + off, strlen(o.names.data + off));
        io_unlink(db->env, buf_cstr(&path));
    }
    pthread_mutex_lock(&db->mu);
    buf_free(&path);
    buf_free(&o.names);
    zfree(o.live.v);
    zfree(o.del_sst.v);
}
