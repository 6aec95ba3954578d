#!/bin/bash
# SPDX-License-Identifier: MIT
# A hard path failure: path a's link goes down, the kernel refuses to send
# on it (no route), the daemon reports the path down at once (spec §6.2)
# and the session moves to b faster than silence detection would allow.
# When the link comes back, the daemon's retry lets the engine probe a
# again, and a later silent cut of b brings the session back onto a.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 7 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 7
lab_init
lab_net
lab_keys
lab_configs
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED on a" lab_wait_field client session.bound_transport a 10
lab_ping 100 0.02 "$LAB_DIR/ping.txt"
sleep 0.5
tdown=$(lab_now)
lab_link a down
tap_check "the session moves to b" lab_wait_field client session.bound_transport b 3
tap_check "the client logged the hard error on a" \
	grep -q "transport a: .*reported down" "$LAB_DIR/client.log"
wait "$LAB_PING_PID"
gap=$($LABTOOL gaps "$LAB_DIR/ping.txt" 20 "$tdown" | head -1 | cut -d' ' -f4)
tap_check "gap below the silence detection (${gap:-0} ms < 300 ms)" [ "${gap:-0}" -lt 300 ]
lab_link a up
ip -n "$NS_G" link set pa up
tap_check "path a answers probes again (no longer down)" \
	lab_wait_field client session.transports.0.os_down False 5
sleep 1.5
lab_cut b
tap_check "a silent cut of b brings the session back to a" \
	lab_wait_field client session.bound_transport a 5
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
