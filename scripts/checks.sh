# Pass/fail counting for the scripts that print one line per check (tests/e2e/,
# docker/smoke_test.sh). Sourced, not executed.

passed=0
failed=0
# check DESCRIPTION COMMAND...: runs COMMAND and counts it as passed when it succeeds.
check() {
    local description="$1"
    shift
    if "$@"; then
        passed=$((passed + 1))
        printf 'ok - %s\n' "$description"
    else
        failed=$((failed + 1))
        printf 'FAIL - %s\n' "$description"
    fi
}

# Prints the totals and fails when a check failed.
finish() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    ((failed == 0))
}

# equals A B: whether the two strings are the same (a command for check).
equals() { [[ "$1" == "$2" ]]; }
