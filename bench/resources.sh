# Start-up time and memory per idle connection of an oauth-injector binary. Sourced by
# bench/run.sh after Redis holds the grants; results go to startup_ms[NAME] and idle[NAME].
declare -A startup_ms idle

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
