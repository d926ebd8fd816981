# Helpers the end-to-end scripts source (this folder is not run as a test). The script
# defines fail MESSAGE, which reports and exits.

# expect WHAT ACTUAL EXPECTED
expect() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
    echo "ok: $1"
}

# wait_for WHAT SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    local what=$1 deadline=$((SECONDS + $2))
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || fail "timed out waiting for $what"
        sleep 0.1
    done
}
