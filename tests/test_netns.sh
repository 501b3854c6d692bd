#!/usr/bin/env bash
# A link that dies under a live connection (issue 12, item 3). Two network
# namespaces of our own joined by a veth pair (10.77.0.1 <-> 10.77.0.2, no
# other interface, no route out: nothing leaves the machine); a cnet server
# (tests/netns_peer.c) in one, a cnet client in the other:
#   1. a transfer in progress, then the server's end of the link goes down:
#      the server (reading, keepalive 1 s, 1 s probes, 2 of them) sees
#      'timeout' (setTimeout 500 ms) then 'error' ETIMEDOUT syscall "read"
#      from keepalive, then 'close' had_error; the client (writing, its data
#      unacked: keepalive does not probe then) sees 'timeout' and destroys
#      itself: 'close' without error. Node v20 reports the same (see
#      docs/hostile-network.md).
#   2. a connect to the other namespace while the link is down: with the
#      peer's MAC known, bounded by the connect's timeout ('timeout', destroy,
#      'close'); with it unknown, 'error' EHOSTUNREACH "connect" once address
#      resolution fails.
#   3. the link back up: a new connection echoes a line.
# Skipped (exit 77) unless root with `ip netns` working.
#
# Usage (CTest runs it this way): bash tests/test_netns.sh <source_dir> <build_dir>
#   NETNS_NODE=1: node v20 plays both ends instead (the oracle; about 20 s)
set -uo pipefail

src=$(cd "${1:?usage: test_netns.sh <source_dir> <build_dir>}" && pwd)
build=$(cd "${2:?usage: test_netns.sh <source_dir> <build_dir>}" && pwd)
peer=("$build/tests/netns_peer")
detect=8 # seconds from the link going down to both ends closed (1 s idle + 2 probes, and slack)
if [ -n "${NETNS_NODE:-}" ]; then
    # The same scenarios with node v20's net as both ends (tests/node/netns_peer.js): its
    # keepalive cannot be shortened, so a dead peer takes about 11 s.
    command -v node >/dev/null || { echo "SKIP: NETNS_NODE set but no node"; exit 77; }
    peer=(node "$src/tests/node/netns_peer.js")
    detect=16
else
    [ -x "${peer[0]}" ] || { echo "SKIP: ${peer[0]} not built"; exit 77; }
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to make network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip(8) (iproute2)"; exit 77; }
mult=${CNET_TEST_TIMEOUT_MULTIPLIER:-1}
mult=${mult%.*}
[ "${mult:-0}" -ge 1 ] 2>/dev/null || mult=1

tag=cn$$ # names are per run: parallel runs do not collide
A=$tag-a B=$tag-b
VA=${tag}a VB=${tag}b # interface names: at most 15 characters
dir=$(mktemp -d /tmp/cnet-netns-XXXXXX)
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null
    wait 2>/dev/null
    ip netns del "$A" 2>/dev/null
    ip netns del "$B" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
if ! ip netns add "$A" 2>"$dir/err"; then
    echo "SKIP: cannot make a network namespace: $(cat "$dir/err")"
    exit 77
fi
ip netns add "$B" || exit 1
ip link add "$VA" type veth peer name "$VB" || { echo "SKIP: no veth pairs"; exit 77; }
ip link set "$VA" netns "$A" && ip link set "$VB" netns "$B" || exit 1
ip -n "$A" addr add 10.77.0.1/24 dev "$VA" && ip -n "$B" addr add 10.77.0.2/24 dev "$VB" || exit 1
for ns in "$A" "$B"; do ip -n "$ns" link set lo up || exit 1; done
ip -n "$A" link set "$VA" up && ip -n "$B" link set "$VB" up || exit 1
# No route out: each namespace knows only its /24 on the veth (and lo).
if ip -n "$A" route show default | grep -q . || ip -n "$B" route show default | grep -q .; then
    echo "FAIL: a namespace has a default route" >&2
    exit 1
fi

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
in_a() { ip netns exec "$A" "$@"; }
in_b() { ip netns exec "$B" "$@"; }

# wait_line FILE TEXT SECONDS: until FILE has a line TEXT.
wait_line() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qx "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# expect NAME FILE EVENTS: the peer's EVENTS line is exactly EVENTS.
expect() {
    local got
    got=$(sed -n 's/^EVENTS //p' "$2")
    if [ "$got" = "$3" ]; then pass "$1: $got"; else fail "$1: expected '$3', got '$got'"; cat "${2%.out}.err" >&2; fi
}

T=$((15 * mult))
start=$SECONDS

# 1. Link down mid-transfer.
timeout "$T" ip netns exec "$A" "${peer[@]}" server 10.77.0.1 7001 --keepalive 1000 --keepintvl 1 \
    --keepcnt 2 --timeout 500 >"$dir/s1.out" 2>"$dir/s1.err" &
spid=$!
wait_line "$dir/s1.out" listening 5 || fail "1: server not listening"
timeout "$T" ip netns exec "$B" "${peer[@]}" client 10.77.0.1 7001 --stream --timeout 1500 \
    --destroy-on-timeout >"$dir/c1.out" 2>"$dir/c1.err" &
cpid=$!
wait_line "$dir/s1.out" receiving 5 || fail "1: no transfer"
in_a ip link set dev "$VA" down
t_down=$SECONDS
wait "$spid" || fail "1: server exit $?"
wait "$cpid" || fail "1: client exit $?"
expect "1 server, link down while reading (keepalive)" "$dir/s1.out" \
    "connection timeout error:ETIMEDOUT:read close:1"
expect "1 client, link down while writing (setTimeout)" "$dir/c1.out" "connect timeout close:0"
[ $((SECONDS - t_down)) -le "$detect" ] || fail "1: took $((SECONDS - t_down)) s after the link went down"

# 2. Connects across the dead link. Which error depends on the neighbour (ARP) entry, so
# each variant sets it: (a) known (a permanent entry): the SYNs go out into the void, and
# only the connect's timeout bounds it; (b) unknown, resolution fails (100 ms probes here,
# set in B's own sysctls): 'error' EHOSTUNREACH "connect". Node v20 gives the same.
mac=$(in_a cat "/sys/class/net/$VA/address")
in_b ip neigh replace 10.77.0.1 lladdr "$mac" dev "$VB" nud permanent || fail "2a: neighbour entry"
t2=$SECONDS
timeout "$T" ip netns exec "$B" "${peer[@]}" client 10.77.0.1 7002 --timeout 700 --destroy-on-timeout \
    >"$dir/c2.out" 2>"$dir/c2.err"
rc=$?
[ "$rc" = 0 ] || fail "2a: client exit $rc"
expect "2a connect while the link is down, peer's MAC known" "$dir/c2.out" "timeout close:0"
[ $((SECONDS - t2)) -le 3 ] || fail "2a: took $((SECONDS - t2)) s"
in_b ip neigh del 10.77.0.1 dev "$VB" || fail "2b: neighbour entry"
in_b sysctl -qw "net.ipv4.neigh.$VB.retrans_time_ms=100" "net.ipv4.neigh.$VB.mcast_solicit=3" \
    "net.ipv4.neigh.$VB.ucast_solicit=0" || fail "2b: sysctl"
t2=$SECONDS
timeout "$T" ip netns exec "$B" "${peer[@]}" client 10.77.0.1 7002 --timeout 5000 --destroy-on-timeout \
    >"$dir/c2b.out" 2>"$dir/c2b.err"
rc=$?
[ "$rc" = 0 ] || fail "2b: client exit $rc"
expect "2b connect while the link is down, peer's MAC unknown" "$dir/c2b.out" \
    "error:EHOSTUNREACH:connect close:1"
[ $((SECONDS - t2)) -le 3 ] || fail "2b: took $((SECONDS - t2)) s"

# 3. Link up again: a new connection works.
in_a ip link set dev "$VA" up
timeout "$T" ip netns exec "$A" "${peer[@]}" server 10.77.0.1 7003 --echo >"$dir/s3.out" 2>"$dir/s3.err" &
spid=$!
wait_line "$dir/s3.out" listening 5 || fail "3: server not listening"
# The veth needs a moment to report carrier again; the client retries until then.
for ((i = 0; i < 20; i++)); do
    timeout "$T" ip netns exec "$B" "${peer[@]}" client 10.77.0.1 7003 --ping --timeout 2000 \
        --destroy-on-timeout >"$dir/c3.out" 2>"$dir/c3.err"
    grep -q '^EVENTS connect' "$dir/c3.out" && break
    sleep 0.1
done
wait "$spid" || fail "3: server exit $?"
expect "3 link up again, new connection" "$dir/c3.out" "connect pong end close:0"
expect "3 server" "$dir/s3.out" "connection end close:0"

echo "test_netns: $((SECONDS - start)) s"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
