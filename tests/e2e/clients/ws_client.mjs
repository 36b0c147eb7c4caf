// A WebSocket client (npm ws) that goes through the proxy the way Node plugins do: with
// https-proxy-agent built from HTTPS_PROXY (wss://) or HTTP_PROXY (ws://), which opens a CONNECT
// tunnel, and extra CAs from NODE_EXTRA_CA_CERTS.
//
//   node ws_client.mjs URL [--header 'Name: value']... [--text TEXT]
//
// Reads the origin's first message (ws_origin.mjs: the handshake it saw), sends one text message
// (TEXT, or a random one) and one binary message, waits for their echoes and closes. Offers
// permessage-deflate, as ws does by default. Prints one JSON line, {"handshake": {...},
// "text_echo": "...", "text_echoed": bool, "binary_echoed": bool, "extensions": "...",
// "close_code": N}, where text_echoed says the echo equals what was sent and extensions is what
// the origin accepted; exits 1 on failure with the error's name on stderr. Bounded to 15 s.

import crypto from 'node:crypto';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';

const [url, ...rest] = process.argv.slice(2);
const headers = {};
let text = `hello-${crypto.randomBytes(8).toString('hex')}`;
for (let i = 0; i + 1 < rest.length; i += 2) {
    if (rest[i] === '--text') {
        text = rest[i + 1];
        continue;
    }
    const colon = rest[i + 1].indexOf(':');
    headers[rest[i + 1].slice(0, colon).trim()] = rest[i + 1].slice(colon + 1).trim();
}
const proxy = url.startsWith('wss:') ? process.env.HTTPS_PROXY : process.env.HTTP_PROXY;

setTimeout(() => {
    process.stderr.write('timed out\n');
    process.exit(1);
}, 15_000).unref();

const binary = crypto.randomBytes(70_000); // over 64 KiB: a frame with a 64-bit length
const result = {
    handshake: null,
    text_echo: null,
    text_echoed: false,
    binary_echoed: false,
    extensions: null,
    close_code: null,
};
const socket = new WebSocket(url, { headers, agent: new HttpsProxyAgent(proxy) });

socket.on('message', (data, is_binary) => {
    if (result.handshake === null) {
        result.handshake = JSON.parse(data.toString());
        socket.send(text);
        socket.send(binary);
        return;
    }
    if (!is_binary) {
        result.text_echo = data.toString();
        result.text_echoed = result.text_echo === text;
    } else {
        result.binary_echoed = Buffer.compare(data, binary) === 0;
    }
    if (result.text_echo !== null && result.binary_echoed) {
        socket.close(1000);
    }
});
socket.on('close', (code) => {
    result.close_code = code;
    result.extensions = socket.extensions;
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(result.text_echo !== null && result.binary_echoed ? 0 : 1);
});
socket.on('error', (error) => {
    process.stderr.write(`${error.name} ${error.code ?? ''}\n`);
    process.exit(1);
});
