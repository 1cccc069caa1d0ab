/* test_diff_watch.c: which writes abort a WATCH, against a real
 * redis-server. For every pair of a setup (the watched key w missing, a
 * string, an integer, a float, with a TTL, empty, an HLL before and after
 * PFCOUNT wrote its cache, a value the engine separates, a string kept in
 * chunks (lsmdb runs with 16-byte chunks), or only another key present) and a command from a second client (every string, keyspace,
 * bitmap and HyperLogLog command that writes, or may write, w, with
 * arguments that change nothing as well as ones that do), both servers run:
 * client A FLUSHALL, the setup, WATCH w; client B the command; client A
 * MULTI, PING, EXEC, then GET w and PTTL w. B's reply, EXEC's reply, the
 * value and the TTL (a positive one made 1) must be the same bytes from
 * both. Redis 7.0 aborts a WATCH only for a write it signals, which is not
 * always a change of the value (a BITFIELD that writes zeros into a key it
 * creates does abort; a SETBIT that leaves the bit as it was does not).
 * Skipped when no redis-server is installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

struct setup {
    const char *name;
    const char *lines[3];           /* run by A before WATCH w */
};

static const struct setup setups[] = {
    { "w missing", { NULL } },
    { "w a string", { "SET w abc" } },
    { "w an integer", { "SET w 10" } },
    { "w a float", { "SET w 1.5" } },
    { "w with a TTL", { "SET w abc EX 1000" } },
    { "w empty", { "SET w \"\"" } },
    { "w an HLL", { "PFADD w a b" } },
    { "w an HLL with its cache written", { "PFADD w a b", "PFCOUNT w" } },
    { "w separated", { NULL } },    /* filled in main: a 2000-byte value */
    { "w in chunks", { "SET w xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "APPEND w y" } },
    { "only o present", { "SET o zz" } },
};
#define NSETUPS (sizeof(setups) / sizeof(setups[0]))

static const char *const cmds[] = {
    "GET w", "SET w abc", "SET w abc NX", "SET w abc XX", "SET w abc KEEPTTL",
    "SET w abc GET", "SETNX w abc", "SETEX w 100 abc", "PSETEX w 100000 abc",
    "GETSET w abc", "GETDEL w", "GETEX w", "GETEX w PERSIST", "GETEX w EX 100",
    "MSET w abc", "MSETNX w abc", "INCR w", "INCRBY w 0", "DECRBY w 0",
    "INCRBYFLOAT w 0", "APPEND w \"\"", "APPEND w x", "SETRANGE w 0 \"\"",
    "SETRANGE w 0 a", "SETRANGE w 5 \"\"", "SETRANGE w 5 x",
    "DEL w", "UNLINK w", "EXPIRE w 100", "EXPIRE w 100 NX", "EXPIRE w 100 XX",
    "EXPIRE w 100 GT", "EXPIRE w 100 LT", "EXPIRE w 0", "EXPIRE w -1",
    "PEXPIREAT w 1", "PERSIST w", "TOUCH w",
    "RENAME w w2", "RENAME o w", "RENAMENX o w", "COPY o w", "COPY o w REPLACE",
    "COPY w w2", "MOVE w 1", "SWAPDB 0 1", "FLUSHDB", "FLUSHALL",
    "SETBIT w 0 0", "SETBIT w 1 1", "SETBIT w 100 0",
    "BITFIELD w SET u8 0 97", "BITFIELD w INCRBY u8 0 0", "BITFIELD w SET u8 8 0",
    "BITFIELD w OVERFLOW FAIL INCRBY u8 0 300", "BITFIELD w OVERFLOW FAIL INCRBY u8 64 300",
    "BITFIELD w GET u8 0", "BITFIELD_RO w GET u8 0",
    "BITOP AND w o", "BITOP OR w w", "BITOP NOT w nokey",
    "PFADD w", "PFADD w a", "PFADD w zzz", "PFCOUNT w", "PFMERGE w", "PFMERGE w o",
    "PFDEBUG TODENSE w", "PFDEBUG GETREG w",
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* What one server did in one case: B's reply, EXEC's, GET w's, PTTL w's. */
struct outcome {
    char *part[4];
};

static char *call(struct conn *c, const char *line)
{
    char *r = conn_call_line(c, line, 0, NULL);
    if (r == NULL) {
        tap_diag("no reply to %.60s", line);
        tap_bail("a server did not answer");
    }
    return r;
}

static void run_case(struct conn *a, struct conn *b, const char *const *setup,
                     const char *cmd, struct outcome *o)
{
    zfree(call(a, "FLUSHALL"));
    for (int i = 0; i < 3 && setup[i]; i++)
        zfree(call(a, setup[i]));
    zfree(call(a, "WATCH w"));
    o->part[0] = call(b, cmd);
    zfree(call(a, "MULTI"));
    zfree(call(a, "PING"));
    o->part[1] = call(a, "EXEC");
    o->part[2] = call(a, "GET w");
    o->part[3] = call(a, "PTTL w");
    /* A TTL depends on the moment: only its sign is compared. */
    if (o->part[3][0] == ':' && atoll(o->part[3] + 1) > 0) {
        zfree(o->part[3]);
        o->part[3] = zstrdup(":1\r\n");
    }
}

int main(void)
{
    static const char *const what[4] = { "B's reply", "EXEC", "GET w", "PTTL w" };
    harness_init(300);
    /* Strings of 32 bytes or more that a range write changed are kept in
     * chunks of 16 ("w in chunks", and the separated one after APPEND). */
    static const char *const args[] = { "--string-chunk-size", "16", NULL };
    struct srv ls, rs;
    srv_start_pair_args(&ls, &rs, args);
    struct conn *la = conn_tcp(ls.port), *lb = conn_tcp(ls.port);
    struct conn *ra = conn_tcp(rs.port), *rb = conn_tcp(rs.port);
    if (!la || !lb || !ra || !rb)
        tap_bail("no connection");

    /* Above the default value-separation-threshold (1 KiB). */
    char big[2100];
    memcpy(big, "SET w ", 6);
    memset(big + 6, 'x', 2000);
    big[2006] = '\0';

    for (size_t s = 0; s < NSETUPS; s++) {
        const char *lines[3] = { setups[s].lines[0], setups[s].lines[1], setups[s].lines[2] };
        if (strcmp(setups[s].name, "w separated") == 0)
            lines[0] = big;
        for (size_t k = 0; k < NCMDS; k++) {
            struct outcome l, r;
            run_case(la, lb, lines, cmds[k], &l);
            run_case(ra, rb, lines, cmds[k], &r);
            int same = 1;
            for (int i = 0; i < 4; i++) {
                if (strcmp(l.part[i], r.part[i]) != 0) {
                    same = 0;
                    tap_diag("%s: lsmdb %s", what[i], esc(l.part[i], strlen(l.part[i])));
                    tap_diag("%s: redis %s", what[i], esc(r.part[i], strlen(r.part[i])));
                }
            }
            tap_ok(same, "%s, then B's %s: same reply, EXEC, value and TTL as redis-server",
                   setups[s].name, cmds[k]);
            for (int i = 0; i < 4; i++) {
                zfree(l.part[i]);
                zfree(r.part[i]);
            }
        }
    }

    conn_close(la);
    conn_close(lb);
    conn_close(ra);
    conn_close(rb);
    tap_ok(srv_stop(&ls) == 0, "lsmdb-server stopped cleanly");
    srv_stop(&rs);
    srv_cleanup(&ls);
    srv_cleanup(&rs);
    return tap_done();
}
