#!/usr/bin/env bash
# Drives the built cnetcat binary over loopback and a Unix socket in a temp
# dir: against itself, and against ncat and socat when they are installed
# (skipped with a message otherwise). Every step has a deadline.
#
# Usage (CTest runs it this way): bash tests/test_cnetcat.sh <source_dir> <build_dir>
#   CNETCAT_BIG=<bytes>  size of the --send-only -> --recv-only transfer (default 1 GiB)
set -uo pipefail

src=$(cd "${1:?usage: test_cnetcat.sh <source_dir> <build_dir>}" && pwd)
build=$(cd "${2:?usage}" && pwd)
nc=$build/tools/cnetcat/cnetcat
[ -x "$nc" ] || { echo "SKIP: $nc not built (CNET_BUILD_TOOLS=OFF)"; exit 77; }
big=${CNETCAT_BIG:-1073741824}
mult=${CNET_TEST_TIMEOUT_MULTIPLIER:-1}
T=$((20 * mult))
dir=$(mktemp -d /tmp/cnetcat-test-XXXXXX)
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

# listen NAME ARGS...: starts `cnetcat -v -l ARGS` in the background with
# stdout in $dir/NAME.out and stderr in $dir/NAME.err; sets $port from its
# "Listening on" line (listen on port 0) and $lpid.
listen() {
    local name=$1
    shift
    # stdin stays open (a pipe from sleep): a listener whose stdin ended would
    # half-close each client at once, as ncat does
    local t=${LISTEN_T:-$T}
    timeout "$t" "$nc" -v -l "$@" >"$dir/$name.out" 2>"$dir/$name.err" < <(sleep "$t") &
    lpid=$!
    pids+=("$lpid")
    for _ in $(seq 1 200); do
        if grep -q "Listening on" "$dir/$name.err" 2>/dev/null; then
            port=$(sed -n 's/.*Listening on .*:\([0-9]*\)$/\1/p' "$dir/$name.err" | head -n1)
            return 0
        fi
        sleep 0.05
    done
    fail "$name: no 'Listening on' line: $(cat "$dir/$name.err")"
    port=0
}

wait_for() { # wait_for PID: waits for it, returns its status
    wait "$1"
}

# ---- usage and exit codes ------------------------------------------------------

"$nc" --version | grep -q "^cnetcat: Version" && pass "--version" || fail "--version"
"$nc" --help | grep -q -- "--send-only" && pass "--help" || fail "--help"
"$nc" --bogus 2>/dev/null
[ $? -eq 2 ] && pass "bad option: exit 2" || fail "bad option: exit code"
"$nc" -w 0 127.0.0.1 1 2>/dev/null
[ $? -eq 2 ] && pass "-w 0: exit 2" || fail "-w 0: exit code"
# found by tests/fuzz/fuzz_cnetcat_options: "nan" passed the "> 0" check and
# became a garbage timeout (an undefined conversion)
for t in nan -nan NaNms; do
    "$nc" -w "$t" 127.0.0.1 1 2>/dev/null
    [ $? -eq 2 ] && pass "-w $t: exit 2" || fail "-w $t: exit code"
    "$nc" -i "$t" 127.0.0.1 1 2>/dev/null
    [ $? -eq 2 ] && pass "-i $t: exit 2" || fail "-i $t: exit code"
done
# a host file that is no text (NUL bytes) is refused, not read for ever
timeout 10 "$nc" -l --allowfile /dev/zero 127.0.0.1 0 2>/dev/null
[ $? -eq 2 ] && pass "--allowfile /dev/zero: exit 2" || fail "--allowfile /dev/zero: exit code"
"$nc" --send-only --recv-only 127.0.0.1 1 2>/dev/null
[ $? -eq 2 ] && pass "--send-only with --recv-only: exit 2" || fail "exclusive options"

# a closed port: bound and never listening, held by python for the whole
# check so no other test can take it (tests/socket_recorder.h's rule)
if command -v python3 >/dev/null; then
    python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$dir/closed.port" &
    pids+=($!)
    for _ in $(seq 1 100); do [ -s "$dir/closed.port" ] && break; sleep 0.05; done
    rport=$(cat "$dir/closed.port")
    timeout "$T" "$nc" 127.0.0.1 "$rport" </dev/null 2>"$dir/refused.err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "Connection refused" "$dir/refused.err"; then
        pass "refused: exit 1, message"
    else
        fail "refused: rc=$rc $(cat "$dir/refused.err")"
    fi
else
    echo "SKIP: refused port (python3 missing to hold a closed port)"
fi

# ---- a round trip and the verbose lines -----------------------------------------

listen basic 127.0.0.1 0
printf 'hello\n' | timeout "$T" "$nc" -v -o "$dir/basic.o" -x "$dir/basic.x" 127.0.0.1 "$port" \
    2>"$dir/basic.cerr"
wait_for "$lpid"
[ "$(cat "$dir/basic.out")" = "hello" ] && pass "client -> listener bytes" || fail "basic: $(cat "$dir/basic.out")"
grep -q "Connected to 127.0.0.1:$port." "$dir/basic.cerr" && pass "-v: Connected to" || fail "-v connected: $(cat "$dir/basic.cerr")"
grep -q "6 bytes sent, 0 bytes received" "$dir/basic.cerr" && pass "-v: summary" || fail "summary: $(cat "$dir/basic.cerr")"
grep -q "Connection from 127.0.0.1:" "$dir/basic.err" && pass "-v: Connection from" || fail "connection from: $(cat "$dir/basic.err")"
[ "$(cat "$dir/basic.o")" = "hello" ] && pass "-o" || fail "-o: $(cat "$dir/basic.o")"
grep -q "^0000   68 65 6c 6c 6f 0a  *hello\. *$" "$dir/basic.x" && pass "-x (ncat's format)" || fail "-x: $(cat "$dir/basic.x")"

# ---- half-close both ways: --exec cat answers after our EOF ----------------------

listen exec 127.0.0.1 0 --exec /bin/cat
out=$(printf 'round trip\n' | timeout "$T" "$nc" 127.0.0.1 "$port")
wait_for "$lpid"
[ "$out" = "round trip" ] && pass "--exec round trip (half-close both ways)" || fail "--exec: '$out'"

listen shexec 127.0.0.1 0 --sh-exec "tr a-z A-Z"
out=$(printf 'shout\n' | timeout "$T" "$nc" 127.0.0.1 "$port")
wait_for "$lpid"
[ "$out" = "SHOUT" ] && pass "--sh-exec" || fail "--sh-exec: '$out'"

# ---- a big transfer, --send-only into --recv-only, byte-identical ----------------

# the received bytes go straight into sha256sum: nothing of this size on disk
bigT=$((300 * mult))
(timeout "$bigT" "$nc" -v -l --recv-only 127.0.0.1 0 2>"$dir/big.err" < <(sleep "$bigT") |
    sha256sum >"$dir/big.recv.sum") &
lpid=$!
pids+=("$lpid")
port=0
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*Listening on .*:\([0-9]*\)$/\1/p' "$dir/big.err" 2>/dev/null | head -n1)
    [ -n "$port" ] && break
    sleep 0.05
done
head -c "$big" /dev/urandom | tee >(sha256sum >"$dir/big.sent.sum") |
    timeout "$bigT" "$nc" --send-only 127.0.0.1 "$port"
rc=$?
wait "$lpid"
sleep 0.2
if [ $rc -eq 0 ] && [ -s "$dir/big.sent.sum" ] && cmp -s "$dir/big.sent.sum" "$dir/big.recv.sum"; then
    pass "$big bytes --send-only -> --recv-only, identical"
else
    fail "big transfer: rc=$rc $(cat "$dir/big.sent.sum") vs $(cat "$dir/big.recv.sum")"
fi

# ---- -k, --max-conns ----------------------------------------------------------------

listen keep 127.0.0.1 0 -k
for i in 1 2 3; do printf "client$i\n" | timeout "$T" "$nc" --send-only 127.0.0.1 "$port"; done
sleep 0.3
kill "$lpid" 2>/dev/null
n=$(grep -c '^client' "$dir/keep.out")
[ "$n" = 3 ] && pass "-k: three clients in turn" || fail "-k: got $n: $(cat "$dir/keep.out")"

listen maxc 127.0.0.1 0 -k --max-conns 1
(sleep 2 | timeout "$T" "$nc" 127.0.0.1 "$port" >/dev/null) &
pids+=($!)
sleep 0.5
printf 'second\n' | timeout "$T" "$nc" 127.0.0.1 "$port" >/dev/null 2>&1
sleep 0.3
kill "$lpid" 2>/dev/null
grep -q "connection limit" "$dir/maxc.err" && ! grep -q second "$dir/maxc.out" &&
    pass "--max-conns 1: the second client is dropped" || fail "--max-conns: $(cat "$dir/maxc.err")"

# ---- --broker with three clients, --chat ----------------------------------------------

listen broker 127.0.0.1 0 --broker
(sleep 0.8; printf 'from-a\n'; sleep 1) | timeout "$T" "$nc" 127.0.0.1 "$port" >"$dir/ba.out" &
a=$!
(sleep 2) | timeout "$T" "$nc" 127.0.0.1 "$port" >"$dir/bb.out" &
b=$!
(sleep 2) | timeout "$T" "$nc" 127.0.0.1 "$port" >"$dir/bc.out" &
c=$!
wait $a $b $c
kill "$lpid" 2>/dev/null
if [ "$(cat "$dir/bb.out")" = from-a ] && [ "$(cat "$dir/bc.out")" = from-a ] && [ ! -s "$dir/ba.out" ]; then
    pass "--broker: one client's bytes reach the two others"
else
    fail "--broker: b='$(cat "$dir/bb.out")' c='$(cat "$dir/bc.out")' a='$(cat "$dir/ba.out")'"
fi

listen chat 127.0.0.1 0 --chat
(sleep 0.8; printf 'hi\n'; sleep 0.8) | timeout "$T" "$nc" 127.0.0.1 "$port" >"$dir/ca.out" &
a=$!
(sleep 1.8) | timeout "$T" "$nc" 127.0.0.1 "$port" >"$dir/cb.out" &
b=$!
wait $a $b
kill "$lpid" 2>/dev/null
grep -q '^<user[0-9]*> hi$' "$dir/cb.out" && grep -q '^<announce> .* is connected as <user' "$dir/cb.out" &&
    pass "--chat: prefixes and announcements" || fail "--chat: $(cat "$dir/cb.out")"

# ---- --allow / --deny ------------------------------------------------------------------

listen deny 127.0.0.1 0 -k --deny 127.0.0.1
printf 'x\n' | timeout "$T" "$nc" 127.0.0.1 "$port" >/dev/null 2>&1
printf 'y\n' | timeout "$T" "$nc" -s 127.0.0.2 127.0.0.1 "$port" >/dev/null 2>&1
sleep 0.3
kill "$lpid" 2>/dev/null
[ "$(cat "$dir/deny.out")" = y ] && grep -q "denied" "$dir/deny.err" &&
    pass "--deny 127.0.0.1 (-s 127.0.0.2 still served)" || fail "--deny: out='$(cat "$dir/deny.out")'"

printf '# allowed\n127.0.0.2\n10.0.0.0/8\n' >"$dir/allow.txt"
listen allow 127.0.0.1 0 -k --allowfile "$dir/allow.txt"
printf 'x\n' | timeout "$T" "$nc" 127.0.0.1 "$port" >/dev/null 2>&1
printf 'y\n' | timeout "$T" "$nc" -s 127.0.0.2 127.0.0.1 "$port" >/dev/null 2>&1
sleep 0.3
kill "$lpid" 2>/dev/null
[ "$(cat "$dir/allow.out")" = y ] && grep -q "not allowed" "$dir/allow.err" &&
    pass "--allowfile (CIDR and address)" || fail "--allowfile: out='$(cat "$dir/allow.out")'"

listen allowcidr 127.0.0.1 0 --allow 127.0.0.0/8
printf 'z\n' | timeout "$T" "$nc" 127.0.0.1 "$port" >/dev/null 2>&1
wait_for "$lpid"
[ "$(cat "$dir/allowcidr.out")" = z ] && pass "--allow 127.0.0.0/8" || fail "--allow CIDR"

# ---- -s / -p, -U, -6, -i --------------------------------------------------------------

listen src 127.0.0.1 0
printf 's\n' | timeout "$T" "$nc" -s 127.0.0.3 127.0.0.1 "$port"
wait_for "$lpid"
grep -q "Connection from 127.0.0.3:" "$dir/src.err" && pass "-s" || fail "-s: $(cat "$dir/src.err")"

sock=$dir/nc.sock
timeout "$T" "$nc" -l -U "$sock" >"$dir/unix.out" 2>"$dir/unix.err" < <(sleep "$T") &
lpid=$!
pids+=("$lpid")
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
printf 'over unix\n' | timeout "$T" "$nc" -U "$sock"
wait_for "$lpid"
[ "$(cat "$dir/unix.out")" = "over unix" ] && pass "-U" || fail "-U: $(cat "$dir/unix.err")"

if "$nc" -6 -l ::1 0 </dev/null >/dev/null 2>&1 & sleep 0.3; kill $! 2>/dev/null; wait $! 2>/dev/null; [ $? -ne 2 ]; then
    listen v6 -6 ::1 0
    printf 'six\n' | timeout "$T" "$nc" -6 ::1 "$port"
    wait_for "$lpid"
    [ "$(cat "$dir/v6.out")" = six ] && pass "-6 over ::1" || fail "-6: $(cat "$dir/v6.err")"
else
    echo "SKIP: -6 (no IPv6 loopback)"
fi

listen idle 127.0.0.1 0
sleep 3 | timeout "$T" "$nc" -i 300ms 127.0.0.1 "$port" 2>"$dir/idle.cerr"
rc=$?
kill "$lpid" 2>/dev/null
[ $rc -eq 1 ] && grep -q "Idle timeout expired (300 ms)" "$dir/idle.cerr" &&
    pass "-i: idle timeout, exit 1" || fail "-i: rc=$rc $(cat "$dir/idle.cerr")"

listen zero 127.0.0.1 0
timeout "$T" "$nc" -z 127.0.0.1 "$port"
rc=$?
wait_for "$lpid"
[ $rc -eq 0 ] && pass "-z" || fail "-z rc=$rc"

# ---- -p, -C, --append-output, --no-shutdown, -vv, -w ------------------------------------

listen srcport 127.0.0.1 0
sport=$(( (RANDOM % 2000) + 40000 ))
printf 'p\n' | timeout "$T" "$nc" -s 127.0.0.1 -p "$sport" 127.0.0.1 "$port" 2>/dev/null
wait_for "$lpid"
grep -q "Connection from 127.0.0.1:$sport\." "$dir/srcport.err" && pass "-p (source port)" ||
    echo "note: -p $sport not seen (port taken?): $(cat "$dir/srcport.err" | tail -n1)"

listen crlf 127.0.0.1 0
printf 'a\nb\n' | timeout "$T" "$nc" -C 127.0.0.1 "$port"
wait_for "$lpid"
[ "$(od -An -c "$dir/crlf.out" | tr -d ' \n')" = 'a\r\nb\r\n' ] && pass "-C (CRLF)" || fail "-C: $(od -An -c "$dir/crlf.out")"

printf 'old\n' >"$dir/app.o"
listen app 127.0.0.1 0
printf 'new\n' | timeout "$T" "$nc" --append-output -o "$dir/app.o" 127.0.0.1 "$port"
wait_for "$lpid"
[ "$(cat "$dir/app.o")" = "$(printf 'old\nnew')" ] && pass "--append-output" || fail "--append-output: $(cat "$dir/app.o")"

# --no-shutdown: our EOF does not half-close, so the --exec cat never ends; the client stays
# until the idle timeout closes it
listen noshut 127.0.0.1 0 --exec /bin/cat
out=$(printf 'kept\n' | timeout "$T" "$nc" --no-shutdown -i 700ms 127.0.0.1 "$port" 2>/dev/null)
rc=$?
kill "$lpid" 2>/dev/null
[ "$out" = kept ] && [ $rc -eq 1 ] && pass "--no-shutdown (the echo comes back, no FIN sent)" ||
    fail "--no-shutdown: '$out' rc=$rc"

listen vv 127.0.0.1 0 -k -v
printf '12345\n' | timeout "$T" "$nc" --send-only 127.0.0.1 "$port"
sleep 0.3
kill "$lpid" 2>/dev/null
grep -q "closed: 6 bytes received, 0 sent" "$dir/vv.err" && pass "-vv: per-connection counts" ||
    fail "-vv: $(cat "$dir/vv.err")"

# -w: a listener whose accept queue is full drops further SYNs, so the connect never completes
if command -v python3 >/dev/null; then
    python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
fill = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$dir/full.port" &
    pids+=($!)
    for _ in $(seq 1 100); do [ -s "$dir/full.port" ] && break; sleep 0.05; done
    timeout "$T" "$nc" -w 500ms 127.0.0.1 "$(cat "$dir/full.port")" </dev/null 2>"$dir/w.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "TIMEOUT" "$dir/w.err" && pass "-w: connect timeout, exit 1" ||
        fail "-w: rc=$rc $(cat "$dir/w.err")"
else
    echo "SKIP: -w against a full accept queue (python3 missing)"
fi

# ---- TLS ---------------------------------------------------------------------------------

if "$nc" --help | grep -q -- --ssl && [ "$(grep -c 'CNET_HAVE_TLS 1' "$build/include/cnet/version.h")" = 1 ]; then
    listen tls 127.0.0.1 0 --ssl
    printf 'secret\n' | timeout "$T" "$nc" --ssl 127.0.0.1 "$port"
    wait_for "$lpid"
    [ "$(cat "$dir/tls.out")" = secret ] && pass "--ssl with a generated certificate" || fail "--ssl: $(cat "$dir/tls.err")"

    listen tlsv 127.0.0.1 0 --ssl
    printf 'x\n' | timeout "$T" "$nc" --ssl-verify 127.0.0.1 "$port" 2>"$dir/tlsv.cerr"
    rc=$?
    kill "$lpid" 2>/dev/null
    [ $rc -eq 1 ] && grep -qi "self.signed" "$dir/tlsv.cerr" &&
        pass "--ssl-verify refuses a self-signed server" || fail "--ssl-verify: rc=$rc $(cat "$dir/tlsv.cerr")"

    # --ssl-cert/--ssl-key on the server, --ssl-verify --ssl-trustfile --ssl-servername
    # --ssl-alpn --ssl-ciphers on the client
    if command -v openssl >/dev/null; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj /CN=cnetcat.test -addext "subjectAltName=DNS:cnetcat.test" \
            -keyout "$dir/k.pem" -out "$dir/c.pem" >/dev/null 2>&1
        listen tlsf 127.0.0.1 0 --ssl-cert "$dir/c.pem" --ssl-key "$dir/k.pem" --ssl-alpn h2,x
        printf 'verified\n' | timeout "$T" "$nc" -v --ssl-verify --ssl-trustfile "$dir/c.pem" \
            --ssl-servername cnetcat.test --ssl-alpn x --ssl-ciphers 'ECDHE+AESGCM:TLS_AES_128_GCM_SHA256' \
            127.0.0.1 "$port" 2>"$dir/tlsf.cerr"
        rc=$?
        wait_for "$lpid"
        [ $rc -eq 0 ] && [ "$(cat "$dir/tlsf.out")" = verified ] &&
            pass "--ssl-cert/--ssl-key/--ssl-verify/--ssl-trustfile/--ssl-servername/--ssl-alpn/--ssl-ciphers" ||
            fail "TLS file options: rc=$rc $(cat "$dir/tlsf.cerr")"
        listen tlsn 127.0.0.1 0 --ssl-cert "$dir/c.pem" --ssl-key "$dir/k.pem"
        printf 'x\n' | timeout "$T" "$nc" --ssl-verify --ssl-trustfile "$dir/c.pem" \
            --ssl-servername other.test 127.0.0.1 "$port" 2>"$dir/tlsn.cerr"
        rc=$?
        kill "$lpid" 2>/dev/null
        [ $rc -eq 1 ] && grep -qi "altnames\|does not match" "$dir/tlsn.cerr" &&
            pass "--ssl-servername is the name verified" || fail "wrong servername: rc=$rc $(cat "$dir/tlsn.cerr")"
    else
        echo "SKIP: TLS file options (openssl CLI missing)"
    fi
else
    echo "SKIP: TLS (built without it)"
fi

# ---- the live progress line (stderr on a terminal only) -------------------------------
#
# A paced source (3.1 MiB over ~2 s from a Python listener) into `cnetcat
# --recv-only`, stdout to a file: with stderr on a pty (python3's pty module)
# the line "\r\033[K<bytes>  <rate>/s  M:SS" must appear; with stderr on a file,
# no such line. Exit 77 from the helper: no pty could be made.

if command -v python3 >/dev/null; then
    cat >"$dir/progress.py" <<'PY'
import os, re, select, socket, subprocess, sys, threading, time
nc, mode, out, deadline = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
STEPS, CHUNK = 40, 80 << 10
TOTAL = STEPS * CHUNK
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
def source():
    c, _ = srv.accept()
    chunk = b"p" * CHUNK
    for _ in range(STEPS):  # 40 x 80 KiB, 50 ms apart: ~2 s
        c.sendall(chunk)
        time.sleep(0.05)
    c.close()
threading.Thread(target=source, daemon=True).start()
argv = [nc, "--recv-only", "127.0.0.1", str(srv.getsockname()[1])]
with open(out, "wb") as f:
    if mode == "pty":
        try:
            master, slave = os.openpty()
        except OSError as e:
            print("no pty: %s" % e)
            sys.exit(77)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=slave)
        os.close(slave)
        err = b""
        end = time.time() + deadline
        while time.time() < end:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    d = os.read(master, 4096)
                except OSError:  # EIO: the child's side of the pty is closed
                    break
                if not d:
                    break
                err += d
            elif p.poll() is not None:
                break
    else:
        ef = open(out + ".err", "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=ef)
    try:
        rc = p.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        p.kill()
        print("cnetcat did not finish")
        sys.exit(1)
    if mode != "pty":
        ef.close()
        err = open(out + ".err", "rb").read()
if rc != 0 or os.path.getsize(out) != TOTAL:
    print("rc %d, %d bytes received" % (rc, os.path.getsize(out)))
    sys.exit(1)
unit = rb"[0-9]+(?:\.[0-9])? (?:B|KiB|MiB|GiB)"
lines = re.findall(rb"\r\x1b\[K(" + unit + rb")  (" + unit + rb")/s  ([0-9]+):([0-9]{2})", err)
if mode == "file":
    if b"\x1b[K" in err:
        print("a progress line on a file: %r" % err[:200])
        sys.exit(1)
    print("no progress line on a file")
    sys.exit(0)
if not lines:
    print("no progress line on the pty: %r" % err[:300])
    sys.exit(1)
def value(s):
    n, u = s.split()
    return float(n) * {b"B": 1, b"KiB": 1 << 10, b"MiB": 1 << 20, b"GiB": 1 << 30}[u]
last = lines[-1]
if not (1 << 20) <= value(last[0]) <= TOTAL or value(last[1]) <= 0 or int(last[2]) * 60 + int(last[3]) < 1:
    print("implausible progress line: %r" % (last,))
    sys.exit(1)
print("%d progress lines, last %s" % (len(lines), b"  ".join(last[:2]).decode()))
PY
    msg=$(python3 "$dir/progress.py" "$nc" pty "$dir/progress.out" "$T")
    rc=$?
    if [ $rc -eq 77 ]; then
        echo "SKIP: progress line ($msg)"
    elif [ $rc -eq 0 ]; then
        pass "progress line on a terminal: $msg"
    else
        fail "progress line on a terminal: $msg"
    fi
    msg=$(python3 "$dir/progress.py" "$nc" file "$dir/progress.out" "$T")
    [ $? -eq 0 ] && pass "progress line: $msg" || fail "progress line on a file: $msg"
else
    echo "SKIP: progress line (python3 missing to make a pty)"
fi

# ---- interop: ncat and socat -----------------------------------------------------------

if command -v ncat >/dev/null; then
    listen toncat 127.0.0.1 0
    printf 'from ncat\n' | timeout "$T" ncat --send-only 127.0.0.1 "$port"
    wait_for "$lpid"
    [ "$(cat "$dir/toncat.out")" = "from ncat" ] && pass "ncat -> cnetcat -l" || fail "ncat -> cnetcat"

    # ncat cannot listen on port 0 and report it: try a few fixed ports
    for nport in 47911 47923 47937 47941; do
        timeout "$T" ncat -l 127.0.0.1 $nport >"$dir/ncatl.out" 2>"$dir/ncatl.err" < <(sleep "$T") &
        np=$!
        sleep 0.5
        kill -0 $np 2>/dev/null && break
    done
    printf 'to ncat\n' | timeout "$T" "$nc" --send-only 127.0.0.1 $nport
    wait $np
    [ "$(cat "$dir/ncatl.out")" = "to ncat" ] && pass "cnetcat -> ncat -l" || fail "cnetcat -> ncat"

    listen tlsncat 127.0.0.1 0 --ssl
    printf 'tls from ncat\n' | timeout "$T" ncat --ssl --send-only 127.0.0.1 "$port" 2>/dev/null
    wait_for "$lpid"
    [ "$(cat "$dir/tlsncat.out")" = "tls from ncat" ] && pass "ncat --ssl -> cnetcat --ssl -l" || fail "ncat --ssl -> cnetcat: $(cat "$dir/tlsncat.err")"
else
    echo "SKIP: ncat interop (ncat not installed: apt-get install ncat)"
fi
if command -v socat >/dev/null; then
    listen tosocat 127.0.0.1 0
    printf 'from socat\n' | timeout "$T" socat - "TCP:127.0.0.1:$port"
    wait_for "$lpid"
    [ "$(cat "$dir/tosocat.out")" = "from socat" ] && pass "socat -> cnetcat -l" || fail "socat -> cnetcat"
else
    echo "SKIP: socat interop (socat not installed: apt-get install socat)"
fi

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all cnetcat checks passed"
