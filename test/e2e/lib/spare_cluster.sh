# The short-lived second cluster of an end-to-end script (sourced; this folder is not run as a
# test). Before sourcing it, the script sets spare_name (the folder's prefix under /tmp) and
# spare_offset (the port's distance from the test cluster's when CQ_SPARE_PORT is not set),
# and defines fail MESSAGE. It gives repo, bindir, port, dir (removed at exit, with the
# cluster stopped, unless CQ_KEEP is set), spare_start CONF_LINE... and sql ARGS...
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../..")
bindir=${CQ_PG_BINDIR:-/usr/lib/postgresql/15/bin}
port=${CQ_SPARE_PORT:-$((${PGPORT:?run through scripts/test.sh} + spare_offset))}
dir=$(mktemp -d "/tmp/$spare_name.XXXXXX")
chmod 755 "$dir"

spare_cleanup() {
    bash "$repo/scripts/cluster.sh" stop --dir "$dir/cluster" --port "$port" >/dev/null 2>&1 ||
        true
    rm -rf "$dir"
}
trap spare_cleanup EXIT
[[ -z "${CQ_KEEP:-}" ]] || trap - EXIT

# spare_start CONF_LINE...: (re)starts the cluster with these lines in its configuration.
spare_start() {
    bash "$repo/scripts/cluster.sh" stop --dir "$dir/cluster" --port "$port" >/dev/null
    printf '%s\n' "$@" >"$dir/extra.conf"
    CLUSTER_EXTRA_CONF="$dir/extra.conf" bash "$repo/scripts/cluster.sh" start \
        --dir "$dir/cluster" --port "$port" >/dev/null
}

# sql ARGS...: psql as postgres on the cluster's database postgres, unaligned, no headers.
sql() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$dir/cluster/sock" -p "$port" -U postgres \
        -d postgres "$@"
}
