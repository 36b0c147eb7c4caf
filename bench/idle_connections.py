#!/usr/bin/env python3
"""Resident memory per idle keep-alive client connection: opens COUNT connections to the proxy on
127.0.0.1:PORT, sends one absolute-form request on each (users rotating over USERS) and reads the
answer, then leaves them all open and idle, and reads the proxy's VmRSS (/proc/PID/status) before
and after. Prints: rss_before_kib rss_after_kib bytes_per_connection connections_still_open.
Usage: idle_connections.py PID PORT ORIGIN_PORT COUNT USERS"""
import resource
import selectors
import socket
import sys
import time

BATCH = 500


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def request(origin_port: int, user: int) -> bytes:
    return (f"GET http://127.0.0.1:{origin_port}/index.json HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{origin_port}\r\nX-Plugin-User: user-{user}\r\n"
            "X-Plugin-Id: bench-plugin\r\n"
            "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n\r\n").encode()


def answered(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    raise RuntimeError("answer without Content-Length: " + head[:80].decode(errors="replace"))


def open_batch(port: int, origin_port: int, first: int, count: int, users: int) -> list:
    """Opens `count` connections, one request each, and waits for every answer."""
    selector = selectors.DefaultSelector()
    sockets, pending = [], {}
    for i in range(first, first + count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request(origin_port, i % users))
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        sockets.append(s)
        pending[s] = b""
    deadline = time.monotonic() + 30
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} answers did not arrive within 30 s")
        for key, _ in selector.select(timeout=1):
            chunk = key.fileobj.recv(65536)
            if not chunk:
                raise RuntimeError("the proxy closed a connection before answering")
            pending[key.fileobj] += chunk
            if pending[key.fileobj].startswith(b"HTTP/1.1 200") is False and \
                    len(pending[key.fileobj]) > 12:
                raise RuntimeError("answer: " + pending[key.fileobj][:60].decode(errors="replace"))
            if answered(pending[key.fileobj]):
                del pending[key.fileobj]
                selector.unregister(key.fileobj)
    selector.close()
    return sockets


def still_open(sockets: list) -> int:
    """Connections the proxy has not closed (a closed one is readable, with EOF)."""
    selector = selectors.DefaultSelector()
    for s in sockets:
        selector.register(s, selectors.EVENT_READ)
    closed = len(selector.select(timeout=0.2))
    selector.close()
    return len(sockets) - closed


def main() -> int:
    pid, port, origin_port, count, users = (int(a) for a in sys.argv[1:6])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    open_batch(port, origin_port, 0, 1, users)[0].close()  # warm-up: upstream pool, caches
    before = rss_kib(pid)
    sockets = []
    for first in range(0, count, BATCH):
        sockets += open_batch(port, origin_port, first, min(BATCH, count - first), users)
    after = rss_kib(pid)
    per_connection = (after - before) * 1024 / count
    print(f"{before} {after} {per_connection:.0f} {still_open(sockets)}")
    for s in sockets:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
