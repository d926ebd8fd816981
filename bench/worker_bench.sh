#!/usr/bin/env bash
# Worker benchmark of cachequeue: BENCH_JOBS no-op jobs through `cachequeue worker` with a
# command handler and with a long-lived handler, at concurrency 1 and 4 and with batched
# claims, against the SQL-only claim+complete cycle that pgbench measures in the same run;
# and the worker's own resident memory, idle and under load (see bench/README.md).
#
#   bash bench/worker_bench.sh            # throwaway cluster on port 5436, stopped at the end
#   bash bench/worker_bench.sh --reuse    # use the running server named by PGHOST/PGPORT
#
# Environment: BENCH_JOBS (jobs per worker run, default 20000), BENCH_SECONDS (measured pass
# of each pgbench reference, default 5), BENCH_WARMUP (default 2), BENCH_PRELOAD (jobs waiting
# before a reference's warm-up, default 100000), BENCH_LOAD_JOBS (sessions that enqueue,
# default 2), BENCH_LOAD_BATCH (jobs per job_enqueue_many call, default 10000),
# BENCH_SYNC_COMMIT (on or off, default on), BENCH_DB (database, recreated; default
# cachequeue_worker_bench), BENCH_RUNNER (repo: glue/cachequeue, the default; installed:
# /usr/local/bin/cachequeue; or a path), BENCH_PYTHON (interpreter of the long-lived handler,
# default /usr/bin/python3), BENCH_LOG_LEVEL (CACHEQUEUE_LOG_LEVEL of the worker, default
# info), BENCH_IDLE_SECONDS (default 2), BENCH_TIMEOUT (seconds a worker run may take,
# default 300), BENCH_ONLY (space-separated run names; default all but the optional
# command_c4_b4).
# The extension must be installed (make install) and the runner built (make).
# Output: a Markdown report on stdout and in bench/results/worker-latest.md.
set -euo pipefail
export LC_ALL=C

script_path=$(realpath "${BASH_SOURCE[0]}")
bench=$(dirname "$script_path")
repo=$(dirname "$bench")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
jobs_n=${BENCH_JOBS:-20000}
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-2}
preload=${BENCH_PRELOAD:-100000}
load_jobs=${BENCH_LOAD_JOBS:-2}
load_batch=${BENCH_LOAD_BATCH:-10000}
sync_commit=${BENCH_SYNC_COMMIT:-on}
db=${BENCH_DB:-cachequeue_worker_bench}
runner_choice=${BENCH_RUNNER:-repo}
python=${BENCH_PYTHON:-/usr/bin/python3}
log_level=${BENCH_LOG_LEVEL:-info}
idle_seconds=${BENCH_IDLE_SECONDS:-2}
run_timeout=${BENCH_TIMEOUT:-300}
only=${BENCH_ONLY:-}
port=5436
pin=0 # lib.sh's pinning is not used: a worker run is three processes (see bench/README.md)
results="$bench/results/worker-latest.md"
handler_script="$bench/handlers/noop_long_lived.py"
command_handler=/bin/true
payload='{"to": "x"}'
# name handler concurrency batch prefetch connections: the worker runs. Those in optional_runs
# run only
# when BENCH_ONLY names them (they would take the default run past 5 minutes).
worker_runs="command_c1_b1 command 1 1 1 1
long_c1_b1 long 1 1 1 1
long_c1_b100 long 1 100 1 1
long_c1_b100_p25 long 1 100 25 1
command_c4_b1 command 4 1 1 1
command_c4_b4 command 4 4 1 1
long_c4_b1 long 4 1 1 1
long_c4_b100 long 4 100 1 1
long_c4_b100_p25 long 4 100 25 1
long_c4_b100_k2 long 4 100 1 2
long_c4_b100_p25_k2 long 4 100 25 2"
optional_runs="command_c4_b4"
all_runs="handlers idle cycle cycle_async cycle_batch"
all_runs+=" $(cut -d ' ' -f 1 <<<"$worker_runs" | tr '\n' ' ')"

die() {
    echo "worker_bench: error: $*" >&2
    exit 1
}
note() {
    echo "worker_bench [${SECONDS}s]: $*" >&2
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
positive BENCH_JOBS "$jobs_n"
positive BENCH_SECONDS "$seconds"
positive BENCH_PRELOAD "$preload"
positive BENCH_LOAD_JOBS "$load_jobs"
positive BENCH_LOAD_BATCH "$load_batch"
positive BENCH_IDLE_SECONDS "$idle_seconds"
positive BENCH_TIMEOUT "$run_timeout"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
[[ "$sync_commit" =~ ^(on|off)$ ]] || die "BENCH_SYNC_COMMIT must be on or off"
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case name"
[[ "$log_level" =~ ^(trace|debug|info|warning|error|critical|off)$ ]] ||
    die "BENCH_LOG_LEVEL must be one of trace, debug, info, warning, error, critical, off"
for name in $only; do
    [[ " $all_runs " == *" $name "* ]] || die "BENCH_ONLY: unknown run $name"
done
case "$runner_choice" in
    repo) runner="$repo/glue/cachequeue" ;;
    installed) runner=/usr/local/bin/cachequeue ;;
    *) runner=$(realpath -m "$runner_choice") ;;
esac
[[ -x "$runner" ]] || die "no runner at $runner (build it with make, or set BENCH_RUNNER)"
[[ -x "$python" ]] || die "BENCH_PYTHON: $python is not an executable"
[[ -x "$command_handler" ]] || die "$command_handler is missing"

work=$(mktemp -d /tmp/cqwbench.XXXXXX)
# shellcheck source=bench/lib.sh
source "$bench/lib.sh"
worker_pid=

bench_before_stop() {
    if [[ -n "$worker_pid" ]]; then
        kill -KILL "$worker_pid" 2>/dev/null || true
        wait "$worker_pid" 2>/dev/null || true
    fi
}
bench_traps

bench_connect
# The worker reads the Django-style settings: the database variables and QUEUE_CONFIG with
# the two handlers. It runs in $work, where no .env file is.
cat >"$work/queue_config.json" <<JSON
{"BACKEND": "cachequeue",
 "QUEUES": {"bench": {"max_retries": 3, "timeout": 30, "priority": 0}},
 "HANDLERS": {
   "noop_command": ["$command_handler"],
   "noop_long": {"argv": ["$python", "$handler_script"], "persistent": true}}}
JSON
export QUEUE_CONFIG_FILE="$work/queue_config.json" CACHEQUEUE_LOG_LEVEL=$log_level
export DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_NAME="$db" DB_USER="$PGUSER"
export DB_PASSWORD="${PGPASSWORD:-}"
unset DATABASE_URL USE_SUPABASE CACHEQUEUE_POOLER SUPABASE_DB_HOST SUPABASE_DB_PASSWORD
cd "$work"
# A fifo nobody writes to: `read -t` on it sleeps without starting a process.
mkfifo "$work/tick.fifo"
exec {tick_fd}<>"$work/tick.fifo"

# selected NAME: whether BENCH_ONLY lets the run NAME through (optional runs: names it).
selected() {
    [[ " $only " == *" $1 "* ]] || [[ -z "$only" && " $optional_runs " != *" $1 "* ]]
}

setup() {
    sql -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
        -c "ALTER DATABASE $db SET synchronous_commit = $sync_commit" >/dev/null
    sql >/dev/null <<EOF
CREATE EXTENSION cachequeue;
SELECT cachequeue.queue_create('bench');
EOF
}

# add_jobs TASK COUNT: COUNT jobs of TASK, through job_enqueue_many in calls of
# BENCH_LOAD_BATCH spread over BENCH_LOAD_JOBS sessions.
add_jobs() {
    local task=$1 count=$2 job first n pids=()
    for ((job = 0; job < load_jobs; job++)); do
        for ((first = job * load_batch; first < count; first += load_jobs * load_batch)); do
            n=$((count - first < load_batch ? count - first : load_batch))
            printf "SELECT count(*) FROM cachequeue.job_enqueue_many('bench', '%s', " "$task"
            printf "ARRAY(SELECT '%s'::jsonb FROM generate_series(1, %d)));\n" "$payload" "$n"
        done | sql >/dev/null &
        pids+=($!)
    done
    for job in "${pids[@]}"; do
        wait "$job" || die "adding $count jobs failed"
    done
}
waiting() {
    value "SELECT count(*) FROM cachequeue.jobs WHERE status = 'queued'"
}
succeeded() {
    value "SELECT count(*) FROM cachequeue.jobs WHERE status = 'succeeded'"
}
# reset_table TASK COUNT: an empty table, then COUNT jobs of TASK, vacuumed, analyzed and
# checkpointed, so that each run starts from the same state.
reset_table() {
    sql -c "TRUNCATE cachequeue.jobs" >/dev/null
    add_jobs "$1" "$2"
    sql -c "VACUUM ANALYZE cachequeue.jobs" -c "CHECKPOINT" >/dev/null
}

# elapsed T0 T1: seconds between two $EPOCHREALTIME readings, three decimals.
elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

declare -A rate=() secs=() rss_max=() rss_hwm=() rss_samples=() idle_rss=() cost=()
declare -A cpu_server=() cpu_client=() cpu_busy=()
failed=0
notes=()

# ---- CPU time, from /proc: the server's and the client's, per job ----
# The server's share is what the postmaster and its children used, those that exited (a
# backend ends with its connection) included, as the kernel adds a reaped child's time to its
# parent's. The client's is what this shell's children used: pgbench, or the worker with the
# handlers it started and reaped.

clk_tck=$(getconf CLK_TCK)
postmaster_pid=
# find_postmaster: the server's first line of postmaster.pid, when the server runs on this
# machine (its /proc entries, the list of its children included, are ours to read) and we may
# read its files (a superuser).
find_postmaster() {
    local pid
    pid=$(value "SELECT split_part(pg_read_file('postmaster.pid'), E'\n', 1)" 2>/dev/null) ||
        return 0
    [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/stat" && -r "/proc/$pid/task/$pid/children" ]] &&
        postmaster_pid=$pid
    return 0
}
# server_ticks: the server's CPU time so far, in clock ticks (utime, stime, cutime and cstime
# of the postmaster and of each child still there).
server_ticks() {
    local pid total=0 fields children
    read -r -a children <"/proc/$postmaster_pid/task/$postmaster_pid/children" || true
    for pid in "$postmaster_pid" "${children[@]}"; do
        read -r -a fields <"/proc/$pid/stat" 2>/dev/null || continue
        total=$((total + fields[13] + fields[14] + fields[15] + fields[16]))
    done
    echo "$total"
}
# client_seconds: user + system time of this shell's children so far, as the last `times`
# written to $work/times.txt (`times` itself must run in this shell, not in a $(...)).
client_seconds() {
    awk 'NR == 2 {
        for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] }
        printf "%.3f", s }' "$work/times.txt"
}
# cpu_mark: remembers the server's and the client's CPU time (call before a measured pass).
cpu_mark() {
    [[ -n "$postmaster_pid" ]] || return 0
    mark_server=$(server_ticks)
    times >"$work/times.txt"
    mark_client=$(client_seconds)
}
# cpu_since_mark JOBS SECONDS: sets cpu_result to "server client busy" since cpu_mark: µs of
# server and of client CPU per job, and the CPUs kept busy on average (both, over the elapsed
# SECONDS); "- - -" when the server is not on this machine. Runs in this shell (not in $(...),
# whose `times` would be a subshell's). Waits a moment first, for the backends of the pass to
# exit and be reaped (a backend caught between the two would be counted twice or not).
cpu_since_mark() {
    cpu_result="- - -"
    [[ -n "$postmaster_pid" ]] || return 0
    read -r -t 0.3 -u "$tick_fd" _ || true
    local server client
    server=$(server_ticks)
    times >"$work/times.txt"
    client=$(client_seconds)
    cpu_result=$(awk -v s="$((server - mark_server))" -v hz="$clk_tck" -v c0="$mark_client" \
        -v c1="$client" -v n="$1" -v t="$2" 'BEGIN {
            srv = s / hz; cli = c1 - c0
            printf "%.1f %.1f %.2f", srv * 1e6 / n, cli * 1e6 / n, (srv + cli) / t }')
}

# ---- the SQL reference: pgbench, as bench/queue_bench.sh runs it ----

pgbench_run() {
    "$bindir/pgbench" -M prepared -n -c "$3" -j "$3" -T "$4" -f "$bench/sql/queue_$2.sql" \
        >"$1" 2>&1 && [[ -n "$(tps_of "$1")" ]]
}

# sql_run NAME CLIENTS: bench/sql/queue_NAME.sql at CLIENTS clients, from a queue reset with
# BENCH_PRELOAD jobs: a warm-up pass, a top-up when the measured pass could drain the queue,
# then the measured pass of BENCH_SECONDS. rate[NAME,CLIENTS] is its jobs per second: the
# TPS times the jobs the measured pass completed per transaction.
sql_run() {
    local name=$1 c=$2 key="$1,$2" per_tx=1 out="$work/$1-$2.out" estimate need have
    local before after processed tps left text=""
    selected "$name" || return 0
    [[ "$name" == cycle_batch ]] && per_tx=100
    note "$name, $c client(s): warm-up ${warmup}s, then ${seconds}s"
    reset_table noop_sql "$preload"
    rate[$key]=error
    if ((warmup > 0)); then
        if ! pgbench_run "$out" "$name" "$c" "$warmup"; then
            failed=1
            add_note "$name, $c client(s): **the warm-up failed**"
            tail -n 15 "$out" >&2
            return 0
        fi
        # The measured pass needs rate x seconds jobs; keep half as much again in reserve.
        estimate=$(mult "$(tps_of "$out")" "$per_tx")
        need=$(awk -v r="$estimate" -v s="$seconds" 'BEGIN { printf "%d", 10000 + r * s * 1.5 }')
        have=$(waiting)
        if ((have < need)); then
            add_jobs noop_sql "$((need - have))"
            text="topped up with $(count_text $((need - have))) jobs after the warm-up; "
        fi
    fi
    have=$(waiting)
    before=$(succeeded)
    cpu_mark
    if ! pgbench_run "$out" "$name" "$c" "$seconds"; then
        failed=1
        add_note "$name, $c client(s): **the measured pass failed**"
        tail -n 15 "$out" >&2
        return 0
    fi
    tps=$(tps_of "$out")
    cpu_since_mark "$(awk -v t="$tps" -v s="$seconds" -v p="$per_tx" \
        'BEGIN { printf "%d", t * s * p }')" "$seconds"
    read -r cpu_server[$key] cpu_client[$key] cpu_busy[$key] <<<"$cpu_result"
    after=$(succeeded)
    processed=$(processed_of "$out")
    left=$(waiting)
    rate[$key]=$(awk -v t="$tps" -v d="$((after - before))" -v p="$processed" \
        'BEGIN { printf "%.2f", (p > 0 ? t * d / p : 0) }')
    text+="$(count_text "$((after - before))") jobs in $(count_text "$processed") transactions;"
    text+=" $(count_text "$have") jobs waiting at the start, $(count_text "$left") at the end"
    if ((left == 0)); then
        text+=" **(ran dry: the figure is not valid)**"
        failed=1
    fi
    add_note "$name, $c client(s): $text"
}

# ---- the worker runs ----

# proc_status PID: the text of /proc/PID/status in one read() (into status_text); fails when
# the process is gone. Reading it line by line would not do: every line read seeks back,
# the kernel then renders the file again, and a line that changed length in between (State:
# "R (running)" or "S (sleeping)") shifts the rest, so a VmRSS line is now and then missed.
proc_status() {
    status_text=
    IFS= read -r -d '' status_text 2>/dev/null <"/proc/$1/status" || [[ -n "$status_text" ]]
}
# sample_rss PID: every ~100 ms, VmRSS of process PID (its own memory: handlers are
# processes of their own) until it exits; prints "largest-VmRSS VmHWM samples", in kB. Past
# BENCH_TIMEOUT seconds it stops the process (SIGTERM, SIGKILL 5 s later) and prints
# "timeout" as a fourth word.
sample_rss() {
    local pid=$1 tick max=0 hwm=0 n=0 rss status_text t0=${EPOCHREALTIME%.*} over=""
    exec {tick}<>"$work/tick.fifo"
    while proc_status "$pid"; do
        [[ "$status_text" =~ VmRSS:[[:space:]]+([0-9]+) ]] || break # a zombie: it has exited
        rss=${BASH_REMATCH[1]}
        [[ "$status_text" =~ VmHWM:[[:space:]]+([0-9]+) ]] && hwm=${BASH_REMATCH[1]}
        ((rss > max)) && max=$rss
        n=$((n + 1))
        if [[ -z "$over" ]] && ((${EPOCHREALTIME%.*} - t0 > run_timeout)); then
            over=timeout
            kill -TERM "$pid" 2>/dev/null || true
            (read -r -t 5 -u "$tick" _ || true; kill -KILL "$pid" 2>/dev/null || true) &
        fi
        read -r -t 0.1 -u "$tick" _ || true
    done
    echo "$max $hwm $n $over"
}

# log_problems LOG: the worker's log lines that are not info (warnings, errors), counted.
log_problems() {
    grep -c -v -E '^[^ ]+ (info|debug|trace) ' "$1" || true
}

# worker_pass NAME KIND CONCURRENCY BATCH PREFETCH CONNECTIONS: one timed pass (see worker_run); sets pass_rate
# (error when it failed), pass_secs, pass_rss ("largest-VmRSS VmHWM samples") and pass_cpu
# (see cpu_since_mark).
worker_pass() {
    local name=$1 kind=$2 c=$3 b=$4 p=$5 k=$6 log="$work/$1.log" t0 t1 rc=0 sampler words ok
    local total
    local problems
    reset_table "noop_$kind" "$jobs_n"
    pass_rate=error
    cpu_mark
    t0=$EPOCHREALTIME
    "$runner" worker bench --until-empty --concurrency "$c" --batch-size "$b" \
        --prefetch "$p" --connections "$k" >"$log" 2>&1 &
    worker_pid=$!
    sample_rss "$worker_pid" >"$work/$name.rss" &
    sampler=$!
    wait "$worker_pid" || rc=$?
    t1=$EPOCHREALTIME
    worker_pid=
    wait "$sampler" || true
    read -r -a words <"$work/$name.rss"
    pass_rss="${words[0]} ${words[1]} ${words[2]}"
    pass_secs=$(elapsed "$t0" "$t1")
    cpu_since_mark "$jobs_n" "$pass_secs"
    pass_cpu=$cpu_result
    read -r ok total < <(value "SELECT count(*) FILTER (WHERE status = 'succeeded'
        AND attempts = 1), count(*) FROM cachequeue.jobs" | tr '|' ' ')
    problems=$(log_problems "$log")
    if [[ "${words[3]:-}" == timeout ]]; then
        add_note "$name: **stopped after BENCH_TIMEOUT = $run_timeout s**"
    elif ((rc != 0)); then
        add_note "$name: **the worker exited with status $rc**"
    fi
    if [[ "${words[3]:-}" == timeout ]] || ((rc != 0 || ok != jobs_n || total != jobs_n)); then
        failed=1
        add_note "$name: **FAILED: $(count_text "$ok") of $(count_text "$total") jobs" \
            "succeeded on their first attempt, $(count_text "$jobs_n") expected**"
        note "$name failed; the end of the worker's log:"
        tail -n 15 "$log" >&2
        return 0
    fi
    pass_rate=$(awk -v n="$jobs_n" -v s="$pass_secs" 'BEGIN { printf "%.2f", n / s }')
    if awk -v n="${words[2]}" -v s="$pass_secs" 'BEGIN { exit !(s > 1 && n < s * 5) }'; then
        add_note "$name: **its memory was sampled only ${words[2]} times in $pass_secs s**"
    fi
    if ((problems > 0)); then
        add_note "$name: **$problems log line(s) above info**, the first:" \
            "\`$(grep -v -m 1 -E '^[^ ]+ (info|debug|trace) ' "$log" | cut -c 1-200)\`"
    fi
}

# worker_run NAME HANDLER CONCURRENCY BATCH PREFETCH CONNECTIONS: BENCH_JOBS jobs for the handler (command or
# long) in a freshly reset queue, then `cachequeue worker bench --until-empty`, timed from
# its start to its exit while its memory is sampled. Then every job must have succeeded on
# its first attempt. A batched run (100 a claim) lasts a second or two, so it is run 3 times
# and the median pass is kept; the memory figures are the largest of the passes.
worker_run() {
    local name=$1 kind=$2 c=$3 b=$4 p=$5 k=$6 passes=1 i list=() words pass_rate pass_secs
    local pass_rss pass_cpu max=0 hwm=0 samples=0
    selected "$name" || return 0
    ((b >= 100)) && passes=3
    note "$name: $(count_text "$jobs_n") jobs, $kind handler, concurrency $c, batch $b," \
        "prefetch $p, $k connection(s), $passes pass(es)"
    rate[$name]=error
    for ((i = 0; i < passes; i++)); do
        worker_pass "$name" "$kind" "$c" "$b" "$p" "$k"
        [[ "$pass_rate" != error ]] || return 0
        list+=("$pass_rate $pass_secs $pass_cpu")
        read -r -a words <<<"$pass_rss"
        ((words[0] > max)) && max=${words[0]}
        ((words[1] > hwm)) && hwm=${words[1]}
        samples=$((samples + words[2]))
    done
    rss_max[$name]=$max
    rss_hwm[$name]=$hwm
    rss_samples[$name]=$samples
    read -r rate["$name"] secs["$name"] cpu_server["$name"] cpu_client["$name"] \
        cpu_busy["$name"] < <(printf '%s\n' "${list[@]}" | sort -n |
        sed -n "$(((passes + 1) / 2))p")
    if ((passes > 1)); then
        add_note "$name: jobs/s of the $passes passes:" \
            "$(printf '%s\n' "${list[@]}" | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 }')" \
            "(the median is reported)"
    fi
}

# idle_run NAME CONCURRENCY BATCH: a worker started on the empty queue (no --until-empty);
# its VmRSS after BENCH_IDLE_SECONDS, then SIGTERM, which must end it with status 0.
idle_run() {
    local name=$1 c=$2 b=$3 log="$work/idle-$1.log" rc=0 status_text
    sql -c "TRUNCATE cachequeue.jobs" >/dev/null
    "$runner" worker bench --concurrency "$c" --batch-size "$b" >"$log" 2>&1 &
    worker_pid=$!
    sleep "$idle_seconds"
    idle_rss[$name]=error
    if proc_status "$worker_pid" && [[ "$status_text" =~ VmRSS:[[:space:]]+([0-9]+) ]]; then
        idle_rss[$name]=${BASH_REMATCH[1]}
    fi
    kill -TERM "$worker_pid"
    wait "$worker_pid" || rc=$?
    worker_pid=
    if ((rc != 0)) || [[ "${idle_rss[$name]}" == error ]]; then
        failed=1
        add_note "idle, concurrency $c, batch $b: **the worker exited with status $rc" \
            "or could not be measured**"
        tail -n 15 "$log" >&2
    fi
}

# startup_run: start to exit of `--until-empty` on the empty queue, the fixed cost that every
# worker run's time includes (process start, settings, connection, LISTEN, one claim, exit).
startup_run() {
    local t0 rc times=()
    sql -c "TRUNCATE cachequeue.jobs" >/dev/null
    for _ in 1 2 3; do
        t0=$EPOCHREALTIME
        rc=0
        "$runner" worker bench --until-empty >"$work/startup.log" 2>&1 || rc=$?
        times+=("$(elapsed "$t0" "$EPOCHREALTIME")")
        if ((rc != 0)); then
            failed=1
            add_note "start-up: **the worker exited with status $rc**"
            tail -n 15 "$work/startup.log" >&2
            return 0
        fi
    done
    cost[startup]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
}

idle() {
    selected idle || return 0
    note "idle: start-up cost, and memory after ${idle_seconds}s on an empty queue"
    startup_run
    idle_run c1_b1 1 1
    idle_run c4_b100 4 100
}

# handler_costs: what each handler costs without the worker: /bin/true started by xargs
# (fork, exec, wait), and the long-lived handler's start-up and its pace when its input is
# streamed to it (no waiting for each reply).
handler_costs() {
    local t0 n=2000
    selected handlers || return 0
    note "handlers: their cost outside the worker"
    t0=$EPOCHREALTIME
    seq "$n" | xargs -n 1 -P 1 "$command_handler"
    cost[command]=$(awk -v s="$(elapsed "$t0" "$EPOCHREALTIME")" -v n="$n" \
        'BEGIN { printf "%.3f", s * 1000 / n }')
    t0=$EPOCHREALTIME
    "$python" "$handler_script" </dev/null
    cost[long_start]=$(awk -v s="$(elapsed "$t0" "$EPOCHREALTIME")" \
        'BEGIN { printf "%.0f", s * 1000 }')
    awk -v n="$jobs_n" -v p="$payload" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"id\":%d,\"queue\":\"bench\",\"task\":\"noop_long\",\"attempt\":1," \
                "\"payload\":%s}\n", i, p }' >"$work/lines.jsonl"
    t0=$EPOCHREALTIME
    "$python" "$handler_script" <"$work/lines.jsonl" >"$work/replies.jsonl"
    cost[long_job]=$(awk -v s="$(elapsed "$t0" "$EPOCHREALTIME")" -v n="$jobs_n" \
        -v z="${cost[long_start]}" 'BEGIN { printf "%.1f", (s * 1000 - z) * 1000 / n }')
    [[ $(wc -l <"$work/replies.jsonl") == "$jobs_n" ]] ||
        die "the long-lived handler did not answer every line"
}

short_md5() {
    md5sum "$1" 2>/dev/null | cut -c 1-12 || echo none
}

t_start=$SECONDS
library_before=$(library)
runner_md5=$(short_md5 "$runner")
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
note "setup of database $db"
setup
find_postmaster
others_before=$(other_servers)
pg_version=$(value "SHOW server_version")
ext_version=$(value "SELECT extversion FROM pg_extension WHERE extname = 'cachequeue'")

handler_costs
idle
# Grouped by client count, each reference next to the worker runs it is compared with.
for clients in 1 4; do
    sql_run cycle "$clients"
    sql_run cycle_async "$clients"
    sql_run cycle_batch "$clients"
    while read -r name kind c b p k; do
        ((c == clients)) || continue
        worker_run "$name" "$kind" "$c" "$b" "$p" "$k"
    done <<<"$worker_runs"
done
elapsed_total=$((SECONDS - t_start))
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)
others_after=$(other_servers)
library_after=$(library)
runner_md5_after=$(short_md5 "$runner")

# ratio A B: rate[A] / rate[B], two decimals, or n/a.
ratio() {
    local a=${rate[$1]:-} b=${rate[$2]:-}
    if [[ -z "$a" || -z "$b" || "$a" == error || "$b" == error ]]; then
        echo n/a
    else
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
    fi
}
number() {
    if [[ -z "$1" || "$1" == error ]]; then
        echo "${1:-n/a}"
    else
        awk -v t="$1" 'BEGIN { printf "%.0f", t }'
    fi
}
mib() {
    if [[ -z "$1" || "$1" == error ]]; then
        echo n/a
    else
        awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
    fi
}
# under20 KB...: yes when every figure is under 20 MiB, n/a when one is missing.
under20() {
    local k
    for k in "$@"; do
        [[ -n "$k" && "$k" != error ]] || { echo n/a; return; }
    done
    for k in "$@"; do
        ((k < 20480)) || { echo no; return; }
    done
    echo yes
}

# ceiling RUN REF: the most RUN's jobs/s can be of REF's: on these CPUs, at the CPU time per
# job RUN took, it can do no more than $(nproc) / (µs per job) jobs per µs. n/a when a figure is
# missing.
ceiling() {
    local server=${cpu_server[$1]:-} client=${cpu_client[$1]:-} ref=${rate[$2]:-}
    if [[ -z "$server" || "$server" == - || -z "$ref" || "$ref" == error ]]; then
        echo n/a
        return
    fi
    awk -v s="$server" -v c="$client" -v n="$(nproc)" -v r="$ref" \
        'BEGIN { printf "%.2f", n * 1e6 / (s + c) / r }'
}

report() {
    local name kind c b p k ref a r_async met best loads=() idles=()
    echo "# cachequeue worker benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n 1)"
    echo "- PostgreSQL: $pg_version; cachequeue $ext_version (library md5 $library_before)"
    if [[ "$library_after" != "$library_before" ]]; then
        echo "- **WARNING: cachequeue.so was reinstalled during the run (md5 now" \
            "$library_after): the results mix two builds; run again**"
    fi
    case "$runner_choice" in
        repo) a="glue/cachequeue built in this repository" ;;
        installed) a="the installed /usr/local/bin/cachequeue" ;;
        *) a="$runner" ;;
    esac
    echo "- runner: $a (md5 $runner_md5); the installed" \
        "/usr/local/bin/cachequeue is md5 $(short_md5 /usr/local/bin/cachequeue)"
    if [[ "$runner_md5_after" != "$runner_md5" ]]; then
        echo "- **WARNING: the runner was rebuilt during the run (md5 now $runner_md5_after)**"
    fi
    echo "- worker: \`cachequeue worker bench --until-empty --concurrency C --batch-size B" \
        "--prefetch P --connections K\`" \
        "on a direct connection (wake=listen), CACHEQUEUE_LOG_LEVEL=$log_level, log to a file;"
    echo "  $(count_text "$jobs_n") jobs per run, enqueued, vacuumed and checkpointed before" \
        "it starts; jobs/s = jobs / (start to exit)"
    echo "- SQL reference: pgbench -M prepared -n -c N -j N, ${seconds}s after a ${warmup}s" \
        "warm-up, $(count_text "$preload") jobs waiting; nothing pinned;" \
        "synchronous_commit = $sync_commit"
    echo "- load average before / after: $load_before / $load_after"
    echo "- other PostgreSQL servers running on the machine, before / after:" \
        "$others_before / $others_after"
    echo "- total time: ${elapsed_total}s"
    echo
    echo "Handlers, outside the worker:"
    echo
    echo "| handler | measured | cost |"
    echo "|---|---|---:|"
    echo "| command \`$command_handler\` | 2,000 starts by \`xargs -n 1\` (fork, exec, wait) |" \
        "${cost[command]:-n/a} ms each |"
    echo "| long-lived \`bench/handlers/noop_long_lived.py\` ($python) | start-up and exit" \
        "on an empty input | ${cost[long_start]:-n/a} ms |"
    echo "| the same | $(count_text "$jobs_n") job lines streamed in, replies out," \
        "no round trips | ${cost[long_job]:-n/a} µs per job |"
    echo
    echo "SQL reference (pgbench):"
    echo
    echo "| workload | clients | jobs/s |"
    echo "|---|---:|---:|"
    for name in cycle cycle_async cycle_batch; do
        for c in 1 4; do
            [[ -n "${rate[$name,$c]:-}" ]] || continue
            echo "| $name | $c | $(number "${rate[$name,$c]}") |"
        done
    done
    echo
    echo "Worker runs (RSS: the worker process's own VmRSS, sampled every ~100 ms; VmHWM: its"
    echo "peak as the kernel counted it):"
    echo
    echo "| run | handler | concurrency | batch | prefetch | connections | seconds | jobs/s |" \
        "reference | ratio | ratio to cycle_async | max RSS MiB | VmHWM MiB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
    while read -r name kind c b p k; do
        [[ -n "${rate[$name]:-}" ]] || continue
        ref=cycle
        ((b >= 100)) && ref=cycle_batch
        r_async=$(ratio "$name" "cycle_async,$c")
        ((b >= 100)) && r_async=-
        echo "| $name | $kind | $c | $b | $p | $k | ${secs[$name]:-n/a} |" \
            "$(number "${rate[$name]}") |" \
            "$ref, $c client(s) | $(ratio "$name" "$ref,$c") | $r_async |" \
            "$(mib "${rss_max[$name]:-}") (${rss_samples[$name]:-0} samples) |" \
            "$(mib "${rss_hwm[$name]:-}") |"
        [[ -n "${rss_max[$name]:-}" ]] && loads+=("${rss_max[$name]}" "${rss_hwm[$name]}")
    done <<<"$worker_runs"
    for name in c1_b1 c4_b100; do
        [[ -n "${idle_rss[$name]:-}" ]] && idles+=("${idle_rss[$name]}")
    done
    if [[ -n "$postmaster_pid" ]]; then
        echo
        echo "CPU time per job (from /proc: the server is the postmaster and all its processes;"
        echo "the client is pgbench, or the worker with its handler processes), and how many of"
        echo "the $(nproc) CPUs the two kept busy on average:"
        echo
        echo "| run | server µs/job | client µs/job | total µs/job | CPUs busy |" \
            "jobs/s with every CPU busy |"
        echo "|---|---:|---:|---:|---:|---:|"
        for name in cycle_batch,1 cycle_batch,4 long_c1_b100 long_c1_b100_p25 long_c4_b100 \
            long_c4_b100_p25 long_c4_b100_k2 long_c4_b100_p25_k2; do
            [[ -n "${cpu_server[$name]:-}" && "${cpu_server[$name]}" != - ]] || continue
            echo "| ${name/,/ at } | ${cpu_server[$name]} | ${cpu_client[$name]} |" \
                "$(awk -v a="${cpu_server[$name]}" -v b="${cpu_client[$name]}" \
                    'BEGIN { printf "%.1f", a + b }') | ${cpu_busy[$name]} |" \
                "$(awk -v a="${cpu_server[$name]}" -v b="${cpu_client[$name]}" -v n="$(nproc)" \
                    'BEGIN { printf "%.0f", n * 1e6 / (a + b) }') |"
        done
        echo
        echo "A run cannot do more jobs per second than its CPU time per job allows on these"
        echo "$(nproc) CPUs (the last column): that caps each ratio below, whatever the connections."
    fi
    echo
    echo "| target | figure | target | met |"
    echo "|---|---:|---:|---|"
    # The target: the worker with 4 slots, batches of 100 and the long-lived handler, in the
    # best of the configurations measured (prefetch, connections), against 4 clients.
    best=
    for name in long_c4_b100 long_c4_b100_p25 long_c4_b100_k2 long_c4_b100_p25_k2; do
        a=$(ratio "$name" cycle_batch,4)
        [[ "$a" != n/a ]] || continue
        if [[ -z "$best" ]] || awk -v a="$a" -v b="${best#* }" 'BEGIN { exit !(a > b) }'; then
            best="$name $a"
        fi
    done
    met=n/a
    [[ -z "$best" ]] ||
        met=$(awk -v r="${best#* }" 'BEGIN { print (r >= 0.8 ? "yes" : "no") }')
    echo "| 4 slots, batches of 100, long-lived handler / cycle_batch at 4 clients, the best" \
        "run (${best% *}) | ${best#* } | >= 0.8 | $met |"
    for name in long_c4_b100 long_c4_b100_p25 long_c4_b100_k2 long_c4_b100_p25_k2; do
        echo "| $name / cycle_batch at 4 clients (at most $(ceiling "$name" cycle_batch,4)" \
            "at its CPU per job) | $(ratio "$name" cycle_batch,4) | - | - |"
    done
    echo "| long_c1_b100 / cycle_batch at 1 client (one connection each) |" \
        "$(ratio long_c1_b100 cycle_batch,1) | - | - |"
    echo "| long_c1_b100_p25 / cycle_batch at 1 client (one connection each) |" \
        "$(ratio long_c1_b100_p25 cycle_batch,1) | - | - |"
    if ((${#loads[@]} > 0)); then
        a=$(printf '%s\n' "${loads[@]}" | sort -n | tail -n 1)
        echo "| worker RSS under load, largest of all runs (MiB) | $(mib "$a") | < 20 |" \
            "$(under20 "${loads[@]}") |"
    fi
    if ((${#idles[@]} > 0)); then
        echo "| worker RSS idle after ${idle_seconds}s: concurrency 1 batch 1 /" \
            "concurrency 4 batch 100 (MiB) | $(mib "${idle_rss[c1_b1]:-}") /" \
            "$(mib "${idle_rss[c4_b100]:-}") | < 20 | $(under20 "${idles[@]}") |"
    fi
    echo
    if [[ -n "${cost[startup]:-}" ]]; then
        echo "- start to exit of \`--until-empty\` on an empty queue (median of 3), a fixed" \
            "cost in each run's time: ${cost[startup]} s"
    fi
    for a in "${notes[@]}"; do
        echo "- $a"
    done
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
((failed == 0)) || die "some runs failed (see 'error' and the notes above)"
