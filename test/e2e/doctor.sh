#!/usr/bin/env bash
# End-to-end: `cachequeue doctor` on a real server. A healthy database gives no warning
# (exit 0); then findings are provoked (a running job whose lease expired, a dead job, a ready
# job waiting for 10 minutes, a paused queue, a cache full of expired entries) and checked
# in the text output and the --json document; a database without the extension is critical
# (exit 5); no server is exit 1. The maintenance findings with pg_cron are checked in
# maintenance.sh. Needs the cluster of scripts/test.sh.
set -euo pipefail
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

: "${PGHOST:?run through scripts/test.sh}"
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
runner="$repo/glue/cachequeue"
db=cq_e2e_doctor
bare=cq_e2e_doctor_bare
work=$(mktemp -d /tmp/cq-e2e-doctor.XXXXXX)

sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
fail() {
    echo "doctor: $*" >&2
    exit 1
}
cleanup() {
    "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" \
        -c "DROP DATABASE IF EXISTS $bare" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# doctor EXPECTED_EXIT ARGS...: output in $work/out
doctor() {
    local want=$1 rc=0
    shift
    "$runner" doctor "$@" >"$work/out" 2>"$work/err" || rc=$?
    ((rc == want)) || fail "doctor $*: exit $rc, expected $want: $(cat "$work/out" "$work/err")"
}
# has_line REGEX: a line of the text output matches
has_line() {
    grep -Eq "$1" "$work/out" || fail "no line matching '$1' in: $(cat "$work/out")"
    echo "ok: $1"
}

"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "DROP DATABASE IF EXISTS $bare" \
    -c "CREATE DATABASE $db" -c "CREATE DATABASE $bare"
sql -c "CREATE EXTENSION cachequeue"
export DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_NAME="$db" DB_USER="${PGUSER:-postgres}"
export DB_PASSWORD=""
unset DATABASE_URL USE_SUPABASE QUEUE_CONFIG QUEUE_CONFIG_FILE CACHEQUEUE_POOLER
cd "$work"

# ---- healthy: nothing above info (pg_cron lives in database postgres: an info) ----
sql -c "SELECT cachequeue.queue_create('email', 3, '30 s')" >/dev/null
doctor 0
has_line '^cachequeue doctor: database cq_e2e_doctor$'
has_line '^ok +extension +cachequeue 0\.1\.0 installed$'
has_line '^ok +queue +queue email: 0 ready, 0 scheduled, 0 running$'
has_line '^ok +stuck_jobs +no running job has an expired lease$'
has_line '^info +maintenance +pg_cron runs in database postgres'
has_line "^ +-> in that database: .*'cachequeue-%@cq_e2e_doctor'"
has_line '^ok +tables +cachequeue\.jobs: '

# ---- provoke findings ----
sql >/dev/null <<'SQL'
SELECT cachequeue.queue_create('stuck', 3, '1 s');
SELECT cachequeue.job_enqueue('stuck', 'work');
SELECT count(*) FROM cachequeue.job_claim(ARRAY['stuck'], 'gone-worker', 1);
SELECT cachequeue.queue_create('fragile', 0, '30 s');
SELECT cachequeue.job_enqueue('fragile', 'work');
SELECT cachequeue.job_fail(id, lease, 'boom') FROM cachequeue.job_claim(ARRAY['fragile'], 'w', 1);
SELECT cachequeue.job_enqueue('email', 'send_email');
SELECT cachequeue.queue_create('held');
SELECT cachequeue.job_enqueue('held', 'work');
SELECT cachequeue.queue_pause('held');
SELECT cachequeue.cache_create('big', 300, 100000);
SELECT cachequeue.cache_set_many('big', array_agg('k' || i), array_agg('v'::bytea), 0.001)
FROM generate_series(1, 1500) AS i;
SQL
# The email job has waited 10 minutes (as if no worker ran).
sql -c "UPDATE cachequeue.jobs SET run_at = run_at - interval '10 min',
    enqueued_at = enqueued_at - interval '10 min' WHERE task = 'send_email'" >/dev/null
sleep 1.1 # the stuck job's lease (1 s) and the entries (1 ms) expire

doctor 4
has_line '^warning +stuck_jobs +queue stuck: 1 running job\(s\) whose lease expired up to [0-9]+ s ago \(first: job [0-9]+\)$'
has_line '^ +-> their worker stopped or hangs: SELECT cachequeue.job_reap\(\)'
has_line '^warning +queue +queue fragile: 1 dead job\(s\)$'
has_line '^warning +queue +queue email: the oldest ready job has waited 10 min \(1 ready\)$'
has_line '^ +-> start a worker for it \(cachequeue worker email\)'
has_line '^info +queue +queue held is paused with 1 job\(s\) ready$'
has_line '^warning +cache +cache big: 1500 of 1500 entries have expired$'

doctor 4 --json
python3 - "$work/out" <<'PY' || fail "the --json document: $(cat "$work/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["database"] == "cq_e2e_doctor"
findings = doc["findings"]
assert all(set(f) == {"check", "severity", "message", "suggestion"} for f in findings)
assert all(f["severity"] in ("ok", "info", "warning", "critical") for f in findings)
warnings = sorted(f["check"] for f in findings if f["severity"] == "warning")
assert warnings == ["cache", "queue", "queue", "stuck_jobs"], warnings
assert all(f["suggestion"] for f in findings if f["severity"] == "warning")
counts = doc["counts"]
assert counts["warning"] == 4 and counts["critical"] == 0, counts
assert sum(counts.values()) == len(findings)
PY
echo "ok: --json: the findings, their severities and counts"

# ---- the fixes clear the warnings ----
sql >/dev/null <<'SQL'
SELECT cachequeue.job_reap();
SELECT cachequeue.cache_cleanup();
SQL
doctor 4
if grep -Eq '^warning +(stuck_jobs|cache) ' "$work/out"; then
    fail "reap and cleanup did not clear their warnings: $(cat "$work/out")"
fi
echo "ok: job_reap and cache_cleanup clear their findings"

# ---- no extension: critical, exit 5; no server: exit 1 ----
DB_NAME=$bare doctor 5
has_line '^critical +extension +the cachequeue extension is not installed in this database$'
DB_HOST="$work/nowhere" DB_PORT=1 doctor 1
grep -q "cannot connect" "$work/err" || fail "no connection error: $(cat "$work/err")"
echo "ok: no server: exit 1"
echo "doctor: all checks passed"
