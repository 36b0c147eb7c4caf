#!/usr/bin/env bash
# Builds everything with ThreadSanitizer (-DOI_TSAN=ON, GCC) into build-tsan/ (or
# $OI_TSAN_BUILD_DIR) and runs the unit and integration tests there. The integration tests start
# the TSan build of oauth-injector (their OI_BINARY), with several worker threads where it
# matters (tests/integration/concurrency_test.cpp drives four); a TSan report from that child
# fails the test that started it (tests/support/process.cpp), and one from the test binaries
# fails them through TSan's exit code. Suppressions, each with its reason: tests/tsan.supp.
#
# Not part of CI (its time budget goes to ASan+UBSan); run it by hand after touching anything
# that threads share (README "Fuzzing and sanitizers"). Arguments are passed to both test
# binaries as a Catch2 filter, e.g. `scripts/tsan.sh "[concurrency]"`.
#
# Environment:
#   OI_TSAN_BUILD_DIR  build directory (default build-tsan/)
#   OI_TSAN_JOBS       build jobs (default: nproc)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

oi_ensure_packages "${OI_DEBIAN_PACKAGES[@]}"

build_dir="${OI_TSAN_BUILD_DIR:-$OI_ROOT/build-tsan}"
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

started=$SECONDS
oi_log "tsan: building in $build_dir"
cmake -S "$OI_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOI_TSAN=ON \
    "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "${OI_TSAN_JOBS:-$(nproc)}"
built=$SECONDS
oi_log "tsan: built in $((built - started))s"

# Inherited by the test binaries and by every proxy they start. halt_on_error=0: a test goes on
# and reports every race it meets; the process then exits 66.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4 \
suppressions=$OI_ROOT/tests/tsan.supp ${TSAN_OPTIONS:-}"

failed=0
for suite in unit_tests integration_tests; do
    oi_log "tsan: $suite"
    if ! "$build_dir/tests/$suite" --warn NoAssertions "$@"; then
        failed=1
    fi
done
oi_log "tsan: tests ran in $((SECONDS - built))s"
exit "$failed"
