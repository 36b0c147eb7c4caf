// A local OAuth 2.0 / OpenID Connect provider for oauth-injector's end-to-end tests, built on the
// npm package oidc-provider (https://github.com/panva/node-oidc-provider).
//
// It behaves like the strict providers the proxy must survive:
// - opaque access tokens with a short, configurable lifetime;
// - refresh tokens that rotate on every use; presenting an already used refresh token is taken
//   as theft: oidc-provider destroys it and revokes the whole grant (every access and refresh
//   token issued under it), and the caller gets `invalid_grant`;
// - PKCE (S256) required for public clients; client_secret_post and client_secret_basic for
//   confidential ones;
// - introspection (RFC 7662) and revocation (RFC 7009).
// Interactions are approved without a login page: /interaction/:uid finishes the interaction at
// once, so a plain HTTP client that follows redirects, with or without a cookie jar, goes from
// /auth?... straight to the redirect_uri with `code` and `state`.
//
// Test-only endpoints (no authentication; the provider listens on 127.0.0.1 only):
//   GET  /test/stats        token-endpoint calls by grant_type, error codes, and more (JSON)
//   POST /test/stats/reset  zero the counters
//   PUT  /test/interaction  {"account_id": "...", "outcome": "approve" | "deny"} for the next
//                           interactions (deny: the redirect carries error=access_denied)
//   PUT  /test/token-fault  make the token endpoint slow, fail or break (token_faults.mjs)
//
// Start: node provider.mjs [--port N] [--clients FILE] [--redirect-uri URI ...]
//                          [--access-token-ttl SECONDS] [--refresh-token-ttl SECONDS]
//                          [--account-id ID] [--exit-on-stdin-eof]
// or the environment: OP_PORT, OP_CLIENTS_FILE, OP_CLIENTS (JSON text), OP_REDIRECT_URIS
// (space- or comma-separated), OP_ACCESS_TOKEN_TTL, OP_REFRESH_TOKEN_TTL, OP_ACCOUNT_ID.
// Arguments win over the environment. Once listening, one JSON line goes to stdout:
//   {"ready":true,"port":N,"issuer":"http://127.0.0.1:N","token_endpoint":...,...}
// Nothing else is written to stdout; secrets are never printed. SIGTERM/SIGINT stop it.
//
// Clients are oidc-provider client metadata (a JSON array). Missing fields get test defaults:
// grant_types [authorization_code, refresh_token], response_types [code], redirect_uris from
// --redirect-uri. A client with grant_types [] and response_types [] can only introspect and
// revoke, like a resource server. Without a list, k_default_clients (configuration.mjs) is used.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

import { configuration, k_default_clients, k_resource } from './configuration.mjs';
import { test_endpoints } from './interactions.mjs';
import { counting, stats } from './token_endpoint.mjs';
import { token_faults } from './token_faults.mjs';

// Reads the options from argv and the environment (argv wins).
export function read_options(argv = process.argv.slice(2), env = process.env) {
    const { values } = parseArgs({
        args: argv,
        options: {
            port: { type: 'string' },
            clients: { type: 'string' },
            'redirect-uri': { type: 'string', multiple: true },
            'access-token-ttl': { type: 'string' },
            'refresh-token-ttl': { type: 'string' },
            'account-id': { type: 'string' },
            'exit-on-stdin-eof': { type: 'boolean' },
            debug: { type: 'boolean' },
        },
    });

    const clients_file = values.clients ?? env.OP_CLIENTS_FILE;
    let clients = k_default_clients;
    if (clients_file) {
        clients = JSON.parse(readFileSync(clients_file, 'utf8'));
    } else if (env.OP_CLIENTS) {
        clients = JSON.parse(env.OP_CLIENTS);
    }

    const redirect_uris =
        values['redirect-uri'] ?? (env.OP_REDIRECT_URIS ?? '').split(/[\s,]+/).filter(Boolean);

    return {
        port: to_int(values.port ?? env.OP_PORT ?? '0', 'port'),
        clients,
        redirect_uris,
        access_token_ttl: to_int(
            values['access-token-ttl'] ?? env.OP_ACCESS_TOKEN_TTL ?? '60', 'access token ttl'),
        refresh_token_ttl: to_int(
            values['refresh-token-ttl'] ?? env.OP_REFRESH_TOKEN_TTL ?? '86400',
            'refresh token ttl'),
        account_id: values['account-id'] ?? env.OP_ACCOUNT_ID ?? 'test-user',
        exit_on_stdin_eof: values['exit-on-stdin-eof'] ?? false,
        debug: values.debug ?? env.OP_DEBUG === '1',
    };
}

function to_int(text, what) {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) {
        throw new Error(`${what}: not a non-negative integer: ${text}`);
    }
    return n;
}

// With --debug: writes why each request failed to stderr (error codes and oidc-provider's
// details, which never include token or secret values).
function log_errors(provider) {
    const events = ['grant.error', 'server_error', 'authorization.error', 'introspection.error',
        'revocation.error', 'resume.error'];
    for (const event of events) {
        provider.on(event, (_ctx, err) => {
            const detail = err.error_detail ?? err.error_description ?? '';
            process.stderr.write(`provider: ${event}: ${err.error ?? err.message}: ${detail}\n`);
        });
    }
}

// Starts the provider on 127.0.0.1:options.port (0: any free port). Resolves to
// { server, provider, port, issuer, stats, close() }.
export async function start_provider(options) {
    const server = createServer();
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, '127.0.0.1', resolve);
    });
    const { port } = server.address();
    const issuer = `http://127.0.0.1:${port}`;

    const counters = new stats();
    const settings = { account_id: options.account_id, outcome: 'approve' };
    const config = configuration(options);
    const provider = new Provider(issuer, config);
    provider.on('grant.revoked', () => {
        counters.grants_revoked += 1;
    });
    if (options.debug) {
        log_errors(provider);
    }
    const faults = new token_faults();
    provider.use(counting(counters, config.clients, faults));
    provider.use(test_endpoints(provider, settings, counters, faults));
    server.on('request', provider.callback());

    const close = () =>
        new Promise((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return { server, provider, port, issuer, stats: counters, close };
}

async function main() {
    const options = read_options();
    const { port, issuer, close } = await start_provider(options);

    const ready = {
        ready: true,
        port,
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/token/introspection`,
        revocation_endpoint: `${issuer}/token/revocation`,
        resource: k_resource,
        clients: options.clients.map((c) => c.client_id),
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);

    const stop = () => close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (options.exit_on_stdin_eof) {
        process.stdin.on('end', stop);
        process.stdin.resume();
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    main().catch((e) => {
        process.stderr.write(`provider: ${e.message}\n`);
        process.exit(1);
    });
}
