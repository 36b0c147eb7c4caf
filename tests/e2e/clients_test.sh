#!/usr/bin/env bash
# End-to-end test of HTTPS interception with the clients Node and Python plugins really use, each
# configured only through its usual environment variables and CA option, run with a clean
# environment (`env -i`: machines may set CURL_CA_BUNDLE or SSL_CERT_FILE to the system bundle):
#
#   Node: undici ProxyAgent and EnvHttpProxyAgent, axios (its own proxy support from the
#         environment, and with https-proxy-agent), ws with https-proxy-agent; NODE_EXTRA_CA_CERTS.
#   Python: urllib, httpx and aiohttp (trust_env) with HTTPS_PROXY/HTTP_PROXY and SSL_CERT_FILE;
#           a raw absolute-form WebSocket.
#   openssl: s_client through the proxy, the leaf it is served checked with `openssl verify`.
#
# The identity rides in the proxy URL (Proxy-Authorization: Basic calendar:alice). Origins are
# loopback echo servers (echo_origin.py, clients/ws_origin.mjs), plain and TLS with a test CA
# made here. Two proxies run: one with `intercept.other_hosts: deny` (the default) that
# intercepts localhost and 127.0.0.1, one with `other_hosts: tunnel` that intercepts localhost
# only, so that 127.0.0.1 is relayed untouched. Needs `npm ci` in tests/e2e/clients first.
#
# Prints `ok - ...` or `FAIL - ...` per check and `N passed, M failed` last; exits non-zero on any
# failure. Bounded by OI_E2E_TIMEOUT seconds (default 180); OI_E2E_KEEP=1 keeps the temporary
# directory. Secrets are random per run and never printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"
source "$here/e2e_lib.sh"

clients="$here/clients"
[[ -d "$clients/node_modules" ]] || oi_die "run npm ci in $clients first"

# clean_env VAR=VALUE... COMMAND...: runs COMMAND with nothing from this environment but PATH.
clean_env() { env -i PATH="$PATH" HOME="$tmp" "$@"; }

# node_client CLIENT URL [--header H]...: the response as {"status", "body"} into $out.
node_client() {
    clean_env HTTPS_PROXY="$proxy_url" HTTP_PROXY="$proxy_url" \
        NODE_EXTRA_CA_CERTS="$tmp/ica/ca.pem" node "$clients/http_client.mjs" "$@" \
        >"$out" 2>"$out.err" || true
    json_eval "$out" 'j(d["body"])' >"$out.origin" 2>/dev/null || true
}

status_of() { json_eval "$out" 'd["status"]' 2>/dev/null || true; }
origin_tls() { json_eval "$out.origin" 'd["tls"]' 2>/dev/null || true; }

# --- origins and proxies ---------------------------------------------------------------------

start_echo_origins
start_service ws-origin node "$clients/ws_origin.mjs" --deflate
ws_port="$service_port"
start_service wss-origin node "$clients/ws_origin.mjs" --deflate \
    --tls-cert "$tmp/pki/leaf.pem" --tls-key "$tmp/pki/leaf.key"
wss_port="$service_port"

start_proxy proxy-deny deny "[localhost, 127.0.0.1]"
deny_port="$proxy_port"
start_proxy proxy-tunnel tunnel "[localhost]"
tunnel_port="$proxy_port"

proxy_url="http://calendar:alice@127.0.0.1:$deny_port"
auth="Authorization: Bearer $placeholder"
out="$tmp/answer"

# --- Node HTTP clients -----------------------------------------------------------------------

for client in undici-proxy-agent undici-env axios-env axios-https-proxy-agent; do
    node_client "$client" "https://localhost:$tls_port/node/$client" --header "$auth"
    check "$client https://localhost (CONNECT, intercepted): status $(status_of)" \
        equals "$(status_of)" 200
    check "$client https://localhost: the origin saw the access token over TLS" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"

    node_client "$client" "http://localhost:$plain_port/node/$client" --header "$auth"
    check "$client http://localhost: status $(status_of), the origin saw the access token" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"
    check "$client http://localhost: the origin was reached in plain HTTP" \
        equals "$(origin_tls)" false
done

node_client undici-proxy-agent "https://127.0.0.1:$tls_port/ip" --header "$auth"
check "undici ProxyAgent https://127.0.0.1 (a leaf with an IP SAN): status $(status_of)" \
    origin_saw "$out.origin" Authorization "Bearer $access_token"

# (axios: undici's fetch turns any 407 into a network error, as the Fetch standard says.)
node_client axios-https-proxy-agent "https://localhost:$tls_port/mismatch" --header "$auth" \
    --header 'X-Plugin-User: bob'
check "an identity header inside the tunnel that differs from the CONNECT's: $(status_of)" \
    equals "$(status_of) $(json_eval "$out" 'j(d["body"])["error"]' 2>/dev/null)" \
    "407 identity_invalid"

# --- Python urllib ---------------------------------------------------------------------------

urllib_get() {
    clean_env HTTPS_PROXY="$proxy_url" HTTP_PROXY="$proxy_url" SSL_CERT_FILE="$tmp/ica/ca.pem" \
        "$python" -c '
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": sys.argv[2]})
with urllib.request.urlopen(request, timeout=10) as response:
    sys.stdout.write(response.read().decode())' "$1" "Bearer $placeholder" \
        >"$out.origin" 2>"$out.err" || true
}
urllib_get "https://localhost:$tls_port/urllib"
check "urllib HTTPS_PROXY + SSL_CERT_FILE https://localhost: the origin saw the access token" \
    origin_saw "$out.origin" Authorization "Bearer $access_token"
urllib_get "http://127.0.0.1:$plain_port/urllib"
check "urllib HTTP_PROXY http://127.0.0.1 (absolute-form): the origin saw the access token" \
    origin_saw "$out.origin" Authorization "Bearer $access_token"

# --- Python httpx and aiohttp (Debian's python3-httpx, python3-aiohttp) ----------------------

# py_client CLIENT URL [BODY]: python_clients.py's answer into $out, the origin's into $out.origin.
py_client() {
    clean_env HTTPS_PROXY="$proxy_url" HTTP_PROXY="$proxy_url" SSL_CERT_FILE="$tmp/ica/ca.pem" \
        /usr/bin/python3 "$here/python_clients.py" "$1" "$2" "Bearer $placeholder" "${@:3}" \
        >"$out" 2>"$out.err" || true
    json_eval "$out" 'j(d["body"])' >"$out.origin" 2>/dev/null || true
}
for client in httpx aiohttp; do
    py_client "$client" "https://localhost:$tls_port/python/$client"
    check "$client https://localhost (CONNECT, intercepted): status $(status_of)" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"
    py_client "$client" "http://127.0.0.1:$plain_port/python/$client" \
        "{\"token\": \"$placeholder\"}"
    check "$client POST http://127.0.0.1 (absolute-form): the body's placeholder replaced" \
        equals "$(json_eval "$out.origin" 'd["body"]' 2>/dev/null)" "{\"token\": \"$access_token\"}"
done

# --- WebSocket -------------------------------------------------------------------------------

# A first message authenticating the way Home Assistant's API expects; the origin echoes it, so
# the echo shows what the origin received.
ws_auth="{\"type\":\"auth\",\"access_token\":\"$placeholder\"}"
ws_auth_injected="{\"type\":\"auth\",\"access_token\":\"$access_token\"}"

ws_check() {
    local label="$1"
    shift
    clean_env HTTPS_PROXY="$proxy_url" HTTP_PROXY="$proxy_url" \
        NODE_EXTRA_CA_CERTS="$tmp/ica/ca.pem" node "$clients/ws_client.mjs" "$@" \
        --header "$auth" --text "$ws_auth" >"$out" 2>"$out.err" || true
    local seen
    seen="$(json_eval "$out" '[d["binary_echoed"], d["close_code"], d["extensions"]]' \
        2>/dev/null)" || true
    check "$label: binary message echoed, closed normally, permessage-deflate not negotiated" \
        equals "$seen" '[true, 1000, ""]'
    check "$label: the text message's placeholder reached the origin as the access token" \
        equals "$(json_eval "$out" 'd["text_echo"]' 2>/dev/null)" "$ws_auth_injected"
    json_eval "$out" 'd["handshake"]' >"$out.origin" 2>/dev/null || true
    check "$label: the origin's handshake carried the access token" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"
}
ws_check "ws wss://localhost (CONNECT, intercepted TLS)" "wss://localhost:$wss_port/chat"
ws_check "ws ws://localhost (CONNECT, plain HTTP inside)" "ws://localhost:$ws_port/chat"

# ws_absolute PROXY_PORT URL [ws_absolute_client.py options...]: its answer into $out.
ws_absolute() {
    "$python" "$here/ws_absolute_client.py" --proxy "127.0.0.1:$1" \
        -H 'X-Plugin-User: alice' -H 'X-Plugin-Id: calendar' "${@:3}" "$2" \
        >"$out" 2>"$out.err" || true
}
for url in "ws://127.0.0.1:$ws_port/abs" "http://127.0.0.1:$ws_port/abs"; do
    ws_absolute "$deny_port" "$url" -H "$auth" --message "$ws_auth" --fragments 3
    check "absolute-form ${url%%:*}:// WebSocket: 101, accept key, echo and close" equals \
        "$(json_eval "$out" '[d["status"], d["accept_ok"], d["closed"]]' 2>/dev/null)" \
        "[101, true, true]"
    check "absolute-form ${url%%:*}:// WebSocket: a placeholder split over 3 fragments (pings \
between them) reached the origin as the access token" \
        equals "$(json_eval "$out" 'd["echo"]' 2>/dev/null)" "$ws_auth_injected"
    json_eval "$out" 'd["handshake"]' >"$out.origin" 2>/dev/null || true
    check "absolute-form ${url%%:*}:// WebSocket: the origin saw the access token" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"
done

# An unmasked client frame (RFC 6455 section 5.1): the proxy closes the connection itself; the
# origin, had it seen the frame, would have answered with a close frame (1002).
ws_absolute "$deny_port" "ws://127.0.0.1:$ws_port/unmasked" -H "$auth" --unmasked
check "absolute-form WebSocket: an unmasked client frame closes the connection at the proxy" \
    equals "$(json_eval "$out" '[d["status"], d["ended"]]' 2>/dev/null)" '[101, "eof"]'
ws_absolute "$tunnel_port" "ws://127.0.0.1:$ws_port/unmasked" --unmasked
check "absolute-form WebSocket to a host not allowed: an unmasked frame reaches the origin" \
    equals "$(json_eval "$out" '[d["status"], d["ended"]]' 2>/dev/null)" '[101, "close 1002"]'

# The tunnel proxy's connection allows localhost only: toward 127.0.0.1 frames pass untouched.
ws_absolute "$tunnel_port" "ws://127.0.0.1:$ws_port/other" --message "$ws_auth" --fragments 2
check "absolute-form WebSocket to a host the connection does not allow: 101, the placeholder \
arrived untouched" equals "$(json_eval "$out" '[d["status"], d["echoed"]]' 2>/dev/null)" \
    "[101, true]"

# --- CONNECT refused, relayed, and the leaf itself -------------------------------------------

status="$(curl_status "$out" -x "$proxy_url" --cacert "$tmp/ica/ca.pem" \
    "https://127.0.0.2:$tls_port/denied")"
connect_status="$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$out.head")"
check "CONNECT to a host no connection allows (deny): $connect_status destination_denied" \
    equals "$connect_status $(head_value "$out.head" X-OAuth-Injector-Error)" \
    "403 destination_denied"

status="$(curl_status "$out" -x "http://calendar:alice@127.0.0.1:$tunnel_port" \
    --cacert "$tmp/pki/ca.pem" -H "$auth" "https://127.0.0.1:$tls_port/relayed")"
check "other_hosts: tunnel: the client verified the origin's own certificate: status $status" \
    equals "$status" 200
check "other_hosts: tunnel: bytes relayed untouched (the placeholder arrived as sent)" \
    origin_saw "$out" Authorization "Bearer $placeholder"

# leaf_from HOST [s_client options...]: the first certificate the proxy serves in a tunnel.
leaf_from() {
    local host="$1"
    shift
    timeout 10 openssl s_client -proxy "127.0.0.1:$deny_port" -proxy_user calendar \
        -proxy_pass pass:alice -connect "$host:$tls_port" "$@" </dev/null 2>/dev/null |
        sed -n '/-BEGIN CERTIFICATE-/,/-END CERTIFICATE-/p' >"$tmp/leaf-$host.pem"
    [[ -s "$tmp/leaf-$host.pem" ]]
}
verify_leaf() { openssl verify -CAfile "$tmp/ica/ca.pem" "$@" >/dev/null 2>&1; }
leaf_from localhost -servername localhost || true
leaf_from 127.0.0.1 -noservername || true
check "openssl verify: the leaf for localhost chains to the CA and names localhost" \
    verify_leaf -verify_hostname localhost "$tmp/leaf-localhost.pem"
check "openssl verify: the leaf for localhost does not name another host" \
    bash -c "! openssl verify -CAfile '$tmp/ica/ca.pem' -verify_hostname example.com \
        '$tmp/leaf-localhost.pem' >/dev/null 2>&1"
check "openssl verify: the leaf for 127.0.0.1 (no SNI: the CONNECT host) has the IP SAN" \
    verify_leaf -verify_ip 127.0.0.1 "$tmp/leaf-127.0.0.1.pem"

check "the proxies' logs never contain the access token" \
    bash -c "! grep -aqF -- '$access_token' '$tmp/proxy-deny.log' '$tmp/proxy-tunnel.log'"

finish
