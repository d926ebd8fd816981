#!/usr/bin/env bash
# Manages a local PostgreSQL 15 cluster kept inside the project (default: .pgdata/, port 5499).
#   scripts/cluster.sh start|stop|status|psql [psql args] [--dir DIR] [--port PORT]
# Layout: DIR/data (PGDATA), DIR/sock (unix socket), DIR/log (server log).
# As root, the server runs as the postgres OS user. Optional: CLUSTER_EXTRA_CONF=FILE appends
# that file's settings (e.g. shared_preload_libraries) to the ones written on start.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
repo=$(realpath "$(dirname "$script_path")/..")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: $0 start|stop|status|psql [psql args] [--dir DIR] [--port PORT]" >&2
    exit 2
}
die() {
    echo "cluster: error: $*" >&2
    exit 1
}

(($# >= 1)) || usage
cmd=$1
shift
case "$cmd" in
    start | stop | status | psql) ;;
    *) usage ;;
esac

# --dir/--port are ours wherever they appear; everything else goes to psql.
dir="$repo/.pgdata"
port=
psql_args=()
while (($# > 0)); do
    case "$1" in
        --dir) (($# >= 2)) || usage; dir=$2; shift 2 ;;
        --dir=*) dir=${1#--dir=}; shift ;;
        --port) (($# >= 2)) || usage; port=$2; shift 2 ;;
        --port=*) port=${1#--port=}; shift ;;
        *) psql_args+=("$1"); shift ;;
    esac
done
[[ "$cmd" == psql ]] || ((${#psql_args[@]} == 0)) || usage
[[ -z "$port" || "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"

# A relative --dir is taken from the caller's folder; then work from the repo root.
dir=$(realpath -m -- "$dir")
cd "$repo"
data="$dir/data"
sock="$dir/sock"
logdir="$dir/log"

as_root=0
((EUID == 0)) && as_root=1

# Runs a PostgreSQL program, as the postgres OS user when we are root.
pg_run() {
    if ((as_root)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

is_running() {
    [[ -f "$data/PG_VERSION" ]] && pg_run "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# The port of the running server (line 4 of postmaster.pid), else --port, else 5499.
effective_port() {
    local p=
    if [[ -r "$data/postmaster.pid" ]]; then
        p=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)
    fi
    [[ "$p" =~ ^[0-9]+$ ]] || p=${port:-5499}
    echo "$p"
}

print_env() {
    printf 'export PGHOST=%q PGPORT=%q PGUSER=postgres\n' "$sock" "$(effective_port)"
}

# As root: the postgres user must be able to walk down to DIR's parent.
check_traversable() {
    local target=$1 path="" part
    local -a parts
    IFS=/ read -r -a parts <<<"${target#/}"
    for part in "${parts[@]}"; do
        [[ -n "$part" ]] || continue
        path="$path/$part"
        [[ -d "$path" ]] || break
        if ! runuser -u postgres -- test -x "$path"; then
            die "the postgres OS user cannot enter $path (needed to reach $dir);" \
                "run 'chmod o+x $path' or pass --dir elsewhere"
        fi
    done
}

make_dirs() {
    if ((as_root)); then
        id -u postgres >/dev/null 2>&1 || die "no 'postgres' OS user (is postgresql-15 installed?)"
        mkdir -p -- "$(dirname "$dir")"
        check_traversable "$(dirname "$dir")"
        install -d -o postgres -g postgres -m 700 "$dir" "$sock" "$logdir"
    else
        install -d -m 700 "$dir" "$sock" "$logdir"
    fi
}

# Single-quoted value for postgresql.conf.
conf_quote() {
    printf "'%s'" "${1//\'/\'\'}"
}

write_settings() {
    local conf="$data/cachequeue_cluster.conf" extra=${CLUSTER_EXTRA_CONF:-} tmp
    [[ -z "$extra" || -r "$extra" ]] || die "cannot read CLUSTER_EXTRA_CONF=$extra"
    tmp=$(mktemp)
    {
        echo "# Written by scripts/cluster.sh on every start; edits here are overwritten."
        echo "port = $1"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = $(conf_quote "$sock")"
        echo "max_connections = 50"
        echo "shared_buffers = 256MB"
        if [[ -n "$extra" ]]; then
            echo "# from $extra"
            cat -- "$extra"
        fi
    } >"$tmp"
    install -m 600 "$tmp" "$conf"
    rm -f "$tmp"
    ((as_root)) && chown postgres:postgres "$conf"
    if ! grep -q "^include_if_exists 'cachequeue_cluster.conf'" "$data/postgresql.conf"; then
        echo "include_if_exists 'cachequeue_cluster.conf'" >>"$data/postgresql.conf"
    fi
}

do_start() {
    [[ -x "$bindir/pg_ctl" ]] || die "$bindir/pg_ctl not found; run scripts/deps.sh"
    if is_running; then
        echo "cluster: already running in $dir (port $(effective_port))"
        print_env
        return 0
    fi
    local p=${port:-5499}
    # Unix socket paths are limited to 107 bytes.
    local sock_file="$sock/.s.PGSQL.$p"
    ((${#sock_file} <= 107)) || die "socket path too long (${#sock_file} > 107): $sock_file"
    make_dirs
    if [[ ! -f "$data/PG_VERSION" ]]; then
        if [[ -e "$data" ]] && [[ -n "$(ls -A -- "$data")" ]]; then
            die "$data exists but holds no cluster; remove it and retry"
        fi
        echo "cluster: initdb in $data"
        pg_run "$bindir/initdb" --no-sync -A trust -U postgres -E UTF8 --locale=C.utf8 \
            -D "$data" >"$logdir/initdb.log" 2>&1 ||
            { cat "$logdir/initdb.log" >&2; die "initdb failed (log: $logdir/initdb.log)"; }
    fi
    write_settings "$p"
    echo "cluster: starting on port $p (log: $logdir/postgresql.log)"
    if ! pg_run "$bindir/pg_ctl" -D "$data" -l "$logdir/postgresql.log" -w -t 60 start \
        >/dev/null; then
        tail -n 30 "$logdir/postgresql.log" >&2 || true
        die "server did not start (log: $logdir/postgresql.log)"
    fi
    echo "cluster: running in $dir"
    print_env
}

do_stop() {
    if ! is_running; then
        echo "cluster: not running ($dir)"
        return 0
    fi
    pg_run "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    echo "cluster: stopped ($dir)"
}

do_status() {
    if is_running; then
        echo "cluster: running in $dir (port $(effective_port))"
        print_env
    elif [[ -f "$data/PG_VERSION" ]]; then
        echo "cluster: stopped ($dir)"
        exit 3
    else
        echo "cluster: not created ($dir)"
        exit 3
    fi
}

do_psql() {
    is_running || die "no cluster running in $dir; start it with: scripts/cluster.sh start"
    exec "$bindir/psql" -h "$sock" -p "$(effective_port)" -U postgres "${psql_args[@]}"
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    psql) do_psql ;;
esac
