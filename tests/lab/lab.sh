#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `jvpn lab` (root): a real tunnel between two network namespaces joined by
# two veth paths; live traffic (ping at 20/s and one TCP stream) while path
# a is cut silently, then restored; prints the timeline from both event
# logs and the measured failover gap.  Everything is torn down at the end,
# also on Ctrl-C.
#
# usage: lab.sh --jvpn PATH [--profile fast|default] [--keep]
set -u

profile=fast
while [ $# -gt 0 ]; do
	case $1 in
	--jvpn) JVPN=$2; shift ;;
	--profile) profile=$2; shift ;;
	--keep) LAB_KEEP=1 ;;
	-h|--help)
		echo "usage: jvpn lab [--profile fast|default] [--keep]"
		exit 0 ;;
	*) echo "jvpn lab: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
case $profile in
fast|default) ;;
*) echo "jvpn lab: --profile is fast or default" >&2; exit 2 ;;
esac
export JVPN

. "$(cd "$(dirname "$0")" && pwd)/lablib.sh"

lab_init
# the default profile detects a silent death in seconds, not ms
if [ "$profile" = fast ]; then settle=3; else settle=8; fi

echo "== jvpn lab: two namespaces, two paths, one session (policy profile '$profile')"
echo "   client $NS_C --- path a 198.18.1.0/24 --- gateway $NS_G"
echo "          $NS_C --- path b 198.18.2.0/24 --- $NS_G"
echo "   tunnel 198.19.0.2 (jvc0) <-> 198.19.0.1 (jvg0)"
lab_net
lab_keys
lab_configs "version = 1.0" "profile = $profile"
lab_start_gateway
lab_start_client
lab_wait_field client session.state ATTACHED 10 ||
	{ cat "$LAB_DIR/client.log"; lab_die "no session"; }
sid=$(lab_field client session.session_id)
echo "== session $sid ATTACHED on $(lab_bound)"

t0=$(lab_now)
dur=$((2 + 2 * settle + 2))
lab_ping $((dur * 20)) 0.05 "$LAB_DIR/ping.txt"
lab_tcp $((dur - 1)) 2000000
echo "== traffic: ping 20/s and one TCP stream (2 MB/s) through the tunnel for ${dur}s"
sleep 2

before=$(lab_bound)
tcut=$(lab_now)
lab_cut "$before"
echo "== cut path $before silently (nftables drop at both ends)"
i=0
while [ "$(lab_bound)" = "$before" ] && [ $i -lt $((settle * 40)) ]; do
	sleep 0.05
	i=$((i + 1))
done
after=$(lab_bound)
echo "== the session is now on '${after:-none}'"
sleep "$settle"
trest=$(lab_now)
lab_restore "$before"
echo "== restored path $before"
sleep "$settle"
wait "$LAB_PING_PID" 2>/dev/null
lab_tcp_wait
tcp=$LAB_TCP_RESULT

echo
echo "== timeline (both event logs, seconds from the start of the traffic)"
$LABTOOL timeline "$t0" "client=$LAB_DIR/client.jsonl" \
	"gateway=$LAB_DIR/gateway.jsonl" \
	"--mark=$tcut:cut path $before" "--mark=$trest:restore path $before"

echo
echo "== result"
sid2=$(lab_field client session.session_id)
created_c=$(lab_count client SessionCreated)
created_g=$(lab_count gateway SessionCreated)
echo "   session id: $sid -> $sid2 ($( [ "$sid" = "$sid2" ] && echo same || echo CHANGED)); SessionCreated: client $created_c, gateway $created_g"
echo "   bound transport: $before -> ${after:-none}; TCP stream: $tcp"
gap=$($LABTOOL gaps "$LAB_DIR/ping.txt" 50 "$tcut" | head -1)
if [ -n "$gap" ]; then
	set -- $gap
	echo "   failover gap: $4 ms (pings $1..$(($1 + $2 - 1)) lost: $2 x 50 ms)"
	gap_ms=$4
else
	echo "   failover gap: no ping lost (< 50 ms)"
	gap_ms=0
fi
if "$JVPN" audit --help >/dev/null 2>&1; then
	if "$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/client.jsonl" "$LAB_DIR/gateway.jsonl" >"$LAB_DIR/audit.txt" 2>&1; then
		echo "   jvpn audit: PASS on both event logs"
	else
		echo "   jvpn audit: FAIL"
		sed 's/^/     /' "$LAB_DIR/audit.txt"
	fi
fi
echo "failover_gap_ms=$gap_ms"
echo "== tearing down"
ok=1
[ "$sid" = "$sid2" ] || ok=0
[ "$after" != "$before" ] && [ -n "$after" ] || ok=0
[ "$tcp" = eof ] || ok=0
[ $ok = 1 ] || exit 1
exit 0
