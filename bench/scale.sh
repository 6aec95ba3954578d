#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/scale.sh [BUILD_DIR] (root): N sessions on one real `jvpn up`
# gateway (issue 12), driven by bench/loadgen from one client namespace
# over the two veth paths of tests/lab/lablib.sh.  Not a test: it
# measures and prints.
#
#   N=10000 (default) sessions, keys from a seed, one PeersDir file each
#   (a main-file list of [Peer]s when the binary has no PeersDir and
#   N <= 1000); the gateway has MaxSessions = N, the `fast` profile, and
#   listens on both paths; loadgen uses SOURCES (128) source addresses per
#   path (bench/loadgen/run.c says why).
#
#  1. raised admission (HandshakesPerSecond = HandshakeBurst = RAISED,
#     default 1000): setup time of N sessions; gateway VmRSS growth per
#     session (after N ATTACHED minus with the peers loaded and no
#     session); gateway CPU per packet over HOLD_S (10) s of echo traffic
#     at PPS_TOTAL (4 000) echo requests/s in all; then path a cut at
#     once for all N (nftables drop at both ends, as lab_cut): time from
#     the cut to each session ATTACHED again on path b, sessions ended,
#     handshakes the gateway ran after the cut;
#  2. one session at the same packet rate as the gateway handled in 1:
#     CPU per packet with 1 session;
#  3. the default admission (50/s, burst 100): setup time of N sessions
#     (~N/50 s; SKIP_DEFAULT=1 skips it).
#
# Ends with name=value lines; bench/README.md ("scale.sh") has the goals.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
JVPN=$build/src/cli/jvpn
LOADGEN=$build/bench/loadgen
export JVPN
[ -x "$JVPN" ] || { echo "scale.sh: no $JVPN (build first: make build)" >&2; exit 2; }
[ -x "$LOADGEN" ] || { echo "scale.sh: no $LOADGEN (build first)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "scale.sh: needs root (network namespaces)" >&2; exit 2; }

N=${N:-10000}
RAISED=${RAISED:-1000}
SOURCES=${SOURCES:-128}
HOLD_S=${HOLD_S:-10}
PPS_TOTAL=${PPS_TOTAL:-4000}
SKIP_DEFAULT=${SKIP_DEFAULT:-0}
SETUP_TIMEOUT=${SETUP_TIMEOUT:-$((N / 40 + 120))}	# s, per setup
SEED=${SEED:-1}
# The gateway's session store (PD-9): off by default, see bench/README.md
# ("scale.sh": with the SQLite store the gateway stalls on its writes)
STORE=${STORE:-off}
# HEARTBEAT_MS: the fast profile's heartbeat (100 ms) replaced, with its
# detection times in the same ratios (3x, 6x); loadgen's engines take the
# gateway's [Policy] (bench/README.md, "scale.sh": what 10 000 sessions of
# the fast profile cost on two cores)
HEARTBEAT_MS=${HEARTBEAT_MS:-}
case $HEARTBEAT_MS in ''|[1-9]|[1-9][0-9]|[1-9][0-9][0-9]|1000) ;;
*) echo "scale.sh: HEARTBEAT_MS='$HEARTBEAT_MS': 1..1000 (ms)" >&2; exit 2 ;; esac
GW_INNER=10.255.255.254
case $N in ''|*[!0-9]*|0) echo "scale.sh: N='$N': not a number >= 1" >&2; exit 2 ;; esac
[ "$N" -le 65536 ] || { echo "scale.sh: N=$N: at most 65536" >&2; exit 2; }
case $SOURCES in ''|*[!0-9]*|0) echo "scale.sh: SOURCES='$SOURCES': 1..150" >&2; exit 2 ;; esac
[ "$SOURCES" -le 150 ] || { echo "scale.sh: SOURCES=$SOURCES: 1..150" >&2; exit 2; }

. "$here/tests/lab/lablib.sh"

lab_init
lab_net
{
	for k in $(seq 0 $((SOURCES - 1))); do
		echo "addr add 198.18.1.$((100 + k))/24 dev pa"
		echo "addr add 198.18.2.$((100 + k))/24 dev pb"
	done
} | ip -n "$NS_C" -batch - || lab_die "source addresses"
PATHS="198.18.1.100*$SOURCES=$LAB_A_G:$LAB_PORT,198.18.2.100*$SOURCES=$LAB_B_G:$LAB_PORT"
(umask 077; "$JVPN" genkey >"$LAB_DIR/gateway.key")
GW_PUB=$("$JVPN" pubkey <"$LAB_DIR/gateway.key")
"$LOADGEN" --write-peers "$LAB_DIR/peers" -n "$N" --seed "$SEED" || lab_die "loadgen --write-peers"
if grep -qa PeersDir "$JVPN"; then
	peers_src=peersdir
elif [ "$N" -le 1000 ]; then
	peers_src=mainfile
else
	lab_die "N=$N needs PeersDir, which $JVPN does not have (N <= 1000 works without)"
fi

case $STORE in
off) state_dir=off ;;
sqlite) state_dir=$LAB_DIR/state ;;
*) lab_die "STORE=$STORE: off or sqlite" ;;
esac

# gw_conf RATE BURST: the gateway's config for that admission
gw_conf() {
	{
		cat <<EOF
[Interface]
Role = gateway
PrivateKeyFile = $LAB_DIR/gateway.key
Address = $GW_INNER/9
ListenPort = $LAB_PORT
Name = jvg0
NodeId = scale-gateway
ControlSocket = $LAB_DIR/gateway.sock
StateDir = $state_dir
EventLog = $LAB_DIR/gateway.jsonl
MetricsListen = 127.0.0.1:9586
MaxSessions = $N
HandshakesPerSecond = $1
HandshakeBurst = $2
EOF
		[ $peers_src = peersdir ] && echo "PeersDir = $LAB_DIR/peers"
		printf '\n[Policy]\nversion = 1.0\nprofile = fast\n'
		if [ -n "$HEARTBEAT_MS" ]; then
			# the fast profile's detection ratios at a slower beat, the
			# standby probed at a quarter of it
			echo "volatility.heartbeat_interval_ms = $HEARTBEAT_MS"
			echo "volatility.standby_probe_interval_ms = $((4 * HEARTBEAT_MS))"
			echo "volatility.heartbeat_volatile_ms = $((3 * HEARTBEAT_MS))"
			echo "volatility.transport_dead_ms = $((6 * HEARTBEAT_MS))"
			echo "volatility.loss_window_ms = $((HEARTBEAT_MS > 500 ? 2 * HEARTBEAT_MS : 1000))"
		fi
		if [ $peers_src = mainfile ]; then
			for f in "$LAB_DIR"/peers/client-*.conf; do
				echo
				cat "$f"
			done
		fi
	} >"$LAB_DIR/gateway.conf"
}

gw_start() {	# RATE BURST: a fresh gateway (no stored sessions)
	local i=0
	if [ -n "${LAB_GATEWAY_PID:-}" ]; then
		lab_stop_pid "$LAB_GATEWAY_PID" 10
		mv "$LAB_DIR/gateway.log" "$LAB_DIR/gateway-$LAB_GATEWAY_PID.log"
	fi
	rm -rf "$LAB_DIR/state" "$LAB_DIR/gateway.sock"
	gw_conf "$1" "$2"
	lab_start_gateway
	echo "$LAB_GATEWAY_PID" >"$LAB_DIR/gateway.pid"
	# up once its metrics answer (the peers are loaded, the TUN routed)
	until ip netns exec "$NS_G" python3 -c 'import urllib.request
urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5)' 2>/dev/null; do
		kill -0 "$LAB_GATEWAY_PID" 2>/dev/null ||
			lab_die "the gateway ended: $(tail -1 "$LAB_DIR/gateway.log")"
		[ $i -ge 600 ] && lab_die "the gateway's metrics did not answer in 30 s"
		sleep 0.05
		i=$((i + 1))
	done
}

# The mark script loadgen runs at each phase boundary (--mark-cmd): one
# line "RUN PHASE ms cpu_ticks rss_kb udp_rx tun_rx dh cpu_after run_ns
# wait_ns" per call (the last two from /proc/PID/schedstat: time on a
# CPU and time runnable but waiting for one, the measure of how much the
# other loads of the host held the gateway back).  The gateway's CPU is read before and after the scrape, whose
# own cost (the page names every peer) is kept out of the windows.
cat >"$LAB_DIR/mark.sh" <<EOF
#!/bin/bash
pid=\$(cat "$LAB_DIR/gateway.pid")
ms=\$(date +%s%3N)
read -r -a st <"/proc/\$pid/stat"
cpu0=\$((st[13] + st[14]))
rss=\$(awk '/^VmRSS:/ {print \$2}' "/proc/\$pid/status")
c=\$(ip netns exec "$NS_G" python3 -c '
import re, urllib.request
try:
    t = urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=30).read().decode()
except Exception as e:
    t = ""
def v(name, label=""):
    m = re.search("^" + re.escape(name) + r"\{[^}]*" + label + r"[^}]*\} (\S+)$", t, re.M)
    return int(float(m.group(1))) if m else -1
print(v("jvpn_udp_datagrams_total", "receive"), v("jvpn_tun_packets_total", "receive"),
      v("jvpn_handshake_dh_total"))')
read -r -a st <"/proc/\$pid/stat"
read -r run_ns wait_ns _ <"/proc/\$pid/schedstat"
echo "\$RUN \$1 \$ms \$cpu0 \$rss \$c \$((st[13] + st[14])) \$run_ns \$wait_ns" >>"$LAB_DIR/marks.txt"
EOF
chmod +x "$LAB_DIR/mark.sh"
: >"$LAB_DIR/marks.txt"

# mk RUN PHASE FIELD: a field of a mark (ms cpu rss udp_rx tun_rx dh)
mk() {
	local col
	case $3 in ms) col=3 ;; cpu) col=4 ;; rss) col=5 ;; udp_rx) col=6 ;;
		tun_rx) col=7 ;; dh) col=8 ;; cpu_after) col=9 ;; run) col=10 ;;
		wait) col=11 ;; esac
	awk -v r="$1" -v p="$2" -v c=$col '$1 == r && $2 == p { print $c }' \
		"$LAB_DIR/marks.txt" | tail -1
}
fig() {	# FILE NAME
	sed -n "s/^$2=//p" "$1"
}
hz=$(getconf CLK_TCK)
# per_packet RUN: gateway CPU ns per packet handled (udp rx + tun rx)
# over the hold window of RUN; sets PP_NS and PP_RATE (packets/s)
per_packet() {
	local cpu pk ms
	cpu=$(($(mk "$1" hold_end cpu) - $(mk "$1" hold_start cpu_after)))
	pk=$(($(mk "$1" hold_end udp_rx) + $(mk "$1" hold_end tun_rx) -
	      $(mk "$1" hold_start udp_rx) - $(mk "$1" hold_start tun_rx)))
	ms=$(($(mk "$1" hold_end ms) - $(mk "$1" hold_start ms)))
	PP_NS=$(awk -v c="$cpu" -v h="$hz" -v p="$pk" 'BEGIN { printf "%.0f", p ? c * 1e9 / h / p : 0 }')
	PP_RATE=$(awk -v p="$pk" -v m="$ms" 'BEGIN { printf "%.0f", m ? p * 1000 / m : 0 }')
	PP_CPU=$(awk -v c="$cpu" -v h="$hz" -v m="$ms" 'BEGIN { printf "%.0f", m ? c * 100000 / h / m : 0 }')
}

cat >"$LAB_DIR/cut.nft" <<EOF
table inet jvcut_a {
	chain in {
		type filter hook input priority -10;
		ip saddr 198.18.1.0/24 drop
	}
}
EOF
CUT="ip netns exec $NS_C nft -f $LAB_DIR/cut.nft && ip netns exec $NS_G nft -f $LAB_DIR/cut.nft"
RESTORE="ip netns exec $NS_C nft delete table inet jvcut_a; ip netns exec $NS_G nft delete table inet jvcut_a"

# loadgen RUN ARGS...: a loadgen run in the client namespace
loadgen() {
	local run=$1
	shift
	RUN=$run ip netns exec "$NS_C" "$LOADGEN" --gateway-config "$LAB_DIR/gateway.conf" \
		--paths "$PATHS" --seed "$SEED" \
		--mark-cmd "$LAB_DIR/mark.sh" "$@" \
		>"$LAB_DIR/$run.txt" 2>"$LAB_DIR/$run.err"
	local rc=$?
	[ $rc -eq 0 ] || { cat "$LAB_DIR/$run.err" >&2; lab_die "loadgen $run: status $rc"; }
}

echo "jvpn scale benchmark: $N sessions of bench/loadgen on one jvpn gateway, namespace lab, two veth paths, profile fast${HEARTBEAT_MS:+ with a heartbeat of $HEARTBEAT_MS ms}"
echo "peers from $peers_src, session store $STORE; $SOURCES source addresses per path; $(nproc) CPUs, kernel $(uname -r), code $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
echo

# ---- 1. N sessions at the raised admission --------------------------------------
gw_start "$RAISED" "$RAISED"
RUN=base "$LAB_DIR/mark.sh" loaded
pps=$(awk -v t="$PPS_TOTAL" -v n="$N" 'BEGIN { printf "%.6f", t / n }')
loadgen big -n "$N" --rate "$RAISED" --pps "$pps" --hold "$HOLD_S" \
	--settle 15 --setup-timeout "$SETUP_TIMEOUT" --cut-cmd "$CUT" --cut-path 0 --restore-cmd "$RESTORE" \
	--failover-timeout 60
R=$LAB_DIR/big.txt
for p in established hold_start hold_end cut failover_done; do
	[ "$(mk big $p dh)" -ge 0 ] 2>/dev/null || lab_die "no gateway sample at $p (marks.txt: $(tail -1 "$LAB_DIR/marks.txt"))"
done
sessions=$(fig "$R" established)
setup_raised=$(fig "$R" setup_s)
rss0=$(mk base loaded rss)
rss1=$(mk big established rss)
rss_per=$(( (rss1 - rss0) * 1024 / (sessions > 0 ? sessions : 1) ))
per_packet big
pp_n=$PP_NS
rate_n=$PP_RATE
cpu_n=$PP_CPU
hs=$(($(mk big failover_done dh) - $(mk big cut dh)))
# wait_pct RUN FROM TO: % of the time the gateway was runnable but not
# running, between two marks
wait_pct() {
	awk -v r1="$(mk "$1" "$2" run)" -v r2="$(mk "$1" "$3" run)" \
	    -v w1="$(mk "$1" "$2" wait)" -v w2="$(mk "$1" "$3" wait)" \
	    'BEGIN { t = (r2 - r1) + (w2 - w1); printf "%.0f", (t > 0 ? 100 * (w2 - w1) / t : 0) }'
}
wait_setup=0
[ -n "$(mk base loaded wait)" ] && wait_setup=$(awk -v r1="$(mk base loaded run)" -v r2="$(mk big established run)" \
	-v w1="$(mk base loaded wait)" -v w2="$(mk big established wait)" \
	'BEGIN { t = (r2 - r1) + (w2 - w1); printf "%.0f", (t > 0 ? 100 * (w2 - w1) / t : 0) }')
wait_hold=$(wait_pct big hold_start hold_end)
wait_cut=$(wait_pct big cut failover_done)
echo "1. $N sessions, admission $RAISED/s: $sessions established in $setup_raised s ($(fig "$R" refused) refused)"
echo "   the gateway waited for a CPU $wait_setup % of its runnable time in the setup, $wait_hold % in the hold, $wait_cut % in the failover"
echo "   gateway VmRSS $rss0 kB with the peers loaded, $rss1 kB with $sessions sessions"
echo "   echo: $(fig "$R" echo_answered) of $(fig "$R" echo_sent) answered, $(fig "$R" echo_sessions_answered) of $(fig "$R" echo_sessions) sessions got replies"
echo "   hold ${HOLD_S} s: the gateway handled $rate_n packets/s at ${cpu_n} % of a CPU: $pp_n ns per packet"
echo "   cut of path a: $(fig "$R" failover_reattached) of $(fig "$R" failover_sessions) ATTACHED again on b; p50 $(fig "$R" failover_p50_ms) ms, p99 $(fig "$R" failover_p99_ms) ms, max $(fig "$R" failover_max_ms) ms; $(fig "$R" failover_ended) ended; handshakes: gateway $hs, loadgen $(fig "$R" failover_handshakes)"

# ---- 2. one session at the same packet rate -----------------------------------------
# an echo is two packets the gateway reads (udp rx, then the reply from
# its TUN)
pps1=$(( rate_n / 2 > 1 ? rate_n / 2 : 1 ))
# a fresh gateway: the N ended sessions keep their places in its table
# for a while (a new handshake then meets table_full)
gw_start "$RAISED" "$RAISED"
loadgen one -n 1 --rate 1 --pps "$pps1" --hold "$HOLD_S"
per_packet one
pp_1=$PP_NS
rate_1=$PP_RATE
echo "2. one session, $pps1 echo/s: the gateway handled $rate_1 packets/s at ${PP_CPU} % of a CPU: $pp_1 ns per packet"
echo "   echo: $(fig "$LAB_DIR/one.txt" echo_answered) of $(fig "$LAB_DIR/one.txt" echo_sent) answered"

# ---- 3. N sessions at the default admission ------------------------------------------
setup_default=skipped
if [ "$SKIP_DEFAULT" != 1 ]; then
	gw_start 50 100
	loadgen def -n "$N" --rate 100 --pps 0 --hold 0 --settle 20 \
		--setup-timeout $((N / 25 + SETUP_TIMEOUT))
	setup_default=$(fig "$LAB_DIR/def.txt" setup_s)
	echo "3. $N sessions, default admission (50/s): $(fig "$LAB_DIR/def.txt" established) established in $setup_default s"
else
	echo "3. default admission: skipped (SKIP_DEFAULT=1)"
fi
echo

ratio=$(awk -v a="$pp_1" -v b="$pp_n" 'BEGIN { printf "%.2f", a ? b / a : 0 }')
echo "sessions=$sessions"
echo "setup_s_default=$setup_default"
echo "setup_s_raised=$setup_raised"
echo "gw_rss_per_session_bytes=$rss_per"
echo "per_packet_ns_1=$pp_1"
echo "per_packet_ns_$N=$pp_n"
echo "per_packet_ratio=$ratio"
echo "per_packet_rate_1=$rate_1"
echo "per_packet_rate_$N=$rate_n"
echo "mass_failover_sessions=$(fig "$R" failover_sessions)"
echo "mass_failover_reattached=$(fig "$R" failover_reattached)"
echo "mass_failover_p50_ms=$(fig "$R" failover_p50_ms)"
echo "mass_failover_p99_ms=$(fig "$R" failover_p99_ms)"
echo "mass_failover_max_ms=$(fig "$R" failover_max_ms)"
echo "mass_failover_handshakes=$hs"
echo "mass_failover_ended=$(fig "$R" failover_ended)"
echo "gw_cpu_wait_pct_setup=$wait_setup"
echo "gw_cpu_wait_pct_hold=$wait_hold"
echo "gw_cpu_wait_pct_failover=$wait_cut"
