# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2153 # variables set here for, or by, the sourcing scripts
#
# The handshake-flood lab (issue 10 item 2, D-019), on top of lablib.sh:
# the two-path lab of client A and the gateway, plus a second client B and
# a flooder, each in its own namespace on its own veth to the gateway.
#
#   client A ($LAB_ID-c) -- paths a, b (lablib.sh) ---------------+
#   client B ($LAB_ID-b) -- pc: 198.18.3.2 <-> 198.18.3.1 --------+-- gateway ($LAB_ID-g)
#   flooder  ($LAB_ID-f) -- pf: 198.18.4.2 <-> 198.18.4.1 --------+
#
# The flooder sends INITIATIONs with a valid mac1 (labtool.py flood) from
# random addresses of 198.18.128.0/17 through a raw socket; the gateway
# routes that prefix back to the flooder's namespace, which drops what
# comes back (the cookie replies) on input.  Client B's tunnel address is
# 198.19.0.3.  Every address lives only in the lab's namespaces;
# lab_cleanup deletes them (LAB_EXTRA_NS) and stops every process started
# here (lab_track).

FL_C_B=198.18.3.2	# client B on path c
FL_C_G=198.18.3.1
FL_F_F=198.18.4.2	# the flooder's own address
FL_F_G=198.18.4.1	# the gateway's address the flood is sent to
FL_SPOOF=198.18.128.0/17
FL_TUN_B=198.19.0.3
FL_PORT_B=40003

# flood_net: lab_net, then the namespaces of client B and the flooder.
flood_net() {
	lab_net
	NS_B=$LAB_ID-b
	NS_F=$LAB_ID-f
	LAB_EXTRA_NS=("$NS_B" "$NS_F")
	for ns in "$NS_B" "$NS_F"; do
		ip netns add "$ns" || lab_die "cannot create namespace $ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_B" link add pc type veth peer name pc netns "$NS_G" || lab_die "veth pc"
	ip -n "$NS_F" link add pf type veth peer name pf netns "$NS_G" || lab_die "veth pf"
	ip -n "$NS_B" addr add $FL_C_B/24 dev pc
	ip -n "$NS_G" addr add $FL_C_G/24 dev pc
	ip -n "$NS_F" addr add $FL_F_F/24 dev pf
	ip -n "$NS_G" addr add $FL_F_G/24 dev pf
	ip -n "$NS_B" link set pc up
	ip -n "$NS_F" link set pf up
	ip -n "$NS_G" link set pc up
	ip -n "$NS_G" link set pf up
	ip -n "$NS_G" route add $FL_SPOOF via $FL_F_F dev pf || lab_die "route $FL_SPOOF"
	# client B counts the COOKIE_REPLYs (type 3) it is sent: the proof
	# that its handshake went through the defence, not around it
	ip netns exec "$NS_B" nft -f - <<EOF || lab_die "nft in $NS_B"
table ip jvflood {
	chain in {
		type filter hook input priority 0;
		udp sport $LAB_PORT @th,64,8 3 counter
	}
}
EOF
	# the answers to spoofed addresses end here, silently (no ICMP back)
	ip netns exec "$NS_F" nft -f - <<EOF || lab_die "nft in $NS_F"
table ip jvflood {
	chain pre {
		type filter hook prerouting priority -300;
		ip daddr $FL_SPOOF drop
	}
}
EOF
}

# flood_configs [POLICY_LINE...]: lab_keys and lab_configs, client B's key
# and config, and client B as a second [Peer] of the gateway.
flood_configs() {
	lab_keys
	lab_configs "$@"
	(umask 077; "$JVPN" genkey >"$LAB_DIR/clientb.key")
	FL_B_PUB=$("$JVPN" pubkey <"$LAB_DIR/clientb.key")
	local pol
	if [ $# -gt 0 ]; then
		pol=$(printf '%s\n' "$@")
	else
		pol=$(printf 'version = 1.0\nprofile = fast\n')
	fi
	(umask 077
	cat >>"$LAB_DIR/gateway.conf" <<EOF

[Peer]
PublicKey = $FL_B_PUB
AllowedIPs = $FL_TUN_B/32
EOF
	cat >"$LAB_DIR/clientb.conf" <<EOF
[Interface]
Role = client
PrivateKeyFile = $LAB_DIR/clientb.key
Address = $FL_TUN_B/24
Name = jvb0
NodeId = lab-client-b
EventLog = $LAB_DIR/clientb.jsonl
ControlSocket = $LAB_DIR/clientb.sock

[Peer]
PublicKey = $LAB_GW_PUB
AllowedIPs = 198.19.0.0/24

[Transport]
Name = c
Bind = $FL_C_B:$FL_PORT_B
Endpoint = $FL_C_G:$LAB_PORT
Priority = 0

[Policy]
$pol
EOF
	)
}

# flood_start FLOOD_RATE SECONDS OUT: the flooder in the background (its
# summary line goes to OUT); sets FL_FLOOD_PID.
flood_start() {
	ip netns exec "$NS_F" $LABTOOL flood $FL_F_G $LAB_PORT "$LAB_GW_PUB" \
		"$1" "$2" $FL_SPOOF >"$3" 2>&1 &
	FL_FLOOD_PID=$!
	lab_track "$FL_FLOOD_PID"
}

# flood_wait OUT: wait for the flooder; FL_SENT and FL_RATE from its line
# ("-" if it printed none).
flood_wait() {
	wait "$FL_FLOOD_PID" 2>/dev/null
	FL_SENT=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$1")
	FL_RATE=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$1")
	FL_SECONDS=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$1")
	[ -n "$FL_SENT" ] || { FL_SENT=-; FL_RATE=-; FL_SECONDS=-; cat "$1" >&2; }
}

# flood_attach_b TIMEOUT_S: a fresh client B (`jvpn up`, its event log
# emptied) and the time in ms from just before its start to its event
# "SessionStateChange ... ATTACHED": FL_ATTACH_MS, "-" if not within
# TIMEOUT_S.  The process keeps running (FL_B_PID) until flood_stop_b.
# Both ends are the wall clock (lab_ms; the event's ts_ms), so polling
# the log only decides when we look, not what is measured; the figure
# includes the process start (config, key, TUN), as a user sees it.
flood_attach_b() {
	local t0 end line
	rm -f "$LAB_DIR/clientb.jsonl" "$LAB_DIR/clientb.sock"
	t0=$(lab_ms)
	ip netns exec "$NS_B" "$JVPN" up "$LAB_DIR/clientb.conf" \
		2>>"$LAB_DIR/clientb.log" &
	FL_B_PID=$!
	lab_track "$FL_B_PID"
	end=$((t0 + $1 * 1000))
	FL_ATTACH_MS=-
	while [ "$(lab_ms)" -lt $end ]; do
		line=$(grep -m1 '"event_type":"SessionStateChange".*"new_state":"ATTACHED"' \
			"$LAB_DIR/clientb.jsonl" 2>/dev/null)
		if [ -n "$line" ]; then
			line=${line#*\"ts_ms\":}
			FL_ATTACH_MS=$((${line%%,*} - t0))
			break
		fi
		kill -0 "$FL_B_PID" 2>/dev/null || break
		sleep 0.02
	done
}

flood_stop_b() {
	lab_stop_pid "$FL_B_PID" 5
}

# flood_hs FIELD: one of the gateway's handshake counters (status
# "handshakes": dh, cookie_sent, dropped, dropped_source, dropped_global).
flood_hs() {
	lab_field gateway "handshakes.$1"
}

# flood_b_cookies: the COOKIE_REPLYs client B's namespace has received.
flood_b_cookies() {
	ip netns exec "$NS_B" nft list chain ip jvflood in |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# flood_rcvbuf_errors: UDP datagrams the gateway's kernel dropped for a
# full socket buffer (its namespace's /proc/net/snmp).
flood_rcvbuf_errors() {
	ip netns exec "$NS_G" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp
}
