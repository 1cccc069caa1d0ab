/* monitor: Redis' MONITOR. A client that sent MONITOR is sent, as a status
 * reply, a line for every command that then runs, by any client, after it
 * ran:
 *   +<UNIX time>.<microseconds> [<db> <ip:port | unix:<socket path>>] "arg" ...
 * with the db the client has after the command (SELECT's new one) and each
 * argument quoted as Redis' sdscatrepr writes it, passwords "(redacted)"
 * as in the slow log. Not shown, as in Redis: admin commands (CONFIG,
 * SLOWLOG, MONITOR, ...), commands refused before running (unknown, wrong
 * arity, NOAUTH), and queued commands until EXEC runs them (each is shown,
 * then EXEC). A monitor client still runs commands; a second MONITOR is
 * ignored (no reply); RESET or the client's end takes it out.
 *
 * Owns the list of monitor clients (pointers; a client leaves it before it
 * is freed). Thread rules: loop thread only. */
#ifndef LSM_SERVER_MONITOR_H
#define LSM_SERVER_MONITOR_H

struct client;
struct command;

/* MONITOR: c starts receiving the lines; 0, or -1 if it already does. */
int monitor_add(struct client *c);
/* c stops receiving them (nothing if it did not). */
void monitor_remove(struct client *c);
/* After cmd ran for c (c->argv is its arguments as sent). */
void monitor_feed(const struct client *c, const struct command *cmd);

#endif
