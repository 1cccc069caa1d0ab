/* keys_common.h: small helpers shared by the keyspace/transaction
 * integration tests (test_keys, test_expire, test_scan, test_multi): send a
 * command line, compare the raw reply, read integers and arrays.
 * Header-only (static functions); include after tap.h and harness.h. */
#ifndef LSM_TESTS_KEYS_COMMON_H
#define LSM_TESTS_KEYS_COMMON_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/zmalloc.h"

/* One step: a command line (words split on single spaces, "" = an empty
 * argument) and the exact reply Redis 7.0 gives; expect NULL = the line is
 * "SLEEP seconds". */
struct step {
    const char *cmd;
    const char *expect;
};

/* Sends a command line, returns the raw reply (zmalloc'd, *rlen set when
 * rlen != NULL) or NULL. */
static char *kc_call_len(struct conn *c, const char *line, size_t *rlen)
{
    return conn_call_line(c, line, 0, rlen);
}

static char *kc_call(struct conn *c, const char *line)
{
    return kc_call_len(c, line, NULL);
}

/* Sends a command line and drops the reply. */
static __attribute__((unused)) void kc_do(struct conn *c, const char *line)
{
    zfree(kc_call(c, line));
}

static __attribute__((unused)) void kc_steps(struct conn *c, const char *section,
                                             const struct step *steps)
{
    for (const struct step *s = steps; s->cmd; s++) {
        if (!s->expect) {           /* "SLEEP seconds" */
            usleep((useconds_t)(atof(s->cmd + 6) * 1e6));
            continue;
        }
        tap_ok(reply_is(kc_call(c, s->cmd), s->expect), "%s: %s", section, s->cmd);
    }
}

/* 1 when the reply to line is exactly expect (diagnostics otherwise). */
static __attribute__((unused)) int kc_is(struct conn *c, const char *line, const char *expect)
{
    return reply_is(kc_call(c, line), expect);
}

/* The integer reply of line, or LLONG_MIN when it is not an integer. */
static __attribute__((unused)) long long kc_int(struct conn *c, const char *line)
{
    char *r = kc_call(c, line);
    long long v = (r && r[0] == ':') ? strtoll(r + 1, NULL, 10) : LLONG_MIN;
    if (v == LLONG_MIN)
        tap_diag("%s -> %s", line, r ? esc(r, strlen(r)) : "(no reply)");
    zfree(r);
    return v;
}

/* Sends argv with lengths; the parsed reply (rv_free it) or NULL. */
static __attribute__((unused)) struct rv *kc_callv(struct conn *c, int argc,
                                                   const char *const *argv,
                                                   const size_t *lens)
{
    size_t n;
    if (conn_sendargv(c, argc, argv, lens) < 0)
        return NULL;
    char *raw = conn_reply(c, 30000, &n);
    if (!raw)
        return NULL;
    struct rv *v = rv_parse(raw, n);
    zfree(raw);
    return v;
}

/* Parsed reply of a command line (rv_free it) or NULL. */
static __attribute__((unused)) struct rv *kc_rv(struct conn *c, const char *line)
{
    size_t n;
    char *raw = kc_call_len(c, line, &n);
    if (!raw)
        return NULL;
    struct rv *v = rv_parse(raw, n);
    zfree(raw);
    return v;
}

/* Prints "ok N - name # SKIP why" (counts as passed). */
static __attribute__((unused)) void kc_skip(const char *name, const char *why)
{
    tap_count++;
    printf("ok %d - %s # SKIP %s\n", tap_count, name, why);
    fflush(stdout);
}

#endif
