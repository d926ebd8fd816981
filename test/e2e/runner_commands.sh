#!/usr/bin/env bash
# End-to-end: the runner's management commands (cachequeue cache ..., cachequeue queue ...)
# against a real server, with valid and invalid input. Checks exit codes (0 ok, 1 database
# error, 2 usage, 3 retry refused), that an error is one line on stderr with nothing on
# stdout, the text tables, and the --json fields. Needs the built glue/cachequeue and a server
# where the extension is installed (the cluster of scripts/test.sh: PGHOST, PGPORT, PGUSER).
set -euo pipefail

repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
cd "$repo"
bin=glue/cachequeue
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
db=cq_e2e_commands
tmp=$(mktemp -d)
out=$tmp/out
err=$tmp/err

fail() {
    echo "runner_commands: $*" >&2
    exit 1
}
[[ -x "$bin" ]] || fail "$bin is not built (run make)"

sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"
}
# expect WHAT ACTUAL EXPECTED
expect() {
    [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
    echo "ok: $1"
}

# cq EXIT_CODE ARGS...: runs the runner, output in $out and $err. A failure must say so in
# exactly one line on stderr and print nothing on stdout.
cq() {
    local want=$1 rc=0
    shift
    "$bin" "$@" >"$out" 2>"$err" || rc=$?
    ((rc == want)) || fail "cachequeue $*: exit $rc, expected $want; stderr: $(cat "$err")"
    if ((want != 0)); then
        [[ $(wc -l <"$err") == 1 ]] || fail "cachequeue $*: stderr is not one line: $(cat "$err")"
        [[ ! -s "$out" ]] || fail "cachequeue $*: printed on stdout after an error: $(cat "$out")"
        [[ $(cat "$err") == "cachequeue: error: "* ]] || fail "cachequeue $*: $(cat "$err")"
    fi
}
# expect_out WHAT EXPECTED: the whole of stdout
expect_out() {
    expect "$1" "$(cat "$out")" "$2"
}
# expect_err WHAT TEXT: stderr contains TEXT
expect_err() {
    [[ $(cat "$err") == *"$2"* ]] || fail "$1: stderr '$(cat "$err")' lacks '$2'"
    echo "ok: $1"
}
# expect_json WHAT PYTHON_EXPRESSION: true of d, the JSON on stdout
expect_json() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$out" "$2" ||
        fail "$1: not true: $2; stdout: $(cat "$out")"
    echo "ok: $1"
}

"$bindir/psql" -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
cleanup() {
    "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
sql -c "CREATE EXTENSION cachequeue" >/dev/null
# The runner reads the Django application's variables (docs/settings.md).
unset PGSERVICE DATABASE_URL USE_SUPABASE QUEUE_CONFIG QUEUE_CONFIG_FILE
export DB_HOST="$PGHOST" DB_PORT="${PGPORT:-5432}" DB_USER="${PGUSER:-postgres}" DB_NAME=$db
export DB_PASSWORD=""
export PGDATABASE=$db

# ---- command line: help, unknown options and commands, connection ----

cq 0 --help
expect "--help prints usage" "$(sed -n 2p "$out")" "Usage: cachequeue [OPTIONS] [SUBCOMMAND]"
cq 0 queue enqueue --help
expect "subcommand help" "$(grep -c -- '--unique-key' "$out")" 1
cq 2 cache stats --bogus
expect_err "unknown option: usage error" "--bogus"
cq 2 cache frobnicate
cq 2 cache
expect_err "a group needs its subcommand" "subcommand is required"
cq 2 queue status
cq 2 queue status twelve
DB_HOST="$tmp/nowhere" DB_PORT=1 DB_PASSWORD=supersecret cq 1 cache stats
expect_err "no server: exit 1" "cannot connect"
[[ $(cat "$err") != *supersecret* ]] || fail "a password was printed: $(cat "$err")"
DATABASE_URL="postgresql://someone:supersecret@localhost:1/x?connect_timeout=5" cq 1 cache stats
[[ $(cat "$err") != *supersecret* ]] || fail "a password was printed: $(cat "$err")"
echo "ok: passwords are never printed"
DB_PORT=abc cq 2 cache stats
expect_err "a bad setting: usage exit 2, naming the variable" "DB_PORT"
printf 'DB_NAME=%s\n' "$db" >"$tmp/app.env"
(
    unset PGDATABASE DB_NAME
    cq 0 --env-file "$tmp/app.env" cache stats --cache default --json
    cq 0 cache stats --json --env-file "$tmp/app.env"
    cq 1 cache stats --json
    expect_err "without the .env: the default database" "medical_imaging"
)
echo "ok: --env-file before and after the subcommand"

# ---- cache stats ----

sql >/dev/null <<'SQL'
SELECT cachequeue.cache_create('e2e_c', 120, 50, 2, unlogged => false);
SELECT cachequeue.cache_set('e2e_c', 'live', 'v');
SELECT cachequeue.cache_set('e2e_c', 'gone1', 'v', 0.001);
SELECT cachequeue.cache_set('e2e_c', 'gone2', 'v', 0.001);
SELECT cachequeue.cache_create('o''brien', NULL);
SELECT cachequeue.cache_set('o''brien', 'k', 'v');
SELECT cachequeue.cache_set('default', 'k', 'v');
SQL
# Entries with a 1 ms timeout: expired once this much has passed (a lower bound, not a race).
sql -c "SELECT pg_sleep(0.05)" >/dev/null

cq 0 cache stats --cache e2e_c --json
expect_json "stats --json: one cache" 'len(d) == 1 and d[0]["cache"] == "e2e_c"'
expect_json "stats --json: counts are numbers" \
    'd[0]["total"] == 3 and d[0]["active"] == 1 and d[0]["expired"] == 2'
expect_json "stats --json: settings" 'd[0]["max_entries"] == 50 and
    d[0]["default_timeout"] == 120 and d[0]["cull_frequency"] == 2 and
    d[0]["unlogged"] is False and d[0]["size_bytes"] > 0'
# The test cluster preloads cachequeue: hits and misses are counted (only sets so far).
expect_json "stats --json: counters are numbers" \
    'd[0]["hits"] == 0 and d[0]["misses"] == 0'
expect_json "stats --json: every column" 'list(d[0]) == ["cache", "total", "active",
    "expired", "hits", "misses", "max_entries", "default_timeout", "cull_frequency",
    "unlogged", "size_bytes"]'
cq 0 cache stats --json
expect_json "stats --json: every cache, by name" \
    '[c["cache"] for c in d] == ["default", "e2e_c", "o'"'"'brien"]'
expect_json "stats --json: no default timeout is null" \
    '[c["default_timeout"] for c in d if c["cache"] == "o'"'"'brien"] == [None]'
cq 0 cache stats
header="cache total active expired hits misses max_entries default_timeout cull_frequency"
expect "stats table header" "$(head -n 1 "$out" | tr -s ' ')" "$header unlogged size_bytes"
expect "stats table row" "$(grep '^e2e_c ' "$out" | awk '{print $2, $3, $4, $5, $8, $10}')" \
    "3 1 2 0 120 no"
expect "stats table: no default timeout" "$(grep "^o'brien " "$out" | awk '{print $8}')" never
cq 1 cache stats --cache nope
expect_err "stats of an unknown cache" 'cache "nope" does not exist (SQLSTATE 42704)'
cq 1 cache stats --cache "x'); DROP TABLE cachequeue.jobs; --"
expect_err "a quote in a name is data" "does not exist (SQLSTATE 42704)"
cq 1 cache stats --cache ""
expect_err "an empty cache name" "(SQLSTATE 22023)"

# ---- cache cleanup ----

cq 0 cache cleanup --cache e2e_c
expect_out "cleanup prints the count" 2
cq 0 cache cleanup --cache e2e_c --json
expect_json "cleanup --json" 'd == {"cache": "e2e_c", "removed": 0}'
cq 0 cache stats --cache e2e_c --json
expect_json "cleanup kept the live entry" 'd[0]["total"] == 1 and d[0]["active"] == 1'
cq 0 cache cleanup --json
expect_json "cleanup of every cache" 'd["cache"] is None and d["removed"] == 0'
cq 1 cache cleanup --cache nope
expect_err "cleanup of an unknown cache" 'cache "nope" does not exist (SQLSTATE 42704)'

# ---- cache clear ----

cq 0 cache clear
expect_out "clear empties 'default' by default" "cleared default"
expect "default is empty" "$(sql -c "SELECT total FROM cachequeue.cache_stats('default')")" 0
expect "other caches kept" "$(sql -c "SELECT total FROM cachequeue.cache_stats('e2e_c')")" 1
cq 0 cache clear --cache "o'brien" --json
expect_json "clear --json" 'd == {"cleared": ["o'"'"'brien"]}'
expect "o'brien is empty" "$(sql -c "SELECT total FROM cachequeue.cache_stats('o''brien')")" 0
sql -c "SELECT cachequeue.cache_set('o''brien', 'k', 'v'), cachequeue.cache_set('default',
    'k', 'v')" >/dev/null
cq 0 cache clear --all
expect_out "clear --all names each cache" "$(printf 'cleared default\ncleared e2e_c\ncleared %s' \
    "o'brien")"
expect "clear --all empties every cache" \
    "$(sql -c "SELECT sum(total) FROM cachequeue.cache_stats()")" 0
cq 2 cache clear --all --cache e2e_c
expect_err "--all with --cache is a usage error" "excludes"
cq 1 cache clear --cache nope
expect_err "clear of an unknown cache" 'cache "nope" does not exist (SQLSTATE 42704)'

# ---- queue enqueue ----

sql >/dev/null <<'SQL'
SELECT cachequeue.queue_create('e2e_q', 3, '1 hour', 2);
SELECT cachequeue.queue_create('e2e_dead', 0, '1 hour', 0);
SELECT cachequeue.queue_create('e2e_done', 0, '1 hour', 0);
SQL

cq 0 queue enqueue e2e_q send_email
plain=$(cat "$out")
[[ "$plain" =~ ^[0-9]+$ ]] || fail "enqueue printed '$plain', not an id"
echo "ok: enqueue prints the id"
cq 0 queue status "$plain" --json
expect_json "a job with the defaults" 'd["id"] == '"$plain"' and d["queue"] == "e2e_q" and
    d["task"] == "send_email" and d["status"] == "queued" and d["priority"] == 2 and
    d["payload"] == {} and d["attempts"] == 0'

cq 0 queue enqueue e2e_q send_email --payload '{"to": "ana@example.org", "n": [1, 2]}' \
    --priority 7 --json
expect_json "enqueue --json" 'list(d) == ["id"] and type(d["id"]) is int'
full=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$out")
cq 0 queue status "$full" --json
expect_json "payload and priority kept" \
    'd["payload"] == {"to": "ana@example.org", "n": [1, 2]} and d["priority"] == 7'

cq 0 queue enqueue e2e_q later --delay 3600
delayed=$(cat "$out")
expect "--delay: run_at an hour after enqueueing" \
    "$(sql -c "SELECT run_at - enqueued_at FROM cachequeue.job_status($delayed)")" "01:00:00"
cq 0 queue enqueue e2e_q later --run-at '2031-01-02 03:04:05+00'
cq 0 queue status "$(cat "$out")" --json
expect_json "--run-at: ISO 8601 in JSON" 'd["run_at"] == "2031-01-02T03:04:05+00:00"'

cq 0 queue enqueue e2e_q report --unique-key report:7
first=$(cat "$out")
cq 0 queue enqueue e2e_q report --unique-key report:7
expect_out "a held unique key gives the holder's id" "$first"

cq 2 queue enqueue e2e_q t --payload '{"to": '
expect_err "a payload that is not JSON" "--payload: not valid JSON"
cq 2 queue enqueue e2e_q t --payload "{'to': 1}"
cq 1 queue enqueue e2e_q t --payload '[1, 2]'
expect_err "a payload that is not an object" "payload must be a JSON object (SQLSTATE 22023)"
cq 1 queue enqueue nope t
expect_err "enqueue to an unknown queue" 'queue "nope" does not exist (SQLSTATE 42704)'
cq 1 queue enqueue e2e_q t --run-at yesterdayish
expect_err "a bad --run-at" "(SQLSTATE 22007)"
cq 2 queue enqueue e2e_q t --run-at now --delay 5
expect_err "--run-at with --delay" "excludes"
cq 2 queue enqueue e2e_q t --delay -1
expect_err "a negative --delay" "--delay"
cq 2 queue enqueue e2e_q t --priority high
cq 2 queue enqueue e2e_q
expect_err "enqueue needs a task" "TASK"

# ---- queue stats ----

cq 0 queue stats --json
expect_json "queue stats --json: every queue" \
    '[q["queue"] for q in d] == ["e2e_dead", "e2e_done", "e2e_q"]'
expect_json "queue stats --json: counts" '[(q["queued"], q["scheduled"], q["running"],
    q["paused"]) for q in d if q["queue"] == "e2e_q"] == [(3, 2, 0, False)]'
expect_json "queue stats --json: the oldest wait in seconds" '[type(q["oldest_queued_seconds"])
    for q in d] == [type(None), type(None), float]'
sql -c "SELECT cachequeue.queue_pause('e2e_dead')" >/dev/null
cq 0 queue stats
expect "queue stats table header" "$(head -n 1 "$out" | tr -s ' ')" \
    "queue queued scheduled running succeeded dead cancelled oldest_queued_age paused"
expect "queue stats table row" "$(grep '^e2e_dead ' "$out" | tr -s ' ')" \
    "e2e_dead 0 0 0 0 0 0 - yes"
sql -c "SELECT cachequeue.queue_resume('e2e_dead')" >/dev/null

# ---- queue retry ----

# A dead job: claimed and failed with no retries left.
dead=$(sql -c "SELECT cachequeue.job_enqueue('e2e_dead', 'flaky', unique_key => 'k1')")
sql -c "SELECT cachequeue.job_fail(id, lease, 'boom') FROM
    cachequeue.job_claim(ARRAY['e2e_dead'], 'e2e')" >/dev/null
expect "the job is dead" "$(sql -c "SELECT status FROM cachequeue.job_status($dead)")" dead
cq 0 queue status "$dead"
expect "status table: status" "$(grep '^status ' "$out" | tr -s ' ')" "status dead"
expect "status table: last error" "$(grep '^last_error ' "$out" | tr -s ' ')" "last_error boom"

# Its unique key taken by a newer job: refused, and says why.
holder=$(sql -c "SELECT cachequeue.job_enqueue('e2e_dead', 'flaky', unique_key => 'k1')")
cq 3 queue retry "$dead"
expect_err "retry refused: the key is held" "holds its unique key"
sql -c "SELECT cachequeue.job_cancel($holder)" >/dev/null
cq 0 queue retry "$dead"
expect_out "retry" "job $dead queued again"
cq 0 queue status "$dead" --json
expect_json "retried: queued with fresh attempts" \
    'd["status"] == "queued" and d["attempts"] == 0 and d["last_error"] == "boom"'
cq 3 queue retry "$dead"
expect_err "retry refused: the job is queued" "it is queued; only dead or cancelled jobs"
cq 3 queue retry "$holder"
expect_err "retry refused: the retried job now holds the key" "holds its unique key"
cancelled=$(sql -c "SELECT cachequeue.job_enqueue('e2e_dead', 'other')")
sql -c "SELECT cachequeue.job_cancel($cancelled)" >/dev/null
cq 0 queue retry "$cancelled" --json
expect_json "retry --json (a cancelled job)" "d == {\"id\": $cancelled, \"retried\": True}"
cq 1 queue retry 999999999
expect_err "retry of an unknown job" "job 999999999 does not exist (SQLSTATE P0002)"
cq 2 queue retry
cq 2 queue retry 1.5

# ---- queue status ----

cq 1 queue status 999999999
expect_err "status of an unknown job" "job 999999999 does not exist"
cq 0 queue status "$full" --json
expect_json "status --json: every field" 'list(d) == ["id", "queue", "task", "status",
    "attempts", "max_retries", "priority", "payload", "result", "last_error", "errors",
    "worker", "run_at", "lease_expires_at", "enqueued_at", "started_at", "finished_at"]'
expect_json "status --json: NULL as null" \
    'd["result"] is None and d["finished_at"] is None and d["errors"] == []'

# ---- queue purge ----

# Two finished jobs; one made to look finished two hours ago.
sql >/dev/null <<'SQL'
SELECT cachequeue.job_enqueue('e2e_done', 'old');
SELECT cachequeue.job_complete(id, lease, '{"ok": 1}')
FROM cachequeue.job_claim(ARRAY['e2e_done'], 'e2e');
SELECT cachequeue.job_enqueue('e2e_done', 'new');
SELECT cachequeue.job_complete(id, lease, '{"ok": 2}')
FROM cachequeue.job_claim(ARRAY['e2e_done'], 'e2e');
UPDATE cachequeue.jobs SET finished_at = finished_at - interval '2 hours' WHERE task = 'old';
SQL
old=$(sql -c "SELECT id FROM cachequeue.jobs WHERE task = 'old'")
new=$(sql -c "SELECT id FROM cachequeue.jobs WHERE task = 'new'")
cq 0 queue purge --older-than '1 hour'
expect_out "purge prints the count" 1
cq 1 queue status "$old"
expect_err "the old job is gone" "job $old does not exist"
cq 0 queue status "$new" --json
expect_json "the recent job is kept, with its result" \
    'd["status"] == "succeeded" and d["result"] == {"ok": 2} and d["finished_at"] is not None'
cq 0 queue purge --older-than '1 hour' --json
expect_json "purge --json" 'd == {"purged": 0}'
cq 1 queue purge --older-than banana
expect_err "a bad interval" 'invalid input syntax for type interval: "banana" (SQLSTATE 22007)'
cq 1 queue purge --older-than '-1 day'
expect_err "a negative interval" "(SQLSTATE 22023)"
cq 2 queue purge
expect_err "purge needs --older-than" "--older-than"

echo "runner_commands: all checks passed"
