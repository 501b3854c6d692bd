#!/usr/bin/env bash
# Runs every compiled CTest test of a build under valgrind memcheck.
#
#   scripts/valgrind.sh [build_dir]        (default: build; `make valgrind` builds it)
#
# Not `ctest -T memcheck`: that would also wrap the shell-script tests in
# valgrind, and it cannot lengthen the tests' CTest TIMEOUT (30 s), which a
# run 10-50x slower needs. So the tests are listed with `ctest -N -V`, and
# each test executable runs under valgrind here, in parallel, with the
# harness's watchdog scaled by CNET_TEST_TIMEOUT_MULTIPLIER (default 10).
# Script tests (tests/test_*.sh) are skipped: `make test` runs them.
#
# A test fails on a valgrind error, a definite or indirect leak, a non-zero
# exit or a hang (VALGRIND_TEST_TIMEOUT seconds, default 900). Exit code 77
# is a skip. Logs: <build_dir>/valgrind/<test>.log.
# Environment: JOBS (default nproc), VALGRIND_OPTS (extra valgrind options),
# VALGRIND_TESTS (regex: only tests whose name matches).
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export CNET_TEST_TIMEOUT_MULTIPLIER=${CNET_TEST_TIMEOUT_MULTIPLIER:-10}
limit=${VALGRIND_TEST_TIMEOUT:-900}
only=${VALGRIND_TESTS:-.}

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed (scripts/deps.sh valgrind)" >&2; exit 1; }
[ -f "$build/CTestTestfile.cmake" ] || { echo "valgrind.sh: $build has no tests; build first" >&2; exit 1; }

logdir=$build/valgrind
rm -rf "$logdir"
mkdir -p "$logdir"

# "N: Test command: CMD ARGS" / "N: Working Directory: DIR" / "  Test #N: NAME"
# -> one tab-separated line per test: NAME, DIR, CMD ARGS
ctest --test-dir "$build" -N -V | awk '
    /^[0-9]+: Test command: / { sub(/^[0-9]+: Test command: /, ""); cmd = $0; next }
    /^[0-9]+: Working Directory: / { sub(/^[0-9]+: Working Directory: /, ""); dir = $0; next }
    /^ *Test +#[0-9]+: / { print $3 "\t" dir "\t" cmd; cmd = ""; dir = "" }
' >"$logdir/tests.tsv"

run_one() { # run_one NAME DIR CMD...  -> appends "NAME STATUS" to results
    local name=$1 dir=$2 log=$logdir/$1.log rc=0 status
    shift 2
    # shellcheck disable=SC2086
    (cd "${dir:-$build}" &&
        timeout -k 10 "$limit" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --error-exitcode=1 --num-callers=30 \
            ${VALGRIND_OPTS:-} "$@") >"$log" 2>&1 || rc=$?
    case $rc in
    0) status=passed ;;
    77) status=skipped ;;
    124 | 137) status=TIMEOUT ;;
    *) status="FAILED (exit $rc)" ;;
    esac
    echo "$name $status" | tee -a "$logdir/results"
}

: >"$logdir/results"
names=()
dirs=()
cmds=()
while IFS=$'\t' read -r name dir cmd; do
    [[ $name =~ $only ]] || continue
    eval "set -- $cmd" # ctest quotes the words of the command line; eval restores them
    # Only test executables built here; script tests (bash ...) are left to ctest.
    if [[ $1 != "$build"/* ]]; then
        echo "$name skipped (not a compiled test)" >>"$logdir/results"
        continue
    fi
    names+=("$name")
    dirs+=("$dir")
    cmds+=("$cmd")
done <"$logdir/tests.tsv"

echo "valgrind: ${#names[@]} test executables, $jobs at a time," \
    "CNET_TEST_TIMEOUT_MULTIPLIER=$CNET_TEST_TIMEOUT_MULTIPLIER"
running=0
for i in "${!names[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    eval "set -- ${cmds[$i]}"
    run_one "${names[$i]}" "${dirs[$i]}" "$@" &
    running=$((running + 1))
done
wait

failed=$(grep -E ' (FAILED|TIMEOUT)' "$logdir/results" | cut -d' ' -f1 || true)
for name in $failed; do
    echo
    echo "======== $name (full log: $logdir/$name.log)"
    tail -n 60 "$logdir/$name.log"
done
echo
passed=$(grep -c ' passed$' "$logdir/results" || true)
skipped=$(grep -c ' skipped' "$logdir/results" || true)
echo "valgrind: $passed passed, $skipped skipped, $(wc -w <<<"$failed") failed"
[ -z "$failed" ]
