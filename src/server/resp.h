/* resp: the request parser — RESP2 multibulk and inline commands, exactly as
 * Redis 7 (networking.c: processMultibulkBuffer / processInlineBuffer) reads
 * them, including every protocol error and its text.
 *
 * Owns: the parse state of ONE client's query stream. The query bytes belong
 * to the caller (the client's query buffer); the parser keeps only offsets
 * into it, relative to the start of the command being parsed (*pos), so the
 * caller may move the unparsed bytes between calls.
 *
 * Contract of resp_parse():
 *  - RESP_DONE: one command was parsed. out->argc/argv/argvlen are set;
 *    argv[i] points into buf (multibulk) or into parser scratch (inline) and
 *    is valid until the next resp_parse()/resp_parser_reset() or until buf's
 *    bytes move. Arguments are NOT NUL terminated. *pos is advanced past the
 *    command. argc may be 0 (empty inline line, "*0", "*-1"): the caller
 *    skips such a command, like Redis.
 *  - RESP_MORE: the command is incomplete. *pos is unchanged (still the
 *    command's first byte). The caller may drop buf[0..*pos), move the rest
 *    to the front (then pass *pos = 0), append more bytes, and call again with
 *    the same parser: parsing resumes where it stopped (a bulk is never
 *    rescanned). Bytes already seen must not change. Any byte split of a
 *    stream gives the same commands and errors as parsing it whole (except
 *    the inline/count-line size limits, which Redis too checks only on what
 *    is buffered at the time; see max_inline).
 *  - RESP_ERROR: a protocol error; resp_parser_error() is the reply text
 *    without '-' and CRLF ("ERR Protocol error: invalid bulk length"). The
 *    error is sticky: further calls return RESP_ERROR until reset. Redis
 *    replies with it and closes the connection after the reply; commands
 *    parsed before it are executed normally.
 *
 * Like Redis: the first byte '*' selects multibulk, anything else inline; a
 * count/length line ends at the first '\r' and the byte after it is skipped
 * unchecked; the two bytes after a bulk are skipped unchecked; a NUL byte
 * ends the search for a line end (Redis uses strchr on its query buffer).
 *
 * No allocation per command: argv arrays and inline scratch are reused and
 * only grow (the argv array grows with the arguments actually received, so a
 * huge announced count cannot reserve memory up front).
 * Thread rules: one parser per client, used by the loop thread only. */
#ifndef LSM_SERVER_RESP_H
#define LSM_SERVER_RESP_H

#include <limits.h>
#include <stddef.h>

#include "util/slice.h"

#define RESP_DONE 1
#define RESP_MORE 0
#define RESP_ERROR (-1)

/* Redis' constants. */
#define RESP_INLINE_MAX_DEFAULT (64 * 1024)            /* PROTO_INLINE_MAX_SIZE */
#define RESP_MAX_BULK_DEFAULT (512LL * 1024 * 1024)    /* proto-max-bulk-len */
#define RESP_MAX_MULTIBULK_DEFAULT INT_MAX              /* Redis 7: ll > INT_MAX */
#define RESP_UNAUTH_MAX_MULTIBULK 10                    /* !authenticated: count > 10 */
#define RESP_UNAUTH_MAX_BULK 16384                      /* !authenticated: len > 16384 */
#define RESP_BIG_ARG (32 * 1024)                        /* PROTO_MBULK_BIG_ARG */

struct resp_limits {
    long long max_bulk_len;       /* bulk length > this: invalid bulk length */
    long long max_multibulk_len;  /* count > this: invalid multibulk length */
    size_t max_inline;            /* no line end within this many buffered
                                   * bytes: too big inline request / too big
                                   * (m)bulk count string */
};

struct resp_cmd {
    int argc;
    const char **argv;   /* argc pointers (parser-owned array) */
    size_t *argvlen;     /* argc lengths (parser-owned array) */
};

/* Plain struct so a client can embed it; fields are private to resp.c. */
struct resp_parser {
    int state;            /* RESP_ST_* (resp.c) */
    int argc;             /* arguments complete so far */
    long long multibulk;  /* arguments still expected */
    long long bulklen;    /* current bulk's length, -1 = header not read */
    size_t cur;           /* start of the current line/bulk, relative to *pos */
    size_t scan;          /* where the search for the line end resumes */
    size_t pending;       /* bytes the current bulk still needs (at MORE) */
    int cap;              /* capacity of off/len/argv */
    size_t *off;          /* argument offsets relative to *pos */
    size_t *len;          /* argument lengths */
    const char **argv;    /* filled on RESP_DONE */
    struct buf scratch;   /* inline argument bytes */
    const char *err;      /* static error text */
    char errbuf[64];      /* for "expected '$', got 'x'" */
};

void resp_parser_init(struct resp_parser *p);
/* Forget a partial command and a sticky error; keeps the memory. */
void resp_parser_reset(struct resp_parser *p);
void resp_parser_free(struct resp_parser *p);

/* Parse one command starting at buf[*pos]; buf holds len bytes. authenticated
 * = 0 applies Redis' limits for clients that still need AUTH (pass 1 when no
 * password is required). lim NULL = defaults. Returns RESP_DONE, RESP_MORE
 * or RESP_ERROR (see the contract above). */
int resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *pos,
               int authenticated, const struct resp_limits *lim,
               struct resp_cmd *out);

/* Error text of the last RESP_ERROR (no '-', no CRLF); NULL if none. */
const char *resp_parser_error(const struct resp_parser *p);
/* After RESP_MORE: bytes the current bulk (payload + CRLF) still needs, or 0
 * when not inside a bulk. Lets the caller grow its buffer once. */
size_t resp_parser_pending_bulk(const struct resp_parser *p);
/* 1 when a command is partly parsed (a RESP_MORE is outstanding). */
int resp_parser_in_progress(const struct resp_parser *p);

#endif
