#!/usr/bin/env bash
# Job queue benchmark of cachequeue: pgbench runs of enqueue and of the claim+complete cycle
# against a hand-written SKIP LOCKED queue, the cost of a deep queue, the space left after
# churn, and the effect of a long-held snapshot (see bench/README.md).
#
#   bash bench/queue_bench.sh            # throwaway cluster on port 5435, stopped at the end
#   bash bench/queue_bench.sh --reuse    # use the running server named by PGHOST/PGPORT
#
# Environment: BENCH_SECONDS (per measured run, default 10), BENCH_HELD_SECONDS (the runs of
# held and held_hand, default 60), BENCH_WARMUP (default 2), BENCH_PIN (1: run each 1-client
# pass and its backend on CPU 0; default 1 on the script's own cluster, always 0 with
# --reuse), BENCH_DB (database, recreated; default cachequeue_queue_bench), BENCH_PRELOAD
# (jobs waiting before the warm-up of a cycle workload, default 200000), BENCH_LOAD_JOBS
# (sessions that preload jobs, default 2), BENCH_LOAD_BATCH (jobs per job_enqueue_many call
# while preloading, default 10000), BENCH_CHURN_JOBS (jobs processed by churn, a multiple of
# 10000, default 1000000), BENCH_SYNC_COMMIT (synchronous_commit of the database, on or off,
# default on), BENCH_ONLY (space-separated workload names to run; default all).
# The extension must be installed (make install).
# Output: a Markdown report on stdout and in bench/results/queue-latest.md.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
seconds=${BENCH_SECONDS:-10}
held_seconds=${BENCH_HELD_SECONDS:-60}
warmup=${BENCH_WARMUP:-2}
db=${BENCH_DB:-cachequeue_queue_bench}
preload=${BENCH_PRELOAD:-200000}
load_jobs=${BENCH_LOAD_JOBS:-2}
load_batch=${BENCH_LOAD_BATCH:-10000}
churn_jobs=${BENCH_CHURN_JOBS:-1000000}
sync_commit=${BENCH_SYNC_COMMIT:-on}
pin=${BENCH_PIN:-1}
only=${BENCH_ONLY:-}
port=5435
results="$bench/results/queue-latest.md"
all_workloads="enqueue enqueue_batch cycle cycle_async cycle_batch cycle_hand claim_10k claim_1m"
all_workloads+=" churn"
all_workloads+=" held held_hand"

die() {
    echo "queue_bench: error: $*" >&2
    exit 1
}
note() {
    echo "queue_bench [${SECONDS}s]: $*" >&2
}

reuse=0
case "${1:-}" in
    --reuse) reuse=1 ;;
    "") ;;
    *) die "usage: $0 [--reuse]" ;;
esac
(($# <= 1)) || die "usage: $0 [--reuse]"
positive() {
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer"
}
positive BENCH_SECONDS "$seconds"
positive BENCH_HELD_SECONDS "$held_seconds"
positive BENCH_PRELOAD "$preload"
positive BENCH_LOAD_JOBS "$load_jobs"
positive BENCH_LOAD_BATCH "$load_batch"
positive BENCH_CHURN_JOBS "$churn_jobs"
((churn_jobs % 10000 == 0)) || die "BENCH_CHURN_JOBS must be a multiple of 10000"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ "$pin" =~ ^[01]$ ]] || die "BENCH_PIN must be 0 or 1"
[[ "$sync_commit" =~ ^(on|off)$ ]] || die "BENCH_SYNC_COMMIT must be on or off"
((reuse == 0)) || pin=0
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"
for name in $only; do
    [[ " $all_workloads " == *" $name "* ]] || die "BENCH_ONLY: unknown workload $name"
done

work=$(mktemp -d /tmp/cqqbench.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"
holder_fd=
holder_pid=

bench_before_stop() {
    # Closing its input ends the session that holds a snapshot, if one is still open.
    if [[ -n "$holder_fd" ]]; then
        exec {holder_fd}>&-
        wait "$holder_pid" 2>/dev/null || true
    fi
}
bench_traps


bench_connect

payload='{"to": "x"}'

setup() {
    sql -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
        -c "ALTER DATABASE $db SET synchronous_commit = $sync_commit" >/dev/null
    sql >/dev/null <<EOF
CREATE EXTENSION cachequeue;
SELECT cachequeue.queue_create('bench');
-- The hand-written queue: a plain (logged) table, as cachequeue.jobs is.
CREATE TABLE hand_jobs (id bigserial PRIMARY KEY, queue text, payload jsonb, status text,
    locked_by text, locked_at timestamptz);
CREATE INDEX hand_jobs_queued ON hand_jobs (queue, id) WHERE status = 'queued';
EOF
}

# Each workload runs on a table of one of these kinds:
#   jobs   cachequeue.jobs, emptied first (enqueue workloads)
#   queue  cachequeue.jobs preloaded, and topped up after the warm-up if needed (cycle ...)
#   steady cachequeue.jobs preloaded; the script enqueues one job per job done (claim_*)
#   hand   hand_jobs preloaded, and topped up after the warm-up if needed
table_of() {
    if [[ "$1" == hand ]]; then echo hand_jobs; else echo cachequeue.jobs; fi
}

# add_jobs KIND COUNT: adds COUNT waiting jobs, through job_enqueue_many in batches of
# BENCH_LOAD_BATCH spread over BENCH_LOAD_JOBS sessions, or by one INSERT into hand_jobs.
add_jobs() {
    local kind=$1 count=$2 job first n pids=()
    if [[ "$kind" == hand ]]; then
        sql -c "INSERT INTO hand_jobs (queue, payload, status)
            SELECT 'bench', '$payload', 'queued' FROM generate_series(1, $count)"
        return
    fi
    for ((job = 0; job < load_jobs; job++)); do
        for ((first = job * load_batch; first < count; first += load_jobs * load_batch)); do
            n=$((count - first < load_batch ? count - first : load_batch))
            printf "SELECT count(*) FROM cachequeue.job_enqueue_many('bench', 'send_email', "
            printf "ARRAY(SELECT '%s'::jsonb FROM generate_series(1, %d)));\n" "$payload" "$n"
        done | sql >/dev/null &
        pids+=($!)
    done
    for job in "${pids[@]}"; do
        wait "$job" || die "adding $count jobs failed"
    done
}

# waiting KIND: jobs waiting to be claimed. finished KIND: jobs done (all jobs for 'jobs').
waiting() {
    if [[ "$1" == hand ]]; then
        value "SELECT count(*) FROM hand_jobs WHERE status = 'queued'"
    else
        value "SELECT count(*) FROM cachequeue.jobs WHERE status = 'queued'"
    fi
}
finished() {
    case "$1" in
        hand) value "SELECT count(*) FROM hand_jobs WHERE status = 'done'" ;;
        jobs) value "SELECT count(*) FROM cachequeue.jobs" ;;
        *) value "SELECT count(*) FROM cachequeue.jobs WHERE status = 'succeeded'" ;;
    esac
}

# reset_table KIND COUNT: empties the table, preloads COUNT jobs, and leaves the table vacuumed,
# analyzed and checkpointed, so that each run starts from the same state.
reset_table() {
    local table
    table=$(table_of "$1")
    sql -c "TRUNCATE $table" >/dev/null
    (($2 == 0)) || add_jobs "$1" "$2" >/dev/null
    sql -c "VACUUM ANALYZE $table" -c "CHECKPOINT" >/dev/null
}

declare -A tps=() jobs=() dead=() size_end=() size=() done_jobs=()
failed=0
notes=()


# pgbench_run OUT SCRIPT CLIENTS SECONDS: one pass; a 1-client pass is pinned (BENCH_PIN).
pgbench_run() {
    local prefix=() rc=0
    ((pin && $3 == 1)) && prefix=(taskset -c 0)
    (($3 == 1)) && pin_server on
    "${prefix[@]}" "$bindir/pgbench" -M prepared -n -c "$3" -j "$3" -T "$4" \
        -f "$bench/sql/queue_$2.sql" >"$1" 2>&1 || rc=$?
    pin_server off
    return "$rc"
}

# dry_of OUT: whether pgbench stopped because a claim returned no job.
dry_of() {
    grep -q -e 'expected one row, got 0' -e 'malformed array literal' "$1"
}

# Another session holds a snapshot (REPEATABLE READ, after one read of TABLE) from
# hold_start until hold_stop, as a long report or a forgotten transaction would.
hold_start() {
    local table=$1 i
    mkfifo "$work/holder.fifo"
    PGAPPNAME=cqbench_holder sql <"$work/holder.fifo" >"$work/holder.out" 2>&1 &
    holder_pid=$!
    exec {holder_fd}>"$work/holder.fifo"
    printf 'BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT count(*) FROM %s;\n' "$table" \
        >&"$holder_fd"
    for ((i = 0; i < 300; i++)); do
        [[ $(value "SELECT count(*) FROM pg_stat_activity
            WHERE application_name = 'cqbench_holder' AND state = 'idle in transaction'
            AND backend_xmin IS NOT NULL") == 1 ]] && return 0
        sleep 0.1
    done
    die "the session meant to hold a snapshot did not start: $(cat "$work/holder.out")"
}
hold_stop() {
    printf 'COMMIT;\n' >&"$holder_fd"
    exec {holder_fd}>&-
    holder_fd=
    wait "$holder_pid" || die "the session holding a snapshot failed: $(cat "$work/holder.out")"
    rm -f "$work/holder.fifo"
}


# measure KEY LABEL NAME KIND PER_TX CLIENTS SECONDS PRELOAD HOLD: starts from a table reset
# with PRELOAD jobs, runs a warm-up pass, tops the queue up when the measured pass could
# drain it, then runs the measured pass of SECONDS (with a snapshot held when HOLD is 1).
# Results go to tps[KEY], jobs[KEY] (jobs per second) and done_jobs[KEY], and the dead
# tuples and the size of the table at the end to dead[KEY] and size_end[KEY].
measure() {
    local key=$1 label=$2 name=$3 kind=$4 per_tx=$5 c=$6 secs=$7 load=$8 hold=$9
    local out="$work/$key.out" t rate need have left before after processed t0 text=""
    t0=$SECONDS
    reset_table "$kind" "$load"
    ((load == 0)) || text="preload of $(count_text "$load") jobs: $((SECONDS - t0)) s; "
    note "$label: warm-up ${warmup}s, then ${secs}s"
    tps[$key]=error
    if ((warmup > 0)); then
        if ! pgbench_run "$out" "$name" "$c" "$warmup" || [[ -z "$(tps_of "$out")" ]]; then
            dry_of "$out" && add_note "$label: **a claim returned no job in the warm-up," \
                "with $(count_text "$(waiting "$kind")") jobs waiting after it**"
            failed=1
            note "$label: the warm-up failed; pgbench said:"
            tail -n 15 "$out" >&2
            return 0
        fi
        # The measured pass needs rate x seconds jobs; keep half as much again in reserve.
        rate=$(mult "$(tps_of "$out")" "$per_tx")
        if [[ "$kind" == queue || "$kind" == hand ]]; then
            need=$(awk -v r="$rate" -v s="$secs" 'BEGIN { printf "%d", 10000 + r * s * 1.5 }')
            have=$(waiting "$kind")
            if ((have < need)); then
                add_jobs "$kind" "$((need - have))"
                text+="topped up with $(count_text $((need - have))) jobs after the warm-up; "
            fi
        fi
    fi
    have=$(waiting "$kind")
    before=$(finished "$kind")
    ((hold)) && hold_start "$(table_of "$kind")"
    if pgbench_run "$out" "$name" "$c" "$secs" && [[ -n "$(tps_of "$out")" ]]; then
        t=$(tps_of "$out")
        tps[$key]=$t
        jobs[$key]=$(mult "$t" "$per_tx")
    fi
    sleep 1 # the backends report their statistics as they exit
    dead[$key]=$(value "SELECT n_dead_tup FROM pg_stat_user_tables
        WHERE relid = '$(table_of "$kind")'::regclass")
    size_end[$key]=$(value "SELECT pg_total_relation_size('$(table_of "$kind")')")
    ((hold)) && hold_stop
    if [[ "${tps[$key]}" == error ]]; then
        failed=1
        dry_of "$out" && add_note "$label: **a claim returned no job, with" \
            "$(count_text "$(waiting "$kind")") jobs waiting after the run**"
        note "$label failed; pgbench said:"
        tail -n 15 "$out" >&2
        return 0
    fi
    after=$(finished "$kind")
    processed=$(processed_of "$out")
    done_jobs[$key]=$((after - before))
    # A claim of 100 can get fewer jobs: jobs/s counts the jobs actually done.
    if ((after - before != processed * per_tx)); then
        jobs[$key]=$(awk -v t="$t" -v d="$((after - before))" -v p="$processed" \
            'BEGIN { printf "%.2f", (p > 0 ? t * d / p : 0) }')
        add_note "$label: **$(count_text $((after - before))) jobs done in" \
            "$(count_text "$processed") transactions meant for $per_tx job(s) each;" \
            "jobs/s counts the jobs done**"
    fi
    if [[ "$kind" != jobs ]]; then
        left=$(waiting "$kind")
        text+="$(count_text "$have") jobs waiting when the measured run started,"
        text+=" $(count_text "$left") at its end"
        if ((left == 0)); then
            text+=" **(ran dry: the figure is not valid)**"
            failed=1
        fi
    fi
    [[ -z "$text" ]] || add_note "$label: ${text%; }"
}

# workload NAME KIND PER_TX PRELOAD: measure at 1 and 4 clients.
workload() {
    local name=$1 c
    [[ -z "$only" || " $only " == *" $name "* ]] || return 0
    measure "$name,1" "$name, 1 client" "$name" "$2" "$3" 1 "$seconds" "$4" 0
    measure "$name,4" "$name, 4 clients" "$name" "$2" "$3" 4 "$seconds" "$4" 0
}

# held NAME KIND: the cycle at 4 clients for BENCH_HELD_SECONDS, undisturbed and then with a
# snapshot held for the whole measured run.
held() {
    local name=$1 kind=$2 script=cycle
    [[ "$name" == held_hand ]] && script=cycle_hand
    [[ -z "$only" || " $only " == *" $name "* ]] || return 0
    measure "$name,free" "$name: $script, 4 clients, undisturbed" "$script" "$kind" 1 4 \
        "$held_seconds" "$preload" 0
    measure "$name,held" "$name: $script, 4 clients, snapshot held" "$script" "$kind" 1 4 \
        "$held_seconds" "$preload" 1
}

# relation_sizes: "relation bytes" lines for cachequeue.jobs and each of its indexes.
relation_sizes() {
    value "SELECT 'jobs(total)', pg_total_relation_size('cachequeue.jobs')
        UNION ALL SELECT 'jobs(heap)', pg_relation_size('cachequeue.jobs')
        UNION ALL (SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'cachequeue.jobs'::regclass ORDER BY c.relname)" |
        tr '|' ' '
}
size_order=()
# record_sizes STAGE: keeps the sizes in size[STAGE,relation].
record_sizes() {
    local rel bytes
    while read -r rel bytes; do
        size[$1,$rel]=$bytes
        [[ "$1" != start ]] || size_order+=("$rel")
    done < <(relation_sizes)
}

# churn_round: 10,000 jobs enqueued, then claimed and completed 1,000 at a time (claim and
# complete in separate transactions), then purged and vacuumed, as pg_cron and autovacuum
# would do on a live queue.
churn_round() {
    sql >>"$work/churn.out" 2>&1 <<EOF
DO \$\$
DECLARE
    ids bigint[];
    leases uuid[];
BEGIN
    PERFORM count(*) FROM cachequeue.job_enqueue_many('bench', 'send_email',
        ARRAY(SELECT '$payload'::jsonb FROM generate_series(1, 10000)));
    COMMIT;
    FOR batch IN 1..10 LOOP
        SELECT array_agg(c.id), array_agg(c.lease) INTO ids, leases
            FROM cachequeue.job_claim(ARRAY['bench'], 'churn', 1000) AS c;
        COMMIT;
        PERFORM cachequeue.job_complete_many(ids, leases);
        COMMIT;
    END LOOP;
END
\$\$;
SELECT cachequeue.job_purge('0 s');
VACUUM cachequeue.jobs;
EOF
}

# churn: BENCH_CHURN_JOBS jobs go through the queue in rounds of 10,000 (churn_round). The
# sizes after the first round are the start; the sizes after the last, the end.
churn() {
    [[ -z "$only" || " $only " == *" churn "* ]] || return 0
    local t0 round rounds=$((churn_jobs / 10000))
    note "churn: $churn_jobs jobs through the queue"
    sql -c "TRUNCATE cachequeue.jobs" >/dev/null
    : >"$work/churn.out"
    t0=$SECONDS
    churn_round || { failed=1; add_note "churn: **a round failed**"; return 0; }
    record_sizes start
    for ((round = 2; round <= rounds; round++)); do
        if ! churn_round; then
            failed=1
            add_note "churn: **round $round failed**: $(tail -n 5 "$work/churn.out" |
                tr '\n' ' ')"
            return 0
        fi
    done
    add_note "churn: $(count_text "$churn_jobs") jobs enqueued, claimed, completed and" \
        "purged in rounds of 10,000 in $((SECONDS - t0)) s"
    record_sizes after
}



t_start=$SECONDS
library_before=$(library)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
note "setup of database $db"
setup
others_before=$(other_servers)
pg_version=$(value "SHOW server_version")
ext_version=$(value "SELECT extversion FROM pg_extension WHERE extname = 'cachequeue'")

# Churn first: its starting sizes are those of the table as CREATE EXTENSION made it.
churn
workload enqueue jobs 1 0
workload enqueue_batch jobs 100 0
workload cycle queue 1 "$preload"
workload cycle_async queue 1 "$preload"
workload cycle_batch queue 100 "$preload"
workload cycle_hand hand 1 "$preload"
workload claim_10k steady 1 10000
workload claim_1m steady 1 1000000
held held queue
held held_hand hand
elapsed=$((SECONDS - t_start))
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
others_after=$(other_servers)
library_after=$(library)

# ratio A B: A's jobs per second over B's, two decimals, or n/a.
ratio() {
    local a=${jobs[$1]:-} b=${jobs[$2]:-}
    if [[ -z "$a" || -z "$b" ]]; then
        echo n/a
    else
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
    fi
}
# meets TARGET RATIO...: yes when every ratio given reaches TARGET (">= x" or "<= x").
meets() {
    local target=$1 r
    shift
    [[ "$target" == - ]] && { echo -; return; }
    for r in "$@"; do
        [[ "$r" == n/a ]] && { echo n/a; return; }
    done
    awk -v t="$target" -v list="$*" 'BEGIN {
        n = split(list, r, " "); op = substr(t, 1, 2); v = substr(t, 4) + 0; ok = 1
        for (i = 1; i <= n; i++)
            if ((op == ">=" && r[i] < v) || (op == "<=" && r[i] > v)) ok = 0
        print (ok ? "yes" : "no") }'
}
number() {
    if [[ -z "$1" || "$1" == error ]]; then
        echo error
    else
        awk -v t="$1" 'BEGIN { printf "%.0f", t }'
    fi
}
kib() {
    awk -v b="$1" 'BEGIN { printf "%.0f", b / 1024 }'
}

report() {
    local name c a b r1 r4 target rel
    echo "# cachequeue job queue benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n 1)"
    echo "- PostgreSQL: $pg_version; cachequeue $ext_version (library md5 $library_before)"
    if [[ "$library_after" != "$library_before" ]]; then
        echo "- **WARNING: cachequeue.so was reinstalled during the run (md5 now" \
            "$library_after): the results mix two builds; run again**"
    fi
    echo "- pgbench -M prepared -n, -c N -j N, ${seconds}s per run after a ${warmup}s warm-up"
    echo "  (held and held_hand: ${held_seconds}s at 4 clients);" \
        "synchronous_commit = $sync_commit"
    if ((pin)); then
        echo "- 1-client runs pinned with their backend to CPU 0 (BENCH_PIN=1)"
    else
        echo "- 1-client runs not pinned (BENCH_PIN=0)"
    fi
    echo "- load average before / after: $load_before / $load_after"
    echo "- other PostgreSQL servers running on the machine, before / after:" \
        "$others_before / $others_after"
    echo "- total time: ${elapsed}s"
    echo
    echo "| workload | clients | TPS | jobs/s |"
    echo "|---|---:|---:|---:|"
    for name in enqueue enqueue_batch cycle cycle_async cycle_batch cycle_hand claim_10k \
        claim_1m; do
        for c in 1 4; do
            [[ -n "${tps[$name,$c]:-}" ]] || continue
            echo "| $name | $c | $(number "${tps[$name,$c]}") |" \
                "$(number "${jobs[$name,$c]:-}") |"
        done
    done
    if [[ -n "${tps[held,free]:-}${tps[held_hand,free]:-}" ]]; then
        echo
        echo "Held snapshot, 4 clients, ${held_seconds}s: dead tuples and table size at the end."
        echo
        echo "| workload | run | jobs/s | jobs done | n_dead_tup | table kB |"
        echo "|---|---|---:|---:|---:|---:|"
        for name in held held_hand; do
            for c in free held; do
                [[ -n "${tps[$name,$c]:-}" ]] || continue
                a="undisturbed"
                [[ "$c" == held ]] && a="snapshot held"
                b=cycle
                [[ "$name" == held_hand ]] && b=cycle_hand
                echo "| $b | $a | $(number "${jobs[$name,$c]:-}") |" \
                    "$(count_text "${done_jobs[$name,$c]:-0}") | ${dead[$name,$c]:-?} |" \
                    "$(kib "${size_end[$name,$c]:-0}") |"
            done
        done
    fi
    if [[ ${#size_order[@]} -gt 0 && -n "${size[after,jobs(total)]:-}" ]]; then
        echo
        echo "Size through churn: $(count_text "$churn_jobs") jobs processed in rounds of" \
            "10,000, each round purged and vacuumed; start is after the first round (kB)."
        echo
        echo "| relation | start | after | after/start | target | met |"
        echo "|---|---:|---:|---:|---:|---|"
        for rel in "${size_order[@]}"; do
            a=${size[start,$rel]}
            b=${size[after,$rel]}
            if ((a > 0)); then
                r1=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
            else
                r1=n/a
            fi
            echo "| $rel | $(kib "$a") | $(kib "$b") | $r1 | <= 2 | $(meets "<= 2" "$r1") |"
        done
    fi
    echo
    echo "| ratio (jobs/s) | 1 client | 4 clients | target | met |"
    echo "|---|---:|---:|---:|---|"
    while read -r a b target; do
        r1=$(ratio "$a,1" "$b,1")
        r4=$(ratio "$a,4" "$b,4")
        [[ "$target" == - ]] || target=">= $target"
        echo "| $a/$b | $r1 | $r4 | $target | $(meets "$target" "$r1" "$r4") |"
    done <<EOF
cycle cycle_hand 1.5
cycle_async cycle_hand 1.5
cycle_batch cycle 20
claim_1m claim_10k 0.8
enqueue_batch enqueue -
cycle_batch cycle_hand -
EOF
    r4=$(ratio held,held held,free)
    echo "| cycle held/undisturbed | - | $r4 | >= 0.7 | $(meets ">= 0.7" "$r4") |"
    r4=$(ratio held_hand,held held_hand,free)
    echo "| cycle_hand held/undisturbed | - | $r4 | - | - |"
    echo
    for c in "${notes[@]}"; do
        echo "- $c"
    done
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
((failed == 0)) || die "some workloads failed (see 'error' and the notes above)"
