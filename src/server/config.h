/* config: the server's configuration directives, in redis.conf syntax.
 *
 * Owns: the global `server_cfg`, which holds the current value of every
 * directive in a typed field, and the table of directives (one row each:
 * name, type, field, default, bounds, flags, apply hook). Loading a file,
 * the command line, CONFIG GET / SET / REWRITE all iterate that table.
 *
 * Invariants:
 *  - After config_init_defaults() every field holds a valid value; loading and
 *    CONFIG SET only ever store values that passed the directive's checks.
 *  - Strings in server_cfg are owned by config (zmalloc'd); never free or
 *    keep them across a CONFIG SET (a SET replaces the pointer). An empty
 *    string directive (e.g. `logfile ""`) is stored as "" (never NULL).
 *  - Loading is all-or-nothing per call only in the sense that the first
 *    error stops it; the caller prints the error and exits 1. CONFIG SET is
 *    atomic: on any failure every value (and apply hook) is rolled back.
 *
 * Error strings: every function taking (err, errlen) writes a message there
 * on failure, NUL-terminated and truncated to errlen. Load errors read
 * "FILE:LINE: reason" ("(command line)" as FILE for arguments; the reasons
 * mirror Redis' wording). CONFIG SET / REWRITE errors are Redis' reply text
 * WITHOUT the leading "ERR " (the command handler replies "-ERR " + err),
 * e.g. "CONFIG SET failed (possibly related to argument 'port') - argument
 * must be between 0 and 65535 inclusive".
 *
 * Applying values: the server reads server_cfg directly (timeout, maxclients,
 * requirepass, ... are simply read where needed). A directive whose change
 * needs an action at run time has an apply hook, called by CONFIG SET after
 * all new values are stored (loglevel -> log_set_level()). Hooks are NOT run
 * by loading; at start-up the server applies what it needs itself
 * (log_set_level(server_cfg.loglevel), log_open_file(server_cfg.logfile),
 * listeners from bind/port, ...). The server core registers hooks for
 * directives it owns with config_register_apply(); directives flagged
 * "needs a hook" (port, bind) are immutable until a hook is registered.
 *
 * Thread rules: every function is called from the main (loop) thread only;
 * other threads must not read server_cfg strings.
 */
#ifndef LSM_SERVER_CONFIG_H
#define LSM_SERVER_CONFIG_H

#include <stddef.h>

#define CONFIG_BIND_MAX 16          /* at most this many bind addresses */
#define CONFIG_PCTL_MAX 16          /* latency-tracking-info-percentiles */
#define CONFIG_ERR_LEN 512          /* a comfortable size for err buffers */
#define CONFIG_INCLUDE_DEPTH 16     /* nested `include` limit */

/* client-output-buffer-limit classes, in Redis' order. */
enum config_obuf_class {
    CONFIG_OBUF_NORMAL = 0,
    CONFIG_OBUF_REPLICA,            /* "replica" (alias "slave") */
    CONFIG_OBUF_PUBSUB,
    CONFIG_OBUF_COUNT
};

/* One class of client-output-buffer-limit; 0 = no limit. A client is
 * disconnected when its pending output reaches hard_bytes, or stays at or
 * above soft_bytes for soft_seconds continuously. */
struct config_obuf_limit {
    long long hard_bytes;
    long long soft_bytes;
    long long soft_seconds;
};

/* appendfsync values (the same numbers as keyspace.h's KS_FSYNC_*). */
enum config_appendfsync { CONFIG_FSYNC_NO = 0, CONFIG_FSYNC_EVERYSEC = 1, CONFIG_FSYNC_ALWAYS = 2 };
/* compression values (the same numbers as lsm.h's enum lsm_compression). */
enum config_compression { CONFIG_COMPRESSION_NONE = 0, CONFIG_COMPRESSION_SNAPPY = 1 };

struct server_config {
    /* network */
    char *bind_addrs[CONFIG_BIND_MAX]; /* verbatim; a leading '-' marks an
                                        * optional address (Redis 7): skip it
                                        * if it can't be bound (EADDRNOTAVAIL) */
    int bind_count;                 /* 0 (a bare `bind`) = no TCP listener,
                                     * like Redis 7; "*" = all IPv4, "::*" =
                                     * all IPv6 interfaces */
    int port;                       /* 0..65535; 0 = no TCP listener */
    char *unixsocket;               /* "" = none */
    int unixsocketperm;             /* mode bits (octal in the file); 0 = umask */
    int tcp_backlog;
    int tcp_keepalive;              /* seconds; 0 = off */
    int timeout;                    /* idle client timeout, seconds; 0 = off */
    int maxclients;
    long long proto_max_bulk_len;   /* bytes */
    long long client_query_buffer_limit; /* bytes */
    struct config_obuf_limit obuf_limits[CONFIG_OBUF_COUNT];
    /* security */
    char *requirepass;              /* "" = no password */
    int protected_mode;             /* bool */
    /* general */
    int databases;
    int daemonize;                  /* bool */
    char *pidfile;                  /* "" = none */
    char *logfile;                  /* "" = stdout */
    int loglevel;                   /* enum log_level (util/log.h) */
    char *dir;                      /* data directory */
    int hz;                         /* server cron frequency, 1..500 */
    long long slowlog_log_slower_than;  /* microseconds; -1 = off, 0 = all */
    long long slowlog_max_len;      /* entries the slow log keeps */
    int latency_tracking;           /* bool: per-command latency histograms */
    long long latency_monitor_threshold;    /* ms; 0 = the latency monitor is off */
    long long hll_sparse_max_bytes; /* a sparse HyperLogLog larger becomes dense */
    double latency_pct[CONFIG_PCTL_MAX];    /* percentiles INFO latencystats shows */
    int latency_npct;
    /* persistence and the storage engine */
    int appendfsync;                /* enum config_appendfsync */
    long long block_cache_size;     /* bytes */
    long long value_cache_size;     /* bytes: separated values read (0 = none) */
    long long write_buffer_size;    /* bytes: memtable size */
    int bg_threads;                 /* 0 = number of online cores */
    int bloom_bits_per_key;         /* 0 = no bloom filters */
    int compression;                /* enum config_compression */
    int max_open_files;
    int scan_cursor_ttl;            /* seconds a SCAN cursor stays valid */
    int deferred_key_counting;      /* plain SETs don't read (ks_defer.h) */
    long long write_table_size;     /* bytes: the keyspace's write table */
    long long string_chunk_size;    /* bytes: chunks of a long string (0 = none) */
    /* the value log (key/value separation) */
    long long value_separation_threshold;   /* bytes; 0 = off */
    long long vlog_file_size;       /* bytes: a segment is sealed at this size */
    double vlog_gc_ratio;           /* collect at this garbage ratio (> 1: never) */
    int vlog_gc_max_mbps;           /* GC read rate limit, MiB/s; 0 = none */
    int mapped_logs;                /* WAL and value log written through mmap */

    /* Not directives: where the configuration came from. */
    char *configfile;               /* absolute path of the loaded file, or
                                     * NULL when started without one */
};

extern struct server_config server_cfg;

/* Sets every field to its default (frees previous strings). Call once before
 * loading; also the state when the daemon runs without a file. */
void config_init_defaults(void);
/* Frees every string owned by server_cfg (at exit / in tests). */
void config_free(void);

/* Loads a config file (redis.conf syntax: `directive args...`, '#' comments,
 * "..." and '...' quoting like sdssplitargs, case-insensitive names,
 * `include path` relative to the cwd, nested up to CONFIG_INCLUDE_DEPTH, loops
 * refused). Remembers the file (absolute) as server_cfg.configfile for
 * CONFIG REWRITE. Returns 0, or -1 with "FILE:LINE: reason" in err. */
int config_load_file(const char *path, char *err, size_t errlen);
/* Loads directives from text (same syntax); `name` is the FILE in errors.
 * Does not set server_cfg.configfile. Returns 0 or -1 with err. */
int config_load_string(const char *text, const char *name,
                       char *err, size_t errlen);
/* redis-server's command line: `prog [configfile] [--directive value ...]`.
 * argv[0] is the program name. A first argument not starting with "--" is the
 * config file ("-" = read the file from stdin, like Redis); the options are
 * turned into lines ("--port 7000 --bind a b" -> "port 7000\nbind a b") and
 * applied after the file, so they override it. Errors in options use
 * "(command line)" as FILE. Returns 0 or -1 with err. */
int config_load_args(int argc, char **argv, char *err, size_t errlen);

/* CONFIG GET: calls fn(name, value, arg) once for every directive whose name
 * matches at least one of the glob patterns (case-insensitive, like Redis),
 * in table order. value is formatted like Redis' CONFIG GET (yes/no, plain
 * numbers, memory in bytes, bind space-joined, octal without a leading 0,
 * client-output-buffer-limit "normal 0 0 0 replica ... pubsub ..."). Both
 * strings are valid only during the call. Returns the number of calls. */
typedef void (*config_get_fn)(const char *name, const char *value, void *arg);
int config_get(int npatterns, const char *const *patterns,
               config_get_fn fn, void *arg);
/* The value of one directive formatted as CONFIG GET would, written to buf;
 * returns its length, or -1 when the name is unknown. */
int config_get_value(const char *name, char *buf, size_t buflen);

/* CONFIG SET name value [name value ...]: argv holds 2*npairs NUL-terminated
 * strings. Values of multi-argument directives (bind,
 * client-output-buffer-limit) are split on single spaces like Redis 7 (no
 * quoting); an empty value gives no arguments. Atomic: either every pair is stored and every apply hook
 * succeeded, or nothing changed. Returns 0 or -1 with err (no "ERR "). */
int config_set(int npairs, const char *const *argv, char *err, size_t errlen);

/* CONFIG REWRITE: rewrites server_cfg.configfile so it yields the current
 * values: comments, blank lines and unknown lines keep their place; the first
 * line of each directive is replaced when the value differs from the file,
 * later duplicates are removed; directives set away from their default and
 * absent from the file are appended after "# Generated by CONFIG REWRITE".
 * Written to a temp file, fsync'd, renamed over. Returns 0 or -1 with err. */
int config_rewrite(char *err, size_t errlen);

/* Runtime hook for a directive (the server core's, e.g. port -> re-listen).
 * Called by CONFIG SET after every new value is stored; returns 0, or -1 with
 * a reason in err ("Unable to listen on this port: ..."), which makes the SET
 * roll back (the hook is then called again with the old value restored; that
 * call's result is ignored). Returns 0, or -1 if the name is unknown. */
typedef int (*config_apply_fn)(char *err, size_t errlen);
int config_register_apply(const char *name, config_apply_fn fn);

/* 1 if the directive exists and its value must be hidden from logs/MONITOR
 * (requirepass), else 0. */
int config_is_sensitive(const char *name);

/* Redis' memtoull(): "512mb", "1gb", "100k", "10" (k=1000, kb=1024, m, mb,
 * g, gb; case-insensitive; no negative sizes; no digits, as in "" or "mb",
 * read as 0). Returns 0 and *out; -1 when s is not a memory value; -2 when
 * it is one above LLONG_MAX (Redis reports those out of range; where its
 * product wraps around 2^64 to a small value it even takes that one). */
int config_parse_memory(const char *s, long long *out);
/* A percentile as Redis prints it: "%f" without trailing zeros ("99.9"). */
void config_format_percentile(char *out, size_t cap, double p);

#endif
