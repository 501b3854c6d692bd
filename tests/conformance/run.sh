#!/usr/bin/env bash
# Runs one conformance scenario: NAME.js under node and the built NAME.c,
# then compares their traces (tests/conformance/README.md).
#
#   run.sh NAME C_BINARY [REPEAT]
#
# Lines are grouped by their first word (the side: client, server, peer...)
# keeping the order within each side, so the interleaving of two sides that
# race in the kernel does not count; a scenario whose .js contains the line
# "// conformance: strict-order" is compared line for line instead.
# Exit: 0 same, 1 different, 77 node is missing (skipped).
set -uo pipefail

name=$1
bin=$(readlink -f "$2")
repeat=${3:-1}
dir=$(cd "$(dirname "$0")" && pwd)
js=$dir/$name.js

command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed (conformance needs the reference)"; exit 77; }
[ -x "$bin" ] || { echo "run.sh: $bin not built" >&2; exit 1; }

canon() {
    if grep -q '^// conformance: strict-order' "$js"; then
        cat
    else
        awk '{ side = $1; if (!(side in seen)) { seen[side] = 1; order[++n] = side }
               lines[side] = lines[side] $0 "\n" }
             END { for (i = 1; i <= n; i++) printf "%s", lines[order[i]] }'
    fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 1; i <= repeat; i++)); do
    (cd "$tmp" && timeout 20 node "$js") >"$tmp/node.raw" 2>"$tmp/node.err"
    nrc=$?
    (cd "$tmp" && timeout 20 "$bin") >"$tmp/cnet.raw" 2>"$tmp/cnet.err"
    crc=$?
    canon <"$tmp/node.raw" >"$tmp/node.txt"
    canon <"$tmp/cnet.raw" >"$tmp/cnet.txt"
    if [ $nrc -ne 0 ] || [ $crc -ne 0 ] || ! cmp -s "$tmp/node.txt" "$tmp/cnet.txt"; then
        echo "conformance $name: run $i of $repeat differs (node exit $nrc, cnet exit $crc)"
        echo "--- node ($name.js)            +++ cnet ($name.c)"
        diff -u "$tmp/node.txt" "$tmp/cnet.txt" | tail -n +3
        [ -s "$tmp/node.err" ] && { echo "node stderr:"; head -20 "$tmp/node.err"; }
        [ -s "$tmp/cnet.err" ] && { echo "cnet stderr:"; head -20 "$tmp/cnet.err"; }
        exit 1
    fi
done
echo "conformance $name: $(wc -l <"$tmp/node.txt") lines identical to node's ($repeat run(s))"
cat "$tmp/node.txt"
