#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/gateway_loss.sh [BUILD_DIR] (root): what the tunnel does when its
# gateway process dies (spec PD-9), jvpn beside wireguard-go and OpenVPN
# 2.6 in the same run.  Not a test: it measures and prints.
#
#  1. jvpn, one gateway (lab of tests/lab/lablib.sh, `fast` profile, the
#     session store under StateDir), RUNS times (default 5), each with a
#     fresh session: a 20 Hz ping and one TCP connection (2 MB/s) through
#     the tunnel, kill -9 of the gateway, the same config started again
#     1 s later.  Per run: the time from the start of the restarted
#     process to the first ping answered through it, the ping outage, the
#     client's session id before and after, SessionCreated beyond the
#     first on either side, the TCP connection's end (eof or not), and
#     `jvpn audit` of both logs.
#  2. wireguard-go and OpenVPN (set up as bench/peers.sh does, from
#     bench/peerlib.sh) in the same two namespaces, once each: the same
#     kill -9 of the server process and restart 1 s later with the same
#     configuration; the recovery is capped at 60 s.
#  3. jvpn, two gateway nodes over a 3-member etcd cluster (the lab of
#     tests/lab/clusterlib.sh, OwnerLeaseMs 2000): RUNS cycles, each with
#     a fresh session (INV-08's 8 switches a minute would otherwise slow
#     the later cycles down), of kill -9 of the owning node (the other
#     takes the session over), the killed node started again, then the new
#     owner partitioned from etcd (it fails closed, the first takes the
#     session back), healed.  The ping outage of each, the time to the
#     takeover, and `jvpn audit --json` of the merged logs of the
#     client and both nodes: violations of INV-15 (owner intervals overlap)
#     and INV-16 (one state_version committed twice), i.e. dual-active.
#
# Environment: RUNS (default 5: jvpn restarts and cluster cycles),
# PEERS (default "wggo openvpn"), CLUSTER (default 1; 0 skips part 3).
# Missing tools are installed from Debian (apt-get, no recommends).
# Everything runs in namespaces made here; the lab's trap stops every
# process it started (by pid) and deletes them on every exit path, Ctrl-C
# included.  About 2.5 minutes with the defaults.
# Ends with name=value lines; "-" where a figure could not be measured.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/peerlib.sh"
peer_build "${1:-build}"

RUNS=${RUNS:-5}
PEERS=${PEERS-wggo openvpn}
CLUSTER=${CLUSTER:-1}
CAP_S=60		# peers: how long to wait for the first answer
TCP_RATE=2000000

want nft nftables
case " $PEERS " in *" wggo "*) want wireguard-go wireguard-go; want wg wireguard-tools ;; esac
case " $PEERS " in *" openvpn "*) want openvpn openvpn; want openssl openssl ;; esac
[ "$CLUSTER" = 1 ] && { want etcd etcd-server; want etcdctl etcd-client; }
peer_install

. "$here/tests/lab/lablib.sh"
. "$here/tests/lab/clusterlib.sh"

peer_init	# lab_init, the peers' names, their cleanup (bench/peerlib.sh)

# ---- helpers -------------------------------------------------------------------

# ping_start DEST FILE: 20 Hz ping from the client namespace (-D stamps):
# lablib's lab_ping, aimed at DEST (LAB_TUN_G for that call only).
ping_start() {
	LAB_TUN_G=$1 lab_ping 5000 0.05 "$2"
	PING_PID=$LAB_PING_PID
}

# wait_reply FILE T_MS CAP_S: ms from T_MS to the first reply after it
# (labtool first-reply-after), polled until CAP_S s have passed; or "-".
wait_reply() {
	local end=$((SECONDS + $3 + 1)) g
	while :; do
		g=$($LABTOOL first-reply-after "$1" "$2")
		[ "$g" != - ] && break
		[ $SECONDS -ge $end ] && break
		sleep 0.1
	done
	echo "$g"
}

# outage FILE T_MS: the first run of lost pings recovered after T_MS, from
# the send time of its first lost ping to the first reply (labtool gaps).
outage() {
	local g
	g=$($LABTOOL gaps "$1" 50 "$2" | head -1 | cut -d' ' -f4)
	echo "${g:--}"
}

# tcp_start DEST SECONDS NAME: one TCP connection client -> gateway
# through the tunnel, TCP_RATE bytes/s: lablib's lab_tcp, aimed at DEST.
tcp_start() {
	LAB_TUN_G=$1 lab_tcp "$2" $TCP_RATE "$3"
	TCP_NAME=$LAB_TCP_NAME TCP_SRC=$LAB_TCP_SRC_PID TCP_SINK=$LAB_TCP_SINK_PID
}

# tcp_end DEADLINE_S: wait for the connection to end; TCP_RESULT is eof
# (every byte delivered, closed cleanly), reset, ... or stalled.
tcp_end() {
	local end=$((SECONDS + $1))
	while kill -0 "$TCP_SRC" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.1
	done
	if kill -0 "$TCP_SRC" 2>/dev/null; then
		lab_stop_pid "$TCP_SRC" 2
		lab_stop_pid "$TCP_SINK" 2
		TCP_RESULT="stalled (not closed within $1 s)"
		return
	fi
	wait "$TCP_SRC" 2>/dev/null
	end=$((SECONDS + 5))
	while kill -0 "$TCP_SINK" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.1
	done
	lab_stop_pid "$TCP_SINK" 2
	if [ -f "$LAB_DIR/$TCP_NAME.json" ]; then
		TCP_RESULT=$($LABTOOL tcp-result "$LAB_DIR/$TCP_NAME.json")
	else
		TCP_RESULT=no-record
	fi
	[ -s "$LAB_DIR/$TCP_NAME-source.err" ] &&
		TCP_RESULT="$TCP_RESULT ($(head -1 "$LAB_DIR/$TCP_NAME-source.err"))"
}

yesno() { [ "$1" = 1 ] && echo yes || echo no; }

# client_sid: the client's session id from its status (jvpn status --json),
# tried for up to 2 s; a failed read is kept in status.err and said.
client_sid() {
	local i s
	for i in $(seq 1 20); do
		s=$("$JVPN" status --json --socket "$LAB_DIR/client.sock" 2>>"$LAB_DIR/status.err" |
			$LABTOOL get session.session_id 2>>"$LAB_DIR/status.err")
		[ -n "$s" ] && { echo "$s"; return 0; }
		sleep 0.1
	done
	echo "   (could not read the client's session id: $(tail -1 "$LAB_DIR/status.err"))" >&2
	echo unknown
}

echo "gateway loss: kill -9 of the gateway process under traffic, restarted 1 s later"
echo "  jvpn: $JVPN (built $(date -r "$JVPN" '+%F %T')); this script's tree:" \
	"$(git -C "$here" describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "  $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

lab_net
lab_keys

# ---- 1. jvpn, one gateway, restart ------------------------------------------------
echo "1. jvpn, one gateway (lab: two namespaces, paths a and b; policy profile fast;"
echo "   session store: SQLite under StateDir), $RUNS run(s), a fresh session each:"
echo "   20 Hz ping and one TCP connection (2 MB/s for 5 s) through the tunnel;"
echo "   1.5 s in, kill -9 of the gateway; 1 s later the same config started again"
lab_configs
gaps=() outages=() same=1 hs_total=0 tcp_ok=1 audit_ok=0
printf '   %3s  %10s  %9s  %-8s  %10s  %-9s  %s\n' run restart_ms outage_ms session handshakes tcp audit
for i in $(seq 1 "$RUNS"); do
	rm -rf "$LAB_DIR/state" "$LAB_DIR/client.jsonl" "$LAB_DIR/gateway.jsonl"
	lab_start_gateway
	lab_start_client
	if ! lab_wait_field client session.state ATTACHED 10; then
		printf '   %3d  no session within 10 s\n' "$i"
		same=0 tcp_ok=0
		lab_stop_daemons >/dev/null
		continue
	fi
	sid=$(client_sid)
	ping_start $LAB_TUN_G "$LAB_DIR/jv$i-ping.txt"
	tcp_start $LAB_TUN_G 5 "jv$i-tcp"
	sleep 1.5
	lab_crash_gateway
	tkill=$LAB_KILL_MS
	sleep 1
	lab_restart_gateway
	tstart=$LAB_START_MS
	gap=$(wait_reply "$LAB_DIR/jv$i-ping.txt" "$tstart" 10)
	tcp_end 30
	lab_stop_pid "$PING_PID" 2
	out=$(outage "$LAB_DIR/jv$i-ping.txt" "$tkill")
	sid2=$(client_sid)
	hs=$(( $(lab_count client SessionCreated) - 1 + $(lab_count gateway SessionCreated) - 1 ))
	hs_total=$((hs_total + hs))
	if [ "$sid" = unknown ] || [ "$sid2" = unknown ]; then s=unknown same=0
	elif [ "$sid" = "$sid2" ]; then s=same; else s=CHANGED same=0; fi
	[ "$TCP_RESULT" = eof ] || tcp_ok=0
	if "$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/client.jsonl" \
		"$LAB_DIR/gateway.jsonl" >"$LAB_DIR/jv$i-audit.txt" 2>&1; then
		a=PASS
		audit_ok=$((audit_ok + 1))
	else
		a=FAIL
	fi
	gaps+=("$gap")
	outages+=("$out")
	printf '   %3d  %10s  %9s  %-8s  %10s  %-9s  %s\n' "$i" "$gap" "$out" "$s" "$hs" "$TCP_RESULT" "$a"
	[ $a = FAIL ] && sed 's/^/        /' "$LAB_DIR/jv$i-audit.txt" | head -5
	lab_stop_daemons >/dev/null
	for f in client.jsonl gateway.jsonl gateway.log client.log; do
		mv "$LAB_DIR/$f" "$LAB_DIR/jv$i-$f" 2>/dev/null
	done
done
restart_gap=$($LABTOOL median "${gaps[@]}")
restart_max=-
for g in "${gaps[@]}"; do
	[ "$g" = - ] && { restart_max=-; break; }
	{ [ "$restart_max" = - ] || [ "$g" -gt "$restart_max" ]; } && restart_max=$g
done
restart_outage=$($LABTOOL median "${outages[@]}")
[ ${#gaps[@]} -eq 0 ] && { same=0; tcp_ok=0; }
echo "   restart_ms: from the start of the restarted gateway process to the first ping"
echo "   answered through it; outage_ms: from the first lost ping to the first answered one;"
echo "   handshakes: SessionCreated beyond the first, client + gateway (the gateway's event log"
echo "   continues across the restart); tcp: how the connection spanning the kill ended."
echo "   median restart $restart_gap ms (max $restart_max), median outage $restart_outage ms;" \
	"jvpn audit passed on $audit_ok of $RUNS run(s)"
echo

# ---- 2. the peers -----------------------------------------------------------------

# peer_restart NAME DEST PING_FILE KILL_PID RESTART_FN: under a 20 Hz ping
# and one TCP connection, kill -9 the server, RESTART_FN 1 s later; sets
# P_GAP, P_OUT (ms or -), P_TCP (TCP_RESULT), P_TKILL, P_TSTART.
peer_restart() {
	local name=$1 dest=$2 pf=$3
	ping_start "$dest" "$pf"
	tcp_start "$dest" 5 "$name-tcp"
	sleep 1.5
	P_TKILL=$(lab_now)
	kill -9 "$4"
	wait "$4" 2>/dev/null
	sleep 1
	P_TSTART=$(lab_now)
	"$5" || echo "   the restarted server did not start"
	P_GAP=$(wait_reply "$pf" "$P_TSTART" $CAP_S)
	# the TCP connection: up to 45 s more (retransmission backoff)
	tcp_end 45
	lab_stop_pid "$PING_PID" 2
	P_OUT=$(outage "$pf" "$P_TKILL")
	P_TCP=$TCP_RESULT
}

peer_report() {	# label
	if [ "$P_GAP" = - ]; then
		echo "   NOT recovered: no ping answered within $CAP_S s of the restart (reported as $((CAP_S * 1000)) ms)"
		P_GAP=$((CAP_S * 1000))
	else
		echo "   first ping answered $P_GAP ms after the restart (outage $P_OUT ms from the first lost ping)"
	fi
	echo "   TCP connection spanning the kill: $P_TCP"
}

wg_gap=- wg_out=- wg_tcp=- wg_hs=-
if wanted wggo; then
echo "2a. wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null) (user space, TUN), set up as bench/peers.sh:"
echo "   one peer, endpoint $LAB_A_G:$WG_PORT on path a, no persistent-keepalive (wireguard-go's"
echo "   fixed timers: a new handshake when data sent gets no answer for 15 s, i.e."
echo "   keepalive-timeout 10 s + rekey-timeout 5 s); kill -9 of the gateway's wireguard-go,"
echo "   the same key, port, peer and address 1 s later"
wg_server() {	# the gateway side, from its config file; WG_G_PID
	wg_start "$NS_G" "$WG_G" || return 1
	WG_G_PID=$WG_PID
	wg_conf_server
}
if ! command -v wireguard-go >/dev/null || ! command -v wg >/dev/null; then
	echo "   not measured: wireguard-go or wg is missing and could not be installed"
else
	wg_keys
	if wg_server && wg_start "$NS_C" "$WG_C" && wg_conf_client &&
		t0=$(lab_now) && ping_start $WG_TUN_G "$LAB_DIR/wg-up.txt" &&
		[ "$(wait_reply "$LAB_DIR/wg-up.txt" "$t0" 10)" != - ]; then
		lab_stop_pid "$PING_PID" 2
		hs0=$(ip netns exec "$NS_C" wg show "$WG_C" latest-handshakes | cut -f2)
		peer_restart wg $WG_TUN_G "$LAB_DIR/wg-ping.txt" "$WG_G_PID" wg_server
		hs1=$(ip netns exec "$NS_C" wg show "$WG_C" latest-handshakes | cut -f2)
		peer_report
		wg_gap=$P_GAP wg_out=$P_OUT
		[ "${P_TCP%% *}" = eof ] && wg_tcp=yes || wg_tcp=no
		if [ -n "$hs1" ] && [ "$hs1" != 0 ] && [ "$hs1" != "$hs0" ]; then
			wg_hs=yes
		else
			wg_hs=no
		fi
		echo "   client's latest handshake before the kill: $hs0, after: $hs1 (new handshake: $wg_hs)"
	else
		echo "   not measured: the wireguard-go tunnel did not come up; its logs:"
		cat "$LAB_DIR/$WG_G.log" "$LAB_DIR/$WG_C.log" 2>/dev/null | sed 's/^/     /'
	fi
fi
for p in "${LAB_PIDS[@]}"; do lab_stop_pid "$p" 2; done
echo
fi

ov_gap=- ov_out=- ov_tcp=- ov_hs=-
if wanted openvpn; then
ovdir=$LAB_DIR/ovpn
echo "2b. OpenVPN $(openvpn --version 2>/dev/null | head -1 | cut -d' ' -f2), set up as bench/peers.sh: UDP, TLS (a CA made here),"
echo "   tls-crypt, server mode; client with remote $LAB_A_G then $LAB_B_G, keepalive 1 5"
echo "   (ping every 1 s, ping-restart after 5 s of silence), persist-tun, persist-key,"
echo "   its address pinned by client-config-dir, disable-dco; kill -9 of the server,"
echo "   the same config 1 s later"
ov_server() {	# OV_G_PID; the log of each start apart
	OV_N=$((${OV_N:-0} + 1))
	ip netns exec "$NS_G" openvpn --config "$ovdir/server.conf" \
		--log "$ovdir/server$OV_N.log" &
	OV_G_PID=$!
	lab_track $OV_G_PID
}
if ! command -v openvpn >/dev/null || ! command -v openssl >/dev/null; then
	echo "   not measured: openvpn or openssl is missing and could not be installed"
elif ! ov_pki; then
	echo "   not measured: generating the CA and certificates with openssl failed"
else
	ov_server
	sleep 0.5
	ov_client
	t0=$(lab_now)
	ping_start $OV_TUN_G "$LAB_DIR/ov-up.txt"
	if [ "$(wait_reply "$LAB_DIR/ov-up.txt" "$t0" 10)" != - ]; then
		lab_stop_pid "$PING_PID" 2
		n0=$(ov_count "$ovdir/client.log" 'Peer Connection Initiated')
		peer_restart ov $OV_TUN_G "$LAB_DIR/ov-ping.txt" "$OV_G_PID" ov_server
		n1=$(ov_count "$ovdir/client.log" 'Peer Connection Initiated')
		pr=$(ov_count "$ovdir/client.log" 'SIGUSR1\[soft,ping-restart\]')
		peer_report
		ov_gap=$P_GAP ov_out=$P_OUT
		[ "${P_TCP%% *}" = eof ] && ov_tcp=yes || ov_tcp=no
		[ "$n1" -gt "$n0" ] && ov_hs=yes || ov_hs=no
		echo "   client: $pr ping-restart(s), $((n1 - n0)) new TLS session(s) after the kill (new handshake: $ov_hs)"
	else
		lab_stop_pid "$PING_PID" 2
		echo "   not measured: the OpenVPN tunnel did not pass a ping; the end of the client's log:"
		tail -10 "$ovdir/client.log" 2>/dev/null | sed 's/^/     /'
	fi
fi
for p in "${LAB_PIDS[@]}"; do lab_stop_pid "$p" 5; done
echo
fi

# ---- 3. jvpn, two gateway nodes over etcd -------------------------------------
kill_gap=- kill_max=- part_gap=- part_max=- dual=- cl_same=- cl_hs=-
if [ "$CLUSTER" = 1 ]; then
echo "3. jvpn, two gateway nodes (gw1 on path a, gw2 on path b) over a 3-member etcd cluster"
echo "   (lab of tests/lab/clusterlib.sh, OwnerLeaseMs $CL_LEASE_MS, profile fast), $RUNS cycle(s), each"
echo "   with a fresh session (the client started again; at most 8 switches per minute per session,"
echo "   spec INV-08, would otherwise throttle later cycles) and a 20 Hz ping through the tunnel:"
echo "   kill -9 of the owner gw1 (gw2 takes over when the lease has expired); gw1 started again;"
echo "   1 s later gw2 partitioned from etcd while the client still reaches it (it fails closed at"
echo "   its lease's end, gw1 takes the session back); healed.  Outage: first lost to first"
echo "   answered ping; takeover: from the kill / partition to SessionOwnerTransferred"
# ev_after FILE TYPE T_MS: ms from T_MS to the first TYPE event at or after it
ev_after() {
	python3 - "$@" <<'PYEOF'
import json, sys
f, typ, t = sys.argv[1], sys.argv[2], float(sys.argv[3])
ts = []
for line in open(f):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event_type") == typ and e.get("ts_ms", 0) >= t:
        ts.append(e["ts_ms"])
print("%.0f" % (min(ts) - t) if ts else "-")
PYEOF
}
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "   not measured: etcd or etcdctl is missing and could not be installed"
else
	lab_stop_daemons >/dev/null
	ip netns del "$NS_C"
	ip netns del "$NS_G"
	rm -rf "$LAB_DIR/state" "$LAB_DIR"/client.jsonl
	cluster_net
	cluster_etcd
	cluster_configs
	cluster_start_gw 1
	cluster_start_gw 2
	kgaps=() pgaps=() cl_same=yes cl_n=0
	printf '   %5s  %-9s  %15s  %11s  %15s  %11s\n' cycle session \
		kill_takeover_ms kill_gap_ms part_takeover_ms part_gap_ms
	for k in $(seq 1 "$RUNS"); do
		lab_start_client
		if ! lab_wait_field client session.bound_transport a 10; then
			printf '   %5d  no session on gw1 within 10 s\n' "$k"
			cl_same=no
			lab_stop_pid "$LAB_CLIENT_PID" 5
			continue
		fi
		cl_n=$((cl_n + 1))
		sid=$(client_sid)
		ping_start $LAB_TUN_G "$LAB_DIR/cl$k-ping.txt"
		sleep 1
		tkill=$(lab_now)
		cluster_kill_gw 1
		lab_wait_field client session.bound_transport b 15
		cluster_start_gw 1
		sleep 1
		tpart=$(lab_now)
		cluster_partition 2
		lab_wait_field client session.bound_transport a 15
		cluster_heal 2
		sleep 1
		lab_stop_pid "$PING_PID" 2
		sid2=$(client_sid)
		if [ "$sid" = unknown ] || [ "$sid2" = unknown ]; then s=unknown cl_same=no
		elif [ "$sid" = "$sid2" ]; then s=same; else s=CHANGED cl_same=no; fi
		lab_stop_pid "$LAB_CLIENT_PID" 5
		LAB_CLIENT_PID=
		kg=$(outage "$LAB_DIR/cl$k-ping.txt" "$tkill")
		pg=$(outage "$LAB_DIR/cl$k-ping.txt" "$tpart")
		kgaps+=("$kg")
		pgaps+=("$pg")
		printf '   %5d  %-9s  %15s  %11s  %15s  %11s\n' "$k" "$s" \
			"$(ev_after "$LAB_DIR/gw2.jsonl" SessionOwnerTransferred "$tkill")" "$kg" \
			"$(ev_after "$LAB_DIR/gw1.jsonl" SessionOwnerTransferred "$tpart")" "$pg"
	done
	if [ ${#kgaps[@]} -gt 0 ]; then
		kill_gap=$($LABTOOL median "${kgaps[@]}")
		part_gap=$($LABTOOL median "${pgaps[@]}")
		kill_max=$(printf '%s\n' "${kgaps[@]}" | sort -n | tail -1)
		part_max=$(printf '%s\n' "${pgaps[@]}" | sort -n | tail -1)
	fi
	# one SessionCreated per cycle on the client and on the gateways together
	cl_hs=$(( $(lab_count client SessionCreated) - cl_n + $(lab_count gw1 SessionCreated) + \
		$(lab_count gw2 SessionCreated) - cl_n ))
	echo "   over the cycles: $(lab_count gw1 SessionOwnerTransferred) + $(lab_count gw2 SessionOwnerTransferred)" \
		"SessionOwnerTransferred (gw1 + gw2), $(lab_count gw2 SessionOwnerRejected)" \
		"SessionOwnerRejected on gw2; session id unchanged within every cycle: $cl_same;" \
		"handshakes beyond one per cycle: $cl_hs"
	lab_stop_pid "$CL_GW1_PID" 5
	lab_stop_pid "$CL_GW2_PID" 5
	"$JVPN" audit --json --quiet --epsilon 50 "$LAB_DIR/client.jsonl" \
		"$LAB_DIR/gw1.jsonl" "$LAB_DIR/gw2.jsonl" >"$LAB_DIR/cl-audit.json" 2>"$LAB_DIR/cl-audit.err"
	arc=$?
	dual=$(python3 - "$LAB_DIR/cl-audit.json" <<'PYEOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))["summary"]
    by = s.get("violations_by_check", {})
    a, b = by.get("INV-15", 0), by.get("INV-16", 0)
    print("%d %d %d %s %d" % (a + b, a, b, s.get("verdict", "?"), s.get("violations", 0)))
except Exception:
    print("- - - unreadable -")
PYEOF
)
	# shellcheck disable=SC2086
	set -- $dual
	dual=$1
	echo "   jvpn audit --json of client + gw1 + gw2 (merged): $4, $5 violation(s) (exit $arc);" \
		"INV-15 $2, INV-16 $3 (dual_active = their sum)"
	[ "$4" = PASS ] || python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for f in d.get("files", []):
    for v in f.get("violations", [])[:5]:
        print("     ", json.dumps(v)[:200])' "$LAB_DIR/cl-audit.json" 2>/dev/null
fi
echo
fi

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "restart_gap_ms=$restart_gap"
echo "restart_gap_max_ms=$restart_max"
echo "restart_outage_ms=$restart_outage"
echo "same_session=$(yesno $same)"
echo "handshakes_after_loss=$hs_total"
echo "tcp_survived=$(yesno $tcp_ok)"
echo "node_kill_gap_ms=$kill_gap"
echo "node_kill_gap_max_ms=$kill_max"
echo "partition_gap_ms=$part_gap"
echo "partition_gap_max_ms=$part_max"
echo "dual_active=$dual"
echo "cluster_same_session=$cl_same"
echo "cluster_handshakes_after_loss=$cl_hs"
echo "wg_restart_gap_ms=$wg_gap"
echo "wg_outage_ms=$wg_out"
echo "wg_tcp_survived=$wg_tcp"
echo "wg_new_handshake=$wg_hs"
echo "ovpn_restart_gap_ms=$ov_gap"
echo "ovpn_outage_ms=$ov_out"
echo "ovpn_tcp_survived=$ov_tcp"
echo "ovpn_new_handshake=$ov_hs"
