/* db.c: struct lsm_db — open/recovery/close, the write path (writer queue,
 * group commit, memtable switch, stalls), point reads, snapshots, iterators,
 * maintenance calls, stats and error messages. Background jobs: db_bg.c. */
#include "engine/db_impl.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bloom.h"
#include "engine/cache.h"
#include "engine/dbiter.h"
#include "engine/memtable.h"
#include "engine/table_cache.h"
#include "engine/wal.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/io.h"
#include "util/log.h"
#include "util/tpool.h"
#include "util/zmalloc.h"

/* ---- errors ---- */

static __thread char last_error[512];

static const struct { int code; const char *msg; } error_table[] = {
    { LSM_OK, "ok" },
    { LSM_ENOTFOUND, "not found" },
    { LSM_ECORRUPT, "corruption" },
    { LSM_EIO, "I/O error" },
    { LSM_ENOSPC, "no space left on device" },
    { LSM_EINVAL, "invalid argument" },
    { LSM_EBUSY, "database locked by another process" },
    { LSM_ECLOSED, "database is closing" },
    { LSM_EEXIST, "database already exists" },
    { LSM_ENOENT, "database does not exist" },
};

const char *lsm_strerror(int code)
{
    size_t i;
    for (i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].code == code)
            return error_table[i].msg;
    return "unknown error";
}

const char *lsm_last_error(void)
{
    return last_error;
}

void db_set_error(int code, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(last_error, sizeof last_error, "%s: ", lsm_strerror(code));
    if (n < 0 || (size_t)n >= sizeof last_error)
        return;
    va_start(ap, fmt);
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, ap);
    va_end(ap);
}

/* db_set_error with a constant detail, without printf (lsm_get's
 * not-found path runs for every miss). */
static void set_error_const(int code, const char *detail)
{
    const char *c = lsm_strerror(code);
    size_t a = strlen(c), b = strlen(detail);

    if (a + 2 + b + 1 > sizeof last_error) {
        db_set_error(code, "%s", detail);
        return;
    }
    memcpy(last_error, c, a);
    memcpy(last_error + a, ": ", 2);
    memcpy(last_error + a + 2, detail, b + 1);
}

/* The message without a duplicated "code: " prefix. */
static const char *strip_prefix(const char *msg, int code)
{
    size_t n = strlen(lsm_strerror(code));
    if (strncmp(msg, lsm_strerror(code), n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

void db_set_bg_error(struct lsm_db *db, int code, const char *msg)
{
    if (db->bg_error != 0)
        return;
    /* Atomic: lsm_bg_error() reads it without the mutex. */
    __atomic_store_n(&db->bg_error, code, __ATOMIC_RELEASE);
    snprintf(db->bg_errmsg, sizeof db->bg_errmsg, "%s", strip_prefix(msg, code));
    log_warning("lsm: background error, writes disabled until lsm_resume: %s: %s",
                lsm_strerror(code), db->bg_errmsg);
    pthread_cond_broadcast(&db->bg_cv);
}

static int bg_error_locked(struct lsm_db *db)
{
    db_set_error(db->bg_error, "background error (writes disabled): %s", db->bg_errmsg);
    return db->bg_error;
}

/* ---- options ---- */

void lsm_options_init(struct lsm_options *o)
{
    memset(o, 0, sizeof *o);
    o->create_if_missing = 1;
    o->error_if_exists = 0;
    o->write_buffer_size = 64u << 20;
    o->max_write_buffers = 2;
    o->block_size = 4096;
    o->block_restart_interval = 16;
    o->bloom_bits_per_key = 10;
    o->compression = LSM_COMPRESSION_SNAPPY;
    o->block_cache_size = 256u << 20;
    o->max_open_files = 1000;
    o->bg_threads = 0;
    o->l0_compaction_trigger = 4;
    o->l0_slowdown_trigger = 20;
    o->l0_stop_trigger = 36;
    o->max_bytes_for_level_base = 256ull << 20;
    o->level_size_multiplier = 10;
    o->target_file_size = 64ull << 20;
    o->soft_pending_compaction_bytes = 64ull << 30;
    o->hard_pending_compaction_bytes = 256ull << 30;
    o->paranoid_checks = 0;
    o->env = NULL;
    o->compaction_filter = NULL;
    o->compaction_filter_arg = NULL;
    o->compaction_filter_ex = NULL;
    o->value_separation_threshold = 1024;
    o->vlog_file_size = 256ull << 20;
    o->vlog_gc_ratio = 0.5;
    o->vlog_gc_max_mbps = 64;
    o->mapped_logs = 1;
    o->value_cache_size = 64u << 20;
}

void lsm_read_options_init(struct lsm_read_options *ro)
{
    memset(ro, 0, sizeof *ro);
    ro->fill_cache = 1;
    ro->verify_checksums = 1;
}

static int check_options(const struct lsm_options *o)
{
    if (o->write_buffer_size < (64u << 10) || o->max_write_buffers < 2 || o->block_size < 64 ||
        o->block_restart_interval < 1 || o->bloom_bits_per_key < 0 ||
        o->max_open_files < 10 || o->bg_threads < 0 || o->l0_compaction_trigger < 1 ||
        o->l0_slowdown_trigger < o->l0_compaction_trigger ||
        o->l0_stop_trigger < o->l0_slowdown_trigger || o->max_bytes_for_level_base < 4096 ||
        o->level_size_multiplier < 2 || o->target_file_size < 4096 ||
        (o->compression != LSM_COMPRESSION_NONE && o->compression != LSM_COMPRESSION_SNAPPY) ||
        o->vlog_file_size < 4096 || !(o->vlog_gc_ratio > 0) || o->vlog_gc_max_mbps < 0) {
        db_set_error(LSM_EINVAL, "option out of range");
        return LSM_EINVAL;
    }
    return 0;
}

uint64_t db_smallest_snapshot(struct lsm_db *db)
{
    if (db->snaps.next != &db->snaps)
        return db->snaps.next->seq;
    return db->vs->last_seq;
}

/* ---- open / recovery ---- */

struct wal_list {
    uint64_t *v;
    int n, cap;
    uint64_t max_number;
};

static int collect_wal(const char *name, void *arg)
{
    struct wal_list *l = arg;
    uint64_t num;
    enum db_file_type t = db_file_parse(name, &num);

    if (t != DB_FILE_UNKNOWN && t != DB_FILE_CURRENT && t != DB_FILE_LOCK &&
        num > l->max_number)
        l->max_number = num;
    if (t != DB_FILE_WAL)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = zrealloc(l->v, sizeof(*l->v) * (size_t)l->cap);
    }
    l->v[l->n++] = num;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Flushes a recovered memtable to L0 into edit (open time, single thread). */
static int recover_flush(struct lsm_db *db, struct memtable *mem, struct version_edit *e)
{
    uint64_t number = version_set_new_file_number(db->vs);
    struct file_meta *meta = NULL;
    int rc;

    db_pending_add(db, number);
    rc = db_write_level0(db, mem, number, 0, NULL, &meta);
    if (rc == 0 && meta != NULL) {
        version_edit_add_file(e, 0, meta);
        db->flush_bytes += meta->size;
        db->lstats[0].bytes_written += meta->size;
        file_meta_unref(meta);
    }
    return rc;
}

struct replay_state {
    struct lsm_db *db;
    struct memtable **mem;
    struct version_edit *e;
};

/* The first record of a WAL started at a memtable switch (docs/format-wal.md):
 * an empty batch header with sequence 0, then the previous WAL's number and
 * its size at the switch. The previous WAL is fsynced later, in the pool, so
 * after a power loss it may be shorter; recovery then stops before this WAL
 * (a later write never survives an earlier lost one). */
#define WAL_LINK_LEN (12 + 16)
/* A mapped WAL (wal_writer_map): its mapping beyond write_buffer_size,
 * and the disk space allocated ahead of its records. */
#define WAL_MAP_SLACK (8u << 20)
#define WAL_RESERVE_STEP (1u << 20)

static void wal_link_encode(char *out, uint64_t prev_number, uint64_t prev_size)
{
    memset(out, 0, 12);
    encode_fixed64(out + 12, prev_number);
    encode_fixed64(out + 20, prev_size);
}

/* 1 when rec is a link record (numbers out), else 0. */
static int wal_link_decode(struct slice rec, uint64_t *prev_number, uint64_t *prev_size)
{
    static const char zero[12];
    if (rec.len != WAL_LINK_LEN || memcmp(rec.data, zero, 12) != 0)
        return 0;
    *prev_number = decode_fixed64(rec.data + 12);
    *prev_size = decode_fixed64(rec.data + 20);
    return 1;
}

/* A sync-mark record (docs/format-wal.md, "Sync-mark record"): an empty batch
 * header as in the link record, a magic number, the entry count, then each
 * entry (fixed32 kind, fixed64 file number, fixed64 durable size). The
 * write leader puts one before its batch when a sync point completed since
 * the last one. */
#define WAL_MARK_MAGIC 0x6b72616d636e7973ull      /* "syncmark" */
#define WAL_MARK_HEAD (12 + 8 + 4)
#define WAL_MARK_ENTRY 20
#define WAL_MARK_MAX (WAL_MARK_HEAD + DB_MAX_MARKS * WAL_MARK_ENTRY)

/* Notes that a sync made file `number` durable up to `upto` (mu held). */
static void mark_note(struct lsm_db *db, uint32_t kind, uint64_t number, uint64_t upto)
{
    int i, oldest = 0;

    if (number == 0 || upto == 0)
        return;
    for (i = 0; i < db->nmarks; i++) {
        struct sync_mark *m = &db->marks[i];
        if (m->kind == kind && m->number == number) {
            if (upto > m->upto) {
                m->upto = upto;
                m->dirty = 1;
            }
            return;
        }
        if (m->number < db->marks[oldest].number)
            oldest = i;
    }
    /* Full: the oldest file's entry goes (WALs and segments share numbers). */
    i = db->nmarks < DB_MAX_MARKS ? db->nmarks++ : oldest;
    db->marks[i] = (struct sync_mark){ kind, number, upto, 1 };
}

/* The dirty entries as a mark record into out (WAL_MARK_MAX bytes; mu
 * held), now clean. Its length, 0 when nothing is dirty. */
static size_t mark_encode(struct lsm_db *db, char *out)
{
    char *p = out + WAL_MARK_HEAD;
    uint32_t n = 0;

    for (int i = 0; i < db->nmarks; i++) {
        struct sync_mark *m = &db->marks[i];
        if (!m->dirty)
            continue;
        encode_fixed32(p, m->kind);
        encode_fixed64(p + 4, m->number);
        encode_fixed64(p + 12, m->upto);
        p += WAL_MARK_ENTRY;
        n++;
        m->dirty = 0;
    }
    if (n == 0)
        return 0;
    memset(out, 0, 12);
    encode_fixed64(out + 12, WAL_MARK_MAGIC);
    encode_fixed32(out + 20, n);
    return (size_t)(p - out);
}

/* 1 when rec is a mark record, its entries folded (largest size per file)
 * into *v (*n of *cap; v NULL: only recognised), else 0. */
static int mark_decode(struct slice rec, struct sync_mark **v, int *n, int *cap)
{
    static const char zero[12];
    uint32_t cnt, j;

    if (rec.len < WAL_MARK_HEAD || memcmp(rec.data, zero, 12) != 0 ||
        decode_fixed64(rec.data + 12) != WAL_MARK_MAGIC)
        return 0;
    cnt = decode_fixed32(rec.data + 20);
    if (cnt > DB_MAX_MARKS || rec.len != WAL_MARK_HEAD + (size_t)cnt * WAL_MARK_ENTRY)
        return 0;
    for (j = 0; v != NULL && j < cnt; j++) {
        const char *e = rec.data + WAL_MARK_HEAD + (size_t)j * WAL_MARK_ENTRY;
        struct sync_mark m = { decode_fixed32(e), decode_fixed64(e + 4),
                               decode_fixed64(e + 12), 0 };
        int i;
        for (i = 0; i < *n; i++)
            if ((*v)[i].kind == m.kind && (*v)[i].number == m.number)
                break;
        if (i == *n) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *v = zrealloc(*v, sizeof(**v) * (size_t)*cap);
            }
            (*v)[(*n)++] = m;
        } else if (m.upto > (*v)[i].upto) {
            (*v)[i].upto = m.upto;
        }
    }
    return 1;
}

uint64_t db_marked_upto(struct lsm_db *db, uint32_t kind, uint64_t number)
{
    struct buf path = BUF_INIT, rec = BUF_INIT;
    int cap = 0;

    if (!db->rmarks_loaded) {
        /* Every WAL being replayed, read past any damage. */
        db->rmarks_loaded = 1;
        for (int i = 0; i < db->nrwals; i++) {
            struct wal_reader *r;
            if (db->rwals[i] < db->vs->log_number)
                continue;
            db_file_path(&path, db->dir, DB_FILE_WAL, db->rwals[i]);
            if (wal_reader_open(db->env, path.data, WAL_READ_TOLERANT, &r) != 0)
                continue;
            while (wal_reader_next(r, &rec) > 0)
                (void)mark_decode(buf_slice(&rec), &db->rmarks, &db->nrmarks, &cap);
            wal_reader_close(r);
        }
        buf_free(&path);
        buf_free(&rec);
    }
    for (int i = 0; i < db->nrmarks; i++)
        if (db->rmarks[i].kind == kind && db->rmarks[i].number == number)
            return db->rmarks[i].upto;
    return 0;
}

/* The WALs recovery replayed so far (links are checked against them):
 * number and end of the last complete record of each. */
struct replayed {
    struct { uint64_t number, end; } *v;
    int n, cap;
};

/* 1 when prev was replayed up to at least size. */
static int replayed_through(const struct replayed *r, uint64_t prev, uint64_t size)
{
    for (int i = 0; i < r->n; i++)
        if (r->v[i].number == prev)
            return r->v[i].end >= size;
    return 0;
}

static int replay_wal(struct lsm_db *db, uint64_t number, struct memtable **mem,
                      struct version_edit *e, struct replayed *prior, int *stop)
{
    struct buf path = BUF_INIT, rec = BUF_INIT;
    struct wal_reader *r = NULL;
    struct lsm_batch b;
    int rc, n, vc;

    db_file_path(&path, db->dir, DB_FILE_WAL, number);
    rc = wal_reader_open(db->env, path.data, WAL_READ_STRICT, &r);
    if (rc != 0) {
        db_set_error(rc, "%s: open: %s", path.data, lsm_strerror(rc));
        buf_free(&path);
        return rc;
    }
    batch_init(&b);
    while ((n = wal_reader_next(r, &rec)) > 0) {
        uint64_t seq, last, prev, prev_size;
        if (mark_decode(buf_slice(&rec), NULL, NULL, NULL))
            continue;
        if (wal_link_decode(buf_slice(&rec), &prev, &prev_size)) {
            /* A previous WAL still needed must be complete up to the switch. */
            if (prev >= db->vs->log_number && !replayed_through(prior, prev, prev_size)) {
                log_warning("lsm: %s: the previous log %06" PRIu64 " ends before its size "
                            "at the switch (%" PRIu64 " bytes): it was not synced; replay "
                            "stops here", path.data, prev, prev_size);
                *stop = 1;
                break;
            }
            continue;
        }
        if (batch_set_contents(&b, buf_slice(&rec)) != 0) {
            rc = LSM_ECORRUPT;
            db_set_error(rc, "%s: offset %" PRIu64 ": malformed write batch", path.data,
                         wal_reader_record_offset(r));
            break;
        }
        if ((vc = vlog_db_replay_check(db, buf_slice(&rec))) == 2) {
            rc = LSM_ECORRUPT;
            break;
        }
        if (vc == 1) {
            /* vlog before WAL: this record (and all after it) was never
             * acknowledged as durable. */
            log_warning("lsm: %s: offset %" PRIu64 ": record points past the recovered "
                        "value log; replay stops here", path.data,
                        wal_reader_record_offset(r));
            *stop = 1;
            break;
        }
        seq = batch_get_sequence(&b);
        if (lsm_batch_count(&b) == 0)
            continue;
        last = seq + lsm_batch_count(&b) - 1;
        rc = memtable_add_batch(*mem, &b);
        if (rc != 0) {
            db_set_error(rc, "%s: offset %" PRIu64 ": bad batch", path.data,
                         wal_reader_record_offset(r));
            break;
        }
        if (last > db->vs->last_seq)
            db->vs->last_seq = last;
        if (memtable_approximate_memory_usage(*mem) > db->opt.write_buffer_size) {
            rc = recover_flush(db, *mem, e);
            memtable_unref(*mem);
            *mem = memtable_create();
            if (rc != 0)
                break;
        }
    }
    if (rc == 0 && n == LSM_ECORRUPT) {
        /* Damage with valid records after it. Past every sync point it is
         * what a power loss leaves when the page cache wrote later pages
         * of the unsynced tail before earlier ones: nothing from there on
         * was acknowledged as durable, in this WAL or a later one. Inside
         * what a sync made durable it is corruption. */
        uint64_t doff = 0, marked = 0;
        if (wal_reader_damaged(r, &doff) &&
            (marked = db_marked_upto(db, MARK_WAL, number)) <= doff) {
            log_warning("lsm: %s: damage at offset %" PRIu64 " lies past every sync point "
                        "(synced up to %" PRIu64 "): an unsynced tail written back out of "
                        "order; replay stops at %" PRIu64, path.data, doff, marked,
                        wal_reader_end_offset(r));
            *stop = 1;
            n = 0;
        } else if (marked > doff) {
            log_warning("lsm: %s: damage at offset %" PRIu64 ", inside what a sync made "
                        "durable (up to %" PRIu64 ")", path.data, doff, marked);
        }
    }
    if (rc == 0 && n < 0) {
        rc = n;
        db_set_error(rc, "%s", wal_reader_error(r));
    }
    if (rc == 0 && wal_reader_torn(r, NULL))
        log_warning("lsm: %s: dropped a torn tail of %" PRIu64 " bytes (never acknowledged "
                    "as durable)", path.data, wal_reader_dropped_bytes(r));
    if (prior->n == prior->cap) {
        prior->cap = prior->cap ? prior->cap * 2 : 8;
        prior->v = zrealloc(prior->v, sizeof(*prior->v) * (size_t)prior->cap);
    }
    prior->v[prior->n].number = number;
    prior->v[prior->n].end = wal_reader_end_offset(r);
    prior->n++;
    wal_reader_close(r);
    batch_free(&b);
    buf_free(&rec);
    buf_free(&path);
    return rc;
}

/* Opens a fresh WAL numbered `number` and makes its name durable. */
static int open_wal(struct lsm_db *db, uint64_t number, struct wal_writer **out)
{
    struct buf path = BUF_INIT;
    int rc;

    db_file_path(&path, db->dir, DB_FILE_WAL, number);
    rc = wal_writer_open(db->env, path.data, out);
    if (rc != 0) {
        db_set_error(rc, "%s: create: %s", path.data, lsm_strerror(rc));
    } else {
        /* Best effort (else buffered appends and write(2)): a log holds
         * about write_buffer_size bytes; records past the mapping are
         * written with pwrite. */
        if (db->opt.mapped_logs)
            (void)wal_writer_map(*out, db->opt.write_buffer_size + WAL_MAP_SLACK,
                                 WAL_RESERVE_STEP);
        int r2 = io_sync_dir(db->env, db->dir);
        if (r2 != 0) {
            rc = version_errno(r2);
            db_set_error(rc, "%s: fsync dir: %s", db->dir, strerror(-r2));
            wal_writer_close(*out);
            *out = NULL;
        }
    }
    buf_free(&path);
    return rc;
}

static void sync_point_close(struct sync_point *sp)
{
    io_file_close(sp->vlog);
    io_file_close(sp->wal);
    sp->vlog = sp->wal = NULL;
}

/* Deletes the WAL file of a writer never used (mu may be held). */
static void drop_wal(struct lsm_db *db, struct wal_writer *w, uint64_t number)
{
    struct buf path = BUF_INIT;
    wal_writer_close(w);
    db_file_path(&path, db->dir, DB_FILE_WAL, number);
    (void)io_unlink(db->env, path.data);
    buf_free(&path);
}

/* io_list_dir callback: stops (1) at a file of an existing database. A
 * lone MANIFEST-000001 is a creation that crashed before CURRENT existed. */
static int data_file(const char *name, void *arg)
{
    uint64_t num;
    enum db_file_type t = db_file_parse(name, &num);
    (void)arg;
    return t == DB_FILE_SST || t == DB_FILE_WAL || t == DB_FILE_VLOG ||
           (t == DB_FILE_MANIFEST && num != 1);
}

static int dir_has_data(struct lsm_db *db)
{
    return io_list_dir(db->env, db->dir, data_file, NULL) == 1;
}

/* Every table the recovered manifest lists must be in the directory with
 * the size the manifest recorded (tables are synced, with their directory
 * entry, before an edit names them): else the database is damaged, and the
 * open fails before anything is replayed, written or deleted. */
static int check_tables(struct lsm_db *db)
{
    struct version *v = db->vs->current;
    struct buf path = BUF_INIT;
    int l, i, rc = 0;

    for (l = 0; l < LSM_NUM_LEVELS && rc == 0; l++)
        for (i = 0; i < v->nfiles[l] && rc == 0; i++) {
            const struct file_meta *f = v->files[l][i];
            uint64_t size = 0;
            int r;

            db_file_path(&path, db->dir, DB_FILE_SST, f->number);
            r = io_get_size(db->env, path.data, &size);
            if (r == -ENOENT) {
                rc = LSM_ECORRUPT;
                db_set_error(rc, "%s: missing (level %d of MANIFEST-%06" PRIu64 ")",
                             path.data, l, db->vs->manifest_number);
            } else if (r != 0) {
                rc = version_errno(r);
                db_set_error(rc, "%s: stat: %s", path.data, strerror(-r));
            } else if (size != f->size) {
                rc = LSM_ECORRUPT;
                db_set_error(rc, "%s: %" PRIu64 " bytes, MANIFEST-%06" PRIu64 " says %" PRIu64,
                             path.data, size, db->vs->manifest_number, f->size);
            }
        }
    buf_free(&path);
    return rc;
}

static int recover(struct lsm_db *db)
{
    struct wal_list wl = { NULL, 0, 0, 0 };
    struct version_edit e;
    struct memtable *mem = NULL;
    uint64_t wal_number;
    int rc, i, stop = 0;
    struct replayed last = { NULL, 0, 0 };

    rc = version_set_recover(db->vs);
    if (rc == LSM_ENOENT && dir_has_data(db)) {
        /* Never start an empty database over the files of another one. */
        db_set_error(LSM_ECORRUPT, "%s/CURRENT: missing, but the directory holds tables, "
                     "logs or manifests", db->dir);
        return LSM_ECORRUPT;
    }
    if (rc == LSM_ENOENT) {
        if (!db->opt.create_if_missing) {
            db_set_error(LSM_ENOENT, "%s: no database (create_if_missing is off)", db->dir);
            return LSM_ENOENT;
        }
        rc = version_set_create_new(db->vs);
        if (rc == 0)
            rc = version_set_recover(db->vs);
        if (rc != 0) {
            db_set_error(rc, "%s", db->vs->errmsg);
            return rc;
        }
    } else if (rc != 0) {
        db_set_error(rc, "%s", db->vs->errmsg);
        return rc;
    } else if (db->opt.error_if_exists) {
        db_set_error(LSM_EEXIST, "%s: database exists (error_if_exists)", db->dir);
        return LSM_EEXIST;
    } else if ((rc = check_tables(db)) != 0) {
        return rc;
    }

    rc = io_list_dir(db->env, db->dir, collect_wal, &wl);
    if (rc != 0) {
        rc = version_errno(rc);
        db_set_error(rc, "%s: list: %s", db->dir, lsm_strerror(rc));
        zfree(wl.v);
        return rc;
    }
    if (db->vs->next_file <= wl.max_number)
        db->vs->next_file = wl.max_number + 1;
    if (wl.n > 1)
        qsort(wl.v, (size_t)wl.n, sizeof(uint64_t), cmp_u64);

    version_edit_init(&e);
    rc = vlog_db_open(db, &e);
    mem = memtable_create();
    db->rwals = wl.v;
    db->nrwals = wl.n;
    for (i = 0; i < wl.n && rc == 0 && !stop; i++)
        if (wl.v[i] >= db->vs->log_number)
            rc = replay_wal(db, wl.v[i], &mem, &e, &last, &stop);
    zfree(last.v);
    zfree(db->rmarks);
    db->rmarks = NULL;
    db->nrmarks = 0;
    db->rmarks_loaded = 0;
    db->rwals = NULL;
    db->nrwals = 0;
    if (rc == 0 && memtable_entries(mem) > 0)
        rc = recover_flush(db, mem, &e);
    memtable_unref(mem);
    zfree(wl.v);

    if (rc == 0) {
        wal_number = version_set_new_file_number(db->vs);
        rc = open_wal(db, wal_number, &db->wal);
        if (rc == 0) {
            db->mem_log = wal_number;
            version_edit_set_log_number(&e, wal_number);
            /* First apply after recovery writes a new manifest + CURRENT. */
            rc = version_set_log_and_apply(db->vs, &e, &db->mu);
            if (rc != 0)
                db_set_error(rc, "%s", db->vs->errmsg);
        }
    }
    version_edit_free(&e);
    db->npending = 0;
    return rc;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* ---- super versions (db_impl.h) ---- */

static void sv_free_locked(struct super_version *sv)
{
    int i;

    sv->link.prev->next = sv->link.next;
    sv->link.next->prev = sv->link.prev;
    version_unref(sv->v);
    for (i = 0; i < sv->nmem; i++)
        memtable_unref(sv->mems[i]);
    zfree(sv);
}

void db_sv_install(struct lsm_db *db)
{
    struct super_version *sv, *old;
    int i;

    if (!db->sv_on)
        return;
    sv = zmalloc(sizeof(*sv) + sizeof(sv->mems[0]) * (size_t)(1 + db->nimm));
    sv->refs = 1;
    sv->number = ++db->sv_number;
    sv->nmem = 1 + db->nimm;
    sv->mems[0] = db->mem;
    memtable_ref(db->mem);
    for (i = 0; i < db->nimm; i++) {
        sv->mems[1 + i] = db->imm[db->nimm - 1 - i];
        memtable_ref(sv->mems[1 + i]);
    }
    sv->v = db->vs->current;
    version_ref(sv->v);
    sv->link.next = &db->sv_live;
    sv->link.prev = db->sv_live.prev;
    sv->link.prev->next = &sv->link;
    db->sv_live.prev = &sv->link;
    /* Initialised before it is published: a reader pins it under sv_lock. */
    pthread_spin_lock(&db->sv_lock);
    old = db->sv;
    db->sv = sv;
    pthread_spin_unlock(&db->sv_lock);
    if (old != NULL && __atomic_sub_fetch(&old->refs, 1, __ATOMIC_ACQ_REL) == 0)
        sv_free_locked(old);
}

uint64_t db_sv_oldest(struct lsm_db *db)
{
    if (db->sv_live.next == &db->sv_live)
        return UINT64_MAX;
    return ((struct super_version *)db->sv_live.next)->number;   /* link is first */
}

static void sv_installed_hook(void *arg)
{
    db_sv_install(arg);
}

/* The first super version, once mem exists (mu held); from now on every
 * version installed also installs a super version. */
static void sv_start(struct lsm_db *db)
{
    db->sv_on = 1;
    db_sv_install(db);
    db->vs->installed = sv_installed_hook;
    db->vs->installed_arg = db;
}

/* Drops the db's super version at close (no reader can remain). */
static void sv_stop(struct lsm_db *db)
{
    struct super_version *sv = db->sv;

    if (db->vs != NULL)
        db->vs->installed = NULL;
    db->sv_on = 0;
    if (sv == NULL)
        return;
    db->sv = NULL;
    if (__atomic_sub_fetch(&sv->refs, 1, __ATOMIC_ACQ_REL) == 0)
        sv_free_locked(sv);
    assert(db->sv_live.next == &db->sv_live);
}

/* Closes the current WAL and gives back the space a mapped writer
 * allocated after its last record (best effort: the reader takes those
 * zeros for the end of the log anyway). */
static void close_wal(struct lsm_db *db)
{
    struct buf path = BUF_INIT;
    uint64_t size, alloc;
    int ok;

    if (db->wal == NULL)
        return;
    size = wal_writer_size(db->wal);
    alloc = wal_writer_allocated(db->wal);
    ok = wal_writer_error(db->wal) == 0;
    if (wal_writer_close(db->wal) == 0 && ok && alloc > size) {
        db_file_path(&path, db->dir, DB_FILE_WAL, db->mem_log);
        (void)io_truncate(db->env, path.data, size);
        buf_free(&path);
    }
    db->wal = NULL;
}

static void db_free(struct lsm_db *db)
{
    int i;

    if (db->gc_pool)
        tpool_destroy(db->gc_pool);
    if (db->pool)
        tpool_destroy(db->pool);
    vlog_db_close(db);
    close_wal(db);
    wal_writer_close(db->next_wal);     /* an empty log: replayed as such */
    sv_stop(db);
    memtable_unref(db->mem);
    for (i = 0; i < db->nimm; i++)
        memtable_unref(db->imm[i]);
    zfree(db->imm);
    zfree(db->imm_log);
    for (i = 0; i < db->nimm; i++)
        io_file_close(db->imm_vsync[i]);
    zfree(db->imm_vsync);
    for (i = 0; i < db->nretired; i++)
        sync_point_close(&db->retired[i]);
    zfree(db->retired);
    version_set_destroy(db->vs);
    if (db->tc)
        table_cache_destroy(db->tc);
    if (db->block_cache)
        cache_destroy(db->block_cache);
    if (db->lock)
        io_unlock(db->lock);
    batch_free(&db->group);
    batch_free(&db->patched);
    zfree(db->pending);
    zfree(db->running);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->bg_cv);
    pthread_spin_destroy(&db->sv_lock);
    zfree(db->dir);
    zfree(db);
}

int lsm_open(const char *dir, const struct lsm_options *opt, struct lsm_db **out)
{
    struct lsm_db *db;
    struct buf path = BUF_INIT;
    int rc, threads;

    *out = NULL;
    if (dir == NULL || opt == NULL) {
        db_set_error(LSM_EINVAL, "lsm_open: NULL argument");
        return LSM_EINVAL;
    }
    if ((rc = check_options(opt)) != 0)
        return rc;
    db = zcalloc(sizeof *db);
    db->dir = zstrdup(dir);
    db->opt = *opt;
    db->env = opt->env ? opt->env : io_env_posix();
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->bg_cv, NULL);
    pthread_spin_init(&db->sv_lock, PTHREAD_PROCESS_PRIVATE);
    db->sv_live.next = db->sv_live.prev = &db->sv_live;
    db->snaps.next = db->snaps.prev = &db->snaps;
    batch_init(&db->group);
    batch_init(&db->patched);
    db->copt.l0_trigger = opt->l0_compaction_trigger;
    db->copt.base_bytes = opt->max_bytes_for_level_base;
    db->copt.multiplier = opt->level_size_multiplier;
    db->copt.target_file_size = opt->target_file_size;

    if (opt->create_if_missing && (rc = io_mkdir(db->env, dir)) != 0) {
        rc = version_errno(rc);
        db_set_error(rc, "%s: mkdir: %s", dir, lsm_strerror(rc));
        goto fail;
    }
    db_file_path(&path, dir, DB_FILE_LOCK, 0);
    rc = io_lock(db->env, path.data, &db->lock);
    if (rc != 0) {
        if (rc == -EWOULDBLOCK || rc == -EAGAIN) {
            rc = LSM_EBUSY;
            db_set_error(rc, "%s: locked by another process", path.data);
        } else if (rc == -ENOENT) {
            rc = LSM_ENOENT;
            db_set_error(rc, "%s: no database directory", dir);
        } else {
            rc = version_errno(rc);
            db_set_error(rc, "%s: lock: %s", path.data, strerror(-rc));
        }
        db->lock = NULL;
        goto fail;
    }
    db->block_cache = cache_create(opt->block_cache_size);
    db->tc = table_cache_create(db->env, dir, opt->max_open_files - 10 > 0 ? opt->max_open_files - 10 : 1,
                                db->block_cache, &db->sst_stats);
    db->vs = version_set_create(db->env, dir);

    pthread_mutex_lock(&db->mu);
    rc = recover(db);
    pthread_mutex_unlock(&db->mu);
    if (rc != 0)
        goto fail;
    db->mem = memtable_create();
    pthread_mutex_lock(&db->mu);
    sv_start(db);
    pthread_mutex_unlock(&db->mu);

    threads = opt->bg_threads > 0 ? opt->bg_threads : default_threads();
    if (threads < 2)
        threads = 2;     /* one flush can always run beside a compaction */
    db->pool = tpool_create(threads, "lsm-bg");
    db->gc_pool = tpool_create(1, "lsm-gc");
    db->max_compactions = threads - 1;

    pthread_mutex_lock(&db->mu);
    db_delete_obsolete_files(db);
    db_maybe_schedule_compaction(db);
    pthread_mutex_unlock(&db->mu);
    buf_free(&path);
    *out = db;
    return 0;
fail:
    buf_free(&path);
    db_free(db);
    return rc;
}

int lsm_close(struct lsm_db *db)
{
    int rc = 0;

    if (db == NULL)
        return 0;
    pthread_mutex_lock(&db->mu);
    db->closing = 1;
    pthread_cond_broadcast(&db->bg_cv);
    while (db->wq_head != NULL || db->manual_running || db->syncs_out)
        pthread_cond_wait(&db->bg_cv, &db->mu);
    pthread_mutex_unlock(&db->mu);
    /* Queued jobs see `closing` and return; running ones stop early. GC
     * first: a running pass may wait for a flush in the pool. */
    tpool_destroy(db->gc_pool);
    db->gc_pool = NULL;
    tpool_destroy(db->pool);
    db->pool = NULL;
    pthread_mutex_lock(&db->mu);
    rc = db_retire_drain(db);
    if (db->next_wal_state == WAL_NEXT_READY) {
        drop_wal(db, db->next_wal, db->next_wal_number);
        db->next_wal = NULL;
        db->next_wal_state = WAL_NEXT_NONE;
    }
    pthread_mutex_unlock(&db->mu);
    if (rc == 0 && db->wal != NULL && wal_writer_error(db->wal) == 0) {
        uint64_t vnum = 0, vupto = 0;
        rc = vlog_db_flush(db, 1);       /* vlog before WAL */
        if (rc == 0) {
            vlog_db_active(db, &vnum, &vupto);
            rc = wal_writer_sync(db->wal);
        }
        if (rc == 0) {
            /* A last sync mark, itself synced: damage in the WAL a clean
             * close leaves is corruption, never an unsynced tail. */
            char mrec[WAL_MARK_MAX];
            size_t mlen;
            pthread_mutex_lock(&db->mu);
            mark_note(db, MARK_WAL, db->mem_log, wal_writer_size(db->wal));
            mark_note(db, MARK_VLOG, vnum, vupto);
            mlen = mark_encode(db, mrec);
            pthread_mutex_unlock(&db->mu);
            if (mlen > 0 && (rc = wal_writer_add(db->wal, slice_make(mrec, mlen))) == 0)
                rc = wal_writer_sync(db->wal);
        }
        if (rc == 0) {
            /* Seal the active segment: a clean reopen needs no scan. */
            pthread_mutex_lock(&db->mu);
            rc = vlog_db_seal(db);
            pthread_mutex_unlock(&db->mu);
        }
        if (rc != 0)
            db_set_error(rc, "WAL sync at close: %s", lsm_strerror(rc));
    }
    if (rc == 0 && db->bg_error != 0)
        rc = bg_error_locked(db);
    db_free(db);
    return rc;
}

/* ---- writes ---- */

static void stall_account(struct lsm_db *db, int64_t start)
{
    db->stall_count++;
    db->stall_micros += (uint64_t)(clock_mono_us() - start);
}

/* The fsyncs of a sync point (mu not held), in the order that keeps a
 * durable record from pointing past durable vlog bytes: the value log, the
 * segments rolled before (their fsyncs run in the pool), then (drain) the
 * WALs retired before, whose records are older, then the WAL. 0, or an
 * LSM_E* code with the message "<dir>: sync of <whose> (<file>): ...". */
static int sync_point_fsync(struct lsm_db *db, const struct sync_point *sp, int drain,
                            const char *whose)
{
    const char *what = "value log";
    int r = sp->vlog != NULL ? io_file_sync(sp->vlog) : 0;

    if (r == 0 && sp->vlog != NULL)
        vlog_db_synced(db, sp->vlog_number, sp->vlog_upto);
    if (r == 0) {
        int rc = vlog_db_wait_sealed(db);
        if (rc == 0 && drain) {
            pthread_mutex_lock(&db->mu);
            rc = db_retire_drain(db);
            pthread_mutex_unlock(&db->mu);
        }
        if (rc != 0)
            return rc;                 /* message set */
        what = "WAL";
        r = sp->wal != NULL ? io_file_sync(sp->wal) : 0;
    }
    if (r == 0)
        return 0;
    r = version_errno(r);
    db_set_error(r, "%s: sync of %s (%s): %s", db->dir, whose, what, lsm_strerror(r));
    return r;
}

/* A sync point's fsync failed (mu held): pages may be gone, so the next
 * leader starts a new WAL and value-log segment; writes stop until
 * lsm_resume. */
static void sync_point_failed(struct lsm_db *db, int rc)
{
    db->sync_failed = 1;
    db_set_bg_error(db, rc, lsm_last_error());
}

int db_retire_drain(struct lsm_db *db)
{
    int rc = 0;

    while (db->nretired > 0) {
        struct sync_point sp = db->retired[0];
        int r;
        memmove(db->retired, db->retired + 1, sizeof(*db->retired) * (size_t)(db->nretired - 1));
        db->nretired--;
        db->retire_busy++;
        pthread_mutex_unlock(&db->mu);
        r = sync_point_fsync(db, &sp, 0, "a retired WAL");
        sync_point_close(&sp);
        pthread_mutex_lock(&db->mu);
        db->retire_busy--;
        if (r != 0) {
            sync_point_failed(db, r);
            if (rc == 0)
                rc = r;
        } else {
            mark_note(db, MARK_WAL, sp.wal_number, sp.wal_upto);
            mark_note(db, MARK_VLOG, sp.vlog_number, sp.vlog_upto);
        }
        pthread_cond_broadcast(&db->bg_cv);
    }
    /* Entries another thread took first are synced once it is done. */
    while (db->retire_busy > 0)
        pthread_cond_wait(&db->bg_cv, &db->mu);
    if (rc == 0 && db->bg_error != 0)
        rc = bg_error_locked(db);
    return rc;
}

/* Pool job: fsyncs the retired WALs. */
static void retire_job(void *arg)
{
    struct lsm_db *db = arg;
    pthread_mutex_lock(&db->mu);
    (void)db_retire_drain(db);
    pthread_mutex_unlock(&db->mu);
}

/* Queues the handles of a switched-out WAL and of the value log (mu held)
 * for the pool. */
static void retire(struct lsm_db *db, const struct sync_point *sp)
{
    if (db->nretired == db->cretired) {
        db->cretired = db->cretired ? db->cretired * 2 : 4;
        db->retired = zrealloc(db->retired, sizeof(*db->retired) * (size_t)db->cretired);
    }
    db->retired[db->nretired++] = *sp;
    if (db->pool != NULL)
        (void)tpool_submit(db->pool, TPOOL_HIGH, retire_job, db);
}

/* Pool job: creates the next WAL (see next_wal in db_impl.h). */
static void prepare_wal_job(void *arg)
{
    struct lsm_db *db = arg;
    struct wal_writer *w = NULL;
    uint64_t number;
    int rc;

    pthread_mutex_lock(&db->mu);
    if (db->closing || db->bg_error != 0 || db->next_wal_state != WAL_NEXT_MAKING) {
        db->next_wal_state = WAL_NEXT_NONE;
        pthread_mutex_unlock(&db->mu);
        return;
    }
    number = version_set_new_file_number(db->vs);
    pthread_mutex_unlock(&db->mu);
    rc = open_wal(db, number, &w);
    pthread_mutex_lock(&db->mu);
    if (rc == 0 && db->next_wal_state == WAL_NEXT_MAKING && !db->closing) {
        db->next_wal = w;
        db->next_wal_number = number;
        db->next_wal_state = WAL_NEXT_READY;
    } else {
        if (rc == 0)
            drop_wal(db, w, number);
        db->next_wal_state = WAL_NEXT_NONE;  /* the switch creates its own */
    }
    pthread_mutex_unlock(&db->mu);
}

/* Starts creating the next WAL once mem is half full (mu held). */
static void maybe_prepare_wal(struct lsm_db *db)
{
    if (db->next_wal_state != WAL_NEXT_NONE || db->pool == NULL || db->closing ||
        db->next_wal_tried == db->mem_log ||
        memtable_approximate_memory_usage(db->mem) < db->opt.write_buffer_size / 2)
        return;
    db->next_wal_tried = db->mem_log;      /* once per memtable, even if it fails */
    db->next_wal_state = WAL_NEXT_MAKING;
    if (tpool_submit(db->pool, TPOOL_HIGH, prepare_wal_job, db) != 0)
        db->next_wal_state = WAL_NEXT_NONE;
}

/* The new WAL of a switch (mu held): the prepared one, or one made now. */
static int take_next_wal(struct lsm_db *db, uint64_t *number, struct wal_writer **w)
{
    if (db->next_wal_state == WAL_NEXT_READY) {
        *number = db->next_wal_number;
        *w = db->next_wal;
        db->next_wal = NULL;
        db->next_wal_state = WAL_NEXT_NONE;
        return 0;
    }
    if (db->next_wal_state == WAL_NEXT_MAKING)
        db->next_wal_state = WAL_NEXT_STALE;   /* its number would be older */
    *number = version_set_new_file_number(db->vs);
    return open_wal(db, *number, w);
}

/* Freezes mem (with its WAL) and starts a new memtable + WAL. mu held; the
 * caller is the write leader (or no writer exists). */
static int switch_memtable(struct lsm_db *db)
{
    uint64_t number = 0;
    struct wal_writer *w = NULL;
    struct io_file *vsync = NULL;
    struct sync_point old = { .vlog = NULL };
    uint64_t vnum, vupto;               /* (the flush's handle: not noted) */
    int link = db->wal != NULL && wal_writer_error(db->wal) == 0;
    uint64_t old_size = link ? wal_writer_size(db->wal) : 0;
    int rc;

    if (link && db->wal_dirty) {
        /* Writes acknowledged with sync=0 must become durable by a later
         * lsm_sync, which syncs the new WAL: the old one is pushed to the
         * OS and fsynced in the pool (retire), and lsm_sync waits for
         * that. The new WAL starts with a link record naming the old one's
         * size, so a power loss before that fsync cannot replay newer
         * writes over a gap. The value log is not synced here either: a
         * durable record pointing past the durable vlog was never
         * acknowledged as durable (an lsm_sync fsyncs the vlog first), and
         * recovery stops at it; the flush fsyncs the frozen memtable's
         * vlog bytes (vsync) before a table points at them. */
        old.wal_number = db->mem_log;
        old.wal_upto = old_size;
        rc = vlog_db_syncer(db, &vsync, &old.vlog_number, &old.vlog_upto);
        if (rc == 0 && vsync != NULL && (rc = io_file_syncer(vsync, &old.vlog)) < 0)
            rc = version_errno(rc);    /* a second handle on the same file */
        if (rc == 0)
            rc = wal_writer_syncer(db->wal, &old.wal);
        if (rc != 0) {
            io_file_close(vsync);
            sync_point_close(&old);
            db_set_error(rc, "WAL push before switch: %s", lsm_strerror(rc));
            db_set_bg_error(db, rc, lsm_last_error());
            return rc;
        }
    } else if (vlog_db_syncer(db, &vsync, &vnum, &vupto) != 0) {
        /* Nothing unsynced, or the old WAL failed: the handle only guards
         * the flush; a vlog that failed is rolled by the next write. */
        vsync = NULL;
    }
    rc = take_next_wal(db, &number, &w);
    if (rc == 0 && link) {
        char rec[WAL_LINK_LEN];
        wal_link_encode(rec, db->mem_log, old_size);
        rc = wal_writer_add(w, slice_make(rec, sizeof rec));
        if (rc != 0) {
            db_set_error(rc, "WAL write: %s", lsm_strerror(rc));
            wal_writer_close(w);
        }
    }
    if (rc != 0) {
        io_file_close(vsync);
        sync_point_close(&old);
        db_set_bg_error(db, rc, lsm_last_error());
        return rc;
    }
    if (old.wal != NULL)
        retire(db, &old);
    wal_writer_close(db->wal);
    db->wal = w;
    db->wal_dirty = 0;
    db->wal_gen++;
    db->need_new_wal = 0;
    if (db->nimm == db->cimm) {
        db->cimm = db->cimm ? db->cimm * 2 : 4;
        db->imm = zrealloc(db->imm, sizeof(*db->imm) * (size_t)db->cimm);
        db->imm_log = zrealloc(db->imm_log, sizeof(*db->imm_log) * (size_t)db->cimm);
        db->imm_vsync = zrealloc(db->imm_vsync, sizeof(*db->imm_vsync) * (size_t)db->cimm);
    }
    db->imm[db->nimm] = db->mem;
    db->imm_log[db->nimm] = db->mem_log;
    db->imm_vsync[db->nimm] = vsync;
    db->nimm++;
    db->imm_pushed++;
    db->mem = memtable_create();
    db->mem_log = number;
    db_sv_install(db);
    db_maybe_schedule_flush(db);
    return 0;
}

/* Makes room in the memtable for a write, stalling when the background is
 * behind (mu held, may wait). force: switch the memtable unless empty. */
static int make_room(struct lsm_db *db, int force)
{
    int allow_delay = !force;

    for (;;) {
        struct version *v = db->vs->current;
        uint64_t pending;
        if (db->sync_failed) {
            /* Pages an fsync failed on may be gone: no further append
             * to those files. */
            db->sync_failed = 0;
            db->need_new_wal = 1;
            vlog_db_mark_broken(db);
        }
        if (db->bg_error != 0)
            return bg_error_locked(db);
        if (db->closing) {
            /* A stalled writer must not wait for flushes that close stops. */
            db_set_error(LSM_ECLOSED, "database is closing");
            return LSM_ECLOSED;
        }
        if (db->need_new_wal) {
            int rc = switch_memtable(db);
            if (rc != 0)
                return rc;
            continue;
        }
        pending = compaction_pending_bytes(v, &db->copt);
        if (allow_delay && (v->nfiles[0] >= db->opt.l0_slowdown_trigger ||
                            pending >= db->opt.soft_pending_compaction_bytes)) {
            /* Slow each write by 1 ms rather than stopping one for seconds. */
            int64_t t0 = clock_mono_us();
            pthread_mutex_unlock(&db->mu);
            usleep(1000);
            pthread_mutex_lock(&db->mu);
            stall_account(db, t0);
            allow_delay = 0;
        } else if (!force &&
                   (memtable_approximate_memory_usage(db->mem) <= db->opt.write_buffer_size ||
                    memtable_entries(db->mem) == 0)) {
            /* Never freeze an empty memtable (its arena alone may be over
             * a small write_buffer_size). */
            maybe_prepare_wal(db);
            return 0;
        } else if (force && memtable_entries(db->mem) == 0) {
            return 0;
        } else if (db->nimm >= db->opt.max_write_buffers - 1 ||
                   v->nfiles[0] >= db->opt.l0_stop_trigger ||
                   pending >= db->opt.hard_pending_compaction_bytes) {
            int64_t t0 = clock_mono_us();
            /* Logged once per stop, at most once a second. */
            if (!db->stall_logged && t0 - db->stall_log_us >= 1000000) {
                db->stall_log_us = t0;
                log_warning("lsm: writes stopped: %s (immutable memtables %d, L0 files %d, "
                            "pending compaction bytes %" PRIu64 ")",
                            db->nimm >= db->opt.max_write_buffers - 1 ? "memtables full"
                            : "compaction behind", db->nimm, v->nfiles[0], pending);
                db->stall_logged = 1;
            }
            db_maybe_schedule_flush(db);
            db_maybe_schedule_compaction(db);
            pthread_cond_wait(&db->bg_cv, &db->mu);
            stall_account(db, t0);
        } else {
            int rc;
            if (db->stall_logged) {
                log_notice("lsm: writes resumed");
                db->stall_logged = 0;
            }
            rc = switch_memtable(db);
            if (rc != 0)
                return rc;
            force = 0;
        }
    }
}

/* ---- PATCH operations (lsm_batch_patch) ---- */

struct patch_ctx {
    struct lsm_db *db;
    struct lsm_batch *out;
    struct buf cur;              /* the value (or pointer) being patched */
    struct buf ptr;              /* a patched pointer */
    int rc;
};

/* The last operation on one key among those already resolved: its value
 * inside the batch being built. */
struct patch_find {
    struct slice key;
    struct slice val;
    int type, found;
};

static int patch_find_op(void *arg, int type, struct slice key, struct slice value)
{
    struct patch_find *f = arg;
    if (slice_equal(key, f->key)) {
        f->found = 1;
        f->type = type;
        f->val = value;
    }
    return 0;
}

/* Patches a value of this batch where it lies (same length): the write it
 * belongs to is the key's latest, so the PATCH itself adds nothing. */
static int patch_in_place(struct patch_find *f, struct slice data)
{
    struct slice at = f->val;
    size_t full;
    int r;

    if (f->type == LSM_TYPE_VPTR && (r = vlog_db_pointer_prefix(f->val, &at, &full)) < 0)
        return r;
    if (f->type != LSM_TYPE_DELETION && at.len > 0)
        memcpy((char *)at.data, data.data, data.len < at.len ? data.len : at.len);
    return 0;
}

static int patch_op(void *arg, int type, struct slice key, struct slice value)
{
    struct patch_ctx *c = arg;
    struct patch_find f = { key, { NULL, 0 }, LSM_TYPE_DELETION, 0 };
    int r;

    if (type != BATCH_OP_PATCH) {
        batch_add_op(c->out, type, key, value);
        return 0;
    }
    batch_iterate(c->out, patch_find_op, &f);   /* the batch's own earlier write */
    if (f.found) {
        r = patch_in_place(&f, value);
        return r != 0 ? (c->rc = r) : 0;
    }
    buf_clear(&c->cur);
    r = db_get_latest(c->db, key, &c->cur, &f.type);
    if (r < 0)
        return c->rc = r;
    f.found = r == 1;
    if (!f.found || f.type == LSM_TYPE_DELETION) {
        batch_add_op(c->out, LSM_TYPE_DELETION, key, value);   /* stays absent */
    } else if (f.type == LSM_TYPE_VPTR) {
        buf_clear(&c->ptr);
        r = vlog_db_patch_pointer(buf_slice(&c->cur), value, &c->ptr);
        if (r != 0)
            return c->rc = r;
        batch_add_op(c->out, LSM_TYPE_VPTR, key, buf_slice(&c->ptr));
    } else {
        size_t n = value.len < c->cur.len ? value.len : c->cur.len;
        if (n > 0)
            memcpy(c->cur.data, value.data, n);
        batch_add_op(c->out, LSM_TYPE_VALUE, key, buf_slice(&c->cur));
    }
    return 0;
}

/* out = in with every PATCH turned into the write it amounts to, against
 * the latest version of its key (mu not held; the caller leads the writer
 * queue, so no other write lands meanwhile). 0 or the read's error. */
static int resolve_patches(struct lsm_db *db, const struct lsm_batch *in, struct lsm_batch *out)
{
    struct patch_ctx c = { db, out, BUF_INIT, BUF_INIT, 0 };
    int rc;

    lsm_batch_clear(out);
    rc = batch_iterate(in, patch_op, &c);
    if (c.rc != 0)
        rc = c.rc;
    batch_set_sequence(out, batch_get_sequence(in));
    buf_free(&c.cur);
    buf_free(&c.ptr);
    if (rc == LSM_ECORRUPT && c.rc == 0)
        db_set_error(rc, "write: malformed batch");
    return rc;
}

/* Builds the group to commit from the queue head (mu held). Returns the last
 * writer included. */
static struct db_writer *build_group(struct lsm_db *db, struct lsm_batch **out, int *sync)
{
    struct db_writer *first = db->wq_head, *w, *last = first;
    size_t size = first->batch ? lsm_batch_size(first->batch) : 0;
    size_t max = size <= (128 << 10) ? size + (128 << 10) : (1 << 20);
    int grouped = 0;

    *sync = first->sync;
    *out = first->batch;
    if (first->gc != NULL)
        return first;           /* GC rewrites commit alone */
    for (w = first->next; w != NULL; w = w->next) {
        if (w->force_flush || w->gc != NULL || w->detach != NULL || (w->sync && !first->sync))
            break;
        if (w->batch != NULL) {
            size += lsm_batch_size(w->batch);
            if (size > max)
                break;
            if (!grouped) {
                lsm_batch_clear(&db->group);
                if (first->batch)
                    batch_append(&db->group, first->batch);
                *out = &db->group;
                grouped = 1;
            }
            batch_append(&db->group, w->batch);
        }
        last = w;
    }
    return last;
}

static int do_write(struct lsm_db *db, struct lsm_batch *batch, int sync, int force_flush,
                    struct vlog_gc_batch *gc, int wal_push, struct sync_point *detach)
{
    struct db_writer w, *last, *p;
    struct lsm_batch *group = NULL;
    int rc, gsync;

    memset(&w, 0, sizeof w);
    w.batch = batch != NULL && lsm_batch_count(batch) > 0 ? batch : NULL;
    w.sync = sync;
    w.force_flush = force_flush;
    w.wal_push = wal_push;
    w.gc = gc;
    w.detach = detach;
    pthread_cond_init(&w.cv, NULL);

    pthread_mutex_lock(&db->mu);
    if (db->closing) {
        pthread_mutex_unlock(&db->mu);
        pthread_cond_destroy(&w.cv);
        db_set_error(LSM_ECLOSED, "database is closing");
        return LSM_ECLOSED;
    }
    if (db->wq_tail)
        db->wq_tail->next = &w;
    else
        db->wq_head = &w;
    db->wq_tail = &w;
    while (!w.done && db->wq_head != &w)
        pthread_cond_wait(&w.cv, &db->mu);
    if (w.done) {
        if (w.rc != 0)
            db_set_error(w.rc, "write failed: %s", db->bg_errmsg[0] ? db->bg_errmsg
                         : lsm_strerror(w.rc));
        pthread_mutex_unlock(&db->mu);
        pthread_cond_destroy(&w.cv);
        return w.rc;
    }

    /* Leader. */
    rc = make_room(db, force_flush);
    last = &w;
    if (rc == 0 && !force_flush) {
        uint64_t seq = db->vs->last_seq + 1;
        uint32_t count;
        struct memtable *mem = db->mem;
        struct wal_writer *wal = db->wal;
        uint64_t wal_number = db->mem_log;
        char mrec[WAL_MARK_MAX];         /* sync marks to write first */
        size_t mlen = 0;
        int synced = 0;                  /* this group's sync completed: */
        uint64_t wal_upto = 0, vnum = 0, vupto = 0;    /* what it covered */

        struct lsm_batch *wb = NULL;     /* what goes to the WAL / memtable */
        int vfail = 0;                   /* the value log failed (message set) */

        int gpush = 0;                   /* some writer wants the WAL pushed */

        last = build_group(db, &group, &gsync);
        for (p = db->wq_head;; p = p->next) {
            gpush |= p->wal_push;
            if (p == last)
                break;
        }
        if (group != NULL && batch_has_patch(group)) {
            /* Read here, where no other write runs (as GC's check below). A
             * failed read fails this group's write only. */
            pthread_mutex_unlock(&db->mu);
            rc = resolve_patches(db, group, &db->patched);
            pthread_mutex_lock(&db->mu);
            group = &db->patched;
        }
        if (rc == 0) {
            rc = vlog_db_prepare(db, group, w.gc != NULL);
            if (rc != 0)
                db_set_bg_error(db, rc, lsm_last_error());
        }
        if (rc == 0 && w.gc != NULL) {
            /* Conditional rewrite: checked here, where no other write runs. */
            pthread_mutex_unlock(&db->mu);
            rc = vlog_db_gc_build(db, w.gc, &group);
            pthread_mutex_lock(&db->mu);
        }
        count = rc == 0 && group ? lsm_batch_count(group) : 0;
        if (rc != 0) {
            /* nothing written */
        } else if (count > 0 && seq + count - 1 > LSM_MAX_SEQ) {
            rc = LSM_EINVAL;
            db_set_error(rc, "sequence numbers exhausted");
        } else {
            int dirty = db->wal_dirty || count > 0;
            int retired = db->nretired > 0 || db->retire_busy > 0;
            if (count > 0) {
                batch_set_sequence(group, seq);
                mlen = mark_encode(db, mrec);
            }
            pthread_mutex_unlock(&db->mu);
            if (count > 0) {
                memtable_prefetch_batch(mem, group);
                /* Large values to the value log (buffered: pushed to the OS
                 * with the WAL below, when the buffer fills, or when a
                 * reader needs them), pointers to the WAL. */
                rc = vlog_db_separate(db, group, &wb);
                vfail = rc != 0;
                if (rc == 0 && mlen > 0)
                    rc = wal_writer_add(wal, slice_make(mrec, mlen));
                if (rc == 0)
                    rc = wal_writer_add(wal, batch_contents(wb));
            }
            /* Pushed to the OS (survives a process crash) unless every
             * writer of the group is lsm_write_buffered; the value log
             * first, so an acknowledged record never points past it. */
            if (rc == 0 && !gsync && gpush) {
                rc = vlog_db_flush(db, 0);
                vfail = rc != 0;
                if (rc == 0)
                    rc = wal_writer_flush(wal);
            }
            if (rc == 0 && w.detach != NULL && dirty) {
                /* lsm_sync: the fsyncs run after the queue moved on. */
                rc = vlog_db_syncer(db, &w.detach->vlog, &w.detach->vlog_number,
                                    &w.detach->vlog_upto);
                vfail = rc != 0;
                if (rc == 0)
                    rc = wal_writer_syncer(wal, &w.detach->wal);
                if (rc == 0) {
                    w.detach->wal_number = wal_number;
                    w.detach->wal_upto = wal_writer_size(wal);
                }
            }
            if (rc == 0 && gsync && (dirty || retired)) {
                rc = vlog_db_flush(db, 1);        /* vlog durable before the WAL */
                vfail = rc != 0;
                if (rc == 0)
                    vlog_db_active(db, &vnum, &vupto);
                if (rc == 0 && retired) {         /* and the older WALs */
                    pthread_mutex_lock(&db->mu);
                    rc = db_retire_drain(db);
                    pthread_mutex_unlock(&db->mu);
                    vfail = rc != 0;
                }
                if (rc == 0)
                    rc = wal_writer_sync(wal);
                if (rc == 0) {
                    synced = 1;
                    wal_upto = wal_writer_size(wal);
                }
            }
            if (rc == 0 && count > 0)
                rc = memtable_add_batch(mem, wb);
            if (rc == 0 && count > 0 && memtable_link_due(mem))
                db_schedule_memtable_link(db, mem);
            pthread_mutex_lock(&db->mu);
            if (rc == 0) {
                if (synced) {
                    mark_note(db, MARK_WAL, wal_number, wal_upto);
                    mark_note(db, MARK_VLOG, vnum, vupto);
                }
                if (mlen > 0)
                    db->wal_bytes += mlen + WAL_HEADER_SIZE;
                if (gsync) {
                    db->wal_dirty = 0;
                } else if (count > 0) {
                    db->wal_dirty = 1;
                    db->wal_gen++;
                }
                if (w.detach != NULL)
                    w.detach->gen = db->wal_gen;
                if (count > 0) {
                    db->wal_bytes += lsm_batch_size(wb) + WAL_HEADER_SIZE;
                    if (w.gc == NULL)
                        db->user_bytes += batch_user_bytes(group);
                }
            } else {
                if (!vfail)
                    db_set_error(rc, "WAL write: %s", lsm_strerror(rc));
                db->need_new_wal = 1;
                vlog_db_mark_broken(db);
                db_set_bg_error(db, rc, lsm_last_error());
            }
            /* Sequences of a failed batch are burnt: it may be on disk.
             * Release: a get loads it without mu (sv_pin), then reads the
             * memtable entries inserted before. */
            __atomic_store_n(&db->vs->last_seq, seq + count - 1, __ATOMIC_RELEASE);
        }
    }
    /* Hand results to the group and pass leadership on. */
    for (;;) {
        p = db->wq_head;
        db->wq_head = p->next;
        if (db->wq_head == NULL)
            db->wq_tail = NULL;
        if (p != &w) {
            p->rc = rc;
            p->done = 1;
            pthread_cond_signal(&p->cv);
        }
        if (p == last)
            break;
    }
    if (db->wq_head)
        pthread_cond_signal(&db->wq_head->cv);
    else if (db->closing)
        pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}

static int wo_sync(const struct lsm_write_options *wo)
{
    return wo == NULL ? 1 : wo->sync;
}

int lsm_write(struct lsm_db *db, const struct lsm_write_options *wo, struct lsm_batch *batch)
{
    if (db == NULL || batch == NULL) {
        db_set_error(LSM_EINVAL, "lsm_write: NULL argument");
        return LSM_EINVAL;
    }
    return do_write(db, batch, wo_sync(wo), 0, NULL, 1, NULL);
}

int lsm_write_buffered(struct lsm_db *db, struct lsm_batch *batch)
{
    if (db == NULL || batch == NULL) {
        db_set_error(LSM_EINVAL, "lsm_write_buffered: NULL argument");
        return LSM_EINVAL;
    }
    return do_write(db, batch, 0, 0, NULL, 0, NULL);
}

/* Buffers kept per thread between calls (no malloc + realloc + free per
 * call): the one-operation batch of lsm_put / lsm_delete and the value
 * lsm_get_into assembles. Freed at thread exit, or trimmed after a use
 * larger than SCRATCH_KEEP. */
#define SCRATCH_KEEP (256 << 10)

struct thread_scratch {
    struct lsm_batch batch;
    struct buf value;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ok;

static void scratch_destroy(void *p)
{
    struct thread_scratch *ts = p;
    batch_free(&ts->batch);
    buf_free(&ts->value);
    zfree(ts);
}

static void scratch_key_init(void)
{
    scratch_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* This thread's buffers, or NULL when it cannot keep them. */
static struct thread_scratch *thread_scratch(void)
{
    struct thread_scratch *ts;

    pthread_once(&scratch_once, scratch_key_init);
    if (!scratch_ok)
        return NULL;
    ts = pthread_getspecific(scratch_key);
    if (ts == NULL) {
        ts = zmalloc(sizeof(*ts));
        batch_init(&ts->batch);
        buf_init(&ts->value);
        if (pthread_setspecific(scratch_key, ts) != 0) {
            scratch_destroy(ts);
            return NULL;
        }
    }
    return ts;
}

/* An empty batch for this thread, or local (initialised) when the thread
 * cannot keep one; pass both to put_batch_done. */
static struct lsm_batch *put_batch_get(struct lsm_batch *local)
{
    struct thread_scratch *ts = thread_scratch();

    if (ts != NULL) {
        lsm_batch_clear(&ts->batch);
        return &ts->batch;
    }
    batch_init(local);
    return local;
}

/* An empty value buffer for this thread, or local (initialised) when the
 * thread cannot keep one; pass both to scratch_value_done. */
static struct buf *scratch_value(struct buf *local)
{
    struct thread_scratch *ts = thread_scratch();
    buf_init(local);
    if (ts == NULL)
        return local;
    buf_clear(&ts->value);
    return &ts->value;
}

static void scratch_value_done(struct buf *value, struct buf *local)
{
    if (value == local || value->cap > SCRATCH_KEEP)
        buf_free(value);
}

static void put_batch_done(struct lsm_batch *b, struct lsm_batch *local)
{
    if (b == local) {
        batch_free(b);
    } else if (b->rep.cap > SCRATCH_KEEP) {
        batch_free(b);
        batch_init(b);
    }
}

int lsm_put(struct lsm_db *db, const struct lsm_write_options *wo,
            const void *key, size_t klen, const void *val, size_t vlen)
{
    struct lsm_batch local, *b = put_batch_get(&local);
    int rc;

    batch_put(b, slice_make(key, klen), slice_make(val, vlen));
    rc = lsm_write(db, wo, b);
    put_batch_done(b, &local);
    return rc;
}

int lsm_delete(struct lsm_db *db, const struct lsm_write_options *wo,
               const void *key, size_t klen)
{
    struct lsm_batch local, *b = put_batch_get(&local);
    int rc;

    batch_delete(b, slice_make(key, klen));
    rc = lsm_write(db, wo, b);
    put_batch_done(b, &local);
    return rc;
}

/* The fsyncs of lsm_sync, after its group left the writer queue. */
static int sync_point_sync(struct lsm_db *db, const struct sync_point *sp)
{
    int rc = sync_point_fsync(db, sp, 1, "lsm_sync");

    pthread_mutex_lock(&db->mu);
    if (rc != 0) {
        sync_point_failed(db, rc);
    } else {
        if (db->wal_gen == sp->gen)
            db->wal_dirty = 0;  /* nothing appended since: all is durable */
        mark_note(db, MARK_WAL, sp->wal_number, sp->wal_upto);
        mark_note(db, MARK_VLOG, sp->vlog_number, sp->vlog_upto);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int lsm_sync(struct lsm_db *db)
{
    struct sync_point sp = { .vlog = NULL };
    int rc;

    pthread_mutex_lock(&db->mu);
    db->syncs_out++;
    pthread_mutex_unlock(&db->mu);
    /* The leader pushes the value log and the WAL to the OS and takes
     * handles on them; writers queue behind it only that long, not for the
     * fsyncs. */
    rc = do_write(db, NULL, 0, 0, NULL, 1, &sp);
    if (rc == 0)
        rc = sync_point_sync(db, &sp);
    sync_point_close(&sp);
    pthread_mutex_lock(&db->mu);
    if (--db->syncs_out == 0 && db->closing)
        pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int lsm_flush_wal(struct lsm_db *db)
{
    /* An empty write that pushes the buffer (wal_push). */
    return do_write(db, NULL, 0, 0, NULL, 1, NULL);
}

int db_write_gc(struct lsm_db *db, struct vlog_gc_batch *g)
{
    return do_write(db, NULL, 0, 0, g, 1, NULL);
}

/* ---- reads ---- */

struct read_view {
    uint64_t seq;
    struct memtable *mems[64];
    struct memtable **mp;
    int nmem;
    struct version *v;
    struct vlog_view *vv;      /* registered reader (value-log GC) */
};

/* Pins mem, immutables (newest first) and the current version (mu held):
 * the iterator's view (point reads pin a super version instead). */
static void view_acquire(struct lsm_db *db, const struct lsm_read_options *ro,
                         struct read_view *rv, struct vlog_view *vv)
{
    int i;

    rv->seq = ro && ro->snapshot ? ro->snapshot->seq : db->vs->last_seq;
    rv->nmem = 1 + db->nimm;
    rv->mp = rv->nmem <= 64 ? rv->mems : zmalloc(sizeof(*rv->mp) * (size_t)rv->nmem);
    rv->mp[0] = db->mem;
    memtable_ref(db->mem);
    for (i = 0; i < db->nimm; i++) {
        rv->mp[1 + i] = db->imm[db->nimm - 1 - i];
        memtable_ref(rv->mp[1 + i]);
    }
    rv->v = db->vs->current;
    version_ref(rv->v);
    rv->vv = vv;
    if (vv != NULL)
        vlog_db_view_enter(db, vv, rv->seq);
}

static int file_has_ukey(const struct file_meta *f, struct slice ukey)
{
    return slice_compare(ukey, ikey_user_key(buf_slice(&f->smallest))) >= 0 &&
           slice_compare(ukey, ikey_user_key(buf_slice(&f->largest))) <= 0;
}

/* 1 found (value set), 0 deleted, 2 not in this table, < 0 error. */
static int table_get(struct lsm_db *db, const struct sst_read_options *sro,
                     struct file_meta *f, struct slice lookup, uint64_t bloom_hash,
                     struct buf *value, int *type)
{
    struct sst_get_result res;
    struct table_pin *pin = __atomic_load_n(&f->pin, __ATOMIC_ACQUIRE);
    int rc = 0;

    if (pin == NULL) {
        /* First lookup in this file: keep its reader for the file's life
         * (skips the table cache's lock, hash and LRU on every get). */
        struct table_pin *none = NULL;
        rc = table_cache_pin(db->tc, f->number, f->size, &pin);
        if (pin != NULL &&
            !__atomic_compare_exchange_n(&f->pin, &none, pin, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            table_cache_unpin(pin);    /* another reader was first */
            pin = none;
        }
    }
    if (rc == 0 && pin != NULL)
        rc = sst_reader_get_hashed(table_pin_reader(pin), sro, lookup, bloom_hash, &res, value);
    else if (rc == 0)
        rc = table_cache_lookup(db->tc, sro, f->number, f->size, lookup, &res, value);

    if (rc != 0) {
        /* A table the manifest lists but the directory lacks is damage to
         * the database, not "no database" (LSM_ENOENT). */
        if (rc == LSM_ENOENT)
            rc = LSM_ECORRUPT;
        db_set_error(rc, "%s", sst_last_error());
        return rc;
    }
    if (!res.found)
        return 2;
    *type = res.type;
    return res.type == LSM_TYPE_DELETION ? 0 : 1;
}

static int version_get(struct lsm_db *db, const struct lsm_read_options *ro,
                       struct version *v, struct slice ukey, uint64_t seq,
                       struct buf *value, int *type)
{
    struct sst_read_options sro;
    char small[128];
    char *lk = small;
    struct slice lookup;
    uint64_t h;
    int l, i, r = 2;

    sst_read_options_init(&sro);
    if (ro) {
        sro.fill_cache = ro->fill_cache;
        sro.verify_checksums = ro->verify_checksums || db->opt.paranoid_checks;
    }
    /* The lookup key on the stack when it fits (no allocation per get). */
    if (ukey.len + LSM_TRAILER_LEN > sizeof(small))
        lk = zmalloc(ukey.len + LSM_TRAILER_LEN);
    if (ukey.len > 0)
        memcpy(lk, ukey.data, ukey.len);
    encode_fixed64(lk + ukey.len, dbformat_pack(seq, LSM_TYPE_SEEK));
    lookup = slice_make(lk, ukey.len + LSM_TRAILER_LEN);
    /* One bloom hash for every table asked (they all use it). */
    h = bloom_local_hash(ukey);
    for (i = v->nfiles[0] - 1; i >= 0 && r == 2; i--)
        if (file_has_ukey(v->files[0][i], ukey))
            r = table_get(db, &sro, v->files[0][i], lookup, h, value, type);
    for (l = 1; l < LSM_NUM_LEVELS && r == 2; l++) {
        i = version_find_file(v, l, lookup);
        if (i < v->nfiles[l] && file_has_ukey(v->files[l][i], ukey))
            r = table_get(db, &sro, v->files[l][i], lookup, h, value, type);
    }
    if (lk != small)
        zfree(lk);
    return r;
}

/* Pins the installed super version without mu (db_impl.h). */
static struct super_version *sv_pin(struct lsm_db *db)
{
    struct super_version *sv;

    pthread_spin_lock(&db->sv_lock);
    sv = db->sv;
    __atomic_fetch_add(&sv->refs, 1, __ATOMIC_RELAXED);
    pthread_spin_unlock(&db->sv_lock);
    return sv;
}

static void sv_unpin(struct lsm_db *db, struct super_version *sv)
{
    if (__atomic_sub_fetch(&sv->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    /* The last reference of a replaced one (the db holds the installed). */
    pthread_mutex_lock(&db->mu);
    sv_free_locked(sv);
    vlog_db_maybe_schedule_gc(db);   /* a collected segment may be free now */
    pthread_mutex_unlock(&db->mu);
}

/* The sequence a read sees: the snapshot's, or the last one, loaded after
 * the super version was pinned (so it holds every entry up to it, and value-
 * log GC's rule in db_impl.h holds). */
static uint64_t read_seq(struct lsm_db *db, const struct lsm_read_options *ro)
{
    if (ro && ro->snapshot)
        return ro->snapshot->seq;
    return __atomic_load_n(&db->vs->last_seq, __ATOMIC_ACQUIRE);
}

/* Newest entry of ukey at seq in sv: 1 value (value, *type set), 0 deleted,
 * 2 absent, < 0 error. */
static int sv_get(struct lsm_db *db, const struct lsm_read_options *ro,
                  struct super_version *sv, struct slice ukey, uint64_t seq,
                  struct buf *value, int *type)
{
    int i;
    uint64_t h = memtable_key_hash(ukey);

    for (i = 0; i < sv->nmem; i++) {
        int g = memtable_get_hashed(sv->mems[i], h, ukey, seq, type, value, NULL);
        if (g == MEMTABLE_FOUND)
            return 1;
        if (g == MEMTABLE_DELETED)
            return 0;
    }
    return version_get(db, ro, sv->v, ukey, seq, value, type);
}

static int not_found(void)
{
    set_error_const(LSM_ENOTFOUND, "key not found");
    return LSM_ENOTFOUND;
}

void lsm_prefetch(struct lsm_db *db, const void *key, size_t klen)
{
    struct super_version *sv = sv_pin(db);
    uint64_t h = memtable_key_hash(slice_make(key, klen));
    int i;

    /* Bloom filter probes too were tried: with several tables per key
     * they were more lines than the CPU keeps in flight, and gets got
     * slower. */
    for (i = 0; i < sv->nmem; i++)
        memtable_prefetch(sv->mems[i], h);
    sv_unpin(db, sv);
}

/* The status a point read returns for sv_get's / get_value's r. */
static int get_status(int r)
{
    if (r == 1)
        return 0;
    if (r == 0 || r == 2)
        return not_found();
    return r;
}

/* Gives value's buffer to the caller (zmalloc'd, as lsm_free expects),
 * NUL-terminated; value is left empty. */
static void hand_over(struct buf *value, char **val, size_t *vlen)
{
    buf_reserve(value, 1);
    value->data[value->len] = '\0';
    *val = value->data;
    *vlen = value->len;
    buf_init(value);
}

/* The value of key into value (empty on entry), a value pointer resolved:
 * 1 found, 0 deleted, 2 absent, < 0 error (message set). With pin not
 * NULL a cached separated value may be lent instead (*pin set, *data and
 * *len the cache's bytes, value left as the pointer). */
static int get_value_lent(struct lsm_db *db, const struct lsm_read_options *ro,
                          const void *key, size_t klen, struct buf *value,
                          const char **data, size_t *len, void **pin)
{
    struct super_version *sv;
    int r, type = LSM_TYPE_VALUE;

    if (pin)
        *pin = NULL;
    sv = sv_pin(db);
    r = sv_get(db, ro, sv, slice_make(key, klen), read_seq(db, ro), value, &type);
    if (r == 1 && type == LSM_TYPE_VPTR) {
        struct buf resolved = BUF_INIT;
        if (pin && db->vlog.lend != NULL) {
            r = db->vlog.lend(db->vlog.arg, slice_make(key, klen), buf_slice(value),
                              &resolved, data, len, pin);
            if (r == 0)
                r = 1;
        } else if (db->vlog.resolve != NULL) {
            r = db->vlog.resolve(db->vlog.arg, slice_make(key, klen), buf_slice(value),
                                 &resolved);
            if (r == 0)
                r = 1;
        } else {
            r = LSM_ECORRUPT;
            db_set_error(r, "value pointer for a key but no value log in this build");
        }
        buf_free(value);
        *value = resolved;
    }
    /* Released after the value-log read: GC keeps what this view can see. */
    sv_unpin(db, sv);
    return r;
}

static int get_value(struct lsm_db *db, const struct lsm_read_options *ro,
                     const void *key, size_t klen, struct buf *value)
{
    return get_value_lent(db, ro, key, klen, value, NULL, NULL, NULL);
}

int lsm_get(struct lsm_db *db, const struct lsm_read_options *ro,
            const void *key, size_t klen, char **val, size_t *vlen)
{
    struct buf value = BUF_INIT;
    int r;

    *val = NULL;
    *vlen = 0;
    r = get_value(db, ro, key, klen, &value);
    if (r == 1)
        hand_over(&value, val, vlen);
    buf_free(&value);
    return get_status(r);
}

int lsm_get_into(struct lsm_db *db, const struct lsm_read_options *ro,
                 const void *key, size_t klen, char *buf, size_t cap,
                 char **val, size_t *vlen)
{
    struct buf local, *value = scratch_value(&local);
    int r;

    *val = NULL;
    *vlen = 0;
    r = get_value(db, ro, key, klen, value);
    if (r == 1 && value->len < cap) {
        memcpy(buf, value->data, value->len);
        buf[value->len] = '\0';
        *val = buf;
        *vlen = value->len;
    } else if (r == 1) {
        hand_over(value, val, vlen);      /* too big for buf */
    }
    scratch_value_done(value, &local);
    return get_status(r);
}

void lsm_free(void *p)
{
    zfree(p);
}

int lsm_get_lent(struct lsm_db *db, const struct lsm_read_options *ro,
                 const void *key, size_t klen, char *buf, size_t cap,
                 const char **val, size_t *vlen, void **pin)
{
    struct buf local, *value = scratch_value(&local);
    int r;

    *val = NULL;
    *vlen = 0;
    r = get_value_lent(db, ro, key, klen, value, val, vlen, pin);
    if (r == 1 && *pin == NULL) {
        if (value->len < cap) {
            memcpy(buf, value->data, value->len);
            buf[value->len] = '\0';
            *val = buf;
            *vlen = value->len;
        } else {
            char *owned;
            hand_over(value, &owned, vlen);
            *val = owned;
        }
    }
    scratch_value_done(value, &local);
    return get_status(r);
}

void lsm_unpin(struct lsm_db *db, void *pin)
{
    if (pin && db->vlog.unpin)
        db->vlog.unpin(db->vlog.arg, pin);
}

int lsm_get_prefix(struct lsm_db *db, const struct lsm_read_options *ro,
                   const void *key, size_t klen, char *buf, size_t cap, size_t *got,
                   size_t *full_len)
{
    struct super_version *sv;
    struct buf local, *value = scratch_value(&local);
    int r, type = LSM_TYPE_VALUE;

    *got = 0;
    *full_len = 0;
    sv = sv_pin(db);
    r = sv_get(db, ro, sv, slice_make(key, klen), read_seq(db, ro), value, &type);
    sv_unpin(db, sv);
    if (r == 1) {
        struct slice v = buf_slice(value);
        if (type == LSM_TYPE_VPTR) {
            size_t plen;
            r = vlog_db_pointer_prefix(v, &v, &plen);
            *full_len = plen;
        } else {
            *full_len = v.len;
        }
        if (r == 1) {
            *got = v.len < cap ? v.len : cap;
            memcpy(buf, v.data, *got);
        }
    }
    scratch_value_done(value, &local);
    return get_status(r);
}

int db_get_latest(struct lsm_db *db, struct slice ukey, struct buf *value, int *type)
{
    struct lsm_read_options ro;
    struct super_version *sv;
    int r;

    lsm_read_options_init(&ro);
    ro.fill_cache = 0;
    *type = LSM_TYPE_VALUE;
    sv = sv_pin(db);
    r = sv_get(db, &ro, sv, ukey, read_seq(db, NULL), value, type);
    sv_unpin(db, sv);
    return r == 2 ? 0 : r;
}

/* ---- snapshots ---- */

const struct lsm_snapshot *lsm_snapshot_create(struct lsm_db *db)
{
    struct lsm_snapshot *s = zmalloc(sizeof *s);

    pthread_mutex_lock(&db->mu);
    s->seq = db->vs->last_seq;
    s->next = &db->snaps;
    s->prev = db->snaps.prev;
    s->prev->next = s;
    db->snaps.prev = s;
    pthread_mutex_unlock(&db->mu);
    return s;
}

void lsm_snapshot_release(struct lsm_db *db, const struct lsm_snapshot *cs)
{
    struct lsm_snapshot *s = (struct lsm_snapshot *)cs;

    if (s == NULL)
        return;
    pthread_mutex_lock(&db->mu);
    s->prev->next = s->next;
    s->next->prev = s->prev;
    vlog_db_maybe_schedule_gc(db);   /* a collected segment may be free now */
    pthread_mutex_unlock(&db->mu);
    zfree(s);
}

uint64_t lsm_snapshot_sequence(const struct lsm_snapshot *s)
{
    return s->seq;
}

/* ---- iterators ---- */

struct lsm_iter {
    struct lsm_db *db;
    struct iter *it;
    struct version *v;
    struct sst_read_options sro;    /* for tables opened by level iterators */
    struct vlog_view vv;            /* registered reader (value-log GC) */
    char verr[300];                 /* why a value-log read failed */
    struct memtable **mems;         /* the view's memtables (referenced) */
    int nmem;
};

static struct iter *user_table_iter(void *arg, const struct file_meta *f)
{
    struct lsm_iter *li = arg;
    return table_cache_iter(li->db->tc, &li->sro, f->number, f->size, NULL);
}

/* The merge of the iterator's memtables and tables (its pinned view). */
static struct iter *internal_iter(struct lsm_iter *li)
{
    struct version *v = li->v;
    struct iter **kids = zmalloc(sizeof(*kids) *
                                 (size_t)(li->nmem + v->nfiles[0] + LSM_NUM_LEVELS));
    struct iter *it;
    int n = 0, i, l;

    for (i = 0; i < li->nmem; i++) {
        memtable_note_scan(li->mems[i]);
        kids[n++] = memtable_iter_create(li->mems[i]);
    }
    for (i = v->nfiles[0] - 1; i >= 0; i--)
        kids[n++] = table_cache_iter(li->db->tc, &li->sro, v->files[0][i]->number,
                                     v->files[0][i]->size, NULL);
    for (l = 1; l < LSM_NUM_LEVELS; l++)
        if (v->nfiles[l] > 0)
            kids[n++] = version_level_iter(v, l, user_table_iter, li);
    it = iter_merging(ikey_compare, kids, n);
    zfree(kids);
    return it;
}

static struct iter *lookahead_clone(void *arg)
{
    return internal_iter(arg);
}

struct lsm_iter *lsm_iter_create(struct lsm_db *db, const struct lsm_read_options *ro)
{
    struct lsm_iter *li = zcalloc(sizeof *li);
    struct read_view rv;
    struct sst_read_options sro;
    struct slice lo, up;

    sst_read_options_init(&sro);
    if (ro) {
        sro.fill_cache = ro->fill_cache;
        sro.verify_checksums = ro->verify_checksums || db->opt.paranoid_checks;
    }
    li->db = db;
    li->sro = sro;
    pthread_mutex_lock(&db->mu);
    view_acquire(db, ro, &rv, &li->vv);
    pthread_mutex_unlock(&db->mu);
    li->v = rv.v;
    /* The view's memtable references move to li (kept for a lookahead). */
    li->nmem = rv.nmem;
    li->mems = zmalloc(sizeof(*li->mems) * (size_t)rv.nmem);
    memcpy(li->mems, rv.mp, sizeof(*li->mems) * (size_t)rv.nmem);
    if (rv.mp != rv.mems)
        zfree(rv.mp);
    if (ro && ro->lower_bound)
        lo = slice_make(ro->lower_bound, ro->lower_bound_len);
    if (ro && ro->upper_bound)
        up = slice_make(ro->upper_bound, ro->upper_bound_len);
    li->it = dbiter_create(internal_iter(li), rv.seq,
                           ro && ro->lower_bound ? &lo : NULL,
                           ro && ro->upper_bound ? &up : NULL, db->vlog.resolve,
                           db->vlog.arg);
    if (db->vlog.prefetch != NULL)
        dbiter_set_lookahead(li->it, lookahead_clone, li, db->vlog.prefetch, db->vlog.arg);
    return li;
}

void lsm_iter_destroy(struct lsm_iter *li)
{
    if (li == NULL)
        return;
    iter_destroy(li->it);
    for (int i = 0; i < li->nmem; i++)
        memtable_unref(li->mems[i]);
    zfree(li->mems);
    pthread_mutex_lock(&li->db->mu);
    version_unref(li->v);
    vlog_db_view_exit(li->db, &li->vv);
    pthread_mutex_unlock(&li->db->mu);
    zfree(li);
}

void lsm_iter_seek_to_first(struct lsm_iter *li) { iter_seek_to_first(li->it); }
void lsm_iter_seek_to_last(struct lsm_iter *li) { iter_seek_to_last(li->it); }
void lsm_iter_seek(struct lsm_iter *li, const void *key, size_t klen)
{
    iter_seek(li->it, slice_make(key, klen));
}
void lsm_iter_seek_for_prev(struct lsm_iter *li, const void *key, size_t klen)
{
    iter_seek_for_prev(li->it, slice_make(key, klen));
}
void lsm_iter_next(struct lsm_iter *li) { if (iter_valid(li->it)) iter_next(li->it); }
void lsm_iter_prev(struct lsm_iter *li) { if (iter_valid(li->it)) iter_prev(li->it); }
int lsm_iter_valid(const struct lsm_iter *li) { return iter_valid(li->it); }

const char *lsm_iter_key(const struct lsm_iter *li, size_t *len)
{
    struct slice k = iter_key(li->it);
    *len = k.len;
    return k.data;
}

const char *lsm_iter_value(const struct lsm_iter *li, size_t *len)
{
    struct slice v = iter_value(li->it);
    *len = v.len;
    if (v.data == NULL && iter_status(li->it) != 0)
        snprintf(((struct lsm_iter *)li)->verr, sizeof li->verr, "%s",
                 strip_prefix(lsm_last_error(), iter_status(li->it)));
    return v.data;
}

const char *lsm_iter_value_prefix(const struct lsm_iter *li, size_t *len, size_t *full_len)
{
    struct slice raw, pre;
    size_t full = 0;

    *len = *full_len = 0;
    if (!dbiter_raw_value(li->it, &raw)) {
        *len = *full_len = raw.len;
        return raw.data;
    }
    if (vlog_db_pointer_prefix(raw, &pre, &full) != 1)
        return NULL;
    *len = pre.len;
    *full_len = full;
    return pre.data ? pre.data : "";
}

int lsm_iter_status(const struct lsm_iter *li)
{
    int st = iter_status(li->it);
    if (st == LSM_ENOENT)
        st = LSM_ECORRUPT;     /* a listed table is missing */
    if (st != 0)
        db_set_error(st, "iterator: %s", li->verr[0] ? li->verr : sst_last_error());
    return st;
}

/* ---- maintenance ---- */

int lsm_flush(struct lsm_db *db, int wait)
{
    uint64_t target;
    int rc;

    rc = do_write(db, NULL, 0, 1, NULL, 1, NULL);
    if (rc != 0 || !wait)
        return rc;
    pthread_mutex_lock(&db->mu);
    target = db->imm_pushed;
    while (db->imm_flushed < target && db->bg_error == 0 && !db->closing) {
        db_maybe_schedule_flush(db);
        pthread_cond_wait(&db->bg_cv, &db->mu);
    }
    rc = db->bg_error ? bg_error_locked(db) : 0;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* 1 when a level deeper than `level` has a file overlapping [b, e]. */
static int overlap_below(struct version *v, int level, const struct slice *b,
                         const struct slice *e)
{
    int l;
    for (l = level + 1; l < LSM_NUM_LEVELS; l++)
        if (version_overlap_in_level(v, l, b, e))
            return 1;
    return 0;
}

/* The last step of lsm_compact_range: its output level, the user-key range
 * it covered, and the first file number it could have written. */
struct range_step {
    int out_level;
    uint64_t first_new;
    struct buf lo, hi;
};

/* 1 when every file of level overlapping [b, e] was written by the last
 * step, into this level: no other compaction can write into its range while
 * it runs, so a file inside that range numbered from first_new on is one of
 * its outputs, already filtered and purged with the current snapshots. */
static int level_rewritten(struct version *v, int level, const struct slice *b,
                           const struct slice *e, const struct range_step *st)
{
    struct file_meta **files = NULL;
    int n = 0, i, all = st->out_level == level;

    version_overlapping(v, level, b, e, &files, &n);
    for (i = 0; i < n && all; i++)
        all = files[i]->number >= st->first_new &&
              slice_compare(ikey_user_key(buf_slice(&files[i]->smallest)),
                            buf_slice(&st->lo)) >= 0 &&
              slice_compare(ikey_user_key(buf_slice(&files[i]->largest)),
                            buf_slice(&st->hi)) <= 0;
    zfree(files);
    return all;
}

int lsm_compact_range(struct lsm_db *db, const void *begin, size_t blen,
                      const void *end, size_t elen)
{
    struct slice b = slice_make(begin, blen), e = slice_make(end, elen);
    const struct slice *pb = begin ? &b : NULL, *pe = end ? &e : NULL;
    struct range_step st = { -1, 0, BUF_INIT, BUF_INIT };
    int rc, level, bottom = 0;

    rc = lsm_flush(db, 1);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&db->mu);
    db->manual_running++;
    for (level = 0; level < LSM_NUM_LEVELS && rc == 0 && !bottom; level++) {
        for (;;) {
            struct compaction *c;
            int busy = 0;
            if (db->bg_error) {
                rc = bg_error_locked(db);
                break;
            }
            if (db->closing) {
                rc = LSM_ECLOSED;
                db_set_error(rc, "database is closing");
                break;
            }
            /* L0 always moves to L1; a deeper level moves down while
             * something below it overlaps; the deepest level holding data
             * in the range is compacted into itself (the filter and the
             * snapshots decide there too), unless the step before just
             * wrote all of its files in the range. */
            bottom = level > 0 && !overlap_below(db->vs->current, level, pb, pe);
            if (bottom && level_rewritten(db->vs->current, level, pb, pe, &st))
                break;
            c = bottom ? compaction_pick_range_bottom(db->vs, &db->copt, level, pb, pe,
                                                      db->running, db->nrunning, &busy)
                       : compaction_pick_range(db->vs, &db->copt, level, pb, pe, db->running,
                                               db->nrunning, &busy);
            if (c == NULL && busy) {
                pthread_cond_wait(&db->bg_cv, &db->mu);
                continue;
            }
            if (c == NULL)
                break;
            if (db->nrunning == db->crunning) {
                db->crunning = db->crunning ? db->crunning * 2 : 4;
                db->running = zrealloc(db->running, sizeof(*db->running) * (size_t)db->crunning);
            }
            db->running[db->nrunning++] = c;
            st.out_level = c->out_level;
            st.first_new = db->vs->next_file;
            buf_set(&st.lo, c->smallest.data, c->smallest.len);
            buf_set(&st.hi, c->largest.data, c->largest.len);
            rc = db_run_compaction(db, c);
            break;
        }
    }
    buf_free(&st.lo);
    buf_free(&st.hi);
    db_delete_obsolete_files(db);
    db->manual_running--;
    db_maybe_schedule_compaction(db);
    vlog_db_maybe_schedule_gc(db);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int lsm_resume(struct lsm_db *db)
{
    int rc;

    pthread_mutex_lock(&db->mu);
    if (db->bg_error == 0) {
        pthread_mutex_unlock(&db->mu);
        return 0;
    }
    log_notice("lsm: resuming after background error: %s", db->bg_errmsg);
    __atomic_store_n(&db->bg_error, 0, __ATOMIC_RELEASE);
    db->bg_errmsg[0] = '\0';
    if (db->wal == NULL || wal_writer_error(db->wal) != 0)
        db->need_new_wal = 1;
    /* A failed manifest write may have left files that a new manifest does
     * not list; the flush / compaction below writes that new manifest. */
    db_maybe_schedule_flush(db);
    while (db->flush_scheduled && db->bg_error == 0)
        pthread_cond_wait(&db->bg_cv, &db->mu);
    if (db->bg_error == 0 && db->vs->manifest == NULL) {
        struct version_edit e;
        version_edit_init(&e);
        rc = version_set_log_and_apply(db->vs, &e, &db->mu);
        if (rc != 0) {
            db_set_error(rc, "%s", db->vs->errmsg);
            db_set_bg_error(db, rc, lsm_last_error());
        }
        version_edit_free(&e);
    }
    if (db->bg_error == 0) {
        db_delete_obsolete_files(db);
        db_maybe_schedule_compaction(db);
    }
    rc = db->bg_error ? bg_error_locked(db) : 0;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int lsm_bg_error(struct lsm_db *db)
{
    /* Lock-free: the server asks before every write and PING. Stores are
     * atomic (under db->mu); other readers hold db->mu. */
    return __atomic_load_n(&db->bg_error, __ATOMIC_ACQUIRE);
}

/* ---- stats ---- */

int lsm_get_stats(struct lsm_db *db, struct lsm_stats *out)
{
    struct version *v;
    double score[LSM_NUM_LEVELS];
    struct cache_stats cs;
    struct sst_stats ss;
    int l, i;
    uint64_t live = 0;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&db->mu);
    v = db->vs->current;
    compaction_scores(v, &db->copt, score);
    for (l = 0; l < LSM_NUM_LEVELS && l < LSM_STATS_LEVELS; l++) {
        out->level[l] = db->lstats[l];
        out->level[l].files = v->nfiles[l];
        out->level[l].bytes = version_level_bytes(v, l);
        out->level[l].score = score[l];
        live += out->level[l].bytes;
    }
    out->memtable_bytes = memtable_approximate_memory_usage(db->mem);
    for (i = 0; i < db->nimm; i++)
        out->memtable_bytes += memtable_approximate_memory_usage(db->imm[i]);
    out->immutable_memtables = db->nimm;
    out->pending_compaction_bytes = compaction_pending_bytes(v, &db->copt);
    out->running_flushes = (uint64_t)db->flush_scheduled;
    out->running_compactions = (uint64_t)db->nrunning;
    out->stall_count = db->stall_count;
    out->stall_micros = db->stall_micros;
    out->user_bytes_written = db->user_bytes;
    out->wal_bytes_written = db->wal_bytes;
    out->flush_bytes_written = db->flush_bytes;
    out->compaction_bytes_read = db->comp_read;
    out->compaction_bytes_written = db->comp_written;
    out->flushes = db->flushes;
    out->compactions = db->compactions;
    out->last_sequence = db->vs->last_seq;
    out->live_sst_bytes = live;
    out->wal_files = (uint64_t)db->nimm + 1;
    out->bg_error = db->bg_error;
    vlog_db_stats(db, out);
    pthread_mutex_unlock(&db->mu);

    cache_get_stats(db->block_cache, &cs);
    out->block_cache_capacity = cs.capacity;
    out->block_cache_usage = cs.usage;
    out->block_cache_hits = cs.hits;
    out->block_cache_misses = cs.misses;
    sst_stats_read(&db->sst_stats, &ss);
    out->bloom_useful = ss.bloom_useful;
    out->bloom_false_positive = ss.bloom_false_positive;
    return 0;
}
