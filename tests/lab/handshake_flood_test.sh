#!/bin/bash
# SPDX-License-Identifier: MIT
# The handshake defence (D-019) on real daemons, issue 10 item 2: while a
# flooder sends INITIATIONs with a valid mac1 from spoofed addresses
# (FLOOD_RATE/s, default 10 000, for 3 s; tests/lab/floodlib.sh), a new
# client attaches within 2 s through a cookie round trip, an established
# client keeps >= 90 % of its pings and its session, and the gateway spends
# its DHs within its bucket.  bench/handshake_flood.sh measures the same
# at length.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 10 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"
. "$HERE/floodlib.sh"

FLOOD_RATE=${FLOOD_RATE:-10000}
FLOOD_S=3
B_AT_MS=1000	# client B starts 1 s into the flood: the gateway is loaded
# The engine's defaults (session.h): 50 handshakes/s, burst 100.  Every DH
# the gateway may run while the flood lasts, flood and clients together.
DH_MAX=$((100 + 50 * (FLOOD_S + 2)))

tap_plan 10
lab_init
flood_net
flood_configs
lab_start_gateway
lab_start_client
tap_check "client A reaches ATTACHED" lab_wait_field client session.state ATTACHED 10
sid=$(lab_field client session.session_id)
dh0=$(flood_hs dh)
ck0=$(flood_hs cookie_sent)

t0=$(lab_ms)
flood_start "$FLOOD_RATE" $FLOOD_S "$LAB_DIR/flood.txt"
ip netns exec "$NS_C" ping -n -q -i 0.02 -c $((FLOOD_S * 50)) -w $((FLOOD_S + 2)) -W 1 \
	$LAB_TUN_G >"$LAB_DIR/ping.txt" 2>&1 &
pinger=$!
lab_track $pinger
lab_sleep_until $((t0 + B_AT_MS))
flood_attach_b 5
flood_wait "$LAB_DIR/flood.txt"
wait $pinger
dh=$(($(flood_hs dh) - dh0))
ck=$(($(flood_hs cookie_sent) - ck0))

num() {	# a measurement, 0 when it did not happen ("-" or empty)
	case $1 in ''|*[!0-9]*) echo 0 ;; *) echo "$1" ;; esac
}
# a flood far below the rate asked would prove nothing
tap_check "the flooder sent at least 2000 initiations/s (measured $FL_RATE/s)" \
	[ "$(num "$FL_RATE")" -ge 2000 ]
tap_check "the flood was answered with cookie replies ($ck for $FL_SENT sent)" \
	[ "$ck" -ge $(($(num "$FL_SENT") / 2)) ]
tap_below "client B attaches within 2 s during the flood (measured $FL_ATTACH_MS ms)" \
	"$FL_ATTACH_MS" 2000
bc=$(num "$(flood_b_cookies)")
tap_check "client B was sent a cookie reply: its handshake went through mac2 ($bc)" \
	[ "$bc" -ge 1 ]
read -r tx rx _ < <($LABTOOL ping-loss "$LAB_DIR/ping.txt")
tx=$(num "${tx:-}")
rx=$(num "${rx:-}")
tap_check "client A keeps >= 90 % of its pings through the flood ($rx of $tx)" \
	[ $((tx > 0 && rx * 10 >= tx * 9)) = 1 ]
tap_eq "client A's session unchanged" "$sid" "$(lab_field client session.session_id)"
tap_below "the gateway ran at most $DH_MAX DHs (ran $dh)" "$dh" $((DH_MAX + 1))
tap_check "client B still ATTACHED after the flood" \
	lab_wait_field clientb session.state ATTACHED 2
flood_stop_b
bad=$(lab_stop_daemons)
[ -z "$bad" ] && bad=$(grep -hE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
	"$LAB_DIR/clientb.log" 2>/dev/null | head -1)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
