#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP test of tests/net/lib.sh (root only): build the lab, reach the
# gateway over both paths, inject every fault and take it back, and leave
# no namespace behind, also when the script using the lab fails or is
# killed.  Every wait is bounded (ping -W 1, socket timeouts).

here=$(cd "$(dirname "$0")" && pwd)
PLAN=23

skip_all() {
	echo "1..$PLAN"
	i=1
	while [ $i -le $PLAN ]; do
		echo "ok $i # SKIP $1"
		i=$((i + 1))
	done
	echo "net_lib_sh: SKIPPED ($1)" >&2
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "not root"
for t in ip nft tc ping python3; do
	command -v $t >/dev/null 2>&1 || skip_all "no $t"
done
PY=$(command -v python3)

# shellcheck source=tests/net/lib.sh
. "$here/lib.sh"
jv_lab_init "t$$"
jv_lab_trap

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
# check DESC CMD...: pass when CMD succeeds
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}
# refute DESC CMD...: pass when CMD fails
refute() {
	_d=$1
	shift
	if "$@"; then not_ok "$_d"; else ok "$_d"; fi
}

# UDP probe from the client to a port nobody listens on at the gateway:
# prints "refused" (an ICMP error came back) or "silent" (nothing did).
udp_probe() {
	jv_cli "$PY" - "$1" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(0.5)
	s.connect((sys.argv[1], 9))
	try:
	    s.send(b"x")
	    s.recv(16)
	    print("answered")
	except ConnectionRefusedError:
	    print("refused")
	except socket.timeout:
	    print("silent")
	EOF
}

echo "1..$PLAN"
check "lab created" jv_lab_create
check "namespaces exist" sh -c "ip netns list | grep -q '^$JV_NS_CLI\\b' &&
	ip netns list | grep -q '^$JV_NS_GW\\b'"
check "path A: client reaches gateway" jv_lab_ping cli "$JV_A_GW"
check "path B: client reaches gateway" jv_lab_ping cli "$JV_B_GW"
check "path A: gateway reaches client" jv_lab_ping gw "$JV_A_CLI"
check "before a cut, a closed port answers with ICMP" \
	test "$(udp_probe "$JV_A_GW")" = refused

jv_lab_cut A
refute "silent cut of A: ping over A fails" jv_lab_ping cli "$JV_A_GW"
check "silent cut of A: no error reaches the sender" \
	test "$(udp_probe "$JV_A_GW")" = silent
check "silent cut of A: B still works" jv_lab_ping cli "$JV_B_GW"
jv_lab_restore A
check "restore A: ping over A works again" jv_lab_ping cli "$JV_A_GW"

jv_lab_cut A down
refute "link-down cut of A: ping over A fails" jv_lab_ping cli "$JV_A_GW"
check "link-down cut of A: B still works" jv_lab_ping cli "$JV_B_GW"
jv_lab_restore A
check "restore A after link down" jv_lab_ping cli "$JV_A_GW"

jv_lab_loss B 100
refute "100% loss on B: ping over B fails" jv_lab_ping cli "$JV_B_GW"
jv_lab_loss B 30
check "30% loss on B: the numgen rule is in place" sh -c \
	"ip netns exec $JV_NS_GW nft list chain inet jvlab loss_b |
	 grep -q 'numgen random mod 100 < 30'"
jv_lab_loss B 0
check "loss removed: ping over B works" jv_lab_ping cli "$JV_B_GW"

jv_lab_rate A 1mbit
check "rate cap on A: tbf on both ends" sh -c \
	"ip netns exec $JV_NS_CLI tc qdisc show dev $JV_DEV_A | grep -q tbf &&
	 ip netns exec $JV_NS_GW tc qdisc show dev $JV_DEV_A | grep -q tbf"
jv_lab_rate A off

# NAT rebinding: a UDP echo at the gateway reports the source port it
# sees; the client sends from port 40000 and must get its echo back.
fifo=$(mktemp -u)
mkfifo "$fifo"
jv_gw "$PY" - "$JV_A_GW" >"$fifo" <<-'EOF' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
s.settimeout(5)
print("ready", flush=True)
try:
    for _ in range(4):
        data, peer = s.recvfrom(64)
        s.sendto(str(peer[1]).encode(), peer)
except socket.timeout:
    pass
EOF
server=$!
exec 3<"$fifo"
read -r _ <&3	# the server is listening
seen_port() {
	jv_cli "$PY" - "$JV_A_CLI" "$JV_A_GW" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((sys.argv[1], 40000))
	s.settimeout(1)
	s.sendto(b"port?", (sys.argv[2], 9000))
	try:
	    print(s.recv(64).decode())
	except socket.timeout:
	    print("no-echo")
	EOF
}
p0=$(seen_port)
jv_lab_rebind A
k1=$JV_LAB_REBIND_KEY
p1=$(seen_port)
jv_lab_rebind A
p2=$(seen_port)
jv_lab_rebind_off A
p3=$(seen_port)
exec 3<&-
wait "$server" 2>/dev/null
rm -f "$fifo"
echo "# gateway saw ports: $p0, then $p1 (key $k1), then $p2, then $p3"
check "rebind: gateway first sees the real port" test "$p0" = 40000
check "rebind: gateway sees a new port, echo comes back" \
	test "$p1" = $((40000 ^ k1))
check "rebind again: yet another port" \
	sh -c "[ '$p2' != '$p1' ] && [ '$p2' != 40000 ] && [ '$p2' != no-echo ]"
check "rebind off: the real port again" test "$p3" = 40000

jv_lab_destroy
refute "teardown leaves no namespace" sh -c \
	"ip netns list | grep -q 'jv-.*-t$$'"

# A script that uses the lab and dies (killed, or failing) cleans up.
sh -c ". '$here/lib.sh'; jv_lab_init k$$; jv_lab_trap;
	jv_lab_create || exit 9; kill -TERM \$\$; exit 0" >/dev/null 2>&1
rc=$?
leftover=$(ip netns list | grep -c "jv-.*-k$$")
echo "# killed lab script: exit $rc, $leftover namespaces left"
check "killed lab script tears down (and says it was killed)" \
	test "$rc" -eq 143 -a "$leftover" -eq 0

[ $n -eq $PLAN ] || echo "# planned $PLAN, ran $n"
[ $failed -eq 0 ]
