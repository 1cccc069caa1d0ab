#!/usr/bin/env python3
"""The python3 `redis` client (Debian's python3-redis, installed by
deps/install.sh) against the server: ping/echo, client name/id/info/list/kill,
INFO parsed into a dict with real figures, CONFIG GET/SET, TIME, COMMAND
parsing, error exceptions with Redis' text, pipelines, the unix socket,
password authentication, and RESP3 (HELLO 3) when the module supports it.
TAP output; skipped when no python3 with the module is found."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import redis
except ImportError:
    # make check may run a python3 other than Debian's (e.g. pyenv's):
    # retry once with the system interpreter, which has python3-redis.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and not os.environ.get("LSMDB_PY_REEXEC"):
        os.environ["LSMDB_PY_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    import lsmdbsrv
    lsmdbsrv.skip_all("python3 redis module not installed")

import lsmdbsrv  # noqa: E402

if not os.access(lsmdbsrv.binary(), os.X_OK):
    lsmdbsrv.skip_all("server binary %s not built" % lsmdbsrv.binary())

t = lsmdbsrv.Tap(timeout=120)


def version_tuple(v):
    return tuple(int(x) for x in v.split(".")[:2] if x.isdigit())


def test_basics(s):
    r = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=5, decode_responses=True)
    t.ok(r.ping() is True, "ping() is True")
    t.eq(r.echo("héllo"), "héllo", "echo round-trips UTF-8")
    t.ok(r.client_setname("py-app") is True, "client_setname")
    t.eq(r.client_getname(), "py-app", "client_getname")
    cid = r.client_id()
    t.ok(isinstance(cid, int) and cid > 0, "client_id is a positive int (%r)" % cid)
    info = r.client_info()
    t.ok(info.get("name") == "py-app" and str(info.get("id")) == str(cid) and str(info.get("db")) == "0",
         "client_info parsed: name, id, db")
    lst = r.client_list()
    t.ok(any(str(c.get("id")) == str(cid) and c.get("name") == "py-app" for c in lst), "client_list contains us")
    other = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=5, decode_responses=True)
    oid = other.client_id()
    t.eq(r.client_kill_filter(_id=oid), 1, "client_kill_filter(_id=other) kills one")
    try:
        other.ping()
        t.diag("reconnected transparently")
    except redis.ConnectionError:
        pass

    inf = r.info()
    t.ok(isinstance(inf, dict) and "redis_version" in inf, "info() parses, has redis_version")
    t.eq(inf.get("process_id"), s.proc.pid, "info() process_id is the server's pid")
    t.eq(inf.get("tcp_port"), s.port, "info() tcp_port")
    t.ok(isinstance(inf.get("connected_clients"), int) and inf["connected_clients"] >= 1,
         "info() connected_clients is an int (%r)" % inf.get("connected_clients"))
    t.ok(isinstance(inf.get("used_memory"), int) and inf["used_memory"] > 0, "info() used_memory > 0")
    c1 = r.info("stats").get("total_commands_processed")
    for _ in range(5):
        r.ping()
    c2 = r.info("stats").get("total_commands_processed")
    t.ok(isinstance(c1, int) and isinstance(c2, int) and c2 - c1 >= 5, "total_commands_processed grows (%r -> %r)" % (c1, c2))
    t.ok("connected_clients" in r.info("clients") and "redis_version" not in r.info("clients"),
         "info('clients') is only that section")

    t.eq(r.config_get("port"), {"port": str(s.port)}, "config_get('port')")
    t.ok(r.config_set("timeout", 10) is True, "config_set('timeout', 10)")
    t.eq(r.config_get("timeout"), {"timeout": "10"}, "... config_get sees it")
    r.config_set("timeout", 0)
    sec, usec = r.time()
    t.ok(abs(sec - time.time()) < 5 and 0 <= usec < 1000000, "time() -> (seconds, microseconds)")
    t.ok(r.execute_command("SELECT", 1) in (True, "OK", b"OK"), "SELECT 1")
    try:
        r.execute_command("SELECT", 16)
        t.ok(False, "SELECT 16 raises")
    except redis.ResponseError as e:
        t.eq(str(e), "DB index is out of range", "SELECT 16 raises ResponseError with Redis' text")
    try:
        r.execute_command("NOSUCH", "x")
        t.ok(False, "unknown command raises")
    except redis.ResponseError as e:
        t.eq(str(e), "unknown command 'NOSUCH', with args beginning with: 'x' ", "unknown command: ResponseError text")
    t.ok(r.command_count() >= 12, "command_count()")
    cmds = r.command()
    t.ok(isinstance(cmds, dict) and "ping" in cmds and cmds["ping"].get("arity") == -1, "command() parses; ping arity -1")

    if r.execute_command("COMMAND", "INFO", "set") not in ([None], None):
        t.ok(r.set("py:k", "v\u00e9") is True, "set() (keyspace)")
        t.eq(r.get("py:k"), "v\u00e9", "get() round-trips")
        t.ok(r.get("py:missing") is None, "get() of a missing key is None")
        t.eq(r.delete("py:k"), 1, "delete() -> 1")
    else:
        t.diag("server has no SET yet: keyspace checks skipped")

    with r.pipeline(transaction=False) as p:
        for i in range(500):
            p.echo(str(i))
        res = p.execute()
    t.eq(res, [str(i) for i in range(500)], "a pipeline of 500 ECHOs, replies in order")

    u = redis.Redis(unix_socket_path=s.sock, socket_timeout=5)
    t.ok(u.ping() is True, "unix socket ping")

    ver = version_tuple(getattr(redis, "__version__", "0.0"))
    if ver >= (5, 0):
        r3 = redis.Redis(host="127.0.0.1", port=s.port, protocol=3, decode_responses=True)
        t.ok(r3.ping() is True, "RESP3 (protocol=3): ping")
        t.eq(r3.config_get("port"), {"port": str(s.port)}, "RESP3: config_get map")
        r3.close()
    else:
        t.diag("redis-py %s has no RESP3 support (needs >= 5.0): HELLO 3 is covered by test_hello" % redis.__version__)
    r.close()
    other.close()
    u.close()


def test_auth():
    s = lsmdbsrv.Server("--requirepass", "s3cret")
    r = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=5)
    try:
        r.ping()
        t.ok(False, "no password: AuthenticationError")
    except redis.AuthenticationError as e:
        t.ok("Authentication required" in str(e), "no password: AuthenticationError (%s)" % e)
    except redis.ResponseError as e:
        t.ok(False, "no password: AuthenticationError (got ResponseError %s)" % e)
    bad = redis.Redis(host="127.0.0.1", port=s.port, password="bad", socket_timeout=5)
    try:
        bad.ping()
        t.ok(False, "wrong password: refused")
    except (redis.AuthenticationError, redis.ResponseError) as e:
        # redis-py 4.x raises ResponseError for WRONGPASS
        t.ok(str(e).startswith("WRONGPASS invalid username-password pair") or
             isinstance(e, redis.AuthenticationError), "wrong password: refused with WRONGPASS (%s)" % e)
    good = redis.Redis(host="127.0.0.1", port=s.port, password="s3cret", socket_timeout=5)
    t.ok(good.ping() is True, "password= authenticates")
    good2 = redis.Redis(host="127.0.0.1", port=s.port, username="default", password="s3cret", socket_timeout=5)
    t.ok(good2.ping() is True, "username='default', password= authenticates")
    for c in (r, bad, good, good2):
        c.close()
    t.ok(s.stop() == 0, "server exits 0")


def main():
    t.diag("python %s, redis-py %s, server %s" % (sys.version.split()[0], redis.__version__, lsmdbsrv.binary()))
    s = lsmdbsrv.Server()
    test_basics(s)
    t.ok(s.proc.poll() is None, "server still running")
    t.ok(s.stop() == 0, "server exits 0 on SIGTERM")
    test_auth()
    t.done()


try:
    main()
except Exception as e:  # a server that does not start, a client that breaks
    import traceback
    for line in traceback.format_exc().splitlines():
        t.diag(line)
    print("Bail out! %s: %s" % (type(e).__name__, e), flush=True)
    lsmdbsrv._cleanup()
    sys.exit(1)
