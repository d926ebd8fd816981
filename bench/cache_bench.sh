#!/usr/bin/env bash
# Cache benchmark of cachequeue: pgbench runs of the cache API against hand-written SQL and
# Django 3.2's DatabaseCache statements, at 1 and 4 clients (see bench/README.md).
#
#   bash bench/cache_bench.sh            # throwaway cluster on port 5434, stopped at the end
#   bash bench/cache_bench.sh --reuse    # use the running server named by PGHOST/PGPORT
#
# Environment: BENCH_SECONDS (per measured run, default 10), BENCH_CULL_SECONDS (the runs
# of set_cache_10k and set_cache_1m, default 60), BENCH_WARMUP (default 2),
# BENCH_PIN (1: run each 1-client pass and its backend on CPU 0; default 1 on the script's
# own cluster, always 0 with --reuse), BENCH_DB (database, recreated; default
# cachequeue_bench), BENCH_LOAD_JOBS (sessions that
# preload caches, default 2), BENCH_LOAD_BATCH (keys per cache_set_many call, default 1000),
# BENCH_ONLY (space-separated workload names to run; default all).
# The extension must be installed (make install).
# Output: a Markdown table on stdout and in bench/results/cache-latest.md.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
cull_seconds=${BENCH_CULL_SECONDS:-60}
db=${BENCH_DB:-cachequeue_bench}
load_jobs=${BENCH_LOAD_JOBS:-2}
load_batch=${BENCH_LOAD_BATCH:-1000}
pin=${BENCH_PIN:-1}
only=${BENCH_ONLY:-}
port=5434
results="$bench/results/cache-latest.md"

die() {
    echo "cache_bench: error: $*" >&2
    exit 1
}
note() {
    echo "cache_bench [${SECONDS}s]: $*" >&2
}

reuse=0
case "${1:-}" in
    --reuse) reuse=1 ;;
    "") ;;
    *) die "usage: $0 [--reuse]" ;;
esac
(($# <= 1)) || die "usage: $0 [--reuse]"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ "$load_jobs" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOAD_JOBS must be a positive integer"
[[ "$load_batch" =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOAD_BATCH must be a positive integer"
[[ "$pin" =~ ^[01]$ ]] || die "BENCH_PIN must be 0 or 1"
((reuse == 0)) || pin=0
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"

work=$(mktemp -d /tmp/cqbench.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"

bench_traps


bench_connect
value_sql="decode(repeat('ab', 100), 'hex')"

# load_cache NAME MAX_ENTRIES KEYS: (re)creates a cache and fills it with k1..kKEYS through
# cache_set_many, in batches of BENCH_LOAD_BATCH keys spread over BENCH_LOAD_JOBS sessions.
load_cache() {
    local name=$1 max=$2 keys=$3 batch=$load_batch job first pids=()
    sql -c "SELECT cachequeue.cache_drop(name) FROM cachequeue.caches WHERE name = '$name'" \
        -c "SELECT cachequeue.cache_create('$name', 3600, $max, 4, true)" >/dev/null
    for ((job = 0; job < load_jobs; job++)); do
        for ((first = 1 + job * batch; first <= keys; first += load_jobs * batch)); do
            printf "SELECT cachequeue.cache_set_many('%s', array_agg('k' || i), " "$name"
            printf "array_agg(%s)) FROM generate_series(%d, %d) i;\n" "$value_sql" \
                "$first" "$((first + batch - 1 < keys ? first + batch - 1 : keys))"
        done | sql >/dev/null &
        pids+=($!)
    done
    for job in "${pids[@]}"; do
        wait "$job" || die "preloading cache $name failed"
    done
    local total
    total=$(sql -Atc "SELECT total FROM cachequeue.cache_stats('$name')")
    ((total == keys)) || die "cache $name holds $total entries after the preload, not $keys"
}

cache_total() {
    sql -Atc "SELECT total FROM cachequeue.cache_stats('$1')"
}

setup() {
    sql -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    sql >/dev/null <<EOF
CREATE EXTENSION cachequeue;
CREATE UNLOGGED TABLE bench_hand (key text PRIMARY KEY, value bytea NOT NULL,
    expires timestamptz NOT NULL);
INSERT INTO bench_hand SELECT 'k' || i, $value_sql, now() + interval '3600 s'
    FROM generate_series(1, 10000) i;
-- The same with 1,000,000 rows: what the size of the data alone costs an upsert.
CREATE UNLOGGED TABLE bench_hand_1m (key text PRIMARY KEY, value bytea NOT NULL,
    expires timestamptz NOT NULL);
INSERT INTO bench_hand_1m SELECT 'k' || i, $value_sql, now() + interval '3600 s'
    FROM generate_series(1, 1000000) i;
-- The table Django's createcachetable makes, index on expires included.
CREATE UNLOGGED TABLE django_cache (cache_key varchar(255) PRIMARY KEY,
    value text NOT NULL, expires timestamptz NOT NULL);
CREATE INDEX django_cache_expires ON django_cache (expires);
INSERT INTO django_cache SELECT 'k' || i, '$django_b64', now() + interval '3600 s'
    FROM generate_series(1, 10000) i;
EOF
    load_cache bench 20000 10000
    sql -c "VACUUM ANALYZE" >/dev/null
}

# The 100-byte value, as bytea input text, sent as a statement parameter.
value_param="\\x$(printf 'ab%.0s' {1..100})"
# What Django stores for that value: base64 of pickle.dumps(b'\xab' * 100, protocol 5).
django_b64="gAWVaAAAAAAAAABDZKurq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6"
django_b64+="urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6uULg=="

declare -A tps=()
failed=0
notes=()


# pgbench_run OUT SCRIPT CLIENTS SECONDS NKEYS
pgbench_run() {
    local prefix=()
    ((pin && $3 == 1)) && prefix=(taskset -c 0)
    "${prefix[@]}" "$bindir/pgbench" -M prepared -n -c "$3" -j "$3" -T "$4" \
        -f "$bench/sql/$2.sql" \
        -D nkeys="$5" -D value="$value_param" -D b64="$django_b64" >"$1" 2>&1
}

# workload NAME NKEYS [WARMUP_NKEYS CACHE KEYS SECONDS]: a warm-up pass and a measured pass
# at 1 and 4 clients. With CACHE, each client count starts from that cache freshly loaded with
# KEYS keys (max_entries KEYS), and the number of entries left afterwards is noted.
workload() {
    local name=$1 nkeys=$2 warm_nkeys=${3:-$2} cache=${4:-} keys=${5:-} c out t0
    local seconds=${6:-$seconds}
    [[ -z "$only" || " $only " == *" $name "* ]] || return 0
    for c in 1 4; do
        if [[ -n "$cache" ]]; then
            t0=$SECONDS
            note "loading cache $cache with $keys keys"
            load_cache "$cache" "$keys" "$keys"
            notes+=("$name, $c client(s): preload of $keys keys took $((SECONDS - t0)) s")
        fi
        out="$work/$name-c$c.out"
        note "$name, $c client(s): warm-up ${warmup}s, then ${seconds}s"
        ((c == 1)) && pin_server on
        if ((warmup > 0)) && ! pgbench_run "$out" "$name" "$c" "$warmup" "$warm_nkeys"; then
            tps[$name,$c]=error
        elif ! pgbench_run "$out" "$name" "$c" "$seconds" "$nkeys"; then
            tps[$name,$c]=error
        else
            tps[$name,$c]=$(sed -n \
                's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
            [[ -n "${tps[$name,$c]}" ]] || tps[$name,$c]=error
        fi
        pin_server off
        if [[ "${tps[$name,$c]}" == error ]]; then
            failed=1
            note "$name at $c client(s) failed; pgbench said:"
            tail -n 15 "$out" >&2
        elif [[ -n "$cache" ]]; then
            notes+=("$name, $c client(s): $cache holds $(cache_total "$cache") entries after")
        fi
    done
}


t_start=$SECONDS
library_before=$(library)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
note "setup of database $db"
setup
pg_version=$(sql -Atc "SHOW server_version")
ext_version=$(sql -Atc "SELECT extversion FROM pg_extension WHERE extname = 'cachequeue'")

workload select1 1
workload get_cache 10000
workload get_hand 10000
# Writes to 'bench' use max_entries 10,000 (culling enabled; every key already exists).
sql -c "SELECT cachequeue.cache_create('bench', 3600, 10000, 4, true)" >/dev/null
workload set_cache 10000
workload set_hand 10000
workload set_hand_1m 1000000
workload set_django 10000
# Each client count starts from a freshly loaded cache, full to max_entries: the warm-up's
# first new key culls it. The measured window then holds culls at their steady rate, which
# for 1,000,000 entries is one about every 250,000 new keys: it must be long enough to span
# such cycles (BENCH_CULL_SECONDS), or the figure depends on whether a cull fell inside.
workload set_cache_10k 11000 11000 bench10k 10000 "$cull_seconds"
workload set_cache_1m 1100000 1100000 bench1m 1000000 "$cull_seconds"
elapsed=$((SECONDS - t_start))
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
library_after=$(library)

# ratio A B CLIENTS: A's TPS over B's, two decimals, or n/a.
ratio() {
    local a=${tps[$1,$3]:-} b=${tps[$2,$3]:-}
    if [[ "$a" == error || "$b" == error || -z "$a" || -z "$b" ]]; then
        echo n/a
    else
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
    fi
}
# meets A B TARGET: yes when the ratio reaches TARGET at both client counts.
meets() {
    local r1 r4
    [[ "$3" == - ]] && { echo -; return; }
    r1=$(ratio "$1" "$2" 1)
    r4=$(ratio "$1" "$2" 4)
    [[ "$r1" == n/a || "$r4" == n/a ]] && { echo n/a; return; }
    awk -v a="$r1" -v b="$r4" -v t="$3" 'BEGIN { print (a >= t && b >= t ? "yes" : "no") }'
}

tps_text() {
    if [[ "$1" == error ]]; then
        echo error
    else
        awk -v t="$1" 'BEGIN { printf "%.0f", t }'
    fi
}

report() {
    local name c ratio_row
    echo "# cachequeue cache benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n 1)"
    echo "- PostgreSQL: $pg_version; cachequeue $ext_version (library md5 $library_before)"
    if [[ "$library_after" != "$library_before" ]]; then
        echo "- **WARNING: cachequeue.so was reinstalled during the run (md5 now" \
            "$library_after): the results mix two builds; run again**"
    fi
    echo "- pgbench -M prepared -n, -c N -j N, ${seconds}s per run after a ${warmup}s warm-up" \
        "(set_cache_10k and set_cache_1m: ${cull_seconds}s)"
    if ((pin)); then
        echo "- 1-client runs pinned with their backend to CPU 0 (BENCH_PIN=1)"
    else
        echo "- 1-client runs not pinned (BENCH_PIN=0)"
    fi
    echo "- load average before / after: $load_before / $load_after"
    echo "- total time: ${elapsed}s"
    echo
    echo "| workload | clients | TPS |"
    echo "|---|---:|---:|"
    for name in select1 get_cache get_hand set_cache set_hand set_hand_1m set_django \
        set_cache_10k set_cache_1m; do
        for c in 1 4; do
            [[ -n "${tps[$name,$c]:-}" ]] || continue
            echo "| $name | $c | $(tps_text "${tps[$name,$c]}") |"
        done
    done
    echo
    echo "| ratio | 1 client | 4 clients | target | met |"
    echo "|---|---:|---:|---:|---|"
    while read -r a b target; do
        ratio_row="| $a/$b | $(ratio "$a" "$b" 1) | $(ratio "$a" "$b" 4)"
        [[ "$target" == - ]] || target=">= $target"
        echo "$ratio_row | $target | $(meets "$a" "$b" "${target#>= }") |"
    done <<EOF
get_cache select1 0.8
get_hand select1 -
get_cache get_hand 1.0
set_cache set_hand 1.0
set_cache set_django 10
set_cache_1m set_cache_10k 0.85
set_hand_1m set_hand -
EOF
    echo
    for c in "${notes[@]}"; do
        echo "- $c"
    done
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
((failed == 0)) || die "some workloads failed (marked 'error' above)"
