#!/usr/bin/env bash
# End-to-end: `cachequeue worker --metrics-port`. A worker runs jobs that succeed, fail, time
# out and have no handler; /metrics is scraped while a job runs and after the others finished,
# checked with `promtool check metrics` (Prometheus' own parser) and by value: jobs by
# outcome, claims, the duration histogram, running jobs, and the figures of
# cachequeue.metrics() appended after the worker's. Also: a port in use is refused (exit 2),
# and the worker's resident memory stays under 20 MiB. Needs the cluster of scripts/test.sh.
set -euo pipefail
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

: "${PGHOST:?run through scripts/test.sh}"
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
runner="$repo/glue/cachequeue"
db=cq_e2e_metrics
work=$(mktemp -d /tmp/cq-e2e-metrics.XXXXXX)
worker_pid=

sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
fail() {
    echo "worker_metrics: $*" >&2
    [[ ! -f "$work/worker.log" ]] || tail -n 20 "$work/worker.log" >&2
    exit 1
}
cleanup() {
    [[ -z "$worker_pid" ]] || kill -9 "$worker_pid" 2>/dev/null || true
    "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
scrape() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(), end="")' \
        "http://127.0.0.1:$port/metrics"
}
# value NAME_AND_LABELS: the sample's value in $work/metrics.txt
value() {
    awk -v name="$1" '$1 == name { print $2 }' "$work/metrics.txt"
}

"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
sql -c "CREATE EXTENSION cachequeue"

cat >"$work/queue_config.json" <<'JSON'
{"QUEUES": {"mq": {"max_retries": 0, "timeout": 30},
            "mslow": {"max_retries": 0, "timeout": 3}},
 "HANDLERS": {"ok": ["/bin/true"],
              "bad": ["/bin/sh", "-c", "exit 3"],
              "sleepy": ["/bin/sleep", "30"]}}
JSON
export QUEUE_CONFIG_FILE="$work/queue_config.json"
export DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_NAME="$db" DB_USER="${PGUSER:-postgres}"
export DB_PASSWORD=""
unset DATABASE_URL USE_SUPABASE CACHEQUEUE_POOLER
cd "$work"
"$runner" queue sync >/dev/null
sql >/dev/null <<'SQL'
SELECT cachequeue.job_enqueue_many('mq', 'ok', array_fill('{}'::jsonb, ARRAY[5]));
SELECT cachequeue.job_enqueue_many('mq', 'bad', array_fill('{}'::jsonb, ARRAY[2]));
SELECT cachequeue.job_enqueue('mq', 'unknown_task');
SELECT cachequeue.job_enqueue('mslow', 'sleepy');
SQL

"$runner" worker mq mslow --concurrency 2 --metrics-port 0 >"$work/worker.log" 2>&1 &
worker_pid=$!
wait_for "the metrics address in the log" 10 grep -q "metrics at http://" "$work/worker.log"
port=$(sed -n 's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$work/worker.log")
[[ "$port" =~ ^[0-9]+$ ]] || fail "no port in the log"

# While the sleeper runs (it times out after 3 s), one job is running.
running_one() {
    scrape >"$work/metrics.txt" && [[ $(value cachequeue_worker_running_jobs) == 1 ]]
}
wait_for "running_jobs 1 while the sleeper runs" 3 running_one
echo "ok: running_jobs is 1 while a handler runs"

# Every job finished: none queued or running.
all_done() {
    [[ $(sql -c "SELECT count(*) FROM cachequeue.jobs WHERE status IN ('queued', 'running')") \
        == 0 ]]
}
wait_for "every job to finish" 20 all_done
# The worker counts an outcome just after recording it; give it that moment.
counted() {
    scrape >"$work/metrics.txt" &&
        [[ $(value 'cachequeue_worker_jobs_total{queue="mslow",task="sleepy",outcome="timed_out"}') \
            == 1 ]]
}
wait_for "the timed-out job to be counted" 5 counted

promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 ||
    fail "promtool check metrics: $(cat "$work/promtool.txt")"
echo "ok: promtool check metrics accepts the exposition"
expect "succeeded jobs" "$(value 'cachequeue_worker_jobs_total{queue="mq",task="ok",outcome="succeeded"}')" 5
expect "failed jobs" "$(value 'cachequeue_worker_jobs_total{queue="mq",task="bad",outcome="failed"}')" 2
expect "a job without a handler" \
    "$(value 'cachequeue_worker_jobs_total{queue="mq",task="unknown_task",outcome="no_handler"}')" 1
expect "claimed jobs" "$(value cachequeue_worker_claimed_jobs_total)" 9
claims=$(value cachequeue_worker_claims_total)
((claims >= 1)) || fail "claims_total is $claims"
echo "ok: claims counted ($claims)"
expect "no job running" "$(value cachequeue_worker_running_jobs)" 0
expect "no reconnection" "$(value cachequeue_worker_reconnects_total)" 0
expect "the histogram counts the 5 successes" \
    "$(value 'cachequeue_worker_job_duration_seconds_count{queue="mq",task="ok"}')" 5
expect "every success under +Inf" \
    "$(value 'cachequeue_worker_job_duration_seconds_bucket{queue="mq",task="ok",le="+Inf"}')" 5
python3 - "$work/metrics.txt" <<'PY' || fail "the timed-out job's duration is not about 3 s"
import sys
for line in open(sys.argv[1]):
    if line.startswith('cachequeue_worker_job_duration_seconds_sum{queue="mslow"'):
        assert 2.5 < float(line.split()[-1]) < 15, line
        sys.exit(0)
sys.exit(1)
PY
echo "ok: the timed-out job's duration"
# The test cluster preloads cachequeue: the database's own counters follow the worker's.
expect "cachequeue.metrics() is appended" \
    "$(value "cachequeue_counters_enabled{database=\"$db\"}")" 1
expect "the database counted the claims of queue mq" \
    "$(value "cachequeue_queue_jobs_claimed_total{database=\"$db\",queue=\"mq\"}")" 8
expect "the worker's figures come first" "$(head -n 1 "$work/metrics.txt" | cut -d' ' -f3)" \
    cachequeue_worker_job_duration_seconds

# ---- the worker's memory ----
rss_kib=$(ps -o rss= -p "$worker_pid" | tr -d ' ')
echo "worker RSS: $((rss_kib / 1024)) MiB"
((rss_kib < 20 * 1024)) || fail "the worker's RSS is $rss_kib KiB, over 20 MiB"
echo "ok: RSS under 20 MiB"

# ---- a port in use: refused at start, one line, exit 2 ----
rc=0
timeout 20 "$runner" worker mq --metrics-port "$port" >"$work/second.out" 2>"$work/second.err" || rc=$?
expect "a port in use: exit 2" "$rc" 2
grep -q "cannot serve metrics on 127.0.0.1:$port" "$work/second.err" ||
    fail "no clear error: $(cat "$work/second.err")"
echo "ok: a port in use is a clear error"

kill -TERM "$worker_pid"
wait "$worker_pid" || fail "the worker exited $? after SIGTERM"
worker_pid=
echo "worker_metrics: all checks passed"
