#!/usr/bin/env bash
# Installs the Debian 12 packages cnet needs, if any are missing.
#
#   scripts/deps.sh [--optional] [GROUP|PACKAGE ...]     (default group: build)
#
# Groups (docs/dependencies.md explains why each package is there):
#   build     cmake make gcc libc6-dev pkg-config libuv1-dev libssl-dev
#   valgrind  valgrind
#   fuzz      clang libclang-rt-14-dev (libFuzzer and the sanitizer runtimes)
#   format    clang-format-14 (the pinned version, STYLE S-46)
#   bench     libevent-dev gnuplot-nox openssl (peer servers, plots, the TLS bench certificate)
#   nc        netcat-openbsd (to talk to the demo)
#   abi       abigail-tools (abidw, abidiff: the ABI check against abi/)
# Anything else is taken as a package name.
#
# Missing packages are installed with apt-get when running as root. Otherwise
# the exact sudo command is printed and the script exits 1, or 0 with a
# warning under --optional (for tools a step can skip without). Node.js is
# never installed: the interop tests skip themselves without it.
set -euo pipefail

optional=0
groups=()
for arg in "$@"; do
    case "$arg" in
    --optional) optional=1 ;;
    -h | --help)
        sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) groups+=("$arg") ;;
    esac
done
[ ${#groups[@]} -gt 0 ] || groups=(build)

wanted=()
for g in "${groups[@]}"; do
    case "$g" in
    build) wanted+=(cmake make gcc libc6-dev pkg-config libuv1-dev libssl-dev) ;;
    valgrind) wanted+=(valgrind) ;;
    fuzz) wanted+=(clang libclang-rt-14-dev) ;;
    format) wanted+=(clang-format-14) ;;
    bench) wanted+=(libevent-dev gnuplot-nox openssl) ;;
    nc) wanted+=(netcat-openbsd) ;;
    peers) wanted+=(ncat socat python3 openssl) ;; # tests/test_cnetcat.sh's peers and bench/cnetcat.sh
    abi) wanted+=(abigail-tools) ;;
    *) wanted+=("$g") ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: no dpkg-query: not a Debian system; install by hand: ${wanted[*]}" >&2
    exit $((optional ? 0 : 1))
fi

missing=()
for p in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: not root; install them with:" >&2
    echo "    sudo apt-get install -y ${missing[*]}" >&2
    [ $optional -eq 1 ] && echo "deps.sh: optional: continuing without them" >&2
    exit $((optional ? 0 : 1))
fi

export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } </dev/null; then
    echo "deps.sh: apt-get failed for: ${missing[*]}" >&2
    exit $((optional ? 0 : 1))
fi
