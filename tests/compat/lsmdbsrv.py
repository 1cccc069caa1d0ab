"""Starts and stops a server for the compat tests (shared by tests/compat/*.py).

The binary is $LSMDB_SERVER (set by `make check`), else
$LSMDB_BUILDDIR/src/lsmdb-server, else ../../src/lsmdb-server relative to this
file. A redis-server binary works too (the compat tests then check Redis
itself). Each server gets a free 127.0.0.1 port (bind port 0, read, close), a
fresh temp dir (data, log, unix socket) and is stopped by PID: SIGTERM, wait,
then SIGKILL. Loopback only. Also: a tiny TAP writer."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_servers = []


def binary():
    b = os.environ.get("LSMDB_SERVER")
    if b:
        return b
    bd = os.environ.get("LSMDB_BUILDDIR")
    if bd:
        return os.path.join(bd, "src", "lsmdb-server")
    return os.path.normpath(os.path.join(HERE, "..", "..", "src", "lsmdb-server"))


def is_redis():
    return "redis-server" in os.path.basename(binary())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _ping(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
            c.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = c.recv(100)
            return data[:1] in (b"+", b"-")
    except OSError:
        return False


class Server:
    def __init__(self, *args):
        self.tmp = tempfile.mkdtemp(prefix="lsmdb-compat-")
        self.dir = os.path.join(self.tmp, "data")
        os.mkdir(self.dir)
        self.log = os.path.join(self.tmp, "server.log")
        self.sock = os.path.join(self.tmp, "s.sock")
        self.port = free_port()
        argv = [binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--logfile", self.log, "--unixsocket", self.sock,
                "--daemonize", "no"]
        if is_redis():
            argv += ["--save", "", "--appendonly", "no"]
        argv += list(args)
        self.out = open(os.path.join(self.tmp, "stdout.txt"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        _servers.append(self)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            if _ping(self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("server %s did not start" % argv[0])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        if self in _servers:
            _servers.remove(self)
        if not os.environ.get("LSMDB_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode


def _cleanup():
    for s in list(_servers):
        s.stop()


atexit.register(_cleanup)


def _on_signal(sig, frame):
    _cleanup()
    sys.exit(1)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGALRM, _on_signal)


class Tap:
    def __init__(self, timeout=120):
        self.n = 0
        self.failed = 0
        signal.alarm(timeout)

    def ok(self, cond, name):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name), flush=True)
        return cond

    def eq(self, got, want, name):
        if not self.ok(got == want, name):
            self.diag("expected: %r" % (want,))
            self.diag("     got: %r" % (got,))
        return got == want

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        _cleanup()
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)
