/* test_clients.c: many clients and the CLIENT command family. 1,000 clients
 * connected at once all get answers; maxclients refuses the next one with
 * Redis' error and closes it; CLIENT SETNAME/GETNAME/ID/INFO/LIST/KILL (old
 * addr form and the filter form)/REPLY reply exactly like Redis 7; an idle
 * client is closed after `timeout` seconds while a busy one stays. A hiredis
 * client is used where RESP2 is enough, raw sockets elsewhere. */
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static int port;

static int local_port(const struct conn *c)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    if (getsockname(c->fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    return ntohs(a.sin_port);
}

static long long client_id(struct conn *c)
{
    char *r = conn_call(c, "CLIENT", "ID", NULL);
    long long id = r && r[0] == ':' ? atoll(r + 1) : -1;
    zfree(r);
    return id;
}

/* INFO clients -> connected_clients, or -1. */
static long connected_clients(struct conn *c)
{
    char *r = conn_call(c, "INFO", "clients", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    char val[32];
    long n = -1;
    if (v && v->str && info_field(v->str, "connected_clients", val, sizeof val) == 0)
        n = atol(val);
    rv_free(v);
    zfree(r);
    return n;
}

/* Polls until connected_clients == want (clients are freed asynchronously
 * after a close); returns the last value seen. */
static long wait_clients(struct conn *c, long want, int ms)
{
    long long deadline = now_ms() + ms;
    long n;
    while ((n = connected_clients(c)) != want && now_ms() < deadline)
        usleep(20000);
    return n;
}

static void test_thousand_clients(void)
{
    enum { N = 1000 };
    long lim = raise_nofile(N + 100);
    if (!tap_ok(lim >= N + 50, "RLIMIT_NOFILE raised to %ld", lim))
        return;
    struct conn **cs = zcalloc(N * sizeof *cs);
    struct conn *ctl = conn_tcp(port);
    int connected = 0;
    for (int i = 0; i < N; i++) {
        cs[i] = conn_tcp(port);
        if (cs[i])
            connected++;
    }
    tap_ok(connected == N, "%d clients connected at once (%d ok)", N, connected);
    /* every client has a request in flight before any reply is read */
    int sent = 0;
    for (int i = 0; i < N; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        if (cs[i] && conn_sendv(cs[i], "ECHO", num, NULL) == 0)
            sent++;
    }
    int answered = 0;
    for (int i = 0; i < N; i++) {
        if (!cs[i])
            continue;
        char *r = conn_reply(cs[i], 10000, NULL);
        char want[32];
        snprintf(want, sizeof want, "$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", i), i);
        if (r && strcmp(r, want) == 0)
            answered++;
        else if (answered == i)
            tap_diag("client %d: got \"%s\"", i, r ? esc(r, strlen(r)) : "(nothing)");
        zfree(r);
    }
    tap_ok(sent == N && answered == N, "all %d concurrent clients answered (%d)", N, answered);
    long cc = connected_clients(ctl);
    tap_ok(cc == N + 1, "INFO connected_clients = %d with %d clients open (got %ld)", N + 1, N + 1, cc);
    /* Ids stay found through many arrivals and departures (the server's
     * index of clients by id): a third leave, then CLIENT KILL ID finds
     * each of the others and none of the departed. */
    long long *ids = zcalloc(N * sizeof *ids);
    int found = 0, gone = 0, left = 0;
    for (int i = 0; i < N; i++)
        ids[i] = cs[i] ? client_id(cs[i]) : -1;
    for (int i = 0; i < N; i += 3, left++) {
        conn_close(cs[i]);
        cs[i] = NULL;
    }
    cc = wait_clients(ctl, N + 1 - left, 5000);
    tap_ok(cc == N + 1 - left, "%d clients left (connected_clients %ld)", left, cc);
    for (int i = 0; i < N; i++) {
        char num[32];
        snprintf(num, sizeof num, "%lld", ids[i]);
        if (i % 3 == 0)
            gone += reply_is(conn_call(ctl, "CLIENT", "KILL", "ID", num, NULL), ":0\r\n");
        else
            found += reply_is(conn_call(ctl, "CLIENT", "KILL", "ID", num, NULL), ":1\r\n");
    }
    tap_ok(found == N - left && gone == left,
           "CLIENT KILL ID: %d of %d open clients found, %d of %d departed not", found, N - left,
           gone, left);
    zfree(ids);
    for (int i = 0; i < N; i++)
        conn_close(cs[i]);
    zfree(cs);
    cc = wait_clients(ctl, 1, 5000);
    tap_ok(cc == 1, "connected_clients back to 1 after they close (got %ld)", cc);
    conn_close(ctl);
}

/* 50 clients each with 2,000 pipelined ECHOs in flight at once, written in
 * interleaved slices: every client gets its own replies, complete and in
 * order (no cross-talk, no starvation). */
static void test_concurrent_pipelines(void)
{
    enum { C = 50, N = 2000 };
    struct conn *cs[C];
    struct buf_s { char *p; size_t len; } req[C];
    for (int i = 0; i < C; i++) {
        cs[i] = conn_tcp(port);
        size_t cap = (size_t)N * 48, n = 0;
        req[i].p = zmalloc(cap);
        for (int k = 0; k < N; k++) {
            char v[24];
            int l = snprintf(v, sizeof v, "%d:%d", i, k);
            n += (size_t)snprintf(req[i].p + n, cap - n, "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", l, v);
        }
        req[i].len = n;
    }
    /* interleave: 4 KB of each client's pipeline in turn */
    size_t off = 0;
    int more = 1, send_ok = 1;
    while (more) {
        more = 0;
        for (int i = 0; i < C; i++) {
            if (!cs[i] || off >= req[i].len)
                continue;
            size_t chunk = req[i].len - off < 4096 ? req[i].len - off : 4096;
            send_ok &= conn_send(cs[i], req[i].p + off, chunk) == 0;
            more = 1;
        }
        off += 4096;
    }
    int good_clients = 0;
    for (int i = 0; i < C; i++) {
        int good = cs[i] != NULL;
        for (int k = 0; good && k < N; k++) {
            char v[24], want[48];
            int l = snprintf(v, sizeof v, "%d:%d", i, k);
            snprintf(want, sizeof want, "$%d\r\n%s\r\n", l, v);
            char *r = conn_reply(cs[i], 10000, NULL);
            good = r && strcmp(r, want) == 0;
            if (!good)
                tap_diag("client %d reply %d: want \"%s\" got \"%s\"", i, k, esc(want, strlen(want)),
                         r ? esc(r, strlen(r)) : "(none)");
            zfree(r);
        }
        good_clients += good;
        conn_close(cs[i]);
        zfree(req[i].p);
    }
    tap_ok(send_ok && good_clients == C, "%d clients x %d pipelined ECHOs, interleaved: each gets its own replies in order (%d ok)",
           C, N, good_clients);
}

static void test_maxclients(void)
{
    struct conn *ctl = conn_tcp(port);
    tap_ok(reply_is(conn_call(ctl, "CONFIG", "SET", "maxclients", "3", NULL), "+OK\r\n"),
           "CONFIG SET maxclients 3");
    struct conn *a = conn_tcp(port), *b = conn_tcp(port);
    tap_ok(a && b && reply_is(conn_call(a, "PING", NULL), "+PONG\r\n") &&
           reply_is(conn_call(b, "PING", NULL), "+PONG\r\n"),
           "clients 2 and 3 of maxclients 3 are served");
    struct conn *c = conn_tcp(port);
    size_t n = 0;
    int closed = 0;
    char *got = c ? conn_read_all(c, 2000, &n, &closed) : NULL;
    const char *want = "-ERR max number of clients reached\r\n";
    if (!tap_ok(got && n == strlen(want) && memcmp(got, want, n) == 0,
                "client 4 gets \"-ERR max number of clients reached\" unprompted"))
        tap_diag("got %zu bytes \"%s\"", n, esc(got, n));
    tap_ok(closed, "... and is disconnected");
    zfree(got);
    conn_close(c);
    conn_close(b);
    long cc = wait_clients(ctl, 2, 3000);
    c = conn_tcp(port);
    tap_ok(cc == 2 && c && reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"),
           "after one client leaves a new one is served");
    conn_close(c);
    conn_close(a);
    tap_ok(reply_is(conn_call(ctl, "CONFIG", "SET", "maxclients", "10000", NULL), "+OK\r\n"),
           "CONFIG SET maxclients 10000");
    conn_close(ctl);
}

static void test_names(void)
{
    struct conn *c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$-1\r\n"), "CLIENT GETNAME without a name: null");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", "worker-1", NULL), "+OK\r\n"), "CLIENT SETNAME worker-1");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$8\r\nworker-1\r\n"), "CLIENT GETNAME returns it");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", "a b", NULL),
                    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
           "CLIENT SETNAME with a space refused");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", "a\nb", NULL),
                    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
           "CLIENT SETNAME with a newline refused");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$8\r\nworker-1\r\n"), "refused names leave the old one");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", "", NULL), "+OK\r\n"), "CLIENT SETNAME \"\" clears the name");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$-1\r\n"), "... GETNAME is null again");
    tap_ok(reply_is(conn_call(c, "CLIENT", "SETNAME", NULL),
                    "-ERR wrong number of arguments for 'client|setname' command\r\n"),
           "CLIENT SETNAME arity error names 'client|setname'");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", "x", NULL),
                    "-ERR wrong number of arguments for 'client|getname' command\r\n"),
           "CLIENT GETNAME arity error");
    tap_ok(reply_is(conn_call(c, "CLIENT", "ID", "x", NULL),
                    "-ERR wrong number of arguments for 'client|id' command\r\n"),
           "CLIENT ID arity error");
    tap_ok(reply_is(conn_call(c, "CLIENT", NULL), "-ERR wrong number of arguments for 'client' command\r\n"),
           "CLIENT alone: arity error");
    tap_ok(reply_is(conn_call(c, "CLIENT", "nosuch", NULL), "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n"),
           "CLIENT nosuch: unknown subcommand");
    conn_close(c);

    /* the same through hiredis, as applications use it */
    redisContext *h = redisConnect("127.0.0.1", port);
    int ok = h && !h->err;
    redisReply *r = ok ? redisCommand(h, "CLIENT SETNAME %s", "hiredis-app") : NULL;
    ok = ok && r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
    if (r)
        freeReplyObject(r);
    r = ok ? redisCommand(h, "CLIENT GETNAME") : NULL;
    ok = ok && r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "hiredis-app") == 0;
    if (r)
        freeReplyObject(r);
    tap_ok(ok, "hiredis: CLIENT SETNAME then GETNAME round-trips");
    if (h)
        redisFree(h);
}

static void test_id_info_list(void)
{
    struct conn *a = conn_tcp(port), *b = conn_tcp(port);
    long long ida = client_id(a), idb = client_id(b);
    tap_ok(ida > 0 && idb > ida, "CLIENT ID: positive, increasing with each connection (%lld, %lld)", ida, idb);
    tap_ok(client_id(a) == ida, "CLIENT ID is stable for a connection");

    zfree(conn_call(a, "CLIENT", "SETNAME", "alpha", NULL));
    char *r = conn_call(a, "SELECT", "3", NULL);
    zfree(r);
    r = conn_call(a, "CLIENT", "INFO", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "id=%lld addr=127.0.0.1:%d laddr=127.0.0.1:%d fd=", ida, local_port(a), port);
    int ok = v && v->type == '$' && strncmp(v->str, prefix, strlen(prefix)) == 0 &&
             v->len > 0 && v->str[v->len - 1] == '\n' && strchr(v->str, '\n') == v->str + v->len - 1;
    if (!tap_ok(ok, "CLIENT INFO: one line starting \"%s\"", prefix))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    const char *fields[] = { " name=alpha ", " age=", " idle=", " flags=N ", " db=3 ",
                             " cmd=client|info ", " resp=2\n" };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        tap_ok(v && v->str && strstr(v->str, fields[i]) != NULL, "CLIENT INFO has \"%s\"",
               esc(fields[i], strlen(fields[i])));
    rv_free(v);
    zfree(r);

    r = conn_call(b, "CLIENT", "LIST", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    int lines = 0, has_a = 0, has_b = 0;
    if (v && v->str) {
        char ida_s[40], idb_s[40];
        snprintf(ida_s, sizeof ida_s, "id=%lld ", ida);
        snprintf(idb_s, sizeof idb_s, "id=%lld ", idb);
        for (char *line = v->str; *line; ) {
            char *nl = strchr(line, '\n');
            if (!nl)
                break;
            lines++;
            if (strncmp(line, ida_s, strlen(ida_s)) == 0 && strstr(line, " name=alpha ") && nl > line)
                has_a = 1;
            if (strncmp(line, idb_s, strlen(idb_s)) == 0 && strstr(line, " cmd=client|list "))
                has_b = 1;
            line = nl + 1;
        }
    }
    if (!tap_ok(v && v->type == '$' && lines == 2 && has_a && has_b,
                "CLIENT LIST: one \\n-terminated line per client (2), with names and last command"))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    rv_free(v);
    zfree(r);

    r = conn_call(b, "CLIENT", "LIST", "TYPE", "normal", NULL);
    tap_ok(r && r[0] == '$' && strstr(r, "name=alpha"), "CLIENT LIST TYPE normal lists normal clients");
    zfree(r);
    tap_ok(reply_is(conn_call(b, "CLIENT", "LIST", "TYPE", "bogus", NULL), "-ERR Unknown client type 'bogus'\r\n"),
           "CLIENT LIST TYPE bogus: error");
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", ida);
    r = conn_call(b, "CLIENT", "LIST", "ID", ids, NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    tap_ok(v && v->str && strstr(v->str, "name=alpha") && strchr(v->str, '\n') == v->str + v->len - 1,
           "CLIENT LIST ID <a> lists only that client");
    rv_free(v);
    zfree(r);
    conn_close(a);
    conn_close(b);
}

static void test_kill(void)
{
    struct conn *k = conn_tcp(port);
    struct conn *v1 = conn_tcp(port), *v2 = conn_tcp(port), *v3 = conn_tcp(port);
    char addr[64], ids[32];

    /* old form: CLIENT KILL addr:port */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", local_port(v1));
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", addr, NULL), "+OK\r\n"), "CLIENT KILL <addr> (old form): +OK");
    tap_ok(conn_wait_close(v1, 3000), "... the victim's connection is closed");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", addr, NULL), "-ERR No such client\r\n"),
           "CLIENT KILL <addr> again: -ERR No such client");

    /* new form: filters, reply is the number killed */
    snprintf(ids, sizeof ids, "%lld", client_id(v2));
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", ids, NULL), ":1\r\n"), "CLIENT KILL ID <id>: :1");
    tap_ok(conn_wait_close(v2, 3000), "... the victim's connection is closed");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", ids, NULL), ":0\r\n"), "CLIENT KILL ID <gone>: :0");
    snprintf(addr, sizeof addr, "127.0.0.1:%d", local_port(v3));
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ADDR", addr, NULL), ":1\r\n"), "CLIENT KILL ADDR <addr>: :1");
    tap_ok(conn_wait_close(v3, 3000), "... the victim's connection is closed");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", "abc", NULL), "-ERR client-id should be greater than 0\r\n"),
           "CLIENT KILL ID abc: error");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", "0", NULL), "-ERR client-id should be greater than 0\r\n"),
           "CLIENT KILL ID 0: error");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "nosuch", "x", NULL), "-ERR syntax error\r\n"),
           "CLIENT KILL with an unknown filter: syntax error");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", "1", "SKIPME", NULL), "-ERR syntax error\r\n"),
           "CLIENT KILL with a dangling filter: syntax error");

    /* killing oneself: skipped by default, done with SKIPME no (after the reply) */
    snprintf(ids, sizeof ids, "%lld", client_id(k));
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", ids, NULL), ":0\r\n"), "CLIENT KILL ID <self>: SKIPME yes by default, :0");
    tap_ok(reply_is(conn_call(k, "CLIENT", "KILL", "ID", ids, "SKIPME", "no", NULL), ":1\r\n"),
           "CLIENT KILL ID <self> SKIPME no: :1");
    tap_ok(conn_wait_close(k, 3000), "... then the connection is closed");
    conn_close(k);
    conn_close(v1);
    conn_close(v2);
    conn_close(v3);
}

static void test_reply_modes(void)
{
    struct conn *c = conn_tcp(port);
    conn_sendv(c, "CLIENT", "REPLY", "OFF", NULL);
    conn_sendv(c, "PING", NULL);
    conn_sendv(c, "ECHO", "a", NULL);
    conn_sendv(c, "nosuchcommand", NULL);
    conn_sendv(c, "CLIENT", "REPLY", "ON", NULL);
    conn_sendv(c, "PING", NULL);
    size_t n;
    int closed;
    char *got = conn_read_all(c, 500, &n, &closed);
    tap_ok(reply_is(got, "+OK\r\n+PONG\r\n"),
           "CLIENT REPLY OFF silences replies (errors too) until CLIENT REPLY ON, which replies +OK");
    conn_sendv(c, "CLIENT", "REPLY", "SKIP", NULL);
    conn_sendv(c, "PING", NULL);
    conn_sendv(c, "ECHO", "b", NULL);
    got = conn_read_all(c, 500, &n, &closed);
    tap_ok(reply_is(got, "$1\r\nb\r\n"), "CLIENT REPLY SKIP skips exactly the next command's reply (and its own)");
    tap_ok(reply_is(conn_call(c, "CLIENT", "REPLY", "MAYBE", NULL), "-ERR syntax error\r\n"),
           "CLIENT REPLY MAYBE: syntax error");
    tap_ok(reply_is(conn_call(c, "CLIENT", "REPLY", NULL),
                    "-ERR wrong number of arguments for 'client|reply' command\r\n"),
           "CLIENT REPLY without a mode: arity error");
    conn_close(c);
}

/* CLIENT NO-EVICT, UNBLOCK, UNPAUSE and the client-side caching
 * subcommands, with the replies redis-server 7.0.15 gives (checked side by
 * side): no client is ever blocked, paused or tracking here. */
static void test_misc_subcommands(void)
{
    struct conn *c = conn_tcp(port);
    static const struct {
        const char *argv[5];
        const char *want;
    } cases[] = {
        { { "CLIENT", "NO-EVICT", "on" }, "+OK\r\n" },
        { { "CLIENT", "NO-EVICT", "maybe" }, "-ERR syntax error\r\n" },
        { { "CLIENT", "NO-EVICT" },
          "-ERR wrong number of arguments for 'client|no-evict' command\r\n" },
        { { "CLIENT", "GETREDIR" }, ":-1\r\n" },
        { { "CLIENT", "TRACKINGINFO" },
          "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n"
          "$8\r\nprefixes\r\n*0\r\n" },
        { { "CLIENT", "CACHING", "yes" },
          "-ERR CLIENT CACHING can be called only when the client is in tracking mode with "
          "OPTIN or OPTOUT mode enabled\r\n" },
        { { "CLIENT", "UNBLOCK", "5" }, ":0\r\n" },
        { { "CLIENT", "UNBLOCK", "5", "ERROR" }, ":0\r\n" },
        { { "CLIENT", "UNBLOCK", "x" }, "-ERR value is not an integer or out of range\r\n" },
        { { "CLIENT", "UNBLOCK", "x", "foo" },
          "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n" },
        { { "CLIENT", "UNBLOCK", "5", "timeout", "extra" },
          "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT "
          "HELP.\r\n" },
        { { "CLIENT", "UNPAUSE" }, "+OK\r\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int argc = 0;
        while (argc < 5 && cases[i].argv[argc])
            argc++;
        conn_sendargv(c, argc, cases[i].argv, NULL);
        tap_ok(reply_is(conn_reply(c, 5000, NULL), cases[i].want), "CLIENT %s %s",
               cases[i].argv[1], argc > 2 ? cases[i].argv[2] : "");
    }
    char *r = conn_call(c, "CLIENT", "INFO", NULL);
    tap_ok(r && strstr(r, " flags=e "), "CLIENT NO-EVICT on: CLIENT INFO shows flag e");
    zfree(r);
    zfree(conn_call(c, "CLIENT", "NO-EVICT", "OFF", NULL));
    r = conn_call(c, "CLIENT", "INFO", NULL);
    tap_ok(r && strstr(r, " flags=N "), "CLIENT NO-EVICT OFF: flag e gone");
    zfree(r);
    zfree(conn_call(c, "HELLO", "3", NULL));
    tap_ok(reply_is(conn_call(c, "CLIENT", "TRACKINGINFO", NULL),
                    "%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n"
                    "$8\r\nprefixes\r\n*0\r\n"),
           "CLIENT TRACKINGINFO under RESP3: a map with a set of flags");
    conn_close(c);
}

static void test_idle_timeout(void)
{
    const char *args[] = { "--timeout", "1", NULL };
    struct srv s;
    if (!tap_ok(srv_start_args(&s, args) == 0, "server with --timeout 1 starts"))
        return;
    struct conn *busy = conn_tcp(s.port), *idle = conn_tcp(s.port);
    tap_ok(reply_is(conn_call(busy, "CONFIG", "GET", "timeout", NULL), "*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n"),
           "CONFIG GET timeout -> 1");
    tap_ok(reply_is(conn_call(idle, "PING", NULL), "+PONG\r\n"), "idle client answered once");
    long long t0 = now_ms();
    int idle_closed = 0, busy_ok = 1;
    long long closed_at = 0;
    while (now_ms() - t0 < 5000) {
        char *r = conn_call(busy, "PING", NULL);
        busy_ok &= r && strcmp(r, "+PONG\r\n") == 0;
        zfree(r);
        if (conn_wait_close(idle, 250)) {
            idle_closed = 1;
            closed_at = now_ms() - t0;
            break;
        }
    }
    tap_ok(idle_closed, "idle client disconnected by the server (after %lld ms)", closed_at);
    tap_ok(!idle_closed || closed_at >= 900, "... not before the 1 s timeout");
    /* keep the busy one busy for another 1.5 s */
    for (int i = 0; i < 6; i++) {
        usleep(250 * 1000);
        char *r = conn_call(busy, "PING", NULL);
        busy_ok &= r && strcmp(r, "+PONG\r\n") == 0;
        zfree(r);
    }
    tap_ok(busy_ok, "a client that keeps sending commands is never timed out");
    conn_close(busy);
    conn_close(idle);
    srv_stop(&s);
}

int main(void)
{
    harness_init(150);
    struct srv s;
    if (srv_start_args(&s, NULL) < 0)
        tap_bail("server did not start");
    port = s.port;
    tap_diag("server %s pid %d port %d", srv_binary(), (int)s.pid, s.port);

    test_thousand_clients();
    test_concurrent_pipelines();
    test_maxclients();
    test_names();
    test_id_info_list();
    test_kill();
    test_reply_modes();
    test_misc_subcommands();
    tap_ok(srv_alive(&s), "server still running");
    srv_stop(&s);

    test_idle_timeout();
    return tap_done();
}
