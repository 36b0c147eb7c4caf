// Test-side helpers for the provider of provider.mjs: start it as a child process and read its
// ready line, run the authorization-code flow as a plain HTTP client, call the token,
// introspection and revocation endpoints. Used by selftest.mjs; other node tests may use them.
// Every function returns what the server said (status and parsed body) and throws only when the
// provider cannot be started or a redirect chain does not end where it should.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const k_provider = fileURLToPath(new URL('./provider.mjs', import.meta.url));

// Starts `node provider.mjs args...` and resolves to { child, ready, base, stop() } once the
// ready line has been read (ready is the parsed line, base the issuer URL). Rejects when the
// process exits first or nothing comes within timeout_ms.
export function spawn_provider(args = [], env = {}, timeout_ms = 20000) {
    const child = spawn(process.execPath, [k_provider, '--port', '0', ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
        stderr += d;
    });

    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`provider not ready within ${timeout_ms} ms: ${stderr}`));
        }, timeout_ms);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`provider exited with ${code}: ${stderr}`));
        });
        createInterface({ input: child.stdout }).once('line', (line) => {
            clearTimeout(timer);
            const ready = JSON.parse(line);
            const stop = () =>
                new Promise((done) => {
                    if (child.exitCode !== null) {
                        done();
                        return;
                    }
                    child.once('exit', () => done());
                    child.kill('SIGTERM');
                });
            resolve({ child, ready, base: ready.issuer, stop });
        });
    });
}

// A PKCE pair (RFC 7636, S256).
export function pkce_pair() {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    return { verifier, challenge };
}

// Sends GET /auth with `params` and follows redirects like a browser would, without running
// anything at the redirect_uri: resolves to the URL of the final redirect to redirect_uri (its
// query holds code and state, or error). With `cookies`, keeps the provider's cookies like a
// browser; without, sends none.
export async function authorize(base, params, { cookies = false, max_hops = 10 } = {}) {
    const jar = new Map();
    let url = new URL(`/auth?${new URLSearchParams(params)}`, base);
    for (let hop = 0; hop < max_hops; hop += 1) {
        const headers = {};
        if (cookies && jar.size) {
            headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        }
        const response = await fetch(url, { redirect: 'manual', headers });
        for (const line of response.headers.getSetCookie()) {
            const [pair] = line.split(';');
            const at = pair.indexOf('=');
            jar.set(pair.slice(0, at), pair.slice(at + 1));
        }
        const location = response.headers.get('location');
        if (!location) {
            throw new Error(`authorize: ${url.pathname} answered ${response.status} ` +
                `without a redirect: ${await response.text()}`);
        }
        const next = new URL(location, url);
        if (next.href.startsWith(params.redirect_uri)) {
            return next;
        }
        url = next;
    }
    throw new Error(`authorize: more than ${max_hops} redirects`);
}

// POSTs `params` to `path` with the client's authentication (client_secret_post puts the
// secret in the body, client_secret_basic in an Authorization header, none sends client_id
// only). `json` sends a JSON body instead of a form. Resolves to { status, body }.
export async function post(base, path, client, params, { json = false } = {}) {
    const fields = { ...params };
    const headers = {};
    const method = client.token_endpoint_auth_method;
    if (method === 'client_secret_basic') {
        const user = `${encodeURIComponent(client.client_id)}:${
            encodeURIComponent(client.client_secret)}`;
        headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    } else {
        fields.client_id = client.client_id;
        if (method === 'client_secret_post') {
            fields.client_secret = client.client_secret;
        }
    }
    headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
    const body = json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
    const response = await fetch(new URL(path, base), { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
}

// Sends a raw POST with a chunked body (no Content-Length). Resolves to { status, body }.
export function post_chunked(base, path, text) {
    return new Promise((resolve, reject) => {
        const req = request(new URL(path, base), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        req.on('response', (res) => {
            let data = '';
            res.on('data', (d) => {
                data += d;
            });
            res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(data) }));
        });
        req.on('error', reject);
        req.write(text);
        req.end();
    });
}

export async function get_json(base, path) {
    const response = await fetch(new URL(path, base));
    return response.json();
}

export async function put_json(base, path, object) {
    const response = await fetch(new URL(path, base), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(object),
    });
    return { status: response.status, body: await response.json() };
}
