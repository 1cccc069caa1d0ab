/* harness.h: runs a real lsmdb-server for integration tests and talks to it
 * over raw sockets.
 *
 * Server: srv_start() picks a free 127.0.0.1 port (bind port 0, read it,
 * close), makes a fresh temp directory holding the data dir, the logfile, the
 * unix socket and the child's captured stdout/stderr, starts the binary named
 * by $LSMDB_SERVER (else $LSMDB_BUILDDIR/src/lsmdb-server, else
 * ../src/lsmdb-server next to the test binary) and waits, bounded (10 s),
 * until it answers PING. srv_stop() stops it by PID: SIGTERM, waitpid with a
 * timeout, then SIGKILL. Every started server is registered so that an exit,
 * a crash signal or the per-test alarm (harness_init) kills it; the temp
 * directory is removed unless $LSMDB_KEEP_TMP is set.
 *
 * Pointing $LSMDB_SERVER at a redis-server binary runs the same tests against
 * Redis itself (the harness then adds --save '' --appendonly no); tests of
 * lsmdb-only behaviour check srv_is_redis() and skip.
 *
 * Connections: struct conn is a blocking-with-timeouts socket with an input
 * buffer. conn_reply() returns the raw bytes of exactly one RESP2/RESP3 reply
 * (hiredis 0.14 cannot parse RESP3), rv_parse() turns those bytes into a tree.
 * Single-threaded; not for use from signal handlers. */
#ifndef LSM_TESTS_HARNESS_H
#define LSM_TESTS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define SRV_PATH_MAX 256

struct srv {
    pid_t pid;                      /* 0 when not running */
    int port;
    char tmp[128];                  /* temp dir owning everything below */
    char dir[SRV_PATH_MAX];         /* --dir */
    char logfile[SRV_PATH_MAX];     /* --logfile */
    char sock[SRV_PATH_MAX];        /* --unixsocket */
    char out[SRV_PATH_MAX];         /* child's stdout+stderr */
    int status;                     /* wait status once exited, else -1 */
    int slot;                       /* harness bookkeeping */
};

struct srv_opts {
    const char *conf;               /* config file, passed first; NULL = none */
    const char *dir;                /* data dir instead of tmp/data */
    const char *const *args;        /* extra "--name", "value" pairs, NULL-terminated */
    int no_wait;                    /* spawn only: don't wait for PING */
    const char *bin;                /* binary instead of srv_binary() */
};

/* Sets the whole-test alarm (seconds), ignores SIGPIPE and installs the
 * cleanup that kills every registered server. Call first in main(). */
void harness_init(int timeout_s);
/* A server that is not our child (a daemon): SIGKILLed by the exit/alarm
 * cleanup unless unwatched first. */
void harness_watch_pid(pid_t pid);
void harness_unwatch_pid(pid_t pid);
/* The server binary to run (never NULL). */
const char *srv_binary(void);
/* 1 when srv_binary() is a redis-server (for lsmdb-only checks). */
int srv_is_redis(void);
/* A redis-server to compare with: $REDIS_SERVER, else one on $PATH, else
 * NULL. */
const char *redis_binary(void);
/* A free TCP port on 127.0.0.1, or -1. */
int free_port(void);
/* A TCP socket bound to 127.0.0.1 on a port the kernel picks (*port); the
 * fd, or -1. */
int loopback_socket(int *port);

/* Starts a server; 0 when it answers PING (or, with no_wait, when spawned),
 * -1 otherwise (diagnostics printed, the process stopped and its temp dir
 * removed, s->status set). */
int srv_start(struct srv *s, const struct srv_opts *o);
/* srv_start with only extra args (NULL-terminated list, may be NULL). */
int srv_start_args(struct srv *s, const char *const *args);
/* For a differential test: skips the whole test (TAP skip_all) when there
 * is no redis-server (redis_binary()), else starts lsmdb-server in ls and
 * redis-server in rs, bailing out when either does not start. Returns the
 * redis-server binary. */
const char *srv_start_pair(struct srv *ls, struct srv *rs);
/* srv_start_pair with extra args for lsmdb-server (as srv_start_args). */
const char *srv_start_pair_args(struct srv *ls, struct srv *rs, const char *const *args);
/* Waits up to timeout_ms for the process to exit by itself; returns its wait
 * status, or -1 on timeout (the process keeps running). */
int srv_wait_exit(struct srv *s, int timeout_ms);
/* 1 while the process exists (not yet reaped). */
int srv_alive(struct srv *s);
/* SIGTERM, wait 10 s, SIGKILL; returns the wait status (or the one already
 * collected); removes the temp dir. Safe to call twice. */
int srv_stop(struct srv *s);
/* Like srv_stop but keeps the temp dir (for restarts on the same files). */
int srv_stop_keep(struct srv *s);
/* Removes s->tmp. */
void srv_cleanup(struct srv *s);
/* Reads a file whole (zmalloc'd, NUL-terminated) or NULL. */
char *read_file(const char *path, size_t *len);
/* Prints the last lines of the server's log and captured output as TAP
 * diagnostics. */
void srv_dump(const struct srv *s);
/* Builds a path under s->tmp into buf. */
const char *srv_path(const struct srv *s, const char *name, char *buf, size_t cap);

struct conn {
    int fd;
    char *buf;                      /* received, not yet consumed */
    size_t len, cap;
    int eof;                        /* peer closed (EOF or reset) */
};

/* Connects (blocking, 5 s timeout); NULL on failure. */
struct conn *conn_tcp(int port);
struct conn *conn_unix(const char *path);
void conn_close(struct conn *c);
/* Writes all bytes, draining input meanwhile; 0, or -1 if the peer is gone. */
int conn_send(struct conn *c, const void *data, size_t len);
int conn_sends(struct conn *c, const char *s);
/* Sends one command as a RESP multibulk: NULL-terminated string args. */
int conn_sendv(struct conn *c, const char *arg0, ...) __attribute__((sentinel));
int conn_sendargv(struct conn *c, int argc, const char *const *argv, const size_t *lens);
/* Raw bytes of the next complete reply (zmalloc'd, NUL-terminated, *len set
 * when len != NULL), or NULL on timeout/close/garbage. */
char *conn_reply(struct conn *c, int timeout_ms, size_t *len);
/* conn_sendv + conn_reply with a 5 s timeout. */
char *conn_call(struct conn *c, const char *arg0, ...) __attribute__((sentinel));
/* Sends a command line: words split on single spaces, "" for an empty
 * argument; with CALL_PCT each word is %-decoded first (pct_decode), so any
 * byte fits. The raw reply (zmalloc'd, *rlen set when rlen != NULL; 10 s
 * timeout), or NULL (also for a line over 4 KB). At most 128 words. */
#define CALL_PCT 1
char *conn_call_line(struct conn *c, const char *line, int flags, size_t *rlen);
/* Sends argv (explicit lengths) on c; the raw reply within timeout_ms
 * (*rlen set), or NULL. */
char *conn_call_argv(struct conn *c, int argc, const char *const *argv, const size_t *lens,
                     size_t *rlen, int timeout_ms);
/* Decodes %HH (two hex digits) into the byte 0xHH in place; other bytes
 * stay. Returns the new length. */
size_t pct_decode(char *s, size_t n);
/* Reads exactly n bytes (or until close/timeout); returns what came. */
char *conn_read_n(struct conn *c, size_t n, int timeout_ms, size_t *len);
/* Returns everything until the peer closes or nothing arrives for
 * timeout_ms; *closed = 1 when the peer closed. */
char *conn_read_all(struct conn *c, int timeout_ms, size_t *len, int *closed);
/* Waits up to timeout_ms for input and appends it to c->buf without
 * consuming anything: 1 got bytes, 0 peer closed, -1 nothing came. */
int conn_fill(struct conn *c, int timeout_ms);
/* 1 if the peer closes within timeout_ms (pending input is discarded). */
int conn_wait_close(struct conn *c, int timeout_ms);

/* Length of the first complete RESP2/RESP3 reply in buf: >0, 0 when
 * incomplete, -1 when malformed. */
long resp_reply_len(const char *buf, size_t len);

/* A parsed reply. type is the RESP type byte ('+', '-', ':', '$', '*', '%',
 * '~', '_', ',', '#', '(', '=', '!', '>', '|'); null bulk/array are '_' with
 * was_null_bulk/array set to the original type. Maps keep 2*pairs elems. */
struct rv {
    char type;
    char orig;                      /* type byte as sent ('$' for $-1 ...) */
    long long integer;
    char *str;                      /* bulk/simple/double text, NUL-terminated */
    size_t len;
    size_t n;
    struct rv **elem;
};
struct rv *rv_parse(const char *raw, size_t len);
void rv_free(struct rv *v);
/* In a map (or a flat key/value array), the value of key; NULL if absent. */
const struct rv *rv_get(const struct rv *map, const char *key);

/* Escapes bytes for a one-line diagnostic (static buffer, truncated). */
const char *esc(const char *s, size_t len);
/* 1 when the reply equals expect exactly; prints both as diagnostics when
 * not. Frees got. The reply conn_reply returned last is compared whole,
 * NUL bytes included (so a reply holding one never equals a C string). */
int reply_is(char *got, const char *expect);
/* 1 when got (glen bytes, may be NULL) is exactly want (wlen bytes, any
 * bytes); prints both as TAP diagnostics when not. Frees got. */
int bytes_are(char *got, size_t glen, const char *want, size_t wlen);
/* Sends a command line on c (CALL_PCT: its words %-decoded) and compares
 * the raw reply with expect, itself %-decoded: 1 when the same bytes. */
int line_reply_is(struct conn *c, const char *line, const char *expect);
/* Current time in milliseconds (monotonic). */
long long now_ms(void);
/* Raises RLIMIT_NOFILE to at least n; returns the new soft limit. */
long raise_nofile(long n);
/* The value of "field:" in an INFO text, copied into out; 0 or -1. */
int info_field(const char *info, const char *field, char *out, size_t cap);
/* INFO section's field as a number over c; -1 when absent or no reply. */
long long conn_info_ll(struct conn *c, const char *section, const char *field);

#endif
