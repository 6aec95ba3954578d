#!/bin/bash
# SPDX-License-Identifier: MIT
# Many peers from a PeersDir (issue 12 item 2, D-032): a real `jvpn up`
# gateway with PEERSDIR_N (default 2000) generated peer files plus the
# file of client A, a real client in its namespace pinging through the
# tunnel at 20 Hz all along.
#  (s) the gateway starts with every peer; `jvpn status --json` answers
#      with all of them (size and time printed);
#  (a) a file for client B added, `jvpn reload`: 1 peer added, A's session
#      does not move, B attaches and pings through the tunnel;
#  (b) a bad file (AllowedIPs overlapping B's; then a second [Peer] in a
#      file): exit 1, one line naming the file and line and the other
#      file, nothing changed;
#  (c) B's file removed: 1 removed, B's session ends with peer_removed,
#      client B exits with code 3;
#  A's ping: at most the one in flight lost; the reload's loop-side work
#  is printed from the gateway's log (the files are read off the loop).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
N=16
[ "$(id -u)" -eq 0 ] || tap_skip_all $N "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"
NPEERS=${PEERSDIR_N:-2000}

tap_plan $N
lab_init
lab_net
lab_keys
lab_configs

GW=$LAB_DIR/gateway.conf
DIR=$LAB_DIR/peers.d
mkdir -p "$DIR"
# The gateway's [Peer] of A moves to the directory; its Address gains a
# /16 that holds every generated peer's /32 (no route per peer).
{ sed '/^\[Peer\]/,/^$/d; s|^Address = .*|Address = '"$LAB_TUN_G"'/24, 10.128.255.254/16|' "$GW" |
	sed '/^\[Policy\]/,$d'
  echo "PeersDir = peers.d"; echo; sed -n '/^\[Policy\]/,$p' "$GW"; } >"$GW.new"
# PeersDir belongs in [Interface]: put it right after the header's keys
awk '/^PeersDir/ { next } { print } /^StateDir/ { print "PeersDir = peers.d" }' "$GW.new" >"$GW"
rm -f "$GW.new"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "$LAB_CL_PUB" "$LAB_TUN_C" >"$DIR/a-client.conf"
# Generated peers: random public keys (no private key is ever needed for
# them), 10.128.0.0/16 + i.
python3 - "$DIR" "$NPEERS" <<'EOF'
import base64, os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    k = base64.b64encode(os.urandom(32)).decode()
    with open(f"{d}/gen-{i:05d}.conf", "w") as f:
        f.write(f"# generated {i}\n[Peer]\nPublicKey = {k}\n"
                f"AllowedIPs = 10.128.{i // 256 % 256}.{i % 256}/32\n")
EOF

# Client B: a third namespace with its own veth to the gateway.
NS_B=$LAB_ID-b
LAB_EXTRA_NS+=("$NS_B")
B_C=198.18.3.2
B_G=198.18.3.1
B_TUN=198.19.0.3
ip netns add "$NS_B" || lab_die "cannot create namespace $NS_B"
ip -n "$NS_B" link add pc type veth peer name pc netns "$NS_G" || lab_die "veth pc"
ip -n "$NS_B" addr add $B_C/24 dev pc
ip -n "$NS_G" addr add $B_G/24 dev pc
ip -n "$NS_B" link set lo up
ip -n "$NS_B" link set pc up
ip -n "$NS_G" link set pc up
(umask 077; "$JVPN" genkey >"$LAB_DIR/clientb.key")
B_PUB=$("$JVPN" pubkey <"$LAB_DIR/clientb.key")
(umask 077
cat >"$LAB_DIR/clientb.conf" <<EOF
[Interface]
Role = client
PrivateKeyFile = $LAB_DIR/clientb.key
Address = $B_TUN/24
Name = jvb0
NodeId = lab-client-b
EventLog = $LAB_DIR/clientb.jsonl
ControlSocket = $LAB_DIR/clientb.sock

[Peer]
PublicKey = $LAB_GW_PUB
AllowedIPs = 198.19.0.0/24

[Transport]
Name = c
Bind = $B_C:40011
Endpoint = $B_G:$LAB_PORT

[Policy]
version = 1.0
profile = fast
EOF
)

reload() {	# RELOAD_OUT, RELOAD_ERR, RELOAD_RC
	RELOAD_OUT=$("$JVPN" reload --socket "$LAB_DIR/gateway.sock" 2>"$LAB_DIR/reload.err")
	RELOAD_RC=$?
	RELOAD_ERR=$(cat "$LAB_DIR/reload.err")
}
wait_log() {	# PATTERN: until the gateway's log has it (10 s + 1 s per 200 peers)
	local i=0
	while ! grep -q "$1" "$LAB_DIR/gateway.log"; do
		[ $i -ge $((200 + NPEERS / 10)) ] && { grep "up (" "$LAB_DIR/gateway.log" >&2; return 1; }
		sleep 0.05
		i=$((i + 1))
	done
}
npeers() {
	lab_status gateway | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))'
}

# ---- (s) start -----------------------------------------------------------------
t0=$(lab_now)
lab_start_gateway
tap_check "(s) the gateway starts with $((NPEERS + 1)) peers from $DIR" \
	wait_log "$((NPEERS + 1)) peers ($((NPEERS + 1)) from $DIR)"
echo "# gateway up in $(( $(lab_now) - t0 )) ms with $((NPEERS + 1)) peers"
lab_start_client
tap_check "(s) client A (its [Peer] in a-client.conf) reaches ATTACHED" \
	lab_wait_field client session.state ATTACHED 10
sid=$(lab_field client session.session_id)
lab_ping 100000 0.05 "$LAB_DIR/ping.txt"
t0=$(lab_now)
lab_status gateway >"$LAB_DIR/status.json"
ms=$(( $(lab_now) - t0 ))
size=$(stat -c %s "$LAB_DIR/status.json")
echo "# jvpn status --json: $size bytes in $ms ms for $((NPEERS + 1)) peers"
tap_eq "(s) jvpn status --json lists every peer" "$((NPEERS + 1))" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["peers"]))' "$LAB_DIR/status.json")"

# ---- (a) add B -----------------------------------------------------------------
printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' "$B_PUB" "$B_TUN" >"$DIR/b-client.conf"
# a second ping, 100 Hz around the reload alone: what the loop's part of
# it costs the packets
ip netns exec "$NS_C" ping -n -i 0.01 -c 150 -W 1 $LAB_TUN_G >"$LAB_DIR/ping-reload.txt" 2>&1 &
RPING=$!
lab_track $RPING
sleep 0.5
reload
wait $RPING
tap_eq "(a) reload adding B's file" "0 reloaded jvg0: 1 peer added, 0 removed, 0 changed" \
	"$RELOAD_RC $RELOAD_OUT"
grep -o "reload: read in .*" "$LAB_DIR/gateway.log" | tail -1 | sed 's/^/# /'
grep -E "^rtt|received" "$LAB_DIR/ping-reload.txt" | sed 's/^/# 100 Hz ping around the reload: /'
tap_eq "(a) A's session id unchanged" "$sid" "$(lab_field client session.session_id)"
ip netns exec "$NS_B" "$JVPN" up "$LAB_DIR/clientb.conf" 2>"$LAB_DIR/clientb.log" &
B_PID=$!
lab_track $B_PID
lab_wait_socket "$LAB_DIR/clientb.sock" clientb
tap_check "(a) client B attaches" lab_wait_field clientb session.state ATTACHED 10
out=$(ip netns exec "$NS_B" ping -n -c 5 -i 0.1 -W 1 $LAB_TUN_G 2>&1)
tap_check "(a) B pings through the tunnel" grep -q " 0% packet loss" <<<"$out"

# ---- (b) bad files -------------------------------------------------------------
printf '# B twice\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' \
	"$("$JVPN" genkey | "$JVPN" pubkey)" "$B_TUN" >"$DIR/zz-bad.conf"
reload
tap_eq "(b) an overlapping file: exit 1" 1 "$RELOAD_RC"
tap_check "(b) ... one line naming both files and lines ($RELOAD_ERR)" \
	grep -qx "jvpn reload: $DIR/zz-bad.conf:4: AllowedIPs = $B_TUN/32: the same network as $B_TUN/32 of the \[Peer\] at $DIR/b-client.conf:1 (AllowedIPs at line 3): .* (nothing changed)" <<<"$RELOAD_ERR"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.129.0.1/32\n[Peer]\n' \
	"$("$JVPN" genkey | "$JVPN" pubkey)" >"$DIR/zz-bad.conf"
reload
tap_check "(b) a file with two [Peer]s: exit 1 naming it and line 4 ($RELOAD_ERR)" \
	eval '[ "$RELOAD_RC" = 1 ] && grep -q "zz-bad.conf:4: Peer: second \[Peer\] section" <<<"$RELOAD_ERR"'
tap_eq "(b) nothing changed: $((NPEERS + 2)) peers" "$((NPEERS + 2))" "$(npeers)"
rm -f "$DIR/zz-bad.conf"

# ---- (c) remove B ----------------------------------------------------------------
rm -f "$DIR/b-client.conf"
reload
tap_eq "(c) reload without B's file" "0 reloaded jvg0: 0 peers added, 1 removed, 0 changed" \
	"$RELOAD_RC $RELOAD_OUT"
brc=timeout
for _ in $(seq 1 200); do	# 10 s: B is told at once (TERMINATE)
	if ! kill -0 "$B_PID" 2>/dev/null; then
		wait "$B_PID"
		brc=$?
		break
	fi
	sleep 0.05
done
tap_eq "(c) client B exits with code 3" 3 "$brc"
tap_eq "(c) ... its session ended with peer_removed" peer_removed \
	"$($LABTOOL last-reason "$LAB_DIR/clientb.jsonl" SessionTerminated)"

kill -INT "$LAB_PING_PID"
wait "$LAB_PING_PID" 2>/dev/null
sent=$(grep -oE '^[0-9]+ packets transmitted' "$LAB_DIR/ping.txt" | cut -d' ' -f1)
got=$(grep -oE '[0-9]+ received' "$LAB_DIR/ping.txt" | cut -d' ' -f1)
grep -E "^rtt" "$LAB_DIR/ping.txt" | sed 's/^/# A ping: /'
tap_check "A's 20 Hz ping ran through all of it (${got:-?}/${sent:-?} answered, at most the one in flight lost)" \
	[ -n "$sent" ] && [ "$sent" -ge 20 ] && [ $((sent - got)) -le 1 ]
bad=$(lab_stop_daemons)
[ -z "$bad" ] && bad=$(grep -hE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$LAB_DIR/clientb.log" | head -1)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
