#!/usr/bin/env bash
# Django cache API benchmark: Django's DatabaseCache, django-redis (against a redis-server
# this script starts on a Unix socket) and cachequeue's backend, get and set at 1 and 4
# processes, all in one run (see bench/README.md).
#
#   bash bench/django_bench.sh            # throwaway cluster on port 5437, stopped at the end
#
# Environment: BENCH_SECONDS (per measured run, default 5), BENCH_WARMUP (default 1),
# BENCH_DB (database, recreated; default cachequeue_django_bench), BENCH_PIN (1: run each
# 1-process pass on CPU 0 with the PostgreSQL server and redis-server; default 1). The extension must be
# installed (make install). Output: Markdown on stdout and in bench/results/django-latest.md.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
db=${BENCH_DB:-cachequeue_django_bench}
pin=${BENCH_PIN:-1}
port=5437
reuse=0
results="$bench/results/django-latest.md"

die() {
    echo "django_bench: error: $*" >&2
    exit 1
}
(($# == 0)) || die "usage: $0 (no arguments; see the environment variables in the header)"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"
[[ "$pin" =~ ^[01]$ ]] || die "BENCH_PIN must be 0 or 1"
command -v redis-server >/dev/null || die "redis-server not found; run scripts/deps.sh"

work=$(mktemp -d /tmp/cqbench-django.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"
redis_pid=

bench_before_stop() {
    [[ -z "$redis_pid" ]] || kill "$redis_pid" 2>/dev/null || true
}
bench_traps

bench_connect
sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
    -c "CREATE DATABASE $db"
sql -c "CREATE EXTENSION cachequeue"
# The time of each WAL flush, for the report (pg_stat_wal.wal_sync_time).
sql -c "ALTER SYSTEM SET track_wal_io_timing = on" -c "SELECT pg_reload_conf()" >/dev/null
sql -c "SELECT cachequeue.cache_create('bench_unlogged', 300, 10000, 4, true)" \
    -c "SELECT cachequeue.cache_create('bench_logged', 300, 10000, 4, false)" >/dev/null
# Django's own table, as `manage.py createcachetable` makes it.
sql <<'SQL'
CREATE TABLE django_cache_table (cache_key varchar(255) PRIMARY KEY, value text NOT NULL,
                                 expires timestamp with time zone NOT NULL);
CREATE INDEX django_cache_table_expires ON django_cache_table (expires);
SQL

redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
    --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do
    [[ -S "$work/redis.sock" ]] && break
    sleep 0.1
done
[[ -S "$work/redis.sock" ]] || die "redis-server did not start (log: $work/redis.log)"

library_before=$(library)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
others=$(other_servers)
SECONDS=0
pin_pids=()
((pin == 0)) || pin_pids=(--pin "$(head -n 1 "$cluster/data/postmaster.pid")" "$redis_pid")
/usr/bin/python3 "$bench/django_bench.py" --redis-socket "$work/redis.sock" \
    --seconds "$seconds" --warmup "$warmup" "${pin_pids[@]}" >"$work/tables.md"
elapsed=$SECONDS
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
library_after=$(library)

report() {
    echo "# cachequeue Django cache benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n 1)"
    echo "- PostgreSQL: $(value 'SHOW server_version'); cachequeue" \
        "$(value "SELECT extversion FROM pg_extension WHERE extname = 'cachequeue'")" \
        "(library md5 $library_before); Django $(/usr/bin/python3 -c \
        'import django; print(django.get_version())'); django-redis $(/usr/bin/python3 -c \
        'import django_redis; print(django_redis.__version__)');" \
        "$(redis-server --version | cut -d ' ' -f 1-3)"
    if [[ "$library_after" != "$library_before" ]]; then
        echo "- **the library changed during the run ($library_after): run again**"
    fi
    echo "- operations per second through Django's cache API (\`cache.get\`, \`cache.set\` of a"
    echo "  100-character string, 1,000 keys, TIMEOUT 300, MAX_ENTRIES 10000, CULL_FREQUENCY 4),"
    echo "  ${seconds}s per run after a ${warmup}s warm-up; N processes with a connection each,"
    echo "  on the same machine as PostgreSQL (synchronous_commit on) and redis-server (a Unix"
    echo "  socket, no persistence); DatabaseCache's table is logged, as createcachetable makes it"
    if ((pin)); then
        echo "- 1-process runs pinned to CPU 0 with the PostgreSQL server and redis-server" \
            "(BENCH_PIN=1)"
    fi
    echo "- load average before / after: $load_before / $load_after; other PostgreSQL servers" \
        "running: $others"
    echo "- total time: ${elapsed}s"
    echo
    cat "$work/tables.md"
}
mkdir -p "$(dirname "$results")"
report | tee "$results"
