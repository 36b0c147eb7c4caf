#!/usr/bin/env bash
# End-to-end test of oauth-injector with the clients plugin runners really use: curl, Python's
# http.client and requests. Builds nothing: it runs the binary at $OI_BINARY (default
# build/oauth-injector) against a real redis-server and loopback echo origins (echo_origin.py),
# plain HTTP and HTTPS with a test CA made here by `openssl req`, once per store (redis, then
# memory; OI_E2E_STORES="redis" runs one). For each store it imports a grant through the admin API
# and checks what the origin received. Secrets are random per run and never printed.
#
# Prints one line per check (`ok - ...` or `FAIL - ...`) and `N passed, M failed` last; exits
# non-zero on any failure. The whole run is bounded by OI_E2E_TIMEOUT seconds (default 180), and
# every process it starts is stopped on exit. OI_E2E_KEEP=1 keeps the temporary directory (logs,
# configs, answers) for a look after a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"

read -r -a stores <<<"${OI_E2E_STORES:-redis memory}"
source "$here/e2e_lib.sh"

# --- the origins and Redis -------------------------------------------------------------------

start_echo_origins
start_service rogue-origin "$python" "$here/echo_origin.py" \
    --tls-cert "$tmp/pki/rogue.pem" --tls-key "$tmp/pki/rogue.key"
rogue_port="$service_port"

redis_port="$(oi_free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=("$!")
oi_wait_for_port "$redis_port" 15 || oi_die "redis-server did not start"

# --- the checks, once per store --------------------------------------------------------------

# Every grant under the e2e-curl prefix in Redis is there, and none contains the access token.
redis_has_no_plaintext() {
    local key found=0 cli=(redis-cli -p "$redis_port" --raw)
    while IFS= read -r key; do
        found=1
        case "$("${cli[@]}" TYPE "$key")" in
        string) "${cli[@]}" GET "$key" ;;
        hash) "${cli[@]}" HGETALL "$key" ;;
        *) "${cli[@]}" DUMP "$key" ;;
        esac >"$tmp/redis-value"
        if grep -aqF -- "$access_token" "$tmp/redis-value"; then
            return 1
        fi
    done < <("${cli[@]}" --scan --pattern 'e2e-curl*')
    ((found == 1))
}

log_has_no_token() { ! grep -aqF -- "$access_token" "$1"; }

run_store() {
    local store="$1" proxy_port admin_port config="$tmp/config-$1.yaml" out="$tmp/answer"
    proxy_port="$(oi_free_port)"
    admin_port="$(oi_free_port)"
    local store_yaml="memory: {}"
    if [[ "$store" == redis ]]; then
        store_yaml="redis: { url: \"redis://127.0.0.1:$redis_port/0\", key_prefix: e2e-curl }"
    fi
    write_config "$config" "$proxy_port" "$admin_port" "$store_yaml" "[127.0.0.1, localhost]" deny
    local proxy="http://127.0.0.1:$proxy_port" admin="http://127.0.0.1:$admin_port"
    local who=(-H 'X-Plugin-User: alice' -H 'X-Plugin-Id: calendar')
    local auth_header="Authorization: Bearer $placeholder" status

    check "[$store] check-config accepts the generated config" config_ok "$config"

    "$binary" run --config "$config" >"$tmp/proxy-$store.log" 2>&1 &
    local proxy_pid=$!
    pids+=("$proxy_pid")
    if ! oi_wait_for_port "$proxy_port" 15 || ! oi_wait_for_port "$admin_port" 15; then
        tail -n 20 "$tmp/proxy-$store.log" >&2
        oi_die "[$store] the proxy did not start"
    fi

    # Import alice's grant.
    status="$(curl_status "$out" -X PUT -H "Authorization: Bearer $OI_E2E_ADMIN_TOKEN" \
        -H 'Content-Type: application/json' \
        --data "{\"access_token\": \"$access_token\", \"expires_in\": 3600}" \
        "$admin/v1/connections/calendar-conn/grants/alice")"
    check "[$store] the admin API imports a grant (status $status)" equals "${status:0:1}" 2
    status="$(curl_status "$out" -H "Authorization: Bearer $OI_E2E_ADMIN_TOKEN" \
        "$admin/v1/connections/calendar-conn/grants/alice")"
    check "[$store] the grant status says connected (status $status)" \
        equals "$(json_eval "$out" 'd.get("connected")')" true

    # curl, absolute-form http://.
    status="$(curl_status "$out" -x "$proxy" "${who[@]}" -H "$auth_header" \
        "http://127.0.0.1:$plain_port/x?q=1")"
    check "[$store] curl -x http://127.0.0.1: status $status" equals "$status" 200
    check "[$store] curl -x http://127.0.0.1: the origin saw the access token" \
        origin_saw "$out" Authorization "Bearer $access_token"
    check "[$store] curl -x http://127.0.0.1: the origin got the origin-form target" \
        equals "$(json_eval "$out" 'd["path"]')" "/x?q=1"
    local identity_headers="[n for n, _ in d['headers'] if n.lower().startswith('x-plugin-')]"
    check "[$store] curl -x http://127.0.0.1: identity headers were removed" \
        equals "$(json_eval "$out" "$identity_headers")" "[]"

    # curl, absolute-form https:// (--request-target: for an https:// URL curl would send a
    # CONNECT instead).
    status="$(curl_status "$out" -x "$proxy" "${who[@]}" -H "$auth_header" \
        --request-target "https://localhost:$tls_port/y" "http://localhost:$tls_port/y")"
    check "[$store] curl --request-target https://localhost: status $status" equals "$status" 200
    check "[$store] curl --request-target https://localhost: the origin spoke TLS" \
        equals "$(json_eval "$out" 'd["tls"]')" true
    check "[$store] curl --request-target https://localhost: the origin saw the access token" \
        origin_saw "$out" Authorization "Bearer $access_token"

    # Python http.client: absolute-form https:// to an IP address, with the placeholder in the
    # target and the body.
    "$python" "$here/proxy_client.py" --proxy "127.0.0.1:$proxy_port" --method POST \
        -H 'X-Plugin-User: alice' -H 'X-Plugin-Id: calendar' -H 'Content-Type: application/json' \
        --data "{\"token\": \"$placeholder\"}" \
        "https://127.0.0.1:$tls_port/z?access_token=$placeholder" >"$out" 2>"$out.err" || true
    json_eval "$out" 'j(d["body"])' >"$out.origin" 2>/dev/null || true
    check "[$store] http.client POST https://127.0.0.1: status 200" \
        equals "$(json_eval "$out" 'd["status"]')" 200
    check "[$store] http.client POST https://127.0.0.1: the token is in the target" \
        equals "$(json_eval "$out.origin" 'd["path"]')" "/z?access_token=$access_token"
    check "[$store] http.client POST https://127.0.0.1: the token is in the body" \
        equals "$(json_eval "$out.origin" 'j(d["body"])["token"]')" "$access_token"

    # Python requests with proxies={"http": ...}.
    "$python" "$here/proxy_client.py" --client requests --proxy "127.0.0.1:$proxy_port" \
        -H 'X-Plugin-User: alice' -H 'X-Plugin-Id: calendar' -H "$auth_header" \
        "http://127.0.0.1:$plain_port/r" >"$out" 2>"$out.err" || true
    json_eval "$out" 'j(d["body"])' >"$out.origin" 2>/dev/null || true
    check "[$store] requests with proxies={'http': ...}: the origin saw the access token" \
        origin_saw "$out.origin" Authorization "Bearer $access_token"

    # HTTPS through CONNECT, intercepted with the proxy's CA; the identity rides on the CONNECT's
    # Proxy-Authorization (Basic plugin:user), as clients configured with a proxy URL send it.
    status="$(curl_status "$out" -x "http://calendar:alice@127.0.0.1:$proxy_port" \
        --cacert "$tmp/ica/ca.pem" -H "$auth_header" "https://localhost:$tls_port/t")"
    check "[$store] curl CONNECT https://localhost (intercepted): status $status" \
        equals "$status" 200
    check "[$store] curl CONNECT https://localhost (intercepted): the origin saw the access token" \
        origin_saw "$out" Authorization "Bearer $access_token"
    env -i PATH="$PATH" HTTPS_PROXY="http://calendar:alice@127.0.0.1:$proxy_port" \
        REQUESTS_CA_BUNDLE="$tmp/ica/ca.pem" "$python" -c '
import sys, requests
r = requests.get(sys.argv[1], headers={"Authorization": sys.argv[2].split(": ", 1)[1]}, timeout=10)
sys.stdout.write(r.text)' "https://localhost:$tls_port/env" "$auth_header" \
        >"$out" 2>"$out.err" || true
    check "[$store] requests with HTTPS_PROXY + REQUESTS_CA_BUNDLE: the origin saw the access token" \
        origin_saw "$out" Authorization "Bearer $access_token"
    local connect_code
    connect_code="$(curl -s -o /dev/null --max-time 10 -w '%{http_connect}' \
        -x "http://calendar:alice@127.0.0.1:$proxy_port" --cacert "$tmp/ica/ca.pem" \
        "https://127.0.0.2:$tls_port/denied" 2>/dev/null || true)"
    check "[$store] CONNECT to a host no connection allows is refused: $connect_code" \
        equals "$connect_code" 403

    # Refusals.
    status="$(curl_status "$out" -x "$proxy" -H 'X-Plugin-User: alice' \
        -H 'X-Plugin-Id: no-such-plugin' -H "$auth_header" "http://127.0.0.1:$plain_port/x")"
    check "[$store] unknown plugin: status $status, X-OAuth-Injector-Error: unknown_plugin" \
        equals "$status $(head_value "$out.head" X-OAuth-Injector-Error)" "403 unknown_plugin"
    status="$(curl_status "$out" -x "$proxy" -H "$auth_header" "http://127.0.0.1:$plain_port/x")"
    check "[$store] no identity: status $status, identity_required" \
        equals "$status $(head_value "$out.head" X-OAuth-Injector-Error)" "407 identity_required"
    status="$(curl_status "$out" -x "$proxy" "${who[@]}" -H "$auth_header" \
        "http://127.0.0.2:$plain_port/x")"
    check "[$store] placeholder to a host not allowed: status $status, host_not_allowed" \
        equals "$status $(head_value "$out.head" X-OAuth-Injector-Error)" "403 host_not_allowed"
    status="$(curl_status "$out" -x "$proxy" "${who[@]}" -H "$auth_header" \
        --request-target "https://localhost:$rogue_port/y" "http://localhost:$rogue_port/y")"
    local code
    code="$(head_value "$out.head" X-OAuth-Injector-Error)"
    check "[$store] an origin with a certificate the CA did not sign: status $status ($code)" \
        equals "$status" 502

    # A user without a grant, with on_missing_token: empty.
    status="$(curl_status "$out" -x "$proxy" -H 'X-Plugin-User: bob' -H 'X-Plugin-Id: calendar' \
        -H "$auth_header" "http://127.0.0.1:$plain_port/x")"
    check "[$store] a user without a grant: status $status, the placeholder became empty" \
        equals "$status $(json_eval "$out" "(h(d['headers'], 'Authorization') or '').strip()")" \
        "200 Bearer"

    # Secrets stay secret.
    if [[ "$store" == redis ]]; then
        check "[$store] Redis holds the grant, encrypted" redis_has_no_plaintext
    fi
    stop_pid "$proxy_pid"
    check "[$store] the proxy's log never contains the access token" \
        log_has_no_token "$tmp/proxy-$store.log"
}

for store in "${stores[@]}"; do
    run_store "$store"
done

finish
