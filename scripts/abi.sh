#!/usr/bin/env bash
# ABI check: libcnet.so.0 as built now against the baseline of the last
# release kept in abi/ (cnet.h, "Options structs and the ABI").
#
#   scripts/abi.sh [build_dir]            check (default build dir: build)
#   scripts/abi.sh --update [build_dir]   write the baseline (at a release only)
#
# Fails on any change abidiff reports beyond what abi/cnet.abignore allows
# (members appended to options structs, events appended): a removed or
# changed function, a member inserted or retyped, a changed enumerator. New
# functions are allowed and listed.
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
if [ "${1:-}" = --update ]; then
    update=1
    shift
fi
build=${1:-build}
so=$(readlink -f "$build/libcnet.so.0" 2>/dev/null || true)
[ -f "$so" ] || { echo "abi.sh: $build/libcnet.so.0 not found; build first" >&2; exit 1; }
command -v abidw >/dev/null || { echo "abi.sh: abidw not found (scripts/deps.sh abi)" >&2; exit 1; }

version=$(sed -n 's/^project(cnet VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
baseline_of() { ls abi/libcnet-*.abi 2>/dev/null | sort -V | tail -n 1; }
dump() { abidw --headers-dir include --headers-dir "$build/include" --drop-private-types "$so"; }

if [ "$update" = 1 ]; then
    dump >"abi/libcnet-$version.abi"
    echo "abi.sh: wrote abi/libcnet-$version.abi"
    exit 0
fi

base=$(baseline_of)
[ -n "$base" ] || { echo "abi.sh: no baseline in abi/" >&2; exit 1; }
now=$(mktemp)
trap 'rm -f "$now"' EXIT
dump >"$now"
echo "abi.sh: libcnet $version against $base"
status=0
abidiff --no-added-syms --suppressions abi/cnet.abignore "$base" "$now" || status=$?
if [ "$status" -ne 0 ]; then
    echo "abi.sh: FAILED: an incompatible change to the ABI of $base (abidiff exit $status)" >&2
    exit 1
fi
# Informational: what was added since the baseline.
abidiff --suppressions abi/cnet.abignore "$base" "$now" | sed -n '/Added function/,$p' || true
echo "abi.sh: compatible"
