#!/usr/bin/env bash
# shellcheck disable=SC2001 # sed indents the symbol lists
# Symbol hygiene (STYLE S-6, S-8):
#   libcnet.so exports only public API: cnet_* names, and no cnet__* internals
#              (those are hidden by -fvisibility=hidden);
#   libcnet.a  defines no global symbol outside the cnet_ namespace (cnet_* or
#              cnet__*), since static linking puts every global into the program.
#
# Usage: .ci/check-symbols.sh [build_dir]     (default: build)
set -euo pipefail

build=${1:-build}
so=$build/libcnet.so
ar=$build/libcnet.a
status=0

command -v nm >/dev/null || { echo "check-symbols: nm not found (binutils)" >&2; exit 1; }
for f in "$so" "$ar"; do
    [ -e "$f" ] || { echo "check-symbols: $f not found; build first" >&2; exit 1; }
done

# Symbols some linkers add to every shared object; not ours to name.
linker_syms='^(_init|_fini|_edata|_end|__bss_start)$'

exported=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | sort -u)
bad=$(grep -Ev '^cnet_' <<<"$exported" | grep -Ev "$linker_syms" || true)
internal=$(grep -E '^cnet__' <<<"$exported" || true)
count=$(grep -c . <<<"$exported" || true)
if [ -n "$bad" ]; then
    echo "check-symbols: $so exports symbols without the cnet_ prefix:" >&2
    sed 's/^/    /' <<<"$bad" >&2
    status=1
fi
if [ -n "$internal" ]; then
    echo "check-symbols: $so exports internal cnet__ symbols (missing static or hidden?):" >&2
    sed 's/^/    /' <<<"$internal" >&2
    status=1
fi

# Global definitions in the archive (skip the "member.o:" headers and blanks).
globals=$(nm -g --defined-only "$ar" | awk 'NF >= 3 { print $3 }' | sort -u)
bad_ar=$(grep -Ev '^cnet_' <<<"$globals" || true)
if [ -n "$bad_ar" ]; then
    echo "check-symbols: $ar defines global symbols outside the cnet_ namespace:" >&2
    for sym in $bad_ar; do
        obj=$(nm -A -g --defined-only "$ar" | awk -v s="$sym" '$NF == s { print $1; exit }')
        obj=${obj#"$ar":} # "lib.a:member.o:address" -> "member.o:address"
        echo "    $sym  (${obj%%:*})" >&2
    done
    status=1
fi

if [ $status -eq 0 ]; then
    echo "check-symbols: OK: $so exports $count cnet_* symbols; $ar globals all cnet_-prefixed"
fi
exit $status
