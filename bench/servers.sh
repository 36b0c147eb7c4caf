# Starts the servers of the bench on 127.0.0.1 ports chosen at start: the nginx origin (plain and
# TLS), the reference proxies and oauth-injector with Redis. Sourced after bench/lib.sh; each
# start_* function sets <name>_port and <name>_pid, and returns non-zero (with `problem` set) on
# failure.

problem=""

# A CA for the origin's TLS listener and a leaf for 127.0.0.1, in $work/origin-pki.
make_origin_pki() {
    local dir="$work/origin-pki"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=bench origin CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$dir/origin.key" -out "$dir/origin.csr" 2>/dev/null
    openssl x509 -req -in "$dir/origin.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
        -out "$dir/origin.pem" 2>/dev/null
    chmod -R a+rX "$dir"
}

start_origin() {
    origin_port="$(oi_free_port)"
    origin_tls_port="$(oi_free_port)"
    make_origin_pki
    mkdir -p "$work/www"
    printf '{"id":"evt-1","summary":"Benchmark event","start":"2026-01-01T10:00:00Z"}\n' \
        >"$work/www/index.json"
    chmod -R a+rX "$work/www"
    render "$bench_dir/nginx.conf.in" "$work/nginx.conf" "WORK=$work" "PORT=$origin_port" \
        "TLS_PORT=$origin_tls_port"
    start nginx nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work"
    origin_pid="$last_pid"
    oi_wait_for_port "$origin_port" 10 || { problem="nginx did not start (nginx.log)"; return 1; }
}

start_haproxy() {
    haproxy_port="$(oi_free_port)"
    render "$bench_dir/haproxy.cfg.in" "$work/haproxy.cfg" "WORK=$work" "PORT=$haproxy_port" \
        "ORIGIN_PORT=$origin_port" "THREADS=$threads"
    start haproxy haproxy -db -f "$work/haproxy.cfg"
    haproxy_pid="$last_pid"
    oi_wait_for_port "$haproxy_port" 10 || { problem="haproxy did not start"; return 1; }
}

start_nginx_proxy() {
    nginx_proxy_port="$(oi_free_port)"
    render "$bench_dir/nginx-proxy.conf.in" "$work/nginx-proxy.conf" "WORK=$work" \
        "PORT=$nginx_proxy_port" "ORIGIN_PORT=$origin_port" "THREADS=$threads"
    start nginx-proxy nginx -e "$work/nginx-proxy-error.log" -c "$work/nginx-proxy.conf" -p "$work"
    nginx_proxy_pid="$last_pid"
    oi_wait_for_port "$nginx_proxy_port" 10 || { problem="nginx (proxy) did not start"; return 1; }
}

start_redis() {
    redis_port="$(oi_free_port)"
    mkdir -p "$work/redis"
    start redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" \
        --save "" --appendonly no
    oi_wait_for_port "$redis_port" 10 || { problem="redis-server did not start"; return 1; }
}

# write_oi_config FILE: a config for the running origin and Redis, with interception by a CA made
# here; sets oi_port and oi_admin_port. ADMIN_TOKEN and TOKEN_KEY are exported for the proxy.
write_oi_config() {
    local file="$1" public_port
    oi_port="$(oi_free_port)"
    oi_admin_port="$(oi_free_port)"
    public_port="$(oi_free_port)"
    export ADMIN_TOKEN="${ADMIN_TOKEN:-$(openssl rand -hex 32)}"
    export TOKEN_KEY="${TOKEN_KEY:-$(openssl rand -base64 32)}"
    [[ -f "$work/oi-ca/ca.pem" ]] || "$binary" ca init --dir "$work/oi-ca" >/dev/null
    cat >"$file" <<EOF
listen:
  proxy: 127.0.0.1:$oi_port
  public: 127.0.0.1:$public_port
  admin: 127.0.0.1:$oi_admin_port
public_url: http://127.0.0.1:$public_port
admin_token: \${ADMIN_TOKEN}
threads: $threads
store:
  redis: { url: "redis://127.0.0.1:$redis_port/0", key_prefix: bench }
  encryption_keys:
    - { id: k1, key: "\${TOKEN_KEY}" }
placeholders: ["{OAUTH_PLUGIN_ACCESS_TOKEN}"]
connections:
  bench:
    authorization_url: https://auth.bench.invalid/authorize
    token_url: https://auth.bench.invalid/token
    client_id: bench-client
    client_secret: bench-secret
    allowed_hosts: [127.0.0.1]
plugins:
  bench-plugin: { connection: bench }
upstream:
  ca_file: $work/origin-pki/ca.pem
  deny_private_addresses: true
  allow_addresses: [127.0.0.1:$origin_port, 127.0.0.1:$origin_tls_port]
intercept:
  ca_cert: $work/oi-ca/ca.pem
  ca_key: $work/oi-ca/ca.key
limits:
  max_connections: 20000
log: { level: warn, format: text }
EOF
    "$binary" check-config --config "$file" >"$work/check-config.log" 2>&1 ||
        { problem="config rejected: $(head -3 "$work/check-config.log" | tr '\n' ' ')"; return 1; }
}

# start_oauth_injector NAME BINARY: starts a proxy on a fresh config; sets oi_pid and the ports.
start_oauth_injector() {
    local name="$1"
    binary="$2"
    write_oi_config "$work/$name.yaml" || return 1
    start "$name" "$binary" run --config "$work/$name.yaml"
    oi_pid="$last_pid"
    oi_wait_for_port "$oi_port" 10 && oi_wait_for_port "$oi_admin_port" 10 ||
        { problem="$name did not start ($name.log)"; return 1; }
}

# Imports BENCH_USERS grants (once per Redis) and checks that the origin sees user-1's token.
import_grants() {
    if [[ ! -f "$work/grants-imported" ]]; then
        oi_log "importing $users grants"
        "$bench_dir/import_grants.py" "$oi_admin_port" bench "$users" ||
            { problem="grant import failed"; return 1; }
        touch "$work/grants-imported"
    fi
    local seen
    seen="$(curl -s --max-time 5 -x "http://127.0.0.1:$oi_port" \
        -H 'X-Plugin-User: user-1' -H 'X-Plugin-Id: bench-plugin' \
        -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' \
        "http://127.0.0.1:$origin_port/auth" || true)"
    [[ "$seen" == "Bearer bench-token-1" ]] || { problem="the token was not injected"; return 1; }
}

start_squid() {
    squid_port="$(oi_free_port)"
    local dir="$work/squid"
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=bench squid CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    /usr/lib/squid/security_file_certgen -c -s "$dir/certs" -M 4MB >/dev/null
    chown -R proxy:proxy "$dir"
    render "$bench_dir/squid.conf.in" "$dir/squid.conf" "DIR=$dir" "PORT=$squid_port" \
        "ORIGIN_CA=$work/origin-pki/ca.pem"
    start squid squid -N -f "$dir/squid.conf"
    squid_pid="$last_pid"
    oi_wait_for_port "$squid_port" 20 || { problem="squid did not start (squid.log)"; return 1; }
}

start_mitmproxy() {
    mitm_port="$(oi_free_port)"
    local dir="$work/mitmproxy"
    mkdir -p "$dir"
    start mitmproxy mitmdump -q --listen-host 127.0.0.1 --listen-port "$mitm_port" \
        --set confdir="$dir" --set ssl_verify_upstream_trusted_ca="$work/origin-pki/ca.pem" \
        -s "$bench_dir/mitm_inject.py"
    mitm_pid="$last_pid"
    oi_wait_for_port "$mitm_port" 30 && [[ -f "$dir/mitmproxy-ca-cert.pem" ]] ||
        { problem="mitmdump did not start (mitmproxy.log)"; return 1; }
}
