# Sourced by bash before every shell program (BASH_ENV): assertion helpers that count, as evidence
# that the tests ran. `assert CMD [ARGS...]` runs a test command (`assert [ "$(add 1 2)" = 3 ]`),
# `assert_eq ACTUAL EXPECTED` compares two strings; a failed one says so on stderr and exits 1.
# At exit one line `__AIEV_HARNESS_<nonce>__ {"assertions": N}` goes to fd 3, the runner's report
# pipe (a program that sets its own EXIT trap replaces this one). Evidence, not a boundary.
__aiev_assertions=0

assert() {
    __aiev_assertions=$((__aiev_assertions + 1))
    "$@" && return 0
    printf 'assertion failed: %s\n' "$*" >&2
    exit 1
}

assert_eq() {
    __aiev_assertions=$((__aiev_assertions + 1))
    [ "$1" = "$2" ] && return 0
    printf 'assertion failed: expected "%s", got "%s"\n' "$2" "$1" >&2
    exit 1
}

__aiev_report() {
    { printf '\n__AIEV_HARNESS_%s__ {"assertions": %d}\n' "$AIEV_HARNESS_NONCE" "$__aiev_assertions" >&3; } 2>/dev/null
}
trap __aiev_report EXIT
