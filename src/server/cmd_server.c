/* cmd_server: handlers of the connection and server commands — PING, ECHO,
 * QUIT, RESET, HELLO, AUTH, SELECT, TIME, SAVE, BGSAVE, LASTSAVE, ROLE,
 * SLOWLOG, MEMORY USAGE, SHUTDOWN, INFO, CLIENT, COMMAND, CONFIG —
 * with Redis 7's replies and error texts. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "server/ae.h"
#include "server/client.h"
#include "server/cmdarg.h"
#include "server/cmd_multi.h"
#include "server/cmd_string.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/latency.h"
#include "server/lathist.h"
#include "server/monitor.h"
#include "server/server.h"
#include "server/slowlog.h"
#include "util/clock.h"
#include "util/glob.h"
#include "util/log.h"
#include "util/zmalloc.h"

#define SYNTAX_ERR "ERR syntax error"

/* ---- argument helpers ---- */

static int arg_is(const struct client *c, int i, const char *word)
{
    size_t n = strlen(word);
    return c->argvlen[i] == n && strncasecmp(c->argv[i], word, n) == 0;
}

/* NUL-terminated copy of argument i (caller frees with zfree). */
static char *arg_dup(const struct client *c, int i)
{
    return zmemdup(c->argv[i], c->argvlen[i]);
}

/* Length of argument i as "%s" prints it (Redis' sds args print up to NUL). */
static int arg_plen(const struct client *c, int i)
{
    const char *z = memchr(c->argv[i], '\0', c->argvlen[i]);
    return (int)(z ? (size_t)(z - c->argv[i]) : c->argvlen[i]);
}

/* The container's name (argv[0]) upper-cased into out (cap bytes). */
static void container_upper(const struct client *c, char *out, size_t cap)
{
    int len = arg_plen(c, 0);
    if (len > (int)cap - 1)
        len = (int)cap - 1;
    for (int i = 0; i < len; i++) {
        char ch = c->argv[0][i];
        out[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    out[len] = '\0';
}

/* Redis' addReplySubcommandSyntaxError: a subcommand given the wrong
 * number of arguments that its arity allows. */
static void reply_subcommand_syntax(struct client *c)
{
    char upper[32];
    container_upper(c, upper, sizeof upper);
    reply_errorf(&c->obuf, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                 "Try %s HELP.", arg_plen(c, 1) < 128 ? arg_plen(c, 1) : 128, c->argv[1],
                 upper);
}

static void reply_help(struct client *c, const char *const *lines)
{
    struct obuf *o = &c->obuf;
    int n = 0;
    while (lines[n])
        n++;
    char upper[32];
    container_upper(c, upper, sizeof upper);
    reply_array_len(o, n + 3);
    char head[96];
    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             upper);
    reply_status(o, head);
    for (int i = 0; i < n; i++)
        reply_status(o, lines[i]);
    reply_status(o, "HELP");
    reply_status(o, "    Prints this help.");
}

/* ---- PING ECHO QUIT TIME SELECT ---- */

void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_errorf(&c->obuf, "ERR wrong number of arguments for '%s' command",
                     c->cmd->fullname);
        return;
    }
    if (c->argc == 1)
        reply_raw(&c->obuf, "+PONG\r\n", 7);
    else
        reply_bulk(&c->obuf, c->argv[1], c->argvlen[1]);
}

void cmd_echo(struct client *c)
{
    reply_bulk(&c->obuf, c->argv[1], c->argvlen[1]);
}

void cmd_quit(struct client *c)
{
    reply_ok(&c->obuf);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

void cmd_time(struct client *c)
{
    int64_t us = clock_us();
    reply_array_len(&c->obuf, 2);
    reply_bulk_long(&c->obuf, us / 1000000);
    reply_bulk_long(&c->obuf, us % 1000000);
}

/* ---- persistence: SAVE, BGSAVE, LASTSAVE (docs/server-core.md) ----
 * lsmdb keeps no RDB file: its data is always on disk in the engine's log
 * and tables. What SAVE promises a Redis user, that every write answered
 * before it is on disk, is a sync of the engine (the WAL and value log
 * fsynced); BGSAVE asks the background sync thread for one, and LASTSAVE
 * is the time of the last successful sync. */

void cmd_save(struct client *c)
{
    if (ks_bgsave_in_progress()) {
        reply_error(&c->obuf, "ERR Background save already in progress");
        return;
    }
    int rc = ks_sync();
    if (rc != 0)
        cmdarg_reply_ks_error(c, rc);
    else
        reply_ok(&c->obuf);
}

void cmd_bgsave(struct client *c)
{
    if (c->argc > 1 && !(c->argc == 2 && arg_is(c, 1, "SCHEDULE"))) {
        reply_error(&c->obuf, SYNTAX_ERR);
        return;
    }
    if (ks_bgsave_in_progress()) {
        reply_error(&c->obuf, "ERR Background save already in progress");
    } else if (multi_in_exec()) {
        /* The transaction's writes are not committed yet. */
        ks_bgsave_schedule();
        reply_status(&c->obuf, "Background saving scheduled");
    } else {
        ks_bgsave();
        reply_status(&c->obuf, "Background saving started");
    }
}

void cmd_lastsave(struct client *c)
{
    reply_long(&c->obuf, ks_last_save_ms() / 1000);
}

/* ---- SLOWLOG (server/slowlog.h) ---- */

void cmd_slowlog_get(struct client *c)
{
    long long n = 10;
    if (c->argc > 3) {
        reply_subcommand_syntax(c);
        return;
    }
    if (c->argc == 3 && (!str_to_ll(c->argv[2], c->argvlen[2], &n) || n < -1)) {
        reply_error(&c->obuf, "ERR count should be greater than or equal to -1");
        return;
    }
    slowlog_reply(&c->obuf, n);
}

void cmd_slowlog_len(struct client *c)
{
    reply_long(&c->obuf, slowlog_len());
}

void cmd_slowlog_reset(struct client *c)
{
    slowlog_reset();
    reply_ok(&c->obuf);
}

void cmd_slowlog_help(struct client *c)
{
    static const char *const help[] = {
        "GET [<count>]",
        "    Return the newest <count> entries (10 when omitted, -1 for every entry).",
        "    Each entry holds: id, UNIX time, duration in microseconds, the",
        "    command's arguments, the client's address and the client's name.",
        "LEN",
        "    Return how many entries the slow log holds.",
        "RESET",
        "    Remove every entry.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- LATENCY (server/latency.h; HISTOGRAM from the latencystats) ---- */

void cmd_latency_latest(struct client *c)
{
    latency_reply_latest(&c->obuf);
}

void cmd_latency_history(struct client *c)
{
    latency_reply_history(&c->obuf, c->argv[2], c->argvlen[2]);
}

void cmd_latency_graph(struct client *c)
{
    if (latency_reply_graph(&c->obuf, c->argv[2], c->argvlen[2]) < 0)
        reply_errorf(&c->obuf, "ERR No samples available for event '%.*s'",
                     arg_plen(c, 2) < 128 ? arg_plen(c, 2) : 128, c->argv[2]);
}

void cmd_latency_doctor(struct client *c)
{
    latency_reply_doctor(&c->obuf);
}

void cmd_latency_reset(struct client *c)
{
    int n = 0;
    if (c->argc == 2)
        n = latency_reset_all();
    for (int i = 2; i < c->argc; i++)
        n += latency_reset_event(c->argv[i], c->argvlen[i]);
    reply_long(&c->obuf, n);
}

/* One command's cumulative distribution, as Redis 7 gives it: calls, then
 * for each power of two of nanoseconds from 1024 up (keyed by that edge
 * minus one, in microseconds) the calls faster than it, where that count
 * grows. */
static void reply_latency_cdf(struct obuf *o, const struct command *cmd)
{
    uint64_t total = lathist_count(cmd->latency), prev = 0;
    int n = 0;
    reply_bulk_cstr(o, cmd->fullname);
    reply_map_len(o, 2);
    reply_bulk_cstr(o, "calls");
    reply_long(o, (long long)total);
    reply_bulk_cstr(o, "histogram_usec");
    for (uint64_t edge = 1024; prev < total && edge; edge <<= 1) {
        uint64_t below = lathist_count_below(cmd->latency, edge);
        if (below > prev)
            n++;
        prev = below;
    }
    reply_map_len(o, n);
    prev = 0;
    for (uint64_t edge = 1024; prev < total && edge; edge <<= 1) {
        uint64_t below = lathist_count_below(cmd->latency, edge);
        if (below > prev) {
            reply_long(o, (long long)((edge - 1) / 1000));
            reply_long(o, (long long)below);
        }
        prev = below;
    }
}

/* The command an argument of LATENCY HISTOGRAM names ("name", or
 * "container|sub" for a subcommand), or NULL. */
static const struct command *histogram_command(const struct client *c, int a)
{
    const char *bar = memchr(c->argv[a], '|', c->argvlen[a]);
    size_t head = bar ? (size_t)(bar - c->argv[a]) : c->argvlen[a];
    const struct command *cmd = commands_lookup(c->argv[a], head);
    if (cmd && bar)
        cmd = commands_lookup_sub(cmd, bar + 1, c->argvlen[a] - head - 1);
    return cmd;
}

/* Replies (pass 1) or counts a command and its subcommands, those that
 * have latencies. */
static int histogram_each(struct client *c, const struct command *cmd, int pass)
{
    int n = 0;
    for (int j = -1; j < cmd->nsub; j++) {
        const struct command *x = j < 0 ? cmd : &cmd->subcommands[j];
        if (lathist_count(x->latency) == 0)
            continue;
        if (pass == 1)
            reply_latency_cdf(&c->obuf, x);
        n++;
    }
    return n;
}

/* The named commands in the arguments' order (a container's name takes in
 * its subcommands; unknown names are skipped), or every command in the
 * table's order; only those that have latencies. */
void cmd_latency_histogram(struct client *c)
{
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        if (c->argc == 2) {
            for (int i = 0; i < commands_count(); i++)
                n += histogram_each(c, commands_at(i), pass);
        }
        for (int a = 2; a < c->argc; a++) {
            const struct command *cmd = histogram_command(c, a);
            if (cmd)
                n += histogram_each(c, cmd, pass);
        }
        if (pass == 0)
            reply_map_len(&c->obuf, n);
    }
}

void cmd_latency_help(struct client *c)
{
    static const char *const help[] = {
        "DOCTOR",
        "    Return a report of the recorded latency spikes, with advice.",
        "GRAPH <event>",
        "    Return an ASCII chart of the <event>'s samples.",
        "HISTORY <event>",
        "    Return the <event>'s samples: UNIX time and milliseconds, oldest first.",
        "LATEST",
        "    Return each event's newest sample and its all-time highest.",
        "RESET [<event> ...]",
        "    Forget the samples of the <event>s (of every event when none is given).",
        "HISTOGRAM [<command> ...]",
        "    Return the cumulative distribution of the latencies of the <command>s",
        "    (of every command called when none is given), in microseconds.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- MONITOR (server/monitor.h) ---- */

/* Inside EXEC a client waits for EXEC's own reply, so it cannot turn into
 * a monitor there (Redis' "DENY BLOCKING" refusal). Again: no reply. */
void cmd_monitor(struct client *c)
{
    if (multi_in_exec()) {
        reply_error(&c->obuf, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (monitor_add(c) == 0)
        reply_ok(&c->obuf);
}

/* ---- MEMORY USAGE ---- */

/* Redis 7.0's argument checks; SAMPLES matters only for aggregate types, so
 * it is checked and then unused. The figure is ks_usage's: what the key
 * takes in the engine, not in RAM (docs/server-core.md). */
void cmd_memory_usage(struct client *c)
{
    for (int j = 3; j < c->argc; j += 2) {         /* SAMPLES <count> pairs */
        long long n;
        if (!arg_is(c, j, "SAMPLES") || j + 1 >= c->argc) {
            reply_error(&c->obuf, SYNTAX_ERR);
            return;
        }
        if (!str_to_ll(c->argv[j + 1], c->argvlen[j + 1], &n)) {
            reply_error(&c->obuf, "ERR value is not an integer or out of range");
            return;
        }
        if (n < 0) {
            reply_error(&c->obuf, SYNTAX_ERR);
            return;
        }
    }
    uint64_t bytes = 0;
    int rc = ks_usage(c->db, c->argv[2], c->argvlen[2], &bytes);
    if (rc < 0)
        cmdarg_reply_ks_error(c, rc);
    else if (rc == 0)
        reply_null(&c->obuf);
    else
        reply_long(&c->obuf, (long long)bytes);
}

void cmd_memory_help(struct client *c)
{
    static const char *const help[] = {
        "USAGE <key> [SAMPLES <count>]",
        "    Return how many bytes <key> and its value take in the storage engine",
        "    (before compression). SAMPLES is accepted for compatibility.",
        NULL,
    };
    reply_help(c, help);
}

/* A server without replication is a master with no replicas at offset 0. */
void cmd_role(struct client *c)
{
    reply_array_len(&c->obuf, 3);
    reply_bulk_cstr(&c->obuf, "master");
    reply_long(&c->obuf, 0);
    reply_array_len(&c->obuf, 0);
}

void cmd_select(struct client *c)
{
    long long id;
    if (!str_to_ll(c->argv[1], c->argvlen[1], &id) || id < INT_MIN || id > INT_MAX) {
        reply_error(&c->obuf, "ERR value is not an integer or out of range");
        return;
    }
    if (id < 0 || id >= server_cfg.databases) {
        reply_error(&c->obuf, "ERR DB index is out of range");
        return;
    }
    c->db = (int)id;
    reply_ok(&c->obuf);
}

/* ---- AUTH HELLO ---- */

/* The only user is "default"; its password is requirepass (none = any
 * password is accepted, as for Redis' nopass default user). */
static int check_user_pass(const char *user, size_t ulen, const char *pass, size_t plen)
{
    if (ulen != 7 || memcmp(user, "default", 7) != 0)
        return 0;
    const char *rp = server_cfg.requirepass;
    if (!rp || !rp[0])
        return 1;
    size_t rlen = strlen(rp);
    /* Compare in time independent of where the first difference is. */
    unsigned char diff = (unsigned char)(rlen != plen);
    for (size_t i = 0; i < plen && i < rlen; i++)
        diff |= (unsigned char)(rp[i] ^ pass[i]);
    return diff == 0;
}

void cmd_auth(struct client *c)
{
    if (c->argc > 3) {
        reply_error(&c->obuf, SYNTAX_ERR);
        return;
    }
    const char *user = "default", *pass;
    size_t ulen = 7, plen;
    if (c->argc == 2) {
        if (!server_cfg.requirepass || !server_cfg.requirepass[0]) {
            reply_error(&c->obuf, "ERR AUTH <password> called without any password "
                                  "configured for the default user. Are you sure "
                                  "your configuration is correct?");
            return;
        }
        pass = c->argv[1];
        plen = c->argvlen[1];
    } else {
        user = c->argv[1];
        ulen = c->argvlen[1];
        pass = c->argv[2];
        plen = c->argvlen[2];
    }
    if (check_user_pass(user, ulen, pass, plen)) {
        c->authenticated = 1;
        reply_ok(&c->obuf);
    } else {
        reply_error(&c->obuf, "-WRONGPASS invalid username-password pair or user is disabled.");
    }
}

/* Redis' clientSetName rules: printable ASCII without spaces; "" clears. */
static int valid_client_name(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '!' || p[i] > '~')
            return 0;
    return 1;
}

static const char bad_name_err[] =
    "ERR Client names cannot contain spaces, newlines or special characters.";

static void set_client_name(struct client *c, const char *p, size_t n)
{
    zfree(c->name);
    c->name = n ? zmemdup(p, n) : NULL;
}

/* Redis' clearClientConnectionState: MULTI and WATCHes dropped, database
 * 0, RESP2, no name, no MONITOR, authenticated only if no password is set, CLIENT
 * REPLY on (a SKIP given just before still mutes this reply, as in
 * Redis). */
void cmd_reset(struct client *c)
{
    multi_client_gone(c->id);
    monitor_remove(c);
    c->db = 0;
    c->obuf.resp = 2;
    set_client_name(c, NULL, 0);
    c->authenticated = !(server_cfg.requirepass && server_cfg.requirepass[0]);
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
    c->obuf.muted = (c->flags & CLIENT_REPLY_SKIP) != 0;
    reply_status(&c->obuf, "RESET");
}

void cmd_hello(struct client *c)
{
    struct obuf *o = &c->obuf;
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!str_to_ll(c->argv[1], c->argvlen[1], &ver)) {
            reply_error(o, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            reply_error(o, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    int user_i = -1, name_i = -1;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(c, j, "AUTH") && more >= 2) {
            user_i = j + 1;
            j += 2;
        } else if (arg_is(c, j, "SETNAME") && more) {
            if (!valid_client_name(c->argv[j + 1], c->argvlen[j + 1])) {
                reply_error(o, bad_name_err);
                return;
            }
            name_i = j + 1;
            j++;
        } else {
            reply_errorf(o, "ERR Syntax error in HELLO option '%.*s'", arg_plen(c, j),
                         c->argv[j]);
            return;
        }
    }
    if (user_i > 0) {
        if (!check_user_pass(c->argv[user_i], c->argvlen[user_i], c->argv[user_i + 1],
                             c->argvlen[user_i + 1])) {
            reply_error(o, "-WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        c->authenticated = 1;
    }
    if (client_auth_required(c)) {
        reply_error(o, "-NOAUTH HELLO must be called with the client already "
                       "authenticated, otherwise the HELLO AUTH <user> <pass> "
                       "option can be used to authenticate the client and "
                       "select the RESP protocol version at the same time");
        return;
    }
    if (name_i > 0)
        set_client_name(c, c->argv[name_i], c->argvlen[name_i]);
    if (ver)
        o->resp = (int)ver;
    reply_map_len(o, 7);
    reply_bulk_cstr(o, "server");
    reply_bulk_cstr(o, "redis");
    reply_bulk_cstr(o, "version");
    reply_bulk_cstr(o, SERVER_REDIS_COMPAT_VERSION);
    reply_bulk_cstr(o, "proto");
    reply_long(o, o->resp);
    reply_bulk_cstr(o, "id");
    reply_long(o, (long long)c->id);
    reply_bulk_cstr(o, "mode");
    reply_bulk_cstr(o, "standalone");
    reply_bulk_cstr(o, "role");
    reply_bulk_cstr(o, "master");
    reply_bulk_cstr(o, "modules");
    reply_empty_array(o);
}

/* ---- SHUTDOWN ---- */

void cmd_shutdown(struct client *c)
{
    int nosave = 0, save = 0, now = 0, force = 0, abort_ = 0;
    for (int i = 1; i < c->argc; i++) {
        if (arg_is(c, i, "nosave"))
            nosave = 1;
        else if (arg_is(c, i, "save"))
            save = 1;
        else if (arg_is(c, i, "now"))
            now = 1;
        else if (arg_is(c, i, "force"))
            force = 1;
        else if (arg_is(c, i, "abort"))
            abort_ = 1;
        else {
            reply_error(&c->obuf, SYNTAX_ERR);
            return;
        }
    }
    if ((abort_ && (nosave || save || now || force)) || (nosave && save)) {
        reply_error(&c->obuf, SYNTAX_ERR);
        return;
    }
    if (abort_) {
        reply_error(&c->obuf, "ERR No shutdown in progress.");
        return;
    }
    /* Nothing is buffered in memory that SAVE would have to write: every
     * acknowledged write is already in the engine's log. The client gets no
     * reply; its connection closes with the server, as with Redis. */
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    server_request_shutdown();
}

/* ---- INFO ---- */

static void bytes_to_human(char *s, size_t len, unsigned long long n)
{
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(s, len, "%lluB", n);
        return;
    }
    double d = (double)n / 1024;
    int u = 0;
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    snprintf(s, len, "%.2f%c", d, units[u]);
}

static void info_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info_add(struct buf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    buf_append(b, line, (size_t)n);
    buf_append(b, "\r\n", 2);
}

static size_t rss_bytes(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp)
        return 0;
    unsigned long size = 0, resident = 0;
    int ok = fscanf(fp, "%lu %lu", &size, &resident) == 2;
    fclose(fp);
    return ok ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

static void info_server(struct buf *b)
{
    struct utsname un;
    uname(&un);
    int64_t up = server_uptime();
    info_add(b, "redis_version:%s", SERVER_REDIS_COMPAT_VERSION);
    info_add(b, "lsmdb_version:%s", PACKAGE_VERSION);
    info_add(b, "redis_mode:standalone");
    info_add(b, "os:%s %s %s", un.sysname, un.release, un.machine);
    info_add(b, "arch_bits:%d", (int)sizeof(long) * 8);
    info_add(b, "monotonic_clock:POSIX clock_gettime");
    info_add(b, "multiplexing_api:epoll");
#ifdef __GNUC__
    info_add(b, "gcc_version:%d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    info_add(b, "process_id:%ld", (long)getpid());
    info_add(b, "process_supervised:no");
    info_add(b, "run_id:%s", server.run_id);
    info_add(b, "tcp_port:%d", server_cfg.port);
    info_add(b, "server_time_usec:%lld", (long long)clock_us());
    info_add(b, "uptime_in_seconds:%lld", (long long)up);
    info_add(b, "uptime_in_days:%lld", (long long)(up / 86400));
    info_add(b, "hz:%d", server_cfg.hz);
    info_add(b, "configured_hz:%d", server_cfg.hz);
    info_add(b, "executable:%s", server.executable);
    info_add(b, "config_file:%s", server_cfg.configfile ? server_cfg.configfile : "");
    info_add(b, "io_threads_active:0");
}

static void info_clients(struct buf *b)
{
    info_add(b, "connected_clients:%d", server.nclients);
    info_add(b, "cluster_connections:0");
    info_add(b, "maxclients:%d", server_cfg.maxclients);
    info_add(b, "client_recent_max_input_buffer:%zu", server.recent_max_input_buffer);
    info_add(b, "client_recent_max_output_buffer:%zu", server.recent_max_output_buffer);
    info_add(b, "blocked_clients:0");
    info_add(b, "tracking_clients:0");
    info_add(b, "clients_in_timeout_table:0");
}

static void info_memory(struct buf *b)
{
    size_t used = zmalloc_used_memory();
    size_t rss = rss_bytes();
    if (used > server.peak_memory) {
        server.peak_memory = used;
        server.peak_memory_time_ms = clock_ms();
    }
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    unsigned long long total = pages > 0 && psize > 0 ?
        (unsigned long long)pages * (unsigned long long)psize : 0;
    char h1[32], h2[32], h3[32], h4[32];
    bytes_to_human(h1, sizeof(h1), used);
    bytes_to_human(h2, sizeof(h2), rss);
    bytes_to_human(h3, sizeof(h3), server.peak_memory);
    bytes_to_human(h4, sizeof(h4), total);
    info_add(b, "used_memory:%zu", used);
    info_add(b, "used_memory_human:%s", h1);
    info_add(b, "used_memory_rss:%zu", rss);
    info_add(b, "used_memory_rss_human:%s", h2);
    info_add(b, "used_memory_peak:%zu", server.peak_memory);
    info_add(b, "used_memory_peak_human:%s", h3);
    info_add(b, "used_memory_peak_perc:%.2f%%",
             server.peak_memory ? (double)used * 100 / (double)server.peak_memory : 0.0);
    info_add(b, "used_memory_startup:%zu", server.startup_memory);
    info_add(b, "total_system_memory:%llu", total);
    info_add(b, "total_system_memory_human:%s", h4);
    info_add(b, "mem_fragmentation_ratio:%.2f", used ? (double)rss / (double)used : 0.0);
    info_add(b, "maxmemory:0");                  /* the data is on disk: no limit */
    info_add(b, "maxmemory_human:0B");
    info_add(b, "maxmemory_policy:noeviction");  /* lsmdb evicts no key */
    info_add(b, "mem_allocator:%s", zmalloc_lib());
    ks_info_section("memory", b);   /* keyspace: block cache, memtables */
}

static void info_stats(struct buf *b)
{
    info_add(b, "total_connections_received:%" PRIu64, server.stat_numconnections);
    info_add(b, "total_commands_processed:%" PRIu64, server.stat_numcommands);
    info_add(b, "instantaneous_ops_per_sec:%lld",
             server_instantaneous_metric(METRIC_COMMAND));
    info_add(b, "total_net_input_bytes:%" PRIu64, server.stat_net_input_bytes);
    info_add(b, "total_net_output_bytes:%" PRIu64, server.stat_net_output_bytes);
    info_add(b, "instantaneous_input_kbps:%.2f",
             (double)server_instantaneous_metric(METRIC_NET_INPUT) / 1024);
    info_add(b, "instantaneous_output_kbps:%.2f",
             (double)server_instantaneous_metric(METRIC_NET_OUTPUT) / 1024);
    info_add(b, "rejected_connections:%" PRIu64, server.stat_rejected_conn);
    info_add(b, "expired_keys:%" PRIu64, ks_expired_keys());
    info_add(b, "evicted_keys:0");   /* lsmdb keeps every key (on disk) */
    info_add(b, "keyspace_hits:%" PRIu64, server.stat_keyspace_hits);
    info_add(b, "keyspace_misses:%" PRIu64, server.stat_keyspace_misses);
    info_add(b, "total_error_replies:%" PRIu64, server.stat_total_error_replies);
    info_add(b, "client_query_buffer_limit_disconnections:%zu",
             server.stat_client_qbuf_limit_disconnections);
    info_add(b, "client_output_buffer_limit_disconnections:%zu",
             server.stat_client_outbuf_limit_disconnections);
}

static void info_commandstat(struct buf *b, const struct command *c)
{
    if (c->calls == 0 && c->rejected_calls == 0 && c->failed_calls == 0)
        return;
    uint64_t usec = (uint64_t)((double)c->ticks / clock_ticks_per_us());
    info_add(b, "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64 ",usec_per_call=%.2f"
             ",rejected_calls=%" PRIu64 ",failed_calls=%" PRIu64, c->fullname, c->calls,
             usec, c->calls ? (double)usec / (double)c->calls : 0.0,
             c->rejected_calls, c->failed_calls);
}

/* fn for every command and subcommand, in table order. */
static void info_each_command(struct buf *b, void (*fn)(struct buf *, const struct command *))
{
    for (int i = 0; i < commands_count(); i++) {
        const struct command *c = commands_at(i);
        fn(b, c);
        for (int j = 0; j < c->nsub; j++)
            fn(b, &c->subcommands[j]);
    }
}

static void info_commandstats(struct buf *b)
{
    info_each_command(b, info_commandstat);
}

static void info_errorstats(struct buf *b)
{
    for (int i = 0; i < server.nerrorstats; i++)
        info_add(b, "errorstat_%s:count=%" PRIu64, server.errorstats[i].code,
                 server.errorstats[i].count);
}

static void info_latencystat(struct buf *b, const struct command *c)
{
    if (lathist_count(c->latency) == 0)
        return;
    char line[1024];                /* 16 percentiles of ~30 bytes at most */
    size_t n = (size_t)snprintf(line, sizeof line, "latency_percentiles_usec_%s:", c->fullname);
    for (int i = 0; i < server_cfg.latency_npct && n < sizeof line; i++) {
        char f[64];
        config_format_percentile(f, sizeof f, server_cfg.latency_pct[i]);
        n += (size_t)snprintf(line + n, sizeof line - n, "%sp%s=%.3f", i ? "," : "", f,
                              (double)lathist_percentile(c->latency, server_cfg.latency_pct[i]) /
                                  1000.0);
    }
    info_add(b, "%s", line);
}

/* Redis 7's latencystats: the chosen percentiles of each command's
 * latency (its handler's run), in microseconds. */
static void info_latencystats(struct buf *b)
{
    info_each_command(b, info_latencystat);
}

static void info_replication(struct buf *b)
{
    info_add(b, "role:master");
    info_add(b, "connected_slaves:0");
}

static void info_cpu(struct buf *b)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    info_add(b, "used_cpu_sys:%ld.%06ld", (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec);
    info_add(b, "used_cpu_user:%ld.%06ld", (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec);
    info_add(b, "used_cpu_sys_children:%ld.%06ld", (long)children.ru_stime.tv_sec,
             (long)children.ru_stime.tv_usec);
    info_add(b, "used_cpu_user_children:%ld.%06ld", (long)children.ru_utime.tv_sec,
             (long)children.ru_utime.tv_usec);
}

static void info_cluster(struct buf *b)
{
    info_add(b, "cluster_enabled:0");
}

/* keyspace: the sections whose figures live in the keyspace layer. */
static void info_keyspace(struct buf *b)
{
    ks_info_section("keyspace", b);
}

static void info_persistence(struct buf *b)
{
    ks_info_section("persistence", b);
}

static void info_lsm(struct buf *b)
{
    ks_info_section("lsm", b);
}

/* Redis 7's order; commandstats only on request or with all/everything. */
static const struct {
    const char *name;
    const char *title;
    void (*fn)(struct buf *b);
    int in_default;
} info_sections[] = {
    { "server", "Server", info_server, 1 },
    { "clients", "Clients", info_clients, 1 },
    { "memory", "Memory", info_memory, 1 },
    { "persistence", "Persistence", info_persistence, 1 },
    { "stats", "Stats", info_stats, 1 },
    { "replication", "Replication", info_replication, 1 },
    { "cpu", "CPU", info_cpu, 1 },
    { "commandstats", "Commandstats", info_commandstats, 0 },
    { "errorstats", "Errorstats", info_errorstats, 1 },
    { "latencystats", "Latencystats", info_latencystats, 0 },
    { "cluster", "Cluster", info_cluster, 1 },
    { "keyspace", "Keyspace", info_keyspace, 1 },
    { "lsm", "LSM", info_lsm, 1 },
};
#define NSECTIONS ((int)(sizeof(info_sections) / sizeof(info_sections[0])))

void cmd_info(struct client *c)
{
    int want[NSECTIONS];
    int all = 0, dflt = c->argc == 1;
    memset(want, 0, sizeof(want));
    for (int i = 1; i < c->argc; i++) {
        if (arg_is(c, i, "all") || arg_is(c, i, "everything")) {
            all = 1;
            continue;
        }
        if (arg_is(c, i, "default")) {
            dflt = 1;
            continue;
        }
        for (int s = 0; s < NSECTIONS; s++)
            if (arg_is(c, i, info_sections[s].name))
                want[s] = 1;
    }
    struct buf b = BUF_INIT;
    int emitted = 0;
    for (int s = 0; s < NSECTIONS; s++) {
        if (!all && !want[s] && !(dflt && info_sections[s].in_default))
            continue;
        if (emitted++)
            buf_append(&b, "\r\n", 2);
        info_add(&b, "# %s", info_sections[s].title);
        info_sections[s].fn(&b);
    }
    reply_verbatim(&c->obuf, b.data ? b.data : "", b.len, "txt");
    buf_free(&b);
}

/* ---- CLIENT ---- */

void cmd_client_id(struct client *c)
{
    reply_long(&c->obuf, (long long)c->id);
}

void cmd_client_getname(struct client *c)
{
    if (c->name)
        reply_bulk_cstr(&c->obuf, c->name);
    else
        reply_null(&c->obuf);
}

void cmd_client_setname(struct client *c)
{
    if (!valid_client_name(c->argv[2], c->argvlen[2])) {
        reply_error(&c->obuf, bad_name_err);
        return;
    }
    set_client_name(c, c->argv[2], c->argvlen[2]);
    reply_ok(&c->obuf);
}

/* Redis' getClientTypeByName: 0 normal, 1 replica, 2 pubsub, 3 master. */
static int client_type_by_name(const char *p, size_t n)
{
    static const char *const names[] = { "normal", "slave", "replica", "pubsub", "master" };
    static const int types[] = { 0, 1, 1, 2, 3 };
    for (int i = 0; i < 5; i++)
        if (strlen(names[i]) == n && !strncasecmp(names[i], p, n))
            return types[i];
    return -1;
}

/* One line of CLIENT INFO / CLIENT LIST. */
static void client_line(struct buf *b, struct client *cl)
{
    client_info_string(cl, b);
    buf_append(b, "\n", 1);
}

/* Replies the lines in b (a verbatim string) and frees b. */
static void reply_client_lines(struct client *c, struct buf *b)
{
    reply_verbatim(&c->obuf, b->data ? b->data : "", b->len, "txt");
    buf_free(b);
}

void cmd_client_info(struct client *c)
{
    struct buf b = BUF_INIT;
    client_line(&b, c);
    reply_client_lines(c, &b);
}

void cmd_client_list(struct client *c)
{
    struct buf b = BUF_INIT;
    int type = -1;
    if (c->argc == 4 && arg_is(c, 2, "type")) {
        type = client_type_by_name(c->argv[3], c->argvlen[3]);
        if (type == -1) {
            reply_errorf(&c->obuf, "ERR Unknown client type '%.*s'", arg_plen(c, 3),
                         c->argv[3]);
            return;
        }
    } else if (c->argc > 3 && arg_is(c, 2, "id")) {
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!str_to_ll(c->argv[j], c->argvlen[j], &id)) {
                buf_free(&b);
                reply_error(&c->obuf, "ERR Invalid client ID");
                return;
            }
            struct client *cl = client_by_id((uint64_t)id);
            if (cl)
                client_line(&b, cl);
        }
        reply_client_lines(c, &b);
        return;
    } else if (c->argc != 2) {
        reply_error(&c->obuf, SYNTAX_ERR);
        return;
    }
    /* Every client here is a normal one. Oldest first, like Redis. */
    if (type == -1 || type == 0) {
        struct client *last = server.clients;
        while (last && last->next)
            last = last->next;
        for (struct client *cl = last; cl; cl = cl->prev)
            client_line(&b, cl);
    }
    reply_client_lines(c, &b);
}

struct kill_filter {
    char *addr, *laddr;
    int type;
    uint64_t id;
    int skipme;
    int user_default;    /* USER default given (matches everyone) */
};

static int kill_parse(struct client *c, struct kill_filter *f)
{
    for (int i = 2; i < c->argc; i += 2) {
        int more = c->argc > i + 1;
        if (arg_is(c, i, "id") && more) {
            long long id;
            if (!str_to_ll(c->argv[i + 1], c->argvlen[i + 1], &id) || id < 1) {
                reply_error(&c->obuf, "ERR client-id should be greater than 0");
                return -1;
            }
            f->id = (uint64_t)id;
        } else if (arg_is(c, i, "type") && more) {
            f->type = client_type_by_name(c->argv[i + 1], c->argvlen[i + 1]);
            if (f->type == -1) {
                reply_errorf(&c->obuf, "ERR Unknown client type '%.*s'",
                             arg_plen(c, i + 1), c->argv[i + 1]);
                return -1;
            }
        } else if (arg_is(c, i, "addr") && more) {
            zfree(f->addr);
            f->addr = arg_dup(c, i + 1);
        } else if (arg_is(c, i, "laddr") && more) {
            zfree(f->laddr);
            f->laddr = arg_dup(c, i + 1);
        } else if (arg_is(c, i, "user") && more) {
            if (!(c->argvlen[i + 1] == 7 && !memcmp(c->argv[i + 1], "default", 7))) {
                reply_errorf(&c->obuf, "ERR No such user '%.*s'", arg_plen(c, i + 1),
                             c->argv[i + 1]);
                return -1;
            }
            f->user_default = 1;
        } else if (arg_is(c, i, "skipme") && more) {
            if (arg_is(c, i + 1, "yes"))
                f->skipme = 1;
            else if (arg_is(c, i + 1, "no"))
                f->skipme = 0;
            else {
                reply_error(&c->obuf, SYNTAX_ERR);
                return -1;
            }
        } else {
            reply_error(&c->obuf, SYNTAX_ERR);
            return -1;
        }
    }
    return 0;
}

void cmd_client_kill(struct client *c)
{
    struct kill_filter f = { NULL, NULL, -1, 0, 1, 0 };
    int old_form = c->argc == 3;
    if (old_form) {
        f.addr = arg_dup(c, 2);
        f.skipme = 0;   /* the old form may kill the caller itself */
    } else if (kill_parse(c, &f) < 0) {
        zfree(f.addr);
        zfree(f.laddr);
        return;
    }
    long long killed = 0;
    struct client *cl = server.clients;
    while (cl) {
        struct client *next = cl->next;
        int match = !(f.addr && strcmp(cl->addr, f.addr) != 0) &&
                    !(f.laddr && strcmp(client_laddr(cl), f.laddr) != 0) &&
                    !(f.type != -1 && f.type != 0) &&
                    !(f.id != 0 && cl->id != f.id) &&
                    !(cl == c && f.skipme) &&
                    !(cl->flags & CLIENT_CLOSE_ASAP);
        if (match) {
            if (cl == c)
                c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            else
                client_free(cl);
            killed++;
        }
        cl = next;
    }
    if (old_form) {
        if (killed == 0)
            reply_error(&c->obuf, "ERR No such client");
        else
            reply_ok(&c->obuf);
    } else {
        reply_long(&c->obuf, killed);
    }
    zfree(f.addr);
    zfree(f.laddr);
}

void cmd_client_reply(struct client *c)
{
    if (arg_is(c, 2, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        c->obuf.muted = 0;
        reply_ok(&c->obuf);
    } else if (arg_is(c, 2, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
        c->obuf.muted = 1;
    } else if (arg_is(c, 2, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF))
            c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_error(&c->obuf, SYNTAX_ERR);
    }
}

/* CLIENT NO-EVICT ON|OFF: the flag (CLIENT LIST's "e"). lsmdb never
 * evicts clients for memory (there is no maxmemory-clients), so it only
 * shows. */
void cmd_client_no_evict(struct client *c)
{
    if (cmdarg_opt_is(c, 2, "on"))
        c->flags |= CLIENT_NO_EVICT;
    else if (cmdarg_opt_is(c, 2, "off"))
        c->flags &= ~CLIENT_NO_EVICT;
    else {
        reply_error(&c->obuf, SYNTAX_ERR);
        return;
    }
    reply_ok(&c->obuf);
}

/* Client-side caching (CLIENT TRACKING) is not offered, so tracking is
 * never on: these answer what Redis answers for a connection without it. */
void cmd_client_getredir(struct client *c)
{
    reply_long(&c->obuf, -1);
}

void cmd_client_trackinginfo(struct client *c)
{
    reply_map_len(&c->obuf, 3);
    reply_bulk_cstr(&c->obuf, "flags");
    reply_set_len(&c->obuf, 1);
    reply_bulk_cstr(&c->obuf, "off");
    reply_bulk_cstr(&c->obuf, "redirect");
    reply_long(&c->obuf, -1);
    reply_bulk_cstr(&c->obuf, "prefixes");
    reply_array_len(&c->obuf, 0);
}

void cmd_client_caching(struct client *c)
{
    reply_error(&c->obuf, "ERR CLIENT CACHING can be called only when the client is in "
                          "tracking mode with OPTIN or OPTOUT mode enabled");
}

/* No command blocks a client here (no BLPOP, WAIT or CLIENT PAUSE), so
 * there is never one to unblock: 0 once the arguments are right (Redis
 * checks the reason first, then the id). */
void cmd_client_unblock(struct client *c)
{
    long long id;
    if (c->argc > 4) {
        reply_subcommand_syntax(c);
        return;
    }
    if (c->argc == 4 && !cmdarg_opt_is(c, 3, "timeout") && !cmdarg_opt_is(c, 3, "error")) {
        reply_error(&c->obuf, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
    }
    if (cmdarg_ll(c, 2, &id))
        reply_long(&c->obuf, 0);
}

/* Nothing pauses clients here: resuming them is done at once. */
void cmd_client_unpause(struct client *c)
{
    reply_ok(&c->obuf);
}

void cmd_client_help(struct client *c)
{
    static const char *const help[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "NO-EVICT (ON|OFF)",
        "    Mark the current connection as one never evicted (lsmdb evicts none).",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the client <clientid> (nothing blocks in lsmdb: always 0).",
        "UNPAUSE",
        "    Resume paused clients (nothing pauses in lsmdb).",
        "GETREDIR, TRACKINGINFO, CACHING",
        "    Client-side caching: not offered, so tracking is always off.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- COMMAND ---- */

void cmd_command(struct client *c)
{
    int n = commands_count();
    reply_array_len(&c->obuf, n);
    for (int i = 0; i < n; i++)
        commands_reply_info(&c->obuf, commands_at(i));
}

void cmd_command_count(struct client *c)
{
    reply_long(&c->obuf, commands_count());
}

void cmd_command_info(struct client *c)
{
    if (c->argc == 2) {
        cmd_command(c);
        return;
    }
    reply_array_len(&c->obuf, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        commands_reply_info(&c->obuf, commands_lookup_fullname(c->argv[i], c->argvlen[i]));
}

void cmd_command_docs(struct client *c)
{
    struct obuf *o = &c->obuf;
    if (c->argc == 2) {
        int n = commands_count();
        reply_map_len(o, n);
        for (int i = 0; i < n; i++) {
            struct command *cmd = commands_at(i);
            reply_bulk_cstr(o, cmd->fullname);
            commands_reply_docs(o, cmd);
        }
        return;
    }
    void *h = reply_defer_len(o);
    long long found = 0;
    for (int i = 2; i < c->argc; i++) {
        struct command *cmd = commands_lookup_fullname(c->argv[i], c->argvlen[i]);
        if (!cmd)
            continue;
        reply_bulk_cstr(o, cmd->fullname);
        commands_reply_docs(o, cmd);
        found++;
    }
    reply_set_defer_len(o, h, found, REPLY_MAP);
}

enum { LIST_ALL, LIST_MODULE, LIST_ACLCAT, LIST_PATTERN };

static int list_match(const struct command *cmd, int type, const char *arg, size_t len,
                      uint32_t cat)
{
    switch (type) {
    case LIST_MODULE:
        return 0;   /* no modules */
    case LIST_ACLCAT:
        return cat && (cmd->acl & cat);
    case LIST_PATTERN:
        return glob_match(arg, len, cmd->fullname, strlen(cmd->fullname), 1);
    default:
        return 1;
    }
}

void cmd_command_list(struct client *c)
{
    int type = LIST_ALL;
    const char *arg = NULL;
    size_t arglen = 0;
    for (int i = 2; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        if (arg_is(c, i, "filterby") && more == 2) {
            if (arg_is(c, i + 1, "module"))
                type = LIST_MODULE;
            else if (arg_is(c, i + 1, "aclcat"))
                type = LIST_ACLCAT;
            else if (arg_is(c, i + 1, "pattern"))
                type = LIST_PATTERN;
            else {
                reply_error(&c->obuf, SYNTAX_ERR);
                return;
            }
            arg = c->argv[i + 2];
            arglen = c->argvlen[i + 2];
            i += 2;
        } else {
            reply_error(&c->obuf, SYNTAX_ERR);
            return;
        }
    }
    uint32_t cat = type == LIST_ACLCAT ? commands_acl_by_name(arg, arglen) : 0;
    void *h = reply_defer_len(&c->obuf);
    long long n = 0;
    for (int i = 0; i < commands_count(); i++) {
        struct command *cmd = commands_at(i);
        if (list_match(cmd, type, arg, arglen, cat)) {
            reply_bulk_cstr(&c->obuf, cmd->fullname);
            n++;
        }
        for (int j = 0; j < cmd->nsub; j++) {
            if (list_match(&cmd->subcommands[j], type, arg, arglen, cat)) {
                reply_bulk_cstr(&c->obuf, cmd->subcommands[j].fullname);
                n++;
            }
        }
    }
    reply_set_defer_len(&c->obuf, h, n, REPLY_ARRAY);
}

void cmd_command_getkeys(struct client *c)
{
    struct command *container;
    struct command *cmd = commands_lookup_argv(c->argc - 2, c->argv + 2, c->argvlen + 2,
                                               &container);
    if (!cmd) {
        reply_error(&c->obuf, "ERR Invalid command specified");
        return;
    }
    /* Redis' getKeysSubcommandImpl, keys found by commands_get_keys(). */
    if (!commands_has_keys(cmd)) {
        reply_error(&c->obuf, "ERR The command has no key arguments");
        return;
    }
    int argc = c->argc - 2;
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_error(&c->obuf, "ERR Invalid number of arguments specified for command");
        return;
    }
    struct cmd_key_ref *keys = zmalloc(sizeof(*keys) * (size_t)argc);
    int n = commands_get_keys(cmd, argc, c->argv + 2, c->argvlen + 2, keys);
    if (n <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            reply_array_len(&c->obuf, 0);
        else
            reply_error(&c->obuf, "ERR Invalid arguments specified for command");
        zfree(keys);
        return;
    }
    static const char *const kflag[] = { "RO", "RW", "OW", "RM", "access", "update",
                                         "insert", "delete", "not_key", "incomplete",
                                         "variable_flags" };
    int with_flags = strcmp(c->cmd->name, "getkeysandflags") == 0;
    reply_array_len(&c->obuf, n);
    for (int i = 0; i < n; i++) {
        const char *k = c->argv[2 + keys[i].pos];
        size_t klen = c->argvlen[2 + keys[i].pos];
        if (!with_flags) {
            reply_bulk(&c->obuf, k, klen);
            continue;
        }
        reply_array_len(&c->obuf, 2);
        reply_bulk(&c->obuf, k, klen);
        int nf = 0;
        for (int b = 0; b < 11; b++)
            nf += (keys[i].flags >> b) & 1;
        reply_set_len(&c->obuf, nf);
        for (int b = 0; b < 11; b++)
            if (keys[i].flags & (1u << b))
                reply_status(&c->obuf, kflag[b]);
    }
    zfree(keys);
}

void cmd_command_help(struct client *c)
{
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full command.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- CONFIG ---- */

struct config_get_ctx {
    struct obuf *o;
    long long n;
    int npats;
    char **pats;
};

static void config_get_cb(const char *name, const char *value, void *arg)
{
    struct config_get_ctx *ctx = arg;
    /* Redis 7.0 echoes a name given without glob characters as it was
     * typed ("CONFIG GET MAXCLIENTS" answers "MAXCLIENTS"). */
    for (int i = 0; i < ctx->npats; i++) {
        if (!strpbrk(ctx->pats[i], "[*?") && !strcasecmp(ctx->pats[i], name)) {
            name = ctx->pats[i];
            break;
        }
    }
    reply_bulk_cstr(ctx->o, name);
    reply_bulk_cstr(ctx->o, value);
    ctx->n++;
}

void cmd_config_get(struct client *c)
{
    int np = c->argc - 2;
    char **pats = zmalloc(sizeof(char *) * (size_t)np);
    for (int i = 0; i < np; i++)
        pats[i] = arg_dup(c, i + 2);
    struct config_get_ctx ctx = { &c->obuf, 0, np, pats };
    void *h = reply_defer_len(&c->obuf);
    config_get(np, (const char *const *)pats, config_get_cb, &ctx);
    reply_set_defer_len(&c->obuf, h, ctx.n, REPLY_MAP);
    for (int i = 0; i < np; i++)
        zfree(pats[i]);
    zfree(pats);
}

void cmd_config_set(struct client *c)
{
    if (c->argc < 4 || c->argc % 2) {
        reply_errorf(&c->obuf, "ERR wrong number of arguments for '%s' command",
                     c->cmd->fullname);
        return;
    }
    int n = c->argc - 2;
    char **args = zmalloc(sizeof(char *) * (size_t)n);
    for (int i = 0; i < n; i++)
        args[i] = arg_dup(c, i + 2);
    char err[CONFIG_ERR_LEN];
    if (config_set(n / 2, (const char *const *)args, err, sizeof(err)) == 0)
        reply_ok(&c->obuf);
    else
        reply_errorf(&c->obuf, "ERR %s", err);
    for (int i = 0; i < n; i++)
        zfree(args[i]);
    zfree(args);
}

void cmd_config_resetstat(struct client *c)
{
    server_reset_stats();
    reply_ok(&c->obuf);
}

void cmd_config_rewrite(struct client *c)
{
    if (!server_cfg.configfile) {
        reply_error(&c->obuf, "ERR The server is running without a config file");
        return;
    }
    char err[CONFIG_ERR_LEN];
    if (config_rewrite(err, sizeof(err)) < 0) {
        log_warning("CONFIG REWRITE failed: %s", err);
        reply_errorf(&c->obuf, "ERR %s", err);
        return;
    }
    log_notice("CONFIG REWRITE executed with success.");
    reply_ok(&c->obuf);
}

void cmd_config_help(struct client *c)
{
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    reply_help(c, help);
}
