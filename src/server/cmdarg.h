/* cmdarg: argument and error-reply helpers shared by the command handlers
 * (cmd_string.c, cmd_bitmap.c, cmd_keys.c), so option words, integer arguments and engine
 * failures are read and answered the same way by every command, as Redis'
 * getLongLongFromObjectOrReply and strcasecmp-based option checks do.
 * Thread rules: loop thread only (they reply on the client). */
#ifndef LSM_SERVER_CMDARG_H
#define LSM_SERVER_CMDARG_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct ks_value;

#define CMDARG_ERR_NOT_INT "ERR value is not an integer or out of range"
#define CMDARG_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

/* Length of argv[i] as a C string: Redis compares options with strcasecmp,
 * so "nx\0junk" is NX. */
size_t cmdarg_clen(const struct client *c, int i);
/* 1 when argv[i] is the option word (any case, up to its first NUL). */
int cmdarg_opt_is(const struct client *c, int i, const char *word);
/* The same for an argument that is not a client's (len bytes, not
 * necessarily NUL-terminated: a key finder's). */
int cmdarg_word_is(const char *arg, size_t len, const char *word);
/* argv[i] as a long long (Redis' string2ll): 1, or 0 after replying
 * "value is not an integer or out of range". */
int cmdarg_ll(struct client *c, int i, long long *out);
/* Replies an engine/keyspace failure rc: the persistence error (MISCONF)
 * while writes are refused, else "ERR <engine reason>" (for corruption and
 * I/O errors the engine's message: the file and offset). */
void cmdarg_reply_ks_error(struct client *c, int rc);
/* Looks up the string at key argv[argi]: 1 found (v filled, free it), 0
 * absent (v zeroed), -1 an error was replied (engine error, or WRONGTYPE
 * for another type). */
int cmdarg_lookup_string(struct client *c, int argi, struct ks_value *v);
/* cmdarg_lookup_string for a command that reads the key (Redis'
 * lookupKeyRead), counted in INFO stats keyspace_hits / keyspace_misses. */
int cmdarg_read_string(struct client *c, int argi, struct ks_value *v);
/* cmdarg_lookup_string / cmdarg_read_string (read = 1) for a command that
 * needs only the bytes [off, off + len) of the string (GETRANGE, GETBIT,
 * SETBIT): ks_lookup_range. */
int cmdarg_string_range(struct client *c, int argi, uint64_t off, uint64_t len,
                        struct ks_value *v, int read);
/* The same for the string's length only (a separated value is not read):
 * 1 found (*len set), 0 absent (*len = 0), -1 an error was replied.
 * Counted as a read. */
int cmdarg_read_string_len(struct client *c, int argi, uint64_t *len);
/* cmdarg_read_string_len, counted as a read only when read is 1. */
int cmdarg_string_len(struct client *c, int argi, uint64_t *len, int read);
/* Redis' checkStringLength(size, append): a string of size + append bytes
 * must fit proto-max-bulk-len. 1 fine, 0 after replying the error. */
int cmdarg_check_length(struct client *c, unsigned long long size, unsigned long long append);

#endif
