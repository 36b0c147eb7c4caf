#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and UBSan (the oi_*
# libraries they need are compiled the same way, in the sanitized build directory that
# scripts/test.sh also uses for the sanitized test suite) and runs each for
# a bounded time, starting from the seed corpus in tests/fuzz/corpus/<target>/. Exits non-zero
# when any target finds a crash, a leak, undefined behaviour, a timeout or a broken invariant;
# the input is then kept as $build_dir/fuzz/artifacts/<target>-crash-... (reproduce with
# `$build_dir/fuzz/fuzz_<target> FILE`).
#
# Environment:
#   OI_FUZZ_SECONDS    time per target (default 60; 0 only replays the seed corpus)
#   OI_FUZZ_TARGETS    space-separated subset (default: all six)
#   OI_FUZZ_BUILD_DIR  build directory (default build-sanitize/, or OI_SANITIZE_BUILD_DIR)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

oi_ensure_packages "${OI_DEBIAN_PACKAGES[@]}"

build_dir="${OI_FUZZ_BUILD_DIR:-$(oi_sanitize_dir)}"
seconds="${OI_FUZZ_SECONDS:-60}"
targets=(${OI_FUZZ_TARGETS:-request_head chunked rewriter config jwt token_response})

oi_log "fuzz: building ${targets[*]} with clang in $build_dir"
oi_configure_sanitized "$build_dir"
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

failed=()
for target in "${targets[@]}"; do
    seeds="$OI_ROOT/tests/fuzz/corpus/$target"
    work="$build_dir/fuzz/corpus/$target" # new inputs land here, never in the repository
    artifacts="$build_dir/fuzz/artifacts"
    mkdir -p "$work" "$artifacts"
    run=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
         -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$work" "$seeds")
    if [[ "$seconds" == 0 ]]; then
        run=(-runs=0 -artifact_prefix="$artifacts/$target-" "$seeds")
    fi
    oi_log "fuzz: $target for ${seconds}s"
    if ! "$build_dir/fuzz/fuzz_$target" "${run[@]}" 2>"$build_dir/fuzz/$target.log"; then
        tail -n 60 "$build_dir/fuzz/$target.log" >&2
        failed+=("$target")
        continue
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' \
        "$build_dir/fuzz/$target.log" >&2 || true
done

if ((${#failed[@]} > 0)); then
    oi_die "fuzz: findings in ${failed[*]} (inputs in $build_dir/fuzz/artifacts/)"
fi
oi_log "fuzz: no findings in ${targets[*]}"
