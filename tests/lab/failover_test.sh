#!/bin/bash
# SPDX-License-Identifier: MIT
# A TCP stream through the tunnel while path a is cut silently: the stream
# survives (no reset), the session id is unchanged, no second handshake,
# and (when the audit tool is built) `jvpn audit` passes on both logs.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 10 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 10
lab_init
lab_net
lab_keys
lab_configs
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED on a" lab_wait_field client session.bound_transport a 10
sid=$(lab_field client session.session_id)

lab_ping 160 0.05 "$LAB_DIR/ping.txt"
lab_tcp 8 2000000
sleep 2
tcut=$(lab_now)
lab_cut a
tap_check "the session moves to path b" lab_wait_field client session.bound_transport b 5
# PD-10: b was probed, so its request echoed b's path token and committed
# at once; nothing was held for a challenge round trip
held=$(lab_field gateway peers.0.session.held_requests)
tap_eq "the request to the probed standby is not held (PD-10)" "" "$held"
sleep 4
lab_restore a
lab_tcp_wait
tcp=$LAB_TCP_RESULT
tap_eq "the TCP stream survives the cut (no reset)" eof "$tcp"
tap_eq "same session id after the cut" "$sid" "$(lab_field client session.session_id)"
tap_eq "one handshake only (client SessionCreated)" 1 "$(lab_count client SessionCreated)"
tap_eq "one handshake only (gateway SessionCreated)" 1 "$(lab_count gateway SessionCreated)"
wait "$LAB_PING_PID"
gap=$($LABTOOL gaps "$LAB_DIR/ping.txt" 50 "$tcut" | head -1 | cut -d' ' -f4)
tap_check "failover gap below 2 s (measured ${gap:-0} ms)" [ "${gap:-0}" -lt 2000 ]
if tap_have_audit; then
	if out=$("$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/client.jsonl" \
		 "$LAB_DIR/gateway.jsonl" 2>&1); then
		tap_ok "jvpn audit passes on both logs"
	else
		tap_fail "jvpn audit passes on both logs" "$out"
	fi
else
	echo "ok 9 # SKIP jvpn audit is not built here"
fi
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
