/* fuzz_dbopen: opening a database whose files were damaged.
 *
 * Once per process a small database is built in a temp dir and kept as a
 * pristine copy: NKEYS keys, values above the separation threshold among
 * them (value log), overwrites and deletes, one table compacted to L1, one
 * flushed to L0 and a last round left in the WAL. Input: byte 0 picks
 * options (bit 0: paranoid_checks; bit 1: reads without checksum
 * verification, where only memory safety is checked; bit 2: reads do not
 * fill the block cache), then up to MAX_EDITS edits of 8 bytes each,
 * applied to a fresh copy of the pristine files (sorted by name):
 *   file index | op (xor, set, truncate, zero 512 bytes) | u32 offset |
 *   byte | bit 0: offset counted back from the end
 * The copy is opened, iterated forward and backward, and every key is read;
 * then it is closed. Errors are expected; what is checked, besides no
 * crash, leak or hang:
 *  - every value returned (get or iterator) is one that was written for that
 *    key: values encode their key and version and are derived from them, so
 *    damage must be reported, never returned as data;
 *  - iterator keys are keys that were written, in strictly ascending order
 *    (descending backward);
 *  - when no edit changed a byte of a file the engine reads, the open
 *    succeeds and every key reads back exactly as last written. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "fuzz.h"
#include "util/log.h"

#define NKEYS 200
#define NVERS 3
#define MAX_EDITS 16
#define MAX_FILES 32
#define THRESHOLD 512

static char pristine[4200], scratch[4200];
static int verbose;                 /* FUZZ_VERBOSE=1: files and outcomes */

struct file {
    char name[64];
    uint8_t *data;
    size_t size;
};
static struct file files[MAX_FILES];
static int nfiles;

/* What was written: per key, the versions ever put and the final state. */
static uint8_t ever[NKEYS];         /* bit v: version v was put */
static int final_ver[NKEYS];        /* -1: deleted or never written */

static void key_of(int i, char *k)   /* k: 16 bytes */
{
    snprintf(k, 16, "k%04d", i);
}

/* Value of key i, version v: "i:v:" then bytes derived from both; some are
 * long enough to be separated, half of them compressible. */
static size_t value_of(int i, int v, char *out, size_t cap)
{
    size_t len = (i + v) % 4 == 0 ? THRESHOLD + (size_t)(i * 37 + v * 101) % 1000
                                  : 8 + (size_t)(i * 131 + v * 17) % 200;
    uint32_t x = (uint32_t)(i * 7919 + v * 104729 + 1);
    int n = snprintf(out, cap, "%d:%d:", i, v);
    if (len > cap)
        abort();
    for (size_t k = (size_t)n; k < len; k++) {
        x = x * 1103515245u + 12345u;
        out[k] = (i & 1) ? (char)('a' + (k / 11 + (size_t)v) % 5) : (char)(x >> 16);
    }
    return len;
}

static int key_index(const char *k, size_t klen)
{
    if (klen != 5 || k[0] != 'k')
        return -1;
    int i = 0;
    for (size_t j = 1; j < 5; j++) {
        if (k[j] < '0' || k[j] > '9')
            return -1;
        i = i * 10 + (k[j] - '0');
    }
    return i < NKEYS ? i : -1;
}

/* Every value ever written, made once (a byte loop per check would cost
 * more than the engine's reads). */
static char *vals[NKEYS][NVERS];
static size_t vlens[NKEYS][NVERS];

/* 1 when val is a value written for key i. */
static int value_valid(int i, const char *val, size_t vlen)
{
    for (int v = 0; v < NVERS; v++)
        if ((ever[i] & (1 << v)) && vlens[i][v] == vlen && memcmp(vals[i][v], val, vlen) == 0)
            return 1;
    return 0;
}

/* 1 when val is what was written last for key i. */
static int value_final(int i, const char *val, size_t vlen)
{
    int v = final_ver[i];
    return v >= 0 && vlens[i][v] == vlen && memcmp(vals[i][v], val, vlen) == 0;
}

static void options(struct lsm_options *o, int paranoid)
{
    lsm_options_init(o);
    o->create_if_missing = 0;
    o->write_buffer_size = 64 << 10;
    o->block_size = 512;
    o->block_cache_size = 256 << 10;
    o->bg_threads = 2;
    o->max_open_files = 100;
    o->target_file_size = 64 << 10;
    o->max_bytes_for_level_base = 64 << 10;
    o->value_separation_threshold = THRESHOLD;
    o->vlog_file_size = 32 << 10;
    o->vlog_gc_ratio = 2;           /* no automatic GC: the files stay as built */
    o->paranoid_checks = paranoid;
}

static void cleanup(void)
{
    for (int i = 0; i < nfiles; i++)
        free(files[i].data);
    for (int i = 0; i < NKEYS; i++)
        for (int v = 0; v < NVERS; v++)
            free(vals[i][v]);
}

static void put(struct lsm_db *db, int i, int v)
{
    char k[16];
    key_of(i, k);
    struct lsm_write_options wo = { 0 };
    if (lsm_put(db, &wo, k, 5, vals[i][v], vlens[i][v]) != 0)
        fuzz_fail("put: %s", lsm_last_error());
    ever[i] |= (uint8_t)(1 << v);
    final_ver[i] = v;
}

static void del(struct lsm_db *db, int i)
{
    char k[16];
    key_of(i, k);
    struct lsm_write_options wo = { 0 };
    if (lsm_delete(db, &wo, k, 5) != 0)
        fuzz_fail("delete: %s", lsm_last_error());
    final_ver[i] = -1;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static void load_files(void)
{
    DIR *d = opendir(pristine);
    struct dirent *e;
    if (d == NULL)
        fuzz_fail("opendir %s: %s", pristine, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char p[600];
        if (e->d_name[0] == '.')
            continue;
        if (nfiles == MAX_FILES)
            fuzz_fail("more than %d files", MAX_FILES);
        struct file *f = &files[nfiles++];
        if (snprintf(f->name, sizeof f->name, "%s", e->d_name) >= (int)sizeof f->name ||
            snprintf(p, sizeof p, "%s/%s", pristine, e->d_name) >= (int)sizeof p)
            fuzz_fail("file name too long: %s", e->d_name);
        FILE *fp = fopen(p, "rb");
        struct stat st;
        if (fp == NULL || fstat(fileno(fp), &st) != 0)
            fuzz_fail("%s: %s", p, strerror(errno));
        f->size = (size_t)st.st_size;
        f->data = malloc(f->size ? f->size : 1);
        if (f->size && fread(f->data, 1, f->size, fp) != f->size)
            fuzz_fail("read %s", p);
        fclose(fp);
    }
    closedir(d);
    qsort(files, (size_t)nfiles, sizeof files[0], cmp_file);
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    for (int i = 0; verbose && i < nfiles; i++)
        fprintf(stderr, "# file %d: %s, %zu bytes\n", i, files[i].name, files[i].size);
}

static void build(void)
{
    snprintf(pristine, sizeof pristine, "%s/pristine", fuzz_scratch_dir());
    snprintf(scratch, sizeof scratch, "%s/scratch", fuzz_scratch_dir());
    atexit(cleanup);
    log_open_file("/dev/null");     /* recovery warnings are expected here */

    struct lsm_options o;
    struct lsm_db *db;
    options(&o, 0);
    o.create_if_missing = 1;
    if (lsm_open(pristine, &o, &db) != 0)
        fuzz_fail("create: %s", lsm_last_error());
    for (int i = 0; i < NKEYS; i++) {
        final_ver[i] = -1;
        for (int v = 0; v < NVERS; v++) {
            char tmp[4096];
            vlens[i][v] = value_of(i, v, tmp, sizeof tmp);
            vals[i][v] = malloc(vlens[i][v]);
            memcpy(vals[i][v], tmp, vlens[i][v]);
        }
    }
    for (int i = 0; i < NKEYS; i++)             /* -> L1 */
        put(db, i, 0);
    if (lsm_compact_range(db, NULL, 0, NULL, 0) != 0)
        fuzz_fail("compact: %s", lsm_last_error());
    for (int i = 0; i < NKEYS; i++) {           /* -> L0 */
        if (i % 3 == 0)
            put(db, i, 1);
        if (i % 7 == 0)
            del(db, i);
    }
    if (lsm_flush(db, 1) != 0)
        fuzz_fail("flush: %s", lsm_last_error());
    for (int i = 0; i < NKEYS; i++) {           /* stays in the WAL */
        if (i % 10 == 5)
            put(db, i, 2);
        if (i % 11 == 0)
            del(db, i);
    }
    if (lsm_close(db) != 0)
        fuzz_fail("close: %s", lsm_last_error());
    load_files();
}

/* Applies the edits to copies of the files; returns 1 when a file the
 * engine reads now differs from the pristine one. */
static int apply_edits(const uint8_t *e, size_t n, struct file *out)
{
    int damaged = 0;
    for (int i = 0; i < nfiles; i++) {
        out[i] = files[i];
        out[i].data = malloc(files[i].size ? files[i].size : 1);
        memcpy(out[i].data, files[i].data, files[i].size);
    }
    for (size_t k = 0; k + 8 <= n && k / 8 < MAX_EDITS; k += 8, e += 8) {
        struct file *f = &out[e[0] % nfiles];
        uint64_t off = (uint64_t)e[2] | (uint64_t)e[3] << 8 | (uint64_t)e[4] << 16 |
                       (uint64_t)e[5] << 24;
        int op = e[1] % 4;
        if (op == 2) {                          /* truncate */
            off %= f->size + 1;
            if (e[7] & 1)
                off = f->size - off;
            f->size = (size_t)off;
            continue;
        }
        if (f->size == 0)
            continue;
        off %= f->size;
        if (e[7] & 1)
            off = f->size - 1 - off;
        if (op == 0)
            f->data[off] ^= e[6] ? e[6] : 0x80;
        else if (op == 1)
            f->data[off] = e[6];
        else
            memset(f->data + off, 0, f->size - off < 512 ? f->size - off : 512);
    }
    for (int i = 0; i < nfiles; i++)
        if (strcmp(out[i].name, "LOCK") != 0 &&
            (out[i].size != files[i].size || memcmp(out[i].data, files[i].data, out[i].size)))
            damaged = 1;
    return damaged;
}

/* Forward (dir 1) or backward (-1) over everything. */
static void scan(struct lsm_db *db, const struct lsm_read_options *ro, int dir, int check,
                 int exact)
{
    struct lsm_iter *it = lsm_iter_create(db, ro);
    int last = dir > 0 ? -1 : NKEYS, seen = 0;
    if (dir > 0)
        lsm_iter_seek_to_first(it);
    else
        lsm_iter_seek_to_last(it);
    while (lsm_iter_valid(it)) {
        size_t klen, vlen;
        const char *k = lsm_iter_key(it, &klen);
        int i = key_index(k, klen);
        fuzz_check(!check || i >= 0, "iterator returned a key never written (%zu bytes)",
                   klen);
        fuzz_check(!check || (dir > 0 ? i > last : i < last),
                   "iterator keys out of order: %d after %d", i, last);
        last = i;
        const char *v = lsm_iter_value(it, &vlen);
        if (v == NULL) {
            fuzz_check(!lsm_iter_valid(it) && lsm_iter_status(it) != 0,
                       "no value, yet the iterator is fine");
            break;
        }
        fuzz_check(!check || value_valid(i, v, vlen), "iterator: key %d has a value never "
                   "written (%zu bytes)", i, vlen);
        fuzz_check(!exact || value_final(i, v, vlen),
                   "undamaged database: key %d is not as last written", i);
        seen++;
        if (dir > 0)
            lsm_iter_next(it);
        else
            lsm_iter_prev(it);
    }
    if (exact) {
        int want = 0;
        for (int i = 0; i < NKEYS; i++)
            want += final_ver[i] >= 0;
        fuzz_check(lsm_iter_status(it) == 0 && seen == want,
                   "undamaged database: %d keys seen, %d live (%s)", seen, want,
                   lsm_last_error());
    }
    lsm_iter_destroy(it);
}

static void get_all(struct lsm_db *db, const struct lsm_read_options *ro, int check,
                    int exact)
{
    for (int i = 0; i < NKEYS; i++) {
        char k[16], *v = NULL;
        size_t vlen = 0;
        key_of(i, k);
        int rc = lsm_get(db, ro, k, 5, &v, &vlen);
        fuzz_check(rc == 0 || rc == LSM_ENOTFOUND || rc == LSM_ECORRUPT || rc == LSM_EIO,
                   "get %d: rc %d", i, rc);
        if (rc == 0 && check)
            fuzz_check(value_valid(i, v, vlen), "get: key %d has a value never written "
                       "(%zu bytes)", i, vlen);
        if (exact)
            fuzz_check(final_ver[i] >= 0 ? rc == 0 && value_final(i, v, vlen)
                                         : rc == LSM_ENOTFOUND,
                       "undamaged database: get %d: rc %d (%s)", i, rc, lsm_last_error());
        lsm_free(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (nfiles == 0)
        build();
    if (size < 1)
        return 0;
    int mode = data[0];
    struct file edited[MAX_FILES];
    int damaged = apply_edits(data + 1, size - 1, edited);

    /* The damaged copy. */
    fuzz_rmrf(scratch);
    if (mkdir(scratch, 0700) != 0)
        fuzz_fail("mkdir %s: %s", scratch, strerror(errno));
    for (int i = 0; i < nfiles; i++) {
        char p[600];
        if (snprintf(p, sizeof p, "%s/%s", scratch, edited[i].name) >= (int)sizeof p)
            fuzz_fail("path too long: %s", edited[i].name);
        FILE *fp = fopen(p, "wb");
        if (fp == NULL || (edited[i].size && fwrite(edited[i].data, 1, edited[i].size, fp) !=
                                                 edited[i].size) || fclose(fp) != 0)
            fuzz_fail("write %s: %s", p, strerror(errno));
        free(edited[i].data);
    }

    struct lsm_options o;
    struct lsm_db *db = NULL;
    options(&o, mode & 1);
    int rc = lsm_open(scratch, &o, &db);
    if (verbose)
        fprintf(stderr, "# %s; open: %d %s\n", damaged ? "damaged" : "intact", rc,
                lsm_last_error());
    if (rc != 0) {
        fuzz_check(db == NULL, "failed open left a handle");
        fuzz_check(rc == LSM_ECORRUPT || rc == LSM_EIO || rc == LSM_ENOENT,
                   "open: rc %d (%s)", rc, lsm_last_error());
        fuzz_check(damaged, "undamaged database did not open: %s", lsm_last_error());
    } else {
        struct lsm_read_options ro;
        lsm_read_options_init(&ro);
        ro.verify_checksums = !(mode & 2);
        ro.fill_cache = !(mode & 4);
        /* Without checksum verification damaged bytes may be returned:
         * only memory safety is checked then. */
        int check = ro.verify_checksums || !damaged;
        scan(db, &ro, 1, check, !damaged);
        scan(db, &ro, -1, check, !damaged);
        get_all(db, &ro, check, !damaged);
        lsm_close(db);
    }
    fuzz_rmrf(scratch);
    return 0;
}
