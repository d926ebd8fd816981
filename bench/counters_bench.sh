#!/usr/bin/env bash
# What the shared-memory counters cost cache_get, on one throwaway cluster restarted alternately
# without and with cachequeue in shared_preload_libraries, BENCH_ROUNDS times each: pgbench
# runs of cache_get (and SELECT 1, the round-trip reference) at 1 and 4 clients. With the
# counters on, loops of BENCH_LOOP_CALLS cache_get calls inside one backend, with this
# session's counting (cachequeue.track_counters) off and on in turn, BENCH_LOOP_PAIRS times,
# give the server time the counters add to a call with no round trip in the way.
#
#   bash bench/counters_bench.sh
#
# Environment: BENCH_SECONDS (per measured run, default 10), BENCH_WARMUP (default 2),
# BENCH_ROUNDS (off/on alternations, default 3), BENCH_LOOP_CALLS (default 100000),
# BENCH_LOOP_PAIRS (default 10), BENCH_PIN (1: run each 1-client pass and its
# backend on CPU 0; default 1). The extension must be installed (make install).
# Output: a Markdown report on stdout and in bench/results/counters-latest.md.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
rounds=${BENCH_ROUNDS:-3}
loop_calls=${BENCH_LOOP_CALLS:-100000}
loop_pairs=${BENCH_LOOP_PAIRS:-10}
pin=${BENCH_PIN:-1}
db=cachequeue_bench
port=5438
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
[[ "$loop_calls" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOOP_CALLS must be a positive integer"
[[ "$loop_pairs" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOOP_PAIRS must be a positive integer"

work=$(mktemp -d /tmp/cqbench.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

bench_traps

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

declare -A tps=() loop_ns=()
# measure MODE ROUND SCRIPT CLIENTS: a warm-up and a measured run.
measure() {
    local out="$work/$1-$2-$3-c$4.out" t
    ((warmup == 0)) || pgbench_run "$out" "$3" "$4" "$warmup" || die "$3 warm-up failed"
    pgbench_run "$out" "$3" "$4" "$seconds" || { tail -n 15 "$out" >&2; die "$3 failed"; }
    t=$(tps_of "$out")
    [[ -n "$t" ]] || die "no TPS in $out"
    note "preload $1, round $2: $3 at $4 client(s): $t TPS"
    tps[$1,$2,$3,$4]=$t
}
# measure_loop ROUND: pairs of loops in one backend, counting off then on (ns per call).
loop_rows=()
measure_loop() {
    local row
    while read -r row; do
        loop_rows+=("$1 $row")
    done < <(value "SELECT round(off_ns) || ' ' || round(on_ns)
                    FROM bench_alternate($loop_calls, $loop_pairs)")
    note "round $1: $loop_pairs pairs of loops done"
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
-- Server time per cache_get, without a client round trip per call.
CREATE FUNCTION bench_loop(n integer) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz := clock_timestamp();
    found bigint;
BEGIN
    SELECT count(cachequeue.cache_get('bench', 'k' || (i % 10000 + 1))) INTO found
    FROM generate_series(1, n) i;
    IF found <> n THEN
        RAISE 'bench_loop: % of % keys found', found, n;
    END IF;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e9 / n;
END
\$\$;
CREATE FUNCTION bench_alternate(n integer, pairs integer)
RETURNS TABLE (off_ns float8, on_ns float8) LANGUAGE plpgsql AS \$\$
BEGIN
    FOR k IN 1..pairs LOOP
        PERFORM set_config('cachequeue.track_counters', 'off', false);
        off_ns := bench_loop(n);
        PERFORM set_config('cachequeue.track_counters', 'on', false);
        on_ns := bench_loop(n);
        RETURN NEXT;
    END LOOP;
END
\$\$;
EOF
pg_version=$(value "SHOW server_version")

for ((round = 1; round <= rounds; round++)); do
    for mode in off on; do
        note "round $round: restarting with preload $mode"
        restart_with "$mode"
        pin_server on
        [[ "$mode" == off ]] || measure_loop "$round"
        for c in 1 4; do
            ((c == 1)) || pin_server off
            measure "$mode" "$round" select1 "$c"
            measure "$mode" "$round" get_cache "$c"
        done
        pin_server off
    done
done
hits=$(value "SELECT hits FROM cachequeue.cache_stats('bench')")
elapsed=$((SECONDS - t_start))
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
library_after=$(library)

div() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}
# median VALUES...: the middle value (the lower middle of an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
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
    echo "- $rounds rounds, each restarting the server without and then with cachequeue" \
        "preloaded; pgbench -M prepared -n, -c N -j N, ${seconds}s per run after a" \
        "${warmup}s warm-up$( ((pin)) && echo "; 1-client runs and the loop pinned with" \
        "their backend to CPU 0")"
    echo "- load average before / after: $load_before / $load_after; total time: ${elapsed}s"
    echo "- hits counted in the last preloaded phase: $hits"
    echo
    echo "## Server time per call: loops of $loop_calls cache_get in one backend"
    echo
    echo "cachequeue preloaded; in each pair, a loop with this session's counting off"
    echo "(cachequeue.track_counters = off: one boolean test per call, as without preload),"
    echo "then one with it on. $loop_pairs pairs per round."
    echo
    local r c diffs=() speeds=() rows=() line off on
    for line in "${loop_rows[@]}"; do
        read -r r off on <<<"$line"
        diffs+=("$((on - off))")
        speeds+=("$(div "$off" "$on")")
    done
    echo "| pairs | ns per call, off (median) | ns per call, on (median) |" \
        "on - off, ns (median of pairs) | off / on, speed (median of pairs) |"
    echo "|---:|---:|---:|---:|---:|"
    echo "| ${#loop_rows[@]} |" \
        "$(median $(printf '%s\n' "${loop_rows[@]}" | cut -d ' ' -f 2)) |" \
        "$(median $(printf '%s\n' "${loop_rows[@]}" | cut -d ' ' -f 3)) |" \
        "$(median "${diffs[@]}") | **$(median "${speeds[@]}")** |"
    echo
    echo "The pairs, in ns (off on): $(printf '%s\n' "${loop_rows[@]}" | cut -d ' ' -f 2-3 |
        paste -sd ';' - | sed 's/;/; /g')."
    echo
    echo "## Through pgbench (a round trip per call)"
    echo
    echo "| round | clients | SELECT 1 off | SELECT 1 on | cache_get off | cache_get on |" \
        "cache_get on / off | the same, each over its SELECT 1 |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in 1 4; do
        rows=()
        for ((r = 1; r <= rounds; r++)); do
            local s_off=${tps[off,$r,select1,$c]} s_on=${tps[on,$r,select1,$c]}
            local g_off=${tps[off,$r,get_cache,$c]} g_on=${tps[on,$r,get_cache,$c]}
            rows+=("$(div "$(div "$g_on" "$s_on")" "$(div "$g_off" "$s_off")")")
            printf '| %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s |\n' "$r" "$c" "$s_off" \
                "$s_on" "$g_off" "$g_on" "$(div "$g_on" "$g_off")" "${rows[-1]}"
        done
        echo "| median | $c | | | | | | **$(median "${rows[@]}")** |"
    done
    echo
    echo "The loops measure the server's work per call with nothing else in the way, off and"
    echo "on a fraction of a second apart: the difference is what the counters add (two clock"
    echo "reads, a shared lock, three atomic additions). Through pgbench, the last column"
    echo "divides each phase's cache_get by its own SELECT 1, which takes out part of the drift"
    echo "of a shared machine between the phases."
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
