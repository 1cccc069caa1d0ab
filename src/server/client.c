/* client: connection lifecycle, query processing, reply writing (client.h). */
#include "server/client.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/ae.h"
#include "server/cmd_multi.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/keyspace_server.h"
#include "server/latency.h"
#include "server/monitor.h"
#include "server/server.h"
#include "server/slowlog.h"
#include "util/clock.h"
#include "util/idmap.h"
#include "util/log.h"
#include "util/zmalloc.h"

#define QBUF_READ_LEN (16 * 1024)        /* Redis' PROTO_IOBUF_LEN */
#define QBUF_IDLE_FREE_MS 2000           /* free an empty buffer after idling */
#define MAX_ACCEPTS_PER_CALL 1000

static const char maxclients_err[] = "-ERR max number of clients reached\r\n";

/* ---- lists ---- */

/* Clients by id (client_by_id: the sync and flush steps look up every
 * client they release, each loop iteration; a walk of the client list per
 * lookup was ~2% of a SET at -P 1 with 50 clients). */
static struct idmap byid;            /* zeroed: empty */

static void link_client(struct client *c)
{
    idmap_put(&byid, c->id, c);
    c->prev = NULL;
    c->next = server.clients;
    if (server.clients)
        server.clients->prev = c;
    server.clients = c;
    server.nclients++;
}

static void unlink_client(struct client *c)
{
    idmap_del(&byid, c->id);
    if (c->prev)
        c->prev->next = c->next;
    else
        server.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    server.nclients--;
}

/* which: 0 = pending-write list (pw_next), 1 = close list (close_next). */
static void remove_from(struct client **head, struct client *c, int which)
{
    struct client **pp = head;
    while (*pp) {
        if (*pp == c) {
            *pp = which ? c->close_next : c->pw_next;
            return;
        }
        pp = which ? &(*pp)->close_next : &(*pp)->pw_next;
    }
}

/* ---- creation and freeing ---- */

static void client_read_handler(struct ae_loop *loop, int fd, void *data, int mask);

struct client *client_create(int fd, int is_unix, const struct sockaddr *peer)
{
    if (!is_unix) {
        net_set_nodelay(fd);
        if (server_cfg.tcp_keepalive > 0)
            net_set_keepalive(fd, server_cfg.tcp_keepalive);
    }
    struct client *c = zcalloc(sizeof(*c));
    c->fd = fd;
    int rc = ae_add_file(server.loop, fd, AE_READABLE, client_read_handler, c);
    if (rc < 0) {
        log_warning("Error registering fd event for the new client: %s (fd=%d)",
                    strerror(-rc), fd);
        close(fd);
        zfree(c);
        return NULL;
    }
    c->id = server.next_client_id++;
    c->flags = is_unix ? CLIENT_UNIX_SOCKET : 0;
    c->authenticated = !(server_cfg.requirepass && server_cfg.requirepass[0]);
    c->ctime_ms = c->last_interaction_ms = clock_mono_ms();
    resp_parser_init(&c->parser);
    obuf_init(&c->obuf);
    if (is_unix)
        snprintf(c->addr, sizeof(c->addr), "%s:0", server_cfg.unixsocket);
    else if (peer)
        net_format_addr(peer, c->addr, sizeof(c->addr));
    link_client(c);
    return c;
}

void client_free(struct client *c)
{
    if (server.current_client == c)
        server.current_client = NULL;
    multi_client_gone(c->id);   /* MULTI/WATCH state of this client */
    monitor_remove(c);
    ae_del_file(server.loop, c->fd, AE_READABLE | AE_WRITABLE);
    close(c->fd);
    if (c->flags & CLIENT_PENDING_WRITE)
        remove_from(&server.pending_writes, c, 0);
    if (c->flags & CLIENT_CLOSE_ASAP)
        remove_from(&server.closing, c, 1);
    unlink_client(c);
    resp_parser_free(&c->parser);
    obuf_free(&c->obuf);
    zfree(c->qbuf);
    zfree(c->name);
    zfree(c);
}

void client_close_async(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    c->flags |= CLIENT_CLOSE_ASAP;
    ae_del_file(server.loop, c->fd, AE_READABLE | AE_WRITABLE);
    c->close_next = server.closing;
    server.closing = c;
}

int client_free_closing(void)
{
    int n = 0;
    while (server.closing) {
        struct client *c = server.closing;
        server.closing = c->close_next;
        c->flags &= ~CLIENT_CLOSE_ASAP;   /* already out of the list */
        client_free(c);
        n++;
    }
    return n;
}

/* ---- accept ---- */

static void accept_common(int cfd, int is_unix, const struct sockaddr *peer)
{
    if (server.nclients >= server_cfg.maxclients) {
        /* Best effort, like Redis: the error may not make it. */
        ssize_t w = write(cfd, maxclients_err, sizeof(maxclients_err) - 1);
        (void)w;
        server.stat_rejected_conn++;
        close(cfd);
        return;
    }
    if (net_protected_mode_refuses(peer, is_unix, &server_cfg)) {
        ssize_t w = write(cfd, net_protected_mode_msg, strlen(net_protected_mode_msg));
        (void)w;
        server.stat_rejected_conn++;
        close(cfd);
        return;
    }
    if (client_create(cfd, is_unix, peer))
        server.stat_numconnections++;
}

void client_accept_handler(struct ae_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    (void)mask;
    int is_unix = data != NULL;
    for (int i = 0; i < MAX_ACCEPTS_PER_CALL; i++) {
        struct sockaddr_storage ss;
        int cfd = net_accept(fd, &ss);
        if (cfd < 0) {
            if (cfd != -EAGAIN)
                log_warning("Accepting client connection: %s", strerror(-cfd));
            return;
        }
        if (log_get_level() <= LOG_VERBOSE) {
            if (is_unix) {
                log_verbose("Accepted connection to %s", server_cfg.unixsocket);
            } else {
                char a[NET_ADDR_STR_LEN];
                net_format_addr((struct sockaddr *)&ss, a, sizeof(a));
                log_verbose("Accepted %s", a);
            }
        }
        accept_common(cfd, is_unix, (struct sockaddr *)&ss);
    }
}

/* ---- writing ---- */

static void client_write_handler(struct ae_loop *loop, int fd, void *data, int mask);

/* Writes what the kernel takes; returns -1 when the client was freed. */
static int client_write(struct client *c)
{
    ssize_t n = obuf_write(&c->obuf, c->fd);
    if (n > 0) {
        server.stat_net_output_bytes += (uint64_t)n;
        c->last_interaction_ms = server.mono_ms;
    } else if (n < 0 && n != -EAGAIN && n != -EINTR) {
        log_verbose("Error writing to client: %s", strerror((int)-n));
        client_free(c);
        return -1;
    }
    if (obuf_pending(&c->obuf) == 0) {
        if (ae_get_file_mask(server.loop, c->fd) & AE_WRITABLE)
            ae_del_file(server.loop, c->fd, AE_WRITABLE);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            client_free(c);
            return -1;
        }
    }
    return 0;
}

static void client_write_handler(struct ae_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    (void)fd;
    (void)mask;
    struct client *c = data;
    /* keyspace: replies of a write not yet fsync'd (appendfsync always) wait;
     * the keyspace re-queues the client once its sync is done. */
    if (ks_server_unsynced(c)) {
        ae_del_file(server.loop, c->fd, AE_WRITABLE);
        return;
    }
    client_write(c);
}

void client_queue_write(struct client *c)
{
    if (c->flags & (CLIENT_PENDING_WRITE | CLIENT_CLOSE_ASAP))
        return;
    if (obuf_pending(&c->obuf) == 0 && !(c->flags & CLIENT_CLOSE_AFTER_REPLY))
        return;
    if (ae_get_file_mask(server.loop, c->fd) & AE_WRITABLE)
        return;   /* the writable handler will do it */
    c->flags |= CLIENT_PENDING_WRITE;
    c->pw_next = server.pending_writes;
    server.pending_writes = c;
}

int client_handle_pending_writes(void)
{
    int handled = 0;
    while (server.pending_writes) {
        struct client *c = server.pending_writes;
        server.pending_writes = c->pw_next;
        c->pw_next = NULL;
        c->flags &= ~CLIENT_PENDING_WRITE;
        handled++;
        if (c->flags & CLIENT_CLOSE_ASAP)
            continue;
        if (ks_server_unsynced(c))
            continue;   /* keyspace: re-queued once its writes are fsync'd */
        if (client_write(c) < 0)
            continue;
        if (obuf_pending(&c->obuf) > 0 &&
            ae_add_file(server.loop, c->fd, AE_WRITABLE, client_write_handler, c) < 0)
            client_close_async(c);
    }
    return handled;
}

/* Writes what c can take now; returns 1 while output is still pending and
 * the socket is alive, 0 when c is done (drained, or its socket failed). */
static int flush_one(struct client *c)
{
    if (obuf_pending(&c->obuf) == 0 || (c->flags & CLIENT_CLOSE_ASAP))
        return 0;
    ssize_t n = obuf_write(&c->obuf, c->fd);
    if (n > 0)
        server.stat_net_output_bytes += (uint64_t)n;
    if (n < 0 && n != -EAGAIN) {
        c->flags |= CLIENT_CLOSE_ASAP;      /* peer gone: stop trying */
        return 0;
    }
    return obuf_pending(&c->obuf) > 0;
}

void client_flush_all(void)
{
    /* Shutdown: wait, bounded, for clients that read slowly, so a reader
     * gets every reply the server produced (a client that stops reading
     * cannot hold the exit back for more than CLIENT_SHUTDOWN_FLUSH_MS). */
    int64_t deadline = clock_mono_ms() + CLIENT_SHUTDOWN_FLUSH_MS;
    struct pollfd *pfd = NULL;
    size_t cap = 0;

    for (;;) {
        size_t n = 0;
        for (struct client *c = server.clients; c; c = c->next) {
            if (!flush_one(c))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                pfd = zrealloc(pfd, cap * sizeof(*pfd));
            }
            pfd[n].fd = c->fd;
            pfd[n].events = POLLOUT;
            pfd[n++].revents = 0;
        }
        int64_t left = deadline - clock_mono_ms();
        if (n == 0 || left <= 0)
            break;
        if (poll(pfd, (nfds_t)n, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
            break;
    }
    zfree(pfd);
}

/* ---- output buffer limits ---- */

/* Redis' checkClientOutputBufferLimits for the normal class. */
static int obuf_limit_reached(struct client *c)
{
    const struct config_obuf_limit *l = &server_cfg.obuf_limits[CONFIG_OBUF_NORMAL];
    size_t used = obuf_chunk_bytes(&c->obuf);
    int hard = l->hard_bytes > 0 && used >= (size_t)l->hard_bytes;
    int soft = l->soft_bytes > 0 && used >= (size_t)l->soft_bytes;
    if (soft) {
        int64_t now_s = clock_mono_ms() / 1000;
        if (c->obuf_soft_since_ms == 0) {
            c->obuf_soft_since_ms = now_s * 1000 + 1;   /* +1: never 0 */
            soft = 0;
        } else if (now_s - c->obuf_soft_since_ms / 1000 <= l->soft_seconds) {
            soft = 0;
        }
    } else {
        c->obuf_soft_since_ms = 0;
    }
    return hard || soft;
}

static void check_obuf_limits(struct client *c)
{
    if (obuf_chunk_bytes(&c->obuf) == 0 && c->obuf_soft_since_ms == 0)
        return;
    if (!obuf_limit_reached(c))
        return;
    struct buf b = BUF_INIT;
    client_info_string(c, &b);
    log_warning("Client %s scheduled to be closed ASAP for overcoming of output "
                "buffer limits.", buf_cstr(&b));
    buf_free(&b);
    server.stat_client_outbuf_limit_disconnections++;
    client_close_async(c);
}

void client_output_added(struct client *c)
{
    if (!(c->flags & CLIENT_CLOSE_ASAP))
        check_obuf_limits(c);
    client_queue_write(c);
}

/* ---- executing ---- */

int client_auth_required(const struct client *c)
{
    return server_cfg.requirepass && server_cfg.requirepass[0] && !c->authenticated;
}

/* Length of an argument as Redis' "%.128s" would print it (stops at NUL). */
static int arg_print_len(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    const char *z = memchr(s, '\0', n);
    return (int)(z ? (size_t)(z - s) : n);
}

static void reply_unknown_command(struct client *c)
{
    struct buf b = BUF_INIT;
    char tmp[160];
    for (int i = 1; i < c->argc && b.len < 128; i++) {
        int n = arg_print_len(c->argv[i], c->argvlen[i], 128 - b.len);
        snprintf(tmp, sizeof(tmp), "'%.*s' ", n, c->argv[i]);
        buf_append(&b, tmp, strlen(tmp));
    }
    reply_errorf(&c->obuf, "ERR unknown command '%.*s', with args beginning with: %s",
                 arg_print_len(c->argv[0], c->argvlen[0], 128), c->argv[0],
                 b.len ? buf_cstr(&b) : "");
    buf_free(&b);
}

static void reply_unknown_subcommand(struct client *c)
{
    char upper[64];
    int n = arg_print_len(c->argv[0], c->argvlen[0], sizeof(upper) - 1);
    for (int i = 0; i < n; i++) {
        char ch = c->argv[0][i];
        upper[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    upper[n] = '\0';
    reply_errorf(&c->obuf, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 arg_print_len(c->argv[1], c->argvlen[1], 128), c->argv[1], upper);
}

void client_after_call(struct client *c, struct command *cmd, uint64_t ticks)
{
    if (server_cfg.slowlog_log_slower_than >= 0)
        slowlog_record(c, cmd, ticks);
    commands_record_latency(cmd, ticks);
    monitor_feed(c, cmd);
    if (server_cfg.latency_monitor_threshold > 0)
        latency_sample(cmd->flags & CMD_FAST ? "fast-command" : "command",
                       (uint64_t)((double)ticks / clock_ticks_per_us() / 1000.0));
}

void client_execute(struct client *c)
{
    struct command *container;
    struct command *cmd = commands_lookup_argv(c->argc, c->argv, c->argvlen, &container);
    c->cmd = c->lastcmd = cmd;
    if (!cmd) {
        if (container)
            reply_unknown_subcommand(c);
        else
            reply_unknown_command(c);
        multi_flag_error(c);   /* in MULTI: EXEC answers -EXECABORT */
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != c->argc) || c->argc < -cmd->arity) {
        char why[96];   /* "EXEC x": -EXECABORT ... because of: <why> */
        snprintf(why, sizeof(why), "wrong number of arguments for '%s' command",
                 cmd->fullname);
        if (!multi_reject_exec(c, cmd, why))
            reply_errorf(&c->obuf, "ERR %s", why);
        multi_flag_error(c);
        cmd->rejected_calls++;
        return;
    }
    if (client_auth_required(c) && !(cmd->flags & CMD_NO_AUTH)) {
        if (!multi_reject_exec(c, cmd, "NOAUTH Authentication required."))
            reply_error(&c->obuf, "NOAUTH Authentication required.");
        multi_flag_error(c);
        cmd->rejected_calls++;
        return;
    }
    if (multi_queue(c, cmd))
        return;                /* in MULTI: queued (+QUEUED) or refused */
    uint64_t errors = server.stat_total_error_replies;
    uint64_t t0 = clock_ticks();
    server.current_client = c;
    int refused = ks_server_call(c, cmd);   /* cmd->proc(c) in a transaction */
    server.current_client = NULL;
    if (refused) {                          /* -MISCONF: not run, like Redis */
        cmd->rejected_calls++;
        return;
    }
    /* One tick read per command: the time since the previous command of
     * this batch ended (or the batch began), so it includes the parse. */
    uint64_t t1 = clock_ticks();
    cmd->ticks += t1 - server.tick_mark;
    server.tick_mark = t1;
    client_after_call(c, cmd, t1 - t0);
    cmd->calls++;
    if (server.stat_total_error_replies > errors)   /* not after CONFIG RESETSTAT */
        cmd->failed_calls++;
    server.stat_numcommands++;
}

/* Redis' resetClient: CLIENT REPLY SKIP mutes exactly the next command. */
static void after_command(struct client *c)
{
    c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags |= CLIENT_REPLY_SKIP;
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
    }
    c->obuf.muted = (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0;
    c->argc = 0;
    c->argv = NULL;
    c->argvlen = NULL;
    c->cmd = NULL;
    if (c->obuf.bufpos > c->rbuf_peak)
        c->rbuf_peak = c->obuf.bufpos;
}

static void protocol_error(struct client *c)
{
    const char *e = resp_parser_error(&c->parser);
    if (log_get_level() <= LOG_VERBOSE) {
        struct buf b = BUF_INIT;
        client_info_string(c, &b);
        log_verbose("Protocol error (%s) from client: %s", e, buf_cstr(&b));
        buf_free(&b);
    }
    reply_error(&c->obuf, e);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY | CLIENT_PROTOCOL_ERROR;
    ae_del_file(server.loop, c->fd, AE_READABLE);
}

/* Reads "$<len>\r\n<bytes>\r\n" at *p (before end): 1 with the bytes, 0 when
 * it is not there (yet) or malformed. */
static int peek_bulk(const char **p, const char *end, const char **s, size_t *len)
{
    const char *q = *p;
    size_t n = 0;
    int digits = 0;

    if (q >= end || *q++ != '$')
        return 0;
    for (; q < end && *q >= '0' && *q <= '9' && digits < 10; q++, digits++)
        n = n * 10 + (size_t)(*q - '0');
    if (digits == 0 || end - q < 2 || q[0] != '\r' || q[1] != '\n')
        return 0;
    q += 2;
    if ((size_t)(end - q) < n + 2)
        return 0;
    *s = q;
    *len = n;
    *p = q + n + 2;
    return 1;
}

/* When the next command in the query buffer (already received, complete
 * or not) is a GET or SET in multibulk form, tells the keyspace its key
 * will be read soon: the engine asks for the first cache lines of that
 * lookup while this command runs (pipelined requests overlap their memory
 * latency). A hint only; the command is parsed for real later. */
static void prefetch_next(struct client *c)
{
    const char *p = c->qbuf + c->qpos, *end = c->qbuf + c->qlen, *name, *key;
    size_t nlen, klen;

    if (end - p < 4 || p[0] != '*' || p[1] < '2' || p[1] > '9' || p[2] != '\r' ||
        p[3] != '\n')
        return;
    p += 4;
    if (!peek_bulk(&p, end, &name, &nlen) || nlen != 3 ||
        (strncasecmp(name, "get", 3) != 0 && strncasecmp(name, "set", 3) != 0) ||
        !peek_bulk(&p, end, &key, &klen))
        return;
    ks_prefetch(c->db, key, klen);
}

static void client_process_input(struct client *c)
{
    struct resp_limits lim = {
        .max_bulk_len = server_cfg.proto_max_bulk_len,
        .max_multibulk_len = RESP_MAX_MULTIBULK_DEFAULT,
        .max_inline = RESP_INLINE_MAX_DEFAULT,
    };
    c->flags |= CLIENT_EXECUTING;
    server.tick_mark = clock_ticks();
    while (c->qpos < c->qlen &&
           !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))) {
        struct resp_cmd cmd;
        size_t start = c->qpos;
        int rc = resp_parse(&c->parser, c->qbuf, c->qlen, &c->qpos,
                            !client_auth_required(c), &lim, &cmd);
        if (rc == RESP_MORE)
            break;
        if (rc == RESP_ERROR) {
            protocol_error(c);
            break;
        }
        if (cmd.argc == 0)
            continue;
        c->cmd_start = start;
        c->argc = cmd.argc;
        c->argv = cmd.argv;
        c->argvlen = cmd.argvlen;
        if (!client_auth_required(c))
            prefetch_next(c);
        client_execute(c);
        after_command(c);
        if (!(c->flags & CLIENT_CLOSE_ASAP))
            check_obuf_limits(c);
        if (server.shutdown_asap)
            break;
    }
    c->flags &= ~CLIENT_EXECUTING;
    c->cmd_start = c->qpos;
    if (c->qpos == c->qlen)
        c->qpos = c->qlen = 0;
    client_queue_write(c);
}

/* ---- reading ---- */

static void close_qbuf_limit(struct client *c)
{
    struct buf b = BUF_INIT;
    client_info_string(c, &b);
    /* Redis prints the first bytes with sdscatrepr; a printable subset will do. */
    char head[65];
    size_t n = c->qlen - c->qpos < 64 ? c->qlen - c->qpos : 64;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->qbuf[c->qpos + i];
        head[i] = (ch >= 32 && ch < 127) ? (char)ch : '.';
    }
    head[n] = '\0';
    log_warning("Closing client that reached max query buffer length: %s "
                "(qbuf initial bytes: \"%s\")", buf_cstr(&b), head);
    buf_free(&b);
    server.stat_client_qbuf_limit_disconnections++;
    client_close_async(c);
}

/* Makes room for `want` more bytes after qlen. Unparsed bytes are moved to
 * the front when that is enough (the parser allows it between calls). */
static void qbuf_reserve(struct client *c, size_t want)
{
    if (c->qcap - c->qlen >= want)
        return;
    if (c->qpos > 0) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
        if (c->qcap - c->qlen >= want)
            return;
    }
    size_t need = c->qlen + want;
    size_t cap = c->qcap ? c->qcap : QBUF_READ_LEN;
    while (cap < need)
        cap = cap < (1u << 30) ? cap * 2 : cap + (1u << 30);
    c->qbuf = zrealloc(c->qbuf, cap);
    c->qcap = cap;
}

static void client_read_handler(struct ae_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    (void)mask;
    struct client *c = data;
    size_t readlen = QBUF_READ_LEN;
    size_t bulk = resp_parser_pending_bulk(&c->parser);
    if (bulk >= RESP_BIG_ARG) {
        /* A big argument: make room for all of it at once (Redis does the
         * same), but never past the query buffer limit. */
        size_t limit = (size_t)server_cfg.client_query_buffer_limit;
        readlen = bulk < limit ? bulk : limit;
        if (readlen < QBUF_READ_LEN)
            readlen = QBUF_READ_LEN;
    }
    if (c->qpos == c->qlen)
        c->qpos = c->qlen = 0;
    qbuf_reserve(c, readlen);
    ssize_t n = read(fd, c->qbuf + c->qlen, readlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        log_verbose("Reading from client: %s", strerror(errno));
        client_free(c);
        return;
    }
    if (n == 0) {
        log_verbose("Client closed connection");
        client_free(c);
        return;
    }
    c->qlen += (size_t)n;
    if (c->qlen > c->qpeak)
        c->qpeak = c->qlen;
    c->last_interaction_ms = server.mono_ms;
    server.stat_net_input_bytes += (uint64_t)n;
    if (c->qlen - c->qpos > (size_t)server_cfg.client_query_buffer_limit) {
        close_qbuf_limit(c);
        return;
    }
    client_process_input(c);
}

/* ---- introspection ---- */

const char *client_laddr(struct client *c)
{
    if (!c->laddr[0]) {
        if (c->flags & CLIENT_UNIX_SOCKET)
            snprintf(c->laddr, sizeof(c->laddr), "%s:0", server_cfg.unixsocket);
        else
            net_format_fd_addr(c->fd, 0, NULL, c->laddr, sizeof(c->laddr));
    }
    return c->laddr;
}

struct client *client_by_id(uint64_t id)
{
    return idmap_get(&byid, id);
}

void client_info_string(struct client *c, struct buf *b)
{
    char flags[16], *p = flags;
    int mqueued, mdirty;   /* MULTI state (cmd_multi): flags x and d, multi=, multi-mem= */
    size_t mmem;
    multi_client_info(c, &mqueued, &mdirty, &mmem);
    if (c->flags & CLIENT_MONITOR)
        *p++ = 'O';
    if (mqueued >= 0)
        *p++ = 'x';
    if (mdirty)
        *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY)
        *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP)
        *p++ = 'A';
    if (c->flags & CLIENT_UNIX_SOCKET)
        *p++ = 'U';
    if (c->flags & CLIENT_NO_EVICT)
        *p++ = 'e';
    if (p == flags)
        *p++ = 'N';
    *p = '\0';

    int mask = ae_get_file_mask(server.loop, c->fd);
    char events[3], *e = events;
    if (mask & AE_READABLE)
        *e++ = 'r';
    if (mask & AE_WRITABLE)
        *e++ = 'w';
    *e = '\0';

    int64_t now = clock_mono_ms();
    size_t qstart = (c->flags & CLIENT_EXECUTING) ? c->cmd_start : c->qpos;
    size_t argv_mem = 0;
    for (int i = 0; i < c->argc; i++)
        argv_mem += c->argvlen[i];
    size_t chunk_bytes = obuf_chunk_bytes(&c->obuf);
    size_t oll = (chunk_bytes + OBUF_CHUNK_SIZE - 1) / OBUF_CHUNK_SIZE;
    size_t tot_mem = sizeof(*c) + c->qcap + chunk_bytes + argv_mem + mmem +
                     (c->name ? strlen(c->name) + 1 : 0);

    char line[1024];
    int n = snprintf(line, sizeof(line),
        "id=%" PRIu64 " addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld "
        "flags=%s db=%d sub=0 psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu "
        "argv-mem=%zu multi-mem=%zu rbs=%d rbp=%zu obl=%zu oll=%zu omem=%zu "
        "tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d",
        c->id, c->addr, client_laddr(c), c->fd, c->name ? c->name : "",
        (long long)((now - c->ctime_ms) / 1000),
        (long long)((now - c->last_interaction_ms) / 1000),
        flags, c->db, mqueued, c->qlen - qstart, c->qcap - c->qlen, argv_mem, mmem,
        OBUF_STATIC_SIZE, c->rbuf_peak, c->obuf.bufpos, oll, chunk_bytes, tot_mem,
        events, c->lastcmd ? c->lastcmd->fullname : "NULL", c->obuf.resp);
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    buf_append(b, line, (size_t)n);
}

/* ---- cron ---- */

int client_cron(struct client *c, int64_t now_ms)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return 0;
    int64_t idle = now_ms - c->last_interaction_ms;
    if (server_cfg.timeout > 0 && !(c->flags & CLIENT_EXECUTING) &&
        idle / 1000 > server_cfg.timeout) {
        log_verbose("Closing idle client");
        client_free(c);
        return 1;
    }
    if (c->qpeak > server.recent_max_input_buffer)
        server.recent_max_input_buffer = c->qpeak;
    size_t out = obuf_chunk_bytes(&c->obuf) + c->obuf.bufpos;
    if (out > server.recent_max_output_buffer)
        server.recent_max_output_buffer = out;
    /* Give back an empty query buffer that grew, or that sat idle. */
    if (c->qlen == 0 && c->qbuf &&
        (c->qcap > QBUF_READ_LEN || idle > QBUF_IDLE_FREE_MS) &&
        !resp_parser_in_progress(&c->parser)) {
        zfree(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
    c->qpeak = c->qlen;
    /* rbp is the peak of the last few seconds, as in Redis. */
    int hz = server_cfg.hz > 0 ? server_cfg.hz : 10;
    if (server.cron_loops % (uint64_t)(hz * 5) == 0)
        c->rbuf_peak = c->obuf.bufpos;
    return 0;
}
