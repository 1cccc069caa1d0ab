/* engine-bench: a db_bench-style benchmark of liblsm (not a test).
 *
 * Flags are named like RocksDB's db_bench so utils/bench/vs-rocksdb.sh can
 * run both with the same command line:
 *   --benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom
 *   --num=N (1000000) --reads=N (num) --key_size=16 --value_size=100
 *   --threads=1 --db=DIR --use_existing_db=0 --sync=0
 *   --compression_type=snappy|none (or --compression=) --compression_ratio=0.5
 *   --bloom_bits=10
 *   --cache_size=bytes (8 MiB) --write_buffer_size=bytes (64 MiB)
 *   --value_cache_size=bytes (0: like db_bench, which has no blob cache
 *   unless --use_blob_cache=1)
 *   --seek_nexts=0 --seed=N
 * Keys are db_bench's: the key number as 8 big-endian bytes, padded with '0'
 * to key_size. Values come from a 1 MB buffer of 100-byte pieces, each
 * piece compression_ratio random printable bytes repeated (db_bench's
 * CompressibleString), so both programs write data of the same
 * compressibility. Each benchmark prints db_bench's report line
 *   fillrandom   :       X micros/op Y ops/sec;   Z MB/s
 * then latency percentiles and, after writes, the engine's write
 * amplification ((WAL + flush + compaction bytes written) / user bytes
 * written) and space on disk (and its ratio to the live user bytes). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/log.h"
#include "util/zmalloc.h"

static struct {
    const char *benchmarks;
    long num, reads;
    int key_size, value_size, threads, use_existing_db, sync, bloom_bits, seek_nexts;
    const char *db;
    const char *compression;
    double compression_ratio;
    uint64_t cache_size, write_buffer_size, seed;
    int histogram;
} flags = {
    "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom",
    1000000, -1, 16, 100, 1, 0, 0, 10, 0,
    "/tmp/lsmdb-engine-bench", "snappy", 0.5, 8 << 20, 64 << 20, 0, 1,
};

static struct lsm_db *db;
static uint64_t live_keys;     /* distinct keys written since the db was fresh */
static unsigned char *written; /* bitmap of key numbers written */

/* ---- random numbers and values ---- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char *value_buf;
static size_t value_buf_len;

/* 1 MB of 100-byte pieces: ratio*100 random printable bytes, repeated. */
static void init_values(uint64_t seed)
{
    struct rng r = { seed ^ 301 };
    size_t pos = 0, piece = 100;
    size_t raw = (size_t)(piece * flags.compression_ratio);

    if (raw < 1)
        raw = 1;
    value_buf_len = (1 << 20) + (size_t)flags.value_size;
    value_buf = zmalloc(value_buf_len);
    while (pos < value_buf_len) {
        char src[100];
        size_t i;
        for (i = 0; i < raw && i < piece; i++)
            src[i] = (char)(' ' + rng_next(&r) % 95);
        for (i = 0; i < piece && pos < value_buf_len; i++)
            value_buf[pos++] = src[i % raw];
    }
}

static const char *gen_value(size_t *pos)
{
    const char *v;
    if (*pos + (size_t)flags.value_size > value_buf_len)
        *pos = 0;
    v = value_buf + *pos;
    *pos += (size_t)flags.value_size;
    return v;
}

static void make_key(uint64_t n, char *k)
{
    int i;
    for (i = 0; i < 8 && i < flags.key_size; i++)
        k[i] = (char)(n >> (56 - 8 * i));
    for (; i < flags.key_size; i++)
        k[i] = '0';
}

/* ---- timing ---- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- directory helpers ---- */

static uint64_t dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t total = 0;
    char path[4096];
    struct stat st;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

static void destroy_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static long vsep = -1, vfile = -1, vcache = 0;
static double vratio = -1;
static long mapped = -1;            /* --mapped_logs: -1 = the engine's default */
static long restart = -1;           /* --block_restart_interval */

static void open_db(int fresh)
{
    struct lsm_options o;
    int rc;

    if (db) {
        lsm_close(db);
        db = NULL;
    }
    if (fresh) {
        destroy_dir(flags.db);
        live_keys = 0;
        memset(written, 0, (size_t)(flags.num / 8 + 1));
    }
    lsm_options_init(&o);
    o.compression = strcmp(flags.compression, "none") == 0 ? LSM_COMPRESSION_NONE
                                                           : LSM_COMPRESSION_SNAPPY;
    o.bloom_bits_per_key = flags.bloom_bits < 0 ? 0 : flags.bloom_bits;
    o.block_cache_size = flags.cache_size;
    o.write_buffer_size = flags.write_buffer_size;
    if (vsep >= 0)
        o.value_separation_threshold = (size_t)vsep;
    if (vfile > 0)
        o.vlog_file_size = (uint64_t)vfile;
    if (vratio > 0)
        o.vlog_gc_ratio = vratio;
    o.value_cache_size = (size_t)vcache;
    if (mapped >= 0)
        o.mapped_logs = mapped != 0;
    if (restart > 0)
        o.block_restart_interval = (int)restart;
    rc = lsm_open(flags.db, &o, &db);
    if (rc != 0) {
        fprintf(stderr, "engine-bench: open %s: %s\n", flags.db, lsm_last_error());
        exit(1);
    }
}

/* ---- benchmarks ---- */

enum bench_kind { B_FILLSEQ, B_FILLRANDOM, B_OVERWRITE, B_READRANDOM, B_READSEQ, B_SEEKRANDOM };

struct worker {
    enum bench_kind kind;
    int id;
    long ops;
    int64_t *lat;        /* per-op latency in ns */
    long done;
    uint64_t bytes;
    long found;
    pthread_t th;
};

static void mark_written(uint64_t n)
{
    unsigned char bit = (unsigned char)(1u << (n % 8));
    if (!(__atomic_fetch_or(&written[n / 8], bit, __ATOMIC_RELAXED) & bit))
        __atomic_add_fetch(&live_keys, 1, __ATOMIC_RELAXED);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct rng r = { flags.seed * 1000003u + (uint64_t)w->id * 7919u + (uint64_t)w->kind };
    struct lsm_write_options wo = { .sync = flags.sync };
    char key[256], *getbuf = NULL;
    size_t vpos = (size_t)(rng_next(&r) % (1 << 20));
    long i;

    if (w->kind == B_READRANDOM)
        getbuf = zmalloc((size_t)flags.value_size + 1);

    if (w->kind == B_READSEQ) {
        struct lsm_iter *it = lsm_iter_create(db, NULL);
        int64_t t = now_ns();
        lsm_iter_seek_to_first(it);
        for (i = 0; i < w->ops && lsm_iter_valid(it); i++) {
            size_t kn, vn;
            lsm_iter_key(it, &kn);
            lsm_iter_value(it, &vn);
            w->bytes += kn + vn;
            lsm_iter_next(it);
            int64_t t2 = now_ns();
            w->lat[i] = t2 - t;
            t = t2;
        }
        w->done = i;
        lsm_iter_destroy(it);
        return NULL;
    }
    for (i = 0; i < w->ops; i++) {
        uint64_t n = w->kind == B_FILLSEQ ? (uint64_t)i : rng_next(&r) % (uint64_t)flags.num;
        int64_t t0;
        int rc = 0;

        make_key(n, key);
        t0 = now_ns();
        switch (w->kind) {
        case B_FILLSEQ:
        case B_FILLRANDOM:
        case B_OVERWRITE: {
            const char *v = gen_value(&vpos);
            rc = lsm_put(db, &wo, key, (size_t)flags.key_size, v, (size_t)flags.value_size);
            w->bytes += (uint64_t)(flags.key_size + flags.value_size);
            if (rc == 0)
                mark_written(n);
            break;
        }
        case B_READRANDOM: {
            /* Into a buffer of the worker's, as db_bench reads into a
             * PinnableSlice: no allocation per get. */
            char *v;
            size_t vn;
            rc = lsm_get_into(db, NULL, key, (size_t)flags.key_size, getbuf,
                              (size_t)flags.value_size + 1, &v, &vn);
            if (rc == 0) {
                w->found++;
                w->bytes += (uint64_t)flags.key_size + vn;
                if (v != getbuf)
                    lsm_free(v);
            } else if (rc == LSM_ENOTFOUND) {
                rc = 0;
            }
            break;
        }
        case B_SEEKRANDOM: {
            struct lsm_iter *it = lsm_iter_create(db, NULL);
            int j;
            lsm_iter_seek(it, key, (size_t)flags.key_size);
            if (lsm_iter_valid(it)) {
                size_t kn;
                const char *k = lsm_iter_key(it, &kn);
                if (kn == (size_t)flags.key_size && memcmp(k, key, kn) == 0)
                    w->found++;
            }
            for (j = 0; j < flags.seek_nexts && lsm_iter_valid(it); j++) {
                size_t kn, vn;
                lsm_iter_key(it, &kn);
                lsm_iter_value(it, &vn);
                w->bytes += kn + vn;
                lsm_iter_next(it);
            }
            rc = lsm_iter_status(it);
            lsm_iter_destroy(it);
            break;
        }
        default:
            break;
        }
        w->lat[i] = now_ns() - t0;
        if (rc != 0) {
            fprintf(stderr, "engine-bench: op failed: %s\n", lsm_last_error());
            exit(1);
        }
    }
    zfree(getbuf);
    w->done = w->ops;
    return NULL;
}

static void print_stats_after_write(const struct lsm_stats *a, const struct lsm_stats *b,
                                    int64_t wait_ns)
{
    uint64_t user = b->user_bytes_written - a->user_bytes_written;
    uint64_t wal = b->wal_bytes_written - a->wal_bytes_written;
    uint64_t flush = b->flush_bytes_written - a->flush_bytes_written;
    uint64_t comp = b->compaction_bytes_written - a->compaction_bytes_written;
    uint64_t vlog = b->vlog_bytes_written - a->vlog_bytes_written;
    uint64_t disk = dir_bytes(flags.db);
    uint64_t live = live_keys * (uint64_t)(flags.key_size + flags.value_size);
    int l;

    printf("  write amp    : %.2f  (wal %.1f MB + vlog %.1f MB + flush %.1f MB + compaction %.1f MB)"
           " / user %.1f MB\n", user ? (double)(wal + vlog + flush + comp) / (double)user : 0.0,
           wal / 1048576.0, vlog / 1048576.0, flush / 1048576.0, comp / 1048576.0,
           user / 1048576.0);
    printf("  vlog         : %.1f MB in %" PRIu64 " segments, discard %.1f MB, gc runs %" PRIu64
           ", rewritten %.1f MB, reclaimed %.1f MB\n", b->vlog_bytes / 1048576.0,
           b->vlog_segments, b->vlog_discard_bytes / 1048576.0, b->vlog_gc_runs,
           b->vlog_gc_bytes_rewritten / 1048576.0, b->vlog_gc_bytes_reclaimed / 1048576.0);
    printf("  space        : %.1f MB on disk, live user data %.1f MB (%" PRIu64
           " keys), space amp %.2f\n", disk / 1048576.0, live / 1048576.0, live_keys,
           live ? (double)disk / (double)live : 0.0);
    printf("  levels       :");
    for (l = 0; l < LSM_STATS_LEVELS; l++)
        if (b->level[l].files)
            printf(" L%d %d files %.1f MB;", l, b->level[l].files,
                   b->level[l].bytes / 1048576.0);
    printf(" stalls %" PRIu64 " (%.1f ms), compactions %" PRIu64 ", flushes %" PRIu64
           ", pending compaction %.1f MB\n", b->stall_count - a->stall_count,
           (b->stall_micros - a->stall_micros) / 1000.0, b->compactions - a->compactions,
           b->flushes - a->flushes, b->pending_compaction_bytes / 1048576.0);
    (void)wait_ns;
}

static void run_bench(const char *name)
{
    static const struct { const char *name; enum bench_kind kind; } table[] = {
        { "fillseq", B_FILLSEQ }, { "fillrandom", B_FILLRANDOM },
        { "overwrite", B_OVERWRITE }, { "readrandom", B_READRANDOM },
        { "readseq", B_READSEQ }, { "seekrandom", B_SEEKRANDOM },
    };
    struct worker *w;
    struct lsm_stats s0, s1;
    enum bench_kind kind = B_FILLSEQ;
    size_t i;
    long ops, total = 0, found = 0;
    uint64_t bytes = 0;
    int64_t t0, t1, *all;
    int t, known = 0;
    double secs, micros;
    char extra[128] = "";

    if (strcmp(name, "gcsettle") == 0) {
        static struct lsm_stats z;
        int64_t g0 = now_ns();
        if (db == NULL)
            open_db(0);
        lsm_compact_range(db, NULL, 0, NULL, 0);
        lsm_vlog_gc(db, 1);
        lsm_compact_range(db, NULL, 0, NULL, 0);
        lsm_vlog_gc(db, 1);
        lsm_get_stats(db, &s1);
        printf("gcsettle     : %.1f s; whole run since open:\n", (now_ns() - g0) / 1e9);
        print_stats_after_write(&z, &s1, 0);
        fflush(stdout);
        return;
    }
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            kind = table[i].kind;
            known = 1;
        }
    if (!known) {
        fprintf(stderr, "engine-bench: unknown benchmark '%s'\n", name);
        exit(1);
    }
    if ((kind == B_FILLSEQ || kind == B_FILLRANDOM) && !flags.use_existing_db)
        open_db(1);
    else if (db == NULL)
        open_db(0);
    ops = kind == B_READRANDOM || kind == B_SEEKRANDOM ? flags.reads : flags.num;
    if (kind == B_FILLSEQ && flags.threads > 1)
        ops = flags.num / flags.threads;
    w = zcalloc(sizeof *w * (size_t)flags.threads);
    lsm_get_stats(db, &s0);
    t0 = now_ns();
    for (t = 0; t < flags.threads; t++) {
        w[t].kind = kind;
        w[t].id = t;
        w[t].ops = ops;
        w[t].lat = zmalloc(sizeof(int64_t) * (size_t)(ops > 0 ? ops : 1));
        pthread_create(&w[t].th, NULL, worker_main, &w[t]);
    }
    for (t = 0; t < flags.threads; t++)
        pthread_join(w[t].th, NULL);
    t1 = now_ns();
    lsm_get_stats(db, &s1);
    for (t = 0; t < flags.threads; t++) {
        total += w[t].done;
        bytes += w[t].bytes;
        found += w[t].found;
    }
    secs = (double)(t1 - t0) / 1e9;
    micros = total ? (double)(t1 - t0) / 1e3 * flags.threads / (double)total : 0;
    if (kind == B_READRANDOM || kind == B_SEEKRANDOM)
        snprintf(extra, sizeof extra, " (%ld of %ld found)", found, total);
    printf("%-12s : %11.3f micros/op %ld ops/sec;%s%6.1f MB/s%s\n", name, micros,
           secs > 0 ? (long)((double)total / secs) : 0, " ", bytes / 1048576.0 / secs, extra);
    all = zmalloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    {
        long k = 0, j;
        for (t = 0; t < flags.threads; t++)
            for (j = 0; j < w[t].done; j++)
                all[k++] = w[t].lat[j];
    }
    if (total > 0 && flags.histogram) {
        qsort(all, (size_t)total, sizeof *all, cmp_i64);
        printf("  latency (us) : p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
               all[(long)(total * 0.50)] / 1e3, all[(long)(total * 0.99)] / 1e3,
               all[(long)(total * 0.999)] / 1e3, all[total - 1] / 1e3);
    }
    if (kind == B_FILLSEQ || kind == B_FILLRANDOM || kind == B_OVERWRITE)
        print_stats_after_write(&s0, &s1, 0);
    fflush(stdout);
    zfree(all);
    for (t = 0; t < flags.threads; t++)
        zfree(w[t].lat);
    zfree(w);
}

/* ---- flags ---- */

static int parse_flag(const char *arg)
{
    static const struct { const char *name; char type; void *p; } table[] = {
        { "benchmarks", 's', &flags.benchmarks }, { "num", 'l', &flags.num },
        { "reads", 'l', &flags.reads }, { "key_size", 'i', &flags.key_size },
        { "value_size", 'i', &flags.value_size }, { "threads", 'i', &flags.threads },
        { "db", 's', &flags.db }, { "use_existing_db", 'i', &flags.use_existing_db },
        { "sync", 'i', &flags.sync }, { "compression_type", 's', &flags.compression },
        { "compression", 's', &flags.compression },
        { "compression_ratio", 'd', &flags.compression_ratio },
        { "bloom_bits", 'i', &flags.bloom_bits }, { "cache_size", 'u', &flags.cache_size },
        { "write_buffer_size", 'u', &flags.write_buffer_size },
        { "seek_nexts", 'i', &flags.seek_nexts }, { "seed", 'u', &flags.seed },
        { "histogram", 'i', &flags.histogram },
        { "value_separation_threshold", 'l', &vsep },
        { "vlog_file_size", 'l', &vfile },
        { "vlog_gc_ratio", 'd', &vratio },
        { "value_cache_size", 'l', &vcache },
        { "mapped_logs", 'l', &mapped },
        { "block_restart_interval", 'l', &restart },
    };
    const char *eq;
    size_t i, n;

    if (strncmp(arg, "--", 2) != 0 || (eq = strchr(arg, '=')) == NULL)
        return -1;
    n = (size_t)(eq - arg - 2);
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strlen(table[i].name) != n || strncmp(arg + 2, table[i].name, n) != 0)
            continue;
        switch (table[i].type) {
        case 's': *(const char **)table[i].p = eq + 1; break;
        case 'l': *(long *)table[i].p = strtol(eq + 1, NULL, 10); break;
        case 'i': *(int *)table[i].p = (int)strtol(eq + 1, NULL, 10); break;
        case 'u': *(uint64_t *)table[i].p = strtoull(eq + 1, NULL, 10); break;
        case 'd': *(double *)table[i].p = strtod(eq + 1, NULL); break;
        }
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    char *list, *name, *save = NULL;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || parse_flag(argv[i]) != 0) {
            fprintf(stderr, "usage: engine-bench [--benchmarks=a,b] [--num=N] [--reads=N] "
                    "[--key_size=16] [--value_size=100] [--threads=1] [--db=DIR] "
                    "[--use_existing_db=0] [--sync=0] [--compression_type=snappy|none] "
                    "[--compression_ratio=0.5] [--bloom_bits=10] [--cache_size=B] "
                    "[--write_buffer_size=B] [--seek_nexts=0] [--seed=N] [--histogram=1]\n"
                    "       [--value_separation_threshold=B] [--vlog_file_size=B] [--vlog_gc_ratio=R]\n"
                    "       [--value_cache_size=B] [--mapped_logs=0|1] [--block_restart_interval=16]\n"
                    "benchmarks: the db_bench names, plus gcsettle (compact all + value-log GC, twice)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (flags.reads < 0)
        flags.reads = flags.num;
    if (flags.threads < 1 || flags.key_size < 8 || flags.key_size > 255 || flags.num < 1 ||
        flags.value_size < 0) {
        fprintf(stderr, "engine-bench: bad --threads, --key_size (8..255), --num or "
                "--value_size\n");
        return 2;
    }
    if (flags.seed == 0)
        flags.seed = (uint64_t)time(NULL);
    log_set_level(LOG_WARNING);
    log_open_file("/dev/stderr");   /* engine warnings (stalls) off the report */
    init_values(flags.seed);
    written = zcalloc((size_t)(flags.num / 8 + 1));
    printf("engine-bench: liblsm, keys %d bytes, values %d bytes (compression ratio %.2f), "
           "%ld entries, compression %s, bloom bits %d, cache %.0f MB, write buffer %.0f MB, "
           "sync %d, threads %d, seed %" PRIu64 "\n", flags.key_size, flags.value_size,
           flags.compression_ratio, flags.num, flags.compression, flags.bloom_bits,
           flags.cache_size / 1048576.0, flags.write_buffer_size / 1048576.0, flags.sync,
           flags.threads, flags.seed);
    printf("------------------------------------------------\n");
    fflush(stdout);
    list = zstrdup(flags.benchmarks);
    for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
        run_bench(name);
    zfree(list);
    if (db)
        lsm_close(db);
    zfree(written);
    zfree(value_buf);
    return 0;
}
