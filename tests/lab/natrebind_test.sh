#!/bin/bash
# SPDX-License-Identifier: MIT
# NAT rebinding mid-session (PD-2): the gateway suddenly sees path a's
# datagrams from another source port.  It never moves the binding on them
# (unauthorized_transport_attempt), challenges the new address, and the
# client's answer reattaches the session there: same session, traffic on.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 8 "not root (the lab needs network namespaces)"
. "$HERE/lablib.sh"

tap_plan 8
lab_init
lab_net
lab_keys
lab_configs
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED on a" lab_wait_field client session.bound_transport a 10
sid=$(lab_field client session.session_id)
tap_eq "gateway bound to the client's port $LAB_PORT_A" "udp:$LAB_A_C:$LAB_PORT_A" \
	"$(lab_field gateway peers.0.session.bound_transport)"

lab_ping 80 0.05 "$LAB_DIR/ping.txt"
sleep 1
lab_nat_rebind 41001
tap_check "gateway rebinds to the new port after validation" \
	lab_wait_field gateway peers.0.session.bound_transport "udp:$LAB_A_C:41001" 5
wait "$LAB_PING_PID"
tap_eq "same session id" "$sid" "$(lab_field client session.session_id)"
tap_eq "client still on its own transport a (its FSM did not move)" a "$(lab_bound)"
# The order in the gateway's log: the unvalidated packet was refused
# (SecurityValidationFailed) before the validated reattach moved it.
order=$(python3 - "$LAB_DIR/gateway.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
refused = [e["seq"] for e in ev if e["event_type"] == "SecurityValidationFailed"
           and e.get("reason_code") == "unauthorized_transport_attempt"]
moved = [e["seq"] for e in ev if e["event_type"] == "TransportSwitch"
         and str(e.get("new_transport", "")).endswith(":41001")]
nat = [e for e in ev if e["event_type"] == "SessionStateChange"
       and e.get("reason_code") == "nat_rebinding"]
print("ok" if refused and moved and min(refused) < min(moved) and nat else
      "refused=%s moved=%s nat=%d" % (refused[:3], moved, len(nat)))
PY
)
tap_eq "unvalidated address refused first, then validated reattach (nat_rebinding)" ok "$order"
got=$(grep -oE '[0-9]+ received' "$LAB_DIR/ping.txt" | cut -d' ' -f1)
tap_check "traffic continues (${got:-0} of 80 pings answered, >= 72)" [ "${got:-0}" -ge 72 ]
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
