// A loopback WebSocket echo origin for end-to-end tests (npm ws), plain or over TLS.
//
//   node ws_origin.mjs [--tls-cert FILE --tls-key FILE] [--deflate]
//
// Listens on 127.0.0.1, a free port, and prints one line, {"ready": true, "port": N}. To each
// connection it first sends one text message describing the opening handshake it received,
// {"path": "/x", "tls": bool, "headers": [[name, value], ...]}, then echoes every message back
// as it came (text or binary). With --deflate it accepts permessage-deflate (RFC 7692) when a
// client offers it. SIGTERM stops it.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
};
const cert = option('--tls-cert');
const key = option('--tls-key');
const tls = cert !== undefined && key !== undefined;
const deflate = args.includes('--deflate');

const server = tls
    ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) })
    : http.createServer();
server.on('request', (_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end('WebSocket only\n');
});

const wss = new WebSocketServer({ server, maxPayload: 1024 * 1024, perMessageDeflate: deflate });
wss.on('connection', (socket, request) => {
    const headers = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
        headers.push([request.rawHeaders[i], request.rawHeaders[i + 1]]);
    }
    socket.send(JSON.stringify({ path: request.url, tls, headers }));
    socket.on('message', (data, binary) => socket.send(data, { binary }));
    // A client's protocol error (ws closes with 1002) must not stop the origin.
    socket.on('error', () => {});
});

process.on('SIGTERM', () => process.exit(0));
server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ ready: true, port: server.address().port }) + '\n');
});
