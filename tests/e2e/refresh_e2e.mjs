// Token refresh end to end (issue 3): the real oauth-injector binary, twice, on one real
// redis-server, against the test OAuth provider (provider/provider.mjs, oidc-provider with
// refresh tokens that rotate on every use and a grant revoked when a used one is replayed).
//
//   node tests/e2e/refresh_e2e.mjs          (OI_BINARY: the proxy, default build/oauth-injector)
//
// 1. Obtains a real grant with the authorization-code flow (the provider approves at once) and
//    imports it through the admin API (`PUT /v1/connections/provider/grants/alice`). Access
//    tokens live 3 seconds.
// 2. Rotations: after each expiry, 300 concurrent requests split over both proxies arrive; each
//    expiry must cost the provider exactly one refresh call, never invalid_grant, and every request
//    must reach the API origin with a token that the provider's introspection calls active.
// 3. On-demand refresh through the admin API (`POST .../refresh`): one provider call.
// 4. Revocation: a used refresh token is replayed at the provider, which revokes the grant; after
//    the expiry the proxy's refresh gets invalid_grant, the grant shows needs_reauth, requests are
//    refused with authorization_required, and the provider sees no further calls.
// 5. Faults through the binary: the token endpoint slow (past store.refresh_timeout), down
//    (connection refused), answering 500, an HTML page, a non-JSON 200, an empty 200. A still
//    valid token keeps being injected; an expired one gives the missing-grant refusal; no request
//    waits past the bound; backoff keeps the calls few.
//
// Prints `ok - ...` / `FAIL - ...` per check, the figures (refresh calls vs expiries, failed
// requests, longest wait), and exits non-zero on any failure. Never prints a token or a secret.
//
// OI_REFRESH_BURST sets the requests per expiry (default 300); OI_REFRESH_SCENARIOS, a comma list
// of rotations, on_demand, revocation and faults, runs only those (default: all). bench/run.sh
// runs the rotations alone with 1,000 requests per expiry and reads the `# storm:` line.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { authorize, get_json, post, put_json, spawn_provider } from './provider/client.mjs';
import {
    checking_origin, exchange, fingerprint, free_port, poll, processes, proxy_config, tcp_open,
    until,
} from './refresh_lib.mjs';

const k_root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const k_binary = resolve(k_root, process.env.OI_BINARY ?? 'build/oauth-injector');
const k_redirect_uri = 'http://127.0.0.1:9/oauth/callback';
const k_access_ttl = 3; // seconds, at the provider
const k_refresh_timeout_ms = 2000; // store.refresh_timeout: the longest a request may wait
const k_burst = Number(process.env.OI_REFRESH_BURST ?? 300);
const k_scenarios = (process.env.OI_REFRESH_SCENARIOS ?? 'rotations,on_demand,revocation,faults')
    .split(',');
const k_rounds = 4;
const k_placeholder = 'Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}';

const secrets = {
    admin: randomBytes(24).toString('hex'),
    token_key: randomBytes(32).toString('base64'),
};
const client = {
    client_id: 'oi-refresh-e2e',
    client_secret: randomBytes(16).toString('hex'),
    token_endpoint_auth_method: 'client_secret_post',
};
const resource_server = {
    client_id: 'oi-refresh-e2e-api',
    client_secret: randomBytes(16).toString('hex'),
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [],
    response_types: [],
};

let passed = 0;
let failed = 0;
function check(description, ok, detail = '') {
    if (ok) {
        passed += 1;
        console.log(`ok - ${description}`);
    } else {
        failed += 1;
        console.log(`FAIL - ${description}${detail ? `: ${detail}` : ''}`);
    }
}

// ---- the run's parts ------------------------------------------------------------------------

async function start_redis(procs) {
    const port = await free_port();
    procs.start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no']);
    await poll('redis-server', () => tcp_open(port));
    return port;
}

async function start_proxies(procs, dir, op, redis_port) {
    const down_port = await free_port(); // nothing listens there: connection refused
    const proxies = [];
    for (let i = 0; i < 2; i += 1) {
        const proxy_port = await free_port();
        const admin_port = await free_port();
        const file = join(dir, `proxy-${i}.yaml`);
        writeFileSync(file, proxy_config({ proxy_port, admin_port, redis_port, issuer: op.base,
            down_port, client_id: client.client_id,
            refresh_timeout: `${k_refresh_timeout_ms}ms` }));
        procs.start(`proxy-${i}`, k_binary, ['run', '--config', file], {
            ADMIN_TOKEN: secrets.admin,
            TOKEN_KEY: secrets.token_key,
            CLIENT_SECRET: client.client_secret,
        });
        proxies.push({ proxy_port, admin_port });
    }
    for (const p of proxies) {
        await poll('the proxy', async () =>
            (await exchange(p.admin_port, 'GET', '/readyz')).status === 200, 20000);
    }
    return proxies;
}

// The authorization-code flow as a browser would run it; resolves to the token answer.
async function obtain_grant(op) {
    const state = randomBytes(8).toString('hex');
    const redirect = await authorize(op.base, { client_id: client.client_id,
        response_type: 'code', redirect_uri: k_redirect_uri, scope: 'api:read', state });
    const code = redirect.searchParams.get('code');
    if (!code || redirect.searchParams.get('state') !== state) {
        throw new Error('the provider did not redirect back with a code');
    }
    const answer = await post(op.base, '/token', client, { grant_type: 'authorization_code',
        code, redirect_uri: k_redirect_uri });
    if (answer.status !== 200 || !answer.body.refresh_token) {
        throw new Error(`the code exchange failed: ${answer.body?.error}`);
    }
    return answer.body;
}

function admin(proxy, method, path, body) {
    const headers = { authorization: `Bearer ${secrets.admin}` };
    let text = '';
    if (body !== undefined) {
        text = JSON.stringify(body);
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(text);
    }
    return exchange(proxy.admin_port, method, `/v1/connections/${path}`, headers, text);
}

async function grant_status(proxy, connection, user) {
    const r = await admin(proxy, 'GET', `${connection}/grants/${user}`);
    return JSON.parse(r.body);
}

// `count` concurrent requests through the proxies in turn, for `user` of `plugin`.
function burst(proxies, origin, count, { plugin = 'api', user = 'alice', path = '/api' } = {}) {
    return Promise.all(Array.from({ length: count }, (_, i) => {
        const p = proxies[i % proxies.length];
        return exchange(p.proxy_port, 'GET', `http://127.0.0.1:${origin.port}${path}`, {
            host: `127.0.0.1:${origin.port}`,
            'x-plugin-id': plugin,
            'x-plugin-user': user,
            authorization: k_placeholder,
        });
    }));
}

function refresh_calls(stats) {
    return stats.token_requests.refresh_token ?? 0;
}

// Sums one counter family over both proxies' /metrics, for series whose labels include `match`.
async function metric_sum(proxies, family, match = '') {
    let sum = 0;
    for (const p of proxies) {
        const text = (await exchange(p.admin_port, 'GET', '/metrics')).body;
        for (const line of text.split('\n')) {
            if (line.startsWith(`oauth_injector_${family}`) && line.includes(match)) {
                sum += Number(line.slice(line.lastIndexOf(' ') + 1));
            }
        }
    }
    return sum;
}

// When the proxy's token for `user` has certainly expired: admin GET shows expires_at in whole
// seconds (rounded down), so the proxy's own expiry is within the second after it.
async function expiry_passed_at(proxy, connection, user) {
    const status = await grant_status(proxy, connection, user);
    return Date.parse(status.expires_at) + 1000 + 30;
}

// The longest time a forwarded request of plugin `api` spent in a proxy before it was sent
// upstream (waiting for the grant and its refresh included), from the proxies' request logs.
function longest_before_forwarding_ms(dir) {
    let longest = 0;
    for (const name of ['proxy-0.log', 'proxy-1.log']) {
        for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
            if (!line.includes('"event":"request"') || !line.includes('"plugin":"api"')) {
                continue;
            }
            const e = JSON.parse(line);
            if (e.outcome === 'forwarded') {
                longest = Math.max(longest, e.duration_ms - e.upstream_ms);
            }
        }
    }
    return Math.round(longest);
}

// The p-th percentile (0-100) of a list of numbers, nearest rank.
function percentile(values, p) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function print_figures(dir) {
    if (figures.storm_ms.length > 0) {
        console.log(`# storm: ${k_burst} concurrent requests per expiry over 2 proxies: ` +
            `${figures.refreshes} refresh calls for ${figures.expiries} expiries; ` +
            `${figures.storm_failed} of ${figures.storm_ms.length} failed; ` +
            `p50 ${percentile(figures.storm_ms, 50)} ms, p99 ${percentile(figures.storm_ms, 99)} ms, ` +
            `longest ${percentile(figures.storm_ms, 100)} ms end to end`);
    }
    console.log(`# figures: ${figures.refreshes} refresh calls seen by the provider for ` +
        `${figures.expiries} expiries (plus ${k_scenarios.includes('on_demand') ? 1 : 0} admin refresh, and ${figures.revoked_calls ?? '-'} for ` +
        `the revoked grant); ${figures.failed} of ${figures.requests} requests failed; ` +
        `longest request ${figures.longest_ms} ms end to end (the API origin included), ` +
        `longest time in a proxy before forwarding ${longest_before_forwarding_ms(dir)} ms; ` +
        `with faults the longest request took ${figures.longest_fault_ms ?? '-'} ms ` +
        `(store.refresh_timeout ${k_refresh_timeout_ms} ms); ${figures.lock_waits} refresh ` +
        'flights waited for another owner\'s lock');
}

// ---- the scenarios --------------------------------------------------------------------------

const figures = { expiries: 0, refreshes: 0, requests: 0, failed: 0, longest_ms: 0, storm_ms: [],
    storm_failed: 0 };

function tally(results, ok_status = 200) {
    figures.requests += results.length;
    figures.failed += results.filter((r) => r.status !== ok_status).length;
    figures.longest_ms = Math.max(figures.longest_ms, ...results.map((r) => r.ms));
}

async function rotations(op, proxies, origin) {
    for (let round = 1; round <= k_rounds; round += 1) {
        await until(await expiry_passed_at(proxies[0], 'provider', 'alice'));
        const before = await get_json(op.base, '/test/stats');

        const results = await burst(proxies, origin, k_burst);
        const midlife = await burst(proxies, origin, 20);

        const after = await get_json(op.base, '/test/stats');
        const calls = refresh_calls(after) - refresh_calls(before);
        figures.expiries += 1;
        figures.refreshes += calls;
        tally([...results, ...midlife]);
        const ok = results.filter((r) => r.status === 200).length;
        figures.storm_ms.push(...results.map((r) => r.ms));
        figures.storm_failed += k_burst - ok;
        check(`round ${round}: one refresh for ${k_burst} requests just after the expiry`,
            calls === 1, `${calls} calls`);
        check(`round ${round}: no invalid_grant`, after.invalid_grant === before.invalid_grant);
        check(`round ${round}: all ${k_burst} requests reached the API with an active token`,
            ok === k_burst, `${k_burst - ok} failed`);
        check(`round ${round}: the 20 requests after it used the new token`,
            midlife.every((r) => r.status === 200));
    }
    check('every round injected a different token',
        origin.fingerprints.size >= k_rounds, `${origin.fingerprints.size} tokens`);
    check('the origin rejected no request', origin.rejected === 0, `${origin.rejected} rejected`);
}

async function on_demand(op, proxies, origin) {
    const before = await get_json(op.base, '/test/stats');

    const r = await admin(proxies[1], 'POST', 'provider/grants/alice/refresh');

    const after = await get_json(op.base, '/test/stats');
    const body = JSON.parse(r.body);
    check('the admin refresh answers 200 with the outcome and the grant status',
        r.status === 200 && body.refresh === 'success' && body.connected === true,
        `${r.status} ${body.refresh}`);
    check('the admin refresh answer holds no token', !/access_token|refresh_token/.test(r.body));
    check('the admin refresh made one provider call', refresh_calls(after) - refresh_calls(before) === 1);
    const results = await burst(proxies, origin, 20);
    check('requests after the admin refresh work', results.every((x) => x.status === 200));
}

async function revocation(op, proxies, origin, first_refresh_token) {
    // Replaying a used refresh token makes oidc-provider revoke the whole grant.
    const replay = await post(op.base, '/token', client, { grant_type: 'refresh_token',
        refresh_token: first_refresh_token });
    check('the replayed refresh token is refused by the provider',
        replay.body?.error === 'invalid_grant');
    await until(await expiry_passed_at(proxies[0], 'provider', 'alice'));
    const before = await get_json(op.base, '/test/stats');

    const first = await burst(proxies, origin, 100);
    const middle = await get_json(op.base, '/test/stats');
    const status = await grant_status(proxies[1], 'provider', 'alice');
    const second = await burst(proxies, origin, 100);
    const forced = await admin(proxies[0], 'POST', 'provider/grants/alice/refresh');
    const after = await get_json(op.base, '/test/stats');

    const refused = (rs) => rs.every((r) => r.status === 401 &&
        r.headers['x-oauth-injector-error'] === 'authorization_required');
    check('the proxies made one refresh call for the revoked grant',
        refresh_calls(middle) - refresh_calls(before) === 1);
    check('it got invalid_grant', middle.invalid_grant - before.invalid_grant === 1);
    check('the grant shows needs_reauth in the admin API', status.needs_reauth === true);
    check('requests get the missing-grant refusal', refused(first) && refused(second));
    check('the admin refresh of it answers needs_reauth without calling the provider',
        JSON.parse(forced.body).refresh === 'needs_reauth');
    check('the provider saw no call after needs_reauth (100 requests and an admin refresh)',
        refresh_calls(after) === refresh_calls(middle), `${refresh_calls(after) - refresh_calls(middle)} calls`);
    figures.revoked_calls = refresh_calls(after) - refresh_calls(before);
}

// One fault: a grant whose token is still valid keeps its token; an expired one is refused; no
// request waits past the bound; the provider (or the dead port) is called only a few times.
async function fault(op, proxies, origin, name, spec, connection) {
    const plugin = connection === 'down' ? 'api-down' : 'api-early';
    await put_json(op.base, '/test/token-fault', spec ?? { mode: 'none' });
    const valid_token = `fault-at-${randomBytes(12).toString('hex')}`;
    const user = `valid-${name}`;
    await admin(proxies[0], 'PUT', `${connection}/grants/${user}`, { access_token: valid_token,
        refresh_token: `fault-rt-${randomBytes(12).toString('hex')}`, expires_in: 600 });
    await admin(proxies[0], 'PUT', `${connection}/grants/expired-${name}`, {
        access_token: 'expired', refresh_token: 'fault-rt-expired', expires_at: 1000000000 });
    const errors_before = await metric_sum(proxies, 'token_refresh_total',
        `connection="${connection}",result="error"`);
    const stats_before = await get_json(op.base, '/test/stats');
    const bound_ms = k_refresh_timeout_ms + 3000; // the slow provider answers after 8 s

    // Eight waves of 20 requests, 250 ms apart: about two seconds of steady traffic.
    const valid = [];
    const traffic_started = Date.now();
    for (let wave = 0; wave < 8; wave += 1) {
        const started = Date.now();
        valid.push(...await burst(proxies, origin, 20, { plugin, user, path: '/echo' }));
        await until(started + 250);
    }
    const traffic_ms = Date.now() - traffic_started;
    const expired = await burst(proxies, origin, 10,
        { plugin, user: `expired-${name}`, path: '/echo' });

    const errors = await metric_sum(proxies, 'token_refresh_total',
        `connection="${connection}",result="error"`) - errors_before;
    const provider_calls = refresh_calls(await get_json(op.base, '/test/stats')) -
        refresh_calls(stats_before);
    const longest = Math.max(...valid.map((r) => r.ms), ...expired.map((r) => r.ms));
    figures.longest_fault_ms = Math.max(figures.longest_fault_ms ?? 0, longest);
    check(`${name}: 160 requests with a valid token get the old token`,
        valid.every((r) => r.status === 200 && r.body === fingerprint(valid_token)));
    check(`${name}: requests with an expired token get authorization_required`,
        expired.every((r) => r.status === 401));
    check(`${name}: no request waited past ${bound_ms} ms`, longest <= bound_ms, `${longest} ms`);
    // Each failed call cools the grant down for at least 0.5 s for all four workers of both
    // proxies (grant_service.hpp), so the valid grant sees at most one call per half second of
    // traffic, and the expired grant's burst one more, whatever the number of requests. (A slow
    // provider counts a call only when it answers, so the proxies' count is the one checked.)
    const most = Math.floor(traffic_ms / 500) + 2;
    check(`${name}: backoff kept the refresh attempts to ${errors} (at most ${most}) for 170 ` +
        'requests', errors >= 1 && errors <= most, `${errors} attempts`);
    console.log(`# ${name}: ${errors} failed refresh attempts counted by the proxies, ` +
        `${provider_calls} token calls counted by the provider so far, longest request ` +
        `${longest} ms`);
}

async function faults(op, proxies, origin) {
    await fault(op, proxies, origin, 'slow', { mode: 'delay', delay_ms: 8000 }, 'early');
    await fault(op, proxies, origin, 'down', null, 'down');
    await fault(op, proxies, origin, '500', { mode: 'status', status: 500 }, 'early');
    await fault(op, proxies, origin, 'html', { mode: 'status', status: 502,
        content_type: 'text/html', body: '<html><body>Bad gateway</body></html>' }, 'early');
    await fault(op, proxies, origin, 'garbage', { mode: 'garbage' }, 'early');
    await fault(op, proxies, origin, 'empty', { mode: 'status', status: 200, body: '' }, 'early');

    await put_json(op.base, '/test/token-fault', { mode: 'status', status: 500 });
    const r = await admin(proxies[0], 'POST', 'early/grants/valid-500/refresh');
    check('an admin refresh against a failing provider answers 502 upstream_unreachable',
        r.status === 502 && r.headers['x-oauth-injector-error'] === 'upstream_unreachable');
    await put_json(op.base, '/test/token-fault', { mode: 'none' });
}

async function main() {
    const dir = mkdtempSync(join(tmpdir(), 'oi-refresh-e2e-'));
    const procs = new processes(dir);
    let op;
    let origin;
    try {
        op = await spawn_provider(['--access-token-ttl', String(k_access_ttl),
            '--redirect-uri', k_redirect_uri], { OP_CLIENTS: JSON.stringify([client, resource_server]) });
        const redis_port = await start_redis(procs);
        const proxies = await start_proxies(procs, dir, op, redis_port);
        origin = await new checking_origin(op.base, resource_server, client.client_id).start();

        const tokens = await obtain_grant(op);
        const put = await admin(proxies[0], 'PUT', 'provider/grants/alice', {
            access_token: tokens.access_token, refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in, scope: tokens.scope });
        check('the grant from the authorization-code flow is imported', put.status === 200);
        const first = await burst(proxies, origin, 20);
        check('requests with the imported token work', first.every((r) => r.status === 200));
        tally(first);

        const scenarios = { rotations, on_demand, revocation, faults };
        for (const name of k_scenarios) {
            if (!scenarios[name]) {
                throw new Error(`unknown scenario ${name} in OI_REFRESH_SCENARIOS`);
            }
            await scenarios[name](op, proxies, origin, tokens.refresh_token);
        }

        figures.lock_waits = await metric_sum(proxies, 'token_refresh_lock_waits_total',
            'connection="provider"');
        const successes = await metric_sum(proxies, 'token_refresh_total',
            'connection="provider",result="success"');
        const answered = figures.refreshes + (k_scenarios.includes('on_demand') ? 1 : 0);
        check('the proxies counted as many successful refreshes as the provider answered',
            successes === answered, `${successes} vs ${answered}`);
    } catch (e) {
        check('the run completed', false, e.message);
    } finally {
        await origin?.stop();
        await procs.stop_all();
        await op?.stop();
    }
    if (figures.expiries > 0) {
        print_figures(dir);
    }
    if (failed === 0 || process.env.OI_E2E_KEEP !== '1') {
        rmSync(dir, { recursive: true, force: true });
    } else {
        console.log(`# kept ${dir}`);
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
}

await main();
