#!/usr/bin/env bash
# bench/lib.sh's exit trap, which every benchmark installs with bench_traps: the script's own
# processes (its bench_before_stop) are stopped before the cluster, its work folder goes,
# and its exit status is kept. A second definition of bench_traps once skipped
# bench_before_stop, and the Django benchmark left its redis-server running. Needs no server.
set -euo pipefail
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
out=$(mktemp -d /tmp/cq-e2e-benchlib.XXXXXX)
fail() {
    echo "bench_lib: $*" >&2
    exit 1
}
cleanup() {
    [[ ! -f "$out/helper" ]] || kill "$(cat "$out/helper")" 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT

# run CODE: a benchmark-like script that sources bench/lib.sh, installs the traps, starts a
# process of its own, and exits with CODE.
run() {
    bash -c '
        set -euo pipefail
        work=$(mktemp -d "$2/work.XXXXXX")
        echo "$work" >"$2/work"
        source "$1/bench/lib.sh"
        bench_stop() { echo "stop $1" >>"$log"; }
        log=$2/log
        sleep 300 &
        helper=$!
        echo "$helper" >"$2/helper"
        bench_before_stop() {
            echo before >>"$log"
            kill "$helper"
        }
        bench_traps
        exit "$3"
    ' _ "$repo" "$out" "$1"
}

status=0
run 3 || status=$?
expect "the script's exit status is kept" "$status" 3
expect "bench_before_stop runs, then bench_stop" "$(tr '\n' ' ' <"$out/log")" "before stop 3 "
helper=$(cat "$out/helper")
wait_for "the script's own process to end" 5 bash -c "! kill -0 $helper 2>/dev/null"
echo "ok: the script's own process was stopped"
[[ ! -e "$(cat "$out/work")" ]] || fail "the work folder is still there"
echo "ok: the work folder is removed"

rm -f "$out/log"
run 0 || fail "a script that succeeds exits $?"
expect "a success runs the same steps" "$(tr '\n' ' ' <"$out/log")" "before stop 0 "
echo "bench_lib: all checks passed"
