# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The namespace lab, as a bash library for `jvpn lab`, the integration
# tests (tests/lab/*.sh) and bench/failover.sh.  Root only.
#
#   client namespace  ---- path a: veth "pa", 198.18.1.2 <-> 198.18.1.1 ----  gateway namespace
#   ($LAB_ID-c)       ---- path b: veth "pb", 198.18.2.2 <-> 198.18.2.1 ----  ($LAB_ID-g)
#   tunnel: client 198.19.0.2/24 <-> gateway 198.19.0.1/24 (TUN jvc0 / jvg0)
#
# Every address is in 198.18.0.0/15 (RFC 2544, benchmarking) and lives only
# inside the two namespaces, so the host's own networks are never touched.
# lab_init installs a trap: whatever way the script ends (error, SIGINT,
# SIGTERM), lab_cleanup stops what the lab started (by pid) and deletes the
# namespaces, which takes the veths, TUNs, routes and nftables rules with
# them.
#
# Needs: JVPN (the jvpn binary), ip, nft, ping, python3; tc for lab_rate.

LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABTOOL="python3 $LAB_HERE/labtool.py"

LAB_A_C=198.18.1.2
LAB_A_G=198.18.1.1
LAB_B_C=198.18.2.2
LAB_B_G=198.18.2.1
LAB_TUN_C=198.19.0.2
LAB_TUN_G=198.19.0.1
LAB_PORT=51820
LAB_PORT_A=40001	# the client's source port on path a
LAB_PORT_B=40002

LAB_PIDS=()
LAB_EXTRA_NS=()		# namespaces beyond NS_C and NS_G (clusterlib.sh)
LAB_CLEANED=0

lab_log() {
	printf '%s\n' "$*" >&2
}

lab_die() {
	lab_log "lab: $*"
	exit 1
}

# lab_init [ID]: namespaces names, a private directory, the cleanup trap.
lab_init() {
	[ "$(id -u)" -eq 0 ] || lab_die "the lab needs root (network namespaces, TUN)"
	[ -x "${JVPN:-}" ] || lab_die "JVPN is not set to the jvpn binary"
	for t in ip nft ping python3; do
		command -v "$t" >/dev/null 2>&1 || lab_die "missing tool: $t"
	done
	LAB_ID=${1:-jvl$$}
	NS_C=$LAB_ID-c
	NS_G=$LAB_ID-g
	LAB_DIR=$(mktemp -d /tmp/jvpn-lab.XXXXXX)
	trap lab_cleanup EXIT
	trap 'lab_log "lab: interrupted"; exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# Remember a background process of ours, to end it at cleanup.
lab_track() {
	LAB_PIDS+=("$1")
}

lab_stop_pid() {	# pid [timeout_s]: TERM, wait, then KILL
	local pid=$1 t=${2:-5} i=0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $((t * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		lab_log "lab: pid $pid did not stop in ${t}s: killed"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

lab_cleanup() {
	local rc=$?
	[ "$LAB_CLEANED" = 1 ] && return
	LAB_CLEANED=1
	trap - INT TERM HUP
	# daemons first (they remove their TUN and routes), then the rest
	[ -n "${LAB_CLIENT_PID:-}" ] && lab_stop_pid "$LAB_CLIENT_PID" 5
	[ -n "${LAB_GATEWAY_PID:-}" ] && lab_stop_pid "$LAB_GATEWAY_PID" 5
	for pid in "${LAB_PIDS[@]}"; do
		lab_stop_pid "$pid" 2
	done
	[ -n "${NS_C:-}" ] && ip netns del "$NS_C" 2>/dev/null
	[ -n "${NS_G:-}" ] && ip netns del "$NS_G" 2>/dev/null
	for ns in "${LAB_EXTRA_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ]; then
		if [ "${LAB_KEEP:-0}" = 1 ]; then
			lab_log "lab: files kept in $LAB_DIR"
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	return $rc
}

# Two namespaces, two veth paths, addresses, loopback up.
lab_net() {
	ip netns add "$NS_G" || lab_die "cannot create namespace $NS_G"
	ip netns add "$NS_C" || lab_die "cannot create namespace $NS_C"
	ip -n "$NS_C" link add pa type veth peer name pa netns "$NS_G" || lab_die "veth pa"
	ip -n "$NS_C" link add pb type veth peer name pb netns "$NS_G" || lab_die "veth pb"
	ip -n "$NS_C" addr add $LAB_A_C/24 dev pa
	ip -n "$NS_C" addr add $LAB_B_C/24 dev pb
	ip -n "$NS_G" addr add $LAB_A_G/24 dev pa
	ip -n "$NS_G" addr add $LAB_B_G/24 dev pb
	for ns in "$NS_C" "$NS_G"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set pa up
		ip -n "$ns" link set pb up
	done
}

lab_keys() {
	(umask 077
	 "$JVPN" genkey >"$LAB_DIR/gateway.key"
	 "$JVPN" genkey >"$LAB_DIR/client.key")
	LAB_GW_PUB=$("$JVPN" pubkey <"$LAB_DIR/gateway.key")
	LAB_CL_PUB=$("$JVPN" pubkey <"$LAB_DIR/client.key")
}

# lab_configs [POLICY_LINE...]: both configs; the policy lines (default:
# the fast profile) go into both [Policy] sections.
lab_configs() {
	local pol
	if [ $# -gt 0 ]; then
		pol=$(printf '%s\n' "$@")
	else
		pol=$(printf 'version = 1.0\nprofile = fast\n')
	fi
	(umask 077
	cat >"$LAB_DIR/gateway.conf" <<EOF
[Interface]
Role = gateway
PrivateKeyFile = $LAB_DIR/gateway.key
Address = $LAB_TUN_G/24
ListenPort = $LAB_PORT
Name = jvg0
NodeId = lab-gateway
EventLog = $LAB_DIR/gateway.jsonl
ControlSocket = $LAB_DIR/gateway.sock
StateDir = $LAB_DIR/state

[Peer]
PublicKey = $LAB_CL_PUB
AllowedIPs = $LAB_TUN_C/32

[Policy]
$pol
EOF
	cat >"$LAB_DIR/client.conf" <<EOF
[Interface]
Role = client
PrivateKeyFile = $LAB_DIR/client.key
Address = $LAB_TUN_C/24
Name = jvc0
NodeId = lab-client
EventLog = $LAB_DIR/client.jsonl
ControlSocket = $LAB_DIR/client.sock

[Peer]
PublicKey = $LAB_GW_PUB
AllowedIPs = 198.19.0.0/24

[Transport]
Name = a
Bind = $LAB_A_C:$LAB_PORT_A
Endpoint = $LAB_A_G:$LAB_PORT
Priority = 0

[Transport]
Name = b
Bind = $LAB_B_C:$LAB_PORT_B
Endpoint = $LAB_B_G:$LAB_PORT
Priority = 1

[Policy]
$pol
EOF
	)
}

lab_start_gateway() {
	ip netns exec "$NS_G" "$JVPN" up "$LAB_DIR/gateway.conf" \
		2>"$LAB_DIR/gateway.log" &
	LAB_GATEWAY_PID=$!
	lab_wait_socket "$LAB_DIR/gateway.sock" gateway
}

# lab_crash_gateway: kill -9 of the gateway (LAB_KILL_MS: when).
lab_crash_gateway() {
	LAB_KILL_MS=$(lab_now)
	kill -9 "$LAB_GATEWAY_PID"
	wait "$LAB_GATEWAY_PID" 2>/dev/null
}

# lab_restart_gateway: the same config started again, its log continued
# (LAB_START_MS: when the process starts).
lab_restart_gateway() {
	rm -f "$LAB_DIR/gateway.sock"
	LAB_START_MS=$(lab_now)
	ip netns exec "$NS_G" "$JVPN" up "$LAB_DIR/gateway.conf" \
		2>>"$LAB_DIR/gateway.log" &
	LAB_GATEWAY_PID=$!
	lab_wait_socket "$LAB_DIR/gateway.sock" gateway
}

lab_start_client() {
	ip netns exec "$NS_C" "$JVPN" up "$LAB_DIR/client.conf" \
		2>"$LAB_DIR/client.log" &
	LAB_CLIENT_PID=$!
	lab_wait_socket "$LAB_DIR/client.sock" client
}

lab_wait_socket() {	# path side
	local i=0
	while [ ! -S "$1" ]; do
		if [ $i -ge 100 ]; then
			cat "$LAB_DIR/$2.log" >&2
			lab_die "the $2 did not start"
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# lab_status SIDE: the daemon's status JSON on stdout.
lab_status() {
	"$JVPN" status --json --socket "$LAB_DIR/$1.sock" 2>/dev/null
}

# lab_field SIDE PATH: one field of the status (e.g. session.state).
lab_field() {
	lab_status "$1" | $LABTOOL get "$2" 2>/dev/null
}

# lab_wait_field SIDE PATH VALUE TIMEOUT_S: poll until equal; 1 on timeout.
lab_wait_field() {
	local i=0 v
	while [ $i -lt $(($4 * 20)) ]; do
		v=$(lab_field "$1" "$2")
		[ "$v" = "$3" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	lab_log "lab: $1 $2 is '$v', not '$3', after $4 s"
	return 1
}

# Which transport the client is bound to: a, b or "".
lab_bound() {
	lab_field client session.bound_transport
}

# ---- fault injection ---------------------------------------------------------

lab_peer_net() {	# path -> the network the *other* side's packets come from
	case $1 in
	a) echo 198.18.1.0/24 ;;
	b) echo 198.18.2.0/24 ;;
	*) lab_die "no path '$1' (a or b)" ;;
	esac
}

# Cut a path silently: both ends drop what arrives from the other on that
# path (input hook), so no sender gets an error, as with a dead middlebox.
lab_cut() {
	local net
	net=$(lab_peer_net "$1")
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" nft -f - <<EOF || lab_die "nft cut $1"
table inet jvcut_$1 {
	chain in {
		type filter hook input priority -10;
		ip saddr $net drop
	}
}
EOF
	done
}

lab_restore() {
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" nft delete table inet "jvcut_$1" 2>/dev/null
	done
	return 0
}

# Cut by link state instead: the client sees the error at once.
lab_link() {	# path up|down
	ip -n "$NS_C" link set "p$1" "$2"
}

# Random loss of PCT % in both directions (nftables numgen).
lab_loss() {	# path pct
	local net
	net=$(lab_peer_net "$1")
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" nft -f - <<EOF || lab_die "nft loss $1"
table inet jvloss_$1 {
	chain in {
		type filter hook input priority -5;
		ip saddr $net numgen random mod 100 < $2 drop
	}
}
EOF
	done
}

lab_clear_loss() {
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" nft delete table inet "jvloss_$1" 2>/dev/null
	done
	return 0
}

# Bandwidth cap on both ends of a path (token bucket filter).
lab_rate() {	# path rate (e.g. 10mbit)
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" tc qdisc replace dev "p$1" root tbf rate "$2" \
			burst 32kbit latency 50ms || lab_die "tc tbf $1"
	done
}

lab_clear_rate() {
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" tc qdisc del dev "p$1" root 2>/dev/null
	done
	return 0
}

# NAT rebinding on path a: from now on the gateway sees the client's
# datagrams on that path coming from source port NEWPORT, as when a NAT
# box drops its mapping and makes a new one.  Stateless nftables rewrite
# in the client namespace (out: source port; back: destination port), so
# it takes effect on the very next datagram.
lab_nat_rebind() {	# newport
	ip netns exec "$NS_C" nft -f - <<EOF || lab_die "nft rebinding"
table ip jvnat {
	chain out {
		type filter hook output priority -300;
		ip daddr $LAB_A_G udp sport $LAB_PORT_A udp sport set $1
	}
	chain pre {
		type filter hook prerouting priority -300;
		ip saddr $LAB_A_G udp dport $1 udp dport set $LAB_PORT_A
	}
}
EOF
}

# ---- traffic -------------------------------------------------------------------

# lab_ping COUNT INTERVAL_S OUTFILE: ping through the tunnel in the
# background (timestamps with -D); sets LAB_PING_PID.
lab_ping() {
	ip netns exec "$NS_C" ping -D -n -i "$2" -c "$1" -W 1 $LAB_TUN_G >"$3" 2>&1 &
	LAB_PING_PID=$!
	lab_track "$LAB_PING_PID"
}

# lab_tcp SECONDS RATE_BPS [NAME]: one TCP connection client -> gateway
# through the tunnel; sets LAB_TCP_SRC_PID, LAB_TCP_SINK_PID; the arrival
# record goes to $LAB_DIR/NAME.json (default tcp) when the sink ends.
lab_tcp() {
	LAB_TCP_NAME=${3:-tcp}
	rm -f "$LAB_DIR/$LAB_TCP_NAME.json"
	ip netns exec "$NS_G" $LABTOOL tcp-sink 5001 "$LAB_DIR/$LAB_TCP_NAME.json" &
	LAB_TCP_SINK_PID=$!
	lab_track "$LAB_TCP_SINK_PID"
	local i=0
	while ! ip netns exec "$NS_G" ss -Hltn 'sport = :5001' | grep -q 5001; do
		[ $i -ge 100 ] && lab_die "TCP sink did not start"
		sleep 0.05
		i=$((i + 1))
	done
	ip netns exec "$NS_C" $LABTOOL tcp-source $LAB_TUN_G 5001 "$1" "$2" \
		2>"$LAB_DIR/$LAB_TCP_NAME-source.err" &
	LAB_TCP_SRC_PID=$!
	lab_track "$LAB_TCP_SRC_PID"
}

# Wait for the TCP stream to end; LAB_TCP_RESULT = eof / reset / ...
# (not in a $(...) subshell: it waits for our children).  1 if not eof.
lab_tcp_wait() {
	local rc=0 rec=$LAB_DIR/$LAB_TCP_NAME.json
	wait "$LAB_TCP_SRC_PID" || rc=1
	wait "$LAB_TCP_SINK_PID" 2>/dev/null
	if [ -f "$rec" ]; then
		LAB_TCP_RESULT=$($LABTOOL tcp-result "$rec")
	else
		LAB_TCP_RESULT=no-record
	fi
	[ "$LAB_TCP_RESULT" = eof ] || rc=1
	[ -s "$LAB_DIR/$LAB_TCP_NAME-source.err" ] &&
		cat "$LAB_DIR/$LAB_TCP_NAME-source.err" >&2
	return $rc
}

# Stop both daemons (SIGTERM, the clean path) and check their logs for
# sanitizer reports (ASan, UBSan: the san build runs the lab too).
# Prints the first report line; 1 if there is one.
lab_stop_daemons() {
	[ -n "${LAB_CLIENT_PID:-}" ] && lab_stop_pid "$LAB_CLIENT_PID" 5
	[ -n "${LAB_GATEWAY_PID:-}" ] && lab_stop_pid "$LAB_GATEWAY_PID" 5
	LAB_CLIENT_PID=
	LAB_GATEWAY_PID=
	local bad
	bad=$(grep -hE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
		"$LAB_DIR"/client.log "$LAB_DIR"/gateway.log 2>/dev/null | head -1)
	[ -z "$bad" ] && return 0
	echo "$bad"
	return 1
}

lab_now() {
	$LABTOOL now
}

lab_count() {	# side event_type
	$LABTOOL count "$LAB_DIR/$1.jsonl" "$2"
}

# ---- flapping schedules (tests/lab/flap_test.sh, bench/flap.sh) ----------------

# lab_ms: wall-clock milliseconds, the clock of the event logs and of
# lab_now, without starting a process (bash's EPOCHREALTIME).
lab_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((10#$t / 1000))
}

# lab_sleep_until T_MS: sleep until wall-clock T_MS (at once if past), so
# that a fault schedule keeps to its times whatever each step costs.
lab_sleep_until() {
	local d=$(($1 - $(lab_ms)))
	[ $d -gt 0 ] || return 0
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
}

# lab_flap_alternate SECONDS DEAD_MS GAP_MS: a, then b, then a ... die
# silently (lab_cut) for DEAD_MS each, the next path dying GAP_MS after
# the previous one came back, for SECONDS (every cut ends in time);
# foreground.  Sets LAB_FLAP_START (ms), LAB_FLAP_CUTS (count) and
# LAB_FLAP_MARKS ("T:cut a" ... for labtool timeline --mark=).
lab_flap_alternate() {
	local end t p=a
	LAB_FLAP_START=$(lab_ms)
	LAB_FLAP_CUTS=0
	LAB_FLAP_MARKS=()
	end=$((LAB_FLAP_START + $1 * 1000))
	t=$LAB_FLAP_START
	while [ $((t + $2)) -le "$end" ]; do
		lab_sleep_until "$t"
		LAB_FLAP_MARKS+=("$(lab_ms):cut $p")
		lab_cut "$p"
		LAB_FLAP_CUTS=$((LAB_FLAP_CUTS + 1))
		lab_sleep_until $((t + $2))
		lab_restore "$p"
		LAB_FLAP_MARKS+=("$(lab_ms):restore $p")
		t=$(($(lab_ms) + $3))
		if [ $p = a ]; then p=b; else p=a; fi
	done
	lab_sleep_until "$end"
}

# lab_bound_now: the transport the client is bound to, from its status or,
# while the status names none (RECOVERING), from the last TransportSwitch
# or TransportAttached in its event log; "" if neither says.
lab_bound_now() {
	local b
	b=$(lab_bound)
	if [ -z "$b" ]; then
		b=$(lab_select client 'event_type=TransportSwitch|TransportAttached' \
			--print=new_transport,transport_id | tail -1 | tr -d ' -')
	fi
	echo "$b"
}

# lab_flap_loss SECONDS PERIOD_S PCT: PCT % random loss (lab_loss) on
# whichever path the client is bound to at that moment, switched on for
# PERIOD_S and off for PERIOD_S, for SECONDS; foreground.  Sets
# LAB_FLAP_START, LAB_FLAP_CUTS (loss phases) and LAB_FLAP_MARKS.
lab_flap_loss() {
	local end t p
	LAB_FLAP_START=$(lab_ms)
	LAB_FLAP_CUTS=0
	LAB_FLAP_MARKS=()
	end=$((LAB_FLAP_START + $1 * 1000))
	t=$LAB_FLAP_START
	while [ $((t + $2 * 1000)) -le "$end" ]; do
		lab_sleep_until "$t"
		p=$(lab_bound_now)
		case $p in a|b) ;; *) p=a ;; esac
		LAB_FLAP_MARKS+=("$(lab_ms):loss $3% on $p")
		lab_loss "$p" "$3"
		LAB_FLAP_CUTS=$((LAB_FLAP_CUTS + 1))
		lab_sleep_until $((t + $2 * 1000))
		lab_clear_loss "$p"
		LAB_FLAP_MARKS+=("$(lab_ms):loss off $p")
		t=$((t + 2 * $2 * 1000))
	done
	lab_sleep_until "$end"
}

# lab_select SIDE ARGS...: labtool select over that side's event log.
lab_select() {
	local side=$1
	shift
	$LABTOOL select "$LAB_DIR/$side.jsonl" "$@"
}

# lab_tcp_wait_until T_MS: lab_tcp_wait with a deadline (wall-clock ms):
# a stream still open then is stopped and LAB_TCP_RESULT says "stalled";
# 1 if not eof.  (Not in a $(...) subshell: it waits for our children.)
lab_tcp_wait_until() {
	while kill -0 "$LAB_TCP_SRC_PID" 2>/dev/null && [ "$(lab_ms)" -lt "$1" ]; do
		sleep 0.1
	done
	if kill -0 "$LAB_TCP_SRC_PID" 2>/dev/null; then
		lab_stop_pid "$LAB_TCP_SRC_PID" 2
		lab_stop_pid "$LAB_TCP_SINK_PID" 2
		LAB_TCP_RESULT="stalled (not closed by the deadline)"
		return 1
	fi
	# the source is done: the sink gets the close at once, or never
	local end=$(($(lab_ms) + 5000))
	while kill -0 "$LAB_TCP_SINK_PID" 2>/dev/null && [ "$(lab_ms)" -lt $end ]; do
		sleep 0.1
	done
	lab_stop_pid "$LAB_TCP_SINK_PID" 2
	lab_tcp_wait
}
