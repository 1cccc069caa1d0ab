/* server: global state, cron, run and shutdown (see server.h). */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/ae.h"
#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/keyspace_server.h"
#include "server/migrate.h"
#include "server/reply.h"
#include "server/slowlog.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/zmalloc.h"

struct server server;

#define FDSET_RESERVE 128   /* fds beyond maxclients: listeners, files, ... */

static void gen_run_id(char out[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[20];
    int ok = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ok = read(fd, rnd, sizeof(rnd)) == (ssize_t)sizeof(rnd);
        close(fd);
    }
    if (!ok) {
        uint64_t x = (uint64_t)clock_us() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < sizeof(rnd); i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            rnd[i] = (unsigned char)(x >> 56);
        }
    }
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[40] = '\0';
}

/* ---- metrics ---- */

static void track_metric(enum server_metric m, uint64_t current, int64_t now_ms)
{
    struct server_metric_state *s = &server.metrics[m];
    int64_t t = now_ms - s->last_sample_ms;
    if (s->last_sample_ms != 0 && t > 0) {
        uint64_t ops = current - s->last_sample_count;
        s->samples[s->idx] = ops * 1000 / (uint64_t)t;
        s->idx = (s->idx + 1) % SERVER_METRIC_SAMPLES;
    }
    s->last_sample_ms = now_ms;
    s->last_sample_count = current;
}

long long server_instantaneous_metric(enum server_metric m)
{
    uint64_t sum = 0;
    for (int i = 0; i < SERVER_METRIC_SAMPLES; i++)
        sum += server.metrics[m].samples[i];
    return (long long)(sum / SERVER_METRIC_SAMPLES);
}

void server_reset_stats(void)
{
    server.stat_numconnections = 0;
    server.stat_numcommands = 0;
    server.stat_net_input_bytes = 0;
    server.stat_net_output_bytes = 0;
    server.stat_rejected_conn = 0;
    server.stat_unexpected_error_replies = 0;
    server.stat_total_error_replies = 0;
    server.stat_keyspace_hits = 0;
    server.stat_keyspace_misses = 0;
    ks_reset_expired_keys();        /* kept by the keyspace, which expires keys */
    server.nerrorstats = 0;
    server.stat_client_qbuf_limit_disconnections = 0;
    server.stat_client_outbuf_limit_disconnections = 0;
    memset(server.metrics, 0, sizeof(server.metrics));
    commands_reset_stats();
}

void server_count_lookup(int rc)
{
    if (rc > 0)
        server.stat_keyspace_hits++;
    else if (rc == 0)
        server.stat_keyspace_misses++;
}

void server_count_error(const char *msg, size_t n)
{
    /* Like Redis' afterErrorReply: the kind is the text before the first
     * space within 32 bytes, else "ERR". */
    const char *sp = memchr(msg, ' ', n < 32 ? n : 32);
    const char *code = sp ? msg : "ERR";
    size_t len = sp ? (size_t)(sp - msg) : 3;
    server.stat_total_error_replies++;
    for (int i = 0; i < server.nerrorstats; i++) {
        if (strlen(server.errorstats[i].code) == len &&
            memcmp(server.errorstats[i].code, code, len) == 0) {
            server.errorstats[i].count++;
            return;
        }
    }
    if (server.nerrorstats == SERVER_ERRORSTATS_MAX)
        return;
    memcpy(server.errorstats[server.nerrorstats].code, code, len);
    server.errorstats[server.nerrorstats].code[len] = '\0';
    server.errorstats[server.nerrorstats].count = 1;
    server.nerrorstats++;
}

int64_t server_uptime(void)
{
    return (clock_mono_ms() - server.start_mono_ms) / 1000;
}

/* ---- cron ---- */

static int64_t server_cron(struct ae_loop *loop, int64_t id, void *data)
{
    (void)loop;
    (void)id;
    (void)data;
    int64_t now = server.mono_ms = clock_mono_ms();
    server.cron_loops++;

    /* Instantaneous metrics, sampled every 100 ms like Redis. */
    if (now - server.metrics[METRIC_COMMAND].last_sample_ms >= 100) {
        track_metric(METRIC_COMMAND, server.stat_numcommands, now);
        track_metric(METRIC_NET_INPUT, server.stat_net_input_bytes, now);
        track_metric(METRIC_NET_OUTPUT, server.stat_net_output_bytes, now);
    }

    size_t used = zmalloc_used_memory();
    if (used > server.peak_memory) {
        server.peak_memory = used;
        server.peak_memory_time_ms = clock_ms();
    }

    /* The "recent" maxima cover the last few seconds, as in Redis. */
    if (server.cron_loops % (uint64_t)(server_cfg.hz * 5 > 0 ? server_cfg.hz * 5 : 1) == 0) {
        server.recent_max_input_buffer = 0;
        server.recent_max_output_buffer = 0;
    }
    ks_server_cron();   /* keyspace: active expiry, everysec, write-error recovery */
    migrate_cron();     /* MIGRATE's idle connections */
    struct client *c = server.clients;
    while (c) {
        struct client *next = c->next;
        client_cron(c, now);
        c = next;
    }

    if (server.shutdown_signal && !server.shutdown_asap) {
        log_warning("Received %s scheduling shutdown...",
                    server.shutdown_signal == SIGINT ? "SIGINT" : "SIGTERM");
        server_request_shutdown();
    }
    int hz = server_cfg.hz > 0 ? server_cfg.hz : 10;
    return 1000 / hz;
}

/* Runs before every epoll_wait: close what must close, write what is
 * pending (Redis' handleClientsWithPendingWrites), stop on shutdown. */
static void before_sleep(struct ae_loop *loop)
{
    ks_server_before_sleep();   /* keyspace: group commit before replies go out */
    client_free_closing();
    client_handle_pending_writes();
    client_free_closing();
    if (server.shutdown_signal && !server.shutdown_asap) {
        log_warning("Received %s scheduling shutdown...",
                    server.shutdown_signal == SIGINT ? "SIGINT" : "SIGTERM");
        server_request_shutdown();
    }
    if (server.shutdown_asap)
        ae_stop(loop);
}

static void after_sleep(struct ae_loop *loop)
{
    (void)loop;
    server.mono_ms = clock_mono_ms();
}

void server_request_shutdown(void)
{
    server.shutdown_asap = 1;
    if (server.loop)
        ae_stop(server.loop);
}

/* ---- pidfile ---- */

int server_write_pidfile(void)
{
    if (!server_cfg.pidfile || !server_cfg.pidfile[0])
        return 0;
    FILE *fp = fopen(server_cfg.pidfile, "w");
    if (!fp)
        return -errno;
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
    server.pidfile_written = 1;
    return 0;
}

void server_remove_pidfile(void)
{
    if (server.pidfile_written && server_cfg.pidfile && server_cfg.pidfile[0]) {
        log_notice("Removing the pid file.");
        unlink(server_cfg.pidfile);
        server.pidfile_written = 0;
    }
}

/* ---- init / run / shutdown ---- */

static int add_tcp_handlers(void)
{
    for (int i = 0; i < server.listeners.tcp_count; i++)
        if (ae_add_file(server.loop, server.listeners.tcp_fds[i], AE_READABLE,
                        client_accept_handler, NULL) < 0)
            return -1;
    return 0;
}

static int open_listeners(void)
{
    char err[CONFIG_ERR_LEN];
    server.listeners.unix_fd = -1;
    if (net_listen_tcp(&server_cfg, &server.listeners, err, sizeof(err)) < 0) {
        log_warning("Warning: %s", err);
        log_warning("Failed listening on port %d (TCP), aborting.", server_cfg.port);
        return -1;
    }
    if (add_tcp_handlers() < 0) {
        log_warning("Unrecoverable error creating TCP socket accept handler.");
        return -1;
    }
    if (server_cfg.unixsocket && server_cfg.unixsocket[0]) {
        int fd = net_listen_unix(server_cfg.unixsocket, server_cfg.unixsocketperm,
                                 server_cfg.tcp_backlog, err, sizeof(err));
        if (fd < 0) {
            log_warning("%s", err);
            return -1;
        }
        server.listeners.unix_fd = fd;
        if (ae_add_file(server.loop, fd, AE_READABLE, client_accept_handler,
                        (void *)1) < 0) {
            log_warning("Unrecoverable error creating unix socket accept handler.");
            return -1;
        }
    }
    if (server.listeners.tcp_count == 0 && server.listeners.unix_fd < 0) {
        log_warning("Configured to not listen anywhere, exiting.");
        return -1;
    }
    return 0;
}

/* CONFIG SET port / bind: close the TCP listeners, then listen again with
 * the new values, like Redis' changeListenPort/changeBindAddr. On failure
 * config rolls the values back and calls this again to restore them. */
static int relisten(char *err, size_t errlen, const char *msg)
{
    for (int i = 0; i < server.listeners.tcp_count; i++) {
        ae_del_file(server.loop, server.listeners.tcp_fds[i], AE_READABLE);
        close(server.listeners.tcp_fds[i]);
    }
    server.listeners.tcp_count = 0;
    char reason[CONFIG_ERR_LEN];
    int rc = net_listen_tcp(&server_cfg, &server.listeners, reason, sizeof(reason));
    if (rc < 0) {
        log_warning("%s", reason);
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    if (add_tcp_handlers() < 0) {
        snprintf(err, errlen, "Unrecoverable error creating TCP socket accept handler");
        return -1;
    }
    return 0;
}

/* Redis' reply texts for each directive. */
static int apply_port(char *err, size_t errlen)
{
    return relisten(err, errlen, "Unable to listen on this port. Check server logs.");
}

static int apply_bind(char *err, size_t errlen)
{
    return relisten(err, errlen, "Failed to bind to specified addresses.");
}

/* maxclients may grow at run time: keep the loop's fd table big enough. */
static void adjust_open_files_limit(void);

static int apply_maxclients(char *err, size_t errlen)
{
    int asked = server_cfg.maxclients;
    adjust_open_files_limit();
    if (server_cfg.maxclients != asked) {
        snprintf(err, errlen, "The operating system is not able to handle the "
                              "specified number of clients, try with %d",
                 server_cfg.maxclients);
        return -1;
    }
    int want = server_cfg.maxclients + FDSET_RESERVE;
    if (want > ae_get_setsize(server.loop) && ae_resize(server.loop, want) < 0) {
        snprintf(err, errlen, "The event loop API used by lsmdb is not able to "
                              "handle the specified number of clients");
        return -1;
    }
    return 0;
}

/* Redis' adjustOpenFilesLimit: raise RLIMIT_NOFILE to what maxclients
 * needs; when that is refused, take what the hard limit allows, serve fewer
 * clients and say so. */
static void adjust_open_files_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)server_cfg.maxclients + FDSET_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    struct rlimit nl = { want, want > rl.rlim_max ? want : rl.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &nl) == 0) {
        log_notice("Increased maximum number of open files to %llu (it was originally "
                   "set to %llu).", (unsigned long long)want, (unsigned long long)old);
        return;
    }
    int e = errno;
    nl.rlim_cur = nl.rlim_max = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &nl) < 0)
        nl.rlim_cur = old;
    int maxclients = nl.rlim_cur > FDSET_RESERVE ? (int)(nl.rlim_cur - FDSET_RESERVE) : 1;
    log_warning("You requested maxclients of %d requiring at least %llu max file "
                "descriptors.", server_cfg.maxclients, (unsigned long long)want);
    log_warning("Server can't set maximum open files to %llu because of OS error: %s.",
                (unsigned long long)want, strerror(e));
    log_warning("Current maximum open files is %llu. maxclients has been reduced to %d "
                "to compensate for low ulimit. If you need higher maxclients increase "
                "'ulimit -n'.", (unsigned long long)nl.rlim_cur, maxclients);
    server_cfg.maxclients = maxclients;
}

/* Redis' checkTcpBacklogSettings. */
static void check_tcp_backlog(void)
{
    FILE *fp = fopen("/proc/sys/net/core/somaxconn", "r");
    if (!fp)
        return;
    int somaxconn = 0;
    if (fscanf(fp, "%d", &somaxconn) == 1 && somaxconn > 0 &&
        somaxconn < server_cfg.tcp_backlog)
        log_warning("WARNING: The TCP backlog setting of %d cannot be enforced because "
                    "/proc/sys/net/core/somaxconn is set to the lower value of %d.",
                    server_cfg.tcp_backlog, somaxconn);
    fclose(fp);
}

int server_init(void)
{
    server.start_ms = clock_ms();
    server.start_mono_ms = clock_mono_ms();
    server.next_client_id = 1;
    server.listeners.unix_fd = -1;
    gen_run_id(server.run_id);
    commands_init();
    reply_set_error_hook(server_count_error);
    (void)clock_ticks_per_us();     /* calibrate now, not in the first INFO */
    adjust_open_files_limit();

    server.loop = ae_create(server_cfg.maxclients + FDSET_RESERVE);
    if (!server.loop) {
        log_warning("Failed creating the event loop. Error message: '%s'",
                    strerror(errno));
        return -1;
    }
    check_tcp_backlog();
    config_register_apply("maxclients", apply_maxclients);
    config_register_apply("port", apply_port);
    config_register_apply("bind", apply_bind);
    char kerr[512];   /* keyspace: open the database before accepting clients */
    if (ks_server_open(kerr, sizeof(kerr)) != 0) {
        log_warning("%s", kerr);
        return -1;
    }
    if (open_listeners() < 0)
        return -1;
    ae_set_before_sleep(server.loop, before_sleep);
    ae_set_after_sleep(server.loop, after_sleep);
    server.mono_ms = clock_mono_ms();
    server.cron_id = ae_add_timer(server.loop, 1, server_cron, NULL);
    server.startup_memory = zmalloc_used_memory();
    server.peak_memory = server.startup_memory;
    return 0;
}

int server_run(void)
{
    while (!server.shutdown_asap)
        ae_main(server.loop);
    server_shutdown();
    return 0;
}

void server_shutdown(void)
{
    log_warning("User requested shutdown...");
    net_close_listeners(&server.listeners, NULL);
    ks_server_sync_now();   /* keyspace: pending writes durable before their replies */
    /* Replies already produced go out before we close (best effort). */
    client_handle_pending_writes();
    client_flush_all();
    ks_server_close();      /* keyspace: sync and close the engine */
    server_remove_pidfile();
    if (server_cfg.unixsocket && server_cfg.unixsocket[0]) {
        log_notice("Removing the unix socket file.");
        unlink(server_cfg.unixsocket);
    }
}

void server_destroy(void)
{
    client_free_closing();
    while (server.clients)
        client_free(server.clients);
    ae_destroy(server.loop);
    server.loop = NULL;
    slowlog_reset();
    commands_reset_stats();         /* frees the latency histograms */
    migrate_close_all();
}
