// Tests of the test provider alone (node --test selftest.mjs): the authorization-code flow with
// PKCE for each kind of client, refresh-token rotation, replay detection and grant revocation,
// introspection, revocation, strict client authentication and the test-only endpoints.
// The behaviours the proxy's end-to-end tests rely on are each proven here first.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
    authorize,
    get_json,
    pkce_pair,
    post,
    post_chunked,
    put_json,
    spawn_provider,
} from './client.mjs';

const k_redirect_uri = 'http://127.0.0.1:9/oauth/callback';

const k_clients = {
    post: {
        client_id: 'confidential-post',
        client_secret: randomBytes(16).toString('hex'),
        token_endpoint_auth_method: 'client_secret_post',
    },
    basic: {
        client_id: 'confidential-basic',
        client_secret: randomBytes(16).toString('hex'),
        token_endpoint_auth_method: 'client_secret_basic',
    },
    public: { client_id: 'public-pkce', token_endpoint_auth_method: 'none' },
};
const k_resource_server = {
    client_id: 'resource-server',
    client_secret: randomBytes(16).toString('hex'),
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [],
    response_types: [],
};

const k_env = {
    OP_CLIENTS: JSON.stringify([...Object.values(k_clients), k_resource_server]),
    OP_REDIRECT_URIS: k_redirect_uri,
};

let op;
before(async () => {
    op = await spawn_provider(['--access-token-ttl', '300'], k_env);
});
after(() => op.stop());

// Runs the whole authorization-code flow for `client`; resolves to the token response body.
async function obtain_grant(client, { scope = 'api:read', login_hint, json = false } = {}) {
    const { verifier, challenge } = pkce_pair();
    const state = randomBytes(8).toString('hex');
    const params = {
        client_id: client.client_id,
        response_type: 'code',
        redirect_uri: k_redirect_uri,
        scope,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
    };
    if (login_hint) {
        params.login_hint = login_hint;
    }
    const redirect = await authorize(op.base, params);
    assert.equal(redirect.searchParams.get('state'), state);
    const code = redirect.searchParams.get('code');
    assert.ok(code, `no code in the redirect: ${redirect.searchParams.get('error')}`);

    const answer = await post(op.base, '/token', client, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: k_redirect_uri,
        code_verifier: verifier,
    }, { json });
    assert.equal(answer.status, 200, JSON.stringify(answer.body?.error));
    return answer.body;
}

function refresh(client, refresh_token) {
    return post(op.base, '/token', client, { grant_type: 'refresh_token', refresh_token });
}

async function introspect(token) {
    const answer = await post(op.base, '/token/introspection', k_resource_server, { token });
    assert.equal(answer.status, 200);
    return answer.body;
}

describe('start-up', () => {
    test('announces port, issuer and endpoints on one JSON line; discovery agrees', async () => {
        const discovery = await get_json(op.base, '/.well-known/openid-configuration');

        assert.equal(op.ready.ready, true);
        assert.equal(op.ready.issuer, `http://127.0.0.1:${op.ready.port}`);
        assert.equal(discovery.issuer, op.ready.issuer);
        assert.equal(discovery.token_endpoint, op.ready.token_endpoint);
        assert.equal(discovery.introspection_endpoint, op.ready.introspection_endpoint);
        assert.equal(discovery.revocation_endpoint, op.ready.revocation_endpoint);
        assert.deepEqual(op.ready.clients,
            ['confidential-post', 'confidential-basic', 'public-pkce', 'resource-server']);
    });
});

describe('authorization code with PKCE', () => {
    for (const kind of ['post', 'basic', 'public']) {
        const client = k_clients[kind];
        test(`gives opaque access and refresh tokens (${client.client_id})`, async () => {
            const tokens = await obtain_grant(client, { scope: 'api:read calendar.read' });

            assert.equal(tokens.token_type, 'Bearer');
            assert.equal(tokens.expires_in, 300);
            assert.equal(tokens.scope, 'api:read calendar.read');
            assert.match(tokens.access_token, /^[\w-]{20,}$/, 'access token is opaque');
            assert.match(tokens.refresh_token, /^[\w-]{20,}$/);
            const info = await introspect(tokens.access_token);
            assert.equal(info.active, true);
            assert.equal(info.client_id, client.client_id);
            assert.equal(info.scope, 'api:read calendar.read');
            assert.equal(info.token_type, 'Bearer');
        });
    }

    test('a client with a cookie jar gets through the interaction like one without', async () => {
        const { challenge } = pkce_pair();

        const redirect = await authorize(op.base, {
            client_id: 'public-pkce', response_type: 'code', redirect_uri: k_redirect_uri,
            scope: 'api:read', state: 's1', code_challenge: challenge,
            code_challenge_method: 'S256',
        }, { cookies: true });

        assert.ok(redirect.searchParams.get('code'));
        assert.equal(redirect.searchParams.get('state'), 's1');
    });

    test('the public client is refused without PKCE', async () => {
        const redirect = await authorize(op.base, {
            client_id: 'public-pkce', response_type: 'code', redirect_uri: k_redirect_uri,
            scope: 'api:read', state: 's2',
        });

        assert.equal(redirect.searchParams.get('error'), 'invalid_request');
        assert.equal(redirect.searchParams.get('code'), null);
    });

    test('login_hint names the account, and the introspected subject is that account', async () => {
        const tokens = await obtain_grant(k_clients.basic, { login_hint: 'alice@example.test' });

        const info = await introspect(tokens.access_token);
        assert.equal(info.sub, 'alice@example.test');
    });

    test('an authorization code can be exchanged once only', async () => {
        const { verifier, challenge } = pkce_pair();
        const redirect = await authorize(op.base, {
            client_id: 'confidential-post', response_type: 'code', redirect_uri: k_redirect_uri,
            scope: 'api:read', state: 's3', code_challenge: challenge,
            code_challenge_method: 'S256',
        });
        const exchange = {
            grant_type: 'authorization_code', code: redirect.searchParams.get('code'),
            redirect_uri: k_redirect_uri, code_verifier: verifier,
        };

        const first = await post(op.base, '/token', k_clients.post, exchange);
        const second = await post(op.base, '/token', k_clients.post, exchange);

        assert.equal(first.status, 200);
        assert.equal(second.status, 400);
        assert.equal(second.body.error, 'invalid_grant');
    });

    test('a denied interaction redirects with error=access_denied and the state', async () => {
        await put_json(op.base, '/test/interaction', { outcome: 'deny' });
        try {
            const { challenge } = pkce_pair();

            const redirect = await authorize(op.base, {
                client_id: 'confidential-basic', response_type: 'code',
                redirect_uri: k_redirect_uri, scope: 'api:read', state: 's4',
                code_challenge: challenge, code_challenge_method: 'S256',
            });

            assert.equal(redirect.searchParams.get('error'), 'access_denied');
            assert.equal(redirect.searchParams.get('state'), 's4');
        } finally {
            await put_json(op.base, '/test/interaction', { outcome: 'approve' });
        }
    });
});

describe('token endpoint strictness', () => {
    test('a client authenticating with another than its registered method is refused', async () => {
        const tokens = await obtain_grant(k_clients.post);
        const as_basic = { ...k_clients.post, token_endpoint_auth_method: 'client_secret_basic' };

        const answer = await refresh(as_basic, tokens.refresh_token);

        assert.equal(answer.status, 401);
        assert.equal(answer.body.error, 'invalid_client');
    });

    test('a wrong client secret is refused with invalid_client', async () => {
        const tokens = await obtain_grant(k_clients.basic);
        const wrong = { ...k_clients.basic, client_secret: 'not-the-secret' };

        const answer = await refresh(wrong, tokens.refresh_token);

        assert.equal(answer.status, 401);
        assert.equal(answer.body.error, 'invalid_client');
    });

    test('a token request without Content-Length (chunked) is refused with 411', async () => {
        const answer = await post_chunked(op.base, '/token', 'grant_type=refresh_token');

        assert.equal(answer.status, 411);
        assert.equal(answer.body.error, 'invalid_request');
    });

    test('a JSON token request is accepted like a form', async () => {
        const tokens = await obtain_grant(k_clients.post, { json: true });

        const answer = await post(op.base, '/token', k_clients.post,
            { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { json: true });

        assert.equal(answer.status, 200);
        assert.ok(answer.body.access_token);
    });
});

describe('refresh token rotation and replay', () => {
    test('every refresh rotates the refresh token, and each new one works', async () => {
        const tokens = await obtain_grant(k_clients.basic);
        const seen = new Set([tokens.refresh_token]);

        let current = tokens.refresh_token;
        for (let i = 0; i < 5; i += 1) {
            const answer = await refresh(k_clients.basic, current);
            assert.equal(answer.status, 200, JSON.stringify(answer.body?.error));
            assert.ok(!seen.has(answer.body.refresh_token), 'a new refresh token each time');
            seen.add(answer.body.refresh_token);
            current = answer.body.refresh_token;
        }

        assert.equal(seen.size, 6);
    });

    test('replaying a used refresh token is invalid_grant and revokes the grant', async () => {
        const tokens = await obtain_grant(k_clients.post);
        const rotated = await refresh(k_clients.post, tokens.refresh_token);
        assert.equal(rotated.status, 200);
        const before_replay = await get_json(op.base, '/test/stats');

        const replay = await refresh(k_clients.post, tokens.refresh_token);

        assert.equal(replay.status, 400);
        assert.equal(replay.body.error, 'invalid_grant');
        const newest = await refresh(k_clients.post, rotated.body.refresh_token);
        assert.equal(newest.body.error, 'invalid_grant', 'the rotated refresh token is dead too');
        assert.equal((await introspect(rotated.body.access_token)).active, false);
        assert.equal((await introspect(tokens.access_token)).active, false);
        const after_replay = await get_json(op.base, '/test/stats');
        assert.equal(after_replay.invalid_grant - before_replay.invalid_grant, 2);
        assert.equal(after_replay.grants_revoked - before_replay.grants_revoked, 1);
    });

    test('twenty concurrent uses of one refresh token: one wins, the rest revoke the grant',
        async () => {
            const tokens = await obtain_grant(k_clients.public);

            const answers = await Promise.all(Array.from({ length: 20 },
                () => refresh(k_clients.public, tokens.refresh_token)));

            const winners = answers.filter((a) => a.status === 200);
            assert.equal(winners.length, 1);
            assert.ok(answers.every((a) => a.status === 200 || a.body.error === 'invalid_grant'));
            const after_race = await refresh(k_clients.public, winners[0].body.refresh_token);
            assert.equal(after_race.body.error, 'invalid_grant');
            assert.equal((await introspect(winners[0].body.access_token)).active, false);
        });
});

describe('introspection and revocation', () => {
    test('revoking the refresh token (RFC 7009) ends the grant', async () => {
        const tokens = await obtain_grant(k_clients.basic);

        const answer = await post(op.base, '/token/revocation', k_clients.basic,
            { token: tokens.refresh_token, token_type_hint: 'refresh_token' });

        assert.equal(answer.status, 200);
        assert.equal((await refresh(k_clients.basic, tokens.refresh_token)).body.error,
            'invalid_grant');
        assert.equal((await introspect(tokens.access_token)).active, false);
    });

    test('revoking the access token ends its refresh token too (RFC 7009 2.1 allows it)',
        async () => {
            const tokens = await obtain_grant(k_clients.post);

            const answer = await post(op.base, '/token/revocation', k_clients.post,
                { token: tokens.access_token, token_type_hint: 'access_token' });

            assert.equal(answer.status, 200);
            assert.equal((await introspect(tokens.access_token)).active, false);
            assert.equal((await refresh(k_clients.post, tokens.refresh_token)).body.error,
                'invalid_grant');
        });

    test('an unknown token introspects as inactive', async () => {
        assert.deepEqual(await introspect('no-such-token'), { active: false });
    });

    test('introspection needs client authentication', async () => {
        const answer = await post(op.base, '/token/introspection',
            { ...k_resource_server, client_secret: 'wrong' }, { token: 'x' });

        assert.equal(answer.status, 401);
    });
});

describe('test endpoints', () => {
    test('stats count token calls by grant type and errors, and reset to zero', async () => {
        await fetch(new URL('/test/stats/reset', op.base), { method: 'POST' });
        const tokens = await obtain_grant(k_clients.basic);
        const rotated = await refresh(k_clients.basic, tokens.refresh_token);
        await refresh(k_clients.basic, tokens.refresh_token);

        const stats = await get_json(op.base, '/test/stats');

        assert.equal(rotated.status, 200);
        assert.equal(stats.authorization_code, 1);
        assert.equal(stats.refresh_token, 2);
        assert.equal(stats.invalid_grant, 1);
        assert.deepEqual(stats.token_auth_methods, { client_secret_basic: 3 });
        assert.deepEqual(stats.token_content_types, { form: 3 });
        assert.equal(stats.grants_revoked, 1);
    });

    test('an unknown interaction outcome is refused', async () => {
        const answer = await put_json(op.base, '/test/interaction', { outcome: 'maybe' });

        assert.equal(answer.status, 400);
    });
});

describe('token endpoint faults', () => {
    const set_fault = (spec) => put_json(op.base, '/test/token-fault', spec);

    test('a status fault answers that status for count requests, then refreshes work', async () => {
        const tokens = await obtain_grant(k_clients.post);
        await set_fault({ mode: 'status', status: 503, count: 2 });

        const first = await refresh(k_clients.post, tokens.refresh_token);
        const second = await refresh(k_clients.post, tokens.refresh_token);
        const third = await refresh(k_clients.post, tokens.refresh_token);

        assert.deepEqual([first.status, second.status, third.status], [503, 503, 200]);
        assert.equal(first.body.error, 'temporarily_unavailable');
    });

    test('a garbage fault answers 200 with a body that is not JSON', async () => {
        await set_fault({ mode: 'garbage', count: 1 });

        const response = await fetch(new URL('/token', op.base), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=refresh_token&refresh_token=x&client_id=public-pkce',
        });

        assert.equal(response.status, 200);
        await assert.rejects(response.json(), SyntaxError);
    });

    test('a close fault drops the connection without an answer', async () => {
        await set_fault({ mode: 'close', count: 1 });

        await assert.rejects(refresh(k_clients.public, 'x'));
    });

    test('a delay fault answers normally, no sooner than delay_ms', async () => {
        const tokens = await obtain_grant(k_clients.basic);
        await set_fault({ mode: 'delay', delay_ms: 300, count: 1 });
        const started = Date.now();

        const answer = await refresh(k_clients.basic, tokens.refresh_token);

        assert.equal(answer.status, 200);
        assert.ok(Date.now() - started >= 300);
    });

    test('a malformed fault is refused and changes nothing', async () => {
        const answer = await set_fault({ mode: 'explode' });

        assert.equal(answer.status, 400);
        assert.equal((await refresh(k_clients.public, 'unknown-token')).body.error,
            'invalid_grant');
    });
});

describe('access token lifetime', () => {
    test('an access token is active until its TTL passes, then inactive', async () => {
        const short = await spawn_provider(['--access-token-ttl', '1'], k_env);
        try {
            const { verifier, challenge } = pkce_pair();
            const redirect = await authorize(short.base, {
                client_id: 'public-pkce', response_type: 'code', redirect_uri: k_redirect_uri,
                scope: 'api:read', state: 's5', code_challenge: challenge,
                code_challenge_method: 'S256',
            });
            const tokens = (await post(short.base, '/token', k_clients.public, {
                grant_type: 'authorization_code', code: redirect.searchParams.get('code'),
                redirect_uri: k_redirect_uri, code_verifier: verifier,
            })).body;
            const issued_at = Date.now();
            const check = () => post(short.base, '/token/introspection', k_resource_server,
                { token: tokens.access_token });

            assert.equal(tokens.expires_in, 1);
            let info = (await check()).body;
            while (info.active && Date.now() - issued_at < 5000) {
                await new Promise((r) => setTimeout(r, 100));
                info = (await check()).body;
            }

            assert.equal(info.active, false);
            assert.equal((await refresh_at(short.base, tokens.refresh_token)).status, 200,
                'the refresh token outlives the access token');
        } finally {
            await short.stop();
        }
    });
});

function refresh_at(base, refresh_token) {
    return post(base, '/token', k_clients.public, { grant_type: 'refresh_token', refresh_token });
}
