#!/usr/bin/env bash
# End-to-end: cachequeue.schedule_maintenance and unschedule_maintenance against a real
# pg_cron (the cluster of scripts/test.sh preloads it, with cron.database_name = 'postgres').
# Checks what lands in cron.job (names, schedules, commands, database, role), that a second
# call changes nothing and that changed arguments change the jobs, that a NULL schedule
# removes one job, and runs each scheduled command itself (no waiting for pg_cron's minute).
# Error paths: pg_cron not created in the database, pg_cron in another database (whose
# statements from maintenance_jobs() are then run there), pg_cron not loaded at all (a second,
# plain cluster), a role that cannot log in, bad arguments. Then `cachequeue doctor` on the
# maintenance: scheduled and succeeding, then a failed run.
set -euo pipefail
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

: "${PGHOST:?run through scripts/test.sh}"
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
runner="$repo/glue/cachequeue"
other=cq_e2e_maint
work=$(mktemp -d /tmp/cq-e2e-maint.XXXXXX)
chmod 755 "$work"
plain_port=$((${PGPORT:-5498} + 1000))

fail() {
    echo "maintenance: $*" >&2
    exit 1
}
# psql on database $1, unaligned, stopping at the first error.
sql() {
    local db=$1
    shift
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
# expect_error WHAT DB SQLSTATE TEXT SQL [PSQL ARGS...]: the statement fails with SQLSTATE and
# its message, detail or hint contains TEXT.
expect_error() {
    local what=$1 db=$2 state=$3 text=$4 statement=$5 output
    shift 5
    if output=$("$bindir/psql" -X -q -At -d "$db" -v VERBOSITY=verbose "$@" \
        -c "$statement" 2>&1); then
        fail "$what: succeeded: $output"
    fi
    [[ "$output" == *"ERROR:  $state:"* ]] || fail "$what: expected SQLSTATE $state: $output"
    [[ "$output" == *"$text"* ]] || fail "$what: expected '$text' in: $output"
    echo "ok: $what"
}
cleanup() {
    sql postgres -c "SET client_min_messages = warning" \
        -c "DROP EXTENSION IF EXISTS pg_cron" -c "DROP EXTENSION IF EXISTS cachequeue" \
        -c "DROP DATABASE IF EXISTS $other" -c "DROP ROLE IF EXISTS cq_ops" \
        >/dev/null 2>&1 || true
    bash "$repo/scripts/cluster.sh" stop --dir "$work/plain" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

sql postgres -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS pg_cron" \
    -c "DROP EXTENSION IF EXISTS cachequeue" -c "DROP DATABASE IF EXISTS $other" \
    -c "DROP ROLE IF EXISTS cq_ops"
sql postgres -c "CREATE EXTENSION cachequeue"

# ---- pg_cron loaded, but not created in this database ----
expect_error "pg_cron not created: 55000 with a hint" postgres 55000 \
    'HINT:  Run CREATE EXTENSION pg_cron' "SELECT * FROM cachequeue.schedule_maintenance()"
expect_error "unschedule without pg_cron: 55000" postgres 55000 \
    'extension "pg_cron" is not installed in database "postgres"' \
    "SELECT cachequeue.unschedule_maintenance()"
sql postgres -c "CREATE EXTENSION pg_cron"

# ---- bad arguments: refused before anything is scheduled ----
expect_error "an invalid cron schedule: 22023" postgres 22023 "invalid schedule: 61 * * * *" \
    "SELECT * FROM cachequeue.schedule_maintenance(reap_schedule => '61 * * * *')"
expect_error "an empty schedule: 22023" postgres 22023 "the cleanup schedule must not be empty" \
    "SELECT * FROM cachequeue.schedule_maintenance(cleanup_schedule => '')"
expect_error "a negative retention: 22023" postgres 22023 "purge_retention must be positive" \
    "SELECT * FROM cachequeue.schedule_maintenance(purge_retention => '-1 day')"
expect_error "a NULL retention: 22004" postgres 22004 "purge_retention must not be NULL" \
    "SELECT * FROM cachequeue.schedule_maintenance(purge_retention => NULL)"
expect "nothing scheduled by the failed calls" "$(sql postgres -c "SELECT count(*) FROM cron.job")" 0

# ---- the defaults ----
jobs_query="SELECT jobname || '|' || schedule || '|' || command || '|' || database || '|' ||
    username || '|' || active FROM cron.job ORDER BY jobname"
sql postgres -c "SELECT * FROM cachequeue.schedule_maintenance()" >"$work/first"
expect "schedule_maintenance() answers its three jobs" "$(cut -d'|' -f1,2 "$work/first")" \
    "cachequeue-cleanup@postgres|*/5 * * * *
cachequeue-reap@postgres|* * * * *
cachequeue-purge@postgres|17 3 * * *"
expect "cron.job holds the three jobs, in this database, as this role" \
    "$(sql postgres -c "$jobs_query")" \
    "cachequeue-cleanup@postgres|*/5 * * * *|SELECT cachequeue.cache_cleanup()|postgres|postgres|true
cachequeue-purge@postgres|17 3 * * *|SELECT cachequeue.job_purge('7 days')|postgres|postgres|true
cachequeue-reap@postgres|* * * * *|SELECT cachequeue.job_reap()|postgres|postgres|true"
ids_before=$(sql postgres -c "SELECT string_agg(jobid::text, ',' ORDER BY jobid) FROM cron.job")

# ---- idempotent: the same call again changes nothing, not even the job ids ----
sql postgres -c "SELECT * FROM cachequeue.schedule_maintenance()" >"$work/second"
expect "a second call answers the same" "$(cat "$work/second")" "$(cat "$work/first")"
expect "a second call keeps the jobs and their ids" \
    "$(sql postgres -c "SELECT string_agg(jobid::text, ',' ORDER BY jobid) FROM cron.job")" \
    "$ids_before"

# ---- changed arguments change the jobs in place; NULL removes one ----
sql postgres -c "SELECT * FROM cachequeue.schedule_maintenance(
    cleanup_schedule => '*/10 * * * *', purge_schedule => '0 4 * * 0',
    purge_retention => '30 days')" >/dev/null
expect "new schedules and retention" "$(sql postgres -c "$jobs_query" | cut -d'|' -f1-3)" \
    "cachequeue-cleanup@postgres|*/10 * * * *|SELECT cachequeue.cache_cleanup()
cachequeue-purge@postgres|0 4 * * 0|SELECT cachequeue.job_purge('30 days')
cachequeue-reap@postgres|* * * * *|SELECT cachequeue.job_reap()"
expect "changed in place (same ids)" \
    "$(sql postgres -c "SELECT string_agg(jobid::text, ',' ORDER BY jobid) FROM cron.job")" \
    "$ids_before"
expect "a NULL schedule answers no job id" \
    "$(sql postgres -c "SELECT job_name || ':' || coalesce(jobid::text, 'none')
        FROM cachequeue.schedule_maintenance(reap_schedule => NULL) ORDER BY job_name")" \
    "cachequeue-cleanup@postgres:${ids_before%%,*}
cachequeue-purge@postgres:${ids_before##*,}
cachequeue-reap@postgres:none"
expect "a NULL schedule removes that job only" \
    "$(sql postgres -c "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job")" \
    "cachequeue-cleanup@postgres,cachequeue-purge@postgres"
sql postgres -c "SELECT * FROM cachequeue.schedule_maintenance()" >/dev/null
expect "scheduling again restores it" "$(sql postgres -c "SELECT count(*) FROM cron.job")" 3

# ---- each scheduled command works: run it as pg_cron would, and see its effect ----
sql postgres >/dev/null <<'SQL'
SELECT cachequeue.cache_set('default', 'stale', 'v', 0.001);
SELECT cachequeue.queue_create('maint', max_retries => 3, timeout => '1 s');
SELECT cachequeue.job_enqueue('maint', 'work');
SELECT cachequeue.job_enqueue('maint', 'work');
SELECT count(*) FROM cachequeue.job_claim(ARRAY['maint'], 'e2e', 2);
SQL
# Complete one job (it then finishes 40 days ago); the other one's lease runs out.
sql postgres -c "SELECT cachequeue.job_complete(id, lease) FROM cachequeue.jobs
    WHERE status = 'running' ORDER BY id LIMIT 1" >/dev/null
sql postgres -c "UPDATE cachequeue.jobs SET finished_at = now() - interval '40 days'
        WHERE status = 'succeeded'" >/dev/null
sleep 1.1 # the lease (1 s) and the cache entry (1 ms) expire
for kind in cleanup reap purge; do
    command=$(sql postgres -c "SELECT command FROM cron.job
        WHERE jobname = 'cachequeue-$kind@postgres'")
    echo "$command" >"$work/$kind.sql"
    expect "the $kind command removes or handles one row" "$(sql postgres -f "$work/$kind.sql")" 1
done
expect "the reaped job is queued again" "$(sql postgres -c "SELECT status || ':' || last_error
    FROM cachequeue.jobs")" "queued:lease expired"

# ---- a role of cachequeue_admin that can log in schedules jobs that run as itself ----
sql postgres -c "CREATE ROLE cq_ops LOGIN IN ROLE cachequeue_admin" \
    -c "GRANT USAGE ON SCHEMA cron TO cq_ops" >/dev/null
sql postgres -U cq_ops -c "SELECT * FROM cachequeue.schedule_maintenance('*/7 * * * *')" \
    >/dev/null
expect "the role's own jobs, with its name" "$(sql postgres -c "SELECT count(*) FROM cron.job
    WHERE username = 'cq_ops' AND jobname LIKE 'cachequeue-%@postgres'")" 3
expect "unschedule_maintenance as that role removes its jobs only" \
    "$(sql postgres -U cq_ops -c "SELECT cachequeue.unschedule_maintenance()")" 3
expect "the superuser's jobs are still there" "$(sql postgres -c "SELECT count(*) FROM cron.job
    WHERE username = 'postgres'")" 3
expect_error "a role that cannot log in: 42501" postgres 42501 \
    "pg_cron runs each job as the role that scheduled it" \
    "SELECT * FROM cachequeue.schedule_maintenance()" -U cq_ops \
    -c "SET ROLE cachequeue_admin"
sql postgres -c "REVOKE USAGE ON SCHEMA cron FROM cq_ops"
expect_error "a role without USAGE on schema cron: 42501 with a hint" postgres 42501 \
    "GRANT USAGE ON SCHEMA cron TO cq_ops" "SELECT * FROM cachequeue.schedule_maintenance()" \
    -U cq_ops
expect_error "a role outside cachequeue_admin: 42501" postgres 42501 "permission denied" \
    "SELECT * FROM cachequeue.schedule_maintenance()" -c "CREATE ROLE cq_plain LOGIN" \
    -c "SET ROLE cq_plain"
sql postgres -c "DROP ROLE IF EXISTS cq_plain"

# ---- cachequeue doctor: maintenance scheduled and succeeding, then a failed run ----
export DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_NAME=postgres DB_USER=postgres DB_PASSWORD=""
unset DATABASE_URL USE_SUPABASE QUEUE_CONFIG QUEUE_CONFIG_FILE
(cd "$work" && "$runner" doctor --json >"$work/doctor.json") || true
python3 - "$work/doctor.json" <<'PY' || fail "doctor on scheduled maintenance: $(cat "$work/doctor.json")"
import json, sys
findings = {f["check"]: f for f in json.load(open(sys.argv[1]))["findings"]}
f = findings["maintenance"]
assert f["severity"] == "ok", f
assert "3 of 3" in f["message"], f
PY
echo "ok: doctor: maintenance scheduled"
jobid=$(sql postgres -c "SELECT jobid FROM cron.job WHERE jobname = 'cachequeue-reap@postgres'
    AND username = 'postgres'")
# A failed run, as pg_cron records it.
sql postgres -c "INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username,
    command, status, return_message, start_time, end_time)
    VALUES ($jobid, nextval('cron.runid_seq'), 0, 'postgres', 'postgres',
    'SELECT cachequeue.job_reap()', 'failed', 'ERROR:  permission denied',
    now() - interval '1 minute', now() - interval '1 minute')" >/dev/null
rc=0
(cd "$work" && "$runner" doctor >"$work/doctor.txt") || rc=$?
expect "doctor exits 4 on a warning" "$rc" 4
grep -q "warning  maintenance .*cachequeue-reap@postgres.*failed" "$work/doctor.txt" ||
    fail "doctor does not report the failed run: $(cat "$work/doctor.txt")"
echo "ok: doctor: a failed run is a warning"

# ---- unschedule_maintenance ----
expect "unschedule_maintenance removes the three jobs" \
    "$(sql postgres -c "SELECT cachequeue.unschedule_maintenance()")" 3
expect "none left" "$(sql postgres -c "SELECT count(*) FROM cron.job")" 0
expect "a second unschedule removes nothing" \
    "$(sql postgres -c "SELECT cachequeue.unschedule_maintenance()")" 0

# ---- pg_cron in another database: the statements of maintenance_jobs() run there ----
sql postgres -c "CREATE DATABASE $other"
sql "$other" -c "CREATE EXTENSION cachequeue"
expect_error "pg_cron elsewhere: 55000 naming its database" "$other" 55000 \
    "pg_cron runs in database \"postgres\", not in \"$other\"" \
    "SELECT * FROM cachequeue.schedule_maintenance()"
sql "$other" -c "SELECT cron_statement FROM cachequeue.maintenance_jobs(
    purge_retention => '14 days')" | sql postgres >/dev/null
expect "the jobs run in the extension's database" "$(sql postgres -c "$jobs_query")" \
    "cachequeue-cleanup@$other|*/5 * * * *|SELECT cachequeue.cache_cleanup()|$other|postgres|true
cachequeue-purge@$other|17 3 * * *|SELECT cachequeue.job_purge('14 days')|$other|postgres|true
cachequeue-reap@$other|* * * * *|SELECT cachequeue.job_reap()|$other|postgres|true"
sql "$other" -c "SELECT cron_statement FROM cachequeue.maintenance_jobs(purge_schedule => NULL)" |
    sql postgres >/dev/null
expect "a NULL schedule's statement removes that job" \
    "$(sql postgres -c "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job")" \
    "cachequeue-cleanup@$other,cachequeue-reap@$other"
for kind in cleanup reap; do
    sql postgres -c "SELECT command FROM cron.job WHERE jobname = 'cachequeue-$kind@$other'" \
        >"$work/$kind.sql"
    expect "the $kind command works in $other" "$(sql "$other" -f "$work/$kind.sql")" 0
done
sql postgres -c "SELECT cron.unschedule(jobid) FROM cron.job" >/dev/null

# ---- pg_cron not loaded at all: a plain cluster of its own ----
bash "$repo/scripts/cluster.sh" start --dir "$work/plain" --port "$plain_port" >/dev/null
"$bindir/psql" -X -q -h "$work/plain/sock" -p "$plain_port" -d postgres \
    -c "CREATE EXTENSION cachequeue"
expect_error "pg_cron not loaded: 55000 saying how to load it" postgres 55000 \
    "HINT:  Add pg_cron to shared_preload_libraries, set cron.database_name = 'postgres'" \
    "SELECT * FROM cachequeue.schedule_maintenance()" -h "$work/plain/sock" -p "$plain_port"
expect "maintenance_jobs() needs no pg_cron" "$("$bindir/psql" -X -At -h "$work/plain/sock" \
    -p "$plain_port" -d postgres -c "SELECT count(*) FROM cachequeue.maintenance_jobs()")" 3
echo "maintenance: all checks passed"
