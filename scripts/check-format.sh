#!/usr/bin/env bash
# Fails, listing the files, when a tracked C++ file differs from what clang-format would write.
# Fix with: clang-format -i <files>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$OI_ROOT"
mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h')
bad=()
for f in "${files[@]}"; do
    [[ -f "$f" ]] || continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done

if ((${#bad[@]} > 0)); then
    printf 'not formatted (run clang-format -i):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
oi_log "format: ${#files[@]} files clean"
