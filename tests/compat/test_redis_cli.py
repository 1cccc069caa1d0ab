#!/usr/bin/env python3
"""redis-cli against the server: reply formatting (--no-raw, --raw, -3),
errors, -r, --pipe, the unix socket, -a/requirepass, -e, and an interactive
session through a pseudo-terminal whose hints come from COMMAND DOCS (what a
user sees typing `ECHO `). Expected output is what redis-cli 7 prints for
redis-server 7. TAP output; skipped when redis-cli is absent."""
import os
import re
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lsmdbsrv  # noqa: E402

CLI = shutil.which("redis-cli")
if not CLI:
    lsmdbsrv.skip_all("redis-cli not installed")
if not os.access(lsmdbsrv.binary(), os.X_OK):
    lsmdbsrv.skip_all("server binary %s not built" % lsmdbsrv.binary())

t = lsmdbsrv.Tap(timeout=120)


def cli(srv, *args, inp=None, port=True):
    argv = [CLI] + (["-p", str(srv.port)] if port else []) + list(args)
    r = subprocess.run(argv, input=inp, capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def out(srv, *args, **kw):
    return cli(srv, *args, **kw)[1]


def test_formatting(s):
    P = str(s.port)
    t.eq(out(s, "--no-raw", "PING"), "PONG\n", "--no-raw PING")
    t.eq(out(s, "PING"), "PONG\n", "PING with stdout not a tty (raw)")
    t.eq(out(s, "--no-raw", "ECHO", "hello"), '"hello"\n', "--no-raw ECHO hello: quoted bulk")
    t.eq(out(s, "--raw", "ECHO", "hello"), "hello\n", "--raw ECHO hello")
    t.eq(out(s, "--no-raw", "ECHO", ""), '""\n', "--no-raw ECHO '': empty bulk")
    t.eq(out(s, "--no-raw", "ECHO", "a\nb\x01"), '"a\\nb\\x01"\n', "--no-raw escapes newlines and bytes")
    t.eq(out(s, "--no-raw", "CLIENT", "GETNAME"), "(nil)\n", "--no-raw null bulk: (nil)")
    t.ok(re.fullmatch(r"\(integer\) \d+\n", out(s, "--no-raw", "CLIENT", "ID")) is not None,
         "--no-raw integer: (integer) N")
    t.eq(out(s, "--no-raw", "CONFIG", "GET", "port"), '1) "port"\n2) "%s"\n' % P, "--no-raw array")
    t.eq(out(s, "--no-raw", "CONFIG", "GET", "nosuchparam"), "(empty array)\n", "--no-raw empty array")
    t.eq(out(s, "--no-raw", "nosuch", "a"),
         "(error) ERR unknown command 'nosuch', with args beginning with: 'a' \n", "--no-raw error")
    t.eq(out(s, "--no-raw", "SELECT", "16"), "(error) ERR DB index is out of range\n", "SELECT 16 error")
    t.eq(out(s, "--no-raw", "PING", "a", "b"),
         "(error) ERR wrong number of arguments for 'ping' command\n", "arity error")
    t.eq(out(s, "-3", "--no-raw", "CONFIG", "GET", "port"), '1# "port" => "%s"\n' % P, "-3: CONFIG GET is a map")
    h = out(s, "-3", "--no-raw", "HELLO", "3")
    t.ok('3# "proto" => (integer) 3\n' in h and '5# "mode" => "standalone"\n' in h and
         '6# "role" => "master"\n' in h and '7# "modules" => (empty array)\n' in h, "-3 HELLO 3 map")
    if not h.startswith('1# "server"'):
        t.diag(h)
    tm = out(s, "--no-raw", "TIME")
    t.ok(re.fullmatch(r'1\) "\d+"\n2\) "\d+"\n', tm) is not None, "TIME: two quoted numbers")
    d = out(s, "--no-raw", "COMMAND", "DOCS", "ping")
    t.ok(d.startswith('1) "ping"\n2) ') and '"summary"' in d and '"arguments"' in d, "COMMAND DOCS ping")
    t.ok(re.fullmatch(r"\(integer\) \d+\n", out(s, "--no-raw", "COMMAND", "COUNT")) is not None, "COMMAND COUNT")
    t.ok("# Server" in out(s, "INFO", "server"), "INFO server")
    t.eq(out(s, "-r", "3", "PING"), "PONG\nPONG\nPONG\n", "-r 3 PING")
    rc, o, e = cli(s, "--pipe", inp=b"PING\r\n" * 1000)
    t.ok(rc == 0 and "errors: 0, replies: 1000" in o, "--pipe: 1000 PINGs (plus its ECHO check), no errors")
    if rc != 0 or "errors: 0" not in o:
        t.diag(o + e)
    t.eq(cli(s, "-s", s.sock, "PING", port=False)[1], "PONG\n", "-s <unix socket> PING")
    rc, o, e = cli(s, "-e", "nosuchcmd")
    t.ok(rc == 1, "-e: exit status 1 when the command fails (%d)" % rc)
    rc, o, e = cli(s, "PING")
    t.ok(rc == 0, "exit status 0 on success")


def test_keyspace(s):
    """SET/GET through redis-cli once the server has them (issue 6)."""
    if out(s, "--no-raw", "COMMAND", "INFO", "set").startswith("1) (nil)"):
        t.diag("server has no SET yet: keyspace checks skipped")
        return
    t.eq(out(s, "--no-raw", "SET", "compat:k", "hello world"), "OK\n", "SET k v -> OK")
    t.eq(out(s, "--no-raw", "GET", "compat:k"), '"hello world"\n', "GET k -> quoted value")
    t.eq(out(s, "--raw", "GET", "compat:k"), "hello world\n", "--raw GET k")
    t.eq(out(s, "--no-raw", "GET", "compat:missing"), "(nil)\n", "GET missing -> (nil)")
    t.eq(out(s, "-3", "--no-raw", "GET", "compat:missing"), "(nil)\n", "-3 GET missing -> (nil)")
    t.eq(out(s, "--no-raw", "DEL", "compat:k"), "(integer) 1\n", "DEL k -> (integer) 1")


def test_auth():
    s = lsmdbsrv.Server("--requirepass", "s3cret")
    t.eq(out(s, "--no-raw", "PING"), "(error) NOAUTH Authentication required.\n", "no -a: NOAUTH")
    t.eq(out(s, "-a", "s3cret", "--no-auth-warning", "PING"), "PONG\n", "-a <pass>: PONG")
    t.eq(out(s, "--user", "default", "--pass", "s3cret", "--no-auth-warning", "PING"), "PONG\n",
         "--user default --pass <pass>: PONG")
    rc, o, e = cli(s, "-a", "bad", "--no-auth-warning", "--no-raw", "PING")
    t.ok("WRONGPASS invalid username-password pair or user is disabled." in o + e, "-a <wrong>: WRONGPASS shown")
    t.ok(re.fullmatch(r"1# \"server\" => .*", out(s, "-3", "-a", "s3cret", "--no-auth-warning", "--no-raw",
                                                   "HELLO", "3").split("\n")[0]) is not None,
         "-3 -a: HELLO 3 AUTH path works")
    s.stop()


def test_interactive(s):
    try:
        import fcntl
        import pty
        import struct
        import termios
    except ImportError:
        t.diag("no pty support: interactive test skipped")
        return
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
            os.environ["TERM"] = "xterm"
            os.environ["HOME"] = s.tmp  # no ~/.rediscli_history pollution
            os.execv(CLI, [CLI, "-p", str(s.port)])
        finally:
            os._exit(127)

    def read(seconds, until=None):
        buf = b""
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    d = os.read(fd, 65536)
                except OSError:
                    break
                if not d:
                    break
                if b"\x1b[6n" in d:  # linenoise asks where the cursor is
                    os.write(fd, b"\x1b[1;1R")
                buf += d
                if until is not None and until in buf:
                    # give the line editor a moment to finish redrawing
                    end = min(end, time.time() + 0.15)
        return buf

    def hint(text):
        return b"\x1b[0;90;49m" + text + b"\x1b[0m"

    prompt = ("127.0.0.1:%d> " % s.port).encode()
    t.ok(prompt in read(3, prompt), "interactive: prompt %r" % prompt.decode())
    os.write(fd, b"ECHO ")
    got = read(2, hint(b"message"))
    t.ok(hint(b"message") in got, "interactive: typing 'ECHO ' shows the hint 'message'")
    os.write(fd, b"hi\r")
    got = read(2, b'"hi"\r\n')
    t.ok(b'\r\n"hi"\r\n' in got, "interactive: ECHO hi prints \"hi\"")
    os.write(fd, b"PING")
    got = read(2, hint(b" [message]"))
    t.ok(hint(b" [message]") in got, "interactive: typing 'PING' shows ' [message]'")
    os.write(fd, b"\r")
    t.ok(b"\r\nPONG\r\n" in read(2, b"PONG\r\n"), "interactive: PING prints PONG")
    os.write(fd, b"CONFIG GET ")
    got = read(2, hint(b"parameter [parameter ...]"))
    t.ok(hint(b"parameter [parameter ...]") in got, "interactive: 'CONFIG GET ' hints 'parameter [parameter ...]'")
    os.write(fd, b"\x15")  # ^U: clear the line
    read(0.3)
    os.write(fd, b"CLIENT SETNAME ")
    got = read(2, hint(b"connection-name"))
    t.ok(hint(b"connection-name") in got, "interactive: 'CLIENT SETNAME ' hints 'connection-name'")
    os.write(fd, b"\x15")
    read(0.3)
    os.write(fd, b"nosuch\r")
    got = read(2, b"\r\n" + prompt)
    t.ok(b"(error) ERR unknown command 'nosuch', with args beginning with: " in got,
         "interactive: unknown command shows the error")
    os.write(fd, b"quit\r")
    read(2)
    deadline = time.time() + 5
    status = None
    while time.time() < deadline:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = st
            break
        time.sleep(0.05)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    t.ok(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
         "interactive: quit leaves redis-cli with status 0")
    os.close(fd)


def main():
    s = lsmdbsrv.Server()
    t.diag("server %s port %d" % (lsmdbsrv.binary(), s.port))
    test_formatting(s)
    test_keyspace(s)
    test_interactive(s)
    t.ok(s.proc.poll() is None, "server still running")
    rc = s.stop()
    t.ok(rc == 0, "server exits 0 on SIGTERM (%s)" % rc)
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
