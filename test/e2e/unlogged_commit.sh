#!/usr/bin/env bash
# End-to-end: cachequeue.unlogged_commit_flush (extension/commit_flush.hpp), on a second,
# short-lived cluster (port CQ_SPARE_PORT, default PGPORT + 51) where nothing else flushes
# the WAL while the checks run: no autovacuum, no background writer, no timed checkpoint,
# and wal_writer_delay = 10s. cachequeue is not preloaded: the library loads on a session's
# first call, as on a managed server.
#   1. A commit whose only writes went to an unlogged cache flushes the WAL pages completed
#      before it (a few pages written just before by a non-transactional message).
#   2. It does not with the setting off, nor when the unflushed WAL is longer than 4 pages,
#      nor for a transaction that wrote WAL of its own, nor for a read.
#   3. 2,000 cache writes wake the WAL writer far less often with the setting on than off
#      (its voluntary context switches, from /proc: counts, not times).
# Needs scripts/test.sh's environment (PGPORT).
set -euo pipefail

fail() {
    echo "unlogged_commit: $*" >&2
    exit 1
}
spare_name=cq-unlogged-commit
spare_offset=51
# shellcheck source=lib/spare_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/spare_cluster.sh"
# shellcheck source=lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
page=8192

spare_start "autovacuum = off" "bgwriter_lru_maxpages = 0" "checkpoint_timeout = 1h" \
    "wal_writer_delay = 10s"
sql -c "CREATE EXTENSION cachequeue" \
    -c "SELECT cachequeue.cache_create('unlogged', 300, 100000, 4, true)" \
    -c "CREATE TABLE filler (n int)" >/dev/null

# The WAL writer flushes all it writes the first time it has work, then only every
# wal_writer_delay (or 1MB). Have it flush now, and wait for that: the checks then run in the
# 10 seconds before its next flush. An asynchronous commit wakes it when the commit's page is
# not flushed yet, and the message first moves the WAL onto a new page. (A check that finds
# the WAL flushed when it should not be still tries again.)
sql -c "SELECT pg_logical_emit_message(false, 'cq', repeat('x', $page))" \
    -c "SET synchronous_commit = off" -c "INSERT INTO filler VALUES (0)" >/dev/null
warm=$(sql -c "SELECT pg_current_wal_insert_lsn()")
walwriter_flushed() {
    [[ $(sql -c "SELECT pg_current_wal_flush_lsn() >= '$warm'") == t ]]
}
wait_for "the WAL writer's flush" 15 walwriter_flushed

# flushed SETTING BYTES STATEMENT...: in one session with the setting, reads the cache (the
# session's first call loads the library and catalog entries, which may prune a catalog page
# and so write WAL), flushes the WAL (a synchronous commit), writes BYTES of WAL that nothing
# flushes (a non-transactional message), then runs the statements (each in a transaction of
# its own) and prints whether the WAL is now flushed up to the start of the page the insert
# position was on before them.
flushed() {
    local setting=$1 bytes=$2
    shift 2
    {
        echo "SET cachequeue.unlogged_commit_flush = $setting;"
        echo "SELECT cachequeue.cache_get('unlogged', 'k') IS NULL;"
        echo "INSERT INTO filler VALUES (0);"
        echo "SELECT pg_logical_emit_message(false, 'cq', repeat('x', $bytes)) IS NOT NULL;"
        echo "SELECT pg_current_wal_insert_lsn()"
        echo "    - (pg_current_wal_insert_lsn() - '0/0'::pg_lsn) % $page AS page_start \\gset"
        printf '%s;\n' "$@"
        echo "SELECT pg_current_wal_flush_lsn() >= :'page_start'::pg_lsn;"
    } | sql | tail -n 1
}
# not_flushed WHAT SETTING BYTES STATEMENT...: expects the WAL not flushed. The WAL writer
# may have flushed it by chance (see above): a second try then settles it.
not_flushed() {
    local what=$1
    shift
    [[ $(flushed "$@") == f || $(flushed "$@") == f ]] || fail "$what: the WAL was flushed"
    echo "ok: $what"
}

expect "the setting: on by default, for any session" "$(sql -c "LOAD 'cachequeue'" \
    -c "SELECT setting || ' ' || context FROM pg_settings
        WHERE name = 'cachequeue.unlogged_commit_flush'")" "on user"

set_sql="SELECT cachequeue.cache_set('unlogged', 'k', 'v') IS NULL"
# First the control: with the setting off, the same statements leave the WAL unflushed.
not_flushed "off: no flush" off 12000 "$set_sql"
expect "on: a set's commit flushes the completed pages" "$(flushed on 12000 "$set_sql")" t
not_flushed "on: no flush behind more than 4 pages of WAL" on 60000 "$set_sql"
not_flushed "on: no flush for a transaction that wrote WAL" on 12000 "BEGIN" \
    "SET LOCAL synchronous_commit = off" "INSERT INTO filler VALUES (1)" "$set_sql" "COMMIT"
not_flushed "on: no flush for a read" on 12000 \
    "SELECT cachequeue.cache_get('unlogged', 'k') IS NOT NULL"
expect "on, in a transaction of several writes" "$(flushed on 12000 "BEGIN" "$set_sql" \
    "SELECT cachequeue.cache_add('unlogged', 'k2', 'v')" "COMMIT")" t

# 3. The WAL writer's wake-ups during 2,000 sets, one transaction each.
walwriter=$(sql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'")
[[ -r /proc/$walwriter/status ]] || fail "no /proc status for the WAL writer ($walwriter)"
wakeups() {
    awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$walwriter/status"
}
printf '%s\n' "\\set id random(1, 1000)" \
    "SELECT cachequeue.cache_set('unlogged', 'k' || :id, 'value');" >"$dir/set.sql"
# sets SETTING: prints the WAL writer's wake-ups during 2,000 sets with the setting.
sets() {
    local before
    before=$(wakeups)
    PGOPTIONS="-c cachequeue.unlogged_commit_flush=$1" "$bindir/pgbench" -n -t 2000 \
        -f "$dir/set.sql" -h "$dir/cluster/sock" -p "$port" -U postgres postgres \
        >"$dir/pgbench.log" 2>&1 || return 1
    echo $(($(wakeups) - before))
}
on=$(sets on) || fail "pgbench failed: $(cat "$dir/pgbench.log")"
off=$(sets off) || fail "pgbench failed: $(cat "$dir/pgbench.log")"
echo "WAL writer wake-ups for 2,000 sets: $on with the setting on, $off off"
((on <= 200)) || fail "on: $on wake-ups for 2,000 sets (at most 200 expected)"
((off >= 1000)) || fail "off: $off wake-ups for 2,000 sets (at least 1,000 expected)"
echo "ok: the WAL writer's wake-ups"
echo "unlogged_commit: all checks passed"
