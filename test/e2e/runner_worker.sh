#!/usr/bin/env bash
# End-to-end: `cachequeue worker` against the real server, directly and through PgBouncer in
# transaction mode. Jobs of the three queues run through a command handler and long-lived
# handlers; failures, a missing handler and a timeout end in the right state; a worker killed
# with SIGKILL mid-job loses nothing (the job runs again after its lease and completes once);
# SIGTERM drains; a restarted PostgreSQL is survived; 4 workers on 2,000 jobs complete each
# exactly once. Needs the cluster of scripts/test.sh (PGHOST, PGPORT, CQ_TEST_DATA).
set -euo pipefail
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

: "${CQ_TEST_DATA:?run through scripts/test.sh}"
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
runner="$repo/glue/cachequeue"
handlers="$repo/test/e2e/handlers"
db=cq_e2e_worker
bouncer_port=${CQ_BOUNCER_PORT:-6543}

work=$(mktemp -d /tmp/cq-e2e-worker.XXXXXX)
chmod 755 "$work"
pids=()

pg_run() {
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}
sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
fail() {
    echo "runner_worker: $*" >&2
    for log in "$work"/*.log; do
        [[ -f "$log" ]] || continue
        echo "---- $(basename "$log") (last 20 lines) ----" >&2
        tail -n 20 "$log" >&2
    done
    exit 1
}
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [[ -f "$work/bouncer/pgbouncer.pid" ]]; then
        kill "$(cat "$work/bouncer/pgbouncer.pid")" 2>/dev/null || true
        sleep 0.2
    fi
    # Handlers orphaned by the SIGKILL test.
    pkill -9 -f "$handlers/record" 2>/dev/null || true
    "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT


"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
sql -c "CREATE EXTENSION cachequeue"

# The settings a Django deployment would have: the database variables and QUEUE_CONFIG with
# the handlers.
cat >"$work/queue_config.json" <<JSON
{"BACKEND": "cachequeue",
 "QUEUES": {"email": {"max_retries": 3, "timeout": 30, "priority": 5},
            "report": {"max_retries": 2, "timeout": 300, "priority": 3},
            "export": {"max_retries": 2, "timeout": 600, "priority": 3},
            "flaky": {"max_retries": 0, "timeout": 30},
            "slow": {"max_retries": 0, "timeout": 1},
            "crash": {"max_retries": 3, "timeout": 2},
            "drain": {"max_retries": 3, "timeout": 60},
            "restart": {"max_retries": 3, "timeout": 60},
            "many": {"max_retries": 3, "timeout": 60},
            "shared": {"max_retries": 0, "timeout": 60},
            "conn": {"max_retries": 3, "timeout": 60},
            "conn_drain": {"max_retries": 3, "timeout": 60}},
 "HANDLERS": {
   "send_email": ["$handlers/record.py"],
   "generate_report": {"argv": ["$handlers/record_persistent.py"], "persistent": true},
   "export_data": {"argv": ["$handlers/record_persistent.py"], "persistent": true},
   "fails": ["/bin/sh", "-c", "echo 'smtp said no' >&2; exit 3"],
   "sleepy": ["/bin/sleep", "10"],
   "record": ["$handlers/record.py"],
   "record_persistent": {"argv": ["$handlers/record_persistent.py"], "persistent": true},
   "silent": ["/bin/true"],
   "tricky": ["$handlers/tricky_result.py"]}}
JSON
export QUEUE_CONFIG_FILE="$work/queue_config.json"
export DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_NAME="$db" DB_USER="${PGUSER:-postgres}"
export DB_PASSWORD="" CQ_RECORD="$work/record"
unset DATABASE_URL USE_SUPABASE CACHEQUEUE_POOLER
cd "$work" # no stray .env

"$runner" queue sync >"$work/sync.log" 2>&1 || fail "queue sync failed"
expect "queue sync created the queues" \
    "$(sql -c "SELECT string_agg(name || ':' || max_retries || ':' ||
        extract(epoch FROM timeout)::int || ':' || priority, ' ' ORDER BY name)
        FROM cachequeue.queues WHERE name IN ('email', 'report', 'export')")" \
    "email:3:30:5 export:2:600:3 report:2:300:3"

# done_count ID: how many times a handler finished job ID.
done_count() {
    grep -c "^done $1\$" "$CQ_RECORD" 2>/dev/null || true
}
# expect_each_once LABEL QUEUE N: the N jobs of QUEUE all succeeded on their first attempt,
# and the handler (recording in $CQ_RECORD) finished each exactly once.
expect_each_once() {
    expect "$1: every job succeeded on its first attempt" \
        "$(sql -c "SELECT count(*) FILTER (WHERE status = 'succeeded' AND attempts = 1)
            FROM cachequeue.jobs j JOIN cachequeue.queues q ON q.id = j.queue_id
            WHERE q.name = '$2'")" "$3"
    expect "$1: each job ran exactly once" \
        "$(grep -c '^done ' "$CQ_RECORD")/$(grep '^done ' "$CQ_RECORD" | sort -u | wc -l)" \
        "$3/$3"
}
# starts: how many job runs the handler has begun (in $CQ_RECORD), 0 before the first.
starts() {
    local n
    n=$(grep -c '^start ' "$CQ_RECORD" 2>/dev/null) || true
    echo "${n:-0}"
}
# term_and_wait PID: SIGTERM to a worker, then its exit; sets started_before (the runs begun
# before the signal) and term_rc (the worker's exit status).
term_and_wait() {
    started_before=$(starts)
    kill -TERM "$1"
    term_rc=0
    wait "$1" || term_rc=$?
}
# statuses QUEUE: "status:count ..." of the queue's jobs.
statuses() {
    sql -c "SELECT string_agg(status || ':' || n, ' ' ORDER BY status) FROM (
        SELECT j.status, count(*) n FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = '$1' GROUP BY j.status) s"
}

# ---- the three queues, directly: LISTEN, a command handler, long-lived handlers ----
for spec in email:send_email report:generate_report export:export_data; do
    sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('${spec%%:*}', '${spec#*:}',
        (SELECT array_agg(jsonb_build_object('n', i)) FROM generate_series(1, 10) i))" \
        >/dev/null
done
timeout 60 "$runner" worker email report export --concurrency 2 --batch-size 5 --until-empty \
    >"$work/direct.log" 2>&1 || fail "worker (direct) exited $?"
grep -q "wake=listen" "$work/direct.log" || fail "the direct worker does not LISTEN"
for queue in email report export; do
    expect "direct: $queue jobs succeeded" "$(statuses "$queue")" "succeeded:10"
done
expect "direct: each job ran once" \
    "$(grep -c '^done ' "$CQ_RECORD")/$(grep '^done ' "$CQ_RECORD" | sort -u | wc -l)" "30/30"
expect "direct: results recorded" \
    "$(sql -c "SELECT count(*) FROM cachequeue.jobs WHERE result ? 'job' AND attempts = 1")" 30
expect "direct: one log line per job" "$(grep -c 'outcome=succeeded' "$work/direct.log")" 30
expect "direct: long-lived handler reused" \
    "$(sql -c "SELECT count(DISTINCT result ->> 'pid') <= 4 FROM cachequeue.jobs j
        JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'report'")" t

# ---- tasks whose long-lived handlers are one command line share its process ----
# Regression: each task had a process of its own in each slot (a Django application with
# several tasks loaded Django once per task and slot).
for task in generate_report export_data; do
    sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('shared', '$task',
        (SELECT array_agg(jsonb_build_object('shared', i)) FROM generate_series(1, 3) i))" \
        >/dev/null
done
CQ_RECORD="$work/shared.record" timeout 60 "$runner" worker shared --concurrency 1 \
    --batch-size 2 --until-empty >"$work/shared.log" 2>&1 || fail "worker (shared) exited $?"
expect "shared: one process ran both tasks" \
    "$(sql -c "SELECT count(*) || ' jobs, ' || count(DISTINCT result ->> 'pid') || ' pid'
        FROM cachequeue.jobs WHERE payload ? 'shared' AND status = 'succeeded'")" "6 jobs, 1 pid"

# ---- failures: a failing command, no handler, a handler past the queue's timeout ----
sql >/dev/null <<'SQL'
SELECT cachequeue.job_enqueue('flaky', 'fails');
SELECT cachequeue.job_enqueue('flaky', 'nobody_handles_this');
SELECT cachequeue.job_enqueue('slow', 'sleepy');
SQL
timeout 60 "$runner" worker flaky slow --until-empty >"$work/failures.log" 2>&1 ||
    fail "worker (failures) exited $?"
expect "failing handler: dead with its stderr" \
    "$(sql -c "SELECT status || ' ' || (last_error LIKE '%exit status 3%smtp said no%')
        FROM cachequeue.jobs WHERE task = 'fails'")" "dead true"
expect "missing handler: dead, said so" \
    "$(sql -c "SELECT status || ' ' || last_error FROM cachequeue.jobs
        WHERE task = 'nobody_handles_this'")" \
    'dead no handler for task "nobody_handles_this"'
expect "timed out: dead" \
    "$(sql -c "SELECT status || ' ' || (last_error ILIKE '%timed out%')
        FROM cachequeue.jobs WHERE task = 'sleepy'")" "dead true"
grep -q "outcome=timed_out" "$work/failures.log" || fail "no timed_out log line"
echo "ok: failure log lines"

# ---- through PgBouncer in transaction mode (port 6543, as Supabase's pooler) ----
install -d -m 755 "$work/bouncer"
cat >"$work/bouncer/pgbouncer.ini" <<INI
[databases]
$db = host=$PGHOST port=$PGPORT dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/bouncer/userlist.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 50
logfile = $work/bouncer/pgbouncer.log
pidfile = $work/bouncer/pgbouncer.pid
INI
echo "\"${PGUSER:-postgres}\" \"\"" >"$work/bouncer/userlist.txt"
chmod 644 "$work/bouncer/pgbouncer.ini" "$work/bouncer/userlist.txt"
[[ $EUID != 0 ]] || chown postgres "$work/bouncer"
pg_run /usr/sbin/pgbouncer -d "$work/bouncer/pgbouncer.ini" ||
    fail "pgbouncer did not start"
wait_for "pgbouncer" 10 "$bindir/psql" -X -q -h 127.0.0.1 -p "$bouncer_port" -d "$db" \
    -c "SELECT 1" -o /dev/null
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('email', 'send_email',
    (SELECT array_agg(jsonb_build_object('n', i)) FROM generate_series(1, 10) i))" >/dev/null
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('report', 'generate_report',
    (SELECT array_agg(jsonb_build_object('n', i)) FROM generate_series(1, 10) i))" >/dev/null
# The runner takes port 6543 for a transaction pooler; on another port (CQ_BOUNCER_PORT) it
# has to be told.
pooler=auto
[[ "$bouncer_port" == 6543 ]] || pooler=transaction
CACHEQUEUE_POOLER=$pooler DB_HOST=127.0.0.1 DB_PORT=$bouncer_port timeout 60 "$runner" \
    worker email report \
    --concurrency 2 --batch-size 3 --until-empty >"$work/bouncer.log" 2>&1 ||
    fail "worker (pgbouncer) exited $?"
grep -q "wake=poll" "$work/bouncer.log" || fail "the worker behind PgBouncer does not poll"
expect "pgbouncer: email jobs succeeded" "$(statuses email)" "succeeded:20"
expect "pgbouncer: report jobs succeeded" "$(statuses report)" "succeeded:20"
expect "pgbouncer: each job ran once" \
    "$(grep -c '^done ' "$CQ_RECORD")/$(grep '^done ' "$CQ_RECORD" | sort -u | wc -l)" "50/50"

# ---- SIGKILL mid-job: the job runs again after its lease (2 s) and completes once ----
export CQ_RECORD="$work/record_crash"
crash_id=$(sql -c "SELECT cachequeue.job_enqueue('crash', 'record', '{\"sleep_first\": 30}')")
"$runner" worker crash >"$work/killed.log" 2>&1 &
pids+=($!)
killed=$!
wait_for "the job to start" 20 grep -qs "^start $crash_id 1 " "$CQ_RECORD"
kill -9 "$killed"
wait "$killed" 2>/dev/null || true
# The orphaned handler (the worker could not kill it) must not finish the job either.
pkill -9 -f "$handlers/record.py" 2>/dev/null || true
expect "killed worker: job still running" "$(statuses crash)" "running:1"
timeout 60 "$runner" worker crash --max-jobs 1 >"$work/after_kill.log" 2>&1 ||
    fail "worker (after the kill) exited $?"
expect "killed worker: job completed by the next worker" \
    "$(sql -c "SELECT status || ' ' || attempts FROM cachequeue.jobs WHERE id = $crash_id")" \
    "succeeded 2"
expect "killed worker: the job finished once" "$(done_count "$crash_id")" 1

# ---- SIGTERM drains: running jobs finish, claimed ones not started go back at once ----
export CQ_RECORD="$work/record_drain"
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('drain', 'record',
    array_fill('{\"sleep\": 1.5}'::jsonb, ARRAY[6]))" >/dev/null
"$runner" worker drain --concurrency 2 --batch-size 6 --grace 20 >"$work/drain.log" 2>&1 &
pids+=($!)
drainer=$!
drain_started() {
    [[ $(sql -c "SELECT count(*) FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = 'drain' AND j.status = 'running'") == 6 ]] &&
        (($(starts) >= 2))
}
wait_for "two drain jobs to start" 20 drain_started
term_and_wait "$drainer"
expect "SIGTERM: exit status" "$term_rc" 0
expect "SIGTERM: running jobs finished, the others given back" "$(statuses drain)" \
    "queued:4 succeeded:2"
expect "SIGTERM: given-back jobs have no attempt counted" \
    "$(sql -c "SELECT string_agg(DISTINCT attempts::text, ',') FROM cachequeue.jobs j
        JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'drain'
        AND j.status = 'queued'")" 0
expect "SIGTERM: no job started after the signal" "$(starts)" "$started_before"

# ---- a restarted PostgreSQL: the worker reconnects and no job is lost or done twice ----
export CQ_RECORD="$work/record_restart"
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('restart', 'record_persistent',
    array_fill('{\"sleep\": 0.1}'::jsonb, ARRAY[40]))" >/dev/null
restart_ids=$(sql -c "SELECT string_agg(j.id::text, ' ') FROM cachequeue.jobs j
    JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'restart'")
timeout 120 "$runner" worker restart --concurrency 2 --max-jobs 40 >"$work/restart.log" 2>&1 &
pids+=($!)
survivor=$!
restart_progress() {
    [[ $(sql -c "SELECT count(*) FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = 'restart' AND j.status = 'succeeded'") -ge 5 ]]
}
wait_for "restart jobs to progress" 30 restart_progress
pg_run "$bindir/pg_ctl" -D "$CQ_TEST_DATA" -m fast -w stop >/dev/null
sleep 1
pg_run "$bindir/pg_ctl" -D "$CQ_TEST_DATA" -l "${CQ_TEST_LOG:-/dev/null}" -w -t 60 start \
    >/dev/null
rc=0
wait "$survivor" || rc=$?
expect "restart: worker exit status" "$rc" 0
grep -q "reconnected to the database" "$work/restart.log" || fail "no reconnection logged"
echo "ok: restart: reconnected"
expect "restart: every job succeeded" "$(statuses restart)" "succeeded:40"
twice=0
for id in $restart_ids; do
    (($(done_count "$id") == 1)) || twice=$((twice + 1))
done
expect "restart: each job finished exactly once" "$twice" 0

# ---- 4 workers on 2,000 jobs: each job completed exactly once ----
export CQ_RECORD="$work/record_many"
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('many', 'record_persistent',
    array_fill('{}'::jsonb, ARRAY[2000]))" >/dev/null
many_pids=()
for w in 1 2 3 4; do
    timeout 120 "$runner" worker many --concurrency 2 --batch-size 20 --until-empty \
        >"$work/many$w.log" 2>&1 &
    many_pids+=($!)
    pids+=($!)
done
for pid in "${many_pids[@]}"; do
    wait "$pid" || fail "a worker of the 4 exited $?"
done
expect_each_once "4 workers" many 2000
expect "4 workers: all four took part" \
    "$(sql -c "SELECT count(DISTINCT worker) FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = 'many'")" 4
# ---- --connections 2: two claim loops in one worker, each job completed exactly once ----
export CQ_RECORD="$work/record_conn"
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('conn', 'record_persistent',
    array_fill('{}'::jsonb, ARRAY[1000]))" >/dev/null
timeout 120 "$runner" worker conn --concurrency 4 --connections 2 --batch-size 20 \
    --prefetch 4 --name conn-worker --until-empty >"$work/conn.log" 2>&1 ||
    fail "worker (--connections 2) exited $?"
expect_each_once connections conn 1000
expect "connections: both loops claimed, each under its own name" \
    "$(sql -c "SELECT string_agg(DISTINCT worker, ' ' ORDER BY worker) FROM cachequeue.jobs j
        JOIN cachequeue.queues q ON q.id = j.queue_id WHERE q.name = 'conn'")" \
    "conn-worker/1 conn-worker/2"
expect "connections: two database sessions" \
    "$(grep -c 'worker conn-worker/[12] starting: .* concurrency=2 ' "$work/conn.log")" 2

# SIGTERM reaches both loops, though only one takes it off the signal pipe: neither claims
# again, running jobs finish, the rest go back.
export CQ_RECORD="$work/record_conn_drain"
sql -c "SELECT count(*) FROM cachequeue.job_enqueue_many('conn_drain', 'record',
    array_fill('{\"sleep\": 1.5}'::jsonb, ARRAY[8]))" >/dev/null
"$runner" worker conn_drain --concurrency 2 --connections 2 --batch-size 2 --grace 20 \
    >"$work/conn_drain.log" 2>&1 &
pids+=($!)
conn_drainer=$!
conn_started() {
    (($(starts) >= 2))
}
wait_for "two jobs of the two loops to start" 20 conn_started
term_and_wait "$conn_drainer"
expect "connections, SIGTERM: exit status" "$term_rc" 0
expect "connections, SIGTERM: no job started after the signal" "$(starts)" "$started_before"
expect "connections, SIGTERM: nothing left running or lost" \
    "$(sql -c "SELECT count(*) FILTER (WHERE status = 'succeeded') + count(*) FILTER (WHERE
        status = 'queued') FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = 'conn_drain'")" 8
expect "connections, SIGTERM: both loops stopped" \
    "$(grep -c 'stopping (signal)' "$work/conn_drain.log")" 2

# A loop that fails stops the worker with its error (here both claim an unknown queue).
rc=0
timeout 30 "$runner" worker no_such_queue --concurrency 2 --connections 2 \
    >"$work/conn_fail.log" 2>&1 || rc=$?
expect "connections: an unknown queue stops the worker" "$rc" 1
grep -q 'no_such_queue' "$work/conn_fail.log" || fail "connections: the error is not reported"
# Usage errors: more connections than slots, or --max-jobs with several connections.
rc=0
"$runner" worker conn --concurrency 2 --connections 3 >"$work/conn_usage.log" 2>&1 || rc=$?
expect "connections: more connections than slots is a usage error" "$rc" 2
grep -q -- '--connections 3 needs --concurrency 3' "$work/conn_usage.log" ||
    fail "connections: the usage error does not say what is wrong"
rc=0
"$runner" worker conn --concurrency 2 --connections 2 --max-jobs 5 >"$work/conn_usage.log" \
    2>&1 || rc=$?
expect "connections: --max-jobs with two connections is a usage error" "$rc" 2

# ---- results in a batch: NULL, JSON null, characters to escape; jobs sent ahead ----
export CQ_RECORD="$work/record_results"
sql -c "SELECT cachequeue.queue_create('results')" >/dev/null
sql -c "SELECT cachequeue.job_enqueue('results', 'silent', '{}') FROM generate_series(1, 3)
    UNION ALL SELECT cachequeue.job_enqueue('results', 'tricky', '{}')
    UNION ALL SELECT cachequeue.job_enqueue('results', 'record_persistent', jsonb_build_object('n', i))
    FROM generate_series(1, 40) i" >/dev/null
"$runner" worker results --batch-size 50 --prefetch 8 --until-empty >"$work/results.log" 2>&1 ||
    fail "worker (results) exited $?"
expect "results: every job succeeded once" "$(statuses results)" "succeeded:44"
expect "results: empty stdout is a NULL result" \
    "$(sql -c "SELECT count(*) FROM cachequeue.jobs WHERE task = 'silent' AND result IS NULL")" 3
expect "results: escaped characters arrive intact" \
    "$(sql -c "SELECT result ->> 's' || '|' || jsonb_typeof(result -> 'n') || '|' ||
        (result ->> 'u') FROM cachequeue.jobs WHERE task = 'tricky'")" \
    'a "quoted" {braced}, back\slash|null|café'
expect "results: jobs sent ahead each ran once, on their first attempt" \
    "$(sql -c "SELECT count(*) FROM cachequeue.jobs j JOIN cachequeue.queues q
        ON q.id = j.queue_id WHERE q.name = 'results' AND j.task = 'record_persistent'
        AND j.attempts = 1 AND (j.result ->> 'job')::bigint = j.id")" 40
expect "results: the long-lived handler ran each job once" \
    "$(grep -c '^start ' "$CQ_RECORD")" 40
grep -q "prefetch=8" "$work/results.log" || fail "results: the worker does not log its prefetch"
# ---- a claim that fails does not take the success recorded with it down ----
# The worker records successes in the transaction of its next claim. Here that claim names a
# queue dropped while the job ran: the worker stops with the error, the success is recorded.
export CQ_RECORD="$work/record_gone"
sql -c "SELECT cachequeue.queue_create('gone_keep'), cachequeue.queue_create('gone_drop')" \
    >/dev/null
gone_id=$(sql -c "SELECT cachequeue.job_enqueue('gone_keep', 'record', '{\"sleep\": 1}')")
"$runner" worker gone_keep gone_drop >"$work/gone.log" 2>&1 &
pids+=($!)
gone_worker=$!
wait_for "the job to start" 20 grep -qs "^start $gone_id 1 " "$CQ_RECORD"
sql -c "SELECT cachequeue.queue_drop('gone_drop')" >/dev/null
gone_status=0
wait "$gone_worker" || gone_status=$?
expect "dropped queue: the worker stops with an error" "$gone_status" 1
grep -q 'queue \\"gone_drop\\" does not exist\|queue "gone_drop" does not exist' \
    "$work/gone.log" || fail "dropped queue: the worker's log does not say why it stopped"
expect "dropped queue: the job that ran is recorded" \
    "$(sql -c "SELECT status FROM cachequeue.jobs WHERE id = $gone_id")" succeeded


echo "runner_worker: all checks passed"
