#!/usr/bin/env bash
# What the shared-memory counters cost cache_get: pgbench runs of cache_get (and SELECT 1, the
# round-trip reference) on one throwaway cluster, restarted alternately without and with
# cachequeue in shared_preload_libraries, BENCH_ROUNDS times each, at 1 and 4 clients.
#
#   bash bench/counters_bench.sh
#
# Environment: BENCH_SECONDS (per measured run, default 10), BENCH_WARMUP (default 2),
# BENCH_ROUNDS (off/on alternations, default 2), BENCH_PIN (1: run each 1-client pass and its
# backend on CPU 0; default 1). The extension must be installed (make install).
# Output: a Markdown report on stdout and in bench/results/counters-latest.md.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
rounds=${BENCH_ROUNDS:-2}
pin=${BENCH_PIN:-1}
db=cachequeue_bench
port=5436
reuse=0
results="$bench/results/counters-latest.md"

die() {
    echo "counters_bench: error: $*" >&2
    exit 1
}
note() {
    echo "counters_bench [${SECONDS}s]: $*" >&2
}

(($# == 0)) || die "usage: $0 (no arguments; see the environment variables in the header)"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ "$pin" =~ ^[01]$ ]] || die "BENCH_PIN must be 0 or 1"

work=$(mktemp -d /tmp/cqbench.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

cleanup() {
    local rc=$?
    bench_stop "$rc"
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# restart_with off|on: restarts the cluster without or with cachequeue preloaded.
restart_with() {
    local line="# cachequeue not preloaded"
    [[ "$1" == on ]] && line="shared_preload_libraries = 'cachequeue'"
    echo "$line" | pg_run tee "$cluster/data/preload.conf" >/dev/null
    pg_run "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/log/postgresql.log" -m fast -w \
        -t 60 restart >/dev/null || die "the server did not restart"
    pm_pid= # pin_server reads the new postmaster's pid
    local enabled
    enabled=$(value "SELECT enabled FROM cachequeue.counters_status()")
    [[ "$enabled" == "$([[ "$1" == on ]] && echo t || echo f)" ]] ||
        die "counters enabled = $enabled with preload $1"
}

value_param="\\x$(printf 'ab%.0s' {1..100})"
# pgbench_run OUT SCRIPT CLIENTS SECONDS
pgbench_run() {
    local prefix=()
    ((pin && $3 == 1)) && prefix=(taskset -c 0)
    "${prefix[@]}" "$bindir/pgbench" -M prepared -n -c "$3" -j "$3" -T "$4" \
        -f "$bench/sql/$2.sql" -D nkeys=10000 -D value="$value_param" >"$1" 2>&1
}

declare -A sum=() runs=()
# measure MODE SCRIPT CLIENTS: a warm-up and a measured run; adds the TPS to the mode's sum.
measure() {
    local out="$work/$1-$2-c$3.out" t
    ((warmup == 0)) || pgbench_run "$out" "$2" "$3" "$warmup" || die "$2 warm-up failed"
    pgbench_run "$out" "$2" "$3" "$seconds" || { tail -n 15 "$out" >&2; die "$2 failed"; }
    t=$(tps_of "$out")
    [[ -n "$t" ]] || die "no TPS in $out"
    note "preload $1: $2 at $3 client(s): $t TPS"
    sum[$1,$2,$3]=$(awk -v a="${sum[$1,$2,$3]:-0}" -v b="$t" 'BEGIN { print a + b }')
    runs[$1,$2,$3]=$((${runs[$1,$2,$3]:-0} + 1))
}

t_start=$SECONDS
library_before=$(library)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
bench_connect
echo "include_if_exists 'preload.conf'" | pg_run tee -a "$cluster/data/postgresql.conf" >/dev/null
sql -d postgres -c "CREATE DATABASE $db" >/dev/null
sql >/dev/null <<EOF
CREATE EXTENSION cachequeue;
SELECT cachequeue.cache_create('bench', 3600, 20000, 4, true);
SELECT cachequeue.cache_set_many('bench', array_agg('k' || i),
    array_agg(decode(repeat('ab', 100), 'hex'))) FROM generate_series(1, 10000) i;
VACUUM ANALYZE;
EOF
pg_version=$(value "SHOW server_version")

for ((round = 1; round <= rounds; round++)); do
    for mode in off on; do
        note "round $round: restarting with preload $mode"
        restart_with "$mode"
        for c in 1 4; do
            ((c == 1)) && pin_server on
            measure "$mode" select1 "$c"
            measure "$mode" get_cache "$c"
            pin_server off
        done
    done
done
hits=$(value "SELECT hits FROM cachequeue.cache_stats('bench')")
elapsed=$((SECONDS - t_start))
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
library_after=$(library)

mean() {
    awk -v s="${sum[$1,$2,$3]}" -v n="${runs[$1,$2,$3]}" 'BEGIN { printf "%.0f", s / n }'
}
div() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

report() {
    echo "# cachequeue counters benchmark: cache_get with and without the counters"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n 1); other PostgreSQL servers running: $(other_servers)"
    echo "- PostgreSQL: $pg_version; cachequeue library md5 $library_before"
    if [[ "$library_after" != "$library_before" ]]; then
        echo "- **WARNING: cachequeue.so was reinstalled during the run; run again**"
    fi
    echo "- pgbench -M prepared -n, -c N -j N, ${seconds}s per run after a ${warmup}s warm-up;" \
        "$rounds rounds, each restarting the server without and then with cachequeue preloaded"
    ((pin)) && echo "- 1-client runs pinned with their backend to CPU 0"
    echo "- load average before / after: $load_before / $load_after; total time: ${elapsed}s"
    echo "- hits counted in the last preloaded phase: $hits"
    echo
    echo "| clients | SELECT 1 off | SELECT 1 on | cache_get off | cache_get on |" \
        "cache_get on / off | the same, each over its SELECT 1 |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    local c s_off s_on g_off g_on
    for c in 1 4; do
        s_off=$(mean off select1 "$c")
        s_on=$(mean on select1 "$c")
        g_off=$(mean off get_cache "$c")
        g_on=$(mean on get_cache "$c")
        echo "| $c | $s_off | $s_on | $g_off | $g_on | $(div "$g_on" "$g_off") |" \
            "$(div "$(div "$g_on" "$s_on")" "$(div "$g_off" "$s_off")") |"
    done
    echo
    echo "TPS are means over the rounds. The last column corrects for the machine's drift"
    echo "between phases: cache_get/SELECT 1 with the counters over the same without them."
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
