// The oidc-provider configuration of the test provider (provider.mjs): clients, token formats
// and lifetimes, refresh-token rotation, introspection and revocation. Pure data built from the
// start-up options; throws at start-up only (a client without redirect URIs).

import { generateKeyPairSync, randomBytes } from 'node:crypto';

// The one resource server (RFC 8707) that every access token is issued for. Tokens for it are
// opaque, and any scope in k_api_scopes may be requested besides openid and offline_access.
export const k_resource = 'urn:oauth-injector:test-api';
export const k_api_scopes = ['api:read', 'api:write', 'calendar.read', 'calendar.write'];

// Used when no client list is given. The secrets are fixed test values, for a provider that
// only ever listens on loopback.
export const k_default_clients = [
    {
        client_id: 'confidential-post',
        client_secret: 'test-secret-post',
        token_endpoint_auth_method: 'client_secret_post',
    },
    {
        client_id: 'confidential-basic',
        client_secret: 'test-secret-basic',
        token_endpoint_auth_method: 'client_secret_basic',
    },
    { client_id: 'public-pkce', token_endpoint_auth_method: 'none' },
    {
        client_id: 'resource-server',
        client_secret: 'test-secret-resource-server',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
    },
];

// Fills the test defaults into one client's metadata.
function complete_client(client, redirect_uris) {
    const grant_types = client.grant_types ?? ['authorization_code', 'refresh_token'];
    const completed = {
        grant_types,
        response_types: client.response_types ?? (grant_types.length ? ['code'] : []),
        ...client,
    };
    if (!completed.redirect_uris && completed.response_types.length) {
        if (!redirect_uris.length) {
            throw new Error(`client ${client.client_id}: no redirect_uris and no --redirect-uri`);
        }
        completed.redirect_uris = redirect_uris;
    }
    return completed;
}

// Builds the oidc-provider configuration.
export function configuration(options) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signing_key = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig',
        kid: 'test-rs256' };

    return {
        clients: options.clients.map((c) => complete_client(c, options.redirect_uris)),
        jwks: { keys: [signing_key] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        scopes: ['openid', 'offline_access', ...k_api_scopes],
        pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
        features: {
            devInteractions: { enabled: false },
            introspection: {
                enabled: true,
                // Confidential clients (resource servers among them) may introspect any token;
                // a public client only its own.
                allowedPolicy: (ctx, client, token) =>
                    client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
            },
            revocation: { enabled: true },
            resourceIndicators: {
                enabled: true,
                defaultResource: () => k_resource,
                useGrantedResource: () => true,
                getResourceServerInfo: () => ({
                    scope: k_api_scopes.join(' '),
                    audience: k_resource,
                    accessTokenTTL: options.access_token_ttl,
                    accessTokenFormat: 'opaque',
                }),
            },
        },
        // Every client allowed the refresh_token grant gets a refresh token, with or without
        // offline_access (plain OAuth 2.0 clients do not ask for it), and it outlives sessions.
        issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
        expiresWithSession: async () => false,
        rotateRefreshToken: true,
        ttl: {
            AccessToken: () => options.access_token_ttl,
            RefreshToken: () => options.refresh_token_ttl,
            AuthorizationCode: 60,
            Grant: Math.max(options.refresh_token_ttl, 3600),
            Interaction: 600,
            Session: 3600,
            IdToken: 3600,
        },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        renderError: (ctx, out) => {
            ctx.type = 'json';
            ctx.body = out;
        },
    };
}
