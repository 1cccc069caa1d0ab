/* test_protocol.c: the RESP request parser as a client sees it: every
 * protocol error replies Redis' exact text and then closes the connection;
 * bulk and query-buffer limits; inline commands with quoting; requests split
 * at any byte; pipelines of 10,000 commands answered in order; replies much
 * larger than the socket buffers. Expected bytes are Redis 7's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static int port;

/* Sends req on a fresh connection; the server must reply exactly expect and
 * then close the connection. */
static void err_then_close(const char *name, const char *req, size_t reqlen, const char *expect)
{
    struct conn *c = conn_tcp(port);
    if (!tap_ok(c != NULL, "%s: connect", name))
        return;
    conn_send(c, req, reqlen);
    size_t n;
    int closed;
    char *got = conn_read_all(c, 2000, &n, &closed);
    int same = n == strlen(expect) && memcmp(got, expect, n) == 0;
    if (!tap_ok(same, "%s: replies \"%s\"", name, esc(expect, strlen(expect))))
        tap_diag("got %zu bytes: \"%s\"", n, esc(got, n));
    tap_ok(closed, "%s: connection closed after the reply", name);
    zfree(got);
    conn_close(c);
}

static void err_then_close_s(const char *name, const char *req, const char *expect)
{
    err_then_close(name, req, strlen(req), expect);
}

/* A long run of c, optionally prefixed. */
static char *repeat(const char *prefix, char ch, size_t n, size_t *len)
{
    size_t pl = strlen(prefix);
    char *b = zmalloc(pl + n + 1);
    memcpy(b, prefix, pl);
    memset(b + pl, ch, n);
    b[pl + n] = '\0';
    *len = pl + n;
    return b;
}

static void test_protocol_errors(void)
{
    err_then_close_s("non-numeric multibulk length", "*abc\r\n",
                     "-ERR Protocol error: invalid multibulk length\r\n");
    err_then_close_s("multibulk length above INT_MAX", "*3000000000\r\n",
                     "-ERR Protocol error: invalid multibulk length\r\n");
    err_then_close_s("bulk header not starting with $", "*1\r\nx\r\n",
                     "-ERR Protocol error: expected '$', got 'x'\r\n");
    err_then_close_s("integer where a bulk is expected",
                     "*2\r\n$4\r\nECHO\r\n:5\r\n",
                     "-ERR Protocol error: expected '$', got ':'\r\n");
    err_then_close_s("non-numeric bulk length", "*1\r\n$abc\r\n",
                     "-ERR Protocol error: invalid bulk length\r\n");
    err_then_close_s("negative bulk length", "*1\r\n$-1\r\n",
                     "-ERR Protocol error: invalid bulk length\r\n");
    err_then_close_s("600 MB bulk length", "*1\r\n$629145600\r\n",
                     "-ERR Protocol error: invalid bulk length\r\n");
    err_then_close_s("bulk length proto-max-bulk-len + 1", "*1\r\n$536870913\r\n",
                     "-ERR Protocol error: invalid bulk length\r\n");
    err_then_close_s("unbalanced double quote", "SET \"a\r\n",
                     "-ERR Protocol error: unbalanced quotes in request\r\n");
    err_then_close_s("unbalanced single quote", "ECHO 'a\r\n",
                     "-ERR Protocol error: unbalanced quotes in request\r\n");
    err_then_close_s("closing quote not followed by a space", "ECHO \"a\"b\r\n",
                     "-ERR Protocol error: unbalanced quotes in request\r\n");
    err_then_close_s("error after a good command in the same packet",
                     "*1\r\n$4\r\nPING\r\n*x\r\n",
                     "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");

    size_t n;
    char *big = repeat("", 'a', 70000, &n);
    err_then_close("inline request over 64 KB without newline", big, n,
                   "-ERR Protocol error: too big inline request\r\n");
    zfree(big);
    big = repeat("*", '1', 70000, &n);
    err_then_close("multibulk count line over 64 KB", big, n,
                   "-ERR Protocol error: too big mbulk count string\r\n");
    zfree(big);
    big = repeat("*1\r\n$", '1', 70000, &n);
    err_then_close("bulk count line over 64 KB", big, n,
                   "-ERR Protocol error: too big bulk count string\r\n");
    zfree(big);

    /* 64 KB exactly is still a legal (if unknown) inline command: no error. */
    struct conn *c = conn_tcp(port);
    big = repeat("", 'a', 65536, &n);
    conn_send(c, big, n);
    int closed;
    char *got = conn_read_all(c, 300, &n, &closed);
    tap_ok(n == 0 && !closed, "65536-byte inline line without newline: still waiting, no error");
    zfree(got);
    zfree(big);
    conn_close(c);

    /* the server survived all of the above */
    c = conn_tcp(port);
    tap_ok(c && reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"),
           "server answers PING on a new connection after the protocol errors");
    conn_close(c);
}

static void inline_case(struct conn *c, const char *req, const char *expect)
{
    conn_sends(c, req);
    char *got = conn_reply(c, 3000, NULL);
    tap_ok(reply_is(got, expect), "inline \"%s\" -> \"%s\"", esc(req, strlen(req)),
           esc(expect, strlen(expect)));
}

static void test_inline(void)
{
    struct conn *c = conn_tcp(port);
    inline_case(c, "PING\r\n", "+PONG\r\n");
    inline_case(c, "ping\n", "+PONG\r\n");
    inline_case(c, "\r\n\r\nPING\r\n", "+PONG\r\n");
    inline_case(c, "   PING   \r\n", "+PONG\r\n");
    inline_case(c, "PING hello\r\n", "$5\r\nhello\r\n");
    inline_case(c, "ECHO \"a b\"\r\n", "$3\r\na b\r\n");
    inline_case(c, "ECHO \"\\x41\\n\\t\"\r\n", "$3\r\nA\n\t\r\n");
    inline_case(c, "ECHO \"q\\\"q\"\r\n", "$3\r\nq\"q\r\n");
    inline_case(c, "ECHO 'a\\'b'\r\n", "$3\r\na'b\r\n");
    inline_case(c, "ECHO 'a\\nb'\r\n", "$4\r\na\\nb\r\n");
    inline_case(c, "ECHO \"\"\r\n", "$0\r\n\r\n");
    inline_case(c, "ECHO \"a\" b\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
    inline_case(c, "foo bar baz\r\n",
                "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n");
    /* inline and multibulk mixed in one packet */
    conn_sends(c, "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO x\r\n");
    char *a = conn_reply(c, 3000, NULL), *b = conn_reply(c, 3000, NULL), *d = conn_reply(c, 3000, NULL);
    tap_ok(reply_is(a, "+PONG\r\n") & reply_is(b, "$2\r\nhi\r\n") & reply_is(d, "$1\r\nx\r\n"),
           "inline and multibulk requests mixed in one packet, replies in order");
    conn_close(c);
}

/* A request fed one byte per write parses as if sent at once. */
static void test_byte_split(void)
{
    struct conn *c = conn_tcp(port);
    const char *req = "*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\no\r\nPING\r\n*1\r\n$4\r\nPING\r\n";
    for (size_t i = 0; req[i]; i++) {
        conn_send(c, req + i, 1);
        usleep(500);
    }
    char *a = conn_reply(c, 3000, NULL), *b = conn_reply(c, 3000, NULL), *d = conn_reply(c, 3000, NULL);
    tap_ok(reply_is(a, "$5\r\nhe\r\no\r\n") & reply_is(b, "+PONG\r\n") & reply_is(d, "+PONG\r\n"),
           "requests sent one byte per packet are answered like whole ones (binary-safe bulk)");
    conn_close(c);
}

static void test_pipeline(void)
{
    enum { N = 10000 };
    size_t cap = (size_t)N * 40, n = 0;
    char *req = zmalloc(cap);
    for (int i = 0; i < N; i++) {
        if (i % 10 == 9) {
            n += (size_t)snprintf(req + n, cap - n, "*1\r\n$4\r\nPING\r\n");
        } else {
            char num[16];
            int l = snprintf(num, sizeof num, "%d", i);
            n += (size_t)snprintf(req + n, cap - n, "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", l, num);
        }
    }
    struct conn *c = conn_tcp(port);
    long long t0 = now_ms();
    int sent = conn_send(c, req, n);
    tap_ok(sent == 0, "10,000 pipelined commands written in one go (%zu bytes)", n);
    int good = 0, first_bad = -1;
    for (int i = 0; i < N; i++) {
        char *r = conn_reply(c, 10000, NULL);
        char want[32];
        if (i % 10 == 9)
            snprintf(want, sizeof want, "+PONG\r\n");
        else
            snprintf(want, sizeof want, "$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", i), i);
        if (r && strcmp(r, want) == 0)
            good++;
        else if (first_bad < 0) {
            first_bad = i;
            tap_diag("reply %d: expected \"%s\" got \"%s\"", i, esc(want, strlen(want)),
                     r ? esc(r, strlen(r)) : "(none)");
        }
        zfree(r);
        if (!r)
            break;
    }
    tap_ok(good == N, "all 10,000 replies arrive, in order (%d good, %lld ms)", good, now_ms() - t0);
    zfree(req);
    conn_close(c);
}

/* Replies far larger than the socket buffers, read only after all requests
 * are written: the server must buffer them (no output limit for normal
 * clients) and deliver every byte in order. */
static void test_big_replies(void)
{
    enum { VAL = 1 << 20, COUNT = 16 };
    char *val = zmalloc(VAL);
    for (size_t i = 0; i < VAL; i++)
        val[i] = (char)(i * 7 + i / 251);
    struct conn *c = conn_tcp(port);
    const char *argv[2] = { "ECHO", val };
    size_t lens[2] = { 4, VAL };
    int ok_send = 1;
    for (int i = 0; i < COUNT; i++)
        ok_send &= conn_sendargv(c, 2, argv, lens) == 0;
    int good = 0;
    for (int i = 0; i < COUNT; i++) {
        size_t l;
        char *r = conn_reply(c, 10000, &l);
        char hdr[32];
        int hl = snprintf(hdr, sizeof hdr, "$%d\r\n", VAL);
        if (r && l == (size_t)hl + VAL + 2 && memcmp(r, hdr, (size_t)hl) == 0 &&
            memcmp(r + hl, val, VAL) == 0)
            good++;
        zfree(r);
    }
    tap_ok(ok_send && good == COUNT, "%d x 1 MB binary ECHO pipelined, replies byte-exact (%d good)",
           COUNT, good);
    zfree(val);
    conn_close(c);
}

static void test_unix_socket(const struct srv *s)
{
    struct conn *c = conn_unix(s->sock);
    tap_ok(c && reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "PING over the unix socket %s",
           s->sock);
    conn_close(c);
}

static void test_query_buffer_limit(void)
{
    struct conn *c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "client-query-buffer-limit", "1mb", NULL), "+OK\r\n"),
           "CONFIG SET client-query-buffer-limit 1mb");
    conn_close(c);

    /* a 2 MB argument: the query buffer passes 1 MB before it is complete */
    enum { SZ = 2 * 1000 * 1000 };
    char *req = zmalloc(SZ + 64);
    int hl = snprintf(req, 64, "*2\r\n$4\r\nECHO\r\n$%d\r\n", SZ);
    memset(req + hl, 'x', SZ);
    memcpy(req + hl + SZ, "\r\n", 2);
    c = conn_tcp(port);
    conn_send(c, req, (size_t)hl + SZ + 2);
    size_t n;
    int closed;
    char *got = conn_read_all(c, 3000, &n, &closed);
    tap_ok(closed, "query larger than client-query-buffer-limit: connection closed");
    if (!tap_ok(n == 0, "... without executing it or replying (like Redis)"))
        tap_diag("got %zu bytes: \"%s\"", n, esc(got, n < 80 ? n : 80));
    zfree(got);
    zfree(req);
    conn_close(c);

    c = conn_tcp(port);
    tap_ok(c && reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"),
           "server still answers PING on a new connection afterwards");
    /* a query under the limit still works */
    char *val = zmalloc(500001);
    memset(val, 'y', 500000);
    val[500000] = '\0';
    char *r = conn_call(c, "ECHO", val, NULL);
    tap_ok(r && strlen(r) == 500000 + 11 && strncmp(r, "$500000\r\n", 9) == 0,
           "a 500 KB query under the limit is answered");
    zfree(r);
    zfree(val);
    conn_close(c);

    /* the limit is on one pending query, not on a pipeline: 3 MB of small
     * commands in one write are all answered (Redis parses as it reads) */
    enum { NP = 3 * 1024 * 1024 / 14 };
    size_t plen = (size_t)NP * 14;
    char *pipe = zmalloc(plen);
    for (size_t i = 0; i < (size_t)NP; i++)
        memcpy(pipe + i * 14, "*1\r\n$4\r\nPING\r\n", 14);
    c = conn_tcp(port);
    int sent = conn_send(c, pipe, plen) == 0;
    size_t got_n = 0;
    char *all = conn_read_n(c, (size_t)NP * 7, 20000, &got_n);
    int good = sent && got_n == (size_t)NP * 7;
    for (size_t i = 0; good && i < (size_t)NP; i++)
        good = memcmp(all + i * 7, "+PONG\r\n", 7) == 0;
    tap_ok(good, "3 MB of pipelined PINGs (%d) under a 1 MB query-buffer limit: all answered (%zu bytes)", NP, got_n);
    zfree(all);
    zfree(pipe);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "client-query-buffer-limit", "1gb", NULL), "+OK\r\n"),
           "CONFIG SET client-query-buffer-limit 1gb");
    conn_close(c);
}

/* QUIT in the middle of a pipeline: what came before is answered, +OK, then
 * the close; nothing after QUIT runs. */
static void test_quit_in_pipeline(void)
{
    struct conn *c = conn_tcp(port);
    conn_sends(c, "PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\nQUIT\r\nECHO after-quit\r\n");
    size_t n;
    int closed;
    char *got = conn_read_all(c, 2000, &n, &closed);
    tap_ok(reply_is(got, "+PONG\r\n$1\r\na\r\n+OK\r\n") && closed,
           "PING, ECHO, QUIT, ECHO in one packet: PONG, a, OK, close");
    conn_close(c);
}

int main(void)
{
    harness_init(120);
    struct srv s;
    if (srv_start_args(&s, NULL) < 0)
        tap_bail("server did not start");
    port = s.port;
    tap_diag("server %s pid %d port %d", srv_binary(), (int)s.pid, s.port);

    test_protocol_errors();
    test_inline();
    test_byte_split();
    test_pipeline();
    test_big_replies();
    test_unix_socket(&s);
    test_query_buffer_limit();
    test_quit_in_pipeline();

    tap_ok(srv_alive(&s), "server still running at the end");
    int st = srv_stop(&s);
    tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: server exits with status 0 (status %d)",
           WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    return tap_done();
}
