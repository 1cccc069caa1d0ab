/* server: the daemon's global state — the event loop, listeners, the client
 * list, statistics — and the cron timer that runs `hz` times a second
 * (client timeouts and buffer trimming, instantaneous metrics, memory peak,
 * the shutdown flag set by signals).
 *
 * Lifecycle: server_init() (after the configuration is loaded) opens the
 * listeners and creates the loop; server_run() runs the loop until a
 * shutdown (SIGTERM/SIGINT or SHUTDOWN), then server_shutdown() closes the
 * listeners, flushes pending replies, removes the pidfile and the unix socket
 * file. Thread rules: loop thread only (the signal handler only sets
 * server.shutdown_signal). */
#ifndef LSM_SERVER_SERVER_H
#define LSM_SERVER_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "server/net.h"

/* The Redis version we answer as (redis_version, HELLO) — the Redis 7
 * behaviour this server follows. Our own version is PACKAGE_VERSION. */
#define SERVER_REDIS_COMPAT_VERSION "7.0.0"

#define SERVER_METRIC_SAMPLES 16

struct client;
struct ae_loop;
struct io_lock;

enum server_metric { METRIC_COMMAND = 0, METRIC_NET_INPUT, METRIC_NET_OUTPUT, METRIC_COUNT };

/* Redis' instantaneous metrics: a ring of per-second rates. */
struct server_metric_state {
    int64_t last_sample_ms;
    uint64_t last_sample_count;
    uint64_t samples[SERVER_METRIC_SAMPLES];
    int idx;
};

#define SERVER_ERRORSTATS_MAX 128

struct server {
    struct ae_loop *loop;
    struct net_listeners listeners;
    struct io_lock *dir_lock;
    int pidfile_written;

    struct client *clients;          /* doubly linked, newest first */
    int nclients;
    struct client *pending_writes;   /* singly linked via pw_next */
    struct client *closing;          /* singly linked via close_next */
    struct client *current_client;   /* executing a command, or NULL */
    uint64_t next_client_id;

    char run_id[41];
    char executable[4096];
    int64_t start_ms;                /* wall clock */
    int64_t start_mono_ms;
    size_t startup_memory;
    size_t peak_memory;
    int64_t peak_memory_time_ms;

    int64_t mono_ms;                 /* cached monotonic time, updated after
                                      * every epoll_wait (like Redis' cached
                                      * server.unixtime) */
    volatile sig_atomic_t shutdown_signal;  /* SIGTERM/SIGINT number, 0 = none */
    int shutdown_asap;                       /* SHUTDOWN command */
    int64_t cron_id;
    uint64_t cron_loops;

    /* statistics (reset by CONFIG RESETSTAT) */
    uint64_t stat_numconnections;
    uint64_t stat_numcommands;
    uint64_t stat_net_input_bytes;
    uint64_t stat_net_output_bytes;
    uint64_t stat_rejected_conn;
    uint64_t stat_unexpected_error_replies;
    uint64_t stat_total_error_replies;
    uint64_t stat_keyspace_hits;     /* reads of a key that was there */
    uint64_t stat_keyspace_misses;   /* reads of a key that was not */
    uint64_t tick_mark;              /* clock_ticks() at the end of the last
                                      * command (INFO commandstats) */
    /* INFO errorstats: error replies by their first word (Redis keeps at
     * most 128 kinds, then counts no new kind). */
    int nerrorstats;
    struct { char code[32]; uint64_t count; } errorstats[SERVER_ERRORSTATS_MAX];
    size_t stat_client_qbuf_limit_disconnections;
    size_t stat_client_outbuf_limit_disconnections;

    struct server_metric_state metrics[METRIC_COUNT];

    size_t recent_max_input_buffer;
    size_t recent_max_output_buffer;
};

extern struct server server;

/* Counts an error reply (reply.c's error hook): the total and its kind. */
void server_count_error(const char *msg, size_t n);
/* Counts a command's read of a key (Redis' lookupKeyRead: INFO stats
 * keyspace_hits and keyspace_misses) from the lookup's result: > 0 found,
 * 0 absent or expired, < 0 an error (not counted). Writes that look their
 * key up (SET NX, INCR, APPEND, ...) count nothing, as in Redis. */
void server_count_lookup(int rc);

/* Fills the global state, creates the loop, opens the listeners, installs
 * the cron. Returns 0, or -1 after logging why. */
int server_init(void);
/* Runs the loop until shutdown; returns the process exit status. */
int server_run(void);
/* Stops the loop (the next iteration performs the shutdown). */
void server_request_shutdown(void);
/* Closes listeners, flushes replies, removes pidfile and unix socket. */
void server_shutdown(void);
/* Frees what server_init() created (after server_shutdown()). */
void server_destroy(void);

/* Instantaneous metric per second (averaged over the samples). */
long long server_instantaneous_metric(enum server_metric m);
void server_reset_stats(void);

/* Uptime in seconds. */
int64_t server_uptime(void);

/* Writes the pidfile (cfg pidfile, or nothing when empty); returns 0/-errno. */
int server_write_pidfile(void);
void server_remove_pidfile(void);

#endif
