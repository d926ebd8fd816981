#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the demo: installs deps, builds and installs
# cachequeue, starts the project cluster (.pgdata/, port 5499), creates the extension in
# database postgres and runs scripts/demo.sql.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
repo=$(realpath "$(dirname "$script_path")/..")
cd "$repo"

step() {
    printf '\n== %s\n' "$*"
}

# psql against the project cluster, stopping at the first error, ignoring ~/.psqlrc.
cq_psql() {
    bash scripts/cluster.sh psql -X -v ON_ERROR_STOP=1 -d postgres "$@" </dev/null
}

step "dependencies"
bash scripts/deps.sh </dev/null

step "build and install"
make
make install

step "cluster"
bash scripts/cluster.sh start

step "extension"
cq_psql -q -c 'CREATE EXTENSION IF NOT EXISTS cachequeue'
cq_psql -At -c "SELECT 'cachequeue ' || extversion || ' is installed in database postgres'
                FROM pg_extension WHERE extname = 'cachequeue'"

step "demo (scripts/demo.sql)"
cq_psql -f scripts/demo.sql

step "done"
cat <<'TEXT'
Connect to the demo cluster:  scripts/cluster.sh psql
  (or: eval "$(scripts/cluster.sh status | grep '^export')" and then plain psql)
Stop it:                      scripts/cluster.sh stop
Its data, socket and log are in .pgdata/ (remove the folder to start from scratch).
TEXT
