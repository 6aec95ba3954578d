#!/bin/bash
# SPDX-License-Identifier: MIT
# Both paths cut longer than session.transport_lost_ttl_ms (2 s here):
# both sides reach TERMINATED with transport_ttl_exceeded; the client
# daemon exits with status 3 and removes its TUN device and socket; the
# gateway keeps running.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 8 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 8
lab_init
lab_net
lab_keys
lab_configs "version = 1.0" "profile = fast" "session.transport_lost_ttl_ms = 2000"
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED" lab_wait_field client session.state ATTACHED 10
lab_cut a
lab_cut b
for i in $(seq 1 160); do
	kill -0 "$LAB_CLIENT_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$LAB_CLIENT_PID"
rc=$?
LAB_CLIENT_PID=
tap_eq "client daemon exits with status 3 (session ended)" 3 "$rc"
tap_eq "client: TERMINATED with transport_ttl_exceeded" transport_ttl_exceeded \
	"$($LABTOOL last-reason "$LAB_DIR/client.jsonl" SessionTerminated)"
tap_check "client TUN removed" bash -c "! ip -n $NS_C link show jvc0 >/dev/null 2>&1"
tap_check "client control socket removed" [ ! -e "$LAB_DIR/client.sock" ]
for i in $(seq 1 60); do
	[ "$($LABTOOL last-reason "$LAB_DIR/gateway.jsonl" SessionTerminated)" != - ] && break
	sleep 0.05
done
tap_eq "gateway: TERMINATED with transport_ttl_exceeded" transport_ttl_exceeded \
	"$($LABTOOL last-reason "$LAB_DIR/gateway.jsonl" SessionTerminated)"
tap_check "gateway still running" kill -0 "$LAB_GATEWAY_PID"
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
