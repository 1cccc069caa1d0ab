#!/usr/bin/env python3
"""SIGTERM shuts down after the replies already produced reach a client
that reads them slowly: 16 MB of pipelined ECHO replies, SIGTERM once every
command has run, then the client reads at its own pace and must get every
byte, and the server exits 0. Plain sockets; TAP output."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lsmdbsrv  # noqa: E402

if not os.access(lsmdbsrv.binary(), os.X_OK):
    lsmdbsrv.skip_all("server binary %s not built" % lsmdbsrv.binary())

N = 256
PAYLOAD = 65536


def commands_processed(ctl):
    ctl.sendall(b"INFO stats\r\n")
    head = b""
    while b"\r\n" not in head:
        head += ctl.recv(64)
    size = int(head[1:head.index(b"\r\n")])
    body = head[head.index(b"\r\n") + 2:]
    while len(body) < size + 2:
        body += ctl.recv(65536)
    for line in body.split(b"\r\n"):
        if line.startswith(b"total_commands_processed:"):
            return int(line.split(b":")[1])
    return -1


tap = lsmdbsrv.Tap()
srv = lsmdbsrv.Server()
c = socket.create_connection(("127.0.0.1", srv.port))
ctl = socket.create_connection(("127.0.0.1", srv.port))
cmd = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (PAYLOAD, b"x" * PAYLOAD)
c.sendall(cmd * N)
deadline = time.time() + 30
while commands_processed(ctl) < N and time.time() < deadline:
    time.sleep(0.05)
tap.ok(commands_processed(ctl) >= N, "all %d pipelined ECHOs ran before SIGTERM" % N)
srv.proc.send_signal(signal.SIGTERM)
got = 0
c.settimeout(20)
try:
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
        time.sleep(0.002)      # a slow reader
except socket.timeout:
    pass
want = N * (len(b"$%d\r\n" % PAYLOAD) + PAYLOAD + 2)
tap.eq(got, want, "a slow reader gets every reply byte produced before SIGTERM")
rc = srv.stop()
tap.eq(rc, 0, "SIGTERM: exit status 0")
tap.done()
