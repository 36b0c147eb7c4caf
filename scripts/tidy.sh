#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy at the root) on the sources under proxy/, or on the files given,
# using compile_commands.json from the build directory (scripts/setup.sh writes it). Slow on two
# cores: it is a developer tool, not a CI step yet. Exits non-zero when any warning is reported.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_dir="$(oi_build_dir)"
[[ -f "$build_dir/compile_commands.json" ]] || oi_die "run scripts/setup.sh first"

cd "$OI_ROOT"
if (($# > 0)); then
    files=("$@")
else
    mapfile -t files < <(git ls-files -- 'proxy/*.cpp')
fi

status=0
for f in "${files[@]}"; do
    clang-tidy -p "$build_dir" --quiet "$f" || status=1
done
exit "$status"
