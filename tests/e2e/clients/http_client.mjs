// One HTTP request made the way a Node plugin makes it, through the proxy named by the usual
// environment variables (HTTPS_PROXY for https:// URLs, HTTP_PROXY for http:// ones; the identity
// rides in the proxy URL's userinfo), trusting extra CAs only through NODE_EXTRA_CA_CERTS.
//
//   node http_client.mjs CLIENT URL [--header 'Name: value']...
//
// CLIENT is one of:
//   undici-proxy-agent       undici fetch with dispatcher new ProxyAgent(proxy URL)
//   undici-env               undici fetch with dispatcher new EnvHttpProxyAgent()
//   axios-env                axios with its own proxy support (it reads the environment)
//   axios-https-proxy-agent  axios with proxy: false and https-proxy-agent as its agents
//
// Prints one JSON line, {"status": N, "body": "..."}, and exits 0 when a response came back
// (whatever its status); exits 1 with the error's name on stderr otherwise. Bounded to 15 s.

import axios from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { EnvHttpProxyAgent, ProxyAgent, fetch } from 'undici';

const k_timeout_ms = 10_000;

function parse_arguments(argv) {
    const [client, url, ...rest] = argv;
    const headers = {};
    for (let i = 0; i < rest.length; i += 2) {
        if (rest[i] !== '--header' || rest[i + 1] === undefined) {
            throw new Error(`unexpected argument ${rest[i]}`);
        }
        const colon = rest[i + 1].indexOf(':');
        headers[rest[i + 1].slice(0, colon).trim()] = rest[i + 1].slice(colon + 1).trim();
    }
    return { client, url, headers };
}

function proxy_for(url) {
    const proxy = new URL(url).protocol === 'https:' ? process.env.HTTPS_PROXY : process.env.HTTP_PROXY;
    if (!proxy) {
        throw new Error('no proxy in the environment');
    }
    return proxy;
}

async function with_undici(url, headers, dispatcher) {
    const response = await fetch(url, {
        headers,
        dispatcher,
        signal: AbortSignal.timeout(k_timeout_ms),
    });
    return { status: response.status, body: await response.text() };
}

async function with_axios(url, headers, extra) {
    const response = await axios.get(url, {
        headers,
        timeout: k_timeout_ms,
        responseType: 'text',
        transformResponse: (body) => body,
        validateStatus: () => true,
        ...extra,
    });
    return { status: response.status, body: response.data };
}

const clients = {
    'undici-proxy-agent': (url, headers) => with_undici(url, headers, new ProxyAgent(proxy_for(url))),
    'undici-env': (url, headers) => with_undici(url, headers, new EnvHttpProxyAgent()),
    'axios-env': (url, headers) => with_axios(url, headers, {}),
    'axios-https-proxy-agent': (url, headers) => {
        const agent = new HttpsProxyAgent(proxy_for(url));
        return with_axios(url, headers, { proxy: false, httpAgent: agent, httpsAgent: agent });
    },
};

setTimeout(() => {
    process.stderr.write('timed out\n');
    process.exit(1);
}, k_timeout_ms + 5_000).unref();

try {
    const { client, url, headers } = parse_arguments(process.argv.slice(2));
    if (!clients[client]) {
        throw new Error(`unknown client ${client}`);
    }
    const answer = await clients[client](url, headers);
    process.stdout.write(JSON.stringify(answer) + '\n');
    process.exit(0);
} catch (error) {
    // The error's name and code only: messages can quote URLs or headers with secrets in them.
    process.stderr.write(`${error.name} ${error.code ?? ''} ${error.cause?.code ?? ''}\n`);
    process.exit(1);
}
