#!/bin/bash
# SPDX-License-Identifier: MIT
# Routing like wg-quick, in the namespace lab.  A client with
# AllowedIPs = 0.0.0.0/0, ::/0 whose path a reaches the gateway only
# through the client namespace's own default route (endpoint 198.18.9.1,
# a host name from the test's own /etc/hosts): if the transports' sockets
# were not marked, path a's datagrams would follow the tunnel's default
# route into the tunnel and the session could not start on a.
#
#   - full tunnel: rules 32764/32765 for both families, table 51820 with
#     the default routes, traffic to an address only the tunnel reaches;
#   - path a silently dead: the session moves to b, the name is asked
#     again and the new address used (path a works again on it); when
#     the name no longer resolves, the last address is kept;
#   - SIGTERM: PostUp and PreDown ran with %i expanded, and
#     `ip rule` / `ip -6 rule` / `ip route show table all` are exactly as
#     before the start;
#   - a failing PostUp: exit 1 with the command's status, nothing left,
#     a rule that existed before the start (the same as one of ours)
#     left in place, PreDown not run;
#   - Table = 1234: the routes in that table, no rules, all gone after;
#   - Table = off: no route, no rule;
#   - a name that does not resolve: exit 1 naming the line;
#   - the session ended by the gateway: exit 3, all gone too.
# Names resolve from files of the test only (unshare -m bind-mounts them
# over /etc/hosts and /etc/resolv.conf, whose nameserver is 127.0.0.1 in
# the client namespace: nothing leaves the namespaces).
# resolvectl is absent here (no systemd-resolved): DNS = is tested on its
# warning path only (the start goes on, nothing changed).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
N=29
[ "$(id -u)" -eq 0 ] || tap_skip_all $N "not root (the lab needs network namespaces)"
command -v unshare >/dev/null || tap_skip_all $N "no unshare (util-linux)"
. "$HERE/lablib.sh"

tap_plan $N
lab_init
lab_net
lab_keys
lab_configs

EP_A=198.18.9.1		# gateway, path a: only via the client's default route
EP_A2=$LAB_A_G		# ... where the name points after the cut
BEHIND=198.19.5.1	# gateway side, reachable only through the tunnel

ip -n "$NS_G" addr add $EP_A/32 dev lo
ip -n "$NS_G" addr add $BEHIND/32 dev lo
ip -n "$NS_C" route add default via $LAB_A_G dev pa
ip -n "$NS_C" -6 route add default dev pb 2>/dev/null || true

# The veths' IPv6 link-local addresses (and their local routes) come a
# moment after the links: wait for them, or the "before" snapshot races.
for _ in $(seq 1 100); do
	[ "$(ip -n "$NS_C" -6 addr show scope link | grep -c 'inet6 fe80')" -ge 2 ] &&
		! ip -n "$NS_C" -6 addr show tentative | grep -q inet6 && break
	sleep 0.05
done
printf '127.0.0.1 localhost\n%s gw-a.jvlab.test\n' $EP_A >"$LAB_DIR/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$LAB_DIR/resolv.conf"

# client_conf FILE EXTRA_INTERFACE_LINES [ENDPOINT_A]
client_conf() {
	cat >"$1" <<EOF
[Interface]
Role = client
PrivateKeyFile = $LAB_DIR/client.key
Address = $LAB_TUN_C/24
Name = jvc0
NodeId = lab-client
EventLog = $LAB_DIR/client.jsonl
ControlSocket = $LAB_DIR/client.sock
$2

[Peer]
PublicKey = $LAB_GW_PUB
AllowedIPs = 0.0.0.0/0, ::/0

[Transport]
Name = a
Bind = $LAB_A_C:$LAB_PORT_A
Endpoint = ${3:-gw-a.jvlab.test:$LAB_PORT}
Priority = 0

[Transport]
Name = b
Bind = $LAB_B_C:$LAB_PORT_B
Endpoint = $LAB_B_G:$LAB_PORT
Priority = 1

[Policy]
version = 1.0
profile = fast
EOF
	chmod 600 "$1"
}

# The client namespace's routing state, for before/after diffs.
snap() {
	{
		ip -n "$NS_C" rule show
		echo ---
		ip -n "$NS_C" -6 rule show
		echo ---
		ip -n "$NS_C" route show table all
		echo ---
		ip -n "$NS_C" -6 route show table all
	} >"$1" 2>&1
}

# run_client CONF: in the client namespace, with the test's resolver files.
run_client() {
	(run_client_exec "$1")
}

run_client_exec() {
	exec ip netns exec "$NS_C" unshare -m sh -c '
		mount --bind "$1/hosts" /etc/hosts &&
		mount --bind "$1/resolv.conf" /etc/resolv.conf &&
		exec "$2" up "$3"' sh "$LAB_DIR" "$JVPN" "$1"
}

ping_behind() {
	ip netns exec "$NS_C" ping -c 3 -i 0.2 -W 2 -q $BEHIND >/dev/null 2>&1
}

start_client() {	# conf
	rm -f "$LAB_DIR/client.sock"
	# exec: $! is the daemon itself, so SIGTERM reaches it
	(exec 2>>"$LAB_DIR/client.log"; run_client_exec "$1") &
	LAB_CLIENT_PID=$!
	lab_wait_socket "$LAB_DIR/client.sock" client
}

# ---- 1. full tunnel, SIGTERM ----------------------------------------------------
client_conf "$LAB_DIR/client.conf" "DNS = $LAB_TUN_G, lab.internal
PostUp = echo up %i >$LAB_DIR/postup.txt
PreDown = echo down %i >$LAB_DIR/predown.txt"
snap "$LAB_DIR/before.txt"
lab_start_gateway
start_client "$LAB_DIR/client.conf"
tap_check "client attaches on path a (its endpoint only behind the namespace's default route)" \
	lab_wait_field client session.bound_transport a 10
rules=$(ip -n "$NS_C" rule show)
rules6=$(ip -n "$NS_C" -6 rule show)
tap_check "IPv4 rules: 32764 lookup main suppress_prefixlength 0, 32765 not fwmark 0xca6c lookup 51820" \
	eval 'grep -q "^32764:.*lookup main suppress_prefixlength 0" <<<"$rules" &&
	      grep -q "^32765:.*not from all fwmark 0xca6c lookup 51820" <<<"$rules"'
tap_check "IPv6 rules too (::/0 is routed)" \
	eval 'grep -q "^32764:.*lookup main suppress_prefixlength 0" <<<"$rules6" &&
	      grep -q "^32765:.*not from all fwmark 0xca6c lookup 51820" <<<"$rules6"'
tap_check "table 51820 holds the default routes (IPv4, IPv6) on jvc0" \
	eval 'ip -n "$NS_C" route show table 51820 | grep -q "^default dev jvc0" &&
	      ip -n "$NS_C" -6 route show table 51820 | grep -q "^default dev jvc0"'
tap_check "an address only the tunnel reaches answers ($BEHIND)" \
	ping_behind
tap_eq "PostUp ran with %i expanded" "up jvc0" "$(cat "$LAB_DIR/postup.txt" 2>/dev/null)"
tap_check "DNS without resolvectl: a warning, the start goes on" \
	grep -q "warning: DNS not applied: resolvectl is not installed" "$LAB_DIR/client.log"
tap_eq "status shows the name's address" "$EP_A:$LAB_PORT" \
	"$(lab_field client session.transports.0.endpoint)"

# Path a's old address goes dark (silently, at the gateway); the name
# now points at the gateway's other address on the same link.
ip netns exec "$NS_G" nft -f - <<EOF
table ip jvft {
	chain in {
		type filter hook input priority -10;
		ip daddr $EP_A drop
	}
}
EOF
printf '127.0.0.1 localhost\n%s gw-a.jvlab.test\n' $EP_A2 >"$LAB_DIR/hosts.new"
cat "$LAB_DIR/hosts.new" >"$LAB_DIR/hosts"	# same inode: the bind mount sees it
tap_check "path a dead: the session fails over to b (marked path traffic did not loop)" \
	lab_wait_field client session.bound_transport b 5
tap_check "the tunnel still carries traffic on b" \
	ping_behind
tap_check "the dead path's name is asked again and the new address taken" \
	lab_wait_field client session.transports.0.endpoint "$EP_A2:$LAB_PORT" 10
grep -q "transport a: gw-a.jvlab.test is now $EP_A2:$LAB_PORT" "$LAB_DIR/client.log" ||
	lab_log "no re-resolution line in the client log"
sw=1
for _ in $(seq 1 40); do
	"$JVPN" switch a --socket "$LAB_DIR/client.sock" >/dev/null 2>&1 &&
		lab_wait_field client session.bound_transport a 2 2>/dev/null && { sw=0; break; }
	sleep 0.25
done
tap_eq "path a works again at the new address (switch a)" 0 "$sw"

# Now the name goes away, and path a dies again: the last address stays.
printf '127.0.0.1 localhost\n' >"$LAB_DIR/hosts.new"
cat "$LAB_DIR/hosts.new" >"$LAB_DIR/hosts"
ip netns exec "$NS_G" nft add rule ip jvft in ip daddr $EP_A2 udp dport $LAB_PORT drop
gone=1
for _ in $(seq 1 150); do
	grep -q "transport a: gw-a.jvlab.test does not resolve now (.*): keeping $EP_A2:$LAB_PORT" \
		"$LAB_DIR/client.log" && { gone=0; break; }
	sleep 0.1
done
tap_eq "a name that no longer resolves: logged, the last address kept" 0 "$gone"
tap_eq "... and status still shows it" "$EP_A2:$LAB_PORT" \
	"$(lab_field client session.transports.0.endpoint)"
printf '127.0.0.1 localhost\n%s gw-a.jvlab.test\n' $EP_A >"$LAB_DIR/hosts.new"
cat "$LAB_DIR/hosts.new" >"$LAB_DIR/hosts"
lab_stop_pid "$LAB_CLIENT_PID" 5
wait "$LAB_CLIENT_PID" 2>/dev/null
LAB_CLIENT_PID=
snap "$LAB_DIR/after.txt"
ip netns exec "$NS_G" nft delete table ip jvft
tap_eq "PreDown ran with %i expanded" "down jvc0" "$(cat "$LAB_DIR/predown.txt" 2>/dev/null)"
if d=$(diff "$LAB_DIR/before.txt" "$LAB_DIR/after.txt"); then
	tap_ok "after SIGTERM: rules and routes exactly as before"
else
	tap_fail "after SIGTERM: rules and routes exactly as before" "$d"
fi

# ---- 2. a failing PostUp, with one of our rules there before ---------------------
ip -n "$NS_C" rule add pref 32764 table main suppress_prefixlength 0
snap "$LAB_DIR/before2.txt"
rm -f "$LAB_DIR/predown.txt"
client_conf "$LAB_DIR/fail.conf" "PostUp = true
PostUp = exit 7
PreDown = echo down >$LAB_DIR/predown.txt"
run_client "$LAB_DIR/fail.conf" 2>"$LAB_DIR/fail.log"
tap_eq "a failing PostUp: exit 1" 1 $?
tap_check "... saying which command and its exit status" \
	grep -q 'jvpn up: PostUp `exit 7`: exit status 7' "$LAB_DIR/fail.log"
snap "$LAB_DIR/after2.txt"
if d=$(diff "$LAB_DIR/before2.txt" "$LAB_DIR/after2.txt"); then
	tap_ok "... rules and routes as before, the rule that existed kept"
else
	tap_fail "... rules and routes as before, the rule that existed kept" "$d"
fi
tap_check "... no interface left, PreDown not run" \
	eval '! ip -n "$NS_C" link show jvc0 >/dev/null 2>&1 && [ ! -e "$LAB_DIR/predown.txt" ]'
ip -n "$NS_C" rule del pref 32764 table main suppress_prefixlength 0

# ---- 3. Table = 1234: routes there, no rules -------------------------------------
snap "$LAB_DIR/before3.txt"
client_conf "$LAB_DIR/table.conf" "Table = 1234"
start_client "$LAB_DIR/table.conf"
tap_check "Table = 1234: the default routes in table 1234, no rule added" \
	eval 'ip -n "$NS_C" route show table 1234 | grep -q "^default dev jvc0" &&
	      ip -n "$NS_C" -6 route show table 1234 | grep -q "^default dev jvc0" &&
	      ! ip -n "$NS_C" rule show | grep -q fwmark'
lab_stop_pid "$LAB_CLIENT_PID" 5
LAB_CLIENT_PID=
snap "$LAB_DIR/after3.txt"
if d=$(diff "$LAB_DIR/before3.txt" "$LAB_DIR/after3.txt"); then
	tap_ok "... all gone after SIGTERM"
else
	tap_fail "... all gone after SIGTERM" "$d"
fi

# ---- 3b. Table = off: no route, no rule ---------------------------------------------
# (without the namespace's own default routes, which would otherwise make
# a wrongly added default route a "left alone" one)
ip -n "$NS_C" route del default via $LAB_A_G dev pa
ip -n "$NS_C" -6 route del default dev pb 2>/dev/null
client_conf "$LAB_DIR/off.conf" "Table = off"
start_client "$LAB_DIR/off.conf"
tap_check "Table = off: no route of ours in any table, no rule" \
	eval '! ip -n "$NS_C" route show table all | grep -q "dev jvc0 proto static" &&
	      ! ip -n "$NS_C" -6 route show table all | grep -q "dev jvc0 proto static" &&
	      ! ip -n "$NS_C" rule show | grep -q fwmark &&
	      ip -n "$NS_C" link show jvc0 >/dev/null'
lab_stop_pid "$LAB_CLIENT_PID" 5
LAB_CLIENT_PID=
ip -n "$NS_C" route add default via $LAB_A_G dev pa
ip -n "$NS_C" -6 route add default dev pb 2>/dev/null

# ---- 4. a name that does not resolve ---------------------------------------------
client_conf "$LAB_DIR/noname.conf" "" "nowhere.jvlab.test:$LAB_PORT"
line=$(grep -n "^Endpoint = nowhere" "$LAB_DIR/noname.conf" | cut -d: -f1)
run_client "$LAB_DIR/noname.conf" 2>"$LAB_DIR/noname.log"
tap_eq "an unresolvable name: exit 1" 1 $?
tap_check "... naming file, line and the resolver's message" \
	grep -q "jvpn up: $LAB_DIR/noname.conf:$line: Endpoint = nowhere.jvlab.test:$LAB_PORT: cannot resolve (IPv4, as Bind): " \
	"$LAB_DIR/noname.log"
snap "$LAB_DIR/after4.txt"
tap_check "... nothing changed (no interface, same rules and routes)" \
	eval '! ip -n "$NS_C" link show jvc0 >/dev/null 2>&1 && diff -q "$LAB_DIR/before3.txt" "$LAB_DIR/after4.txt" >/dev/null'

# ---- 5. the session ends by itself (the gateway ends it): exit 3, all gone --------
client_conf "$LAB_DIR/end.conf" ""
start_client "$LAB_DIR/end.conf"
lab_wait_field client session.state ATTACHED 10 >/dev/null 2>&1
"$JVPN" terminate all --socket "$LAB_DIR/gateway.sock" >/dev/null 2>&1
wait "$LAB_CLIENT_PID"
tap_eq "the gateway ends the session: the client exits 3" 3 $?
LAB_CLIENT_PID=
snap "$LAB_DIR/after5.txt"
if d=$(diff "$LAB_DIR/before3.txt" "$LAB_DIR/after5.txt"); then
	tap_ok "... rules and routes exactly as before"
else
	tap_fail "... rules and routes exactly as before" "$d"
fi

bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
