/* test_hello.c: HELLO and RESP3. The HELLO 3 reply is parsed from the raw
 * bytes (hiredis 0.14 cannot read RESP3) and re-encoded to check every byte;
 * HELLO 2 returns the same fields as a flat array; unsupported versions get
 * -NOPROTO and leave the protocol alone; after HELLO 3 replies use RESP3
 * types (maps for CONFIG GET and COMMAND DOCS, '_' nulls, verbatim strings
 * for INFO/CLIENT INFO) and HELLO 2 switches back. Expected bytes are
 * Redis 7's, except the server name and version, which are the server's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "harness.h"
#include "util/zmalloc.h"

static int port;

static long long client_id(struct conn *c)
{
    char *r = conn_call(c, "CLIENT", "ID", NULL);
    long long id = r && r[0] == ':' ? atoll(r + 1) : -1;
    zfree(r);
    return id;
}

/* Re-encodes the HELLO reply Redis-style from the values received, with
 * the given aggregate header ("%7" or "*14") and proto. */
static char *hello_bytes(const char *agg, const char *server, const char *version, int proto, long long id)
{
    char *b = zmalloc(1024);
    snprintf(b, 1024,
             "%s\r\n$6\r\nserver\r\n$%zu\r\n%s\r\n$7\r\nversion\r\n$%zu\r\n%s\r\n"
             "$5\r\nproto\r\n:%d\r\n$2\r\nid\r\n:%lld\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
             "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
             agg, strlen(server), server, strlen(version), version, proto, id);
    return b;
}

static void check_hello(struct conn *c, const char *what, const char *req_proto, int proto)
{
    long long id = client_id(c);
    char *r = req_proto ? conn_call(c, "HELLO", req_proto, NULL) : conn_call(c, "HELLO", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    char want_type = proto == 3 ? '%' : '*';
    if (!tap_ok(v && v->type == want_type && v->n == 14, "%s: a %s of 7 fields", what,
                proto == 3 ? "RESP3 map (%7)" : "RESP2 array of 14")) {
        tap_diag("got \"%s\"", r ? esc(r, strlen(r)) : "(none)");
        rv_free(v);
        zfree(r);
        return;
    }
    static const char *const keys[] = { "server", "version", "proto", "id", "mode", "role", "modules" };
    int keys_ok = 1;
    for (size_t i = 0; i < 7; i++)
        keys_ok &= v->elem[2 * i]->type == '$' && strcmp(v->elem[2 * i]->str, keys[i]) == 0;
    tap_ok(keys_ok, "%s: keys server, version, proto, id, mode, role, modules in Redis' order", what);
    const struct rv *server = rv_get(v, "server"), *version = rv_get(v, "version");
    const struct rv *pr = rv_get(v, "proto"), *idv = rv_get(v, "id");
    const struct rv *mode = rv_get(v, "mode"), *role = rv_get(v, "role"), *mods = rv_get(v, "modules");
    tap_ok(server && server->type == '$' && server->len > 0, "%s: server is a non-empty bulk (\"%s\")", what,
           server && server->str ? server->str : "?");
    tap_ok(version && version->type == '$' && version->len > 0 && strchr(version->str, '.'),
           "%s: version is a dotted bulk (\"%s\")", what, version && version->str ? version->str : "?");
    tap_ok(pr && pr->type == ':' && pr->integer == proto, "%s: proto is :%d", what, proto);
    tap_ok(idv && idv->type == ':' && idv->integer == id, "%s: id equals CLIENT ID (%lld)", what, id);
    tap_ok(mode && mode->str && strcmp(mode->str, "standalone") == 0, "%s: mode standalone", what);
    tap_ok(role && role->str && strcmp(role->str, "master") == 0, "%s: role master", what);
    tap_ok(mods && mods->type == '*' && mods->n == 0, "%s: modules is an empty array", what);
    if (server && server->str && version && version->str) {
        char *want = hello_bytes(proto == 3 ? "%7" : "*14", server->str, version->str, proto, id);
        tap_ok(strcmp(r, want) == 0, "%s: byte-exact encoding", what);
        if (strcmp(r, want) != 0)
            tap_diag("want \"%s\"\n# got  \"%s\"", esc(want, strlen(want)), esc(r, strlen(r)));
        zfree(want);
    }
    rv_free(v);
    zfree(r);
}

static void test_hello3(void)
{
    struct conn *c = conn_tcp(port);
    check_hello(c, "HELLO 3", "3", 3);
    char want[128];
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "_\r\n"), "RESP3: a null is \"_\\r\\n\" (CLIENT GETNAME)");
    snprintf(want, sizeof want, "%%1\r\n$4\r\nport\r\n$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", port), port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "port", NULL), want), "RESP3: CONFIG GET port is a map (%%1)");
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "nosuchparam", NULL), "%0\r\n"),
           "RESP3: CONFIG GET of nothing is an empty map");
    tap_ok(reply_is(conn_call(c, "COMMAND", "INFO", "nosuchcmd", NULL), "*1\r\n_\r\n"),
           "RESP3: COMMAND INFO of an unknown command is [null]");
    tap_ok(reply_is(conn_call(c, "PING", NULL), "+PONG\r\n"), "RESP3: PING is still +PONG");
    tap_ok(reply_is(conn_call(c, "ECHO", "x", NULL), "$1\r\nx\r\n"), "RESP3: ECHO is still a bulk");
    snprintf(want, sizeof want, ":%lld\r\n", client_id(c));
    tap_ok(reply_is(conn_call(c, "CLIENT", "ID", NULL), want), "RESP3: CLIENT ID an integer");
    char *r = conn_call(c, "TIME", NULL);
    struct rv *v = rv_parse(r, r ? strlen(r) : 0);
    tap_ok(v && v->type == '*' && v->n == 2 && v->elem[0]->type == '$', "RESP3: TIME is still an array of 2 bulks");
    rv_free(v);
    zfree(r);

    r = conn_call(c, "INFO", "server", NULL);
    tap_ok(r && r[0] == '=' && strstr(r, "\r\ntxt:# Server\r\n"), "RESP3: INFO is a verbatim string (=...txt:)");
    if (!(r && r[0] == '='))
        tap_diag("got \"%s\"", r ? esc(r, strlen(r) < 60 ? strlen(r) : 60) : "(none)");
    zfree(r);
    r = conn_call(c, "CLIENT", "INFO", NULL);
    tap_ok(r && strncmp(r, "=", 1) == 0 && strstr(r, "\r\ntxt:id=") && strstr(r, " resp=3\n\r\n"),
           "RESP3: CLIENT INFO is a verbatim string and says resp=3");
    zfree(r);

    r = conn_call(c, "COMMAND", "DOCS", "echo", NULL);
    v = rv_parse(r, r ? strlen(r) : 0);
    const struct rv *doc = rv_get(v, "echo");
    tap_ok(v && v->type == '%' && doc && doc->type == '%' && rv_get(doc, "summary"),
           "RESP3: COMMAND DOCS echo is a map of maps with a summary");
    rv_free(v);
    zfree(r);

    check_hello(c, "HELLO (no version) after HELLO 3", NULL, 3);
    tap_ok(reply_is(conn_call(c, "HELLO", "4", NULL), "-NOPROTO unsupported protocol version\r\n"),
           "HELLO 4: -NOPROTO");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "_\r\n"), "... and the protocol stays RESP3");
    check_hello(c, "HELLO 2 after HELLO 3", "2", 2);
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$-1\r\n"), "after HELLO 2 a null is $-1 again");
    snprintf(want, sizeof want, "*2\r\n$4\r\nport\r\n$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", port), port);
    tap_ok(reply_is(conn_call(c, "CONFIG", "GET", "port", NULL), want), "after HELLO 2 CONFIG GET is a flat array");
    conn_close(c);
}

static void test_hello_errors(void)
{
    struct conn *c = conn_tcp(port);
    check_hello(c, "HELLO 2", "2", 2);
    check_hello(c, "HELLO (no version)", NULL, 2);
    tap_ok(reply_is(conn_call(c, "HELLO", "1", NULL), "-NOPROTO unsupported protocol version\r\n"), "HELLO 1: -NOPROTO");
    tap_ok(reply_is(conn_call(c, "HELLO", "abc", NULL), "-ERR Protocol version is not an integer or out of range\r\n"),
           "HELLO abc: not an integer");
    tap_ok(reply_is(conn_call(c, "HELLO", "3", "BOGUS", NULL), "-ERR Syntax error in HELLO option 'BOGUS'\r\n"),
           "HELLO 3 BOGUS: syntax error naming the option");
    tap_ok(reply_is(conn_call(c, "HELLO", "3", "AUTH", "default", NULL), "-ERR Syntax error in HELLO option 'AUTH'\r\n"),
           "HELLO 3 AUTH with one argument: syntax error");
    tap_ok(reply_is(conn_call(c, "HELLO", "3", "SETNAME", "a b", NULL),
                    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
           "HELLO 3 SETNAME with a space: the CLIENT SETNAME error");
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$-1\r\n"), "failed HELLOs leave RESP2 and no name");
    char *r = conn_call(c, "HELLO", "3", "SETNAME", "h3", NULL);
    tap_ok(r && r[0] == '%', "HELLO 3 SETNAME h3: map");
    zfree(r);
    tap_ok(reply_is(conn_call(c, "CLIENT", "GETNAME", NULL), "$2\r\nh3\r\n"), "... and the name is set");
    conn_close(c);
}

int main(void)
{
    harness_init(60);
    struct srv s;
    if (srv_start_args(&s, NULL) < 0)
        tap_bail("server did not start");
    port = s.port;
    tap_diag("server %s pid %d port %d", srv_binary(), (int)s.pid, s.port);
    test_hello3();
    test_hello_errors();
    tap_ok(srv_alive(&s), "server still running");
    srv_stop(&s);
    return tap_done();
}
