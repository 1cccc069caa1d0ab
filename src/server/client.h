/* client: one connection's life — accept, read into the query buffer, parse
 * with resp_parse, dispatch through the command table, queue replies in the
 * client's obuf, write them, close.
 *
 * Reading: one read(2) per readable event into the client's reused query
 * buffer; every complete command in it is executed in order (pipelining of
 * any depth). Writing: a client with queued output joins the pending-write
 * list; client_handle_pending_writes() (called before the loop sleeps, like
 * Redis' handleClientsWithPendingWrites) writes directly and installs a
 * writable handler only when the socket is full.
 * Closing: a protocol error, QUIT or CLIENT KILL of oneself closes after the
 * queued reply is written (CLIENT_CLOSE_AFTER_REPLY); the query-buffer limit,
 * output-buffer limits, the idle timeout and I/O errors close at once
 * (CLIENT_CLOSE_ASAP: freed before the loop sleeps).
 * Thread rules: loop thread only. */
#ifndef LSM_SERVER_CLIENT_H
#define LSM_SERVER_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/net.h"
#include "server/reply.h"
#include "server/resp.h"

struct command;
struct ae_loop;

enum {
    CLIENT_UNIX_SOCKET = 1 << 0,
    CLIENT_CLOSE_AFTER_REPLY = 1 << 1,
    CLIENT_CLOSE_ASAP = 1 << 2,
    CLIENT_PENDING_WRITE = 1 << 3,
    CLIENT_REPLY_OFF = 1 << 4,
    CLIENT_REPLY_SKIP_NEXT = 1 << 5,
    CLIENT_REPLY_SKIP = 1 << 6,
    CLIENT_PROTOCOL_ERROR = 1 << 7,
    CLIENT_EXECUTING = 1 << 8,     /* inside client_process_input() */
    CLIENT_MONITOR = 1 << 9,       /* sent every command's line (monitor.h) */
    CLIENT_NO_EVICT = 1 << 10,     /* CLIENT NO-EVICT on (shown; nothing evicts here) */
};

struct client {
    uint64_t id;
    int fd;
    int flags;                      /* CLIENT_* */
    int db;
    int authenticated;
    char *name;                     /* NULL = no name */
    int64_t ctime_ms;               /* creation, monotonic */
    int64_t last_interaction_ms;    /* monotonic */
    int64_t obuf_soft_since_ms;     /* 0 = below the soft limit */

    /* query buffer: unparsed bytes are [qpos, qlen) */
    char *qbuf;
    size_t qlen, qpos, qcap;
    size_t qpeak;                   /* largest qlen since the last cron check */
    size_t cmd_start;               /* qpos of the executing command */
    struct resp_parser parser;

    /* the command being executed */
    int argc;
    const char *const *argv;
    const size_t *argvlen;
    struct command *cmd;
    struct command *lastcmd;

    size_t rbuf_peak;               /* peak bytes in the static reply buffer */
    struct obuf obuf;

    char addr[NET_ADDR_STR_LEN];    /* peer "ip:port" */
    char laddr[NET_ADDR_STR_LEN];   /* local end, filled lazily */

    struct client *prev, *next;     /* server.clients list */
    struct client *pw_next;         /* pending-write list */
    struct client *close_next;      /* close-asap list */
};

/* Accept handler for TCP and unix listeners (data = NULL / (void *)1 for unix). */
void client_accept_handler(struct ae_loop *loop, int fd, void *data, int mask);

/* Creates a client for an accepted fd and registers it with the loop; returns
 * NULL (fd closed) when the event loop cannot take it. */
struct client *client_create(int fd, int is_unix, const struct sockaddr *peer);
/* Unlinks, closes and frees now. Never call on the client that is executing
 * a command (use client_close_async or CLIENT_CLOSE_AFTER_REPLY). */
void client_free(struct client *c);
/* Marks for closing before the loop sleeps (safe on any client). */
void client_close_async(struct client *c);
/* Frees clients marked CLOSE_ASAP; returns how many. */
int client_free_closing(void);

/* Writes pending replies of every client in the pending-write list; returns
 * the number of clients handled. */
int client_handle_pending_writes(void);
/* Queues c for writing before the loop sleeps (no-op when nothing pending). */
void client_queue_write(struct client *c);
/* After output was added to c outside its own commands (a MONITOR line):
 * checks the output buffer limits (it may close c), then queues the write. */
void client_output_added(struct client *c);

/* Shutdown: writes every client's pending output, waiting (poll) for slow
 * readers at most CLIENT_SHUTDOWN_FLUSH_MS in all; clients whose socket
 * fails are skipped. */
#define CLIENT_SHUTDOWN_FLUSH_MS 5000
void client_flush_all(void);

/* Executes c->argv (already parsed) through the table: unknown command,
 * arity, NOAUTH, handler, stats. */
void client_execute(struct client *c);

/* After cmd (c->argv) ran for `ticks` of clock_ticks(): the slow log and
 * the command's latency histogram. Also for each command EXEC runs. */
void client_after_call(struct client *c, struct command *cmd, uint64_t ticks);

/* 1 when the client still has to AUTH. */
int client_auth_required(const struct client *c);

/* Appends c's CLIENT LIST line (without the trailing '\n') to buf. */
void client_info_string(struct client *c, struct buf *b);
/* Local address of c ("ip:port" / "path:0"), computed on first use. */
const char *client_laddr(struct client *c);

/* Client with this id, or NULL. */
struct client *client_by_id(uint64_t id);

/* Cron work for one client (timeout, buffer trimming); returns 1 when the
 * client was freed. */
int client_cron(struct client *c, int64_t now_ms);

#endif
