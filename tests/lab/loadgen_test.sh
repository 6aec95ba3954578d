#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/loadgen against a real gateway (issue 12, D-033), small enough for
# the lab suite: 30 sessions at a gateway with MaxSessions = 20 give 20
# established and 10 refused, cleanly, and the 20 keep their echo traffic
# through the gateway's kernel; then 20 sessions see their path a cut at
# once and all come back ATTACHED on path b without one handshake and
# without one session ending.  Bad options: one line, exit 2.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 15 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"
LOADGEN=${LOADGEN:-$(dirname "${JVPN:-}")/../../bench/loadgen}
[ -x "$LOADGEN" ] || tap_skip_all 15 "no loadgen binary at $LOADGEN"

GW_INNER=10.255.255.254
SEED=7

tap_plan 15
lab_init
lab_net
# four source addresses per path (bench/loadgen/run.c: a gateway under
# handshake load limits each source address to 10 handshakes/s)
for k in 0 1 2 3; do
	ip -n "$NS_C" addr add 198.18.1.$((100 + k))/24 dev pa
	ip -n "$NS_C" addr add 198.18.2.$((100 + k))/24 dev pb
done
PATHS="198.18.1.100*4=$LAB_A_G:$LAB_PORT,198.18.2.100*4=$LAB_B_G:$LAB_PORT"

(umask 077; "$JVPN" genkey >"$LAB_DIR/gateway.key")
GW_PUB=$("$JVPN" pubkey <"$LAB_DIR/gateway.key")
"$LOADGEN" --write-peers "$LAB_DIR/peers" -n 30 --seed $SEED ||
	lab_die "loadgen --write-peers"
{
	cat <<EOF
[Interface]
Role = gateway
PrivateKeyFile = $LAB_DIR/gateway.key
Address = $GW_INNER/9
ListenPort = $LAB_PORT
Name = jvg0
NodeId = lab-gateway
ControlSocket = $LAB_DIR/gateway.sock
StateDir = $LAB_DIR/state
EventLog = $LAB_DIR/gateway.jsonl
MaxSessions = 20

[Policy]
version = 1.0
profile = fast
EOF
	for f in "$LAB_DIR"/peers/client-*.conf; do
		echo
		cat "$f"
	done
} >"$LAB_DIR/gateway.conf"
lab_start_gateway

# fig FILE NAME: one name=value figure of a loadgen run
fig() {
	sed -n "s/^$2=//p" "$1"
}

# 1. N beyond MaxSessions (the gateway's key read from its own config)
ip netns exec "$NS_C" "$LOADGEN" --gateway-config "$LAB_DIR/gateway.conf" --paths "$PATHS" \
	-n 30 --rate 300 --pps 20 --policy fast --seed $SEED --settle 3 \
	--hold 3 >"$LAB_DIR/over.txt" 2>"$LAB_DIR/over.err"
rc=$?
tap_eq "loadgen with 30 sessions for 20 places exits 0" 0 "$rc"
R=$LAB_DIR/over.txt
tap_eq "20 sessions established" 20 "$(fig "$R" established)"
tap_eq "10 refused (their handshakes unanswered)" 10 "$(fig "$R" refused)"
tap_eq "all 20 established got echo replies in the hold window" 20 \
	"$(fig "$R" echo_sessions_answered)"
sent=$(fig "$R" echo_sent)
ans=$(fig "$R" echo_answered)
tap_check "at least 90 % of the echo requests answered ($ans of $sent)" \
	[ "${sent:-0}" -gt 0 ] && [ $((${ans:-0} * 10)) -ge $((${sent:-0} * 9)) ]
tap_check "the gateway is still alive and answers status" \
	lab_wait_field gateway role gateway 2
tap_eq "no session ended while held" 0 "$(fig "$R" ended)"

# The 30-client run ended its 20 sessions as it stopped, and each stays a
# tombstone for 10 s (spec Z1, JV_TOMBSTONE_MS) holding one of the 20
# places: the cut runs against a fresh gateway with no stored session.
bad_over=$(lab_stop_daemons)
mv "$LAB_DIR/gateway.log" "$LAB_DIR/gateway-over.log"
rm -rf "$LAB_DIR/state" "$LAB_DIR/gateway.sock"
lab_start_gateway

# 2. a mass failover: path a cut silently (lablib's lab_cut, as commands
# loadgen runs itself so that it knows the cut instant)
cat >"$LAB_DIR/cut.nft" <<EOF
table inet jvcut_a {
	chain in {
		type filter hook input priority -10;
		ip saddr 198.18.1.0/24 drop
	}
}
EOF
CUT="ip netns exec $NS_C nft -f $LAB_DIR/cut.nft && ip netns exec $NS_G nft -f $LAB_DIR/cut.nft"
RESTORE="ip netns exec $NS_C nft delete table inet jvcut_a; ip netns exec $NS_G nft delete table inet jvcut_a"
ip netns exec "$NS_C" "$LOADGEN" --gateway-key "$GW_PUB" --paths "$PATHS" \
	-n 20 --rate 300 --pps 10 --policy fast --seed $SEED --settle 3 \
	--hold 1 --cut-cmd "$CUT" --cut-path 0 --restore-cmd "$RESTORE" \
	--failover-timeout 10 >"$LAB_DIR/cut.txt" 2>"$LAB_DIR/cut.err"
rc=$?
R=$LAB_DIR/cut.txt
tap_eq "loadgen with a cut exits 0" 0 "$rc"
tap_eq "20 sessions were bound to path a at the cut" 20 "$(fig "$R" failover_sessions)"
tap_eq "all 20 ATTACHED again on path b" 20 "$(fig "$R" failover_reattached)"
tap_eq "no handshake after the cut" 0 "$(fig "$R" failover_handshakes)"
tap_eq "no session ended" 0 "$(fig "$R" failover_ended)"
tap_below "p99 from the cut to ATTACHED again below 2000 ms ($(fig "$R" failover_p99_ms) ms)" \
	"$(fig "$R" failover_p99_ms)" 2000

# 3. bad input: one line, exit 2
bad_opts() {	# ARGS...: exit 2 and exactly one line on stderr
	local err rc
	err=$("$LOADGEN" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] && [ -n "$err" ] &&
		[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && return 0
	echo "# loadgen $*: status $rc, stderr: $err"
	return 1
}
all_bad() {
	bad_opts -n 0 &&
	bad_opts -n x &&
	bad_opts -n 70000 &&
	bad_opts --rate -1 &&
	bad_opts --pps nan &&
	bad_opts --seed -3 &&
	bad_opts --gateway-key short --paths "1.2.3.4=5.6.7.8:1" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4=5.6.7.8" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4*0=5.6.7.8:1" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4*300=5.6.7.8:1" &&
	bad_opts --gateway-key "$GW_PUB" --paths "a=1.1.1.1:1,b=1.1.1.1:1" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.1.1.1=2.2.2.2:1,1.1.1.1=2.2.2.2:1,1.1.1.1=2.2.2.2:1,1.1.1.1=2.2.2.2:1,1.1.1.1=2.2.2.2:1" &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4=5.6.7.8:1" --cut-path 1 --cut-cmd true &&
	bad_opts --gateway-key "$GW_PUB" --paths "1.2.3.4=5.6.7.8:1" --restore-cmd true &&
	bad_opts --policy nosuch &&
	bad_opts --gateway-config /nonexistent &&
	bad_opts --gateway-config "$LAB_DIR/gateway.key" &&
	bad_opts --paths "1.2.3.4=5.6.7.8:1" &&
	bad_opts --bogus &&
	bad_opts extra &&
	bad_opts --hold
}
tap_check "bad options: one line each, exit 2" all_bad
bad=$(lab_stop_daemons)
tap_eq "the gateways stop cleanly, no sanitizer report" "" "$bad_over$bad"
tap_done
