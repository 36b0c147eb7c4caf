#!/usr/bin/env bash
# Throughput and latency of oauth-injector against a static nginx origin, with the origin alone
# and haproxy (adding a static header) as reference points. See bench/README.md.
#
# Everything listens on 127.0.0.1 ports chosen at start; state, configs and logs live in a
# temporary directory removed at the end (BENCH_KEEP=1 keeps it). Only the processes started here
# are stopped, by their pids. Knobs (environment):
#   BENCH_DURATION=10s  BENCH_CONNECTIONS=32  BENCH_WRK_THREADS=2  BENCH_USERS=100
#   BENCH_THREADS=1     worker threads of nginx, haproxy and oauth-injector alike
#   BENCH_STORE=redis   or memory
#   BENCH_NO_BUILD=1    use the existing build instead of running scripts/setup.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-32}"
wrk_threads="${BENCH_WRK_THREADS:-2}"
users="${BENCH_USERS:-100}"
threads="${BENCH_THREADS:-1}"
store="${BENCH_STORE:-redis}"
bench_dir="$OI_ROOT/bench"
binary="$(oi_build_dir)/oauth-injector"

oi_ensure_packages "${OI_BENCH_PACKAGES[@]}" redis-server curl python3

# ---- processes and cleanup ---------------------------------------------------------------------

work="$(mktemp -d /tmp/oi-bench.XXXXXX)"
chmod 755 "$work" # nginx workers may run as another user
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        oi_log "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Starts "$@" in the background with output in $work/<name>.log and remembers its pid.
start() {
    local name="$1"
    shift
    "$@" >"$work/$name.log" 2>&1 &
    pids+=("$!")
}

# Fills in @KEY@ markers of a template: render TEMPLATE OUTPUT KEY=VALUE...
render() {
    local template="$1" output="$2" text
    shift 2
    text="$(<"$template")"
    local pair
    for pair in "$@"; do
        text="${text//@${pair%%=*}@/${pair#*=}}"
    done
    printf '%s\n' "$text" >"$output"
}

# ---- wrk and its output ------------------------------------------------------------------------

declare -A results

# run_wrk NAME URL [wrk args...]: runs wrk, stores "rps p50_ms p99_ms errors" in results[NAME].
run_wrk() {
    local name="$1" url="$2"
    shift 2
    oi_log "wrk: $name ($duration, $connections connections)"
    if ! timeout 120 wrk -t "$wrk_threads" -c "$connections" -d "$duration" --latency "$@" "$url" \
        >"$work/wrk-$name.txt" 2>&1; then
        results[$name]="failed: wrk exited non-zero (see $work/wrk-$name.txt)"
        return
    fi
    results[$name]="$(awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
        END { printf "%s %.3f %.3f %d", rps, p50, p99, errors }
    ' "$work/wrk-$name.txt")"
}

# ---- the origin ---------------------------------------------------------------------------------

origin_port="$(oi_free_port)"
mkdir -p "$work/www"
printf '{"id":"evt-1","summary":"Benchmark event","start":"2026-01-01T10:00:00Z","attendees":3}\n' \
    >"$work/www/index.json"
chmod -R a+rX "$work/www"
render "$bench_dir/nginx.conf.in" "$work/nginx.conf" "WORK=$work" "PORT=$origin_port"
start nginx nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work"
oi_wait_for_port "$origin_port" 10 || oi_die "nginx did not start: $(cat "$work/nginx.log")"

run_wrk direct "http://127.0.0.1:$origin_port/index.json"

# ---- haproxy ------------------------------------------------------------------------------------

haproxy_port="$(oi_free_port)"
render "$bench_dir/haproxy.cfg.in" "$work/haproxy.cfg" "WORK=$work" "PORT=$haproxy_port" \
    "ORIGIN_PORT=$origin_port" "THREADS=$threads"
start haproxy haproxy -db -f "$work/haproxy.cfg"
if oi_wait_for_port "$haproxy_port" 10; then
    run_wrk haproxy "http://127.0.0.1:$haproxy_port/index.json"
else
    results[haproxy]="failed: haproxy did not start (see $work/haproxy.log)"
fi

# ---- oauth-injector -----------------------------------------------------------------------------

# Starts the proxy and imports the grants; on failure sets `problem` to the reason.
problem=""
start_proxy() {
    if [[ "${BENCH_NO_BUILD:-0}" != 1 ]] && ! "$OI_ROOT/scripts/setup.sh" >"$work/build.log" 2>&1; then
        problem="build failed (see $work/build.log)"
        return
    fi
    [[ -x "$binary" ]] || { problem="$binary was not built"; return; }

    local store_yaml="memory: {}"
    if [[ "$store" == redis ]]; then
        local redis_port
        redis_port="$(oi_free_port)"
        mkdir -p "$work/redis"
        start redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" \
            --save "" --appendonly no
        oi_wait_for_port "$redis_port" 10 || { problem="redis-server did not start"; return; }
        store_yaml="redis: { url: \"redis://127.0.0.1:$redis_port/0\", key_prefix: bench }"
    fi

    proxy_port="$(oi_free_port)"
    admin_port="$(oi_free_port)"
    local public_port
    public_port="$(oi_free_port)"
    export ADMIN_TOKEN TOKEN_KEY
    ADMIN_TOKEN="$(openssl rand -hex 32)"
    TOKEN_KEY="$(openssl rand -base64 32)"
    cat >"$work/oauth-injector.yaml" <<EOF
listen:
  proxy: 127.0.0.1:$proxy_port
  public: 127.0.0.1:$public_port
  admin: 127.0.0.1:$admin_port
public_url: http://127.0.0.1:$public_port
admin_token: \${ADMIN_TOKEN}
threads: $threads
store:
  $store_yaml
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
  deny_private_addresses: true
  allow_addresses: [127.0.0.1:$origin_port]
log: { level: warn, format: text }
EOF
    if ! "$binary" check-config --config "$work/oauth-injector.yaml" >"$work/check-config.log" 2>&1; then
        problem="generated config rejected: $(head -3 "$work/check-config.log" | tr '\n' ' ')"
        return
    fi
    start oauth-injector "$binary" run --config "$work/oauth-injector.yaml"
    oi_wait_for_port "$proxy_port" 10 && oi_wait_for_port "$admin_port" 10 ||
        { problem="oauth-injector did not start (see $work/oauth-injector.log)"; return; }

    # Import one grant per user through the admin API.
    local i code
    for ((i = 0; i < users; i++)); do
        code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
            -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
            -d "{\"access_token\":\"bench-token-$i\",\"expires_in\":86400}" \
            "http://127.0.0.1:$admin_port/v1/connections/bench/grants/user-$i")"
        [[ "$code" == 2* ]] || { problem="grant import answered $code"; return; }
    done

    # The origin must see user-1's token where the placeholder was.
    local seen
    seen="$(curl -s --max-time 5 -x "http://127.0.0.1:$proxy_port" \
        -H 'X-Plugin-User: user-1' -H 'X-Plugin-Id: bench-plugin' \
        -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' \
        "http://127.0.0.1:$origin_port/auth" || true)"
    [[ "$seen" == "Bearer bench-token-1" ]] || { problem="the token was not injected"; return; }
}

start_proxy
if [[ -z "$problem" ]]; then
    BENCH_TARGET="http://127.0.0.1:$origin_port/index.json" \
        BENCH_ORIGIN_HOST="127.0.0.1:$origin_port" BENCH_USERS="$users" \
        run_wrk oauth-injector "http://127.0.0.1:$proxy_port/" -s "$bench_dir/proxy.lua"
else
    results[oauth-injector]="failed: $problem"
fi

# ---- report -------------------------------------------------------------------------------------

printf '\nwrk: %s threads, %s connections, %s; servers: %s thread(s); store: %s; %s users\n\n' \
    "$wrk_threads" "$connections" "$duration" "$threads" "$store" "$users"
printf '%-16s %12s %10s %10s %8s %10s %11s\n' target req/s p50_ms p99_ms errors vs_direct vs_haproxy
read -r direct_rps _ <<<"${results[direct]}"
read -r haproxy_rps _ <<<"${results[haproxy]}"
status=0
for name in direct haproxy oauth-injector; do
    row="${results[$name]}"
    if [[ "$row" == failed:* ]]; then
        printf '%-16s %s\n' "$name" "$row"
        status=1
        continue
    fi
    read -r rps p50 p99 errors <<<"$row"
    awk -v n="$name" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$errors" \
        -v d="$direct_rps" -v h="$haproxy_rps" 'BEGIN {
            vd = (d + 0 > 0) ? sprintf("%.2f", r / d) : "-"
            vh = (h + 0 > 0) ? sprintf("%.2f", r / h) : "-"
            printf "%-16s %12.0f %10.3f %10.3f %8d %10s %11s\n", n, r, a, b, e, vd, vh
        }'
    ((errors == 0)) || status=1
done
exit "$status"
