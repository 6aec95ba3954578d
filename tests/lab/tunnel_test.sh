#!/bin/bash
# SPDX-License-Identifier: MIT
# Handshake and ping through the tunnel on path a; status, a planned
# migration from ATTACHED (PD-8: make-before-break, refused by the
# cooldown), events, operator terminate and the daemon's clean exit (TUN,
# routes and control socket gone).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 24 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 24
lab_init
lab_net
lab_keys
lab_configs
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED" lab_wait_field client session.state ATTACHED 10
tap_eq "bound to the priority-0 transport a" a "$(lab_bound)"
tap_check "gateway session ATTACHED" lab_wait_field gateway peers.0.session.state ATTACHED 5
sid=$(lab_field client session.session_id)
tap_eq "both ends name the same session" "$sid" "$(lab_field gateway peers.0.session.session_id)"

out=$(ip netns exec "$NS_C" ping -n -c 20 -i 0.05 -W 1 $LAB_TUN_G 2>&1)
tap_check "20 pings through the tunnel, none lost" grep -q " 0% packet loss" <<<"$out"

route=$(ip -n "$NS_C" route show 198.19.0.0/24)
tap_check "tunnel prefix routed via jvc0" grep -q "dev jvc0" <<<"$route"

# D-034: the sockets' receive buffers are the tunnel's queue under load:
# small on the client, and on the gateway one small datagram's room more
# per peer (ss shows what the kernel granted: twice what was asked).
rb_c=$(ip netns exec "$NS_C" ss -Huamn "sport = :$LAB_PORT_A" | grep -o 'rb[0-9]*' | head -1)
rb_g=$(ip netns exec "$NS_G" ss -Huamn "sport = :$LAB_PORT" | grep -o 'rb[0-9]*' | head -1)
tap_eq "client path socket: a 256 KiB receive buffer (D-034)" rb262144 "$rb_c"
tap_eq "gateway listen socket: 256 KiB + 1 KiB for its one peer" rb263168 "$rb_g"

# PD-8: a planned migration under a 20 Hz ping; the old binding carries
# the traffic until the commit, so nothing is lost.
ip netns exec "$NS_C" ping -n -c 40 -i 0.05 -W 1 $LAB_TUN_G >"$LAB_DIR/mig.ping" 2>&1 &
pinger=$!
lab_track $pinger
sleep 0.5
out=$("$JVPN" switch b --socket "$LAB_DIR/client.sock" 2>&1)
rc=$?
# a second order right after the commit (one lab round trip; on a loaded
# host the first answer may still be "in progress (RECOVERING)": asked
# again at once, well inside the fast profile's 500 ms cooldown): refused,
# saying until when
for _ in $(seq 200); do
	err=$("$JVPN" switch a --socket "$LAB_DIR/client.sock" 2>&1)
	rc2=$?
	grep -q "already in progress" <<<"$err" || break
done
tap_check "switch b from ATTACHED is accepted (exit 0)" [ $rc -eq 0 ]
tap_check "the session moves to b" lab_wait_field client session.bound_transport b 5
tap_check "an immediate second switch is refused (exit 1)" [ $rc2 -eq 1 ]
tap_check "the refusal names the cooldown and when" \
	grep -Eq "refused \(cooldown_active\).*possible in [0-9.]+ s" <<<"$err"
err=$("$JVPN" switch nope --socket "$LAB_DIR/client.sock" 2>&1)
tap_check "an unknown transport is named as such" grep -q "no transport named 'nope'" <<<"$err"
wait $pinger
tap_check "no ping lost across the migration" grep -q " 0% packet loss" "$LAB_DIR/mig.ping"
n=$(lab_select client 'event_type=TransportSwitch' --print=trigger_class | grep -c discretionary)
tap_eq "one discretionary TransportSwitch in the client log" 1 "$n"

nev=$("$JVPN" events --socket "$LAB_DIR/client.sock" | grep -c '"event_type"')
tap_check "jvpn events prints the client's log ($nev lines)" [ "$nev" -ge 3 ]

"$JVPN" events --follow --socket "$LAB_DIR/client.sock" >"$LAB_DIR/follow.out" 2>&1 &
follower=$!
lab_track $follower
sleep 0.2
"$JVPN" terminate --socket "$LAB_DIR/client.sock" >/dev/null 2>&1
rc=0
for i in $(seq 1 100); do
	kill -0 "$LAB_CLIENT_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$LAB_CLIENT_PID"
rc=$?
LAB_CLIENT_PID=
tap_eq "client exits 0 after jvpn terminate" 0 "$rc"
for i in $(seq 1 40); do kill -0 $follower 2>/dev/null || break; sleep 0.05; done
tap_check "events --follow ends when the daemon exits" bash -c "! kill -0 $follower 2>/dev/null"
tap_check "events --follow streamed the history and SessionTerminated" \
	bash -c "grep -q SessionCreated '$LAB_DIR/follow.out' && grep -q '\"event_type\":\"SessionTerminated\"' '$LAB_DIR/follow.out'"
tap_check "client TUN removed" bash -c "! ip -n $NS_C link show jvc0 >/dev/null 2>&1"
tap_check "client control socket removed" [ ! -e "$LAB_DIR/client.sock" ]
tap_eq "client log ends with operator_terminated" operator_terminated \
	"$($LABTOOL last-reason "$LAB_DIR/client.jsonl" SessionTerminated)"
lab_wait_field gateway peers.0.session.state TERMINATED 3 >/dev/null
tap_eq "gateway ends the session too (told by TERMINATE)" operator_terminated \
	"$($LABTOOL last-reason "$LAB_DIR/gateway.jsonl" SessionTerminated)"
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
