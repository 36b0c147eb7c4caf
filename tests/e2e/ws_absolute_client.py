#!/usr/bin/env python3
"""A WebSocket client that sends its opening handshake to an HTTP proxy in absolute-form
(`GET http://host:port/path HTTP/1.1` with `Upgrade: websocket`, RFC 6455 section 4.1), as a
plugin runner talking to the proxy directly does, then exchanges frames through it.

    ws_absolute_client.py --proxy HOST:PORT [-H "Name: value"]... [--message TEXT] [--fragments N]
                          [--unmasked] URL

URL is ws://... or http://... (sent as written). Expects ws_origin.mjs behind it: reads its first
message (the handshake the origin saw), sends one masked text message (TEXT, or a random one; in
N fragments of about equal size with a ping between each two, RFC 6455 sections 5.4 and 5.5.2),
reads the echo, sends a close frame and reads the origin's close. Prints one JSON line,
{"status": 101, "accept_ok": bool, "handshake": {...}, "echo": "...", "echoed": bool,
"closed": bool}, where echoed says the echo equals what was sent; exits 0 when the exchange went
through (whatever the echo), 1 otherwise.

With --unmasked it sends one unmasked text frame instead (a protocol error, section 5.1) and
reports how the connection ended, {"status": 101, "ended": "eof" | "close N" | "frame N"}: the
end of the stream, a close frame with code N, or a frame with opcode N.
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys

K_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise ConnectionError("closed")
        data += more
    return data


def send_frame(sock, opcode, payload, fin=True, masked=True):
    # A client masks every frame it sends (RFC 6455 section 5.3).
    mask = os.urandom(4) if masked else b""
    bit = 0x80 if masked else 0
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        head += bytes([bit | len(payload)])
    elif len(payload) < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", len(payload))
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(head + mask + payload)


def how_it_ends(sock, rest):
    """After a protocol error: what the client is sent next."""
    try:
        opcode, payload, _ = read_frame(sock, rest)
    except ConnectionError:
        return "eof"
    if opcode == 0x8 and len(payload) >= 2:
        return f"close {struct.unpack('!H', payload[:2])[0]}"
    return f"frame {opcode}"


def send_fragments(sock, message, count):
    """Sends `message` as one text message in `count` fragments, a ping between each two."""
    size = -(-len(message) // count)
    pieces = [message[i:i + size] for i in range(0, len(message), size)] or [b""]
    for i, piece in enumerate(pieces):
        if i > 0:
            send_frame(sock, 0x9, b"between fragments")
        send_frame(sock, 0x1 if i == 0 else 0x0, piece, fin=i == len(pieces) - 1)


def read_frame(sock, pending):
    """Returns (opcode, payload), reading `pending` bytes (already received) first."""
    buffer = bytearray(pending)

    def take(n):
        nonlocal buffer
        while len(buffer) < n:
            buffer += read_exact(sock, 1)
        out, buffer = bytes(buffer[:n]), buffer[n:]
        return out

    first, second = take(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", take(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", take(8))[0]
    if second & 0x80:
        raise ValueError("a server frame must not be masked")
    return first & 0x0F, take(length), bytes(buffer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxy", required=True)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--message", default=os.urandom(12).hex())
    parser.add_argument("--fragments", type=int, default=1)
    parser.add_argument("--unmasked", action="store_true")
    parser.add_argument("url")
    args = parser.parse_args()
    host, port = args.proxy.rsplit(":", 1)
    authority = args.url.split("://", 1)[1].split("/", 1)[0]
    key = base64.b64encode(os.urandom(16))

    sock = socket.create_connection((host, int(port)), timeout=10)
    lines = [f"GET {args.url} HTTP/1.1", f"Host: {authority}", "Connection: Upgrade",
             "Upgrade: websocket", "Sec-WebSocket-Version: 13",
             f"Sec-WebSocket-Key: {key.decode()}"] + args.header
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(sock, 1)
    head, rest = head.split(b"\r\n\r\n", 1)
    status_line, *fields = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ")[1])
    result = {"status": status, "accept_ok": False, "handshake": None, "echo": None,
              "echoed": False, "closed": False}
    if status == 101:
        accept = dict((n.strip().lower(), v.strip()) for n, v in
                      (f.split(":", 1) for f in fields)).get("sec-websocket-accept")
        expected = base64.b64encode(hashlib.sha1(key + K_GUID).digest()).decode()
        result["accept_ok"] = accept == expected
        _, first, rest = read_frame(sock, rest)
        result["handshake"] = json.loads(first)
        if args.unmasked:
            send_frame(sock, 0x1, args.message.encode(), masked=False)
            print(json.dumps({"status": status, "ended": how_it_ends(sock, rest)}))
            return 0
        message = args.message.encode()
        send_fragments(sock, message, args.fragments)
        opcode, echo, rest = read_frame(sock, rest)
        while opcode == 0xA:  # the origin's answers to the pings
            opcode, echo, rest = read_frame(sock, rest)
        result["echo"] = echo.decode()
        result["echoed"] = echo == message
        send_frame(sock, 0x8, struct.pack("!H", 1000))
        opcode, _, rest = read_frame(sock, rest)
        result["closed"] = opcode == 0x8
    print(json.dumps(result))
    return 0 if result["echo"] is not None and result["closed"] and result["accept_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
