#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/throughput.sh [BUILD_DIR] (root): throughput of the real tunnel
# (`jvpn up` gateway and client, policy profile `fast`, spec PD-3) beside
# the raw veth path, in the namespace lab of tests/lab/lablib.sh.  Not a
# test: it measures and prints.
#
# One iperf3 TCP stream for SECONDS (default 10) through the tunnel
# (client -> gateway, 198.19.0.1), then one over the raw path a
# (198.18.1.1).  During the tunnel run it reads the CPU time of both jvpn
# processes (/proc/PID/stat) and the inner packets the gateway delivered.
#
# Environment:
#   SECONDS_RUN=N   iperf3 duration (default 10)
#   PROFILE=DIR     also `perf record -e cpu-clock -g` both daemons during
#                   the tunnel run into DIR/{client,gateway}.perf.data, and
#                   count their system calls (perf stat on the syscalls
#                   tracepoints) into DIR/{client,gateway}.syscalls, with
#                   the count per delivered packet printed
#
# Ends with name=value lines (DESIGN.md): tunnel_mbps, raw_mbps,
# tunnel_pps (inner packets delivered by the gateway's TUN per second, the
# data direction: the gateway's counters.tun_tx), client_cpu_pct, gateway_cpu_pct (percent of one core,
# user + system, over the tunnel run), client_us_per_pkt,
# gateway_us_per_pkt (CPU time of each daemon per delivered packet: the
# figure least moved by other load on the machine), host_idle_pct (idle
# share of all CPUs during the tunnel run: near 0, the run was CPU-bound
# and other load on the machine moves the Mbit/s).  The lab's trap cleans up on every
# exit path (error, SIGINT, SIGTERM): daemons, iperf3, perf, namespaces.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
JVPN=$build/src/cli/jvpn
export JVPN
T=${SECONDS_RUN:-10}
[ -x "$JVPN" ] || { echo "throughput.sh: no $JVPN (build first: make build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: needs root (network namespaces)" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "throughput.sh: needs iperf3" >&2; exit 2; }
if [ -n "${PROFILE:-}" ]; then
	command -v perf >/dev/null || { echo "throughput.sh: PROFILE needs perf (linux-perf)" >&2; exit 2; }
	mkdir -p "$PROFILE" || exit 2
fi

. "$here/tests/lab/lablib.sh"

lab_init
lab_net
lab_keys
lab_configs "version = 1.0" "profile = fast"
lab_start_gateway
lab_start_client
lab_wait_field client session.state ATTACHED 10 || lab_die "no session"
echo "jvpn throughput benchmark: namespace lab, policy profile fast, iperf3 TCP ${T} s"
echo "$(nproc) CPUs, kernel $(uname -r), code $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown), build $build"

# `ip netns exec` execs jvpn: the pid we hold is the daemon's own.
cputicks() {	# pid -> utime + stime in clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
tunrx() {	# inner packets the gateway daemon wrote to its TUN (status
		# counter: merged GSO writes count every packet in them)
	lab_field gateway counters.tun_tx
}
server() {	# a one-shot iperf3 server in the gateway namespace
	ip netns exec "$NS_G" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	SRV=$!
	lab_track $SRV
	sleep 0.3
}
iperf() {	# destination -> Mbit/s received (after `server`)
	ip netns exec "$NS_C" iperf3 -c "$1" -p 5201 -t "$T" -J 2>/dev/null |
		python3 -c 'import json,sys
try:
    print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception:
    print("-")'
	wait $SRV 2>/dev/null
}

hz=$(getconf CLK_TCK)
perfpids=()
if [ -n "${PROFILE:-}" ]; then
	for side in client gateway; do
		pid=$LAB_GATEWAY_PID
		[ $side = client ] && pid=$LAB_CLIENT_PID
		perf record -q -e cpu-clock -g -p "$pid" \
			-o "$PROFILE/$side.perf.data" >/dev/null 2>&1 &
		perfpids+=($!)
		lab_track $!
		perf stat -x, -o "$PROFILE/$side.syscalls" -p "$pid" \
			-e syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev \
			-e syscalls:sys_enter_recvmmsg,syscalls:sys_enter_sendmmsg \
			-e syscalls:sys_enter_sendmsg \
			-e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_timerfd_settime \
			>/dev/null 2>&1 &
		perfpids+=($!)
		lab_track $!
	done
	sleep 0.5
fi
server
c0=$(cputicks "$LAB_CLIENT_PID")
g0=$(cputicks "$LAB_GATEWAY_PID")
p0=$(tunrx)
s0=$(head -1 /proc/stat)
t0=$(date +%s%N)
tunnel_mbps=$(iperf $LAB_TUN_G)
t1=$(date +%s%N)
s1=$(head -1 /proc/stat)
c1=$(cputicks "$LAB_CLIENT_PID")
g1=$(cputicks "$LAB_GATEWAY_PID")
p1=$(tunrx)
for pid in "${perfpids[@]}"; do
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
server
raw_mbps=$(iperf $LAB_A_G)

read -r tunnel_pps client_cpu gateway_cpu client_us gateway_us idle < <(python3 -c '
import sys
c0, c1, g0, g1, p0, p1, t0, t1, hz = map(int, sys.argv[1:10])
a = [int(x) for x in sys.argv[10].split()[1:]]
b = [int(x) for x in sys.argv[11].split()[1:]]
d = [y - x for x, y in zip(a, b)]
s = (t1 - t0) / 1e9
n = max(p1 - p0, 1)
print("%.0f %.0f %.0f %.2f %.2f %.0f" % (n / s, (c1 - c0) * 100 / hz / s,
      (g1 - g0) * 100 / hz / s, (c1 - c0) * 1e6 / hz / n,
      (g1 - g0) * 1e6 / hz / n, (d[3] + d[4]) * 100 / max(sum(d), 1)))' \
	"$c0" "$c1" "$g0" "$g1" "$p0" "$p1" "$t0" "$t1" "$hz" "$s0" "$s1")
echo "tunnel: $tunnel_mbps Mbit/s, $tunnel_pps packets/s delivered; CPU client $client_cpu %, gateway $gateway_cpu % of one core"
echo "CPU per delivered packet: client $client_us us, gateway $gateway_us us; host idle $idle %"
echo "raw path a: $raw_mbps Mbit/s"
if [ -n "${PROFILE:-}" ]; then
	echo "profiles: $PROFILE/client.perf.data $PROFILE/gateway.perf.data"
	for side in client gateway; do
		printf '%s system calls per delivered packet:' $side
		awk -F, -v n=$((p1 - p0)) '$3 ~ /sys_enter_/ {
			sub(/.*sys_enter_/, "", $3); printf " %s %.3f", $3, $1 / n }
			END { print "" }' "$PROFILE/$side.syscalls"
	done
fi
echo
echo "tunnel_mbps=$tunnel_mbps"
echo "raw_mbps=$raw_mbps"
echo "tunnel_pps=$tunnel_pps"
echo "client_cpu_pct=$client_cpu"
echo "gateway_cpu_pct=$gateway_cpu"
echo "client_us_per_pkt=$client_us"
echo "gateway_us_per_pkt=$gateway_us"
echo "host_idle_pct=$idle"
