// The test provider's (provider.mjs) interaction and test-only routes, as Koa middleware in
// front of oidc-provider: interactions are approved (or denied) at once without a login page,
// and /test/... reads the counters and sets what the next interactions and token requests do.

import { k_resource } from './configuration.mjs';

function read_json_body(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            try {
                resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
            } catch (e) {
                reject(e);
            }
        });
        req.on('error', reject);
    });
}

// Finishes interaction `uid` at once: signs in the account and grants every requested scope for
// the client, or denies. Reads the interaction by the uid in the path rather than through the
// interaction cookie, so that clients without a cookie jar get through too; the resume step's
// cookie is supplied by resume_without_cookie below for the same reason.
async function finish_interaction(provider, settings, ctx, uid) {
    const interaction = await provider.Interaction.find(uid);
    if (!interaction) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'interaction not found' };
        return;
    }

    const { params } = interaction;
    let result;
    if (settings.outcome === 'deny') {
        result = { error: 'access_denied', error_description: 'the test provider denies' };
    } else {
        const account_id = params.login_hint || settings.account_id;
        const grant = new provider.Grant({ accountId: account_id, clientId: params.client_id });
        const scope = params.scope ?? '';
        grant.addOIDCScope(scope);
        grant.addResourceScope(k_resource, scope);
        result = { login: { accountId: account_id }, consent: { grantId: await grant.save() } };
    }

    interaction.result = result;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    ctx.redirect(interaction.returnTo);
}

// GET /auth/:uid (the resume step) checks a short-lived cookie holding the interaction uid.
// Browsers have it; a client without a cookie jar gets it added here, from the path.
function resume_without_cookie(provider, ctx) {
    const match = /^\/auth\/([\w-]+)$/.exec(ctx.path);
    const name = provider.cookieName('resume');
    if (!match || ctx.cookies.get(name, { signed: true })) {
        return;
    }
    ctx.cookies.set(name, match[1], { signed: true });
    const added = ctx.response.get('Set-Cookie');
    ctx.response.remove('Set-Cookie');
    const pairs = (Array.isArray(added) ? added : [added]).map((c) => c.split(';')[0]);
    const existing = ctx.request.get('Cookie');
    ctx.request.header.cookie = [existing, ...pairs].filter(Boolean).join('; ');
}

export function test_endpoints(provider, settings, counters, faults) {
    return async (ctx, next) => {
        const interaction = /^\/interaction\/([\w-]+)$/.exec(ctx.path);
        if (interaction && ctx.method === 'GET') {
            return finish_interaction(provider, settings, ctx, interaction[1]);
        }
        if (ctx.path === '/test/stats' && ctx.method === 'GET') {
            ctx.body = counters.to_json();
            return undefined;
        }
        if (ctx.path === '/test/stats/reset' && ctx.method === 'POST') {
            counters.reset();
            ctx.status = 204;
            return undefined;
        }
        if (ctx.path === '/test/interaction' && ctx.method === 'PUT') {
            const body = await read_json_body(ctx.req);
            if (body.outcome !== undefined && !['approve', 'deny'].includes(body.outcome)) {
                ctx.status = 400;
                ctx.body = { error: 'outcome must be approve or deny' };
                return undefined;
            }
            settings.account_id = body.account_id ?? settings.account_id;
            settings.outcome = body.outcome ?? settings.outcome;
            ctx.body = { account_id: settings.account_id, outcome: settings.outcome };
            return undefined;
        }
        if (ctx.path === '/test/token-fault' && ctx.method === 'PUT') {
            const problem = faults.set(Object(await read_json_body(ctx.req)));
            ctx.status = problem ? 400 : 200;
            ctx.body = problem ? { error: problem } : faults.describe();
            return undefined;
        }
        resume_without_cookie(provider, ctx);
        return next();
    };
}
