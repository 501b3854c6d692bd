#!/usr/bin/env bash
# Bulk transfer through cnetcat, ncat and socat side by side (issue 11): one
# listener receiving into /dev/null, one client sending N bytes of
# /dev/zero, over loopback TCP, a Unix socket, and TLS. Reports MB/s (wall
# clock) and CPU seconds per GB (user + system of both processes and of
# the `head` that feeds them, the same for every tool), best of REPS.
#
#   bash bench/cnetcat.sh [cnetcat-binary]
#   BENCH_BYTES=2147483648 BENCH_REPS=3 BENCH_TOOLS="cnetcat ncat socat"
#   BENCH_TRANSPORTS="tcp unix tls"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
nc=${1:-$here/../build/tools/cnetcat/cnetcat}
bytes=${BENCH_BYTES:-2147483648}
reps=${BENCH_REPS:-3}
tools=${BENCH_TOOLS:-cnetcat ncat socat}
transports=${BENCH_TRANSPORTS:-tcp unix tls}
dir=$(mktemp -d /tmp/cnetcat-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
port=47811

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
cat "$dir/key.pem" "$dir/cert.pem" >"$dir/both.pem"

cmds() { # cmds TOOL TRANSPORT -> sets $srv and $cli
    local a="127.0.0.1" s=$dir/bench.sock
    case "$1:$2" in
    cnetcat:tcp) srv="$nc -l --recv-only $a $port"; cli="$nc --send-only $a $port" ;;
    cnetcat:unix) srv="$nc -l --recv-only -U $s"; cli="$nc --send-only -U $s" ;;
    cnetcat:tls) srv="$nc -l --recv-only --ssl-cert $dir/cert.pem --ssl-key $dir/key.pem $a $port"
        cli="$nc --send-only --ssl $a $port" ;;
    ncat:tcp) srv="ncat -l --recv-only $a $port"; cli="ncat --send-only $a $port" ;;
    ncat:unix) srv="ncat -l --recv-only -U $s"; cli="ncat --send-only -U $s" ;;
    ncat:tls) srv="ncat -l --recv-only --ssl-cert $dir/cert.pem --ssl-key $dir/key.pem $a $port"
        cli="ncat --send-only --ssl $a $port" ;;
    socat:tcp) srv="socat -u TCP-LISTEN:$port,bind=$a,reuseaddr -"; cli="socat -u - TCP:$a:$port" ;;
    socat:unix) srv="socat -u UNIX-LISTEN:$s -"; cli="socat -u - UNIX-CONNECT:$s" ;;
    socat:tls) srv="socat -u OPENSSL-LISTEN:$port,bind=$a,reuseaddr,cert=$dir/both.pem,verify=0 -"
        cli="socat -u - OPENSSL:$a:$port,verify=0" ;;
    esac
}

one() { # one TOOL TRANSPORT -> "secs cpu"
    cmds "$1" "$2"
    rm -f "$dir/bench.sock"
    port=$((port + 1))
    cmds "$1" "$2"
    local TIMEFORMAT="%R %U %S"
    { time (
        $srv >/dev/null 2>"$dir/srv.err" </dev/null &
        sp=$!
        sleep 0.4
        head -c "$bytes" /dev/zero | $cli 2>"$dir/cli.err"
        wait $sp
    ) ; } 2>&1 | tail -n1
}

printf '%-8s %-5s %10s %12s\n' tool link "MB/s" "CPU s/GB"
for t in $transports; do
    for tool in $tools; do
        if [ "$tool" != cnetcat ] && ! command -v "$tool" >/dev/null; then
            echo "$tool: not installed (apt-get install $tool)"
            continue
        fi
        best_mbs=0 best_cpu=0
        for _ in $(seq 1 "$reps"); do
            read -r real user sys < <(one "$tool" "$t")
            # the 0.4 s wait for the listener is not transfer time
            mbs=$(awk -v b="$bytes" -v r="$real" 'BEGIN { r -= 0.4; printf "%.0f", b / 1e6 / r }')
            cpu=$(awk -v b="$bytes" -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", (u + s) / (b / 1e9) }')
            if [ "$mbs" -gt "$best_mbs" ]; then best_mbs=$mbs; fi
            if [ "$best_cpu" = 0 ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
                best_cpu=$cpu
            fi
        done
        printf '%-8s %-5s %10s %12s\n' "$tool" "$t" "$best_mbs" "$best_cpu"
    done
done
