/* migrate: Redis 7's MIGRATE, the one command with which the server talks
 * to another server. MIGRATE host port key|"" destination-db timeout [COPY]
 * [REPLACE] [AUTH password | AUTH2 username password] [KEYS key ...] sends
 * the target, on one connection, AUTH when given, SELECT when the target's
 * db is not the one last selected there, and a RESTORE (with the key's
 * remaining TTL and its DUMP payload, server/dump.h) per existing key; it
 * reads one reply line each and, unless COPY, deletes every key the target
 * took. Replies and error strings are Redis 7.0's: +OK, +NOKEY when no key
 * exists, "Target instance replied with error: ...", "IOERR error or
 * timeout connecting to the client" (a name or port that does not
 * resolve) / "... writing to" (a refused connect shows here, as in Redis)
 * / "... reading to target instance".
 *
 * Like Redis, the command blocks the event loop: every connect, write and
 * read waits at most `timeout` ms (1000 when not positive). Connections
 * are kept per "host:port" (at most 64, each closed after 10 s unused) and
 * remember the db last selected; a cached connection found broken before
 * anything was read is opened again once.
 *
 * Owns: the connection cache. Thread rules: loop thread only. */
#ifndef LSM_SERVER_MIGRATE_H
#define LSM_SERVER_MIGRATE_H

#include "server/commands.h"

/* The MIGRATE row (struct command of commands.h), ended by a row whose name
 * is NULL; the command table registers it. */
extern struct command migrate_commands[];

/* Closes cached connections unused for 10 s (the server cron). */
void migrate_cron(void);
/* Closes every cached connection (shutdown). */
void migrate_close_all(void);

#endif
