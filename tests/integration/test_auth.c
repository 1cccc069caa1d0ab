/* test_auth.c: requirepass. Before AUTH every command but AUTH/HELLO/QUIT
 * gets -NOAUTH (unknown commands and arity errors are reported first, as in
 * Redis 7); wrong passwords get -WRONGPASS; AUTH <pass>, AUTH default <pass>
 * and HELLO 3 AUTH default <pass> authenticate; unauthenticated clients may
 * not send more than 10 arguments or bulks over 16 KB (the connection is
 * closed); requirepass changes at runtime; AUTH on a server without a
 * password. Expected bytes are Redis 7's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
#define HELLO_NOAUTH                                                                           \
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO " \
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "   \
    "protocol version at the same time\r\n"
#define NOPASS_AUTH                                                                            \
    "-ERR AUTH <password> called without any password configured for the default user. Are " \
    "you sure your configuration is correct?\r\n"

static int port;
static const char *srv_sock;

static void test_noauth(void)
{
    struct conn *c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "PING", NULL), NOAUTH), "PING before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "ECHO", "a", NULL), NOAUTH), "ECHO before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "CLIENT", "ID", NULL), NOAUTH), "CLIENT ID before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "SELECT", "1", NULL), NOAUTH), "SELECT before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "requirepass", NULL), NOAUTH),
           "CONFIG GET before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "INFO", NULL), NOAUTH), "INFO before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "COMMAND", "COUNT", NULL), NOAUTH), "COMMAND COUNT before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_sends(c, "PING\r\n") == 0 ? conn_reply(c, 3000, NULL) : NULL, NOAUTH),
           "inline PING before AUTH: -NOAUTH");
    tap_ok(reply_is(conn_call(c, "nosuch", "x", NULL),
                    "-ERR unknown command 'nosuch', with args beginning with: 'x' \r\n"),
           "unknown command before AUTH: unknown command error (checked first, like Redis 7)");
    tap_ok(reply_is(conn_call(c, "ECHO", NULL), "-ERR wrong number of arguments for 'echo' command\r\n"),
           "wrong arity before AUTH: arity error (checked first, like Redis 7)");
    tap_ok(reply_is(conn_call(c, "EXEC", NULL),
                    "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"),
           "EXEC before AUTH: -EXECABORT naming NOAUTH (Redis' rejectCommand on EXEC)");
    tap_ok(reply_is(conn_call(c, "HELLO", "3", NULL), HELLO_NOAUTH), "HELLO 3 before AUTH: -NOAUTH HELLO ...");
    tap_ok(reply_is(conn_call(c, "HELLO", NULL), HELLO_NOAUTH), "HELLO before AUTH: -NOAUTH HELLO ...");
    tap_ok(reply_is(conn_call(c, "RESET", NULL), "+RESET\r\n"), "RESET before AUTH: allowed, +RESET");
    tap_ok(reply_is(conn_call(c, "AUTH", "bad", NULL), WRONGPASS), "AUTH <wrong>: -WRONGPASS");
    tap_ok(reply_is(conn_call(c, "AUTH", "default", "bad", NULL), WRONGPASS), "AUTH default <wrong>: -WRONGPASS");
    tap_ok(reply_is(conn_call(c, "AUTH", "nouser", "s3cret", NULL), WRONGPASS), "AUTH <other user> <pass>: -WRONGPASS");
    tap_ok(reply_is(conn_call(c, "AUTH", "a", "b", "c", NULL), "-ERR syntax error\r\n"), "AUTH a b c: syntax error");
    tap_ok(reply_is(conn_call(c, "AUTH", NULL), "-ERR wrong number of arguments for 'auth' command\r\n"),
           "AUTH alone: arity error");
    tap_ok(reply_is(conn_call(c, "PING", NULL), NOAUTH), "still -NOAUTH after failed attempts");
    tap_ok(reply_is(conn_call(c, "QUIT", NULL), "+OK\r\n"), "QUIT before AUTH: +OK");
    tap_ok(conn_wait_close(c, 3000), "... and the connection is closed");
    conn_close(c);

    c = conn_unix(srv_sock);
    tap_ok(c && reply_is(conn_call(c, "PING", NULL), NOAUTH), "unix socket clients need AUTH too");
    conn_close(c);
}

static void test_auth_ok(void)
{
    struct conn *c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "AUTH", "s3cret", NULL), "+OK\r\n"), "AUTH <pass>: +OK");
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "... then PING: +PONG");
    tap_ok(reply_is(conn_call(c, "AUTH", "bad", NULL), WRONGPASS), "a later wrong AUTH: -WRONGPASS");
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "... leaves the client authenticated");
    tap_ok(reply_is(conn_call(c, "RESET", NULL), "+RESET\r\n"), "RESET: +RESET");
    tap_ok(reply_is(conn_call(c, "PING", NULL), NOAUTH), "... and the client must AUTH again");
    conn_close(c);

    c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "AUTH", "default", "s3cret", NULL), "+OK\r\n"), "AUTH default <pass>: +OK");
    tap_ok(reply_is(conn_call(c, "ECHO", "x", NULL), "$1\r\nx\r\n"), "... then ECHO works");
    conn_close(c);

    c = conn_tcp(port);
    tap_ok(reply_is(conn_call(c, "HELLO", "3", "AUTH", "default", "bad", NULL), WRONGPASS),
           "HELLO 3 AUTH default <wrong>: -WRONGPASS");
    tap_ok(reply_is(conn_call(c, "PING", NULL), NOAUTH), "... still unauthenticated, still RESP2");
    char *r = conn_call(c, "HELLO", "3", "AUTH", "default", "s3cret", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    const struct rv *proto = rv_get(v, "proto");
    tap_ok(v && v->type == '%' && proto && proto->type == ':' && proto->integer == 3,
           "HELLO 3 AUTH default <pass>: the RESP3 server map with proto 3");
    if (!v || v->type != '%')
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
    rv_free(v);
    zfree(r);
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "... and the client is authenticated");
    conn_close(c);

    c = conn_tcp(port);
    r = conn_call(c, "HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "app", NULL);
    tap_ok(r && strncmp(r, "*14\r\n", 5) == 0, "HELLO 2 AUTH default <pass> SETNAME app: RESP2 array of 14");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$3\r\napp\r\n"), "... and the name is set");
    conn_close(c);
}

static void limit_case(const char *name, const char *req, const char *expect, int expect_close)
{
    struct conn *c = conn_tcp(port);
    conn_sends(c, req);
    size_t n;
    int closed;
    char *got = conn_read_all(c, expect_close ? 2000 : 300, &n, &closed);
    int same = n == strlen(expect) && memcmp(got, expect, n) == 0;
    if (!tap_ok(same && closed == expect_close, "%s: %s%s", name,
                *expect ? esc(expect, strlen(expect)) : "no reply, connection kept",
                expect_close ? " then close" : ""))
        tap_diag("got %zu bytes \"%s\", closed=%d", n, esc(got, n), closed);
    zfree(got);
    conn_close(c);
}

static void test_unauth_limits(void)
{
    limit_case("unauthenticated *11", "*11\r\n",
               "-ERR Protocol error: unauthenticated multibulk length\r\n", 1);
    limit_case("unauthenticated *10", "*10\r\n", "", 0);
    limit_case("unauthenticated bulk of 16385", "*1\r\n$16385\r\n",
               "-ERR Protocol error: unauthenticated bulk length\r\n", 1);
    limit_case("unauthenticated bulk of 16384", "*1\r\n$16384\r\n", "", 0);

    struct conn *c = conn_tcp(port);
    zfree(conn_call(c, "AUTH", "s3cret", NULL));
    const char *argv[12] = { "ECHO", "a" };
    char *big = zmalloc(20001);
    memset(big, 'z', 20000);
    big[20000] = '\0';
    argv[1] = big;
    conn_sendargv(c, 2, argv, NULL);
    char *r = conn_reply(c, 3000, NULL);
    tap_ok(r && strncmp(r, "$20000\r\nzzz", 11) == 0, "after AUTH a 20 KB bulk is accepted");
    zfree(r);
    zfree(big);
    const char *many[12] = { "PING", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11" };
    conn_sendargv(c, 12, many, NULL);
    tap_ok(reply_is(conn_reply(c, 3000, NULL), "-ERR wrong number of arguments for 'ping' command\r\n"),
           "after AUTH a 12-argument request is parsed (and gets the command's own error)");
    conn_close(c);
}

static void test_runtime_change(void)
{
    struct conn *c = conn_tcp(port);
    zfree(conn_call(c, "AUTH", "s3cret", NULL));
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "requirepass", "n3w", NULL), "+OK\r\n"),
           "CONFIG SET requirepass n3w");
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "... the current client stays authenticated");
    struct conn *d = conn_tcp(port);
    tap_ok(reply_is(conn_call(d, "AUTH", "s3cret", NULL), WRONGPASS), "... the old password is refused");
    tap_ok(reply_is(conn_call(d, "AUTH", "n3w", NULL), "+OK\r\n"), "... the new one accepted");
    conn_close(d);
    tap_ok(reply_is(conn_call(c, "CONFIG", "SET", "requirepass", "", NULL), "+OK\r\n"),
           "CONFIG SET requirepass \"\" (no password)");
    d = conn_tcp(port);
    tap_ok(reply_is(conn_call(d, "PING", NULL), "+PONG\r\n"), "... new clients need no AUTH");
    tap_ok(reply_is(conn_call(d, "AUTH", "x", NULL), NOPASS_AUTH),
           "AUTH <pass> without a configured password: Redis' error");
    tap_ok(reply_is(conn_call(d, "AUTH", "default", "anything", NULL), "+OK\r\n"),
           "AUTH default <any> without a password: +OK (default user is nopass)");
    conn_close(d);
    conn_close(c);
}

int main(void)
{
    harness_init(60);
    struct srv s;
    const char *args[] = { "--requirepass", "s3cret", NULL };
    if (srv_start_args(&s, args) < 0)
        tap_bail("server did not start");
    port = s.port;
    srv_sock = s.sock;
    tap_diag("server %s pid %d port %d", srv_binary(), (int)s.pid, s.port);
    test_noauth();
    test_auth_ok();
    test_unauth_limits();
    test_runtime_change();
    tap_ok(srv_alive(&s), "server still running");
    srv_stop(&s);
    return tap_done();
}
