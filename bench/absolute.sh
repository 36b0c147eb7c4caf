# The absolute-form loads (plain HTTP to the origin). Sourced by bench/run.sh after the servers
# are up; each function adds rows to the table.

# wrk_load NAME PORT PATH USERS BODY_BYTES PID: bench/load.lua through 127.0.0.1:PORT, CPU time
# charged to PID (and its children).
wrk_load() {
    measured_pids=("$6")
    BENCH_PATH="$3" BENCH_USERS="$4" BENCH_BODY_BYTES="$5" BENCH_HOST="127.0.0.1:$origin_port" \
        run_wrk "$1" "http://127.0.0.1:$2/" -s "$bench_dir/load.lua"
}

# absolute_throughput SECTION BODY_BYTES: wrk at full speed against the origin directly, the
# reference proxies and each oauth-injector (rotating over BENCH_USERS users).
absolute_throughput() {
    local section="$1" body="$2" path=/index.json name
    ((body == 0)) || path=/events
    add_row "$section" direct \
        "$(wrk_load "$section-direct" "$origin_port" $path 0 "$body" "$origin_pid")"
    add_row "$section" haproxy \
        "$(wrk_load "$section-haproxy" "$haproxy_port" $path 0 "$body" "$haproxy_pid")"
    add_row "$section" "nginx proxy_pass" \
        "$(wrk_load "$section-nginx" "$nginx_proxy_port" $path 0 "$body" "$nginx_proxy_pid")"
    for name in "${oi_names[@]}"; do
        # Unmeasured: every user's grant into the proxy's cache first, as in a steady state.
        duration=2s wrk_load "$section-$name-warm-up" "${oi_ports[$name]}" \
            "http://127.0.0.1:$origin_port$path" "$users" "$body" "${oi_pids[$name]}" >/dev/null
        add_row "$section" "$name" "$(wrk_load "$section-$name" "${oi_ports[$name]}" \
            "http://127.0.0.1:$origin_port$path" "$users" "$body" "${oi_pids[$name]}")"
    done
}

# absolute_latency SECTION RATE: hey at a fixed total rate (32 workers, each RATE/32 requests per
# second) against the origin directly, haproxy and each oauth-injector (one user: hey sends the
# same headers on every request; the grant comes from the proxy's cache either way).
absolute_latency() {
    local section="$1" rate="$2" name
    local per_worker=$(((rate + 31) / 32))
    local load=(-c 32 -q "$per_worker" -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}')
    measured_pids=("$origin_pid")
    add_row "$section" direct "$(run_hey "$section-direct" "${load[@]}" \
        "http://127.0.0.1:$origin_port/index.json")"
    measured_pids=("$haproxy_pid")
    add_row "$section" haproxy "$(run_hey "$section-haproxy" "${load[@]}" \
        "http://127.0.0.1:$haproxy_port/index.json")"
    for name in "${oi_names[@]}"; do
        measured_pids=("${oi_pids[$name]}")
        add_row "$section" "$name" "$(run_hey "$section-$name" "${load[@]}" \
            -x "http://127.0.0.1:${oi_ports[$name]}" \
            -H 'X-Plugin-User: user-1' -H 'X-Plugin-Id: bench-plugin' \
            "http://127.0.0.1:$origin_port/index.json")"
    done
}
