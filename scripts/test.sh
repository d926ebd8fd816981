#!/usr/bin/env bash
# The single test command: installs deps, builds cachequeue with -Werror, starts a throwaway
# cluster (.pgdata/test, port 5498, pg_cron and cachequeue preloaded) and runs every suite:
# Catch2 unit tests, pg_regress, isolation specs, test/e2e/*.sh and the Django suite
# (test/django). Ends with one line "N passed, N failed"; exit 1 on failure.
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
repo=$(realpath "$(dirname "$script_path")/..")
cd "$repo"

test_dir="$repo/.pgdata/test"
# CI may clone into a folder the postgres user cannot enter (under /root, say): the
# throwaway cluster then lives under /tmp instead.
if [[ $(id -u) == 0 ]] && ! runuser -u postgres -- test -x "$repo" 2>/dev/null; then
    test_dir=$(mktemp -d /tmp/cachequeue-test.XXXXXX)
    chmod 755 "$test_dir"
fi
test_port=${CQ_TEST_PORT:-5498}  # another port lets two runs share a machine
# The libraries the test cluster preloads (shared_preload_libraries): cachequeue, for its
# shared-memory counters (test/e2e/counters_settings.sh covers a cluster without them), and
# pg_cron, for the scheduled maintenance (test/e2e/maintenance.sh).
preload_libraries=(pg_cron cachequeue)
logs=$(mktemp -d)
total_pass=0
total_fail=0
summary=()

stop_cluster() {
    bash scripts/cluster.sh stop --dir "$test_dir" --port "$test_port" || true
}
cleanup() {
    stop_cluster >/dev/null 2>&1
    rm -rf "$logs"
    [[ "$test_dir" != /tmp/cachequeue-test.* ]] || rm -rf "$test_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() {
    printf '\n========== %s ==========\n' "$*"
}

# record SUITE PASSED FAILED [NOTE]: adds a suite's counts to the totals.
record() {
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    local line
    line=$(printf '  %-10s passed: %-4d failed: %-4d %s' "$1" "$2" "$3" "${4:-}")
    summary+=("${line%"${line##*[! ]}"}")
}

# Runs a command with its output shown and saved to a log; sets rc.
run_logged() {
    local log=$1
    shift
    if "$@" 2>&1 | tee "$log"; then rc=0; else rc=$?; fi
}

# Sets n_pass/n_fail from a Catch2 2.x console summary:
#   "All tests passed (12 assertions in 5 test cases)"
#   "test cases: 5 | 4 passed | 1 failed"  (zero columns are left out)
parse_catch2() {
    local line field
    local -a fields
    n_pass=0
    n_fail=0
    line=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^(All tests passed|test cases:)' |
        tail -n 1 || true)
    if [[ "$line" =~ ^All\ tests\ passed.*\ in\ ([0-9]+)\ test\ case ]]; then
        n_pass=${BASH_REMATCH[1]}
    elif [[ "$line" == "test cases:"* ]]; then
        IFS='|' read -r -a fields <<<"${line#test cases:}"
        for field in "${fields[@]:1}"; do
            if [[ "$field" =~ ^\ *([0-9]+)\ passed\ *$ ]]; then
                n_pass=$((n_pass + BASH_REMATCH[1]))
            elif [[ "$field" =~ ^\ *([0-9]+)\ failed\ as\ expected\ *$ ]]; then
                n_pass=$((n_pass + BASH_REMATCH[1]))
            elif [[ "$field" =~ ^\ *([0-9]+)\ failed\ *$ ]]; then
                n_fail=$((n_fail + BASH_REMATCH[1]))
            fi
        done
    fi
}

# Sets n_pass/n_fail from pg_regress 15 lines such as
#   "test cache_basic                 ... ok           12 ms"
#   "     cache_basic                 ... FAILED       12 ms"   (in a parallel group)
parse_pg_regress() {
    local re='^(test +| +)[^ ]+ +\.\.\. +'
    n_pass=$(grep -cE "${re}(ok|failed \(ignored\))" "$1" || true)
    n_fail=$(grep -cE "${re}FAILED" "$1" || true)
}

# ---- dependencies and build ----
section "deps"
if bash scripts/deps.sh </dev/null; then
    :
else
    echo "test: scripts/deps.sh failed"
    record deps 0 1 "(scripts/deps.sh failed)"
fi

section "build"
# CQ_PG_BINDIR points at another copy of PostgreSQL's binaries (see docs/development.md):
# the extension is then built against and installed into that copy only.
if [[ -n "${CQ_PG_BINDIR:-}" ]]; then
    export PG_CONFIG="$CQ_PG_BINDIR/pg_config"
fi
build_ok=0
if make clean && make -j2 WERROR=1 && make install WERROR=1; then
    build_ok=1
else
    echo "test: build failed; the suites that need the extension will not run"
    summary+=("  build      FAILED (make WERROR=1 / make install WERROR=1)")
fi

# ---- code style: one .clang-format for every C++ file ----
section "format (clang-format)"
if git ls-files -z -- '*.cpp' '*.hpp' | xargs -0 -r clang-format --dry-run --Werror; then
    record format 1 0
else
    echo "test: run clang-format -i on the files above"
    record format 0 1
fi

# ---- unit tests: need no server ----
section "unit (Catch2)"
run_logged "$logs/unit" make -j2 unit WERROR=1
parse_catch2 "$logs/unit"
note=""
if ((rc != 0 && n_fail == 0)); then
    n_fail=1
    note="(make unit exited $rc)"
fi
record unit "$n_pass" "$n_fail" "$note"

# ---- fuzzing: each libFuzzer target of the runner's parsers for a few seconds ----
section "fuzz (libFuzzer, ${CQ_FUZZ_SECONDS:-5} s per target)"
fuzz_pass=0
fuzz_fail=0
fuzz_targets=$(ls test/fuzz/*.cpp 2>/dev/null | sed 's/\.cpp$//' || true)
# shellcheck disable=SC2086 # one word per target
[[ -z "$fuzz_targets" ]] || make -j2 -s $fuzz_targets WERROR=1 || true
for src in test/fuzz/*.cpp; do
    [[ -e "$src" ]] || continue
    target=${src%.cpp}
    name=$(basename "$target")
    mkdir -p "$target.corpus"
    if make -s "$target" WERROR=1 &&
        "$target" -max_total_time="${CQ_FUZZ_SECONDS:-5}" -print_final_stats=0 \
            "$target.corpus" "test/fuzz/seeds/$name" >"$logs/$name" 2>&1; then
        echo "fuzz: $name: no finding ($(grep -o 'DONE.*' "$logs/$name" | head -n 1))"
        fuzz_pass=$((fuzz_pass + 1))
    else
        echo "fuzz: $name: FAILED"
        tail -n 30 "$logs/$name"
        fuzz_fail=$((fuzz_fail + 1))
    fi
done
record fuzz "$fuzz_pass" "$fuzz_fail"

# ---- throwaway cluster ----
cluster_ok=0
if ((build_ok)); then
    section "cluster"
    stop_cluster >/dev/null 2>&1
    rm -rf "$test_dir"
    # pg_cron (test/e2e/maintenance.sh) keeps its jobs in database postgres.
    cluster_conf="$logs/cluster.conf"
    {
        echo "shared_preload_libraries = '$(IFS=,; echo "${preload_libraries[*]}")'"
        echo "cron.database_name = 'postgres'"
        echo "cron.host = '$test_dir/sock'"
    } >"$cluster_conf"
    chmod 644 "$cluster_conf"
    if CLUSTER_EXTRA_CONF="$cluster_conf" \
        bash scripts/cluster.sh start --dir "$test_dir" --port "$test_port"; then
        cluster_ok=1
        unset PGDATABASE PGSERVICE PGHOSTADDR
        export PGHOST="$test_dir/sock" PGPORT="$test_port" PGUSER=postgres
        # The end-to-end scripts may crash and restart the cluster (CQ_TEST_DATA).
        export CQ_TEST_DATA="$test_dir/data" CQ_TEST_LOG="$test_dir/log/postgresql.log"
    else
        echo "test: could not start the test cluster"
    fi
fi

# run_pg_suite NAME MAKE_TARGET OUTDIR
run_pg_suite() {
    local name=$1 target=$2 outdir=$3 note=""
    section "$name (make $target)"
    if ((!build_ok || !cluster_ok)); then
        echo "test: $name not run (no build or no cluster)"
        record "$name" 0 1 "(not run)"
        return
    fi
    run_logged "$logs/$name" make "$target"
    parse_pg_regress "$logs/$name"
    if ((rc != 0 && n_fail == 0)); then
        n_fail=1
        note="(make $target exited $rc)"
    fi
    if ((rc != 0 || n_fail > 0)); then
        if [[ -f "$outdir/regression.diffs" ]]; then
            echo "---- $outdir/regression.diffs (first 200 lines) ----"
            head -n 200 "$outdir/regression.diffs"
            echo "---- end of diffs ----"
        else
            echo "test: no $outdir/regression.diffs"
        fi
    fi
    record "$name" "$n_pass" "$n_fail" "$note"
}
run_pg_suite regress regress test/out
run_pg_suite isolation isolation test/out_iso

# ---- end-to-end scripts: each one is a test ----
section "e2e (test/e2e/*.sh)"
shopt -s nullglob
e2e_scripts=(test/e2e/*.sh)
shopt -u nullglob
if ((${#e2e_scripts[@]} == 0)); then
    echo "test: no e2e scripts"
    record e2e 0 0
elif ((!build_ok || !cluster_ok)); then
    echo "test: e2e not run (no build or no cluster)"
    record e2e 0 1 "(not run)"
else
    e2e_pass=0
    e2e_fail=0
    for script in "${e2e_scripts[@]}"; do
        echo "---- $script ----"
        if bash "$script" </dev/null; then
            echo "---- $script: passed ----"
            e2e_pass=$((e2e_pass + 1))
        else
            echo "---- $script: FAILED (exit $?) ----"
            e2e_fail=$((e2e_fail + 1))
        fi
    done
    record e2e "$e2e_pass" "$e2e_fail"
fi

# ---- Django: the cache backend, enqueue and the handler command on real Django ----
section "django (test/django, Django's cache API, enqueue, cachequeue worker)"
if ((!build_ok || !cluster_ok)); then
    echo "test: django not run (no build or no cluster)"
    record django 0 1 "(not run)"
else
    run_logged "$logs/django" /usr/bin/python3 test/django/run.py
    counts=$(sed -n 's/^django: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
        "$logs/django" | tail -n 1)
    if [[ -z "$counts" ]]; then
        record django 0 1 "(test/django/run.py exited $rc without a summary)"
    else
        read -r n_pass n_fail <<<"$counts"
        ((rc == 0 || n_fail > 0)) || n_fail=1
        record django "$n_pass" "$n_fail"
    fi
fi

# ---- stop the cluster now so the summary is the last thing printed ----
if ((cluster_ok)); then
    section "cleanup"
    stop_cluster
fi

section "summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0)) || exit 1
exit 0
