#!/usr/bin/env python3
"""A loopback HTTP/1.1 origin for end-to-end tests: answers every request with JSON describing
what it received, so a test can see exactly what the proxy forwarded.

    echo_origin.py [--port N] [--tls-cert FILE --tls-key FILE]

Listens on 127.0.0.1 (port 0: any free port), plain HTTP or, with a certificate and key, HTTPS.
Once listening it prints one line to stdout, {"ready": true, "port": N, "tls": bool}, and then
nothing more. Each answer is 200 with a JSON body:

    {"method": "GET", "path": "/x?y=1", "tls": false,
     "headers": [["Host", "127.0.0.1:8080"], ...],   # in order, repeated names kept
     "body": "..."}                                   # the request body as UTF-8 text

Request bodies may come with Content-Length or chunked. Connections are kept alive (HTTP/1.1).
SIGTERM or SIGINT stops it. The test-only path /status/NNN answers with that status instead.
"""

import argparse
import json
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

K_MAX_BODY = 16 * 1024 * 1024


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-origin"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # stdout carries the ready line only, and tests print what they check themselves

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > K_MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def _read_chunked(self):
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields
                return bytes(body)
            if len(body) + size > K_MAX_BODY:
                raise ValueError("body too large")
            body += self.rfile.read(size)
            self.rfile.readline(16)  # CRLF after the chunk

    def _handle(self):
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "bad body")
            return

        status = 200
        if self.path.startswith("/status/") and self.path[8:11].isdigit():
            status = int(self.path[8:11])
        answer = json.dumps({
            "method": self.command,
            "path": self.path,
            "tls": self.server.tls,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body": body.decode("utf-8", errors="replace"),
        }).encode("utf-8")

        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), EchoHandler)
    server.daemon_threads = True
    server.tls = bool(args.tls_cert)
    if server.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                             do_handshake_on_connect=False)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"ready": True, "port": server.server_address[1], "tls": server.tls}),
          flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
