/* keyspace_server: see keyspace_server.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/keyspace_server.h"
#include "server/reply.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/zmalloc.h"

/* Clients with a write committed in this loop iteration (appendfsync always). */
static uint64_t *waiters;
static size_t nwaiters, capwaiters;
static int64_t last_second_ms;

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
    return 0;   /* read by ks_server_open; takes effect at the next open */
}

int ks_server_open(char *err, size_t errlen)
{
    struct ks_options o;
    ks_options_init(&o);
    o.databases = server_cfg.databases;
    o.appendfsync = server_cfg.appendfsync;
    o.cursor_ttl_ms = (int64_t)server_cfg.scan_cursor_ttl * 1000;
    o.block_cache_size = (size_t)server_cfg.block_cache_size;
    o.write_buffer_size = (size_t)server_cfg.write_buffer_size;
    o.bg_threads = server_cfg.bg_threads;
    o.bloom_bits_per_key = server_cfg.bloom_bits_per_key;
    o.compression = server_cfg.compression;
    o.max_open_files = server_cfg.max_open_files;
    if (ks_open(server_cfg.dir, &o, err, errlen) != 0)
        return -1;
    config_register_apply("appendfsync", apply_appendfsync);
    config_register_apply("scan-cursor-ttl", apply_cursor_ttl);
    last_second_ms = clock_mono_ms();
    return 0;
}

void ks_server_close(void)
{
    if (!ks_is_open())
        return;
    int rc = ks_close();
    if (rc != 0)
        log_warning("closing the database: %s", lsm_strerror(rc));
    zfree(waiters);
    waiters = NULL;
    nwaiters = capwaiters = 0;
}

static void add_waiter(uint64_t id)
{
    if (nwaiters && waiters[nwaiters - 1] == id)
        return;
    if (nwaiters == capwaiters) {
        capwaiters = capwaiters ? capwaiters * 2 : 64;
        waiters = zrealloc(waiters, capwaiters * sizeof(*waiters));
    }
    waiters[nwaiters++] = id;
}

int ks_server_unsynced(const struct client *c)
{
    for (size_t i = 0; i < nwaiters; i++)
        if (waiters[i] == c->id)
            return 1;
    return 0;
}

void ks_server_call(struct client *c, struct command *cmd)
{
    char msg[320];
    struct obuf *o = &c->obuf;
    if ((cmd->flags & CMD_WRITE) && ks_txn_depth() == 0 && ks_write_error(msg, sizeof(msg))) {
        reply_error(o, msg);
        return;
    }
    /* Where the reply starts, to take it back if the commit fails. Only
     * possible while everything since is in the static buffer. */
    int rewindable = o->tail == NULL && o->ndefer == 0;
    size_t mark_pos = o->bufpos, mark_pending = o->pending;
    uint64_t before = ks_commit_count();
    ks_txn_begin();
    cmd->proc(c);
    if (ks_txn_depth() == 0)
        return;                     /* the handler aborted the transaction */
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
            obuf_reset(o);
            client_close_async(c);
        }
        return;
    }
    if (outer && ks_commit_count() != before && server_cfg.appendfsync == CONFIG_FSYNC_ALWAYS)
        add_waiter(c->id);
}

void ks_server_before_sleep(void)
{
    if (!ks_is_open())
        return;
    int rc = ks_before_sleep();
    if (rc != 0) {
        for (size_t i = 0; i < nwaiters; i++) {
            struct client *c = client_by_id(waiters[i]);
            if (!c)
                continue;
            log_warning("closing client id=%" PRIu64 " without its replies: the fsync of "
                        "its writes failed (%s)", c->id, lsm_strerror(rc));
            obuf_reset(&c->obuf);
            client_close_async(c);
        }
    }
    nwaiters = 0;
}

void ks_server_cron(void)
{
    if (!ks_is_open())
        return;
    int hz = server_cfg.hz > 0 ? server_cfg.hz : 10;
    ks_active_expire_cycle(1000000LL * 25 / 100 / hz);
    int64_t now = clock_mono_ms();
    if (now - last_second_ms >= 1000) {
        last_second_ms = now;
        ks_cron_second();
    }
}
