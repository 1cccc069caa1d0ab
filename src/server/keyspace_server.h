/* keyspace_server: the glue between the server core and the keyspace —
 * opening the engine from server_cfg, running every command inside a
 * keyspace transaction, group commit before replies are written, the cron
 * work (active expiry, everysec fsync, recovery from write errors), and the
 * config hooks for runtime directives (appendfsync, scan-cursor-ttl).
 *
 * Hooks the core calls (one line each):
 *  - server_init():       ks_server_open(err, len) after the config is
 *                         loaded; fail start-up with err.
 *  - client_execute():    ks_server_call(c, cmd) instead of cmd->proc(c).
 *  - before_sleep():      ks_server_before_sleep() before the pending
 *                         writes are handled.
 *  - client_handle_pending_writes(): skip (drop from the list) a client
 *                         while ks_server_unsynced(c); the writable handler
 *                         removes AE_WRITABLE and returns in that case. The
 *                         keyspace re-queues it (client_queue_write) when its
 *                         sync is done, or closes it when the sync failed.
 *  - server_cron():       ks_server_cron() every tick.
 *  - server_shutdown():   ks_server_sync_now() before the last replies are
 *                         flushed, ks_server_close() after.
 *  - INFO:                ks_info_section() (keyspace.h) per section.
 * Thread rules: loop thread only. */
#ifndef LSM_SERVER_KEYSPACE_SERVER_H
#define LSM_SERVER_KEYSPACE_SERVER_H

#include <stddef.h>

struct client;
struct command;

/* Opens the keyspace in server_cfg.dir with the engine directives and
 * registers the config hooks. Returns 0, or -1 with a reason in err. */
int ks_server_open(char *err, size_t errlen);
/* Syncs and closes the engine (idempotent). */
void ks_server_close(void);

/* Runs cmd->proc(c) inside a keyspace transaction: a CMD_WRITE command is
 * refused with the -MISCONF error while writes fail; when the commit fails
 * the command's reply is replaced by the error (or, if it can't be taken
 * back, the client is closed without it); under appendfsync always a client
 * whose command committed waits for ks_server_before_sleep(). Nests (EXEC
 * may call it for each queued command: one transaction in all). Returns 1
 * when the command was refused before it ran (-MISCONF), else 0. */
int ks_server_call(struct client *c, struct command *cmd);

/* While writes fail (persistence error), replies the -MISCONF error to a
 * write command or PING (as Redis does) and returns 1; else 0. The MULTI
 * queueing path calls it for each command it queues (Redis rejects them at
 * queue time, which makes EXEC fail with EXECABORT). */
int ks_server_deny(struct client *c, struct command *cmd);

/* 1 while c has a committed write not yet fsync'd under appendfsync always
 * (its replies must not be written yet). */
int ks_server_unsynced(const struct client *c);

/* Group commit (appendfsync always), pipelined: starts one background
 * lsm_sync covering every write committed since the previous one started,
 * unless one is running. The clients of those writes stay unsynced (no reply
 * written) until it succeeds; if it fails they are closed without their
 * replies and the persistence error is set. */
void ks_server_before_sleep(void);
/* Waits for the running sync and syncs whatever else is pending, releasing
 * (or closing) the waiting clients; for shutdown. */
void ks_server_sync_now(void);

/* Every cron tick: active expiry (25% of the tick at most, like Redis'
 * slow cycle) and, once a second, ks_cron_second(). */
void ks_server_cron(void);

#endif
