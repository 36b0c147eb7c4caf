# Shared helpers of the end-to-end scripts in tests/e2e/ (sourced, not run). Sets up a temporary
# directory ($tmp, removed on exit unless OI_E2E_KEEP=1), the list of started processes ($pids,
# stopped on exit), random secrets for the proxy's environment, pass/fail counting (check,
# finish, equals: scripts/checks.sh) and small helpers to start services, make a test PKI and look
# at what origins saw.
# Expects $OI_ROOT (scripts/lib.sh) and sets $binary (OI_BINARY) and $python (PYTHON).

# The whole script runs again under `timeout`, bounded by OI_E2E_TIMEOUT seconds (default 180).
if [[ -z "${OI_E2E_TIMED:-}" ]]; then
    export OI_E2E_TIMED=1
    exec timeout --kill-after=10s "${OI_E2E_TIMEOUT:-180}s" bash "$0" "$@"
fi

binary="${OI_BINARY:-$OI_ROOT/build/oauth-injector}"
[[ "$binary" == /* ]] || binary="$OI_ROOT/$binary"
python="${PYTHON:-python3}"
[[ -x "$binary" ]] || oi_die "no proxy binary at $binary (build it, or set OI_BINARY)"

tmp="$(mktemp -d)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ "${OI_E2E_KEEP:-0}" == 1 ]]; then
        printf 'kept %s\n' "$tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# Random secrets for this run, passed to the proxy through its environment.
export OI_E2E_ADMIN_TOKEN OI_E2E_TOKEN_KEY OI_E2E_CLIENT_SECRET
OI_E2E_ADMIN_TOKEN="$(openssl rand -hex 24)"
OI_E2E_TOKEN_KEY="$(openssl rand -base64 32)"
OI_E2E_CLIENT_SECRET="$(openssl rand -hex 16)"
access_token="e2e-at-$(openssl rand -hex 16)"
placeholder='{OAUTH_PLUGIN_ACCESS_TOKEN}'

source "$OI_ROOT/scripts/checks.sh" # check, finish, equals

# --- helpers ---------------------------------------------------------------------------------

# Evaluates the Python expression $2 over the JSON document in file $1 (bound to `d`; `j` parses
# nested JSON text, `h(headers, name)` finds a header value or None) and prints the result.
json_eval() {
    "$python" - "$1" "$2" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit(f"json_eval: {type(e).__name__}")
j = json.loads
def h(headers, name):
    return next((v for n, v in headers if n.lower() == name.lower()), None)
try:
    v = eval(sys.argv[2])
except Exception as e:
    sys.exit(f"json_eval: {type(e).__name__}")
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# start_service NAME COMMAND...: starts COMMAND in the background (stdout to $tmp/NAME.out) and
# sets service_port from the JSON ready line it prints first.
start_service() {
    local name="$1"
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$! deadline=$((SECONDS + 15))
    pids+=("$pid")
    until [[ -s "$tmp/$name.out" ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$tmp/$name.err" >&2
            oi_die "$name exited before it was ready"
        fi
        ((SECONDS < deadline)) || oi_die "$name was not ready within 15 s"
        sleep 0.05
    done
    service_port="$(json_eval "$tmp/$name.out" 'd["port"]')"
}

# make_pki DIR [SAN...]: writes a test CA and a certificate for localhost, 127.0.0.1 and any
# further subjectAltName entries given (e.g. DNS:api.e2e.test) signed by it into DIR, and a
# self-signed certificate for localhost and 127.0.0.1 that nothing trusts.
make_pki() {
    local dir="$1" names="DNS:localhost,IP:127.0.0.1"
    shift
    [[ $# -eq 0 ]] || names+="$(printf ',%s' "$@")"
    mkdir -p "$dir"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 1 \
        -subj "/CN=oauth-injector e2e test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${ec[@]}" -keyout "$dir/leaf.key" -out "$dir/leaf.csr" \
        -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=$names" "extendedKeyUsage=serverAuth" \
        "basicConstraints=CA:FALSE" >"$dir/leaf.ext"
    openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 1 -extfile "$dir/leaf.ext" -out "$dir/leaf.pem" 2>/dev/null
    openssl req -x509 "${ec[@]}" -keyout "$dir/rogue.key" -out "$dir/rogue.pem" -days 1 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
}

# curl_status OUT COMMAND-ARGS...: runs curl, writes the body to OUT and the response head to
# OUT.head, prints the status code (000 when nothing came back).
curl_status() {
    local out="$1"
    shift
    curl -sS --max-time 10 -o "$out" -D "$out.head" -w '%{http_code}' "$@" 2>"$out.err" || true
}

# The value of response header $2 in the head file $1, or nothing.
head_value() {
    sed -n "s/^$2: *//Ip" "$1" | tr -d '\r' | head -n 1
}

# origin_saw FILE HEADER EXPECTED: the echo origin's answer in FILE says it received HEADER with
# exactly the value EXPECTED ("" for absent). Prints nothing of the values.
origin_saw() {
    local seen
    seen="$(json_eval "$1" "h(d['headers'], '$2') or ''" 2>/dev/null)" || return 1
    [[ "$seen" == "$3" ]]
}

# Stops a process this script started and forgets it.
stop_pid() {
    local pid="$1" kept=() p
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
    pids=("${kept[@]}")
}

config_ok() {
    "$binary" check-config --config "$1" >"$tmp/check-config.out" 2>&1 && return 0
    cat "$tmp/check-config.out" >&2
    return 1
}

# write_config FILE PROXY_PORT ADMIN_PORT STORE_YAML ALLOWED_HOSTS OTHER_HOSTS: a proxy config
# with one connection (calendar-conn, plugin calendar) allowing ALLOWED_HOSTS (a YAML list),
# interception with the CA in $tmp/ica and the origins' CA $tmp/pki/ca.pem trusted upstream.
write_config() {
    cat >"$1" <<EOF
listen:
  proxy: 127.0.0.1:$2
  admin: 127.0.0.1:$3
admin_token: \${OI_E2E_ADMIN_TOKEN}
threads: 2
store:
  $4
  encryption_keys:
    - { id: k1, key: "\${OI_E2E_TOKEN_KEY}" }
connections:
  calendar-conn:
    authorization_url: http://127.0.0.1:9/auth
    token_url: http://127.0.0.1:9/token
    client_id: e2e-client
    client_secret: \${OI_E2E_CLIENT_SECRET}
    allowed_hosts: $5
plugins:
  calendar: { connection: calendar-conn }
intercept:
  ca_cert: $tmp/ica/ca.pem
  ca_key: $tmp/ica/ca.key
  other_hosts: $6
upstream:
  ca_file: $tmp/pki/ca.pem
  allow_addresses: [127.0.0.1]
  connect_timeout: 2s
  response_timeout: 10s
limits:
  idle_timeout: 10s
log: { level: info, format: text }
EOF
}

# start_proxy NAME OTHER_HOSTS ALLOWED_HOSTS [VAR=VALUE...]: starts a proxy (write_config, memory
# store) with VAR=VALUE added to its environment, imports alice's grant on calendar-conn, sets
# proxy_port. Its log is $tmp/NAME.log.
start_proxy() {
    local name="$1" admin_port status
    proxy_port="$(oi_free_port)"
    admin_port="$(oi_free_port)"
    write_config "$tmp/$name.yaml" "$proxy_port" "$admin_port" "memory: {}" "$3" "$2"
    config_ok "$tmp/$name.yaml" || oi_die "$name: the generated config is refused"
    env "${@:4}" "$binary" run --config "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 &
    pids+=("$!")
    if ! oi_wait_for_port "$proxy_port" 15 || ! oi_wait_for_port "$admin_port" 15; then
        tail -n 20 "$tmp/$name.log" >&2
        oi_die "$name did not start"
    fi
    status="$(curl_status "$tmp/grant" -X PUT -H "Authorization: Bearer $OI_E2E_ADMIN_TOKEN" \
        -H 'Content-Type: application/json' \
        --data "{\"access_token\": \"$access_token\", \"expires_in\": 3600}" \
        "http://127.0.0.1:$admin_port/v1/connections/calendar-conn/grants/alice")"
    [[ "$status" == 2* ]] || oi_die "$name: importing the grant answered $status"
}

# start_echo_origins [SAN...]: the test PKI in $tmp/pki (its leaf also naming SAN...), the
# interception CA in $tmp/ica (ca init), and echo_origin.py in plain HTTP ($plain_port) and HTTPS
# with the test PKI's leaf ($tls_port).
start_echo_origins() {
    local origin="$OI_ROOT/tests/e2e/echo_origin.py"
    make_pki "$tmp/pki" "$@"
    "$binary" ca init --dir "$tmp/ica" >/dev/null
    start_service origin "$python" "$origin"
    plain_port="$service_port"
    start_service tls-origin "$python" "$origin" \
        --tls-cert "$tmp/pki/leaf.pem" --tls-key "$tmp/pki/leaf.key"
    tls_port="$service_port"
}
