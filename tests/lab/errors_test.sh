#!/bin/bash
# SPDX-License-Identifier: MIT
# The documented errors of `jvpn up` (docs/operations.md): bad config
# files give one line naming file, line, key and what is allowed, exit 1;
# missing privileges, an address not on the host and a port in use give
# one clear line, exit 1, and leave nothing behind.  The config cases run
# everywhere; the others need root (they drop to nobody, or use a
# namespace) and are skipped otherwise.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
N=33
tap_plan $N
T=$(mktemp -d /tmp/jvpn-err.XXXXXX)
NS=
trap 'rm -rf "$T"; [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null; true' EXIT
chmod 755 "$T"
KEY=$("$JVPN" genkey)
PUB=$("$JVPN" genkey | "$JVPN" pubkey)	# the peer's: not our own key

# expect_err NAME FILE EXPECTED-SUBSTRING: exit 1 and exactly one line.
expect_err() {
	local out rc
	out=$("$JVPN" up "$2" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	   grep -qF -- "$3" <<<"$out"; then
		tap_ok "$1"
	else
		tap_fail "$1" "exit $rc, output:" "$out" "expected one line with: $3"
	fi
}

# conf NAME LINE...: a config file (mode 600), its path on stdout.
conf() {
	local f=$T/$1
	shift
	(umask 077; printf '%s\n' "$@" >"$f")
	echo "$f"
}

expect_err "missing file" "$T/none.conf" \
	"jvpn up: $T/none.conf: cannot open: No such file or directory"

f=$(conf role.conf "[Interface]" "Role = server")
expect_err "bad Role value, with line and allowed values" "$f" \
	"role.conf:2: Role = server: must be client or gateway"

f=$(conf key.conf "[Interface]" "Role = client" "Rol = client")
expect_err "unknown key names the allowed keys" "$f" \
	"key.conf:3: Rol: unknown key in [Interface] (allowed: Role, PrivateKey,"

f=$(conf pk.conf "[Interface]" "PrivateKey = c2VjcmV0")
out=$("$JVPN" up "$f" 2>&1)
if grep -qF "pk.conf:2: PrivateKey: not a key (44 characters of base64" <<<"$out" &&
   ! grep -q c2VjcmV0 <<<"$out"; then
	tap_ok "bad private key: named, and its value never echoed"
else
	tap_fail "bad private key: named, and its value never echoed" "$out"
fi

f=$(conf sect.conf "[Interface]" "Role = client" "[Peers]")
expect_err "unknown section" "$f" \
	"sect.conf:3: unknown section [Peers] (allowed: [Interface], [Peer], [Transport], [Policy], [Cluster])"

f=$(conf nopath.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "" "[Peer]" "PublicKey = $PUB")
expect_err "client without any path to the gateway" "$f" \
	"nopath.conf:6: Endpoint: no [Transport] section and no Endpoint in [Peer]"

f=$(conf allowed.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.0.1/24" "ListenPort = 51820" "" "[Peer]" \
	"PublicKey = $PUB" "AllowedIPs = 10.9.0.2/24")
expect_err "AllowedIPs with host bits" "$f" \
	"allowed.conf:9: AllowedIPs = 10.9.0.2/24: host bits set after the prefix"

f=$(conf policy.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "" "[Peer]" "PublicKey = $PUB" \
	"Endpoint = 192.0.2.1:51820" "" "[Policy]" "version = 1.0" \
	"profile = fast" "session.transport_lost_ttl_ms = 100")
expect_err "policy value out of its relation, with its line" "$f" \
	"policy.conf:13: session.transport_lost_ttl_ms = 100: must be > volatility.heartbeat_volatile_ms"

f=$(conf twice.conf "[Interface]" "Role = client" "MTU = 1400" "MTU = 1300")
expect_err "key set twice" "$f" \
	"twice.conf:4: MTU = 1300: set twice in this section (first at line 3)"

f=$(conf malformed.conf "[Interface]" "Role client")
expect_err "malformed line" "$f" "malformed.conf:2: malformed line"

# ---- safer config (issue 11) --------------------------------------------------
# The shipped example as it is: its placeholder, with what to run instead.
cp "$HERE/../../examples/client.conf" "$T/client.conf"
chmod 600 "$T/client.conf"
pl=$(grep -n '^PrivateKey = REPLACE_WITH_' "$T/client.conf" | cut -d: -f1)
expect_err "the example as shipped: its placeholder key refused, says to run jvpn genkey" \
	"$T/client.conf" \
	"client.conf:$pl: PrivateKey: still the example's placeholder: put your own key here, the output of \`umask 077; jvpn genkey\`"

PUB2=$("$JVPN" genkey | "$JVPN" pubkey)
f=$(conf overlap.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.0.1/24" "ListenPort = 51820" "" \
	"[Peer]" "PublicKey = $PUB" "AllowedIPs = 10.9.0.2/32" "" \
	"[Peer]" "PublicKey = $PUB2" "AllowedIPs = 10.9.0.0/28   # a typo")
expect_err "two gateway peers with overlapping AllowedIPs: both lines named" "$f" \
	"overlap.conf:13: AllowedIPs = 10.9.0.0/28: contains 10.9.0.2/32 of the [Peer] at line 7 (AllowedIPs at line 9): a gateway's peers need disjoint AllowedIPs"

f=$(conf lo.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "Name = lo" "" "[Peer]" "PublicKey = $PUB" \
	"Endpoint = 192.0.2.1:51820")
expect_err "Name = lo: refused as reserved, not a TUNSETIFF errno" "$f" \
	"lo.conf:5: Name = lo: reserved by the kernel (lo, all, default, bonding_masters): choose another name, e.g. jv0"

# A NUL or another control byte: refused with its line (jvpn/text.h), not
# read past (a NUL used to end the text, and the keys after it were lost).
printf '[Interface]\nRole = client\n# x\0y\nMTU = 1400\n' >"$T/nul.conf"
chmod 600 "$T/nul.conf"
expect_err "a NUL byte in the file: refused with its line" "$T/nul.conf" \
	"nul.conf:3: control byte 0x00 (NUL) in the line: the file must be text"
printf '[Interface]\nRole = client\nName = jv\0330\n' >"$T/esc.conf"
chmod 600 "$T/esc.conf"
expect_err "an escape byte in a value: refused with its line" "$T/esc.conf" \
	"esc.conf:3: control byte 0x1b in the line"

# ---- the event log (issue 10): each case fails before the TUN, so no root;
# the control socket's directory is a file, which stops a start that got
# past the event log at the next step with a known line.
: >"$T/afile"
evconf() {
	conf "$1" "[Interface]" "Role = client" "PrivateKey = $KEY" \
		"Address = 10.9.0.2/24" "EventLog = $2" \
		"ControlSocket = $T/afile/x.sock" "" "[Peer]" \
		"PublicKey = $PUB" "Endpoint = 192.0.2.1:51820"
}
# expect_ev NAME CONFIG EXPECTED-LINE...: exit 1 (never 139, the crash
# this guards), exactly these lines (fixed strings, in order; the daemon's
# log prefix and time stripped).
expect_ev() {
	local name=$1 f=$2 out rc want
	shift 2
	out=$("$JVPN" up "$f" 2>&1; echo "rc=$?")
	rc=$(tail -n 1 <<<"$out")
	out=$(sed -e '$d' -e 's/^jvpn\[[^]]*\] [0-9:.]* //' <<<"$out")
	want=$(printf '%s\n' "$@")
	if [ "$rc" = rc=1 ] && [ "$out" = "$want" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "$rc, output:" "$out" "expected:" "$want"
	fi
}
mkdir "$T/evdir"
f=$(evconf evdir.conf "$T/evdir")
expect_ev "event log is a directory: one line, exit 1, no crash" "$f" \
	"jvpn up: event log $T/evdir: Is a directory"
printf 'root:x:0:0\nnot json\n' >"$T/passwd"
f=$(evconf passwd.conf "$T/passwd")
expect_ev "event log not JSON lines: names file and line" "$f" \
	"jvpn up: $T/passwd:2: not an event line (one JSON event with a seq per line): not an event log? move the file away to start a new chain"
printf 'root:x:0:0\nno newline' >"$T/passwd2"
f=$(evconf passwd2.conf "$T/passwd2")
expect_ev "not an event log and no newline: refused, file untouched" "$f" \
	"jvpn up: $T/passwd2:2: not an event line, and no newline at the end of the file: not an event log? move the file away"
tap_check "the foreign file was not modified" \
	[ "$(tail -c 3 "$T/passwd2")" = ine ]
# A log cut by a crash in the middle of its last line (docs/operations.md):
# ended with a newline, said in one line, and the start goes on.
head -c -100 "$HERE/../audit/logs/good-s6-replay.jsonl" >"$T/cut.jsonl"
f=$(evconf cut.conf "$T/cut.jsonl")
expect_ev "event log cut by a crash: ended, one line says so, start goes on" "$f" \
	"event log $T/cut.jsonl: line 60 was cut by a crash mid-write (289 bytes, no newline): ended it with a newline; the chain goes on through it (jvpn audit reports it)" \
	"jvpn up: control socket $T/afile/x.sock: Not a directory"
tap_check "the cut line now ends with a newline" \
	[ "$(wc -l <"$T/cut.jsonl")" -eq 60 ]
expect_ev "restart on the ended cut line: the chain goes on through it" "$f" \
	"event log $T/cut.jsonl: line 60 is an event a crash cut short: the chain goes on through it (jvpn audit reports it)" \
	"jvpn up: control socket $T/afile/x.sock: Not a directory"

# ---- privileges and the OS (root) --------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	for i in $(seq $((TAP_N + 1)) $N); do
		echo "ok $i # SKIP not root (drops to nobody, uses a namespace)"
	done
	exit $TAP_FAILED
fi
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

mkdir -m 777 "$T/run"
f=$(conf tun.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "Name = jvperm0" "EventLog = off" \
	"ControlSocket = $T/run/tun.sock" "" "[Peer]" "PublicKey = $PUB" \
	"Endpoint = 192.0.2.1:51820")
chmod 644 "$f"
out=$(nobody "$JVPN" up "$f" 2>&1 | grep -v "world accessible")
# /dev/net/tun may refuse the open (EACCES, mode 0600) or, when it is
# world-openable, the TUNSETIFF (EPERM): either way one line that says why.
if grep -qE "^jvpn up: /dev/net/tun: .*(Permission denied|Operation not permitted) \(are you root\?\)$" <<<"$out" &&
   [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
	tap_ok "no privileges for the TUN device: one line, says why"
else
	tap_fail "no privileges for the TUN device: one line, says why" "$out"
fi
tap_check "no control socket left behind" [ ! -e "$T/run/tun.sock" ]

f=$(conf log.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "EventLog = /var/log/jvpn-test-$$/x.jsonl" "" \
	"[Peer]" "PublicKey = $PUB" "Endpoint = 192.0.2.1:51820")
chmod 644 "$f"
out=$(nobody "$JVPN" up "$f" 2>&1 | grep -v "world accessible")
if grep -qF "jvpn up: event log directory /var/log/jvpn-test-$$: Permission denied" <<<"$out"; then
	tap_ok "event log not writable: one line"
else
	tap_fail "event log not writable: one line" "$out"
fi

# A Bind address that is not on the host, in a namespace of our own.
NS=jverr$$
ip netns add $NS
ip -n $NS link set lo up
f=$(conf bind.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "Name = jvbind0" "EventLog = off" \
	"ControlSocket = $T/bind.sock" "" "[Peer]" "PublicKey = $PUB" "" \
	"[Transport]" "Name = a" "Bind = 198.18.99.2" \
	"Endpoint = 198.18.99.1:51820")
out=$(ip netns exec $NS "$JVPN" up "$f" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -qF "jvpn up: transport a: transport to 198.18.99.1:51820: bind 198.18.99.2 (address not on this host): Cannot assign requested address" <<<"$out"; then
	tap_ok "Bind address not on this host: one line, exit 1"
else
	tap_fail "Bind address not on this host: one line, exit 1" "exit $rc" "$out"
fi
tap_check "the TUN device made before the failure is gone" \
	bash -c "! ip -n $NS link show jvbind0 >/dev/null 2>&1"

# A gateway port already taken.
f=$(conf gw.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.0.1/24" "ListenPort = 51820" "Name = jvgw0" \
	"EventLog = off" "ControlSocket = $T/gw.sock" "StateDir = $T/state" "" "[Peer]" \
	"PublicKey = $PUB" "AllowedIPs = 10.9.0.2/32")
ip netns exec $NS python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 51820))
print("bound", flush=True)
time.sleep(20)' >"$T/holder.out" &
holder=$!
for i in $(seq 1 100); do
	grep -q bound "$T/holder.out" && break
	sleep 0.05
done
out=$(ip netns exec $NS "$JVPN" up "$f" 2>&1)
rc=$?
kill $holder 2>/dev/null
wait $holder 2>/dev/null
if [ $rc -eq 1 ] && grep -qF "jvpn up: listen 0.0.0.0:51820:" <<<"$out" &&
   grep -qF "Address already in use" <<<"$out"; then
	tap_ok "gateway port in use: one line, exit 1"
else
	tap_fail "gateway port in use: one line, exit 1" "exit $rc" "$out"
fi
tap_check "gateway TUN removed after the failure" \
	bash -c "! ip -n $NS link show jvgw0 >/dev/null 2>&1"

# The session store (PD-9): a file that is not a database, and a store
# another gateway has open, each refused in one line before any traffic.
mkdir -p "$T/bad" && chmod 700 "$T/bad"
head -c 8192 /dev/urandom >"$T/bad/sessions.db"
f=$(conf badstore.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.0.1/24" "ListenPort = 51821" "Name = jvgw1" \
	"EventLog = off" "ControlSocket = $T/bs.sock" "StateDir = $T/bad" "" \
	"[Peer]" "PublicKey = $PUB" "AllowedIPs = 10.9.0.2/32")
out=$(ip netns exec $NS "$JVPN" up "$f" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
   grep -qF "jvpn up: sqlite:$T/bad/sessions.db: file is not a database" <<<"$out"; then
	tap_ok "a corrupt session store: one line naming it, exit 1"
else
	tap_fail "a corrupt session store: one line naming it, exit 1" "exit $rc" "$out"
fi
f1=$(conf st1.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.1.1/24" "ListenPort = 51822" "Name = jvgw2" \
	"EventLog = off" "ControlSocket = $T/st1.sock" "StateDir = $T/shared" "" \
	"[Peer]" "PublicKey = $PUB" "AllowedIPs = 10.9.1.2/32")
f2=$(conf st2.conf "[Interface]" "Role = gateway" "PrivateKey = $KEY" \
	"Address = 10.9.2.1/24" "ListenPort = 51823" "Name = jvgw3" \
	"EventLog = off" "ControlSocket = $T/st2.sock" "StateDir = $T/shared" "" \
	"[Peer]" "PublicKey = $PUB" "AllowedIPs = 10.9.2.2/32")
ip netns exec $NS "$JVPN" up "$f1" 2>"$T/st1.log" &
first=$!
for i in $(seq 1 100); do
	[ -S "$T/st1.sock" ] && break
	sleep 0.05
done
out=$(ip netns exec $NS "$JVPN" up "$f2" 2>&1)
rc=$?
kill $first 2>/dev/null
wait $first 2>/dev/null
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
   grep -qF "in use by another jvpn process (pid $first)" <<<"$out"; then
	tap_ok "two gateways on one session store: the second refuses, naming the first's pid"
else
	tap_fail "two gateways on one session store: the second refuses, naming the first's pid" "exit $rc" "$out"
fi
tap_check "the gateway's start line says \"1 peer\", not \"1 peers\"" \
	grep -qF "gateway jvgw2 up (mtu 1420, 1 peer, policy" "$T/st1.log"

# An interface of the configured name that is no TUN (here a veth in our
# namespace): said so, not "TUNSETIFF: Invalid argument".
ip -n $NS link add jvveth0 type veth peer name jvveth1
f=$(conf veth.conf "[Interface]" "Role = client" "PrivateKey = $KEY" \
	"Address = 10.9.0.2/24" "Name = jvveth0" "EventLog = off" \
	"ControlSocket = $T/veth.sock" "" "[Peer]" "PublicKey = $PUB" \
	"Endpoint = 192.0.2.1:51820")
out=$(ip netns exec $NS "$JVPN" up "$f" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$out" = "jvpn up: interface jvveth0 exists and is a veth device, not a jvpn TUN (Name = another name in [Interface])" ]; then
	tap_ok "Name of an existing veth: one line naming its kind, exit 1"
else
	tap_fail "Name of an existing veth: one line naming its kind, exit 1" "exit $rc" "$out"
fi
tap_done
