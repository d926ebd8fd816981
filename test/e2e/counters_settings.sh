#!/usr/bin/env bash
# End-to-end: the shared-memory counters in the two cluster set-ups the main test cluster does
# not have. A second, short-lived cluster (port CQ_SPARE_PORT, default PGPORT + 50) starts
#   1. with cachequeue preloaded and cachequeue.counters_max_objects = 10: a full table leaves
#      new objects uncounted, counts them as discarded and says so, and reset makes room;
#   2. without shared_preload_libraries: every function works, the stats say the counters are
#      off (with a hint), metrics() has cachequeue_counters_enabled 0 and no counter families.
# Both expositions are checked with promtool. Needs scripts/test.sh's environment (PGPORT).
set -euo pipefail

fail() {
    echo "counters_settings: $*" >&2
    exit 1
}
spare_name=cq-counters
spare_offset=50
# shellcheck source=lib/spare_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/spare_cluster.sh"
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
check_exposition() {
    sql -c "SELECT cachequeue.metrics()" >"$dir/metrics.txt"
    promtool check metrics <"$dir/metrics.txt" || fail "promtool check metrics: $1"
    echo "ok: promtool check metrics ($1)"
}

# 1. Preloaded, with room for 10 objects (over all databases).
spare_start "shared_preload_libraries = 'cachequeue'" "cachequeue.counters_max_objects = 10"
sql -c "CREATE EXTENSION cachequeue" \
    -c "SELECT cachequeue.cache_create('c' || i) FROM generate_series(1, 12) i" >/dev/null
sql -c "SELECT cachequeue.cache_get('c' || i, 'k') FROM generate_series(1, 12) i" >/dev/null
expect "full table: objects, discarded" \
    "$(sql -c "SELECT objects || ' ' || discarded FROM cachequeue.counters_status()")" "10 2"
expect "full table: a hint" \
    "$(sql -c "SELECT hint LIKE '%counters_max_objects%' FROM cachequeue.counters_status()")" t
expect "counted caches" "$(sql -c "SELECT count(*) FILTER (WHERE misses = 1) || ' '
    || count(*) FILTER (WHERE misses = 0)
    FROM cachequeue.cache_stats() WHERE cache <> 'default'")" "10 2"
check_exposition "preloaded, table full"
sql -c "SELECT cachequeue.counters_reset()" >/dev/null
expect "reset frees the table" \
    "$(sql -c "SELECT objects FROM cachequeue.counters_status()")" 0
sql -c "SELECT cachequeue.cache_get('c12', 'k')" >/dev/null
expect "counted after reset" "$(sql -c "SELECT misses FROM cachequeue.cache_stats('c12')")" 1
expect "the setting needs a restart" \
    "$(sql -c "SELECT context FROM pg_settings WHERE name = 'cachequeue.counters_max_objects'")" \
    postmaster

# 2. Not preloaded: everything works, the counters say they are off.
spare_start "# no shared_preload_libraries"
sql -c "SELECT cachequeue.cache_set('c1', 'k', 'v')" >/dev/null
expect "a cache works" "$(sql -c "SELECT convert_from(cachequeue.cache_get('c1', 'k'), 'UTF8')")" v
sql -c "SELECT cachequeue.queue_create('q')" -c "SELECT cachequeue.job_enqueue('q', 't')" \
    >/dev/null
claim=$(sql -c "SELECT id || ' ' || lease FROM cachequeue.job_claim(ARRAY['q'], 'w')")
sql -c "SELECT cachequeue.job_complete(${claim%% *}, '${claim#* }')" >/dev/null
expect "a queue works" "$(sql -c "SELECT succeeded FROM cachequeue.queue_stats()")" 1
expect "status: off, with a hint" "$(sql -c "SELECT enabled || ' '
    || (objects IS NULL AND max_objects IS NULL AND discarded IS NULL) || ' '
    || (hint LIKE '%shared_preload_libraries%') FROM cachequeue.counters_status()")" \
    "false true true"
expect "cache_stats: hits and misses NULL" \
    "$(sql -c "SELECT hits IS NULL AND misses IS NULL FROM cachequeue.cache_stats('c1')")" t
notice=$(sql -c "SELECT cachequeue.counters_reset()" 2>&1)
[[ "$notice" == *"counters are off"* && "$notice" == *"HINT"* ]] ||
    fail "counters_reset without preload: got '$notice'"
echo "ok: counters_reset says the counters are off"
check_exposition "not preloaded"
grep -qx 'cachequeue_counters_enabled{database="postgres"} 0' "$dir/metrics.txt" ||
    fail "no cachequeue_counters_enabled 0"
! grep -q '_total{' "$dir/metrics.txt" || fail "counter families without the counters"
grep -q '^cachequeue_queue_jobs{database="postgres",queue="q",status="succeeded"} 1$' \
    "$dir/metrics.txt" || fail "queue gauges missing without the counters"
echo "ok: the exposition without counters"
echo "counters_settings: all checks passed"
