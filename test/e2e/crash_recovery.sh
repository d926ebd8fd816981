#!/usr/bin/env bash
# End-to-end: the server crashes (an immediate stop, no checkpoint) and recovers. Logged
# caches keep their entries, unlogged caches come back empty and usable, and no committed
# job is lost: a job enqueued, one claimed and one completed before the crash are all there
# as they were. Needs the cluster of scripts/test.sh (PGHOST, PGPORT, CQ_TEST_DATA).
set -euo pipefail

: "${CQ_TEST_DATA:?run through scripts/test.sh}"
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
db=cq_e2e_crash

pg_run() {
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}
sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
fail() {
    echo "crash_recovery: $*" >&2
    exit 1
}
# expect WHAT ACTUAL EXPECTED
expect() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
    echo "ok: $1"
}

"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap '"$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT

# Before the crash: two caches, a queue with three jobs in three states.
sql >/dev/null <<'SQL'
CREATE EXTENSION cachequeue;
SELECT cachequeue.cache_create('fast', 300, 100, 2, unlogged => true);
SELECT cachequeue.cache_create('kept', 300, 100, 2, unlogged => false);
SELECT cachequeue.cache_set('fast', 'k', 'v');
SELECT cachequeue.cache_set('kept', 'k', 'v', NULL);
SELECT cachequeue.cache_set('kept', 'n', '41', NULL);
SELECT cachequeue.queue_create('crash_q', 3, '1 hour');
SELECT cachequeue.job_enqueue('crash_q', 'first', '{"n": 1}');
SELECT cachequeue.job_enqueue('crash_q', 'second', '{"n": 2}');
SELECT cachequeue.job_enqueue('crash_q', 'third', '{"n": 3}');
SQL
claim=$(sql -c "SELECT id || ' ' || lease FROM cachequeue.job_claim(ARRAY['crash_q'], 'w1')")
sql -c "SELECT cachequeue.job_complete(${claim%% *}, '${claim#* }', '{\"ok\": true}')" >/dev/null
claim=$(sql -c "SELECT id || ' ' || lease FROM cachequeue.job_claim(ARRAY['crash_q'], 'w1')")

# The crash: stop without a checkpoint, as a power cut would, then recover.
pg_run "$bindir/pg_ctl" -D "$CQ_TEST_DATA" -m immediate -w stop >/dev/null
pg_run "$bindir/pg_ctl" -D "$CQ_TEST_DATA" -l "${CQ_TEST_LOG:-/dev/null}" -w -t 60 start \
    >/dev/null

# The caches: the logged one kept its entries, the unlogged one is empty and works.
expect "logged cache value" "$(sql -c "SELECT convert_from(cachequeue.cache_get('kept',
    'k'), 'UTF8')")" v
expect "logged counter" "$(sql -c "SELECT cachequeue.cache_incr('kept', 'n')")" 42
expect "unlogged cache emptied" "$(sql -c "SELECT cachequeue.cache_get('fast', 'k') IS NULL")" t
sql -c "SELECT cachequeue.cache_set('fast', 'k' || i, 'v') FROM generate_series(1, 150) i" \
    >/dev/null
expect "unlogged cache culls again" \
    "$(sql -c "SELECT total <= 100 FROM cachequeue.cache_stats('fast')")" t

# The queue: every committed state survived; the claimed job's lease still works.
expect "jobs by status" "$(sql -c "SELECT string_agg(task || ':' || status, ',' ORDER BY id)
    FROM cachequeue.jobs")" "first:succeeded,second:running,third:queued"
sql -c "SELECT cachequeue.job_complete(${claim%% *}, '${claim#* }')" >/dev/null
expect "claimed job completed after the crash" \
    "$(sql -c "SELECT status FROM cachequeue.job_status(${claim%% *})")" succeeded
expect "last job claimable" \
    "$(sql -c "SELECT task FROM cachequeue.job_claim(ARRAY['crash_q'], 'w2')")" third
echo "crash_recovery: all checks passed"
