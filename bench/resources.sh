# Start-up time and memory per idle connection of an oauth-injector binary, and the refresh
# storm. Sourced by bench/run.sh after Redis holds the grants; results go to startup_ms[NAME],
# idle[NAME] and storm.
declare -A startup_ms idle
storm=""

# measure_startup NAME BINARY: "median_ms slowest_ms" of BENCH_STARTUP_RUNS starts to /readyz 200.
measure_startup() {
    oi_log "start-up to ready: $1 ($startup_runs runs)"
    binary="$2"
    write_oi_config "$work/$1-startup.yaml" || { startup_ms[$1]="failed: $problem"; return; }
    startup_ms[$1]="$("$bench_dir/startup.py" "$2" "$work/$1-startup.yaml" "$oi_admin_port" \
        "$startup_runs" 2>"$work/$1-startup.err" || echo "failed: see $1-startup.err")"
}

# measure_idle_memory NAME BINARY: "rss_before_kib rss_after_kib bytes_per_connection still_open"
# of a fresh proxy holding BENCH_IDLE_CONNECTIONS idle keep-alive client connections.
measure_idle_memory() {
    oi_log "memory: $1 with $idle_connections idle connections"
    if ! start_oauth_injector "$1-idle" "$2"; then
        idle[$1]="failed: $problem"
        return
    fi
    idle[$1]="$("$bench_dir/idle_connections.py" "$oi_pid" "$oi_port" "$origin_port" \
        "$idle_connections" "$users" 2>"$work/$1-idle.err" || echo "failed: see $1-idle.err")"
    stop "$oi_pid"
}

# measure_refresh_storm BINARY: BENCH_STORM_REQUESTS (default 1000) concurrent requests on one
# just-expired grant, split over two proxies sharing one Redis, after each of four expiries,
# against the test OAuth provider (tests/e2e/provider, rotating refresh tokens). Runs the
# rotations of tests/e2e/refresh_e2e.mjs (which also checks every request's token with the
# provider's introspection) and keeps its `# storm:` line: "calls expiries failed requests p50
# p99 longest".
measure_refresh_storm() {
    local requests="${BENCH_STORM_REQUESTS:-1000}" line
    oi_log "refresh storm: $requests concurrent requests per expiry, two proxies"
    oi_npm_ci "$OI_ROOT/tests/e2e/provider" >"$work/storm-npm.log" 2>&1 ||
        { storm="failed: npm ci, see storm-npm.log"; return; }
    OI_BINARY="$1" OI_REFRESH_BURST="$requests" OI_REFRESH_SCENARIOS=rotations \
        timeout 300 node "$OI_ROOT/tests/e2e/refresh_e2e.mjs" >"$work/storm.log" 2>&1 || true
    line="$(grep '^# storm:' "$work/storm.log" || true)"
    [[ -n "$line" ]] || { storm="failed: see storm.log"; return; }
    storm="$(sed -E 's/.*: ([0-9]+) refresh calls for ([0-9]+) expiries; ([0-9]+) of ([0-9]+) failed; p50 ([0-9]+) ms, p99 ([0-9]+) ms, longest ([0-9]+) ms.*/\1 \2 \3 \4 \5 \6 \7/' <<<"$line")"
    grep -q '^FAIL' "$work/storm.log" && status=1
    return 0
}
