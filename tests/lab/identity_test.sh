#!/bin/bash
# SPDX-License-Identifier: MIT
# Identity and silent failures in the logs (issue 11 item 5):
#  (a) the gateway's SessionCreated names the client's key and address,
#      and its log line says it;
#  (b) a client whose key is no [Peer]: its log says "no answer to N
#      handshakes", the gateway logs the unknown key with the source, and
#      its status counts it;
#  (c) a client with the wrong gateway PublicKey: the gateway logs the
#      wrong mac1 with the source;
#  (d) a second client process with the key of an attached client: the
#      first one is told, logs session_replaced and exits 3; the gateway's
#      log ends the old session with session_replaced.
# The extra clients run in a third namespace on a third veth ("pc",
# 198.18.3.2 <-> 198.18.3.1), so their TUN and routes cannot collide with
# the first client's.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 25 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 25
lab_init
lab_net
lab_keys
lab_configs
NS_X=$LAB_ID-x
LAB_EXTRA_NS+=("$NS_X")
ip netns add "$NS_X" || lab_die "cannot create namespace $NS_X"
ip -n "$NS_X" link add pc type veth peer name pc netns "$NS_G" || lab_die "veth pc"
ip -n "$NS_X" addr add 198.18.3.2/24 dev pc
ip -n "$NS_G" addr add 198.18.3.1/24 dev pc
ip -n "$NS_X" link set lo up
ip -n "$NS_X" link set pc up
ip -n "$NS_G" link set pc up
(umask 077
 "$JVPN" genkey >"$LAB_DIR/stranger.key"
 "$JVPN" genkey >"$LAB_DIR/other-gateway.key")
STRANGER_PUB=$("$JVPN" pubkey <"$LAB_DIR/stranger.key")
OTHER_GW_PUB=$("$JVPN" pubkey <"$LAB_DIR/other-gateway.key")

# xclient NAME KEYFILE GATEWAY_PUB PORT: a client config in the third
# namespace, one transport from 198.18.3.2:PORT to the gateway.
xclient() {
	(umask 077
	cat >"$LAB_DIR/$1.conf" <<EOF
[Interface]
Role = client
PrivateKeyFile = $2
Address = $LAB_TUN_C/24
Name = jvx0
NodeId = lab-$1
EventLog = $LAB_DIR/$1.jsonl
ControlSocket = $LAB_DIR/$1.sock

[Peer]
PublicKey = $3
AllowedIPs = 198.19.0.0/24

[Transport]
Name = c
Bind = 198.18.3.2:$4
Endpoint = 198.18.3.1:$LAB_PORT
Priority = 0

[Policy]
version = 1.0
profile = fast
EOF
	)
}

# xstart NAME: start it in the background (XPID), wait for its socket.
xstart() {
	ip netns exec "$NS_X" "$JVPN" up "$LAB_DIR/$1.conf" 2>"$LAB_DIR/$1.log" &
	XPID=$!
	lab_track "$XPID"
	lab_wait_socket "$LAB_DIR/$1.sock" "$1"
}

# re TEXT: TEXT as an extended regex that matches only itself (a base64
# key holds '+' and '/').
re() {
	printf '%s' "$1" | sed 's/[][\.^$*+?(){}|]/\\&/g'
}

# wait_log FILE REGEX TIMEOUT_S: poll until a line matches; 1 on timeout.
wait_log() {
	local i=0
	while [ $i -lt $(($3 * 20)) ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	lab_log "lab: no line /$2/ in $1 after $3 s"
	return 1
}

lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED" lab_wait_field client session.state ATTACHED 10
tap_check "gateway session ATTACHED" lab_wait_field gateway peers.0.session.state ATTACHED 5
sid=$(lab_field client session.session_id)

# ---- (a) who connected, from where -------------------------------------------
got=$(lab_select gateway event_type=SessionCreated "session_id=$sid" \
	--print=details.peer_public_key,details.remote_addr)
tap_eq "gateway SessionCreated carries the client's key and address" \
	"$LAB_CL_PUB $LAB_A_C:$LAB_PORT_A" "$got"
tap_check "gateway log: session created for peer KEY from ADDR" \
	grep -q "session ${sid:0:8} created for peer $LAB_CL_PUB from $LAB_A_C:$LAB_PORT_A\$" \
	"$LAB_DIR/gateway.log"
got=$(lab_select client event_type=SessionCreated --print=details.peer_public_key)
tap_eq "client SessionCreated carries the gateway's key" "$LAB_GW_PUB" "$got"
tap_check "client log: session created with gateway KEY at ENDPOINT" \
	grep -q "session ${sid:0:8} created with gateway $LAB_GW_PUB at $LAB_A_G:$LAB_PORT\$" \
	"$LAB_DIR/client.log"

# ---- (b) a key that is no [Peer] ---------------------------------------------
xclient stranger "$LAB_DIR/stranger.key" "$LAB_GW_PUB" 40005
t0=$(lab_ms)
xstart stranger
tap_check "stranger: 'no answer to N handshakes' within 10 s" \
	wait_log "$LAB_DIR/stranger.log" \
	"no answer to [0-9]+ handshakes in [0-9]+ s from 198\.18\.3\.1:$LAB_PORT \(c\): is this client's public key \($(re "$STRANGER_PUB")\) a \[Peer\] of the gateway" 10
lab_log "lab: stranger's first report after $(($(lab_ms) - t0)) ms"
n=$("$JVPN" status --json --socket "$LAB_DIR/stranger.sock" | $LABTOOL get session.handshakes_unanswered)
tap_check "stranger status: handshakes_unanswered >= 3 ($n)" [ "${n:-0}" -ge 3 ]
tap_check "gateway logs the unknown key with its source" \
	wait_log "$LAB_DIR/gateway.log" \
	"[0-9]+ handshakes? with an unknown key in the last 10 s \(last from 198\.18\.3\.2:40005, key $(re "$STRANGER_PUB")\)" 3
n=$(lab_field gateway handshakes.unknown_key)
tap_check "gateway status: handshakes.unknown_key > 0 ($n)" [ "${n:-0}" -gt 0 ]
lines=$(grep -c "with an unknown key" "$LAB_DIR/gateway.log")
tap_check "at most one unknown-key line per 10 s ($lines)" \
	[ "$lines" -le $(( ($(lab_ms) - t0) / 10000 + 1 )) ]
lab_stop_pid "$XPID" 5

# ---- (c) the wrong gateway PublicKey -------------------------------------------
xclient wronggw "$LAB_DIR/client.key" "$OTHER_GW_PUB" 40006
xstart wronggw
tap_check "gateway logs the wrong mac1 with its source" \
	wait_log "$LAB_DIR/gateway.log" \
	"[0-9]+ handshakes? with a wrong mac1 in the last 10 s \(last from 198\.18\.3\.2:40006\): the client has a different PublicKey for this gateway \(ours is $(re "$LAB_GW_PUB")\)" 5
n=$(lab_field gateway handshakes.bad_mac1)
tap_check "gateway status: handshakes.bad_mac1 > 0 ($n)" [ "${n:-0}" -gt 0 ]
tap_eq "the attached client's session is untouched" ATTACHED \
	"$(lab_field gateway peers.0.session.state)"
lab_stop_pid "$XPID" 5

# ---- (d) the same key twice ------------------------------------------------------
xclient twin "$LAB_DIR/client.key" "$LAB_GW_PUB" 40007
xstart twin
TWIN_PID=$XPID
tap_check "the twin reaches ATTACHED" \
	bash -c "for i in \$(seq 1 200); do
		'$JVPN' status --json --socket '$LAB_DIR/twin.sock' 2>/dev/null |
		$LABTOOL get session.state 2>/dev/null | grep -qx ATTACHED && exit 0
		sleep 0.05; done; exit 1"
rc=
for i in $(seq 1 100); do
	kill -0 "$LAB_CLIENT_PID" 2>/dev/null || break
	sleep 0.05
done
if ! kill -0 "$LAB_CLIENT_PID" 2>/dev/null; then
	wait "$LAB_CLIENT_PID"
	rc=$?
	LAB_CLIENT_PID=
fi
tap_eq "the first client exits 3 (its session ended)" 3 "$rc"
tap_eq "its event log ends with session_replaced" session_replaced \
	"$($LABTOOL last-reason "$LAB_DIR/client.jsonl" SessionTerminated)"
got=$(lab_select client event_type=SessionTerminated --print=details.origin)
tap_eq "... told by the gateway (details.origin peer)" peer "$got"
tap_check "its log says why in plain words" \
	grep -q "the gateway replaced this session: another client is using this key, or this client restarted" \
	"$LAB_DIR/client.log"
got=$(lab_select gateway event_type=SessionTerminated "session_id=$sid" --print=reason_code)
tap_eq "gateway: the old session ended session_replaced" session_replaced "$got"
twin_sid=$("$JVPN" status --json --socket "$LAB_DIR/twin.sock" | $LABTOOL get session.session_id)
tap_eq "gateway: the peer's session is the twin's" "$twin_sid" \
	"$(lab_field gateway peers.0.session.session_id)"
out=$(ip netns exec "$NS_X" ping -n -c 5 -i 0.05 -W 1 $LAB_TUN_G 2>&1)
tap_check "the twin's pings go through" grep -q " 0% packet loss" <<<"$out"
# the auditor takes session_replaced on both sides, the peer's included
if out=$("$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/gateway.jsonl" \
	"$LAB_DIR/client.jsonl" "$LAB_DIR/twin.jsonl" 2>&1); then
	tap_ok "the merged audit of the gateway and both clients passes"
else
	tap_fail "the merged audit of the gateway and both clients passes" "$out"
fi
if out=$("$JVPN" audit --quiet --each --epsilon 50 "$LAB_DIR/client.jsonl" 2>&1); then
	tap_ok "the replaced client's log audits on its own"
else
	tap_fail "the replaced client's log audits on its own" "$out"
fi

lab_stop_pid "$TWIN_PID" 5
bad=$(lab_stop_daemons; grep -hE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
	"$LAB_DIR"/stranger.log "$LAB_DIR"/wronggw.log "$LAB_DIR"/twin.log | head -1)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
