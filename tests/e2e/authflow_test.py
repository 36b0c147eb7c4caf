#!/usr/bin/env python3
"""End-to-end test of the end-user authorization flow with a real OAuth provider.

    authflow_test.py            (OI_BINARY: the proxy binary, default build/oauth-injector)

Starts a real redis-server, the test provider (tests/e2e/provider, npm oidc-provider, which
approves interactions at once or denies them when told), a loopback API that accepts a bearer
token only when the provider's introspection endpoint says it is active, a loopback token
endpoint that takes JSON bodies (oidc-provider accepts form bodies only) and passes the exchange
on to the provider as a form, and the proxy. Then, like an operator and a browser would:

  admin POST .../authorize-link -> GET /oauth/start -> the provider (cookies kept) ->
  GET /oauth/callback -> grant stored -> a plugin request through the proxy reaches the API
  with a token the provider says is active.

For client_secret_post, client_secret_basic, a public client (PKCE, no secret) and a JSON token
request; then return_to, state replay, state expiry (the Redis key expired directly), tampered
link and state, access_denied, a failing code exchange, the authorize_url of an
authorization_required refusal, disconnect with revocation (working and failing), the
authorizations_total counters, and that no code, state, link or token reaches the proxy's log.

Prints `ok - ...` or `FAIL - ...` per check and `N passed, M failed`; exits non-zero on any
failure. Every process it starts is stopped on exit; sockets have timeouts, waits have deadlines.
"""

import base64
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("OI_BINARY", os.path.join(ROOT, "build", "oauth-injector"))
TIMEOUT = 10
PROVIDER_CLIENTS = {
    "confidential-post": "test-secret-post",
    "confidential-basic": "test-secret-basic",
}
RESOURCE_SERVER = ("resource-server", "test-secret-resource-server")

results = {"passed": 0, "failed": 0}


def check(description, condition):
    key = "passed" if condition else "failed"
    results[key] += 1
    print(f"{'ok' if condition else 'FAIL'} - {description}", flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- HTTP helpers ----------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, method="GET", body=None, headers=None, opener=None, proxy=None):
    """One request, no redirects followed. Returns (status, headers, body text)."""
    handlers = [NoRedirect()]
    handlers.append(urllib.request.ProxyHandler({"http": proxy} if proxy else {}))
    opener = opener or urllib.request.build_opener(*handlers)
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


class Browser:
    """Follows redirects like a browser, keeping cookies, and stops at the first answer of the
    proxy's callback (or at a redirect to `stop_prefix` when given)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            NoRedirect(), urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.ProxyHandler({}))

    def go(self, url, stop_prefix, max_hops=12):
        """Returns the URL that starts with stop_prefix, or raises."""
        for _ in range(max_hops):
            if url.startswith(stop_prefix):
                return url
            status, headers, body = fetch(url, opener=self.opener)
            location = headers.get("Location")
            if status not in (301, 302, 303, 307, 308) or not location:
                raise RuntimeError(f"{urllib.parse.urlsplit(url).path} answered {status}")
            url = urllib.parse.urljoin(url, location)
        raise RuntimeError("too many redirects")

    def get(self, url):
        return fetch(url, opener=self.opener)


# --- loopback servers ------------------------------------------------------------------------


def serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def post_form(url, fields, auth=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return fetch(url, "POST", urllib.parse.urlencode(fields), headers)


class State:
    issuer = ""
    seen_tokens = []        # access tokens the API received (kept here, never printed)
    json_requests = []      # what the JSON token endpoint received (field names, headers)


def introspect(token):
    status, _, body = post_form(State.issuer + "/token/introspection", {"token": token},
                                auth=RESOURCE_SERVER)
    return json.loads(body) if status == 200 else {"active": False}


class ApiHandler(BaseHTTPRequestHandler):
    """The plugin's API: 200 with the introspection answer when the bearer token is active."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        value = self.headers.get("Authorization", "")
        token = value[7:] if value.startswith("Bearer ") else ""
        info = introspect(token) if token else {"active": False}
        if token:
            State.seen_tokens.append(token)
        body = json.dumps({"active": info.get("active", False),
                           "client_id": info.get("client_id"),
                           "sub": info.get("sub")}).encode()
        self.send_response(200 if info.get("active") else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class JsonTokenHandler(BaseHTTPRequestHandler):
    """A token endpoint that takes JSON: checks the body, passes the exchange on to the provider
    as a form for confidential-post, and answers what the provider said. /revoke answers 503."""

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = self.headers.get("Content-Length")
        raw = self.rfile.read(int(length)) if length else b""
        if self.path == "/revoke":
            self.answer(503, json.dumps({"error": "temporarily_unavailable"}))
            return
        try:
            fields = json.loads(raw)
        except ValueError:
            fields = None
        State.json_requests.append({
            "content_type": self.headers.get("Content-Type", ""),
            "content_length": length,
            "fields": sorted(fields) if isinstance(fields, dict) else None,
            "grant_type": fields.get("grant_type") if isinstance(fields, dict) else None,
        })
        if not isinstance(fields, dict) or fields.get("client_secret") != PROVIDER_CLIENTS["confidential-post"]:
            self.answer(401, json.dumps({"error": "invalid_client"}))
            return
        status, _, body = post_form(State.issuer + "/token", fields)
        self.answer(status, body)


# --- the processes ---------------------------------------------------------------------------


class Processes:
    def __init__(self, tmp):
        self.tmp = tmp
        self.children = []

    def start(self, args, name, env=None, stdout=None):
        log = open(os.path.join(self.tmp, name + ".log"), "wb")
        child = subprocess.Popen(args, stdout=stdout or log, stderr=log, env=env,
                                 stdin=subprocess.DEVNULL)
        self.children.append(child)
        return child

    def stop(self):
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()


def start_provider(procs, redirect_uri):
    provider = procs.start(
        ["node", os.path.join(HERE, "provider", "provider.mjs"), "--port", "0",
         "--redirect-uri", redirect_uri, "--access-token-ttl", "600"],
        "provider", stdout=subprocess.PIPE)
    ready = {}
    reader = threading.Thread(target=lambda: ready.update(json.loads(provider.stdout.readline())))
    reader.daemon = True
    reader.start()
    reader.join(timeout=30)
    if not ready.get("ready"):
        raise RuntimeError("the provider did not start")
    return ready["issuer"]


def connection_yaml(name, client_id, secret_value, extra=""):
    secret_line = f"    client_secret: {secret_value}\n" if secret_value else ""
    return (f"  {name}:\n"
            f"    authorization_url: {State.issuer}/auth\n"
            f"    token_url: {State.issuer}/token\n"
            f"    revocation_url: {State.issuer}/token/revocation\n"
            f"    client_id: {client_id}\n{secret_line}"
            f"    scopes: api:read\n"
            f"    allowed_hosts: [127.0.0.1]\n"
            f"    on_missing_token: reject\n{extra}")


def write_config(tmp, ports, json_port):
    json_url = f"http://127.0.0.1:{json_port}"
    connections = "".join([
        connection_yaml("op-post", "confidential-post", "test-secret-post",
                        "    prompt: consent\n    extra_params: { ui_locales: en }\n"),
        connection_yaml("op-basic", "confidential-basic", "test-secret-basic",
                        "    client_auth: basic\n"),
        connection_yaml("op-public", "public-pkce", ""),
        connection_yaml("op-json", "confidential-post", "test-secret-post",
                        f"    content_type: json\n").replace(
            f"{State.issuer}/token\n", f"{json_url}/token\n").replace(
            f"{State.issuer}/token/revocation", f"{json_url}/revoke"),
        connection_yaml("op-badsecret", "confidential-post", "wrong-secret"),
    ])
    plugins = "".join(f"  p-{c}: {{ connection: op-{c} }}\n"
                      for c in ("post", "basic", "public", "json", "badsecret"))
    text = f"""listen:
  proxy: 127.0.0.1:{ports['proxy']}
  public: 127.0.0.1:{ports['public']}
  admin: 127.0.0.1:{ports['admin']}
public_url: http://127.0.0.1:{ports['public']}
return_to_origins: ["http://127.0.0.1:{ports['return']}"]
admin_token: ${{OI_E2E_ADMIN_TOKEN}}
threads: 2
store:
  redis: {{ url: "redis://127.0.0.1:{ports['redis']}/0", key_prefix: e2e }}
  encryption_keys: [{{ id: k1, key: "${{OI_E2E_TOKEN_KEY}}" }}]
connections:
{connections}plugins:
{plugins}upstream:
  deny_private_addresses: false
log: {{ level: info, format: json }}
"""
    path = os.path.join(tmp, "config.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


# --- the checks ------------------------------------------------------------------------------


class Proxy:
    def __init__(self, ports, admin_token):
        self.ports = ports
        self.admin = f"http://127.0.0.1:{ports['admin']}"
        self.public = f"http://127.0.0.1:{ports['public']}"
        self.proxy = f"http://127.0.0.1:{ports['proxy']}"
        self.auth = {"Authorization": "Bearer " + admin_token}

    def grant_url(self, connection, user):
        return f"{self.admin}/v1/connections/{connection}/grants/{urllib.parse.quote(user)}"

    def mint(self, connection, user, return_to=None):
        body = json.dumps({"return_to": return_to} if return_to else {})
        status, _, text = fetch(self.grant_url(connection, user) + "/authorize-link", "POST", body,
                                {**self.auth, "Content-Type": "application/json"})
        return status, json.loads(text)

    def grant(self, connection, user):
        status, _, text = fetch(self.grant_url(connection, user), headers=self.auth)
        return json.loads(text) if status == 200 else {"status": status}

    def connected(self, connection, user):
        return self.grant(connection, user).get("connected") is True

    def plugin_call(self, plugin, user, api_port):
        headers = {"Authorization": "Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}",
                   "X-Plugin-User": user, "X-Plugin-Id": plugin}
        return fetch(f"http://127.0.0.1:{api_port}/api/whoami", headers=headers, proxy=self.proxy)


def callback_url_for(proxy, connection, user, browser=None):
    """Mints a link and runs the browser up to (not into) the proxy's callback."""
    status, minted = proxy.mint(connection, user)
    if status != 200:
        raise RuntimeError(f"authorize-link answered {status}")
    return (browser or Browser()).go(minted["url"], proxy.public + "/oauth/callback")


def check_flow(proxy, connection, plugin, api_port, client_id):
    user = f"user-{connection}"
    browser = Browser()
    status, minted = proxy.mint(connection, user)
    start_status, start_headers, _ = browser.get(minted["url"])
    location = urllib.parse.urlsplit(start_headers.get("Location", ""))
    query = dict(urllib.parse.parse_qsl(location.query))
    check(f"{connection}: /oauth/start redirects to the provider with PKCE S256",
          start_status == 302 and query.get("code_challenge_method") == "S256"
          and len(query.get("code_challenge", "")) == 43 and query.get("client_id") == client_id
          and query.get("redirect_uri") == proxy.public + "/oauth/callback")
    callback = browser.go(urllib.parse.urljoin(minted["url"], start_headers["Location"]),
                          proxy.public + "/oauth/callback")
    page_status, page_headers, page = browser.get(callback)
    check(f"{connection}: the callback shows the connected page, not cached, no referrer",
          page_status == 200 and "Connected" in page
          and page_headers.get("Cache-Control") == "no-store"
          and page_headers.get("Referrer-Policy") == "no-referrer")
    grant = proxy.grant(connection, user)
    check(f"{connection}: the grant is stored", grant.get("connected") is True
          and grant.get("needs_reauth") is False)
    api_status, _, api_body = proxy.plugin_call(plugin, user, api_port)
    answer = json.loads(api_body) if api_body.startswith("{") else {}
    check(f"{connection}: a plugin request reaches the API with a token the provider says is "
          "active", api_status == 200 and answer.get("active") is True
          and answer.get("client_id") == client_id)
    return query


def check_failures(proxy, redis_cli):
    # Replay: the same callback twice.
    callback = callback_url_for(proxy, "op-post", "replay-user")
    first = Browser().get(callback)
    second = Browser().get(callback)
    check("a replayed state is refused with a page that says so", first[0] == 200
          and second[0] == 400 and second[1].get("X-OAuth-Injector-Error") == "invalid_state"
          and "already completed" in second[2])

    # Expiry: the state's Redis key runs out before the callback.
    callback = callback_url_for(proxy, "op-post", "expired-user")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["state"]
    ttl = int(redis_cli("TTL", f"e2e:state:{state}"))
    redis_cli("PEXPIRE", f"e2e:state:{state}", "1")
    wait_until(lambda: redis_cli("EXISTS", f"e2e:state:{state}") == "0", "the state to expire")
    expired = Browser().get(callback)
    check("the state lives 10 minutes in Redis", 590 <= ttl <= 600)
    check("an expired state is refused and nothing is stored",
          expired[0] == 400 and "invalid_state" == expired[1].get("X-OAuth-Injector-Error")
          and not proxy.connected("op-post", "expired-user"))

    # Tampering: with the link, then with the state (the real state still works afterwards).
    status, minted = proxy.mint("op-post", "tamper-user")
    link = minted["url"]
    forged = link[:-5] + ("A" if link[-5] != "A" else "B") + link[-4:]
    forged_answer = Browser().get(forged)
    check("a tampered link is refused with a page", forged_answer[0] == 400
          and forged_answer[1].get("X-OAuth-Injector-Error") == "link_invalid"
          and "<script" not in forged_answer[2])
    callback = Browser().go(link, proxy.public + "/oauth/callback")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["state"]
    other = state[:10] + ("A" if state[10] != "A" else "B") + state[11:]
    tampered = Browser().get(callback.replace(state, other))
    check("a tampered state is refused and nothing is stored", tampered[0] == 400
          and not proxy.connected("op-post", "tamper-user"))
    check("the genuine state still completes after a forged one",
          Browser().get(callback)[0] == 200 and proxy.connected("op-post", "tamper-user"))

    # access_denied: the provider denies the next interactions.
    fetch(State.issuer + "/test/interaction", "PUT", json.dumps({"outcome": "deny"}),
          {"Content-Type": "application/json"})
    try:
        denied = Browser().get(callback_url_for(proxy, "op-post", "denied-user"))
    finally:
        fetch(State.issuer + "/test/interaction", "PUT", json.dumps({"outcome": "approve"}),
              {"Content-Type": "application/json"})
    check("access_denied shows the declined page and stores nothing", denied[0] == 403
          and "declined" in denied[2] and not proxy.connected("op-post", "denied-user"))

    # A code exchange that fails (the provider refuses the client secret).
    failed = Browser().get(callback_url_for(proxy, "op-badsecret", "bad-user"))
    check("a failing code exchange shows a page and stores nothing", failed[0] == 502
          and failed[1].get("X-OAuth-Injector-Error") == "exchange_failed"
          and not proxy.connected("op-badsecret", "bad-user"))


def check_return_to(proxy):
    return_to = f"http://127.0.0.1:{proxy.ports['return']}/back?x=1"
    status, minted = proxy.mint("op-basic", "return-user", return_to)
    answer = Browser().get(Browser().go(minted["url"], proxy.public + "/oauth/callback"))
    check("a return_to link ends in a 303 to return_to", status == 200 and answer[0] == 303
          and answer[1].get("Location") == return_to)
    status, _ = proxy.mint("op-basic", "return-user", "https://evil.example/back")
    check("a return_to outside return_to_origins is refused", status == 400)


def check_reject_link(proxy, api_port):
    status, headers, body = proxy.plugin_call("p-public", "new-user", api_port)
    refusal = json.loads(body) if body.startswith("{") else {}
    url = refusal.get("authorize_url") or ""
    check("authorization_required carries a fresh authorize_url", status == 401
          and refusal.get("error") == "authorization_required"
          and url.startswith(proxy.public + "/oauth/start?link="))
    if url:
        Browser().get(Browser().go(url, proxy.public + "/oauth/callback"))
    api_status, _, _ = proxy.plugin_call("p-public", "new-user", api_port)
    check("following that authorize_url connects the user", api_status == 200)


def check_disconnect(proxy, api_port):
    State.seen_tokens.clear()
    proxy.plugin_call("p-post", "user-op-post", api_port)
    token = State.seen_tokens[-1] if State.seen_tokens else ""
    status, _, body = fetch(proxy.grant_url("op-post", "user-op-post"), "DELETE",
                            headers=proxy.auth)
    answer = json.loads(body)
    check("disconnect revokes at the provider and deletes", status == 200
          and answer.get("revoked") is True and answer.get("removed") is True
          and not proxy.connected("op-post", "user-op-post"))
    check("the revoked token is no longer active at the provider",
          token != "" and introspect(token).get("active") is False)

    status, _, body = fetch(proxy.grant_url("op-json", "user-op-json"), "DELETE",
                            headers=proxy.auth)
    answer = json.loads(body)
    check("a failed revocation is reported and the grant is still deleted", status == 200
          and answer.get("revoked") is False and "503" in answer.get("revocation_error", "")
          and answer.get("removed") is True and not proxy.connected("op-json", "user-op-json"))


def check_json_requests():
    exchanges = [r for r in State.json_requests if r["grant_type"] == "authorization_code"]
    check("the JSON token request has a JSON body with Content-Length and the PKCE verifier",
          len(exchanges) >= 1 and exchanges[0]["content_type"].startswith("application/json")
          and exchanges[0]["content_length"] is not None
          and {"client_id", "client_secret", "code", "code_verifier", "redirect_uri"}
          <= set(exchanges[0]["fields"]))


def check_metrics_and_log(proxy, log_path):
    _, _, metrics = fetch(proxy.admin + "/metrics")

    def count(connection, result):
        m = re.search(r'oauth_injector_authorizations_total\{connection="%s",result="%s"\} (\S+)'
                      % (connection, result), metrics)
        return float(m.group(1)) if m else 0.0

    check("authorizations_total counts each outcome",
          count("op-post", "connected") >= 2 and count("op-post", "denied") == 1
          and count("none", "invalid_state") >= 3 and count("none", "invalid_link") == 1
          and count("op-badsecret", "exchange_failed") == 1 and count("op-post", "started") >= 5)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    leaked = [t for t in State.seen_tokens if t in log]
    check("the proxy logged the flow's events", '"authorization"' in log and "public_request" in log)
    check("the proxy's log holds no access token", State.seen_tokens and not leaked)
    check("the proxy's log holds no state, code or link",
          not re.search(r"state=|code=|link=|[A-Za-z0-9_-]{43}", log))


def main():
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"no proxy binary at {BINARY}")
    tmp = tempfile.mkdtemp(prefix="oi-authflow-")
    procs = Processes(tmp)
    try:
        run(tmp, procs)
    finally:
        procs.stop()
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


def run(tmp, procs):
    ports = {name: free_port() for name in ("proxy", "public", "admin", "redis", "return")}
    procs.start(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no"], "redis")
    wait_until(lambda: tcp_open(ports["redis"]), "redis")

    def redis_cli(*args):
        return subprocess.run(["redis-cli", "-p", str(ports["redis"]), *args], check=True,
                              capture_output=True, text=True, timeout=TIMEOUT).stdout.strip()

    State.issuer = start_provider(procs, f"http://127.0.0.1:{ports['public']}/oauth/callback")
    api = serve(ApiHandler)
    json_endpoint = serve(JsonTokenHandler)
    env = dict(os.environ, OI_E2E_ADMIN_TOKEN=secrets.token_hex(24),
               OI_E2E_TOKEN_KEY=base64.b64encode(secrets.token_bytes(32)).decode())
    config = write_config(tmp, ports, json_endpoint.server_address[1])
    procs.start([BINARY, "run", "--config", config], "proxy", env=env)
    wait_until(lambda: all(tcp_open(ports[p]) for p in ("proxy", "public", "admin")), "the proxy")
    proxy = Proxy(ports, env["OI_E2E_ADMIN_TOKEN"])
    api_port = api.server_address[1]

    query = check_flow(proxy, "op-post", "p-post", api_port, "confidential-post")
    check("op-post: prompt and extra_params reach the provider",
          query.get("prompt") == "consent" and query.get("ui_locales") == "en")
    check_flow(proxy, "op-basic", "p-basic", api_port, "confidential-basic")
    check_flow(proxy, "op-public", "p-public", api_port, "public-pkce")
    check_flow(proxy, "op-json", "p-json", api_port, "confidential-post")
    check_json_requests()
    check_return_to(proxy)
    check_failures(proxy, redis_cli)
    check_reject_link(proxy, api_port)
    check_disconnect(proxy, api_port)
    status, _, body = fetch(proxy.public + "/v1/connections")
    check("the public listener answers nothing but the flow", status == 404)
    check_metrics_and_log(proxy, os.path.join(tmp, "proxy.log"))


if __name__ == "__main__":
    main()
