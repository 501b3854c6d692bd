#!/usr/bin/env bash
# bench/run.sh: run every echo server through the same scenarios, then write
# bench/results.md (tables, medians, ratios to raw libuv and to node) and
# bench/results.png (the ratios to raw libuv as a chart).
#
#   bench/run.sh                  full run: 3 repetitions, 5 s per measurement (~12 min)
#   BENCH_QUICK=1 bench/run.sh    smoke run: 1 repetition, 1 s per measurement (~2 min)
#   bench/run.sh --quick          the same as BENCH_QUICK=1
#
# Environment (all optional):
#   BENCH_REPS=N            repetitions per scenario and server (5; quick: 1); medians are reported
#   BENCH_DURATION=S        measured seconds per run (5; quick: 1)
#   BENCH_WARMUP=S          warm-up seconds before measuring (1; quick: 0.3)
#   BENCH_SERVERS="..."     subset of: epoll uv libevent node cnet tls_uv tls_node tls_cnet
#                           mc_cnet1 mc_cnet2 mc_node1 mc_node2
#   BENCH_SCENARIOS="..."   subset of: pp1 pp100 pp1000 pp100unix stream connect idle
#                           tls_pp100 tls_stream tls_hs_full tls_hs_resumed tls_idle mc_pp1000
#                           (tls_* servers run only the tls_* scenarios, mc_* servers only the
#                           mc_* ones, the others only the rest)
#   BENCH_MC_CPUS=LIST      cores the multi-core servers (mc_*) may use (all: 0-(nproc-1))
#   BENCH_IDLE_CONNS=N      connections held open in the idle scenario (10000)
#   BENCH_TLS_IDLE_CONNS=N  TLS connections held open in tls_idle (2000)
#   BENCH_TLS_VERSION=V     1.3 (default) or 1.2: the highest version the TLS servers accept
#   BENCH_TLS_KEY=K         the bench certificate's key: ec256 (ECDSA P-256, default) or rsa2048
#   BENCH_CONNECT_RST=1     connect and tls_hs_* scenarios: the client closes with RST, not FIN
#   BENCH_SERVER_CPU=N      core the server is pinned to (0)
#   BENCH_CLIENT_CPU=N      core the load generator is pinned to (1)
#   BENCH_NICE=N            as root, put this run's scheduling group (autogroup) at
#                           this nice level, e.g. -10 on a busy machine (0: off)
#   BENCH_BUILD_DIR=DIR     CMake build directory to configure and build (bench/build)
#   CNET_BUILD_DIR=DIR      an existing build configured with -DCNET_BUILD_BENCH=ON
#                           (make bench): only its bench targets are rebuilt
#   BENCH_NO_BUILD=1        use the binaries already in the build directory
#   BENCH_OUT=DIR           where results.{md,png,jsonl} go (bench/)
#   BENCH_NODE=PATH         node binary (node on PATH)
#
# Only 127.0.0.1 and a Unix socket in a private temporary directory are used.
# Every process this script starts is stopped by it (and bounded in time).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

quick=${BENCH_QUICK:-0}
for arg in "$@"; do
    case $arg in
    --quick) quick=1 ;;
    -h | --help)
        sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "run.sh: unknown argument '$arg' (try --help)" >&2
        exit 2
        ;;
    esac
done
if [ "$quick" = 1 ]; then
    reps=${BENCH_REPS:-1}
    duration=${BENCH_DURATION:-1}
    warmup=${BENCH_WARMUP:-0.3}
    hold=${BENCH_IDLE_HOLD:-0.5}
else
    reps=${BENCH_REPS:-5}
    duration=${BENCH_DURATION:-5}
    warmup=${BENCH_WARMUP:-1}
    hold=${BENCH_IDLE_HOLD:-1}
fi
servers=${BENCH_SERVERS:-"epoll uv libevent node cnet tls_uv tls_node tls_cnet mc_cnet1 mc_cnet2 mc_node1 mc_node2"}
scenarios=${BENCH_SCENARIOS:-"pp1 pp100 pp1000 pp100unix stream connect idle tls_pp100 tls_stream tls_hs_full tls_hs_resumed tls_idle mc_pp1000"}
idle_conns=${BENCH_IDLE_CONNS:-10000}
tls_idle_conns=${BENCH_TLS_IDLE_CONNS:-2000}
tls_version=${BENCH_TLS_VERSION:-1.3}
tls_key=${BENCH_TLS_KEY:-ec256}
case $tls_version in 1.3 | 1.2) ;; *)
    echo "run.sh: BENCH_TLS_VERSION must be 1.3 or 1.2" >&2
    exit 2
    ;;
esac
case $tls_key in ec256 | rsa2048) ;; *)
    echo "run.sh: BENCH_TLS_KEY must be ec256 or rsa2048" >&2
    exit 2
    ;;
esac
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
configure=1
if [ -n "${BENCH_BUILD_DIR:-}" ]; then
    build=$BENCH_BUILD_DIR
elif [ -n "${CNET_BUILD_DIR:-}" ]; then
    build=$CNET_BUILD_DIR
    configure=0 # someone else's build: do not touch its configuration
else
    build=$here/build
fi
out=${BENCH_OUT:-$here}
node_bin=${BENCH_NODE:-node}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

mkdir -p "$build" "$out" || die "cannot create $build or $out"
log=$build/run.log
: > "$log"
notes=$build/notes.txt # lines copied into results.md
: > "$notes"
note() { say "note: $*"; printf '%s\n' "$*" >> "$notes"; }

tmp=$(mktemp -d /tmp/cnet-bench.XXXXXX) || die "mktemp failed"
server_pid=
loadgen_pid=
autogroup_old=
cleanup() {
    if [ -n "$loadgen_pid" ]; then
        kill -TERM "$loadgen_pid" 2> /dev/null # timeout passes it on to loadgen
        wait "$loadgen_pid" 2> /dev/null
    fi
    if declare -F stop_server > /dev/null; then
        stop_server
    fi
    rm -rf "$tmp"
    if [ -n "$autogroup_old" ]; then
        echo "$autogroup_old" > /proc/self/autogroup 2> /dev/null
    fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Raise the priority of this run's scheduling group (its autogroup: the
# session it was started from) so that other work on the machine disturbs
# the measurements less. Nice levels of single processes would not do: they
# only order processes within one autogroup. The old level is restored at exit.
if [ "${BENCH_NICE:-0}" != 0 ] && [ "$(id -u)" = 0 ] && [ -w /proc/self/autogroup ]; then
    autogroup_old=$(awk '{ print $NF }' /proc/self/autogroup)
    if echo "$BENCH_NICE" > /proc/self/autogroup 2> /dev/null; then
        printf 'run.sh: scheduling group at nice %s for this run (was %s)\n' \
            "$BENCH_NICE" "$autogroup_old" >&2
    else
        autogroup_old=
    fi
fi

# ---- Build -------------------------------------------------------------------

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    say "== building into $build"
    if [ $configure = 1 ] && ! cmake -S "$repo" -B "$build" -DCNET_BUILD_BENCH=ON \
        -DCNET_BUILD_TESTS=OFF -DCNET_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release \
        >> "$log" 2>&1; then
        die "cmake configure failed, see $log"
    fi
    # One target at a time: a server that fails to build is skipped, not fatal.
    # Targets CMake did not define (no OpenSSL, no cnet_tls_echo.c yet) are
    # not attempted; the servers that need them say why they are skipped.
    known=$(cmake --build "$build" --target help 2> /dev/null)
    for t in loadgen epoll_echo uv_echo libevent_echo cnet_echo cnet_multicore_echo tls_loadgen tls_uv_echo cnet_tls_echo; do
        case $t in
        tls_* | cnet_tls_echo)
            if ! printf '%s\n' "$known" | grep -qw -- "$t"; then
                rm -f "$build/bench/$t"
                continue
            fi
            ;;
        esac
        if ! cmake --build "$build" --target "$t" -j 2 >> "$log" 2>&1; then
            say "   $t: build failed (see $log)"
            rm -f "$build/bench/$t"
        fi
    done
fi
loadgen=$build/bench/loadgen
tls_loadgen=$build/bench/tls_loadgen
[ -x "$loadgen" ] || die "no load generator at $loadgen (build failed? see $log)"

# ---- Servers -----------------------------------------------------------------

server_name() { echo "${1}_echo"; }

is_tls() { case $1 in tls_*) return 0 ;; *) return 1 ;; esac }
# Multi-core servers (issue 10): N workers on one port, run only by the mc_* scenarios.
is_mc() { case $1 in mc_*) return 0 ;; *) return 1 ;; esac }

# The TLS servers' certificate, made for this run in its private directory:
# self-signed for localhost and 127.0.0.1, valid for two days. tls_ok says
# why the TLS servers cannot run, or is empty.
tls_ok=
tls_args=()
tls_info=
setup_tls() {
    local keyopts
    if [ ! -x "$tls_loadgen" ]; then
        tls_ok="tls_loadgen missing (OpenSSL 3 development files not found by pkg-config? apt-get install libssl-dev)"
        return
    fi
    if ! command -v openssl > /dev/null 2>&1; then
        tls_ok="the openssl command is needed to make the bench certificate"
        return
    fi
    case $tls_key in
    ec256)
        keyopts=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
        tls_info="ECDSA P-256"
        ;;
    rsa2048)
        keyopts=(-newkey rsa:2048)
        tls_info="RSA 2048"
        ;;
    esac
    if ! openssl req -x509 "${keyopts[@]}" -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
        -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        >> "$log" 2>&1; then
        tls_ok="openssl req failed to make the bench certificate (see $log)"
        return
    fi
    tls_args=(--cert "$tmp/cert.pem" --key "$tmp/key.pem")
    [ "$tls_version" = 1.2 ] && tls_args+=(--tls1.2)
    tls_info="$tls_info self-signed certificate made for the run, TLS up to $tls_version"
}

# Sets cmd (array) for server $1, or returns 1 with a note when it is missing.
server_cmd() {
    if is_tls "$1" && [ -n "$tls_ok" ]; then
        note "$(server_name "$1") skipped: $tls_ok"
        return 1
    fi
    case $1 in
    tls_uv)
        if [ ! -x "$build/bench/tls_uv_echo" ]; then
            note "tls_uv_echo skipped: binary missing (OpenSSL 3 development files not found? apt-get install libssl-dev)"
            return 1
        fi
        cmd=("$build/bench/tls_uv_echo" "${tls_args[@]}")
        ;;
    tls_node)
        if ! command -v "$node_bin" > /dev/null 2>&1; then
            note "tls_node_echo skipped: '$node_bin' not found (install nodejs or set BENCH_NODE)"
            return 1
        fi
        cmd=("$node_bin" "$here/peers/node_tls_echo.js" "${tls_args[@]}")
        ;;
    tls_cnet)
        # bench/cnet_tls_echo.c, once cnet has TLS sockets (issue 9); see bench/README.md.
        if [ ! -f "$here/cnet_tls_echo.c" ]; then
            note "tls_cnet_echo skipped: not built yet (bench/cnet_tls_echo.c waits for cnet's TLS sockets, issue 9)"
            return 1
        fi
        if [ ! -x "$build/bench/cnet_tls_echo" ]; then
            note "tls_cnet_echo skipped: binary missing (cnet_tls_echo did not build, see $log)"
            return 1
        fi
        cmd=("$build/bench/cnet_tls_echo" "${tls_args[@]}")
        ;;
    node)
        if ! command -v "$node_bin" > /dev/null 2>&1; then
            note "node_echo skipped: '$node_bin' not found (install nodejs or set BENCH_NODE)"
            return 1
        fi
        cmd=("$node_bin" "$here/peers/node_echo.js")
        ;;
    mc_cnet[0-9]*)
        if [ ! -x "$build/bench/cnet_multicore_echo" ]; then
            note "$(server_name "$1") skipped: binary missing (cnet_multicore_echo did not build)"
            return 1
        fi
        cmd=("$build/bench/cnet_multicore_echo" -w "${1#mc_cnet}")
        ;;
    mc_node[0-9]*)
        if ! command -v "$node_bin" > /dev/null 2>&1; then
            note "$(server_name "$1") skipped: '$node_bin' not found (install nodejs or set BENCH_NODE)"
            return 1
        fi
        cmd=("$node_bin" "$here/peers/node_cluster_echo.js" -w "${1#mc_node}")
        ;;
    epoll | uv | libevent | cnet)
        if [ ! -x "$build/bench/${1}_echo" ]; then
            local why="binary missing"
            [ "$1" = libevent ] && why="binary missing (libevent-dev not installed?)"
            [ "$1" = cnet ] && why="binary missing (cnet did not build)"
            note "${1}_echo skipped: $why"
            return 1
        fi
        cmd=("$build/bench/${1}_echo")
        ;;
    *)
        note "unknown server '$1' ignored"
        return 1
        ;;
    esac
}

# Pinning needs two cores; without them both sides share the machine.
if [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
    pin_server=(taskset -c "$server_cpu")
    pin_client=(taskset -c "$client_cpu")
    pin_desc="server on core $server_cpu, load generator on core $client_cpu (taskset)"
    mc_cpus=${BENCH_MC_CPUS:-0-$(($(nproc) - 1))}
    pin_mc=(taskset -c "$mc_cpus")
    pin_desc="$pin_desc; multi-core servers on cores $mc_cpus"
else
    pin_server=()
    pin_client=()
    pin_desc="not pinned (needs 2 cores and taskset)"
    pin_mc=()
    note "server and load generator are not pinned: $pin_desc"
fi

port_lo=10000
port_hi=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || echo 32767)

# start_server NAME KIND(tcp|unix): starts it, waits until it echoes, sets
# server_pid and target. Returns 1 if it does not come up.
start_server() {
    local name=$1 kind=$2 _ probe=$loadgen pin=("${pin_server[@]}")
    is_tls "$name" && probe=$tls_loadgen
    is_mc "$name" && pin=("${pin_mc[@]}")
    for _ in 1 2 3 4 5; do
        if [ "$kind" = unix ]; then
            rm -f "$tmp/echo.sock"
            target="unix:$tmp/echo.sock"
        else
            target="127.0.0.1:$((port_lo + RANDOM % (port_hi - port_lo)))"
        fi
        "${pin[@]}" "${cmd[@]}" "$target" >> "$log" 2>&1 &
        server_pid=$!
        if "$probe" -m wait -t 10 "$target"; then
            return 0
        fi
        if kill -0 "$server_pid" 2> /dev/null; then
            say "   $(server_name "$name") runs but does not echo on $target"
            stop_server
            return 1
        fi
        wait "$server_pid" 2> /dev/null
        server_pid=
        # It exited: most likely the port was taken; try another one.
    done
    say "   $(server_name "$name") did not start (see $log)"
    return 1
}

stop_server() {
    local _
    [ -n "${server_pid:-}" ] || return 0
    kill -TERM "$server_pid" 2> /dev/null
    for _ in $(seq 1 30); do
        kill -0 "$server_pid" 2> /dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2> /dev/null
    wait "$server_pid" 2> /dev/null
    server_pid=
    rm -f "$tmp/echo.sock"
}

# ---- Scenarios ---------------------------------------------------------------

# Sets kind and args for scenario $1.
scenario_args() {
    case $1 in
    pp1) kind=tcp args=(-m pingpong -c 1 -s 64) ;;
    pp100) kind=tcp args=(-m pingpong -c 100 -s 64) ;;
    pp1000) kind=tcp args=(-m pingpong -c 1000 -s 64) ;;
    pp100unix) kind=unix args=(-m pingpong -c 100 -s 64) ;;
    stream) kind=tcp args=(-m stream -c 4 -s 65536 -w 262144) ;;
    connect)
        kind=tcp args=(-m connect -c 32 -s 64)
        if [ "${BENCH_CONNECT_RST:-0}" = 1 ]; then
            args+=(-R)
        fi
        ;;
    idle) kind=tcp args=(-m idle -c "$idle_conns" -H "$hold") ;;
    # TLS (issue 9): run by tls_loadgen against the tls_* servers.
    tls_pp100) kind=tcp args=(-m pingpong -c 100 -s 64) ;;
    tls_stream) kind=tcp args=(-m stream -c 4 -s 65536 -w 262144) ;;
    tls_hs_full | tls_hs_resumed)
        kind=tcp args=(-m connect -c 32 -s 64)
        [ "$1" = tls_hs_resumed ] && args+=(-r)
        if [ "${BENCH_CONNECT_RST:-0}" = 1 ]; then
            args+=(-R)
        fi
        ;;
    tls_idle) kind=tcp args=(-m idle -c "$tls_idle_conns" -H "$hold") ;;
    # Issue 10: pp1000 against the multi-core servers (1 and 2 workers).
    mc_pp1000) kind=tcp args=(-m pingpong -c 1000 -s 64) ;;
    *) return 1 ;;
    esac
}

# Whether server $1 runs scenario $2: TLS servers run the TLS scenarios only,
# multi-core servers the mc_* ones only, the others the rest.
runs_scenario() {
    if is_tls "$1"; then
        is_tls "$2"
    elif is_mc "$1"; then
        is_mc "$2"
    else
        ! is_tls "$2" && ! is_mc "$2"
    fi
}

# Descriptors: the idle scenarios need one per connection in both processes.
most_conns=$idle_conns
[ "$tls_idle_conns" -gt "$most_conns" ] && most_conns=$tls_idle_conns
need_fds=$((most_conns + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_fds" ]; then
    ulimit -n "$need_fds" 2> /dev/null || { ulimit -Hn "$need_fds" 2> /dev/null &&
        ulimit -n "$need_fds"; } 2> /dev/null || true
    if [ "$(ulimit -n)" -lt "$need_fds" ]; then
        if [ "$idle_conns" -gt $(($(ulimit -n) - 1024)) ]; then
            idle_conns=$(($(ulimit -n) - 1024))
            [ "$idle_conns" -lt 100 ] && idle_conns=100
            note "descriptor limit $(ulimit -n): idle scenario reduced to $idle_conns connections"
        fi
        if [ "$tls_idle_conns" -gt $(($(ulimit -n) - 1024)) ]; then
            tls_idle_conns=$(($(ulimit -n) - 1024))
            [ "$tls_idle_conns" -lt 100 ] && tls_idle_conns=100
            note "descriptor limit $(ulimit -n): tls_idle reduced to $tls_idle_conns connections"
        fi
    fi
fi

# ---- gnuplot -----------------------------------------------------------------

if ! command -v gnuplot > /dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    say "== installing gnuplot-nox for the chart"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get install -y -q gnuplot-nox >> "$log" 2>&1 ||
        { timeout 300 apt-get update -q >> "$log" 2>&1 &&
            timeout 300 apt-get install -y -q gnuplot-nox >> "$log" 2>&1; }
fi

# ---- Run -----------------------------------------------------------------------

# Before this run rewrites results.*, which would make every tree look modified.
cnet_version=$(git -C "$repo" describe --always --dirty 2> /dev/null || echo '?')
jsonl=$out/results.jsonl
: > "$jsonl"
failures=0

want_tls=0
for s in $servers; do
    is_tls "$s" && want_tls=1
done
[ $want_tls = 1 ] && setup_tls

active=()
for s in $servers; do
    server_cmd "$s" && active+=("$s")
done
[ "${#active[@]}" -gt 0 ] || die "no server to benchmark"

nscen=0
npairs=0
for sc in $scenarios; do
    scenario_args "$sc" || die "unknown scenario '$sc'"
    nscen=$((nscen + 1))
    for s in "${active[@]}"; do
        runs_scenario "$s" "$sc" && npairs=$((npairs + 1))
    done
done
[ "$npairs" -gt 0 ] || die "none of these servers runs any of these scenarios (tls_* servers run only tls_* scenarios, mc_* servers only mc_* ones)"
est=$(awk -v n=$((reps * npairs)) -v d="$duration" -v w="$warmup" \
    'BEGIN { printf "%.0f", n * (d + w + 0.6) / 60 + 0.5 }')
say "== ${#active[@]} servers, $nscen scenarios, $reps reps: $((reps * npairs)) runs of ${duration}s, about $est min"
say "   $pin_desc"

field() { # field JSON KEY: the raw value of KEY in a flat JSON line
    printf '%s' "$1" | sed -n "s/.*\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" | tr -d '"'
}

for rep in $(seq 1 "$reps"); do
    # Each repetition starts with a different server, so that no server always
    # runs first or last. uv_echo and cnet_echo always run back to back (in
    # alternating order): the targets compare those two, and a shared machine
    # drifts between faster and slower phases that can last a minute.
    # The same holds for tls_uv_echo and tls_cnet_echo (tpair).
    units=()
    pair=()
    tpair=()
    for s in "${active[@]}"; do
        case $s in
        uv | cnet) pair+=("$s") ;;
        tls_uv | tls_cnet) tpair+=("$s") ;;
        *) units+=("$s") ;;
        esac
    done
    [ "${#pair[@]}" -gt 0 ] && units+=(pair)
    [ "${#tpair[@]}" -gt 0 ] && units+=(tpair)
    if [ "${#pair[@]}" = 2 ] && [ $((rep % 2)) = 0 ]; then
        pair=("${pair[1]}" "${pair[0]}")
    fi
    if [ "${#tpair[@]}" = 2 ] && [ $((rep % 2)) = 0 ]; then
        tpair=("${tpair[1]}" "${tpair[0]}")
    fi
    n=${#units[@]}
    order=()
    for i in $(seq 0 $((n - 1))); do
        u=${units[$(((i + rep - 1) % n))]}
        if [ "$u" = pair ]; then
            order+=("${pair[@]}")
        elif [ "$u" = tpair ]; then
            order+=("${tpair[@]}")
        else
            order+=("$u")
        fi
    done
    for sc in $scenarios; do
        scenario_args "$sc"
        client=$loadgen
        is_tls "$sc" && client=$tls_loadgen
        for s in "${order[@]}"; do
            runs_scenario "$s" "$sc" || continue
            name=$(server_name "$s")
            server_cmd "$s" > /dev/null 2>&1 || continue
            label="$name/$sc/$rep"
            if ! start_server "$s" "$kind"; then
                printf '{"label":"%s","failed":"server did not start or echo"}\n' "$label" >> "$jsonl"
                failures=$((failures + 1))
                continue
            fi
            limit=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", d + w + 120 }')
            # In the background so that a signal reaches the trap at once.
            timeout -k 5 "$limit" "${pin_client[@]}" "$client" "${args[@]}" \
                -d "$duration" -W "$warmup" -t 60 -p "$server_pid" -C "$server_cpu" \
                -l "$label" "$target" > "$tmp/result" 2>> "$log" &
            loadgen_pid=$!
            wait "$loadgen_pid"
            rc=$?
            loadgen_pid=
            result=$(cat "$tmp/result")
            alive=1
            kill -0 "$server_pid" 2> /dev/null || alive=0
            stop_server
            if [ $rc -ne 0 ] || [ -z "$result" ] || [ $alive = 0 ]; then
                why="load generator exit $rc"
                [ $alive = 0 ] && why="server died"
                say "   [$rep/$reps] $sc $name: FAILED ($why, see $log)"
                printf '{"label":"%s","failed":"%s"}\n' "$label" "$why" >> "$jsonl"
                failures=$((failures + 1))
                continue
            fi
            printf '%s\n' "$result" >> "$jsonl"
            errs=$(field "$result" errors)
            if [ "$sc" = idle ] || [ "$sc" = tls_idle ]; then
                summary="$(field "$result" rss_per_conn_b) B RSS/conn"
            else
                summary="$(field "$result" ops_per_s) ops/s, p99 $(field "$result" lat_p99_us) us, $(field "$result" server_cpu_us_per_op) us CPU/op"
            fi
            case $sc in
            tls_hs_*) summary="$summary, $(field "$result" tls_resumed) of $(field "$result" tls_handshakes) resumed" ;;
            esac
            [ "${errs:-0}" != 0 ] && summary="$summary, $errs errors"
            say "   [$rep/$reps] $sc $name: $summary"
        done
    done
done

# ---- Report --------------------------------------------------------------------

say "== writing $out/results.md"
versions="libuv $(pkg-config --modversion libuv 2> /dev/null || echo '?')"
versions="$versions, libevent $(pkg-config --modversion libevent_core 2> /dev/null || echo '?')"
versions="$versions, node $("$node_bin" --version 2> /dev/null || echo 'absent')"
if [ $want_tls = 1 ]; then
    versions="$versions, OpenSSL $(pkg-config --modversion libssl 2> /dev/null || echo '?')"
    versions="$versions (node's own: $("$node_bin" -p process.versions.openssl 2> /dev/null || echo '?'))"
fi
versions="$versions, cnet $cnet_version"
cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2> /dev/null)
machine="$(nproc) cores (${cpu_model:-unknown CPU}), Linux $(uname -r)"
config="$reps repetition(s), ${duration} s measured after ${warmup} s warm-up; $pin_desc"
[ "${BENCH_NICE:-0}" != 0 ] && config="$config; scheduling group at nice $BENCH_NICE"
[ "${BENCH_CONNECT_RST:-0}" = 1 ] && config="$config; connect closes with RST"
[ "$failures" -gt 0 ] && note "$failures run(s) failed; see the raw lines in results.jsonl and $log"

awk -v servers="${active[*]}" -v scenarios="$scenarios" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" \
    -v machine="$machine" -v versions="$versions" -v config="$config" -v notesfile="$notes" \
    -v chart="$build/chart.dat" -v idle_conns="$idle_conns" \
    -v tls_idle_conns="$tls_idle_conns" -v tls_info="$tls_info" \
    -f "$here/report.awk" "$jsonl" > "$out/results.md" || die "report failed"

ncols=0
for s in "${active[@]}"; do
    [ "$s" != uv ] && ! is_tls "$s" && ! is_mc "$s" && ncols=$((ncols + 1)) # the chart is of the plain servers
done
if ! printf '%s\n' "${active[@]}" | grep -qx uv; then
    say "   uv_echo was not run: no ratios to raw libuv, no chart (the chart has no TLS panel)"
elif command -v gnuplot > /dev/null 2>&1; then
    say "== drawing $out/results.png"
    if ! gnuplot -e "datafile='$build/chart.dat'; outfile='$out/results.png'; ncols=$ncols" \
        "$here/chart.gp" >> "$log" 2>&1; then
        say "   gnuplot failed (see $log)"
    fi
else
    say "   gnuplot not available: no chart (apt-get install gnuplot-nox)"
fi
say "== done: $out/results.md"
