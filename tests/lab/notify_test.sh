#!/bin/bash
# SPDX-License-Identifier: MIT
# jvpn up under systemd's protocols, for real (Type=notify, WatchdogSec=,
# the journal): a lab gateway started with NOTIFY_SOCKET pointing at a
# unix datagram socket that tests/lab/notify_listen.py reads, WATCHDOG_USEC
# set, and JOURNAL_STREAM naming its stderr file.  READY=1 arrives once the
# control socket accepts connections, with a STATUS= line; STATUS= follows
# the client's session; WATCHDOG=1 comes at about half the interval;
# SIGTERM brings STOPPING=1 and exit 0.  Every stderr line of the gateway
# carries a journald priority (<6> info, <5> the SIGTERM notice), and the
# client, started without JOURNAL_STREAM, writes plain lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
N=10
[ "$(id -u)" -eq 0 ] || tap_skip_all $N "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan $N
lab_init
lab_net
lab_keys
lab_configs

NOTES=$LAB_DIR/notify.txt
python3 "$HERE/notify_listen.py" "$LAB_DIR/notify.sock" "$NOTES" "$LAB_DIR/gateway.sock" &
lab_track $!
i=0
while [ ! -e "$NOTES.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# wait_note PATTERN TIMEOUT_S: until a line of the notify log matches.
wait_note() {
	local i=0
	while ! grep -qE "$1" "$NOTES" 2>/dev/null; do
		[ $i -ge $(($2 * 20)) ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}

: >"$LAB_DIR/gateway.log"
devino=$(stat -c '%d:%i' "$LAB_DIR/gateway.log")
NOTIFY_SOCKET=$LAB_DIR/notify.sock WATCHDOG_USEC=400000 JOURNAL_STREAM=$devino \
	ip netns exec "$NS_G" "$JVPN" up "$LAB_DIR/gateway.conf" 2>>"$LAB_DIR/gateway.log" &
LAB_GATEWAY_PID=$!
lab_wait_socket "$LAB_DIR/gateway.sock" gateway

tap_check "READY=1 arrives" wait_note '^[0-9]+ READY=1$' 5
tap_eq "the control socket accepted a connection when READY=1 arrived" "ctl=ok" \
	"$(grep -m1 -oE 'ctl=.*' "$NOTES")"
tap_check "STATUS= with READY: no session yet" \
	grep -qE '^[0-9]+ STATUS=gateway jvg0: 0 sessions, 0 attached, 1 peer$' "$NOTES"

lab_start_client
tap_check "client ATTACHED" lab_wait_field client session.state ATTACHED 10
tap_check "STATUS= follows the session: 1 attached" \
	wait_note '^[0-9]+ STATUS=gateway jvg0: 1 session, 1 attached, 1 peer$' 5

# WATCHDOG_USEC=400 ms: a ping every 200 ms (half the interval), on the
# loop's own deadline, not whenever another timer happens to wake it.
# Over ~3 s: every gap between pings 150-260 ms (a ping riding the
# session's timers instead comes 200 ms plus up to one timer period
# late; with 1.5 s and a bound of 400 ms that passed one run in three).
sleep 3
gaps=$(awk '/ WATCHDOG=1$/ { if (t) print $1 - t; t = $1 }' "$NOTES" | sort -n)
ngaps=$(echo "$gaps" | grep -c .)
wd_ok() {
	[ "$ngaps" -ge 10 ] && [ "$(echo "$gaps" | head -1)" -ge 150 ] &&
		[ "$(echo "$gaps" | tail -1)" -le 260 ]
}
tap_check "WATCHDOG=1 at half of WATCHDOG_USEC=400000: $ngaps gaps, $(echo "$gaps" | head -1)..$(echo "$gaps" | tail -1) ms" wd_ok

kill -TERM "$LAB_GATEWAY_PID"
wait "$LAB_GATEWAY_PID"
rc=$?
LAB_GATEWAY_PID=
tap_eq "SIGTERM: exit 0" 0 "$rc"
tap_check "STOPPING=1 on SIGTERM" wait_note '^[0-9]+ STOPPING=1$' 2

plain=$(grep -cvE '^<[0-7]>jvpn' "$LAB_DIR/gateway.log")
prio_ok() {
	[ "$plain" = 0 ] &&
		grep -q '^<5>jvpn\[jvg0\] .* SIGTERM: terminating' "$LAB_DIR/gateway.log" &&
		grep -q '^<6>jvpn\[jvg0\] .* gateway jvg0 up' "$LAB_DIR/gateway.log"
}
tap_check "every gateway stderr line has a priority ($plain without): start <6>, SIGTERM <5>" prio_ok
lab_stop_daemons >/dev/null
plain_ok() {
	[ -s "$LAB_DIR/client.log" ] && ! grep -qE '^<[0-7]>' "$LAB_DIR/client.log"
}
tap_check "the client (no JOURNAL_STREAM) writes plain lines" plain_ok
tap_done
