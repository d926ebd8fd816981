# What the benchmark scripts share: the throwaway cluster (or the server that --reuse names)
# and psql. Sourced by cache_bench.sh and queue_bench.sh, which set bindir, port, db, reuse
# and work (a folder of their own) first, and define die.

cluster="$work/cluster"
started=0

# Runs a PostgreSQL server program, as the postgres OS user when we are root.
pg_run() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# bench_stop RC: stops the throwaway cluster, or drops the database of a reused server; when
# the script failed (RC not 0), shows the end of the server log.
bench_stop() {
    if ((started)); then
        pg_run "$bindir/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null 2>&1 || true
    elif ((reuse)) && [[ -n "${PGHOST:-}" ]]; then
        "$bindir/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 ||
            true
    fi
    if (($1 != 0)) && [[ -f "$cluster/log/postgresql.log" ]]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 20 "$cluster/log/postgresql.log" >&2 || true
    fi
}

# bench_traps: on exit, runs the script's bench_before_stop (when it defines one: its own
# processes to stop first), then bench_stop, and removes $work, keeping the script's exit
# status; INT and TERM exit with 130 and 143.
bench_cleanup() {
    local rc=$?
    if declare -F bench_before_stop >/dev/null; then
        bench_before_stop
    fi
    bench_stop "$rc"
    rm -rf "$work"
    exit "$rc"
}
bench_traps() {
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

start_cluster() {
    local owner=()
    ((EUID == 0)) && owner=(-o postgres -g postgres)
    chmod 755 "$work"
    install -d "${owner[@]}" -m 700 "$cluster" "$cluster/data" "$cluster/sock" "$cluster/log"
    pg_run "$bindir/initdb" --no-sync -A trust -U postgres -D "$cluster/data" \
        >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die "initdb failed"; }
    pg_run tee -a "$cluster/data/postgresql.conf" >/dev/null <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$cluster/sock'
shared_buffers = 512MB
max_connections = 20
CONF
    started=1
    pg_run "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/log/postgresql.log" -w -t 60 \
        start >/dev/null || die "the server did not start"
    export PGHOST="$cluster/sock" PGPORT=$port PGUSER=postgres
}

# bench_connect: starts the throwaway cluster, or checks the server --reuse names.
bench_connect() {
    if ((reuse)); then
        [[ -n "${PGHOST:-}" && -n "${PGPORT:-}" ]] || die "--reuse needs PGHOST and PGPORT"
        export PGUSER=${PGUSER:-postgres}
    else
        start_cluster
    fi
    export PGDATABASE=$db
}

# 1-client passes can be pinned (BENCH_PIN): the postmaster is set to CPU 0 while they run,
# so that the backend it forks shares that CPU with pgbench. On a virtual machine, a client
# and a server on two CPUs spend much of a round trip waking each other up, and that cost
# swings by 3x from run to run; on one CPU the 1-client numbers measure the work per call.
pm_pid=
pm_mask=
# pin_server on|off
pin_server() {
    ((pin)) || return 0
    if [[ -z "$pm_pid" ]]; then
        pm_pid=$(head -n 1 "$cluster/data/postmaster.pid")
        pm_mask=$(taskset -p "$pm_pid" | sed 's/.*: //')
    fi
    if [[ "$1" == on ]]; then
        taskset -p -c 0 "$pm_pid" >/dev/null
    else
        taskset -p "$pm_mask" "$pm_pid" >/dev/null
    fi
}

sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

# The helpers below are shared by the benchmark scripts' reports.

# value QUERY: the single value a query returns.
value() {
    sql -Atc "$1"
}
# mult A B: A times B, two decimals.
mult() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a * b }'
}
# count_text N: N with thousands separators (1,000,000).
count_text() {
    sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' <<<"$1"
}
# add_note TEXT...: one line under the tables (the script's notes array), words joined.
add_note() {
    notes+=("$*")
}
# tps_of OUT: the TPS pgbench reported, empty when the run failed.
tps_of() {
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$1"
}
# processed_of OUT: the transactions pgbench reported as processed.
processed_of() {
    sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1"
}
# The library the server loads: a reinstall during the run would mix two builds.
library() {
    local file
    file="$("$bindir/pg_config" --pkglibdir)/cachequeue.so"
    md5sum "$file" 2>/dev/null | cut -c 1-12 || echo unknown
}
# Other PostgreSQL servers on the machine share its CPUs: count their postmasters.
other_servers() {
    local ours=
    ((started)) && ours=$(head -n 1 "$cluster/data/postmaster.pid")
    ps -eo pid=,ppid=,comm= | awk -v ours="$ours" '
        { comm[$1] = $3; parent[$1] = $2 }
        END {
            pg = "^(postgres|postmaster)$"
            for (p in comm)
                if (comm[p] ~ pg && comm[parent[p]] !~ pg && p != ours) n++
            print n + 0
        }'
}
