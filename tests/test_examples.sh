#!/usr/bin/env bash
# The example programs under load and on their error paths, driven as a user
# would, over loopback (ephemeral ports) and Unix sockets in a temp dir:
#   - echo_server (make demo's server) keeps its memory bounded against a
#     peer that sends 256 MiB and never reads (VmRSS sampled from /proc),
#     and meanwhile still echoes to a normal client (echo_client too);
#   - tls_echo_server the same over TLS (python3's ssl), when openssl is there;
#   - every example reports a listen error (EADDRINUSE) or a failed connect
#     with a message and a non-zero exit, within a deadline.
#
# Usage (CTest runs it this way): bash tests/test_examples.sh <source_dir> <build_dir>
#   EXAMPLES_RSS_BOUND_KIB  allowed VmRSS growth (default 24 MiB)
set -uo pipefail

build=$(cd "${2:?usage: test_examples.sh <source_dir> <build_dir>}" && pwd)
ex=$build/examples
[ -x "$ex/echo_server" ] || { echo "SKIP: $ex/echo_server not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing (the peers are Python)"; exit 77; }
mult=${CNET_TEST_TIMEOUT_MULTIPLIER:-1}
T=$((20 * mult))
bound=${EXAMPLES_RSS_BOUND_KIB:-24576}
dir=$(mktemp -d /tmp/cnet-examples-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# start NAME CMD...: runs CMD in the background (stdout $dir/NAME.out, stderr
# $dir/NAME.err), sets $spid, and $port from the first "port N" / "listening on N".
start() {
    local name=$1
    shift
    timeout "$T" "$@" >"$dir/$name.out" 2>"$dir/$name.err" </dev/null &
    spid=$!
    pids+=("$spid")
    port=
    for _ in $(seq 1 $((100 * mult))); do
        port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p; s/^listening on \([0-9][0-9]*\)$/\1/p' \
            "$dir/$name.out" 2>/dev/null | head -n1)
        [ -n "$port" ] && return 0
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.05
    done
    fail "$name: not listening: $(cat "$dir/$name.err")"
    port=0
}

# expect_fail NAME PATTERN CMD...: CMD exits non-zero (not by the deadline)
# and its stderr matches PATTERN.
expect_fail() {
    local name=$1 pattern=$2
    shift 2
    timeout "$T" "$@" >"$dir/$name.out" 2>"$dir/$name.err" </dev/null
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q -- "$pattern" "$dir/$name.err"; then
        pass "$name: exit $rc, $(head -n1 "$dir/$name.err")"
    else
        fail "$name: exit $rc, stderr: $(cat "$dir/$name.err")"
    fi
}

# The peers: a sender that never reads (prints the bytes the server took and
# its VmRSS growth), and a normal echo client.
cat >"$dir/peer.py" <<'PY'
import socket, ssl, sys, time

def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def connect(port, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(tls)
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s

def flood(port, pid, tls, bound, deadline):
    """Sends up to 256 MiB without reading, until the server stops taking bytes."""
    s = connect(port, tls)
    s.recv(7)  # "hello\r\n": the server is serving us
    base = peak = rss_kib(pid)
    s.settimeout(0.5)
    chunk, sent, total = b"x" * 65536, 0, 256 << 20
    end = time.time() + deadline
    while sent < total and time.time() < end:
        try:
            sent += s.send(chunk)
        except (socket.timeout, ssl.SSLWantWriteError):
            break  # half a second without progress: the server stopped reading
        peak = max(peak, rss_kib(pid))
        if peak - base > bound:
            break  # failed already; no need to push the rest
    for _ in range(10):  # a little longer: what the server read meanwhile
        time.sleep(0.05)
        peak = max(peak, rss_kib(pid))
    print("%d %d" % (sent, peak - base))
    return s  # left open, unread

def echo(port, tls):
    s = connect(port, tls)
    got = b""
    while not got.endswith(b"hello\r\n"):
        got += s.recv(100) or sys.exit("EOF before hello")
    s.sendall(b"ping\r\n")
    got = b""
    while len(got) < 6:
        got += s.recv(100) or sys.exit("EOF before the echo")
    assert got == b"ping\r\n", got
    if tls:
        s.close()  # (Python cannot half-close TLS and read on: the goodbye is plain's)
        return
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(100)
        if not d:
            break
        got += d
    assert got.endswith(b"goodbye\r\n"), got

mode, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tls = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
if mode == "flood":
    stuck = flood(port, pid, tls, int(sys.argv[5]), float(sys.argv[6]))
    sys.stdout.flush()
    echo(port, tls)  # the server still serves others while one peer is stuck
    print("echo ok")
    stuck.close()
PY

# flood NAME PORT PID [CAFILE]: the backpressure check against a server.
flood() {
    local name=$1 p=$2 pid=$3 ca=${4:-}
    local out
    out=$(timeout "$T" python3 "$dir/peer.py" flood "$p" "$pid" "$ca" "$bound" $((5 * mult)) 2>&1)
    local rc=$? sent growth
    read -r sent growth <<<"$(head -n1 <<<"$out")"
    if [ $rc -ne 0 ] || ! grep -q "echo ok" <<<"$out"; then
        fail "$name: peer failed (rc $rc): $out"
    elif [ "${growth:-999999999}" -ge "$bound" ]; then
        fail "$name: VmRSS grew by $growth KiB (bound $bound) while a peer sent $sent bytes unread"
    else
        pass "$name: a peer that never reads got $((sent >> 10)) KiB in, VmRSS +$growth KiB (bound $bound); others still served"
    fi
    kill -0 "$pid" 2>/dev/null || fail "$name: the server died: $(cat "$dir/$name.err")"
}

# ---- echo_server: backpressure, a normal client, listen errors --------------------

start echo "$ex/echo_server" --port 0 --host 127.0.0.1
eport=$port
epid=$spid
flood "echo_server" "$eport" "$epid"

if [ -x "$ex/echo_client" ]; then
    timeout "$T" "$ex/echo_client" --port "$eport" --host 127.0.0.1 >"$dir/client.out" 2>"$dir/client.err"
    rc=$?
    [ $rc -eq 0 ] && grep -q "hello" "$dir/client.out" && pass "echo_client: exit 0, greeted" ||
        fail "echo_client: exit $rc: $(cat "$dir/client.out" "$dir/client.err")"
    expect_fail "echo_client, no such socket" "ENOENT" "$ex/echo_client" --path "$dir/none.sock"
fi
expect_fail "echo_server, port in use" "EADDRINUSE" "$ex/echo_server" --port "$eport" --host 127.0.0.1
expect_fail "echo_server, bad option" "usage" "$ex/echo_server" --bogus

# ---- the other examples' listen errors ---------------------------------------------

[ -x "$ex/tcp_proxy" ] &&
    expect_fail "tcp_proxy, port in use" "EADDRINUSE" "$ex/tcp_proxy" "$eport" 127.0.0.1 1
[ -x "$ex/multicore_echo" ] &&
    expect_fail "multicore_echo, port in use" "EADDRINUSE" "$ex/multicore_echo" --port "$eport" --workers 2
[ -x "$ex/worker_pool" ] &&
    expect_fail "worker_pool, port in use" "EADDRINUSE" "$ex/worker_pool" --port "$eport" --workers 1
if [ -x "$ex/unix_peercred_server" ]; then
    timeout "$T" "$ex/unix_peercred_server" --path "$dir/mine.sock" >/dev/null 2>&1 </dev/null &
    pids+=($!)
    # its "listening on PATH" line has no port: wait for the socket file
    for _ in $(seq 1 $((100 * mult))); do [ -S "$dir/mine.sock" ] && break; sleep 0.05; done
    expect_fail "unix_peercred_server, path in use" "EADDRINUSE" \
        "$ex/unix_peercred_server" --path "$dir/mine.sock"
fi

# ---- TLS: the same server over TLS, verification on by default ---------------------

if [ ! -x "$ex/tls_echo_server" ]; then
    echo "SKIP: TLS examples not built (CNET_WITH_TLS=OFF)"
elif ! command -v openssl >/dev/null; then
    echo "SKIP: TLS examples (no openssl command to make a certificate)"
else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
    expect_fail "tls_echo_server, no such key" "No such file\|ENOENT\|no such file" \
        "$ex/tls_echo_server" --key "$dir/none.pem" --cert "$dir/cert.pem"
    start tls "$ex/tls_echo_server" --key "$dir/key.pem" --cert "$dir/cert.pem" --port 0 --host 127.0.0.1
    tport=$port
    flood "tls_echo_server" "$tport" "$spid" "$dir/cert.pem"
    expect_fail "tls_echo_server, port in use" "EADDRINUSE" \
        "$ex/tls_echo_server" --key "$dir/key.pem" --cert "$dir/cert.pem" --port "$tport" --host 127.0.0.1
    if [ -x "$ex/tls_echo_client" ]; then
        timeout "$T" "$ex/tls_echo_client" --ca "$dir/cert.pem" --port "$tport" >"$dir/tlsc.out" 2>"$dir/tlsc.err"
        rc=$?
        [ $rc -eq 0 ] && grep -q "authorized true" "$dir/tlsc.out" && grep -q hello "$dir/tlsc.out" &&
            pass "tls_echo_client --ca: exit 0, authorized, greeted" ||
            fail "tls_echo_client --ca: exit $rc: $(cat "$dir/tlsc.out" "$dir/tlsc.err")"
        # without --ca the self-signed certificate is refused: verification is on by default
        expect_fail "tls_echo_client, untrusted certificate" "DEPTH_ZERO_SELF_SIGNED_CERT" \
            "$ex/tls_echo_client" --port "$tport"
    fi
fi

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all example checks passed"
