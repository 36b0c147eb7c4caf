# Shared parts of the bench scripts: the work directory, processes started and stopped by pid,
# templates, and the load generators' output turned into result rows. Sourced, not executed.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

bench_dir="$OI_ROOT/bench"
duration="${BENCH_DURATION:-10s}"
[[ "${BENCH_QUICK:-0}" == 1 ]] && duration="${BENCH_DURATION:-2s}"
connections="${BENCH_CONNECTIONS:-32}"
wrk_threads="${BENCH_WRK_THREADS:-2}"
threads="${BENCH_THREADS:-1}"

work="$(mktemp -d /tmp/oi-bench.XXXXXX)"
chmod 755 "$work" # nginx and squid workers run as another user
pids=()

bench_cleanup() {
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
trap bench_cleanup EXIT

# Starts "$@" in the background with output in $work/<name>.log; its pid is in $last_pid.
start() {
    local name="$1"
    shift
    "$@" >"$work/$name.log" 2>&1 &
    last_pid="$!"
    pids+=("$last_pid")
}

# Stops one process started by `start`, by its pid.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Fills in @KEY@ markers of a template: render TEMPLATE OUTPUT KEY=VALUE...
render() {
    local template="$1" output="$2" text pair
    shift 2
    text="$(<"$template")"
    for pair in "$@"; do
        text="${text//@${pair%%=*}@/${pair#*=}}"
    done
    printf '%s\n' "$text" >"$output"
}

# ---- results --------------------------------------------------------------------------------------

# rows: "section|target|req/s|p50_ms|p99_ms|errors|note", in the order measured.
rows=()
status=0

# add_row SECTION TARGET "RPS P50 P99 ERRORS" [NOTE]; a value "failed: ..." marks a failed row.
add_row() {
    rows+=("$1|$2|$3|${4:-}")
    [[ "$3" != failed:* ]] || status=1
}

# rps_of SECTION TARGET: the req/s of a row, empty when it failed or is missing.
rps_of() {
    local row
    for row in "${rows[@]}"; do
        IFS='|' read -r s t v _ <<<"$row"
        if [[ "$s" == "$1" && "$t" == "$2" && "$v" != failed:* ]]; then
            printf '%s\n' "${v%% *}"
            return
        fi
    done
}

# field_of SECTION TARGET N: the Nth field (1: req/s, 2: p50, 3: p99, 4: errors, 5: CPU us per
# request) of a row.
field_of() {
    local row
    for row in "${rows[@]}"; do
        IFS='|' read -r s t v _ <<<"$row"
        if [[ "$s" == "$1" && "$t" == "$2" && "$v" != failed:* ]]; then
            awk -v n="$3" '{ print $n }' <<<"$v"
            return
        fi
    done
}

# ---- load generators ------------------------------------------------------------------------------

# cpu_ticks PID...: user+system CPU time (clock ticks) of the processes and their children so far.
cpu_ticks() {
    local pid total=0 ticks
    for pid in "$@" $(pgrep -P "$(IFS=,; echo "$*")" || true); do
        ticks="$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)"
        total=$((total + ticks))
    done
    echo "$total"
}

# The pids whose CPU time the next load is charged to (the server measured); empty: none.
measured_pids=()

# per_request_cpu TICKS_BEFORE REQUESTS: microseconds of CPU per request since TICKS_BEFORE.
per_request_cpu() {
    ((${#measured_pids[@]} > 0)) || { echo "-"; return; }
    awk -v t="$(($(cpu_ticks "${measured_pids[@]}") - $1))" -v r="$2" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf (r > 0) ? "%.1f" : "-", t / hz * 1e6 / r }'
}

# with_cpu TICKS_BEFORE: turns "rps p50 p99 errors requests" into "rps p50 p99 errors cpu_us".
with_cpu() {
    local rps p50 p99 errors requests
    read -r rps p50 p99 errors requests
    echo "$rps $p50 $p99 $errors $(per_request_cpu "$1" "$requests")"
}

# run_wrk NAME URL [wrk args...]: prints "rps p50_ms p99_ms errors cpu_us_per_request" (CPU of
# measured_pids), or "failed: ...".
run_wrk() {
    local name="$1" url="$2"
    shift 2
    oi_log "wrk: $name ($duration, $connections connections)"
    local before=0
    ((${#measured_pids[@]} == 0)) || before="$(cpu_ticks "${measured_pids[@]}")"
    if ! timeout 300 wrk -t "$wrk_threads" -c "$connections" -d "$duration" --latency "$@" "$url" \
        >"$work/wrk-$name.txt" 2>&1; then
        echo "failed: wrk exited non-zero (wrk-$name.txt)"
        return
    fi
    awk '
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
        / requests in / { requests = $1 }
        END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, errors, requests }
    ' "$work/wrk-$name.txt" | with_cpu "$before"
}

# run_hey NAME [hey args...]: like run_wrk, with hey (Go's HTTP client; proxies, rate limits).
run_hey() {
    local name="$1"
    shift
    oi_log "hey: $name ($duration) $*"
    local before=0
    ((${#measured_pids[@]} == 0)) || before="$(cpu_ticks "${measured_pids[@]}")"
    if ! timeout 300 hey -z "$duration" "$@" >"$work/hey-$name.txt" 2>&1; then
        echo "failed: hey exited non-zero (hey-$name.txt)"
        return
    fi
    awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +50% in/ { p50 = $3 * 1000 }
        /^ +99% in/ { p99 = $3 * 1000 }
        /^Status code distribution:/ { section = "status" }
        /^Error distribution:/ { section = "errors" }
        section == "status" && /^ +\[[0-9]+\]/ && $1 !~ /^\[[23]/ { errors += $2 }
        section == "status" && /^ +\[[0-9]+\]/ { requests += $2 }
        section == "errors" && /^ +\[[0-9]+\]/ { errors += substr($1, 2, length($1) - 2) }
        END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, errors, requests }
    ' "$work/hey-$name.txt" | with_cpu "$before"
}
