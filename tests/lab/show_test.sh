#!/bin/bash
# SPDX-License-Identifier: MIT
# `jvpn show` and `jvpn status` without arguments on a client and a
# gateway sharing one runtime directory: both found, each peer's key,
# endpoint (IPv6 in full while path a runs over IPv6, whose tuple name
# on the gateway is a hash; a.b.c.d:port after the failover to b),
# "latest packet ... ago", transfer in human units, --json's fields, a
# stale socket reported in one line and skipped; after the failover the
# last switch and why; junk datagrams counted in the gateway's status; and
# `jvpn events --follow` saying so (exit 1) when its daemon stops.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 25 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 25
lab_init
lab_net
lab_keys
lab_configs
# One runtime directory for both daemons, as /run/jvpn on a host that
# runs several; the lab's helpers keep their names through symlinks.
RUN=$LAB_DIR/run
mkdir -m 700 "$RUN"
sed -i "s|^ControlSocket = .*|ControlSocket = $RUN/jvg0.sock|" "$LAB_DIR/gateway.conf"
sed -i "s|^ControlSocket = .*|ControlSocket = $RUN/jvc0.sock|" "$LAB_DIR/client.conf"
ln -s "$RUN/jvg0.sock" "$LAB_DIR/gateway.sock"
ln -s "$RUN/jvc0.sock" "$LAB_DIR/client.sock"
# Path a over IPv6, with addresses too long for a tuple name (the
# gateway names such a tuple udp6:<hash>; show must print the address).
V6=fd00:1111:2222:3333:4444:5555:6666
ip -n "$NS_C" addr add $V6:2/64 dev pa nodad
ip -n "$NS_G" addr add $V6:1/64 dev pa nodad
sed -i "s|^Bind = $LAB_A_C:$LAB_PORT_A|Bind = [$V6:2]:$LAB_PORT_A|; s|^Endpoint = $LAB_A_G:$LAB_PORT|Endpoint = [$V6:1]:$LAB_PORT|" "$LAB_DIR/client.conf"
sed -i "s|^ListenPort = .*|ListenPort = $LAB_PORT\nListenAddress = 0.0.0.0, ::|" "$LAB_DIR/gateway.conf"
cut_a6() {	# path a dies silently (lab_cut is IPv4)
	for ns in "$NS_C" "$NS_G"; do
		ip netns exec "$ns" nft -f - <<EOF6 || lab_die "nft cut a (IPv6)"
table inet jvcut_a6 {
	chain in {
		type filter hook input priority -10;
		ip6 saddr $V6:0/112 drop
	}
}
EOF6
	done
}
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED on a" lab_wait_field client session.bound_transport a 10
lab_wait_field gateway peers.0.session.state ATTACHED 5 >/dev/null
ip netns exec "$NS_C" ping -n -q -c 20 -i 0.02 -s 1000 -W 1 $LAB_TUN_G >/dev/null 2>&1

show=$("$JVPN" show --dir "$RUN" 2>"$LAB_DIR/show.err")
rc=$?
printf '%s\n' "$show" >"$LAB_DIR/show.out"
gw=$(sed -n '/^interface: jvg0/,/^interface: /p' "$LAB_DIR/show.out")
cl=$(sed -n '/^interface: jvc0/,/^interface: /p' "$LAB_DIR/show.out")
tap_check "show lists both interfaces, exit 0" \
	bash -c "[ $rc -eq 0 ] && grep -qx 'interface: jvc0 (client, 1 peer)' '$LAB_DIR/show.out' && grep -qx 'interface: jvg0 (gateway, 1 peer)' '$LAB_DIR/show.out'"
tap_check "gateway: its own key and listening port" \
	bash -c "grep -qx '  public key: $LAB_GW_PUB' <<<'$gw' && grep -qx '  listening port: $LAB_PORT' <<<'$gw'"
tap_check "gateway: the peer is the client's key" grep -qx "peer: $LAB_CL_PUB" <<<"$gw"
tap_check "gateway: the client's IPv6 endpoint in full, the tuple a hash" \
	bash -c "grep -qx '  endpoint: \[$V6:2\]:$LAB_PORT_A' <<<'$gw' && grep -Eqx '  transport: udp6:[0-9a-f]{16}' <<<'$gw'"
tap_check "gateway: allowed ips, session and state" \
	bash -c "grep -qx '  allowed ips: $LAB_TUN_C/32' <<<'$gw' && grep -Eqx '  session: [0-9a-f]{32} \(ATTACHED\)' <<<'$gw'"
tap_check "gateway: latest packet in seconds (or ms) ago" \
	grep -Eqx "  latest packet: [0-9]+ (ms|seconds?) ago" <<<"$gw"
tap_check "gateway: transfer in human units" \
	grep -Eqx "  transfer: [0-9.]+ KiB received, [0-9.]+ KiB sent" <<<"$gw"
tap_check "client: the gateway's key, endpoint and transport a" \
	bash -c "grep -qx 'peer: $LAB_GW_PUB' <<<'$cl' && grep -qx '  endpoint: \[$V6:1\]:$LAB_PORT' <<<'$cl' && grep -qx '  transport: a' <<<'$cl'"
tap_check "client: its two listening ports" \
	grep -qx "  listening ports: $LAB_PORT_A, $LAB_PORT_B" <<<"$cl"

"$JVPN" show --json --dir "$RUN" >"$LAB_DIR/show.json" 2>&1
tap_check "show --json: the same fields, raw and as shown" python3 - "$LAB_DIR/show.json" "$LAB_CL_PUB" "[$V6:2]:$LAB_PORT_A" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = [i for i in d["interfaces"] if i["interface"] == "jvg0"][0]
p = g["peers"][0]
assert g["role"] == "gateway" and g["peer_count"] == 1 and g["peers_text"] == "1 peer", g
assert g["listen_ports"] == [51820] and isinstance(g["uptime_ms"], int) and g["uptime"], g
assert p["public_key"] == sys.argv[2] and p["endpoint"] == sys.argv[3], p
assert p["state"] == "ATTACHED" and len(p["session_id"]) == 32, p
assert isinstance(p["latest_packet_age_ms"], int) and p["latest_packet"].endswith(" ago"), p
assert isinstance(p["rx_bytes"], int) and p["rx_bytes"] > 20000, p
assert p["transfer"] == "%s received, %s sent" % (p["received"], p["sent"]), p
assert p["last_switch"] is None, p
PY

# A daemon that crashed leaves its socket behind: one line, skipped.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$RUN/jv9.sock"
JVPN_RUN_DIR=$RUN "$JVPN" status >"$LAB_DIR/status.out" 2>"$LAB_DIR/status.err"
rc=$?
st=$LAB_DIR/status.out
tap_check "status without arguments finds both daemons (JVPN_RUN_DIR), exit 0" \
	bash -c "[ $rc -eq 0 ] && grep -q '^interface jvc0 (client)' '$st' && grep -q '^interface jvg0 (gateway)' '$st'"
tap_check "status: human units and the full endpoint" \
	bash -c "grep -Eq '  up [0-9]+ (ms|seconds?)  ' '$st' && grep -Eq 'tx [0-9.]+ KiB  rx [0-9.]+ KiB  latest packet ' '$st' && grep -Eq '^    udp6:[0-9a-f]{16} +bound .* \[$V6:2\]:$LAB_PORT_A\$' '$st'"
tap_check "the stale socket: one line on stderr, skipped" \
	bash -c "[ \$(wc -l <'$LAB_DIR/status.err') -eq 1 ] && grep -q '^jvpn status: jv9: stale socket, skipped: ' '$LAB_DIR/status.err'"
out=$("$JVPN" show jv9 --dir "$RUN" 2>&1)
tap_check "show of the stale interface by name: exit 1" bash -c "[ $? -eq 1 ]"
"$JVPN" show jvc0 --dir "$RUN" >"$LAB_DIR/one.out" 2>&1
tap_check "show IFACE: that one only" \
	bash -c "grep -q '^interface: jvc0' '$LAB_DIR/one.out' && ! grep -q jvg0 '$LAB_DIR/one.out'"
rm -f "$RUN/jv9.sock"

# Failover: path a cut silently, the session moves to b.
cut_a6
tap_check "the session moves to b" lab_wait_field client session.bound_transport b 8
cl=$("$JVPN" show jvc0 --dir "$RUN" 2>&1)
line=$(grep "last switch:" <<<"$cl")
tap_check "client: last switch a -> b and why ($line)" \
	grep -Eq "^  last switch: [0-9]+ (ms|seconds?) ago, a -> b \((transport_dead|[a-z_]+)\)$" <<<"$line"
lab_wait_field gateway peers.0.session.bound_transport "udp:$LAB_B_C:$LAB_PORT_B" 5 >/dev/null
gw=$("$JVPN" show jvg0 --dir "$RUN" 2>&1)
line=$(grep "last switch:" <<<"$gw")
tap_check "gateway: last switch between the tuples and why ($line)" \
	grep -Eq "^  last switch: [0-9]+ (ms|seconds?) ago, udp6:[0-9a-f]{16} -> udp:$LAB_B_C:$LAB_PORT_B \([a-z_]+\)$" <<<"$line"
tap_check "gateway: the endpoint follows to path b, as a.b.c.d:port" \
	grep -qx "  endpoint: $LAB_B_C:$LAB_PORT_B" <<<"$gw"
"$JVPN" show jvc0 --json --dir "$RUN" >"$LAB_DIR/sw.json"
tap_check "show --json: last_switch with from, to, reason" python3 - "$LAB_DIR/sw.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["interfaces"][0]["peers"][0]
s = p["last_switch"]
assert s["from"] == "a" and s["to"] == "b" and s["reason"], s
assert isinstance(s["ts_ms"], int) and isinstance(s["age_ms"], int), s
assert s["text"].endswith("a -> b (%s)" % s["reason"]), s
assert p["total_switches"] >= 1, p
PY

# Junk from anywhere moves the gateway's drop counters, nothing else:
# 50 data datagrams (type 4) for a receiver index no session has.
ip netns exec "$NS_C" python3 - "$LAB_B_G" "$LAB_PORT" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(struct.pack("<BBHIQ", 4, 0, 0, 0xdead0000 + i, i) + bytes(32),
             (sys.argv[1], int(sys.argv[2])))
PY
junk_counted() {
	"$JVPN" status --socket "$LAB_DIR/gateway.sock" --json |
		python3 -c 'import json,sys; d=json.load(sys.stdin)["dropped"]; sys.exit(d["unknown_index"] < 50)' &&
	"$JVPN" status --socket "$LAB_DIR/gateway.sock" |
		grep -Eq "^datagrams dropped: unknown index [0-9]+,"
}
counted=1
for _ in $(seq 50); do	# the datagrams may still be in flight
	junk_counted && { counted=0; break; }
	sleep 0.1
done
tap_check "gateway status: 50 junk datagrams counted as unknown index" [ $counted -eq 0 ]

# events --follow while the client stops: it says so and exits 1.
"$JVPN" events jvc0 --dir "$RUN" --follow --format text >"$LAB_DIR/follow.out" 2>"$LAB_DIR/follow.err" &
follower=$!
lab_track $follower
for i in $(seq 1 100); do
	grep -q TransportSwitch "$LAB_DIR/follow.out" 2>/dev/null && break
	sleep 0.05
done
lab_stop_pid "$LAB_CLIENT_PID" 5
LAB_CLIENT_PID=
for i in $(seq 1 100); do kill -0 $follower 2>/dev/null || break; sleep 0.05; done
wait $follower
rc=$?
tap_eq "events --follow exits 1 when the daemon stops" 1 "$rc"
tap_check "... saying so on stderr" grep -qx "jvpn events: the daemon on jvc0 stopped" "$LAB_DIR/follow.err"
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
