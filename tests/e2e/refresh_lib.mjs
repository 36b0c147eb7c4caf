// Helpers for refresh_e2e.mjs: child processes (redis-server, the proxy binary), free ports,
// polling with a deadline, requests through the proxy, and an API origin that checks every
// injected token with the provider's introspection endpoint (RFC 7662). Nothing here prints a
// token or a secret.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as create_tcp_server, connect } from 'node:net';
import { join } from 'node:path';

import { post } from './provider/client.mjs';

// A port that was free a moment ago on 127.0.0.1, never one this run handed out before (the
// kernel may offer a just-closed port again, and two listeners of one proxy must differ).
const handed_out = new Set();
export async function free_port() {
    for (;;) {
        const port = await new Promise((resolve, reject) => {
            const server = create_tcp_server();
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
                const { port: p } = server.address();
                server.close(() => resolve(p));
            });
        });
        if (!handed_out.has(port)) {
            handed_out.add(port);
            return port;
        }
    }
}

// Resolves once `condition()` resolves truthy; rejects with `what` after `timeout_ms`.
export async function poll(what, condition, timeout_ms = 10000, step_ms = 20) {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
        const value = await condition().catch(() => false);
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, step_ms));
    }
}

// Resolves at wall-clock time `at_ms` (the test waits for tokens to expire: time is the subject).
export function until(at_ms) {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, at_ms - Date.now())));
}

export function tcp_open(port) {
    return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}

// The child processes of one run; `stop_all` ends them.
export class processes {
    constructor(dir) {
        this.dir = dir;
        this.children = [];
    }

    // Starts `command args` with its output in DIR/NAME.log.
    start(name, command, args, env = {}) {
        const log = createWriteStream(join(this.dir, `${name}.log`));
        const child = spawn(command, args, {
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.pipe(log);
        child.stderr.pipe(log);
        this.children.push(child);
        return child;
    }

    async stop_all() {
        await Promise.all(this.children.map((child) => new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
                resolve();
                return;
            }
            child.once('exit', resolve);
            child.kill('SIGTERM');
        })));
    }
}

// A short, non-reversible name for a token, for comparing without showing it.
export function fingerprint(token) {
    return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

// One HTTP/1.1 exchange on a new connection; resolves to { status, headers, body, ms }.
// Never rejects: a transport failure is status 0.
export function exchange(port, method, path, headers = {}, body = '', timeout_ms = 30000) {
    const started = Date.now();
    return new Promise((resolve) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false,
            timeout: timeout_ms });
        req.on('response', (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
                data += d;
            });
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data,
                ms: Date.now() - started }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => resolve({ status: 0, headers: {}, body: '', ms: Date.now() - started }));
        req.end(body);
    });
}

// An API origin on 127.0.0.1 that accepts a request only with a bearer token that the provider
// says is active, issued to `client_id`, and not past its `exp`. Each distinct token is
// introspected once (concurrent requests share the call); later uses are checked against the
// `exp` the provider gave. GET /echo answers the token's fingerprint without introspection (for
// the fault tests, whose grants hold tokens the provider never issued).
export class checking_origin {
    constructor(issuer, resource_server, client_id) {
        this.issuer = issuer;
        this.resource_server = resource_server;
        this.client_id = client_id;
        this.introspected = new Map(); // token -> Promise<{active, exp, client_id}>
        this.accepted = 0;
        this.rejected = 0;
        this.fingerprints = new Set(); // of accepted tokens
    }

    async start() {
        this.server = createServer((req, res) => this.handle(req, res));
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
        return this;
    }

    stop() {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(resolve));
    }

    introspect(token) {
        if (!this.introspected.has(token)) {
            this.introspected.set(token, post(this.issuer, '/token/introspection',
                this.resource_server, { token }).then((a) => a.body ?? { active: false }));
        }
        return this.introspected.get(token);
    }

    async verdict(token) {
        if (!token) {
            return false;
        }
        const info = await this.introspect(token);
        return info.active === true && info.client_id === this.client_id &&
            Date.now() < info.exp * 1000;
    }

    async handle(req, res) {
        const auth = req.headers.authorization ?? '';
        const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        if (req.url.startsWith('/echo')) {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(token ? fingerprint(token) : '');
            return;
        }
        const ok = await this.verdict(token).catch(() => false);
        if (ok) {
            this.accepted += 1;
            this.fingerprints.add(fingerprint(token));
        } else {
            this.rejected += 1;
        }
        res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
        res.end(ok ? 'ok' : 'token rejected');
    }
}

// The YAML of one proxy: two connections on the provider (`provider` refreshes on expiry;
// `early` refreshes whenever asked, for the fault tests), and `down`, whose token endpoint
// refuses connections.
export function proxy_config({ proxy_port, admin_port, redis_port, issuer, down_port, client_id,
    refresh_timeout }) {
    const connection = (id, token_url, refresh_before) => `
  ${id}:
    authorization_url: ${issuer}/auth
    token_url: ${token_url}
    client_id: ${client_id}
    client_secret: \${CLIENT_SECRET}
    allowed_hosts: [127.0.0.1]
    refresh_before: ${refresh_before}
    on_missing_token: reject`;
    return `
listen:
  proxy: 127.0.0.1:${proxy_port}
  admin: 127.0.0.1:${admin_port}
admin_token: \${ADMIN_TOKEN}
threads: 2
store:
  redis: { url: "redis://127.0.0.1:${redis_port}/0", key_prefix: e2e-refresh }
  encryption_keys:
    - { id: k1, key: "\${TOKEN_KEY}" }
  refresh_timeout: ${refresh_timeout}
connections:${connection('provider', `${issuer}/token`, '0s')}${
    connection('early', `${issuer}/token`, '1h')}${
    connection('down', `http://127.0.0.1:${down_port}/token`, '1h')}
plugins:
  api: { connection: provider }
  api-early: { connection: early }
  api-down: { connection: down }
upstream:
  allow_addresses: [127.0.0.1]
log: { level: info, format: json }
`;
}
