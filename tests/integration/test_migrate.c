/* test_migrate.c: MIGRATE (the outgoing side: the source connects to a
 * target instance, sends AUTH/AUTH2, SELECT and RESTORE, and deletes the
 * keys it moved unless COPY), byte for byte as Redis 7.0 answers. Two
 * servers of the binary under test run on loopback ports, a source and a
 * target, plus a third one started with --requirepass secret. Covered:
 * the plain move (the key gone from the source, its value, its TTL or its
 * lack of one on the target, the destination db, a source in another db),
 * COPY, REPLACE and BUSYKEY (the source key kept), NOKEY, the KEYS form
 * (missing keys skipped, all missing, a key argument that is not "",
 * duplicates, a partial failure that still deletes the keys that moved),
 * argument errors and the order in which Redis checks them (options, then
 * the timeout and the db), errors inside MULTI, WATCH on the source and on
 * the target, AUTH and AUTH2 (wrong passwords and users, NOAUTH, an AUTH to
 * a target without a password, the SELECT sent again after an error),
 * SLOWLOG's redaction of the passwords, COMMAND GETKEYS and
 * GETKEYSANDFLAGS, binary keys and values, integers, a 1 MB value (in
 * lsmdb's value log), an expired key, the cached connection (two MIGRATEs
 * in a row, the target restarted on the same port, the target gone),
 * connection errors with their timing (nothing listening, a port of -1, a
 * listener that never accepts, timeout 0 or negative meaning 1000 ms),
 * and, when a redis-server is at hand, the same payloads MIGRATEd from the
 * server under test into a real Redis. Every expected reply was taken from
 * redis-server 7.0.15 (MIGRATE from one redis-server to another): running
 * this test with LSMDB_SERVER=/usr/bin/redis-server passes.
 *
 * Steps are command lines split on single spaces ("" is an empty argument)
 * run on one of the connections (source, a second source connection,
 * target, a second target connection, the password target, the payload
 * target) and the exact reply; in both, %HH is the byte 0xHH, and {T},
 * {A}, {P}, {C}, {L} stand for the port of the target, the password target,
 * the payload target, a port where nothing listens and one where the test
 * listens without ever accepting. Only 127.0.0.1 is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

/* The connections a step runs on. */
enum { SRC, SRC2, DST, DST2, AUT, RED, NCONN, PAY = NCONN };
static struct conn *conns[NCONN];
static int pay = DST;               /* the payload target: DST or RED */
static int port_of[128];            /* {X} -> port */

struct step {
    int on;
    const char *cmd;
    const char *expect;
};

#define OK "+OK\r\n"
#define QUEUED "+QUEUED\r\n"
#define NIL "$-1\r\n"
#define NOKEY "+NOKEY\r\n"
#define ZERO ":0\r\n"
#define ONE ":1\r\n"
#define NOT_INT "-ERR value is not an integer or out of range\r\n"
#define SYNTAX "-ERR syntax error\r\n"
#define ARITY "-ERR wrong number of arguments for 'migrate' command\r\n"
#define KEYS_NOT_EMPTY \
    "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
#define TARGET_ERR(e) "-ERR Target instance replied with error: " e "\r\n"
#define BUSYKEY TARGET_ERR("BUSYKEY Target key name already exists.")
#define NOAUTH TARGET_ERR("NOAUTH Authentication required.")
#define WRONGPASS TARGET_ERR("WRONGPASS invalid username-password pair or user is disabled.")
#define NO_PASSWORD                                                                      \
    TARGET_ERR("ERR AUTH <password> called without any password configured for the " \
               "default user. Are you sure your configuration is correct?")
#define DB_RANGE TARGET_ERR("ERR DB index is out of range")
#define IOERR_CONNECT "-IOERR error or timeout connecting to the client\r\n"
#define IOERR_WRITE "-IOERR error or timeout writing to target instance\r\n"
#define IOERR_READ "-IOERR error or timeout reading to target instance\r\n"
#define EXEC_ABORT "*-1\r\n"
#define EXECABORT "-EXECABORT Transaction discarded because of previous errors.\r\n"
#define INVALID_ARGS "-ERR Invalid arguments specified for command\r\n"
#define INVALID_NARGS "-ERR Invalid number of arguments specified for command\r\n"
#define KFLAGS "*3\r\n+RW\r\n+access\r\n+delete\r\n"

#define BIG_LEN (1024 * 1024)

/* Replaces every {X} whose port is known by that port. */
static void expand(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 8 < cap; p++) {
        unsigned char x = (unsigned char)p[1];
        if (p[0] == '{' && x != 0 && x < 128 && p[2] == '}' && port_of[x] != 0) {
            o += (size_t)snprintf(out + o, cap - o, "%d", port_of[x]);
            p += 2;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static struct conn *conn_of(int on)
{
    return conns[on == PAY ? pay : on];
}

/* Runs line (expanded, %-decoded) on a connection; the raw reply. */
static char *call_on(int on, const char *line, size_t *rlen)
{
    char buf[4096];
    expand(line, buf, sizeof buf);
    return conn_call_line(conn_of(on), buf, CALL_PCT, rlen);
}

static int step_ok(int on, const char *line, const char *expect)
{
    size_t rlen = 0;
    char *got = call_on(on, line, &rlen);
    char want[4096];
    expand(expect, want, sizeof want);
    size_t wlen = pct_decode(want, strlen(want));
    return bytes_are(got, rlen, want, wlen);
}

static const char *conn_name(int on)
{
    static const char *const names[] = { "src", "src2", "dst", "dst2", "auth", "redis", "pay" };
    return names[on];
}

static void run_steps(const char *section, const struct step *steps)
{
    for (const struct step *s = steps; s->cmd; s++)
        tap_ok(step_ok(s->on, s->cmd, s->expect), "%s: %s %s", section, conn_name(s->on), s->cmd);
}

/* The integer reply of a line, or -999999 when it is not an integer. */
static long long call_int(int on, const char *line)
{
    size_t rlen = 0;
    char *raw = call_on(on, line, &rlen);
    struct rv *v = raw ? rv_parse(raw, rlen) : NULL;
    long long n = v && v->type == ':' ? v->integer : -999999;
    rv_free(v);
    zfree(raw);
    return n;
}

/* Checks that PTTL key on a connection is within [lo, hi]. */
static void pttl_in(const char *section, int on, const char *key, long long lo, long long hi)
{
    char line[256];
    snprintf(line, sizeof line, "PTTL %s", key);
    long long ms = call_int(on, line);
    tap_ok(ms >= lo && ms <= hi, "%s: %s PTTL %s is %lld, within [%lld, %lld]", section,
           conn_name(on), key, ms, lo, hi);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* --- the plain move ------------------------------------------------------ */

static const struct step basic_steps[] = {
    { SRC, "SET b:k hello", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:k 0 5000", OK },
    { SRC, "EXISTS b:k", ZERO },
    { SRC, "GET b:k", NIL },
    { DST, "GET b:k", "$5\r\nhello\r\n" },
    { DST, "PTTL b:k", ":-1\r\n" },
    { DST, "TYPE b:k", "+string\r\n" },
    /* gone from the source: nothing to migrate */
    { SRC, "MIGRATE 127.0.0.1 {T} b:k 0 5000", NOKEY },
    { SRC, "MIGRATE 127.0.0.1 {T} b:none 0 5000", NOKEY },
    { DST, "EXISTS b:none", ZERO },
    /* the command name and options in any case */
    { SRC, "SET b:c case", OK },
    { SRC, "migrate 127.0.0.1 {T} b:c 0 5000 copy", OK },
    { SRC, "MiGrAtE 127.0.0.1 {T} b:c 0 5000 rEpLaCe", OK },
    { SRC, "EXISTS b:c", ZERO },
    { DST, "GET b:c", "$4\r\ncase\r\n" },
    /* destination db: SELECT on the target, the target's db 0 untouched */
    { SRC, "SET b:d indb3", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:d 3 5000", OK },
    { SRC, "EXISTS b:d", ZERO },
    { DST, "EXISTS b:d", ZERO },
    { DST, "SELECT 3", OK },
    { DST, "GET b:d", "$5\r\nindb3\r\n" },
    { DST, "SELECT 0", OK },
    /* back to db 0 on the same (cached) connection */
    { SRC, "SET b:z back", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:z 0 5000", OK },
    { DST, "GET b:z", "$4\r\nback\r\n" },
    { DST, "SELECT 3", OK },
    { DST, "EXISTS b:z", ZERO },
    { DST, "SELECT 0", OK },
    /* the source's own db is the client's: db 2 here, db 0 on the target */
    { SRC, "SELECT 2", OK },
    { SRC, "SET b:s2 from2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:s2 0 5000", OK },
    { SRC, "EXISTS b:s2", ZERO },
    { SRC, "SELECT 0", OK },
    { DST, "GET b:s2", "$5\r\nfrom2\r\n" },
    /* a db the target does not have: its SELECT error, and the source key
     * stays; the RESTORE sent along with the SELECT still ran, in the db
     * the connection was in (0) */
    { SRC, "SET b:r range", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:r 16 5000", DB_RANGE },
    { SRC, "GET b:r", "$5\r\nrange\r\n" },
    { DST, "GET b:r", "$5\r\nrange\r\n" },
    { SRC, "MIGRATE 127.0.0.1 {T} b:r 0 5000", BUSYKEY },
    { SRC, "SET b:r range2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} b:r 0 5000 REPLACE", OK },
    { SRC, "EXISTS b:r", ZERO },
    { DST, "GET b:r", "$6\r\nrange2\r\n" },
    { 0, NULL, NULL },
};

/* TTLs: kept (relative, so within a window), or none on the target. */
static void test_ttl(void)
{
    static const struct step setup[] = {
        { SRC, "SET t:px v PX 100000", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} t:px 0 5000", OK },
        { SRC, "EXISTS t:px", ZERO },
        { SRC, "SET t:ex v EX 1000", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} t:ex 4 5000", OK },
        { SRC, "SET t:cp v PX 200000", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} t:cp 0 5000 COPY", OK },
        { SRC, "SET t:no v", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} t:no 0 5000", OK },
        { DST, "PTTL t:no", ":-1\r\n" },
        /* a persistent key REPLACEs one with a TTL: no TTL left */
        { DST, "SET t:rp old PX 100000", OK },
        { SRC, "SET t:rp new", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} t:rp 0 5000 REPLACE", OK },
        { DST, "GET t:rp", "$3\r\nnew\r\n" },
        { DST, "PTTL t:rp", ":-1\r\n" },
        { 0, NULL, NULL },
    };
    run_steps("ttl", setup);
    pttl_in("ttl", DST, "t:px", 95000, 100000);
    tap_ok(step_ok(DST, "SELECT 4", OK), "ttl: dst SELECT 4");
    pttl_in("ttl", DST, "t:ex", 995000, 1000000);
    tap_ok(step_ok(DST, "SELECT 0", OK), "ttl: dst SELECT 0");
    pttl_in("ttl", DST, "t:cp", 195000, 200000);
    pttl_in("ttl", SRC, "t:cp", 195000, 200000);
}

/* --- COPY, REPLACE, BUSYKEY ------------------------------------------------ */

static const struct step copy_steps[] = {
    { SRC, "SET c:k v1", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000 COPY", OK },
    { SRC, "GET c:k", "$2\r\nv1\r\n" },
    { DST, "GET c:k", "$2\r\nv1\r\n" },
    /* the target has it now: BUSYKEY, with or without COPY; nothing moves */
    { SRC, "SET c:k v2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000 COPY", BUSYKEY },
    { SRC, "GET c:k", "$2\r\nv2\r\n" },
    { DST, "GET c:k", "$2\r\nv1\r\n" },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000", BUSYKEY },
    { SRC, "GET c:k", "$2\r\nv2\r\n" },
    { DST, "GET c:k", "$2\r\nv1\r\n" },
    /* COPY REPLACE: overwritten there, kept here */
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000 COPY REPLACE", OK },
    { SRC, "GET c:k", "$2\r\nv2\r\n" },
    { DST, "GET c:k", "$2\r\nv2\r\n" },
    /* REPLACE alone: overwritten there, deleted here */
    { SRC, "SET c:k v3", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000 REPLACE", OK },
    { SRC, "EXISTS c:k", ZERO },
    { DST, "GET c:k", "$2\r\nv3\r\n" },
    /* options repeated, in any order */
    { SRC, "SET c:k v4", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k 0 5000 REPLACE COPY replace copy", OK },
    { SRC, "GET c:k", "$2\r\nv4\r\n" },
    { DST, "GET c:k", "$2\r\nv4\r\n" },
    /* a BUSYKEY in another db of the target */
    { DST, "SELECT 6", OK },
    { DST, "SET c:k6 there", OK },
    { DST, "SELECT 0", OK },
    { SRC, "SET c:k6 here", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k6 6 5000", BUSYKEY },
    { SRC, "MIGRATE 127.0.0.1 {T} c:k6 0 5000", OK },
    { SRC, "EXISTS c:k6", ZERO },
    { DST, "GET c:k6", "$4\r\nhere\r\n" },
    { DST, "SELECT 6", OK },
    { DST, "GET c:k6", "$5\r\nthere\r\n" },
    { DST, "SELECT 0", OK },
    { 0, NULL, NULL },
};

/* --- the KEYS form ----------------------------------------------------- */

static const struct step keys_steps[] = {
    { SRC, "SET k:1 one", OK },
    { SRC, "SET k:3 three", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:1 k:2 k:3", OK },
    { SRC, "EXISTS k:1 k:2 k:3", ZERO },
    { DST, "MGET k:1 k:2 k:3", "*3\r\n$3\r\none\r\n$-1\r\n$5\r\nthree\r\n" },
    /* all missing */
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:1 k:2 k:3", NOKEY },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:none", NOKEY },
    /* KEYS with no keys, and "" without KEYS: nothing to migrate */
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS", NOKEY },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000", NOKEY },
    /* the key argument must be "" with KEYS */
    { SRC, "SET k:x x", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} k:x 0 5000 KEYS k:x", KEYS_NOT_EMPTY },
    { SRC, "MIGRATE 127.0.0.1 {T} k:x 0 5000 KEYS", KEYS_NOT_EMPTY },
    { SRC, "MIGRATE 127.0.0.1 {T} k:x 0 5000 COPY KEYS k:x", KEYS_NOT_EMPTY },
    { SRC, "GET k:x", "$1\r\nx\r\n" },
    { DST, "EXISTS k:x", ZERO },
    /* after KEYS everything is a key, option names too */
    { SRC, "SET k:a a", OK },
    { SRC, "SET COPY c", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:a COPY", OK },
    { SRC, "EXISTS k:a COPY", ZERO },
    { DST, "MGET k:a COPY", "*2\r\n$1\r\na\r\n$1\r\nc\r\n" },
    /* options before KEYS apply to every key */
    { SRC, "MSET k:m1 1 k:m2 2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 5 5000 COPY KEYS k:m1 k:m2", OK },
    { SRC, "MGET k:m1 k:m2", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n" },
    { DST, "SELECT 5", OK },
    { DST, "MGET k:m1 k:m2", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n" },
    { DST, "SELECT 0", OK },
    /* a partial failure: the error of the first failing key, the keys
     * that were restored are deleted, the others stay */
    { DST, "SET k:p1 theirs", OK },
    { SRC, "MSET k:p1 mine1 k:p2 mine2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:p1 k:p2", BUSYKEY },
    { SRC, "MGET k:p1 k:p2", "*2\r\n$5\r\nmine1\r\n$-1\r\n" },
    { DST, "MGET k:p1 k:p2", "*2\r\n$6\r\ntheirs\r\n$5\r\nmine2\r\n" },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 REPLACE KEYS k:p1 k:p2", OK },
    { SRC, "EXISTS k:p1 k:p2", ZERO },
    { DST, "MGET k:p1 k:p2", "*2\r\n$5\r\nmine1\r\n$5\r\nmine2\r\n" },
    /* a key named twice is restored twice: BUSYKEY for the second, yet
     * the first went through and the key is deleted */
    { SRC, "SET k:d dup", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS k:d k:d", BUSYKEY },
    { SRC, "EXISTS k:d", ZERO },
    { DST, "GET k:d", "$3\r\ndup\r\n" },
    { SRC, "SET k:d2 dup2", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 REPLACE KEYS k:d2 k:d2", OK },
    { SRC, "EXISTS k:d2", ZERO },
    { DST, "GET k:d2", "$4\r\ndup2\r\n" },
    { 0, NULL, NULL },
};

/* --- argument errors and their order ------------------------------------ */

static const struct step args_steps[] = {
    { SRC, "SET e:k v", OK },
    { SRC, "MIGRATE", ARITY },
    { SRC, "migrate 127.0.0.1", ARITY },
    { SRC, "MIGRATE a b c d", ARITY },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0", ARITY },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 abc", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k abc 5000", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 1.5 5000", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 1.5", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 99999999999999999999", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 \"\"", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 FOO", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 COPY FOO", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 AUTH", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 AUTH2", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 AUTH2 u", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 AUTH2 u p AUTH x FOO", SYNTAX },
    /* all five arguments parse before any check: "a b c d e" is a bad
     * timeout, not a bad host */
    { SRC, "MIGRATE a b c d e", NOT_INT },
    /* the options are parsed first, so a bad option (and AUTH without its
     * password) wins over a bad timeout or db */
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 abc FOO", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k abc abc FOO", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 abc AUTH", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k abc 5000 AUTH2 u", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k abc abc", NOT_INT },
    /* a KEYS with a key argument wins over a bad timeout, an option before
     * it wins over KEYS, and after KEYS nothing is an option */
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 abc KEYS a", KEYS_NOT_EMPTY },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 FOO KEYS a", SYNTAX },
    { SRC, "MIGRATE 127.0.0.1 {T} e:k 0 5000 KEYS a FOO", KEYS_NOT_EMPTY },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 abc KEYS a", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" abc 5000 KEYS a", NOT_INT },
    { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS FOO", NOKEY },
    /* the numbers are checked before the keys are looked up */
    { SRC, "MIGRATE 127.0.0.1 {T} e:none 0 abc", NOT_INT },
    /* nothing moved */
    { SRC, "GET e:k", "$1\r\nv\r\n" },
    { DST, "EXISTS e:k", ZERO },
    { 0, NULL, NULL },
};

/* --- MULTI/EXEC and WATCH -------------------------------------------------- */

static const struct step multi_steps[] = {
    { SRC, "SET x:m v", OK },
    { SRC, "MULTI", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} x:m 0 5000", QUEUED },
    { SRC, "MIGRATE 127.0.0.1 {T} x:m 0 5000", QUEUED },
    { SRC, "MIGRATE 127.0.0.1 {T} x:m x 5000", QUEUED },
    { SRC, "MIGRATE 127.0.0.1 {T} x:m 0 5000 FOO", QUEUED },
    { SRC, "EXISTS x:m", QUEUED },
    { SRC, "EXEC", "*5\r\n" OK NOKEY NOT_INT SYNTAX ZERO },
    { DST, "GET x:m", "$1\r\nv\r\n" },
    /* an arity error is found when queuing */
    { SRC, "MULTI", OK },
    { SRC, "MIGRATE a b c d", ARITY },
    { SRC, "EXEC", EXECABORT },
    /* WATCH on the source: a move touches the key, COPY does not, a
     * failing MIGRATE and a NOKEY do not */
    { SRC, "SET x:w v", OK },
    { SRC, "WATCH x:w", OK },
    { SRC2, "MIGRATE 127.0.0.1 {T} x:w 0 5000", OK },
    { SRC, "MULTI", OK },
    { SRC, "PING", QUEUED },
    { SRC, "EXEC", EXEC_ABORT },
    { SRC, "SET x:w2 v", OK },
    { SRC, "WATCH x:w2", OK },
    { SRC2, "MIGRATE 127.0.0.1 {T} x:w2 0 5000 COPY", OK },
    { SRC, "MULTI", OK },
    { SRC, "PING", QUEUED },
    { SRC, "EXEC", "*1\r\n+PONG\r\n" },
    { SRC, "WATCH x:w2", OK },
    { SRC2, "MIGRATE 127.0.0.1 {T} x:w2 0 5000", BUSYKEY },
    { SRC, "MULTI", OK },
    { SRC, "PING", QUEUED },
    { SRC, "EXEC", "*1\r\n+PONG\r\n" },
    { SRC, "WATCH x:gone", OK },
    { SRC2, "MIGRATE 127.0.0.1 {T} x:gone 0 5000", NOKEY },
    { SRC, "MULTI", OK },
    { SRC, "PING", QUEUED },
    { SRC, "EXEC", "*1\r\n+PONG\r\n" },
    /* WATCH on the target: its RESTORE touches the key */
    { DST, "SET x:tw old", OK },
    { SRC, "SET x:tw new", OK },
    { DST2, "WATCH x:tw", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} x:tw 0 5000 REPLACE", OK },
    { DST2, "MULTI", OK },
    { DST2, "PING", QUEUED },
    { DST2, "EXEC", EXEC_ABORT },
    { DST, "GET x:tw", "$3\r\nnew\r\n" },
    { 0, NULL, NULL },
};

/* --- AUTH and AUTH2 ------------------------------------------------------- */

/* The source's connection to the password target stays unauthenticated
 * until the first right password: on an authenticated cached connection
 * Redis goes on with SELECT and RESTORE after a failed AUTH. */
static const struct step auth_steps[] = {
    { AUT, "DBSIZE", ZERO },
    { SRC, "SET a:k v", OK },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 0 1000", NOAUTH },
    { SRC, "EXISTS a:k", ONE },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 0 1000 AUTH wrong", WRONGPASS },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 0 1000 AUTH2 default wrong", WRONGPASS },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 0 1000 AUTH2 nobody secret", WRONGPASS },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 0 1000 AUTH Secret", WRONGPASS },
    { SRC, "MIGRATE 127.0.0.1 {A} \"\" 0 1000 AUTH wrong KEYS a:k", WRONGPASS },
    /* its SELECT 4 failed (NOAUTH): the next MIGRATE to db 4 must send it
     * again */
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 4 1000 AUTH wrong", WRONGPASS },
    { SRC, "GET a:k", "$1\r\nv\r\n" },
    { AUT, "DBSIZE", ZERO },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k 4 1000 AUTH secret", OK },
    { SRC, "EXISTS a:k", ZERO },
    { AUT, "EXISTS a:k", ZERO },
    { AUT, "SELECT 4", OK },
    { AUT, "GET a:k", "$1\r\nv\r\n" },
    { AUT, "SELECT 0", OK },
    /* AUTH2 with the default user */
    { SRC, "SET a:k2 v2", OK },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k2 0 1000 AUTH2 default secret", OK },
    { SRC, "EXISTS a:k2", ZERO },
    { AUT, "GET a:k2", "$2\r\nv2\r\n" },
    /* with the other options, in any place before KEYS */
    { SRC, "SET a:k3 v3", OK },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k3 0 1000 COPY AUTH secret REPLACE", OK },
    { SRC, "GET a:k3", "$2\r\nv3\r\n" },
    { AUT, "GET a:k3", "$2\r\nv3\r\n" },
    { SRC, "MSET a:m1 1 a:m2 2", OK },
    { SRC, "MIGRATE 127.0.0.1 {A} \"\" 0 1000 AUTH secret KEYS a:m1 a:m2 a:m3", OK },
    { SRC, "EXISTS a:m1 a:m2", ZERO },
    { AUT, "MGET a:m1 a:m2 a:m3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n" },
    /* a later AUTH replaces an earlier one */
    { SRC, "SET a:k4 v4", OK },
    { SRC, "MIGRATE 127.0.0.1 {A} a:k4 0 1000 AUTH wrong AUTH secret", OK },
    { AUT, "GET a:k4", "$2\r\nv4\r\n" },
    /* AUTH to a target without a password: its error, the source key
     * stays; the RESTORE sent along with the AUTH still ran there */
    { SRC, "SET a:np v", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} a:np 0 1000 AUTH x", NO_PASSWORD },
    { SRC, "GET a:np", "$1\r\nv\r\n" },
    { DST, "GET a:np", "$1\r\nv\r\n" },
    /* AUTH2 default with any password is accepted there */
    { SRC, "SET a:np2 v", OK },
    { SRC, "MIGRATE 127.0.0.1 {T} a:np2 0 1000 AUTH2 default anything", OK },
    { SRC, "EXISTS a:np2", ZERO },
    { DST, "GET a:np2", "$1\r\nv\r\n" },
    { 0, NULL, NULL },
};

/* --- SLOWLOG: the passwords redacted as the options are parsed ------------- */

struct slow_case {
    const char *cmd;
    const char *reply;
    const char *args;               /* SLOWLOG GET's argument list, as a line */
};

static const struct slow_case slow_cases[] = {
    { "MIGRATE 127.0.0.1 {A} s:1 0 1000 AUTH secret", OK,
      "MIGRATE 127.0.0.1 {A} s:1 0 1000 AUTH (redacted)" },
    { "MIGRATE 127.0.0.1 {A} s:2 0 1000 COPY AUTH2 default secret REPLACE", OK,
      "MIGRATE 127.0.0.1 {A} s:2 0 1000 COPY AUTH2 (redacted) (redacted) REPLACE" },
    { "MIGRATE 127.0.0.1 {A} \"\" 0 1000 AUTH secret KEYS s:3 s:none", OK,
      "MIGRATE 127.0.0.1 {A} \"\" 0 1000 AUTH (redacted) KEYS s:3 s:none" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH secret", NOKEY,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH (redacted)" },
    { "migrate 127.0.0.1 {A} s:none 0 1000 auth pw", NOKEY,
      "migrate 127.0.0.1 {A} s:none 0 1000 auth (redacted)" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH a AUTH b", NOKEY,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH (redacted) AUTH (redacted)" },
    /* errors: only what was parsed before the error is redacted */
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH", SYNTAX,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH2 user", SYNTAX,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH2 user" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH pw FOO AUTH pw2", SYNTAX,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH (redacted) FOO AUTH pw2" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 abc AUTH pw", NOT_INT,
      "MIGRATE 127.0.0.1 {A} s:none 0 abc AUTH (redacted)" },
    { "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH pw KEYS x", KEYS_NOT_EMPTY,
      "MIGRATE 127.0.0.1 {A} s:none 0 1000 AUTH (redacted) KEYS x" },
    /* after KEYS, AUTH and its "password" are keys */
    { "MIGRATE 127.0.0.1 {A} \"\" 0 1000 KEYS AUTH pw", NOKEY,
      "MIGRATE 127.0.0.1 {A} \"\" 0 1000 KEYS AUTH pw" },
    { NULL, NULL, NULL },
};

/* Splits line (expanded) on spaces, "" = empty: words into w (pointing into
 * buf), their count. */
static int split_words(const char *line, char *buf, size_t cap, const char **w, size_t *wl, int max)
{
    expand(line, buf, cap);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "\"\"") == 0)
            tok[0] = '\0';
        w[n] = tok;
        wl[n] = pct_decode(tok, strlen(tok));
        n++;
    }
    return n;
}

/* 1 when the newest SLOWLOG entry's argument list is the words of args. */
static int slowlog_args_are(const char *args)
{
    char buf[1024];
    const char *w[64];
    size_t wl[64];
    int n = split_words(args, buf, sizeof buf, w, wl, 64);
    size_t rlen = 0;
    char *raw = call_on(SRC, "SLOWLOG GET 1", &rlen);
    struct rv *v = raw ? rv_parse(raw, rlen) : NULL;
    int ok = v && v->type == '*' && v->n == 1 && v->elem[0]->type == '*' && v->elem[0]->n >= 4;
    const struct rv *a = ok ? v->elem[0]->elem[3] : NULL;
    ok = ok && a->type == '*' && a->n == (size_t)n;
    for (int i = 0; ok && i < n; i++)
        ok = a->elem[i]->type == '$' && a->elem[i]->len == wl[i] &&
             memcmp(a->elem[i]->str, w[i], wl[i]) == 0;
    if (!ok) {
        printf("#   expected arguments: %s\n", esc(args, strlen(args)));
        printf("#   got: \"%s\"\n", raw ? esc(raw, rlen) : "(no reply)");
    }
    rv_free(v);
    zfree(raw);
    return ok;
}

static void test_slowlog(void)
{
    static const struct step setup[] = {
        { SRC, "CONFIG SET slowlog-log-slower-than 0", OK },
        { SRC, "MSET s:1 v s:2 v s:3 v", OK },
        { 0, NULL, NULL },
    };
    run_steps("slowlog", setup);
    for (const struct slow_case *s = slow_cases; s->cmd; s++) {
        int ok = step_ok(SRC, "SLOWLOG RESET", OK);
        ok &= step_ok(SRC, s->cmd, s->reply);
        ok &= slowlog_args_are(s->args);
        tap_ok(ok, "slowlog: %s is logged as %s", s->cmd, s->args);
    }
    static const struct step after[] = {
        { SRC, "CONFIG SET slowlog-log-slower-than 10000", OK },
        { SRC, "SLOWLOG RESET", OK },
        { SRC, "EXISTS s:1 s:2 s:3", ":1\r\n" },
        { AUT, "MGET s:1 s:2 s:3", "*3\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n" },
        { 0, NULL, NULL },
    };
    run_steps("slowlog", after);
}

/* --- COMMAND GETKEYS ------------------------------------------------------ */

static const struct step getkeys_steps[] = {
    { SRC, "COMMAND GETKEYS MIGRATE h p k 0 5", "*1\r\n$1\r\nk\r\n" },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p k 0 5", "*1\r\n*2\r\n$1\r\nk\r\n" KFLAGS },
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 AUTH pw KEYS a b", "*2\r\n$1\r\na\r\n$1\r\nb\r\n" },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p \"\" 0 5 AUTH pw KEYS a b",
      "*2\r\n*2\r\n$1\r\na\r\n" KFLAGS "*2\r\n$1\r\nb\r\n" KFLAGS },
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 KEYS a", "*1\r\n$1\r\na\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p k 0 5 COPY REPLACE AUTH2 u pw", "*1\r\n$1\r\nk\r\n" },
    /* the arguments are not checked, except a KEYS after a key */
    { SRC, "COMMAND GETKEYS MIGRATE h p k x y", "*1\r\n$1\r\nk\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p k 0 5 FOO", "*1\r\n$1\r\nk\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p k 0 5 AUTH", "*1\r\n$1\r\nk\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p k 0 5 KEYS a", INVALID_ARGS },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p k 0 5 KEYS a", INVALID_ARGS },
    { SRC, "COMMAND GETKEYS MIGRATE h p k", INVALID_NARGS },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p k", INVALID_NARGS },
    /* without KEYS (or with none after it) the empty key argument is the key */
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5", "*1\r\n$0\r\n\r\n" },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p \"\" 0 5", "*1\r\n*2\r\n$0\r\n\r\n" KFLAGS },
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 KEYS", "*1\r\n$0\r\n\r\n" },
    /* option arguments are skipped when looking for KEYS; after it every
     * argument is a key */
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 AUTH KEYS a", "*1\r\n$0\r\n\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 AUTH2 KEYS x KEYS b", "*1\r\n$1\r\nb\r\n" },
    { SRC, "COMMAND GETKEYS MIGRATE h p \"\" 0 5 COPY KEYS a COPY", "*2\r\n$1\r\na\r\n$4\r\nCOPY\r\n" },
    { SRC, "COMMAND GETKEYSANDFLAGS MIGRATE h p \"\" 0 5 COPY KEYS a COPY",
      "*2\r\n*2\r\n$1\r\na\r\n" KFLAGS "*2\r\n$4\r\nCOPY\r\n" KFLAGS },
    { 0, NULL, NULL },
};

/* --- payloads: binary, integers, empty, big ------------------------------- */

/* Run with {P} = the target (same binary) and again with a real Redis. */
static const struct step payload_steps[] = {
    { PAY, "DEL p:s p:%00%0d%0akey p:int p:neg p:max p:min p:z p:pl p:sp p:lz p:e p:r p:t", NULL },
    { SRC, "SET p:s hello", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:s 0 5000", OK },
    { SRC, "EXISTS p:s", ZERO },
    { PAY, "GET p:s", "$5\r\nhello\r\n" },
    { SRC, "SET p:%00%0d%0akey %00%ff%0d%0aval%00", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:%00%0d%0akey 0 5000", OK },
    { SRC, "EXISTS p:%00%0d%0akey", ZERO },
    { PAY, "GET p:%00%0d%0akey", "$8\r\n%00%ff%0d%0aval%00\r\n" },
    /* integers, as the target's integers */
    { SRC, "SET p:int 12345", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:int 0 5000", OK },
    { PAY, "GET p:int", "$5\r\n12345\r\n" },
    { PAY, "INCR p:int", ":12346\r\n" },
    { SRC, "SET p:neg -42", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:neg 0 5000", OK },
    { PAY, "GET p:neg", "$3\r\n-42\r\n" },
    { PAY, "INCRBY p:neg -1", ":-43\r\n" },
    { SRC, "SET p:max 9223372036854775807", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:max 0 5000", OK },
    { PAY, "GET p:max", "$19\r\n9223372036854775807\r\n" },
    { SRC, "SET p:min -9223372036854775808", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:min 0 5000", OK },
    { PAY, "DECRBY p:min 0", ":-9223372036854775808\r\n" },
    /* integer-looking strings that are no integers keep their bytes */
    { SRC, "MSET p:z 007 p:pl +5 p:sp %201", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} \"\" 0 5000 KEYS p:z p:pl p:sp", OK },
    { PAY, "MGET p:z p:pl p:sp", "*3\r\n$3\r\n007\r\n$2\r\n+5\r\n$2\r\n%201\r\n" },
    /* a long repetitive string (Redis compresses it in DUMP) */
    { SRC, "SET p:lz aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:lz 0 5000", OK },
    { PAY, "GET p:lz", "$60\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" },
    { SRC, "SET p:e \"\"", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:e 0 5000", OK },
    { PAY, "GET p:e", "$0\r\n\r\n" },
    { PAY, "STRLEN p:e", ZERO },
    /* REPLACE over the target's key, BUSYKEY without */
    { PAY, "SET p:r old", OK },
    { SRC, "SET p:r new", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:r 0 5000", BUSYKEY },
    { SRC, "MIGRATE 127.0.0.1 {P} p:r 0 5000 REPLACE", OK },
    { PAY, "GET p:r", "$3\r\nnew\r\n" },
    { SRC, "EXISTS p:r", ZERO },
    /* a TTL */
    { SRC, "SET p:t v PX 100000", OK },
    { SRC, "MIGRATE 127.0.0.1 {P} p:t 0 5000", OK },
    { 0, NULL, NULL },
};

/* A 1 MB value with a TTL moved to {P}, then copied back unchanged. */
static void test_big(const char *section)
{
    char *v = zmalloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        v[i] = (char)((i * 7 + 3) & 0xff);
    const char *argv[] = { "SET", "p:big", v };
    size_t lens[] = { 3, 5, BIG_LEN };
    int ok = conn_sendargv(conn_of(SRC), 3, argv, lens) == 0;
    char *r = ok ? conn_reply(conn_of(SRC), 10000, NULL) : NULL;
    tap_ok(r && strcmp(r, OK) == 0, "%s: SET a 1 MB value", section);
    zfree(r);
    static const struct step move[] = {
        { PAY, "DEL p:big", NULL },
        { SRC, "PEXPIRE p:big 300000", ONE },
        { SRC, "MIGRATE 127.0.0.1 {P} p:big 0 5000", OK },
        { SRC, "EXISTS p:big", ZERO },
        { PAY, "STRLEN p:big", ":1048576\r\n" },
        { 0, NULL, NULL },
    };
    for (const struct step *s = move; s->cmd; s++) {
        if (s->expect)
            tap_ok(step_ok(s->on, s->cmd, s->expect), "%s: %s %s", section, conn_name(s->on), s->cmd);
        else
            zfree(call_on(s->on, s->cmd, NULL));
    }
    pttl_in(section, PAY, "p:big", 290000, 300000);
    size_t want_len = BIG_LEN + 32;
    char *want = zmalloc(want_len);
    int hl = snprintf(want, want_len, "$%d\r\n", BIG_LEN);
    memcpy(want + hl, v, BIG_LEN);
    memcpy(want + hl + BIG_LEN, "\r\n", 2);
    want_len = (size_t)hl + BIG_LEN + 2;
    size_t rlen = 0;
    r = call_on(PAY, "GET p:big", &rlen);
    tap_ok(bytes_are(r, rlen, want, want_len), "%s: the target's GET is the 1 MB value", section);
    zfree(want);
    zfree(v);
}

static void test_payloads(const char *section)
{
    for (const struct step *s = payload_steps; s->cmd; s++) {
        if (s->expect)
            tap_ok(step_ok(s->on, s->cmd, s->expect), "%s: %s %s", section, conn_name(s->on), s->cmd);
        else
            zfree(call_on(s->on, s->cmd, NULL));
    }
    pttl_in(section, PAY, "p:t", 95000, 100000);
    test_big(section);
}

/* --- an expired key ------------------------------------------------------- */

static void test_expired(void)
{
    static const struct step setup[] = {
        { SRC, "SET x:e1 v PX 40", OK },
        { SRC, "SET x:e2 v PX 40", OK },
        { SRC, "SET x:live v", OK },
        { 0, NULL, NULL },
    };
    run_steps("expired", setup);
    sleep_ms(150);
    static const struct step after[] = {
        { SRC, "MIGRATE 127.0.0.1 {T} x:e1 0 5000", NOKEY },
        { SRC, "MIGRATE 127.0.0.1 {T} \"\" 0 5000 KEYS x:e2 x:live", OK },
        { SRC, "EXISTS x:e1 x:e2 x:live", ZERO },
        { DST, "EXISTS x:e1 x:e2", ZERO },
        { DST, "GET x:live", "$1\r\nv\r\n" },
        { 0, NULL, NULL },
    };
    run_steps("expired", after);
}

/* --- the cached connection: restarts on the same port --------------------- */

/* Starts s on a given port (the harness picks its own, the later --port
 * wins); 0 once it answers PING. */
static int start_on_port(struct srv *s, int port)
{
    char pb[16];
    snprintf(pb, sizeof pb, "%d", port);
    const char *args[] = { "--port", pb, NULL };
    struct srv_opts o = { .args = args, .no_wait = 1 };
    if (srv_start(s, &o) != 0)
        return -1;
    s->port = port;
    long long deadline = now_ms() + 10000;
    while (now_ms() < deadline && srv_alive(s)) {
        struct conn *c = conn_tcp(port);
        char *r = c ? conn_call(c, "PING", NULL) : NULL;
        int ok = r && strcmp(r, "+PONG\r\n") == 0;
        zfree(r);
        conn_close(c);
        if (ok)
            return 0;
        sleep_ms(20);
    }
    srv_dump(s);
    srv_stop(s);
    return -1;
}

static int reconnect_dst(struct srv *dst)
{
    conn_close(conns[DST]);
    conn_close(conns[DST2]);
    conns[DST] = conn_tcp(dst->port);
    conns[DST2] = conn_tcp(dst->port);
    return conns[DST] && conns[DST2];
}

static void test_cache(struct srv *dst)
{
    static const struct step twice[] = {
        { SRC, "MSET r:1 one r:2 two r:3 three r:4 four", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} r:1 0 1000", OK },
        { SRC, "MIGRATE 127.0.0.1 {T} r:2 5 1000", OK },
        { SRC, "EXISTS r:1 r:2", ZERO },
        { DST, "GET r:1", "$3\r\none\r\n" },
        { DST, "SELECT 5", OK },
        { DST, "GET r:2", "$3\r\ntwo\r\n" },
        { DST, "SELECT 0", OK },
        { 0, NULL, NULL },
    };
    run_steps("cache", twice);

    /* a new target on the same port: the cached socket is broken, the
     * source connects again (and SELECTs db 5 on the new connection) */
    int port = dst->port;
    srv_stop(dst);
    if (!tap_ok(start_on_port(dst, port) == 0 && reconnect_dst(dst),
                "cache: a new target on the same port %d", port))
        return;
    static const struct step again[] = {
        { SRC, "MIGRATE 127.0.0.1 {T} r:3 5 1000", OK },
        { SRC, "EXISTS r:3", ZERO },
        { DST, "SELECT 5", OK },
        { DST, "GET r:3", "$5\r\nthree\r\n" },
        { DST, "SELECT 0", OK },
        { DST, "EXISTS r:3", ZERO },
        { 0, NULL, NULL },
    };
    run_steps("cache", again);

    /* the target gone: an error, the key stays */
    srv_stop(dst);
    static const struct step gone[] = {
        { SRC, "MIGRATE 127.0.0.1 {T} r:4 0 1000", IOERR_WRITE },
        { SRC, "GET r:4", "$4\r\nfour\r\n" },
        { SRC, "MIGRATE 127.0.0.1 {T} r:4 0 1000 COPY", IOERR_WRITE },
        { 0, NULL, NULL },
    };
    run_steps("cache", gone);
    if (!tap_ok(start_on_port(dst, port) == 0 && reconnect_dst(dst),
                "cache: the target back on port %d", port))
        return;
    static const struct step back[] = {
        { SRC, "MIGRATE 127.0.0.1 {T} r:4 0 1000", OK },
        { SRC, "EXISTS r:4", ZERO },
        { DST, "GET r:4", "$4\r\nfour\r\n" },
        { 0, NULL, NULL },
    };
    run_steps("cache", back);
}

/* --- connection errors and timeouts --------------------------------------- */

struct tstep {
    const char *cmd;
    const char *expect;
    int min_ms, max_ms;             /* how long the reply may take */
};

static const struct tstep conn_steps[] = {
    /* nothing listens: the connect "succeeds" in Redis, the write fails */
    { "MIGRATE 127.0.0.1 {C} ce:k 0 300", IOERR_WRITE, 0, 1000 },
    { "MIGRATE 127.0.0.1 {C} ce:k 0 0", IOERR_WRITE, 0, 1000 },
    { "MIGRATE 127.0.0.1 {C} ce:k 3 300 COPY AUTH pw", IOERR_WRITE, 0, 1000 },
    /* a port that does not resolve */
    { "MIGRATE 127.0.0.1 -1 ce:k 0 300", IOERR_CONNECT, 0, 1000 },
    /* the keys are looked up before connecting */
    { "MIGRATE 127.0.0.1 {C} ce:none 0 300", NOKEY, 0, 1000 },
    { "MIGRATE 127.0.0.1 -1 \"\" 0 300 KEYS ce:none", NOKEY, 0, 1000 },
    /* a listener that never accepts: the reply never comes */
    { "MIGRATE 127.0.0.1 {L} ce:k 0 300", IOERR_READ, 250, 2000 },
    { "MIGRATE 127.0.0.1 {L} ce:k 3 300 COPY", IOERR_READ, 250, 2000 },
    { "MIGRATE 127.0.0.1 {L} ce:k 0 300 AUTH pw", IOERR_READ, 250, 2000 },
    /* timeout 0 or negative: 1000 ms */
    { "MIGRATE 127.0.0.1 {L} ce:k 0 0", IOERR_READ, 900, 3000 },
    { "MIGRATE 127.0.0.1 {L} ce:k 0 -5", IOERR_READ, 900, 3000 },
    { NULL, NULL, 0, 0 },
};

/* A socket listening on 127.0.0.1 that nobody accepts on; its fd, or -1. */
static int listen_never_accept(int *port)
{
    int fd = loopback_socket(port);
    if (fd >= 0 && listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* connected_clients of the server a connection is on, or -1. */
static long connected_clients(int on)
{
    size_t rlen = 0;
    char *info = call_on(on, "INFO clients", &rlen);
    char v[32];
    long n = info && info_field(info, "connected_clients", v, sizeof v) == 0 ? atol(v) : -1;
    zfree(info);
    return n;
}

/* A cached connection to a target is closed once it has been idle for
 * 10 s (Redis' MIGRATE_SOCKET_CACHE_TTL): the target sees it go. */
static void test_idle_close(void)
{
    tap_ok(step_ok(SRC, "SET idle:k v", OK), "idle: SET idle:k");
    tap_ok(step_ok(SRC, "MIGRATE 127.0.0.1 {T} idle:k 0 1000 COPY REPLACE", OK),
           "idle: MIGRATE ... COPY REPLACE to the target");
    long before = connected_clients(DST);
    sleep(13);
    long after = connected_clients(DST);
    tap_ok(before > 0 && after == before - 1,
           "idle: the source's cached connection is closed after 10 s unused (%ld -> %ld "
           "clients on the target)", before, after);
}

static void test_conn_errors(void)
{
    int lport = 0;
    int lfd = listen_never_accept(&lport);
    port_of['L'] = lport;
    port_of['C'] = free_port();
    if (!tap_ok(lfd >= 0 && port_of['C'] > 0, "conn: a listener (port %d) and a closed port (%d)",
                lport, port_of['C']))
        return;
    tap_ok(step_ok(SRC, "SET ce:k kept", OK), "conn: SET ce:k");
    for (const struct tstep *s = conn_steps; s->cmd; s++) {
        long long t0 = now_ms();
        int ok = step_ok(SRC, s->cmd, s->expect);
        long long ms = now_ms() - t0;
        tap_ok(ok, "conn: %s", s->cmd);
        tap_ok(ms >= s->min_ms && ms <= s->max_ms, "conn: %s took %lld ms, within [%d, %d]",
               s->cmd, ms, s->min_ms, s->max_ms);
        tap_ok(step_ok(SRC, "GET ce:k", "$4\r\nkept\r\n"), "conn: after %s the source key stays",
               s->cmd);
    }
    close(lfd);
    static const struct step after[] = {
        /* the failures leave nothing behind: a real target works */
        { SRC, "MIGRATE 127.0.0.1 {T} ce:k 3 1000", OK },
        { SRC, "EXISTS ce:k", ZERO },
        { DST, "SELECT 3", OK },
        { DST, "GET ce:k", "$4\r\nkept\r\n" },
        { DST, "SELECT 0", OK },
        { 0, NULL, NULL },
    };
    run_steps("conn", after);
}

/* --- main ------------------------------------------------------------------- */

static struct conn *must_conn(int port)
{
    struct conn *c = conn_tcp(port);
    if (!c)
        tap_bail("no connection");
    return c;
}

/* MIGRATE from the server under test into a real redis-server. */
static void test_into_redis(void)
{
    const char *rb = redis_binary();
    if (!rb) {
        tap_diag("no redis-server: the payloads into a real Redis are not checked");
        return;
    }
    struct srv r;
    struct srv_opts ro = { .bin = rb };
    if (!tap_ok(srv_start(&r, &ro) == 0, "redis: a real redis-server (%s) starts", rb))
        return;
    conns[RED] = conn_tcp(r.port);
    if (tap_ok(conns[RED] != NULL, "redis: connected")) {
        pay = RED;
        port_of['P'] = r.port;
        test_payloads("redis");
        pay = DST;
    }
    conn_close(conns[RED]);
    conns[RED] = NULL;
    srv_stop(&r);
}

int main(void)
{
    harness_init(120);
    static const char *const auth_args[] = { "--requirepass", "secret", NULL };
    struct srv src, dst, aut;
    if (srv_start_args(&src, NULL) != 0)
        tap_bail("source server did not start");
    if (srv_start_args(&dst, NULL) != 0)
        tap_bail("target server did not start");
    if (srv_start_args(&aut, auth_args) != 0)
        tap_bail("password target server did not start");
    tap_diag("%s: source port %d, target %d, password target %d", srv_binary(), src.port,
             dst.port, aut.port);
    conns[SRC] = must_conn(src.port);
    conns[SRC2] = must_conn(src.port);
    conns[DST] = must_conn(dst.port);
    conns[DST2] = must_conn(dst.port);
    conns[AUT] = must_conn(aut.port);
    port_of['T'] = dst.port;
    port_of['A'] = aut.port;
    port_of['P'] = dst.port;
    tap_ok(step_ok(AUT, "AUTH secret", OK), "setup: AUTH on the password target");

    run_steps("basic", basic_steps);
    test_ttl();
    run_steps("copy", copy_steps);
    run_steps("keys", keys_steps);
    run_steps("args", args_steps);
    run_steps("multi", multi_steps);
    run_steps("auth", auth_steps);
    test_slowlog();
    run_steps("getkeys", getkeys_steps);
    test_payloads("payload");
    test_expired();
    test_cache(&dst);
    test_idle_close();
    test_conn_errors();
    test_into_redis();

    for (int i = 0; i < NCONN; i++)
        conn_close(conns[i]);
    srv_stop(&aut);
    srv_stop(&dst);
    srv_stop(&src);
    return tap_done();
}
