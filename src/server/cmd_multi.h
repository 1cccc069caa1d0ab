/* cmd_multi: Redis 7's transactions — MULTI, EXEC, DISCARD, WATCH, UNWATCH.
 *
 * Owns: the per-client transaction state (queued commands with copies of
 * their arguments, the "errors at queue time" flag, watched keys and the
 * "a watched key changed" flag). It lives in a side table keyed by client
 * id, so struct client needs no field; client_free() drops a client's
 * state with multi_client_gone().
 *
 * EXEC runs every queued command inside ONE keyspace transaction (one
 * atomic engine batch, see keyspace.h); a runtime error of one command is
 * just its reply inside EXEC's array, as in Redis. WATCH learns about writes
 * through the keyspace touch hook (every committed change, active and lazy
 * expiry, FLUSHDB/FLUSHALL/SWAPDB) and, like Redis 7, also aborts EXEC when
 * a watched key that existed at WATCH time has expired since.
 *
 * Hooks for the dispatcher (client_execute), one line each:
 *  - a queue-time rejection (unknown command, wrong arity, NOAUTH):
 *    after its error reply call multi_flag_error(c); a rejected EXEC
 *    (wrong arity, NOAUTH) is answered by multi_reject_exec() instead of
 *    the plain error;
 *  - before running a command: if (multi_queue(c, cmd)) return;
 *  - client_free(): multi_client_gone(c->id).
 * Thread rules: loop thread only. */
#ifndef LSM_SERVER_CMD_MULTI_H
#define LSM_SERVER_CMD_MULTI_H

#include <stdint.h>

#include "server/commands.h"

struct client;

/* The rows of MULTI, EXEC, DISCARD, WATCH, UNWATCH, ended by a row whose
 * name is NULL; the command table registers them. */
extern struct command multi_commands[];

/* Inside MULTI, a command that is not MULTI/EXEC/DISCARD/WATCH/QUIT is
 * queued (reply +QUEUED) and 1 is returned; a command flagged no_multi is
 * refused ("ERR Command not allowed inside a transaction"), the transaction
 * flagged, and 1 returned. 0 = not in MULTI or runs now: execute it. */
int multi_queue(struct client *c, struct command *cmd);
/* A queue-time error was replied: EXEC will answer -EXECABORT. No-op
 * outside MULTI. */
void multi_flag_error(struct client *c);
/* Redis' rejectCommand for EXEC itself ("EXEC x", or NOAUTH): in MULTI or
 * not, the transaction and every WATCH of c are discarded and the reply is
 * "-EXECABORT Transaction discarded because of: <why>"; returns 1. 0
 * (nothing done) when cmd is not EXEC. why: the error without its '-'
 * ("wrong number of arguments ..." has no code, "NOAUTH ..." has one). */
int multi_reject_exec(struct client *c, const struct command *cmd, const char *why);
/* 1 while EXEC runs its queued commands (Redis' server.in_exec). */
int multi_in_exec(void);
/* SWAPDB a b is about to run (inside its transaction). As in Redis'
 * touchAllWatchedKeysInDb, a watched key of a (or b) that was absent at its
 * WATCH makes its watcher dirty when it is present in b (a), the db that
 * takes its place; keys present at WATCH get the swap's touch (the hook).
 * Checked at every swap, so two swaps that restore the dbs still abort. */
void multi_before_swapdb(int a, int b);
/* For CLIENT LIST/INFO: *queued = commands queued (-1 when not in MULTI),
 * *dirty = a watched key changed (flag 'd'), *mem = bytes of the queue. */
void multi_client_info(const struct client *c, int *queued, int *dirty, size_t *mem);
/* Forgets the state of a client that is closing. */
void multi_client_gone(uint64_t id);

#endif
