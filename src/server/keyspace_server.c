/* keyspace_server: see keyspace_server.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/commands.h"
#include "server/ae.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/keyspace_server.h"
#include "server/latency.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/zmalloc.h"

/* A set of client ids (open addressing; ids start at 1, 0 = empty). */
struct idset {
    uint64_t *slot;
    size_t cap, n;
    uint64_t *list;                 /* insertion order */
};

static int idset_has(const struct idset *s, uint64_t id)
{
    if (s->n == 0)
        return 0;
    for (size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);;
         i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == id)
            return 1;
        if (s->slot[i] == 0)
            return 0;
    }
}

static void idset_insert_slot(struct idset *s, uint64_t id)
{
    size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);
    while (s->slot[i] != 0)
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = id;
}

static void idset_add(struct idset *s, uint64_t id)
{
    if (idset_has(s, id))
        return;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        zfree(s->slot);
        s->slot = zcalloc(ncap * sizeof(*s->slot));
        s->list = zrealloc(s->list, ncap / 2 * sizeof(*s->list));
        s->cap = ncap;
        for (size_t k = 0; k < s->n; k++)
            idset_insert_slot(s, s->list[k]);
    }
    idset_insert_slot(s, id);
    s->list[s->n++] = id;
}

static void idset_clear(struct idset *s)
{
    if (s->n)
        memset(s->slot, 0, s->cap * sizeof(*s->slot));
    s->n = 0;
}

static void idset_free(struct idset *s)
{
    zfree(s->slot);
    zfree(s->list);
    memset(s, 0, sizeof(*s));
}

static void idset_swap(struct idset *a, struct idset *b)
{
    struct idset t = *a;
    *a = *b;
    *b = t;
}

/* Group commit under appendfsync always, pipelined: the clients whose
 * writes committed since the last sync started (`waiting`) and those whose
 * writes the running sync covers (`inflight`) get no reply written until
 * that sync succeeds. One sync runs at a time, on the sync thread, while the
 * loop goes on serving other clients. */
static struct idset waiting, inflight;
/* Clients whose writes sit in the engine's WAL buffer (defer_flush): their
 * replies wait for ks_flush, at the latest in before-sleep — one write()
 * for the whole loop iteration instead of one per command. */
static struct idset unflushed;
static int sync_running;
static uint64_t sync_covered;       /* ks_commit_count() when it started */
static int64_t last_second_ms;
/* Group-commit pacing (see sync_ready). */
static size_t released_last;        /* clients the last sync released */
static int64_t sync_begin_us, sync_end_us, sync_dur_us;
static int64_t hold_timer = -1;

static struct {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int request, stop, done, result;
    int efd;                        /* eventfd: a sync finished */
} st = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .efd = -1 };

static void *sync_thread_main(void *arg)
{
    (void)arg;
    log_set_role('B');
    pthread_mutex_lock(&st.mu);
    for (;;) {
        while (!st.request && !st.stop)
            pthread_cond_wait(&st.cv, &st.mu);
        if (st.stop)
            break;
        st.request = 0;
        pthread_mutex_unlock(&st.mu);
        int rc = lsm_sync(ks_engine());
        pthread_mutex_lock(&st.mu);
        st.result = rc;
        st.done = 1;
        pthread_cond_broadcast(&st.cv);
        uint64_t one = 1;
        if (write(st.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_warning("keyspace: eventfd write failed: %s", strerror(errno));
    }
    pthread_mutex_unlock(&st.mu);
    return NULL;
}

static void sync_start(void)
{
    idset_swap(&waiting, &inflight);    /* inflight was empty */
    idset_clear(&waiting);
    sync_running = 1;
    sync_covered = ks_commit_count();
    sync_begin_us = clock_mono_us();
    pthread_mutex_lock(&st.mu);
    st.done = 0;
    st.request = 1;
    pthread_cond_signal(&st.cv);
    pthread_mutex_unlock(&st.mu);
}

/* Drops c's pending replies and closes it: what they acknowledge is not
 * durable, or not true. */
static void close_without_reply(struct client *c)
{
    obuf_reset(&c->obuf);
    client_close_async(c);
}

/* Releases (rc == 0) or closes without their replies (rc != 0) the
 * clients of the finished sync. */
static void sync_finish(int rc)
{
    sync_running = 0;
    sync_end_us = clock_mono_us();
    sync_dur_us = sync_end_us - sync_begin_us;
    if (server_cfg.appendfsync == CONFIG_FSYNC_ALWAYS)
        latency_sample("aof-fsync-always", (uint64_t)sync_dur_us / 1000);
    released_last = 0;
    ks_sync_done(rc, sync_covered);
    for (size_t i = 0; i < inflight.n; i++) {
        struct client *c = client_by_id(inflight.list[i]);
        if (!c || idset_has(&waiting, c->id))
            continue;               /* gone, or has newer unsynced writes */
        if (rc == 0) {
            client_queue_write(c);
            released_last++;
        } else {
            log_warning("closing client id=%" PRIu64 " without its replies: the fsync of "
                        "its writes failed (%s)", c->id, lsm_strerror(rc));
            close_without_reply(c);
        }
    }
    if (rc != 0) {
        /* Writes committed after the failed sync began are not durable
         * either: their clients are closed too. */
        for (size_t i = 0; i < waiting.n; i++) {
            struct client *c = client_by_id(waiting.list[i]);
            if (c)
                close_without_reply(c);
        }
        idset_clear(&waiting);
    }
    idset_clear(&inflight);
}

static void sync_event(struct ae_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    (void)data;
    (void)mask;
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0)
        return;
    pthread_mutex_lock(&st.mu);
    int done = st.done, rc = st.result;
    st.done = 0;
    pthread_mutex_unlock(&st.mu);
    if (done && sync_running)
        sync_finish(rc);
}

/* Waits for a running sync (shutdown, policy change). */
static void sync_wait(void)
{
    if (!sync_running)
        return;
    pthread_mutex_lock(&st.mu);
    while (!st.done)
        pthread_cond_wait(&st.cv, &st.mu);
    int rc = st.result;
    st.done = 0;
    pthread_mutex_unlock(&st.mu);
    sync_finish(rc);
}

static void sync_efd_close(void)
{
    if (st.efd < 0)
        return;
    if (server.loop)
        ae_del_file(server.loop, st.efd, AE_READABLE);
    close(st.efd);
    st.efd = -1;
}

static void sync_thread_stop(void)
{
    if (!st.started)
        return;
    pthread_mutex_lock(&st.mu);
    st.stop = 1;
    pthread_cond_broadcast(&st.cv);
    pthread_mutex_unlock(&st.mu);
    pthread_join(st.thread, NULL);
    st.started = 0;
    st.stop = 0;
    sync_efd_close();
}

static int sync_thread_start(char *err, size_t errlen)
{
    st.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st.efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    if (server.loop && ae_add_file(server.loop, st.efd, AE_READABLE, sync_event, NULL) < 0) {
        snprintf(err, errlen, "can't watch the sync eventfd");
        close(st.efd);
        st.efd = -1;
        return -1;
    }
    if (pthread_create(&st.thread, NULL, sync_thread_main, NULL) != 0) {
        snprintf(err, errlen, "can't start the sync thread");
        sync_efd_close();           /* a failed start leaves nothing open */
        return -1;
    }
    st.started = 1;
    return 0;
}

static int apply_appendfsync(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    ks_set_appendfsync(server_cfg.appendfsync);
    return 0;
}

static int apply_cursor_ttl(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    ks_set_cursor_ttl((int64_t)server_cfg.scan_cursor_ttl * 1000);
    return 0;
}

int ks_server_open(char *err, size_t errlen)
{
    struct ks_options o;
    ks_options_init(&o);
    o.databases = server_cfg.databases;
    o.appendfsync = server_cfg.appendfsync;
    o.cursor_ttl_ms = (int64_t)server_cfg.scan_cursor_ttl * 1000;
    o.block_cache_size = (size_t)server_cfg.block_cache_size;
    o.value_cache_size = (size_t)server_cfg.value_cache_size;
    o.write_buffer_size = (size_t)server_cfg.write_buffer_size;
    o.bg_threads = server_cfg.bg_threads;
    o.bloom_bits_per_key = server_cfg.bloom_bits_per_key;
    o.compression = server_cfg.compression;
    o.max_open_files = server_cfg.max_open_files;
    o.value_separation_threshold = (size_t)server_cfg.value_separation_threshold;
    o.vlog_file_size = (uint64_t)server_cfg.vlog_file_size;
    o.vlog_gc_ratio = server_cfg.vlog_gc_ratio;
    o.vlog_gc_max_mbps = server_cfg.vlog_gc_max_mbps;
    o.mapped_logs = server_cfg.mapped_logs;
    o.defer_flush = 1;              /* flush_step() before replies go out */
    o.defer_counts = server_cfg.deferred_key_counting;
    o.write_table_size = (size_t)server_cfg.write_table_size;
    o.string_chunk_size = (size_t)server_cfg.string_chunk_size;
    if (ks_open(server_cfg.dir, &o, err, errlen) != 0)
        return -1;
    if (sync_thread_start(err, errlen) != 0) {
        ks_close();
        return -1;
    }
    config_register_apply("appendfsync", apply_appendfsync);
    config_register_apply("scan-cursor-ttl", apply_cursor_ttl);
    last_second_ms = clock_mono_ms();
    return 0;
}

void ks_server_close(void)
{
    if (!ks_is_open())
        return;
    ks_server_sync_now();
    sync_thread_stop();
    int rc = ks_close();
    if (rc != 0)
        log_warning("closing the database: %s", lsm_strerror(rc));
    idset_free(&waiting);
    idset_free(&inflight);
    idset_free(&unflushed);
    if (hold_timer >= 0 && server.loop)
        ae_del_timer(server.loop, hold_timer);
    hold_timer = -1;
}

int ks_server_unsynced(const struct client *c)
{
    return idset_has(&waiting, c->id) || idset_has(&inflight, c->id) ||
           idset_has(&unflushed, c->id);
}

/* Pushes the buffered commits to the OS, then lets their clients' replies
 * go (or, when that failed, closes those clients without them: their
 * writes may be lost by a crash, so they must not be told OK). */
static void flush_step(void)
{
    if (!ks_unflushed() && unflushed.n == 0)
        return;
    int rc = ks_flush();
    for (size_t i = 0; i < unflushed.n; i++) {
        struct client *c = client_by_id(unflushed.list[i]);
        if (!c)
            continue;
        if (rc == 0) {
            client_queue_write(c);
        } else {
            log_warning("closing client id=%" PRIu64 " without its replies: writing its "
                        "writes to the WAL failed (%s)", c->id, lsm_strerror(rc));
            close_without_reply(c);
        }
    }
    idset_clear(&unflushed);
}

int ks_server_deny(struct client *c, struct command *cmd)
{
    char msg[320];
    /* Redis' processCommand refuses write commands and PING alike. */
    if (!(cmd->flags & CMD_WRITE) && cmd->proc != cmd_ping)
        return 0;
    if (!ks_write_error(msg, sizeof(msg)))
        return 0;
    reply_error(&c->obuf, msg);
    return 1;
}

int ks_server_call(struct client *c, struct command *cmd)
{
    char msg[320];
    struct obuf *o = &c->obuf;
    if (ks_txn_depth() == 0 && ks_server_deny(c, cmd))
        return 1;
    /* Where the reply starts, to take it back if the commit fails. Only
     * possible while everything since is in the static buffer. */
    int rewindable = o->tail == NULL && o->ndefer == 0;
    size_t mark_pos = o->bufpos, mark_pending = o->pending;
    uint64_t before = ks_commit_count();
    ks_txn_begin();
    cmd->proc(c);
    if (ks_txn_depth() == 0)
        return 0;                   /* the handler aborted the transaction */
    int outer = ks_txn_depth() == 1;
    int rc = ks_txn_commit();
    if (rc != 0 && outer) {
        if (!ks_write_error(msg, sizeof(msg)))
            snprintf(msg, sizeof(msg), "ERR %s", lsm_strerror(rc));
        if (rewindable && o->tail == NULL && o->ndefer == 0) {
            o->bufpos = mark_pos;
            o->pending = mark_pending;
            reply_error(o, msg);
        } else {
            log_warning("closing client id=%" PRIu64 ": its command failed to commit (%s) "
                        "after a reply too large to take back", c->id, msg);
            close_without_reply(c);
        }
        return 0;
    }
    if (outer && ks_commit_count() != before && ks_unflushed())
        idset_add(&unflushed, c->id);
    if (outer && ks_commit_count() != before && server_cfg.appendfsync == CONFIG_FSYNC_ALWAYS)
        idset_add(&waiting, c->id);
    return 0;
}

static int64_t hold_timer_proc(struct ae_loop *loop, int64_t id, void *data)
{
    (void)loop;
    (void)id;
    (void)data;
    hold_timer = -1;                /* before_sleep decides */
    return AE_NOMORE;
}

/* Whether to start the next group fsync now (a sync is not running and
 * writes wait). A client has one write in flight at a time (no pipeline):
 * the clients the last sync released write again within a round trip, and a
 * sync started before they did covers only part of them — the rest wait for
 * the one after, so with back-to-back syncs each client writes once per two
 * syncs (at most half the clients per fsync). So the next sync waits until
 * (nearly) every client the last one released waits again, but no longer
 * than half the last sync's duration (at most 1 ms): a client that stopped
 * writing costs at most that. Nothing is acknowledged earlier than before. */
static int sync_ready(void)
{
    if (waiting.n * 10 >= released_last * 9)
        return 1;
    int64_t hold = sync_dur_us / 2 < 1000 ? sync_dur_us / 2 : 1000;
    int64_t left = sync_end_us + hold - clock_mono_us();
    if (left <= 0 || !server.loop)
        return 1;
    if (hold_timer < 0)
        hold_timer = ae_add_timer(server.loop, (left + 999) / 1000, hold_timer_proc, NULL);
    return 0;
}

void ks_server_before_sleep(void)
{
    if (!ks_is_open())
        return;
    ks_defer_tick(0);
    flush_step();
    if (server_cfg.appendfsync != CONFIG_FSYNC_ALWAYS && !sync_running) {
        /* The policy changed: nothing waits any more. */
        for (size_t i = 0; i < waiting.n; i++) {
            struct client *c = client_by_id(waiting.list[i]);
            if (c)
                client_queue_write(c);
        }
        idset_clear(&waiting);
        return;
    }
    if (waiting.n > 0 && !sync_running && sync_ready())
        sync_start();
}

void ks_server_sync_now(void)
{
    if (!ks_is_open())
        return;
    flush_step();
    sync_wait();
    if (waiting.n > 0 || ks_sync_pending()) {
        idset_swap(&waiting, &inflight);
        idset_clear(&waiting);
        sync_covered = ks_commit_count();
        sync_finish(lsm_sync(ks_engine()));
    }
}

void ks_server_cron(void)
{
    if (!ks_is_open())
        return;
    int hz = server_cfg.hz > 0 ? server_cfg.hz : 10;
    int64_t start_us = clock_mono_us();
    ks_active_expire_cycle(1000000LL * 25 / 100 / hz);
    latency_sample("expire-cycle", (uint64_t)(clock_mono_us() - start_us) / 1000);
    ks_defer_tick(1);
    int64_t now = clock_mono_ms();
    if (now - last_second_ms >= 1000) {
        last_second_ms = now;
        ks_cron_second();
    }
}
