#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/handshake_flood.sh [BUILD_DIR] (root): the gateway's handshake
# defence (D-019, docs/protocol.md 2.8) on real daemons, in the flood lab
# of tests/lab/floodlib.sh: a gateway, client A on path a, client B on its
# own path c, a flooder on its own link.  Not a test: it measures and
# prints.  Issue 10 item 2: "under a flood of 10 000 initiations/s from
# spoofed addresses a legitimate client still completes its handshake
# within 2 s, and sessions already up keep their traffic".
#
#  1. Without a flood, RUNS times: client B starts (`jvpn up`) and the
#     time to its ATTACHED event is taken (floodlib.sh flood_attach_b:
#     from just before the start to the event's ts_ms, process start
#     included).  Client B is stopped after each run.
#  2. RUNS times, with client A's session up the whole time:
#     - a paced TCP stream (2 MB/s) client A -> gateway through the tunnel,
#       and 3 s of pings at 100/s (the "before" figures);
#     - the flood: FLOOD_RATE INITIATIONs/s for FLOOD_S s, each with a
#       valid mac1 (the gateway's public key is in every client config),
#       random bytes elsewhere, a zero mac2, from random addresses and
#       ports of 198.18.128.0/17 (raw socket, labtool.py flood); pings at
#       100/s for the flood's length;
#     - B_AT_S s into the flood, client B starts; its time to ATTACHED;
#     - per run: what the flooder really sent, ping loss and TCP rate
#       before and during, the gateway's handshake counters (status
#       "handshakes": dh, cookie_sent, ...), its CPU and its kernel's UDP
#       receive-buffer drops.
#
# Environment: RUNS (3), FLOOD_RATE (10000), FLOOD_S (10), B_AT_S (2).
# Ends with name=value lines (DESIGN.md "Performance"): medians over the
# runs where it says so.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
JVPN=$build/src/cli/jvpn
export JVPN
[ -x "$JVPN" ] || { echo "handshake_flood.sh: no $JVPN (build first: make build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "handshake_flood.sh: needs root (network namespaces)" >&2; exit 2; }

. "$here/tests/lab/lablib.sh"
. "$here/tests/lab/floodlib.sh"

RUNS=${RUNS:-3}
FLOOD_RATE=${FLOOD_RATE:-10000}
FLOOD_S=${FLOOD_S:-10}
B_AT_S=${B_AT_S:-2}
TCP_BPS=2000000
BEFORE_S=3

lab_init
flood_net
flood_configs "version = 1.0" "profile = fast"
lab_start_gateway
lab_start_client
lab_wait_field client session.state ATTACHED 10 || lab_die "client A: no session"
sid=$(lab_field client session.session_id)
hz=$(getconf CLK_TCK)
cputicks() {	# pid -> utime + stime in clock ticks (`ip netns exec` execs jvpn)
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
idle_of() {	# two /proc/stat cpu lines -> idle % between them
	python3 -c 'import sys
a = [int(x) for x in sys.argv[1].split()[1:]]
b = [int(x) for x in sys.argv[2].split()[1:]]
d = [y - x for x, y in zip(a, b)]
print("%.0f" % ((d[3] + d[4]) * 100 / max(sum(d), 1)))' "$1" "$2"
}
echo "jvpn handshake-flood benchmark: gateway, client A (session up), client B, flooder; policy profile fast"
echo "$(nproc) CPUs, kernel $(uname -r), code $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "flood: $FLOOD_RATE INITIATIONs/s asked, valid mac1, spoofed from $FL_SPOOF, $FLOOD_S s; client B starts $B_AT_S s into it"
echo

# ---- 1. client B without a flood ---------------------------------------------
base=()
for i in $(seq 1 "$RUNS"); do
	flood_attach_b 10
	flood_stop_b
	base+=("$FL_ATTACH_MS")
	sleep 0.5
done
echo "client B to ATTACHED without a flood (ms): ${base[*]}"
echo

# ---- 2. under the flood ------------------------------------------------------
echo "run  sent/s  client_B_ms  B_cookies  ping_loss_before%  ping_loss_flood%  tcp_kBps_before  tcp_kBps_flood  gw_dh  gw_cookies  gw_dropped  gw_cpu%  rcvbuf_drops  idle%"
flooded=()
losses=()
rates=()
tcp_b=()
tcp_f=()
cookies_all=0
dh_all=0
for i in $(seq 1 "$RUNS"); do
	# the stream outlasts the flood by a margin for this script's own
	# steps, which a loaded machine slows down
	lab_tcp $((BEFORE_S + FLOOD_S + 8)) $TCP_BPS "tcp$i"
	sleep 1
	tb0=$(lab_ms)
	ip netns exec "$NS_C" ping -n -q -i 0.01 -c $((BEFORE_S * 100)) -W 1 $LAB_TUN_G \
		>"$LAB_DIR/before$i.txt" 2>&1
	dh0=$(flood_hs dh); ck0=$(flood_hs cookie_sent); dr0=$(flood_hs dropped)
	rb0=$(flood_rcvbuf_errors)
	bc0=$(flood_b_cookies)
	g0=$(cputicks "$LAB_GATEWAY_PID"); s0=$(head -1 /proc/stat)
	tf0=$(lab_ms)
	flood_start "$FLOOD_RATE" "$FLOOD_S" "$LAB_DIR/flood$i.txt"
	ip netns exec "$NS_C" ping -n -q -i 0.01 -c $((FLOOD_S * 100)) -w $((FLOOD_S + 2)) -W 1 \
		$LAB_TUN_G >"$LAB_DIR/during$i.txt" 2>&1 &
	pinger=$!
	lab_track $pinger
	lab_sleep_until $((tf0 + B_AT_S * 1000))
	flood_attach_b 8
	flood_wait "$LAB_DIR/flood$i.txt"
	tf1=$(lab_ms)
	g1=$(cputicks "$LAB_GATEWAY_PID"); s1=$(head -1 /proc/stat)
	dh1=$(flood_hs dh); ck1=$(flood_hs cookie_sent); dr1=$(flood_hs dropped)
	rb1=$(flood_rcvbuf_errors)
	bc1=$(flood_b_cookies)
	wait $pinger
	flood_stop_b
	lab_tcp_wait || echo "run $i: TCP stream: $LAB_TCP_RESULT" >&2
	read -r _ _ lb < <($LABTOOL ping-loss "$LAB_DIR/before$i.txt")
	read -r _ _ lf < <($LABTOOL ping-loss "$LAB_DIR/during$i.txt")
	# bytes per ms = kB/s, over the ping-before window and the flood's
	kb=$(( $($LABTOOL tcp-bytes "$LAB_DIR/tcp$i.json" "$tb0" $((tb0 + BEFORE_S * 1000))) / (BEFORE_S * 1000) ))
	kf=$(( $($LABTOOL tcp-bytes "$LAB_DIR/tcp$i.json" "$tf0" $((tf0 + FLOOD_S * 1000))) / (FLOOD_S * 1000) ))
	gcpu=$(( (g1 - g0) * 100 * 1000 / hz / (tf1 - tf0) ))
	idle=$(idle_of "$s0" "$s1")
	printf '%3d  %6s  %11s  %9s  %17s  %16s  %15s  %14s  %5s  %10s  %10s  %7s  %12s  %5s\n' \
		"$i" "$FL_RATE" "$FL_ATTACH_MS" $((bc1 - bc0)) "${lb:--}" "${lf:--}" "$kb" "$kf" \
		$((dh1 - dh0)) $((ck1 - ck0)) $((dr1 - dr0)) "$gcpu" $((rb1 - rb0)) "$idle"
	flooded+=("$FL_ATTACH_MS")
	losses+=("${lf:--}")
	rates+=("$FL_RATE")
	tcp_b+=("$kb")
	tcp_f+=("$kf")
	cookies_all=$((cookies_all + ck1 - ck0))
	dh_all=$((dh_all + dh1 - dh0))
	sleep 1
done

sid2=$(lab_field client session.session_id)
echo
echo "client A's session $( [ "$sid" = "$sid2" ] && echo unchanged || echo CHANGED) across the floods; gateway handshake counters at the end: $(lab_status gateway | $LABTOOL get handshakes)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goals (issue 10): client B attaches within 2000 ms under 10 000 spoofed initiations/s; client A keeps its traffic"
echo
# ping loss: median over the runs, with one decimal (labtool median rounds)
loss_med=$(python3 -c 'import sys
v = sorted(float(x) for x in sys.argv[1:] if x != "-")
print("-" if not v else "%.1f" % (v[len(v)//2] if len(v) % 2 else (v[len(v)//2-1] + v[len(v)//2]) / 2))' "${losses[@]}")
echo "flood_rate_per_s=$($LABTOOL median "${rates[@]}")"
echo "flood_s=$FLOOD_S"
echo "new_client_handshake_ms=$($LABTOOL median "${flooded[@]}")"
echo "new_client_handshake_max_ms=$(printf '%s\n' "${flooded[@]}" | sort -n | tail -1)"
echo "no_flood_handshake_ms=$($LABTOOL median "${base[@]}")"
echo "established_ping_loss_pct=$loss_med"
echo "established_tcp_kBps_before=$($LABTOOL median "${tcp_b[@]}")"
echo "established_tcp_kBps_flood=$($LABTOOL median "${tcp_f[@]}")"
echo "gateway_cookie_replies=$cookies_all"
echo "gateway_dh=$dh_all"
echo "runs=$RUNS"
