#!/usr/bin/env bash
# End-to-end: cachequeue.metrics() on the test cluster (cachequeue preloaded) after real cache
# and queue work is a valid Prometheus exposition (promtool check metrics), exports every
# family agreed with the worker (with its type), and the Grafana dashboard in monitoring/
# queries only metrics that are exported: those of that real output and the worker's list in
# monitoring/worker_metrics.txt. The scrape configuration passes promtool check config.
# Needs the cluster of scripts/test.sh (PGHOST, PGPORT).
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
repo=$(realpath "$(dirname "$script_path")/../..")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
db=cq_e2e_monitoring
work=$(mktemp -d)

sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
fail() {
    echo "monitoring: $*" >&2
    exit 1
}
cleanup() {
    "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}

"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap cleanup EXIT

# Real work: the Django application's cache and queues, a hit, a miss, a cull, jobs in every
# state the counters see.
sql >/dev/null <<'SQL'
CREATE EXTENSION cachequeue;
SELECT cachequeue.cache_create('pages', max_entries => 3, cull_frequency => 2);
SELECT cachequeue.cache_set('pages', 'k' || i, 'v') FROM generate_series(1, 5) i;
SELECT cachequeue.cache_get('pages', 'k5'), cachequeue.cache_get('pages', 'nope');
SELECT cachequeue.queue_create('email', 3, '30 s', 5);
SELECT cachequeue.queue_create('report', 0, '300 s', 3);
SELECT cachequeue.job_enqueue('email', 'send_email', '{"to": "a@example.org"}');
SELECT cachequeue.job_enqueue('report', 'generate_report', '{"study": 7}');
SELECT cachequeue.job_complete(id, lease) FROM cachequeue.job_claim(ARRAY['email'], 'w');
SELECT cachequeue.job_fail(id, lease, 'boom') FROM cachequeue.job_claim(ARRAY['report'], 'w');
SQL
sql -c "SELECT cachequeue.metrics()" >"$work/metrics.txt"

promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics failed"
echo "ok: promtool check metrics"

# The families agreed with the worker (/work/briefs/metrics.md), each with its type.
while read -r name type; do
    grep -qx "# TYPE $name $type" "$work/metrics.txt" || fail "no $type family $name"
done <<'EOF'
cachequeue_counters_enabled gauge
cachequeue_cache_hits_total counter
cachequeue_cache_misses_total counter
cachequeue_cache_sets_total counter
cachequeue_cache_culled_entries_total counter
cachequeue_cache_operation_duration_seconds histogram
cachequeue_cache_entries gauge
cachequeue_queue_jobs_enqueued_total counter
cachequeue_queue_jobs_claimed_total counter
cachequeue_queue_jobs_completed_total counter
cachequeue_queue_jobs_failed_total counter
cachequeue_queue_jobs_dead_total counter
cachequeue_queue_lease_expiries_total counter
cachequeue_queue_jobs gauge
cachequeue_queue_depth gauge
cachequeue_queue_oldest_waiting_seconds gauge
cachequeue_queue_paused gauge
EOF
echo "ok: every agreed family is exported with its type"
grep -qx "cachequeue_queue_jobs_dead_total{database=\"$db\",queue=\"report\"} 1" \
    "$work/metrics.txt" || fail "the dead job of report is not counted"
grep -qx "cachequeue_cache_culled_entries_total{database=\"$db\",cache=\"pages\"} 2" \
    "$work/metrics.txt" || fail "the cull of pages is not counted"
echo "ok: the work shows in the counters"

dashboard="$repo/monitoring/grafana-dashboard.json"
/usr/bin/python3 "$repo/monitoring/check_names.py" "$dashboard" "$work/metrics.txt" \
    "$repo/monitoring/worker_metrics.txt" || fail "the dashboard queries unexported metrics"
# The check can fail: a dashboard querying a misspelt name is refused.
sed 's/cachequeue_queue_depth/cachequeue_queue_dept/' "$dashboard" >"$work/bad.json"
if /usr/bin/python3 "$repo/monitoring/check_names.py" "$work/bad.json" "$work/metrics.txt" \
    "$repo/monitoring/worker_metrics.txt" 2>/dev/null; then
    fail "check_names.py accepted a misspelt metric"
fi
echo "ok: the dashboard queries exported metrics only"

promtool check config "$repo/monitoring/prometheus.yml" >/dev/null ||
    fail "promtool check config monitoring/prometheus.yml failed"
echo "ok: promtool check config"
echo "monitoring: all checks passed"
