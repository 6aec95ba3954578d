#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 9, flap-proof switching, on real hosts (`fast` profile), each run a
# fresh session under a TCP stream and a 20 Hz ping through the tunnel:
#
#  1. hard alternating flap: path a dies silently (nftables drop at both
#     ends) for 3.5 s, comes back, 0.1 s later b dies for 3.5 s, comes
#     back, 0.1 s later a dies ... for 60 s.  The session keeps its id on
#     both ends, the client never enters DEGRADED or TERMINATED, ping loss
#     stays <= 15 %, the TCP connection keeps delivering to the end and
#     closes cleanly, `jvpn audit` passes on both logs.
#  2. lossy flap: 30 % random loss switched on for 5 s and off for 5 s on
#     whichever path the client is bound to at that moment, for 50 s.  Same
#     session, never TERMINATED, the TCP connection survives, the audit
#     passes; the ping loss is printed and held to a generous 30 %.
#
# About 2 minutes.  LAB_KEEP=1 keeps the logs (the lab's directory).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
N=18
[ "$(id -u)" -eq 0 ] || tap_skip_all $N "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

FLAP_S=60		# run 1: length of the flap schedule
DEAD_MS=3500		# run 1: how long each path stays dead
GAP_MS=100		# run 1: from one path's return to the other's death
LOSS_S=50		# run 2: length of the lossy schedule
LOSS_PERIOD_S=5		# run 2: loss on for this long, then off as long
LOSS_PCT=30
TAIL_S=3		# traffic goes on this long after each schedule

tap_plan $N
lab_init
lab_net
lab_keys
lab_configs

# run_start: fresh daemons (a new session, empty logs); 1 if the
# client does not reach ATTACHED on a.
run_start() {
	rm -rf "$LAB_DIR/state" "$LAB_DIR"/client.sock "$LAB_DIR"/gateway.sock
	lab_start_gateway
	lab_start_client
	lab_wait_field client session.bound_transport a 10
}

# run_stop NAME: stop both daemons (sets BAD: the first sanitizer report,
# if any) and keep their logs as NAME-*.
run_stop() {
	BAD=$(lab_stop_daemons)
	for f in client.jsonl gateway.jsonl client.log gateway.log; do
		mv "$LAB_DIR/$f" "$LAB_DIR/$1-$f" 2>/dev/null
	done
}

# traffic SECONDS NAME: the 20 Hz ping and one TCP connection (2 MB/s) for
# SECONDS through the tunnel.
traffic() {
	lab_ping $(($1 * 20)) 0.05 "$LAB_DIR/$2-ping.txt"
	lab_tcp "$1" 2000000 "$2-tcp"
	TCP_END=$(($(lab_ms) + $1 * 1000))
}

# ping_end: wait for the ping to finish its count, at most until 5 s after
# the TCP stream's end; then SIGINT (ping prints its summary on it).
ping_end() {
	local end=$((TCP_END + 5000))
	while kill -0 "$LAB_PING_PID" 2>/dev/null && [ "$(lab_ms)" -lt $end ]; do
		sleep 0.1
	done
	kill -INT "$LAB_PING_PID" 2>/dev/null
	wait "$LAB_PING_PID" 2>/dev/null
}

# sessions SIDE: the distinct session ids in that side's log, one a line.
sessions() {
	lab_select "$1" --print=session_id | grep -v '^-$' | sort -u
}

# check_sessions DESCRIPTION SIDE SID
check_sessions() {
	local got
	got=$(sessions "$2" | tr '\n' ' ')
	tap_eq "$1" "$3 " "$got"
}

# bad_states DESCRIPTION STATES BEFORE_MS: ok when the client's log has
# no SessionStateChange into STATES (A|B) before BEFORE_MS (the clean stop
# at the end is a TERMINATED of its own).
bad_states() {
	local hits
	hits=$(lab_select client event_type=SessionStateChange "new_state=$2" \
		--before="$3" --print=ts_ms,previous_state,new_state,reason_code)
	if [ -z "$hits" ]; then
		tap_ok "$1"
		return
	fi
	local first=${hits%% *}
	tap_fail "$1" "$(printf '%s\n' "$hits" | wc -l) such transition(s); the first $((first - LAB_FLAP_START)) ms into the schedule:" \
		"$(printf '%s\n' "$hits" | head -3)" \
		"timeline from 1 s before it (client and gateway, schedule marks):" \
		"$(timeline $((first - 1000)) | head -25)"
}

# timeline SINCE_MS: both logs and the schedule's marks merged by time.
timeline() {
	local m=() x
	for x in "${LAB_FLAP_MARKS[@]}"; do m+=("--mark=$x"); done
	$LABTOOL timeline "$1" client="$LAB_DIR/client.jsonl" \
		gateway="$LAB_DIR/gateway.jsonl" "${m[@]}" 2>&1
}

# ping_loss NAME: "tx rx pct" of that run's ping
ping_loss() {
	$LABTOOL ping-loss "$LAB_DIR/$1-ping.txt"
}

# check_tcp DESCRIPTION: the stream ended cleanly, at most 10 s late.
check_tcp() {
	lab_tcp_wait_until $((TCP_END + 10000))
	tap_eq "$1" eof "$LAB_TCP_RESULT"
}

check_audit() {	# DESCRIPTION NAME
	local out
	if ! tap_have_audit; then
		tap_ok "$1 # SKIP jvpn audit is not built here"
		return
	fi
	if out=$("$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/$2-client.jsonl" \
		"$LAB_DIR/$2-gateway.jsonl" 2>&1); then
		tap_ok "$1"
	else
		tap_fail "$1" "$(printf '%s\n' "$out" | head -10)"
	fi
}

switch_counts() {	# -> "total forced discretionary" of the client's log
	echo "$(lab_count client TransportSwitch)" \
		"$(lab_select client event_type=TransportSwitch trigger_class=forced | wc -l)" \
		"$(lab_select client event_type=TransportSwitch trigger_class=discretionary | wc -l)"
}

# ---- run 1: hard alternating flap ------------------------------------------
LAB_FLAP_START=$(lab_ms)
LAB_FLAP_MARKS=()
tap_check "run 1: client reaches ATTACHED on a" run_start
sid=$(lab_field client session.session_id)
traffic $((FLAP_S + TAIL_S + 1)) run1
sleep 1		# the stream is under way before the first cut
lab_flap_alternate $FLAP_S $DEAD_MS $GAP_MS
lab_sleep_until "$TCP_END"
ping_end
tstop=$(lab_ms)
read -r sw forced disc <<<"$(switch_counts)"
echo "# run 1: $LAB_FLAP_CUTS cuts in ${FLAP_S} s; client TransportSwitch: $sw (forced $forced, discretionary $disc)"
tap_check "run 1: the session followed the flap (at least 2 switches, saw $sw)" [ "$sw" -ge 2 ]
check_sessions "run 1: one session id throughout, client log" client "$sid"
check_sessions "run 1: one session id throughout, gateway log" gateway "$sid"
bad_states "run 1: the client never enters DEGRADED or TERMINATED" "DEGRADED|TERMINATED" "$tstop"
read -r tx rx loss <<<"$(ping_loss run1)"
echo "# run 1: ping $rx of $tx answered, loss ${loss:-?} %"
tap_check "run 1: ping loss <= 15 % (measured ${loss:-?} %)" \
	python3 -c "import sys; sys.exit(not float(sys.argv[1]) <= 15)" "${loss:-100}"
check_tcp "run 1: the TCP stream survives (same connection, clean close)"
moved=$($LABTOOL tcp-bytes "$LAB_DIR/run1-tcp.json" $((TCP_END - 1000)) "$TCP_END" 2>/dev/null)
tap_check "run 1: ... and still delivers in its last second (${moved:-0} bytes)" [ "${moved:-0}" -gt 0 ]
run_stop run1
check_audit "run 1: jvpn audit passes on both logs" run1
tap_eq "run 1: daemons stop cleanly, no sanitizer report in their logs" "" "$BAD"

# ---- run 2: random loss on the bound path, on and off ----------------------
LAB_FLAP_START=$(lab_ms)
LAB_FLAP_MARKS=()
tap_check "run 2: client reaches ATTACHED on a (a fresh session)" run_start
sid=$(lab_field client session.session_id)
traffic $((LOSS_S + TAIL_S + 1)) run2
sleep 1
lab_flap_loss $LOSS_S $LOSS_PERIOD_S $LOSS_PCT
lab_sleep_until "$TCP_END"
ping_end
tstop=$(lab_ms)
read -r sw forced disc <<<"$(switch_counts)"
echo "# run 2: $LAB_FLAP_CUTS loss phases of ${LOSS_PERIOD_S} s at $LOSS_PCT %; client TransportSwitch: $sw (forced $forced, discretionary $disc)"
check_sessions "run 2: one session id throughout, client log" client "$sid"
check_sessions "run 2: one session id throughout, gateway log" gateway "$sid"
bad_states "run 2: the client never enters TERMINATED" TERMINATED "$tstop"
read -r tx rx loss <<<"$(ping_loss run2)"
echo "# run 2: ping $rx of $tx answered, loss ${loss:-?} %"
tap_check "run 2: ping loss <= 30 % (measured ${loss:-?} %)" \
	python3 -c "import sys; sys.exit(not float(sys.argv[1]) <= 30)" "${loss:-100}"
check_tcp "run 2: the TCP stream survives (same connection, clean close)"
run_stop run2
check_audit "run 2: jvpn audit passes on both logs" run2
tap_eq "run 2: daemons stop cleanly, no sanitizer report in their logs" "" "$BAD"
tap_done
