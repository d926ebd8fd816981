#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the demo: installs deps, builds and installs
# cachequeue (the extension and the runner), starts the project cluster (.pgdata/, port 5499),
# creates the extension in database postgres, runs scripts/demo.sql, then runs a worker on demo
# jobs of the email, report and export queues with the example handlers in examples/.
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
# The demo cluster is the demo's own: start from a fresh install of this build (an older
# build's objects would lack what the demo uses).
cq_psql -q -c 'SET client_min_messages = warning' \
    -c 'DROP EXTENSION IF EXISTS cachequeue CASCADE' -c 'CREATE EXTENSION cachequeue'
cq_psql -At -c "SELECT 'cachequeue ' || extversion || ' is installed in database postgres'
                FROM pg_extension WHERE extname = 'cachequeue'"

step "demo (scripts/demo.sql)"
cq_psql -f scripts/demo.sql

step "worker: demo jobs of the three queues (examples/queue_config.json)"
# The runner reads the Django application's settings; here, the variables for the demo
# cluster and the queues and handlers of examples/.
sock_dir=$(bash scripts/cluster.sh status | sed -n 's/^export PGHOST=\([^ ]*\).*/\1/p')
export DB_HOST="${sock_dir:-$repo/.pgdata/sock}" DB_PORT=5499 DB_NAME=postgres DB_USER=postgres
export QUEUE_CONFIG_FILE=examples/queue_config.json
unset DATABASE_URL USE_SUPABASE
cachequeue queue sync
cq_psql -q -f examples/demo_jobs.sql
cachequeue worker email report export --concurrency 2 --until-empty
cq_psql -c "SELECT queue, queued, scheduled, running, succeeded, dead
            FROM cachequeue.queue_stats() WHERE queue IN ('email', 'report', 'export')
            ORDER BY queue"
# The email without an address failed; it waits for its retry, with its error recorded.
cq_psql -c "SELECT j.id, j.task, j.status, j.attempts, j.last_error FROM cachequeue.jobs j
            WHERE j.status <> 'succeeded' ORDER BY j.id"

step "done"
cat <<'TEXT'
Connect to the demo cluster:  scripts/cluster.sh psql
  (or: eval "$(scripts/cluster.sh status | grep '^export')" and then plain psql)
Stop it:                      scripts/cluster.sh stop
Its data, socket and log are in .pgdata/ (remove the folder to start from scratch).
TEXT
