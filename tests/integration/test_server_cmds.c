/* test_server_cmds.c: the server commands and the process. PING, ECHO,
 * SELECT ranges, TIME, INFO with real figures, COMMAND COUNT/INFO/DOCS/LIST
 * shapes, CONFIG GET/SET/RESETSTAT/REWRITE (rewrite a temp config file, then
 * restart from it), the exact unknown-command and arity errors; SHUTDOWN and
 * SIGTERM/SIGINT exit 0 and remove the pidfile; a second server on the same
 * --dir fails (LOCK); a bad config line stops start-up with "file:line:" and
 * status 1; daemonize yes writes the pidfile of the daemon; INFO
 * commandstats/errorstats; the value-log directives reach the engine.
 * Expected bytes are Redis 7's. */
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/slice.h"
#include "util/zmalloc.h"

static int port;
static pid_t server_pid;

static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : st < 0 ? -1000 : -WTERMSIG(st);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* INFO [section] as text (bulk payload), zmalloc'd, or NULL. */
static char *info(struct conn *c, const char *section)
{
    char *r = section ? conn_call(c, "INFO", section, NULL) : conn_call(c, "INFO", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    char *t = v && v->type == '$' ? zstrdup(v->str) : NULL;
    rv_free(v);
    zfree(r);
    return t;
}

static long long info_ll(const char *text, const char *field)
{
    char v[64];
    if (!text || info_field(text, field, v, sizeof v) < 0)
        return -1;
    return atoll(v);
}

static void test_ping_echo_select(struct conn *c)
{
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "PING -> +PONG");
    tap_ok(reply_is(conn_call(c, "pInG", NULL), "+PONG\r\n"), "command names are case-insensitive");
    tap_ok(reply_is(conn_call(c, "PING", "hello world", NULL), "$11\r\nhello world\r\n"), "PING msg -> bulk msg");
    tap_ok(reply_is(conn_call(c, "PING", "a", "b", NULL), "-ERR wrong number of arguments for 'ping' command\r\n"),
           "PING a b: arity error");
    const char *argv[2] = { "ECHO", "a\0b\r\nc" };
    size_t lens[2] = { 4, 6 };
    conn_sendargv(c, 2, argv, lens);
    size_t n;
    char *r = conn_reply(c, 3000, &n);
    tap_ok(r && n == 12 && memcmp(r, "$6\r\na\0b\r\nc\r\n", 12) == 0, "ECHO is binary-safe");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "ECHO", NULL), "-ERR wrong number of arguments for 'echo' command\r\n"),
           "ECHO alone: arity error");
    tap_ok(reply_is(conn_call(c, "EcHo", "a", "b", NULL), "-ERR wrong number of arguments for 'echo' command\r\n"),
           "arity error names the command in lower case");
    tap_ok(reply_is(conn_call(c, "SELECT", "0", NULL), "+OK\r\n"), "SELECT 0");
    tap_ok(reply_is(conn_call(c, "SELECT", "15", NULL), "+OK\r\n"), "SELECT 15 (databases 16)");
    tap_ok(reply_is(conn_call(c, "SELECT", "16", NULL), "-ERR DB index is out of range\r\n"), "SELECT 16: out of range");
    tap_ok(reply_is(conn_call(c, "SELECT", "-1", NULL), "-ERR DB index is out of range\r\n"), "SELECT -1: out of range");
    tap_ok(reply_is(conn_call(c, "SELECT", "abc", NULL), "-ERR value is not an integer or out of range\r\n"),
           "SELECT abc: not an integer");
    tap_ok(reply_is(conn_call(c, "SELECT", "1.5", NULL), "-ERR value is not an integer or out of range\r\n"),
           "SELECT 1.5: not an integer");
    tap_ok(reply_is(conn_call(c, "SELECT", NULL), "-ERR wrong number of arguments for 'select' command\r\n"),
           "SELECT alone: arity error");
    tap_ok(reply_is(conn_call(c, "SELECT", "0", NULL), "+OK\r\n"), "SELECT 0 again");
}

static void test_errors(struct conn *c)
{
    tap_ok(reply_is(conn_call(c, "nosuch", NULL), "-ERR unknown command 'nosuch', with args beginning with: \r\n"),
           "unknown command without args");
    tap_ok(reply_is(conn_call(c, "NoSuch", "a", "b c", NULL),
                    "-ERR unknown command 'NoSuch', with args beginning with: 'a' 'b c' \r\n"),
           "unknown command with args (name as sent)");
    char arg[201], want[400];
    memset(arg, 'q', 200);
    arg[200] = '\0';
    snprintf(want, sizeof want, "-ERR unknown command 'zz', with args beginning with: '%.128s' \r\n", arg);
    tap_ok(reply_is(conn_call(c, "zz", arg, "next", NULL), want), "unknown command: args quoted up to 128 bytes");
    tap_ok(reply_is(conn_call(c, "TIME", "x", NULL), "-ERR wrong number of arguments for 'time' command\r\n"),
           "TIME x: arity error");
    tap_ok(reply_is(conn_call(c, "QUIT", "x", NULL), "+OK\r\n"), "QUIT ignores extra args: +OK");
    tap_ok(conn_wait_close(c, 3000), "... and closes the connection");
}

static void test_time(struct conn *c)
{
    time_t before = time(NULL);
    char *r = conn_call(c, "TIME", NULL);
    time_t after = time(NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    int shape = v && v->type == '*' && v->n == 2 && v->elem[0]->type == '$' && v->elem[1]->type == '$';
    if (!tap_ok(shape, "TIME: array of two bulk strings"))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    if (shape) {
        long long sec = atoll(v->elem[0]->str), usec = atoll(v->elem[1]->str);
        /* time() reads the kernel's coarse clock, which may still be a tick
         * behind the precise one the server reads: allow one second. */
        tap_ok(sec >= before && sec <= after + 1, "TIME seconds is the Unix time (%lld)", sec);
        tap_ok(usec >= 0 && usec < 1000000 && strspn(v->elem[1]->str, "0123456789") == v->elem[1]->len,
               "TIME microseconds in 0..999999 (%lld)", usec);
    }
    rv_free(v);
    zfree(r);
}

/* SAVE, LASTSAVE, BGSAVE's errors and ROLE answer as redis-server's do
 * (their durability is tests/crash/test_save_powerloss's). */
static void test_save_role(struct conn *c)
{
    time_t before = time(NULL);
    tap_ok(reply_is(conn_call(c, "SAVE", NULL), "+OK\r\n"), "SAVE -> +OK");
    char *r = conn_call(c, "LASTSAVE", NULL);
    long long last = r && r[0] == ':' ? atoll(r + 1) : -1;
    tap_ok(last >= before - 1 && last <= time(NULL) + 1, "LASTSAVE after SAVE is now (%lld)", last);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "SAVE", "x", NULL),
                    "-ERR wrong number of arguments for 'save' command\r\n"), "SAVE x: arity");
    tap_ok(reply_is(conn_call(c, "LASTSAVE", "x", NULL),
                    "-ERR wrong number of arguments for 'lastsave' command\r\n"),
           "LASTSAVE x: arity");
    tap_ok(reply_is(conn_call(c, "BGSAVE", "x", NULL), "-ERR syntax error\r\n"),
           "BGSAVE x: syntax error");
    tap_ok(reply_is(conn_call(c, "BGSAVE", "SCHEDULE", "x", NULL), "-ERR syntax error\r\n"),
           "BGSAVE SCHEDULE x: syntax error");
    tap_ok(reply_is(conn_call(c, "ROLE", NULL), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"),
           "ROLE: master at offset 0 with no replicas");
    tap_ok(reply_is(conn_call(c, "ROLE", "x", NULL),
                    "-ERR wrong number of arguments for 'role' command\r\n"), "ROLE x: arity");
    tap_ok(reply_is(conn_call(c, "MULTI", NULL), "+OK\r\n"), "MULTI");
    tap_ok(reply_is(conn_call(c, "SAVE", NULL), "-ERR Command not allowed inside a transaction\r\n"),
           "SAVE inside MULTI is refused");
    tap_ok(reply_is(conn_call(c, "EXEC", NULL),
                    "-EXECABORT Transaction discarded because of previous errors.\r\n"),
           "... and EXEC aborts");
}

/* The arguments of the newest slow-log entry, joined by '|', with its
 * client name after a '#'; "" when there is none. */
static const char *newest_entry(struct conn *c, long long *id)
{
    static char out[2048];
    char *r = conn_call(c, "SLOWLOG", "GET", "1", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    out[0] = '\0';
    if (v && v->type == '*' && v->n == 1 && v->elem[0]->type == '*' && v->elem[0]->n == 6) {
        const struct rv *e = v->elem[0];
        size_t len = 0;
        for (size_t i = 0; i < e->elem[3]->n && len < sizeof out - 200; i++)
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "",
                                    e->elem[3]->elem[i]->str);
        snprintf(out + len, sizeof out - len, "#%s", e->elem[5]->str);
        if (id)
            *id = e->elem[0]->integer;
    }
    rv_free(v);
    zfree(r);
    return out;
}

/* SLOWLOG as redis-server 7 keeps it: every command at threshold 0, one
 * entry per command run (inside EXEC too, EXEC itself not), arguments cut
 * at 32 and 128 bytes, passwords redacted, the client's name, the length
 * bound, -1 turning it off, and the errors. */
static void test_slowlog(struct conn *c)
{
    char want[512], big[201];
    const char *e;
    long long id1 = -1, id2 = -1;
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "slowlog-log-slower-than", "0",
                              "slowlog-max-len", "128", NULL), "+OK\r\n"), "SLOWLOG: threshold 0");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "RESET", NULL), "+OK\r\n"), "SLOWLOG RESET");
    tap_ok(reply_is(conn_call(c, "slowlog", "Get", "1", "2", NULL),
                    "-ERR unknown subcommand or wrong number of arguments for 'Get'. Try "
                    "SLOWLOG HELP.\r\n"), "SLOWLOG GET with two counts: Redis' syntax error");
    zfree(conn_call(c, "SLOWLOG", "RESET", NULL));
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "LEN", NULL), ":1\r\n"),
           "SLOWLOG LEN after RESET: the RESET itself");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", "slow", NULL), "+OK\r\n"), "CLIENT SETNAME");
    memset(big, 'v', 200);
    big[200] = '\0';
    zfree(conn_call(c, "SET", "slowkey", big, NULL));
    snprintf(want, sizeof want, "SET|slowkey|%.128s... (72 more bytes)#slow", big);
    e = newest_entry(c, &id1);
    tap_ok(strcmp(e, want) == 0, "SLOWLOG: a 200-byte argument keeps 128 (%s)", e);
    const char *argv[40];
    size_t lens[40];
    char names[40][8];
    argv[0] = "DEL";
    lens[0] = 3;
    for (int i = 1; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        argv[i] = names[i];
        lens[i] = strlen(names[i]);
    }
    conn_sendargv(c, 40, argv, lens);
    zfree(conn_reply(c, 2000, NULL));
    e = newest_entry(c, &id2);
    tap_ok(strstr(e, "|k30|... (9 more arguments)#slow") != NULL && strstr(e, "k31") == NULL,
           "SLOWLOG: 40 arguments keep 31 and a count (%s)", e);
    tap_ok(id2 == id1 + 2, "SLOWLOG: ids count up (%lld, then %lld after one more entry)", id1, id2);
    zfree(conn_call(c, "AUTH", "secret", NULL));
    e = newest_entry(c, NULL);
    tap_ok(strcmp(e, "AUTH|(redacted)#slow") == 0, "SLOWLOG: AUTH is redacted (%s)", e);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "requirepass", "", "timeout", "0", NULL),
                    "+OK\r\n"), "CONFIG SET requirepass");
    e = newest_entry(c, NULL);
    tap_ok(strcmp(e, "CONFIG|SET|requirepass|(redacted)|timeout|0#slow") == 0, "SLOWLOG: CONFIG SET of requirepass is redacted (%s)", e);
    zfree(conn_call(c, "HELLO", "2", "AUTH", "default", "pw", "SETNAME", "slow2", NULL));
    e = newest_entry(c, NULL);
    tap_ok(strcmp(e, "HELLO|2|AUTH|(redacted)|(redacted)|SETNAME|slow2#slow2") == 0, "SLOWLOG: HELLO's AUTH is redacted (%s)", e);
    zfree(conn_call(c, "MULTI", NULL));
    zfree(conn_call(c, "SET", "inexec", "1", NULL));
    zfree(conn_call(c, "EXEC", NULL));
    e = newest_entry(c, NULL);
    tap_ok(strcmp(e, "SET|inexec|1#slow2") == 0, "SLOWLOG: a command inside EXEC is logged, EXEC is not (%s)", e);
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "GET", "0", NULL), "*0\r\n"), "SLOWLOG GET 0: empty");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "GET", "-2", NULL),
                    "-ERR count should be greater than or equal to -1\r\n"), "SLOWLOG GET -2");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "GET", "x", NULL),
                    "-ERR count should be greater than or equal to -1\r\n"), "SLOWLOG GET x");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "GET", "1", "2", NULL),
                    "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG "
                    "HELP.\r\n"), "SLOWLOG GET 1 2");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "LEN", "x", NULL),
                    "-ERR wrong number of arguments for 'slowlog|len' command\r\n"), "SLOWLOG LEN x");
    char *r = conn_call(c, "SLOWLOG", "GET", "-1", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    int shape = v && v->type == '*' && v->n >= 10;
    for (size_t i = 0; shape && i < v->n; i++) {
        const struct rv *x = v->elem[i];
        shape = x->type == '*' && x->n == 6 && x->elem[0]->type == ':' && x->elem[1]->type == ':' &&
                x->elem[2]->type == ':' && x->elem[3]->type == '*' && x->elem[4]->type == '$' &&
                x->elem[5]->type == '$' && strncmp(x->elem[4]->str, "127.0.0.1:", 10) == 0 &&
                (i == 0 || x->elem[0]->integer < v->elem[i - 1]->elem[0]->integer);
    }
    tap_ok(shape, "SLOWLOG GET -1: every entry, newest first, [id, time, us, args, addr, name]");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "slowlog-max-len", "2", NULL), "+OK\r\n"),
           "slowlog-max-len 2");
    zfree(conn_call(c, "PING", NULL));
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "LEN", NULL), ":2\r\n"), "SLOWLOG LEN: bounded by the max length");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "slowlog-log-slower-than", "-1", NULL), "+OK\r\n"),
           "slowlog-log-slower-than -1");
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "RESET", NULL), "+OK\r\n"), "SLOWLOG RESET");
    zfree(conn_call(c, "PING", NULL));
    tap_ok(reply_is(conn_call(c, "SLOWLOG", "LEN", NULL), ":0\r\n"), "SLOWLOG: -1 logs nothing");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "slowlog-log-slower-than", "-2", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - "
                    "argument must be between -1 and 9223372036854775807 inclusive\r\n"),
           "slowlog-log-slower-than -2 is out of range");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "slowlog-log-slower-than", "10000",
                              "slowlog-max-len", "128", NULL), "+OK\r\n"), "SLOWLOG: defaults back");
    zfree(conn_call(c, "CLIENT", "SETNAME", "", NULL));
}

static long long int_reply(char *r)
{
    long long v = r && r[0] == ':' ? atoll(r + 1) : -1;
    zfree(r);
    return v;
}

/* MEMORY USAGE: redis-server's errors and reply types; a figure that grows
 * with the value (lsmdb's counts the engine's bytes, docs/server-core.md). */
static void test_memory_usage(struct conn *c)
{
    char big[2001];
    memset(big, 'm', 2000);
    big[2000] = '\0';
    zfree(conn_call(c, "SET", "mu:small", "hello", NULL));
    zfree(conn_call(c, "SET", "mu:big", big, NULL));
    long long small = int_reply(conn_call(c, "MEMORY", "USAGE", "mu:small", NULL));
    long long large = int_reply(conn_call(c, "MEMORY", "USAGE", "mu:big", "SAMPLES", "0", NULL));
    tap_ok(small > 5 && large >= 2000 && large > small,
           "MEMORY USAGE: an integer that grows with the value (%lld, %lld)", small, large);
    tap_ok(reply_is(conn_call(c, "MEMORY", "USAGE", "mu:none", NULL), "$-1\r\n"),
           "MEMORY USAGE of a missing key: null");
    tap_ok(reply_is(conn_call(c, "MEMORY", "USAGE", "mu:small", "SAMPLES", "-1", NULL),
                    "-ERR syntax error\r\n"), "MEMORY USAGE SAMPLES -1: syntax error");
    tap_ok(reply_is(conn_call(c, "MEMORY", "USAGE", "mu:small", "SAMPLES", "x", NULL),
                    "-ERR value is not an integer or out of range\r\n"), "MEMORY USAGE SAMPLES x");
    tap_ok(reply_is(conn_call(c, "MEMORY", "USAGE", "mu:small", "SAMPLES", NULL),
                    "-ERR syntax error\r\n"), "MEMORY USAGE key SAMPLES: syntax error");
    tap_ok(reply_is(conn_call(c, "MEMORY", "USAGE", NULL),
                    "-ERR wrong number of arguments for 'memory|usage' command\r\n"),
           "MEMORY USAGE: arity");
    zfree(conn_call(c, "DEL", "mu:small", "mu:big", NULL));
}

/* INFO latencystats (Redis 7.0): the chosen percentiles of each command
 * called since the last CONFIG RESETSTAT, in order; not in plain INFO;
 * latency-tracking no stops it. The figures are times, so only their
 * format and order are checked. */
static void test_latencystats(struct conn *c)
{
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking", "yes",
                              "latency-tracking-info-percentiles", "50 99 99.9", NULL), "+OK\r\n"),
           "latencystats: tracking on, 50 99 99.9");
    tap_ok(reply_is(conn_call(c, "CONFIG", "RESETSTAT", NULL), "+OK\r\n"), "CONFIG RESETSTAT");
    for (int i = 0; i < 3; i++)
        zfree(conn_call(c, "PING", NULL));
    char *t = info(c, "latencystats");
    const char *l = t ? strstr(t, "latency_percentiles_usec_ping:") : NULL;
    double p50 = -1, p99 = -1, p999 = -1;
    int n = l ? sscanf(l, "latency_percentiles_usec_ping:p50=%lf,p99=%lf,p99.9=%lf", &p50, &p99,
                       &p999) : 0;
    tap_ok(t && strncmp(t, "# Latencystats\r\n", 16) == 0 && n == 3 && p50 >= 0 && p50 <= p99 &&
               p99 <= p999, "INFO latencystats: ping's p50 <= p99 <= p99.9 (%.3f %.3f %.3f)",
           p50, p99, p999);
    tap_ok(t && !strstr(t, "latency_percentiles_usec_get:"), "INFO latencystats: no line for GET");
    zfree(t);
    t = info(c, NULL);
    tap_ok(t && !strstr(t, "# Latencystats"), "plain INFO has no latencystats");
    zfree(t);
    t = info(c, "everything");
    tap_ok(t && strstr(t, "# Latencystats\r\n") && strstr(t, "# Errorstats") < strstr(t, "# Latencystats") &&
               strstr(t, "# Latencystats") < strstr(t, "# Cluster"),
           "INFO everything: latencystats after errorstats, before cluster");
    zfree(t);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "0 100", NULL),
                    "+OK\r\n"), "percentiles 0 100");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "latency-tracking-info-percentiles", NULL),
                    "*2\r\n$33\r\nlatency-tracking-info-percentiles\r\n$5\r\n0 100\r\n"),
           "CONFIG GET latency-tracking-info-percentiles");
    t = info(c, "latencystats");
    l = t ? strstr(t, "latency_percentiles_usec_ping:") : NULL;
    n = l ? sscanf(l, "latency_percentiles_usec_ping:p0=%lf,p100=%lf", &p50, &p99) : 0;
    tap_ok(n == 2 && p50 <= p99, "INFO latencystats: p0 and p100 (%.3f %.3f)", p50, p99);
    zfree(t);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "50 101", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument "
                    "'latency-tracking-info-percentiles') - latency-tracking-info-percentiles "
                    "parameters should sit between [0.0,100.0]\r\n"), "percentile 101 refused");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "x", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument "
                    "'latency-tracking-info-percentiles') - Invalid "
                    "latency-tracking-info-percentiles parameters\r\n"), "percentile x refused");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking", "no", NULL), "+OK\r\n"),
           "latency-tracking no");
    zfree(conn_call(c, "CONFIG", "RESETSTAT", NULL));
    zfree(conn_call(c, "PING", NULL));
    t = info(c, "latencystats");
    tap_ok(t && !strstr(t, "latency_percentiles_usec_ping:"), "latency-tracking no: nothing recorded");
    zfree(t);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-tracking", "yes",
                              "latency-tracking-info-percentiles", "50 99 99.9", NULL), "+OK\r\n"),
           "latencystats: defaults back");
}

/* The event names in LATENCY LATEST's reply (each entry's first bulk), as
 * one space-separated string. */
static void latest_events(struct conn *c, char *out, size_t cap)
{
    char *r = conn_call(c, "LATENCY", "LATEST", NULL);
    struct rv *v = r ? rv_parse(r, strlen(r)) : NULL;
    out[0] = '\0';
    for (size_t i = 0; v && v->type == '*' && i < v->n; i++) {
        const struct rv *e = v->elem[i];
        if (e->type == '*' && e->n == 4 && e->elem[0]->type == '$') {
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%s%s", used ? " " : "", e->elem[0]->str);
        }
    }
    rv_free(v);
    zfree(r);
}

/* 1 when the space-separated list holds the word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The latency monitor: off by default; with a threshold, a slow command
 * adds a sample to "command" (a fast-flagged one to "fast-command"); the
 * samples, chart and report; resets; and LATENCY HISTOGRAM from the
 * latencystats. */
static void test_latency(struct conn *c)
{
    char ev[256];
    latest_events(c, ev, sizeof ev);
    tap_ok(ev[0] == '\0', "latency: no event while the monitor is off");
    char *r = conn_call(c, "LATENCY", "DOCTOR", NULL);
    tap_ok(r && r[0] == '$' && strstr(r, "latency-monitor-threshold"),
           "latency: DOCTOR says how to turn the monitor on");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-monitor-threshold", "1", NULL),
                    "+OK\r\n"), "latency: threshold 1 ms");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "latency-monitor-threshold", NULL),
                    "*2\r\n$25\r\nlatency-monitor-threshold\r\n$1\r\n1\r\n"),
           "latency: CONFIG GET latency-monitor-threshold");
    long long before = (long long)time(NULL);
    /* 40 MB written and read back: well over 1 ms each */
    tap_ok(reply_is(conn_call(c, "SETRANGE", "lat:big", "40000000", "x", NULL),
                    ":40000001\r\n"), "latency: a slow SETRANGE");
    zfree(conn_call(c, "GET", "lat:big", NULL));
    latest_events(c, ev, sizeof ev);
    /* (an expiry cycle that took a millisecond on a busy machine may be
     * there too: "expire-cycle") */
    tap_ok(has_word(ev, "command") && has_word(ev, "fast-command") &&
               strstr(ev, "command") < strstr(ev, "fast-command"),
           "latency: LATEST lists command (SETRANGE) before fast-command (GET): \"%s\"", ev);
    r = conn_call(c, "LATENCY", "HISTORY", "command", NULL);
    struct rv *v = r ? rv_parse(r, strlen(r)) : NULL;
    int ok = v && v->type == '*' && v->n >= 1;
    for (size_t i = 0; ok && i < v->n; i++)
        ok = v->elem[i]->type == '*' && v->elem[i]->n == 2 &&
             v->elem[i]->elem[0]->integer >= before &&
             v->elem[i]->elem[0]->integer <= (long long)time(NULL) &&
             v->elem[i]->elem[1]->integer >= 1;
    tap_ok(ok, "latency: HISTORY command: [time, ms >= 1] samples of this run");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "LATENCY", "HISTORY", "nosuch", NULL), "*0\r\n"),
           "latency: HISTORY of an unknown event is empty");
    r = conn_call(c, "LATENCY", "GRAPH", "command", NULL);
    tap_ok(r && r[0] == '$' && strstr(r, "command - high ") && strstr(r, "#"),
           "latency: GRAPH command draws the samples");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "LATENCY", "GRAPH", "nosuch", NULL),
                    "-ERR No samples available for event 'nosuch'\r\n"),
           "latency: GRAPH of an event without samples");
    r = conn_call(c, "LATENCY", "DOCTOR", NULL);
    tap_ok(r && strstr(r, "- command:") && strstr(r, "- fast-command:"),
           "latency: DOCTOR reports both events");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "LATENCY", "RESET", "command", "nosuch", NULL), ":1\r\n"),
           "latency: RESET command nosuch forgets one event");
    latest_events(c, ev, sizeof ev);
    tap_ok(!has_word(ev, "command") && has_word(ev, "fast-command"),
           "latency: fast-command is left: \"%s\"", ev);
    r = conn_call(c, "LATENCY", "RESET", NULL);
    tap_ok(r && r[0] == ':' && atoi(r + 1) >= 1, "latency: RESET forgets the rest");
    zfree(r);
    /* under appendfsync always, the sync of 16 MB of new value log (random
     * bytes: they stay 16 MB, so the sync takes milliseconds on any disk) */
    size_t big = 16u << 20;
    char *val = zmalloc(big);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < big; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        val[i] = (char)x;
    }
    zfree(conn_call(c, "CONFIG", "SET", "appendfsync", "always", NULL));
    const char *set_argv[] = { "SET", "lat:big2", val };
    const size_t set_lens[] = { 3, 8, big };
    tap_ok(conn_sendargv(c, 3, set_argv, set_lens) == 0 &&
               reply_is(conn_reply(c, 30000, NULL), "+OK\r\n"),
           "latency: a 16 MB SET under appendfsync always");
    zfree(val);
    zfree(conn_call(c, "CONFIG", "SET", "appendfsync", "everysec", NULL));
    zfree(conn_call(c, "DEL", "lat:big2", NULL));
    latest_events(c, ev, sizeof ev);
    tap_ok(has_word(ev, "aof-fsync-always"), "latency: its sync is an aof-fsync-always "
           "sample: \"%s\"", ev);
    /* 20,000 keys expiring together: the active expiry cycle that deletes
     * them takes milliseconds */
    struct buf b = BUF_INIT;
    char cmd[96];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(cmd, sizeof cmd, "SET lat:exp:%d v PX 100\r\n", i);
        buf_append(&b, cmd, (size_t)n);
    }
    conn_send(c, b.data, b.len);
    buf_free(&b);
    for (int i = 0; i < 20000; i++)
        zfree(conn_reply(c, 5000, NULL));
    long long deadline = now_ms() + 5000;
    do {
        usleep(100 * 1000);
        latest_events(c, ev, sizeof ev);
    } while (!has_word(ev, "expire-cycle") && now_ms() < deadline);
    tap_ok(has_word(ev, "expire-cycle"), "latency: the expiry of 20,000 keys is an "
           "expire-cycle sample: \"%s\"", ev);
    zfree(conn_call(c, "LATENCY", "RESET", NULL));
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "latency-monitor-threshold", "0", NULL),
                    "+OK\r\n"), "latency: monitor off");
    zfree(conn_call(c, "SETRANGE", "lat:big", "40000000", "y", NULL));
    latest_events(c, ev, sizeof ev);
    tap_ok(ev[0] == '\0', "latency: off again, a slow command adds nothing");
    zfree(conn_call(c, "DEL", "lat:big", NULL));

    zfree(conn_call(c, "CONFIG", "RESETSTAT", NULL));
    for (int i = 0; i < 5; i++)
        zfree(conn_call(c, "SET", "lat:k", "v", NULL));
    zfree(conn_call(c, "GET", "lat:k", NULL));
    r = conn_call(c, "LATENCY", "HISTOGRAM", "set", "nosuch", "get", NULL);
    v = r ? rv_parse(r, strlen(r)) : NULL;
    /* [set, [calls, 5, histogram_usec, [edge, count, ...]], get, [...]] */
    ok = v && v->type == '*' && v->n == 4 && v->elem[0]->str && !strcmp(v->elem[0]->str, "set") &&
         v->elem[2]->str && !strcmp(v->elem[2]->str, "get");
    const struct rv *set = ok ? v->elem[1] : NULL;
    ok = ok && set->type == '*' && set->n == 4 && set->elem[1]->integer == 5 &&
         set->elem[3]->type == '*' && set->elem[3]->n >= 2 && set->elem[3]->n % 2 == 0;
    long long last_edge = 0, last_count = 0;
    for (size_t i = 0; ok && i < set->elem[3]->n; i += 2) {
        long long edge = set->elem[3]->elem[i]->integer, n = set->elem[3]->elem[i + 1]->integer;
        ok = edge > last_edge && n > last_count;
        last_edge = edge;
        last_count = n;
    }
    tap_ok(ok && last_count == 5 && v->elem[3]->elem[1]->integer == 1,
           "latency: HISTOGRAM set nosuch get: in the arguments' order, cumulative counts "
           "growing to the calls (5 SET, 1 GET)");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "LATENCY", "HISTOGRAM", "nosuch", NULL), "*0\r\n"),
           "latency: HISTOGRAM of an unknown command is empty");
    r = conn_call(c, "LATENCY", "HISTOGRAM", "config", NULL);
    tap_ok(r && strstr(r, "config|resetstat"), "latency: HISTOGRAM config lists its subcommands");
    zfree(r);
}

/* A MONITOR line with its time and the client's port masked:
 * "+T [db 127.0.0.1] ..."; NULL when none came. */
static char *monitor_line(struct conn *m)
{
    char *r = conn_reply(m, 5000, NULL);
    const char *sp = r && r[0] == '+' ? strchr(r, ' ') : NULL;
    const char *colon = sp ? strchr(sp, ':') : NULL;
    const char *close = colon ? strchr(colon, ']') : NULL;
    if (!close)
        return r;
    size_t n = 2 + (size_t)(colon - sp) + strlen(close);
    char *out = zmalloc(n + 1);
    snprintf(out, n + 1, "+T%.*s%s", (int)(colon - sp), sp, close);
    zfree(r);
    return out;
}

/* MONITOR: what a monitor client is sent, as redis-server 7.0.15 sends it
 * (checked side by side): the commands that ran, after they ran, with the
 * db after them; arguments quoted (binary ones escaped) and passwords
 * redacted; admin, unknown and wrong-arity commands left out; queued ones
 * at EXEC. */
static void test_monitor(struct conn *c)
{
    struct conn *m = conn_tcp(port);
    tap_ok(reply_is(conn_call(m, "MONITOR", NULL), "+OK\r\n"), "monitor: MONITOR");
    const char *set_argv[] = { "SET", "mon:k", "v\0\n\"x\\" };
    const size_t set_lens[] = { 3, 5, 6 };
    conn_sendargv(c, 3, set_argv, set_lens);
    zfree(conn_reply(c, 5000, NULL));
    static const char *const lines[][4] = {
        { "SELECT", "2", NULL }, { "GET", "mon:k", NULL }, { "AUTH", "x", NULL },
        { "CONFIG", "GET", "maxclients", NULL }, { "NOSUCH", NULL }, { "GET", NULL },
        { "MULTI", NULL }, { "SET", "mon:a", "1", NULL }, { "EXEC", NULL },
        { "SLOWLOG", "LEN", NULL }, { "SELECT", "0", NULL },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int argc = 0;
        while (argc < 4 && lines[i][argc])
            argc++;
        conn_sendargv(c, argc, lines[i], NULL);
        zfree(conn_reply(c, 5000, NULL));
    }
    static const char *const want[] = {
        "+T [0 127.0.0.1] \"SET\" \"mon:k\" \"v\\x00\\n\\\"x\\\\\"\r\n",
        "+T [2 127.0.0.1] \"SELECT\" \"2\"\r\n",
        "+T [2 127.0.0.1] \"GET\" \"mon:k\"\r\n",
        "+T [2 127.0.0.1] \"AUTH\" \"(redacted)\"\r\n",
        "+T [2 127.0.0.1] \"MULTI\"\r\n",
        "+T [2 127.0.0.1] \"SET\" \"mon:a\" \"1\"\r\n",
        "+T [2 127.0.0.1] \"EXEC\"\r\n",
        "+T [0 127.0.0.1] \"SELECT\" \"0\"\r\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        tap_ok(reply_is(monitor_line(m), want[i]), "monitor: line %zu", i + 1);
    char *r = conn_call(c, "CLIENT", "LIST", NULL);
    tap_ok(r && strstr(r, " flags=O "), "monitor: CLIENT LIST shows the monitor (flags=O)");
    zfree(r);
    tap_ok(reply_is(conn_call(m, "PING", NULL), "+PONG\r\n") &&
               reply_is(monitor_line(m), "+T [0 127.0.0.1] \"PING\"\r\n"),
           "monitor: its own commands run, and show");
    conn_sends(m, "*1\r\n$7\r\nMONITOR\r\n");      /* a second one: no reply */
    tap_ok(reply_is(conn_call(m, "RESET", NULL), "+RESET\r\n"),
           "monitor: MONITOR again has no reply; RESET ends it");
    zfree(conn_call(c, "SET", "mon:k", "w", NULL));
    tap_ok(reply_is(conn_call(m, "PING", NULL), "+PONG\r\n"),
           "monitor: after RESET no line comes");
    zfree(conn_call(m, "MULTI", NULL));
    zfree(conn_call(m, "MONITOR", NULL));
    tap_ok(reply_is(conn_call(m, "EXEC", NULL),
                    "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"),
           "monitor: MONITOR inside EXEC is refused");
    conn_close(m);

    /* A monitor that does not read is closed at the normal class's output
     * buffer limit, as the other clients are: 64 SETs of 256 KB make 32 MB
     * of lines, far past 1 MB and what the socket holds. */
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "client-output-buffer-limit",
                              "normal 1mb 0 0", NULL), "+OK\r\n"), "monitor: a 1 MB limit");
    m = conn_tcp(port);
    tap_ok(reply_is(conn_call(m, "MONITOR", NULL), "+OK\r\n"), "monitor: MONITOR, then no reading");
    size_t big = 256u << 10;
    char *val = zmalloc(big);
    memset(val, 'm', big);
    const char *big_argv[] = { "SET", "mon:big", val };
    const size_t big_lens[] = { 3, 7, big };
    for (int i = 0; i < 64; i++) {
        conn_sendargv(c, 3, big_argv, big_lens);
        zfree(conn_reply(c, 5000, NULL));
    }
    zfree(val);
    r = conn_call(c, "CLIENT", "LIST", NULL);
    tap_ok(r && !strstr(r, " flags=O "), "monitor: closed past the output buffer limit");
    zfree(r);
    tap_ok(conn_wait_close(m, 5000), "monitor: its connection ends");
    conn_close(m);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "client-output-buffer-limit",
                              "normal 0 0 0", NULL), "+OK\r\n"), "monitor: no limit again");
    zfree(conn_call(c, "DEL", "mon:k", "mon:a", "mon:big", NULL));
}

static void test_info(void)
{
    struct conn *c = conn_tcp(port), *x1 = conn_tcp(port), *x2 = conn_tcp(port);
    char *t = info(c, NULL);
    tap_ok(t != NULL, "INFO: a bulk string");
    if (!t)
        return;
    const char *sections[] = { "# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Stats\r\n", "# Keyspace\r\n" };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        tap_ok(strstr(t, sections[i]) != NULL, "INFO has section %s", esc(sections[i], strlen(sections[i]) - 2));
    const char *nl = strchr(t, '\n');
    tap_ok(nl && nl > t && nl[-1] == '\r', "INFO lines end with \\r\\n");
    tap_ok(strstr(t, "\r\nredis_version:") != NULL, "INFO has redis_version (clients read it)");
    tap_ok(info_ll(t, "process_id") == server_pid, "INFO process_id is the server's pid (%lld)", info_ll(t, "process_id"));
    tap_ok(info_ll(t, "tcp_port") == port, "INFO tcp_port is the port (%lld)", info_ll(t, "tcp_port"));
    tap_ok(info_ll(t, "uptime_in_seconds") >= 0, "INFO uptime_in_seconds is a number");
    tap_ok(info_ll(t, "connected_clients") == 3, "INFO connected_clients = 3 with 3 clients open (%lld)",
           info_ll(t, "connected_clients"));
    tap_ok(info_ll(t, "used_memory") > 0, "INFO used_memory > 0 (%lld)", info_ll(t, "used_memory"));
    tap_ok(info_ll(t, "maxclients") == 10000, "INFO maxclients 10000 (%lld)", info_ll(t, "maxclients"));
    long long conns0 = info_ll(t, "total_connections_received");
    long long cmds0 = info_ll(t, "total_commands_processed");
    tap_ok(conns0 >= 3, "INFO total_connections_received counts our connections (%lld)", conns0);
    zfree(t);

    for (int i = 0; i < 10; i++)
        zfree(conn_call(x1, "PING", NULL));
    struct conn *x3 = conn_tcp(port);
    t = info(c, "stats");
    long long cmds1 = info_ll(t, "total_commands_processed");
    long long conns1 = info_ll(t, "total_connections_received");
    tap_ok(cmds1 - cmds0 >= 10 && cmds1 - cmds0 <= 12,
           "total_commands_processed grows by the 10 PINGs (+INFO): %lld -> %lld", cmds0, cmds1);
    tap_ok(conns1 == conns0 + 1, "total_connections_received grows by one per connection (%lld -> %lld)",
           conns0, conns1);
    tap_ok(t && strncmp(t, "# Stats\r\n", 9) == 0 && !strstr(t, "# Server"), "INFO stats: only that section");
    zfree(t);
    t = info(c, "clients");
    tap_ok(info_ll(t, "connected_clients") == 4, "INFO clients: connected_clients = 4 (%lld)", info_ll(t, "connected_clients"));
    zfree(t);
    tap_ok(reply_is(conn_call(c, "INFO", "nosuchsection", NULL), "$0\r\n\r\n"), "INFO nosuchsection: empty bulk");

    tap_ok(reply_is(conn_call(c, "CONFIG", "RESETSTAT", NULL), "+OK\r\n"), "CONFIG RESETSTAT: +OK");
    t = info(c, "stats");
    tap_ok(info_ll(t, "total_commands_processed") >= 0 && info_ll(t, "total_commands_processed") <= 2 &&
           info_ll(t, "total_connections_received") == 0,
           "after RESETSTAT the counters restart (commands %lld, connections %lld)",
           info_ll(t, "total_commands_processed"), info_ll(t, "total_connections_received"));
    zfree(t);
    t = info(c, "clients");
    tap_ok(info_ll(t, "connected_clients") == 4, "... but connected_clients is a gauge, still 4");
    zfree(t);

    /* commandstats / errorstats, as Redis 7 prints them. */
    zfree(conn_call(x2, "PING", NULL));
    zfree(conn_call(x2, "PING", NULL));
    zfree(conn_call(x2, "ECHO", NULL));                 /* arity: rejected */
    zfree(conn_call(x2, "SELECT", "abc", NULL));        /* executed, error */
    zfree(conn_call(x2, "nosuchcmd", NULL));
    zfree(conn_call(x2, "CLIENT", "ID", NULL));
    t = info(c, "commandstats");
    tap_ok(t && strncmp(t, "# Commandstats\r\n", 16) == 0, "INFO commandstats: its section");
    tap_ok(t && strstr(t, "\r\ncmdstat_ping:calls=2,usec=") != NULL, "cmdstat_ping: calls=2");
    tap_ok(t && strstr(t, "\r\ncmdstat_echo:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,"
                         "failed_calls=0\r\n") != NULL, "cmdstat_echo: one rejected call");
    tap_ok(t && strstr(t, "\r\ncmdstat_select:calls=1,") && strstr(t, "rejected_calls=0,failed_calls=1\r\n"),
           "cmdstat_select: one failed call");
    tap_ok(t && strstr(t, "\r\ncmdstat_client|id:calls=1,") != NULL, "subcommands: cmdstat_client|id");
    tap_ok(t && !strstr(t, "cmdstat_get:"), "commands never called are not listed");
    zfree(t);
    t = info(c, "errorstats");
    tap_ok(t && strstr(t, "\r\nerrorstat_ERR:count=3\r\n") != NULL, "errorstat_ERR counts the 3 errors");
    zfree(t);
    t = info(c, NULL);
    tap_ok(t && strstr(t, "# Errorstats\r\n") && !strstr(t, "# Commandstats"),
           "plain INFO has errorstats but not commandstats (like Redis 7)");
    tap_ok(info_ll(t, "total_error_replies") == 3, "total_error_replies = 3 (%lld)",
           info_ll(t, "total_error_replies"));
    zfree(t);
    t = info(c, "everything");
    tap_ok(t && strstr(t, "# Commandstats\r\n"), "INFO everything has commandstats");
    zfree(t);
    /* keyspace_hits / keyspace_misses: reads of a key, as Redis counts
     * them; a write that looks its key up counts nothing. */
    zfree(conn_call(c, "SET", "ks:hit", "v", NULL));
    t = info(c, "stats");
    long long h0 = info_ll(t, "keyspace_hits"), m0 = info_ll(t, "keyspace_misses");
    tap_ok(h0 >= 0 && m0 >= 0 && info_ll(t, "evicted_keys") == 0,
           "INFO stats: keyspace_hits, keyspace_misses, evicted_keys:0");
    zfree(t);
    zfree(conn_call(c, "GET", "ks:hit", NULL));
    zfree(conn_call(c, "GET", "ks:none", NULL));
    zfree(conn_call(c, "EXISTS", "ks:hit", "ks:hit", "ks:none", NULL));
    zfree(conn_call(c, "INCR", "ks:none", NULL));
    zfree(conn_call(c, "SET", "ks:hit", "w", "NX", NULL));
    t = info(c, "stats");
    tap_ok(info_ll(t, "keyspace_hits") == h0 + 3 && info_ll(t, "keyspace_misses") == m0 + 2,
           "GET hit, GET miss, EXISTS 2 hits 1 miss, INCR and SET NX nothing: hits +%lld, "
           "misses +%lld", info_ll(t, "keyspace_hits") - h0, info_ll(t, "keyspace_misses") - m0);
    zfree(t);
    zfree(conn_call(c, "CONFIG", "RESETSTAT", NULL));
    t = info(c, "stats");
    tap_ok(info_ll(t, "keyspace_hits") == 0 && info_ll(t, "keyspace_misses") == 0,
           "RESETSTAT clears keyspace_hits and keyspace_misses");
    zfree(t);
    t = info(c, "errorstats");
    tap_ok(t && !strstr(t, "errorstat_"), "RESETSTAT clears errorstats");
    zfree(t);
    t = info(c, "commandstats");
    tap_ok(t && !strstr(t, "cmdstat_ping") && !strstr(t, "failed_calls=1"),
           "RESETSTAT clears commandstats (RESETSTAT itself is not a failure)");
    zfree(t);
    conn_close(x1);
    conn_close(x2);
    conn_close(x3);
    conn_close(c);
}

/* One COMMAND INFO entry: [name, arity, flags, first, last, step, acl
 * categories, tips, key specs, subcommands]. */
static int entry_ok(const struct rv *e, const char *name, long long arity)
{
    return e && e->type == '*' && e->n == 10 && e->elem[0]->type == '$' && strcmp(e->elem[0]->str, name) == 0 &&
           e->elem[1]->type == ':' && e->elem[1]->integer == arity && e->elem[2]->type == '*' &&
           e->elem[3]->type == ':' && e->elem[4]->type == ':' && e->elem[5]->type == ':' &&
           e->elem[6]->type == '*' && e->elem[7]->type == '*' && e->elem[8]->type == '*' && e->elem[9]->type == '*';
}

static int has_flag(const struct rv *arr, const char *flag)
{
    for (size_t i = 0; arr && i < arr->n; i++)
        if (arr->elem[i]->str && strcmp(arr->elem[i]->str, flag) == 0)
            return 1;
    return 0;
}

static void test_command(struct conn *c)
{
    char *r = conn_call(c, "COMMAND", "COUNT", NULL);
    long long count = r && r[0] == ':' ? atoll(r + 1) : -1;
    tap_ok(count >= 12, "COMMAND COUNT: an integer covering at least our 12 commands (%lld)", count);
    zfree(r);

    size_t n;
    conn_sendv(c, "COMMAND", NULL);
    r = conn_reply(c, 5000, &n);
    struct rv *v = rv_parse(r, n);
    int all_ok = v && v->type == '*' && (long long)v->n == count;
    for (size_t i = 0; all_ok && i < v->n; i++)
        all_ok = v->elem[i]->type == '*' && v->elem[i]->n == 10;
    tap_ok(all_ok, "COMMAND: COUNT entries of 10 fields each");
    rv_free(v);
    zfree(r);

    r = conn_call(c, "COMMAND", "INFO", "ping", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    const struct rv *e = v && v->type == '*' && v->n == 1 ? v->elem[0] : NULL;
    int ok = entry_ok(e, "ping", -1) && has_flag(e->elem[2], "fast") && e->elem[3]->integer == 0 &&
             e->elem[4]->integer == 0 && e->elem[5]->integer == 0;
    if (!tap_ok(ok, "COMMAND INFO ping: [ping, -1, [.. fast ..], 0, 0, 0, ...]"))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    rv_free(v);
    zfree(r);
    r = conn_call(c, "COMMAND", "INFO", "echo", "SELECT", "nosuchcmd", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    tap_ok(v && v->n == 3 && entry_ok(v->elem[0], "echo", 2) && entry_ok(v->elem[1], "select", 2) &&
           v->elem[2]->type == '_', "COMMAND INFO echo SELECT nosuchcmd: two entries and a null");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "COMMAND", "INFO", "nosuchcmd", NULL), "*1\r\n$-1\r\n"),
           "COMMAND INFO nosuchcmd: *1 then a null bulk");
    r = conn_call(c, "COMMAND", "INFO", "config", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    e = v && v->n == 1 ? v->elem[0] : NULL;
    int subs = 0;
    if (entry_ok(e, "config", -2))
        for (size_t i = 0; i < e->elem[9]->n; i++)
            if (e->elem[9]->elem[i]->type == '*' && e->elem[9]->elem[i]->n == 10 &&
                e->elem[9]->elem[i]->elem[0]->str && strncmp(e->elem[9]->elem[i]->elem[0]->str, "config|", 7) == 0)
                subs++;
    tap_ok(subs >= 4, "COMMAND INFO config: subcommand entries config|get/set/resetstat/rewrite (%d)", subs);
    rv_free(v);
    zfree(r);

    r = conn_call(c, "COMMAND", "DOCS", "ping", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    const struct rv *doc = rv_get(v, "ping");
    const struct rv *summary = rv_get(doc, "summary"), *group = rv_get(doc, "group"), *args = rv_get(doc, "arguments");
    ok = v && v->type == '*' && v->n == 2 && doc && summary && summary->len > 0 && rv_get(doc, "since") &&
         group && group->str && strcmp(group->str, "connection") == 0 && args && args->type == '*' && args->n == 1 &&
         rv_get(args->elem[0], "name") && rv_get(args->elem[0], "type");
    if (!tap_ok(ok, "COMMAND DOCS ping: [ping, {summary, since, group connection, complexity, arguments [{name, type, ...}]}]"))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "COMMAND", "DOCS", "nosuchcmd", NULL), "*0\r\n"), "COMMAND DOCS nosuchcmd: empty");
    conn_sendv(c, "COMMAND", "DOCS", NULL);
    r = conn_reply(c, 5000, &n);
    v = rv_parse(r, n);
    tap_ok(v && v->type == '*' && (long long)v->n == 2 * count, "COMMAND DOCS: a doc for each of the COUNT commands");
    rv_free(v);
    zfree(r);
    conn_sendv(c, "COMMAND", "LIST", NULL);
    r = conn_reply(c, 5000, &n);
    v = rv_parse(r, n);
    int has_ping = 0, has_cfg_get = 0;
    for (size_t i = 0; v && i < v->n; i++) {
        has_ping |= v->elem[i]->str && strcmp(v->elem[i]->str, "ping") == 0;
        has_cfg_get |= v->elem[i]->str && strcmp(v->elem[i]->str, "config|get") == 0;
    }
    tap_ok(v && v->type == '*' && (long long)v->n >= count && has_ping && has_cfg_get,
           "COMMAND LIST: names, including ping and config|get");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "COMMAND", "COUNT", "x", NULL), "-ERR wrong number of arguments for 'command|count' command\r\n"),
           "COMMAND COUNT x: arity error");
    tap_ok(reply_is(conn_call(c, "COMMAND", "nosuch", NULL), "-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n"),
           "COMMAND nosuch: unknown subcommand");
}

static void test_config(struct conn *c)
{
    char want[128];
    snprintf(want, sizeof want, "*2\r\n$4\r\nport\r\n$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", port), port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "port", NULL), want), "CONFIG GET port");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "bind", NULL), "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"), "CONFIG GET bind");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "maxclients", NULL), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"),
           "CONFIG GET maxclients: default 10000");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "databases", NULL), "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"),
           "CONFIG GET databases: default 16");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"),
           "CONFIG GET timeout: default 0");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "MAXCLIENTS", NULL), "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n"),
           "CONFIG GET is case-insensitive (and, like Redis 7.0, echoes the name as asked)");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "nosuchparam", NULL), "*0\r\n"), "CONFIG GET nosuchparam: empty");
    char *r = conn_call(c, "CONFIG", "GET", "maxc*", NULL);
    tap_ok(r && strstr(r, "$10\r\nmaxclients\r\n$5\r\n10000\r\n"), "CONFIG GET maxc* (glob) finds maxclients");
    zfree(r);
    r = conn_call(c, "CONFIG", "GET", "*", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    tap_ok(v && v->type == '*' && v->n >= 20 && v->n % 2 == 0 && rv_get(v, "port") && rv_get(v, "requirepass") &&
           rv_get(v, "dir") && rv_get(v, "logfile"), "CONFIG GET *: name/value pairs of every directive");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", NULL), "-ERR wrong number of arguments for 'config|get' command\r\n"),
           "CONFIG GET alone: arity error");

    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "timeout", "30", NULL), "+OK\r\n"), "CONFIG SET timeout 30");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$2\r\n30\r\n"), "... GET says 30");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "maxclients", "100", "timeout", "5", NULL), "+OK\r\n"),
           "CONFIG SET of two directives at once");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n5\r\n") &
           reply_is(conn_call(c, "CONFIG", "GET", "maxclients", NULL), "*2\r\n$10\r\nmaxclients\r\n$3\r\n100\r\n"),
           "... both applied");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "timeout", "-1", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n"),
           "CONFIG SET timeout -1: out of range, Redis' text");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "maxclients", "abc", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"),
           "CONFIG SET maxclients abc: not an integer, Redis' text");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "databases", "4", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n"),
           "CONFIG SET databases: immutable, Redis' text");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "nosuchparam", "1", NULL),
                    "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'\r\n"),
           "CONFIG SET nosuchparam: Redis' text");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "timeout", NULL), "-ERR wrong number of arguments for 'config|set' command\r\n"),
           "CONFIG SET timeout (no value): arity error");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n5\r\n"),
           "failed CONFIG SETs changed nothing");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "maxclients", "10000", "timeout", "0", NULL), "+OK\r\n"), "restore defaults");
    tap_ok(reply_is(conn_call(c, "CONFIG", "REWRITE", NULL), "-ERR The server is running without a config file\r\n"),
           "CONFIG REWRITE without a config file: Redis' error");
    tap_ok(reply_is(conn_call(c, "CONFIG", NULL), "-ERR wrong number of arguments for 'config' command\r\n"),
           "CONFIG alone: arity error");
    tap_ok(reply_is(conn_call(c, "CONFIG", "nosuch", NULL), "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.\r\n"),
           "CONFIG nosuch: unknown subcommand");
}

static void test_rewrite(void)
{
    char conf[SRV_PATH_MAX + 32], tmpl[] = "/tmp/lsmdb-itest-conf-XXXXXX";
    if (!mkdtemp(tmpl)) {
        tap_ok(0, "mkdtemp for the config file");
        return;
    }
    snprintf(conf, sizeof conf, "%s/lsmdb.conf", tmpl);
    write_text(conf, "# lsmdb test config\n# a comment that must survive\nmaxclients 500\ntimeout 0\n");
    struct srv_opts o = { .conf = conf };
    struct srv s;
    if (!tap_ok(srv_start(&s, &o) == 0, "server starts from a config file")) {
        rmdir(tmpl);
        return;
    }
    struct conn *c = conn_tcp(s.port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "maxclients", NULL), "*2\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n"),
           "the file's maxclients 500 is in effect");
    zfree(conn_call(c, "CONFIG", "SET", "timeout", "7", NULL));
    zfree(conn_call(c, "CONFIG", "SET", "maxclients", "123", NULL));
    tap_ok(reply_is(conn_call(c, "CONFIG", "REWRITE", NULL), "+OK\r\n"), "CONFIG REWRITE: +OK");
    conn_close(c);
    char *text = read_file(conf, NULL);
    tap_ok(text && strstr(text, "\ntimeout 7\n") && strstr(text, "\nmaxclients 123\n"),
           "the rewritten file has timeout 7 and maxclients 123");
    tap_ok(text && strstr(text, "# a comment that must survive\n"), "... and keeps the user's comments");
    tap_ok(text && !strstr(text, "maxclients 500"), "... and no stale maxclients line");
    if (text && !(strstr(text, "\ntimeout 7\n")))
        tap_diag("file:\n%s", text);
    zfree(text);
    /* keep its files: the rewritten config names its dir */
    int st = srv_stop_keep(&s);
    tap_ok(exit_code(st) == 0, "server stops (status %d)", exit_code(st));

    struct srv s2;
    if (tap_ok(srv_start(&s2, &o) == 0, "a new server starts from the rewritten file")) {
        c = conn_tcp(s2.port);
        tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n") &
               reply_is(conn_call(c, "CONFIG", "GET", "maxclients", NULL), "*2\r\n$10\r\nmaxclients\r\n$3\r\n123\r\n"),
               "... with timeout 7 and maxclients 123");
        conn_close(c);
        srv_stop(&s2);
    }
    srv_cleanup(&s);
    unlink(conf);
    rmdir(tmpl);
}

static void test_shutdown_and_signals(void)
{
    char pidfile[SRV_PATH_MAX + 32];
    struct srv s;
    struct srv_opts o = { 0 };
    /* the pidfile lives outside s.tmp so it can be checked after exit */
    snprintf(pidfile, sizeof pidfile, "/tmp/lsmdb-itest-%d.pid", (int)getpid());
    const char *args[] = { "--pidfile", pidfile, NULL };
    o.args = args;
    if (!tap_ok(srv_start(&s, &o) == 0, "server with --pidfile starts"))
        return;
    char *t = read_file(pidfile, NULL);
    tap_ok(t && atol(t) == s.pid, "pidfile holds the server's pid (%s)", t ? esc(t, strlen(t)) : "missing");
    zfree(t);
    struct conn *c = conn_tcp(s.port);
    tap_ok(reply_is(conn_call(c, "SHUTDOWN", "bogus", NULL), "-ERR syntax error\r\n"), "SHUTDOWN bogus: syntax error");
    tap_ok(srv_alive(&s), "... and the server keeps running");
    conn_sendv(c, "SHUTDOWN", NULL);
    size_t n;
    int closed;
    char *got = conn_read_all(c, 5000, &n, &closed);
    tap_ok(closed && n == 0, "SHUTDOWN: no reply, the connection closes");
    zfree(got);
    conn_close(c);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(exit_code(st) == 0, "SHUTDOWN: the process exits with status 0 (%d)", exit_code(st));
    tap_ok(!file_exists(pidfile), "SHUTDOWN removes the pidfile");
    srv_stop(&s);
    unlink(pidfile);

    if (tap_ok(srv_start(&s, &o) == 0, "server restarts with --pidfile")) {
        c = conn_tcp(s.port);
        conn_sendv(c, "SHUTDOWN", "NOSAVE", NULL);
        st = srv_wait_exit(&s, 10000);
        tap_ok(exit_code(st) == 0, "SHUTDOWN NOSAVE: exit status 0 (%d)", exit_code(st));
        conn_close(c);
        srv_stop(&s);
    }
    unlink(pidfile);

    if (tap_ok(srv_start(&s, &o) == 0, "server restarts with --pidfile")) {
        c = conn_tcp(s.port);
        /* a client with a pending pipeline while SIGTERM arrives */
        kill(s.pid, SIGTERM);
        st = srv_wait_exit(&s, 10000);
        tap_ok(exit_code(st) == 0, "SIGTERM: exit status 0 (%d)", exit_code(st));
        tap_ok(!file_exists(pidfile), "SIGTERM removes the pidfile");
        tap_ok(conn_wait_close(c, 2000), "SIGTERM closes client connections");
        conn_close(c);
        srv_stop(&s);
    }
    unlink(pidfile);
    if (tap_ok(srv_start(&s, &o) == 0, "server restarts with --pidfile")) {
        kill(s.pid, SIGINT);
        st = srv_wait_exit(&s, 10000);
        tap_ok(exit_code(st) == 0, "SIGINT: exit status 0 (%d)", exit_code(st));
        tap_ok(!file_exists(pidfile), "SIGINT removes the pidfile");
        srv_stop(&s);
    }
    unlink(pidfile);
}

static void test_lock(void)
{
    struct srv a, b;
    if (srv_is_redis()) {
        tap_diag("skipping the LOCK test: redis-server has no data-dir lock");
        return;
    }
    if (!tap_ok(srv_start_args(&a, NULL) == 0, "first server starts"))
        return;
    struct srv_opts o = { .dir = a.dir, .no_wait = 1 };
    tap_ok(srv_start(&b, &o) == 0, "second server spawned on the same --dir");
    int st = srv_wait_exit(&b, 10000);
    tap_ok(st != -1 && exit_code(st) == 1, "second server on the same --dir exits with status 1 (LOCK) (%d)", exit_code(st));
    char *out = read_file(b.out, NULL), *log = read_file(b.logfile, NULL);
    tap_diag("second server said: %s%s", out ? esc(out, strlen(out)) : "", log ? esc(log, strlen(log)) : "");
    zfree(out);
    zfree(log);
    srv_stop(&b);
    struct conn *c = conn_tcp(a.port);
    tap_ok(c && reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "the first server is unaffected");
    conn_close(c);
    srv_stop_keep(&a);
    o.no_wait = 0;
    tap_ok(srv_start(&b, &o) == 0, "after the first stops, a server starts on that dir (lock released)");
    srv_stop(&b);
    srv_cleanup(&a);
}

static void bad_config(const char *what, const char *text, int line)
{
    char conf[64], tmpl[] = "/tmp/lsmdb-itest-bad-XXXXXX";
    if (!mkdtemp(tmpl))
        return;
    snprintf(conf, sizeof conf, "%s/bad.conf", tmpl);
    write_text(conf, text);
    struct srv s;
    struct srv_opts o = { .conf = conf, .no_wait = 1 };
    srv_start(&s, &o);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(st != -1 && exit_code(st) == 1, "%s: start-up fails with status 1 (%d)", what, exit_code(st));
    char *out = read_file(s.out, NULL), *log = read_file(s.logfile, NULL);
    char want[96];
    snprintf(want, sizeof want, "%s:%d:", conf, line);
    int found = (out && strstr(out, want)) || (log && strstr(log, want));
    if (srv_is_redis())
        tap_diag("(redis-server reports config errors its own way, not \"file:line:\")");
    else if (!tap_ok(found, "%s: message \"%s reason\"", what, want))
        tap_diag("output: %s | log: %s", out ? esc(out, strlen(out)) : "", log ? esc(log, strlen(log)) : "");
    zfree(out);
    zfree(log);
    srv_stop(&s);
    unlink(conf);
    rmdir(tmpl);
}

static void test_bad_config(void)
{
    bad_config("unknown directive", "# comment\nmaxclients 100\nnosuchdirective 5\n", 3);
    bad_config("non-numeric value", "maxclients abc\n", 1);
    bad_config("out-of-range number", "timeout 0\n\ndatabases 0\n", 3);
    bad_config("wrong number of arguments", "\n\n\n\ntimeout 1 2\n", 5);

    struct srv s;
    const char *args[] = { "--nosuchdirective", "1", NULL };
    struct srv_opts o = { .args = args, .no_wait = 1 };
    srv_start(&s, &o);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(st != -1 && exit_code(st) == 1, "unknown --directive on the command line: status 1 (%d)", exit_code(st));
    srv_stop(&s);
}

/* CONFIG SET port re-listens; unixsocketperm sets the socket's mode;
 * CONFIG SET value errors use Redis' texts. */
static void test_runtime_config(void)
{
    const char *args[] = { "--unixsocketperm", "700", NULL };
    struct srv s;
    if (!tap_ok(srv_start_args(&s, args) == 0, "server with --unixsocketperm 700 starts"))
        return;
    struct stat st;
    tap_ok(stat(s.sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0700,
           "unix socket exists with mode 700 (%o)", (unsigned)(st.st_mode & 0777));
    struct conn *c = conn_tcp(s.port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "loglevel", "bogus", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning\r\n"),
           "CONFIG SET loglevel bogus: Redis' enum error");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "protected-mode", "maybe", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n"),
           "CONFIG SET protected-mode maybe: Redis' bool error");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "maxclients", "0", NULL),
                    "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"),
           "CONFIG SET maxclients 0: Redis' range error (maxclients is an unsigned int: 1..4294967295)");
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "loglevel", "debug", NULL), "+OK\r\n"), "CONFIG SET loglevel debug");
    int newport = free_port();
    char np[16];
    snprintf(np, sizeof np, "%d", newport);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "port", np, NULL), "+OK\r\n"), "CONFIG SET port <new>: +OK");
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "... the current connection keeps working");
    struct conn *d = conn_tcp(newport);
    tap_ok(d && reply_is(conn_call(d, "PING", NULL), "+PONG\r\n"), "... new connections are accepted on the new port");
    conn_close(d);
    d = conn_tcp(s.port);
    tap_ok(d == NULL, "... and refused on the old one");
    conn_close(d);
    conn_close(c);
    srv_stop(&s);
}

/* Log lines use Redis' format: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> msg"
 * (or, from a signal handler, "pid:signal-handler (unixtime) msg"). */
static void test_log_format(void)
{
    struct srv s;
    if (!tap_ok(srv_start_args(&s, NULL) == 0, "server starts (log format)"))
        return;
    srv_stop_keep(&s);
    char *log = read_file(s.logfile, NULL);
    regex_t re;
    /* (Redis logs from signal handlers as "pid:signal-handler (unixtime) msg") */
    regcomp(&re, "^[0-9]+:([MCSX] [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} [.*#-]|signal-handler \\([0-9]+\\)) .+$",
            REG_EXTENDED | REG_NOSUB);
    int lines = 0, bad = 0;
    for (char *line = log; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line) {
            lines++;
            if (regexec(&re, line, 0, NULL, 0) != 0 && bad++ == 0)
                tap_diag("not in Redis' log format: \"%s\"", esc(line, strlen(line)));
        }
        line = nl ? nl + 1 : NULL;
    }
    regfree(&re);
    tap_ok(lines >= 2 && bad == 0, "every log line (%d) is in Redis' format (%d not)", lines, bad);
    zfree(log);
    srv_cleanup(&s);
}

static void test_config_files(void)
{
    char tmpl[] = "/tmp/lsmdb-itest-inc-XXXXXX";
    if (!mkdtemp(tmpl))
        return;
    char main_conf[64], inc[64], text[256];
    snprintf(main_conf, sizeof main_conf, "%s/main.conf", tmpl);
    snprintf(inc, sizeof inc, "%s/inc.conf", tmpl);
    write_text(inc, "# included\nmaxclients 321\nrequirepass \"pass word\"\n");
    snprintf(text, sizeof text, "timeout 9\ninclude %s\n", inc);
    write_text(main_conf, text);
    struct srv_opts o = { .conf = main_conf };
    struct srv s;
    if (tap_ok(srv_start(&s, &o) == 0, "server starts from a config file with include")) {
        struct conn *c = conn_tcp(s.port);
        tap_ok(reply_is(conn_call(c, "AUTH", "pass word", NULL), "+OK\r\n"),
               "a quoted value with a space (requirepass \"pass word\") is one argument");
        tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "maxclients", NULL), "*2\r\n$10\r\nmaxclients\r\n$3\r\n321\r\n"),
               "the included file's maxclients 321 applies");
        tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n9\r\n"),
               "the main file's timeout 9 applies");
        conn_close(c);
        srv_stop(&s);
    }
    /* an error inside the included file names that file and line */
    write_text(inc, "maxclients 5\n\nnosuchdirective 1\n");
    o.no_wait = 1;
    srv_start(&s, &o);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(st != -1 && exit_code(st) == 1, "bad line in an included file: status 1 (%d)", exit_code(st));
    if (!srv_is_redis()) {
        char *out = read_file(s.out, NULL);
        char want[96];
        snprintf(want, sizeof want, "%s:3:", inc);
        if (!tap_ok(out && strstr(out, want), "... the message names \"%s\"", want))
            tap_diag("output: %s", out ? esc(out, strlen(out)) : "");
        zfree(out);
    }
    srv_stop(&s);
    unlink(inc);
    unlink(main_conf);
    rmdir(tmpl);

    const char *args[] = { "--port", "abc", NULL };
    struct srv_opts o2 = { .args = args, .no_wait = 1 };
    srv_start(&s, &o2);
    st = srv_wait_exit(&s, 10000);
    tap_ok(st != -1 && exit_code(st) == 1, "--port abc on the command line: status 1 (%d)", exit_code(st));
    srv_stop(&s);
}

static int pid_alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

static void test_daemonize(void)
{
    char pidfile[SRV_PATH_MAX + 32];
    snprintf(pidfile, sizeof pidfile, "/tmp/lsmdb-itest-d%d.pid", (int)getpid());
    unlink(pidfile);
    const char *args[] = { "--daemonize", "yes", "--pidfile", pidfile, NULL };
    struct srv_opts o = { .args = args, .no_wait = 1 };
    struct srv s;
    srv_start(&s, &o);
    int st = srv_wait_exit(&s, 10000);
    tap_ok(exit_code(st) == 0, "daemonize yes: the launched process exits 0 (%d)", exit_code(st));
    pid_t dpid = 0;
    long long deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        char *t = read_file(pidfile, NULL);
        if (t && atol(t) > 0)
            dpid = (pid_t)atol(t);
        zfree(t);
        if (dpid)
            break;
        usleep(20000);
    }
    if (dpid > 0)
        harness_watch_pid(dpid);
    tap_ok(dpid > 0 && dpid != s.pid && pid_alive(dpid), "pidfile names the running daemon (pid %d)", (int)dpid);
    int answered = 0;
    while (dpid > 0 && now_ms() < deadline && !answered) {
        struct conn *c = conn_tcp(s.port);
        char *r = c ? conn_call(c, "PING", NULL) : NULL;
        answered = r && strcmp(r, "+PONG\r\n") == 0;
        zfree(r);
        conn_close(c);
        if (!answered)
            usleep(20000);
    }
    tap_ok(answered, "the daemon answers PING");
    if (dpid > 0) {
        kill(dpid, SIGTERM);
        deadline = now_ms() + 10000;
        while (pid_alive(dpid) && now_ms() < deadline)
            usleep(20000);
        if (!tap_ok(!pid_alive(dpid), "the daemon exits on SIGTERM"))
            kill(dpid, SIGKILL);
        tap_ok(!file_exists(pidfile), "... and removes its pidfile");
        harness_unwatch_pid(dpid);
    }
    unlink(pidfile);
    srv_stop(&s);
}

/* The value-log directives reach the engine: with a threshold of 100 bytes
 * a 500-byte value goes to the value log, with the default (1024) it stays
 * inline; vlog-file-size rolls segments. */
static void test_vlog_directives(void)
{
    static const char *const small_args[] = { "--value-separation-threshold", "100",
                                              "--vlog-file-size", "8kb", NULL };
    const char *const *cases[2] = { small_args, NULL };
    char val[501], line[64];
    uint32_t x = 2463534242u;
    for (int i = 0; i < 500; i++) {               /* random letters: snappy can't shrink them */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        val[i] = (char)('a' + x % 26);
    }
    val[500] = '\0';
    for (int k = 0; k < 2; k++) {
        struct srv s;
        if (!tap_ok(srv_start_args(&s, cases[k]) == 0, "server starts (%s)",
                    k == 0 ? "--value-separation-threshold 100" : "defaults"))
            continue;
        struct conn *c = conn_tcp(s.port);
        for (int i = 0; i < 40; i++) {
            char key[16];
            snprintf(key, sizeof key, "v%d", i);
            zfree(conn_call(c, "SET", key, val, NULL));
        }
        char *r = conn_call(c, "GET", "v7", NULL);
        tap_ok(r && strlen(r) == 4 + 2 + 500 + 2 && memcmp(r + 6, val, 500) == 0,
               "a 500-byte value reads back");
        zfree(r);
        char *t = info(c, "lsm");
        long long vb = t && info_field(t, "vlog_bytes_written", line, sizeof line) == 0
                           ? atoll(line) : -1;
        long long segs = t && info_field(t, "vlog_segments", line, sizeof line) == 0
                             ? atoll(line) : -1;
        if (k == 0)
            tap_ok(vb >= 40 * 500 && segs >= 2,
                   "threshold 100: the values are in the value log (%lld bytes, %lld segments "
                   "of 8 KB)", vb, segs);
        else
            tap_ok(vb == 0, "default threshold: a 500-byte value stays inline (%lld)", vb);
        zfree(t);
        conn_close(c);
        srv_stop(&s);
    }
}

int main(void)
{
    harness_init(150);
    struct srv s;
    if (srv_start_args(&s, NULL) < 0)
        tap_bail("server did not start");
    port = s.port;
    server_pid = s.pid;
    tap_diag("server %s pid %d port %d", srv_binary(), (int)s.pid, s.port);
    struct conn *c = conn_tcp(port);
    test_ping_echo_select(c);
    test_time(c);
    test_save_role(c);
    test_slowlog(c);
    test_memory_usage(c);
    test_latencystats(c);
    test_latency(c);
    test_monitor(c);
    test_command(c);
    test_config(c);
    test_errors(c); /* ends with QUIT */
    conn_close(c);
    test_info();
    tap_ok(srv_alive(&s), "server still running");
    int st = srv_stop(&s);
    tap_ok(exit_code(st) == 0, "SIGTERM: exit status 0 (%d)", exit_code(st));

    test_rewrite();
    test_shutdown_and_signals();
    test_lock();
    test_bad_config();
    test_daemonize();
    test_runtime_config();
    test_log_format();
    test_config_files();
    test_vlog_directives();
    return tap_done();
}
