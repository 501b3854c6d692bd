#!/usr/bin/env bash
# clang-format over the C sources, with the pinned clang-format 14 (STYLE S-46).
#
#   scripts/format.sh           reformat in place (make format)
#   scripts/format.sh --check   report files that need formatting, exit 1 (CI)
#
# Files: include/ src/ tests/ examples/ (*.c, *.h, recursively) and bench/*.c.
# CLANG_FORMAT overrides the binary. Exit 2 if no clang-format 14 is found.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=fix
[ "${1:-}" = --check ] && mode=check

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
    if command -v clang-format-14 >/dev/null; then
        cf=clang-format-14
    elif command -v clang-format >/dev/null && clang-format --version | grep -q 'version 14\.'; then
        cf=clang-format
    else
        echo "format.sh: clang-format 14 not found (scripts/deps.sh format installs clang-format-14)" >&2
        exit 2
    fi
fi

files=()
while IFS= read -r -d '' f; do
    files+=("$f")
done < <({
    find include src tests examples -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null
    find bench -maxdepth 1 -type f -name '*.c' -print0 2>/dev/null
} | sort -z)
[ ${#files[@]} -gt 0 ] || { echo "format.sh: no files"; exit 0; }

if [ $mode = fix ]; then
    "$cf" -i --style=file "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files with $("$cf" --version)"
    exit 0
fi

bad=()
for f in "${files[@]}"; do
    "$cf" --dry-run -Werror --style=file "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -eq 0 ]; then
    echo "format.sh: all ${#files[@]} files are formatted"
    exit 0
fi
echo "format.sh: ${#bad[@]} of ${#files[@]} files need clang-format (run: make format):"
for f in "${bad[@]}"; do
    n=$("$cf" --dry-run --style=file "$f" 2>&1 | grep -c 'warning:' || true)
    echo "    $f ($n places)"
done
exit 1
