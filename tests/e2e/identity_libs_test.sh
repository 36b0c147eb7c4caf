#!/usr/bin/env bash
# End-to-end test of signed identities minted by the JWT libraries plugin runners use: PyJWT
# (Debian's python3-jwt) and Node's jsonwebtoken (npm, tests/e2e/identity). Runs the binary at
# $OI_BINARY against a loopback echo origin with the memory store and checks that a token from
# each library is accepted, that the origin receives the user's access token, and that the same
# libraries' tokens under another algorithm or another secret are refused. Secrets are random per
# run and never printed. Prints `ok - ...` / `FAIL - ...` lines and exits non-zero on a failure;
# bounded by OI_E2E_TIMEOUT seconds (default 60).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"

OI_E2E_TIMEOUT="${OI_E2E_TIMEOUT:-60}"
source "$here/e2e_lib.sh"
debian_python=/usr/bin/python3 # PyJWT comes from Debian's python3-jwt
export OI_E2E_IDENTITY_SECRET
OI_E2E_IDENTITY_SECRET="$(openssl rand -hex 32)"

start_service origin "$python" "$here/echo_origin.py"
origin_port="$service_port"

proxy_port="$(oi_free_port)"
admin_port="$(oi_free_port)"
cat >"$tmp/config.yaml" <<YAML
listen: { proxy: 127.0.0.1:$proxy_port, admin: 127.0.0.1:$admin_port }
admin_token: \${OI_E2E_ADMIN_TOKEN}
store:
  memory: {}
  encryption_keys: [{ id: k1, key: "\${OI_E2E_TOKEN_KEY}" }]
identity: { secret: "\${OI_E2E_IDENTITY_SECRET}", max_ttl: 10m }
connections:
  calendar:
    authorization_url: https://accounts.example.com/auth
    token_url: https://accounts.example.com/token
    client_id: e2e
    allowed_hosts: [127.0.0.1]
plugins:
  calendar-plugin: { connection: calendar }
upstream: { allow_addresses: ["127.0.0.1:$origin_port"] }
log: { level: info, format: json }
YAML
"$binary" run --config "$tmp/config.yaml" >"$tmp/proxy.log" 2>&1 &
pids+=("$!")
oi_wait_for_port "$proxy_port" 10 && oi_wait_for_port "$admin_port" 10 ||
    { tail -n 20 "$tmp/proxy.log" >&2; oi_die "the proxy did not start"; }
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $OI_E2E_ADMIN_TOKEN" \
    -d "{\"access_token\":\"$access_token\",\"expires_in\":3600}" \
    "http://127.0.0.1:$admin_port/v1/connections/calendar/grants/alice" ||
    oi_die "importing the grant failed"

# status_with TOKEN: the status of a request through the proxy carrying TOKEN; the origin's
# answer goes to $tmp/answer.json.
status_with() {
    curl -s -o "$tmp/answer.json" -w '%{http_code}' --max-time 10 -x "http://127.0.0.1:$proxy_port" \
        -H "X-Plugin-Identity: $1" -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' \
        "http://127.0.0.1:$origin_port/calendar"
}

python_token="$("$debian_python" "$here/identity/mint.py" alice calendar-plugin)"
check "a PyJWT HS256 token is accepted" test "$(status_with "$python_token")" = 200
check "the origin saw alice's token (PyJWT identity)" \
    origin_saw "$tmp/answer.json" Authorization "Bearer $access_token"

node_token="$(node "$here/identity/mint.mjs" alice calendar-plugin)"
check "a jsonwebtoken HS256 token is accepted" test "$(status_with "$node_token")" = 200
check "the origin saw alice's token (jsonwebtoken identity)" \
    origin_saw "$tmp/answer.json" Authorization "Bearer $access_token"

check "a PyJWT HS512 token is refused" \
    test "$(status_with "$("$debian_python" "$here/identity/mint.py" alice calendar-plugin HS512)")" = 407
check "a jsonwebtoken HS384 token is refused" \
    test "$(status_with "$(node "$here/identity/mint.mjs" alice calendar-plugin HS384)")" = 407
check "a jsonwebtoken token made with another secret is refused" \
    test "$(OI_E2E_IDENTITY_SECRET=another-secret-entirely node "$here/identity/mint.mjs" alice calendar-plugin | {
        read -r t; status_with "$t"; })" = 407
check "the proxy's log holds neither identity token nor the access token" \
    bash -c '! grep -aqF -e "$1" -e "$2" -e "$3" "$4"' _ "$python_token" "$node_token" "$access_token" "$tmp/proxy.log"

finish
