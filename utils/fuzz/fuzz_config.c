/* fuzz_config: the configuration loader (server/config.h) on arbitrary
 * config text and command lines.
 *
 * Input: byte 0 picks the mode, the rest is the text (up to its first NUL)
 * or, in mode 2, the arguments (separated by NUL bytes):
 *  0: config_load_string; after a successful load, CONFIG SET of every
 *     directive to what CONFIG GET says either succeeds without changing
 *     anything or is refused as immutable;
 *  1, 3: the text written to a file and config_load_file; after a
 *     successful load, CONFIG REWRITE, loading the rewritten file from the
 *     defaults gives the same CONFIG GET values, and a second rewrite leaves
 *     the file as it is (an `include` after a directive's first line is
 *     Redis' documented exception, see rewrite_round_trip);
 *  2: config_load_args (argv[0] "lsmdb", then the arguments).
 * (Values are compared as CONFIG GET prints them, and vlog-gc-ratio, a
 * double, also as stored.)
 * Every load returns 0 or -1 with a non-empty "FILE:LINE: reason"; after
 * any load every field of server_cfg holds a valid value (config.h's
 * invariant); after a successful one, CONFIG GET of "*" lists every
 * directive once and agrees with config_get_value. The config is reset to
 * its defaults before every input.
 *
 * Sandbox: the target runs in the process's scratch directory (fuzz.h),
 * which holds a few files to include (inc, inc2, self, bad), with
 * stdin on /dev/null (`include -` reads stdin). Inputs holding a '/' (or
 * "\x2f", which a quoted argument decodes to '/') are skipped, so an
 * `include` can only reach those files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fuzz.h"
#include "server/config.h"
#include "util/log.h"

#define MAX_ARGS 64
#define MAX_DIRECTIVES 128

static char sandbox[PATH_MAX];
static const char *const sandbox_files[][2] = {
    { "inc", "port 7000\nhz 100\n" },
    { "inc2", "include inc\nbind 10.0.0.1 -::1\ntimeout 5\n" },
    { "self", "include self\n" },
    { "bad", "port 65536\n" },
};
static int ndefaults = -1;          /* directives CONFIG GET * lists */

/* name in the sandbox (the scratch directory, also the cwd). */
static void write_text(const char *name, const char *text, size_t len)
{
    char path[4200];
    fuzz_write_file(name, text, len, path, sizeof(path));
}

/* ---- snapshots of CONFIG GET * ---- */

struct snap {
    double gc_ratio;                /* printed with %g: compared raw too */
    int n;
    char *name[MAX_DIRECTIVES];
    char *value[MAX_DIRECTIVES];
};

static void snap_add(const char *name, const char *value, void *arg)
{
    struct snap *s = arg;
    fuzz_check(s->n < MAX_DIRECTIVES, "more than %d directives", MAX_DIRECTIVES);
    s->name[s->n] = strdup(name);
    s->value[s->n] = strdup(value);
    if (!s->name[s->n] || !s->value[s->n])
        abort();
    s->n++;
}

static void snap_take(struct snap *s)
{
    const char *all = "*";
    memset(s, 0, sizeof(*s));
    s->gc_ratio = server_cfg.vlog_gc_ratio;
    int n = config_get(1, &all, snap_add, s);
    fuzz_check(n == s->n, "config_get returned %d after %d calls", n, s->n);
}

static void snap_free(struct snap *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->value[i]);
    }
    s->n = 0;
}

/* 1 when a sandbox file sets the directive. */
static int set_by_include(const char *name)
{
    for (size_t i = 0; i < sizeof(sandbox_files) / sizeof(sandbox_files[0]); i++) {
        const char *t = sandbox_files[i][1];
        size_t n = strlen(name);
        for (const char *l = t; *l; l = strchr(l, '\n') + 1)
            if (strncasecmp(l, name, n) == 0 && l[n] == ' ')
                return 1;
    }
    return 0;
}

/* Compares two snapshots; with include_ok, a directive that a sandbox file
 * sets may differ (see rewrite_round_trip). Returns 1 when all are equal. */
static int snap_compare(const struct snap *a, const struct snap *b, const char *what,
                        int include_ok)
{
    int same = 1;

    fuzz_check(a->n == b->n, "%s: %d directives, then %d", what, a->n, b->n);
    fuzz_check(a->gc_ratio == b->gc_ratio, "%s: vlog_gc_ratio was %.17g, is now %.17g", what,
               a->gc_ratio, b->gc_ratio);
    for (int i = 0; i < a->n; i++) {
        fuzz_check(strcmp(a->name[i], b->name[i]) == 0, "%s: %s, then %s", what, a->name[i],
                   b->name[i]);
        if (strcmp(a->value[i], b->value[i]) == 0)
            continue;
        same = 0;
        fuzz_check(include_ok && set_by_include(a->name[i]),
                   "%s: %s was \"%s\", is now \"%s\"", what, a->name[i], a->value[i],
                   b->value[i]);
    }
    return same;
}

/* ---- invariants ---- */

static void check_range(const char *name, long long v, long long min, long long max)
{
    fuzz_check(v >= min && v <= max, "server_cfg.%s = %lld, outside %lld..%lld", name, v, min,
               max);
}

#define RANGE(f, min, max) check_range(#f, server_cfg.f, min, max)
#define STR(f) fuzz_check(server_cfg.f != NULL, "server_cfg." #f " is NULL")

static void check_valid(void)
{
    fuzz_check(server_cfg.bind_count >= 0 && server_cfg.bind_count <= CONFIG_BIND_MAX,
               "bind_count %d", server_cfg.bind_count);
    for (int i = 0; i < server_cfg.bind_count; i++)
        fuzz_check(server_cfg.bind_addrs[i] != NULL, "bind_addrs[%d] is NULL", i);
    RANGE(port, 0, 65535);
    STR(unixsocket);
    RANGE(unixsocketperm, 0, 0777);
    RANGE(tcp_backlog, 0, INT_MAX);
    RANGE(tcp_keepalive, 0, INT_MAX);
    RANGE(timeout, 0, INT_MAX);
    RANGE(maxclients, 1, INT_MAX);
    RANGE(proto_max_bulk_len, 1024 * 1024, LLONG_MAX);
    RANGE(client_query_buffer_limit, 1024 * 1024, LLONG_MAX);
    for (int c = 0; c < CONFIG_OBUF_COUNT; c++) {
        RANGE(obuf_limits[c].hard_bytes, 0, LLONG_MAX);
        RANGE(obuf_limits[c].soft_bytes, 0, LLONG_MAX);
        RANGE(obuf_limits[c].soft_seconds, 0, LLONG_MAX);
    }
    STR(requirepass);
    RANGE(protected_mode, 0, 1);
    RANGE(databases, 1, INT_MAX);
    RANGE(daemonize, 0, 1);
    STR(pidfile);
    STR(logfile);
    RANGE(loglevel, LOG_DEBUG, LOG_WARNING);
    STR(dir);
    RANGE(hz, 1, 500);
    RANGE(slowlog_log_slower_than, -1, LLONG_MAX);
    RANGE(slowlog_max_len, 0, LLONG_MAX);
    RANGE(latency_tracking, 0, 1);
    RANGE(latency_npct, 0, CONFIG_PCTL_MAX);
    for (int i = 0; i < server_cfg.latency_npct; i++)
        fuzz_check(server_cfg.latency_pct[i] >= 0 && server_cfg.latency_pct[i] <= 100,
                   "latency percentile %g", server_cfg.latency_pct[i]);
    RANGE(appendfsync, CONFIG_FSYNC_NO, CONFIG_FSYNC_ALWAYS);
    RANGE(block_cache_size, 0, LLONG_MAX);
    RANGE(write_buffer_size, 64 * 1024, LLONG_MAX);
    RANGE(bg_threads, 0, 1024);
    RANGE(bloom_bits_per_key, 0, 100);
    RANGE(compression, CONFIG_COMPRESSION_NONE, CONFIG_COMPRESSION_SNAPPY);
    RANGE(max_open_files, 16, INT_MAX);
    RANGE(scan_cursor_ttl, 1, INT_MAX);
    RANGE(deferred_key_counting, 0, 1);
    RANGE(value_separation_threshold, 0, 4096LL * 1024 * 1024);
    RANGE(vlog_file_size, 4096, LLONG_MAX);
    fuzz_check(server_cfg.vlog_gc_ratio >= 1e-6 && server_cfg.vlog_gc_ratio <= 1000,
               "vlog_gc_ratio %g", server_cfg.vlog_gc_ratio);
    RANGE(vlog_gc_max_mbps, 0, INT_MAX);
}

/* CONFIG GET * lists every directive once, as config_get_value says. */
static void check_get(void)
{
    struct snap s;
    char buf[4096];

    snap_take(&s);
    fuzz_check(s.n == ndefaults, "CONFIG GET * lists %d directives, %d at start", s.n, ndefaults);
    for (int i = 0; i < s.n; i++) {
        for (int j = 0; j < i; j++)
            fuzz_check(strcasecmp(s.name[i], s.name[j]) != 0, "%s listed twice", s.name[i]);
        int len = config_get_value(s.name[i], buf, sizeof(buf));
        fuzz_check(len >= 0 && (size_t)len == strlen(s.value[i]) &&
                       ((size_t)len >= sizeof(buf) || strcmp(buf, s.value[i]) == 0),
                   "config_get_value(%s) disagrees with CONFIG GET", s.name[i]);
    }
    snap_free(&s);
}

static void check_load(int rc, const char *err)
{
    fuzz_check(rc == 0 || rc == -1, "load returned %d", rc);
    if (rc)
        /* A long FILE (a path from the input) may push ": reason" past
         * the buffer: errors are truncated to errlen. */
        fuzz_check(err[0] != '\0' &&
                       (strstr(err, ": ") != NULL || strlen(err) == CONFIG_ERR_LEN - 1),
                   "a failed load without a \"FILE:LINE: reason\" (\"%s\")", err);
    check_valid();
    if (rc == 0)
        check_get();
}

/* ---- modes ---- */

static void set_to_get(void)
{
    struct snap before, after;
    char err[CONFIG_ERR_LEN];

    snap_take(&before);
    for (int i = 0; i < before.n; i++) {
        const char *argv[2] = { before.name[i], before.value[i] };
        err[0] = '\0';
        if (config_set(1, argv, err, sizeof(err)) != 0)
            fuzz_check(strstr(err, "can't set immutable config") != NULL,
                       "CONFIG SET %s \"%s\" (its CONFIG GET value) failed: %s", argv[0],
                       argv[1], err);
    }
    snap_take(&after);
    snap_compare(&before, &after, "CONFIG SET of the CONFIG GET values", 0);
    snap_free(&before);
    snap_free(&after);
}

static char *read_text(const char *name)
{
    FILE *f = fopen(name, "r");
    char *t = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        fuzz_fail("cannot read %s: %s", name, strerror(errno));
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            t = realloc(t, cap);
            if (!t)
                abort();
        }
        size_t got = fread(t + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    t[n] = '\0';
    return t;
}

/* Redis' CONFIG REWRITE keeps the first line of a directive and drops the
 * later ones, and leaves `include` lines where they are; so "hz 20",
 * "include inc" (hz 100), "hz 20" comes back as hz 100, in redis-server
 * 7.0.15 as here (config.h; redis.conf says to put includes first). With an
 * include in the text, a directive that an included file sets may thus
 * change; every other one must not, and without an include none may. */
static void rewrite_round_trip(const char *text)
{
    struct snap before, after;
    char err[CONFIG_ERR_LEN] = "";
    int include_ok = 0;

    for (const char *t = text; *t && !include_ok; t++)
        include_ok = strncasecmp(t, "nclude", 6) == 0;

    snap_take(&before);
    fuzz_check(config_rewrite(err, sizeof(err)) == 0, "CONFIG REWRITE failed: %s", err);
    char *first = read_text("in.conf");
    config_init_defaults();
    int rc = config_load_file("in.conf", err, sizeof(err));
    fuzz_check(rc == 0, "the rewritten file does not load: %s\n--- file:\n%s", err, first);
    snap_take(&after);
    int same = snap_compare(&before, &after, "load, rewrite, load", include_ok);
    fuzz_check(config_rewrite(err, sizeof(err)) == 0, "the second CONFIG REWRITE failed: %s",
               err);
    char *second = read_text("in.conf");
    fuzz_check(!same || strcmp(first, second) == 0,
               "a second rewrite changed the file\n--- first:\n%s--- second:\n%s", first,
               second);
    free(first);
    free(second);
    snap_free(&before);
    snap_free(&after);
}

static void load_args(const char *p, size_t len)
{
    char *copy = malloc(len + 1);
    char *argv[MAX_ARGS + 1];
    char err[CONFIG_ERR_LEN] = "";
    int argc = 0;

    if (!copy)
        abort();
    memcpy(copy, p, len);
    copy[len] = '\0';
    argv[argc++] = (char *)"lsmdb";
    for (size_t i = 0; i < len && argc < MAX_ARGS; i += strlen(copy + i) + 1)
        argv[argc++] = copy + i;
    argv[argc] = NULL;
    check_load(config_load_args(argc, argv, err, sizeof(err)), err);
    free(copy);
}

static void sandbox_init(void)
{
    snprintf(sandbox, sizeof(sandbox), "%s", fuzz_scratch_dir());
    if (chdir(sandbox) != 0)
        fuzz_fail("cannot enter the sandbox %s: %s", sandbox, strerror(errno));
    for (size_t i = 0; i < sizeof(sandbox_files) / sizeof(sandbox_files[0]); i++)
        write_text(sandbox_files[i][0], sandbox_files[i][1], strlen(sandbox_files[i][1]));
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0)
        fuzz_fail("cannot put stdin on /dev/null");
    close(fd);
    log_set_level(LOG_WARNING);
    config_init_defaults();
    struct snap s;
    snap_take(&s);
    ndefaults = s.n;
    snap_free(&s);
}

/* A '/' could name any file of the machine in an include. */
static int unsafe(const uint8_t *data, size_t size)
{
    if (memchr(data, '/', size))
        return 1;
    for (size_t i = 0; i + 3 < size; i++)
        if (data[i] == '\\' && data[i + 1] == 'x' && data[i + 2] == '2' &&
            (data[i + 3] == 'f' || data[i + 3] == 'F'))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ndefaults < 0)
        sandbox_init();
    if (size < 1 || unsafe(data, size))
        return 0;
    int mode = data[0] & 3;
    const char *p = (const char *)data + 1;
    size_t len = size - 1;
    const char *nul = memchr(p, '\0', len);
    size_t tlen = nul ? (size_t)(nul - p) : len;
    char err[CONFIG_ERR_LEN] = "";
    char *text;
    int rc;

    config_init_defaults();
    switch (mode) {
    case 0:
        text = strndup(p, tlen);
        if (!text)
            abort();
        rc = config_load_string(text, "fuzz.conf", err, sizeof(err));
        check_load(rc, err);
        if (rc == 0)
            set_to_get();
        free(text);
        break;
    case 2:
        load_args(p, len);
        break;
    default:
        text = strndup(p, tlen);
        if (!text)
            abort();
        write_text("in.conf", p, tlen);
        rc = config_load_file("in.conf", err, sizeof(err));
        check_load(rc, err);
        if (rc == 0)
            rewrite_round_trip(text);
        free(text);
        break;
    }
    config_free();
    return 0;
}
