/* slowlog: Redis' slow log. The newest `slowlog-max-len` commands that ran
 * for at least `slowlog-log-slower-than` microseconds (server_cfg; -1 turns
 * it off, 0 logs every command), each with an id (counting up from 0, not
 * reused after a reset), its UNIX time, its duration, its arguments (at most
 * 32, each cut at 128 bytes, passwords replaced by "(redacted)" as Redis
 * does for AUTH, HELLO ... AUTH and CONFIG SET of a sensitive directive), and
 * the client's address and name. The log is trimmed to the length at the
 * next entry, as in Redis. Loop thread only. */
#ifndef LSM_SERVER_SLOWLOG_H
#define LSM_SERVER_SLOWLOG_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct command;
struct obuf;

/* After cmd (c->argv, as sent) ran for `ticks` of clock_ticks() (converted
 * only when the entry is kept). */
void slowlog_record(const struct client *c, const struct command *cmd, uint64_t ticks);
long long slowlog_len(void);
/* 1 when argument i of cmd must not be shown (the slow log and MONITOR
 * write "(redacted)" instead, as Redis' redactClientCommandArgument
 * callers do: AUTH's arguments, HELLO's AUTH user and password, and the
 * value of a CONFIG SET of a sensitive directive). */
int slowlog_redacted(const struct command *cmd, int argc, const char *const *argv,
                     const size_t *argvlen, int i);
void slowlog_reset(void);
/* SLOWLOG GET's reply: the newest count entries (count < 0: all). */
void slowlog_reply(struct obuf *o, long long count);

#endif
