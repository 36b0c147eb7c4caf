// What the test provider (provider.mjs) does around oidc-provider's token, introspection and
// revocation endpoints: checks that make it as strict as real providers, and the counters
// behind GET /test/stats. Koa middleware; runs on the provider's single Node.js thread.

// Counters behind GET /test/stats.
export class stats {
    constructor() {
        this.reset();
    }

    reset() {
        this.token_requests = {};
        this.token_errors = {};
        this.token_content_types = {};
        this.token_auth_methods = {};
        this.introspection = 0;
        this.revocation = 0;
        this.grants_revoked = 0;
        this.token_faults = 0;
    }

    to_json() {
        return {
            ...this.token_requests,
            invalid_grant: this.token_errors.invalid_grant ?? 0,
            token_requests: this.token_requests,
            token_errors: this.token_errors,
            token_content_types: this.token_content_types,
            token_auth_methods: this.token_auth_methods,
            introspection: this.introspection,
            revocation: this.revocation,
            grants_revoked: this.grants_revoked,
            token_faults: this.token_faults,
        };
    }
}

function count(map, key) {
    map[key] = (map[key] ?? 0) + 1;
}

// Reads a request body of at most k_max_body bytes as text.
const k_max_body = 56 * 1024;
async function read_body(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > k_max_body) {
            throw new Error('request body too large');
        }
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
}

// The client a token request names, and how it authenticates: 'basic' when an Authorization
// header is present, 'post' when the body carries client_secret, else 'none'.
function client_auth_of(ctx, form) {
    const authorization = ctx.get('Authorization');
    if (/^basic /i.test(authorization)) {
        const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
        const id = decodeURIComponent(decoded.slice(0, Math.max(decoded.indexOf(':'), 0)));
        return { client_id: id, method: 'client_secret_basic' };
    }
    const method = form.has('client_secret') ? 'client_secret_post' : 'none';
    return { client_id: form.get('client_id'), method };
}

// The token request's parameters from its body. A JSON object of scalars (which GitHub, Slack
// and others accept) is translated into the form that oidc-provider reads, and the request's
// Content-Type changed to match. Returns null for any other JSON.
function token_request_form(ctx, body) {
    if (!ctx.is('application/json')) {
        return new URLSearchParams(ctx.is('application/x-www-form-urlencoded') ? body : '');
    }
    let object;
    try {
        object = JSON.parse(body);
    } catch {
        return null;
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        return null;
    }
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(object)) {
        if (value !== null && typeof value === 'object') {
            return null;
        }
        form.set(key, String(value));
    }
    ctx.request.header['content-type'] = 'application/x-www-form-urlencoded';
    return form;
}

// Reads and checks a token request before oidc-provider sees it. Resolves to { form } for a
// request to hand on, or to { refusal: [status, error code, description] }:
// - a request body must come with Content-Length (411 otherwise), as some real providers
//   require;
// - client authentication must use the client's registered method: oidc-provider accepts
//   client_secret_basic and client_secret_post interchangeably, real providers do not all do
//   so, and the proxy's `client_auth` setting must be shown to work.
// The body is handed on as ctx.request.body, which oidc-provider reads when the stream has been
// consumed.
async function check_token_request(ctx, counters, auth_methods) {
    if (ctx.get('Content-Length') === '') {
        return { refusal: [411, 'invalid_request', 'a token request needs Content-Length'] };
    }
    let body;
    try {
        body = await read_body(ctx.req);
    } catch {
        return { refusal: [413, 'invalid_request', 'request body too large'] };
    }

    count(counters.token_content_types, ctx.is('application/json') ? 'json' : 'form');
    const form = token_request_form(ctx, body);
    if (!form) {
        return { refusal: [400, 'invalid_request', 'a JSON token request must be an object'] };
    }
    ctx.request.body = form.toString();

    const auth = client_auth_of(ctx, form);
    count(counters.token_auth_methods, auth.method);
    const registered = auth_methods.get(auth.client_id);
    if (registered !== undefined && registered !== auth.method) {
        const why = `client authentication must use ${registered}, not ${auth.method}`;
        return { form, refusal: [401, 'invalid_client', why] };
    }
    return { form };
}

// The token endpoint: checks the request, applies the fault a test asked for, hands it to
// oidc-provider, and counts the call by grant type and, when it failed, by error code.
function token_endpoint(counters, auth_methods, faults) {
    return async (ctx, next) => {
        const { form, refusal } = await check_token_request(ctx, counters, auth_methods);
        if (refusal) {
            const [status, error, description] = refusal;
            ctx.status = status;
            ctx.body = { error, error_description: description };
        } else if (await faults.apply(ctx)) {
            counters.token_faults += 1;
        } else {
            await next();
        }

        count(counters.token_requests, form?.get('grant_type') || 'unknown');
        if (ctx.body?.error) {
            count(counters.token_errors, ctx.body.error);
        }
    };
}

// Counts the calls to introspection and revocation, and hands token requests to token_endpoint.
export function counting(counters, clients, faults) {
    const auth_methods = new Map(clients.map(
        (c) => [c.client_id, c.token_endpoint_auth_method ?? 'client_secret_basic']));
    const token = token_endpoint(counters, auth_methods, faults);
    return async (ctx, next) => {
        if (ctx.method !== 'POST') {
            return next();
        }
        if (ctx.path === '/token') {
            return token(ctx, next);
        }
        if (ctx.path === '/token/introspection') {
            counters.introspection += 1;
        } else if (ctx.path === '/token/revocation') {
            counters.revocation += 1;
        }
        return next();
    };
}
