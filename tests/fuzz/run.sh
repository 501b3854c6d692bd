#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time on
# its seed corpus. Fails if any fuzzer finds a crash, a sanitizer report, a
# broken invariant, a timeout or a leak.
#
#   tests/fuzz/run.sh [build-dir]        default build dir: build-fuzz
#   FUZZ_SECONDS=30   seconds per fuzzer
#   FUZZ_JOBS=1       parallel fuzzing processes per fuzzer (libFuzzer -fork)
#   CC=clang          compiler (must be clang: libFuzzer)
#   FUZZ_TARGETS="framing isip"   only these (default: every tests/fuzz/fuzz_*.c)
#
# Every tests/fuzz/fuzz_<name>.c is a target (CMakeLists.txt refuses one
# without its cnet_add_fuzzer line); its seeds are tests/fuzz/corpus/<name>/.
#
# New inputs libFuzzer finds go to <build-dir>/corpus/<name>, not into the
# checked-in seeds; a failing input is saved as <build-dir>/artifacts/<name>/crash-*
# and can be replayed with: <build-dir>/fuzz_<name> <that file>.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
cc=${CC:-clang}

cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

failed=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a names <<<"$FUZZ_TARGETS"
else
    names=()
    for f in "$here"/fuzz_*.c; do
        f=${f##*/fuzz_}
        names+=("${f%.c}")
    done
fi

for name in "${names[@]}"; do
    bin=$build/fuzz_$name
    work=$build/corpus/$name
    artifacts=$build/artifacts/$name
    mkdir -p "$work" "$artifacts"
    [ -d "$here/corpus/$name" ] || { echo "fuzz_$name: no seed corpus $here/corpus/$name" >&2; exit 1; }
    extra=()
    # An optional libFuzzer dictionary: tests/fuzz/<name>.dict.
    if [ -f "$here/$name.dict" ]; then
        extra+=(-dict="$here/$name.dict")
    fi
    if [ "$jobs" -gt 1 ]; then
        extra+=(-fork="$jobs")
    fi
    echo "== fuzz_$name: ${seconds}s on $here/corpus/$name"
    # The first corpus directory receives new inputs; the seeds are read only.
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 \
            -artifact_prefix="$artifacts/" ${extra[@]+"${extra[@]}"} "$work" "$here/corpus/$name"; then
        failed+=("fuzz_$name")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
    exit 1
fi
echo "all fuzzers ran ${seconds}s each without failure"
