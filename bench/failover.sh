#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/failover.sh [BUILD_DIR] (root): failover of a real jvpn tunnel in
# the namespace lab (tests/lab/lablib.sh) with the `fast` policy profile
# (spec PD-3).  Not a test: it measures and prints.
#
#  1. throughput (iperf3, 4 s) and ping RTT (200 x 10 ms) through the
#     tunnel and over the raw path a, in the same run;
#  2. five silent cuts of the active path (nftables drop at both ends, so
#     no socket error gives it away), each under a ping stream at
#     100 packets/s and a fresh TCP stream (2 MB/s): per cut the failover
#     gap (first lost to first delivered ping), the TCP resume time (from
#     the cut to the first 0.5 s of uninterrupted data on the same
#     connection) and whether the stream survived.
#
# Ends with name=value lines (DESIGN.md): failover_median_ms,
# failover_max_ms, tcp_resume_median_ms, tcp_survived, tcp_streams,
# tunnel_mbps, raw_mbps, tunnel_rtt_ms, raw_rtt_ms.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
JVPN=$build/src/cli/jvpn
export JVPN
[ -x "$JVPN" ] || { echo "failover.sh: no $JVPN (build first: make build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "failover.sh: needs root (network namespaces)" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "failover.sh: needs iperf3" >&2; exit 2; }

. "$here/tests/lab/lablib.sh"

CUTS=5
PING_MS=10

lab_init
lab_net
lab_keys
lab_configs "version = 1.0" "profile = fast"
lab_start_gateway
lab_start_client
lab_wait_field client session.state ATTACHED 10 || lab_die "no session"
sid=$(lab_field client session.session_id)
echo "jvpn failover benchmark: namespace lab, two veth paths, policy profile fast"
echo "session $sid; $(nproc) CPUs, kernel $(uname -r), code $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
echo

# ---- throughput and RTT: tunnel beside the raw path ------------------------
iperf() {	# destination -> Mbit/s received
	ip netns exec "$NS_G" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local srv=$!
	lab_track $srv
	sleep 0.3
	ip netns exec "$NS_C" iperf3 -c "$1" -p 5201 -t 4 -J 2>/dev/null |
		python3 -c 'import json,sys
try:
    print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception:
    print("-")'
	wait $srv 2>/dev/null
}
pingrtt() {	# destination -> average RTT in ms
	ip netns exec "$NS_C" ping -n -q -c 200 -i 0.01 "$1" >"$LAB_DIR/rtt.txt" 2>&1
	$LABTOOL rtt "$LAB_DIR/rtt.txt"
}
raw_mbps=$(iperf $LAB_A_G)
tunnel_mbps=$(iperf $LAB_TUN_G)
raw_rtt=$(pingrtt $LAB_A_G)
tunnel_rtt=$(pingrtt $LAB_TUN_G)
echo "throughput (iperf3 TCP, 4 s): tunnel $tunnel_mbps Mbit/s, raw path a $raw_mbps Mbit/s"
echo "ping RTT (200 x 10 ms):       tunnel $tunnel_rtt ms, raw path a $raw_rtt ms"
echo

# ---- five silent cuts --------------------------------------------------------
period=7	# s per cut: 1 before, cut, 2.5 on the backup, restore, settle
lab_ping $((CUTS * period * 1000 / PING_MS + 200)) 0.$(printf '%02d' $PING_MS) "$LAB_DIR/ping.txt"
sleep 1
echo "cut  path  gap_ms  tcp_resume_ms  tcp_stream  switched_to"
gaps=()
resumes=()
survived=0
for i in $(seq 1 $CUTS); do
	lab_tcp 5 2000000 "tcp$i"
	sleep 1
	active=$(lab_bound)
	tcut=$(lab_now)
	lab_cut "$active"
	for k in $(seq 1 100); do
		[ "$(lab_bound)" != "$active" ] && [ -n "$(lab_bound)" ] && break
		sleep 0.05
	done
	now_on=$(lab_bound)
	sleep 2.5
	lab_restore "$active"
	lab_tcp_wait
	[ "$LAB_TCP_RESULT" = eof ] && survived=$((survived + 1))
	# give the restored path its stability window back before the next cut
	sleep 1.5
	gap=$($LABTOOL gaps "$LAB_DIR/ping.txt" $PING_MS "$tcut" | head -1 | cut -d' ' -f4)
	res=$($LABTOOL resume "$LAB_DIR/tcp$i.json" "$tcut")
	gaps+=("${gap:-0}")
	resumes+=("$res")
	printf '%3d  %-4s  %6s  %13s  %-10s  %s\n' "$i" "$active" "${gap:-0}" \
		"$res" "$LAB_TCP_RESULT" "${now_on:-none}"
done
kill "$LAB_PING_PID" 2>/dev/null
wait "$LAB_PING_PID" 2>/dev/null

sid2=$(lab_field client session.session_id)
echo
echo "session $( [ "$sid" = "$sid2" ] && echo unchanged || echo CHANGED) across the cuts; handshakes: client $(lab_count client SessionCreated), gateway $(lab_count gateway SessionCreated)"
if "$JVPN" audit --help >/dev/null 2>&1; then
	if "$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/client.jsonl" "$LAB_DIR/gateway.jsonl" >"$LAB_DIR/audit.txt" 2>&1; then
		echo "jvpn audit: PASS on both event logs"
	else
		echo "jvpn audit: FAIL"; sed 's/^/  /' "$LAB_DIR/audit.txt"
	fi
fi
max=0
for g in "${gaps[@]}"; do [ "$g" -gt "$max" ] && max=$g; done
echo "goals: median gap <= 500 ms, median TCP resume <= 1000 ms, 5/5 TCP streams survive"
echo
echo "failover_median_ms=$($LABTOOL median "${gaps[@]}")"
echo "failover_max_ms=$max"
echo "tcp_resume_median_ms=$($LABTOOL median "${resumes[@]}")"
echo "tcp_survived=$survived"
echo "tcp_streams=$CUTS"
echo "tunnel_mbps=$tunnel_mbps"
echo "raw_mbps=$raw_mbps"
echo "tunnel_rtt_ms=$tunnel_rtt"
echo "raw_rtt_ms=$raw_rtt"
